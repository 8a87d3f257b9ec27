/* engine/: tables of the MergeTree family. It owns the data directory
 * (data_dir/catalog.sqlite, data_dir/store/<table uuid>/<part files>), the
 * set of active parts of every table and everything that changes it: the
 * insert path (partition split, sort, one part per partition, published
 * atomically), background merges (plain, Replacing, Summing), OPTIMIZE,
 * DROP PARTITION / TRUNCATE, start-up reconciliation of files with the
 * catalog; and refcounted snapshots with pruned scans (partition min/max,
 * primary key, skip indexes, FINAL) for readers.
 * It knows nothing of SQL or HTTP: the query layer parses DDL and hands the
 * engine a struct table_def whose derived values (partition key, sorting-key
 * expressions, skip-index inputs) come from evaluator callbacks.
 * Invariants, the part lifecycle and the locking order: engine/README.md.
 *
 * Threads: every function may be called from any thread. Objects returned
 * with a reference (tables, snapshots) are released by their unref/release;
 * a scan belongs to its opener, but its streams may run in parallel threads.
 * Errors: codes from base/errors.def with ClickHouse's messages. */
#ifndef SPANHOUSE_ENGINE_ENGINE_H
#define SPANHOUSE_ENGINE_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/column.h"
#include "base/datatype.h"
#include "base/error.h"
#include "catalog/catalog.h"
#include "storage/storage.h"

struct engine;
struct engine_table;
struct engine_snapshot;
struct engine_scan;

/* ======================================================================
 * Engine lifetime
 * ==================================================================== */

/* When a buffered insert is acknowledged (engine_insert_buffered):
 * FSYNC after its write-ahead log record is fdatasync'ed (group commit);
 * BATCH once written to the OS, fdatasync every wal_batch_ms (survives a
 * process crash, may lose that window on power loss); NONE written to the
 * OS, never synced (tests and benchmarks). */
enum engine_wal_sync { ENGINE_WAL_FSYNC, ENGINE_WAL_BATCH, ENGINE_WAL_NONE };

struct engine_options {
  uint32_t merge_threads;              /* background merge threads; 0 = 2 */
  bool no_background_merges;           /* no merge threads (tests); OPTIMIZE still merges */
  uint64_t parts_to_delay_insert;      /* active parts in one partition; 0 = 1000 (ClickHouse) */
  uint64_t parts_to_throw_insert;      /* 0 = 3000 (ClickHouse) */
  uint64_t max_parts_in_total;         /* active parts of one table; 0 = 100000 */
  uint32_t min_delay_to_insert_ms;     /* 0 = 10 */
  uint32_t max_delay_to_insert_ms;     /* 0 = 1000 */
  uint32_t max_partitions_per_insert_block;  /* 0 = 100; UINT32_MAX = unlimited */
  uint64_t max_bytes_to_merge;         /* result size cap of background merges; 0 = 150 GiB */
  uint32_t max_parts_to_merge_at_once; /* 0 = 100 */
  uint64_t merge_memory_bytes;         /* estimated read buffers of one merge; 0 = 256 MiB */
  bool no_fsync;                       /* tests/benchmarks only: parts are not fsynced */
  /* Buffered inserts (engine_insert_buffered): write-ahead log and memtables */
  enum engine_wal_sync wal_sync;       /* default ENGINE_WAL_FSYNC */
  uint32_t wal_batch_ms;               /* ENGINE_WAL_BATCH: fdatasync interval; 0 = 100 */
  uint64_t wal_segment_bytes;          /* 0 = 64 MiB */
  uint64_t memtable_flush_bytes;       /* a table's memtable is written to parts at this size; 0 = 64 MiB */
  uint64_t memtable_flush_rows;        /* ... or this many rows; 0 = 1,048,576 */
  uint32_t memtable_flush_ms;          /* ... or when its oldest rows are this old; 0 = 2000 */
  uint64_t memtable_max_bytes;         /* all memtables; beyond it buffered inserts fail with
                                          MEMORY_LIMIT_EXCEEDED (retry later); 0 = 256 MiB */
  uint32_t flush_threads;              /* 0 = 2 */
};

