/* google.rpc.Status as OTLP error bodies and gRPC status details carry it:
 * {code, message} alone, with a RetryInfo detail (protobuf and proto3 JSON),
 * the unpadded base64 of grpc-status-details-bin, and the per-tenant item
 * counters with their cap ("<other>" past OTLP_METRIC_TENANTS_MAX). */
#include "tests/unit/ingest/otlp_test_sink.h"

#include <stdio.h>

#define TYPE_URL "type.googleapis.com/google.rpc.RetryInfo"

/* The expected bytes, written field by field from google/rpc/status.proto,
 * google/protobuf/any.proto, google/rpc/error_details.proto and
 * google/protobuf/duration.proto. */
static void expect_retry_status(struct buf *want, uint8_t code, const char *message, const uint8_t *seconds,
                                size_t seconds_len)
{
  uint8_t b[4];
  b[0] = 0x08;                                     /* Status.code, varint */
  b[1] = code;
  buf_append(want, b, 2);
  if (message[0]) {
    b[0] = 0x12;                                   /* Status.message, length-delimited */
    b[1] = (uint8_t)strlen(message);
    buf_append(want, b, 2);
    buf_append(want, message, strlen(message));
  }
  size_t duration_len = 1 + seconds_len;           /* Duration: 0x08 seconds */
  size_t info_len = 2 + duration_len;              /* RetryInfo: 0x0a len Duration */
  size_t any_len = 2 + strlen(TYPE_URL) + 2 + info_len;
  b[0] = 0x1a;                                     /* Status.details[0], an Any */
  b[1] = (uint8_t)any_len;
  b[2] = 0x0a;                                     /* Any.type_url */
  b[3] = (uint8_t)strlen(TYPE_URL);
  buf_append(want, b, 4);
  buf_append(want, TYPE_URL, strlen(TYPE_URL));
  b[0] = 0x12;                                     /* Any.value: RetryInfo */
  b[1] = (uint8_t)info_len;
  b[2] = 0x0a;                                     /* RetryInfo.retry_delay: Duration */
  b[3] = (uint8_t)duration_len;
  buf_append(want, b, 4);
  b[0] = 0x08;                                     /* Duration.seconds */
  buf_append(want, b, 1);
  buf_append(want, seconds, seconds_len);
}

static void test_plain_status(void)
{
  struct buf out;
  buf_init(&out);
  otlp_status_encode(OTLP_PROTOBUF, 3, "bad", 0, &out);
  CHECK_EQ_MEM(out.data, out.len, "\x08\x03\x12\x03" "bad");
  out.len = 0;
  otlp_status_encode(OTLP_PROTOBUF, 0, "", 0, &out);
  CHECK_EQ_INT(out.len, 0);
  otlp_status_encode(OTLP_JSON, 3, "bad \"id\"", 0, &out);
  CHECK_EQ_MEM(out.data, out.len, "{\"code\":3,\"message\":\"bad \\\"id\\\"\"}");
  buf_free(&out);
}

static void test_retry_info(void)
{
  struct buf out, want;
  buf_init(&out);
  buf_init(&want);
  otlp_status_encode(OTLP_PROTOBUF, 14, "busy", 5, &out);
  expect_retry_status(&want, 14, "busy", (const uint8_t *)"\x05", 1);
  CHECK(out.len == want.len && memcmp(out.data, want.data, want.len) == 0);
  int code;
  char msg[64];
  CHECK(status_decode(out.data, out.len, &code, msg, sizeof msg));
  CHECK_EQ_INT(code, 14);
  CHECK_EQ_STR(msg, "busy");

  /* 300 s is a two-byte varint (0xac 0x02); RESOURCE_EXHAUSTED, no message. */
  out.len = want.len = 0;
  otlp_status_encode(OTLP_PROTOBUF, 8, "", 300, &out);
  expect_retry_status(&want, 8, "", (const uint8_t *)"\xac\x02", 2);
  CHECK(out.len == want.len && memcmp(out.data, want.data, want.len) == 0);

  out.len = 0;
  otlp_status_encode(OTLP_JSON, 14, "busy", 5, &out);
  CHECK_EQ_MEM(out.data, out.len,
               "{\"code\":14,\"message\":\"busy\",\"details\":[{\"@type\":\"" TYPE_URL "\",\"retryDelay\":\"5s\"}]}");
  buf_free(&want);
  buf_free(&out);
}

