/* loadgen: `spanhouse loadgen`, an OTLP trace load generator (see
 * docs/loadgen.md). It builds a pool of realistic export requests first,
 * then runs one thread per connection, each sending one request at a time
 * until the duration or the request count is reached, optionally paced to a
 * span rate. It reports requests by outcome and status, spans sent and
 * acknowledged, achieved spans/s and request latency percentiles, as text
 * or as one JSON object for the benchmark harness.
 *
 * Requests are handed out by ticket: ticket k is request k of the run, sent
 * by whichever connection takes it; with --rate it is due at
 * start + k * batch / rate, so the pace holds across connections. */
#include "tools/loadgen.h"
#include "tools/tracegen.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/net.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  STATUS_MAX        = 600,          /* HTTP statuses and grpc-status codes are below */
  POOL_BODIES       = 64,
  CONNECTIONS_MAX   = 1024,
  BATCH_MAX         = 100000,
  POOL_SPANS_MAX    = 512 * 1024,   /* ~350 MB of requests: --bodies shrinks to fit */
  ATTRS_FORCED_MAX  = SPAN_ATTRS_CAP,
  RECONNECT_PAUSE_MS = 100,         /* after a failed reconnect, so a dead server is not spun on */
};

struct loadgen_options {
  const struct loadgen_transport *transport;
  char endpoint[300];
  double rate;                      /* spans/s over all connections; 0 = as fast as possible */
  long batch;                       /* spans per request */
  long services;                    /* 0 = the generator's 35 */
  long attributes;                  /* per span; 0 = the generator's natural mix */
  long connections;
  double duration_s;                /* 0 = until requests_max */
  long long requests_max;           /* 0 = until duration_s */
  const char *tenant;
  unsigned long long seed;
  long bodies;                      /* distinct pre-encoded requests */
  double timeout_s;
  long refused_pause_ms;            /* a connection's pause after a refused request */
  bool json, allow_failures;
};

/* What one connection saw; merged after the run. */
struct worker_stats {
  uint64_t requests, ok, refused, rejected, broken;
  uint64_t spans_sent, spans_acked, spans_rejected, bytes_sent;
  int retry_after_max_s;            /* -1 if never given */
  uint64_t status_count[STATUS_MAX];
  int64_t *latency_ns;              /* one per answered request */
  size_t latencies, latency_cap;
  char first_failure[160];
};

struct run;

struct worker {
  struct run *run;
  pthread_t thread;
  void *conn;
  uint8_t *copy;                    /* this connection's salted request */
  struct worker_stats st;
};

/* Shared by the connection threads; read-only during the run except the ticket. */
struct run {
  const struct loadgen_options *o;
  struct loadgen_target target;
  struct loadgen_pool pool;
  _Atomic uint64_t next_ticket;
  int64_t start_ns, deadline_ns;    /* monotonic; deadline 0 = none */
  double interval_ns;               /* between due times with --rate; 0 = none */
  uint64_t salt_base;               /* differs per run, so reruns never repeat ids */
};

/* ---- options */

static void usage(FILE *out)
{
  fprintf(out,
          "usage: spanhouse loadgen [options]\n"
          "Sends generated OTLP traces to a server and reports throughput and latency.\n\n"
          "  --protocol http|grpc   OTLP/HTTP protobuf or OTLP/gRPC (default http)\n"
          "  --endpoint HOST:PORT   default 127.0.0.1:4318 (http) or 127.0.0.1:4317 (grpc)\n"
          "  --rate N               spans per second over all connections; 0 = as fast as possible (default)\n"
          "  --batch N              spans per request (default 1000)\n"
          "  --services N           distinct service names, 1..%d (default: the generator's %d)\n"
          "  --attributes N         attributes per span, 0..%d; 0 = the generator's 5..20 mix (default 15)\n"
          "  --connections N        connections, one thread each (default 2)\n"
          "  --duration SECONDS     how long to send (default 10, unless --requests is given)\n"
          "  --requests N           total requests to send, then stop\n"
          "  --tenant NAME          sent as X-Scope-OrgID (HTTP header / gRPC metadata)\n"
          "  --seed N               generator seed (default 1)\n"
          "  --bodies N             distinct pre-encoded requests (default %d)\n"
          "  --timeout SECONDS      per request and per connect (default 30)\n"
          "  --refused-pause-ms N   after a refused request (429/503, RESOURCE_EXHAUSTED/UNAVAILABLE) the\n"
          "                         connection waits N ms before its next one (default 200; 0 = none)\n"
          "  --json                 print one JSON object instead of the text summary\n"
          "  --allow-failures       exit 0 even if requests failed\n"
          "Exit status: 0 if every request succeeded, 1 if any failed, 2 on bad usage or no connection.\n",
          TRACEGEN_SERVICES_MAX, SVC_COUNT, ATTRS_FORCED_MAX, POOL_BODIES);
}

