/* The part reader: opens a part from its tail and footer only, then reads
 * just the blocks that the requested columns and granules need, in one
 * batch of ranged reads, verifying every block's checksum, and decodes
 * blocks as the column decoder reaches them (through the block cache).
 * Also part_verify, the full check of a part file.
 *
 * Invariants:
 *  1. Nothing read from the file is trusted: every count, offset and size
 *     is checked against the file, the footer or the stream before use;
 *     failures are CORRUPTED_DATA / CANNOT_DECOMPRESS naming the file and
 *     the byte offset.
 *  2. Blocks are contiguous from byte 8 to the footer; block i starts at
 *     8 + the stored sizes of blocks < i.
 *  3. After open, the reader's metadata is immutable, so reads may run on
 *     many threads at once: per-call state lives in the call (struct rctx)
 *     and its arena; the fd is shared through the fd cache (fd_cache.c);
 *     skip indexes load once under index_lock and are published with a
 *     release store.
 *  4. A decoded block is referenced by the call while its column is being
 *     decoded (or, for cache hits, until the call ends), never longer. */
#include "storage/storage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "base/alloc.h"

struct rstream {
  uint8_t kind, flags;
  uint64_t raw_bytes;
  uint32_t block_count;
  uint32_t *blocks;              /* global ordinals, increasing */
  uint32_t *mark_block, *mark_off;
};

struct rcol {
  struct col_layout layout;
  struct rstream *streams;
  uint64_t *dict_rows;
  bool *grouped;                 /* per stream, NULL = no grouped map values (then read granule by granule) */
  struct part_column_stats stats;
};

struct rindex {
  uint32_t entries, first_block, block_count;
  uint64_t raw_bytes;
  const struct skip_index *_Atomic loaded;   /* set once, under index_lock */
};

struct part_reader {
  struct arena *a;
  const char *path;
  struct fd_slot fds;
  struct bcache_owner cache;
  pthread_mutex_t index_lock;    /* skip-index loading (allocates in a) */
  uint64_t file_size, footer_offset;
  uint64_t rows;
  uint32_t granularity;
  uint64_t granularity_bytes;
  const char *partition_id;
  struct slice partition_value;
  uint32_t granule_count;
  uint32_t *granule_rows;
  uint64_t *granule_first;
  uint32_t block_count;
  uint64_t *block_off;
  uint32_t *block_len, *block_raw;
  uint64_t *block_sum;
  struct part_schema schema;
  struct part_column_def *defs;
  uint32_t *key_cols, *mm_cols;
  struct skip_index_def *idx_defs;
  struct rcol *cols;
  struct column **pk, **mm;
  struct rindex *indexes;
};

static bool verify_checksums = true;
void part_reader_set_verify_checksums(bool verify) { verify_checksums = verify; }

static int corrupt(struct error *err, const char *path, uint64_t off, const char *why)
{
  return error_set(err, ERR_CORRUPTED_DATA, "part %s is corrupted at byte offset %llu: %s", path,
                   (unsigned long long)off, why);
}

static void reader_cleanup(void *p)
{
  struct part_reader *r = p;
  part_reader_close(r);
  pthread_mutex_destroy(&r->index_lock);
}

void part_reader_close(struct part_reader *r)
{
  if (!r)
    return;
  fd_slot_close(&r->fds);
  bcache_owner_drop(&r->cache);
}

/* ---- footer ---- */

static const struct datatype *rd_type(struct rd *f, struct arena *a)
{
  struct slice s = rd_bytes(f);
  if (f->bad || !s.len)
    return NULL;
  const struct datatype *t;
  struct error e;
  if (datatype_parse(a, s.ptr, s.len, &t, &e) != 0)
    return NULL;
  return t;
}

static const char *rd_str(struct rd *f, struct arena *a)
{
  struct slice s = rd_bytes(f);
  return f->bad ? "" : arena_strndup(a, s.ptr, s.len);
}

static bool rd_chain(struct rd *f, struct codec_chain *c)
{
  memset(c, 0, sizeof *c);
  c->count = rd_u8(f);
  if (c->count > CODEC_CHAIN_MAX)
    return false;
  for (unsigned i = 0; i < c->count; i++) {
    c->steps[i].kind = rd_u8(f);
    uint8_t p = rd_u8(f);
    c->steps[i].param = (int16_t)(c->steps[i].kind == CODEC_ZSTD ? (int8_t)p : p);
  }
  return !f->bad;
}

