/* Skip indexes: building entries from the engine's input columns (one
 * entry per `granularity` granules), their byte layout, and the reader-side
 * questions the engine asks to prune granules. Bloom hashing is XXH3-128
 * with double hashing (position i = h1 + i * h2 mod m).
 *
 * Entry layouts (docs/part-format.md §7):
 *   minmax:        u8 has, [bytes min, bytes max]
 *   set:           u8 overflow, [varint n, n × bytes value]
 *   bloom_filter:  varint m_bits, [u8 k, m_bits / 8 bytes]
 *   tokenbf/ngram: size_bytes bytes
 * Values are hashed as skip_index_value_bytes gives them; Array inputs
 * contribute their elements; NULLs are skipped. Building hashes a value
 * once per add call where it can tell cheaply that it repeats (the same
 * dictionary key, a String still in a small table of recent values, or the
 * same bytes as the previous row's value at that position): a repeat
 * changes no entry layout above. */
#include "storage/storage_int.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "base/alloc.h"

enum { RECENT_SLOTS = 256 };

struct hpair {
  uint64_t h1, h2;
};

struct skip_builder {
  struct skip_index_def def;
  struct buf data;
  uint32_t entries;
  struct arena arena;            /* current entry's min/max */
  struct column *mn, *mx;
  struct hpair *set;             /* bloom/set: distinct hashes, open addressing (h1 == 0 && h2 == 0 empty) */
  uint32_t set_cap, set_used;
  uint32_t *slots;               /* set_used occupied slots of set, to visit and clear only those */
  uint8_t *seen;                 /* per dictionary key: met in this add call */
  uint32_t seen_cap;
  uint32_t *touched;             /* keys set in seen, to clear them */
  uint32_t touched_cap;
  struct slice recent[RECENT_SLOTS];  /* values added in this add call, by a cheap hash of their bytes */
  struct buf set_vals;           /* set: values as varint length + bytes */
  bool overflow;
  uint8_t *bits;                 /* tokenbf/ngrambf */
};

struct skip_index {
  struct skip_index_def def;
  uint32_t entries;
  const struct datatype *value_type;
  struct column **minmax;        /* per entry: 2 rows or NULL */
  uint8_t *overflow;
  struct slice **set_vals;
  uint32_t *set_count;
  uint64_t *m_bits;
  uint8_t *k;
  const uint8_t **bits;
};

bool skip_index_type_valid(const struct skip_index_def *d)
{
  if (!d->input_type || d->granularity < 1 || d->granularity > (1u << 20))
    return false;
  switch (d->type) {
  case SKIP_INDEX_MINMAX:
  case SKIP_INDEX_SET:
    return true;
  case SKIP_INDEX_BLOOM_FILTER:
    return d->false_positive_rate >= 0 && d->false_positive_rate < 1;
  case SKIP_INDEX_NGRAMBF:
    if (d->ngram_n < 1 || d->ngram_n > 32)
      return false;
    /* fall through */
  case SKIP_INDEX_TOKENBF:
    return d->size_bytes >= 1 && d->size_bytes <= (64u << 20) && d->hash_count >= 1 && d->hash_count <= 64;
  default:
    return false;
  }
}

/* ---- values, tokens, n-grams ---- */

bool skip_index_value_bytes(const struct column *c, uint32_t row, struct slice *out)
{
  if (column_is_null(c, row))
    return false;
  *out = column_get_bytes(c, row);
  return true;
}

static bool token_char(uint8_t ch) { return ch >= 0x80 || (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'); }

void skip_index_tokens(const char *s, size_t n, void (*fn)(void *ctx, const char *p, size_t len), void *ctx)
{
  size_t i = 0;
  while (i < n) {
    while (i < n && !token_char((uint8_t)s[i]))
      i++;
    size_t start = i;
    while (i < n && token_char((uint8_t)s[i]))
      i++;
    if (i > start)
      fn(ctx, s + start, i - start);
  }
}

/* n-grams of UTF-8 code points. */
static void ngrams(const char *s, size_t len, uint32_t n, void (*fn)(void *ctx, const char *p, size_t len), void *ctx)
{
  size_t starts[64];
  /* ring of the last n+1 code point starts */
  size_t count = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && ((uint8_t)s[i] & 0xC0) == 0x80)
      continue;
    starts[count % 64] = i;
    count++;
    if (count > n) {
      size_t from = starts[(count - 1 - n) % 64];
      fn(ctx, s + from, i - from);
    }
  }
}

