/* Date and time functions. Date is days since 1970-01-01 (UInt16),
 * DateTime seconds since the epoch (UInt32) shown in a zone, DateTime64
 * ticks of 10^-p seconds. Calendar fields come from base/timezone.h in the
 * value's zone: the type's own, an explicit zone argument, or the session
 * zone (session_timezone, else the server's). */
#include "query/exec_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/timezone.h"

static bool is_date(const struct datatype *t) { return t->id == TYPE_DATE; }
static bool is_dt(const struct datatype *t) { return t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64; }
static bool is_datey(const struct datatype *t) { return is_date(t) || is_dt(t); }

static bool is_strt_type(const struct datatype *t) { return t->id == TYPE_STRING || t->id == TYPE_FIXED_STRING; }

/* Decimal value of n digits at p; -1 when a non-digit is met. */
static int digits_or(const char *p, size_t n)
{
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

static int64_t pow10_i(uint32_t p)
{
  int64_t v = 1;
  for (uint32_t i = 0; i < p; i++)
    v *= 10;
  return v;
}

/* Seconds (for DateTime/64, floor of ticks) or days*86400-local for Date. */
static void load_secs(struct arena *a, const struct column *c, uint32_t n, int64_t **secs, int64_t **frac)
{
  const int64_t *v = col_as_i64(a, c, n);
  int64_t *s = arena_alloc(a, 8 * (size_t)(n ? n : 1));
  int64_t *f = NULL;
  if (c->type->id == TYPE_DATETIME64) {
    int64_t sc = pow10_i(c->type->size);
    f = arena_alloc(a, 8 * (size_t)(n ? n : 1));
    for (uint32_t i = 0; i < n; i++) {
      s[i] = civil_floor_div(v[i], sc);
      f[i] = v[i] - s[i] * sc;
    }
  } else {
    memcpy(s, v, 8 * (size_t)n);
  }
  *secs = s;
  if (frac)
    *frac = f;
}

/* Civil time of row i: Date rows are local midnight of their day. */
static void civil_of(const struct datatype *t, const struct time_zone *tz, int64_t v, struct civil_time *ct)
{
  if (is_date(t)) {
    int64_t y;
    int m, d;
    civil_ymd_from_days(v, &y, &m, &d);
    memset(ct, 0, sizeof *ct);
    ct->year = y;
    ct->month = m;
    ct->day = d;
    ct->weekday = civil_weekday_from_days(v);
    ct->yearday = (int)(v - civil_days_from_ymd(y, 1, 1)) + 1;
    return;
  }
  timezone_to_civil(tz, v, ct);
}

static int64_t days_of(const struct datatype *t, const struct time_zone *tz, int64_t v)
{
  if (is_date(t))
    return v;
  return civil_floor_div(v + timezone_offset_at_utc(tz, v), 86400);
}

/* ======================================================================
 * now / today
 * ====================================================================== */

static int exec_now(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                    struct column **out, struct error *err)
{
  (void)args; (void)err;
  *out = col_const_i64(ev->arena, call->type, call->i0, rows);
  return 0;
}

int fr_now(struct fn_call *call, struct error *err)
{
  bool is64 = call->def->op == 1;
  int rc = fn_check_args(call, 0, is64 ? 2 : 1, err);
  if (rc)
    return rc;
  int64_t ns = clock_realtime_ns();
  const char *tz = NULL;
  uint32_t tz_arg = is64 ? 1 : 0;
  if (call->arg_count > tz_arg) {
    if ((rc = fn_tz_arg(call, tz_arg, NULL, err)))
      return rc;
    tz = timezone_name(call->tz);
  }
  if (is64) {
    int64_t p = 3;
    if (call->arg_count >= 1 && (!fn_const_i64(call, 0, &p) || p < 0 || p > 9))
      return error_set(err, ERR_ARGUMENT_OUT_OF_BOUND, "Scale for now64 must be a constant in range 0..9");
    call->type = datatype_datetime64(call->arena, (uint32_t)p, tz);
    call->i0 = ns / pow10_i(9 - (uint32_t)p);
  } else {
    call->type = datatype_datetime(call->arena, tz);
    call->i0 = ns / 1000000000;
  }
  call->exec = exec_now;
  return 0;
}

int fr_today(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 0, 0, err);
  if (rc)
    return rc;
  int64_t secs = clock_realtime_ns() / 1000000000;
  const struct time_zone *tz = exec_timezone(call->ctx);
  int64_t days = civil_floor_div(secs + timezone_offset_at_utc(tz, secs), 86400);
  call->i0 = days - (call->def->op == 1 ? 1 : 0);
  call->type = datatype_simple(TYPE_DATE);
  call->exec = exec_now;
  return 0;
}

/* ======================================================================
 * date parts
 * ====================================================================== */

enum {
  DP_YEAR, DP_QUARTER, DP_MONTH, DP_DAY, DP_DOW, DP_DOY, DP_HOUR, DP_MINUTE, DP_SECOND, DP_YYYYMM, DP_YYYYMMDD,
  DP_YYYYMMDDHHMMSS, DP_ISO_WEEK, DP_ISO_YEAR, DP_UNIX, DP_REL_YEAR, DP_REL_QUARTER, DP_REL_MONTH, DP_REL_WEEK,
  DP_REL_DAY, DP_REL_HOUR, DP_REL_MINUTE, DP_REL_SECOND, DP_MILLISECOND, DP_MONTH_SINCE_EPOCH,
};

static void iso_week(int64_t days, int64_t *iso_year, int *week)
{
  int wd = civil_weekday_from_days(days);         /* 1..7, Monday = 1 */
  int64_t thursday = days - wd + 4;
  int64_t y;
  int m, d;
  civil_ymd_from_days(thursday, &y, &m, &d);
  int64_t jan1 = civil_days_from_ymd(y, 1, 1);
  *iso_year = y;
  *week = (int)((thursday - jan1) / 7) + 1;
}