/* Opens data_dir (created if missing): the catalog, every table's
 * directory reconciled with it (files it does not know are removed; active
 * parts that are missing or unreadable are logged with log_error and make
 * the table's snapshots fail naming the part; outdated parts are deleted
 * and forgotten), then starts the merge threads. Tables come up detached:
 * the query layer attaches a definition to each (engine_table_attach).
 * Fails with CANNOT_OPEN_FILE if another process holds data_dir. */
int  engine_open(const char *data_dir, const struct engine_options *options, struct engine **out,
                 struct error *err);
/* Stops merges (a running merge is aborted and its tmp file removed),
 * deletes unreferenced outdated parts, closes the catalog. Every table
 * handle, snapshot and scan must have been released. NULL is fine. */
void engine_close(struct engine *e);
/* The catalog, for reads (databases, DDL text, settings). Change tables
 * and parts only through the engine, which keeps files in step. */
struct catalog *engine_catalog(struct engine *e);
const char *engine_data_dir(const struct engine *e);

/* ======================================================================
 * Table definitions (built by the query layer from DDL)
 * ==================================================================== */

enum table_kind {
  TABLE_MERGE_TREE,
  TABLE_REPLACING_MERGE_TREE,        /* one row per sorting key: max version, else the last inserted */
  TABLE_SUMMING_MERGE_TREE,          /* one row per sorting key with numeric columns summed */
};

/* Evaluates one derived value per row. rows holds the table's columns in
 * definition order (names set), any number of rows; *out must get exactly
 * rows->rows rows of the expression's type (a const column is fine),
 * allocated in a. Must be deterministic and thread-safe: the engine calls
 * it from insert threads and merge threads at once. A non-zero return
 * (with err set) fails the insert or the merge. */
typedef int (*table_eval_fn)(void *ctx, const struct block *rows, struct arena *a, struct column **out,
                             struct error *err);

struct table_expr {
  const char *text;                  /* as written, "toYYYYMM(Timestamp)": messages and system tables */
  int32_t column;                    /* >= 0: the expression is this column as is (eval unused) */
  const struct datatype *type;       /* column < 0: the result type */
  table_eval_fn eval;                /* column < 0: computes it */
  void *ctx;                         /* passed to eval */
  const uint32_t *inputs;            /* column < 0: the table columns eval reads, so readers fetch only
                                        those (the others are handed in as constant defaults); */
  uint32_t input_count;              /* inputs NULL = not known: every column is read */
};

struct table_column {
  const char *name;
  const struct datatype *type;
  struct codec_chain codec;          /* count 0 = the table's default chain */
  bool in_sorting_key;               /* referenced by ORDER BY: never summed */
  /* DEFAULT / MATERIALIZED expression (of exactly this type): what rows of a
   * part without the column (written before ADD COLUMN) read and what merges
   * write for them. text NULL = none: such rows read the type's default. */
  struct table_expr default_expr;
};

struct table_index {                 /* INDEX name expr TYPE type(params) GRANULARITY n */
  const char *name;
  struct table_expr expr;            /* its type is the index input type (Array(String) for mapKeys) */
  enum skip_index_type type;
  uint32_t granularity;              /* granules per index entry, >= 1 */
  double false_positive_rate;        /* bloom_filter; 0 = 0.025 */
  uint32_t max_rows;                 /* set(max_rows); 0 = unlimited */
  uint32_t size_bytes, hash_count, seed;  /* tokenbf_v1 / ngrambf_v1 */
  uint32_t ngram_n;                  /* ngrambf_v1 */
};

struct table_settings {              /* SETTINGS ...; 0 = the engine's default */
  uint32_t index_granularity;        /* 8192 */
  uint64_t index_granularity_bytes;  /* 10 MiB */
  uint64_t parts_to_delay_insert, parts_to_throw_insert, max_parts_in_total;
  uint64_t max_bytes_to_merge;
  uint32_t max_parts_to_merge_at_once;
  struct codec_chain default_codec;  /* count 0 = LZ4 */
};

