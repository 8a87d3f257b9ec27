/* The catalog over sqlite3: one connection behind a mutex, every call one
 * transaction (BEGIN IMMEDIATE for writes), prepared statements cached per
 * connection, and the schema as forward-only migrations embedded below.
 * The rules these functions keep are listed in catalog/README.md. */
#include "catalog/catalog.h"
#include "catalog/catalog_int.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

enum {
  CATALOG_BUSY_TIMEOUT_MS = 10000,   /* another process holding the write lock */
  CATALOG_NAME_QUOTED_MAX = 256,     /* names in messages are cut beyond this */
};

/* ---- schema ---------------------------------------------------------------
 * Migration i (0-based) takes a catalog from schema version i to i + 1; all
 * pending ones run in the opening transaction. Append, never edit: a shipped
 * migration is history that existing catalogs have already run. */
static const char *const catalog_migrations[] = {
  /* 1: databases, tables, table settings, parts, server settings */
  "CREATE TABLE databases (\n"
  "  id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused\n"
  "  name        TEXT NOT NULL UNIQUE,\n"
  "  engine      TEXT NOT NULL,\n"
  "  uuid        TEXT NOT NULL UNIQUE,\n"
  "  created_ns  INTEGER NOT NULL\n"
  ");\n"
  "CREATE TABLE tables (\n"
  "  id           INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused\n"
  "  database_id  INTEGER NOT NULL REFERENCES databases (id),\n"
  "  name         TEXT NOT NULL,\n"
  "  uuid         TEXT NOT NULL UNIQUE,\n"
  "  engine       TEXT NOT NULL,\n"
  "  ddl          TEXT NOT NULL,\n"
  "  schema       BLOB,\n"
  "  next_block   INTEGER NOT NULL CHECK (next_block >= 1),\n"
  "  wal_position INTEGER NOT NULL,                -- u64 stored as its bits\n"
  "  created_ns   INTEGER NOT NULL,\n"
  "  modified_ns  INTEGER NOT NULL,\n"
  "  UNIQUE (database_id, name)\n"
  ");\n"
  "CREATE TABLE table_settings (\n"
  "  table_id  INTEGER NOT NULL REFERENCES tables (id) ON DELETE CASCADE,\n"
  "  position  INTEGER NOT NULL,\n"
  "  name      TEXT NOT NULL,\n"
  "  value     TEXT NOT NULL,\n"
  "  PRIMARY KEY (table_id, position)\n"
  ") WITHOUT ROWID;\n"
  "CREATE TABLE parts (\n"
  "  id                      INTEGER PRIMARY KEY,\n"
  "  table_id                INTEGER NOT NULL REFERENCES tables (id) ON DELETE CASCADE,\n"
  "  name                    TEXT NOT NULL,\n"
  "  partition_id            TEXT NOT NULL,\n"
  "  partition_value         BLOB,\n"
  "  minmax                  BLOB,\n"
  "  min_block               INTEGER NOT NULL,\n"
  "  max_block               INTEGER NOT NULL,\n"
  "  level                   INTEGER NOT NULL,\n"
  "  rows                    INTEGER NOT NULL,\n"
  "  bytes_on_disk           INTEGER NOT NULL,\n"
  "  data_compressed_bytes   INTEGER NOT NULL,\n"
  "  data_uncompressed_bytes INTEGER NOT NULL,\n"
  "  min_time                INTEGER,                 -- NULL: no time column\n"
  "  max_time                INTEGER,\n"
  "  disk                    TEXT NOT NULL,\n"
  "  state                   INTEGER NOT NULL CHECK (state IN (1, 2)),  -- 1 active, 2 outdated\n"
  "  created_ns              INTEGER NOT NULL,\n"
  "  modified_ns             INTEGER NOT NULL,\n"
  "  removed_ns              INTEGER NOT NULL DEFAULT 0,\n"
  "  CHECK (min_block <= max_block),\n"
  "  UNIQUE (table_id, name)\n"
  ");\n"
  "CREATE INDEX parts_by_partition ON parts (table_id, partition_id, state, min_block);\n"
  "CREATE TABLE settings (\n"
  "  name  TEXT PRIMARY KEY,\n"
  "  value TEXT NOT NULL\n"
  ") WITHOUT ROWID;\n",
};

enum { CATALOG_SCHEMA_VERSION = (int)(sizeof catalog_migrations / sizeof catalog_migrations[0]) };

/* ---- statements ----------------------------------------------------------- */
#define TABLE_COLS                                                                                  \
  "t.id, t.uuid, d.name, t.name, t.engine, t.ddl, t.schema, t.next_block, t.wal_position, "        \
  "t.created_ns, t.modified_ns FROM tables t JOIN databases d ON d.id = t.database_id "
#define PART_COLS                                                                                   \
  "table_id, name, partition_id, partition_value, minmax, min_block, max_block, level, rows, "      \
  "bytes_on_disk, data_compressed_bytes, data_uncompressed_bytes, min_time, max_time, disk, state, " \
  "created_ns, modified_ns, removed_ns FROM parts "

#define CATALOG_STATEMENTS(X)                                                                        \
  X(BEGIN_READ, "BEGIN")                                                                             \
  X(BEGIN_WRITE, "BEGIN IMMEDIATE")                                                                  \
  X(COMMIT, "COMMIT")                                                                                \
  X(DB_FIND, "SELECT id FROM databases WHERE name = ?1")                                            \
  X(DB_INSERT, "INSERT INTO databases (name, engine, uuid, created_ns) VALUES (?1, ?2, ?3, ?4)")     \
  X(DB_DELETE, "DELETE FROM databases WHERE id = ?1")                                               \
  X(DB_RENAME, "UPDATE databases SET name = ?2 WHERE id = ?1")                                      \
  X(DB_LIST, "SELECT id, name, engine, uuid, created_ns FROM databases ORDER BY name")              \
  X(DB_TABLES, "SELECT id, uuid, name FROM tables WHERE database_id = ?1 ORDER BY name")            \
  X(DB_DELETE_TABLES, "DELETE FROM tables WHERE database_id = ?1")                                  \
  X(TABLE_FIND, "SELECT id, uuid FROM tables WHERE database_id = ?1 AND name = ?2")                 \
  X(TABLE_UUID_FIND, "SELECT id FROM tables WHERE uuid = ?1")                                       \
  X(TABLE_INSERT, "INSERT INTO tables (database_id, name, uuid, engine, ddl, schema, next_block, "  \
                  "wal_position, created_ns, modified_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 0, ?7, ?7)") \
  X(TABLE_DELETE, "DELETE FROM tables WHERE id = ?1")                                               \
  X(TABLE_RENAME, "UPDATE tables SET database_id = ?2, name = ?3, ddl = coalesce(?4, ddl), "        \
                  "modified_ns = ?5 WHERE id = ?1")                                                  \
  X(TABLE_ALTER, "UPDATE tables SET ddl = ?2, schema = ?3, modified_ns = ?4 WHERE id = ?1")         \
  X(TABLE_BY_ID, "SELECT " TABLE_COLS "WHERE t.id = ?1")                                            \
  X(TABLE_BY_NAME, "SELECT " TABLE_COLS "WHERE d.name = ?1 AND t.name = ?2")                        \
  X(TABLE_LIST_DB, "SELECT " TABLE_COLS "WHERE d.name = ?1 ORDER BY t.name")                        \
  X(TABLE_LIST_ALL, "SELECT " TABLE_COLS "ORDER BY d.name, t.name")                                 \
  X(TABLE_LABEL, "SELECT d.name, t.name FROM tables t JOIN databases d ON d.id = t.database_id "    \
                 "WHERE t.id = ?1")                                                                  \
  X(TABLE_COUNTERS, "SELECT next_block, wal_position FROM tables WHERE id = ?1")                    \
  X(TABLE_SET_NEXT_BLOCK, "UPDATE tables SET next_block = ?2 WHERE id = ?1")                        \
  X(TABLE_SET_WAL, "UPDATE tables SET wal_position = ?2 WHERE id = ?1")                             \
  X(TSET_INSERT, "INSERT INTO table_settings (table_id, position, name, value) VALUES (?1, ?2, ?3, ?4)") \
  X(TSET_DELETE, "DELETE FROM table_settings WHERE table_id = ?1")                                  \
  X(TSET_LIST, "SELECT name, value FROM table_settings WHERE table_id = ?1 ORDER BY position")      \
  X(PART_INSERT, "INSERT INTO parts (table_id, name, partition_id, partition_value, minmax, "       \
                 "min_block, max_block, level, rows, bytes_on_disk, data_compressed_bytes, "         \
                 "data_uncompressed_bytes, min_time, max_time, disk, state, created_ns, modified_ns) " \
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 1, ?16, ?16)") \
  X(PART_STATE, "SELECT state FROM parts WHERE table_id = ?1 AND name = ?2")                        \
  X(PART_OUTDATE, "UPDATE parts SET state = 2, modified_ns = ?3, removed_ns = ?3 "                  \
                  "WHERE table_id = ?1 AND name = ?2")                                               \
  X(PART_SET_DISK, "UPDATE parts SET disk = ?3, modified_ns = ?4 WHERE table_id = ?1 AND name = ?2") \
  X(PART_DELETE, "DELETE FROM parts WHERE table_id = ?1 AND name = ?2")                             \
  X(PART_PRECEDING, "SELECT name, max_block FROM parts WHERE table_id = ?1 AND partition_id = ?2 "   \
                    "AND state = 1 AND min_block <= ?3 ORDER BY min_block DESC LIMIT 1")              \
  X(PARTS_ACTIVE, "SELECT " PART_COLS "WHERE table_id = ?1 AND state = 1 "                          \
                  "ORDER BY partition_id, min_block")                                                \
  X(PARTS_ACTIVE_PARTITION, "SELECT " PART_COLS "WHERE table_id = ?1 AND partition_id = ?2 "        \
                            "AND state = 1 ORDER BY min_block")                                      \
  X(PARTS_TABLE, "SELECT " PART_COLS "WHERE table_id = ?1 ORDER BY partition_id, min_block, level") \
  X(PARTS_ALL, "SELECT " PART_COLS "ORDER BY table_id, partition_id, min_block, level")             \
  X(SETTING_GET, "SELECT value FROM settings WHERE name = ?1")                                      \
  X(SETTING_SET, "INSERT INTO settings (name, value) VALUES (?1, ?2) "                              \
                 "ON CONFLICT (name) DO UPDATE SET value = excluded.value")                         \
  X(SETTING_DELETE, "DELETE FROM settings WHERE name = ?1")                                         \
  X(SETTING_LIST, "SELECT name, value FROM settings ORDER BY name")

