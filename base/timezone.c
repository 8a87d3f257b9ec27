/* Time zones from TZif files (RFC 8536) and civil-time arithmetic; see
 * timezone.h.
 *
 * Invariants:
 *  1. A zone in the cache is never modified or freed after it is published,
 *     so readers need no lock; only the cache list is guarded by zone_lock.
 *  2. transitions[] is strictly increasing; offsets[i] is the UTC offset in
 *     effect from transitions[i] (inclusive) to transitions[i+1].
 *  3. Instants after the last transition follow the TZif footer's POSIX TZ
 *     rule when there is one, otherwise the last offset. */
#include "base/timezone.h"
#include "base/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TZ_FILE_BYTES_MAX = 1 << 20, TZ_NAME_BYTES_MAX = 255, TZ_TRANSITIONS_MAX = 1 << 16 };

/* One end of a POSIX TZ daylight-saving rule: Jn, n or Mm.w.d plus a time. */
struct tz_rule_date {
  char kind;            /* 'J' (1..365, no Feb 29), 'D' (0..365 with Feb 29), 'M' */
  int day;              /* J/D day number, or M weekday 0 = Sunday */
  int month;            /* M only */
  int week;             /* M only: 1..5, 5 = last */
  int32_t time;         /* seconds after local midnight (may be negative or > 24h) */
};

struct tz_rule {
  int32_t std_offset;   /* seconds east of UTC */
  int32_t dst_offset;
  bool has_dst;
  struct tz_rule_date start, end;
};

struct time_zone {
  const char *name;
  uint32_t transition_count;
  const int64_t *transitions;   /* UTC seconds */
  const int32_t *offsets;       /* offset in effect from transitions[i] */
  int32_t initial_offset;       /* before the first transition */
  bool has_rule;
  struct tz_rule rule;
  struct time_zone *next;       /* cache list */
};

static const struct time_zone utc_zone = { .name = "UTC" };

static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static struct time_zone *zone_list;                     /* guarded by zone_lock */
static const struct time_zone *_Atomic default_zone;   /* NULL = UTC */

/* ---- civil time ---- */

