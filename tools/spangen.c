/* spangen: a deterministic generator of realistic OpenTelemetry traces for the
 * side-by-side benchmark (bench/run.sh, docs/benchmarks.md). One seed gives one
 * service topology and one stream of spans, and every output format carries
 * exactly the same spans: spanhouse otel_traces TSV, the ClickHouse 18.16 TSV
 * variant, and OTLP export requests as JSON, protobuf or gRPC frames.
 * Standalone on purpose (libc and libm only): it must not move with the server. */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Names are built with snprintf into fixed fields from short constant words;
 * a truncated name would only be a shorter name, never an overflow. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* ---- limits and calendar ------------------------------------------------ */

#define SPANS_PER_TRACE_MAX 50
#define ATTRS_MAX           20      /* span attributes; the issue asks for 5..20 */
#define ATTRS_MIN           5
#define EVENTS_MAX          3
#define EVENT_ATTRS_MAX     4
#define LINKS_MAX           3
#define LINK_ATTRS_MAX      2
#define INSTANCES_MAX       6       /* pods per service and tenant */
#define STEPS_MAX           8
#define SCRATCH_BYTES       16384   /* dynamic strings of one span */
#define OUT_FLUSH_BYTES     (1u << 20)
#define RECENT_SPANS        64      /* ring of recent spans that links may point at */

#define T0_SEC   1735689600ull      /* 2025-01-01 00:00:00 UTC */
#define DAYS     59                 /* two months: January and February 2025 */
#define HOURS    (DAYS * 24)
#define NS       1000000000ull
#define MS       1000000ull
#define US       1000ull

/* ---- byte buffers and output --------------------------------------------- */

struct bytes {
  char *p;
  size_t len, cap;
};

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("spangen: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static void bytes_grow(struct bytes *b, size_t need) {
  size_t c = b->cap ? b->cap : 4096;
  while (c < b->len + need) c *= 2;
  char *p = realloc(b->p, c);
  if (!p) die("out of memory (%zu bytes)", c);
  b->p = p;
  b->cap = c;
}

static inline char *room(struct bytes *b, size_t n) {
  if (b->len + n > b->cap) bytes_grow(b, n);
  return b->p + b->len;
}

static inline void put(struct bytes *b, const void *s, size_t n) {
  memcpy(room(b, n), s, n);
  b->len += n;
}

static inline void putch(struct bytes *b, char c) {
  *room(b, 1) = c;
  b->len++;
}

static inline void putstr(struct bytes *b, const char *s) { put(b, s, strlen(s)); }

static void put_u64(struct bytes *b, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  char *d = room(b, (size_t)n);
  for (int i = 0; i < n; i++) d[i] = tmp[n - 1 - i];
  b->len += (size_t)n;
}

static void put_i64(struct bytes *b, int64_t v) {
  if (v < 0) {
    putch(b, '-');
    put_u64(b, (uint64_t)0 - (uint64_t)v);
  } else {
    put_u64(b, (uint64_t)v);
  }
}

static void put_hex(struct bytes *b, const uint8_t *id, size_t n) {
  static const char hex[] = "0123456789abcdef";
  char *d = room(b, 2 * n);
  for (size_t i = 0; i < n; i++) {
    d[2 * i] = hex[id[i] >> 4];
    d[2 * i + 1] = hex[id[i] & 15];
  }
  b->len += 2 * n;
}

/* A file sink: a buffer that is written out whenever it passes 1 MiB. */
struct sink {
  struct bytes b;
  int fd;
  uint64_t written;
};

static void sink_flush(struct sink *s) {
  size_t off = 0;
  while (off < s->b.len) {
    ssize_t n = write(s->fd, s->b.p + off, s->b.len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("write: %s", strerror(errno));
    }
    off += (size_t)n;
  }
  s->written += s->b.len;
  s->b.len = 0;
}

static inline void sink_maybe_flush(struct sink *s) {
  if (s->b.len >= OUT_FLUSH_BYTES) sink_flush(s);
}

static void write_file(const char *path, const struct bytes *parts, int nparts) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die("%s: %s", path, strerror(errno));
  struct sink s = { .fd = fd };
  for (int i = 0; i < nparts; i++) {
    s.b = parts[i];
    sink_flush(&s);
  }
  if (close(fd) != 0) die("%s: %s", path, strerror(errno));
}

/* ---- random numbers: xoshiro256** seeded by splitmix64 -------------------- */

