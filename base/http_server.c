/* HTTP/1.1 server; see http_server.h and base/README.md.
 *
 * Connection states and the functions that move between them:
 *
 *   accept --on_accept--> READING --process_input--> HANDLING --on_handler_done--> READING (keep-alive)
 *                           |  head error / 413            | handler done, close   \-> LINGERING / closed
 *                           v                              v
 *                        SENDING --on_error_sent--> LINGERING --EOF/timeout--> closed (close_conn)
 *
 * Invariants:
 *  1. A connection belongs to its loop thread except while HANDLING, when
 *     only the handler thread touches it (the loop only reads ->state and may
 *     shutdown(2) the fd when a stop times out). The handoff both ways is a
 *     threadpool submit / evloop_post, which order the memory.
 *  2. At most one evloop op per connection is pending, and the connection is
 *     freed only from that op's callback or when no op is pending.
 *  3. rbuf[rpos..len) always holds received bytes not yet consumed: the rest
 *     of a body, or the start of the next pipelined request.
 *  4. Sockets stay non-blocking; handler-thread I/O waits with poll and a
 *     timeout (net_*_timeout). */
#include "base/http_server.h"
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
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
  RESPONSE_FLUSH_BYTES = 64 * 1024,   /* buffered body before streaming starts */
  RECV_CHUNK_BYTES     = 16 * 1024,
  DECODE_IN_BYTES      = 64 * 1024,   /* compressed-body input buffer */
  DRAIN_BYTES_MAX      = 4 * 1024 * 1024, /* unread body we drain to keep a connection */
  LINGER_MS            = 5000,        /* read-and-discard after an error response */
  TICK_MS              = 500,         /* idle/linger scan period */
  REFUSING_MAX         = 64,          /* refused connections still being answered 503 */
  LISTEN_BACKLOG       = 1024,
};

enum conn_state { CONN_READING, CONN_HANDLING, CONN_SENDING, CONN_LINGERING };
enum conn_after { AFTER_KEEPALIVE, AFTER_CLOSE, AFTER_LINGER };

enum err_kind { EK_BAD_REQUEST, EK_TOO_LARGE, EK_TIMEOUT, EK_REFUSED, EK_NETWORK, EK_HANDLER, EK_COUNT };
static const char *const err_kind_names[EK_COUNT] = {
  "bad_request", "too_large", "timeout", "refused", "network", "handler",
};

struct http_loop {
  struct http_server *srv;
  struct evloop *loop;
  pthread_t thread;
  bool thread_started;
  int index;
  int listen_fd;
  bool accept_paused;                /* EMFILE & co: retried on the next tick */
  struct evloop_op accept_op;
  struct evloop_op tick_op;
  struct http_conn *conns;           /* this loop's connections (loop thread only) */
  int conn_count;
  bool stopping;
  int start_rc;                      /* evloop_create result, reported to the starter */
  struct error start_err;
  struct evloop_task stop_task;
  struct evloop_task force_task;
};

struct body_state {
  bool chunked;
  bool eof;                          /* raw (de-framed) body fully read */
  bool continue_sent;
  bool decoder_ready;                /* Content-Encoding looked at */
  uint64_t cl_left;                  /* Content-Length bytes not yet read */
  uint64_t raw_bytes;                /* de-framed body bytes read */
  struct http_chunked ch;
  int err;                           /* sticky ERR_ code, 0 = fine */
  struct error error;
  struct decompressor *dec;
  bool dec_in_eof;
  char *zin;                         /* compressed input, DECODE_IN_BYTES, in the arena */
  size_t zin_pos, zin_len;
};

struct http_response {
  struct http_conn *conn;
  int status;
  bool begun, started, ended, close_after, no_body, chunked, raw_until_close;
  bool hold;                         /* buffer the whole body; Content-Length at end */
  int err;                           /* sticky send error */
  struct buf head_extra;             /* "Name: value\r\n" lines */
  struct buf out;                    /* body bytes not yet sent */
  enum compress_codec codec;
  struct compressor *enc;
  uint64_t body_sent;
};

struct http_conn {
  struct http_conn *prev, *next;
  struct http_loop *hl;
  struct http_server *srv;
  int fd;
  enum conn_state state;
  enum conn_after after;
  bool counted;                      /* counts against max_connections */
  bool cancelled;                    /* evloop_cancel requested for the pending op */
  struct evloop_op op;
  struct evloop_task done_task;
  int64_t last_active_ns;
  int64_t linger_deadline_ns;
  struct buf rbuf;                   /* received bytes; [rpos, len) unconsumed */
  size_t rpos;
  struct http_parser parser;
  struct http_head head;             /* loop-side parse */
  struct buf ebuf;                   /* server-generated error response */
  char peer[NET_ADDR_STR_MAX];
  struct arena arena;
  struct http_request req;
  struct http_response resp;
  struct body_state body;
};

struct http_server {
  struct http_server_config cfg;
  char name[32];
  struct http_loop *loops;
  int loop_count;
  struct threadpool *pool;
  uint16_t port;
  atomic_bool stopping;
  bool stopped;
  _Atomic int connections;
  _Atomic int refusing;
  _Atomic uint64_t requests;
  pthread_mutex_t lock;
  pthread_cond_t idle;               /* signalled when in_flight drops to 0 */
  int in_flight;                     /* guarded by lock */
  int loops_started;                 /* guarded by lock; loop threads past set-up */
  struct metric_counter *m_requests, *m_bytes_in, *m_bytes_out, *m_errors[EK_COUNT];
  struct metric_histogram *m_duration;
};

static void conn_start_recv(struct http_conn *c);
static void process_input(struct http_conn *c);
static void close_conn(struct http_conn *c);
static void start_linger(struct http_conn *c);

static void count_error(struct http_server *srv, enum err_kind k) { metric_inc(srv->m_errors[k]); }

static enum err_kind kind_of_status(int status)
{
  if (status == 413 || status == 414 || status == 431)
    return EK_TOO_LARGE;
  if (status == 408)
    return EK_TIMEOUT;
  if (status == 503)
    return EK_REFUSED;
  return status >= 500 ? EK_HANDLER : EK_BAD_REQUEST;
}

/* ======================================================================
 * Loop side
 * ====================================================================== */

/* A stopping loop ends once its listener and connections are gone; the
 * tick timer is cancelled first so no op is left pending. */
static void check_loop_done(struct http_loop *hl)
{
  if (!hl->stopping || hl->listen_fd >= 0 || hl->conn_count != 0)
    return;
  if (hl->tick_op.pending)
    evloop_cancel(hl->loop, &hl->tick_op);
  else
    evloop_stop(hl->loop);
}

