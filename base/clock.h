/* Clocks: monotonic for durations, realtime for timestamps; nanoseconds. */
#ifndef SPANHOUSE_BASE_CLOCK_H
#define SPANHOUSE_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

int64_t clock_monotonic_ns(void);
int64_t clock_realtime_ns(void);
static inline int64_t clock_elapsed_ns(int64_t since_ns) { return clock_monotonic_ns() - since_ns; }
/* The realtime instant `ns` from now, as pthread_cond_timedwait wants it. */
struct timespec clock_realtime_deadline(int64_t ns);

#endif
