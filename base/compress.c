/* Content codings over zlib and libzstd; see compress.h. "deflate" is the
 * zlib format per RFC 9110 §8.4.1.2, but some clients send raw deflate, so
 * the decoder looks at the first two bytes and accepts both. */
#include "base/compress.h"
#include "base/alloc.h"
#include "base/error.h"

#include <inttypes.h>
#include <lz4.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct decompressor {
  enum compress_codec codec;
  uint64_t out_max_bytes;
  uint64_t total_out;
  bool boundary;                   /* at the start of a stream / after a complete one */
  bool zinit;                      /* zlib stream initialised for the current member */
  z_stream z;
  ZSTD_DStream *zd;
};

struct compressor {
  enum compress_codec codec;
  int level;
  bool finished;
  z_stream z;
  ZSTD_CStream *zc;
};

static bool name_is(struct slice s, const char *name) { return slice_eq_nocase(slice_trim(s), name); }

int compress_codec_parse(struct slice name, enum compress_codec *out, struct error *err)
{
  struct slice n = slice_trim(name);
  if (n.len == 0 || name_is(n, "identity"))
    *out = COMPRESS_NONE;
  else if (name_is(n, "gzip") || name_is(n, "x-gzip"))
    *out = COMPRESS_GZIP;
  else if (name_is(n, "deflate"))
    *out = COMPRESS_DEFLATE;
  else if (name_is(n, "zstd"))
    *out = COMPRESS_ZSTD;
  else
    return error_set(err, ERR_UNSUPPORTED_MEDIA_TYPE, "Unknown Content-Encoding '%.*s'",
                     (int)(n.len > 64 ? 64 : n.len), n.ptr);
  return 0;
}

const char *compress_codec_name(enum compress_codec codec)
{
  switch (codec) {
  case COMPRESS_GZIP:    return "gzip";
  case COMPRESS_DEFLATE: return "deflate";
  case COMPRESS_ZSTD:    return "zstd";
  default:               return NULL;
  }
}

/* Parses "gzip;q=0.5" -> name, q in thousandths. */
static void parse_accept_item(struct slice item, struct slice *name, int *q)
{
  const char *semi = memchr(item.ptr, ';', item.len);
  *name = slice_trim(slice_make(item.ptr, semi ? (size_t)(semi - item.ptr) : item.len));
  *q = 1000;
  if (!semi)
    return;
  struct slice params = slice_make(semi + 1, (size_t)(item.ptr + item.len - semi - 1));
  params = slice_trim(params);
  if (params.len < 2 || (params.ptr[0] != 'q' && params.ptr[0] != 'Q') || params.ptr[1] != '=')
    return;
  /* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
  int v = 0, scale = 1000;
  size_t i = 2;
  if (i < params.len && params.ptr[i] >= '0' && params.ptr[i] <= '1')
    v = (params.ptr[i++] - '0') * 1000;
  if (i < params.len && params.ptr[i] == '.') {
    i++;
    for (int d = 0; d < 3 && i < params.len && params.ptr[i] >= '0' && params.ptr[i] <= '9'; d++, i++) {
      scale /= 10;
      v += (params.ptr[i] - '0') * scale;
    }
  }
  *q = v > 1000 ? 1000 : v;
}

enum compress_codec compress_codec_from_accept(struct slice accept_encoding)
{
  static const enum compress_codec prefer[] = { COMPRESS_ZSTD, COMPRESS_GZIP, COMPRESS_DEFLATE };
  int q_of[4] = { 0, -1, -1, -1 };     /* -1 = not mentioned */
  int star = -1;
  struct slice list = accept_encoding;
  while (list.len) {
    const char *comma = memchr(list.ptr, ',', list.len);
    size_t n = comma ? (size_t)(comma - list.ptr) : list.len;
    struct slice item = slice_make(list.ptr, n), name;
    list.ptr += comma ? n + 1 : n;
    list.len -= comma ? n + 1 : n;
    int q;
    parse_accept_item(item, &name, &q);
    if (name_is(name, "gzip") || name_is(name, "x-gzip"))
      q_of[COMPRESS_GZIP] = q;
    else if (name_is(name, "deflate"))
      q_of[COMPRESS_DEFLATE] = q;
    else if (name_is(name, "zstd"))
      q_of[COMPRESS_ZSTD] = q;
    else if (name_is(name, "*"))
      star = q;
  }
  enum compress_codec best = COMPRESS_NONE;
  int best_q = 0;
  for (size_t i = 0; i < sizeof prefer / sizeof prefer[0]; i++) {
    int q = q_of[prefer[i]] >= 0 ? q_of[prefer[i]] : (star > 0 ? star : 0);
    if (q > best_q) {
      best = prefer[i];
      best_q = q;
    }
  }
  return best;
}

