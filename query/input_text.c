/* Text input: the value parsers every text format shares (plain text,
 * quoted literals, escapes, numbers, dates, UUIDs, enums) and the
 * TabSeparated (+Raw, +WithNames, +WithNamesAndTypes), TSKV, CSV
 * (+WithNames, +WithNamesAndTypes) and Values families. They accept what
 * query/format_text.c writes:
 *   TSV     \b \f \n \r \t \0 \\ \' \xHH escapes (ClickHouse's
 *           parseComplexEscapeSequence: an unknown \c keeps its backslash),
 *           \N for NULL, composites as quoted literals ([1,2], ('a',1)).
 *   CSV     fields "…" with "" for ", or bare; \N NULL; empty = default;
 *           tuples one field per element; composites as "[…]".
 *   Values  (lit, lit), (…) with 'str' (\ escapes and ''), NULL, numbers,
 *           [arrays], (tuples), {maps}.
 * Every parser works on [s, e) and never reads at e; the row end is found
 * first (TSV, Values) or each field reports INPUT_NEED_MORE (CSV). */
#include "query/input_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static bool is_ws(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }
static bool is_ident(char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '_';
}
static char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch; }
static int hex_value(char ch)
{
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

static void skip_ws(const char **sp, const char *e)
{
  const char *s = *sp;
  while (s < e && is_ws(*s))
    s++;
  *sp = s;
}

static bool word_is(const char *s, const char *e, const char *w)
{
  size_t n = strlen(w);
  if ((size_t)(e - s) < n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (lower(s[i]) != w[i])
      return false;
  return true;
}

/* Keyword w (lower case) at s, not followed by an identifier character. */
static bool keyword_at(const char *s, const char *e, const char *w)
{
  size_t n = strlen(w);
  return word_is(s, e, w) && (s + n == e || !is_ident(s[n]));
}

static const char *type_name(struct input_parser *p, const struct datatype *t)
{
  return datatype_name(&p->unit_arena, t);
}

bool input_type_is_numeric_text(const struct datatype *t)
{
  t = datatype_unwrap(t);
  return datatype_is_numeric(t) || datatype_is_date_or_time(t);
}

/* ---- escapes ---- */

/* Decodes the escape sequence at s[0] == '\\' (s + 1 < e) onto d; returns
 * input bytes used and sets *n to output bytes (0..2). */
static size_t escape_one(const char *s, const char *e, char *d, size_t *n)
{
  char c = s[1];
  if (c == 'x' && e - s >= 4 && hex_value(s[2]) >= 0 && hex_value(s[3]) >= 0) {
    d[0] = (char)(hex_value(s[2]) * 16 + hex_value(s[3]));
    *n = 1;
    return 4;
  }
  if (c == 'N') {   /* \N inside a value reads as nothing */
    *n = 0;
    return 2;
  }
  char v;
  switch (c) {
  case 'a': v = '\a'; break;
  case 'b': v = '\b'; break;
  case 'e': v = '\x1b'; break;
  case 'f': v = '\f'; break;
  case 'n': v = '\n'; break;
  case 'r': v = '\r'; break;
  case 't': v = '\t'; break;
  case 'v': v = '\v'; break;
  case '0': v = '\0'; break;
  default: v = c; break;
  }
  /* ClickHouse keeps the backslash of an unknown escape ("100\%"). */
  if (v != '\\' && v != '\'' && v != '"' && v != '`' && v != '/' && !((unsigned char)v < 32 || v == 127)) {
    d[0] = '\\';
    d[1] = v;
    *n = 2;
  } else {
    d[0] = v;
    *n = 1;
  }
  return 2;
}

/* Unescapes [s, e) into d (room for e - s bytes); -1 on a dangling backslash. */
static ptrdiff_t unescape_to(char *d, const char *s, const char *e)
{
  char *d0 = d;
  while (s < e) {
    const char *b = memchr(s, '\\', (size_t)(e - s));
    if (!b) {
      memcpy(d, s, (size_t)(e - s));
      d += e - s;
      break;
    }
    memcpy(d, s, (size_t)(b - s));
    d += b - s;
    if (b + 1 >= e)
      return -1;
    size_t n;
    s = b + escape_one(b, e, d, &n);
    d += n;
  }
  return d - d0;
}

static int escape_error(struct input_parser *p)
{
  return error_set(p->err, ERR_CANNOT_PARSE_ESCAPE_SEQUENCE, "Cannot parse escape sequence");
}

int input_unescape(struct input_parser *p, const char *s, const char *e, struct buf *out)
{
  buf_reserve(out, (size_t)(e - s));
  ptrdiff_t n = unescape_to(out->data + out->len, s, e);
  if (n < 0)
    return escape_error(p);
  out->len += (size_t)n;
  return 0;
}

/* Appends the unescaped [s, e) to a String column. */
static int append_unescaped(struct input_parser *p, struct column *c, const char *s, const char *e)
{
  char *d = input_chars_reserve(c, (size_t)(e - s));
  ptrdiff_t n = unescape_to(d, s, e);
  if (n < 0)
    return escape_error(p);
  input_string_commit(c, (size_t)n);
  return 0;
}

/* ---- numbers ---- */

static int out_of_range(struct input_parser *p, const struct datatype *t, const char *s, const char *e)
{
  return error_set(p->err, ERR_VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE, "Value %.*s is out of range of %s",
                   (int)(e - s > 40 ? 40 : e - s), s, type_name(p, t));
}

static void store_int(struct column *c, uint64_t bits)
{
  size_t w = datatype_fixed_bytes(c->type);
  void *d = input_push_fixed(c, w);
  switch (w) {
  case 1: { uint8_t v = (uint8_t)bits; memcpy(d, &v, 1); break; }
  case 2: { uint16_t v = (uint16_t)bits; memcpy(d, &v, 2); break; }
  case 4: { uint32_t v = (uint32_t)bits; memcpy(d, &v, 4); break; }
  default: memcpy(d, &bits, 8); break;
  }
}

/* Reads [+-]digits; *mag is the magnitude. Returns 0, 1 if no digits were
 * read (nothing consumed) or an error (sign without digits, overflow). */
static int read_digits(struct input_parser *p, const char **sp, const char *e, uint64_t *mag, bool *neg,
                       const struct datatype *t)
{
  const char *s = *sp, *start = s;
  *neg = false;
  if (s < e && (*s == '-' || *s == '+')) {
    *neg = *s == '-';
    s++;
  }
  const char *d = s;
  uint64_t v = 0;
  bool overflow = false;
  for (; s < e && is_digit(*s); s++) {
    uint64_t digit = (uint64_t)(*s - '0');
    if (v > (UINT64_MAX - digit) / 10)
      overflow = true;
    v = v * 10 + digit;
  }
  if (s == d) {
    if (d != start)
      return error_set(p->err, ERR_CANNOT_PARSE_NUMBER, "Cannot parse number without any digits");
    return 1;
  }
  if (overflow)
    return out_of_range(p, t, start, s);
  *sp = s;
  *mag = v;
  return 0;
}

int input_parse_integer(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  const struct datatype *t = c->type;
  const char *start = *sp;
  uint64_t mag;
  bool neg;
  int rc = read_digits(p, sp, e, &mag, &neg, t);
  if (rc == 1) {
    store_int(c, 0);
    return 0;
  }
  if (rc)
    return rc;
  uint64_t bits;
  if (datatype_is_signed(t)) {
    size_t w = datatype_fixed_bytes(t);
    uint64_t max = w == 1 ? 127 : w == 2 ? 32767 : w == 4 ? 2147483647 : (uint64_t)INT64_MAX;
    if (mag > max + (neg ? 1 : 0))
      return out_of_range(p, t, start, *sp);
    bits = neg ? 0 - mag : mag;
  } else {
    if (neg && mag != 0)
      return error_set(p->err, ERR_CANNOT_PARSE_NUMBER, "Unsigned type must not contain '-' symbol");
    size_t w = datatype_fixed_bytes(t);
    uint64_t max = w == 1 ? 255 : w == 2 ? 65535 : w == 4 ? 4294967295u : UINT64_MAX;
    if (mag > max)
      return out_of_range(p, t, start, *sp);
    bits = mag;
  }
  store_int(c, bits);
  return 0;
}

static const double pow10_exact[23] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Scans a float at s: sign, digits, fraction, exponent, or inf/infinity/nan.
 * Returns the end (s if none) and the pieces for the fast path. */
static const char *scan_float(const char *s, const char *e, bool *special, uint64_t *mant, int *digits,
                              int *exp10, bool *neg)
{
  const char *start = s;
  *special = false;
  *neg = false;
  *mant = 0;
  *digits = 0;
  *exp10 = 0;
  if (s < e && (*s == '-' || *s == '+')) {
    *neg = *s == '-';
    s++;
  }
  if (s < e && (lower(*s) == 'i' || lower(*s) == 'n')) {
    const char *w = s;
    if (word_is(w, e, "infinity"))
      s = w + 8;
    else if (word_is(w, e, "inf"))
      s = w + 3;
    else if (word_is(w, e, "nan"))
      s = w + 3;
    else
      return start;
    *special = true;
    return s;
  }
  bool any = false;
  int lead_zeros_dropped = 0;
  for (; s < e && is_digit(*s); s++) {
    any = true;
    if (*mant == 0 && *s == '0') {
      lead_zeros_dropped++;
      continue;
    }
    if (*digits < 19)
      *mant = *mant * 10 + (uint64_t)(*s - '0');
    else
      (*exp10)++;
    (*digits)++;
  }
  if (s < e && *s == '.') {
    const char *f = s + 1;
    for (; f < e && is_digit(*f); f++) {
      any = true;
      if (*mant == 0 && *f == '0') {
        (*exp10)--;
        continue;
      }
      if (*digits < 19) {
        *mant = *mant * 10 + (uint64_t)(*f - '0');
        (*exp10)--;
      }
      (*digits)++;
    }
    if (any)
      s = f;
  }
  if (!any)
    return start;
  if (s < e && (*s == 'e' || *s == 'E')) {
    const char *x = s + 1;
    bool xneg = false;
    if (x < e && (*x == '+' || *x == '-')) {
      xneg = *x == '-';
      x++;
    }
    if (x < e && is_digit(*x)) {
      int ev = 0;
      for (; x < e && is_digit(*x); x++)
        if (ev < 100000)
          ev = ev * 10 + (*x - '0');
      *exp10 += xneg ? -ev : ev;
      s = x;
    }
  }
  (void)lead_zeros_dropped;
  return s;
}

int input_parse_float(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  bool is32 = c->type->id == TYPE_FLOAT32;
  bool special, neg;
  uint64_t mant;
  int digits, exp10;
  const char *s = *sp;
  const char *end = scan_float(s, e, &special, &mant, &digits, &exp10, &neg);
  double v;
  if (end == s) {
    if (s < e && (*s == '-' || *s == '+'))
      return error_set(p->err, ERR_CANNOT_PARSE_NUMBER, "Cannot read floating point value");
    v = 0;
  } else if (special) {
    const char *w = (*s == '-' || *s == '+') ? s + 1 : s;
    v = lower(*w) == 'n' ? NAN : INFINITY;
    if (neg)
      v = -v;
  } else if (mant == 0) {
    v = neg ? -0.0 : 0.0;
  } else if (!is32 && digits <= 15 && exp10 >= -22 && exp10 <= 22) {
    v = exp10 >= 0 ? (double)mant * pow10_exact[exp10] : (double)mant / pow10_exact[-exp10];
    if (neg)
      v = -v;
  } else if (is32 && mant < (1u << 24) && digits <= 7 && exp10 >= -10 && exp10 <= 10) {
    float f = exp10 >= 0 ? (float)mant * (float)pow10_exact[exp10] : (float)mant / (float)pow10_exact[-exp10];
    v = neg ? -(double)f : (double)f;
  } else {
    char tmp[512];
    size_t n = (size_t)(end - s);
    if (n >= sizeof tmp)
      return error_set(p->err, ERR_CANNOT_PARSE_NUMBER, "Cannot read floating point value: too long");
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    v = is32 ? (double)strtof(tmp, NULL) : strtod(tmp, NULL);
  }
  *sp = end;
  void *d = input_push_fixed(c, is32 ? 4 : 8);
  if (is32) {
    float f = (float)v;
    memcpy(d, &f, 4);
  } else {
    memcpy(d, &v, 8);
  }
  return 0;
}

/* ---- bool, uuid, enum ---- */

static int parse_bool(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  static const char *const yes[] = { "true", "t", "y", "yes", "on", "enable", "enabled", "1" };
  static const char *const no[] = { "false", "f", "n", "no", "off", "disable", "disabled", "0" };
  const char *s = *sp, *w = s;
  while (w < e && is_ident(*w))
    w++;
  size_t n = (size_t)(w - s);
  for (int v = 0; v < 2; v++) {
    const char *const *list = v ? yes : no;
    for (size_t i = 0; i < 8; i++)
      if (strlen(list[i]) == n && word_is(s, w, list[i])) {
        uint8_t b = (uint8_t)v;
        memcpy(input_push_fixed(c, 1), &b, 1);
        *sp = w;
        return 0;
      }
  }
  return error_set(p->err, ERR_CANNOT_PARSE_BOOL,
                   "Cannot parse boolean value here: '%.*s', should be 'true' or 'false' controlled by setting "
                   "bool_true_representation and bool_false_representation or one of "
                   "True/False/T/F/Y/N/Yes/No/On/Off/Enable/Disable/Enabled/Disabled/1/0",
                   (int)(e - s > 40 ? 40 : e - s), s);
}

static int parse_uuid(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  const char *s = *sp;
  size_t avail = (size_t)(e - s);
  uint64_t half[2] = { 0, 0 };
  int k = 0;
  const char *q = s;
  bool dashed = avail >= 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-';
  size_t len = dashed ? 36 : 32;
  if (avail < len)
    goto bad;
  for (; q < s + len; q++) {
    if (dashed && (q - s == 8 || q - s == 13 || q - s == 18 || q - s == 23))
      continue;
    int h = hex_value(*q);
    if (h < 0)
      goto bad;
    half[k / 16] = half[k / 16] << 4 | (uint64_t)h;
    k++;
  }
  memcpy(input_push_fixed(c, 16), half, 16);
  *sp = s + len;
  return 0;
bad:
  return error_set(p->err, ERR_CANNOT_PARSE_UUID, "Cannot parse uuid %.*s", (int)(avail > 36 ? 36 : avail), s);
}

static int parse_enum_name(struct input_parser *p, struct column *c, const char *s, const char *e)
{
  const struct datatype *t = c->type;
  size_t n = (size_t)(e - s);
  for (uint32_t i = 0; i < t->enum_count; i++)
    if (strlen(t->names[i]) == n && memcmp(t->names[i], s, n) == 0) {
      store_int(c, (uint64_t)(int64_t)t->enum_values[i]);
      return 0;
    }
  /* Not a name: a number that is a value. */
  const char *q = s;
  uint64_t mag;
  bool neg;
  if (read_digits(p, &q, e, &mag, &neg, t) == 0 && q == e && mag <= 32768) {
    int64_t v = neg ? -(int64_t)mag : (int64_t)mag;
    for (uint32_t i = 0; i < t->enum_count; i++)
      if (t->enum_values[i] == v) {
        store_int(c, (uint64_t)v);
        return 0;
      }
  }
  return error_set(p->err, ERR_UNKNOWN_ELEMENT_OF_ENUM, "Unknown element '%.*s' for enum %s",
                   (int)(n > 100 ? 100 : n), s, type_name(p, t));
}

static int parse_enum_number(struct input_parser *p, struct column *c, int64_t v)
{
  const struct datatype *t = c->type;
  for (uint32_t i = 0; i < t->enum_count; i++)
    if (t->enum_values[i] == v) {
      store_int(c, (uint64_t)v);
      return 0;
    }
  return error_set(p->err, ERR_UNKNOWN_ELEMENT_OF_ENUM, "Unexpected value %lld in enum %s", (long long)v,
                   type_name(p, t));
}

/* ---- dates and times ---- */

static const int64_t pow10_int[19] = {
  1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL, 100000000LL, 1000000000LL,
  10000000000LL, 100000000000LL, 1000000000000LL, 10000000000000LL, 100000000000000LL, 1000000000000000LL,
  10000000000000000LL, 100000000000000000LL, 1000000000000000000LL,
};

/* Reads 1..max digits at s; returns count (0 if none). */
static int read_n(const char *s, const char *e, int max, int *v)
{
  int n = 0, x = 0;
  while (n < max && s + n < e && is_digit(s[n])) {
    x = x * 10 + (s[n] - '0');
    n++;
  }
  *v = x;
  return n;
}

/* YYYY-MM-DD (any non-digit separators, 1–2 digit month/day) or YYYYMMDD.
 * Returns bytes used, 0 if this is not a date. */
static size_t scan_ymd(const char *s, const char *e, int *y, int *m, int *d)
{
  int n = 0;
  while (s + n < e && is_digit(s[n]) && n < 9)
    n++;
  if (n == 8) {
    read_n(s, e, 4, y);
    read_n(s + 4, e, 2, m);
    read_n(s + 6, e, 2, d);
    return 8;
  }
  if (n != 4 || s + 5 > e || is_digit(s[4]))
    return 0;
  read_n(s, e, 4, y);
  const char *q = s + 5;
  int k = read_n(q, e, 2, m);
  if (!k || q + k >= e || is_digit(q[k]))
    return 0;
  q += k + 1;
  k = read_n(q, e, 2, d);
  if (!k)
    return 0;
  return (size_t)(q + k - s);
}

static int date_error(struct input_parser *p, const char *s, const char *e)
{
  return error_set(p->err, ERR_CANNOT_PARSE_DATE, "Cannot parse date here: '%.*s'", (int)(e - s > 30 ? 30 : e - s),
                   s);
}

static int datetime_error(struct input_parser *p, const char *s, const char *e)
{
  return error_set(p->err, ERR_CANNOT_PARSE_DATETIME, "Cannot parse DateTime here: '%.*s'",
                   (int)(e - s > 40 ? 40 : e - s), s);
}

static void store_date(struct column *c, int64_t days)
{
  if (days < 0)
    days = 0;
  if (days > 65535)
    days = 65535;
  uint16_t v = (uint16_t)days;
  memcpy(input_push_fixed(c, 2), &v, 2);
}

static int parse_date(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  const char *s = *sp;
  int y, m, d;
  size_t n = scan_ymd(s, e, &y, &m, &d);
  if (n) {
    if (m < 1 || m > 12 || d < 1 || d > 31)
      return date_error(p, s, s + n);
    store_date(c, civil_days_from_ymd(y, m, d));
    *sp = s + n;
    return 0;
  }
  /* A day number. */
  const char *q = s;
  uint64_t mag;
  bool neg;
  int rc = read_digits(p, &q, e, &mag, &neg, c->type);
  if (rc == 1 || (rc == 0 && q - s > 6))
    return date_error(p, s, e);
  if (rc)
    return rc;
  store_date(c, neg ? 0 : (int64_t)(mag > 65535 ? 65535 : mag));
  *sp = q;
  return 0;
}

/* Date and time in `tz` → seconds and a fraction in 10^-scale ticks. */
struct dt_parts {
  int64_t seconds;
  int64_t frac;        /* ticks of 10^-scale, ≥ 0, added to seconds (or subtracted when negative numeric) */
  bool negative;       /* numeric form with a minus sign: value = -(seconds + frac) */
};

static int parse_datetime_parts(struct input_parser *p, const char **sp, const char *e, const struct time_zone *tz,
                                uint32_t scale, bool want_fraction, struct dt_parts *out)
{
  const char *s = *sp;
  int y, mo, d;
  out->frac = 0;
  out->negative = false;
  size_t n = scan_ymd(s, e, &y, &mo, &d);
  if (n) {
    const char *q = s + n;
    int hh = 0, mi = 0, ss = 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
      return datetime_error(p, s, q);
    /* Time: any one separator (' ', 'T') then hh:mm:ss. */
    if (q + 1 < e && !is_digit(*q) && *q != '\t' && *q != '\n' && *q != ',' && *q != '"' && *q != '\'' &&
        is_digit(q[1])) {
      const char *t = q + 1;
      int k1 = read_n(t, e, 2, &hh);
      if (k1 && t + k1 + 1 < e && t[k1] == ':') {
        const char *t2 = t + k1 + 1;
        int k2 = read_n(t2, e, 2, &mi);
        if (k2 && t2 + k2 + 1 < e && t2[k2] == ':') {
          const char *t3 = t2 + k2 + 1;
          int k3 = read_n(t3, e, 2, &ss);
          if (k3) {
            q = t3 + k3;
          } else {
            return datetime_error(p, s, t3);
          }
        } else if (k2 && p->opts.datetime_best_effort) {
          q = t2 + k2;
        } else {
          return datetime_error(p, s, t2 + k2);
        }
      } else {
        return datetime_error(p, s, t + k1);
      }
      if (hh > 23 || mi > 59 || ss > 60)
        return datetime_error(p, s, q);
    }
    /* Fraction. */
    if ((want_fraction || p->opts.datetime_best_effort) && q + 1 < e && *q == '.' && is_digit(q[1])) {
      q++;
      int64_t f = 0;
      uint32_t k = 0;
      for (; q < e && is_digit(*q); q++, k++)
        if (k < scale)
          f = f * 10 + (*q - '0');
      for (; k < scale; k++)
        f *= 10;
      out->frac = want_fraction ? f : 0;
    }
    int64_t local = civil_days_from_ymd(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss;
    bool offset_given = false;
    int32_t offset = 0;
    if (p->opts.datetime_best_effort && q < e) {
      if (*q == 'Z') {
        offset_given = true;
        q++;
      } else if ((*q == '+' || *q == '-') && q + 3 <= e && is_digit(q[1]) && is_digit(q[2])) {
        int oh = (q[1] - '0') * 10 + (q[2] - '0'), om = 0;
        const char *r = q + 3;
        if (r < e && *r == ':')
          r++;
        if (r + 2 <= e && is_digit(r[0]) && is_digit(r[1])) {
          om = (r[0] - '0') * 10 + (r[1] - '0');
          r += 2;
        }
        offset = (oh * 3600 + om * 60) * (*q == '-' ? -1 : 1);
        offset_given = true;
        q = r;
      }
    }
    out->seconds = offset_given ? local - offset : timezone_local_to_utc(tz, local);
    *sp = q;
    return 0;
  }
  /* Unix timestamp: [-]digits[.digits]. */
  const char *q = s;
  bool neg = false;
  if (q < e && *q == '-') {
    neg = true;
    q++;
  }
  const char *digits = q;
  int64_t v = 0;
  for (; q < e && is_digit(*q); q++) {
    if (v > (INT64_MAX - 9) / 10)
      return datetime_error(p, s, q);
    v = v * 10 + (*q - '0');
  }
  if (q == digits)
    return datetime_error(p, s, e);
  if (want_fraction && q + 1 < e && *q == '.' && is_digit(q[1])) {
    q++;
    int64_t f = 0;
    uint32_t k = 0;
    for (; q < e && is_digit(*q); q++, k++)
      if (k < scale)
        f = f * 10 + (*q - '0');
    for (; k < scale; k++)
      f *= 10;
    out->frac = f;
  }
  out->seconds = v;
  out->negative = neg;
  *sp = q;
  return 0;
}

static void store_datetime(struct column *c, int64_t secs)
{
  if (secs < 0)
    secs = 0;
  if (secs > (int64_t)UINT32_MAX)
    secs = UINT32_MAX;
  uint32_t v = (uint32_t)secs;
  memcpy(input_push_fixed(c, 4), &v, 4);
}

static int store_datetime64(struct input_parser *p, struct column *c, const struct dt_parts *d, const char *s,
                            const char *e)
{
  uint32_t scale = c->type->size <= 9 ? c->type->size : 9;
  int64_t f = pow10_int[scale];
  if (d->seconds > INT64_MAX / f - 1 || d->seconds < INT64_MIN / f + 1)
    return error_set(p->err, ERR_VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE, "DateTime64 value '%.*s' is out of range",
                     (int)(e - s > 40 ? 40 : e - s), s);
  int64_t ticks = d->seconds * f + d->frac;
  if (d->negative)
    ticks = -ticks;
  memcpy(input_push_fixed(c, 8), &ticks, 8);
  return 0;
}

static int parse_datetime(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  struct dt_parts d;
  const char *s = *sp;
  int rc = parse_datetime_parts(p, sp, e, input_zone(p, c->type), 0, false, &d);
  if (rc)
    return rc;
  store_datetime(c, d.negative ? -d.seconds : d.seconds);
  (void)s;
  return 0;
}

static int parse_datetime64(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  struct dt_parts d;
  const char *s = *sp;
  uint32_t scale = c->type->size <= 9 ? c->type->size : 9;
  int rc = parse_datetime_parts(p, sp, e, input_zone(p, c->type), scale, true, &d);
  if (rc)
    return rc;
  return store_datetime64(p, c, &d, s, *sp);
}

int input_datetime_from_number(struct input_parser *p, struct column *c, const char *s, const char *e)
{
  /* Integer: days (Date), seconds (DateTime), ticks (DateTime64); with a
   * fraction: seconds (ClickHouse's decimal literal → DateTime64). */
  bool has_point = memchr(s, '.', (size_t)(e - s)) != NULL;
  enum type_id id = c->type->id;
  const char *q = s;
  if (id == TYPE_DATETIME64 && has_point) {
    struct dt_parts d = { 0, 0, false };
    uint32_t scale = c->type->size <= 9 ? c->type->size : 9;
    bool neg = false;
    if (q < e && (*q == '-' || *q == '+')) {
      neg = *q == '-';
      q++;
    }
    const char *digits = q;
    for (; q < e && is_digit(*q); q++) {
      if (d.seconds > (INT64_MAX - 9) / 10)
        return datetime_error(p, s, e);
      d.seconds = d.seconds * 10 + (*q - '0');
    }
    if (q < e && *q == '.') {
      q++;
      uint32_t k = 0;
      for (; q < e && is_digit(*q); q++, k++)
        if (k < scale)
          d.frac = d.frac * 10 + (*q - '0');
      for (; k < scale; k++)
        d.frac *= 10;
    }
    if (q != e || q == digits)
      return datetime_error(p, s, e);
    d.negative = neg;
    return store_datetime64(p, c, &d, s, e);
  }
  uint64_t mag;
  bool neg;
  int rc = read_digits(p, &q, e, &mag, &neg, c->type);
  if (rc == 1 || (rc == 0 && q != e))
    return id == TYPE_DATE ? date_error(p, s, e) : datetime_error(p, s, e);
  if (rc)
    return rc;
  if (mag > (uint64_t)INT64_MAX)
    return out_of_range(p, c->type, s, e);
  int64_t v = neg ? -(int64_t)mag : (int64_t)mag;
  if (id == TYPE_DATE)
    store_date(c, v);
  else if (id == TYPE_DATETIME)
    store_datetime(c, v);
  else
    memcpy(input_push_fixed(c, 8), &v, 8);
  return 0;
}

/* ---- plain text ---- */

static int append_fixed_string(struct input_parser *p, struct column *c, const char *s, size_t n)
{
  if (n > c->type->size)
    return error_set(p->err, ERR_TOO_LARGE_STRING_SIZE, "Too large value for FixedString(%u)", c->type->size);
  char *d = input_push_fixed(c, c->type->size);
  if (n)
    memcpy(d, s, n);
  memset(d + n, 0, c->type->size - n);
  return 0;
}

int input_text_plain(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  int rc;
  switch (c->type->id) {
  case TYPE_NULLABLE:
    if ((rc = input_text_plain(p, c->children[0], sp, e)))
      return rc;
    column_mark_not_null(c);
    return 0;
  case TYPE_LOW_CARDINALITY: {
    struct column *sc = input_scratch(p, c->type->children[0]);
    if ((rc = input_text_plain(p, sc, sp, e)))
      return rc;
    input_lc_commit(p, c, sc);
    return 0;
  }
  case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64: case TYPE_INTERVAL:
    return input_parse_integer(p, c, sp, e);
  case TYPE_FLOAT32: case TYPE_FLOAT64:
    return input_parse_float(p, c, sp, e);
  case TYPE_BOOL:
    return parse_bool(p, c, sp, e);
  case TYPE_STRING:
    input_append_string(c, *sp, (size_t)(e - *sp));
    *sp = e;
    return 0;
  case TYPE_FIXED_STRING:
    if ((rc = append_fixed_string(p, c, *sp, (size_t)(e - *sp))))
      return rc;
    *sp = e;
    return 0;
  case TYPE_DATE:
    return parse_date(p, c, sp, e);
  case TYPE_DATETIME:
    return parse_datetime(p, c, sp, e);
  case TYPE_DATETIME64:
    return parse_datetime64(p, c, sp, e);
  case TYPE_UUID:
    return parse_uuid(p, c, sp, e);
  case TYPE_ENUM8: case TYPE_ENUM16:
    if ((rc = parse_enum_name(p, c, *sp, e)))
      return rc;
    *sp = e;
    return 0;
  case TYPE_ARRAY: case TYPE_MAP: case TYPE_TUPLE: case TYPE_NESTED:
    return input_text_quoted(p, c, sp, e);
  case TYPE_NOTHING:
  default:
    return error_set(p->err, ERR_CANNOT_PARSE_TEXT, "Cannot parse a value of type %s", type_name(p, c->type));
  }
}

int input_text_whole(struct input_parser *p, struct column *c, const char *s, const char *e, const char *expect)
{
  const char *q = s;
  int rc = input_text_plain(p, c, &q, e);
  if (rc)
    return rc;
  if (q != e)
    return input_error_expected(p, expect, q, e);
  return 0;
}

/* ---- quoted literals ---- */

/* s at an opening quote q: finds the closing quote (backslash escapes, qq
 * doubling). Returns it or NULL; *plain = no escapes or doubling inside. */
static const char *quoted_end(const char *s, const char *e, char q, bool *plain)
{
  *plain = true;
  for (s++; s < e; s++) {
    if (*s == '\\') {
      *plain = false;
      s++;
      continue;
    }
    if (*s == q) {
      if (s + 1 < e && s[1] == q) {
        *plain = false;
        s++;
        continue;
      }
      return s;
    }
  }
  return NULL;
}

/* Decodes the quoted string body (s, close) into d; returns bytes. */
static size_t quoted_decode(char *d, const char *s, const char *close, char q)
{
  char *d0 = d;
  while (s < close) {
    if (*s == '\\' && s + 1 < close) {
      size_t n;
      s += escape_one(s, close, d, &n);
      d += n;
    } else if (*s == q) {   /* doubled quote */
      *d++ = q;
      s += 2;
    } else {
      *d++ = *s++;
    }
  }
  return (size_t)(d - d0);
}

static int quoted_string_error(struct input_parser *p)
{
  return error_set(p->err, ERR_CANNOT_PARSE_QUOTED_STRING, "Cannot parse quoted string: expected closing quote");
}

/* Reads 'text' at *sp into p->tmp (decoded); *sp after the closing quote. */
/* Reads 'text' at *sp, decoded into the per-row arena (callers may nest:
 * a quoted value can hold composites whose elements are quoted again). */
static int read_quoted(struct input_parser *p, const char **sp, const char *e, const char **out, size_t *len)
{
  bool plain;
  const char *close = quoted_end(*sp, e, '\'', &plain);
  if (!close)
    return quoted_string_error(p);
  if (plain) {
    *out = *sp + 1;
    *len = (size_t)(close - *sp - 1);
  } else {
    char *d = arena_alloc(&p->unit_arena, (size_t)(close - *sp));
    *len = quoted_decode(d, *sp + 1, close, '\'');
    *out = d;
  }
  *sp = close + 1;
  return 0;
}

/* A bare numeric token: [+-]digits[.digits][e±digits]. */
static const char *number_token_end(const char *s, const char *e)
{
  const char *q = s;
  if (q < e && (*q == '-' || *q == '+'))
    q++;
  while (q < e && (is_digit(*q) || *q == '.'))
    q++;
  if (q < e && (*q == 'e' || *q == 'E')) {
    const char *x = q + 1;
    if (x < e && (*x == '-' || *x == '+'))
      x++;
    if (x < e && is_digit(*x)) {
      while (x < e && is_digit(*x))
        x++;
      q = x;
    }
  }
  return q;
}

static int expect_char(struct input_parser *p, const char **sp, const char *e, char ch)
{
  skip_ws(sp, e);
  if (*sp < e && **sp == ch) {
    (*sp)++;
    return 0;
  }
  char what[2] = { ch, 0 };
  return input_error_expected(p, what, *sp, e);
}

static int quoted_array(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  const char *s = *sp;
  int rc;
  if (s >= e || *s != '[')
    return error_set(p->err, ERR_CANNOT_READ_ARRAY_FROM_TEXT, "Array does not start with '[' character");
  s++;
  skip_ws(&s, e);
  if (s < e && *s == ']') {
    s++;
  } else {
    for (;;) {
      if ((rc = input_text_quoted(p, c->children[0], &s, e)))
        return rc;
      skip_ws(&s, e);
      if (s < e && *s == ',') {
        s++;
        continue;
      }
      if (s < e && *s == ']') {
        s++;
        break;
      }
      if (s >= e)
        return error_set(p->err, ERR_CANNOT_READ_ARRAY_FROM_TEXT,
                         "Cannot read array from text, expected comma or end of array, found end of stream");
      return error_set(p->err, ERR_CANNOT_READ_ARRAY_FROM_TEXT,
                       "Cannot read array from text, expected comma or end of array, found '%c'", *s);
    }
  }
  column_close_array_row(c);
  *sp = s;
  return 0;
}

static int quoted_map(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  const char *s = *sp;
  int rc;
  if ((rc = expect_char(p, &s, e, '{')))
    return rc;
  skip_ws(&s, e);
  if (s < e && *s == '}') {
    s++;
  } else {
    for (;;) {
      if ((rc = input_text_quoted(p, c->children[0], &s, e)) || (rc = expect_char(p, &s, e, ':')) ||
          (rc = input_text_quoted(p, c->children[1], &s, e)))
        return rc;
      skip_ws(&s, e);
      if (s < e && *s == ',') {
        s++;
        continue;
      }
      if ((rc = expect_char(p, &s, e, '}')))
        return rc;
      break;
    }
  }
  column_close_array_row(c);
  *sp = s;
  return 0;
}

static int quoted_tuple(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  const char *s = *sp;
  int rc;
  if ((rc = expect_char(p, &s, e, '(')))
    return rc;
  for (uint32_t i = 0; i < c->child_count; i++) {
    if (i && (rc = expect_char(p, &s, e, ',')))
      return rc;
    if ((rc = input_text_quoted(p, c->children[i], &s, e)))
      return rc;
  }
  if ((rc = expect_char(p, &s, e, ')')))
    return rc;
  column_close_tuple_row(c);
  *sp = s;
  return 0;
}

int input_text_quoted(struct input_parser *p, struct column *c, const char **sp, const char *e)
{
  int rc;
  const char *qs;
  size_t qn;
  skip_ws(sp, e);
  const char *s = *sp;
  const struct datatype *t = c->type;
  if (s < e && (*s == 'N' || *s == 'n') && keyword_at(s, e, "null")) {
    if ((rc = input_append_null(p, c)))
      return rc;
    *sp = s + 4;
    return 0;
  }
  switch (t->id) {
  case TYPE_NULLABLE:
    if ((rc = input_text_quoted(p, c->children[0], sp, e)))
      return rc;
    column_mark_not_null(c);
    return 0;
  case TYPE_LOW_CARDINALITY: {
    struct column *sc = input_scratch(p, t->children[0]);
    if ((rc = input_text_quoted(p, sc, sp, e)))
      return rc;
    input_lc_commit(p, c, sc);
    return 0;
  }
  case TYPE_ARRAY:
    return quoted_array(p, c, sp, e);
  case TYPE_MAP:
    return quoted_map(p, c, sp, e);
  case TYPE_TUPLE:
  case TYPE_NESTED:
    return quoted_tuple(p, c, sp, e);
  case TYPE_STRING: {
    if (s >= e || *s != '\'') {
      /* A bare number reads as its text (as ClickHouse's Values does). */
      const char *q = number_token_end(s, e);
      bool digits = false;
      for (const char *r = s; r < q && !digits; r++)
        digits = is_digit(*r);
      if (!digits || (q < e && is_ident(*q)))
        return input_error_expected(p, "'", s, e);
      input_append_string(c, s, (size_t)(q - s));
      *sp = q;
      return 0;
    }
    bool plain;
    const char *close = quoted_end(s, e, '\'', &plain);
    if (!close)
      return quoted_string_error(p);
    if (plain) {
      input_append_string(c, s + 1, (size_t)(close - s - 1));
    } else {
      char *d = input_chars_reserve(c, (size_t)(close - s));
      input_string_commit(c, quoted_decode(d, s + 1, close, '\''));
    }
    *sp = close + 1;
    return 0;
  }
  case TYPE_FIXED_STRING:
    if (s >= e || *s != '\'')
      return input_error_expected(p, "'", s, e);
    if ((rc = read_quoted(p, sp, e, &qs, &qn)))
      return rc;
    return append_fixed_string(p, c, qs, qn);
  case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64: case TYPE_INTERVAL:
  case TYPE_FLOAT32: case TYPE_FLOAT64: case TYPE_BOOL:
    if (s < e && *s == '\'') {
      if ((rc = read_quoted(p, sp, e, &qs, &qn)))
        return rc;
      return input_text_whole(p, c, qs, qs + qn, "'");
    }
    if (t->id == TYPE_BOOL && !(s < e && is_ident(*s)))
      return error_set(p->err, ERR_CANNOT_PARSE_BOOL, "Cannot parse boolean value here: '%.*s'",
                       (int)(e - s > 20 ? 20 : e - s), s);
    if (t->id == TYPE_BOOL)
      return parse_bool(p, c, sp, e);
    if (datatype_is_float(t))
      return input_parse_float(p, c, sp, e);
    if ((rc = input_parse_integer(p, c, sp, e)))
      return rc;
    if (*sp == s)
      return input_error_expected(p, ",", s, e);   /* nothing numeric here */
    return 0;
  case TYPE_DATE: case TYPE_DATETIME: case TYPE_DATETIME64: case TYPE_UUID: case TYPE_ENUM8: case TYPE_ENUM16:
    if (s < e && *s == '\'') {
      if ((rc = read_quoted(p, sp, e, &qs, &qn)))
        return rc;
      return input_text_whole(p, c, qs, qs + qn, "'");
    }
    if (t->id != TYPE_UUID && s < e && (is_digit(*s) || *s == '-' || *s == '+')) {
      const char *q = number_token_end(s, e);
      if (t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16) {
        uint64_t mag;
        bool neg;
        const char *r = s;
        if (read_digits(p, &r, q, &mag, &neg, t) != 0 || r != q || mag > 32768)
          return input_error_expected(p, "'", s, e);
        rc = parse_enum_number(p, c, neg ? -(int64_t)mag : (int64_t)mag);
      } else {
        rc = input_datetime_from_number(p, c, s, q);
      }
      if (rc)
        return rc;
      *sp = q;
      return 0;
    }
    return input_error_expected(p, "'", s, e);
  case TYPE_NOTHING:
  default:
    return input_error_expected(p, "NULL", s, e);
  }
}

/* ================= TabSeparated ================= */

struct tsv_state {
  bool raw;
  bool checked_cr;
};

/* First '\t' or '\\' in [s, lim), or lim. Eight bytes at a time. */
static const char *scan_tab_backslash(const char *s, const char *lim)
{
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  while (lim - s >= 8) {
    uint64_t x;
    memcpy(&x, s, 8);
    uint64_t t = x ^ (ones * '\t'), b = x ^ (ones * '\\');
    uint64_t m = (((t - ones) & ~t) | ((b - ones) & ~b)) & highs;
    if (m)
      return s + (__builtin_ctzll(m) >> 3);
    s += 8;
  }
  while (s < lim && *s != '\t' && *s != '\\')
    s++;
  return s;
}

/* End of the field at s: the first unescaped '\t', or lim. */
static const char *tsv_field_end(const char *s, const char *lim, bool raw, bool *escaped)
{
  *escaped = false;
  if (raw) {
    const char *t = memchr(s, '\t', (size_t)(lim - s));
    return t ? t : lim;
  }
  for (;;) {
    s = scan_tab_backslash(s, lim);
    if (s >= lim || *s == '\t')
      return s;
    *escaped = true;
    s += 2;   /* a backslash pairs with the next byte, even a tab */
    if (s > lim)
      return lim;
  }
}

/* The '\n' ending the row that starts at row (an escaped "\<LF>" does not). */
static const char *tsv_row_end(const char *row, const char *e, bool raw)
{
  const char *s = row;
  for (;;) {
    const char *nl = memchr(s, '\n', (size_t)(e - s));
    if (!nl || raw)
      return nl;
    const char *b = nl;
    while (b > row && b[-1] == '\\')
      b--;
    if (((nl - b) & 1) == 0)
      return nl;
    s = nl + 1;
  }
}

static bool is_tsv_null(const char *s, const char *lim)
{
  return lim - s >= 2 && s[0] == '\\' && s[1] == 'N' && (s + 2 == lim || s[2] == '\t');
}

static int tsv_value(struct input_parser *p, struct column *c, const char **sp, const char *lim, bool raw)
{
  const char *s = *sp;
  int rc;
  bool escaped;
  switch (c->type->id) {
  case TYPE_STRING: {
    const char *q = raw ? tsv_field_end(s, lim, true, &escaped) : scan_tab_backslash(s, lim);
    if (q == lim || *q == '\t') {
      input_append_string(c, s, (size_t)(q - s));
      *sp = q;
      return 0;
    }
    const char *fe = tsv_field_end(s, lim, false, &escaped);
    if ((rc = append_unescaped(p, c, s, fe)))
      return rc;
    *sp = fe;
    return 0;
  }
  case TYPE_NULLABLE:
    if (is_tsv_null(s, lim)) {
      column_append_null(c);
      *sp = s + 2;
      return 0;
    }
    if ((rc = tsv_value(p, c->children[0], sp, lim, raw)))
      return rc;
    column_mark_not_null(c);
    return 0;
  case TYPE_LOW_CARDINALITY: {
    if (is_tsv_null(s, lim) && input_type_is_nullable(c->type)) {
      column_append_null(c);
      *sp = s + 2;
      return 0;
    }
    struct column *sc = input_scratch(p, c->type->children[0]);
    if ((rc = tsv_value(p, sc, sp, lim, raw)))
      return rc;
    input_lc_commit(p, c, sc);
    return 0;
  }
  case TYPE_FIXED_STRING:
  case TYPE_ENUM8:
  case TYPE_ENUM16: {
    const char *fe = tsv_field_end(s, lim, raw, &escaped);
    if (escaped) {
      buf_reset(&p->tmp);
      if ((rc = input_unescape(p, s, fe, &p->tmp)))
        return rc;
      const char *t = p->tmp.data ? p->tmp.data : "";
      if ((rc = input_text_whole(p, c, t, t + p->tmp.len, "\t")))
        return rc;
    } else if ((rc = input_text_whole(p, c, s, fe, "\t"))) {
      return rc;
    }
    *sp = fe;
    return 0;
  }
  case TYPE_ARRAY:
  case TYPE_MAP:
  case TYPE_TUPLE:
  case TYPE_NESTED:
    /* The field, then its quoted-literal text (a tab never belongs to it). */
    return input_text_quoted(p, c, sp, tsv_field_end(s, lim, raw, &escaped));
  default:
    return input_text_plain(p, c, sp, lim);
  }
}

static const char *tsv_header_row(struct input_parser *p, struct input_cursor *c, const char **lim_out, int *rc)
{
  struct tsv_state *st = p->state;
  const char *nl = tsv_row_end(c->p, c->end, st->raw);
  *rc = 0;
  if (!nl && !c->eof) {
    *rc = INPUT_NEED_MORE;
    return NULL;
  }
  *lim_out = nl ? nl : c->end;
  return nl ? nl + 1 : c->end;
}

/* Splits a header row into unescaped names in the parser arena. */
static uint32_t tsv_split_header(struct input_parser *p, const char *s, const char *lim, const char ***names,
                                 size_t **lens, int *rc)
{
  struct tsv_state *st = p->state;
  uint32_t n = 1;
  bool escaped;
  for (const char *q = s;;) {
    q = tsv_field_end(q, lim, st->raw, &escaped);
    if (q >= lim)
      break;
    n++;
    q++;
  }
  *names = arena_new_array(p->arena, const char *, n);
  *lens = arena_new_array(p->arena, size_t, n);
  *rc = 0;
  for (uint32_t i = 0; i < n; i++) {
    const char *fe = tsv_field_end(s, lim, st->raw, &escaped);
    if (escaped) {
      buf_reset(&p->tmp);
      if ((*rc = input_unescape(p, s, fe, &p->tmp)))
        return 0;
      (*names)[i] = arena_strndup(p->arena, p->tmp.data ? p->tmp.data : "", p->tmp.len);
      (*lens)[i] = p->tmp.len;
    } else {
      (*names)[i] = arena_strndup(p->arena, s, (size_t)(fe - s));
      (*lens)[i] = (size_t)(fe - s);
    }
    s = fe + 1;
  }
  return n;
}

static const char bom[3] = { '\xEF', '\xBB', '\xBF' };

/* Skips a UTF-8 byte-order mark; INPUT_NEED_MORE while undecided. */
static int skip_bom(struct input_cursor *c)
{
  size_t n = (size_t)(c->end - c->p);
  size_t k = n < 3 ? n : 3;
  if (memcmp(c->p, bom, k) != 0)
    return 0;
  if (k < 3)
    return c->eof ? 0 : INPUT_NEED_MORE;
  c->p += 3;
  return 0;
}

static int tsv_prefix(struct input_parser *p, struct input_cursor *c)
{
  struct tsv_state *st = p->state;
  int rc;
  if (!st) {
    st = p->state = arena_new(p->arena, struct tsv_state);
    st->raw = (p->desc->flags & IF_RAW) != 0;
  }
  if ((rc = skip_bom(c)))
    return rc;
  if (p->desc->flags & IF_NAMES) {
    const char *lim;
    const char *next = tsv_header_row(p, c, &lim, &rc);
    if (rc)
      return rc;
    const char *names_row = c->p, *names_lim = lim;
    const char *types_row = NULL, *types_lim = NULL;
    if (p->desc->flags & IF_TYPES) {
      struct input_cursor c2 = { next, c->end, c->eof };
      const char *next2 = tsv_header_row(p, &c2, &types_lim, &rc);
      if (rc)
        return rc;
      types_row = next;
      next = next2;
    }
    const char **names;
    size_t *lens;
    uint32_t n = tsv_split_header(p, names_row, names_lim, &names, &lens, &rc);
    if (rc || (rc = input_map_header(p, n, names, lens)))
      return rc;
    if (types_row) {
      n = tsv_split_header(p, types_row, types_lim, &names, &lens, &rc);
      if (rc || (rc = input_check_header_types(p, n, names, lens)))
        return rc;
    }
    c->p = next;
  }
  p->diag.enabled = true;
  p->diag.delim = '\t';
  return 0;
}

static int tsv_row(struct input_parser *p, struct input_cursor *c)
{
  struct tsv_state *st = p->state;
  if (!st) {
    int rc = tsv_prefix(p, c);
    if (rc)
      return rc;
    st = p->state;
  }
  if (c->p >= c->end)
    return c->eof ? INPUT_END : INPUT_NEED_MORE;
  const char *row = c->p;
  const char *nl = tsv_row_end(row, c->end, st->raw);
  if (!nl && !c->eof)
    return INPUT_NEED_MORE;
  const char *lim = nl ? nl : c->end;
  const char *shown = nl ? nl + 1 : lim;
  p->diag.lim = lim;
  p->diag.buf_end = shown;
  if (!st->checked_cr) {
    st->checked_cr = true;
    if (lim > row && lim[-1] == '\r' && nl)
      return error_set(p->err, ERR_INCORRECT_DATA,
                       "\nYou have carriage return (\\r, 0x0D, ASCII 13) at end of first row.\nIt's like your "
                       "input data has DOS/Windows style line separators, that are illegal in TabSeparated "
                       "format. You must transform your file to Unix format.\nBut if you really need carriage "
                       "return at end of string value of last column, you need to escape it as \\r.");
  }
  const char *s = row;
  int rc;
  uint32_t nf = p->field_count;
  for (uint32_t f = 0; f < nf; f++) {
    int32_t col = p->field_column[f];
    const char *fs = s;
    bool escaped;
    if (col < 0) {
      s = tsv_field_end(s, lim, st->raw, &escaped);
    } else if (p->opts.tsv_empty_as_default && (s == lim || *s == '\t')) {
      input_append_omitted(p, (uint32_t)col);
    } else {
      struct column *cc = p->cols[col];
      const struct datatype *t = cc->type;
      if (is_tsv_null(s, lim) && !input_type_is_nullable(t)) {
        if ((rc = input_append_null(p, cc))) {
          input_diag_fail(p, DIAG_VALUE, f, col, fs, s + 2);
          return rc;
        }
        s += 2;
      } else if ((rc = tsv_value(p, cc, &s, lim, st->raw))) {
        input_diag_fail(p, DIAG_VALUE, f, col, fs, tsv_field_end(fs, lim, st->raw, &escaped));
        return rc;
      }
    }
    input_diag_field(p, f, col, fs, s);
    if (f + 1 < nf) {
      if (s < lim && *s == '\t') {
        s++;
        continue;
      }
      input_diag_fail(p, DIAG_FIELD_DELIM, f, col, fs, s);
      return input_error_expected(p, "\t", s, shown);
    }
  }
  if (s != lim) {
    input_diag_fail(p, DIAG_ROW_END, nf, -1, s, s);
    return input_error_expected(p, "\n", s, shown);
  }
  if (p->unmapped)
    input_fill_unseen(p);
  c->p = nl ? nl + 1 : lim;
  return 0;
}

static int skip_line(struct input_parser *p, struct input_cursor *c)
{
  struct tsv_state *st = p->state;
  const char *nl = tsv_row_end(c->p, c->end, st ? st->raw : true);
  if (!nl) {
    if (!c->eof)
      return INPUT_NEED_MORE;
    c->p = c->end;
    return 0;
  }
  c->p = nl + 1;
  return 0;
}

const struct input_family input_family_tsv = { tsv_prefix, tsv_row, skip_line };

/* ================= TSKV ================= */

static int tskv_prefix(struct input_parser *p, struct input_cursor *c)
{
  if (!p->state)
    p->state = arena_new(p->arena, struct tsv_state);
  for (uint32_t i = 0; i < p->column_count; i++)
    p->seen[i] = false;
  return skip_bom(c);
}

static int tskv_row(struct input_parser *p, struct input_cursor *c)
{
  if (c->p >= c->end)
    return c->eof ? INPUT_END : INPUT_NEED_MORE;
  const char *row = c->p;
  const char *nl = tsv_row_end(row, c->end, false);
  if (!nl && !c->eof)
    return INPUT_NEED_MORE;
  const char *lim = nl ? nl : c->end;
  memset(p->seen, 0, p->column_count * sizeof *p->seen);
  const char *s = row;
  int rc;
  while (s < lim) {
    bool escaped;
    const char *fe = tsv_field_end(s, lim, false, &escaped);
    /* key up to an unescaped '=' */
    const char *eq = s;
    while (eq < fe && *eq != '=') {
      if (*eq == '\\')
        eq++;
      eq++;
    }
    if (eq >= fe) {
      if (fe - s == 4 && memcmp(s, "tskv", 4) == 0) {
        s = fe < lim ? fe + 1 : fe;
        continue;
      }
      return error_set(p->err, ERR_INCORRECT_DATA, "Found field without value while parsing TSKV format: %.*s",
                       (int)(fe - s > 100 ? 100 : fe - s), s);
    }
    /* The key: "\=" is '=', other escapes as in values. */
    buf_reset(&p->tmp);
    for (const char *k = s; k < eq;) {
      const char *b = k;
      while (b < eq && !(b[0] == '\\' && b + 1 < eq && b[1] == '='))
        b++;
      if ((rc = input_unescape(p, k, b, &p->tmp)))
        return rc;
      if (b < eq) {
        buf_append_char(&p->tmp, '=');
        b += 2;
      }
      k = b;
    }
    const char *key = p->tmp.data ? p->tmp.data : "";
    size_t klen = p->tmp.len;
    int32_t col = input_column_index(p, key, klen);
    const char *v = eq + 1;
    if (col < 0) {
      if (!p->opts.skip_unknown_fields)
        return error_set(p->err, ERR_INCORRECT_DATA, "Unknown field found while parsing TSKV format: %.*s",
                         (int)(klen > 200 ? 200 : klen), key);
    } else {
      if (p->seen[col])
        return error_set(p->err, ERR_INCORRECT_DATA, "Duplicate field found while parsing TSKV format: %.*s",
                         (int)(klen > 200 ? 200 : klen), key);
      p->seen[col] = true;
      struct column *cc = p->cols[col];
      const char *q = v;
      if (is_tsv_null(q, fe) && !input_type_is_nullable(cc->type)) {
        if ((rc = input_append_null(p, cc)))
          return rc;
        q += 2;
      } else if ((rc = tsv_value(p, cc, &q, fe, false))) {
        p->diag.context = arena_printf(&p->unit_arena, "(while reading the value of key %s)", p->names[col]);
        return rc;
      }
      if (q != fe) {
        p->diag.context = arena_printf(&p->unit_arena, "(while reading the value of key %s)", p->names[col]);
        return input_error_expected(p, "\t", q, nl ? nl + 1 : lim);
      }
    }
    s = fe < lim ? fe + 1 : fe;
  }
  input_fill_unseen(p);
  c->p = nl ? nl + 1 : lim;
  return 0;
}

const struct input_family input_family_tskv = { tskv_prefix, tskv_row, skip_line };

/* ================= CSV ================= */

struct csv_field {
  const char *s, *e;        /* contents (between quotes when quoted) */
  const char *raw;          /* first byte of the field (diagnostics) */
  bool quoted;
  bool doubled;             /* contains "" (needs unquoting) */
  char quote;
};

/* Reads one field at *sp (which moves to the delimiter / line end). */
static int csv_field(struct input_parser *p, struct input_cursor *c, const char **sp, struct csv_field *f)
{
  const char *s = *sp, *e = c->end;
  char delim = p->opts.csv_delimiter;
  bool trim = p->opts.csv_trim_whitespaces && delim != ' ' && delim != '\t';
  if (trim)
    while (s < e && (*s == ' ' || *s == '\t'))
      s++;
  f->raw = s;
  f->quoted = false;
  f->doubled = false;
  if (s < e && ((*s == '"' && p->opts.csv_allow_double_quotes) || (*s == '\'' && p->opts.csv_allow_single_quotes))) {
    char q = *s;
    const char *r = s + 1;
    for (;;) {
      const char *x = memchr(r, q, (size_t)(e - r));
      if (!x) {
        if (!c->eof)
          return INPUT_NEED_MORE;
        char what[2] = { q, 0 };
        return input_error_expected(p, what, e, e);
      }
      if (x + 1 < e && x[1] == q) {
        f->doubled = true;
        r = x + 2;
        continue;
      }
      if (x + 1 == e && !c->eof)
        return INPUT_NEED_MORE;   /* "" may follow */
      f->quoted = true;
      f->quote = q;
      f->s = s + 1;
      f->e = x;
      s = x + 1;
      break;
    }
    if (trim)
      while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    if (s >= e && !c->eof)
      return INPUT_NEED_MORE;
    *sp = s;
    return 0;
  }
  const char *r = s;
  while (r < e && *r != delim && *r != '\n' && *r != '\r')
    r++;
  if (r >= e && !c->eof)
    return INPUT_NEED_MORE;
  const char *fe = r;
  if (trim)
    while (fe > s && (fe[-1] == ' ' || fe[-1] == '\t'))
      fe--;
  f->s = s;
  f->e = fe;
  *sp = r;
  return 0;
}

/* Contents of a field without its quoting ("" → "). */
static void csv_contents(struct input_parser *p, const struct csv_field *f, const char **s, const char **e)
{
  if (!f->doubled) {
    *s = f->s;
    *e = f->e;
    return;
  }
  char *d0 = arena_alloc(&p->unit_arena, (size_t)(f->e - f->s) + 1), *d = d0;
  for (const char *q = f->s; q < f->e; q++) {
    *d++ = *q;
    if (*q == f->quote && q + 1 < f->e && q[1] == f->quote)
      q++;
  }
  *s = d0;
  *e = d;
}

/* Converts a field to a value. On leftover bytes after a value read from
 * the buffer itself, *stop points at them (for the diagnostic). */
static int csv_convert(struct input_parser *p, struct column *c, const struct csv_field *f, int32_t top,
                       const char *buf_end, const char **stop)
{
  *stop = NULL;
  bool empty = f->s == f->e && !f->quoted;
  bool null = !f->quoted && f->e - f->s == 2 && f->s[0] == '\\' && f->s[1] == 'N';
  if (empty && p->opts.csv_empty_as_default) {
    if (top >= 0)
      input_append_omitted(p, (uint32_t)top);
    else
      column_append_default(c);
    return 0;
  }
  if (null)
    return input_append_null(p, c);
  const char *s, *e;
  csv_contents(p, f, &s, &e);
  if (c->type->id == TYPE_STRING) {
    input_append_string(c, s, (size_t)(e - s));
    return 0;
  }
  const char *q = s;
  int rc = input_text_plain(p, c, &q, e);
  if (rc)
    return rc;
  if (q != e) {
    char what[2] = { f->quoted ? f->quote : p->opts.csv_delimiter, 0 };
    if (!f->doubled)
      *stop = q;
    return input_error_expected(p, what, q, f->quoted || f->doubled ? e : buf_end);
  }
  return 0;
}

/* Checks and skips what follows a field: the delimiter (more to come) or
 * the line end. */
static int csv_after_field(struct input_parser *p, struct input_cursor *c, const char **sp, bool last)
{
  const char *s = *sp, *e = c->end;
  char delim = p->opts.csv_delimiter;
  if (!last) {
    if (s < e && *s == delim) {
      *sp = s + 1;
      return 0;
    }
    if (s >= e && !c->eof)
      return INPUT_NEED_MORE;
    char what[2] = { delim, 0 };
    return input_error_expected(p, what, s, e);
  }
  if (s >= e)
    return c->eof ? 0 : INPUT_NEED_MORE;
  if (*s == '\n') {
    *sp = s + 1;
    return 0;
  }
  if (*s == '\r') {
    if (s + 1 >= e)
      return c->eof ? (*sp = s + 1, 0) : INPUT_NEED_MORE;
    if (s[1] == '\n') {
      *sp = s + 2;
      return 0;
    }
    return error_set(p->err, ERR_INCORRECT_DATA,
                     "Cannot parse CSV format: found \\r (CR) not followed by \\n (LF). Line must end by \\n (LF) "
                     "or \\r\\n (CR LF).");
  }
  return error_set(p->err, ERR_INCORRECT_DATA, "Expected end of line");
}

/* One value: a field, or for a Tuple one field per element. */
static int csv_value(struct input_parser *p, struct input_cursor *c, struct column *cc, const char **sp, bool last,
                     int32_t top, uint32_t field)
{
  int rc;
  if (cc->type->id == TYPE_TUPLE) {
    for (uint32_t i = 0; i < cc->child_count; i++) {
      bool el_last = last && i + 1 == cc->child_count;
      if ((rc = csv_value(p, c, cc->children[i], sp, el_last, -1, field)))
        return rc;
      if (i + 1 < cc->child_count && (rc = csv_after_field(p, c, sp, false)))
        return rc;
    }
    column_close_tuple_row(cc);
    return 0;
  }
  struct csv_field f;
  const char *start = *sp;
  if ((rc = csv_field(p, c, sp, &f)))
    return rc;
  const char *stop;
  if ((rc = csv_convert(p, cc, &f, top, c->end, &stop))) {
    if (stop)
      input_diag_fail(p, DIAG_FIELD_DELIM, field, top, f.raw, stop);
    else
      input_diag_fail(p, DIAG_VALUE, field, top, start, *sp);
    return rc;
  }
  return 0;
}

static int csv_header_row(struct input_parser *p, struct input_cursor *c, const char ***names, size_t **lens,
                          uint32_t *count)
{
  uint32_t cap = 16, n = 0;
  const char **nv = arena_new_array(p->arena, const char *, cap);
  size_t *lv = arena_new_array(p->arena, size_t, cap);
  const char *s = c->p;
  int rc;
  for (;;) {
    struct csv_field f;
    if ((rc = csv_field(p, c, &s, &f)))
      return rc;
    const char *a, *b;
    csv_contents(p, &f, &a, &b);
    if (n == cap) {
      nv = arena_realloc(p->arena, nv, cap * sizeof *nv, 2 * cap * sizeof *nv);
      lv = arena_realloc(p->arena, lv, cap * sizeof *lv, 2 * cap * sizeof *lv);
      cap *= 2;
    }
    nv[n] = arena_strndup(p->arena, a, (size_t)(b - a));
    lv[n] = (size_t)(b - a);
    n++;
    if (s < c->end && *s == p->opts.csv_delimiter) {
      s++;
      continue;
    }
    if ((rc = csv_after_field(p, c, &s, true)))
      return rc;
    break;
  }
  c->p = s;
  *names = nv;
  *lens = lv;
  *count = n;
  return 0;
}

static int csv_prefix(struct input_parser *p, struct input_cursor *c)
{
  int rc;
  struct input_cursor h = *c;
  if ((rc = skip_bom(&h)))
    return rc;
  if (p->desc->flags & IF_NAMES) {
    if (h.p >= h.end && !h.eof)
      return INPUT_NEED_MORE;
    const char **names, **types;
    size_t *lens, *tlens;
    uint32_t n, tn;
    if ((rc = csv_header_row(p, &h, &names, &lens, &n)))
      return rc;
    if (p->desc->flags & IF_TYPES) {
      if (h.p >= h.end && !h.eof)
        return INPUT_NEED_MORE;
      if ((rc = csv_header_row(p, &h, &types, &tlens, &tn)))
        return rc;
    }
    if ((rc = input_map_header(p, n, names, lens)))
      return rc;
    if ((p->desc->flags & IF_TYPES) && (rc = input_check_header_types(p, tn, types, tlens)))
      return rc;
  }
  c->p = h.p;
  p->diag.enabled = true;
  p->diag.delim = p->opts.csv_delimiter;
  return 0;
}

static int csv_row(struct input_parser *p, struct input_cursor *c)
{
  if (c->p >= c->end)
    return c->eof ? INPUT_END : INPUT_NEED_MORE;
  const char *s = c->p;
  int rc;
  p->diag.lim = c->end;
  p->diag.buf_end = c->end;
  uint32_t nf = p->field_count;
  for (uint32_t f = 0; f < nf; f++) {
    int32_t col = p->field_column[f];
    const char *fs = s;
    bool last = f + 1 == nf;
    if (col < 0) {
      struct csv_field fld;
      if ((rc = csv_field(p, c, &s, &fld)))
        return rc;
    } else if ((rc = csv_value(p, c, p->cols[col], &s, last, col, f))) {
      return rc;
    }
    input_diag_field(p, f, col, fs, s);
    if ((rc = csv_after_field(p, c, &s, last))) {
      if (rc > 0)
        input_diag_fail(p, last ? DIAG_ROW_END : DIAG_FIELD_DELIM, last ? nf : f, col, fs, s);
      return rc;
    }
  }
  if (p->unmapped)
    input_fill_unseen(p);
  c->p = s;
  return 0;
}

static int csv_skip_row(struct input_parser *p, struct input_cursor *c)
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

const struct input_family input_family_csv = { csv_prefix, csv_row, csv_skip_row };

/* ================= Values ================= */

struct values_state {
  bool after_row;
};

/* The ')' closing the tuple that opens at s, or NULL if not in [s, e). */
static const char *values_tuple_end(const char *s, const char *e)
{
  int depth = 0;
  for (; s < e; s++) {
    char ch = *s;
    if (ch == '\'' || ch == '"' || ch == '`') {
      bool plain;
      const char *close = quoted_end(s, e, ch, &plain);
      if (!close)
        return NULL;
      s = close;
      continue;
    }
    if (ch == '(' || ch == '[' || ch == '{')
      depth++;
    else if (ch == ')' || ch == ']' || ch == '}') {
      if (--depth == 0)
        return s;
    }
  }
  return NULL;
}

/* True when the text at s is an expression rather than a literal. */
static bool looks_like_expression(const char *s, const char *e)
{
  skip_ws(&s, e);
  if (s >= e)
    return false;
  if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')
    return !(keyword_at(s, e, "null") || keyword_at(s, e, "true") || keyword_at(s, e, "false") ||
             keyword_at(s, e, "nan") || keyword_at(s, e, "inf"));
  return false;
}

static const char *values_field_end(const char *s, const char *e)
{
  int depth = 0;
  for (; s < e; s++) {
    char ch = *s;
    if (ch == '\'') {
      bool plain;
      const char *close = quoted_end(s, e, ch, &plain);
      if (!close)
        return e;
      s = close;
    } else if (ch == '(' || ch == '[' || ch == '{') {
      depth++;
    } else if (ch == ')' || ch == ']' || ch == '}') {
      if (depth-- == 0)
        return s;
    } else if (ch == ',' && depth == 0) {
      return s;
    }
  }
  return e;
}

static int values_expression(struct input_parser *p, const char *s, const char *e, int rc)
{
  if (!p->opts.values_interpret_expressions)
    return rc;
  skip_ws(&s, e);
  const char *fe = values_field_end(s, e);
  return error_set(p->err, ERR_NOT_IMPLEMENTED,
                   "Expressions in VALUES are not supported yet, only literals: %.*s",
                   (int)(fe - s > 100 ? 100 : fe - s), s);
}

static int values_row(struct input_parser *p, struct input_cursor *c)
{
  struct values_state *st = p->state;
  if (!st)
    st = p->state = arena_new(p->arena, struct values_state);
  const char *s = c->p, *e = c->end;
  skip_ws(&s, e);
  if (s >= e)
    return c->eof ? INPUT_END : INPUT_NEED_MORE;
  if (*s == ';') {
    c->p = s + 1;
    return INPUT_END;
  }
  if (st->after_row && *s == ',') {
    s++;
    skip_ws(&s, e);
    if (s >= e) {
      if (!c->eof)
        return INPUT_NEED_MORE;
      return input_error_expected(p, "(", s, e);
    }
  }
  if (*s != '(')
    return input_error_expected(p, "(", s, e);
  const char *close = values_tuple_end(s, e);
  if (!close && !c->eof)
    return INPUT_NEED_MORE;
  const char *lim = close ? close + 1 : e;
  s++;
  int rc;
  uint32_t i = 0;
  for (; i < p->column_count; i++) {
    if (i && (rc = expect_char(p, &s, lim, ',')))
      goto fail;
    skip_ws(&s, lim);
    const char *fs = s;
    if ((rc = input_text_quoted(p, p->cols[i], &s, lim))) {
      if (looks_like_expression(fs, lim))
        return values_expression(p, fs, lim, rc);
      goto fail;
    }
    skip_ws(&s, lim);
    if (s < lim && *s != ',' && *s != ')')   /* a literal followed by an operator: 1 + 2 */
      return values_expression(p, fs, lim, input_error_expected(p, i + 1 < p->column_count ? "," : ")", s, lim));
  }
  if ((rc = expect_char(p, &s, lim, ')')))
    goto fail;
  st->after_row = true;
  c->p = s;
  return 0;
fail:
  p->diag.context = arena_printf(&p->unit_arena, "(while reading the value of column %s)",
                                 p->names[i < p->column_count ? i : p->column_count - 1]);
  return rc;
}

const struct input_family input_family_values = { NULL, values_row, NULL };
