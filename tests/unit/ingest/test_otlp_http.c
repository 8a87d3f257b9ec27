/* OTLP/HTTP receiver over a real in-process HTTP server on port 0 and a
 * plain socket client: protobuf and JSON (with charset), gzip bodies,
 * partial success, every error status (400/401/404/405/413/415/429/500/503)
 * with google.rpc.Status bodies in the request's encoding, Retry-After,
 * tenants from X-Scope-OrgID and API keys (Bearer and X-API-Key), metrics,
 * keep-alive across a failed export. */
#include "base/compress.h"
#include "base/http_server.h"
#include "base/log.h"
#include "tests/unit/ingest/otlp_test_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct reply {
  int status;
  char content_type[128];
  char retry_after[32];
  char www_authenticate[64];
  char allow[32];
  struct buf body;
};

static void header_value(const char *head, const char *name, char *out, size_t cap)
{
  out[0] = '\0';
  size_t n = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
    const char *line = p + 2;
    if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
      const char *v = line + n + 1;
      while (*v == ' ')
        v++;
      const char *e = strstr(v, "\r\n");
      size_t k = e ? (size_t)(e - v) : strlen(v);
      if (k >= cap)
        k = cap - 1;
      memcpy(out, v, k);
      out[k] = '\0';
      return;
    }
  }
}

/* One request on a fresh connection (Connection: close); reads to EOF.
 * headers: extra "Name: value\r\n" lines. */
