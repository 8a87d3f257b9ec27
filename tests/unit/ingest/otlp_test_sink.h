/* Shared by test_otlp_http.c and test_otlp_grpc.c: a sink that records
 * what reaches it and can be told to saturate or fail, and OTLP requests
 * written as OTLP/JSON and packed into protobuf through the decoder's own
 * JSON → message path. */
#ifndef SPANHOUSE_TESTS_UNIT_INGEST_OTLP_TEST_SINK_H
#define SPANHOUSE_TESTS_UNIT_INGEST_OTLP_TEST_SINK_H

#include "base/limits.h"
#include "base/metrics.h"
#include "ingest/ingest_int.h"
#include "tests/unit/test.h"

#include <pthread.h>
#include <stdatomic.h>

struct test_sink {
  pthread_mutex_t lock;
  int mode;                          /* enum otlp_sink_result to answer */
  int calls;
  enum otlp_signal signal;           /* of the last call */
  char tenant[OTLP_TENANT_BYTES_MAX + 1];
  uint64_t accepted, rejected;       /* of the last call */
  uint64_t rows[OTEL_TABLE_COUNT];   /* of the last call, per table */
  uint64_t total_accepted;
  char service[64];                  /* ServiceName of the last call's first row */
};

static inline int test_sink_insert(void *ctx, enum otlp_signal signal, const char *tenant, const struct otlp_batch *batch,
                            struct error *err)
{
  struct test_sink *s = ctx;
  pthread_mutex_lock(&s->lock);
  s->calls++;
  s->signal = signal;
  snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
  s->accepted = batch->accepted;
  s->rejected = batch->rejected;
  s->service[0] = '\0';
  for (int t = 0; t < OTEL_TABLE_COUNT; t++) {
    const struct block *b = batch->blocks[t];
    s->rows[t] = b ? b->rows : 0;
    for (uint32_t c = 0; b && b->rows && !s->service[0] && c < b->column_count; c++) {
      if (strcmp(b->names[c], "ServiceName") == 0) {
        struct slice v = column_get_bytes(b->columns[c], 0);
        snprintf(s->service, sizeof s->service, "%.*s", (int)v.len, v.ptr);
      }
    }
  }
  int mode = s->mode;
  if (mode == OTLP_SINK_OK)
    s->total_accepted += batch->accepted;
  pthread_mutex_unlock(&s->lock);
  if (mode == OTLP_SINK_SATURATED)
    error_set(err, ERR_MEMORY_LIMIT_EXCEEDED, "test sink is saturated");
  else if (mode == OTLP_SINK_UNAVAILABLE)
    error_set(err, ERR_ABORTED, "test sink is stopping");
  else if (mode != OTLP_SINK_OK)
    error_set(err, ERR_CANNOT_WRITE_TO_FILE_DESCRIPTOR, "test sink failed to write");
  return mode;
}

static inline void test_sink_reset(struct test_sink *s, int mode)
{
  pthread_mutex_lock(&s->lock);
  s->mode = mode;
  s->calls = 0;
  s->tenant[0] = '\0';
  s->accepted = s->rejected = 0;
  pthread_mutex_unlock(&s->lock);
}

/* Two spans of one trace; bad_span adds a third with a 5-byte trace id
 * (rejected: partial success). */
static inline const char *trace_json(bool bad_span)
{
  return bad_span
    ? "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}}]},"
      "\"scopeSpans\":[{\"spans\":["
      "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\",\"name\":\"GET /\","
      "\"kind\":2,\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":\"1700000000500000000\"},"
      "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b175\",\"name\":\"db\","
      "\"startTimeUnixNano\":\"1700000000100000000\",\"endTimeUnixNano\":\"1700000000200000000\"},"
      "{\"traceId\":\"0102030405\",\"spanId\":\"eee19b7ec3c1b176\",\"name\":\"bad\"}"
      "]}]}]}"
    : "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}}]},"
      "\"scopeSpans\":[{\"spans\":["
      "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\",\"name\":\"GET /\","
      "\"kind\":2,\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":\"1700000000500000000\"},"
      "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b175\",\"name\":\"db\","
      "\"startTimeUnixNano\":\"1700000000100000000\",\"endTimeUnixNano\":\"1700000000200000000\"}"
      "]}]}]}";
}

