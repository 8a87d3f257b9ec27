/* In-process HTTP server tests over real sockets, on every available loop
 * backend: keep-alive and pipelining, Content-Length and chunked bodies
 * through http_body_read, gzip/zstd request bodies, chunked streaming
 * responses, response compression, HEAD, 100-continue, server-side errors
 * (400/413/431/501) and that the server keeps serving after them. */
#include "base/alloc.h"
#include "base/compress.h"
#include "base/error.h"
#include "base/http_server.h"
#include "base/log.h"
#include "base/metrics.h"
#include "tests/unit/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static void handler(void *ctx, struct http_request *req, struct http_response *resp)
{
  (void)ctx;
  if (slice_eq_cstr(req->head.path, "/echo")) {
    struct buf body;
    buf_init(&body);
    char tmp[1000];
    ssize_t n;
    while ((n = http_body_read(req, tmp, sizeof tmp)) > 0)
      buf_append(&body, tmp, (size_t)n);
    if (n < 0) {
      http_response_begin(resp, error_http_status((int)-n), "text/plain");
      http_response_printf(resp, "body error %d: %s\n", (int)-n, http_request_body_error(req));
    } else {
      http_response_begin(resp, 200, "application/octet-stream");
      http_response_add_header(resp, "X-Test", "yes");
      http_response_write(resp, body.data, body.len);
    }
    buf_free(&body);
    return;
  }
  if (slice_eq_cstr(req->head.path, "/stream")) {
    struct slice enc = http_request_header(req, "Accept-Encoding");
    enum compress_codec codec = compress_codec_from_accept(enc);
    if (codec != COMPRESS_NONE)
      http_response_set_encoding(resp, compress_codec_name(codec));
    http_response_begin(resp, 200, "text/plain");
    for (int i = 0; i < 20000; i++)
      http_response_printf(resp, "line %d\n", i);
    CHECK(codec != COMPRESS_NONE || http_response_started(resp));
    return;                           /* the server ends it */
  }
  if (slice_eq_cstr(req->head.path, "/nothing"))
    return;                           /* server answers 500 */
  http_response_send(resp, 200, "text/plain", "Ok.\n");
}

struct response {
  int status;
  struct buf headers, body;
  bool closed;
};

/* recv that retries EINTR */
static ssize_t recv_retry(int fd, void *buf, size_t len)
{
  ssize_t n;
  do
    n = recv(fd, buf, len, 0);
  while (n < 0 && errno == EINTR);
  return n;
}

