/* loadgen_http: OTLP/HTTP export over a hand-written HTTP/1.1 client, one
 * keep-alive connection, one request at a time. The response is read whole
 * (Content-Length, chunked, or until close) so the connection can carry the
 * next request; only its first bytes are kept, for partial success and for
 * the error text.
 *
 * A connection is OPEN or CLOSED (fd -1) between requests. export() on a
 * CLOSED one connects first; then it sends the head and body (sendv),
 * reads the head (read_head) and the body (read_body_*), and leaves the
 * connection OPEN, or CLOSED when the server said `Connection: close` or
 * anything failed (LOADGEN_BROKEN). */
#include "tools/loadgen.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
  IN_BYTES      = 64 * 1024,        /* receive buffer; a response head must fit */
  KEEP_BYTES    = 4096,             /* response body bytes kept for inspection */
  REQ_HEAD_MAX  = 1024,
};

struct http_conn {
  int fd;                           /* -1 once broken or closed by the server */
  const struct loadgen_target *target;
  char in[IN_BYTES];
  size_t pos, len;                  /* unread bytes are in[pos, len) */
  uint8_t keep[KEEP_BYTES];
  size_t kept;
};

/* The parts of a response head that matter here. */
struct http_head {
  int status;
  bool chunked, close, has_length;
  uint64_t content_length;
  int retry_after_s;
};