/* Everything the engine needs of CREATE TABLE. The engine deep-copies it
 * (types included); ctx pointers are kept. When the call taking it succeeds
 * the engine owns ctx: ctx_free(ctx) runs once it drops this version of the
 * definition (after ALTER, DROP, close); when it fails, ctx stays the
 * caller's. */
struct table_def {
  enum table_kind kind;
  uint32_t column_count;
  const struct table_column *columns;
  uint32_t partition_key_count;      /* PARTITION BY elements; 0 = one partition 'all' */
  const struct table_expr *partition_key;
  uint32_t sort_key_count;           /* ORDER BY elements; 0 = tuple() (parts keep insert order) */
  const struct table_expr *sort_key;
  uint32_t primary_key_count;        /* PRIMARY KEY = this prefix of ORDER BY; 0 = all of it */
  int32_t version_column;            /* ReplacingMergeTree(ver); -1 = none */
  uint32_t sum_column_count;         /* SummingMergeTree((a, b)); 0 = every numeric non-key column */
  const uint32_t *sum_columns;
  uint32_t index_count;
  const struct table_index *indexes;
  uint32_t minmax_column_count;      /* columns with part-level min/max (partition key and time columns) */
  const uint32_t *minmax_columns;
  int32_t time_column;               /* system.parts min_time/max_time, TTL; -1 = none (kept in min/max) */
  struct table_settings settings;
  /* Optional: system.parts `partition` text from the partition key values
   * (1-row columns). NULL = ClickHouse's: the value, or ('a',202401). */
  void (*format_partition)(void *ctx, const struct column *const *values, uint32_t count, struct buf *out);
  void *ctx;                         /* for format_partition and ctx_free */
  void (*ctx_free)(void *ctx);       /* may be NULL */
};

/* ======================================================================
 * Databases and tables. Table directories are named by uuid, so RENAME
 * only changes the catalog.
 * ==================================================================== */

int  engine_database_create(struct engine *e, const char *name, bool if_not_exists, struct error *err);
int  engine_database_drop(struct engine *e, const char *name, bool if_exists, struct error *err);  /* with its tables */

/* CREATE TABLE: catalog entry (ddl: text, opaque schema, settings) and
 * directory, attached to def. *out gets a reference (NULL out = none). */
int  engine_table_create(struct engine *e, const char *database, const char *name,
                         const struct catalog_table_def *ddl, const struct table_def *def,
                         struct engine_table **out, struct error *err);
/* Start-up: gives a table found in the catalog (catalog_table.id) its
 * definition, parsed from the stored DDL. Also replaces a definition. */
int  engine_table_attach(struct engine *e, int64_t table_id, const struct table_def *def,
                         struct engine_table **out, struct error *err);
/* Finds a table (attached or not). UNKNOWN_DATABASE / UNKNOWN_TABLE. */
int  engine_table_get(struct engine *e, const char *database, const char *name, struct engine_table **out,
                      struct error *err);
int  engine_table_get_by_id(struct engine *e, int64_t table_id, struct engine_table **out, struct error *err);
void engine_table_ref(struct engine_table *t);
void engine_table_unref(struct engine_table *t);     /* NULL is fine */
bool engine_table_attached(struct engine_table *t);
int64_t engine_table_id(const struct engine_table *t);

/* DROP TABLE: catalog first, then the files once no snapshot holds them. */
int  engine_table_drop(struct engine *e, const char *database, const char *name, bool if_exists,
                       struct error *err);
int  engine_table_rename(struct engine *e, const char *from_db, const char *from_name, const char *to_db,
                         const char *to_name, const char *new_ddl, struct error *err);
/* ALTER ADD/DROP COLUMN, ADD/DROP INDEX, MODIFY SETTING: the new definition
 * replaces the old one, after the memtable is flushed. Rows of parts that
 * lack a column read its default_expr computed from the row (the type's
 * default without one), and merges write those values. The
 * partition key, sorting key and engine kind cannot change (NOT_IMPLEMENTED). */
int  engine_table_alter(struct engine_table *t, const struct catalog_table_def *ddl, const struct table_def *def,
                        struct error *err);