static const char logs_json[] =
  "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"api\"}}]},"
  "\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"1700000000000000000\",\"severityNumber\":9,"
  "\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"hello\"}},"
  "{\"timeUnixNano\":\"1700000000000000001\",\"body\":{\"stringValue\":\"world\"}}]}]}]}";

static const char metrics_json[] =
  "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"api\"}}]},"
  "\"scopeMetrics\":[{\"metrics\":[{\"name\":\"requests\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,"
  "\"dataPoints\":[{\"timeUnixNano\":\"1700000000000000000\",\"asInt\":\"42\"},"
  "{\"timeUnixNano\":\"1700000001000000000\",\"asInt\":\"43\"}]}},"
  "{\"name\":\"temp\",\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":\"1700000000000000000\",\"asDouble\":21.5}]}}]}]}]}";

static inline const ProtobufCMessageDescriptor *request_descriptor(enum otlp_signal signal)
{
  switch (signal) {
  case OTLP_TRACES: return &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor;
  case OTLP_LOGS: return &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
  default: return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor;
  }
}

/* OTLP/JSON text → the same request as protobuf bytes, appended to out. */
static inline void json_to_proto(enum otlp_signal signal, const char *json, struct buf *out)
{
  struct arena a;
  arena_init(&a, 0);
  struct error err;
  struct json_value root;
  REQUIRE(json_parse(&a, json, strlen(json), OTLP_JSON_DEPTH_MAX, &root, &err) == 0);
  ProtobufCMessage *msg;
  if (otlp_json_to_message(&a, request_descriptor(signal), &root, &msg, &err) != 0) {
    fprintf(stderr, "json_to_proto: %s\n", err.message);
    exit(1);
  }
  size_t n = protobuf_c_message_get_packed_size(msg);
  buf_reserve(out, n);
  protobuf_c_message_pack(msg, (uint8_t *)out->data + out->len);
  out->len += n;
  arena_destroy(&a);
}

/* rejected count and message from a protobuf Export*ServiceResponse
 * (field 1 = partial_success {1: rejected, 2: error_message}); -1 if the
 * bytes are not one. */
static inline int64_t response_rejected(const char *p, size_t n, char *msg, size_t msg_cap)
{
  msg[0] = '\0';
  if (n == 0)
    return 0;
  ProtobufCMessage *m = protobuf_c_message_unpack(
    &opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor, NULL, n, (const uint8_t *)p);
  if (!m)
    return -1;
  Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r = (void *)m;
  int64_t rejected = 0;
  if (r->partial_success) {
    rejected = r->partial_success->rejected_spans;
    snprintf(msg, msg_cap, "%s", r->partial_success->error_message ? r->partial_success->error_message : "");
  }
  protobuf_c_message_free_unpacked(m, NULL);
  return rejected;
}

/* A google.rpc.Status in protobuf: code and message (details are skipped);
 * false if malformed. */
static inline bool status_decode(const char *p, size_t n, int *code, char *msg, size_t msg_cap)
{
  *code = 0;
  msg[0] = '\0';
  size_t i = 0;
  while (i < n) {
    uint8_t tag = (uint8_t)p[i++];
    uint64_t v = 0;
    int shift = 0;
    while (i < n) {
      uint8_t b = (uint8_t)p[i++];
      v |= (uint64_t)(b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80))
        break;
    }
    if (tag == 0x08) {
      *code = (int)v;
    } else if (tag == 0x12 || tag == 0x1a) {
      if (v > n - i)
        return false;
      if (tag == 0x1a) {
        i += (size_t)v;
        continue;
      }
      size_t k = v < msg_cap - 1 ? (size_t)v : msg_cap - 1;
      memcpy(msg, p + i, k);
      msg[k] = '\0';
      i += (size_t)v;
    } else {
      return false;
    }
  }
  return true;
}

#endif