struct rng {
  uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Independent streams of one seed: the topology never depends on N. */
static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed * 0x2545f4914f6cdd1dull + stream * 0x9e3779b97f4a7c15ull + 1;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

static inline double rng_unit(struct rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }
static inline uint32_t rng_below(struct rng *r, uint32_t n) { return (uint32_t)(((rng_next(r) >> 32) * n) >> 32); }
static inline bool rng_chance(struct rng *r, double p) { return rng_unit(r) < p; }

static double rng_normal(struct rng *r) {
  double u = rng_unit(r), v = rng_unit(r);
  if (u < 1e-300) u = 1e-300;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Log-normal with the given median; the right tail is what latency looks like. */
static double rng_lognormal(struct rng *r, double median, double sigma) { return median * exp(sigma * rng_normal(r)); }

static void rng_bytes(struct rng *r, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng_next(r);
    for (size_t j = 0; j < 8 && i + j < n; j++) out[i + j] = (uint8_t)(v >> (8 * j));
  }
}

/* Zipf over 1..n by inverse CDF on a precomputed table. */
struct zipf {
  double *cdf;
  uint32_t n;
};

static void zipf_init(struct zipf *z, uint32_t n, double s) {
  z->n = n;
  z->cdf = malloc(sizeof(double) * n);
  if (!z->cdf) die("out of memory");
  double sum = 0;
  for (uint32_t i = 0; i < n; i++) {
    sum += 1.0 / pow((double)(i + 1), s);
    z->cdf[i] = sum;
  }
  for (uint32_t i = 0; i < n; i++) z->cdf[i] /= sum;
}

static uint32_t zipf_sample(const struct zipf *z, struct rng *r) {
  double u = rng_unit(r);
  uint32_t lo = 0, hi = z->n - 1;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (z->cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* ---- the world: tenants, languages, services ------------------------------ */

struct tenant {
  const char *id;
  double share;
  const char *cloud, *region, *plan, *trace_state;
};

static const struct tenant tenants[] = {
  { "acme-corp", 0.38, "aws", "us-east-1", "enterprise", "" },
  { "globex", 0.24, "aws", "eu-west-1", "enterprise", "congo=t61rcWkgMzE" },
  { "initech", 0.16, "gcp", "us-central1", "pro", "" },
  { "umbrella", 0.12, "azure", "westeurope", "pro", "" },
  { "hooli", 0.06, "aws", "us-west-2", "team", "rojo=00f067aa0ba902b7" },
  { "stark-industries", 0.04, "aws", "ap-southeast-1", "team", "" },
};
#define TENANT_COUNT ((int)(sizeof tenants / sizeof tenants[0]))

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

static const struct lang_def langs[LANG_COUNT] = {
  [GO] = { "go", "1.28.0", "go", "go1.22.5",
           { "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
             "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
             "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
             "github.com/XSAM/otelsql", "github.com/redis/go-redis/extra/redisotel",
             "github.com/IBM/sarama/otelsarama", "github.com/acme/platform/tracing" },
           { "0.53.0", "0.53.0", "0.53.0", "0.32.0", "9.5.1", "0.43.0", "1.4.2" },
           "Go-http-client/1.1", "*net.OpError", "*pq.Error", "*status.Error", "go" },
  [JAVA] = { "java", "1.40.0", "OpenJDK Runtime Environment", "21.0.3+9-LTS",
             { "io.opentelemetry.tomcat-10.0", "io.opentelemetry.java-http-client", "io.opentelemetry.grpc-1.6",
               "io.opentelemetry.jdbc", "io.opentelemetry.lettuce-5.1", "io.opentelemetry.kafka-clients-2.6",
               "io.opentelemetry.opentelemetry-instrumentation-annotations-1.16" },
             { "2.6.0-alpha", "2.6.0-alpha", "2.6.0-alpha", "2.6.0-alpha", "2.6.0-alpha", "2.6.0-alpha", "2.6.0-alpha" },
             "Java-http-client/21.0.3", "java.net.SocketTimeoutException", "org.postgresql.util.PSQLException",
             "io.grpc.StatusRuntimeException", "java" },
  [PYTHON] = { "python", "1.25.0", "cpython", "3.12.4",
               { "opentelemetry.instrumentation.flask", "opentelemetry.instrumentation.requests",
                 "opentelemetry.instrumentation.grpc", "opentelemetry.instrumentation.psycopg2",
                 "opentelemetry.instrumentation.redis", "opentelemetry.instrumentation.kafka", "app.tracing" },
               { "0.46b0", "0.46b0", "0.46b0", "0.46b0", "0.46b0", "0.46b0", "" },
               "python-requests/2.32.3", "requests.exceptions.ConnectionError", "psycopg2.OperationalError",
               "grpc._channel._InactiveRpcError", "py" },
  [NODE] = { "nodejs", "1.25.1", "nodejs", "20.15.0",
             { "@opentelemetry/instrumentation-http", "@opentelemetry/instrumentation-http",
               "@opentelemetry/instrumentation-grpc", "@opentelemetry/instrumentation-pg",
               "@opentelemetry/instrumentation-ioredis", "@opentelemetry/instrumentation-kafkajs", "app" },
             { "0.52.1", "0.52.1", "0.52.1", "0.43.0", "0.42.0", "0.2.0", "1.0.0" },
             "node-fetch/1.0", "Error", "error", "Error", "js" },
  [DOTNET] = { "dotnet", "1.9.0", ".NET", "8.0.6",
               { "Microsoft.AspNetCore", "System.Net.Http", "Grpc.Net.Client", "Npgsql",
                 "OpenTelemetry.Instrumentation.StackExchangeRedis", "Confluent.Kafka.Extensions.OpenTelemetry",
                 "App.Tracing" },
               { "", "", "2.63.0", "8.0.3", "1.0.0-rc9.15", "0.4.0", "1.0.0" },
               ".NET HttpClient", "System.Net.Http.HttpRequestException", "Npgsql.NpgsqlException",
               "Grpc.Core.RpcException", "cs" },
  [RUST] = { "rust", "0.24.0", "rustc", "1.79.0",
             { "tracing-opentelemetry", "tracing-opentelemetry", "tracing-opentelemetry", "tracing-opentelemetry",
               "tracing-opentelemetry", "tracing-opentelemetry", "tracing-opentelemetry" },
             { "0.25.0", "0.25.0", "0.25.0", "0.25.0", "0.25.0", "0.25.0", "0.25.0" },
             "reqwest/0.12.5", "hyper::Error", "sqlx::Error", "tonic::Status", "rs" },
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

static const struct svc_def svc_defs[] = {
  { "frontend", "web", 0, NODE, false, NULL, NULL, NULL, false, NULL, NULL, "page product cart" },
  { "api-gateway", "edge", 0, GO, false, NULL, NULL, NULL, true, NULL, NULL, "order user product" },
  { "mobile-bff", "edge", 0, JAVA, false, NULL, NULL, NULL, false, NULL, NULL, "feed product order" },
  { "admin-portal", "web", 0, PYTHON, false, "postgresql", "admin", "audit_views settings", false, NULL, NULL,
    "report user setting" },
  { "checkout-service", "shop", 1, GO, true, "postgresql", "checkout", "checkouts checkout_lines", true, "orders",
    NULL, "checkout" },
  { "cart-service", "shop", 1, DOTNET, true, NULL, NULL, NULL, true, NULL, NULL, "cart item" },
  { "catalog-service", "shop", 1, JAVA, false, "postgresql", "catalog", "products categories prices", false, NULL,
    NULL, "product category" },
  { "search-service", "shop", 1, JAVA, false, "elasticsearch", "products-v3", "products-v3", false, NULL, NULL,
    "search suggestion" },
  { "user-service", "identity", 1, JAVA, true, "postgresql", "users", "users addresses", false, NULL, NULL,
    "user address profile" },
  { "auth-service", "identity", 1, GO, true, "postgresql", "auth", "tokens clients", true, NULL, NULL,
    "token session" },
  { "order-service", "shop", 1, JAVA, false, "postgresql", "orders", "orders order_items", false, "order-events",
    NULL, "order" },
  { "recommendation-service", "ml", 1, PYTHON, true, NULL, NULL, NULL, true, NULL, NULL, "recommendation" },
  { "review-service", "shop", 1, PYTHON, false, "mongodb", "reviews", "reviews", false, NULL, NULL,
    "review rating" },
  { "account-service", "identity", 1, NODE, false, "postgresql", "accounts", "accounts preferences", false, NULL,
    NULL, "account preference" },
  { "payment-service", "payments", 2, NODE, true, "postgresql", "payments", "payments refunds", false, "payments",
    NULL, "payment refund" },
  { "pricing-service", "shop", 2, GO, true, NULL, NULL, NULL, true, NULL, NULL, "price quote" },
  { "inventory-service", "fulfillment", 2, JAVA, true, "mysql", "inventory", "stock reservations", false, NULL,
    NULL, "stock reservation" },
  { "shipping-service", "fulfillment", 2, RUST, true, "postgresql", "shipping", "shipments carriers", false, NULL,
    NULL, "shipment rate" },
  { "currency-service", "payments", 2, GO, true, NULL, NULL, NULL, true, NULL, NULL, "currency conversion" },
  { "fraud-detection", "payments", 2, PYTHON, true, NULL, NULL, NULL, true, NULL, "orders", "score" },
  { "promotion-service", "shop", 2, JAVA, false, "postgresql", "promotions", "coupons campaigns", false, NULL, NULL,
    "coupon campaign" },
  { "ad-service", "ml", 2, JAVA, true, NULL, NULL, NULL, false, NULL, NULL, "ad" },
  { "session-service", "identity", 2, GO, true, NULL, NULL, NULL, true, NULL, NULL, "session" },
  { "media-service", "web", 2, GO, false, NULL, NULL, NULL, false, NULL, NULL, "image video" },
  { "tax-service", "payments", 2, JAVA, true, NULL, NULL, NULL, false, NULL, NULL, "tax" },
  { "notification-service", "messaging", 3, PYTHON, true, NULL, NULL, NULL, true, NULL, "order-events",
    "notification" },
  { "email-service", "messaging", 3, PYTHON, false, NULL, NULL, NULL, false, NULL, NULL, "email template" },
  { "accounting-service", "payments", 3, DOTNET, true, "postgresql", "ledger", "entries accounts", false, NULL,
    "payments", "ledger entry" },
  { "audit-service", "platform", 3, GO, true, "postgresql", "audit", "audit_log", false, NULL, "order-events",
    "event" },
  { "feature-flags", "platform", 3, GO, true, NULL, NULL, NULL, true, NULL, NULL, "flag" },
  { "geo-service", "platform", 3, RUST, true, NULL, NULL, NULL, false, NULL, NULL, "location zone" },
  { "config-service", "platform", 3, GO, false, NULL, NULL, NULL, false, NULL, NULL, "config" },
  { "invoice-service", "payments", 3, JAVA, false, "postgresql", "billing", "invoices", false, NULL, "payments",
    "invoice" },
  { "loyalty-service", "shop", 3, NODE, true, "mongodb", "loyalty", "members rewards", false, NULL, NULL,
    "member reward" },
  { "warehouse-service", "fulfillment", 3, JAVA, true, "mysql", "wms", "bins picks", false, NULL, NULL, "bin pick" },
};
#define SVC_COUNT ((int)(sizeof svc_defs / sizeof svc_defs[0]))

enum kind { K_UNSPECIFIED, K_INTERNAL, K_SERVER, K_CLIENT, K_PRODUCER, K_CONSUMER };
static const char *const kind_names[] = { "Unspecified", "Internal", "Server", "Client", "Producer", "Consumer" };
static const char *const status_names[] = { "Unset", "Ok", "Error" };

enum step_type { S_CALL, S_DB, S_CACHE, S_PRODUCE, S_INTERNAL };

struct step {
  uint8_t type, parallel, repeat_max;
  float prob;
  uint32_t target;                  /* op (call), statement (db), command (cache), internal name */
};

struct op {
  uint16_t svc;
  uint8_t kind;                     /* K_SERVER, or K_CONSUMER for a topic handler */
  uint8_t health;                   /* health check: no children, never an entry of note */
  char name[96];                    /* span name of the server span */
  char method[8];                   /* HTTP method, or "" */
  char route[64];                   /* HTTP route or gRPC method name */
  char rpc_service[96];             /* gRPC: package.Service */
  uint16_t topic;                   /* consumer: index into topics */
  float self_ms, sigma, err_prob;
  double weight;                    /* popularity as an entry point */
  struct step steps[STEPS_MAX];
  uint8_t nsteps;
};

struct dbstmt {
  uint16_t svc;
  char op[12];                      /* SELECT, INSERT, find, search, ... */
  char table[32];
  char name[96];                    /* span name */
  char text[320];                   /* db.statement, with placeholders */
  float median_ms;
};

struct service {
  const struct svc_def *d;
  int instances;
  char version[16];
  char commit[12];
  char rpc_prefix[96];              /* e.g. shop.v1.CartService */
  uint32_t op_first, op_count;      /* server ops, then maybe the consumer op */
  int32_t consumer_op;              /* -1 if it consumes nothing */
  uint32_t deps[6];
  int ndeps;
  uint32_t internal_first, internal_count;
};

static const char *const internal_names[] = {
  "validate_request", "serialize_response", "compute_totals", "render_template", "load_config",
  "resolve_dependencies", "apply_discounts", "check_permissions", "build_query", "merge_results",
  "encode_payload", "decode_payload", "rank_candidates", "parse_headers", "acquire_lock",
  "refresh_cache", "compress", "hash_password", "sign_token", "enrich_event",
};
#define INTERNAL_NAMES ((uint32_t)(sizeof internal_names / sizeof internal_names[0]))

static const char *const cache_cmds[] = { "GET", "SET", "HGET", "HSET", "MGET", "EXPIRE", "DEL", "INCR" };
#define CACHE_CMDS ((uint32_t)(sizeof cache_cmds / sizeof cache_cmds[0]))

static const char *const topics[] = { "orders", "order-events", "payments" };
#define TOPIC_COUNT ((int)(sizeof topics / sizeof topics[0]))

struct world {
  struct service svc[SVC_COUNT];
  struct op *ops;
  uint32_t nops, ops_cap;
  struct dbstmt *stmts;
  uint32_t nstmts, stmts_cap;
  uint32_t entry_ops[512];
  double entry_cdf[512];
  uint32_t nentry;
  uint32_t consumers[TOPIC_COUNT][4];
  int nconsumers[TOPIC_COUNT];
  int producer_topic[SVC_COUNT];    /* -1 if none */
  double tenant_cdf[TENANT_COUNT];
  double hour_cdf[HOURS + 1];
  struct zipf users;
  struct zipf products;
};

static struct world W;

static struct op *op_new(void) {
  if (W.nops == W.ops_cap) {
    W.ops_cap = W.ops_cap ? W.ops_cap * 2 : 256;
    W.ops = realloc(W.ops, sizeof(struct op) * W.ops_cap);
    if (!W.ops) die("out of memory");
  }
  struct op *o = &W.ops[W.nops++];
  memset(o, 0, sizeof *o);
  return o;
}

static struct dbstmt *stmt_new(void) {
  if (W.nstmts == W.stmts_cap) {
    W.stmts_cap = W.stmts_cap ? W.stmts_cap * 2 : 128;
    W.stmts = realloc(W.stmts, sizeof(struct dbstmt) * W.stmts_cap);
    if (!W.stmts) die("out of memory");
  }
  struct dbstmt *s = &W.stmts[W.nstmts++];
  memset(s, 0, sizeof *s);
  return s;
}

/* Splits a space-separated list into at most max words of up to 31 bytes. */
static int split_words(const char *s, char out[][32], int max) {
  int n = 0;
  while (s && *s && n < max) {
    while (*s == ' ') s++;
    const char *e = s;
    while (*e && *e != ' ') e++;
    if (e > s) {
      size_t len = (size_t)(e - s) < 31 ? (size_t)(e - s) : 31;
      memcpy(out[n], s, len);
      out[n][len] = 0;
      n++;
    }
    s = e;
  }
  return n;
}

static void camel(char *dst, size_t cap, const char *src) {
  size_t j = 0;
  bool up = true;
  for (; *src && j + 1 < cap; src++) {
    if (*src == '-' || *src == '_') {
      up = true;
      continue;
    }
    dst[j++] = up && *src >= 'a' && *src <= 'z' ? (char)(*src - 32) : *src;
    up = false;
  }
  dst[j] = 0;
}

static void add_statements(struct rng *r, int si) {
  const struct svc_def *d = svc_defs[si].db_system ? &svc_defs[si] : NULL;
  if (!d) return;
  char tables[4][32];
  int nt = split_words(d->tables, tables, 4);
  bool sql = strcmp(d->db_system, "postgresql") == 0 || strcmp(d->db_system, "mysql") == 0;
  const char *ph = strcmp(d->db_system, "postgresql") == 0 ? "$1" : "?";
  for (int t = 0; t < nt; t++) {
    const char *tb = tables[t];
    struct dbstmt *s;
    if (sql) {
      s = stmt_new();
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "SELECT");
      snprintf(s->text, sizeof s->text, "SELECT id, tenant_id, status, payload, updated_at FROM %s WHERE id = %s", tb,
               ph);
      s->median_ms = 0.6f + (float)rng_unit(r) * 2.0f;
      s = stmt_new();
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "SELECT");
      snprintf(s->text, sizeof s->text,
               "SELECT id, status, created_at FROM %s WHERE account_id = %s AND created_at > now() - interval "
               "'30 days' ORDER BY created_at DESC LIMIT 50",
               tb, ph);
      s->median_ms = 2.0f + (float)rng_unit(r) * 12.0f;
      s = stmt_new();
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "INSERT");
      snprintf(s->text, sizeof s->text, "INSERT INTO %s (id, tenant_id, status, payload) VALUES (%s, %s, 'pending', %s)",
               tb, ph, ph, ph);
      s->median_ms = 1.0f + (float)rng_unit(r) * 3.0f;
      s = stmt_new();
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "UPDATE");
      snprintf(s->text, sizeof s->text, "UPDATE %s SET status = 'done', updated_at = now() WHERE id = %s", tb, ph);
      s->median_ms = 1.0f + (float)rng_unit(r) * 3.0f;
    } else if (strcmp(d->db_system, "mongodb") == 0) {
      s = stmt_new();
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "find");
      snprintf(s->text, sizeof s->text, "{\"find\":\"%s\",\"filter\":{\"product_id\":\"?\"},\"limit\":20}", tb);
      s->median_ms = 1.5f + (float)rng_unit(r) * 4.0f;
      s = stmt_new();
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "insert");
      snprintf(s->text, sizeof s->text, "{\"insert\":\"%s\",\"documents\":[\"?\"],\"ordered\":true}", tb);
      s->median_ms = 1.0f + (float)rng_unit(r) * 2.0f;
    } else {                        /* elasticsearch */
      s = stmt_new();
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "search");
      snprintf(s->text, sizeof s->text,
               "{\"query\":{\"bool\":{\"must\":[{\"match\":{\"title\":\"?\"}}],\"filter\":[{\"term\":{\"tenant\":\"?\"}}]}},"
               "\"size\":24}");
      s->median_ms = 8.0f + (float)rng_unit(r) * 20.0f;
      snprintf(s->table, sizeof s->table, "%.31s", tb);
      snprintf(s->name, sizeof s->name, "search %.31s", tb);
      continue;
    }
  }
  /* Names and tables for the statements just added. */
  for (uint32_t i = 0; i < W.nstmts; i++) {
    struct dbstmt *s = &W.stmts[i];
    if (s->svc != si || s->name[0]) continue;
    const char *tb = NULL;
    if (sql) {
      const char *p = strstr(s->text, " FROM ");
      if (!p) p = strstr(s->text, "INTO ");
      if (!p) p = strstr(s->text, "UPDATE ");
      p = strchr(p + 1, ' ') + 1;
      size_t n = strcspn(p, " (");
      snprintf(s->table, sizeof s->table, "%.*s", (int)n, p);
      tb = s->table;
    } else {
      const char *p = strchr(s->text + 2, ':') + 2;
      size_t n = strcspn(p, "\"");
      snprintf(s->table, sizeof s->table, "%.*s", (int)n, p);
      tb = s->table;
    }
    snprintf(s->name, sizeof s->name, "%s %s.%s", s->op, d->db_name, tb);
  }
}

static uint32_t pick_stmt(struct rng *r, int si) {
  uint32_t idx[16];
  uint32_t n = 0;
  for (uint32_t i = 0; i < W.nstmts && n < 16; i++)
    if (W.stmts[i].svc == si) idx[n++] = i;
  return n ? idx[rng_below(r, n)] : UINT32_MAX;
}

static void add_step(struct op *o, uint8_t type, float prob, uint32_t target, uint8_t repeat_max, uint8_t parallel) {
  if (o->nsteps >= STEPS_MAX || target == UINT32_MAX) return;
  o->steps[o->nsteps++] = (struct step){ type, parallel, repeat_max, prob, target };
}

static uint32_t random_op_of(struct rng *r, uint32_t si) {
  const struct service *s = &W.svc[si];
  for (int tries = 0; tries < 8; tries++) {
    uint32_t o = s->op_first + rng_below(r, s->op_count);
    if (!W.ops[o].health && W.ops[o].kind == K_SERVER) return o;
  }
  return s->op_first;
}

/* Steps for one op: downstream calls, database, cache, messages, internal work. */
static void plan_steps(struct rng *r, struct op *o, bool write) {
  const struct service *s = &W.svc[o->svc];
  const struct svc_def *d = s->d;
  if (d->redis && rng_chance(r, 0.7)) {
    uint32_t cmd = write ? 1 + rng_below(r, 3) * 2 : rng_below(r, 2) * 2;  /* SET/HSET/DEL vs GET/HGET */
    add_step(o, S_CACHE, 0.85f, cmd % CACHE_CMDS, 1, 0);
  }
  if (rng_chance(r, 0.35)) add_step(o, S_INTERNAL, 0.6f, s->internal_first + rng_below(r, s->internal_count), 1, 0);
  if (d->db_system) {
    int n = 1 + (int)rng_below(r, 2);
    for (int i = 0; i < n; i++) {
      bool loop = rng_chance(r, 0.12);  /* the N+1 query pattern */
      float p = (float)(0.55 + 0.4 * rng_unit(r));  /* drawn before the statement: see build_world */
      add_step(o, S_DB, p, pick_stmt(r, o->svc), loop ? 6 : 1, 0);
    }
  }
  if (s->ndeps > 0) {
    int calls = d->tier == 0 ? 1 + (int)rng_below(r, 3) : (int)rng_below(r, d->tier == 1 ? 3 : 2);
    for (int i = 0; i < calls; i++) {
      uint32_t dep = s->deps[rng_below(r, (uint32_t)s->ndeps)];
      bool fan = rng_chance(r, 0.15);
      float p = d->tier == 0 ? (float)(0.6 + 0.4 * rng_unit(r)) : (float)(0.25 + 0.5 * rng_unit(r));
      add_step(o, S_CALL, p, random_op_of(r, dep), fan ? 3 : 1, fan);
    }
  }
  if (write && W.producer_topic[o->svc] >= 0) add_step(o, S_PRODUCE, 0.9f, (uint32_t)W.producer_topic[o->svc], 1, 0);
  if (rng_chance(r, 0.25)) add_step(o, S_INTERNAL, 0.5f, s->internal_first + rng_below(r, s->internal_count), 1, 0);
}