enum stmt_id {
#define X(id, sql) STMT_##id,
  CATALOG_STATEMENTS(X)
#undef X
  STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
#define X(id, sql) [STMT_##id] = sql,
  CATALOG_STATEMENTS(X)
#undef X
};

struct catalog {
  pthread_mutex_t lock;                  /* serializes every call: one connection */
  sqlite3 *db;
  char *path;
  sqlite3_stmt *stmts[STMT_COUNT];       /* prepared on first use; guarded by lock */
  void (*commit_hook)(void *arg);        /* tests only, see catalog_int.h */
  void *commit_hook_arg;
};

/* ---- small helpers -------------------------------------------------------- */

/* A name as ClickHouse prints it (backQuoteIfNeed): bare when it is a valid
 * identifier other than NULL, else in backquotes with escapes. */
struct quoted {
  char s[CATALOG_NAME_QUOTED_MAX];
};

static bool ident_valid(const char *s)
{
  if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
    return false;
  for (const char *p = s + 1; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '_'))
      return false;
  return strcasecmp(s, "null") != 0;
}

static struct quoted qn(const char *name)
{
  struct quoted q;
  if (!name)
    name = "";
  if (ident_valid(name)) {
    snprintf(q.s, sizeof q.s, "%s", name);
    return q;
  }
  size_t n = 0, cap = sizeof q.s - 2;   /* room for the closing quote and NUL */
  q.s[n++] = '`';
  for (const char *p = name; *p && n + 2 < cap; p++) {
    char e = 0;
    switch (*p) {
    case '`': e = '`'; break;
    case '\\': e = '\\'; break;
    case '\n': e = 'n'; break;
    case '\t': e = 't'; break;
    case '\r': e = 'r'; break;
    default: break;
    }
    if (e) {
      q.s[n++] = '\\';
      q.s[n++] = e;
    } else {
      q.s[n++] = *p;
    }
  }
  q.s[n++] = '`';
  q.s[n] = '\0';
  return q;
}

static void uuid_format(const uint8_t b[16], char out[CATALOG_UUID_LEN + 1])
{
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[n++] = '-';
    out[n++] = hex[b[i] >> 4];
    out[n++] = hex[b[i] & 15];
  }
  out[n] = '\0';
}

/* Random version-4 UUID. getrandom only fails where the kernel lacks it;
 * then time and address bits keep ids distinct within the process, and the
 * UNIQUE constraint guards the rest. */
