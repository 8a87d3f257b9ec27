/* Private declarations shared by the storage .c files: the I/O backend interface,
 * varints, bounded readers, block framing and the stream model of the part
 * format (docs/part-format.md). Not for other modules. */
#ifndef SPANHOUSE_STORAGE_STORAGE_INT_H
#define SPANHOUSE_STORAGE_STORAGE_INT_H

#include <stdatomic.h>
#include <string.h>

#include "storage/storage.h"

/* ---- I/O backends (io_uring.c, io_sync.c) ---- */

/* Where a backend records one completion (io_uring user_data points here). */
struct storage_io_completion {
  int64_t res;
  bool done;
};

/* A write the appender started and waits for later. */
struct storage_io_write_op {
  int fd;
  const char *buf;
  size_t len;
  uint64_t offset;
  struct storage_io_completion c;
};

struct storage_io_ops {
  const char *name;
  int (*read_batch)(struct storage_io_read *reads, size_t count);
  int64_t (*pwrite_all)(int fd, const void *buf, size_t len, uint64_t offset);
  int (*fsync)(int fd, bool datasync);
  void (*write_start)(struct storage_io_write_op *op);   /* may complete at once */
  int64_t (*write_wait)(struct storage_io_write_op *op); /* len or -errno */
};

extern const struct storage_io_ops storage_io_uring_ops;
extern const struct storage_io_ops storage_io_sync_ops;
int storage_io_uring_probe(void);      /* 0 or -errno from io_uring_queue_init */

struct storage_io_counters {
  _Atomic uint64_t ops_queued, ops_completed, bytes_read, bytes_written, fsyncs, sq_full, retries;
};
extern struct storage_io_counters storage_io_counters;
#define IO_COUNT(field, n) atomic_fetch_add_explicit(&storage_io_counters.field, (n), memory_order_relaxed)

/* Plain syscalls shared by both backends (io_sync.c). */
int64_t storage_io_sync_pread_all(int fd, void *buf, size_t len, uint64_t offset);
int64_t storage_io_sync_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset);

/* ---- little-endian and varints ---- */

/* memcpy compiles to one unaligned load/store; big-endian hosts swap. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define STORAGE_LE16(v) __builtin_bswap16(v)
#define STORAGE_LE32(v) __builtin_bswap32(v)
#define STORAGE_LE64(v) __builtin_bswap64(v)
#else
#define STORAGE_LE16(v) (v)
#define STORAGE_LE32(v) (v)
#define STORAGE_LE64(v) (v)
#endif
static inline void put_u32le(uint8_t *p, uint32_t v) { v = STORAGE_LE32(v); memcpy(p, &v, 4); }
static inline void put_u64le(uint8_t *p, uint64_t v) { v = STORAGE_LE64(v); memcpy(p, &v, 8); }
static inline uint16_t get_u16le(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return STORAGE_LE16(v); }
static inline uint32_t get_u32le(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return STORAGE_LE32(v); }
static inline uint64_t get_u64le(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return STORAGE_LE64(v); }

/* Appends an unsigned LEB128. Returns bytes written (<= 10). */
size_t varint_put(uint8_t *p, uint64_t v);
void buf_put_varint(struct buf *b, uint64_t v);
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_u64le(struct buf *b, uint64_t v);
void buf_put_bytes(struct buf *b, const void *p, size_t n);   /* varint length + bytes */
/* Reads a varint from p[0..end); returns bytes used or 0 if malformed/truncated. */
size_t varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v);

/* A bounded cursor over untrusted bytes: every get fails (sets bad) instead
 * of reading past end. */
struct rd {
  const uint8_t *p, *end;
  bool bad;
};
static inline struct rd rd_make(const void *p, size_t n) { return (struct rd){ p, (const uint8_t *)p + n, false }; }
uint64_t rd_varint(struct rd *r);
uint64_t rd_varint_max(struct rd *r, uint64_t max);   /* bad if > max */
uint8_t rd_u8(struct rd *r);
uint64_t rd_u64le(struct rd *r);
const uint8_t *rd_take(struct rd *r, size_t n);       /* NULL (and bad) if fewer remain */
struct slice rd_bytes(struct rd *r);                  /* varint length + bytes */
static inline size_t rd_left(const struct rd *r) { return (size_t)(r->end - r->p); }

/* ---- codecs ---- */

