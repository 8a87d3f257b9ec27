/* ingest/: OpenTelemetry data in, typed row batches out. Owns the OTLP
 * protobuf schema (ingest/proto/, compiled by protoc-c at build time),
 * the OTLP/JSON reader, the built-in `otel` database (its DDL is the single
 * source of truth for the tables' columns) and the mapping of spans, log
 * records and metric points onto those columns; later the OTLP/HTTP and
 * OTLP/gRPC endpoints. Depends on base/ (and engine/), never on query/.
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
  OTEL_TRACES_TRACE_ID_TS,          /* TraceId → first/last span start, written with the spans */
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
  /* The signal's tables (traces: OTEL_TRACES and OTEL_TRACES_TRACE_ID_TS;
   * logs: OTEL_LOGS; metrics: the five OTEL_METRICS_*); NULL for the rest.
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

#endif