static void uuid_generate(char out[CATALOG_UUID_LEN + 1])
{
  uint8_t b[16];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = getrandom(b + got, sizeof b - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  if (got < sizeof b) {
    static _Atomic uint64_t counter;
    uint64_t x = (uint64_t)clock_realtime_ns() ^ ((uint64_t)getpid() << 32);
    uint64_t y = (uint64_t)(uintptr_t)&got ^ ++counter * 0x9e3779b97f4a7c15ull;
    memcpy(b, &x, 8);
    memcpy(b + 8, &y, 8);
  }
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
  uuid_format(b, out);
}

/* Accepts 8-4-4-4-12 hex digits in either case; writes the lowercase form. */
static bool uuid_parse(const char *s, char out[CATALOG_UUID_LEN + 1])
{
  if (strlen(s) != CATALOG_UUID_LEN)
    return false;
  for (int i = 0; i < CATALOG_UUID_LEN; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
      return false;
    out[i] = (char)tolower((unsigned char)s[i]);
  }
  out[CATALOG_UUID_LEN] = '\0';
  return true;
}

static bool name_given(const char *s)
{
  return s && s[0];
}

static int check_name(const char *what, const char *name, struct error *err)
{
  if (!name_given(name))
    return error_set(err, ERR_BAD_ARGUMENTS, "%s name is empty", what);
  return 0;
}

/* Grows an arena array by doubling when full. */
static void *array_grow(struct arena *a, void *items, size_t *cap, size_t count, size_t elem)
{
  if (count < *cap)
    return items;
  size_t new_cap = *cap ? *cap * 2 : 8;
  items = arena_realloc(a, items, *cap * elem, new_cap * elem);
  *cap = new_cap;
  return items;
}

static const char *col_text(sqlite3_stmt *s, int i, struct arena *a)
{
  const unsigned char *t = sqlite3_column_text(s, i);
  if (!t)
    return NULL;
  return arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

static const void *col_blob(sqlite3_stmt *s, int i, struct arena *a, size_t *bytes)
{
  const void *p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  *bytes = 0;
  if (!p || n <= 0)
    return NULL;
  void *copy = arena_alloc(a, (size_t)n);
  memcpy(copy, p, (size_t)n);
  *bytes = (size_t)n;
  return copy;
}

static void col_uuid(sqlite3_stmt *s, int i, char out[CATALOG_UUID_LEN + 1])
{
  const unsigned char *t = sqlite3_column_text(s, i);
  snprintf(out, CATALOG_UUID_LEN + 1, "%s", t ? (const char *)t : "");
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
  return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

static int bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
  if (!p || n == 0)
    return sqlite3_bind_null(s, i);
  return sqlite3_bind_blob64(s, i, p, (sqlite3_uint64)n, SQLITE_STATIC);
}

static int bind_i64(sqlite3_stmt *s, int i, int64_t v)
{
  return sqlite3_bind_int64(s, i, (sqlite3_int64)v);
}

/* u64 values travel through sqlite's signed INTEGER as their bit pattern. */
static int bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
  return sqlite3_bind_int64(s, i, (sqlite3_int64)v);
}

static uint64_t col_u64(sqlite3_stmt *s, int i)
{
  return (uint64_t)sqlite3_column_int64(s, i);
}

/* ---- errors and statements ------------------------------------------------ */

static int sql_fail(struct catalog *c, int rc, struct error *err, const char *what)
{
  int code;
  switch (rc & 0xff) {
  case SQLITE_CANTOPEN: code = ERR_CANNOT_OPEN_FILE; break;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB: code = ERR_CORRUPTED_DATA; break;
  case SQLITE_FULL: code = ERR_NOT_ENOUGH_SPACE; break;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: code = ERR_TIMEOUT_EXCEEDED; break;
  case SQLITE_ERROR:
  case SQLITE_MISUSE:
  case SQLITE_CONSTRAINT:
  case SQLITE_RANGE:
  case SQLITE_MISMATCH: code = ERR_LOGICAL_ERROR; break;
  default: code = ERR_SYSTEM_ERROR; break;
  }
  const char *msg = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
  return error_set(err, code, "Catalog %s: %s: %s (sqlite code %d)", c->path, what, msg, rc);
}

/* Hands out the cached statement for id, reset and with no bindings. */
static int stmt_get(struct catalog *c, enum stmt_id id, sqlite3_stmt **out, struct error *err)
{
  sqlite3_stmt *s = c->stmts[id];
  if (!s) {
    int rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
    if (rc != SQLITE_OK)
      return sql_fail(c, rc, err, "preparing a statement");
    c->stmts[id] = s;
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  *out = s;
  return 0;
}

static void stmts_reset_all(struct catalog *c)
{
  for (int i = 0; i < STMT_COUNT; i++)
    if (c->stmts[i])
      sqlite3_reset(c->stmts[i]);
}

/* Steps a statement that returns no rows. brc is the OR of its bind codes. */
static int step_done(struct catalog *c, sqlite3_stmt *s, int brc, struct error *err, const char *what)
{
  if (brc != SQLITE_OK)
    return sql_fail(c, brc, err, what);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return sql_fail(c, rc, err, what);
  return 0;
}

/* Steps a statement expected to return at most one row: 1 = row (the
 * statement stays on it for the caller to read), 0 = none, <0 = error set. */
static int step_row(struct catalog *c, sqlite3_stmt *s, int brc, struct error *err, const char *what)
{
  if (brc != SQLITE_OK) {
    sql_fail(c, brc, err, what);
    return -1;
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    return 1;
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return 0;
  sql_fail(c, rc, err, what);
  return -1;
}

static int run_stmt(struct catalog *c, enum stmt_id id, struct error *err, const char *what)
{
  sqlite3_stmt *s;
  int rc = stmt_get(c, id, &s, err);
  return rc ? rc : step_done(c, s, SQLITE_OK, err, what);
}

/* ---- transactions ----------------------------------------------------------
 * Every public call runs its body through run_tx: lock, BEGIN (IMMEDIATE for
 * writes, so the write lock is taken up front and never upgraded), body,
 * COMMIT; any error rolls back the whole body. */
typedef int (*tx_body)(struct catalog *c, void *arg, struct error *err);

static int run_tx(struct catalog *c, bool write, tx_body body, void *arg, struct error *err)
{
  pthread_mutex_lock(&c->lock);
  int rc = run_stmt(c, write ? STMT_BEGIN_WRITE : STMT_BEGIN_READ, err, "beginning a transaction");
  if (rc)
    goto out_unlock;
  rc = body(c, arg, err);
  if (rc)
    goto out_rollback;
  stmts_reset_all(c);
  if (write && c->commit_hook)
    c->commit_hook(c->commit_hook_arg);
  rc = run_stmt(c, STMT_COMMIT, err, "committing");
  if (rc)
    goto out_rollback;
  goto out_unlock;
out_rollback:
  stmts_reset_all(c);
  if (!sqlite3_get_autocommit(c->db))
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
out_unlock:
  pthread_mutex_unlock(&c->lock);
  return rc;
}

/* ---- lookups used inside transactions -------------------------------------- */

/* *id = 0 when there is no such database. */
static int db_find(struct catalog *c, const char *name, int64_t *id, struct error *err)
{
  sqlite3_stmt *s;
  int rc = stmt_get(c, STMT_DB_FIND, &s, err);
  if (rc)
    return rc;
  int r = step_row(c, s, bind_text(s, 1, name), err, "looking up a database");
  if (r < 0)
    return err->code;
  *id = r ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  return 0;
}

static int db_require(struct catalog *c, const char *name, int64_t *id, struct error *err)
{
  int rc = db_find(c, name, id, err);
  if (rc)
    return rc;
  if (!*id)
    return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", qn(name).s);
  return 0;
}

/* *id = 0 when there is no such table; uuid may be NULL. */
static int table_find(struct catalog *c, int64_t db_id, const char *name, int64_t *id,
                      char uuid[CATALOG_UUID_LEN + 1], struct error *err)
{
  sqlite3_stmt *s;
  int rc = stmt_get(c, STMT_TABLE_FIND, &s, err);
  if (rc)
    return rc;
  int brc = bind_i64(s, 1, db_id) | bind_text(s, 2, name);
  int r = step_row(c, s, brc, err, "looking up a table");
  if (r < 0)
    return err->code;
  *id = r ? sqlite3_column_int64(s, 0) : 0;
  if (r && uuid)
    col_uuid(s, 1, uuid);
  sqlite3_reset(s);
  return 0;
}

static int unknown_table_id(int64_t table_id, struct error *err)
{
  return error_set(err, ERR_UNKNOWN_TABLE, "Table with id %" PRId64 " does not exist.", table_id);
}

/* Reads the table's counters; UNKNOWN_TABLE when it was dropped. */
static int table_counters(struct catalog *c, int64_t table_id, uint64_t *next_block, uint64_t *wal,
                          struct error *err)
{
  sqlite3_stmt *s;
  int rc = stmt_get(c, STMT_TABLE_COUNTERS, &s, err);
  if (rc)
    return rc;
  int r = step_row(c, s, bind_i64(s, 1, table_id), err, "reading table counters");
  if (r < 0)
    return err->code;
  if (r == 0)
    return unknown_table_id(table_id, err);
  if (next_block)
    *next_block = col_u64(s, 0);
  if (wal)
    *wal = col_u64(s, 1);
  sqlite3_reset(s);
  return 0;
}

/* "db.table" for messages, quoted as ClickHouse does. */
struct table_label {
  char s[2 * CATALOG_NAME_QUOTED_MAX + 2];
};

static struct table_label table_label(struct catalog *c, int64_t table_id)
{
  struct table_label l;
  sqlite3_stmt *s;
  snprintf(l.s, sizeof l.s, "with id %" PRId64, table_id);
  if (stmt_get(c, STMT_TABLE_LABEL, &s, NULL) != 0)
    return l;
  if (step_row(c, s, bind_i64(s, 1, table_id), NULL, "naming a table") == 1) {
    snprintf(l.s, sizeof l.s, "%s.%s", qn((const char *)sqlite3_column_text(s, 0)).s,
             qn((const char *)sqlite3_column_text(s, 1)).s);
    sqlite3_reset(s);
  }
  return l;
}

/* 0 = no such part, else its state. */
static int part_state(struct catalog *c, int64_t table_id, const char *name, int *state, struct error *err)
{
  sqlite3_stmt *s;
  int rc = stmt_get(c, STMT_PART_STATE, &s, err);
  if (rc)
    return rc;
  int brc = bind_i64(s, 1, table_id) | bind_text(s, 2, name);
  int r = step_row(c, s, brc, err, "looking up a part");
  if (r < 0)
    return err->code;
  *state = r ? sqlite3_column_int(s, 0) : 0;
  sqlite3_reset(s);
  return 0;
}

static int settings_insert(struct catalog *c, int64_t table_id, const struct catalog_setting *settings,
                           size_t count, struct error *err)
{
  for (size_t i = 0; i < count; i++) {
    if (!name_given(settings[i].name) || !settings[i].value)
      return error_set(err, ERR_BAD_ARGUMENTS, "Table setting %zu has no name or no value", i);
    sqlite3_stmt *s;
    int rc = stmt_get(c, STMT_TSET_INSERT, &s, err);
    if (rc)
      return rc;
    int brc = bind_i64(s, 1, table_id) | bind_i64(s, 2, (int64_t)i) | bind_text(s, 3, settings[i].name) |
              bind_text(s, 4, settings[i].value);
    rc = step_done(c, s, brc, err, "storing table settings");
    if (rc)
      return rc;
  }
  return 0;
}

static int settings_load(struct catalog *c, struct arena *a, struct catalog_table *t, struct error *err)
{
  sqlite3_stmt *s;
  int rc = stmt_get(c, STMT_TSET_LIST, &s, err);
  if (rc)
    return rc;
  rc = bind_i64(s, 1, t->id);
  if (rc != SQLITE_OK)
    return sql_fail(c, rc, err, "reading table settings");
  size_t cap = 0;
  t->settings = NULL;
  t->settings_count = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    t->settings = array_grow(a, t->settings, &cap, t->settings_count, sizeof *t->settings);
    struct catalog_setting *kv = &t->settings[t->settings_count++];
    kv->name = col_text(s, 0, a);
    kv->value = col_text(s, 1, a);
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sql_fail(c, rc, err, "reading table settings");
}

/* Reads a row of TABLE_COLS (without settings). */
static void table_row(sqlite3_stmt *s, struct arena *a, struct catalog_table *t)
{
  memset(t, 0, sizeof *t);
  t->id = sqlite3_column_int64(s, 0);
  col_uuid(s, 1, t->uuid);
  t->database = col_text(s, 2, a);
  t->name = col_text(s, 3, a);
  t->engine = col_text(s, 4, a);
  t->ddl = col_text(s, 5, a);
  t->schema = col_blob(s, 6, a, &t->schema_bytes);
  t->next_block = col_u64(s, 7);
  t->wal_position = col_u64(s, 8);
  t->created_ns = sqlite3_column_int64(s, 9);
  t->modified_ns = sqlite3_column_int64(s, 10);
}

/* Reads a row of PART_COLS. */
static void part_row(sqlite3_stmt *s, struct arena *a, struct catalog_part *p)
{
  memset(p, 0, sizeof *p);
  p->table_id = sqlite3_column_int64(s, 0);
  p->name = col_text(s, 1, a);
  p->partition_id = col_text(s, 2, a);
  p->partition_value = col_blob(s, 3, a, &p->partition_value_bytes);
  p->minmax = col_blob(s, 4, a, &p->minmax_bytes);
  p->min_block = col_u64(s, 5);
  p->max_block = col_u64(s, 6);
  p->level = (uint32_t)sqlite3_column_int64(s, 7);
  p->rows = col_u64(s, 8);
  p->bytes_on_disk = col_u64(s, 9);
  p->data_compressed_bytes = col_u64(s, 10);
  p->data_uncompressed_bytes = col_u64(s, 11);
  p->has_time = sqlite3_column_type(s, 12) != SQLITE_NULL;
  p->min_time = sqlite3_column_int64(s, 12);
  p->max_time = sqlite3_column_int64(s, 13);
  p->disk = col_text(s, 14, a);
  p->state = (enum catalog_part_state)sqlite3_column_int(s, 15);
  p->created_ns = sqlite3_column_int64(s, 16);
  p->modified_ns = sqlite3_column_int64(s, 17);
  p->removed_ns = sqlite3_column_int64(s, 18);
}

/* Runs a PART_COLS query to the end, appending rows to *out. */
static int parts_collect(struct catalog *c, sqlite3_stmt *s, struct arena *a, struct catalog_part **out,
                         size_t *count, struct error *err)
{
  size_t cap = 0;
  int rc;
  *out = NULL;
  *count = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = array_grow(a, *out, &cap, *count, sizeof **out);
    part_row(s, a, &(*out)[(*count)++]);
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sql_fail(c, rc, err, "listing parts");
}

/* ---- open / close ---------------------------------------------------------- */

static int exec_sql(struct catalog *c, const char *sql, struct error *err, const char *what)
{
  int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? 0 : sql_fail(c, rc, err, what);
}

static int pragma_text(struct catalog *c, const char *sql, char *out, size_t cap, struct error *err)
{
  sqlite3_stmt *s;
  int rc = sqlite3_prepare_v2(c->db, sql, -1, &s, NULL);
  if (rc != SQLITE_OK)
    return sql_fail(c, rc, err, sql);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(s, 0);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    out[0] = '\0';
    rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK) {
    int ret = sql_fail(c, rc, err, sql);
    sqlite3_finalize(s);
    return ret;
  }
  sqlite3_finalize(s);
  return 0;
}

/* Brings the schema to CATALOG_SCHEMA_VERSION in one transaction; refuses a
 * catalog written by a newer build. */
static int catalog_migrate(struct catalog *c, struct error *err)
{
  int rc = exec_sql(c, "BEGIN IMMEDIATE", err, "beginning the schema migration");
  if (rc)
    return rc;
  rc = exec_sql(c,
                "CREATE TABLE IF NOT EXISTS schema_version (\n"
                "  id      INTEGER PRIMARY KEY CHECK (id = 1),\n"
                "  version INTEGER NOT NULL\n"
                ");\n"
                "INSERT OR IGNORE INTO schema_version (id, version) VALUES (1, 0);",
                err, "creating the schema version table");
  if (rc)
    goto out_rollback;
  char text[32];
  rc = pragma_text(c, "SELECT version FROM schema_version WHERE id = 1", text, sizeof text, err);
  if (rc)
    goto out_rollback;
  int version = atoi(text);
  if (version > CATALOG_SCHEMA_VERSION) {
    rc = error_set(err, ERR_UNKNOWN_FORMAT_VERSION,
                   "Catalog %s has schema version %d, newer than the %d this build knows; "
                   "refusing to open it", c->path, version, CATALOG_SCHEMA_VERSION);
    goto out_rollback;
  }
  for (int v = version; v < CATALOG_SCHEMA_VERSION; v++) {
    rc = exec_sql(c, catalog_migrations[v], err, "migrating the schema");
    if (rc) {
      error_prefix(err, "to version %d: ", v + 1);
      goto out_rollback;
    }
  }
  if (version < CATALOG_SCHEMA_VERSION) {
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d WHERE id = 1", CATALOG_SCHEMA_VERSION);
    rc = exec_sql(c, sql, err, "recording the schema version");
    if (rc)
      goto out_rollback;
  }
  rc = exec_sql(c, "COMMIT", err, "committing the schema migration");
  if (rc)
    goto out_rollback;
  if (version == 0)
    log_info("catalog %s: created (schema version %d)", c->path, CATALOG_SCHEMA_VERSION);
  else if (version < CATALOG_SCHEMA_VERSION)
    log_info("catalog %s: schema migrated from version %d to %d", c->path, version, CATALOG_SCHEMA_VERSION);
  return 0;
out_rollback:
  if (!sqlite3_get_autocommit(c->db))
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

/* sqlite syncs the directory when it creates the WAL, not when it creates
 * the database file; a fresh catalog's name must survive a crash too. */
static int sync_parent_dir(const char *path, struct error *err)
{
  const char *slash = strrchr(path, '/');
  char *dir = slash ? mem_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : mem_strdup(".");
  int rc = 0;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    int saved = errno;
    rc = error_set(err, ERR_SYSTEM_ERROR, "Cannot sync directory %s of catalog %s: %s", dir, path,
                   strerror(saved));
  }
  if (fd >= 0)
    close(fd);
  mem_free(dir);
  return rc;
}

int catalog_open(struct catalog **out, const char *path, struct error *err)
{
  *out = NULL;
  if (!name_given(path))
    return error_set(err, ERR_BAD_ARGUMENTS, "Catalog path is empty");
  struct catalog *c = mem_calloc(1, sizeof *c);
  pthread_mutex_init(&c->lock, NULL);
  c->path = mem_strdup(path);

  int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    rc = sql_fail(c, rc, err, "cannot open");
    goto out_close;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, CATALOG_BUSY_TIMEOUT_MS);

  char mode[16];
  rc = pragma_text(c, "PRAGMA journal_mode = WAL", mode, sizeof mode, err);
  if (rc)
    goto out_close;
  if (strcasecmp(mode, "wal") != 0) {
    rc = error_set(err, ERR_SYSTEM_ERROR, "Catalog %s: cannot use the WAL journal (sqlite chose \"%s\")",
                   path, mode);
    goto out_close;
  }
  rc = exec_sql(c, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", err, "setting pragmas");
  if (rc)
    goto out_close;
  char fk[8];
  rc = pragma_text(c, "PRAGMA foreign_keys", fk, sizeof fk, err);
  if (rc)
    goto out_close;
  if (strcmp(fk, "1") != 0) {
    rc = error_set(err, ERR_SYSTEM_ERROR, "Catalog %s: this sqlite3 cannot enforce foreign keys", path);
    goto out_close;
  }
  rc = catalog_migrate(c, err);
  if (rc)
    goto out_close;
  rc = sync_parent_dir(path, err);
  if (rc)
    goto out_close;
  *out = c;
  return 0;
out_close:
  catalog_close(c);
  return rc;
}

void catalog_close(struct catalog *c)
{
  if (!c)
    return;
  for (int i = 0; i < STMT_COUNT; i++)
    sqlite3_finalize(c->stmts[i]);
  if (c->db) {
    int rc = sqlite3_close(c->db);
    if (rc != SQLITE_OK)
      log_error("catalog %s: close failed: %s", c->path, sqlite3_errstr(rc));
  }
  pthread_mutex_destroy(&c->lock);
  mem_free(c->path);
  mem_free(c);
}

const char *catalog_path(const struct catalog *c)
{
  return c->path;
}

void catalog_set_commit_hook(struct catalog *c, void (*fn)(void *arg), void *arg)
{
  pthread_mutex_lock(&c->lock);
  c->commit_hook = fn;
  c->commit_hook_arg = arg;
  pthread_mutex_unlock(&c->lock);
}

int catalog_schema_version(void)
{
  return CATALOG_SCHEMA_VERSION;
}

/* ---- databases -------------------------------------------------------------- */

struct database_create_args {
  const char *name, *engine;
  bool if_not_exists;
};

static int database_create_tx(struct catalog *c, void *arg, struct error *err)
{
  struct database_create_args *a = arg;
  int64_t id;
  int rc = db_find(c, a->name, &id, err);
  if (rc)
    return rc;
  if (id) {
    if (a->if_not_exists)
      return 0;
    return error_set(err, ERR_DATABASE_ALREADY_EXISTS, "Database %s already exists.", qn(a->name).s);
  }
  char uuid[CATALOG_UUID_LEN + 1];
  uuid_generate(uuid);
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_DB_INSERT, &s, err);
  if (rc)
    return rc;
  int brc = bind_text(s, 1, a->name) | bind_text(s, 2, a->engine) | bind_text(s, 3, uuid) |
            bind_i64(s, 4, clock_realtime_ns());
  return step_done(c, s, brc, err, "creating a database");
}

/* Creates a database; with if_not_exists an existing one is not an error.
 * engine NULL means "Atomic". */
int catalog_database_create(struct catalog *c, const char *name, const char *engine, bool if_not_exists,
                            struct error *err)
{
  int rc = check_name("Database", name, err);
  if (rc)
    return rc;
  struct database_create_args a = { name, name_given(engine) ? engine : "Atomic", if_not_exists };
  return run_tx(c, true, database_create_tx, &a, err);
}

struct database_drop_args {
  const char *name;
  bool if_exists, cascade;
  struct arena *arena;
  struct catalog_table_ref *dropped;
  size_t dropped_count;
};

static int database_drop_tx(struct catalog *c, void *arg, struct error *err)
{
  struct database_drop_args *a = arg;
  int64_t db_id;
  int rc = db_find(c, a->name, &db_id, err);
  if (rc)
    return rc;
  if (!db_id) {
    if (a->if_exists)
      return 0;
    return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", qn(a->name).s);
  }
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_DB_TABLES, &s, err);
  if (rc)
    return rc;
  rc = bind_i64(s, 1, db_id);
  if (rc != SQLITE_OK)
    return sql_fail(c, rc, err, "listing tables");
  size_t cap = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (!a->cascade) {
      sqlite3_reset(s);
      return error_set(err, ERR_DATABASE_NOT_EMPTY, "Database %s is not empty", qn(a->name).s);
    }
    a->dropped = array_grow(a->arena, a->dropped, &cap, a->dropped_count, sizeof *a->dropped);
    struct catalog_table_ref *ref = &a->dropped[a->dropped_count++];
    ref->id = sqlite3_column_int64(s, 0);
    col_uuid(s, 1, ref->uuid);
    ref->database = arena_strdup(a->arena, a->name);
    ref->name = col_text(s, 2, a->arena);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return sql_fail(c, rc, err, "listing tables");

  rc = stmt_get(c, STMT_DB_DELETE_TABLES, &s, err);
  if (rc)
    return rc;
  rc = step_done(c, s, bind_i64(s, 1, db_id), err, "dropping the tables of a database");
  if (rc)
    return rc;
  rc = stmt_get(c, STMT_DB_DELETE, &s, err);
  if (rc)
    return rc;
  return step_done(c, s, bind_i64(s, 1, db_id), err, "dropping a database");
}

