/* loadgen_grpc: OTLP/gRPC export over h2c with prior knowledge (no TLS, no
 * Upgrade), on nghttp2's client session. One call at a time per connection:
 * export() submits the request (headers, then the 5-byte message prefix and
 * the body from a data provider), then alternates flushing nghttp2's output
 * and feeding it socket input until the stream closes. The answer is
 * grpc-status from the trailers (or from a trailers-only response).
 *
 * A connection is OPEN (fd and session) or CLOSED (fd -1, no session); any
 * I/O or protocol failure closes it, and the next export() reconnects. */
#include "tools/loadgen.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/net.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
  RECV_BYTES   = 64 * 1024,
  KEEP_BYTES   = 4096,              /* response message bytes kept for partial success */
  PREFIX_BYTES = 5,                 /* gRPC message prefix: compressed flag + u32 length */
  WINDOW_BYTES = 16 * 1024 * 1024,  /* what we let the server send before acking */
};

static const char EXPORT_PATH[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/* The call in flight. */
struct grpc_call {
  int32_t stream_id;
  bool closed;                      /* on_stream_close ran */
  uint32_t reset_code;              /* RST_STREAM error code; 0 = none */
  uint8_t prefix[PREFIX_BYTES];
  const uint8_t *body;
  size_t body_len, sent;            /* sent counts prefix bytes too */
  int http_status, grpc_status;     /* -1 until seen */
  char grpc_message[128];
  uint8_t keep[KEEP_BYTES];
  size_t kept;
};

struct grpc_conn {
  int fd;
  const struct loadgen_target *target;
  nghttp2_session *session;
  char authority[300];
  struct grpc_call call;
  uint8_t in[RECV_BYTES];
};

/* ---- nghttp2 callbacks: they only record what arrives for the call */

static ssize_t read_request_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                                 uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
  struct grpc_call *call = source->ptr;
  size_t total = PREFIX_BYTES + call->body_len, n = 0;
  while (n < length && call->sent < total) {
    if (call->sent < PREFIX_BYTES) {
      buf[n++] = call->prefix[call->sent++];
      continue;
    }
    size_t off = call->sent - PREFIX_BYTES, take = call->body_len - off;
    if (take > length - n)
      take = length - n;
    memcpy(buf + n, call->body + off, take);
    n += take;
    call->sent += take;
  }
  if (call->sent == total)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

static bool name_is(const uint8_t *name, size_t len, const char *want)
{
  return len == strlen(want) && memcmp(name, want, len) == 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
  struct grpc_conn *c = user_data;
  struct grpc_call *call = &c->call;
  if (frame->hd.stream_id != call->stream_id)
    return 0;
  char text[16];
  size_t n = valuelen < sizeof text - 1 ? valuelen : sizeof text - 1;
  memcpy(text, value, n);
  text[n] = '\0';
  if (name_is(name, namelen, ":status"))
    call->http_status = atoi(text);
  else if (name_is(name, namelen, "grpc-status"))
    call->grpc_status = atoi(text);
  else if (name_is(name, namelen, "grpc-message"))
    snprintf(call->grpc_message, sizeof call->grpc_message, "%.*s", (int)valuelen, (const char *)value);
  return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                         void *user_data)
{
  struct grpc_conn *c = user_data;
  struct grpc_call *call = &c->call;
  if (stream_id != call->stream_id)
    return 0;
  size_t room = KEEP_BYTES - call->kept;
  if (len > room)
    len = room;
  memcpy(call->keep + call->kept, data, len);
  call->kept += len;
  return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
  struct grpc_conn *c = user_data;
  if (stream_id == c->call.stream_id) {
    c->call.closed = true;
    c->call.reset_code = error_code;
  }
  return 0;
}

/* ---- connection */

static void conn_close(struct grpc_conn *c)
{
  nghttp2_session_del(c->session);
  c->session = NULL;
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

/* Writes everything nghttp2 has queued: 0 or -errno / -EPROTO. */
static int flush(struct grpc_conn *c)
{
  for (;;) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(c->session, &data);
    if (n < 0)
      return -EPROTO;
    if (n == 0)
      return 0;
    int rc = net_send_all_timeout(c->fd, data, (size_t)n, c->target->timeout_ms);
    if (rc)
      return rc;
  }
}

static int conn_connect(struct grpc_conn *c, struct error *err)
{
  const struct loadgen_target *t = c->target;
  int rc = loadgen_tcp_connect(t->host, t->port, t->timeout_ms, &c->fd, err);
  if (rc) {
    c->fd = -1;
    return rc;
  }
  nghttp2_session_callbacks *cb;
  if (nghttp2_session_callbacks_new(&cb) != 0)
    abort();
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  int nrc = nghttp2_session_client_new(&c->session, cb, c);
  nghttp2_session_callbacks_del(cb);
  if (nrc != 0)
    abort();                        /* only NGHTTP2_ERR_NOMEM */
  nghttp2_settings_entry settings[] = {
    { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
    { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW_BYTES },
  };
  nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, sizeof settings / sizeof settings[0]);
  nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, WINDOW_BYTES);
  if ((rc = flush(c)) != 0) {
    conn_close(c);
    return error_set(err, ERR_NETWORK_ERROR, "HTTP/2 preface to %s:%u: %s", t->host, (unsigned)t->port,
                     strerror(-rc));
  }
  return 0;
}

