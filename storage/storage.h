/* storage/: everything that touches part files. It owns
 *  - the storage I/O layer (io_uring with a pread/pwrite fallback, chosen once),
 *  - codecs (NONE, LZ4, ZSTD, Delta, DoubleDelta, Gorilla, T64) and their chains,
 *  - the single-file part format (docs/part-format.md): writer, reader, marks,
 *    sparse primary index, partition min/max and skip indexes.
 * It knows nothing of SQL, OTLP or the catalog; it depends on base/ only. */
#ifndef SPANHOUSE_STORAGE_STORAGE_H
#define SPANHOUSE_STORAGE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/column.h"
#include "base/datatype.h"
#include "base/error.h"

/* ======================================================================
 * I/O layer. Every function returns >= 0 or a negative errno; short reads
 * and writes, EINTR and EAGAIN are resolved inside. Thread-safe: io_uring
 * uses one lazily created ring per thread. Fork-safe: a child makes fresh
 * rings instead of using the ones it inherited (writes an appender had in
 * flight at fork() stay the parent's: do not wait for them in the child).
 * ==================================================================== */

enum storage_io_backend { STORAGE_IO_AUTO, STORAGE_IO_URING, STORAGE_IO_SYNC };

/* Chooses the backend once (AUTO, or env SPANHOUSE_STORAGE_IO=io_uring|sync,
 * probes io_uring_queue_init; refusal → sync) and logs one line saying which
 * and why. Later calls return the first choice. Functions below call it with
 * AUTO if nobody did. Tests may call storage_io_force to switch. */
enum storage_io_backend storage_io_init(enum storage_io_backend want);
enum storage_io_backend storage_io_get_backend(void);
const char *storage_io_backend_name(enum storage_io_backend backend);
/* Tests only: switch backends (URING fails with -errno if refused). */
int storage_io_force(enum storage_io_backend backend);

/* One ranged read of a batch; the caller owns the array (nothing allocated). */
struct storage_io_read {
  int fd;
  void *buf;
  size_t len;
  uint64_t offset;
  int64_t res;                   /* out: bytes read (< len only at EOF) or -errno */
};

int64_t storage_io_pread(int fd, void *buf, size_t len, uint64_t offset);  /* bytes (< len at EOF) */
/* Submits all reads together; fills every res. Returns 0 or the first -errno. */
int storage_io_read_batch(struct storage_io_read *reads, size_t count);
int64_t storage_io_pwrite(int fd, const void *buf, size_t len, uint64_t offset); /* len or -errno */
int storage_io_fsync(int fd);
int storage_io_fdatasync(int fd);
int storage_io_fsync_dir(const char *dir_path);
/* rename(2) then fsync of the target's directory. */
int storage_io_rename_durable(const char *from, const char *to);

/* Sequential append-writer with two large buffers: with io_uring one buffer
 * is in the kernel while the other fills. Embed it; no other allocation. */
struct storage_appender {
  int fd;
  char *buf[2];
  size_t len;                    /* bytes in buf[cur] */
  size_t cap;                    /* bytes per buffer */
  int cur;
  uint64_t offset;               /* file offset of buf[cur][0] */
  bool pending;                  /* the other buffer is being written */
  void *op;                      /* backend state of the pending write */
};

/* Creates path (O_EXCL; -EEXIST if present). buffer_bytes 0 = 1 MiB. */
int storage_appender_open(struct storage_appender *w, const char *path, size_t buffer_bytes);
int storage_appender_write(struct storage_appender *w, const void *p, size_t n);
int storage_appender_flush(struct storage_appender *w);     /* everything written to the fd */
int storage_appender_sync(struct storage_appender *w);      /* flush + fsync */
int storage_appender_close(struct storage_appender *w);     /* flush + close (no fsync); safe twice */
static inline uint64_t storage_appender_size(const struct storage_appender *w) { return w->offset + w->len; }

struct storage_io_stats {
  uint64_t ops_queued;           /* ops handed to the backend */
  uint64_t ops_completed;        /* queued - completed = in flight */
  uint64_t bytes_read;
  uint64_t bytes_written;
  uint64_t fsyncs;
  uint64_t sq_full;              /* io_uring: SQ full, flushed and retried */
  uint64_t retries;              /* short transfers or EAGAIN resubmitted */
};
void storage_io_get_stats(struct storage_io_stats *out);