static int parse_footer(struct part_reader *r, const uint8_t *p, size_t n, struct error *err)
{
  struct arena *a = r->a;
  struct rd f = rd_make(p, n);
  const char *why = "malformed footer";
  uint8_t version = rd_u8(&f);
  if (version < PART_FOOTER_VERSION || version > PART_FOOTER_VERSION_COLUMN_FLAGS) {
    why = "unsupported footer version";
    goto bad;
  }
  r->rows = rd_varint_max(&f, (uint64_t)1 << 40);
  r->granularity = (uint32_t)rd_varint_max(&f, UINT32_MAX);
  r->granularity_bytes = rd_varint(&f);
  r->partition_id = rd_str(&f, a);
  struct slice pv = rd_bytes(&f);
  r->partition_value = slice_make(arena_strndup(a, pv.ptr, pv.len), pv.len);
  r->granule_count = (uint32_t)rd_varint_max(&f, rd_left(&f) < PART_GRANULES_MAX ? rd_left(&f) : PART_GRANULES_MAX);
  if (f.bad)
    goto bad;
  r->granule_rows = arena_new_array(a, uint32_t, r->granule_count + 1);
  r->granule_first = arena_new_array(a, uint64_t, r->granule_count + 1);
  uint64_t total = 0;
  for (uint32_t g = 0; g < r->granule_count; g++) {
    r->granule_first[g] = total;
    r->granule_rows[g] = (uint32_t)rd_varint_max(&f, UINT32_MAX);
    if (!r->granule_rows[g]) {
      why = "empty granule";
      goto bad;
    }
    total += r->granule_rows[g];
  }
  r->granule_first[r->granule_count] = total;
  if (f.bad || total != r->rows) {
    why = "granule rows do not add up to the row count";
    goto bad;
  }
  /* block table */
  r->block_count = (uint32_t)rd_varint_max(&f, rd_left(&f) / 10);
  if (f.bad)
    goto bad;
  r->block_off = arena_new_array(a, uint64_t, r->block_count + 1);
  r->block_len = arena_new_array(a, uint32_t, r->block_count + 1);
  r->block_raw = arena_new_array(a, uint32_t, r->block_count + 1);
  r->block_sum = arena_new_array(a, uint64_t, r->block_count + 1);
  uint64_t off = PART_MAGIC_BYTES;
  for (uint32_t i = 0; i < r->block_count; i++) {
    r->block_off[i] = off;
    r->block_len[i] = (uint32_t)rd_varint_max(&f, UINT32_MAX);
    r->block_raw[i] = (uint32_t)rd_varint_max(&f, BLOCK_RAW_BYTES_MAX);
    r->block_sum[i] = rd_u64le(&f);
    if (r->block_len[i] < BLOCK_HEADER_FIXED)
      f.bad = true;
    off += r->block_len[i];
  }
  if (f.bad)
    goto bad;
  if (off != r->footer_offset) {
    why = "block table does not end at the footer";
    goto bad;
  }
  /* columns */
  uint32_t nc = (uint32_t)rd_varint_max(&f, PART_COLUMNS_MAX);
  if (f.bad)
    goto bad;
  r->schema.column_count = nc;
  r->defs = arena_new_array(a, struct part_column_def, nc + 1);
  r->cols = arena_new_array(a, struct rcol, nc + 1);
  r->schema.columns = r->defs;
  for (uint32_t i = 0; i < nc; i++) {
    struct part_column_def *d = &r->defs[i];
    struct rcol *c = &r->cols[i];
    d->name = rd_str(&f, a);
    d->type = rd_type(&f, a);
    if (!d->type || !rd_chain(&f, &d->codec) || col_layout_build(a, d->type, &c->layout) != 0) {
      why = "bad column definition";
      goto bad;
    }
    if (version >= PART_FOOTER_VERSION_COLUMN_FLAGS) {
      uint8_t flags = rd_u8(&f);
      if (f.bad || (flags & ~PART_COLUMN_COMPUTED)) {
        why = "bad column flags";
        goto bad;
      }
      d->computed = flags & PART_COLUMN_COMPUTED;
    }
    if (d->computed) {
      /* nothing stored: no streams to read, plan or verify */
      c->layout.stream_count = 0;
      c->layout.lc_count = 0;
      continue;
    }
    c->stats.compressed_bytes = rd_varint(&f);
    c->stats.uncompressed_bytes = rd_varint(&f);
    uint64_t lcs = rd_varint(&f);
    if (f.bad || lcs != c->layout.lc_count) {
      why = "bad dictionary count";
      goto bad;
    }
    c->dict_rows = arena_new_array(a, uint64_t, c->layout.lc_count + 1);
    for (uint32_t k = 0; k < c->layout.lc_count; k++)
      c->dict_rows[k] = rd_varint(&f);
    uint64_t ns = rd_varint(&f);
    if (f.bad || ns != c->layout.stream_count) {
      why = "stream count does not match the column type";
      goto bad;
    }
    c->streams = arena_new_array(a, struct rstream, ns + 1);
    for (uint32_t s = 0; s < ns; s++) {
      struct rstream *st = &c->streams[s];
      st->kind = rd_u8(&f);
      st->flags = rd_u8(&f);
      st->raw_bytes = rd_varint(&f);
      const struct stream_desc *sd = &c->layout.streams[s];
      if (st->kind != sd->kind || (st->flags & PART_STREAM_WHOLE) != (sd->whole ? PART_STREAM_WHOLE : 0)) {
        why = "stream kind does not match the column type";
        goto bad;
      }
      if (st->flags & ~(PART_STREAM_WHOLE | PART_STREAM_GROUPED) ||
          ((st->flags & PART_STREAM_GROUPED) && (version < PART_FOOTER_VERSION_GROUPED || !sd->groupable))) {
        why = "bad stream flags";
        goto bad;
      }
      if (st->flags & PART_STREAM_GROUPED) {
        if (!c->grouped)
          c->grouped = arena_new_array(a, bool, ns + 1);
        c->grouped[s] = true;
      }
      /* a grouped map has both value streams grouped (LENGTHS comes first) */
      if (sd->groupable && sd->kind == STREAM_CHARS && !(st->flags & PART_STREAM_GROUPED) != !(c->grouped && c->grouped[s - 1])) {
        why = "bad stream flags";
        goto bad;
      }
      st->block_count = (uint32_t)rd_varint_max(&f, r->block_count);
      if (f.bad)
        goto bad;
      st->blocks = arena_new_array(a, uint32_t, st->block_count + 1);
      uint64_t prev = 0, raw = 0;
      for (uint32_t k = 0; k < st->block_count; k++) {
        uint64_t v = rd_varint(&f);
        uint64_t b = k ? prev + v : v;
        if ((k && v == 0) || b >= r->block_count) {
          why = "stream block out of range";
          goto bad;
        }
        st->blocks[k] = (uint32_t)b;
        raw += r->block_raw[b];
        prev = b;
      }
      if (f.bad || raw != st->raw_bytes) {
        why = "stream size disagrees with its blocks";
        goto bad;
      }
      if (st->flags & PART_STREAM_WHOLE)
        continue;
      st->mark_block = arena_new_array(a, uint32_t, r->granule_count + 1);
      st->mark_off = arena_new_array(a, uint32_t, r->granule_count + 1);
      prev = 0;
      for (uint32_t g = 0; g < r->granule_count; g++) {
        uint64_t b = prev + rd_varint_max(&f, st->block_count);
        uint64_t o = rd_varint_max(&f, BLOCK_RAW_BYTES_MAX);
        if (f.bad || b > st->block_count || (b == st->block_count ? o != 0 : o > r->block_raw[st->blocks[b]])) {
          why = "mark out of range";
          goto bad;
        }
        st->mark_block[g] = (uint32_t)b;
        st->mark_off[g] = (uint32_t)o;
        prev = b;
      }
    }
  }
  /* primary index */
  r->schema.key_count = (uint32_t)rd_varint_max(&f, nc);
  if (f.bad)
    goto bad;
  r->key_cols = arena_new_array(a, uint32_t, r->schema.key_count + 1);
  r->pk = arena_new_array(a, struct column *, r->schema.key_count + 1);
  r->schema.key_columns = r->key_cols;
  for (uint32_t k = 0; k < r->schema.key_count; k++) {
    r->key_cols[k] = (uint32_t)rd_varint_max(&f, nc ? nc - 1 : 0);
    if (f.bad || !nc)
      goto bad;
    r->pk[k] = colser_read(&f, r->defs[r->key_cols[k]].type, r->granule_count, a);
    if (!r->pk[k]) {
      why = "bad primary index";
      goto bad;
    }
  }
  /* min/max */
  r->schema.minmax_count = (uint32_t)rd_varint_max(&f, nc);
  if (f.bad)
    goto bad;
  r->mm_cols = arena_new_array(a, uint32_t, r->schema.minmax_count + 1);
  r->mm = arena_new_array(a, struct column *, r->schema.minmax_count + 1);
  r->schema.minmax_columns = r->mm_cols;
  for (uint32_t k = 0; k < r->schema.minmax_count; k++) {
    r->mm_cols[k] = (uint32_t)rd_varint_max(&f, nc ? nc - 1 : 0);
    if (f.bad || !nc)
      goto bad;
    if (rd_u8(&f)) {
      r->mm[k] = colser_read(&f, r->defs[r->mm_cols[k]].type, 2, a);
      if (!r->mm[k]) {
        why = "bad min/max";
        goto bad;
      }
    }
  }
  /* skip indexes */
  r->schema.index_count = (uint32_t)rd_varint_max(&f, PART_SKIP_INDEXES_MAX);
  if (f.bad)
    goto bad;
  r->idx_defs = arena_new_array(a, struct skip_index_def, r->schema.index_count + 1);
  r->indexes = arena_new_array(a, struct rindex, r->schema.index_count + 1);
  r->schema.indexes = r->idx_defs;
  for (uint32_t i = 0; i < r->schema.index_count; i++) {
    struct skip_index_def *d = &r->idx_defs[i];
    struct rindex *x = &r->indexes[i];
    d->name = rd_str(&f, a);
    d->expression = rd_str(&f, a);
    d->type = (enum skip_index_type)rd_u8(&f);
    d->input_type = rd_type(&f, a);
    d->granularity = (uint32_t)rd_varint_max(&f, UINT32_MAX);
    uint64_t fp = rd_u64le(&f);
    memcpy(&d->false_positive_rate, &fp, 8);
    d->max_rows = (uint32_t)rd_varint_max(&f, UINT32_MAX);
    d->size_bytes = (uint32_t)rd_varint_max(&f, UINT32_MAX);
    d->hash_count = (uint32_t)rd_varint_max(&f, UINT32_MAX);
    d->seed = (uint32_t)rd_varint_max(&f, UINT32_MAX);
    d->ngram_n = (uint32_t)rd_varint_max(&f, UINT32_MAX);
    x->entries = (uint32_t)rd_varint_max(&f, r->granule_count);
    x->first_block = (uint32_t)rd_varint_max(&f, r->block_count);
    x->block_count = (uint32_t)rd_varint_max(&f, r->block_count - x->first_block);
    x->raw_bytes = rd_varint(&f);
    if (f.bad || !skip_index_type_valid(d)) {
      why = "bad skip index definition";
      goto bad;
    }
    uint64_t raw = 0;
    for (uint32_t b = x->first_block; b < x->first_block + x->block_count; b++)
      raw += r->block_raw[b];
    if (raw != x->raw_bytes) {
      why = "skip index size disagrees with its blocks";
      goto bad;
    }
  }
  if (f.bad || rd_left(&f) != 0) {
    why = "trailing bytes in footer";
    goto bad;
  }
  return 0;
bad:
  return corrupt(err, r->path, r->footer_offset + (f.p >= p && f.p <= p + n ? 0 : 0), why);
}

