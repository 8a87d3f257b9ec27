/* The part writer: cuts sorted input blocks into granules, encodes every
 * column into its streams, frames streams into compressed blocks as they
 * fill, builds the sparse primary index, min/max and skip indexes, and
 * publishes the file (tmp_<name> → fsync → rename → fsync dir).
 *
 * States:  open ──write_block*──▶ open ──finish──▶ (published, freed)
 *            └──────────────abort / any error in finish──▶ (tmp removed, freed)
 *
 * Invariants:
 *  1. The file is written strictly sequentially; blocks of different
 *     streams interleave in the order they fill.
 *  2. A stream's block closes at a granule start once it holds
 *     min_block_bytes, or anywhere once it holds max_block_bytes.
 *  3. Marks of granule g are taken before any of g's rows are encoded:
 *     (blocks already closed in the stream, bytes in the open one).
 *  4. Skip-index entries close every `granularity` granules and at finish.
 *  5. A computed column (part_column_def.computed) gets no streams: its
 *     values feed the primary index and min/max only, so its encoder never
 *     sees a row and its raw buffers stay empty. */
#include "storage/storage_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "base/alloc.h"
#include "base/log.h"

struct wstream {
  struct stream_desc desc;
  struct codec_chain chain;
  bool try_hex;
  bool grouped;                  /* map values may be grouped by key (the encoder decides: enc.grouped) */
  uint32_t *blocks;              /* global ordinals */
  uint32_t block_count, block_cap;
  uint32_t *mark_block, *mark_off;   /* per granule */
  uint64_t raw_bytes;
};

struct wcol {
  const struct part_column_def *def;
  struct codec_chain chain;      /* declared or default */
  struct col_layout layout;
  struct col_encoder enc;
  struct wstream *streams;
  struct part_column_stats stats;
};

struct blockrec {
  uint32_t stored;               /* header + payload */
  uint32_t raw;
  uint64_t checksum;
};

struct windex {
  struct skip_builder *b;
  uint32_t granules_in_entry;
  uint32_t first_block, block_count;
  uint64_t raw_bytes;
};

struct part_writer {
  struct arena arena;
  char *tmp_path, *final_path, *dir;
  struct part_schema schema;
  struct part_writer_options opt;
  struct storage_appender app;
  struct wcol *cols;
  struct blockrec *blocks;
  uint32_t block_count, block_cap;
  uint32_t *granule_rows;
  uint32_t granule_count, granule_cap;
  uint64_t rows;
  uint32_t cur_rows;             /* rows in the open granule */
  uint64_t cur_bytes;            /* approximate bytes in the open granule */
  struct column **pk;            /* per key column: value at each granule start */
  struct column **mm_min, **mm_max;
  struct windex *idx;
  struct buf scratch;
  bool any_grouped;              /* some stream may group map values (granule ends tell the encoders) */
  bool broken;
  bool tmp_created;              /* tmp_path exists and is ours to remove */
};

static int io_error(struct error *err, int rc, const char *what, const char *path)
{
  return error_set(err, rc == -ENOENT ? ERR_FILE_DOESNT_EXIST : ERR_CANNOT_WRITE_TO_FILE_DESCRIPTOR,
                   "cannot %s %s: %s", what, path, strerror(-rc));
}

static void grow_u32(struct arena *a, uint32_t **p, uint32_t *cap, uint32_t need)
{
  if (need <= *cap)
    return;
  uint32_t n = *cap ? *cap * 2 : 64;
  while (n < need)
    n *= 2;
  *p = arena_realloc(a, *p, (size_t)*cap * sizeof **p, (size_t)n * sizeof **p);
  *cap = n;
}

/* ---- opening ---- */

static struct codec_chain stream_chain(const struct codec_chain *col, const struct stream_desc *s)
{
  if (s->kind == STREAM_VALUES)
    return codec_chain_for_values(col, s->value_type);
  return codec_chain_for_values(col, NULL);  /* general-purpose steps only */
}

