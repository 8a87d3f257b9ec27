/* spanhouse: the single binary. `spanhouse server` reads flags and an
 * optional key = value config file, creates the data directory and, at
 * first start, the built-in `otel` database; starts the ClickHouse HTTP
 * interface (8123) and the OTLP receivers (OTLP/HTTP 4318, OTLP/gRPC 4317,
 * writing into otel.*) and waits for SIGTERM/SIGINT on a
 * signalfd, then stops gracefully: no new connections, in-flight requests
 * finish, exit 0. Built-in endpoints (/ping, /health, /ready, /metrics) are
 * answered here; everything else goes to the SQL handler. */
#include "base/alloc.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/evloop.h"
#include "base/grpc_server.h"
#include "base/http_server.h"
#include "base/log.h"
#include "base/metrics.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
#include "query/query.h"
#include "storage/storage.h"
#include "tools/loadgen.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPANHOUSE_VERSION "0.1.0"

/* ---- configuration: one table drives flags, the config file and --help */

struct server_options {
  char listen_host[256];
  long http_port, otlp_http_port, otlp_grpc_port;
  char data_dir[PATH_MAX];
  long threads;                       /* network threads per server; 0 = CPUs */
  long handler_threads;               /* 0 = automatic */
  char log_level[16];
  long long max_body_bytes;           /* 0 = built-in limit */
  long max_connections;               /* 0 = built-in limit */
  long long otlp_max_body_bytes;      /* OTLP/HTTP body, decoded; 0 = OTLP_HTTP_BODY_BYTES_DEFAULT */
  long otlp_grpc_max_message_bytes;   /* OTLP/gRPC request message; 0 = GRPC_MESSAGE_BYTES_MAX */
  char wal_sync[16];                  /* fsync, batch or none */
  long long memtable_flush_bytes;     /* 0 = engine default */
  long memtable_flush_ms;             /* 0 = engine default */
  long long memtable_max_bytes;       /* 0 = engine default */
  long merge_threads;                 /* 0 = engine default */
  long long block_cache_bytes;        /* decoded-block cache; -1 = storage default */
  /* `otlp_api_key = KEY:TENANT` lines of the config file (repeatable) */
  struct otlp_api_key *api_keys;
  size_t api_key_count;
};

enum opt_kind { OPT_STR, OPT_LONG, OPT_LLONG };

struct opt_def {
  const char *key;                    /* flag without "--" and config-file key */
  enum opt_kind kind;
  size_t offset;
  size_t size;                        /* OPT_STR buffer size */
  long long min, max;
  const char *help;
};

#define OPT_S(key, field, help) { key, OPT_STR, offsetof(struct server_options, field), \
                                  sizeof(((struct server_options *)0)->field), 0, 0, help }
#define OPT_L(key, field, lo, hi, help) { key, OPT_LONG, offsetof(struct server_options, field), 0, lo, hi, help }
#define OPT_LL(key, field, lo, hi, help) { key, OPT_LLONG, offsetof(struct server_options, field), 0, lo, hi, help }