/* Drops a database. Without cascade it must be empty (DATABASE_NOT_EMPTY);
 * with cascade its tables, their settings and parts go in the same
 * transaction and *dropped lists them (arena) so the engine can delete their
 * files. if_exists makes a missing database a no-op. */
int catalog_database_drop(struct catalog *c, const char *name, bool if_exists, bool cascade, struct arena *a,
                          struct catalog_table_ref **dropped, size_t *dropped_count, struct error *err)
{
  if (dropped)
    *dropped = NULL;
  if (dropped_count)
    *dropped_count = 0;
  int rc = check_name("Database", name, err);
  if (rc)
    return rc;
  if (cascade && !a)
    return error_set(err, ERR_BAD_ARGUMENTS, "Dropping database %s with its tables needs an arena for the list",
                     qn(name).s);
  struct database_drop_args args = { .name = name, .if_exists = if_exists, .cascade = cascade, .arena = a };
  rc = run_tx(c, true, database_drop_tx, &args, err);
  if (rc == 0) {
    if (dropped)
      *dropped = args.dropped;
    if (dropped_count)
      *dropped_count = args.dropped_count;
  }
  return rc;
}

struct database_rename_args {
  const char *from, *to;
};

static int database_rename_tx(struct catalog *c, void *arg, struct error *err)
{
  struct database_rename_args *a = arg;
  int64_t from_id, to_id;
  int rc = db_require(c, a->from, &from_id, err);
  if (rc)
    return rc;
  rc = db_find(c, a->to, &to_id, err);
  if (rc)
    return rc;
  if (to_id)
    return error_set(err, ERR_DATABASE_ALREADY_EXISTS, "Database %s already exists.", qn(a->to).s);
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_DB_RENAME, &s, err);
  if (rc)
    return rc;
  return step_done(c, s, bind_i64(s, 1, from_id) | bind_text(s, 2, a->to), err, "renaming a database");
}

