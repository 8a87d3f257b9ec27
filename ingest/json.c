/* A strict RFC 8259 JSON reader producing an arena tree, for OTLP/JSON.
 *
 * Invariants:
 *  1. The input is UTF-8 (validated inside strings; everything outside
 *     strings must be ASCII grammar anyway). Control bytes in strings are
 *     rejected; escapes are the RFC's nine.
 *  2. Nesting never exceeds depth_max, so recursion is bounded.
 *  3. Children are collected on one heap stack (values and members) and
 *     copied into the arena when their container closes: one arena
 *     allocation per container, none per scalar. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "ingest/ingest_int.h"

struct parser {
  struct arena *a;
  const char *p, *end, *start;
  uint32_t depth_max;
  struct json_value *vals;          /* pending array elements */
  size_t vals_top, vals_cap;
  struct json_member *mems;         /* pending object members */
  size_t mems_top, mems_cap;
  struct error *err;
};

static int fail(struct parser *ps, const char *what)
{
  size_t off = (size_t)(ps->p - ps->start);
  if (ps->p >= ps->end)
    return error_set(ps->err, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "JSON: %s at end of input (offset %zu)", what,
                     off);
  unsigned char c = (unsigned char)*ps->p;
  if (c >= 0x20 && c < 0x7f)
    return error_set(ps->err, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "JSON: %s at offset %zu ('%c')", what, off,
                     c);
  return error_set(ps->err, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "JSON: %s at offset %zu (byte 0x%02x)", what,
                   off, c);
}

static void skip_ws(struct parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int hex4(const char *p)
{
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0)
      return -1;
    v = v << 4 | d;
  }
  return v;
}

