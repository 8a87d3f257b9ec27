/* Engine tests: partition ids (ClickHouse's SipHash), inserts across
 * partitions (sorting, atomic visibility, failures leave nothing), snapshots
 * surviving merges, merges (plain, Replacing with/without version, Summing),
 * OPTIMIZE FINAL, FINAL scans, pruning counts (primary key, skip index,
 * part min/max), PREWHERE, parallel streams, too-many-parts errors, DDL
 * (DROP PARTITION, TRUNCATE, RENAME, ALTER ADD COLUMN, DROP), sorting-key
 * expression columns computed instead of stored, ADD COLUMN with DEFAULT
 * expressions read by old parts and written by merges, start-up
 * reconciliation, background merges, and a crash test: a child inserting
 * (with merges running) is SIGKILLed at random moments; every acknowledged
 * row must be there exactly once and every part must verify. */
#include "engine/engine_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "tests/unit/test.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static struct error err;
#define OK(call) do { error_clear(&err); int rc_ = (call); if (rc_) { \
  fprintf(stderr, "%s:%d: %s failed: %d %s\n", __FILE__, __LINE__, #call, rc_, err.message); exit(1); } } while (0)

static char root[256];

static char *fresh_dir(const char *name)
{
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", root, name);
  remove_tree(path);
  return path;
}

static void sleep_ms(int ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  nanosleep(&ts, NULL);
}

/* ---- the test table ----
 *   0 d Date, 1 id UInt64, 2 name String, 3 tag String, 4 value Int64, 5 ver UInt32
 * PARTITION BY toYYYYMM(d), ORDER BY (name, intDiv(id, 10), id), PRIMARY KEY (name, intDiv(id, 10)),
 * INDEX idx_tag tag TYPE bloom_filter GRANULARITY 1, INDEX idx_value value TYPE minmax GRANULARITY 2 */
enum { C_D, C_ID, C_NAME, C_TAG, C_VALUE, C_VER, NCOLS };

static uint32_t ym_of_days(int64_t days)
{
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return (uint32_t)((m <= 2 ? y + 1 : y) * 100 + m);
}

static atomic_int fail_eval;   /* makes the partition evaluator fail */

static int eval_yyyymm(void *ctx, const struct block *rows, struct arena *a, struct column **out, struct error *e)
{
  (void)ctx;
  if (atomic_load(&fail_eval))
    return error_set(e, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "injected failure");
  struct column *c = column_create(a, datatype_simple(TYPE_UINT32), rows->rows);
  for (uint32_t r = 0; r < rows->rows; r++)
    column_append_u64(c, ym_of_days((int64_t)column_get_u64(rows->columns[C_D], r)));
  *out = c;
  return 0;
}

static int eval_div10(void *ctx, const struct block *rows, struct arena *a, struct column **out, struct error *e)
{
  (void)ctx;
  (void)e;
  struct column *c = column_create(a, datatype_simple(TYPE_UINT64), rows->rows);
  for (uint32_t r = 0; r < rows->rows; r++)
    column_append_u64(c, column_get_u64(rows->columns[C_ID], r) / 10);
  *out = c;
  return 0;
}

static struct table_column cols[NCOLS + 1];
static struct table_expr part_key[1], sort_key[3];
static struct table_index indexes[2];
static uint32_t minmax_cols[] = { C_D };
static uint32_t sum_cols[] = { C_VALUE };

static struct table_def make_def(enum table_kind kind, uint32_t granularity)
{
  cols[C_D] = (struct table_column){ "d", datatype_simple(TYPE_DATE), { 0 }, false, { 0 } };
  cols[C_ID] = (struct table_column){ "id", datatype_simple(TYPE_UINT64), { 0 }, true, { 0 } };
  cols[C_NAME] = (struct table_column){ "name", datatype_simple(TYPE_STRING), { 0 }, true, { 0 } };
  cols[C_TAG] = (struct table_column){ "tag", datatype_simple(TYPE_STRING), { 0 }, false, { 0 } };
  cols[C_VALUE] = (struct table_column){ "value", datatype_simple(TYPE_INT64), { 0 }, false, { 0 } };
  cols[C_VER] = (struct table_column){ "ver", datatype_simple(TYPE_UINT32), { 0 }, false, { 0 } };
  part_key[0] = (struct table_expr){ "toYYYYMM(d)", -1, datatype_simple(TYPE_UINT32), eval_yyyymm, NULL, NULL, 0 };
  sort_key[0] = (struct table_expr){ "name", C_NAME, NULL, NULL, NULL, NULL, 0 };
  sort_key[1] = (struct table_expr){ "intDiv(id, 10)", -1, datatype_simple(TYPE_UINT64), eval_div10, NULL, NULL, 0 };
  sort_key[2] = (struct table_expr){ "id", C_ID, NULL, NULL, NULL, NULL, 0 };
  indexes[0] = (struct table_index){ .name = "idx_tag", .expr = { "tag", C_TAG, NULL, NULL, NULL, NULL, 0 },
                                     .type = SKIP_INDEX_BLOOM_FILTER, .granularity = 1, .false_positive_rate = 0.001 };
  indexes[1] = (struct table_index){ .name = "idx_value", .expr = { "value", C_VALUE, NULL, NULL, NULL, NULL, 0 },
                                     .type = SKIP_INDEX_MINMAX, .granularity = 2 };
  struct table_def d = {
    .kind = kind, .column_count = NCOLS, .columns = cols, .partition_key_count = 1, .partition_key = part_key,
    .sort_key_count = 3, .sort_key = sort_key, .primary_key_count = 2,
    .version_column = kind == TABLE_REPLACING_MERGE_TREE ? C_VER : -1,
    .index_count = 2, .indexes = indexes, .minmax_column_count = 1, .minmax_columns = minmax_cols,
    .time_column = C_D, .settings = { .index_granularity = granularity },
  };
  if (kind == TABLE_SUMMING_MERGE_TREE) {
    d.sum_column_count = 1;
    d.sum_columns = sum_cols;
  }
  return d;
}

static const struct catalog_table_def ddl = { .engine = "MergeTree", .ddl = "CREATE TABLE t (...)" };

/* days since epoch of 2024-01-01, 2024-02-01, 2024-03-01 */
static const uint16_t month_day[] = { 19723, 19754, 19783 };

struct row {
  uint16_t d;
  uint64_t id;
  char name[16], tag[24];
  int64_t value;
  uint32_t ver;
};

static struct block *make_block(struct arena *a, const struct row *rows, uint32_t n)
{
  struct block *b = block_create(a, NCOLS);
  b->rows = n;
  for (int c = 0; c < NCOLS; c++) {
    b->columns[c] = column_create(a, cols[c].type, n);
    b->names[c] = cols[c].name;
  }
  for (uint32_t i = 0; i < n; i++) {
    column_append_u64(b->columns[C_D], rows[i].d);
    column_append_u64(b->columns[C_ID], rows[i].id);
    column_append_bytes(b->columns[C_NAME], rows[i].name, strlen(rows[i].name));
    column_append_bytes(b->columns[C_TAG], rows[i].tag, strlen(rows[i].tag));
    column_append_i64(b->columns[C_VALUE], rows[i].value);
    column_append_u64(b->columns[C_VER], rows[i].ver);
  }
  return b;
}

static struct row gen_row(uint64_t id, int month)
{
  struct row r = { 0 };
  r.d = (uint16_t)(month_day[month] + rnd() % 28);
  r.id = id;
  snprintf(r.name, sizeof r.name, "n%02u", (unsigned)(rnd() % 20));
  snprintf(r.tag, sizeof r.tag, "tag%" PRIu64, id);
  r.value = (int64_t)(id % 1000);
  r.ver = 1;
  return r;
}

static int insert_rows(struct engine_table *t, const struct row *rows, uint32_t n, struct engine_insert_result *res)
{
  struct arena a;
  arena_init(&a, 0);
  struct block *b = make_block(&a, rows, n);
  error_clear(&err);
  int rc = engine_insert(t, b, NULL, res, &err);
  arena_destroy(&a);
  return rc;
}

/* Reads every row of a snapshot; calls fn per row of each block. */
struct scan_out {
  uint64_t rows;
  uint64_t id_sum;
  uint64_t *ids;
  uint32_t nids, cap;
};

static void collect(struct scan_out *o, const struct block *b, int id_col)
{
  o->rows += b->rows;
  for (uint32_t r = 0; r < b->rows; r++) {
    uint64_t id = column_get_u64(b->columns[id_col], r);
    o->id_sum += id;
    if (o->nids == o->cap) {
      o->cap = o->cap ? o->cap * 2 : 1024;
      o->ids = realloc(o->ids, o->cap * sizeof *o->ids);
    }
    o->ids[o->nids++] = id;
  }
}

static struct scan_out scan_all(struct engine_table *t, const struct engine_scan_request *req0, struct engine_scan_stats *st)
{
  static const char *names[] = { "id", "name", "value", "ver", "d" };
  struct engine_scan_request req = { .column_count = 5, .columns = names };
  if (req0)
    req = *req0;
  struct engine_snapshot *s;
  OK(engine_snapshot(t, &s, &err));
  struct engine_scan *sc;
  OK(engine_scan_open(s, &req, &sc, &err));
  engine_snapshot_release(s);
  struct scan_out o = { 0 };
  struct block *b;
  for (;;) {
    OK(engine_scan_next(sc, 0, &b, &err));
    if (!b)
      break;
    collect(&o, b, 0);
  }
  if (st)
    engine_scan_get_stats(sc, st);
  engine_scan_close(sc);
  return o;
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static struct engine *open_engine(const char *dir, bool merges)
{
  struct engine_options o = { .no_background_merges = !merges, .no_fsync = false };
  struct engine *e;
  OK(engine_open(dir, &o, &e, &err));
  return e;
}

static struct engine_table *create_table(struct engine *e, const char *name, enum table_kind kind, uint32_t gran)
{
  struct table_def def = make_def(kind, gran);
  engine_database_create(e, "test", true, &err);
  struct engine_table *t;
  OK(engine_table_create(e, "test", name, &ddl, &def, &t, &err));
  return t;
}

static uint32_t count_files(const char *dir, const char *prefix)
{
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  uint32_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (de->d_name[0] != '.' && (!prefix || strncmp(de->d_name, prefix, strlen(prefix)) == 0))
      n++;
  closedir(d);
  return n;
}

/* ======================================================================
 * Tests
 * ==================================================================== */

static void test_partition_ids(void)
{
  uint8_t h[16];
  char hex[33];
  sip_hash128("foo", 3, h);
  for (int i = 0; i < 16; i++)
    sprintf(hex + 2 * i, "%02X", h[i]);
  CHECK_EQ_STR(hex, "CC45107CC4B79F62D831BEF2103C7CBF");
  sip_hash128("\x01", 1, h);
  for (int i = 0; i < 16; i++)
    sprintf(hex + 2 * i, "%02X", h[i]);
  CHECK_EQ_STR(hex, "DF2EC2F0669B000EDFF6ADEE264E7D68");

  struct arena a;
  arena_init(&a, 0);
  struct buf b;
  buf_init(&b);
  struct column *u = column_create(&a, datatype_simple(TYPE_UINT32), 1);
  column_append_u64(u, 202401);
  struct column *dt = column_create(&a, datatype_simple(TYPE_DATE), 1);
  column_append_u64(dt, 19737);   /* 2024-01-15 */
  struct column *neg = column_create(&a, datatype_simple(TYPE_INT8), 1);
  column_append_i64(neg, -5);
  struct column *s = column_create(&a, datatype_simple(TYPE_STRING), 1);
  column_append_bytes(s, "tenant", 6);
  const struct column *v1[] = { u };
  partition_id_append(v1, 1, 0, &b);
  CHECK_EQ_STR(buf_cstr(&b), "202401");
  buf_reset(&b);
  const struct column *v2[] = { dt, u };
  partition_id_append(v2, 2, 0, &b);
  CHECK_EQ_STR(buf_cstr(&b), "20240115-202401");
  buf_reset(&b);
  const struct column *v3[] = { neg };
  partition_id_append(v3, 1, 0, &b);
  CHECK_EQ_STR(buf_cstr(&b), "-5");
  buf_reset(&b);
  partition_id_append(NULL, 0, 0, &b);
  CHECK_EQ_STR(buf_cstr(&b), "all");
  buf_reset(&b);
  const struct column *v4[] = { s, u };
  partition_id_append(v4, 2, 0, &b);
  CHECK_EQ_INT(b.len, 32);
  CHECK(strspn(buf_cstr(&b), "0123456789abcdef") == 32);
  char first[33];
  snprintf(first, sizeof first, "%s", buf_cstr(&b));
  buf_reset(&b);
  const struct column *v5[] = { u, s };
  partition_id_append(v5, 2, 0, &b);
  CHECK(strcmp(first, buf_cstr(&b)) != 0);   /* order matters */
  buf_free(&b);
  arena_destroy(&a);
}

static void test_insert_scan(void)
{
  const char *dir = fresh_dir("insert");
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "events", TABLE_MERGE_TREE, 16);
  struct row rows[1000];
  uint64_t sum = 0;
  for (int i = 0; i < 1000; i++) {
    rows[i] = gen_row((uint64_t)(rnd() % 1000000), i % 3);
    rows[i].id = (uint64_t)i * 7 + 1;
    sum += rows[i].id;
  }
  struct engine_insert_result res;
  OK(insert_rows(t, rows, 1000, &res));
  CHECK_EQ_INT(res.parts, 3);
  CHECK_EQ_INT(res.written_rows, 1000);
  CHECK(res.written_bytes > 0);

  struct arena a;
  arena_init(&a, 0);
  struct engine_part_info *parts;
  size_t np;
  OK(engine_table_parts(t, false, &a, &parts, &np, &err));
  CHECK_EQ_INT(np, 3);
  if (np == 3) {
    CHECK_EQ_STR(parts[0].name, "202401_1_1_0");
    CHECK_EQ_STR(parts[1].name, "202402_2_2_0");
    CHECK_EQ_STR(parts[2].name, "202403_3_3_0");
    CHECK_EQ_STR(parts[0].partition, "202401");
    CHECK(parts[0].has_time && parts[0].min_time >= 19723 && parts[0].max_time < 19754);
    CHECK(parts[0].marks >= 20);
  }

  /* every row once, sorted by (name, id / 10, id) within each part */
  static const char *names[] = { "id", "name", "_part", "_partition_id" };
  struct engine_scan_request req = { .column_count = 4, .columns = names };
  struct engine_snapshot *s;
  OK(engine_snapshot(t, &s, &err));
  CHECK_EQ_INT(engine_snapshot_rows(s), 1000);
  struct engine_scan *sc;
  OK(engine_scan_open(s, &req, &sc, &err));
  uint64_t total = 0, got = 0;
  bool sorted = true;
  char prev_part[64] = "", prev_name[16] = "";
  uint64_t prev_id = 0;
  struct block *b;
  for (;;) {
    OK(engine_scan_next(sc, 0, &b, &err));
    if (!b)
      break;
    for (uint32_t r = 0; r < b->rows; r++) {
      struct slice part = column_get_bytes(b->columns[2], r), nm = column_get_bytes(b->columns[1], r);
      uint64_t id = column_get_u64(b->columns[0], r);
      char pn[64], nn[16];
      snprintf(pn, sizeof pn, "%.*s", (int)part.len, part.ptr);
      snprintf(nn, sizeof nn, "%.*s", (int)nm.len, nm.ptr);
      if (strcmp(pn, prev_part) == 0) {
        int c = strcmp(prev_name, nn);
        if (c > 0 || (c == 0 && prev_id > id))
          sorted = false;
      }
      snprintf(prev_part, sizeof prev_part, "%s", pn);
      snprintf(prev_name, sizeof prev_name, "%s", nn);
      prev_id = id;
      total++;
      got += id;
      struct slice pid = column_get_bytes(b->columns[3], r);
      CHECK(pid.len == 6 && memcmp(pid.ptr, pn, 6) == 0);
    }
  }
  CHECK(sorted);
  CHECK_EQ_INT(total, 1000);
  CHECK_EQ_INT(got, sum);
  engine_scan_close(sc);
  engine_snapshot_release(s);

  /* parallel streams share the work */
  struct engine_scan_request preq = { .column_count = 1, .columns = names, .streams = 2, .max_block_rows = 32 };
  OK(engine_snapshot(t, &s, &err));
  OK(engine_scan_open(s, &preq, &sc, &err));
  engine_snapshot_release(s);
  uint64_t n0 = 0, n1 = 0, idsum = 0;
  for (int done0 = 0, done1 = 0; !done0 || !done1;) {
    if (!done0) {
      OK(engine_scan_next(sc, 0, &b, &err));
      if (!b)
        done0 = 1;
      else {
        n0 += b->rows;
        for (uint32_t r = 0; r < b->rows; r++)
          idsum += column_get_u64(b->columns[0], r);
      }
    }
    if (!done1) {
      OK(engine_scan_next(sc, 1, &b, &err));
      if (!b)
        done1 = 1;
      else {
        n1 += b->rows;
        for (uint32_t r = 0; r < b->rows; r++)
          idsum += column_get_u64(b->columns[0], r);
      }
    }
  }
  CHECK_EQ_INT(n0 + n1, 1000);
  CHECK(n0 > 0 && n1 > 0);
  CHECK_EQ_INT(idsum, sum);
  engine_scan_close(sc);

  /* system.columns / system.tables */
  struct engine_column_info *ci;
  size_t nc;
  OK(engine_table_columns(t, &a, &ci, &nc, &err));
  CHECK_EQ_INT(nc, NCOLS);
  CHECK(nc == NCOLS && ci[C_NAME].data_compressed_bytes > 0 && ci[C_ID].data_uncompressed_bytes == 8000);
  struct engine_table_info ti;
  engine_table_get_info(t, &a, &ti);
  CHECK_EQ_INT(ti.total_rows, 1000);
  CHECK_EQ_INT(ti.active_parts, 3);
  CHECK(ti.attached);

  /* unknown column, wrong block */
  static const char *bad[] = { "nope" };
  struct engine_scan_request breq = { .column_count = 1, .columns = bad };
  OK(engine_snapshot(t, &s, &err));
  CHECK_EQ_INT(engine_scan_open(s, &breq, &sc, &err), ERR_NO_SUCH_COLUMN_IN_TABLE);
  engine_snapshot_release(s);
  struct block *wrong = block_create(&a, 2);
  wrong->rows = 0;
  CHECK_EQ_INT(engine_insert(t, wrong, NULL, NULL, &err), ERR_NUMBER_OF_COLUMNS_DOESNT_MATCH);

  arena_destroy(&a);
  engine_table_unref(t);
  engine_close(e);
}

static void test_atomic_and_failed_insert(void)
{
  const char *dir = fresh_dir("atomic");
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "events", TABLE_MERGE_TREE, 64);
  struct row rows[300];
  for (int i = 0; i < 300; i++)
    rows[i] = gen_row((uint64_t)i, i % 3);
  OK(insert_rows(t, rows, 100, NULL));
  struct engine_snapshot *before;
  OK(engine_snapshot(t, &before, &err));
  OK(insert_rows(t, rows + 100, 200, NULL));
  CHECK_EQ_INT(engine_snapshot_rows(before), 100);   /* the snapshot does not see the later insert */
  struct engine_snapshot *after;
  OK(engine_snapshot(t, &after, &err));
  CHECK_EQ_INT(engine_snapshot_rows(after), 300);
  CHECK_EQ_INT(engine_snapshot_part_count(after), 6);
  engine_snapshot_release(before);
  engine_snapshot_release(after);

  /* a failing evaluator: nothing becomes visible, no files stay behind */
  char tdir[600];
  snprintf(tdir, sizeof tdir, "%s", t->dir);
  uint32_t files = count_files(tdir, NULL);
  atomic_store(&fail_eval, 1);
  CHECK_EQ_INT(insert_rows(t, rows, 300, NULL), ERR_ILLEGAL_TYPE_OF_ARGUMENT);
  CHECK(strstr(err.message, "toYYYYMM(d)") != NULL);
  atomic_store(&fail_eval, 0);
  OK(engine_snapshot(t, &after, &err));
  CHECK_EQ_INT(engine_snapshot_rows(after), 300);
  engine_snapshot_release(after);
  CHECK_EQ_INT(count_files(tdir, NULL), files);

  /* too many partitions for one block */
  struct arena a;
  arena_init(&a, 0);
  struct engine_insert_options io = { .max_partitions_per_insert_block = 2 };
  struct block *b = make_block(&a, rows, 300);
  CHECK_EQ_INT(engine_insert(t, b, &io, NULL, &err), ERR_TOO_MANY_PARTS);
  CHECK(strstr(err.message, "Too many partitions for single INSERT block (more than 2)") != NULL);
  CHECK_EQ_INT(count_files(tdir, NULL), files);
  arena_destroy(&a);
  engine_table_unref(t);
  engine_close(e);
}