static void build_world(uint64_t seed) {
  struct rng r;
  rng_seed(&r, seed, 1);
  memset(&W, 0, sizeof W);
  for (int t = 0; t < TOPIC_COUNT; t++) W.nconsumers[t] = 0;

  for (int si = 0; si < SVC_COUNT; si++) {
    struct service *s = &W.svc[si];
    s->d = &svc_defs[si];
    s->instances = 2 + (int)rng_below(&r, INSTANCES_MAX - 1);
    /* One draw per statement: argument evaluation order is unspecified, and
     * the bytes must not depend on the compiler. */
    uint32_t major = 1 + rng_below(&r, 4);
    uint32_t minor = rng_below(&r, 30);
    uint32_t patch = rng_below(&r, 12);
    snprintf(s->version, sizeof s->version, "%u.%u.%u", major, minor, patch);
    uint8_t c[5];
    rng_bytes(&r, c, 5);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 5; i++) {
      s->commit[2 * i] = hex[c[i] >> 4];
      s->commit[2 * i + 1] = hex[c[i] & 15];
    }
    s->commit[10] = 0;
    char cam[48];
    char nouns[4][32];
    split_words(s->d->nouns, nouns, 4);
    camel(cam, sizeof cam, nouns[0]);
    snprintf(s->rpc_prefix, sizeof s->rpc_prefix, "%s.v1.%sService", s->d->ns, cam);
    s->internal_first = rng_below(&r, INTERNAL_NAMES);
    s->internal_count = 3 + rng_below(&r, 4);
    W.producer_topic[si] = -1;
    for (int t = 0; t < TOPIC_COUNT; t++) {
      if (s->d->produces && strcmp(s->d->produces, topics[t]) == 0) W.producer_topic[si] = t;
      if (s->d->consumes && strcmp(s->d->consumes, topics[t]) == 0) W.consumers[t][W.nconsumers[t]++] = (uint32_t)si;
    }
    add_statements(&r, si);
  }
  for (uint32_t si = 0; si < (uint32_t)SVC_COUNT; si++) {  /* dependencies point to deeper tiers */
    struct service *s = &W.svc[si];
    if (s->d->tier == 3) continue;
    int want = 2 + (int)rng_below(&r, 4);
    for (int tries = 0; tries < 200 && s->ndeps < want; tries++) {
      uint32_t t = rng_below(&r, (uint32_t)SVC_COUNT);
      int dt = W.svc[t].d->tier - s->d->tier;
      if (dt < 1 || (dt > 1 && rng_chance(&r, 0.7))) continue;
      bool dup = false;
      for (int k = 0; k < s->ndeps; k++) dup |= s->deps[k] == t;
      if (!dup) s->deps[s->ndeps++] = t;
    }
  }
  /* Operations: first every service's server ops, then plan steps (which need
   * every target op to exist). */
  static const char *const http_verbs[] = { "GET", "GET", "POST", "PUT", "DELETE", "PATCH" };
  static const char *const rpc_verbs[] = { "Get", "List", "Create", "Update", "Delete", "BatchGet" };
  for (int si = 0; si < SVC_COUNT; si++) {
    struct service *s = &W.svc[si];
    char nouns[4][32];
    int nn = split_words(s->d->nouns, nouns, 4);
    s->op_first = W.nops;
    for (int ni = 0; ni < nn; ni++) {
      char cam[32];
      camel(cam, sizeof cam, nouns[ni]);
      for (int v = 0; v < 6; v++) {
        if (v >= 2 && !rng_chance(&r, 0.75)) continue;
        struct op *o = op_new();
        o->svc = (uint16_t)si;
        o->kind = K_SERVER;
        if (s->d->grpc) {
          snprintf(o->route, sizeof o->route, "%s%s%s", rpc_verbs[v], cam, v == 1 || v == 5 ? "s" : "");
          snprintf(o->rpc_service, sizeof o->rpc_service, "%s", s->rpc_prefix);
          snprintf(o->name, sizeof o->name, "%s/%s", o->rpc_service, o->route);
        } else {
          snprintf(o->method, sizeof o->method, "%s", http_verbs[v]);
          if (v == 0 || v == 2)
            snprintf(o->route, sizeof o->route, "/api/v%d/%ss", 1 + (si % 2), nouns[ni]);
          else
            snprintf(o->route, sizeof o->route, "/api/v%d/%ss/{id}", 1 + (si % 2), nouns[ni]);
          snprintf(o->name, sizeof o->name, "%s %s", o->method, o->route);
        }
        o->self_ms = (float)(0.3 + rng_lognormal(&r, 2.5, 1.0));
        o->sigma = (float)(0.45 + 0.5 * rng_unit(&r));
        o->err_prob = rng_chance(&r, 0.1) ? (float)(0.03 + 0.1 * rng_unit(&r)) : (float)(0.006 + 0.018 * rng_unit(&r));
        o->weight = 1.0 / pow(1.0 + rng_unit(&r) * 40.0, 0.9);
      }
      if (s->d->tier == 0 && ni == 0 && !s->d->grpc) {  /* sub-resource reads on the edge */
        struct op *o = op_new();
        o->svc = (uint16_t)si;
        o->kind = K_SERVER;
        snprintf(o->method, sizeof o->method, "GET");
        snprintf(o->route, sizeof o->route, "/api/v1/%ss/{id}/summary", nouns[ni]);
        snprintf(o->name, sizeof o->name, "GET %s", o->route);
        o->self_ms = (float)rng_lognormal(&r, 0.6, 0.5);
        o->sigma = 0.6f;
        o->err_prob = 0.002f;
        o->weight = 0.8;
      }
    }
    struct op *h = op_new();          /* health checks: one-span traces */
    h->svc = (uint16_t)si;
    h->kind = K_SERVER;
    h->health = 1;
    if (s->d->grpc) {
      snprintf(h->rpc_service, sizeof h->rpc_service, "grpc.health.v1.Health");
      snprintf(h->route, sizeof h->route, "Check");
      snprintf(h->name, sizeof h->name, "grpc.health.v1.Health/Check");
    } else {
      snprintf(h->method, sizeof h->method, "GET");
      snprintf(h->route, sizeof h->route, "/healthz");
      snprintf(h->name, sizeof h->name, "GET /healthz");
    }
    h->self_ms = 0.08f;
    h->sigma = 0.4f;
    h->err_prob = 0.0002f;
    h->weight = 0.9;
    s->consumer_op = -1;
    if (s->d->consumes) {
      struct op *o = op_new();
      o->svc = (uint16_t)si;
      o->kind = K_CONSUMER;
      for (int t = 0; t < TOPIC_COUNT; t++)
        if (strcmp(s->d->consumes, topics[t]) == 0) o->topic = (uint16_t)t;
      snprintf(o->name, sizeof o->name, "%s process", s->d->consumes);
      o->self_ms = (float)rng_lognormal(&r, 1.5, 0.6);
      o->sigma = 0.7f;
      o->err_prob = 0.004f;
      s->consumer_op = (int32_t)(W.nops - 1);
    }
    s->op_count = W.nops - s->op_first - (s->consumer_op >= 0 ? 1u : 0u);
  }
  for (uint32_t oi = 0; oi < W.nops; oi++) {
    struct op *o = &W.ops[oi];
    if (o->health) continue;
    bool write = o->method[0] ? strcmp(o->method, "GET") != 0
                              : strncmp(o->route, "Get", 3) != 0 && strncmp(o->route, "List", 4) != 0 &&
                                    strncmp(o->route, "BatchGet", 8) != 0;
    plan_steps(&r, o, write || o->kind == K_CONSUMER);
  }
  /* Entry points: edge ops by popularity; W.nentry stays small. */
  double sum = 0;
  for (uint32_t oi = 0; oi < W.nops && W.nentry < 512; oi++) {
    const struct op *o = &W.ops[oi];
    if (W.svc[o->svc].d->tier != 0 || o->kind != K_SERVER) continue;
    sum += o->health ? 0.25 : o->weight;
    W.entry_ops[W.nentry] = oi;
    W.entry_cdf[W.nentry++] = sum;
  }
  for (uint32_t i = 0; i < W.nentry; i++) W.entry_cdf[i] /= sum;

  double ts = 0;
  for (int t = 0; t < TENANT_COUNT; t++) W.tenant_cdf[t] = (ts += tenants[t].share);
  for (int t = 0; t < TENANT_COUNT; t++) W.tenant_cdf[t] /= ts;
  /* Traffic over time: a diurnal curve, quieter weekends, slow growth. */
  W.hour_cdf[0] = 0;
  for (int h = 0; h < HOURS; h++) {
    int day = h / 24, hod = h % 24;
    int dow = (day + 2) % 7;        /* 2025-01-01 was a Wednesday; 0 = Monday */
    double w = 1.0 + 0.65 * sin(6.283185307179586 * (hod - 9) / 24.0);
    w *= dow >= 5 ? 0.7 : 1.0;
    w *= 1.0 + 0.25 * day / (double)DAYS;
    W.hour_cdf[h + 1] = W.hour_cdf[h] + w;
  }
  for (int h = 1; h <= HOURS; h++) W.hour_cdf[h] /= W.hour_cdf[HOURS];
  zipf_init(&W.users, 200000, 1.05);
  zipf_init(&W.products, 50000, 0.9);
}

/* ---- traces --------------------------------------------------------------- */

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
  struct rng *r;
};

static int node_add(struct trace *t, int parent, uint32_t svc, uint8_t kind, uint8_t itype, uint8_t stype) {
  if (t->budget <= 0) return -1;
  t->budget--;
  int i = t->count++;
  struct node *n = &t->n[i];
  memset(n, 0, sizeof *n);
  n->parent = parent;
  n->svc = (uint16_t)svc;
  n->inst = t->inst_of[svc];
  n->kind = kind;
  n->itype = itype;
  n->stype = stype;
  return i;
}

static uint64_t lat_ns(struct rng *r, double median_ms, double sigma) {
  double v = rng_lognormal(r, median_ms, sigma) * (double)MS;
  if (v < 2000) v = 2000;
  if (v > 25.0 * NS) v = 25.0 * NS;
  return (uint64_t)v;
}

static int gen_server(struct trace *t, int parent, uint32_t opi, int depth);

static int gen_step(struct trace *t, int parent, const struct step *st, int depth) {
  struct rng *r = t->r;
  uint32_t svc = t->n[parent].svc;
  int i;
  switch (st->type) {
  case S_CALL: {
    const struct op *target = &W.ops[st->target];
    bool grpc = W.svc[target->svc].d->grpc;
    i = node_add(t, parent, svc, K_CLIENT, grpc ? I_GRPC : I_HTTP_CLIENT, S_CALL);
    if (i < 0) return -1;
    t->n[i].op = st->target;
    uint64_t net1 = lat_ns(r, 0.25, 0.6), net2 = lat_ns(r, 0.2, 0.6);
    int child = depth < 7 ? gen_server(t, i, st->target, depth + 1) : -1;
    if (child >= 0) {
      t->n[child].rel_ns = net1;
      t->n[i].dur_ns = net1 + t->n[child].dur_ns + net2;
      t->n[i].err = t->n[child].err;
      t->n[i].status = t->n[child].status;
    } else {                        /* no budget left for the callee: a leaf call */
      t->n[i].dur_ns = net1 + lat_ns(r, 2.0, 0.8) + net2;
      t->n[i].err = rng_chance(r, 0.003);
    }
    if (!t->n[i].status) t->n[i].status = grpc ? (t->n[i].err ? 14 : 0) : (t->n[i].err ? 503 : 200);
    return i;
  }
  case S_DB: {
    i = node_add(t, parent, svc, K_CLIENT, I_DB, S_DB);
    if (i < 0) return -1;
    t->n[i].ref = st->target;
    t->n[i].dur_ns = lat_ns(r, W.stmts[st->target].median_ms, 0.8);
    if (rng_chance(r, 0.006)) {
      t->n[i].err = 1;
      if (rng_chance(r, 0.25)) {
        t->n[i].timeout = 1;
        uint64_t timeout_ns = (rng_chance(r, 0.5) ? 5 : 2) * NS;
        t->n[i].dur_ns = timeout_ns + rng_below(r, 1000) * US;
      }
    }
    return i;
  }
  case S_CACHE:
    i = node_add(t, parent, svc, K_CLIENT, I_CACHE, S_CACHE);
    if (i < 0) return -1;
    t->n[i].ref = st->target;
    t->n[i].dur_ns = lat_ns(r, 0.18, 0.5);
    t->n[i].err = rng_chance(r, 0.0008);
    return i;
  case S_INTERNAL:
    i = node_add(t, parent, svc, K_INTERNAL, I_INTERNAL, S_INTERNAL);
    if (i < 0) return -1;
    t->n[i].ref = st->target % INTERNAL_NAMES;
    t->n[i].dur_ns = lat_ns(r, 0.4, 1.1);
    return i;
  case S_PRODUCE: {
    i = node_add(t, parent, svc, K_PRODUCER, I_MSG, S_PRODUCE);
    if (i < 0) return -1;
    t->n[i].ref = st->target;
    t->n[i].dur_ns = lat_ns(r, 1.2, 0.6);
    t->n[i].err = rng_chance(r, 0.002);
    int topic = (int)st->target;
    for (int c = 0; c < W.nconsumers[topic] && depth < 7; c++) {
      if (!rng_chance(r, 0.8)) continue;
      const struct service *cs = &W.svc[W.consumers[topic][c]];
      int child = gen_server(t, i, (uint32_t)cs->consumer_op, depth + 1);
      if (child < 0) break;
      /* Delivered after the send: queue lag, not bounded by the producer. */
      t->n[child].rel_ns = t->n[i].dur_ns / 2 + lat_ns(t->r, 25.0, 1.3);
    }
    return i;
  }
  }
  return -1;
}

static int gen_server(struct trace *t, int parent, uint32_t opi, int depth) {
  const struct op *o = &W.ops[opi];
  struct rng *r = t->r;
  bool grpc = W.svc[o->svc].d->grpc;
  uint8_t itype = o->kind == K_CONSUMER ? I_MSG : grpc ? I_GRPC : I_HTTP_SERVER;
  int i = node_add(t, parent, o->svc, o->kind, itype, S_CALL);
  if (i < 0) return -1;
  t->n[i].op = opi;
  uint64_t self = lat_ns(r, o->self_ms, o->sigma);
  uint64_t pre = self * (2 + rng_below(r, 5)) / 10;
  uint64_t at = pre;
  bool child_err = false;
  for (int s = 0; s < o->nsteps && t->budget > 0; s++) {
    const struct step *st = &o->steps[s];
    if (!rng_chance(r, st->prob)) continue;
    int reps = st->repeat_max > 1 ? 1 + (int)rng_below(r, st->repeat_max) : 1;
    uint64_t group_end = at;
    for (int k = 0; k < reps; k++) {
      int c = gen_step(t, i, st, depth);
      if (c < 0) break;
      struct node *cn = &t->n[c];
      if (st->parallel) {
        cn->rel_ns = at + (uint64_t)k * (20 + rng_below(r, 200)) * US;
        if (cn->rel_ns + cn->dur_ns > group_end) group_end = cn->rel_ns + cn->dur_ns;
      } else {
        cn->rel_ns = at;
        at += cn->dur_ns + (10 + rng_below(r, 290)) * US;
        group_end = at;
      }
      child_err |= cn->err && cn->stype == S_CALL;
      child_err |= cn->err && (cn->stype == S_DB || cn->stype == S_CACHE) && rng_chance(r, 0.7);
    }
    at = group_end;
  }
  t->n[i].dur_ns = at + (self - pre);
  bool err = rng_chance(r, o->err_prob) || (child_err && rng_chance(r, 0.5));
  t->n[i].err = err;
  if (grpc) t->n[i].status = err ? (rng_chance(r, 0.5) ? 13 : 14) : 0;
  else if (err) t->n[i].status = (uint16_t)(rng_chance(r, 0.6) ? 500 : rng_chance(r, 0.6) ? 503 : 504);
  else if (strcmp(o->method, "GET") == 0)
    t->n[i].status = rng_chance(r, 0.06) ? 304 : 200;
  else
    t->n[i].status = rng_chance(r, 0.5) ? 200 : rng_chance(r, 0.7) ? 201 : 204;
  return i;
}

