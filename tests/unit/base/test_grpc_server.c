/* In-process gRPC server tests over real sockets on every available loop
 * backend, with nghttp2's client API as the client: unary success, many
 * streams on one connection, many connections, a 3 MiB message, the receive
 * limit, gzip requests and responses, unknown methods and encodings, bad
 * framing, metadata, handler failures (percent-encoded grpc-message),
 * admission, deadlines, client cancels, pings, idle timeout and a graceful
 * stop with a call in flight. GRPC_CORPUS_DIR=dir saves some client byte
 * streams as fuzz seeds (tests/fuzz/corpus/grpc). */
#include "base/alloc.h"
#include "base/clock.h"
#include "base/compress.h"
#include "base/error.h"
#include "base/grpc_server.h"
#include "base/log.h"
#include "base/metrics.h"
#include "tests/unit/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- server side */

static _Atomic int cancel_seen;        /* handlers that noticed grpc_call_cancelled */
static _Atomic int handlers_running;
static struct mem_budget budget = { .max_bytes = 64 * 1024 * 1024 };

static void sleep_ms(int ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
  nanosleep(&ts, NULL);
}

static void h_echo(void *ctx, struct grpc_call *call, const void *msg, size_t len)
{
  atomic_fetch_add(&handlers_running, 1);
  struct slice sl = grpc_call_metadata(call, "x-sleep-ms");
  if (sl.ptr) {
    int ms = atoi(sl.ptr);
    for (int t = 0; t < ms; t += 5) {
      if (grpc_call_cancelled(call)) {
        atomic_fetch_add(&cancel_seen, 1);
        break;
      }
      sleep_ms(5);
    }
  }
  struct slice code = grpc_call_metadata(call, "x-fail-code");
  if (code.ptr) {
    struct slice m = grpc_call_metadata(call, "x-fail-msg");
    CHECK_EQ_INT(grpc_call_fail(call, atoi(code.ptr), "failing as asked: %s", m.ptr ? m.ptr : ""), 0);
  } else {
    CHECK_EQ_INT(grpc_call_reply(call, msg, len), 0);
    CHECK_EQ_INT(grpc_call_reply(call, msg, len), ERR_LOGICAL_ERROR);   /* first answer counts */
  }
  atomic_fetch_sub(&handlers_running, 1);
}

static void h_tenant(void *ctx, struct grpc_call *call, const void *msg, size_t len)
{
  struct slice t = grpc_call_metadata(call, "X-Scope-OrgID");
  CHECK_EQ_STR(grpc_call_method(call), "/test.Svc/Tenant");
  CHECK(strncmp(grpc_call_peer(call), "127.0.0.1:", 10) == 0);
  grpc_call_reply(call, t.ptr ? t.ptr : "none", t.ptr ? t.len : 4);
}

/* Replies with n bytes of text (n = the request as a decimal number). */
static void h_big(void *ctx, struct grpc_call *call, const void *msg, size_t len)
{
  char num[32] = { 0 };
  memcpy(num, msg, len < 31 ? len : 31);
  size_t n = (size_t)atol(num);
  char *out = arena_alloc(grpc_call_arena(call), n + 1);
  for (size_t i = 0; i < n; i++)
    out[i] = "spanhouse grpc "[i % 15];
  grpc_call_reply(call, out, n);
}

static void h_silent(void *ctx, struct grpc_call *call, const void *msg, size_t len) {}

static int admit(void *ctx, const struct grpc_call *call, const char **message)
{
  struct slice a = grpc_call_metadata(call, "x-admit");
  if (a.ptr && strcmp(a.ptr, "no") == 0) {
    *message = "admission refused";
    return GRPC_STATUS_UNAVAILABLE;
  }
  return 0;
}

static struct grpc_server *start_server(enum evloop_backend backend, struct metrics *m, int idle_ms)
{
  struct grpc_server_config cfg = {
    .name = "grpc-test", .host = "127.0.0.1", .port = 0, .loop_threads = 2, .handler_threads = 4,
    .backend = backend, .admit = admit, .metrics = m, .compress_min_bytes = 1024, .idle_timeout_ms = idle_ms,
    .stop_timeout_ms = 5000, .budget = &budget,
  };
  struct grpc_server *srv;
  struct error err;
  REQUIRE(grpc_server_create(&srv, &cfg, &err) == 0);
  REQUIRE(grpc_server_register(srv, "/test.Svc/Echo", h_echo, NULL, &err) == 0);
  REQUIRE(grpc_server_register(srv, "/test.Svc/Tenant", h_tenant, NULL, &err) == 0);
  REQUIRE(grpc_server_register(srv, "/test.Svc/Big", h_big, NULL, &err) == 0);
  REQUIRE(grpc_server_register(srv, "/test.Svc/Silent", h_silent, NULL, &err) == 0);
  CHECK(grpc_server_register(srv, "/test.Svc/Echo", h_echo, NULL, &err) == ERR_BAD_ARGUMENTS);
  CHECK(grpc_server_register(srv, "noslash", h_echo, NULL, &err) == ERR_BAD_ARGUMENTS);
  if (grpc_server_start(srv, &err) != 0) {
    fprintf(stderr, "start: %s\n", err.message);
    exit(1);
  }
  CHECK(grpc_server_register(srv, "/test.Svc/Late", h_echo, NULL, &err) == ERR_LOGICAL_ERROR);
  return srv;
}

/* ---------------------------------------------------------------------- client side */

