/* Slices and growable buffers; see buf.h. */
#include "base/buf.h"
#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>

bool slice_eq(struct slice a, struct slice b)
{
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool slice_eq_cstr(struct slice a, const char *s) { return slice_eq(a, slice_of(s)); }

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

bool slice_eq_nocase(struct slice a, const char *s)
{
  size_t n = strlen(s);
  if (n != a.len)
    return false;
  for (size_t i = 0; i < n; i++)
    if (ascii_lower(a.ptr[i]) != ascii_lower(s[i]))
      return false;
  return true;
}

bool slice_starts_with(struct slice a, const char *prefix)
{
  size_t n = strlen(prefix);
  return a.len >= n && memcmp(a.ptr, prefix, n) == 0;
}

struct slice slice_trim(struct slice a)
{
  while (a.len && (a.ptr[0] == ' ' || a.ptr[0] == '\t')) {
    a.ptr++;
    a.len--;
  }
  while (a.len && (a.ptr[a.len - 1] == ' ' || a.ptr[a.len - 1] == '\t'))
    a.len--;
  return a;
}

bool slice_to_u64(struct slice a, uint64_t *out)
{
  if (a.len == 0 || a.len > 20)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < a.len; i++) {
    if (a.ptr[i] < '0' || a.ptr[i] > '9')
      return false;
    uint64_t d = (uint64_t)(a.ptr[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool slice_to_i64(struct slice a, int64_t *out)
{
  bool neg = a.len && a.ptr[0] == '-';
  uint64_t v;
  if (!slice_to_u64(neg ? slice_make(a.ptr + 1, a.len - 1) : a, &v))
    return false;
  if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
    return false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

void buf_init(struct buf *b)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void buf_free(struct buf *b)
{
  mem_free(b->data);
  buf_init(b);
}

void buf_reset(struct buf *b) { b->len = 0; }

void buf_reserve(struct buf *b, size_t extra)
{
  size_t need = b->len + extra + 1; /* +1 keeps room for buf_cstr's NUL */
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap *= 2;
  b->data = mem_realloc(b->data, cap);
  b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
  if (n == 0)
    return;
  buf_reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void buf_append_slice(struct buf *b, struct slice s) { buf_append(b, s.ptr, s.len); }
void buf_append_cstr(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_append_char(struct buf *b, char c)
{
  buf_reserve(b, 1);
  b->data[b->len++] = c;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof small) {
    buf_append(b, small, (size_t)n);
    return;
  }
  buf_reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void buf_consume(struct buf *b, size_t n)
{
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

const char *buf_cstr(struct buf *b)
{
  buf_reserve(b, 0);
  b->data[b->len] = '\0';
  return b->data;
}
