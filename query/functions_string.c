/* String functions. Strings are offsets + bytes; kernels walk them
 * directly (const arguments are read once). Lengths and offsets are in
 * bytes unless the function name says UTF8, where they count code points.
 * Regular expressions use POSIX ERE after translating the common RE2
 * escapes (\d \w \s and their negations); LIKE is matched by hand. */
#include "query/exec_int.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- helpers ---- */

static inline struct slice sv(const struct column *c, uint32_t row)
{
  row = column_row(c, row);
  if (c->type->id == TYPE_STRING) {
    uint64_t s = row ? c->offsets[row - 1] : 0;
    return slice_make(c->chars + s, c->offsets[row] - s);
  }
  return column_get_bytes(c, row);
}

static bool is_strt(const struct datatype *t) { return t->id == TYPE_STRING || t->id == TYPE_FIXED_STRING; }

static int need_str(struct fn_call *call, uint32_t i, struct error *err)
{
  if (!is_strt(call->arg_types[i]))
    return fn_illegal_type(call, i, err);
  return 0;
}

/* f(haystack, needle)-shaped functions: exactly two string arguments. */
static int need_two_str(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (!rc && !(rc = need_str(call, 0, err)))
    rc = need_str(call, 1, err);
  return rc;
}

static int need_int(struct fn_call *call, uint32_t i, struct error *err)
{
  if (!type_is_int_or_bool(call->arg_types[i]))
    return fn_illegal_type(call, i, err);
  return 0;
}

static struct column *str_out(struct eval *ev, uint32_t n, size_t bytes_hint)
{
  struct column *r = col_new_empty(ev->arena, type_str(), n);
  col_str_reserve(r, bytes_hint);
  return r;
}

static uint32_t out_rows(struct column **args, uint32_t k, uint32_t rows)
{
  for (uint32_t j = 0; j < k; j++)
    if (args[j] && !args[j]->is_const)
      return rows;
  return rows;
}

static inline size_t utf8_len(const char *p, size_t n)
{
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    c += ((unsigned char)p[i] & 0xC0) != 0x80;
  return c;
}

/* byte offset of the k-th code point (0-based) from p, clamped to n */
static size_t utf8_offset(const char *p, size_t n, size_t k)
{
  size_t i = 0;
  while (i < n && k > 0) {
    i++;
    while (i < n && ((unsigned char)p[i] & 0xC0) == 0x80)
      i++;
    k--;
  }
  return i;
}

static inline int64_t get_i64(const struct column *c, uint32_t row)
{
  row = column_row(c, row);
  if (datatype_is_float(c->type))
    return (int64_t)column_get_f64(c, row);
  if (datatype_is_signed(c->type))
    return column_get_i64(c, row);
  return (int64_t)column_get_u64(c, row);
}

/* ======================================================================
 * length, empty
 * ====================================================================== */

static int exec_length(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                       struct column **out, struct error *err)
{
  (void)err;
  struct column *c = args[0];
  uint32_t n = c->is_const ? 1 : rows;
  uint64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  const struct datatype *t = c->type;
  if (t->id == TYPE_STRING) {
    const uint64_t *o = c->offsets;
    res[0] = o[0];
    for (uint32_t i = 1; i < n; i++)
      res[i] = o[i] - o[i - 1];
  } else if (t->id == TYPE_FIXED_STRING) {
    for (uint32_t i = 0; i < n; i++)
      res[i] = t->size;
  } else if (t->id == TYPE_ARRAY || t->id == TYPE_MAP) {
    for (uint32_t i = 0; i < n; i++) {
      uint64_t s, e;
      column_array_range(c, i, &s, &e);
      res[i] = e - s;
    }
  } else {
    for (uint32_t i = 0; i < n; i++) {
      struct slice s = sv(c, i);
      res[i] = call->i0 ? utf8_len(s.ptr, s.len) : s.len;
    }
  }
  if (call->i0 && t->id == TYPE_STRING)
    for (uint32_t i = 0; i < n; i++) {
      struct slice s = sv(c, i);
      res[i] = utf8_len(s.ptr, s.len);
    }
  *out = col_from_u64(ev->arena, type_u64(), res, n);
  return 0;
}

int fr_length(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (!is_strt(t) && t->id != TYPE_ARRAY && t->id != TYPE_MAP)
    return fn_illegal_type(call, 0, err);
  call->type = type_u64();
  call->i0 = 0;
  call->exec = exec_length;
  return 0;
}

int fr_length_utf8(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  call->type = type_u64();
  call->i0 = 1;
  call->exec = exec_length;
  return 0;
}

static int exec_empty(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err;
  struct column *c = args[0];
  uint32_t n = c->is_const ? 1 : rows;
  struct column *r = col_new(ev->arena, type_u8(), n);
  uint8_t *d = r->data;
  bool neg = call->def->op == 1;
  const struct datatype *t = c->type;
  for (uint32_t i = 0; i < n; i++) {
    bool empty;
    if (t->id == TYPE_ARRAY || t->id == TYPE_MAP) {
      uint64_t s, e;
      column_array_range(c, i, &s, &e);
      empty = s == e;
    } else if (t->id == TYPE_UUID) {
      static const char zero[16];
      empty = memcmp((const char *)c->data + 16 * (size_t)i, zero, 16) == 0;
    } else if (t->id == TYPE_FIXED_STRING) {
      struct slice s = sv(c, i);
      empty = true;
      for (size_t k = 0; k < s.len; k++)
        if (s.ptr[k])
          empty = false;
    } else {
      empty = sv(c, i).len == 0;
    }
    d[i] = empty ^ neg;
  }
  *out = r;
  return 0;
}

int fr_empty(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (!is_strt(t) && t->id != TYPE_ARRAY && t->id != TYPE_MAP && t->id != TYPE_UUID)
    return fn_illegal_type(call, 0, err);
  call->type = type_u8();
  call->exec = exec_empty;
  return 0;
}

/* ======================================================================
 * lower / upper (ASCII; the UTF8 variants also map Latin-1 and Cyrillic
 * two-byte letters)
 * ====================================================================== */

