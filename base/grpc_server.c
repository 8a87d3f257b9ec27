/* gRPC server over h2c on nghttp2; see grpc_server.h and base/README.md.
 *
 * Call states and the functions that move between them:
 *
 *   on_begin_headers -> RECEIVING --request_complete--> HANDLING --on_call_done--> RESPONDING
 *                          |  bad headers, framing,        |  deadline (answer_status;     |
 *                          |  limits (answer_status)       |  the reply is dropped later)  |
 *                          v                               v                               v
 *                       ANSWERED ------------------------------------------- on_stream_close: freed
 *   (a stream that closes while its call is HANDLING only marks it detached;
 *    on_call_done frees it)
 *
 * Invariants:
 *  1. A connection and its calls belong to the connection's loop thread,
 *     except that while a call is HANDLING the handler thread owns its
 *     request message, answer and arena; the loop then touches only its
 *     loop-side fields (state, detached, answered, list links) and the atomic
 *     cancelled flag. threadpool_submit and evloop_post order the handoffs.
 *  2. A connection is freed only when neither of its evloop ops is pending
 *     and no call of it is HANDLING (on_call_done comes back to it).
 *  3. Every call is counted exactly once in by_status: when its status is
 *     submitted, or as CANCELLED when it is freed unanswered.
 *  4. The connection receives on fd and sends on wfd; under epoll wfd is a
 *     dup of fd because that backend allows one pending op per fd.
 *  5. All I/O is non-blocking on the loop; only handlers block. */
#include "base/grpc_server.h"
#include "base/grpc_server_int.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/compress.h"
#include "base/error.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/net.h"
#include "base/threadpool.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
  RECV_BYTES          = 32 * 1024,         /* per-connection receive buffer */
  SEND_CHUNK_BYTES    = 64 * 1024,         /* nghttp2 output gathered per send */
  STREAM_WINDOW_BYTES = 1024 * 1024,       /* SETTINGS_INITIAL_WINDOW_SIZE */
  CONN_WINDOW_BYTES   = 16 * 1024 * 1024,  /* connection-level receive window */
  TICK_MS             = 100,               /* deadline / idle scan period */
  LISTEN_BACKLOG      = 1024,
  PREFIX_BYTES        = 5,                 /* gRPC message prefix: flag + u32 length */
};

static const char ACCEPT_ENCODINGS[] = "identity,gzip,deflate,zstd";

enum call_state { CALL_RECEIVING, CALL_HANDLING, CALL_RESPONDING, CALL_ANSWERED };

struct grpc_method {
  char *path;
  grpc_handler_fn fn;
  void *ctx;
};

struct md_entry {
  struct slice name, value;                /* arena copies, NUL-terminated */
};

struct grpc_call {
  struct grpc_call *prev, *next;           /* the connection's calls (loop thread) */
  struct grpc_conn *conn;
  struct grpc_server *srv;
  int32_t stream_id;
  enum call_state state;                   /* loop-side */
  bool detached;                           /* stream closed while HANDLING (loop-side) */
  bool answered;                           /* status submitted (loop-side) */
  bool dispatched;                         /* counted in srv->in_flight */
  _Atomic bool cancelled;
  int64_t start_ns;                        /* headers complete (monotonic) */
  int64_t deadline_ns;                     /* 0 = none */
  const struct grpc_method *method;
  /* request head, filled by on_header */
  char *path;
  bool is_post, content_type_ok, bad_timeout;
  bool encoding_unknown;
  enum compress_codec encoding;
  bool accept_gzip;
  struct md_entry *md;
  int md_count, md_cap;
  size_t md_bytes;
  int early_status;                        /* a problem found while receiving; answered at end of headers or at once */
  int early_http;
  const char *early_message;
  /* request message assembly */
  uint8_t prefix[PREFIX_BYTES];
  size_t prefix_len;
  uint32_t msg_len;
  bool msg_compressed;
  int messages;                            /* complete messages received (unary: exactly 1) */
  struct buf msg;
  uint64_t reserved_bytes;                 /* taken from cfg.budget for msg */
  /* answer: written by the handler thread, read by the loop after on_call_done */
  bool has_answer;
  int status;
  char *message;
  char *details_bin;                       /* grpc-status-details-bin value, or NULL */
  struct buf reply;                        /* prefixed message */
  bool reply_gzip;
  size_t reply_pos;                        /* loop: bytes handed to nghttp2 */
  struct arena arena;
  struct evloop_task done_task;
  struct grpc_call *inline_next;           /* detached connections: calls to run */
};

struct grpc_loop;

struct grpc_conn {
  struct grpc_conn *prev, *next;
  struct grpc_loop *gl;                    /* NULL: detached (no socket) */
  struct grpc_server *srv;
  int fd, wfd;
  nghttp2_session *sess;
  struct evloop_op recv_op, send_op;
  bool recv_cancelled, send_cancelled;
  bool closing;                            /* no more I/O; freed once ops and handlers are done */
  bool session_over;                       /* fatal error or GOAWAY done: stop feeding nghttp2 */
  int handling;                            /* calls HANDLING */
  struct grpc_call *calls;
  int64_t last_active_ns;
  char *rbuf;
  struct buf wbuf;
  char peer[NET_ADDR_STR_MAX];
  struct grpc_call *inline_head, *inline_tail;
};

struct grpc_loop {
  struct grpc_server *srv;
  struct evloop *loop;
  pthread_t thread;
  bool thread_started;
  int index;
  int listen_fd;
  bool accept_paused;
  bool done;                               /* counted in srv->loops_done */
  bool tick_cancelled;
  struct evloop_op accept_op;
  struct evloop_op tick_op;
  struct grpc_conn *conns;
  int conn_count;
  bool stopping;
  int start_rc;
  struct error start_err;
  struct evloop_task stop_task;
  struct evloop_task force_task;
};

struct grpc_server {
  struct grpc_server_config cfg;
  char name[32];
  char host[NET_HOST_MAX];
  struct grpc_method *methods;
  int method_count, method_cap;
  nghttp2_session_callbacks *callbacks;
  nghttp2_mem h2mem;
  struct grpc_loop *loops;
  int loop_count;
  struct threadpool *pool;
  uint16_t port;
  bool started, stopped;
  _Atomic int connections;
  _Atomic uint64_t in_flight;
  _Atomic uint64_t calls;
  _Atomic uint64_t by_status[GRPC_STATUS_COUNT];
  pthread_mutex_t lock;
  pthread_cond_t cond;                     /* loops_started / loops_done changed */
  int loops_started;                       /* guarded by lock */
  int loops_done;                          /* guarded by lock */
  int loops_running;                       /* loops whose thread runs evloop_run */
  struct metric_counter *m_calls, *m_status[GRPC_STATUS_COUNT], *m_bytes_in, *m_bytes_out;
  struct metric_counter *m_refused, *m_network;
  struct metric_histogram *m_duration;
};

static void conn_update(struct grpc_conn *c);
static void conn_set_closing(struct grpc_conn *c);
static void call_task(void *arg);

/* ======================================================================
 * Helpers
 * ====================================================================== */

static const char *const status_names[GRPC_STATUS_COUNT] = {
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
};

const char *grpc_status_name(int status)
{
  return status >= 0 && status < GRPC_STATUS_COUNT ? status_names[status] : "UNKNOWN";
}

void grpc_message_encode(struct buf *out, const char *msg, size_t len)
{
  static const char hex[] = "0123456789ABCDEF";
  buf_reserve(out, len);
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)msg[i];
    if (ch < 0x20 || ch > 0x7e || ch == '%') {
      char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
      buf_append(out, e, 3);
    } else {
      buf_append_char(out, (char)ch);
    }
  }
}

