/* ingest/: OpenTelemetry data in, typed row batches out. Owns the OTLP
 * protobuf schema (ingest/proto/, compiled by protoc-c at build time),
 * the OTLP/JSON reader, the built-in `otel` database (its DDL is the single
 * source of truth for the tables' columns) and the mapping of spans, log
 * records and metric points onto those columns; and the OTLP/HTTP and
 * OTLP/gRPC receivers in front of a caller's sink. Depends on base/ (and
 * engine/), never on query/.
 * Mapping rules and invariants: ingest/README.md. */
#ifndef SPANHOUSE_INGEST_INGEST_H
#define SPANHOUSE_INGEST_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/column.h"
#include "base/error.h"

/* ---- the built-in `otel` database ---- */

enum otel_table {
  OTEL_TRACES,
  OTEL_TRACES_TRACE_ID_TS,          /* TraceId → first/last span start: otel_trace_id_view_ddl keeps it */
  OTEL_LOGS,
  OTEL_METRICS_GAUGE,
  OTEL_METRICS_SUM,
  OTEL_METRICS_HISTOGRAM,
  OTEL_METRICS_EXP_HISTOGRAM,
  OTEL_METRICS_SUMMARY,
  OTEL_TABLE_COUNT
};

/* One column as inserted: Nested columns appear flattened ("Events.Name",
 * type "Array(LowCardinality(String))"), as ClickHouse stores them. */
struct otel_column_def {
  const char *name;
  const char *type;                 /* ClickHouse type text, datatype_parse() accepts it */
};

const char *otel_database_name(void);                  /* "otel" */
const char *otel_database_ddl(void);                   /* CREATE DATABASE IF NOT EXISTS otel */
const char *otel_table_name(enum otel_table t);        /* "otel_traces" */
/* CREATE TABLE IF NOT EXISTS otel.<name> (...): what the engine runs at first start. */
const char *otel_table_ddl(enum otel_table t);
/* CREATE MATERIALIZED VIEW IF NOT EXISTS otel.otel_traces_trace_id_ts_mv:
 * the ClickHouse exporter's view keeping otel_traces_trace_id_ts current on
 * every insert into otel_traces (OTLP or SQL), run after the tables. */
const char *otel_trace_id_view_ddl(void);
uint32_t otel_table_column_count(enum otel_table t);
const struct otel_column_def *otel_table_columns(enum otel_table t);
/* The parsed type of column i; process lifetime, thread-safe. */
const struct datatype *otel_column_type(enum otel_table t, uint32_t i);
/* An empty block with the table's columns and names, room for rows_hint rows. */
struct block *otel_block_create(struct arena *a, enum otel_table t, uint32_t rows_hint);

/* ---- decoding OTLP export requests ---- */

enum otlp_signal { OTLP_TRACES, OTLP_LOGS, OTLP_METRICS };
enum otlp_encoding { OTLP_PROTOBUF, OTLP_JSON };

struct otlp_batch {
  /* The signal's tables (traces: OTEL_TRACES; logs: OTEL_LOGS; metrics:
   * the five OTEL_METRICS_*); NULL for the rest. The trace-id lookup rows
   * come from the materialized view over otel_traces, as for SQL inserts.
   * A block may have 0 rows. */
  struct block *blocks[OTEL_TABLE_COUNT];
  uint64_t accepted;                /* spans, log records or data points kept */
  uint64_t rejected;                /* ... skipped as invalid: partial success */
  const char *rejection;            /* first reason ("; N more" appended), "" when none */
};

/* Decodes one ExportTrace/Logs/MetricsServiceRequest (protobuf bytes, or
 * OTLP/JSON text) into blocks for `tenant`. Invalid items (a span without a
 * 16-byte trace_id, an id that is not hex, a timestamp past 2262, ...) are
 * skipped and counted in batch->rejected; everything else is kept.
 * Blocks and strings live in `out`; `scratch` holds working memory and may
 * be reset once this returns (NULL: a private arena). The body is only read
 * during the call. Returns 0, or (HTTP 400 / gRPC INVALID_ARGUMENT all):
 * CANNOT_PARSE_INPUT_ASSERTION_FAILED for a body that is not a well-formed
 * request, TOO_DEEP_AST past the nesting limits, TOO_MANY_BYTES when it
 * would decode to more than OTLP_DECODE_BYTES_MAX. On error `out` may hold
 * partial blocks: drop them. Thread-safe (no shared state). */
