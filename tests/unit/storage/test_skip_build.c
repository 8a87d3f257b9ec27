/* Skip-index building: entries built from whole granules (where the builder
 * skips values it can tell repeat: the same dictionary key, the same bytes
 * as the previous row) equal entries built one row per call, for every
 * index type over String, LowCardinality(String), arrays of both,
 * Nullable(String) and integers; minmax over integers picks the true
 * extremes; and a bloom entry answers for every value added to it. */
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/column.h"
#include "base/datatype.h"
#include "tests/unit/test.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

enum { ROWS = 3000, CHUNK = 256 };

/* A value drawn from a small pool (so rows repeat), in runs. */
static void pick_value(char *out, size_t *len, uint32_t row)
{
  uint64_t v = (row / (1 + rnd() % 3)) % 40;
  if (rnd() % 7 == 0)
    v = rnd() % 1000;
  *len = (size_t)snprintf(out, 64, "val %llu-%s", (unsigned long long)v, v % 3 ? "x" : "token yy");
}

static struct column *make_strings(struct arena *a, const struct datatype *t)
{
  struct column *c = column_create(a, t, ROWS);
  char s[64];
  size_t n;
  for (uint32_t r = 0; r < ROWS; r++) {
    pick_value(s, &n, r);
    if (t->id == TYPE_NULLABLE && rnd() % 5 == 0) {
      column_append_null(c);
      continue;
    }
    column_append_bytes(c, s, n);
  }
  return c;
}

static struct column *make_arrays(struct arena *a, const struct datatype *t)
{
  struct column *c = column_create(a, t, ROWS);
  char s[64];
  size_t n;
  uint32_t width = 3;
  for (uint32_t r = 0; r < ROWS; r++) {
    if (rnd() % 5 == 0)
      width = (uint32_t)(rnd() % 5);
    for (uint32_t j = 0; j < width; j++) {
      if (rnd() % 4 == 0)
        pick_value(s, &n, r + j);
      else
        n = (size_t)snprintf(s, sizeof s, "k%u", j);
      column_append_bytes(c->children[0], s, n);
    }
    column_close_array_row(c);
  }
  return c;
}

static struct column *make_ints(struct arena *a, const struct datatype *t)
{
  struct column *c = column_create(a, t, ROWS);
  for (uint32_t r = 0; r < ROWS; r++) {
    int64_t v = (int64_t)(rnd() % 100000) - (t->id == TYPE_INT32 ? 50000 : 0);
    if (t->id == TYPE_UINT64)
      column_append_u64(c, (uint64_t)v + (rnd() % 3 == 0 ? (1ull << 63) : 0));
    else
      column_append_i64(c, v);
  }
  return c;
}

/* Entries of def over c: whole chunks per add call, or one row per call. */
static struct buf build(const struct skip_index_def *def, const struct column *c, bool per_row)
{
  struct skip_builder *b = skip_builder_create(def);
  uint32_t granules = 0;
  for (uint32_t start = 0; start < ROWS; start += CHUNK) {
    uint32_t n = ROWS - start < CHUNK ? ROWS - start : CHUNK;
    if (per_row)
      for (uint32_t r = start; r < start + n; r++)
        skip_builder_add(b, c, r, 1);
    else
      skip_builder_add(b, c, start, n);
    if (++granules % def->granularity == 0)
      skip_builder_close_entry(b);
  }
  if (granules % def->granularity)
    skip_builder_close_entry(b);
  struct buf out;
  buf_init(&out);
  struct buf *d = skip_builder_data(b);
  buf_append(&out, d->data, d->len);
  skip_builder_destroy(b);
  return out;
}

static void check_same(const char *what, const struct skip_index_def *def, const struct column *c)
{
  struct buf x = build(def, c, false), y = build(def, c, true);
  if (x.len != y.len || memcmp(x.data, y.data, x.len) != 0) {
    fprintf(stderr, "%s: type %d: entries differ (%zu vs %zu bytes)\n", what, (int)def->type, x.len, y.len);
    test_failures++;
  }
  buf_free(&x);
  buf_free(&y);
}

