/* OTLP export requests → blocks of the otel tables (OTEL_SCHEMA.md §7).
 *
 * Protobuf bodies are decoded straight from the wire into columns, with no
 * message tree in between: protobuf-c's generic unpack alone costs more
 * than the whole per-span budget. OTLP/JSON is read into protobuf-c
 * messages (otlp_json.c), packed, and then takes the same path.
 *
 * Invariants:
 *  1. An item (span, log record, data point) is read and checked completely
 *     before its first column is written, so every column of a block has
 *     the block's rows. Malformed bytes anywhere fail the whole request.
 *  2. Values repeated on every row of a resource or scope are appended once
 *     and then copied from that first row in the same column (LowCardinality
 *     keys are reused, nothing is stringified twice).
 *  3. Other LowCardinality values read from the body go through a
 *     per-column cache (bytes → their dictionary key) before the column's
 *     own dictionary; a Map key is first compared with the key that
 *     followed the previous one last time (struct lc_next).
 *  4. Nothing in a block points into the body or the scratch arena.
 *  5. A singular field sent more than once: the last one wins, embedded
 *     messages included (protobuf would merge those; OTLP encoders never
 *     repeat them). A known field with the wrong wire type is malformed. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "base/alloc.h"
#include "base/limits.h"
#include "ingest/ingest_int.h"

enum { REASON_MAX = 200, LC_CACHES_MAX = 24 };

/* ---- growable arrays (heap, reused for every item of a request) ---- */

struct vec {
  char *data;
  size_t count;
  size_t cap;                       /* elements */
  size_t elem;                      /* bytes per element */
};

/* A new last element, not zeroed: the caller sets every field it reads. */
static void *vec_push_raw(struct vec *v)
{
  if (v->count == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 16;
    v->data = mem_realloc(v->data, v->cap * v->elem);
  }
  return v->data + v->count++ * v->elem;
}

static void *vec_push(struct vec *v)
{
  void *p = vec_push_raw(v);
  memset(p, 0, v->elem);
  return p;
}

#define VEC_AT(v, type, i) (((type *)(v)->data)[i])

/* ---- LowCardinality lookup cache (invariant 3) ---- */

struct lc_slot {
  uint64_t hash;                    /* 0 = empty */
  const char *ptr;                  /* into the body, or static */
  size_t len;
  uint32_t key;                     /* the column's dictionary key for these bytes */
};

/* The Map key that last followed a given key in a row (or began one).
 * Items of one kind list the same attribute keys in the same order, so the
 * guess is usually right and costs one memcmp instead of a hash lookup. */
struct lc_next {
  const char *ptr;                  /* into the body; NULL = no guess yet */
  size_t len;
  uint32_t key;
};

struct lc_cache {
  const struct column *col;
  struct lc_slot *slots;
  uint32_t mask, used;
  struct lc_next *next;             /* [0]: a row's first key; [k + 1]: the key after key k */
  uint32_t next_count;              /* entries in next (0 until put_attrs uses it) */
  struct lc_next last;              /* the bytes put_lc saw last, matched by address only */
};

struct event_rec {
  uint64_t time_ns;
  struct slice name;
  size_t kv_first, kv_count;        /* in sub_kvs */
};

struct link_rec {
  struct slice trace_id, span_id, trace_state;
  size_t kv_first, kv_count;
};

struct exemplar_rec {
  uint64_t time_ns;
  double value;
  struct slice trace_id, span_id;
  size_t kv_first, kv_count;
};

struct decoder {
  struct arena *out;
  struct arena *scratch;
  struct slice tenant;
  struct otlp_batch *batch;
  struct error *err;
  int rc;                           /* first request-level error */
  const char *body;                 /* for byte offsets in errors */
  size_t out_start;                 /* out->used_bytes before we began */
  const char *item_kind;            /* "span", "log record", "data point" */
  uint64_t item;                    /* index of the current item in the request */
  char first_reason[REASON_MAX + 64];
  struct buf text;                  /* scratch for stringified values */
  struct buf service;               /* the current resource's service.name */
  struct vec kvs;                   /* the current item's attributes (kv_rec) */
  struct vec sub_kvs;               /* its events', links' and exemplars' attributes */
  struct vec res_kvs, scope_kvs;    /* the current resource's and scope's attributes */
  struct vec events, links, exemplars;
  struct vec u64a, u64b, f64a;      /* bucket counts, bounds, quantiles */
  struct lc_cache caches[LC_CACHES_MAX];
  uint32_t cache_count;
};

/* ---- errors ---- */

static bool malformed(struct decoder *d, const char *what, const uint8_t *at)
{
  if (!d->rc)
    d->rc = error_set(d->err, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "OTLP/protobuf: malformed %s near byte %zu",
                      what, (size_t)((const char *)at - d->body));
  return false;
}

static bool any_failed(struct decoder *d, int rc, const char *what, struct slice at)
{
  if (rc == ANY_TOO_DEEP && !d->rc)
    d->rc = error_set(d->err, ERR_TOO_DEEP_AST, "OTLP/protobuf: messages nested deeper than %d near byte %zu",
                      OTLP_MESSAGE_DEPTH_MAX, (size_t)(at.ptr - d->body));
  return malformed(d, what, (const uint8_t *)at.ptr);
}

/* The output budget: blocks of one request stay under OTLP_DECODE_BYTES_MAX. */
static bool over_budget(struct decoder *d)
{
  if (d->out->used_bytes - d->out_start <= OTLP_DECODE_BYTES_MAX)
    return false;
  if (!d->rc)
    d->rc = error_set(d->err, ERR_TOO_MANY_BYTES, "OTLP: the request decodes to more than %u MiB",
                      (unsigned)(OTLP_DECODE_BYTES_MAX >> 20));
  return true;
}

static void reject(struct decoder *d, const char *reason)
{
  if (d->batch->rejected++ == 0)
    snprintf(d->first_reason, sizeof d->first_reason, "%s %llu: %s", d->item_kind, (unsigned long long)d->item,
             reason);
}

static void finish_rejection(struct decoder *d)
{
  uint64_t n = d->batch->rejected;
  if (n == 0)
    d->batch->rejection = "";
  else if (n == 1)
    d->batch->rejection = arena_strdup(d->out, d->first_reason);
  else
    d->batch->rejection = arena_printf(d->out, "%s; %llu more invalid %ss rejected", d->first_reason,
                                       (unsigned long long)(n - 1), d->item_kind);
}

/* ---- typed field readers: false on a wrong wire type or short input ---- */

static bool f_bytes(struct pbr *r, uint32_t wt, struct slice *s) { return wt == WT_LEN && rd_len(r, s); }
static bool f_varint(struct pbr *r, uint32_t wt, uint64_t *v) { return wt == WT_VARINT && rd_varint(r, v); }
static bool f_fixed64(struct pbr *r, uint32_t wt, uint64_t *v) { return wt == WT_I64 && rd_fixed64(r, v); }

static bool f_fixed32(struct pbr *r, uint32_t wt)
{
  uint32_t v;
  return wt == WT_I32 && rd_fixed32(r, &v);
}

static bool f_double(struct pbr *r, uint32_t wt, double *d)
{
  uint64_t b;
  if (!f_fixed64(r, wt, &b))
    return false;
  memcpy(d, &b, 8);
  return true;
}

static int32_t as_int32(uint64_t v) { return (int32_t)(uint32_t)v; }