static nghttp2_nv nv_make(const char *name, const char *value, size_t value_len)
{
  return (nghttp2_nv){ (uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value, strlen(name), value_len,
                       NGHTTP2_NV_FLAG_NONE };
}

static nghttp2_nv nv_str(const char *name, const char *value) { return nv_make(name, value, strlen(value)); }

/* grpc-timeout: 1..8 digits and a unit H M S m u n. */
static bool parse_timeout(const char *v, size_t len, int64_t *ns)
{
  if (len < 2 || len > 9)
    return false;
  int64_t n = 0;
  for (size_t i = 0; i + 1 < len; i++) {
    if (v[i] < '0' || v[i] > '9')
      return false;
    n = n * 10 + (v[i] - '0');
  }
  int64_t unit;
  switch (v[len - 1]) {
  case 'H': unit = 3600LL * 1000000000; break;
  case 'M': unit = 60LL * 1000000000; break;
  case 'S': unit = 1000000000; break;
  case 'm': unit = 1000000; break;
  case 'u': unit = 1000; break;
  case 'n': unit = 1; break;
  default: return false;
  }
  *ns = n > INT64_MAX / 4 / unit ? INT64_MAX / 4 : n * unit;   /* huge: effectively none */
  return true;
}

static bool content_type_is_grpc(const char *v, size_t len)
{
  static const char ct[] = "application/grpc";
  size_t n = sizeof ct - 1;
  if (len < n || strncasecmp(v, ct, n) != 0)
    return false;
  return len == n || v[n] == '+' || v[n] == ';';
}

static void count_status(struct grpc_server *srv, struct grpc_call *call, int status)
{
  if (status < 0 || status >= GRPC_STATUS_COUNT)
    status = GRPC_STATUS_UNKNOWN;
  atomic_fetch_add(&srv->by_status[status], 1);
  atomic_fetch_add(&srv->calls, 1);
  metric_inc(srv->m_status[status]);
  metric_inc(srv->m_calls);
  if (call && call->start_ns)
    metric_observe(srv->m_duration, (double)clock_elapsed_ns(call->start_ns) / 1e9);
}

/* ======================================================================
 * Calls (loop thread unless said otherwise)
 * ====================================================================== */

static struct grpc_call *call_new(struct grpc_conn *c, int32_t stream_id)
{
  struct grpc_call *call = mem_calloc(1, sizeof *call);
  call->conn = c;
  call->srv = c->srv;
  call->stream_id = stream_id;
  call->state = CALL_RECEIVING;
  atomic_init(&call->cancelled, false);
  arena_init(&call->arena, 4096);
  buf_init(&call->msg);
  buf_init(&call->reply);
  call->next = c->calls;
  if (c->calls)
    c->calls->prev = call;
  c->calls = call;
  return call;
}

static void call_release_msg(struct grpc_call *call)
{
  buf_free(&call->msg);
  buf_init(&call->msg);
  if (call->reserved_bytes)
    mem_budget_release(call->srv->cfg.budget, call->reserved_bytes);
  call->reserved_bytes = 0;
}

static void call_free(struct grpc_call *call)
{
  struct grpc_conn *c = call->conn;
  if (!call->answered)
    count_status(call->srv, NULL, GRPC_STATUS_CANCELLED);
  if (call->dispatched)
    atomic_fetch_sub(&call->srv->in_flight, 1);
  if (call->prev)
    call->prev->next = call->next;
  else
    c->calls = call->next;
  if (call->next)
    call->next->prev = call->prev;
  call_release_msg(call);
  buf_free(&call->reply);
  arena_destroy(&call->arena);
  mem_free(call);
}

/* Submits a Trailers-Only response (status in the one HEADERS frame). Used
 * for every failure the server finds itself and for handler failures. */
static void answer_status_details(struct grpc_call *call, int http_status, int status, const char *message,
                                  const char *details_bin)
{
  struct grpc_conn *c = call->conn;
  if (call->answered || call->detached)
    return;
  if (status <= GRPC_STATUS_OK || status >= GRPC_STATUS_COUNT)
    status = GRPC_STATUS_UNKNOWN;
  char http[8], st[8];
  snprintf(http, sizeof http, "%d", http_status);
  snprintf(st, sizeof st, "%d", status);
  struct buf enc;
  buf_init(&enc);
  if (message) {
    size_t len = strlen(message);
    grpc_message_encode(&enc, message, len > GRPC_STATUS_MESSAGE_BYTES_MAX ? GRPC_STATUS_MESSAGE_BYTES_MAX : len);
  }
  nghttp2_nv nv[6];
  size_t n = 0;
  nv[n++] = nv_str(":status", http);
  nv[n++] = nv_str("content-type", "application/grpc");
  nv[n++] = nv_str("grpc-accept-encoding", ACCEPT_ENCODINGS);
  nv[n++] = nv_str("grpc-status", st);
  if (enc.len)
    nv[n++] = nv_make("grpc-message", enc.data, enc.len);
  if (details_bin)
    nv[n++] = nv_str("grpc-status-details-bin", details_bin);
  int rv = nghttp2_submit_response(c->sess, call->stream_id, nv, n, NULL);
  buf_free(&enc);
  if (rv != 0) {
    log_debug("%s: %s: stream %d: cannot submit status: %s", c->srv->name, c->peer, call->stream_id,
              nghttp2_strerror(rv));
    nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, call->stream_id, NGHTTP2_INTERNAL_ERROR);
  }
  call->answered = true;
  count_status(c->srv, call, status);
  log_debug("%s: %s %s -> %s%s%s", c->srv->name, c->peer, call->path ? call->path : "?", grpc_status_name(status),
            message ? ": " : "", message ? message : "");
  if (call->state == CALL_RECEIVING) {
    call->state = CALL_ANSWERED;
    call_release_msg(call);
  }
}

static void answer_status(struct grpc_call *call, int http_status, int status, const char *message)
{
  answer_status_details(call, http_status, status, message, NULL);
}

static ssize_t reply_read(nghttp2_session *session, int32_t stream_id, uint8_t *out, size_t length,
                          uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
  struct grpc_call *call = source->ptr;
  size_t left = call->reply.len - call->reply_pos;
  size_t n = left < length ? left : length;
  memcpy(out, call->reply.data + call->reply_pos, n);
  call->reply_pos += n;
  if (call->reply_pos == call->reply.len) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    nghttp2_nv tr[1] = { nv_str("grpc-status", "0") };
    if (nghttp2_submit_trailer(session, stream_id, tr, 1) != 0)
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;   /* resets the stream */
  }
  return (ssize_t)n;
}

/* The handler's answer goes out: HEADERS, DATA (the prefixed message), trailers. */
static void answer_reply(struct grpc_call *call)
{
  struct grpc_conn *c = call->conn;
  nghttp2_nv nv[4];
  size_t n = 0;
  nv[n++] = nv_str(":status", "200");
  nv[n++] = nv_str("content-type", "application/grpc");
  nv[n++] = nv_str("grpc-accept-encoding", ACCEPT_ENCODINGS);
  if (call->reply_gzip)
    nv[n++] = nv_str("grpc-encoding", "gzip");
  nghttp2_data_provider prd = { .source.ptr = call, .read_callback = reply_read };
  int rv = nghttp2_submit_response(c->sess, call->stream_id, nv, n, &prd);
  if (rv != 0) {
    log_debug("%s: %s: stream %d: cannot submit response: %s", c->srv->name, c->peer, call->stream_id,
              nghttp2_strerror(rv));
    nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, call->stream_id, NGHTTP2_INTERNAL_ERROR);
  }
  call->answered = true;
  call->state = CALL_RESPONDING;
  count_status(c->srv, call, GRPC_STATUS_OK);
  log_debug("%s: %s %s -> OK (%zu bytes)", c->srv->name, c->peer, call->path, call->reply.len);
}

