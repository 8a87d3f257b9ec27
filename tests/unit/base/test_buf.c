/* Slices and growable buffers. */
#include "base/alloc.h"
#include "base/buf.h"
#include "tests/unit/test.h"

static void test_slices(void)
{
  CHECK(slice_eq(SLICE_LIT("abc"), slice_of("abc")));
  CHECK(!slice_eq(SLICE_LIT("abc"), slice_of("abd")));
  CHECK(slice_eq(slice_make(NULL, 0), slice_of("")));
  CHECK(slice_eq_cstr(slice_make("abcdef", 3), "abc"));
  CHECK(slice_eq_nocase(slice_of("Content-Length"), "content-length"));
  CHECK(!slice_eq_nocase(slice_of("Content-Lengt"), "content-length"));
  CHECK(slice_starts_with(slice_of("SELECT 1"), "SELECT"));
  CHECK(!slice_starts_with(slice_of("SEL"), "SELECT"));
  struct slice t = slice_trim(slice_of(" \t x y \t"));
  CHECK_EQ_MEM(t.ptr, t.len, "x y");
  CHECK_EQ_INT(slice_trim(slice_of("   ")).len, 0);
  CHECK(slice_of(NULL).len == 0);
}

static void test_numbers(void)
{
  uint64_t u;
  int64_t i;
  CHECK(slice_to_u64(slice_of("0"), &u) && u == 0);
  CHECK(slice_to_u64(slice_of("18446744073709551615"), &u) && u == UINT64_MAX);
  CHECK(!slice_to_u64(slice_of("18446744073709551616"), &u));
  CHECK(!slice_to_u64(slice_of(""), &u));
  CHECK(!slice_to_u64(slice_of("12a"), &u));
  CHECK(!slice_to_u64(slice_of("-1"), &u));
  CHECK(!slice_to_u64(slice_of("+1"), &u));
  CHECK(slice_to_i64(slice_of("-9223372036854775808"), &i) && i == INT64_MIN);
  CHECK(slice_to_i64(slice_of("9223372036854775807"), &i) && i == INT64_MAX);
  CHECK(!slice_to_i64(slice_of("9223372036854775808"), &i));
  CHECK(!slice_to_i64(slice_of("-9223372036854775809"), &i));
  CHECK(!slice_to_i64(slice_of("-"), &i));
  CHECK(slice_to_i64(slice_of("-42"), &i) && i == -42);
}

static void test_buffers(void)
{
  struct buf b;
  buf_init(&b);
  CHECK_EQ_STR(buf_cstr(&b), "");
  buf_append_cstr(&b, "hello");
  buf_append_char(&b, ' ');
  buf_append_slice(&b, slice_of("world"));
  buf_append(&b, "ignored", 0);
  CHECK_EQ_MEM(b.data, b.len, "hello world");
  CHECK_EQ_STR(buf_cstr(&b), "hello world");
  buf_consume(&b, 6);
  CHECK_EQ_MEM(b.data, b.len, "world");
  buf_consume(&b, 100);
  CHECK_EQ_INT(b.len, 0);
  buf_printf(&b, "%d-%s", 42, "x");
  CHECK_EQ_MEM(b.data, b.len, "42-x");
  /* a long printf takes the slow path */
  char big[1000];
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  buf_reset(&b);
  buf_printf(&b, "<%s>", big);
  CHECK_EQ_INT(b.len, 1001);
  CHECK(b.data[0] == '<' && b.data[1000] == '>');
  /* growth keeps contents, reserve keeps room for the NUL */
  buf_reset(&b);
  for (int i = 0; i < 100000; i++)
    buf_append_char(&b, (char)('a' + i % 26));
  CHECK_EQ_INT(b.len, 100000);
  CHECK(b.cap > b.len);
  CHECK(b.data[99999] == (char)('a' + 99999 % 26));
  size_t cap = b.cap;
  buf_reset(&b);
  CHECK_EQ_INT(b.cap, cap);
  buf_reserve(&b, 10);
  CHECK(b.cap >= 11);
  buf_free(&b);
  CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

int main(void)
{
  uint64_t live = mem_live_bytes();
  test_slices();
  test_numbers();
  test_buffers();
  CHECK_EQ_INT(mem_live_bytes(), live);
  TEST_DONE();
}
