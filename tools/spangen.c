/* spangen: a deterministic generator of realistic OpenTelemetry traces for the
 * side-by-side benchmark (bench/run.sh, docs/benchmarks.md). One seed gives one
 * service topology and one stream of spans, and every output format carries
 * exactly the same spans: spanhouse otel_traces TSV, the ClickHouse 18.16 TSV
 * variant, and OTLP export requests as JSON, protobuf or gRPC frames.
 * Standalone on purpose (libc and libm only): it must not move with the server.
 * The spans come from tools/tracegen.c and OTLP encoding from tracegen_otlp.c
 * (shared with `spanhouse loadgen`); this file writes TSV, the request files,
 * statistics and probes. */

#include "tools/tracegen.h"
#include "tools/tracegen_otlp.h"

#include <errno.h>
#include <fcntl.h>
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

#define OUT_FLUSH_BYTES     (1u << 20)

/* ---- output ------------------------------------------------------------------ */

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
  bytes_put(b, text, 19);
  if (frac) {
    char *p = bytes_room(b, 10);
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

/* ---- writers: TSV ---------------------------------------------------------- */

/* TabSeparated escaping of a top-level String field. */
static void tsv_str(struct bytes *b, const char *s, size_t n) {
  char *d = bytes_room(b, 2 * n);
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
  char *d = bytes_room(b, 2 * n + 2);
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
  bytes_putc(b, '{');
  for (int i = 0; i < n; i++) {
    if (i) bytes_putc(b, ',');
    tsv_quoted(b, a[i].k, strlen(a[i].k));
    bytes_putc(b, ':');
    uint32_t len;
    const char *v = tracegen_attr_text(&a[i], tmp, &len);
    tsv_quoted(b, v, len);
  }
  bytes_putc(b, '}');
}

static void tsv_keys(struct bytes *b, const struct attr *a, int n) {
  bytes_putc(b, '[');
  for (int i = 0; i < n; i++) {
    if (i) bytes_putc(b, ',');
    tsv_quoted(b, a[i].k, strlen(a[i].k));
  }
  bytes_putc(b, ']');
}

static void tsv_values(struct bytes *b, const struct attr *a, int n) {
  char tmp[32];
  bytes_putc(b, '[');
  for (int i = 0; i < n; i++) {
    if (i) bytes_putc(b, ',');
    uint32_t len;
    const char *v = tracegen_attr_text(&a[i], tmp, &len);
    tsv_quoted(b, v, len);
  }
  bytes_putc(b, ']');
}

/* ---- the run: output format, files and the TSV resource cache --------------- */

enum format { F_TSV, F_TSV_CH, F_OTLP_JSON, F_OTLP_PROTO, F_OTLP_GRPC, F_NONE };

/* Resource attributes of (tenant, service, pod) as TSV fields, built once. */
struct resource_tsv {
  struct bytes map;                 /* Map(String, String) */
  struct bytes kv;                  /* keys array, tab, values array (ClickHouse 18.16) */
  bool ready;
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
  struct tracegen *tg;
  struct tracegen_otlp *otlp;       /* OTLP formats */
  struct bytes req;                 /* one OTLP request */
  struct resource_tsv (*res_tsv)[SVC_COUNT][INSTANCES_MAX];  /* [TENANT_COUNT] */
  uint64_t bytes_out;
};

static const struct resource_tsv *resource_tsv_get(struct gen *g, int tenant, int si, int inst) {
  struct resource_tsv *rt = &g->res_tsv[tenant][si][inst];
  if (rt->ready) return rt;
  const struct tracegen_resource *res = tracegen_resource(g->tg, tenant, si, inst);
  tsv_map(&rt->map, res->a, res->na);
  tsv_keys(&rt->kv, res->a, res->na);
  bytes_putc(&rt->kv, '\t');
  tsv_values(&rt->kv, res->a, res->na);
  rt->ready = true;
  return rt;
}

/* ---- writers: TSV rows -------------------------------------------------------- */

static void tsv_row(struct gen *g, struct bytes *b, const struct span *sp) {
  const struct resource_tsv *res = resource_tsv_get(g, sp->tenant, sp->svc, sp->inst);
  const struct lang_def *L = &tracegen_langs[tracegen_services[sp->svc].lang];
  bytes_puts(b, tracegen_tenants[sp->tenant].id);
  bytes_putc(b, '\t');
  put_time(b, sp->start_ns, true);
  bytes_putc(b, '\t');
  bytes_put_hex(b, sp->trace_id, 16);
  bytes_putc(b, '\t');
  bytes_put_hex(b, sp->span_id, 8);
  bytes_putc(b, '\t');
  if (sp->parent_id) bytes_put_hex(b, sp->parent_id, 8);
  bytes_putc(b, '\t');
  tsv_str(b, sp->trace_state, strlen(sp->trace_state));
  bytes_putc(b, '\t');
  tsv_str(b, sp->name, sp->name_len);
  bytes_putc(b, '\t');
  bytes_puts(b, tracegen_kind_names[sp->kind]);
  bytes_putc(b, '\t');
  bytes_puts(b, tracegen_services[sp->svc].name);
  bytes_putc(b, '\t');
  bytes_put(b, res->map.p, res->map.len);
  bytes_putc(b, '\t');
  bytes_puts(b, L->scope[sp->scope_itype]);
  bytes_putc(b, '\t');
  bytes_puts(b, L->scope_version[sp->scope_itype]);
  bytes_putc(b, '\t');
  tsv_map(b, sp->a, sp->na);
  bytes_putc(b, '\t');
  bytes_put_u64(b, sp->end_ns - sp->start_ns);
  bytes_putc(b, '\t');
  bytes_puts(b, tracegen_status_names[sp->status]);
  bytes_putc(b, '\t');
  tsv_str(b, sp->status_msg, strlen(sp->status_msg));
  bytes_puts(b, "\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) bytes_putc(b, ',');
    bytes_putc(b, '\'');
    put_time(b, sp->ev[i].ts_ns, true);
    bytes_putc(b, '\'');
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) bytes_putc(b, ',');
    tsv_quoted(b, sp->ev[i].name, strlen(sp->ev[i].name));
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) bytes_putc(b, ',');
    tsv_map(b, sp->ev[i].a, sp->ev[i].na);
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) bytes_putc(b, ',');
    bytes_putc(b, '\'');
    bytes_put_hex(b, sp->lk[i].trace_id, 16);
    bytes_putc(b, '\'');
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) bytes_putc(b, ',');
    bytes_putc(b, '\'');
    bytes_put_hex(b, sp->lk[i].span_id, 8);
    bytes_putc(b, '\'');
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) bytes_putc(b, ',');
    tsv_quoted(b, sp->lk[i].trace_state, strlen(sp->lk[i].trace_state));
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) bytes_putc(b, ',');
    tsv_map(b, sp->lk[i].a, sp->lk[i].na);
  }
  bytes_puts(b, "]\n");
}

