/* SQL parser: ClickHouse default column names (ast_format), the structure
 * of every statement kind, INSERT data offsets, syntax error messages and
 * positions, and the depth/size limits (no stack overflow on deep input). */
#include "query/ast.h"
#include "base/limits.h"
#include "tests/unit/test.h"

static struct arena A;

static struct sql_statement *parse_ok_at(const char *sql, int line)
{
  struct sql_statement *st = NULL;
  struct error err = { 0 };
  int rc = sql_parse(&A, sql, strlen(sql), &st, &err);
  if (rc != 0) {
    fprintf(stderr, "%s:%d: parse of [%s] failed: %s\n", __FILE__, line, sql, err.message);
    test_failures++;
    return NULL;
  }
  return st;
}
#define PARSE_OK(sql) parse_ok_at((sql), __LINE__)

static void check_error_at(const char *sql, int code, const char *fragment, int line)
{
  struct sql_statement *st = NULL;
  struct error err = { 0 };
  int rc = sql_parse(&A, sql, strlen(sql), &st, &err);
  if (rc != code || (fragment && !strstr(err.message, fragment))) {
    fprintf(stderr, "%s:%d: [%.60s] gave %d \"%s\", expected %d with \"%s\"\n", __FILE__, line, sql, rc,
            err.message, code, fragment ? fragment : "");
    test_failures++;
  }
}
#define CHECK_ERROR(sql, code, fragment) check_error_at((sql), (code), (fragment), __LINE__)

static const struct ast *first_select(const struct sql_statement *st)
{
  const struct ast *u = st->select;
  while (u && u->kind == AST_SELECT_UNION)
    u = u->u.select_union.selects.items[0];
  return u;
}

/* Formats every projection of the first SELECT, joined by " | ". */
static void check_names_at(const char *sql, const char *want, int line)
{
  struct sql_statement *st = parse_ok_at(sql, line);
  if (!st)
    return;
  const struct ast *s = first_select(st);
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < s->u.select.columns.count; i++) {
    if (i)
      buf_append_cstr(&b, " | ");
    ast_format(s->u.select.columns.items[i], &b);
  }
  if (strcmp(buf_cstr(&b), want) != 0) {
    fprintf(stderr, "%s:%d: names of [%s]\n   got  %s\n   want %s\n", __FILE__, line, sql, buf_cstr(&b), want);
    test_failures++;
  }
  buf_free(&b);
}
#define CHECK_NAMES(sql, want) check_names_at((sql), (want), __LINE__)

static void test_literal_names(void)
{
  CHECK_NAMES("SELECT 1, 1.5, 1.0, 1e100, 0.1, 1e21, 1e20, 1e-7, 0.000001, 0x10, 0b101, 1_000",
              "1 | 1.5 | 1. | 1e100 | 0.1 | 1e21 | 100000000000000000000. | 1e-7 | 0.000001 | 16 | 5 | 1000");
  CHECK_NAMES("SELECT -1, -0, -1.5, -9223372036854775808, -9223372036854775809, 18446744073709551616",
              "-1 | 0 | -1.5 | -9223372036854775808 | -9223372036854776000. | 18446744073709552000.");
  CHECK_NAMES("SELECT inf, -inf, nan, -nan, 123.456e5, 0x1p3, 12.5e-10",
              "inf | -inf | nan | nan | 12345600. | 8. | 1.25e-9");
  CHECK_NAMES("SELECT 'a', 'it''s', 'a\\'b\\n', '\\\\', NULL, true, FALSE, ''",
              "'a' | 'it\\'s' | 'a\\'b\\n' | '\\\\' | NULL | true | false | ''");
  CHECK_NAMES("SELECT [1, 2], (1, 'a'), [-1], [NULL], [], (), [[1], [2, 3]], [(1, 2)], ((1, 2), 3)",
              "[1, 2] | (1, 'a') | [-1] | [NULL] | [] | tuple() | [[1], [2, 3]] | [(1, 2)] | ((1, 2), 3)");
  CHECK_NAMES("SELECT [x, 1], (x, 1), tuple(1, 2), (1)", "array(x, 1) | tuple(x, 1) | tuple(1, 2) | 1");
  CHECK_NAMES("SELECT DATE '2020-01-01', TIMESTAMP '2020-01-01 00:00:00'",
              "toDate('2020-01-01') | toDateTime('2020-01-01 00:00:00')");
  CHECK_NAMES("SELECT {p:UInt8}, {s:Array(String)}", "{p:UInt8} | {s:Array(String)}");
}

static void test_operator_names(void)
{
  CHECK_NAMES("SELECT 1 + 1, number * 2, a - b, a / b, a % b, -x, a DIV b, a MOD b",
              "plus(1, 1) | multiply(number, 2) | minus(a, b) | divide(a, b) | modulo(a, b) | negate(x) | "
              "intDiv(a, b) | modulo(a, b)");
  CHECK_NAMES("SELECT 1 + 2 * 3 + 4", "plus(plus(1, multiply(2, 3)), 4)");
  CHECK_NAMES("SELECT a = b, a == b, a != b, a <> b, a < b, a <= b, a > b, a >= b, a <=> b",
              "equals(a, b) | equals(a, b) | notEquals(a, b) | notEquals(a, b) | less(a, b) | lessOrEquals(a, b) | "
              "greater(a, b) | greaterOrEquals(a, b) | isNotDistinctFrom(a, b)");
  CHECK_NAMES("SELECT a LIKE 'x', a NOT LIKE 'x', a ILIKE 'x', a NOT ILIKE 'x', a REGEXP 'x'",
              "like(a, 'x') | notLike(a, 'x') | ilike(a, 'x') | notILike(a, 'x') | match(a, 'x')");
  CHECK_NAMES("SELECT x IN (1, 2), x NOT IN (1), x GLOBAL IN t, x GLOBAL NOT IN (1, 2), x IN (SELECT 1)",
              "in(x, (1, 2)) | notIn(x, 1) | globalIn(x, t) | globalNotIn(x, (1, 2)) | in(x, _subquery79)");
  CHECK_NAMES("SELECT a AND b AND c OR d OR e, (a AND b) AND c, NOT a, NOT NOT a",
              "or(and(a, b, c), d, e) | and(and(a, b), c) | not(a) | not(not(a))");
  CHECK_NAMES("SELECT NOT a IS NULL, a IS NOT NULL, NOT a = b, NOT a AND b",
              "not(isNull(a)) | isNotNull(a) | not(equals(a, b)) | and(not(a), b)");
  CHECK_NAMES("SELECT x BETWEEN 1 AND 2, x NOT BETWEEN 1 AND 2, x BETWEEN 1 AND 2 AND y, 1 = 1 BETWEEN 0 AND 2",
              "and(greaterOrEquals(x, 1), lessOrEquals(x, 2)) | or(less(x, 1), greater(x, 2)) | "
              "and(and(greaterOrEquals(x, 1), lessOrEquals(x, 2)), y) | "
              "equals(1, and(greaterOrEquals(1, 0), lessOrEquals(1, 2)))");
  CHECK_NAMES("SELECT 'a' || 'b' || 'c', 'a' || 'b' = 'ab', a = b = c",
              "concat('a', 'b', 'c') | equals(concat('a', 'b'), 'ab') | equals(equals(a, b), c)");
  CHECK_NAMES("SELECT c ? 1 : 2, a ? b : c ? d : e", "if(c, 1, 2) | if(a, b, if(c, d, e))");
  CHECK_NAMES("SELECT - - 1, -(1), -(-1), - x.1, -1::String, -x::String",
              "negate(-1) | negate(1) | negate(-1) | negate(tupleElement(x, 1)) | CAST(-1, 'String') | "
              "negate(CAST(x, 'String'))");
  CHECK_NAMES("SELECT a[1], t.1, t.1.2, a[1].1, (x).name, m['k'], f(x).2",
              "arrayElement(a, 1) | tupleElement(t, 1) | tupleElement(tupleElement(t, 1), 2) | "
              "tupleElement(arrayElement(a, 1), 1) | tupleElement(x, 'name') | arrayElement(m, 'k') | "
              "tupleElement(f(x), 2)");
  CHECK_NAMES("SELECT 1 - 1, 1 -1, 1-1", "minus(1, 1) | minus(1, 1) | minus(1, 1)");
}

