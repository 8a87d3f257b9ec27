/* The column ⇄ stream encoding shared by the part writer, the part reader
 * and the footer's small columns: the depth-first stream layout of a type,
 * per-part LowCardinality dictionaries, and the row encoder/decoder.
 *
 * Invariants:
 *  1. Writer and reader walk a type's streams in the same depth-first order
 *     (col_layout_build), so a stream is identified by its index alone.
 *  2. The decoder checks, before allocating for n rows, that the stream
 *     still holds at least n rows' worth of bytes (1 per varint, the width
 *     per fixed value), so corrupt counts cannot make it allocate wildly.
 *  3. Dictionary key 0 is the type's default (NULL for Nullable); keys read
 *     back are checked against the dictionary's size. */
#include "storage/storage_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

enum { LAYOUT_DEPTH_MAX = 16, DECODE_ROWS_MAX = 1u << 30 };

/* ---- layout ---- */

struct layout_build {
  struct arena *a;
  struct col_layout *L;
  uint32_t stream_cap, lc_cap;
};

static void add_stream(struct layout_build *b, uint8_t kind, bool whole, const struct datatype *vt)
{
  struct col_layout *L = b->L;
  if (L->stream_count == b->stream_cap) {
    uint32_t cap = b->stream_cap ? b->stream_cap * 2 : 4;
    L->streams = arena_realloc(b->a, L->streams, b->stream_cap * sizeof *L->streams, cap * sizeof *L->streams);
    b->stream_cap = cap;
  }
  L->streams[L->stream_count++] = (struct stream_desc){ kind, whole, vt };
}

static int layout_add(struct layout_build *b, const struct datatype *t, bool whole, int depth)
{
  if (depth > LAYOUT_DEPTH_MAX)
    return -1;
  switch (t->id) {
  case TYPE_NOTHING:
    return 0;
  case TYPE_STRING:
    add_stream(b, STREAM_LENGTHS, whole, NULL);
    add_stream(b, STREAM_CHARS, whole, t);
    return 0;
  case TYPE_NULLABLE:
    if (t->child_count != 1)
      return -1;
    add_stream(b, STREAM_NULLMAP, whole, NULL);
    return layout_add(b, t->children[0], whole, depth + 1);
  case TYPE_ARRAY:
    if (t->child_count != 1)
      return -1;
    add_stream(b, STREAM_SIZES, whole, NULL);
    return layout_add(b, t->children[0], whole, depth + 1);
  case TYPE_MAP:
    if (t->child_count != 2)
      return -1;
    add_stream(b, STREAM_SIZES, whole, NULL);
    if (layout_add(b, t->children[0], whole, depth + 1) != 0)
      return -1;
    return layout_add(b, t->children[1], whole, depth + 1);
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t i = 0; i < t->child_count; i++)
      if (layout_add(b, t->children[i], whole, depth + 1) != 0)
        return -1;
    return 0;
  case TYPE_LOW_CARDINALITY: {
    if (whole || t->child_count != 1)
      return -1;  /* no LowCardinality inside a dictionary */
    struct col_layout *L = b->L;
    if (L->lc_count == b->lc_cap) {
      uint32_t cap = b->lc_cap ? b->lc_cap * 2 : 2;
      L->lcs = arena_realloc(b->a, L->lcs, b->lc_cap * sizeof *L->lcs, cap * sizeof *L->lcs);
      b->lc_cap = cap;
    }
    uint32_t li = L->lc_count++;
    add_stream(b, STREAM_LC_KEYS, false, NULL);
    uint32_t first = L->stream_count;
    if (layout_add(b, t->children[0], true, depth + 1) != 0)
      return -1;
    L = b->L;
    L->lcs[li] = (struct lc_desc){ t->children[0], first - 1, first, L->stream_count - first };
    return 0;
  }
  default: {
    size_t fb = datatype_fixed_bytes(t);
    if (!fb || t->id == TYPE_INTERVAL)
      return -1;
    add_stream(b, STREAM_VALUES, whole, t);
    return 0;
  }
  }
}

int col_layout_build(struct arena *a, const struct datatype *t, struct col_layout *out)
{
  memset(out, 0, sizeof *out);
  struct layout_build b = { a, out, 0, 0 };
  return layout_add(&b, t, false, 0);
}

/* ---- dictionaries ---- */

static void dict_insert_slot(struct lc_dict *d, uint32_t key)
{
  uint32_t mask = d->slot_count - 1;
  uint32_t s = (uint32_t)column_hash_row(d->values, key, 0) & mask;
  while (d->slots[s])
    s = (s + 1) & mask;
  d->slots[s] = key + 1;
}

