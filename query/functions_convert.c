/* Type conversion: the cast engine behind CAST, to<Type>, to<Type>OrZero /
 * OrNull, toString, toDate/toDateTime and the implicit conversions other
 * functions need (comparisons with string constants, if/multiIf branches,
 * UNION columns, IN sets). Text parsing is strict like ClickHouse: no
 * surrounding spaces, the whole string must be consumed. */
#include "query/exec_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/timezone.h"

/* ======================================================================
 * text parsing
 * ====================================================================== */

static bool parse_int_text(struct slice s, bool *neg, uint64_t *mag)
{
  size_t i = 0;
  *neg = false;
  if (i < s.len && (s.ptr[i] == '-' || s.ptr[i] == '+')) {
    *neg = s.ptr[i] == '-';
    i++;
  }
  if (i >= s.len)
    return false;
  uint64_t v = 0;
  for (; i < s.len; i++) {
    char c = s.ptr[i];
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (uint64_t)(c - '0');
  }
  *mag = v;
  return true;
}

static bool parse_float_text(struct slice s, double *out)
{
  if (s.len == 0 || s.len > 400)
    return false;
  char buf[512];
  memcpy(buf, s.ptr, s.len);
  buf[s.len] = '\0';
  const char *p = buf;
  if (*p == '+' || *p == '-')
    p++;
  if ((p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) || *p == ' ' || *p == '\t')
    return false;
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if (*end)
    return false;
  *out = v;
  return true;
}

static int digits(const char *p, int n)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

bool parse_date_text(struct slice s, int32_t *days)
{
  /* YYYY-MM-DD, optionally followed by a time part; also YYYYMMDD */
  int y, m, d;
  if (s.len >= 10 && s.ptr[4] == '-' && s.ptr[7] == '-') {
    y = digits(s.ptr, 4);
    m = digits(s.ptr + 5, 2);
    d = digits(s.ptr + 8, 2);
    if (s.len > 10 && s.ptr[10] != ' ' && s.ptr[10] != 'T')
      return false;
  } else if (s.len == 8) {
    y = digits(s.ptr, 4);
    m = digits(s.ptr + 4, 2);
    d = digits(s.ptr + 6, 2);
  } else {
    return false;
  }
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31)
    return false;
  int64_t v = civil_days_from_ymd(y, m, d);
  if (v < 0)
    v = 0;
  if (v > 65535)
    v = 65535;
  *days = (int32_t)v;
  return true;
}

/* "YYYY-MM-DD[ hh:mm:ss[.frac]]" or a Unix timestamp; ticks at `scale` digits. */
bool parse_datetime_text(struct slice s, const struct time_zone *tz, int64_t *secs, uint32_t scale, int64_t *ticks)
{
  int64_t frac = 0;
  uint32_t fd = 0;
  /* all digits: Unix timestamp (with optional fraction) */
  size_t k = 0;
  while (k < s.len && s.ptr[k] >= '0' && s.ptr[k] <= '9')
    k++;
  if (k == s.len && k > 0 && k != 8) {
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
      v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    *secs = (int64_t)v;
  } else {
    if (s.len < 10 || s.ptr[4] != '-' || s.ptr[7] != '-')
      return false;
    int y = digits(s.ptr, 4), m = digits(s.ptr + 5, 2), d = digits(s.ptr + 8, 2);
    int hh = 0, mi = 0, ss = 0;
    size_t p = 10;
    if (s.len > 10) {
      if ((s.ptr[10] != ' ' && s.ptr[10] != 'T') || s.len < 19 || s.ptr[13] != ':' || s.ptr[16] != ':')
        return false;
      hh = digits(s.ptr + 11, 2);
      mi = digits(s.ptr + 14, 2);
      ss = digits(s.ptr + 17, 2);
      p = 19;
      if (p < s.len && s.ptr[p] == '.') {
        p++;
        while (p < s.len && s.ptr[p] >= '0' && s.ptr[p] <= '9') {
          if (fd < 9) {
            frac = frac * 10 + (s.ptr[p] - '0');
            fd++;
          }
          p++;
        }
      }
      if (p < s.len && s.ptr[p] == 'Z')
        p++;
    }
    if (p != s.len)
      return false;
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59)
      return false;
    struct civil_time ct = { .year = y, .month = m, .day = d, .hour = hh, .minute = mi, .second = ss };
    *secs = timezone_from_civil(tz, &ct);
  }
  if (ticks) {
    int64_t sc = 1;
    for (uint32_t i = 0; i < scale; i++)
      sc *= 10;
    while (fd > scale) {
      frac /= 10;
      fd--;
    }
    while (fd < scale) {
      frac *= 10;
      fd++;
    }
    *ticks = *secs * sc + frac;
  }
  return true;
}

static bool parse_uuid_text(struct slice s, unsigned char out[16])
{
  char hex[32];
  size_t n = 0;
  for (size_t i = 0; i < s.len; i++) {
    char c = s.ptr[i];
    if (c == '-') {
      if (!(i == 8 || i == 13 || i == 18 || i == 23))
        return false;
      continue;
    }
    if (n >= 32)
      return false;
    hex[n++] = c;
  }
  if (n != 32 || (s.len != 36 && s.len != 32))
    return false;
  unsigned char b[16];
  for (int i = 0; i < 16; i++) {
    int v = 0;
    for (int j = 0; j < 2; j++) {
      char c = hex[i * 2 + j];
      int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (x < 0)
        return false;
      v = v * 16 + x;
    }
    b[i] = (unsigned char)v;
  }
  /* ClickHouse stores two little-endian uint64 halves, high half first */
  for (int i = 0; i < 8; i++) {
    out[i] = b[7 - i];
    out[8 + i] = b[15 - i];
  }
  return true;
}

void value_to_string(const struct column *c, uint32_t row, struct buf *out)
{
  column_format_value_tz(c, row, NULL, false, out);
}