int  engine_table_truncate(struct engine_table *t, struct error *err);
int  engine_table_drop_partition(struct engine_table *t, const char *partition_id, struct error *err);
int  engine_table_drop_part(struct engine_table *t, const char *part_name, struct error *err);  /* NO_SUCH_DATA_PART */
/* The partition id ClickHouse derives from partition key values (1-row
 * columns, one per element): 'all', "202401", "20240115-3" or a 32-hex hash.
 * For ALTER ... PARTITION <expr>. Allocated in a. */
int  engine_partition_id(struct engine_table *t, const struct column *const *values, uint32_t count,
                         struct arena *a, const char **out, struct error *err);

/* ======================================================================
 * Insert
 * ==================================================================== */

struct engine_insert_options {
  uint32_t max_partitions_per_insert_block;  /* 0 = the engine's; UINT32_MAX = unlimited */
};

struct engine_insert_result {        /* for X-ClickHouse-Summary */
  uint64_t written_rows;             /* after Replacing/Summing collapsing */
  uint64_t written_bytes;            /* in-memory bytes of the inserted block */
  uint32_t parts;
};

/* INSERT: rows holds the table's columns in definition order with exactly
 * their types (LowCardinality(T) may come as plain T; const columns are
 * fine). Rows are split by partition (TOO_MANY_PARTS past
 * max_partitions_per_insert_block), sorted, collapsed for Replacing/Summing
 * and written as one level-0 part per partition; all parts become visible
 * at once, or none (on error nothing is visible). Delays when a partition
 * has more than parts_to_delay_insert active parts, fails with
 * TOO_MANY_PARTS (252) at parts_to_throw_insert. opts may be NULL. */
int  engine_insert(struct engine_table *t, const struct block *rows, const struct engine_insert_options *opts,
                   struct engine_insert_result *out, struct error *err);

/* Staged INSERT of any size: each add writes the block's parts (split,
 * sorted, collapsed as engine_insert does) under provisional names that
 * nothing sees; commit publishes every part of every add in one catalog
 * transaction (all visible at once); abort, or a failing add/commit,
 * removes the files. After commit or abort the handle is gone; after a
 * failing add the caller still aborts. A crash before commit leaves only
 * provisional files, removed at start-up. One thread at a time per handle. */
struct engine_insert;
int  engine_insert_begin(struct engine_table *t, const struct engine_insert_options *opts,
                         struct engine_insert **out, struct error *err);
int  engine_insert_add(struct engine_insert *ins, const struct block *rows, struct error *err);
int  engine_insert_commit(struct engine_insert *ins, struct engine_insert_result *out, struct error *err);
void engine_insert_abort(struct engine_insert *ins);          /* NULL is fine */

/* Buffered INSERT (the OTLP path): the rows of every item are appended to
 * their table's memtable and, as one record, to the write-ahead log; the
 * call returns once that record is durable (wal_sync), and the rows are
 * visible to snapshots from then on. Memtables are written to parts in the
 * background (by size, rows or age; engine_table_flush), in one catalog
 * transaction that also advances the table's log position; after a crash
 * engine_wal_recover puts unflushed rows back. All items or none: a
 * failure before durability leaves nothing visible. Tables that are not
 * plain MergeTree take the synchronous engine_insert path instead (their
 * FINAL semantics need every row in a part). MEMORY_LIMIT_EXCEEDED when the
 * memtables hold memtable_max_bytes (retryable: flushes free it). */
struct engine_buffered_rows {
  struct engine_table *table;
  const struct block *rows;          /* as engine_insert takes them */
};
int  engine_insert_buffered(struct engine *e, const struct engine_buffered_rows *items, uint32_t count,
                            struct error *err);
/* Whether a buffered insert would be taken now: MEMORY_LIMIT_EXCEEDED while
 * the memtables are at memtable_max_bytes (front ends refuse requests before
 * decoding them), ABORTED before engine_wal_recover. */
int  engine_buffered_admit(struct engine *e, struct error *err);
/* Start-up, after every table is attached: replays the log into the
 * memtables (records already in parts are skipped), then starts the log
 * writer and the flush threads. Buffered inserts fail until it ran. */
int  engine_wal_recover(struct engine *e, uint64_t *replayed_rows, struct error *err);
/* Writes the table's memtable to parts now (OPTIMIZE, DROP PARTITION and
 * engine_close do this themselves). */
