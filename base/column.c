/* In-memory columns: creation, appending, reading, whole-column selection,
 * comparison/hashing and ClickHouse's text rendering; see column.h for the
 * layout of each type.
 *
 * Invariants:
 *  1. A non-const column stores `rows` rows; a const one stores exactly one
 *     row (stored_rows) whatever `rows` says. Children are never const.
 *  2. `capacity` counts rows that fit in data/offsets/nulls; chars grow on
 *     their own (chars_cap).
 *  3. LowCardinality dictionaries hold each value once and key 0 is the
 *     default value (NULL for LowCardinality(Nullable(T))); dict_index, when
 *     present and as large as the dictionary, maps values to keys. */
#include "base/column.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/alloc.h"

struct column_dict_index {
  uint32_t *slots;       /* key + 1; 0 = empty */
  uint32_t slot_count;   /* power of two */
  uint32_t key_count;    /* dictionary rows indexed */
};

static uint32_t stored_rows(const struct column *c) { return c->is_const ? 1 : c->rows; }

static size_t value_bytes(const struct column *c)
{
  return datatype_fixed_bytes(c->type);
}


static bool has_offsets(const struct datatype *t)
{
  return t->id == TYPE_STRING || t->id == TYPE_ARRAY || t->id == TYPE_MAP;
}

static uint64_t row_start(const struct column *c, uint32_t row) { return row ? c->offsets[row - 1] : 0; }

/* ---- creation ---- */

static void grow(struct column *c, uint32_t need)
{
  if (need <= c->capacity)
    return;
  uint32_t cap = c->capacity ? c->capacity : 8;
  while (cap < need)
    cap = cap > UINT32_MAX / 2 ? need : cap * 2;
  const struct datatype *t = c->type;
  size_t fb = value_bytes(c);
  if (fb)
    c->data = arena_realloc(c->arena, c->data, (size_t)c->capacity * fb, (size_t)cap * fb);
  if (has_offsets(t))
    c->offsets = arena_realloc(c->arena, c->offsets, (size_t)c->capacity * 8, (size_t)cap * 8);
  if (t->id == TYPE_NULLABLE)
    c->nulls = arena_realloc(c->arena, c->nulls, c->capacity, cap);
  c->capacity = cap;
}

static void chars_grow(struct column *c, uint64_t extra)
{
  uint64_t need = c->chars_len + extra;
  if (need <= c->chars_cap)
    return;
  uint64_t cap = c->chars_cap ? c->chars_cap : 64;
  while (cap < need)
    cap *= 2;
  c->chars = arena_realloc(c->arena, c->chars, c->chars_cap, cap);
  c->chars_cap = cap;
}

struct column *column_create(struct arena *a, const struct datatype *type, uint32_t capacity)
{
  struct column *c = arena_new(a, struct column);
  c->type = type;
  c->arena = a;
  switch (type->id) {
  case TYPE_ARRAY:
  case TYPE_NULLABLE:
    c->child_count = 1;
    c->children = arena_new_array(a, struct column *, 1);
    c->children[0] = column_create(a, type->children[0], capacity);
    break;
  case TYPE_MAP:
    c->child_count = 2;
    c->children = arena_new_array(a, struct column *, 2);
    c->children[0] = column_create(a, type->children[0], capacity);
    c->children[1] = column_create(a, type->children[1], capacity);
    break;
  case TYPE_TUPLE:
  case TYPE_NESTED:
    c->child_count = type->child_count;
    c->children = arena_new_array(a, struct column *, type->child_count ? type->child_count : 1);
    for (uint32_t i = 0; i < type->child_count; i++)
      c->children[i] = column_create(a, type->children[i], capacity);
    break;
  case TYPE_LOW_CARDINALITY:
    c->child_count = 1;
    c->children = arena_new_array(a, struct column *, 1);
    c->children[0] = column_create(a, type->children[0], 16);
    column_append_default(c->children[0]);
    break;
  case TYPE_STRING:
    /* Never NULL, so empty values are valid {ptr, 0} slices that memcpy
     * and friends may be handed without a special case. */
    chars_grow(c, 1);
    break;
  default:
    break;
  }
  grow(c, capacity);
  return c;
}

void column_reserve(struct column *c, uint32_t rows)
{
  grow(c, c->rows + rows);
}

struct block *block_create(struct arena *a, uint32_t column_count)
{
  struct block *b = arena_new(a, struct block);
  b->column_count = column_count;
  b->columns = arena_new_array(a, struct column *, column_count ? column_count : 1);
  b->names = arena_new_array(a, const char *, column_count ? column_count : 1);
  return b;
}

/* ---- LowCardinality dictionary ---- */

static void dict_index_insert(struct column_dict_index *ix, const struct column *dict, uint32_t key)
{
  uint32_t mask = ix->slot_count - 1;
  uint32_t s = (uint32_t)column_hash_row(dict, key, 0) & mask;
  while (ix->slots[s])
    s = (s + 1) & mask;
  ix->slots[s] = key + 1;
}

/* The index over dictionary keys [0, keys); rebuilt when stale or half full. */
static struct column_dict_index *dict_index_get(struct column *lc, uint32_t keys)
{
  const struct column *dict = lc->children[0];
  struct column_dict_index *ix = lc->dict_index;
  if (ix && ix->key_count == keys && ix->key_count * 2 < ix->slot_count)
    return ix;
  if (!ix)
    ix = lc->dict_index = arena_new(lc->arena, struct column_dict_index);
  uint32_t slots = 64;
  while (slots < keys * 4u)
    slots *= 2;
  ix->slots = arena_calloc(lc->arena, slots, sizeof *ix->slots);
  ix->slot_count = slots;
  for (uint32_t k = 0; k < keys; k++)
    dict_index_insert(ix, dict, k);
  ix->key_count = keys;
  return ix;
}

static void column_pop(struct column *c)
{
  c->rows--;
  if (c->type->id == TYPE_STRING)
    c->chars_len = row_start(c, c->rows);
  else if (c->type->id == TYPE_NULLABLE)
    column_pop(c->children[0]);
}

/* The dictionary's last row was just appended: return its key, dropping the
 * row again if the value was already present. */
static uint32_t dict_settle_last(struct column *lc)
{
  struct column *dict = lc->children[0];
  uint32_t last = dict->rows - 1;
  struct column_dict_index *ix = dict_index_get(lc, last);
  uint32_t mask = ix->slot_count - 1;
  uint32_t s = (uint32_t)column_hash_row(dict, last, 0) & mask;
  while (ix->slots[s]) {
    uint32_t k = ix->slots[s] - 1;
    if (column_rows_equal(dict, k, dict, last)) {
      column_pop(dict);
      return k;
    }
    s = (s + 1) & mask;
  }
  ix->slots[s] = last + 1;
  ix->key_count++;
  return last;
}

static void lc_push_key(struct column *c, uint32_t key)
{
  grow(c, c->rows + 1);
  ((uint32_t *)c->data)[c->rows++] = key;
}

static uint32_t lc_key(const struct column *c, uint32_t row) { return ((const uint32_t *)c->data)[row]; }

/* ---- appending ---- */

static void push_fixed_zero(struct column *c)
{
  grow(c, c->rows + 1);
  size_t fb = value_bytes(c);
  memset((char *)c->data + (size_t)c->rows * fb, 0, fb);
  c->rows++;
}

static int16_t enum_default(const struct datatype *t)
{
  int16_t v = t->enum_count ? t->enum_values[0] : 0;
  for (uint32_t i = 1; i < t->enum_count; i++)
    if (t->enum_values[i] < v)
      v = t->enum_values[i];
  return v;
}