/* ======================================================================
 * the cast engine
 * ====================================================================== */

static bool is_num(const struct datatype *t) { return type_is_number_or_bool(t); }
static bool is_datey(const struct datatype *t)
{
  return t->id == TYPE_DATE || t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64;
}
static bool is_enum(const struct datatype *t) { return t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16; }
static bool is_str(const struct datatype *t) { return t->id == TYPE_STRING || t->id == TYPE_FIXED_STRING; }

bool cast_possible(const struct datatype *from, const struct datatype *to)
{
  from = datatype_unwrap(from);
  to = datatype_unwrap(to);
  if (from->id == TYPE_NOTHING || to->id == TYPE_STRING || is_str(from))
    return true;
  if (datatype_equal(from, to))
    return true;
  if ((is_num(from) || is_datey(from) || is_enum(from)) && (is_num(to) || is_datey(to) || is_enum(to)))
    return true;
  if (from->id == TYPE_ARRAY && to->id == TYPE_ARRAY)
    return cast_possible(from->children[0], to->children[0]);
  if (from->id == TYPE_TUPLE && to->id == TYPE_TUPLE && from->child_count == to->child_count) {
    for (uint32_t i = 0; i < from->child_count; i++)
      if (!cast_possible(from->children[i], to->children[i]))
        return false;
    return true;
  }
  if (from->id == TYPE_MAP && to->id == TYPE_MAP)
    return cast_possible(from->children[0], to->children[0]) && cast_possible(from->children[1], to->children[1]);
  if (from->id == TYPE_MAP && to->id == TYPE_ARRAY && datatype_unwrap(to->children[0])->id == TYPE_TUPLE &&
      datatype_unwrap(to->children[0])->child_count == 2)
    return cast_possible(from->children[0], datatype_unwrap(to->children[0])->children[0]) &&
           cast_possible(from->children[1], datatype_unwrap(to->children[0])->children[1]);
  if (from->id == TYPE_UUID && to->id == TYPE_UUID)
    return true;
  return false;
}

static int parse_error(struct eval *ev, const struct datatype *to, struct slice s, struct error *err)
{
  const char *tn = type_name(ev->arena, to);
  int code = ERR_CANNOT_PARSE_TEXT;
  if (to->id == TYPE_DATE)
    code = ERR_CANNOT_PARSE_DATE;
  else if (to->id == TYPE_DATETIME || to->id == TYPE_DATETIME64)
    code = ERR_CANNOT_PARSE_DATETIME;
  else if (to->id == TYPE_UUID)
    code = ERR_CANNOT_PARSE_UUID;
  if (is_num(to) && to->id != TYPE_BOOL)
    return error_set(err, code,
                     "Cannot parse string '%.*s' as %s: syntax error at begin of string. Note: there are to%sOrZero "
                     "and to%sOrNull functions, which returns zero/NULL instead of throwing exception.",
                     (int)(s.len > 200 ? 200 : s.len), s.ptr, tn, tn, tn);
  return error_set(err, code, "Cannot parse string '%.*s' as %s", (int)(s.len > 200 ? 200 : s.len), s.ptr, tn);
}

static const struct time_zone *type_tz(const struct eval *ev, const struct datatype *t)
{
  if ((t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64) && t->timezone) {
    const struct time_zone *tz = timezone_get(t->timezone);
    if (tz)
      return tz;
  }
  return exec_timezone(ev->ctx);
}

static int64_t pow10i(uint32_t p)
{
  int64_t v = 1;
  for (uint32_t i = 0; i < p && i < 18; i++)
    v *= 10;
  return v;
}