static const struct grpc_method *find_method(struct grpc_server *srv, const char *path)
{
  for (int i = 0; i < srv->method_count; i++)
    if (strcmp(srv->methods[i].path, path) == 0)
      return &srv->methods[i];
  return NULL;
}

/* End of the request headers: everything but the body is known. */
static void call_headers_done(struct grpc_call *call)
{
  struct grpc_server *srv = call->srv;
  call->start_ns = clock_monotonic_ns();
  if (call->early_status) {
    answer_status(call, call->early_http ? call->early_http : 200, call->early_status, call->early_message);
    return;
  }
  if (!call->is_post) {
    answer_status(call, 405, GRPC_STATUS_INTERNAL, "gRPC requires method POST");
    return;
  }
  if (!call->content_type_ok) {
    answer_status(call, 415, GRPC_STATUS_INTERNAL, "content-type is not application/grpc");
    return;
  }
  if (call->bad_timeout) {
    answer_status(call, 200, GRPC_STATUS_INTERNAL, "malformed grpc-timeout");
    return;
  }
  if (call->encoding_unknown) {
    answer_status(call, 200, GRPC_STATUS_UNIMPLEMENTED,
                  "grpc-encoding not supported (supported: identity, gzip, deflate, zstd)");
    return;
  }
  call->method = call->path ? find_method(srv, call->path) : NULL;
  if (!call->method) {
    char *m = arena_printf(&call->arena, "unknown method %.200s", call->path ? call->path : "(none)");
    answer_status(call, 200, GRPC_STATUS_UNIMPLEMENTED, m);
    return;
  }
  if (srv->cfg.admit) {
    const char *why = NULL;
    int st = srv->cfg.admit(srv->cfg.admit_ctx, call, &why);
    if (st != 0) {
      answer_status(call, 200, st, why ? why : "request refused");
      return;
    }
  }
}

static void call_fail_early(struct grpc_call *call, int status, const char *message)
{
  answer_status(call, 200, status, message);
}

/* DATA of the request: the 5-byte prefix, then the message. */
static void call_take_data(struct grpc_call *call, const uint8_t *p, size_t n)
{
  struct grpc_server *srv = call->srv;
  while (n && call->state == CALL_RECEIVING) {
    if (call->messages == 1) {
      call_fail_early(call, GRPC_STATUS_INTERNAL, "more than one request message in a unary call");
      return;
    }
    if (call->prefix_len < PREFIX_BYTES) {
      size_t k = PREFIX_BYTES - call->prefix_len;
      if (k > n)
        k = n;
      memcpy(call->prefix + call->prefix_len, p, k);
      call->prefix_len += k;
      p += k;
      n -= k;
      if (call->prefix_len < PREFIX_BYTES)
        return;
      uint8_t flag = call->prefix[0];
      uint32_t len = (uint32_t)call->prefix[1] << 24 | (uint32_t)call->prefix[2] << 16 |
                     (uint32_t)call->prefix[3] << 8 | (uint32_t)call->prefix[4];
      if (flag > 1) {
        call_fail_early(call, GRPC_STATUS_INTERNAL, "invalid compressed flag in message prefix");
        return;
      }
      if (flag == 1 && call->encoding == COMPRESS_NONE) {
        call_fail_early(call, GRPC_STATUS_INTERNAL, "compressed message without grpc-encoding");
        return;
      }
      if (len > srv->cfg.max_recv_message_bytes) {
        char *m = arena_printf(&call->arena, "received message larger than max (%u vs. %u)", len,
                               srv->cfg.max_recv_message_bytes);
        call_fail_early(call, GRPC_STATUS_RESOURCE_EXHAUSTED, m);
        return;
      }
      if (srv->cfg.budget && len) {
        if (!mem_budget_try_reserve(srv->cfg.budget, len)) {
          call_fail_early(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "server memory budget exhausted, retry later");
          return;
        }
        call->reserved_bytes = len;
      }
      call->msg_len = len;
      call->msg_compressed = flag == 1;
      if (len == 0)
        call->messages = 1;
      continue;
    }
    size_t k = call->msg_len - call->msg.len;
    if (k > n)
      k = n;
    buf_append(&call->msg, p, k);
    p += k;
    n -= k;
    if (call->msg.len == call->msg_len)
      call->messages = 1;
  }
}

static void dispatch(struct grpc_call *call)
{
  struct grpc_conn *c = call->conn;
  struct grpc_server *srv = c->srv;
  call->state = CALL_HANDLING;
  call->dispatched = true;
  atomic_fetch_add(&srv->in_flight, 1);
  c->handling++;
  if (!c->gl) {
    /* Detached: run after nghttp2 returns (grpc_conn_feed). */
    if (c->inline_tail)
      c->inline_tail->inline_next = call;
    else
      c->inline_head = call;
    c->inline_tail = call;
    return;
  }
  if (threadpool_submit(srv->pool, call_task, call) != 0) {
    c->handling--;
    call->state = CALL_RECEIVING;
    answer_status(call, 200, GRPC_STATUS_UNAVAILABLE, "server is shutting down");
  }
}

