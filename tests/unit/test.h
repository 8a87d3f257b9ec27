/* Tiny assertion header for unit tests: each tests/unit/<mod>/test_*.c is a
 * program that exits 0 on pass, 1 on failure, 77 when skipped (e.g. no
 * io_uring here). CHECK keeps going and counts; REQUIRE stops the test. */
#ifndef SPANHOUSE_TESTS_UNIT_TEST_H
#define SPANHOUSE_TESTS_UNIT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond) do { if (!(cond)) { \
  fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); test_failures++; } } while (0)
#define REQUIRE(cond) do { if (!(cond)) { \
  fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); exit(1); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); if (a_ != b_) { \
  fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_); test_failures++; } } while (0)
#define CHECK_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); if (!a_ || strcmp(a_, b_) != 0) { \
  fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_); test_failures++; } } while (0)
#define CHECK_EQ_MEM(p, n, s) do { size_t n_ = (n); const char *s_ = (s); if (n_ != strlen(s_) || memcmp((p), s_, n_) != 0) { \
  fprintf(stderr, "%s:%d: %s == \"%.*s\", expected \"%s\"\n", __FILE__, __LINE__, #p, (int)n_, (const char *)(p), s_); test_failures++; } } while (0)

#define TEST_SKIP(why) do { fprintf(stderr, "skipped: %s\n", why); exit(77); } while (0)
#define TEST_DONE() return test_failures ? 1 : 0

#endif
