/* Executor tests: SQL text → parser → query_prepare → blocks, checked as
 * TSV-like text (values tab-separated, rows newline-terminated, NULL as
 * \N), plus the exception codes of the error paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/column.h"
#include "base/timezone.h"
#include "query/ast.h"
#include "query/exec.h"
#include "tests/unit/test.h"

static const struct server_info info = { "24.8.1.1", 54490, "spanhouse-test", "UTC", 0 };

struct result {
  int code;
  char text[65536];
  char types[1024];
  char message[1024];
};

static void run_with(const char *sql, struct result *r, bool with_types)
{
  struct arena a;
  arena_init(&a, 0);
  struct query_context ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.arena = &a;
  ctx.server = &info;
  ctx.settings = settings_create(&a);
  ctx.database = "default";
  ctx.user = "default";
  ctx.query_id = "test";
  struct error err = { 0 };
  struct sql_statement *st;
  struct query_plan *plan;
  struct buf out;
  buf_init(&out);
  r->code = sql_parse(&a, sql, strlen(sql), &st, &err);
  if (!r->code)
    r->code = query_prepare(&ctx, st, &plan, &err);
  r->types[0] = 0;
  if (!r->code) {
    uint32_t n;
    const char *const *names;
    const struct datatype *const *types;
    query_plan_header(plan, &n, &names, &types);
    struct buf tb;
    buf_init(&tb);
    for (uint32_t i = 0; i < n; i++) {
      if (i)
        buf_append_char(&tb, ',');
      datatype_format(types[i], &tb);
    }
    snprintf(r->types, sizeof r->types, "%s", buf_cstr(&tb));
    buf_free(&tb);
    for (;;) {
      struct block *b;
      r->code = query_plan_next(plan, &b, &err);
      if (r->code || !b)
        break;
      for (uint32_t row = 0; row < b->rows; row++) {
        for (uint32_t c = 0; c < b->column_count; c++) {
          if (c)
            buf_append_char(&out, '\t');
          struct column *col = b->columns[c];
          if (column_is_null(col, column_row(col, row)))
            buf_append_cstr(&out, "\\N");
          else
            column_format_value_tz(col, row, timezone_utc(), false, &out);
        }
        buf_append_char(&out, '\n');
      }
    }
  }
  (void)with_types;
  snprintf(r->text, sizeof r->text, "%s", buf_cstr(&out));
  snprintf(r->message, sizeof r->message, "%s", r->code ? err.message : "");
  buf_free(&out);
  arena_destroy(&a);
}

static struct result R;

#define CHECK_Q(sql, expected) do { run_with(sql, &R, false); \
  if (R.code) { fprintf(stderr, "%s:%d: %s failed: %d %s\n", __FILE__, __LINE__, sql, R.code, R.message); test_failures++; } \
  else if (strcmp(R.text, expected) != 0) { fprintf(stderr, "%s:%d: %s\n got: [%s]\nwant: [%s]\n", __FILE__, __LINE__, sql, R.text, expected); test_failures++; } } while (0)
#define CHECK_T(sql, expected_types) do { run_with(sql, &R, true); \
  if (R.code) { fprintf(stderr, "%s:%d: %s failed: %d %s\n", __FILE__, __LINE__, sql, R.code, R.message); test_failures++; } \
  else if (strcmp(R.types, expected_types) != 0) { fprintf(stderr, "%s:%d: %s\n types: [%s]\n  want: [%s]\n", __FILE__, __LINE__, sql, R.types, expected_types); test_failures++; } } while (0)
#define CHECK_ERR(sql, expected_code) do { run_with(sql, &R, false); \
  if (R.code != (expected_code)) { fprintf(stderr, "%s:%d: %s: code %d (%s), want %d\n", __FILE__, __LINE__, sql, R.code, R.message, expected_code); test_failures++; } } while (0)

static void test_basics(void)
{
  CHECK_Q("SELECT 1", "1\n");
  CHECK_Q("SELECT 1, 'a', NULL", "1\ta\t\\N\n");
  CHECK_Q("SELECT number*2 AS x FROM numbers(5) WHERE x>2", "4\n6\n8\n");
  CHECK_Q("SELECT * FROM system.numbers LIMIT 3", "0\n1\n2\n");
  CHECK_Q("SELECT number FROM numbers(10) ORDER BY number DESC LIMIT 3", "9\n8\n7\n");
  CHECK_Q("SELECT number FROM numbers(2, 3)", "2\n3\n4\n");
  CHECK_Q("SELECT number FROM numbers(0, 10, 3)", "0\n3\n6\n9\n");
  CHECK_Q("SELECT number FROM numbers(10) LIMIT 2 OFFSET 3", "3\n4\n");
  CHECK_Q("SELECT dummy FROM system.one", "0\n");
}

static void test_literal_types(void)
{
  CHECK_T("SELECT 1, 256, 65536, 4294967296, -1, -129, 1.5, 'a', NULL, true",
          "UInt8,UInt16,UInt32,UInt64,Int8,Int16,Float64,String,Nullable(Nothing),Bool");
  CHECK_T("SELECT [1, 2], (1, 'a'), [], [1, NULL], [1, -1], [1, 2.5]",
          "Array(UInt8),Tuple(UInt8, String),Array(Nothing),Array(Nullable(UInt8)),Array(Int16),Array(Float64)");
  CHECK_Q("SELECT toTypeName(0), toTypeName(-129)", "UInt8\tInt16\n");
}

static void test_arithmetic(void)
{
  CHECK_T("SELECT 1 + 1, 1 - 2, 2 * 3, 1 / 2, intDiv(7, 2), 7 % 3, -7 % 3, negate(5)",
          "UInt16,Int16,UInt16,Float64,UInt8,UInt8,Int16,Int16");
  CHECK_Q("SELECT 1 + 2, 10 - 3, 3 - 10, 6 * 7, 7 / 2", "3\t7\t-7\t42\t3.5\n");
  CHECK_Q("SELECT intDiv(7, 2), -7 % 3, 7 % -3, intDivOrZero(1, 0), abs(-3)", "3\t-1\t1\t0\t3\n");
  CHECK_Q("SELECT 1 / 0, -1 / 0, 0 / 0", "inf\t-inf\tnan\n");
  CHECK_Q("SELECT toUInt8(255) + toUInt8(1), toUInt8(0) - toUInt8(1)", "256\t-1\n");
  CHECK_Q("SELECT toUInt64(18446744073709551615) + 1", "0\n");
  CHECK_T("SELECT toInt8(1) + toUInt8(1), toUInt32(1) * toInt32(1), toInt64(1) + toUInt64(1), toFloat32(1) * toFloat32(1)",
          "Int16,Int64,Int64,Float64");
  CHECK_ERR("SELECT intDiv(1, 0)", 153);
  CHECK_ERR("SELECT 1 % 0", 153);
  CHECK_ERR("SELECT intDiv(number, number) FROM numbers(1)", 153);
  CHECK_ERR("SELECT 'a' + 1", 43);
  CHECK_ERR("SELECT plus(1, 2, 3)", 42);
}

static void test_compare_logic(void)
{
  CHECK_Q("SELECT 1 < 2, 2 <= 2, 3 > 4, 1 = 1, 1 != 2, 'a' < 'b', 'ab' < 'abc'", "1\t1\t0\t1\t1\t1\t1\n");
  CHECK_Q("SELECT -1 < 1, toUInt64(18446744073709551615) > -1, 1 = 1.0", "1\t1\t1\n");
  CHECK_Q("SELECT toDate('2024-01-02') = '2024-01-02', toDate('2024-01-02') < '2024-01-03'", "1\t1\n");
  CHECK_Q("SELECT 1 AND 0, 1 OR 0, NOT 1, xor(1, 1), 2 AND 3", "0\t1\t0\t0\t1\n");
  CHECK_Q("SELECT NULL AND 0, NULL AND 1, NULL OR 1, NULL OR 0", "0\t\\N\t1\t\\N\n");
}

static void test_nulls(void)
{
  CHECK_Q("SELECT NULL + 1, 1 = NULL, NULL IS NULL, 1 IS NOT NULL", "\\N\t\\N\t1\t1\n");
  CHECK_T("SELECT NULL + 1", "Nullable(Nothing)");
  CHECK_Q("SELECT ifNull(NULL, 5), coalesce(NULL, NULL, 3), nullIf(1, 1), nullIf(1, 2), assumeNotNull(toNullable(5))",
          "5\t3\t\\N\t1\t5\n");
  CHECK_T("SELECT toNullable(1) + 1, ifNull(toNullable(1), 2), if(number = 0, NULL, number) FROM numbers(1)",
          "Nullable(UInt16),UInt8,Nullable(UInt64)");
  CHECK_Q("SELECT if(number = 0, NULL, number) FROM numbers(2)", "\\N\n1\n");
}

static void test_conditionals(void)
{
  CHECK_Q("SELECT number, if(number % 2 = 0, 'even', 'odd') FROM numbers(3)", "0\teven\n1\todd\n2\teven\n");
  CHECK_Q("SELECT multiIf(number = 0, 'zero', number = 1, 'one', 'many') FROM numbers(3)", "zero\none\nmany\n");
  CHECK_Q("SELECT CASE number WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END FROM numbers(3)", "c\na\nb\n");
  CHECK_T("SELECT if(number = 0, 1, -1), if(number = 0, 1, 2.5) FROM numbers(1)", "Int16,Float64");
  CHECK_ERR("SELECT if(number = 0, 1, 'a') FROM numbers(1)", 386);
  /* short-circuit: the untaken branch never runs */
  CHECK_Q("SELECT if(number = 0, 0, intDiv(10, number)) FROM numbers(3)", "0\n10\n5\n");
  CHECK_Q("SELECT number != 0 AND intDiv(10, number) > 4 FROM numbers(3)", "0\n1\n1\n");
  CHECK_Q("SELECT multiIf(number = 0, 'z', intDiv(10, number) > 5, 'big', 'small') FROM numbers(3)", "z\nbig\nsmall\n");
}