static void close_conn(struct http_conn *c)
{
  struct http_loop *hl = c->hl;
  struct http_server *srv = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    hl->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  hl->conn_count--;
  close(c->fd);
  if (c->counted)
    atomic_fetch_sub(&srv->connections, 1);
  else
    atomic_fetch_sub(&srv->refusing, 1);
  buf_free(&c->rbuf);
  buf_free(&c->ebuf);
  buf_free(&c->resp.head_extra);
  buf_free(&c->resp.out);
  arena_destroy(&c->arena);
  mem_free(c);
  check_loop_done(hl);
}

/* Asks the pending op to finish; its callback then closes. */
static void cancel_conn(struct http_conn *c)
{
  if (c->op.pending && !c->cancelled) {
    c->cancelled = true;
    evloop_cancel(c->hl->loop, &c->op);
  }
}

static void on_linger_recv(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct http_conn *c = op->ctx;
  if (res <= 0 || c->cancelled || clock_monotonic_ns() > c->linger_deadline_ns) {
    close_conn(c);
    return;
  }
  metric_add(c->srv->m_bytes_in, (uint64_t)res);
  evloop_recv(loop, &c->op, c->fd, c->rbuf.data, c->rbuf.cap - 1, on_linger_recv, c);
}

/* After an error response: stop sending, and read (discarding) what the
 * client still sends for a while, so closing does not reset the connection
 * before the client has read our answer. */
static void start_linger(struct http_conn *c)
{
  c->state = CONN_LINGERING;
  c->linger_deadline_ns = clock_monotonic_ns() + (int64_t)LINGER_MS * 1000000;
  shutdown(c->fd, SHUT_WR);
  buf_reset(&c->rbuf);
  c->rpos = 0;
  buf_reserve(&c->rbuf, 64 * 1024);
  if (c->cancelled) {
    close_conn(c);
    return;
  }
  evloop_recv(c->hl->loop, &c->op, c->fd, c->rbuf.data, c->rbuf.cap - 1, on_linger_recv, c);
}

static void on_error_sent(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct http_conn *c = op->ctx;
  if (res < 0) {
    close_conn(c);
    return;
  }
  metric_add(c->srv->m_bytes_out, (uint64_t)res);
  start_linger(c);
}

/* Answers from the loop with a short plain-text body and closes. */
static void send_error(struct http_conn *c, int status, const char *why)
{
  count_error(c->srv, kind_of_status(status));
  log_debug("%s: %s: %d %s", c->srv->name, c->peer, status, why);
  buf_reset(&c->ebuf);
  http_format_status_line(&c->ebuf, status);
  buf_printf(&c->ebuf,
             "Content-Type: text/plain; charset=UTF-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
             strlen(why) + 1, why);
  c->state = CONN_SENDING;
  evloop_send(c->hl->loop, &c->op, c->fd, c->ebuf.data, c->ebuf.len, on_error_sent, c);
}

static void handle_task(void *arg);

static void dispatch(struct http_conn *c)
{
  struct http_server *srv = c->srv;
  c->state = CONN_HANDLING;
  pthread_mutex_lock(&srv->lock);
  srv->in_flight++;
  pthread_mutex_unlock(&srv->lock);
  if (threadpool_submit(srv->pool, handle_task, c) != 0) {
    /* Only during teardown; answer instead of leaking the connection. */
    pthread_mutex_lock(&srv->lock);
    if (--srv->in_flight == 0)
      pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
    send_error(c, 503, "Server is shutting down");
  }
}

static void process_input(struct http_conn *c)
{
  int rc = http_parse_head(&c->parser, c->rbuf.data, c->rbuf.len, &c->head);
  if (rc < 0) {
    send_error(c, -rc, c->parser.error ? c->parser.error : "Bad request");
    return;
  }
  if (rc == 0) {
    if (c->hl->stopping) {
      close_conn(c);
      return;
    }
    conn_start_recv(c);
    return;
  }
  uint64_t max_body = c->srv->cfg.max_body_bytes;
  if (c->head.has_content_length && c->head.content_length > max_body) {
    char why[128];
    snprintf(why, sizeof why, "Request body of %llu bytes exceeds the limit of %llu bytes",
             (unsigned long long)c->head.content_length, (unsigned long long)max_body);
    send_error(c, 413, why);
    return;
  }
  dispatch(c);
}

static void on_recv(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct http_conn *c = op->ctx;
  if (res <= 0 || c->cancelled) {
    /* EOF, error, idle timeout or stop. */
    if (res < 0 && res != -ECANCELED && res != -ECONNRESET)
      count_error(c->srv, EK_NETWORK);
    close_conn(c);
    return;
  }
  c->rbuf.len += (size_t)res;
  c->last_active_ns = clock_monotonic_ns();
  metric_add(c->srv->m_bytes_in, (uint64_t)res);
  process_input(c);
}

static void conn_start_recv(struct http_conn *c)
{
  c->state = CONN_READING;
  buf_reserve(&c->rbuf, RECV_CHUNK_BYTES);
  evloop_recv(c->hl->loop, &c->op, c->fd, c->rbuf.data + c->rbuf.len, c->rbuf.cap - c->rbuf.len - 1, on_recv, c);
}

/* Back from the handler thread. */
static void on_handler_done(struct evloop *loop, struct evloop_task *task)
{
  struct http_conn *c = task->ctx;
  struct http_loop *hl = c->hl;
  if (c->after == AFTER_KEEPALIVE && !hl->stopping) {
    buf_consume(&c->rbuf, c->rpos);
    c->rpos = 0;
    c->cancelled = false;
    http_parser_init(&c->parser);
    c->last_active_ns = clock_monotonic_ns();
    c->state = CONN_READING;
    if (c->rbuf.len)
      process_input(c);              /* a pipelined request is already here */
    else
      conn_start_recv(c);
    return;
  }
  if (c->after == AFTER_LINGER && !hl->stopping)
    start_linger(c);
  else
    close_conn(c);
}