int part_reader_open(const char *path, struct arena *a, struct part_reader **out, struct error *err)
{
  *out = NULL;
  struct part_reader *r = arena_new(a, struct part_reader);
  r->a = a;
  r->path = arena_strdup(a, path);
  fd_slot_init(&r->fds, r->path);
  bcache_owner_init(&r->cache);
  pthread_mutex_init(&r->index_lock, NULL);
  arena_on_cleanup(a, reader_cleanup, r);
  int fd = fd_slot_acquire(&r->fds, err);
  if (fd < 0) {
    part_reader_close(r);
    return err->code;
  }
  int rc = 0;
  uint8_t *tail = NULL, *fbuf = NULL, *body = NULL;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    rc = error_set(err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "cannot stat part %s: %s", path, strerror(errno));
    goto out;
  }
  r->file_size = (uint64_t)st.st_size;
  if (r->file_size < PART_MAGIC_BYTES + PART_TAIL_BYTES) {
    rc = corrupt(err, path, 0, "file too short to be a part");
    goto out;
  }
  /* head magic and the last 64 KiB (usually the whole footer) in one batch */
  uint64_t tail_len = r->file_size - PART_MAGIC_BYTES < 65536 ? r->file_size - PART_MAGIC_BYTES : 65536;
  uint8_t head[PART_MAGIC_BYTES];
  tail = mem_alloc((size_t)tail_len);
  struct storage_io_read rq[2] = {
    { fd, head, sizeof head, 0, 0 },
    { fd, tail, (size_t)tail_len, r->file_size - tail_len, 0 },
  };
  rc = storage_io_read_batch(rq, 2);
  if (rc < 0 || rq[0].res != (int64_t)sizeof head || rq[1].res != (int64_t)tail_len) {
    rc = rc < 0 ? error_set(err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "cannot read part %s: %s", path, strerror(-rc))
                : corrupt(err, path, r->file_size, "file shrank while reading");
    goto out;
  }
  if (memcmp(head, PART_HEAD_MAGIC, PART_MAGIC_BYTES) != 0) {
    rc = corrupt(err, path, 0, "bad magic at the start");
    goto out;
  }
  const uint8_t *t = tail + tail_len - PART_TAIL_BYTES;
  if (memcmp(t + 16, PART_TAIL_MAGIC, 8) != 0) {
    rc = corrupt(err, path, r->file_size - 8, "bad magic at the end (truncated or not a part)");
    goto out;
  }
  uint64_t flen = get_u64le(t), fsum = get_u64le(t + 8);
  if (flen < 2 || flen > r->file_size - PART_MAGIC_BYTES - PART_TAIL_BYTES) {
    rc = corrupt(err, path, r->file_size - PART_TAIL_BYTES, "footer length out of range");
    goto out;
  }
  r->footer_offset = r->file_size - PART_TAIL_BYTES - flen;
  const uint8_t *fp;
  if (flen + PART_TAIL_BYTES <= tail_len) {
    fp = t - flen;
  } else {
    fbuf = mem_alloc((size_t)flen);
    int64_t got = storage_io_pread(fd, fbuf, (size_t)flen, r->footer_offset);
    if (got != (int64_t)flen) {
      rc = got < 0 ? error_set(err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "cannot read part %s: %s", path,
                               strerror((int)-got))
                   : corrupt(err, path, r->footer_offset, "file shrank while reading");
      goto out;
    }
    fp = fbuf;
  }
  if (verify_checksums && XXH3_64bits(fp, (size_t)flen) != fsum) {
    rc = corrupt(err, path, r->footer_offset, "footer checksum mismatch");
    goto out;
  }
  struct rd f = rd_make(fp, (size_t)flen);
  uint8_t comp = rd_u8(&f);
  uint64_t raw_len = rd_varint_max(&f, flen * 64 + 65536);
  if (f.bad || (comp != PART_FOOTER_PLAIN && comp != PART_FOOTER_ZSTD)) {
    rc = corrupt(err, path, r->footer_offset, "bad footer header");
    goto out;
  }
  if (comp == PART_FOOTER_ZSTD) {
    body = mem_alloc(raw_len ? (size_t)raw_len : 1);
    if (ZSTD_getFrameContentSize(f.p, rd_left(&f)) != raw_len) {
      rc = error_set(err, ERR_CANNOT_DECOMPRESS, "part %s: cannot decompress the footer at byte offset %llu", path,
                     (unsigned long long)r->footer_offset);
      goto out;
    }
    size_t got = ZSTD_decompress(body, (size_t)raw_len, f.p, rd_left(&f));
    if (ZSTD_isError(got) || got != raw_len) {
      rc = error_set(err, ERR_CANNOT_DECOMPRESS, "part %s: cannot decompress the footer at byte offset %llu", path,
                     (unsigned long long)r->footer_offset);
      goto out;
    }
    rc = parse_footer(r, body, (size_t)raw_len, err);
  } else {
    if (rd_left(&f) != raw_len) {
      rc = corrupt(err, path, r->footer_offset, "footer length mismatch");
      goto out;
    }
    rc = parse_footer(r, f.p, (size_t)raw_len, err);
  }
  if (rc == 0)
    *out = r;
