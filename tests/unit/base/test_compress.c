/* Content-coding tests: gzip/deflate/zstd round trips through the streaming
 * encoder and decoder with tiny buffers, concatenated streams, corrupt and
 * truncated input, the decompressed-size cap (zip bomb), Accept-Encoding. */
#include "base/alloc.h"
#include "base/compress.h"
#include "base/error.h"
#include "tests/unit/test.h"

#include <zlib.h>

static void make_input(struct buf *b, size_t n)
{
  buf_reset(b);
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    /* compressible but not trivial */
    buf_append_char(b, (char)("abcdefgh\n, 0123"[(x >> 16) % 15]));
  }
}

static void encode(enum compress_codec codec, const struct buf *in, size_t piece, struct buf *out)
{
  struct compressor *c;
  struct error err;
  REQUIRE(compressor_create(&c, codec, 0, &err) == 0);
  buf_reset(out);
  for (size_t off = 0; off < in->len; off += piece) {
    size_t n = in->len - off < piece ? in->len - off : piece;
    REQUIRE(compressor_run(c, in->data + off, n, off % (piece * 4) == 0, false, out, &err) == 0);
  }
  REQUIRE(compressor_run(c, NULL, 0, false, true, out, &err) == 0);
  CHECK(compressor_run(c, "x", 1, false, false, out, &err) != 0);   /* after the end */
  compressor_destroy(c);
}

/* Decodes with in_step-sized input pieces and out_cap output room. */
static int decode(enum compress_codec codec, const char *in, size_t len, size_t in_step, size_t out_cap,
                  uint64_t cap, struct buf *out, bool *boundary)
{
  struct decompressor *d;
  struct error err;
  REQUIRE(decompressor_create(&d, codec, cap, &err) == 0);
  buf_reset(out);
  char *tmp = mem_alloc(out_cap);
  size_t pos = 0, avail = 0;
  int rc = 0;
  for (;;) {
    if (avail < len)
      avail = avail + in_step > len ? len : avail + in_step;
    size_t used, produced;
    rc = decompressor_run(d, in + pos, avail - pos, &used, tmp, out_cap, &produced, &err);
    pos += used;
    buf_append(out, tmp, produced);
    if (rc)
      break;
    if (avail == len && used == 0 && produced == 0)
      break;
  }
  *boundary = pos == len && decompressor_at_boundary(d);
  mem_free(tmp);
  decompressor_destroy(d);
  return rc;
}

static void test_round_trips(void)
{
  enum compress_codec codecs[] = { COMPRESS_GZIP, COMPRESS_DEFLATE, COMPRESS_ZSTD };
  struct buf in, z, out;
  buf_init(&in);
  buf_init(&z);
  buf_init(&out);
  size_t sizes[] = { 0, 1, 100, 70000, 1 << 20 };
  for (size_t ci = 0; ci < 3; ci++) {
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
      make_input(&in, sizes[si]);
      encode(codecs[ci], &in, 1000, &z);
      bool boundary;
      size_t steps[] = { 1, 7, 4096, z.len + 1 };
      for (size_t k = 0; k < 4; k++) {
        if (steps[k] == 1 && z.len > 5000)
          continue;                  /* byte-by-byte only on small inputs (speed) */
        int rc = decode(codecs[ci], z.data, z.len, steps[k], k == 0 ? 3 : 65536, 0, &out, &boundary);
        CHECK_EQ_INT(rc, 0);
        CHECK(boundary);
        CHECK(out.len == in.len && (in.len == 0 || memcmp(out.data, in.data, in.len) == 0));
      }
      /* truncated: not at a boundary */
      if (z.len > 4) {
        int rc = decode(codecs[ci], z.data, z.len - 3, 4096, 65536, 0, &out, &boundary);
        CHECK(rc != 0 || !boundary);
      }
    }
  }
  buf_free(&in);
  buf_free(&z);
  buf_free(&out);
}

static void test_concatenated(void)
{
  struct buf a, b, za, zb, both, out;
  buf_init(&a); buf_init(&b); buf_init(&za); buf_init(&zb); buf_init(&both); buf_init(&out);
  buf_append_cstr(&a, "first part;");
  buf_append_cstr(&b, "second part");
  enum compress_codec codecs[] = { COMPRESS_GZIP, COMPRESS_ZSTD };
  for (int i = 0; i < 2; i++) {
    encode(codecs[i], &a, 100, &za);
    encode(codecs[i], &b, 100, &zb);
    buf_reset(&both);
    buf_append(&both, za.data, za.len);
    buf_append(&both, zb.data, zb.len);
    bool boundary;
    CHECK_EQ_INT(decode(codecs[i], both.data, both.len, 5, 64, 0, &out, &boundary), 0);
    CHECK(boundary);
    CHECK_EQ_MEM(out.data, out.len, "first part;second part");
  }
  buf_free(&a); buf_free(&b); buf_free(&za); buf_free(&zb); buf_free(&both); buf_free(&out);
}

