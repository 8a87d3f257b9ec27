/* libFuzzer target for datatype_parse: parse arbitrary bytes; on success
 * the canonical spelling must parse back to an equal type, and a column of
 * the type must take a default row and print it; reset the arena. */
#include "base/column.h"
#include "base/datatype.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct arena a;
  static int ready;
  if (!ready) {
    arena_init(&a, 0);
    ready = 1;
  }
  if (size > 4096)
    return 0;
  /* exact heap copy so reading past `size` is caught */
  char *text = malloc(size ? size : 1);
  memcpy(text, data, size);
  const struct datatype *t = NULL;
  struct error err = { 0 };
  if (datatype_parse(&a, text, size, &t, &err) == 0) {
    struct buf b;
    buf_init(&b);
    datatype_format(t, &b);
    const struct datatype *t2 = NULL;
    if (datatype_parse(&a, b.data, b.len, &t2, &err) != 0 || !datatype_equal(t, t2))
      abort();
    if (t->id != TYPE_NESTED) {
      struct column *c = column_create(&a, t, 0);
      column_append_default(c);
      buf_reset(&b);
      column_format_value(c, 0, &b);
      column_format_quoted(c, 0, &b);
      if (column_hash_row(c, 0, 1) != column_hash_row(c, 0, 1) || !column_rows_equal(c, 0, c, 0))
        abort();
    }
    buf_free(&b);
  } else if (err.code == 0 || err.message[0] == '\0') {
    abort();
  }
  free(text);
  arena_reset(&a);
  return 0;
}
