/* tracegen: the deterministic generator of realistic OpenTelemetry traces
 * shared by spangen (benchmark data files) and `spanhouse loadgen` (live
 * OTLP load). It owns the service topology of one seed, the trace shapes,
 * the spans' attributes, events and links, and the resource attributes of
 * every (tenant, service, pod). Writers (TSV in spangen, OTLP in
 * tracegen_otlp.c) only read what it produces. libc and libm only, so
 * spangen stays standalone. One generator per thread: nothing is shared. */
#ifndef SPANHOUSE_TOOLS_TRACEGEN_H
#define SPANHOUSE_TOOLS_TRACEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- limits and calendar */

#define SPANS_PER_TRACE_MAX 50
#define ATTRS_MAX           20      /* natural span attributes; the issue asks for 5..20 */
#define ATTRS_MIN           5
#define SPAN_ATTRS_CAP      64      /* room for a forced count (tracegen_options.span_attrs) */
#define EVENTS_MAX          3
#define EVENT_ATTRS_MAX     4
#define LINKS_MAX           3
#define LINK_ATTRS_MAX      2
#define INSTANCES_MAX       6       /* pods per service and tenant */
#define SCRATCH_BYTES       16384   /* dynamic strings of one span */
#define RESOURCE_ATTRS_MAX  20

#define T0_SEC   1735689600ull      /* 2025-01-01 00:00:00 UTC */
#define DAYS     59                 /* two months: January and February 2025 */
#define HOURS    (DAYS * 24)
#define NS       1000000000ull
#define MS       1000000ull
#define US       1000ull

/* ---- byte buffers: grown by doubling; out of memory aborts */

struct bytes {
  char *p;
  size_t len, cap;
};

void bytes_grow(struct bytes *b, size_t need);
void bytes_free(struct bytes *b);
void bytes_put_u64(struct bytes *b, uint64_t v);    /* decimal */
void bytes_put_i64(struct bytes *b, int64_t v);     /* decimal */
void bytes_put_hex(struct bytes *b, const uint8_t *id, size_t n);

static inline char *bytes_room(struct bytes *b, size_t n)
{
  if (b->len + n > b->cap)
    bytes_grow(b, n);
  return b->p + b->len;
}

static inline void bytes_put(struct bytes *b, const void *s, size_t n)
{
  if (n == 0)                       /* s may be an empty buffer's NULL */
    return;
  memcpy(bytes_room(b, n), s, n);
  b->len += n;
}

static inline void bytes_putc(struct bytes *b, char c)
{
  *bytes_room(b, 1) = c;
  b->len++;
}

static inline void bytes_puts(struct bytes *b, const char *s) { bytes_put(b, s, strlen(s)); }

/* ---- random numbers: xoshiro256** seeded by splitmix64 */

struct rng {
  uint64_t s[4];
};

/* ---- the world's fixed tables: tenants, languages, services */

enum { TENANT_COUNT = 6, SVC_COUNT = 35 };
/* --services above SVC_COUNT renames second pods: every service has two. */
enum { TRACEGEN_SERVICES_MAX = 2 * SVC_COUNT };

struct tenant {
  const char *id;
  double share;
  const char *cloud, *region, *plan, *trace_state;
};

enum lang { GO, JAVA, PYTHON, NODE, DOTNET, RUST, LANG_COUNT };
/* Instrumentation kinds; each (language, kind) is one instrumentation scope. */
enum itype { I_HTTP_SERVER, I_HTTP_CLIENT, I_GRPC, I_DB, I_CACHE, I_MSG, I_INTERNAL, ITYPE_COUNT };

struct lang_def {
  const char *sdk, *sdk_version, *runtime, *runtime_version;
  const char *scope[ITYPE_COUNT];
  const char *scope_version[ITYPE_COUNT];
  const char *user_agent;           /* what its HTTP client sends */
  const char *exc_http, *exc_db, *exc_rpc;
  const char *file_ext;
};

struct svc_def {
  const char *name, *ns;
  int tier;
  enum lang lang;
  bool grpc;
  const char *db_system, *db_name, *tables;  /* tables: space-separated */
  bool redis;
  const char *produces, *consumes;           /* Kafka topics */
  const char *nouns;                         /* resources its API serves */
};

enum kind { K_UNSPECIFIED, K_INTERNAL, K_SERVER, K_CLIENT, K_PRODUCER, K_CONSUMER };