/* Renames a database; its tables keep their ids and uuids. */
int catalog_database_rename(struct catalog *c, const char *from, const char *to, struct error *err)
{
  int rc = check_name("Database", from, err);
  if (rc == 0)
    rc = check_name("Database", to, err);
  if (rc)
    return rc;
  struct database_rename_args a = { from, to };
  return run_tx(c, true, database_rename_tx, &a, err);
}

struct database_list_args {
  struct arena *arena;
  struct catalog_database *items;
  size_t count;
};

static int database_list_tx(struct catalog *c, void *arg, struct error *err)
{
  struct database_list_args *a = arg;
  sqlite3_stmt *s;
  int rc = stmt_get(c, STMT_DB_LIST, &s, err);
  if (rc)
    return rc;
  size_t cap = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    a->items = array_grow(a->arena, a->items, &cap, a->count, sizeof *a->items);
    struct catalog_database *d = &a->items[a->count++];
    d->id = sqlite3_column_int64(s, 0);
    d->name = col_text(s, 1, a->arena);
    d->engine = col_text(s, 2, a->arena);
    col_uuid(s, 3, d->uuid);
    d->created_ns = sqlite3_column_int64(s, 4);
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sql_fail(c, rc, err, "listing databases");
}

int catalog_database_list(struct catalog *c, struct arena *a, struct catalog_database **out, size_t *count,
                          struct error *err)
{
  struct database_list_args args = { .arena = a };
  int rc = run_tx(c, false, database_list_tx, &args, err);
  *out = rc ? NULL : args.items;
  *count = rc ? 0 : args.count;
  return rc;
}

struct exists_args {
  const char *database, *table;   /* table NULL: the database alone */
  bool found;
};

static int exists_tx(struct catalog *c, void *arg, struct error *err)
{
  struct exists_args *a = arg;
  int64_t db_id, table_id = 0;
  int rc = db_find(c, a->database, &db_id, err);
  if (rc || !db_id)
    return rc;
  if (!a->table) {
    a->found = true;
    return 0;
  }
  rc = table_find(c, db_id, a->table, &table_id, NULL, err);
  a->found = rc == 0 && table_id != 0;
  return rc;
}

/* Predicates: a storage failure is logged and reads as "no". */
static bool exists(struct catalog *c, const char *database, const char *table)
{
  if (!name_given(database) || (table && !table[0]))
    return false;
  struct exists_args a = { database, table, false };
  struct error err;
  if (run_tx(c, false, exists_tx, &a, &err) != 0) {
    log_error("%s", err.message);
    return false;
  }
  return a.found;
}

bool catalog_database_exists(struct catalog *c, const char *name)
{
  return exists(c, name, NULL);
}

/* ---- tables ------------------------------------------------------------------- */

struct table_create_args {
  const char *database, *name;
  const struct catalog_table_def *def;
  int64_t id;
  char uuid[CATALOG_UUID_LEN + 1];
};

static int table_create_tx(struct catalog *c, void *arg, struct error *err)
{
  struct table_create_args *a = arg;
  const struct catalog_table_def *def = a->def;
  int64_t db_id, table_id;
  int rc = db_require(c, a->database, &db_id, err);
  if (rc)
    return rc;
  rc = table_find(c, db_id, a->name, &table_id, NULL, err);
  if (rc)
    return rc;
  if (table_id)
    return error_set(err, ERR_TABLE_ALREADY_EXISTS, "Table %s.%s already exists.", qn(a->database).s,
                     qn(a->name).s);
  if (def->uuid) {
    if (!uuid_parse(def->uuid, a->uuid))
      return error_set(err, ERR_CANNOT_PARSE_UUID, "Cannot parse uuid %s", def->uuid);
  } else {
    uuid_generate(a->uuid);
  }
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_TABLE_UUID_FIND, &s, err);
  if (rc)
    return rc;
  int r = step_row(c, s, bind_text(s, 1, a->uuid), err, "looking up a table uuid");
  if (r < 0)
    return err->code;
  sqlite3_reset(s);
  if (r)
    return error_set(err, ERR_TABLE_ALREADY_EXISTS,
                     "Mapping for table with UUID=%s already exists. It happened due to UUID collision, "
                     "most likely because some not random UUIDs were manually specified in CREATE queries.",
                     a->uuid);
  rc = stmt_get(c, STMT_TABLE_INSERT, &s, err);
  if (rc)
    return rc;
  int brc = bind_i64(s, 1, db_id) | bind_text(s, 2, a->name) | bind_text(s, 3, a->uuid) |
            bind_text(s, 4, def->engine) | bind_text(s, 5, def->ddl) |
            bind_blob(s, 6, def->schema, def->schema_bytes) | bind_i64(s, 7, clock_realtime_ns());
  rc = step_done(c, s, brc, err, "creating a table");
  if (rc)
    return rc;
  a->id = sqlite3_last_insert_rowid(c->db);
  return settings_insert(c, a->id, def->settings, def->settings_count, err);
}

/* Creates a table (TABLE_ALREADY_EXISTS, UNKNOWN_DATABASE). CREATE ... IF
 * NOT EXISTS is the caller treating TABLE_ALREADY_EXISTS as success: the
 * check and the insert are one transaction. out (optional) gets the new id
 * and uuid; its database and name point at the caller's strings. */
int catalog_table_create(struct catalog *c, const char *database, const char *name,
                         const struct catalog_table_def *def, struct catalog_table_ref *out, struct error *err)
{
  int rc = check_name("Database", database, err);
  if (rc == 0)
    rc = check_name("Table", name, err);
  if (rc)
    return rc;
  if (!name_given(def->engine) || !def->ddl)
    return error_set(err, ERR_BAD_ARGUMENTS, "Table %s.%s needs an engine and DDL text", qn(database).s,
                     qn(name).s);
  struct table_create_args a = { .database = database, .name = name, .def = def };
  rc = run_tx(c, true, table_create_tx, &a, err);
  if (rc == 0 && out) {
    out->id = a.id;
    memcpy(out->uuid, a.uuid, sizeof out->uuid);
    out->database = database;
    out->name = name;
  }
  return rc;
}

struct table_drop_args {
  const char *database, *name;
  int64_t id;
  char uuid[CATALOG_UUID_LEN + 1];
};

static int table_drop_tx(struct catalog *c, void *arg, struct error *err)
{
  struct table_drop_args *a = arg;
  int64_t db_id;
  int rc = db_require(c, a->database, &db_id, err);
  if (rc)
    return rc;
  rc = table_find(c, db_id, a->name, &a->id, a->uuid, err);
  if (rc)
    return rc;
  if (!a->id)
    return error_set(err, ERR_UNKNOWN_TABLE, "Table %s.%s does not exist.", qn(a->database).s, qn(a->name).s);
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_TABLE_DELETE, &s, err);
  if (rc)
    return rc;
  return step_done(c, s, bind_i64(s, 1, a->id), err, "dropping a table");
}

/* Drops a table with its settings and parts (UNKNOWN_TABLE, UNKNOWN_DATABASE;
 * DROP ... IF EXISTS is the caller ignoring those). The engine deletes the
 * files afterwards; a crash in between leaves files start-up removes. */
int catalog_table_drop(struct catalog *c, const char *database, const char *name, struct catalog_table_ref *out,
                       struct error *err)
{
  int rc = check_name("Database", database, err);
  if (rc == 0)
    rc = check_name("Table", name, err);
  if (rc)
    return rc;
  struct table_drop_args a = { .database = database, .name = name };
  rc = run_tx(c, true, table_drop_tx, &a, err);
  if (rc == 0 && out) {
    out->id = a.id;
    memcpy(out->uuid, a.uuid, sizeof out->uuid);
    out->database = database;
    out->name = name;
  }
  return rc;
}

struct table_rename_args {
  const char *from_db, *from_name, *to_db, *to_name, *new_ddl;
};

static int table_rename_tx(struct catalog *c, void *arg, struct error *err)
{
  struct table_rename_args *a = arg;
  int64_t from_db_id, to_db_id, table_id, clash_id;
  int rc = db_require(c, a->from_db, &from_db_id, err);
  if (rc)
    return rc;
  rc = db_require(c, a->to_db, &to_db_id, err);
  if (rc)
    return rc;
  rc = table_find(c, from_db_id, a->from_name, &table_id, NULL, err);
  if (rc)
    return rc;
  if (!table_id)
    return error_set(err, ERR_UNKNOWN_TABLE, "Table %s.%s does not exist.", qn(a->from_db).s,
                     qn(a->from_name).s);
  rc = table_find(c, to_db_id, a->to_name, &clash_id, NULL, err);
  if (rc)
    return rc;
  if (clash_id)
    return error_set(err, ERR_TABLE_ALREADY_EXISTS, "Table %s.%s already exists.", qn(a->to_db).s,
                     qn(a->to_name).s);
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_TABLE_RENAME, &s, err);
  if (rc)
    return rc;
  int brc = bind_i64(s, 1, table_id) | bind_i64(s, 2, to_db_id) | bind_text(s, 3, a->to_name) |
            bind_text(s, 4, a->new_ddl) | bind_i64(s, 5, clock_realtime_ns());
  return step_done(c, s, brc, err, "renaming a table");
}