static struct hpair hash_of(const void *p, size_t n, uint64_t seed)
{
  XXH128_hash_t h = XXH3_128bits_withSeed(p, n, seed);
  return (struct hpair){ h.low64, h.high64 | 1 };
}

/* v % m with a precomputed inv = UINT64_MAX / m: the estimated quotient is
 * low by at most 2, so the remainder needs at most two corrections. */
static inline uint64_t mod_by(uint64_t v, uint64_t m, uint64_t inv)
{
  uint64_t q = (uint64_t)(((unsigned __int128)v * inv) >> 64);
  uint64_t r = v - q * m;
  while (r >= m)
    r -= m;
  return r;
}

static void bloom_set_inv(uint8_t *bits, uint64_t m, uint64_t inv, uint32_t k, struct hpair h)
{
  for (uint32_t i = 0; i < k; i++) {
    uint64_t pos = mod_by(h.h1 + (uint64_t)i * h.h2, m, inv);
    bits[pos >> 3] |= (uint8_t)(1u << (pos & 7));
  }
}

static void bloom_set(uint8_t *bits, uint64_t m, uint32_t k, struct hpair h)
{
  bloom_set_inv(bits, m, UINT64_MAX / m, k, h);
}

static bool bloom_test(const uint8_t *bits, uint64_t m, uint32_t k, struct hpair h)
{
  for (uint32_t i = 0; i < k; i++) {
    uint64_t pos = (h.h1 + (uint64_t)i * h.h2) % m;
    if (!(bits[pos >> 3] & (1u << (pos & 7))))
      return false;
  }
  return true;
}

/* ---- building ---- */

struct skip_builder *skip_builder_create(const struct skip_index_def *def)
{
  struct skip_builder *b = mem_calloc(1, sizeof *b);
  b->def = *def;
  if (b->def.type == SKIP_INDEX_BLOOM_FILTER && b->def.false_positive_rate <= 0)
    b->def.false_positive_rate = 0.025;
  buf_init(&b->data);
  buf_init(&b->set_vals);
  arena_init(&b->arena, 0);
  if (def->type == SKIP_INDEX_TOKENBF || def->type == SKIP_INDEX_NGRAMBF)
    b->bits = mem_calloc(def->size_bytes, 1);
  return b;
}

void skip_builder_destroy(struct skip_builder *b)
{
  if (!b)
    return;
  buf_free(&b->data);
  buf_free(&b->set_vals);
  arena_destroy(&b->arena);
  mem_free(b->set);
  mem_free(b->slots);
  mem_free(b->seen);
  mem_free(b->touched);
  mem_free(b->bits);
  mem_free(b);
}

/* Adds a distinct hash; returns true if it was new. */
static bool set_add(struct skip_builder *b, struct hpair h)
{
  if ((uint64_t)(b->set_used + 1) * 2 > b->set_cap) {
    uint32_t cap = b->set_cap ? b->set_cap * 2 : 256;
    struct hpair *n = mem_calloc(cap, sizeof *n);
    uint32_t *slots = mem_alloc((size_t)cap / 2 * sizeof *slots);
    for (uint32_t j = 0; j < b->set_used; j++) {
      struct hpair o = b->set[b->slots[j]];
      uint32_t s = (uint32_t)o.h1 & (cap - 1);
      while (n[s].h2)
        s = (s + 1) & (cap - 1);
      n[s] = o;
      slots[j] = s;
    }
    mem_free(b->set);
    mem_free(b->slots);
    b->set = n;
    b->slots = slots;
    b->set_cap = cap;
  }
  uint32_t s = (uint32_t)h.h1 & (b->set_cap - 1);
  while (b->set[s].h2) {   /* h2 is odd, never 0: 0 marks empty */
    if (b->set[s].h1 == h.h1 && b->set[s].h2 == h.h2)
      return false;
    s = (s + 1) & (b->set_cap - 1);
  }
  b->set[s] = h;
  b->slots[b->set_used++] = s;
  return true;
}