/* ---- one span as emitted -------------------------------------------------- */

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
  struct attr a[ATTRS_MAX];
  int na;
  int status;                       /* 0 unset, 1 ok, 2 error */
  const char *status_msg;
  struct event ev[EVENTS_MAX];
  int nev;
  struct link lk[LINKS_MAX];
  int nlk;
  char scratch[SCRATCH_BYTES];
  size_t used;
};

static const char *sfmt(struct span *sp, uint32_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const char *sfmt(struct span *sp, uint32_t *len, const char *fmt, ...) {
  char *d = sp->scratch + sp->used;
  size_t cap = SCRATCH_BYTES - sp->used;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(d, cap, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= cap) die("span scratch overflow");
  sp->used += (size_t)n + 1;
  if (len) *len = (uint32_t)n;
  return d;
}

static bool has_key(const struct attr *a, int n, const char *k) {
  for (int i = 0; i < n; i++)
    if (strcmp(a[i].k, k) == 0) return true;
  return false;
}

static void a_str(struct span *sp, const char *k, const char *v) {
  if (sp->na >= ATTRS_MAX || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .s = v, .slen = (uint32_t)strlen(v), .type = A_STR };
}
static void a_strn(struct span *sp, const char *k, const char *v, uint32_t n) {
  if (sp->na >= ATTRS_MAX || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .s = v, .slen = n, .type = A_STR };
}
static void a_int(struct span *sp, const char *k, int64_t v) {
  if (sp->na >= ATTRS_MAX || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .type = A_INT, .i = v };
}
static void a_bool(struct span *sp, const char *k, bool v) {
  if (sp->na >= ATTRS_MAX || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .type = A_BOOL, .i = v };
}
static void a_dbl(struct span *sp, const char *k, int64_t hundredths) {
  if (sp->na >= ATTRS_MAX || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .type = A_DBL, .i = hundredths };
}

static struct attr mk_str(const char *k, const char *v) {
  return (struct attr){ .k = k, .s = v, .slen = (uint32_t)strlen(v), .type = A_STR };
}
static struct attr mk_int(const char *k, int64_t v) { return (struct attr){ .k = k, .type = A_INT, .i = v }; }

/* A value as the exporter stringifies it (pdata AsString). Doubles are kept
 * to two decimals so every writer agrees on the shortest form. */
static const char *attr_text(const struct attr *a, char *tmp, uint32_t *len) {
  switch (a->type) {
  case A_STR:
    *len = a->slen;
    return a->s;
  case A_INT:
    *len = (uint32_t)snprintf(tmp, 32, "%lld", (long long)a->i);
    return tmp;
  case A_BOOL:
    *len = a->i ? 4 : 5;
    return a->i ? "true" : "false";
  default: {
    int64_t v = a->i;
    const char *sign = v < 0 ? "-" : "";
    if (v < 0) v = -v;
    if (v % 100 == 0) *len = (uint32_t)snprintf(tmp, 32, "%s%lld", sign, (long long)(v / 100));
    else if (v % 10 == 0) *len = (uint32_t)snprintf(tmp, 32, "%s%lld.%lld", sign, (long long)(v / 100), (long long)(v % 100 / 10));
    else *len = (uint32_t)snprintf(tmp, 32, "%s%lld.%02lld", sign, (long long)(v / 100), (long long)(v % 100));
    return tmp;
  }
  }
}

static const char *const user_agents[] = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
  "okhttp/4.12.0",
  "ShopApp/5.14.2 (Android 14; Pixel 8)",
  "curl/8.8.0",
};
static const char *const currencies[] = { "USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "SEK" };
static const char *const locales[] = { "en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "es-ES", "pt-BR", "nl-NL" };
static const char *const tiers[] = { "bronze", "silver", "gold", "platinum" };

static const char *http_reason(int code) {
  switch (code) {
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "Bad Gateway";
  }
}

static void ip_text(struct span *sp, const char *k, uint32_t seed) {
  uint32_t len;
  const char *v = sfmt(sp, &len, "10.%u.%u.%u", 16 + (seed >> 16) % 16, (seed >> 8) & 255, 2 + seed % 250);
  a_strn(sp, k, v, len);
}

static void add_exception(struct span *sp, struct rng *r, const struct node *n, uint64_t at_ns) {
  if (sp->nev >= EVENTS_MAX) return;
  const struct lang_def *L = &langs[svc_defs[n->svc].lang];
  struct event *e = &sp->ev[sp->nev++];
  e->ts_ns = at_ns;
  e->name = "exception";
  const char *type = n->itype == I_DB ? L->exc_db : n->itype == I_GRPC ? L->exc_rpc : L->exc_http;
  static const char *const server_msgs[] = { "Read timed out", "Connection refused", "upstream request failed",
                                             "Connection reset by peer" };
  const char *msg = sp->status_msg && *sp->status_msg ? sp->status_msg : server_msgs[rng_below(r, 4)];
  char noun[4][32], fn[40];
  split_words(svc_defs[n->svc].nouns, noun, 4);
  camel(fn, sizeof fn, noun[0]);
  uint32_t line = 40 + rng_below(r, 400);
  const char *st;
  switch (svc_defs[n->svc].lang) {
  case JAVA:
    st = sfmt(sp, NULL,
              "%s: %s\n\tat com.acme.%s.%sClient.call(%sClient.java:%u)\n\tat com.acme.%s.%sController.handle("
              "%sController.java:%u)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)",
              type, msg, svc_defs[n->svc].ns, fn, fn, line, svc_defs[n->svc].ns, fn, fn, line + 17);
    break;
  case PYTHON:
    st = sfmt(sp, NULL,
              "Traceback (most recent call last):\n  File \"/app/%s/handlers.py\", line %u, in handle\n    return "
              "client.call(request)\n%s: %s",
              svc_defs[n->svc].ns, line, type, msg);
    break;
  case GO:
    st = sfmt(sp, NULL, "goroutine %u [running]:\nmain.(*%sHandler).ServeHTTP(...)\n\t/src/%s/handler.go:%u +0x1a4",
              1 + rng_below(r, 9000), fn, svc_defs[n->svc].name, line);
    break;
  default:
    st = sfmt(sp, NULL, "%s: %s\n    at %sClient.call (/app/src/%s.%s:%u:17)", type, msg, fn, noun[0], L->file_ext,
              line);
    break;
  }
  e->a[0] = mk_str("exception.type", type);
  e->a[1] = mk_str("exception.message", msg);
  e->a[2] = mk_str("exception.stacktrace", st);
  e->a[3] = mk_str("exception.escaped", "false");
  e->na = 4;
}

struct recent {
  uint8_t trace_id[16], span_id[8];
  int tenant;
};
static struct recent recent_spans[RECENT_SPANS];
static uint32_t recent_count;

/* Fills sp with span i of trace t: name, attributes, status, events, links. */
static void span_fill(struct span *sp, struct trace *t, int i, struct rng *r) {
  const struct node *n = &t->n[i];
  const struct service *svc = &W.svc[n->svc];
  const struct svc_def *d = svc->d;
  sp->used = 0;
  sp->na = sp->nev = sp->nlk = 0;
  sp->tenant = t->tenant;
  sp->svc = n->svc;
  sp->inst = n->inst;
  sp->scope_itype = n->itype;
  sp->trace_id = t->trace_id;
  sp->span_id = n->span_id;
  sp->parent_id = n->parent >= 0 ? t->n[n->parent].span_id : NULL;
  sp->trace_state = tenants[t->tenant].trace_state;
  sp->kind = n->kind;
  sp->start_ns = n->start_ns;
  sp->end_ns = n->start_ns + n->dur_ns;
  sp->status = n->err ? 2 : (d->lang == RUST || d->lang == DOTNET) && n->kind == K_SERVER ? 1 : 0;
  sp->status_msg = "";
  uint32_t len;
  const struct op *o = &W.ops[n->op];
  const struct svc_def *td = &svc_defs[o->svc];
  char idbuf[24];
  uint32_t rid = rng_below(r, 9000000) + 100000;
  snprintf(idbuf, sizeof idbuf, "%u", rid);

  switch (n->stype) {
  case S_CALL:
    if (n->kind == K_SERVER && n->itype == I_HTTP_SERVER) {
      sp->name = o->name;
      sp->name_len = (uint32_t)strlen(o->name);
      a_str(sp, "http.request.method", o->method);
      a_str(sp, "http.route", o->route);
      const char *path = o->route;
      const char *brace = strchr(path, '{');
      if (brace) {
        const char *end = strchr(brace, '}');
        path = sfmt(sp, &len, "%.*s%s%s", (int)(brace - o->route), o->route, idbuf, end + 1);
        a_strn(sp, "url.path", path, len);
      } else {
        a_str(sp, "url.path", path);
      }
      a_str(sp, "url.scheme", d->tier == 0 ? "https" : "http");
      a_int(sp, "http.response.status_code", n->status);
      if (d->tier == 0) a_str(sp, "server.address", sfmt(sp, NULL, "shop.%s.example.com", tenants[t->tenant].id));
      else a_str(sp, "server.address", sfmt(sp, NULL, "%s.%s.svc.cluster.local", d->name, d->ns));
      a_int(sp, "server.port", d->tier == 0 ? 443 : 8080);
      a_str(sp, "network.protocol.version", d->tier == 0 && rng_chance(r, 0.6) ? "2" : "1.1");
      ip_text(sp, "client.address", (uint32_t)rng_next(r));
      if (o->health) a_str(sp, "user_agent.original", "kube-probe/1.30");
      else if (d->tier == 0) a_str(sp, "user_agent.original", user_agents[(t->user + t->session[0]) % 7]);
      else if (n->parent >= 0)
        a_str(sp, "user_agent.original", langs[svc_defs[t->n[n->parent].svc].lang].user_agent);
      if (o->method[0] == 'P') a_int(sp, "http.request.body.size", 200 + rng_below(r, 6000));
    } else if (n->kind == K_SERVER || (n->kind == K_CLIENT && n->itype == I_GRPC)) {
      sp->name = o->name;
      sp->name_len = (uint32_t)strlen(o->name);
      a_str(sp, "rpc.system", "grpc");
      a_str(sp, "rpc.service", o->rpc_service);
      a_str(sp, "rpc.method", o->route);
      a_int(sp, "rpc.grpc.status_code", n->status);
      a_str(sp, "server.address", sfmt(sp, NULL, "%s.%s.svc.cluster.local", td->name, td->ns));
      a_int(sp, "server.port", 50051);
      a_str(sp, "network.transport", "tcp");
      if (n->kind == K_CLIENT) {
        ip_text(sp, "network.peer.address", o->svc * 7919u + t->inst_of[o->svc]);
        a_str(sp, "peer.service", td->name);
      } else {
        ip_text(sp, "client.address", (uint32_t)rng_next(r));
      }
      if (n->err)
        sp->status_msg = n->status == 14 ? "rpc error: code = Unavailable desc = connection reset by peer"
                         : n->kind == K_CLIENT ? "rpc error: code = Internal desc = upstream failed"
                                               : "internal error";
    } else if (n->kind == K_CLIENT) {    /* HTTP client */
      static const char *const go_names[] = { "HTTP GET", "HTTP POST", "HTTP PUT", "HTTP DELETE", "HTTP PATCH" };
      if (d->lang == GO) {
        int m = o->method[0] == 'G' ? 0 : o->method[1] == 'O' ? 1 : o->method[1] == 'U' ? 2 : o->method[0] == 'D' ? 3 : 4;
        sp->name = go_names[m];
        sp->name_len = (uint32_t)strlen(go_names[m]);
      } else {
        sp->name = o->method;
        sp->name_len = (uint32_t)strlen(o->method);
      }
      a_str(sp, "http.request.method", o->method);
      const char *brace = strchr(o->route, '{');
      const char *url;
      if (brace)
        url = sfmt(sp, &len, "http://%s.%s:8080%.*s%s%s", td->name, td->ns, (int)(brace - o->route), o->route, idbuf,
                   strchr(brace, '}') + 1);
      else
        url = sfmt(sp, &len, "http://%s.%s:8080%s", td->name, td->ns, o->route);
      a_strn(sp, "url.full", url, len);
      a_str(sp, "server.address", sfmt(sp, NULL, "%s.%s", td->name, td->ns));
      a_int(sp, "server.port", 8080);
      a_int(sp, "http.response.status_code", n->status);
      ip_text(sp, "network.peer.address", o->svc * 7919u + t->inst_of[o->svc]);
      a_str(sp, "peer.service", td->name);
      if (n->err) sp->status_msg = sfmt(sp, NULL, "HTTP %u %s", n->status, http_reason(n->status));
    } else {                             /* consumer */
      sp->name = o->name;
      sp->name_len = (uint32_t)strlen(o->name);
      a_str(sp, "messaging.system", "kafka");
      a_str(sp, "messaging.destination.name", topics[o->topic]);
      a_str(sp, "messaging.operation", "process");
      a_str(sp, "messaging.kafka.consumer.group", d->name);
      a_int(sp, "messaging.kafka.destination.partition", rng_below(r, 12));
      a_int(sp, "messaging.kafka.message.offset", (int64_t)(n->start_ns / 1000000) % 100000000);
      a_str(sp, "messaging.client_id", sfmt(sp, NULL, "%s-%u", d->name, n->inst));
      a_str(sp, "server.address", "kafka-0.kafka.platform.svc.cluster.local");
      if (n->err) sp->status_msg = "message handler failed";
      if (n->parent >= 0 && rng_chance(r, 0.5) && sp->nlk < LINKS_MAX) {
        struct link *l = &sp->lk[sp->nlk++];
        memcpy(l->trace_id, t->trace_id, 16);
        memcpy(l->span_id, t->n[n->parent].span_id, 8);
        l->trace_state = sp->trace_state;
        l->a[0] = mk_str("messaging.operation", "publish");
        l->na = 1;
      }
      if (recent_count > 0 && rng_chance(r, 0.2)) {  /* batched with messages of other traces */
        int nl = 1 + (int)rng_below(r, 2);
        for (int k = 0; k < nl && sp->nlk < LINKS_MAX; k++) {
          const struct recent *rc = &recent_spans[rng_below(r, recent_count < RECENT_SPANS ? recent_count : RECENT_SPANS)];
          if (rc->tenant != t->tenant) continue;
          struct link *l = &sp->lk[sp->nlk++];
          memcpy(l->trace_id, rc->trace_id, 16);
          memcpy(l->span_id, rc->span_id, 8);
          l->trace_state = "";
          l->a[0] = mk_str("link.reason", "batched");
          l->a[1] = mk_int("batch.index", k);
          l->na = 2;
        }
      }
    }
    break;
  case S_DB: {
    const struct dbstmt *s = &W.stmts[n->ref];
    sp->name = s->name;
    sp->name_len = (uint32_t)strlen(s->name);
    a_str(sp, "db.system", d->db_system);
    a_str(sp, "db.name", d->db_name);
    a_str(sp, "db.statement", s->text);
    a_str(sp, "db.operation", s->op);
    a_str(sp, "db.sql.table", s->table);
    bool pg = strcmp(d->db_system, "postgresql") == 0, my = strcmp(d->db_system, "mysql") == 0;
    a_str(sp, "server.address", sfmt(sp, NULL, "%s-%s.%s.svc.cluster.local", pg ? "pg" : my ? "mysql" : "db", d->db_name, d->ns));
    a_int(sp, "server.port", pg ? 5432 : my ? 3306 : strcmp(d->db_system, "mongodb") == 0 ? 27017 : 9200);
    a_str(sp, "db.user", sfmt(sp, NULL, "%s_rw", d->db_name));
    ip_text(sp, "network.peer.address", n->svc * 104729u);
    if (n->err)
      sp->status_msg = n->timeout ? "context deadline exceeded"
                       : pg ? "ERROR: duplicate key value violates unique constraint \"pk_id\" (SQLSTATE 23505)"
                       : my ? "Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction"
                            : "connection pool exhausted";
    if (!n->err && rng_chance(r, 0.02) && sp->nev < EVENTS_MAX) {
      struct event *e = &sp->ev[sp->nev++];
      e->ts_ns = n->start_ns + n->dur_ns / 3;
      e->name = "retry";
      e->a[0] = mk_int("retry.attempt", 1);
      e->a[1] = mk_str("retry.reason", "serialization failure");
      e->na = 2;
    }
    break;
  }
  case S_CACHE: {
    const char *cmd = cache_cmds[n->ref];
    sp->name = cmd;
    sp->name_len = (uint32_t)strlen(cmd);
    a_str(sp, "db.system", "redis");
    a_str(sp, "db.statement", sfmt(sp, NULL, "%s %s:%u:%u", cmd, d->name, t->tenant, (unsigned)(rid % 100000)));
    a_str(sp, "db.operation", cmd);
    a_int(sp, "db.redis.database_index", n->svc % 4);
    a_str(sp, "server.address", sfmt(sp, NULL, "redis-%s.%s.svc.cluster.local", d->name, d->ns));
    a_int(sp, "server.port", 6379);
    ip_text(sp, "network.peer.address", n->svc * 15485863u);
    if (n->err) sp->status_msg = "i/o timeout";
    if (cmd[0] == 'G' && rng_chance(r, 0.12) && sp->nev < EVENTS_MAX) {
      struct event *e = &sp->ev[sp->nev++];
      e->ts_ns = n->start_ns + n->dur_ns - 1000;
      e->name = "cache.miss";
      e->a[0] = mk_str("cache.key", sfmt(sp, NULL, "%s:%u", d->name, (unsigned)(rid % 100000)));
      e->na = 1;
    }
    break;
  }
  case S_PRODUCE:
    sp->name = sfmt(sp, &sp->name_len, "%s publish", topics[n->ref]);
    a_str(sp, "messaging.system", "kafka");
    a_str(sp, "messaging.destination.name", topics[n->ref]);
    a_str(sp, "messaging.operation", "publish");
    a_int(sp, "messaging.kafka.destination.partition", rng_below(r, 12));
    {
      uint8_t mid[16];
      rng_bytes(r, mid, 16);
      char h[33];
      for (int k = 0; k < 16; k++) snprintf(h + 2 * k, 3, "%02x", mid[k]);
      a_str(sp, "messaging.message.id", sfmt(sp, NULL, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20));
    }
    a_int(sp, "messaging.message.body.size", 300 + rng_below(r, 4000));
    a_str(sp, "messaging.client_id", sfmt(sp, NULL, "%s-%u", d->name, n->inst));
    a_str(sp, "server.address", "kafka-0.kafka.platform.svc.cluster.local");
    if (n->err) sp->status_msg = "kafka: client has run out of available brokers to talk to";
    break;
  default: {                              /* internal */
    const char *fnname = internal_names[n->ref];
    sp->name = fnname;
    sp->name_len = (uint32_t)strlen(fnname);
    a_str(sp, "code.function", fnname);
    a_str(sp, "code.namespace", sfmt(sp, NULL, "%s.%s", d->ns, d->name));
    a_int(sp, "code.lineno", 20 + (int64_t)((n->ref * 37 + n->svc * 11) % 900));
    a_int(sp, "thread.id", 1 + rng_below(r, 64));
    a_str(sp, "thread.name", sfmt(sp, NULL, "worker-%u", rng_below(r, 16)));
    break;
  }
  }

  /* Application attributes: users and requests on server spans, then filler
   * from a realistic pool up to this span's attribute count (5..20). */
  int want = ATTRS_MIN + (int)(16.0 * pow(rng_unit(r), 1.6));
  if (want > ATTRS_MAX) want = ATTRS_MAX;
  bool entryish = n->kind == K_SERVER || n->kind == K_CONSUMER;
  if (entryish && t->user) a_str(sp, "enduser.id", sfmt(sp, NULL, "u-%06u", t->user));
  if (entryish) {
    char h[17];
    for (int k = 0; k < 8; k++) snprintf(h + 2 * k, 3, "%02x", t->request[k]);
    a_str(sp, "app.request_id", sfmt(sp, NULL, "%s", h));
  }
  static const char *const pool[] = {
    "app.session_id", "app.tenant.plan", "app.feature_flag.new_checkout", "app.cache.hit", "app.items.count",
    "app.order.total", "app.currency", "app.locale", "app.customer.tier", "app.experiment.bucket",
    "app.product.id", "app.page.size", "app.build.commit", "app.retry.count", "app.queue.depth",
    "app.payload.bytes", "app.region", "app.shard", "app.cart.id", "app.auth.method",
  };
  uint32_t start = rng_below(r, 20);
  for (uint32_t k = 0; k < 20 && sp->na < want; k++) {
    uint32_t p = (start + k * 7) % 20;      /* 7 is coprime with 20: visits every key */
    const char *key = pool[p];
    switch (p) {
    case 0: {
      char h[17];
      for (int q = 0; q < 8; q++) snprintf(h + 2 * q, 3, "%02x", t->session[q]);
      a_str(sp, key, sfmt(sp, NULL, "%s", h));
      break;
    }
    case 1: a_str(sp, key, tenants[t->tenant].plan); break;
    case 2: a_bool(sp, key, (t->user % 5) == 0); break;
    case 3: a_bool(sp, key, rng_chance(r, 0.8)); break;
    case 4: a_int(sp, key, 1 + (int64_t)rng_below(r, 12)); break;
    case 5: a_dbl(sp, key, 199 + (int64_t)rng_below(r, 50000)); break;
    case 6: a_str(sp, key, currencies[(t->user + (uint32_t)t->tenant) % 8]); break;
    case 7: a_str(sp, key, locales[t->user % 8]); break;
    case 8: a_str(sp, key, tiers[t->user % 4]); break;
    case 9: a_str(sp, key, t->user % 2 ? "A" : "B"); break;
    case 10: a_str(sp, key, sfmt(sp, NULL, "p-%05u", t->product)); break;
    case 11: a_int(sp, key, 24); break;
    case 12: a_str(sp, key, svc->commit); break;
    case 13: a_int(sp, key, rng_chance(r, 0.9) ? 0 : 1 + rng_below(r, 3)); break;
    case 14: a_int(sp, key, rng_below(r, 500)); break;
    case 15: a_int(sp, key, 128 + rng_below(r, 65536)); break;
    case 16: a_str(sp, key, tenants[t->tenant].region); break;
    case 17: a_int(sp, key, (t->user % 64)); break;
    case 18: a_str(sp, key, sfmt(sp, NULL, "c-%u-%u", t->tenant, t->user)); break;
    default: a_str(sp, key, t->user ? "oidc" : "anonymous"); break;
    }
  }

  /* Events: exceptions on failures, messages on some RPCs, logs on a few servers. */
  if (n->err && (n->kind == K_SERVER || n->kind == K_CONSUMER || rng_chance(r, 0.5)))
    add_exception(sp, r, n, n->start_ns + n->dur_ns - n->dur_ns / 10);
  if (n->itype == I_GRPC && rng_chance(r, 0.08) && sp->nev + 2 <= EVENTS_MAX) {
    for (int k = 0; k < 2; k++) {
      struct event *e = &sp->ev[sp->nev++];
      e->ts_ns = n->start_ns + (k ? n->dur_ns - n->dur_ns / 8 : n->dur_ns / 8);
      e->name = "message";
      e->a[0] = mk_str("message.type", (k == 0) == (n->kind == K_CLIENT) ? "SENT" : "RECEIVED");
      e->a[1] = mk_int("message.id", 1);
      e->a[2] = mk_int("message.uncompressed_size", 64 + rng_below(r, 4096));
      e->na = 3;
    }
  }
  if (n->kind == K_SERVER && rng_chance(r, 0.04) && sp->nev < EVENTS_MAX) {
    struct event *e = &sp->ev[sp->nev++];
    e->ts_ns = n->start_ns + n->dur_ns / 2;
    e->name = "log";
    bool slow = n->dur_ns > 200 * MS;
    e->a[0] = mk_str("log.severity", slow ? "WARN" : "INFO");
    e->a[1] = mk_str("log.message", slow ? "slow downstream response" : "request accepted");
    e->na = 2;
  }
}

/* ---- time ----------------------------------------------------------------- */

static void civil(int64_t days, int *y, unsigned *m, unsigned *d) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned)(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = (int64_t)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)(yy + (*m <= 2));
}