static int32_t as_sint32(uint64_t v)
{
  uint32_t u = (uint32_t)v;
  return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

/* repeated fixed64/double: packed, or one value per field */
static bool f_rep_fixed64(struct pbr *r, uint32_t wt, struct vec *v)
{
  uint64_t x = 0;
  if (wt == WT_I64) {
    if (!rd_fixed64(r, &x))
      return false;
    *(uint64_t *)vec_push(v) = x;
    return true;
  }
  struct slice s;
  if (wt != WT_LEN || !rd_len(r, &s) || s.len % 8)
    return false;
  for (size_t i = 0; i < s.len; i += 8) {
    memcpy(&x, s.ptr + i, 8);
    *(uint64_t *)vec_push(v) = x;
  }
  return true;
}

/* repeated uint64 (varint): packed, or one value per field */
static bool f_rep_varint(struct pbr *r, uint32_t wt, struct vec *v)
{
  uint64_t x = 0;
  if (wt == WT_VARINT) {
    if (!rd_varint(r, &x))
      return false;
    *(uint64_t *)vec_push(v) = x;
    return true;
  }
  struct slice s;
  if (wt != WT_LEN || !rd_len(r, &s))
    return false;
  struct pbr p = pbr_of(s);
  while (p.p < p.end) {
    if (!rd_varint(&p, &x))
      return false;
    *(uint64_t *)vec_push(v) = x;
  }
  return true;
}

/* The common KeyValue shape, {key = 1, value = 2 {one scalar member}} in
 * that order with nothing else, read without kv_parse's generality; false
 * for anything else (kv_parse then decides). The result is what kv_parse
 * gives for the same bytes. */
static bool kv_parse_plain(struct slice s, struct kv_rec *kv)
{
  struct pbr r = pbr_of(s), a;
  struct slice val;
  uint64_t x;
  if (r.p == r.end || *r.p != (1 << 3 | WT_LEN))
    return false;
  r.p++;
  if (!rd_len(&r, &kv->key) || r.p == r.end || *r.p != (2 << 3 | WT_LEN))
    return false;
  r.p++;
  if (!rd_len(&r, &val) || r.p != r.end)
    return false;
  a = pbr_of(val);
  if (a.p == a.end) {
    kv->value.kind = ANY_NONE;
    return true;
  }
  switch (*a.p++) {
  case ANY_STRING << 3 | WT_LEN:
    kv->value.kind = ANY_STRING;
    if (!rd_len(&a, &kv->value.u.s))
      return false;
    break;
  case ANY_BOOL << 3 | WT_VARINT:
    kv->value.kind = ANY_BOOL;
    if (!rd_varint(&a, &x))
      return false;
    kv->value.u.b = x != 0;
    break;
  case ANY_INT << 3 | WT_VARINT:
    kv->value.kind = ANY_INT;
    if (!rd_varint(&a, &x))
      return false;
    kv->value.u.i = (int64_t)x;
    break;
  case ANY_DOUBLE << 3 | WT_I64:
    kv->value.kind = ANY_DOUBLE;
    if (!rd_fixed64(&a, &x))
      return false;
    memcpy(&kv->value.u.f, &x, 8);
    break;
  default:
    return false;
  }
  return a.p == a.end;
}

/* A KeyValue at nesting `depth`, appended to v. Both parsers set the key,
 * the value's kind and the union member that kind reads. */
static bool read_kv(struct decoder *d, struct vec *v, struct slice s, uint32_t depth)
{
  struct kv_rec *kv = vec_push_raw(v);
  if (depth + 1 <= OTLP_MESSAGE_DEPTH_MAX && kv_parse_plain(s, kv))
    return true;
  int rc = kv_parse(s, depth, true, kv);
  return rc == ANY_OK || any_failed(d, rc, "KeyValue", s);
}

/* ---- validation: NULL when fine, else the reason in `why` ---- */

static bool all_zero(const char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
}

/* An id must be `want` bytes (or empty when optional); an all-zero id is
 * invalid when required (OTLP trace.proto) and stored as '' otherwise. */
static const char *check_id(char *why, const char *what, struct slice id, size_t want, bool required)
{
  if (id.len == OTLP_ID_NOT_HEX_LEN && !memcmp(id.ptr, OTLP_ID_NOT_HEX, OTLP_ID_NOT_HEX_LEN)) {
    snprintf(why, REASON_MAX, "%s is not a hex string", what);
    return why;
  }
  if (id.len == 0 && !required)
    return NULL;
  if (id.len != want) {
    snprintf(why, REASON_MAX, "%s is %zu bytes, want %zu", what, id.len, want);
    return why;
  }
  if (required && all_zero(id.ptr, id.len)) {
    snprintf(why, REASON_MAX, "%s is all zero", what);
    return why;
  }
  return NULL;
}

/* DateTime64(9) holds signed nanoseconds: up to 2262-04-11. */
static const char *check_time(char *why, const char *what, uint64_t ns)
{
  if (ns <= (uint64_t)INT64_MAX)
    return NULL;
  snprintf(why, REASON_MAX, "%s %llu is past year 2262", what, (unsigned long long)ns);
  return why;
}

/* ---- column helpers ---- */

static struct lc_cache *lc_cache_for(struct decoder *d, const struct column *c)
{
  for (uint32_t i = 0; i < d->cache_count; i++)
    if (d->caches[i].col == c)
      return &d->caches[i];
  if (d->cache_count == LC_CACHES_MAX)
    return NULL;
  struct lc_cache *lc = &d->caches[d->cache_count++];
  lc->col = c;
  lc->mask = 63;
  lc->used = 0;
  lc->slots = arena_calloc(d->scratch, lc->mask + 1, sizeof *lc->slots);
  lc->next = NULL;
  lc->next_count = 0;
  lc->last = (struct lc_next){ NULL, 0, 0 };
  return lc;
}

static void lc_grow(struct decoder *d, struct lc_cache *lc)
{
  uint32_t mask = lc->mask * 2 + 1;
  struct lc_slot *slots = arena_calloc(d->scratch, (size_t)mask + 1, sizeof *slots);
  for (uint32_t i = 0; i <= lc->mask; i++) {
    if (!lc->slots[i].hash)
      continue;
    uint32_t k = (uint32_t)lc->slots[i].hash & mask;
    while (slots[k].hash)
      k = (k + 1) & mask;
    slots[k] = lc->slots[i];
  }
  lc->slots = slots;
  lc->mask = mask;
}

/* memcmp(a, b, n) == 0 inlined for the short keys and names compared per
 * item, where a libc call costs more than the comparison. */
static inline bool bytes_equal(const char *a, const char *b, size_t n)
{
  uint64_t x, y;
  for (; n >= 8; n -= 8, a += 8, b += 8) {
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    if (x != y)
      return false;
  }
  for (; n; n--)
    if (*a++ != *b++)
      return false;
  return true;
}

/* Appends a key already in c's dictionary: what column_append_from(c, c, row)
 * does for a row holding that key, without its dispatch. */
static void lc_push_key(struct column *c, uint32_t key)
{
  if (c->rows == c->capacity)
    column_reserve(c, 1);
  ((uint32_t *)c->data)[c->rows++] = key;
}

/* Appends bytes that stay valid for the whole decode to a LowCardinality
 * column; returns the dictionary key they got. */
static uint32_t put_lc(struct decoder *d, struct lc_cache *lc, struct column *c, const char *p, size_t n)
{
  if (!lc) {
    column_append_bytes(c, p, n);
    return ((const uint32_t *)c->data)[c->rows - 1];
  }
  if (p == lc->last.ptr && n == lc->last.len) {  /* enum names are static strings */
    lc_push_key(c, lc->last.key);
    return lc->last.key;
  }
  uint64_t h = XXH3_64bits(p, n) | 1;
  uint32_t i = (uint32_t)h & lc->mask;
  for (; lc->slots[i].hash; i = (i + 1) & lc->mask) {
    const struct lc_slot *s = &lc->slots[i];
    if (s->hash == h && s->len == n && bytes_equal(s->ptr, p, n)) {
      lc_push_key(c, s->key);
      lc->last = (struct lc_next){ p, n, s->key };
      return s->key;
    }
  }
  column_append_bytes(c, p, n);
  uint32_t key = ((const uint32_t *)c->data)[c->rows - 1];
  lc->slots[i] = (struct lc_slot){ h, p, n, key };
  lc->last = (struct lc_next){ p, n, key };
  if (++lc->used * 2 > lc->mask)
    lc_grow(d, lc);
  return key;
}

/* put_lc for a Map key, trying the lc_next guess first. `after` is the
 * row's previous key + 1 (0 for its first key); returns this key + 1. */
static uint32_t put_lc_after(struct decoder *d, struct lc_cache *lc, struct column *c, uint32_t after, const char *p,
                             size_t n)
{
  if (!lc)
    return put_lc(d, lc, c, p, n) + 1;
  if (after >= lc->next_count) {
    uint32_t count = lc->next_count ? lc->next_count : 64;
    while (count <= after)
      count *= 2;
    struct lc_next *next = arena_calloc(d->scratch, count, sizeof *next);
    if (lc->next_count)
      memcpy(next, lc->next, lc->next_count * sizeof *next);
    lc->next = next;
    lc->next_count = count;
  }
  struct lc_next *g = &lc->next[after];
  if (g->ptr && g->len == n && (g->ptr == p || bytes_equal(g->ptr, p, n))) {
    lc_push_key(c, g->key);
    return g->key + 1;
  }
  uint32_t key = put_lc(d, lc, c, p, n);
  *g = (struct lc_next){ p, n, key };
  return key + 1;
}

static void put_lc_slice(struct decoder *d, struct column *c, struct slice s)
{
  put_lc(d, lc_cache_for(d, c), c, s.ptr, s.len);
}

static void put_bytes(struct column *c, struct slice s) { column_append_bytes(c, s.ptr, s.len); }

/* Copies row `row` of c onto its end (invariant 2). */
static void put_same(struct column *c, uint32_t row) { column_append_from(c, c, row); }

/* A checked id as lowercase hex; '' when empty or all zero. */
static void put_id(struct column *c, struct slice id)
{
  static const char hex[] = "0123456789abcdef";
  char s[32];
  if (id.len == 0 || id.len > 16 || all_zero(id.ptr, id.len)) {
    column_append_bytes(c, "", 0);
    return;
  }
  for (size_t i = 0; i < id.len; i++) {
    uint8_t b = (uint8_t)id.ptr[i];
    s[2 * i] = hex[b >> 4];
    s[2 * i + 1] = hex[b & 15];
  }
  column_append_bytes(c, s, id.len * 2);
}

static void put_value(struct decoder *d, struct column *c, const struct any_rec *v)
{
  if (v->kind == ANY_STRING) {
    put_bytes(c, v->u.s);
    return;
  }
  d->text.len = 0;
  text_any_value(&d->text, v);
  column_append_bytes(c, d->text.data, d->text.len);
}

/* One Map(LowCardinality(String), String) row. */
static void put_attrs(struct decoder *d, struct column *map, const struct vec *v, size_t first, size_t count)
{
  struct column *keys = map->children[0], *vals = map->children[1];
  struct lc_cache *lc = lc_cache_for(d, keys);
  uint32_t after = 0;
  for (size_t i = first; i < first + count; i++) {
    const struct kv_rec *kv = &VEC_AT(v, struct kv_rec, i);
    after = put_lc_after(d, lc, keys, after, kv->key.ptr, kv->key.len);
    put_value(d, vals, &kv->value);
  }
  column_close_array_row(map);
}

/* Copies Map row `row` of map onto its end: put_same for a
 * Map(LowCardinality(String), String), with the keys copied as one run. */
static void put_same_attrs(struct column *map, uint32_t row)
{
  struct column *keys = map->children[0], *vals = map->children[1];
  uint64_t start = row ? map->offsets[row - 1] : 0, end = map->offsets[row];
  uint32_t n = (uint32_t)(end - start);
  if (n) {
    if (keys->capacity - keys->rows < n)
      column_reserve(keys, n);
    uint32_t *k = keys->data;
    memcpy(k + keys->rows, k + start, (size_t)n * sizeof *k);
    keys->rows += n;
    column_append_range(vals, vals, (uint32_t)start, n);
  }
  column_close_array_row(map);
}

/* TenantId is column 0 of every table. */
static void put_tenant(struct decoder *d, struct block *b)
{
  if (b->rows == 0)
    column_append_bytes(b->columns[0], d->tenant.ptr, d->tenant.len);
  else
    put_same(b->columns[0], 0);
}

static void put_enum_name(struct decoder *d, struct column *c, int32_t v, const char *const *names, int count)
{
  const char *s = v >= 0 && v < count ? names[v] : "";
  put_lc(d, lc_cache_for(d, c), c, s, strlen(s));
}

/* ---- resources and scopes ---- */

/* A Resource: attributes into res_kvs, service.name (stringified) into d->service. */
static bool read_resource(struct decoder *d, struct slice s, uint32_t depth)
{
  d->res_kvs.count = 0;
  d->service.len = 0;
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    uint64_t x = 0;
    bool ok;
    switch (f) {
    case 1: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->res_kvs, v, depth + 1); break;
    case 2: ok = f_varint(&r, wt, &x); break;
    case 3: ok = f_bytes(&r, wt, &v); break;        /* entity_refs: not stored */
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return d->rc ? false : malformed(d, "Resource", r.p);
  }
  if (t < 0)
    return malformed(d, "Resource", r.p);
  for (size_t i = 0; i < d->res_kvs.count; i++) {
    const struct kv_rec *kv = &VEC_AT(&d->res_kvs, struct kv_rec, i);
    if (kv->key.len == 12 && !memcmp(kv->key.ptr, "service.name", 12)) {
      text_any_value(&d->service, &kv->value);
      break;
    }
  }
  return true;
}