/* ---- decoding */

int decompressor_create(struct decompressor **out, enum compress_codec codec, uint64_t out_max_bytes,
                        struct error *err)
{
  int rc = 0;
  struct decompressor *d = mem_calloc(1, sizeof *d);
  d->codec = codec;
  d->out_max_bytes = out_max_bytes;
  d->boundary = true;
  if (codec == COMPRESS_ZSTD) {
    d->zd = ZSTD_createDStream();
    if (!d->zd) {
      rc = error_set(err, ERR_CANNOT_DECOMPRESS, "cannot create zstd decoder");
      goto out_free;
    }
    ZSTD_initDStream(d->zd);
  } else if (codec != COMPRESS_GZIP && codec != COMPRESS_DEFLATE) {
    rc = error_set(err, ERR_LOGICAL_ERROR, "no decoder for codec %d", (int)codec);
    goto out_free;
  }
  *out = d;
  return 0;

out_free:
  mem_free(d);
  return rc;
}

void decompressor_destroy(struct decompressor *d)
{
  if (!d)
    return;
  if (d->zinit)
    inflateEnd(&d->z);
  if (d->zd)
    ZSTD_freeDStream(d->zd);
  mem_free(d);
}

/* Starts a zlib member. For deflate the first byte tells zlib-wrapped
 * (CMF with method 8 and a valid check) from raw. */
static int zlib_begin(struct decompressor *d, const unsigned char *in, size_t in_len, struct error *err)
{
  int window = 15 + 32;              /* gzip: auto-detect gzip/zlib header */
  if (d->codec == COMPRESS_DEFLATE) {
    bool zlib_hdr = in_len >= 2 && (in[0] & 0x0f) == 8 && ((in[0] << 8) | in[1]) % 31 == 0;
    window = zlib_hdr ? 15 : -15;
  }
  memset(&d->z, 0, sizeof d->z);
  if (inflateInit2(&d->z, window) != Z_OK)
    return error_set(err, ERR_CANNOT_DECOMPRESS, "cannot initialise zlib");
  d->zinit = true;
  return 0;
}

static int run_zlib(struct decompressor *d, const unsigned char *in, size_t in_len, size_t *in_used,
                    unsigned char *out, size_t out_cap, size_t *out_len, struct error *err)
{
  size_t i = 0, o = 0;
  int rc = 0;
  while (i < in_len && o < out_cap) {
    if (!d->zinit) {
      /* deflate needs two bytes to pick zlib vs raw */
      if (d->codec == COMPRESS_DEFLATE && in_len - i < 2 && d->boundary && d->total_out == 0)
        break;
      rc = zlib_begin(d, in + i, in_len - i, err);
      if (rc)
        goto out;
      d->boundary = false;
    }
    size_t in_chunk = in_len - i > UINT32_MAX ? UINT32_MAX : in_len - i;
    size_t out_chunk = out_cap - o > UINT32_MAX ? UINT32_MAX : out_cap - o;
    d->z.next_in = (unsigned char *)(uintptr_t)(in + i);
    d->z.avail_in = (uInt)in_chunk;
    d->z.next_out = out + o;
    d->z.avail_out = (uInt)out_chunk;
    int zr = inflate(&d->z, Z_NO_FLUSH);
    i += in_chunk - d->z.avail_in;
    o += out_chunk - d->z.avail_out;
    if (zr == Z_STREAM_END) {
      inflateEnd(&d->z);
      d->zinit = false;
      d->boundary = true;
      /* Raw deflate and zlib streams are not concatenated; gzip members are.
       * Trailing bytes after a deflate stream are corrupt data. */
      if (d->codec == COMPRESS_DEFLATE && i < in_len) {
        rc = error_set(err, ERR_CANNOT_DECOMPRESS, "data after the end of the deflate stream");
        goto out;
      }
      continue;
    }
    if (zr == Z_BUF_ERROR)
      break;                         /* needs more input or output room */
    if (zr != Z_OK) {
      rc = error_set(err, ERR_CANNOT_DECOMPRESS, "cannot decompress %s body: %s",
                     compress_codec_name(d->codec), d->z.msg ? d->z.msg : "corrupt data");
      goto out;
    }
  }
out:
  *in_used = i;
  *out_len = o;
  return rc;
}

