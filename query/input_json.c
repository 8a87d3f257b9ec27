/* JSON input: JSONEachRow (JSONLines, NDJSON; objects keyed by column
 * name), JSONCompactEachRow (+WithNames, +WithNamesAndTypes; positional
 * arrays), their *Strings variants (every value a JSON string holding the
 * value's text), and the whole-document JSON / JSONCompact (+Strings)
 * formats ({"meta": …, "data": [rows], …}).
 *
 * Rows may be separated by whitespace or commas and wrapped in one
 * top-level array, as ClickHouse allows; `;` ends the data. Missing keys
 * take the column default (marked omitted), unknown keys are skipped when
 * input_format_skip_unknown_fields, duplicates are errors. Values of any
 * JSON kind convert to the column type: numbers or numeric strings for
 * numbers, true/false for Bool and numbers, strings (or numbers as days /
 * seconds / ticks) for dates, raw JSON text for String from an object or
 * array, arrays for Array and unnamed Tuple, objects for Map and named
 * Tuple, null for NULL (or the default, with null_as_default).
 *
 * Each row is located first (bracket depth outside strings), so a value
 * split across feeds just makes the row wait for more bytes. */
#include "query/input_int.h"

#include <string.h>

struct json_state {
  int32_t *key_hint;     /* column of the i-th key in the last row (objects usually repeat their order) */
  uint32_t key_hints;
  bool bracketed;        /* JSONEachRow inside [ … ] */
  bool after_row;
  bool compact;          /* rows are arrays */
  bool strings;          /* values are JSON strings */
  bool document;         /* JSON / JSONCompact */
  bool no_data;          /* document without "data" */
};

static bool json_is_ws(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

static void json_ws(const char **sp, const char *e)
{
  const char *s = *sp;
  while (s < e && json_is_ws(*s))
    s++;
  *sp = s;
}

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static bool literal_at(const char *s, const char *e, const char *w)
{
  size_t n = strlen(w);
  return (size_t)(e - s) >= n && memcmp(s, w, n) == 0 &&
         (s + n == e || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || is_digit(s[n])));
}

