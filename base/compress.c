/* Content codings over zlib and libzstd; see compress.h. "deflate" is the
 * zlib format per RFC 9110 §8.4.1.2, but some clients send raw deflate, so
 * the decoder looks at the first two bytes and accepts both. */
#include "base/compress.h"
#include "base/alloc.h"
#include "base/error.h"

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
