/* Codec chains: parsing and printing ClickHouse's CODEC(...) spelling,
 * applying a chain (first step first) and undoing it (last step first),
 * the general-purpose steps (NONE, LZ4, ZSTD), the internal HEX and NARROW
 * stream encodings, and the framed compressed block of the part format.
 *
 * Invariants:
 *  1. Every step's encoded form is payload + u32 decoded length (a suffix,
 *     so the next step sees the payload aligned at offset 0), and a chain
 *     decodes without side information; decoded lengths are bounded before
 *     any allocation (2 * final length + 1 KiB).
 *  2. Decoders never read outside their input nor write outside their
 *     output; any inconsistency is -1 (CANNOT_DECOMPRESS for callers). */
#include "storage/storage_int.h"

#include <ctype.h>
#include <lz4.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>
#include <zstd.h>

#include "base/alloc.h"

/* ---- varints and bounded reads ---- */

size_t varint_put(uint8_t *p, uint64_t v)
{
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

void buf_put_varint(struct buf *b, uint64_t v)
{
  uint8_t tmp[10];
  buf_append(b, tmp, varint_put(tmp, v));
}

void buf_put_u8(struct buf *b, uint8_t v) { buf_append(b, &v, 1); }

void buf_put_u64le(struct buf *b, uint64_t v)
{
  uint8_t tmp[8];
  put_u64le(tmp, v);
  buf_append(b, tmp, 8);
}

void buf_put_bytes(struct buf *b, const void *p, size_t n)
{
  buf_put_varint(b, n);
  buf_append(b, p, n);
}

size_t varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
  uint64_t x = 0;
  for (size_t i = 0; i < 10; i++) {
    if (p + i >= end)
      return 0;
    uint8_t c = p[i];
    if (i == 9 && c > 1)
      return 0;  /* more than 64 bits */
    x |= (uint64_t)(c & 0x7f) << (7 * i);
    if (!(c & 0x80)) {
      *v = x;
      return i + 1;
    }
  }
  return 0;
}

uint64_t rd_varint(struct rd *r)
{
  uint64_t v = 0;
  if (r->bad)
    return 0;
  size_t n = varint_get(r->p, r->end, &v);
  if (!n) {
    r->bad = true;
    return 0;
  }
  r->p += n;
  return v;
}

uint64_t rd_varint_max(struct rd *r, uint64_t max)
{
  uint64_t v = rd_varint(r);
  if (v > max) {
    r->bad = true;
    return 0;
  }
  return v;
}

uint8_t rd_u8(struct rd *r)
{
  const uint8_t *p = rd_take(r, 1);
  return p ? *p : 0;
}

uint64_t rd_u64le(struct rd *r)
{
  const uint8_t *p = rd_take(r, 8);
  return p ? get_u64le(p) : 0;
}

const uint8_t *rd_take(struct rd *r, size_t n)
{
  if (r->bad || rd_left(r) < n) {
    r->bad = true;
    return NULL;
  }
  const uint8_t *p = r->p;
  r->p += n;
  return p;
}

struct slice rd_bytes(struct rd *r)
{
  uint64_t n = rd_varint_max(r, rd_left(r));
  const uint8_t *p = rd_take(r, (size_t)n);
  return p ? slice_make((const char *)p, (size_t)n) : slice_make("", 0);
}

/* ---- chains: names, parsing, printing ---- */

struct codec_name {
  const char *name;
  uint8_t kind;
  bool has_param;      /* accepts one integer parameter */
};

static const struct codec_name codec_names[] = {
  { "NONE", CODEC_NONE, false },      { "LZ4", CODEC_LZ4, false },
  { "ZSTD", CODEC_ZSTD, true },       { "Delta", CODEC_DELTA, true },
  { "DoubleDelta", CODEC_DOUBLE_DELTA, true }, { "Gorilla", CODEC_GORILLA, true },
  { "T64", CODEC_T64, false },        { "HEX", CODEC_HEX, false },
  { "NARROW", CODEC_NARROW, true },   { "DEDUP", CODEC_DEDUP, true },
};