static void utf8_case(const char *p, size_t n, bool upper, char *o)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c < 0x80) {
      o[i] = (char)(upper ? toupper(c) : tolower(c));
      continue;
    }
    o[i] = (char)c;
    if (i + 1 < n) {
      unsigned char c2 = (unsigned char)p[i + 1];
      unsigned cp = ((c & 0x1F) << 6) | (c2 & 0x3F);
      if ((c & 0xE0) == 0xC0 && (c2 & 0xC0) == 0x80) {
        unsigned m = cp;
        if (upper) {
          if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) || (cp >= 0x430 && cp <= 0x44F))
            m = cp - 0x20;
          else if (cp >= 0x450 && cp <= 0x45F)
            m = cp - 0x50;
        } else {
          if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x410 && cp <= 0x42F))
            m = cp + 0x20;
          else if (cp >= 0x400 && cp <= 0x40F)
            m = cp + 0x50;
        }
        o[i] = (char)(0xC0 | (m >> 6));
        o[i + 1] = (char)(0x80 | (m & 0x3F));
        i++;
      }
    }
  }
}

static int exec_case(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  (void)err;
  struct column *c = args[0];
  uint32_t n = c->is_const ? 1 : rows;
  int op = call->def->op;
  bool upper = op == 1 || op == 3;
  struct column *r = str_out(ev, n, c->type->id == TYPE_STRING ? c->chars_len : 0);
  for (uint32_t i = 0; i < n; i++) {
    struct slice s = sv(c, i);
    col_str_reserve(r, s.len);
    char *o = r->chars + r->chars_len;
    if (op >= 2) {
      utf8_case(s.ptr, s.len, upper, o);
    } else if (upper) {
      for (size_t k = 0; k < s.len; k++) {
        char ch = s.ptr[k];
        o[k] = ch >= 'a' && ch <= 'z' ? (char)(ch - 32) : ch;
      }
    } else {
      for (size_t k = 0; k < s.len; k++) {
        char ch = s.ptr[k];
        o[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
      }
    }
    r->chars_len += s.len;
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_case(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_case;
  return 0;
}

/* ======================================================================
 * concat / concatWithSeparator
 * ====================================================================== */

static int stringify_args(struct eval *ev, struct fn_call *call, struct column **args, uint32_t from, uint32_t rows,
                          struct column **out, struct error *err)
{
  for (uint32_t j = from; j < call->arg_count; j++) {
    out[j] = args[j];
    if (!is_strt(args[j]->type)) {
      int rc = cast_column(ev, args[j], rows, type_str(), CAST_THROW, &out[j], err);
      if (rc)
        return rc;
    }
  }
  return 0;
}

static int exec_concat(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                       struct column **out, struct error *err)
{
  uint32_t k = call->arg_count;
  struct column **s = arena_alloc(ev->arena, sizeof *s * (k ? k : 1));
  int rc = stringify_args(ev, call, args, 0, rows, s, err);
  if (rc)
    return rc;
  bool ws = call->def->resolve == fr_concat_ws;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    for (uint32_t j = ws ? 1 : 0; j < k; j++) {
      struct slice x = sv(s[j], i);
      if (ws && j > 1) {
        struct slice sep = sv(s[0], i);
        col_str_reserve(r, sep.len);
        memcpy(r->chars + r->chars_len, sep.ptr, sep.len);
        r->chars_len += sep.len;
      }
      col_str_reserve(r, x.len);
      if (x.len)
        memcpy(r->chars + r->chars_len, x.ptr, x.len);
      r->chars_len += x.len;
    }
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_concat(struct fn_call *call, struct error *err)
{
  (void)err;
  call->type = type_str();
  call->exec = exec_concat;
  return 0;
}

int fr_concat_ws(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, UINT32_MAX, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_concat;
  return 0;
}

/* ======================================================================
 * substring / left / right
 * ====================================================================== */

static int exec_substring(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  (void)err;
  bool utf8 = call->def->op == 1;
  uint32_t n = out_rows(args, call->arg_count, rows);
  struct column *r = str_out(ev, n, 0);
  for (uint32_t i = 0; i < n; i++) {
    struct slice s = sv(args[0], i);
    size_t len = utf8 ? utf8_len(s.ptr, s.len) : s.len;
    int64_t off = get_i64(args[1], i);
    int64_t from;
    if (off > 0)
      from = off - 1;
    else if (off < 0)
      from = (int64_t)len + off;
    else
      from = (int64_t)len; /* offset 0 yields an empty string */
    int64_t to = (int64_t)len;
    if (call->arg_count > 2) {
      int64_t l = get_i64(args[2], i);
      to = l >= 0 ? from + l : (int64_t)len + l;
    }
    if (from < 0) {
      if (off < 0 && call->arg_count > 2 && to >= 0) {
        /* substring('abc', -5, 3) counts the missing prefix */
      }
      from = 0;
    }
    if (to > (int64_t)len)
      to = (int64_t)len;
    if (to <= from) {
      col_str_append(r, NULL, 0);
      continue;
    }
    size_t b0 = (size_t)from, b1 = (size_t)to;
    if (utf8) {
      b0 = utf8_offset(s.ptr, s.len, (size_t)from);
      b1 = utf8_offset(s.ptr, s.len, (size_t)to);
    }
    col_str_append(r, s.ptr + b0, b1 - b0);
  }
  *out = r;
  return 0;
}

int fr_substring(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)) || (rc = need_int(call, 1, err)) ||
      (call->arg_count > 2 && (rc = need_int(call, 2, err))))
    return rc;
  call->type = type_str();
  call->exec = exec_substring;
  return 0;
}

static int exec_left_right(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                           struct column **out, struct error *err)
{
  (void)err;
  int op = call->def->op;
  bool right = op == 1 || op == 3, utf8 = op >= 2;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    size_t len = utf8 ? utf8_len(s.ptr, s.len) : s.len;
    int64_t k = get_i64(args[1], i);
    int64_t take = k >= 0 ? k : (int64_t)len + k;
    if (take < 0)
      take = 0;
    if (take > (int64_t)len)
      take = (int64_t)len;
    size_t from = right ? len - (size_t)take : 0, to = right ? len : (size_t)take;
    if (utf8) {
      from = utf8_offset(s.ptr, s.len, from);
      to = utf8_offset(s.ptr, s.len, to);
    }
    col_str_append(r, s.ptr + from, to - from);
  }
  *out = r;
  return 0;
}