out:
  fd_slot_release(&r->fds);
  mem_free(tail);
  mem_free(fbuf);
  mem_free(body);
  if (rc)
    part_reader_close(r);
  return rc;
}

/* ---- accessors ---- */

const char *part_reader_path(const struct part_reader *r) { return r->path; }
const struct part_schema *part_reader_schema(const struct part_reader *r) { return &r->schema; }
uint64_t part_reader_rows(const struct part_reader *r) { return r->rows; }
uint64_t part_reader_file_bytes(const struct part_reader *r) { return r->file_size; }
uint32_t part_reader_granule_count(const struct part_reader *r) { return r->granule_count; }
uint32_t part_reader_granule_rows(const struct part_reader *r, uint32_t g) { return g < r->granule_count ? r->granule_rows[g] : 0; }
uint64_t part_reader_granule_first_row(const struct part_reader *r, uint32_t g) { return r->granule_first[g <= r->granule_count ? g : r->granule_count]; }
uint32_t part_reader_index_granularity(const struct part_reader *r) { return r->granularity; }
struct slice part_reader_partition_value(const struct part_reader *r) { return r->partition_value; }
const char *part_reader_partition_id(const struct part_reader *r) { return r->partition_id; }

int part_reader_column_index(const struct part_reader *r, const char *name)
{
  for (uint32_t i = 0; i < r->schema.column_count; i++)
    if (strcmp(r->defs[i].name, name) == 0)
      return (int)i;
  return -1;
}

const struct part_column_stats *part_reader_column_stats(const struct part_reader *r, uint32_t column)
{
  return column < r->schema.column_count ? &r->cols[column].stats : NULL;
}

const struct column *part_reader_primary_index(const struct part_reader *r, uint32_t key)
{
  return key < r->schema.key_count ? r->pk[key] : NULL;
}

const struct column *part_reader_minmax(const struct part_reader *r, const char *name)
{
  for (uint32_t k = 0; k < r->schema.minmax_count; k++)
    if (strcmp(r->defs[r->mm_cols[k]].name, name) == 0)
      return r->mm[k];
  return NULL;
}

/* ---- reading blocks ---- */

/* The state of one read call: which blocks it holds and how far it got. */
struct rctx {
  struct part_reader *r;
  struct bcache_entry **ent;     /* per global block: decoded, referenced by this call */
  const uint8_t **stored;        /* per global block: checked stored bytes not decoded yet */
  uint8_t **io;                  /* buffers of the batch read */
  uint32_t nio;
  bool use_cache;
  int rc;                        /* first failure while decoding on demand */
  struct error *err;
  struct part_read_stats st;
};

enum { READ_NO_CACHE = 1, READ_STRICT = 2 };

static void rctx_init(struct rctx *c, struct part_reader *r, bool use_cache, struct error *err)
{
  memset(c, 0, sizeof *c);
  c->r = r;
  c->ent = mem_calloc(r->block_count + 1, sizeof *c->ent);
  c->stored = mem_calloc(r->block_count + 1, sizeof *c->stored);
  c->use_cache = use_cache;
  c->err = err;
}

static void rctx_fini(struct rctx *c)
{
  for (uint32_t b = 0; b < c->r->block_count; b++)
    bcache_unref(c->ent[b]);
  for (uint32_t i = 0; i < c->nio; i++)
    mem_free(c->io[i]);
  mem_free(c->io);
  mem_free(c->ent);
  mem_free(c->stored);
}

/* Takes the needed blocks from the block cache, reads the others in one
 * batch and checks their headers and checksums (decoding comes later). */
