/* datatype_parse / datatype_format round trips, aliases, errors, sizes. */
#include "base/datatype.h"
#include "base/timezone.h"
#include "tests/unit/test.h"

static struct arena arena;

/* Parses `text` and checks the canonical spelling. */
static void check_parse(const char *text, const char *canonical, int line)
{
  const struct datatype *t = NULL;
  struct error err = { 0 };
  int rc = datatype_parse(&arena, text, strlen(text), &t, &err);
  if (rc) {
    fprintf(stderr, "line %d: parse '%s' failed: %s\n", line, text, err.message);
    test_failures++;
    return;
  }
  const char *name = datatype_name(&arena, t);
  if (strcmp(name, canonical) != 0) {
    fprintf(stderr, "line %d: '%s' printed as '%s', expected '%s'\n", line, text, name, canonical);
    test_failures++;
    return;
  }
  /* The canonical spelling parses back to an equal type. */
  const struct datatype *t2 = NULL;
  rc = datatype_parse(&arena, name, strlen(name), &t2, &err);
  if (rc || !datatype_equal(t, t2)) {
    fprintf(stderr, "line %d: '%s' does not round-trip\n", line, name);
    test_failures++;
  }
}
#define PARSE(text, canonical) check_parse((text), (canonical), __LINE__)

static void check_error(const char *text, int code, int line)
{
  const struct datatype *t = NULL;
  struct error err = { 0 };
  int rc = datatype_parse(&arena, text, strlen(text), &t, &err);
  if (rc != code) {
    fprintf(stderr, "line %d: parse '%s' returned %d (%s), expected %d\n", line, text, rc, err.message, code);
    test_failures++;
  }
}
#define PARSE_ERROR(text, code) check_error((text), (code), __LINE__)

static void test_simple(void)
{
  const char *names[] = { "UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64",
                          "Float32", "Float64", "Bool", "String", "Date", "DateTime", "UUID", "Nothing" };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    PARSE(names[i], names[i]);
  CHECK(datatype_simple(TYPE_STRING) == datatype_simple(TYPE_STRING));
  CHECK(datatype_simple(TYPE_ARRAY) == NULL);
  CHECK(datatype_simple(TYPE_FIXED_STRING) == NULL);
}

static void test_aliases(void)
{
  PARSE("INT", "Int32");
  PARSE("integer", "Int32");
  PARSE("BIGINT", "Int64");
  PARSE("TINYINT", "Int8");
  PARSE("SMALLINT", "Int16");
  PARSE("FLOAT", "Float32");
  PARSE("DOUBLE", "Float64");
  PARSE("double precision", "Float64");
  PARSE("DOUBLE   PRECISION", "Float64");
  PARSE("VARCHAR", "String");
  PARSE("VARCHAR(255)", "String");
  PARSE("TEXT", "String");
  PARSE("char", "String");
  PARSE("BOOLEAN", "Bool");
  PARSE("INT UNSIGNED", "UInt32");
  PARSE("BIGINT UNSIGNED", "UInt64");
  PARSE("TINYINT UNSIGNED", "UInt8");
  PARSE("INT(11)", "Int32");
  PARSE("TIMESTAMP", "DateTime");
  PARSE("BINARY(4)", "FixedString(4)");
  /* canonical names are case-sensitive */
  PARSE_ERROR("string", ERR_UNKNOWN_TYPE);
  PARSE_ERROR("uint8", ERR_UNKNOWN_TYPE);
}