static const char *kind_name(uint8_t kind)
{
  for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++)
    if (codec_names[i].kind == kind)
      return codec_names[i].name;
  return "?";
}

static bool width_ok(int w) { return w == 1 || w == 2 || w == 4 || w == 8; }

bool codec_step_valid(const struct codec_step *s)
{
  switch (s->kind) {
  case CODEC_NONE: case CODEC_LZ4: case CODEC_HEX: return s->param == 0;
  case CODEC_ZSTD: return s->param >= -7 && s->param <= 22;
  case CODEC_DELTA: case CODEC_DOUBLE_DELTA: case CODEC_GORILLA: return width_ok(s->param);
  case CODEC_T64: return width_ok(s->param & 0xF) && (s->param & ~(0xF | CODEC_T64_SIGNED)) == 0;
  case CODEC_NARROW: return s->param == 1 || s->param == 2 || s->param == 4;
  case CODEC_DEDUP: return s->param >= 1 && s->param <= 255;
  default: return false;
  }
}

struct codec_chain codec_chain_lz4(void) { return (struct codec_chain){ 1, { { CODEC_LZ4, 0 } } }; }
struct codec_chain codec_chain_zstd(int level) { return (struct codec_chain){ 1, { { CODEC_ZSTD, (int16_t)level } } }; }

int codec_chain_parse_text(const char *text, struct codec_chain *out, struct error *err)
{
  memset(out, 0, sizeof *out);
  const char *p = text;
  while (isspace((unsigned char)*p))
    p++;
  bool wrapped = false;
  if (strncasecmp(p, "CODEC", 5) == 0) {
    const char *q = p + 5;
    while (isspace((unsigned char)*q))
      q++;
    if (*q == '(') {
      wrapped = true;
      p = q + 1;
    }
  }
  for (;;) {
    while (isspace((unsigned char)*p))
      p++;
    const char *name = p;
    while (isalnum((unsigned char)*p) || *p == '_')
      p++;
    size_t name_len = (size_t)(p - name);
    if (!name_len)
      return error_set(err, ERR_SYNTAX_ERROR, "expected a codec name in '%s'", text);
    const struct codec_name *cn = NULL;
    for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++)
      if (strlen(codec_names[i].name) == name_len && strncasecmp(codec_names[i].name, name, name_len) == 0)
        cn = &codec_names[i];
    if (!cn || cn->kind == CODEC_HEX || cn->kind == CODEC_NARROW || cn->kind == CODEC_DEDUP)
      return error_set(err, ERR_UNKNOWN_CODEC, "Unknown codec family code: %.*s", (int)name_len, name);
    if (out->count == CODEC_CHAIN_MAX)
      return error_set(err, ERR_BAD_ARGUMENTS, "too many codecs in '%s' (at most %d)", text, CODEC_CHAIN_MAX);
    struct codec_step s = { cn->kind, cn->kind == CODEC_ZSTD ? 1 : 0 };
    while (isspace((unsigned char)*p))
      p++;
    if (*p == '(') {
      p++;
      while (isspace((unsigned char)*p))
        p++;
      char *endp;
      long v = strtol(p, &endp, 10);
      if (endp == p || !cn->has_param)
        return error_set(err, ERR_BAD_ARGUMENTS, "codec %s takes %s parameter in '%s'", cn->name,
                         cn->has_param ? "an integer" : "no", text);
      p = endp;
      while (isspace((unsigned char)*p))
        p++;
      if (*p != ')')
        return error_set(err, ERR_SYNTAX_ERROR, "expected ')' after the %s parameter in '%s'", cn->name, text);
      p++;
      if (v < -128 || v > 127)
        return error_set(err, ERR_BAD_ARGUMENTS, "%s parameter %ld is out of range", cn->name, v);
      s.param = (int16_t)v;
      bool ok = cn->kind == CODEC_ZSTD ? (v >= 1 && v <= 22) : width_ok((int)v);
      if (!ok)
        return error_set(err, ERR_BAD_ARGUMENTS, "bad %s parameter %ld (%s)", cn->name, v,
                         cn->kind == CODEC_ZSTD ? "level 1..22" : "bytes 1, 2, 4 or 8");
    }
    out->steps[out->count++] = s;
    while (isspace((unsigned char)*p))
      p++;
    if (*p == ',') {
      p++;
      continue;
    }
    break;
  }
  if (wrapped) {
    if (*p != ')')
      return error_set(err, ERR_SYNTAX_ERROR, "expected ')' closing CODEC( in '%s'", text);
    p++;
    while (isspace((unsigned char)*p))
      p++;
  }
  if (*p)
    return error_set(err, ERR_SYNTAX_ERROR, "unexpected '%s' in codec list '%s'", p, text);
  return 0;
}