/* Each step: encoded = varint(decoded length) + payload. */
int codec_step_encode(const struct codec_step *s, const uint8_t *in, size_t n, struct buf *out);
/* -1 on corrupt input. out has exactly out_len bytes. */
int codec_step_decode(const struct codec_step *s, const uint8_t *in, size_t n, uint8_t *out, size_t out_len);
bool codec_step_valid(const struct codec_step *s);
/* Numeric transforms (codec_numeric.c): raw payload without length prefix. */
void delta_encode(int width, const uint8_t *in, size_t n, struct buf *out);
int delta_decode(int width, const uint8_t *in, size_t n, uint8_t *out, size_t out_len);
void double_delta_encode(int width, const uint8_t *in, size_t n, struct buf *out);
int double_delta_decode(int width, const uint8_t *in, size_t n, uint8_t *out, size_t out_len);
void gorilla_encode(int width, const uint8_t *in, size_t n, struct buf *out);
int gorilla_decode(int width, const uint8_t *in, size_t n, uint8_t *out, size_t out_len);
void t64_encode(int param, const uint8_t *in, size_t n, struct buf *out);
int t64_decode(int param, const uint8_t *in, size_t n, uint8_t *out, size_t out_len);

void dedup_encode(int width, const uint8_t *in, size_t n, struct buf *out);
int dedup_decode(int width, const uint8_t *in, size_t n, uint8_t *out, size_t out_len);
/* Distinct width-byte records in p[0..n), giving up (returning count) past max_distinct. */
size_t dedup_count_distinct(int width, const uint8_t *p, size_t n, size_t max_distinct);

/* ---- compressed blocks (codec.c) ----
 * u64 checksum | u8 step count | (u8 kind, u8 param)* | u32 stored | u32 raw | payload
 * checksum = XXH3-64 of everything after it. */
enum { BLOCK_HEADER_FIXED = 8 + 1 + 4 + 4, BLOCK_RAW_BYTES_MAX = 64u << 20 };
static inline size_t block_header_bytes(unsigned steps) { return BLOCK_HEADER_FIXED + 2 * (size_t)steps; }
/* Appends a framed block; returns its checksum. */
uint64_t block_encode(const struct codec_chain *chain, const void *raw, size_t raw_len, struct buf *out);
struct block_header {
  uint64_t checksum;
  struct codec_chain chain;
  uint32_t stored;
  uint32_t raw;
  size_t header_bytes;
};
/* Parses and checks a framed block of exactly n bytes (header + payload).
 * Returns 0 or -1 with *why set to a static reason. */
int block_parse(const uint8_t *p, size_t n, bool verify, struct block_header *h, const char **why);

/* ---- streams ---- */

enum stream_kind {
  STREAM_VALUES = 1,     /* fixed-width values */
  STREAM_LENGTHS = 2,    /* String: varint byte length per row */
  STREAM_CHARS = 3,      /* String: bytes */
  STREAM_NULLMAP = 4,    /* Nullable: u8 per row */
  STREAM_SIZES = 5,      /* Array/Map: varint element count per row */
  STREAM_LC_KEYS = 6,    /* LowCardinality: u32 keys (NARROW on disk) */
};

#endif

/* ---- stream layout of a column type (part_common.c) ----
 * Streams are enumerated depth-first:
 *   fixed-width → VALUES;  String → LENGTHS, CHARS;  Nullable(T) → NULLMAP, T;
 *   Array(T) → SIZES, T;  Map(K, V) → SIZES, K, V;  Tuple/Nested → children;
 *   LowCardinality(T) → LC_KEYS, then T's streams marked whole (the per-part
 *   dictionary, written at the end, read entirely);  Nothing → none. */
struct stream_desc {
  uint8_t kind;                  /* enum stream_kind */
  bool whole;                    /* dictionary stream: no marks */
  bool groupable;                /* LENGTHS/CHARS of the values of a Map(LowCardinality(K), String) */
  const struct datatype *value_type;   /* VALUES: the scalar type; CHARS: String/FixedString */
};

struct lc_desc {
  const struct datatype *dict_type;
  uint32_t keys_stream;          /* index of its LC_KEYS stream */
  uint32_t dict_first_stream;    /* first whole stream of its dictionary */
  uint32_t dict_stream_count;
};

struct col_layout {
  uint32_t stream_count;
  struct stream_desc *streams;
  uint32_t lc_count;
  struct lc_desc *lcs;
};