int  engine_table_flush(struct engine_table *t, struct error *err);

struct engine_ingest_stats {
  uint64_t pending_rows, pending_bytes;          /* in memtables now */
  uint64_t flushes, flushed_rows, flush_failures;
  uint64_t wal_records, wal_groups, wal_bytes, wal_fsyncs, wal_segments;
  double wal_fsync_seconds_total, wal_fsync_seconds_max;
};
void engine_get_ingest_stats(struct engine *e, struct engine_ingest_stats *out);

/* ======================================================================
 * Snapshots and scans
 * ==================================================================== */

/* The active parts at this moment, each kept alive (a merged-away part's
 * file is deleted only after the last snapshot holding it is released),
 * and the definition they are read with. Fails (CORRUPTED_DATA or
 * NO_SUCH_DATA_PART naming the part) while the table has a broken part,
 * and when it is not attached. */
int  engine_snapshot(struct engine_table *t, struct engine_snapshot **out, struct error *err);
void engine_snapshot_release(struct engine_snapshot *s);    /* NULL is fine */
const struct table_def *engine_snapshot_def(const struct engine_snapshot *s);
uint32_t engine_snapshot_part_count(const struct engine_snapshot *s);
uint64_t engine_snapshot_rows(const struct engine_snapshot *s);

/* A range of one value: 1-row columns (row 0), NULL = unbounded. Bounds
 * should have the type of what they bound (numeric types may differ). */
struct engine_range {
  const struct column *lo, *hi;
  bool lo_inclusive, hi_inclusive;
};

/* Sorting-key element `element` lies in one of the ranges (x IN (1, 5) is
 * two point ranges; 0 ranges = nothing matches). The query layer maps
 * predicates onto elements, through monotonic functions too. */
struct engine_key_cond {
  uint32_t element;
  uint32_t range_count;
  const struct engine_range *ranges;
};

/* A table column lies in one of the ranges: prunes parts by their min/max
 * (minmax_columns of the definition, e.g. Timestamp). */
struct engine_column_cond {
  const char *column;
  uint32_t range_count;
  const struct engine_range *ranges;
};

enum engine_index_op {
  ENGINE_INDEX_EQUALS,               /* input (or an element of it) equals one of values */
  ENGINE_INDEX_HAS_TOKEN,            /* tokenbf/ngrambf: one of values is a whole token */
  ENGINE_INDEX_SUBSTRING,            /* tokenbf/ngrambf: LIKE '%value%' for one of values */
  ENGINE_INDEX_RANGE,                /* minmax: input lies in range */
};

/* A skip-index atom. values: element type of the index input (String for
 * mapKeys(Map(String, …))); rows are alternatives. Indexes that cannot
 * answer an op, and parts without the index, are not pruned. */
struct engine_index_cond {
  const char *index;
  enum engine_index_op op;
  const struct column *values;
  struct engine_range range;
};

/* All conditions hold at once (AND); within one, alternatives are OR. */
struct engine_filter {
  uint32_t key_count;
  const struct engine_key_cond *keys;
  uint32_t column_count;
  const struct engine_column_cond *columns;
  uint32_t index_count;
  const struct engine_index_cond *indexes;
  uint32_t partition_id_count;       /* > 0: only these partitions */
  const char *const *partition_ids;
};

/* PREWHERE: keep[i] = 1 for rows of `rows` (the prewhere columns, in the
 * requested order) to return. Runs in the thread calling engine_scan_next. */
typedef int (*engine_row_filter_fn)(void *ctx, const struct block *rows, uint8_t *keep, struct error *err);

struct engine_scan_request {
  uint32_t column_count;             /* output columns: table columns, or virtual _part, _partition_id */
  const char *const *columns;
  const struct engine_filter *filter;  /* NULL = every row; used only during engine_scan_open */
  uint32_t prewhere_column_count;    /* read first; the rest only for granules with rows kept */
  const char *const *prewhere_columns;
  engine_row_filter_fn row_filter;   /* NULL = none; rows it rejects are not returned */
  void *row_filter_ctx;
  bool final;                        /* SELECT … FINAL: Replacing/Summing applied across parts */
  uint32_t streams;                  /* parallel consumers; 0 = 1 */
  uint32_t max_block_rows;           /* 0 = 8192; a granule is never split */
  _Atomic uint64_t *read_rows;       /* may be NULL: rows of the granules read */
  _Atomic uint64_t *read_bytes;      /* may be NULL: in-memory bytes of the columns read */
};

