/* Clock readings; see clock.h. */
#include "base/clock.h"

#include <time.h>

static int64_t read_clock(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_monotonic_ns(void) { return read_clock(CLOCK_MONOTONIC); }
int64_t clock_realtime_ns(void) { return read_clock(CLOCK_REALTIME); }

struct timespec clock_realtime_deadline(int64_t ns)
{
  int64_t at = clock_realtime_ns() + ns;
  return (struct timespec){ .tv_sec = (time_t)(at / 1000000000), .tv_nsec = (long)(at % 1000000000) };
}