/* END_STREAM from the client: the request is whole. */
static void call_request_done(struct grpc_call *call)
{
  struct grpc_server *srv = call->srv;
  if (call->state != CALL_RECEIVING)
    return;
  if (call->messages == 0) {
    call_fail_early(call, GRPC_STATUS_INTERNAL,
                    call->prefix_len ? "request message truncated" : "no request message in a unary call");
    return;
  }
  if (call->deadline_ns && clock_monotonic_ns() >= call->deadline_ns) {
    call_fail_early(call, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded before the call started");
    return;
  }
  if (srv->pool && threadpool_queued(srv->pool) >= (uint64_t)srv->cfg.max_queued_calls) {
    call_fail_early(call, GRPC_STATUS_UNAVAILABLE, "server is overloaded, try again later");
    return;
  }
  dispatch(call);
}

/* Back from the handler (loop thread). */
static void on_call_done(struct grpc_call *call)
{
  struct grpc_conn *c = call->conn;
  c->handling--;
  c->last_active_ns = clock_monotonic_ns();
  call_release_msg(call);                      /* the handler is done with the request */
  if (call->detached || c->closing) {
    call_free(call);
  } else if (call->answered) {
    call->state = CALL_ANSWERED;               /* deadline answered meanwhile; drop the reply */
  } else if (call->deadline_ns && clock_monotonic_ns() >= call->deadline_ns) {
    answer_status(call, 200, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");   /* the client gave up */
    call->state = CALL_ANSWERED;
  } else if (call->status == GRPC_STATUS_OK) {
    answer_reply(call);
  } else {
    answer_status_details(call, 200, call->status, call->message, call->details_bin);
    call->state = CALL_ANSWERED;
  }
  conn_update(c);
}

static void on_call_done_task(struct evloop *loop, struct evloop_task *task) { on_call_done(task->ctx); }

/* ======================================================================
 * Handler side
 * ====================================================================== */

static void set_answer(struct grpc_call *call, int status, const char *message)
{
  call->has_answer = true;
  call->status = status;
  call->message = message ? arena_strdup(&call->arena, message) : NULL;
}

/* Decompresses the request message into out; 0 or a status with *why. */
static int call_decompress(struct grpc_call *call, struct buf *out, const char **why)
{
  struct error err;
  struct decompressor *d;
  uint32_t max = call->srv->cfg.max_recv_message_bytes;
  if (decompressor_create(&d, call->encoding, max, &err) != 0) {
    *why = "cannot set up decompression";
    return GRPC_STATUS_INTERNAL;
  }
  int status = 0;
  const char *in = call->msg.data;
  size_t left = call->msg.len;
  for (;;) {
    buf_reserve(out, 64 * 1024);
    size_t used = 0, produced = 0;
    int rc = decompressor_run(d, in, left, &used, out->data + out->len, out->cap - out->len, &produced, &err);
    in += used;
    left -= used;
    out->len += produced;
    if (rc == ERR_QUERY_IS_TOO_LARGE) {
      *why = arena_printf(&call->arena, "decompressed message larger than max (%u)", max);
      status = GRPC_STATUS_RESOURCE_EXHAUSTED;
      break;
    }
    if (rc) {
      *why = arena_printf(&call->arena, "cannot decompress message: %s", err.message);
      status = GRPC_STATUS_INTERNAL;
      break;
    }
    if (left == 0 && produced == 0) {
      if (!decompressor_at_boundary(d)) {
        *why = "compressed message is truncated";
        status = GRPC_STATUS_INTERNAL;
      }
      break;
    }
  }
  decompressor_destroy(d);
  return status;
}

static void call_task(void *arg)
{
  struct grpc_call *call = arg;
  struct grpc_server *srv = call->srv;
  if (atomic_load(&call->cancelled)) {
    set_answer(call, GRPC_STATUS_CANCELLED, "call cancelled before it ran");
  } else if (call->deadline_ns && clock_monotonic_ns() >= call->deadline_ns) {
    set_answer(call, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded before the call ran");
  } else {
    const void *msg = call->msg.data ? call->msg.data : "";
    size_t len = call->msg.len;
    struct buf plain;
    buf_init(&plain);
    int st = 0;
    const char *why = NULL;
    if (call->msg_compressed) {
      st = call_decompress(call, &plain, &why);
      msg = plain.data ? plain.data : "";
      len = plain.len;
    }
    if (st) {
      set_answer(call, st, why);
    } else {
      call->method->fn(call->method->ctx, call, msg, len);
      if (!call->has_answer) {
        log_error("%s: handler for %s returned without an answer", srv->name, call->path);
        set_answer(call, GRPC_STATUS_UNKNOWN, "handler returned no answer");
      }
    }
    buf_free(&plain);
  }
  struct grpc_conn *c = call->conn;
  if (c->gl)
    evloop_post(c->gl->loop, &call->done_task, on_call_done_task, call);   /* the loop owns call again */
  else
    on_call_done(call);
}

const char *grpc_call_method(const struct grpc_call *call) { return call->path; }

struct slice grpc_call_metadata(const struct grpc_call *call, const char *name)
{
  for (int i = 0; i < call->md_count; i++)
    if (slice_eq_nocase(call->md[i].name, name))
      return call->md[i].value;
  return (struct slice){ NULL, 0 };
}

const char *grpc_call_peer(const struct grpc_call *call) { return call->conn->peer; }
int64_t grpc_call_deadline_ns(const struct grpc_call *call) { return call->deadline_ns; }
struct arena *grpc_call_arena(struct grpc_call *call) { return &call->arena; }

bool grpc_call_cancelled(const struct grpc_call *call)
{
  if (atomic_load(&call->cancelled))
    return true;
  return call->deadline_ns && clock_monotonic_ns() >= call->deadline_ns;
}

int grpc_call_reply(struct grpc_call *call, const void *msg, size_t len)
{
  if (call->has_answer)
    return ERR_LOGICAL_ERROR;
  if (len > UINT32_MAX - PREFIX_BYTES) {
    set_answer(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "reply message too large");
    return 0;
  }
  struct grpc_server *srv = call->srv;
  buf_reset(&call->reply);
  bool gzip = srv->cfg.compress_min_bytes > 0 && call->accept_gzip && len >= (size_t)srv->cfg.compress_min_bytes;
  if (gzip) {
    struct compressor *z = NULL;
    struct error err;
    buf_append(&call->reply, "\1\0\0\0\0", PREFIX_BYTES);
    if (compressor_create(&z, COMPRESS_GZIP, 0, &err) != 0 ||
        compressor_run(z, msg, len, false, true, &call->reply, &err) != 0) {
      buf_reset(&call->reply);
      gzip = false;
    }
    if (z)
      compressor_destroy(z);
  }
  if (!gzip) {
    buf_append(&call->reply, "\0\0\0\0\0", PREFIX_BYTES);
    buf_append(&call->reply, msg, len);
  }
  uint32_t wire = (uint32_t)(call->reply.len - PREFIX_BYTES);
  call->reply.data[1] = (char)(wire >> 24);
  call->reply.data[2] = (char)(wire >> 16);
  call->reply.data[3] = (char)(wire >> 8);
  call->reply.data[4] = (char)wire;
  call->reply_gzip = gzip;
  set_answer(call, GRPC_STATUS_OK, NULL);
  return 0;
}

int grpc_call_fail_details(struct grpc_call *call, int status, const char *details_bin, const char *message)
{
  int rc = grpc_call_fail(call, status, "%s", message);
  if (rc == 0 && details_bin)
    call->details_bin = arena_strdup(&call->arena, details_bin);
  return rc;
}

int grpc_call_fail(struct grpc_call *call, int status, const char *fmt, ...)
{
  if (call->has_answer)
    return ERR_LOGICAL_ERROR;
  if (status <= GRPC_STATUS_OK || status >= GRPC_STATUS_COUNT) {
    log_error("%s: handler for %s failed with invalid status %d", call->srv->name, call->path, status);
    status = GRPC_STATUS_UNKNOWN;
  }
  char msg[GRPC_STATUS_MESSAGE_BYTES_MAX + 1];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  set_answer(call, status, msg);
  return 0;
}

/* ======================================================================
 * nghttp2 callbacks (loop thread, inside mem_recv / mem_send)
 * ====================================================================== */

static struct grpc_call *stream_call(nghttp2_session *session, int32_t stream_id)
{
  return nghttp2_session_get_stream_user_data(session, stream_id);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  struct grpc_conn *c = user_data;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  struct grpc_call *call = call_new(c, frame->hd.stream_id);
  nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, call);
  return 0;
}

static void md_add(struct grpc_call *call, const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen)
{
  if (call->md_count == call->md_cap) {
    int cap = call->md_cap ? call->md_cap * 2 : 16;
    call->md = arena_realloc(&call->arena, call->md, (size_t)call->md_cap * sizeof *call->md,
                             (size_t)cap * sizeof *call->md);
    call->md_cap = cap;
  }
  struct md_entry *e = &call->md[call->md_count++];
  e->name = slice_make(arena_strndup(&call->arena, (const char *)name, namelen), namelen);
  e->value = slice_make(arena_strndup(&call->arena, (const char *)value, valuelen), valuelen);
}

static bool name_is(const uint8_t *name, size_t len, const char *lit)
{
  return strlen(lit) == len && memcmp(name, lit, len) == 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;                                  /* client trailers: nothing in them for us */
  struct grpc_call *call = stream_call(session, frame->hd.stream_id);
  if (!call || call->state != CALL_RECEIVING || call->early_status)
    return 0;
  call->md_bytes += namelen + valuelen + 32;
  if (call->md_bytes > GRPC_METADATA_BYTES_MAX) {
    call->early_status = GRPC_STATUS_RESOURCE_EXHAUSTED;
    call->early_message = arena_printf(&call->arena, "request metadata larger than max (%d bytes)",
                                       GRPC_METADATA_BYTES_MAX);
    return 0;
  }
  const char *v = (const char *)value;
  if (namelen && name[0] == ':') {
    if (name_is(name, namelen, ":method"))
      call->is_post = valuelen == 4 && memcmp(v, "POST", 4) == 0;
    else if (name_is(name, namelen, ":path"))
      call->path = arena_strndup(&call->arena, v, valuelen);
    return 0;
  }
  if (name_is(name, namelen, "content-type")) {
    call->content_type_ok = content_type_is_grpc(v, valuelen);
  } else if (name_is(name, namelen, "grpc-encoding")) {
    struct error err;
    struct slice enc = slice_make(v, valuelen);
    if (compress_codec_parse(enc, &call->encoding, &err) != 0 || slice_eq_nocase(slice_trim(enc), "x-gzip"))
      call->encoding_unknown = true;           /* x-gzip is HTTP's name, not gRPC's */
  } else if (name_is(name, namelen, "grpc-accept-encoding")) {
    for (size_t i = 0; i + 4 <= valuelen; i++)
      if (strncasecmp(v + i, "gzip", 4) == 0)
        call->accept_gzip = true;
  } else if (name_is(name, namelen, "grpc-timeout")) {
    int64_t ns;
    if (parse_timeout(v, valuelen, &ns))
      call->deadline_ns = clock_monotonic_ns() + ns;
    else
      call->bad_timeout = true;
  }
  md_add(call, name, namelen, value, valuelen);
  return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
    return 0;
  struct grpc_call *call = stream_call(session, frame->hd.stream_id);
  if (!call)
    return 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
      call->state == CALL_RECEIVING)
    call_headers_done(call);
  if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
    call_request_done(call);
  return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                         void *user_data)
{
  struct grpc_call *call = stream_call(session, stream_id);
  if (call)
    call_take_data(call, data, len);
  return 0;
}

/* After our END_STREAM: if the client is still sending (an early answer),
 * tell it to stop (RFC 9113 §8.1: RST_STREAM with NO_ERROR). */
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
      nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id) == 0)
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
  return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
  struct grpc_call *call = stream_call(session, stream_id);
  if (!call)
    return 0;
  nghttp2_session_set_stream_user_data(session, stream_id, NULL);
  if (call->state == CALL_HANDLING) {
    call->detached = true;
    atomic_store(&call->cancelled, true);
    return 0;
  }
  call_free(call);
  return 0;
}