struct tstream {
  int32_t id;
  int http_status;
  int grpc_status;                     /* -1 = none seen */
  char grpc_message[8192];
  char grpc_encoding[32];
  char content_type[64];
  int header_blocks;
  bool closed;
  uint32_t error_code;
  struct buf data;
  const char *body;                    /* request body (prefixed messages) */
  size_t body_len, body_pos;
};

struct tclient {
  int fd;
  nghttp2_session *s;
  bool goaway, eof, ping_acked;
  int rst_recv;                        /* RST_STREAM frames received */
  struct buf capture;
  const char *capture_name;
};

static ssize_t c_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
  struct tclient *c = ud;
  ssize_t n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
  if (c->capture_name)
    buf_append(&c->capture, data, (size_t)n);
  return n;
}

static void copy_value(char *dst, size_t cap, const uint8_t *v, size_t len)
{
  if (len >= cap)
    len = cap - 1;
  memcpy(dst, v, len);
  dst[len] = '\0';
}

static int c_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                    const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
  struct tstream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
  if (!st)
    return 0;
  char v[8192];
  copy_value(v, sizeof v, value, valuelen);
  if (namelen == 7 && memcmp(name, ":status", 7) == 0)
    st->http_status = atoi(v);
  else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
    st->grpc_status = atoi(v);
  else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
    copy_value(st->grpc_message, sizeof st->grpc_message, value, valuelen);
  else if (namelen == 13 && memcmp(name, "grpc-encoding", 13) == 0)
    copy_value(st->grpc_encoding, sizeof st->grpc_encoding, value, valuelen);
  else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
    copy_value(st->content_type, sizeof st->content_type, value, valuelen);
  return 0;
}

static int c_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
  struct tclient *c = ud;
  if (f->hd.type == NGHTTP2_GOAWAY)
    c->goaway = true;
  if (f->hd.type == NGHTTP2_RST_STREAM)
    c->rst_recv++;
  if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK))
    c->ping_acked = true;
  if (f->hd.type == NGHTTP2_HEADERS) {
    struct tstream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (st)
      st->header_blocks++;
  }
  return 0;
}

static int c_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud)
{
  struct tstream *st = nghttp2_session_get_stream_user_data(s, id);
  if (st)
    buf_append(&st->data, data, len);
  return 0;
}

static int c_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *ud)
{
  struct tstream *st = nghttp2_session_get_stream_user_data(s, id);
  if (st) {
    st->closed = true;
    st->error_code = error_code;
  }
  return 0;
}

static ssize_t c_body(nghttp2_session *s, int32_t id, uint8_t *out, size_t length, uint32_t *flags,
                      nghttp2_data_source *src, void *ud)
{
  struct tstream *st = src->ptr;
  size_t n = st->body_len - st->body_pos;
  if (n > length)
    n = length;
  memcpy(out, st->body + st->body_pos, n);
  st->body_pos += n;
  if (st->body_pos == st->body_len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

static void client_open(struct tclient *c, uint16_t port, const char *capture_name)
{
  memset(c, 0, sizeof *c);
  buf_init(&c->capture);
  c->capture_name = getenv("GRPC_CORPUS_DIR") ? capture_name : NULL;
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  REQUIRE(connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == 0);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  nghttp2_session_callbacks *cb;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_send_callback(cb, c_send);
  nghttp2_session_callbacks_set_on_header_callback(cb, c_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, c_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, c_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, c_close);
  REQUIRE(nghttp2_session_client_new(&c->s, cb, c) == 0);
  nghttp2_session_callbacks_del(cb);
  nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, NULL, 0);
}

static void client_close(struct tclient *c)
{
  const char *dir = getenv("GRPC_CORPUS_DIR");
  if (dir && c->capture_name && c->capture.len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, c->capture_name);
    FILE *f = fopen(path, "wb");
    if (f) {
      fwrite(c->capture.data, 1, c->capture.len, f);
      fclose(f);
    }
  }
  nghttp2_session_del(c->s);
  close(c->fd);
  buf_free(&c->capture);
}

static void frame_msg(struct buf *out, uint8_t flag, const void *msg, size_t len)
{
  uint8_t p[5] = { flag, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
  buf_append(out, p, 5);
  buf_append(out, msg, len);
}

/* Starts a call; body is the raw request body (NULL = no DATA at all).
 * extra: NULL-terminated name, value pairs. */
static void call_start(struct tclient *c, struct tstream *st, const char *path, const char *body, size_t body_len,
                       const char *const *extra)
{
  buf_init(&st->data);
  st->grpc_status = -1;
  st->body = body;
  st->body_len = body_len;
  nghttp2_nv nv[32];
  size_t n = 0;
#define NV(a, b) (nghttp2_nv){ (uint8_t *)(uintptr_t)(a), (uint8_t *)(uintptr_t)(b), strlen(a), strlen(b), 0 }
  nv[n++] = NV(":method", "POST");
  nv[n++] = NV(":scheme", "http");
  nv[n++] = NV(":path", path);
  nv[n++] = NV(":authority", "localhost");
  bool has_ct = false;
  for (int i = 0; extra && extra[i]; i += 2)
    has_ct |= strcmp(extra[i], "content-type") == 0;
  if (!has_ct)
    nv[n++] = NV("content-type", "application/grpc");
  nv[n++] = NV("te", "trailers");
  for (int i = 0; extra && extra[i]; i += 2)
    nv[n++] = NV(extra[i], extra[i + 1]);
#undef NV
  nghttp2_data_provider prd = { .source.ptr = st, .read_callback = c_body };
  st->id = nghttp2_submit_request(c->s, NULL, nv, n, body ? &prd : NULL, st);
  REQUIRE(st->id > 0);
}

static void call_start_msg(struct tclient *c, struct tstream *st, struct buf *body, const char *path,
                           const char *msg, const char *const *extra)
{
  buf_init(body);
  frame_msg(body, 0, msg, strlen(msg));
  call_start(c, st, path, body->data, body->len, extra);
}

/* One round of I/O: send what nghttp2 has, wait up to ms for input. */
static bool client_pump(struct tclient *c, int ms)
{
  if (nghttp2_session_send(c->s) != 0)
    return false;
  struct pollfd pfd = { .fd = c->fd, .events = POLLIN | (nghttp2_session_want_write(c->s) ? POLLOUT : 0) };
  if (poll(&pfd, 1, ms) <= 0)
    return true;
  if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
    uint8_t tmp[65536];
    for (;;) {
      ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
      if (n == 0) {
        c->eof = true;
        return false;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          break;
        c->eof = true;
        return false;
      }
      if (nghttp2_session_mem_recv(c->s, tmp, (size_t)n) < 0)
        return false;
    }
  }
  return true;
}

