/* Private declarations shared by the engine .c files: engine, table, part,
 * compiled definition and snapshot objects, the k-way merger and the
 * collapser (Replacing/Summing) used by inserts, merges and FINAL scans.
 * Locking order (README.md): engine->lock → table->insert_lock →
 * table->commit_lock → wal->lock → table->lock → part->index_lock;
 * engine->grave_lock and engine->flush_lock are leaves, and the catalog's
 * own mutex is innermost. */
#ifndef SPANHOUSE_ENGINE_ENGINE_INT_H
#define SPANHOUSE_ENGINE_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/engine.h"

#define SORT_KEY_PREFIX "__sort_key."  /* hidden part columns of sorting-key expressions (computed, not stored) */

enum {
  ENGINE_MERGE_THREADS_DEFAULT = 2,
  ENGINE_PARTS_TO_DELAY_DEFAULT = 1000,
  ENGINE_PARTS_TO_THROW_DEFAULT = 3000,
  ENGINE_MAX_PARTS_TOTAL_DEFAULT = 100000,
  ENGINE_MIN_DELAY_MS_DEFAULT = 10,
  ENGINE_MAX_DELAY_MS_DEFAULT = 1000,
  ENGINE_MAX_PARTITIONS_PER_INSERT_DEFAULT = 100,
  ENGINE_MAX_PARTS_TO_MERGE_DEFAULT = 100,
  ENGINE_SMALL_PART_BYTES = 1 << 20,   /* parts below this merge without waiting for similar sizes */
  ENGINE_BLOCK_ROWS = 8192,
};
#define ENGINE_MAX_BYTES_TO_MERGE_DEFAULT (150ull << 30)
#define ENGINE_MERGE_MEMORY_DEFAULT (256ull << 20)

/* A compiled, immutable, refcounted version of a table definition. Storage
 * layout of a part: the table's columns, then one hidden column per
 * sorting-key element that is an expression. Hidden columns are computed
 * (part_column_def.computed): the writer indexes them but stores no values,
 * and every read recomputes them (part_read_derived). */
struct def {
  _Atomic int refs;
  struct arena arena;
  struct table_def td;               /* deep copy, types re-parsed into arena */
  uint32_t ncols;                    /* table columns */
  uint32_t nstore;                   /* ncols + hidden */
  uint32_t *sort_col;                /* per sort element: storage column */
  uint32_t pk_count;
  struct part_column_def *pcols;     /* nstore */
  struct skip_index_def *sidx;       /* td.index_count */
  uint32_t *minmax_cols;
  uint32_t minmax_count;
  struct part_schema schema;
  bool *summed;                      /* per storage column: Summing adds it up */
  uint64_t parts_to_delay, parts_to_throw, max_parts_total, max_merge_bytes;
  uint32_t max_merge_parts;
};

struct engine_part {
  _Atomic int refs;                  /* the active set holds one */
  struct engine *e;
  int64_t table_id;
  char *name, *partition_id, *partition_text, *path, *disk;
  uint64_t min_block, max_block;
  uint32_t level;
  uint64_t rows, bytes_on_disk, compressed_bytes, uncompressed_bytes;
  uint32_t granules;
  bool has_time;
  int64_t min_time, max_time;
  int64_t created_ns, removed_ns;
  struct arena arena;                /* reader metadata; destroying it closes the fd */
  struct part_reader *reader;        /* NULL when broken */
  pthread_mutex_t index_lock;        /* skip-index loading into the reader */
  int broken_code;                   /* 0, NO_SUCH_DATA_PART or CORRUPTED_DATA */
  char *broken_message;
  /* guarded by table->lock */
  bool merging;                      /* picked by a merge or OPTIMIZE */
  bool outdated;                     /* left the active set: file deleted at the last unref */
};

/* One buffered insert's rows for one table, decoded from the bytes of its
 * write-ahead log record; immutable once created. */
struct mem_chunk {
  _Atomic int refs;                  /* the memtable's, snapshots', a flush's */
  struct arena arena;
  struct def *d;                     /* the definition its columns follow */
  struct block *rows;                /* table columns in d's order, names set */
  uint64_t lsn;
  uint64_t bytes;
  int64_t created_ns;
  bool durable;                      /* guarded by table->lock: in the log for good */
};

