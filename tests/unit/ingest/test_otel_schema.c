/* The otel tables' DDL (what the engine creates) and the column layouts the
 * OTLP decoder fills must agree exactly: this parses each CREATE TABLE's
 * column list with a small local scanner (Nested flattened to Array
 * columns) and compares names and parsed types. */
#include <ctype.h>
#include <string.h>

#include "base/datatype.h"
#include "ingest/ingest.h"
#include "tests/unit/test.h"

struct item {
  const char *p;
  size_t n;
};

static struct item trim(const char *p, size_t n)
{
  while (n && isspace((unsigned char)*p))
    p++, n--;
  while (n && isspace((unsigned char)p[n - 1]))
    n--;
  return (struct item){ p, n };
}

/* Top-level comma-separated items of the parenthesised list starting at
 * `open` ('('); returns the count and sets *close to the matching ')'. */
static int split_list(const char *open, struct item *items, int max, const char **close)
{
  int depth = 0, count = 0;
  const char *start = open + 1;
  for (const char *p = open;; p++) {
    REQUIRE(*p);
    if (*p == '\'')
      for (p++; *p && *p != '\''; p++)
        ;
    if (*p == '(') {
      depth++;
    } else if (*p == ')' || (*p == ',' && depth == 1)) {
      if (*p == ')' && --depth > 0)
        continue;
      REQUIRE(count < max);
      items[count++] = trim(start, (size_t)(p - start));
      start = p + 1;
      if (*p == ')') {
        *close = p;
        return count;
      }
    }
  }
}

static bool starts(struct item it, const char *s) { return it.n >= strlen(s) && !memcmp(it.p, s, strlen(s)); }

/* The type text of a column definition: up to its first top-level keyword. */
static struct item type_text(struct item rest)
{
  static const char *const stops[] = { " CODEC(", " DEFAULT ", " MATERIALIZED ", " ALIAS ", " TTL ", " COMMENT " };
  size_t end = rest.n;
  int depth = 0;
  for (size_t i = 0; i < rest.n; i++) {
    if (rest.p[i] == '(')
      depth++;
    else if (rest.p[i] == ')')
      depth--;
    if (depth)
      continue;
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++)
      if (rest.n - i >= strlen(stops[k]) && !memcmp(rest.p + i, stops[k], strlen(stops[k])) && i < end)
        end = i;
  }
  return trim(rest.p, end);
}

static struct arena arena;

static void expect_column(enum otel_table t, uint32_t *idx, const char *name, size_t name_len, const char *type,
                          size_t type_len)
{
  uint32_t i = (*idx)++;
  if (i >= otel_table_column_count(t)) {
    fprintf(stderr, "%s: DDL has extra column %.*s\n", otel_table_name(t), (int)name_len, name);
    test_failures++;
    return;
  }
  const struct otel_column_def *c = &otel_table_columns(t)[i];
  if (strlen(c->name) != name_len || memcmp(c->name, name, name_len)) {
    fprintf(stderr, "%s column %u: DDL %.*s, decoder %s\n", otel_table_name(t), i, (int)name_len, name, c->name);
    test_failures++;
  }
  const struct datatype *ddl_type, *dec_type;
  struct error err;
  REQUIRE(datatype_parse(&arena, type, type_len, &ddl_type, &err) == 0);
  REQUIRE(datatype_parse(&arena, c->type, strlen(c->type), &dec_type, &err) == 0);
  if (!datatype_equal(ddl_type, dec_type)) {
    fprintf(stderr, "%s.%s: DDL type %.*s, decoder %s\n", otel_table_name(t), c->name, (int)type_len, type, c->type);
    test_failures++;
  }
  CHECK(datatype_equal(otel_column_type(t, i), dec_type));
}