static const struct opt_def opt_defs[] = {
  OPT_S("listen-host", listen_host, "address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)"),
  OPT_L("http-port", http_port, 0, 65535, "ClickHouse HTTP interface port (default 8123)"),
  OPT_L("otlp-http-port", otlp_http_port, 0, 65535, "OTLP/HTTP port (default 4318)"),
  OPT_L("otlp-grpc-port", otlp_grpc_port, 0, 65535, "OTLP/gRPC port (default 4317)"),
  OPT_S("data-dir", data_dir, "data directory, created if missing (default ./data)"),
  OPT_L("threads", threads, 0, 1024, "network threads per server (default: number of CPUs)"),
  OPT_L("handler-threads", handler_threads, 0, 4096, "request handler threads (default max(16, 4 x threads))"),
  OPT_S("log-level", log_level, "error, warn, info, debug or trace (default info)"),
  OPT_LL("max-body-bytes", max_body_bytes, 0, LLONG_MAX, "largest request body, wire or decompressed (default 10 GiB)"),
  OPT_L("max-connections", max_connections, 0, 1000000, "open connections per server (default 4096)"),
  OPT_LL("otlp-max-body-bytes", otlp_max_body_bytes, 0, LLONG_MAX,
         "largest OTLP/HTTP body, wire or decompressed (default 20 MiB; 413 above)"),
  OPT_L("otlp-grpc-max-message-bytes", otlp_grpc_max_message_bytes, 0, 1073741824,
        "largest OTLP/gRPC request message (default 4 MiB; RESOURCE_EXHAUSTED above)"),
  OPT_S("wal-sync", wal_sync, "when OTLP data is acknowledged: fsync (default; after the write-ahead log is "
        "fdatasync'ed, shared by concurrent requests), batch (written to the OS, fdatasync every 100 ms) or none"),
  OPT_LL("memtable-flush-bytes", memtable_flush_bytes, 0, LLONG_MAX,
         "a table's buffered rows are written to a part at this size (default 64 MiB)"),
  OPT_L("memtable-flush-ms", memtable_flush_ms, 0, 86400000,
        "... or when the oldest of them is this old (default 2000)"),
  OPT_L("merge-threads", merge_threads, 0, 64, "background merge threads (default 2)"),
  OPT_LL("memtable-max-bytes", memtable_max_bytes, 0, LLONG_MAX,
         "buffered rows of all tables; above it OTLP answers 429 / UNAVAILABLE (default 256 MiB)"),
  OPT_LL("block-cache-bytes", block_cache_bytes, 0, LLONG_MAX,
         "decoded part blocks kept for queries and merges (default 256 MiB; 0 = none)"),
};
enum { OPT_COUNT = sizeof opt_defs / sizeof opt_defs[0] };

static void options_defaults(struct server_options *o)
{
  memset(o, 0, sizeof *o);
  snprintf(o->listen_host, sizeof o->listen_host, "127.0.0.1");
  o->http_port = 8123;
  o->otlp_http_port = 4318;
  o->otlp_grpc_port = 4317;
  snprintf(o->data_dir, sizeof o->data_dir, "./data");
  snprintf(o->log_level, sizeof o->log_level, "info");
  snprintf(o->wal_sync, sizeof o->wal_sync, "fsync");
  o->block_cache_bytes = -1;
}

static const struct opt_def *find_opt(const char *key, size_t len)
{
  for (int i = 0; i < OPT_COUNT; i++) {
    const char *k = opt_defs[i].key;
    if (strlen(k) != len)
      continue;
    /* Config files may spell keys with '_' instead of '-'. */
    size_t j = 0;
    while (j < len && (key[j] == k[j] || (key[j] == '_' && k[j] == '-')))
      j++;
    if (j == len)
      return &opt_defs[i];
  }
  return NULL;
}

static int opt_set(struct server_options *o, const struct opt_def *d, const char *value, struct error *err)
{
  char *field = (char *)o + d->offset;
  if (d->kind == OPT_STR) {
    if (strlen(value) >= d->size)
      return error_set(err, ERR_BAD_ARGUMENTS, "value of %s is too long", d->key);
    memcpy(field, value, strlen(value) + 1);
    return 0;
  }
  char *end;
  errno = 0;
  long long v = strtoll(value, &end, 10);
  if (*value == '\0' || *end != '\0' || errno || v < d->min || v > d->max)
    return error_set(err, ERR_BAD_ARGUMENTS, "%s: '%s' is not a number in [%lld, %lld]", d->key, value,
                     d->min, d->max);
  if (d->kind == OPT_LONG)
    *(long *)(void *)field = (long)v;
  else
    *(long long *)(void *)field = v;
  return 0;
}

static char *trim(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
    s[--n] = '\0';
  return s;
}