/* ======================================================================
 * Codecs. A chain is applied first to last on write (CODEC(Delta(8),
 * ZSTD(1)): delta, then zstd) and last to first on read. Kind values are
 * ClickHouse's method bytes; HEX and NARROW are internal stream encodings.
 * ==================================================================== */

enum codec_kind {
  CODEC_NONE = 0x02,
  CODEC_LZ4 = 0x82,
  CODEC_ZSTD = 0x90,
  CODEC_DELTA = 0x92,            /* param: value bytes 1/2/4/8 */
  CODEC_T64 = 0x93,              /* param: value bytes | CODEC_T64_SIGNED */
  CODEC_DOUBLE_DELTA = 0x94,     /* param: value bytes */
  CODEC_GORILLA = 0x95,          /* param: value bytes */
  CODEC_HEX = 0xA1,              /* internal: lowercase hex text packed to nibbles */
  CODEC_NARROW = 0xA2,           /* internal: u32 keys stored in param bytes (1/2/4) */
  CODEC_DEDUP = 0xA3,            /* internal: param-byte records stored once, then back-references */
};
enum { CODEC_CHAIN_MAX = 6, CODEC_T64_SIGNED = 0x10 };

struct codec_step {
  uint8_t kind;                  /* enum codec_kind */
  int16_t param;                 /* ZSTD level; widths; 0 = "from the column type" */
};

struct codec_chain {
  uint8_t count;                 /* 0 = use the default */
  struct codec_step steps[CODEC_CHAIN_MAX];
};

/* Parses "Delta(8), ZSTD(1)" (also with a CODEC( … ) wrapper). UNKNOWN_CODEC
 * for unknown names, BAD_ARGUMENTS for bad parameters. */
int codec_chain_parse_text(const char *text, struct codec_chain *out, struct error *err);
void codec_chain_format(const struct codec_chain *chain, struct buf *out);
struct codec_chain codec_chain_lz4(void);
struct codec_chain codec_chain_zstd(int level);
/* Fills width parameters left at 0 from the value type; drops numeric steps
 * that cannot apply to it (e.g. Delta on String). */
struct codec_chain codec_chain_for_values(const struct codec_chain *chain, const struct datatype *value_type);

/* Appends the encoded form of in[0..n) to out. Returns 0 or BAD_ARGUMENTS
 * (invalid chain, e.g. HEX over non-hex input). */
int codec_encode(const struct codec_chain *chain, const void *in, size_t n, struct buf *out, struct error *err);
/* Decodes exactly out_len bytes; CANNOT_DECOMPRESS on any inconsistency.
 * Never reads outside in[0..n) or writes outside out[0..out_len). */
int codec_decode(const struct codec_chain *chain, const void *in, size_t n, void *out, size_t out_len,
                 struct error *err);
bool codec_hex_applicable(const void *in, size_t n);    /* only [0-9a-f] */

/* ======================================================================
 * Parts. One immutable file: see docs/part-format.md.
 * ==================================================================== */

struct part_column_def {
  const char *name;
  const struct datatype *type;
  struct codec_chain codec;      /* count 0 = the writer's default chain */
  bool computed;                 /* not stored (format version 3): the writer takes its values for the primary
                                    index and min/max only; readers return defaults, the owner recomputes them */
};

enum skip_index_type { SKIP_INDEX_MINMAX, SKIP_INDEX_SET, SKIP_INDEX_BLOOM_FILTER, SKIP_INDEX_TOKENBF,
                       SKIP_INDEX_NGRAMBF };

struct skip_index_def {
  const char *name;
  const char *expression;        /* opaque text kept for inspection ("mapKeys(SpanAttributes)") */
  enum skip_index_type type;
  const struct datatype *input_type;  /* the column the engine evaluates and hands in */
  uint32_t granularity;          /* granules per entry (GRANULARITY n), >= 1 */
  double false_positive_rate;    /* bloom_filter (default 0.025) */
  uint32_t max_rows;             /* set (0 = unlimited) */
  uint32_t size_bytes;           /* tokenbf/ngrambf bloom bytes per entry */
  uint32_t hash_count;           /* tokenbf/ngrambf */
  uint32_t seed;                 /* tokenbf/ngrambf */
  uint32_t ngram_n;              /* ngrambf */
};