struct scope_rec {
  struct slice name, version, schema_url;
  uint32_t dropped;
};

/* An InstrumentationScope: attributes into scope_kvs. */
static bool read_scope(struct decoder *d, struct slice s, uint32_t depth, struct scope_rec *sc)
{
  d->scope_kvs.count = 0;
  sc->name = sc->version = slice_make("", 0);
  sc->dropped = 0;
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    uint64_t x = 0;
    bool ok;
    switch (f) {
    case 1: ok = f_bytes(&r, wt, &sc->name); break;
    case 2: ok = f_bytes(&r, wt, &sc->version); break;
    case 3: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->scope_kvs, v, depth + 1); break;
    case 4: ok = f_varint(&r, wt, &x); sc->dropped = (uint32_t)x; break;
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return d->rc ? false : malformed(d, "InstrumentationScope", r.p);
  }
  return t == 0 || malformed(d, "InstrumentationScope", r.p);
}

/* First pass over a Resource{Spans,Logs,Metrics} or Scope{...} message:
 * reads the header fields (resource or scope = 1, schema_url = 3) and checks
 * that the item list (field 2) is well formed; the caller then walks the
 * items with walk_items. */
static bool read_header(struct decoder *d, struct slice s, const char *what, bool is_scope, uint32_t depth,
                        struct scope_rec *sc, struct slice *schema_url)
{
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  bool have = false;
  *schema_url = slice_make("", 0);
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    bool ok;
    switch (f) {
    case 1:
      ok = f_bytes(&r, wt, &v) && (is_scope ? read_scope(d, v, depth + 1, sc) : read_resource(d, v, depth + 1));
      have = true;
      break;
    case 2: ok = f_bytes(&r, wt, &v); break;
    case 3: ok = f_bytes(&r, wt, schema_url); break;
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return d->rc ? false : malformed(d, what, r.p);
  }
  if (t < 0)
    return malformed(d, what, r.p);
  if (!have) {                                  /* no resource / scope: empty */
    if (is_scope) {
      d->scope_kvs.count = 0;
      sc->name = sc->version = slice_make("", 0);
      sc->dropped = 0;
    } else {
      d->res_kvs.count = 0;
      d->service.len = 0;
    }
  }
  return true;
}

/* The next field-2 item of a message read_header accepted. */
static bool next_item(struct pbr *r, struct slice *item)
{
  uint32_t f, wt;
  while (rd_tag(r, &f, &wt) > 0) {
    if (f == 2 && wt == WT_LEN)
      return rd_len(r, item);
    rd_skip(r, wt);
  }
  return false;
}

/* ---- traces ---- */

struct span_rec {
  struct slice trace_id, span_id, parent_span_id, trace_state, name, status_message;
  int32_t kind, status_code;
  uint64_t start_ns, end_ns;
};

/* Records read_event, read_link and read_exemplar push stay put while they
 * run: only other vectors grow meanwhile. */
static bool read_event(struct decoder *d, struct slice s)
{
  struct event_rec *e = vec_push(&d->events);
  e->kv_first = d->sub_kvs.count;
  e->name = slice_make("", 0);
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    uint64_t x = 0;
    bool ok;
    switch (f) {
    case 1: ok = f_fixed64(&r, wt, &e->time_ns); break;
    case 2: ok = f_bytes(&r, wt, &e->name); break;
    case 3: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->sub_kvs, v, 6); break;
    case 4: ok = f_varint(&r, wt, &x); break;
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return d->rc ? false : malformed(d, "Span.Event", r.p);
  }
  e->kv_count = d->sub_kvs.count - e->kv_first;
  return t == 0 || malformed(d, "Span.Event", r.p);
}