/* `key = value` lines; '#' starts a comment line; values may be quoted. */
static int load_config_file(struct server_options *o, const char *path, struct error *err)
{
  int rc = 0;
  FILE *f = fopen(path, "r");
  if (!f)
    return error_set(err, ERR_CANNOT_OPEN_FILE, "cannot open config file %s: %s", path, strerror(errno));
  char line[4096];
  int lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *s = trim(line);
    if (*s == '\0' || *s == '#')
      continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "%s:%d: expected key = value", path, lineno);
      goto out_close;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    size_t vlen = strlen(value);
    if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
      value[vlen - 1] = '\0';
      value++;
    }
    if (strcmp(key, "otlp_api_key") == 0 || strcmp(key, "otlp-api-key") == 0) {
      char *colon = strrchr(value, ':');
      if (!colon || colon == value || colon[1] == '\0') {
        rc = error_set(err, ERR_BAD_ARGUMENTS, "%s:%d: otlp_api_key wants KEY:TENANT", path, lineno);
        goto out_close;
      }
      *colon = '\0';
      struct otlp_api_key *keys = realloc(o->api_keys, (o->api_key_count + 1) * sizeof *keys);
      if (!keys)
        abort();
      o->api_keys = keys;
      keys[o->api_key_count].key = strdup(value);
      keys[o->api_key_count].tenant = strdup(colon + 1);
      if (!keys[o->api_key_count].key || !keys[o->api_key_count].tenant)
        abort();
      o->api_key_count++;
      continue;
    }
    const struct opt_def *d = find_opt(key, strlen(key));
    if (!d) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "%s:%d: unknown key '%s'", path, lineno, key);
      goto out_close;
    }
    rc = opt_set(o, d, value, err);
    if (rc) {
      error_prefix(err, "%s:%d: ", path, lineno);
      goto out_close;
    }
  }
out_close:
  fclose(f);
  return rc;
}

static void usage(FILE *out)
{
  fprintf(out,
          "spanhouse %s: OpenTelemetry trace store with a ClickHouse HTTP interface\n\n"
          "usage:\n"
          "  spanhouse server [--config FILE] [options]\n"
          "  spanhouse loadgen [options]     OTLP load generator (spanhouse loadgen --help)\n"
          "  spanhouse --help | --version\n\n"
          "server options (also config-file keys, `key = value`; flags override the file):\n",
          SPANHOUSE_VERSION);
  fprintf(out, "  --%-18s %s\n", "config FILE", "read options from FILE first");
  for (int i = 0; i < OPT_COUNT; i++) {
    char name[48];
    snprintf(name, sizeof name, "%s %s", opt_defs[i].key, opt_defs[i].kind == OPT_STR ? "S" : "N");
    fprintf(out, "  --%-18s %s\n", name, opt_defs[i].help);
  }
  fprintf(out, "\nenvironment: SPANHOUSE_EVLOOP=epoll|io_uring forces the event-loop backend.\n");
}

/* Two passes: --config first (the file), then every other flag on top. */
static int parse_args(int argc, char **argv, struct server_options *o, struct error *err)
{
  int rc = 0;
  options_defaults(o);
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < argc; i++) {
      const char *a = argv[i];
      if (strncmp(a, "--", 2) != 0)
        return error_set(err, ERR_BAD_ARGUMENTS, "unexpected argument '%s'", a);
      const char *key = a + 2, *eq = strchr(key, '=');
      size_t klen = eq ? (size_t)(eq - key) : strlen(key);
      const char *value = eq ? eq + 1 : NULL;
      if (!value) {
        if (i + 1 >= argc)
          return error_set(err, ERR_BAD_ARGUMENTS, "%s needs a value", a);
        value = argv[++i];
      }
      bool is_config = klen == 6 && strncmp(key, "config", 6) == 0;
      if (pass == 0) {
        if (is_config && (rc = load_config_file(o, value, err)) != 0)
          return rc;
        continue;
      }
      if (is_config)
        continue;
      const struct opt_def *d = find_opt(key, klen);
      if (!d)
        return error_set(err, ERR_BAD_ARGUMENTS, "unknown option '--%.*s' (see --help)", (int)klen, key);
      if ((rc = opt_set(o, d, value, err)) != 0)
        return rc;
    }
  }
  return 0;
}

/* mkdir -p */
static int make_dirs(const char *path, struct error *err)
{
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
      return error_set(err, ERR_CANNOT_OPEN_FILE, "cannot create directory %s: %s", tmp, strerror(errno));
    *p = '/';
  }
  if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
    return error_set(err, ERR_CANNOT_OPEN_FILE, "cannot create directory %s: %s", tmp, strerror(errno));
  struct stat st;
  if (stat(tmp, &st) < 0 || !S_ISDIR(st.st_mode))
    return error_set(err, ERR_CANNOT_OPEN_FILE, "data dir %s is not a directory", tmp);
  return 0;
}