/* A table's memtable: chunks in LSN order (guarded by table->lock). */
struct memtable {
  struct mem_chunk **chunks;
  uint32_t n, cap;
  uint64_t rows, bytes;
  bool flushing;                     /* a flush owns a prefix of chunks */
  int64_t retry_after_ns;            /* after a failed flush */
  uint64_t wal_position;             /* replay: records below are in parts (catalog) */
};

struct engine_table {
  _Atomic int refs;
  struct engine *e;
  int64_t id;
  char uuid[CATALOG_UUID_LEN + 1];
  char *dir;
  pthread_mutex_t insert_lock;       /* block allocation until catalog_parts_add */
  pthread_mutex_t commit_lock;       /* a catalog part-set change and its in-memory twin */
  pthread_mutex_t lock;              /* the fields below */
  pthread_cond_t merged;             /* a merge of this table ended */
  char *database, *name;
  struct def *def;                   /* NULL until attached */
  struct engine_part **parts;        /* active, by (partition_id, min_block) */
  uint32_t nparts, cap;
  atomic_bool dropped;               /* also read without the lock (merges poll it) */
  int64_t modified_ns;
  struct memtable mem;
};

struct merge_entry;                  /* system.merges row (merge.c) */

struct grave {
  struct grave *next;
  int64_t table_id;
  char *name, *path;
};

struct engine {
  char *dir, *store_dir;
  struct engine_options opt;
  struct catalog *cat;
  int lock_fd;
  pthread_mutex_t lock;              /* tables, merges, rr */
  pthread_mutex_t grave_lock;        /* graves; a leaf: taken under any other lock */
  pthread_cond_t work;               /* merge threads: something changed, or stop */
  pthread_cond_t gc;                 /* gc thread: graves to bury, or stop */
  struct engine_table **tables;
  uint32_t ntables, tables_cap;
  uint32_t rr;                       /* next table a merge thread looks at */
  struct merge_entry *merges;
  struct grave *graves;
  pthread_t *merge_threads;
  uint32_t nmerge_threads;
  pthread_t gc_thread;
  bool gc_started;
  atomic_bool stopping;
  _Atomic uint64_t seq;              /* provisional file names */
  /* buffered inserts (memtable.c) */
  struct wal *wal;                   /* NULL until engine_wal_recover */
  pthread_mutex_t flush_lock;        /* flush_work; a leaf */
  pthread_cond_t flush_work;         /* flush threads: a memtable grew, or stop */
  pthread_t *flush_threads;
  uint32_t nflush_threads;
  atomic_bool flush_stopping;
  _Atomic uint64_t mem_bytes, mem_rows;        /* all memtables */
  _Atomic uint64_t flushes, flushed_rows, flush_failures;
};

struct engine_snapshot {
  _Atomic int refs;
  struct engine_table *t;
  struct def *d;
  struct engine_part **parts;
  uint32_t nparts;
  struct mem_chunk **chunks;         /* durable memtable chunks of the moment */
  uint32_t nchunks;
};

/* ---- engine.c ---- */
/* part_reader_read for engine parts: columns the part does not store are
 * computed from the rows read. A hidden sorting-key column (computed in new
 * parts, stored in old ones) from its expression; a table column the part
 * lacks (added by ALTER) from its default_expr, else the type's default.
 * The expressions' input columns are read as well but not returned. cols
 * names storage columns of d or any column the part stores. */
int  part_read_derived(const struct def *d, struct part_reader *r, const struct part_read_column *cols,
                       uint32_t ncols, const struct granule_range *ranges, uint32_t nranges, struct arena *a,
                       struct block **out, struct part_read_stats *stats, struct error *err);
/* Rows [start, start + count) of table column col of d from memtable chunk
 * c: the chunk's own column, or for a chunk buffered before ADD COLUMN the
 * column's default_expr over the chunk's rows (the type's default without
 * one), like part_read_derived. */
int  mem_chunk_column_derived(const struct def *d, const struct mem_chunk *c, uint32_t col, uint32_t start,
                              uint32_t count, struct arena *a, struct column **out, struct error *err);
void def_ref(struct def *d);
void def_unref(struct def *d);
int  def_compile(const struct table_def *in, struct def **out, struct error *err);
struct def *table_def_get(struct engine_table *t);         /* referenced, or NULL if detached */
void part_ref(struct engine_part *p);
void part_unref(struct engine_part *p);
/* A part object (refs = 1) for the file dir/cp->name, described by cp, with
 * its reader open. Never NULL: if the file is missing or unreadable the part
 * is marked broken (reader NULL, broken_code set) and err says why. */
