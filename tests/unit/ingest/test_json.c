/* The OTLP/JSON reader: RFC 8259 acceptance and rejection, string decoding
 * (escapes, surrogates, UTF-8 validation), depth limit, number conversions. */
#include <math.h>
#include <string.h>

#include "ingest/ingest_int.h"
#include "tests/unit/test.h"

static struct arena arena;

static int parse_n(const char *text, size_t len, struct json_value *v)
{
  struct error err;
  return json_parse(&arena, text, len, 160, v, &err);
}

static int parse(const char *text, struct json_value *v) { return parse_n(text, strlen(text), v); }

static void valid(const char *text)
{
  struct json_value v;
  struct error err;
  int rc = json_parse(&arena, text, strlen(text), 160, &v, &err);
  if (rc) {
    fprintf(stderr, "rejected valid JSON %s: %s\n", text, err.message);
    test_failures++;
  }
}

static void invalid_n(const char *text, size_t len)
{
  struct json_value v;
  struct error err;
  error_clear(&err);
  if (json_parse(&arena, text, len, 160, &v, &err) == 0) {
    fprintf(stderr, "accepted invalid JSON %.*s\n", (int)len, text);
    test_failures++;
  } else {
    CHECK(err.code == ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED || err.code == ERR_TOO_DEEP_AST);
    CHECK(strstr(err.message, "JSON") != NULL);
  }
}

static void invalid(const char *text) { invalid_n(text, strlen(text)); }

static void string_is(const char *text, const char *want, size_t want_len)
{
  struct json_value v;
  REQUIRE(parse(text, &v) == 0);
  CHECK(v.type == JSON_STRING);
  if (v.u.text.len != want_len || memcmp(v.u.text.ptr, want, want_len)) {
    fprintf(stderr, "%s decoded to %.*s\n", text, (int)v.u.text.len, v.u.text.ptr);
    test_failures++;
  }
}

static void test_grammar(void)
{
  valid("{}");
  valid("[]");
  valid("0");
  valid("-0");
  valid("-0.0e-0");
  valid("1.5E+10");
  valid("\"\"");
  valid("true");
  valid("false");
  valid("null");
  valid(" \t\r\n[ 1 , 2 ]\n");
  valid("{\"a\":{\"b\":[null,true,{\"c\":\"d\"}]}}");
  valid("\xEF\xBB\xBF{}");                    /* a BOM may be ignored (RFC 8259 §8.1) */
  valid("\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");

  invalid("");
  invalid("   ");
  invalid("[1,]");
  invalid("{\"a\":1,}");
  invalid("[,1]");
  invalid("01");
  invalid("-01");
  invalid("1.");
  invalid(".5");
  invalid("+1");
  invalid("1e");
  invalid("1e+");
  invalid("-");
  invalid("NaN");
  invalid("Infinity");
  invalid("[1 2]");
  invalid("{\"a\" 1}");
  invalid("{a:1}");
  invalid("{\"a\":}");
  invalid("{1:2}");
  invalid("'a'");
  invalid("[1]x");
  invalid("[1][2]");
  invalid("tru");
  invalid("nul");
  invalid("True");
  invalid("/*c*/1");
  invalid("[1] // c");
  invalid("[");
  invalid("{");
  invalid("{\"a\"");
  invalid("\"abc");
  invalid("\"\\x\"");
  invalid("\"\\u12\"");
  invalid("\"\\u12g4\"");
  invalid("\"\\");
  invalid("\"a\tb\"");                        /* raw control character */
  invalid("\"\x01\"");
  invalid_n("[1]\0", 4);
  invalid_n("\"a\0b\"", 5);
  invalid("\"\xC0\x80\"");                    /* overlong NUL */
  invalid("\"\xE0\x80\xAF\"");                /* overlong '/' */
  invalid("\"\xED\xA0\x80\"");                /* UTF-16 surrogate in UTF-8 */
  invalid("\"\xF4\x90\x80\x80\"");            /* past U+10FFFF */
  invalid("\"\xF5\x80\x80\x80\"");
  invalid("\"\xFF\"");
  invalid("\"\x80\"");                        /* lone continuation byte */
  invalid("\"\xE2\x82\"");                    /* truncated sequence */
  invalid("\"\xE2\x82");
  invalid("[\xC3\xA9]");                      /* non-ASCII outside strings */
}