static void test_function_names(void)
{
  CHECK_NAMES("SELECT count(*), COUNT(*), count(), count(DISTINCT x), sum(DISTINCT x), sum(ALL x)",
              "count() | COUNT() | count() | countDistinct(x) | sumDistinct(x) | sum(x)");
  CHECK_NAMES("SELECT quantile(0.5)(x), quantiles(0.5, 0.9)(x), sumIf(x, y > 1), count() FILTER (WHERE x)",
              "quantile(0.5)(x) | quantiles(0.5, 0.9)(x) | sumIf(x, greater(y, 1)) | countIf(x)");
  CHECK_NAMES("SELECT arrayMap(x -> x + 1, arr), arrayMap((a, b) -> a + b, x, y), x -> 1",
              "arrayMap(lambda(tuple(x), plus(x, 1)), arr) | arrayMap(lambda(tuple(a, b), plus(a, b)), x, y) | "
              "lambda(tuple(x), 1)");
  CHECK_NAMES("SELECT CAST(1 AS String), cast(x AS Nullable(UInt8)), CAST(x, 'UInt8'), x::Array(Nullable(String))",
              "CAST(1, 'String') | CAST(x, 'Nullable(UInt8)') | CAST(x, 'UInt8') | CAST(x, 'Array(Nullable(String))')");
  CHECK_NAMES("SELECT CAST(x AS DateTime64(3, 'UTC')), CAST(x AS Map( String ,  UInt8 )), CAST(e AS Enum8('a' = 1, 'b'=2))",
              "CAST(x, 'DateTime64(3, \\'UTC\\')') | CAST(x, 'Map(String, UInt8)') | "
              "CAST(e, 'Enum8(\\'a\\' = 1, \\'b\\'=2)')");
  CHECK_NAMES("SELECT INTERVAL 1 DAY, INTERVAL 2 hours, INTERVAL '3 minute', INTERVAL '1' DAY, INTERVAL x + 1 WEEK",
              "toIntervalDay(1) | toIntervalHour(2) | toIntervalMinute(3) | toIntervalDay('1') | "
              "toIntervalWeek(plus(x, 1))");
  CHECK_NAMES("SELECT now() - INTERVAL 1 DAY - INTERVAL 2 HOUR",
              "minus(minus(now(), toIntervalDay(1)), toIntervalHour(2))");
  CHECK_NAMES("SELECT EXTRACT(DAY FROM d), extract(YEAR FROM d), extract(s, 'a+')",
              "toDayOfMonth(d) | toYear(d) | extract(s, 'a+')");
  CHECK_NAMES("SELECT substring(s FROM 2), SUBSTRING(s FROM 1 FOR 2), substring(s, 1, 2)",
              "substring(s, 2) | substring(s, 1, 2) | substring(s, 1, 2)");
  CHECK_NAMES("SELECT trim(BOTH ' ' FROM s), trim(LEADING FROM s), trim(TRAILING 'x' FROM s), trim('x' FROM s), trim(s)",
              "trimBoth(s, ' ') | trimLeft(s) | trimRight(s, 'x') | trimBoth(s, 'x') | trim(s)");
  CHECK_NAMES("SELECT position('a' IN s), position(s, 'a'), position(x || 'a' IN s)",
              "position(s, 'a') | position(s, 'a') | position(s, concat(x, 'a'))");
  CHECK_NAMES("SELECT CASE WHEN a THEN 1 END, CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END, CASE x WHEN 1 THEN 2 END",
              "multiIf(a, 1, NULL) | multiIf(a, 1, b, 2, 3) | caseWithExpression(x, 1, 2, NULL)");
  CHECK_NAMES("SELECT sum(x) OVER (PARTITION BY a ORDER BY b DESC), row_number() OVER ()",
              "sum(x) OVER (PARTITION BY a ORDER BY b DESC) | row_number() OVER ()");
  CHECK_NAMES("SELECT *, t.*, db.t.*, * EXCEPT (a, b), * EXCEPT a, COLUMNS('re')",
              "* | t.* | db.t.* | * EXCEPT (a, b) | * EXCEPT (a) | COLUMNS('re')");
  CHECK_NAMES("SELECT a, t.a, db.t.a, `a b`, \"c\", `x`.`y`", "a | t.a | db.t.a | a b | c | x.y");
  CHECK_NAMES("SELECT (1 AS n) + 2, f(x AS y)", "plus(1, 2) | f(x)");
  CHECK_NAMES("SELECT exists(SELECT 1), left(s, 1), any(x), not(x)", "exists(_subquery15) | left(s, 1) | any(x) | not(x)");
}

static void test_aliases(void)
{
  struct sql_statement *st = PARSE_OK("SELECT 1 a, 2 AS b, x `c d`, count() \"e\", y FROM t");
  REQUIRE(st);
  const struct ast *s = first_select(st);
  REQUIRE(s->u.select.columns.count == 5);
  CHECK_EQ_STR(s->u.select.columns.items[0]->alias, "a");
  CHECK_EQ_STR(s->u.select.columns.items[1]->alias, "b");
  CHECK_EQ_STR(s->u.select.columns.items[2]->alias, "c d");
  CHECK_EQ_STR(s->u.select.columns.items[3]->alias, "e");
  CHECK(s->u.select.columns.items[4]->alias == NULL);
  CHECK_EQ_INT(s->u.select.from.count, 1);
  CHECK_EQ_STR(s->u.select.from.items[0]->u.table_expr.table, "t");
  /* keywords after AS are fine as names */
  st = PARSE_OK("SELECT 1 AS from, 2 AS select");
  REQUIRE(st);
  CHECK_EQ_STR(first_select(st)->u.select.columns.items[0]->alias, "from");
  /* positions */
  st = PARSE_OK("SELECT  number * 2 FROM t");
  REQUIRE(st);
  const struct ast *c = first_select(st)->u.select.columns.items[0];
  CHECK_EQ_INT(c->pos, 8);
  CHECK_EQ_INT(c->len, 10);
}