static void *h2_malloc(size_t size, void *ud) { return mem_alloc(size); }
static void h2_free(void *p, void *ud) { mem_free(p); }
static void *h2_calloc(size_t n, size_t size, void *ud) { return mem_calloc(n, size); }
static void *h2_realloc(void *p, size_t size, void *ud) { return mem_realloc(p, size); }

/* ======================================================================
 * Connections
 * ====================================================================== */

static struct grpc_conn *conn_new(struct grpc_server *srv, struct grpc_loop *gl, int fd, int wfd)
{
  struct grpc_conn *c = mem_calloc(1, sizeof *c);
  c->srv = srv;
  c->gl = gl;
  c->fd = fd;
  c->wfd = wfd;
  c->last_active_ns = clock_monotonic_ns();
  buf_init(&c->wbuf);
  if (fd >= 0) {
    c->rbuf = mem_alloc(RECV_BYTES);
    net_peer_string(fd, c->peer);
  } else {
    snprintf(c->peer, sizeof c->peer, "detached");
  }
  int rv = nghttp2_session_server_new3(&c->sess, srv->callbacks, c, NULL, &srv->h2mem);
  if (rv != 0) {
    log_error("%s: nghttp2_session_server_new3: %s", srv->name, nghttp2_strerror(rv));
    abort();                                   /* only NOMEM, and our allocator aborts first */
  }
  nghttp2_settings_entry iv[] = {
    { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, srv->cfg.max_concurrent_streams },
    { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW_BYTES },
    { NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, GRPC_METADATA_BYTES_MAX },
  };
  nghttp2_submit_settings(c->sess, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
  nghttp2_session_set_local_window_size(c->sess, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW_BYTES);
  atomic_fetch_add(&srv->connections, 1);
  if (gl) {
    c->next = gl->conns;
    if (gl->conns)
      gl->conns->prev = c;
    gl->conns = c;
    gl->conn_count++;
  }
  return c;
}

static void check_loop_done(struct grpc_loop *gl);

static void conn_free(struct grpc_conn *c)
{
  struct grpc_server *srv = c->srv;
  struct grpc_loop *gl = c->gl;
  /* nghttp2_session_del runs no callbacks; the calls are ours to free. */
  nghttp2_session_del(c->sess);
  while (c->calls)
    call_free(c->calls);
  if (c->wfd >= 0 && c->wfd != c->fd)
    close(c->wfd);
  if (c->fd >= 0)
    close(c->fd);
  mem_free(c->rbuf);
  buf_free(&c->wbuf);
  atomic_fetch_sub(&srv->connections, 1);
  if (gl) {
    if (c->prev)
      c->prev->next = c->next;
    else
      gl->conns = c->next;
    if (c->next)
      c->next->prev = c->prev;
    gl->conn_count--;
  }
  mem_free(c);
  if (gl)
    check_loop_done(gl);
}

/* Hard close: no more I/O; running handlers see their calls cancelled. */
static void conn_set_closing(struct grpc_conn *c)
{
  c->closing = true;
  c->session_over = true;
  for (struct grpc_call *call = c->calls; call; call = call->next)
    atomic_store(&call->cancelled, true);
}

/* Gathers nghttp2's output into wbuf. */
static void conn_fill_output(struct grpc_conn *c, struct buf *out)
{
  while (out->len < SEND_CHUNK_BYTES) {
    const uint8_t *p;
    ssize_t n = nghttp2_session_mem_send(c->sess, &p);
    if (n < 0) {
      log_debug("%s: %s: nghttp2_session_mem_send: %s", c->srv->name, c->peer, nghttp2_strerror((int)n));
      conn_set_closing(c);
      return;
    }
    if (n == 0)
      return;
    buf_append(out, p, (size_t)n);
  }
}

/* Client bytes into nghttp2. A fatal error ends the session: GOAWAY is
 * queued (when the preface was good) and nothing more is read. */
static void conn_input(struct grpc_conn *c, const void *data, size_t len)
{
  if (c->session_over)
    return;
  ssize_t rv = nghttp2_session_mem_recv(c->sess, data, len);
  if (rv < 0) {
    log_debug("%s: %s: HTTP/2 error: %s", c->srv->name, c->peer, nghttp2_strerror((int)rv));
    c->session_over = true;
    nghttp2_session_terminate_session(c->sess, NGHTTP2_PROTOCOL_ERROR);
  }
}

static void on_recv(struct evloop *loop, struct evloop_op *op, int64_t res);
static void on_sent(struct evloop *loop, struct evloop_op *op, int64_t res);

/* Decides what the connection does next: send pending output, keep a
 * receive posted (unless handlers are saturated), or close. May free c. */
static void conn_update(struct grpc_conn *c)
{
  struct grpc_loop *gl = c->gl;
  struct grpc_server *srv = c->srv;
  if (!gl)
    return;                                    /* detached: grpc_conn_feed pulls output */
  if (!c->closing && !c->send_op.pending) {
    buf_reset(&c->wbuf);
    conn_fill_output(c, &c->wbuf);
    if (!c->closing && c->wbuf.len)
      evloop_send(gl->loop, &c->send_op, c->wfd, c->wbuf.data, c->wbuf.len, on_sent, c);
  }
  if (!c->closing && !c->send_op.pending && !nghttp2_session_want_read(c->sess) &&
      !nghttp2_session_want_write(c->sess))
    conn_set_closing(c);                       /* GOAWAY exchanged and streams done, or a fatal error sent */
  if (!c->closing && !c->session_over && !c->recv_op.pending &&
      c->handling < (int)srv->cfg.max_concurrent_streams && nghttp2_session_want_read(c->sess))
    evloop_recv(gl->loop, &c->recv_op, c->fd, c->rbuf, RECV_BYTES, on_recv, c);
  if (c->session_over && !c->closing && !c->send_op.pending && !nghttp2_session_want_write(c->sess))
    conn_set_closing(c);
  if (!c->closing)
    return;
  if (c->recv_op.pending && !c->recv_cancelled) {
    c->recv_cancelled = true;
    evloop_cancel(gl->loop, &c->recv_op);
  }
  if (c->send_op.pending && !c->send_cancelled) {
    c->send_cancelled = true;
    evloop_cancel(gl->loop, &c->send_op);
  }
  if (!c->recv_op.pending && !c->send_op.pending && c->handling == 0)
    conn_free(c);
}

static void on_recv(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct grpc_conn *c = op->ctx;
  if (!c->closing) {
    if (res <= 0) {
      if (res < 0 && res != -ECANCELED && res != -ECONNRESET)
        metric_inc(c->srv->m_network);
      conn_set_closing(c);
    } else {
      metric_add(c->srv->m_bytes_in, (uint64_t)res);
      c->last_active_ns = clock_monotonic_ns();
      conn_input(c, c->rbuf, (size_t)res);
    }
  }
  conn_update(c);
}

static void on_sent(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct grpc_conn *c = op->ctx;
  if (res < 0) {
    if (res != -ECANCELED && res != -EPIPE && res != -ECONNRESET)
      metric_inc(c->srv->m_network);
    conn_set_closing(c);
  } else {
    metric_add(c->srv->m_bytes_out, (uint64_t)res);
    c->last_active_ns = clock_monotonic_ns();
  }
  conn_update(c);
}

/* Deadlines and idleness, as of now_ns. */
static void conn_check_timers(struct grpc_conn *c, int64_t now_ns)
{
  if (c->closing)
    return;
  for (struct grpc_call *call = c->calls, *next; call; call = next) {
    next = call->next;
    if (!call->deadline_ns || now_ns < call->deadline_ns || call->answered || call->detached)
      continue;
    if (call->state != CALL_RECEIVING && call->state != CALL_HANDLING)
      continue;
    atomic_store(&call->cancelled, true);
    answer_status(call, 200, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
  }
  int64_t idle_ns = (int64_t)c->srv->cfg.idle_timeout_ms * 1000000;
  if (c->handling == 0 && now_ns - c->last_active_ns > idle_ns) {
    if (!c->session_over) {
      log_debug("%s: %s: idle for %d ms, closing", c->srv->name, c->peer, c->srv->cfg.idle_timeout_ms);
      c->session_over = true;
      nghttp2_session_terminate_session(c->sess, NGHTTP2_NO_ERROR);
      c->last_active_ns = now_ns;              /* one more period to get the GOAWAY out */
    } else {
      conn_set_closing(c);                     /* the client does not even read */
    }
  }
}

/* Graceful: GOAWAY naming the last stream we took; those finish, later
 * ones are refused (the client retries them elsewhere). */
static void conn_goaway(struct grpc_conn *c)
{
  if (c->closing || c->session_over)
    return;
  nghttp2_submit_goaway(c->sess, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->sess),
                        NGHTTP2_NO_ERROR, NULL, 0);
}

/* ---- detached connections (fuzzing) */

struct grpc_conn *grpc_conn_create_detached(struct grpc_server *srv) { return conn_new(srv, NULL, -1, -1); }

static void run_inline(struct grpc_conn *c)
{
  while (c->inline_head) {
    struct grpc_call *call = c->inline_head;
    c->inline_head = call->inline_next;
    if (!c->inline_head)
      c->inline_tail = NULL;
    call->inline_next = NULL;
    call_task(call);                           /* ends in on_call_done */
  }
}

int grpc_conn_feed(struct grpc_conn *c, const void *data, size_t len, struct buf *out)
{
  if (len)
    conn_input(c, data, len);
  run_inline(c);
  size_t before;
  do {
    before = out->len;
    conn_fill_output(c, out);
  } while (out->len != before && !c->closing);
  if (c->closing || (!nghttp2_session_want_read(c->sess) && !nghttp2_session_want_write(c->sess)))
    return -1;
  return c->session_over ? -1 : 0;
}

void grpc_conn_tick(struct grpc_conn *c, int64_t now_ns) { conn_check_timers(c, now_ns); }
void grpc_conn_goaway(struct grpc_conn *c) { conn_goaway(c); }

void grpc_conn_destroy(struct grpc_conn *c)
{
  /* Queued calls never ran: they go back as if their handler had returned. */
  while (c->inline_head) {
    struct grpc_call *call = c->inline_head;
    c->inline_head = call->inline_next;
    c->handling--;
    call_free(call);
  }
  c->inline_tail = NULL;
  conn_free(c);
}

/* ======================================================================
 * Loops
 * ====================================================================== */

static void check_loop_done(struct grpc_loop *gl)
{
  if (!gl->stopping || gl->listen_fd >= 0 || gl->conn_count != 0)
    return;
  if (gl->tick_op.pending) {
    if (!gl->tick_cancelled) {
      gl->tick_cancelled = true;
      evloop_cancel(gl->loop, &gl->tick_op);
    }
    return;                                    /* on_tick comes back here */
  }
  if (gl->done)
    return;
  gl->done = true;
  evloop_stop(gl->loop);
  struct grpc_server *srv = gl->srv;
  pthread_mutex_lock(&srv->lock);
  srv->loops_done++;
  pthread_cond_broadcast(&srv->cond);
  pthread_mutex_unlock(&srv->lock);
}

static void close_listener(struct grpc_loop *gl)
{
  if (gl->listen_fd >= 0) {
    close(gl->listen_fd);
    gl->listen_fd = -1;
  }
}

static void on_accept(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct grpc_loop *gl = op->ctx;
  struct grpc_server *srv = gl->srv;
  if (res < 0) {
    if (res == -ECANCELED || gl->stopping) {
      close_listener(gl);
      check_loop_done(gl);
      return;
    }
    if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
      log_warn("%s: accept: %s; pausing accepts briefly", srv->name, strerror((int)-res));
      gl->accept_paused = true;
      return;
    }
    evloop_accept(loop, &gl->accept_op, gl->listen_fd, on_accept, gl);
    return;
  }
  int fd = (int)res;
  if (gl->stopping) {
    close(fd);
  } else if (atomic_load(&srv->connections) >= srv->cfg.max_connections) {
    metric_inc(srv->m_refused);
    log_debug("%s: too many connections, closing a new one", srv->name);
    close(fd);
  } else {
    int wfd = fd;
    if (evloop_get_backend(loop) == EVLOOP_EPOLL)
      wfd = dup(fd);                           /* invariant 4 */
    if (wfd < 0) {
      log_warn("%s: dup: %s", srv->name, strerror(errno));
      close(fd);
    } else {
      net_set_nodelay(fd);
      struct grpc_conn *c = conn_new(srv, gl, fd, wfd);
      conn_update(c);                          /* sends our SETTINGS, posts the first receive */
    }
  }
  if (!gl->stopping) {
    evloop_accept(loop, &gl->accept_op, gl->listen_fd, on_accept, gl);
  } else {
    close_listener(gl);
    check_loop_done(gl);
  }
}