static void refuse(struct http_loop *hl, int fd)
{
  struct http_server *srv = hl->srv;
  count_error(srv, EK_REFUSED);
  if (atomic_fetch_add(&srv->refusing, 1) >= REFUSING_MAX) {
    atomic_fetch_sub(&srv->refusing, 1);
    close(fd);
    return;
  }
  struct http_conn *c = mem_calloc(1, sizeof *c);
  c->hl = hl;
  c->srv = srv;
  c->fd = fd;
  c->counted = false;
  arena_init(&c->arena, 4096);
  snprintf(c->peer, sizeof c->peer, "refused");
  c->next = hl->conns;
  if (hl->conns)
    hl->conns->prev = c;
  hl->conns = c;
  hl->conn_count++;
  buf_reset(&c->ebuf);
  http_format_status_line(&c->ebuf, 503);
  static const char why[] = "Too many connections\n";
  buf_printf(&c->ebuf, "Content-Type: text/plain; charset=UTF-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             sizeof why - 1, why);
  c->state = CONN_SENDING;
  evloop_send(hl->loop, &c->op, c->fd, c->ebuf.data, c->ebuf.len, on_error_sent, c);
}

static void on_accept(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct http_loop *hl = op->ctx;
  struct http_server *srv = hl->srv;
  if (res < 0) {
    if (res == -ECANCELED || hl->stopping) {
      close(hl->listen_fd);
      hl->listen_fd = -1;
      check_loop_done(hl);
      return;
    }
    if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
      log_warn("%s: accept: %s; pausing accepts briefly", srv->name, strerror((int)-res));
      hl->accept_paused = true;
      return;
    }
    evloop_accept(loop, &hl->accept_op, hl->listen_fd, on_accept, hl);
    return;
  }
  int fd = (int)res;
  if (hl->stopping) {
    close(fd);
  } else if (atomic_fetch_add(&srv->connections, 1) >= srv->cfg.max_connections) {
    atomic_fetch_sub(&srv->connections, 1);
    refuse(hl, fd);
  } else {
    net_set_nodelay(fd);
    struct http_conn *c = mem_calloc(1, sizeof *c);
    c->hl = hl;
    c->srv = srv;
    c->fd = fd;
    c->counted = true;
    arena_init(&c->arena, 16 * 1024);
    buf_init(&c->rbuf);
    net_peer_string(fd, c->peer);
    http_parser_init(&c->parser);
    c->last_active_ns = clock_monotonic_ns();
    c->next = hl->conns;
    if (hl->conns)
      hl->conns->prev = c;
    hl->conns = c;
    hl->conn_count++;
    conn_start_recv(c);
  }
  if (!hl->stopping)
    evloop_accept(loop, &hl->accept_op, hl->listen_fd, on_accept, hl);
  else {
    close(hl->listen_fd);
    hl->listen_fd = -1;
    check_loop_done(hl);
  }
}

static void on_tick(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  struct http_loop *hl = op->ctx;
  struct http_server *srv = hl->srv;
  int64_t now = clock_monotonic_ns();
  int64_t idle_ns = (int64_t)srv->cfg.keepalive_timeout_ms * 1000000;
  for (struct http_conn *c = hl->conns; c; c = c->next) {
    if (c->state == CONN_READING && now - c->last_active_ns > idle_ns)
      cancel_conn(c);
    else if (c->state == CONN_LINGERING && now > c->linger_deadline_ns)
      cancel_conn(c);
  }
  if (hl->accept_paused && !hl->stopping && hl->listen_fd >= 0) {
    hl->accept_paused = false;
    evloop_accept(loop, &hl->accept_op, hl->listen_fd, on_accept, hl);
  }
  if (hl->stopping && hl->listen_fd < 0 && hl->conn_count == 0) {
    check_loop_done(hl);
    return;
  }
  if (res == -ECANCELED)
    return;                          /* cancelled while connections remained: cannot happen */
  evloop_timer(loop, &hl->tick_op, TICK_MS, on_tick, hl);
}

/* Posted by http_server_stop. */
static void loop_begin_stop(struct evloop *loop, struct evloop_task *task)
{
  struct http_loop *hl = task->ctx;
  hl->stopping = true;
  if (hl->accept_op.pending) {
    evloop_cancel(loop, &hl->accept_op);
  } else if (hl->listen_fd >= 0) {
    close(hl->listen_fd);
    hl->listen_fd = -1;
  }
  for (struct http_conn *c = hl->conns; c; c = c->next)
    if (c->state == CONN_READING || c->state == CONN_LINGERING)
      cancel_conn(c);
  check_loop_done(hl);
}

/* Posted when in-flight requests outlive stop_timeout_ms: their blocking I/O
 * fails at once, so the handlers return. */
static void loop_force_stop(struct evloop *loop, struct evloop_task *task)
{
  struct http_loop *hl = task->ctx;
  for (struct http_conn *c = hl->conns; c; c = c->next)
    if (c->state == CONN_HANDLING)
      shutdown(c->fd, SHUT_RDWR);
}

static void *loop_main(void *arg)
{
  struct http_loop *hl = arg;
  struct http_server *srv = hl->srv;
  char tname[16];
  snprintf(tname, sizeof tname, "%.8s-io-%d", hl->srv->name, hl->index);
  log_set_thread_name(tname);
  pthread_setname_np(pthread_self(), tname);
  /* The ring is created by the thread that uses it: io_uring ties task work
   * to its creator, whose blocking syscalls would otherwise see EINTR. */
  hl->start_rc = evloop_create(&hl->loop, srv->cfg.backend, &hl->start_err);
  pthread_mutex_lock(&srv->lock);
  srv->loops_started++;
  pthread_cond_broadcast(&srv->idle);
  pthread_mutex_unlock(&srv->lock);
  if (hl->start_rc)
    return NULL;
  evloop_accept(hl->loop, &hl->accept_op, hl->listen_fd, on_accept, hl);
  evloop_timer(hl->loop, &hl->tick_op, TICK_MS, on_tick, hl);
  int rc = evloop_run(hl->loop);
  if (rc < 0)
    log_error("%s: event loop %d failed: %s", hl->srv->name, hl->index, strerror(-rc));
  return NULL;
}

/* ======================================================================
 * Handler side: body reader
 * ====================================================================== */