/* Renames a table, also across databases; id, uuid, parts and counters stay.
 * new_ddl replaces the statement text when it names the table (NULL keeps). */
int catalog_table_rename(struct catalog *c, const char *from_db, const char *from_name, const char *to_db,
                         const char *to_name, const char *new_ddl, struct error *err)
{
  int rc = check_name("Database", from_db, err);
  if (rc == 0)
    rc = check_name("Table", from_name, err);
  if (rc == 0)
    rc = check_name("Database", to_db, err);
  if (rc == 0)
    rc = check_name("Table", to_name, err);
  if (rc)
    return rc;
  struct table_rename_args a = { from_db, from_name, to_db, to_name, new_ddl };
  return run_tx(c, true, table_rename_tx, &a, err);
}

struct table_alter_args {
  int64_t id;
  const struct catalog_table_def *def;
};

static int table_alter_tx(struct catalog *c, void *arg, struct error *err)
{
  struct table_alter_args *a = arg;
  int rc = table_counters(c, a->id, NULL, NULL, err);
  if (rc)
    return rc;
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_TABLE_ALTER, &s, err);
  if (rc)
    return rc;
  int brc = bind_i64(s, 1, a->id) | bind_text(s, 2, a->def->ddl) |
            bind_blob(s, 3, a->def->schema, a->def->schema_bytes) | bind_i64(s, 4, clock_realtime_ns());
  rc = step_done(c, s, brc, err, "altering a table");
  if (rc)
    return rc;
  rc = stmt_get(c, STMT_TSET_DELETE, &s, err);
  if (rc)
    return rc;
  rc = step_done(c, s, bind_i64(s, 1, a->id), err, "replacing table settings");
  if (rc)
    return rc;
  return settings_insert(c, a->id, a->def->settings, a->def->settings_count, err);
}

/* Replaces DDL text, schema and settings together (def->engine and uuid are
 * ignored: ALTER changes neither). */
int catalog_table_alter(struct catalog *c, int64_t table_id, const struct catalog_table_def *def,
                        struct error *err)
{
  if (!def->ddl)
    return error_set(err, ERR_BAD_ARGUMENTS, "ALTER of table with id %" PRId64 " has no DDL text", table_id);
  struct table_alter_args a = { table_id, def };
  return run_tx(c, true, table_alter_tx, &a, err);
}

struct table_get_args {
  const char *database, *name;   /* by name, or ... */
  int64_t id;                    /* ... by id */
  struct arena *arena;
  struct catalog_table *out;
};

static int table_get_tx(struct catalog *c, void *arg, struct error *err)
{
  struct table_get_args *a = arg;
  sqlite3_stmt *s;
  int rc = stmt_get(c, a->name ? STMT_TABLE_BY_NAME : STMT_TABLE_BY_ID, &s, err);
  if (rc)
    return rc;
  int brc = a->name ? bind_text(s, 1, a->database) | bind_text(s, 2, a->name) : bind_i64(s, 1, a->id);
  int r = step_row(c, s, brc, err, "reading a table");
  if (r < 0)
    return err->code;
  if (r == 0) {
    if (!a->name)
      return unknown_table_id(a->id, err);
    int64_t db_id;
    rc = db_require(c, a->database, &db_id, err);
    if (rc)
      return rc;
    return error_set(err, ERR_UNKNOWN_TABLE, "Table %s.%s does not exist.", qn(a->database).s, qn(a->name).s);
  }
  table_row(s, a->arena, a->out);
  sqlite3_reset(s);
  return settings_load(c, a->arena, a->out, err);
}

int catalog_table_get(struct catalog *c, const char *database, const char *name, struct arena *a,
                      struct catalog_table *out, struct error *err)
{
  int rc = check_name("Database", database, err);
  if (rc == 0)
    rc = check_name("Table", name, err);
  if (rc)
    return rc;
  struct table_get_args args = { .database = database, .name = name, .arena = a, .out = out };
  return run_tx(c, false, table_get_tx, &args, err);
}

int catalog_table_get_by_id(struct catalog *c, int64_t table_id, struct arena *a, struct catalog_table *out,
                            struct error *err)
{
  struct table_get_args args = { .id = table_id, .arena = a, .out = out };
  return run_tx(c, false, table_get_tx, &args, err);
}

struct table_list_args {
  const char *database;
  struct arena *arena;
  struct catalog_table *items;
  size_t count;
};

static int table_list_tx(struct catalog *c, void *arg, struct error *err)
{
  struct table_list_args *a = arg;
  int rc;
  if (a->database) {
    int64_t db_id;
    rc = db_require(c, a->database, &db_id, err);
    if (rc)
      return rc;
  }
  sqlite3_stmt *s;
  rc = stmt_get(c, a->database ? STMT_TABLE_LIST_DB : STMT_TABLE_LIST_ALL, &s, err);
  if (rc)
    return rc;
  rc = a->database ? bind_text(s, 1, a->database) : SQLITE_OK;
  if (rc != SQLITE_OK)
    return sql_fail(c, rc, err, "listing tables");
  size_t cap = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    a->items = array_grow(a->arena, a->items, &cap, a->count, sizeof *a->items);
    table_row(s, a->arena, &a->items[a->count++]);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return sql_fail(c, rc, err, "listing tables");
  for (size_t i = 0; i < a->count; i++) {
    rc = settings_load(c, a->arena, &a->items[i], err);
    if (rc)
      return rc;
  }
  return 0;
}

/* Tables of one database by name (UNKNOWN_DATABASE), or of every database
 * by database then name when database is NULL (start-up). */
int catalog_table_list(struct catalog *c, const char *database, struct arena *a, struct catalog_table **out,
                       size_t *count, struct error *err)
{
  struct table_list_args args = { .database = database, .arena = a };
  int rc = run_tx(c, false, table_list_tx, &args, err);
  *out = rc ? NULL : args.items;
  *count = rc ? 0 : args.count;
  return rc;
}

bool catalog_table_exists(struct catalog *c, const char *database, const char *name)
{
  if (!name_given(name))
    return false;
  return exists(c, database, name);
}

/* ---- per-table counters ------------------------------------------------------ */

struct blocks_args {
  int64_t table_id;
  uint64_t count, first;
};

static int blocks_allocate_tx(struct catalog *c, void *arg, struct error *err)
{
  struct blocks_args *a = arg;
  uint64_t next;
  int rc = table_counters(c, a->table_id, &next, NULL, err);
  if (rc)
    return rc;
  if (a->count > (uint64_t)INT64_MAX - next)
    return error_set(err, ERR_ARGUMENT_OUT_OF_BOUND, "Block numbers of table %s are exhausted",
                     table_label(c, a->table_id).s);
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_TABLE_SET_NEXT_BLOCK, &s, err);
  if (rc)
    return rc;
  rc = step_done(c, s, bind_i64(s, 1, a->table_id) | bind_u64(s, 2, next + a->count), err,
                 "allocating block numbers");
  if (rc)
    return rc;
  a->first = next;
  return 0;
}

/* Hands out count consecutive block numbers, [*first, *first + count), one
 * per part an insert will write. Numbers only grow, start at 1 and are
 * never handed out twice, even across crashes; unused ones leave gaps. */
int catalog_blocks_allocate(struct catalog *c, int64_t table_id, uint64_t count, uint64_t *first,
                            struct error *err)
{
  if (count == 0)
    return error_set(err, ERR_BAD_ARGUMENTS, "Cannot allocate zero block numbers");
  struct blocks_args a = { table_id, count, 0 };
  int rc = run_tx(c, true, blocks_allocate_tx, &a, err);
  if (rc == 0)
    *first = a.first;
  return rc;
}

struct wal_args {
  int64_t table_id;
  uint64_t position;
};

static int wal_get_tx(struct catalog *c, void *arg, struct error *err)
{
  struct wal_args *a = arg;
  return table_counters(c, a->table_id, NULL, &a->position, err);
}

int catalog_wal_position_get(struct catalog *c, int64_t table_id, uint64_t *out, struct error *err)
{
  struct wal_args a = { table_id, 0 };
  int rc = run_tx(c, false, wal_get_tx, &a, err);
  *out = rc ? 0 : a.position;
  return rc;
}

/* Inside a write transaction: moves the table's WAL position forward; moving
 * back is a LOGICAL_ERROR (it would replay acknowledged data twice). */
static int wal_advance_locked(struct catalog *c, int64_t table_id, uint64_t position, struct error *err)
{
  uint64_t current;
  int rc = table_counters(c, table_id, NULL, &current, err);
  if (rc)
    return rc;
  if (position < current)
    return error_set(err, ERR_LOGICAL_ERROR, "WAL position of table %s cannot move back from %" PRIu64
                     " to %" PRIu64, table_label(c, table_id).s, current, position);
  if (position == current)
    return 0;
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_TABLE_SET_WAL, &s, err);
  if (rc)
    return rc;
  return step_done(c, s, bind_i64(s, 1, table_id) | bind_u64(s, 2, position), err,
                   "advancing the WAL position");
}

static int wal_advance_tx(struct catalog *c, void *arg, struct error *err)
{
  struct wal_args *a = arg;
  return wal_advance_locked(c, a->table_id, a->position, err);
}

int catalog_wal_position_advance(struct catalog *c, int64_t table_id, uint64_t position, struct error *err)
{
  struct wal_args a = { table_id, position };
  return run_tx(c, true, wal_advance_tx, &a, err);
}