static int run_zstd(struct decompressor *d, const void *in, size_t in_len, size_t *in_used,
                    void *out, size_t out_cap, size_t *out_len, struct error *err)
{
  ZSTD_inBuffer ib = { in, in_len, 0 };
  ZSTD_outBuffer ob = { out, out_cap, 0 };
  int rc = 0;
  while (ib.pos < ib.size && ob.pos < ob.size) {
    size_t r = ZSTD_decompressStream(d->zd, &ob, &ib);
    if (ZSTD_isError(r)) {
      rc = error_set(err, ERR_CANNOT_DECOMPRESS, "cannot decompress zstd body: %s", ZSTD_getErrorName(r));
      break;
    }
    d->boundary = r == 0;           /* 0: a frame was completely decoded and flushed */
  }
  /* Output may still be pending inside zstd with all input consumed. */
  if (!rc && ib.pos == ib.size && ob.pos < ob.size && !d->boundary) {
    size_t r = ZSTD_decompressStream(d->zd, &ob, &ib);
    if (ZSTD_isError(r))
      rc = error_set(err, ERR_CANNOT_DECOMPRESS, "cannot decompress zstd body: %s", ZSTD_getErrorName(r));
    else
      d->boundary = r == 0;
  }
  *in_used = ib.pos;
  *out_len = ob.pos;
  return rc;
}

int decompressor_run(struct decompressor *d, const void *in, size_t in_len, size_t *in_used,
                     void *out, size_t out_cap, size_t *out_len, struct error *err)
{
  int rc;
  if (d->codec == COMPRESS_ZSTD)
    rc = run_zstd(d, in, in_len, in_used, out, out_cap, out_len, err);
  else
    rc = run_zlib(d, in, in_len, in_used, out, out_cap, out_len, err);
  d->total_out += *out_len;
  if (!rc && d->out_max_bytes && d->total_out > d->out_max_bytes)
    rc = error_set(err, ERR_QUERY_IS_TOO_LARGE,
                   "decompressed request body exceeds the limit of %llu bytes",
                   (unsigned long long)d->out_max_bytes);
  return rc;
}

bool decompressor_at_boundary(const struct decompressor *d) { return d->boundary && !d->zinit; }
uint64_t decompressor_total_out(const struct decompressor *d) { return d->total_out; }

/* ---- encoding */

int compressor_create(struct compressor **out, enum compress_codec codec, int level, struct error *err)
{
  int rc = 0;
  struct compressor *c = mem_calloc(1, sizeof *c);
  c->codec = codec;
  c->level = level > 0 ? level : 3;
  if (codec == COMPRESS_ZSTD) {
    c->zc = ZSTD_createCStream();
    if (!c->zc || ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, c->level))) {
      rc = error_set(err, ERR_LOGICAL_ERROR, "cannot create zstd encoder");
      goto out_free;
    }
  } else if (codec == COMPRESS_GZIP || codec == COMPRESS_DEFLATE) {
    int window = codec == COMPRESS_GZIP ? 15 + 16 : 15;
    if (deflateInit2(&c->z, c->level > 9 ? 9 : c->level, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      rc = error_set(err, ERR_LOGICAL_ERROR, "cannot create zlib encoder");
      goto out_free;
    }
  } else {
    rc = error_set(err, ERR_LOGICAL_ERROR, "no encoder for codec %d", (int)codec);
    goto out_free;
  }
  *out = c;
  return 0;

out_free:
  if (c->zc)
    ZSTD_freeCStream(c->zc);
  mem_free(c);
  return rc;
}