/* 'YYYY-MM-DD hh:mm:ss' plus '.nnnnnnnnn' when frac; the date text of the last
 * second is cached, since consecutive spans share it. */
static void put_time(struct bytes *b, uint64_t ns, bool frac) {
  static uint64_t cached_sec = UINT64_MAX;
  static char text[20];
  uint64_t sec = ns / NS;
  if (sec != cached_sec) {
    int y;
    unsigned mo, d;
    civil((int64_t)(sec / 86400), &y, &mo, &d);
    unsigned s = (unsigned)(sec % 86400);
    snprintf(text, sizeof text, "%04d-%02u-%02u %02u:%02u:%02u", y, mo, d, s / 3600, s / 60 % 60, s % 60);
    cached_sec = sec;
  }
  put(b, text, 19);
  if (frac) {
    char *p = room(b, 10);
    uint64_t f = ns % NS;
    p[0] = '.';
    for (int i = 9; i >= 1; i--) {
      p[i] = (char)('0' + f % 10);
      f /= 10;
    }
    b->len += 10;
  }
}

static void time_text(char *dst, size_t cap, uint64_t sec) {
  int y;
  unsigned mo, d;
  civil((int64_t)(sec / 86400), &y, &mo, &d);
  unsigned s = (unsigned)(sec % 86400);
  snprintf(dst, cap, "%04d-%02u-%02u %02u:%02u:%02u", y, mo, d, s / 3600, s / 60 % 60, s % 60);
}

/* Position u in [0,1) of the stream → seconds since T0, following the traffic curve. */
static double stream_seconds(double u) {
  int lo = 0, hi = HOURS - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (W.hour_cdf[mid + 1] <= u) lo = mid + 1;
    else hi = mid;
  }
  double w = W.hour_cdf[lo + 1] - W.hour_cdf[lo];
  double f = w > 0 ? (u - W.hour_cdf[lo]) / w : 0;
  return (lo + f) * 3600.0;
}

/* ---- writers: TSV ---------------------------------------------------------- */

/* TabSeparated escaping of a top-level String field. */
static void tsv_str(struct bytes *b, const char *s, size_t n) {
  char *d = room(b, 2 * n);
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    switch (c) {
    case '\t': d[j++] = '\\'; d[j++] = 't'; break;
    case '\n': d[j++] = '\\'; d[j++] = 'n'; break;
    case '\r': d[j++] = '\\'; d[j++] = 'r'; break;
    case '\\': d[j++] = '\\'; d[j++] = '\\'; break;
    case '\0': d[j++] = '\\'; d[j++] = '0'; break;
    default: d[j++] = c;
    }
  }
  b->len += j;
}

/* A quoted string inside an Array or Map field: 'text' with \' and \\ escaped,
 * and control characters as escapes so the TSV field stays one line. */
static void tsv_quoted(struct bytes *b, const char *s, size_t n) {
  char *d = room(b, 2 * n + 2);
  size_t j = 0;
  d[j++] = '\'';
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    switch (c) {
    case '\'': d[j++] = '\\'; d[j++] = '\''; break;
    case '\\': d[j++] = '\\'; d[j++] = '\\'; break;
    case '\t': d[j++] = '\\'; d[j++] = 't'; break;
    case '\n': d[j++] = '\\'; d[j++] = 'n'; break;
    case '\r': d[j++] = '\\'; d[j++] = 'r'; break;
    case '\0': d[j++] = '\\'; d[j++] = '0'; break;
    default: d[j++] = c;
    }
  }
  d[j++] = '\'';
  b->len += j;
}

