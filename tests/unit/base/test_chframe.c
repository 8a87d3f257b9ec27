/* ClickHouse block frames: CityHash128 v1.0.2 against checksums ClickHouse
 * 18.16 computed itself (its CHECKSUM_DOESNT_MATCH message prints the hash of
 * a frame it was sent), a frame ClickHouse wrote into a MergeTree .bin file,
 * round trips through every method with tiny input/output pieces, and the
 * errors: bad checksum, unknown method, truncated, oversized, corrupt LZ4. */
#include "base/alloc.h"
#include "base/compress.h"
#include "base/error.h"
#include "tests/unit/test.h"

#include <inttypes.h>

/* Hashed bytes = a NONE frame's head + payload: 0x02, u32 9 + n, u32 n,
 * then payload byte i = (i * 31 + 7) & 255. The hex is ClickHouse's print
 * order: low 64 bits, then high, each as a number. */
static const struct { uint32_t payload_len; const char *hex; } city_vectors[] = {
  { 0, "974f2cf0ae3066c75542df7f2ac1d4b6" },
  { 3, "e274a2cdd672a87d50d062ac7809cdd3" },
  { 7, "07352f67069fcf20f5af6e14d261299a" },
  { 8, "d9e7e268945556f506170ee0e1b74b07" },
  { 15, "90e454d61a6bec7fcd34236452cae103" },
  { 16, "4fb5b0f6860025a38f197fddd37d1ad0" },
  { 23, "460cc8664fba1a422987784124f0744c" },
  { 24, "db48b5dce16ddb163591e947d8539b52" },
  { 91, "8037d6eeded2fecf6f2f853e906e3d78" },
  { 134, "59a9e8116bac9ad1aa22c4e417374362" },
  { 135, "58d81574a9c8ce15f4ac2a80d06435cd" },
  { 136, "251d9a95587d59c2ec4a6c70a764df7b" },
  { 191, "df42bc66fb3a5214e4dc059e78831f61" },
  { 262, "1592d64c51f215151a03c1b7d94588b6" },
  { 263, "4f857060a37058f45de7c6b31c62c571" },
  { 991, "bef5f1641f4ecb7338b4f2c39a098166" },
  { 4096, "1a917d990d06e24838b43feb67bad5ca" },
};

/* all_1_1_0/n.bin of `CREATE TABLE m (n UInt32) ENGINE=MergeTree ORDER BY n`
 * after `INSERT INTO m SELECT number FROM numbers(100)` on ClickHouse 18.16:
 * one LZ4 frame holding the 100 UInt32 values 0..99. */
static const unsigned char clickhouse_frame[] = {
    0xe5, 0x8d, 0xf0, 0x09, 0x03, 0x4b, 0x53, 0xae, 0x3e, 0x4d, 0x58, 0xac,
    0x7b, 0xc9, 0xa7, 0xfe, 0x82, 0x9c, 0x01, 0x00, 0x00, 0x90, 0x01, 0x00,
    0x00, 0xf0, 0xff, 0x82, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00,
    0x0b, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00,
    0x0e, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
    0x11, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00,
    0x17, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00,
    0x1a, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00,
    0x1d, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00,
    0x20, 0x00, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00,
    0x23, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x25, 0x00, 0x00, 0x00,
    0x26, 0x00, 0x00, 0x00, 0x27, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00,
    0x29, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00,
    0x2c, 0x00, 0x00, 0x00, 0x2d, 0x00, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x00,
    0x2f, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x31, 0x00, 0x00, 0x00,
    0x32, 0x00, 0x00, 0x00, 0x33, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00,
    0x35, 0x00, 0x00, 0x00, 0x36, 0x00, 0x00, 0x00, 0x37, 0x00, 0x00, 0x00,
    0x38, 0x00, 0x00, 0x00, 0x39, 0x00, 0x00, 0x00, 0x3a, 0x00, 0x00, 0x00,
    0x3b, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x3d, 0x00, 0x00, 0x00,
    0x3e, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
    0x41, 0x00, 0x00, 0x00, 0x42, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00, 0x00,
    0x44, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x00, 0x46, 0x00, 0x00, 0x00,
    0x47, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00, 0x49, 0x00, 0x00, 0x00,
    0x4a, 0x00, 0x00, 0x00, 0x4b, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x00, 0x00,
    0x4d, 0x00, 0x00, 0x00, 0x4e, 0x00, 0x00, 0x00, 0x4f, 0x00, 0x00, 0x00,
    0x50, 0x00, 0x00, 0x00, 0x51, 0x00, 0x00, 0x00, 0x52, 0x00, 0x00, 0x00,
    0x53, 0x00, 0x00, 0x00, 0x54, 0x00, 0x00, 0x00, 0x55, 0x00, 0x00, 0x00,
    0x56, 0x00, 0x00, 0x00, 0x57, 0x00, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00,
    0x59, 0x00, 0x00, 0x00, 0x5a, 0x00, 0x00, 0x00, 0x5b, 0x00, 0x00, 0x00,
    0x5c, 0x00, 0x00, 0x00, 0x5d, 0x00, 0x00, 0x00, 0x5e, 0x00, 0x00, 0x00,
    0x5f, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x61, 0x00, 0x00, 0x00,
    0x62, 0x00, 0x00, 0x00, 0x63, 0x00, 0x00, 0x00
};