/* First '"' or '\\' in [s, e), or e. Eight bytes at a time. */
static const char *scan_quote_backslash(const char *s, const char *e)
{
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  while (e - s >= 8) {
    uint64_t x;
    memcpy(&x, s, 8);
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t m = (((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
    if (m)
      return s + (__builtin_ctzll(m) >> 3);
    s += 8;
  }
  while (s < e && *s != '"' && *s != '\\')
    s++;
  return s;
}

/* s at '"': the closing quote, or NULL if not in [s, e). */
static const char *json_string_close(const char *s, const char *e, bool *escaped)
{
  *escaped = false;
  for (s++; s < e; s++) {
    const char *q = scan_quote_backslash(s, e);
    if (q >= e)
      return NULL;
    if (*q == '"')
      return q;
    *escaped = true;
    s = q + 1;   /* skip the escaped byte */
  }
  return NULL;
}

/* Bytes that matter when matching brackets: 1 = '"', 2 = open, 3 = close. */
static const uint8_t bracket_class[256] = {
  ['"'] = 1, ['{'] = 2, ['['] = 2, ['}'] = 3, [']'] = 3,
};

static bool scalar_end_char(char ch)
{
  return ch == ',' || ch == ']' || ch == '}' || ch == ':' || json_is_ws(ch);
}

/* End of the JSON value at s (no leading whitespace), or NULL if it does
 * not end within [s, e). Containers are matched by depth, not validated. */
static const char *json_value_end(const char *s, const char *e)
{
  if (s >= e)
    return NULL;
  bool esc;
  if (*s == '"') {
    const char *close = json_string_close(s, e, &esc);
    return close ? close + 1 : NULL;
  }
  if (*s == '{' || *s == '[') {
    long depth = 0;
    for (; s < e; s++) {
      uint8_t k = bracket_class[(unsigned char)*s];
      if (!k)
        continue;
      if (k == 1) {
        const char *close = json_string_close(s, e, &esc);
        if (!close)
          return NULL;
        s = close;
      } else if (k == 2) {
        depth++;
      } else if (--depth == 0) {
        return s + 1;
      }
    }
    return NULL;
  }
  const char *q = s;
  while (q < e && !scalar_end_char(*q))
    q++;
  return q < e ? q : NULL;
}

static void put_utf8(char **dp, uint32_t cp)
{
  char *d = *dp;
  if (cp < 0x80) {
    *d++ = (char)cp;
  } else if (cp < 0x800) {
    *d++ = (char)(0xC0 | cp >> 6);
    *d++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *d++ = (char)(0xE0 | cp >> 12);
    *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *d++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *d++ = (char)(0xF0 | cp >> 18);
    *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *d++ = (char)(0x80 | (cp & 0x3F));
  }
  *dp = d;
}

static int hex4(const char *s, const char *e, uint32_t *v)
{
  if (e - s < 4)
    return -1;
  uint32_t x = 0;
  for (int i = 0; i < 4; i++) {
    char ch = s[i];
    int h = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
            ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
    if (h < 0)
      return -1;
    x = x << 4 | (uint32_t)h;
  }
  *v = x;
  return 0;
}

/* Decodes the string body (s, close) into d (room for close - s bytes:
 * no escape grows). Returns the length or -1 on a bad \u escape. */
static ptrdiff_t json_decode(char *d, const char *s, const char *close)
{
  char *d0 = d;
  while (s < close) {
    const char *b = memchr(s, '\\', (size_t)(close - s));
    if (!b) {
      memcpy(d, s, (size_t)(close - s));
      d += close - s;
      break;
    }
    memcpy(d, s, (size_t)(b - s));
    d += b - s;
    if (b + 1 >= close)
      return -1;
    char ch = b[1];
    s = b + 2;
    switch (ch) {
    case 'b': *d++ = '\b'; break;
    case 'f': *d++ = '\f'; break;
    case 'n': *d++ = '\n'; break;
    case 'r': *d++ = '\r'; break;
    case 't': *d++ = '\t'; break;
    case 'u': {
      uint32_t cp;
      if (hex4(s, close, &cp))
        return -1;
      s += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (close - s >= 6 && s[0] == '\\' && s[1] == 'u' && hex4(s + 2, close, &lo) == 0 && lo >= 0xDC00 &&
            lo <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          s += 6;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;
      }
      put_utf8(&d, cp);
      break;
    }
    default: *d++ = ch; break;   /* \" \\ \/ and, leniently, any other byte */
    }
  }
  return d - d0;
}

static int bad_escape(struct input_parser *p)
{
  return error_set(p->err, ERR_CANNOT_PARSE_ESCAPE_SEQUENCE, "Cannot parse escape sequence in JSON string");
}

static int eof_error(struct input_parser *p)
{
  return error_set(p->err, ERR_CANNOT_READ_ALL_DATA, "Unexpected end of stream while parsing %s format",
                   p->desc->name);
}

/* Reads the JSON string at *sp: a view of its decoded text (in the buffer
 * when unescaped, else in the per-row arena). */
static int json_string(struct input_parser *p, const char **sp, const char *e, const char **out, size_t *len)
{
  const char *s = *sp;
  if (s >= e || *s != '"')
    return input_error_expected(p, "\"", s, e);
  bool esc;
  const char *close = json_string_close(s, e, &esc);
  if (!close)
    return eof_error(p);
  if (!esc) {
    *out = s + 1;
    *len = (size_t)(close - s - 1);
  } else {
    char *d = arena_alloc(&p->unit_arena, (size_t)(close - s));
    ptrdiff_t n = json_decode(d, s + 1, close);
    if (n < 0)
      return bad_escape(p);
    *out = d;
    *len = (size_t)n;
  }
  *sp = close + 1;
  return 0;
}

static int json_value(struct input_parser *p, struct column *c, const char **sp, const char *e);

static int json_expect(struct input_parser *p, const char **sp, const char *e, char ch)
{
  json_ws(sp, e);
  if (*sp < e && **sp == ch) {
    (*sp)++;
    return 0;
  }
  if (*sp >= e)
    return eof_error(p);
  char what[2] = { ch, 0 };
  return input_error_expected(p, what, *sp, e);
}

/* The value's text parsed as plain text (quoted numbers, dates, …). */
static int json_string_as_text(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  const char *t;
  size_t n;
  int rc = json_string(p, sp, e, &t, &n);
  if (rc)
    return rc;
  return input_text_whole(p, c, t, t + n, "\"");
}

static int json_array(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  int rc;
  if ((rc = json_expect(p, sp, e, '[')))
    return rc;
  json_ws(sp, e);
  if (*sp < e && **sp == ']') {
    (*sp)++;
  } else {
    for (;;) {
      if ((rc = json_value(p, c->children[0], sp, e)))
        return rc;
      json_ws(sp, e);
      if (*sp < e && **sp == ',') {
        (*sp)++;
        continue;
      }
      if ((rc = json_expect(p, sp, e, ']')))
        return rc;
      break;
    }
  }
  column_close_array_row(c);
  return 0;
}

static int json_map(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  int rc;
  if ((rc = json_expect(p, sp, e, '{')))
    return rc;
  json_ws(sp, e);
  if (*sp < e && **sp == '}') {
    (*sp)++;
  } else {
    for (;;) {
      json_ws(sp, e);
      const char *k;
      size_t kn;
      if ((rc = json_string(p, sp, e, &k, &kn)))
        return rc;
      if ((rc = input_text_whole(p, c->children[0], k, k + kn, "\"")) || (rc = json_expect(p, sp, e, ':')) ||
          (rc = json_value(p, c->children[1], sp, e)))
        return rc;
      json_ws(sp, e);
      if (*sp < e && **sp == ',') {
        (*sp)++;
        continue;
      }
      if ((rc = json_expect(p, sp, e, '}')))
        return rc;
      break;
    }
  }
  column_close_array_row(c);
  return 0;
}

static int json_tuple(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  int rc;
  const struct datatype *t = c->type;
  json_ws(sp, e);
  if (*sp < e && **sp == '{' && t->names) {
    /* Named tuple as an object: elements by name, missing ones default. */
    (*sp)++;
    uint32_t n = c->child_count;
    bool *seen = arena_calloc(&p->unit_arena, n ? n : 1, sizeof *seen);
    json_ws(sp, e);
    if (*sp < e && **sp == '}') {
      (*sp)++;
    } else {
      for (;;) {
        json_ws(sp, e);
        const char *k;
        size_t kn;
        if ((rc = json_string(p, sp, e, &k, &kn)) || (rc = json_expect(p, sp, e, ':')))
          return rc;
        uint32_t i = 0;
        while (i < n && !(t->names[i] && strlen(t->names[i]) == kn && memcmp(t->names[i], k, kn) == 0))
          i++;
        if (i == n) {
          if (!p->opts.skip_unknown_fields)
            return error_set(p->err, ERR_INCORRECT_DATA, "Unknown field found while parsing JSON object: %.*s",
                             (int)(kn > 100 ? 100 : kn), k);
          json_ws(sp, e);
          const char *end = json_value_end(*sp, e);
          if (!end)
            return eof_error(p);
          *sp = end;
        } else {
          if (seen[i])
            return error_set(p->err, ERR_INCORRECT_DATA, "Duplicate field found while parsing JSON object: %.*s",
                             (int)(kn > 100 ? 100 : kn), k);
          seen[i] = true;
          if ((rc = json_value(p, c->children[i], sp, e)))
            return rc;
        }
        json_ws(sp, e);
        if (*sp < e && **sp == ',') {
          (*sp)++;
          continue;
        }
        if ((rc = json_expect(p, sp, e, '}')))
          return rc;
        break;
      }
    }
    for (uint32_t i = 0; i < n; i++)
      if (!seen[i])
        column_append_default(c->children[i]);
    column_close_tuple_row(c);
    return 0;
  }
  if ((rc = json_expect(p, sp, e, '[')))
    return rc;
  for (uint32_t i = 0; i < c->child_count; i++) {
    if (i && (rc = json_expect(p, sp, e, ',')))
      return rc;
    if ((rc = json_value(p, c->children[i], sp, e)))
      return rc;
  }
  if ((rc = json_expect(p, sp, e, ']')))
    return rc;
  column_close_tuple_row(c);
  return 0;
}

static int json_value(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  int rc;
  json_ws(sp, e);
  const char *s = *sp;
  if (s >= e)
    return eof_error(p);
  const struct datatype *t = c->type;
  if (*s == 'n' && literal_at(s, e, "null")) {
    if ((rc = input_append_null(p, c)))
      return rc;
    *sp = s + 4;
    return 0;
  }
  switch (t->id) {
  case TYPE_NULLABLE:
    if ((rc = json_value(p, c->children[0], sp, e)))
      return rc;
    column_mark_not_null(c);
    return 0;
  case TYPE_LOW_CARDINALITY: {
    struct column *sc = input_scratch(p, t->children[0]);
    if ((rc = json_value(p, sc, sp, e)))
      return rc;
    input_lc_commit(p, c, sc);
    return 0;
  }
  case TYPE_ARRAY:
    return json_array(p, c, sp, e);
  case TYPE_MAP:
    return json_map(p, c, sp, e);
  case TYPE_TUPLE:
  case TYPE_NESTED:
    return json_tuple(p, c, sp, e);
  case TYPE_STRING: {
    if (*s == '"') {
      bool esc;
      const char *close = json_string_close(s, e, &esc);
      if (!close)
        return eof_error(p);
      if (!esc) {
        input_append_string(c, s + 1, (size_t)(close - s - 1));
      } else {
        char *d = input_chars_reserve(c, (size_t)(close - s));
        ptrdiff_t n = json_decode(d, s + 1, close);
        if (n < 0)
          return bad_escape(p);
        input_string_commit(c, (size_t)n);
      }
      *sp = close + 1;
      return 0;
    }
    /* Numbers, bools, objects and arrays read as their JSON text. */
    const char *end = json_value_end(s, e);
    if (!end)
      end = e;
    if (end == s)
      return input_error_expected(p, "\"", s, e);
    input_append_string(c, s, (size_t)(end - s));
    *sp = end;
    return 0;
  }
  case TYPE_FIXED_STRING:
  case TYPE_UUID:
    return json_string_as_text(p, c, sp, e);
  case TYPE_BOOL:
    if (*s == '"')
      return json_string_as_text(p, c, sp, e);
    if (literal_at(s, e, "true") || literal_at(s, e, "false")) {
      uint8_t v = *s == 't';
      memcpy(input_push_fixed(c, 1), &v, 1);
      *sp = s + (v ? 4 : 5);
      return 0;
    }
    if (is_digit(*s) || *s == '-') {
      const char *q = s;
      while (q < e && !scalar_end_char(*q))
        q++;
      uint8_t v = 0;
      for (const char *r = s; r < q; r++)
        if (*r >= '1' && *r <= '9')
          v = 1;
      memcpy(input_push_fixed(c, 1), &v, 1);
      *sp = q;
      return 0;
    }
    return input_error_expected(p, "true", s, e);
  case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64: case TYPE_INTERVAL:
    if (*s == '"')
      return json_string_as_text(p, c, sp, e);
    if (literal_at(s, e, "true") || literal_at(s, e, "false")) {
      const char *one = *s == 't' ? "1" : "0";
      const char *q = one;
      if ((rc = input_parse_integer(p, c, &q, one + 1)))
        return rc;
      *sp = s + (*s == 't' ? 4 : 5);
      return 0;
    }
    return input_parse_integer(p, c, sp, e);
  case TYPE_FLOAT32:
  case TYPE_FLOAT64:
    if (*s == '"')
      return json_string_as_text(p, c, sp, e);
    return input_parse_float(p, c, sp, e);
  case TYPE_DATE: case TYPE_DATETIME: case TYPE_DATETIME64:
    if (*s == '"')
      return json_string_as_text(p, c, sp, e);
    if (is_digit(*s) || *s == '-') {
      const char *q = s;
      while (q < e && !scalar_end_char(*q))
        q++;
      if ((rc = input_datetime_from_number(p, c, s, q)))
        return rc;
      *sp = q;
      return 0;
    }
    return input_error_expected(p, "\"", s, e);
  case TYPE_ENUM8:
  case TYPE_ENUM16:
    if (*s == '"')
      return json_string_as_text(p, c, sp, e);
    if (is_digit(*s) || *s == '-') {
      const char *q = s;
      while (q < e && !scalar_end_char(*q))
        q++;
      if ((rc = input_text_whole(p, c, s, q, ",")))
        return rc;
      *sp = q;
      return 0;
    }
    return input_error_expected(p, "\"", s, e);
  case TYPE_NOTHING:
  default:
    return input_error_expected(p, "null", s, e);
  }
}

/* A value of a *Strings format: a JSON string holding the value's text. */
static int json_field(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  struct json_state *st = p->state;
  if (!st->strings)
    return json_value(p, c, sp, e);
  json_ws(sp, e);
  const char *s = *sp;
  if (s < e && *s == 'n' && literal_at(s, e, "null")) {
    *sp = s + 4;
    return input_append_null(p, c);
  }
  if (s >= e || *s != '"')
    return json_value(p, c, sp, e);
  if (datatype_unwrap(c->type)->id == TYPE_STRING)
    return json_value(p, c, sp, e);
  return json_string_as_text(p, c, sp, e);
}

static int key_context(struct input_parser *p, int rc, int32_t col)
{
  if (rc > 0 && col >= 0 && !p->diag.context)
    p->diag.context = arena_printf(&p->unit_arena, "(while reading the value of key %s)", p->names[col]);
  return rc;
}

/* {"key": value, …} */
static int json_object_row(struct input_parser *p, const char **sp, const char *e)
{
  int rc;
  const char *s = *sp;
  if (s >= e || *s != '{')
    return input_error_expected(p, "{", s, e);
  s++;
  memset(p->seen, 0, p->column_count * sizeof *p->seen);
  uint32_t ki = 0;
  json_ws(&s, e);
  if (s < e && *s == '}') {
    s++;
  } else {
    for (;;) {
      json_ws(&s, e);
      if (s >= e)
        return eof_error(p);
      const char *k;
      size_t kn;
      if ((rc = json_string(p, &s, e, &k, &kn)) || (rc = json_expect(p, &s, e, ':')))
        return rc;
      struct json_state *st = p->state;
      int32_t col = -1;
      if (ki < st->key_hints) {
        int32_t h = st->key_hint[ki];
        if (h >= 0 && p->name_lens[h] == kn && memcmp(p->names[h], k, kn) == 0)
          col = h;
      }
      if (col < 0) {
        col = input_column_index(p, k, kn);
        if (ki < st->key_hints)
          st->key_hint[ki] = col;
      }
      ki++;
      if (col < 0) {
        if (!p->opts.skip_unknown_fields)
          return error_set(p->err, ERR_INCORRECT_DATA, "Unknown field found while parsing %s format: %.*s",
                           p->desc->name, (int)(kn > 200 ? 200 : kn), k);
        json_ws(&s, e);
        const char *end = json_value_end(s, e);
        if (!end)
          return eof_error(p);
        s = end;
      } else {
        if (p->seen[col])
          return error_set(p->err, ERR_INCORRECT_DATA, "Duplicate field found while parsing %s format: %s",
                           p->desc->name, p->names[col]);
        p->seen[col] = true;
        if ((rc = json_field(p, p->cols[col], &s, e)))
          return key_context(p, rc, col);
      }
      json_ws(&s, e);
      if (s < e && *s == '}') {
        s++;
        break;
      }
      if ((rc = json_expect(p, &s, e, ',')))   /* ClickHouse: "expected ','" */
        return rc;
    }
  }
  input_fill_unseen(p);
  *sp = s;
  return 0;
}

/* [value, …] by the field mapping. */
static int json_array_row(struct input_parser *p, const char **sp, const char *e)
{
  int rc;
  const char *s = *sp;
  if (s >= e || *s != '[')
    return input_error_expected(p, "[", s, e);
  s++;
  for (uint32_t f = 0; f < p->field_count; f++) {
    if (f && (rc = json_expect(p, &s, e, ',')))
      return rc;
    int32_t col = p->field_column[f];
    if (col < 0) {
      json_ws(&s, e);
      const char *end = json_value_end(s, e);
      if (!end)
        return eof_error(p);
      s = end;
    } else if ((rc = json_field(p, p->cols[col], &s, e))) {
      if (rc > 0 && !p->diag.context)
        p->diag.context = arena_printf(&p->unit_arena, "(while reading the value of column %s)", p->names[col]);
      return rc;
    }
  }
  if ((rc = json_expect(p, &s, e, ']')))
    return rc;
  if (p->unmapped)
    input_fill_unseen(p);
  *sp = s;
  return 0;
}

/* A row at s (after separators): locate it, then parse it. */
static int json_one_row(struct input_parser *p, struct input_cursor *c, const char *s)
{
  struct json_state *st = p->state;
  const char *end = json_value_end(s, c->end);
  if (!end && !c->eof)
    return INPUT_NEED_MORE;
  const char *lim = end ? end : c->end;
  int rc = st->compact ? json_array_row(p, &s, lim) : json_object_row(p, &s, lim);
  if (rc)
    return rc;
  st->after_row = true;
  c->p = s;
  return 0;
}

/* An array of strings (a names or types header row). */
static int json_header_array(struct input_parser *p, const char **sp, const char *e, const char ***out,
                             size_t **lens, uint32_t *count)
{
  int rc;
  uint32_t cap = 16, n = 0;
  const char **v = arena_new_array(p->arena, const char *, cap);
  size_t *l = arena_new_array(p->arena, size_t, cap);
  if ((rc = json_expect(p, sp, e, '[')))
    return rc;
  json_ws(sp, e);
  if (*sp < e && **sp == ']') {
    (*sp)++;
  } else {
    for (;;) {
      json_ws(sp, e);
      const char *t;
      size_t tn;
      if ((rc = json_string(p, sp, e, &t, &tn)))
        return rc;
      if (n == cap) {
        v = arena_realloc(p->arena, v, cap * sizeof *v, 2 * cap * sizeof *v);
        l = arena_realloc(p->arena, l, cap * sizeof *l, 2 * cap * sizeof *l);
        cap *= 2;
      }
      v[n] = arena_strndup(p->arena, t, tn);
      l[n] = tn;
      n++;
      json_ws(sp, e);
      if (*sp < e && **sp == ',') {
        (*sp)++;
        continue;
      }
      if ((rc = json_expect(p, sp, e, ']')))
        return rc;
      break;
    }
  }
  *out = v;
  *lens = l;
  *count = n;
  return 0;
}

static const char bom[3] = { '\xEF', '\xBB', '\xBF' };

static int json_start(struct input_parser *p, struct input_cursor *c, const char **sp)
{
  const char *s = c->p;
  size_t n = (size_t)(c->end - s);
  if (memcmp(s, bom, n < 3 ? n : 3) == 0) {
    if (n < 3 && !c->eof)
      return INPUT_NEED_MORE;
    if (n >= 3)
      s += 3;
  }
  json_ws(&s, c->end);
  if (s >= c->end && !c->eof)
    return INPUT_NEED_MORE;
  *sp = s;
  return 0;
}

static struct json_state *json_state_for(struct input_parser *p)
{
  struct json_state *st = p->state;
  if (st)
    return st;
  st = p->state = arena_new(p->arena, struct json_state);
  enum input_kind k = p->desc->kind;
  st->compact = k == IK_JSON_COMPACT_EACH_ROW || k == IK_JSON_COMPACT;
  st->strings = (p->desc->flags & IF_STRINGS) != 0;
  st->document = k == IK_JSON || k == IK_JSON_COMPACT;
  st->key_hints = p->column_count + 8;
  st->key_hint = arena_alloc(p->arena, st->key_hints * sizeof *st->key_hint);
  for (uint32_t i = 0; i < st->key_hints; i++)
    st->key_hint[i] = -1;
  return st;
}

static int each_row_prefix(struct input_parser *p, struct input_cursor *c)
{
  struct json_state *st = json_state_for(p);
  const char *s;
  int rc;
  if ((rc = json_start(p, c, &s)))
    return rc;
  if (!st->compact) {
    if (s < c->end && *s == '[') {
      st->bracketed = true;
      s++;
    }
    c->p = s;
    return 0;
  }
  if (p->desc->flags & IF_NAMES) {
    const char *end = json_value_end(s, c->end);
    const char *tend = NULL;
    if (!end && !c->eof)
      return INPUT_NEED_MORE;
    if (end && (p->desc->flags & IF_TYPES)) {
      const char *t = end;
      json_ws(&t, c->end);
      tend = json_value_end(t, c->end);
      if (!tend && !c->eof)
        return INPUT_NEED_MORE;
    }
    const char **names, **types;
    size_t *lens, *tlens;
    uint32_t n, tn;
    const char *lim = end ? end : c->end;
    if ((rc = json_header_array(p, &s, lim, &names, &lens, &n)) || (rc = input_map_header(p, n, names, lens)))
      return rc;
    if (p->desc->flags & IF_TYPES) {
      json_ws(&s, c->end);
      if ((rc = json_header_array(p, &s, tend ? tend : c->end, &types, &tlens, &tn)) ||
          (rc = input_check_header_types(p, tn, types, tlens)))
        return rc;
    }
  }
  c->p = s;
  return 0;
}

static int each_row_row(struct input_parser *p, struct input_cursor *c)
{
  struct json_state *st = json_state_for(p);
  const char *s = c->p, *e = c->end;
  json_ws(&s, e);
  if (st->after_row && s < e && *s == ',') {
    s++;
    json_ws(&s, e);
  }
  if (s >= e) {
    if (!c->eof)
      return INPUT_NEED_MORE;
    if (st->bracketed)
      return input_error_expected(p, "]", s, e);
    c->p = s;
    return INPUT_END;
  }
  if ((st->bracketed && *s == ']') || (!st->bracketed && *s == ';')) {
    c->p = s + 1;
    return INPUT_END;
  }
  return json_one_row(p, c, s);
}

static int json_skip_row(struct input_parser *p, struct input_cursor *c)
{
  const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
  if (!nl) {
    if (!c->eof)
      return INPUT_NEED_MORE;
    c->p = c->end;
    return 0;
  }
  c->p = nl + 1;
  return 0;
}

const struct input_family input_family_json_each_row = { each_row_prefix, each_row_row, json_skip_row };
const struct input_family input_family_json_compact_each_row = { each_row_prefix, each_row_row, json_skip_row };

/* ---- JSON / JSONCompact documents ---- */

/* Reads "meta": [{"name": …, "type": …}, …] into names and types. */
static int document_meta(struct input_parser *p, const char **sp, const char *e)
{
  struct json_state *st = p->state;
  int rc;
  uint32_t cap = 16, n = 0;
  const char **names = arena_new_array(p->arena, const char *, cap);
  const char **types = arena_new_array(p->arena, const char *, cap);
  size_t *nl = arena_new_array(p->arena, size_t, cap), *tl = arena_new_array(p->arena, size_t, cap);
  if ((rc = json_expect(p, sp, e, '[')))
    return rc;
  json_ws(sp, e);
  if (*sp < e && **sp == ']') {
    (*sp)++;
  } else {
    for (;;) {
      if ((rc = json_expect(p, sp, e, '{')))
        return rc;
      const char *name = NULL, *type = NULL;
      size_t name_len = 0, type_len = 0;
      json_ws(sp, e);
      if (*sp < e && **sp == '}') {
        (*sp)++;
      } else {
        for (;;) {
          json_ws(sp, e);
          const char *k, *v;
          size_t kn, vn;
          if ((rc = json_string(p, sp, e, &k, &kn)) || (rc = json_expect(p, sp, e, ':')))
            return rc;
          json_ws(sp, e);
          if (*sp < e && **sp == '"') {
            if ((rc = json_string(p, sp, e, &v, &vn)))
              return rc;
            if (kn == 4 && memcmp(k, "name", 4) == 0) {
              name = arena_strndup(p->arena, v, vn);
              name_len = vn;
            } else if (kn == 4 && memcmp(k, "type", 4) == 0) {
              type = arena_strndup(p->arena, v, vn);
              type_len = vn;
            }
          } else {
            const char *end = json_value_end(*sp, e);
            if (!end)
              return eof_error(p);
            *sp = end;
          }
          json_ws(sp, e);
          if (*sp < e && **sp == ',') {
            (*sp)++;
            continue;
          }
          if ((rc = json_expect(p, sp, e, '}')))
            return rc;
          break;
        }
      }
      if (!name)
        return error_set(p->err, ERR_INCORRECT_DATA, "A column of \"meta\" has no \"name\"");
      if (n == cap) {
        names = arena_realloc(p->arena, names, cap * sizeof *names, 2 * cap * sizeof *names);
        types = arena_realloc(p->arena, types, cap * sizeof *types, 2 * cap * sizeof *types);
        nl = arena_realloc(p->arena, nl, cap * sizeof *nl, 2 * cap * sizeof *nl);
        tl = arena_realloc(p->arena, tl, cap * sizeof *tl, 2 * cap * sizeof *tl);
        cap *= 2;
      }
      names[n] = name;
      nl[n] = name_len;
      types[n] = type ? type : "";
      tl[n] = type ? type_len : 0;
      n++;
      json_ws(sp, e);
      if (*sp < e && **sp == ',') {
        (*sp)++;
        continue;
      }
      if ((rc = json_expect(p, sp, e, ']')))
        return rc;
      break;
    }
  }
  /* Compact rows are positional: map them by the meta names. Object rows
   * are keyed already; the types are checked either way. */
  bool all_typed = true;
  for (uint32_t i = 0; i < n; i++)
    all_typed = all_typed && tl[i] > 0;
  if (st->compact) {
    if ((rc = input_map_header(p, n, names, nl)))
      return rc;
    if (all_typed && (rc = input_check_header_types(p, n, types, tl)))
      return rc;
  } else if (all_typed && p->opts.with_types_use_header) {
    for (uint32_t i = 0; i < n; i++) {
      int32_t col = input_column_index(p, names[i], nl[i]);
      if (col < 0)
        continue;
      const struct datatype *t = NULL;
      struct error terr;
      if (datatype_parse(p->arena, types[i], tl[i], &t, &terr) != 0 || !datatype_equal(t, p->types[col]))
        return error_set(p->err, ERR_INCORRECT_DATA, "Type of '%s' must be %s, not %.*s", p->names[col],
                         datatype_name(p->arena, p->types[col]), (int)tl[i], types[i]);
    }
  }
  return 0;
}

/* {"meta": …, …, "data": [ — stops inside the data array. */
static int document_prefix(struct input_parser *p, struct input_cursor *c)
{
  struct json_state *st = json_state_for(p);
  const char *s;
  int rc;
  if ((rc = json_start(p, c, &s)))
    return rc;
  const char *e = c->end;
  if (s >= e)
    return input_error_expected(p, "{", s, e);
  if (*s != '{')
    return input_error_expected(p, "{", s, e);
  s++;
  for (bool first = true;; first = false) {
    json_ws(&s, e);
    if (s >= e)
      return c->eof ? eof_error(p) : INPUT_NEED_MORE;
    if (*s == '}') {
      st->no_data = true;
      c->p = s + 1;
      return 0;
    }
    if (!first) {
      if (*s != ',')
        return input_error_expected(p, ",", s, e);
      s++;
      json_ws(&s, e);
    }
    const char *kend = json_value_end(s, e);
    if (!kend)
      return c->eof ? eof_error(p) : INPUT_NEED_MORE;
    const char *k;
    size_t kn;
    if ((rc = json_string(p, &s, kend, &k, &kn)))
      return rc;
    json_ws(&s, e);
    if (s >= e)
      return c->eof ? eof_error(p) : INPUT_NEED_MORE;
    if (*s != ':')
      return input_error_expected(p, ":", s, e);
    s++;
    json_ws(&s, e);
    if (kn == 4 && memcmp(k, "data", 4) == 0) {
      if (s >= e)
        return c->eof ? eof_error(p) : INPUT_NEED_MORE;
      if (*s != '[')
        return input_error_expected(p, "[", s, e);
      c->p = s + 1;
      return 0;
    }
    const char *vend = json_value_end(s, e);
    if (!vend)
      return c->eof ? eof_error(p) : INPUT_NEED_MORE;
    if (kn == 4 && memcmp(k, "meta", 4) == 0) {
      const char *m = s;
      if ((rc = document_meta(p, &m, vend)))
        return rc;
    }
    s = vend;
  }
}

/* After the data array: the remaining keys, then '}'. */
static int document_suffix(struct input_parser *p, struct input_cursor *c, const char *s)
{
  const char *e = c->end;
  int rc;
  for (;;) {
    json_ws(&s, e);
    if (s >= e)
      return c->eof ? eof_error(p) : INPUT_NEED_MORE;
    if (*s == '}') {
      c->p = s + 1;
      return INPUT_END;
    }
    if (*s != ',')
      return input_error_expected(p, ",", s, e);
    s++;
    json_ws(&s, e);
    const char *kend = json_value_end(s, e);
    if (!kend)
      return c->eof ? eof_error(p) : INPUT_NEED_MORE;
    const char *k;
    size_t kn;
    if ((rc = json_string(p, &s, kend, &k, &kn)))
      return rc;
    json_ws(&s, e);
    if (s >= e)
      return c->eof ? eof_error(p) : INPUT_NEED_MORE;
    if (*s != ':')
      return input_error_expected(p, ":", s, e);
    s++;
    json_ws(&s, e);
    const char *vend = json_value_end(s, e);
    if (!vend) {
      if (!c->eof)
        return INPUT_NEED_MORE;
      vend = e;   /* a trailing scalar at the very end */
      if (s >= e)
        return eof_error(p);
    }
    s = vend;
  }
}

static int document_row(struct input_parser *p, struct input_cursor *c)
{
  struct json_state *st = json_state_for(p);
  if (st->no_data)
    return INPUT_END;
  const char *s = c->p, *e = c->end;
  json_ws(&s, e);
  if (s >= e)
    return c->eof ? eof_error(p) : INPUT_NEED_MORE;
  if (*s == ']')
    return document_suffix(p, c, s + 1);
  if (st->after_row) {
    if (*s != ',')
      return input_error_expected(p, ",", s, e);
    s++;
    json_ws(&s, e);
    if (s >= e)
      return c->eof ? eof_error(p) : INPUT_NEED_MORE;
  }
  return json_one_row(p, c, s);
}

const struct input_family input_family_json = { document_prefix, document_row, NULL };