static void add_token(void *ctx, const char *p, size_t n)
{
  struct skip_builder *b = ctx;
  bloom_set(b->bits, (uint64_t)b->def.size_bytes * 8, b->def.hash_count, hash_of(p, n, b->def.seed));
}

static void add_value(struct skip_builder *b, struct slice v)
{
  switch (b->def.type) {
  case SKIP_INDEX_SET:
    if (b->overflow)
      return;
    if (set_add(b, hash_of(v.ptr, v.len, 0))) {
      if (b->def.max_rows && b->set_used > b->def.max_rows) {
        b->overflow = true;
        return;
      }
      buf_put_bytes(&b->set_vals, v.ptr, v.len);
    }
    return;
  case SKIP_INDEX_BLOOM_FILTER:
    set_add(b, hash_of(v.ptr, v.len, 0));
    return;
  case SKIP_INDEX_TOKENBF:
    skip_index_tokens(v.ptr, v.len, add_token, b);
    return;
  case SKIP_INDEX_NGRAMBF:
    ngrams(v.ptr, v.len, b->def.ngram_n, add_token, b);
    return;
  default:
    return;
  }
}

/* Integer value of row r of a plain integer column of width w: unsigned
 * values as they are, signed ones with the sign bit flipped, so both order
 * as column_compare_rows orders them. */
static inline uint64_t int_code(const struct column *c, uint32_t r, size_t w, bool is_signed)
{
  const uint8_t *p = (const uint8_t *)c->data + (size_t)r * w;
  uint64_t v;
  switch (w) {
  case 1: v = *p; break;
  case 2: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
  case 4: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
  default: memcpy(&v, p, 8); break;
  }
  return is_signed ? v ^ (1ull << (w * 8 - 1)) : v;
}

/* The integer fast path of column_extremes: false for other columns. */
static bool int_column_extremes(const struct column *c, uint32_t start, uint32_t count, int64_t *lo, int64_t *hi)
{
  enum type_id id = c->type->id;
  bool is_signed = (id >= TYPE_INT8 && id <= TYPE_INT64) || id == TYPE_DATETIME64;
  if (c->is_const || !count || !(is_signed || (id >= TYPE_UINT8 && id <= TYPE_UINT64)))
    return false;
  size_t w = datatype_fixed_bytes(c->type);
  if (w != 1 && w != 2 && w != 4 && w != 8)
    return false;
  uint64_t mn = int_code(c, start, w, is_signed), mx = mn;
  *lo = *hi = start;
  for (uint32_t r = start + 1; r < start + count; r++) {
    uint64_t v = int_code(c, r, w, is_signed);
    if (v < mn) {
      mn = v;
      *lo = r;
    }
    if (v > mx) {
      mx = v;
      *hi = r;
    }
  }
  return true;
}

bool column_extremes(const struct column *c, uint32_t start, uint32_t count, int64_t *lo, int64_t *hi)
{
  *lo = *hi = -1;
  if (int_column_extremes(c, start, count, lo, hi))
    return true;
  for (uint32_t r = start; r < start + count; r++) {
    if (column_is_null(c, r))
      continue;
    if (*lo < 0 || column_compare_rows(c, r, c, (uint32_t)*lo, false) < 0)
      *lo = r;
    if (*hi < 0 || column_compare_rows(c, r, c, (uint32_t)*hi, false) > 0)
      *hi = r;
  }
  return *lo >= 0;
}

static void add_minmax(struct skip_builder *b, const struct column *c, uint32_t start, uint32_t count)
{
  int64_t lo, hi;
  if (!column_extremes(c, start, count, &lo, &hi))
    return;
  const struct datatype *t = datatype_unwrap(c->type);
  if (!b->mn || column_compare_rows(c, (uint32_t)lo, b->mn, 0, false) < 0) {
    b->mn = column_create(&b->arena, t, 1);
    struct slice v = column_get_bytes(c, (uint32_t)lo);
    column_append_bytes(b->mn, v.ptr, v.len);
  }
  if (!b->mx || column_compare_rows(c, (uint32_t)hi, b->mx, 0, false) > 0) {
    b->mx = column_create(&b->arena, t, 1);
    struct slice v = column_get_bytes(c, (uint32_t)hi);
    column_append_bytes(b->mx, v.ptr, v.len);
  }
}