static int exec_date_part(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  int op = call->def->op;
  struct column *c = args[0];
  uint32_t n = c->is_const ? 1 : rows;
  const struct datatype *t = c->type;
  const struct time_zone *tz = call->tz;
  if (t->id == TYPE_STRING) {
    int rc = cast_column(ev, c, n, datatype_datetime(ev->arena, timezone_name(tz)), CAST_THROW, &c, err);
    if (rc)
      return rc;
    t = c->type;
  }
  int64_t *v, *frac;
  load_secs(ev->arena, c, n, &v, &frac);
  int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  int mode = (int)call->i1;
  int64_t scale = t->id == TYPE_DATETIME64 ? pow10_i(t->size) : 1;
  for (uint32_t i = 0; i < n; i++) {
    int64_t x = v[i];
    if (op == DP_UNIX) {
      res[i] = is_date(t) ? timezone_local_to_utc(tz, x * 86400) : x;
      continue;
    }
    if (op == DP_REL_SECOND) {
      res[i] = is_date(t) ? timezone_local_to_utc(tz, x * 86400) : x;
      continue;
    }
    if (op == DP_MILLISECOND) {
      res[i] = frac ? (frac[i] * 1000) / scale : 0;
      continue;
    }
    struct civil_time ct;
    civil_of(t, tz, x, &ct);
    int64_t days = days_of(t, tz, x);
    switch (op) {
    case DP_YEAR: res[i] = ct.year; break;
    case DP_QUARTER: res[i] = (ct.month - 1) / 3 + 1; break;
    case DP_MONTH: res[i] = ct.month; break;
    case DP_DAY: res[i] = ct.day; break;
    case DP_DOW:
      switch (mode) {
      case 1: res[i] = ct.weekday - 1; break;
      case 2: res[i] = ct.weekday % 7; break;
      case 3: res[i] = ct.weekday % 7 + 1; break;
      default: res[i] = ct.weekday; break;
      }
      break;
    case DP_DOY: res[i] = ct.yearday; break;
    case DP_HOUR: res[i] = ct.hour; break;
    case DP_MINUTE: res[i] = ct.minute; break;
    case DP_SECOND: res[i] = ct.second; break;
    case DP_YYYYMM: res[i] = ct.year * 100 + ct.month; break;
    case DP_YYYYMMDD: res[i] = ct.year * 10000 + ct.month * 100 + ct.day; break;
    case DP_YYYYMMDDHHMMSS:
      res[i] = ((ct.year * 10000 + ct.month * 100 + ct.day) * 1000000LL) + ct.hour * 10000 + ct.minute * 100 + ct.second;
      break;
    case DP_ISO_WEEK: { int64_t iy; int w; iso_week(days, &iy, &w); res[i] = w; break; }
    case DP_ISO_YEAR: { int64_t iy; int w; iso_week(days, &iy, &w); res[i] = iy; break; }
    case DP_REL_YEAR: res[i] = ct.year; break;
    case DP_REL_QUARTER: res[i] = ct.year * 4 + (ct.month - 1) / 3; break;
    case DP_REL_MONTH: res[i] = ct.year * 12 + ct.month; break;
    case DP_REL_WEEK: res[i] = civil_floor_div(days + 3, 7); break; /* weeks starting Monday */
    case DP_REL_DAY: res[i] = days; break;
    case DP_REL_HOUR: res[i] = is_date(t) ? days * 24 : civil_floor_div(x + ct.utc_offset, 3600); break;
    case DP_REL_MINUTE: res[i] = is_date(t) ? days * 1440 : civil_floor_div(x + ct.utc_offset, 60); break;
    case DP_MONTH_SINCE_EPOCH: res[i] = (ct.year - 1970) * 12 + ct.month - 1; break;
    default: res[i] = 0;
    }
  }
  *out = col_from_i64(ev->arena, call->type, res, n);
  return 0;
}