void codec_chain_format(const struct codec_chain *chain, struct buf *out)
{
  for (unsigned i = 0; i < chain->count; i++) {
    const struct codec_step *s = &chain->steps[i];
    if (i)
      buf_append_cstr(out, ", ");
    buf_append_cstr(out, kind_name(s->kind));
    if (s->kind == CODEC_T64 && (s->param & CODEC_T64_SIGNED))
      buf_printf(out, "(%d, signed)", s->param & 0xF);
    else if (s->param || s->kind == CODEC_ZSTD)
      buf_printf(out, "(%d)", s->kind == CODEC_T64 ? s->param & 0xF : s->param);
  }
}

struct codec_chain codec_chain_for_values(const struct codec_chain *chain, const struct datatype *t)
{
  struct codec_chain out = { 0 };
  size_t w = t ? datatype_fixed_bytes(t) : 0;
  bool numeric = t && (datatype_is_numeric(t) || datatype_is_date_or_time(t) || t->id == TYPE_ENUM8 ||
                       t->id == TYPE_ENUM16 || t->id == TYPE_BOOL) && width_ok((int)w);
  bool integer = numeric && !datatype_is_float(t);
  for (unsigned i = 0; i < chain->count; i++) {
    struct codec_step s = chain->steps[i];
    switch (s.kind) {
    case CODEC_NONE:
      continue;
    case CODEC_DELTA:
    case CODEC_DOUBLE_DELTA:
    case CODEC_GORILLA:
      if (!numeric)
        continue;
      if (!s.param)
        s.param = (int16_t)w;
      break;
    case CODEC_T64:
      if (!integer)
        continue;
      s.param = (int16_t)(w | (datatype_is_signed(t) ? CODEC_T64_SIGNED : 0));
      break;
    default:
      break;
    }
    if (codec_step_valid(&s))
      out.steps[out.count++] = s;
  }
  return out;
}

/* ---- thread-local zstd contexts and decode scratch ---- */

static pthread_key_t zstd_key;
static pthread_once_t zstd_once = PTHREAD_ONCE_INIT;
struct zstd_ctx {
  ZSTD_CCtx *c;
  ZSTD_DCtx *d;
  uint8_t *scratch[2];           /* intermediate results of codec_decode, grow-only */
  size_t scratch_cap[2];
};
static _Thread_local struct zstd_ctx *tl_zstd;

enum { SCRATCH_KEEP_MAX = 8u << 20 };   /* larger scratch buffers are freed after use */

static void zstd_free(void *p)
{
  struct zstd_ctx *z = p;
  ZSTD_freeCCtx(z->c);
  ZSTD_freeDCtx(z->d);
  mem_free(z->scratch[0]);
  mem_free(z->scratch[1]);
  mem_free(z);
}

static void zstd_key_make(void) { pthread_key_create(&zstd_key, zstd_free); }

static struct zstd_ctx *zstd_get(void)
{
  if (!tl_zstd) {
    pthread_once(&zstd_once, zstd_key_make);
    tl_zstd = mem_calloc(1, sizeof *tl_zstd);
    tl_zstd->c = ZSTD_createCCtx();
    tl_zstd->d = ZSTD_createDCtx();
    if (!tl_zstd->c || !tl_zstd->d)
      abort();  /* OOM */
    pthread_setspecific(zstd_key, tl_zstd);
  }
  return tl_zstd;
}