/* Row r of a plain String column, as column_get_bytes gives it. */
static inline struct slice string_at(const struct column *c, uint32_t r)
{
  uint64_t s = r ? c->offsets[r - 1] : 0;
  if (!c->chars)
    return slice_make("", 0);
  return slice_make(c->chars + s, (size_t)(c->offsets[r] - s));
}

static void add_one(struct skip_builder *b, const struct column *c, uint32_t r)
{
  struct slice v;
  if (c->type->id == TYPE_STRING && !c->is_const)
    add_value(b, string_at(c, r));
  else if (skip_index_value_bytes(c, r, &v))
    add_value(b, v);
}

/* LowCardinality values: each dictionary key once per call. */
static void add_dict_keys(struct skip_builder *b, const struct column *c, uint32_t start, uint32_t count)
{
  uint32_t dict_rows = c->children[0]->rows;
  if (b->seen_cap < dict_rows) {
    mem_free(b->seen);
    b->seen = mem_calloc(dict_rows, 1);
    b->seen_cap = dict_rows;
  }
  const uint32_t *keys = c->data;
  uint32_t touched = 0;
  for (uint32_t r = start; r < start + count; r++) {
    uint32_t k = keys[r];
    if (k < dict_rows && b->seen[k])
      continue;
    add_one(b, c, r);
    if (k >= dict_rows)
      continue;
    b->seen[k] = 1;
    if (touched == b->touched_cap) {
      b->touched_cap = b->touched_cap ? b->touched_cap * 2 : 256;
      b->touched = mem_realloc(b->touched, (size_t)b->touched_cap * sizeof *b->touched);
    }
    b->touched[touched++] = k;
  }
  for (uint32_t i = 0; i < touched; i++)
    b->seen[b->touched[i]] = 0;
}

/* Whether row r of c holds the same non-NULL bytes as row p. */
static bool same_value(const struct column *c, uint32_t r, uint32_t p)
{
  struct slice x, y;
  if (c->type->id == TYPE_STRING && !c->is_const) {
    x = string_at(c, r);
    y = string_at(c, p);
    return x.len == y.len && (!x.len || memcmp(x.ptr, y.ptr, x.len) == 0);
  }
  if (!skip_index_value_bytes(c, r, &x) || !skip_index_value_bytes(c, p, &y))
    return false;
  return x.len == y.len && memcmp(x.ptr, y.ptr, x.len) == 0;
}

/* Slot in recent[] for a String value: its length and outer 8-byte words. */
static inline uint32_t recent_slot(struct slice v)
{
  uint64_t x = 0, y = 0;
  if (v.len >= 8) {
    memcpy(&x, v.ptr, 8);
    memcpy(&y, v.ptr + v.len - 8, 8);
  } else {
    for (size_t i = 0; i < v.len; i++)
      x |= (uint64_t)(uint8_t)v.ptr[i] << (8 * i);
  }
  uint64_t h = (x ^ (y * 0x9E3779B97F4A7C15ull) ^ v.len) * 0xFF51AFD7ED558CCDull;
  return (uint32_t)(h >> 56);
}

/* Row r of a plain String column, unless an equal value went in earlier in
 * this call (as far as recent[] remembers). */
static inline void add_string(struct skip_builder *b, const struct column *c, uint32_t r)
{
  struct slice v = string_at(c, r);
  struct slice *seen = &b->recent[recent_slot(v)];
  if (seen->ptr && seen->len == v.len && (!v.len || memcmp(seen->ptr, v.ptr, v.len) == 0))
    return;
  *seen = v;
  add_value(b, v);
}

/* Rows of a plain column: a value equal to the previous row's is skipped
 * (Strings: one remembered from earlier in the call, too). */
static void add_rows(struct skip_builder *b, const struct column *c, uint32_t start, uint32_t count)
{
  if (c->type->id == TYPE_STRING && !c->is_const) {
    memset(b->recent, 0, sizeof b->recent);
    for (uint32_t r = start; r < start + count; r++)
      add_string(b, c, r);
    return;
  }
  for (uint32_t r = start; r < start + count; r++)
    if (r == start || !same_value(c, r, r - 1))
      add_one(b, c, r);
}

/* Elements of Array rows: element j equal to element j of the previous row
 * (rows of one width) is skipped. */