/* ---- the server context: the process's only mutable shared state */

enum server_state { STATE_STARTING, STATE_READY, STATE_STOPPING };

struct server_ctx {
  struct server_options opts;
  struct metrics *metrics;
  _Atomic int state;                          /* enum server_state */
  struct query_service query;                 /* ClickHouse SQL over HTTP */
  struct metric_histogram *query_duration;
  struct metric_counter *queries;
  struct engine_table *otel_tables[OTEL_TABLE_COUNT];   /* the OTLP sink's targets, referenced */
  struct engine *engine;                      /* set once recovered; buffered inserts and metrics */
};

static bool path_is(const struct http_request *req, const char *path) { return slice_eq_cstr(req->head.path, path); }

static void send_text(struct http_response *resp, int status, const char *text)
{
  http_response_send(resp, status, "text/plain; charset=UTF-8", text);
}

static void route(void *arg, struct http_request *req, struct http_response *resp)
{
  struct server_ctx *ctx = arg;
  bool get = http_method_is(&req->head, "GET") || http_method_is(&req->head, "HEAD");
  if (path_is(req, "/ping")) {
    send_text(resp, 200, "Ok.\n");
    return;
  }
  if (path_is(req, "/health") || path_is(req, "/replicas_status")) {
    send_text(resp, 200, "Ok.\n");
    return;
  }
  if (path_is(req, "/ready")) {
    bool ready = atomic_load(&ctx->state) == STATE_READY;
    send_text(resp, ready ? 200 : 503, ready ? "Ok.\n" : "Not ready.\n");
    return;
  }
  if (path_is(req, "/metrics") && get) {
    struct buf out;
    buf_init(&out);
    metrics_render(ctx->metrics, &out);
    http_response_begin(resp, 200, "text/plain; version=0.0.4; charset=utf-8");
    http_response_write(resp, out.data, out.len);
    http_response_end(resp);
    buf_free(&out);
    return;
  }
  if (path_is(req, "/") && get) {
    /* ClickHouse answers a bare GET / (no query parameter) with "Ok." */
    struct slice q;
    if (http_query_get(req->head.query, req->arena, "query", &q) == 0) {
      send_text(resp, 200, "Ok.\n");
      return;
    }
  }
  metric_inc(ctx->queries);
  query_http_handle(&ctx->query, req, resp);
  metric_observe(ctx->query_duration, (double)clock_elapsed_ns(req->start_ns) / 1e9);
}

static double gauge_mem_live(void *ctx) { (void)ctx; return (double)mem_live_bytes(); }
static double gauge_mem_peak(void *ctx) { (void)ctx; return (double)mem_peak_bytes(); }
static double gauge_block_cache(void *ctx)
{
  (void)ctx;
  struct storage_block_cache_stats s;
  storage_block_cache_get_stats(&s);
  return (double)s.bytes;
}
static double gauge_ready(void *ctx)
{
  struct server_ctx *s = ctx;
  return atomic_load(&s->state) == STATE_READY ? 1 : 0;
}

/* ---- the built-in `otel` database and the OTLP sink */

/* First start: CREATE DATABASE otel, its tables and the trace-id view
 * through the SQL layer's DDL path (ordinary tables). Every statement says
 * IF NOT EXISTS, so an existing data directory keeps its schema as it is
 * (and one from before the view gets it). */
