/* Binary formats: RowBinary (+WithNames, +WithNamesAndTypes) and Native.
 *
 * RowBinary: rows back to back; fixed-width values little-endian as stored
 * (Date u16, DateTime u32, DateTime64 i64, UUID two u64 halves, high first),
 * String = LEB128 length + bytes, FixedString raw, Nullable = 1 flag byte
 * (1 = NULL) then the value if present, Array/Map = LEB128 count + elements
 * (Map: key, value pairs), Tuple = elements, LowCardinality as its values.
 *
 * Native (one block per result block, no block-info header over HTTP):
 *   varuint columns, varuint rows, then per column: name, type (strings),
 *   state prefixes (u64 version 1 per LowCardinality inside the type), data.
 *   Data: fixed-width values raw; String LEB128-prefixed; Nullable null map
 *   bytes then values; Array/Map u64 cumulative offsets then elements (Map:
 *   keys column, then values column); Tuple each element column; Nothing one
 *   '0' byte per row; LowCardinality u64 flags (key width | has additional
 *   keys | need update dictionary), u64 dictionary size, the dictionary as
 *   a plain column (for Nullable: slot 0 = NULL, slot 1 = default), u64 rows
 *   and the keys. */
#include "query/format_int.h"

enum {
  LC_KEYS_VERSION = 1,                       /* SharedDictionariesWithAdditionalKeys */
  LC_HAS_ADDITIONAL_KEYS = 1 << 9,
  LC_NEED_UPDATE_DICTIONARY = 1 << 10,
};

static void varuint(struct buf *o, uint64_t v)
{
  while (v >= 0x80) {
    buf_append_char(o, (char)(v | 0x80));
    v >>= 7;
  }
  buf_append_char(o, (char)v);
}

static void put_u64(struct buf *o, uint64_t v)
{
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char)(v >> (8 * i));
  buf_append(o, b, 8);
}

static void bin_string(struct buf *o, const char *s, size_t len)
{
  varuint(o, len);
  buf_append(o, s, len);
}

/* ---- RowBinary ---- */

static void rb_value(struct buf *o, const struct column *c, uint32_t row)
{
  row = column_row(c, row);
  if (c->type->id == TYPE_LOW_CARDINALITY) {
    row = ((const uint32_t *)c->data)[row];
    c = c->children[0];
  }
  if (c->type->id == TYPE_NULLABLE) {
    if (c->nulls[row]) {
      buf_append_char(o, 1);
      return;
    }
    buf_append_char(o, 0);
    c = c->children[0];
  }
  switch (c->type->id) {
  case TYPE_STRING: {
    struct slice s = column_get_bytes(c, row);
    bin_string(o, s.ptr, s.len);
    return;
  }
  case TYPE_ARRAY:
  case TYPE_MAP: {
    uint64_t start, end;
    column_array_range(c, row, &start, &end);
    varuint(o, end - start);
    for (uint64_t i = start; i < end; i++)
      for (uint32_t k = 0; k < c->child_count; k++)
        rb_value(o, c->children[k], (uint32_t)i);
    return;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t k = 0; k < c->child_count; k++)
      rb_value(o, c->children[k], row);
    return;
  case TYPE_NOTHING:
    return;
  default: {
    size_t fb = datatype_fixed_bytes(c->type);
    buf_append(o, (const char *)c->data + (size_t)row * fb, fb);
    return;
  }
  }
}

static int rb_begin(struct format_writer *w)
{
  if (!(w->desc->flags & FF_NAMES))
    return 0;
  varuint(&w->out, w->column_count);
  for (uint32_t i = 0; i < w->column_count; i++)
    bin_string(&w->out, w->names[i], strlen(w->names[i]));
  if (w->desc->flags & FF_TYPES)
    for (uint32_t i = 0; i < w->column_count; i++) {
      const char *t = datatype_name(w->arena, w->types[i]);
      bin_string(&w->out, t, strlen(t));
    }
  return 0;
}

static int rb_block(struct format_writer *w, const struct block *b)
{
  for (uint32_t r = 0; r < b->rows; r++) {
    for (uint32_t i = 0; i < b->column_count; i++)
      rb_value(&w->out, b->columns[i], r);
    int rc = format_maybe_flush(w);
    if (rc)
      return rc;
  }
  w->rows += b->rows;
  return 0;
}

