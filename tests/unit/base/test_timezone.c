/* Civil-time arithmetic and TZif zones (skips the zone part without tzdata). */
#include "base/timezone.h"
#include "tests/unit/test.h"

static void test_civil(void)
{
  CHECK_EQ_INT(civil_days_from_ymd(1970, 1, 1), 0);
  CHECK_EQ_INT(civil_days_from_ymd(2020, 1, 1), 18262);
  CHECK_EQ_INT(civil_days_from_ymd(1969, 12, 31), -1);
  CHECK_EQ_INT(civil_days_from_ymd(2000, 3, 1), 11017);
  CHECK_EQ_INT(civil_days_from_ymd(2149, 6, 6), 65535);
  for (int64_t d = -800000; d < 800000; d += 997) {
    int64_t y;
    int m, day;
    civil_ymd_from_days(d, &y, &m, &day);
    if (civil_days_from_ymd(y, m, day) != d || m < 1 || m > 12 || day < 1 || day > civil_days_in_month(y, m)) {
      fprintf(stderr, "day %lld round trip failed\n", (long long)d);
      test_failures++;
      break;
    }
  }
  CHECK_EQ_INT(civil_weekday_from_days(0), 4);       /* Thursday */
  CHECK_EQ_INT(civil_weekday_from_days(-1), 3);
  CHECK_EQ_INT(civil_weekday_from_days(18262), 3);   /* 2020-01-01 Wednesday */
  CHECK(civil_is_leap_year(2000) && !civil_is_leap_year(1900) && civil_is_leap_year(2024));
  CHECK_EQ_INT(civil_days_in_month(2024, 2), 29);
  CHECK_EQ_INT(civil_floor_div(-1, 86400), -1);
  CHECK_EQ_INT(civil_floor_div(86400, 86400), 1);
}

static void test_utc(void)
{
  const struct time_zone *utc = timezone_get("UTC");
  REQUIRE(utc && utc == timezone_utc());
  CHECK_EQ_STR(timezone_name(utc), "UTC");
  CHECK_EQ_INT(timezone_offset_at_utc(utc, 1234567890), 0);
  struct civil_time ct;
  timezone_to_civil(utc, 1577934245, &ct);
  CHECK_EQ_INT(ct.year, 2020);
  CHECK_EQ_INT(ct.month, 1);
  CHECK_EQ_INT(ct.day, 2);
  CHECK_EQ_INT(ct.hour, 3);
  CHECK_EQ_INT(ct.minute, 4);
  CHECK_EQ_INT(ct.second, 5);
  CHECK_EQ_INT(ct.weekday, 4);
  CHECK_EQ_INT(ct.yearday, 2);
  CHECK_EQ_INT(timezone_from_civil(utc, &ct), 1577934245);
  timezone_to_civil(utc, -1, &ct);
  CHECK_EQ_INT(ct.year, 1969);
  CHECK_EQ_INT(ct.second, 59);
  CHECK(timezone_get(NULL) == NULL);
  CHECK(timezone_get("") == NULL);
  CHECK(timezone_get("../etc/passwd") == NULL);
  CHECK(timezone_get("/etc/localtime") == NULL);
  CHECK(timezone_get("No/Such_Zone") == NULL);
  CHECK(timezone_default() == utc);
  CHECK(timezone_or_default(NULL) == utc);
}

static void test_zones(void)
{
  const struct time_zone *ny = timezone_get("America/New_York");
  if (!ny) {
    fprintf(stderr, "no tzdata: zone tests skipped\n");
    return;
  }
  CHECK(timezone_get("America/New_York") == ny);
  CHECK_EQ_STR(timezone_name(ny), "America/New_York");
  CHECK_EQ_INT(timezone_offset_at_utc(ny, 1577934245), -5 * 3600);   /* January: EST */
  CHECK_EQ_INT(timezone_offset_at_utc(ny, 1593561600), -4 * 3600);   /* July: EDT */
  /* far future comes from the POSIX rule in the footer: 2100-07-01, 2100-01-01 */
  CHECK_EQ_INT(timezone_offset_at_utc(ny, 4118083200), -4 * 3600);
  CHECK_EQ_INT(timezone_offset_at_utc(ny, 4102444800), -5 * 3600);
  /* 2021-03-14 02:30 does not exist in New York → 03:30 EDT = 07:30 UTC */
  struct civil_time ct = { .year = 2021, .month = 3, .day = 14, .hour = 2, .minute = 30 };
  CHECK_EQ_INT(timezone_from_civil(ny, &ct), 1615707000);
  /* 2021-11-07 01:30 happens twice → the first (EDT, 05:30 UTC) */
  ct = (struct civil_time){ .year = 2021, .month = 11, .day = 7, .hour = 1, .minute = 30 };
  CHECK_EQ_INT(timezone_from_civil(ny, &ct), 1636263000);
  /* round trip across a year, hour by hour */
  for (int64_t t = 1609459200; t < 1609459200 + 366 * 86400; t += 3600) {
    timezone_to_civil(ny, t, &ct);
    int64_t back = timezone_from_civil(ny, &ct);
    if (back != t && !(back == t - 3600)) {  /* repeated hour maps to its first occurrence */
      fprintf(stderr, "NY round trip failed at %lld → %lld\n", (long long)t, (long long)back);
      test_failures++;
      break;
    }
  }
  const struct time_zone *msk = timezone_get("Europe/Moscow");
  if (msk) {
    CHECK_EQ_INT(timezone_offset_at_utc(msk, 1577934245), 3 * 3600);
    CHECK_EQ_INT(timezone_offset_at_utc(msk, 1262304000), 3 * 3600);   /* 2010-01-01: MSK was +3 */
    CHECK_EQ_INT(timezone_offset_at_utc(msk, 1341100800), 4 * 3600);   /* 2012-07-01: +4 all year */
  }
  const struct time_zone *kol = timezone_get("Asia/Kolkata");
  if (kol)
    CHECK_EQ_INT(timezone_offset_at_utc(kol, 1577934245), 19800);
  const struct time_zone *syd = timezone_get("Australia/Sydney");
  if (syd) {
    CHECK_EQ_INT(timezone_offset_at_utc(syd, 4102444800), 11 * 3600);  /* 2100-01-01 summer */
    CHECK_EQ_INT(timezone_offset_at_utc(syd, 4118083200), 10 * 3600);  /* 2100-07-01 winter */
  }
  CHECK(timezone_set_default("America/New_York"));
  CHECK(timezone_default() == ny);
  CHECK(!timezone_set_default("Nope/Nope"));
  CHECK(timezone_or_default(NULL) == ny);
  CHECK(timezone_or_default("Nope/Nope") == timezone_utc());
}

int main(void)
{
  test_civil();
  test_utc();
  test_zones();
  TEST_DONE();
}