static void check_table(enum otel_table t)
{
  const char *ddl = otel_table_ddl(t);
  char head[128];
  snprintf(head, sizeof head, "CREATE TABLE IF NOT EXISTS otel.%s (", otel_table_name(t));
  CHECK(!strncmp(ddl, head, strlen(head)));
  CHECK(strstr(ddl, "PARTITION BY (TenantId, toYYYYMM(") != NULL);
  CHECK(strstr(ddl, "ORDER BY (TenantId, ") != NULL);

  struct item items[64];
  const char *close;
  int n = split_list(strchr(ddl, '('), items, 64, &close);
  uint32_t idx = 0;
  for (int k = 0; k < n; k++) {
    struct item it = items[k];
    if (starts(it, "INDEX "))
      continue;
    size_t name_len = 0;
    while (name_len < it.n && !isspace((unsigned char)it.p[name_len]))
      name_len++;
    struct item rest = trim(it.p + name_len, it.n - name_len);
    if (starts(rest, "Nested")) {
      struct item sub[16];
      const char *sub_close;
      int m = split_list(strchr(rest.p, '('), sub, 16, &sub_close);
      for (int j = 0; j < m; j++) {
        size_t sn = 0;
        while (sn < sub[j].n && !isspace((unsigned char)sub[j].p[sn]))
          sn++;
        struct item st = trim(sub[j].p + sn, sub[j].n - sn);
        char name[128], type[256];
        snprintf(name, sizeof name, "%.*s.%.*s", (int)name_len, it.p, (int)sn, sub[j].p);
        snprintf(type, sizeof type, "Array(%.*s)", (int)st.n, st.p);
        expect_column(t, &idx, name, strlen(name), type, strlen(type));
      }
      continue;
    }
    struct item ty = type_text(rest);
    expect_column(t, &idx, it.p, name_len, ty.p, ty.n);
  }
  CHECK_EQ_INT(idx, otel_table_column_count(t));
  CHECK_EQ_STR(otel_table_columns(t)[0].name, "TenantId");

  struct block *b = otel_block_create(&arena, t, 4);
  CHECK_EQ_INT(b->column_count, otel_table_column_count(t));
  CHECK_EQ_INT(b->rows, 0);
  for (uint32_t i = 0; i < b->column_count; i++) {
    CHECK_EQ_STR(b->names[i], otel_table_columns(t)[i].name);
    CHECK(b->columns[i]->type == otel_column_type(t, i));
  }
}

/* The exporter's INSERT column lists (OTEL_SCHEMA.md §6) are ours minus TenantId. */
static void check_insert_list(enum otel_table t, const char *cols)
{
  const struct otel_column_def *c = otel_table_columns(t);
  uint32_t i = 1;
  for (const char *p = cols; *p;) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    REQUIRE(i < otel_table_column_count(t));
    if (strlen(c[i].name) != n || memcmp(c[i].name, p, n)) {
      fprintf(stderr, "%s insert column %u: exporter %.*s, ours %s\n", otel_table_name(t), i, (int)n, p, c[i].name);
      test_failures++;
    }
    i++;
    p += n;
    while (*p == ',' || *p == ' ')
      p++;
  }
  CHECK_EQ_INT(i, otel_table_column_count(t));
}

int main(void)
{
  arena_init(&arena, 0);
  CHECK_EQ_STR(otel_database_ddl(), "CREATE DATABASE IF NOT EXISTS otel");
  for (int t = 0; t < OTEL_TABLE_COUNT; t++)
    check_table((enum otel_table)t);
  check_insert_list(OTEL_TRACES,
                    "Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, "
                    "ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage, "
                    "Events.Timestamp, Events.Name, Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, "
                    "Links.Attributes");
  check_insert_list(OTEL_LOGS,
                    "Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body, "
                    "ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, "
                    "LogAttributes, EventName");
  CHECK_EQ_STR(otel_table_name(OTEL_METRICS_EXP_HISTOGRAM), "otel_metrics_exp_histogram");
  arena_destroy(&arena);
  TEST_DONE();
}