static int body_fail(struct body_state *b, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int body_fail(struct body_state *b, int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  b->err = code;
  b->error.code = code;
  vsnprintf(b->error.message, sizeof b->error.message, fmt, ap);
  va_end(ap);
  return -code;
}

static int io_error_code(ssize_t n)
{
  return n == -ETIMEDOUT ? ERR_SOCKET_TIMEOUT : ERR_NETWORK_ERROR;
}

static void send_continue(struct http_conn *c)
{
  struct body_state *b = &c->body;
  if (!c->req.head.expect_continue || b->continue_sent || c->resp.started)
    return;
  b->continue_sent = true;
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  if (net_send_all_timeout(c->fd, cont, sizeof cont - 1, c->srv->cfg.io_timeout_ms) == 0)
    metric_add(c->srv->m_bytes_out, sizeof cont - 1);
}

/* Receives more bytes into rbuf (after compacting it). */
static ssize_t recv_more(struct http_conn *c)
{
  buf_consume(&c->rbuf, c->rpos);
  c->rpos = 0;
  buf_reserve(&c->rbuf, RECV_CHUNK_BYTES);
  ssize_t n = net_recv_timeout(c->fd, c->rbuf.data + c->rbuf.len, c->rbuf.cap - c->rbuf.len - 1,
                               c->srv->cfg.io_timeout_ms);
  if (n > 0) {
    c->rbuf.len += (size_t)n;
    metric_add(c->srv->m_bytes_in, (uint64_t)n);
  }
  return n;
}

/* The body with framing removed, still content-encoded. */
static ssize_t body_read_raw(struct http_conn *c, char *dst, size_t cap)
{
  struct body_state *b = &c->body;
  uint64_t max_body = c->srv->cfg.max_body_bytes;
  if (b->err)
    return -b->err;
  if (b->eof || cap == 0)
    return 0;
  send_continue(c);
  if (!b->chunked) {
    if (b->cl_left == 0) {
      b->eof = true;
      return 0;
    }
    size_t want = cap < b->cl_left ? cap : (size_t)b->cl_left;
    size_t avail = c->rbuf.len - c->rpos;
    ssize_t n;
    if (avail) {
      n = (ssize_t)(want < avail ? want : avail);
      memcpy(dst, c->rbuf.data + c->rpos, (size_t)n);
      c->rpos += (size_t)n;
    } else {
      n = net_recv_timeout(c->fd, dst, want, c->srv->cfg.io_timeout_ms);
      if (n == 0)
        return body_fail(b, ERR_CANNOT_READ_ALL_DATA, "Client closed the connection with %llu body bytes unsent",
                         (unsigned long long)b->cl_left);
      if (n < 0)
        return body_fail(b, io_error_code(n), "Cannot read request body: %s", strerror((int)-n));
      metric_add(c->srv->m_bytes_in, (uint64_t)n);
    }
    b->cl_left -= (uint64_t)n;
    b->raw_bytes += (uint64_t)n;
    if (b->cl_left == 0)
      b->eof = true;
    return n;
  }
  for (;;) {
    if (c->rpos < c->rbuf.len) {
      size_t used, produced;
      int rc = http_chunked_decode(&b->ch, c->rbuf.data + c->rpos, c->rbuf.len - c->rpos, &used, dst, cap, &produced);
      c->rpos += used;
      if (rc < 0)
        return body_fail(b, ERR_INCORRECT_DATA, "Malformed chunked request body: %s", b->ch.error);
      b->raw_bytes += produced;
      if (b->raw_bytes > max_body)
        return body_fail(b, ERR_QUERY_IS_TOO_LARGE, "Request body exceeds the limit of %llu bytes",
                         (unsigned long long)max_body);
      if (rc == 1)
        b->eof = true;
      if (produced)
        return (ssize_t)produced;
      if (rc == 1)
        return 0;
    }
    ssize_t n = recv_more(c);
    if (n == 0)
      return body_fail(b, ERR_CANNOT_READ_ALL_DATA, "Client closed the connection inside a chunked body");
    if (n < 0)
      return body_fail(b, io_error_code(n), "Cannot read request body: %s", strerror((int)-n));
  }
}

ssize_t http_body_read(struct http_request *req, void *dst, size_t cap)
{
  struct http_conn *c = req->conn;
  struct body_state *b = &c->body;
  if (b->err)
    return -b->err;
  if (!b->decoder_ready) {
    b->decoder_ready = true;
    enum compress_codec codec;
    int rc = compress_codec_parse(req->head.content_encoding, &codec, &b->error);
    if (rc) {
      b->err = rc;
      return -rc;
    }
    if (codec != COMPRESS_NONE) {
      rc = decompressor_create(&b->dec, codec, c->srv->cfg.max_body_bytes, &b->error);
      if (rc) {
        b->err = rc;
        return -rc;
      }
      b->zin = arena_alloc(&c->arena, DECODE_IN_BYTES);
    }
  }
  if (!b->dec)
    return body_read_raw(c, dst, cap);
  if (cap == 0)
    return 0;
  for (;;) {
    if (b->zin_pos < b->zin_len) {
      size_t used, produced;
      int rc = decompressor_run(b->dec, b->zin + b->zin_pos, b->zin_len - b->zin_pos, &used, dst, cap,
                                &produced, &b->error);
      b->zin_pos += used;
      if (rc) {
        b->err = rc;
        return -rc;
      }
      if (produced)
        return (ssize_t)produced;
    }
    if (b->dec_in_eof) {
      if (b->zin_pos < b->zin_len || !decompressor_at_boundary(b->dec))
        return body_fail(b, ERR_CANNOT_DECOMPRESS, "Compressed request body is truncated");
      return 0;
    }
    /* Need more compressed input: keep the unconsumed tail, read after it. */
    memmove(b->zin, b->zin + b->zin_pos, b->zin_len - b->zin_pos);
    b->zin_len -= b->zin_pos;
    b->zin_pos = 0;
    if (b->zin_len == DECODE_IN_BYTES)
      return body_fail(b, ERR_CANNOT_DECOMPRESS, "Compressed request body makes no progress");
    ssize_t n = body_read_raw(c, b->zin + b->zin_len, DECODE_IN_BYTES - b->zin_len);
    if (n < 0)
      return n;
    if (n == 0)
      b->dec_in_eof = true;
    b->zin_len += (size_t)n;
  }
}

const struct error *http_body_error(const struct http_request *req) { return &req->conn->body.error; }

const char *http_request_body_error(const struct http_request *req) { return req->conn->body.error.message; }

struct slice http_request_header(const struct http_request *req, const char *name)
{
  return http_head_get(&req->head, name);
}

struct slice http_request_query_string(const struct http_request *req) { return req->head.query; }

bool http_request_is_method(const struct http_request *req, const char *method)
{
  return http_method_is(&req->head, method);
}

/* Reads and discards what is left of the body, up to DRAIN_BYTES_MAX.
 * Returns 0 when the body is consumed, 1 when it is left unread (too much,
 * or the client still waits for 100 Continue), or -ERR_ code. */
static int body_drain(struct http_conn *c)
{
  struct body_state *b = &c->body;
  if (b->err)
    return -b->err;
  if (b->eof)
    return 0;
  if (!b->chunked && b->cl_left == 0) {
    b->eof = true;
    return 0;
  }
  if (c->req.head.expect_continue && !b->continue_sent)
    return 1;
  if (!b->chunked && b->cl_left > DRAIN_BYTES_MAX)
    return 1;
  char scratch[16384];
  uint64_t drained = 0;
  while (!b->eof) {
    ssize_t n = body_read_raw(c, scratch, sizeof scratch);
    if (n < 0)
      return (int)n;
    drained += (uint64_t)n;
    if (drained > DRAIN_BYTES_MAX && !b->eof)
      return 1;
  }
  return 0;
}

/* ======================================================================
 * Handler side: response writer
 * ====================================================================== */

static int resp_fail(struct http_response *r, ssize_t n)
{
  r->err = io_error_code(n);
  r->close_after = true;
  count_error(r->conn->srv, r->err == ERR_SOCKET_TIMEOUT ? EK_TIMEOUT : EK_NETWORK);
  return r->err;
}

static bool conn_keep_alive(struct http_response *r)
{
  struct http_conn *c = r->conn;
  return c->req.head.keep_alive && !r->close_after && !r->raw_until_close &&
         !atomic_load(&c->srv->stopping);
}

/* Emits data as the next piece of the body; final ends the response. The
 * head goes out with the first piece: with Content-Length when the whole
 * body is known (final and nothing sent), else chunked (HTTP/1.1) or
 * delimited by close (HTTP/1.0). */
static int resp_emit(struct http_response *r, const char *data, size_t len, bool final)
{
  struct http_conn *c = r->conn;
  struct http_server *srv = c->srv;
  if (r->err)
    return r->err;
  struct buf head;
  buf_init(&head);
  struct iovec iov[5];
  int n = 0;
  char chunk_hdr[HTTP_CHUNK_HEADER_MAX];
  if (!r->started) {
    http_format_status_line(&head, r->status);
    buf_append(&head, r->head_extra.data, r->head_extra.len);
    if (r->enc)
      buf_printf(&head, "Content-Encoding: %s\r\n", compress_codec_name(r->codec));
    bool bodiless_status = r->status == 204 || r->status == 304 || r->status < 200;
    if (bodiless_status) {
      r->no_body = true;
    } else if (final) {
      buf_printf(&head, "Content-Length: %zu\r\n", len);
    } else if (c->req.head.version_minor >= 1) {
      buf_append_cstr(&head, "Transfer-Encoding: chunked\r\n");
      r->chunked = true;
    } else {
      r->raw_until_close = true;
    }
    if (conn_keep_alive(r))
      buf_printf(&head, "Connection: Keep-Alive\r\nKeep-Alive: timeout=%d\r\n", srv->cfg.keepalive_timeout_ms / 1000);
    else
      buf_append_cstr(&head, "Connection: Close\r\n");
    buf_append_cstr(&head, "\r\n");
    iov[n++] = (struct iovec){ head.data, head.len };
    r->started = true;
  }
  size_t body_bytes = 0;
  if (!r->no_body) {
    if (r->chunked) {
      if (len) {
        size_t hn = http_format_chunk_header(chunk_hdr, len);
        iov[n++] = (struct iovec){ chunk_hdr, hn };
        iov[n++] = (struct iovec){ (void *)(uintptr_t)data, len };
        iov[n++] = (struct iovec){ (void *)"\r\n", 2 };
      }
      if (final)
        iov[n++] = (struct iovec){ (void *)HTTP_CHUNK_LAST, sizeof HTTP_CHUNK_LAST - 1 };
    } else if (len) {
      iov[n++] = (struct iovec){ (void *)(uintptr_t)data, len };
    }
    body_bytes = len;
  }
  size_t total = 0;
  for (int i = 0; i < n; i++)
    total += iov[i].iov_len;
  int rc = 0;
  if (n) {
    int e = net_sendv_all_timeout(c->fd, iov, n, srv->cfg.io_timeout_ms);
    if (e < 0)
      rc = resp_fail(r, e);
    else
      metric_add(srv->m_bytes_out, total);
  }
  r->body_sent += body_bytes;
  buf_free(&head);
  return rc;
}

int http_response_begin(struct http_response *r, int status, const char *content_type)
{
  if (r->started)
    return ERR_LOGICAL_ERROR;
  r->begun = true;
  r->status = status;
  buf_reset(&r->head_extra);
  buf_reset(&r->out);
  if (r->enc) {
    /* Restarting a buffered response: the compressed prefix is discarded. */
    compressor_destroy(r->enc);
    r->enc = NULL;
  }
  if (content_type && *content_type)
    buf_printf(&r->head_extra, "Content-Type: %s\r\n", content_type);
  return 0;
}

static bool header_text_ok(const char *s, bool name)
{
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '\r' || ch == '\n' || ch == 0x7f || (ch < 0x20 && ch != '\t') || (name && (ch == ':' || ch <= ' ')))
      return false;
  }
  return true;
}