static int otel_schema_open(struct server_ctx *ctx, struct engine *e, struct error *err)
{
  int rc = query_execute_ddl(&ctx->query, otel_database_ddl(), err);
  for (int t = 0; rc == 0 && t < OTEL_TABLE_COUNT; t++) {
    if ((rc = query_execute_ddl(&ctx->query, otel_table_ddl((enum otel_table)t), err)) != 0) {
      error_prefix(err, "otel.%s: ", otel_table_name((enum otel_table)t));
      break;
    }
    if ((rc = engine_table_get(e, otel_database_name(), otel_table_name((enum otel_table)t), &ctx->otel_tables[t],
                               err)) != 0)
      break;
    if (!engine_table_attached(ctx->otel_tables[t]))
      rc = error_set(err, ERR_LOGICAL_ERROR, "table otel.%s is not attached (see the log above)",
                     otel_table_name((enum otel_table)t));
  }
  if (rc == 0 && (rc = query_execute_ddl(&ctx->query, otel_trace_id_view_ddl(), err)) != 0)
    error_prefix(err, "otel.otel_traces_trace_id_ts_mv: ");
  return rc;
}

static void otel_tables_release(struct server_ctx *ctx)
{
  for (int t = 0; t < OTEL_TABLE_COUNT; t++) {
    engine_table_unref(ctx->otel_tables[t]);
    ctx->otel_tables[t] = NULL;
  }
}

/* Every table of a request, and the rows of the materialized views its
 * tables feed, in one buffered insert: acknowledged once its write-ahead
 * log record is durable, so the spans and what views derive from them
 * (otel_traces_trace_id_ts) survive a crash together. The blocks carry
 * TenantId already. */
enum { OTLP_SINK_ITEMS_MAX = 64 };   /* the otel tables and the views they feed, per request */

static int otlp_sink_insert(void *arg, enum otlp_signal signal, const char *tenant, const struct otlp_batch *batch,
                            struct error *err)
{
  struct server_ctx *ctx = arg;
  (void)signal;
  (void)tenant;
  if (atomic_load(&ctx->state) == STATE_STOPPING) {
    error_set(err, ERR_ABORTED, "server is shutting down");
    return OTLP_SINK_UNAVAILABLE;
  }
  struct engine_buffered_rows items[OTLP_SINK_ITEMS_MAX];
  struct query_views *views[OTEL_TABLE_COUNT] = { 0 };
  uint32_t n = 0;
  int rc = 0;
  for (int t = 0; t < OTEL_TABLE_COUNT; t++)
    if (batch->blocks[t] && batch->blocks[t]->rows)
      items[n++] = (struct engine_buffered_rows){ ctx->otel_tables[t], batch->blocks[t] };
  for (int t = 0; t < OTEL_TABLE_COUNT && rc == 0; t++)
    if (batch->blocks[t] && batch->blocks[t]->rows)
      rc = query_views_expand(&ctx->query, otel_database_name(), otel_table_name((enum otel_table)t), batch->blocks[t],
                              items, &n, OTLP_SINK_ITEMS_MAX, &views[t], err);
  if (rc == 0)
    rc = engine_insert_buffered(ctx->engine, items, n, err);
  for (int t = 0; t < OTEL_TABLE_COUNT; t++)
    query_views_release(views[t]);
  if (rc == 0)
    return OTLP_SINK_OK;
  switch (err->code) {
  case ERR_TOO_MANY_PARTS:
  case ERR_MEMORY_LIMIT_EXCEEDED:
    return OTLP_SINK_SATURATED;
  case ERR_ABORTED:
  case ERR_NOT_ENOUGH_SPACE:
    return OTLP_SINK_UNAVAILABLE;
  default:
    log_error("OTLP insert failed: %s", err->message);
    return OTLP_SINK_FAILED;
  }
}

/* Refuses a request before it is decoded while the memtables are full. */
static int otlp_sink_admit(void *arg, enum otlp_signal signal, struct error *err)
{
  struct server_ctx *ctx = arg;
  (void)signal;
  if (atomic_load(&ctx->state) == STATE_STOPPING) {
    error_set(err, ERR_ABORTED, "server is shutting down");
    return OTLP_SINK_UNAVAILABLE;
  }
  if (engine_buffered_admit(ctx->engine, err) == 0)
    return OTLP_SINK_OK;
  return err->code == ERR_MEMORY_LIMIT_EXCEEDED ? OTLP_SINK_SATURATED : OTLP_SINK_UNAVAILABLE;
}

/* ---- ingest self-metrics ---- */