/* The ClickHouse 18.16 variant: no Map and no DateTime64, so maps become
 * parallel key/value arrays and times become DateTime plus UInt64 nanoseconds. */
static void tsv_ch_row(struct gen *g, struct bytes *b, const struct span *sp) {
  const struct resource_tsv *res = resource_tsv_get(g, sp->tenant, sp->svc, sp->inst);
  const struct lang_def *L = &tracegen_langs[tracegen_services[sp->svc].lang];
  bytes_puts(b, tracegen_tenants[sp->tenant].id);
  bytes_putc(b, '\t');
  put_time(b, sp->start_ns, false);
  bytes_putc(b, '\t');
  bytes_put_u64(b, sp->start_ns);
  bytes_putc(b, '\t');
  bytes_put_hex(b, sp->trace_id, 16);
  bytes_putc(b, '\t');
  bytes_put_hex(b, sp->span_id, 8);
  bytes_putc(b, '\t');
  if (sp->parent_id) bytes_put_hex(b, sp->parent_id, 8);
  bytes_putc(b, '\t');
  tsv_str(b, sp->trace_state, strlen(sp->trace_state));
  bytes_putc(b, '\t');
  tsv_str(b, sp->name, sp->name_len);
  bytes_putc(b, '\t');
  bytes_puts(b, tracegen_kind_names[sp->kind]);
  bytes_putc(b, '\t');
  bytes_puts(b, tracegen_services[sp->svc].name);
  bytes_putc(b, '\t');
  bytes_put(b, res->kv.p, res->kv.len);
  bytes_putc(b, '\t');
  bytes_puts(b, L->scope[sp->scope_itype]);
  bytes_putc(b, '\t');
  bytes_puts(b, L->scope_version[sp->scope_itype]);
  bytes_putc(b, '\t');
  tsv_keys(b, sp->a, sp->na);
  bytes_putc(b, '\t');
  tsv_values(b, sp->a, sp->na);
  bytes_putc(b, '\t');
  bytes_put_u64(b, sp->end_ns - sp->start_ns);
  bytes_putc(b, '\t');
  bytes_puts(b, tracegen_status_names[sp->status]);
  bytes_putc(b, '\t');
  tsv_str(b, sp->status_msg, strlen(sp->status_msg));
  bytes_puts(b, "\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) bytes_putc(b, ',');
    bytes_put_u64(b, sp->ev[i].ts_ns);
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) bytes_putc(b, ',');
    tsv_quoted(b, sp->ev[i].name, strlen(sp->ev[i].name));
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) bytes_putc(b, ',');
    tsv_keys(b, sp->ev[i].a, sp->ev[i].na);
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nev; i++) {
    if (i) bytes_putc(b, ',');
    tsv_values(b, sp->ev[i].a, sp->ev[i].na);
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) bytes_putc(b, ',');
    bytes_putc(b, '\'');
    bytes_put_hex(b, sp->lk[i].trace_id, 16);
    bytes_putc(b, '\'');
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) bytes_putc(b, ',');
    bytes_putc(b, '\'');
    bytes_put_hex(b, sp->lk[i].span_id, 8);
    bytes_putc(b, '\'');
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) bytes_putc(b, ',');
    tsv_quoted(b, sp->lk[i].trace_state, strlen(sp->lk[i].trace_state));
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) bytes_putc(b, ',');
    tsv_keys(b, sp->lk[i].a, sp->lk[i].na);
  }
  bytes_puts(b, "]\t[");
  for (int i = 0; i < sp->nlk; i++) {
    if (i) bytes_putc(b, ',');
    tsv_values(b, sp->lk[i].a, sp->lk[i].na);
  }
  bytes_puts(b, "]\n");
}