int http_response_add_header(struct http_response *r, const char *name, const char *value)
{
  if (r->started || !header_text_ok(name, true) || !header_text_ok(value, false) || !*name)
    return ERR_LOGICAL_ERROR;
  if (!r->begun)
    http_response_begin(r, 200, NULL);
  buf_printf(&r->head_extra, "%s: %s\r\n", name, value);
  return 0;
}

int http_response_set_encoding(struct http_response *r, const char *coding)
{
  if (r->started || r->out.len || r->enc)
    return ERR_LOGICAL_ERROR;
  struct error err;
  enum compress_codec codec;
  if (compress_codec_parse(slice_of(coding), &codec, &err) != 0)
    return ERR_LOGICAL_ERROR;
  r->codec = codec;
  return 0;
}

void http_response_close_after(struct http_response *r) { r->close_after = true; }

static int ensure_encoder(struct http_response *r)
{
  if (r->codec == COMPRESS_NONE || r->enc)
    return 0;
  struct error err;
  return compressor_create(&r->enc, r->codec, 0, &err);
}

int http_response_write(struct http_response *r, const void *data, size_t len)
{
  if (r->err)
    return r->err;
  if (r->ended)
    return ERR_LOGICAL_ERROR;
  if (!r->begun)
    http_response_begin(r, 200, NULL);
  if (len == 0)
    return 0;
  int rc = ensure_encoder(r);
  if (rc)
    return rc;
  if (r->enc) {
    struct error err;
    rc = compressor_run(r->enc, data, len, false, false, &r->out, &err);
    if (rc)
      return rc;
  } else if (len >= RESPONSE_FLUSH_BYTES && !r->hold) {
    /* Big piece: send what is buffered, then this piece without copying. */
    if (r->out.len) {
      rc = resp_emit(r, r->out.data, r->out.len, false);
      buf_reset(&r->out);
      if (rc)
        return rc;
    }
    return resp_emit(r, data, len, false);
  } else {
    buf_append(&r->out, data, len);
  }
  if (r->out.len >= RESPONSE_FLUSH_BYTES && !r->hold) {
    rc = resp_emit(r, r->out.data, r->out.len, false);
    buf_reset(&r->out);
  }
  return rc;
}

