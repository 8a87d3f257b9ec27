/* Part write/read round trips over every column type, multiple granules
 * and input blocks, subsets of columns and granules, the primary index,
 * min/max, skip-index answers, and corruption: every flipped byte is
 * detected (and reported with an offset) by reads and by part_verify,
 * truncated files are rejected, and part_verify also catches damage that
 * checksums cannot see. Also: many threads reading one reader at once
 * (run under TSan too), a low limit on open part fds, and reads in a
 * forked child next to the parent's.
 * SPANHOUSE_TEST_ONLY=name runs one test (round_trip, threads, fds, verify,
 * corruption, computed, ...). */
#include "storage/storage.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "tests/unit/test.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static struct arena A;
static char dir[256];

static const struct datatype *T(const char *text)
{
  const struct datatype *t;
  struct error err;
  if (datatype_parse(&A, text, strlen(text), &t, &err) != 0) {
    fprintf(stderr, "type %s: %s\n", text, err.message);
    exit(1);
  }
  return t;
}

static struct codec_chain C(const char *text)
{
  struct codec_chain c = { 0 };
  struct error err;
  if (text && codec_chain_parse_text(text, &c, &err) != 0) {
    fprintf(stderr, "codec %s: %s\n", text, err.message);
    exit(1);
  }
  return c;
}

enum {
  C_TS, C_ID, C_F, C_S, C_SVC, C_NS, C_NI, C_ARR, C_MAP, C_EVN, C_EVT, C_FS, C_UUID, C_LCN, C_DATE, C_DT, C_B, C_E,
  C_DD, C_TUP, C_AAS, NCOLS
};

static struct part_column_def cols[NCOLS];
static struct skip_index_def idx[6];
static uint32_t keys[] = { C_SVC, C_TS };
static uint32_t mms[] = { C_TS, C_DATE };
static struct part_schema schema;

static void setup_schema(void)
{
  struct { const char *name, *type, *codec; } d[NCOLS] = {
    { "ts", "DateTime64(9)", "Delta(8), ZSTD(1)" }, { "id", "UInt64", "T64, ZSTD(1)" },
    { "f", "Float64", "Gorilla, LZ4" },             { "s", "String", "ZSTD(1)" },
    { "svc", "LowCardinality(String)", NULL },      { "ns", "Nullable(String)", NULL },
    { "ni", "Nullable(Int32)", "Delta, LZ4" },      { "arr", "Array(UInt32)", "ZSTD(3)" },
    { "m", "Map(LowCardinality(String), String)", "ZSTD(1)" },
    { "ev.name", "Array(LowCardinality(String))", NULL }, { "ev.ts", "Array(DateTime64(9))", "DoubleDelta, ZSTD(1)" },
    { "fs", "FixedString(4)", NULL },               { "u", "UUID", "NONE" },
    { "lcn", "LowCardinality(Nullable(String))", NULL }, { "d", "Date", "DoubleDelta" },
    { "dt", "DateTime", "T64" },                    { "b", "Bool", NULL },
    { "e", "Enum8('a' = 1, 'b' = 2)", NULL },       { "dd", "Int32", "DoubleDelta, LZ4" },
    { "t", "Tuple(a UInt8, b String)", NULL },      { "aas", "Array(Array(String))", NULL },
  };
  for (int i = 0; i < NCOLS; i++)
    cols[i] = (struct part_column_def){ d[i].name, T(d[i].type), C(d[i].codec), false };
  idx[0] = (struct skip_index_def){ .name = "idx_s", .expression = "s", .type = SKIP_INDEX_BLOOM_FILTER,
                                    .input_type = T("String"), .granularity = 1, .false_positive_rate = 0.001 };
  idx[1] = (struct skip_index_def){ .name = "idx_mk", .expression = "mapKeys(m)", .type = SKIP_INDEX_BLOOM_FILTER,
                                    .input_type = T("Array(String)"), .granularity = 1, .false_positive_rate = 0.01 };
  idx[2] = (struct skip_index_def){ .name = "idx_ns", .expression = "ns", .type = SKIP_INDEX_TOKENBF,
                                    .input_type = T("Nullable(String)"), .granularity = 2, .size_bytes = 4096,
                                    .hash_count = 3, .seed = 0 };
  idx[3] = (struct skip_index_def){ .name = "idx_ng", .expression = "ns", .type = SKIP_INDEX_NGRAMBF,
                                    .input_type = T("Nullable(String)"), .granularity = 1, .size_bytes = 8192,
                                    .hash_count = 2, .seed = 7, .ngram_n = 4 };
  idx[4] = (struct skip_index_def){ .name = "idx_id", .expression = "id", .type = SKIP_INDEX_MINMAX,
                                    .input_type = T("UInt64"), .granularity = 1 };
  idx[5] = (struct skip_index_def){ .name = "idx_svc", .expression = "svc", .type = SKIP_INDEX_SET,
                                    .input_type = T("LowCardinality(String)"), .granularity = 3, .max_rows = 4 };
  schema = (struct part_schema){ NCOLS, cols, 2, keys, 2, mms, 6, idx };
}

static const char *services[] = { "api", "cart", "checkout", "db", "email", "frontend" };
static const char *words[] = { "GET", "POST", "timeout", "connection refused", "ok", "http://x/y?z=1", "" };

static void hex(char *out, int n)
{
  for (int i = 0; i < n; i++)
    out[i] = "0123456789abcdef"[rnd() % 16];
}

