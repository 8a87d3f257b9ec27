/* Fuzz target: arbitrary bytes as a write-ahead log segment (record
 * framing, LSN order, checksums) and, since mutations rarely keep a
 * checksum valid, the same bytes as one record's payload (items: table id,
 * column names, type texts, encoded columns). Every decoded column is read
 * back in full. Must never crash or leak; rejecting the input is fine. */
#include <stdint.h>
#include <string.h>

#include "base/log.h"
#include "engine/engine_int.h"

static void touch_rows(const struct block *b)
{
  struct buf out;
  buf_init(&out);
  for (uint32_t c = 0; c < b->column_count; c++)
    for (uint32_t r = 0; r < b->rows && r < 64; r++) {
      buf_reset(&out);
      column_format_value(b->columns[c], r, &out);
    }
  buf_free(&out);
}

static void decode_payload(const uint8_t *p, size_t n)
{
  struct arena a;
  arena_init(&a, 0);
  struct wal_items it;
  wal_items_begin(&it, p, n);
  int64_t id;
  struct block *b;
  while (wal_items_next(&it, &a, &id, &b) > 0)
    touch_rows(b);
  arena_destroy(&a);
}

static int on_record(void *ctx, uint64_t lsn, const uint8_t *payload, size_t len, struct error *err)
{
  (void)ctx;
  (void)lsn;
  (void)err;
  decode_payload(payload, len);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  log_set_level(LOG_ERROR);    /* torn-tail warnings would drown the output */
  struct error err = { 0 };
  uint64_t last = 0;
  wal_parse_segment(data, size, "fuzz", 0, on_record, NULL, &last, &err);
  decode_payload(data, size);
  return 0;
}