void compressor_destroy(struct compressor *c)
{
  if (!c)
    return;
  if (c->codec == COMPRESS_ZSTD)
    ZSTD_freeCStream(c->zc);
  else
    deflateEnd(&c->z);
  mem_free(c);
}

static int run_deflate(struct compressor *c, const void *in, size_t in_len, int mode, struct buf *out,
                       struct error *err)
{
  c->z.next_in = (unsigned char *)(uintptr_t)in;
  c->z.avail_in = (uInt)in_len;
  for (;;) {
    buf_reserve(out, 16384 + in_len / 2);
    size_t room = out->cap - out->len - 1;
    if (room > UINT32_MAX)
      room = UINT32_MAX;
    c->z.next_out = (unsigned char *)out->data + out->len;
    c->z.avail_out = (uInt)room;
    int zr = deflate(&c->z, mode);
    out->len += room - c->z.avail_out;
    if (zr == Z_STREAM_ERROR)
      return error_set(err, ERR_LOGICAL_ERROR, "zlib deflate failed");
    if (mode == Z_FINISH ? zr == Z_STREAM_END : (c->z.avail_in == 0 && c->z.avail_out != 0))
      return 0;
  }
}

static int run_zstd_enc(struct compressor *c, const void *in, size_t in_len, ZSTD_EndDirective mode,
                        struct buf *out, struct error *err)
{
  ZSTD_inBuffer ib = { in, in_len, 0 };
  for (;;) {
    buf_reserve(out, ZSTD_CStreamOutSize());
    ZSTD_outBuffer ob = { out->data + out->len, out->cap - out->len - 1, 0 };
    size_t r = ZSTD_compressStream2(c->zc, &ob, &ib, mode);
    out->len += ob.pos;
    if (ZSTD_isError(r))
      return error_set(err, ERR_LOGICAL_ERROR, "zstd compress failed: %s", ZSTD_getErrorName(r));
    if (mode == ZSTD_e_continue ? ib.pos == ib.size : r == 0)
      return 0;
  }
}

int compressor_run(struct compressor *c, const void *in, size_t in_len, bool flush, bool finish,
                   struct buf *out, struct error *err)
{
  if (c->finished)
    return in_len ? error_set(err, ERR_LOGICAL_ERROR, "write after the end of a compressed stream") : 0;
  c->finished = finish;
  if (c->codec == COMPRESS_ZSTD)
    return run_zstd_enc(c, in, in_len, finish ? ZSTD_e_end : flush ? ZSTD_e_flush : ZSTD_e_continue, out, err);
  /* zlib's avail_in is 32-bit; feed huge inputs in pieces. */
  const char *p = in;
  while (in_len > UINT32_MAX / 2) {
    int rc = run_deflate(c, p, UINT32_MAX / 2, Z_NO_FLUSH, out, err);
    if (rc)
      return rc;
    p += UINT32_MAX / 2;
    in_len -= UINT32_MAX / 2;
  }
  return run_deflate(c, p, in_len, finish ? Z_FINISH : flush ? Z_SYNC_FLUSH : Z_NO_FLUSH, out, err);
}

/* ---- CityHash128, version 1.0.2 ---------------------------------------------
 * Written from the published algorithm. ClickHouse froze this version for its
 * block checksums; CityHash 1.1 changed the short-input and tail mixing, so
 * a current library gives other values. Inputs are read little-endian. */

#define CITY_K0 0xc3a5c85c97cb3127ULL
#define CITY_K1 0xb492b66fbe98f273ULL
#define CITY_K2 0x9ae16a3b2f90404fULL
#define CITY_K3 0xc949d7c7509e6557ULL

