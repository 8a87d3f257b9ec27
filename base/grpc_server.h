/* Generic gRPC server over HTTP/2 cleartext (h2c with prior knowledge, what
 * OTLP/gRPC exporters speak), on nghttp2. Unary calls only. N network
 * threads each own a SO_REUSEPORT listener and drive nghttp2 for their
 * connections without blocking; a complete request message goes to a
 * handler-pool thread, where the handler may block, and its reply comes back
 * to the connection's loop (evloop_post). Handlers are registered by full
 * method path before start. See base/README.md for the design and limits. */
#ifndef SPANHOUSE_BASE_GRPC_SERVER_H
#define SPANHOUSE_BASE_GRPC_SERVER_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/evloop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;
struct mem_budget;
struct metrics;
struct grpc_server;
struct grpc_call;

/* gRPC status codes (the wire numbers of grpc-status). */
enum grpc_status {
  GRPC_STATUS_OK                  = 0,
  GRPC_STATUS_CANCELLED           = 1,
  GRPC_STATUS_UNKNOWN             = 2,
  GRPC_STATUS_INVALID_ARGUMENT    = 3,
  GRPC_STATUS_DEADLINE_EXCEEDED   = 4,
  GRPC_STATUS_NOT_FOUND           = 5,
  GRPC_STATUS_ALREADY_EXISTS      = 6,
  GRPC_STATUS_PERMISSION_DENIED   = 7,
  GRPC_STATUS_RESOURCE_EXHAUSTED  = 8,
  GRPC_STATUS_FAILED_PRECONDITION = 9,
  GRPC_STATUS_ABORTED             = 10,
  GRPC_STATUS_OUT_OF_RANGE        = 11,
  GRPC_STATUS_UNIMPLEMENTED       = 12,
  GRPC_STATUS_INTERNAL            = 13,
  GRPC_STATUS_UNAVAILABLE         = 14,
  GRPC_STATUS_DATA_LOSS           = 15,
  GRPC_STATUS_UNAUTHENTICATED     = 16,
  GRPC_STATUS_COUNT
};

/* Runs on a handler-pool thread and may block. msg/len is the request
 * message, decompressed; valid until the handler returns. The handler answers
 * with grpc_call_reply or grpc_call_fail (the first one counts); returning
 * without either answers UNKNOWN. */
typedef void (*grpc_handler_fn)(void *ctx, struct grpc_call *call, const void *msg, size_t len);

/* Admission, on the network thread once a call's headers are complete and
 * before its body is read: return 0 to accept, or a status (usually
 * RESOURCE_EXHAUSTED or UNAVAILABLE) to refuse, with *message set to a static
 * string (or NULL). Must not block; may read method and metadata. */
typedef int (*grpc_admit_fn)(void *ctx, const struct grpc_call *call, const char **message);

struct grpc_server_config {
  const char *name;                  /* for logs and the metrics label server="name" */
  const char *host;                  /* listen host; NULL, "" or "*" = any */
  uint16_t port;                     /* 0 = a free port (see grpc_server_port) */
  int loop_threads;                  /* 0 = min(number of CPUs, 4) */
  int handler_threads;               /* 0 = max(8, 2 * CPUs) */
  uint32_t max_recv_message_bytes;   /* request message, wire and decompressed; 0 = GRPC_MESSAGE_BYTES_MAX */
  uint32_t max_concurrent_streams;   /* SETTINGS_MAX_CONCURRENT_STREAMS; 0 = GRPC_CONCURRENT_STREAMS_MAX */
  int max_connections;               /* 0 = GRPC_CONNECTIONS_MAX; more are closed at once */
  int max_queued_calls;              /* calls waiting for a handler thread; more get UNAVAILABLE; 0 = 4096 */
  int idle_timeout_ms;               /* nothing received and no call running: GOAWAY; 0 = 300000 */
  int stop_timeout_ms;               /* graceful stop: wait for in-flight calls; 0 = 30000 */
  int compress_min_bytes;            /* gzip replies this big when the client accepts it; 0 = never */
  enum evloop_backend backend;       /* EVLOOP_AUTO probes (evloop_backend_select) */
  struct mem_budget *budget;         /* optional: request messages reserve their declared size here
                                        while held; a failed reservation answers RESOURCE_EXHAUSTED */
  grpc_admit_fn admit;               /* optional */
  void *admit_ctx;
  struct metrics *metrics;           /* optional; must outlive the server */
};