int part_writer_open(const char *dir, const char *part_name, const struct part_schema *schema,
                     const struct part_writer_options *options, struct part_writer **out, struct error *err)
{
  *out = NULL;
  struct part_writer *w = mem_calloc(1, sizeof *w);
  arena_init(&w->arena, 64 * 1024);
  buf_init(&w->scratch);
  w->app.fd = -1;
  w->opt = options ? *options : (struct part_writer_options){ 0 };
  if (!w->opt.index_granularity)
    w->opt.index_granularity = 8192;
  if (!w->opt.index_granularity_bytes)
    w->opt.index_granularity_bytes = 10u << 20;
  if (!w->opt.min_block_bytes)
    w->opt.min_block_bytes = 1u << 20;   /* big blocks compress ids and attributes far better */
  if (!w->opt.max_block_bytes)
    w->opt.max_block_bytes = 1u << 20;
  if (w->opt.max_block_bytes > BLOCK_RAW_BYTES_MAX)
    w->opt.max_block_bytes = BLOCK_RAW_BYTES_MAX;
  if (w->opt.min_block_bytes > w->opt.max_block_bytes)
    w->opt.min_block_bytes = w->opt.max_block_bytes;
  if (!w->opt.default_codec.count)
    w->opt.default_codec = codec_chain_lz4();
  w->opt.partition_id = arena_strdup(&w->arena, w->opt.partition_id ? w->opt.partition_id : "all");
  w->opt.partition_value.ptr = arena_strndup(&w->arena, w->opt.partition_value.ptr ? w->opt.partition_value.ptr : "",
                                             w->opt.partition_value.len);
  w->schema = *schema;
  int rc = 0;

  if (schema->column_count > PART_COLUMNS_MAX || schema->index_count > PART_SKIP_INDEXES_MAX) {
    rc = error_set(err, ERR_BAD_ARGUMENTS, "part %s: too many columns or indexes", part_name);
    goto out_free;
  }
  w->cols = arena_new_array(&w->arena, struct wcol, schema->column_count + 1);
  for (uint32_t i = 0; i < schema->column_count; i++) {
    struct wcol *c = &w->cols[i];
    c->def = &schema->columns[i];
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(schema->columns[j].name, c->def->name) == 0) {
        rc = error_set(err, ERR_BAD_ARGUMENTS, "part %s: duplicate column %s", part_name, c->def->name);
        goto out_free;
      }
    if (col_layout_build(&w->arena, c->def->type, &c->layout) != 0) {
      struct buf tn;
      buf_init(&tn);
      datatype_format(c->def->type, &tn);
      rc = error_set(err, ERR_ILLEGAL_COLUMN, "part %s: column %s of type %s cannot be stored", part_name, c->def->name,
                     buf_cstr(&tn));
      buf_free(&tn);
      goto out_free;
    }
    c->chain = c->def->codec.count ? c->def->codec : w->opt.default_codec;
    for (unsigned k = 0; k < c->chain.count; k++)
      if (c->chain.steps[k].kind == CODEC_HEX || c->chain.steps[k].kind == CODEC_NARROW ||
          (c->chain.steps[k].param && !codec_step_valid(&c->chain.steps[k]) && c->chain.steps[k].kind != CODEC_T64)) {
        rc = error_set(err, ERR_BAD_ARGUMENTS, "part %s: column %s has an invalid codec", part_name, c->def->name);
        goto out_free;
      }
    c->streams = arena_new_array(&w->arena, struct wstream, c->layout.stream_count + 1);
    for (uint32_t s = 0; s < c->layout.stream_count; s++) {
      struct wstream *ws = &c->streams[s];
      ws->desc = c->layout.streams[s];
      ws->grouped = ws->desc.groupable && w->opt.map_grouping != PART_MAP_GROUPING_NEVER;
      w->any_grouped |= ws->grouped;
      ws->chain = stream_chain(&c->chain, &ws->desc);
      ws->try_hex = !w->opt.no_hex_pack && ws->chain.count < CODEC_CHAIN_MAX &&
                    (ws->desc.kind == STREAM_CHARS ||
                     (ws->desc.kind == STREAM_VALUES && ws->desc.value_type->id == TYPE_FIXED_STRING));
    }
  }
  for (uint32_t i = 0; i < schema->column_count; i++) {
    struct wcol *c = &w->cols[i];
    bool *grouped = arena_new_array(&w->arena, bool, c->layout.stream_count + 1);
    for (uint32_t s = 0; s < c->layout.stream_count; s++)
      grouped[s] = c->streams[s].grouped;
    col_encoder_init(&c->enc, &w->arena, &c->layout, grouped);
    for (uint32_t s = 0; c->enc.groups && s < c->layout.stream_count; s++)
      c->enc.groups[s].decided = w->opt.map_grouping == PART_MAP_GROUPING_ALWAYS;   /* no trial */
  }
  for (uint32_t i = 0; i < schema->key_count; i++)
    if (schema->key_columns[i] >= schema->column_count) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "part %s: bad primary key column", part_name);
      goto out_free;
    }
  for (uint32_t i = 0; i < schema->minmax_count; i++)
    if (schema->minmax_columns[i] >= schema->column_count) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "part %s: bad min/max column", part_name);
      goto out_free;
    }
  w->pk = arena_new_array(&w->arena, struct column *, schema->key_count + 1);
  for (uint32_t i = 0; i < schema->key_count; i++)
    w->pk[i] = column_create(&w->arena, schema->columns[schema->key_columns[i]].type, 64);
  w->mm_min = arena_new_array(&w->arena, struct column *, schema->minmax_count + 1);
  w->mm_max = arena_new_array(&w->arena, struct column *, schema->minmax_count + 1);
  w->idx = arena_new_array(&w->arena, struct windex, schema->index_count + 1);
  for (uint32_t i = 0; i < schema->index_count; i++) {
    const struct skip_index_def *d = &schema->indexes[i];
    if (!skip_index_type_valid(d)) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "part %s: skip index %s has invalid parameters", part_name,
                     d->name ? d->name : "?");
      goto out_free;
    }
    w->idx[i].b = skip_builder_create(d);
  }

  w->dir = arena_strdup(&w->arena, dir);
  w->tmp_path = arena_printf(&w->arena, "%s/tmp_%s", dir, part_name);
  w->final_path = arena_printf(&w->arena, "%s/%s", dir, part_name);
  int io = storage_appender_open(&w->app, w->tmp_path, 0);
  if (io == -EEXIST) {
    /* a leftover of a crashed writer: tmp_ files are never published */
    unlink(w->tmp_path);
    io = storage_appender_open(&w->app, w->tmp_path, 0);
  }
  if (io < 0) {
    rc = error_set(err, io == -ENOENT ? ERR_FILE_DOESNT_EXIST : ERR_CANNOT_OPEN_FILE, "cannot create %s: %s",
                   w->tmp_path, strerror(-io));
    w->app.fd = -1;
    goto out_free;
  }
  w->tmp_created = true;
  io = storage_appender_write(&w->app, PART_HEAD_MAGIC, PART_MAGIC_BYTES);
  if (io < 0) {
    rc = io_error(err, io, "write", w->tmp_path);
    part_writer_abort(w);
    return rc;
  }
  *out = w;
  return 0;