static void test_select_clauses(void)
{
  struct sql_statement *st = PARSE_OK(
      "WITH 1 AS one, cte AS (SELECT 2) SELECT DISTINCT ON (a) a, b FROM db.t AS x FINAL SAMPLE 1/10 OFFSET 1/2 "
      "PREWHERE p WHERE w GROUP BY a, b WITH ROLLUP WITH TOTALS HAVING h QUALIFY q "
      "ORDER BY a DESC NULLS FIRST, b ASC COLLATE 'en' WITH FILL, c "
      "LIMIT 2 OFFSET 1 BY a LIMIT 10, 20 SETTINGS max_threads = 1, s = 'x'");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_SELECT);
  const struct ast *s = first_select(st);
  const struct ast_select *q = &s->u.select;
  REQUIRE(q->with.count == 2);
  CHECK_EQ_STR(q->with.items[0]->alias, "one");
  CHECK_EQ_INT(q->with.items[1]->kind, AST_SUBQUERY);
  CHECK_EQ_STR(q->with.items[1]->alias, "cte");
  CHECK(q->distinct);
  CHECK_EQ_INT(q->distinct_on.count, 1);
  CHECK_EQ_INT(q->columns.count, 2);
  REQUIRE(q->from.count == 1);
  const struct ast_table_expr *te = &q->from.items[0]->u.table_expr;
  CHECK_EQ_STR(te->database, "db");
  CHECK_EQ_STR(te->table, "t");
  CHECK_EQ_STR(q->from.items[0]->alias, "x");
  CHECK(te->final);
  CHECK(te->sample && te->sample_offset);
  CHECK(q->prewhere && q->where && q->having && q->qualify);
  CHECK_EQ_INT(q->group_by.count, 2);
  CHECK(q->group_by_with_rollup && q->group_by_with_totals && !q->group_by_with_cube);
  REQUIRE(q->order_by.count == 3);
  const struct ast *o0 = q->order_by.items[0], *o1 = q->order_by.items[1], *o2 = q->order_by.items[2];
  CHECK(o0->u.order.descending && o0->u.order.nulls_explicit && o0->u.order.nulls_first);
  CHECK(!o1->u.order.descending && o1->u.order.with_fill);
  CHECK_EQ_STR(o1->u.order.collate, "en");
  CHECK(!o2->u.order.descending && !o2->u.order.nulls_explicit);
  CHECK_EQ_STR(ast_format_name(&A, q->limit_by_limit), "2");
  CHECK_EQ_STR(ast_format_name(&A, q->limit_by_offset), "1");
  CHECK_EQ_INT(q->limit_by.count, 1);
  CHECK_EQ_STR(ast_format_name(&A, q->limit), "20");
  CHECK_EQ_STR(ast_format_name(&A, q->offset), "10");
  CHECK_EQ_INT(q->settings.count, 2);
  /* top-level SELECT settings are hoisted into the statement */
  REQUIRE(st->settings.count == 2);
  CHECK_EQ_STR(st->settings.items[0]->u.setting.name, "max_threads");
  CHECK_EQ_STR(ast_format_name(&A, st->settings.items[1]->u.setting.value), "'x'");

  st = PARSE_OK("SELECT * FROM t LIMIT 5 OFFSET 2 WITH TIES");
  REQUIRE(st);
  q = &first_select(st)->u.select;
  CHECK_EQ_STR(ast_format_name(&A, q->limit), "5");
  CHECK_EQ_STR(ast_format_name(&A, q->offset), "2");
  CHECK(q->limit_with_ties);
  st = PARSE_OK("SELECT * FROM t ORDER BY a OFFSET 3 ROWS FETCH FIRST 4 ROWS ONLY");
  REQUIRE(st);
  q = &first_select(st)->u.select;
  CHECK_EQ_STR(ast_format_name(&A, q->limit), "4");
  CHECK_EQ_STR(ast_format_name(&A, q->offset), "3");
  st = PARSE_OK("SELECT a FROM t GROUP BY CUBE(a, b)");
  REQUIRE(st);
  CHECK(first_select(st)->u.select.group_by_with_cube);
  CHECK_EQ_INT(first_select(st)->u.select.group_by.count, 2);
  st = PARSE_OK("SELECT 1 FORMAT JSONEachRow SETTINGS a = 1");
  REQUIRE(st);
  CHECK_EQ_STR(st->format, "JSONEachRow");
  CHECK_EQ_INT(st->settings.count, 1);
  st = PARSE_OK("SELECT 1 INTO OUTFILE 'f.tsv' FORMAT TSV;");
  REQUIRE(st);
  CHECK_EQ_STR(st->into_outfile, "f.tsv");
  CHECK_EQ_STR(st->format, "TSV");
  st = PARSE_OK("SELECT 1 SETTINGS a = -1, b = [1, 2], c = true");
  REQUIRE(st);
  CHECK_EQ_INT(st->settings.count, 3);
}

static void test_from_and_joins(void)
{
  struct sql_statement *st = PARSE_OK(
      "SELECT * FROM a "
      "JOIN b ON a.x = b.x "
      "LEFT JOIN c USING (x, y) "
      "GLOBAL ANY LEFT OUTER JOIN d USING x "
      "RIGHT SEMI JOIN e ON 1 "
      "CROSS JOIN f, g "
      "ARRAY JOIN arr AS el, [1, 2] AS n "
      "LEFT ARRAY JOIN z "
      "FULL ALL JOIN (SELECT 1) AS s ON 1 "
      "ASOF JOIN numbers(10) n2 ON 1");
  REQUIRE(st);
  const struct ast_list *from = &first_select(st)->u.select.from;
  REQUIRE(from->count == 11);
  const struct ast_join *j = &from->items[1]->u.join;
  CHECK_EQ_INT(j->kind, JOIN_INNER);
  CHECK_EQ_INT(j->strictness, JOIN_STRICT_DEFAULT);
  CHECK_EQ_STR(ast_format_name(&A, j->on), "equals(a.x, b.x)");
  j = &from->items[2]->u.join;
  CHECK_EQ_INT(j->kind, JOIN_LEFT);
  CHECK_EQ_INT(j->using_columns.count, 2);
  j = &from->items[3]->u.join;
  CHECK(j->global);
  CHECK_EQ_INT(j->kind, JOIN_LEFT);
  CHECK_EQ_INT(j->strictness, JOIN_STRICT_ANY);
  CHECK_EQ_INT(j->using_columns.count, 1);
  j = &from->items[4]->u.join;
  CHECK_EQ_INT(j->kind, JOIN_RIGHT);
  CHECK_EQ_INT(j->strictness, JOIN_STRICT_SEMI);
  CHECK_EQ_INT(from->items[5]->u.join.kind, JOIN_CROSS);
  CHECK_EQ_INT(from->items[6]->u.join.kind, JOIN_COMMA);
  REQUIRE(from->items[7]->kind == AST_ARRAY_JOIN);
  CHECK(!from->items[7]->u.array_join.left);
  CHECK_EQ_INT(from->items[7]->u.array_join.exprs.count, 2);
  CHECK_EQ_STR(from->items[7]->u.array_join.exprs.items[0]->alias, "el");
  CHECK(from->items[8]->u.array_join.left);
  j = &from->items[9]->u.join;
  CHECK_EQ_INT(j->kind, JOIN_FULL);
  CHECK_EQ_INT(j->strictness, JOIN_STRICT_ALL);
  CHECK(j->table->u.table_expr.subquery != NULL);
  CHECK_EQ_STR(j->table->alias, "s");
  j = &from->items[10]->u.join;
  CHECK_EQ_INT(j->strictness, JOIN_STRICT_ASOF);
  CHECK_EQ_STR(ast_format_name(&A, j->table->u.table_expr.function), "numbers(10)");
  CHECK_EQ_STR(j->table->alias, "n2");

  st = PARSE_OK("SELECT number FROM system.numbers LIMIT 3");
  REQUIRE(st);
  CHECK_EQ_STR(first_select(st)->u.select.from.items[0]->u.table_expr.database, "system");
  st = PARSE_OK("SELECT * FROM (SELECT 1) UNION ALL SELECT 2");
  REQUIRE(st);
  CHECK_EQ_INT(st->select->u.select_union.selects.count, 2);
}

