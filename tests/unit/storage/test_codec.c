/* Codec round trips: every codec and some chains over random, smooth and
 * edge inputs of every length class (empty, shorter than a value, not a
 * multiple of the width), plus corrupt inputs that must be rejected. */
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

enum { PATTERNS = 7 };

static void fill(uint8_t *p, size_t n, int pattern, int w)
{
  uint64_t v = rnd() & 0xffff, d = rnd() % 1000;
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)rnd();
  switch (pattern) {
  case 0: break;                                   /* random bytes */
  case 1: memset(p, 0, n); break;                  /* zeros */
  case 2: memset(p, 0xff, n); break;               /* all ones */
  case 3:                                          /* counter with steps */
  case 4:                                          /* timestamps with jitter */
    for (size_t i = 0; i + (size_t)w <= n; i += (size_t)w) {
      v += pattern == 3 ? d : 1000000000ull + (rnd() % 5000);
      for (int b = 0; b < w; b++)
        p[i + (size_t)b] = (uint8_t)(v >> (8 * b));
    }
    break;
  case 5:                                          /* doubles, slowly varying */
    for (size_t i = 0; i + 8 <= n; i += 8) {
      double x = 100.0 + (double)(rnd() % 100) / 10.0;
      memcpy(p + i, &x, 8);
    }
    break;
  case 6:                                          /* small signed values */
    for (size_t i = 0; i + (size_t)w <= n; i += (size_t)w) {
      int64_t x = (int64_t)(rnd() % 200) - 100;
      for (int b = 0; b < w; b++)
        p[i + (size_t)b] = (uint8_t)((uint64_t)x >> (8 * b));
    }
    break;
  }
}

static void round_trip(const struct codec_chain *chain, const uint8_t *in, size_t n, const char *what)
{
  struct buf enc;
  buf_init(&enc);
  struct error err;
  int rc = codec_encode(chain, in, n, &enc, &err);
  CHECK_EQ_INT(rc, 0);
  uint8_t *out = malloc(n + 1);
  rc = codec_decode(chain, enc.data, enc.len, out, n, &err);
  if (rc != 0 || memcmp(in, out, n) != 0) {
    struct buf name;
    buf_init(&name);
    codec_chain_format(chain, &name);
    fprintf(stderr, "round trip failed: %s, n=%zu, %s: %s\n", buf_cstr(&name), n, what, rc ? err.message : "mismatch");
    buf_free(&name);
    test_failures++;
  }
  /* corrupt: truncations and flipped bytes never crash; a wrong length is rejected */
  if (enc.len > 0) {
    for (int t = 0; t < 8; t++) {
      size_t cut = (size_t)(rnd() % enc.len);
      codec_decode(chain, enc.data, cut, out, n, &err);
      uint8_t *bad = malloc(enc.len);
      memcpy(bad, enc.data, enc.len);
      bad[rnd() % enc.len] ^= (uint8_t)(1u << (rnd() % 8));
      codec_decode(chain, bad, enc.len, out, n, &err);
      free(bad);
    }
    CHECK(codec_decode(chain, enc.data, enc.len, out, n + 1, &err) != 0);
  }
  free(out);
  buf_free(&enc);
}

static const char *chains[] = {
  "NONE", "LZ4", "ZSTD(1)", "ZSTD(3)", "Delta(1)", "Delta(2)", "Delta(4)", "Delta(8)", "DoubleDelta(1)",
  "DoubleDelta(2)", "DoubleDelta(4)", "DoubleDelta(8)", "Gorilla(1)", "Gorilla(2)", "Gorilla(4)", "Gorilla(8)",
  "Delta(8), ZSTD(1)", "DoubleDelta(8), LZ4", "Gorilla(8), ZSTD(1)", "Delta(4), Delta(4), LZ4",
};