static bool wait_streams(struct tclient *c, struct tstream **st, int n, int timeout_ms)
{
  int64_t end = clock_monotonic_ns() + (int64_t)timeout_ms * 1000000;
  for (;;) {
    bool all = true;
    for (int i = 0; i < n; i++)
      all &= st[i]->closed;
    if (all)
      return true;
    if (clock_monotonic_ns() > end || !client_pump(c, 20))
      break;
  }
  for (int i = 0; i < n; i++)
    if (!st[i]->closed)
      return false;
  return true;
}

static bool wait_one(struct tclient *c, struct tstream *st, int timeout_ms) { return wait_streams(c, &st, 1, timeout_ms); }

/* Checks an OK unary answer whose message equals want/want_len (uncompressed). */
static void check_ok(struct tstream *st, const void *want, size_t want_len)
{
  CHECK_EQ_INT(st->http_status, 200);
  CHECK_EQ_STR(st->content_type, "application/grpc");
  CHECK_EQ_INT(st->grpc_status, 0);
  CHECK_EQ_INT(st->header_blocks, 2);              /* headers + trailers */
  CHECK_EQ_INT(st->data.len, want_len + 5);
  if (st->data.len == want_len + 5) {
    CHECK_EQ_INT((uint8_t)st->data.data[0], 0);
    uint32_t n = (uint32_t)(uint8_t)st->data.data[1] << 24 | (uint32_t)(uint8_t)st->data.data[2] << 16 |
                 (uint32_t)(uint8_t)st->data.data[3] << 8 | (uint32_t)(uint8_t)st->data.data[4];
    CHECK_EQ_INT(n, want_len);
    CHECK(memcmp(st->data.data + 5, want, want_len) == 0);
  }
}

static void check_status(struct tstream *st, int status, const char *msg_part)
{
  CHECK_EQ_INT(st->grpc_status, status);
  if (msg_part && !strstr(st->grpc_message, msg_part)) {
    fprintf(stderr, "grpc-message \"%s\" lacks \"%s\"\n", st->grpc_message, msg_part);
    test_failures++;
  }
}

static void stream_free(struct tstream *st) { buf_free(&st->data); }

/* ---------------------------------------------------------------------- tests */

