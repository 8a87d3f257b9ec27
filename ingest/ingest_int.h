/* Private declarations shared by the ingest/ sources and its unit tests: column
 * positions of the otel tables, the JSON reader, OTLP/JSON → protobuf-c
 * messages, and the text forms values take in the exporter's schema. */
#ifndef SPANHOUSE_INGEST_INGEST_INT_H
#define SPANHOUSE_INGEST_INGEST_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/error.h"
#include "ingest/ingest.h"
#include "ingest/proto/common.pb-c.h"
#include "ingest/proto/logs_service.pb-c.h"
#include "ingest/proto/metrics_service.pb-c.h"
#include "ingest/proto/resource.pb-c.h"
#include "ingest/proto/trace_service.pb-c.h"

/* ---- short names for the generated protobuf-c types ---- */
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any_value;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_key_value;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_trace_request;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest pb_logs_request;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_metrics_request;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event pb_span_event;
typedef Opentelemetry__Proto__Trace__V1__Span__Link pb_span_link;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs pb_resource_logs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs pb_scope_logs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord pb_log_record;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics pb_resource_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_number_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_histogram_point;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint pb_exp_histogram_point;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint__Buckets pb_exp_buckets;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint pb_summary_point;
typedef Opentelemetry__Proto__Metrics__V1__Exemplar pb_exemplar;

/* What an OTLP/JSON id that is not hex becomes: 9 bytes, never a valid id
 * length, and reported as "not a hex string" when its item is rejected. */
#define OTLP_ID_NOT_HEX "\xffnot hex!"
#define OTLP_ID_NOT_HEX_LEN 9

/* ---- column positions (must follow otel_schema.c's DDL; test_otel_schema checks) ---- */
enum {
  TR_TENANT_ID, TR_TIMESTAMP, TR_TRACE_ID, TR_SPAN_ID, TR_PARENT_SPAN_ID, TR_TRACE_STATE, TR_SPAN_NAME,
  TR_SPAN_KIND, TR_SERVICE_NAME, TR_RESOURCE_ATTRIBUTES, TR_SCOPE_NAME, TR_SCOPE_VERSION, TR_SPAN_ATTRIBUTES,
  TR_DURATION, TR_STATUS_CODE, TR_STATUS_MESSAGE, TR_EVENTS_TIMESTAMP, TR_EVENTS_NAME, TR_EVENTS_ATTRIBUTES,
  TR_LINKS_TRACE_ID, TR_LINKS_SPAN_ID, TR_LINKS_TRACE_STATE, TR_LINKS_ATTRIBUTES,
  TR_COLUMN_COUNT
};
enum { TI_TENANT_ID, TI_TRACE_ID, TI_START, TI_END, TI_COLUMN_COUNT };
enum {
  LG_TENANT_ID, LG_TIMESTAMP, LG_TRACE_ID, LG_SPAN_ID, LG_TRACE_FLAGS, LG_SEVERITY_TEXT, LG_SEVERITY_NUMBER,
  LG_SERVICE_NAME, LG_BODY, LG_RESOURCE_SCHEMA_URL, LG_RESOURCE_ATTRIBUTES, LG_SCOPE_SCHEMA_URL, LG_SCOPE_NAME,
  LG_SCOPE_VERSION, LG_SCOPE_ATTRIBUTES, LG_LOG_ATTRIBUTES, LG_EVENT_NAME,
  LG_COLUMN_COUNT
};
/* The head every otel_metrics_* table shares. */
enum {
  MT_TENANT_ID, MT_RESOURCE_ATTRIBUTES, MT_RESOURCE_SCHEMA_URL, MT_SCOPE_NAME, MT_SCOPE_VERSION,
  MT_SCOPE_ATTRIBUTES, MT_SCOPE_DROPPED_ATTR_COUNT, MT_SCOPE_SCHEMA_URL, MT_SERVICE_NAME, MT_METRIC_NAME,
  MT_METRIC_DESCRIPTION, MT_METRIC_UNIT, MT_ATTRIBUTES, MT_START_TIME_UNIX, MT_TIME_UNIX,
  MT_COMMON_COUNT
};
/* Exemplars.* columns, relative to where a table's exemplars start. */
enum { EX_FILTERED_ATTRIBUTES, EX_TIME_UNIX, EX_VALUE, EX_SPAN_ID, EX_TRACE_ID, EX_COLUMN_COUNT };
enum { GA_VALUE = MT_COMMON_COUNT, GA_FLAGS, GA_EXEMPLARS, GA_COLUMN_COUNT = GA_EXEMPLARS + EX_COLUMN_COUNT };
enum {
  SU_VALUE = MT_COMMON_COUNT, SU_FLAGS, SU_EXEMPLARS, SU_AGGREGATION_TEMPORALITY = SU_EXEMPLARS + EX_COLUMN_COUNT,
  SU_IS_MONOTONIC, SU_COLUMN_COUNT
};
enum {
  HI_COUNT = MT_COMMON_COUNT, HI_SUM, HI_BUCKET_COUNTS, HI_EXPLICIT_BOUNDS, HI_EXEMPLARS,
  HI_FLAGS = HI_EXEMPLARS + EX_COLUMN_COUNT, HI_MIN, HI_MAX, HI_AGGREGATION_TEMPORALITY, HI_COLUMN_COUNT
};
enum {
  EH_COUNT = MT_COMMON_COUNT, EH_SUM, EH_SCALE, EH_ZERO_COUNT, EH_POSITIVE_OFFSET, EH_POSITIVE_BUCKET_COUNTS,
  EH_NEGATIVE_OFFSET, EH_NEGATIVE_BUCKET_COUNTS, EH_EXEMPLARS, EH_FLAGS = EH_EXEMPLARS + EX_COLUMN_COUNT, EH_MIN,
  EH_MAX, EH_AGGREGATION_TEMPORALITY, EH_COLUMN_COUNT
};
enum {
  SM_COUNT = MT_COMMON_COUNT, SM_SUM, SM_QUANTILES_QUANTILE, SM_QUANTILES_VALUE, SM_FLAGS, SM_COLUMN_COUNT
};

