/* Invariants shared by the OTLP fuzz targets; a violation aborts. */
#ifndef SPANHOUSE_TESTS_FUZZ_OTLP_CHECK_H
#define SPANHOUSE_TESTS_FUZZ_OTLP_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_int.h"

static inline void fuzz_otlp_check_column(const struct column *c, uint32_t rows)
{
  if (c->rows != rows)
    abort();
  switch (c->type->id) {
  case TYPE_ARRAY:
  case TYPE_MAP: {
    uint64_t prev = 0;
    for (uint32_t r = 0; r < rows; r++) {
      if (c->offsets[r] < prev)
        abort();
      prev = c->offsets[r];
    }
    if (prev != c->children[0]->rows)
      abort();
    for (uint32_t i = 0; i < c->child_count; i++)
      fuzz_otlp_check_column(c->children[i], c->children[0]->rows);
    break;
  }
  case TYPE_STRING:
    if (rows && c->offsets[rows - 1] != c->chars_len)
      abort();
    break;
  case TYPE_LOW_CARDINALITY:
    for (uint32_t r = 0; r < rows; r++)
      if (((const uint32_t *)c->data)[r] >= c->children[0]->rows)
        abort();
    break;
  default:
    break;
  }
}

static inline void fuzz_otlp_check_batch(enum otlp_signal s, const struct otlp_batch *b)
{
  uint64_t rows = 0;
  for (int t = 0; t < OTEL_TABLE_COUNT; t++) {
    const struct block *blk = b->blocks[t];
    if (!blk)
      continue;
    if (blk->column_count != otel_table_column_count((enum otel_table)t))
      abort();
    for (uint32_t i = 0; i < blk->column_count; i++)
      fuzz_otlp_check_column(blk->columns[i], blk->rows);
    rows += blk->rows;
  }
  if (rows != b->accepted || !b->rejection || (b->rejected == 0) != (b->rejection[0] == 0))
    abort();
  if (s == OTLP_TRACES && (!b->blocks[OTEL_TRACES] || b->blocks[OTEL_TRACES_TRACE_ID_TS]))
    abort();
  struct buf out;
  buf_init(&out);
  otlp_response_encode(s, OTLP_PROTOBUF, b, &out);
  otlp_response_encode(s, OTLP_JSON, b, &out);
  buf_free(&out);
}

static inline void fuzz_otlp_check_json(const struct json_value *v, int depth)
{
  if (depth > 64)
    abort();
  switch (v->type) {
  case JSON_ARRAY:
    for (uint32_t i = 0; i < v->count; i++)
      fuzz_otlp_check_json(&v->u.items[i], depth + 1);
    break;
  case JSON_OBJECT:
    for (uint32_t i = 0; i < v->count; i++) {
      struct slice k = v->u.members[i].key;
      for (size_t n = 0; n < k.len;) {        /* decoded strings are valid UTF-8 */
        size_t l = text_utf8_len((const uint8_t *)k.ptr + n, k.len - n);
        if (!l)
          abort();
        n += l;
      }
      fuzz_otlp_check_json(&v->u.members[i].value, depth + 1);
    }
    break;
  case JSON_STRING:
    for (size_t n = 0; n < v->u.text.len;) {
      size_t l = text_utf8_len((const uint8_t *)v->u.text.ptr + n, v->u.text.len - n);
      if (!l)
        abort();
      n += l;
    }
    break;
  case JSON_NUMBER: {
    double d;
    if (!json_number_f64(v->u.text, &d))
      abort();
    break;
  }
  default:
    break;
  }
}

#endif