/* Rows [first, first+n) of the test table; global row r is deterministic in r. */
static struct block *make_block(struct arena *a, uint32_t first, uint32_t n)
{
  struct block *b = block_create(a, NCOLS + 6);
  b->rows = n;
  for (int i = 0; i < NCOLS; i++) {
    b->columns[i] = column_create(a, cols[i].type, n);
    b->names[i] = cols[i].name;
  }
  for (uint32_t k = 0; k < n; k++) {
    uint32_t r = first + k;
    rng = 0x1234567ull * (r + 1) ^ 0x9E3779B97F4A7C15ull;
    rnd();
    column_append_i64(b->columns[C_TS], 1700000000000000000ll + (int64_t)r * 1000003 + (int64_t)(rnd() % 1000));
    column_append_u64(b->columns[C_ID], r % 7 == 0 ? UINT64_MAX - r : r * 3);
    column_append_f64(b->columns[C_F], 100.0 + (double)(rnd() % 1000) / 8.0);
    char h[32];
    hex(h, 32);
    column_append_bytes(b->columns[C_S], h, r % 5 == 0 ? 0 : 32);
    const char *svc = services[(r / 1000) % 6];
    column_append_bytes(b->columns[C_SVC], svc, strlen(svc));
    if (r % 3 == 0) {
      column_append_null(b->columns[C_NS]);
    } else {
      char msg[64];
      int len = snprintf(msg, sizeof msg, "%s %s #%u", words[r % 7], words[(r / 7) % 7], r);
      column_append_bytes(b->columns[C_NS], msg, (size_t)len);
    }
    if (r % 4 == 1)
      column_append_null(b->columns[C_NI]);
    else
      column_append_i64(b->columns[C_NI], -(int64_t)r);
    struct column *arr = b->columns[C_ARR];
    for (uint32_t j = 0; j < r % 4; j++)
      column_append_u64(arr->children[0], r + j);
    column_close_array_row(arr);
    struct column *m = b->columns[C_MAP];
    for (uint32_t j = 0; j < r % 3; j++) {
      char key[32], val[32];
      int kl = snprintf(key, sizeof key, "http.k%u", (r + j) % 5);
      int vl = snprintf(val, sizeof val, "v%u", r * 7 + j);
      column_append_bytes(m->children[0], key, (size_t)kl);
      column_append_bytes(m->children[1], val, (size_t)vl);
    }
    column_close_array_row(m);
    for (uint32_t j = 0; j < r % 2 + (r % 11 == 0); j++) {
      column_append_bytes(b->columns[C_EVN]->children[0], words[j], strlen(words[j]));
      column_append_i64(b->columns[C_EVT]->children[0], 1700000000000000000ll + (int64_t)r * 1000 + j);
    }
    column_close_array_row(b->columns[C_EVN]);
    column_close_array_row(b->columns[C_EVT]);
    char fs[4] = { (char)('a' + r % 26), (char)r, 0, (char)(r >> 8) };
    column_append_bytes(b->columns[C_FS], fs, r % 9 == 0 ? 2 : 4);
    uint8_t u[16];
    for (int j = 0; j < 16; j++)
      u[j] = (uint8_t)rnd();
    column_append_bytes(b->columns[C_UUID], u, 16);
    if (r % 5 == 2)
      column_append_null(b->columns[C_LCN]);
    else
      column_append_bytes(b->columns[C_LCN], words[r % 6], strlen(words[r % 6]));
    column_append_u64(b->columns[C_DATE], 19000 + r / 5000);
    column_append_u64(b->columns[C_DT], 1700000000u + r);
    column_append_u64(b->columns[C_B], r % 2);
    column_append_i64(b->columns[C_E], 1 + r % 2);
    column_append_i64(b->columns[C_DD], (int64_t)r * r);
    struct column *t = b->columns[C_TUP];
    column_append_u64(t->children[0], r & 0xff);
    column_append_bytes(t->children[1], words[r % 7], strlen(words[r % 7]));
    column_close_tuple_row(t);
    struct column *aas = b->columns[C_AAS];
    for (uint32_t j = 0; j < r % 3; j++) {
      for (uint32_t q = 0; q < j; q++)
        column_append_bytes(aas->children[0]->children[0], words[q], strlen(words[q]));
      column_close_array_row(aas->children[0]);
    }
    column_close_array_row(aas);
  }
  /* skip index inputs */
  b->columns[NCOLS + 0] = b->columns[C_S];
  struct column *mk = column_create(a, T("Array(String)"), n);
  const struct column *m = b->columns[C_MAP];
  for (uint32_t k = 0; k < n; k++) {
    uint64_t s = k ? m->offsets[k - 1] : 0;
    for (uint64_t j = s; j < m->offsets[k]; j++) {
      struct slice v = column_get_bytes(m->children[0], (uint32_t)j);
      column_append_bytes(mk->children[0], v.ptr, v.len);
    }
    column_close_array_row(mk);
  }
  b->columns[NCOLS + 1] = mk;
  b->columns[NCOLS + 2] = b->columns[C_NS];
  b->columns[NCOLS + 3] = b->columns[C_NS];
  b->columns[NCOLS + 4] = b->columns[C_ID];
  b->columns[NCOLS + 5] = b->columns[C_SVC];
  return b;
}

enum { ROWS = 20000, GRAN = 1000 };

static char *write_part_rows(const char *name, const struct part_writer_options *opt, struct part_info *info,
                             uint32_t total)
{
  struct part_writer *w;
  struct error err;
  int rc = part_writer_open(dir, name, &schema, opt, &w, &err);
  if (rc) {
    fprintf(stderr, "open: %s\n", err.message);
    exit(1);
  }
  static const uint32_t sizes[] = { 1, 2999, 7000, 4000, 5000, 1000 };
  uint32_t first = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    struct arena a;
    arena_init(&a, 0);
    uint32_t n = (uint32_t)((uint64_t)sizes[i] * total / ROWS);
    if (i == sizeof sizes / sizeof sizes[0] - 1)
      n = total - first;
    struct block *b = make_block(&a, first, n);
    rc = part_writer_write_block(w, b, &err);
    arena_destroy(&a);
    if (rc) {
      fprintf(stderr, "write: %s\n", err.message);
      exit(1);
    }
    first += n;
  }
  REQUIRE(first == total);
  rc = part_writer_finish(w, &A, info, &err);
  if (rc) {
    fprintf(stderr, "finish: %s\n", err.message);
    exit(1);
  }
  return arena_printf(&A, "%s/%s", dir, name);
}

static char *write_part(const char *name, const struct part_writer_options *opt, struct part_info *info)
{
  return write_part_rows(name, opt, info, ROWS);
}

static void compare_rows(const struct block *got, uint32_t got_row, const struct block *want, uint32_t want_row,
                         const uint32_t *which, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++) {
    const struct column *g = got->columns[i], *w = want->columns[which[i]];
    if (column_compare_rows(g, got_row, w, want_row, false) != 0) {
      struct buf a, b;
      buf_init(&a);
      buf_init(&b);
      column_format_value(g, got_row, &a);
      column_format_value(w, want_row, &b);
      fprintf(stderr, "row %u column %s: got %s want %s\n", want_row, cols[which[i]].name, buf_cstr(&a), buf_cstr(&b));
      buf_free(&a);
      buf_free(&b);
      test_failures++;
      return;
    }
    if (g->type->id == TYPE_FLOAT64 && column_get_f64(g, got_row) != column_get_f64(w, want_row))
      test_failures++;
  }
}