int fr_left_right(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)) || (rc = need_int(call, 1, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_left_right;
  return 0;
}

/* ======================================================================
 * position / locate
 * ====================================================================== */

static const char *find_bytes(const char *h, size_t hn, const char *nd, size_t nn, bool ci)
{
  if (nn == 0)
    return h;
  if (nn > hn)
    return NULL;
  if (!ci)
    return memmem(h, hn, nd, nn);
  for (size_t i = 0; i + nn <= hn; i++)
    if (strncasecmp(h + i, nd, nn) == 0)
      return h + i;
  return NULL;
}

static int exec_position(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  (void)err;
  int op = call->def->op;
  bool ci = op == 1 || op == 3, utf8 = op == 2 || op == 3;
  uint32_t hi = op == 4 ? 1 : 0, ni = op == 4 ? 0 : 1;
  uint64_t *res = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++) {
    struct slice h = sv(args[hi], i), nd = sv(args[ni], i);
    int64_t start = call->arg_count > 2 ? get_i64(args[2], i) : 1;
    size_t from = 0;
    if (start > 1) {
      from = utf8 ? utf8_offset(h.ptr, h.len, (size_t)(start - 1)) : (size_t)(start - 1);
      if ((size_t)(start - 1) > (utf8 ? utf8_len(h.ptr, h.len) : h.len)) {
        res[i] = 0;
        continue;
      }
    }
    if (from > h.len) {
      res[i] = 0;
      continue;
    }
    const char *p = find_bytes(h.ptr + from, h.len - from, nd.ptr, nd.len, ci);
    if (!p)
      res[i] = 0;
    else
      res[i] = (utf8 ? utf8_len(h.ptr, (size_t)(p - h.ptr)) : (size_t)(p - h.ptr)) + 1;
  }
  *out = col_from_u64(ev->arena, type_u64(), res, rows);
  return 0;
}

int fr_position(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)) || (rc = need_str(call, 1, err)) ||
      (call->arg_count > 2 && (rc = need_int(call, 2, err))))
    return rc;
  call->type = type_u64();
  call->exec = exec_position;
  return 0;
}

static int exec_count_substrings(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                                 struct column **out, struct error *err)
{
  (void)err; (void)call;
  uint64_t *res = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++) {
    struct slice h = sv(args[0], i), nd = sv(args[1], i);
    uint64_t c = 0;
    if (nd.len) {
      const char *p = h.ptr, *end = h.ptr + h.len;
      while ((p = find_bytes(p, (size_t)(end - p), nd.ptr, nd.len, false))) {
        c++;
        p += nd.len;
      }
    }
    res[i] = c;
  }
  *out = col_from_u64(ev->arena, type_u64(), res, rows);
  return 0;
}

int fr_count_substrings(struct fn_call *call, struct error *err)
{
  int rc = need_two_str(call, err);
  if (rc)
    return rc;
  call->type = type_u64();
  call->exec = exec_count_substrings;
  return 0;
}

/* ======================================================================
 * replaceAll / replaceOne
 * ====================================================================== */

static int exec_replace(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  (void)err;
  bool one = call->def->op == 1;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice h = sv(args[0], i), nd = sv(args[1], i), rep = sv(args[2], i);
    if (nd.len == 0) {
      col_str_append(r, h.ptr, h.len);
      continue;
    }
    const char *p = h.ptr, *end = h.ptr + h.len;
    for (;;) {
      const char *q = find_bytes(p, (size_t)(end - p), nd.ptr, nd.len, false);
      size_t chunk = q ? (size_t)(q - p) : (size_t)(end - p);
      col_str_reserve(r, chunk + rep.len);
      memcpy(r->chars + r->chars_len, p, chunk);
      r->chars_len += chunk;
      if (!q)
        break;
      if (rep.len)
        memcpy(r->chars + r->chars_len, rep.ptr, rep.len);
      r->chars_len += rep.len;
      p = q + nd.len;
      if (one) {
        size_t rest = (size_t)(end - p);
        col_str_reserve(r, rest);
        memcpy(r->chars + r->chars_len, p, rest);
        r->chars_len += rest;
        break;
      }
    }
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_replace(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 3, 3, err);
  if (rc)
    return rc;
  for (uint32_t j = 0; j < 3; j++)
    if ((rc = need_str(call, j, err)))
      return rc;
  call->type = type_str();
  call->exec = exec_replace;
  return 0;
}

/* ======================================================================
 * regular expressions
 * ====================================================================== */

/* RE2 → POSIX ERE for the common escapes; returns NULL-terminated text. */
static char *re2_to_ere(struct arena *a, struct slice re)
{
  struct buf b;
  buf_init(&b);
  bool in_class = false;
  for (size_t i = 0; i < re.len; i++) {
    char c = re.ptr[i];
    if (c == '\\' && i + 1 < re.len) {
      char e = re.ptr[++i];
      const char *cls = NULL, *ncls = NULL;
      switch (e) {
      case 'd': cls = "0-9"; break;
      case 'D': ncls = "0-9"; break;
      case 'w': cls = "A-Za-z0-9_"; break;
      case 'W': ncls = "A-Za-z0-9_"; break;
      case 's': cls = "[:space:]"; break;
      case 'S': ncls = "[:space:]"; break;
      }
      if (cls) {
        if (in_class)
          buf_append_cstr(&b, cls);
        else
          buf_printf(&b, "[%s]", cls);
      } else if (ncls) {
        buf_printf(&b, "[^%s]", ncls);
      } else if (e == 'n') {
        buf_append_char(&b, '\n');
      } else if (e == 't') {
        buf_append_char(&b, '\t');
      } else if (in_class && e != ']' && e != '\\' && e != '^' && e != '-') {
        buf_append_char(&b, e);
      } else {
        buf_append_char(&b, '\\');
        buf_append_char(&b, e);
      }
      continue;
    }
    if (c == '[' && !in_class)
      in_class = true;
    else if (c == ']' && in_class)
      in_class = false;
    /* non-greedy quantifiers are not in ERE: drop the '?' after a quantifier */
    if (c == '?' && i > 0 && !in_class && (re.ptr[i - 1] == '*' || re.ptr[i - 1] == '+' || re.ptr[i - 1] == '?'))
      continue;
    buf_append_char(&b, c);
  }
  char *r = arena_strndup(a, b.data ? b.data : "", b.len);
  buf_free(&b);
  return r;
}

static void regex_free(void *arg) { regfree(arg); }

static int compile_re(struct fn_call *call, uint32_t i, regex_t **out, struct error *err)
{
  struct slice re;
  if (!fn_const_str(call, i, &re))
    return error_set(err, ERR_ILLEGAL_COLUMN, "The pattern argument of function %s must be constant", call->name);
  regex_t *rx = arena_alloc(call->arena, sizeof *rx);
  char *ere = re2_to_ere(call->arena, re);
  int rc = regcomp(rx, ere, REG_EXTENDED);
  if (rc) {
    char msg[256];
    regerror(rc, rx, msg, sizeof msg);
    return error_set(err, ERR_CANNOT_COMPILE_REGEXP, "Cannot compile regexp '%.*s': %s", (int)re.len, re.ptr, msg);
  }
  arena_on_cleanup(call->arena, regex_free, rx);
  *out = rx;
  return 0;
}