static void make_none_frame_body(uint32_t n, struct buf *b)
{
  buf_reset(b);
  uint8_t head[9] = { CHFRAME_NONE };
  uint32_t csize = n + 9;
  for (int i = 0; i < 4; i++) {
    head[1 + i] = (uint8_t)(csize >> (8 * i));
    head[5 + i] = (uint8_t)(n >> (8 * i));
  }
  buf_append(b, (const char *)head, 9);
  for (uint32_t i = 0; i < n; i++)
    buf_append_char(b, (char)((i * 31 + 7) & 255));
}

static void test_cityhash_vectors(void)
{
  struct buf b;
  buf_init(&b);
  for (size_t i = 0; i < sizeof city_vectors / sizeof city_vectors[0]; i++) {
    make_none_frame_body(city_vectors[i].payload_len, &b);
    uint64_t h[2];
    cityhash128_v102(b.data, b.len, h);
    char hex[33];
    snprintf(hex, sizeof hex, "%016" PRIx64 "%016" PRIx64, h[0], h[1]);
    CHECK_EQ_STR(hex, city_vectors[i].hex);
  }
  buf_free(&b);
}

/* Decodes in in_step pieces into out_cap pieces; returns the error code. */
static int decode(const void *in, size_t len, bool verify, size_t in_step, size_t out_cap, struct buf *out,
                  struct error *err)
{
  struct chframe_decoder *d;
  REQUIRE(chframe_decoder_create(&d, verify, 0, err) == 0);
  char piece[8192];
  REQUIRE(out_cap <= sizeof piece);
  buf_reset(out);
  size_t pos = 0;
  int rc;
  for (;;) {
    size_t avail = len - pos < in_step ? len - pos : in_step, used, produced;
    rc = chframe_decoder_run(d, (const char *)in + pos, avail, &used, piece, out_cap, &produced, err);
    buf_append(out, piece, produced);
    pos += used;
    if (rc)
      break;
    if (pos == len && produced < out_cap) {
      rc = chframe_decoder_finish(d, err);
      break;
    }
  }
  chframe_decoder_destroy(d);
  return rc;
}

static void test_clickhouse_frame(void)
{
  struct buf out;
  struct error err;
  buf_init(&out);
  REQUIRE(clickhouse_frame[16] == CHFRAME_LZ4);
  CHECK_EQ_INT(decode(clickhouse_frame, sizeof clickhouse_frame, true, 7, 13, &out, &err), 0);
  CHECK_EQ_INT(out.len, 400);
  bool ok = out.len == 400;
  for (uint32_t i = 0; ok && i < 100; i++) {
    uint32_t v;
    memcpy(&v, out.data + 4 * i, 4);
    ok = v == i;
  }
  CHECK(ok);
  /* the stored checksum is our hash of the rest */
  uint64_t h[2];
  cityhash128_v102(clickhouse_frame + 16, sizeof clickhouse_frame - 16, h);
  uint64_t stored[2];
  memcpy(stored, clickhouse_frame, 16);
  CHECK(h[0] == stored[0] && h[1] == stored[1]);
  buf_free(&out);
}

static void make_input(struct buf *b, size_t n, uint32_t seed)
{
  buf_reset(b);
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245 + 12345;
    buf_append_char(b, (char)("abcdefgh\n, 0123\t"[(seed >> 16) % 16]));
  }
}

static void test_round_trips(void)
{
  static const enum chframe_method methods[] = { CHFRAME_NONE, CHFRAME_LZ4, CHFRAME_ZSTD };
  static const size_t sizes[] = { 0, 1, 100, 70000 };
  struct buf in, framed, out;
  struct error err;
  buf_init(&in);
  buf_init(&framed);
  buf_init(&out);
  for (size_t m = 0; m < 3; m++) {
    for (size_t s = 0; s < 4; s++) {
      make_input(&in, sizes[s], (uint32_t)s);
      buf_reset(&framed);
      /* the input as three frames, to cross frame boundaries */
      size_t third = in.len / 3;
      REQUIRE(chframe_encode(methods[m], 0, in.data, third, &framed, &err) == 0);
      REQUIRE(chframe_encode(methods[m], 3, in.data + third, third, &framed, &err) == 0);
      REQUIRE(chframe_encode(methods[m], 0, in.data + 2 * third, in.len - 2 * third, &framed, &err) == 0);
      CHECK_EQ_INT(((const uint8_t *)framed.data)[16], methods[m]);
      static const size_t steps[][2] = { { 1, 1 }, { 3, 5 }, { 25, 8192 }, { 1 << 20, 8192 } };
      for (size_t k = 0; k < 4; k++) {
        CHECK_EQ_INT(decode(framed.data, framed.len, true, steps[k][0], steps[k][1], &out, &err), 0);
        CHECK(out.len == in.len && (in.len == 0 || memcmp(out.data, in.data, in.len) == 0));
      }
    }
  }
  buf_free(&in);
  buf_free(&framed);
  buf_free(&out);
}