static uint64_t city_load64(const uint8_t *p)
{
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static uint64_t city_load32(const uint8_t *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

static uint64_t city_rot(uint64_t v, unsigned s) { return s == 0 ? v : (v >> s) | (v << (64 - s)); }
static uint64_t city_shift_mix(uint64_t v) { return v ^ (v >> 47); }

/* Murmur-style mix of a 128-bit value (low u, high v) into 64 bits. */
static uint64_t city_mix16(uint64_t u, uint64_t v)
{
  const uint64_t mul = 0x9ddfea08eb382d69ULL;
  uint64_t a = (u ^ v) * mul;
  a ^= a >> 47;
  uint64_t b = (v ^ a) * mul;
  b ^= b >> 47;
  return b * mul;
}

static uint64_t city_short(const uint8_t *s, size_t len)
{
  if (len > 8) {
    uint64_t a = city_load64(s), b = city_load64(s + len - 8);
    return city_mix16(a, city_rot(b + len, (unsigned)len)) ^ b;
  }
  if (len >= 4)
    return city_mix16(len + (city_load32(s) << 3), city_load32(s + len - 4));
  if (len > 0) {
    uint32_t y = (uint32_t)s[0] + ((uint32_t)s[len >> 1] << 8);
    uint32_t z = (uint32_t)len + ((uint32_t)s[len - 1] << 2);
    return city_shift_mix((uint64_t)y * CITY_K2 ^ (uint64_t)z * CITY_K3) * CITY_K2;
  }
  return CITY_K2;
}

/* Hash of 32 bytes w,x,y,z with seeds a,b into (*o1, *o2). */
static void city_weak32(const uint8_t *s, uint64_t a, uint64_t b, uint64_t *o1, uint64_t *o2)
{
  uint64_t w = city_load64(s), x = city_load64(s + 8), y = city_load64(s + 16), z = city_load64(s + 24);
  a += w;
  b = city_rot(b + a + z, 21);
  uint64_t c = a;
  a += x + y;
  b += city_rot(a, 44);
  *o1 = a + z;
  *o2 = b + c;
}

/* Inputs under 128 bytes. */
static void city_murmur(const uint8_t *s, size_t len, uint64_t a, uint64_t b, uint64_t out[2])
{
  uint64_t c, d;
  if (len <= 16) {
    a = city_shift_mix(a * CITY_K1) * CITY_K1;
    c = b * CITY_K1 + city_short(s, len);
    d = city_shift_mix(a + (len >= 8 ? city_load64(s) : c));
  } else {
    c = city_mix16(city_load64(s + len - 8) + CITY_K1, a);
    d = city_mix16(b + len, c + city_load64(s + len - 16));
    a += d;
    for (size_t left = len; left > 16; left -= 16, s += 16) {
      a ^= city_shift_mix(city_load64(s) * CITY_K1) * CITY_K1;
      a *= CITY_K1;
      b ^= a;
      c ^= city_shift_mix(city_load64(s + 8) * CITY_K1) * CITY_K1;
      c *= CITY_K1;
      d ^= c;
    }
  }
  a = city_mix16(a, c);
  b = city_mix16(d, b);
  out[0] = a ^ b;
  out[1] = city_mix16(b, a);
}

static void city128_seeded(const uint8_t *s, size_t len, uint64_t x, uint64_t y, uint64_t out[2])
{
  if (len < 128) {
    city_murmur(s, len, x, y, out);
    return;
  }
  uint64_t z = len * CITY_K1, t;
  uint64_t v1 = city_rot(y ^ CITY_K1, 49) * CITY_K1 + city_load64(s);
  uint64_t v2 = city_rot(v1, 42) * CITY_K1 + city_load64(s + 8);
  uint64_t w1 = city_rot(y + z, 35) * CITY_K1 + x;
  uint64_t w2 = city_rot(x + city_load64(s + 88), 53) * CITY_K1;
  do {
    for (int half = 0; half < 2; half++) {      /* 64 bytes per step */
      x = city_rot(x + y + v1 + city_load64(s + 16), 37) * CITY_K1;
      y = city_rot(y + v2 + city_load64(s + 48), 42) * CITY_K1;
      x ^= w2;
      y ^= v1;
      z = city_rot(z ^ w1, 33);
      city_weak32(s, v2 * CITY_K1, x + w1, &v1, &v2);
      city_weak32(s + 32, z + w2, y, &w1, &w2);
      t = z, z = x, x = t;
      s += 64;
    }
    len -= 128;
  } while (len >= 128);
  y += city_rot(w1, 37) * CITY_K0 + z;
  x += city_rot(v1 + z, 49) * CITY_K0;
  /* The last 0..127 bytes, in 32-byte pieces taken from the end (they may
   * overlap bytes already hashed; the input is at least 128 bytes long). */
  for (size_t done = 0; done < len;) {
    done += 32;
    y = city_rot(y - x, 42) * CITY_K0 + v2;
    w1 += city_load64(s + len - done + 16);
    x = city_rot(x, 49) * CITY_K0 + w1;
    w1 += v1;
    city_weak32(s + len - done, v1, v2, &v1, &v2);
  }
  x = city_mix16(x, v1);
  y = city_mix16(y, w1);
  out[0] = city_mix16(x + v2, w2) + y;
  out[1] = city_mix16(x + w2, y + v2);
}

void cityhash128_v102(const void *data, size_t len, uint64_t out[2])
{
  const uint8_t *s = data;
  if (len >= 16)
    city128_seeded(s + 16, len - 16, city_load64(s) ^ CITY_K3, city_load64(s + 8), out);
  else if (len >= 8)
    city128_seeded(NULL, 0, city_load64(s) ^ (len * CITY_K0), city_load64(s + len - 8) ^ CITY_K1, out);
  else
    city128_seeded(s, len, CITY_K0, CITY_K1, out);
}

/* ---- ClickHouse block frames --------------------------------------------- */

static void put_u32le(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32le(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u64le(uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

bool chframe_method_parse(const char *name, enum chframe_method *out)
{
  struct slice n = slice_of(name);
  if (name_is(n, "lz4") || name_is(n, "lz4hc"))
    *out = CHFRAME_LZ4;
  else if (name_is(n, "zstd"))
    *out = CHFRAME_ZSTD;
  else if (name_is(n, "none"))
    *out = CHFRAME_NONE;
  else
    return false;
  return true;
}

int chframe_encode(enum chframe_method method, int level, const void *in, size_t len, struct buf *out,
                   struct error *err)
{
  if (len > CHFRAME_BYTES_MAX)
    return error_set(err, ERR_LOGICAL_ERROR, "block of %zu bytes is too large for one frame", len);
  size_t bound = method == CHFRAME_LZ4 ? (size_t)LZ4_compressBound((int)len)
                 : method == CHFRAME_ZSTD ? ZSTD_compressBound(len) : len;
  size_t start = out->len, head = CHFRAME_CHECKSUM_BYTES + CHFRAME_HEADER_BYTES;
  buf_reserve(out, head + bound);
  uint8_t *f = (uint8_t *)out->data + start;
  size_t payload;
  if (method == CHFRAME_LZ4) {
    int n = LZ4_compress_default(in, (char *)f + head, (int)len, (int)bound);
    if (n <= 0)
      return error_set(err, ERR_LOGICAL_ERROR, "LZ4 compression failed");
    payload = (size_t)n;
  } else if (method == CHFRAME_ZSTD) {
    size_t n = ZSTD_compress(f + head, bound, in, len, level > 0 ? level : 1);
    if (ZSTD_isError(n))
      return error_set(err, ERR_LOGICAL_ERROR, "zstd compress failed: %s", ZSTD_getErrorName(n));
    payload = n;
  } else {
    if (len)
      memcpy(f + head, in, len);
    payload = len;
  }
  if (payload + CHFRAME_HEADER_BYTES > CHFRAME_BYTES_MAX)
    return error_set(err, ERR_LOGICAL_ERROR, "compressed block too large for one frame");
  f[16] = (uint8_t)method;
  put_u32le(f + 17, (uint32_t)(payload + CHFRAME_HEADER_BYTES));
  put_u32le(f + 21, (uint32_t)len);
  uint64_t h[2];
  cityhash128_v102(f + CHFRAME_CHECKSUM_BYTES, CHFRAME_HEADER_BYTES + payload, h);
  put_u64le(f, h[0]);
  put_u64le(f + 8, h[1]);
  out->len = start + head + payload;
  return 0;
}

/* Decoder states: collecting the 25-byte head, then the rest of the frame
 * (`need` bytes in total), then handing out `plain`; then the next head. */
struct chframe_decoder {
  bool verify;
  bool failed;                     /* an error was returned; refuse more input */
  uint32_t frame_bytes_max;
  struct buf frame;                /* bytes of the current frame so far */
  size_t need;                     /* frame.len when complete: 25, then 16 + compressed size */
  struct buf plain;                /* decoded payload of the last frame */
  size_t plain_pos;                /* bytes of plain already handed out */
  uint64_t frame_offset;           /* stream offset of the current frame */
};

int chframe_decoder_create(struct chframe_decoder **out, bool verify, uint32_t frame_bytes_max,
                           struct error *err)
{
  (void)err;
  struct chframe_decoder *d = mem_calloc(1, sizeof *d);
  d->verify = verify;
  d->frame_bytes_max = frame_bytes_max && frame_bytes_max < CHFRAME_BYTES_MAX ? frame_bytes_max
                                                                             : CHFRAME_BYTES_MAX;
  d->need = CHFRAME_CHECKSUM_BYTES + CHFRAME_HEADER_BYTES;
  buf_init(&d->frame);
  buf_init(&d->plain);
  *out = d;
  return 0;
}

void chframe_decoder_destroy(struct chframe_decoder *d)
{
  if (!d)
    return;
  buf_free(&d->frame);
  buf_free(&d->plain);
  mem_free(d);
}

static int frame_fail(struct chframe_decoder *d, int code)
{
  d->failed = true;
  return code;
}

/* Checks the head once its 25 bytes are in; sets need. */
static int frame_head(struct chframe_decoder *d, struct error *err)
{
  const uint8_t *f = (const uint8_t *)d->frame.data;
  uint32_t csize = get_u32le(f + 17), usize = get_u32le(f + 21);
  if (csize > d->frame_bytes_max || usize > d->frame_bytes_max)
    return frame_fail(d, error_set(err, ERR_TOO_LARGE_SIZE_COMPRESSED,
                                   "Too large size_compressed: %" PRIu32 " or size_decompressed: %" PRIu32
                                   " (limit %" PRIu32 ") in the frame at byte %" PRIu64 ". Most likely corrupted data",
                                   csize, usize, d->frame_bytes_max, d->frame_offset));
  if (csize < CHFRAME_HEADER_BYTES)
    return frame_fail(d, error_set(err, ERR_CANNOT_DECOMPRESS,
                                   "Too small size_compressed: %" PRIu32 " (less than the 9-byte header) in the "
                                   "frame at byte %" PRIu64 ". Most likely corrupted data", csize, d->frame_offset));
  d->need = CHFRAME_CHECKSUM_BYTES + (size_t)csize;
  return 0;
}

/* Verifies and decodes the complete frame into plain. */
static int frame_decode(struct chframe_decoder *d, struct error *err)
{
  const uint8_t *f = (const uint8_t *)d->frame.data;
  size_t csize = d->need - CHFRAME_CHECKSUM_BYTES, payload = csize - CHFRAME_HEADER_BYTES;
  uint32_t usize = get_u32le(f + 21);
  const uint8_t *in = f + CHFRAME_CHECKSUM_BYTES + CHFRAME_HEADER_BYTES;
  if (d->verify) {
    uint64_t h[2];
    cityhash128_v102(f + CHFRAME_CHECKSUM_BYTES, csize, h);
    uint64_t got0 = city_load64(f), got1 = city_load64(f + 8);
    if (h[0] != got0 || h[1] != got1)
      return frame_fail(d, error_set(err, ERR_CHECKSUM_DOESNT_MATCH,
                                     "Checksum doesn't match: corrupted data. Reference: %016" PRIx64 "%016" PRIx64
                                     ". Actual: %016" PRIx64 "%016" PRIx64 ". Size of compressed block: %zu "
                                     "(frame at byte %" PRIu64 " of the stream)",
                                     got0, got1, h[0], h[1], csize, d->frame_offset));
  }
  buf_reset(&d->plain);
  d->plain_pos = 0;
  buf_reserve(&d->plain, usize);
  switch (f[16]) {
  case CHFRAME_NONE:
    if (payload != usize)
      goto corrupt;
    if (usize)
      memcpy(d->plain.data, in, usize);
    break;
  case CHFRAME_LZ4:
    if (payload > (size_t)INT32_MAX ||
        LZ4_decompress_safe((const char *)in, d->plain.data, (int)payload, (int)usize) != (int)usize)
      goto corrupt;
    break;
  case CHFRAME_ZSTD: {
    size_t n = ZSTD_decompress(d->plain.data, usize, in, payload);
    if (ZSTD_isError(n) || n != usize)
      goto corrupt;
    break;
  }
  default:
    return frame_fail(d, error_set(err, ERR_UNKNOWN_COMPRESSION_METHOD, "Unknown compression method: %u", f[16]));
  }
  d->plain.len = usize;
  d->frame_offset += d->frame.len;
  buf_reset(&d->frame);
  d->need = CHFRAME_CHECKSUM_BYTES + CHFRAME_HEADER_BYTES;
  return 0;
corrupt:
  return frame_fail(d, error_set(err, ERR_CANNOT_DECOMPRESS,
                                 "Cannot decompress the frame at byte %" PRIu64 " (method 0x%02x, %zu -> %" PRIu32
                                 " bytes): corrupted data", d->frame_offset, f[16], payload, usize));
}

int chframe_decoder_run(struct chframe_decoder *d, const void *in, size_t in_len, size_t *in_used,
                        void *out, size_t out_cap, size_t *out_len, struct error *err)
{
  const uint8_t *src = in;
  size_t used = 0, produced = 0;
  *in_used = 0;
  *out_len = 0;
  if (d->failed)
    return error_set(err, ERR_LOGICAL_ERROR, "frame decoder used after an error");
  for (;;) {
    if (d->plain_pos < d->plain.len) {
      size_t n = d->plain.len - d->plain_pos;
      if (n > out_cap - produced)
        n = out_cap - produced;
      if (n)
        memcpy((char *)out + produced, d->plain.data + d->plain_pos, n);
      produced += n;
      d->plain_pos += n;
      if (d->plain_pos < d->plain.len)
        break;                                   /* out is full */
    }
    if (used == in_len)
      break;
    size_t n = d->need - d->frame.len;
    if (n > in_len - used)
      n = in_len - used;
    buf_append(&d->frame, (const char *)src + used, n);
    used += n;
    if (d->frame.len < d->need)
      break;                                     /* input exhausted */
    int rc = d->need == CHFRAME_CHECKSUM_BYTES + CHFRAME_HEADER_BYTES ? frame_head(d, err) : 0;
    if (rc == 0 && d->frame.len == d->need)
      rc = frame_decode(d, err);
    if (rc) {
      *in_used = used;
      *out_len = produced;
      return rc;
    }
  }
  *in_used = used;
  *out_len = produced;
  return 0;
}

int chframe_decoder_finish(const struct chframe_decoder *d, struct error *err)
{
  if (d->frame.len == 0 && d->plain_pos == d->plain.len)
    return 0;
  if (d->frame.len == 0)
    return error_set(err, ERR_LOGICAL_ERROR, "decoded bytes left unread at the end of the frames");
  return error_set(err, ERR_CANNOT_READ_ALL_DATA,
                   "Cannot read all data. Bytes read: %zu. Bytes expected: %zu (truncated frame at byte %" PRIu64
                   " of the stream)", d->frame.len, d->need, d->frame_offset);
}