static void add_array_elements(struct skip_builder *b, const struct column *a, uint32_t start, uint32_t count)
{
  const struct column *c = a->children[0];
  uint64_t prev_s = 0, prev_w = UINT64_MAX;
  for (uint32_t row = start; row < start + count; row++) {
    uint64_t s = row ? a->offsets[row - 1] : 0, e = a->offsets[row];
    for (uint64_t i = s; i < e; i++)
      if (prev_w != e - s || !same_value(c, (uint32_t)i, (uint32_t)(prev_s + (i - s))))
        add_one(b, c, (uint32_t)i);
    prev_s = s;
    prev_w = e - s;
  }
}

void skip_builder_add(struct skip_builder *b, const struct column *c, uint32_t start, uint32_t count)
{
  const struct column *arr = NULL;
  uint32_t arow = start, arows = count;
  if (c->type->id == TYPE_ARRAY) {
    arr = c;
    uint64_t s = start ? c->offsets[start - 1] : 0, e = count ? c->offsets[start + count - 1] : s;
    c = c->children[0];
    start = (uint32_t)s;
    count = (uint32_t)(e - s);
  }
  const struct datatype *vt = datatype_unwrap(c->type);
  if (datatype_fixed_bytes(vt) == 0 && vt->id != TYPE_STRING)
    return;  /* composite values are not indexed */
  if (b->def.type == SKIP_INDEX_MINMAX) {
    add_minmax(b, c, start, count);
    return;
  }
  if (c->type->id == TYPE_LOW_CARDINALITY)
    add_dict_keys(b, c, start, count);
  else if (arr && (c->type->id != TYPE_STRING || c->is_const))
    add_array_elements(b, arr, arow, arows);
  else
    add_rows(b, c, start, count);
}

void skip_builder_close_entry(struct skip_builder *b)
{
  struct buf *o = &b->data;
  switch (b->def.type) {
  case SKIP_INDEX_MINMAX:
    buf_put_u8(o, b->mn != NULL);
    if (b->mn) {
      struct slice lo = column_get_bytes(b->mn, 0), hi = column_get_bytes(b->mx, 0);
      buf_put_bytes(o, lo.ptr, lo.len);
      buf_put_bytes(o, hi.ptr, hi.len);
    }
    b->mn = b->mx = NULL;
    arena_reset(&b->arena);
    break;
  case SKIP_INDEX_SET:
    buf_put_u8(o, b->overflow);
    if (!b->overflow) {
      buf_put_varint(o, b->set_used);
      buf_append(o, b->set_vals.data, b->set_vals.len);
    }
    break;
  case SKIP_INDEX_BLOOM_FILTER: {
    uint64_t n = b->set_used;
    if (!n) {
      buf_put_varint(o, 0);
      break;
    }
    double p = b->def.false_positive_rate;
    double mf = ceil(-(double)n * log(p) / (M_LN2 * M_LN2));
    uint64_t m = ((uint64_t)mf + 63) / 64 * 64;
    uint32_t k = (uint32_t)lround((double)m / (double)n * M_LN2);
    if (k < 1)
      k = 1;
    if (k > 16)
      k = 16;
    buf_put_varint(o, m);
    buf_put_u8(o, (uint8_t)k);
    buf_reserve(o, m / 8);
    uint8_t *bits = (uint8_t *)o->data + o->len;
    memset(bits, 0, m / 8);
    uint64_t inv = UINT64_MAX / m;
    for (uint32_t j = 0; j < b->set_used; j++)
      bloom_set_inv(bits, m, inv, k, b->set[b->slots[j]]);
    o->len += m / 8;
    break;
  }
  case SKIP_INDEX_TOKENBF:
  case SKIP_INDEX_NGRAMBF:
    buf_append(o, b->bits, b->def.size_bytes);
    memset(b->bits, 0, b->def.size_bytes);
    break;
  }
  for (uint32_t j = 0; j < b->set_used; j++)
    b->set[b->slots[j]] = (struct hpair){ 0, 0 };
  b->set_used = 0;
  b->overflow = false;
  buf_reset(&b->set_vals);
  b->entries++;
}

uint32_t skip_builder_entries(const struct skip_builder *b) { return b->entries; }
struct buf *skip_builder_data(struct skip_builder *b) { return &b->data; }