/* String → scalar type; failures per mode (bad[] marks rows for OrNull). */
static int cast_from_string(struct eval *ev, const struct column *c, uint32_t n, const struct datatype *to,
                            enum cast_mode mode, uint8_t *bad, struct column **out, struct error *err)
{
  struct arena *a = ev->arena;
  if (to->id == TYPE_STRING) {
    if (c->type->id == TYPE_STRING) {
      *out = (struct column *)c;
      return 0;
    }
    struct column *r = col_new_empty(a, to, n);
    for (uint32_t i = 0; i < n; i++) {
      struct slice s = column_get_bytes(c, i);
      col_str_append(r, s.ptr, s.len);
    }
    *out = r;
    return 0;
  }
  if (to->id == TYPE_FIXED_STRING) {
    struct column *r = col_new(a, to, n);
    for (uint32_t i = 0; i < n; i++) {
      struct slice s = column_get_bytes(c, i);
      if (s.len > to->size) {
        if (mode == CAST_THROW)
          return error_set(err, ERR_TOO_LARGE_STRING_SIZE, "String too long for type FixedString(%u)", to->size);
        if (bad)
          bad[i] = 1;
        continue;
      }
      memcpy((char *)r->data + (size_t)i * to->size, s.ptr, s.len);
    }
    *out = r;
    return 0;
  }
  struct column *r = col_new(a, to, n);
  const struct time_zone *tz = (to->id == TYPE_DATETIME || to->id == TYPE_DATETIME64) ? type_tz(ev, to) : NULL;
  for (uint32_t i = 0; i < n; i++) {
    struct slice s = column_get_bytes(c, i);
    bool ok = true;
    switch (to->id) {
    case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
    case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64: {
      bool neg;
      uint64_t mag;
      ok = parse_int_text(s, &neg, &mag);
      if (ok) {
        uint64_t v = neg ? 0 - mag : mag;
        size_t w = datatype_fixed_bytes(to);
        memcpy((char *)r->data + (size_t)i * w, &v, w);
      }
      break;
    }
    case TYPE_FLOAT32: case TYPE_FLOAT64: {
      double v;
      ok = parse_float_text(s, &v);
      if (ok) {
        if (to->id == TYPE_FLOAT32)
          ((float *)r->data)[i] = (float)v;
        else
          ((double *)r->data)[i] = v;
      }
      break;
    }
    case TYPE_BOOL: {
      if (slice_eq_nocase(s, "true") || slice_eq_cstr(s, "1") || slice_eq_nocase(s, "yes") ||
          slice_eq_nocase(s, "on") || slice_eq_nocase(s, "t") || slice_eq_nocase(s, "y") ||
          slice_eq_nocase(s, "enable"))
        ((uint8_t *)r->data)[i] = 1;
      else if (slice_eq_nocase(s, "false") || slice_eq_cstr(s, "0") || slice_eq_nocase(s, "no") ||
               slice_eq_nocase(s, "off") || slice_eq_nocase(s, "f") || slice_eq_nocase(s, "n") ||
               slice_eq_nocase(s, "disable"))
        ((uint8_t *)r->data)[i] = 0;
      else
        ok = false;
      break;
    }
    case TYPE_DATE: {
      int32_t d;
      ok = parse_date_text(s, &d);
      if (ok)
        ((uint16_t *)r->data)[i] = (uint16_t)d;
      break;
    }
    case TYPE_DATETIME: {
      int64_t secs;
      ok = parse_datetime_text(s, tz, &secs, 0, NULL);
      if (ok) {
        if (secs < 0)
          secs = 0;
        if (secs > UINT32_MAX)
          secs = UINT32_MAX;
        ((uint32_t *)r->data)[i] = (uint32_t)secs;
      }
      break;
    }
    case TYPE_DATETIME64: {
      int64_t secs, ticks;
      ok = parse_datetime_text(s, tz, &secs, to->size, &ticks);
      if (ok)
        ((int64_t *)r->data)[i] = ticks;
      break;
    }
    case TYPE_UUID:
      ok = parse_uuid_text(s, (unsigned char *)r->data + 16 * (size_t)i);
      break;
    case TYPE_ENUM8: case TYPE_ENUM16: {
      ok = false;
      for (uint32_t k = 0; k < to->enum_count; k++) {
        if (strlen(to->names[k]) == s.len && memcmp(to->names[k], s.ptr, s.len) == 0) {
          if (to->id == TYPE_ENUM8)
            ((int8_t *)r->data)[i] = (int8_t)to->enum_values[k];
          else
            ((int16_t *)r->data)[i] = to->enum_values[k];
          ok = true;
        }
      }
      if (!ok && mode == CAST_THROW)
        return error_set(err, ERR_UNKNOWN_ELEMENT_OF_ENUM, "Unknown element '%.*s' for enum", (int)s.len, s.ptr);
      break;
    }
    default:
      return error_set(err, ERR_CANNOT_CONVERT_TYPE, "Conversion from String to %s is not supported",
                       type_name(a, to));
    }
    if (!ok) {
      if (mode == CAST_THROW)
        return parse_error(ev, to, s, err);
      size_t w = datatype_fixed_bytes(to);
      memset((char *)r->data + (size_t)i * w, 0, w);
      if (bad)
        bad[i] = 1;
    }
  }
  *out = r;
  return 0;
}

/* numbers, dates, enums → numbers, dates, enums */
static int cast_numeric(struct eval *ev, const struct column *c, uint32_t n, const struct datatype *to,
                        struct column **out, struct error *err)
{
  (void)err;
  struct arena *a = ev->arena;
  const struct datatype *from = c->type;
  if (to->id == TYPE_DATE || to->id == TYPE_DATETIME || to->id == TYPE_DATETIME64) {
    int64_t *v = arena_alloc(a, 8 * (size_t)(n ? n : 1));
    const struct time_zone *tz_to = type_tz(ev, to);
    int64_t scale_to = to->id == TYPE_DATETIME64 ? pow10i(to->size) : 1;
    if (from->id == TYPE_DATE) {
      const int64_t *d = col_as_i64(a, c, n);
      for (uint32_t i = 0; i < n; i++) {
        if (to->id == TYPE_DATE) {
          v[i] = d[i];
          continue;
        }
        int64_t y;
        int mo, dd;
        civil_ymd_from_days(d[i], &y, &mo, &dd);
        struct civil_time ct = { .year = y, .month = mo, .day = dd };
        v[i] = timezone_from_civil(tz_to, &ct) * scale_to;
      }
    } else if (from->id == TYPE_DATETIME || from->id == TYPE_DATETIME64) {
      const int64_t *s = col_as_i64(a, c, n);
      int64_t scale_from = from->id == TYPE_DATETIME64 ? pow10i(from->size) : 1;
      const struct time_zone *tz_from = type_tz(ev, from);
      for (uint32_t i = 0; i < n; i++) {
        if (to->id == TYPE_DATE) {
          int64_t secs = civil_floor_div(s[i], scale_from);
          int64_t local = secs + timezone_offset_at_utc(tz_from, secs);
          v[i] = civil_floor_div(local, 86400);
        } else if (scale_to >= scale_from) {
          v[i] = s[i] * (scale_to / scale_from);
        } else {
          v[i] = civil_floor_div(s[i], scale_from / scale_to);
        }
      }
    } else if (datatype_is_float(from)) {
      const double *f = col_as_f64(a, c, n);
      for (uint32_t i = 0; i < n; i++) {
        double x = f[i];
        if (to->id == TYPE_DATE && x >= 65536)
          x = floor((x + 0) / 86400.0);
        v[i] = to->id == TYPE_DATETIME64 ? (int64_t)llround(x * (double)scale_to) : (int64_t)x;
      }
    } else {
      const int64_t *s = col_as_i64(a, c, n);
      bool uns = !datatype_is_signed(from);
      for (uint32_t i = 0; i < n; i++) {
        int64_t x = s[i];
        if (to->id == TYPE_DATE && (uns ? (uint64_t)x >= 65536 : x >= 65536)) {
          /* a large number is a Unix timestamp */
          int64_t local = x + timezone_offset_at_utc(tz_to, x);
          x = civil_floor_div(local, 86400);
        }
        if (to->id == TYPE_DATE && x < 0)
          x = 0;
        v[i] = to->id == TYPE_DATETIME64 ? x * scale_to : x;
      }
    }
    *out = col_from_i64(a, to, v, n);
    return 0;
  }
  /* to a number or enum */
  if (from->id == TYPE_DATETIME64 && !datatype_is_float(to)) {
    const int64_t *s = col_as_i64(a, c, n);
    int64_t sc = pow10i(from->size);
    int64_t *v = arena_alloc(a, 8 * (size_t)(n ? n : 1));
    for (uint32_t i = 0; i < n; i++)
      v[i] = civil_floor_div(s[i], sc);
    *out = col_from_i64(a, to, v, n);
    return 0;
  }
  if (from->id == TYPE_DATETIME64) {
    const int64_t *s = col_as_i64(a, c, n);
    double sc = (double)pow10i(from->size);
    double *v = arena_alloc(a, 8 * (size_t)(n ? n : 1));
    for (uint32_t i = 0; i < n; i++)
      v[i] = (double)s[i] / sc;
    *out = col_from_f64(a, to, v, n);
    return 0;
  }
  if (datatype_is_float(from)) {
    const double *f = col_as_f64(a, c, n);
    if (to->id == TYPE_BOOL) {
      uint64_t *v = arena_alloc(a, 8 * (size_t)(n ? n : 1));
      for (uint32_t i = 0; i < n; i++)
        v[i] = f[i] != 0;
      *out = col_from_u64(a, to, v, n);
      return 0;
    }
    *out = col_from_f64(a, to, f, n);
    return 0;
  }
  if (datatype_is_float(to)) {
    *out = col_from_f64(a, to, col_as_f64(a, c, n), n);
    return 0;
  }
  if (datatype_is_signed(from) || is_enum(from))
    *out = col_from_i64(a, to, col_as_i64(a, c, n), n);
  else
    *out = col_from_u64(a, to, col_as_u64(a, c, n), n);
  return 0;
}