static bool read_link(struct decoder *d, struct slice s)
{
  struct link_rec *l = vec_push(&d->links);
  l->kv_first = d->sub_kvs.count;
  l->trace_id = l->span_id = l->trace_state = slice_make("", 0);
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    uint64_t x = 0;
    bool ok;
    switch (f) {
    case 1: ok = f_bytes(&r, wt, &l->trace_id); break;
    case 2: ok = f_bytes(&r, wt, &l->span_id); break;
    case 3: ok = f_bytes(&r, wt, &l->trace_state); break;
    case 4: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->sub_kvs, v, 6); break;
    case 5: ok = f_varint(&r, wt, &x); break;
    case 6: ok = f_fixed32(&r, wt); break;
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return d->rc ? false : malformed(d, "Span.Link", r.p);
  }
  l->kv_count = d->sub_kvs.count - l->kv_first;
  return t == 0 || malformed(d, "Span.Link", r.p);
}

static bool read_status(struct decoder *d, struct slice s, struct span_rec *sp)
{
  sp->status_message = slice_make("", 0);
  sp->status_code = 0;
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    uint64_t x = 0;
    bool ok;
    switch (f) {
    case 2: ok = f_bytes(&r, wt, &sp->status_message); break;
    case 3: ok = f_varint(&r, wt, &x); sp->status_code = as_int32(x); break;
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return malformed(d, "Status", r.p);
  }
  return t == 0 || malformed(d, "Status", r.p);
}

static bool read_span(struct decoder *d, struct slice s, struct span_rec *sp)
{
  memset(sp, 0, sizeof *sp);
  sp->trace_id = sp->span_id = sp->parent_span_id = sp->trace_state = sp->name = sp->status_message =
      slice_make("", 0);
  d->kvs.count = d->sub_kvs.count = d->events.count = d->links.count = 0;
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    uint64_t x = 0;
    bool ok;
    switch (f) {
    case 1: ok = f_bytes(&r, wt, &sp->trace_id); break;
    case 2: ok = f_bytes(&r, wt, &sp->span_id); break;
    case 3: ok = f_bytes(&r, wt, &sp->trace_state); break;
    case 4: ok = f_bytes(&r, wt, &sp->parent_span_id); break;
    case 5: ok = f_bytes(&r, wt, &sp->name); break;
    case 6: ok = f_varint(&r, wt, &x); sp->kind = as_int32(x); break;
    case 7: ok = f_fixed64(&r, wt, &sp->start_ns); break;
    case 8: ok = f_fixed64(&r, wt, &sp->end_ns); break;
    case 9: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->kvs, v, 5); break;
    case 11: ok = f_bytes(&r, wt, &v) && read_event(d, v); break;
    case 13: ok = f_bytes(&r, wt, &v) && read_link(d, v); break;
    case 15: ok = f_bytes(&r, wt, &v) && read_status(d, v, sp); break;
    case 10: case 12: case 14: ok = f_varint(&r, wt, &x); break;
    case 16: ok = f_fixed32(&r, wt); break;
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return d->rc ? false : malformed(d, "Span", r.p);
  }
  return t == 0 || malformed(d, "Span", r.p);
}

static const char *span_invalid(struct decoder *d, char *why, const struct span_rec *sp)
{
  const char *w;
  if ((w = check_id(why, "trace_id", sp->trace_id, 16, true)) || (w = check_id(why, "span_id", sp->span_id, 8, true)) ||
      (w = check_id(why, "parent_span_id", sp->parent_span_id, 8, false)) ||
      (w = check_time(why, "start_time_unix_nano", sp->start_ns)) ||
      (w = check_time(why, "end_time_unix_nano", sp->end_ns)))
    return w;
  for (size_t i = 0; i < d->events.count; i++)
    if ((w = check_time(why, "event time_unix_nano", VEC_AT(&d->events, struct event_rec, i).time_ns)))
      return w;
  for (size_t i = 0; i < d->links.count; i++) {
    const struct link_rec *l = &VEC_AT(&d->links, struct link_rec, i);
    if ((w = check_id(why, "link trace_id", l->trace_id, 16, false)) ||
        (w = check_id(why, "link span_id", l->span_id, 8, false)))
      return w;
  }
  return NULL;
}

static const char *const span_kinds[] = { "Unspecified", "Internal", "Server", "Client", "Producer", "Consumer" };
static const char *const status_codes[] = { "Unset", "Ok", "Error" };

static void put_span(struct decoder *d, struct block *b, const struct span_rec *sp, uint32_t *res_row,
                     const struct scope_rec *sc)
{
  struct column **c = b->columns;
  uint32_t row = b->rows;
  put_tenant(d, b);
  column_append_i64(c[TR_TIMESTAMP], (int64_t)sp->start_ns);
  put_id(c[TR_TRACE_ID], sp->trace_id);
  put_id(c[TR_SPAN_ID], sp->span_id);
  put_id(c[TR_PARENT_SPAN_ID], sp->parent_span_id);
  put_bytes(c[TR_TRACE_STATE], sp->trace_state);
  put_lc_slice(d, c[TR_SPAN_NAME], sp->name);
  put_enum_name(d, c[TR_SPAN_KIND], sp->kind, span_kinds, 6);
  if (*res_row == UINT32_MAX) {
    column_append_bytes(c[TR_SERVICE_NAME], d->service.data, d->service.len);
    put_attrs(d, c[TR_RESOURCE_ATTRIBUTES], &d->res_kvs, 0, d->res_kvs.count);
    *res_row = row;
  } else {
    put_same(c[TR_SERVICE_NAME], *res_row);
    put_same_attrs(c[TR_RESOURCE_ATTRIBUTES], *res_row);
  }
  put_bytes(c[TR_SCOPE_NAME], sc->name);
  put_bytes(c[TR_SCOPE_VERSION], sc->version);
  put_attrs(d, c[TR_SPAN_ATTRIBUTES], &d->kvs, 0, d->kvs.count);
  column_append_u64(c[TR_DURATION], sp->end_ns > sp->start_ns ? sp->end_ns - sp->start_ns : 0);
  put_enum_name(d, c[TR_STATUS_CODE], sp->status_code, status_codes, 3);
  put_bytes(c[TR_STATUS_MESSAGE], sp->status_message);

  struct column *ev_name = c[TR_EVENTS_NAME]->children[0];
  for (size_t i = 0; i < d->events.count; i++) {
    const struct event_rec *e = &VEC_AT(&d->events, struct event_rec, i);
    column_append_i64(c[TR_EVENTS_TIMESTAMP]->children[0], (int64_t)e->time_ns);
    put_lc_slice(d, ev_name, e->name);
    put_attrs(d, c[TR_EVENTS_ATTRIBUTES]->children[0], &d->sub_kvs, e->kv_first, e->kv_count);
  }
  column_close_array_row(c[TR_EVENTS_TIMESTAMP]);
  column_close_array_row(c[TR_EVENTS_NAME]);
  column_close_array_row(c[TR_EVENTS_ATTRIBUTES]);

  for (size_t i = 0; i < d->links.count; i++) {
    const struct link_rec *l = &VEC_AT(&d->links, struct link_rec, i);
    put_id(c[TR_LINKS_TRACE_ID]->children[0], l->trace_id);
    put_id(c[TR_LINKS_SPAN_ID]->children[0], l->span_id);
    put_bytes(c[TR_LINKS_TRACE_STATE]->children[0], l->trace_state);
    put_attrs(d, c[TR_LINKS_ATTRIBUTES]->children[0], &d->sub_kvs, l->kv_first, l->kv_count);
  }
  column_close_array_row(c[TR_LINKS_TRACE_ID]);
  column_close_array_row(c[TR_LINKS_SPAN_ID]);
  column_close_array_row(c[TR_LINKS_TRACE_STATE]);
  column_close_array_row(c[TR_LINKS_ATTRIBUTES]);
  b->rows++;
}

static uint32_t rows_hint(size_t body_len, size_t bytes_per_row)
{
  size_t n = body_len / bytes_per_row + 1;
  return n > (1u << 20) ? 1u << 20 : (uint32_t)n;
}