static void index_line(struct gen *g, const char *file, const char *tenant, uint32_t spans, size_t bytes) {
  fprintf(g->index, "%s\t%s\t%u\t%zu\n", file, tenant, spans, bytes);
  g->bytes_out += bytes;
}

/* One OTLP request file per tenant batch; gRPC files carry the 5-byte
 * message prefix (uncompressed flag, big-endian length) before the body. */
static void batch_flush(struct gen *g, int tenant) {
  uint32_t spans = tracegen_otlp_take(g->otlp, g->tg, tenant, &g->req);
  if (!spans) return;
  char name[64];
  const char *ext = g->fmt == F_OTLP_JSON ? "json" : g->fmt == F_OTLP_PROTO ? "pb" : "grpc";
  snprintf(name, sizeof name, "%06u.%s", ++g->files, ext);
  struct bytes parts[2] = { { 0 }, g->req };
  size_t len = g->req.len;
  if (g->fmt == F_OTLP_GRPC) {
    char *h = bytes_room(&parts[0], 5);
    h[0] = 0;
    h[1] = (char)(len >> 24);
    h[2] = (char)(len >> 16);
    h[3] = (char)(len >> 8);
    h[4] = (char)len;
    parts[0].len = 5;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", g->out_dir, name);
  write_file(path, parts, 2);
  index_line(g, name, tracegen_tenants[tenant].id, spans, parts[0].len + len);
  bytes_free(&parts[0]);
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
      if (g->fmt == F_TSV) tsv_row(g, &g->chunk, sp);
      else tsv_ch_row(g, &g->chunk, sp);
      if (++g->chunk_rows >= g->batch_spans) chunk_flush(g);
    } else {
      if (g->fmt == F_TSV) tsv_row(g, &g->out.b, sp);
      else tsv_ch_row(g, &g->out.b, sp);
      sink_maybe_flush(&g->out);
    }
    break;
  case F_OTLP_JSON:
  case F_OTLP_PROTO:
  case F_OTLP_GRPC:
    if (tracegen_otlp_add(g->otlp, sp)) batch_flush(g, sp->tenant);
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
  fprintf(f, "PROBE_TENANT=%s\n", tracegen_tenants[p->tenant].id);
  fprintf(f, "PROBE_TRACE_ID=");
  for (int i = 0; i < 16; i++) fprintf(f, "%02x", p->trace_id[i]);
  fprintf(f, "\nPROBE_TRACE_SPANS=%d\n", p->size);
  fprintf(f, "PROBE_SERVICE=%s\n", tracegen_services[p->root_svc].name);
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
          tracegen_op_count(g->tg), TENANT_COUNT);
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
  for (int k = 1; k < 6; k++) fprintf(f, "%s\"%s\":%llu", k > 1 ? "," : "", tracegen_kind_names[k], (unsigned long long)s->kind[k]);
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
  if (otlp) g.otlp = tracegen_otlp_create(g.fmt == F_OTLP_JSON ? TRACEGEN_OTLP_JSON : TRACEGEN_OTLP_PROTOBUF,
                                          g.batch_spans);
  g.res_tsv = calloc(TENANT_COUNT, sizeof *g.res_tsv);
  if (!g.res_tsv) die("out of memory");

  g.tg = tracegen_create(&(struct tracegen_options){ .seed = g.seed });
  static struct span sp;
  struct stats st = { .min_ns = UINT64_MAX };
  if (stats_path) {
    st.dur = malloc(sizeof(uint64_t) * STATS_SAMPLES);
    st.root_dur = malloc(sizeof(uint64_t) * STATS_SAMPLES);
    if (!st.dur || !st.root_dur) die("out of memory");
  }
  struct probe probe = { 0 }, best = { 0 };
  uint64_t emitted = 0;

  while (emitted < g.spans_total) {
    uint64_t left = g.spans_total - emitted;
    int budget = left < SPANS_PER_TRACE_MAX ? (int)left : SPANS_PER_TRACE_MAX;
    const struct trace *t = tracegen_trace_begin(g.tg, emitted, g.spans_total, budget);
    st.traces++;
    st.size_hist[t->count]++;
    if (st.root_dur && st.nroot < STATS_SAMPLES) st.root_dur[st.nroot++] = t->n[0].dur_ns;
    st.root_errors += t->n[0].err;
    /* The probe trace: the first big trace of the largest tenant past the middle
     * of the stream, else the biggest one seen there. */
    if (!probe.set && t->tenant == 0 && t->user && emitted >= g.spans_total / 2 &&
        (t->count >= 20 || t->count > best.size)) {
      best = (struct probe){ .set = t->count >= 20, .tenant = 0, .size = t->count, .start_ns = t->start_ns,
                             .user = t->user, .root_svc = t->n[0].svc };
      memcpy(best.trace_id, t->trace_id, 16);
      if (best.set) probe = best;
    }
    for (int i = 0; i < t->count; i++) {
      tracegen_span_fill(g.tg, i, &sp);
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
    emitted += (uint64_t)t->count;
    tracegen_trace_end(g.tg);
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