static void on_tick(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct grpc_loop *gl = op->ctx;
  if (res == -ECANCELED || (gl->stopping && gl->listen_fd < 0 && gl->conn_count == 0)) {
    check_loop_done(gl);
    return;
  }
  int64_t now = clock_monotonic_ns();
  for (struct grpc_conn *c = gl->conns, *next; c; c = next) {
    next = c->next;
    conn_check_timers(c, now);
    conn_update(c);                            /* may free c */
  }
  if (gl->done)
    return;                                    /* the last connection just closed during a stop */
  if (gl->accept_paused && !gl->stopping && gl->listen_fd >= 0) {
    gl->accept_paused = false;
    evloop_accept(loop, &gl->accept_op, gl->listen_fd, on_accept, gl);
  }
  evloop_timer(loop, &gl->tick_op, TICK_MS, on_tick, gl);
}

static void loop_begin_stop(struct evloop *loop, struct evloop_task *task)
{
  struct grpc_loop *gl = task->ctx;
  gl->stopping = true;
  if (gl->accept_op.pending)
    evloop_cancel(loop, &gl->accept_op);
  else
    close_listener(gl);
  for (struct grpc_conn *c = gl->conns, *next; c; c = next) {
    next = c->next;
    conn_goaway(c);
    conn_update(c);
  }
  check_loop_done(gl);
}

