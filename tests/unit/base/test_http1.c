/* HTTP/1.1 parser tests: heads, split feeds at every byte, pipelining,
 * chunked decoding, limits and their statuses, URL decoding. */
#include "base/arena.h"
#include "base/alloc.h"
#include "base/http1.h"
#include "tests/unit/test.h"

static struct http_head head;   /* large: keep off the stack */

static int parse_all(const char *s, struct http_parser *p)
{
  http_parser_init(p);
  return http_parse_head(p, s, strlen(s), &head);
}

static int parse_status(const char *s)
{
  struct http_parser p;
  return parse_all(s, &p);
}

static void test_simple_get(void)
{
  const char *req = "GET /ping?x=1&y=%20z HTTP/1.1\r\nHost: a\r\nUser-Agent:  curl/8 \r\n\r\n";
  struct http_parser p;
  int rc = parse_all(req, &p);
  CHECK_EQ_INT(rc, (int)strlen(req));
  CHECK(slice_eq_cstr(head.method, "GET"));
  CHECK(slice_eq_cstr(head.path, "/ping"));
  CHECK(slice_eq_cstr(head.query, "x=1&y=%20z"));
  CHECK(slice_eq_cstr(head.target, "/ping?x=1&y=%20z"));
  CHECK_EQ_INT(head.version_minor, 1);
  CHECK_EQ_INT(head.header_count, 2);
  CHECK(slice_eq_cstr(http_head_get(&head, "user-agent"), "curl/8"));
  CHECK(slice_eq_cstr(http_head_get(&head, "HOST"), "a"));
  CHECK(http_head_get(&head, "missing").ptr == NULL);
  CHECK(head.keep_alive);
  CHECK(!head.chunked);
  CHECK(!head.has_content_length);
  CHECK(http_method_is(&head, "GET"));
}

