/* Partition ids and partition text, as ClickHouse derives them
 * (MergeTreePartition::getID / serializeText): no key → "all"; every value
 * an integer (Date as YYYYMMDD) → the values joined with '-'; otherwise the
 * lowercase hex of ClickHouse's 128-bit SipHash-2-4 over each value's type
 * tag and bytes (the legacy field hash), so ids match a ClickHouse table
 * with the same key. */
#include "engine/engine_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- ClickHouse's streaming SipHash (src/Common/SipHash.h) ---- */

struct siphash {
  uint64_t v0, v1, v2, v3;
  uint64_t cnt;
  uint8_t cur[8];
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND(h)                                                                              \
  do {                                                                                           \
    h->v0 += h->v1; h->v1 = ROTL(h->v1, 13); h->v1 ^= h->v0; h->v0 = ROTL(h->v0, 32);            \
    h->v2 += h->v3; h->v3 = ROTL(h->v3, 16); h->v3 ^= h->v2;                                     \
    h->v0 += h->v3; h->v3 = ROTL(h->v3, 21); h->v3 ^= h->v0;                                     \
    h->v2 += h->v1; h->v1 = ROTL(h->v1, 17); h->v1 ^= h->v2; h->v2 = ROTL(h->v2, 32);            \
  } while (0)

static uint64_t le64(const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static void sip_init(struct siphash *h)
{
  h->v0 = 0x736f6d6570736575ull;
  h->v1 = 0x646f72616e646f6dull;
  h->v2 = 0x6c7967656e657261ull;
  h->v3 = 0x7465646279746573ull;
  h->cnt = 0;
  memset(h->cur, 0, 8);
}

static void sip_word(struct siphash *h, uint64_t w)
{
  h->v3 ^= w;
  SIPROUND(h);
  SIPROUND(h);
  h->v0 ^= w;
}

static void sip_update(struct siphash *h, const void *data, size_t n)
{
  const uint8_t *p = data, *end = p + n;
  if (h->cnt & 7) {
    while ((h->cnt & 7) && p < end)
      h->cur[h->cnt++ & 7] = *p++;
    if (h->cnt & 7)
      return;
    sip_word(h, le64(h->cur));
  }
  h->cnt += (uint64_t)(end - p);
  while (p + 8 <= end) {
    sip_word(h, le64(p));
    p += 8;
  }
  memset(h->cur, 0, 8);
  memcpy(h->cur, p, (size_t)(end - p));
}

static void sip_u8(struct siphash *h, uint8_t v) { sip_update(h, &v, 1); }

static void sip_u64(struct siphash *h, uint64_t v)
{
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  sip_update(h, b, 8);
}

static void sip_get128(struct siphash *h, uint8_t out[16])
{
  h->cur[7] = (uint8_t)h->cnt;
  uint64_t w = le64(h->cur);
  h->v3 ^= w;
  SIPROUND(h);
  SIPROUND(h);
  h->v0 ^= w;
  h->v2 ^= 0xff;
  SIPROUND(h);
  SIPROUND(h);
  SIPROUND(h);
  SIPROUND(h);
  uint64_t lo = h->v0 ^ h->v1, hi = h->v2 ^ h->v3;
  for (int i = 0; i < 8; i++) {
    out[i] = (uint8_t)(lo >> (8 * i));
    out[8 + i] = (uint8_t)(hi >> (8 * i));
  }
}

void sip_hash128(const void *data, size_t n, uint8_t out[16])
{
  struct siphash h;
  sip_init(&h);
  sip_update(&h, data, n);
  sip_get128(&h, out);
}

/* ---- values as ClickHouse Fields ---- */

enum field_kind {  /* Field::Types::Which */
  F_NULL = 0, F_UINT64 = 1, F_INT64 = 2, F_FLOAT64 = 3, F_UINT128 = 4,
  F_STRING = 16, F_ARRAY = 17, F_TUPLE = 18, F_DECIMAL64 = 20,
};

/* Strips LowCardinality and Nullable; *is_null for NULL. */
static const struct column *scalar_at(const struct column *c, uint32_t *row, bool *is_null)
{
  *is_null = false;
  *row = column_row(c, *row);
  if (c->type->id == TYPE_LOW_CARDINALITY) {
    *row = ((const uint32_t *)c->data)[*row];
    c = c->children[0];
  }
  if (c->type->id == TYPE_NULLABLE) {
    if (c->nulls[*row]) {
      *is_null = true;
      return c;
    }
    c = c->children[0];
  }
  return c;
}

static enum field_kind field_of(const struct column *c, bool is_null)
{
  if (is_null || c->type->id == TYPE_NOTHING)
    return F_NULL;
  switch (c->type->id) {
  case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
  case TYPE_BOOL: case TYPE_DATE: case TYPE_DATETIME:
    return F_UINT64;
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64:
  case TYPE_ENUM8: case TYPE_ENUM16: case TYPE_INTERVAL:
    return F_INT64;
  case TYPE_FLOAT32: case TYPE_FLOAT64:
    return F_FLOAT64;
  case TYPE_UUID:
    return F_UINT128;
  case TYPE_DATETIME64:
    return F_DECIMAL64;
  case TYPE_ARRAY: case TYPE_MAP:
    return F_ARRAY;
  case TYPE_TUPLE: case TYPE_NESTED:
    return F_TUPLE;
  default:
    return F_STRING;
  }
}

static void hash_value(struct siphash *h, const struct column *c, uint32_t row)
{
  bool is_null;
  c = scalar_at(c, &row, &is_null);
  enum field_kind k = field_of(c, is_null);
  sip_u8(h, (uint8_t)k);
  switch (k) {
  case F_NULL:
    return;
  case F_UINT64:
    sip_u64(h, column_get_u64(c, row));
    return;
  case F_INT64:
  case F_DECIMAL64:
    sip_u64(h, (uint64_t)column_get_i64(c, row));
    return;
  case F_FLOAT64: {
    double v = column_get_f64(c, row);
    uint64_t bits;
    memcpy(&bits, &v, 8);
    sip_u64(h, bits);
    return;
  }
  case F_UINT128: {
    /* in memory: the high half first; ClickHouse's UInt128 hashes low, high */
    const uint8_t *p = (const uint8_t *)c->data + 16 * (size_t)row;
    sip_update(h, p + 8, 8);
    sip_update(h, p, 8);
    return;
  }
  case F_ARRAY: {
    uint64_t s, e;
    column_array_range(c, row, &s, &e);
    sip_u64(h, e - s);
    for (uint64_t i = s; i < e; i++) {
      if (c->type->id == TYPE_MAP) {  /* a Map Field is an array of (key, value) tuples */
        sip_u8(h, F_TUPLE);
        sip_u64(h, 2);
        hash_value(h, c->children[0], (uint32_t)i);
        hash_value(h, c->children[1], (uint32_t)i);
      } else {
        hash_value(h, c->children[0], (uint32_t)i);
      }
    }
    return;
  }
  case F_TUPLE:
    sip_u64(h, c->child_count);
    for (uint32_t i = 0; i < c->child_count; i++)
      hash_value(h, c->children[i], row);
    return;
  default: {
    struct slice s = column_get_bytes(c, row);
    sip_u64(h, s.len);
    sip_update(h, s.ptr, s.len);
    return;
  }
  }
}

/* Days since 1970-01-01 → YYYYMMDD (proleptic Gregorian). */
static uint32_t yyyymmdd(int64_t days)
{
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    y++;
  return (uint32_t)(y * 10000 + m * 100 + d);
}

void partition_id_append(const struct column *const *values, uint32_t count, uint32_t row, struct buf *out)
{
  if (count == 0) {
    buf_append_cstr(out, "all");
    return;
  }
  bool integral = true;
  for (uint32_t i = 0; i < count && integral; i++) {
    uint32_t r = row;
    bool is_null;
    const struct column *c = scalar_at(values[i], &r, &is_null);
    enum field_kind k = field_of(c, is_null);
    integral = k == F_UINT64 || k == F_INT64;
  }
  if (integral) {
    for (uint32_t i = 0; i < count; i++) {
      uint32_t r = row;
      bool is_null;
      const struct column *c = scalar_at(values[i], &r, &is_null);
      if (i)
        buf_append_char(out, '-');
      if (c->type->id == TYPE_DATE)
        buf_printf(out, "%" PRIu32, yyyymmdd((int64_t)column_get_u64(c, r)));
      else if (field_of(c, false) == F_UINT64)
        buf_printf(out, "%" PRIu64, column_get_u64(c, r));
      else
        buf_printf(out, "%" PRId64, column_get_i64(c, r));
    }
    return;
  }
  struct siphash h;
  sip_init(&h);
  for (uint32_t i = 0; i < count; i++)
    hash_value(&h, values[i], row);
  uint8_t sum[16];
  sip_get128(&h, sum);
  for (int i = 0; i < 16; i++)
    buf_printf(out, "%02x", sum[i]);
}

void partition_text_append(const struct def *d, const struct column *const *values, uint32_t row, struct buf *out)
{
  uint32_t n = d->td.partition_key_count;
  if (d->td.format_partition) {
    struct arena a;
    arena_init(&a, 0);
    const struct column **one = arena_new_array(&a, const struct column *, n + 1);
    for (uint32_t i = 0; i < n; i++)
      one[i] = column_const_from(&a, values[i], row, 1);
    d->td.format_partition(d->td.ctx, one, n, out);
    arena_destroy(&a);
    return;
  }
  if (n == 0) {
    buf_append_cstr(out, "tuple()");
  } else if (n == 1) {
    column_format_value(values[0], row, out);
  } else {
    buf_append_char(out, '(');
    for (uint32_t i = 0; i < n; i++) {
      if (i)
        buf_append_char(out, ',');
      column_format_quoted(values[i], row, out);
    }
    buf_append_char(out, ')');
  }
}