static size_t u64_text(uint64_t v, char *out)
{
  char tmp[24];
  size_t k = 0;
  do {
    tmp[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < k; i++)
    out[i] = tmp[k - 1 - i];
  return k;
}

static int cast_to_string(struct eval *ev, const struct column *c, uint32_t n, struct column **out)
{
  struct column *r = col_new_empty(ev->arena, type_str(), n);
  if (datatype_is_integer(c->type)) {
    /* fast path: integers without printf */
    bool sg = datatype_is_signed(c->type);
    const int64_t *iv = sg ? col_as_i64(ev->arena, c, n) : NULL;
    const uint64_t *uv = sg ? NULL : col_as_u64(ev->arena, c, n);
    col_str_reserve(r, (size_t)n * 4);
    for (uint32_t i = 0; i < n; i++) {
      col_str_reserve(r, 21);
      char *o = r->chars + r->chars_len;
      size_t len;
      if (sg && iv[i] < 0) {
        *o = '-';
        len = 1 + u64_text(0 - (uint64_t)iv[i], o + 1);
      } else {
        len = u64_text(sg ? (uint64_t)iv[i] : uv[i], o);
      }
      r->chars_len += len;
      col_str_append(r, NULL, 0);
    }
    *out = r;
    return 0;
  }
  struct buf b;
  buf_init(&b);
  const struct time_zone *tz = exec_timezone(ev->ctx);
  for (uint32_t i = 0; i < n; i++) {
    buf_reset(&b);
    column_format_value_tz(c, i, tz, false, &b);
    col_str_append(r, b.data, b.len);
  }
  buf_free(&b);
  *out = r;
  return 0;
}

static int cast_full(struct eval *ev, const struct column *c, uint32_t n, const struct datatype *to,
                     enum cast_mode mode, uint8_t *bad, struct column **out, struct error *err);

/* Parses '[…]' / '(…)' / '{…}' text into a composite type by splitting
 * top-level elements (quoted strings unquoted). */
static int parse_composite(struct eval *ev, struct slice s, const struct datatype *to, struct column *dst,
                           struct error *err);

static int parse_scalar_text(struct eval *ev, struct slice s, const struct datatype *to, struct column *dst,
                             struct error *err)
{
  struct slice v = slice_trim(s);
  if (to->id == TYPE_NULLABLE) {
    if (slice_eq_cstr(v, "NULL") || slice_eq_cstr(v, "\\N")) {
      column_append_null(dst);
      return 0;
    }
    int rc = parse_scalar_text(ev, v, to->children[0], dst->children[0], err);
    if (rc)
      return rc;
    column_mark_not_null(dst);
    return 0;
  }
  if (to->id == TYPE_ARRAY || to->id == TYPE_TUPLE || to->id == TYPE_MAP)
    return parse_composite(ev, v, to, dst, err);
  char *unq = NULL;
  if (v.len >= 2 && v.ptr[0] == '\'' && v.ptr[v.len - 1] == '\'') {
    unq = arena_alloc(ev->arena, v.len);
    size_t k = 0;
    for (size_t i = 1; i + 1 < v.len; i++) {
      if (v.ptr[i] == '\\' && i + 2 < v.len) {
        i++;
        char e = v.ptr[i];
        unq[k++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == '0' ? '\0' : e;
      } else {
        unq[k++] = v.ptr[i];
      }
    }
    v = slice_make(unq, k);
  }
  struct column *one = col_new_empty(ev->arena, type_str(), 1);
  col_str_append(one, v.ptr, v.len);
  struct column *conv;
  int rc = cast_full(ev, one, 1, to, CAST_THROW, NULL, &conv, err);
  if (rc)
    return rc;
  column_append_from(dst, conv, 0);
  return 0;
}

static int parse_composite(struct eval *ev, struct slice s, const struct datatype *to, struct column *dst,
                           struct error *err)
{
  char open = to->id == TYPE_ARRAY ? '[' : to->id == TYPE_TUPLE ? '(' : '{';
  char close = to->id == TYPE_ARRAY ? ']' : to->id == TYPE_TUPLE ? ')' : '}';
  if (s.len < 2 || s.ptr[0] != open || s.ptr[s.len - 1] != close)
    return error_set(err, ERR_CANNOT_PARSE_TEXT, "Cannot parse string '%.*s' as %s", (int)s.len, s.ptr,
                     type_name(ev->arena, to));
  size_t i = 1, start = 1;
  int depth = 0;
  bool quote = false;
  uint32_t idx = 0;
  bool empty = true;
  for (size_t k = 1; k + 1 < s.len; k++)
    if (s.ptr[k] != ' ')
      empty = false;
  for (; !empty && i < s.len; i++) {
    char c = s.ptr[i];
    if (quote) {
      if (c == '\\')
        i++;
      else if (c == '\'')
        quote = false;
      continue;
    }
    if (c == '\'') {
      quote = true;
    } else if (c == '[' || c == '(' || c == '{') {
      depth++;
    } else if ((c == ']' || c == ')' || c == '}') && depth > 0) {
      depth--;
    } else if ((c == ',' || i == s.len - 1) && depth == 0) {
      struct slice el = slice_make(s.ptr + start, i - start);
      int rc;
      if (to->id == TYPE_ARRAY) {
        rc = parse_scalar_text(ev, el, to->children[0], dst->children[0], err);
      } else if (to->id == TYPE_TUPLE) {
        if (idx >= to->child_count)
          return error_set(err, ERR_CANNOT_PARSE_TEXT, "Too many elements in tuple text");
        rc = parse_scalar_text(ev, el, to->children[idx], dst->children[idx], err);
      } else {
        /* key:value */
        size_t colon = 0;
        bool q2 = false;
        for (size_t j = 0; j < el.len; j++) {
          if (el.ptr[j] == '\'')
            q2 = !q2;
          if (!q2 && el.ptr[j] == ':') {
            colon = j;
            break;
          }
        }
        rc = parse_scalar_text(ev, slice_make(el.ptr, colon), to->children[0], dst->children[0], err);
        if (!rc)
          rc = parse_scalar_text(ev, slice_make(el.ptr + colon + 1, el.len - colon - 1), to->children[1],
                                 dst->children[1], err);
      }
      if (rc)
        return rc;
      idx++;
      start = i + 1;
    }
  }
  if (to->id == TYPE_TUPLE) {
    if (idx != to->child_count)
      return error_set(err, ERR_CANNOT_PARSE_TEXT, "Cannot parse string '%.*s' as %s", (int)s.len, s.ptr,
                       type_name(ev->arena, to));
    column_close_tuple_row(dst);
  } else {
    column_close_array_row(dst);
  }
  return 0;
}

static int cast_full(struct eval *ev, const struct column *c, uint32_t n, const struct datatype *to,
                     enum cast_mode mode, uint8_t *bad, struct column **out, struct error *err)
{
  struct arena *a = ev->arena;
  const struct datatype *from = c->type;
  if (datatype_equal(from, to)) {
    *out = (struct column *)c;
    return 0;
  }
  if (from->id == TYPE_LOW_CARDINALITY)
    return cast_full(ev, col_strip_lc(a, c), n, to, mode, bad, out, err);
  if (to->id == TYPE_LOW_CARDINALITY) {
    struct column *inner;
    int rc = cast_full(ev, c, n, to->children[0], mode, bad, &inner, err);
    if (rc)
      return rc;
    struct column *r = col_new_empty(a, to, n);
    for (uint32_t i = 0; i < n; i++) {
      const struct column *v = inner;
      if (v->type->id == TYPE_NULLABLE && v->nulls[i]) {
        column_append_null(r);
        continue;
      }
      if (v->type->id == TYPE_NULLABLE)
        v = v->children[0];
      if (is_str(v->type)) {
        struct slice sl = column_get_bytes(v, i);
        column_append_bytes(r, sl.ptr, sl.len);
      } else if (datatype_is_float(v->type)) {
        column_append_f64(r, column_get_f64(v, i));
      } else if (datatype_is_signed(v->type)) {
        column_append_i64(r, column_get_i64(v, i));
      } else {
        column_append_u64(r, column_get_u64(v, i));
      }
    }
    *out = r;
    return 0;
  }
  if (to->id == TYPE_NULLABLE) {
    const struct datatype *inner_to = to->children[0];
    uint8_t *nulls = arena_calloc(a, n ? n : 1, 1);
    const struct column *src = c;
    if (from->id == TYPE_NULLABLE) {
      memcpy(nulls, c->nulls, n);
      src = c->children[0];
    }
    if (src->type->id == TYPE_NOTHING) {
      memset(nulls, 1, n);
      *out = col_wrap_nullable(a, col_new(a, inner_to, n), nulls);
      return 0;
    }
    uint8_t *b2 = arena_calloc(a, n ? n : 1, 1);
    struct column *inner;
    int rc = cast_full(ev, src, n, inner_to, mode == CAST_THROW ? CAST_THROW : CAST_OR_NULL, b2, &inner, err);
    if (rc)
      return rc;
    for (uint32_t i = 0; i < n; i++)
      nulls[i] |= b2[i];
    *out = col_wrap_nullable(a, inner, nulls);
    return 0;
  }
  if (from->id == TYPE_NULLABLE) {
    const struct column *src = c->children[0];
    for (uint32_t i = 0; i < n; i++) {
      if (c->nulls[i]) {
        if (mode == CAST_THROW)
          return error_set(err, ERR_CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN,
                           "Cannot convert NULL value to non-Nullable type");
        if (bad)
          bad[i] = 1;
      }
    }
    return cast_full(ev, src, n, to, mode, bad, out, err);
  }
  if (from->id == TYPE_NOTHING) {
    *out = col_new(a, to, n);
    for (uint32_t i = 0; i < n && bad; i++)
      bad[i] = 1;
    return 0;
  }
  if (is_str(from))
    return cast_from_string(ev, c, n, to, mode, bad, out, err);
  if (to->id == TYPE_STRING)
    return cast_to_string(ev, c, n, out);
  if (to->id == TYPE_FIXED_STRING) {
    struct column *s;
    cast_to_string(ev, c, n, &s);
    return cast_from_string(ev, s, n, to, mode, bad, out, err);
  }
  if ((is_num(from) || is_datey(from) || is_enum(from)) && (is_num(to) || is_datey(to) || is_enum(to)))
    return cast_numeric(ev, c, n, to, out, err);
  if (from->id == TYPE_ARRAY && to->id == TYPE_ARRAY) {
    struct column *el;
    const struct column *child = c->children[0];
    int rc = cast_full(ev, child, child->rows, to->children[0], mode, NULL, &el, err);
    if (rc)
      return rc;
    struct column *r = col_with_rows(a, c, n);
    r->type = to;
    r->children = arena_alloc(a, sizeof *r->children);
    r->children[0] = el;
    *out = r;
    return 0;
  }
  if (from->id == TYPE_MAP && to->id == TYPE_MAP) {
    struct column *k, *v;
    int rc = cast_full(ev, c->children[0], c->children[0]->rows, to->children[0], mode, NULL, &k, err);
    if (!rc)
      rc = cast_full(ev, c->children[1], c->children[1]->rows, to->children[1], mode, NULL, &v, err);
    if (rc)
      return rc;
    struct column *r = col_with_rows(a, c, n);
    r->type = to;
    r->children = arena_alloc(a, 2 * sizeof *r->children);
    r->children[0] = k;
    r->children[1] = v;
    *out = r;
    return 0;
  }
  if (from->id == TYPE_MAP && to->id == TYPE_ARRAY && to->children[0]->id == TYPE_TUPLE &&
      to->children[0]->child_count == 2) {
    /* Map(K, V) → Array(Tuple(K', V')): same offsets, keys and values zipped */
    const struct datatype *tt = to->children[0];
    struct column *k, *v;
    int rc = cast_full(ev, c->children[0], c->children[0]->rows, tt->children[0], mode, NULL, &k, err);
    if (!rc)
      rc = cast_full(ev, c->children[1], c->children[1]->rows, tt->children[1], mode, NULL, &v, err);
    if (rc)
      return rc;
    struct column *tup = col_new(a, tt, 0);
    tup->rows = tup->capacity = c->children[0]->rows;
    tup->children[0] = k;
    tup->children[1] = v;
    struct column *r = col_with_rows(a, c, n);
    r->type = to;
    r->children = arena_alloc(a, sizeof *r->children);
    r->children[0] = tup;
    r->child_count = 1;
    *out = r;
    return 0;
  }
  if (from->id == TYPE_TUPLE && to->id == TYPE_TUPLE && from->child_count == to->child_count) {
    struct column *r = col_with_rows(a, c, n);
    r->type = to;
    r->children = arena_alloc(a, sizeof *r->children * (to->child_count ? to->child_count : 1));
    for (uint32_t i = 0; i < to->child_count; i++) {
      int rc = cast_full(ev, c->children[i], n, to->children[i], mode, NULL, &r->children[i], err);
      if (rc)
        return rc;
    }
    *out = r;
    return 0;
  }
  return error_set(err, ERR_CANNOT_CONVERT_TYPE, "Conversion from %s to %s is not supported", type_name(a, from),
                   type_name(a, to));
}

/* String → composite (array/tuple/map text) */
static int cast_text_composite(struct eval *ev, const struct column *c, uint32_t n, const struct datatype *to,
                               struct column **out, struct error *err)
{
  struct column *r = col_new_empty(ev->arena, to, n);
  for (uint32_t i = 0; i < n; i++) {
    struct slice s = column_get_bytes(c, i);
    int rc = parse_composite(ev, slice_trim(s), to, r, err);
    if (rc)
      return rc;
  }
  *out = r;
  return 0;
}

int cast_column(struct eval *ev, const struct column *c, uint32_t rows, const struct datatype *to,
                enum cast_mode mode, struct column **out, struct error *err)
{
  bool is_const = c->is_const;
  uint32_t n = is_const ? 1 : rows;
  if (datatype_equal(c->type, to)) {
    *out = (struct column *)c;
    return 0;
  }
  const struct column *src = c;
  if (is_const) {
    struct column *one = col_with_rows(ev->arena, c, 1);
    one->is_const = false;
    src = one;
  }
  struct column *r;
  int rc;
  const struct datatype *from_u = datatype_unwrap(src->type);
  const struct datatype *to_u = to->id == TYPE_NULLABLE ? to->children[0] : to;
  if (is_str(from_u) && (to_u->id == TYPE_ARRAY || to_u->id == TYPE_TUPLE || to_u->id == TYPE_MAP) &&
      src->type->id == TYPE_STRING) {
    rc = cast_text_composite(ev, src, n, to_u, &r, err);
    if (!rc && to->id == TYPE_NULLABLE)
      r = col_wrap_nullable(ev->arena, r, NULL);
  } else if (mode == CAST_OR_NULL && to->id != TYPE_NULLABLE && type_can_be_nullable(to)) {
    uint8_t *bad = arena_calloc(ev->arena, n ? n : 1, 1);
    rc = cast_full(ev, src, n, to, mode, bad, &r, err);
    if (!rc)
      r = col_wrap_nullable(ev->arena, r, bad);
  } else {
    rc = cast_full(ev, src, n, to, mode, NULL, &r, err);
  }
  if (rc)
    return rc;
  *out = is_const ? col_make_const(ev->arena, r, rows) : r;
  return 0;
}

int cast_const(struct query_context *ctx, struct arena *a, struct column *c, const struct datatype *to,
               struct column **out, struct error *err)
{
  struct block empty = { .rows = 1 };
  struct eval ev = { .ctx = ctx, .arena = a, .input = &empty, .rows = 1 };
  struct column *one = c;
  if (c->is_const || c->rows != 1) {
    one = col_with_rows(a, c, 1);
    one->is_const = false;
  }
  return cast_column(&ev, one, 1, to, CAST_THROW, out, err);
}

/* ======================================================================
 * CAST and to<Type>
 * ====================================================================== */

static int exec_cast(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  return cast_column(ev, args[0], rows, call->type, (enum cast_mode)call->i0, out, err);
}

int fr_cast(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  struct slice tn;
  if (!fn_const_str(call, 1, &tn))
    return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT,
                     "Second argument to %s must be a constant string describing type", call->name);
  const struct datatype *t;
  rc = datatype_parse(call->arena, tn.ptr, tn.len, &t, err);
  if (rc)
    return rc;
  if (!cast_possible(call->arg_types[0], t) && !(is_str(datatype_unwrap(call->arg_types[0]))))
    return error_set(err, ERR_CANNOT_CONVERT_TYPE, "Conversion from %s to %s is not supported",
                     type_name(call->arena, call->arg_types[0]), type_name(call->arena, t));
  call->i0 = CAST_THROW;
  if (call->def->op == 2) {
    t = type_make_nullable(call->arena, t);
    call->i0 = CAST_OR_NULL;
  }
  /* cast_keep_nullable */
  if (call->arg_types[0]->id == TYPE_NULLABLE && t->id != TYPE_NULLABLE && call->ctx->settings &&
      settings_get_bool(call->ctx->settings, "cast_keep_nullable"))
    t = type_make_nullable(call->arena, t);
  call->type = t;
  call->exec = exec_cast;
  return 0;
}

int fr_to_number(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  enum cast_mode mode = op >= 200 ? CAST_OR_NULL : op >= 100 ? CAST_OR_ZERO : CAST_THROW;
  enum type_id id = (enum type_id)(op % 100);
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *from = call->arg_types[0];
  const struct datatype *t = datatype_simple(id);
  if (mode != CAST_THROW && !is_str(from) && !(is_num(from) || is_datey(from)))
    return fn_illegal_type(call, 0, err);
  if (!cast_possible(from, t) || from->id == TYPE_ARRAY || from->id == TYPE_TUPLE || from->id == TYPE_MAP ||
      from->id == TYPE_UUID)
    return error_set(err, ERR_CANNOT_CONVERT_TYPE, "Conversion from %s to %s is not supported",
                     type_name(call->arena, from), type_name(call->arena, t));
  call->i0 = mode;
  call->type = mode == CAST_OR_NULL ? type_make_nullable(call->arena, t) : t;
  call->exec = exec_cast;
  if (mode == CAST_OR_NULL) {
    call->i0 = CAST_OR_NULL;
    call->type = t;
    /* the kernel produces Nullable itself */
    call->type = type_make_nullable(call->arena, t);
  }
  return 0;
}

static int exec_to_string(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  uint32_t n = args[0]->is_const ? 1 : rows;
  if (args[0]->type->id == TYPE_STRING) {
    *out = args[0];
    return 0;
  }
  if (!call->tz)
    return cast_column(ev, args[0], rows, type_str(), CAST_THROW, out, err);
  struct column *r = col_new_empty(ev->arena, type_str(), n);
  struct buf b;
  buf_init(&b);
  const struct time_zone *tz = call->tz ? call->tz : exec_timezone(ev->ctx);
  const struct column *c = args[0];
  if (c->is_const) {
    struct column *one = col_with_rows(ev->arena, c, 1);
    one->is_const = false;
    c = one;
  }
  for (uint32_t i = 0; i < n; i++) {
    buf_reset(&b);
    if (call->tz && c->type->id == TYPE_DATETIME) {
      /* explicit zone overrides the column's own */
      struct column tmp = *c;
      tmp.type = datatype_datetime(ev->arena, timezone_name(call->tz));
      column_format_value_tz(&tmp, i, tz, false, &b);
    } else {
      column_format_value_tz(c, i, tz, false, &b);
    }
    col_str_append(r, b.data, b.len);
  }
  buf_free(&b);
  *out = r;
  return 0;
}

int fr_to_string(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 2, err);
  if (rc)
    return rc;
  call->tz = NULL;
  if (call->arg_count == 2) {
    rc = fn_tz_arg(call, 1, call->arg_types[0], err);
    if (rc)
      return rc;
  }
  call->type = type_str();
  call->exec = exec_to_string;
  return 0;
}