static bool decode_traces(struct decoder *d, struct slice body)
{
  struct block *b = otel_block_create(d->out, OTEL_TRACES, rows_hint(body.len, 200));
  d->batch->blocks[OTEL_TRACES] = b;
  char why[REASON_MAX];
  bool ok = true;
  struct pbr req = pbr_of(body);
  uint32_t f, wt;
  int t = 0;
  while (ok && (t = rd_tag(&req, &f, &wt)) > 0) {
    struct slice rs, ss, sps, schema;
    if (f != 1) {
      ok = rd_skip(&req, wt) || malformed(d, "ExportTraceServiceRequest", req.p);
      continue;
    }
    if (!f_bytes(&req, wt, &rs)) {
      ok = malformed(d, "ExportTraceServiceRequest", req.p);
      break;
    }
    struct scope_rec sc;
    if (!(ok = read_header(d, rs, "ResourceSpans", false, 2, NULL, &schema)))
      break;
    uint32_t res_row = UINT32_MAX;
    struct pbr rr = pbr_of(rs);
    while (ok && next_item(&rr, &ss)) {
      if (!(ok = read_header(d, ss, "ScopeSpans", true, 3, &sc, &schema)))
        break;
      struct pbr sr = pbr_of(ss);
      while (ok && next_item(&sr, &sps)) {
        struct span_rec sp;
        if (!(ok = read_span(d, sps, &sp)))
          break;
        const char *w = span_invalid(d, why, &sp);
        if (w) {
          reject(d, w);
        } else {
          put_span(d, b, &sp, &res_row, &sc);
          ok = !over_budget(d);
        }
        d->item++;
      }
    }
  }
  if (ok && t < 0)
    ok = malformed(d, "ExportTraceServiceRequest", req.p);
  d->batch->accepted = b->rows;

  return ok;
}

/* ---- logs ---- */

struct log_rec {
  uint64_t time_ns, observed_ns;
  int32_t severity_number;
  uint32_t flags;
  struct slice severity_text, trace_id, span_id, event_name;
  struct any_rec body;
};

static bool read_log(struct decoder *d, struct slice s, struct log_rec *lr)
{
  memset(lr, 0, sizeof *lr);
  lr->severity_text = lr->trace_id = lr->span_id = lr->event_name = slice_make("", 0);
  d->kvs.count = 0;
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    uint64_t x = 0;
    bool ok;
    switch (f) {
    case 1: ok = f_fixed64(&r, wt, &lr->time_ns); break;
    case 11: ok = f_fixed64(&r, wt, &lr->observed_ns); break;
    case 2: ok = f_varint(&r, wt, &x); lr->severity_number = as_int32(x); break;
    case 3: ok = f_bytes(&r, wt, &lr->severity_text); break;
    case 5: {
      int rc;
      ok = f_bytes(&r, wt, &v);
      if (ok && (rc = any_parse(v, 5, true, &lr->body)))
        return any_failed(d, rc, "LogRecord.body", v);
      break;
    }
    case 6: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->kvs, v, 5); break;
    case 7: ok = f_varint(&r, wt, &x); break;
    case 8: ok = wt == WT_I32 && rd_fixed32(&r, &lr->flags); break;
    case 9: ok = f_bytes(&r, wt, &lr->trace_id); break;
    case 10: ok = f_bytes(&r, wt, &lr->span_id); break;
    case 12: ok = f_bytes(&r, wt, &lr->event_name); break;
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return d->rc ? false : malformed(d, "LogRecord", r.p);
  }
  return t == 0 || malformed(d, "LogRecord", r.p);
}

static const char *log_invalid(char *why, const struct log_rec *lr)
{
  const char *w;
  if ((w = check_id(why, "trace_id", lr->trace_id, 16, false)) || (w = check_id(why, "span_id", lr->span_id, 8, false)) ||
      (w = check_time(why, "time_unix_nano", lr->time_ns)) ||
      (w = check_time(why, "observed_time_unix_nano", lr->observed_ns)))
    return w;
  return NULL;
}

static void put_log(struct decoder *d, struct block *b, const struct log_rec *lr, uint32_t *res_row,
                    uint32_t *scope_row, struct slice res_schema, const struct scope_rec *sc, struct slice scope_schema)
{
  struct column **c = b->columns;
  uint32_t row = b->rows;
  put_tenant(d, b);
  column_append_i64(c[LG_TIMESTAMP], (int64_t)(lr->time_ns ? lr->time_ns : lr->observed_ns));
  put_id(c[LG_TRACE_ID], lr->trace_id);
  put_id(c[LG_SPAN_ID], lr->span_id);
  column_append_u64(c[LG_TRACE_FLAGS], lr->flags & 0xFF);
  put_lc_slice(d, c[LG_SEVERITY_TEXT], lr->severity_text);
  column_append_u64(c[LG_SEVERITY_NUMBER], (uint32_t)lr->severity_number & 0xFF);
  if (*res_row == UINT32_MAX) {
    column_append_bytes(c[LG_SERVICE_NAME], d->service.data, d->service.len);
    put_bytes(c[LG_RESOURCE_SCHEMA_URL], res_schema);
    put_attrs(d, c[LG_RESOURCE_ATTRIBUTES], &d->res_kvs, 0, d->res_kvs.count);
    *res_row = row;
  } else {
    put_same(c[LG_SERVICE_NAME], *res_row);
    put_same(c[LG_RESOURCE_SCHEMA_URL], *res_row);
    put_same_attrs(c[LG_RESOURCE_ATTRIBUTES], *res_row);
  }
  put_value(d, c[LG_BODY], &lr->body);
  if (*scope_row == UINT32_MAX) {
    put_bytes(c[LG_SCOPE_SCHEMA_URL], scope_schema);
    put_bytes(c[LG_SCOPE_NAME], sc->name);
    put_bytes(c[LG_SCOPE_VERSION], sc->version);
    put_attrs(d, c[LG_SCOPE_ATTRIBUTES], &d->scope_kvs, 0, d->scope_kvs.count);
    *scope_row = row;
  } else {
    put_same(c[LG_SCOPE_SCHEMA_URL], *scope_row);
    put_same(c[LG_SCOPE_NAME], *scope_row);
    put_same(c[LG_SCOPE_VERSION], *scope_row);
    put_same_attrs(c[LG_SCOPE_ATTRIBUTES], *scope_row);
  }
  put_attrs(d, c[LG_LOG_ATTRIBUTES], &d->kvs, 0, d->kvs.count);
  put_bytes(c[LG_EVENT_NAME], lr->event_name);
  b->rows++;
}

static bool decode_logs(struct decoder *d, struct slice body)
{
  struct block *b = otel_block_create(d->out, OTEL_LOGS, rows_hint(body.len, 200));
  d->batch->blocks[OTEL_LOGS] = b;
  char why[REASON_MAX];
  bool ok = true;
  struct pbr req = pbr_of(body);
  uint32_t f, wt;
  int t = 0;
  while (ok && (t = rd_tag(&req, &f, &wt)) > 0) {
    struct slice rl, sl, item, res_schema, scope_schema;
    if (f != 1) {
      ok = rd_skip(&req, wt) || malformed(d, "ExportLogsServiceRequest", req.p);
      continue;
    }
    if (!f_bytes(&req, wt, &rl)) {
      ok = malformed(d, "ExportLogsServiceRequest", req.p);
      break;
    }
    if (!(ok = read_header(d, rl, "ResourceLogs", false, 2, NULL, &res_schema)))
      break;
    uint32_t res_row = UINT32_MAX;
    struct pbr rr = pbr_of(rl);
    while (ok && next_item(&rr, &sl)) {
      struct scope_rec sc;
      if (!(ok = read_header(d, sl, "ScopeLogs", true, 3, &sc, &scope_schema)))
        break;
      uint32_t scope_row = UINT32_MAX;
      struct pbr sr = pbr_of(sl);
      while (ok && next_item(&sr, &item)) {
        struct log_rec lr;
        if (!(ok = read_log(d, item, &lr)))
          break;
        const char *w = log_invalid(why, &lr);
        if (w) {
          reject(d, w);
        } else {
          put_log(d, b, &lr, &res_row, &scope_row, res_schema, &sc, scope_schema);
          ok = !over_budget(d);
        }
        d->item++;
      }
    }
  }
  if (ok && t < 0)
    ok = malformed(d, "ExportLogsServiceRequest", req.p);
  d->batch->accepted = b->rows;
  return ok;
}

/* ---- metrics ---- */

enum { GAUGE, SUM, HISTOGRAM, EXP_HISTOGRAM, SUMMARY, METRIC_KINDS };

struct metric_ctx {
  struct block *blocks[METRIC_KINDS];
  struct slice res_schema, scope_schema;
  struct scope_rec scope;
  struct slice name, description, unit;
  int32_t temporality;
  bool monotonic;
  uint32_t res_row[METRIC_KINDS];   /* first row of the current resource, per table */
  uint32_t scope_row[METRIC_KINDS];
};