static double ingest_stat(struct server_ctx *ctx, size_t offset)
{
  struct engine_ingest_stats st;
  engine_get_ingest_stats(ctx->engine, &st);
  if (offset == offsetof(struct engine_ingest_stats, wal_fsync_seconds_total))
    return st.wal_fsync_seconds_total;
  if (offset == offsetof(struct engine_ingest_stats, wal_fsync_seconds_max))
    return st.wal_fsync_seconds_max;
  uint64_t v;
  memcpy(&v, (const char *)&st + offset, sizeof v);
  return (double)v;
}

#define INGEST_GAUGE(field)                                                                \
  static double gauge_##field(void *ctx)                                                   \
  {                                                                                        \
    return ingest_stat(ctx, offsetof(struct engine_ingest_stats, field));                  \
  }
INGEST_GAUGE(pending_rows)
INGEST_GAUGE(pending_bytes)
INGEST_GAUGE(flushes)
INGEST_GAUGE(flushed_rows)
INGEST_GAUGE(flush_failures)
INGEST_GAUGE(wal_records)
INGEST_GAUGE(wal_bytes)
INGEST_GAUGE(wal_fsyncs)
INGEST_GAUGE(wal_segments)
INGEST_GAUGE(wal_fsync_seconds_total)
INGEST_GAUGE(wal_fsync_seconds_max)

static void ingest_metrics_register(struct server_ctx *ctx)
{
  static const struct {
    const char *name;
    double (*fn)(void *);
    const char *help;
  } gauges[] = {
    { "spanhouse_memtable_rows", gauge_pending_rows, "Rows acknowledged and not yet written to parts." },
    { "spanhouse_memtable_bytes", gauge_pending_bytes, "Bytes of rows acknowledged and not yet in parts." },
    { "spanhouse_memtable_flushes_total", gauge_flushes, "Memtable flushes to parts." },
    { "spanhouse_memtable_flushed_rows_total", gauge_flushed_rows, "Rows written to parts by memtable flushes." },
    { "spanhouse_memtable_flush_failures_total", gauge_flush_failures, "Failed memtable flushes (retried)." },
    { "spanhouse_wal_records_total", gauge_wal_records, "Write-ahead log records appended." },
    { "spanhouse_wal_bytes_total", gauge_wal_bytes, "Write-ahead log bytes written." },
    { "spanhouse_wal_fsyncs_total", gauge_wal_fsyncs, "Write-ahead log fdatasync calls (group commits)." },
    { "spanhouse_wal_segments", gauge_wal_segments, "Write-ahead log segment files on disk." },
    { "spanhouse_wal_fsync_seconds_total", gauge_wal_fsync_seconds_total, "Time spent in WAL fdatasync." },
    { "spanhouse_wal_fsync_seconds_max", gauge_wal_fsync_seconds_max, "Longest WAL fdatasync." },
  };
  for (size_t i = 0; i < sizeof gauges / sizeof gauges[0]; i++)
    metrics_gauge_fn(ctx->metrics, gauges[i].name, "", gauges[i].help, gauges[i].fn, ctx);
}

static int wal_sync_parse(const char *s, enum engine_wal_sync *out)
{
  if (strcmp(s, "fsync") == 0)
    *out = ENGINE_WAL_FSYNC;
  else if (strcmp(s, "batch") == 0)
    *out = ENGINE_WAL_BATCH;
  else if (strcmp(s, "none") == 0)
    *out = ENGINE_WAL_NONE;
  else
    return -1;
  return 0;
}

