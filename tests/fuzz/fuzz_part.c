/* Fuzz target: arbitrary bytes as a part file. Opens it, reads every column
 * of every granule (all at once and granule by granule), loads every skip
 * index and asks it questions, then runs part_verify over the file. Must
 * never crash or leak; errors are fine.
 * Inputs of even length skip checksum verification so mutations reach the
 * footer parser and the decoders; odd lengths keep it on. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "storage/storage.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (fd < 0) {
    storage_io_init(STORAGE_IO_SYNC);
    fd = memfd_create("fuzz_part", 0);
    if (fd < 0)
      return 0;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
    return 0;
  part_reader_set_verify_checksums(size % 2 == 1);
  struct arena a;
  arena_init(&a, 0);
  struct part_reader *r;
  struct error err;
  if (part_reader_open(path, &a, &r, &err) == 0) {
    const struct part_schema *s = part_reader_schema(r);
    uint32_t g = part_reader_granule_count(r);
    struct part_read_column *cols = arena_new_array(&a, struct part_read_column, s->column_count + 1);
    for (uint32_t i = 0; i < s->column_count; i++)
      cols[i] = (struct part_read_column){ s->columns[i].name, NULL };
    struct granule_range all = { 0, g };
    struct block *b;
    part_reader_read(r, cols, s->column_count, &all, 1, &a, &b, NULL, &err);
    for (uint32_t k = 0; k < g && k < 8; k++) {
      struct granule_range one = { k, k + 1 };
      part_reader_read(r, cols, s->column_count, &one, 1, &a, &b, NULL, &err);
    }
    for (uint32_t k = 0; k < s->key_count; k++)
      part_reader_primary_index(r, k);
    for (uint32_t i = 0; i < s->index_count; i++) {
      const struct skip_index *ix;
      if (part_reader_skip_index(r, i, &ix, &err) != 0)
        continue;
      for (uint32_t e = 0; e < skip_index_entry_count(ix) && e < 4; e++) {
        skip_index_may_contain_equal(ix, e, "abcd", 4);
        skip_index_may_contain_equal(ix, e, "\x01\0\0\0\0\0\0\0", 8);
        skip_index_may_contain_token(ix, e, "abc", 3);
        skip_index_may_contain_substring(ix, e, "a bc de", 7);
        const struct column *mm;
        skip_index_minmax(ix, e, &mm);
      }
    }
    part_reader_close(r);
    part_verify(path, &err);
  }
  arena_destroy(&a);
  return 0;
}