void http_response_hold(struct http_response *r)
{
  if (!r->started)
    r->hold = true;
}

int http_response_printf(struct http_response *r, const char *fmt, ...)
{
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return ERR_LOGICAL_ERROR;
  if ((size_t)n < sizeof small)
    return http_response_write(r, small, (size_t)n);
  char *big = mem_alloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  int rc = http_response_write(r, big, (size_t)n);
  mem_free(big);
  return rc;
}

int http_response_flush(struct http_response *r)
{
  if (r->err)
    return r->err;
  if (r->ended)
    return ERR_LOGICAL_ERROR;
  if (!r->begun)
    http_response_begin(r, 200, NULL);
  if (r->enc) {
    struct error err;
    int rc = compressor_run(r->enc, NULL, 0, true, false, &r->out, &err);
    if (rc)
      return rc;
  }
  int rc = resp_emit(r, r->out.data, r->out.len, false);
  buf_reset(&r->out);
  return rc;
}

/* Replaces an unsent response with a server-generated error. */
static void resp_replace_with_error(struct http_response *r, int status, const char *why)
{
  if (r->enc) {
    compressor_destroy(r->enc);
    r->enc = NULL;
  }
  r->codec = COMPRESS_NONE;
  r->close_after = true;
  http_response_begin(r, status, "text/plain; charset=UTF-8");
  buf_printf(&r->out, "%s\n", why);
  count_error(r->conn->srv, kind_of_status(status));
}

int http_response_end(struct http_response *r)
{
  struct http_conn *c = r->conn;
  if (r->ended)
    return r->err;
  if (!r->begun)
    http_response_begin(r, 200, NULL);
  if (!r->started && !r->err) {
    /* Drain the request body before answering so a client that sends the
     * whole body before reading is not stuck, and so a broken body is
     * answered with its own status instead of this one. */
    bool handler_saw_error = c->body.err != 0;
    int d = body_drain(c);
    if (d != 0)
      r->close_after = true;         /* body left unread, broken, or the client is gone */
    /* A framing error found only now gets its own status; one the handler
     * already saw was answered by the handler. */
    if (d < 0 && !handler_saw_error &&
        (d == -ERR_INCORRECT_DATA || d == -ERR_QUERY_IS_TOO_LARGE))
      resp_replace_with_error(r, d == -ERR_QUERY_IS_TOO_LARGE ? 413 : 400, c->body.error.message);
  }
  int rc = ensure_encoder(r);
  if (!rc && r->enc) {
    struct error err;
    rc = compressor_run(r->enc, NULL, 0, false, true, &r->out, &err);
  }
  r->ended = true;
  if (rc) {
    r->close_after = true;
    return rc;
  }
  rc = resp_emit(r, r->out.data, r->out.len, true);
  buf_reset(&r->out);
  return rc;
}

bool http_response_started(const struct http_response *r) { return r->started; }
int  http_response_status(const struct http_response *r) { return r->status; }

int http_response_send(struct http_response *r, int status, const char *content_type, const char *body)
{
  int rc = http_response_begin(r, status, content_type);
  if (!rc && body)
    rc = http_response_write(r, body, strlen(body));
  if (!rc)
    rc = http_response_end(r);
  return rc;
}

/* ======================================================================
 * Handler side: one request
 * ====================================================================== */

static void request_setup(struct http_conn *c)
{
  size_t head_bytes = c->head.head_bytes;
  char *copy = arena_alloc(&c->arena, head_bytes + 1);
  memcpy(copy, c->rbuf.data, head_bytes);
  copy[head_bytes] = '\0';
  struct http_parser p;
  http_parser_init(&p);
  int rc = http_parse_head(&p, copy, head_bytes, &c->req.head);
  if (rc != (int)head_bytes) {
    /* Same bytes, same parser: cannot differ. */
    log_error("%s: request head re-parse mismatch (%d)", c->srv->name, rc);
    abort();
  }
  c->rpos = head_bytes;
  c->req.arena = &c->arena;
  c->req.peer = c->peer;
  c->req.start_ns = clock_monotonic_ns();
  c->req.conn = c;

  memset(&c->body, 0, sizeof c->body);
  c->body.chunked = c->req.head.chunked;
  c->body.cl_left = c->req.head.has_content_length ? c->req.head.content_length : 0;
  http_chunked_init(&c->body.ch);

  struct http_response *r = &c->resp;
  buf_reset(&r->head_extra);
  buf_reset(&r->out);
  struct buf keep_extra = r->head_extra, keep_out = r->out;
  memset(r, 0, sizeof *r);
  r->head_extra = keep_extra;
  r->out = keep_out;
  r->conn = c;
  r->status = 200;
  r->no_body = http_method_is(&c->req.head, "HEAD");
}

static void request_cleanup(struct http_conn *c)
{
  decompressor_destroy(c->body.dec);
  c->body.dec = NULL;
  compressor_destroy(c->resp.enc);
  c->resp.enc = NULL;
  /* Do not keep a huge response buffer around for an idle connection. */
  if (c->resp.out.cap > 4 * RESPONSE_FLUSH_BYTES)
    buf_free(&c->resp.out);
  if (c->rbuf.cap > 1024 * 1024 && c->rbuf.len - c->rpos < 64 * 1024) {
    buf_consume(&c->rbuf, c->rpos);
    c->rpos = 0;
    struct buf small;
    buf_init(&small);
    buf_append(&small, c->rbuf.data, c->rbuf.len);
    buf_free(&c->rbuf);
    c->rbuf = small;
  }
  arena_reset(&c->arena);
}

