/* loadgen_body: the pool of pre-encoded export requests. Generating and
 * encoding spans costs more than sending them, so it all happens before the
 * clock starts; while running, a request is a copy of a pool body with its
 * ids xor-salted and its timestamps moved to now, at offsets found once by
 * walking the protobuf here.
 *
 * Invariants:
 *  1. Every offset in a body points inside it at a field of the stated size.
 *  2. One salt xors every trace id with one mask and every span id with
 *     another, so parents, children and links of one request still match. */
#include "tools/loadgen.h"
#include "tools/tracegen.h"
#include "tools/tracegen_otlp.h"
#include "base/alloc.h"
#include "base/error.h"

#include <string.h>

/* The generator's traces start within seconds of T0; a request's spans are
 * moved to end around now (the last ones a little after: spans of one trace
 * run on for up to a few seconds). */
static const int64_t POOL_WINDOW_NS = 30LL * 1000000000;

/* ---- a minimal protobuf reader: enough to find fields, never to decode */

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

struct pb_field {
  uint32_t number, wire;
  uint64_t varint;                  /* WIRE_VARINT */
  const uint8_t *data;              /* WIRE_LEN, WIRE_I64, WIRE_I32 */
  size_t len;
};

static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    uint8_t c = *(*p)++;
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* The next field at *p, or false at the end or on malformed input. */
static bool pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f)
{
  uint64_t key;
  if (*p >= end || !pb_varint(p, end, &key))
    return false;
  f->number = (uint32_t)(key >> 3);
  f->wire = (uint32_t)(key & 7);
  switch (f->wire) {
  case WIRE_VARINT:
    return pb_varint(p, end, &f->varint);
  case WIRE_I64:
  case WIRE_I32:
    f->len = f->wire == WIRE_I64 ? 8 : 4;
    break;
  case WIRE_LEN: {
    uint64_t n;
    if (!pb_varint(p, end, &n))
      return false;
    f->len = (size_t)n;
    break;
  }
  default:
    return false;
  }
  if ((size_t)(end - *p) < f->len)
    return false;
  f->data = *p;
  *p += f->len;
  return true;
}

/* ---- id and time offsets */

struct offsets {
  uint32_t *at;
  uint32_t count, cap;
};

static void offsets_add(struct offsets *o, const uint8_t *base, const uint8_t *field)
{
  if (o->count == o->cap) {
    o->cap = o->cap ? 2 * o->cap : 1024;
    o->at = mem_realloc(o->at, o->cap * sizeof *o->at);
  }
  o->at[o->count++] = (uint32_t)(field - base);
}

struct body_scan {
  const uint8_t *base;
  struct offsets trace_ids, span_ids, times;
};

/* Span.links[13]: Link{1 trace_id, 2 span_id}. */
static bool scan_link(struct body_scan *s, const uint8_t *p, const uint8_t *end)
{
  struct pb_field f;
  while (pb_next(&p, end, &f)) {
    if (f.number == 1 && f.wire == WIRE_LEN && f.len == 16)
      offsets_add(&s->trace_ids, s->base, f.data);
    else if (f.number == 2 && f.wire == WIRE_LEN && f.len == 8)
      offsets_add(&s->span_ids, s->base, f.data);
  }
  return p == end;
}

/* Span.events[11]: Event{1 time_unix_nano fixed64}. */
static bool scan_event(struct body_scan *s, const uint8_t *p, const uint8_t *end)
{
  struct pb_field f;
  while (pb_next(&p, end, &f))
    if (f.number == 1 && f.wire == WIRE_I64)
      offsets_add(&s->times, s->base, f.data);
  return p == end;
}

/* Span{1 trace_id, 2 span_id, 4 parent_span_id, 7 start, 8 end, 11 events, 13 links}. */
static bool scan_span(struct body_scan *s, const uint8_t *p, const uint8_t *end)
{
  struct pb_field f;
  while (pb_next(&p, end, &f)) {
    if (f.number == 1 && f.wire == WIRE_LEN && f.len == 16)
      offsets_add(&s->trace_ids, s->base, f.data);
    else if ((f.number == 2 || f.number == 4) && f.wire == WIRE_LEN && f.len == 8)
      offsets_add(&s->span_ids, s->base, f.data);
    else if ((f.number == 7 || f.number == 8) && f.wire == WIRE_I64)
      offsets_add(&s->times, s->base, f.data);
    else if (f.number == 11 && f.wire == WIRE_LEN && !scan_event(s, f.data, f.data + f.len))
      return false;
    else if (f.number == 13 && f.wire == WIRE_LEN && !scan_link(s, f.data, f.data + f.len))
      return false;
  }
  return p == end;
}

/* The messages on the way down to spans: request.resource_spans[1],
 * ResourceSpans.scope_spans[2], ScopeSpans.spans[2]. */
static bool scan_nested(struct body_scan *s, const uint8_t *p, const uint8_t *end, int depth)
{
  static const uint32_t child_field[] = { 1, 2, 2 };
  struct pb_field f;
  while (pb_next(&p, end, &f)) {
    if (f.number != child_field[depth] || f.wire != WIRE_LEN)
      continue;
    bool ok = depth == 2 ? scan_span(s, f.data, f.data + f.len) : scan_nested(s, f.data, f.data + f.len, depth + 1);
    if (!ok)
      return false;
  }
  return p == end;
}

