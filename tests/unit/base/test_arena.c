/* Arenas: alignment, growth, big allocations, realloc in place, reset and
 * destroy, cleanups in reverse order, and that everything is given back. */
#include "base/alloc.h"
#include "base/arena.h"
#include "tests/unit/test.h"

#include <stdint.h>

static int order[8], order_n;
static void cleanup_fn(void *arg) { order[order_n++] = (int)(intptr_t)arg; }

static void test_alloc(void)
{
  struct arena a;
  arena_init(&a, 1024);
  for (int i = 1; i < 200; i++) {
    char *p = arena_alloc(&a, (size_t)i);
    CHECK(((uintptr_t)p & 15) == 0);
    memset(p, 0xab, (size_t)i);
  }
  char *z = arena_calloc(&a, 10, 10);
  for (int i = 0; i < 100; i++)
    CHECK(z[i] == 0);
  int *arr = arena_new_array(&a, int, 50);
  CHECK(arr[49] == 0);
  /* a big allocation gets its own chunk; the current chunk stays usable */
  char *big = arena_alloc(&a, 100000);
  memset(big, 1, 100000);
  char *small = arena_alloc(&a, 8);
  CHECK(small != NULL);
  CHECK(arena_alloc(&a, 0) != NULL);
  CHECK(a.used_bytes > 100000);
  arena_destroy(&a);
}

static void test_strings(void)
{
  struct arena a;
  arena_init(&a, 0);
  CHECK_EQ_STR(arena_strdup(&a, "abc"), "abc");
  CHECK_EQ_STR(arena_strndup(&a, "abcdef", 2), "ab");
  CHECK_EQ_STR(arena_strndup(&a, NULL, 0), "");
  CHECK_EQ_STR(arena_printf(&a, "%s=%d", "x", 5), "x=5");
  char longer[5000];
  memset(longer, 'q', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  CHECK_EQ_INT(strlen(arena_printf(&a, "%s", longer)), sizeof longer - 1);
  arena_destroy(&a);
}

static void test_realloc(void)
{
  struct arena a;
  arena_init(&a, 4096);
  char *p = arena_alloc(&a, 16);
  memcpy(p, "0123456789abcdef", 16);
  char *q = arena_realloc(&a, p, 16, 64);      /* last allocation: grows in place */
  CHECK(q == p);
  char *other = arena_alloc(&a, 16);
  (void)other;
  char *r = arena_realloc(&a, q, 64, 128);     /* no longer last: moves, copies */
  CHECK(r != q);
  CHECK(memcmp(r, "0123456789abcdef", 16) == 0);
  CHECK(arena_realloc(&a, r, 128, 10) == r);   /* shrinking keeps it */
  char *s = arena_realloc(&a, NULL, 0, 32);
  CHECK(s != NULL);
  arena_destroy(&a);
}

static void test_reset_and_cleanups(void)
{
  struct arena a;
  arena_init(&a, 1024);
  order_n = 0;
  arena_on_cleanup(&a, cleanup_fn, (void *)1);
  arena_on_cleanup(&a, cleanup_fn, (void *)2);
  for (int i = 0; i < 100; i++)
    arena_alloc(&a, 200);
  arena_reset(&a);
  CHECK_EQ_INT(order_n, 2);
  CHECK_EQ_INT(order[0], 2);          /* newest first */
  CHECK_EQ_INT(order[1], 1);
  CHECK_EQ_INT(a.used_bytes, 0);
  /* usable after reset, cleanups run again only if registered again */
  char *p = arena_alloc(&a, 100);
  CHECK(p != NULL);
  arena_on_cleanup(&a, cleanup_fn, (void *)3);
  arena_destroy(&a);
  CHECK_EQ_INT(order_n, 3);
  CHECK_EQ_INT(order[2], 3);
  /* destroy of an empty arena and reset of an empty arena */
  arena_init(&a, 0);
  arena_reset(&a);
  arena_destroy(&a);
}

int main(void)
{
  uint64_t live = mem_live_bytes();
  test_alloc();
  test_strings();
  test_realloc();
  test_reset_and_cleanups();
  CHECK_EQ_INT(mem_live_bytes(), live);   /* nothing kept */
  TEST_DONE();
}