extern const struct tenant tracegen_tenants[TENANT_COUNT];
extern const struct lang_def tracegen_langs[LANG_COUNT];
extern const struct svc_def tracegen_services[SVC_COUNT];
extern const char *const tracegen_kind_names[6];     /* by enum kind: "Server", ... */
extern const char *const tracegen_status_names[3];   /* "Unset", "Ok", "Error" */

/* ---- one trace: a tree of nodes, generated before its spans are filled */

struct node {
  int32_t parent;
  uint16_t svc, inst;
  uint8_t kind, itype, stype;
  uint8_t err, timeout;
  uint16_t status;                  /* HTTP status, gRPC code for gRPC spans */
  uint32_t op;                      /* server op; for client spans the target server op */
  uint32_t ref;                     /* statement, cache command, topic, internal name */
  uint64_t rel_ns, dur_ns, start_ns;
  uint8_t span_id[8];
};

struct trace {
  struct node n[SPANS_PER_TRACE_MAX];
  int count, budget;
  int tenant;
  uint16_t inst_of[SVC_COUNT];      /* the pod of each service serving this trace */
  uint8_t trace_id[16];
  uint32_t user;                    /* 0: anonymous */
  uint8_t session[8], request[8];
  uint32_t product;
  uint64_t start_ns;                /* the root span's start */
  struct rng *r;
};

/* ---- one span as the writers see it */

enum atype { A_STR, A_INT, A_BOOL, A_DBL };

struct attr {
  const char *k;
  const char *s;                    /* A_STR */
  uint32_t slen;
  uint8_t type;
  int64_t i;                        /* A_INT, A_BOOL; A_DBL: hundredths */
};

struct event {
  uint64_t ts_ns;
  const char *name;
  struct attr a[EVENT_ATTRS_MAX];
  int na;
};

struct link {
  uint8_t trace_id[16], span_id[8];
  const char *trace_state;
  struct attr a[LINK_ATTRS_MAX];
  int na;
};

struct span {
  int tenant, svc, inst, scope_itype;
  const uint8_t *trace_id, *span_id, *parent_id;
  const char *trace_state;
  const char *name;
  uint32_t name_len;
  int kind;
  uint64_t start_ns, end_ns;
  struct attr a[SPAN_ATTRS_CAP];
  int na;
  int status;                       /* 0 unset, 1 ok, 2 error */
  const char *status_msg;
  struct event ev[EVENTS_MAX];
  int nev;
  struct link lk[LINKS_MAX];
  int nlk;
  char scratch[SCRATCH_BYTES];      /* owns the span's dynamic strings */
  size_t used;
};

/* Resource attributes of one (tenant, service, pod). */
struct tracegen_resource {
  struct attr a[RESOURCE_ATTRS_MAX];
  int na;
  char text[1024];                  /* owns the dynamic values */
  bool ready;
};

/* ---- the generator */

struct tracegen_options {
  uint64_t seed;
  int span_attrs;                   /* attributes per span; 0 = the natural 5..20 mix */
  int services;                     /* distinct service.name values, 1..TRACEGEN_SERVICES_MAX;
                                       0 = the built-in SVC_COUNT */
};

struct tracegen;

/* The topology of opts->seed. Out of memory aborts; never fails otherwise. */
struct tracegen *tracegen_create(const struct tracegen_options *opts);
void tracegen_destroy(struct tracegen *g);

/* Generates the next trace. Its spans are stamped at the position
 * emitted / total of the two-month traffic curve; budget caps its size.
 * The trace stays valid until the next tracegen_trace_begin. */
const struct trace *tracegen_trace_begin(struct tracegen *g, uint64_t emitted, uint64_t total, int budget);
/* Fills sp with span i of the current trace; sp's strings live in sp. */
void tracegen_span_fill(struct tracegen *g, int i, struct span *sp);
/* Ends the current trace: later consumer spans may link to its root. */
void tracegen_trace_end(struct tracegen *g);

const struct tracegen_resource *tracegen_resource(struct tracegen *g, int tenant, int svc, int inst);
uint32_t tracegen_op_count(const struct tracegen *g);

/* A value as the exporter stringifies it; tmp needs 32 bytes. */
const char *tracegen_attr_text(const struct attr *a, char *tmp, uint32_t *len);

#endif