static uint8_t *scratch_get(int slot, size_t n)
{
  struct zstd_ctx *z = zstd_get();
  if (z->scratch_cap[slot] < n) {
    mem_free(z->scratch[slot]);
    size_t cap = n < 65536 ? 65536 : n;
    z->scratch[slot] = mem_alloc(cap);
    z->scratch_cap[slot] = cap;
  }
  return z->scratch[slot];
}

static void scratch_trim(void)
{
  struct zstd_ctx *z = tl_zstd;
  for (int i = 0; z && i < 2; i++)
    if (z->scratch_cap[i] > SCRATCH_KEEP_MAX) {
      mem_free(z->scratch[i]);
      z->scratch[i] = NULL;
      z->scratch_cap[i] = 0;
    }
}

/* ---- single steps ---- */

/* Two lowercase hex characters per byte value, first character in the low
 * byte so a little-endian u16 store writes them in order. */
#define HEX_CHAR(n) ((n) < 10 ? '0' + (n) : 'a' - 10 + (n))
#define HEX_PAIR(b) (uint16_t)(HEX_CHAR((b) >> 4) | HEX_CHAR((b) & 15) << 8)
#define HEX_R4(b) HEX_PAIR(b), HEX_PAIR((b) + 1), HEX_PAIR((b) + 2), HEX_PAIR((b) + 3)
#define HEX_R16(b) HEX_R4(b), HEX_R4((b) + 4), HEX_R4((b) + 8), HEX_R4((b) + 12)
#define HEX_R64(b) HEX_R16(b), HEX_R16((b) + 16), HEX_R16((b) + 32), HEX_R16((b) + 48)
static const uint16_t hex_pair[256] = { HEX_R64(0), HEX_R64(64), HEX_R64(128), HEX_R64(192) };

/* Nibble of a lowercase hex character, 0x10 for anything else. */
#define NIB(c) ((c) >= '0' && (c) <= '9' ? (c) - '0' : (c) >= 'a' && (c) <= 'f' ? (c) - 'a' + 10 : 0x10)
#define NIB4(c) NIB(c), NIB((c) + 1), NIB((c) + 2), NIB((c) + 3)
#define NIB16(c) NIB4(c), NIB4((c) + 4), NIB4((c) + 8), NIB4((c) + 12)
#define NIB64(c) NIB16(c), NIB16((c) + 16), NIB16((c) + 32), NIB16((c) + 48)
static const uint8_t hex_nibble[256] = { NIB64(0), NIB64(64), NIB64(128), NIB64(192) };

bool codec_hex_applicable(const void *in, size_t n)
{
  const uint8_t *p = in;
  uint8_t bad = 0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {     /* compares, not table loads, and no early exit inside a run: the loop vectorizes */
    uint8_t run = 0;
    for (size_t k = 0; k < 64; k++) {
      uint8_t c = p[i + k];
      run |= (uint8_t)((uint8_t)(c - '0') >= 10 && (uint8_t)(c - 'a') >= 6);
    }
    if (run)
      return false;
  }
  for (; i < n; i++)
    bad |= hex_nibble[p[i]];
  return !(bad & 0x10);
}

static void hex_pack(const uint8_t *in, size_t n, uint8_t *o)
{
  for (size_t i = 0; i + 1 < n; i += 2)
    o[i / 2] = (uint8_t)(hex_nibble[in[i]] << 4 | hex_nibble[in[i + 1]]);
  if (n & 1)
    o[n / 2] = (uint8_t)(hex_nibble[in[n - 1]] << 4);
}

static void hex_unpack(const uint8_t *in, uint8_t *out, size_t out_len)
{
  size_t pairs = out_len / 2;
  for (size_t i = 0; i < pairs; i++) {
    uint16_t v = STORAGE_LE16(hex_pair[in[i]]);
    memcpy(out + 2 * i, &v, 2);
  }
  if (out_len & 1)
    out[out_len - 1] = (uint8_t)HEX_CHAR(in[pairs] >> 4);
}