static void test_aggregation(void)
{
  CHECK_Q("SELECT count(), sum(number), min(number), max(number), avg(number) FROM numbers(10)", "10\t45\t0\t9\t4.5\n");
  CHECK_Q("SELECT number % 3 AS k, count() FROM numbers(10) GROUP BY k ORDER BY k", "0\t4\n1\t3\n2\t3\n");
  CHECK_Q("SELECT countIf(number > 5), sumIf(number, number < 3), uniq(number % 4), uniqExact(number % 5) FROM numbers(10)",
          "4\t3\t4\t5\n");
  CHECK_Q("SELECT count(DISTINCT number % 3) FROM numbers(10)", "3\n");
  CHECK_Q("SELECT groupArray(number) FROM numbers(4)", "[0,1,2,3]\n");
  CHECK_Q("SELECT argMax(number, number % 7), argMin(number, number % 7) FROM numbers(10)", "6\t0\n");
  CHECK_Q("SELECT count(), sum(number), avg(number) FROM numbers(0)", "0\t0\tnan\n");
  CHECK_Q("SELECT number % 2, count() FROM numbers(0) GROUP BY number % 2", "");
  CHECK_Q("SELECT k, count() c FROM (SELECT number % 3 k FROM numbers(9)) GROUP BY k HAVING c > 2 ORDER BY k",
          "0\t3\n1\t3\n2\t3\n");
  CHECK_T("SELECT sum(toNullable(number)), count(toNullable(number)) FROM numbers(3)", "Nullable(UInt64),UInt64");
  CHECK_ERR("SELECT number FROM numbers(3) WHERE count() > 1", 184);
  CHECK_ERR("SELECT number, count() FROM numbers(3)", 215);
  CHECK_ERR("SELECT sum(count()) FROM numbers(3)", 184);
}