int fr_date_part(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  int rc = fn_check_args(call, 1, op == DP_DOW ? 3 : 2, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  bool time_only = op == DP_HOUR || op == DP_MINUTE || op == DP_SECOND || op == DP_MILLISECOND;
  if (!(is_datey(t) || (t->id == TYPE_STRING && op == DP_UNIX)) || (time_only && is_date(t)))
    return fn_illegal_type(call, 0, err);
  uint32_t tz_arg = 1;
  call->i1 = 0;
  if (op == DP_DOW && call->arg_count >= 2) {
    int64_t m;
    if (!fn_const_i64(call, 1, &m) || m < 0 || m > 3)
      return error_set(err, ERR_ILLEGAL_COLUMN, "The mode argument of function toDayOfWeek must be a constant 0..3");
    call->i1 = m;
    tz_arg = 2;
  }
  if ((rc = fn_tz_arg(call, call->arg_count > tz_arg ? tz_arg : UINT32_MAX, t, err)))
    return rc;
  static const enum type_id types[] = {
    [DP_YEAR] = TYPE_UINT16, [DP_QUARTER] = TYPE_UINT8, [DP_MONTH] = TYPE_UINT8, [DP_DAY] = TYPE_UINT8,
    [DP_DOW] = TYPE_UINT8, [DP_DOY] = TYPE_UINT16, [DP_HOUR] = TYPE_UINT8, [DP_MINUTE] = TYPE_UINT8,
    [DP_SECOND] = TYPE_UINT8, [DP_YYYYMM] = TYPE_UINT32, [DP_YYYYMMDD] = TYPE_UINT32,
    [DP_YYYYMMDDHHMMSS] = TYPE_UINT64, [DP_ISO_WEEK] = TYPE_UINT8, [DP_ISO_YEAR] = TYPE_UINT16,
    [DP_UNIX] = TYPE_UINT32, [DP_REL_YEAR] = TYPE_UINT16, [DP_REL_QUARTER] = TYPE_UINT32,
    [DP_REL_MONTH] = TYPE_UINT32, [DP_REL_WEEK] = TYPE_UINT32, [DP_REL_DAY] = TYPE_UINT32,
    [DP_REL_HOUR] = TYPE_UINT32, [DP_REL_MINUTE] = TYPE_UINT32, [DP_REL_SECOND] = TYPE_UINT32,
    [DP_MILLISECOND] = TYPE_UINT16, [DP_MONTH_SINCE_EPOCH] = TYPE_UINT32,
  };
  call->type = datatype_simple(types[op]);
  call->exec = exec_date_part;
  return 0;
}

/* ======================================================================
 * toStartOf*
 * ====================================================================== */

enum {
  SO_YEAR, SO_QUARTER, SO_MONTH, SO_MONDAY, SO_WEEK, SO_DAY, SO_HOUR, SO_MINUTE, SO_FIVE_MIN, SO_TEN_MIN,
  SO_FIFTEEN_MIN, SO_SECOND, SO_LAST_DAY_OF_MONTH, SO_ISO_YEAR, SO_TIME,
};

/* Day-level results (days since epoch) for a civil date. */
static int64_t start_days(int op, int mode, const struct civil_time *ct, int64_t days)
{
  switch (op) {
  case SO_YEAR: return civil_days_from_ymd(ct->year, 1, 1);
  case SO_QUARTER: return civil_days_from_ymd(ct->year, (ct->month - 1) / 3 * 3 + 1, 1);
  case SO_MONTH: return civil_days_from_ymd(ct->year, ct->month, 1);
  case SO_MONDAY: return days - (civil_weekday_from_days(days) - 1);
  case SO_WEEK: {
    int wd = civil_weekday_from_days(days); /* 1 = Monday */
    if (mode & 1)
      return days - (wd - 1);               /* Monday start */
    return days - (wd % 7);                 /* Sunday start */
  }
  case SO_LAST_DAY_OF_MONTH: return civil_days_from_ymd(ct->year, ct->month, civil_days_in_month(ct->year, ct->month));
  case SO_ISO_YEAR: {
    int64_t iy;
    int w;
    iso_week(days, &iy, &w);
    int64_t jan4 = civil_days_from_ymd(iy, 1, 4);
    return jan4 - (civil_weekday_from_days(jan4) - 1);
  }
  default: return days;
  }
}

static int start_of_worker(struct fn_call *call, struct eval *ev, struct column *c, uint32_t rows, int op,
                           struct column **out)
{
  uint32_t n = c->is_const ? 1 : rows;
  const struct datatype *t = c->type;
  const struct time_zone *tz = call->tz;
  int64_t *v, *frac;
  load_secs(ev->arena, c, n, &v, &frac);
  int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  bool day_level = op <= SO_WEEK || op == SO_LAST_DAY_OF_MONTH || op == SO_ISO_YEAR;
  int mode = (int)call->i1;
  int64_t out_scale = call->type->id == TYPE_DATETIME64 ? pow10_i(call->type->size) : 1;
  for (uint32_t i = 0; i < n; i++) {
    int64_t x = v[i];
    struct civil_time ct;
    civil_of(t, tz, x, &ct);
    int64_t days = days_of(t, tz, x);
    if (day_level) {
      res[i] = start_days(op, mode, &ct, days);
      continue;
    }
    if (op == SO_DAY) {
      struct civil_time m = { .year = ct.year, .month = ct.month, .day = ct.day };
      res[i] = timezone_from_civil(tz, &m) * out_scale;
      continue;
    }
    int64_t local = is_date(t) ? days * 86400 : x + ct.utc_offset;
    int64_t step = op == SO_HOUR ? 3600 : op == SO_MINUTE ? 60 : op == SO_FIVE_MIN ? 300 : op == SO_TEN_MIN ? 600
                 : op == SO_FIFTEEN_MIN ? 900 : 1;
    if (op == SO_TIME) {
      int64_t tod = local - civil_floor_div(local, 86400) * 86400;
      res[i] = 86400 + tod - timezone_offset_at_utc(tz, 86400 + tod);
      continue;
    }
    int64_t l2 = civil_floor_div(local, step) * step;
    res[i] = timezone_local_to_utc(tz, l2) * out_scale;
  }
  *out = col_from_i64(ev->arena, call->type, res, n);
  return 0;
}

static int exec_start_of(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  (void)err;
  return start_of_worker(call, ev, args[0], rows, call->def->op, out);
}

/* Result type of toStartOf<op> for t; tz_given: a zone argument was passed. */
static const struct datatype *start_of_type(struct fn_call *call, const struct datatype *t, int op, bool tz_given)
{
  bool day_level = op <= SO_WEEK || op == SO_LAST_DAY_OF_MONTH || op == SO_ISO_YEAR;
  if (day_level)
    return datatype_simple(TYPE_DATE);
  const char *tzn = t->timezone ? t->timezone : (tz_given ? timezone_name(call->tz) : NULL);
  return datatype_datetime(call->arena, tzn);
}

int fr_start_of(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  int rc = fn_check_args(call, 1, op == SO_WEEK ? 3 : 2, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  bool day_level = op <= SO_WEEK || op == SO_LAST_DAY_OF_MONTH || op == SO_ISO_YEAR;
  if (!is_datey(t) || (is_date(t) && !day_level && op != SO_DAY))
    return fn_illegal_type(call, 0, err);
  uint32_t tz_arg = 1;
  call->i1 = 0;
  if (op == SO_WEEK && call->arg_count >= 2) {
    int64_t m;
    if (!fn_const_i64(call, 1, &m))
      return error_set(err, ERR_ILLEGAL_COLUMN, "The mode argument of function toStartOfWeek must be constant");
    call->i1 = m;
    tz_arg = 2;
  }
  if ((rc = fn_tz_arg(call, call->arg_count > tz_arg ? tz_arg : UINT32_MAX, t, err)))
    return rc;
  call->type = start_of_type(call, t, op, call->arg_count > tz_arg);
  call->exec = exec_start_of;
  return 0;
}

/* ---- toStartOfInterval(t, INTERVAL n unit [, tz]) ---- */

static int exec_start_of_interval(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                                  struct column **out, struct error *err)
{
  (void)err;
  struct column *c = args[0];
  uint32_t n = c->is_const ? 1 : rows;
  const struct datatype *t = c->type;
  const struct time_zone *tz = call->tz;
  enum interval_unit unit = (enum interval_unit)call->i1;
  int64_t k = call->i0;
  int64_t *v, *frac;
  load_secs(ev->arena, c, n, &v, &frac);
  int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  for (uint32_t i = 0; i < n; i++) {
    int64_t x = v[i];
    struct civil_time ct;
    civil_of(t, tz, x, &ct);
    int64_t days = days_of(t, tz, x);
    switch (unit) {
    case INTERVAL_YEAR: res[i] = civil_days_from_ymd(civil_floor_div(ct.year, k) * k, 1, 1); break;
    case INTERVAL_QUARTER:
    case INTERVAL_MONTH: {
      int64_t months = k * (unit == INTERVAL_QUARTER ? 3 : 1);
      int64_t mi = civil_floor_div((ct.year - 1970) * 12 + ct.month - 1, months) * months;
      res[i] = civil_days_from_ymd(1970 + civil_floor_div(mi, 12), (int)(mi - civil_floor_div(mi, 12) * 12) + 1, 1);
      break;
    }
    case INTERVAL_WEEK: {
      int64_t wk = civil_floor_div(days + 3, 7);
      res[i] = civil_floor_div(wk, k) * k * 7 - 3;
      break;
    }
    case INTERVAL_DAY: {
      int64_t d = civil_floor_div(days, k) * k;
      if (call->type->id == TYPE_DATE) {
        res[i] = d;
      } else {
        int64_t y;
        int mo, dd;
        civil_ymd_from_days(d, &y, &mo, &dd);
        struct civil_time m = { .year = y, .month = mo, .day = dd };
        res[i] = timezone_from_civil(tz, &m);
      }
      break;
    }
    default: {
      int64_t step = unit == INTERVAL_HOUR ? 3600 : unit == INTERVAL_MINUTE ? 60 : 1;
      int64_t local = is_date(t) ? days * 86400 : x + ct.utc_offset;
      if (unit == INTERVAL_HOUR || unit == INTERVAL_MINUTE || unit == INTERVAL_SECOND) {
        int64_t l2 = civil_floor_div(local, step * k) * step * k;
        res[i] = timezone_local_to_utc(tz, l2);
      } else {
        res[i] = x;
      }
    }
    }
  }
  *out = col_from_i64(ev->arena, call->type, res, n);
  return 0;
}

int fr_start_of_interval(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0], *it = call->arg_types[1];
  if (!is_datey(t))
    return fn_illegal_type(call, 0, err);
  if (it->id != TYPE_INTERVAL || !fn_const_i64(call, 1, &call->i0) || call->i0 <= 0)
    return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal type %s of argument of function toStartOfInterval. Should be an interval of time",
                     type_name(call->arena, it));
  call->i1 = it->size;
  if ((rc = fn_tz_arg(call, call->arg_count > 2 ? 2 : UINT32_MAX, t, err)))
    return rc;
  enum interval_unit u = (enum interval_unit)it->size;
  if (u < INTERVAL_SECOND)
    return error_set(err, ERR_NOT_IMPLEMENTED, "toStartOfInterval with sub-second intervals is not supported yet");
  if (u >= INTERVAL_WEEK || (is_date(t) && u == INTERVAL_DAY)) {
    call->type = datatype_simple(TYPE_DATE);
  } else {
    if (is_date(t))
      return fn_illegal_type(call, 0, err);
    const char *tzn = t->timezone ? t->timezone : (call->arg_count > 2 ? timezone_name(call->tz) : NULL);
    call->type = datatype_datetime(call->arena, tzn);
  }
  call->exec = exec_start_of_interval;
  return 0;
}

/* ---- dateTrunc(unit, t [, tz]) ---- */