static void test_raw_deflate_and_corrupt(void)
{
  /* raw deflate (no zlib header), as some clients send for "deflate" */
  const char *text = "raw deflate body raw deflate body";
  unsigned char z[256];
  z_stream s;
  memset(&s, 0, sizeof s);
  REQUIRE(deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  s.next_in = (unsigned char *)(uintptr_t)text;
  s.avail_in = (uInt)strlen(text);
  s.next_out = z;
  s.avail_out = sizeof z;
  REQUIRE(deflate(&s, Z_FINISH) == Z_STREAM_END);
  size_t zlen = sizeof z - s.avail_out;
  deflateEnd(&s);
  struct buf out;
  buf_init(&out);
  bool boundary;
  CHECK_EQ_INT(decode(COMPRESS_DEFLATE, (char *)z, zlen, 3, 16, 0, &out, &boundary), 0);
  CHECK(boundary);
  CHECK_EQ_MEM(out.data, out.len, text);

  const char junk[] = "this is not compressed at all, not at all";
  CHECK_EQ_INT(decode(COMPRESS_GZIP, junk, sizeof junk - 1, 8, 64, 0, &out, &boundary), ERR_CANNOT_DECOMPRESS);
  CHECK_EQ_INT(decode(COMPRESS_ZSTD, junk, sizeof junk - 1, 8, 64, 0, &out, &boundary), ERR_CANNOT_DECOMPRESS);
  buf_free(&out);
}

static void test_bomb_limit(void)
{
  /* 64 MiB of zeros compress to a few KiB; the cap stops decoding early. */
  struct buf in, z, out;
  buf_init(&in); buf_init(&z); buf_init(&out);
  buf_reserve(&in, 64u << 20);
  memset(in.data, 0, 64u << 20);
  in.len = 64u << 20;
  enum compress_codec codecs[] = { COMPRESS_GZIP, COMPRESS_ZSTD, COMPRESS_DEFLATE };
  for (int i = 0; i < 3; i++) {
    encode(codecs[i], &in, 1 << 20, &z);
    CHECK(z.len < 1 << 20);
    bool boundary;
    int rc = decode(codecs[i], z.data, z.len, 65536, 65536, 1 << 20, &out, &boundary);
    CHECK_EQ_INT(rc, ERR_QUERY_IS_TOO_LARGE);
    CHECK(out.len <= (1 << 20) + 65536);
    CHECK_EQ_INT(error_http_status(rc), 413);
  }
  buf_free(&in); buf_free(&z); buf_free(&out);
}

static void test_names(void)
{
  enum compress_codec c;
  struct error err;
  CHECK(compress_codec_parse(slice_of("GZIP"), &c, &err) == 0 && c == COMPRESS_GZIP);
  CHECK(compress_codec_parse(slice_of(" x-gzip "), &c, &err) == 0 && c == COMPRESS_GZIP);
  CHECK(compress_codec_parse(slice_of("zstd"), &c, &err) == 0 && c == COMPRESS_ZSTD);
  CHECK(compress_codec_parse(slice_of("deflate"), &c, &err) == 0 && c == COMPRESS_DEFLATE);
  CHECK(compress_codec_parse(slice_of(""), &c, &err) == 0 && c == COMPRESS_NONE);
  CHECK(compress_codec_parse(slice_of("identity"), &c, &err) == 0 && c == COMPRESS_NONE);
  CHECK_EQ_INT(compress_codec_parse(slice_of("br"), &c, &err), ERR_UNSUPPORTED_MEDIA_TYPE);
  CHECK(strstr(err.message, "br") != NULL);
  CHECK_EQ_INT(compress_codec_from_accept(slice_of("gzip, deflate, br, zstd")), COMPRESS_ZSTD);
  CHECK_EQ_INT(compress_codec_from_accept(slice_of("gzip;q=0.5, deflate;q=0.8")), COMPRESS_DEFLATE);
  CHECK_EQ_INT(compress_codec_from_accept(slice_of("zstd;q=0, gzip")), COMPRESS_GZIP);
  CHECK_EQ_INT(compress_codec_from_accept(slice_of("br")), COMPRESS_NONE);
  CHECK_EQ_INT(compress_codec_from_accept(slice_of("*")), COMPRESS_ZSTD);
  CHECK_EQ_INT(compress_codec_from_accept(slice_of("*;q=0")), COMPRESS_NONE);
  CHECK_EQ_INT(compress_codec_from_accept(slice_of("")), COMPRESS_NONE);
  CHECK_EQ_STR(compress_codec_name(COMPRESS_ZSTD), "zstd");
  CHECK(compress_codec_name(COMPRESS_NONE) == NULL);
}

int main(void)
{
  test_round_trips();
  test_concatenated();
  test_raw_deflate_and_corrupt();
  test_bomb_limit();
  test_names();
  TEST_DONE();
}
