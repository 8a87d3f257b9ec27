/* catalog/: the store's metadata in one sqlite3 file (data/catalog.sqlite,
 * WAL journal, synchronous=FULL). It owns databases, tables (DDL text, an
 * opaque schema blob, settings, next block number, WAL position), every
 * table's parts, and server-wide settings. It is the single source of truth
 * for which parts exist: a part file it does not list is garbage. It knows
 * nothing of SQL or part files; values are plain C. Every write is one
 * transaction, so readers never see half a change and a crash leaves the
 * previous state. Invariants and transaction rules: catalog/README.md.
 *
 * Threads: one sqlite connection behind a mutex; any thread may call any
 * function, calls are short and run one at a time. Results that hold strings
 * are allocated from the caller's arena and stay valid until it is reset.
 * Errors: codes from base/errors.def with ClickHouse's messages. */
#ifndef SPANHOUSE_CATALOG_CATALOG_H
#define SPANHOUSE_CATALOG_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct error;
struct catalog;

enum { CATALOG_UUID_LEN = 36 };            /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */

struct catalog_setting {
  const char *name;
  const char *value;
};

struct catalog_database {
  int64_t id;                              /* stable, never reused */
  const char *name;
  const char *engine;                      /* "Atomic" unless told otherwise */
  char uuid[CATALOG_UUID_LEN + 1];
  int64_t created_ns;                      /* unix time */
};

/* What CREATE TABLE / ALTER hand to the catalog. */
struct catalog_table_def {
  const char *engine;                      /* "MergeTree", ...; ignored by alter */
  const char *ddl;                         /* statement text, opaque */
  const void *schema;                      /* parsed schema, opaque; may be NULL */
  size_t schema_bytes;
  const struct catalog_setting *settings;  /* table SETTINGS in declared order */
  size_t settings_count;
  const char *uuid;                        /* CREATE ... UUID '...'; NULL = random */
};

struct catalog_table {
  int64_t id;                              /* stable, never reused */
  char uuid[CATALOG_UUID_LEN + 1];
  const char *database;
  const char *name;
  const char *engine;
  const char *ddl;
  const void *schema;                      /* NULL when schema_bytes == 0 */
  size_t schema_bytes;
  struct catalog_setting *settings;
  size_t settings_count;
  uint64_t next_block;                     /* first block number not yet handed out (>= 1) */
  uint64_t wal_position;                   /* opaque; everything before it is in parts */
  int64_t created_ns;
  int64_t modified_ns;                     /* last DDL change (create, rename, alter) */
};

/* Identifies a table a create made or a drop removed (the engine names and
 * deletes its files by these). */
struct catalog_table_ref {
  int64_t id;
  char uuid[CATALOG_UUID_LEN + 1];
  const char *database;
  const char *name;
};

/* ACTIVE --replace (as source) / remove--> OUTDATED --forget--> gone. */
enum catalog_part_state {
  CATALOG_PART_ACTIVE = 1,                 /* visible to queries */
  CATALOG_PART_OUTDATED = 2,               /* merged away or dropped; file deleted later */
};

struct catalog_part {
  int64_t table_id;                        /* filled on reads; ignored on writes */
  const char *name;                        /* <partition_id>_<min_block>_<max_block>_<level>[_<version>] */
  const char *partition_id;                /* "all" without PARTITION BY */
  const void *partition_value;             /* opaque serialized partition tuple */
  size_t partition_value_bytes;
  const void *minmax;                      /* opaque min/max of the partition-key columns */
  size_t minmax_bytes;
  uint64_t min_block, max_block;
  uint32_t level;                          /* 0 = insert, merge = max(sources) + 1 */
  uint64_t rows;
  uint64_t bytes_on_disk;
  uint64_t data_compressed_bytes;
  uint64_t data_uncompressed_bytes;
  bool has_time;                           /* min_time/max_time are meaningful */
  int64_t min_time, max_time;              /* of the table's time column, caller's units */
  const char *disk;                        /* "default", "s3", ... */
  enum catalog_part_state state;           /* filled on reads; writes add ACTIVE parts */
  int64_t created_ns;                      /* filled on reads: when added */
  int64_t modified_ns;                     /* filled on reads: last state or disk change */
  int64_t removed_ns;                      /* filled on reads: when outdated, 0 if active */
};

/* ---- open / close ------------------------------------------------------- */
int  catalog_open(struct catalog **out, const char *path, struct error *err);  /* creates and migrates */
void catalog_close(struct catalog *c);                                           /* NULL is fine */
const char *catalog_path(const struct catalog *c);