static int unit_from_name(struct slice s, enum interval_unit *u)
{
  static const struct { const char *name; enum interval_unit u; } names[] = {
    { "nanosecond", INTERVAL_NANOSECOND }, { "ns", INTERVAL_NANOSECOND },
    { "microsecond", INTERVAL_MICROSECOND }, { "us", INTERVAL_MICROSECOND }, { "u", INTERVAL_MICROSECOND },
    { "millisecond", INTERVAL_MILLISECOND }, { "ms", INTERVAL_MILLISECOND },
    { "second", INTERVAL_SECOND }, { "ss", INTERVAL_SECOND }, { "s", INTERVAL_SECOND },
    { "minute", INTERVAL_MINUTE }, { "mi", INTERVAL_MINUTE }, { "n", INTERVAL_MINUTE },
    { "hour", INTERVAL_HOUR }, { "hh", INTERVAL_HOUR }, { "h", INTERVAL_HOUR },
    { "day", INTERVAL_DAY }, { "dd", INTERVAL_DAY }, { "d", INTERVAL_DAY },
    { "week", INTERVAL_WEEK }, { "wk", INTERVAL_WEEK }, { "ww", INTERVAL_WEEK },
    { "month", INTERVAL_MONTH }, { "mm", INTERVAL_MONTH }, { "m", INTERVAL_MONTH },
    { "quarter", INTERVAL_QUARTER }, { "qq", INTERVAL_QUARTER }, { "q", INTERVAL_QUARTER },
    { "year", INTERVAL_YEAR }, { "yyyy", INTERVAL_YEAR }, { "yy", INTERVAL_YEAR },
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t l = strlen(names[i].name);
    if ((s.len == l && strncasecmp(s.ptr, names[i].name, l) == 0) ||
        (s.len == l + 1 && l > 2 && strncasecmp(s.ptr, names[i].name, l) == 0 && (s.ptr[l] == 's' || s.ptr[l] == 'S'))) {
      *u = names[i].u;
      return 0;
    }
  }
  return -1;
}

static int exec_date_trunc(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                           struct column **out, struct error *err)
{
  (void)err;
  return start_of_worker(call, ev, args[1], rows, (int)call->i0, out);
}

int fr_date_trunc(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  struct slice un;
  enum interval_unit u;
  if (!fn_const_str(call, 0, &un) || unit_from_name(un, &u) != 0)
    return error_set(err, ERR_BAD_ARGUMENTS, "First argument for function dateTrunc must be a constant string with a valid unit");
  const struct datatype *t = call->arg_types[1];
  if (!is_datey(t))
    return fn_illegal_type(call, 1, err);
  int op;
  switch (u) {
  case INTERVAL_YEAR: op = SO_YEAR; break;
  case INTERVAL_QUARTER: op = SO_QUARTER; break;
  case INTERVAL_MONTH: op = SO_MONTH; break;
  case INTERVAL_WEEK: op = SO_MONDAY; break;
  case INTERVAL_DAY: op = SO_DAY; break;
  case INTERVAL_HOUR: op = SO_HOUR; break;
  case INTERVAL_MINUTE: op = SO_MINUTE; break;
  default: op = SO_SECOND; break;
  }
  if (is_date(t) && op > SO_DAY)
    return fn_illegal_type(call, 1, err);
  if ((rc = fn_tz_arg(call, call->arg_count > 2 ? 2 : UINT32_MAX, t, err)))
    return rc;
  call->i0 = op;
  call->i1 = 0;
  if (is_date(t))
    call->type = datatype_simple(TYPE_DATE);
  else if (op <= SO_WEEK)
    call->type = datatype_simple(TYPE_DATE);
  else
    call->type = start_of_type(call, t, op, call->arg_count > 2);
  call->exec = exec_date_trunc;
  return 0;
}

/* ======================================================================
 * add / subtract
 * ====================================================================== */

static int64_t add_months_days(int64_t days, int64_t months)
{
  int64_t y;
  int m, d;
  civil_ymd_from_days(days, &y, &m, &d);
  int64_t total = y * 12 + (m - 1) + months;
  int64_t ny = civil_floor_div(total, 12);
  int nm = (int)(total - ny * 12) + 1;
  int dim = civil_days_in_month(ny, nm);
  return civil_days_from_ymd(ny, nm, d > dim ? dim : d);
}

struct add_spec {
  enum interval_unit unit;
  bool subtract;
  uint32_t value_arg, count_arg;
};

static int exec_date_add(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  (void)err;
  const struct add_spec *sp = call->state;
  struct column *c = args[sp->value_arg], *k = args[sp->count_arg];
  uint32_t n = (c->is_const && k->is_const) ? 1 : rows;
  const struct datatype *t = c->type, *rt = call->type;
  if (t->id == TYPE_STRING) {
    int rc = cast_column(ev, c, rows, rt->id == TYPE_DATE ? rt : datatype_datetime(ev->arena, rt->timezone),
                         CAST_THROW, &c, err);
    if (rc)
      return rc;
    t = c->type;
  }
  const struct time_zone *tz = call->tz;
  const int64_t *vv = col_as_i64(ev->arena, c, rows);
  const int64_t *kv = col_as_i64(ev->arena, k, rows);
  int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  int64_t in_scale = t->id == TYPE_DATETIME64 ? pow10_i(t->size) : 1;
  int64_t out_scale = rt->id == TYPE_DATETIME64 ? pow10_i(rt->size) : 1;
  for (uint32_t i = 0; i < n; i++) {
    int64_t x = vv[c->is_const ? 0 : i];
    int64_t q = kv[k->is_const ? 0 : i];
    if (sp->subtract)
      q = -q;
    enum interval_unit u = sp->unit;
    bool calendar = u >= INTERVAL_DAY;
    if (u == INTERVAL_WEEK) {
      u = INTERVAL_DAY;
      q *= 7;
    }
    if (u == INTERVAL_QUARTER) {
      u = INTERVAL_MONTH;
      q *= 3;
    }
    if (u == INTERVAL_YEAR) {
      u = INTERVAL_MONTH;
      q *= 12;
    }
    if (is_date(t) && rt->id == TYPE_DATE) {
      res[i] = u == INTERVAL_DAY ? x + q : add_months_days(x, q);
      continue;
    }
    /* a time value: seconds (+ sub-second ticks) */
    int64_t secs, ticks_frac = 0;
    if (is_date(t)) {
      struct civil_time ct;
      civil_of(t, tz, x, &ct);
      ct.hour = ct.minute = ct.second = 0;
      secs = timezone_from_civil(tz, &ct);
    } else {
      secs = civil_floor_div(x, in_scale);
      ticks_frac = x - secs * in_scale;
    }
    if (calendar) {
      struct civil_time ct;
      timezone_to_civil(tz, secs, &ct);
      int64_t days = civil_days_from_ymd(ct.year, ct.month, ct.day);
      days = u == INTERVAL_DAY ? days + q : add_months_days(days, q);
      int64_t y;
      int mo, d;
      civil_ymd_from_days(days, &y, &mo, &d);
      ct.year = y;
      ct.month = mo;
      ct.day = d;
      secs = timezone_from_civil(tz, &ct);
      res[i] = secs * out_scale + (out_scale >= in_scale ? ticks_frac * (out_scale / in_scale) : ticks_frac / (in_scale / out_scale));
      continue;
    }
    int64_t unit_ns;
    switch (u) {
    case INTERVAL_NANOSECOND: unit_ns = 1; break;
    case INTERVAL_MICROSECOND: unit_ns = 1000; break;
    case INTERVAL_MILLISECOND: unit_ns = 1000000; break;
    case INTERVAL_MINUTE: unit_ns = 60000000000LL; break;
    case INTERVAL_HOUR: unit_ns = 3600000000000LL; break;
    default: unit_ns = 1000000000LL; break;
    }
    if (rt->id == TYPE_DATETIME64) {
      int64_t base = secs * out_scale + (out_scale >= in_scale ? ticks_frac * (out_scale / in_scale) : ticks_frac / (in_scale / out_scale));
      int64_t tick_ns = 1000000000LL / out_scale;
      res[i] = base + q * (unit_ns / tick_ns ? unit_ns / tick_ns : 1);
    } else {
      res[i] = secs + q * (unit_ns / 1000000000LL);
    }
  }
  *out = col_from_i64(ev->arena, rt, res, n);
  return 0;
}