static int run_server(struct server_ctx *ctx)
{
  int rc = 0;
  struct error err = { 0 };
  struct http_server *http = NULL, *otlp_http = NULL;
  struct grpc_server *otlp_grpc = NULL;
  struct otlp_endpoint *otlp = NULL;
  struct server_options *o = &ctx->opts;

  enum log_level level;
  if (log_parse_level(o->log_level, &level) != 0) {
    fprintf(stderr, "spanhouse: unknown log level '%s'\n", o->log_level);
    return 2;
  }
  log_set_level(level);

  /* Signals are taken from a signalfd by this thread only: block them before
   * any thread starts so every thread inherits the mask. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
  if (sfd < 0) {
    log_error("signalfd: %s", strerror(errno));
    return 1;
  }

  log_info("spanhouse %s starting (pid %d)", SPANHOUSE_VERSION, (int)getpid());
  if (make_dirs(o->data_dir, &err) != 0) {
    log_error("%s", err.message);
    rc = 1;
    goto out_close_sfd;
  }
  char real_dir[PATH_MAX];
  log_info("data dir: %s", realpath(o->data_dir, real_dir) ? real_dir : o->data_dir);

  ctx->metrics = metrics_create();
  ctx->query_duration = metrics_histogram(ctx->metrics, "spanhouse_query_duration_seconds", "",
                                          "SQL query duration over HTTP, head to end of response.",
                                          metrics_seconds_buckets, metrics_seconds_bucket_count);
  ctx->queries = metrics_counter(ctx->metrics, "spanhouse_queries_total", "", "SQL queries received over HTTP.");
  metrics_gauge_fn(ctx->metrics, "spanhouse_mem_live_bytes", "", "Heap bytes allocated now.", gauge_mem_live, NULL);
  metrics_gauge_fn(ctx->metrics, "spanhouse_mem_peak_bytes", "", "Heap high-water mark in bytes.", gauge_mem_peak, NULL);
  metrics_gauge_fn(ctx->metrics, "spanhouse_block_cache_bytes", "", "Decoded part blocks in the block cache.",
                   gauge_block_cache, NULL);
  metrics_gauge_fn(ctx->metrics, "spanhouse_ready", "", "1 when the server accepts work.", gauge_ready, ctx);

  enum evloop_backend backend = evloop_backend_select(EVLOOP_AUTO);

  query_service_init(&ctx->query, ctx->metrics);

  /* Tables: the engine owns the data directory; the SQL layer re-attaches
   * every table from its stored DDL before the first request. */
  if (o->block_cache_bytes >= 0)
    storage_block_cache_set_max_bytes((uint64_t)o->block_cache_bytes);
  struct engine *engine = NULL;
  struct engine_options eo = {
    .memtable_flush_bytes = (uint64_t)o->memtable_flush_bytes,
    .memtable_flush_ms = (uint32_t)o->memtable_flush_ms,
    .memtable_max_bytes = (uint64_t)o->memtable_max_bytes,
    .merge_threads = (uint32_t)o->merge_threads,
  };
  if (wal_sync_parse(o->wal_sync, &eo.wal_sync) != 0) {
    log_error("wal-sync: '%s' is not fsync, batch or none", o->wal_sync);
    rc = 1;
    goto out_metrics;
  }
  if (engine_open(o->data_dir, &eo, &engine, &err) != 0) {
    log_error("cannot open the data directory %s: %s", o->data_dir, err.message);
    rc = 1;
    goto out_metrics;
  }
  if (query_engine_start(&ctx->query, engine, &err) != 0) {
    log_error("cannot attach tables: %s", err.message);
    rc = 1;
    goto out_engine;
  }
  if (otel_schema_open(ctx, engine, &err) != 0) {
    log_error("cannot create the otel database: %s", err.message);
    rc = 1;
    goto out_engine;
  }
  /* every table is attached: put back what the last run acknowledged */
  if (engine_wal_recover(engine, NULL, &err) != 0) {
    log_error("cannot recover the write-ahead log: %s", err.message);
    rc = 1;
    goto out_engine;
  }
  ctx->engine = engine;
  ingest_metrics_register(ctx);

  struct http_server_config hc = {
    .name = "http",
    .host = o->listen_host,
    .port = (uint16_t)o->http_port,
    .loop_threads = (int)o->threads,
    .handler_threads = (int)o->handler_threads,
    .max_body_bytes = (uint64_t)o->max_body_bytes,
    .max_connections = (int)o->max_connections,
    .backend = backend,
    .handler = route,
    .handler_ctx = ctx,
    .metrics = ctx->metrics,
  };
  if (http_server_start(&http, &hc, &err) != 0) {
    log_error("cannot start the ClickHouse HTTP interface: %s", err.message);
    rc = 1;
    goto out_engine;
  }
  log_info("ClickHouse HTTP interface on http://%s:%u", o->listen_host, (unsigned)http_server_port(http));

  struct otlp_endpoint_config oc = {
    .sink = { otlp_sink_insert, ctx, otlp_sink_admit },
    .api_keys = o->api_keys,
    .api_key_count = o->api_key_count,
    .max_body_bytes = (uint64_t)o->otlp_max_body_bytes,
    .metrics = ctx->metrics,
  };
  if (otlp_endpoint_create(&otlp, &oc, &err) != 0) {
    log_error("cannot set up OTLP: %s", err.message);
    rc = 1;
    goto out_servers;
  }
  struct http_server_config ohc = hc;
  ohc.name = "otlp_http";
  ohc.port = (uint16_t)o->otlp_http_port;
  ohc.handler = otlp_http_handler;
  ohc.handler_ctx = otlp;
  if (http_server_start(&otlp_http, &ohc, &err) != 0) {
    log_error("cannot start OTLP/HTTP: %s", err.message);
    rc = 1;
    goto out_servers;
  }
  log_info("OTLP/HTTP on http://%s:%u", o->listen_host, (unsigned)http_server_port(otlp_http));
  struct grpc_server_config gc = {
    .name = "otlp_grpc",
    .host = o->listen_host,
    .port = (uint16_t)o->otlp_grpc_port,
    .max_recv_message_bytes = (uint32_t)o->otlp_grpc_max_message_bytes,
    .loop_threads = (int)o->threads,
    .max_connections = (int)o->max_connections,
    .backend = backend,
    .metrics = ctx->metrics,
  };
  if (grpc_server_create(&otlp_grpc, &gc, &err) != 0 || otlp_grpc_register(otlp, otlp_grpc, &err) != 0 ||
      grpc_server_start(otlp_grpc, &err) != 0) {
    log_error("cannot start OTLP/gRPC: %s", err.message);
    rc = 1;
    goto out_servers;
  }
  log_info("OTLP/gRPC on %s:%u", o->listen_host, (unsigned)grpc_server_port(otlp_grpc));
  if (o->api_key_count)
    log_info("OTLP: %zu API key(s) configured; X-Scope-OrgID is ignored", o->api_key_count);
  atomic_store(&ctx->state, STATE_READY);
  log_info("ready");

  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = read(sfd, &si, sizeof si);
    if (n == (ssize_t)sizeof si) {
      log_info("received %s; stopping (in-flight requests finish)", strsignal((int)si.ssi_signo));
      break;
    }
    if (n < 0 && errno != EINTR) {
      log_error("signalfd read: %s", strerror(errno));
      break;
    }
  }
  atomic_store(&ctx->state, STATE_STOPPING);