static void dict_init(struct lc_dict *d, struct arena *a, const struct datatype *t)
{
  memset(d, 0, sizeof *d);
  d->values = column_create(a, t, 16);
  column_append_default(d->values);
  d->slot_count = 64;
  d->slots = mem_calloc(d->slot_count, sizeof *d->slots);
  dict_insert_slot(d, 0);
}

static uint32_t dict_intern(struct lc_dict *d, const struct column *src, uint32_t row)
{
  uint32_t mask = d->slot_count - 1;
  uint32_t s = (uint32_t)column_hash_row(src, row, 0) & mask;
  while (d->slots[s]) {
    uint32_t k = d->slots[s] - 1;
    if (column_rows_equal(d->values, k, src, row))
      return k;
    s = (s + 1) & mask;
  }
  column_append_from(d->values, src, row);
  uint32_t key = d->values->rows - 1;
  d->slots[s] = key + 1;
  if ((uint64_t)d->values->rows * 2 > d->slot_count) {
    mem_free(d->slots);
    d->slot_count *= 2;
    d->slots = mem_calloc(d->slot_count, sizeof *d->slots);
    for (uint32_t k = 0; k < d->values->rows; k++)
      dict_insert_slot(d, k);
  }
  return key;
}

/* ---- encoder ---- */

void col_encoder_init(struct col_encoder *e, struct arena *a, const struct col_layout *layout)
{
  e->layout = *layout;
  e->raw = mem_calloc(layout->stream_count ? layout->stream_count : 1, sizeof *e->raw);
  for (uint32_t i = 0; i < layout->stream_count; i++)
    buf_init(&e->raw[i]);
  e->uniform_len = mem_calloc(layout->stream_count ? layout->stream_count : 1, sizeof *e->uniform_len);
  e->dicts = mem_calloc(layout->lc_count ? layout->lc_count : 1, sizeof *e->dicts);
  for (uint32_t i = 0; i < layout->lc_count; i++)
    dict_init(&e->dicts[i], a, layout->lcs[i].dict_type);
}

void col_encoder_free(struct col_encoder *e)
{
  if (!e->raw)
    return;
  for (uint32_t i = 0; i < e->layout.stream_count; i++)
    buf_free(&e->raw[i]);
  for (uint32_t i = 0; i < e->layout.lc_count; i++) {
    mem_free(e->dicts[i].slots);
    mem_free(e->dicts[i].remap);
  }
  mem_free(e->raw);
  mem_free(e->uniform_len);
  mem_free(e->dicts);
  e->raw = NULL;
  e->dicts = NULL;
}

static void put_varints_sizes(struct buf *b, const uint64_t *offsets, uint32_t start, uint32_t count, uint64_t base)
{
  buf_reserve(b, (size_t)count * 10);
  uint8_t *o = (uint8_t *)b->data + b->len;
  size_t n = 0;
  uint64_t prev = base;
  for (uint32_t i = 0; i < count; i++) {
    uint64_t end = offsets[start + i];
    n += varint_put(o + n, end - prev);
    prev = end;
  }
  b->len += n;
}