/* Everything a data point of any kind may carry. */
struct point_rec {
  uint64_t start_ns, time_ns, count, zero_count;
  double value, sum, min, max;
  bool has_sum, has_min, has_max;
  uint32_t flags;
  int32_t scale, pos_offset, neg_offset;
  size_t pos_first, pos_count, neg_first, neg_count;  /* in u64b */
};

static bool read_exemplar(struct decoder *d, struct slice s)
{
  struct exemplar_rec *e = vec_push(&d->exemplars);
  e->kv_first = d->sub_kvs.count;
  e->trace_id = e->span_id = slice_make("", 0);
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    uint64_t x = 0;
    bool ok;
    switch (f) {
    case 7: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->sub_kvs, v, 8); break;
    case 2: ok = f_fixed64(&r, wt, &e->time_ns); break;
    case 3: ok = f_double(&r, wt, &e->value); break;
    case 6: ok = f_fixed64(&r, wt, &x); e->value = (double)(int64_t)x; break;
    case 4: ok = f_bytes(&r, wt, &e->span_id); break;
    case 5: ok = f_bytes(&r, wt, &e->trace_id); break;
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return d->rc ? false : malformed(d, "Exemplar", r.p);
  }
  e->kv_count = d->sub_kvs.count - e->kv_first;
  return t == 0 || malformed(d, "Exemplar", r.p);
}

static bool read_buckets(struct decoder *d, struct slice s, int32_t *offset, size_t *first, size_t *count)
{
  *offset = 0;
  *first = d->u64b.count;
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    uint64_t x = 0;
    bool ok;
    switch (f) {
    case 1: ok = f_varint(&r, wt, &x); *offset = as_sint32(x); break;
    case 2: ok = f_rep_varint(&r, wt, &d->u64b); break;
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return malformed(d, "ExponentialHistogramDataPoint.Buckets", r.p);
  }
  *count = d->u64b.count - *first;
  return t == 0 || malformed(d, "ExponentialHistogramDataPoint.Buckets", r.p);
}

/* Field numbers differ per point type; `kind` picks the table. */
static bool read_point(struct decoder *d, int kind, struct slice s, struct point_rec *p)
{
  static const char *const what[] = { "NumberDataPoint", "NumberDataPoint", "HistogramDataPoint",
                                      "ExponentialHistogramDataPoint", "SummaryDataPoint" };
  memset(p, 0, sizeof *p);
  d->kvs.count = d->sub_kvs.count = d->exemplars.count = 0;
  d->u64a.count = d->u64b.count = d->f64a.count = 0;
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    uint64_t x = 0;
    bool ok = true, known = true;
    if (f == 2)
      ok = f_fixed64(&r, wt, &p->start_ns);
    else if (f == 3)
      ok = f_fixed64(&r, wt, &p->time_ns);
    else if (kind == GAUGE || kind == SUM) {
      switch (f) {
      case 7: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->kvs, v, 7); break;
      case 4: ok = f_double(&r, wt, &p->value); break;
      case 6: ok = f_fixed64(&r, wt, &x); p->value = (double)(int64_t)x; break;
      case 5: ok = f_bytes(&r, wt, &v) && read_exemplar(d, v); break;
      case 8: ok = f_varint(&r, wt, &x); p->flags = (uint32_t)x; break;
      default: known = false; break;
      }
    } else if (kind == HISTOGRAM) {
      switch (f) {
      case 9: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->kvs, v, 7); break;
      case 4: ok = f_fixed64(&r, wt, &p->count); break;
      case 5: ok = f_double(&r, wt, &p->sum); p->has_sum = true; break;
      case 6: ok = f_rep_fixed64(&r, wt, &d->u64a); break;
      case 7: ok = f_rep_fixed64(&r, wt, &d->f64a); break;
      case 8: ok = f_bytes(&r, wt, &v) && read_exemplar(d, v); break;
      case 10: ok = f_varint(&r, wt, &x); p->flags = (uint32_t)x; break;
      case 11: ok = f_double(&r, wt, &p->min); p->has_min = true; break;
      case 12: ok = f_double(&r, wt, &p->max); p->has_max = true; break;
      default: known = false; break;
      }
    } else if (kind == EXP_HISTOGRAM) {
      switch (f) {
      case 1: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->kvs, v, 7); break;
      case 4: ok = f_fixed64(&r, wt, &p->count); break;
      case 5: ok = f_double(&r, wt, &p->sum); p->has_sum = true; break;
      case 6: ok = f_varint(&r, wt, &x); p->scale = as_sint32(x); break;
      case 7: ok = f_fixed64(&r, wt, &p->zero_count); break;
      case 8: ok = f_bytes(&r, wt, &v) && read_buckets(d, v, &p->pos_offset, &p->pos_first, &p->pos_count); break;
      case 9: ok = f_bytes(&r, wt, &v) && read_buckets(d, v, &p->neg_offset, &p->neg_first, &p->neg_count); break;
      case 10: ok = f_varint(&r, wt, &x); p->flags = (uint32_t)x; break;
      case 11: ok = f_bytes(&r, wt, &v) && read_exemplar(d, v); break;
      case 12: ok = f_double(&r, wt, &p->min); p->has_min = true; break;
      case 13: ok = f_double(&r, wt, &p->max); p->has_max = true; break;
      case 14: ok = f_fixed64(&r, wt, &x); break;
      default: known = false; break;
      }
    } else {
      switch (f) {
      case 7: ok = f_bytes(&r, wt, &v) && read_kv(d, &d->kvs, v, 7); break;
      case 4: ok = f_fixed64(&r, wt, &p->count); break;
      case 5: ok = f_double(&r, wt, &p->sum); break;
      case 6: {                                 /* ValueAtQuantile: pairs into f64a */
        double q = 0, val = 0;
        ok = f_bytes(&r, wt, &v);
        struct pbr qr = pbr_of(v);
        uint32_t qf, qwt;
        int qt;
        while (ok && (qt = rd_tag(&qr, &qf, &qwt)) > 0)
          ok = qf == 1 ? f_double(&qr, qwt, &q) : qf == 2 ? f_double(&qr, qwt, &val) : rd_skip(&qr, qwt);
        if (ok && qt < 0)
          ok = false;
        if (ok) {
          *(double *)vec_push(&d->f64a) = q;
          *(double *)vec_push(&d->f64a) = val;
        }
        break;
      }
      case 8: ok = f_varint(&r, wt, &x); p->flags = (uint32_t)x; break;
      default: known = false; break;
      }
    }
    if (!known)
      ok = rd_skip(&r, wt);
    if (!ok)
      return d->rc ? false : malformed(d, what[kind], r.p);
  }
  return t == 0 || malformed(d, what[kind], r.p);
}

static const char *point_invalid(struct decoder *d, int kind, char *why, const struct point_rec *p)
{
  const char *w;
  if ((w = check_time(why, "start_time_unix_nano", p->start_ns)) || (w = check_time(why, "time_unix_nano", p->time_ns)))
    return w;
  for (size_t i = 0; i < d->exemplars.count; i++) {
    const struct exemplar_rec *e = &VEC_AT(&d->exemplars, struct exemplar_rec, i);
    if ((w = check_id(why, "exemplar trace_id", e->trace_id, 16, false)) ||
        (w = check_id(why, "exemplar span_id", e->span_id, 8, false)) ||
        (w = check_time(why, "exemplar time_unix_nano", e->time_ns)))
      return w;
  }
  if (kind == HISTOGRAM && d->u64a.count && d->u64a.count != d->f64a.count + 1) {
    snprintf(why, REASON_MAX, "%zu bucket_counts for %zu explicit_bounds, want %zu", d->u64a.count, d->f64a.count,
             d->f64a.count + 1);
    return why;
  }
  return NULL;
}