static void test_sorting(void)
{
  CHECK_Q("SELECT number % 3 AS a, number FROM numbers(6) ORDER BY a DESC, number LIMIT 4", "2\t2\n2\t5\n1\t1\n1\t4\n");
  CHECK_Q("SELECT number FROM numbers(100000) ORDER BY number DESC LIMIT 2", "99999\n99998\n");
  CHECK_Q("SELECT x FROM (SELECT arrayJoin([3, NULL, 1]) AS x) ORDER BY x", "1\n3\n\\N\n");
  CHECK_Q("SELECT DISTINCT number % 3 FROM numbers(10) ORDER BY 1", "0\n1\n2\n");
  CHECK_Q("SELECT number % 2 AS k, number FROM numbers(6) ORDER BY number LIMIT 1 BY k", "0\t0\n1\t1\n");
}

static void test_streaming(void)
{
  /* must stop early instead of reading an infinite table */
  CHECK_Q("SELECT number FROM system.numbers WHERE number % 1000000 = 0 LIMIT 3", "0\n1000000\n2000000\n");
  CHECK_Q("SELECT count() FROM numbers(1000000)", "1000000\n");
}

static void test_misc(void)
{
  CHECK_Q("SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 2) ORDER BY x", "1\n2\n");
  CHECK_Q("SELECT number FROM numbers(5) WHERE number IN (1, 3)", "1\n3\n");
  CHECK_Q("SELECT number FROM numbers(5) WHERE number IN (SELECT number * 2 FROM numbers(3))", "0\n2\n4\n");
  CHECK_Q("SELECT (SELECT max(number) FROM numbers(5)) + 1", "5\n");
  CHECK_Q("WITH 2 AS two SELECT number * two FROM numbers(3)", "0\n2\n4\n");
  CHECK_Q("SELECT arrayJoin([1, 2]) AS x, x * 10", "1\t10\n2\t20\n");
  CHECK_Q("SELECT arrayJoin([1, 2]) AS a, arrayJoin([3, 4]) AS b", "1\t3\n1\t4\n2\t3\n2\t4\n");
  CHECK_Q("SELECT x, y FROM (SELECT [1, 2] AS x, ['a', 'b'] AS y) ARRAY JOIN x, y", "1\ta\n2\tb\n");
  CHECK_Q("SELECT CAST('5' AS UInt8) + 1, CAST(1.7 AS Int32), toString(12)", "6\t1\t12\n");
  CHECK_ERR("SELECT toInt32('abc')", 6);
  CHECK_ERR("SELECT x FROM numbers(1)", 47);
  CHECK_ERR("SELECT foo(1)", 46);
  CHECK_ERR("SELECT * FROM nosuchtable", 60);
  CHECK_ERR("SELECT * FROM nosuchdb.t", 81);
  CHECK_ERR("SELECT 1 SETTINGS nosuchsetting = 1", 115);
  CHECK_Q("SELECT name FROM system.databases ORDER BY name", "default\nsystem\n");
  CHECK_Q("SELECT count() > 50 FROM system.functions", "1\n");
  CHECK_Q("SELECT value FROM system.settings WHERE name = 'max_block_size'", "65409\n");
  CHECK_Q("SELECT number FROM numbers(3) SETTINGS max_block_size = 1", "0\n1\n2\n");
}