out_free:
  part_writer_abort(w);
  return rc;
}

void part_writer_abort(struct part_writer *w)
{
  if (!w)
    return;
  if (w->app.fd >= 0 || w->app.buf[0])
    storage_appender_close(&w->app);
  if (w->tmp_created && w->tmp_path)
    unlink(w->tmp_path);
  for (uint32_t i = 0; w->cols && i < w->schema.column_count; i++)
    col_encoder_free(&w->cols[i].enc);
  for (uint32_t i = 0; w->idx && i < w->schema.index_count; i++)
    skip_builder_destroy(w->idx[i].b);
  buf_free(&w->scratch);
  arena_destroy(&w->arena);
  mem_free(w);
}

/* ---- blocks ---- */

static int write_block(struct part_writer *w, const struct codec_chain *chain, const void *raw, size_t len,
                       uint32_t *ordinal, uint64_t *stored, struct error *err)
{
  buf_reset(&w->scratch);
  uint64_t sum = block_encode(chain, raw, len, &w->scratch);
  int io = storage_appender_write(&w->app, w->scratch.data, w->scratch.len);
  if (io < 0)
    return io_error(err, io, "write", w->tmp_path);
  if (w->block_count == w->block_cap) {
    uint32_t cap = w->block_cap ? w->block_cap * 2 : 256;
    w->blocks = arena_realloc(&w->arena, w->blocks, w->block_cap * sizeof *w->blocks, cap * sizeof *w->blocks);
    w->block_cap = cap;
  }
  w->blocks[w->block_count] = (struct blockrec){ (uint32_t)w->scratch.len, (uint32_t)len, sum };
  *ordinal = w->block_count++;
  *stored = w->scratch.len;
  return 0;
}

/* Frames raw bytes [off, off+len) of stream s of column c as one block; the
 * caller drops them from the raw buffer (once for several blocks). */