/* What a part holds. Arrays are borrowed by the writer for its lifetime. */
struct part_schema {
  uint32_t column_count;
  const struct part_column_def *columns;
  uint32_t key_count;            /* sparse primary index columns (indexes into columns) */
  const uint32_t *key_columns;
  uint32_t minmax_count;         /* columns whose part-wide min/max is kept (partition, time) */
  const uint32_t *minmax_columns;
  uint32_t index_count;
  const struct skip_index_def *indexes;
};

/* Whether a part stores Map(LowCardinality(K), String) values grouped by
 * key within each granule (docs/part-format.md §3, format version 2). */
enum part_map_grouping {
  PART_MAP_GROUPING_AUTO = 0,    /* per column, by trial compression of the part's first granule */
  PART_MAP_GROUPING_NEVER = 1,   /* row order, format version 1 */
  PART_MAP_GROUPING_ALWAYS = 2,
};

struct part_writer_options {
  uint32_t index_granularity;           /* rows per granule, 0 = 8192 */
  uint64_t index_granularity_bytes;     /* granule byte cap, 0 = 10 MiB */
  uint32_t min_block_bytes;             /* 0 = 1 MiB: a block closes at a granule start past this (>= 64 KiB advised) */
  uint32_t max_block_bytes;             /* 0 = 1 MiB: a block closes here even mid-granule */
  struct codec_chain default_codec;     /* count 0 = LZ4 (ClickHouse's default) */
  struct slice partition_value;         /* opaque bytes kept in the footer */
  const char *partition_id;             /* e.g. "tenant1-202401"; NULL = "all" */
  bool no_hex_pack;                     /* disable the hex-packed and deduplicated String encodings */
  uint8_t map_grouping;                 /* enum part_map_grouping: Map(LowCardinality(K), String) values */
  bool no_fsync;                        /* tests/benchmarks: skip fsyncs */
  bool plain_footer;                    /* debugging/fuzz seeds: footer not zstd-compressed */
};

struct part_column_stats {
  uint64_t compressed_bytes;     /* block headers + payloads of all its streams */
  uint64_t uncompressed_bytes;   /* raw stream bytes before codecs */
};

struct part_info {
  const char *path;              /* final path */
  uint64_t rows;
  uint32_t granules;
  uint64_t bytes_on_disk;        /* whole file */
  uint64_t compressed_bytes;     /* all column blocks */
  uint64_t uncompressed_bytes;
  uint64_t index_bytes;          /* skip-index blocks */
  uint32_t column_count;
  struct part_column_stats *columns;      /* parallel to the schema */
  uint32_t minmax_count;
  struct column **minmax;        /* per schema.minmax_columns: 2 rows, min then max (0 rows if empty) */
};

struct part_writer;

/* Creates dir/tmp_<part_name>. Returns 0 or an error (CANNOT_OPEN_FILE,
 * BAD_ARGUMENTS for an unusable schema). */
int part_writer_open(const char *dir, const char *part_name, const struct part_schema *schema,
                     const struct part_writer_options *options, struct part_writer **out, struct error *err);
/* Appends sorted rows: block->columns[0..column_count) match the schema by
 * position and type; then one input column per skip index, in schema order,
 * with the block's row count. Const columns are fine. On error the writer is
 * unusable: abort it. */
int part_writer_write_block(struct part_writer *w, const struct block *block, struct error *err);
/* Writes indexes and footer, fsyncs, renames tmp_<name> to <name>, fsyncs
 * the directory, fills out (allocated in a) and frees the writer, also on error. */
int part_writer_finish(struct part_writer *w, struct arena *a, struct part_info *out, struct error *err);
/* Removes the tmp file and frees the writer. */
void part_writer_abort(struct part_writer *w);

/* ---- reading ---- */