/* Staged inserts: parts of every add stay invisible until commit, which
 * publishes them at once; abort and a failing add leave no files. */
static void test_staged_insert(void)
{
  const char *dir = fresh_dir("staged");
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "events", TABLE_MERGE_TREE, 64);
  char tdir[600];
  snprintf(tdir, sizeof tdir, "%s", t->dir);
  struct row rows[300];
  for (int i = 0; i < 300; i++)
    rows[i] = gen_row((uint64_t)i, i % 3);
  struct arena a;
  arena_init(&a, 0);

  /* commit: three adds, six parts, visible together */
  struct engine_insert *ins;
  OK(engine_insert_begin(t, NULL, &ins, &err));
  OK(engine_insert_add(ins, make_block(&a, rows, 100), &err));
  OK(engine_insert_add(ins, make_block(&a, rows + 100, 100), &err));
  struct engine_snapshot *s;
  OK(engine_snapshot(t, &s, &err));
  CHECK_EQ_INT(engine_snapshot_rows(s), 0);
  engine_snapshot_release(s);
  CHECK_EQ_INT(count_files(tdir, "insert_"), 6);
  OK(engine_insert_add(ins, make_block(&a, rows + 200, 100), &err));
  struct engine_insert_result res;
  OK(engine_insert_commit(ins, &res, &err));
  CHECK_EQ_INT(res.written_rows, 300);
  CHECK_EQ_INT(res.parts, 9);
  CHECK_EQ_INT(count_files(tdir, "insert_"), 0);
  OK(engine_snapshot(t, &s, &err));
  CHECK_EQ_INT(engine_snapshot_rows(s), 300);
  engine_snapshot_release(s);
  uint32_t files = count_files(tdir, NULL);

  /* abort after adds: nothing visible, no files left */
  OK(engine_insert_begin(t, NULL, &ins, &err));
  OK(engine_insert_add(ins, make_block(&a, rows, 300), &err));
  engine_insert_abort(ins);
  CHECK_EQ_INT(count_files(tdir, NULL), files);

  /* a failing add: the caller aborts, earlier adds disappear too */
  OK(engine_insert_begin(t, NULL, &ins, &err));
  OK(engine_insert_add(ins, make_block(&a, rows, 100), &err));
  atomic_store(&fail_eval, 1);
  CHECK_EQ_INT(engine_insert_add(ins, make_block(&a, rows + 100, 100), &err), ERR_ILLEGAL_TYPE_OF_ARGUMENT);
  atomic_store(&fail_eval, 0);
  engine_insert_abort(ins);
  CHECK_EQ_INT(count_files(tdir, NULL), files);
  OK(engine_snapshot(t, &s, &err));
  CHECK_EQ_INT(engine_snapshot_rows(s), 300);
  engine_snapshot_release(s);

  /* an empty staged insert commits nothing */
  OK(engine_insert_begin(t, NULL, &ins, &err));
  OK(engine_insert_commit(ins, &res, &err));
  CHECK_EQ_INT(res.written_rows, 0);
  arena_destroy(&a);
  engine_table_unref(t);
  engine_close(e);
}