static void test_details_bin(void)
{
  struct buf bin, pb;
  buf_init(&bin);
  buf_init(&pb);
  /* 58 bytes: 58 % 3 == 1, so standard base64 would end in "==". */
  otlp_status_details_bin(14, "busy", 5, &bin);
  CHECK_EQ_MEM(bin.data, bin.len, "CA4SBGJ1c3kaMAoodHlwZS5nb29nbGVhcGlzLmNvbS9nb29nbGUucnBjLlJldHJ5SW5mbxIECgIIBQ");
  /* Every length: never padded, and decodes back to the protobuf bytes. */
  for (uint32_t delay = 1; delay < 70000; delay = delay * 3 + 1) {
    for (int n = 0; n < 3; n++) {
      const char *message = n == 0 ? "" : n == 1 ? "x" : "xy";
      bin.len = pb.len = 0;
      otlp_status_details_bin(14, message, delay, &bin);
      otlp_status_encode(OTLP_PROTOBUF, 14, message, delay, &pb);
      CHECK(memchr(bin.data, '=', bin.len) == NULL);
      CHECK(bin.len % 4 != 1);
      struct arena a;
      arena_init(&a, 0);
      uint8_t *back;
      size_t back_len;
      CHECK(text_base64_decode(&a, bin.data, bin.len, &back, &back_len));
      CHECK(back_len == pb.len && memcmp(back, pb.data, pb.len) == 0);
      arena_destroy(&a);
    }
  }
  buf_free(&pb);
  buf_free(&bin);
}

static int ok_insert(void *ctx, enum otlp_signal signal, const char *tenant, const struct otlp_batch *batch,
                     struct error *err)
{
  return *(int *)ctx;
}

/* The tenant counters through otlp_endpoint_export: received, accepted and
 * refused per tenant; past the cap, tenants share "<other>". */
static void test_tenant_counters(void)
{
  struct metrics *m = metrics_create();
  int mode = OTLP_SINK_OK;
  struct otlp_endpoint_config cfg = { .sink = { ok_insert, &mode }, .metrics = m };
  struct otlp_endpoint *ep;
  struct error err = { 0 };
  REQUIRE(otlp_endpoint_create(&ep, &cfg, &err) == 0);
  const char *good = trace_json(false), *bad = trace_json(true);
  struct arena a;
  arena_init(&a, 0);
  struct otlp_batch batch;
  char tenant[32];
  for (int i = 0; i < OTLP_METRIC_TENANTS_MAX + 3; i++) {
    snprintf(tenant, sizeof tenant, "t%d", i);
    CHECK_EQ_INT(otlp_endpoint_export(ep, OTLP_TRANSPORT_HTTP, OTLP_TRACES, OTLP_JSON, tenant, good, strlen(good), &a,
                                      &batch, &err), OTLP_OUTCOME_OK);
    arena_reset(&a);
  }
  /* t0: a partial success (2 kept, 1 rejected), then a saturated sink. */
  CHECK_EQ_INT(otlp_endpoint_export(ep, OTLP_TRANSPORT_GRPC, OTLP_TRACES, OTLP_JSON, "t0", bad, strlen(bad), &a,
                                    &batch, &err), OTLP_OUTCOME_OK);
  arena_reset(&a);
  mode = OTLP_SINK_SATURATED;
  CHECK_EQ_INT(otlp_endpoint_export(ep, OTLP_TRANSPORT_HTTP, OTLP_TRACES, OTLP_JSON, "t0", good, strlen(good), &a,
                                    &batch, &err), OTLP_OUTCOME_SATURATED);
  arena_reset(&a);
  /* An undecodable body has no items to count. */
  CHECK_EQ_INT(otlp_endpoint_export(ep, OTLP_TRANSPORT_HTTP, OTLP_TRACES, OTLP_JSON, "t1", "{", 1, &a, &batch, &err),
               OTLP_OUTCOME_BAD_REQUEST);
  arena_destroy(&a);

  struct buf out;
  buf_init(&out);
  metrics_render(m, &out);
  const char *s = buf_cstr(&out);
  CHECK(strstr(s, "spanhouse_otlp_tenant_items_received_total{tenant=\"t0\",signal=\"traces\"} 7\n") != NULL);
  CHECK(strstr(s, "spanhouse_otlp_tenant_items_accepted_total{tenant=\"t0\",signal=\"traces\"} 4\n") != NULL);
  CHECK(strstr(s, "spanhouse_otlp_tenant_items_refused_total{tenant=\"t0\",signal=\"traces\"} 3\n") != NULL);
  CHECK(strstr(s, "spanhouse_otlp_tenant_items_accepted_total{tenant=\"t1\",signal=\"traces\"} 2\n") != NULL);
  CHECK(strstr(s, "spanhouse_otlp_tenant_items_received_total{tenant=\"t999\",signal=\"traces\"} 2\n") != NULL);
  CHECK(strstr(s, "tenant=\"t1000\"") == NULL);
  CHECK(strstr(s, "spanhouse_otlp_tenant_items_accepted_total{tenant=\"<other>\",signal=\"traces\"} 6\n") != NULL);
  CHECK(strstr(s, "tenant_items_received_total{tenant=\"t0\",signal=\"logs\"}") == NULL);   /* registered on use */
  buf_free(&out);
  otlp_endpoint_destroy(ep);
  metrics_destroy(m);
}

int main(void)
{
  test_plain_status();
  test_retry_info();
  test_details_bin();
  test_tenant_counters();
  TEST_DONE();
}