struct part_reader;
struct skip_index;

struct granule_range {
  uint32_t begin, end;           /* granules [begin, end) */
};

struct part_read_column {
  const char *name;
  const struct datatype *type;   /* NULL = the part's type; used for defaults when the part lacks it */
};

struct part_read_stats {
  uint64_t rows;                 /* rows returned */
  uint64_t bytes_read;           /* compressed bytes read from the file */
  uint64_t bytes_uncompressed;   /* decompressed bytes of the blocks used */
  uint64_t bytes_decoded;        /* of those, decompressed by this call (the rest came from the block cache) */
  uint32_t blocks_read;          /* blocks used */
  uint32_t blocks_cached;        /* of those, found in the block cache */
};

/* Threads: once open, a reader may be shared by any number of threads.
 * part_reader_read and part_reader_skip_index may run concurrently on one
 * reader (each call uses only its own arena and scratch; skip indexes load
 * once, under the reader's mutex); the accessors only read metadata.
 * part_reader_close must not race with other calls on the same reader.
 * An arena passed to a call belongs to that call's thread.
 *
 * File descriptors: a reader's fd sits in a process-wide cache; idle fds
 * (no read in progress) are closed least recently used first once more
 * than storage_part_fds_set_max are open, and reopened by path on the next
 * read (which fails if the file was replaced or removed meanwhile).
 *
 * Decoded blocks go to a process-wide LRU cache (storage_block_cache_*),
 * so reading a part a granule at a time decompresses each block once. */

/* Opens a part: reads the head magic and the tail, then the footer only.
 * Metadata lives in a; the fd is closed by part_reader_close or when a is
 * reset/destroyed. CORRUPTED_DATA (names the file and byte offset),
 * CANNOT_OPEN_FILE, FILE_DOESNT_EXIST. */
int part_reader_open(const char *path, struct arena *a, struct part_reader **out, struct error *err);
/* Closes the fd and drops the reader's cached blocks; later reads fail.
 * Safe twice; also runs when the reader's arena is reset or destroyed. */
void part_reader_close(struct part_reader *r);
/* Fuzzing only: do not verify checksums (to reach the decoders). */
void part_reader_set_verify_checksums(bool verify);

const char *part_reader_path(const struct part_reader *r);
const struct part_schema *part_reader_schema(const struct part_reader *r);
uint64_t part_reader_rows(const struct part_reader *r);
uint64_t part_reader_file_bytes(const struct part_reader *r);
uint32_t part_reader_granule_count(const struct part_reader *r);
uint32_t part_reader_granule_rows(const struct part_reader *r, uint32_t granule);
uint64_t part_reader_granule_first_row(const struct part_reader *r, uint32_t granule);
uint32_t part_reader_index_granularity(const struct part_reader *r);
int part_reader_column_index(const struct part_reader *r, const char *name);   /* -1 if absent */
const struct part_column_stats *part_reader_column_stats(const struct part_reader *r, uint32_t column);
/* Primary index: for key i, a column with one row per granule (its first row). */
const struct column *part_reader_primary_index(const struct part_reader *r, uint32_t key);
/* 2-row column (min, max) for a schema.minmax column; NULL if not kept. */
const struct column *part_reader_minmax(const struct part_reader *r, const char *column_name);
struct slice part_reader_partition_value(const struct part_reader *r);
const char *part_reader_partition_id(const struct part_reader *r);

/* Reads whole granules of the named columns into one block (rows of all
 * ranges concatenated in order) allocated in a. A column the part lacks,
 * or has as computed (part_column_def.computed), yields the type's default
 * values: computing it is the caller's job. Ranges must be sorted, non-overlapping
 * and within the part. stats may be NULL. */
int part_reader_read(struct part_reader *r, const struct part_read_column *columns, uint32_t column_count,
                     const struct granule_range *ranges, uint32_t range_count, struct arena *a,
                     struct block **out, struct part_read_stats *stats, struct error *err);

/* Loads skip index i (schema order) on first use; cached in the reader's
 * arena. Thread-safe: concurrent first calls load it once. */
int part_reader_skip_index(struct part_reader *r, uint32_t index, const struct skip_index **out,
                           struct error *err);