/* ---- parts ---------------------------------------------------------------------- */

/* The part's fields agree with each other and with the table: a name of the
 * form partition_min_max_level[_version], blocks already allocated. */
static int part_validate(const struct catalog_part *p, const char *label, uint64_t next_block, struct error *err)
{
  if (!name_given(p->name) || !name_given(p->partition_id) || !name_given(p->disk))
    return error_set(err, ERR_LOGICAL_ERROR, "A part for table %s lacks a name, partition id or disk", label);
  if (p->min_block > p->max_block)
    return error_set(err, ERR_LOGICAL_ERROR, "Part %s of table %s has min block %" PRIu64 " > max block %" PRIu64,
                     p->name, label, p->min_block, p->max_block);
  if (p->max_block >= next_block)
    return error_set(err, ERR_LOGICAL_ERROR, "Part %s of table %s uses block %" PRIu64
                     " which was never allocated (next block is %" PRIu64 ")",
                     p->name, label, p->max_block, next_block);
  char expect[320];
  int n = snprintf(expect, sizeof expect, "%s_%" PRIu64 "_%" PRIu64 "_%" PRIu32, p->partition_id, p->min_block,
                   p->max_block, p->level);
  size_t len = strlen(p->name);
  bool ok = n > 0 && (size_t)n < sizeof expect && strncmp(p->name, expect, (size_t)n) == 0;
  if (ok && len > (size_t)n) {
    const char *v = p->name + n;
    ok = v[0] == '_' && v[1] != '\0' && strspn(v + 1, "0123456789") == strlen(v + 1);
  }
  if (!ok)
    return error_set(err, ERR_LOGICAL_ERROR, "Part name %s of table %s does not match its fields (%s)",
                     p->name, label, expect);
  return 0;
}

/* Inside a write transaction: adds one ACTIVE part. Its name must be new to
 * the table and its blocks must not overlap an active part's; an overlap is
 * reported with intersect_code (ABORTED for a merge, whose result is simply
 * dropped; LOGICAL_ERROR for a flush, whose blocks were fresh). */
static int part_insert_locked(struct catalog *c, int64_t table_id, const char *label, uint64_t next_block,
                              const struct catalog_part *p, int64_t now_ns, int intersect_code,
                              struct error *err)
{
  int rc = part_validate(p, label, next_block, err);
  if (rc)
    return rc;
  int state;
  rc = part_state(c, table_id, p->name, &state, err);
  if (rc)
    return rc;
  if (state)
    return error_set(err, ERR_DUPLICATE_DATA_PART, "Part %s already exists in table %s", p->name, label);
  /* Active parts of a partition are disjoint, so if any intersects
   * [min, max] the one starting last at or before max does: one index probe. */
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_PART_PRECEDING, &s, err);
  if (rc)
    return rc;
  int brc = bind_i64(s, 1, table_id) | bind_text(s, 2, p->partition_id) | bind_u64(s, 3, p->max_block);
  int r = step_row(c, s, brc, err, "checking part intersection");
  if (r < 0)
    return err->code;
  if (r && col_u64(s, 1) < p->min_block) {
    sqlite3_reset(s);
    r = 0;
  }
  if (r) {
    error_set(err, intersect_code, "Part %s intersects active part %s of table %s", p->name,
              (const char *)sqlite3_column_text(s, 0), label);
    sqlite3_reset(s);
    return err->code;
  }
  rc = stmt_get(c, STMT_PART_INSERT, &s, err);
  if (rc)
    return rc;
  brc = bind_i64(s, 1, table_id) | bind_text(s, 2, p->name) | bind_text(s, 3, p->partition_id) |
        bind_blob(s, 4, p->partition_value, p->partition_value_bytes) | bind_blob(s, 5, p->minmax, p->minmax_bytes) |
        bind_u64(s, 6, p->min_block) | bind_u64(s, 7, p->max_block) | bind_i64(s, 8, p->level) |
        bind_u64(s, 9, p->rows) | bind_u64(s, 10, p->bytes_on_disk) | bind_u64(s, 11, p->data_compressed_bytes) |
        bind_u64(s, 12, p->data_uncompressed_bytes) | bind_text(s, 15, p->disk) | bind_i64(s, 16, now_ns);
  if (p->has_time)
    brc |= bind_i64(s, 13, p->min_time) | bind_i64(s, 14, p->max_time);
  return step_done(c, s, brc, err, "adding a part");
}

/* Inside a write transaction: every named part must be ACTIVE, else ABORTED
 * (a concurrent merge, drop or TTL got there first). why names the action. */
static int parts_require_active(struct catalog *c, int64_t table_id, const char *label, const char *const *names,
                                size_t count, const char *why, struct error *err)
{
  for (size_t i = 0; i < count; i++) {
    int state;
    int rc = part_state(c, table_id, names[i], &state, err);
    if (rc)
      return rc;
    if (state != CATALOG_PART_ACTIVE)
      return error_set(err, ERR_ABORTED, "Cannot %s in table %s: part %s %s", why, label, names[i],
                       state ? "is no longer active (merged or dropped meanwhile)" : "does not exist");
  }
  return 0;
}

static int parts_outdate_locked(struct catalog *c, int64_t table_id, const char *const *names, size_t count,
                                int64_t now_ns, struct error *err)
{
  for (size_t i = 0; i < count; i++) {
    sqlite3_stmt *s;
    int rc = stmt_get(c, STMT_PART_OUTDATE, &s, err);
    if (rc)
      return rc;
    int brc = bind_i64(s, 1, table_id) | bind_text(s, 2, names[i]) | bind_i64(s, 3, now_ns);
    rc = step_done(c, s, brc, err, "retiring a part");
    if (rc)
      return rc;
  }
  return 0;
}

struct parts_change_args {
  int64_t table_id;
  const struct catalog_part *added;
  size_t added_count;
  const char *const *sources;        /* parts to retire */
  size_t sources_count;
  const uint64_t *wal_position;      /* add only */
  const char *why;                   /* for ABORTED messages */
};

static int parts_change_tx(struct catalog *c, void *arg, struct error *err)
{
  struct parts_change_args *a = arg;
  uint64_t next_block;
  int rc = table_counters(c, a->table_id, &next_block, NULL, err);
  if (rc)
    return rc;
  struct table_label label = table_label(c, a->table_id);
  int64_t now = clock_realtime_ns();
  rc = parts_require_active(c, a->table_id, label.s, a->sources, a->sources_count, a->why, err);
  if (rc)
    return rc;
  rc = parts_outdate_locked(c, a->table_id, a->sources, a->sources_count, now, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < a->added_count; i++) {
    rc = part_insert_locked(c, a->table_id, label.s, next_block, &a->added[i], now,
                            a->sources_count ? ERR_ABORTED : ERR_LOGICAL_ERROR, err);
    if (rc)
      return rc;
  }
  if (a->wal_position)
    return wal_advance_locked(c, a->table_id, *a->wal_position, err);
  return 0;
}

/* Publishes freshly written parts (a flush or an INSERT) and, when
 * wal_position is given, advances the table's WAL position in the same
 * transaction: either both are durable or neither is. */
int catalog_parts_add(struct catalog *c, int64_t table_id, const struct catalog_part *parts, size_t count,
                      const uint64_t *wal_position, struct error *err)
{
  struct parts_change_args a = { .table_id = table_id, .added = parts, .added_count = count,
                                 .wal_position = wal_position, .why = "add parts" };
  return run_tx(c, true, parts_change_tx, &a, err);
}

/* Commits a merge (or mutation): the sources become OUTDATED and the added
 * parts ACTIVE atomically. If any source is no longer ACTIVE (a DROP
 * PARTITION, TTL drop or another merge won the race) nothing changes and the
 * result is ABORTED: the merge is abandoned and its file deleted. */
int catalog_parts_replace(struct catalog *c, int64_t table_id, const struct catalog_part *added,
                          size_t added_count, const char *const *sources, size_t sources_count,
                          struct error *err)
{
  struct parts_change_args a = { .table_id = table_id, .added = added, .added_count = added_count,
                                 .sources = sources, .sources_count = sources_count,
                                 .why = "commit merge" };
  return run_tx(c, true, parts_change_tx, &a, err);
}

/* Marks a set of ACTIVE parts OUTDATED at once (TTL drop of whole parts);
 * ABORTED and no change if any of them is not ACTIVE. */
int catalog_parts_remove(struct catalog *c, int64_t table_id, const char *const *names, size_t count,
                         struct error *err)
{
  struct parts_change_args a = { .table_id = table_id, .sources = names, .sources_count = count,
                                 .why = "remove parts" };
  return run_tx(c, true, parts_change_tx, &a, err);
}

struct remove_partition_args {
  int64_t table_id;
  const char *partition_id;
  struct arena *arena;
  struct catalog_part *items;
  size_t count;
};

static int remove_partition_tx(struct catalog *c, void *arg, struct error *err)
{
  struct remove_partition_args *a = arg;
  int rc = table_counters(c, a->table_id, NULL, NULL, err);
  if (rc)
    return rc;
  sqlite3_stmt *s;
  rc = stmt_get(c, a->partition_id ? STMT_PARTS_ACTIVE_PARTITION : STMT_PARTS_ACTIVE, &s, err);
  if (rc)
    return rc;
  int brc = bind_i64(s, 1, a->table_id) | (a->partition_id ? bind_text(s, 2, a->partition_id) : SQLITE_OK);
  if (brc != SQLITE_OK)
    return sql_fail(c, brc, err, "listing parts");
  rc = parts_collect(c, s, a->arena, &a->items, &a->count, err);
  if (rc)
    return rc;
  int64_t now = clock_realtime_ns();
  for (size_t i = 0; i < a->count; i++) {
    rc = parts_outdate_locked(c, a->table_id, &a->items[i].name, 1, now, err);
    if (rc)
      return rc;
    a->items[i].state = CATALOG_PART_OUTDATED;
    a->items[i].modified_ns = now;
    a->items[i].removed_ns = now;
  }
  return 0;
}