static int body_init(struct loadgen_body *b, const struct bytes *req, uint32_t spans, struct error *err)
{
  b->data = mem_alloc(req->len);
  memcpy(b->data, req->p, req->len);
  b->len = req->len;
  b->spans = spans;
  struct body_scan s = { .base = b->data };
  bool ok = scan_nested(&s, b->data, b->data + b->len, 0);
  b->trace_id_off = s.trace_ids.at;
  b->trace_ids = s.trace_ids.count;
  b->span_id_off = s.span_ids.at;
  b->span_ids = s.span_ids.count;
  b->time_off = s.times.at;
  b->times = s.times.count;
  if (!ok || b->trace_ids < spans)
    return error_set(err, ERR_LOGICAL_ERROR, "generated request of %zu bytes does not parse as OTLP protobuf",
                     b->len);
  return 0;
}

int loadgen_pool_build(struct loadgen_pool *pool, const struct loadgen_pool_config *cfg, struct error *err)
{
  int rc = 0;
  memset(pool, 0, sizeof *pool);
  pool->bodies = mem_calloc(cfg->bodies, sizeof *pool->bodies);
  struct tracegen *g = tracegen_create(&(struct tracegen_options){
    .seed = cfg->seed, .span_attrs = cfg->span_attrs, .services = (int)cfg->services });
  struct tracegen_otlp *batcher = tracegen_otlp_create(TRACEGEN_OTLP_PROTOBUF, cfg->batch_spans);
  struct span *sp = mem_alloc(sizeof *sp);
  struct bytes req = { 0 };
  while (pool->count < cfg->bodies) {
    /* Position 0 of the traffic curve: every trace starts near T0, so one
     * shift puts a whole request at "now". */
    const struct trace *t = tracegen_trace_begin(g, 0, 1, SPANS_PER_TRACE_MAX);
    for (int i = 0; i < t->count && pool->count < cfg->bodies; i++) {
      tracegen_span_fill(g, i, sp);
      if (!tracegen_otlp_add(batcher, sp))
        continue;
      uint32_t spans = tracegen_otlp_take(batcher, g, sp->tenant, &req);
      struct loadgen_body *b = &pool->bodies[pool->count++];
      if ((rc = body_init(b, &req, spans, err)) != 0)
        goto out_free;
      if (b->len > pool->len_max)
        pool->len_max = b->len;
    }
    tracegen_trace_end(g);
  }
out_free:
  bytes_free(&req);
  mem_free(sp);
  tracegen_otlp_destroy(batcher);
  tracegen_destroy(g);
  return rc;
}

void loadgen_pool_free(struct loadgen_pool *pool)
{
  for (uint32_t i = 0; i < pool->count; i++) {
    mem_free(pool->bodies[i].data);
    mem_free(pool->bodies[i].trace_id_off);
    mem_free(pool->bodies[i].span_id_off);
    mem_free(pool->bodies[i].time_off);
  }
  mem_free(pool->bodies);
  memset(pool, 0, sizeof *pool);
}

/* splitmix64: consecutive salts give unrelated masks. */
static uint64_t mask_of(uint64_t x)
{
  uint64_t z = x + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void xor64(uint8_t *p, uint64_t mask)
{
  uint64_t v;
  memcpy(&v, p, 8);
  v ^= mask;
  memcpy(p, &v, 8);
}

/* Fixed64 fields are little-endian on the wire; so is every host we build for. */
static void add64(uint8_t *p, uint64_t delta)
{
  uint64_t v;
  memcpy(&v, p, 8);
  v += delta;
  memcpy(p, &v, 8);
}

void loadgen_body_copy_salted(const struct loadgen_body *body, uint64_t salt, int64_t now_ns, uint8_t *dst)
{
  memcpy(dst, body->data, body->len);
  uint64_t trace_mask = mask_of(2 * salt), span_mask = mask_of(2 * salt + 1);
  /* The trace id's first half: the second half stays as generated. */
  for (uint32_t i = 0; i < body->trace_ids; i++)
    xor64(dst + body->trace_id_off[i], trace_mask);
  for (uint32_t i = 0; i < body->span_ids; i++)
    xor64(dst + body->span_id_off[i], span_mask);
  uint64_t shift = (uint64_t)(now_ns - POOL_WINDOW_NS) - T0_SEC * NS;
  for (uint32_t i = 0; i < body->times; i++)
    add64(dst + body->time_off[i], shift);
}

/* ExportTraceServiceResponse{1 partial_success: {1 rejected_spans int64}}. */
uint64_t loadgen_rejected_spans(const uint8_t *p, size_t len)
{
  const uint8_t *end = p + len;
  struct pb_field f, g;
  while (pb_next(&p, end, &f)) {
    if (f.number != 1 || f.wire != WIRE_LEN)
      continue;
    const uint8_t *q = f.data, *qend = f.data + f.len;
    while (pb_next(&q, qend, &g))
      if (g.number == 1 && g.wire == WIRE_VARINT)
        return g.varint;
  }
  return 0;
}