int fr_to_fixed_string(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  int64_t n;
  if (!fn_const_i64(call, 1, &n) || n <= 0 || n > 0xFFFFFF)
    return error_set(err, ERR_ILLEGAL_COLUMN, "Second argument for function toFixedString must be a positive constant");
  if (!is_str(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  call->type = datatype_fixed_string(call->arena, (uint32_t)n);
  call->i0 = CAST_THROW;
  call->exec = exec_cast;
  return 0;
}

/* toDate(x[, tz]) */
static int exec_to_date(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  const struct column *c = args[0];
  if (call->tz && (c->type->id == TYPE_DATETIME || c->type->id == TYPE_DATETIME64)) {
    struct column *tmp = col_with_rows(ev->arena, c, c->rows);
    tmp->type = c->type->id == TYPE_DATETIME ? datatype_datetime(ev->arena, timezone_name(call->tz))
                                             : datatype_datetime64(ev->arena, c->type->size, timezone_name(call->tz));
    c = tmp;
  }
  return cast_column(ev, c, rows, call->type, (enum cast_mode)call->i0, out, err);
}

int fr_to_date(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 2, err);
  if (rc)
    return rc;
  const struct datatype *from = call->arg_types[0];
  if (!(is_str(from) || is_num(from) || is_datey(from)))
    return fn_illegal_type(call, 0, err);
  call->tz = NULL;
  if (call->arg_count == 2 && (rc = fn_tz_arg(call, 1, from, err)))
    return rc;
  int op = call->def->op;
  call->i0 = op == 2 ? CAST_OR_NULL : op == 1 ? CAST_OR_ZERO : CAST_THROW;
  call->type = datatype_simple(TYPE_DATE);
  if (op == 2)
    call->type = type_make_nullable(call->arena, call->type);
  call->exec = exec_to_date;
  return 0;
}

static int exec_to_datetime(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                            struct column **out, struct error *err)
{
  return cast_column(ev, args[0], rows, call->type, (enum cast_mode)call->i0, out, err);
}

int fr_to_datetime(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 2, err);
  if (rc)
    return rc;
  const struct datatype *from = call->arg_types[0];
  if (!(is_str(from) || is_num(from) || is_datey(from)))
    return fn_illegal_type(call, 0, err);
  const char *tzname = NULL;
  if (call->arg_count == 2) {
    if ((rc = fn_tz_arg(call, 1, from, err)))
      return rc;
    tzname = timezone_name(call->tz);
  } else if ((from->id == TYPE_DATETIME || from->id == TYPE_DATETIME64) && from->timezone) {
    tzname = from->timezone;
  }
  int op = call->def->op;
  call->i0 = op == 2 ? CAST_OR_NULL : op == 1 ? CAST_OR_ZERO : CAST_THROW;
  call->type = datatype_datetime(call->arena, tzname);
  if (op == 2)
    call->type = type_make_nullable(call->arena, call->type);
  call->exec = exec_to_datetime;
  return 0;
}