static void loop_force_stop(struct evloop *loop, struct evloop_task *task)
{
  struct grpc_loop *gl = task->ctx;
  for (struct grpc_conn *c = gl->conns, *next; c; c = next) {
    next = c->next;
    conn_set_closing(c);
    conn_update(c);
  }
  check_loop_done(gl);
}

static void *loop_main(void *arg)
{
  struct grpc_loop *gl = arg;
  struct grpc_server *srv = gl->srv;
  char tname[16];
  snprintf(tname, sizeof tname, "%.8s-io-%d", srv->name, gl->index);
  log_set_thread_name(tname);
  pthread_setname_np(pthread_self(), tname);
  /* Created here: io_uring ties a ring to the thread that creates it. */
  gl->start_rc = evloop_create(&gl->loop, srv->cfg.backend, &gl->start_err);
  pthread_mutex_lock(&srv->lock);
  srv->loops_started++;
  pthread_cond_broadcast(&srv->cond);
  pthread_mutex_unlock(&srv->lock);
  if (gl->start_rc)
    return NULL;
  evloop_accept(gl->loop, &gl->accept_op, gl->listen_fd, on_accept, gl);
  evloop_timer(gl->loop, &gl->tick_op, TICK_MS, on_tick, gl);
  int rc = evloop_run(gl->loop);
  if (rc < 0)
    log_error("%s: event loop %d failed: %s", srv->name, gl->index, strerror(-rc));
  return NULL;
}

/* ======================================================================
 * Server lifetime
 * ====================================================================== */

static double gauge_connections(void *ctx) { return (double)atomic_load(&((struct grpc_server *)ctx)->connections); }
static double gauge_in_flight(void *ctx) { return (double)atomic_load(&((struct grpc_server *)ctx)->in_flight); }

static void register_metrics(struct grpc_server *srv)
{
  struct metrics *m = srv->cfg.metrics;
  if (!m)
    return;
  char labels[96], kl[160];
  snprintf(labels, sizeof labels, "server=\"%s\"", srv->name);
  srv->m_calls = metrics_counter(m, "spanhouse_grpc_calls_total", labels, "gRPC calls answered (any status).");
  for (int s = 0; s < GRPC_STATUS_COUNT; s++) {
    snprintf(kl, sizeof kl, "%s,code=\"%s\"", labels, status_names[s]);
    srv->m_status[s] = metrics_counter(m, "spanhouse_grpc_responses_total", kl, "gRPC calls by final status.");
  }
  srv->m_bytes_in = metrics_counter(m, "spanhouse_grpc_received_bytes_total", labels, "Bytes received from gRPC clients.");
  srv->m_bytes_out = metrics_counter(m, "spanhouse_grpc_sent_bytes_total", labels, "Bytes sent to gRPC clients.");
  snprintf(kl, sizeof kl, "%s,kind=\"refused\"", labels);
  srv->m_refused = metrics_counter(m, "spanhouse_grpc_errors_total", kl, "gRPC connection errors by kind.");
  snprintf(kl, sizeof kl, "%s,kind=\"network\"", labels);
  srv->m_network = metrics_counter(m, "spanhouse_grpc_errors_total", kl, "gRPC connection errors by kind.");
  srv->m_duration = metrics_histogram(m, "spanhouse_grpc_call_duration_seconds", labels,
                                      "gRPC call duration from request headers to answer.",
                                      metrics_seconds_buckets, metrics_seconds_bucket_count);
  metrics_gauge_fn(m, "spanhouse_grpc_connections", labels, "Open gRPC connections.", gauge_connections, srv);
  metrics_gauge_fn(m, "spanhouse_grpc_calls_in_flight", labels, "gRPC calls handed to handlers and not finished.",
                   gauge_in_flight, srv);
}