static void request(uint16_t port, const char *method, const char *path, const char *headers, const void *body,
                    size_t len, struct reply *r)
{
  memset(r, 0, sizeof *r);
  buf_init(&r->body);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  REQUIRE(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
  struct timeval tv = { 10, 0 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct buf req;
  buf_init(&req);
  buf_printf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n", method,
             path, headers ? headers : "", len);
  buf_append(&req, body, len);
  size_t off = 0;
  while (off < req.len) {
    ssize_t n = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
    if (n <= 0)
      break;                        /* the server may answer early (413) and close */
    off += (size_t)n;
  }
  buf_free(&req);
  struct buf in;
  buf_init(&in);
  char tmp[65536];
  ssize_t n;
  while ((n = recv(fd, tmp, sizeof tmp, 0)) > 0)
    buf_append(&in, tmp, (size_t)n);
  close(fd);
  const char *s = buf_cstr(&in);
  const char *end = strstr(s, "\r\n\r\n");
  REQUIRE(end);
  r->status = atoi(s + 9);
  size_t head_len = (size_t)(end - s) + 2;
  char *head = strndup(s, head_len);
  header_value(head, "Content-Type", r->content_type, sizeof r->content_type);
  header_value(head, "Retry-After", r->retry_after, sizeof r->retry_after);
  header_value(head, "WWW-Authenticate", r->www_authenticate, sizeof r->www_authenticate);
  header_value(head, "Allow", r->allow, sizeof r->allow);
  char te[32];
  header_value(head, "Transfer-Encoding", te, sizeof te);
  free(head);
  REQUIRE(!te[0]);                   /* small answers go out with Content-Length */
  buf_append(&r->body, end + 4, in.len - (size_t)(end + 4 - s));
  buf_free(&in);
}

static void reply_free(struct reply *r) { buf_free(&r->body); }

/* Checks a protobuf google.rpc.Status error body. */
static void check_status_proto(const struct reply *r, int http_status, int code, const char *msg_part)
{
  CHECK_EQ_INT(r->status, http_status);
  CHECK_EQ_STR(r->content_type, "application/x-protobuf");
  int got_code;
  char msg[1024];
  CHECK(status_decode(r->body.data, r->body.len, &got_code, msg, sizeof msg));
  CHECK_EQ_INT(got_code, code);
  if (!strstr(msg, msg_part)) {
    fprintf(stderr, "status message \"%s\" lacks \"%s\"\n", msg, msg_part);
    test_failures++;
  }
}

static struct test_sink sink = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct test_sink key_sink = { .lock = PTHREAD_MUTEX_INITIALIZER };

#define PB "Content-Type: application/x-protobuf\r\n"
#define JS "Content-Type: application/json\r\n"

static void test_protobuf(uint16_t port)
{
  struct buf pb;
  buf_init(&pb);
  json_to_proto(OTLP_TRACES, trace_json(false), &pb);
  struct reply r;
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/traces", PB, pb.data, pb.len, &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_STR(r.content_type, "application/x-protobuf");
  CHECK_EQ_INT(r.body.len, 0);      /* no partial_success: an empty message */
  CHECK_EQ_INT(sink.calls, 1);
  CHECK_EQ_INT(sink.signal, OTLP_TRACES);
  CHECK_EQ_STR(sink.tenant, "default");
  CHECK_EQ_INT(sink.accepted, 2);
  CHECK_EQ_INT(sink.rows[OTEL_TRACES], 2);
  CHECK_EQ_STR(sink.service, "checkout");
  reply_free(&r);

  /* Partial success in protobuf: one span with a bad trace id. */
  buf_reset(&pb);
  json_to_proto(OTLP_TRACES, trace_json(true), &pb);
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/traces", "Content-Type: application/x-protobuf; proto=x\r\n", pb.data, pb.len, &r);
  CHECK_EQ_INT(r.status, 200);
  char msg[512];
  CHECK_EQ_INT(response_rejected(r.body.data, r.body.len, msg, sizeof msg), 1);
  CHECK(strstr(msg, "trace_id") != NULL);
  CHECK_EQ_INT(sink.accepted, 2);
  CHECK_EQ_INT(sink.rejected, 1);
  reply_free(&r);

  /* gzip body, decoded by the HTTP server. */
  struct compressor *c;
  struct error err;
  struct buf gz;
  buf_init(&gz);
  REQUIRE(compressor_create(&c, COMPRESS_GZIP, 0, &err) == 0);
  REQUIRE(compressor_run(c, pb.data, pb.len, false, true, &gz, &err) == 0);
  compressor_destroy(c);
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/traces", PB "Content-Encoding: gzip\r\n", gz.data, gz.len, &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_INT(response_rejected(r.body.data, r.body.len, msg, sizeof msg), 1);
  CHECK_EQ_INT(sink.accepted, 2);
  reply_free(&r);

  /* Broken gzip → 400. */
  request(port, "POST", "/v1/traces", PB "Content-Encoding: gzip\r\n", "not gzip at all", 15, &r);
  CHECK_EQ_INT(r.status, 400);
  reply_free(&r);
  /* Unknown Content-Encoding → 415. */
  request(port, "POST", "/v1/traces", PB "Content-Encoding: br\r\n", pb.data, pb.len, &r);
  CHECK_EQ_INT(r.status, 415);
  reply_free(&r);

  /* Logs and metrics in protobuf. */
  buf_reset(&pb);
  json_to_proto(OTLP_LOGS, logs_json, &pb);
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/logs", PB, pb.data, pb.len, &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_INT(sink.signal, OTLP_LOGS);
  CHECK_EQ_INT(sink.accepted, 2);
  CHECK_EQ_INT(sink.rows[OTEL_LOGS], 2);
  reply_free(&r);
  buf_reset(&pb);
  json_to_proto(OTLP_METRICS, metrics_json, &pb);
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/metrics", PB, pb.data, pb.len, &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_INT(sink.signal, OTLP_METRICS);
  CHECK_EQ_INT(sink.accepted, 3);
  CHECK_EQ_INT(sink.rows[OTEL_METRICS_SUM], 2);
  CHECK_EQ_INT(sink.rows[OTEL_METRICS_GAUGE], 1);
  reply_free(&r);

  /* Undecodable protobuf → 400 with a protobuf Status. */
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/traces", PB, "\x0a\xff\xff\xff\x0f", 5, &r);
  check_status_proto(&r, 400, 3, "");
  CHECK_EQ_INT(sink.calls, 0);
  reply_free(&r);
  buf_free(&gz);
  buf_free(&pb);
}

static void test_json(uint16_t port)
{
  struct reply r;
  const char *j = trace_json(true);
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/traces", "Content-Type: Application/JSON; charset=utf-8\r\n", j, strlen(j), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_STR(r.content_type, "application/json");
  const char *b = buf_cstr(&r.body);
  CHECK(strstr(b, "\"partialSuccess\"") != NULL);
  CHECK(strstr(b, "\"rejectedSpans\":\"1\"") != NULL || strstr(b, "\"rejectedSpans\":1") != NULL);
  CHECK_EQ_INT(sink.accepted, 2);
  reply_free(&r);

  /* Everything valid: {} (no partialSuccess). */
  j = trace_json(false);
  request(port, "POST", "/v1/traces", JS, j, strlen(j), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK(strstr(buf_cstr(&r.body), "partialSuccess") == NULL);
  reply_free(&r);

  /* Logs and metrics. */
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/logs", JS, logs_json, strlen(logs_json), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_INT(sink.signal, OTLP_LOGS);
  CHECK_EQ_INT(sink.accepted, 2);
  reply_free(&r);
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/metrics/", JS, metrics_json, strlen(metrics_json), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_INT(sink.signal, OTLP_METRICS);
  CHECK_EQ_INT(sink.accepted, 3);
  reply_free(&r);

  /* Bad JSON → 400 with a JSON Status. */
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/traces", JS, "{\"resourceSpans\":[", 18, &r);
  CHECK_EQ_INT(r.status, 400);
  CHECK_EQ_STR(r.content_type, "application/json");
  CHECK(strncmp(buf_cstr(&r.body), "{\"code\":3,\"message\":\"", 21) == 0);
  CHECK_EQ_INT(sink.calls, 0);
  reply_free(&r);

  /* An empty body: not JSON (400), but an empty protobuf request (200, nothing stored). */
  request(port, "POST", "/v1/traces", JS, "", 0, &r);
  CHECK_EQ_INT(r.status, 400);
  reply_free(&r);
  request(port, "POST", "/v1/traces", PB, "", 0, &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_INT(sink.calls, 0);
  reply_free(&r);
}

static void test_errors(uint16_t port)
{
  struct reply r;
  const char *j = trace_json(false);
  request(port, "POST", "/v1/traces", "Content-Type: text/plain\r\n", j, strlen(j), &r);
  CHECK_EQ_INT(r.status, 415);
  reply_free(&r);
  request(port, "POST", "/v1/traces", "", j, strlen(j), &r);       /* no Content-Type */
  CHECK_EQ_INT(r.status, 415);
  reply_free(&r);
  request(port, "GET", "/v1/traces", "", "", 0, &r);
  CHECK_EQ_INT(r.status, 405);
  CHECK_EQ_STR(r.allow, "POST");
  reply_free(&r);
  request(port, "POST", "/v1/spans", PB, "", 0, &r);
  check_status_proto(&r, 404, 5, "unknown path");
  reply_free(&r);
  request(port, "POST", "/v1/tracesX?x=1", JS, "{}", 2, &r);
  CHECK_EQ_INT(r.status, 404);
  CHECK_EQ_STR(r.content_type, "application/json");
  reply_free(&r);
  request(port, "POST", "/v1/traces?x=1", JS, "{}", 2, &r);          /* query strings are ignored */
  CHECK_EQ_INT(r.status, 200);
  reply_free(&r);

  /* Over the endpoint's 64 KiB limit → 413, declared or streamed (gzip). */
  size_t big_len = 100 * 1024;
  char *big = calloc(1, big_len);
  request(port, "POST", "/v1/traces", PB, big, big_len, &r);
  check_status_proto(&r, 413, 3, "limit");
  reply_free(&r);
  struct compressor *c;
  struct error err;
  struct buf gz;
  buf_init(&gz);
  REQUIRE(compressor_create(&c, COMPRESS_GZIP, 0, &err) == 0);
  REQUIRE(compressor_run(c, big, big_len, false, true, &gz, &err) == 0);
  compressor_destroy(c);
  request(port, "POST", "/v1/traces", PB "Content-Encoding: gzip\r\n", gz.data, gz.len, &r);
  CHECK_EQ_INT(r.status, 413);
  reply_free(&r);
  buf_free(&gz);
  free(big);

  /* The sink's answers. */
  struct { int mode, status, code; const char *msg; } cases[] = {
    { OTLP_SINK_SATURATED, 429, 8, "saturated" },
    { OTLP_SINK_UNAVAILABLE, 503, 14, "stopping" },
    { OTLP_SINK_FAILED, 500, 13, "failed to write" },
  };
  struct buf pb;
  buf_init(&pb);
  json_to_proto(OTLP_TRACES, j, &pb);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    test_sink_reset(&sink, cases[i].mode);
    request(port, "POST", "/v1/traces", PB, pb.data, pb.len, &r);
    check_status_proto(&r, cases[i].status, cases[i].code, cases[i].msg);
    /* Retryable answers carry a RetryInfo detail with the Retry-After delay:
     * details[0] = Any{type_url, value = RetryInfo{retry_delay{seconds = 7}}}. */
    static const char retry_any_tail[] = "type.googleapis.com/google.rpc.RetryInfo\x12\x04\x0a\x02\x08\x07";
    bool has_retry = r.body.len >= sizeof retry_any_tail - 1 &&
                     memcmp(r.body.data + r.body.len - (sizeof retry_any_tail - 1), retry_any_tail,
                            sizeof retry_any_tail - 1) == 0;
    if (cases[i].status == 500) {
      CHECK_EQ_STR(r.retry_after, "");
      CHECK(!has_retry);
    } else {
      CHECK_EQ_STR(r.retry_after, "7");
      CHECK(has_retry);
    }
    reply_free(&r);
    request(port, "POST", "/v1/traces", JS, j, strlen(j), &r);
    CHECK_EQ_INT(r.status, cases[i].status);
    CHECK_EQ_STR(r.content_type, "application/json");
    char want[64];
    snprintf(want, sizeof want, "{\"code\":%d,", cases[i].code);
    CHECK(strncmp(buf_cstr(&r.body), want, strlen(want)) == 0);
    CHECK((strstr(buf_cstr(&r.body), ",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\","
                  "\"retryDelay\":\"7s\"}]}") != NULL) == (cases[i].status != 500));
    reply_free(&r);
  }
  test_sink_reset(&sink, OTLP_SINK_OK);
  buf_free(&pb);
}

static void test_tenants(uint16_t port, uint16_t key_port)
{
  struct reply r;
  const char *j = trace_json(false);
  test_sink_reset(&sink, OTLP_SINK_OK);
  request(port, "POST", "/v1/traces", JS "X-Scope-OrgID: acme-prod\r\n", j, strlen(j), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_STR(sink.tenant, "acme-prod");
  reply_free(&r);
  request(port, "POST", "/v1/traces", JS "X-Scope-OrgID: a/b\r\n", j, strlen(j), &r);
  CHECK_EQ_INT(r.status, 400);
  CHECK(strstr(buf_cstr(&r.body), "X-Scope-OrgID") != NULL);
  reply_free(&r);
  /* Keys are not configured here: Authorization is ignored. */
  request(port, "POST", "/v1/traces", JS "Authorization: Bearer whatever\r\n", j, strlen(j), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_STR(sink.tenant, "default");
  reply_free(&r);

  /* With keys. */
  test_sink_reset(&key_sink, OTLP_SINK_OK);
  request(key_port, "POST", "/v1/traces", JS, j, strlen(j), &r);
  CHECK_EQ_INT(r.status, 401);
  CHECK_EQ_STR(r.www_authenticate, "Bearer");
  CHECK(strstr(buf_cstr(&r.body), "\"code\":16") != NULL);
  reply_free(&r);
  request(key_port, "POST", "/v1/traces", JS "Authorization: Bearer nope\r\n", j, strlen(j), &r);
  CHECK_EQ_INT(r.status, 401);
  CHECK(strstr(buf_cstr(&r.body), "unknown API key") != NULL);
  reply_free(&r);
  request(key_port, "POST", "/v1/traces", PB "X-API-Key: secret-one-extra\r\n", "", 0, &r);
  check_status_proto(&r, 401, 16, "unknown API key");
  reply_free(&r);
  CHECK_EQ_INT(key_sink.calls, 0);
  request(key_port, "POST", "/v1/traces", JS "Authorization: bearer secret-one\r\nX-Scope-OrgID: other\r\n", j,
          strlen(j), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_STR(key_sink.tenant, "team-one");
  reply_free(&r);
  request(key_port, "POST", "/v1/traces", JS "X-API-Key: secret-two\r\n", j, strlen(j), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_STR(key_sink.tenant, "team-two");
  reply_free(&r);
}

/* Reads one response with Content-Length from a keep-alive connection;
 * returns the status and appends the body. */
static int read_response(int fd, struct buf *body)
{
  struct buf in;
  buf_init(&in);
  char c;
  while (!strstr(buf_cstr(&in), "\r\n\r\n") && recv(fd, &c, 1, 0) == 1)
    buf_append(&in, &c, 1);
  const char *s = buf_cstr(&in);
  int status = in.len > 12 ? atoi(s + 9) : -1;
  char cl[32];
  header_value(s, "Content-Length", cl, sizeof cl);
  size_t need = (size_t)atol(cl);
  char tmp[4096];
  while (need > 0) {
    ssize_t n = recv(fd, tmp, need < sizeof tmp ? need : sizeof tmp, 0);
    if (n <= 0)
      break;
    buf_append(body, tmp, (size_t)n);
    need -= (size_t)n;
  }
  buf_free(&in);
  return status;
}

/* Several exports on one keep-alive connection, a 400 (body read, so the
 * connection stays usable) between successes. */
static void test_keepalive(uint16_t port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  REQUIRE(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
  struct timeval tv = { 10, 0 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const char *bodies[] = { trace_json(false), "{\"resourceSpans\":7}", trace_json(true) };
  int want[] = { 200, 400, 200 };
  test_sink_reset(&sink, OTLP_SINK_OK);
  for (int i = 0; i < 3; i++) {
    struct buf req, body;
    buf_init(&req);
    buf_init(&body);
    buf_printf(&req, "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s", strlen(bodies[i]), bodies[i]);
    REQUIRE(send(fd, req.data, req.len, MSG_NOSIGNAL) == (ssize_t)req.len);
    CHECK_EQ_INT(read_response(fd, &body), want[i]);
    buf_free(&req);
    buf_free(&body);
  }
  CHECK_EQ_INT(sink.calls, 2);
  close(fd);
}

static void test_metrics(struct metrics *m)
{
  struct buf out;
  buf_init(&out);
  metrics_render(m, &out);
  const char *s = buf_cstr(&out);
  CHECK(strstr(s, "spanhouse_otlp_requests_total{transport=\"http\",signal=\"traces\"}") != NULL);
  CHECK(strstr(s, "spanhouse_otlp_items_rejected_total{transport=\"http\",signal=\"traces\"} 3") != NULL);
  CHECK(strstr(s, "spanhouse_otlp_items_accepted_total{transport=\"http\",signal=\"logs\"} 4") != NULL);
  CHECK(strstr(s, "spanhouse_otlp_failed_requests_total{transport=\"http\",signal=\"traces\",reason=\"saturated\"} 2") !=
        NULL);
  CHECK(strstr(s, "reason=\"too_large\"} 2") != NULL);
  if (test_failures)
    fprintf(stderr, "%s", s);
  buf_free(&out);
}

static struct http_server *start(struct otlp_endpoint *ep, struct metrics *m)
{
  struct http_server_config cfg = {
    .name = "otlp-test", .host = "127.0.0.1", .port = 0, .loop_threads = 1, .handler_threads = 4,
    .handler = otlp_http_handler, .handler_ctx = ep, .metrics = m, .stop_timeout_ms = 2000,
  };
  struct http_server *srv;
  struct error err;
  if (http_server_start(&srv, &cfg, &err) != 0) {
    fprintf(stderr, "http_server_start: %s\n", err.message);
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
  struct otlp_endpoint_config cfg = {
    .sink = { test_sink_insert, &sink }, .max_body_bytes = 64 * 1024, .retry_after_s = 7, .metrics = m,
  };
  REQUIRE(otlp_endpoint_create(&ep, &cfg, &err) == 0);
  const struct otlp_api_key keys[] = { { "secret-one", "team-one" }, { "secret-two", "team-two" } };
  struct otlp_endpoint_config kcfg = { .sink = { test_sink_insert, &key_sink }, .api_keys = keys, .api_key_count = 2 };
  REQUIRE(otlp_endpoint_create(&key_ep, &kcfg, &err) == 0);
  const struct otlp_api_key bad[] = { { "k", "no/slash" } };
  struct otlp_endpoint_config bcfg = { .sink = { test_sink_insert, &sink }, .api_keys = bad, .api_key_count = 1 };
  struct otlp_endpoint *bad_ep;
  CHECK_EQ_INT(otlp_endpoint_create(&bad_ep, &bcfg, &err), ERR_BAD_ARGUMENTS);
  struct otlp_endpoint_config ncfg = { 0 };
  CHECK_EQ_INT(otlp_endpoint_create(&bad_ep, &ncfg, &err), ERR_BAD_ARGUMENTS);

  struct http_server *srv = start(ep, m), *ksrv = start(key_ep, NULL);
  uint16_t port = http_server_port(srv), key_port = http_server_port(ksrv);
  test_protobuf(port);
  test_json(port);
  test_errors(port);
  test_tenants(port, key_port);
  test_metrics(m);
  test_keepalive(port);
  http_server_destroy(srv);
  http_server_destroy(ksrv);
  otlp_endpoint_destroy(ep);
  otlp_endpoint_destroy(key_ep);
  metrics_destroy(m);
  TEST_DONE();
}