static void test_too_many_parts(void)
{
  const char *dir = fresh_dir("toomany");
  struct engine_options o = { .no_background_merges = true, .parts_to_delay_insert = 3, .parts_to_throw_insert = 5,
                              .max_delay_to_insert_ms = 50, .no_fsync = true };
  struct engine *e;
  OK(engine_open(dir, &o, &e, &err));
  struct engine_table *t = create_table(e, "events", TABLE_MERGE_TREE, 64);
  struct row r = gen_row(1, 0);
  for (int i = 0; i < 5; i++)
    OK(insert_rows(t, &r, 1, NULL));
  CHECK_EQ_INT(insert_rows(t, &r, 1, NULL), ERR_TOO_MANY_PARTS);
  CHECK(strstr(err.message, "Too many parts (5 with average size of") != NULL);
  CHECK(strstr(err.message, "Merges are processing significantly slower than inserts") != NULL);
  /* OPTIMIZE brings it back */
  OK(engine_optimize(t, NULL, false, &err));
  OK(insert_rows(t, &r, 1, NULL));
  engine_table_unref(t);
  engine_close(e);
}

static void test_merges_and_snapshots(void)
{
  const char *dir = fresh_dir("merge");
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "events", TABLE_MERGE_TREE, 16);
  uint64_t sum = 0;
  uint32_t total = 0;
  for (int k = 0; k < 6; k++) {
    struct row rows[200];
    for (int i = 0; i < 200; i++) {
      rows[i] = gen_row((uint64_t)(k * 1000 + i), 0);
      sum += rows[i].id;
    }
    OK(insert_rows(t, rows, 200, NULL));
    total += 200;
  }
  struct engine_snapshot *old;
  OK(engine_snapshot(t, &old, &err));
  CHECK_EQ_INT(engine_snapshot_part_count(old), 6);
  OK(engine_optimize(t, NULL, false, &err));

  struct arena a;
  arena_init(&a, 0);
  struct engine_part_info *parts;
  size_t np;
  OK(engine_table_parts(t, false, &a, &parts, &np, &err));
  CHECK_EQ_INT(np, 1);
  if (np == 1) {
    CHECK_EQ_STR(parts[0].name, "202401_1_6_1");
    CHECK_EQ_INT(parts[0].rows, total);
  }
  char tdir[600];
  snprintf(tdir, sizeof tdir, "%s", t->dir);
  CHECK_EQ_INT(count_files(tdir, NULL), 7);   /* the snapshot keeps the 6 sources */

  /* the old snapshot still reads its parts */
  static const char *names[] = { "id" };
  struct engine_scan_request req = { .column_count = 1, .columns = names };
  struct engine_scan *sc;
  OK(engine_scan_open(old, &req, &sc, &err));
  struct scan_out o = { 0 };
  struct block *b;
  for (;;) {
    OK(engine_scan_next(sc, 0, &b, &err));
    if (!b)
      break;
    collect(&o, b, 0);
  }
  engine_scan_close(sc);
  CHECK_EQ_INT(o.rows, total);
  CHECK_EQ_INT(o.id_sum, sum);
  free(o.ids);
  engine_snapshot_release(old);
  /* released: the gc thread deletes the sources and the catalog forgets them */
  for (int i = 0; i < 200 && count_files(tdir, NULL) != 1; i++)
    sleep_ms(10);
  CHECK_EQ_INT(count_files(tdir, NULL), 1);
  for (int i = 0; i < 200; i++) {
    OK(engine_table_parts(t, true, &a, &parts, &np, &err));
    if (np == 1)
      break;
    sleep_ms(10);
  }
  CHECK_EQ_INT(np, 1);

  /* the merged part reads back in order, with the same rows */
  o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, total);
  CHECK_EQ_INT(o.id_sum, sum);
  free(o.ids);

  /* system.merges is empty when idle */
  struct engine_merge_info *mi;
  size_t nm;
  engine_merges(e, &a, &mi, &nm);
  CHECK_EQ_INT(nm, 0);
  arena_destroy(&a);
  engine_table_unref(t);
  engine_close(e);
}

/* rows: (name, id) keys with versions; returns the number of distinct keys */
static void test_replacing(void)
{
  const char *dir = fresh_dir("replacing");
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "r", TABLE_REPLACING_MERGE_TREE, 8);
  /* 3 inserts of the same 100 keys with versions 5, 9, 7; plus duplicates inside one insert */
  uint32_t vers[] = { 5, 9, 7 };
  for (int k = 0; k < 3; k++) {
    struct row rows[120];
    for (int i = 0; i < 100; i++) {
      rows[i] = (struct row){ .d = month_day[0], .id = (uint64_t)i, .value = k * 1000 + i, .ver = vers[k] };
      snprintf(rows[i].name, sizeof rows[i].name, "n%d", i % 7);
      snprintf(rows[i].tag, sizeof rows[i].tag, "t%d", i);
    }
    for (int i = 100; i < 120; i++) {   /* older versions of keys 0..19 in the same insert */
      rows[i] = rows[i - 100];
      rows[i].ver = vers[k] - 1;
      rows[i].value = -1;
    }
    OK(insert_rows(t, rows, 120, NULL));
  }
  struct engine_snapshot *s;
  OK(engine_snapshot(t, &s, &err));
  CHECK_EQ_INT(engine_snapshot_rows(s), 300);   /* collapsed at insert, not across parts */
  engine_snapshot_release(s);

  /* FINAL: one row per key, the max version (9 → value 1000 + i) */
  static const char *names[] = { "id", "value", "ver" };
  struct engine_scan_request req = { .column_count = 3, .columns = names, .final = true, .max_block_rows = 16 };
  struct engine_snapshot *s2;
  OK(engine_snapshot(t, &s2, &err));
  struct engine_scan *sc;
  OK(engine_scan_open(s2, &req, &sc, &err));
  engine_snapshot_release(s2);
  uint32_t n = 0;
  bool right = true;
  struct block *b;
  for (;;) {
    OK(engine_scan_next(sc, 0, &b, &err));
    if (!b)
      break;
    for (uint32_t r = 0; r < b->rows; r++, n++)
      right &= column_get_i64(b->columns[1], r) == 1000 + (int64_t)column_get_u64(b->columns[0], r) &&
               column_get_u64(b->columns[2], r) == 9;
  }
  engine_scan_close(sc);
  CHECK_EQ_INT(n, 100);
  CHECK(right);

  /* OPTIMIZE FINAL: one part, the same rows; again on one part bumps the level */
  OK(engine_optimize(t, NULL, true, &err));
  struct arena a;
  arena_init(&a, 0);
  struct engine_part_info *parts;
  size_t np;
  OK(engine_table_parts(t, false, &a, &parts, &np, &err));
  CHECK_EQ_INT(np, 1);
  CHECK(np == 1 && parts[0].rows == 100 && parts[0].level == 1);
  OK(engine_optimize(t, NULL, true, &err));
  OK(engine_table_parts(t, false, &a, &parts, &np, &err));
  CHECK(np == 1 && parts[0].level == 2 && parts[0].rows == 100);
  struct engine_scan_request preq = { .column_count = 3, .columns = names };
  struct scan_out o = scan_all(t, &preq, NULL);
  CHECK_EQ_INT(o.rows, 100);
  free(o.ids);
  engine_table_unref(t);

  /* without a version column the last inserted row wins */
  struct table_def def = make_def(TABLE_REPLACING_MERGE_TREE, 8);
  def.version_column = -1;
  struct engine_table *t2;
  OK(engine_table_create(e, "test", "r2", &ddl, &def, &t2, &err));
  for (int k = 0; k < 3; k++) {
    struct row rows[50];
    for (int i = 0; i < 50; i++) {
      rows[i] = (struct row){ .d = month_day[0], .id = (uint64_t)i, .value = k, .ver = 0 };
      snprintf(rows[i].name, sizeof rows[i].name, "x");
    }
    OK(insert_rows(t2, rows, 50, NULL));
  }
  OK(engine_optimize(t2, NULL, true, &err));
  static const char *vn[] = { "id", "value" };
  struct engine_scan_request vreq = { .column_count = 2, .columns = vn };
  OK(engine_snapshot(t2, &s, &err));
  OK(engine_scan_open(s, &vreq, &sc, &err));
  engine_snapshot_release(s);
  n = 0;
  right = true;
  for (;;) {
    OK(engine_scan_next(sc, 0, &b, &err));
    if (!b)
      break;
    for (uint32_t r = 0; r < b->rows; r++, n++)
      right &= column_get_i64(b->columns[1], r) == 2;
  }
  engine_scan_close(sc);
  CHECK_EQ_INT(n, 50);
  CHECK(right);
  engine_table_unref(t2);
  arena_destroy(&a);
  engine_close(e);
}