int grpc_server_create(struct grpc_server **out, const struct grpc_server_config *cfg, struct error *err)
{
  struct grpc_server *srv = mem_calloc(1, sizeof *srv);
  srv->cfg = *cfg;
  snprintf(srv->name, sizeof srv->name, "%s", cfg->name && *cfg->name ? cfg->name : "grpc");
  srv->cfg.name = srv->name;
  snprintf(srv->host, sizeof srv->host, "%s", cfg->host ? cfg->host : "");
  srv->cfg.host = srv->host;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (srv->cfg.loop_threads <= 0)
    srv->cfg.loop_threads = cpus > 0 ? (int)cpus : 1;
  if (srv->cfg.handler_threads <= 0)
    srv->cfg.handler_threads = srv->cfg.loop_threads * 4 > 16 ? srv->cfg.loop_threads * 4 : 16;
  if (srv->cfg.max_recv_message_bytes == 0)
    srv->cfg.max_recv_message_bytes = GRPC_MESSAGE_BYTES_MAX;
  if (srv->cfg.max_concurrent_streams == 0)
    srv->cfg.max_concurrent_streams = GRPC_CONCURRENT_STREAMS_MAX;
  if (srv->cfg.max_connections <= 0)
    srv->cfg.max_connections = GRPC_CONNECTIONS_MAX;
  if (srv->cfg.max_queued_calls <= 0)
    srv->cfg.max_queued_calls = 4096;
  if (srv->cfg.idle_timeout_ms <= 0)
    srv->cfg.idle_timeout_ms = 300000;
  if (srv->cfg.stop_timeout_ms <= 0)
    srv->cfg.stop_timeout_ms = 30000;
  if (srv->cfg.max_recv_message_bytes > UINT32_MAX - PREFIX_BYTES) {
    int rc = error_set(err, ERR_BAD_ARGUMENTS, "%s: max_recv_message_bytes too large", srv->name);
    mem_free(srv);
    return rc;
  }
  srv->h2mem = (nghttp2_mem){ .mem_user_data = srv, .malloc = h2_malloc, .free = h2_free, .calloc = h2_calloc,
                              .realloc = h2_realloc };
  nghttp2_session_callbacks_new(&srv->callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(srv->callbacks, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(srv->callbacks, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(srv->callbacks, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(srv->callbacks, on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(srv->callbacks, on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(srv->callbacks, on_stream_close);
  pthread_mutex_init(&srv->lock, NULL);
  pthread_cond_init(&srv->cond, NULL);
  register_metrics(srv);
  *out = srv;
  return 0;
}

int grpc_server_register(struct grpc_server *srv, const char *path, grpc_handler_fn fn, void *ctx, struct error *err)
{
  if (srv->started)
    return error_set(err, ERR_LOGICAL_ERROR, "%s: methods must be registered before start", srv->name);
  if (!path || path[0] != '/' || !strchr(path + 1, '/') || !fn)
    return error_set(err, ERR_BAD_ARGUMENTS, "%s: bad gRPC method path '%s'", srv->name, path ? path : "");
  if (find_method(srv, path))
    return error_set(err, ERR_BAD_ARGUMENTS, "%s: method %s registered twice", srv->name, path);
  if (srv->method_count == srv->method_cap) {
    srv->method_cap = srv->method_cap ? srv->method_cap * 2 : 8;
    srv->methods = mem_realloc(srv->methods, (size_t)srv->method_cap * sizeof *srv->methods);
  }
  srv->methods[srv->method_count++] = (struct grpc_method){ mem_strdup(path), fn, ctx };
  return 0;
}

int grpc_server_start(struct grpc_server *srv, struct error *err)
{
  int rc = 0;
  const struct grpc_server_config *cfg = &srv->cfg;
  if (srv->started)
    return error_set(err, ERR_LOGICAL_ERROR, "%s: already started", srv->name);
  srv->started = true;
  if (srv->cfg.backend == EVLOOP_AUTO)
    srv->cfg.backend = evloop_backend_select(EVLOOP_AUTO);
  char pool_name[12];
  snprintf(pool_name, sizeof pool_name, "%.6s-h", srv->name);
  rc = threadpool_create(&srv->pool, cfg->handler_threads, pool_name, err);
  if (rc)
    return rc;
  srv->loops = mem_calloc((size_t)cfg->loop_threads, sizeof *srv->loops);
  uint16_t port = cfg->port;
  for (int i = 0; i < cfg->loop_threads; i++) {
    struct grpc_loop *gl = &srv->loops[i];
    gl->srv = srv;
    gl->index = i;
    gl->listen_fd = -1;
    srv->loop_count++;
    rc = net_listen(srv->cfg.host, port, true, LISTEN_BACKLOG, &gl->listen_fd, err);
    if (rc)
      return rc;
    if (port == 0) {
      int p = net_local_port(gl->listen_fd);
      if (p <= 0)
        return error_set(err, ERR_NETWORK_ERROR, "cannot read the listening port: %s", strerror(-p));
      port = (uint16_t)p;
    }
  }
  srv->port = port;
  int threads = 0;
  for (int i = 0; i < srv->loop_count && !rc; i++) {
    struct grpc_loop *gl = &srv->loops[i];
    int e = pthread_create(&gl->thread, NULL, loop_main, gl);
    if (e)
      rc = error_set(err, ERR_LOGICAL_ERROR, "cannot start network thread: %s", strerror(e));
    else
      gl->thread_started = true, threads++;
  }
  pthread_mutex_lock(&srv->lock);
  while (srv->loops_started < threads)
    pthread_cond_wait(&srv->cond, &srv->lock);
  pthread_mutex_unlock(&srv->lock);
  if (rc)
    return rc;
  for (int i = 0; i < srv->loop_count; i++)
    if (srv->loops[i].start_rc) {
      *err = srv->loops[i].start_err;
      return srv->loops[i].start_rc;
    }
  log_info("%s: gRPC listening on %s:%u (%d network threads on %s, %d handler threads, %d methods)", srv->name,
           srv->cfg.host && *srv->cfg.host ? srv->cfg.host : "*", (unsigned)port, srv->loop_count,
           evloop_backend_name(srv->cfg.backend), cfg->handler_threads, srv->method_count);
  return 0;
}

uint16_t grpc_server_port(const struct grpc_server *srv) { return srv->port; }

/* Waits until every running loop finished, or until deadline_ns (0 = forever). */
static bool wait_loops_done(struct grpc_server *srv, int64_t deadline_ns)
{
  pthread_mutex_lock(&srv->lock);
  while (srv->loops_done < srv->loops_running) {
    int64_t left = deadline_ns ? deadline_ns - clock_monotonic_ns() : 1000000000;
    if (deadline_ns && left <= 0)
      break;
    if (left > 1000000000)
      left = 1000000000;
    struct timespec ts = clock_realtime_deadline(left);
    pthread_cond_timedwait(&srv->cond, &srv->lock, &ts);
  }
  bool done = srv->loops_done >= srv->loops_running;
  pthread_mutex_unlock(&srv->lock);
  return done;
}

void grpc_server_stop(struct grpc_server *srv)
{
  if (!srv || !srv->started || srv->stopped)
    return;
  srv->stopped = true;
  srv->loops_running = 0;
  for (int i = 0; i < srv->loop_count; i++) {
    struct grpc_loop *gl = &srv->loops[i];
    if (gl->thread_started && gl->loop && gl->start_rc == 0) {
      srv->loops_running++;
      evloop_post(gl->loop, &gl->stop_task, loop_begin_stop, gl);
    }
  }
  int64_t deadline = clock_monotonic_ns() + (int64_t)srv->cfg.stop_timeout_ms * 1000000;
  if (!wait_loops_done(srv, deadline)) {
    log_warn("%s: calls still running after %d ms; closing their connections", srv->name, srv->cfg.stop_timeout_ms);
    for (int i = 0; i < srv->loop_count; i++) {
      struct grpc_loop *gl = &srv->loops[i];
      if (gl->thread_started && gl->loop && gl->start_rc == 0)
        evloop_post(gl->loop, &gl->force_task, loop_force_stop, gl);
    }
    wait_loops_done(srv, 0);                   /* handlers still have to return */
  }
  for (int i = 0; i < srv->loop_count; i++) {
    struct grpc_loop *gl = &srv->loops[i];
    if (gl->thread_started) {
      pthread_join(gl->thread, NULL);
      gl->thread_started = false;
    }
  }
  if (srv->pool)
    threadpool_shutdown(srv->pool);
  log_info("%s: gRPC stopped after %llu calls", srv->name, (unsigned long long)atomic_load(&srv->calls));
}

void grpc_server_destroy(struct grpc_server *srv)
{
  if (!srv)
    return;
  grpc_server_stop(srv);
  metrics_forget_ctx(srv->cfg.metrics, srv);
  for (int i = 0; i < srv->loop_count; i++) {
    struct grpc_loop *gl = &srv->loops[i];
    close_listener(gl);
    evloop_destroy(gl->loop);
  }
  mem_free(srv->loops);
  threadpool_destroy(srv->pool);
  for (int i = 0; i < srv->method_count; i++)
    mem_free(srv->methods[i].path);
  mem_free(srv->methods);
  nghttp2_session_callbacks_del(srv->callbacks);
  pthread_cond_destroy(&srv->cond);
  pthread_mutex_destroy(&srv->lock);
  mem_free(srv);
}

void grpc_server_get_stats(struct grpc_server *srv, struct grpc_server_stats *out)
{
  memset(out, 0, sizeof *out);
  out->connections = (uint64_t)atomic_load(&srv->connections);
  out->in_flight = atomic_load(&srv->in_flight);
  out->calls = atomic_load(&srv->calls);
  for (int s = 0; s < GRPC_STATUS_COUNT; s++)
    out->by_status[s] = atomic_load(&srv->by_status[s]);
}