/* ---- reading ---- */

static const struct datatype *value_type_of(const struct datatype *t)
{
  if (t->id == TYPE_ARRAY && t->child_count == 1)
    t = t->children[0];
  return datatype_unwrap(t);
}

struct skip_index *skip_index_parse(const struct skip_index_def *def, uint32_t entries, const uint8_t *p, size_t n,
                                    struct arena *a)
{
  if (!skip_index_type_valid(def) || entries > n)
    return NULL;
  struct skip_index *ix = arena_new(a, struct skip_index);
  ix->def = *def;
  ix->entries = entries;
  ix->value_type = value_type_of(def->input_type);
  struct rd r = rd_make(p, n);
  size_t cnt = entries + 1;
  switch (def->type) {
  case SKIP_INDEX_MINMAX: {
    ix->minmax = arena_new_array(a, struct column *, cnt);
    size_t fb = datatype_fixed_bytes(ix->value_type);
    bool usable = ix->value_type->id == TYPE_STRING || (fb && ix->value_type->id != TYPE_LOW_CARDINALITY);
    for (uint32_t e = 0; e < entries; e++) {
      if (!rd_u8(&r))
        continue;
      struct slice lo = rd_bytes(&r), hi = rd_bytes(&r);
      if (r.bad)
        return NULL;
      if (!usable || (fb && (lo.len != fb || hi.len != fb)))
        continue;  /* unknown layout: the entry cannot prune */
      struct column *mm = column_create(a, ix->value_type, 2);
      column_append_bytes(mm, lo.ptr, lo.len);
      column_append_bytes(mm, hi.ptr, hi.len);
      ix->minmax[e] = mm;
    }
    break;
  }
  case SKIP_INDEX_SET:
    ix->overflow = arena_new_array(a, uint8_t, cnt);
    ix->set_vals = arena_new_array(a, struct slice *, cnt);
    ix->set_count = arena_new_array(a, uint32_t, cnt);
    for (uint32_t e = 0; e < entries; e++) {
      ix->overflow[e] = rd_u8(&r) != 0;
      if (ix->overflow[e])
        continue;
      uint64_t k = rd_varint_max(&r, rd_left(&r));
      if (r.bad)
        return NULL;
      ix->set_count[e] = (uint32_t)k;
      ix->set_vals[e] = arena_new_array(a, struct slice, k + 1);
      for (uint64_t i = 0; i < k; i++)
        ix->set_vals[e][i] = rd_bytes(&r);
    }
    break;
  case SKIP_INDEX_BLOOM_FILTER:
    ix->m_bits = arena_new_array(a, uint64_t, cnt);
    ix->k = arena_new_array(a, uint8_t, cnt);
    ix->bits = arena_new_array(a, const uint8_t *, cnt);
    for (uint32_t e = 0; e < entries; e++) {
      uint64_t m = rd_varint_max(&r, (uint64_t)rd_left(&r) * 8);
      ix->m_bits[e] = m;
      if (!m)
        continue;
      ix->k[e] = rd_u8(&r);
      if (m % 8 || ix->k[e] < 1 || ix->k[e] > 64)
        return NULL;
      ix->bits[e] = rd_take(&r, m / 8);
    }
    break;
  case SKIP_INDEX_TOKENBF:
  case SKIP_INDEX_NGRAMBF:
    ix->bits = arena_new_array(a, const uint8_t *, cnt);
    for (uint32_t e = 0; e < entries; e++)
      ix->bits[e] = rd_take(&r, def->size_bytes);
    break;
  }
  if (r.bad || rd_left(&r) != 0)
    return NULL;
  return ix;
}

const struct skip_index_def *skip_index_def(const struct skip_index *ix) { return &ix->def; }
uint32_t skip_index_entry_count(const struct skip_index *ix) { return ix->entries; }

struct probe {
  const struct skip_index *ix;
  uint32_t e;
  bool all;
};

static void probe_token(void *ctx, const char *p, size_t n)
{
  struct probe *pr = ctx;
  if (pr->all && !bloom_test(pr->ix->bits[pr->e], (uint64_t)pr->ix->def.size_bytes * 8, pr->ix->def.hash_count,
                             hash_of(p, n, pr->ix->def.seed)))
    pr->all = false;
}