static void test_summing(void)
{
  const char *dir = fresh_dir("summing");
  struct engine *e = open_engine(dir, false);
  /* ORDER BY (name, intDiv(id, 10), id) with value summed; keys: id 0..29 */
  struct engine_table *t = create_table(e, "s", TABLE_SUMMING_MERGE_TREE, 8);
  for (int k = 0; k < 4; k++) {
    struct row rows[60];
    for (int i = 0; i < 60; i++) {
      int key = i % 30;
      rows[i] = (struct row){ .d = month_day[0], .id = (uint64_t)key, .ver = 0 };
      snprintf(rows[i].name, sizeof rows[i].name, "k");
      /* keys < 5 sum to zero overall: +1, -1 alternating by insert */
      rows[i].value = key < 5 ? (k % 2 ? -1 : 1) : key;
    }
    OK(insert_rows(t, rows, 60, NULL));
  }
  static const char *names[] = { "id", "value" };
  struct engine_scan_request req = { .column_count = 2, .columns = names, .final = true };
  struct engine_snapshot *s;
  OK(engine_snapshot(t, &s, &err));
  struct engine_scan *sc;
  OK(engine_scan_open(s, &req, &sc, &err));
  engine_snapshot_release(s);
  uint32_t n = 0;
  bool right = true;
  struct block *b;
  for (;;) {
    OK(engine_scan_next(sc, 0, &b, &err));
    if (!b)
      break;
    for (uint32_t r = 0; r < b->rows; r++, n++) {
      uint64_t id = column_get_u64(b->columns[0], r);
      right &= id >= 5 && column_get_i64(b->columns[1], r) == (int64_t)id * 8;
    }
  }
  engine_scan_close(sc);
  CHECK_EQ_INT(n, 25);
  CHECK(right);
  OK(engine_optimize(t, NULL, true, &err));
  struct engine_scan_request preq = { .column_count = 2, .columns = names };
  struct scan_out o = scan_all(t, &preq, NULL);
  CHECK_EQ_INT(o.rows, 25);
  free(o.ids);
  engine_table_unref(t);

  /* sums of zero vanish: an insert that adds up to nothing writes no part,
   * a merge that does leaves no part */
  t = create_table(e, "z", TABLE_SUMMING_MERGE_TREE, 8);
  struct row zr[2] = { { .d = month_day[0], .id = 1, .value = 5 }, { .d = month_day[0], .id = 1, .value = -5 } };
  struct engine_insert_result res;
  OK(insert_rows(t, zr, 2, &res));
  CHECK_EQ_INT(res.parts, 0);
  OK(insert_rows(t, &zr[0], 1, &res));
  OK(insert_rows(t, &zr[1], 1, &res));
  OK(engine_snapshot(t, &s, &err));
  CHECK_EQ_INT(engine_snapshot_part_count(s), 2);
  engine_snapshot_release(s);
  OK(engine_optimize(t, NULL, true, &err));
  OK(engine_snapshot(t, &s, &err));
  CHECK_EQ_INT(engine_snapshot_part_count(s), 0);
  engine_snapshot_release(s);
  engine_table_unref(t);
  engine_close(e);
}

static bool keep_even(void *ctx, uint64_t id) { (void)ctx; return id % 2 == 0; }

static int row_filter_even(void *ctx, const struct block *rows, uint8_t *keep, struct error *e)
{
  (void)e;
  for (uint32_t r = 0; r < rows->rows; r++)
    keep[r] = keep_even(ctx, column_get_u64(rows->columns[0], r));
  return 0;
}

static int row_filter_none(void *ctx, const struct block *rows, uint8_t *keep, struct error *e)
{
  (void)ctx;
  (void)e;
  memset(keep, 0, rows->rows);
  return 0;
}

static void test_pruning(void)
{
  const char *dir = fresh_dir("prune");
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "p", TABLE_MERGE_TREE, 16);
  /* 3 months x 640 rows, names n00..n19 */
  static struct row rows[1920];
  for (int i = 0; i < 1920; i++)
    rows[i] = gen_row((uint64_t)i, i / 640);
  OK(insert_rows(t, rows, 1920, NULL));
  struct arena a;
  arena_init(&a, 0);
  static const char *names[] = { "id", "name", "tag", "value", "d" };

  /* primary key: name = 'n05' */
  struct column *n05 = column_create(&a, datatype_simple(TYPE_STRING), 1);
  column_append_bytes(n05, "n05", 3);
  struct engine_range eq = { n05, n05, true, true };
  struct engine_key_cond kc = { 0, 1, &eq };
  struct engine_filter f = { .key_count = 1, .keys = &kc };
  struct engine_scan_request req = { .column_count = 5, .columns = names, .filter = &f };
  struct engine_scan_stats st;
  struct scan_out o = scan_all(t, &req, &st);
  uint32_t expect = 0;
  for (int i = 0; i < 1920; i++)
    expect += strcmp(rows[i].name, "n05") == 0;
  CHECK_EQ_INT(st.parts_total, 3);
  CHECK_EQ_INT(st.granules_total, 120);
  CHECK(st.granules_selected < 20);
  CHECK(st.granules_selected >= (expect + 15) / 16);
  uint64_t by_name = st.granules_selected;
  /* every matching row is among those read */
  uint32_t found = 0;
  for (uint32_t i = 0; i < o.nids; i++)
    found += strcmp(rows[o.ids[i]].name, "n05") == 0;
  CHECK_EQ_INT(found, expect);
  free(o.ids);

  /* key range on element 1 (intDiv(id, 10)) only helps within equal names: still correct */
  struct column *lo = column_create(&a, datatype_simple(TYPE_UINT64), 1);
  column_append_u64(lo, 50);
  struct engine_range r1 = { lo, lo, true, true };
  struct engine_key_cond kc2[] = { { 0, 1, &eq }, { 1, 1, &r1 } };
  struct engine_filter f2 = { .key_count = 2, .keys = kc2 };
  req.filter = &f2;
  o = scan_all(t, &req, &st);
  found = 0;
  expect = 0;
  for (int i = 0; i < 1920; i++)
    expect += strcmp(rows[i].name, "n05") == 0 && rows[i].id / 10 == 50;
  for (uint32_t i = 0; i < o.nids; i++)
    found += strcmp(rows[o.ids[i]].name, "n05") == 0 && o.ids[i] / 10 == 50;
  CHECK_EQ_INT(found, expect);
  /* granules where the name changes cannot bound element 1: at most 2 per part, plus the match */
  CHECK(st.granules_selected <= 7 && st.granules_selected < by_name);
  free(o.ids);

  /* random ranges on both key elements never lose a matching row */
  for (int q = 0; q < 60; q++) {
    struct column *nl = column_create(&a, datatype_simple(TYPE_STRING), 1);
    struct column *nh = column_create(&a, datatype_simple(TYPE_STRING), 1);
    char s1[8], s2[8];
    snprintf(s1, sizeof s1, "n%02u", (unsigned)(rnd() % 22));
    snprintf(s2, sizeof s2, "n%02u", (unsigned)(rnd() % 22));
    if (strcmp(s1, s2) > 0) {
      char x[8];
      memcpy(x, s1, 8);
      memcpy(s1, s2, 8);
      memcpy(s2, x, 8);
    }
    column_append_bytes(nl, s1, 3);
    column_append_bytes(nh, s2, 3);
    struct column *dl = column_create(&a, datatype_simple(TYPE_UINT64), 1);
    column_append_u64(dl, rnd() % 200);
    struct engine_range rn = { q % 3 ? nl : NULL, q % 4 ? nh : NULL, rnd() % 2 == 0, rnd() % 2 == 0 };
    struct engine_range rd = { dl, NULL, rnd() % 2 == 0, false };
    struct engine_key_cond kq[] = { { 0, 1, &rn }, { 1, 1, &rd } };
    struct engine_filter fq = { .key_count = q % 2 ? 2 : 1, .keys = kq };
    req.filter = &fq;
    o = scan_all(t, &req, &st);
    uint8_t *seen = calloc(1920, 1);
    for (uint32_t i = 0; i < o.nids; i++)
      seen[o.ids[i]] = 1;
    uint32_t lost = 0, matching = 0;
    for (int i = 0; i < 1920; i++) {
      const char *nm = rows[i].name;
      bool m = true;
      if (rn.lo)
        m &= rn.lo_inclusive ? strcmp(nm, s1) >= 0 : strcmp(nm, s1) > 0;
      if (rn.hi)
        m &= rn.hi_inclusive ? strcmp(nm, s2) <= 0 : strcmp(nm, s2) < 0;
      if (fq.key_count == 2)
        m &= rd.lo_inclusive ? rows[i].id / 10 >= column_get_u64(dl, 0) : rows[i].id / 10 > column_get_u64(dl, 0);
      matching += m;
      lost += m && !seen[i];
    }
    CHECK_EQ_INT(lost, 0);
    CHECK(st.rows_selected >= matching);
    free(seen);
    free(o.ids);
  }

  /* skip index: tag = 'tag777' (bloom filter) */
  struct column *tag = column_create(&a, datatype_simple(TYPE_STRING), 1);
  column_append_bytes(tag, "tag777", 6);
  struct engine_index_cond ic = { "idx_tag", ENGINE_INDEX_EQUALS, tag, { 0 } };
  struct engine_filter f3 = { .index_count = 1, .indexes = &ic };
  req.filter = &f3;
  o = scan_all(t, &req, &st);
  CHECK(st.granules_selected >= 1 && st.granules_selected <= 3);
  found = 0;
  for (uint32_t i = 0; i < o.nids; i++)
    found += o.ids[i] == 777;
  CHECK_EQ_INT(found, 1);
  free(o.ids);
  struct column *absent = column_create(&a, datatype_simple(TYPE_STRING), 1);
  column_append_bytes(absent, "no-such-tag", 11);
  ic.values = absent;
  o = scan_all(t, &req, &st);
  CHECK(st.granules_selected <= 2);
  free(o.ids);

  /* minmax skip index: value in [998, 999] */
  struct column *v1 = column_create(&a, datatype_simple(TYPE_INT64), 1), *v2 = column_create(&a, datatype_simple(TYPE_INT64), 1);
  column_append_i64(v1, 998);
  column_append_i64(v2, 999);
  struct engine_index_cond mc = { "idx_value", ENGINE_INDEX_RANGE, NULL, { v1, v2, true, true } };
  struct engine_filter f4 = { .index_count = 1, .indexes = &mc };
  req.filter = &f4;
  o = scan_all(t, &req, &st);
  CHECK(st.granules_selected < 60);
  found = 0;
  for (uint32_t i = 0; i < o.nids; i++)
    found += rows[o.ids[i]].value >= 998;
  CHECK_EQ_INT(found, 2);
  free(o.ids);

  /* part min/max of d: February only */
  struct column *d1 = column_create(&a, datatype_simple(TYPE_DATE), 1), *d2 = column_create(&a, datatype_simple(TYPE_DATE), 1);
  column_append_u64(d1, month_day[1]);
  column_append_u64(d2, month_day[1] + 27);
  struct engine_range dr = { d1, d2, true, true };
  struct engine_column_cond cc = { "d", 1, &dr };
  struct engine_filter f5 = { .column_count = 1, .columns = &cc };
  req.filter = &f5;
  o = scan_all(t, &req, &st);
  CHECK_EQ_INT(st.parts_selected, 1);
  CHECK_EQ_INT(o.rows, 640);
  free(o.ids);
  /* partition ids */
  const char *pids[] = { "202403" };
  struct engine_filter f6 = { .partition_id_count = 1, .partition_ids = pids };
  req.filter = &f6;
  o = scan_all(t, &req, &st);
  CHECK_EQ_INT(st.parts_selected, 1);
  CHECK_EQ_INT(o.rows, 640);
  free(o.ids);
  /* nothing: x IN () */
  struct engine_key_cond none = { 0, 0, NULL };
  struct engine_filter f7 = { .key_count = 1, .keys = &none };
  req.filter = &f7;
  o = scan_all(t, &req, &st);
  CHECK_EQ_INT(o.rows, 0);
  CHECK_EQ_INT(st.granules_selected, 0);
  free(o.ids);

  /* PREWHERE: id even, read_rows counts granules read */
  static const char *pw[] = { "id" };
  _Atomic uint64_t read_rows = 0, read_bytes = 0;
  struct engine_scan_request preq = { .column_count = 5, .columns = names, .prewhere_column_count = 1,
                                      .prewhere_columns = pw, .row_filter = row_filter_even,
                                      .read_rows = &read_rows, .read_bytes = &read_bytes };
  o = scan_all(t, &preq, &st);
  CHECK_EQ_INT(o.rows, 960);
  bool even = true;
  for (uint32_t i = 0; i < o.nids; i++)
    even &= o.ids[i] % 2 == 0;
  CHECK(even);
  CHECK_EQ_INT(atomic_load(&read_rows), 1920);
  CHECK(atomic_load(&read_bytes) > 0);
  free(o.ids);
  /* a filter rejecting everything reads only the prewhere column */
  atomic_store(&read_bytes, 0);
  preq.row_filter = row_filter_none;
  o = scan_all(t, &preq, &st);
  CHECK_EQ_INT(o.rows, 0);
  CHECK_EQ_INT(atomic_load(&read_bytes), 1920 * 8);
  free(o.ids);
  arena_destroy(&a);
  engine_table_unref(t);
  engine_close(e);
}

