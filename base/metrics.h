/* Process metrics: a registry of counters, gauges (read through a callback)
 * and fixed-bucket histograms, rendered in the Prometheus text exposition
 * format. Updates are lock-free atomics; the registry lock is only taken to
 * register and to render. There is no global registry: the server context
 * owns one and passes it to whoever records. */
#ifndef SPANHOUSE_BASE_METRICS_H
#define SPANHOUSE_BASE_METRICS_H

#include "base/buf.h"

#include <stdatomic.h>
#include <stdint.h>

struct metrics;

struct metric_counter {
  _Atomic uint64_t value;
};

enum { METRIC_BUCKETS_MAX = 24 };

struct metric_histogram {
  int bucket_count;
  double bounds[METRIC_BUCKETS_MAX];           /* upper bounds, ascending; +Inf implied */
  _Atomic uint64_t buckets[METRIC_BUCKETS_MAX + 1];   /* per bucket, not cumulative */
  _Atomic uint64_t count;
  _Atomic uint64_t sum_bits;                   /* double, updated by CAS */
};

typedef double (*metric_gauge_fn)(void *ctx);

struct metrics *metrics_create(void);
void metrics_destroy(struct metrics *m);

/* Registration returns the same object for the same name and labels, so
 * two servers can share e.g. spanhouse_http_requests_total{server="..."}.
 * labels is "" or Prometheus label text without braces: `kind="parse"`.
 * Objects live as long as the registry. Any thread. */
struct metric_counter *metrics_counter(struct metrics *m, const char *name, const char *labels, const char *help);
struct metric_histogram *metrics_histogram(struct metrics *m, const char *name, const char *labels,
                                           const char *help, const double *bounds, int bound_count);
/* A gauge evaluated at render time (memory, connections, loop counters). A
 * "counter" type makes it render as TYPE counter (monotonic values read from
 * elsewhere). */
void metrics_gauge_fn(struct metrics *m, const char *name, const char *labels, const char *help,
                      metric_gauge_fn fn, void *ctx);
void metrics_counter_fn(struct metrics *m, const char *name, const char *labels, const char *help,
                        metric_gauge_fn fn, void *ctx);

static inline void metric_add(struct metric_counter *c, uint64_t n)
{
  if (c)
    atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}
static inline void metric_inc(struct metric_counter *c) { metric_add(c, 1); }
static inline uint64_t metric_get(struct metric_counter *c)
{
  return c ? atomic_load_explicit(&c->value, memory_order_relaxed) : 0;
}
void metric_observe(struct metric_histogram *h, double value);

/* Detaches every callback gauge registered with ctx (call before freeing
 * ctx); the series disappear from the output. */
void metrics_forget_ctx(struct metrics *m, void *ctx);

/* Appends the exposition text (HELP and TYPE once per name). */
void metrics_render(struct metrics *m, struct buf *out);

/* Latency buckets in seconds, 1 ms .. 60 s. */
extern const double metrics_seconds_buckets[];
extern const int metrics_seconds_bucket_count;

#endif