static void test_same_entries(void)
{
  struct arena a;
  arena_init(&a, 0);
  const struct datatype *str = datatype_simple(TYPE_STRING);
  const struct datatype *lc = datatype_low_cardinality(&a, str);
  struct {
    const char *name;
    const struct datatype *type;
    struct column *col;
  } inputs[] = {
    { "String", str, NULL },
    { "LowCardinality(String)", lc, NULL },
    { "Nullable(String)", datatype_nullable(&a, str), NULL },
    { "Array(String)", datatype_array(&a, str), NULL },
    { "Array(LowCardinality(String))", datatype_array(&a, lc), NULL },
    { "UInt64", datatype_simple(TYPE_UINT64), NULL },
    { "Int32", datatype_simple(TYPE_INT32), NULL },
  };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    const struct datatype *t = inputs[i].type;
    if (t->id == TYPE_ARRAY)
      inputs[i].col = make_arrays(&a, t);
    else if (t->id == TYPE_UINT64 || t->id == TYPE_INT32)
      inputs[i].col = make_ints(&a, t);
    else
      inputs[i].col = make_strings(&a, t);
  }
  struct skip_index_def defs[] = {
    { .name = "bf", .type = SKIP_INDEX_BLOOM_FILTER, .granularity = 1, .false_positive_rate = 0.001 },
    { .name = "bf4", .type = SKIP_INDEX_BLOOM_FILTER, .granularity = 4, .false_positive_rate = 0.01 },
    { .name = "set", .type = SKIP_INDEX_SET, .granularity = 2 },
    { .name = "set_small", .type = SKIP_INDEX_SET, .granularity = 1, .max_rows = 30 },
    { .name = "tokenbf", .type = SKIP_INDEX_TOKENBF, .granularity = 3, .size_bytes = 512, .hash_count = 3 },
    { .name = "ngrambf", .type = SKIP_INDEX_NGRAMBF, .granularity = 1, .size_bytes = 256, .hash_count = 2,
      .ngram_n = 3 },
    { .name = "minmax", .type = SKIP_INDEX_MINMAX, .granularity = 2 },
  };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
    for (size_t k = 0; k < sizeof defs / sizeof defs[0]; k++) {
      struct skip_index_def d = defs[k];
      d.input_type = inputs[i].type;
      if (d.type == SKIP_INDEX_MINMAX && inputs[i].type->id == TYPE_ARRAY)
        continue;
      check_same(inputs[i].name, &d, inputs[i].col);
    }
  arena_destroy(&a);
}

/* minmax over integers holds each entry's least and greatest value. */
static void test_int_minmax(void)
{
  struct arena a;
  arena_init(&a, 0);
  const struct datatype *types[] = { datatype_simple(TYPE_UINT64), datatype_simple(TYPE_INT32) };
  for (size_t i = 0; i < 2; i++) {
    struct column *c = make_ints(&a, types[i]);
    struct skip_index_def d = { .name = "mm", .type = SKIP_INDEX_MINMAX, .granularity = 1, .input_type = types[i] };
    struct buf x = build(&d, c, false);
    uint32_t entries = (ROWS + CHUNK - 1) / CHUNK;
    struct skip_index *ix = skip_index_parse(&d, entries, (const uint8_t *)x.data, x.len, &a);
    REQUIRE(ix != NULL);
    for (uint32_t e = 0; e < entries; e++) {
      const struct column *mm;
      REQUIRE(skip_index_minmax(ix, e, &mm));
      uint32_t lo = e * CHUNK, hi = lo + CHUNK < ROWS ? lo + CHUNK : ROWS, mn = lo, mx = lo;
      for (uint32_t r = lo; r < hi; r++) {
        if (column_compare_rows(c, r, c, mn, false) < 0)
          mn = r;
        if (column_compare_rows(c, r, c, mx, false) > 0)
          mx = r;
      }
      CHECK(column_compare_rows(mm, 0, c, mn, false) == 0);
      CHECK(column_compare_rows(mm, 1, c, mx, false) == 0);
    }
    buf_free(&x);
  }
  arena_destroy(&a);
}

/* Every value added to a bloom entry is reported as maybe present. */
static void test_bloom_answers(void)
{
  struct arena a;
  arena_init(&a, 0);
  const struct datatype *lc = datatype_low_cardinality(&a, datatype_simple(TYPE_STRING));
  const struct datatype *t = datatype_array(&a, lc);
  struct column *c = make_arrays(&a, t);
  struct skip_index_def d = { .name = "bf", .type = SKIP_INDEX_BLOOM_FILTER, .granularity = 1,
                              .false_positive_rate = 0.01, .input_type = t };
  struct buf x = build(&d, c, false);
  uint32_t entries = (ROWS + CHUNK - 1) / CHUNK;
  struct skip_index *ix = skip_index_parse(&d, entries, (const uint8_t *)x.data, x.len, &a);
  REQUIRE(ix != NULL);
  for (uint32_t r = 0; r < ROWS; r++) {
    uint64_t s, e;
    column_array_range(c, r, &s, &e);
    for (uint64_t i = s; i < e; i++) {
      struct slice v = column_get_bytes(c->children[0], (uint32_t)i);
      CHECK(skip_index_may_contain_equal(ix, r / CHUNK, v.ptr, v.len));
    }
  }
  buf_free(&x);
  arena_destroy(&a);
}

int main(void)
{
  test_same_entries();
  test_int_minmax();
  test_bloom_answers();
  TEST_DONE();
}