static void test_basic(uint16_t port)
{
  struct tclient c;
  client_open(&c, port, "basic_echo");
  struct tstream st = { 0 };
  struct buf body;
  call_start_msg(&c, &st, &body, "/test.Svc/Echo", "hello", NULL);
  REQUIRE(wait_one(&c, &st, 5000));
  check_ok(&st, "hello", 5);
  CHECK_EQ_INT(st.error_code, 0);
  CHECK_EQ_INT(nghttp2_session_get_remote_settings(c.s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 100);
  /* An empty message is a message. */
  struct tstream st2 = { 0 };
  struct buf body2;
  call_start_msg(&c, &st2, &body2, "/test.Svc/Echo", "", NULL);
  REQUIRE(wait_one(&c, &st2, 5000));
  check_ok(&st2, "", 0);
  /* Pings are answered. */
  nghttp2_submit_ping(c.s, NGHTTP2_FLAG_NONE, NULL);
  for (int i = 0; i < 100 && !c.ping_acked; i++)
    client_pump(&c, 20);
  CHECK(c.ping_acked);
  stream_free(&st);
  stream_free(&st2);
  buf_free(&body);
  buf_free(&body2);
  client_close(&c);
}

static void test_concurrent_streams(uint16_t port)
{
  enum { N = 60 };
  struct tclient c;
  client_open(&c, port, "concurrent");
  static struct tstream st[N];
  struct tstream *ptr[N];
  struct buf body[N];
  char msg[N][32];
  static const char *const slow[] = { "x-sleep-ms", "40", NULL };
  int64_t t0 = clock_monotonic_ns();
  for (int i = 0; i < N; i++) {
    memset(&st[i], 0, sizeof st[i]);
    snprintf(msg[i], sizeof msg[i], "message %d", i);
    call_start_msg(&c, &st[i], &body[i], "/test.Svc/Echo", msg[i], slow);
    ptr[i] = &st[i];
  }
  REQUIRE(wait_streams(&c, ptr, N, 20000));
  double secs = (double)clock_elapsed_ns(t0) / 1e9;
  for (int i = 0; i < N; i++) {
    check_ok(&st[i], msg[i], strlen(msg[i]));
    stream_free(&st[i]);
    buf_free(&body[i]);
  }
  CHECK(secs < N * 0.040 * 0.75);                  /* 4 handler threads ran them side by side */
  client_close(&c);
}

struct conn_job {
  uint16_t port;
  int index;
  int ok;
};

static void *conn_thread(void *arg)
{
  struct conn_job *job = arg;
  enum { CALLS = 10 };
  struct tclient c;
  client_open(&c, job->port, NULL);
  struct tstream st[CALLS];
  struct tstream *ptr[CALLS];
  struct buf body[CALLS];
  char msg[CALLS][48];
  static const char *const slow[] = { "x-sleep-ms", "5", NULL };
  for (int i = 0; i < CALLS; i++) {
    memset(&st[i], 0, sizeof st[i]);
    snprintf(msg[i], sizeof msg[i], "conn %d call %d", job->index, i);
    call_start_msg(&c, &st[i], &body[i], "/test.Svc/Echo", msg[i], slow);
    ptr[i] = &st[i];
  }
  if (wait_streams(&c, ptr, CALLS, 20000))
    for (int i = 0; i < CALLS; i++)
      job->ok += st[i].grpc_status == 0 && st[i].data.len == strlen(msg[i]) + 5 &&
                 memcmp(st[i].data.data + 5, msg[i], strlen(msg[i])) == 0;
  for (int i = 0; i < CALLS; i++) {
    stream_free(&st[i]);
    buf_free(&body[i]);
  }
  client_close(&c);
  return NULL;
}

static void test_many_connections(uint16_t port)
{
  enum { CONNS = 12 };
  pthread_t t[CONNS];
  struct conn_job jobs[CONNS];
  for (int i = 0; i < CONNS; i++) {
    jobs[i] = (struct conn_job){ port, i, 0 };
    REQUIRE(pthread_create(&t[i], NULL, conn_thread, &jobs[i]) == 0);
  }
  for (int i = 0; i < CONNS; i++) {
    pthread_join(t[i], NULL);
    CHECK_EQ_INT(jobs[i].ok, 10);
  }
}

static void test_large(uint16_t port)
{
  size_t n = 3 * 1024 * 1024;
  char *msg = mem_alloc(n);
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    msg[i] = (char)(x >> 16);
  }
  struct tclient c;
  client_open(&c, port, NULL);
  struct buf body;
  buf_init(&body);
  frame_msg(&body, 0, msg, n);
  struct tstream st = { 0 };
  call_start(&c, &st, "/test.Svc/Echo", body.data, body.len, NULL);
  REQUIRE(wait_one(&c, &st, 20000));
  check_ok(&st, msg, n);
  stream_free(&st);

  /* Over the 4 MiB default: RESOURCE_EXHAUSTED, early, and the connection lives on. */
  size_t big = 5 * 1024 * 1024;
  char *bigmsg = mem_calloc(1, big);
  struct buf body2;
  buf_init(&body2);
  frame_msg(&body2, 0, bigmsg, big);
  struct tstream st2 = { 0 };
  call_start(&c, &st2, "/test.Svc/Echo", body2.data, body2.len, NULL);
  REQUIRE(wait_one(&c, &st2, 20000));
  check_status(&st2, GRPC_STATUS_RESOURCE_EXHAUSTED, "larger than max");
  CHECK(st2.body_pos < body2.len);                 /* stopped by RST_STREAM(NO_ERROR) before the end */
  CHECK_EQ_INT(st2.error_code, NGHTTP2_NO_ERROR);
  stream_free(&st2);
  struct tstream st3 = { 0 };
  struct buf body3;
  call_start_msg(&c, &st3, &body3, "/test.Svc/Echo", "still here", NULL);
  REQUIRE(wait_one(&c, &st3, 5000));
  check_ok(&st3, "still here", 10);
  stream_free(&st3);
  buf_free(&body);
  buf_free(&body2);
  buf_free(&body3);
  mem_free(msg);
  mem_free(bigmsg);
  client_close(&c);
}

/* Sequential calls on one connection after bodies larger than the initial
 * windows: a big call, another big call, then several small ones, all OK with
 * no RST_STREAM or GOAWAY. Run once as a default nghttp2 client and once like
 * curl (32 MiB SETTINGS_INITIAL_WINDOW_SIZE and a connection WINDOW_UPDATE to
 * 32 MiB before the first request). */
static void test_sequential_large(uint16_t port)
{
  size_t n = 600 * 1024;
  char *msg = mem_alloc(n);
  uint32_t x = 777;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    msg[i] = (char)(x >> 16);
  }
  struct buf body;
  buf_init(&body);
  frame_msg(&body, 0, msg, n);
  for (int curl_like = 0; curl_like < 2; curl_like++) {
    struct tclient c;
    client_open(&c, port, NULL);
    if (curl_like) {
      nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 32 * 1024 * 1024 },
                                      { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 } };
      nghttp2_submit_settings(c.s, NGHTTP2_FLAG_NONE, iv, 2);
      REQUIRE(nghttp2_session_set_local_window_size(c.s, NGHTTP2_FLAG_NONE, 0, 32 * 1024 * 1024) == 0);
    }
    for (int i = 0; i < 2; i++) {
      struct tstream st = { 0 };
      call_start(&c, &st, "/test.Svc/Echo", body.data, body.len, NULL);
      REQUIRE(wait_one(&c, &st, 20000));
      check_ok(&st, msg, n);
      CHECK_EQ_INT(st.error_code, NGHTTP2_NO_ERROR);
      CHECK_EQ_INT(st.body_pos, body.len);
      stream_free(&st);
    }
    for (int i = 0; i < 5; i++) {
      struct tstream st = { 0 };
      struct buf b;
      char small[32];
      snprintf(small, sizeof small, "small %d", i);
      call_start_msg(&c, &st, &b, "/test.Svc/Echo", small, NULL);
      REQUIRE(wait_one(&c, &st, 5000));
      check_ok(&st, small, strlen(small));
      CHECK_EQ_INT(st.error_code, NGHTTP2_NO_ERROR);
      stream_free(&st);
      buf_free(&b);
    }
    CHECK(!c.goaway);
    CHECK(!c.eof);
    CHECK_EQ_INT(c.rst_recv, 0);
    client_close(&c);
  }
  buf_free(&body);
  mem_free(msg);
}