static int setup_add(struct fn_call *call, enum interval_unit unit, bool subtract, uint32_t value_arg,
                     uint32_t count_arg, struct error *err)
{
  const struct datatype *t = call->arg_types[value_arg];
  const struct datatype *kt = call->arg_types[count_arg];
  if (!is_datey(t) && t->id != TYPE_STRING)
    return fn_illegal_type(call, value_arg, err);
  if (!type_is_int_or_bool(kt) && kt->id != TYPE_INTERVAL && !datatype_is_float(kt))
    return fn_illegal_type(call, count_arg, err);
  struct add_spec *sp = arena_new(call->arena, struct add_spec);
  sp->unit = unit;
  sp->subtract = subtract;
  sp->value_arg = value_arg;
  sp->count_arg = count_arg;
  call->state = sp;
  int rc = fn_tz_arg(call, UINT32_MAX, t, err);
  if (rc)
    return rc;
  if (t->id == TYPE_DATETIME64) {
    uint32_t p = t->size;
    if (unit == INTERVAL_MILLISECOND && p < 3) p = 3;
    if (unit == INTERVAL_MICROSECOND && p < 6) p = 6;
    if (unit == INTERVAL_NANOSECOND && p < 9) p = 9;
    call->type = datatype_datetime64(call->arena, p, t->timezone);
  } else if (unit < INTERVAL_SECOND) {
    uint32_t p = unit == INTERVAL_MILLISECOND ? 3 : unit == INTERVAL_MICROSECOND ? 6 : 9;
    call->type = datatype_datetime64(call->arena, p, t->timezone);
  } else if ((is_date(t) || t->id == TYPE_STRING) && unit >= INTERVAL_DAY && is_date(t)) {
    call->type = datatype_simple(TYPE_DATE);
  } else if (t->id == TYPE_STRING) {
    call->type = unit >= INTERVAL_DAY ? datatype_simple(TYPE_DATE) : datatype_datetime(call->arena, NULL);
    /* strings parse as DateTime for time units and as Date for day units */
    if (unit >= INTERVAL_DAY)
      call->type = datatype_datetime(call->arena, NULL);
  } else {
    call->type = datatype_datetime(call->arena, t->timezone);
  }
  call->exec = exec_date_add;
  return 0;
}

int fr_date_add(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  int op = call->def->op;
  return setup_add(call, (enum interval_unit)(op % 100), op >= 100, 0, 1, err);
}

int date_add_interval_resolve(struct fn_call *call, uint32_t value_arg, uint32_t interval_arg, bool subtract,
                              struct error *err);
int date_add_interval_resolve(struct fn_call *call, uint32_t value_arg, uint32_t interval_arg, bool subtract,
                              struct error *err)
{
  const struct datatype *it = call->arg_types[interval_arg];
  return setup_add(call, (enum interval_unit)it->size, subtract, value_arg, interval_arg, err);
}

/* dateAdd(unit, n, t) / dateSub / timestampAdd(t, n)?: ClickHouse takes (unit, value, date) */
int fr_date_add_unit(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  bool subtract = call->def->op == 1 || call->def->op == 3;
  if (call->arg_count == 2) {
    /* dateAdd(date, INTERVAL …) */
    if (call->arg_types[1]->id != TYPE_INTERVAL)
      return fn_illegal_type(call, 1, err);
    return date_add_interval_resolve(call, 0, 1, subtract, err);
  }
  struct slice un;
  enum interval_unit u;
  if (!fn_const_str(call, 0, &un) || unit_from_name(un, &u) != 0)
    return error_set(err, ERR_BAD_ARGUMENTS, "First argument for function %s must be a constant string with a valid unit", call->name);
  return setup_add(call, u, subtract, 2, 1, err);
}

static int exec_to_interval(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                            struct column **out, struct error *err)
{
  (void)err;
  uint32_t n = args[0]->is_const ? 1 : rows;
  const int64_t *v = col_as_i64(ev->arena, args[0], rows);
  if (datatype_is_float(args[0]->type)) {
    const double *f = col_as_f64(ev->arena, args[0], rows);
    int64_t *x = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
    for (uint32_t i = 0; i < n; i++)
      x[i] = (int64_t)f[i];
    v = x;
  }
  *out = col_from_i64(ev->arena, call->type, v, n);
  return 0;
}

int fr_to_interval(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if (!type_is_number_or_bool(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  call->type = datatype_interval(call->arena, (enum interval_unit)call->def->op);
  call->exec = exec_to_interval;
  return 0;
}

/* ======================================================================
 * dateDiff / age
 * ====================================================================== */

static int64_t unit_number(enum interval_unit u, const struct datatype *t, const struct time_zone *tz, int64_t x)
{
  int64_t days = days_of(t, tz, x);
  struct civil_time ct;
  civil_of(t, tz, x, &ct);
  int64_t secs = is_date(t) ? days * 86400 : x + ct.utc_offset;
  switch (u) {
  case INTERVAL_YEAR: return ct.year;
  case INTERVAL_QUARTER: return ct.year * 4 + (ct.month - 1) / 3;
  case INTERVAL_MONTH: return ct.year * 12 + ct.month - 1;
  case INTERVAL_WEEK: return civil_floor_div(days + 3, 7);
  case INTERVAL_DAY: return days;
  case INTERVAL_HOUR: return civil_floor_div(secs, 3600);
  case INTERVAL_MINUTE: return civil_floor_div(secs, 60);
  default: return is_date(t) ? days * 86400 - ct.utc_offset : x;
  }
}

static int exec_date_diff(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  (void)err;
  enum interval_unit u = (enum interval_unit)call->i1;
  struct column *a = args[1], *b = args[2];
  uint32_t n = (a->is_const && b->is_const) ? 1 : rows;
  int64_t *av, *bv, *af, *bf;
  load_secs(ev->arena, col_full(ev->arena, a, n), n, &av, &af);
  load_secs(ev->arena, col_full(ev->arena, b, n), n, &bv, &bf);
  int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  const struct time_zone *tz = call->tz;
  bool age = call->def->op == 1;
  for (uint32_t i = 0; i < n; i++) {
    if (u < INTERVAL_SECOND) {
      /* sub-second: difference of absolute ticks */
      int64_t mul = u == INTERVAL_MILLISECOND ? 1000 : u == INTERVAL_MICROSECOND ? 1000000 : 1000000000;
      int64_t sa = is_date(a->type) ? av[i] * 86400 : av[i], sb = is_date(b->type) ? bv[i] * 86400 : bv[i];
      double fa = af ? (double)af[i] / (double)pow10_i(a->type->size) : 0, fb = bf ? (double)bf[i] / (double)pow10_i(b->type->size) : 0;
      res[i] = (sb - sa) * mul + (int64_t)llround((fb - fa) * (double)mul);
      continue;
    }
    int64_t d = unit_number(u, b->type, tz, bv[i]) - unit_number(u, a->type, tz, av[i]);
    if (age && d != 0) {
      /* full units only: step back when the remainder has not elapsed */
      struct civil_time ca, cb;
      civil_of(a->type, tz, av[i], &ca);
      civil_of(b->type, tz, bv[i], &cb);
      int64_t ra, rb;
      switch (u) {
      case INTERVAL_YEAR: ra = ((int64_t)ca.month * 31 + ca.day) * 86400 + ca.hour * 3600 + ca.minute * 60 + ca.second;
        rb = ((int64_t)cb.month * 31 + cb.day) * 86400 + cb.hour * 3600 + cb.minute * 60 + cb.second; break;
      case INTERVAL_QUARTER:
      case INTERVAL_MONTH: ra = ((int64_t)(u == INTERVAL_QUARTER ? (ca.month - 1) % 3 : 0) * 31 + ca.day) * 86400 + ca.hour * 3600 + ca.minute * 60 + ca.second;
        rb = ((int64_t)(u == INTERVAL_QUARTER ? (cb.month - 1) % 3 : 0) * 31 + cb.day) * 86400 + cb.hour * 3600 + cb.minute * 60 + cb.second; break;
      case INTERVAL_WEEK: ra = (int64_t)(ca.weekday) * 86400 + ca.hour * 3600 + ca.minute * 60 + ca.second;
        rb = (int64_t)(cb.weekday) * 86400 + cb.hour * 3600 + cb.minute * 60 + cb.second; break;
      case INTERVAL_DAY: ra = ca.hour * 3600 + ca.minute * 60 + ca.second; rb = cb.hour * 3600 + cb.minute * 60 + cb.second; break;
      case INTERVAL_HOUR: ra = ca.minute * 60 + ca.second; rb = cb.minute * 60 + cb.second; break;
      case INTERVAL_MINUTE: ra = ca.second; rb = cb.second; break;
      default: ra = rb = 0;
      }
      if (d > 0 && rb < ra)
        d--;
      else if (d < 0 && rb > ra)
        d++;
    }
    res[i] = d;
  }
  *out = col_from_i64(ev->arena, call->type, res, n);
  return 0;
}

int fr_date_diff(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 3, 4, err);
  if (rc)
    return rc;
  struct slice un;
  enum interval_unit u;
  if (!fn_const_str(call, 0, &un))
    return error_set(err, ERR_ILLEGAL_COLUMN, "First argument for function %s (unit) must be a constant String", call->name);
  if (unit_from_name(un, &u) != 0)
    return error_set(err, ERR_BAD_ARGUMENTS, "Function %s does not support '%.*s' unit", call->name, (int)un.len, un.ptr);
  const struct datatype *a = call->arg_types[1], *b = call->arg_types[2];
  if (!is_datey(a))
    return fn_illegal_type(call, 1, err);
  if (!is_datey(b))
    return fn_illegal_type(call, 2, err);
  call->i1 = u;
  if ((rc = fn_tz_arg(call, call->arg_count > 3 ? 3 : UINT32_MAX, is_dt(a) ? a : b, err)))
    return rc;
  call->type = call->def->op == 1 ? datatype_simple(TYPE_INT32) : type_i64();
  call->exec = exec_date_diff;
  return 0;
}

/* ======================================================================
 * formatDateTime
 * ====================================================================== */

static const char *const WDAYS[] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };
static const char *const MONTHS[] = { "January", "February", "March", "April", "May", "June", "July",
                                      "August", "September", "October", "November", "December" };

