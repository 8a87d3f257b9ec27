/* Numeric transforms: Delta, DoubleDelta, Gorilla and T64 over values of
 * 1, 2, 4 or 8 little-endian bytes. Each handles any input length: the
 * trailing n % width bytes are stored raw after the values. Formats are
 * spanhouse's own, following the published ideas (ClickHouse docs for the
 * semantics, the Gorilla paper for the bit layouts); docs/part-format.md
 * describes them bit for bit.
 *
 * Invariants: decoders check every length before touching memory and
 * require the payload to be consumed exactly. */
#include "storage/storage_int.h"

#include <string.h>
#include <xxhash.h>

#include "base/alloc.h"

static uint64_t load_w(const uint8_t *p, int w)
{
  uint64_t v = 0;
  for (int i = w - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static void store_w(uint8_t *p, uint64_t v, int w)
{
  for (int i = 0; i < w; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t mask_w(int w) { return w == 8 ? ~(uint64_t)0 : (((uint64_t)1 << (8 * w)) - 1); }

/* Sign-extends the low 8w bits. */
static int64_t sext_w(uint64_t v, int w)
{
  if (w == 8)
    return (int64_t)v;
  int shift = 64 - 8 * w;
  return (int64_t)(v << shift) >> shift;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t z) { return (int64_t)(z >> 1) ^ -(int64_t)(z & 1); }

/* ---- bit I/O, most significant bit first ---- */

struct bitw {
  struct buf *out;
  uint64_t acc;
  int count;             /* pending bits in acc (< 8 between calls) */
};

static void bw_put32(struct bitw *bw, uint64_t v, int nbits)
{
  bw->acc = (bw->acc << nbits) | (v & (nbits == 64 ? ~(uint64_t)0 : (((uint64_t)1 << nbits) - 1)));
  bw->count += nbits;
  while (bw->count >= 8) {
    uint8_t byte = (uint8_t)(bw->acc >> (bw->count - 8));
    buf_append(bw->out, &byte, 1);
    bw->count -= 8;
  }
  bw->acc &= ((uint64_t)1 << bw->count) - 1;
}

static void bw_put(struct bitw *bw, uint64_t v, int nbits)
{
  if (nbits > 32) {
    bw_put32(bw, v >> 32, nbits - 32);
    bw_put32(bw, v, 32);
  } else if (nbits > 0) {
    bw_put32(bw, v, nbits);
  }
}

static void bw_finish(struct bitw *bw)
{
  if (bw->count)
    bw_put32(bw, 0, 8 - bw->count);
}

struct bitr {
  const uint8_t *p;
  size_t bits;           /* total bits available */
  size_t pos;
  bool bad;
};

static uint64_t br_get(struct bitr *br, int nbits)
{
  if (br->bad || br->bits - br->pos < (size_t)nbits) {
    br->bad = true;
    return 0;
  }
  uint64_t v = 0;
  while (nbits > 0) {
    uint8_t byte = br->p[br->pos >> 3];
    int avail = 8 - (int)(br->pos & 7);
    int take = avail < nbits ? avail : nbits;
    v = (v << take) | ((uint64_t)(byte >> (avail - take)) & (((uint64_t)1 << take) - 1));
    br->pos += (size_t)take;
    nbits -= take;
  }
  return v;
}

/* ---- Delta ---- */

void delta_encode(int w, const uint8_t *in, size_t n, struct buf *out)
{
  size_t count = n / (size_t)w, tail = n % (size_t)w;
  buf_reserve(out, n);
  uint8_t *o = (uint8_t *)out->data + out->len;
  uint64_t prev = 0;
  for (size_t i = 0; i < count; i++) {
    uint64_t v = load_w(in + i * (size_t)w, w);
    store_w(o + i * (size_t)w, v - prev, w);
    prev = v;
  }
  memcpy(o + count * (size_t)w, in + count * (size_t)w, tail);
  out->len += n;
}

int delta_decode(int w, const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
  if (n != out_len)
    return -1;
  size_t count = n / (size_t)w, tail = n % (size_t)w;
  uint64_t acc = 0;
  if (w == 8) {
    for (size_t i = 0; i < count; i++) {
      acc += get_u64le(in + 8 * i);
      put_u64le(out + 8 * i, acc);
    }
  } else if (w == 4) {
    uint32_t a32 = 0;
    for (size_t i = 0; i < count; i++) {
      a32 += get_u32le(in + 4 * i);
      put_u32le(out + 4 * i, a32);
    }
  } else {
    for (size_t i = 0; i < count; i++) {
      acc += load_w(in + i * (size_t)w, w);
      store_w(out + i * (size_t)w, acc, w);
    }
  }
  memcpy(out + count * (size_t)w, in + count * (size_t)w, tail);
  return 0;
}

/* ---- DoubleDelta ----
 * v0 raw (w bytes), first delta raw (w bytes), then per value the zigzag of
 * the w-bit double delta: '0' | '10'+7 | '110'+9 | '1110'+12 | '11110'+32 |
 * '11111'+8w bits; zero-padded to a byte; then the raw tail. */

void double_delta_encode(int w, const uint8_t *in, size_t n, struct buf *out)
{
  size_t count = n / (size_t)w, tail = n % (size_t)w;
  uint64_t m = mask_w(w);
  if (count >= 1)
    buf_append(out, in, (size_t)w);
  if (count >= 2) {
    uint8_t d[8];
    store_w(d, load_w(in + w, w) - load_w(in, w), w);
    buf_append(out, d, (size_t)w);
  }
  struct bitw bw = { out, 0, 0 };
  for (size_t i = 2; i < count; i++) {
    uint64_t a = load_w(in + (i - 2) * (size_t)w, w), b = load_w(in + (i - 1) * (size_t)w, w),
             c = load_w(in + i * (size_t)w, w);
    uint64_t dd = ((c - b) - (b - a)) & m;
    uint64_t z = zigzag(sext_w(dd, w));
    if (z == 0)
      bw_put(&bw, 0, 1);
    else if (z < (1u << 7))
      bw_put(&bw, (0x2u << 7) | z, 9);
    else if (z < (1u << 9))
      bw_put(&bw, (0x6u << 9) | z, 12);
    else if (z < (1u << 12))
      bw_put(&bw, (0xEu << 12) | z, 16);
    else if (z < ((uint64_t)1 << 32)) {
      bw_put(&bw, 0x1E, 5);
      bw_put(&bw, z, 32);
    } else {
      bw_put(&bw, 0x1F, 5);
      bw_put(&bw, z, 8 * w);
    }
  }
  bw_finish(&bw);
  buf_append(out, in + count * (size_t)w, tail);
}

int double_delta_decode(int w, const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
  size_t count = out_len / (size_t)w, tail = out_len % (size_t)w;
  uint64_t m = mask_w(w);
  size_t head = (count >= 1 ? (size_t)w : 0) + (count >= 2 ? (size_t)w : 0);
  if (n < head + tail)
    return -1;
  if (count >= 1)
    memcpy(out, in, (size_t)w);
  uint64_t prev = count ? load_w(in, w) : 0, delta = 0;
  if (count >= 2) {
    delta = load_w(in + w, w);
    prev = (prev + delta) & m;
    store_w(out + w, prev, w);
  }
  struct bitr br = { in + head, (n - head - tail) * 8, 0, false };
  for (size_t i = 2; i < count; i++) {
    uint64_t z;
    if (br_get(&br, 1) == 0)
      z = 0;
    else if (br_get(&br, 1) == 0)
      z = br_get(&br, 7);
    else if (br_get(&br, 1) == 0)
      z = br_get(&br, 9);
    else if (br_get(&br, 1) == 0)
      z = br_get(&br, 12);
    else if (br_get(&br, 1) == 0)
      z = br_get(&br, 32);
    else
      z = br_get(&br, 8 * w);
    if (br.bad)
      return -1;
    delta = (delta + (uint64_t)unzigzag(z)) & m;
    prev = (prev + delta) & m;
    store_w(out + i * (size_t)w, prev, w);
  }
  /* the bit stream must end within its last byte */
  if ((br.pos + 7) / 8 != br.bits / 8)
    return -1;
  memcpy(out + count * (size_t)w, in + n - tail, tail);
  return 0;
}

/* ---- Gorilla ----
 * v0 in 8w bits; then per value x = v ^ prev: '0' if x == 0; '10' + the
 * meaningful bits inside the previous window; '11' + leading zeros (F bits)
 * + (length - 1) (F bits) + length bits; F = log2(8w). Padded; raw tail. */

static int field_bits(int w) { return w == 1 ? 3 : w == 2 ? 4 : w == 4 ? 5 : 6; }

static int clz_w(uint64_t x, int w) { return __builtin_clzll(x) - (64 - 8 * w); }

void gorilla_encode(int w, const uint8_t *in, size_t n, struct buf *out)
{
  size_t count = n / (size_t)w, tail = n % (size_t)w;
  int bits = 8 * w, f = field_bits(w);
  struct bitw bw = { out, 0, 0 };
  uint64_t prev = 0;
  int win_lz = -1, win_tz = 0;
  for (size_t i = 0; i < count; i++) {
    uint64_t v = load_w(in + i * (size_t)w, w);
    if (i == 0) {
      bw_put(&bw, v, bits);
      prev = v;
      continue;
    }
    uint64_t x = v ^ prev;
    prev = v;
    if (x == 0) {
      bw_put(&bw, 0, 1);
      continue;
    }
    int lz = clz_w(x, w), tz = __builtin_ctzll(x);
    if (win_lz >= 0 && lz >= win_lz && tz >= win_tz) {
      int len = bits - win_lz - win_tz;
      bw_put(&bw, 0x2, 2);
      bw_put(&bw, x >> win_tz, len);
    } else {
      int len = bits - lz - tz;
      bw_put(&bw, 0x3, 2);
      bw_put(&bw, (uint64_t)lz, f);
      bw_put(&bw, (uint64_t)(len - 1), f);
      bw_put(&bw, x >> tz, len);
      win_lz = lz;
      win_tz = tz;
    }
  }
  bw_finish(&bw);
  buf_append(out, in + count * (size_t)w, tail);
}

int gorilla_decode(int w, const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
  size_t count = out_len / (size_t)w, tail = out_len % (size_t)w;
  int bits = 8 * w, f = field_bits(w);
  if (n < tail)
    return -1;
  struct bitr br = { in, (n - tail) * 8, 0, false };
  uint64_t prev = 0;
  int win_lz = -1, win_tz = 0;
  for (size_t i = 0; i < count; i++) {
    uint64_t v;
    if (i == 0) {
      v = br_get(&br, bits);
    } else if (br_get(&br, 1) == 0) {
      v = prev;
    } else if (br_get(&br, 1) == 0) {
      if (win_lz < 0)
        return -1;
      int len = bits - win_lz - win_tz;
      v = prev ^ (br_get(&br, len) << win_tz);
    } else {
      int lz = (int)br_get(&br, f);
      int len = (int)br_get(&br, f) + 1;
      if (lz + len > bits)
        return -1;
      int tz = bits - lz - len;
      v = prev ^ (br_get(&br, len) << tz);
      win_lz = lz;
      win_tz = tz;
    }
    if (br.bad)
      return -1;
    store_w(out + i * (size_t)w, v, w);
    prev = v;
  }
  if ((br.pos + 7) / 8 != br.bits / 8)
    return -1;
  memcpy(out + count * (size_t)w, in + n - tail, tail);
  return 0;
}

/* ---- T64 ----
 * Frames of up to 64 values. Signed values are mapped to unsigned order by
 * flipping the top bit. Per frame: min (w bytes), b = significant bits of
 * (value - min) (1 byte), then b bit planes of ceil(k/8) bytes each, plane j
 * holding bit j of every value (value i at bit i % 8 of byte i / 8). */

/* Transposes a 64 x 64 bit matrix in place (row = word, column = bit,
 * bit 0 = column 0) by swapping ever smaller off-diagonal blocks: 6 passes
 * of 32 word pairs instead of one step per bit. */
static void transpose64(uint64_t a[64])
{
  uint64_t m = 0x00000000FFFFFFFFull;
  for (unsigned j = 32; j; j >>= 1, m ^= m << j)
    for (unsigned k = 0; k < 64; k = ((k | j) + 1) & ~j) {
      uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
      a[k] ^= t << j;
      a[k | j] ^= t;
    }
}

void t64_encode(int param, const uint8_t *in, size_t n, struct buf *out)
{
  int w = param & 0xF;
  bool is_signed = (param & CODEC_T64_SIGNED) != 0;
  uint64_t flip = is_signed ? (uint64_t)1 << (8 * w - 1) : 0;
  size_t count = n / (size_t)w, tail = n % (size_t)w;
  uint64_t r[64];
  for (size_t start = 0; start < count; start += 64) {
    size_t k = count - start < 64 ? count - start : 64;
    uint64_t mn = ~(uint64_t)0;
    for (size_t i = 0; i < k; i++) {
      r[i] = load_w(in + (start + i) * (size_t)w, w) ^ flip;
      if (r[i] < mn)
        mn = r[i];
    }
    uint64_t any = 0;
    for (size_t i = 0; i < k; i++) {
      r[i] -= mn;
      any |= r[i];
    }
    int b = any ? 64 - __builtin_clzll(any) : 0;
    uint8_t head[9];
    store_w(head, mn, w);
    head[w] = (uint8_t)b;
    buf_append(out, head, (size_t)w + 1);
    size_t plane = (k + 7) / 8;
    buf_reserve(out, plane * (size_t)b);
    uint8_t *o = (uint8_t *)out->data + out->len;
    if (k == 64) {
      transpose64(r);            /* word j = bit plane j */
      for (int j = 0; j < b; j++)
        put_u64le(o + (size_t)j * 8, r[j]);
    } else {
      memset(o, 0, plane * (size_t)b);
      for (int j = 0; j < b; j++)
        for (size_t i = 0; i < k; i++)
          o[(size_t)j * plane + i / 8] |= (uint8_t)(((r[i] >> j) & 1) << (i % 8));
    }
    out->len += plane * (size_t)b;
  }
  buf_append(out, in + count * (size_t)w, tail);
}

int t64_decode(int param, const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
  int w = param & 0xF;
  bool is_signed = (param & CODEC_T64_SIGNED) != 0;
  uint64_t flip = is_signed ? (uint64_t)1 << (8 * w - 1) : 0;
  size_t count = out_len / (size_t)w, tail = out_len % (size_t)w;
  size_t pos = 0;
  uint64_t r[64];
  for (size_t start = 0; start < count; start += 64) {
    size_t k = count - start < 64 ? count - start : 64;
    if (n - pos < (size_t)w + 1)
      return -1;
    uint64_t mn = load_w(in + pos, w);
    int b = in[pos + (size_t)w];
    pos += (size_t)w + 1;
    if (b > 8 * w)
      return -1;
    size_t plane = (k + 7) / 8;
    if (n - pos < plane * (size_t)b)
      return -1;
    memset(r, 0, sizeof r);
    if (k == 64) {
      /* a full frame: plane j is one 64-bit word, and the values are the
       * columns of the 64 x 64 bit matrix of planes */
      for (int j = 0; j < b; j++)
        r[j] = get_u64le(in + pos + (size_t)j * 8);
      transpose64(r);
    } else {
      for (int j = 0; j < b; j++)
        for (size_t i = 0; i < k; i++)
          r[i] |= (uint64_t)((in[pos + (size_t)j * plane + i / 8] >> (i % 8)) & 1) << j;
    }
    pos += plane * (size_t)b;
    uint8_t *o = out + start * (size_t)w;
    switch (w) {
    case 8:
      for (size_t i = 0; i < k; i++)
        put_u64le(o + 8 * i, (r[i] + mn) ^ flip);
      break;
    case 4:
      for (size_t i = 0; i < k; i++)
        put_u32le(o + 4 * i, (uint32_t)((r[i] + mn) ^ flip));
      break;
    default:
      for (size_t i = 0; i < k; i++)
        store_w(o + i * (size_t)w, (r[i] + mn) ^ flip, w);
    }
  }
  if (n - pos != tail)
    return -1;
  memcpy(out + count * (size_t)w, in + pos, tail);
  return 0;
}

/* ---- DEDUP ----
 * Records of w bytes: varint distinct count D, the D distinct records in
 * first-seen order, then one varint per record: 0 = the next new record,
 * k >= 1 = the record seen k places before the newest; then the raw tail. */

struct dedup_table {
  uint32_t *slots;               /* record index + 1 */
  uint32_t mask;
};

static void dedup_table_init(struct dedup_table *t, size_t count)
{
  uint32_t cap = 64;
  while (cap < count * 2 && cap < (1u << 30))
    cap *= 2;
  t->slots = mem_calloc(cap, sizeof *t->slots);
  t->mask = cap - 1;
}

/* The first record equal to record i, inserting i if new. */
static uint32_t dedup_find(struct dedup_table *t, const uint8_t *in, int w, uint32_t i, bool *is_new)
{
  const uint8_t *rec = in + (size_t)i * (size_t)w;
  uint32_t s = (uint32_t)XXH3_64bits(rec, (size_t)w) & t->mask;
  while (t->slots[s]) {
    uint32_t j = t->slots[s] - 1;
    if (memcmp(in + (size_t)j * (size_t)w, rec, (size_t)w) == 0) {
      *is_new = false;
      return j;
    }
    s = (s + 1) & t->mask;
  }
  t->slots[s] = i + 1;
  *is_new = true;
  return i;
}

size_t dedup_count_distinct(int w, const uint8_t *p, size_t n, size_t max_distinct)
{
  size_t count = n / (size_t)w, distinct = 0;
  struct dedup_table t;
  dedup_table_init(&t, count);
  for (size_t i = 0; i < count && distinct <= max_distinct; i++) {
    bool is_new;
    dedup_find(&t, p, w, (uint32_t)i, &is_new);
    distinct += is_new;
  }
  mem_free(t.slots);
  return distinct;
}

void dedup_encode(int w, const uint8_t *in, size_t n, struct buf *out)
{
  size_t count = n / (size_t)w, tail = n % (size_t)w;
  struct dedup_table t;
  dedup_table_init(&t, count);
  uint32_t *ord = mem_alloc((count + 1) * sizeof *ord);     /* first index → distinct ordinal */
  uint32_t *code = mem_alloc((count + 1) * sizeof *code);
  struct buf recs;
  buf_init(&recs);
  uint32_t distinct = 0;
  for (size_t i = 0; i < count; i++) {
    bool is_new;
    uint32_t j = dedup_find(&t, in, w, (uint32_t)i, &is_new);
    if (is_new) {
      ord[i] = distinct++;
      buf_append(&recs, in + i * (size_t)w, (size_t)w);
      code[i] = 0;
    } else {
      code[i] = distinct - ord[j];
    }
  }
  buf_put_varint(out, distinct);
  buf_append(out, recs.data, recs.len);
  for (size_t i = 0; i < count; i++)
    buf_put_varint(out, code[i]);
  buf_append(out, in + count * (size_t)w, tail);
  buf_free(&recs);
  mem_free(ord);
  mem_free(code);
  mem_free(t.slots);
}

/* Record copies with a compile-time width for the common id sizes. */
static inline void copy_rec(uint8_t *dst, const uint8_t *src, size_t w)
{
  switch (w) {
  case 8: memcpy(dst, src, 8); return;
  case 16: memcpy(dst, src, 16); return;
  default: memcpy(dst, src, w); return;
  }
}

int dedup_decode(int w, const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
  size_t count = out_len / (size_t)w, tail = out_len % (size_t)w, ws = (size_t)w;
  struct rd r = rd_make(in, n);
  uint64_t distinct = rd_varint_max(&r, count);
  const uint8_t *recs = rd_take(&r, (size_t)distinct * ws);
  if (r.bad)
    return -1;
  uint64_t seen = 0;
  const uint8_t *p = r.p, *end = r.end;
  for (size_t i = 0; i < count; i++) {
    uint64_t k;
    if (p < end && *p < 0x80) {
      k = *p++;
    } else {
      size_t used = varint_get(p, end, &k);
      if (!used)
        return -1;
      p += used;
    }
    uint64_t idx;
    if (k == 0) {
      if (seen >= distinct)
        return -1;
      idx = seen++;
    } else {
      if (k > seen)
        return -1;
      idx = seen - k;
    }
    copy_rec(out + i * ws, recs + idx * ws, ws);
  }
  if (seen != distinct || (size_t)(end - p) != tail)
    return -1;
  memcpy(out + count * ws, p, tail);
  return 0;
}
