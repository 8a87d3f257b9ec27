/* Time zones and civil time: UTC offsets of IANA zones read from TZif files
 * (/usr/share/zoneinfo, or $TZDIR), and the calendar arithmetic DateTime
 * rendering and the date/time functions share. Zones load once into a
 * process-wide cache (mutex-protected) and are immutable afterwards, so a
 * returned pointer is valid for the life of the process and may be used from
 * any thread without locking. "UTC" never touches the disk. */
#ifndef SPANHOUSE_BASE_TIMEZONE_H
#define SPANHOUSE_BASE_TIMEZONE_H

#include <stdbool.h>
#include <stdint.h>

/* Not `struct timezone`: glibc's <sys/time.h> already owns that tag. */
struct time_zone;

/* Broken-down time in some zone. */
struct civil_time {
  int64_t year;
  int month;           /* 1..12 */
  int day;             /* 1..31 */
  int hour;            /* 0..23 */
  int minute;          /* 0..59 */
  int second;          /* 0..59 */
  int weekday;         /* 1 = Monday .. 7 = Sunday (ISO, as toDayOfWeek) */
  int yearday;         /* 1..366 */
  int32_t utc_offset;  /* seconds east of UTC in effect at that instant */
};

/* ---- zones ---- */
/* NULL when the name is unknown or its TZif file is unreadable/corrupt. */
const struct time_zone *timezone_get(const char *name);
const struct time_zone *timezone_utc(void);
/* The server zone, used for DateTime values without their own zone; UTC
 * until timezone_set_default succeeds. Set once at start-up. */
const struct time_zone *timezone_default(void);
bool timezone_set_default(const char *name);       /* false if unknown */
const char *timezone_name(const struct time_zone *tz);
/* Resolves a type's optional zone name: NULL → default zone; unknown → UTC. */
const struct time_zone *timezone_or_default(const char *name);

/* ---- offsets ---- */
int32_t timezone_offset_at_utc(const struct time_zone *tz, int64_t utc_seconds);  /* seconds east of UTC */
/* Local wall-clock seconds (civil seconds counted as if the zone were UTC)
 * to UTC. In an overlap (clocks set back) the earlier instant wins; in a gap
 * (clocks set forward) the offset before the change is used, so 02:30 on a
 * spring-forward night becomes 03:30 local. */
int64_t timezone_local_to_utc(const struct time_zone *tz, int64_t local_seconds);

/* ---- civil time ---- */
int64_t civil_days_from_ymd(int64_t year, int month, int day);   /* days since 1970-01-01, proleptic Gregorian */
void civil_ymd_from_days(int64_t days, int64_t *year, int *month, int *day);
int civil_weekday_from_days(int64_t days);                      /* 1 = Monday .. 7 = Sunday */
bool civil_is_leap_year(int64_t year);
int civil_days_in_month(int64_t year, int month);
/* floor division helpers for negative times */
static inline int64_t civil_floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void timezone_to_civil(const struct time_zone *tz, int64_t utc_seconds, struct civil_time *out);
/* year..second of `t` read as wall-clock time in tz → UTC seconds (see timezone_local_to_utc). */
int64_t timezone_from_civil(const struct time_zone *tz, const struct civil_time *t);

#endif