/* regexec on a (ptr, len) string: needs NUL-termination */
static int re_exec(const regex_t *rx, const char *p, size_t n, size_t nm, regmatch_t *m, int flags, struct buf *tmp)
{
  buf_reset(tmp);
  buf_append(tmp, p, n);
  return regexec(rx, buf_cstr(tmp), nm, m, flags);
}

static int exec_match(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err;
  regex_t *rx = call->state;
  struct column *r = col_new(ev->arena, type_u8(), rows);
  uint8_t *d = r->data;
  struct buf tmp;
  buf_init(&tmp);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    d[i] = re_exec(rx, s.ptr, s.len, 0, NULL, 0, &tmp) == 0;
  }
  buf_free(&tmp);
  *out = r;
  return 0;
}

int fr_match(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  regex_t *rx;
  if ((rc = compile_re(call, 1, &rx, err)))
    return rc;
  call->state = rx;
  call->type = type_u8();
  call->exec = exec_match;
  return 0;
}

static int exec_extract(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  (void)err;
  regex_t *rx = call->state;
  bool all = call->def->op == 1;
  struct buf tmp;
  buf_init(&tmp);
  regmatch_t m[2];
  if (!all) {
    struct column *r = str_out(ev, rows, 0);
    for (uint32_t i = 0; i < rows; i++) {
      struct slice s = sv(args[0], i);
      if (re_exec(rx, s.ptr, s.len, 2, m, 0, &tmp) == 0) {
        int g = (rx->re_nsub >= 1 && m[1].rm_so >= 0) ? 1 : 0;
        if (rx->re_nsub >= 1 && m[1].rm_so < 0)
          col_str_append(r, NULL, 0);
        else
          col_str_append(r, s.ptr + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
      } else {
        col_str_append(r, NULL, 0);
      }
    }
    buf_free(&tmp);
    *out = r;
    return 0;
  }
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    size_t pos = 0;
    while (pos <= s.len) {
      if (re_exec(rx, s.ptr + pos, s.len - pos, 2, m, pos ? REG_NOTBOL : 0, &tmp) != 0)
        break;
      int g = rx->re_nsub >= 1 ? 1 : 0;
      if (m[g].rm_so >= 0)
        col_str_append(r->children[0], s.ptr + pos + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
      size_t adv = (size_t)m[0].rm_eo;
      pos += adv ? adv : 1;
    }
    column_close_array_row(r);
  }
  buf_free(&tmp);
  *out = r;
  return 0;
}

int fr_extract(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  regex_t *rx;
  if ((rc = compile_re(call, 1, &rx, err)))
    return rc;
  call->state = rx;
  call->type = call->def->op == 1 ? datatype_array(call->arena, type_str()) : type_str();
  call->exec = exec_extract;
  return 0;
}

static void append_replacement(struct column *r, struct slice rep, const char *base, const regmatch_t *m, size_t nm)
{
  for (size_t k = 0; k < rep.len; k++) {
    char c = rep.ptr[k];
    if (c == '\\' && k + 1 < rep.len && rep.ptr[k + 1] >= '0' && rep.ptr[k + 1] <= '9') {
      size_t g = (size_t)(rep.ptr[++k] - '0');
      if (g < nm && m[g].rm_so >= 0) {
        size_t len = (size_t)(m[g].rm_eo - m[g].rm_so);
        col_str_reserve(r, len);
        memcpy(r->chars + r->chars_len, base + m[g].rm_so, len);
        r->chars_len += len;
      }
      continue;
    }
    if (c == '\\' && k + 1 < rep.len)
      c = rep.ptr[++k];
    col_str_reserve(r, 1);
    r->chars[r->chars_len++] = c;
  }
}

static int exec_replace_regexp(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                               struct column **out, struct error *err)
{
  (void)err;
  regex_t *rx = call->state;
  bool one = call->def->op == 1;
  struct buf tmp;
  buf_init(&tmp);
  regmatch_t m[10];
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i), rep = sv(args[2], i);
    size_t pos = 0;
    while (pos <= s.len) {
      if (re_exec(rx, s.ptr + pos, s.len - pos, 10, m, pos ? REG_NOTBOL : 0, &tmp) != 0)
        break;
      size_t so = (size_t)m[0].rm_so, eo = (size_t)m[0].rm_eo;
      col_str_reserve(r, so);
      memcpy(r->chars + r->chars_len, s.ptr + pos, so);
      r->chars_len += so;
      append_replacement(r, rep, s.ptr + pos, m, 10);
      if (eo == so) {
        if (pos + eo < s.len) {
          col_str_reserve(r, 1);
          r->chars[r->chars_len++] = s.ptr[pos + eo];
        }
        pos += eo + 1;
      } else {
        pos += eo;
      }
      if (one)
        break;
    }
    if (pos < s.len) {
      col_str_reserve(r, s.len - pos);
      memcpy(r->chars + r->chars_len, s.ptr + pos, s.len - pos);
      r->chars_len += s.len - pos;
    }
    col_str_append(r, NULL, 0);
  }
  buf_free(&tmp);
  *out = r;
  return 0;
}

int fr_replace_regexp(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 3, 3, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)) || (rc = need_str(call, 2, err)))
    return rc;
  regex_t *rx;
  if ((rc = compile_re(call, 1, &rx, err)))
    return rc;
  call->state = rx;
  call->type = type_str();
  call->exec = exec_replace_regexp;
  return 0;
}

/* ======================================================================
 * trim
 * ====================================================================== */

static int exec_trim(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  (void)err;
  int op = call->def->op;
  bool left = op == 1 || op == 3, right = op == 2 || op == 3;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    struct slice set = call->arg_count > 1 ? sv(args[1], i) : SLICE_LIT(" ");
    size_t b = 0, e = s.len;
    if (left)
      while (b < e && memchr(set.ptr, s.ptr[b], set.len))
        b++;
    if (right)
      while (e > b && memchr(set.ptr, s.ptr[e - 1], set.len))
        e--;
    col_str_append(r, s.ptr + b, e - b);
  }
  *out = r;
  return 0;
}

int fr_trim(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 2, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)) || (call->arg_count > 1 && (rc = need_str(call, 1, err))))
    return rc;
  call->type = type_str();
  call->exec = exec_trim;
  return 0;
}

/* ======================================================================
 * split* / arrayStringConcat
 * ====================================================================== */

static int exec_split(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err;
  int op = call->def->op;
  uint32_t si = (op == 2 || op == 3) ? 0 : 1; /* index of the string argument */
  uint32_t mi = si + 1;                         /* optional max_substrings */
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  struct column *el = r->children[0];
  struct buf tmp;
  buf_init(&tmp);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[si], i);
    int64_t maxn = call->arg_count > mi ? get_i64(args[mi], i) : 0;
    uint64_t cnt = 0;