static int parse_long(const char *flag, const char *v, long long lo, long long hi, long long *out, struct error *err)
{
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno || n < lo || n > hi)
    return error_set(err, ERR_BAD_ARGUMENTS, "%s: '%s' is not a number in [%lld, %lld]", flag, v, lo, hi);
  *out = n;
  return 0;
}

static int parse_double(const char *flag, const char *v, double lo, double *out, struct error *err)
{
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (*v == '\0' || *end != '\0' || errno || !(d >= lo) || isinf(d))
    return error_set(err, ERR_BAD_ARGUMENTS, "%s: '%s' is not a number >= %g", flag, v, lo);
  *out = d;
  return 0;
}

static int parse_options(int argc, char **argv, struct loadgen_options *o, struct error *err)
{
  *o = (struct loadgen_options){ .transport = &loadgen_http_transport, .batch = 1000, .attributes = 15,
                                 .connections = 2, .seed = 1, .bodies = POOL_BODIES, .timeout_s = 30,
                                 .refused_pause_ms = 200 };
  bool duration_given = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--json") == 0) {
      o->json = true;
      continue;
    }
    if (strcmp(a, "--allow-failures") == 0) {
      o->allow_failures = true;
      continue;
    }
    if (i + 1 >= argc)
      return error_set(err, ERR_BAD_ARGUMENTS, "unknown option or missing value: '%s' (see --help)", a);
    const char *v = argv[++i];
    long long n = 0;
    int rc = 0;
    if (strcmp(a, "--protocol") == 0) {
      if (strcmp(v, "http") == 0)
        o->transport = &loadgen_http_transport;
      else if (strcmp(v, "grpc") == 0)
        o->transport = &loadgen_grpc_transport;
      else
        rc = error_set(err, ERR_BAD_ARGUMENTS, "--protocol: '%s' is neither http nor grpc", v);
    } else if (strcmp(a, "--endpoint") == 0) {
      if (strlen(v) >= sizeof o->endpoint)
        rc = error_set(err, ERR_BAD_ARGUMENTS, "--endpoint is too long");
      else
        snprintf(o->endpoint, sizeof o->endpoint, "%s", v);
    } else if (strcmp(a, "--rate") == 0) {
      rc = parse_double(a, v, 0, &o->rate, err);
    } else if (strcmp(a, "--batch") == 0) {
      if ((rc = parse_long(a, v, 1, BATCH_MAX, &n, err)) == 0)
        o->batch = (long)n;
    } else if (strcmp(a, "--services") == 0) {
      if ((rc = parse_long(a, v, 1, TRACEGEN_SERVICES_MAX, &n, err)) == 0)
        o->services = (long)n;
    } else if (strcmp(a, "--attributes") == 0) {
      if ((rc = parse_long(a, v, 0, ATTRS_FORCED_MAX, &n, err)) == 0)
        o->attributes = (long)n;
    } else if (strcmp(a, "--connections") == 0) {
      if ((rc = parse_long(a, v, 1, CONNECTIONS_MAX, &n, err)) == 0)
        o->connections = (long)n;
    } else if (strcmp(a, "--duration") == 0) {
      rc = parse_double(a, v, 0, &o->duration_s, err);
      duration_given = true;
    } else if (strcmp(a, "--requests") == 0) {
      if ((rc = parse_long(a, v, 1, (long long)1 << 40, &n, err)) == 0)
        o->requests_max = n;
    } else if (strcmp(a, "--tenant") == 0) {
      o->tenant = v;
    } else if (strcmp(a, "--seed") == 0) {
      if ((rc = parse_long(a, v, 0, (long long)1 << 62, &n, err)) == 0)
        o->seed = (unsigned long long)n;
    } else if (strcmp(a, "--bodies") == 0) {
      if ((rc = parse_long(a, v, 1, 4096, &n, err)) == 0)
        o->bodies = (long)n;
    } else if (strcmp(a, "--timeout") == 0) {
      rc = parse_double(a, v, 0.001, &o->timeout_s, err);
    } else if (strcmp(a, "--refused-pause-ms") == 0) {
      if ((rc = parse_long(a, v, 0, 600000, &n, err)) == 0)
        o->refused_pause_ms = (long)n;
    } else {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "unknown option '%s' (see --help)", a);
    }
    if (rc)
      return rc;
  }
  if (!duration_given && o->requests_max == 0)
    o->duration_s = 10;
  if (o->duration_s == 0 && o->requests_max == 0)
    return error_set(err, ERR_BAD_ARGUMENTS, "--duration 0 needs --requests");
  if (o->tenant && strpbrk(o->tenant, "\r\n"))
    return error_set(err, ERR_BAD_ARGUMENTS, "--tenant must not contain line breaks");
  return 0;
}