static int flush_stream(struct part_writer *w, struct wcol *c, uint32_t s, size_t off, size_t len, struct error *err)
{
  struct wstream *ws = &c->streams[s];
  const char *data = c->enc.raw[s].data + off;
  struct codec_chain chain = ws->chain;
  struct codec_step pre = { 0, 0 };
  if (ws->try_hex && len && codec_hex_applicable(data, len))
    pre = (struct codec_step){ CODEC_HEX, 0 };
  if (ws->desc.kind == STREAM_LC_KEYS && chain.count < CODEC_CHAIN_MAX) {
    uint32_t mx = 0;
    for (size_t i = 0; i + 4 <= len; i += 4) {
      uint32_t k = get_u32le((const uint8_t *)data + i);
      if (k > mx)
        mx = k;
    }
    pre = (struct codec_step){ CODEC_NARROW, (int16_t)(mx < 256 ? 1 : mx < 65536 ? 2 : 4) };
  }
  /* fixed-length values repeated within the block (trace ids): store each once */
  struct codec_step dedup = { 0, 0 };
  uint32_t ulen = c->enc.uniform_len[s];
  if (!w->opt.no_hex_pack && ws->desc.kind == STREAM_CHARS && ulen && ulen != UINT32_MAX &&
      chain.count + 2 <= CODEC_CHAIN_MAX) {
    uint32_t wdt = pre.kind == CODEC_HEX ? ulen / 2 : ulen;
    if (wdt >= 8 && wdt <= 255 && (pre.kind != CODEC_HEX || ulen % 2 == 0) && len / ulen >= 64) {
      size_t count = len / ulen, limit = count * 3 / 4;
      if (dedup_count_distinct((int)ulen, (const uint8_t *)data, len - len % ulen, limit) <= limit)
        dedup = (struct codec_step){ CODEC_DEDUP, (int16_t)wdt };
    }
  }
  if (dedup.kind) {
    memmove(&chain.steps[1], &chain.steps[0], chain.count * sizeof chain.steps[0]);
    chain.steps[0] = dedup;
    chain.count++;
  }
  if (pre.kind) {
    memmove(&chain.steps[1], &chain.steps[0], chain.count * sizeof chain.steps[0]);
    chain.steps[0] = pre;
    chain.count++;
  }
  uint32_t ord;
  uint64_t stored;
  int rc = write_block(w, &chain, data, len, &ord, &stored, err);
  if (rc)
    return rc;

  grow_u32(&w->arena, &ws->blocks, &ws->block_cap, ws->block_count + 1);
  ws->blocks[ws->block_count++] = ord;
  ws->raw_bytes += len;
  c->stats.compressed_bytes += stored;
  c->stats.uncompressed_bytes += len;
  return 0;
}

/* Closes blocks that reached max_block_bytes (at_granule: also those past min). */
static int flush_full(struct part_writer *w, bool at_granule, bool all, struct error *err)
{
  for (uint32_t i = 0; i < w->schema.column_count; i++) {
    struct wcol *c = &w->cols[i];
    for (uint32_t s = 0; s < c->layout.stream_count; s++) {
      if (c->streams[s].desc.whole)
        continue;
      struct buf *raw = &c->enc.raw[s];
      size_t off = 0;
      while (raw->len - off >= w->opt.max_block_bytes) {
        int rc = flush_stream(w, c, s, off, w->opt.max_block_bytes, err);
        if (rc)
          return rc;
        off += w->opt.max_block_bytes;
      }
      size_t left = raw->len - off;
      if (left && ((at_granule && left >= w->opt.min_block_bytes) || all)) {
        int rc = flush_stream(w, c, s, off, left, err);
        if (rc)
          return rc;
        off += left;
      }
      buf_consume(raw, off);
    }
  }
  return 0;
}

/* ---- granules ---- */

static int granule_begin(struct part_writer *w, const struct block *b, uint32_t row, struct error *err)
{
  int rc = flush_full(w, true, false, err);
  if (rc)
    return rc;
  if (w->granule_count >= PART_GRANULES_MAX)
    return error_set(err, ERR_TOO_MANY_ROWS, "part %s: too many granules", w->final_path);
  uint32_t g = w->granule_count;
  if (g == w->granule_cap) {
    uint32_t old = w->granule_cap;
    grow_u32(&w->arena, &w->granule_rows, &w->granule_cap, g + 1);
    for (uint32_t i = 0; i < w->schema.column_count; i++) {
      struct wcol *c = &w->cols[i];
      for (uint32_t s = 0; s < c->layout.stream_count; s++) {
        struct wstream *ws = &c->streams[s];
        if (ws->desc.whole)
          continue;
        uint32_t cap1 = old, cap2 = old;
        grow_u32(&w->arena, &ws->mark_block, &cap1, w->granule_cap);
        grow_u32(&w->arena, &ws->mark_off, &cap2, w->granule_cap);
      }
    }
  }
  for (uint32_t i = 0; i < w->schema.column_count; i++) {
    struct wcol *c = &w->cols[i];
    for (uint32_t s = 0; s < c->layout.stream_count; s++) {
      struct wstream *ws = &c->streams[s];
      if (ws->desc.whole)
        continue;
      ws->mark_block[g] = ws->block_count;
      ws->mark_off[g] = (uint32_t)c->enc.raw[s].len;
    }
  }
  for (uint32_t k = 0; k < w->schema.key_count; k++)
    column_append_from(w->pk[k], b->columns[w->schema.key_columns[k]], row);
  w->granule_rows[g] = 0;
  w->granule_count++;
  return 0;
}