static void test_composite(void)
{
  PARSE("Nullable(String)", "Nullable(String)");
  PARSE("Nullable( Int32 )", "Nullable(Int32)");
  PARSE("Array(Array(UInt8))", "Array(Array(UInt8))");
  PARSE("Map(String,UInt64)", "Map(String, UInt64)");
  PARSE("Map(LowCardinality(String), String)", "Map(LowCardinality(String), String)");
  PARSE("Tuple(UInt8, String)", "Tuple(UInt8, String)");
  PARSE("Tuple(a UInt8, b Nullable(String))", "Tuple(a UInt8, b Nullable(String))");
  PARSE("Tuple(`a b` UInt8)", "Tuple(`a b` UInt8)");
  PARSE("Tuple(x DOUBLE PRECISION)", "Tuple(x Float64)");
  PARSE("Tuple(DOUBLE PRECISION, INT)", "Tuple(Float64, Int32)");
  PARSE("Array(Tuple(String, String))", "Array(Tuple(String, String))");
  PARSE("LowCardinality(String)", "LowCardinality(String)");
  PARSE("LowCardinality(Nullable(String))", "LowCardinality(Nullable(String))");
  PARSE("FixedString(16)", "FixedString(16)");
  PARSE("DateTime('UTC')", "DateTime('UTC')");
  PARSE("DateTime64(3)", "DateTime64(3)");
  PARSE("DateTime64(9, 'UTC')", "DateTime64(9, 'UTC')");
  PARSE("Enum8('a' = 1, 'b' = 2)", "Enum8('a' = 1, 'b' = 2)");
  PARSE("Enum8('b' = 2, 'a' = 1)", "Enum8('a' = 1, 'b' = 2)");
  PARSE("Enum8('a', 'b')", "Enum8('a' = 1, 'b' = 2)");
  PARSE("Enum16('x' = -1000, 'y\\'q' = 5)", "Enum16('x' = -1000, 'y\\'q' = 5)");
  PARSE("Enum('a' = 1, 'b' = 300)", "Enum16('a' = 1, 'b' = 300)");
  PARSE("Enum('a' = 1)", "Enum8('a' = 1)");
  PARSE("Nested(a UInt8, b String)", "Nested(a UInt8, b String)");
  PARSE("Nested (Timestamp DateTime64(9), Attributes Map(LowCardinality(String), String))",
        "Nested(Timestamp DateTime64(9), Attributes Map(LowCardinality(String), String))");
  PARSE("IntervalDay", "IntervalDay");
  PARSE("IntervalNanosecond", "IntervalNanosecond");
  PARSE("Array(Nullable(Nothing))", "Array(Nullable(Nothing))");
  PARSE("Tuple()", "Tuple()");
}

static void test_timezones(void)
{
  if (!timezone_get("Europe/Moscow"))
    return;  /* tzdata missing; covered by test_timezone */
  PARSE("DateTime('Europe/Moscow')", "DateTime('Europe/Moscow')");
  PARSE("DateTime64(6, 'America/New_York')", "DateTime64(6, 'America/New_York')");
}

static void test_errors(void)
{
  PARSE_ERROR("", ERR_SYNTAX_ERROR);
  PARSE_ERROR("Foo", ERR_UNKNOWN_TYPE);
  PARSE_ERROR("Decimal(10, 2)", ERR_UNKNOWN_TYPE);
  PARSE_ERROR("Array(Foo)", ERR_UNKNOWN_TYPE);
  PARSE_ERROR("Array(", ERR_SYNTAX_ERROR);
  PARSE_ERROR("Array(UInt8", ERR_SYNTAX_ERROR);
  PARSE_ERROR("Array(UInt8))", ERR_SYNTAX_ERROR);
  PARSE_ERROR("Map(String)", ERR_SYNTAX_ERROR);
  PARSE_ERROR("FixedString", ERR_SYNTAX_ERROR);
  PARSE_ERROR("FixedString(0)", ERR_ARGUMENT_OUT_OF_BOUND);
  PARSE_ERROR("FixedString(x)", ERR_SYNTAX_ERROR);
  PARSE_ERROR("FixedString(16777216)", ERR_ARGUMENT_OUT_OF_BOUND);
  PARSE_ERROR("Map(Tuple())", ERR_SYNTAX_ERROR);
  PARSE_ERROR("DateTime64(10)", ERR_ARGUMENT_OUT_OF_BOUND);
  PARSE_ERROR("DateTime('No/Such_Zone')", ERR_BAD_ARGUMENTS);
  PARSE_ERROR("DateTime('../../etc/passwd')", ERR_BAD_ARGUMENTS);
  PARSE_ERROR("Enum8('a' = 1000)", ERR_ARGUMENT_OUT_OF_BOUND);
  PARSE_ERROR("Enum8('a' = 1, 'a' = 2)", ERR_BAD_ARGUMENTS);
  PARSE_ERROR("Enum8('a' = 1, 'b' = 1)", ERR_BAD_ARGUMENTS);
  PARSE_ERROR("Enum8()", ERR_SYNTAX_ERROR);
  PARSE_ERROR("Enum8('a' = 1", ERR_SYNTAX_ERROR);
  PARSE_ERROR("Nullable(Array(UInt8))", ERR_ILLEGAL_TYPE_OF_ARGUMENT);
  PARSE_ERROR("Nullable(Nullable(UInt8))", ERR_ILLEGAL_TYPE_OF_ARGUMENT);
  PARSE_ERROR("LowCardinality(Array(UInt8))", ERR_ILLEGAL_TYPE_OF_ARGUMENT);
  PARSE_ERROR("Tuple(a UInt8, UInt8)", ERR_SYNTAX_ERROR);
  PARSE_ERROR("Tuple(a UInt8, a String)", ERR_BAD_ARGUMENTS);
  PARSE_ERROR("Nested(UInt8)", ERR_SYNTAX_ERROR);
  PARSE_ERROR("IntervalFortnight", ERR_UNKNOWN_TYPE);
  PARSE_ERROR("String String", ERR_SYNTAX_ERROR);
  /* deep nesting is refused, not a stack overflow */
  char deep[2000];
  size_t n = 0;
  for (int i = 0; i < 150; i++)
    n += (size_t)snprintf(deep + n, sizeof deep - n, "Array(");
  PARSE_ERROR(deep, ERR_TOO_DEEP_AST);
}