static void enc(struct col_encoder *e, const struct datatype *t, const struct column *c, uint32_t start, uint32_t count,
                uint32_t *si, uint32_t *li)
{
  switch (t->id) {
  case TYPE_NOTHING:
    return;
  case TYPE_STRING: {
    uint32_t *uniform = &e->uniform_len[*si + 1];
    struct buf *lens = &e->raw[(*si)++], *chars = &e->raw[(*si)++];
    if (!count)
      return;
    uint64_t from = start ? c->offsets[start - 1] : 0, to = c->offsets[start + count - 1];
    if (*uniform != UINT32_MAX)
      for (uint32_t i = 0; i < count; i++) {
        uint64_t len = c->offsets[start + i] - (start + i ? c->offsets[start + i - 1] : 0);
        if (!len)
          continue;
        if (!*uniform && len < UINT32_MAX)
          *uniform = (uint32_t)len;
        else if (*uniform != len) {
          *uniform = UINT32_MAX;
          break;
        }
      }
    put_varints_sizes(lens, c->offsets, start, count, from);
    buf_append(chars, c->chars + from, (size_t)(to - from));
    return;
  }
  case TYPE_NULLABLE: {
    struct buf *nm = &e->raw[(*si)++];
    buf_reserve(nm, count);
    for (uint32_t i = 0; i < count; i++)
      nm->data[nm->len + i] = c->nulls[start + i] ? 1 : 0;
    nm->len += count;
    enc(e, t->children[0], c->children[0], start, count, si, li);
    return;
  }
  case TYPE_ARRAY:
  case TYPE_MAP: {
    struct buf *sizes = &e->raw[(*si)++];
    uint64_t from = start ? c->offsets[start - 1] : 0, to = count ? c->offsets[start + count - 1] : from;
    put_varints_sizes(sizes, c->offsets, start, count, from);
    for (uint32_t k = 0; k < t->child_count; k++)
      enc(e, t->children[k], c->children[k], (uint32_t)from, (uint32_t)(to - from), si, li);
    return;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t k = 0; k < t->child_count; k++)
      enc(e, t->children[k], c->children[k], start, count, si, li);
    return;
  case TYPE_LOW_CARDINALITY: {
    struct lc_dict *d = &e->dicts[*li];
    struct buf *keys = &e->raw[*si];
    *si += 1 + e->layout.lcs[*li].dict_stream_count;
    (*li)++;
    buf_reserve(keys, (size_t)count * 4);
    uint8_t *o = (uint8_t *)keys->data + keys->len;
    if (c->type->id == TYPE_LOW_CARDINALITY) {
      const struct column *src = c->children[0];
      if (d->remap_cap < src->rows) {
        mem_free(d->remap);
        d->remap_cap = src->rows;
        d->remap = mem_alloc((size_t)src->rows * sizeof *d->remap);
      }
      memset(d->remap, 0, (size_t)src->rows * sizeof *d->remap);
      const uint32_t *sk = c->data;
      for (uint32_t i = 0; i < count; i++) {
        uint32_t k = sk[start + i];
        if (!d->remap[k])
          d->remap[k] = dict_intern(d, src, k) + 1;
        put_u32le(o + 4 * (size_t)i, d->remap[k] - 1);
      }
    } else {
      for (uint32_t i = 0; i < count; i++)
        put_u32le(o + 4 * (size_t)i, dict_intern(d, c, start + i));
    }
    keys->len += (size_t)count * 4;
    return;
  }
  default: {
    size_t fb = datatype_fixed_bytes(t);
    buf_append(&e->raw[(*si)++], (const char *)c->data + (size_t)start * fb, (size_t)count * fb);
    return;
  }
  }
}

void col_encoder_add(struct col_encoder *e, const struct datatype *t, const struct column *c, uint32_t start,
                     uint32_t count)
{
  uint32_t si = 0, li = 0;
  enc(e, t, c, start, count, &si, &li);
}

void col_encoder_add_dict(struct col_encoder *e, const struct datatype *t, uint32_t lc)
{
  const struct lc_desc *L = &e->layout.lcs[lc];
  uint32_t si = L->dict_first_stream, li = 0;
  enc(e, L->dict_type, e->dicts[lc].values, 0, e->dicts[lc].values->rows, &si, &li);
  (void)t;
}

/* ---- sources ---- */

static int mem_next(struct stream_src *s) { (void)s; return -1; }

void stream_src_init_mem(struct stream_src *s, const void *p, size_t n)
{
  memset(s, 0, sizeof *s);
  s->p = p;
  s->end = (const uint8_t *)p + n;
  s->next = mem_next;
}

static uint64_t src_remaining(const struct stream_src *s) { return (uint64_t)(s->end - s->p) + s->rest_raw; }

static int src_read(struct stream_src *s, void *dst, uint64_t n)
{
  uint8_t *o = dst;
  while (n) {
    if (s->p == s->end && (s->bad || s->next(s) != 0)) {
      s->bad = true;
      return -1;
    }
    size_t k = (size_t)(s->end - s->p);
    if (k > n)
      k = (size_t)n;
    memcpy(o, s->p, k);
    o += k;
    s->p += k;
    n -= k;
  }
  return 0;
}

static int src_varint(struct stream_src *s, uint64_t *v)
{
  if (s->end - s->p >= 10) {
    size_t n = varint_get(s->p, s->end, v);
    if (!n)
      return -1;
    s->p += n;
    return 0;
  }
  uint64_t x = 0;
  for (int i = 0; i < 10; i++) {
    uint8_t c;
    if (src_read(s, &c, 1) != 0)
      return -1;
    if (i == 9 && c > 1)
      return -1;
    x |= (uint64_t)(c & 0x7f) << (7 * i);
    if (!(c & 0x80)) {
      *v = x;
      return 0;
    }
  }
  return -1;
}

/* ---- decoder ---- */