static void handle_task(void *arg)
{
  struct http_conn *c = arg;
  struct http_server *srv = c->srv;
  struct http_response *r = &c->resp;
  request_setup(c);

  srv->cfg.handler(srv->cfg.handler_ctx, &c->req, r);

  if (!r->begun && !r->err) {
    log_error("%s: handler for %.*s returned without a response", srv->name,
              (int)c->req.head.path.len, c->req.head.path.ptr);
    http_response_send(r, 500, "text/plain; charset=UTF-8", "Handler produced no response\n");
  } else if (!r->ended) {
    http_response_end(r);
  }
  if (r->status >= 500)
    count_error(srv, EK_HANDLER);
  /* Streaming responses had no chance to drain before the head; try now. */
  bool body_done = c->body.eof;
  if (!body_done && !r->err && !r->close_after && !r->raw_until_close)
    body_done = body_drain(c) == 0;
  if (c->req.head.expect_continue && !c->body.continue_sent && !body_done)
    c->after = AFTER_CLOSE;          /* the body was never asked for */
  else if (r->err)
    c->after = AFTER_CLOSE;
  else if (!body_done)
    c->after = AFTER_LINGER;
  else if (!conn_keep_alive(r))
    c->after = AFTER_CLOSE;
  else
    c->after = AFTER_KEEPALIVE;

  metric_inc(srv->m_requests);
  metric_observe(srv->m_duration, (double)clock_elapsed_ns(c->req.start_ns) / 1e9);
  atomic_fetch_add(&srv->requests, 1);
  log_debug("%s: %s %.*s %.*s -> %d (%llu bytes)", srv->name, c->peer, (int)c->req.head.method.len,
            c->req.head.method.ptr, (int)c->req.head.target.len > 200 ? 200 : (int)c->req.head.target.len,
            c->req.head.target.ptr, r->status, (unsigned long long)r->body_sent);
  request_cleanup(c);

  /* After the post the loop owns c again (and may free it): touch only srv. */
  evloop_post(c->hl->loop, &c->done_task, on_handler_done, c);
  pthread_mutex_lock(&srv->lock);
  if (--srv->in_flight == 0)
    pthread_cond_broadcast(&srv->idle);
  pthread_mutex_unlock(&srv->lock);
}

/* ======================================================================
 * Server lifetime
 * ====================================================================== */

static double gauge_connections(void *ctx)
{
  struct http_server *srv = ctx;
  return (double)atomic_load(&srv->connections);
}

static double gauge_in_flight(void *ctx)
{
  struct http_server *srv = ctx;
  pthread_mutex_lock(&srv->lock);
  int n = srv->in_flight;
  pthread_mutex_unlock(&srv->lock);
  return (double)n;
}

static double counter_ops_queued(void *ctx)
{
  struct http_server_stats st;
  http_server_get_stats(ctx, &st);
  return (double)st.loops.ops_queued;
}

static double counter_ops_completed(void *ctx)
{
  struct http_server_stats st;
  http_server_get_stats(ctx, &st);
  return (double)st.loops.ops_completed;
}

static double counter_sq_full(void *ctx)
{
  struct http_server_stats st;
  http_server_get_stats(ctx, &st);
  return (double)st.loops.sq_full;
}

static double gauge_ops_in_flight(void *ctx)
{
  struct http_server_stats st;
  http_server_get_stats(ctx, &st);
  return (double)(st.loops.ops_queued - st.loops.ops_completed);
}

static void register_metrics(struct http_server *srv)
{
  struct metrics *m = srv->cfg.metrics;
  if (!m)
    return;
  char labels[96], kl[160];
  snprintf(labels, sizeof labels, "server=\"%s\"", srv->name);
  srv->m_requests = metrics_counter(m, "spanhouse_http_requests_total", labels, "HTTP requests handled.");
  srv->m_bytes_in = metrics_counter(m, "spanhouse_http_received_bytes_total", labels, "Bytes received from HTTP clients.");
  srv->m_bytes_out = metrics_counter(m, "spanhouse_http_sent_bytes_total", labels, "Bytes sent to HTTP clients.");
  for (int k = 0; k < EK_COUNT; k++) {
    snprintf(kl, sizeof kl, "%s,kind=\"%s\"", labels, err_kind_names[k]);
    srv->m_errors[k] = metrics_counter(m, "spanhouse_http_errors_total", kl, "HTTP errors by kind.");
  }
  srv->m_duration = metrics_histogram(m, "spanhouse_http_request_duration_seconds", labels,
                                      "HTTP request duration from complete head to end of response.",
                                      metrics_seconds_buckets, metrics_seconds_bucket_count);
  metrics_gauge_fn(m, "spanhouse_http_connections", labels, "Open HTTP connections.", gauge_connections, srv);
  metrics_gauge_fn(m, "spanhouse_http_requests_in_flight", labels, "Requests inside handlers.", gauge_in_flight, srv);
  metrics_counter_fn(m, "spanhouse_evloop_ops_queued_total", labels, "Event-loop operations started.",
                     counter_ops_queued, srv);
  metrics_counter_fn(m, "spanhouse_evloop_ops_completed_total", labels, "Event-loop operations completed.",
                     counter_ops_completed, srv);
  metrics_gauge_fn(m, "spanhouse_evloop_ops_in_flight", labels, "Event-loop operations in flight.",
                   gauge_ops_in_flight, srv);
  metrics_counter_fn(m, "spanhouse_evloop_sq_full_total", labels, "io_uring submission queue full events.",
                     counter_sq_full, srv);
}