static size_t put_utf8(char *d, uint32_t cp)
{
  if (cp < 0x80) {
    d[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    d[0] = (char)(0xC0 | cp >> 6);
    d[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    d[0] = (char)(0xE0 | cp >> 12);
    d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  d[0] = (char)(0xF0 | cp >> 18);
  d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  d[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* At the opening quote. The fast path returns a slice of the input; a
 * string with escapes is decoded into the arena (never longer than its
 * source: every escape shrinks or keeps its length). */
static int parse_string(struct parser *ps, struct slice *out)
{
  const char *s = ++ps->p;
  const char *p = s;
  bool escaped = false;
  while (p < ps->end) {
    unsigned char c = (unsigned char)*p;
    if (c == '"')
      break;
    if (c == '\\') {
      escaped = true;
      p += p + 1 < ps->end ? 2 : 1;
      continue;
    }
    if (c < 0x20) {
      ps->p = p;
      return fail(ps, "control character in string");
    }
    if (c < 0x80) {
      p++;
      continue;
    }
    size_t n = text_utf8_len((const uint8_t *)p, (size_t)(ps->end - p));
    if (!n) {
      ps->p = p;
      return fail(ps, "invalid UTF-8 in string");
    }
    p += n;
  }
  if (p >= ps->end) {
    ps->p = ps->end;
    return fail(ps, "unterminated string");
  }
  if (!escaped) {
    *out = slice_make(s, (size_t)(p - s));
    ps->p = p + 1;
    return 0;
  }
  char *d = arena_alloc(ps->a, (size_t)(p - s) + 1);
  size_t o = 0;
  const char *q = s;
  while (q < p) {
    if (*q != '\\') {
      d[o++] = *q++;
      continue;
    }
    ps->p = q;
    char e = q[1];
    q += 2;
    switch (e) {
    case '"': d[o++] = '"'; break;
    case '\\': d[o++] = '\\'; break;
    case '/': d[o++] = '/'; break;
    case 'b': d[o++] = '\b'; break;
    case 'f': d[o++] = '\f'; break;
    case 'n': d[o++] = '\n'; break;
    case 'r': d[o++] = '\r'; break;
    case 't': d[o++] = '\t'; break;
    case 'u': {
      int u = p - q >= 4 ? hex4(q) : -1;
      if (u < 0)
        return fail(ps, "bad \\u escape");
      q += 4;
      uint32_t cp = (uint32_t)u;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        int lo = p - q >= 6 && q[0] == '\\' && q[1] == 'u' ? hex4(q + 2) : -1;
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
          q += 6;
        } else {
          cp = 0xFFFD;                          /* lone high surrogate */
        }
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;                            /* lone low surrogate */
      }
      o += put_utf8(d + o, cp);
      break;
    }
    default:
      return fail(ps, "bad escape");
    }
  }
  *out = slice_make(d, o);
  ps->p = p + 1;
  return 0;
}

static int parse_number(struct parser *ps, struct slice *out)
{
  const char *s = ps->p, *p = s, *e = ps->end;
  if (p < e && *p == '-')
    p++;
  if (p < e && *p == '0') {
    p++;
  } else if (p < e && *p >= '1' && *p <= '9') {
    while (p < e && *p >= '0' && *p <= '9')
      p++;
  } else {
    ps->p = p;
    return fail(ps, "bad number");
  }
  if (p < e && *p == '.') {
    p++;
    if (p >= e || *p < '0' || *p > '9') {
      ps->p = p;
      return fail(ps, "digit expected after '.'");
    }
    while (p < e && *p >= '0' && *p <= '9')
      p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-'))
      p++;
    if (p >= e || *p < '0' || *p > '9') {
      ps->p = p;
      return fail(ps, "digit expected in exponent");
    }
    while (p < e && *p >= '0' && *p <= '9')
      p++;
  }
  *out = slice_make(s, (size_t)(p - s));
  ps->p = p;
  return 0;
}

static void push_value(struct parser *ps, const struct json_value *v)
{
  if (ps->vals_top == ps->vals_cap) {
    ps->vals_cap = ps->vals_cap ? ps->vals_cap * 2 : 64;
    ps->vals = mem_realloc(ps->vals, ps->vals_cap * sizeof *ps->vals);
  }
  ps->vals[ps->vals_top++] = *v;
}

static void push_member(struct parser *ps, struct slice key, const struct json_value *v)
{
  if (ps->mems_top == ps->mems_cap) {
    ps->mems_cap = ps->mems_cap ? ps->mems_cap * 2 : 64;
    ps->mems = mem_realloc(ps->mems, ps->mems_cap * sizeof *ps->mems);
  }
  ps->mems[ps->mems_top].key = key;
  ps->mems[ps->mems_top].value = *v;
  ps->mems_top++;
}

static bool take_literal(struct parser *ps, const char *lit, size_t n)
{
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
    return false;
  ps->p += n;
  return true;
}

static int parse_value(struct parser *ps, struct json_value *v, uint32_t depth)
{
  skip_ws(ps);
  if (ps->p >= ps->end)
    return fail(ps, "value expected");
  memset(v, 0, sizeof *v);
  int rc;
  switch (*ps->p) {
  case '{': {
    if (depth >= ps->depth_max)
      return error_set(ps->err, ERR_TOO_DEEP_AST, "JSON: nesting deeper than %u at offset %zu", ps->depth_max,
                       (size_t)(ps->p - ps->start));
    ps->p++;
    size_t base = ps->mems_top;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
      ps->p++;
    } else {
      for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"')
          return fail(ps, "member name expected");
        struct slice key;
        if ((rc = parse_string(ps, &key)))
          return rc;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':')
          return fail(ps, "':' expected");
        ps->p++;
        struct json_value child;
        if ((rc = parse_value(ps, &child, depth + 1)))
          return rc;
        push_member(ps, key, &child);
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
          ps->p++;
          continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
          ps->p++;
          break;
        }
        return fail(ps, "',' or '}' expected");
      }
    }
    size_t n = ps->mems_top - base;
    if (n > UINT32_MAX)
      return fail(ps, "too many members");
    v->type = JSON_OBJECT;
    v->count = (uint32_t)n;
    if (n) {
      v->u.members = arena_alloc(ps->a, n * sizeof *v->u.members);
      memcpy(v->u.members, ps->mems + base, n * sizeof *v->u.members);
    }
    ps->mems_top = base;
    return 0;
  }
  case '[': {
    if (depth >= ps->depth_max)
      return error_set(ps->err, ERR_TOO_DEEP_AST, "JSON: nesting deeper than %u at offset %zu", ps->depth_max,
                       (size_t)(ps->p - ps->start));
    ps->p++;
    size_t base = ps->vals_top;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
      ps->p++;
    } else {
      for (;;) {
        struct json_value child;
        if ((rc = parse_value(ps, &child, depth + 1)))
          return rc;
        push_value(ps, &child);
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
          ps->p++;
          continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
          ps->p++;
          break;
        }
        return fail(ps, "',' or ']' expected");
      }
    }
    size_t n = ps->vals_top - base;
    if (n > UINT32_MAX)
      return fail(ps, "too many elements");
    v->type = JSON_ARRAY;
    v->count = (uint32_t)n;
    if (n) {
      v->u.items = arena_alloc(ps->a, n * sizeof *v->u.items);
      memcpy(v->u.items, ps->vals + base, n * sizeof *v->u.items);
    }
    ps->vals_top = base;
    return 0;
  }
  case '"':
    v->type = JSON_STRING;
    return parse_string(ps, &v->u.text);
  case 't':
    v->type = JSON_TRUE;
    return take_literal(ps, "true", 4) ? 0 : fail(ps, "bad literal");
  case 'f':
    v->type = JSON_FALSE;
    return take_literal(ps, "false", 5) ? 0 : fail(ps, "bad literal");
  case 'n':
    v->type = JSON_NULL;
    return take_literal(ps, "null", 4) ? 0 : fail(ps, "bad literal");
  default:
    v->type = JSON_NUMBER;
    return parse_number(ps, &v->u.text);
  }
}

