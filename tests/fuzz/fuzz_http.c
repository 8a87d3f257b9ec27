/* libFuzzer target for the HTTP/1.1 wire parsers: the request-head parser
 * (whole input vs. the same bytes fed in two pieces), the chunked decoder
 * (whole vs. piecewise with a small output buffer vs. in place) and URL
 * decoding with the query-parameter iterator. Asserts the invariants the
 * server relies on; any abort is a finding. */
#include "base/arena.h"
#include "base/alloc.h"
#include "base/http1.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_head head_a, head_b;

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static bool inside(struct slice s, const char *base, size_t len)
{
  if (s.len == 0)
    return true;
  return s.ptr >= base && s.ptr + s.len <= base + len;
}

static void check_head(const char *d, size_t size)
{
  struct http_parser p;
  http_parser_init(&p);
  int rc = http_parse_head(&p, d, size, &head_a);
  if (rc > 0) {
    REQUIRE((size_t)rc <= size);
    REQUIRE(head_a.head_bytes == (size_t)rc);
    REQUIRE(head_a.method.len > 0 && inside(head_a.method, d, (size_t)rc));
    REQUIRE(head_a.target.len > 0 && inside(head_a.target, d, (size_t)rc));
    REQUIRE(head_a.path.len > 0);
    REQUIRE(inside(head_a.query, d, (size_t)rc));
    REQUIRE(head_a.header_count >= 0 && head_a.header_count <= HTTP_HEADER_COUNT_MAX);
    for (int i = 0; i < head_a.header_count; i++) {
      REQUIRE(head_a.headers[i].name.len > 0);
      REQUIRE(inside(head_a.headers[i].name, d, (size_t)rc));
      REQUIRE(inside(head_a.headers[i].value, d, (size_t)rc));
      for (size_t k = 0; k < head_a.headers[i].value.len; k++)
        REQUIRE(head_a.headers[i].value.ptr[k] != '\r' && head_a.headers[i].value.ptr[k] != '\n');
    }
    REQUIRE(!(head_a.chunked && head_a.has_content_length));
    REQUIRE(head_a.version_minor == 0 || head_a.version_minor == 1);
    REQUIRE(!(head_a.version_minor == 0 && head_a.chunked));
  } else if (rc < 0) {
    int st = -rc;
    REQUIRE(st == 400 || st == 414 || st == 431 || st == 417 || st == 501 || st == 505);
    REQUIRE(p.error != NULL);
  }
  /* Same bytes in two feeds: same answer. */
  size_t cut = size ? (size_t)(uint8_t)d[0] * size / 256 : 0;
  struct http_parser q;
  http_parser_init(&q);
  int rc1 = http_parse_head(&q, d, cut, &head_b);
  int rc2 = rc1 != 0 ? rc1 : http_parse_head(&q, d, size, &head_b);
  REQUIRE(rc2 == rc);
  if (rc > 0) {
    REQUIRE(head_a.path.ptr == head_b.path.ptr && head_a.path.len == head_b.path.len);
    REQUIRE(head_a.header_count == head_b.header_count);
    REQUIRE(head_a.content_length == head_b.content_length);
    REQUIRE(head_a.keep_alive == head_b.keep_alive);
  }
}

static void check_chunked(const char *d, size_t size)
{
  /* whole input, ample output */
  char *out1 = malloc(size + 1);
  struct http_chunked c;
  http_chunked_init(&c);
  size_t used1, prod1;
  int rc1 = http_chunked_decode(&c, d, size, &used1, out1, size + 1, &prod1);
  REQUIRE(rc1 == 0 || rc1 == 1 || rc1 == -400);
  REQUIRE(used1 <= size && prod1 <= used1);
  if (rc1 == -400)
    REQUIRE(c.error != NULL);

  /* piecewise: input in growing steps, output 3 bytes at a time */
  char *out2 = malloc(size + 1);
  size_t prod2 = 0, pos = 0, avail = 0, step = size ? (size_t)((uint8_t)d[size - 1] % 7) + 1 : 1;
  int rc2 = 0;
  http_chunked_init(&c);
  for (int guard = 0; guard < 1000000; guard++) {
    if (avail < size)
      avail = avail + step > size ? size : avail + step;
    size_t used, prod;
    size_t room = size + 1 - prod2 < 3 ? size + 1 - prod2 : 3;
    rc2 = http_chunked_decode(&c, d + pos, avail - pos, &used, out2 + prod2, room, &prod);
    pos += used;
    prod2 += prod;
    if (rc2 != 0)
      break;
    if (avail == size && used == 0 && prod == 0)
      break;
  }
  REQUIRE(rc2 == rc1);
  REQUIRE(prod2 == prod1 && memcmp(out1, out2, prod1) == 0);
  if (rc1 == 1)
    REQUIRE(pos == used1);

  /* in place */
  char *inplace = malloc(size + 1);
  memcpy(inplace, d, size);
  size_t used3, prod3;
  http_chunked_init(&c);
  int rc3 = http_chunked_decode(&c, inplace, size, &used3, inplace, size, &prod3);
  REQUIRE(rc3 == rc1 && used3 == used1 && prod3 == prod1 && memcmp(inplace, out1, prod1) == 0);
  free(out1);
  free(out2);
  free(inplace);
}

static void check_query(const char *d, size_t size)
{
  struct arena a;
  arena_init(&a, 4096);
  char *dec = arena_alloc(&a, size + 1);
  ssize_t n = http_url_decode(slice_make(d, size), true, dec);
  REQUIRE(n == -1 || (n >= 0 && (size_t)n <= size));
  struct http_query_iter it;
  struct slice name, value;
  http_query_iter_init(&it, slice_make(d, size));
  size_t pairs = 0;
  int rc;
  while ((rc = http_query_next(&it, &a, &name, &value)) != 0) {
    REQUIRE(rc == 1 || rc == -1);
    if (rc == 1) {
      REQUIRE(name.len <= size && value.len <= size);
      REQUIRE(name.ptr[name.len] == '\0' && value.ptr[value.len] == '\0');
    }
    REQUIRE(++pairs <= size);
  }
  arena_destroy(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *d = (const char *)data;
  check_head(d, size);
  check_chunked(d, size);
  check_query(d, size);
  return 0;
}