static int dial(uint16_t port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  REQUIRE(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
  struct timeval tv = { .tv_sec = 10 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

static void send_str(int fd, const char *s, size_t n)
{
  while (n) {
    ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
    if (w <= 0)
      return;
    s += w;
    n -= (size_t)w;
  }
}

/* Reads one response from fd, using rest as carry-over between calls. */
static void read_response(int fd, struct buf *rest, struct response *r, bool head_request)
{
  buf_init(&r->headers);
  buf_init(&r->body);
  r->status = 0;
  r->closed = false;
  char tmp[65536];
  size_t head_end = 0;
  for (;;) {
    char *e = rest->len ? memmem(rest->data, rest->len, "\r\n\r\n", 4) : NULL;
    if (e) {
      head_end = (size_t)(e - rest->data) + 4;
      break;
    }
    ssize_t n = recv_retry(fd, tmp, sizeof tmp);
    if (n <= 0) {
      if (getenv("TEST_DEBUG"))
        fprintf(stderr, "recv: %zd %s\n", n, strerror(errno));
      r->closed = true;
      return;
    }
    buf_append(rest, tmp, (size_t)n);
  }
  buf_append(&r->headers, rest->data, head_end);
  buf_cstr(&r->headers);
  sscanf(r->headers.data, "HTTP/1.1 %d", &r->status);
  buf_consume(rest, head_end);
  if (r->status == 100) {             /* interim: read the final one */
    buf_free(&r->headers);
    read_response(fd, rest, r, head_request);
    return;
  }
  const char *cl = strcasestr(r->headers.data, "\r\nContent-Length: ");
  bool chunked = strcasestr(r->headers.data, "\r\nTransfer-Encoding: chunked") != NULL;
  if (head_request)
    return;
  if (cl) {
    size_t want = (size_t)strtoull(cl + 18, NULL, 10);
    while (rest->len < want) {
      ssize_t n = recv_retry(fd, tmp, sizeof tmp);
      if (n <= 0) {
        r->closed = true;
        break;
      }
      buf_append(rest, tmp, (size_t)n);
    }
    size_t take = rest->len < want ? rest->len : want;
    buf_append(&r->body, rest->data, take);
    buf_consume(rest, take);
  } else if (chunked) {
    struct http_chunked c;
    http_chunked_init(&c);
    for (;;) {
      size_t used, produced;
      char *out = mem_alloc(rest->len + 1);
      int rc = http_chunked_decode(&c, rest->data, rest->len, &used, out, rest->len + 1, &produced);
      buf_append(&r->body, out, produced);
      mem_free(out);
      buf_consume(rest, used);
      REQUIRE(rc >= 0);
      if (rc == 1)
        break;
      ssize_t n = recv_retry(fd, tmp, sizeof tmp);
      if (n <= 0) {
        r->closed = true;
        break;
      }
      buf_append(rest, tmp, (size_t)n);
    }
  }
}

static void response_free(struct response *r)
{
  buf_free(&r->headers);
  buf_free(&r->body);
}

/* One request on a fresh connection. */
static void roundtrip(uint16_t port, const char *req, size_t len, struct response *r)
{
  int fd = dial(port);
  struct buf rest;
  buf_init(&rest);
  send_str(fd, req, len);
  read_response(fd, &rest, r, strncmp(req, "HEAD", 4) == 0);
  buf_free(&rest);
  close(fd);
}

static bool is_closed_after(int fd)
{
  char c;
  ssize_t n = recv_retry(fd, &c, 1);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void test_keepalive_pipelining(uint16_t port)
{
  int fd = dial(port);
  struct buf rest;
  buf_init(&rest);
  const char *reqs = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n"
                     "\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
  send_str(fd, reqs, strlen(reqs));
  struct response r;
  read_response(fd, &rest, &r, false);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_MEM(r.body.data, r.body.len, "Ok.\n");
  CHECK(strstr(r.headers.data, "Keep-Alive: timeout=10") != NULL);
  response_free(&r);
  read_response(fd, &rest, &r, false);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_MEM(r.body.data, r.body.len, "hello");
  CHECK(strstr(r.headers.data, "X-Test: yes\r\n") != NULL);
  response_free(&r);
  read_response(fd, &rest, &r, false);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_MEM(r.body.data, r.body.len, "abcde");
  response_free(&r);
  read_response(fd, &rest, &r, false);
  CHECK_EQ_INT(r.status, 200);
  response_free(&r);
  /* a request split into single bytes */
  const char *slow = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz";
  for (size_t i = 0; i < strlen(slow); i++)
    send_str(fd, slow + i, 1);
  read_response(fd, &rest, &r, false);
  CHECK_EQ_MEM(r.body.data, r.body.len, "xyz");
  if (r.body.len != 3)
    fprintf(stderr, "slow: %d %s\n", r.status, r.headers.data);
  response_free(&r);
  /* HTTP/1.0 closes after the response */
  send_str(fd, "GET /ping HTTP/1.0\r\n\r\n", 22);
  read_response(fd, &rest, &r, false);
  CHECK_EQ_INT(r.status, 200);
  CHECK(strstr(r.headers.data, "Connection: Close") != NULL);
  CHECK(is_closed_after(fd));
  response_free(&r);
  buf_free(&rest);
  close(fd);
}

static void test_compressed_bodies(uint16_t port)
{
  struct buf plain, z, req;
  buf_init(&plain);
  buf_init(&z);
  buf_init(&req);
  for (int i = 0; i < 9000; i++)
    buf_printf(&plain, "row %d\n", i);
  const char *codecs[] = { "gzip", "zstd", "deflate" };
  for (int ci = 0; ci < 3; ci++) {
    enum compress_codec codec;
    struct error err;
    REQUIRE(compress_codec_parse(slice_of(codecs[ci]), &codec, &err) == 0);
    struct compressor *c;
    REQUIRE(compressor_create(&c, codec, 0, &err) == 0);
    buf_reset(&z);
    REQUIRE(compressor_run(c, plain.data, plain.len, false, true, &z, &err) == 0);
    compressor_destroy(c);
    for (int chunked = 0; chunked < 2; chunked++) {
      buf_reset(&req);
      buf_printf(&req, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: %s\r\n", codecs[ci]);
      if (chunked) {
        buf_append_cstr(&req, "Transfer-Encoding: chunked\r\n\r\n");
        for (size_t off = 0; off < z.len; off += 1000) {
          size_t n = z.len - off < 1000 ? z.len - off : 1000;
          buf_printf(&req, "%zx\r\n", n);
          buf_append(&req, z.data + off, n);
          buf_append_cstr(&req, "\r\n");
        }
        buf_append_cstr(&req, "0\r\n\r\n");
      } else {
        buf_printf(&req, "Content-Length: %zu\r\n\r\n", z.len);
        buf_append(&req, z.data, z.len);
      }
      struct response r;
      roundtrip(port, req.data, req.len, &r);
      CHECK_EQ_INT(r.status, 200);
      CHECK(r.body.len == plain.len && memcmp(r.body.data, plain.data, plain.len) == 0);
      response_free(&r);
    }
  }
  /* unknown coding and corrupt data reach the handler as errors */
  struct response r;
  const char *br = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc";
  roundtrip(port, br, strlen(br), &r);
  CHECK_EQ_INT(r.status, 415);
  response_free(&r);
  const char *bad = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc";
  roundtrip(port, bad, strlen(bad), &r);
  CHECK_EQ_INT(r.status, 500);
  CHECK(strstr(r.body.data ? buf_cstr(&r.body) : "", "271") != NULL);
  response_free(&r);
  buf_free(&plain);
  buf_free(&z);
  buf_free(&req);
}

static void test_streaming(uint16_t port)
{
  struct response r;
  const char *req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
  roundtrip(port, req, strlen(req), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK(strstr(r.headers.data, "Transfer-Encoding: chunked") != NULL);
  CHECK(r.body.len > 100000);
  CHECK(memcmp(r.body.data, "line 0\nline 1\n", 14) == 0);
  response_free(&r);
  /* compressed stream */
  const char *zreq = "GET /stream HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n";
  roundtrip(port, zreq, strlen(zreq), &r);
  CHECK(strstr(r.headers.data, "Content-Encoding: gzip") != NULL);
  struct decompressor *d;
  struct error err;
  REQUIRE(decompressor_create(&d, COMPRESS_GZIP, 0, &err) == 0);
  char *out = mem_alloc(1 << 20);
  size_t used, produced;
  CHECK_EQ_INT(decompressor_run(d, r.body.data, r.body.len, &used, out, 1 << 20, &produced, &err), 0);
  CHECK(produced > 100000 && memcmp(out, "line 0\n", 7) == 0);
  CHECK(decompressor_at_boundary(d));
  decompressor_destroy(d);
  mem_free(out);
  response_free(&r);
  /* HEAD: head only */
  const char *head = "HEAD /ping HTTP/1.1\r\nHost: x\r\n\r\n";
  roundtrip(port, head, strlen(head), &r);
  CHECK_EQ_INT(r.status, 200);
  CHECK(strstr(r.headers.data, "Content-Length: 4") != NULL);
  response_free(&r);
  /* handler that answers nothing */
  const char *nothing = "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n";
  roundtrip(port, nothing, strlen(nothing), &r);
  CHECK_EQ_INT(r.status, 500);
  response_free(&r);
  /* HTTP/1.0 streaming: no chunked, delimited by close */
  const char *old = "GET /stream HTTP/1.0\r\n\r\n";
  int fd = dial(port);
  send_str(fd, old, strlen(old));
  struct buf all;
  buf_init(&all);
  char tmp[65536];
  ssize_t n;
  while ((n = recv_retry(fd, tmp, sizeof tmp)) > 0)
    buf_append(&all, tmp, (size_t)n);
  buf_cstr(&all);
  CHECK(strstr(all.data, "Transfer-Encoding") == NULL);
  CHECK(strstr(all.data, "line 19999\n") != NULL);
  buf_free(&all);
  close(fd);
}

static void test_continue(uint16_t port)
{
  int fd = dial(port);
  const char *h = "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
  send_str(fd, h, strlen(h));
  char tmp[256];
  ssize_t n = recv_retry(fd, tmp, sizeof tmp - 1);
  REQUIRE(n > 0);
  tmp[n] = '\0';
  CHECK(strncmp(tmp, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
  send_str(fd, "data", 4);
  struct buf rest;
  buf_init(&rest);
  if (n > 25)
    buf_append(&rest, tmp + 25, (size_t)n - 25);
  struct response r;
  read_response(fd, &rest, &r, false);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_MEM(r.body.data, r.body.len, "data");
  response_free(&r);
  /* a handler that ignores the body: no 100, answer, then close */
  const char *p = "POST /ping HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
  send_str(fd, p, strlen(p));
  read_response(fd, &rest, &r, false);
  CHECK_EQ_INT(r.status, 200);
  CHECK(is_closed_after(fd));
  response_free(&r);
  buf_free(&rest);
  close(fd);
}

static void test_errors(uint16_t port, uint64_t max_body)
{
  struct response r;
  const char *cases[][2] = {
    { "BROKEN\r\n\r\n", "400" },
    { "GET / HTTP/1.1\r\n\r\n", "400" },
    { "GET / HTTP/3.0\r\nHost: x\r\n\r\n", "505" },
    { "POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501" },
    { "POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n", "413" },
    { "POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400" },
    { "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcdeX", "400" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    roundtrip(port, cases[i][0], strlen(cases[i][0]), &r);
    CHECK_EQ_INT(r.status, atoi(cases[i][1]));
    if (r.status != atoi(cases[i][1]))
      fprintf(stderr, "case %zu: %s\n", i, r.headers.data ? r.headers.data : "(none)");
    response_free(&r);
  }
  /* chunked body over the limit */
  struct buf req;
  buf_init(&req);
  buf_append_cstr(&req, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (uint64_t sent = 0; sent <= max_body; sent += 1000) {
    buf_append_cstr(&req, "3e8\r\n");
    for (int k = 0; k < 1000; k++)
      buf_append_char(&req, 'a');
    buf_append_cstr(&req, "\r\n");
  }
  buf_append_cstr(&req, "0\r\n\r\n");
  roundtrip(port, req.data, req.len, &r);
  CHECK_EQ_INT(r.status, 413);
  response_free(&r);
  /* header section too large */
  buf_reset(&req);
  buf_append_cstr(&req, "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ");
  for (int k = 0; k < HTTP_HEADER_BYTES_MAX + 10; k++)
    buf_append_char(&req, 'h');
  buf_append_cstr(&req, "\r\n\r\n");
  roundtrip(port, req.data, req.len, &r);
  CHECK_EQ_INT(r.status, 431);
  response_free(&r);
  buf_free(&req);
  /* still serving */
  roundtrip(port, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", 31, &r);
  CHECK_EQ_INT(r.status, 200);
  response_free(&r);
}

static void run(enum evloop_backend backend)
{
  struct metrics *m = metrics_create();
  struct http_server *srv;
  struct error err;
  struct http_server_config cfg = {
    .name = "test", .host = "127.0.0.1", .port = 0, .loop_threads = 2, .handler_threads = 4,
    .max_body_bytes = 100000, .backend = backend, .handler = handler, .metrics = m,
  };
  REQUIRE(http_server_start(&srv, &cfg, &err) == 0);
  uint16_t port = http_server_port(srv);
  CHECK(port > 0);
  test_keepalive_pipelining(port);
  test_compressed_bodies(port);
  test_streaming(port);
  test_continue(port);
  test_errors(port, cfg.max_body_bytes);
  struct buf text;
  buf_init(&text);
  metrics_render(m, &text);
  CHECK(strstr(buf_cstr(&text), "spanhouse_http_requests_total{server=\"test\"}") != NULL);
  CHECK(strstr(text.data, "spanhouse_http_errors_total{server=\"test\",kind=\"too_large\"}") != NULL);
  CHECK(strstr(text.data, "spanhouse_evloop_ops_completed_total{server=\"test\"}") != NULL);
  struct http_server_stats st;
  http_server_get_stats(srv, &st);
  CHECK(st.requests >= 20);
  http_server_destroy(srv);
  buf_reset(&text);
  metrics_render(m, &text);           /* callbacks forgotten: no dangling ctx */
  CHECK(strstr(buf_cstr(&text), "spanhouse_http_connections{") == NULL);
  buf_free(&text);
  metrics_destroy(m);
}

int main(void)
{
  if (getenv("TEST_DEBUG"))
    log_set_level(LOG_DEBUG);
  if (evloop_backend_select(EVLOOP_AUTO) == EVLOOP_URING)
    run(EVLOOP_URING);
  run(EVLOOP_EPOLL);
  TEST_DONE();
}