static void granule_end(struct part_writer *w)
{
  for (uint32_t i = 0; w->any_grouped && i < w->schema.column_count; i++)
    col_encoder_end_granule(&w->cols[i].enc);
  w->granule_rows[w->granule_count - 1] = w->cur_rows;
  w->cur_rows = 0;
  w->cur_bytes = 0;
  for (uint32_t i = 0; i < w->schema.index_count; i++) {
    struct windex *x = &w->idx[i];
    if (++x->granules_in_entry >= w->schema.indexes[i].granularity) {
      skip_builder_close_entry(x->b);
      x->granules_in_entry = 0;
    }
  }
}

/* Approximate bytes of one row (for index_granularity_bytes). */
static uint64_t row_bytes(const struct column *c, uint32_t row)
{
  switch (c->type->id) {
  case TYPE_STRING:
    return c->offsets[row] - (row ? c->offsets[row - 1] : 0) + 1;
  case TYPE_NULLABLE:
    return 1 + row_bytes(c->children[0], row);
  case TYPE_ARRAY:
  case TYPE_MAP: {
    uint64_t s = row ? c->offsets[row - 1] : 0, e = c->offsets[row], n = 1;
    for (uint32_t k = 0; k < c->child_count; k++) {
      const struct column *ch = c->children[k];
      size_t fb = datatype_fixed_bytes(ch->type);
      if (fb)
        n += (e - s) * fb;
      else if (ch->type->id == TYPE_STRING)
        n += (e > s ? ch->offsets[e - 1] - (s ? ch->offsets[s - 1] : 0) : 0) + (e - s);
      else
        for (uint64_t r = s; r < e; r++)
          n += row_bytes(ch, (uint32_t)r);
    }
    return n;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED: {
    uint64_t n = 0;
    for (uint32_t k = 0; k < c->child_count; k++)
      n += row_bytes(c->children[k], row);
    return n;
  }
  default:
    return datatype_fixed_bytes(c->type);
  }
}

/* Tracks min/max over non-NULL rows of one block, once per block. */
static void minmax_update(struct part_writer *w, uint32_t i, const struct column *c, uint32_t rows)
{
  int64_t lo, hi;
  if (!column_extremes(c, 0, rows, &lo, &hi))
    return;
  const struct datatype *t = c->type;
  if (!w->mm_min[i] || column_compare_rows(c, (uint32_t)lo, w->mm_min[i], 0, false) < 0) {
    w->mm_min[i] = column_create(&w->arena, t, 1);
    column_append_from(w->mm_min[i], c, (uint32_t)lo);
  }
  if (!w->mm_max[i] || column_compare_rows(c, (uint32_t)hi, w->mm_max[i], 0, false) > 0) {
    w->mm_max[i] = column_create(&w->arena, t, 1);
    column_append_from(w->mm_max[i], c, (uint32_t)hi);
  }
}

int part_writer_write_block(struct part_writer *w, const struct block *in, struct error *err)
{
  if (w->broken)
    return error_set(err, ERR_LOGICAL_ERROR, "part %s: writer failed earlier", w->final_path);
  const struct part_schema *S = &w->schema;
  if (in->column_count != S->column_count + S->index_count)
    return error_set(err, ERR_NUMBER_OF_COLUMNS_DOESNT_MATCH, "part %s: block has %u columns, expected %u",
                     w->final_path, in->column_count, S->column_count + S->index_count);
  struct arena tmp;
  arena_init(&tmp, 0);
  struct block b = *in;
  b.columns = arena_new_array(&tmp, struct column *, in->column_count + 1);
  int rc = 0;
  uint64_t block_bytes = 0;
  for (uint32_t i = 0; i < in->column_count; i++) {
    const struct column *c = in->columns[i];
    const struct datatype *want = i < S->column_count ? S->columns[i].type : S->indexes[i - S->column_count].input_type;
    bool ok = c && (c->is_const || c->rows == in->rows) &&
              (datatype_equal(c->type, want) ||
               (want->id == TYPE_LOW_CARDINALITY && datatype_equal(c->type, want->children[0])));
    if (!ok) {
      rc = error_set(err, ERR_TYPE_MISMATCH, "part %s: input column %u (%s) has the wrong type or row count",
                     w->final_path, i, i < S->column_count ? S->columns[i].name : S->indexes[i - S->column_count].name);
      goto out;
    }
    struct column *m = column_materialize(&tmp, c);
    if (c->is_const)
      m->rows = in->rows;
    b.columns[i] = m;
    if (i < S->column_count)
      block_bytes += column_byte_size(m);
  }
  for (uint32_t i = 0; i < S->minmax_count; i++)
    minmax_update(w, i, b.columns[S->minmax_columns[i]], in->rows);

  bool check_bytes = w->cur_bytes + block_bytes >= w->opt.index_granularity_bytes;
  uint32_t pos = 0;
  while (pos < in->rows) {
    if (w->cur_rows == 0 && (rc = granule_begin(w, &b, pos, err)) != 0)
      goto out_broken;
    uint32_t n = in->rows - pos;
    if (n > w->opt.index_granularity - w->cur_rows)
      n = w->opt.index_granularity - w->cur_rows;
    bool full = w->cur_rows + n == w->opt.index_granularity;
    if (check_bytes) {
      uint64_t bytes = w->cur_bytes;
      uint32_t k = 0;
      while (k < n) {
        for (uint32_t i = 0; i < S->column_count; i++)
          bytes += row_bytes(b.columns[i], pos + k);
        k++;
        if (bytes >= w->opt.index_granularity_bytes) {
          full = true;
          break;
        }
      }
      n = k;
      w->cur_bytes = bytes;
    }
    for (uint32_t i = 0; i < S->column_count; i++)
      if (!S->columns[i].computed)
        col_encoder_add(&w->cols[i].enc, S->columns[i].type, b.columns[i], pos, n);
    for (uint32_t i = 0; i < S->index_count; i++)
      skip_builder_add(w->idx[i].b, b.columns[S->column_count + i], pos, n);
    w->cur_rows += n;
    w->rows += n;
    pos += n;
    if (full)
      granule_end(w);
    if ((rc = flush_full(w, false, false, err)) != 0)
      goto out_broken;
  }
  goto out;
out_broken:
  w->broken = true;
out:
  arena_destroy(&tmp);
  return rc;
}

/* ---- finishing ---- */

static void put_chain(struct buf *f, const struct codec_chain *c)
{
  buf_put_u8(f, c->count);
  for (unsigned i = 0; i < c->count; i++) {
    buf_put_u8(f, c->steps[i].kind);
    buf_put_u8(f, (uint8_t)(int8_t)c->steps[i].param);
  }
}

static void put_type(struct buf *f, const struct datatype *t)
{
  struct buf tn;
  buf_init(&tn);
  datatype_format(t, &tn);
  buf_put_bytes(f, tn.data, tn.len);
  buf_free(&tn);
}

/* Whether stream s of c was written grouped: the encoder's final choice
 * (a map that never had a value is left in row order: nothing to group). */
static bool stream_grouped(const struct wcol *c, uint32_t s)
{
  const struct col_encoder *e = &c->enc;
  if (!e->grouped || !e->grouped[s])
    return false;
  uint32_t lens = c->layout.streams[s].kind == STREAM_LENGTHS ? s : s - 1;
  return e->groups[lens].decided;
}

/* The oldest footer version that can describe the part, so readers that
 * predate a feature keep reading parts that do not use it. */
static uint8_t footer_version(const struct part_writer *w)
{
  const struct part_schema *S = &w->schema;
  bool grouped = false, computed = false;
  for (uint32_t i = 0; i < S->column_count; i++) {
    computed |= S->columns[i].computed;
    for (uint32_t s = 0; s < w->cols[i].layout.stream_count; s++)
      grouped |= stream_grouped(&w->cols[i], s);
  }
  return computed ? PART_FOOTER_VERSION_COLUMN_FLAGS : grouped ? PART_FOOTER_VERSION_GROUPED : PART_FOOTER_VERSION;
}

static void encode_footer(struct part_writer *w, struct buf *f)
{
  const struct part_schema *S = &w->schema;
  uint8_t version = footer_version(w);
  buf_put_u8(f, version);
  buf_put_varint(f, w->rows);
  buf_put_varint(f, w->opt.index_granularity);
  buf_put_varint(f, w->opt.index_granularity_bytes);
  buf_put_bytes(f, w->opt.partition_id, strlen(w->opt.partition_id));
  buf_put_bytes(f, w->opt.partition_value.ptr, w->opt.partition_value.len);
  buf_put_varint(f, w->granule_count);
  for (uint32_t g = 0; g < w->granule_count; g++)
    buf_put_varint(f, w->granule_rows[g]);
  buf_put_varint(f, w->block_count);
  for (uint32_t i = 0; i < w->block_count; i++) {
    buf_put_varint(f, w->blocks[i].stored);
    buf_put_varint(f, w->blocks[i].raw);
    buf_put_u64le(f, w->blocks[i].checksum);
  }
  buf_put_varint(f, S->column_count);
  for (uint32_t i = 0; i < S->column_count; i++) {
    struct wcol *c = &w->cols[i];
    buf_put_bytes(f, c->def->name, strlen(c->def->name));
    put_type(f, c->def->type);
    put_chain(f, &c->chain);
    if (version >= PART_FOOTER_VERSION_COLUMN_FLAGS) {
      buf_put_u8(f, c->def->computed ? PART_COLUMN_COMPUTED : 0);
      if (c->def->computed)
        continue;
    }
    buf_put_varint(f, c->stats.compressed_bytes);
    buf_put_varint(f, c->stats.uncompressed_bytes);
    buf_put_varint(f, c->layout.lc_count);
    for (uint32_t k = 0; k < c->layout.lc_count; k++)
      buf_put_varint(f, c->enc.dicts[k].values->rows);
    buf_put_varint(f, c->layout.stream_count);
    for (uint32_t s = 0; s < c->layout.stream_count; s++) {
      struct wstream *ws = &c->streams[s];
      buf_put_u8(f, ws->desc.kind);
      buf_put_u8(f, (ws->desc.whole ? PART_STREAM_WHOLE : 0) | (stream_grouped(c, s) ? PART_STREAM_GROUPED : 0));
      buf_put_varint(f, ws->raw_bytes);
      buf_put_varint(f, ws->block_count);
      uint32_t prev = 0;
      for (uint32_t k = 0; k < ws->block_count; k++) {
        buf_put_varint(f, k ? ws->blocks[k] - prev : ws->blocks[k]);
        prev = ws->blocks[k];
      }
      if (ws->desc.whole)
        continue;
      prev = 0;
      for (uint32_t g = 0; g < w->granule_count; g++) {
        buf_put_varint(f, ws->mark_block[g] - prev);
        buf_put_varint(f, ws->mark_off[g]);
        prev = ws->mark_block[g];
      }
    }
  }
  buf_put_varint(f, S->key_count);
  for (uint32_t k = 0; k < S->key_count; k++) {
    buf_put_varint(f, S->key_columns[k]);
    colser_write(f, w->pk[k]);
  }
  buf_put_varint(f, S->minmax_count);
  for (uint32_t k = 0; k < S->minmax_count; k++) {
    buf_put_varint(f, S->minmax_columns[k]);
    bool has = w->mm_min[k] != NULL;
    buf_put_u8(f, has);
    if (has) {
      struct column *mm = column_create(&w->arena, w->mm_min[k]->type, 2);
      column_append_from(mm, w->mm_min[k], 0);
      column_append_from(mm, w->mm_max[k], 0);
      colser_write(f, mm);
    }
  }
  buf_put_varint(f, S->index_count);
  for (uint32_t i = 0; i < S->index_count; i++) {
    const struct skip_index_def *d = &S->indexes[i];
    struct windex *x = &w->idx[i];
    buf_put_bytes(f, d->name ? d->name : "", d->name ? strlen(d->name) : 0);
    buf_put_bytes(f, d->expression ? d->expression : "", d->expression ? strlen(d->expression) : 0);
    buf_put_u8(f, (uint8_t)d->type);
    put_type(f, d->input_type);
    buf_put_varint(f, d->granularity);
    uint64_t fp;
    memcpy(&fp, &d->false_positive_rate, 8);
    buf_put_u64le(f, fp);
    buf_put_varint(f, d->max_rows);
    buf_put_varint(f, d->size_bytes);
    buf_put_varint(f, d->hash_count);
    buf_put_varint(f, d->seed);
    buf_put_varint(f, d->ngram_n);
    buf_put_varint(f, skip_builder_entries(x->b));
    buf_put_varint(f, x->first_block);
    buf_put_varint(f, x->block_count);
    buf_put_varint(f, x->raw_bytes);
  }
}

int part_writer_finish(struct part_writer *w, struct arena *a, struct part_info *out, struct error *err)
{
  int rc = 0, io;
  struct buf footer, stored;
  buf_init(&footer);
  buf_init(&stored);
  if (w->broken) {
    rc = error_set(err, ERR_LOGICAL_ERROR, "part %s: writer failed earlier", w->final_path);
    goto out_abort;
  }
  if (w->cur_rows)
    granule_end(w);
  for (uint32_t i = 0; i < w->schema.index_count; i++)
    if (w->idx[i].granules_in_entry) {
      skip_builder_close_entry(w->idx[i].b);
      w->idx[i].granules_in_entry = 0;
    }
  if ((rc = flush_full(w, false, true, err)) != 0)
    goto out_abort;
  /* dictionaries (whole streams) */
  for (uint32_t i = 0; i < w->schema.column_count; i++) {
    struct wcol *c = &w->cols[i];
    for (uint32_t k = 0; k < c->layout.lc_count && !c->def->computed; k++) {
      col_encoder_add_dict(&c->enc, c->def->type, k);
      const struct lc_desc *L = &c->layout.lcs[k];
      for (uint32_t s = L->dict_first_stream; s < L->dict_first_stream + L->dict_stream_count; s++) {
        size_t len = c->enc.raw[s].len;
        for (size_t off = 0; off < len; off += w->opt.max_block_bytes) {
          size_t n = len - off < w->opt.max_block_bytes ? len - off : w->opt.max_block_bytes;
          if ((rc = flush_stream(w, c, s, off, n, err)) != 0)
            goto out_abort;
        }
        buf_reset(&c->enc.raw[s]);
      }
    }
  }
  uint64_t column_end = storage_appender_size(&w->app);
  /* skip-index blocks */
  for (uint32_t i = 0; i < w->schema.index_count; i++) {
    struct windex *x = &w->idx[i];
    struct buf *data = skip_builder_data(x->b);
    x->first_block = w->block_count;
    x->raw_bytes = data->len;
    for (size_t off = 0; off < data->len; off += w->opt.max_block_bytes) {
      size_t n = data->len - off < w->opt.max_block_bytes ? data->len - off : w->opt.max_block_bytes;
      uint32_t ord;
      uint64_t st;
      if ((rc = write_block(w, &w->opt.default_codec, data->data + off, n, &ord, &st, err)) != 0)
        goto out_abort;
      x->block_count++;
    }
  }
  uint64_t index_end = storage_appender_size(&w->app);
  /* footer + tail */
  encode_footer(w, &footer);
  buf_put_u8(&stored, w->opt.plain_footer ? PART_FOOTER_PLAIN : PART_FOOTER_ZSTD);
  buf_put_varint(&stored, footer.len);
  if (w->opt.plain_footer) {
    buf_append(&stored, footer.data, footer.len);
  } else {
    size_t bound = ZSTD_compressBound(footer.len);
    buf_reserve(&stored, bound);
    size_t z = ZSTD_compress(stored.data + stored.len, bound, footer.data, footer.len, 3);
    if (ZSTD_isError(z)) {
      rc = error_set(err, ERR_LOGICAL_ERROR, "part %s: footer compression failed", w->final_path);
      goto out_abort;
    }
    stored.len += z;
  }
  uint8_t tail[PART_TAIL_BYTES];
  put_u64le(tail, stored.len);
  put_u64le(tail + 8, XXH3_64bits(stored.data, stored.len));
  memcpy(tail + 16, PART_TAIL_MAGIC, 8);
  if ((io = storage_appender_write(&w->app, stored.data, stored.len)) < 0 ||
      (io = storage_appender_write(&w->app, tail, sizeof tail)) < 0) {
    rc = io_error(err, io, "write", w->tmp_path);
    goto out_abort;
  }
  uint64_t file_bytes = storage_appender_size(&w->app);
  io = w->opt.no_fsync ? storage_appender_flush(&w->app) : storage_appender_sync(&w->app);
  if (io < 0) {
    rc = io_error(err, io, w->opt.no_fsync ? "write" : "fsync", w->tmp_path);
    goto out_abort;
  }
  io = storage_appender_close(&w->app);
  if (io < 0) {
    rc = io_error(err, io, "close", w->tmp_path);
    goto out_abort;
  }
  if (w->opt.no_fsync)
    io = rename(w->tmp_path, w->final_path) == 0 ? 0 : -errno;
  else
    io = storage_io_rename_durable(w->tmp_path, w->final_path);
  if (io < 0) {
    rc = io_error(err, io, "rename", w->tmp_path);
    goto out_abort;
  }
  if (out) {
    const struct part_schema *S = &w->schema;
    memset(out, 0, sizeof *out);
    out->path = arena_strdup(a, w->final_path);
    out->rows = w->rows;
    out->granules = w->granule_count;
    out->bytes_on_disk = file_bytes;
    out->index_bytes = index_end - column_end;
    out->column_count = S->column_count;
    out->columns = arena_new_array(a, struct part_column_stats, S->column_count + 1);
    for (uint32_t i = 0; i < S->column_count; i++) {
      out->columns[i] = w->cols[i].stats;
      out->compressed_bytes += w->cols[i].stats.compressed_bytes;
      out->uncompressed_bytes += w->cols[i].stats.uncompressed_bytes;
    }
    out->minmax_count = S->minmax_count;
    out->minmax = arena_new_array(a, struct column *, S->minmax_count + 1);
    for (uint32_t k = 0; k < S->minmax_count; k++) {
      out->minmax[k] = column_create(a, S->columns[S->minmax_columns[k]].type, 2);
      if (w->mm_min[k]) {
        column_append_from(out->minmax[k], w->mm_min[k], 0);
        column_append_from(out->minmax[k], w->mm_max[k], 0);
      }
    }
  }
  buf_free(&footer);
  buf_free(&stored);
  w->tmp_created = false;   /* published: nothing to remove */
  part_writer_abort(w);
  return 0;

out_abort:
  buf_free(&footer);
  buf_free(&stored);
  part_writer_abort(w);
  return rc;
}