int http_server_start(struct http_server **out, const struct http_server_config *cfg, struct error *err)
{
  int rc = 0;
  struct http_server *srv = mem_calloc(1, sizeof *srv);
  srv->cfg = *cfg;
  snprintf(srv->name, sizeof srv->name, "%s", cfg->name && *cfg->name ? cfg->name : "http");
  srv->cfg.name = srv->name;
  srv->cfg.host = NULL;                      /* not kept: used only here */
  if (!cfg->handler) {
    rc = error_set(err, ERR_BAD_ARGUMENTS, "%s: no handler", srv->name);
    goto out_free;
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (srv->cfg.loop_threads <= 0)
    srv->cfg.loop_threads = cpus > 0 ? (int)cpus : 1;
  if (srv->cfg.handler_threads <= 0)
    srv->cfg.handler_threads = srv->cfg.loop_threads * 4 > 16 ? srv->cfg.loop_threads * 4 : 16;
  if (srv->cfg.max_body_bytes == 0)
    srv->cfg.max_body_bytes = HTTP_BODY_BYTES_MAX;
  if (srv->cfg.max_connections <= 0)
    srv->cfg.max_connections = HTTP_CONNECTIONS_MAX;
  if (srv->cfg.keepalive_timeout_ms <= 0)
    srv->cfg.keepalive_timeout_ms = 10000;
  if (srv->cfg.io_timeout_ms <= 0)
    srv->cfg.io_timeout_ms = 30000;
  if (srv->cfg.stop_timeout_ms <= 0)
    srv->cfg.stop_timeout_ms = 30000;
  if (srv->cfg.backend == EVLOOP_AUTO)
    srv->cfg.backend = evloop_backend_select(EVLOOP_AUTO);
  pthread_mutex_init(&srv->lock, NULL);
  pthread_cond_init(&srv->idle, NULL);
  atomic_init(&srv->stopping, false);
  register_metrics(srv);

  char pool_name[12];
  snprintf(pool_name, sizeof pool_name, "%.6s-h", srv->name);
  rc = threadpool_create(&srv->pool, srv->cfg.handler_threads, pool_name, err);
  if (rc)
    goto out_destroy;

  srv->loops = mem_calloc((size_t)srv->cfg.loop_threads, sizeof *srv->loops);
  uint16_t port = cfg->port;
  for (int i = 0; i < srv->cfg.loop_threads; i++) {
    struct http_loop *hl = &srv->loops[i];
    hl->srv = srv;
    hl->index = i;
    hl->listen_fd = -1;
    srv->loop_count++;
    rc = net_listen(cfg->host, port, true, LISTEN_BACKLOG, &hl->listen_fd, err);
    if (rc)
      goto out_destroy;
    if (port == 0) {
      /* Port 0: the first listener picks, the others join it. */
      int p = net_local_port(hl->listen_fd);
      if (p <= 0) {
        rc = error_set(err, ERR_NETWORK_ERROR, "cannot read the listening port: %s", strerror(-p));
        goto out_destroy;
      }
      port = (uint16_t)p;
    }
  }
  srv->port = port;
  int threads = 0;
  for (int i = 0; i < srv->loop_count && !rc; i++) {
    struct http_loop *hl = &srv->loops[i];
    int e = pthread_create(&hl->thread, NULL, loop_main, hl);
    if (e)
      rc = error_set(err, ERR_LOGICAL_ERROR, "cannot start network thread: %s", strerror(e));
    else
      hl->thread_started = true, threads++;
  }
  /* Wait until every started loop created its evloop (or failed to). */
  pthread_mutex_lock(&srv->lock);
  while (srv->loops_started < threads)
    pthread_cond_wait(&srv->idle, &srv->lock);
  pthread_mutex_unlock(&srv->lock);
  if (rc)
    goto out_destroy;
  for (int i = 0; i < srv->loop_count; i++)
    if (srv->loops[i].start_rc) {
      rc = srv->loops[i].start_rc;
      *err = srv->loops[i].start_err;
      goto out_destroy;
    }
  log_info("%s: listening on %s:%u (%d network threads on %s, %d handler threads)", srv->name,
           cfg->host && *cfg->host ? cfg->host : "*", (unsigned)port, srv->loop_count,
           evloop_backend_name(srv->cfg.backend), srv->cfg.handler_threads);
  *out = srv;
  return 0;

out_destroy:
  http_server_destroy(srv);
  return rc;

out_free:
  mem_free(srv);
  return rc;
}

uint16_t http_server_port(const struct http_server *srv) { return srv->port; }
const char *http_server_backend_name(const struct http_server *srv) { return evloop_backend_name(srv->cfg.backend); }

/* Waits for in_flight == 0 until deadline_ns (0 = forever). */
static bool wait_idle(struct http_server *srv, int64_t deadline_ns)
{
  pthread_mutex_lock(&srv->lock);
  while (srv->in_flight > 0) {
    int64_t left = deadline_ns ? deadline_ns - clock_monotonic_ns() : 1000000000;
    if (deadline_ns && left <= 0)
      break;
    if (left > 1000000000)
      left = 1000000000;
    struct timespec ts = clock_realtime_deadline(left);
    pthread_cond_timedwait(&srv->idle, &srv->lock, &ts);
  }
  bool idle = srv->in_flight == 0;
  pthread_mutex_unlock(&srv->lock);
  return idle;
}

void http_server_stop(struct http_server *srv)
{
  if (!srv || srv->stopped)
    return;
  srv->stopped = true;
  atomic_store(&srv->stopping, true);
  for (int i = 0; i < srv->loop_count; i++) {
    struct http_loop *hl = &srv->loops[i];
    if (hl->thread_started && hl->loop)
      evloop_post(hl->loop, &hl->stop_task, loop_begin_stop, hl);
  }
  int64_t deadline = clock_monotonic_ns() + (int64_t)srv->cfg.stop_timeout_ms * 1000000;
  if (!wait_idle(srv, deadline)) {
    log_warn("%s: requests still running after %d ms; shutting their connections down", srv->name,
             srv->cfg.stop_timeout_ms);
    for (int i = 0; i < srv->loop_count; i++) {
      struct http_loop *hl = &srv->loops[i];
      if (hl->thread_started && hl->loop)
        evloop_post(hl->loop, &hl->force_task, loop_force_stop, hl);
    }
    wait_idle(srv, 0);
  }
  for (int i = 0; i < srv->loop_count; i++) {
    struct http_loop *hl = &srv->loops[i];
    if (hl->thread_started) {
      pthread_join(hl->thread, NULL);
      hl->thread_started = false;
    }
  }
  if (srv->pool)
    threadpool_shutdown(srv->pool);
  log_info("%s: stopped after %llu requests", srv->name, (unsigned long long)atomic_load(&srv->requests));
}

void http_server_destroy(struct http_server *srv)
{
  if (!srv)
    return;
  http_server_stop(srv);
  metrics_forget_ctx(srv->cfg.metrics, srv);
  for (int i = 0; i < srv->loop_count; i++) {
    struct http_loop *hl = &srv->loops[i];
    if (hl->listen_fd >= 0)
      close(hl->listen_fd);
    evloop_destroy(hl->loop);
  }
  mem_free(srv->loops);
  threadpool_destroy(srv->pool);
  pthread_cond_destroy(&srv->idle);
  pthread_mutex_destroy(&srv->lock);
  mem_free(srv);
}

void http_server_get_stats(struct http_server *srv, struct http_server_stats *out)
{
  memset(out, 0, sizeof *out);
  out->connections = (uint64_t)atomic_load(&srv->connections);
  out->requests = atomic_load(&srv->requests);
  pthread_mutex_lock(&srv->lock);
  out->in_flight = (uint64_t)srv->in_flight;
  pthread_mutex_unlock(&srv->lock);
  for (int i = 0; i < srv->loop_count; i++) {
    struct evloop_stats st;
    if (!srv->loops[i].loop)
      continue;
    evloop_get_stats(srv->loops[i].loop, &st);
    out->loops.ops_queued += st.ops_queued;
    out->loops.ops_completed += st.ops_completed;
    out->loops.sq_full += st.sq_full;
    out->loops.posts += st.posts;
  }
}