/* ---- databases ---------------------------------------------------------- */
int  catalog_database_create(struct catalog *c, const char *name, const char *engine, bool if_not_exists,
                             struct error *err);                   /* DATABASE_ALREADY_EXISTS */
int  catalog_database_drop(struct catalog *c, const char *name, bool if_exists, bool cascade, struct arena *a,
                           struct catalog_table_ref **dropped, size_t *dropped_count,
                           struct error *err);                     /* UNKNOWN_DATABASE, DATABASE_NOT_EMPTY */
int  catalog_database_rename(struct catalog *c, const char *from, const char *to, struct error *err);
int  catalog_database_list(struct catalog *c, struct arena *a, struct catalog_database **out, size_t *count,
                           struct error *err);                     /* by name */
bool catalog_database_exists(struct catalog *c, const char *name);

/* ---- tables ------------------------------------------------------------- */
int  catalog_table_create(struct catalog *c, const char *database, const char *name,
                          const struct catalog_table_def *def, struct catalog_table_ref *out, struct error *err);
int  catalog_table_drop(struct catalog *c, const char *database, const char *name, struct catalog_table_ref *out,
                        struct error *err);                        /* out may be NULL */
int  catalog_table_rename(struct catalog *c, const char *from_db, const char *from_name, const char *to_db,
                          const char *to_name, const char *new_ddl, struct error *err);  /* new_ddl NULL = keep */
int  catalog_table_alter(struct catalog *c, int64_t table_id, const struct catalog_table_def *def,
                         struct error *err);                       /* ddl + schema + settings at once */
int  catalog_table_get(struct catalog *c, const char *database, const char *name, struct arena *a,
                       struct catalog_table *out, struct error *err);
int  catalog_table_get_by_id(struct catalog *c, int64_t table_id, struct arena *a, struct catalog_table *out,
                             struct error *err);
int  catalog_table_list(struct catalog *c, const char *database, struct arena *a, struct catalog_table **out,
                        size_t *count, struct error *err);         /* database NULL = every table */
bool catalog_table_exists(struct catalog *c, const char *database, const char *name);

/* ---- per-table counters ------------------------------------------------- */
int  catalog_blocks_allocate(struct catalog *c, int64_t table_id, uint64_t count, uint64_t *first,
                             struct error *err);                   /* [*first, *first + count) */
int  catalog_wal_position_get(struct catalog *c, int64_t table_id, uint64_t *out, struct error *err);
int  catalog_wal_position_advance(struct catalog *c, int64_t table_id, uint64_t position, struct error *err);

/* ---- parts -------------------------------------------------------------- */
int  catalog_parts_add(struct catalog *c, int64_t table_id, const struct catalog_part *parts, size_t count,
                       const uint64_t *wal_position, struct error *err);   /* flush; wal NULL = leave */
int  catalog_parts_replace(struct catalog *c, int64_t table_id, const struct catalog_part *added,
                           size_t added_count, const char *const *sources, size_t sources_count,
                           struct error *err);                     /* merge; ABORTED if a source is gone */
int  catalog_parts_remove(struct catalog *c, int64_t table_id, const char *const *names, size_t count,
                          struct error *err);                      /* TTL drop; ABORTED if one is gone */
int  catalog_parts_remove_partition(struct catalog *c, int64_t table_id, const char *partition_id,
                                    struct arena *a, struct catalog_part **removed, size_t *removed_count,
                                    struct error *err);            /* DROP PARTITION; NULL id = TRUNCATE */
int  catalog_part_set_disk(struct catalog *c, int64_t table_id, const char *name, const char *disk,
                           struct error *err);                     /* move; ABORTED if outdated */
int  catalog_parts_forget(struct catalog *c, int64_t table_id, const char *const *names, size_t count,
                          struct error *err);                      /* outdated parts whose file is gone */
int  catalog_parts_list_active(struct catalog *c, int64_t table_id, const char *partition_id, struct arena *a,
                               struct catalog_part **out, size_t *count, struct error *err);
int  catalog_parts_list_all(struct catalog *c, int64_t table_id, struct arena *a, struct catalog_part **out,
                            size_t *count, struct error *err);     /* every state; table_id 0 = all tables */

/* ---- server-wide settings ----------------------------------------------- */
int  catalog_setting_get(struct catalog *c, const char *name, struct arena *a, const char **value,
                         struct error *err);                       /* *value NULL when unset */
int  catalog_setting_set(struct catalog *c, const char *name, const char *value,
                         struct error *err);                       /* value NULL = unset */
int  catalog_settings_list(struct catalog *c, struct arena *a, struct catalog_setting **out, size_t *count,
                           struct error *err);                     /* by name */

#endif