static void test_all_codecs(void)
{
  static const size_t lengths[] = { 0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 511, 512, 513, 4097, 65536 + 5 };
  for (size_t c = 0; c < sizeof chains / sizeof chains[0]; c++) {
    struct codec_chain chain;
    struct error err;
    REQUIRE(codec_chain_parse_text(chains[c], &chain, &err) == 0);
    int w = chain.steps[0].param > 0 && chain.steps[0].kind != CODEC_ZSTD ? chain.steps[0].param : 8;
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++)
      for (int p = 0; p < PATTERNS; p++) {
        uint8_t *in = malloc(lengths[l] + 1);
        fill(in, lengths[l], p, w);
        round_trip(&chain, in, lengths[l], chains[c]);
        free(in);
      }
  }
  /* T64 in every width, signed and unsigned; internal steps */
  for (int w = 1; w <= 8; w *= 2)
    for (int s = 0; s < 2; s++) {
      struct codec_chain chain = { 2, { { CODEC_T64, (int16_t)(w | (s ? CODEC_T64_SIGNED : 0)) }, { CODEC_ZSTD, 1 } } };
      for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++)
        for (int p = 0; p < PATTERNS; p++) {
          uint8_t *in = malloc(lengths[l] + 1);
          fill(in, lengths[l], p, w);
          round_trip(&chain, in, lengths[l], "T64");
          free(in);
        }
    }
  {
    struct codec_chain hex = { 2, { { CODEC_HEX, 0 }, { CODEC_LZ4, 0 } } };
    const char *s = "0123456789abcdef0af";
    for (size_t n = 0; n <= strlen(s); n++)
      round_trip(&hex, (const uint8_t *)s, n, "HEX");
    struct buf b;
    buf_init(&b);
    struct error err;
    CHECK(codec_encode(&hex, "ABC", 3, &b, &err) == ERR_BAD_ARGUMENTS);
    buf_free(&b);
    CHECK(codec_hex_applicable("00ff", 4));
    CHECK(!codec_hex_applicable("00FF", 4));
  }
  for (int w = 1; w <= 32; w *= 2) {
    struct codec_chain dd = { 2, { { CODEC_DEDUP, (int16_t)w }, { CODEC_ZSTD, 1 } } };
    uint8_t recs[4][32], in[3000];
    for (int k = 0; k < 4; k++)
      fill(recs[k], 32, 0, 8);
    for (size_t n = 0; n <= sizeof in; n += 97) {
      for (size_t i = 0; i < n; i++)
        in[i] = recs[(i / (size_t)w * 7 + i / 1000) % 4][i % (size_t)w];
      round_trip(&dd, in, n, "DEDUP");
    }
    fill(in, sizeof in, 0, 8);
    round_trip(&dd, in, sizeof in, "DEDUP random");
  }
  for (int w = 1; w <= 4; w *= 2) {
    struct codec_chain narrow = { 1, { { CODEC_NARROW, (int16_t)w } } };
    uint32_t keys[100];
    for (int i = 0; i < 100; i++)
      keys[i] = (uint32_t)(rnd() % (w == 4 ? 0xffffffffu : (1u << (8 * w))));
    for (size_t n = 0; n <= sizeof keys; n += 13)
      round_trip(&narrow, (const uint8_t *)keys, n, "NARROW");
  }
}

static void test_compression_effect(void)
{
  /* Delta+ZSTD must beat ZSTD alone on timestamps; T64 on small ints */
  enum { N = 8192 };
  uint64_t *ts = malloc(N * 8);
  uint64_t t = 1700000000000000000ull;
  for (int i = 0; i < N; i++)
    ts[i] = t += 1000000 + rnd() % 1000;
  struct codec_chain a, b, dd;
  struct error err;
  codec_chain_parse_text("ZSTD(1)", &a, &err);
  codec_chain_parse_text("Delta(8), ZSTD(1)", &b, &err);
  codec_chain_parse_text("DoubleDelta(8)", &dd, &err);
  struct buf ea, eb, ed;
  buf_init(&ea);
  buf_init(&eb);
  buf_init(&ed);
  codec_encode(&a, ts, N * 8, &ea, &err);
  codec_encode(&b, ts, N * 8, &eb, &err);
  codec_encode(&dd, ts, N * 8, &ed, &err);
  CHECK(eb.len < ea.len / 2);
  CHECK(ed.len < N * 3);
  buf_free(&ea);
  buf_free(&eb);
  buf_free(&ed);
  free(ts);
}

static void test_parse(void)
{
  struct codec_chain c;
  struct error err;
  CHECK_EQ_INT(codec_chain_parse_text("CODEC(Delta(8), ZSTD(1))", &c, &err), 0);
  CHECK_EQ_INT(c.count, 2);
  CHECK_EQ_INT(c.steps[0].kind, CODEC_DELTA);
  CHECK_EQ_INT(c.steps[0].param, 8);
  CHECK_EQ_INT(c.steps[1].kind, CODEC_ZSTD);
  CHECK_EQ_INT(c.steps[1].param, 1);
  CHECK_EQ_INT(codec_chain_parse_text("zstd", &c, &err), 0);
  CHECK_EQ_INT(c.steps[0].param, 1);
  CHECK_EQ_INT(codec_chain_parse_text("T64, LZ4", &c, &err), 0);
  CHECK_EQ_INT(codec_chain_parse_text("Brotli", &c, &err), ERR_UNKNOWN_CODEC);
  CHECK_EQ_INT(codec_chain_parse_text("Delta(3)", &c, &err), ERR_BAD_ARGUMENTS);
  CHECK_EQ_INT(codec_chain_parse_text("ZSTD(1", &c, &err), ERR_SYNTAX_ERROR);
  CHECK_EQ_INT(codec_chain_parse_text("LZ4(2)", &c, &err), ERR_BAD_ARGUMENTS);
  CHECK(codec_chain_parse_text("", &c, &err) != 0);
  codec_chain_parse_text("Delta, ZSTD(3)", &c, &err);
  struct codec_chain r = codec_chain_for_values(&c, datatype_simple(TYPE_UINT32));
  CHECK_EQ_INT(r.count, 2);
  CHECK_EQ_INT(r.steps[0].param, 4);
  r = codec_chain_for_values(&c, datatype_simple(TYPE_STRING));
  CHECK_EQ_INT(r.count, 1);
  CHECK_EQ_INT(r.steps[0].kind, CODEC_ZSTD);
  struct buf b;
  buf_init(&b);
  codec_chain_parse_text("Delta(8), ZSTD(1)", &c, &err);
  codec_chain_format(&c, &b);
  CHECK_EQ_STR(buf_cstr(&b), "Delta(8), ZSTD(1)");
  buf_free(&b);
}