/* ---- the connection threads */

static void sleep_until(int64_t due_ns)
{
  for (;;) {
    int64_t left = due_ns - clock_monotonic_ns();
    if (left <= 0)
      return;
    struct timespec ts = { .tv_sec = left / 1000000000, .tv_nsec = left % 1000000000 };
    nanosleep(&ts, NULL);
  }
}

static void record(struct worker_stats *st, const struct loadgen_body *body, const struct loadgen_reply *reply,
                   int64_t latency_ns)
{
  st->requests++;
  st->spans_sent += body->spans;
  st->bytes_sent += body->len;
  if (reply->status >= 0 && reply->status < STATUS_MAX)
    st->status_count[reply->status]++;
  if (reply->outcome != LOADGEN_BROKEN) {
    if (st->latencies == st->latency_cap) {
      st->latency_cap = st->latency_cap ? 2 * st->latency_cap : 1024;
      st->latency_ns = mem_realloc(st->latency_ns, st->latency_cap * sizeof *st->latency_ns);
    }
    st->latency_ns[st->latencies++] = latency_ns;
  }
  switch (reply->outcome) {
  case LOADGEN_OK: {
    uint64_t rejected = reply->rejected_spans < body->spans ? reply->rejected_spans : body->spans;
    st->ok++;
    st->spans_acked += body->spans - rejected;
    st->spans_rejected += rejected;
    return;
  }
  case LOADGEN_REFUSED:
    st->refused++;
    if (reply->retry_after_s > st->retry_after_max_s)
      st->retry_after_max_s = reply->retry_after_s;
    return;
  case LOADGEN_REJECTED:
    st->rejected++;
    break;
  case LOADGEN_BROKEN:
    st->broken++;
    break;
  }
  if (!st->first_failure[0])
    snprintf(st->first_failure, sizeof st->first_failure, "%s", reply->detail);
}

static void *worker_main(void *arg)
{
  struct worker *w = arg;
  struct run *run = w->run;
  const struct loadgen_options *o = run->o;
  for (;;) {
    uint64_t k = atomic_fetch_add(&run->next_ticket, 1);
    if (o->requests_max && k >= (uint64_t)o->requests_max)
      break;
    if (run->interval_ns > 0) {
      int64_t due = run->start_ns + (int64_t)((double)k * run->interval_ns);
      if (run->deadline_ns && due >= run->deadline_ns)
        break;
      sleep_until(due);
    }
    if (run->deadline_ns && clock_monotonic_ns() >= run->deadline_ns)
      break;
    const struct loadgen_body *body = &run->pool.bodies[k % run->pool.count];
    /* One salt per pass over the pool: a trace the batcher split across two
     * bodies keeps one trace id, and every pass gets new ids. */
    loadgen_body_copy_salted(body, run->salt_base + k / run->pool.count, clock_realtime_ns(), w->copy);
    struct loadgen_reply reply;
    int64_t t0 = clock_monotonic_ns();
    o->transport->export(w->conn, w->copy, body->len, &reply);
    record(&w->st, body, &reply, clock_monotonic_ns() - t0);
    if (reply.outcome == LOADGEN_BROKEN)
      sleep_until(clock_monotonic_ns() + RECONNECT_PAUSE_MS * 1000000LL);
    /* a refused client backs off, as exporters do (they wait Retry-After);
     * hammering would only spend the server's CPU on refusals */
    if (reply.outcome == LOADGEN_REFUSED && o->refused_pause_ms)
      sleep_until(clock_monotonic_ns() + o->refused_pause_ms * 1000000LL);
  }
  return NULL;
}