static int fetch_blocks(struct rctx *c, const uint8_t *need)
{
  struct part_reader *r = c->r;
  uint32_t nreq = 0;
  for (uint32_t b = 0; b < r->block_count; b++) {
    if (!need[b])
      continue;
    c->st.blocks_read++;
    c->st.bytes_uncompressed += r->block_raw[b];
    if (c->use_cache && (c->ent[b] = bcache_get(&r->cache, b)) != NULL) {
      c->st.blocks_cached++;
      continue;
    }
    if (b == 0 || !need[b - 1] || c->ent[b - 1])
      nreq++;
  }
  if (!nreq)
    return 0;
  struct storage_io_read *rq = mem_calloc(nreq, sizeof *rq);
  uint32_t *first = mem_calloc(nreq, sizeof *first);
  c->io = mem_calloc(nreq, sizeof *c->io);
  int fd = fd_slot_acquire(&r->fds, c->err);
  if (fd < 0) {
    mem_free(rq);
    mem_free(first);
    return c->err->code;
  }
  uint32_t k = 0;
  for (uint32_t b = 0; b < r->block_count; b++) {
    if (!need[b] || c->ent[b])
      continue;
    if (b == 0 || !need[b - 1] || c->ent[b - 1]) {
      first[k] = b;
      rq[k] = (struct storage_io_read){ fd, NULL, 0, r->block_off[b], 0 };
      k++;
    }
    rq[k - 1].len += r->block_len[b];
  }
  for (uint32_t i = 0; i < nreq; i++)
    rq[i].buf = c->io[i] = mem_alloc(rq[i].len);
  c->nio = nreq;
  int rc = storage_io_read_batch(rq, nreq);
  fd_slot_release(&r->fds);
  if (rc < 0) {
    rc = error_set(c->err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "cannot read part %s: %s", r->path, strerror(-rc));
    goto out;
  }
  for (uint32_t i = 0; i < nreq && !rc; i++) {
    if (rq[i].res != (int64_t)rq[i].len) {
      rc = corrupt(c->err, r->path, rq[i].offset, "file shorter than its block table");
      break;
    }
    c->st.bytes_read += rq[i].len;
    const uint8_t *p = rq[i].buf;
    for (uint32_t b = first[i]; b < r->block_count && need[b] && !c->ent[b]; b++) {
      struct block_header h;
      const char *why;
      if (block_parse(p, r->block_len[b], verify_checksums, &h, &why) != 0) {
        rc = corrupt(c->err, r->path, r->block_off[b], why);
        break;
      }
      if ((verify_checksums && h.checksum != r->block_sum[b]) || h.raw != r->block_raw[b]) {
        rc = corrupt(c->err, r->path, r->block_off[b], "block header disagrees with the footer");
        break;
      }
      c->stored[b] = p;
      p += r->block_len[b];
    }
  }
out:
  mem_free(rq);
  mem_free(first);
  return rc;
}

/* Decodes stored block b into out (h.raw bytes). */
static int decode_stored(struct part_reader *r, uint32_t b, const uint8_t *p, uint8_t *out, struct error *err)
{
  struct block_header h;
  const char *why;
  if (block_parse(p, r->block_len[b], false, &h, &why) != 0)
    return corrupt(err, r->path, r->block_off[b], why);
  struct error e2;
  if (codec_decode(&h.chain, p + h.header_bytes, h.stored, out, h.raw, &e2) != 0)
    return error_set(err, ERR_CANNOT_DECOMPRESS, "part %s: cannot decompress block at byte offset %llu: %s", r->path,
                     (unsigned long long)r->block_off[b], e2.message);
  return 0;
}

/* The decoded bytes of block b, decoding (and caching) them on first use. */
static struct bcache_entry *block_get(struct rctx *c, uint32_t b)
{
  if (c->ent[b])
    return c->ent[b];
  if (c->rc)
    return NULL;
  struct part_reader *r = c->r;
  if (!c->stored[b]) {
    c->rc = corrupt(c->err, r->path, r->block_off[b], "a mark points into a block the read did not plan for");
    return NULL;
  }
  struct bcache_entry *e = bcache_alloc(r->block_raw[b]);
  if ((c->rc = decode_stored(r, b, c->stored[b], bcache_data(e), c->err)) != 0) {
    bcache_unref(e);
    return NULL;
  }
  c->st.bytes_decoded += r->block_raw[b];
  c->ent[b] = c->use_cache ? bcache_put(&r->cache, b, e) : e;
  return c->ent[b];
}

static int block_next(struct stream_src *s)
{
  struct rctx *c = s->ctx;
  if (s->next_block >= s->block_count)
    return -1;
  uint32_t b = s->blocks[s->next_block++];
  struct bcache_entry *e = block_get(c, b);
  if (!e)
    return -1;
  s->p = bcache_data(e);
  s->end = s->p + c->r->block_raw[b];
  s->rest_raw -= c->r->block_raw[b];
  return 0;
}

/* Positions s at (block bi of the stream, offset off). */
static void src_position(struct stream_src *s, struct rctx *c, const struct rstream *st, uint32_t bi, uint32_t off)
{
  memset(s, 0, sizeof *s);
  s->next = block_next;
  s->ctx = c;
  s->blocks = st->blocks;
  s->block_count = st->block_count;
  s->next_block = bi;
  for (uint32_t k = bi; k < st->block_count; k++)
    s->rest_raw += c->r->block_raw[st->blocks[k]];
  if (bi < st->block_count && block_next(s) == 0) {
    s->p += off;  /* off <= block size (checked when parsing marks) */
  } else if (bi < st->block_count) {
    s->bad = true;
  }
}

/* Where s stands, as (stream block index, offset), a block's end counting
 * as the next block's start. */
static void src_where(const struct stream_src *s, const struct part_reader *r, uint32_t *block, uint32_t *off)
{
  if (s->p == s->end || s->next_block == 0) {
    *block = s->next_block;
    *off = 0;
  } else {
    *block = s->next_block - 1;
    *off = (uint32_t)(r->block_raw[s->blocks[*block]] - (uint32_t)(s->end - s->p));
  }
}

/* Mark g of st in the same normal form (the stream's end after the last granule). */
static void mark_where(const struct part_reader *r, const struct rstream *st, uint32_t g, uint32_t *block,
                       uint32_t *off)
{
  if (g >= r->granule_count) {
    *block = st->block_count;
    *off = 0;
    return;
  }
  *block = st->mark_block[g];
  *off = st->mark_off[g];
  if (*block < st->block_count && *off == r->block_raw[st->blocks[*block]]) {
    (*block)++;
    *off = 0;
  }
}

