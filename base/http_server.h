/* Generic HTTP/1.1 server. N network threads each run an event loop with its
 * own SO_REUSEPORT listener; a loop accepts and reads until a request head is
 * complete, then hands the connection to a handler-pool thread where the
 * handler runs in blocking style (body reader, response writer). Afterwards
 * the connection returns to its loop for keep-alive. Several servers (ports)
 * can run in one process, each with its own handler and ctx. See
 * base/README.md for the threading model, limits and statuses. */
#ifndef SPANHOUSE_BASE_HTTP_SERVER_H
#define SPANHOUSE_BASE_HTTP_SERVER_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/evloop.h"
#include "base/http1.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct error;
struct metrics;
struct http_server;
struct http_conn;
struct http_response;

/* What a handler sees of the request. Valid until the handler returns. */
struct http_request {
  struct http_head head;             /* method, path, query, headers: slices into request memory */
  struct arena *arena;               /* request lifetime: reset after the response */
  const char *peer;                  /* client "ip:port" */
  int64_t start_ns;                  /* monotonic time the head was complete */
  struct http_conn *conn;            /* private */
};

/* Runs on a handler-pool thread; may block (socket I/O has timeouts). If it
 * returns without ending the response the server ends it; without beginning
 * one, the server answers 500. */
typedef void (*http_handler_fn)(void *ctx, struct http_request *req, struct http_response *resp);

struct http_server_config {
  const char *name;                  /* for logs and the metrics label server="name" */
  const char *host;                  /* listen host; NULL, "" or "*" = any */
  uint16_t port;                     /* 0 = a free port (see http_server_port) */
  int loop_threads;                  /* 0 = number of CPUs */
  int handler_threads;               /* 0 = max(16, 4 * loop_threads) */
  uint64_t max_body_bytes;           /* wire and decompressed body cap; 0 = HTTP_BODY_BYTES_MAX */
  int max_connections;               /* 0 = HTTP_CONNECTIONS_MAX */
  int keepalive_timeout_ms;          /* idle connection timeout; 0 = 10000 */
  int io_timeout_ms;                 /* handler-side send/recv timeout; 0 = 30000 */
  int stop_timeout_ms;               /* graceful stop: wait for in-flight requests; 0 = 30000 */
  enum evloop_backend backend;       /* from evloop_backend_select; EVLOOP_AUTO probes */
  http_handler_fn handler;
  void *handler_ctx;
  struct metrics *metrics;           /* optional; must outlive the server */
};

struct http_server_stats {
  uint64_t connections;              /* open now */
  uint64_t in_flight;                /* requests inside handlers */
  uint64_t requests;                 /* total handled */
  struct evloop_stats loops;         /* summed over the server's loops */
};

/* ---- server lifetime (any thread; stop and destroy from one thread) */
int  http_server_start(struct http_server **out, const struct http_server_config *cfg, struct error *err);
uint16_t http_server_port(const struct http_server *srv);
/* Stops accepting, closes idle connections, waits for in-flight requests
 * (up to stop_timeout_ms, then their sockets are shut down), joins threads. */
void http_server_stop(struct http_server *srv);
void http_server_destroy(struct http_server *srv);               /* stops first if needed */
void http_server_get_stats(struct http_server *srv, struct http_server_stats *out);
const char *http_server_backend_name(const struct http_server *srv);

/* ---- request (handler thread) */
struct slice http_request_header(const struct http_request *req, const char *name);  /* {NULL,0} if absent */
struct slice http_request_query_string(const struct http_request *req);             /* raw, after '?' */
bool http_request_is_method(const struct http_request *req, const char *method);
/* Reads the body, de-chunked and decoded per Content-Encoding (gzip, deflate,
 * zstd). Returns bytes (> 0), 0 at the end, or -ERR_ code:
 *   -ERR_INCORRECT_DATA (400) bad chunked framing, -ERR_QUERY_IS_TOO_LARGE
 *   (413) over max_body_bytes (wire or decompressed), -ERR_UNSUPPORTED_MEDIA_TYPE
 *   (415) unknown Content-Encoding, -ERR_CANNOT_DECOMPRESS corrupt data,
 *   -ERR_CANNOT_READ_ALL_DATA client closed early, -ERR_SOCKET_TIMEOUT,
 *   -ERR_NETWORK_ERROR. The message is in http_body_error; errors repeat.
 * Sends "100 Continue" first when the client asked for it. */
ssize_t http_body_read(struct http_request *req, void *dst, size_t cap);
const struct error *http_body_error(const struct http_request *req);
const char *http_request_body_error(const struct http_request *req);   /* message of the above */

/* ---- response (handler thread). Functions return 0, or an ERR_ code:
 * ERR_NETWORK_ERROR / ERR_SOCKET_TIMEOUT once the client is gone (later
 * calls keep failing; the connection is closed), ERR_LOGICAL_ERROR on misuse. */
/* Sets status and Content-Type (NULL = none). Before the head is sent it may
 * be called again: that discards headers and buffered body (error paths). */
int  http_response_begin(struct http_response *resp, int status, const char *content_type);
/* Adds a header line; only before the head is sent (see started). */
int  http_response_add_header(struct http_response *resp, const char *name, const char *value);
/* Compresses the body with "gzip", "deflate" or "zstd" (NULL/"" = none);
 * before the first write. Pick from Accept-Encoding with compress_codec_from_accept. */
int  http_response_set_encoding(struct http_response *resp, const char *coding);
/* Keeps the whole body in memory and sends it with Content-Length at end
 * (for a body the caller has already bounded); only before the head is sent. */
void http_response_hold(struct http_response *resp);
/* Forces Connection: close after this response. */
void http_response_close_after(struct http_response *resp);
/* Appends body bytes. Small writes are buffered; past ~64 KiB the head goes
 * out with Transfer-Encoding: chunked and pieces stream as produced. A
 * response that fits the buffer at end goes out with Content-Length. */
int  http_response_write(struct http_response *resp, const void *data, size_t len);
int  http_response_printf(struct http_response *resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends what is buffered now (streaming progress). */
int  http_response_flush(struct http_response *resp);
/* Finishes the body (last chunk). Unread request body is drained first when
 * the head is not yet out, so a broken body still gets its 400/413. */
int  http_response_end(struct http_response *resp);
/* True once the head (status line and headers) has been sent: after that an
 * error can only be appended to the body. */
bool http_response_started(const struct http_response *resp);
int  http_response_status(const struct http_response *resp);
/* begin + write + end in one call. */
int  http_response_send(struct http_response *resp, int status, const char *content_type, const char *body);

#endif