/* The head every metrics table shares (MT_*). */
static void put_metric_head(struct decoder *d, struct metric_ctx *m, int kind, const struct point_rec *p)
{
  struct block *b = m->blocks[kind];
  struct column **c = b->columns;
  uint32_t row = b->rows;
  put_tenant(d, b);
  if (m->res_row[kind] == UINT32_MAX) {
    put_attrs(d, c[MT_RESOURCE_ATTRIBUTES], &d->res_kvs, 0, d->res_kvs.count);
    put_bytes(c[MT_RESOURCE_SCHEMA_URL], m->res_schema);
    column_append_bytes(c[MT_SERVICE_NAME], d->service.data, d->service.len);
    m->res_row[kind] = row;
  } else {
    put_same_attrs(c[MT_RESOURCE_ATTRIBUTES], m->res_row[kind]);
    put_same(c[MT_RESOURCE_SCHEMA_URL], m->res_row[kind]);
    put_same(c[MT_SERVICE_NAME], m->res_row[kind]);
  }
  if (m->scope_row[kind] == UINT32_MAX) {
    put_bytes(c[MT_SCOPE_NAME], m->scope.name);
    put_bytes(c[MT_SCOPE_VERSION], m->scope.version);
    put_attrs(d, c[MT_SCOPE_ATTRIBUTES], &d->scope_kvs, 0, d->scope_kvs.count);
    column_append_u64(c[MT_SCOPE_DROPPED_ATTR_COUNT], m->scope.dropped);
    put_bytes(c[MT_SCOPE_SCHEMA_URL], m->scope_schema);
    m->scope_row[kind] = row;
  } else {
    put_same(c[MT_SCOPE_NAME], m->scope_row[kind]);
    put_same(c[MT_SCOPE_VERSION], m->scope_row[kind]);
    put_same_attrs(c[MT_SCOPE_ATTRIBUTES], m->scope_row[kind]);
    put_same(c[MT_SCOPE_DROPPED_ATTR_COUNT], m->scope_row[kind]);
    put_same(c[MT_SCOPE_SCHEMA_URL], m->scope_row[kind]);
  }
  put_bytes(c[MT_METRIC_NAME], m->name);
  put_bytes(c[MT_METRIC_DESCRIPTION], m->description);
  put_bytes(c[MT_METRIC_UNIT], m->unit);
  put_attrs(d, c[MT_ATTRIBUTES], &d->kvs, 0, d->kvs.count);
  column_append_i64(c[MT_START_TIME_UNIX], (int64_t)p->start_ns);
  column_append_i64(c[MT_TIME_UNIX], (int64_t)p->time_ns);
}

static void put_exemplars(struct decoder *d, struct column **c)
{
  for (size_t i = 0; i < d->exemplars.count; i++) {
    const struct exemplar_rec *e = &VEC_AT(&d->exemplars, struct exemplar_rec, i);
    put_attrs(d, c[EX_FILTERED_ATTRIBUTES]->children[0], &d->sub_kvs, e->kv_first, e->kv_count);
    column_append_i64(c[EX_TIME_UNIX]->children[0], (int64_t)e->time_ns);
    column_append_f64(c[EX_VALUE]->children[0], e->value);
    put_id(c[EX_SPAN_ID]->children[0], e->span_id);
    put_id(c[EX_TRACE_ID]->children[0], e->trace_id);
  }
  for (int k = 0; k < EX_COLUMN_COUNT; k++)
    column_close_array_row(c[k]);
}

static void put_u64s(struct column *c, const struct vec *v, size_t first, size_t count)
{
  for (size_t i = first; i < first + count; i++)
    column_append_u64(c->children[0], VEC_AT(v, uint64_t, i));
  column_close_array_row(c);
}

static void put_f64s(struct column *c, const struct vec *v, size_t first, size_t count, size_t step)
{
  for (size_t i = first; i < first + count; i += step)
    column_append_f64(c->children[0], VEC_AT(v, double, i));
  column_close_array_row(c);
}

static void put_point(struct decoder *d, struct metric_ctx *m, int kind, const struct point_rec *p)
{
  struct block *b = m->blocks[kind];
  struct column **c = b->columns;
  put_metric_head(d, m, kind, p);
  switch (kind) {
  case GAUGE:
    column_append_f64(c[GA_VALUE], p->value);
    column_append_u64(c[GA_FLAGS], p->flags);
    put_exemplars(d, c + GA_EXEMPLARS);
    break;
  case SUM:
    column_append_f64(c[SU_VALUE], p->value);
    column_append_u64(c[SU_FLAGS], p->flags);
    put_exemplars(d, c + SU_EXEMPLARS);
    column_append_i64(c[SU_AGGREGATION_TEMPORALITY], m->temporality);
    column_append_u64(c[SU_IS_MONOTONIC], m->monotonic);
    break;
  case HISTOGRAM:
    column_append_u64(c[HI_COUNT], p->count);
    column_append_f64(c[HI_SUM], p->has_sum ? p->sum : 0.0);
    put_u64s(c[HI_BUCKET_COUNTS], &d->u64a, 0, d->u64a.count);
    put_f64s(c[HI_EXPLICIT_BOUNDS], &d->f64a, 0, d->f64a.count, 1);
    put_exemplars(d, c + HI_EXEMPLARS);
    column_append_u64(c[HI_FLAGS], p->flags);
    column_append_f64(c[HI_MIN], p->has_min ? p->min : 0.0);
    column_append_f64(c[HI_MAX], p->has_max ? p->max : 0.0);
    column_append_i64(c[HI_AGGREGATION_TEMPORALITY], m->temporality);
    break;
  case EXP_HISTOGRAM:
    column_append_u64(c[EH_COUNT], p->count);
    column_append_f64(c[EH_SUM], p->has_sum ? p->sum : 0.0);
    column_append_i64(c[EH_SCALE], p->scale);
    column_append_u64(c[EH_ZERO_COUNT], p->zero_count);
    column_append_i64(c[EH_POSITIVE_OFFSET], p->pos_offset);
    put_u64s(c[EH_POSITIVE_BUCKET_COUNTS], &d->u64b, p->pos_first, p->pos_count);
    column_append_i64(c[EH_NEGATIVE_OFFSET], p->neg_offset);
    put_u64s(c[EH_NEGATIVE_BUCKET_COUNTS], &d->u64b, p->neg_first, p->neg_count);
    put_exemplars(d, c + EH_EXEMPLARS);
    column_append_u64(c[EH_FLAGS], p->flags);
    column_append_f64(c[EH_MIN], p->has_min ? p->min : 0.0);
    column_append_f64(c[EH_MAX], p->has_max ? p->max : 0.0);
    column_append_i64(c[EH_AGGREGATION_TEMPORALITY], m->temporality);
    break;
  default:
    column_append_u64(c[SM_COUNT], p->count);
    column_append_f64(c[SM_SUM], p->sum);
    put_f64s(c[SM_QUANTILES_QUANTILE], &d->f64a, 0, d->f64a.count, 2);
    put_f64s(c[SM_QUANTILES_VALUE], &d->f64a, 1, d->f64a.count, 2);
    column_append_u64(c[SM_FLAGS], p->flags);
    break;
  }
  b->rows++;
}

/* Gauge, Sum, Histogram, ExponentialHistogram or Summary: the header
 * (temporality, monotonic) first, then the points. */
static bool decode_metric_data(struct decoder *d, struct metric_ctx *m, int kind, struct slice s)
{
  static const char *const what[] = { "Gauge", "Sum", "Histogram", "ExponentialHistogram", "Summary" };
  m->temporality = 0;
  m->monotonic = false;
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice v;
    uint64_t x = 0;
    bool ok;
    if (f == 1)
      ok = f_bytes(&r, wt, &v);
    else if (f == 2 && kind != GAUGE && kind != SUMMARY) {
      ok = f_varint(&r, wt, &x);
      m->temporality = as_int32(x);
    } else if (f == 3 && kind == SUM) {
      ok = f_varint(&r, wt, &x);
      m->monotonic = x != 0;
    } else {
      ok = rd_skip(&r, wt);
    }
    if (!ok)
      return malformed(d, what[kind], r.p);
  }
  if (t < 0)
    return malformed(d, what[kind], r.p);
  char why[REASON_MAX];
  r = pbr_of(s);
  while (rd_tag(&r, &f, &wt) > 0) {
    struct slice v;
    if (f != 1) {
      rd_skip(&r, wt);
      continue;
    }
    rd_len(&r, &v);
    struct point_rec p;
    if (!read_point(d, kind, v, &p))
      return false;
    const char *w = point_invalid(d, kind, why, &p);
    if (w) {
      reject(d, w);
    } else {
      put_point(d, m, kind, &p);
      if (over_budget(d))
        return false;
    }
    d->item++;
  }
  return true;
}

