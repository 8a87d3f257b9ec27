/* Fuzz target: arbitrary bytes as an OTLP/protobuf export request, fed to
 * the traces, logs and metrics decoders in turn. Checks that every produced
 * block is well formed (each column has the block's rows, array and map
 * offsets agree with their children) and that the counts add up. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_otlp_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct arena out, scratch;
  static int ready;
  if (!ready) {
    arena_init(&out, 0);
    arena_init(&scratch, 0);
    ready = 1;
  }
  for (int s = OTLP_TRACES; s <= OTLP_METRICS; s++) {
    struct otlp_batch batch;
    struct error err;
    if (otlp_decode(&out, &scratch, (enum otlp_signal)s, OTLP_PROTOBUF, SLICE_LIT("t"), data, size, &batch, &err) == 0)
      fuzz_otlp_check_batch((enum otlp_signal)s, &batch);
    else if (!err.message[0])
      abort();
    arena_reset(&scratch);
    arena_reset(&out);
  }
  return 0;
}