struct engine_part *part_load(struct engine *e, int64_t table_id, const char *dir, const struct catalog_part *cp,
                              struct error *err);
void part_to_catalog(const struct engine_part *p, struct catalog_part *out);
/* "db.name" (copied under the lock). */
void table_label(struct engine_table *t, char *out, size_t size);
/* Inserts p into the active list by (partition_id, min_block); caller holds t->lock. */
void table_add_part_locked(struct engine_table *t, struct engine_part *p);
/* Removes p from the active list, marks it outdated and drops the list's reference. */
void table_remove_part_locked(struct engine_table *t, struct engine_part *p);
void engine_wake_merges(struct engine *e);
int  remove_tree(const char *path);
int64_t time_value(const struct column *c, uint32_t row);

/* ---- partition.c ---- */
/* Appends the partition id of row `row` of the partition key columns. */
void partition_id_append(const struct column *const *values, uint32_t count, uint32_t row, struct buf *out);
/* ClickHouse's sipHash128 (its get128 layout: low word, then high, little-endian). */
void sip_hash128(const void *data, size_t n, uint8_t out[16]);
void partition_text_append(const struct def *d, const struct column *const *values, uint32_t row, struct buf *out);

/* ---- insert.c ---- */
/* Stable sort of perm[0..n) by the key columns (nulls and NaN last). */
void sort_rows(const struct column *const *keys, uint32_t nkeys, uint32_t *perm, uint32_t n);
/* Evaluates index inputs for a storage-layout block (table columns first),
 * appends them after the storage columns. */
int  index_inputs(const struct def *d, struct block *b, struct arena *a, struct error *err);
int  eval_expr(const struct table_expr *x, const struct block *rows, struct arena *a, struct column **out,
               struct error *err);
/* The catalog description of a freshly written part. */
void catalog_part_fill(const struct def *d, const char *name, const char *partition_id, const char *partition_text,
                       uint64_t min_block, uint64_t max_block, uint32_t level, const struct part_info *info,
                       struct catalog_part *out);
struct part_writer_options writer_options(const struct engine *e, const struct def *d, const char *partition_id,
                                          const char *partition_text);
/* a followed by b (same layout), in arena; either may be NULL. */
struct block *block_concat(struct arena *arena, const struct block *a, const struct block *b);
void readable_size(uint64_t bytes, char *out, size_t size);

/* Rejects a block that does not have the table's columns and types. */
int  insert_check_block(const struct def *d, const struct block *in, const char *label, struct error *err);
/* Staged-insert commit for a memtable flush: the catalog transaction also
 * sets the table's log position, and published(ctx) runs under table->lock
 * in the same step that adds the parts (so readers see chunks or parts,
 * never both or neither). */
struct engine_insert;
/* engine_insert_add of count blocks taken as one, without concatenating them. */
int  insert_add_blocks(struct engine_insert *ins, const struct block *const *blocks, uint32_t count,
                       struct error *err);
int  insert_commit_flush(struct engine_insert *ins, uint64_t wal_position, void (*published)(void *ctx), void *ctx,
                         struct error *err);

/* ---- wal.c ---- */
struct wal;
struct wal_options {
  enum engine_wal_sync sync;
  uint32_t batch_ms;
  uint64_t segment_bytes;
};
struct wal_stats {
  uint64_t records, groups, bytes, fsyncs, fsync_ns_total, fsync_ns_max;
  uint64_t segments;
};
typedef int (*wal_record_fn)(void *ctx, uint64_t lsn, const uint8_t *payload, size_t len, struct error *err);
typedef void (*wal_locked_fn)(void *ctx, uint64_t lsn);
/* Lists the segments of dir (created if missing); appends fail until replay. */
int  wal_open(const char *dir, const struct wal_options *opt, struct wal **out, struct error *err);
/* Calls fn for every good record in LSN order, then starts a new segment
 * (at least min_next_lsn) and the writer thread. */
int  wal_replay(struct wal *w, uint64_t min_next_lsn, wal_record_fn fn, void *ctx, struct error *err);
/* The records of one segment's bytes (fuzzed); *last = last good lsn. */
int  wal_parse_segment(const uint8_t *p, size_t len, const char *label, uint64_t expect_first, wal_record_fn fn,
                       void *ctx, uint64_t *last, struct error *err);
