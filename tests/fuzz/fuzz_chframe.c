/* libFuzzer target for ClickHouse's block-frame decoder (HTTP decompress=1):
 * the input is decoded whole, then again in pieces of varying size into a
 * small output buffer; both runs must agree on the bytes produced and the
 * error. Every frame the decoder accepted is re-encoded and must decode to
 * the same bytes. Any abort is a finding. */
#include "base/alloc.h"
#include "base/compress.h"
#include "base/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

enum { FRAME_LIMIT = 1 << 20 };

/* Decodes data feeding in_step bytes at a time into out_cap-byte pieces.
 * Returns the error code (0 = clean end) and the output in out. */
static int decode(const uint8_t *data, size_t size, bool verify, size_t in_step, size_t out_cap, struct buf *out)
{
  struct chframe_decoder *d;
  struct error err;
  error_clear(&err);
  REQUIRE(chframe_decoder_create(&d, verify, FRAME_LIMIT, &err) == 0);
  char piece[4096];
  REQUIRE(out_cap <= sizeof piece);
  size_t pos = 0;
  int rc = 0;
  for (;;) {
    size_t avail = size - pos < in_step ? size - pos : in_step;
    size_t used = 0, produced = 0;
    rc = chframe_decoder_run(d, data + pos, avail, &used, piece, out_cap, &produced, &err);
    REQUIRE(used <= avail && produced <= out_cap);
    buf_append(out, piece, produced);
    pos += used;
    if (rc) {
      REQUIRE(err.code == rc && err.message[0]);
      break;
    }
    if (pos == size && produced < out_cap) {     /* input done and output drained */
      rc = chframe_decoder_finish(d, &err);
      break;
    }
    REQUIRE(used > 0 || produced > 0 || avail == 0);
  }
  chframe_decoder_destroy(d);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  bool verify = size > 0 && (data[0] & 1);      /* mostly unverified, so the codecs get reached */
  struct buf whole, pieces;
  buf_init(&whole);
  buf_init(&pieces);
  int rc1 = decode(data, size, verify, size ? size : 1, 4096, &whole);
  size_t step = size ? (size_t)data[size - 1] % 37 + 1 : 1;
  int rc2 = decode(data, size, verify, step, step % 7 + 1, &pieces);
  REQUIRE(rc1 == rc2);
  REQUIRE(whole.len == pieces.len && (whole.len == 0 || memcmp(whole.data, pieces.data, whole.len) == 0));

  /* Round trip what was decoded, through each method. */
  static const enum chframe_method methods[] = { CHFRAME_NONE, CHFRAME_LZ4, CHFRAME_ZSTD };
  struct buf framed, again;
  buf_init(&framed);
  struct error err;
  for (size_t i = 0; i < 3 && whole.len <= FRAME_LIMIT / 2; i++) {
    buf_reset(&framed);
    buf_init(&again);
    REQUIRE(chframe_encode(methods[i], 1, whole.data, whole.len, &framed, &err) == 0);
    REQUIRE(decode((const uint8_t *)framed.data, framed.len, true, 1000, 4096, &again) == 0);
    REQUIRE(again.len == whole.len && (whole.len == 0 || memcmp(again.data, whole.data, whole.len) == 0));
    buf_free(&again);
  }
  buf_free(&framed);
  buf_free(&whole);
  buf_free(&pieces);
  return 0;
}