static void test_strings(void)
{
  CHECK_Q("SELECT length('héllo'), lengthUTF8('héllo'), upper('abc'), lower('ABC'), reverse('abc')", "6\t5\tABC\tabc\tcba\n");
  CHECK_Q("SELECT substring('hello', 2, 3), substring('hello', -3), position('hello', 'l'), concat('a', 'b', 'c')",
          "ell\tllo\t3\tabc\n");
  CHECK_Q("SELECT replaceAll('aXbX', 'X', '-'), trimBoth('  a  '), splitByChar(',', 'a,b'), 'abc' LIKE 'a%', 'abc' ILIKE 'A_C'",
          "a-b-\ta\t['a','b']\t1\t1\n");
  CHECK_Q("SELECT leftPad('7', 3, '0'), repeat('ab', 2), hex('A'), unhex('41'), base64Encode('hi'), startsWith('abc', 'ab')",
          "007\tabab\t41\tA\taGk=\t1\n");
  CHECK_Q("SELECT replaceRegexpAll('a1b22', '\\\\d+', '#'), match('abc', '^a'), extract('x=12', '\\\\d+')", "a#b#\t1\t12\n");
}

static void test_dates(void)
{
  CHECK_Q("SELECT toDate('2024-02-28') + 1, toYear(toDate('2024-03-01')), toMonth(toDate('2024-03-01')), toDayOfWeek(toDate('2024-01-01'))",
          "2024-02-29\t2024\t3\t1\n");
  CHECK_Q("SELECT toDateTime('2024-01-02 03:04:05', 'UTC'), toUnixTimestamp(toDateTime('2024-01-02 03:04:05', 'UTC'))",
          "2024-01-02 03:04:05\t1704164645\n");
  CHECK_Q("SELECT toStartOfHour(toDateTime('2024-01-02 03:04:05', 'UTC')), toStartOfMonth(toDate('2024-02-29'))",
          "2024-01-02 03:00:00\t2024-02-01\n");
  CHECK_Q("SELECT addMonths(toDate('2024-01-31'), 1), toDate('2024-01-31') + INTERVAL 1 DAY, dateDiff('day', toDate('2024-01-01'), toDate('2024-03-01'))",
          "2024-02-29\t2024-02-01\t60\n");
  CHECK_Q("SELECT formatDateTime(toDateTime('2024-01-02 03:04:05', 'UTC'), '%F %T'), toYYYYMM(toDate('2024-05-06'))",
          "2024-01-02 03:04:05\t202405\n");
  CHECK_Q("SELECT toDateTime('2024-01-02 03:04:05', 'Asia/Tokyo') = toDateTime('2024-01-01 18:04:05', 'UTC')", "1\n");
  CHECK_T("SELECT toDate('2024-01-01'), toDateTime('2024-01-01 00:00:00', 'UTC'), now(), toDateTime64('2024-01-01', 3)",
          "Date,DateTime('UTC'),DateTime,DateTime64(3)");
}