/* Blocks of stream st that granules [g0, g1) touch. */
static void need_range(const struct part_reader *r, const struct rstream *st, uint32_t g0, uint32_t g1, uint8_t *need)
{
  if (!st->block_count)
    return;
  uint32_t lo = st->mark_block[g0], hi;
  if (g1 < r->granule_count)
    hi = st->mark_off[g1] > 0 ? st->mark_block[g1] : (st->mark_block[g1] ? st->mark_block[g1] - 1 : 0);
  else
    hi = st->block_count - 1;
  if (hi >= st->block_count)
    hi = st->block_count - 1;
  for (uint32_t b = lo; b <= hi && b < st->block_count; b++)
    need[st->blocks[b]] = 1;
}

/* Byte offset of the block holding granule g's mark in stream st (for messages). */
static uint64_t mark_offset(const struct part_reader *r, const struct rstream *st, uint32_t g)
{
  if (!st->block_count)
    return r->footer_offset;
  uint32_t b = st->mark_block && g < r->granule_count ? st->mark_block[g] : 0;
  return r->block_off[st->blocks[b < st->block_count ? b : st->block_count - 1]];
}

/* Drops the call's references to a column's blocks that it decoded itself
 * (their stored bytes stay, so a repeated column decodes them again). */
static void release_column(struct rctx *c, const struct rcol *col)
{
  for (uint32_t s = 0; s < col->layout.stream_count; s++) {
    const struct rstream *st = &col->streams[s];
    for (uint32_t k = 0; k < st->block_count; k++) {
      uint32_t b = st->blocks[k];
      if (c->ent[b] && c->stored[b]) {
        bcache_unref(c->ent[b]);
        c->ent[b] = NULL;
      }
    }
  }
}

/* Checks that every stream of the column stands exactly at mark g (strict reads). */
static int check_positions(struct rctx *c, const struct rcol *col, const char *name, uint32_t g,
                           const struct col_decoder *d)
{
  struct part_reader *r = c->r;
  for (uint32_t s = 0; s < col->layout.stream_count; s++) {
    const struct rstream *st = &col->streams[s];
    if (st->flags & PART_STREAM_WHOLE)
      continue;
    uint32_t hb, ho, wb, wo;
    src_where(&d->src[s], r, &hb, &ho);
    mark_where(r, st, g, &wb, &wo);
    if (hb != wb || ho != wo)
      return error_set(c->err, ERR_CORRUPTED_DATA,
                       "part %s is corrupted: column %s, stream %u does not end at the mark of granule %u "
                       "(block at byte offset %llu)",
                       r->path, name, s, g, (unsigned long long)mark_offset(r, st, g ? g - 1 : 0));
  }
  return 0;
}

/* Checks that each dictionary of the column was decoded and consumed whole. */
static int check_dicts(struct rctx *c, const struct rcol *col, const char *name, struct col_decoder *d,
                       struct arena *a)
{
  struct part_reader *r = c->r;
  if (col_decoder_load_dicts(d, a) != 0) {
    if (c->rc)
      return c->rc;
    return error_set(c->err, ERR_CORRUPTED_DATA, "part %s is corrupted: column %s, dictionary: %s", r->path, name,
                     d->why ? d->why : "bad data");
  }
  for (uint32_t s = 0; s < col->layout.stream_count; s++) {
    const struct rstream *st = &col->streams[s];
    if (!(st->flags & PART_STREAM_WHOLE))
      continue;
    const struct stream_src *src = &d->src[s];
    if (src->p != src->end || src->next_block != st->block_count)
      return error_set(c->err, ERR_CORRUPTED_DATA,
                       "part %s is corrupted: column %s, dictionary stream %u has bytes beyond its %llu rows "
                       "(block at byte offset %llu)",
                       r->path, name, s, (unsigned long long)col->dict_rows[0], (unsigned long long)mark_offset(r, st, 0));
  }
  return 0;
}