int fr_to_datetime64(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  const struct datatype *from = call->arg_types[0];
  if (!(is_str(from) || is_num(from) || is_datey(from)))
    return fn_illegal_type(call, 0, err);
  int64_t p;
  if (!fn_const_i64(call, 1, &p) || p < 0 || p > 9)
    return error_set(err, ERR_ARGUMENT_OUT_OF_BOUND, "Scale for DateTime64 must be a constant in range 0..9");
  const char *tzname = NULL;
  if (call->arg_count == 3) {
    if ((rc = fn_tz_arg(call, 2, from, err)))
      return rc;
    tzname = timezone_name(call->tz);
  } else if ((from->id == TYPE_DATETIME || from->id == TYPE_DATETIME64) && from->timezone) {
    tzname = from->timezone;
  }
  int op = call->def->op;
  call->i0 = op == 2 ? CAST_OR_NULL : CAST_THROW;
  call->type = datatype_datetime64(call->arena, (uint32_t)p, tzname);
  if (op == 2)
    call->type = type_make_nullable(call->arena, call->type);
  call->exec = exec_to_datetime;
  return 0;
}

int fr_to_uuid(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if (!is_str(call->arg_types[0]) && call->arg_types[0]->id != TYPE_UUID)
    return fn_illegal_type(call, 0, err);
  int op = call->def->op;
  call->i0 = op == 2 ? CAST_OR_NULL : op == 1 ? CAST_OR_ZERO : CAST_THROW;
  call->type = datatype_simple(TYPE_UUID);
  if (op == 2)
    call->type = type_make_nullable(call->arena, call->type);
  call->exec = exec_cast;
  return 0;
}