static void test_strings(void)
{
  string_is("\"plain\"", "plain", 5);
  string_is("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
  string_is("\"\\u0041\\u00e9\\u20AC\"", "A\xC3\xA9\xE2\x82\xAC", 6);
  string_is("\"\\u0000x\"", "\0x", 2);
  string_is("\"\\ud83d\\ude00\"", "\xF0\x9F\x98\x80", 4);     /* surrogate pair */
  string_is("\"\\ud800\"", "\xEF\xBF\xBD", 3);                /* lone high surrogate → U+FFFD */
  string_is("\"\\udc00x\"", "\xEF\xBF\xBDx", 4);              /* lone low surrogate */
  string_is("\"\\ud800\\u0041\"", "\xEF\xBF\xBD" "A", 4);     /* high surrogate, then not a low one */
  string_is("\"a\\nb\xC3\xA9\"", "a\nb\xC3\xA9", 5);

  /* no escapes: the slice points into the input */
  const char *text = "[\"zero-copy\"]";
  struct json_value v;
  REQUIRE(parse(text, &v) == 0);
  REQUIRE(v.type == JSON_ARRAY && v.count == 1);
  CHECK(v.u.items[0].u.text.ptr == text + 2);
}

static void test_tree(void)
{
  struct json_value v;
  REQUIRE(parse("{\"a\":1,\"b\":[true,false,null,\"s\",-2.5],\"a\":2,\"e\":{}}", &v) == 0);
  REQUIRE(v.type == JSON_OBJECT);
  CHECK_EQ_INT(v.count, 4);                   /* duplicates kept in order */
  const struct json_value *a = json_object_get(&v, "a");
  REQUIRE(a && a->type == JSON_NUMBER);
  CHECK_EQ_MEM(a->u.text.ptr, a->u.text.len, "2");  /* the last one wins */
  const struct json_value *b = json_object_get(&v, "b");
  REQUIRE(b && b->type == JSON_ARRAY && b->count == 5);
  CHECK(b->u.items[0].type == JSON_TRUE);
  CHECK(b->u.items[1].type == JSON_FALSE);
  CHECK(b->u.items[2].type == JSON_NULL);
  CHECK(b->u.items[3].type == JSON_STRING);
  CHECK_EQ_MEM(b->u.items[4].u.text.ptr, b->u.items[4].u.text.len, "-2.5");
  const struct json_value *e = json_object_get(&v, "e");
  CHECK(e && e->type == JSON_OBJECT && e->count == 0);
  CHECK(json_object_get(&v, "missing") == NULL);
  CHECK(json_object_get(b, "a") == NULL);
}

static void test_depth(void)
{
  char deep[400];
  struct json_value v;
  struct error err;
  for (int d = 159; d <= 161; d++) {
    memset(deep, '[', (size_t)d);
    memset(deep + d, ']', (size_t)d);
    int rc = json_parse(&arena, deep, (size_t)d * 2, 160, &v, &err);
    CHECK_EQ_INT(rc, d <= 160 ? 0 : ERR_TOO_DEEP_AST);
  }
  /* objects count the same */
  char buf[2000] = "";
  for (int i = 0; i < 161; i++)
    strcat(buf, "{\"a\":");
  strcat(buf, "1");
  for (int i = 0; i < 161; i++)
    strcat(buf, "}");
  CHECK_EQ_INT(json_parse(&arena, buf, strlen(buf), 160, &v, &err), ERR_TOO_DEEP_AST);
  /* a very deep document fails fast without exhausting the stack */
  size_t n = 1 << 20;
  char *huge = malloc(n);
  memset(huge, '[', n);
  CHECK_EQ_INT(json_parse(&arena, huge, n, 160, &v, &err), ERR_TOO_DEEP_AST);
  free(huge);
  /* wide is fine */
  size_t items = 100000;
  char *wide = malloc(items * 2 + 2);
  size_t o = 0;
  wide[o++] = '[';
  for (size_t i = 0; i < items; i++) {
    wide[o++] = '7';
    wide[o++] = i + 1 < items ? ',' : ']';
  }
  REQUIRE(parse_n(wide, o, &v) == 0);
  CHECK_EQ_INT(v.count, items);
  free(wide);
}

static void test_errors(void)
{
  struct json_value v;
  struct error err;
  CHECK(json_parse(&arena, "[1,\n  x]", 8, 160, &v, &err) != 0);
  CHECK(strstr(err.message, "offset 6") != NULL);
  CHECK(strstr(err.message, "'x'") != NULL);
}

static void test_numbers(void)
{
  int64_t i;
  uint64_t u;
  double d;
  CHECK(json_number_i64(SLICE_LIT("9223372036854775807"), &i) && i == INT64_MAX);
  CHECK(!json_number_i64(SLICE_LIT("9223372036854775808"), &i));
  CHECK(json_number_i64(SLICE_LIT("-9223372036854775808"), &i) && i == INT64_MIN);
  CHECK(!json_number_i64(SLICE_LIT("-9223372036854775809"), &i));
  CHECK(!json_number_i64(SLICE_LIT("99999999999999999999999"), &i));
  CHECK(json_number_i64(SLICE_LIT("1e3"), &i) && i == 1000);
  CHECK(json_number_i64(SLICE_LIT("-2.0"), &i) && i == -2);
  CHECK(!json_number_i64(SLICE_LIT("1.5"), &i));
  CHECK(!json_number_i64(SLICE_LIT(""), &i));
  CHECK(!json_number_i64(SLICE_LIT("-"), &i));
  CHECK(!json_number_i64(SLICE_LIT("0x10"), &i));
  CHECK(!json_number_i64(SLICE_LIT(" 1"), &i));
  CHECK(!json_number_i64(SLICE_LIT("1e400"), &i));
  CHECK(json_number_u64(SLICE_LIT("18446744073709551615"), &u) && u == UINT64_MAX);
  CHECK(!json_number_u64(SLICE_LIT("18446744073709551616"), &u));
  CHECK(!json_number_u64(SLICE_LIT("-1"), &u));
  CHECK(json_number_u64(SLICE_LIT("-0"), &u) && u == 0);
  CHECK(json_number_u64(SLICE_LIT("1700000000000000000"), &u) && u == 1700000000000000000ull);
  CHECK(json_number_u64(SLICE_LIT("1.7e18"), &u) && u == 1700000000000000000ull);
  CHECK(json_number_f64(SLICE_LIT("-2.5e-3"), &d) && d == -0.0025);
  CHECK(json_number_f64(SLICE_LIT("1e400"), &d) && isinf(d));
  CHECK(!json_number_f64(SLICE_LIT("nan"), &d));
  CHECK(!json_number_f64(SLICE_LIT("inf"), &d));
  CHECK(!json_number_f64(SLICE_LIT("1.5 "), &d));
  char long_num[300];
  memset(long_num, '1', sizeof long_num);
  CHECK(json_number_f64(slice_make(long_num, sizeof long_num), &d) && d > 1e299);
}

int main(void)
{
  arena_init(&arena, 0);
  test_grammar();
  test_strings();
  test_tree();
  test_depth();
  test_errors();
  test_numbers();
  arena_destroy(&arena);
  TEST_DONE();
}