static void test_arrays(void)
{
  CHECK_Q("SELECT arrayMap(x -> x * 2, [1, 2]), arrayFilter(x -> x > 1, [1, 2, 3]), arraySum([1, 2, 3])", "[2,4]\t[2,3]\t6\n");
  CHECK_Q("SELECT [1, 2, 3][2], [1, 2, 3][-1], [1, 2][5], has([1, 2], 2), indexOf(['a', 'b'], 'b'), range(3)",
          "2\t3\t0\t1\t2\t[0,1,2]\n");
  CHECK_Q("SELECT arraySort([3, 1, 2]), arrayReverse([1, 2]), arrayDistinct([1, 1, 2]), arrayConcat([1], [2])",
          "[1,2,3]\t[2,1]\t[1,2]\t[1,2]\n");
  CHECK_Q("SELECT (1, 'a').2, tupleElement((1, 2), 1), map('k', 1)['k'], mapKeys(map('k', 1))", "a\t1\t1\t['k']\n");
  CHECK_Q("SELECT number, arrayMap(x -> x + number, [10]) FROM numbers(2)", "0\t[10]\n1\t[11]\n");
  CHECK_Q("SELECT s, a FROM (SELECT 'x' AS s, [1, 2] AS arr) ARRAY JOIN arr AS a", "x\t1\nx\t2\n");
}

static void test_statements(void)
{
  CHECK_Q("SHOW DATABASES", "default\nsystem\n");
  CHECK_Q("EXISTS TABLE system.one", "1\n");
  CHECK_Q("EXISTS TABLE default.nope", "0\n");
  CHECK_Q("DESCRIBE TABLE system.one", "dummy\tUInt8\t\t\t\t\t\n");
  CHECK_ERR("CREATE DATABASE x", 48);
  CHECK_ERR("SELECT 1 SETTINGS readonly = 1, max_block_size = 5", 164);
  CHECK_ERR("SELECT count() FROM system.numbers SETTINGS max_execution_time = 0.2", 159);
  CHECK_ERR("SELECT number FROM numbers(10) SETTINGS max_result_rows = 5", 396);
  CHECK_Q("SELECT number FROM numbers(10) WHERE number < 2 SETTINGS max_result_rows = 5", "0\n1\n");
}