void column_append_default(struct column *c)
{
  switch (c->type->id) {
  case TYPE_NULLABLE:
    column_append_null(c);
    return;
  case TYPE_LOW_CARDINALITY:
    lc_push_key(c, 0);
    return;
  case TYPE_STRING:
  case TYPE_ARRAY:
  case TYPE_MAP:
    grow(c, c->rows + 1);
    c->offsets[c->rows] = c->type->id == TYPE_STRING ? c->chars_len : c->children[0]->rows;
    c->rows++;
    return;
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t i = 0; i < c->child_count; i++)
      column_append_default(c->children[i]);
    c->rows++;
    return;
  case TYPE_NOTHING:
    c->rows++;
    return;
  case TYPE_ENUM8:
  case TYPE_ENUM16:
    column_append_i64(c, enum_default(c->type));
    return;
  default:
    push_fixed_zero(c);
    return;
  }
}

void column_append_null(struct column *c)
{
  if (c->type->id == TYPE_LOW_CARDINALITY) {
    lc_push_key(c, 0);
    return;
  }
  grow(c, c->rows + 1);
  column_append_default(c->children[0]);
  c->nulls[c->rows++] = 1;
}

void column_mark_not_null(struct column *c)
{
  grow(c, c->rows + 1);
  c->nulls[c->rows++] = 0;
}

void column_close_array_row(struct column *c)
{
  grow(c, c->rows + 1);
  c->offsets[c->rows] = c->children[0]->rows;
  c->rows++;
}

void column_close_tuple_row(struct column *c) { c->rows++; }

/* Wrappers route a scalar into Nullable's child or LowCardinality's
 * dictionary; returns true when handled. */
#define ROUTE_WRAPPERS(c, call)                         \
  do {                                                  \
    if ((c)->type->id == TYPE_NULLABLE) {               \
      call((c)->children[0]);                           \
      column_mark_not_null(c);                          \
      return;                                           \
    }                                                   \
    if ((c)->type->id == TYPE_LOW_CARDINALITY) {        \
      call((c)->children[0]);                           \
      lc_push_key((c), dict_settle_last(c));            \
      return;                                           \
    }                                                   \
  } while (0)

static void store_int(struct column *c, uint64_t bits, double fv)
{
  grow(c, c->rows + 1);
  void *p = (char *)c->data + (size_t)c->rows * value_bytes(c);
  switch (c->type->id) {
  case TYPE_UINT8: case TYPE_INT8: case TYPE_ENUM8: { uint8_t v = (uint8_t)bits; memcpy(p, &v, 1); break; }
  case TYPE_BOOL: { uint8_t v = bits != 0; memcpy(p, &v, 1); break; }
  case TYPE_UINT16: case TYPE_INT16: case TYPE_DATE: case TYPE_ENUM16: { uint16_t v = (uint16_t)bits; memcpy(p, &v, 2); break; }
  case TYPE_UINT32: case TYPE_INT32: case TYPE_DATETIME: { uint32_t v = (uint32_t)bits; memcpy(p, &v, 4); break; }
  case TYPE_UINT64: case TYPE_INT64: case TYPE_DATETIME64: case TYPE_INTERVAL: memcpy(p, &bits, 8); break;
  case TYPE_FLOAT32: { float v = (float)fv; memcpy(p, &v, 4); break; }
  case TYPE_FLOAT64: memcpy(p, &fv, 8); break;
  default: abort();  /* programmer error: not a number column */
  }
  c->rows++;
}

void column_append_u64(struct column *c, uint64_t v)
{
#define CALL(x) column_append_u64((x), v)
  ROUTE_WRAPPERS(c, CALL);
#undef CALL
  store_int(c, v, (double)v);
}

void column_append_i64(struct column *c, int64_t v)
{
#define CALL(x) column_append_i64((x), v)
  ROUTE_WRAPPERS(c, CALL);
#undef CALL
  store_int(c, (uint64_t)v, (double)v);
}

void column_append_f64(struct column *c, double v)
{
#define CALL(x) column_append_f64((x), v)
  ROUTE_WRAPPERS(c, CALL);
#undef CALL
  uint64_t bits;
  if (c->type->id == TYPE_FLOAT32 || c->type->id == TYPE_FLOAT64)
    bits = 0;
  else if (isnan(v))
    bits = 0;
  else if (datatype_is_signed(c->type))
    bits = v <= -9.2233720368547758e18 ? (uint64_t)INT64_MIN : v >= 9.2233720368547758e18 ? (uint64_t)INT64_MAX : (uint64_t)(int64_t)v;
  else
    bits = v <= 0 ? 0 : v >= 1.8446744073709552e19 ? UINT64_MAX : (uint64_t)v;
  store_int(c, bits, v);
}

void column_append_bytes(struct column *c, const void *p, size_t n)
{
#define CALL(x) column_append_bytes((x), p, n)
  ROUTE_WRAPPERS(c, CALL);
#undef CALL
  if (c->type->id == TYPE_STRING) {
    grow(c, c->rows + 1);
    chars_grow(c, n);
    if (n)
      memcpy(c->chars + c->chars_len, p, n);
    c->chars_len += n;
    c->offsets[c->rows++] = c->chars_len;
    return;
  }
  size_t fb = value_bytes(c);
  if (!fb || c->type->id == TYPE_LOW_CARDINALITY)
    abort();  /* programmer error: not a byte column */
  grow(c, c->rows + 1);
  char *d = (char *)c->data + (size_t)c->rows * fb;
  size_t k = n < fb ? n : fb;
  if (k)
    memcpy(d, p, k);
  memset(d + k, 0, fb - k);
  c->rows++;
}

void column_append_from(struct column *dst, const struct column *src, uint32_t row)
{
  row = column_row(src, row);
  enum type_id did = dst->type->id, sid = src->type->id;
  if (did == TYPE_LOW_CARDINALITY) {
    if (sid == TYPE_LOW_CARDINALITY && src->children[0] == dst->children[0]) {
      lc_push_key(dst, lc_key(src, row));
      return;
    }
    column_append_from(dst->children[0], src, row);
    lc_push_key(dst, dict_settle_last(dst));
    return;
  }
  if (sid == TYPE_LOW_CARDINALITY) {
    column_append_from(dst, src->children[0], lc_key(src, row));
    return;
  }
  if (did == TYPE_NULLABLE) {
    if (sid == TYPE_NULLABLE) {
      if (src->nulls[row]) {
        column_append_null(dst);
        return;
      }
      src = src->children[0];
    } else if (sid == TYPE_NOTHING) {
      column_append_null(dst);
      return;
    }
    column_append_from(dst->children[0], src, row);
    column_mark_not_null(dst);
    return;
  }
  if (sid == TYPE_NULLABLE) {
    src = src->children[0];
    sid = src->type->id;
  }
  switch (did) {
  case TYPE_STRING: {
    struct slice s = column_get_bytes(src, row);
    column_append_bytes(dst, s.ptr, s.len);
    return;
  }
  case TYPE_ARRAY:
  case TYPE_MAP: {
    uint64_t start = row_start(src, row), end = src->offsets[row];
    for (uint32_t i = 0; i < dst->child_count; i++)
      column_append_range(dst->children[i], src->children[i], (uint32_t)start, (uint32_t)(end - start));
    column_close_array_row(dst);
    return;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t i = 0; i < dst->child_count; i++)
      column_append_from(dst->children[i], src->children[i], row);
    dst->rows++;
    return;
  case TYPE_NOTHING:
    dst->rows++;
    return;
  default: {
    size_t fb = value_bytes(dst);
    if (value_bytes(src) == fb && did == sid) {
      grow(dst, dst->rows + 1);
      memcpy((char *)dst->data + (size_t)dst->rows * fb, (const char *)src->data + (size_t)row * fb, fb);
      dst->rows++;
    } else if (datatype_is_float(dst->type) || datatype_is_float(src->type)) {
      column_append_f64(dst, column_get_f64(src, row));
    } else if (did == TYPE_FIXED_STRING || did == TYPE_UUID) {
      struct slice s = column_get_bytes(src, row);
      column_append_bytes(dst, s.ptr, s.len);
    } else {
      column_append_i64(dst, column_get_i64(src, row));
    }
    return;
  }
  }
}

