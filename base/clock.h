/* Clocks: monotonic for durations, realtime for timestamps; nanoseconds. */
#ifndef SPANHOUSE_BASE_CLOCK_H
#define SPANHOUSE_BASE_CLOCK_H

#include <stdint.h>

int64_t clock_monotonic_ns(void);
int64_t clock_realtime_ns(void);
static inline int64_t clock_elapsed_ns(int64_t since_ns) { return clock_monotonic_ns() - since_ns; }

#endif