/* The typed fast paths (LowCardinality by dictionary, String and logic
 * kernels, GROUP BY by dictionary keys, quantile by selection) give what
 * the per-row paths gave. */
static void test_fast_paths(void)
{
  CHECK_Q("SELECT m['a'], m['c'], m['x'], mapContains(m, 'c'), mapContains(m, 'y')"
          " FROM (SELECT CAST(map('a', number, 'c', 2), 'Map(LowCardinality(String), UInt64)') AS m FROM numbers(3))",
          "0\t2\t0\t1\t0\n1\t2\t0\t1\t0\n2\t2\t0\t1\t0\n");
  CHECK_Q("SELECT s, s = 'b', s != 'b', s < 'b', 'b' <= s, s IN ('a', 'c'), s NOT IN ('a')"
          " FROM (SELECT toLowCardinality(arrayJoin(['b', '', 'a', 'c', 'b'])) AS s)",
          "b\t1\t0\t0\t1\t0\t1\n\t0\t1\t1\t0\t0\t1\na\t0\t1\t1\t0\t1\t0\nc\t0\t1\t0\t1\t1\t1\nb\t1\t0\t0\t1\t0\t1\n");
  CHECK_Q("SELECT toLowCardinality(toString(number % 3)) AS s, count() FROM numbers(10) GROUP BY s",
          "0\t4\n1\t3\n2\t3\n");
  CHECK_Q("SELECT s, t, count()"
          " FROM (SELECT toLowCardinality(toString(number % 3)) AS s, toLowCardinality(toString(number % 2)) AS t FROM numbers(10)) GROUP BY s, t",
          "0\t0\t2\n1\t1\t2\n2\t0\t2\n0\t1\t2\n1\t0\t1\n2\t1\t1\n");
  CHECK_Q("SELECT x, y, x AND y, x OR y, x AND 1 AND y, x OR 0 OR y"
          " FROM (SELECT if(number % 3 = 0, NULL, number % 3 = 1) AS x, if(number < 3, NULL, number < 6) AS y FROM numbers(9))",
          "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n1\t\\N\t\\N\t1\t\\N\t1\n0\t\\N\t0\t\\N\t0\t\\N\n\\N\t1\t\\N\t1\t\\N\t1\n1\t1\t1\t1\t1\t1\n0\t1\t0\t1\t0\t1\n\\N\t0\t0\t\\N\t0\t\\N\n1\t0\t0\t1\t0\t1\n0\t0\t0\t0\t0\t0\n");
  CHECK_Q("SELECT number, number % 3 = 0 AND number > 2 OR number = 1, number % 4 AND number % 3"
          " FROM numbers(7)",
          "0\t0\t0\n1\t1\t1\n2\t0\t1\n3\t1\t0\n4\t0\t0\n5\t0\t1\n6\t1\t0\n");
  CHECK_Q("SELECT quantile(0.5)(x), quantileExact(0.5)(x), quantileExact(0.3)(x)"
          " FROM (SELECT if(number % 2 = 0, -0., 0.) AS x FROM numbers(200))",
          "0\t-0\t-0\n");
  CHECK_Q("SELECT quantile(0.9)(number * 7 % 1000), quantileExact(0.5)(number * 7 % 1000), median(toFloat64(number) - 300)"
          " FROM numbers(1000)",
          "899.1\t500\t199.5\n");
  CHECK_Q("SELECT s, countIf(s = 'b'), sumIf(number, s != 'a')"
          " FROM (SELECT number, toLowCardinality(toString(char(97 + number % 3))) AS s FROM numbers(9)) GROUP BY s ORDER BY s",
          "a\t0\t0\nb\t3\t12\nc\t0\t15\n");
}

int main(void)
{
  test_basics();
  test_literal_types();
  test_arithmetic();
  test_compare_logic();
  test_nulls();
  test_conditionals();
  test_aggregation();
  test_fast_paths();
  test_sorting();
  test_streaming();
  test_misc();
  test_strings();
  test_dates();
  test_arrays();
  test_statements();
  TEST_DONE();
}