static void gzip_buf(struct buf *out, const void *in, size_t len)
{
  struct compressor *z;
  struct error err;
  REQUIRE(compressor_create(&z, COMPRESS_GZIP, 0, &err) == 0);
  REQUIRE(compressor_run(z, in, len, false, true, out, &err) == 0);
  compressor_destroy(z);
}

static void test_gzip(uint16_t port)
{
  struct tclient c;
  client_open(&c, port, "gzip");
  static const char *const gz[] = { "grpc-encoding", "gzip", NULL };
  const char *text = "a compressed request message, a compressed request message";

  /* gzip request, identity reply (no grpc-accept-encoding). */
  struct buf z, body;
  buf_init(&z);
  buf_init(&body);
  gzip_buf(&z, text, strlen(text));
  frame_msg(&body, 1, z.data, z.len);
  struct tstream st = { 0 };
  call_start(&c, &st, "/test.Svc/Echo", body.data, body.len, gz);
  REQUIRE(wait_one(&c, &st, 5000));
  check_ok(&st, text, strlen(text));
  stream_free(&st);

  /* An uncompressed message under grpc-encoding: gzip is fine too. */
  struct tstream st1 = { 0 };
  struct buf body1;
  call_start_msg(&c, &st1, &body1, "/test.Svc/Echo", "plain", gz);
  REQUIRE(wait_one(&c, &st1, 5000));
  check_ok(&st1, "plain", 5);
  stream_free(&st1);
  buf_free(&body1);

  /* Reply compressed when accepted and large enough. */
  static const char *const acc[] = { "grpc-accept-encoding", "identity,deflate,gzip", NULL };
  struct tstream st2 = { 0 };
  struct buf body2;
  call_start_msg(&c, &st2, &body2, "/test.Svc/Big", "100000", acc);
  REQUIRE(wait_one(&c, &st2, 5000));
  CHECK_EQ_INT(st2.grpc_status, 0);
  CHECK_EQ_STR(st2.grpc_encoding, "gzip");
  REQUIRE(st2.data.len > 5 && st2.data.len < 20000);
  CHECK_EQ_INT((uint8_t)st2.data.data[0], 1);
  struct decompressor *d;
  struct error err;
  REQUIRE(decompressor_create(&d, COMPRESS_GZIP, 0, &err) == 0);
  char *plain = mem_alloc(200000);
  size_t used, produced;
  REQUIRE(decompressor_run(d, st2.data.data + 5, st2.data.len - 5, &used, plain, 200000, &produced, &err) == 0);
  CHECK_EQ_INT(produced, 100000);
  CHECK(memcmp(plain, "spanhouse grpc spanhouse", 24) == 0);
  decompressor_destroy(d);
  mem_free(plain);
  stream_free(&st2);
  buf_free(&body2);

  /* Small replies stay uncompressed. */
  struct tstream st3 = { 0 };
  struct buf body3;
  call_start_msg(&c, &st3, &body3, "/test.Svc/Big", "100", acc);
  REQUIRE(wait_one(&c, &st3, 5000));
  CHECK_EQ_INT(st3.grpc_status, 0);
  CHECK_EQ_STR(st3.grpc_encoding, "");
  CHECK_EQ_INT(st3.data.len, 105);
  stream_free(&st3);
  buf_free(&body3);

  /* Corrupt gzip: INTERNAL. */
  struct buf body4;
  buf_init(&body4);
  frame_msg(&body4, 1, "\x1f\x8bnot really gzip at all", 24);
  struct tstream st4 = { 0 };
  call_start(&c, &st4, "/test.Svc/Echo", body4.data, body4.len, gz);
  REQUIRE(wait_one(&c, &st4, 5000));
  check_status(&st4, GRPC_STATUS_INTERNAL, "decompress");
  stream_free(&st4);
  buf_free(&body4);

  /* A gzip bomb past the receive limit: RESOURCE_EXHAUSTED. */
  size_t bomb_n = 6 * 1024 * 1024;
  char *zeros = mem_calloc(1, bomb_n);
  struct buf zb, body5;
  buf_init(&zb);
  buf_init(&body5);
  gzip_buf(&zb, zeros, bomb_n);
  frame_msg(&body5, 1, zb.data, zb.len);
  struct tstream st5 = { 0 };
  call_start(&c, &st5, "/test.Svc/Echo", body5.data, body5.len, gz);
  REQUIRE(wait_one(&c, &st5, 5000));
  check_status(&st5, GRPC_STATUS_RESOURCE_EXHAUSTED, "decompressed message larger than max");
  stream_free(&st5);
  buf_free(&zb);
  buf_free(&body5);
  mem_free(zeros);

  /* Unknown encoding: UNIMPLEMENTED. */
  static const char *const snappy[] = { "grpc-encoding", "snappy", NULL };
  struct buf body6;
  buf_init(&body6);
  frame_msg(&body6, 1, "xx", 2);
  struct tstream st6 = { 0 };
  call_start(&c, &st6, "/test.Svc/Echo", body6.data, body6.len, snappy);
  REQUIRE(wait_one(&c, &st6, 5000));
  check_status(&st6, GRPC_STATUS_UNIMPLEMENTED, "grpc-encoding");
  stream_free(&st6);
  buf_free(&body6);

  buf_free(&z);
  buf_free(&body);
  client_close(&c);
}