static void test_keep_alive_rules(void)
{
  CHECK(parse_status("GET / HTTP/1.0\r\n\r\n") > 0);
  CHECK(!head.keep_alive);
  CHECK(parse_status("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
  CHECK(head.keep_alive);
  CHECK(parse_status("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") > 0);
  CHECK(!head.keep_alive);
  CHECK(parse_status("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n") > 0);
  CHECK(!head.keep_alive);
  CHECK(parse_status("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n") > 0);
  CHECK(head.keep_alive);
}

static void test_framing(void)
{
  CHECK(parse_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n") > 0);
  CHECK(head.has_content_length);
  CHECK_EQ_INT(head.content_length, 12);
  /* repeated identical values are fine, differing ones are not */
  CHECK(parse_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n") > 0);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n"), -400);
  /* chunked wins over Content-Length, and the connection will close */
  CHECK(parse_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
  CHECK(head.chunked);
  CHECK(!head.has_content_length);
  CHECK(!head.keep_alive);
  CHECK(parse_status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n") > 0);
  CHECK(head.chunked && head.keep_alive);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), -501);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"), -501);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), -400);
  /* invalid Content-Length next to chunked is still rejected */
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\nTransfer-Encoding: chunked\r\n\r\n"), -400);
}

static void test_expect_and_host(void)
{
  CHECK(parse_status("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n") > 0);
  CHECK(head.expect_continue);
  CHECK(parse_status("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n") > 0);
  CHECK(!head.expect_continue);      /* ignored for 1.0 clients */
  CHECK_EQ_INT(parse_status("POST / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n"), -417);
  CHECK_EQ_INT(parse_status("GET / HTTP/1.1\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), -400);
  CHECK(parse_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\n\r\n") > 0);
  CHECK(slice_eq_cstr(head.content_encoding, "gzip"));
}

static void test_malformed(void)
{
  CHECK_EQ_INT(parse_status("GET\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("G(T / HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), -505);
  CHECK_EQ_INT(parse_status("GET / FTP/1.1\r\nHost: x\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n folded\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n"), -400);
  CHECK_EQ_INT(parse_status("GET noslash HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
  /* bare LF line ends and leading empty lines are tolerated */
  CHECK(parse_status("\r\n\nGET / HTTP/1.1\nHost: x\n\n") > 0);
  CHECK(slice_eq_cstr(head.path, "/"));
  /* absolute-form and asterisk-form targets */
  CHECK(parse_status("GET http://h:8123/p/q?query=1 HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
  CHECK(slice_eq_cstr(head.path, "/p/q"));
  CHECK(slice_eq_cstr(head.query, "query=1"));
  CHECK(parse_status("GET http://h:8123?query=1 HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
  CHECK(slice_eq_cstr(head.path, "/"));
  CHECK(slice_eq_cstr(head.query, "query=1"));
  CHECK(parse_status("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
  CHECK(slice_eq_cstr(head.path, "*"));
  CHECK(parse_status("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
  CHECK(slice_eq_cstr(head.path, "/a"));
  CHECK(head.query.len == 0);
}

/* Every split point of a request gives the same head. */
static void test_split_feeds(void)
{
  const char *req = "POST /q?query=SELECT%201 HTTP/1.1\r\nHost: localhost:8123\r\n"
                    "Content-Length: 7\r\nX-ClickHouse-User: default\r\n\r\nabcdefg";
  size_t total = strlen(req), head_len = total - 7;
  for (size_t step = 1; step <= 5; step++) {
    struct http_parser p;
    http_parser_init(&p);
    int rc = 0;
    size_t fed = 0;
    while (rc == 0 && fed < total) {
      fed = fed + step > total ? total : fed + step;
      rc = http_parse_head(&p, req, fed, &head);
      if (rc == 0)
        CHECK(fed < head_len);
    }
    CHECK_EQ_INT(rc, (int)head_len);
    CHECK(slice_eq_cstr(head.path, "/q"));
    CHECK_EQ_INT(head.content_length, 7);
    CHECK(slice_eq_cstr(http_head_get(&head, "x-clickhouse-user"), "default"));
  }
  /* and a single split at every boundary */
  for (size_t cut = 0; cut <= head_len; cut++) {
    struct http_parser p;
    http_parser_init(&p);
    int rc1 = http_parse_head(&p, req, cut, &head);
    int rc2 = rc1 ? rc1 : http_parse_head(&p, req, total, &head);
    CHECK_EQ_INT(rc1, cut == head_len ? (int)head_len : 0);
    CHECK_EQ_INT(rc2, (int)head_len);
  }
}

static void test_pipelined(void)
{
  const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
                    "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
  size_t len = strlen(two), off = 0;
  const char *paths[] = { "/a", "/b", "/c" };
  for (int i = 0; i < 3; i++) {
    struct http_parser p;
    http_parser_init(&p);
    int rc = http_parse_head(&p, two + off, len - off, &head);
    REQUIRE(rc > 0);
    CHECK(slice_eq_cstr(head.path, paths[i]));
    off += (size_t)rc + (head.has_content_length ? head.content_length : 0);
  }
  CHECK_EQ_INT(off, len);
}

static void test_limits(void)
{
  /* request line over the limit: 414, even before its end arrives */
  size_t n = HTTP_REQUEST_LINE_BYTES_MAX + 100;
  char *big = mem_alloc(n + 64);
  memcpy(big, "GET /", 5);
  memset(big + 5, 'a', n - 5);
  struct http_parser p;
  http_parser_init(&p);
  CHECK_EQ_INT(http_parse_head(&p, big, n, &head), -414);
  strcpy(big + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
  http_parser_init(&p);
  CHECK_EQ_INT(http_parse_head(&p, big, strlen(big), &head), -414);
  mem_free(big);

  /* header section over the limit: 431 */
  n = HTTP_HEADER_BYTES_MAX + 100;
  big = mem_alloc(n + 64);
  strcpy(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
  size_t off = strlen(big);
  memset(big + off, 'b', n - off);
  http_parser_init(&p);
  CHECK_EQ_INT(http_parse_head(&p, big, n, &head), -431);
  CHECK(p.error != NULL);
  mem_free(big);

  /* too many header lines: 431 */
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, "GET / HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < HTTP_HEADER_COUNT_MAX + 1; i++)
    buf_printf(&b, "X-H%d: v\r\n", i);
  buf_append_cstr(&b, "\r\n");
  http_parser_init(&p);
  CHECK_EQ_INT(http_parse_head(&p, b.data, b.len, &head), -431);
  buf_reset(&b);
  buf_append_cstr(&b, "GET / HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < HTTP_HEADER_COUNT_MAX - 1; i++)
    buf_printf(&b, "X-H%d: v\r\n", i);
  buf_append_cstr(&b, "\r\n");
  http_parser_init(&p);
  CHECK(http_parse_head(&p, b.data, b.len, &head) > 0);
  CHECK_EQ_INT(head.header_count, HTTP_HEADER_COUNT_MAX);
  buf_free(&b);
}

/* Decodes a whole chunked body fed in pieces of `step` bytes. */
static int chunked_all(const char *in, size_t len, size_t step, struct buf *out, size_t *used_total)
{
  struct http_chunked c;
  http_chunked_init(&c);
  buf_reset(out);
  size_t pos = 0;
  char tmp[7];                       /* small output buffer: exercises "output full" */
  size_t avail_end = 0;
  for (;;) {
    if (avail_end < len && (avail_end - pos < 1 || step > 0))
      avail_end = avail_end + step > len ? len : avail_end + step;
    size_t used, produced;
    int rc = http_chunked_decode(&c, in + pos, avail_end - pos, &used, tmp, sizeof tmp, &produced);
    pos += used;
    buf_append(out, tmp, produced);
    if (rc != 0) {
      *used_total = pos;
      return rc;
    }
    if (avail_end == len && used == 0 && produced == 0) {
      *used_total = pos;
      return 0;                      /* needs more than there is */
    }
  }
}

static void test_chunked(void)
{
  const char *body = "5\r\nhello\r\n7;ext=1;q=\"a b\"\r\n, world\r\n0\r\nTrailer: x\r\nT2: y\r\n\r\nNEXT";
  struct buf out;
  buf_init(&out);
  size_t len = strlen(body) - 4;
  for (size_t step = 1; step <= len; step++) {
    size_t used;
    int rc = chunked_all(body, strlen(body), step, &out, &used);
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT(used, len);          /* stops right after the trailers */
    CHECK_EQ_MEM(out.data, out.len, "hello, world");
  }
  size_t used;
  CHECK_EQ_INT(chunked_all("A\r\n0123456789\r\n0\r\n\r\n", 20, 3, &out, &used), 1);
  CHECK_EQ_MEM(out.data, out.len, "0123456789");
  CHECK_EQ_INT(chunked_all("a \t; x\r\n0123456789\n0\n\n", 23, 1, &out, &used), 1);
  CHECK_EQ_INT(chunked_all("0\r\n\r\n", 5, 1, &out, &used), 1);
  CHECK_EQ_INT(out.len, 0);
  /* errors */
  CHECK_EQ_INT(chunked_all("x\r\n", 3, 1, &out, &used), -400);
  CHECK_EQ_INT(chunked_all("\r\n", 2, 1, &out, &used), -400);
  CHECK_EQ_INT(chunked_all("5\r\nhelloX\r\n", 11, 1, &out, &used), -400);
  CHECK_EQ_INT(chunked_all("5 x\r\nhello\r\n", 12, 1, &out, &used), -400);
  CHECK_EQ_INT(chunked_all("5\rX", 3, 1, &out, &used), -400);
  CHECK_EQ_INT(chunked_all("11111111111111111\r\n", 19, 1, &out, &used), -400);  /* 17 digits */
  CHECK_EQ_INT(chunked_all("5;a\x01\r\n", 6, 1, &out, &used), -400);
  /* truncated: needs more */
  CHECK_EQ_INT(chunked_all("5\r\nhel", 6, 2, &out, &used), 0);
  /* in place */
  char inplace[] = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  struct http_chunked c;
  http_chunked_init(&c);
  size_t produced;
  CHECK_EQ_INT(http_chunked_decode(&c, inplace, strlen(inplace), &used, inplace, sizeof inplace, &produced), 1);
  CHECK_EQ_MEM(inplace, produced, "abcde");
  buf_free(&out);
}

static void test_url_decode(void)
{
  char out[64];
  ssize_t n = http_url_decode(slice_of("a%20b+c%2B%41%zz"), true, out);
  CHECK_EQ_INT(n, -1);
  n = http_url_decode(slice_of("a%20b+c%2B%41"), true, out);
  CHECK_EQ_MEM(out, (size_t)n, "a b c+A");
  n = http_url_decode(slice_of("a+b"), false, out);
  CHECK_EQ_MEM(out, (size_t)n, "a+b");
  CHECK_EQ_INT(http_url_decode(slice_of("%"), true, out), -1);
  CHECK_EQ_INT(http_url_decode(slice_of("%4"), true, out), -1);
  n = http_url_decode(slice_of("%e2%82%ac"), true, out);
  CHECK_EQ_MEM(out, (size_t)n, "\xe2\x82\xac");

  struct arena a;
  arena_init(&a, 0);
  struct http_query_iter it;
  struct slice name, value;
  http_query_iter_init(&it, slice_of("query=SELECT+1%2C%202&&flag&param_x=a%3Db&=v&bad=%G1&last="));
  CHECK_EQ_INT(http_query_next(&it, &a, &name, &value), 1);
  CHECK_EQ_STR(name.ptr, "query");
  CHECK_EQ_STR(value.ptr, "SELECT 1, 2");
  CHECK_EQ_INT(http_query_next(&it, &a, &name, &value), 1);
  CHECK_EQ_STR(name.ptr, "flag");
  CHECK_EQ_STR(value.ptr, "");
  CHECK_EQ_INT(http_query_next(&it, &a, &name, &value), 1);
  CHECK_EQ_STR(name.ptr, "param_x");
  CHECK_EQ_STR(value.ptr, "a=b");
  CHECK_EQ_INT(http_query_next(&it, &a, &name, &value), 1);
  CHECK_EQ_STR(name.ptr, "");
  CHECK_EQ_STR(value.ptr, "v");
  CHECK_EQ_INT(http_query_next(&it, &a, &name, &value), -1);
  CHECK_EQ_INT(http_query_next(&it, &a, &name, &value), 1);
  CHECK_EQ_STR(name.ptr, "last");
  CHECK_EQ_INT(http_query_next(&it, &a, &name, &value), 0);
  CHECK_EQ_INT(http_query_get(slice_of("a=1&b=x%20y"), &a, "b", &value), 1);
  CHECK_EQ_STR(value.ptr, "x y");
  CHECK_EQ_INT(http_query_get(slice_of("a=1"), &a, "b", &value), 0);
  http_query_iter_init(&it, slice_make(NULL, 0));
  CHECK_EQ_INT(http_query_next(&it, &a, &name, &value), 0);
  arena_destroy(&a);
}

static void test_response_helpers(void)
{
  struct buf b;
  buf_init(&b);
  http_format_status_line(&b, 431);
  CHECK_EQ_STR(buf_cstr(&b), "HTTP/1.1 431 Request Header Fields Too Large\r\n");
  char hdr[HTTP_CHUNK_HEADER_MAX];
  size_t n = http_format_chunk_header(hdr, 65536);
  CHECK_EQ_MEM(hdr, n, "10000\r\n");
  CHECK_EQ_STR(http_status_reason(413), "Content Too Large");
  buf_free(&b);
}

int main(void)
{
  test_simple_get();
  test_keep_alive_rules();
  test_framing();
  test_expect_and_host();
  test_malformed();
  test_split_feeds();
  test_pipelined();
  test_limits();
  test_chunked();
  test_url_decode();
  test_response_helpers();
  TEST_DONE();
}