/* ---- JSON (RFC 8259), ingest/json.c ---- */

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_member;

struct json_value {
  enum json_type type;
  uint32_t count;                   /* ARRAY elements, OBJECT members */
  union {
    struct slice text;              /* STRING: decoded UTF-8; NUMBER: the literal as written */
    struct json_value *items;       /* ARRAY */
    struct json_member *members;    /* OBJECT, in document order, duplicates kept */
  } u;
};

struct json_member {
  struct slice key;                 /* decoded UTF-8 */
  struct json_value value;
};

/* Parses exactly one JSON text (RFC 8259: UTF-8 only, no trailing commas,
 * comments, NaN or leading zeros; a leading BOM is skipped). Strings without
 * escapes point into `text`, which must outlive the tree; everything else is
 * in `a`. Lone \u surrogates decode to U+FFFD. CANNOT_PARSE_INPUT_ASSERTION_FAILED
 * with the byte offset on malformed input, TOO_DEEP_AST past depth_max. */
int json_parse(struct arena *a, const char *text, size_t len, uint32_t depth_max, struct json_value *out,
               struct error *err);
const struct json_value *json_object_get(const struct json_value *obj, const char *key);  /* last match */
/* Number conversions: false if not a number of that kind or out of range.
 * Integers accept exponent forms that are integral ("1e3"). */
bool json_number_i64(struct slice text, int64_t *out);
bool json_number_u64(struct slice text, uint64_t *out);
bool json_number_f64(struct slice text, double *out);

/* ---- OTLP/JSON → protobuf-c messages, ingest/otlp_json.c ---- */

/* Builds the request message of `desc` from an OTLP/JSON tree: lowerCamelCase
 * or proto field names, ids as hex, other bytes as base64, 64-bit integers as
 * strings or numbers, enums as integers or names; unknown fields ignored.
 * Messages live in `a`. CANNOT_PARSE_INPUT_ASSERTION_FAILED naming the field
 * when a value has the wrong JSON type. */
int otlp_json_to_message(struct arena *a, const ProtobufCMessageDescriptor *desc, const struct json_value *root,
                         ProtobufCMessage **out, struct error *err);

/* ---- protobuf wire reading (shared by otlp_decode.c and otlp_text.c) ---- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct pbr {                        /* a cursor over one message's bytes */
  const uint8_t *p, *end;
};

static inline struct pbr pbr_of(struct slice s)
{
  return (struct pbr){ (const uint8_t *)s.ptr, (const uint8_t *)s.ptr + s.len };
}

static inline bool rd_varint(struct pbr *r, uint64_t *out)
{
  const uint8_t *p = r->p;
  if (p < r->end && *p < 0x80) {
    *out = *p;
    r->p = p + 1;
    return true;
  }
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && p < r->end; shift += 7) {
    uint8_t b = *p++;
    if (shift == 63 && b > 1)
      return false;
    v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *out = v;
      r->p = p;
      return true;
    }
  }
  return false;
}

/* 1: a field was read; 0: end of the message; -1: malformed tag. */
static inline int rd_tag(struct pbr *r, uint32_t *field, uint32_t *wt)
{
  if (r->p >= r->end)
    return 0;
  uint64_t t;
  if (!rd_varint(r, &t) || t > UINT32_MAX || (t >> 3) == 0)
    return -1;
  *field = (uint32_t)(t >> 3);
  *wt = (uint32_t)(t & 7);
  return 1;
}