static void format_one(struct buf *b, struct slice f, const struct civil_time *ct, int64_t days, int64_t frac,
                       uint32_t scale, bool joda)
{
  (void)joda;
  for (size_t k = 0; k < f.len; k++) {
    char c = f.ptr[k];
    if (c != '%' || k + 1 >= f.len) {
      buf_append_char(b, c);
      continue;
    }
    char s = f.ptr[++k];
    int h12 = ct->hour % 12 == 0 ? 12 : ct->hour % 12;
    switch (s) {
    case 'a': buf_append(b, WDAYS[ct->weekday - 1], 3); break;
    case 'W': buf_append_cstr(b, WDAYS[ct->weekday - 1]); break;
    case 'b': case 'h': buf_append(b, MONTHS[ct->month - 1], 3); break;
    case 'B': buf_append_cstr(b, MONTHS[ct->month - 1]); break;
    case 'M': buf_append_cstr(b, MONTHS[ct->month - 1]); break;
    case 'c': buf_printf(b, "%02d", ct->month); break;
    case 'C': buf_printf(b, "%02lld", (long long)(ct->year / 100)); break;
    case 'd': buf_printf(b, "%02d", ct->day); break;
    case 'D': buf_printf(b, "%02d/%02d/%02lld", ct->month, ct->day, (long long)(ct->year % 100)); break;
    case 'e': buf_printf(b, "%2d", ct->day); break;
    case 'f': {
      int64_t us = scale ? frac : 0;
      /* microseconds: 6 digits from the value's fraction */
      uint32_t sc = scale;
      while (sc > 6) { us /= 10; sc--; }
      while (sc < 6) { us *= 10; sc++; }
      buf_printf(b, "%06lld", (long long)us);
      break;
    }
    case 'F': buf_printf(b, "%04lld-%02d-%02d", (long long)ct->year, ct->month, ct->day); break;
    case 'G': case 'g': {
      int64_t iy;
      int w;
      iso_week(days, &iy, &w);
      if (s == 'G')
        buf_printf(b, "%04lld", (long long)iy);
      else
        buf_printf(b, "%02lld", (long long)(iy % 100));
      break;
    }
    case 'H': buf_printf(b, "%02d", ct->hour); break;
    case 'I': buf_printf(b, "%02d", h12); break;
    case 'i': buf_printf(b, "%02d", ct->minute); break;
    case 'j': buf_printf(b, "%03d", ct->yearday); break;
    case 'k': buf_printf(b, "%2d", ct->hour); break;
    case 'l': buf_printf(b, "%2d", h12); break;
    case 'm': buf_printf(b, "%02d", ct->month); break;
    case 'n': buf_append_char(b, '\n'); break;
    case 'p': buf_append_cstr(b, ct->hour < 12 ? "AM" : "PM"); break;
    case 'Q': buf_printf(b, "%d", (ct->month - 1) / 3 + 1); break;
    case 'r': buf_printf(b, "%02d:%02d %s", h12, ct->minute, ct->hour < 12 ? "AM" : "PM"); break;
    case 'R': buf_printf(b, "%02d:%02d", ct->hour, ct->minute); break;
    case 'S': case 's': buf_printf(b, "%02d", ct->second); break;
    case 't': buf_append_char(b, '\t'); break;
    case 'T': buf_printf(b, "%02d:%02d:%02d", ct->hour, ct->minute, ct->second); break;
    case 'u': buf_printf(b, "%d", ct->weekday); break;
    case 'V': { int64_t iy; int w; iso_week(days, &iy, &w); buf_printf(b, "%02d", w); break; }
    case 'w': buf_printf(b, "%d", ct->weekday % 7); break;
    case 'y': buf_printf(b, "%02lld", (long long)(ct->year % 100)); break;
    case 'Y': buf_printf(b, "%04lld", (long long)ct->year); break;
    case 'z': {
      int off = ct->utc_offset;
      char sg = off < 0 ? '-' : '+';
      if (off < 0)
        off = -off;
      buf_printf(b, "%c%02d%02d", sg, off / 3600, (off / 60) % 60);
      break;
    }
    case '%': buf_append_char(b, '%'); break;
    default: buf_append_char(b, '%'); buf_append_char(b, s); break;
    }
  }
}

static int exec_format_datetime(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                                struct column **out, struct error *err)
{
  (void)err;
  struct column *c = args[0];
  uint32_t n = (c->is_const && args[1]->is_const) ? 1 : rows;
  c = col_full(ev->arena, c, n);
  const struct datatype *t = c->type;
  int64_t *v, *frac;
  load_secs(ev->arena, c, n, &v, &frac);
  struct column *r = col_new_empty(ev->arena, type_str(), n);
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < n; i++) {
    struct civil_time ct;
    civil_of(t, call->tz, v[i], &ct);
    int64_t days = days_of(t, call->tz, v[i]);
    if (is_date(t))
      ct.weekday = civil_weekday_from_days(days);
    buf_reset(&b);
    format_one(&b, column_get_bytes(args[1], column_row(args[1], i)), &ct, days, frac ? frac[i] : 0,
               t->id == TYPE_DATETIME64 ? t->size : 0, call->def->op == 1);
    col_str_append(r, b.data, b.len);
  }
  buf_free(&b);
  *out = r;
  return 0;
}