static void tsv_map(struct bytes *b, const struct attr *a, int n) {
  char tmp[32];
  putch(b, '{');
  for (int i = 0; i < n; i++) {
    if (i) putch(b, ',');
    tsv_quoted(b, a[i].k, strlen(a[i].k));
    putch(b, ':');
    uint32_t len;
    const char *v = attr_text(&a[i], tmp, &len);
    tsv_quoted(b, v, len);
  }
  putch(b, '}');
}

static void tsv_keys(struct bytes *b, const struct attr *a, int n) {
  putch(b, '[');
  for (int i = 0; i < n; i++) {
    if (i) putch(b, ',');
    tsv_quoted(b, a[i].k, strlen(a[i].k));
  }
  putch(b, ']');
}

static void tsv_values(struct bytes *b, const struct attr *a, int n) {
  char tmp[32];
  putch(b, '[');
  for (int i = 0; i < n; i++) {
    if (i) putch(b, ',');
    uint32_t len;
    const char *v = attr_text(&a[i], tmp, &len);
    tsv_quoted(b, v, len);
  }
  putch(b, ']');
}

/* Resource attributes of (tenant, service, pod) in every encoding, built once. */
struct resource {
  struct attr a[20];
  int na;
  char text[1024];                  /* owns the dynamic values */
  struct bytes map_tsv, kv_tsv, json, pb;
  bool ready;
};
static struct resource resources[TENANT_COUNT][SVC_COUNT][INSTANCES_MAX];

static void json_attrs(struct bytes *b, const struct attr *a, int n);
static void pb_attr(struct bytes *b, uint32_t field, const struct attr *a);

static const char *rtext(struct resource *res, size_t *used, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const char *rtext(struct resource *res, size_t *used, const char *fmt, ...) {
  char *d = res->text + *used;
  size_t cap = sizeof res->text - *used;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(d, cap, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= cap) die("resource text overflow");
  *used += (size_t)n + 1;
  return d;
}

static const struct resource *resource_get(int tenant, int si, int inst) {
  struct resource *res = &resources[tenant][si][inst];
  if (res->ready) return res;
  const struct service *s = &W.svc[si];
  const struct svc_def *d = s->d;
  const struct lang_def *L = &langs[d->lang];
  const struct tenant *tn = &tenants[tenant];
  size_t used = 0;
  uint32_t h = (uint32_t)(tenant * 7919 + si * 131 + inst * 17);
  int na = 0;
  const char *pod = NULL;
  res->a[na++] = mk_str("service.name", d->name);
  res->a[na++] = mk_str("service.namespace", d->ns);
  res->a[na++] = mk_str("service.version", s->version);
  res->a[na++] = mk_str("service.instance.id", rtext(res, &used, "%08x-%04x-4%03x-a%03x-%012x", h * 2654435761u, h & 0xffff,
                                                     (h >> 4) & 0xfff, (h >> 8) & 0xfff, h * 40503u));
  res->a[na++] = mk_str("deployment.environment", "production");
  pod = rtext(res, &used, "%s-%x%04x-%c%c%c%c%c", d->name, 5 + (h % 11), (h * 31) & 0xffff, 'a' + h % 26, 'a' + (h / 26) % 26,
              'b' + (h / 7) % 24, 'c' + (h / 3) % 23, 'd' + (h / 5) % 22);
  res->a[na++] = mk_str("host.name", pod);
  res->a[na++] = mk_str("host.arch", "amd64");
  res->a[na++] = mk_str("os.type", "linux");
  res->a[na++] = mk_str("telemetry.sdk.name", "opentelemetry");
  res->a[na++] = mk_str("telemetry.sdk.language", L->sdk);
  res->a[na++] = mk_str("telemetry.sdk.version", L->sdk_version);
  res->a[na++] = mk_str("process.runtime.name", L->runtime);
  res->a[na++] = mk_str("process.runtime.version", L->runtime_version);
  res->a[na++] = mk_int("process.pid", 1 + (int64_t)(h % 32000));
  res->a[na++] = mk_str("k8s.namespace.name", rtext(res, &used, "%s-%s", tn->id, d->ns));
  res->a[na++] = mk_str("k8s.pod.name", pod);
  res->a[na++] = mk_str("k8s.deployment.name", d->name);
  res->a[na++] = mk_str("k8s.node.name", rtext(res, &used, "ip-10-0-%u-%u.internal", (h >> 3) % 8, 10 + h % 200));
  res->a[na++] = mk_str("cloud.provider", tn->cloud);
  res->a[na++] = mk_str("cloud.region", tn->region);
  res->na = na;
  tsv_map(&res->map_tsv, res->a, na);
  tsv_keys(&res->kv_tsv, res->a, na);
  putch(&res->kv_tsv, '\t');
  tsv_values(&res->kv_tsv, res->a, na);
  putstr(&res->json, "{\"attributes\":");
  json_attrs(&res->json, res->a, na);
  putch(&res->json, '}');
  for (int i = 0; i < na; i++) pb_attr(&res->pb, 1, &res->a[i]);
  res->ready = true;
  return res;
}

static void tsv_row(struct bytes *b, const struct span *sp) {
  const struct resource *res = resource_get(sp->tenant, sp->svc, sp->inst);
  const struct lang_def *L = &langs[svc_defs[sp->svc].lang];
  putstr(b, tenants[sp->tenant].id);
  putch(b, '\t');
  put_time(b, sp->start_ns, true);
  putch(b, '\t');
  put_hex(b, sp->trace_id, 16);
  putch(b, '\t');
  put_hex(b, sp->span_id, 8);
  putch(b, '\t');
  if (sp->parent_id) put_hex(b, sp->parent_id, 8);
  putch(b, '\t');
  tsv_str(b, sp->trace_state, strlen(sp->trace_state));
  putch(b, '\t');
  tsv_str(b, sp->name, sp->name_len);
  putch(b, '\t');
  putstr(b, kind_names[sp->kind]);
  putch(b, '\t');
  putstr(b, svc_defs[sp->svc].name);
  putch(b, '\t');
  put(b, res->map_tsv.p, res->map_tsv.len);
  putch(b, '\t');
  putstr(b, L->scope[sp->scope_itype]);
  putch(b, '\t');
  putstr(b, L->scope_version[sp->scope_itype]);
  putch(b, '\t');
  tsv_map(b, sp->a, sp->na);
  putch(b, '\t');
  put_u64(b, sp->end_ns - sp->start_ns);
  putch(b, '\t');
  putstr(b, status_names[sp->status]);
  putch(b, '\t');
  tsv_str(b, sp->status_msg, strlen(sp->status_msg));
  putstr(b, "\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) putch(b, ',');
    putch(b, '\'');
    put_time(b, sp->ev[i].ts_ns, true);
    putch(b, '\'');
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) putch(b, ',');
    tsv_quoted(b, sp->ev[i].name, strlen(sp->ev[i].name));
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) putch(b, ',');
    tsv_map(b, sp->ev[i].a, sp->ev[i].na);
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) putch(b, ',');
    putch(b, '\'');
    put_hex(b, sp->lk[i].trace_id, 16);
    putch(b, '\'');
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) putch(b, ',');
    putch(b, '\'');
    put_hex(b, sp->lk[i].span_id, 8);
    putch(b, '\'');
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) putch(b, ',');
    tsv_quoted(b, sp->lk[i].trace_state, strlen(sp->lk[i].trace_state));
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) putch(b, ',');
    tsv_map(b, sp->lk[i].a, sp->lk[i].na);
  }
  putstr(b, "]\n");
}

/* The ClickHouse 18.16 variant: no Map and no DateTime64, so maps become
 * parallel key/value arrays and times become DateTime plus UInt64 nanoseconds. */
static void tsv_ch_row(struct bytes *b, const struct span *sp) {
  const struct resource *res = resource_get(sp->tenant, sp->svc, sp->inst);
  const struct lang_def *L = &langs[svc_defs[sp->svc].lang];
  putstr(b, tenants[sp->tenant].id);
  putch(b, '\t');
  put_time(b, sp->start_ns, false);
  putch(b, '\t');
  put_u64(b, sp->start_ns);
  putch(b, '\t');
  put_hex(b, sp->trace_id, 16);
  putch(b, '\t');
  put_hex(b, sp->span_id, 8);
  putch(b, '\t');
  if (sp->parent_id) put_hex(b, sp->parent_id, 8);
  putch(b, '\t');
  tsv_str(b, sp->trace_state, strlen(sp->trace_state));
  putch(b, '\t');
  tsv_str(b, sp->name, sp->name_len);
  putch(b, '\t');
  putstr(b, kind_names[sp->kind]);
  putch(b, '\t');
  putstr(b, svc_defs[sp->svc].name);
  putch(b, '\t');
  put(b, res->kv_tsv.p, res->kv_tsv.len);
  putch(b, '\t');
  putstr(b, L->scope[sp->scope_itype]);
  putch(b, '\t');
  putstr(b, L->scope_version[sp->scope_itype]);
  putch(b, '\t');
  tsv_keys(b, sp->a, sp->na);
  putch(b, '\t');
  tsv_values(b, sp->a, sp->na);
  putch(b, '\t');
  put_u64(b, sp->end_ns - sp->start_ns);
  putch(b, '\t');
  putstr(b, status_names[sp->status]);
  putch(b, '\t');
  tsv_str(b, sp->status_msg, strlen(sp->status_msg));
  putstr(b, "\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) putch(b, ',');
    put_u64(b, sp->ev[i].ts_ns);
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) putch(b, ',');
    tsv_quoted(b, sp->ev[i].name, strlen(sp->ev[i].name));
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) putch(b, ',');
    tsv_keys(b, sp->ev[i].a, sp->ev[i].na);
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) putch(b, ',');
    tsv_values(b, sp->ev[i].a, sp->ev[i].na);
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) putch(b, ',');
    putch(b, '\'');
    put_hex(b, sp->lk[i].trace_id, 16);
    putch(b, '\'');
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) putch(b, ',');
    putch(b, '\'');
    put_hex(b, sp->lk[i].span_id, 8);
    putch(b, '\'');
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) putch(b, ',');
    tsv_quoted(b, sp->lk[i].trace_state, strlen(sp->lk[i].trace_state));
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) putch(b, ',');
    tsv_keys(b, sp->lk[i].a, sp->lk[i].na);
  }
  putstr(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) putch(b, ',');
    tsv_values(b, sp->lk[i].a, sp->lk[i].na);
  }
  putstr(b, "]\n");
}

/* ---- writers: OTLP/JSON --------------------------------------------------- */

static void json_str(struct bytes *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  char *d = room(b, 6 * n + 2);
  size_t j = 0;
  d[j++] = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      d[j++] = '\\';
      d[j++] = (char)c;
    } else if (c == '\n') {
      d[j++] = '\\';
      d[j++] = 'n';
    } else if (c == '\t') {
      d[j++] = '\\';
      d[j++] = 't';
    } else if (c < 0x20) {
      memcpy(d + j, "\\u00", 4);
      d[j + 4] = hex[c >> 4];
      d[j + 5] = hex[c & 15];
      j += 6;
    } else {
      d[j++] = (char)c;
    }
  }
  d[j++] = '"';
  b->len += j;
}

static void json_attrs(struct bytes *b, const struct attr *a, int n) {
  char tmp[32];
  putch(b, '[');
  for (int i = 0; i < n; i++) {
    if (i) putch(b, ',');
    putstr(b, "{\"key\":");
    json_str(b, a[i].k, strlen(a[i].k));
    putstr(b, ",\"value\":{");
    uint32_t len = 0;
    switch (a[i].type) {
    case A_STR:
      putstr(b, "\"stringValue\":");
      json_str(b, a[i].s, a[i].slen);
      break;
    case A_INT:                     /* int64 is a decimal string in OTLP/JSON */
      putstr(b, "\"intValue\":\"");
      put_i64(b, a[i].i);
      putch(b, '"');
      break;
    case A_BOOL:
      putstr(b, a[i].i ? "\"boolValue\":true" : "\"boolValue\":false");
      break;
    default:
      putstr(b, "\"doubleValue\":");
      const char *txt = attr_text(&a[i], tmp, &len);
      put(b, txt, len);
      break;
    }
    putstr(b, "}}");
  }
  putch(b, ']');
}

static void json_span(struct bytes *b, const struct span *sp) {
  putstr(b, "{\"traceId\":\"");
  put_hex(b, sp->trace_id, 16);
  putstr(b, "\",\"spanId\":\"");
  put_hex(b, sp->span_id, 8);
  putch(b, '"');
  if (sp->parent_id) {
    putstr(b, ",\"parentSpanId\":\"");
    put_hex(b, sp->parent_id, 8);
    putch(b, '"');
  }
  if (*sp->trace_state) {
    putstr(b, ",\"traceState\":");
    json_str(b, sp->trace_state, strlen(sp->trace_state));
  }
  putstr(b, ",\"name\":");
  json_str(b, sp->name, sp->name_len);
  putstr(b, ",\"kind\":");
  put_u64(b, (uint64_t)sp->kind);
  putstr(b, ",\"startTimeUnixNano\":\"");
  put_u64(b, sp->start_ns);
  putstr(b, "\",\"endTimeUnixNano\":\"");
  put_u64(b, sp->end_ns);
  putstr(b, "\",\"attributes\":");
  json_attrs(b, sp->a, sp->na);
  if (sp->nev) {
    putstr(b, ",\"events\":[");
    for (int i = 0; i < sp->nev; i++) {
      if (i) putch(b, ',');
      putstr(b, "{\"timeUnixNano\":\"");
      put_u64(b, sp->ev[i].ts_ns);
      putstr(b, "\",\"name\":");
      json_str(b, sp->ev[i].name, strlen(sp->ev[i].name));
      putstr(b, ",\"attributes\":");
      json_attrs(b, sp->ev[i].a, sp->ev[i].na);
      putch(b, '}');
    }
    putch(b, ']');
  }
  if (sp->nlk) {
    putstr(b, ",\"links\":[");
    for (int i = 0; i < sp->nlk; i++) {
      if (i) putch(b, ',');
      putstr(b, "{\"traceId\":\"");
      put_hex(b, sp->lk[i].trace_id, 16);
      putstr(b, "\",\"spanId\":\"");
      put_hex(b, sp->lk[i].span_id, 8);
      putch(b, '"');
      if (*sp->lk[i].trace_state) {
        putstr(b, ",\"traceState\":");
        json_str(b, sp->lk[i].trace_state, strlen(sp->lk[i].trace_state));
      }
      putstr(b, ",\"attributes\":");
      json_attrs(b, sp->lk[i].a, sp->lk[i].na);
      putch(b, '}');
    }
    putch(b, ']');
  }
  putstr(b, ",\"status\":{");
  if (sp->status) {
    putstr(b, "\"code\":");
    put_u64(b, (uint64_t)sp->status);
    if (*sp->status_msg) {
      putstr(b, ",\"message\":");
      json_str(b, sp->status_msg, strlen(sp->status_msg));
    }
  }
  putstr(b, "}}");
}

