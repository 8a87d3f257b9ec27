/* Metrics registry; see metrics.h. Entries are kept in registration order
 * and grouped by name at render time, as the exposition format wants all
 * samples of one metric family together. */
#include "base/metrics.h"
#include "base/alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE_FN, METRIC_COUNTER_FN, METRIC_HISTOGRAM };

struct metric_entry {
  enum metric_kind kind;
  char *name, *labels, *help;
  struct metric_counter counter;
  struct metric_histogram *hist;
  metric_gauge_fn fn;
  void *ctx;
};

struct metrics {
  pthread_mutex_t lock;
  struct metric_entry **entries;
  size_t count, cap;
};

const double metrics_seconds_buckets[] = {
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};
const int metrics_seconds_bucket_count = (int)(sizeof metrics_seconds_buckets / sizeof metrics_seconds_buckets[0]);

struct metrics *metrics_create(void)
{
  struct metrics *m = mem_calloc(1, sizeof *m);
  pthread_mutex_init(&m->lock, NULL);
  return m;
}

void metrics_destroy(struct metrics *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->count; i++) {
    struct metric_entry *e = m->entries[i];
    mem_free(e->name);
    mem_free(e->labels);
    mem_free(e->help);
    mem_free(e->hist);
    mem_free(e);
  }
  mem_free(m->entries);
  pthread_mutex_destroy(&m->lock);
  mem_free(m);
}

static struct metric_entry *find_locked(struct metrics *m, const char *name, const char *labels)
{
  for (size_t i = 0; i < m->count; i++)
    if (strcmp(m->entries[i]->name, name) == 0 && strcmp(m->entries[i]->labels, labels) == 0)
      return m->entries[i];
  return NULL;
}

static struct metric_entry *add_locked(struct metrics *m, enum metric_kind kind, const char *name,
                                       const char *labels, const char *help)
{
  struct metric_entry *e = mem_calloc(1, sizeof *e);
  e->kind = kind;
  e->name = mem_strdup(name);
  e->labels = mem_strdup(labels ? labels : "");
  e->help = mem_strdup(help ? help : "");
  if (m->count == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 32;
    m->entries = mem_realloc(m->entries, m->cap * sizeof *m->entries);
  }
  m->entries[m->count++] = e;
  return e;
}

struct metric_counter *metrics_counter(struct metrics *m, const char *name, const char *labels, const char *help)
{
  if (!m)
    return NULL;
  labels = labels ? labels : "";
  pthread_mutex_lock(&m->lock);
  struct metric_entry *e = find_locked(m, name, labels);
  if (!e)
    e = add_locked(m, METRIC_COUNTER, name, labels, help);
  pthread_mutex_unlock(&m->lock);
  return &e->counter;
}

struct metric_histogram *metrics_histogram(struct metrics *m, const char *name, const char *labels,
                                           const char *help, const double *bounds, int bound_count)
{
  if (!m)
    return NULL;
  labels = labels ? labels : "";
  pthread_mutex_lock(&m->lock);
  struct metric_entry *e = find_locked(m, name, labels);
  if (!e) {
    e = add_locked(m, METRIC_HISTOGRAM, name, labels, help);
    e->hist = mem_calloc(1, sizeof *e->hist);
    if (bound_count > METRIC_BUCKETS_MAX)
      bound_count = METRIC_BUCKETS_MAX;
    e->hist->bucket_count = bound_count;
    memcpy(e->hist->bounds, bounds, (size_t)bound_count * sizeof *bounds);
  }
  pthread_mutex_unlock(&m->lock);
  return e->hist;
}

static void add_fn(struct metrics *m, enum metric_kind kind, const char *name, const char *labels,
                   const char *help, metric_gauge_fn fn, void *ctx)
{
  if (!m)
    return;
  labels = labels ? labels : "";
  pthread_mutex_lock(&m->lock);
  struct metric_entry *e = find_locked(m, name, labels);
  if (!e)
    e = add_locked(m, kind, name, labels, help);
  e->fn = fn;
  e->ctx = ctx;
  pthread_mutex_unlock(&m->lock);
}

void metrics_gauge_fn(struct metrics *m, const char *name, const char *labels, const char *help,
                      metric_gauge_fn fn, void *ctx)
{
  add_fn(m, METRIC_GAUGE_FN, name, labels, help, fn, ctx);
}