static void test_round_trip(void)
{
  struct part_writer_options opt = { .index_granularity = GRAN, .min_block_bytes = 4096, .max_block_bytes = 32768,
                                     .partition_id = "p1-202401", .partition_value = SLICE_LIT("\x01\x02pv"),
                                     .map_grouping = PART_MAP_GROUPING_ALWAYS };
  struct part_info info;
  char *path = write_part("all_1_1_0", &opt, &info);
  CHECK_EQ_INT(info.rows, ROWS);
  CHECK_EQ_INT(info.granules, ROWS / GRAN);
  struct stat st;
  REQUIRE(stat(path, &st) == 0);
  CHECK_EQ_INT(info.bytes_on_disk, st.st_size);
  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s/tmp_all_1_1_0", dir);
  CHECK(access(tmp, F_OK) != 0);
  CHECK(info.columns[C_TS].compressed_bytes > 0);
  CHECK(info.columns[C_TS].uncompressed_bytes == ROWS * 8);
  CHECK_EQ_INT(info.minmax[0]->rows, 2);

  struct arena ra;
  arena_init(&ra, 0);
  struct part_reader *r;
  struct error err;
  int rc = part_reader_open(path, &ra, &r, &err);
  if (rc)
    fprintf(stderr, "%s\n", err.message);
  REQUIRE(rc == 0);
  CHECK_EQ_INT(part_reader_rows(r), ROWS);
  CHECK_EQ_INT(part_reader_granule_count(r), ROWS / GRAN);
  CHECK_EQ_INT(part_reader_granule_rows(r, 3), GRAN);
  CHECK_EQ_INT(part_reader_granule_first_row(r, 3), 3 * GRAN);
  CHECK_EQ_STR(part_reader_partition_id(r), "p1-202401");
  CHECK(part_reader_partition_value(r).len == 4 && memcmp(part_reader_partition_value(r).ptr, "\x01\x02pv", 4) == 0);
  const struct part_schema *S = part_reader_schema(r);
  CHECK_EQ_INT(S->column_count, NCOLS);
  for (int i = 0; i < NCOLS; i++) {
    CHECK_EQ_STR(S->columns[i].name, cols[i].name);
    CHECK(datatype_equal(S->columns[i].type, cols[i].type));
  }
  CHECK_EQ_INT(S->columns[C_TS].codec.count, 2);

  /* everything */
  struct arena all_a;
  arena_init(&all_a, 0);
  struct block *want = make_block(&all_a, 0, ROWS);
  struct part_read_column rq[NCOLS];
  uint32_t which[NCOLS];
  for (int i = 0; i < NCOLS; i++) {
    rq[i] = (struct part_read_column){ cols[i].name, NULL };
    which[i] = (uint32_t)i;
  }
  struct granule_range whole = { 0, ROWS / GRAN };
  struct block *got;
  struct part_read_stats rs;
  rc = part_reader_read(r, rq, NCOLS, &whole, 1, &ra, &got, &rs, &err);
  if (rc)
    fprintf(stderr, "%s\n", err.message);
  REQUIRE(rc == 0);
  CHECK_EQ_INT(got->rows, ROWS);
  CHECK_EQ_INT(rs.rows, ROWS);
  CHECK(rs.bytes_read > 0 && rs.bytes_read < (uint64_t)st.st_size);
  for (uint32_t row = 0; row < ROWS; row++)
    compare_rows(got, row, want, row, which, NCOLS);

  /* a subset of columns and granules */
  struct part_read_column sub[3] = { { "m", NULL }, { "svc", NULL }, { "added", T("Nullable(UInt8)") } };
  struct granule_range rg[2] = { { 2, 4 }, { 17, 18 } };
  rc = part_reader_read(r, sub, 3, rg, 2, &ra, &got, &rs, &err);
  REQUIRE(rc == 0);
  CHECK_EQ_INT(got->rows, 3 * GRAN);
  uint32_t which2[2] = { C_MAP, C_SVC };
  for (uint32_t row = 0; row < 3 * GRAN; row++) {
    uint32_t wr = row < 2 * GRAN ? 2 * GRAN + row : 17 * GRAN + (row - 2 * GRAN);
    compare_rows(got, row, want, wr, which2, 2);
    CHECK(column_is_null(got->columns[2], row));
  }
  struct part_read_stats rs_all = rs;
  struct granule_range one = { 5, 6 };
  struct part_read_column only_id = { "id", NULL };
  rc = part_reader_read(r, &only_id, 1, &one, 1, &ra, &got, &rs, &err);
  REQUIRE(rc == 0);
  CHECK(rs.blocks_read < rs_all.blocks_read && rs.bytes_uncompressed < rs_all.bytes_uncompressed);
  /* the whole read above decoded every block; these came from the block cache */
  CHECK(rs_all.blocks_cached == rs_all.blocks_read && rs_all.bytes_read == 0 && rs_all.bytes_decoded == 0);
  CHECK(rs.blocks_cached == rs.blocks_read);
  CHECK_EQ_INT(column_get_u64(got->columns[0], 0), (5 * GRAN) % 7 == 0 ? UINT64_MAX - 5 * GRAN : 5 * GRAN * 3);
  struct part_read_column missing = { "nope", NULL };
  CHECK_EQ_INT(part_reader_read(r, &missing, 1, &one, 1, &ra, &got, NULL, &err), ERR_NO_SUCH_COLUMN_IN_TABLE);
  struct granule_range bad = { 5, 99 };
  CHECK_EQ_INT(part_reader_read(r, &only_id, 1, &bad, 1, &ra, &got, NULL, &err), ERR_BAD_ARGUMENTS);

  /* primary index: value of each key column at each granule start */
  const struct column *pk0 = part_reader_primary_index(r, 0), *pk1 = part_reader_primary_index(r, 1);
  REQUIRE(pk0 && pk1);
  CHECK_EQ_INT(pk0->rows, ROWS / GRAN);
  for (uint32_t g = 0; g < ROWS / GRAN; g++) {
    CHECK(column_compare_rows(pk0, g, want->columns[C_SVC], g * GRAN, false) == 0);
    CHECK(column_compare_rows(pk1, g, want->columns[C_TS], g * GRAN, false) == 0);
  }
  /* min/max */
  const struct column *mm = part_reader_minmax(r, "ts");
  REQUIRE(mm && mm->rows == 2);
  CHECK(column_compare_rows(mm, 0, want->columns[C_TS], 0, false) == 0);
  CHECK(column_compare_rows(mm, 1, want->columns[C_TS], ROWS - 1, false) == 0);
  CHECK(column_compare_rows(info.minmax[0], 1, want->columns[C_TS], ROWS - 1, false) == 0);
  const struct column *mmd = part_reader_minmax(r, "d");
  REQUIRE(mmd);
  CHECK_EQ_INT(column_get_u64(mmd, 0), 19000);
  CHECK_EQ_INT(column_get_u64(mmd, 1), 19000 + (ROWS - 1) / 5000);
  CHECK(part_reader_minmax(r, "id") == NULL);
  struct column *lo = column_create(&ra, T("Date"), 1), *hi = column_create(&ra, T("Date"), 1);
  column_append_u64(lo, 18000);
  column_append_u64(hi, 18999);
  CHECK(!minmax_range_overlaps(mmd, lo, 0, true, hi, 0, true));
  CHECK(minmax_range_overlaps(mmd, lo, 0, true, NULL, 0, true));
  CHECK(!minmax_range_overlaps(mmd, NULL, 0, true, hi, 0, false));

  /* skip indexes */
  const struct skip_index *ix;
  REQUIRE(part_reader_skip_index(r, 0, &ix, &err) == 0);
  CHECK_EQ_INT(skip_index_entry_count(ix), ROWS / GRAN);
  uint32_t false_pos = 0, probes = 0;
  for (uint32_t row = 1; row < ROWS; row += 37) {
    struct slice v = column_get_bytes(want->columns[C_S], row);
    uint32_t g = row / GRAN;
    CHECK(skip_index_may_contain_equal(ix, g, v.ptr, v.len));
    for (uint32_t og = 0; og < ROWS / GRAN; og++)
      if (og != g && v.len) {
        probes++;
        false_pos += skip_index_may_contain_equal(ix, og, v.ptr, v.len);
      }
  }
  CHECK(false_pos * 100 < probes);  /* fp rate 0.001 requested */
  REQUIRE(part_reader_skip_index(r, 1, &ix, &err) == 0);
  CHECK(skip_index_may_contain_equal(ix, 0, "http.k1", 7));
  CHECK(!skip_index_may_contain_equal(ix, 0, "http.nope", 9));
  REQUIRE(part_reader_skip_index(r, 2, &ix, &err) == 0);
  CHECK_EQ_INT(skip_index_entry_count(ix), ROWS / GRAN / 2);
  CHECK(skip_index_may_contain_token(ix, 0, "timeout", 7));
  CHECK(skip_index_may_contain_token(ix, 0, "refused", 7));
  CHECK(!skip_index_may_contain_token(ix, 0, "zebra", 5));
  CHECK(skip_index_may_contain_equal(ix, 0, "connection refused", 18));
  CHECK(!skip_index_may_contain_equal(ix, 0, "connection zebra", 16));
  CHECK(skip_index_may_contain_substring(ix, 0, "x connection refused y", 22));
  CHECK(!skip_index_may_contain_substring(ix, 0, "x zebra y", 9));
  CHECK(skip_index_may_contain_substring(ix, 0, "zebra", 5));   /* partial tokens cannot prune */
  REQUIRE(part_reader_skip_index(r, 3, &ix, &err) == 0);
  CHECK(skip_index_may_contain_substring(ix, 0, "refus", 5));
  CHECK(!skip_index_may_contain_substring(ix, 0, "qqqqq", 5));
  CHECK(skip_index_may_contain_substring(ix, 0, "qq", 2));       /* shorter than n */
  REQUIRE(part_reader_skip_index(r, 4, &ix, &err) == 0);
  const struct column *emm;
  REQUIRE(skip_index_minmax(ix, 1, &emm));
  uint64_t probe = 1500 * 3;
  CHECK(skip_index_may_contain_equal(ix, 1, &probe, 8));
  probe = 999999999;
  CHECK(!skip_index_may_contain_equal(ix, 2, &probe, 8) || column_get_u64(emm, 1) >= probe);
  REQUIRE(part_reader_skip_index(r, 5, &ix, &err) == 0);
  CHECK_EQ_INT(skip_index_entry_count(ix), (ROWS / GRAN + 2) / 3);
  CHECK(skip_index_may_contain_equal(ix, 0, "api", 3));
  CHECK(!skip_index_may_contain_equal(ix, 0, "db", 2));
  CHECK(skip_index_may_contain_equal(ix, 1, "db", 2));
  CHECK(!skip_index_may_contain_equal(ix, 1, "cart", 4));
  part_reader_close(r);
  arena_destroy(&all_a);
  arena_destroy(&ra);
}