static int step_encode_payload(const struct codec_step *s, const uint8_t *in, size_t n, struct buf *out);

int codec_step_encode(const struct codec_step *s, const uint8_t *in, size_t n, struct buf *out)
{
  if (!codec_step_valid(s) || n > UINT32_MAX)
    return -1;
  int rc = step_encode_payload(s, in, n, out);
  if (rc == 0) {
    uint8_t len[4];
    put_u32le(len, (uint32_t)n);
    buf_append(out, len, 4);
  }
  return rc;
}

static int step_encode_payload(const struct codec_step *s, const uint8_t *in, size_t n, struct buf *out)
{
  switch (s->kind) {
  case CODEC_NONE:
    buf_append(out, in, n);
    return 0;
  case CODEC_LZ4: {
    if (n > (size_t)LZ4_MAX_INPUT_SIZE)
      return -1;
    int bound = LZ4_compressBound((int)n);
    buf_reserve(out, (size_t)bound);
    int got = LZ4_compress_default((const char *)in, out->data + out->len, (int)n, bound);
    if (got <= 0 && n)
      return -1;
    out->len += (size_t)got;
    return 0;
  }
  case CODEC_ZSTD: {
    size_t bound = ZSTD_compressBound(n);
    buf_reserve(out, bound);
    size_t got = ZSTD_compressCCtx(zstd_get()->c, out->data + out->len, bound, in, n, s->param);
    if (ZSTD_isError(got))
      return -1;
    out->len += got;
    return 0;
  }
  case CODEC_HEX: {
    if (!codec_hex_applicable(in, n))
      return -1;
    size_t m = (n + 1) / 2;
    buf_reserve(out, m);
    hex_pack(in, n, (uint8_t *)out->data + out->len);
    out->len += m;
    return 0;
  }
  case CODEC_NARROW: {
    size_t count = n / 4, tail = n % 4, w = (size_t)s->param;
    buf_reserve(out, count * w + tail);
    uint8_t *o = (uint8_t *)out->data + out->len;
    uint32_t any = 0;
    if (w == 1)
      for (size_t i = 0; i < count; i++) {
        uint32_t v = get_u32le(in + 4 * i);
        any |= v;
        o[i] = (uint8_t)v;
      }
    else if (w == 2)
      for (size_t i = 0; i < count; i++) {
        uint32_t v = get_u32le(in + 4 * i);
        any |= v;
        o[2 * i] = (uint8_t)v;
        o[2 * i + 1] = (uint8_t)(v >> 8);
      }
    else
      memcpy(o, in, count * 4);
    if (w < 4 && (any >> (8 * w)) != 0)
      return -1;
    memcpy(o + count * w, in + count * 4, tail);
    out->len += count * w + tail;
    return 0;
  }
  case CODEC_DEDUP: dedup_encode(s->param, in, n, out); return 0;
  case CODEC_DELTA: delta_encode(s->param, in, n, out); return 0;
  case CODEC_DOUBLE_DELTA: double_delta_encode(s->param, in, n, out); return 0;
  case CODEC_GORILLA: gorilla_encode(s->param, in, n, out); return 0;
  case CODEC_T64: t64_encode(s->param, in, n, out); return 0;
  default: return -1;
  }
}