#define EMIT(p, n) do { if (maxn > 0 && (int64_t)cnt >= maxn) goto done_row; col_str_append(el, (p), (n)); cnt++; } while (0)
    if (op == 0 || op == 1) {
      struct slice sep = sv(args[0], i);
      if (sep.len == 0) {
        for (size_t k = 0; k < s.len; k++)
          EMIT(s.ptr + k, 1);
      } else {
        const char *p = s.ptr, *end = s.ptr + s.len;
        for (;;) {
          const char *q = find_bytes(p, (size_t)(end - p), sep.ptr, sep.len, false);
          if (!q) {
            EMIT(p, (size_t)(end - p));
            break;
          }
          EMIT(p, (size_t)(q - p));
          p = q + sep.len;
        }
      }
    } else if (op == 2 || op == 3) {
      size_t k = 0;
      while (k < s.len) {
        while (k < s.len && (op == 2 ? isspace((unsigned char)s.ptr[k]) : !isalnum((unsigned char)s.ptr[k])))
          k++;
        size_t b = k;
        while (k < s.len && !(op == 2 ? isspace((unsigned char)s.ptr[k]) : !isalnum((unsigned char)s.ptr[k])))
          k++;
        if (k > b)
          EMIT(s.ptr + b, k - b);
      }
    } else {
      regex_t *rx = call->state;
      regmatch_t m[1];
      size_t pos = 0;
      for (;;) {
        if (pos > s.len || re_exec(rx, s.ptr + pos, s.len - pos, 1, m, pos ? REG_NOTBOL : 0, &tmp) != 0 ||
            m[0].rm_eo == 0) {
          EMIT(s.ptr + pos, s.len - pos);
          break;
        }
        EMIT(s.ptr + pos, (size_t)m[0].rm_so);
        pos += (size_t)m[0].rm_eo;
      }
    }
#undef EMIT
  done_row:
    column_close_array_row(r);
  }
  buf_free(&tmp);
  *out = r;
  return 0;
}

int fr_split(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  bool one_str = op == 2 || op == 3;
  int rc = fn_check_args(call, one_str ? 1 : 2, one_str ? 2 : 3, err);
  if (rc)
    return rc;
  for (uint32_t j = 0; j < (one_str ? 1u : 2u); j++)
    if ((rc = need_str(call, j, err)))
      return rc;
  if (op == 0) {
    struct slice sep;
    if (fn_const_str(call, 0, &sep) && sep.len != 1)
      return error_set(err, ERR_BAD_ARGUMENTS, "Illegal separator for function splitByChar. Must be exactly one byte.");
  }
  if (op == 4) {
    regex_t *rx;
    if ((rc = compile_re(call, 0, &rx, err)))
      return rc;
    call->state = rx;
  }
  call->type = datatype_array(call->arena, type_str());
  call->exec = exec_split;
  return 0;
}

static int exec_array_string_concat(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                                    struct column **out, struct error *err)
{
  struct column *a = col_full(ev->arena, args[0], rows);
  struct column *el = a->children[0];
  if (!is_strt(el->type)) {
    int rc = cast_column(ev, el, el->rows, type_str(), CAST_THROW, &el, err);
    if (rc)
      return rc;
  }
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice sep = call->arg_count > 1 ? sv(args[1], i) : SLICE_LIT("");
    uint64_t s, e;
    column_array_range(a, i, &s, &e);
    for (uint64_t k = s; k < e; k++) {
      if (el->type->id == TYPE_NULLABLE && el->nulls[k])
        continue;
      struct slice x = el->type->id == TYPE_NULLABLE ? sv(el->children[0], (uint32_t)k) : sv(el, (uint32_t)k);
      size_t need = x.len + (k > s ? sep.len : 0);
      col_str_reserve(r, need);
      if (k > s) {
        memcpy(r->chars + r->chars_len, sep.ptr, sep.len);
        r->chars_len += sep.len;
      }
      memcpy(r->chars + r->chars_len, x.ptr, x.len);
      r->chars_len += x.len;
    }
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_array_string_concat(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 2, err);
  if (rc)
    return rc;
  if (call->arg_types[0]->id != TYPE_ARRAY)
    return fn_illegal_type(call, 0, err);
  if (call->arg_count > 1 && (rc = need_str(call, 1, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_array_string_concat;
  return 0;
}

/* ======================================================================
 * startsWith / endsWith / hasToken
 * ====================================================================== */

static int exec_starts_with(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                            struct column **out, struct error *err)
{
  (void)err;
  bool ends = call->def->op == 1;
  struct column *r = col_new(ev->arena, type_u8(), rows);
  uint8_t *d = r->data;
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i), p = sv(args[1], i);
    d[i] = p.len <= s.len && memcmp(ends ? s.ptr + s.len - p.len : s.ptr, p.ptr, p.len) == 0;
  }
  *out = r;
  return 0;
}

int fr_starts_with(struct fn_call *call, struct error *err)
{
  int rc = need_two_str(call, err);
  if (rc)
    return rc;
  call->type = type_u8();
  call->exec = exec_starts_with;
  return 0;
}

static int exec_has_token(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  (void)err; (void)call;
  struct column *r = col_new(ev->arena, type_u8(), rows);
  uint8_t *d = r->data;
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i), t = sv(args[1], i);
    bool found = false;
    const char *p = s.ptr, *end = s.ptr + s.len;
    while (t.len && !found && (p = find_bytes(p, (size_t)(end - p), t.ptr, t.len, false))) {
      bool lb = p == s.ptr || !isalnum((unsigned char)p[-1]);
      bool rb = p + t.len == end || !isalnum((unsigned char)p[t.len]);
      found = lb && rb;
      p++;
    }
    d[i] = found;
  }
  *out = r;
  return 0;
}

int fr_has_token(struct fn_call *call, struct error *err)
{
  int rc = need_two_str(call, err);
  if (rc)
    return rc;
  call->type = type_u8();
  call->exec = exec_has_token;
  return 0;
}

/* ======================================================================
 * LIKE
 * ====================================================================== */

static inline size_t cp_len(const char *p, size_t n)
{
  unsigned char c = (unsigned char)*p;
  size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  return l > n ? n : l;
}

static inline bool ch_eq(char a, char b, bool ci)
{
  if (ci) {
    if (a >= 'A' && a <= 'Z')
      a = (char)(a + 32);
    if (b >= 'A' && b <= 'Z')
      b = (char)(b + 32);
  }
  return a == b;
}