/* Queues a record; locked(ctx, lsn) runs under the log's lock, so whatever
 * it registers is ordered as the LSNs are. Then wal_wait for durability. */
int  wal_append(struct wal *w, const struct buf *payload, wal_locked_fn locked, void *ctx, uint64_t *lsn,
                struct error *err);
int  wal_wait(struct wal *w, uint64_t lsn, struct error *err);
uint64_t wal_next_lsn(struct wal *w);
/* Deletes segments holding only records below lsn (never the current one). */
void wal_release_before(struct wal *w, uint64_t lsn);
void wal_get_stats(struct wal *w, struct wal_stats *out);
void wal_close(struct wal *w);     /* writes and syncs what is queued; NULL is fine */

/* ---- memtable.c ---- */
/* The items (table id, rows) of a log record's payload; replay and the
 * fuzzer read records through this. */
struct wal_items {
  const uint8_t *p, *end;
  uint32_t left;
  bool bad;
};
void wal_items_begin(struct wal_items *it, const uint8_t *payload, size_t len);
/* 1 and the next item (allocated in a), 0 at the end, -1 when it does not decode. */
int  wal_items_next(struct wal_items *it, struct arena *a, int64_t *table_id, struct block **rows);
void memtable_init_engine(struct engine *e);
/* Flushes every memtable, stops the flush threads, closes the log. */
void memtable_shutdown(struct engine *e);
void mem_chunk_ref(struct mem_chunk *c);
void mem_chunk_unref(struct mem_chunk *c);
/* Drops the table's memtable (TRUNCATE, DROP TABLE); the log position
 * moves past it so a restart does not bring the rows back. */
void memtable_discard(struct engine_table *t);
/* Frees the memtable's memory only (the table object is going away). */
void memtable_free(struct engine_table *t);
/* A chunk's column `name` as type t (defaults when the chunk predates an
 * ADD COLUMN), rows [start, start + count). */
struct column *mem_chunk_column(const struct mem_chunk *c, const char *name, const struct datatype *t,
                                uint32_t start, uint32_t count, struct arena *a);

/* ---- merge.c ---- */

/* One sorted input of a k-way merge: a part and the granule ranges to read. */
struct merge_input {
  struct engine_part *part;
  const struct granule_range *ranges;
  uint32_t range_count;
};

struct merger;
/* cols: what to read from every input (type set), through
 * part_read_derived with d (computed and missing columns filled); key:
 * positions in cols compared in order. Inputs in block order: on equal keys
 * the earlier input's rows come first. */
int  merger_open(const struct def *d, const struct merge_input *inputs, uint32_t count, const struct part_read_column *cols,
                 uint32_t ncols, const uint32_t *key, uint32_t nkeys, uint32_t block_rows,
                 const atomic_bool *cancel1, const atomic_bool *cancel2, struct merger **out, struct error *err);
/* Next sorted block (in a), NULL at the end. ABORTED when cancelled. */
int  merger_next(struct merger *m, struct arena *a, struct block **out, struct error *err);
void merger_progress(const struct merger *m, uint64_t *rows, uint64_t *bytes);
void merger_close(struct merger *m);

/* Replacing/Summing over sorted blocks; the last key group of a block is
 * held back until the next block shows whether it continues. */
struct collapser {
  enum table_kind kind;
  const uint32_t *key;               /* positions in the blocks */
  uint32_t nkeys;
  int32_t version;                   /* position, -1 = none */
  const bool *summed;                /* per position */
  uint32_t ncols;
  struct arena ar[2], scratch;
  int cur;
  struct block *pending;             /* 1 row in ar[cur], or NULL */
};
void collapser_init(struct collapser *c, enum table_kind kind, uint32_t ncols, const uint32_t *key, uint32_t nkeys,
                    int32_t version, const bool *summed);
void collapser_fini(struct collapser *c);
/* The finished groups of in (plus the held-back one), in a; may be 0 rows. */
struct block *collapser_push(struct collapser *c, const struct block *in, struct arena *a);
/* The held-back group, or NULL. */
struct block *collapser_finish(struct collapser *c, struct arena *a);
void merge_threads_start(struct engine *e);
void merge_threads_stop(struct engine *e);

#endif
