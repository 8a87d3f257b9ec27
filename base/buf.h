/* Bytes in transit: slices ({ptr,len} views, never owning) and growable
 * buffers (heap-owned, pos/len/cap). Buffers grow by doubling and abort on
 * OOM like every allocation (alloc.h). */
#ifndef SPANHOUSE_BASE_BUF_H
#define SPANHOUSE_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct slice {
  const char *ptr;
  size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })
static inline struct slice slice_of(const char *s) { return (struct slice){ s, s ? strlen(s) : 0 }; }
static inline struct slice slice_make(const char *p, size_t n) { return (struct slice){ p, n }; }

bool slice_eq(struct slice a, struct slice b);
bool slice_eq_cstr(struct slice a, const char *s);
bool slice_eq_nocase(struct slice a, const char *s);    /* ASCII case-insensitive */
bool slice_starts_with(struct slice a, const char *prefix);
struct slice slice_trim(struct slice a);                /* spaces and tabs */
bool slice_to_u64(struct slice a, uint64_t *out);       /* whole slice, decimal */
bool slice_to_i64(struct slice a, int64_t *out);

struct buf {
  char *data;
  size_t len;
  size_t cap;
};

void  buf_init(struct buf *b);
void  buf_free(struct buf *b);
void  buf_reset(struct buf *b);                         /* len = 0, keeps memory */
void  buf_reserve(struct buf *b, size_t extra);         /* room for extra more bytes */
void  buf_append(struct buf *b, const void *p, size_t n);
void  buf_append_slice(struct buf *b, struct slice s);
void  buf_append_cstr(struct buf *b, const char *s);
void  buf_append_char(struct buf *b, char c);
void  buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void  buf_consume(struct buf *b, size_t n);             /* drop n bytes from the front */
const char *buf_cstr(struct buf *b);                    /* NUL-terminated view (not counted in len) */
static inline struct slice buf_slice(const struct buf *b) { return (struct slice){ b->data, b->len }; }

#endif