static void test_unions(void)
{
  struct sql_statement *st = PARSE_OK("SELECT 1 UNION ALL SELECT 2 UNION DISTINCT SELECT 3 UNION SELECT 4");
  REQUIRE(st);
  const struct ast_select_union *u = &st->select->u.select_union;
  REQUIRE(u->selects.count == 4);
  CHECK(!u->union_distinct[0]);
  CHECK(u->union_distinct[1]);
  CHECK(u->union_distinct[2]);
  st = PARSE_OK("(SELECT 1) UNION ALL (SELECT 2 UNION ALL SELECT 3)");
  REQUIRE(st);
  u = &st->select->u.select_union;
  REQUIRE(u->selects.count == 2);
  CHECK_EQ_INT(u->selects.items[0]->kind, AST_SELECT);
  CHECK_EQ_INT(u->selects.items[1]->kind, AST_SELECT_UNION);
  st = PARSE_OK("SELECT x IN ((SELECT 1) UNION ALL SELECT 2)");
  REQUIRE(st);
  const struct ast *in = first_select(st)->u.select.columns.items[0];
  REQUIRE(in->u.function.args.count == 2);
  const struct ast *sub = in->u.function.args.items[1];
  REQUIRE(sub->kind == AST_SUBQUERY);
  CHECK_EQ_INT(sub->u.subquery.query->u.select_union.selects.count, 2);
  st = PARSE_OK("SELECT (SELECT 1), ((SELECT 2))");
  REQUIRE(st);
  CHECK_EQ_INT(first_select(st)->u.select.columns.items[1]->kind, AST_SUBQUERY);
  for (uint32_t i = 0; i < 30; i++) {
    /* union_distinct grows with the list */
    struct buf b;
    buf_init(&b);
    buf_append_cstr(&b, "SELECT 0");
    for (uint32_t k = 1; k <= i; k++)
      buf_printf(&b, k % 2 ? " UNION ALL SELECT %u" : " UNION DISTINCT SELECT %u", k);
    st = PARSE_OK(buf_cstr(&b));
    buf_free(&b);
    REQUIRE(st);
    u = &st->select->u.select_union;
    CHECK_EQ_INT(u->selects.count, i + 1);
    for (uint32_t k = 1; k <= i; k++)
      CHECK_EQ_INT(u->union_distinct[k - 1], k % 2 == 0);
  }
}

static void test_insert(void)
{
  const char *sql = "INSERT INTO db.t (a, b) VALUES (1, 'x'), (2, 'y')";
  struct sql_statement *st = PARSE_OK(sql);
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_INSERT);
  CHECK_EQ_STR(st->database, "db");
  CHECK_EQ_STR(st->name, "t");
  CHECK_EQ_INT(st->insert_columns.count, 2);
  CHECK_EQ_STR(st->insert_format, "Values");
  CHECK_EQ_STR(sql + st->data_offset, "(1, 'x'), (2, 'y')");
  sql = "insert into t values\n\n  (1)";
  st = PARSE_OK(sql);
  REQUIRE(st);
  CHECK_EQ_STR(sql + st->data_offset, "(1)");
  /* FORMAT: spaces and one newline are skipped, the data is never lexed */
  sql = "INSERT INTO TABLE t FORMAT JSONEachRow  \n\n{\"a\": 'unclosed";
  st = PARSE_OK(sql);
  REQUIRE(st);
  CHECK_EQ_STR(st->insert_format, "JSONEachRow");
  CHECK_EQ_STR(sql + st->data_offset, "\n{\"a\": 'unclosed");
  sql = "INSERT INTO t FORMAT TabSeparated\r\n1\t2";
  st = PARSE_OK(sql);
  REQUIRE(st);
  CHECK_EQ_STR(sql + st->data_offset, "1\t2");
  sql = "INSERT INTO t FORMAT CSV 1,2";
  st = PARSE_OK(sql);
  REQUIRE(st);
  CHECK_EQ_STR(sql + st->data_offset, "1,2");
  sql = "INSERT INTO t SETTINGS async_insert = 1 FORMAT Native";
  st = PARSE_OK(sql);
  REQUIRE(st);
  CHECK_EQ_INT(st->settings.count, 1);
  CHECK_EQ_INT(st->data_offset, strlen(sql));
  st = PARSE_OK("INSERT INTO t SELECT * FROM s");
  REQUIRE(st);
  CHECK(st->select != NULL);
  CHECK(st->insert_format == NULL);
  st = PARSE_OK("INSERT INTO t (x) WITH 1 AS y SELECT y");
  REQUIRE(st);
  CHECK(st->select != NULL);
  CHECK_ERROR("INSERT INTO t", ERR_SYNTAX_ERROR, "VALUES, FORMAT, SELECT");
}