/* Checks a whole part file, for CHECK TABLE and crash tests: the footer,
 * every block's checksum and header against the footer, every block
 * decodes, every stream of every column decodes granule by granule and
 * ends exactly at the next mark, dictionaries are consumed exactly, every
 * skip index parses, and the primary index and min/max agree with the
 * data. Returns 0 or the first problem (CORRUPTED_DATA, CANNOT_DECOMPRESS,
 * or an open/read error), naming the file and the byte offset. Reads the
 * file, never the block cache; memory stays bounded by a few granules. */
int part_verify(const char *path, struct error *err);

/* ---- process-wide caches of the part readers ---- */

/* Part fds kept open at most (idle ones beyond are closed LRU-first and
 * reopened on demand). 0 = the default: 1024, or half of RLIMIT_NOFILE if
 * that is lower (at least 16). Applies at once. */
void storage_part_fds_set_max(uint32_t max);
struct storage_part_fd_stats {
  uint32_t open;                 /* part fds open now */
  uint32_t max;                  /* the limit (soft: exceeded only while every open fd is busy) */
  uint64_t opens;                /* opens and reopens so far */
  uint64_t evictions;            /* idle fds closed to stay under the limit */
};
void storage_part_fds_get_stats(struct storage_part_fd_stats *out);

/* Bytes of decoded blocks kept for reuse; 0 disables the cache. Default
 * 256 MiB. Blocks larger than an eighth of it are never kept. */
void storage_block_cache_set_max_bytes(uint64_t bytes);
struct storage_block_cache_stats {
  uint64_t bytes, max_bytes, entries;
  uint64_t hits, misses, evictions;
};
void storage_block_cache_get_stats(struct storage_block_cache_stats *out);

/* ---- skip index queries. Entry g covers granules [g*granularity, (g+1)*granularity). ---- */
const struct skip_index_def *skip_index_def(const struct skip_index *ix);
uint32_t skip_index_entry_count(const struct skip_index *ix);
/* Value bytes as the index hashes them: fixed-width values little-endian in
 * the input type's width, strings as their bytes (LowCardinality and
 * Nullable unwrapped). Returns false for NULL. */
bool skip_index_value_bytes(const struct column *c, uint32_t row, struct slice *out);
/* bloom_filter, set, tokenbf (all tokens of value), ngrambf (all n-grams),
 * minmax (min <= v <= max for the input's type): false = certainly absent. */
bool skip_index_may_contain_equal(const struct skip_index *ix, uint32_t entry, const void *value, size_t len);
bool skip_index_may_contain_token(const struct skip_index *ix, uint32_t entry, const void *token, size_t len);
/* LIKE '%needle%': ngrambf by n-grams, tokenbf by the tokens inside the needle. */
bool skip_index_may_contain_substring(const struct skip_index *ix, uint32_t entry, const void *needle, size_t len);
/* minmax: the entry's [min, max] as a 2-row column view; false if the entry has no non-NULL value. */
bool skip_index_minmax(const struct skip_index *ix, uint32_t entry, const struct column **minmax);
/* Whether [min, max] (rows 0/1 of a 2-row column) overlaps the range lo..hi; NULL bound = open. */
bool minmax_range_overlaps(const struct column *minmax, const struct column *lo, uint32_t lo_row, bool lo_inclusive,
                           const struct column *hi, uint32_t hi_row, bool hi_inclusive);

/* Token and n-gram splitting as the indexes use them (callbacks per piece). */
void skip_index_tokens(const char *s, size_t n, void (*fn)(void *ctx, const char *p, size_t len), void *ctx);

/* ---- columns as bytes: the part format's stream encoding without codecs,
 * self-delimiting (the engine's write-ahead log stores rows this way) ---- */
void storage_column_encode(const struct column *c, struct buf *out);
/* Decodes a column of type t with `rows` rows from the front of *in and
 * advances *in past it. -1 when the bytes are not such an encoding (every
 * count and offset is checked). */
int  storage_column_decode(struct slice *in, const struct datatype *t, uint32_t rows, struct arena *a,
                           struct column **out);

#endif