void column_append_range(struct column *dst, const struct column *src, uint32_t start, uint32_t count)
{
  if (!count)
    return;
  enum type_id id = dst->type->id;
  if (!src->is_const && datatype_equal(dst->type, src->type)) {
    size_t fb = value_bytes(dst);
    if (fb && id != TYPE_LOW_CARDINALITY) {
      grow(dst, dst->rows + count);
      memcpy((char *)dst->data + (size_t)dst->rows * fb, (const char *)src->data + (size_t)start * fb,
             (size_t)count * fb);
      dst->rows += count;
      return;
    }
    if (id == TYPE_STRING) {
      grow(dst, dst->rows + count);
      uint64_t from = row_start(src, start), to = src->offsets[start + count - 1];
      chars_grow(dst, to - from);
      if (to > from)
        memcpy(dst->chars + dst->chars_len, src->chars + from, to - from);
      int64_t shift = (int64_t)dst->chars_len - (int64_t)from;
      for (uint32_t i = 0; i < count; i++)
        dst->offsets[dst->rows + i] = (uint64_t)((int64_t)src->offsets[start + i] + shift);
      dst->chars_len += to - from;
      dst->rows += count;
      return;
    }
  }
  for (uint32_t i = 0; i < count; i++)
    column_append_from(dst, src, start + i);
}

/* ---- gathering ----
 * column_gather is the merger's output path: many sources, short runs.
 * Each type gets one loop over all runs, so nothing dispatches per row. */

static uint32_t runs_total_rows(const struct column_run *runs, uint32_t run_count)
{
  uint32_t rows = 0;
  for (uint32_t i = 0; i < run_count; i++)
    rows += runs[i].count;
  return rows;
}

/* Whether the typed loops may read every source's buffers as dst's type. */
static bool gather_sources_match(const struct column *dst, const struct column *const *srcs, uint32_t src_count)
{
  for (uint32_t i = 0; i < src_count; i++)
    if (srcs[i] && (srcs[i]->is_const || !datatype_equal(dst->type, srcs[i]->type)))
      return false;
  return true;
}

/* Inlined per width so that each memcpy has a constant size. */
static inline __attribute__((always_inline)) void gather_fixed(struct column *dst, const struct column *const *srcs,
                                                               const struct column_run *runs, uint32_t run_count,
                                                               size_t fb)
{
  char *d = (char *)dst->data + (size_t)dst->rows * fb;
  for (uint32_t i = 0; i < run_count; i++) {
    const struct column_run *r = &runs[i];
    const char *s = (const char *)srcs[r->source]->data + (size_t)r->row * fb;
    if (r->count == 1)
      memcpy(d, s, fb);
    else
      memcpy(d, s, (size_t)r->count * fb);
    d += (size_t)r->count * fb;
  }
}

static void gather_fixed_width(struct column *dst, const struct column *const *srcs, const struct column_run *runs,
                               uint32_t run_count)
{
  switch (value_bytes(dst)) {
  case 1: gather_fixed(dst, srcs, runs, run_count, 1); break;
  case 2: gather_fixed(dst, srcs, runs, run_count, 2); break;
  case 4: gather_fixed(dst, srcs, runs, run_count, 4); break;
  case 8: gather_fixed(dst, srcs, runs, run_count, 8); break;
  case 16: gather_fixed(dst, srcs, runs, run_count, 16); break;
  default: gather_fixed(dst, srcs, runs, run_count, value_bytes(dst)); break;
  }
}

/* Bytes of rows [row, row + count) of a String column. */
static uint64_t string_run_bytes(const struct column *c, uint32_t row, uint32_t count)
{
  return c->offsets[row + count - 1] - row_start(c, row);
}

static void gather_strings(struct column *dst, const struct column *const *srcs, const struct column_run *runs,
                           uint32_t run_count)
{
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < run_count; i++)
    bytes += string_run_bytes(srcs[runs[i].source], runs[i].row, runs[i].count);
  chars_grow(dst, bytes);
  uint64_t *off = dst->offsets + dst->rows;
  uint64_t end = dst->chars_len;
  for (uint32_t i = 0; i < run_count; i++) {
    const struct column_run *r = &runs[i];
    const struct column *s = srcs[r->source];
    uint64_t from = row_start(s, r->row);
    const uint64_t *so = s->offsets + r->row;
    uint64_t len = so[r->count - 1] - from;
    if (len)
      memcpy(dst->chars + end, s->chars + from, len);
    for (uint32_t j = 0; j < r->count; j++)
      *off++ = end + (so[j] - from);
    end += len;
  }
  dst->chars_len = end;
}

/* Every source's child `child`, NULL where the source is NULL; mem_free it. */
static const struct column **gather_children_of(const struct column *const *srcs, uint32_t src_count, uint32_t child)
{
  const struct column **kids = mem_calloc(src_count ? src_count : 1, sizeof *kids);
  for (uint32_t i = 0; i < src_count; i++)
    kids[i] = srcs[i] ? srcs[i]->children[child] : NULL;
  return kids;
}

static void gather_each_child(struct column *dst, const struct column *const *srcs, uint32_t src_count,
                              const struct column_run *runs, uint32_t run_count)
{
  for (uint32_t c = 0; c < dst->child_count; c++) {
    const struct column **kids = gather_children_of(srcs, src_count, c);
    column_gather(dst->children[c], kids, src_count, runs, run_count);
    mem_free(kids);
  }
}

/* Array/Map: offsets rebased onto dst's elements, then the elements of each
 * run, which are contiguous in its source, as one child run. */
static void gather_arrays(struct column *dst, const struct column *const *srcs, uint32_t src_count,
                          const struct column_run *runs, uint32_t run_count)
{
  struct column_run *elems = mem_alloc((run_count ? run_count : 1) * sizeof *elems);
  uint32_t elem_runs = 0;
  uint64_t *off = dst->offsets + dst->rows;
  uint64_t end = dst->children[0]->rows;
  for (uint32_t i = 0; i < run_count; i++) {
    const struct column_run *r = &runs[i];
    const struct column *s = srcs[r->source];
    uint64_t from = row_start(s, r->row);
    const uint64_t *so = s->offsets + r->row;
    uint64_t len = so[r->count - 1] - from;
    for (uint32_t j = 0; j < r->count; j++)
      *off++ = end + (so[j] - from);
    if (len)
      elems[elem_runs++] = (struct column_run){ r->source, (uint32_t)from, (uint32_t)len };
    end += len;
  }
  gather_each_child(dst, srcs, src_count, elems, elem_runs);
  mem_free(elems);
}

/* dst's key for key k of a source dictionary: the value is appended to
 * dst's dictionary and settled, as column_append_from does. */
static uint32_t lc_key_for(struct column *dst, const struct column *src_dict, uint32_t k)
{
  if (src_dict == dst->children[0])
    return k;
  column_append_from(dst->children[0], src_dict, k);
  return dict_settle_last(dst);
}