/* ---- writers: OTLP protobuf ----------------------------------------------- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static inline size_t vlen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

static inline void pb_varint(struct bytes *b, uint64_t v) {
  char *d = room(b, 10);
  size_t n = 0;
  while (v >= 0x80) {
    d[n++] = (char)(v | 0x80);
    v >>= 7;
  }
  d[n++] = (char)v;
  b->len += n;
}

static inline void pb_tag(struct bytes *b, uint32_t field, uint32_t wt) { pb_varint(b, (uint64_t)field << 3 | wt); }

static void pb_len(struct bytes *b, uint32_t field, const void *p, size_t n) {
  pb_tag(b, field, WT_LEN);
  pb_varint(b, n);
  put(b, p, n);
}

static void pb_fixed64(struct bytes *b, uint32_t field, uint64_t v) {
  pb_tag(b, field, WT_I64);
  char *d = room(b, 8);
  for (int i = 0; i < 8; i++) d[i] = (char)(v >> (8 * i));
  b->len += 8;
}

static size_t anyvalue_size(const struct attr *a) {
  switch (a->type) {
  case A_STR: return 1 + vlen(a->slen) + a->slen;
  case A_INT: return 1 + vlen((uint64_t)a->i);
  case A_BOOL: return 2;
  default: return 9;
  }
}

/* KeyValue{key = 1, value = 2 AnyValue{string 1 | bool 2 | int 3 | double 4}} as field `field`. */
static void pb_attr(struct bytes *b, uint32_t field, const struct attr *a) {
  size_t klen = strlen(a->k), av = anyvalue_size(a);
  size_t kv = 1 + vlen(klen) + klen + 1 + vlen(av) + av;
  pb_tag(b, field, WT_LEN);
  pb_varint(b, kv);
  pb_len(b, 1, a->k, klen);
  pb_tag(b, 2, WT_LEN);
  pb_varint(b, av);
  switch (a->type) {
  case A_STR: pb_len(b, 1, a->s, a->slen); break;
  case A_BOOL:
    pb_tag(b, 2, WT_VARINT);
    pb_varint(b, (uint64_t)a->i);
    break;
  case A_INT:
    pb_tag(b, 3, WT_VARINT);
    pb_varint(b, (uint64_t)a->i);
    break;
  default: {
    double v = (double)a->i / 100.0;
    uint64_t bits;
    memcpy(&bits, &v, 8);
    pb_fixed64(b, 4, bits);
    break;
  }
  }
}

/* Span fields by number: 1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id,
 * 5 name, 6 kind, 7 start, 8 end, 9 attributes, 11 events, 13 links, 15 status. */
static void pb_span(struct bytes *out, const struct span *sp) {
  static struct bytes s, sub;
  s.len = 0;
  pb_len(&s, 1, sp->trace_id, 16);
  pb_len(&s, 2, sp->span_id, 8);
  if (*sp->trace_state) pb_len(&s, 3, sp->trace_state, strlen(sp->trace_state));
  if (sp->parent_id) pb_len(&s, 4, sp->parent_id, 8);
  pb_len(&s, 5, sp->name, sp->name_len);
  pb_tag(&s, 6, WT_VARINT);
  pb_varint(&s, (uint64_t)sp->kind);
  pb_fixed64(&s, 7, sp->start_ns);
  pb_fixed64(&s, 8, sp->end_ns);
  for (int i = 0; i < sp->na; i++) pb_attr(&s, 9, &sp->a[i]);
  for (int i = 0; i < sp->nev; i++) {
    sub.len = 0;
    pb_fixed64(&sub, 1, sp->ev[i].ts_ns);
    pb_len(&sub, 2, sp->ev[i].name, strlen(sp->ev[i].name));
    for (int k = 0; k < sp->ev[i].na; k++) pb_attr(&sub, 3, &sp->ev[i].a[k]);
    pb_len(&s, 11, sub.p, sub.len);
  }
  for (int i = 0; i < sp->nlk; i++) {
    sub.len = 0;
    pb_len(&sub, 1, sp->lk[i].trace_id, 16);
    pb_len(&sub, 2, sp->lk[i].span_id, 8);
    if (*sp->lk[i].trace_state) pb_len(&sub, 3, sp->lk[i].trace_state, strlen(sp->lk[i].trace_state));
    for (int k = 0; k < sp->lk[i].na; k++) pb_attr(&sub, 4, &sp->lk[i].a[k]);
    pb_len(&s, 13, sub.p, sub.len);
  }
  sub.len = 0;
  if (*sp->status_msg) pb_len(&sub, 2, sp->status_msg, strlen(sp->status_msg));
  if (sp->status) {
    pb_tag(&sub, 3, WT_VARINT);
    pb_varint(&sub, (uint64_t)sp->status);
  }
  pb_len(&s, 15, sub.p, sub.len);
  pb_len(out, 2, s.p, s.len);      /* ScopeSpans.spans = 2 */
}

/* ---- OTLP batches: one request per tenant and batch, grouped by resource and scope */

enum format { F_TSV, F_TSV_CH, F_OTLP_JSON, F_OTLP_PROTO, F_OTLP_GRPC, F_NONE };

struct scope_group {
  struct bytes b;                   /* spans, already encoded (JSON: comma-separated) */
  uint32_t count;
  uint8_t itype;
};

struct res_group {
  uint16_t svc, inst;
  int16_t sg[ITYPE_COUNT];
};

struct tenant_batch {
  struct res_group res[SVC_COUNT * INSTANCES_MAX];
  int nres;
  struct scope_group sg[SVC_COUNT * INSTANCES_MAX * ITYPE_COUNT];
  int nsg;
  int16_t slot[SVC_COUNT][INSTANCES_MAX];
  uint32_t spans;
};

struct gen {
  enum format fmt;
  uint64_t spans_total, seed;
  uint32_t batch_spans;
  const char *out_dir;
  struct sink out;                  /* stdout or --out, for TSV without --out-dir */
  struct bytes chunk;               /* TSV with --out-dir */
  uint32_t chunk_rows;
  uint32_t files;
  FILE *index;
  struct tenant_batch *tb;          /* [TENANT_COUNT] */
  uint64_t bytes_out;
};

static void index_line(struct gen *g, const char *file, const char *tenant, uint32_t spans, size_t bytes) {
  fprintf(g->index, "%s\t%s\t%u\t%zu\n", file, tenant, spans, bytes);
  g->bytes_out += bytes;
}

static void tb_reset(struct tenant_batch *t) {
  for (int i = 0; i < t->nres; i++) t->slot[t->res[i].svc][t->res[i].inst] = -1;
  for (int i = 0; i < t->nsg; i++) {
    t->sg[i].b.len = 0;
    t->sg[i].count = 0;
  }
  t->nres = t->nsg = 0;
  t->spans = 0;
}

static void batch_flush(struct gen *g, int tenant) {
  struct tenant_batch *t = &g->tb[tenant];
  if (!t->spans) return;
  static struct bytes req, scope, tmp;
  req.len = 0;
  char name[64];
  const char *ext = g->fmt == F_OTLP_JSON ? "json" : g->fmt == F_OTLP_PROTO ? "pb" : "grpc";
  snprintf(name, sizeof name, "%06u.%s", ++g->files, ext);
  if (g->fmt == F_OTLP_JSON) {
    putstr(&req, "{\"resourceSpans\":[");
    for (int r = 0; r < t->nres; r++) {
      const struct res_group *rg = &t->res[r];
      const struct resource *res = resource_get(tenant, rg->svc, rg->inst);
      const struct lang_def *L = &langs[svc_defs[rg->svc].lang];
      if (r) putch(&req, ',');
      putstr(&req, "{\"resource\":");
      put(&req, res->json.p, res->json.len);
      putstr(&req, ",\"scopeSpans\":[");
      bool first = true;
      for (int it = 0; it < ITYPE_COUNT; it++) {
        if (rg->sg[it] < 0) continue;
        const struct scope_group *sg = &t->sg[rg->sg[it]];
        if (!first) putch(&req, ',');
        first = false;
        putstr(&req, "{\"scope\":{\"name\":");
        json_str(&req, L->scope[it], strlen(L->scope[it]));
        putstr(&req, ",\"version\":");
        json_str(&req, L->scope_version[it], strlen(L->scope_version[it]));
        putstr(&req, "},\"spans\":[");
        put(&req, sg->b.p, sg->b.len);
        putstr(&req, "]}");
      }
      putstr(&req, "]}");
    }
    putstr(&req, "]}\n");
  } else {
    /* ExportTraceServiceRequest{1: ResourceSpans{1: Resource, 2: ScopeSpans{1: scope, 2: spans}}} */
    for (int r = 0; r < t->nres; r++) {
      const struct res_group *rg = &t->res[r];
      const struct resource *res = resource_get(tenant, rg->svc, rg->inst);
      const struct lang_def *L = &langs[svc_defs[rg->svc].lang];
      tmp.len = 0;
      pb_len(&tmp, 1, res->pb.p, res->pb.len);
      for (int it = 0; it < ITYPE_COUNT; it++) {
        if (rg->sg[it] < 0) continue;
        const struct scope_group *sg = &t->sg[rg->sg[it]];
        scope.len = 0;
        pb_len(&scope, 1, L->scope[it], strlen(L->scope[it]));
        if (*L->scope_version[it]) pb_len(&scope, 2, L->scope_version[it], strlen(L->scope_version[it]));
        size_t ss = 1 + vlen(scope.len) + scope.len + sg->b.len;
        pb_tag(&tmp, 2, WT_LEN);
        pb_varint(&tmp, ss);
        pb_len(&tmp, 1, scope.p, scope.len);
        put(&tmp, sg->b.p, sg->b.len);
      }
      pb_len(&req, 1, tmp.p, tmp.len);
    }
    if (g->fmt == F_OTLP_GRPC) {      /* gRPC message frame: uncompressed flag + big-endian length */
      struct bytes framed = { 0 };
      char *h = room(&framed, 5);
      h[0] = 0;
      h[1] = (char)(req.len >> 24);
      h[2] = (char)(req.len >> 16);
      h[3] = (char)(req.len >> 8);
      h[4] = (char)req.len;
      framed.len = 5;
      put(&framed, req.p, req.len);
      struct bytes swap = req;
      req = framed;
      free(swap.p);
    }
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", g->out_dir, name);
  write_file(path, &req, 1);
  index_line(g, name, tenants[tenant].id, t->spans, req.len);
  tb_reset(t);
}

static void batch_add(struct gen *g, const struct span *sp) {
  struct tenant_batch *t = &g->tb[sp->tenant];
  int16_t r = t->slot[sp->svc][sp->inst];
  if (r < 0) {
    r = (int16_t)t->nres++;
    t->slot[sp->svc][sp->inst] = r;
    t->res[r].svc = (uint16_t)sp->svc;
    t->res[r].inst = (uint16_t)sp->inst;
    for (int i = 0; i < ITYPE_COUNT; i++) t->res[r].sg[i] = -1;
  }
  struct res_group *rg = &t->res[r];
  if (rg->sg[sp->scope_itype] < 0) {
    rg->sg[sp->scope_itype] = (int16_t)t->nsg;
    t->sg[t->nsg].itype = (uint8_t)sp->scope_itype;
    t->nsg++;
  }
  struct scope_group *sg = &t->sg[rg->sg[sp->scope_itype]];
  if (g->fmt == F_OTLP_JSON) {
    if (sg->count) putch(&sg->b, ',');
    json_span(&sg->b, sp);
  } else {
    pb_span(&sg->b, sp);
  }
  sg->count++;
  if (++t->spans >= g->batch_spans) batch_flush(g, sp->tenant);
}

static void chunk_flush(struct gen *g) {
  if (!g->chunk_rows) return;
  char name[64], path[4096];
  snprintf(name, sizeof name, "%06u.tsv", ++g->files);
  snprintf(path, sizeof path, "%s/%s", g->out_dir, name);
  write_file(path, &g->chunk, 1);
  index_line(g, name, "-", g->chunk_rows, g->chunk.len);
  g->chunk.len = 0;
  g->chunk_rows = 0;
}

static void emit(struct gen *g, const struct span *sp) {
  switch (g->fmt) {
  case F_TSV:
  case F_TSV_CH:
    if (g->out_dir) {
      if (g->fmt == F_TSV) tsv_row(&g->chunk, sp);
      else tsv_ch_row(&g->chunk, sp);
      if (++g->chunk_rows >= g->batch_spans) chunk_flush(g);
    } else {
      if (g->fmt == F_TSV) tsv_row(&g->out.b, sp);
      else tsv_ch_row(&g->out.b, sp);
      sink_maybe_flush(&g->out);
    }
    break;
  case F_OTLP_JSON:
  case F_OTLP_PROTO:
  case F_OTLP_GRPC:
    batch_add(g, sp);
    break;
  case F_NONE:
    break;
  }
}

/* ---- statistics and probes ------------------------------------------------ */

struct stats {
  uint64_t spans, traces, errors, with_events, with_links, attrs, root_errors;
  uint64_t size_hist[SPANS_PER_TRACE_MAX + 1];
  uint64_t kind[6];
  uint64_t span_slow_100ms;
  uint64_t min_ns, max_ns;
  uint64_t *dur, *root_dur;         /* samples for quantiles, up to STATS_SAMPLES */
  size_t ndur, nroot;
};
#define STATS_SAMPLES 1000000

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void put_quantiles(FILE *f, const char *name, uint64_t *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_u64);
  double q[] = { 0.5, 0.9, 0.99 };
  fprintf(f, "\"%s\":{", name);
  for (int i = 0; i < 3; i++) {
    uint64_t x = n ? v[(size_t)(q[i] * (double)(n - 1))] : 0;
    fprintf(f, "%s\"p%g\":%.3f", i ? "," : "", q[i] * 100, (double)x / 1e6);
  }
  fprintf(f, "},");
}