static void test_errors(uint16_t port)
{
  struct tclient c;
  client_open(&c, port, "errors");
  struct buf b[12];
  struct tstream st[12];
  memset(st, 0, sizeof st);
  for (int i = 0; i < 12; i++)
    buf_init(&b[i]);

  /* 0: unknown method */
  frame_msg(&b[0], 0, "x", 1);
  call_start(&c, &st[0], "/test.Svc/Nope", b[0].data, b[0].len, NULL);
  /* 1: truncated message (prefix says 100 bytes, 10 follow) */
  buf_append(&b[1], "\0\0\0\0\x64" "0123456789", 15);
  call_start(&c, &st[1], "/test.Svc/Echo", b[1].data, b[1].len, NULL);
  /* 2: invalid compressed flag */
  frame_msg(&b[2], 2, "abc", 3);
  call_start(&c, &st[2], "/test.Svc/Echo", b[2].data, b[2].len, NULL);
  /* 3: two messages in a unary call */
  frame_msg(&b[3], 0, "one", 3);
  frame_msg(&b[3], 0, "two", 3);
  call_start(&c, &st[3], "/test.Svc/Echo", b[3].data, b[3].len, NULL);
  /* 4: no body at all */
  call_start(&c, &st[4], "/test.Svc/Echo", NULL, 0, NULL);
  /* 5: compressed flag without grpc-encoding */
  frame_msg(&b[5], 1, "abc", 3);
  call_start(&c, &st[5], "/test.Svc/Echo", b[5].data, b[5].len, NULL);
  /* 6: not gRPC content-type */
  static const char *const json[] = { "content-type", "application/json", NULL };
  frame_msg(&b[6], 0, "abc", 3);
  call_start(&c, &st[6], "/test.Svc/Echo", b[6].data, b[6].len, json);
  /* 7: handler fails with RESOURCE_EXHAUSTED; message needs percent-encoding */
  static const char *const f8[] = { "x-fail-code", "8", "x-fail-msg", "quota 100% \xe2\x80\x93 full", NULL };
  frame_msg(&b[7], 0, "abc", 3);
  call_start(&c, &st[7], "/test.Svc/Echo", b[7].data, b[7].len, f8);
  /* 8: handler fails with UNAVAILABLE */
  static const char *const f14[] = { "x-fail-code", "14", "x-fail-msg", "try later", NULL };
  frame_msg(&b[8], 0, "abc", 3);
  call_start(&c, &st[8], "/test.Svc/Echo", b[8].data, b[8].len, f14);
  /* 9: admission refuses */
  static const char *const noadmit[] = { "x-admit", "no", NULL };
  frame_msg(&b[9], 0, "abc", 3);
  call_start(&c, &st[9], "/test.Svc/Echo", b[9].data, b[9].len, noadmit);
  /* 10: handler that never answers */
  frame_msg(&b[10], 0, "abc", 3);
  call_start(&c, &st[10], "/test.Svc/Silent", b[10].data, b[10].len, NULL);
  /* 11: malformed grpc-timeout */
  static const char *const badto[] = { "grpc-timeout", "12x", NULL };
  frame_msg(&b[11], 0, "abc", 3);
  call_start(&c, &st[11], "/test.Svc/Echo", b[11].data, b[11].len, badto);

  struct tstream *ptr[12];
  for (int i = 0; i < 12; i++)
    ptr[i] = &st[i];
  REQUIRE(wait_streams(&c, ptr, 12, 5000));
  check_status(&st[0], GRPC_STATUS_UNIMPLEMENTED, "unknown method /test.Svc/Nope");
  check_status(&st[1], GRPC_STATUS_INTERNAL, "truncated");
  check_status(&st[2], GRPC_STATUS_INTERNAL, "compressed flag");
  check_status(&st[3], GRPC_STATUS_INTERNAL, "more than one");
  check_status(&st[4], GRPC_STATUS_INTERNAL, "no request message");
  check_status(&st[5], GRPC_STATUS_INTERNAL, "without grpc-encoding");
  CHECK_EQ_INT(st[6].http_status, 415);
  check_status(&st[7], GRPC_STATUS_RESOURCE_EXHAUSTED, NULL);
  CHECK_EQ_STR(st[7].grpc_message, "failing as asked: quota 100%25 %E2%80%93 full");
  check_status(&st[8], GRPC_STATUS_UNAVAILABLE, NULL);
  CHECK_EQ_STR(st[8].grpc_message, "failing as asked: try later");
  check_status(&st[9], GRPC_STATUS_UNAVAILABLE, "admission refused");
  check_status(&st[10], GRPC_STATUS_UNKNOWN, "no answer");
  check_status(&st[11], GRPC_STATUS_INTERNAL, "grpc-timeout");
  for (int i = 0; i < 12; i++) {
    if (i != 6)
      CHECK_EQ_INT(st[i].http_status, 200);
    CHECK_EQ_INT(st[i].header_blocks, 1);          /* Trailers-Only */
    CHECK_EQ_INT(st[i].data.len, 0);
    CHECK_EQ_STR(st[i].content_type, "application/grpc");
    stream_free(&st[i]);
    buf_free(&b[i]);
  }
  /* The connection still works after all that. */
  struct tstream ok = { 0 };
  struct buf okb;
  call_start_msg(&c, &ok, &okb, "/test.Svc/Echo", "fine", NULL);
  REQUIRE(wait_one(&c, &ok, 5000));
  check_ok(&ok, "fine", 4);
  stream_free(&ok);
  buf_free(&okb);
  client_close(&c);
}