/* Reads more bytes after the unread ones: >0 bytes, 0 at EOF, or -errno. */
static ssize_t fill(struct http_conn *c)
{
  if (c->pos > 0) {
    memmove(c->in, c->in + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
  }
  if (c->len == sizeof c->in)
    return -EMSGSIZE;
  ssize_t n = net_recv_timeout(c->fd, c->in + c->len, sizeof c->in - c->len, c->target->timeout_ms);
  if (n > 0)
    c->len += (size_t)n;
  return n;
}

static void keep_bytes(struct http_conn *c, const char *p, size_t n)
{
  size_t room = KEEP_BYTES - c->kept;
  if (n > room)
    n = room;
  memcpy(c->keep + c->kept, p, n);
  c->kept += n;
}

/* One CRLF-terminated line (without the CRLF): 0, or -errno / -EPROTO. */
static int read_line(struct http_conn *c, char **line, size_t *line_len)
{
  for (;;) {
    char *start = c->in + c->pos;
    char *lf = memchr(start, '\n', c->len - c->pos);
    if (lf) {
      *line = start;
      *line_len = (size_t)(lf - start) - (lf > start && lf[-1] == '\r');
      c->pos = (size_t)(lf - c->in) + 1;
      return 0;
    }
    ssize_t n = fill(c);
    if (n <= 0)
      return n == 0 ? -EPIPE : (int)n;
  }
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
  size_t n = strlen(name);
  if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
    return false;
  const char *v = line + n + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  *value = v;
  return true;
}

static int read_head(struct http_conn *c, struct http_head *h)
{
  char *line;
  size_t len;
  int rc = read_line(c, &line, &len);
  if (rc)
    return rc;
  /* "HTTP/1.1 200 OK" */
  if (len < 12 || strncmp(line, "HTTP/1.", 7) != 0)
    return -EPROTO;
  h->status = atoi(line + 9);
  if (h->status < 100 || h->status > 599)
    return -EPROTO;
  for (;;) {
    if ((rc = read_line(c, &line, &len)) != 0)
      return rc;
    if (len == 0)
      return 0;
    line[len] = '\0';               /* over the CR or LF: the line is consumed */
    const char *v;
    if (header_is(line, len, "Content-Length", &v)) {
      h->has_length = true;
      h->content_length = strtoull(v, NULL, 10);
    } else if (header_is(line, len, "Transfer-Encoding", &v)) {
      h->chunked = strcasestr(v, "chunked") != NULL;
    } else if (header_is(line, len, "Connection", &v)) {
      h->close = strcasestr(v, "close") != NULL;
    } else if (header_is(line, len, "Retry-After", &v)) {
      h->retry_after_s = atoi(v);
    }
  }
}

/* Consumes n body bytes (keeping the first ones): 0 or -errno. */
static int read_exact(struct http_conn *c, uint64_t n)
{
  while (n > 0) {
    if (c->pos == c->len) {
      ssize_t got = fill(c);
      if (got <= 0)
        return got == 0 ? -EPIPE : (int)got;
    }
    size_t take = c->len - c->pos;
    if (take > n)
      take = (size_t)n;
    keep_bytes(c, c->in + c->pos, take);
    c->pos += take;
    n -= take;
  }
  return 0;
}

/* chunk = hex-size [;ext] CRLF data CRLF; a 0 chunk, trailers, CRLF end it. */
static int read_body_chunked(struct http_conn *c)
{
  char *line;
  size_t len;
  int rc;
  for (;;) {
    if ((rc = read_line(c, &line, &len)) != 0)
      return rc;
    char *end;
    unsigned long long size = strtoull(line, &end, 16);
    if (end == line)
      return -EPROTO;
    if (size == 0)
      break;
    if ((rc = read_exact(c, size)) != 0 || (rc = read_line(c, &line, &len)) != 0)
      return rc;
    if (len != 0)
      return -EPROTO;
  }
  do
    if ((rc = read_line(c, &line, &len)) != 0)
      return rc;
  while (len != 0);
  return 0;
}

/* No length and not chunked: the body runs to the end of the connection. */
static int read_body_to_close(struct http_conn *c)
{
  for (;;) {
    keep_bytes(c, c->in + c->pos, c->len - c->pos);
    c->pos = c->len;
    ssize_t n = fill(c);
    if (n == 0)
      return 0;
    if (n < 0)
      return (int)n;
  }
}

static void broken(struct http_conn *c, struct loadgen_reply *reply, const char *what, int neg_errno)
{
  reply->outcome = LOADGEN_BROKEN;
  snprintf(reply->detail, sizeof reply->detail, "%s: %s", what,
           neg_errno == -EPROTO ? "malformed HTTP response" : strerror(-neg_errno));
  close(c->fd);
  c->fd = -1;
}

static void http_export(void *conn, const uint8_t *body, size_t body_len, struct loadgen_reply *reply)
{
  struct http_conn *c = conn;
  *reply = (struct loadgen_reply){ .status = -1, .retry_after_s = -1 };
  const struct loadgen_target *t = c->target;
  if (c->fd < 0) {                  /* closed after the last answer, or broken */
    struct error err = { 0 };
    if (loadgen_tcp_connect(t->host, t->port, t->timeout_ms, &c->fd, &err) != 0) {
      c->fd = -1;
      reply->outcome = LOADGEN_BROKEN;
      snprintf(reply->detail, sizeof reply->detail, "%.150s", err.message);
      return;
    }
    c->pos = c->len = 0;
  }
  char head[REQ_HEAD_MAX];
  int head_len = snprintf(head, sizeof head,
                          "POST /v1/traces HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: spanhouse-loadgen\r\n"
                          "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n%s%s%s\r\n",
                          t->host, (unsigned)t->port, body_len, t->tenant ? "X-Scope-OrgID: " : "",
                          t->tenant ? t->tenant : "", t->tenant ? "\r\n" : "");
  struct iovec iov[2] = { { head, (size_t)head_len }, { (void *)body, body_len } };
  int rc = net_sendv_all_timeout(c->fd, iov, 2, t->timeout_ms);
  if (rc) {
    broken(c, reply, "send", rc);
    return;
  }
  struct http_head h = { .retry_after_s = -1 };
  c->kept = 0;
  if ((rc = read_head(c, &h)) != 0) {
    broken(c, reply, "response head", rc);
    return;
  }
  if (h.chunked)
    rc = read_body_chunked(c);
  else if (h.has_length)
    rc = read_exact(c, h.content_length);
  else {
    rc = read_body_to_close(c);
    h.close = true;
  }
  if (rc) {
    broken(c, reply, "response body", rc);
    return;
  }
  reply->status = h.status;
  if (h.status == 200) {
    reply->outcome = LOADGEN_OK;
    reply->rejected_spans = loadgen_rejected_spans(c->keep, c->kept);
  } else if (h.status == 429 || h.status == 503) {
    reply->outcome = LOADGEN_REFUSED;
    reply->retry_after_s = h.retry_after_s;
  } else {
    reply->outcome = LOADGEN_REJECTED;
    size_t n = 0;                   /* the first line of the error text */
    while (n < c->kept && c->keep[n] != '\r' && c->keep[n] != '\n')
      n++;
    snprintf(reply->detail, sizeof reply->detail, "HTTP %d: %.*s", h.status, (int)n, (const char *)c->keep);
  }
  if (h.close) {
    close(c->fd);
    c->fd = -1;
  }
}

static int http_open(const struct loadgen_target *target, void **conn, struct error *err)
{
  int fd;
  int rc = loadgen_tcp_connect(target->host, target->port, target->timeout_ms, &fd, err);
  if (rc)
    return rc;
  struct http_conn *c = mem_calloc(1, sizeof *c);
  c->fd = fd;
  c->target = target;
  *conn = c;
  return 0;
}

static void http_close(void *conn)
{
  struct http_conn *c = conn;
  if (!c)
    return;
  if (c->fd >= 0)
    close(c->fd);
  mem_free(c);
}

const struct loadgen_transport loadgen_http_transport = {
  .name = "http",
  .default_port = 4318,
  .open = http_open,
  .export = http_export,
  .close = http_close,
};