static void test_ddl(void)
{
  const char *dir = fresh_dir("ddl");
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "events", TABLE_MERGE_TREE, 64);
  struct row rows[300];
  for (int i = 0; i < 300; i++)
    rows[i] = gen_row((uint64_t)i, i % 3);
  OK(insert_rows(t, rows, 300, NULL));
  OK(insert_rows(t, rows, 300, NULL));
  OK(engine_table_drop_partition(t, "202402", &err));
  struct scan_out o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, 400);
  free(o.ids);
  /* partition id from values */
  struct arena a;
  arena_init(&a, 0);
  struct column *v = column_create(&a, datatype_simple(TYPE_UINT32), 1);
  column_append_u64(v, 202401);
  const struct column *vals[] = { v };
  const char *pid;
  OK(engine_partition_id(t, vals, 1, &a, &pid, &err));
  CHECK_EQ_STR(pid, "202401");
  CHECK_EQ_INT(engine_table_drop_part(t, "202401_1_1_0", &err), 0);
  CHECK_EQ_INT(engine_table_drop_part(t, "202401_1_1_0", &err), ERR_NO_SUCH_DATA_PART);
  o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, 300);
  free(o.ids);

  /* RENAME keeps the directory */
  char tdir[600];
  snprintf(tdir, sizeof tdir, "%s", t->dir);
  OK(engine_table_rename(e, "test", "events", "test", "events2", NULL, &err));
  struct engine_table *t2;
  OK(engine_table_get(e, "test", "events2", &t2, &err));
  CHECK(t2 == t);
  engine_table_unref(t2);
  CHECK_EQ_INT(engine_table_get(e, "test", "events", &t2, &err), ERR_UNKNOWN_TABLE);
  CHECK_EQ_INT(engine_table_get(e, "nodb", "events", &t2, &err), ERR_UNKNOWN_DATABASE);

  /* ALTER ADD COLUMN: old parts read the default */
  struct table_def def = make_def(TABLE_MERGE_TREE, 64);
  struct table_column more[NCOLS + 1];
  memcpy(more, cols, sizeof more);
  more[NCOLS] = (struct table_column){ "extra", datatype_simple(TYPE_UINT16), { 0 }, false, { 0 } };
  def.columns = more;
  def.column_count = NCOLS + 1;
  OK(engine_table_alter(t, NULL, &def, &err));
  static const char *names[] = { "id", "extra" };
  struct engine_scan_request req = { .column_count = 2, .columns = names };
  o = scan_all(t, &req, NULL);
  CHECK_EQ_INT(o.rows, 300);
  free(o.ids);
  struct table_def bad = make_def(TABLE_MERGE_TREE, 64);
  bad.primary_key_count = 1;
  CHECK_EQ_INT(engine_table_alter(t, NULL, &bad, &err), ERR_NOT_IMPLEMENTED);

  OK(engine_table_truncate(t, &err));
  o = scan_all(t, &req, NULL);
  CHECK_EQ_INT(o.rows, 0);
  free(o.ids);

  /* DROP TABLE: files go once the last handle is released */
  struct engine_snapshot *s;
  OK(engine_snapshot(t, &s, &err));
  OK(engine_table_drop(e, "test", "events2", false, &err));
  OK(engine_table_drop(e, "test", "events2", true, &err));
  struct stat stt;
  CHECK(stat(tdir, &stt) == 0);
  engine_snapshot_release(s);
  engine_table_unref(t);
  CHECK(stat(tdir, &stt) != 0);
  arena_destroy(&a);
  engine_close(e);
}

/* Every active part of t: the hidden sorting-key column __sort_key.1
 * (intDiv(id, 10)) is computed (no bytes in the file), its primary index
 * equals intDiv(id, 10) of each granule's first row, and the part verifies. */
static void check_hidden_not_stored(struct engine_table *t)
{
  struct def *d = table_def_get(t);
  pthread_mutex_lock(&t->lock);
  for (uint32_t i = 0; i < t->nparts; i++) {
    struct part_reader *r = t->parts[i]->reader;
    int h = part_reader_column_index(r, SORT_KEY_PREFIX "1");
    REQUIRE(h >= 0);
    CHECK(part_reader_schema(r)->columns[h].computed);
    CHECK_EQ_INT(part_reader_column_stats(r, (uint32_t)h)->compressed_bytes, 0);
    uint64_t table_bytes = 0;
    for (uint32_t c = 0; c < d->ncols; c++)
      table_bytes += part_reader_column_stats(r, c)->compressed_bytes;
    CHECK_EQ_INT(table_bytes, t->parts[i]->compressed_bytes);
    struct arena a;
    arena_init(&a, 0);
    struct part_read_column rq[2] = { { "id", NULL }, { SORT_KEY_PREFIX "1", NULL } };
    struct granule_range all = { 0, part_reader_granule_count(r) };
    struct block *b;
    OK(part_read_derived(d, r, rq, 2, &all, 1, &a, &b, NULL, &err));
    const struct column *pk = part_reader_primary_index(r, 1);
    for (uint32_t g = 0; g < all.end; g++) {
      uint32_t row = (uint32_t)part_reader_granule_first_row(r, g);
      CHECK_EQ_INT(column_get_u64(pk, g), column_get_u64(b->columns[0], row) / 10);
    }
    for (uint32_t row = 0; row < b->rows; row++)
      CHECK_EQ_INT(column_get_u64(b->columns[1], row), column_get_u64(b->columns[0], row) / 10);
    arena_destroy(&a);
    CHECK_EQ_INT(part_verify(t->parts[i]->path, &err), 0);
  }
  pthread_mutex_unlock(&t->lock);
  def_unref(d);
}

/* Rows come out of each part sorted by (name, intDiv(id, 10), id). */
static uint64_t check_part_order(struct engine_table *t, uint64_t *id_sum)
{
  static const char *names[] = { "id", "name", "_part" };
  struct engine_scan_request req = { .column_count = 3, .columns = names };
  struct engine_snapshot *s;
  OK(engine_snapshot(t, &s, &err));
  struct engine_scan *sc;
  OK(engine_scan_open(s, &req, &sc, &err));
  engine_snapshot_release(s);
  uint64_t rows = 0, prev_id = 0;
  char prev_part[64] = "", prev_name[16] = "";
  *id_sum = 0;
  struct block *b;
  for (;;) {
    OK(engine_scan_next(sc, 0, &b, &err));
    if (!b)
      break;
    for (uint32_t r = 0; r < b->rows; r++) {
      uint64_t id = column_get_u64(b->columns[0], r);
      struct slice nm = column_get_bytes(b->columns[1], r), pt = column_get_bytes(b->columns[2], r);
      char name[16], part[64];
      snprintf(name, sizeof name, "%.*s", (int)nm.len, nm.ptr);
      snprintf(part, sizeof part, "%.*s", (int)pt.len, pt.ptr);
      if (strcmp(part, prev_part) == 0) {
        int c = strcmp(prev_name, name);
        bool ok = c < 0 || (c == 0 && (prev_id / 10 < id / 10 || (prev_id / 10 == id / 10 && prev_id <= id)));
        if (!ok) {
          fprintf(stderr, "part %s: (%s, %" PRIu64 ") after (%s, %" PRIu64 ")\n", part, name, id, prev_name, prev_id);
          test_failures++;
        }
      }
      snprintf(prev_part, sizeof prev_part, "%s", part);
      snprintf(prev_name, sizeof prev_name, "%s", name);
      prev_id = id;
      *id_sum += id;
      rows++;
    }
  }
  engine_scan_close(sc);
  return rows;
}

/* ORDER BY (name, intDiv(id, 10), id): the expression's hidden column is
 * computed by every reader and never stored, through many inserts, merges
 * and OPTIMIZE FINAL; a part that stores it (written before format
 * version 3) reads its stored values and merges with the others. */
static void test_computed_sort_key(void)
{
  const char *dir = fresh_dir("computed");
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "cs", TABLE_MERGE_TREE, 16);
  uint64_t sum = 0, total = 0;
  for (int k = 0; k < 12; k++) {
    struct row rows[150];
    for (int i = 0; i < 150; i++) {
      rows[i] = gen_row(rnd() % 100000 * 16 + (uint64_t)k, (k + i) % 3);
      sum += rows[i].id;
    }
    OK(insert_rows(t, rows, 150, NULL));
    total += 150;
    if (k == 5)
      OK(engine_optimize(t, NULL, false, &err));   /* merges in between */
  }
  check_hidden_not_stored(t);
  uint64_t got_sum;
  CHECK_EQ_INT(check_part_order(t, &got_sum), total);
  CHECK_EQ_INT(got_sum, sum);

  /* a part in the old layout (hidden column stored) next to new ones */
  struct def *d = table_def_get(t);
  struct part_column_def *old_cols = calloc(d->nstore, sizeof *old_cols);
  memcpy(old_cols, d->pcols, d->nstore * sizeof *old_cols);
  for (uint32_t c = 0; c < d->nstore; c++)
    old_cols[c].computed = false;
  struct part_schema old_schema = d->schema;
  old_schema.columns = old_cols;
  struct part_writer_options wo = { .index_granularity = 16, .no_fsync = true };
  struct part_writer *w;
  OK(part_writer_open(dir, "old_layout", &old_schema, &wo, &w, &err));
  struct arena a;
  arena_init(&a, 0);
  struct row rows[64];
  for (int i = 0; i < 64; i++)
    rows[i] = gen_row((uint64_t)i, 0);
  snprintf(rows[0].name, sizeof rows[0].name, "n00");
  struct block *in = make_block(&a, rows, 64);
  uint32_t perm[64];
  for (uint32_t i = 0; i < 64; i++)
    perm[i] = i;
  const struct column *keys[3] = { in->columns[C_NAME], NULL, in->columns[C_ID] };
  struct column *div = NULL;
  OK(eval_expr(&d->td.sort_key[1], in, &a, &div, &err));
  keys[1] = div;
  sort_rows(keys, 3, perm, 64);
  struct block *wb = block_create(&a, d->nstore + d->td.index_count);
  wb->rows = 64;
  for (uint32_t c = 0; c < d->ncols; c++)
    wb->columns[c] = column_take(&a, in->columns[c], perm, 64);
  wb->columns[d->sort_col[1]] = column_take(&a, div, perm, 64);
  OK(index_inputs(d, wb, &a, &err));
  OK(part_writer_write_block(w, wb, &err));
  struct part_info info;
  OK(part_writer_finish(w, &a, &info, &err));
  CHECK(info.columns[d->sort_col[1]].compressed_bytes > 0);
  struct arena ra;
  arena_init(&ra, 0);
  struct part_reader *r;
  char *path = arena_printf(&a, "%s/old_layout", dir);
  OK(part_reader_open(path, &ra, &r, &err));
  struct part_read_column rq[2] = { { "id", NULL }, { SORT_KEY_PREFIX "1", NULL } };
  struct granule_range all = { 0, part_reader_granule_count(r) };
  struct block *b;
  struct part_read_stats st;
  OK(part_read_derived(d, r, rq, 2, &all, 1, &ra, &b, &st, &err));
  CHECK_EQ_INT(b->rows, 64);
  for (uint32_t row = 0; row < b->rows; row++)
    CHECK_EQ_INT(column_get_u64(b->columns[1], row), column_get_u64(b->columns[0], row) / 10);
  arena_destroy(&ra);
  unlink(path);
  free(old_cols);
  arena_destroy(&a);
  def_unref(d);

  /* OPTIMIZE FINAL: one part per partition, sorted, nothing lost, still not stored */
  OK(engine_optimize(t, NULL, true, &err));
  CHECK_EQ_INT(t->nparts, 3);
  check_hidden_not_stored(t);
  CHECK_EQ_INT(check_part_order(t, &got_sum), total);
  CHECK_EQ_INT(got_sum, sum);
  engine_table_unref(t);
  engine_close(e);
}