struct engine_scan_stats {
  uint32_t parts_total, parts_selected;
  uint64_t granules_total, granules_selected;
  uint64_t rows_selected;            /* rows of the selected granules (total_rows_to_read) */
};

/* Chooses parts and granules (all pruning happens here); reads nothing but
 * skip indexes. The scan keeps the snapshot alive until closed. */
int  engine_scan_open(struct engine_snapshot *s, const struct engine_scan_request *req, struct engine_scan **out,
                      struct error *err);
/* Next block of stream (0 <= stream < streams), or *out NULL at the end.
 * Streams share the work and may run in different threads, one thread
 * per stream at a time. The block stays valid until the next call on the
 * same stream. With one stream, blocks come in part order and, within a
 * part, in sorting-key order. */
int  engine_scan_next(struct engine_scan *scan, uint32_t stream, struct block **out, struct error *err);
void engine_scan_get_stats(const struct engine_scan *scan, struct engine_scan_stats *out);
void engine_scan_close(struct engine_scan *scan);          /* NULL is fine */

/* ======================================================================
 * Merges
 * ==================================================================== */

/* OPTIMIZE TABLE t [PARTITION ID id] [FINAL]: flushes the memtable, then merges the active parts of
 * each partition (partition_id NULL = all) into one, synchronously, in
 * the calling thread; with FINAL also a partition that already has one
 * part (Replacing/Summing semantics applied). Waits for background merges
 * of those parts to end first. */
int  engine_optimize(struct engine_table *t, const char *partition_id, bool final, struct error *err);

/* ======================================================================
 * Introspection: system.parts, system.tables, system.columns, system.merges
 * ==================================================================== */

struct engine_part_info {
  const char *name, *partition_id;
  const char *partition;             /* text: 202401, ('tenant',202401) */
  const char *path, *disk;
  bool active;
  uint64_t rows, marks;
  uint64_t bytes_on_disk, data_compressed_bytes, data_uncompressed_bytes;
  uint64_t min_block, max_block;
  uint32_t level;
  bool has_time;
  int64_t min_time, max_time;        /* the time column's raw values (DateTime64 ticks, seconds, days) */
  int64_t modification_time_ns, remove_time_ns;
  uint32_t refcount;                 /* references by snapshots and merges, plus one while active */
  const char *broken;                /* NULL, or why the part cannot be read */
};

struct engine_column_info {
  const char *name;
  const struct datatype *type;
  uint64_t data_compressed_bytes, data_uncompressed_bytes;   /* over active parts */
};

struct engine_table_info {
  int64_t id;
  const char *database, *name, *uuid, *data_path;
  bool attached;
  uint64_t total_rows, total_bytes;  /* active parts */
  uint32_t active_parts;
  int64_t modification_time_ns;      /* last part change */
};

struct engine_merge_info {
  const char *database, *table, *partition_id, *result_part_name;
  uint32_t num_parts;
  const char *const *source_part_names;
  double elapsed_s, progress;        /* progress 0..1 by rows */
  uint64_t total_size_bytes_compressed, total_size_marks;
  uint64_t rows_read, rows_written, bytes_read_uncompressed, bytes_written_uncompressed;
  const char *merge_type;            /* "Regular" or "Optimize" */
};

/* Results are copied into a. */
int  engine_table_parts(struct engine_table *t, bool include_outdated, struct arena *a,
                        struct engine_part_info **out, size_t *count, struct error *err);
int  engine_table_columns(struct engine_table *t, struct arena *a, struct engine_column_info **out, size_t *count,
                          struct error *err);
void engine_table_get_info(struct engine_table *t, struct arena *a, struct engine_table_info *out);
int  engine_merges(struct engine *e, struct arena *a, struct engine_merge_info **out, size_t *count);

#endif