static bool decode_metric(struct decoder *d, struct metric_ctx *m, struct slice s)
{
  m->name = m->description = m->unit = slice_make("", 0);
  int kind = -1;
  struct slice data = { "", 0 };
  struct pbr r = pbr_of(s);
  uint32_t f, wt;
  int t;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    bool ok;
    switch (f) {
    case 1: ok = f_bytes(&r, wt, &m->name); break;
    case 2: ok = f_bytes(&r, wt, &m->description); break;
    case 3: ok = f_bytes(&r, wt, &m->unit); break;
    case 5: case 7: case 9: case 10: case 11:  /* the data oneof: the last one wins */
      ok = f_bytes(&r, wt, &data);
      kind = f == 5 ? GAUGE : f == 7 ? SUM : f == 9 ? HISTOGRAM : f == 10 ? EXP_HISTOGRAM : SUMMARY;
      break;
    case 12: {                                 /* metadata: not stored */
      struct slice v;
      ok = f_bytes(&r, wt, &v);
      break;
    }
    default: ok = rd_skip(&r, wt); break;
    }
    if (!ok)
      return malformed(d, "Metric", r.p);
  }
  if (t < 0)
    return malformed(d, "Metric", r.p);
  return kind < 0 || decode_metric_data(d, m, kind, data);  /* no data: no points to keep or reject */
}

static bool decode_metrics(struct decoder *d, struct slice body)
{
  struct metric_ctx m = { 0 };
  for (int k = 0; k < METRIC_KINDS; k++) {
    enum otel_table t = (enum otel_table)(OTEL_METRICS_GAUGE + k);
    m.blocks[k] = otel_block_create(d->out, t, k <= SUM ? rows_hint(body.len, 400) : 1);
    d->batch->blocks[t] = m.blocks[k];
  }
  bool ok = true;
  struct pbr req = pbr_of(body);
  uint32_t f, wt;
  int t = 0;
  while (ok && (t = rd_tag(&req, &f, &wt)) > 0) {
    struct slice rm, sm, item;
    if (f != 1) {
      ok = rd_skip(&req, wt) || malformed(d, "ExportMetricsServiceRequest", req.p);
      continue;
    }
    if (!f_bytes(&req, wt, &rm)) {
      ok = malformed(d, "ExportMetricsServiceRequest", req.p);
      break;
    }
    if (!(ok = read_header(d, rm, "ResourceMetrics", false, 2, NULL, &m.res_schema)))
      break;
    for (int k = 0; k < METRIC_KINDS; k++)
      m.res_row[k] = UINT32_MAX;
    struct pbr rr = pbr_of(rm);
    while (ok && next_item(&rr, &sm)) {
      if (!(ok = read_header(d, sm, "ScopeMetrics", true, 3, &m.scope, &m.scope_schema)))
        break;
      for (int k = 0; k < METRIC_KINDS; k++)
        m.scope_row[k] = UINT32_MAX;
      struct pbr sr = pbr_of(sm);
      while (ok && next_item(&sr, &item))
        ok = decode_metric(d, &m, item);
    }
  }
  if (ok && t < 0)
    ok = malformed(d, "ExportMetricsServiceRequest", req.p);
  for (int k = 0; k < METRIC_KINDS; k++)
    d->batch->accepted += m.blocks[k]->rows;
  return ok;
}

/* ---- entry points ---- */

static const ProtobufCMessageDescriptor *request_descriptor(enum otlp_signal s)
{
  switch (s) {
  case OTLP_TRACES: return &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor;
  case OTLP_LOGS: return &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
  case OTLP_METRICS: return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor;
  }
  return NULL;
}

int otlp_decode(struct arena *out, struct arena *scratch, enum otlp_signal signal, enum otlp_encoding encoding,
                struct slice tenant, const void *body, size_t len, struct otlp_batch *batch, struct error *err)
{
  memset(batch, 0, sizeof *batch);
  batch->rejection = "";
  struct arena own;
  if (!scratch) {
    arena_init(&own, 0);
    scratch = &own;
  }
  struct slice wire = slice_make(body ? body : "", body ? len : 0);
  int rc = 0;
  if (encoding == OTLP_JSON) {
    struct json_value root;
    ProtobufCMessage *msg;
    if ((rc = json_parse(scratch, body, len, OTLP_JSON_DEPTH_MAX, &root, err)) ||
        (rc = otlp_json_to_message(scratch, request_descriptor(signal), &root, &msg, err)))
      goto out;
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *packed = arena_alloc(scratch, n + 1);
    wire = slice_make((const char *)packed, protobuf_c_message_pack(msg, packed));
  }

  struct decoder d = { .out = out, .scratch = scratch, .tenant = tenant, .batch = batch, .err = err };
  d.body = wire.ptr;
  d.out_start = out->used_bytes;
  d.kvs.elem = d.sub_kvs.elem = d.res_kvs.elem = d.scope_kvs.elem = sizeof(struct kv_rec);
  d.events.elem = sizeof(struct event_rec);
  d.links.elem = sizeof(struct link_rec);
  d.exemplars.elem = sizeof(struct exemplar_rec);
  d.u64a.elem = d.u64b.elem = d.f64a.elem = 8;
  buf_init(&d.text);
  buf_init(&d.service);
  bool ok;
  switch (signal) {
  case OTLP_TRACES:
    d.item_kind = "span";
    ok = decode_traces(&d, wire);
    break;
  case OTLP_LOGS:
    d.item_kind = "log record";
    ok = decode_logs(&d, wire);
    break;
  default:
    d.item_kind = "data point";
    ok = decode_metrics(&d, wire);
    break;
  }
  finish_rejection(&d);
  rc = ok ? 0 : d.rc ? d.rc : error_set(err, ERR_LOGICAL_ERROR, "OTLP: decoding failed without a reason");
  buf_free(&d.text);
  buf_free(&d.service);
  struct vec *vecs[] = { &d.kvs, &d.sub_kvs, &d.res_kvs, &d.scope_kvs, &d.events, &d.links, &d.exemplars,
                         &d.u64a, &d.u64b, &d.f64a };
  for (size_t i = 0; i < sizeof vecs / sizeof *vecs; i++)
    mem_free(vecs[i]->data);
out:
  if (scratch == &own)
    arena_destroy(&own);
  return rc;
}

/* ---- responses ---- */

void otlp_response_encode(enum otlp_signal signal, enum otlp_encoding encoding, const struct otlp_batch *batch,
                          struct buf *out)
{
  const char *msg = batch->rejection ? batch->rejection : "";
  bool partial = batch->rejected > 0 || *msg;
  if (encoding == OTLP_JSON) {
    static const char *const counts[] = { "rejectedSpans", "rejectedLogRecords", "rejectedDataPoints" };
    if (!partial) {
      buf_append_cstr(out, "{}");
      return;
    }
    buf_printf(out, "{\"partialSuccess\":{\"%s\":\"%llu\",\"errorMessage\":", counts[signal],
               (unsigned long long)batch->rejected);
    text_json_string(out, msg, strlen(msg));
    buf_append_cstr(out, "}}");
    return;
  }
  Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse tr;
  Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess tp;
  Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse lr;
  Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess lp;
  Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse mr;
  Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess mp;
  ProtobufCMessage *m;
  char *text = (char *)msg;
  switch (signal) {
  case OTLP_TRACES:
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__init(&tr);
    opentelemetry__proto__collector__trace__v1__export_trace_partial_success__init(&tp);
    tp.rejected_spans = (int64_t)batch->rejected;
    tp.error_message = text;
    tr.partial_success = partial ? &tp : NULL;
    m = &tr.base;
    break;
  case OTLP_LOGS:
    opentelemetry__proto__collector__logs__v1__export_logs_service_response__init(&lr);
    opentelemetry__proto__collector__logs__v1__export_logs_partial_success__init(&lp);
    lp.rejected_log_records = (int64_t)batch->rejected;
    lp.error_message = text;
    lr.partial_success = partial ? &lp : NULL;
    m = &lr.base;
    break;
  default:
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__init(&mr);
    opentelemetry__proto__collector__metrics__v1__export_metrics_partial_success__init(&mp);
    mp.rejected_data_points = (int64_t)batch->rejected;
    mp.error_message = text;
    mr.partial_success = partial ? &mp : NULL;
    m = &mr.base;
    break;
  }
  size_t n = protobuf_c_message_get_packed_size(m);
  buf_reserve(out, n);
  out->len += protobuf_c_message_pack(m, (uint8_t *)out->data + out->len);
}
