/* Fuzz target: arbitrary bytes as OTLP/JSON, through the bare JSON reader
 * and the traces, logs and metrics decoders. Same block checks as
 * fuzz_otlp_proto. */
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
  struct json_value v;
  struct error err;
  if (json_parse(&scratch, (const char *)data, size, 64, &v, &err) == 0)
    fuzz_otlp_check_json(&v, 0);
  arena_reset(&scratch);
  for (int s = OTLP_TRACES; s <= OTLP_METRICS; s++) {
    struct otlp_batch batch;
    if (otlp_decode(&out, &scratch, (enum otlp_signal)s, OTLP_JSON, SLICE_LIT("t"), data, size, &batch, &err) == 0)
      fuzz_otlp_check_batch((enum otlp_signal)s, &batch);
    else if (!err.message[0])
      abort();
    arena_reset(&scratch);
    arena_reset(&out);
  }
  return 0;
}