static void chars_reserve(struct column *c, uint64_t extra)
{
  uint64_t need = c->chars_len + extra;
  if (need <= c->chars_cap)
    return;
  uint64_t cap = c->chars_cap ? c->chars_cap : 64;
  while (cap < need)
    cap *= 2;
  c->chars = arena_realloc(c->arena, c->chars, c->chars_cap, cap);
  c->chars_cap = cap;
}

static int fail(struct col_decoder *d, const char *why)
{
  if (!d->why)
    d->why = why;
  return -1;
}

static int dec(struct col_decoder *d, const struct datatype *t, struct column *c, uint64_t count, uint32_t *si,
               uint32_t *li, struct arena *a);

static int load_dict(struct col_decoder *d, uint32_t lc, struct arena *a)
{
  const struct lc_desc *L = &d->layout.lcs[lc];
  uint64_t rows = d->dict_rows ? d->dict_rows[lc] : 0;
  if (rows == 0 || rows > DECODE_ROWS_MAX)
    return fail(d, "bad dictionary size");
  struct column *dict = column_create(a, L->dict_type, 0);
  uint32_t si = L->dict_first_stream, li = 0;
  if (dec(d, L->dict_type, dict, rows, &si, &li, a) != 0)
    return -1;
  d->dicts[lc] = dict;
  return 0;
}

/* Streams and LowCardinality nodes of t (as col_layout_build counts them). */
static void count_streams(const struct datatype *t, uint32_t *ns, uint32_t *nl)
{
  switch (t->id) {
  case TYPE_NOTHING: return;
  case TYPE_STRING: *ns += 2; return;
  case TYPE_NULLABLE: *ns += 1; count_streams(t->children[0], ns, nl); return;
  case TYPE_ARRAY:
  case TYPE_MAP:
    *ns += 1;
    for (uint32_t k = 0; k < t->child_count; k++)
      count_streams(t->children[k], ns, nl);
    return;
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t k = 0; k < t->child_count; k++)
      count_streams(t->children[k], ns, nl);
    return;
  case TYPE_LOW_CARDINALITY: *ns += 1; *nl += 1; count_streams(t->children[0], ns, nl); return;
  default: *ns += 1; return;
  }
}

static int dec(struct col_decoder *d, const struct datatype *t, struct column *c, uint64_t count, uint32_t *si,
               uint32_t *li, struct arena *a)
{
  if (count == 0) {
    count_streams(t, si, li);   /* nothing to read: skip this subtree's streams */
    return 0;
  }
  if ((uint64_t)c->rows + count > DECODE_ROWS_MAX)
    return fail(d, "row count too large");
  switch (t->id) {
  case TYPE_NOTHING:
    c->rows += (uint32_t)count;
    return 0;
  case TYPE_STRING: {
    struct stream_src *lens = &d->src[(*si)++], *chars = &d->src[(*si)++];
    if (count > src_remaining(lens))
      return fail(d, "string lengths stream too short");
    column_reserve(c, (uint32_t)count);
    uint64_t total = 0, avail = src_remaining(chars);
    for (uint64_t i = 0; i < count; i++) {
      uint64_t len;
      if (src_varint(lens, &len) != 0)
        return fail(d, "bad string length");
      if (len > avail - total)
        return fail(d, "string bytes stream too short");
      total += len;
      c->offsets[c->rows + i] = c->chars_len + total;
    }
    chars_reserve(c, total);
    if (total && src_read(chars, c->chars + c->chars_len, total) != 0)
      return fail(d, "string bytes stream too short");
    c->chars_len += total;
    c->rows += (uint32_t)count;
    return 0;
  }
  case TYPE_NULLABLE: {
    struct stream_src *nm = &d->src[(*si)++];
    if (count > src_remaining(nm))
      return fail(d, "null map stream too short");
    column_reserve(c, (uint32_t)count);
    if (src_read(nm, c->nulls + c->rows, count) != 0)
      return fail(d, "null map stream too short");
    for (uint64_t i = 0; i < count; i++)
      c->nulls[c->rows + i] = c->nulls[c->rows + i] != 0;
    if (dec(d, t->children[0], c->children[0], count, si, li, a) != 0)
      return -1;
    c->rows += (uint32_t)count;
    return 0;
  }
  case TYPE_ARRAY:
  case TYPE_MAP: {
    struct stream_src *sizes = &d->src[(*si)++];
    if (count > src_remaining(sizes))
      return fail(d, "array sizes stream too short");
    column_reserve(c, (uint32_t)count);
    uint64_t base = c->children[0]->rows, total = 0;
    for (uint64_t i = 0; i < count; i++) {
      uint64_t n;
      if (src_varint(sizes, &n) != 0 || n > DECODE_ROWS_MAX || total + n > DECODE_ROWS_MAX)
        return fail(d, "bad array size");
      total += n;
      c->offsets[c->rows + i] = base + total;
    }
    for (uint32_t k = 0; k < t->child_count; k++)
      if (dec(d, t->children[k], c->children[k], total, si, li, a) != 0)
        return -1;
    c->rows += (uint32_t)count;
    return 0;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t k = 0; k < t->child_count; k++)
      if (dec(d, t->children[k], c->children[k], count, si, li, a) != 0)
        return -1;
    c->rows += (uint32_t)count;
    return 0;
  case TYPE_LOW_CARDINALITY: {
    uint32_t lc = (*li)++;
    struct stream_src *keys = &d->src[*si];
    *si += 1 + d->layout.lcs[lc].dict_stream_count;
    if (!d->dicts[lc] && load_dict(d, lc, a) != 0)
      return -1;
    struct column *dict = d->dicts[lc];
    if (c->children[0] != dict) {
      if (c->rows)
        return fail(d, "dictionary changed within one column");
      c->children[0] = dict;
      c->dict_index = NULL;
    }
    if (count * 4 > src_remaining(keys))
      return fail(d, "dictionary keys stream too short");
    column_reserve(c, (uint32_t)count);
    uint32_t *k = (uint32_t *)c->data + c->rows;
    if (src_read(keys, k, count * 4) != 0)
      return fail(d, "dictionary keys stream too short");
    for (uint64_t i = 0; i < count; i++) {
      k[i] = get_u32le((const uint8_t *)&k[i]);
      if (k[i] >= dict->rows)
        return fail(d, "dictionary key out of range");
    }
    c->rows += (uint32_t)count;
    return 0;
  }
  default: {
    size_t fb = datatype_fixed_bytes(t);
    struct stream_src *v = &d->src[(*si)++];
    if (!fb || count * fb > src_remaining(v))
      return fail(d, "values stream too short");
    column_reserve(c, (uint32_t)count);
    if (src_read(v, (char *)c->data + (size_t)c->rows * fb, count * fb) != 0)
      return fail(d, "values stream too short");
    c->rows += (uint32_t)count;
    return 0;
  }
  }
}

