/* loadgen: `spanhouse loadgen`, an OTLP trace load generator. This header is
 * shared by its files only: loadgen.c (options, connection threads, the
 * report), loadgen_body.c (the pool of pre-encoded requests), loadgen_tcp.c
 * (connecting) and the two transports behind one interface,
 * loadgen_http.c (OTLP/HTTP, HTTP/1.1 keep-alive) and loadgen_grpc.c
 * (OTLP/gRPC over h2c on nghttp2). A transport connection belongs to one
 * thread and carries one request at a time. */
#ifndef SPANHOUSE_TOOLS_LOADGEN_H
#define SPANHOUSE_TOOLS_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;

/* `spanhouse loadgen ARGS...` (argv without the subcommand); returns the
 * process exit status. */
int loadgen_main(int argc, char **argv);

/* ---- request bodies */

/* One ExportTraceServiceRequest (protobuf) and where its ids sit, so a copy
 * can be given fresh trace and span ids without re-encoding. */
struct loadgen_body {
  uint8_t *data;
  size_t len;
  uint32_t spans;
  uint32_t *trace_id_off;           /* offsets of 16-byte trace ids (spans and links) */
  uint32_t *span_id_off;            /* offsets of 8-byte span, parent and link span ids */
  uint32_t *time_off;               /* offsets of fixed64 span start/end and event times */
  uint32_t trace_ids, span_ids, times;
};

struct loadgen_pool_config {
  uint64_t seed;
  uint32_t bodies;                  /* distinct requests */
  uint32_t batch_spans;             /* spans per request */
  int span_attrs;                   /* attributes per span; 0 = generator's mix */
  uint32_t services;                /* distinct service.name values; 0 = the generator's 35 */
};

struct loadgen_pool {
  struct loadgen_body *bodies;
  uint32_t count;
  size_t len_max;                   /* the largest body, for per-thread copies */
};

/* Generates and encodes the pool before any clock starts. Out of memory
 * aborts; a body the id scanner cannot walk is ERR_LOGICAL_ERROR. */
int loadgen_pool_build(struct loadgen_pool *pool, const struct loadgen_pool_config *cfg, struct error *err);
void loadgen_pool_free(struct loadgen_pool *pool);
/* Copies body into dst (body->len bytes), xors every id with salt-derived
 * masks (a request's traces stay whole; each salt gives new ids) and moves
 * every timestamp so the request's spans end about now_ns. */
void loadgen_body_copy_salted(const struct loadgen_body *body, uint64_t salt, int64_t now_ns, uint8_t *dst);
/* ExportTraceServiceResponse.partial_success.rejected_spans of a response
 * body; 0 if absent or unreadable. */
uint64_t loadgen_rejected_spans(const uint8_t *p, size_t len);

/* ---- transports */

struct loadgen_target {
  char host[256];
  uint16_t port;
  const char *tenant;               /* X-Scope-OrgID; NULL = none */
  int timeout_ms;                   /* per request and per connect */
};

enum loadgen_outcome {
  LOADGEN_OK,                       /* 200 / grpc-status 0 */
  LOADGEN_REFUSED,                  /* 429, 503 / RESOURCE_EXHAUSTED, UNAVAILABLE */
  LOADGEN_REJECTED,                 /* any other status */
  LOADGEN_BROKEN,                   /* no status: the connection failed; reconnect */
};

struct loadgen_reply {
  enum loadgen_outcome outcome;
  int status;                       /* HTTP status or grpc-status; -1 if none */
  int retry_after_s;                /* Retry-After / RetryInfo seconds; -1 if none */
  uint64_t rejected_spans;          /* partial success */
  char detail[160];                 /* why, for BROKEN and REJECTED */
};

struct loadgen_transport {
  const char *name;                 /* "http", "grpc" */
  uint16_t default_port;
  /* 0 or an ERR_ code with err filled; *conn is set on success. */
  int (*open)(const struct loadgen_target *target, void **conn, struct error *err);
  /* Sends one export request and waits for its answer; fills reply. After
   * LOADGEN_BROKEN (or a server-side close) the next export reconnects. */
  void (*export)(void *conn, const uint8_t *body, size_t len, struct loadgen_reply *reply);
  void (*close)(void *conn);
};

extern const struct loadgen_transport loadgen_http_transport;
extern const struct loadgen_transport loadgen_grpc_transport;

/* A connected TCP socket (non-blocking, TCP_NODELAY) to host:port, or an
 * ERR_ code. */
int loadgen_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fd_out, struct error *err);

#endif