bool civil_is_leap_year(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int civil_days_in_month(int64_t year, int month)
{
  static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  if (month == 2 && civil_is_leap_year(year))
    return 29;
  return days[(month - 1) % 12];
}

/* Counts in 400-year eras starting on March 1st so the leap day falls at the
 * end of the counted year. */
int64_t civil_days_from_ymd(int64_t year, int month, int day)
{
  int64_t y = year - (month <= 2);
  int64_t era = civil_floor_div(y, 400);
  int64_t year_of_era = y - era * 400;
  int64_t month_from_march = (month + 9) % 12;
  int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

void civil_ymd_from_days(int64_t days, int64_t *year, int *month, int *day)
{
  int64_t z = days + 719468;
  int64_t era = civil_floor_div(z, 146097);
  int64_t day_of_era = z - era * 146097;
  int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_from_march = (5 * day_of_year + 2) / 153;
  int d = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  int m = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  *year = year_of_era + era * 400 + (m <= 2);
  *month = m;
  *day = d;
}

int civil_weekday_from_days(int64_t days)
{
  /* 1970-01-01 was a Thursday (ISO 4). */
  int64_t r = (days + 3) % 7;
  if (r < 0)
    r += 7;
  return (int)r + 1;
}

/* ---- POSIX TZ rules (TZif footer) ---- */

static int64_t rule_date_days(const struct tz_rule_date *r, int64_t year)
{
  int64_t jan1 = civil_days_from_ymd(year, 1, 1);
  switch (r->kind) {
  case 'J':
    return jan1 + r->day - 1 + (civil_is_leap_year(year) && r->day >= 60);
  case 'D':
    return jan1 + r->day;
  default: {
    int64_t first = civil_days_from_ymd(year, r->month, 1);
    int first_wday = civil_weekday_from_days(first) % 7;   /* 0 = Sunday */
    int64_t d = first + (r->day - first_wday + 7) % 7 + (int64_t)(r->week - 1) * 7;
    int64_t month_end = first + civil_days_in_month(year, r->month);
    while (d >= month_end)
      d -= 7;
    return d;
  }
  }
}

static int32_t rule_offset_at(const struct tz_rule *r, int64_t utc)
{
  if (!r->has_dst)
    return r->std_offset;
  int64_t year;
  int m, d;
  civil_ymd_from_days(civil_floor_div(utc + r->std_offset, 86400), &year, &m, &d);
  int64_t start = rule_date_days(&r->start, year) * 86400 + r->start.time - r->std_offset;
  int64_t end = rule_date_days(&r->end, year) * 86400 + r->end.time - r->dst_offset;
  bool dst = start < end ? (utc >= start && utc < end) : (utc < end || utc >= start);
  return dst ? r->dst_offset : r->std_offset;
}

struct tz_text {
  const char *p, *end;
};

static bool tz_name_skip(struct tz_text *t)
{
  if (t->p < t->end && *t->p == '<') {
    while (t->p < t->end && *t->p != '>')
      t->p++;
    if (t->p >= t->end)
      return false;
    t->p++;
    return true;
  }
  const char *s = t->p;
  while (t->p < t->end && ((*t->p >= 'a' && *t->p <= 'z') || (*t->p >= 'A' && *t->p <= 'Z')))
    t->p++;
  return t->p - s >= 3;
}

static bool tz_num(struct tz_text *t, int *out)
{
  const char *s = t->p;
  int v = 0;
  while (t->p < t->end && *t->p >= '0' && *t->p <= '9' && v < 100000)
    v = v * 10 + (*t->p++ - '0');
  *out = v;
  return t->p > s;
}

/* [+-]hh[:mm[:ss]] → seconds (sign as written). */
static bool tz_time(struct tz_text *t, int32_t *out)
{
  int sign = 1, h, m = 0, s = 0;
  if (t->p < t->end && (*t->p == '+' || *t->p == '-'))
    sign = *t->p++ == '-' ? -1 : 1;
  if (!tz_num(t, &h) || h > 167)
    return false;
  if (t->p < t->end && *t->p == ':') {
    t->p++;
    if (!tz_num(t, &m) || m > 59)
      return false;
    if (t->p < t->end && *t->p == ':') {
      t->p++;
      if (!tz_num(t, &s) || s > 59)
        return false;
    }
  }
  *out = sign * (h * 3600 + m * 60 + s);
  return true;
}

static bool tz_rule_date_parse(struct tz_text *t, struct tz_rule_date *r)
{
  r->time = 7200;
  if (t->p < t->end && *t->p == 'M') {
    t->p++;
    r->kind = 'M';
    if (!tz_num(t, &r->month) || t->p >= t->end || *t->p++ != '.' || !tz_num(t, &r->week) || t->p >= t->end ||
        *t->p++ != '.' || !tz_num(t, &r->day))
      return false;
    if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->day > 6)
      return false;
  } else if (t->p < t->end && *t->p == 'J') {
    t->p++;
    r->kind = 'J';
    if (!tz_num(t, &r->day) || r->day < 1 || r->day > 365)
      return false;
  } else {
    r->kind = 'D';
    if (!tz_num(t, &r->day) || r->day > 365)
      return false;
  }
  if (t->p < t->end && *t->p == '/') {
    t->p++;
    if (!tz_time(t, &r->time))
      return false;
  }
  return true;
}

static bool tz_rule_parse(const char *s, size_t len, struct tz_rule *r)
{
  struct tz_text t = { s, s + len };
  int32_t off;
  memset(r, 0, sizeof *r);
  if (!tz_name_skip(&t) || !tz_time(&t, &off))
    return false;
  r->std_offset = -off;
  if (t.p == t.end)
    return true;
  if (!tz_name_skip(&t))
    return false;
  r->has_dst = true;
  r->dst_offset = r->std_offset + 3600;
  if (t.p < t.end && *t.p != ',') {
    if (!tz_time(&t, &off))
      return false;
    r->dst_offset = -off;
  }
  if (t.p >= t.end) {
    /* No rule given: POSIX leaves it implementation-defined; use US rules. */
    r->start = (struct tz_rule_date){ 'M', 0, 3, 2, 7200 };
    r->end = (struct tz_rule_date){ 'M', 0, 11, 1, 7200 };
    return true;
  }
  if (*t.p++ != ',' || !tz_rule_date_parse(&t, &r->start) || t.p >= t.end || *t.p++ != ',' ||
      !tz_rule_date_parse(&t, &r->end))
    return false;
  return t.p == t.end;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

struct tzif_counts {
  uint32_t isut, isstd, leap, time, type, chars;
};

static bool tzif_header(const unsigned char *p, size_t len, struct tzif_counts *c, int *version)
{
  if (len < 44 || memcmp(p, "TZif", 4) != 0)
    return false;
  *version = p[4] ? p[4] - '0' : 1;
  c->isut = be32(p + 20);
  c->isstd = be32(p + 24);
  c->leap = be32(p + 28);
  c->time = be32(p + 32);
  c->type = be32(p + 36);
  c->chars = be32(p + 40);
  return c->type >= 1 && c->type <= 256 && c->time <= TZ_TRANSITIONS_MAX && c->leap <= TZ_TRANSITIONS_MAX &&
         c->chars <= 65536 && (c->isut == 0 || c->isut == c->type) && (c->isstd == 0 || c->isstd == c->type);
}

static size_t tzif_body_bytes(const struct tzif_counts *c, size_t time_bytes)
{
  return c->time * time_bytes + c->time + c->type * 6 + c->chars + c->leap * (time_bytes + 4) + c->isstd + c->isut;
}

static struct time_zone *tzif_parse(const char *name, const unsigned char *p, size_t len)
{
  struct tzif_counts c;
  int version;
  if (!tzif_header(p, len, &c, &version))
    return NULL;
  size_t time_bytes = 4, body = 44;
  if (version >= 2) {
    /* Skip the 32-bit block; use the 64-bit one that follows. */
    size_t skip = 44 + tzif_body_bytes(&c, 4);
    if (skip > len || !tzif_header(p + skip, len - skip, &c, &version))
      return NULL;
    body = skip + 44;
    time_bytes = 8;
  }
  size_t need = tzif_body_bytes(&c, time_bytes);
  if (body + need > len)
    return NULL;
  const unsigned char *times = p + body;
  const unsigned char *idx = times + c.time * time_bytes;
  const unsigned char *types = idx + c.time;

  struct time_zone *tz = mem_calloc(1, sizeof *tz);
  int64_t *tr = mem_alloc((c.time ? c.time : 1) * sizeof *tr);
  int32_t *off = mem_alloc((c.time ? c.time : 1) * sizeof *off);
  uint32_t n = 0;
  for (uint32_t i = 0; i < c.time; i++) {
    int64_t t = time_bytes == 8 ? be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
    if (idx[i] >= c.type || (n && t <= tr[n - 1]))
      goto out_bad;
    tr[n] = t;
    off[n] = (int32_t)be32(types + 6 * idx[i]);
    n++;
  }
  tz->transitions = tr;
  tz->offsets = off;
  tz->transition_count = n;
  /* Before the first transition: the first standard-time type (RFC 8536 §3.2
   * says type 0 for version 1 readers; both agree for real zones). */
  tz->initial_offset = (int32_t)be32(types);
  for (uint32_t i = 0; i < c.type; i++)
    if (!types[6 * i + 4]) {
      tz->initial_offset = (int32_t)be32(types + 6 * i);
      break;
    }
  if (version >= 2) {
    const unsigned char *footer = p + body + need;
    const unsigned char *end = p + len;
    if (footer < end && *footer == '\n') {
      const unsigned char *nl = memchr(footer + 1, '\n', (size_t)(end - footer - 1));
      if (nl && nl > footer + 1)
        tz->has_rule = tz_rule_parse((const char *)footer + 1, (size_t)(nl - footer - 1), &tz->rule);
    }
  }
  tz->name = mem_strdup(name);
  return tz;
out_bad:
  mem_free(tr);
  mem_free(off);
  mem_free(tz);
  return NULL;
}

static bool name_is_safe(const char *name)
{
  size_t len = strlen(name);
  if (len == 0 || len > TZ_NAME_BYTES_MAX || name[0] == '/' || name[0] == '.')
    return false;
  for (size_t i = 0; i < len; i++) {
    char ch = name[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '/' ||
              ch == '_' || ch == '-' || ch == '+' || ch == '.';
    if (!ok || (ch == '.' && name[i + 1] == '.'))
      return false;
  }
  return true;
}

static struct time_zone *zone_load(const char *name)
{
  const char *dir = getenv("TZDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  unsigned char *data = mem_alloc(TZ_FILE_BYTES_MAX);
  size_t len = fread(data, 1, TZ_FILE_BYTES_MAX, f);
  fclose(f);
  struct time_zone *tz = tzif_parse(name, data, len);
  mem_free(data);
  return tz;
}

const struct time_zone *timezone_utc(void) { return &utc_zone; }

const struct time_zone *timezone_get(const char *name)
{
  static _Thread_local const struct time_zone *last;
  if (!name)
    return NULL;
  if (strcmp(name, "UTC") == 0)
    return &utc_zone;
  const struct time_zone *l = last;
  if (l && strcmp(l->name, name) == 0)
    return l;
  if (!name_is_safe(name))
    return NULL;
  pthread_mutex_lock(&zone_lock);
  struct time_zone *tz;
  for (tz = zone_list; tz; tz = tz->next)
    if (strcmp(tz->name, name) == 0)
      break;
  if (!tz && (tz = zone_load(name))) {
    tz->next = zone_list;
    zone_list = tz;
  }
  pthread_mutex_unlock(&zone_lock);
  if (tz)
    last = tz;
  return tz;
}

const struct time_zone *timezone_default(void)
{
  const struct time_zone *tz = atomic_load(&default_zone);
  return tz ? tz : &utc_zone;
}

bool timezone_set_default(const char *name)
{
  const struct time_zone *tz = timezone_get(name);
  if (!tz)
    return false;
  atomic_store(&default_zone, tz);
  return true;
}

const char *timezone_name(const struct time_zone *tz) { return tz->name; }

const struct time_zone *timezone_or_default(const char *name)
{
  if (!name)
    return timezone_default();
  const struct time_zone *tz = timezone_get(name);
  return tz ? tz : &utc_zone;
}

/* ---- offsets ---- */

int32_t timezone_offset_at_utc(const struct time_zone *tz, int64_t utc_seconds)
{
  if (tz == &utc_zone)
    return 0;
  uint32_t n = tz->transition_count;
  if (n == 0 || utc_seconds < tz->transitions[0]) {
    if (n == 0 && tz->has_rule)
      return rule_offset_at(&tz->rule, utc_seconds);
    return tz->initial_offset;
  }
  if (utc_seconds >= tz->transitions[n - 1]) {
    if (tz->has_rule)
      return rule_offset_at(&tz->rule, utc_seconds);
    return tz->offsets[n - 1];
  }
  /* Last transition <= utc_seconds. */
  uint32_t lo = 0, hi = n - 1;
  while (lo + 1 < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (tz->transitions[mid] <= utc_seconds)
      lo = mid;
    else
      hi = mid;
  }
  return tz->offsets[lo];
}

int64_t timezone_local_to_utc(const struct time_zone *tz, int64_t local_seconds)
{
  if (tz == &utc_zone)
    return local_seconds;
  /* Offsets never exceed a day, so these two probes bracket the answer. */
  int32_t before = timezone_offset_at_utc(tz, local_seconds - 86400);
  int32_t after = timezone_offset_at_utc(tz, local_seconds + 86400);
  int64_t t1 = local_seconds - before, t2 = local_seconds - after;
  bool ok1 = timezone_offset_at_utc(tz, t1) == before;
  bool ok2 = timezone_offset_at_utc(tz, t2) == after;
  if (ok1 && ok2)
    return t1 < t2 ? t1 : t2;
  if (ok2)
    return t2;
  if (ok1)
    return t1;
  /* A gap: keep the offset before the change. */
  return t1;
}

void timezone_to_civil(const struct time_zone *tz, int64_t utc_seconds, struct civil_time *out)
{
  int32_t off = timezone_offset_at_utc(tz, utc_seconds);
  int64_t local = utc_seconds + off;
  int64_t days = civil_floor_div(local, 86400);
  int64_t secs = local - days * 86400;
  civil_ymd_from_days(days, &out->year, &out->month, &out->day);
  out->hour = (int)(secs / 3600);
  out->minute = (int)(secs / 60 % 60);
  out->second = (int)(secs % 60);
  out->weekday = civil_weekday_from_days(days);
  out->yearday = (int)(days - civil_days_from_ymd(out->year, 1, 1) + 1);
  out->utc_offset = off;
}

int64_t timezone_from_civil(const struct time_zone *tz, const struct civil_time *t)
{
  int64_t days = civil_days_from_ymd(t->year, t->month, t->day);
  int64_t local = days * 86400 + (int64_t)t->hour * 3600 + t->minute * 60 + t->second;
  return timezone_local_to_utc(tz, local);
}