static inline bool rd_len(struct pbr *r, struct slice *s)
{
  uint64_t n;
  if (!rd_varint(r, &n) || n > (uint64_t)(r->end - r->p))
    return false;
  s->ptr = (const char *)r->p;
  s->len = (size_t)n;
  r->p += n;
  return true;
}

static inline bool rd_fixed64(struct pbr *r, uint64_t *v)  /* little-endian hosts */
{
  if (r->end - r->p < 8)
    return false;
  memcpy(v, r->p, 8);
  r->p += 8;
  return true;
}

static inline bool rd_fixed32(struct pbr *r, uint32_t *v)
{
  if (r->end - r->p < 4)
    return false;
  memcpy(v, r->p, 4);
  r->p += 4;
  return true;
}

/* Skips a field's value; groups (wire types 3, 4) are malformed here. */
static inline bool rd_skip(struct pbr *r, uint32_t wt)
{
  uint64_t v;
  struct slice s;
  switch (wt) {
  case WT_VARINT: return rd_varint(r, &v);
  case WT_I64: return rd_fixed64(r, &v);
  case WT_LEN: return rd_len(r, &s);
  case WT_I32: {
    uint32_t w;
    return rd_fixed32(r, &w);
  }
  default: return false;
  }
}

/* One AnyValue, read from the wire (oneof: the last member sent wins). */
enum any_kind { ANY_NONE, ANY_STRING, ANY_BOOL, ANY_INT, ANY_DOUBLE, ANY_ARRAY, ANY_KVLIST, ANY_BYTES };

struct any_rec {
  enum any_kind kind;
  union {
    struct slice s;                 /* STRING, BYTES; ARRAY/KVLIST: the nested message */
    int64_t i;
    double f;
    bool b;
  } u;
};

struct kv_rec {
  struct slice key;
  struct any_rec value;             /* ANY_NONE when the KeyValue has no value */
};

enum { ANY_OK, ANY_MALFORMED, ANY_TOO_DEEP };
/* Parses an AnyValue / KeyValue message. `depth` is the message's nesting
 * depth; with `deep` nested arrays and kvlists are checked down to
 * OTLP_MESSAGE_DEPTH_MAX, so text_any_value can trust them. */
int any_parse(struct slice msg, uint32_t depth, bool deep, struct any_rec *out);
int kv_parse(struct slice msg, uint32_t depth, bool deep, struct kv_rec *out);

/* ---- value text, ingest/otlp_text.c ---- */

/* Length of the valid UTF-8 sequence at p (1-4), 0 if invalid there
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
size_t text_utf8_len(const uint8_t *p, size_t n);
void text_hex(struct buf *out, const uint8_t *p, size_t n);           /* lowercase */
void text_base64(struct buf *out, const uint8_t *p, size_t n);        /* standard alphabet, padded */
/* Decodes standard base64 (padding optional, no whitespace); false if malformed. */
bool text_base64_decode(struct arena *a, const char *s, size_t n, uint8_t **out, size_t *out_len);
/* Decodes hex (either case, even length); false if malformed. */
bool text_hex_decode(struct arena *a, const char *s, size_t n, uint8_t **out, size_t *out_len);
/* A JSON string literal as Go's encoding/json writes it: HTML characters,
 * U+2028/9 and control bytes escaped, invalid UTF-8 as \ufffd. */
void text_json_string(struct buf *out, const char *s, size_t n);
/* A double as Go's strconv/encoding/json writes it (ES6 number form:
 * shortest round trip, exponent below 1e-6 and from 1e21). Non-finite
 * values: false and nothing written. */
bool text_double(struct buf *out, double v);
void text_i64(struct buf *out, int64_t v);
/* AnyValue.AsString() of the OpenTelemetry Collector's pdata, which the
 * ClickHouse exporter stores: strings as is, ints decimal, doubles as
 * above ("json: unsupported value: +Inf" for non-finite ones), bools
 * true/false, bytes base64, arrays and kvlists as JSON text (keys sorted,
 * the last duplicate wins; "" if it holds a non-finite double), unset "".
 * `v` must have been parsed with `deep`. */
void text_any_value(struct buf *out, const struct any_rec *v);

/* ---- OTLP endpoints, ingest/otlp_endpoint.c (shared by otlp_http.c and otlp_grpc.c) ---- */

struct metric_counter;

enum otlp_transport { OTLP_TRANSPORT_HTTP, OTLP_TRANSPORT_GRPC, OTLP_TRANSPORT_COUNT };