/* Test evaluators of ADD COLUMN defaults: v2 = value * 2 (Int64), v3 = v2 + 1 (reads the other added column). */
static int eval_value_x2(void *ctx, const struct block *rows, struct arena *a, struct column **out, struct error *e)
{
  struct column *c = column_create(a, datatype_simple(TYPE_INT64), rows->rows);
  for (uint32_t r = 0; r < rows->rows; r++)
    column_append_i64(c, column_get_i64(rows->columns[C_VALUE], r) * 2);
  *out = c;
  return 0;
}

static int eval_v2_plus1(void *ctx, const struct block *rows, struct arena *a, struct column **out, struct error *e)
{
  struct column *c = column_create(a, datatype_simple(TYPE_INT64), rows->rows);
  const struct column *v2 = rows->columns[NCOLS];
  for (uint32_t r = 0; r < rows->rows; r++)
    column_append_i64(c, column_get_i64(v2, column_row(v2, r)) + 1);
  *out = c;
  return 0;
}

/* Sums of (v2 - 2 * value) and (v3 - v2 - 1) over a scan: 0 when every row
 * reads its defaults computed from the row. */
static void scan_added(struct engine_table *t, uint64_t *rows, int64_t *bad)
{
  static const char *names[] = { "v3", "v2", "value" };   /* not id: inputs are read anyway */
  struct engine_scan_request req = { .column_count = 3, .columns = names };
  struct engine_snapshot *s;
  OK(engine_snapshot(t, &s, &err));
  struct engine_scan *sc;
  OK(engine_scan_open(s, &req, &sc, &err));
  engine_snapshot_release(s);
  *rows = 0;
  *bad = 0;
  struct block *b;
  for (;;) {
    OK(engine_scan_next(sc, 0, &b, &err));
    if (!b)
      break;
    for (uint32_t r = 0; r < b->rows; r++) {
      int64_t v3 = column_get_i64(b->columns[0], r), v2 = column_get_i64(b->columns[1], r);
      int64_t value = column_get_i64(b->columns[2], r);
      *bad += (v2 != 2 * value) + (v3 != v2 + 1);
    }
    *rows += b->rows;
  }
  engine_scan_close(sc);
}

/* ALTER ADD COLUMN with DEFAULT expressions: old parts read them computed
 * from the row (also one default reading another added column, and asked
 * for without their inputs), merges write the computed values. */
static void test_add_column_default(void)
{
  const char *dir = fresh_dir("add_default");
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "ad", TABLE_MERGE_TREE, 16);
  for (int k = 0; k < 4; k++) {
    struct row rows[100];
    for (int i = 0; i < 100; i++)
      rows[i] = gen_row((uint64_t)(k * 100 + i), k % 3);
    OK(insert_rows(t, rows, 100, NULL));
  }
  struct table_def def = make_def(TABLE_MERGE_TREE, 16);
  struct table_column more[NCOLS + 3];
  memcpy(more, cols, NCOLS * sizeof *more);
  static const uint32_t in_v2[] = { C_VALUE }, in_v3[] = { NCOLS };
  more[NCOLS] = (struct table_column){ .name = "v2", .type = datatype_simple(TYPE_INT64),
                                       .default_expr = { "value * 2", -1, datatype_simple(TYPE_INT64), eval_value_x2,
                                                         NULL, in_v2, 1 } };
  more[NCOLS + 1] = (struct table_column){ .name = "v3", .type = datatype_simple(TYPE_INT64),
                                           .default_expr = { "v2 + 1", -1, datatype_simple(TYPE_INT64), eval_v2_plus1,
                                                             NULL, in_v3, 1 } };
  def.columns = more;
  def.column_count = NCOLS + 2;
  OK(engine_table_alter(t, NULL, &def, &err));
  uint64_t rows;
  int64_t bad;
  scan_added(t, &rows, &bad);
  CHECK_EQ_INT(rows, 400);
  CHECK_EQ_INT(bad, 0);
  /* a type that does not match the column is refused */
  more[NCOLS].default_expr.type = datatype_simple(TYPE_UINT8);
  CHECK_EQ_INT(engine_table_alter(t, NULL, &def, &err), ERR_BAD_ARGUMENTS);
  more[NCOLS].default_expr.type = datatype_simple(TYPE_INT64);

  /* merged parts store the computed values */
  OK(engine_optimize(t, NULL, true, &err));
  pthread_mutex_lock(&t->lock);
  for (uint32_t i = 0; i < t->nparts; i++) {
    struct part_reader *r = t->parts[i]->reader;
    CHECK(part_reader_column_index(r, "v2") >= 0 && part_reader_column_index(r, "v3") >= 0);
  }
  pthread_mutex_unlock(&t->lock);
  scan_added(t, &rows, &bad);
  CHECK_EQ_INT(rows, 400);
  CHECK_EQ_INT(bad, 0);
  engine_table_unref(t);
  engine_close(e);
}

static void test_reconcile(void)
{
  const char *dir0 = fresh_dir("reconcile");
  char dir[512];
  snprintf(dir, sizeof dir, "%s", dir0);
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = create_table(e, "events", TABLE_MERGE_TREE, 64);
  struct row rows[90];
  for (int i = 0; i < 90; i++)
    rows[i] = gen_row((uint64_t)i, i % 3);
  OK(insert_rows(t, rows, 90, NULL));
  int64_t id = t->id;
  char tdir[600];
  snprintf(tdir, sizeof tdir, "%s", t->dir);
  engine_table_unref(t);
  engine_close(e);

  /* leftovers: a tmp file, an unpublished part, a stray table directory */
  char path[800];
  snprintf(path, sizeof path, "%s/tmp_202401_9_9_0", tdir);
  FILE *fp = fopen(path, "w");
  fputs("junk", fp);
  fclose(fp);
  snprintf(path, sizeof path, "%s/202401_9_9_0", tdir);
  fp = fopen(path, "w");
  fputs("junk", fp);
  fclose(fp);
  snprintf(path, sizeof path, "%s/store/00000000-0000-0000-0000-000000000000", dir);
  mkdir(path, 0755);
  e = open_engine(dir, false);
  CHECK_EQ_INT(count_files(tdir, NULL), 3);
  CHECK_EQ_INT(count_files(tdir, "tmp_"), 0);
  struct stat st;
  CHECK(stat(path, &st) != 0);
  struct table_def def = make_def(TABLE_MERGE_TREE, 64);
  OK(engine_table_attach(e, id, &def, &t, &err));
  struct scan_out o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, 90);
  free(o.ids);
  engine_table_unref(t);
  engine_close(e);

  /* a listed part whose file is gone: loud, and queries name it */
  snprintf(path, sizeof path, "%s/202402_2_2_0", tdir);
  CHECK(unlink(path) == 0);
  e = open_engine(dir, false);
  OK(engine_table_attach(e, id, &def, &t, &err));
  struct engine_snapshot *s;
  CHECK_EQ_INT(engine_snapshot(t, &s, &err), ERR_NO_SUCH_DATA_PART);
  CHECK(strstr(err.message, "202402_2_2_0") != NULL);
  struct arena a;
  arena_init(&a, 0);
  struct engine_part_info *parts;
  size_t np;
  OK(engine_table_parts(t, false, &a, &parts, &np, &err));
  CHECK_EQ_INT(np, 3);
  CHECK(np == 3 && parts[1].broken != NULL && parts[0].broken == NULL);
  /* a corrupted one: CORRUPTED_DATA */
  snprintf(path, sizeof path, "%s/202403_3_3_0", tdir);
  CHECK(truncate(path, 100) == 0);
  engine_table_unref(t);
  engine_close(e);
  e = open_engine(dir, false);
  OK(engine_table_attach(e, id, &def, &t, &err));
  OK(engine_table_drop_part(t, "202402_2_2_0", &err));
  CHECK_EQ_INT(engine_snapshot(t, &s, &err), ERR_CORRUPTED_DATA);
  CHECK(strstr(err.message, "202403_3_3_0") != NULL);
  CHECK_EQ_INT(engine_optimize(t, "202403", false, &err), ERR_CORRUPTED_DATA);
  OK(engine_table_drop_partition(t, "202403", &err));
  OK(engine_snapshot(t, &s, &err));
  CHECK_EQ_INT(engine_snapshot_rows(s), 30);
  engine_snapshot_release(s);
  /* another process cannot open the same directory */
  struct engine *e2;
  CHECK_EQ_INT(engine_open(dir, NULL, &e2, &err), ERR_CANNOT_OPEN_FILE);
  arena_destroy(&a);
  engine_table_unref(t);
  engine_close(e);
}

/* ---- background merges under concurrent inserts and reads ---- */

struct reader_arg {
  struct engine_table *t;
  atomic_bool stop;
  uint64_t scans;
  int failures;
};

static void *reader_main(void *arg)
{
  struct reader_arg *ra = arg;
  static const char *names[] = { "id" };
  while (!atomic_load(&ra->stop)) {
    struct error e2;
    struct engine_snapshot *s;
    if (engine_snapshot(ra->t, &s, &e2) != 0) {
      ra->failures++;
      continue;
    }
    uint64_t expect = engine_snapshot_rows(s);
    struct engine_scan_request req = { .column_count = 1, .columns = names };
    struct engine_scan *sc;
    if (engine_scan_open(s, &req, &sc, &e2) != 0) {
      ra->failures++;
      engine_snapshot_release(s);
      continue;
    }
    uint64_t n = 0;
    struct block *b;
    while (engine_scan_next(sc, 0, &b, &e2) == 0 && b)
      n += b->rows;
    if (n != expect) {
      fprintf(stderr, "reader: %" PRIu64 " rows, snapshot has %" PRIu64 "\n", n, expect);
      ra->failures++;
    }
    engine_scan_close(sc);
    engine_snapshot_release(s);
    ra->scans++;
  }
  return NULL;
}