out_servers:
  /* OTLP first: in-flight exports finish before the engine closes */
  grpc_server_destroy(otlp_grpc);
  http_server_destroy(otlp_http);
  otlp_endpoint_destroy(otlp);
  http_server_destroy(http);
  log_info("stopped");

out_engine:
  otel_tables_release(ctx);
  /* after the HTTP server: no request holds a table, snapshot or scan */
  query_engine_stop(&ctx->query);
  ctx->engine = NULL;
  engine_close(engine);
out_metrics:
  metrics_destroy(ctx->metrics);
  ctx->metrics = NULL;
out_close_sfd:
  close(sfd);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("spanhouse %s\n", SPANHOUSE_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "loadgen") == 0)
    return loadgen_main(argc - 2, argv + 2);
  if (strcmp(argv[1], "server") != 0) {
    fprintf(stderr, "spanhouse: unknown command '%s' (see --help)\n", argv[1]);
    return 2;
  }
  for (int i = 2; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
  struct server_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  struct error err = { 0 };
  if (parse_args(argc - 2, argv + 2, &ctx.opts, &err) != 0) {
    fprintf(stderr, "spanhouse: %s\n", err.message);
    return 2;
  }
  atomic_init(&ctx.state, STATE_STARTING);
  int rc = run_server(&ctx);
  for (size_t i = 0; i < ctx.opts.api_key_count; i++) {
    free((void *)ctx.opts.api_keys[i].key);
    free((void *)ctx.opts.api_keys[i].tenant);
  }
  free(ctx.opts.api_keys);
  return rc;
}