struct probe {
  bool set;
  int tenant, size;
  uint8_t trace_id[16];
  uint64_t start_ns;
  uint32_t user;
  int root_svc;
};

static void write_probes(const char *path, const struct probe *p) {
  FILE *f = fopen(path, "w");
  if (!f) die("%s: %s", path, strerror(errno));
  char t[32];
  uint64_t sec = p->start_ns / NS;
  uint64_t hour = sec / 3600 * 3600, day = sec / 86400 * 86400;
  uint64_t week = day - 3 * 86400;
  if (week < T0_SEC) week = T0_SEC;
  fprintf(f, "PROBE_TENANT=%s\n", tenants[p->tenant].id);
  fprintf(f, "PROBE_TRACE_ID=");
  for (int i = 0; i < 16; i++) fprintf(f, "%02x", p->trace_id[i]);
  fprintf(f, "\nPROBE_TRACE_SPANS=%d\n", p->size);
  fprintf(f, "PROBE_SERVICE=%s\n", svc_defs[p->root_svc].name);
  time_text(t, sizeof t, hour);
  fprintf(f, "PROBE_HOUR='%s'\n", t);
  time_text(t, sizeof t, hour + 3600);
  fprintf(f, "PROBE_HOUR_END='%s'\n", t);
  time_text(t, sizeof t, day);
  fprintf(f, "PROBE_DAY='%s'\n", t);
  time_text(t, sizeof t, day + 86400);
  fprintf(f, "PROBE_DAY_END='%s'\n", t);
  time_text(t, sizeof t, week);
  fprintf(f, "PROBE_WEEK='%s'\n", t);
  time_text(t, sizeof t, week + 7 * 86400);
  fprintf(f, "PROBE_WEEK_END='%s'\n", t);
  fprintf(f, "PROBE_USER=u-%06u\n", p->user);
  fprintf(f, "PROBE_SLOW_NS=%llu\n", 20ull * MS);
  fclose(f);
}

static void write_stats(const char *path, struct stats *s, const struct gen *g) {
  FILE *f = strcmp(path, "-") ? fopen(path, "w") : stderr;
  if (!f) die("%s: %s", path, strerror(errno));
  double n = s->spans ? (double)s->spans : 1;
  char t0[32], t1[32];
  time_text(t0, sizeof t0, s->min_ns / NS);
  time_text(t1, sizeof t1, s->max_ns / NS);
  fprintf(f, "{\"seed\":%llu,\"spans\":%llu,\"traces\":%llu,\"services\":%d,\"operations\":%u,\"tenants\":%d,",
          (unsigned long long)g->seed, (unsigned long long)s->spans, (unsigned long long)s->traces, SVC_COUNT,
          W.nops, TENANT_COUNT);
  fprintf(f, "\"mean_spans_per_trace\":%.2f,\"error_span_ratio\":%.4f,\"spans_with_events_ratio\":%.4f,",
          s->traces ? n / (double)s->traces : 0, (double)s->errors / n, (double)s->with_events / n);
  fprintf(f, "\"root_error_ratio\":%.4f,", s->traces ? (double)s->root_errors / (double)s->traces : 0);
  fprintf(f, "\"spans_with_links_ratio\":%.4f,\"mean_span_attributes\":%.2f,\"spans_over_100ms_ratio\":%.4f,",
          (double)s->with_links / n, (double)s->attrs / n, (double)s->span_slow_100ms / n);
  fprintf(f, "\"first_span\":\"%s\",\"last_span\":\"%s\",\"output_bytes\":%llu,", t0, t1,
          (unsigned long long)g->bytes_out);
  put_quantiles(f, "span_duration_ms", s->dur, s->ndur);
  put_quantiles(f, "trace_duration_ms", s->root_dur, s->nroot);
  fprintf(f, "\"kinds\":{");
  for (int k = 1; k < 6; k++) fprintf(f, "%s\"%s\":%llu", k > 1 ? "," : "", kind_names[k], (unsigned long long)s->kind[k]);
  fprintf(f, "},\"trace_size_histogram\":{");
  bool first = true;
  for (int k = 1; k <= SPANS_PER_TRACE_MAX; k++) {
    if (!s->size_hist[k]) continue;
    fprintf(f, "%s\"%d\":%llu", first ? "" : ",", k, (unsigned long long)s->size_hist[k]);
    first = false;
  }
  fprintf(f, "}}\n");
  if (f != stderr) fclose(f);
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void) {
  fputs("usage: spangen [--spans N] [--seed S] [--format F] [--out FILE | --out-dir DIR]\n"
        "               [--batch-spans B] [--probes FILE] [--stats FILE|-]\n"
        "formats:\n"
        "  tsv                 spanhouse otel_traces rows (TenantId first, exporter columns)\n"
        "  tsv-clickhouse      ClickHouse 18.16 rows: Map -> key/value arrays, DateTime64(9) ->\n"
        "                      DateTime + UInt64 nanoseconds (bench/schema/clickhouse-18.16.sql)\n"
        "  otlp-json           ExportTraceServiceRequest per batch, OTLP/JSON (needs --out-dir)\n"
        "  otlp-proto-batches  the same requests as protobuf (needs --out-dir)\n"
        "  otlp-grpc-batches   protobuf with the 5-byte gRPC message prefix (needs --out-dir)\n"
        "  none                generate only (for --stats / --probes)\n"
        "With --out-dir every format writes numbered files of B spans (OTLP: one tenant per\n"
        "file) and index.tsv: file, tenant ('-' for TSV), spans, bytes. The same seed gives the\n"
        "same spans in every format. Defaults: --spans 1000000 --seed 1 --format tsv, B = 1000\n"
        "for OTLP and 100000 for TSV.\n",
        stderr);
  exit(2);
}

int main(int argc, char **argv) {
  struct gen g = { .fmt = F_TSV, .spans_total = 1000000, .seed = 1, .out = { .fd = 1 } };
  const char *out_file = NULL, *probes_path = NULL, *stats_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) usage();
    if (!v) usage();
    i++;
    if (strcmp(a, "--spans") == 0) g.spans_total = strtoull(v, NULL, 10);
    else if (strcmp(a, "--seed") == 0) g.seed = strtoull(v, NULL, 10);
    else if (strcmp(a, "--batch-spans") == 0) g.batch_spans = (uint32_t)strtoul(v, NULL, 10);
    else if (strcmp(a, "--out") == 0) out_file = v;
    else if (strcmp(a, "--out-dir") == 0) g.out_dir = v;
    else if (strcmp(a, "--probes") == 0) probes_path = v;
    else if (strcmp(a, "--stats") == 0) stats_path = v;
    else if (strcmp(a, "--format") == 0) {
      if (strcmp(v, "tsv") == 0) g.fmt = F_TSV;
      else if (strcmp(v, "tsv-clickhouse") == 0) g.fmt = F_TSV_CH;
      else if (strcmp(v, "otlp-json") == 0) g.fmt = F_OTLP_JSON;
      else if (strcmp(v, "otlp-proto-batches") == 0) g.fmt = F_OTLP_PROTO;
      else if (strcmp(v, "otlp-grpc-batches") == 0) g.fmt = F_OTLP_GRPC;
      else if (strcmp(v, "none") == 0) g.fmt = F_NONE;
      else die("unknown format %s", v);
    } else {
      usage();
    }
  }
  bool otlp = g.fmt == F_OTLP_JSON || g.fmt == F_OTLP_PROTO || g.fmt == F_OTLP_GRPC;
  if (otlp && !g.out_dir) die("OTLP formats write one file per request: give --out-dir");
  if (!g.batch_spans) g.batch_spans = otlp ? 1000 : 100000;
  if (g.out_dir) {
    if (mkdir(g.out_dir, 0755) != 0 && errno != EEXIST) die("%s: %s", g.out_dir, strerror(errno));
    char path[4096];
    snprintf(path, sizeof path, "%s/index.tsv", g.out_dir);
    g.index = fopen(path, "w");
    if (!g.index) die("%s: %s", path, strerror(errno));
  } else if (out_file) {
    g.out.fd = open(out_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (g.out.fd < 0) die("%s: %s", out_file, strerror(errno));
  }
  if (otlp) {
    g.tb = calloc(TENANT_COUNT, sizeof *g.tb);
    if (!g.tb) die("out of memory");
    for (int t = 0; t < TENANT_COUNT; t++) memset(g.tb[t].slot, 0xff, sizeof g.tb[t].slot);
  }

  build_world(g.seed);
  struct rng r;
  rng_seed(&r, g.seed, 2);
  static struct trace t;
  static struct span sp;
  struct stats st = { .min_ns = UINT64_MAX };
  if (stats_path) {
    st.dur = malloc(sizeof(uint64_t) * STATS_SAMPLES);
    st.root_dur = malloc(sizeof(uint64_t) * STATS_SAMPLES);
    if (!st.dur || !st.root_dur) die("out of memory");
  }
  struct probe probe = { 0 }, best = { 0 };
  uint64_t emitted = 0;
  const uint64_t span_end_limit = (T0_SEC + (uint64_t)DAYS * 86400 - 120) * NS;

  while (emitted < g.spans_total) {
    memset(&t, 0, sizeof t);
    t.r = &r;
    uint64_t left = g.spans_total - emitted;
    t.budget = left < SPANS_PER_TRACE_MAX ? (int)left : SPANS_PER_TRACE_MAX;
    double u = rng_unit(&r);
    int tenant = 0;
    while (tenant < TENANT_COUNT - 1 && W.tenant_cdf[tenant] < u) tenant++;
    t.tenant = tenant;
    for (int s = 0; s < SVC_COUNT; s++) t.inst_of[s] = (uint16_t)rng_below(&r, (uint32_t)W.svc[s].instances);
    rng_bytes(&r, t.trace_id, 16);
    t.user = rng_chance(&r, 0.8) ? 1 + zipf_sample(&W.users, &r) : 0;
    rng_bytes(&r, t.session, 8);
    rng_bytes(&r, t.request, 8);
    t.product = 1 + zipf_sample(&W.products, &r);
    uint32_t entry;
    if (rng_chance(&r, 0.1)) {         /* jobs and service-to-service calls outside the edge */
      uint32_t si = 4 + rng_below(&r, (uint32_t)SVC_COUNT - 4);
      entry = random_op_of(&r, si);
    } else {
      double e = rng_unit(&r);
      uint32_t k = 0;
      while (k < W.nentry - 1 && W.entry_cdf[k] < e) k++;
      entry = W.entry_ops[k];
    }
    if (W.ops[entry].health) t.user = 0;
    gen_server(&t, -1, entry, 0);
    /* Where this trace sits in the two months. */
    double secs = stream_seconds((double)emitted / (double)g.spans_total) + (rng_unit(&r) - 0.5) * 40.0;
    if (secs < 0) secs = 0;
    uint64_t start = T0_SEC * NS + (uint64_t)(secs * (double)NS) + rng_below(&r, 1000000000u);
    if (start > span_end_limit) start = span_end_limit - rng_below(&r, 60) * NS;
    for (int i = 0; i < t.count; i++) {
      struct node *n = &t.n[i];
      n->start_ns = n->parent < 0 ? start : t.n[n->parent].start_ns + n->rel_ns;
      do rng_bytes(&r, n->span_id, 8);
      while (!(n->span_id[0] | n->span_id[1] | n->span_id[7]));
    }
    st.traces++;
    st.size_hist[t.count]++;
    if (st.root_dur && st.nroot < STATS_SAMPLES) st.root_dur[st.nroot++] = t.n[0].dur_ns;
    st.root_errors += t.n[0].err;
    /* The probe trace: the first big trace of the largest tenant past the middle
     * of the stream, else the biggest one seen there. */
    if (!probe.set && t.tenant == 0 && t.user && emitted >= g.spans_total / 2 &&
        (t.count >= 20 || t.count > best.size)) {
      best = (struct probe){ .set = t.count >= 20, .tenant = 0, .size = t.count, .start_ns = start,
                             .user = t.user, .root_svc = t.n[0].svc };
      memcpy(best.trace_id, t.trace_id, 16);
      if (best.set) probe = best;
    }
    for (int i = 0; i < t.count; i++) {
      span_fill(&sp, &t, i, &r);
      emit(&g, &sp);
      st.spans++;
      st.errors += sp.status == 2;
      st.with_events += sp.nev > 0;
      st.with_links += sp.nlk > 0;
      st.attrs += (uint64_t)sp.na;
      st.kind[sp.kind]++;
      st.span_slow_100ms += sp.end_ns - sp.start_ns > 100 * MS;
      if (st.dur && st.ndur < STATS_SAMPLES) st.dur[st.ndur++] = sp.end_ns - sp.start_ns;
      if (sp.start_ns < st.min_ns) st.min_ns = sp.start_ns;
      if (sp.start_ns > st.max_ns) st.max_ns = sp.start_ns;
    }
    struct recent *rc = &recent_spans[recent_count++ % RECENT_SPANS];
    memcpy(rc->trace_id, t.trace_id, 16);
    memcpy(rc->span_id, t.n[0].span_id, 8);
    rc->tenant = t.tenant;
    emitted += (uint64_t)t.count;
  }

  if (otlp)
    for (int tn = 0; tn < TENANT_COUNT; tn++) batch_flush(&g, tn);
  if (g.out_dir && (g.fmt == F_TSV || g.fmt == F_TSV_CH)) chunk_flush(&g);
  if (!g.out_dir && g.fmt != F_NONE) {
    sink_flush(&g.out);
    g.bytes_out = g.out.written;
    if (out_file && close(g.out.fd) != 0) die("%s: %s", out_file, strerror(errno));
  }
  if (g.index && fclose(g.index) != 0) die("index.tsv: %s", strerror(errno));
  if (!probe.set) probe = best;
  if (probes_path) write_probes(probes_path, &probe);
  if (stats_path) write_stats(stats_path, &st, &g);
  return 0;
}