int col_decoder_read(struct col_decoder *d, const struct datatype *t, struct column *c, uint64_t count,
                     struct arena *a)
{
  uint32_t si = 0, li = 0;
  return dec(d, t, c, count, &si, &li, a);
}

/* ---- small columns in the footer ---- */

void colser_write(struct buf *out, const struct column *c)
{
  struct arena a;
  arena_init(&a, 0);
  struct col_layout L;
  if (col_layout_build(&a, c->type, &L) != 0)
    abort();  /* the writer validated the schema */
  struct col_encoder e;
  col_encoder_init(&e, &a, &L);
  const struct column *m = column_materialize(&a, c);
  col_encoder_add(&e, c->type, m, 0, m->rows);
  buf_put_varint(out, L.lc_count);
  for (uint32_t i = 0; i < L.lc_count; i++) {
    col_encoder_add_dict(&e, c->type, i);
    buf_put_varint(out, e.dicts[i].values->rows);
  }
  buf_put_varint(out, L.stream_count);
  for (uint32_t i = 0; i < L.stream_count; i++)
    buf_put_bytes(out, e.raw[i].data, e.raw[i].len);
  col_encoder_free(&e);
  arena_destroy(&a);
}

struct column *colser_read(struct rd *r, const struct datatype *t, uint32_t rows, struct arena *a)
{
  struct col_layout L;
  if (col_layout_build(a, t, &L) != 0)
    return NULL;
  uint64_t lcs = rd_varint(r);
  if (r->bad || lcs != L.lc_count)
    return NULL;
  uint64_t *dict_rows = arena_new_array(a, uint64_t, L.lc_count + 1);
  for (uint32_t i = 0; i < L.lc_count; i++)
    dict_rows[i] = rd_varint(r);
  uint64_t ns = rd_varint(r);
  if (r->bad || ns != L.stream_count)
    return NULL;
  struct stream_src *src = arena_new_array(a, struct stream_src, L.stream_count + 1);
  for (uint32_t i = 0; i < L.stream_count; i++) {
    struct slice s = rd_bytes(r);
    stream_src_init_mem(&src[i], s.ptr, s.len);
  }
  if (r->bad)
    return NULL;
  struct col_decoder d = { L, src, arena_new_array(a, struct column *, L.lc_count + 1), dict_rows, NULL };
  struct column *c = column_create(a, t, 0);
  if (col_decoder_read(&d, t, c, rows, a) != 0)
    return NULL;
  return c;
}