/* Flip one byte at many offsets (every offset in the tail region): the open
 * or a full read must fail with CORRUPTED_DATA/CANNOT_DECOMPRESS naming the
 * file and an offset. Truncations must fail too. */
static void test_corruption(void)
{
  struct part_writer_options opt = { .index_granularity = 256, .min_block_bytes = 1024, .max_block_bytes = 4096,
                                     .default_codec = codec_chain_zstd(1), .no_fsync = true,
                                     .map_grouping = PART_MAP_GROUPING_ALWAYS };
  struct part_info info;
  char *path = write_part_rows("all_2_2_0", &opt, &info, 2000);
  FILE *f = fopen(path, "rb");
  REQUIRE(f);
  size_t n = (size_t)info.bytes_on_disk;
  uint8_t *orig = malloc(n);
  REQUIRE(fread(orig, 1, n, f) == n);
  fclose(f);
  char *bad = arena_printf(&A, "%s/bad_part", dir);
  struct part_read_column rq[NCOLS];
  for (int i = 0; i < NCOLS; i++)
    rq[i] = (struct part_read_column){ cols[i].name, NULL };
  uint32_t step = (uint32_t)(n / 1500) | 1, tested = 0, detected = 0;
  for (size_t off = 0; off < n; off += (off + 4096 > n ? 1 : step)) {
    orig[off] ^= 0x40;
    f = fopen(bad, "wb");
    fwrite(orig, 1, n, f);
    fclose(f);
    orig[off] ^= 0x40;
    struct arena ra;
    arena_init(&ra, 0);
    struct part_reader *r;
    struct error err;
    int rc = part_reader_open(bad, &ra, &r, &err);
    if (rc == 0) {
      struct granule_range g = { 0, part_reader_granule_count(r) };
      struct block *b;
      rc = part_reader_read(r, rq, NCOLS, &g, 1, &ra, &b, NULL, &err);
      for (uint32_t i = 0; rc == 0 && i < part_reader_schema(r)->index_count; i++) {
        const struct skip_index *ix;
        rc = part_reader_skip_index(r, i, &ix, &err);
      }
    }
    tested++;
    struct error verr;
    int vrc = part_verify(bad, &verr);
    if ((vrc != ERR_CORRUPTED_DATA && vrc != ERR_CANNOT_DECOMPRESS) || !strstr(verr.message, "bad_part") ||
        !strstr(verr.message, "offset")) {
      fprintf(stderr, "flip at %zu: part_verify rc=%d: %s\n", off, vrc, vrc ? verr.message : "");
      test_failures++;
    }
    if (rc == ERR_CORRUPTED_DATA || rc == ERR_CANNOT_DECOMPRESS) {
      detected++;
      if (!strstr(err.message, "bad_part") || !strstr(err.message, "offset")) {
        fprintf(stderr, "flip at %zu: message lacks file/offset: %s\n", off, err.message);
        test_failures++;
      }
    } else {
      fprintf(stderr, "flip at %zu not detected (rc=%d)\n", off, rc);
      test_failures++;
    }
    arena_destroy(&ra);
  }
  CHECK(tested > 1000);
  CHECK_EQ_INT(detected, tested);
  struct error verr;
  CHECK_EQ_INT(part_verify(path, &verr), 0);
  /* truncations */
  for (size_t cut = 0; cut < n; cut += (cut < 64 || n - cut < 64) ? 1 : n / 97) {
    f = fopen(bad, "wb");
    fwrite(orig, 1, cut, f);
    fclose(f);
    struct arena ra;
    arena_init(&ra, 0);
    struct part_reader *r;
    struct error err;
    int rc = part_reader_open(bad, &ra, &r, &err);
    CHECK_EQ_INT(rc, ERR_CORRUPTED_DATA);
    CHECK_EQ_INT(part_verify(bad, &err), ERR_CORRUPTED_DATA);
    arena_destroy(&ra);
  }
  free(orig);
  unlink(bad);
}