/* Wildcard match with backtracking on the last '%' (linear in practice). */
static bool like_match(const char *s, size_t sn, const char *p, size_t pn, bool ci)
{
  size_t si = 0, pi = 0;
  size_t star_p = SIZE_MAX, star_s = 0;
  while (si < sn) {
    if (pi < pn && p[pi] == '%') {
      star_p = ++pi;
      star_s = si;
      continue;
    }
    if (pi < pn && p[pi] == '_') {
      si += cp_len(s + si, sn - si);
      pi++;
      continue;
    }
    if (pi < pn) {
      char pc = p[pi];
      size_t adv = 1;
      if (pc == '\\' && pi + 1 < pn) {
        pc = p[pi + 1];
        adv = 2;
      }
      if (ch_eq(s[si], pc, ci)) {
        si++;
        pi += adv;
        continue;
      }
    }
    if (star_p != SIZE_MAX) {
      star_s += cp_len(s + star_s, sn - star_s);
      si = star_s;
      pi = star_p;
      continue;
    }
    return false;
  }
  while (pi < pn && p[pi] == '%')
    pi++;
  return pi == pn;
}

static int exec_like(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  (void)err;
  int op = call->def->op;
  bool neg = op == 1 || op == 3, ci = op >= 2;
  struct column *r = col_new(ev->arena, type_u8(), rows);
  uint8_t *d = r->data;
  struct column *pc = args[1];
  if (pc->is_const && call->i0) {
    /* plain substring / prefix / suffix / exact: memmem */
    struct slice p = sv(pc, 0);
    int kind = (int)call->i0; /* 1 exact, 2 prefix, 3 suffix, 4 contains */
    struct slice lit = call->i0 == 1 ? p : call->i0 == 2 ? slice_make(p.ptr, p.len - 1)
                     : call->i0 == 3 ? slice_make(p.ptr + 1, p.len - 1) : slice_make(p.ptr + 1, p.len - 2);
    for (uint32_t i = 0; i < rows; i++) {
      struct slice s = sv(args[0], i);
      bool m;
      switch (kind) {
      case 1: m = s.len == lit.len && memcmp(s.ptr, lit.ptr, lit.len) == 0; break;
      case 2: m = s.len >= lit.len && memcmp(s.ptr, lit.ptr, lit.len) == 0; break;
      case 3: m = s.len >= lit.len && memcmp(s.ptr + s.len - lit.len, lit.ptr, lit.len) == 0; break;
      default: m = find_bytes(s.ptr, s.len, lit.ptr, lit.len, false) != NULL; break;
      }
      d[i] = m ^ neg;
    }
    *out = r;
    return 0;
  }
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i), p = sv(pc, i);
    d[i] = like_match(s.ptr, s.len, p.ptr, p.len, ci) ^ neg;
  }
  *out = r;
  return 0;
}

/* 0 = general, 1 exact, 2 'lit%', 3 '%lit', 4 '%lit%' (no other wildcards or escapes) */
static int like_kind(struct slice p)
{
  size_t n = p.len;
  for (size_t i = 0; i < n; i++) {
    char c = p.ptr[i];
    if (c == '\\' || c == '_')
      return 0;
    if (c == '%' && i != 0 && i != n - 1)
      return 0;
  }
  bool lead = n && p.ptr[0] == '%', trail = n > 1 && p.ptr[n - 1] == '%';
  if (n == 1 && lead)
    return 2; /* '%' matches everything: prefix '' */
  if (lead && trail)
    return 4;
  if (lead)
    return 3;
  if (trail)
    return 2;
  return 1;
}

int fr_like(struct fn_call *call, struct error *err)
{
  int rc = need_two_str(call, err);
  if (rc)
    return rc;
  struct slice p;
  call->i0 = 0;
  if (call->def->op < 2 && fn_const_str(call, 1, &p))
    call->i0 = like_kind(p);
  call->type = type_u8();
  call->exec = exec_like;
  return 0;
}

/* ======================================================================
 * reverse, repeat, space, pad
 * ====================================================================== */