/* ---- the report */

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest rank over sorted samples, in milliseconds. */
static double percentile_ms(const int64_t *sorted, size_t n, double q)
{
  if (n == 0)
    return 0;
  size_t rank = (size_t)ceil(q * (double)n);
  return (double)sorted[rank ? rank - 1 : 0] / 1e6;
}

static void merge(struct worker_stats *total, const struct worker_stats *st)
{
  total->requests += st->requests;
  total->ok += st->ok;
  total->refused += st->refused;
  total->rejected += st->rejected;
  total->broken += st->broken;
  total->spans_sent += st->spans_sent;
  total->spans_acked += st->spans_acked;
  total->spans_rejected += st->spans_rejected;
  total->bytes_sent += st->bytes_sent;
  if (st->retry_after_max_s > total->retry_after_max_s)
    total->retry_after_max_s = st->retry_after_max_s;
  for (int s = 0; s < STATUS_MAX; s++)
    total->status_count[s] += st->status_count[s];
  if (st->latencies) {
    total->latency_ns = mem_realloc(total->latency_ns, (total->latencies + st->latencies) * sizeof(int64_t));
    memcpy(total->latency_ns + total->latencies, st->latency_ns, st->latencies * sizeof(int64_t));
    total->latencies += st->latencies;
  }
  if (!total->first_failure[0] && st->first_failure[0])
    snprintf(total->first_failure, sizeof total->first_failure, "%s", st->first_failure);
}

static void json_string(FILE *out, const char *s)
{
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c < 0x20)
      fprintf(out, "\\u%04x", c);
    else
      fputc(c, out);
  }
  fputc('"', out);
}

struct summary {
  const struct worker_stats *t;
  double elapsed_s, spans_per_s, requests_per_s;
  double p50, p90, p99, max;
};

static void print_text(FILE *out, const struct run *run, const struct summary *s)
{
  const struct loadgen_options *o = run->o;
  const struct worker_stats *t = s->t;
  fprintf(out, "loadgen: %s %s:%u, tenant %s, %ld connection(s), %ld spans/request, %.2f s\n",
          o->transport->name, run->target.host, (unsigned)run->target.port, o->tenant ? o->tenant : "(none)",
          o->connections, o->batch, s->elapsed_s);
  fprintf(out, "requests: %llu ok, %llu refused, %llu failed (%llu without an answer); statuses:",
          (unsigned long long)t->ok, (unsigned long long)t->refused,
          (unsigned long long)(t->rejected + t->broken), (unsigned long long)t->broken);
  bool any = false;
  for (int st = 0; st < STATUS_MAX; st++)
    if (t->status_count[st]) {
      fprintf(out, " %s%d x %llu", o->transport == &loadgen_grpc_transport ? "grpc-status " : "", st,
              (unsigned long long)t->status_count[st]);
      any = true;
    }
  fprintf(out, "%s\n", any ? "" : " none");
  if (t->retry_after_max_s >= 0)
    fprintf(out, "refusals asked to retry after up to %d s\n", t->retry_after_max_s);
  if (t->first_failure[0])
    fprintf(out, "first failure: %s\n", t->first_failure);
  fprintf(out, "spans: %llu sent, %llu acknowledged, %llu rejected by the server; %.0f spans/s, %.1f requests/s, %.1f MB/s\n",
          (unsigned long long)t->spans_sent, (unsigned long long)t->spans_acked,
          (unsigned long long)t->spans_rejected, s->spans_per_s, s->requests_per_s,
          s->elapsed_s > 0 ? (double)t->bytes_sent / s->elapsed_s / 1e6 : 0);
  fprintf(out, "latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (%zu answered requests)\n", s->p50, s->p90,
          s->p99, s->max, t->latencies);
}