static void gather_low_cardinality(struct column *dst, const struct column *const *srcs, uint32_t src_count,
                                   const struct column_run *runs, uint32_t run_count)
{
  /* per source: source key → dst key + 1, 0 until the key is first seen */
  uint32_t **maps = mem_calloc(src_count ? src_count : 1, sizeof *maps);
  uint32_t *keys = (uint32_t *)dst->data + dst->rows;
  for (uint32_t i = 0; i < run_count; i++) {
    const struct column_run *r = &runs[i];
    const struct column *s = srcs[r->source];
    uint32_t *map = maps[r->source];
    if (!map)
      map = maps[r->source] = mem_calloc((size_t)s->children[0]->rows + 1, sizeof *map);
    const uint32_t *sk = (const uint32_t *)s->data + r->row;
    for (uint32_t j = 0; j < r->count; j++) {
      uint32_t k = sk[j];
      if (!map[k])
        map[k] = lc_key_for(dst, s->children[0], k) + 1;
      *keys++ = map[k] - 1;
    }
  }
  for (uint32_t i = 0; i < src_count; i++)
    mem_free(maps[i]);
  mem_free(maps);
}

void column_gather(struct column *dst, const struct column *const *srcs, uint32_t src_count,
                   const struct column_run *runs, uint32_t run_count)
{
  /* XXX Nullable keeps the per-row path: it writes the default under each
   * NULL whatever its source holds there, and the output must not change. */
  if (dst->type->id == TYPE_NULLABLE || !gather_sources_match(dst, srcs, src_count)) {
    for (uint32_t i = 0; i < run_count; i++)
      column_append_range(dst, srcs[runs[i].source], runs[i].row, runs[i].count);
    return;
  }
  uint32_t rows = runs_total_rows(runs, run_count);
  grow(dst, dst->rows + rows);
  switch (dst->type->id) {
  case TYPE_STRING:
    gather_strings(dst, srcs, runs, run_count);
    break;
  case TYPE_ARRAY:
  case TYPE_MAP:
    gather_arrays(dst, srcs, src_count, runs, run_count);
    break;
  case TYPE_TUPLE:
  case TYPE_NESTED:
    gather_each_child(dst, srcs, src_count, runs, run_count);
    break;
  case TYPE_LOW_CARDINALITY:
    gather_low_cardinality(dst, srcs, src_count, runs, run_count);
    break;
  case TYPE_NOTHING:
    break;
  default:
    gather_fixed_width(dst, srcs, runs, run_count);
    break;
  }
  dst->rows += rows;
}

/* ---- reading ---- */

/* Resolves LowCardinality and Nullable wrappers to the stored scalar. */
static const struct column *scalar_of(const struct column *c, uint32_t *row)
{
  *row = column_row(c, *row);
  for (;;) {
    if (c->type->id == TYPE_LOW_CARDINALITY) {
      *row = lc_key(c, *row);
      c = c->children[0];
    } else if (c->type->id == TYPE_NULLABLE) {
      c = c->children[0];
    } else {
      return c;
    }
  }
}

bool column_is_null(const struct column *c, uint32_t row)
{
  row = column_row(c, row);
  if (c->type->id == TYPE_LOW_CARDINALITY) {
    row = lc_key(c, row);
    c = c->children[0];
  }
  if (c->type->id == TYPE_NULLABLE)
    return c->nulls[row] != 0;
  return c->type->id == TYPE_NOTHING;
}

static int64_t read_signed(const struct column *c, uint32_t row, bool *is_float, double *fv)
{
  const void *p = (const char *)c->data + (size_t)row * value_bytes(c);
  *is_float = false;
  switch (c->type->id) {
  case TYPE_UINT8: case TYPE_BOOL: { uint8_t v; memcpy(&v, p, 1); return v; }
  case TYPE_INT8: case TYPE_ENUM8: { int8_t v; memcpy(&v, p, 1); return v; }
  case TYPE_UINT16: case TYPE_DATE: { uint16_t v; memcpy(&v, p, 2); return v; }
  case TYPE_INT16: case TYPE_ENUM16: { int16_t v; memcpy(&v, p, 2); return v; }
  case TYPE_UINT32: case TYPE_DATETIME: { uint32_t v; memcpy(&v, p, 4); return v; }
  case TYPE_INT32: { int32_t v; memcpy(&v, p, 4); return v; }
  case TYPE_UINT64: case TYPE_INT64: case TYPE_DATETIME64: case TYPE_INTERVAL: { int64_t v; memcpy(&v, p, 8); return v; }
  case TYPE_FLOAT32: { float v; memcpy(&v, p, 4); *is_float = true; *fv = v; return 0; }
  case TYPE_FLOAT64: { double v; memcpy(&v, p, 8); *is_float = true; *fv = v; return 0; }
  default: return 0;
  }
}

uint64_t column_get_u64(const struct column *c, uint32_t row)
{
  c = scalar_of(c, &row);
  bool f;
  double fv;
  int64_t v = read_signed(c, row, &f, &fv);
  if (f)
    return isnan(fv) || fv <= 0 ? (fv < 0 && fv > -9.2233720368547758e18 ? (uint64_t)(int64_t)fv : 0)
           : fv >= 1.8446744073709552e19 ? UINT64_MAX : (uint64_t)fv;
  return (uint64_t)v;
}

int64_t column_get_i64(const struct column *c, uint32_t row)
{
  c = scalar_of(c, &row);
  bool f;
  double fv;
  int64_t v = read_signed(c, row, &f, &fv);
  if (f)
    return isnan(fv) ? 0 : fv <= -9.2233720368547758e18 ? INT64_MIN : fv >= 9.2233720368547758e18 ? INT64_MAX : (int64_t)fv;
  return v;
}

double column_get_f64(const struct column *c, uint32_t row)
{
  c = scalar_of(c, &row);
  bool f;
  double fv;
  int64_t v = read_signed(c, row, &f, &fv);
  if (f)
    return fv;
  if (c->type->id == TYPE_UINT64)
    return (double)(uint64_t)v;
  return (double)v;
}

struct slice column_get_bytes(const struct column *c, uint32_t row)
{
  c = scalar_of(c, &row);
  if (c->type->id == TYPE_STRING) {
    uint64_t s = row_start(c, row);
    if (!c->chars)
      return slice_make("", 0);
    return slice_make(c->chars + s, (size_t)(c->offsets[row] - s));
  }
  size_t fb = value_bytes(c);
  if (!fb)
    return slice_make("", 0);
  return slice_make((const char *)c->data + (size_t)row * fb, fb);
}

void column_array_range(const struct column *c, uint32_t row, uint64_t *start, uint64_t *end)
{
  row = column_row(c, row);
  if (c->type->id == TYPE_NULLABLE)
    c = c->children[0];
  *start = row_start(c, row);
  *end = c->offsets[row];
}

/* ---- const ---- */

struct column *column_const_from(struct arena *a, const struct column *src, uint32_t row, uint32_t rows)
{
  struct column *c = column_create(a, src->type, 1);
  column_append_from(c, src, row);
  c->is_const = true;
  c->rows = rows;
  return c;
}

struct column *column_materialize(struct arena *a, const struct column *col)
{
  if (!col->is_const)
    return (struct column *)col;
  struct column *c = column_create(a, col->type, col->rows);
  for (uint32_t i = 0; i < col->rows; i++)
    column_append_from(c, col, 0);
  return c;
}

/* ---- selection ---- */

