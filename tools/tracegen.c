/* tracegen: see tracegen.h. A seed's world (services, operations, statements,
 * traffic curves) is built once; traces are drawn from one random stream, so
 * the same seed and call sequence give the same spans byte for byte. That is
 * what keeps spangen's data sets stable: change nothing here that moves a
 * random draw or a byte without meaning to regenerate every benchmark. */
#include "tools/tracegen.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Names are built with snprintf into fixed fields from short constant words;
 * a truncated name would only be a shorter name, never an overflow. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define STEPS_MAX    8
#define RECENT_SPANS 64             /* ring of recent spans that links may point at */

/* Out of memory and overflowing a fixed scratch area are not recoverable
 * here: the first is the machine's, the second a bug in this file. */
static void fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("tracegen: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

/* ---- byte buffers ---------------------------------------------------------- */

void bytes_grow(struct bytes *b, size_t need) {
  size_t c = b->cap ? b->cap : 4096;
  while (c < b->len + need) c *= 2;
  char *p = realloc(b->p, c);
  if (!p) fatal("out of memory (%zu bytes)", c);
  b->p = p;
  b->cap = c;
}

void bytes_free(struct bytes *b) {
  free(b->p);
  *b = (struct bytes){ 0 };
}

void bytes_put_u64(struct bytes *b, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  char *d = bytes_room(b, (size_t)n);
  for (int i = 0; i < n; i++) d[i] = tmp[n - 1 - i];
  b->len += (size_t)n;
}

void bytes_put_i64(struct bytes *b, int64_t v) {
  if (v < 0) {
    bytes_putc(b, '-');
    bytes_put_u64(b, (uint64_t)0 - (uint64_t)v);
  } else {
    bytes_put_u64(b, (uint64_t)v);
  }
}

void bytes_put_hex(struct bytes *b, const uint8_t *id, size_t n) {
  static const char hex[] = "0123456789abcdef";
  char *d = bytes_room(b, 2 * n);
  for (size_t i = 0; i < n; i++) {
    d[2 * i] = hex[id[i] >> 4];
    d[2 * i + 1] = hex[id[i] & 15];
  }
  b->len += 2 * n;
}

/* ---- random numbers: xoshiro256** seeded by splitmix64 -------------------- */

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
  if (!z->cdf) fatal("out of memory");
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

const struct tenant tracegen_tenants[TENANT_COUNT] = {
  { "acme-corp", 0.38, "aws", "us-east-1", "enterprise", "" },
  { "globex", 0.24, "aws", "eu-west-1", "enterprise", "congo=t61rcWkgMzE" },
  { "initech", 0.16, "gcp", "us-central1", "pro", "" },
  { "umbrella", 0.12, "azure", "westeurope", "pro", "" },
  { "hooli", 0.06, "aws", "us-west-2", "team", "rojo=00f067aa0ba902b7" },
  { "stark-industries", 0.04, "aws", "ap-southeast-1", "team", "" },
};
const struct lang_def tracegen_langs[LANG_COUNT] = {
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
const struct svc_def tracegen_services[SVC_COUNT] = {
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
const char *const tracegen_kind_names[6] = { "Unspecified", "Internal", "Server", "Client", "Producer", "Consumer" };
const char *const tracegen_status_names[3] = { "Unset", "Ok", "Error" };
_Static_assert(sizeof tracegen_tenants / sizeof tracegen_tenants[0] == TENANT_COUNT, "tenant table");
_Static_assert(sizeof tracegen_services / sizeof tracegen_services[0] == SVC_COUNT, "service table");

/* ---- the world of one seed: operations, statements, traffic ------------- */

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

struct recent {
  uint8_t trace_id[16], span_id[8];
  int tenant;
};

struct tracegen {
  struct world w;
  struct rng r;                     /* the trace stream (stream 2 of the seed) */
  struct trace t;                   /* the current trace */
  struct recent recent[RECENT_SPANS];
  uint32_t recent_count;
  int span_attrs;                   /* 0: the natural mix */
  int services;                     /* 0: the built-in names */
  struct tracegen_resource resources[TENANT_COUNT][SVC_COUNT][INSTANCES_MAX];
};

static struct op *op_new(struct world *w) {
  if (w->nops == w->ops_cap) {
    w->ops_cap = w->ops_cap ? w->ops_cap * 2 : 256;
    w->ops = realloc(w->ops, sizeof(struct op) * w->ops_cap);
    if (!w->ops) fatal("out of memory");
  }
  struct op *o = &w->ops[w->nops++];
  memset(o, 0, sizeof *o);
  return o;
}

static struct dbstmt *stmt_new(struct world *w) {
  if (w->nstmts == w->stmts_cap) {
    w->stmts_cap = w->stmts_cap ? w->stmts_cap * 2 : 128;
    w->stmts = realloc(w->stmts, sizeof(struct dbstmt) * w->stmts_cap);
    if (!w->stmts) fatal("out of memory");
  }
  struct dbstmt *s = &w->stmts[w->nstmts++];
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

static void add_statements(struct world *w, struct rng *r, int si) {
  const struct svc_def *d = tracegen_services[si].db_system ? &tracegen_services[si] : NULL;
  if (!d) return;
  char tables[4][32];
  int nt = split_words(d->tables, tables, 4);
  bool sql = strcmp(d->db_system, "postgresql") == 0 || strcmp(d->db_system, "mysql") == 0;
  const char *ph = strcmp(d->db_system, "postgresql") == 0 ? "$1" : "?";
  for (int t = 0; t < nt; t++) {
    const char *tb = tables[t];
    struct dbstmt *s;
    if (sql) {
      s = stmt_new(w);
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "SELECT");
      snprintf(s->text, sizeof s->text, "SELECT id, tenant_id, status, payload, updated_at FROM %s WHERE id = %s", tb,
               ph);
      s->median_ms = 0.6f + (float)rng_unit(r) * 2.0f;
      s = stmt_new(w);
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "SELECT");
      snprintf(s->text, sizeof s->text,
               "SELECT id, status, created_at FROM %s WHERE account_id = %s AND created_at > now() - interval "
               "'30 days' ORDER BY created_at DESC LIMIT 50",
               tb, ph);
      s->median_ms = 2.0f + (float)rng_unit(r) * 12.0f;
      s = stmt_new(w);
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "INSERT");
      snprintf(s->text, sizeof s->text, "INSERT INTO %s (id, tenant_id, status, payload) VALUES (%s, %s, 'pending', %s)",
               tb, ph, ph, ph);
      s->median_ms = 1.0f + (float)rng_unit(r) * 3.0f;
      s = stmt_new(w);
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "UPDATE");
      snprintf(s->text, sizeof s->text, "UPDATE %s SET status = 'done', updated_at = now() WHERE id = %s", tb, ph);
      s->median_ms = 1.0f + (float)rng_unit(r) * 3.0f;
    } else if (strcmp(d->db_system, "mongodb") == 0) {
      s = stmt_new(w);
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "find");
      snprintf(s->text, sizeof s->text, "{\"find\":\"%s\",\"filter\":{\"product_id\":\"?\"},\"limit\":20}", tb);
      s->median_ms = 1.5f + (float)rng_unit(r) * 4.0f;
      s = stmt_new(w);
      s->svc = (uint16_t)si;
      snprintf(s->op, sizeof s->op, "insert");
      snprintf(s->text, sizeof s->text, "{\"insert\":\"%s\",\"documents\":[\"?\"],\"ordered\":true}", tb);
      s->median_ms = 1.0f + (float)rng_unit(r) * 2.0f;
    } else {                        /* elasticsearch */
      s = stmt_new(w);
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
  for (uint32_t i = 0; i < w->nstmts; i++) {
    struct dbstmt *s = &w->stmts[i];
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

static uint32_t pick_stmt(const struct world *w, struct rng *r, int si) {
  uint32_t idx[16];
  uint32_t n = 0;
  for (uint32_t i = 0; i < w->nstmts && n < 16; i++)
    if (w->stmts[i].svc == si) idx[n++] = i;
  return n ? idx[rng_below(r, n)] : UINT32_MAX;
}

static void add_step(struct op *o, uint8_t type, float prob, uint32_t target, uint8_t repeat_max, uint8_t parallel) {
  if (o->nsteps >= STEPS_MAX || target == UINT32_MAX) return;
  o->steps[o->nsteps++] = (struct step){ type, parallel, repeat_max, prob, target };
}

static uint32_t random_op_of(const struct world *w, struct rng *r, uint32_t si) {
  const struct service *s = &w->svc[si];
  for (int tries = 0; tries < 8; tries++) {
    uint32_t o = s->op_first + rng_below(r, s->op_count);
    if (!w->ops[o].health && w->ops[o].kind == K_SERVER) return o;
  }
  return s->op_first;
}

/* Steps for one op: downstream calls, database, cache, messages, internal work. */
static void plan_steps(struct world *w, struct rng *r, struct op *o, bool write) {
  const struct service *s = &w->svc[o->svc];
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
      add_step(o, S_DB, p, pick_stmt(w, r, o->svc), loop ? 6 : 1, 0);
    }
  }
  if (s->ndeps > 0) {
    int calls = d->tier == 0 ? 1 + (int)rng_below(r, 3) : (int)rng_below(r, d->tier == 1 ? 3 : 2);
    for (int i = 0; i < calls; i++) {
      uint32_t dep = s->deps[rng_below(r, (uint32_t)s->ndeps)];
      bool fan = rng_chance(r, 0.15);
      float p = d->tier == 0 ? (float)(0.6 + 0.4 * rng_unit(r)) : (float)(0.25 + 0.5 * rng_unit(r));
      add_step(o, S_CALL, p, random_op_of(w, r, dep), fan ? 3 : 1, fan);
    }
  }
  if (write && w->producer_topic[o->svc] >= 0) add_step(o, S_PRODUCE, 0.9f, (uint32_t)w->producer_topic[o->svc], 1, 0);
  if (rng_chance(r, 0.25)) add_step(o, S_INTERNAL, 0.5f, s->internal_first + rng_below(r, s->internal_count), 1, 0);
}

static void build_world(struct world *w, uint64_t seed) {
  struct rng r;
  rng_seed(&r, seed, 1);
  memset(w, 0, sizeof *w);
  for (int t = 0; t < TOPIC_COUNT; t++) w->nconsumers[t] = 0;

  for (int si = 0; si < SVC_COUNT; si++) {
    struct service *s = &w->svc[si];
    s->d = &tracegen_services[si];
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
    w->producer_topic[si] = -1;
    for (int t = 0; t < TOPIC_COUNT; t++) {
      if (s->d->produces && strcmp(s->d->produces, topics[t]) == 0) w->producer_topic[si] = t;
      if (s->d->consumes && strcmp(s->d->consumes, topics[t]) == 0) w->consumers[t][w->nconsumers[t]++] = (uint32_t)si;
    }
    add_statements(w, &r, si);
  }
  for (uint32_t si = 0; si < (uint32_t)SVC_COUNT; si++) {  /* dependencies point to deeper tiers */
    struct service *s = &w->svc[si];
    if (s->d->tier == 3) continue;
    int want = 2 + (int)rng_below(&r, 4);
    for (int tries = 0; tries < 200 && s->ndeps < want; tries++) {
      uint32_t t = rng_below(&r, (uint32_t)SVC_COUNT);
      int dt = w->svc[t].d->tier - s->d->tier;
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
    struct service *s = &w->svc[si];
    char nouns[4][32];
    int nn = split_words(s->d->nouns, nouns, 4);
    s->op_first = w->nops;
    for (int ni = 0; ni < nn; ni++) {
      char cam[32];
      camel(cam, sizeof cam, nouns[ni]);
      for (int v = 0; v < 6; v++) {
        if (v >= 2 && !rng_chance(&r, 0.75)) continue;
        struct op *o = op_new(w);
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
        struct op *o = op_new(w);
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
    struct op *h = op_new(w);          /* health checks: one-span traces */
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
      struct op *o = op_new(w);
      o->svc = (uint16_t)si;
      o->kind = K_CONSUMER;
      for (int t = 0; t < TOPIC_COUNT; t++)
        if (strcmp(s->d->consumes, topics[t]) == 0) o->topic = (uint16_t)t;
      snprintf(o->name, sizeof o->name, "%s process", s->d->consumes);
      o->self_ms = (float)rng_lognormal(&r, 1.5, 0.6);
      o->sigma = 0.7f;
      o->err_prob = 0.004f;
      s->consumer_op = (int32_t)(w->nops - 1);
    }
    s->op_count = w->nops - s->op_first - (s->consumer_op >= 0 ? 1u : 0u);
  }
  for (uint32_t oi = 0; oi < w->nops; oi++) {
    struct op *o = &w->ops[oi];
    if (o->health) continue;
    bool write = o->method[0] ? strcmp(o->method, "GET") != 0
                              : strncmp(o->route, "Get", 3) != 0 && strncmp(o->route, "List", 4) != 0 &&
                                    strncmp(o->route, "BatchGet", 8) != 0;
    plan_steps(w, &r, o, write || o->kind == K_CONSUMER);
  }
  /* Entry points: edge ops by popularity; w->nentry stays small. */
  double sum = 0;
  for (uint32_t oi = 0; oi < w->nops && w->nentry < 512; oi++) {
    const struct op *o = &w->ops[oi];
    if (w->svc[o->svc].d->tier != 0 || o->kind != K_SERVER) continue;
    sum += o->health ? 0.25 : o->weight;
    w->entry_ops[w->nentry] = oi;
    w->entry_cdf[w->nentry++] = sum;
  }
  for (uint32_t i = 0; i < w->nentry; i++) w->entry_cdf[i] /= sum;

  double ts = 0;
  for (int t = 0; t < TENANT_COUNT; t++) w->tenant_cdf[t] = (ts += tracegen_tenants[t].share);
  for (int t = 0; t < TENANT_COUNT; t++) w->tenant_cdf[t] /= ts;
  /* Traffic over time: a diurnal curve, quieter weekends, slow growth. */
  w->hour_cdf[0] = 0;
  for (int h = 0; h < HOURS; h++) {
    int day = h / 24, hod = h % 24;
    int dow = (day + 2) % 7;        /* 2025-01-01 was a Wednesday; 0 = Monday */
    double weight = 1.0 + 0.65 * sin(6.283185307179586 * (hod - 9) / 24.0);
    weight *= dow >= 5 ? 0.7 : 1.0;
    weight *= 1.0 + 0.25 * day / (double)DAYS;
    w->hour_cdf[h + 1] = w->hour_cdf[h] + weight;
  }
  for (int h = 1; h <= HOURS; h++) w->hour_cdf[h] /= w->hour_cdf[HOURS];
  zipf_init(&w->users, 200000, 1.05);
  zipf_init(&w->products, 50000, 0.9);
}

/* ---- traces: a tree of calls drawn from the world -------------------------- */

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

static int gen_server(const struct world *w, struct trace *t, int parent, uint32_t opi, int depth);

static int gen_step(const struct world *w, struct trace *t, int parent, const struct step *st, int depth) {
  struct rng *r = t->r;
  uint32_t svc = t->n[parent].svc;
  int i;
  switch (st->type) {
  case S_CALL: {
    const struct op *target = &w->ops[st->target];
    bool grpc = w->svc[target->svc].d->grpc;
    i = node_add(t, parent, svc, K_CLIENT, grpc ? I_GRPC : I_HTTP_CLIENT, S_CALL);
    if (i < 0) return -1;
    t->n[i].op = st->target;
    uint64_t net1 = lat_ns(r, 0.25, 0.6), net2 = lat_ns(r, 0.2, 0.6);
    int child = depth < 7 ? gen_server(w, t, i, st->target, depth + 1) : -1;
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
    t->n[i].dur_ns = lat_ns(r, w->stmts[st->target].median_ms, 0.8);
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
    for (int c = 0; c < w->nconsumers[topic] && depth < 7; c++) {
      if (!rng_chance(r, 0.8)) continue;
      const struct service *cs = &w->svc[w->consumers[topic][c]];
      int child = gen_server(w, t, i, (uint32_t)cs->consumer_op, depth + 1);
      if (child < 0) break;
      /* Delivered after the send: queue lag, not bounded by the producer. */
      t->n[child].rel_ns = t->n[i].dur_ns / 2 + lat_ns(t->r, 25.0, 1.3);
    }
    return i;
  }
  }
  return -1;
}

static int gen_server(const struct world *w, struct trace *t, int parent, uint32_t opi, int depth) {
  const struct op *o = &w->ops[opi];
  struct rng *r = t->r;
  bool grpc = w->svc[o->svc].d->grpc;
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
      int c = gen_step(w, t, i, st, depth);
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

/* ---- one span as emitted: attributes, status, events, links -------------- */

static const char *sfmt(struct span *sp, uint32_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const char *sfmt(struct span *sp, uint32_t *len, const char *fmt, ...) {
  char *d = sp->scratch + sp->used;
  size_t cap = SCRATCH_BYTES - sp->used;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(d, cap, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= cap) fatal("span scratch overflow");
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
  if (sp->na >= SPAN_ATTRS_CAP || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .s = v, .slen = (uint32_t)strlen(v), .type = A_STR };
}
static void a_strn(struct span *sp, const char *k, const char *v, uint32_t n) {
  if (sp->na >= SPAN_ATTRS_CAP || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .s = v, .slen = n, .type = A_STR };
}
static void a_int(struct span *sp, const char *k, int64_t v) {
  if (sp->na >= SPAN_ATTRS_CAP || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .type = A_INT, .i = v };
}
static void a_bool(struct span *sp, const char *k, bool v) {
  if (sp->na >= SPAN_ATTRS_CAP || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .type = A_BOOL, .i = v };
}
static void a_dbl(struct span *sp, const char *k, int64_t hundredths) {
  if (sp->na >= SPAN_ATTRS_CAP || has_key(sp->a, sp->na, k)) return;
  sp->a[sp->na++] = (struct attr){ .k = k, .type = A_DBL, .i = hundredths };
}

static struct attr mk_str(const char *k, const char *v) {
  return (struct attr){ .k = k, .s = v, .slen = (uint32_t)strlen(v), .type = A_STR };
}
static struct attr mk_int(const char *k, int64_t v) { return (struct attr){ .k = k, .type = A_INT, .i = v }; }

/* A value as the exporter stringifies it (pdata AsString). Doubles are kept
 * to two decimals so every writer agrees on the shortest form. */
const char *tracegen_attr_text(const struct attr *a, char *tmp, uint32_t *len) {
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
  const struct lang_def *L = &tracegen_langs[tracegen_services[n->svc].lang];
  struct event *e = &sp->ev[sp->nev++];
  e->ts_ns = at_ns;
  e->name = "exception";
  const char *type = n->itype == I_DB ? L->exc_db : n->itype == I_GRPC ? L->exc_rpc : L->exc_http;
  static const char *const server_msgs[] = { "Read timed out", "Connection refused", "upstream request failed",
                                             "Connection reset by peer" };
  const char *msg = sp->status_msg && *sp->status_msg ? sp->status_msg : server_msgs[rng_below(r, 4)];
  char noun[4][32], fn[40];
  split_words(tracegen_services[n->svc].nouns, noun, 4);
  camel(fn, sizeof fn, noun[0]);
  uint32_t line = 40 + rng_below(r, 400);
  const char *st;
  switch (tracegen_services[n->svc].lang) {
  case JAVA:
    st = sfmt(sp, NULL,
              "%s: %s\n\tat com.acme.%s.%sClient.call(%sClient.java:%u)\n\tat com.acme.%s.%sController.handle("
              "%sController.java:%u)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)",
              type, msg, tracegen_services[n->svc].ns, fn, fn, line, tracegen_services[n->svc].ns, fn, fn, line + 17);
    break;
  case PYTHON:
    st = sfmt(sp, NULL,
              "Traceback (most recent call last):\n  File \"/app/%s/handlers.py\", line %u, in handle\n    return "
              "client.call(request)\n%s: %s",
              tracegen_services[n->svc].ns, line, type, msg);
    break;
  case GO:
    st = sfmt(sp, NULL, "goroutine %u [running]:\nmain.(*%sHandler).ServeHTTP(...)\n\t/src/%s/handler.go:%u +0x1a4",
              1 + rng_below(r, 9000), fn, tracegen_services[n->svc].name, line);
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

/* Fills sp with span i of trace t: name, attributes, status, events, links. */
static void span_fill(struct tracegen *g, struct span *sp, struct trace *t, int i, struct rng *r) {
  const struct world *w = &g->w;
  const struct node *n = &t->n[i];
  const struct service *svc = &w->svc[n->svc];
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
  sp->trace_state = tracegen_tenants[t->tenant].trace_state;
  sp->kind = n->kind;
  sp->start_ns = n->start_ns;
  sp->end_ns = n->start_ns + n->dur_ns;
  sp->status = n->err ? 2 : (d->lang == RUST || d->lang == DOTNET) && n->kind == K_SERVER ? 1 : 0;
  sp->status_msg = "";
  uint32_t len;
  const struct op *o = &w->ops[n->op];
  const struct svc_def *td = &tracegen_services[o->svc];
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
      if (d->tier == 0) a_str(sp, "server.address", sfmt(sp, NULL, "shop.%s.example.com", tracegen_tenants[t->tenant].id));
      else a_str(sp, "server.address", sfmt(sp, NULL, "%s.%s.svc.cluster.local", d->name, d->ns));
      a_int(sp, "server.port", d->tier == 0 ? 443 : 8080);
      a_str(sp, "network.protocol.version", d->tier == 0 && rng_chance(r, 0.6) ? "2" : "1.1");
      ip_text(sp, "client.address", (uint32_t)rng_next(r));
      if (o->health) a_str(sp, "user_agent.original", "kube-probe/1.30");
      else if (d->tier == 0) a_str(sp, "user_agent.original", user_agents[(t->user + t->session[0]) % 7]);
      else if (n->parent >= 0)
        a_str(sp, "user_agent.original", tracegen_langs[tracegen_services[t->n[n->parent].svc].lang].user_agent);
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
      if (g->recent_count > 0 && rng_chance(r, 0.2)) {  /* batched with messages of other traces */
        int nl = 1 + (int)rng_below(r, 2);
        for (int k = 0; k < nl && sp->nlk < LINKS_MAX; k++) {
          const struct recent *rc = &g->recent[rng_below(r, g->recent_count < RECENT_SPANS ? g->recent_count : RECENT_SPANS)];
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
    const struct dbstmt *s = &w->stmts[n->ref];
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
  if (g->span_attrs > 0) want = g->span_attrs;  /* drawn anyway: the stream stays the same */
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
    case 1: a_str(sp, key, tracegen_tenants[t->tenant].plan); break;
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
    case 16: a_str(sp, key, tracegen_tenants[t->tenant].region); break;
    case 17: a_int(sp, key, (t->user % 64)); break;
    case 18: a_str(sp, key, sfmt(sp, NULL, "c-%u-%u", t->tenant, t->user)); break;
    default: a_str(sp, key, t->user ? "oidc" : "anonymous"); break;
    }
  }
  /* A forced count past the pool: numbered keys with short values. */
  for (int k = 0; sp->na < want && sp->na < SPAN_ATTRS_CAP; k++) {
    const char *key = sfmt(sp, NULL, "app.extra.%d", k);
    a_str(sp, key, sfmt(sp, NULL, "v%u", rng_below(r, 1000)));
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

/* Position u in [0,1) of the stream → seconds since T0, following the traffic curve. */
static double stream_seconds(const struct world *w, double u) {
  int lo = 0, hi = HOURS - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (w->hour_cdf[mid + 1] <= u) lo = mid + 1;
    else hi = mid;
  }
  double width = w->hour_cdf[lo + 1] - w->hour_cdf[lo];
  double f = width > 0 ? (u - w->hour_cdf[lo]) / width : 0;
  return (lo + f) * 3600.0;
}

/* ---- resources ------------------------------------------------------------- */

static const char *rtext(struct tracegen_resource *res, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *rtext(struct tracegen_resource *res, size_t *used, const char *fmt, ...) {
  char *d = res->text + *used;
  size_t cap = sizeof res->text - *used;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(d, cap, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= cap) fatal("resource text overflow");
  *used += (size_t)n + 1;
  return d;
}

/* With a forced service count, pod inst of service si runs service v =
 * (si + SVC_COUNT * inst) % services: below SVC_COUNT names fold onto the
 * first ones, above it second pods become "<name>-2" services. */
static const char *service_name(struct tracegen_resource *res, size_t *used, int services, int si, int inst) {
  int v = (si + SVC_COUNT * inst) % services;
  if (v < SVC_COUNT) return tracegen_services[v].name;
  return rtext(res, used, "%s-%d", tracegen_services[v % SVC_COUNT].name, v / SVC_COUNT + 1);
}

/* Built on first use and kept: a pod's attributes never change. */
const struct tracegen_resource *tracegen_resource(struct tracegen *g, int tenant, int si, int inst) {
  struct tracegen_resource *res = &g->resources[tenant][si][inst];
  if (res->ready) return res;
  const struct service *s = &g->w.svc[si];
  const struct svc_def *d = s->d;
  const struct lang_def *L = &tracegen_langs[d->lang];
  const struct tenant *tn = &tracegen_tenants[tenant];
  size_t used = 0;
  uint32_t h = (uint32_t)(tenant * 7919 + si * 131 + inst * 17);
  int na = 0;
  const char *pod = NULL;
  const char *name = d->name;
  if (g->services > 0) name = service_name(res, &used, g->services, si, inst);
  res->a[na++] = mk_str("service.name", name);
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
  res->a[na++] = mk_str("k8s.deployment.name", name);
  res->a[na++] = mk_str("k8s.node.name", rtext(res, &used, "ip-10-0-%u-%u.internal", (h >> 3) % 8, 10 + h % 200));
  res->a[na++] = mk_str("cloud.provider", tn->cloud);
  res->a[na++] = mk_str("cloud.region", tn->region);
  res->na = na;
  res->ready = true;
  return res;
}

/* ---- the generator ---------------------------------------------------------- */

struct tracegen *tracegen_create(const struct tracegen_options *opts) {
  struct tracegen *g = calloc(1, sizeof *g);
  if (!g) fatal("out of memory");
  g->span_attrs = opts->span_attrs;
  g->services = opts->services;
  build_world(&g->w, opts->seed);
  rng_seed(&g->r, opts->seed, 2);
  return g;
}

void tracegen_destroy(struct tracegen *g) {
  if (!g) return;
  free(g->w.ops);
  free(g->w.stmts);
  free(g->w.users.cdf);
  free(g->w.products.cdf);
  free(g);
}

uint32_t tracegen_op_count(const struct tracegen *g) { return g->w.nops; }

const struct trace *tracegen_trace_begin(struct tracegen *g, uint64_t emitted, uint64_t total, int budget) {
  const struct world *w = &g->w;
  struct trace *t = &g->t;
  struct rng *r = &g->r;
  memset(t, 0, sizeof *t);
  t->r = r;
  t->budget = budget;
  double u = rng_unit(r);
  int tenant = 0;
  while (tenant < TENANT_COUNT - 1 && w->tenant_cdf[tenant] < u) tenant++;
  t->tenant = tenant;
  for (int s = 0; s < SVC_COUNT; s++) t->inst_of[s] = (uint16_t)rng_below(r, (uint32_t)w->svc[s].instances);
  rng_bytes(r, t->trace_id, 16);
  t->user = rng_chance(r, 0.8) ? 1 + zipf_sample(&w->users, r) : 0;
  rng_bytes(r, t->session, 8);
  rng_bytes(r, t->request, 8);
  t->product = 1 + zipf_sample(&w->products, r);
  uint32_t entry;
  if (rng_chance(r, 0.1)) {         /* jobs and service-to-service calls outside the edge */
    uint32_t si = 4 + rng_below(r, (uint32_t)SVC_COUNT - 4);
    entry = random_op_of(w, r, si);
  } else {
    double e = rng_unit(r);
    uint32_t k = 0;
    while (k < w->nentry - 1 && w->entry_cdf[k] < e) k++;
    entry = w->entry_ops[k];
  }
  if (w->ops[entry].health) t->user = 0;
  gen_server(w, t, -1, entry, 0);
  /* Where this trace sits in the two months. */
  const uint64_t span_end_limit = (T0_SEC + (uint64_t)DAYS * 86400 - 120) * NS;
  double secs = stream_seconds(w, (double)emitted / (double)total) + (rng_unit(r) - 0.5) * 40.0;
  if (secs < 0) secs = 0;
  uint64_t start = T0_SEC * NS + (uint64_t)(secs * (double)NS) + rng_below(r, 1000000000u);
  if (start > span_end_limit) start = span_end_limit - rng_below(r, 60) * NS;
  t->start_ns = start;
  for (int i = 0; i < t->count; i++) {
    struct node *n = &t->n[i];
    n->start_ns = n->parent < 0 ? start : t->n[n->parent].start_ns + n->rel_ns;
    do rng_bytes(r, n->span_id, 8);
    while (!(n->span_id[0] | n->span_id[1] | n->span_id[7]));
  }
  return t;
}

void tracegen_span_fill(struct tracegen *g, int i, struct span *sp) { span_fill(g, sp, &g->t, i, &g->r); }

void tracegen_trace_end(struct tracegen *g) {
  const struct trace *t = &g->t;
  struct recent *rc = &g->recent[g->recent_count++ % RECENT_SPANS];
  memcpy(rc->trace_id, t->trace_id, 16);
  memcpy(rc->span_id, t->n[0].span_id, 8);
  rc->tenant = t->tenant;
}