/* Returns 0, or -1 for a type that cannot be stored (Interval, nested LC, too deep). */
int col_layout_build(struct arena *a, const struct datatype *t, struct col_layout *out);

/* A per-part (or per-serialization) LowCardinality dictionary: key 0 is
 * the default value; each value once. */
struct lc_dict {
  struct column *values;
  uint32_t *slots;               /* key + 1; 0 = empty */
  uint32_t slot_count;
  uint32_t *remap;               /* per input block: src dictionary key → key + 1 */
  uint32_t remap_cap;
  const struct column *remap_src;
};

/* A grouped map's values of the open granule, in row order, until
 * col_encoder_end_granule writes them grouped by key. */
struct group_pending {
  struct buf keys;               /* u32 dictionary key per element */
  struct buf lens;               /* u64 byte length per element */
  struct buf chars;
  struct buf scratch;            /* end_granule's pos, order and offsets, kept across granules */
  uint32_t lc;                   /* the key's LC node */
  bool decided;                  /* the part's first values chose grouped or row order */
};

/* Encoding rows into the raw bytes of each stream. */
struct col_encoder {
  struct col_layout layout;
  struct buf *raw;               /* per stream: bytes not yet framed */
  uint32_t *uniform_len;         /* per CHARS stream: 0 none yet, L every non-empty value, UINT32_MAX mixed */
  struct lc_dict *dicts;         /* per LC node */
  bool *grouped;                 /* per stream: map values grouped by key (both value streams set);
                                    cleared when the first granule's trial picks row order */
  struct group_pending *groups;  /* per stream: pending values, at a grouped LENGTHS stream */
};

/* grouped: per stream (NULL = none); only groupable streams may be set. */
void col_encoder_init(struct col_encoder *e, struct arena *a, const struct col_layout *layout, const bool *grouped);
/* Ends a granule: writes grouped map values held back since the last call. */
void col_encoder_end_granule(struct col_encoder *e);
void col_encoder_free(struct col_encoder *e);
/* Appends rows [start, start+count) of c (type equal to the layout's, or the
 * plain dictionary type where the layout has LowCardinality). */
void col_encoder_add(struct col_encoder *e, const struct datatype *t, const struct column *c, uint32_t start,
                     uint32_t count);
/* Encodes dictionary lc's values into its whole streams' raw buffers. */
void col_encoder_add_dict(struct col_encoder *e, const struct datatype *t, uint32_t lc);

/* Reading a stream's decompressed bytes, possibly spread over several blocks. */
struct stream_src {
  const uint8_t *p, *end;        /* current piece */
  uint64_t rest_raw;             /* raw bytes in pieces after this one */
  int (*next)(struct stream_src *s);  /* loads the next piece; -1 if none */
  void *ctx;
  const uint32_t *blocks;        /* block-backed: global ordinals */
  uint32_t block_count;
  uint32_t next_block;
  bool bad;
};

struct col_decoder {
  struct col_layout layout;
  struct stream_src *src;        /* per stream, positioned by the caller */
  struct column **dicts;         /* per LC node; decoded on first use from its whole streams */
  const uint64_t *dict_rows;     /* per LC node: rows in its dictionary */
  const char *why;               /* reason of the first failure */
  const bool *grouped;           /* per stream, NULL = none: grouped map values (one granule per read call) */
};

/* A src over one contiguous buffer. */
void stream_src_init_mem(struct stream_src *s, const void *p, size_t n);

/* Appends count rows decoded from the streams to c. -1 on corrupt data (why set). */
int col_decoder_read(struct col_decoder *d, const struct datatype *t, struct column *c, uint64_t count,
                     struct arena *a);
/* Decodes every dictionary not decoded yet (from its whole streams). -1 on corrupt data. */
int col_decoder_load_dicts(struct col_decoder *d, struct arena *a);

/* Small columns inside the footer (primary index, min/max): all streams as
 * varint length + bytes, dictionaries included. */
void colser_write(struct buf *out, const struct column *c);
/* Reads a column of type t with rows rows. NULL on corrupt data. */
struct column *colser_read(struct rd *r, const struct datatype *t, uint32_t rows, struct arena *a);

/* ---- skip index building (skip_index.c) ---- */
struct skip_builder;
struct skip_builder *skip_builder_create(const struct skip_index_def *def);
void skip_builder_add(struct skip_builder *b, const struct column *input, uint32_t start, uint32_t count);
void skip_builder_close_entry(struct skip_builder *b);
/* Rows [start, start+count) of c: the first rows holding the least and the
 * greatest non-NULL value, as column_compare_rows orders them (integer and
 * DateTime64 columns by a fast path); false when every row is NULL. */