int json_parse(struct arena *a, const char *text, size_t len, uint32_t depth_max, struct json_value *out,
               struct error *err)
{
  struct parser ps = { .a = a, .p = text, .end = text + len, .start = text, .depth_max = depth_max, .err = err };
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    ps.p += 3;
  int rc = parse_value(&ps, out, 0);
  if (!rc) {
    skip_ws(&ps);
    if (ps.p != ps.end)
      rc = fail(&ps, "end of input expected");
  }
  mem_free(ps.vals);
  mem_free(ps.mems);
  return rc;
}

const struct json_value *json_object_get(const struct json_value *obj, const char *key)
{
  if (!obj || obj->type != JSON_OBJECT)
    return NULL;
  const struct json_value *found = NULL;
  for (uint32_t i = 0; i < obj->count; i++)
    if (slice_eq_cstr(obj->u.members[i].key, key))
      found = &obj->u.members[i].value;
  return found;
}

/* ---- numbers ---- */

static bool is_plain_integer(struct slice t)
{
  size_t i = t.len && t.ptr[0] == '-' ? 1 : 0;
  if (i == t.len)
    return false;
  for (; i < t.len; i++)
    if (t.ptr[i] < '0' || t.ptr[i] > '9')
      return false;
  return true;
}

/* The RFC 8259 number grammar, for numbers that arrive inside strings. */
static bool number_grammar(struct slice t)
{
  size_t i = 0, n = t.len;
  const char *s = t.ptr;
  if (i < n && s[i] == '-')
    i++;
  if (i < n && s[i] == '0')
    i++;
  else if (i < n && s[i] >= '1' && s[i] <= '9')
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
  else
    return false;
  if (i < n && s[i] == '.') {
    if (++i >= n || s[i] < '0' || s[i] > '9')
      return false;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
      return false;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
  }
  return i == n;
}

bool json_number_f64(struct slice text, double *out)
{
  if (!number_grammar(text))
    return false;
  char small[64];
  char *s = text.len < sizeof small ? small : mem_alloc(text.len + 1);
  memcpy(s, text.ptr, text.len);
  s[text.len] = 0;
  char *end;
  double v = strtod(s, &end);
  bool ok = text.len > 0 && end == s + text.len && !isnan(v);
  if (s != small)
    mem_free(s);
  if (ok)
    *out = v;
  return ok;
}

bool json_number_i64(struct slice text, int64_t *out)
{
  if (is_plain_integer(text)) {
    bool neg = text.ptr[0] == '-';
    uint64_t v = 0;
    for (size_t i = neg; i < text.len; i++) {
      unsigned d = (unsigned)(text.ptr[i] - '0');
      if (v > (UINT64_MAX - d) / 10)
        return false;
      v = v * 10 + d;
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
      return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
  }
  double d;
  if (!json_number_f64(text, &d) || d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
    return false;
  *out = (int64_t)d;
  return true;
}

bool json_number_u64(struct slice text, uint64_t *out)
{
  if (is_plain_integer(text)) {
    if (text.ptr[0] == '-') {
      for (size_t i = 1; i < text.len; i++)
        if (text.ptr[i] != '0')
          return false;
      *out = 0;                                 /* "-0" */
      return true;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < text.len; i++) {
      unsigned d = (unsigned)(text.ptr[i] - '0');
      if (v > (UINT64_MAX - d) / 10)
        return false;
      v = v * 10 + d;
    }
    *out = v;
    return true;
  }
  double d;
  if (!json_number_f64(text, &d) || d != floor(d) || d < 0 || d >= 18446744073709551616.0)
    return false;
  *out = (uint64_t)d;
  return true;
}
