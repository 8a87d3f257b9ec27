/* The part reader: opens a part from its tail and footer only, then reads
 * just the blocks that the requested columns and granules need, in one
 * batch of ranged reads, verifying every block's checksum.
 *
 * Invariants:
 *  1. Nothing read from the file is trusted: every count, offset and size
 *     is checked against the file, the footer or the stream before use;
 *     failures are CORRUPTED_DATA / CANNOT_DECOMPRESS naming the file and
 *     the byte offset.
 *  2. Blocks are contiguous from byte 8 to the footer; block i starts at
 *     8 + the stored sizes of blocks < i.
 *  3. A reader is used by one thread at a time; metadata lives in the
 *     arena given at open, and so does what part_reader_read returns. */
#include "storage/storage_int.h"

#include <errno.h>
#include <fcntl.h>
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
  struct part_column_stats stats;
};

struct rindex {
  uint32_t entries, first_block, block_count;
  uint64_t raw_bytes;
  const struct skip_index *loaded;
};

struct part_reader {
  struct arena *a;
  const char *path;
  int fd;
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

static void reader_cleanup(void *p) { part_reader_close(p); }

void part_reader_close(struct part_reader *r)
{
  if (r && r->fd >= 0) {
    close(r->fd);
    r->fd = -1;
  }
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
  if (rd_u8(&f) != PART_FOOTER_VERSION) {
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
      if (st->kind != c->layout.streams[s].kind || (st->flags & PART_STREAM_WHOLE) != (c->layout.streams[s].whole ? PART_STREAM_WHOLE : 0)) {
        why = "stream kind does not match the column type";
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
  int fd;
  do
    fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return error_set(err, errno == ENOENT ? ERR_FILE_DOESNT_EXIST : ERR_CANNOT_OPEN_FILE, "cannot open part %s: %s",
                     path, strerror(errno));
  struct part_reader *r = arena_new(a, struct part_reader);
  r->a = a;
  r->fd = fd;
  r->path = arena_strdup(a, path);
  arena_on_cleanup(a, reader_cleanup, r);
  struct stat st;
  if (fstat(fd, &st) != 0)
    return error_set(err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "cannot stat part %s: %s", path, strerror(errno));
  r->file_size = (uint64_t)st.st_size;
  if (r->file_size < PART_MAGIC_BYTES + PART_TAIL_BYTES)
    return corrupt(err, path, 0, "file too short to be a part");
  /* head magic and the last 64 KiB (usually the whole footer) in one batch */
  uint64_t tail_len = r->file_size - PART_MAGIC_BYTES < 65536 ? r->file_size - PART_MAGIC_BYTES : 65536;
  uint8_t head[PART_MAGIC_BYTES];
  uint8_t *tail = mem_alloc((size_t)tail_len);
  uint8_t *fbuf = NULL, *body = NULL;
  struct storage_io_read rq[2] = {
    { fd, head, sizeof head, 0, 0 },
    { fd, tail, (size_t)tail_len, r->file_size - tail_len, 0 },
  };
  int rc = storage_io_read_batch(rq, 2);
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

struct loaded {
  uint8_t **data;                /* per global block: decompressed bytes or NULL */
  uint8_t *need;
  struct part_read_stats st;
};

/* Reads and decodes every block with need[b] set. */
static int load_blocks(struct part_reader *r, struct loaded *L, struct error *err)
{
  uint32_t nreq = 0;
  for (uint32_t b = 0; b < r->block_count; b++)
    if (L->need[b] && (b == 0 || !L->need[b - 1]))
      nreq++;
  if (!nreq)
    return 0;
  if (r->fd < 0)
    return error_set(err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "part %s is closed", r->path);
  struct storage_io_read *rq = mem_calloc(nreq, sizeof *rq);
  uint32_t *first = mem_calloc(nreq, sizeof *first);
  uint32_t k = 0;
  for (uint32_t b = 0; b < r->block_count; b++) {
    if (!L->need[b])
      continue;
    if (b == 0 || !L->need[b - 1]) {
      first[k] = b;
      rq[k] = (struct storage_io_read){ r->fd, NULL, 0, r->block_off[b], 0 };
      k++;
    }
    rq[k - 1].len += r->block_len[b];
  }
  for (uint32_t i = 0; i < nreq; i++)
    rq[i].buf = mem_alloc(rq[i].len);
  int rc = storage_io_read_batch(rq, nreq);
  if (rc < 0) {
    rc = error_set(err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "cannot read part %s: %s", r->path, strerror(-rc));
    goto out;
  }
  for (uint32_t i = 0; i < nreq && !rc; i++) {
    if (rq[i].res != (int64_t)rq[i].len) {
      rc = corrupt(err, r->path, rq[i].offset, "file shorter than its block table");
      break;
    }
    L->st.bytes_read += rq[i].len;
    const uint8_t *p = rq[i].buf;
    for (uint32_t b = first[i]; b < r->block_count && L->need[b]; b++) {
      struct block_header h;
      const char *why;
      if (block_parse(p, r->block_len[b], verify_checksums, &h, &why) != 0) {
        rc = corrupt(err, r->path, r->block_off[b], why);
        break;
      }
      if ((verify_checksums && h.checksum != r->block_sum[b]) || h.raw != r->block_raw[b]) {
        rc = corrupt(err, r->path, r->block_off[b], "block header disagrees with the footer");
        break;
      }
      L->data[b] = mem_alloc(h.raw ? h.raw : 1);
      struct error e2;
      if (codec_decode(&h.chain, p + h.header_bytes, h.stored, L->data[b], h.raw, &e2) != 0) {
        rc = error_set(err, ERR_CANNOT_DECOMPRESS, "part %s: cannot decompress block at byte offset %llu: %s", r->path,
                       (unsigned long long)r->block_off[b], e2.message);
        break;
      }
      L->st.bytes_uncompressed += h.raw;
      L->st.blocks_read++;
      p += r->block_len[b];
    }
  }
out:
  for (uint32_t i = 0; i < nreq; i++)
    mem_free(rq[i].buf);
  mem_free(rq);
  mem_free(first);
  return rc;
}

static void loaded_free(struct part_reader *r, struct loaded *L)
{
  for (uint32_t b = 0; b < r->block_count; b++)
    mem_free(L->data[b]);
  mem_free(L->data);
  mem_free(L->need);
}

struct src_ctx {
  struct part_reader *r;
  struct loaded *L;
};

static int block_next(struct stream_src *s)
{
  struct src_ctx *c = s->ctx;
  if (s->next_block >= s->block_count)
    return -1;
  uint32_t b = s->blocks[s->next_block++];
  if (!c->L->data[b])
    return -1;  /* marks point outside what was read: corrupt */
  s->p = c->L->data[b];
  s->end = s->p + c->r->block_raw[b];
  s->rest_raw -= c->r->block_raw[b];
  return 0;
}

/* Positions s at (block bi of the stream, offset off). */
static void src_position(struct stream_src *s, struct src_ctx *ctx, const struct rstream *st, uint32_t bi, uint32_t off)
{
  memset(s, 0, sizeof *s);
  s->next = block_next;
  s->ctx = ctx;
  s->blocks = st->blocks;
  s->block_count = st->block_count;
  s->next_block = bi;
  for (uint32_t k = bi; k < st->block_count; k++)
    s->rest_raw += ctx->r->block_raw[st->blocks[k]];
  if (bi < st->block_count && block_next(s) == 0) {
    s->p += off;  /* off <= block size (checked when parsing marks) */
  } else if (bi < st->block_count) {
    s->bad = true;
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

int part_reader_read(struct part_reader *r, const struct part_read_column *cols, uint32_t ncols,
                     const struct granule_range *ranges, uint32_t nranges, struct arena *a, struct block **out,
                     struct part_read_stats *stats, struct error *err)
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
  for (uint32_t i = 0; i < ncols; i++) {
    idx[i] = part_reader_column_index(r, cols[i].name);
    if (idx[i] < 0 && !cols[i].type) {
      mem_free(idx);
      return error_set(err, ERR_NO_SUCH_COLUMN_IN_TABLE, "part %s has no column %s", r->path, cols[i].name);
    }
    if (idx[i] >= 0 && cols[i].type && !datatype_equal(cols[i].type, r->defs[idx[i]].type)) {
      mem_free(idx);
      return error_set(err, ERR_TYPE_MISMATCH, "part %s: column %s has another type in this part", r->path,
                       cols[i].name);
    }
  }
  struct loaded L = { 0 };
  L.data = mem_calloc(r->block_count + 1, sizeof *L.data);
  L.need = mem_calloc(r->block_count + 1, 1);
  for (uint32_t i = 0; i < ncols; i++) {
    if (idx[i] < 0)
      continue;
    const struct rcol *c = &r->cols[idx[i]];
    for (uint32_t s = 0; s < c->layout.stream_count; s++) {
      const struct rstream *st = &c->streams[s];
      if (st->flags & PART_STREAM_WHOLE) {
        if (rows)
          for (uint32_t k = 0; k < st->block_count; k++)
            L.need[st->blocks[k]] = 1;
        continue;
      }
      for (uint32_t q = 0; q < nranges; q++)
        if (ranges[q].end > ranges[q].begin)
          need_range(r, st, ranges[q].begin, ranges[q].end, L.need);
    }
  }
  int rc = load_blocks(r, &L, err);
  struct block *b = NULL;
  if (rc)
    goto out;
  b = block_create(a, ncols);
  b->rows = (uint32_t)rows;
  struct src_ctx ctx = { r, &L };
  for (uint32_t i = 0; i < ncols && !rc; i++) {
    b->names[i] = arena_strdup(a, cols[i].name);
    if (idx[i] < 0) {
      struct column *c = column_create(a, cols[i].type, (uint32_t)rows);
      for (uint64_t k = 0; k < rows; k++)
        column_append_default(c);
      b->columns[i] = c;
      continue;
    }
    const struct rcol *rc_ = &r->cols[idx[i]];
    const struct datatype *t = r->defs[idx[i]].type;
    struct column *c = column_create(a, t, (uint32_t)(rows < 65536 ? rows : 65536));
    b->columns[i] = c;
    struct col_decoder d = { rc_->layout, arena_new_array(a, struct stream_src, rc_->layout.stream_count + 1),
                             arena_new_array(a, struct column *, rc_->layout.lc_count + 1), rc_->dict_rows, NULL };
    for (uint32_t s = 0; s < rc_->layout.stream_count; s++)
      if (rc_->streams[s].flags & PART_STREAM_WHOLE)
        src_position(&d.src[s], &ctx, &rc_->streams[s], 0, 0);
    for (uint32_t q = 0; q < nranges && !rc; q++) {
      uint32_t g0 = ranges[q].begin;
      uint64_t n = r->granule_first[ranges[q].end] - r->granule_first[g0];
      if (!n)
        continue;
      for (uint32_t s = 0; s < rc_->layout.stream_count; s++) {
        const struct rstream *st = &rc_->streams[s];
        if (!(st->flags & PART_STREAM_WHOLE))
          src_position(&d.src[s], &ctx, st, st->mark_block[g0], st->mark_off[g0]);
      }
      if (col_decoder_read(&d, t, c, n, a) != 0) {
        uint64_t off = rc_->streams[0].block_count ? r->block_off[rc_->streams[0].blocks[rc_->streams[0].mark_block[g0] < rc_->streams[0].block_count ? rc_->streams[0].mark_block[g0] : 0]] : 0;
        rc = error_set(err, ERR_CORRUPTED_DATA, "part %s is corrupted: column %s, granule %u (block at byte offset %llu): %s",
                       r->path, r->defs[idx[i]].name, g0, (unsigned long long)off, d.why ? d.why : "bad data");
      }
    }
  }
out:
  L.st.rows = rc ? 0 : rows;
  if (stats)
    *stats = L.st;
  loaded_free(r, &L);
  mem_free(idx);
  if (rc == 0)
    *out = b;
  return rc;
}

/* ---- skip indexes ---- */

int part_reader_skip_index(struct part_reader *r, uint32_t index, const struct skip_index **out, struct error *err)
{
  *out = NULL;
  if (index >= r->schema.index_count)
    return error_set(err, ERR_BAD_ARGUMENTS, "part %s has no skip index #%u", r->path, index);
  struct rindex *x = &r->indexes[index];
  if (x->loaded) {
    *out = x->loaded;
    return 0;
  }
  struct loaded L = { 0 };
  L.data = mem_calloc(r->block_count + 1, sizeof *L.data);
  L.need = mem_calloc(r->block_count + 1, 1);
  for (uint32_t b = x->first_block; b < x->first_block + x->block_count; b++)
    L.need[b] = 1;
  int rc = load_blocks(r, &L, err);
  if (rc == 0) {
    uint8_t *all = arena_alloc(r->a, x->raw_bytes ? (size_t)x->raw_bytes : 1);
    size_t pos = 0;
    for (uint32_t b = x->first_block; b < x->first_block + x->block_count; b++) {
      memcpy(all + pos, L.data[b], r->block_raw[b]);
      pos += r->block_raw[b];
    }
    x->loaded = skip_index_parse(&r->idx_defs[index], x->entries, all, pos, r->a);
    if (!x->loaded)
      rc = corrupt(err, r->path, x->block_count ? r->block_off[x->first_block] : r->footer_offset,
                   "malformed skip index");
  }
  loaded_free(r, &L);
  *out = x->loaded;
  return rc;
}