int otlp_decode(struct arena *out, struct arena *scratch, enum otlp_signal signal, enum otlp_encoding encoding,
                struct slice tenant, const void *body, size_t len, struct otlp_batch *batch, struct error *err);

/* Appends the Export*ServiceResponse for `batch` (partial_success only when
 * something was rejected) in the request's encoding. */
void otlp_response_encode(enum otlp_signal signal, enum otlp_encoding encoding, const struct otlp_batch *batch,
                          struct buf *out);

/* ---- OTLP endpoints: OTLP/HTTP (otlp_http.c) and OTLP/gRPC (otlp_grpc.c) ----
 * Both front ends share one struct otlp_endpoint: it resolves the tenant,
 * decodes the request, hands the batch to the caller's sink and maps the
 * sink's answer onto HTTP statuses / gRPC codes. Status mapping and tenant
 * rules: docs/otlp.md. */

struct http_request;
struct http_response;
struct grpc_server;
struct metrics;
struct otlp_endpoint;

/* What a sink answers; see docs/otlp.md for the statuses each becomes. */
enum otlp_sink_result {
  OTLP_SINK_OK = 0,
  OTLP_SINK_SATURATED,              /* over a memory/queue budget: retry later (HTTP 429 + Retry-After
                                       and a RetryInfo detail, gRPC UNAVAILABLE) */
  OTLP_SINK_UNAVAILABLE,            /* stopping, storage down (HTTP 503 as 429, gRPC UNAVAILABLE) */
  OTLP_SINK_FAILED,                 /* anything else (HTTP 500, gRPC INTERNAL); err says why */
};

/* Where decoded batches go. insert runs on handler threads, concurrently;
 * the batch's blocks live in the request's arena and are freed after it
 * returns, so the sink copies (or moves into its own memory) what it keeps.
 * Returns an enum otlp_sink_result and fills err for anything but OK. A
 * batch with accepted == 0 is not passed to the sink. */
struct otlp_sink {
  int (*insert)(void *ctx, enum otlp_signal signal, const char *tenant, const struct otlp_batch *batch,
                struct error *err);
  void *ctx;
  /* Optional, called before the body is decoded: anything but OTLP_SINK_OK
   * refuses the request at once (a saturated sink should not pay for
   * decoding what it cannot take). */
  int (*admit)(void *ctx, enum otlp_signal signal, struct error *err);
};

/* An API key and the tenant it writes to. */
struct otlp_api_key {
  const char *key;                  /* sent as `Authorization: Bearer <key>` or `X-API-Key: <key>` */
  const char *tenant;
};

struct otlp_endpoint_config {
  struct otlp_sink sink;
  /* With keys: every request needs a known key (else HTTP 401 /
   * UNAUTHENTICATED) and writes to the key's tenant; X-Scope-OrgID is
   * ignored. Without: the tenant is X-Scope-OrgID, or "default". */
  const struct otlp_api_key *api_keys;
  size_t api_key_count;
  uint64_t max_body_bytes;          /* OTLP/HTTP decoded body cap; 0 = OTLP_HTTP_BODY_BYTES_DEFAULT */
  uint32_t retry_after_s;           /* Retry-After on 429/503; 0 = 1 (memtables drain within about a second) */
  struct metrics *metrics;          /* optional; must outlive the endpoint */
};

enum { OTLP_HTTP_BODY_BYTES_DEFAULT = 20 * 1024 * 1024 };   /* the Collector's max_request_body_size */
enum { OTLP_TENANT_BYTES_MAX = 150 };                        /* as Mimir/Loki/Tempo tenant ids */
enum { OTLP_METRIC_TENANTS_MAX = 1000 };     /* tenants with their own /metrics label; the rest are "<other>" */

/* Copies the config (keys included). Returns 0 or ERR_BAD_ARGUMENTS (no
 * sink, an empty key, an invalid tenant name). */
int  otlp_endpoint_create(struct otlp_endpoint **out, const struct otlp_endpoint_config *cfg, struct error *err);
void otlp_endpoint_destroy(struct otlp_endpoint *ep);            /* after the servers using it stopped */

/* http_handler_fn for the OTLP/HTTP server (port 4318); ctx = the endpoint:
 * POST /v1/traces, /v1/logs, /v1/metrics. */
void otlp_http_handler(void *ctx, struct http_request *req, struct http_response *resp);
/* Registers the three Export methods (TraceService, LogsService,
 * MetricsService) on a created, not yet started gRPC server (port 4317). */
int  otlp_grpc_register(struct otlp_endpoint *ep, struct grpc_server *srv, struct error *err);

#endif