static void print_json(FILE *out, const struct run *run, const struct summary *s)
{
  const struct loadgen_options *o = run->o;
  const struct worker_stats *t = s->t;
  fprintf(out, "{\"protocol\":\"%s\",\"endpoint\":", o->transport->name);
  char endpoint[320];
  snprintf(endpoint, sizeof endpoint, "%s:%u", run->target.host, (unsigned)run->target.port);
  json_string(out, endpoint);
  fprintf(out, ",\"tenant\":");
  if (o->tenant)
    json_string(out, o->tenant);
  else
    fprintf(out, "null");
  fprintf(out,
          ",\"connections\":%ld,\"batch\":%ld,\"attributes\":%ld,\"services\":%ld,\"rate\":%.0f,\"seed\":%llu,"
          "\"elapsed_s\":%.3f,\"requests\":%llu,\"requests_ok\":%llu,\"requests_refused\":%llu,"
          "\"requests_failed\":%llu,\"requests_unanswered\":%llu,\"status_counts\":{",
          o->connections, o->batch, o->attributes, o->services ? o->services : (long)SVC_COUNT, o->rate, o->seed,
          s->elapsed_s, (unsigned long long)t->requests, (unsigned long long)t->ok, (unsigned long long)t->refused,
          (unsigned long long)(t->rejected + t->broken), (unsigned long long)t->broken);
  bool first = true;
  for (int st = 0; st < STATUS_MAX; st++)
    if (t->status_count[st]) {
      fprintf(out, "%s\"%d\":%llu", first ? "" : ",", st, (unsigned long long)t->status_count[st]);
      first = false;
    }
  fprintf(out,
          "},\"retry_after_s_max\":%d,\"spans_sent\":%llu,\"spans_acked\":%llu,\"spans_rejected\":%llu,"
          "\"bytes_sent\":%llu,\"spans_per_s\":%.1f,\"requests_per_s\":%.2f,"
          "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"first_failure\":",
          t->retry_after_max_s, (unsigned long long)t->spans_sent, (unsigned long long)t->spans_acked,
          (unsigned long long)t->spans_rejected, (unsigned long long)t->bytes_sent, s->spans_per_s,
          s->requests_per_s, s->p50, s->p90, s->p99, s->max);
  if (t->first_failure[0])
    json_string(out, t->first_failure);
  else
    fprintf(out, "null");
  fprintf(out, "}\n");
}

/* ---- the run */

/* Connects every worker before the clock starts: an unreachable endpoint
 * is a usage problem, reported once, not a pile of failed requests. */
static int workers_connect(struct run *run, struct worker *workers, long count, struct error *err)
{
  for (long i = 0; i < count; i++) {
    workers[i].run = run;
    workers[i].st.retry_after_max_s = -1;
    workers[i].copy = mem_alloc(run->pool.len_max);
    int rc = run->o->transport->open(&run->target, &workers[i].conn, err);
    if (rc)
      return rc;
  }
  return 0;
}