static void test_errors(void)
{
  struct buf in, framed, out;
  struct error err;
  buf_init(&in);
  buf_init(&framed);
  buf_init(&out);
  make_input(&in, 5000, 9);
  REQUIRE(chframe_encode(CHFRAME_LZ4, 0, in.data, in.len, &framed, &err) == 0);
  size_t one = framed.len;
  REQUIRE(chframe_encode(CHFRAME_LZ4, 0, in.data, in.len, &framed, &err) == 0);

  /* a flipped payload bit in the second frame: the first still decodes */
  framed.data[one + 40] ^= 4;
  CHECK_EQ_INT(decode(framed.data, framed.len, true, 100, 1000, &out, &err), ERR_CHECKSUM_DOESNT_MATCH);
  CHECK(strstr(err.message, "Checksum doesn't match: corrupted data. Reference: ") != NULL);
  char at[64];
  snprintf(at, sizeof at, "frame at byte %zu", one);
  CHECK(strstr(err.message, at) != NULL);
  CHECK_EQ_INT(out.len, 5000);
  /* without verification the corrupt LZ4 data may or may not decode, but
   * never past its declared size */
  int rc = decode(framed.data, framed.len, false, 100, 1000, &out, &err);
  CHECK(rc == 0 || rc == ERR_CANNOT_DECOMPRESS);
  CHECK(out.len <= 10000);
  framed.data[one + 40] ^= 4;

  /* truncated: in the head, in the payload */
  CHECK_EQ_INT(decode(framed.data, one + 20, true, 7, 1000, &out, &err), ERR_CANNOT_READ_ALL_DATA);
  CHECK(strstr(err.message, "Bytes read: 20. Bytes expected: 25") != NULL);
  CHECK_EQ_INT(decode(framed.data, framed.len - 1, true, 7, 1000, &out, &err), ERR_CANNOT_READ_ALL_DATA);

  /* unknown method, with a correct checksum */
  buf_reset(&framed);
  REQUIRE(chframe_encode(CHFRAME_NONE, 0, "abc", 3, &framed, &err) == 0);
  framed.data[16] = 0x55;
  uint64_t h[2];
  cityhash128_v102(framed.data + 16, framed.len - 16, h);
  memcpy(framed.data, h, 16);              /* little-endian host, as the frame */
  CHECK_EQ_INT(decode(framed.data, framed.len, true, 100, 100, &out, &err), ERR_UNKNOWN_COMPRESSION_METHOD);
  CHECK(strstr(err.message, "Unknown compression method: 85") != NULL);

  /* sizes: too small, too large, NONE sizes disagreeing, LZ4 garbage */
  uint8_t bad[30] = { 0 };
  bad[16] = CHFRAME_NONE;
  bad[17] = 8;                                   /* compressed size < 9 */
  CHECK_EQ_INT(decode(bad, 25, false, 100, 100, &out, &err), ERR_CANNOT_DECOMPRESS);
  bad[17] = 14;
  bad[24] = 0x40;                                /* uncompressed 1 GiB */
  CHECK_EQ_INT(decode(bad, 30, false, 100, 100, &out, &err), ERR_TOO_LARGE_SIZE_COMPRESSED);
  bad[24] = 0;
  bad[21] = 4;                                   /* NONE: 5 payload bytes, says 4 */
  CHECK_EQ_INT(decode(bad, 30, false, 100, 100, &out, &err), ERR_CANNOT_DECOMPRESS);
  bad[16] = CHFRAME_LZ4;
  bad[21] = 200;
  memset(bad + 25, 0xff, 5);
  CHECK_EQ_INT(decode(bad, 30, false, 100, 100, &out, &err), ERR_CANNOT_DECOMPRESS);
  bad[16] = CHFRAME_ZSTD;
  CHECK_EQ_INT(decode(bad, 30, false, 100, 100, &out, &err), ERR_CANNOT_DECOMPRESS);

  /* empty input is a clean end */
  CHECK_EQ_INT(decode("", 0, true, 1, 1, &out, &err), 0);

  enum chframe_method m;
  CHECK(chframe_method_parse("ZSTD", &m) && m == CHFRAME_ZSTD);
  CHECK(chframe_method_parse("lz4hc", &m) && m == CHFRAME_LZ4);
  CHECK(chframe_method_parse("None", &m) && m == CHFRAME_NONE);
  CHECK(!chframe_method_parse("brotli", &m));
  buf_free(&in);
  buf_free(&framed);
  buf_free(&out);
}

int main(void)
{
  test_cityhash_vectors();
  test_clickhouse_frame();
  test_round_trips();
  test_errors();
  TEST_DONE();
}