static void test_create(void)
{
  struct sql_statement *st = PARSE_OK(
      "CREATE TABLE IF NOT EXISTS otel.otel_traces ON CLUSTER c (\n"
      "  Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),\n"
      "  TraceId String CODEC(ZSTD(1)),\n"
      "  SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),\n"
      "  Duration Int64 DEFAULT 0 COMMENT 'ns',\n"
      "  Note String NULL,\n"
      "  Day Date MATERIALIZED toDate(Timestamp),\n"
      "  A String ALIAS TraceId,\n"
      "  E UInt8 EPHEMERAL,\n"
      "  Events Nested (Timestamp DateTime64(9), Name LowCardinality(String)) CODEC(ZSTD(1)) TTL Timestamp + INTERVAL 1 DAY,\n"
      "  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,\n"
      "  INDEX idx_dur Duration TYPE minmax,\n"
      "  PROJECTION p (SELECT TraceId ORDER BY Duration),\n"
      "  CONSTRAINT c1 CHECK Duration >= 0\n"
      ") ENGINE = MergeTree()\n"
      "PARTITION BY toDate(Timestamp)\n"
      "ORDER BY (ServiceName, SpanName, toUnixTimestamp(Timestamp), TraceId)\n"
      "PRIMARY KEY (ServiceName)\n"
      "SAMPLE BY TraceId\n"
      "TTL toDateTime(Timestamp) + toIntervalDay(3) TO VOLUME 'warm', toDateTime(Timestamp) + toIntervalDay(30) TO DISK 's3',\n"
      "    toDateTime(Timestamp) + INTERVAL 180 DAY DELETE WHERE Duration > 0, Timestamp + 1 RECOMPRESS CODEC(ZSTD(9))\n"
      "SETTINGS index_granularity = 8192, storage_policy = 'tiered'\n"
      "COMMENT 'spans'");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_CREATE_TABLE);
  CHECK(st->if_not_exists);
  CHECK_EQ_STR(st->database, "otel");
  CHECK_EQ_STR(st->name, "otel_traces");
  REQUIRE(st->columns.count == 9);
  const struct ast_column_def *c = &st->columns.items[0]->u.column_def;
  CHECK_EQ_STR(c->name, "Timestamp");
  CHECK_EQ_STR(c->type, "DateTime64(9)");
  REQUIRE(c->codecs.count == 2);
  CHECK_EQ_STR(ast_format_name(&A, c->codecs.items[0]), "Delta(8)");
  CHECK_EQ_STR(ast_format_name(&A, c->codecs.items[1]), "ZSTD(1)");
  CHECK_EQ_STR(st->columns.items[2]->u.column_def.type, "Map(LowCardinality(String), String)");
  c = &st->columns.items[3]->u.column_def;
  CHECK_EQ_INT(c->default_kind, COLUMN_DEFAULT);
  CHECK_EQ_STR(ast_format_name(&A, c->default_expr), "0");
  CHECK_EQ_STR(c->comment, "ns");
  CHECK_EQ_STR(st->columns.items[4]->u.column_def.type, "Nullable(String)");
  CHECK_EQ_INT(st->columns.items[5]->u.column_def.default_kind, COLUMN_MATERIALIZED);
  CHECK_EQ_INT(st->columns.items[6]->u.column_def.default_kind, COLUMN_ALIAS);
  CHECK_EQ_STR(st->columns.items[6]->u.column_def.type, "String");
  CHECK_EQ_INT(st->columns.items[7]->u.column_def.default_kind, COLUMN_EPHEMERAL);
  CHECK(st->columns.items[7]->u.column_def.default_expr == NULL);
  c = &st->columns.items[8]->u.column_def;
  CHECK_EQ_STR(c->type, "Nested(Timestamp DateTime64(9), Name LowCardinality(String))");
  CHECK(c->ttl != NULL);
  REQUIRE(st->indexes.count == 2);
  const struct ast_index_def *ix = &st->indexes.items[0]->u.index_def;
  CHECK_EQ_STR(ix->name, "idx_trace_id");
  CHECK_EQ_STR(ast_format_name(&A, ix->expr), "TraceId");
  CHECK_EQ_STR(ast_format_name(&A, ix->type), "bloom_filter(0.001)");
  CHECK_EQ_INT(ix->granularity, 1);
  CHECK_EQ_STR(ast_format_name(&A, st->indexes.items[1]->u.index_def.type), "minmax()");
  REQUIRE(st->projections.count == 1);
  CHECK_EQ_STR(st->projections.items[0]->alias, "p");
  CHECK_EQ_STR(ast_format_name(&A, st->engine), "MergeTree()");
  CHECK_EQ_STR(ast_format_name(&A, st->partition_by), "toDate(Timestamp)");
  CHECK_EQ_STR(ast_format_name(&A, st->order_by),
               "tuple(ServiceName, SpanName, toUnixTimestamp(Timestamp), TraceId)");
  CHECK_EQ_STR(ast_format_name(&A, st->primary_key), "ServiceName");
  CHECK(st->sample_by != NULL);
  REQUIRE(st->ttl.count == 4);
  CHECK_EQ_INT(st->ttl.items[0]->u.ttl.action, TTL_TO_VOLUME);
  CHECK_EQ_STR(st->ttl.items[0]->u.ttl.target, "warm");
  CHECK_EQ_INT(st->ttl.items[1]->u.ttl.action, TTL_TO_DISK);
  CHECK_EQ_INT(st->ttl.items[2]->u.ttl.action, TTL_DELETE);
  CHECK(st->ttl.items[2]->u.ttl.where != NULL);
  CHECK_EQ_STR(ast_format_name(&A, st->ttl.items[2]->u.ttl.expr),
               "plus(toDateTime(Timestamp), toIntervalDay(180))");
  CHECK_EQ_INT(st->ttl.items[3]->u.ttl.action, TTL_RECOMPRESS);
  CHECK_EQ_INT(st->ttl.items[3]->u.ttl.codecs.count, 1);
  REQUIRE(st->table_settings.count == 2);
  CHECK_EQ_STR(st->table_settings.items[1]->u.setting.name, "storage_policy");
  CHECK_EQ_STR(st->comment, "spans");

  st = PARSE_OK("CREATE TABLE t (x UInt64, PRIMARY KEY x) ENGINE = ReplacingMergeTree(ver) ORDER BY x");
  REQUIRE(st);
  CHECK_EQ_STR(ast_format_name(&A, st->engine), "ReplacingMergeTree(ver)");
  CHECK(st->primary_key != NULL);
  st = PARSE_OK("CREATE TABLE t AS db.other ENGINE = Memory");
  REQUIRE(st);
  CHECK_EQ_STR(st->as_database, "db");
  CHECK_EQ_STR(st->as_table, "other");
  st = PARSE_OK("CREATE TABLE t ENGINE = MergeTree ORDER BY tuple() AS SELECT 1 AS x");
  REQUIRE(st);
  CHECK(st->select != NULL);
  CHECK_EQ_STR(ast_format_name(&A, st->engine), "MergeTree()");
  st = PARSE_OK("CREATE TEMPORARY TABLE IF NOT EXISTS tmp (x String)");
  REQUIRE(st);
  CHECK(st->temporary);
  st = PARSE_OK("CREATE OR REPLACE TABLE t (x Decimal(10, 2) NOT NULL, y Tuple(a UInt8, b Array(String)), "
                "e Enum8('a' = 1, 'b' = 2), d DOUBLE PRECISION)");
  REQUIRE(st);
  CHECK(st->or_replace);
  CHECK_EQ_STR(st->columns.items[0]->u.column_def.type, "Decimal(10, 2)");
  CHECK_EQ_STR(st->columns.items[1]->u.column_def.type, "Tuple(a UInt8, b Array(String))");
  CHECK_EQ_STR(st->columns.items[2]->u.column_def.type, "Enum8('a' = 1, 'b' = 2)");
  CHECK_EQ_STR(st->columns.items[3]->u.column_def.type, "DOUBLE PRECISION");

  st = PARSE_OK("CREATE DATABASE IF NOT EXISTS otel ENGINE = Atomic COMMENT 'c'");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_CREATE_DATABASE);
  CHECK_EQ_STR(st->name, "otel");
  CHECK(st->if_not_exists);
  CHECK_EQ_STR(ast_format_name(&A, st->engine), "Atomic()");

  st = PARSE_OK("CREATE MATERIALIZED VIEW IF NOT EXISTS otel.mv ON CLUSTER c TO otel.ts AS "
                "SELECT TraceId, min(Start) AS Start FROM otel.otel_traces GROUP BY TraceId");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_CREATE_VIEW);
  CHECK(st->materialized);
  CHECK_EQ_STR(st->name, "mv");
  CHECK_EQ_STR(st->to_database, "otel");
  CHECK_EQ_STR(st->to_table, "ts");
  CHECK(st->select != NULL);
  st = PARSE_OK("CREATE MATERIALIZED VIEW mv ENGINE = SummingMergeTree ORDER BY k POPULATE AS SELECT k, count() AS c FROM t GROUP BY k");
  REQUIRE(st);
  CHECK(st->populate);
  CHECK(st->order_by != NULL);
  st = PARSE_OK("CREATE VIEW v AS SELECT 1");
  REQUIRE(st);
  CHECK(!st->materialized);
}