struct grpc_server_stats {
  uint64_t connections;              /* open now */
  uint64_t in_flight;                /* calls handed to handlers and not yet finished */
  uint64_t calls;                    /* calls answered (any status) */
  uint64_t by_status[GRPC_STATUS_COUNT];
};

/* ---- server lifetime. create, register, start; stop and destroy from one thread. */
/* Validates the config; no threads or sockets yet. Returns 0 or ERR_ code. */
int  grpc_server_create(struct grpc_server **out, const struct grpc_server_config *cfg, struct error *err);
/* Registers fn for a full method path "/package.Service/Method". Before start
 * only; ERR_BAD_ARGUMENTS for a malformed or duplicate path. */
int  grpc_server_register(struct grpc_server *srv, const char *path, grpc_handler_fn fn, void *ctx,
                          struct error *err);
/* Listens and starts the threads. Returns 0 or ERR_ code (bind failed, ...). */
int  grpc_server_start(struct grpc_server *srv, struct error *err);
uint16_t grpc_server_port(const struct grpc_server *srv);
/* Graceful stop: listeners close, every connection gets GOAWAY, in-flight
 * calls finish (up to stop_timeout_ms; then connections are closed and
 * running handlers see grpc_call_cancelled), threads are joined. */
void grpc_server_stop(struct grpc_server *srv);
void grpc_server_destroy(struct grpc_server *srv);             /* stops first if needed */
void grpc_server_get_stats(struct grpc_server *srv, struct grpc_server_stats *out);

/* ---- call (handler thread; method and metadata also in admit) */
const char *grpc_call_method(const struct grpc_call *call);     /* "/package.Service/Method" */
/* First value of a metadata entry; name is matched ASCII case-insensitively
 * ("x-scope-orgid"). {NULL,0} if absent. The value is NUL-terminated.
 * "-bin" entries are returned as sent (base64). */
struct slice grpc_call_metadata(const struct grpc_call *call, const char *name);
const char *grpc_call_peer(const struct grpc_call *call);       /* client "ip:port" */
int64_t grpc_call_deadline_ns(const struct grpc_call *call);    /* monotonic, from grpc-timeout; 0 = none */
/* True once the answer can no longer reach the client: it reset the stream
 * or left, the deadline passed, or a stop timed out. Handlers that run long
 * should check it and give up. Any thread. */
bool grpc_call_cancelled(const struct grpc_call *call);
struct arena *grpc_call_arena(struct grpc_call *call);          /* freed with the call */
/* Answers OK with one message (copied; gzip-compressed when the client
 * accepts it and it reaches compress_min_bytes). Returns 0, or
 * ERR_LOGICAL_ERROR if the call was already answered. */
int  grpc_call_reply(struct grpc_call *call, const void *msg, size_t len);
/* Answers with a non-OK status (GRPC_STATUS_*) and a message (sent
 * percent-encoded in grpc-message). Same return as grpc_call_reply. */
int  grpc_call_fail(struct grpc_call *call, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* grpc_call_fail with a grpc-status-details-bin trailer: details_bin is the
 * base64 (unpadded) of a google.rpc.Status, e.g. carrying a RetryInfo. */
int  grpc_call_fail_details(struct grpc_call *call, int status, const char *details_bin, const char *message);

/* ---- helpers */
const char *grpc_status_name(int status);                       /* "RESOURCE_EXHAUSTED"; "UNKNOWN" if out of range */
/* Percent-encodes a grpc-message value (bytes outside 0x20..0x7e and '%'). */
void grpc_message_encode(struct buf *out, const char *msg, size_t len);

#endif