bool column_extremes(const struct column *c, uint32_t start, uint32_t count, int64_t *lo, int64_t *hi);
uint32_t skip_builder_entries(const struct skip_builder *b);
/* The serialized entries (raw bytes, framed into blocks by the writer). */
struct buf *skip_builder_data(struct skip_builder *b);
void skip_builder_destroy(struct skip_builder *b);
/* Parses loaded index bytes. NULL on corrupt data. */
struct skip_index *skip_index_parse(const struct skip_index_def *def, uint32_t entries, const uint8_t *p, size_t n,
                                    struct arena *a);
bool skip_index_type_valid(const struct skip_index_def *def);

/* ---- part file descriptors (fd_cache.c) ----
 * A reader's fd lives in a slot; reads acquire it (reopening by path if the
 * cache closed it) and release it; idle fds are closed LRU-first past the
 * process-wide limit (storage_part_fds_set_max). */
struct fd_slot {
  const char *path;
  int fd;                        /* -1 = not open */
  uint32_t users;                /* acquired and not yet released */
  bool closed;                   /* fd_slot_close was called: no more opens */
  bool idle;                     /* on the idle list */
  bool identified;               /* dev/ino/size known (first open) */
  uint64_t dev, ino, size;
  struct fd_slot *prev, *next;   /* idle list */
};
void fd_slot_init(struct fd_slot *s, const char *path);
/* The fd, or -1 with err set (FILE_DOESNT_EXIST, CANNOT_OPEN_FILE, or
 * CANNOT_READ_FROM_FILE_DESCRIPTOR once closed). Pair with fd_slot_release. */
int fd_slot_acquire(struct fd_slot *s, struct error *err);
void fd_slot_release(struct fd_slot *s);
/* Closes the fd (or lets its last user close it); later acquires fail. */
void fd_slot_close(struct fd_slot *s);

/* ---- decoded block cache (block_cache.c) ----
 * Decoded blocks by (owner, block ordinal), refcounted, LRU under the byte
 * budget of storage_block_cache_set_max_bytes. An owner is a part reader. */
struct bcache_entry;
struct bcache_owner {
  uint64_t id;                   /* unique for the process's life */
  struct bcache_entry *head;     /* its entries in the table (cache mutex) */
};
void bcache_owner_init(struct bcache_owner *o);
void bcache_owner_drop(struct bcache_owner *o);            /* forgets all of the owner's blocks */
struct bcache_entry *bcache_get(struct bcache_owner *o, uint32_t block);   /* referenced, or NULL */
struct bcache_entry *bcache_alloc(uint32_t len);            /* private, 1 reference, len bytes to fill */
/* Publishes a filled entry; returns the entry to use (the caller's, or an
 * equal one already cached, in which case e is freed). Still referenced. */
struct bcache_entry *bcache_put(struct bcache_owner *o, uint32_t block, struct bcache_entry *e);
void bcache_unref(struct bcache_entry *e);
uint8_t *bcache_data(struct bcache_entry *e);

/* ---- part file framing (docs/part-format.md) ---- */
#define PART_HEAD_MAGIC "SHPART01"
#define PART_TAIL_MAGIC "SHPEND01"
enum {
  PART_MAGIC_BYTES = 8,
  PART_TAIL_BYTES = 8 + 8 + 8,            /* footer length, footer checksum, magic */
  PART_FOOTER_VERSION = 1,
  PART_FOOTER_PLAIN = 0,
  PART_FOOTER_ZSTD = 1,
  PART_FOOTER_VERSION_GROUPED = 2,        /* written when some map's values are grouped by key */
  PART_FOOTER_VERSION_COLUMN_FLAGS = 3,   /* written when some column is computed: a flags byte per column */
  PART_COLUMN_COMPUTED = 1,               /* column flag (version 3): not stored, no stats or streams follow */
  PART_STREAM_WHOLE = 1,                  /* stream flag: dictionary, no marks */
  PART_STREAM_GROUPED = 2,                /* stream flag (version 2): map values grouped by key per granule */
  PART_COLUMNS_MAX = 100000,
  PART_SKIP_INDEXES_MAX = 10000,
  PART_GRANULES_MAX = 1u << 26,
};
