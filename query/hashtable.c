/* Open-addressing hash tables mapping keys to dense ids (0, 1, 2, …), the
 * building block of GROUP BY, DISTINCT, LIMIT BY, IN sets and uniq. Linear
 * probing, power-of-two capacity, grown at 50% load. Slot arrays are on the
 * heap (freed by an arena cleanup) so growth does not leave garbage in the
 * query arena. */
#include "query/exec_int.h"

#include <string.h>
#include <xxhash.h>

#include "base/alloc.h"

uint64_t hash_bytes(const void *p, size_t n) { return XXH3_64bits(p, n); }

/* ---- byte keys ---- */

static void key_table_free(void *arg)
{
  struct key_table *t = arg;
  mem_free(t->hashes);
  mem_free(t->slots);
  mem_free(t->keys);
  t->hashes = NULL;
  t->slots = NULL;
  t->keys = NULL;
}

void key_table_init(struct key_table *t, struct arena *a)
{
  memset(t, 0, sizeof *t);
  t->arena = a;
  t->cap = 64;
  t->hashes = mem_calloc(t->cap, sizeof *t->hashes);
  t->slots = mem_calloc(t->cap, sizeof *t->slots);
  t->keys_cap = 32;
  t->keys = mem_alloc(t->keys_cap * sizeof *t->keys);
  arena_on_cleanup(a, key_table_free, t);
}

static void key_table_grow(struct key_table *t)
{
  uint64_t ncap = t->cap * 2;
  uint64_t *nh = mem_calloc(ncap, sizeof *nh);
  uint32_t *ns = mem_calloc(ncap, sizeof *ns);
  for (uint64_t i = 0; i < t->cap; i++) {
    if (!t->slots[i])
      continue;
    uint64_t j = t->hashes[i] & (ncap - 1);
    while (ns[j])
      j = (j + 1) & (ncap - 1);
    ns[j] = t->slots[i];
    nh[j] = t->hashes[i];
  }
  mem_free(t->hashes);
  mem_free(t->slots);
  t->hashes = nh;
  t->slots = ns;
  t->cap = ncap;
}

uint32_t key_table_insert(struct key_table *t, const void *key, size_t len, uint64_t hash, bool *is_new)
{
  uint64_t mask = t->cap - 1, j = hash & mask;
  while (t->slots[j]) {
    if (t->hashes[j] == hash) {
      struct slice k = t->keys[t->slots[j] - 1];
      if (k.len == len && memcmp(k.ptr, key, len) == 0) {
        *is_new = false;
        return t->slots[j] - 1;
      }
    }
    j = (j + 1) & mask;
  }
  uint32_t id = (uint32_t)t->count++;
  if (t->count > t->keys_cap) {
    t->keys_cap *= 2;
    t->keys = mem_realloc(t->keys, t->keys_cap * sizeof *t->keys);
  }
  char *copy = arena_alloc(t->arena, len ? len : 1);
  memcpy(copy, key, len);
  t->keys[id] = slice_make(copy, len);
  t->slots[j] = id + 1;
  t->hashes[j] = hash;
  *is_new = true;
  if (t->count * 2 > t->cap)
    key_table_grow(t);
  return id;
}

int64_t key_table_find(const struct key_table *t, const void *key, size_t len, uint64_t hash)
{
  uint64_t mask = t->cap - 1, j = hash & mask;
  while (t->slots[j]) {
    if (t->hashes[j] == hash) {
      struct slice k = t->keys[t->slots[j] - 1];
      if (k.len == len && memcmp(k.ptr, key, len) == 0)
        return t->slots[j] - 1;
    }
    j = (j + 1) & mask;
  }
  return -1;
}

/* ---- 64-bit keys ---- */

static void u64_table_free(void *arg)
{
  struct u64_table *t = arg;
  mem_free(t->keys);
  mem_free(t->slots);
  t->keys = NULL;
  t->slots = NULL;
}

void u64_table_init(struct u64_table *t, struct arena *a)
{
  memset(t, 0, sizeof *t);
  t->arena = a;
  t->cap = 64;
  t->keys = mem_calloc(t->cap, sizeof *t->keys);
  t->slots = mem_calloc(t->cap, sizeof *t->slots);
  arena_on_cleanup(a, u64_table_free, t);
}

static void u64_table_grow(struct u64_table *t)
{
  uint64_t ncap = t->cap * 2;
  uint64_t *nk = mem_calloc(ncap, sizeof *nk);
  uint32_t *ns = mem_calloc(ncap, sizeof *ns);
  for (uint64_t i = 0; i < t->cap; i++) {
    if (!t->slots[i])
      continue;
    uint64_t j = hash_u64(t->keys[i]) & (ncap - 1);
    while (ns[j])
      j = (j + 1) & (ncap - 1);
    ns[j] = t->slots[i];
    nk[j] = t->keys[i];
  }
  mem_free(t->keys);
  mem_free(t->slots);
  t->keys = nk;
  t->slots = ns;
  t->cap = ncap;
}