void metrics_counter_fn(struct metrics *m, const char *name, const char *labels, const char *help,
                        metric_gauge_fn fn, void *ctx)
{
  add_fn(m, METRIC_COUNTER_FN, name, labels, help, fn, ctx);
}

void metrics_forget_ctx(struct metrics *m, void *ctx)
{
  if (!m)
    return;
  pthread_mutex_lock(&m->lock);
  for (size_t i = 0; i < m->count; i++)
    if (m->entries[i]->fn && m->entries[i]->ctx == ctx) {
      m->entries[i]->fn = NULL;
      m->entries[i]->ctx = NULL;
    }
  pthread_mutex_unlock(&m->lock);
}

void metric_observe(struct metric_histogram *h, double value)
{
  if (!h)
    return;
  int i = 0;
  while (i < h->bucket_count && value > h->bounds[i])
    i++;
  atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
  uint64_t old_bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed), new_bits;
  do {
    double sum;
    memcpy(&sum, &old_bits, sizeof sum);
    sum += value;
    memcpy(&new_bits, &sum, sizeof sum);
  } while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &old_bits, new_bits,
                                                  memory_order_relaxed, memory_order_relaxed));
}

static void render_value(struct buf *out, double v)
{
  if (isinf(v))
    buf_append_cstr(out, v > 0 ? "+Inf" : "-Inf");
  else if (isnan(v))
    buf_append_cstr(out, "NaN");
  else if (v == floor(v) && fabs(v) < 1e15)
    buf_printf(out, "%.0f", v);
  else
    buf_printf(out, "%.9g", v);
}

static void render_sample(struct buf *out, const char *name, const char *suffix, const char *labels,
                          const char *extra_label, double v)
{
  buf_printf(out, "%s%s", name, suffix);
  bool has = labels[0] != '\0';
  if (has || extra_label) {
    buf_append_char(out, '{');
    buf_append_cstr(out, labels);
    if (extra_label) {
      if (has)
        buf_append_char(out, ',');
      buf_append_cstr(out, extra_label);
    }
    buf_append_char(out, '}');
  }
  buf_append_char(out, ' ');
  render_value(out, v);
  buf_append_char(out, '\n');
}

static void render_histogram(struct buf *out, const struct metric_entry *e)
{
  struct metric_histogram *h = e->hist;
  uint64_t cumulative = 0;
  char le[48];
  for (int i = 0; i <= h->bucket_count; i++) {
    cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
    if (i < h->bucket_count)
      snprintf(le, sizeof le, "le=\"%g\"", h->bounds[i]);
    else
      snprintf(le, sizeof le, "le=\"+Inf\"");
    render_sample(out, e->name, "_bucket", e->labels, le, (double)cumulative);
  }
  uint64_t bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
  double sum;
  memcpy(&sum, &bits, sizeof sum);
  render_sample(out, e->name, "_sum", e->labels, NULL, sum);
  render_sample(out, e->name, "_count", e->labels, NULL,
                (double)atomic_load_explicit(&h->count, memory_order_relaxed));
}

static const char *type_name(enum metric_kind k)
{
  switch (k) {
  case METRIC_COUNTER:
  case METRIC_COUNTER_FN: return "counter";
  case METRIC_HISTOGRAM:  return "histogram";
  default:                return "gauge";
  }
}

void metrics_render(struct metrics *m, struct buf *out)
{
  pthread_mutex_lock(&m->lock);
  bool *done = mem_calloc(m->count ? m->count : 1, sizeof *done);
  for (size_t i = 0; i < m->count; i++) {
    if (done[i])
      continue;
    const struct metric_entry *first = m->entries[i];
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", first->name, first->help, first->name,
               type_name(first->kind));
    for (size_t j = i; j < m->count; j++) {
      const struct metric_entry *e = m->entries[j];
      if (done[j] || strcmp(e->name, first->name) != 0)
        continue;
      done[j] = true;
      switch (e->kind) {
      case METRIC_COUNTER:
        render_sample(out, e->name, "", e->labels, NULL,
                      (double)atomic_load_explicit(&((struct metric_entry *)e)->counter.value, memory_order_relaxed));
        break;
      case METRIC_GAUGE_FN:
      case METRIC_COUNTER_FN:
        if (e->fn)
          render_sample(out, e->name, "", e->labels, NULL, e->fn(e->ctx));
        break;
      case METRIC_HISTOGRAM:
        render_histogram(out, e);
        break;
      }
    }
  }
  mem_free(done);
  pthread_mutex_unlock(&m->lock);
}