static void test_blocks(void)
{
  struct codec_chain c = codec_chain_zstd(1);
  const char *raw = "hello hello hello hello";
  struct buf b;
  buf_init(&b);
  uint64_t sum = block_encode(&c, raw, strlen(raw), &b);
  struct block_header h;
  const char *why;
  CHECK_EQ_INT(block_parse((const uint8_t *)b.data, b.len, true, &h, &why), 0);
  CHECK(h.checksum == sum);
  CHECK_EQ_INT(h.raw, strlen(raw));
  for (size_t i = 0; i < b.len; i++) {
    b.data[i] ^= 0x10;
    CHECK(block_parse((const uint8_t *)b.data, b.len, true, &h, &why) != 0);
    b.data[i] ^= 0x10;
  }
  CHECK(block_parse((const uint8_t *)b.data, b.len - 1, true, &h, &why) != 0);
  buf_free(&b);
}

/* The byte layouts are fixed by docs/part-format.md: pin a few so faster
 * encoders and decoders keep them. Also chains with NONE in the middle,
 * which decoding skips without copying. */
static void test_known_answers(void)
{
  struct error err;
  struct buf b;
  buf_init(&b);
  /* T64(8) over 0..63: min 0, 6 bit planes; plane j has bit i set iff bit j of i */
  uint8_t v[64 * 8];
  for (int i = 0; i < 64; i++)
    for (int k = 0; k < 8; k++)
      v[8 * i + k] = (uint8_t)(k ? 0 : i);
  struct codec_chain t64 = { 1, { { CODEC_T64, 8 } } };
  REQUIRE(codec_encode(&t64, v, sizeof v, &b, &err) == 0);
  REQUIRE(b.len == 8 + 1 + 6 * 8 + 4);
  const uint8_t *p = (const uint8_t *)b.data;
  CHECK(p[8] == 6);
  static const uint64_t planes[6] = { 0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
                                      0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull };
  for (int j = 0; j < 6; j++) {
    uint64_t w = 0;
    for (int k = 7; k >= 0; k--)
      w = w << 8 | p[9 + 8 * j + k];
    CHECK(w == planes[j]);
  }
  uint8_t back[sizeof v];
  CHECK(codec_decode(&t64, b.data, b.len, back, sizeof back, &err) == 0 && memcmp(back, v, sizeof v) == 0);
  /* HEX: two characters per byte, high nibble first, odd tail in the high nibble */
  buf_reset(&b);
  struct codec_chain hex = { 1, { { CODEC_HEX, 0 } } };
  REQUIRE(codec_encode(&hex, "0a9fe", 5, &b, &err) == 0);
  CHECK(b.len == 3 + 4 && (uint8_t)b.data[0] == 0x0a && (uint8_t)b.data[1] == 0x9f && (uint8_t)b.data[2] == 0xe0);
  char h[5];
  CHECK(codec_decode(&hex, b.data, b.len, h, 5, &err) == 0 && memcmp(h, "0a9fe", 5) == 0);
  /* NARROW(2): u32 keys in two bytes each, the tail raw */
  buf_reset(&b);
  uint8_t keys[10] = { 1, 2, 0, 0, 0xff, 0xfe, 0, 0, 7, 9 };
  struct codec_chain nar = { 1, { { CODEC_NARROW, 2 } } };
  REQUIRE(codec_encode(&nar, keys, sizeof keys, &b, &err) == 0);
  CHECK(b.len == 6 + 4 && memcmp(b.data, "\x01\x02\xff\xfe\x07\x09", 6) == 0);
  uint8_t kb[10];
  CHECK(codec_decode(&nar, b.data, b.len, kb, sizeof kb, &err) == 0 && memcmp(kb, keys, sizeof keys) == 0);
  struct codec_chain nar1 = { 1, { { CODEC_NARROW, 1 } } };
  buf_reset(&b);
  CHECK(codec_encode(&nar1, keys, sizeof keys, &b, &err) == ERR_BAD_ARGUMENTS);   /* 0xfeff needs 2 bytes */
  buf_free(&b);
  /* NONE between other steps, at every position */
  static const char *none_chains[] = { "NONE, LZ4", "LZ4, NONE", "LZ4, NONE, ZSTD(1)", "Delta(4), LZ4, NONE, ZSTD(1)",
                                  "Delta(4), NONE, NONE, LZ4", "NONE, Delta(4), NONE, ZSTD(3), NONE" };
  uint8_t in[4000];
  for (size_t i = 0; i < sizeof in; i++)
    in[i] = (uint8_t)(i / 4 * 3 + (i % 4 == 0 ? i / 97 : 0));
  for (size_t c = 0; c < sizeof none_chains / sizeof none_chains[0]; c++) {
    struct codec_chain chain;
    REQUIRE(codec_chain_parse_text(none_chains[c], &chain, &err) == 0);
    round_trip(&chain, in, sizeof in, none_chains[c]);
  }
}