static int run_load(const struct loadgen_options *o)
{
  int status = 2;
  struct error err = { 0 };
  struct run run = { .o = o };
  run.target.timeout_ms = (int)(o->timeout_s * 1000);
  run.target.tenant = o->tenant;
  char endpoint[300];
  snprintf(endpoint, sizeof endpoint, "%s", o->endpoint[0] ? o->endpoint : "127.0.0.1");
  if (net_parse_host_port(endpoint, o->transport->default_port, run.target.host, &run.target.port, &err) != 0) {
    fprintf(stderr, "spanhouse loadgen: --endpoint: %s\n", err.message);
    return 2;
  }
  if (!run.target.host[0])
    snprintf(run.target.host, sizeof run.target.host, "127.0.0.1");

  long bodies = o->bodies;
  if (bodies * o->batch > POOL_SPANS_MAX)
    bodies = POOL_SPANS_MAX / o->batch > 0 ? POOL_SPANS_MAX / o->batch : 1;
  struct loadgen_pool_config pc = {
    .seed = o->seed, .bodies = (uint32_t)bodies, .batch_spans = (uint32_t)o->batch,
    .span_attrs = (int)o->attributes, .services = (uint32_t)o->services,
  };
  if (loadgen_pool_build(&run.pool, &pc, &err) != 0) {
    fprintf(stderr, "spanhouse loadgen: %s\n", err.message);
    loadgen_pool_free(&run.pool);
    return 2;
  }
  struct worker *workers = mem_calloc((size_t)o->connections, sizeof *workers);
  if (workers_connect(&run, workers, o->connections, &err) != 0) {
    fprintf(stderr, "spanhouse loadgen: %s\n", err.message);
    goto out_close;
  }

  run.salt_base = (uint64_t)clock_realtime_ns();
  run.interval_ns = o->rate > 0 ? (double)o->batch / o->rate * 1e9 : 0;
  run.start_ns = clock_monotonic_ns();
  run.deadline_ns = o->duration_s > 0 ? run.start_ns + (int64_t)(o->duration_s * 1e9) : 0;
  long started = 0;
  for (; started < o->connections; started++) {
    int e = pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]);
    if (e != 0) {
      fprintf(stderr, "spanhouse loadgen: cannot start thread %ld: %s\n", started, strerror(e));
      break;
    }
  }
  for (long i = 0; i < started; i++)
    pthread_join(workers[i].thread, NULL);
  int64_t elapsed_ns = clock_monotonic_ns() - run.start_ns;
  if (started < o->connections)
    goto out_close;

  struct worker_stats total = { .retry_after_max_s = -1 };
  for (long i = 0; i < o->connections; i++)
    merge(&total, &workers[i].st);
  /* A paced run that ends on time sent its last request before the end:
   * the rate is over the whole window asked for. */
  bool stopped_by_count = o->requests_max && total.requests >= (uint64_t)o->requests_max;
  if (run.deadline_ns && !stopped_by_count && elapsed_ns < run.deadline_ns - run.start_ns)
    elapsed_ns = run.deadline_ns - run.start_ns;
  if (total.latencies)              /* qsort wants a non-NULL base even for 0 */
    qsort(total.latency_ns, total.latencies, sizeof *total.latency_ns, cmp_i64);
  struct summary s = { .t = &total, .elapsed_s = (double)elapsed_ns / 1e9 };
  s.spans_per_s = s.elapsed_s > 0 ? (double)total.spans_acked / s.elapsed_s : 0;
  s.requests_per_s = s.elapsed_s > 0 ? (double)total.requests / s.elapsed_s : 0;
  s.p50 = percentile_ms(total.latency_ns, total.latencies, 0.50);
  s.p90 = percentile_ms(total.latency_ns, total.latencies, 0.90);
  s.p99 = percentile_ms(total.latency_ns, total.latencies, 0.99);
  s.max = percentile_ms(total.latency_ns, total.latencies, 1.0);
  if (o->json) {
    print_json(stdout, &run, &s);
    print_text(stderr, &run, &s);  /* for whoever watches the harness */
  } else {
    print_text(stdout, &run, &s);
  }
  fflush(stdout);
  bool failed = total.refused + total.rejected + total.broken > 0;
  status = failed && !o->allow_failures ? 1 : 0;
  mem_free(total.latency_ns);

out_close:
  for (long i = 0; i < o->connections; i++) {
    if (workers[i].conn)
      o->transport->close(workers[i].conn);
    mem_free(workers[i].copy);
    mem_free(workers[i].st.latency_ns);
  }
  mem_free(workers);
  loadgen_pool_free(&run.pool);
  return status;
}

int loadgen_main(int argc, char **argv)
{
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
  struct loadgen_options o;
  struct error err = { 0 };
  if (parse_options(argc, argv, &o, &err) != 0) {
    fprintf(stderr, "spanhouse loadgen: %s\n", err.message);
    return 2;
  }
  /* A server that closes mid-send must become an error, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  return run_load(&o);
}