static void test_metadata(uint16_t port)
{
  struct tclient c;
  client_open(&c, port, "metadata");
  static const char *const md[] = { "x-scope-orgid", "tenant-42", "authorization", "Bearer k", NULL };
  struct tstream st = { 0 }, st2 = { 0 };
  struct buf b, b2;
  call_start_msg(&c, &st, &b, "/test.Svc/Tenant", "", md);
  call_start_msg(&c, &st2, &b2, "/test.Svc/Tenant", "", NULL);
  struct tstream *ptr[2] = { &st, &st2 };
  REQUIRE(wait_streams(&c, ptr, 2, 5000));
  check_ok(&st, "tenant-42", 9);
  check_ok(&st2, "none", 4);
  stream_free(&st);
  stream_free(&st2);
  buf_free(&b);
  buf_free(&b2);
  client_close(&c);
}

static void test_deadline_and_cancel(uint16_t port)
{
  struct tclient c;
  client_open(&c, port, "deadline");
  int before = atomic_load(&cancel_seen);
  static const char *const to[] = { "x-sleep-ms", "3000", "grpc-timeout", "100m", NULL };
  struct tstream st = { 0 };
  struct buf b;
  int64_t t0 = clock_monotonic_ns();
  call_start_msg(&c, &st, &b, "/test.Svc/Echo", "late", to);
  REQUIRE(wait_one(&c, &st, 5000));
  double secs = (double)clock_elapsed_ns(t0) / 1e9;
  check_status(&st, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline");
  CHECK(secs >= 0.09 && secs < 1.5);
  stream_free(&st);
  buf_free(&b);

  /* Client cancel (RST_STREAM) while the handler runs. */
  static const char *const slow[] = { "x-sleep-ms", "3000", NULL };
  struct tstream st2 = { 0 };
  struct buf b2;
  call_start_msg(&c, &st2, &b2, "/test.Svc/Echo", "cancel me", slow);
  for (int i = 0; i < 10; i++)
    client_pump(&c, 10);
  nghttp2_submit_rst_stream(c.s, NGHTTP2_FLAG_NONE, st2.id, NGHTTP2_CANCEL);
  REQUIRE(wait_one(&c, &st2, 5000));
  CHECK_EQ_INT(st2.error_code, NGHTTP2_CANCEL);
  stream_free(&st2);
  buf_free(&b2);
  /* Both handlers notice grpc_call_cancelled and return early. */
  for (int i = 0; i < 200 && atomic_load(&cancel_seen) < before + 2; i++)
    sleep_ms(10);
  CHECK_EQ_INT(atomic_load(&cancel_seen), before + 2);

  struct tstream ok = { 0 };
  struct buf okb;
  call_start_msg(&c, &ok, &okb, "/test.Svc/Echo", "after", NULL);
  REQUIRE(wait_one(&c, &ok, 5000));
  check_ok(&ok, "after", 5);
  stream_free(&ok);
  buf_free(&okb);
  client_close(&c);
}

/* Request messages hold their size in the budget; when it is spent,
 * RESOURCE_EXHAUSTED; afterwards all of it is back. */
static void test_budget(uint16_t port)
{
  uint64_t spend = budget.max_bytes - 1000;
  REQUIRE(mem_budget_try_reserve(&budget, spend));
  struct tclient c;
  client_open(&c, port, NULL);
  char msg[2000];
  memset(msg, 'm', sizeof msg);
  struct buf b;
  buf_init(&b);
  frame_msg(&b, 0, msg, sizeof msg);
  struct tstream st = { 0 };
  call_start(&c, &st, "/test.Svc/Echo", b.data, b.len, NULL);
  REQUIRE(wait_one(&c, &st, 5000));
  check_status(&st, GRPC_STATUS_RESOURCE_EXHAUSTED, "budget");
  stream_free(&st);
  mem_budget_release(&budget, spend);
  struct tstream st2 = { 0 };
  call_start(&c, &st2, "/test.Svc/Echo", b.data, b.len, NULL);
  REQUIRE(wait_one(&c, &st2, 5000));
  check_ok(&st2, msg, sizeof msg);
  stream_free(&st2);
  buf_free(&b);
  client_close(&c);
}

static void test_garbage(uint16_t port)
{
  /* Not HTTP/2 at all: the server closes the connection. */
  struct tclient c;
  client_open(&c, port, NULL);
  static const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(send(c.fd, junk, sizeof junk - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof junk - 1));
  char tmp[4096];
  int64_t end = clock_monotonic_ns() + 5000000000LL;
  ssize_t n = 1;
  while (clock_monotonic_ns() < end) {
    struct pollfd pfd = { .fd = c.fd, .events = POLLIN };
    poll(&pfd, 1, 100);
    n = recv(c.fd, tmp, sizeof tmp, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN))
      break;
  }
  CHECK(n <= 0);
  client_close(&c);
}