static void test_abort_and_empty(void)
{
  struct part_writer *w;
  struct error err;
  REQUIRE(part_writer_open(dir, "all_3_3_0", &schema, NULL, &w, &err) == 0);
  struct arena a;
  arena_init(&a, 0);
  REQUIRE(part_writer_write_block(w, make_block(&a, 0, 10), &err) == 0);
  part_writer_abort(w);
  char p[512];
  snprintf(p, sizeof p, "%s/tmp_all_3_3_0", dir);
  CHECK(access(p, F_OK) != 0);
  /* wrong input */
  REQUIRE(part_writer_open(dir, "all_4_4_0", &schema, NULL, &w, &err) == 0);
  struct block *b = make_block(&a, 0, 10);
  b->column_count--;
  CHECK_EQ_INT(part_writer_write_block(w, b, &err), ERR_NUMBER_OF_COLUMNS_DOESNT_MATCH);
  part_writer_abort(w);
  /* an empty part */
  struct part_info info;
  REQUIRE(part_writer_open(dir, "all_5_5_0", &schema, NULL, &w, &err) == 0);
  REQUIRE(part_writer_finish(w, &A, &info, &err) == 0);
  CHECK_EQ_INT(info.rows, 0);
  struct part_reader *r;
  snprintf(p, sizeof p, "%s/all_5_5_0", dir);
  REQUIRE(part_reader_open(p, &a, &r, &err) == 0);
  CHECK_EQ_INT(part_reader_granule_count(r), 0);
  CHECK(part_reader_minmax(r, "ts") == NULL);
  struct part_read_column c = { "ts", NULL };
  struct block *out;
  REQUIRE(part_reader_read(r, &c, 1, NULL, 0, &a, &out, NULL, &err) == 0);
  CHECK_EQ_INT(out->rows, 0);
  CHECK_EQ_INT(part_reader_open("/nonexistent/x", &a, &r, &err), ERR_FILE_DOESNT_EXIST);
  arena_destroy(&a);
}

static void test_granule_bytes_cap(void)
{
  /* index_granularity_bytes closes granules early on wide rows */
  struct part_column_def c1[1] = { { "s", T("String"), { 0 }, false } };
  struct part_schema s1 = { 1, c1, 0, NULL, 0, NULL, 0, NULL };
  struct part_writer_options opt = { .index_granularity = 8192, .index_granularity_bytes = 100000,
                                     .default_codec = codec_chain_zstd(1) };
  struct part_writer *w;
  struct error err;
  REQUIRE(part_writer_open(dir, "all_6_6_0", &s1, &opt, &w, &err) == 0);
  struct arena a;
  arena_init(&a, 0);
  struct block *b = block_create(&a, 1);
  b->rows = 1000;
  b->columns[0] = column_create(&a, c1[0].type, 1000);
  char big[1000];
  memset(big, 'x', sizeof big);
  for (int i = 0; i < 1000; i++)
    column_append_bytes(b->columns[0], big, sizeof big);
  REQUIRE(part_writer_write_block(w, b, &err) == 0);
  struct part_info info;
  REQUIRE(part_writer_finish(w, &a, &info, &err) == 0);
  CHECK(info.granules >= 9 && info.granules <= 11);
  arena_destroy(&a);
}

/* ---- many threads on one reader ---- */

struct thread_arg {
  struct part_reader *r;
  const struct block *want;      /* the part's rows (each thread its own copy) */
  uint64_t seed;
  int bad;                       /* mismatches and failures (CHECK is not thread-safe) */
  int reads;
};

static void *reader_thread(void *p)
{
  struct thread_arg *t = p;
  const struct block *want = t->want;
  uint64_t x = t->seed;
  uint32_t G = part_reader_granule_count(t->r);
  for (int it = 0; it < 40; it++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t g0 = (uint32_t)((x >> 33) % G), g1 = g0 + 1 + (uint32_t)((x >> 20) % 3);
    if (g1 > G)
      g1 = G;
    struct part_read_column rq[4];
    uint32_t which[4];
    for (int k = 0; k < 4; k++) {
      which[k] = (uint32_t)((x >> (8 * k + 3)) % NCOLS);
      rq[k] = (struct part_read_column){ cols[which[k]].name, NULL };
    }
    struct arena a;
    arena_init(&a, 0);
    struct granule_range rg = { g0, g1 };
    struct block *got;
    struct error err;
    if (part_reader_read(t->r, rq, 4, &rg, 1, &a, &got, NULL, &err) != 0) {
      fprintf(stderr, "thread read: %s\n", err.message);
      t->bad++;
    } else {
      for (uint32_t row = 0; row < got->rows; row++)
        for (int k = 0; k < 4; k++)
          t->bad += column_compare_rows(got->columns[k], row, want->columns[which[k]], g0 * GRAN + row, false) != 0;
      t->reads++;
    }
    /* skip indexes load once, whoever asks first */
    const struct skip_index *ix;
    uint32_t index = (uint32_t)(x % 6);
    if (part_reader_skip_index(t->r, index, &ix, &err) != 0) {
      t->bad++;
    } else if (index == 0) {
      struct slice v = column_get_bytes(want->columns[C_S], g0 * GRAN + 1);
      t->bad += !skip_index_may_contain_equal(ix, g0, v.ptr, v.len);
    }
    arena_destroy(&a);
  }
  return NULL;
}