static void test_other_statements(void)
{
  struct sql_statement *st = PARSE_OK("DROP TABLE IF EXISTS db.t SYNC");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_DROP);
  CHECK_EQ_INT(st->object, OBJECT_TABLE);
  CHECK(st->if_exists);
  CHECK_EQ_STR(st->database, "db");
  st = PARSE_OK("DROP DATABASE d");
  REQUIRE(st);
  CHECK_EQ_INT(st->object, OBJECT_DATABASE);
  CHECK_EQ_STR(st->name, "d");
  st = PARSE_OK("DROP VIEW v");
  REQUIRE(st);
  CHECK_EQ_INT(st->object, OBJECT_VIEW);
  st = PARSE_OK("DROP DICTIONARY IF EXISTS dd");
  REQUIRE(st);
  CHECK_EQ_INT(st->object, OBJECT_DICTIONARY);

  st = PARSE_OK("TRUNCATE TABLE IF EXISTS db.t");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_TRUNCATE);
  CHECK(st->if_exists);
  st = PARSE_OK("TRUNCATE t");
  REQUIRE(st);
  CHECK_EQ_STR(st->name, "t");

  st = PARSE_OK("RENAME TABLE a TO b, db.c TO db2.d");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_RENAME);
  REQUIRE(st->rename_count == 2);
  CHECK_EQ_STR(st->rename_from[0], "a");
  CHECK_EQ_STR(st->rename_to[0], "b");
  CHECK_EQ_STR(st->rename_from_db[1], "db");
  CHECK_EQ_STR(st->rename_to_db[1], "db2");
  CHECK_EQ_STR(st->rename_to[1], "d");

  st = PARSE_OK("SHOW DATABASES LIKE 'o%'");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_SHOW_DATABASES);
  CHECK_EQ_STR(st->like, "o%");
  st = PARSE_OK("SHOW FULL TABLES FROM otel NOT ILIKE '%log%' LIMIT 10 FORMAT JSON");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_SHOW_TABLES);
  CHECK_EQ_STR(st->database, "otel");
  CHECK(st->like_not && st->like_ilike);
  CHECK(st->show_limit != NULL);
  CHECK_EQ_STR(st->format, "JSON");
  st = PARSE_OK("SHOW TABLES IN db");
  REQUIRE(st);
  CHECK_EQ_STR(st->database, "db");
  st = PARSE_OK("SHOW CREATE TABLE db.t");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_SHOW_CREATE);
  CHECK_EQ_INT(st->object, OBJECT_TABLE);
  CHECK_EQ_STR(st->name, "t");
  st = PARSE_OK("SHOW CREATE DATABASE otel");
  REQUIRE(st);
  CHECK_EQ_INT(st->object, OBJECT_DATABASE);
  CHECK_EQ_STR(st->name, "otel");
  st = PARSE_OK("SHOW CREATE x");
  REQUIRE(st);
  CHECK_EQ_INT(st->object, OBJECT_TABLE);

  st = PARSE_OK("DESCRIBE TABLE db.t");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_DESCRIBE);
  CHECK_EQ_STR(st->name, "t");
  st = PARSE_OK("DESC t");
  REQUIRE(st);
  CHECK_EQ_STR(st->name, "t");
  st = PARSE_OK("DESCRIBE (SELECT 1 AS x)");
  REQUIRE(st);
  CHECK(st->select != NULL);

  st = PARSE_OK("EXISTS TABLE db.t");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_EXISTS);
  st = PARSE_OK("EXISTS DATABASE d");
  REQUIRE(st);
  CHECK_EQ_INT(st->object, OBJECT_DATABASE);
  st = PARSE_OK("EXISTS t");
  REQUIRE(st);
  CHECK_EQ_INT(st->object, OBJECT_TABLE);

  st = PARSE_OK("OPTIMIZE TABLE db.t PARTITION 202401 FINAL DEDUPLICATE");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_OPTIMIZE);
  CHECK(st->final && st->deduplicate && !st->partition_is_id);
  CHECK_EQ_STR(ast_format_name(&A, st->partition), "202401");
  st = PARSE_OK("OPTIMIZE TABLE t PARTITION ID '202401'");
  REQUIRE(st);
  CHECK(st->partition_is_id);

  st = PARSE_OK("SYSTEM FLUSH LOGS");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_SYSTEM);
  REQUIRE(st->system_word_count == 2);
  CHECK_EQ_STR(st->system_words[0], "FLUSH");
  CHECK_EQ_STR(st->system_words[1], "LOGS");
  CHECK(st->name == NULL);
  st = PARSE_OK("system stop merges db.t");
  REQUIRE(st);
  CHECK_EQ_INT(st->system_word_count, 2);
  CHECK_EQ_STR(st->system_words[1], "MERGES");
  CHECK_EQ_STR(st->database, "db");
  CHECK_EQ_STR(st->name, "t");
  st = PARSE_OK("SYSTEM START TTL MERGES Spans");
  REQUIRE(st);
  CHECK_EQ_INT(st->system_word_count, 3);
  CHECK_EQ_STR(st->name, "Spans");
  st = PARSE_OK("SYSTEM DROP MARK CACHE");
  REQUIRE(st);
  CHECK_EQ_INT(st->system_word_count, 3);
  CHECK(st->name == NULL);

  st = PARSE_OK("SET max_threads = 4, format_csv_delimiter = ';', x = -1.5");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_SET);
  REQUIRE(st->settings.count == 3);
  CHECK_EQ_STR(ast_format_name(&A, st->settings.items[2]->u.setting.value), "-1.5");
  CHECK_ERROR("SET a = b", ERR_SYNTAX_ERROR, "failed at position 9 ('b')");

  st = PARSE_OK("USE otel");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_USE);
  CHECK_EQ_STR(st->name, "otel");

  st = PARSE_OK("EXPLAIN SYNTAX SELECT 1 FORMAT TSV");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_EXPLAIN);
  CHECK_EQ_STR(st->explain_kind, "SYNTAX");
  REQUIRE(st->explained != NULL);
  CHECK_EQ_INT(st->explained->kind, STMT_SELECT);
  CHECK_EQ_STR(st->format, "TSV");
  st = PARSE_OK("EXPLAIN SELECT 1");
  REQUIRE(st);
  CHECK(st->explain_kind == NULL);
  st = PARSE_OK("EXPLAIN QUERY TREE SELECT 1");
  REQUIRE(st);
  CHECK_EQ_STR(st->explain_kind, "QUERY TREE");
}