static int exec_reverse(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  (void)err;
  bool utf8 = call->def->op == 1;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    col_str_reserve(r, s.len);
    char *o = r->chars + r->chars_len;
    if (!utf8) {
      for (size_t k = 0; k < s.len; k++)
        o[k] = s.ptr[s.len - 1 - k];
    } else {
      size_t w = s.len;
      size_t k = 0;
      while (k < s.len) {
        size_t l = cp_len(s.ptr + k, s.len - k);
        w -= l;
        memcpy(o + w, s.ptr + k, l);
        k += l;
      }
    }
    r->chars_len += s.len;
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_array_reverse(struct fn_call *call, struct error *err);

int fr_reverse(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if (call->arg_types[0]->id == TYPE_ARRAY && call->def->op == 0)
    return fr_array_reverse(call, err);
  if ((rc = need_str(call, 0, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_reverse;
  return 0;
}

enum { STRING_RESULT_BYTES_MAX = 1 << 30 };

static int exec_repeat(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                       struct column **out, struct error *err)
{
  bool space = call->def->resolve == fr_space;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = space ? SLICE_LIT(" ") : sv(args[0], i);
    int64_t n = get_i64(args[space ? 0 : 1], i);
    if (n < 0)
      n = 0;
    if ((uint64_t)n * s.len > STRING_RESULT_BYTES_MAX)
      return error_set(err, ERR_TOO_LARGE_STRING_SIZE, "Too large string size in function %s", call->name);
    col_str_reserve(r, (size_t)n * s.len);
    for (int64_t k = 0; k < n && s.len; k++) {
      memcpy(r->chars + r->chars_len, s.ptr, s.len);
      r->chars_len += s.len;
    }
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_repeat(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)) || (rc = need_int(call, 1, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_repeat;
  return 0;
}

int fr_space(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if ((rc = need_int(call, 0, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_repeat;
  return 0;
}

static int exec_pad(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                    struct column **out, struct error *err)
{
  int op = call->def->op;
  bool right = op == 1 || op == 3, utf8 = op >= 2;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    int64_t len = get_i64(args[1], i);
    struct slice pad = call->arg_count > 2 ? sv(args[2], i) : SLICE_LIT(" ");
    if (len < 0)
      len = 0;
    if (len > STRING_RESULT_BYTES_MAX)
      return error_set(err, ERR_TOO_LARGE_STRING_SIZE, "Too large string size in function %s", call->name);
    size_t cur = utf8 ? utf8_len(s.ptr, s.len) : s.len;
    if ((size_t)len <= cur) {
      size_t cut = utf8 ? utf8_offset(s.ptr, s.len, (size_t)len) : (size_t)len;
      col_str_append(r, s.ptr, cut);
      continue;
    }
    size_t need = (size_t)len - cur;
    size_t padn = utf8 ? utf8_len(pad.ptr, pad.len) : pad.len;
    if (padn == 0) {
      col_str_append(r, s.ptr, s.len);
      continue;
    }
    col_str_reserve(r, s.len + need * 4);
    if (right) {
      memcpy(r->chars + r->chars_len, s.ptr, s.len);
      r->chars_len += s.len;
    }
    for (size_t k = 0; k < need; k++) {
      size_t idx = k % padn;
      size_t b0 = utf8 ? utf8_offset(pad.ptr, pad.len, idx) : idx;
      size_t b1 = utf8 ? utf8_offset(pad.ptr, pad.len, idx + 1) : idx + 1;
      col_str_reserve(r, b1 - b0);
      memcpy(r->chars + r->chars_len, pad.ptr + b0, b1 - b0);
      r->chars_len += b1 - b0;
    }
    if (!right) {
      col_str_reserve(r, s.len);
      memcpy(r->chars + r->chars_len, s.ptr, s.len);
      r->chars_len += s.len;
    }
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_pad(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)) || (rc = need_int(call, 1, err)) ||
      (call->arg_count > 2 && (rc = need_str(call, 2, err))))
    return rc;
  call->type = type_str();
  call->exec = exec_pad;
  return 0;
}

/* ======================================================================
 * hex / unhex / base64
 * ====================================================================== */

static const char HEXU[] = "0123456789ABCDEF";

static int exec_hex(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                    struct column **out, struct error *err)
{
  (void)err; (void)call;
  struct column *c = args[0];
  uint32_t n = c->is_const ? 1 : rows;
  struct column *r = str_out(ev, n, 0);
  const struct datatype *t = c->type;
  for (uint32_t i = 0; i < n; i++) {
    unsigned char tmp[16];
    const unsigned char *p;
    size_t len;
    if (is_strt(t)) {
      struct slice s = sv(c, i);
      p = (const unsigned char *)s.ptr;
      len = s.len;
    } else if (datatype_is_float(t) || t->id == TYPE_UUID) {
      size_t w = datatype_fixed_bytes(t);
      const unsigned char *src = (const unsigned char *)c->data + (size_t)i * w;
      /* big-endian byte order as printed */
      for (size_t k = 0; k < w; k++)
        tmp[k] = src[w - 1 - k];
      if (t->id == TYPE_UUID) {
        for (size_t k = 0; k < 8; k++) {
          tmp[k] = src[7 - k];
          tmp[8 + k] = src[15 - k];
        }
      }
      p = tmp;
      len = w;
    } else {
      uint64_t v = column_get_u64(c, i);
      if (datatype_is_signed(t))
        v = (uint64_t)column_get_i64(c, i);
      size_t w = 8;
      for (size_t k = 0; k < 8; k++)
        tmp[k] = (unsigned char)(v >> (56 - 8 * k));
      size_t skip = 0;
      while (skip < w - 1 && tmp[skip] == 0)
        skip++;
      p = tmp + skip;
      len = w - skip;
    }
    col_str_reserve(r, len * 2);
    char *o = r->chars + r->chars_len;
    for (size_t k = 0; k < len; k++) {
      o[2 * k] = HEXU[p[k] >> 4];
      o[2 * k + 1] = HEXU[p[k] & 15];
    }
    r->chars_len += len * 2;
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_hex(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (!is_strt(t) && !type_is_number_or_bool(t) && t->id != TYPE_DATE && t->id != TYPE_DATETIME && t->id != TYPE_UUID)
    return fn_illegal_type(call, 0, err);
  call->type = type_str();
  call->exec = exec_hex;
  return 0;
}

static int hexval(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int exec_unhex(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err; (void)call;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    col_str_reserve(r, s.len / 2 + 1);
    size_t k = 0;
    if (s.len % 2) {
      int v = hexval(s.ptr[0]);
      r->chars[r->chars_len++] = (char)(v < 0 ? 0 : v);
      k = 1;
    }
    for (; k + 1 < s.len; k += 2) {
      int a = hexval(s.ptr[k]), b = hexval(s.ptr[k + 1]);
      r->chars[r->chars_len++] = (char)(((a < 0 ? 0 : a) << 4) | (b < 0 ? 0 : b));
    }
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_unhex(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_unhex;
  return 0;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

static int exec_base64(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                       struct column **out, struct error *err)
{
  int op = call->def->op;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    if (op == 0) {
      col_str_reserve(r, (s.len + 2) / 3 * 4);
      char *o = r->chars + r->chars_len;
      size_t k = 0, w = 0;
      for (; k + 2 < s.len; k += 3) {
        uint32_t v = ((uint32_t)(unsigned char)s.ptr[k] << 16) | ((uint32_t)(unsigned char)s.ptr[k + 1] << 8) |
                     (unsigned char)s.ptr[k + 2];
        o[w++] = B64[v >> 18];
        o[w++] = B64[(v >> 12) & 63];
        o[w++] = B64[(v >> 6) & 63];
        o[w++] = B64[v & 63];
      }
      if (k < s.len) {
        uint32_t v = (uint32_t)(unsigned char)s.ptr[k] << 16;
        if (k + 1 < s.len)
          v |= (uint32_t)(unsigned char)s.ptr[k + 1] << 8;
        o[w++] = B64[v >> 18];
        o[w++] = B64[(v >> 12) & 63];
        o[w++] = k + 1 < s.len ? B64[(v >> 6) & 63] : '=';
        o[w++] = '=';
      }
      r->chars_len += w;
      col_str_append(r, NULL, 0);
      continue;
    }
    col_str_reserve(r, s.len);
    char *o = r->chars + r->chars_len;
    size_t w = 0;
    uint32_t acc = 0;
    int bits = 0;
    bool bad = false;
    size_t end = s.len;
    while (end > 0 && s.ptr[end - 1] == '=')
      end--;
    for (size_t k = 0; k < end; k++) {
      int v = b64val(s.ptr[k]);
      if (v < 0) {
        bad = true;
        break;
      }
      acc = (acc << 6) | (uint32_t)v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        o[w++] = (char)((acc >> bits) & 0xFF);
      }
    }
    if (bad) {
      if (op == 1)
        return error_set(err, ERR_INCORRECT_DATA, "Failed to decode base64 string '%.*s'", (int)(s.len > 100 ? 100 : s.len), s.ptr);
      w = 0;
    }
    r->chars_len += w;
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_base64(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_base64;
  return 0;
}

/* ======================================================================
 * format('{} {}', a, b)
 * ====================================================================== */

static int exec_format(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                       struct column **out, struct error *err)
{
  uint32_t k = call->arg_count;
  struct column **s = arena_alloc(ev->arena, sizeof *s * k);
  int rc = stringify_args(ev, call, args, 1, rows, s, err);
  if (rc)
    return rc;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice f = sv(args[0], i);
    uint32_t next = 1;
    for (size_t p = 0; p < f.len; p++) {
      char c = f.ptr[p];
      if (c == '{' && p + 1 < f.len && f.ptr[p + 1] == '{') {
        p++;
      } else if (c == '}' && p + 1 < f.len && f.ptr[p + 1] == '}') {
        p++;
      } else if (c == '{') {
        size_t q = p + 1;
        uint32_t idx = 0;
        bool has_idx = false;
        while (q < f.len && f.ptr[q] >= '0' && f.ptr[q] <= '9') {
          idx = idx * 10 + (uint32_t)(f.ptr[q] - '0');
          has_idx = true;
          q++;
        }
        if (q >= f.len || f.ptr[q] != '}')
          return error_set(err, ERR_BAD_ARGUMENTS, "Invalid format string for function format");
        uint32_t a = has_idx ? idx + 1 : next++;
        if (a >= k)
          return error_set(err, ERR_BAD_ARGUMENTS, "Not enough arguments to fill the placeholders in the format string");
        struct slice x = sv(s[a], i);
        col_str_reserve(r, x.len);
        memcpy(r->chars + r->chars_len, x.ptr, x.len);
        r->chars_len += x.len;
        p = q;
        continue;
      }
      col_str_reserve(r, 1);
      r->chars[r->chars_len++] = c;
    }
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_format(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, UINT32_MAX, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_format;
  return 0;
}

/* ======================================================================
 * toValidUTF8, ascii, char
 * ====================================================================== */

static int exec_valid_utf8(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                           struct column **out, struct error *err)
{
  (void)err; (void)call;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    col_str_reserve(r, s.len * 3);
    size_t k = 0;
    bool last_bad = false;
    while (k < s.len) {
      unsigned char c = (unsigned char)s.ptr[k];
      size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
      bool ok = l > 0 && k + l <= s.len;
      for (size_t j = 1; ok && j < l; j++)
        ok = ((unsigned char)s.ptr[k + j] & 0xC0) == 0x80;
      if (ok) {
        memcpy(r->chars + r->chars_len, s.ptr + k, l);
        r->chars_len += l;
        k += l;
        last_bad = false;
      } else {
        if (!last_bad) {
          memcpy(r->chars + r->chars_len, "\xEF\xBF\xBD", 3);
          r->chars_len += 3;
        }
        last_bad = true;
        k++;
      }
    }
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_valid_utf8(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  call->type = type_str();
  call->exec = exec_valid_utf8;
  return 0;
}

static int exec_ascii(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err; (void)call;
  int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++) {
    struct slice s = sv(args[0], i);
    res[i] = s.len ? (unsigned char)s.ptr[0] : 0;
  }
  *out = col_from_i64(ev->arena, datatype_simple(TYPE_INT32), res, rows);
  return 0;
}

int fr_ascii(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if ((rc = need_str(call, 0, err)))
    return rc;
  call->type = datatype_simple(TYPE_INT32);
  call->exec = exec_ascii;
  return 0;
}

static int exec_char(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  (void)err;
  struct column *r = str_out(ev, rows, 0);
  for (uint32_t i = 0; i < rows; i++) {
    col_str_reserve(r, call->arg_count);
    for (uint32_t j = 0; j < call->arg_count; j++)
      r->chars[r->chars_len++] = (char)(get_i64(args[j], i) & 0xFF);
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_char(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, UINT32_MAX, err);
  if (rc)
    return rc;
  for (uint32_t j = 0; j < call->arg_count; j++)
    if (!type_is_number_or_bool(call->arg_types[j]))
      return fn_illegal_type(call, j, err);
  call->type = type_str();
  call->exec = exec_char;
  return 0;
}

/* ======================================================================
 * formatReadable*
 * ====================================================================== */

static void readable(struct buf *b, double v, int op)
{
  static const char *const bin[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB" };
  static const char *const dec[] = { "B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
  static const char *const qty[] = { "", " thousand", " million", " billion", " trillion", " quadrillion",
                                     " quintillion", " sextillion", " septillion" };
  if (op == 3) {
    /* formatReadableTimeDelta: years..seconds */
    static const char *const names[] = { "year", "month", "day", "hour", "minute", "second" };
    static const double secs[] = { 365 * 86400.0, 30 * 86400.0, 86400, 3600, 60, 1 };
    double x = fabs(v);
    bool first = true;
    if (v < 0)
      buf_append_char(b, '-');
    const char *parts[6];
    uint64_t vals[6];
    int np = 0;
    for (int k = 0; k < 6; k++) {
      uint64_t q = (uint64_t)(x / secs[k]);
      if (q) {
        parts[np] = names[k];
        vals[np++] = q;
        x -= (double)q * secs[k];
      }
    }
    if (np == 0) {
      buf_append_cstr(b, "0 seconds");
      return;
    }
    for (int k = 0; k < np; k++) {
      if (!first)
        buf_append_cstr(b, k == np - 1 ? " and " : ", ");
      buf_printf(b, "%llu %s%s", (unsigned long long)vals[k], parts[k], vals[k] == 1 ? "" : "s");
      first = false;
    }
    return;
  }
  double base = op == 0 ? 1024 : 1000;
  int k = 0;
  double x = v;
  while (fabs(x) >= base && k < 8) {
    x /= base;
    k++;
  }
  const char *unit = op == 0 ? bin[k] : op == 1 ? dec[k] : qty[k];
  buf_printf(b, "%.2f%s%s", x, op == 2 ? "" : " ", unit);
}

static int exec_format_readable(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                                struct column **out, struct error *err)
{
  (void)err;
  const double *v = col_as_f64(ev->arena, args[0], rows);
  bool c = args[0]->is_const;
  struct column *r = str_out(ev, rows, 0);
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < rows; i++) {
    buf_reset(&b);
    readable(&b, v[c ? 0 : i], call->def->op);
    col_str_append(r, b.data, b.len);
  }
  buf_free(&b);
  *out = r;
  return 0;
}

int fr_format_readable(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if (!type_is_number_or_bool(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  call->type = type_str();
  call->exec = exec_format_readable;
  return 0;
}