uint32_t u64_table_insert(struct u64_table *t, uint64_t key, bool *is_new)
{
  uint64_t mask = t->cap - 1, j = hash_u64(key) & mask;
  while (t->slots[j]) {
    if (t->keys[j] == key) {
      *is_new = false;
      return t->slots[j] - 1;
    }
    j = (j + 1) & mask;
  }
  uint32_t id = (uint32_t)t->count++;
  t->slots[j] = id + 1;
  t->keys[j] = key;
  *is_new = true;
  if (t->count * 2 > t->cap)
    u64_table_grow(t);
  return id;
}

int64_t u64_table_find(const struct u64_table *t, uint64_t key)
{
  uint64_t mask = t->cap - 1, j = hash_u64(key) & mask;
  while (t->slots[j]) {
    if (t->keys[j] == key)
      return t->slots[j] - 1;
    j = (j + 1) & mask;
  }
  return -1;
}

/* ---- key encoding ---- */

bool key_fits_u64(const struct datatype *t)
{
  switch (t->id) {
  case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64:
  case TYPE_FLOAT32: case TYPE_FLOAT64: case TYPE_BOOL: case TYPE_DATE: case TYPE_DATETIME:
  case TYPE_DATETIME64: case TYPE_ENUM8: case TYPE_ENUM16:
    return true;
  default:
    return false;
  }
}

void key_load_u64(const struct column *c, uint32_t rows, uint64_t *out)
{
  size_t w = datatype_fixed_bytes(c->type);
  const unsigned char *d = c->data;
  if (c->is_const) {
    uint64_t v = 0;
    memcpy(&v, d, w);
    for (uint32_t i = 0; i < rows; i++)
      out[i] = v;
    return;
  }
  switch (w) {
  case 1: for (uint32_t i = 0; i < rows; i++) out[i] = d[i]; break;
  case 2: for (uint32_t i = 0; i < rows; i++) out[i] = ((const uint16_t *)d)[i]; break;
  case 4: for (uint32_t i = 0; i < rows; i++) out[i] = ((const uint32_t *)d)[i]; break;
  default: memcpy(out, d, (size_t)rows * 8); break;
  }
  if (c->type->id == TYPE_FLOAT64 || c->type->id == TYPE_FLOAT32) {
    /* -0.0 and 0.0 are one key */
    uint64_t negzero = c->type->id == TYPE_FLOAT64 ? 0x8000000000000000ULL : 0x80000000ULL;
    for (uint32_t i = 0; i < rows; i++)
      if (out[i] == negzero)
        out[i] = 0;
  }
}

void key_serialize(struct buf *b, const struct column *c, uint32_t row)
{
  uint32_t r = column_row(c, row);
  switch (c->type->id) {
  case TYPE_NULLABLE:
    if (c->nulls[r]) {
      buf_append_char(b, 1);
      return;
    }
    buf_append_char(b, 0);
    key_serialize(b, c->children[0], r);
    return;
  case TYPE_STRING: case TYPE_FIXED_STRING: {
    struct slice s = column_get_bytes(c, r);
    uint32_t n = (uint32_t)s.len;
    buf_append(b, &n, 4);
    buf_append(b, s.ptr, s.len);
    return;
  }
  case TYPE_LOW_CARDINALITY: {
    uint32_t k = ((const uint32_t *)c->data)[r];
    key_serialize(b, c->children[0], k);
    return;
  }
  case TYPE_ARRAY: case TYPE_MAP: {
    uint64_t s, e;
    column_array_range(c, r, &s, &e);
    uint32_t n = (uint32_t)(e - s);
    buf_append(b, &n, 4);
    for (uint64_t i = s; i < e; i++)
      for (uint32_t k = 0; k < c->child_count; k++)
        key_serialize(b, c->children[k], (uint32_t)i);
    return;
  }
  case TYPE_TUPLE:
    for (uint32_t k = 0; k < c->child_count; k++)
      key_serialize(b, c->children[k], r);
    return;
  case TYPE_NOTHING:
    return;
  case TYPE_FLOAT64: {
    double v = ((const double *)c->data)[r];
    if (v == 0)
      v = 0;
    buf_append(b, &v, 8);
    return;
  }
  case TYPE_FLOAT32: {
    float v = ((const float *)c->data)[r];
    if (v == 0)
      v = 0;
    buf_append(b, &v, 4);
    return;
  }
  default: {
    size_t w = datatype_fixed_bytes(c->type);
    buf_append(b, (const char *)c->data + (size_t)r * w, w);
    return;
  }
  }
}