static void test_threads(void)
{
  struct part_writer_options opt = { .index_granularity = GRAN, .min_block_bytes = 4096, .max_block_bytes = 32768,
                                     .no_fsync = true, .map_grouping = PART_MAP_GROUPING_ALWAYS };
  struct part_info info;
  char *path = write_part("all_7_7_0", &opt, &info);
  /* a default cache, one so small that blocks are evicted while in use, none */
  static const uint64_t budgets[] = { 256u << 20, 256u << 10, 0 };
  for (size_t bi = 0; bi < sizeof budgets / sizeof budgets[0]; bi++) {
    storage_block_cache_set_max_bytes(budgets[bi]);
    struct arena ra;
    arena_init(&ra, 0);
    struct part_reader *r;
    struct error err;
    REQUIRE(part_reader_open(path, &ra, &r, &err) == 0);
    enum { THREADS = 8 };
    pthread_t th[THREADS];
    struct thread_arg args[THREADS];
    struct arena wa;
    arena_init(&wa, 0);
    for (int i = 0; i < THREADS; i++) {
      /* make_block is not thread-safe; comparing may cache inside columns */
      args[i] = (struct thread_arg){ r, make_block(&wa, 0, ROWS), 0x5EED0000u + (uint64_t)i * 7919 + bi, 0, 0 };
    }
    for (int i = 0; i < THREADS; i++) {
      REQUIRE(pthread_create(&th[i], NULL, reader_thread, &args[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
      pthread_join(th[i], NULL);
      CHECK_EQ_INT(args[i].bad, 0);
      CHECK_EQ_INT(args[i].reads, 40);
    }
    arena_destroy(&ra);
    arena_destroy(&wa);
  }
  storage_block_cache_set_max_bytes(256u << 20);
  struct storage_block_cache_stats cs;
  storage_block_cache_get_stats(&cs);
  CHECK(cs.hits > 0 && cs.evictions > 0);
}

/* ---- fork: the child reads through its own ring, the parent's stays good ---- */

static int read_all_and_compare(struct part_reader *r, const struct block *want)
{
  struct part_read_column rq[NCOLS];
  uint32_t which[NCOLS];
  for (int i = 0; i < NCOLS; i++) {
    rq[i] = (struct part_read_column){ cols[i].name, NULL };
    which[i] = (uint32_t)i;
  }
  int bad = 0;
  for (uint32_t g = 0; g < part_reader_granule_count(r); g++) {
    struct arena a;
    arena_init(&a, 0);
    struct granule_range rg = { g, g + 1 };
    struct block *got;
    struct error err;
    if (part_reader_read(r, rq, NCOLS, &rg, 1, &a, &got, NULL, &err) != 0) {
      fprintf(stderr, "%d: %s\n", (int)getpid(), err.message);
      bad++;
    } else {
      for (uint32_t row = 0; row < got->rows; row++)
        for (int i = 0; i < NCOLS; i++)
          bad += column_compare_rows(got->columns[i], row, want->columns[which[i]], g * GRAN + row, false) != 0;
    }
    arena_destroy(&a);
  }
  return bad;
}

static void test_fork(void)
{
  struct part_writer_options opt = { .index_granularity = GRAN, .min_block_bytes = 4096, .max_block_bytes = 32768,
                                     .no_fsync = true };
  struct part_info info;
  char *path = write_part("all_10_10_0", &opt, &info);
  struct arena ra, wa;
  arena_init(&ra, 0);
  arena_init(&wa, 0);
  struct block *want = make_block(&wa, 0, ROWS);
  struct part_reader *r;
  struct error err;
  REQUIRE(part_reader_open(path, &ra, &r, &err) == 0);
  CHECK_EQ_INT(read_all_and_compare(r, want), 0);
  for (int k = 0; k < 3; k++) {
    storage_block_cache_set_max_bytes(0);    /* every read goes to the file */
    storage_block_cache_set_max_bytes(k == 2 ? 0 : 256u << 20);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
      _exit(read_all_and_compare(r, want) + read_all_and_compare(r, want) ? 1 : 0);
    int parent_bad = read_all_and_compare(r, want);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(parent_bad, 0);
    CHECK_EQ_INT(read_all_and_compare(r, want), 0);
  }
  storage_block_cache_set_max_bytes(256u << 20);
  arena_destroy(&ra);
  arena_destroy(&wa);
}

/* ---- a low limit on open part fds ---- */

static void copy_file(const char *from, const char *to)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s.tmp' && mv '%s.tmp' '%s'", from, to, to, to);
  REQUIRE(system(cmd) == 0);
}

static void test_fd_limit(void)
{
  struct part_writer_options opt = { .index_granularity = 250, .min_block_bytes = 4096, .max_block_bytes = 32768,
                                     .no_fsync = true };
  struct part_info info;
  char *path = write_part_rows("all_8_8_0", &opt, &info, 4000);
  storage_block_cache_set_max_bytes(0);    /* every read needs the file */
  storage_part_fds_set_max(4);
  struct storage_part_fd_stats before, now;
  storage_part_fds_get_stats(&before);
  CHECK_EQ_INT(before.max, 4);
  struct arena ra, wa;
  arena_init(&ra, 0);
  arena_init(&wa, 0);
  struct block *want = make_block(&wa, 0, 4000);
  enum { READERS = 12 };
  struct part_reader *rs[READERS];
  struct error err;
  for (int i = 0; i < READERS; i++) {
    REQUIRE(part_reader_open(path, &ra, &rs[i], &err) == 0);
    storage_part_fds_get_stats(&now);
    CHECK(now.open <= 4);
  }
  uint32_t G = part_reader_granule_count(rs[0]);
  struct part_read_column rq[3] = { { "id", NULL }, { "s", NULL }, { "m", NULL } };
  uint32_t which[3] = { C_ID, C_S, C_MAP };
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < READERS; i++) {
      struct arena a;
      arena_init(&a, 0);
      uint32_t g = (uint32_t)(i + round * 5) % G;
      struct granule_range rg = { g, g + 1 };
      struct block *got;
      int rc = part_reader_read(rs[i], rq, 3, &rg, 1, &a, &got, NULL, &err);
      if (rc)
        fprintf(stderr, "%s\n", err.message);
      REQUIRE(rc == 0);
      for (uint32_t row = 0; row < got->rows; row++)
        compare_rows(got, row, want, g * 250 + row, which, 3);
      storage_part_fds_get_stats(&now);
      CHECK(now.open <= 4);
      arena_destroy(&a);
    }
  storage_part_fds_get_stats(&now);
  CHECK(now.evictions - before.evictions >= 24);
  CHECK(now.opens - before.opens >= 36);
  /* skip indexes also reopen */
  const struct skip_index *ix;
  CHECK_EQ_INT(part_reader_skip_index(rs[0], 0, &ix, &err), 0);

  /* a file replaced or removed while its fd was closed by the cache */
  char *other = arena_printf(&A, "%s/replaced_part", dir);
  copy_file(path, other);
  struct part_reader *rx;
  REQUIRE(part_reader_open(other, &ra, &rx, &err) == 0);
  for (int i = 0; i < 5; i++) {   /* other readers push rx's fd out */
    struct arena a;
    arena_init(&a, 0);
    struct granule_range rg = { 0, 1 };
    struct block *got;
    CHECK_EQ_INT(part_reader_read(rs[i], rq, 1, &rg, 1, &a, &got, NULL, &err), 0);
    arena_destroy(&a);
  }
  char *empty = arena_printf(&A, "%s/all_5_5_0", dir);   /* any other part */
  if (access(empty, F_OK) != 0) {
    struct part_writer *w;
    REQUIRE(part_writer_open(dir, "all_5_5_0", &schema, NULL, &w, &err) == 0);
    REQUIRE(part_writer_finish(w, &A, &info, &err) == 0);
  }
  copy_file(empty, other);
  struct arena a;
  arena_init(&a, 0);
  struct granule_range rg = { 1, 2 };
  struct block *got;
  CHECK_EQ_INT(part_reader_read(rx, rq, 1, &rg, 1, &a, &got, NULL, &err), ERR_CANNOT_OPEN_FILE);
  CHECK(strstr(err.message, "replaced_part") && strstr(err.message, "replaced"));
  unlink(other);
  CHECK_EQ_INT(part_reader_read(rx, rq, 1, &rg, 1, &a, &got, NULL, &err), ERR_FILE_DOESNT_EXIST);
  /* closed readers refuse */
  part_reader_close(rs[1]);
  CHECK_EQ_INT(part_reader_read(rs[1], rq, 1, &rg, 1, &a, &got, NULL, &err), ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR);
  arena_destroy(&a);
  arena_destroy(&ra);
  storage_part_fds_get_stats(&now);
  CHECK_EQ_INT(now.open, 0);
  arena_destroy(&wa);
  storage_part_fds_set_max(0);
  storage_block_cache_set_max_bytes(256u << 20);
}

/* ---- part_verify beyond checksums ---- */

static uint8_t *slurp(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  REQUIRE(f);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc(*n);
  REQUIRE(fread(p, 1, *n, f) == *n);
  fclose(f);
  return p;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
  FILE *f = fopen(path, "wb");
  REQUIRE(f && fwrite(p, 1, n, f) == n);
  fclose(f);
}

static uint64_t le64(const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* Copies a plain-footer part to `to` with byte off set to v and every
 * checksum made to match again, so only semantic checks can notice. */
static void patch_part(const char *from, const char *to, size_t off, uint8_t v)
{
  size_t n;
  uint8_t *p = slurp(from, &n);
  p[off] = v;
  size_t flen = (size_t)le64(p + n - 24), F = n - 24 - flen;
  REQUIRE(p[F] == 0);   /* plain footer */
  for (size_t pos = 8; pos < F;) {
    unsigned steps = p[pos + 8];
    size_t stored = (size_t)(p[pos + 9 + 2 * steps] | p[pos + 10 + 2 * steps] << 8 | p[pos + 11 + 2 * steps] << 16 |
                             (size_t)p[pos + 12 + 2 * steps] << 24);
    size_t size = 17 + 2 * steps + stored;
    if (off >= pos && off < pos + size) {
      uint8_t old[8];
      memcpy(old, p + pos, 8);
      put_le64(p + pos, XXH3_64bits(p + pos + 8, size - 8));
      uint8_t *hit = memmem(p + F, flen, old, 8);
      REQUIRE(hit);
      memcpy(hit, p + pos, 8);
      break;
    }
    pos += size;
  }
  put_le64(p + n - 16, XXH3_64bits(p + F, flen));
  spit(to, p, n);
  free(p);
}

/* Offset of the first occurrence of pat among the column blocks. */
static size_t find_in_blocks(const char *path, const void *pat, size_t len)
{
  size_t n;
  uint8_t *p = slurp(path, &n);
  size_t F = n - 24 - (size_t)le64(p + n - 24);
  uint8_t *hit = memmem(p + 8, F - 8, pat, len);
  REQUIRE(hit);
  size_t off = (size_t)(hit - p);
  free(p);
  return off;
}

static void test_verify_semantic(void)
{
  struct part_column_def c2[2] = { { "k", T("UInt64"), C("NONE"), false }, { "s", T("String"), C("NONE"), false } };
  uint32_t key[1] = { 0 }, mm[1] = { 0 };
  struct part_schema s2 = { 2, c2, 1, key, 1, mm, 0, NULL };
  struct part_writer_options opt = { .index_granularity = 256, .plain_footer = true, .no_fsync = true,
                                     .no_hex_pack = true, .default_codec = C("NONE") };
  struct part_writer *w;
  struct error err;
  REQUIRE(part_writer_open(dir, "all_9_9_0", &s2, &opt, &w, &err) == 0);
  struct arena a;
  arena_init(&a, 0);
  struct block *b = block_create(&a, 2);
  b->rows = 4096;
  b->columns[0] = column_create(&a, c2[0].type, 4096);
  b->columns[1] = column_create(&a, c2[1].type, 4096);
  for (uint32_t i = 0; i < 4096; i++) {
    column_append_u64(b->columns[0], (uint64_t)i * 2);
    char v[16];
    column_append_bytes(b->columns[1], v, (size_t)snprintf(v, sizeof v, "val%u", i));
  }
  REQUIRE(part_writer_write_block(w, b, &err) == 0);
  struct part_info info;
  REQUIRE(part_writer_finish(w, &A, &info, &err) == 0);
  char *good = arena_printf(&A, "%s/all_9_9_0", dir), *bad = arena_printf(&A, "%s/semantic_bad", dir);
  CHECK_EQ_INT(part_verify(good, &err), 0);
  CHECK_EQ_INT(part_verify(bad, &err), ERR_FILE_DOESNT_EXIST);

  /* the key at granule 3's first row no longer matches the primary index */
  uint8_t k[16];                 /* the key before it and the key: aligned and unique */
  put_le64(k, 3 * 256 * 2 - 2);
  put_le64(k + 8, 3 * 256 * 2);
  size_t off = find_in_blocks(good, k, 16) + 8;
  patch_part(good, bad, off, (uint8_t)(k[8] + 1));
  struct part_reader *r;
  struct arena ra;
  arena_init(&ra, 0);
  REQUIRE(part_reader_open(bad, &ra, &r, &err) == 0);   /* reads see nothing wrong */
  struct part_read_column rq[2] = { { "k", NULL }, { "s", NULL } };
  struct granule_range all = { 0, part_reader_granule_count(r) };
  struct block *got;
  CHECK_EQ_INT(part_reader_read(r, rq, 2, &all, 1, &ra, &got, NULL, &err), 0);
  arena_destroy(&ra);
  CHECK_EQ_INT(part_verify(bad, &err), ERR_CORRUPTED_DATA);
  if (!strstr(err.message, "semantic_bad") || !strstr(err.message, "primary index") || !strstr(err.message, "offset")) {
    fprintf(stderr, "%s\n", err.message);
    test_failures++;
  }

  /* the largest key grows past the footer's max */
  put_le64(k, 4094 * 2);
  put_le64(k + 8, 4095 * 2);
  off = find_in_blocks(good, k, 16) + 8;
  patch_part(good, bad, off + 7, 1);
  CHECK_EQ_INT(part_verify(bad, &err), ERR_CORRUPTED_DATA);
  CHECK(strstr(err.message, "min/max"));

  /* a string length one too long: the stream overruns granule 0's end */
  uint8_t lens[11];
  memset(lens, 4, 10);
  lens[10] = 5;
  off = find_in_blocks(good, lens, sizeof lens);
  patch_part(good, bad, off, 5);
  arena_init(&ra, 0);
  REQUIRE(part_reader_open(bad, &ra, &r, &err) == 0);
  struct granule_range g0 = { 0, 1 };
  CHECK_EQ_INT(part_reader_read(r, &rq[1], 1, &g0, 1, &ra, &got, NULL, &err), 0);
  arena_destroy(&ra);
  CHECK_EQ_INT(part_verify(bad, &err), ERR_CORRUPTED_DATA);
  CHECK(strstr(err.message, "column s") && strstr(err.message, "mark"));
  unlink(bad);
  arena_destroy(&a);
}

/* Writes "all_<n>_<n>_0": k UInt64 = 3 * row, s String, h UInt64 = k / 100
 * (key and min/max), h computed or stored. */
static char *write_computed_part(const char *name, bool computed, uint32_t rows, struct part_info *info)
{
  struct part_column_def c3[3] = { { "k", T("UInt64"), C("Delta, LZ4"), false },
                                   { "s", T("String"), { 0 }, false },
                                   { "h", T("UInt64"), { 0 }, computed } };
  static uint32_t key[2] = { 2, 0 }, mm[1] = { 2 };
  struct part_schema s3 = { 3, c3, 2, key, 1, mm, 0, NULL };
  struct part_writer_options opt = { .index_granularity = 128, .plain_footer = true, .no_fsync = true };
  struct part_writer *w;
  struct error err;
  REQUIRE(part_writer_open(dir, name, &s3, &opt, &w, &err) == 0);
  struct arena a;
  arena_init(&a, 0);
  for (uint32_t done = 0; done < rows;) {
    uint32_t n = rows - done < 1000 ? rows - done : 1000;
    struct block *b = block_create(&a, 3);
    b->rows = n;
    for (int c = 0; c < 3; c++)
      b->columns[c] = column_create(&a, c3[c].type, n);
    for (uint32_t i = done; i < done + n; i++) {
      column_append_u64(b->columns[0], 3ull * i);
      char v[24];
      column_append_bytes(b->columns[1], v, (size_t)snprintf(v, sizeof v, "v%u", i % 97));
      column_append_u64(b->columns[2], 3ull * i / 100);
    }
    REQUIRE(part_writer_write_block(w, b, &err) == 0);
    done += n;
    arena_reset(&a);
  }
  REQUIRE(part_writer_finish(w, &A, info, &err) == 0);
  arena_destroy(&a);
  return arena_printf(&A, "%s/%s", dir, name);
}

/* A computed column: no streams or blocks, yet its primary index and
 * min/max are in the footer; reads give defaults; the file is smaller by
 * what the stored column cost; part_verify accepts it. */
static void test_computed_column(void)
{
  struct part_info stored_info, info;
  write_computed_part("all_20_20_0", false, 5000, &stored_info);
  char *path = write_computed_part("all_21_21_0", true, 5000, &info);
  CHECK_EQ_INT(info.columns[2].compressed_bytes, 0);
  CHECK(stored_info.columns[2].compressed_bytes > 0);
  CHECK_EQ_INT(info.columns[0].compressed_bytes, stored_info.columns[0].compressed_bytes);
  CHECK(info.bytes_on_disk + stored_info.columns[2].compressed_bytes - 64 <= stored_info.bytes_on_disk);
  CHECK_EQ_INT(info.minmax_count, 1);
  CHECK_EQ_INT(column_get_u64(info.minmax[0], 0), 0);
  CHECK_EQ_INT(column_get_u64(info.minmax[0], 1), 3 * 4999 / 100);
  struct error err;
  CHECK_EQ_INT(part_verify(path, &err), 0);

  struct arena ra;
  arena_init(&ra, 0);
  struct part_reader *r;
  REQUIRE(part_reader_open(path, &ra, &r, &err) == 0);
  const struct part_schema *sc = part_reader_schema(r);
  REQUIRE(sc->column_count == 3);
  CHECK(!sc->columns[0].computed && !sc->columns[1].computed && sc->columns[2].computed);
  CHECK_EQ_INT(part_reader_column_stats(r, 2)->compressed_bytes, 0);
  uint32_t G = part_reader_granule_count(r);
  CHECK_EQ_INT(G, (5000 + 127) / 128);
  const struct column *pk = part_reader_primary_index(r, 0);
  for (uint32_t g = 0; g < G; g++)
    CHECK_EQ_INT(column_get_u64(pk, g), 3 * part_reader_granule_first_row(r, g) / 100);
  const struct column *mm = part_reader_minmax(r, "h");
  REQUIRE(mm);
  CHECK_EQ_INT(column_get_u64(mm, 1), 3 * 4999 / 100);
  struct part_read_column rq[3] = { { "h", NULL }, { "k", NULL }, { "s", NULL } };
  struct granule_range ranges[2] = { { 1, 3 }, { G - 1, G } };
  struct block *b;
  struct part_read_stats st;
  REQUIRE(part_reader_read(r, rq, 3, ranges, 2, &ra, &b, &st, &err) == 0);
  CHECK_EQ_INT(b->rows, 256 + part_reader_granule_rows(r, G - 1));
  for (uint32_t i = 0; i < b->rows; i++) {
    uint64_t row = i < 256 ? 128 + i : part_reader_granule_first_row(r, G - 1) + (i - 256);
    CHECK_EQ_INT(column_get_u64(b->columns[0], i), 0);         /* computed: the caller's job */
    CHECK_EQ_INT(column_get_u64(b->columns[1], i), 3 * row);
    char v[24];
    int n = snprintf(v, sizeof v, "v%u", (unsigned)(row % 97));
    struct slice sv = column_get_bytes(b->columns[2], i);
    CHECK(sv.len == (size_t)n && memcmp(sv.ptr, v, sv.len) == 0);
  }
  /* asking for a type is fine too: the default of that type */
  struct part_read_column rh = { "h", T("UInt64") };
  REQUIRE(part_reader_read(r, &rh, 1, ranges, 1, &ra, &b, &st, &err) == 0);
  CHECK_EQ_INT(b->rows, 256);
  CHECK_EQ_INT(st.blocks_read, 0);
  arena_destroy(&ra);
}

/* SPANHOUSE_FUZZ_SEEDS=dir: writes small valid parts (plain footers, so
 * mutations reach the footer parser; grouped map values, format version 2)
 * as the fuzz_part seed corpus. */
static void write_seeds(const char *out_dir)
{
  static const uint32_t rows[] = { 1, 40, 300 };
  for (int i = 0; i < 3; i++) {
    struct part_writer_options opt = { .index_granularity = 16 + 16 * (uint32_t)i, .min_block_bytes = 256,
                                       .max_block_bytes = 1024, .plain_footer = true, .no_fsync = true,
                                       .default_codec = i == 1 ? codec_chain_zstd(1) : codec_chain_lz4(),
                                       .map_grouping = PART_MAP_GROUPING_ALWAYS };
    char name[32];
    snprintf(name, sizeof name, "seed_%d", i);
    struct part_info info;
    char *p = write_part_rows(name, &opt, &info, rows[i]);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/seed_part_v2_%d'", p, out_dir, i);
    if (system(cmd) != 0)
      test_failures++;
  }
  /* format version 3: a computed key column */
  struct part_info info;
  char *p = write_computed_part("seed_computed", true, 300, &info);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s/seed_part_v3_computed'", p, out_dir);
  if (system(cmd) != 0)
    test_failures++;
}

static bool want(const char *name)
{
  const char *only = getenv("SPANHOUSE_TEST_ONLY");
  return !only || strcmp(only, name) == 0;
}

int main(void)
{
  arena_init(&A, 0);
  snprintf(dir, sizeof dir, "/tmp/spanhouse-test-part-XXXXXX");
  REQUIRE(mkdtemp(dir));
  setup_schema();
  if (getenv("SPANHOUSE_FUZZ_SEEDS")) {
    write_seeds(getenv("SPANHOUSE_FUZZ_SEEDS"));
    TEST_DONE();
  }
  if (want("round_trip"))
    test_round_trip();
  if (want("abort"))
    test_abort_and_empty();
  if (want("granule_bytes"))
    test_granule_bytes_cap();
  if (want("threads"))
    test_threads();
  if (want("fds"))
    test_fd_limit();
  if (want("fork"))
    test_fork();
  if (want("verify"))
    test_verify_semantic();
  if (want("computed"))
    test_computed_column();
  if (want("corruption"))
    test_corruption();
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    test_failures++;
  arena_destroy(&A);
  TEST_DONE();
}
