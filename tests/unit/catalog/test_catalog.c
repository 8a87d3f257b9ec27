/* catalog/: databases, tables, counters, parts and settings with their error
 * codes and messages; persistence across reopen; concurrent inserts; merges
 * racing DROP PARTITION; and crash safety (a child SIGKILLed mid-transaction,
 * the catalog reopened). */
#include "catalog/catalog.h"
#include "catalog/catalog_int.h"
#include "base/arena.h"
#include "base/error.h"
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char test_dir[] = "/tmp/spanhouse-catalog-XXXXXX";

static char *test_path(struct arena *a, const char *name)
{
  return arena_printf(a, "%s/%s.sqlite", test_dir, name);
}

static void remove_test_dir(void)
{
  DIR *d = opendir(test_dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char p[512];
    snprintf(p, sizeof p, "%s/%s", test_dir, e->d_name);
    unlink(p);
  }
  closedir(d);
  rmdir(test_dir);
}

static struct catalog *open_or_die(const char *path)
{
  struct catalog *c = NULL;
  struct error err = { 0 };
  int rc = catalog_open(&c, path, &err);
  if (rc != 0)
    fprintf(stderr, "catalog_open(%s): %d %s\n", path, rc, err.message);
  REQUIRE(rc == 0 && c != NULL);
  return c;
}

/* A part whose name agrees with its fields. */
static struct catalog_part make_part(struct arena *a, const char *partition, uint64_t min, uint64_t max,
                                     uint32_t level)
{
  struct catalog_part p = { 0 };
  p.name = arena_printf(a, "%s_%" PRIu64 "_%" PRIu64 "_%" PRIu32, partition, min, max, level);
  p.partition_id = arena_strdup(a, partition);
  p.partition_value = partition;
  p.partition_value_bytes = strlen(partition);
  p.min_block = min;
  p.max_block = max;
  p.level = level;
  p.rows = 100 * (max - min + 1);
  p.bytes_on_disk = 4096;
  p.data_compressed_bytes = 4000;
  p.data_uncompressed_bytes = 16000;
  p.disk = "default";
  return p;
}

static int64_t make_table(struct catalog *c, const char *db, const char *name)
{
  struct error err = { 0 };
  struct catalog_table_def def = { .engine = "MergeTree", .ddl = "CREATE TABLE _ (x UInt64) ENGINE = MergeTree" };
  struct catalog_table_ref ref = { 0 };
  int rc = catalog_database_create(c, db, NULL, true, &err);
  if (rc == 0)
    rc = catalog_table_create(c, db, name, &def, &ref, &err);
  if (rc != 0)
    fprintf(stderr, "make_table %s.%s: %s\n", db, name, err.message);
  REQUIRE(rc == 0);
  return ref.id;
}

/* Allocates blocks for and adds one level-0 part; returns its first block. */
static uint64_t insert_part(struct catalog *c, struct arena *a, int64_t table_id, const char *partition)
{
  struct error err = { 0 };
  uint64_t block = 0;
  REQUIRE(catalog_blocks_allocate(c, table_id, 1, &block, &err) == 0);
  struct catalog_part p = make_part(a, partition, block, block, 0);
  int rc = catalog_parts_add(c, table_id, &p, 1, NULL, &err);
  if (rc)
    fprintf(stderr, "insert_part: %s\n", err.message);
  REQUIRE(rc == 0);
  return block;
}

static size_t active_count(struct catalog *c, int64_t table_id, const char *partition)
{
  struct arena a;
  arena_init(&a, 0);
  struct error err = { 0 };
  struct catalog_part *parts;
  size_t n = 0;
  REQUIRE(catalog_parts_list_active(c, table_id, partition, &a, &parts, &n, &err) == 0);
  arena_destroy(&a);
  return n;
}

static bool uuid_looks_valid(const char *u)
{
  if (strlen(u) != 36)
    return false;
  for (int i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? u[i] != '-' : !strchr("0123456789abcdef", u[i]))
      return false;
  }
  return u[14] == '4';
}

/* ---- open, pragmas, schema version ---------------------------------------- */