static void test_alter(void)
{
  struct sql_statement *st = PARSE_OK(
      "ALTER TABLE db.t ON CLUSTER c "
      "ADD COLUMN IF NOT EXISTS x UInt8 DEFAULT 1 AFTER y, "
      "ADD COLUMN z String FIRST, "
      "DROP COLUMN IF EXISTS w, "
      "MODIFY COLUMN x UInt16 CODEC(ZSTD(3)), "
      "RENAME COLUMN a TO b, "
      "COMMENT COLUMN b 'bee', "
      "ADD INDEX IF NOT EXISTS ix lower(s) TYPE tokenbf_v1(1024, 3, 0) GRANULARITY 4, "
      "DROP INDEX ix, "
      "MATERIALIZE INDEX ix IN PARTITION 1, "
      "DROP PARTITION 202401, "
      "DETACH PARTITION ID 'abc', "
      "ATTACH PARTITION tuple(1, 'x'), "
      "MODIFY TTL d + INTERVAL 1 DAY DELETE, d + INTERVAL 2 DAY TO VOLUME 'cold', "
      "REMOVE TTL, "
      "MODIFY SETTING a = 1, b = 'x', "
      "DELETE WHERE x = 1, "
      "UPDATE a = a + 1, comment = 'c' WHERE 1, "
      "MOVE PARTITION 202401 TO DISK 's3', "
      "MOVE PART 'all_1_1_0' TO VOLUME 'hot'");
  REQUIRE(st);
  CHECK_EQ_INT(st->kind, STMT_ALTER);
  CHECK_EQ_STR(st->database, "db");
  CHECK_EQ_STR(st->name, "t");
  REQUIRE(st->alter_count == 19);
  const struct alter_command *c = st->alter_commands;
  CHECK_EQ_INT(c[0].kind, ALTER_ADD_COLUMN);
  CHECK(c[0].if_not_exists);
  CHECK_EQ_STR(c[0].column->u.column_def.name, "x");
  CHECK_EQ_STR(c[0].after, "y");
  CHECK_EQ_STR(c[1].after, "");
  CHECK_EQ_INT(c[2].kind, ALTER_DROP_COLUMN);
  CHECK(c[2].if_exists);
  CHECK_EQ_STR(c[2].name, "w");
  CHECK_EQ_INT(c[3].kind, ALTER_MODIFY_COLUMN);
  CHECK_EQ_STR(c[3].column->u.column_def.type, "UInt16");
  CHECK_EQ_INT(c[4].kind, ALTER_RENAME_COLUMN);
  CHECK_EQ_STR(c[4].new_name, "b");
  CHECK_EQ_INT(c[5].kind, ALTER_COMMENT_COLUMN);
  CHECK_EQ_STR(c[5].comment, "bee");
  CHECK_EQ_INT(c[6].kind, ALTER_ADD_INDEX);
  CHECK_EQ_INT(c[6].index->u.index_def.granularity, 4);
  CHECK_EQ_STR(ast_format_name(&A, c[6].index->u.index_def.type), "tokenbf_v1(1024, 3, 0)");
  CHECK_EQ_INT(c[7].kind, ALTER_DROP_INDEX);
  CHECK_EQ_INT(c[8].kind, ALTER_MATERIALIZE_INDEX);
  CHECK(c[8].partition != NULL);
  CHECK_EQ_INT(c[9].kind, ALTER_DROP_PARTITION);
  CHECK(!c[9].partition_is_id);
  CHECK_EQ_INT(c[10].kind, ALTER_DETACH_PARTITION);
  CHECK(c[10].partition_is_id);
  CHECK_EQ_STR(ast_format_name(&A, c[10].partition), "'abc'");
  CHECK_EQ_INT(c[11].kind, ALTER_ATTACH_PARTITION);
  CHECK_EQ_INT(c[12].kind, ALTER_MODIFY_TTL);
  CHECK_EQ_INT(c[12].ttl.count, 2);
  CHECK_EQ_INT(c[13].kind, ALTER_REMOVE_TTL);
  CHECK_EQ_INT(c[14].kind, ALTER_MODIFY_SETTING);
  CHECK_EQ_INT(c[14].settings.count, 2);
  CHECK_EQ_INT(c[15].kind, ALTER_DELETE);
  CHECK(c[15].where != NULL);
  CHECK_EQ_INT(c[16].kind, ALTER_UPDATE);
  CHECK_EQ_INT(c[16].assignments.count, 2);
  CHECK_EQ_STR(ast_format_name(&A, c[16].assignments.items[0]->u.setting.value), "plus(a, 1)");
  CHECK_EQ_INT(c[17].kind, ALTER_MOVE_PARTITION);
  CHECK(c[17].to_disk);
  CHECK_EQ_STR(c[17].target, "s3");
  CHECK_EQ_INT(c[18].kind, ALTER_MOVE_PART);
  CHECK(!c[18].to_disk);
  CHECK_EQ_STR(c[18].name, "all_1_1_0");
}

static void test_errors(void)
{
  CHECK_ERROR("SELECT 1 FROM system.one WHERE", ERR_SYNTAX_ERROR,
              "Syntax error: failed at position 31 (end of query): . Expected");
  CHECK_ERROR("SELECT 1; SELECT 2", ERR_SYNTAX_ERROR,
              "Syntax error (Multi-statements are not allowed): failed at position 9 (end of query): ; SELECT 2.");
  CHECK_ERROR("SELECT\n 1 +* 2", ERR_SYNTAX_ERROR, "failed at position 14 ('2') (line 2, col 7): 2. Expected one of:");
  CHECK_ERROR("SELECT 1 FROM t WHERE x = 'abc", ERR_SYNTAX_ERROR,
              "failed at position 27 (''abc'): 'abc. Single quoted string is not closed.");
  CHECK_ERROR("SELECT 1a", ERR_SYNTAX_ERROR, "('1a'): 1a. Wrong number.");
  CHECK_ERROR("SELECT 1 /* x", ERR_SYNTAX_ERROR, "Multiline comment is not closed");
  CHECK_ERROR("SELEC 1", ERR_SYNTAX_ERROR, "failed at position 1 ('SELEC'): SELEC 1. Expected one of:");
  CHECK_ERROR("SELECT (1 2)", ERR_SYNTAX_ERROR, "position 11 ('2')");
  CHECK_ERROR("SELECT (1 2)", ERR_SYNTAX_ERROR, "ClosingRoundBracket");
  CHECK_ERROR("SELECT 1 FROM t WHERE", ERR_SYNTAX_ERROR, "Expected expression.");
  CHECK_ERROR("SELECT 1 FROM", ERR_SYNTAX_ERROR, "Expected one of: OpeningRoundBracket, identifier");
  CHECK_ERROR("SELECT * FROM t LIMIT", ERR_SYNTAX_ERROR, "(end of query)");
  CHECK_ERROR("SELECT 1 2", ERR_SYNTAX_ERROR, "failed at position 10 ('2')");
  CHECK_ERROR("SELECT 1 2", ERR_SYNTAX_ERROR, "end of query");
  CHECK_ERROR("", ERR_SYNTAX_ERROR, "failed at position 1 (end of query)");
  CHECK_ERROR("SELECT 1 UNION", ERR_SYNTAX_ERROR, "SELECT");
  CHECK_ERROR("SELECT f(x) OVER (ROWS 1)", ERR_SYNTAX_ERROR, "ROWS");
  CHECK_ERROR("SELECT CASE WHEN 1 THEN 2", ERR_SYNTAX_ERROR, "END");
  CHECK_ERROR("SELECT INTERVAL 1 FORTNIGHT", ERR_SYNTAX_ERROR, "interval unit");
  CHECK_ERROR("SELECT INTERVAL 'x day'", ERR_SYNTAX_ERROR, "interval unit");
  CHECK_ERROR("SELECT CAST(1 AS Array(String)", ERR_SYNTAX_ERROR, "ClosingRoundBracket");
  CHECK_ERROR("SELECT 1 -> 2", ERR_SYNTAX_ERROR, "position 10 ('->')");
  CHECK_ERROR("DROP TABLE", ERR_SYNTAX_ERROR, "identifier");
  CHECK_ERROR("ALTER TABLE t FROB", ERR_SYNTAX_ERROR, "ADD");
  CHECK_ERROR("CREATE TABLE t (x UInt8 DEFAULT 1 DEFAULT 2)", ERR_SYNTAX_ERROR, "DEFAULT 2");
  /* the shown query text is bounded */
  char long_sql[600];
  memset(long_sql, 'x', sizeof long_sql);
  memcpy(long_sql, "SELECT (1 ", 10);
  long_sql[sizeof long_sql - 1] = '\0';
  struct sql_statement *st;
  struct error err = { 0 };
  CHECK_EQ_INT(sql_parse(&A, long_sql, strlen(long_sql), &st, &err), ERR_SYNTAX_ERROR);
  CHECK(strlen(err.message) < 600);
}