int fr_format_datetime(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  if (!is_datey(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  struct slice f;
  if (!fn_const_str(call, 1, &f))
    return error_set(err, ERR_ILLEGAL_COLUMN, "Format argument of function %s must be a constant string", call->name);
  if ((rc = fn_tz_arg(call, call->arg_count > 2 ? 2 : UINT32_MAX, call->arg_types[0], err)))
    return rc;
  call->type = type_str();
  call->exec = exec_format_datetime;
  return 0;
}

/* ======================================================================
 * Unix timestamps, zones
 * ====================================================================== */

static int exec_from_unix(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  if (call->i0 == -1) {
    /* FROM_UNIXTIME(t, format) */
    struct column *dt;
    int rc = cast_column(ev, args[0], rows, datatype_datetime(ev->arena, timezone_name(call->tz)), CAST_THROW, &dt, err);
    if (rc)
      return rc;
    struct column *a2[2] = { dt, args[1] };
    return exec_format_datetime(call, ev, a2, rows, out, err);
  }
  uint32_t n = args[0]->is_const ? 1 : rows;
  const int64_t *v = col_as_i64(ev->arena, args[0], rows);
  *out = col_from_i64(ev->arena, call->type, v, n);
  return 0;
}

int fr_from_unix(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  int rc = fn_check_args(call, 1, 2, err);
  if (rc)
    return rc;
  if (!type_is_int_or_bool(call->arg_types[0]) && !is_dt(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  call->i0 = 0;
  if (op == 0 && call->arg_count == 2 && is_strt_type(call->arg_types[1])) {
    struct slice f;
    if (fn_const_str(call, 1, &f) && f.len > 0 && memchr(f.ptr, '%', f.len)) {
      if ((rc = fn_tz_arg(call, UINT32_MAX, NULL, err)))
        return rc;
      call->i0 = -1;
      call->type = type_str();
      call->exec = exec_from_unix;
      return 0;
    }
  }
  const char *tzn = NULL;
  if (call->arg_count == 2) {
    if ((rc = fn_tz_arg(call, 1, NULL, err)))
      return rc;
    tzn = timezone_name(call->tz);
  }
  call->type = op == 0 ? datatype_datetime(call->arena, tzn) : datatype_datetime64(call->arena, (uint32_t)op, tzn);
  call->exec = exec_from_unix;
  return 0;
}

static int exec_to_unix64(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  (void)err;
  uint32_t n = args[0]->is_const ? 1 : rows;
  const struct datatype *t = args[0]->type;
  const int64_t *v = col_as_i64(ev->arena, args[0], rows);
  int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  int64_t in_scale = t->id == TYPE_DATETIME64 ? pow10_i(t->size) : 1;
  int64_t out_scale = pow10_i((uint32_t)call->def->op);
  for (uint32_t i = 0; i < n; i++)
    res[i] = out_scale >= in_scale ? v[i] * (out_scale / in_scale) : civil_floor_div(v[i], in_scale / out_scale);
  *out = col_from_i64(ev->arena, type_i64(), res, n);
  return 0;
}

int fr_to_unix64(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if (!is_dt(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  call->type = type_i64();
  call->exec = exec_to_unix64;
  return 0;
}

static int exec_same(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  (void)rows; (void)err;
  struct column *c = col_with_rows(ev->arena, args[0], args[0]->rows);
  c->type = call->type;
  *out = c;
  return 0;
}

int fr_to_timezone(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (!is_dt(t))
    return fn_illegal_type(call, 0, err);
  if ((rc = fn_tz_arg(call, 1, t, err)))
    return rc;
  call->type = t->id == TYPE_DATETIME ? datatype_datetime(call->arena, timezone_name(call->tz))
                                      : datatype_datetime64(call->arena, t->size, timezone_name(call->tz));
  call->exec = exec_same;
  return 0;
}

static int exec_tz_info(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  (void)err;
  int op = call->def->op;
  if (op == 3) {
    uint32_t n = args[0]->is_const ? 1 : rows;
    int64_t *v;
    load_secs(ev->arena, args[0], n, &v, NULL);
    int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
    for (uint32_t i = 0; i < n; i++)
      res[i] = timezone_offset_at_utc(call->tz, v[i]);
    *out = col_from_i64(ev->arena, call->type, res, n);
    return 0;
  }
  const char *name = (const char *)call->state;
  *out = col_const_str(ev->arena, name, strlen(name), rows);
  return 0;
}

int fr_timezone(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  int rc = fn_check_args(call, op >= 2 ? 1 : 0, op >= 2 ? 1 : 0, err);
  if (rc)
    return rc;
  call->exec = exec_tz_info;
  if (op == 0) {
    call->state = (void *)exec_timezone_name(call->ctx);
  } else if (op == 1) {
    const char *s = call->ctx->server && call->ctx->server->timezone ? call->ctx->server->timezone : "UTC";
    call->state = (void *)s;
  } else {
    const struct datatype *t = call->arg_types[0];
    if (!is_dt(t))
      return fn_illegal_type(call, 0, err);
    if ((rc = fn_tz_arg(call, UINT32_MAX, t, err)))
      return rc;
    call->state = (void *)timezone_name(call->tz);
    if (op == 3) {
      call->type = datatype_simple(TYPE_INT32);
      return 0;
    }
  }
  call->type = type_str();
  return 0;
}

/* ======================================================================
 * parseDateTimeBestEffort
 * ====================================================================== */

static int month_from_name(const char *p, size_t n)
{
  if (n < 3)
    return 0;
  for (int m = 0; m < 12; m++)
    if (strncasecmp(p, MONTHS[m], 3) == 0)
      return m + 1;
  return 0;
}

/* A forgiving parser: ISO 8601 (with T, Z, ±hh:mm), 'YYYY-MM-DD hh:mm:ss',
 * 'YYYY/MM/DD', 'DD/MM/YYYY', RFC 1123 ('Tue, 02 Jan 2024 03:04:05 GMT'),
 * Unix timestamps. */
static bool best_effort(struct slice s, const struct time_zone *tz, int64_t *secs, int64_t *frac, uint32_t scale)
{
  const char *p = s.ptr, *end = s.ptr + s.len;
  while (p < end && *p == ' ')
    p++;
  while (end > p && end[-1] == ' ')
    end--;
  size_t n = (size_t)(end - p);
  if (n == 0)
    return false;
  bool all_digits = true;
  for (size_t i = 0; i < n; i++)
    if (p[i] < '0' || p[i] > '9')
      all_digits = false;
  *frac = 0;
  if (all_digits && n != 8 && n != 14) {
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
      v = v * 10 + (p[i] - '0');
    *secs = v;
    return true;
  }
  int y = -1, mo = -1, d = -1, h = 0, mi = 0, se = 0;
  bool has_off = false;
  int off = 0;
  uint32_t fd = 0;
  int64_t fv = 0;
  const char *q = p;
  while (q < end) {
    if (*q >= '0' && *q <= '9') {
      const char *st = q;
      while (q < end && *q >= '0' && *q <= '9')
        q++;
      size_t len = (size_t)(q - st);
      int v = digits_or(st, len);
      if (q < end && *q == ':' && y >= 0 && len <= 2) {
        /* time */
        h = v;
        q++;
        mi = digits_or(q, 2);
        q += 2;
        if (q < end && *q == ':') {
          q++;
          se = digits_or(q, 2);
          q += 2;
        }
        if (q < end && (*q == '.' || *q == ',')) {
          q++;
          while (q < end && *q >= '0' && *q <= '9') {
            if (fd < 9) {
              fv = fv * 10 + (*q - '0');
              fd++;
            }
            q++;
          }
        }
        continue;
      }
      if (len == 4 && y < 0 && d < 0) {
        y = v;
      } else if (len == 8 && y < 0) {
        y = digits_or(st, 4);
        mo = digits_or(st + 4, 2);
        d = digits_or(st + 6, 2);
      } else if (len == 4 && y < 0) {
        y = v;
      } else if (y >= 0 && mo < 0) {
        mo = v;
      } else if (y >= 0 && d < 0) {
        d = v;
      } else if (y < 0 && d < 0) {
        d = v;
      } else if (y < 0 && mo < 0) {
        mo = v;
      } else if (y < 0) {
        y = len == 2 ? 2000 + v : v;
      } else {
        return false;
      }
      continue;
    }
    if ((*q == '+' || *q == '-') && h + mi + se >= 0 && y >= 0 && d >= 0 && q + 2 < end && q[1] >= '0' && q[1] <= '9') {
      int sg = *q == '-' ? -1 : 1;
      q++;
      int oh = digits_or(q, 2);
      q += 2;
      if (q < end && *q == ':')
        q++;
      int om = 0;
      if (q + 1 < end + 1 && q < end && *q >= '0' && *q <= '9') {
        om = digits_or(q, 2);
        q += 2;
      }
      off = sg * (oh * 3600 + om * 60);
      has_off = true;
      continue;
    }
    if ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z')) {
      const char *st = q;
      while (q < end && ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z')))
        q++;
      size_t len = (size_t)(q - st);
      int m = month_from_name(st, len);
      if (m && len >= 3 && !(len == 3 && (strncasecmp(st, "GMT", 3) == 0 || strncasecmp(st, "UTC", 3) == 0)))
        mo = m;
      else if ((len == 1 && (*st == 'Z' || *st == 'z')) || (len == 3 && (strncasecmp(st, "GMT", 3) == 0 || strncasecmp(st, "UTC", 3) == 0)))
        has_off = true;
      else if (len == 2 && (strncasecmp(st, "PM", 2) == 0) && h < 12)
        h += 12;
      else if (len == 2 && strncasecmp(st, "AM", 2) == 0 && h == 12)
        h = 0;
      continue;
    }
    q++;
  }
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
    return false;
  struct civil_time ct = { .year = y, .month = mo, .day = d, .hour = h, .minute = mi, .second = se };
  if (has_off)
    *secs = civil_days_from_ymd(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
  else
    *secs = timezone_from_civil(tz, &ct);
  while (fd > scale) { fv /= 10; fd--; }
  while (fd < scale) { fv *= 10; fd++; }
  *frac = fv;
  return true;
}

static int exec_parse_dt(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  int op = call->def->op;
  bool is64 = op >= 3;
  bool or_null = op == 1 || op == 4, or_zero = op == 2;
  const struct datatype *vt = call->type->id == TYPE_NULLABLE ? call->type->children[0] : call->type;
  uint32_t scale = is64 ? vt->size : 0;
  uint32_t n = args[0]->is_const ? 1 : rows;
  int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  uint8_t *bad = arena_calloc(ev->arena, n ? n : 1, 1);
  for (uint32_t i = 0; i < n; i++) {
    struct slice s = column_get_bytes(args[0], i);
    int64_t secs, frac;
    if (!best_effort(s, call->tz, &secs, &frac, scale)) {
      if (!or_null && !or_zero)
        return error_set(err, ERR_CANNOT_PARSE_DATETIME, "Cannot read DateTime: unexpected text '%.*s'",
                         (int)(s.len > 100 ? 100 : s.len), s.ptr);
      bad[i] = 1;
      res[i] = 0;
      continue;
    }
    res[i] = is64 ? secs * pow10_i(scale) + frac : secs;
  }
  struct column *c = col_from_i64(ev->arena, vt, res, n);
  *out = or_null ? col_wrap_nullable(ev->arena, c, bad) : c;
  return 0;
}

int fr_parse_dt(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  bool is64 = op >= 3;
  int rc = fn_check_args(call, 1, is64 ? 3 : 2, err);
  if (rc)
    return rc;
  if (!is_strt_type(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  int64_t p = 3;
  uint32_t tz_arg = 1;
  if (is64 && call->arg_count >= 2) {
    if (!fn_const_i64(call, 1, &p) || p < 0 || p > 9)
      return error_set(err, ERR_ARGUMENT_OUT_OF_BOUND, "Scale must be a constant in range 0..9");
    tz_arg = 2;
  }
  const char *tzn = NULL;
  if ((rc = fn_tz_arg(call, call->arg_count > tz_arg ? tz_arg : UINT32_MAX, NULL, err)))
    return rc;
  if (call->arg_count > tz_arg)
    tzn = timezone_name(call->tz);
  call->type = is64 ? datatype_datetime64(call->arena, (uint32_t)p, tzn) : datatype_datetime(call->arena, tzn);
  if (op == 1 || op == 4)
    call->type = type_make_nullable(call->arena, call->type);
  call->exec = exec_parse_dt;
  return 0;
}

/* makeDate(y, m, d) / makeDateTime(y, m, d, h, mi, s[, tz]) */
static int exec_make_date(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  (void)err;
  bool dt = call->def->op == 1;
  uint32_t k = dt ? 6 : 3;
  const int64_t *v[6];
  for (uint32_t j = 0; j < k; j++)
    v[j] = col_as_i64(ev->arena, col_full(ev->arena, args[j], rows), rows);
  int64_t *res = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++) {
    int64_t y = v[0][i];
    int m = (int)v[1][i], d = (int)v[2][i];
    if (m < 1 || m > 12 || d < 1 || d > 31) {
      res[i] = 0;
      continue;
    }
    int64_t days = civil_days_from_ymd(y, m, d);
    if (!dt) {
      res[i] = days < 0 ? 0 : days;
      continue;
    }
    struct civil_time ct = { .year = y, .month = m, .day = d, .hour = (int)v[3][i], .minute = (int)v[4][i], .second = (int)v[5][i] };
    res[i] = timezone_from_civil(call->tz, &ct);
  }
  *out = col_from_i64(ev->arena, call->type, res, rows);
  return 0;
}

int fr_make_date(struct fn_call *call, struct error *err)
{
  bool dt = call->def->op == 1;
  int rc = fn_check_args(call, dt ? 6 : 3, dt ? 7 : 3, err);
  if (rc)
    return rc;
  for (uint32_t j = 0; j < (dt ? 6u : 3u); j++)
    if (!type_is_number_or_bool(call->arg_types[j]))
      return fn_illegal_type(call, j, err);
  const char *tzn = NULL;
  if ((rc = fn_tz_arg(call, call->arg_count > 6 ? 6 : UINT32_MAX, NULL, err)))
    return rc;
  if (call->arg_count > 6)
    tzn = timezone_name(call->tz);
  call->type = dt ? datatype_datetime(call->arena, tzn) : datatype_simple(TYPE_DATE);
  call->exec = exec_make_date;
  return 0;
}