/* in/n: payload after the length prefix; out_len: the decoded length. */
static int step_decode_payload(const struct codec_step *s, const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
  switch (s->kind) {
  case CODEC_NONE:
    if (n != out_len)
      return -1;
    if (n)
      memcpy(out, in, n);
    return 0;
  case CODEC_LZ4: {
    if (out_len > (size_t)LZ4_MAX_INPUT_SIZE || n > (size_t)INT32_MAX)
      return -1;
    if (out_len == 0)
      return n == 0 || (n == 1 && in[0] == 0) ? 0 : -1;
    int got = LZ4_decompress_safe((const char *)in, (char *)out, (int)n, (int)out_len);
    return got == (int)out_len ? 0 : -1;
  }
  case CODEC_ZSTD: {
    unsigned long long fcs = ZSTD_getFrameContentSize(in, n);
    if (fcs != out_len)
      return -1;
    size_t got = ZSTD_decompressDCtx(zstd_get()->d, out, out_len, in, n);
    return !ZSTD_isError(got) && got == out_len ? 0 : -1;
  }
  case CODEC_HEX:
    if (n != (out_len + 1) / 2)
      return -1;
    hex_unpack(in, out, out_len);
    return 0;
  case CODEC_NARROW: {
    size_t count = out_len / 4, tail = out_len % 4, w = (size_t)s->param;
    if (n != count * w + tail)
      return -1;
    if (w == 1) {
      for (size_t i = 0; i < count; i++)
        put_u32le(out + 4 * i, in[i]);
    } else if (w == 2) {
      for (size_t i = 0; i < count; i++)
        put_u32le(out + 4 * i, get_u16le(in + 2 * i));
    } else {
      memcpy(out, in, count * 4);
    }
    if (tail)
      memcpy(out + count * 4, in + count * w, tail);
    return 0;
  }
  case CODEC_DEDUP: return dedup_decode(s->param, in, n, out, out_len);
  case CODEC_DELTA: return delta_decode(s->param, in, n, out, out_len);
  case CODEC_DOUBLE_DELTA: return double_delta_decode(s->param, in, n, out, out_len);
  case CODEC_GORILLA: return gorilla_decode(s->param, in, n, out, out_len);
  case CODEC_T64: return t64_decode(s->param, in, n, out, out_len);
  default: return -1;
  }
}

int codec_step_decode(const struct codec_step *s, const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
  if (!codec_step_valid(s) || n < 4 || get_u32le(in + n - 4) != out_len)
    return -1;
  return step_decode_payload(s, in, n - 4, out, out_len);
}

/* ---- chains ---- */

int codec_encode(const struct codec_chain *chain, const void *in, size_t n, struct buf *out, struct error *err)
{
  if (chain->count > CODEC_CHAIN_MAX)
    return error_set(err, ERR_BAD_ARGUMENTS, "codec chain too long");
  if (chain->count == 0) {
    buf_append(out, in, n);
    return 0;
  }
  struct buf tmp[2];
  buf_init(&tmp[0]);
  buf_init(&tmp[1]);
  const uint8_t *cur = in;
  size_t cur_len = n;
  int rc = 0;
  for (unsigned i = 0; i < chain->count; i++) {
    struct buf *dst = i + 1 == chain->count ? out : &tmp[i & 1];
    if (dst != out)
      buf_reset(dst);
    if (codec_step_encode(&chain->steps[i], cur, cur_len, dst) != 0) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "codec %s cannot encode this input", kind_name(chain->steps[i].kind));
      break;
    }
    cur = (const uint8_t *)dst->data;
    cur_len = dst->len;
  }
  buf_free(&tmp[0]);
  buf_free(&tmp[1]);
  return rc;
}