const struct format_ops format_ops_row_binary = { rb_begin, rb_block, NULL, NULL }  /* RowBinary prints no totals */;

/* ---- Native ---- */

/* One u64 version per LowCardinality stream, in stream order. */
static void native_prefix(struct buf *o, const struct datatype *t)
{
  if (t->id == TYPE_LOW_CARDINALITY) {
    put_u64(o, LC_KEYS_VERSION);
    return;
  }
  for (uint32_t i = 0; i < t->child_count; i++)
    native_prefix(o, t->children[i]);
}

static void native_data(struct arena *scratch, struct buf *o, const struct column *c);

static void native_low_cardinality(struct arena *scratch, struct buf *o, const struct column *c)
{
  const struct column *dict = c->children[0];
  bool nullable = dict->type->id == TYPE_NULLABLE;
  const uint32_t *keys = c->data;
  const struct column *plain = dict;
  uint32_t shift = 0;
  if (nullable) {
    /* ClickHouse's nullable dictionaries keep NULL in slot 0 and the
     * default value in slot 1; ours keep NULL in key 0 only. */
    struct column *p = column_create(scratch, dict->type->children[0], dict->rows + 1);
    column_append_default(p);
    column_append_default(p);
    if (dict->rows > 1)
      column_append_range(p, dict->children[0], 1, dict->rows - 1);
    plain = p;
    shift = 1;
  }
  uint64_t dict_size = plain->rows;
  uint32_t key_type = dict_size <= 0x100 ? 0 : dict_size <= 0x10000 ? 1 : 2;
  put_u64(o, key_type | LC_HAS_ADDITIONAL_KEYS | LC_NEED_UPDATE_DICTIONARY);
  put_u64(o, dict_size);
  native_data(scratch, o, plain);
  put_u64(o, c->rows);
  for (uint32_t r = 0; r < c->rows; r++) {
    uint32_t k = keys[r];
    if (k)
      k += shift;
    unsigned char b[4] = { (unsigned char)k, (unsigned char)(k >> 8), (unsigned char)(k >> 16),
                           (unsigned char)(k >> 24) };
    buf_append(o, b, key_type == 0 ? 1 : key_type == 1 ? 2 : 4);
  }
}

static void native_data(struct arena *scratch, struct buf *o, const struct column *c)
{
  if (c->is_const)
    c = column_materialize(scratch, c);
  switch (c->type->id) {
  case TYPE_LOW_CARDINALITY:
    native_low_cardinality(scratch, o, c);
    return;
  case TYPE_NULLABLE:
    buf_append(o, c->nulls, c->rows);
    native_data(scratch, o, c->children[0]);
    return;
  case TYPE_STRING:
    for (uint32_t r = 0; r < c->rows; r++) {
      struct slice s = column_get_bytes(c, r);
      bin_string(o, s.ptr, s.len);
    }
    return;
  case TYPE_ARRAY:
  case TYPE_MAP:
    for (uint32_t r = 0; r < c->rows; r++)
      put_u64(o, c->offsets[r]);
    for (uint32_t k = 0; k < c->child_count; k++)
      native_data(scratch, o, c->children[k]);
    return;
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t k = 0; k < c->child_count; k++)
      native_data(scratch, o, c->children[k]);
    return;
  case TYPE_NOTHING:
    for (uint32_t r = 0; r < c->rows; r++)
      buf_append_char(o, '0');
    return;
  default:
    buf_append(o, c->data, (size_t)c->rows * datatype_fixed_bytes(c->type));
    return;
  }
}

static int native_block(struct format_writer *w, const struct block *b)
{
  struct arena scratch;
  arena_init(&scratch, 0);
  varuint(&w->out, b->column_count);
  varuint(&w->out, b->rows);
  for (uint32_t i = 0; i < b->column_count; i++) {
    const char *t = datatype_name(&scratch, b->columns[i]->type);
    bin_string(&w->out, w->names[i], strlen(w->names[i]));
    bin_string(&w->out, t, strlen(t));
    native_prefix(&w->out, b->columns[i]->type);
    native_data(&scratch, &w->out, b->columns[i]);
    int rc = format_maybe_flush(w);
    if (rc) {
      arena_destroy(&scratch);
      return rc;
    }
  }
  arena_destroy(&scratch);
  w->rows += b->rows;
  return 0;
}

const struct format_ops format_ops_native = { NULL, native_block, NULL, NULL }  /* Native over HTTP: no totals block */;