static int read_columns(struct part_reader *r, const struct part_read_column *cols, uint32_t ncols,
                        const struct granule_range *ranges, uint32_t nranges, struct arena *a, struct block **out,
                        struct part_read_stats *stats, int flags, struct error *err)
{
  *out = NULL;
  uint64_t rows = 0;
  for (uint32_t i = 0; i < nranges; i++) {
    if (ranges[i].begin > ranges[i].end || ranges[i].end > r->granule_count ||
        (i && ranges[i].begin < ranges[i - 1].end))
      return error_set(err, ERR_BAD_ARGUMENTS, "part %s: bad granule range [%u, %u) (part has %u granules)", r->path,
                       ranges[i].begin, ranges[i].end, r->granule_count);
    rows += r->granule_first[ranges[i].end] - r->granule_first[ranges[i].begin];
  }
  if (rows > UINT32_MAX / 2)
    return error_set(err, ERR_TOO_MANY_ROWS, "part %s: too many rows in one read", r->path);
  int *idx = mem_calloc(ncols + 1, sizeof *idx);
  const struct datatype **computed = mem_calloc(ncols + 1, sizeof *computed);   /* type to default, or NULL */
  for (uint32_t i = 0; i < ncols; i++) {
    idx[i] = part_reader_column_index(r, cols[i].name);
    if (idx[i] < 0 && !cols[i].type) {
      mem_free(computed);
      mem_free(idx);
      return error_set(err, ERR_NO_SUCH_COLUMN_IN_TABLE, "part %s has no column %s", r->path, cols[i].name);
    }
    if (idx[i] >= 0 && r->defs[idx[i]].computed) {
      computed[i] = cols[i].type ? cols[i].type : r->defs[idx[i]].type;
      idx[i] = -1;   /* read as absent: the caller computes it */
      continue;
    }
    if (idx[i] >= 0 && cols[i].type && !datatype_equal(cols[i].type, r->defs[idx[i]].type)) {
      mem_free(computed);
      mem_free(idx);
      return error_set(err, ERR_TYPE_MISMATCH, "part %s: column %s has another type in this part", r->path,
                       cols[i].name);
    }
  }
  struct rctx c;
  rctx_init(&c, r, !(flags & READ_NO_CACHE), err);
  uint8_t *need = mem_calloc(r->block_count + 1, 1);
  for (uint32_t i = 0; i < ncols; i++) {
    if (idx[i] < 0)
      continue;
    const struct rcol *col = &r->cols[idx[i]];
    for (uint32_t s = 0; s < col->layout.stream_count; s++) {
      const struct rstream *st = &col->streams[s];
      if (st->flags & PART_STREAM_WHOLE) {
        if (rows || (flags & READ_STRICT))
          for (uint32_t k = 0; k < st->block_count; k++)
            need[st->blocks[k]] = 1;
        continue;
      }
      for (uint32_t q = 0; q < nranges; q++)
        if (ranges[q].end > ranges[q].begin)
          need_range(r, st, ranges[q].begin, ranges[q].end, need);
    }
  }
  int rc = fetch_blocks(&c, need);
  mem_free(need);
  struct block *b = NULL;
  if (rc)
    goto out;
  b = block_create(a, ncols);
  b->rows = (uint32_t)rows;
  for (uint32_t i = 0; i < ncols && !rc; i++) {
    b->names[i] = arena_strdup(a, cols[i].name);
    if (idx[i] < 0) {
      struct column *col = column_create(a, computed[i] ? computed[i] : cols[i].type, (uint32_t)rows);
      for (uint64_t k = 0; k < rows; k++)
        column_append_default(col);
      b->columns[i] = col;
      continue;
    }
    const struct rcol *rcl = &r->cols[idx[i]];
    const char *name = r->defs[idx[i]].name;
    const struct datatype *t = r->defs[idx[i]].type;
    struct column *col = column_create(a, t, (uint32_t)(rows < 65536 ? rows : 65536));
    b->columns[i] = col;
    struct col_decoder d = { rcl->layout, arena_new_array(a, struct stream_src, rcl->layout.stream_count + 1),
                             arena_new_array(a, struct column *, rcl->layout.lc_count + 1), rcl->dict_rows, NULL,
                             rcl->grouped };
    for (uint32_t s = 0; s < rcl->layout.stream_count; s++)
      if (rcl->streams[s].flags & PART_STREAM_WHOLE)
        src_position(&d.src[s], &c, &rcl->streams[s], 0, 0);
    for (uint32_t q = 0; q < nranges && !rc; q++) {
      uint32_t g0 = ranges[q].begin;
      uint64_t n = r->granule_first[ranges[q].end] - r->granule_first[g0];
      if (!n)
        continue;
      for (uint32_t s = 0; s < rcl->layout.stream_count; s++) {
        const struct rstream *st = &rcl->streams[s];
        if (!(st->flags & PART_STREAM_WHOLE))
          src_position(&d.src[s], &c, st, st->mark_block[g0], st->mark_off[g0]);
      }
      /* strict reads go granule by granule so each granule must end at the
       * next mark, and so do columns with grouped map values (a granule is
       * the unit of grouping); otherwise the whole range decodes in one go */
      bool per_granule = (flags & READ_STRICT) || rcl->grouped;
      for (uint32_t g = g0; g < ranges[q].end && !rc; g = per_granule ? g + 1 : ranges[q].end) {
        uint64_t k = per_granule ? r->granule_rows[g] : n;
        if (col_decoder_read(&d, t, col, k, a) != 0) {
          rc = c.rc ? c.rc
                    : error_set(err, ERR_CORRUPTED_DATA,
                                "part %s is corrupted: column %s, granule %u (block at byte offset %llu): %s", r->path,
                                name, g, (unsigned long long)mark_offset(r, &rcl->streams[0], g),
                                d.why ? d.why : "bad data");
          break;
        }
        if (c.rc) {
          rc = c.rc;
          break;
        }
        if (per_granule)
          rc = check_positions(&c, rcl, name, g + 1, &d);
      }
    }
    if (!rc && (flags & READ_STRICT) && rcl->layout.lc_count)
      rc = check_dicts(&c, rcl, name, &d, a);
    release_column(&c, rcl);
  }
out:
  c.st.rows = rc ? 0 : rows;
  if (stats)
    *stats = c.st;
  rctx_fini(&c);
  mem_free(computed);
  mem_free(idx);
  if (rc == 0)
    *out = b;
  return rc;
}

int part_reader_read(struct part_reader *r, const struct part_read_column *cols, uint32_t ncols,
                     const struct granule_range *ranges, uint32_t nranges, struct arena *a, struct block **out,
                     struct part_read_stats *stats, struct error *err)
{
  return read_columns(r, cols, ncols, ranges, nranges, a, out, stats, 0, err);
}

/* ---- skip indexes ---- */

/* Reads, checks and decodes index x's blocks into one buffer in a. */
static int load_index_bytes(struct part_reader *r, const struct rindex *x, struct arena *a, uint8_t **out,
                            struct error *err)
{
  struct rctx c;
  rctx_init(&c, r, false, err);
  uint8_t *need = mem_calloc(r->block_count + 1, 1);
  for (uint32_t b = x->first_block; b < x->first_block + x->block_count; b++)
    need[b] = 1;
  int rc = fetch_blocks(&c, need);
  mem_free(need);
  uint8_t *all = arena_alloc(a, x->raw_bytes ? (size_t)x->raw_bytes : 1);
  size_t pos = 0;
  for (uint32_t b = x->first_block; !rc && b < x->first_block + x->block_count; b++) {
    rc = decode_stored(r, b, c.stored[b], all + pos, err);
    pos += r->block_raw[b];
  }
  rctx_fini(&c);
  *out = all;
  return rc;
}

int part_reader_skip_index(struct part_reader *r, uint32_t index, const struct skip_index **out, struct error *err)
{
  *out = NULL;
  if (index >= r->schema.index_count)
    return error_set(err, ERR_BAD_ARGUMENTS, "part %s has no skip index #%u", r->path, index);
  struct rindex *x = &r->indexes[index];
  const struct skip_index *ix = atomic_load_explicit(&x->loaded, memory_order_acquire);
  if (ix) {
    *out = ix;
    return 0;
  }
  pthread_mutex_lock(&r->index_lock);
  ix = atomic_load_explicit(&x->loaded, memory_order_relaxed);
  int rc = 0;
  if (!ix) {
    uint8_t *all;
    rc = load_index_bytes(r, x, r->a, &all, err);
    if (rc == 0) {
      ix = skip_index_parse(&r->idx_defs[index], x->entries, all, (size_t)x->raw_bytes, r->a);
      if (!ix)
        rc = corrupt(err, r->path, x->block_count ? r->block_off[x->first_block] : r->footer_offset,
                     "malformed skip index");
      else
        atomic_store_explicit(&x->loaded, ix, memory_order_release);
    }
  }
  pthread_mutex_unlock(&r->index_lock);
  *out = ix;
  return rc;
}