static void test_limits(void)
{
  /* 100k nested parentheses: TOO_DEEP_AST, not a crash */
  size_t n = 100000;
  char *sql = malloc(n * 2 + 16);
  REQUIRE(sql);
  strcpy(sql, "SELECT ");
  size_t o = 7;
  for (size_t i = 0; i < n; i++)
    sql[o++] = '(';
  sql[o++] = '1';
  for (size_t i = 0; i < n; i++)
    sql[o++] = ')';
  sql[o] = '\0';
  CHECK_ERROR(sql, ERR_TOO_DEEP_AST, "AST is too deep");
  /* unbalanced too */
  sql[7 + n + 1] = '\0';
  CHECK_ERROR(sql, ERR_TOO_DEEP_AST, NULL);
  /* prefix operator chains */
  o = 7;
  for (size_t i = 0; i < 20000; i++) {
    memcpy(sql + o, "NOT ", 4);
    o += 4;
  }
  strcpy(sql + o, "1");
  CHECK_ERROR(sql, ERR_TOO_DEEP_AST, NULL);
  o = 7;
  for (size_t i = 0; i < 50000; i++) {
    memcpy(sql + o, "- ", 2);
    o += 2;
  }
  strcpy(sql + o, "x");
  CHECK_ERROR(sql, ERR_TOO_DEEP_AST, NULL);
  /* nested arrays and subqueries */
  o = 7;
  for (size_t i = 0; i < 5000; i++)
    sql[o++] = '[';
  sql[o] = '\0';
  CHECK_ERROR(sql, ERR_TOO_DEEP_AST, NULL);
  o = 0;
  for (size_t i = 0; i < 3000; i++) {
    memcpy(sql + o, "SELECT (", 8);
    o += 8;
  }
  sql[o] = '\0';
  CHECK_ERROR(sql, ERR_TOO_DEEP_AST, NULL);
  /* a left-deep chain is deep in the tree though flat in the parser */
  o = 7;
  sql[o++] = '1';
  for (size_t i = 0; i < 2000; i++) {
    memcpy(sql + o, "+1", 2);
    o += 2;
  }
  sql[o] = '\0';
  CHECK_ERROR(sql, ERR_TOO_DEEP_AST, NULL);
  /* BETWEEN shares its operand: a chain must not grow exponentially */
  o = 7;
  sql[o++] = 'x';
  for (size_t i = 0; i < 40; i++) {
    memcpy(sql + o, " NOT BETWEEN 1 AND b", 20);
    o += 20;
  }
  sql[o] = '\0';
  CHECK_ERROR(sql, ERR_TOO_BIG_AST, NULL);
  PARSE_OK("SELECT x BETWEEN 1 AND 2 BETWEEN 0 AND 1 BETWEEN 0 AND 1");
  /* a flat list with too many elements */
  o = 7;
  for (size_t i = 0; i < 60000; i++) {
    memcpy(sql + o, "1,", 2);
    o += 2;
  }
  sql[o - 1] = '\0';
  CHECK_ERROR(sql, ERR_TOO_BIG_AST, "AST is too big");
  /* right at the limit still parses: depth 1000 counts nodes, not parens */
  o = 7;
  for (size_t i = 0; i < 900; i++)
    sql[o++] = '(';
  sql[o++] = '1';
  for (size_t i = 0; i < 900; i++)
    sql[o++] = ')';
  sql[o] = '\0';
  PARSE_OK(sql);
  o = 7;
  for (size_t i = 0; i < 900; i++) {
    memcpy(sql + o, "f(", 2);
    o += 2;
  }
  sql[o++] = '1';
  for (size_t i = 0; i < 900; i++)
    sql[o++] = ')';
  sql[o] = '\0';
  struct sql_statement *st = PARSE_OK(sql);
  if (st) {
    const char *name = ast_format_name(&A, first_select(st)->u.select.columns.items[0]);
    CHECK_EQ_INT(strlen(name), 900 * 3 + 1);
  }
  free(sql);
}

static int count_node(const struct ast *n, uint32_t depth, void *ctx)
{
  (void)n;
  (void)depth;
  (*(int *)ctx)++;
  return 0;
}

static void test_builders_and_walk(void)
{
  struct ast_list l = { NULL, 0 };
  for (int i = 0; i < 100; i++)
    ast_list_push(&A, &l, ast_new(&A, AST_LITERAL, (uint32_t)i, 1));
  CHECK_EQ_INT(l.count, 100);
  for (uint32_t i = 0; i < 100; i++)
    CHECK_EQ_INT(l.items[i]->pos, i);
  struct ast *args[2] = { l.items[0], l.items[1] };
  struct ast *f = ast_function_new(&A, "plus", 0, 5, args, 2);
  CHECK_EQ_STR(ast_format_name(&A, f), "plus(NULL, NULL)"); /* zeroed literals are NULL */
  struct sql_statement *st = PARSE_OK("SELECT a + 1 FROM t WHERE b");
  REQUIRE(st);
  int nodes = 0;
  CHECK_EQ_INT(sql_statement_walk(&A, st, count_node, &nodes), 0);
  /* union, select, plus, a, 1, table expr, b */
  CHECK_EQ_INT(nodes, 7);
}

int main(void)
{
  arena_init(&A, 0);
  test_literal_names();
  test_operator_names();
  test_function_names();
  test_aliases();
  test_select_clauses();
  test_from_and_joins();
  test_unions();
  test_insert();
  test_create();
  test_other_statements();
  test_alter();
  test_errors();
  test_limits();
  test_builders_and_walk();
  arena_destroy(&A);
  TEST_DONE();
}