static void broken(struct grpc_conn *c, struct loadgen_reply *reply, const char *what)
{
  reply->outcome = LOADGEN_BROKEN;
  snprintf(reply->detail, sizeof reply->detail, "%s", what);
  conn_close(c);
}

#define NV(name, value) { (uint8_t *)(name), (uint8_t *)(value), strlen(name), strlen(value), NGHTTP2_NV_FLAG_NONE }

static void grpc_export(void *conn, const uint8_t *body, size_t body_len, struct loadgen_reply *reply)
{
  struct grpc_conn *c = conn;
  const struct loadgen_target *t = c->target;
  *reply = (struct loadgen_reply){ .status = -1, .retry_after_s = -1 };
  if (c->fd < 0) {
    struct error err = { 0 };
    if (conn_connect(c, &err) != 0) {
      reply->outcome = LOADGEN_BROKEN;
      snprintf(reply->detail, sizeof reply->detail, "%.150s", err.message);
      return;
    }
  }
  struct grpc_call *call = &c->call;
  memset(call, 0, offsetof(struct grpc_call, keep));
  call->kept = 0;
  call->http_status = call->grpc_status = -1;
  call->body = body;
  call->body_len = body_len;
  call->prefix[1] = (uint8_t)(body_len >> 24);
  call->prefix[2] = (uint8_t)(body_len >> 16);
  call->prefix[3] = (uint8_t)(body_len >> 8);
  call->prefix[4] = (uint8_t)body_len;

  nghttp2_nv headers[] = {
    NV(":method", "POST"),
    NV(":scheme", "http"),
    NV(":path", EXPORT_PATH),
    NV(":authority", c->authority),
    NV("content-type", "application/grpc"),
    NV("te", "trailers"),
    NV("user-agent", "spanhouse-loadgen"),
    NV("x-scope-orgid", t->tenant ? t->tenant : ""),
  };
  size_t header_count = sizeof headers / sizeof headers[0] - (t->tenant ? 0 : 1);
  nghttp2_data_provider provider = { .source.ptr = call, .read_callback = read_request_body };
  call->stream_id = nghttp2_submit_request(c->session, NULL, headers, header_count, &provider, c);
  if (call->stream_id < 0) {
    broken(c, reply, "cannot submit the request (stream ids exhausted)");
    return;
  }
  for (;;) {
    int rc = flush(c);
    if (rc) {
      broken(c, reply, rc == -EPROTO ? "HTTP/2 session failed" : strerror(-rc));
      return;
    }
    if (call->closed)
      break;
    if (!nghttp2_session_want_read(c->session)) {
      broken(c, reply, "server closed the HTTP/2 session");
      return;
    }
    ssize_t n = net_recv_timeout(c->fd, c->in, sizeof c->in, t->timeout_ms);
    if (n <= 0) {
      broken(c, reply, n == 0 ? "server closed the connection" : strerror((int)-n));
      return;
    }
    if (nghttp2_session_mem_recv(c->session, c->in, (size_t)n) < 0) {
      broken(c, reply, "HTTP/2 protocol error from the server");
      return;
    }
  }
  if (call->grpc_status < 0) {
    reply->outcome = LOADGEN_REJECTED;
    reply->status = -1;
    snprintf(reply->detail, sizeof reply->detail, "no grpc-status (HTTP %d, RST_STREAM %u)", call->http_status,
             call->reset_code);
    return;
  }
  reply->status = call->grpc_status;
  if (call->grpc_status == 0) {
    reply->outcome = LOADGEN_OK;
    if (call->kept > PREFIX_BYTES && call->keep[0] == 0)
      reply->rejected_spans = loadgen_rejected_spans(call->keep + PREFIX_BYTES, call->kept - PREFIX_BYTES);
  } else if (call->grpc_status == 8 || call->grpc_status == 14) {   /* RESOURCE_EXHAUSTED, UNAVAILABLE */
    reply->outcome = LOADGEN_REFUSED;
  } else {
    reply->outcome = LOADGEN_REJECTED;
    snprintf(reply->detail, sizeof reply->detail, "grpc-status %d: %s", call->grpc_status, call->grpc_message);
  }
}

static int grpc_open(const struct loadgen_target *target, void **conn, struct error *err)
{
  struct grpc_conn *c = mem_calloc(1, sizeof *c);
  c->fd = -1;
  c->target = target;
  snprintf(c->authority, sizeof c->authority, "%s:%u", target->host, (unsigned)target->port);
  int rc = conn_connect(c, err);
  if (rc) {
    mem_free(c);
    return rc;
  }
  *conn = c;
  return 0;
}

static void grpc_close(void *conn)
{
  struct grpc_conn *c = conn;
  if (!c)
    return;
  conn_close(c);
  mem_free(c);
}

const struct loadgen_transport loadgen_grpc_transport = {
  .name = "grpc",
  .default_port = 4317,
  .open = grpc_open,
  .export = grpc_export,
  .close = grpc_close,
};
