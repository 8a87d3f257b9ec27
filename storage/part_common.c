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
 *     back are checked against the dictionary's size.
 *  4. Grouped map values (Map(LowCardinality(K), String)) are written per
 *     granule in the stable order of their keys' dictionary numbers, and
 *     read back one granule per col_decoder_read call; the encoder holds a
 *     granule's values until col_encoder_end_granule. */
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

static void add_stream(struct layout_build *b, uint8_t kind, bool whole, const struct datatype *vt, bool groupable)
{
  struct col_layout *L = b->L;
  if (L->stream_count == b->stream_cap) {
    uint32_t cap = b->stream_cap ? b->stream_cap * 2 : 4;
    L->streams = arena_realloc(b->a, L->streams, b->stream_cap * sizeof *L->streams, cap * sizeof *L->streams);
    b->stream_cap = cap;
  }
  L->streams[L->stream_count++] = (struct stream_desc){ kind, whole, groupable, vt };
}

static int layout_add(struct layout_build *b, const struct datatype *t, bool whole, int depth)
{
  if (depth > LAYOUT_DEPTH_MAX)
    return -1;
  switch (t->id) {
  case TYPE_NOTHING:
    return 0;
  case TYPE_STRING:
    add_stream(b, STREAM_LENGTHS, whole, NULL, false);
    add_stream(b, STREAM_CHARS, whole, t, false);
    return 0;
  case TYPE_NULLABLE:
    if (t->child_count != 1)
      return -1;
    add_stream(b, STREAM_NULLMAP, whole, NULL, false);
    return layout_add(b, t->children[0], whole, depth + 1);
  case TYPE_ARRAY:
    if (t->child_count != 1)
      return -1;
    add_stream(b, STREAM_SIZES, whole, NULL, false);
    return layout_add(b, t->children[0], whole, depth + 1);
  case TYPE_MAP: {
    if (t->child_count != 2)
      return -1;
    add_stream(b, STREAM_SIZES, whole, NULL, false);
    if (layout_add(b, t->children[0], whole, depth + 1) != 0)
      return -1;
    uint32_t first = b->L->stream_count;
    if (layout_add(b, t->children[1], whole, depth + 1) != 0)
      return -1;
    if (!whole && t->children[0]->id == TYPE_LOW_CARDINALITY && t->children[1]->id == TYPE_STRING)
      b->L->streams[first].groupable = b->L->streams[first + 1].groupable = true;
    return 0;
  }
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
    add_stream(b, STREAM_LC_KEYS, false, NULL, false);
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
    add_stream(b, STREAM_VALUES, whole, t, false);
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

void col_encoder_init(struct col_encoder *e, struct arena *a, const struct col_layout *layout, const bool *grouped)
{
  e->layout = *layout;
  e->grouped = NULL;
  e->groups = NULL;
  for (uint32_t i = 0; grouped && i < layout->stream_count; i++)
    if (grouped[i]) {
      if (!e->grouped) {
        e->grouped = mem_calloc(layout->stream_count, sizeof *e->grouped);
        e->groups = mem_calloc(layout->stream_count, sizeof *e->groups);
      }
      e->grouped[i] = true;
      buf_init(&e->groups[i].keys);
      buf_init(&e->groups[i].lens);
      buf_init(&e->groups[i].chars);
      buf_init(&e->groups[i].scratch);
    }
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
  for (uint32_t i = 0; e->groups && i < e->layout.stream_count; i++) {
    buf_free(&e->groups[i].keys);
    buf_free(&e->groups[i].lens);
    buf_free(&e->groups[i].chars);
    buf_free(&e->groups[i].scratch);
  }
  mem_free(e->grouped);
  mem_free(e->groups);
  e->grouped = NULL;
  e->groups = NULL;
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
    uint32_t n = (uint32_t)(to - from);
    put_varints_sizes(sizes, c->offsets, start, count, from);
    if (t->id == TYPE_MAP && e->grouped) {
      uint32_t key_si = *si, key_li = *li;
      enc(e, t->children[0], c->children[0], (uint32_t)from, n, si, li);
      if (e->grouped[*si]) {
        /* hold the values back; the keys just went to the keys stream */
        struct group_pending *g = &e->groups[*si];
        const struct column *v = c->children[1];
        g->lc = key_li;
        const struct buf *kraw = &e->raw[key_si];
        buf_append(&g->keys, kraw->data + kraw->len - (size_t)n * 4, (size_t)n * 4);
        buf_reserve(&g->lens, (size_t)n * 8);
        uint64_t prev = from ? v->offsets[from - 1] : 0;
        for (uint32_t i = 0; i < n; i++) {
          uint64_t end = v->offsets[from + i];
          uint64_t len = end - prev;
          memcpy(g->lens.data + g->lens.len + (size_t)i * 8, &len, 8);
          prev = end;
        }
        g->lens.len += (size_t)n * 8;
        uint64_t c0 = from ? v->offsets[from - 1] : 0, c1 = n ? v->offsets[to - 1] : c0;
        buf_append(&g->chars, v->chars + c0, (size_t)(c1 - c0));
        *si += 2;
        return;
      }
      enc(e, t->children[1], c->children[1], (uint32_t)from, n, si, li);
      return;
    }
    for (uint32_t k = 0; k < t->child_count; k++)
      enc(e, t->children[k], c->children[k], (uint32_t)from, n, si, li);
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

/* ---- map values grouped by key ---- */

/* pos[i] = the place of element i when the elements are ordered stably by
 * key (keys < nkeys): a counting sort, or a sort of (key, i) pairs when
 * the dictionary is much larger than the granule. */
static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void group_positions(const uint32_t *keys, uint32_t n, uint64_t nkeys, uint32_t *pos)
{
  if (nkeys <= (uint64_t)n * 4 + 4096) {
    uint32_t *start = mem_calloc((size_t)nkeys + 1, sizeof *start);
    for (uint32_t i = 0; i < n; i++)
      start[keys[i] + 1]++;
    for (uint64_t k = 1; k <= nkeys; k++)
      start[k] += start[k - 1];
    for (uint32_t i = 0; i < n; i++)
      pos[i] = start[keys[i]]++;
    mem_free(start);
    return;
  }
  uint64_t *pairs = mem_alloc((size_t)n * sizeof *pairs + 1);
  for (uint32_t i = 0; i < n; i++)
    pairs[i] = (uint64_t)keys[i] << 32 | i;
  qsort(pairs, n, sizeof *pairs, cmp_u64);
  for (uint32_t j = 0; j < n; j++)
    pos[(uint32_t)pairs[j]] = j;
  mem_free(pairs);
}

static uint64_t zstd1_size(const struct buf *b)
{
  struct buf z;
  buf_init(&z);
  struct codec_step st = { CODEC_ZSTD, 1 };
  uint64_t n = codec_step_encode(&st, (const uint8_t *)b->data, b->len, &z) == 0 ? z.len : UINT64_MAX;
  buf_free(&z);
  return n;
}

/* Copies len bytes; short values move as one 16- or 32-byte copy, so
 * dst needs 32 bytes of slack and src_room bytes are readable at src. */
static inline void copy_value(char *dst, const char *src, size_t len, size_t src_room)
{
  if (len <= 16 && src_room >= 16)
    memcpy(dst, src, 16);
  else if (len <= 32 && src_room >= 32)
    memcpy(dst, src, 32);
  else
    memcpy(dst, src, len);
}

void col_encoder_end_granule(struct col_encoder *e)
{
  for (uint32_t s = 0; e->grouped && s < e->layout.stream_count; s++) {
    struct group_pending *g = &e->groups[s];
    if (!e->grouped[s] || e->layout.streams[s].kind != STREAM_LENGTHS || !g->keys.len)
      continue;
    uint32_t n = (uint32_t)(g->keys.len / 4);
    const uint32_t *keys = (const uint32_t *)g->keys.data;
    const uint64_t *lens = (const uint64_t *)g->lens.data;
    buf_reset(&g->scratch);
    buf_reserve(&g->scratch, (size_t)n * 16);
    uint64_t *at = (uint64_t *)g->scratch.data;          /* element's offset in g->chars */
    uint32_t *pos = (uint32_t *)(at + n);
    uint32_t *order = pos + n;
    group_positions(keys, n, e->dicts[g->lc].values->rows, pos);
    uint64_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
      order[pos[i]] = i;
      at[i] = off;
      off += lens[i];
    }
    if (g->decided) {
      /* grouped, as the first granule chose: straight into the streams */
      struct buf *lraw = &e->raw[s], *craw = &e->raw[s + 1];
      buf_reserve(lraw, (size_t)n * 10);
      buf_reserve(craw, g->chars.len + 32);
      for (uint32_t j = 0; j < n; j++) {
        uint32_t i = order[j];
        lraw->len += varint_put((uint8_t *)lraw->data + lraw->len, lens[i]);
        copy_value(craw->data + craw->len, g->chars.data + at[i], (size_t)lens[i], g->chars.len - at[i]);
        craw->len += (size_t)lens[i];
      }
    } else {
      struct buf lg, cg;            /* the grouped arrangement */
      buf_init(&lg);
      buf_init(&cg);
      buf_reserve(&lg, (size_t)n * 10);
      buf_reserve(&cg, g->chars.len);
      for (uint32_t j = 0; j < n; j++) {
        uint32_t i = order[j];
        lg.len += varint_put((uint8_t *)lg.data + lg.len, lens[i]);
        memcpy(cg.data + cg.len, g->chars.data + at[i], (size_t)lens[i]);
        cg.len += (size_t)lens[i];
      }
      {
        /* the part's first values decide, by trial: grouping wins on varied
         * values (span attributes), row order on rows that repeat whole
         * (resource attributes of one pod) */
        struct buf lr;
        buf_init(&lr);
        buf_reserve(&lr, (size_t)n * 10);
        for (uint32_t i = 0; i < n; i++)
          lr.len += varint_put((uint8_t *)lr.data + lr.len, lens[i]);
        uint64_t grouped = zstd1_size(&lg) + zstd1_size(&cg), rows = zstd1_size(&lr) + zstd1_size(&g->chars);
        g->decided = true;
        if (grouped >= rows) {
          e->grouped[s] = e->grouped[s + 1] = false;
          buf_free(&lg);
          buf_free(&cg);
          lg = lr;
          cg = g->chars;            /* row order: the bytes as they came */
          buf_init(&g->chars);
        } else {
          buf_free(&lr);
        }
      }
      buf_append(&e->raw[s], lg.data, lg.len);
      buf_append(&e->raw[s + 1], cg.data, cg.len);
      buf_free(&lg);
      buf_free(&cg);
    }
    uint32_t *uniform = &e->uniform_len[s + 1];
    for (uint32_t i = 0; i < n && *uniform != UINT32_MAX; i++) {
      if (!lens[i])
        continue;
      if (!*uniform && lens[i] < UINT32_MAX)
        *uniform = (uint32_t)lens[i];
      else if (*uniform != lens[i])
        *uniform = UINT32_MAX;
    }
    buf_reset(&g->keys);
    buf_reset(&g->lens);
    buf_reset(&g->chars);
  }
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

static int src_varint_slow(struct stream_src *s, uint64_t *v);

/* One-byte varints (nearly every length and size) without a call. */
static inline int src_varint(struct stream_src *s, uint64_t *v)
{
  if (s->p < s->end && *s->p < 0x80) {
    *v = *s->p++;
    return 0;
  }
  return src_varint_slow(s, v);
}

static int src_varint_slow(struct stream_src *s, uint64_t *v)
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

/* Copies len bytes; short strings as one 16-byte move, which may write up
 * to 16 bytes past dst + len and read past src + len (callers pad both). */
static inline void copy_padded(uint8_t *dst, const uint8_t *src, size_t len)
{
  if (len <= 16)
    memcpy(dst, src, 16);
  else
    memcpy(dst, src, len);
}

enum { COPY_PAD = 16 };

/* n string values of v, stored grouped by their keys (keys < nkeys): the
 * lengths and bytes come in group order and go back to element order. */
static int dec_grouped(struct col_decoder *d, const uint32_t *keys, uint32_t n, uint64_t nkeys, struct column *v,
                       struct stream_src *lens, struct stream_src *chars)
{
  if (n > src_remaining(lens))
    return fail(d, "string lengths stream too short");
  int rc = -1;
  uint32_t *pos = mem_alloc((size_t)n * sizeof *pos);
  uint64_t *gat = mem_alloc(((size_t)n + 1) * sizeof *gat);    /* group order: start of value j */
  uint8_t *copy = NULL;
  uint64_t total = 0, avail = src_remaining(chars);
  for (uint32_t j = 0; j < n; j++) {
    uint64_t len;
    if (src_varint(lens, &len) != 0) {
      fail(d, "bad string length");
      goto out;
    }
    if (len > avail - total) {
      fail(d, "string bytes stream too short");
      goto out;
    }
    gat[j] = total;
    total += len;
  }
  gat[n] = total;
  /* the granule's bytes in place when they sit in one piece with room to
   * over-read, else copied out */
  const uint8_t *g;
  if ((uint64_t)(chars->end - chars->p) >= total + COPY_PAD) {
    g = chars->p;
    chars->p += total;
  } else {
    copy = mem_alloc((size_t)total + COPY_PAD);
    memset(copy + total, 0, COPY_PAD);
    if (total && src_read(chars, copy, total) != 0) {
      fail(d, "string bytes stream too short");
      goto out;
    }
    g = copy;
  }
  group_positions(keys, n, nkeys, pos);
  column_reserve(v, n);
  chars_reserve(v, total + COPY_PAD);
  uint8_t *o = (uint8_t *)v->chars + v->chars_len;
  uint64_t *off = v->offsets + v->rows, at = v->chars_len;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t j = pos[i];
    uint64_t len = gat[j + 1] - gat[j];
    copy_padded(o, g + gat[j], (size_t)len);
    o += len;
    at += len;
    off[i] = at;
  }
  v->chars_len = at;
  v->rows += n;
  rc = 0;
out:
  mem_free(pos);
  mem_free(gat);
  mem_free(copy);
  return rc;
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
    uint64_t total = 0, avail = src_remaining(chars), base = c->chars_len;
    uint64_t *off = c->offsets + c->rows;
    for (uint64_t i = 0; i < count;) {
      /* one-byte lengths straight from the current piece, kept in registers */
      const uint8_t *p = lens->p, *end = lens->end;
      uint64_t n = count - i < (uint64_t)(end - p) ? count - i : (uint64_t)(end - p);
      uint64_t k = 0;
      for (; k < n && p[k] < 0x80; k++) {
        total += p[k];
        off[i + k] = base + total;
      }
      if (k)
        lens->p = p + k;      /* (p may be NULL for an exhausted stream) */
      i += k;
      if (i == count)
        break;
      uint64_t len;
      if (src_varint(lens, &len) != 0)
        return fail(d, "bad string length");
      if (len > avail)
        return fail(d, "string bytes stream too short");
      total += len;
      off[i++] = base + total;
    }
    if (total > avail)
      return fail(d, "string bytes stream too short");
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
    uint64_t *off = c->offsets + c->rows;
    for (uint64_t i = 0; i < count;) {
      const uint8_t *p = sizes->p, *end = sizes->end;
      uint64_t n = count - i < (uint64_t)(end - p) ? count - i : (uint64_t)(end - p);
      uint64_t k = 0;
      for (; k < n && p[k] < 0x80; k++) {
        total += p[k];
        off[i + k] = base + total;
      }
      if (k)
        sizes->p = p + k;
      i += k;
      if (total > DECODE_ROWS_MAX)
        return fail(d, "bad array size");
      if (i == count)
        break;
      uint64_t m;
      if (src_varint(sizes, &m) != 0 || m > DECODE_ROWS_MAX || total + m > DECODE_ROWS_MAX)
        return fail(d, "bad array size");
      total += m;
      off[i++] = base + total;
    }
    if (t->id == TYPE_MAP && d->grouped && total) {
      struct column *kc = c->children[0];
      uint32_t kbase = kc->rows;
      if (dec(d, t->children[0], kc, total, si, li, a) != 0)
        return -1;
      if (d->grouped[*si]) {
        struct stream_src *lens = &d->src[*si], *chars = &d->src[*si + 1];
        *si += 2;
        if (dec_grouped(d, (const uint32_t *)kc->data + kbase, (uint32_t)total, kc->children[0]->rows, c->children[1],
                        lens, chars) != 0)
          return -1;
      } else if (dec(d, t->children[1], c->children[1], total, si, li, a) != 0) {
        return -1;
      }
      c->rows += (uint32_t)count;
      return 0;
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
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (uint64_t i = 0; i < count; i++)
      k[i] = get_u32le((const uint8_t *)&k[i]);
#endif
    uint32_t mx[4] = { 0, 0, 0, 0 };    /* independent maxima: no loop-carried cmov chain */
    uint64_t i = 0;
    for (; i + 4 <= count; i += 4)
      for (int j = 0; j < 4; j++)
        mx[j] = k[i + j] > mx[j] ? k[i + j] : mx[j];
    for (; i < count; i++)
      mx[0] = k[i] > mx[0] ? k[i] : mx[0];
    uint32_t m01 = mx[0] > mx[1] ? mx[0] : mx[1], m23 = mx[2] > mx[3] ? mx[2] : mx[3];
    if ((m01 > m23 ? m01 : m23) >= dict->rows)
      return fail(d, "dictionary key out of range");
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

int col_decoder_load_dicts(struct col_decoder *d, struct arena *a)
{
  for (uint32_t lc = 0; lc < d->layout.lc_count; lc++)
    if (!d->dicts[lc] && load_dict(d, lc, a) != 0)
      return -1;
  return 0;
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
  col_encoder_init(&e, &a, &L, NULL);
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
  struct col_decoder d = { L, src, arena_new_array(a, struct column *, L.lc_count + 1), dict_rows, NULL, NULL };
  /* room for the rows up front (no regrowth), but never more than the
   * bytes could hold: the count is untrusted */
  size_t left = 0;
  for (uint32_t i = 0; i < L.stream_count; i++)
    left += (size_t)(src[i].end - src[i].p);
  struct column *c = column_create(a, t, rows <= left ? rows : (uint32_t)left);
  if (col_decoder_read(&d, t, c, rows, a) != 0)
    return NULL;
  return c;
}

/* ---- columns as bytes (storage.h) ---- */

void storage_column_encode(const struct column *c, struct buf *out) { colser_write(out, c); }

int storage_column_decode(struct slice *in, const struct datatype *t, uint32_t rows, struct arena *a,
                          struct column **out)
{
  struct rd r = rd_make(in->ptr, in->len);
  struct column *c = colser_read(&r, t, rows, a);
  if (!c || r.bad || c->rows != rows)
    return -1;
  *out = c;
  in->ptr = (const char *)r.p;
  in->len = rd_left(&r);
  return 0;
}