static void run_suite(enum evloop_backend backend)
{
  fprintf(stderr, "backend %s\n", evloop_backend_name(backend));
  struct metrics *m = metrics_create();
  struct grpc_server *srv = start_server(backend, m, 0);
  uint16_t port = grpc_server_port(srv);
  test_basic(port);
  test_concurrent_streams(port);
  test_many_connections(port);
  test_large(port);
  test_sequential_large(port);
  test_gzip(port);
  test_errors(port);
  test_metadata(port);
  test_deadline_and_cancel(port);
  test_budget(port);
  test_garbage(port);

  struct grpc_server_stats s;
  grpc_server_get_stats(srv, &s);
  CHECK(s.by_status[GRPC_STATUS_OK] >= 150);
  CHECK(s.by_status[GRPC_STATUS_UNIMPLEMENTED] >= 2);
  CHECK(s.by_status[GRPC_STATUS_RESOURCE_EXHAUSTED] >= 3);
  CHECK(s.by_status[GRPC_STATUS_CANCELLED] >= 1);
  CHECK(s.by_status[GRPC_STATUS_DEADLINE_EXCEEDED] >= 1);
  uint64_t sum = 0;
  for (int i = 0; i < GRPC_STATUS_COUNT; i++)
    sum += s.by_status[i];
  CHECK_EQ_INT(sum, s.calls);
  struct buf text;
  buf_init(&text);
  metrics_render(m, &text);
  CHECK(strstr(buf_cstr(&text), "spanhouse_grpc_responses_total{server=\"grpc-test\",code=\"OK\"}") != NULL);
  CHECK(strstr(buf_cstr(&text), "spanhouse_grpc_received_bytes_total{server=\"grpc-test\"}") != NULL);
  buf_free(&text);
  grpc_server_destroy(srv);
  CHECK_EQ_INT(atomic_load(&budget.used_bytes), 0);
  metrics_destroy(m);
}

/* ---- idle timeout and graceful stop, each on a server of its own */

static void test_idle(enum evloop_backend backend)
{
  struct grpc_server *srv = start_server(backend, NULL, 300);
  struct tclient c;
  client_open(&c, grpc_server_port(srv), NULL);
  struct tstream st = { 0 };
  struct buf b;
  call_start_msg(&c, &st, &b, "/test.Svc/Echo", "hi", NULL);
  REQUIRE(wait_one(&c, &st, 5000));
  check_ok(&st, "hi", 2);
  int64_t t0 = clock_monotonic_ns();
  while (!c.eof && clock_elapsed_ns(t0) < 5000000000LL)
    client_pump(&c, 50);
  double secs = (double)clock_elapsed_ns(t0) / 1e9;
  CHECK(c.goaway);
  CHECK(c.eof);
  CHECK(secs > 0.2 && secs < 2.0);
  stream_free(&st);
  buf_free(&b);
  client_close(&c);
  grpc_server_destroy(srv);
}

static void *stop_thread(void *arg)
{
  grpc_server_stop(arg);
  return NULL;
}

static void test_graceful_stop(enum evloop_backend backend)
{
  struct grpc_server *srv = start_server(backend, NULL, 0);
  struct tclient c;
  client_open(&c, grpc_server_port(srv), "stop");
  static const char *const slow[] = { "x-sleep-ms", "400", NULL };
  struct tstream st = { 0 };
  struct buf b;
  call_start_msg(&c, &st, &b, "/test.Svc/Echo", "in flight", slow);
  for (int i = 0; i < 100 && atomic_load(&handlers_running) == 0; i++)
    client_pump(&c, 10);
  REQUIRE(atomic_load(&handlers_running) > 0);
  int64_t t0 = clock_monotonic_ns();
  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, stop_thread, srv) == 0);
  while (!c.goaway && clock_elapsed_ns(t0) < 5000000000LL)
    client_pump(&c, 10);
  CHECK(c.goaway);
  REQUIRE(wait_one(&c, &st, 5000));
  check_ok(&st, "in flight", 9);
  while (!c.eof && clock_elapsed_ns(t0) < 5000000000LL)
    client_pump(&c, 10);
  CHECK(c.eof);
  pthread_join(t, NULL);
  double secs = (double)clock_elapsed_ns(t0) / 1e9;
  CHECK(secs > 0.2 && secs < 4.0);
  /* New connections are refused once stopped. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(grpc_server_port(srv)) };
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  CHECK(connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0);
  close(fd);
  stream_free(&st);
  buf_free(&b);
  client_close(&c);
  grpc_server_destroy(srv);
}

static void test_helpers(void)
{
  struct buf b;
  buf_init(&b);
  grpc_message_encode(&b, "ok 100%\n\xff", 9);
  CHECK_EQ_MEM(b.data, b.len, "ok 100%25%0A%FF");
  buf_free(&b);
  CHECK_EQ_STR(grpc_status_name(8), "RESOURCE_EXHAUSTED");
  CHECK_EQ_STR(grpc_status_name(99), "UNKNOWN");
}

int main(void)
{
  log_set_level(getenv("TEST_DEBUG") ? LOG_DEBUG : LOG_WARN);
  test_helpers();
  enum evloop_backend backends[2] = { EVLOOP_EPOLL, EVLOOP_URING };
  int nb = evloop_backend_select(EVLOOP_AUTO) == EVLOOP_URING ? 2 : 1;
  for (int i = 0; i < nb; i++) {
    run_suite(backends[i]);
    test_idle(backends[i]);
    test_graceful_stop(backends[i]);
  }
  TEST_DONE();
}