static void test_open_and_schema(struct arena *a)
{
  const char *path = test_path(a, "open");
  struct catalog *c = open_or_die(path);
  CHECK_EQ_STR(catalog_path(c), path);
  catalog_close(c);
  c = open_or_die(path);   /* a second open migrates nothing */
  catalog_close(c);

  sqlite3 *db;
  REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
  sqlite3_stmt *s;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK_EQ_STR((const char *)sqlite3_column_text(s, 0), "wal");
  sqlite3_finalize(s);
  REQUIRE(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &s, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK_EQ_INT(sqlite3_column_int(s, 0), catalog_schema_version());
  sqlite3_finalize(s);
  /* A catalog from a newer build is refused, not reinterpreted. */
  REQUIRE(sqlite3_exec(db, "UPDATE schema_version SET version = 999", NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);

  struct error err = { 0 };
  c = (struct catalog *)1;
  CHECK_EQ_INT(catalog_open(&c, path, &err), ERR_UNKNOWN_FORMAT_VERSION);
  CHECK(c == NULL);
  CHECK(strstr(err.message, "schema version 999") != NULL);

  /* Not a database at all. */
  const char *junk = test_path(a, "junk");
  FILE *f = fopen(junk, "w");
  REQUIRE(f);
  for (int i = 0; i < 512; i++)
    fputs("this is not sqlite ", f);
  fclose(f);
  CHECK_EQ_INT(catalog_open(&c, junk, &err), ERR_CORRUPTED_DATA);

  /* A directory that does not exist. */
  CHECK_EQ_INT(catalog_open(&c, "/nonexistent-dir/catalog.sqlite", &err), ERR_CANNOT_OPEN_FILE);
  CHECK(strstr(err.message, "/nonexistent-dir/catalog.sqlite") != NULL);
  CHECK_EQ_INT(catalog_open(&c, "", &err), ERR_BAD_ARGUMENTS);
}

/* ---- databases ---------------------------------------------------------------- */

static void test_databases(struct arena *a)
{
  struct catalog *c = open_or_die(test_path(a, "databases"));
  struct error err = { 0 };

  CHECK_EQ_INT(catalog_database_create(c, "default", NULL, false, &err), 0);
  CHECK_EQ_INT(catalog_database_create(c, "otel", "Atomic", false, &err), 0);
  CHECK_EQ_INT(catalog_database_create(c, "default", NULL, false, &err), ERR_DATABASE_ALREADY_EXISTS);
  CHECK_EQ_INT(err.code, 82);
  CHECK_EQ_STR(err.message, "Database default already exists.");
  CHECK_EQ_INT(catalog_database_create(c, "default", NULL, true, &err), 0);
  CHECK_EQ_INT(catalog_database_create(c, "", NULL, false, &err), ERR_BAD_ARGUMENTS);
  CHECK_EQ_INT(catalog_database_create(c, "my-db", NULL, false, &err), 0);
  CHECK_EQ_INT(catalog_database_create(c, "my-db", NULL, false, &err), ERR_DATABASE_ALREADY_EXISTS);
  CHECK_EQ_STR(err.message, "Database `my-db` already exists.");
  CHECK_EQ_INT(catalog_database_create(c, "null", NULL, false, &err), 0);
  CHECK_EQ_INT(catalog_database_create(c, "null", NULL, false, &err), ERR_DATABASE_ALREADY_EXISTS);
  CHECK_EQ_STR(err.message, "Database `null` already exists.");

  CHECK(catalog_database_exists(c, "otel"));
  CHECK(!catalog_database_exists(c, "nope"));
  CHECK(!catalog_database_exists(c, ""));

  struct catalog_database *dbs;
  size_t n;
  REQUIRE(catalog_database_list(c, a, &dbs, &n, &err) == 0);
  REQUIRE(n == 4);
  CHECK_EQ_STR(dbs[0].name, "default");
  CHECK_EQ_STR(dbs[0].engine, "Atomic");
  CHECK(uuid_looks_valid(dbs[0].uuid));
  CHECK(dbs[0].created_ns > 0);
  CHECK_EQ_STR(dbs[1].name, "my-db");
  CHECK_EQ_STR(dbs[2].name, "null");
  CHECK_EQ_STR(dbs[3].name, "otel");
  CHECK(strcmp(dbs[0].uuid, dbs[3].uuid) != 0);

  struct catalog_table_ref *dropped = (struct catalog_table_ref *)1;
  size_t dropped_n = 99;
  CHECK_EQ_INT(catalog_database_drop(c, "nope", false, false, a, &dropped, &dropped_n, &err), ERR_UNKNOWN_DATABASE);
  CHECK_EQ_INT(err.code, 81);
  CHECK_EQ_STR(err.message, "Database nope does not exist");
  CHECK(dropped == NULL && dropped_n == 0);
  CHECK_EQ_INT(catalog_database_drop(c, "nope", true, false, a, &dropped, &dropped_n, &err), 0);
  CHECK_EQ_INT(dropped_n, 0);

  /* Non-empty: refused without cascade, dropped with it, tables reported. */
  int64_t t1 = make_table(c, "otel", "otel_traces");
  int64_t t2 = make_table(c, "otel", "otel_logs");
  insert_part(c, a, t1, "all");
  CHECK_EQ_INT(catalog_database_drop(c, "otel", false, false, a, &dropped, &dropped_n, &err), ERR_DATABASE_NOT_EMPTY);
  CHECK_EQ_INT(err.code, 219);
  CHECK_EQ_STR(err.message, "Database otel is not empty");
  CHECK(catalog_table_exists(c, "otel", "otel_traces"));
  CHECK_EQ_INT(catalog_database_drop(c, "otel", false, true, NULL, &dropped, &dropped_n, &err), ERR_BAD_ARGUMENTS);
  CHECK_EQ_INT(catalog_database_drop(c, "otel", false, true, a, &dropped, &dropped_n, &err), 0);
  REQUIRE(dropped_n == 2);
  CHECK_EQ_STR(dropped[0].name, "otel_logs");
  CHECK_EQ_INT(dropped[0].id, t2);
  CHECK_EQ_STR(dropped[1].name, "otel_traces");
  CHECK_EQ_INT(dropped[1].id, t1);
  CHECK_EQ_STR(dropped[1].database, "otel");
  CHECK(uuid_looks_valid(dropped[1].uuid));
  CHECK(!catalog_database_exists(c, "otel"));
  CHECK(!catalog_table_exists(c, "otel", "otel_traces"));
  struct catalog_part *parts;
  REQUIRE(catalog_parts_list_all(c, 0, a, &parts, &n, &err) == 0);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(catalog_parts_list_active(c, t1, NULL, a, &parts, &n, &err), ERR_UNKNOWN_TABLE);

  /* Rename keeps the tables. */
  int64_t t3 = make_table(c, "my-db", "t");
  CHECK_EQ_INT(catalog_database_rename(c, "my-db", "default", &err), ERR_DATABASE_ALREADY_EXISTS);
  CHECK_EQ_INT(catalog_database_rename(c, "gone", "x", &err), ERR_UNKNOWN_DATABASE);
  CHECK_EQ_INT(catalog_database_rename(c, "my-db", "renamed", &err), 0);
  struct catalog_table t;
  REQUIRE(catalog_table_get(c, "renamed", "t", a, &t, &err) == 0);
  CHECK_EQ_INT(t.id, t3);
  CHECK(!catalog_database_exists(c, "my-db"));
  catalog_close(c);
}

/* ---- tables --------------------------------------------------------------------- */

static void test_tables(struct arena *a)
{
  struct catalog *c = open_or_die(test_path(a, "tables"));
  struct error err = { 0 };
  const uint8_t schema[] = { 1, 0, 2, 0, 255, 7 };
  struct catalog_setting settings[] = { { "index_granularity", "8192" }, { "storage_policy", "tiered" } };
  struct catalog_table_def def = {
    .engine = "MergeTree",
    .ddl = "CREATE TABLE default.t (x UInt64) ENGINE = MergeTree ORDER BY x",
    .schema = schema,
    .schema_bytes = sizeof schema,
    .settings = settings,
    .settings_count = 2,
  };
  struct catalog_table_ref ref = { 0 };

  CHECK_EQ_INT(catalog_table_create(c, "default", "t", &def, &ref, &err), ERR_UNKNOWN_DATABASE);
  CHECK_EQ_STR(err.message, "Database default does not exist");
  REQUIRE(catalog_database_create(c, "default", NULL, false, &err) == 0);
  REQUIRE(catalog_database_create(c, "other", NULL, false, &err) == 0);
  REQUIRE(catalog_table_create(c, "default", "t", &def, &ref, &err) == 0);
  CHECK(ref.id > 0);
  CHECK(uuid_looks_valid(ref.uuid));
  int64_t tid = ref.id;
  char uuid[CATALOG_UUID_LEN + 1];
  memcpy(uuid, ref.uuid, sizeof uuid);

  CHECK_EQ_INT(catalog_table_create(c, "default", "t", &def, &ref, &err), ERR_TABLE_ALREADY_EXISTS);
  CHECK_EQ_INT(err.code, 57);
  CHECK_EQ_STR(err.message, "Table default.t already exists.");
  CHECK_EQ_INT(catalog_table_create(c, "default", "", &def, &ref, &err), ERR_BAD_ARGUMENTS);
  struct catalog_table_def no_engine = { .ddl = "x" };
  CHECK_EQ_INT(catalog_table_create(c, "default", "u", &no_engine, &ref, &err), ERR_BAD_ARGUMENTS);

  struct catalog_table t;
  REQUIRE(catalog_table_get(c, "default", "t", a, &t, &err) == 0);
  CHECK_EQ_INT(t.id, tid);
  CHECK_EQ_STR(t.uuid, uuid);
  CHECK_EQ_STR(t.database, "default");
  CHECK_EQ_STR(t.name, "t");
  CHECK_EQ_STR(t.engine, "MergeTree");
  CHECK_EQ_STR(t.ddl, def.ddl);
  CHECK_EQ_INT(t.schema_bytes, sizeof schema);
  CHECK(t.schema && memcmp(t.schema, schema, sizeof schema) == 0);
  REQUIRE(t.settings_count == 2);
  CHECK_EQ_STR(t.settings[0].name, "index_granularity");
  CHECK_EQ_STR(t.settings[0].value, "8192");
  CHECK_EQ_STR(t.settings[1].name, "storage_policy");
  CHECK_EQ_STR(t.settings[1].value, "tiered");
  CHECK_EQ_INT(t.next_block, 1);
  CHECK_EQ_INT(t.wal_position, 0);
  CHECK(t.created_ns > 0 && t.modified_ns == t.created_ns);

  struct catalog_table t_by_id;
  REQUIRE(catalog_table_get_by_id(c, tid, a, &t_by_id, &err) == 0);
  CHECK_EQ_STR(t_by_id.name, "t");
  CHECK_EQ_INT(catalog_table_get_by_id(c, 12345, a, &t_by_id, &err), ERR_UNKNOWN_TABLE);
  CHECK_EQ_STR(err.message, "Table with id 12345 does not exist.");

  CHECK_EQ_INT(catalog_table_get(c, "default", "nope", a, &t, &err), ERR_UNKNOWN_TABLE);
  CHECK_EQ_INT(err.code, 60);
  CHECK_EQ_STR(err.message, "Table default.nope does not exist.");
  CHECK_EQ_INT(catalog_table_get(c, "x", "t", a, &t, &err), ERR_UNKNOWN_DATABASE);
  CHECK_EQ_STR(err.message, "Database x does not exist");
  CHECK_EQ_INT(catalog_table_get(c, "default", "weird name", a, &t, &err), ERR_UNKNOWN_TABLE);
  CHECK_EQ_STR(err.message, "Table default.`weird name` does not exist.");
  CHECK(catalog_table_exists(c, "default", "t"));
  CHECK(!catalog_table_exists(c, "default", "nope"));
  CHECK(!catalog_table_exists(c, "x", "t"));

  /* Explicit uuids: normalized, validated, unique. */
  struct catalog_table_def with_uuid = def;
  with_uuid.uuid = "3A5C0F5E-1B2C-4D3E-8F90-A1B2C3D4E5F6";
  REQUIRE(catalog_table_create(c, "default", "u", &with_uuid, &ref, &err) == 0);
  CHECK_EQ_STR(ref.uuid, "3a5c0f5e-1b2c-4d3e-8f90-a1b2c3d4e5f6");
  CHECK_EQ_INT(catalog_table_create(c, "default", "u2", &with_uuid, &ref, &err), ERR_TABLE_ALREADY_EXISTS);
  CHECK(strstr(err.message, "Mapping for table with UUID=3a5c0f5e-1b2c-4d3e-8f90-a1b2c3d4e5f6 already exists") != NULL);
  with_uuid.uuid = "not-a-uuid";
  CHECK_EQ_INT(catalog_table_create(c, "default", "u3", &with_uuid, &ref, &err), ERR_CANNOT_PARSE_UUID);

  struct catalog_table *list;
  size_t n;
  REQUIRE(catalog_table_list(c, "default", a, &list, &n, &err) == 0);
  REQUIRE(n == 2);
  CHECK_EQ_STR(list[0].name, "t");
  CHECK_EQ_STR(list[1].name, "u");
  CHECK_EQ_INT(list[0].settings_count, 2);
  REQUIRE(catalog_table_list(c, "other", a, &list, &n, &err) == 0);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(catalog_table_list(c, "x", a, &list, &n, &err), ERR_UNKNOWN_DATABASE);

  /* Rename across databases: id, uuid, counters and parts follow. */
  uint64_t block;
  REQUIRE(catalog_blocks_allocate(c, tid, 1, &block, &err) == 0);
  struct catalog_part p = make_part(a, "all", block, block, 0);
  REQUIRE(catalog_parts_add(c, tid, &p, 1, NULL, &err) == 0);
  CHECK_EQ_INT(catalog_table_rename(c, "default", "nope", "other", "t", NULL, &err), ERR_UNKNOWN_TABLE);
  CHECK_EQ_STR(err.message, "Table default.nope does not exist.");
  CHECK_EQ_INT(catalog_table_rename(c, "default", "t", "x", "t", NULL, &err), ERR_UNKNOWN_DATABASE);
  CHECK_EQ_INT(catalog_table_rename(c, "default", "t", "default", "u", NULL, &err), ERR_TABLE_ALREADY_EXISTS);
  CHECK_EQ_STR(err.message, "Table default.u already exists.");
  REQUIRE(catalog_table_rename(c, "default", "t", "other", "t2", "CREATE TABLE other.t2 (x UInt64)", &err) == 0);
  CHECK(!catalog_table_exists(c, "default", "t"));
  REQUIRE(catalog_table_get(c, "other", "t2", a, &t, &err) == 0);
  CHECK_EQ_INT(t.id, tid);
  CHECK_EQ_STR(t.uuid, uuid);
  CHECK_EQ_STR(t.ddl, "CREATE TABLE other.t2 (x UInt64)");
  CHECK_EQ_INT(t.next_block, 2);
  CHECK(t.modified_ns >= t.created_ns);
  CHECK_EQ_INT(active_count(c, tid, NULL), 1);
  REQUIRE(catalog_table_rename(c, "other", "t2", "default", "t", NULL, &err) == 0);
  REQUIRE(catalog_table_get(c, "default", "t", a, &t, &err) == 0);
  CHECK_EQ_STR(t.ddl, "CREATE TABLE other.t2 (x UInt64)");   /* NULL kept the text */

  /* Alter replaces DDL, schema and settings together. */
  const uint8_t schema2[] = { 9, 9, 9 };
  struct catalog_setting settings2[] = { { "ttl_only_drop_parts", "1" } };
  struct catalog_table_def alter = { .ddl = "CREATE TABLE default.t (x UInt64, y String)", .schema = schema2,
                                     .schema_bytes = sizeof schema2, .settings = settings2, .settings_count = 1 };
  REQUIRE(catalog_table_alter(c, tid, &alter, &err) == 0);
  REQUIRE(catalog_table_get(c, "default", "t", a, &t, &err) == 0);
  CHECK_EQ_STR(t.ddl, alter.ddl);
  CHECK_EQ_INT(t.schema_bytes, 3);
  CHECK(memcmp(t.schema, schema2, 3) == 0);
  REQUIRE(t.settings_count == 1);
  CHECK_EQ_STR(t.settings[0].name, "ttl_only_drop_parts");
  CHECK_EQ_STR(t.engine, "MergeTree");
  CHECK_EQ_INT(catalog_table_alter(c, 999, &alter, &err), ERR_UNKNOWN_TABLE);
  /* A bad setting rolls the whole alter back. */
  struct catalog_setting bad[] = { { "a", "1" }, { "", "2" } };
  struct catalog_table_def bad_alter = { .ddl = "changed", .settings = bad, .settings_count = 2 };
  CHECK_EQ_INT(catalog_table_alter(c, tid, &bad_alter, &err), ERR_BAD_ARGUMENTS);
  REQUIRE(catalog_table_get(c, "default", "t", a, &t, &err) == 0);
  CHECK_EQ_STR(t.ddl, alter.ddl);
  CHECK_EQ_INT(t.settings_count, 1);

  /* Drop; ids are never reused. */
  struct catalog_table_ref gone = { 0 };
  CHECK_EQ_INT(catalog_table_drop(c, "default", "nope", &gone, &err), ERR_UNKNOWN_TABLE);
  CHECK_EQ_STR(err.message, "Table default.nope does not exist.");
  REQUIRE(catalog_table_drop(c, "default", "t", &gone, &err) == 0);
  CHECK_EQ_INT(gone.id, tid);
  CHECK_EQ_STR(gone.uuid, uuid);
  CHECK(!catalog_table_exists(c, "default", "t"));
  CHECK_EQ_INT(catalog_blocks_allocate(c, tid, 1, &block, &err), ERR_UNKNOWN_TABLE);
  REQUIRE(catalog_table_create(c, "default", "t", &def, &ref, &err) == 0);
  CHECK(ref.id > tid);
  CHECK(strcmp(ref.uuid, uuid) != 0);
  CHECK_EQ_INT(active_count(c, ref.id, NULL), 0);
  catalog_close(c);
}

/* ---- block numbers and WAL position --------------------------------------------- */

static void test_counters(struct arena *a)
{
  struct catalog *c = open_or_die(test_path(a, "counters"));
  struct error err = { 0 };
  int64_t tid = make_table(c, "default", "t");
  int64_t other = make_table(c, "default", "o");
  uint64_t first = 0;

  REQUIRE(catalog_blocks_allocate(c, tid, 1, &first, &err) == 0);
  CHECK_EQ_INT(first, 1);
  REQUIRE(catalog_blocks_allocate(c, tid, 3, &first, &err) == 0);
  CHECK_EQ_INT(first, 2);
  REQUIRE(catalog_blocks_allocate(c, tid, 1, &first, &err) == 0);
  CHECK_EQ_INT(first, 5);
  REQUIRE(catalog_blocks_allocate(c, other, 1, &first, &err) == 0);
  CHECK_EQ_INT(first, 1);   /* per table */
  CHECK_EQ_INT(catalog_blocks_allocate(c, tid, 0, &first, &err), ERR_BAD_ARGUMENTS);
  CHECK_EQ_INT(catalog_blocks_allocate(c, tid, UINT64_MAX - 2, &first, &err), ERR_ARGUMENT_OUT_OF_BOUND);
  CHECK_EQ_INT(catalog_blocks_allocate(c, 777, 1, &first, &err), ERR_UNKNOWN_TABLE);

  uint64_t pos = 1;
  REQUIRE(catalog_wal_position_get(c, tid, &pos, &err) == 0);
  CHECK_EQ_INT(pos, 0);
  REQUIRE(catalog_wal_position_advance(c, tid, 100, &err) == 0);
  REQUIRE(catalog_wal_position_advance(c, tid, 100, &err) == 0);
  CHECK_EQ_INT(catalog_wal_position_advance(c, tid, 50, &err), ERR_LOGICAL_ERROR);
  CHECK(strstr(err.message, "cannot move back from 100 to 50") != NULL);
  CHECK(strstr(err.message, "default.t") != NULL);
  REQUIRE(catalog_wal_position_get(c, tid, &pos, &err) == 0);
  CHECK_EQ_INT(pos, 100);
  /* The full u64 range survives sqlite's signed integers. */
  REQUIRE(catalog_wal_position_advance(c, other, UINT64_MAX - 1, &err) == 0);
  REQUIRE(catalog_wal_position_get(c, other, &pos, &err) == 0);
  CHECK(pos == UINT64_MAX - 1);
  CHECK_EQ_INT(catalog_wal_position_get(c, 777, &pos, &err), ERR_UNKNOWN_TABLE);
  catalog_close(c);
}

/* ---- parts ------------------------------------------------------------------------ */

static void test_parts(struct arena *a)
{
  struct catalog *c = open_or_die(test_path(a, "parts"));
  struct error err = { 0 };
  int64_t tid = make_table(c, "default", "t");
  uint64_t first;
  REQUIRE(catalog_blocks_allocate(c, tid, 4, &first, &err) == 0);   /* blocks 1..4 */

  /* Two partitions in one flush, WAL position advanced with them. */
  struct catalog_part ps[2] = { make_part(a, "202401", 1, 1, 0), make_part(a, "202402", 2, 2, 0) };
  const char minmax[] = "minmax-bytes";
  ps[0].minmax = minmax;
  ps[0].minmax_bytes = sizeof minmax;
  ps[0].has_time = true;
  ps[0].min_time = -5;
  ps[0].max_time = 1700000000123LL;
  ps[0].rows = 5000000000ull;
  uint64_t wal = 42;
  REQUIRE(catalog_parts_add(c, tid, ps, 2, &wal, &err) == 0);
  uint64_t pos;
  REQUIRE(catalog_wal_position_get(c, tid, &pos, &err) == 0);
  CHECK_EQ_INT(pos, 42);

  struct catalog_part *list;
  size_t n;
  REQUIRE(catalog_parts_list_active(c, tid, NULL, a, &list, &n, &err) == 0);
  REQUIRE(n == 2);
  CHECK_EQ_STR(list[0].name, "202401_1_1_0");
  CHECK_EQ_INT(list[0].table_id, tid);
  CHECK_EQ_STR(list[0].partition_id, "202401");
  CHECK_EQ_MEM(list[0].partition_value, list[0].partition_value_bytes, "202401");
  CHECK_EQ_INT(list[0].minmax_bytes, sizeof minmax);
  CHECK(list[0].minmax && memcmp(list[0].minmax, minmax, sizeof minmax) == 0);
  CHECK_EQ_INT(list[0].min_block, 1);
  CHECK_EQ_INT(list[0].max_block, 1);
  CHECK_EQ_INT(list[0].level, 0);
  CHECK(list[0].rows == 5000000000ull);
  CHECK_EQ_INT(list[0].bytes_on_disk, 4096);
  CHECK_EQ_INT(list[0].data_compressed_bytes, 4000);
  CHECK_EQ_INT(list[0].data_uncompressed_bytes, 16000);
  CHECK(list[0].has_time);
  CHECK_EQ_INT(list[0].min_time, -5);
  CHECK_EQ_INT(list[0].max_time, 1700000000123LL);
  CHECK_EQ_STR(list[0].disk, "default");
  CHECK_EQ_INT(list[0].state, CATALOG_PART_ACTIVE);
  CHECK(list[0].created_ns > 0 && list[0].modified_ns == list[0].created_ns);
  CHECK_EQ_INT(list[0].removed_ns, 0);
  CHECK(!list[1].has_time);
  CHECK(list[1].minmax == NULL && list[1].minmax_bytes == 0);
  REQUIRE(catalog_parts_list_active(c, tid, "202402", a, &list, &n, &err) == 0);
  REQUIRE(n == 1);
  CHECK_EQ_STR(list[0].name, "202402_2_2_0");
  REQUIRE(catalog_parts_list_active(c, tid, "209912", a, &list, &n, &err) == 0);
  CHECK_EQ_INT(n, 0);

  /* Bad parts: nothing of the transaction survives, WAL position included. */
  struct catalog_part good = make_part(a, "all", 3, 3, 0);
  struct catalog_part bad = make_part(a, "all", 9, 9, 0);   /* block 9 never allocated */
  struct catalog_part pair[2] = { good, bad };
  wal = 50;
  CHECK_EQ_INT(catalog_parts_add(c, tid, pair, 2, &wal, &err), ERR_LOGICAL_ERROR);
  CHECK(strstr(err.message, "all_9_9_0") && strstr(err.message, "never allocated"));
  CHECK_EQ_INT(active_count(c, tid, "all"), 0);
  REQUIRE(catalog_wal_position_get(c, tid, &pos, &err) == 0);
  CHECK_EQ_INT(pos, 42);

  struct catalog_part misnamed = good;
  misnamed.name = "all_3_3_1";
  CHECK_EQ_INT(catalog_parts_add(c, tid, &misnamed, 1, NULL, &err), ERR_LOGICAL_ERROR);
  CHECK(strstr(err.message, "does not match") != NULL);
  misnamed.name = "all_3_3_0_x";
  CHECK_EQ_INT(catalog_parts_add(c, tid, &misnamed, 1, NULL, &err), ERR_LOGICAL_ERROR);
  struct catalog_part versioned = good;
  versioned.name = "all_3_3_0_7";   /* a mutation's data version suffix */
  REQUIRE(catalog_parts_add(c, tid, &versioned, 1, NULL, &err) == 0);
  struct catalog_part inverted = make_part(a, "all", 4, 3, 0);
  CHECK_EQ_INT(catalog_parts_add(c, tid, &inverted, 1, NULL, &err), ERR_LOGICAL_ERROR);
  wal = 10;
  CHECK_EQ_INT(catalog_parts_add(c, tid, NULL, 0, &wal, &err), ERR_LOGICAL_ERROR);   /* WAL backwards */

  CHECK_EQ_INT(catalog_parts_add(c, tid, &ps[0], 1, NULL, &err), ERR_DUPLICATE_DATA_PART);
  CHECK_EQ_INT(err.code, 235);
  CHECK_EQ_STR(err.message, "Part 202401_1_1_0 already exists in table default.t");
  struct catalog_part overlap = make_part(a, "202401", 1, 2, 1);
  CHECK_EQ_INT(catalog_parts_add(c, tid, &overlap, 1, NULL, &err), ERR_LOGICAL_ERROR);
  CHECK_EQ_STR(err.message, "Part 202401_1_2_1 intersects active part 202401_1_1_0 of table default.t");
  CHECK_EQ_INT(catalog_parts_add(c, 999, &good, 1, NULL, &err), ERR_UNKNOWN_TABLE);

  /* Moves between disks. */
  REQUIRE(catalog_part_set_disk(c, tid, "202401_1_1_0", "s3", &err) == 0);
  REQUIRE(catalog_parts_list_active(c, tid, "202401", a, &list, &n, &err) == 0);
  REQUIRE(n == 1);
  CHECK_EQ_STR(list[0].disk, "s3");
  CHECK(list[0].modified_ns >= list[0].created_ns);
  CHECK_EQ_INT(catalog_part_set_disk(c, tid, "nope_1_1_0", "s3", &err), ERR_NO_SUCH_DATA_PART);
  CHECK_EQ_STR(err.message, "No part nope_1_1_0 in table default.t");
  CHECK_EQ_INT(catalog_part_set_disk(c, tid, "202401_1_1_0", "", &err), ERR_BAD_ARGUMENTS);

  /* TTL drop of whole parts: all or nothing. */
  const char *both[] = { "202402_2_2_0", "nope_1_1_0" };
  CHECK_EQ_INT(catalog_parts_remove(c, tid, both, 2, &err), ERR_ABORTED);
  CHECK_EQ_STR(err.message, "Cannot remove parts in table default.t: part nope_1_1_0 does not exist");
  CHECK_EQ_INT(active_count(c, tid, "202402"), 1);
  REQUIRE(catalog_parts_remove(c, tid, both, 1, &err) == 0);
  CHECK_EQ_INT(active_count(c, tid, "202402"), 0);
  CHECK_EQ_INT(catalog_parts_remove(c, tid, both, 1, &err), ERR_ABORTED);
  CHECK(strstr(err.message, "is no longer active") != NULL);
  CHECK_EQ_INT(catalog_part_set_disk(c, tid, "202402_2_2_0", "s3", &err), ERR_ABORTED);

  /* Outdated parts stay listed for reconciliation until forgotten. */
  REQUIRE(catalog_parts_list_all(c, tid, a, &list, &n, &err) == 0);
  REQUIRE(n == 3);   /* by partition id: 202401, 202402, all */
  CHECK_EQ_STR(list[1].name, "202402_2_2_0");
  CHECK_EQ_INT(list[1].state, CATALOG_PART_OUTDATED);
  CHECK(list[1].removed_ns >= list[1].created_ns && list[1].removed_ns > 0);
  CHECK_EQ_STR(list[2].name, "all_3_3_0_7");
  CHECK_EQ_INT(list[2].state, CATALOG_PART_ACTIVE);
  const char *active_one[] = { "202401_1_1_0" };
  CHECK_EQ_INT(catalog_parts_forget(c, tid, active_one, 1, &err), ERR_LOGICAL_ERROR);
  CHECK_EQ_INT(catalog_parts_forget(c, tid, both + 1, 1, &err), ERR_NO_SUCH_DATA_PART);
  REQUIRE(catalog_parts_forget(c, tid, both, 1, &err) == 0);
  REQUIRE(catalog_parts_list_all(c, tid, a, &list, &n, &err) == 0);
  CHECK_EQ_INT(n, 2);
  REQUIRE(catalog_parts_list_all(c, 0, a, &list, &n, &err) == 0);
  CHECK_EQ_INT(n, 2);
  catalog_close(c);
}

/* ---- merges: replace, and the race with DROP PARTITION ------------------------------ */

static void test_replace(struct arena *a)
{
  struct catalog *c = open_or_die(test_path(a, "replace"));
  struct error err = { 0 };
  int64_t tid = make_table(c, "default", "t");
  for (int i = 0; i < 4; i++)
    insert_part(c, a, tid, "p");   /* p_1_1_0 .. p_4_4_0 */

  /* A successful merge of 1..3. */
  struct catalog_part merged = make_part(a, "p", 1, 3, 1);
  const char *sources[] = { "p_1_1_0", "p_2_2_0", "p_3_3_0" };
  REQUIRE(catalog_parts_replace(c, tid, &merged, 1, sources, 3, &err) == 0);
  struct catalog_part *list;
  size_t n;
  REQUIRE(catalog_parts_list_active(c, tid, "p", a, &list, &n, &err) == 0);
  REQUIRE(n == 2);
  CHECK_EQ_STR(list[0].name, "p_1_3_1");
  CHECK_EQ_STR(list[1].name, "p_4_4_0");
  REQUIRE(catalog_parts_list_all(c, tid, a, &list, &n, &err) == 0);
  CHECK_EQ_INT(n, 5);

  /* Overlap checks see parts that start before the new one, too. */
  struct catalog_part inside = make_part(a, "p", 2, 2, 5);
  CHECK_EQ_INT(catalog_parts_add(c, tid, &inside, 1, NULL, &err), ERR_LOGICAL_ERROR);
  CHECK_EQ_STR(err.message, "Part p_2_2_5 intersects active part p_1_3_1 of table default.t");
  struct catalog_part other_partition = make_part(a, "o", 2, 2, 5);
  REQUIRE(catalog_parts_add(c, tid, &other_partition, 1, NULL, &err) == 0);
  const char *other_name[] = { other_partition.name };
  REQUIRE(catalog_parts_remove(c, tid, other_name, 1, &err) == 0);

  /* A second merge holding an outdated source is abandoned, nothing changes. */
  struct catalog_part stale = make_part(a, "p", 2, 4, 1);
  const char *stale_sources[] = { "p_4_4_0", "p_2_2_0" };
  CHECK_EQ_INT(catalog_parts_replace(c, tid, &stale, 1, stale_sources, 2, &err), ERR_ABORTED);
  CHECK_EQ_INT(err.code, 236);
  CHECK_EQ_STR(err.message, "Cannot commit merge in table default.t: part p_2_2_0 is no longer active "
                            "(merged or dropped meanwhile)");
  REQUIRE(catalog_parts_list_active(c, tid, "p", a, &list, &n, &err) == 0);
  REQUIRE(n == 2);
  CHECK_EQ_STR(list[1].name, "p_4_4_0");

  /* A merge result overlapping a part it does not replace is abandoned too. */
  struct catalog_part wide = make_part(a, "p", 1, 4, 2);
  const char *only_first[] = { "p_1_3_1" };
  CHECK_EQ_INT(catalog_parts_replace(c, tid, &wide, 1, only_first, 1, &err), ERR_ABORTED);
  CHECK(strstr(err.message, "intersects active part p_4_4_0") != NULL);
  CHECK_EQ_INT(active_count(c, tid, "p"), 2);

  /* The race: a merge picks its sources, DROP PARTITION commits first. */
  insert_part(c, a, tid, "q");
  insert_part(c, a, tid, "q");
  struct catalog_part *picked;
  size_t picked_n;
  REQUIRE(catalog_parts_list_active(c, tid, "q", a, &picked, &picked_n, &err) == 0);
  REQUIRE(picked_n == 2);
  struct catalog_part *removed;
  size_t removed_n;
  REQUIRE(catalog_parts_remove_partition(c, tid, "q", a, &removed, &removed_n, &err) == 0);
  REQUIRE(removed_n == 2);
  CHECK_EQ_STR(removed[0].name, picked[0].name);
  CHECK_EQ_INT(removed[0].state, CATALOG_PART_OUTDATED);
  struct catalog_part q_merged = make_part(a, "q", picked[0].min_block, picked[1].max_block, 1);
  const char *q_sources[] = { picked[0].name, picked[1].name };
  CHECK_EQ_INT(catalog_parts_replace(c, tid, &q_merged, 1, q_sources, 2, &err), ERR_ABORTED);
  CHECK(strstr(err.message, "is no longer active") != NULL);
  CHECK_EQ_INT(active_count(c, tid, "q"), 0);
  CHECK_EQ_INT(active_count(c, tid, "p"), 2);   /* other partitions untouched */

  /* And the other order: the merge commits, the drop then takes its result. */
  insert_part(c, a, tid, "r");
  insert_part(c, a, tid, "r");
  REQUIRE(catalog_parts_list_active(c, tid, "r", a, &picked, &picked_n, &err) == 0);
  struct catalog_part r_merged = make_part(a, "r", picked[0].min_block, picked[1].max_block, 1);
  const char *r_sources[] = { picked[0].name, picked[1].name };
  REQUIRE(catalog_parts_replace(c, tid, &r_merged, 1, r_sources, 2, &err) == 0);
  REQUIRE(catalog_parts_remove_partition(c, tid, "r", a, &removed, &removed_n, &err) == 0);
  REQUIRE(removed_n == 1);
  CHECK_EQ_STR(removed[0].name, r_merged.name);

  /* A merge whose output is empty (every row expired) just retires sources. */
  REQUIRE(catalog_parts_replace(c, tid, NULL, 0, only_first, 1, &err) == 0);
  CHECK_EQ_INT(active_count(c, tid, "p"), 1);

  /* TRUNCATE: every partition at once. */
  insert_part(c, a, tid, "s");
  REQUIRE(catalog_parts_remove_partition(c, tid, NULL, a, &removed, &removed_n, &err) == 0);
  CHECK_EQ_INT(removed_n, 2);
  CHECK_EQ_INT(active_count(c, tid, NULL), 0);
  REQUIRE(catalog_parts_remove_partition(c, tid, NULL, a, &removed, &removed_n, &err) == 0);
  CHECK_EQ_INT(removed_n, 0);
  CHECK_EQ_INT(catalog_parts_remove_partition(c, 999, NULL, a, &removed, &removed_n, &err), ERR_UNKNOWN_TABLE);
  catalog_close(c);
}

/* ---- server settings ------------------------------------------------------------------ */

static void test_settings(struct arena *a)
{
  struct catalog *c = open_or_die(test_path(a, "settings"));
  struct error err = { 0 };
  const char *v = "x";
  REQUIRE(catalog_setting_get(c, "max_memory", a, &v, &err) == 0);
  CHECK(v == NULL);
  REQUIRE(catalog_setting_set(c, "max_memory", "1G", &err) == 0);
  REQUIRE(catalog_setting_set(c, "a_setting", "", &err) == 0);
  REQUIRE(catalog_setting_set(c, "max_memory", "2G", &err) == 0);
  REQUIRE(catalog_setting_get(c, "max_memory", a, &v, &err) == 0);
  CHECK_EQ_STR(v, "2G");
  struct catalog_setting *list;
  size_t n;
  REQUIRE(catalog_settings_list(c, a, &list, &n, &err) == 0);
  REQUIRE(n == 2);
  CHECK_EQ_STR(list[0].name, "a_setting");
  CHECK_EQ_STR(list[0].value, "");
  CHECK_EQ_STR(list[1].value, "2G");
  REQUIRE(catalog_setting_set(c, "max_memory", NULL, &err) == 0);
  REQUIRE(catalog_setting_get(c, "max_memory", a, &v, &err) == 0);
  CHECK(v == NULL);
  CHECK_EQ_INT(catalog_setting_set(c, "", "1", &err), ERR_BAD_ARGUMENTS);
  catalog_close(c);
}

/* ---- persistence ------------------------------------------------------------------------ */

static void test_reopen(struct arena *a)
{
  const char *path = test_path(a, "reopen");
  struct error err = { 0 };
  struct catalog *c = open_or_die(path);
  int64_t tid = make_table(c, "otel", "otel_traces");
  insert_part(c, a, tid, "t1-202401");
  insert_part(c, a, tid, "t1-202401");
  REQUIRE(catalog_part_set_disk(c, tid, "t1-202401_2_2_0", "warm", &err) == 0);
  REQUIRE(catalog_wal_position_advance(c, tid, 777, &err) == 0);
  REQUIRE(catalog_setting_set(c, "k", "v", &err) == 0);
  const char *gone[] = { "t1-202401_1_1_0" };
  REQUIRE(catalog_parts_remove(c, tid, gone, 1, &err) == 0);
  catalog_close(c);

  c = open_or_die(path);
  struct catalog_table t;
  REQUIRE(catalog_table_get(c, "otel", "otel_traces", a, &t, &err) == 0);
  CHECK_EQ_INT(t.id, tid);
  CHECK_EQ_INT(t.next_block, 3);
  CHECK_EQ_INT(t.wal_position, 777);
  struct catalog_part *list;
  size_t n;
  REQUIRE(catalog_parts_list_all(c, 0, a, &list, &n, &err) == 0);
  REQUIRE(n == 2);
  CHECK_EQ_STR(list[0].name, "t1-202401_1_1_0");
  CHECK_EQ_INT(list[0].state, CATALOG_PART_OUTDATED);
  CHECK_EQ_STR(list[1].disk, "warm");
  CHECK_EQ_INT(list[1].state, CATALOG_PART_ACTIVE);
  const char *v;
  REQUIRE(catalog_setting_get(c, "k", a, &v, &err) == 0);
  CHECK_EQ_STR(v, "v");
  /* Blocks keep growing after a restart. */
  uint64_t first;
  REQUIRE(catalog_blocks_allocate(c, tid, 1, &first, &err) == 0);
  CHECK_EQ_INT(first, 3);
  catalog_close(c);
}

/* ---- concurrency ------------------------------------------------------------------------ */

enum { INSERT_THREADS = 6, INSERTS_PER_THREAD = 40 };

struct insert_worker {
  struct catalog *c;
  int64_t table_id;
  int index;
  uint64_t blocks[INSERTS_PER_THREAD];
  int failures;
};

static void *insert_main(void *p)
{
  struct insert_worker *w = p;
  struct arena a;
  arena_init(&a, 0);
  struct error err = { 0 };
  for (int i = 0; i < INSERTS_PER_THREAD; i++) {
    uint64_t first;
    if (catalog_blocks_allocate(w->c, w->table_id, 1, &first, &err) != 0) {
      w->failures++;
      continue;
    }
    w->blocks[i] = first;
    struct catalog_part part = make_part(&a, (w->index + i) % 2 ? "odd" : "even", first, first, 0);
    uint64_t wal = first;   /* forward-only per writer, but writers race: may go back */
    int rc = catalog_parts_add(w->c, w->table_id, &part, 1, NULL, &err);
    if (rc == 0)
      rc = catalog_wal_position_advance(w->c, w->table_id, wal, &err);
    if (rc != 0 && !(err.code == ERR_LOGICAL_ERROR && strstr(err.message, "cannot move back"))) {
      fprintf(stderr, "insert thread %d: %s\n", w->index, err.message);
      w->failures++;
    }
    arena_reset(&a);
  }
  arena_destroy(&a);
  return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return a < b ? -1 : a > b;
}

static void test_concurrent_inserts(struct arena *a)
{
  struct catalog *c = open_or_die(test_path(a, "concurrent"));
  struct error err = { 0 };
  int64_t t1 = make_table(c, "default", "t1");
  int64_t t2 = make_table(c, "default", "t2");
  struct insert_worker w[INSERT_THREADS];
  pthread_t th[INSERT_THREADS];
  for (int i = 0; i < INSERT_THREADS; i++) {
    w[i] = (struct insert_worker){ .c = c, .table_id = i % 3 ? t1 : t2, .index = i };
    REQUIRE(pthread_create(&th[i], NULL, insert_main, &w[i]) == 0);
  }
  for (int i = 0; i < INSERT_THREADS; i++)
    pthread_join(th[i], NULL);

  uint64_t all[INSERT_THREADS * INSERTS_PER_THREAD];
  size_t n_t1 = 0;
  for (int i = 0; i < INSERT_THREADS; i++) {
    CHECK_EQ_INT(w[i].failures, 0);
    for (int j = 1; j < INSERTS_PER_THREAD; j++)
      CHECK(w[i].blocks[j] > w[i].blocks[j - 1]);   /* monotonic per caller */
    if (w[i].table_id == t1)
      for (int j = 0; j < INSERTS_PER_THREAD; j++)
        all[n_t1++] = w[i].blocks[j];
  }
  /* Across callers of one table: 1..N with no duplicates and no gaps. */
  qsort(all, n_t1, sizeof all[0], cmp_u64);
  for (size_t i = 0; i < n_t1; i++)
    CHECK_EQ_INT(all[i], i + 1);

  struct catalog_part *list;
  size_t n;
  REQUIRE(catalog_parts_list_active(c, t1, NULL, a, &list, &n, &err) == 0);
  CHECK_EQ_INT(n, n_t1);
  REQUIRE(catalog_parts_list_active(c, t2, NULL, a, &list, &n, &err) == 0);
  CHECK_EQ_INT(n, INSERT_THREADS * INSERTS_PER_THREAD - n_t1);
  struct catalog_table t;
  REQUIRE(catalog_table_get_by_id(c, t1, a, &t, &err) == 0);
  CHECK_EQ_INT(t.next_block, n_t1 + 1);
  CHECK_EQ_INT(t.wal_position, n_t1);   /* the largest any writer reached */
  catalog_close(c);
}

/* Inserter, merger and dropper on one table. Inserts hold a per-table lock
 * from block allocation to catalog add, as the engine does, so no in-flight
 * block hides inside a merge's range. Every merge either commits or is
 * ABORTED; active parts never overlap. */
/* At least RACE_ROUNDS inserts, and on until a merge has committed and a
 * drop has run, so a loaded machine cannot starve either side of the race
 * (bounded by RACE_SECONDS_MAX). */
enum { RACE_ROUNDS = 150, RACE_SECONDS_MAX = 20 };

struct race {
  struct catalog *c;
  int64_t table_id;
  pthread_mutex_t insert_lock;
  _Atomic int done;
  _Atomic int merges_ok, merges_aborted, drops, failures;
};

static void *race_insert(void *p)
{
  struct race *r = p;
  struct arena a;
  arena_init(&a, 0);
  struct error err = { 0 };
  time_t deadline = time(NULL) + RACE_SECONDS_MAX;
  for (int i = 0; time(NULL) < deadline && (i < RACE_ROUNDS || r->merges_ok == 0 || r->drops == 0); i++) {
    pthread_mutex_lock(&r->insert_lock);
    uint64_t first;
    int rc = catalog_blocks_allocate(r->c, r->table_id, 1, &first, &err);
    if (rc == 0) {
      struct catalog_part part = make_part(&a, i % 3 ? "hot" : "cold", first, first, 0);
      rc = catalog_parts_add(r->c, r->table_id, &part, 1, NULL, &err);
    }
    pthread_mutex_unlock(&r->insert_lock);
    if (rc) {
      fprintf(stderr, "race insert: %s\n", err.message);
      r->failures++;
    }
    arena_reset(&a);
    usleep(200);
  }
  arena_destroy(&a);
  r->done = 1;
  return NULL;
}

static void *race_merge(void *p)
{
  struct race *r = p;
  struct arena a;
  arena_init(&a, 0);
  struct error err = { 0 };
  while (!r->done) {
    struct catalog_part *parts;
    size_t n;
    if (catalog_parts_list_active(r->c, r->table_id, "hot", &a, &parts, &n, &err) != 0) {
      r->failures++;
      break;
    }
    if (n >= 2) {
      const char **names = arena_new_array(&a, const char *, n);
      uint32_t level = 0;
      for (size_t i = 0; i < n; i++) {
        names[i] = parts[i].name;
        if (parts[i].level > level)
          level = parts[i].level;
      }
      struct catalog_part merged = make_part(&a, "hot", parts[0].min_block, parts[n - 1].max_block, level + 1);
      usleep(1000);   /* writing the merged file: the window a DROP PARTITION can hit */
      int rc = catalog_parts_replace(r->c, r->table_id, &merged, 1, names, n, &err);
      if (rc == 0) {
        r->merges_ok++;
      } else if (rc == ERR_ABORTED) {
        r->merges_aborted++;
      } else {
        fprintf(stderr, "race merge: %s\n", err.message);
        r->failures++;
      }
    }
    arena_reset(&a);
    usleep(300);
  }
  arena_destroy(&a);
  return NULL;
}

static void *race_drop(void *p)
{
  struct race *r = p;
  struct arena a;
  arena_init(&a, 0);
  struct error err = { 0 };
  while (!r->done) {
    struct catalog_part *removed;
    size_t n;
    if (catalog_parts_remove_partition(r->c, r->table_id, "hot", &a, &removed, &n, &err) != 0) {
      fprintf(stderr, "race drop: %s\n", err.message);
      r->failures++;
      break;
    }
    r->drops++;
    arena_reset(&a);
    usleep(15000);
  }
  arena_destroy(&a);
  return NULL;
}

static void test_merge_drop_race(struct arena *a)
{
  struct catalog *c = open_or_die(test_path(a, "race"));
  struct error err = { 0 };
  struct race r = { .c = c, .table_id = make_table(c, "default", "t") };
  pthread_mutex_init(&r.insert_lock, NULL);
  pthread_t ins, mer, dro;
  REQUIRE(pthread_create(&ins, NULL, race_insert, &r) == 0);
  REQUIRE(pthread_create(&mer, NULL, race_merge, &r) == 0);
  REQUIRE(pthread_create(&dro, NULL, race_drop, &r) == 0);
  pthread_join(ins, NULL);
  pthread_join(mer, NULL);
  pthread_join(dro, NULL);
  pthread_mutex_destroy(&r.insert_lock);
  CHECK_EQ_INT(r.failures, 0);
  CHECK(r.merges_ok > 0);
  CHECK(r.drops > 0);
  fprintf(stderr, "race: %d merges committed, %d aborted, %d drops\n", r.merges_ok, r.merges_aborted, r.drops);

  struct catalog_part *parts;
  size_t n;
  REQUIRE(catalog_parts_list_active(c, r.table_id, NULL, a, &parts, &n, &err) == 0);
  for (size_t i = 1; i < n; i++)
    if (strcmp(parts[i].partition_id, parts[i - 1].partition_id) == 0)
      CHECK(parts[i].min_block > parts[i - 1].max_block);   /* no overlap */
  CHECK_EQ_INT(active_count(c, r.table_id, "cold"), RACE_ROUNDS / 3);
  catalog_close(c);
}

/* ---- crashes ------------------------------------------------------------------------------ */

enum { CRASH_BASE_PARTS = 5, CRASH_BIG_PARTS = 3000, CRASH_BLOB_BYTES = 2048 };

struct crash_hook {
  int fd;
  bool armed;
};

/* Inside the transaction, before COMMIT: tell the parent, wait to be killed. */
static void crash_hook_fn(void *arg)
{
  struct crash_hook *h = arg;
  if (!h->armed)
    return;
  char byte = 'x';
  if (write(h->fd, &byte, 1) != 1)
    _exit(3);
  for (;;)
    pause();
}

static void crash_child_big_tx(const char *path, int fd, int64_t tid)
{
  struct catalog *c = NULL;
  struct error err = { 0 };
  if (catalog_open(&c, path, &err) != 0)
    _exit(2);
  struct crash_hook hook = { fd, false };
  catalog_set_commit_hook(c, crash_hook_fn, &hook);
  uint64_t first;
  if (catalog_blocks_allocate(c, tid, CRASH_BIG_PARTS, &first, &err) != 0)
    _exit(2);
  struct arena a;
  arena_init(&a, 0);
  struct catalog_part *parts = arena_new_array(&a, struct catalog_part, CRASH_BIG_PARTS);
  char *blob = arena_alloc(&a, CRASH_BLOB_BYTES);
  memset(blob, 'b', CRASH_BLOB_BYTES);
  for (int i = 0; i < CRASH_BIG_PARTS; i++) {
    parts[i] = make_part(&a, "big", first + (uint64_t)i, first + (uint64_t)i, 0);
    parts[i].minmax = blob;
    parts[i].minmax_bytes = CRASH_BLOB_BYTES;
  }
  uint64_t wal = 1000000;
  hook.armed = true;
  catalog_parts_add(c, tid, parts, CRASH_BIG_PARTS, &wal, &err);
  _exit(4);   /* the hook never returns; reaching here is a failure */
}

static void test_crash_mid_transaction(struct arena *a)
{
  const char *path = test_path(a, "crash");
  struct error err = { 0 };
  struct catalog *c = open_or_die(path);
  int64_t tid = make_table(c, "default", "t");
  for (int i = 0; i < CRASH_BASE_PARTS; i++)
    insert_part(c, a, tid, "base");
  REQUIRE(catalog_wal_position_advance(c, tid, CRASH_BASE_PARTS, &err) == 0);
  catalog_close(c);

  int pipefd[2];
  REQUIRE(pipe(pipefd) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(pipefd[0]);
    crash_child_big_tx(path, pipefd[1], tid);
  }
  close(pipefd[1]);
  char byte;
  ssize_t got = read(pipefd[0], &byte, 1);
  close(pipefd[0]);
  CHECK_EQ_INT(got, 1);   /* the child reached COMMIT */
  /* The uncommitted transaction was large enough to spill into the WAL file,
   * so recovery really has frames to discard. */
  struct stat st;
  char *wal_path = arena_printf(a, "%s-wal", path);
  CHECK(stat(wal_path, &st) == 0 && st.st_size > 1024 * 1024);
  kill(pid, SIGKILL);
  int status;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  c = open_or_die(path);
  struct catalog_table t;
  REQUIRE(catalog_table_get_by_id(c, tid, a, &t, &err) == 0);
  CHECK_EQ_INT(t.wal_position, CRASH_BASE_PARTS);
  CHECK_EQ_INT(t.next_block, CRASH_BASE_PARTS + 1 + CRASH_BIG_PARTS);   /* that commit happened */
  CHECK_EQ_INT(active_count(c, tid, NULL), CRASH_BASE_PARTS);
  CHECK_EQ_INT(active_count(c, tid, "big"), 0);
  /* Still writable, and the blocks the dead child held are not reused. */
  uint64_t first = insert_part(c, a, tid, "base");
  CHECK_EQ_INT(first, CRASH_BASE_PARTS + 1 + CRASH_BIG_PARTS);
  catalog_close(c);

  sqlite3 *db;
  REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
  sqlite3_stmt *s;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK_EQ_STR((const char *)sqlite3_column_text(s, 0), "ok");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

/* A child flushes in a loop (one part + WAL position = part count per
 * transaction) and is killed at a random moment; after reopening, the WAL
 * position always equals the number of parts: no half-applied flush. */
static void crash_child_loop(const char *path, int fd, int64_t tid)
{
  struct catalog *c = NULL;
  struct error err = { 0 };
  if (catalog_open(&c, path, &err) != 0)
    _exit(2);
  struct arena a;
  arena_init(&a, 0);
  uint64_t wal;
  if (catalog_wal_position_get(c, tid, &wal, &err) != 0)
    _exit(2);
  char byte = 'r';
  if (write(fd, &byte, 1) != 1)
    _exit(3);
  for (;;) {
    uint64_t first;
    if (catalog_blocks_allocate(c, tid, 1, &first, &err) != 0)
      _exit(2);
    struct catalog_part p = make_part(&a, "loop", first, first, 0);
    wal++;
    if (catalog_parts_add(c, tid, &p, 1, &wal, &err) != 0)
      _exit(2);
    arena_reset(&a);
  }
}

static void test_crash_random(struct arena *a)
{
  const char *path = test_path(a, "crash_loop");
  struct catalog *c = open_or_die(path);
  int64_t tid = make_table(c, "default", "t");
  catalog_close(c);
  unsigned seed = (unsigned)time(NULL);
  fprintf(stderr, "crash loop seed %u\n", seed);
  srand(seed);
  uint64_t last_parts = 0;
  for (int round = 0; round < 5; round++) {
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(pipefd[0]);
      crash_child_loop(path, pipefd[1], tid);
    }
    close(pipefd[1]);
    char byte;
    CHECK_EQ_INT(read(pipefd[0], &byte, 1), 1);
    close(pipefd[0]);
    usleep(20000 + (useconds_t)(rand() % 80000));
    kill(pid, SIGKILL);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    struct error err = { 0 };
    c = open_or_die(path);
    struct catalog_table t;
    REQUIRE(catalog_table_get_by_id(c, tid, a, &t, &err) == 0);
    size_t parts = active_count(c, tid, "loop");
    CHECK_EQ_INT(t.wal_position, parts);
    CHECK(parts >= last_parts);
    struct catalog_part *list;
    size_t n;
    REQUIRE(catalog_parts_list_active(c, tid, NULL, a, &list, &n, &err) == 0);
    for (size_t i = 0; i < n; i++)
      CHECK(list[i].max_block < t.next_block);
    last_parts = parts;
    catalog_close(c);
  }
  CHECK(last_parts > 0);
  fprintf(stderr, "crash loop: %" PRIu64 " flushes survived 5 kills\n", last_parts);
}

int main(void)
{
  REQUIRE(mkdtemp(test_dir) != NULL);
  struct arena a;
  arena_init(&a, 0);

  test_open_and_schema(&a);
  test_databases(&a);
  test_tables(&a);
  test_counters(&a);
  test_parts(&a);
  test_replace(&a);
  test_settings(&a);
  test_reopen(&a);
  test_crash_mid_transaction(&a);
  test_crash_random(&a);
  test_concurrent_inserts(&a);
  test_merge_drop_race(&a);

  arena_destroy(&a);
  remove_test_dir();
  TEST_DONE();
}