/* An empty LowCardinality column like c, for `capacity` rows, whose
 * dictionary holds only the default (key 0); *map (arena) maps c's keys to
 * the new ones, UINT32_MAX for keys not taken yet. */
static struct column *lc_compact_create(struct arena *a, const struct column *c, uint32_t capacity, uint32_t **map)
{
  const struct column *dict = c->children[0];
  struct column *r = column_create(a, c->type, capacity);
  struct column *nd = column_create(a, dict->type, 16);
  column_append_from(nd, dict, 0);
  r->children[0] = nd;
  *map = arena_alloc(a, (size_t)(dict->rows ? dict->rows : 1) * sizeof **map);
  memset(*map, 0xff, (size_t)dict->rows * sizeof **map);
  (*map)[0] = 0;
  return r;
}

struct column *column_take(struct arena *a, const struct column *c, const uint32_t *rows, uint32_t count)
{
  if (c->is_const)
    return column_const_from(a, c, 0, count);
  const struct datatype *t = c->type;
  struct column *r;
  switch (t->id) {
  case TYPE_STRING: {
    r = column_create(a, t, count);
    uint64_t total = 0;
    for (uint32_t i = 0; i < count; i++)
      total += c->offsets[rows[i]] - row_start(c, rows[i]);
    chars_grow(r, total);
    for (uint32_t i = 0; i < count; i++) {
      uint64_t s = row_start(c, rows[i]), n = c->offsets[rows[i]] - s;
      if (n)
        memcpy(r->chars + r->chars_len, c->chars + s, n);
      r->chars_len += n;
      r->offsets[i] = r->chars_len;
    }
    r->rows = count;
    return r;
  }
  case TYPE_NULLABLE:
    r = arena_new(a, struct column);
    *r = *c;
    r->arena = a;
    r->dict_index = NULL;
    r->nulls = arena_alloc(a, count ? count : 1);
    for (uint32_t i = 0; i < count; i++)
      r->nulls[i] = c->nulls[rows[i]];
    r->children = arena_new_array(a, struct column *, 1);
    r->children[0] = column_take(a, c->children[0], rows, count);
    r->rows = r->capacity = count;
    return r;
  case TYPE_ARRAY:
  case TYPE_MAP: {
    r = column_create(a, t, count);
    uint64_t total = 0;
    for (uint32_t i = 0; i < count; i++)
      total += c->offsets[rows[i]] - row_start(c, rows[i]);
    uint32_t *idx = arena_alloc(a, (total ? total : 1) * sizeof *idx);
    uint64_t k = 0;
    for (uint32_t i = 0; i < count; i++) {
      for (uint64_t j = row_start(c, rows[i]); j < c->offsets[rows[i]]; j++)
        idx[k++] = (uint32_t)j;
      r->offsets[i] = k;
    }
    for (uint32_t i = 0; i < c->child_count; i++)
      r->children[i] = column_take(a, c->children[i], idx, (uint32_t)total);
    r->rows = count;
    return r;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    r = column_create(a, t, 0);
    for (uint32_t i = 0; i < c->child_count; i++)
      r->children[i] = column_take(a, c->children[i], rows, count);
    r->rows = count;
    return r;
  case TYPE_LOW_CARDINALITY: {
    /* Compact the dictionary to the keys in use (key 0 stays the default). */
    const struct column *dict = c->children[0];
    uint32_t *map;
    r = lc_compact_create(a, c, count, &map);
    struct column *nd = r->children[0];
    uint32_t *keys = r->data;
    for (uint32_t i = 0; i < count; i++) {
      uint32_t k = lc_key(c, rows[i]);
      if (map[k] == UINT32_MAX) {
        map[k] = nd->rows;
        column_append_from(nd, dict, k);
      }
      keys[i] = map[k];
    }
    r->rows = count;
    return r;
  }
  case TYPE_NOTHING:
    r = column_create(a, t, 0);
    r->rows = count;
    return r;
  default: {
    size_t fb = value_bytes(c);
    r = column_create(a, t, count);
    const char *s = c->data;
    char *d = r->data;
    switch (fb) {
    case 1: for (uint32_t i = 0; i < count; i++) d[i] = s[rows[i]]; break;
    case 2: for (uint32_t i = 0; i < count; i++) memcpy(d + 2 * i, s + 2 * (size_t)rows[i], 2); break;
    case 4: for (uint32_t i = 0; i < count; i++) memcpy(d + 4 * i, s + 4 * (size_t)rows[i], 4); break;
    case 8: for (uint32_t i = 0; i < count; i++) memcpy(d + 8 * i, s + 8 * (size_t)rows[i], 8); break;
    default: for (uint32_t i = 0; i < count; i++) memcpy(d + fb * i, s + fb * rows[i], fb); break;
    }
    r->rows = count;
    return r;
  }
  }
}

/* A stretch of consecutive kept rows. */
struct keep_run {
  uint32_t start;
  uint32_t count;
};

static const uint64_t bytes_01 = 0x0101010101010101ull;
static const uint64_t bytes_80 = 0x8080808080808080ull;

static uint64_t load8(const uint8_t *p)
{
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

/* The runs of nonzero keep bytes among `rows`, stopping after kept_rows
 * rows as the per-row loop does; eight bytes at a time where a word is all
 * zero or all nonzero. Returns the run count; *taken gets the rows. */
static uint32_t keep_runs(const uint8_t *keep, uint32_t rows, uint32_t kept_rows, struct keep_run *runs,
                          uint32_t *taken)
{
  uint32_t i = 0, n = 0, total = 0;
  while (i < rows && total < kept_rows) {
    while (i + 8 <= rows && load8(keep + i) == 0)
      i += 8;
    while (i < rows && !keep[i])
      i++;
    if (i >= rows)
      break;
    uint32_t start = i;
    for (;;) {
      if (i + 8 <= rows) {
        uint64_t w = load8(keep + i);
        if (!((w - bytes_01) & ~w & bytes_80)) {  /* no zero byte */
          i += 8;
          continue;
        }
      }
      while (i < rows && keep[i])
        i++;
      break;
    }
    uint32_t count = i - start;
    if (count > kept_rows - total)
      count = kept_rows - total;
    runs[n++] = (struct keep_run){ start, count };
    total += count;
  }
  *taken = total;
  return n;
}

static bool filter_is_fixed(const struct column *c)
{
  switch (c->type->id) {
  case TYPE_STRING: case TYPE_NULLABLE: case TYPE_ARRAY: case TYPE_MAP: case TYPE_TUPLE: case TYPE_NESTED:
  case TYPE_LOW_CARDINALITY: case TYPE_NOTHING:
    return false;
  default:
    return value_bytes(c) > 0;
  }
}

/* column_take of the kept rows, copied run by run: fixed-width values
 * and String bytes move in one memcpy per run. */
static struct column *filter_by_runs(struct arena *a, const struct column *c, const struct keep_run *runs,
                                     uint32_t run_count, uint32_t taken)
{
  struct column *r = column_create(a, c->type, taken);
  if (c->type->id == TYPE_STRING) {
    uint64_t total = 0;
    for (uint32_t k = 0; k < run_count; k++)
      total += c->offsets[runs[k].start + runs[k].count - 1] - row_start(c, runs[k].start);
    chars_grow(r, total);
    uint64_t *off = r->offsets;
    for (uint32_t k = 0; k < run_count; k++) {
      uint64_t from = row_start(c, runs[k].start);
      const uint64_t *so = c->offsets + runs[k].start;
      uint64_t len = so[runs[k].count - 1] - from;
      if (len)
        memcpy(r->chars + r->chars_len, c->chars + from, len);
      for (uint32_t j = 0; j < runs[k].count; j++)
        *off++ = r->chars_len + (so[j] - from);
      r->chars_len += len;
    }
  } else {
    size_t fb = value_bytes(c);
    char *d = r->data;
    const char *s = c->data;
    for (uint32_t k = 0; k < run_count; k++) {
      memcpy(d, s + (size_t)runs[k].start * fb, (size_t)runs[k].count * fb);
      d += (size_t)runs[k].count * fb;
    }
  }
  r->rows = taken;
  return r;
}

/* LowCardinality by runs: keys remapped to a dictionary compacted in
 * order of first use, exactly as column_take builds it. */
static struct column *filter_lc_by_runs(struct arena *a, const struct column *c, const struct keep_run *runs,
                                        uint32_t run_count, uint32_t taken)
{
  const struct column *dict = c->children[0];
  uint32_t *map;
  struct column *r = lc_compact_create(a, c, taken, &map);
  struct column *nd = r->children[0];
  uint32_t *keys = r->data;
  const uint32_t *src = c->data;
  for (uint32_t k = 0; k < run_count; k++) {
    const uint32_t *sk = src + runs[k].start;
    for (uint32_t j = 0; j < runs[k].count; j++) {
      uint32_t key = sk[j];
      if (map[key] == UINT32_MAX) {
        map[key] = nd->rows;
        column_append_from(nd, dict, key);
      }
      *keys++ = map[key];
    }
  }
  r->rows = taken;
  return r;
}

/* column_take of the rows of the runs, through an index. */
static struct column *take_runs(struct arena *a, const struct column *c, const struct keep_run *runs,
                                uint32_t run_count, uint32_t taken)
{
  uint32_t *idx = arena_alloc(a, (size_t)(taken ? taken : 1) * sizeof *idx);
  uint32_t n = 0;
  for (uint32_t k = 0; k < run_count; k++)
    for (uint32_t j = 0; j < runs[k].count; j++)
      idx[n++] = runs[k].start + j;
  return column_take(a, c, idx, n);
}

/* column_take of the rows of the runs (`taken` rows in all), built run by
 * run; arrays and maps pass the element runs of their rows down. */
static struct column *filter_runs(struct arena *a, const struct column *c, const struct keep_run *runs,
                                  uint32_t run_count, uint32_t taken)
{
  if (taken == 0 || c->is_const)
    return take_runs(a, c, runs, run_count, taken);
  struct column *r;
  switch (c->type->id) {
  case TYPE_STRING:
    return filter_by_runs(a, c, runs, run_count, taken);
  case TYPE_LOW_CARDINALITY:
    return filter_lc_by_runs(a, c, runs, run_count, taken);
  case TYPE_NULLABLE: {
    r = arena_new(a, struct column);
    *r = *c;
    r->arena = a;
    r->dict_index = NULL;
    r->nulls = arena_alloc(a, taken);
    uint8_t *d = r->nulls;
    for (uint32_t k = 0; k < run_count; k++) {
      memcpy(d, c->nulls + runs[k].start, runs[k].count);
      d += runs[k].count;
    }
    r->children = arena_new_array(a, struct column *, 1);
    r->children[0] = filter_runs(a, c->children[0], runs, run_count, taken);
    r->rows = r->capacity = taken;
    return r;
  }
  case TYPE_ARRAY:
  case TYPE_MAP: {
    r = column_create(a, c->type, taken);
    struct keep_run *elems = arena_alloc(a, (size_t)run_count * sizeof *elems);
    uint32_t elem_runs = 0;
    uint64_t total = 0;
    uint64_t *off = r->offsets;
    for (uint32_t k = 0; k < run_count; k++) {
      uint64_t from = row_start(c, runs[k].start);
      const uint64_t *so = c->offsets + runs[k].start;
      uint64_t len = so[runs[k].count - 1] - from;
      for (uint32_t j = 0; j < runs[k].count; j++)
        *off++ = total + (so[j] - from);
      if (len)
        elems[elem_runs++] = (struct keep_run){ (uint32_t)from, (uint32_t)len };
      total += len;
    }
    for (uint32_t i = 0; i < c->child_count; i++)
      r->children[i] = filter_runs(a, c->children[i], elems, elem_runs, (uint32_t)total);
    r->rows = taken;
    return r;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    r = column_create(a, c->type, 0);
    for (uint32_t i = 0; i < c->child_count; i++)
      r->children[i] = filter_runs(a, c->children[i], runs, run_count, taken);
    r->rows = taken;
    return r;
  default:
    if (filter_is_fixed(c))
      return filter_by_runs(a, c, runs, run_count, taken);
    return take_runs(a, c, runs, run_count, taken);
  }
}

struct column *column_filter(struct arena *a, const struct column *c, const uint8_t *keep, uint32_t kept_rows)
{
  if (c->is_const)
    return column_const_from(a, c, 0, kept_rows);
  struct keep_run *runs = arena_alloc(a, (size_t)(kept_rows ? kept_rows : 1) * sizeof *runs);
  uint32_t taken = 0;
  uint32_t run_count = kept_rows ? keep_runs(keep, c->rows, kept_rows, runs, &taken) : 0;
  if (taken == 0)
    return take_runs(a, c, runs, 0, 0);
  return filter_runs(a, c, runs, run_count, taken);
}

struct column *column_slice(struct arena *a, const struct column *c, uint32_t start, uint32_t count)
{
  if (c->is_const)
    return column_const_from(a, c, 0, count);
  size_t fb = value_bytes(c);
  if ((fb && c->type->id != TYPE_LOW_CARDINALITY) || c->type->id == TYPE_STRING) {
    struct column *r = column_create(a, c->type, count);
    column_append_range(r, c, start, count);
    return r;
  }
  uint32_t *idx = arena_alloc(a, (size_t)(count ? count : 1) * sizeof *idx);
  for (uint32_t i = 0; i < count; i++)
    idx[i] = start + i;
  return column_take(a, c, idx, count);
}

/* ---- comparison and hashing ---- */

static int cmp_u64(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }
static int cmp_i64(int64_t a, int64_t b) { return a < b ? -1 : a > b; }

static int cmp_f64(double a, double b, bool nulls_first)
{
  bool an = isnan(a), bn = isnan(b);
  if (an || bn) {
    if (an && bn)
      return 0;
    return an ? (nulls_first ? -1 : 1) : (nulls_first ? 1 : -1);
  }
  return a < b ? -1 : a > b;
}

static int cmp_bytes(struct slice a, struct slice b)
{
  size_t n = a.len < b.len ? a.len : b.len;
  int r = n ? memcmp(a.ptr, b.ptr, n) : 0;
  if (r)
    return r < 0 ? -1 : 1;
  return cmp_u64(a.len, b.len);
}

static bool is_unsigned_id(enum type_id id)
{
  return (id >= TYPE_UINT8 && id <= TYPE_UINT64) || id == TYPE_BOOL || id == TYPE_DATE || id == TYPE_DATETIME;
}

int column_compare_rows(const struct column *a, uint32_t ra, const struct column *b, uint32_t rb, bool nulls_first)
{
  ra = column_row(a, ra);
  rb = column_row(b, rb);
  if (a->type->id == TYPE_LOW_CARDINALITY) {
    ra = lc_key(a, ra);
    a = a->children[0];
  }
  if (b->type->id == TYPE_LOW_CARDINALITY) {
    rb = lc_key(b, rb);
    b = b->children[0];
  }
  bool an = a->type->id == TYPE_NOTHING || (a->type->id == TYPE_NULLABLE && a->nulls[ra]);
  bool bn = b->type->id == TYPE_NOTHING || (b->type->id == TYPE_NULLABLE && b->nulls[rb]);
  if (an || bn) {
    if (an && bn)
      return 0;
    return an ? (nulls_first ? -1 : 1) : (nulls_first ? 1 : -1);
  }
  if (a->type->id == TYPE_NULLABLE)
    a = a->children[0];
  if (b->type->id == TYPE_NULLABLE)
    b = b->children[0];
  enum type_id ia = a->type->id, ib = b->type->id;
  switch (ia) {
  case TYPE_STRING:
  case TYPE_FIXED_STRING:
    return cmp_bytes(column_get_bytes(a, ra), column_get_bytes(b, rb));
  case TYPE_UUID: {
    uint64_t x[2], y[2];
    memcpy(x, (const char *)a->data + 16 * (size_t)ra, 16);
    memcpy(y, (const char *)b->data + 16 * (size_t)rb, 16);
    return x[0] != y[0] ? cmp_u64(x[0], y[0]) : cmp_u64(x[1], y[1]);
  }
  case TYPE_ARRAY:
  case TYPE_MAP: {
    uint64_t as = row_start(a, ra), ae = a->offsets[ra], bs = row_start(b, rb), be = b->offsets[rb];
    for (; as < ae && bs < be; as++, bs++)
      for (uint32_t i = 0; i < a->child_count; i++) {
        int r = column_compare_rows(a->children[i], (uint32_t)as, b->children[i], (uint32_t)bs, nulls_first);
        if (r)
          return r;
      }
    return cmp_u64(ae - as, be - bs);
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t i = 0; i < a->child_count && i < b->child_count; i++) {
      int r = column_compare_rows(a->children[i], ra, b->children[i], rb, nulls_first);
      if (r)
        return r;
    }
    return 0;
  default:
    break;
  }
  if (ia == TYPE_FLOAT32 || ia == TYPE_FLOAT64 || ib == TYPE_FLOAT32 || ib == TYPE_FLOAT64)
    return cmp_f64(column_get_f64(a, ra), column_get_f64(b, rb), nulls_first);
  bool ua = is_unsigned_id(ia), ub = is_unsigned_id(ib);
  if (ua && ub)
    return cmp_u64(column_get_u64(a, ra), column_get_u64(b, rb));
  int64_t x = column_get_i64(a, ra), y = column_get_i64(b, rb);
  if (ua && ia == TYPE_UINT64 && (uint64_t)x > (uint64_t)INT64_MAX)
    return 1;
  if (ub && ib == TYPE_UINT64 && (uint64_t)y > (uint64_t)INT64_MAX)
    return -1;
  return cmp_i64(x, y);
}

bool column_rows_equal(const struct column *a, uint32_t ra, const struct column *b, uint32_t rb)
{
  return column_compare_rows(a, ra, b, rb, false) == 0;
}

uint64_t column_hash_row(const struct column *c, uint32_t row, uint64_t seed)
{
  row = column_row(c, row);
  if (c->type->id == TYPE_LOW_CARDINALITY) {
    row = lc_key(c, row);
    c = c->children[0];
  }
  if (c->type->id == TYPE_NOTHING || (c->type->id == TYPE_NULLABLE && c->nulls[row]))
    return XXH3_64bits_withSeed("\xff\x00NULL", 6, seed);
  if (c->type->id == TYPE_NULLABLE)
    c = c->children[0];
  switch (c->type->id) {
  case TYPE_STRING:
  case TYPE_FIXED_STRING: {
    struct slice s = column_get_bytes(c, row);
    return XXH3_64bits_withSeed(s.ptr, s.len, seed);
  }
  case TYPE_FLOAT32:
  case TYPE_FLOAT64: {
    double v = column_get_f64(c, row);
    if (v == 0)
      v = 0;        /* -0.0 hashes as 0.0 */
    if (isnan(v))
      v = NAN;
    return XXH3_64bits_withSeed(&v, sizeof v, seed);
  }
  case TYPE_ARRAY:
  case TYPE_MAP: {
    uint64_t s = row_start(c, row), e = c->offsets[row], n = e - s;
    uint64_t h = XXH3_64bits_withSeed(&n, sizeof n, seed);
    for (uint64_t j = s; j < e; j++)
      for (uint32_t i = 0; i < c->child_count; i++)
        h = column_hash_row(c->children[i], (uint32_t)j, h);
    return h;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED: {
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < c->child_count; i++)
      h = column_hash_row(c->children[i], row, h);
    return h;
  }
  case TYPE_UUID:
    return XXH3_64bits_withSeed((const char *)c->data + 16 * (size_t)row, 16, seed);
  default: {
    /* Integers hash by value so equal values of different widths agree. */
    int64_t v = column_get_i64(c, row);
    return XXH3_64bits_withSeed(&v, sizeof v, seed);
  }
  }
}

uint64_t column_byte_size(const struct column *c)
{
  uint64_t rows = stored_rows(c), n = 0;
  size_t fb = value_bytes(c);
  n += rows * fb;
  if (has_offsets(c->type))
    n += rows * 8;
  if (c->type->id == TYPE_STRING)
    n += c->chars_len;
  if (c->type->id == TYPE_NULLABLE)
    n += rows;
  for (uint32_t i = 0; i < c->child_count; i++)
    n += column_byte_size(c->children[i]);
  return n;
}

/* ---- text rendering ---- */

/* Shortest digits that read back as v: tries 15, 16 then 17 significant
 * digits (a value that round-trips with ≤15 digits has its shortest form as
 * the 15-digit rounding minus trailing zeros). */
static void float_text(double v, bool single, struct buf *out)
{
  if (isnan(v)) {
    buf_append_cstr(out, "nan");
    return;
  }
  if (isinf(v)) {
    buf_append_cstr(out, v < 0 ? "-inf" : "inf");
    return;
  }
  if (v == 0) {
    buf_append_cstr(out, signbit(v) ? "-0" : "0");
    return;
  }
  char tmp[40];
  int first = single ? 6 : 15, last = single ? 9 : 17;
  if (fabs(v) < (single ? 1.17549435e-38 : 2.2250738585072014e-308))
    first = 1;  /* subnormals carry fewer digits; search them all */
  for (int p = first; p <= last; p++) {
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
    if (p == last)
      break;
    if (single ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
      break;
  }
  /* tmp = [-]d.ddddde[+-]xx */
  const char *s = tmp;
  bool neg = *s == '-';
  if (neg)
    s++;
  char digits[24];
  int nd = 0;
  for (; *s && *s != 'e'; s++)
    if (*s >= '0' && *s <= '9')
      digits[nd++] = *s;
  int exp10 = atoi(s + 1);
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  if (neg)
    buf_append_char(out, '-');
  if (exp10 < -6 || exp10 >= 21) {
    buf_append_char(out, digits[0]);
    if (nd > 1) {
      buf_append_char(out, '.');
      buf_append(out, digits + 1, (size_t)nd - 1);
    }
    buf_printf(out, "e%d", exp10);
    return;
  }
  if (exp10 < 0) {
    buf_append_cstr(out, "0.");
    for (int i = -1; i > exp10; i--)
      buf_append_char(out, '0');
    buf_append(out, digits, (size_t)nd);
    return;
  }
  int int_digits = exp10 + 1;
  for (int i = 0; i < int_digits; i++)
    buf_append_char(out, i < nd ? digits[i] : '0');
  if (nd > int_digits) {
    buf_append_char(out, '.');
    buf_append(out, digits + int_digits, (size_t)(nd - int_digits));
  }
}

void column_format_f64(double v, struct buf *out) { float_text(v, false, out); }
void column_format_f32(float v, struct buf *out) { float_text(v, true, out); }

void column_format_quoted_string(const char *s, size_t len, struct buf *out)
{
  buf_reserve(out, len + 2);
  buf_append_char(out, '\'');
  size_t run = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i], e = 0;
    switch (c) {
    case '\b': e = 'b'; break;
    case '\f': e = 'f'; break;
    case '\n': e = 'n'; break;
    case '\r': e = 'r'; break;
    case '\t': e = 't'; break;
    case '\0': e = '0'; break;
    case '\'': e = '\''; break;
    case '\\': e = '\\'; break;
    default: continue;
    }
    buf_append(out, s + run, i - run);
    buf_append_char(out, '\\');
    buf_append_char(out, e);
    run = i + 1;
  }
  buf_append(out, s + run, len - run);
  buf_append_char(out, '\'');
}

static void two_digits(struct buf *out, int v)
{
  buf_append_char(out, (char)('0' + v / 10));
  buf_append_char(out, (char)('0' + v % 10));
}

static void date_text(int64_t days, struct buf *out)
{
  int64_t y;
  int m, d;
  civil_ymd_from_days(days, &y, &m, &d);
  buf_printf(out, "%04lld-", (long long)y);
  two_digits(out, m);
  buf_append_char(out, '-');
  two_digits(out, d);
}

static void datetime_text(int64_t secs, const struct time_zone *tz, struct buf *out)
{
  struct civil_time ct;
  timezone_to_civil(tz, secs, &ct);
  buf_printf(out, "%04lld-", (long long)ct.year);
  two_digits(out, ct.month);
  buf_append_char(out, '-');
  two_digits(out, ct.day);
  buf_append_char(out, ' ');
  two_digits(out, ct.hour);
  buf_append_char(out, ':');
  two_digits(out, ct.minute);
  buf_append_char(out, ':');
  two_digits(out, ct.second);
}

static const int64_t pow10_table[10] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000 };

static void uuid_text(const unsigned char *p, struct buf *out)
{
  uint64_t hi, lo;
  memcpy(&hi, p, 8);
  memcpy(&lo, p + 8, 8);
  char hex[33];
  snprintf(hex, sizeof hex, "%016llx%016llx", (unsigned long long)hi, (unsigned long long)lo);
  buf_append(out, hex, 8);
  buf_append_char(out, '-');
  buf_append(out, hex + 8, 4);
  buf_append_char(out, '-');
  buf_append(out, hex + 12, 4);
  buf_append_char(out, '-');
  buf_append(out, hex + 16, 4);
  buf_append_char(out, '-');
  buf_append(out, hex + 20, 12);
}

static const char *enum_name(const struct datatype *t, int64_t v)
{
  for (uint32_t i = 0; i < t->enum_count; i++)
    if (t->enum_values[i] == v)
      return t->names[i];
  return NULL;
}

void column_format_value_tz(const struct column *c, uint32_t row, const struct time_zone *tz, bool quoted,
                            struct buf *out)
{
  row = column_row(c, row);
  if (c->type->id == TYPE_LOW_CARDINALITY) {
    row = lc_key(c, row);
    c = c->children[0];
  }
  if (c->type->id == TYPE_NULLABLE) {
    if (c->nulls[row]) {
      buf_append_cstr(out, "NULL");
      return;
    }
    c = c->children[0];
  }
  const struct datatype *t = c->type;
  char q = quoted ? '\'' : 0;
  switch (t->id) {
  case TYPE_NOTHING:
    buf_append_cstr(out, "NULL");
    return;
  case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
    buf_printf(out, "%llu", (unsigned long long)column_get_u64(c, row));
    return;
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64: case TYPE_INTERVAL:
    buf_printf(out, "%lld", (long long)column_get_i64(c, row));
    return;
  case TYPE_BOOL:
    buf_append_cstr(out, column_get_u64(c, row) ? "true" : "false");
    return;
  case TYPE_FLOAT32: {
    float v;
    memcpy(&v, (const char *)c->data + 4 * (size_t)row, 4);
    float_text(v, true, out);
    return;
  }
  case TYPE_FLOAT64:
    float_text(column_get_f64(c, row), false, out);
    return;
  case TYPE_STRING:
  case TYPE_FIXED_STRING: {
    struct slice s = column_get_bytes(c, row);
    if (quoted)
      column_format_quoted_string(s.ptr, s.len, out);
    else
      buf_append_slice(out, s);
    return;
  }
  case TYPE_ENUM8:
  case TYPE_ENUM16: {
    int64_t v = column_get_i64(c, row);
    const char *name = enum_name(t, v);
    if (!name)
      buf_printf(out, "%lld", (long long)v);
    else if (quoted)
      column_format_quoted_string(name, strlen(name), out);
    else
      buf_append_cstr(out, name);
    return;
  }
  case TYPE_DATE:
    if (q)
      buf_append_char(out, q);
    date_text((int64_t)column_get_u64(c, row), out);
    if (q)
      buf_append_char(out, q);
    return;
  case TYPE_DATETIME:
    if (q)
      buf_append_char(out, q);
    datetime_text((int64_t)column_get_u64(c, row), t->timezone ? timezone_or_default(t->timezone) :
                  tz ? tz : timezone_default(), out);
    if (q)
      buf_append_char(out, q);
    return;
  case TYPE_DATETIME64: {
    int64_t ticks = column_get_i64(c, row);
    uint32_t p = t->size <= 9 ? t->size : 9;
    int64_t scale = pow10_table[p];
    int64_t secs = civil_floor_div(ticks, scale);
    int64_t frac = ticks - secs * scale;
    if (q)
      buf_append_char(out, q);
    datetime_text(secs, t->timezone ? timezone_or_default(t->timezone) : tz ? tz : timezone_default(), out);
    if (p)
      buf_printf(out, ".%0*lld", (int)p, (long long)frac);
    if (q)
      buf_append_char(out, q);
    return;
  }
  case TYPE_UUID:
    if (q)
      buf_append_char(out, q);
    uuid_text((const unsigned char *)c->data + 16 * (size_t)row, out);
    if (q)
      buf_append_char(out, q);
    return;
  case TYPE_ARRAY: {
    buf_append_char(out, '[');
    for (uint64_t i = row_start(c, row); i < c->offsets[row]; i++) {
      if (i != row_start(c, row))
        buf_append_char(out, ',');
      column_format_value_tz(c->children[0], (uint32_t)i, tz, true, out);
    }
    buf_append_char(out, ']');
    return;
  }
  case TYPE_MAP: {
    buf_append_char(out, '{');
    for (uint64_t i = row_start(c, row); i < c->offsets[row]; i++) {
      if (i != row_start(c, row))
        buf_append_char(out, ',');
      column_format_value_tz(c->children[0], (uint32_t)i, tz, true, out);
      buf_append_char(out, ':');
      column_format_value_tz(c->children[1], (uint32_t)i, tz, true, out);
    }
    buf_append_char(out, '}');
    return;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    buf_append_char(out, '(');
    for (uint32_t i = 0; i < c->child_count; i++) {
      if (i)
        buf_append_char(out, ',');
      column_format_value_tz(c->children[i], row, tz, true, out);
    }
    buf_append_char(out, ')');
    return;
  default:
    return;
  }
}

void column_format_value(const struct column *c, uint32_t row, struct buf *out)
{
  column_format_value_tz(c, row, NULL, false, out);
}

void column_format_quoted(const struct column *c, uint32_t row, struct buf *out)
{
  column_format_value_tz(c, row, NULL, true, out);
}