/* DROP PARTITION (partition_id given) or TRUNCATE (NULL): every ACTIVE part
 * of it becomes OUTDATED in one transaction; *removed lists them (arena).
 * Merges of those parts that commit later get ABORTED. */
int catalog_parts_remove_partition(struct catalog *c, int64_t table_id, const char *partition_id,
                                   struct arena *a, struct catalog_part **removed, size_t *removed_count,
                                   struct error *err)
{
  struct remove_partition_args args = { .table_id = table_id, .partition_id = partition_id, .arena = a };
  int rc = run_tx(c, true, remove_partition_tx, &args, err);
  if (removed)
    *removed = rc ? NULL : args.items;
  if (removed_count)
    *removed_count = rc ? 0 : args.count;
  return rc;
}

struct set_disk_args {
  int64_t table_id;
  const char *name, *disk;
};

static int set_disk_tx(struct catalog *c, void *arg, struct error *err)
{
  struct set_disk_args *a = arg;
  int rc = table_counters(c, a->table_id, NULL, NULL, err);
  if (rc)
    return rc;
  int state;
  rc = part_state(c, a->table_id, a->name, &state, err);
  if (rc)
    return rc;
  if (state == 0)
    return error_set(err, ERR_NO_SUCH_DATA_PART, "No part %s in table %s", a->name,
                     table_label(c, a->table_id).s);
  if (state != CATALOG_PART_ACTIVE)
    return error_set(err, ERR_ABORTED, "Cannot move part %s of table %s to disk %s: it is no longer active",
                     a->name, table_label(c, a->table_id).s, a->disk);
  sqlite3_stmt *s;
  rc = stmt_get(c, STMT_PART_SET_DISK, &s, err);
  if (rc)
    return rc;
  int brc = bind_i64(s, 1, a->table_id) | bind_text(s, 2, a->name) | bind_text(s, 3, a->disk) |
            bind_i64(s, 4, clock_realtime_ns());
  return step_done(c, s, brc, err, "moving a part");
}

/* Records that an ACTIVE part now lives on another disk (TTL move, MOVE
 * PART, upload to S3): NO_SUCH_DATA_PART, or ABORTED if it was retired
 * meanwhile. Call after the copy is durable, before deleting the old file. */
int catalog_part_set_disk(struct catalog *c, int64_t table_id, const char *name, const char *disk,
                          struct error *err)
{
  int rc = check_name("Part", name, err);
  if (rc == 0)
    rc = check_name("Disk", disk, err);
  if (rc)
    return rc;
  struct set_disk_args a = { table_id, name, disk };
  return run_tx(c, true, set_disk_tx, &a, err);
}

struct forget_args {
  int64_t table_id;
  const char *const *names;
  size_t count;
};

static int forget_tx(struct catalog *c, void *arg, struct error *err)
{
  struct forget_args *a = arg;
  int rc = table_counters(c, a->table_id, NULL, NULL, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < a->count; i++) {
    int state;
    rc = part_state(c, a->table_id, a->names[i], &state, err);
    if (rc)
      return rc;
    if (state == 0)
      return error_set(err, ERR_NO_SUCH_DATA_PART, "No part %s in table %s", a->names[i],
                       table_label(c, a->table_id).s);
    if (state == CATALOG_PART_ACTIVE)
      return error_set(err, ERR_LOGICAL_ERROR, "Cannot forget part %s of table %s: it is active",
                       a->names[i], table_label(c, a->table_id).s);
    sqlite3_stmt *s;
    rc = stmt_get(c, STMT_PART_DELETE, &s, err);
    if (rc)
      return rc;
    rc = step_done(c, s, bind_i64(s, 1, a->table_id) | bind_text(s, 2, a->names[i]), err, "forgetting a part");
    if (rc)
      return rc;
  }
  return 0;
}

/* Deletes the rows of OUTDATED parts whose files are gone (after the last
 * reader let go, or at start-up). Refuses ACTIVE parts (LOGICAL_ERROR). */
int catalog_parts_forget(struct catalog *c, int64_t table_id, const char *const *names, size_t count,
                         struct error *err)
{
  struct forget_args a = { table_id, names, count };
  return run_tx(c, true, forget_tx, &a, err);
}

struct parts_list_args {
  int64_t table_id;
  const char *partition_id;
  bool active_only;
  struct arena *arena;
  struct catalog_part *items;
  size_t count;
};

static int parts_list_tx(struct catalog *c, void *arg, struct error *err)
{
  struct parts_list_args *a = arg;
  enum stmt_id id;
  int rc;
  if (a->table_id) {
    rc = table_counters(c, a->table_id, NULL, NULL, err);
    if (rc)
      return rc;
  }
  if (a->active_only)
    id = a->partition_id ? STMT_PARTS_ACTIVE_PARTITION : STMT_PARTS_ACTIVE;
  else
    id = a->table_id ? STMT_PARTS_TABLE : STMT_PARTS_ALL;
  sqlite3_stmt *s;
  rc = stmt_get(c, id, &s, err);
  if (rc)
    return rc;
  int brc = SQLITE_OK;
  if (id != STMT_PARTS_ALL)
    brc |= bind_i64(s, 1, a->table_id);
  if (id == STMT_PARTS_ACTIVE_PARTITION)
    brc |= bind_text(s, 2, a->partition_id);
  if (brc != SQLITE_OK)
    return sql_fail(c, brc, err, "listing parts");
  return parts_collect(c, s, a->arena, &a->items, &a->count, err);
}

/* ACTIVE parts of a table (UNKNOWN_TABLE), of one partition when
 * partition_id is given, ordered by partition id then min block. */
int catalog_parts_list_active(struct catalog *c, int64_t table_id, const char *partition_id, struct arena *a,
                              struct catalog_part **out, size_t *count, struct error *err)
{
  struct parts_list_args args = { .table_id = table_id, .partition_id = partition_id, .active_only = true,
                                  .arena = a };
  int rc = run_tx(c, false, parts_list_tx, &args, err);
  *out = rc ? NULL : args.items;
  *count = rc ? 0 : args.count;
  return rc;
}

/* Parts in every state, for start-up reconciliation: of one table, or of
 * every table when table_id is 0 (ordered by table, partition, min block). */
int catalog_parts_list_all(struct catalog *c, int64_t table_id, struct arena *a, struct catalog_part **out,
                           size_t *count, struct error *err)
{
  struct parts_list_args args = { .table_id = table_id, .arena = a };
  int rc = run_tx(c, false, parts_list_tx, &args, err);
  *out = rc ? NULL : args.items;
  *count = rc ? 0 : args.count;
  return rc;
}

/* ---- server-wide settings --------------------------------------------------------- */

struct setting_args {
  const char *name, *value;
  struct arena *arena;
  const char *found;
  struct catalog_setting *items;
  size_t count;
};

static int setting_get_tx(struct catalog *c, void *arg, struct error *err)
{
  struct setting_args *a = arg;
  sqlite3_stmt *s;
  int rc = stmt_get(c, STMT_SETTING_GET, &s, err);
  if (rc)
    return rc;
  int r = step_row(c, s, bind_text(s, 1, a->name), err, "reading a setting");
  if (r < 0)
    return err->code;
  a->found = r ? col_text(s, 0, a->arena) : NULL;
  sqlite3_reset(s);
  return 0;
}

int catalog_setting_get(struct catalog *c, const char *name, struct arena *a, const char **value,
                        struct error *err)
{
  *value = NULL;
  int rc = check_name("Setting", name, err);
  if (rc)
    return rc;
  struct setting_args args = { .name = name, .arena = a };
  rc = run_tx(c, false, setting_get_tx, &args, err);
  if (rc == 0)
    *value = args.found;
  return rc;
}

static int setting_set_tx(struct catalog *c, void *arg, struct error *err)
{
  struct setting_args *a = arg;
  sqlite3_stmt *s;
  int rc = stmt_get(c, a->value ? STMT_SETTING_SET : STMT_SETTING_DELETE, &s, err);
  if (rc)
    return rc;
  int brc = bind_text(s, 1, a->name) | (a->value ? bind_text(s, 2, a->value) : SQLITE_OK);
  return step_done(c, s, brc, err, "storing a setting");
}

int catalog_setting_set(struct catalog *c, const char *name, const char *value, struct error *err)
{
  int rc = check_name("Setting", name, err);
  if (rc)
    return rc;
  struct setting_args args = { .name = name, .value = value };
  return run_tx(c, true, setting_set_tx, &args, err);
}

static int settings_list_tx(struct catalog *c, void *arg, struct error *err)
{
  struct setting_args *a = arg;
  sqlite3_stmt *s;
  int rc = stmt_get(c, STMT_SETTING_LIST, &s, err);
  if (rc)
    return rc;
  size_t cap = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    a->items = array_grow(a->arena, a->items, &cap, a->count, sizeof *a->items);
    a->items[a->count].name = col_text(s, 0, a->arena);
    a->items[a->count].value = col_text(s, 1, a->arena);
    a->count++;
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sql_fail(c, rc, err, "listing settings");
}

int catalog_settings_list(struct catalog *c, struct arena *a, struct catalog_setting **out, size_t *count,
                          struct error *err)
{
  struct setting_args args = { .arena = a };
  int rc = run_tx(c, false, settings_list_tx, &args, err);
  *out = rc ? NULL : args.items;
  *count = rc ? 0 : args.count;
  return rc;
}
