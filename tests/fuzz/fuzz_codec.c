/* Fuzz target: arbitrary bytes into every decoder, and every encoder's
 * output back through its decoder. Byte 0 picks the chain, bytes 1..3 the
 * claimed decoded length (< 16 MiB); the rest is the payload. Also feeds
 * the payload to the block header parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"
#include "storage/storage_int.h"

static const struct codec_chain chains[] = {
  { 1, { { CODEC_NONE, 0 } } },          { 1, { { CODEC_LZ4, 0 } } },
  { 1, { { CODEC_ZSTD, 1 } } },          { 1, { { CODEC_DELTA, 1 } } },
  { 1, { { CODEC_DELTA, 2 } } },         { 1, { { CODEC_DELTA, 4 } } },
  { 1, { { CODEC_DELTA, 8 } } },         { 1, { { CODEC_DOUBLE_DELTA, 1 } } },
  { 1, { { CODEC_DOUBLE_DELTA, 2 } } },  { 1, { { CODEC_DOUBLE_DELTA, 4 } } },
  { 1, { { CODEC_DOUBLE_DELTA, 8 } } },  { 1, { { CODEC_GORILLA, 1 } } },
  { 1, { { CODEC_GORILLA, 2 } } },       { 1, { { CODEC_GORILLA, 4 } } },
  { 1, { { CODEC_GORILLA, 8 } } },       { 1, { { CODEC_T64, 1 } } },
  { 1, { { CODEC_T64, 2 | CODEC_T64_SIGNED } } }, { 1, { { CODEC_T64, 4 } } },
  { 1, { { CODEC_T64, 8 | CODEC_T64_SIGNED } } }, { 1, { { CODEC_HEX, 0 } } },
  { 1, { { CODEC_NARROW, 1 } } },        { 1, { { CODEC_NARROW, 2 } } },
  { 1, { { CODEC_DEDUP, 8 } } },
  { 2, { { CODEC_DELTA, 8 }, { CODEC_ZSTD, 1 } } }, { 2, { { CODEC_GORILLA, 8 }, { CODEC_LZ4, 0 } } },
  { 3, { { CODEC_HEX, 0 }, { CODEC_DOUBLE_DELTA, 4 }, { CODEC_LZ4, 0 } } },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 4)
    return 0;
  const struct codec_chain *c = &chains[data[0] % (sizeof chains / sizeof chains[0])];
  size_t out_len = (size_t)data[1] | (size_t)data[2] << 8 | (size_t)(data[3] & 0xff) << 16;
  const uint8_t *p = data + 4;
  size_t n = size - 4;
  struct error err;
  uint8_t *out = malloc(out_len + 1);
  codec_decode(c, p, n, out, out_len, &err);
  free(out);

  /* the payload as raw input: encode, decode, compare */
  struct buf enc;
  buf_init(&enc);
  if (codec_encode(c, p, n, &enc, &err) == 0) {
    uint8_t *back = malloc(n + 1);
    if (codec_decode(c, enc.data, enc.len, back, n, &err) != 0 || (n && memcmp(back, p, n) != 0))
      abort();
    free(back);
  }
  buf_free(&enc);

  struct block_header h;
  const char *why;
  if (block_parse(p, n, data[0] & 1, &h, &why) == 0) {
    uint8_t *raw = malloc(h.raw + 1);
    codec_decode(&h.chain, p + h.header_bytes, h.stored, raw, h.raw, &err);
    free(raw);
  }
  return 0;
}