/* SPANHOUSE_FUZZ_SEEDS=dir: one valid encoding per fuzz_codec chain slot. */
static void write_seeds(const char *dir)
{
  static const struct codec_chain fc[] = {
    { 1, { { CODEC_NONE, 0 } } }, { 1, { { CODEC_LZ4, 0 } } }, { 1, { { CODEC_ZSTD, 1 } } },
    { 1, { { CODEC_DELTA, 1 } } }, { 1, { { CODEC_DELTA, 2 } } }, { 1, { { CODEC_DELTA, 4 } } },
    { 1, { { CODEC_DELTA, 8 } } }, { 1, { { CODEC_DOUBLE_DELTA, 1 } } }, { 1, { { CODEC_DOUBLE_DELTA, 2 } } },
    { 1, { { CODEC_DOUBLE_DELTA, 4 } } }, { 1, { { CODEC_DOUBLE_DELTA, 8 } } }, { 1, { { CODEC_GORILLA, 1 } } },
    { 1, { { CODEC_GORILLA, 2 } } }, { 1, { { CODEC_GORILLA, 4 } } }, { 1, { { CODEC_GORILLA, 8 } } },
    { 1, { { CODEC_T64, 1 } } }, { 1, { { CODEC_T64, 2 | CODEC_T64_SIGNED } } }, { 1, { { CODEC_T64, 4 } } },
    { 1, { { CODEC_T64, 8 | CODEC_T64_SIGNED } } }, { 1, { { CODEC_HEX, 0 } } }, { 1, { { CODEC_NARROW, 1 } } },
    { 1, { { CODEC_NARROW, 2 } } }, { 1, { { CODEC_DEDUP, 8 } } },
  };
  for (size_t i = 0; i < sizeof fc / sizeof fc[0]; i++) {
    uint8_t in[203];
    size_t n = sizeof in - (i % 5);
    int w = fc[i].steps[0].param & 0xF;
    fill(in, n, fc[i].steps[0].kind == CODEC_GORILLA ? 5 : 4, w == 0 || w > 8 ? 8 : w);
    if (fc[i].steps[0].kind == CODEC_HEX)
      for (size_t k = 0; k < n; k++)
        in[k] = (uint8_t)"0123456789abcdef"[in[k] % 16];
    if (fc[i].steps[0].kind == CODEC_NARROW)
      for (size_t k = 0; k + 4 <= n; k += 4)
        in[k + 3] = 0, in[k + 2] = w == 1 ? 0 : in[k + 2], in[k + 1] = w == 1 ? 0 : in[k + 1];
    struct buf enc;
    buf_init(&enc);
    struct error err;
    uint8_t hdr[4] = { (uint8_t)i, (uint8_t)n, (uint8_t)(n >> 8), 0 };
    buf_append(&enc, hdr, 4);
    if (codec_encode(&fc[i], in, n, &enc, &err) != 0)
      test_failures++;
    char path[512];
    snprintf(path, sizeof path, "%s/seed_codec_%02zu", dir, i);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(enc.data, 1, enc.len, f) != enc.len)
      test_failures++;
    if (f)
      fclose(f);
    buf_free(&enc);
  }
}

int main(void)
{
  if (getenv("SPANHOUSE_FUZZ_SEEDS")) {
    write_seeds(getenv("SPANHOUSE_FUZZ_SEEDS"));
    TEST_DONE();
  }
  test_parse();
  test_all_codecs();
  test_compression_effect();
  test_blocks();
  test_known_answers();
  TEST_DONE();
}