static void test_background_merges(void)
{
  const char *dir = fresh_dir("background");
  struct engine_options o = { .merge_threads = 2, .no_fsync = true };
  struct engine *e;
  OK(engine_open(dir, &o, &e, &err));
  struct engine_table *t = create_table(e, "events", TABLE_MERGE_TREE, 32);
  struct reader_arg ra = { .t = t };
  atomic_init(&ra.stop, false);
  pthread_t th;
  pthread_create(&th, NULL, reader_main, &ra);
  uint64_t sum = 0;
  for (int k = 0; k < 40; k++) {
    struct row rows[50];
    for (int i = 0; i < 50; i++) {
      rows[i] = gen_row((uint64_t)(k * 50 + i), k % 2);
      sum += rows[i].id;
    }
    OK(insert_rows(t, rows, 50, NULL));
  }
  uint32_t nparts = 0;
  for (int i = 0; i < 500; i++) {
    pthread_mutex_lock(&t->lock);
    nparts = t->nparts;
    pthread_mutex_unlock(&t->lock);
    if (nparts <= 6)
      break;
    sleep_ms(10);
  }
  CHECK(nparts <= 6);
  atomic_store(&ra.stop, true);
  pthread_join(th, NULL);
  CHECK_EQ_INT(ra.failures, 0);
  CHECK(ra.scans > 0);
  struct scan_out so = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(so.rows, 2000);
  CHECK_EQ_INT(so.id_sum, sum);
  qsort(so.ids, so.nids, sizeof *so.ids, cmp_u64);
  bool uniq = true;
  for (uint32_t i = 1; i < so.nids; i++)
    uniq &= so.ids[i] != so.ids[i - 1];
  CHECK(uniq);
  free(so.ids);

  /* closing while merges run aborts them and leaves no tmp file */
  for (int k = 0; k < 30; k++) {
    struct row rows[200];
    for (int i = 0; i < 200; i++)
      rows[i] = gen_row((uint64_t)(100000 + k * 200 + i), 0);
    OK(insert_rows(t, rows, 200, NULL));
  }
  char tdir[600];
  snprintf(tdir, sizeof tdir, "%s", t->dir);
  engine_table_unref(t);
  engine_close(e);
  CHECK_EQ_INT(count_files(tdir, "tmp_"), 0);
  CHECK_EQ_INT(count_files(tdir, "insert_"), 0);
}

/* ---- crash test ---- */

/* ---- buffered inserts: memtable + write-ahead log ---- */

static int keep_value_below_50(void *ctx, const struct block *rows, uint8_t *keep, struct error *e)
{
  (void)ctx;
  (void)e;
  for (uint32_t r = 0; r < rows->rows; r++)
    keep[r] = column_get_i64(rows->columns[0], r) < 50;
  return 0;
}

static int insert_buffered_rows(struct engine *e, struct engine_table *t, uint64_t first_id, uint32_t n)
{
  struct row *rows = calloc(n, sizeof *rows);
  for (uint32_t i = 0; i < n; i++)
    rows[i] = gen_row(first_id + i, (int)(i % 2));
  struct arena a;
  arena_init(&a, 0);
  struct engine_buffered_rows item = { t, make_block(&a, rows, n) };
  error_clear(&err);
  int rc = engine_insert_buffered(e, &item, 1, &err);
  arena_destroy(&a);
  free(rows);
  return rc;
}

static struct engine *open_buffered(const char *dir, uint64_t max_bytes)
{
  struct engine_options o = { .no_background_merges = true, .memtable_flush_ms = 600000,
                              .memtable_max_bytes = max_bytes };
  struct engine *e;
  OK(engine_open(dir, &o, &e, &err));
  return e;
}

static struct engine_table *reattach(struct engine *e, const char *name, enum table_kind kind)
{
  struct engine_table *t;
  OK(engine_table_get(e, "test", name, &t, &err));
  int64_t id = engine_table_id(t);
  engine_table_unref(t);
  struct table_def def = make_def(kind, 8);
  OK(engine_table_attach(e, id, &def, &t, &err));
  return t;
}

/* Buffered rows and ADD COLUMN: ALTER flushes the memtable first (so no
 * chunk lacks the column), and a chunk that does (buffered under the old
 * definition) reads the column's DEFAULT computed from its rows. */
static void test_add_column_buffered(void)
{
  const char *dir = fresh_dir("add_buffered");
  struct engine *e = open_buffered(dir, 0);
  struct engine_table *t = create_table(e, "ab", TABLE_MERGE_TREE, 8);
  OK(engine_wal_recover(e, NULL, &err));
  OK(insert_buffered_rows(e, t, 100, 50));
  struct table_def def = make_def(TABLE_MERGE_TREE, 8);
  struct table_column more[NCOLS + 2];
  memcpy(more, cols, NCOLS * sizeof *more);
  static const uint32_t in_v2[] = { C_VALUE }, in_v3[] = { NCOLS };
  more[NCOLS] = (struct table_column){ .name = "v2", .type = datatype_simple(TYPE_INT64),
                                       .default_expr = { "value * 2", -1, datatype_simple(TYPE_INT64), eval_value_x2,
                                                         NULL, in_v2, 1 } };
  more[NCOLS + 1] = (struct table_column){ .name = "v3", .type = datatype_simple(TYPE_INT64),
                                           .default_expr = { "v2 + 1", -1, datatype_simple(TYPE_INT64), eval_v2_plus1,
                                                             NULL, in_v3, 1 } };
  def.columns = more;
  def.column_count = NCOLS + 2;

  /* a chunk of the old layout, read with the new definition */
  struct def *nd;
  OK(def_compile(&def, &nd, &err));
  pthread_mutex_lock(&t->lock);
  REQUIRE(t->mem.n == 1);
  struct mem_chunk *c = t->mem.chunks[0];
  mem_chunk_ref(c);
  pthread_mutex_unlock(&t->lock);
  struct arena a;
  arena_init(&a, 0);
  struct column *v3, *value;
  OK(mem_chunk_column_derived(nd, c, NCOLS + 1, 10, 30, &a, &v3, &err));
  OK(mem_chunk_column_derived(nd, c, C_VALUE, 10, 30, &a, &value, &err));
  CHECK_EQ_INT(v3->rows, 30);
  for (uint32_t r = 0; r < 30; r++)
    CHECK_EQ_INT(column_get_i64(v3, column_row(v3, r)), 2 * column_get_i64(value, r) + 1);
  arena_destroy(&a);
  mem_chunk_unref(c);
  def_unref(nd);

  OK(engine_table_alter(t, NULL, &def, &err));
  pthread_mutex_lock(&t->lock);
  CHECK_EQ_INT(t->mem.n, 0);                      /* flushed by the ALTER */
  pthread_mutex_unlock(&t->lock);
  uint64_t rows;
  int64_t bad;
  scan_added(t, &rows, &bad);
  CHECK_EQ_INT(rows, 50);
  CHECK_EQ_INT(bad, 0);
  engine_table_unref(t);
  engine_close(e);
}

static void test_buffered_insert(void)
{
  const char *dir0 = fresh_dir("buffered");
  char dir[512];
  snprintf(dir, sizeof dir, "%s", dir0);
  struct engine *e = open_buffered(dir, 0);
  struct engine_table *t = create_table(e, "buf", TABLE_MERGE_TREE, 8);
  CHECK_EQ_INT(insert_buffered_rows(e, t, 1, 10), ERR_ABORTED);   /* before recovery */
  OK(engine_wal_recover(e, NULL, &err));

  /* acknowledged rows are visible at once, from the memtable */
  OK(insert_buffered_rows(e, t, 1000, 100));
  OK(insert_buffered_rows(e, t, 2000, 100));
  OK(insert_buffered_rows(e, t, 3000, 100));
  struct engine_snapshot *before;
  OK(engine_snapshot(t, &before, &err));
  CHECK_EQ_INT(engine_snapshot_part_count(before), 0);
  CHECK_EQ_INT(engine_snapshot_rows(before), 300);
  struct scan_out o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, 300);
  free(o.ids);

  /* virtual columns and PREWHERE over memtable rows */
  static const char *vnames[] = { "id", "_part", "_partition_id", "d" };
  static const char *pre[] = { "value" };
  struct engine_scan_request vreq = { .column_count = 4, .columns = vnames, .prewhere_column_count = 1,
                                      .prewhere_columns = pre, .row_filter = keep_value_below_50 };
  struct engine_scan *sc;
  OK(engine_scan_open(before, &vreq, &sc, &err));
  uint64_t kept = 0, bad_part = 0, bad_pid = 0;
  struct block *b;
  for (;;) {
    OK(engine_scan_next(sc, 0, &b, &err));
    if (!b)
      break;
    for (uint32_t r = 0; r < b->rows; r++) {
      kept++;
      struct slice part = column_get_bytes(b->columns[1], r), pid = column_get_bytes(b->columns[2], r);
      char want[16];
      snprintf(want, sizeof want, "%u", ym_of_days((int64_t)column_get_u64(b->columns[3], r)));
      bad_part += !slice_eq_cstr(part, "memtable");
      bad_pid += !slice_eq_cstr(pid, want);
      CHECK(column_get_u64(b->columns[0], r) % 1000 < 50);
    }
  }
  engine_scan_close(sc);
  CHECK_EQ_INT(kept, 150);   /* value = id % 1000 < 50 */
  CHECK_EQ_INT(bad_part, 0);
  CHECK_EQ_INT(bad_pid, 0);

  /* a flush turns the memtable into parts; the older snapshot still reads its chunks */
  OK(engine_table_flush(t, &err));
  CHECK_EQ_INT(t->mem.n, 0);
  struct engine_snapshot *after;
  OK(engine_snapshot(t, &after, &err));
  CHECK_EQ_INT(engine_snapshot_part_count(after), 2);   /* one per month */
  CHECK_EQ_INT(engine_snapshot_rows(after), 300);
  engine_snapshot_release(after);
  CHECK_EQ_INT(engine_snapshot_rows(before), 300);
  engine_snapshot_release(before);
  o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, 300);
  qsort(o.ids, o.nids, sizeof *o.ids, cmp_u64);
  for (uint32_t i = 1; i < o.nids; i++)
    CHECK(o.ids[i] != o.ids[i - 1]);
  free(o.ids);

  /* DROP PARTITION sees memtable rows; TRUNCATE forgets them for good */
  OK(insert_buffered_rows(e, t, 4000, 40));
  struct arena a;
  arena_init(&a, 0);
  struct column *month = column_create(&a, datatype_simple(TYPE_UINT32), 1);
  column_append_u64(month, 202401);
  const char *pid;
  OK(engine_partition_id(t, (const struct column *const *)&month, 1, &a, &pid, &err));
  OK(engine_table_drop_partition(t, pid, &err));
  arena_destroy(&a);
  o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, 170);   /* the February halves of 340 rows */
  free(o.ids);
  OK(insert_buffered_rows(e, t, 5000, 30));
  OK(engine_table_truncate(t, &err));
  o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, 0);
  free(o.ids);

  /* rows left in the memtable at close are flushed; the log's torn tail is ignored */
  OK(insert_buffered_rows(e, t, 6000, 25));
  engine_table_unref(t);
  engine_close(e);
  char wal[600];
  snprintf(wal, sizeof wal, "%s/wal", dir);
  CHECK_EQ_INT(count_files(wal, NULL), 1);
  DIR *wd = opendir(wal);
  struct dirent *de;
  char seg[900] = "";
  while (wd && (de = readdir(wd)) != NULL)
    if (de->d_name[0] != '.')
      snprintf(seg, sizeof seg, "%s/%s", wal, de->d_name);
  if (wd)
    closedir(wd);
  FILE *f = fopen(seg, "ab");
  REQUIRE(f != NULL);
  fwrite("SHWL\x10\x00\x00\x00torn", 1, 12, f);
  fclose(f);
  e = open_buffered(dir, 0);
  t = reattach(e, "buf", TABLE_MERGE_TREE);
  uint64_t replayed = 99;
  OK(engine_wal_recover(e, &replayed, &err));
  CHECK_EQ_INT(replayed, 0);
  o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, 25);
  free(o.ids);

  /* over the memory budget: a retryable error, nothing visible */
  engine_table_unref(t);
  engine_close(e);
  e = open_buffered(dir, 1024);
  t = reattach(e, "buf", TABLE_MERGE_TREE);
  OK(engine_wal_recover(e, NULL, &err));
  CHECK_EQ_INT(insert_buffered_rows(e, t, 7000, 200), ERR_MEMORY_LIMIT_EXCEEDED);
  o = scan_all(t, NULL, NULL);
  CHECK_EQ_INT(o.rows, 25);
  free(o.ids);

  /* Replacing tables take the synchronous path: their rows are in a part at once */
  struct engine_table *rt = create_table(e, "buf_replacing", TABLE_REPLACING_MERGE_TREE, 8);
  engine_table_unref(t);
  engine_table_unref(rt);
  engine_close(e);
  e = open_buffered(dir, 0);
  rt = reattach(e, "buf_replacing", TABLE_REPLACING_MERGE_TREE);
  OK(engine_wal_recover(e, NULL, &err));
  OK(insert_buffered_rows(e, rt, 1, 20));
  CHECK_EQ_INT(rt->mem.n, 0);
  CHECK_EQ_INT(rt->nparts, 2);
  engine_table_unref(rt);
  engine_close(e);
}