static void test_properties(void)
{
  const struct datatype *t;
  struct error err;
  CHECK_EQ_INT(datatype_fixed_bytes(datatype_simple(TYPE_UINT8)), 1);
  CHECK_EQ_INT(datatype_fixed_bytes(datatype_simple(TYPE_DATE)), 2);
  CHECK_EQ_INT(datatype_fixed_bytes(datatype_simple(TYPE_DATETIME)), 4);
  CHECK_EQ_INT(datatype_fixed_bytes(datatype_simple(TYPE_UUID)), 16);
  CHECK_EQ_INT(datatype_fixed_bytes(datatype_simple(TYPE_STRING)), 0);
  CHECK_EQ_INT(datatype_fixed_bytes(datatype_fixed_string(&arena, 7)), 7);
  CHECK_EQ_INT(datatype_fixed_bytes(datatype_datetime64(&arena, 3, NULL)), 8);
  REQUIRE(datatype_parse(&arena, "LowCardinality(String)", 22, &t, &err) == 0);
  CHECK_EQ_INT(datatype_fixed_bytes(t), 4);
  CHECK(datatype_is_string_like(t));
  CHECK(datatype_unwrap(t)->id == TYPE_STRING);
  CHECK(datatype_is_integer(datatype_simple(TYPE_INT64)));
  CHECK(!datatype_is_integer(datatype_simple(TYPE_BOOL)));
  CHECK(datatype_is_signed(datatype_simple(TYPE_INT8)));
  CHECK(!datatype_is_signed(datatype_simple(TYPE_UINT8)));
  CHECK(datatype_is_float(datatype_simple(TYPE_FLOAT32)));
  CHECK(datatype_is_numeric(datatype_simple(TYPE_FLOAT32)));
  CHECK(!datatype_is_numeric(datatype_simple(TYPE_STRING)));
  CHECK(datatype_is_date_or_time(datatype_simple(TYPE_DATE)));
  CHECK(datatype_is_date_or_time(datatype_datetime64(&arena, 3, "UTC")));
  CHECK(datatype_equal(datatype_datetime(&arena, "UTC"), datatype_datetime(&arena, "UTC")));
  CHECK(!datatype_equal(datatype_datetime(&arena, "UTC"), datatype_simple(TYPE_DATETIME)));
  CHECK(datatype_datetime(&arena, NULL) == datatype_simple(TYPE_DATETIME));
  const struct datatype *elems[2] = { datatype_simple(TYPE_UINT8), datatype_simple(TYPE_STRING) };
  const char *names[2] = { "a", "b" };
  CHECK_EQ_STR(datatype_name(&arena, datatype_tuple(&arena, elems, names, 2)), "Tuple(a UInt8, b String)");
  CHECK_EQ_STR(datatype_name(&arena, datatype_tuple(&arena, elems, NULL, 2)), "Tuple(UInt8, String)");
  CHECK(!datatype_equal(datatype_tuple(&arena, elems, names, 2), datatype_tuple(&arena, elems, NULL, 2)));
  CHECK_EQ_STR(datatype_name(&arena, datatype_nullable(&arena, datatype_simple(TYPE_NOTHING))), "Nullable(Nothing)");
  CHECK_EQ_STR(datatype_name(&arena, datatype_interval(&arena, INTERVAL_MONTH)), "IntervalMonth");
  CHECK_EQ_STR(datatype_name(&arena, datatype_map(&arena, elems[1], elems[0])), "Map(String, UInt8)");
}

int main(void)
{
  arena_init(&arena, 0);
  test_simple();
  test_aliases();
  test_composite();
  test_timezones();
  test_errors();
  test_properties();
  arena_destroy(&arena);
  TEST_DONE();
}