bool skip_index_may_contain_equal(const struct skip_index *ix, uint32_t e, const void *value, size_t len)
{
  if (e >= ix->entries)
    return true;
  switch (ix->def.type) {
  case SKIP_INDEX_MINMAX: {
    const struct column *mm = ix->minmax[e];
    if (!mm)
      return true;
    size_t fb = datatype_fixed_bytes(ix->value_type);
    if (fb && fb != len)
      return true;
    struct arena a;
    arena_init(&a, 0);
    struct column *v = column_create(&a, ix->value_type, 1);
    column_append_bytes(v, value, len);
    bool in = column_compare_rows(mm, 0, v, 0, false) <= 0 && column_compare_rows(mm, 1, v, 0, false) >= 0;
    arena_destroy(&a);
    return in;
  }
  case SKIP_INDEX_SET:
    if (ix->overflow[e])
      return true;
    for (uint32_t i = 0; i < ix->set_count[e]; i++)
      if (ix->set_vals[e][i].len == len && memcmp(ix->set_vals[e][i].ptr, value, len) == 0)
        return true;
    return false;
  case SKIP_INDEX_BLOOM_FILTER:
    if (!ix->m_bits[e])
      return false;  /* no non-NULL value in the entry */
    return bloom_test(ix->bits[e], ix->m_bits[e], ix->k[e], hash_of(value, len, 0));
  case SKIP_INDEX_TOKENBF: {
    struct probe pr = { ix, e, true };
    skip_index_tokens(value, len, probe_token, &pr);
    return pr.all;
  }
  case SKIP_INDEX_NGRAMBF: {
    struct probe pr = { ix, e, true };
    ngrams(value, len, ix->def.ngram_n, probe_token, &pr);
    return pr.all;
  }
  }
  return true;
}

bool skip_index_may_contain_token(const struct skip_index *ix, uint32_t e, const void *token, size_t len)
{
  if (e >= ix->entries)
    return true;
  if (ix->def.type == SKIP_INDEX_TOKENBF) {
    struct probe pr = { ix, e, true };
    probe_token(&pr, token, len);
    return pr.all;
  }
  if (ix->def.type == SKIP_INDEX_NGRAMBF) {
    struct probe pr = { ix, e, true };
    ngrams(token, len, ix->def.ngram_n, probe_token, &pr);
    return pr.all;
  }
  return true;
}

bool skip_index_may_contain_substring(const struct skip_index *ix, uint32_t e, const void *needle, size_t len)
{
  if (e >= ix->entries)
    return true;
  struct probe pr = { ix, e, true };
  if (ix->def.type == SKIP_INDEX_NGRAMBF) {
    ngrams(needle, len, ix->def.ngram_n, probe_token, &pr);
    return pr.all;
  }
  if (ix->def.type == SKIP_INDEX_TOKENBF) {
    /* only tokens with a separator on both sides inside the needle are whole */
    const char *s = needle;
    size_t i = 0;
    while (i < len && pr.all) {
      while (i < len && !token_char((uint8_t)s[i]))
        i++;
      size_t start = i;
      while (i < len && token_char((uint8_t)s[i]))
        i++;
      if (i > start && start > 0 && i < len)
        probe_token(&pr, s + start, i - start);
    }
    return pr.all;
  }
  return true;
}

bool skip_index_minmax(const struct skip_index *ix, uint32_t e, const struct column **minmax)
{
  if (ix->def.type != SKIP_INDEX_MINMAX || e >= ix->entries || !ix->minmax[e])
    return false;
  *minmax = ix->minmax[e];
  return true;
}

bool minmax_range_overlaps(const struct column *mm, const struct column *lo, uint32_t lo_row, bool lo_inclusive,
                           const struct column *hi, uint32_t hi_row, bool hi_inclusive)
{
  if (!mm || mm->rows < 2)
    return true;
  if (lo) {
    int c = column_compare_rows(mm, 1, lo, lo_row, false);   /* max vs lo */
    if (c < 0 || (c == 0 && !lo_inclusive))
      return false;
  }
  if (hi) {
    int c = column_compare_rows(mm, 0, hi, hi_row, false);   /* min vs hi */
    if (c > 0 || (c == 0 && !hi_inclusive))
      return false;
  }
  return true;
}