enum { CRASH_ROWS = 40, CRASH_RUNS = 10 };

struct crash_arg {
  const char *dir;
  uint64_t start;
  int fd;
  bool buffered;                     /* engine_insert_buffered (write-ahead log + memtable) */
};

static void crash_child(const struct crash_arg *ca);

/* The forked child works in a new thread: the main thread's io_uring ring
 * (thread-local, created before the fork) is shared with the parent. */
static void *crash_thread(void *arg)
{
  struct crash_arg *ca = arg;
  crash_child(ca);
  return NULL;
}

static void crash_child(const struct crash_arg *ca)
{
  const char *dir = ca->dir;
  uint64_t start = ca->start;
  int fd = ca->fd;
  log_set_level(LOG_ERROR);
  /* buffered: tiny memtables, so flushes and merges run while it inserts */
  struct engine_options o = { .merge_threads = 2, .parts_to_throw_insert = 100000, .parts_to_delay_insert = 100000,
                              .memtable_flush_rows = 5 * CRASH_ROWS, .memtable_flush_ms = 20 };
  struct engine *e;
  struct error e2;
  if (engine_open(dir, &o, &e, &e2) != 0) {
    fprintf(stderr, "child: %s\n", e2.message);
    _exit(3);
  }
  struct table_def def = make_def(TABLE_MERGE_TREE, 8);
  struct engine_table *t;
  engine_database_create(e, "test", true, &e2);
  if (engine_table_get(e, "test", "crash", &t, &e2) == 0) {
    engine_table_unref(t);
    struct arena a;
    arena_init(&a, 0);
    struct catalog_table ct;
    if (catalog_table_get(engine_catalog(e), "test", "crash", &a, &ct, &e2) != 0 ||
        engine_table_attach(e, ct.id, &def, &t, &e2) != 0)
      _exit(5);
    arena_destroy(&a);
  } else if (engine_table_create(e, "test", "crash", &ddl, &def, &t, &e2) != 0) {
    fprintf(stderr, "child: %s\n", e2.message);
    _exit(6);
  }
  if (ca->buffered && engine_wal_recover(e, NULL, &e2) != 0) {
    fprintf(stderr, "child: %s\n", e2.message);
    _exit(9);
  }
  for (uint64_t k = start;; k++) {
    struct row rows[CRASH_ROWS];
    for (int i = 0; i < CRASH_ROWS; i++)
      rows[i] = gen_row(k * 1000 + (uint64_t)i, i % 2);
    struct arena a;
    arena_init(&a, 0);
    struct block *b = make_block(&a, rows, CRASH_ROWS);
    struct engine_buffered_rows item = { t, b };
    if ((ca->buffered ? engine_insert_buffered(e, &item, 1, &e2) : engine_insert(t, b, NULL, NULL, &e2)) != 0) {
      fprintf(stderr, "child insert: %s\n", e2.message);
      _exit(4);
    }
    arena_destroy(&a);
    if (write(fd, &k, sizeof k) != sizeof k)
      _exit(7);
    if (k % 9 == 0)
      engine_optimize(t, NULL, false, &e2);
  }
}

static void verify_part_file(const char *path)
{
  struct arena a;
  arena_init(&a, 0);
  struct part_reader *r;
  struct error e2;
  if (part_reader_open(path, &a, &r, &e2) != 0) {
    fprintf(stderr, "verify %s: %s\n", path, e2.message);
    test_failures++;
    arena_destroy(&a);
    return;
  }
  const struct part_schema *s = part_reader_schema(r);
  struct part_read_column *rc = arena_new_array(&a, struct part_read_column, s->column_count + 1);
  for (uint32_t i = 0; i < s->column_count; i++)
    rc[i] = (struct part_read_column){ s->columns[i].name, NULL };
  struct granule_range all = { 0, part_reader_granule_count(r) };
  struct block *b;
  if (part_reader_read(r, rc, s->column_count, &all, 1, &a, &b, NULL, &e2) != 0) {
    fprintf(stderr, "verify %s: %s\n", path, e2.message);
    test_failures++;
  }
  for (uint32_t i = 0; i < s->index_count; i++) {
    const struct skip_index *ix;
    if (part_reader_skip_index(r, i, &ix, &e2) != 0) {
      fprintf(stderr, "verify %s: %s\n", path, e2.message);
      test_failures++;
    }
  }
  arena_destroy(&a);
}

static void test_crash(bool buffered)
{
  const char *dir0 = fresh_dir(buffered ? "crash_buffered" : "crash");
  char dir[512];
  snprintf(dir, sizeof dir, "%s", dir0);
  uint8_t *acked = calloc(1 << 16, 1);
  uint64_t start = 1, acks = 0;
  for (int run = 0; run < CRASH_RUNS; run++) {
    int p[2];
    REQUIRE(pipe(p) == 0);
    fflush(stderr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(p[0]);
      rng ^= (uint64_t)run * 0x1234567;
      struct crash_arg ca = { dir, start, p[1], buffered };
      pthread_t th;
      if (pthread_create(&th, NULL, crash_thread, &ca) != 0)
        _exit(8);
      pthread_join(th, NULL);
      _exit(0);
    }
    close(p[1]);
    int budget_ms = 150 + (int)(rnd() % 400);
    uint64_t last = 0;
    int64_t waited = 0;
    while (waited < budget_ms) {
      struct pollfd pf = { p[0], POLLIN, 0 };
      int pr = poll(&pf, 1, 10);
      if (pr > 0) {
        uint64_t k;
        ssize_t n = read(p[0], &k, sizeof k);
        if (n != sizeof k)
          break;
        if (k < (1u << 16))
          acked[k] = 1;
        last = k;
        acks++;
        if (last == start)
          waited = 0 + waited;   /* first ack: the engine is up */
      } else {
        waited += 10;
      }
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    uint64_t k;
    while (read(p[0], &k, sizeof k) == sizeof k) {
      if (k < (1u << 16))
        acked[k] = 1;
      last = k;
      acks++;
    }
    close(p[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      fprintf(stderr, "crash child exited with %d\n", WEXITSTATUS(status));
      test_failures++;
    }
    /* the insert after the last ack may or may not have landed: skip its id */
    start = (last >= start ? last : start) + 2;
  }
  CHECK(acks > 0);

  /* reopen: every acknowledged insert exactly once, inserts all or nothing */
  struct engine *e = open_engine(dir, false);
  struct engine_table *t = reattach(e, "crash", TABLE_MERGE_TREE);
  if (buffered) {
    OK(engine_wal_recover(e, NULL, &err));
    OK(engine_table_flush(t, &err));   /* then every part below is checked too */
  }
  struct scan_out o = scan_all(t, NULL, NULL);
  qsort(o.ids, o.nids, sizeof *o.ids, cmp_u64);
  bool dup = false;
  for (uint32_t i = 1; i < o.nids; i++)
    dup |= o.ids[i] == o.ids[i - 1];
  CHECK(!dup);
  uint32_t *per = calloc(1 << 16, sizeof *per);
  for (uint32_t i = 0; i < o.nids; i++)
    per[o.ids[i] / 1000]++;
  uint32_t missing = 0, partial = 0;
  for (uint32_t k = 0; k < (1u << 16); k++) {
    if (acked[k] && per[k] != CRASH_ROWS)
      missing++;
    if (per[k] != 0 && per[k] != CRASH_ROWS)
      partial++;
  }
  CHECK_EQ_INT(missing, 0);
  CHECK_EQ_INT(partial, 0);
  fprintf(stderr, "crash test%s: %" PRIu64 " acknowledged inserts over %d kills, %u rows present\n",
          buffered ? " (buffered)" : "", acks, CRASH_RUNS, o.nids);
  free(o.ids);
  free(per);
  free(acked);

  /* every part verifies, and the directory holds exactly the active parts */
  struct arena a;
  arena_init(&a, 0);
  struct engine_part_info *parts;
  size_t np;
  OK(engine_table_parts(t, true, &a, &parts, &np, &err));
  for (size_t i = 0; i < np; i++) {
    CHECK(parts[i].active);
    verify_part_file(parts[i].path);
  }
  CHECK_EQ_INT(count_files(t->dir, NULL), np);
  arena_destroy(&a);
  engine_table_unref(t);
  engine_close(e);
}

int main(void)
{
  log_set_level(getenv("ENGINE_TEST_LOG") ? LOG_DEBUG : LOG_ERROR);
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(root, sizeof root, "%s/engine_test_XXXXXX", tmp);
  REQUIRE(mkdtemp(root) != NULL);
  test_partition_ids();
  test_insert_scan();
  test_atomic_and_failed_insert();
  test_staged_insert();
  test_too_many_parts();
  test_merges_and_snapshots();
  test_replacing();
  test_summing();
  test_pruning();
  test_ddl();
  test_computed_sort_key();
  test_add_column_default();
  test_reconcile();
  test_background_merges();
  test_buffered_insert();
  test_add_column_buffered();
  test_crash(false);
  test_crash(true);
  if (!test_failures)
    remove_tree(root);
  else
    fprintf(stderr, "test data kept in %s\n", root);
  TEST_DONE();
}
