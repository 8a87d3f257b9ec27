/* OTLP/gRPC receiver over a real in-process grpc_server on port 0, with
 * nghttp2's client API: the three Export methods, partial success, gzip
 * request messages, INVALID_ARGUMENT for undecodable messages, UNAVAILABLE
 * and INTERNAL from the sink, tenants from x-scope-orgid and API keys in
 * authorization / x-api-key metadata (UNAUTHENTICATED), metrics. */
#include "base/compress.h"
#include "base/clock.h"
#include "base/grpc_server.h"
#include "base/log.h"
#include "tests/unit/ingest/otlp_test_sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- a small gRPC client */

struct call {
  int http_status;
  int grpc_status;                   /* -1 = none */
  char grpc_message[2048];
  bool closed;
  struct buf data;                   /* response DATA (prefixed message) */
  struct buf body;                   /* request DATA */
  size_t body_pos;
};

struct client {
  int fd;
  nghttp2_session *s;
};

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
  struct client *c = ud;
  ssize_t n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
  return n;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
  struct call *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
  if (!st)
    return 0;
  char v[2048];
  size_t k = valuelen < sizeof v - 1 ? valuelen : sizeof v - 1;
  memcpy(v, value, k);
  v[k] = '\0';
  if (namelen == 7 && memcmp(name, ":status", 7) == 0)
    st->http_status = atoi(v);
  else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
    st->grpc_status = atoi(v);
  else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
    memcpy(st->grpc_message, v, k + 1);
  return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud)
{
  struct call *st = nghttp2_session_get_stream_user_data(s, id);
  if (st)
    buf_append(&st->data, data, len);
  return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *ud)
{
  struct call *st = nghttp2_session_get_stream_user_data(s, id);
  if (st)
    st->closed = true;
  return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *out, size_t length, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
  struct call *st = src->ptr;
  size_t n = st->body.len - st->body_pos;
  if (n > length)
    n = length;
  memcpy(out, st->body.data + st->body_pos, n);
  st->body_pos += n;
  if (st->body_pos == st->body.len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

static void client_open(struct client *c, uint16_t port)
{
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  REQUIRE(connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == 0);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  nghttp2_session_callbacks *cb;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_send_callback(cb, on_send);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
  REQUIRE(nghttp2_session_client_new(&c->s, cb, c) == 0);
  nghttp2_session_callbacks_del(cb);
  nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, NULL, 0);
}

static void client_close(struct client *c)
{
  nghttp2_session_del(c->s);
  close(c->fd);
}

static const char *const paths[3] = {
  "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
  "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
  "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
};

/* One unary call; msg is the protobuf message, gzip compresses it.
 * md: NULL-terminated name, value pairs. Waits for the answer. */
static void unary(struct client *c, struct call *st, const char *path, const void *msg, size_t len, bool gzip,
                  const char *const *md)
{
  memset(st, 0, sizeof *st);
  st->grpc_status = -1;
  buf_init(&st->data);
  buf_init(&st->body);
  struct buf z;
  buf_init(&z);
  if (gzip) {
    struct compressor *cz;
    struct error err;
    REQUIRE(compressor_create(&cz, COMPRESS_GZIP, 0, &err) == 0);
    REQUIRE(compressor_run(cz, msg, len, false, true, &z, &err) == 0);
    compressor_destroy(cz);
    msg = z.data;
    len = z.len;
  }
  uint8_t p[5] = { gzip ? 1 : 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
  buf_append(&st->body, p, 5);
  buf_append(&st->body, msg, len);
  buf_free(&z);
  nghttp2_nv nv[24];
  size_t n = 0;
#define NV(a, b) (nghttp2_nv){ (uint8_t *)(uintptr_t)(a), (uint8_t *)(uintptr_t)(b), strlen(a), strlen(b), 0 }
  nv[n++] = NV(":method", "POST");
  nv[n++] = NV(":scheme", "http");
  nv[n++] = NV(":path", path);
  nv[n++] = NV(":authority", "localhost");
  nv[n++] = NV("content-type", "application/grpc");
  nv[n++] = NV("te", "trailers");
  if (gzip)
    nv[n++] = NV("grpc-encoding", "gzip");
  for (int i = 0; md && md[i]; i += 2)
    nv[n++] = NV(md[i], md[i + 1]);
#undef NV
  nghttp2_data_provider prd = { .source.ptr = st, .read_callback = read_body };
  REQUIRE(nghttp2_submit_request(c->s, NULL, nv, n, &prd, st) > 0);
  int64_t end = clock_monotonic_ns() + 10 * 1000000000LL;
  while (!st->closed && clock_monotonic_ns() < end) {
    REQUIRE(nghttp2_session_send(c->s) == 0);
    struct pollfd pfd = { .fd = c->fd, .events = POLLIN | (nghttp2_session_want_write(c->s) ? POLLOUT : 0) };
    if (poll(&pfd, 1, 20) <= 0)
      continue;
    uint8_t tmp[65536];
    ssize_t k;
    while ((k = recv(c->fd, tmp, sizeof tmp, 0)) > 0)
      REQUIRE(nghttp2_session_mem_recv(c->s, tmp, (size_t)k) >= 0);
    REQUIRE(k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
  REQUIRE(st->closed);
}

static void call_free(struct call *st)
{
  buf_free(&st->data);
  buf_free(&st->body);
}

/* The reply message of an OK call (after the 5-byte prefix). */
static void check_ok(struct call *st, int64_t want_rejected, const char *msg_part)
{
  CHECK_EQ_INT(st->http_status, 200);
  CHECK_EQ_INT(st->grpc_status, 0);
  REQUIRE(st->data.len >= 5);
  CHECK_EQ_INT((uint8_t)st->data.data[0], 0);
  char msg[512];
  CHECK_EQ_INT(response_rejected(st->data.data + 5, st->data.len - 5, msg, sizeof msg), want_rejected);
  if (msg_part && !strstr(msg, msg_part)) {
    fprintf(stderr, "partial success message \"%s\" lacks \"%s\"\n", msg, msg_part);
    test_failures++;
  }
}

static void check_status(struct call *st, int status, const char *msg_part)
{
  CHECK_EQ_INT(st->grpc_status, status);
  if (!strstr(st->grpc_message, msg_part)) {
    fprintf(stderr, "grpc-message \"%s\" lacks \"%s\"\n", st->grpc_message, msg_part);
    test_failures++;
  }
}

/* ---------------------------------------------------------------------- tests */

static struct test_sink sink = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct test_sink key_sink = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void test_export(uint16_t port)
{
  struct client c;
  client_open(&c, port);
  struct buf pb;
  buf_init(&pb);
  struct call st;

  json_to_proto(OTLP_TRACES, trace_json(false), &pb);
  test_sink_reset(&sink, OTLP_SINK_OK);
  unary(&c, &st, paths[0], pb.data, pb.len, false, NULL);
  check_ok(&st, 0, NULL);
  CHECK_EQ_INT(st.data.len, 5);      /* an empty response message */
  CHECK_EQ_INT(sink.signal, OTLP_TRACES);
  CHECK_EQ_STR(sink.tenant, "default");
  CHECK_EQ_INT(sink.accepted, 2);
  CHECK_EQ_INT(sink.rows[OTEL_TRACES], 2);
  call_free(&st);

  /* Partial success, gzip, tenant from metadata, on the same connection. */
  buf_reset(&pb);
  json_to_proto(OTLP_TRACES, trace_json(true), &pb);
  test_sink_reset(&sink, OTLP_SINK_OK);
  const char *const md[] = { "x-scope-orgid", "acme", NULL };
  unary(&c, &st, paths[0], pb.data, pb.len, true, md);
  check_ok(&st, 1, "trace_id");
  CHECK_EQ_STR(sink.tenant, "acme");
  CHECK_EQ_INT(sink.accepted, 2);
  CHECK_EQ_INT(sink.rejected, 1);
  call_free(&st);

  buf_reset(&pb);
  json_to_proto(OTLP_LOGS, logs_json, &pb);
  test_sink_reset(&sink, OTLP_SINK_OK);
  unary(&c, &st, paths[1], pb.data, pb.len, false, NULL);
  CHECK_EQ_INT(st.grpc_status, 0);
  CHECK_EQ_INT(sink.signal, OTLP_LOGS);
  CHECK_EQ_INT(sink.rows[OTEL_LOGS], 2);
  call_free(&st);

  buf_reset(&pb);
  json_to_proto(OTLP_METRICS, metrics_json, &pb);
  test_sink_reset(&sink, OTLP_SINK_OK);
  unary(&c, &st, paths[2], pb.data, pb.len, false, NULL);
  CHECK_EQ_INT(st.grpc_status, 0);
  CHECK_EQ_INT(sink.signal, OTLP_METRICS);
  CHECK_EQ_INT(sink.accepted, 3);
  call_free(&st);

  /* Undecodable → INVALID_ARGUMENT; the sink is not called. */
  test_sink_reset(&sink, OTLP_SINK_OK);
  unary(&c, &st, paths[0], "\x0a\xff\xff\xff\x0f", 5, false, NULL);
  check_status(&st, GRPC_STATUS_INVALID_ARGUMENT, "");
  CHECK_EQ_INT(sink.calls, 0);
  call_free(&st);
  /* An invalid tenant → INVALID_ARGUMENT. */
  const char *const bad_md[] = { "x-scope-orgid", "a b", NULL };
  unary(&c, &st, paths[0], "", 0, false, bad_md);
  check_status(&st, GRPC_STATUS_INVALID_ARGUMENT, "X-Scope-OrgID");
  call_free(&st);
  /* Unknown method: the server's UNIMPLEMENTED. */
  unary(&c, &st, "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export", "", 0, false, NULL);
  CHECK_EQ_INT(st.grpc_status, GRPC_STATUS_UNIMPLEMENTED);
  call_free(&st);

  /* The sink's answers. */
  buf_reset(&pb);
  json_to_proto(OTLP_TRACES, trace_json(false), &pb);
  test_sink_reset(&sink, OTLP_SINK_SATURATED);
  unary(&c, &st, paths[0], pb.data, pb.len, false, NULL);
  check_status(&st, GRPC_STATUS_UNAVAILABLE, "saturated");
  call_free(&st);
  test_sink_reset(&sink, OTLP_SINK_UNAVAILABLE);
  unary(&c, &st, paths[0], pb.data, pb.len, false, NULL);
  check_status(&st, GRPC_STATUS_UNAVAILABLE, "stopping");
  call_free(&st);
  test_sink_reset(&sink, OTLP_SINK_FAILED);
  unary(&c, &st, paths[0], pb.data, pb.len, false, NULL);
  check_status(&st, GRPC_STATUS_INTERNAL, "failed to write");
  call_free(&st);
  test_sink_reset(&sink, OTLP_SINK_OK);

  buf_free(&pb);
  client_close(&c);
}

static void test_keys(uint16_t port)
{
  struct client c;
  client_open(&c, port);
  struct buf pb;
  buf_init(&pb);
  json_to_proto(OTLP_TRACES, trace_json(false), &pb);
  struct call st;
  test_sink_reset(&key_sink, OTLP_SINK_OK);
  unary(&c, &st, paths[0], pb.data, pb.len, false, NULL);
  check_status(&st, GRPC_STATUS_UNAUTHENTICATED, "API key");
  call_free(&st);
  const char *const wrong[] = { "authorization", "Bearer secret-on", NULL };
  unary(&c, &st, paths[0], pb.data, pb.len, false, wrong);
  check_status(&st, GRPC_STATUS_UNAUTHENTICATED, "unknown API key");
  call_free(&st);
  CHECK_EQ_INT(key_sink.calls, 0);
  const char *const bearer[] = { "authorization", "Bearer secret-one", "x-scope-orgid", "ignored", NULL };
  unary(&c, &st, paths[0], pb.data, pb.len, false, bearer);
  CHECK_EQ_INT(st.grpc_status, 0);
  CHECK_EQ_STR(key_sink.tenant, "team-one");
  call_free(&st);
  const char *const xkey[] = { "x-api-key", "secret-two", NULL };
  unary(&c, &st, paths[0], pb.data, pb.len, false, xkey);
  CHECK_EQ_INT(st.grpc_status, 0);
  CHECK_EQ_STR(key_sink.tenant, "team-two");
  call_free(&st);
  buf_free(&pb);
  client_close(&c);
}

static void test_metrics(struct metrics *m)
{
  struct buf out;
  buf_init(&out);
  metrics_render(m, &out);
  const char *s = buf_cstr(&out);
  CHECK(strstr(s, "spanhouse_otlp_items_accepted_total{transport=\"grpc\",signal=\"metrics\"} 3") != NULL);
  CHECK(strstr(s, "spanhouse_otlp_items_rejected_total{transport=\"grpc\",signal=\"traces\"} 1") != NULL);
  CHECK(strstr(s, "spanhouse_otlp_failed_requests_total{transport=\"grpc\",signal=\"traces\",reason=\"bad_request\"} 2") !=
        NULL);
  CHECK(strstr(s, "spanhouse_otlp_failed_requests_total{transport=\"grpc\",signal=\"traces\",reason=\"internal\"} 1") !=
        NULL);
  if (test_failures)
    fprintf(stderr, "%s", s);
  buf_free(&out);
}

static struct grpc_server *start(struct otlp_endpoint *ep, struct metrics *m)
{
  struct grpc_server_config cfg = {
    .name = "otlp-grpc-test", .host = "127.0.0.1", .port = 0, .loop_threads = 1, .handler_threads = 2,
    .metrics = m, .stop_timeout_ms = 2000,
  };
  struct grpc_server *srv;
  struct error err;
  REQUIRE(grpc_server_create(&srv, &cfg, &err) == 0);
  REQUIRE(otlp_grpc_register(ep, srv, &err) == 0);
  CHECK_EQ_INT(otlp_grpc_register(ep, srv, &err), ERR_BAD_ARGUMENTS);   /* twice: duplicate paths */
  if (grpc_server_start(srv, &err) != 0) {
    fprintf(stderr, "grpc_server_start: %s\n", err.message);
    exit(1);
  }
  return srv;
}

int main(void)
{
  log_set_level(LOG_WARN);
  struct metrics *m = metrics_create();
  struct error err;
  struct otlp_endpoint *ep, *key_ep;
  struct otlp_endpoint_config cfg = { .sink = { test_sink_insert, &sink }, .metrics = m };
  REQUIRE(otlp_endpoint_create(&ep, &cfg, &err) == 0);
  const struct otlp_api_key keys[] = { { "secret-one", "team-one" }, { "secret-two", "team-two" } };
  struct otlp_endpoint_config kcfg = { .sink = { test_sink_insert, &key_sink }, .api_keys = keys, .api_key_count = 2 };
  REQUIRE(otlp_endpoint_create(&key_ep, &kcfg, &err) == 0);
  struct grpc_server *srv = start(ep, m), *ksrv = start(key_ep, NULL);
  test_export(grpc_server_port(srv));
  test_keys(grpc_server_port(ksrv));
  test_metrics(m);
  grpc_server_destroy(srv);
  grpc_server_destroy(ksrv);
  otlp_endpoint_destroy(ep);
  otlp_endpoint_destroy(key_ep);
  metrics_destroy(m);
  TEST_DONE();
}