static int exec_type_name(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  (void)err;
  const struct datatype *t = call->args[0]->type;
  const char *name = type_name(ev->arena, t);
  if (call->def->op == 1 && args[0]) {
    const char *base = type_name(ev->arena, args[0]->type);
    name = args[0]->is_const ? arena_printf(ev->arena, "Const(%s)", base) : base;
  }
  *out = col_const_str(ev->arena, name, strlen(name), rows);
  return 0;
}

int fr_to_type_name(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  call->type = type_str();
  call->exec = exec_type_name;
  return 0;
}

static int exec_to_lc(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  return cast_column(ev, args[0], rows, call->type, CAST_THROW, out, err);
}

int fr_to_low_cardinality(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (t->id == TYPE_LOW_CARDINALITY) {
    call->type = t;
  } else {
    const struct datatype *u = datatype_unwrap(t);
    if (!is_str(u) && !is_num(u) && !is_datey(u))
      return fn_illegal_type(call, 0, err);
    call->type = datatype_low_cardinality(call->arena, t);
  }
  call->exec = exec_to_lc;
  return 0;
}

static int exec_reinterpret_string(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                                   struct column **out, struct error *err)
{
  (void)call; (void)err;
  uint32_t n = args[0]->is_const ? 1 : rows;
  const struct column *c = args[0];
  size_t w = datatype_fixed_bytes(c->type);
  struct column *r = col_new_empty(ev->arena, type_str(), n);
  for (uint32_t i = 0; i < n; i++) {
    const char *p = (const char *)c->data + (size_t)i * w;
    size_t len = w;
    while (len && p[len - 1] == 0)
      len--;
    col_str_append(r, p, len);
  }
  *out = r;
  return 0;
}

int fr_reinterpret_string(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (is_str(t)) {
    call->type = type_str();
    call->i0 = CAST_THROW;
    call->exec = exec_cast;
    return 0;
  }
  if (!datatype_fixed_bytes(t))
    return fn_illegal_type(call, 0, err);
  call->type = type_str();
  call->exec = exec_reinterpret_string;
  return 0;
}