/* ---- verification ---- */

enum { VERIFY_CHUNK_BYTES = 16u << 20, VERIFY_CHUNK_ROWS = 65536 };

/* Every block in file order: checksum, header against the footer, decode. */
static int verify_blocks(struct part_reader *r, struct error *err)
{
  int fd = fd_slot_acquire(&r->fds, err);
  if (fd < 0)
    return err->code;
  int rc = 0;
  uint8_t *buf = NULL, *raw = NULL;
  size_t buf_cap = 0, raw_cap = 0;
  for (uint32_t b = 0; b < r->block_count && !rc;) {
    uint32_t e = b;
    uint64_t len = 0;
    while (e < r->block_count && (e == b || len + r->block_len[e] <= VERIFY_CHUNK_BYTES))
      len += r->block_len[e++];
    if (len > buf_cap) {
      mem_free(buf);
      buf = mem_alloc((size_t)len);
      buf_cap = (size_t)len;
    }
    int64_t got = storage_io_pread(fd, buf, (size_t)len, r->block_off[b]);
    if (got < 0) {
      rc = error_set(err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "cannot read part %s: %s", r->path,
                     strerror((int)-got));
      break;
    }
    if ((uint64_t)got != len) {
      rc = corrupt(err, r->path, r->block_off[b] + (uint64_t)got, "file shorter than its block table");
      break;
    }
    const uint8_t *p = buf;
    for (; b < e; b++) {
      struct block_header h;
      const char *why;
      if (block_parse(p, r->block_len[b], true, &h, &why) != 0) {
        rc = corrupt(err, r->path, r->block_off[b], why);
        break;
      }
      if (h.checksum != r->block_sum[b] || h.raw != r->block_raw[b]) {
        rc = corrupt(err, r->path, r->block_off[b], "block header disagrees with the footer");
        break;
      }
      if (h.raw > raw_cap) {
        mem_free(raw);
        raw = mem_alloc(h.raw);
        raw_cap = h.raw;
      }
      if ((rc = decode_stored(r, b, p, raw, err)) != 0)
        break;
      p += r->block_len[b];
    }
  }
  fd_slot_release(&r->fds);
  mem_free(buf);
  mem_free(raw);
  return rc;
}

/* Reads column i a few granules at a time, strictly, checking the primary
 * index and min/max against the values. */
static int verify_column(struct part_reader *r, uint32_t i, struct error *err)
{
  const struct part_column_def *def = &r->defs[i];
  int rc = 0;
  int key = -1, mm = -1;
  for (uint32_t k = 0; k < r->schema.key_count; k++)
    if (r->key_cols[k] == i)
      key = (int)k;
  for (uint32_t k = 0; k < r->schema.minmax_count; k++)
    if (r->mm_cols[k] == i)
      mm = (int)k;
  struct arena keep;
  arena_init(&keep, 0);
  struct column *lo = NULL, *hi = NULL;     /* min/max seen, in keep */
  struct part_read_column rc1 = { def->name, NULL };
  uint32_t g = 0;
  do {
    uint32_t e = g;
    uint64_t rows = 0;
    while (e < r->granule_count && (e == g || rows + r->granule_rows[e] <= VERIFY_CHUNK_ROWS))
      rows += r->granule_rows[e++];
    struct granule_range range = { g, e };
    struct arena a;
    arena_init(&a, 0);
    struct block *blk;
    rc = read_columns(r, &rc1, 1, &range, 1, &a, &blk, NULL, READ_NO_CACHE | READ_STRICT, err);
    const struct column *c = rc == 0 ? blk->columns[0] : NULL;
    for (uint32_t k = g; rc == 0 && key >= 0 && k < e; k++)
      if (column_compare_rows(r->pk[key], k, c, (uint32_t)(r->granule_first[k] - r->granule_first[g]), false) != 0)
        rc = corrupt(err, r->path, mark_offset(r, &r->cols[i].streams[0], k),
                     arena_printf(&a, "the primary index disagrees with column %s at granule %u", def->name, k));
    for (uint32_t row = 0; rc == 0 && mm >= 0 && row < c->rows; row++) {
      if (column_is_null(c, row))
        continue;
      if (!lo || column_compare_rows(c, row, lo, 0, false) < 0) {
        lo = column_create(&keep, c->type, 1);
        column_append_from(lo, c, row);
      }
      if (!hi || column_compare_rows(c, row, hi, 0, false) > 0) {
        hi = column_create(&keep, c->type, 1);
        column_append_from(hi, c, row);
      }
    }
    arena_destroy(&a);
    g = e;
  } while (rc == 0 && g < r->granule_count);
  if (rc == 0 && mm >= 0) {
    const struct column *f = r->mm[mm];
    bool ok = f ? lo && column_compare_rows(f, 0, lo, 0, false) == 0 && column_compare_rows(f, 1, hi, 0, false) == 0
                : !lo;
    if (!ok)
      rc = corrupt(err, r->path, r->footer_offset,
                   arena_printf(&keep, "the footer's min/max of column %s disagrees with its values", def->name));
  }
  arena_destroy(&keep);
  return rc;
}

int part_verify(const char *path, struct error *err)
{
  struct arena a;
  arena_init(&a, 0);
  struct part_reader *r;
  int rc = part_reader_open(path, &a, &r, err);
  if (rc == 0)
    rc = verify_blocks(r, err);
  /* a computed column has no values to check its index or min/max against */
  for (uint32_t i = 0; rc == 0 && i < r->schema.column_count; i++)
    if (!r->defs[i].computed)
      rc = verify_column(r, i, err);
  for (uint32_t i = 0; rc == 0 && i < r->schema.index_count; i++) {
    uint8_t *all;
    const struct rindex *x = &r->indexes[i];
    rc = load_index_bytes(r, x, &a, &all, err);
    if (rc == 0 && !skip_index_parse(&r->idx_defs[i], x->entries, all, (size_t)x->raw_bytes, &a))
      rc = corrupt(err, r->path, x->block_count ? r->block_off[x->first_block] : r->footer_offset,
                   "malformed skip index");
  }
  arena_destroy(&a);
  return rc;
}