/* How one export ended; each transport maps it onto its statuses. */
enum otlp_outcome {
  OTLP_OUTCOME_OK,                  /* batch stored (maybe with rejected items) */
  OTLP_OUTCOME_BAD_REQUEST,         /* undecodable body (400 / INVALID_ARGUMENT) */
  OTLP_OUTCOME_UNAUTHENTICATED,     /* missing or unknown API key (401 / UNAUTHENTICATED) */
  OTLP_OUTCOME_SATURATED,           /* sink over budget (429 + RetryInfo / UNAVAILABLE) */
  OTLP_OUTCOME_UNAVAILABLE,         /* sink unavailable (503 / UNAVAILABLE) */
  OTLP_OUTCOME_FAILED,              /* sink failed (500 / INTERNAL) */
  OTLP_OUTCOME_TOO_LARGE,           /* body over the limit (413; gRPC limits are the server's) */
  OTLP_OUTCOME_COUNT
};

struct otlp_counters {
  struct metric_counter *requests;                   /* export requests that reached decoding or auth */
  struct metric_counter *bytes;                      /* request bytes, decompressed */
  struct metric_counter *accepted;                   /* spans, log records or data points stored */
  struct metric_counter *rejected;                   /* ... rejected as invalid (partial success) */
  struct metric_counter *failed[OTLP_OUTCOME_COUNT]; /* requests per failing outcome */
};

/* Items per tenant and signal: spanhouse_otlp_tenant_items_{received,accepted,refused}_total. */
struct otlp_tenant_counters {
  struct metric_counter *received;                   /* items in well-formed requests */
  struct metric_counter *accepted;                   /* ... stored */
  struct metric_counter *refused;                    /* ... not stored: invalid, or the sink refused the request */
};

/* One tenant's label, in the endpoint's open-addressing table. */
struct otlp_tenant_slot {
  char *tenant;                                      /* own copy; NULL = free slot */
  struct otlp_tenant_counters by_signal[3];          /* registered on first use */
};

enum { OTLP_TENANT_SLOTS = 2048 };                   /* power of two, over 2 x OTLP_METRIC_TENANTS_MAX */

struct otlp_grpc_method {
  struct otlp_endpoint *ep;
  enum otlp_signal signal;
};

struct otlp_endpoint {
  struct otlp_sink sink;
  struct otlp_api_key *keys;        /* own copies */
  size_t key_count;
  uint64_t max_body_bytes;
  uint32_t retry_after_s;
  char retry_after[16];             /* the same as header text */
  struct otlp_counters counters[OTLP_TRANSPORT_COUNT][3];
  struct otlp_grpc_method grpc_methods[3];
  struct metrics *metrics;          /* NULL: no per-tenant counters */
  pthread_mutex_t tenant_lock;      /* guards tenant_slots, tenant_count and other */
  struct otlp_tenant_slot *tenant_slots;             /* OTLP_TENANT_SLOTS entries, or NULL */
  size_t tenant_count;              /* labelled tenants, at most OTLP_METRIC_TENANTS_MAX */
  struct otlp_tenant_counters other[3];              /* tenant="<other>": every tenant past the cap */
};

/* The tenant for a request into tenant[] (NUL-terminated): see
 * otlp_endpoint_config. authorization is the Authorization value, api_key
 * the X-API-Key value; absent ones are {NULL,0}. Returns OTLP_OUTCOME_OK,
 * UNAUTHENTICATED or BAD_REQUEST (a malformed X-Scope-OrgID) with err set. */
int otlp_endpoint_tenant(const struct otlp_endpoint *ep, struct slice org_id, struct slice authorization,
                         struct slice api_key, char tenant[OTLP_TENANT_BYTES_MAX + 1], struct error *err);
/* Decodes body into a batch in `a` and passes it to the sink; counts it.
 * Returns an OTLP_OUTCOME_ with err set unless OK. */
int otlp_endpoint_export(struct otlp_endpoint *ep, enum otlp_transport transport, enum otlp_signal signal,
                         enum otlp_encoding encoding, const char *tenant, const void *body, size_t len,
                         struct arena *a, struct otlp_batch *batch, struct error *err);
/* Counts a request that failed before export (auth, size, media type). */
void otlp_endpoint_count_failure(struct otlp_endpoint *ep, enum otlp_transport transport, enum otlp_signal signal,
                                 int outcome);
/* A google.rpc.Status message {code, message} in the encoding (OTLP/HTTP
 * error bodies). retry_delay_s > 0 adds one detail, a google.rpc.RetryInfo
 * {retry_delay: that many seconds} packed in a google.protobuf.Any, which is
 * how OTLP and gRPC servers tell clients when to retry. */
void otlp_status_encode(enum otlp_encoding encoding, int grpc_code, const char *message, uint32_t retry_delay_s,
                        struct buf *out);
/* The same Status (protobuf) as the value of the grpc-status-details-bin
 * trailer: base64 without padding, as gRPC sends -bin metadata. */
void otlp_status_details_bin(int grpc_code, const char *message, uint32_t retry_delay_s, struct buf *out);

#endif