int codec_decode(const struct codec_chain *chain, const void *in, size_t n, void *out, size_t out_len,
                 struct error *err)
{
  if (chain->count > CODEC_CHAIN_MAX)
    return error_set(err, ERR_CANNOT_DECOMPRESS, "codec chain too long");
  if (chain->count == 0) {
    if (n != out_len)
      return error_set(err, ERR_CANNOT_DECOMPRESS, "stored size %zu != expected %zu", n, out_len);
    if (n)
      memcpy(out, in, n);
    return 0;
  }
  size_t cap = out_len * 2 + 1024;
  const uint8_t *cur = in;
  size_t cur_len = n;
  int cur_slot = -1;             /* scratch slot holding cur, -1 = the input */
  int rc = 0;
  for (int i = chain->count - 1; i >= 0; i--) {
    const struct codec_step *s = &chain->steps[i];
    uint64_t len = cur_len >= 4 ? get_u32le(cur + cur_len - 4) : 0;
    if (cur_len < 4 || !codec_step_valid(s) || (i == 0 ? len != out_len : len > cap)) {
      rc = error_set(err, ERR_CANNOT_DECOMPRESS, "bad %s frame (decoded length)", kind_name(s->kind));
      break;
    }
    if (s->kind == CODEC_NONE && i > 0) {
      /* nothing to undo: the payload is the next step's input as it lies */
      if (cur_len - 4 != len) {
        rc = error_set(err, ERR_CANNOT_DECOMPRESS, "corrupt NONE payload");
        break;
      }
      cur_len = (size_t)len;
      continue;
    }
    /* intermediate results alternate between two per-thread buffers: a
     * step writes the one its input is not in */
    int slot = cur_slot == 0 ? 1 : 0;
    uint8_t *dst = i == 0 ? out : scratch_get(slot, len ? (size_t)len : 1);
    if (step_decode_payload(s, cur, cur_len - 4, dst, (size_t)len) != 0) {
      rc = error_set(err, ERR_CANNOT_DECOMPRESS, "corrupt %s payload", kind_name(s->kind));
      break;
    }
    cur = dst;
    cur_len = (size_t)len;
    cur_slot = slot;
  }
  scratch_trim();
  return rc;
}

/* ---- framed blocks ---- */

uint64_t block_encode(const struct codec_chain *chain, const void *raw, size_t raw_len, struct buf *out)
{
  size_t start = out->len;
  size_t hb = block_header_bytes(chain->count);
  buf_reserve(out, hb);
  memset(out->data + start, 0, hb);
  out->len += hb;
  uint8_t *h = (uint8_t *)out->data + start;
  h[8] = chain->count;
  for (unsigned i = 0; i < chain->count; i++) {
    h[9 + 2 * i] = chain->steps[i].kind;
    h[10 + 2 * i] = (uint8_t)(int8_t)chain->steps[i].param;
  }
  struct error err;
  if (codec_encode(chain, raw, raw_len, out, &err) != 0)
    abort();  /* programmer error: the writer builds only valid chains */
  h = (uint8_t *)out->data + start;
  size_t stored = out->len - start - hb;
  put_u32le(h + 9 + 2 * chain->count, (uint32_t)stored);
  put_u32le(h + 13 + 2 * chain->count, (uint32_t)raw_len);
  uint64_t sum = XXH3_64bits(h + 8, out->len - start - 8);
  put_u64le(h, sum);
  return sum;
}

int block_parse(const uint8_t *p, size_t n, bool verify, struct block_header *h, const char **why)
{
  if (n < BLOCK_HEADER_FIXED) {
    *why = "block shorter than its header";
    return -1;
  }
  h->checksum = get_u64le(p);
  unsigned steps = p[8];
  if (steps > CODEC_CHAIN_MAX) {
    *why = "bad codec count in block header";
    return -1;
  }
  h->header_bytes = block_header_bytes(steps);
  if (n < h->header_bytes) {
    *why = "block shorter than its header";
    return -1;
  }
  h->chain.count = (uint8_t)steps;
  for (unsigned i = 0; i < steps; i++) {
    h->chain.steps[i].kind = p[9 + 2 * i];
    h->chain.steps[i].param = (int16_t)(h->chain.steps[i].kind == CODEC_ZSTD ? (int8_t)p[10 + 2 * i] : p[10 + 2 * i]);
    if (!codec_step_valid(&h->chain.steps[i])) {
      *why = "unknown codec in block header";
      return -1;
    }
  }
  h->stored = get_u32le(p + 9 + 2 * steps);
  h->raw = get_u32le(p + 13 + 2 * steps);
  if ((size_t)h->stored != n - h->header_bytes) {
    *why = "block size in header disagrees with the footer";
    return -1;
  }
  if (h->raw > BLOCK_RAW_BYTES_MAX) {
    *why = "block uncompressed size too large";
    return -1;
  }
  if (verify && XXH3_64bits(p + 8, n - 8) != h->checksum) {
    *why = "block checksum mismatch";
    return -1;
  }
  return 0;
}
