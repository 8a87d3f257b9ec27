/* Input formats: round trips (query/format writer → input parser → equal
 * columns) for every format and type, fed whole, byte by byte and in
 * random pieces; header mapping, defaults and omitted marks; every error
 * kind with its row and column; block splitting; Values, JSON variants. */
#include "query/format.h"
#include "query/input.h"
#include "query/settings.h"
#include "tests/unit/test.h"

#include <math.h>

static struct arena arena;

static const struct datatype *T(const char *text)
{
  const struct datatype *t = NULL;
  struct error err;
  if (datatype_parse(&arena, text, strlen(text), &t, &err) != 0) {
    fprintf(stderr, "bad type %s: %s\n", text, err.message);
    exit(1);
  }
  return t;
}

struct schema {
  uint32_t n;
  const char *names[32];
  const struct datatype *types[32];
};

static void schema_add(struct schema *s, const char *name, const char *type)
{
  s->names[s->n] = name;
  s->types[s->n] = T(type);
  s->n++;
}

/* ---- parsing helpers ---- */

enum feed_mode { FEED_WHOLE, FEED_BYTES, FEED_RANDOM, FEED_MODES };

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
  rng = rng * 1103515245u + 12345u;
  return rng >> 8;
}

struct parsed {
  int rc;
  struct error err;
  struct column **cols;      /* all blocks appended */
  uint32_t rows;
  uint32_t blocks;
  uint8_t omitted_any[32];   /* per column: some row marked omitted */
  uint8_t *omitted[32];      /* per column, per row */
};

static void collect(struct input_parser *p, const struct schema *s, struct parsed *r)
{
  struct input_block *b;
  while (input_parser_take_block(p, &b)) {
    r->blocks++;
    for (uint32_t i = 0; i < s->n; i++) {
      REQUIRE(b->block->columns[i]->rows == b->block->rows);
      REQUIRE(strcmp(b->block->names[i], s->names[i]) == 0);
      column_append_range(r->cols[i], b->block->columns[i], 0, b->block->rows);
      r->omitted[i] = arena_realloc(&arena, r->omitted[i], r->rows, r->rows + b->block->rows);
      for (uint32_t k = 0; k < b->block->rows; k++) {
        uint8_t m = b->omitted[i] ? b->omitted[i][k] : 0;
        r->omitted[i][r->rows + k] = m;
        r->omitted_any[i] |= m;
      }
    }
    r->rows += b->block->rows;
    input_block_destroy(b);
  }
}

static struct parsed parse_with(const char *fmt, const struct schema *s, const char *data, size_t len,
                                enum feed_mode mode, const struct input_options *opts)
{
  struct parsed r;
  memset(&r, 0, sizeof r);
  r.cols = arena_new_array(&arena, struct column *, s->n);
  for (uint32_t i = 0; i < s->n; i++)
    r.cols[i] = column_create(&arena, s->types[i], 8);
  struct arena pa;
  arena_init(&pa, 0);
  struct input_parser *p;
  r.rc = input_parser_create(&pa, fmt, s->n, s->names, s->types, opts, &p, &r.err);
  if (r.rc) {
    arena_destroy(&pa);
    return r;
  }
  size_t pos = 0;
  while (pos < len && !r.rc) {
    size_t n = mode == FEED_WHOLE ? len : mode == FEED_BYTES ? 1 : 1 + next_rand() % 97;
    if (n > len - pos)
      n = len - pos;
    /* a private heap copy so any read past the piece is caught by ASan */
    char *piece = malloc(n);
    memcpy(piece, data + pos, n);
    r.rc = input_parser_feed(p, piece, n, &r.err);
    free(piece);
    pos += n;
    collect(p, s, &r);
  }
  if (!r.rc)
    r.rc = input_parser_finish(p, &r.err);
  collect(p, s, &r);
  arena_destroy(&pa);
  return r;
}

static struct parsed parse(const char *fmt, const struct schema *s, const char *data, enum feed_mode mode)
{
  return parse_with(fmt, s, data, strlen(data), mode, NULL);
}

static const char *cell(const struct column *c, uint32_t row)
{
  struct buf b;
  buf_init(&b);
  column_format_value_tz(c, row, NULL, true, &b);
  const char *s = arena_strndup(&arena, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

static bool same_columns(const struct schema *s, struct column **a, struct column **b, uint32_t rows, const char *what)
{
  bool ok = true;
  for (uint32_t i = 0; i < s->n; i++) {
    if (a[i]->rows != rows || b[i]->rows != rows) {
      fprintf(stderr, "%s: column %s rows %u / %u, want %u\n", what, s->names[i], a[i]->rows, b[i]->rows, rows);
      return false;
    }
    for (uint32_t r = 0; r < rows; r++) {
      const char *x = cell(a[i], r), *y = cell(b[i], r);
      if (column_compare_rows(a[i], r, b[i], r, false) != 0 || strcmp(x, y) != 0 ||
          column_is_null(a[i], r) != column_is_null(b[i], r)) {
        fprintf(stderr, "%s: column %s row %u: %s != %s\n", what, s->names[i], r, x, y);
        ok = false;
      }
    }
  }
  return ok;
}

/* ---- writing helpers ---- */

static int sink_write(void *ctx, const char *data, size_t len)
{
  buf_append(ctx, data, len);
  return 0;
}

static void write_format(const char *fmt, const struct schema *s, struct column **cols, uint32_t rows,
                         struct buf *out)
{
  struct format_options fo = { .json_quote_64bit_integers = true, .json_quote_denormals = true,
                               .json_escape_forward_slashes = true, .write_statistics = true,
                               .csv_delimiter = ',', .pretty_max_rows = 10000 };
  struct format_writer *w;
  struct error err;
  struct format_sink sink = { sink_write, out };
  REQUIRE(format_writer_create(&arena, fmt, &fo, s->n, s->names, s->types, sink, &w, &err) == 0);
  struct block *b = block_create(&arena, s->n);
  b->rows = rows;
  for (uint32_t i = 0; i < s->n; i++) {
    b->columns[i] = cols[i];
    b->names[i] = s->names[i];
  }
  REQUIRE(format_writer_begin(w, &err) == 0);
  REQUIRE(format_writer_block(w, b, &err) == 0);
  struct format_summary sum = { .rows = rows };
  REQUIRE(format_writer_end(w, &sum, &err) == 0);
}

/* Source data: parsed from Values (the Values parser is itself checked
 * against exact values in test_scalars). */
static struct parsed source(const struct schema *s, const char *values)
{
  struct parsed r = parse("Values", s, values, FEED_WHOLE);
  if (r.rc) {
    fprintf(stderr, "source: %s\n", r.err.message);
    exit(1);
  }
  return r;
}

static int round_trips;

static void round_trip(const char *fmt, const struct schema *s, const struct parsed *src)
{
  struct buf out;
  buf_init(&out);
  write_format(fmt, s, src->cols, src->rows, &out);
  for (int mode = 0; mode < FEED_MODES; mode++) {
    struct parsed r = parse_with(fmt, s, out.data ? out.data : "", out.len, (enum feed_mode)mode, NULL);
    char what[128];
    snprintf(what, sizeof what, "%s (feed mode %d)", fmt, mode);
    if (r.rc) {
      fprintf(stderr, "%s: error %d: %s\n--- data ---\n%.*s\n", what, r.rc, r.err.message,
              (int)(out.len > 2000 ? 2000 : out.len), out.data);
      test_failures++;
      continue;
    }
    if (!same_columns(s, src->cols, r.cols, src->rows, what)) {
      fprintf(stderr, "--- data ---\n%.*s\n", (int)(out.len > 3000 ? 3000 : out.len), out.data);
      test_failures++;
    }
    round_trips++;
  }
  buf_free(&out);
}

static const char *const all_formats[] = {
  "TabSeparated", "TSVWithNames", "TabSeparatedWithNamesAndTypes", "TSKV", "CSV", "CSVWithNames",
  "CSVWithNamesAndTypes", "Values", "JSON", "JSONStrings", "JSONCompact", "JSONCompactStrings", "JSONEachRow",
  "JSONStringsEachRow", "JSONCompactEachRow", "JSONCompactEachRowWithNames",
  "JSONCompactEachRowWithNamesAndTypes", "JSONCompactStringsEachRow",
  "JSONCompactStringsEachRowWithNamesAndTypes", "RowBinary", "RowBinaryWithNames",
  "RowBinaryWithNamesAndTypes", "Native",
};

static void test_round_trip_scalars(void)
{
  struct schema s = { 0 };
  schema_add(&s, "u8", "UInt8");
  schema_add(&s, "u16", "UInt16");
  schema_add(&s, "u32", "UInt32");
  schema_add(&s, "u64", "UInt64");
  schema_add(&s, "i8", "Int8");
  schema_add(&s, "i16", "Int16");
  schema_add(&s, "i32", "Int32");
  schema_add(&s, "i64", "Int64");
  schema_add(&s, "f32", "Float32");
  schema_add(&s, "f64", "Float64");
  schema_add(&s, "b", "Bool");
  schema_add(&s, "s", "String");
  schema_add(&s, "fs", "FixedString(4)");
  schema_add(&s, "d", "Date");
  schema_add(&s, "dt", "DateTime('UTC')");
  schema_add(&s, "dtz", "DateTime");
  schema_add(&s, "dt64", "DateTime64(3, 'UTC')");
  schema_add(&s, "dt64n", "DateTime64(9, 'Asia/Tokyo')");
  schema_add(&s, "id", "UUID");
  schema_add(&s, "e8", "Enum8('a' = 1, 'b' = -2, 'c d' = 3)");
  schema_add(&s, "e16", "Enum16('x' = 1000, 'y' = -1000)");
  schema_add(&s, "ns", "Nullable(String)");
  schema_add(&s, "nu", "Nullable(UInt32)");
  schema_add(&s, "lc", "LowCardinality(String)");
  schema_add(&s, "lcn", "LowCardinality(Nullable(String))");
  schema_add(&s, "nf", "Nullable(Float64)");
  struct parsed src = source(&s,
    "(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, '', '', '1970-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:00',"
    " '1970-01-01 00:00:00.000', '1970-01-01 09:00:00.000000000', '00000000-0000-0000-0000-000000000000', 'a', 'x',"
    " NULL, NULL, '', NULL, NULL),\n"
    "(255, 65535, 4294967295, 18446744073709551615, -128, -32768, -2147483648, -9223372036854775808, -1.5,"
    " 3.141592653589793, true, 'tab\\there\\nnew\\\\back''quote\"dq,comma;semi', 'ab', '2149-06-06',"
    " '2106-02-07 06:28:15', '2038-01-19 03:14:07', '2262-04-11 23:47:16.854', '2100-01-01 00:00:00.123456789',"
    " '61f0c404-5cb3-11e7-907b-a6006ad3dba0', 'c d', 'y', 'x\\ty', 7, 'lc1', 'lcn1', 1e300)\n"
    ",(1, 2, 3, 4, 127, 32767, 2147483647, 9223372036854775807, inf, nan, true, 'Ünïcödé ✓ \\0 nul', 'abcd',"
    " '2024-02-29', '2024-02-29 12:34:56', '2000-01-01 00:00:00', '1969-12-31 23:59:59.999', '1900-01-01 00:00:00.5',"
    " 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', 'b', 'x', '', 0, 'lc1', NULL, -0.0)"
    " (9, 8, 7, 6, -1, -2, -3, -4, -inf, -0, false, '\\\\N', '\\\\N', '2000-12-31', '2001-09-09 01:46:40',"
    " '2001-09-09 01:46:40', '2001-09-09 01:46:40.001', '2001-09-09 01:46:40.000000001',"
    " '00000000-0000-0000-0000-000000000001', 'a', 'y', '\\\\N', 4294967295, '', '', 2.2250738585072014e-308);");
  CHECK_EQ_INT(src.rows, 4);
  for (size_t i = 0; i < sizeof all_formats / sizeof all_formats[0]; i++)
    round_trip(all_formats[i], &s, &src);
}

static void test_round_trip_composites(void)
{
  struct schema s = { 0 };
  schema_add(&s, "a", "Array(UInt32)");
  schema_add(&s, "as", "Array(String)");
  schema_add(&s, "an", "Array(Nullable(String))");
  schema_add(&s, "aa", "Array(Array(Int32))");
  schema_add(&s, "m", "Map(String, UInt64)");
  schema_add(&s, "ml", "Map(LowCardinality(String), String)");
  schema_add(&s, "mi", "Map(UInt8, Array(Float64))");
  schema_add(&s, "t", "Tuple(UInt32, String)");
  schema_add(&s, "tn", "Tuple(a UInt32, b Nullable(String))");
  schema_add(&s, "al", "Array(LowCardinality(String))");
  schema_add(&s, "ad", "Array(DateTime64(6, 'UTC'))");
  schema_add(&s, "ae", "Array(Enum8('p' = 1, 'q' = 2))");
  schema_add(&s, "au", "Array(UUID)");
  schema_add(&s, "x", "UInt8");
  struct parsed src = source(&s,
    "([], [], [], [], {}, {}, {}, (0, ''), (0, NULL), [], [], [], [], 0),"
    "([1, 2, 4294967295], ['a', 'b\\tc', 'it''s', '\"q\",', '\\\\'], ['x', NULL, ''], [[1, -2], [], [3]],"
    " {'k1': 1, 'k\\t2': 18446744073709551615}, {'lc': 'v', 'lc2': 'w\\nx'}, {1: [1.5, -2], 255: []},"
    " (7, 'seven, \"7\"'), (8, 'eight'), ['l', 'l', 'm'], ['2024-01-01 00:00:00.000001'], ['q', 'p'],"
    " ['61f0c404-5cb3-11e7-907b-a6006ad3dba0'], 255),"
    "([0], [''], [NULL], [[]], {'': 0}, {'': ''}, {0: [nan, inf]}, (1, ''), (1, ''), [''],"
    " ['1969-12-31 23:59:59.999999'],"
    " ['p'], ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'], 1)");
  CHECK_EQ_INT(src.rows, 3);
  for (size_t i = 0; i < sizeof all_formats / sizeof all_formats[0]; i++)
    round_trip(all_formats[i], &s, &src);
}

static void test_round_trip_raw(void)
{
  struct schema s = { 0 };
  schema_add(&s, "s", "String");
  schema_add(&s, "n", "Nullable(Int64)");
  schema_add(&s, "a", "Array(String)");
  struct parsed src = source(&s, "('plain text', 1, ['x']), ('back\\\\slash \"q\"', NULL, []), ('', -5, ['a\\tb'])");
  round_trip("TabSeparatedRaw", &s, &src);
  round_trip("TSVRawWithNames", &s, &src);
  round_trip("TabSeparatedRawWithNamesAndTypes", &s, &src);
}

/* ---- exact values ---- */

static void test_scalars(void)
{
  struct schema s = { 0 };
  schema_add(&s, "i", "Int32");
  schema_add(&s, "f", "Float64");
  schema_add(&s, "s", "String");
  schema_add(&s, "d", "Date");
  schema_add(&s, "dt", "DateTime('UTC')");
  schema_add(&s, "t64", "DateTime64(3, 'UTC')");
  schema_add(&s, "u", "UUID");
  schema_add(&s, "e", "Enum8('a' = 1, 'b' = 2)");
  schema_add(&s, "b", "Bool");
  const char *tsv =
    "-42\t1.25e2\ta\\tb\\nc\\\\d\\'e\\x41\\%\t2024-03-01\t2024-03-01 10:20:30\t2024-03-01 10:20:30.5\t"
    "61f0c404-5cb3-11e7-907b-a6006ad3dba0\tb\ttrue\n"
    "+7\t-inf\t\t20240302\t1700000000\t1700000000.25\t61f0c4045cb311e7907ba6006ad3dba0\t1\tNo\n";
  for (int mode = 0; mode < FEED_MODES; mode++) {
    struct parsed r = parse("TSV", &s, tsv, (enum feed_mode)mode);
    REQUIRE(r.rc == 0);
    CHECK_EQ_INT(r.rows, 2);
    CHECK_EQ_INT(column_get_i64(r.cols[0], 0), -42);
    CHECK_EQ_INT(column_get_i64(r.cols[0], 1), 7);
    CHECK(column_get_f64(r.cols[1], 0) == 125.0);
    CHECK(isinf(column_get_f64(r.cols[1], 1)) && column_get_f64(r.cols[1], 1) < 0);
    struct slice v = column_get_bytes(r.cols[2], 0);
    CHECK_EQ_MEM(v.ptr, v.len, "a\tb\nc\\d'eA\\%");
    CHECK_EQ_INT(column_get_bytes(r.cols[2], 1).len, 0);
    CHECK_EQ_STR(cell(r.cols[3], 0), "'2024-03-01'");
    CHECK_EQ_STR(cell(r.cols[3], 1), "'2024-03-02'");
    CHECK_EQ_INT(column_get_u64(r.cols[4], 0), 1709288430);
    CHECK_EQ_INT(column_get_u64(r.cols[4], 1), 1700000000);
    CHECK_EQ_INT(column_get_i64(r.cols[5], 0), 1709288430500LL);
    CHECK_EQ_INT(column_get_i64(r.cols[5], 1), 1700000000250LL);
    CHECK_EQ_STR(cell(r.cols[6], 0), "'61f0c404-5cb3-11e7-907b-a6006ad3dba0'");
    CHECK_EQ_STR(cell(r.cols[6], 1), "'61f0c404-5cb3-11e7-907b-a6006ad3dba0'");
    CHECK_EQ_INT(column_get_i64(r.cols[7], 0), 2);
    CHECK_EQ_INT(column_get_i64(r.cols[7], 1), 1);
    CHECK_EQ_INT(column_get_u64(r.cols[8], 0), 1);
    CHECK_EQ_INT(column_get_u64(r.cols[8], 1), 0);
  }
  /* Values: numbers as ticks / seconds, quoted numbers, NULL as default. */
  struct schema v = { 0 };
  schema_add(&v, "t64", "DateTime64(3, 'UTC')");
  schema_add(&v, "t64s", "DateTime64(3, 'UTC')");
  schema_add(&v, "n", "UInt16");
  schema_add(&v, "z", "UInt16");
  schema_add(&v, "s", "String");
  struct parsed r = parse("Values", &v, "(1546300800123, 1546300800.5, '17', NULL, 12.5)", FEED_WHOLE);
  REQUIRE(r.rc == 0);
  CHECK_EQ_INT(column_get_i64(r.cols[0], 0), 1546300800123LL);
  CHECK_EQ_INT(column_get_i64(r.cols[1], 0), 1546300800500LL);
  CHECK_EQ_INT(column_get_u64(r.cols[2], 0), 17);
  CHECK_EQ_INT(column_get_u64(r.cols[3], 0), 0);
  CHECK(r.omitted_any[3]);
  CHECK_EQ_STR(cell(r.cols[4], 0), "'12.5'");
}

static void test_datetime_zone(void)
{
  struct schema s = { 0 };
  schema_add(&s, "dt", "DateTime('Asia/Tokyo')");
  schema_add(&s, "def", "DateTime");
  struct input_options o;
  input_options_init(&o);
  o.timezone = "UTC";
  const char *csv = "\"2024-01-01 09:00:00\",2024-01-01 00:00:00\n";
  struct parsed r = parse_with("CSV", &s, csv, strlen(csv), FEED_BYTES, &o);
  REQUIRE(r.rc == 0);
  if (timezone_get("Asia/Tokyo"))
    CHECK_EQ_INT(column_get_u64(r.cols[0], 0), 1704067200);
  CHECK_EQ_INT(column_get_u64(r.cols[1], 0), 1704067200);
  /* best effort: ISO 8601 with fraction and offset */
  o.datetime_best_effort = true;
  struct schema s2 = { 0 };
  schema_add(&s2, "t", "DateTime64(3, 'UTC')");
  const char *iso = "{\"t\":\"2024-01-01T01:00:00.250+01:00\"}";
  r = parse_with("JSONEachRow", &s2, iso, strlen(iso), FEED_WHOLE, &o);
  if (r.rc)
    fprintf(stderr, "best effort: %s\n", r.err.message);
  REQUIRE(r.rc == 0);
  CHECK_EQ_INT(column_get_i64(r.cols[0], 0), 1704067200250LL);
}

/* ---- headers, defaults, omitted ---- */

static void test_headers(void)
{
  struct schema s = { 0 };
  schema_add(&s, "a", "UInt32");
  schema_add(&s, "b", "String");
  schema_add(&s, "c", "Nullable(Int8)");
  for (int mode = 0; mode < FEED_MODES; mode++) {
    struct parsed r = parse("TSVWithNames", &s, "b\tzz\ta\nx\t?\t1\ny\t?\t2\n", (enum feed_mode)mode);
    REQUIRE(r.rc == 0);
    CHECK_EQ_INT(r.rows, 2);
    CHECK_EQ_INT(column_get_u64(r.cols[0], 1), 2);
    CHECK_EQ_STR(cell(r.cols[1], 0), "'x'");
    CHECK(column_is_null(r.cols[2], 0));
    CHECK(r.omitted_any[2] && r.omitted[2][0] && r.omitted[2][1]);
    CHECK(!r.omitted_any[0] && !r.omitted_any[1]);
  }
  struct input_options o;
  input_options_init(&o);
  o.skip_unknown_fields = false;
  const char *d = "b,zz,a\n\"x\",1,2\n";
  struct parsed r = parse_with("CSVWithNames", &s, d, strlen(d), FEED_WHOLE, &o);
  CHECK_EQ_INT(r.rc, ERR_INCORRECT_DATA);
  CHECK(strstr(r.err.message, "Unknown field found in CSV header: 'zz' at position 1") != NULL);
  CHECK(strstr(r.err.message, "(while reading header)") != NULL);
  r = parse("CSVWithNames", &s, "a,a\n1,2\n", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_INCORRECT_DATA);
  CHECK(strstr(r.err.message, "Duplicate field") != NULL);
  r = parse("CSVWithNamesAndTypes", &s, "a,b\nUInt32,UInt8\n1,x\n", FEED_BYTES);
  CHECK_EQ_INT(r.rc, ERR_INCORRECT_DATA);
  CHECK(strstr(r.err.message, "Type of 'b' must be String, not UInt8") != NULL);
  r = parse("TSVWithNamesAndTypes", &s, "c\ta\nNullable(Int8)\tUInt32\n-1\t5\n", FEED_RANDOM);
  REQUIRE(r.rc == 0);
  CHECK_EQ_INT(column_get_i64(r.cols[2], 0), -1);
  CHECK_EQ_INT(column_get_u64(r.cols[0], 0), 5);
  CHECK(r.omitted_any[1]);
  /* with_names_use_header = 0: positional */
  o.skip_unknown_fields = true;
  o.with_names_use_header = false;
  const char *pos = "x\ty\tz\n1\tq\t\\N\n";
  r = parse_with("TSVWithNames", &s, pos, strlen(pos), FEED_WHOLE, &o);
  REQUIRE(r.rc == 0);
  CHECK_EQ_INT(column_get_u64(r.cols[0], 0), 1);
  /* RowBinaryWithNames: mapped by name, missing column defaulted */
  const char rb[] = "\x02\x01" "b" "\x01" "a" "\x02hi" "\x05\x00\x00\x00";
  r = parse_with("RowBinaryWithNames", &s, rb, sizeof rb - 1, FEED_BYTES, NULL);
  REQUIRE(r.rc == 0);
  CHECK_EQ_INT(column_get_u64(r.cols[0], 0), 5);
  CHECK_EQ_STR(cell(r.cols[1], 0), "'hi'");
  CHECK(column_is_null(r.cols[2], 0) && r.omitted_any[2]);
}

static void test_json_each_row(void)
{
  struct schema s = { 0 };
  schema_add(&s, "id", "UInt64");
  schema_add(&s, "name", "String");
  schema_add(&s, "tags", "Array(String)");
  schema_add(&s, "attrs", "Map(String, String)");
  schema_add(&s, "ok", "Bool");
  schema_add(&s, "n", "Nullable(Float32)");
  schema_add(&s, "pt", "Tuple(x Int32, y Int32)");
  const char *data =
    "\xEF\xBB\xBF[ {\"id\": \"1\", \"name\": \"a\\u00e9\\ud83d\\ude00\\/\", \"tags\": [\"t1\", \"t2\"],"
    " \"attrs\": {\"k\": \"v\"}, \"ok\": true, \"n\": null, \"pt\": {\"y\": 2, \"x\": 1}},\n"
    "{\"name\": {\"nested\": [1, {\"a\": \"]}\"}]}, \"extra\": [1, 2, {\"z\": null}], \"id\": 2, \"ok\": 0,"
    " \"n\": \"1.5\", \"pt\": [3, 4]}\n"
    " ,{\"id\": 3, \"name\": 12.5, \"ok\": \"false\"} ]";
  for (int mode = 0; mode < FEED_MODES; mode++) {
    struct parsed r = parse("JSONEachRow", &s, data, (enum feed_mode)mode);
    if (r.rc)
      fprintf(stderr, "json: %s\n", r.err.message);
    REQUIRE(r.rc == 0);
    CHECK_EQ_INT(r.rows, 3);
    CHECK_EQ_STR(cell(r.cols[1], 0), "'a\xC3\xA9\xF0\x9F\x98\x80/'");
    CHECK_EQ_STR(cell(r.cols[1], 1), "'{\"nested\": [1, {\"a\": \"]}\"}]}'");
    CHECK_EQ_STR(cell(r.cols[1], 2), "'12.5'");
    CHECK_EQ_STR(cell(r.cols[2], 0), "['t1','t2']");
    CHECK_EQ_STR(cell(r.cols[3], 0), "{'k':'v'}");
    CHECK_EQ_STR(cell(r.cols[3], 1), "{}");
    CHECK(r.omitted[2][1] && r.omitted[3][1] && !r.omitted[0][1]);
    CHECK_EQ_INT(column_get_u64(r.cols[4], 0), 1);
    CHECK_EQ_INT(column_get_u64(r.cols[4], 1), 0);
    CHECK(column_is_null(r.cols[5], 0));
    CHECK(column_get_f64(r.cols[5], 1) == 1.5);
    CHECK_EQ_STR(cell(r.cols[6], 0), "(1,2)");
    CHECK_EQ_STR(cell(r.cols[6], 1), "(3,4)");
    CHECK_EQ_STR(cell(r.cols[6], 2), "(0,0)");
  }
  /* newline-separated, ';' ends the data */
  struct parsed r = parse("JSONEachRow", &s, "{\"id\":1}\n{\"id\":2}{\"id\":3};\n  ", FEED_BYTES);
  REQUIRE(r.rc == 0);
  CHECK_EQ_INT(r.rows, 3);
  r = parse("JSONEachRow", &s, "{\"id\":1}\n{\"id\":2};x", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
  /* unknown and duplicate keys */
  struct input_options o;
  input_options_init(&o);
  o.skip_unknown_fields = false;
  const char *u = "{\"id\":1}\n{\"id\":2,\"bogus\":1}\n";
  r = parse_with("JSONEachRow", &s, u, strlen(u), FEED_WHOLE, &o);
  CHECK_EQ_INT(r.rc, ERR_INCORRECT_DATA);
  CHECK(strstr(r.err.message, "Unknown field found while parsing JSONEachRow format: bogus: (at row 2)") != NULL);
  r = parse("JSONEachRow", &s, "{\"id\":1,\"id\":2}", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_INCORRECT_DATA);
  CHECK(strstr(r.err.message, "Duplicate field found while parsing JSONEachRow format: id") != NULL);
  r = parse("JSONEachRow", &s, "{\"id\":1}\n{\"id\":-1}\n", FEED_BYTES);
  CHECK_EQ_INT(r.rc, ERR_CANNOT_PARSE_NUMBER);
  CHECK(strstr(r.err.message, "(while reading the value of key id): (at row 2)") != NULL);
  r = parse("JSONEachRow", &s, "{\"id\":1", FEED_BYTES);
  CHECK_EQ_INT(r.rc, ERR_CANNOT_READ_ALL_DATA);
  r = parse("JSONEachRow", &s, "{\"id\":1.5}", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
  CHECK(strstr(r.err.message, "expected ','") != NULL);
  /* JSONCompactEachRow + header */
  r = parse("JSONCompactEachRowWithNames", &s, "[\"ok\", \"id\"]\n[true, 5]\n[false, \"6\"]\n", FEED_BYTES);
  REQUIRE(r.rc == 0);
  CHECK_EQ_INT(column_get_u64(r.cols[0], 1), 6);
  CHECK(r.omitted_any[1]);
  r = parse("JSONCompactEachRow", &s, "[1, \"a\", [], {}, true, 1]\n", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
}

static void test_json_document(void)
{
  struct schema s = { 0 };
  schema_add(&s, "a", "UInt8");
  schema_add(&s, "b", "String");
  const char *doc = "{\"meta\": [{\"name\": \"b\", \"type\": \"String\"}, {\"name\": \"a\", \"type\": \"UInt8\"}],"
                    " \"data\": [[\"x\", 1], [\"y\", 2]], \"rows\": 2, \"statistics\": {\"elapsed\": 0.1}}\n";
  for (int mode = 0; mode < FEED_MODES; mode++) {
    struct parsed r = parse("JSONCompact", &s, doc, (enum feed_mode)mode);
    REQUIRE(r.rc == 0);
    CHECK_EQ_INT(r.rows, 2);
    CHECK_EQ_INT(column_get_u64(r.cols[0], 1), 2);
    CHECK_EQ_STR(cell(r.cols[1], 0), "'x'");
  }
  struct parsed r = parse("JSON", &s, "{\"data\": []}", FEED_BYTES);
  CHECK(r.rc == 0 && r.rows == 0);
  r = parse("JSON", &s, "{\"rows\": 0}", FEED_BYTES);
  CHECK(r.rc == 0 && r.rows == 0);
  r = parse("JSON", &s, "{\"meta\": [{\"name\": \"a\", \"type\": \"String\"}], \"data\": []}", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_INCORRECT_DATA);
}

/* ---- errors ---- */

static void check_error_n(const char *fmt, const struct schema *s, const char *data, size_t len, int code,
                          const char *const *parts)
{
  for (int mode = 0; mode < FEED_MODES; mode++) {
    struct parsed r = parse_with(fmt, s, data, len, (enum feed_mode)mode, NULL);
    if (r.rc != code) {
      fprintf(stderr, "%s %s mode %d: code %d (%s), want %d\n", fmt, data, mode, r.rc, r.err.message, code);
      test_failures++;
      continue;
    }
    for (const char *const *p = parts; *p; p++)
      if (!strstr(r.err.message, *p)) {
        fprintf(stderr, "%s mode %d: message lacks \"%s\":\n%s\n", fmt, mode, *p, r.err.message);
        test_failures++;
      }
  }
}

static void check_error(const char *fmt, const struct schema *s, const char *data, int code, const char *const *parts)
{
  check_error_n(fmt, s, data, strlen(data), code, parts);
}

#define PARTS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define BIN(s) s, sizeof s - 1

static void test_errors(void)
{
  struct schema s = { 0 };
  schema_add(&s, "id", "UInt32");
  schema_add(&s, "x", "UInt32");
  check_error("TSV", &s, "1\t2\n3\t4\n5\tabc\n", ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED,
              PARTS("Cannot parse input: expected '\\n' before: 'abc\\n': (at row 3)\n", "Row 3:\n",
                    "Column 0,   name: id, type: UInt32, parsed text: \"5\"\n",
                    "Column 1,   name: x,  type: UInt32, ERROR: text \"abc<LINE FEED>\" is not like UInt32"));
  check_error("TSV", &s, "1\t2\n7x\t4\n", ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED,
              PARTS("Cannot parse input: expected '\\t' before: 'x\\t4\\n': (at row 2)",
                    "parsed text: \"7\"\nERROR: garbage after UInt32: \"x<TAB>4<LINE FEED>\""));
  check_error("TSV", &s, "1\n", ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED,
              PARTS("expected '\\t' before: '\\n'", "ERROR: Line feed found where tab is expected"));
  check_error("TSV", &s, "1\t2\t3\n", ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED,
              PARTS("expected '\\n' before: '\\t3\\n'", "ERROR: Tab found where line feed is expected"));
  check_error("TSV", &s, "1\t2", 0, PARTS(""));
  check_error("TSV", &s, "1\t300000000000\n", ERR_VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE,
              PARTS("Value 300000000000 is out of range of UInt32: (at row 1)",
                    "Column 1,   name: x,  type: UInt32, parsed text: \"300000000000\"ERROR"));
  check_error("TSV", &s, "1\t-3\n", ERR_CANNOT_PARSE_NUMBER, PARTS("Unsigned type must not contain '-' symbol"));
  check_error("CSV", &s, "1,2\n+,3\n", ERR_CANNOT_PARSE_NUMBER,
              PARTS("Cannot parse number without any digits: (at row 2)", "name: id"));
  check_error("CSV", &s, "1;2\n", ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED,
              PARTS("expected ','", "(at row 1)", "name: id"));
  check_error("CSV", &s, "1,\"2\n", ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, PARTS("at end of stream"));
  check_error("TSV", &s, "1\t\\N\n", 0, PARTS(""));

  struct schema d = { 0 };
  schema_add(&d, "k", "UInt8");
  schema_add(&d, "d", "Date");
  schema_add(&d, "t", "DateTime");
  check_error("TSV", &d, "1\t2024-13-01\t2024-01-01 00:00:00\n", ERR_CANNOT_PARSE_DATE,
              PARTS("Cannot parse date here: '2024-13-01': (at row 1)",
                    "name: d, type: Date,     parsed text: \"2024-13-01\"ERROR: Date must be in YYYY-MM-DD format."));
  check_error("TSV", &d, "1\t2024-01-01\t2024-01-01 25:00:00\n", ERR_CANNOT_PARSE_DATETIME,
              PARTS("Cannot parse DateTime here", "(at row 1)", "name: t", "ERROR: DateTime must be in"));
  check_error("TSV", &d, "1\t2024-01-01\tnope\n", ERR_CANNOT_PARSE_DATETIME, PARTS("(at row 1)"));

  struct schema m = { 0 };
  schema_add(&m, "u", "UUID");
  schema_add(&m, "e", "Enum8('a' = 1)");
  schema_add(&m, "b", "Bool");
  schema_add(&m, "f", "FixedString(2)");
  schema_add(&m, "s", "String");
  check_error("TSV", &m, "61f0c404-5cb3-11e7-907b-a6006ad3dbaZ\ta\ttrue\tab\ts\n", ERR_CANNOT_PARSE_UUID,
              PARTS("Cannot parse uuid", "name: u"));
  check_error("TSV", &m, "61f0c404-5cb3-11e7-907b-a6006ad3dba0\tz\ttrue\tab\ts\n", ERR_UNKNOWN_ELEMENT_OF_ENUM,
              PARTS("Unknown element 'z' for enum Enum8('a' = 1)", "name: e"));
  check_error("TSV", &m, "61f0c404-5cb3-11e7-907b-a6006ad3dba0\ta\tmaybe\tab\ts\n", ERR_CANNOT_PARSE_BOOL,
              PARTS("Cannot parse boolean value here: 'maybe", "name: b"));
  check_error("TSV", &m, "61f0c404-5cb3-11e7-907b-a6006ad3dba0\ta\ttrue\tabc\ts\n", ERR_TOO_LARGE_STRING_SIZE,
              PARTS("Too large value for FixedString(2)", "name: f"));
  check_error("TSV", &m, "61f0c404-5cb3-11e7-907b-a6006ad3dba0\ta\ttrue\tab\ts\\", ERR_CANNOT_PARSE_ESCAPE_SEQUENCE,
              PARTS("Cannot parse escape sequence"));
  check_error("Values", &m, "('61f0c404-5cb3-11e7-907b-a6006ad3dba0', 'a', true, 'ab', 'unterminated)",
              ERR_CANNOT_PARSE_QUOTED_STRING, PARTS("Cannot parse quoted string"));

  struct schema r = { 0 };
  schema_add(&r, "a", "UInt32");
  schema_add(&r, "s", "String");
  check_error_n("RowBinary", &r, BIN("\x01\x00\x00\x00\x01x\x02\x00"), ERR_CANNOT_READ_ALL_DATA,
              PARTS("Cannot read all data. Bytes read: 2. Bytes expected: 4.", "(at row 2)", "column a"));
  check_error_n("RowBinary", &r, BIN("\x01\x00\x00\x00"), ERR_ATTEMPT_TO_READ_AFTER_EOF,
              PARTS("Attempt to read after eof", "(at row 1)", "column s"));
  check_error_n("RowBinary", &r, BIN("\x01\x00\x00\x00\xff\xff\xff\xff\x0f"), ERR_TOO_LARGE_STRING_SIZE,
              PARTS("Too large string size: 4294967295"));

  /* NULL into a non-Nullable column without null_as_default */
  struct input_options o;
  input_options_init(&o);
  o.null_as_default = false;
  const char *nn = "1\ta\n\\N\tb\n";
  struct parsed p = parse_with("TSV", &r, nn, strlen(nn), FEED_WHOLE, &o);
  CHECK_EQ_INT(p.rc, ERR_INCORRECT_DATA);
  CHECK(strstr(p.err.message, "Unexpected NULL value of not Nullable type UInt32: (at row 2)") != NULL);
  p = parse_with("JSONEachRow", &r, "{\"s\": null}", 12, FEED_WHOLE, &o);
  CHECK_EQ_INT(p.rc, ERR_INCORRECT_DATA);

  /* formats */
  struct arena a;
  arena_init(&a, 0);
  struct input_parser *ip;
  struct error err;
  CHECK_EQ_INT(input_parser_create(&a, "Nope", r.n, r.names, r.types, NULL, &ip, &err), ERR_UNKNOWN_FORMAT);
  CHECK_EQ_STR(err.message, "Unknown format Nope");
  CHECK_EQ_INT(input_parser_create(&a, "PrettyCompact", r.n, r.names, r.types, NULL, &ip, &err),
               ERR_FORMAT_IS_NOT_SUITABLE_FOR_INPUT);
  CHECK(input_format_is_known("JSONLines") && !input_format_is_known("Vertical"));
  /* the error is sticky */
  REQUIRE(input_parser_create(&a, "TSV", r.n, r.names, r.types, NULL, &ip, &err) == 0);
  CHECK_EQ_INT(input_parser_feed(ip, "x\n", 2, &err), ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
  CHECK_EQ_INT(input_parser_feed(ip, "1\tb\n", 4, &err), ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
  CHECK_EQ_INT(input_parser_finish(ip, &err), ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
  CHECK(strstr(err.message, "(at row 1)") != NULL);
  arena_destroy(&a);
}

static void test_values(void)
{
  struct schema s = { 0 };
  schema_add(&s, "a", "Int64");
  schema_add(&s, "b", "String");
  schema_add(&s, "c", "Array(UInt8)");
  schema_add(&s, "d", "Nullable(Float64)");
  for (int mode = 0; mode < FEED_MODES; mode++) {
    struct parsed r = parse("Values", &s,
                            "  (1, 'a', [1,2], NULL), (-2,'b''c',[ ] , 1e3)\n,\t( 3 , 'x' , [3] , -inf ) ;  ",
                            (enum feed_mode)mode);
    REQUIRE(r.rc == 0);
    CHECK_EQ_INT(r.rows, 3);
    CHECK_EQ_STR(cell(r.cols[1], 1), "'b\\'c'");
    CHECK_EQ_STR(cell(r.cols[2], 0), "[1,2]");
    CHECK(column_get_f64(r.cols[3], 1) == 1000);
  }
  struct parsed r = parse("Values", &s, "(1, now(), [], NULL)", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_NOT_IMPLEMENTED);
  CHECK(strstr(r.err.message, "now()") != NULL);
  r = parse("Values", &s, "(1, 'a', [], 1 + 2)", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_NOT_IMPLEMENTED);
  r = parse("Values", &s, "(1, 'a', [])", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
  r = parse("Values", &s, "(1, 'a', [], 2, 3)", FEED_WHOLE);
  CHECK(r.rc != 0);
  r = parse("Values", &s, "(1, 'a', [256], 2)", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE);
  r = parse("Values", &s, "(1, 'a', [1 2], 2)", FEED_WHOLE);
  CHECK_EQ_INT(r.rc, ERR_CANNOT_READ_ARRAY_FROM_TEXT);
  r = parse("Values", &s, "", FEED_WHOLE);
  CHECK(r.rc == 0 && r.rows == 0);
}

static void test_blocks_and_skip(void)
{
  struct schema s = { 0 };
  schema_add(&s, "n", "UInt32");
  schema_add(&s, "s", "LowCardinality(String)");
  struct buf data;
  buf_init(&data);
  for (int i = 0; i < 1000; i++)
    buf_printf(&data, "%d\tv%d\n", i, i % 7);
  struct input_options o;
  input_options_init(&o);
  o.block_rows_max = 64;
  struct parsed r = parse_with("TSV", &s, data.data, data.len, FEED_RANDOM, &o);
  REQUIRE(r.rc == 0);
  CHECK_EQ_INT(r.rows, 1000);
  CHECK(r.blocks >= 1000 / 64);
  for (uint32_t i = 0; i < 1000; i++)
    if (column_get_u64(r.cols[0], i) != i) {
      CHECK(0);
      break;
    }
  o.block_rows_max = 0;
  o.block_bytes_max = 100;
  r = parse_with("TSV", &s, data.data, data.len, FEED_WHOLE, &o);
  CHECK(r.rc == 0 && r.blocks > 50);
  /* allow_errors_num: bad rows are skipped, up to the limit */
  const char *bad = "1\ta\nx\tb\n3\tc\ny\td\n";
  o.block_bytes_max = 0;
  o.allow_errors_num = 2;
  r = parse_with("TSV", &s, bad, strlen(bad), FEED_BYTES, &o);
  CHECK(r.rc == 0 && r.rows == 2);
  o.allow_errors_num = 1;
  r = parse_with("TSV", &s, bad, strlen(bad), FEED_BYTES, &o);
  CHECK_EQ_INT(r.rc, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
  CHECK(strstr(r.err.message, "(Already have 2 errors out of 4 rows") != NULL);
  buf_free(&data);
}

static void test_csv_variants(void)
{
  struct schema s = { 0 };
  schema_add(&s, "a", "Int32");
  schema_add(&s, "b", "String");
  schema_add(&s, "c", "Nullable(UInt8)");
  schema_add(&s, "t", "Tuple(UInt8, String)");
  const char *data = "1,\"x\"\"y\",\\N,2,\"z\"\r\n  2 , plain text , ,3,w\n,\"\",7,4,''\n";
  for (int mode = 0; mode < FEED_MODES; mode++) {
    struct parsed r = parse("CSV", &s, data, (enum feed_mode)mode);
    if (r.rc)
      fprintf(stderr, "csv: %s\n", r.err.message);
    REQUIRE(r.rc == 0);
    CHECK_EQ_INT(r.rows, 3);
    CHECK_EQ_STR(cell(r.cols[1], 0), "'x\"y'");
    CHECK_EQ_STR(cell(r.cols[1], 1), "'plain text'");
    CHECK(column_is_null(r.cols[2], 0) && column_is_null(r.cols[2], 1));
    CHECK_EQ_INT(column_get_i64(r.cols[0], 2), 0);
    CHECK(r.omitted[0][2] && !r.omitted[0][1]);
    CHECK_EQ_STR(cell(r.cols[3], 2), "(4,'\\'\\'')");
  }
  struct input_options o;
  input_options_init(&o);
  o.csv_delimiter = '|';
  o.csv_allow_single_quotes = true;
  const char *piped = "5|'q|r'|1|2|s\n";
  struct parsed r = parse_with("CSV", &s, piped, strlen(piped), FEED_BYTES, &o);
  REQUIRE(r.rc == 0);
  CHECK_EQ_STR(cell(r.cols[1], 0), "'q|r'");
}

static void test_native_conversions(void)
{
  /* A Native block whose types differ from the table's: converted. */
  struct schema src = { 0 };
  schema_add(&src, "a", "UInt8");
  schema_add(&src, "b", "Nullable(String)");
  schema_add(&src, "c", "String");
  struct parsed in = source(&src, "(1, 'x', 'k'), (2, NULL, 'k'), (3, 'z', 'j')");
  struct buf out;
  buf_init(&out);
  write_format("Native", &src, in.cols, in.rows, &out);
  struct schema dst = { 0 };
  schema_add(&dst, "c", "LowCardinality(String)");
  schema_add(&dst, "a", "Int64");
  schema_add(&dst, "b", "String");
  schema_add(&dst, "z", "Float32");
  struct parsed r = parse_with("Native", &dst, out.data, out.len, FEED_BYTES, NULL);
  REQUIRE(r.rc == 0);
  CHECK_EQ_INT(r.rows, 3);
  CHECK_EQ_INT(column_get_i64(r.cols[1], 2), 3);
  CHECK_EQ_STR(cell(r.cols[0], 1), "'k'");
  CHECK_EQ_STR(cell(r.cols[2], 1), "''");
  CHECK(r.omitted_any[3]);
  struct schema bad = { 0 };
  schema_add(&bad, "a", "Date");
  schema_add(&bad, "b", "UInt8");
  r = parse_with("Native", &bad, out.data, out.len, FEED_WHOLE, NULL);
  CHECK_EQ_INT(r.rc, ERR_TYPE_MISMATCH);
  buf_free(&out);
}

static void test_options_from_settings(void)
{
  struct settings *st = settings_create(&arena);
  struct error err;
  REQUIRE(settings_set(st, "format_csv_delimiter", ";", &err) == 0);
  REQUIRE(settings_set(st, "input_format_skip_unknown_fields", "0", &err) == 0);
  REQUIRE(settings_set(st, "date_time_input_format", "best_effort", &err) == 0);
  struct input_options o;
  input_options_from_settings(&o, st);
  CHECK_EQ_INT(o.csv_delimiter, ';');
  CHECK(!o.skip_unknown_fields && o.null_as_default && o.datetime_best_effort);
  CHECK_EQ_INT(o.block_rows_max, 65536);
}

int main(void)
{
  arena_init(&arena, 0);
  timezone_set_default("UTC");
  test_scalars();
  test_datetime_zone();
  test_round_trip_scalars();
  test_round_trip_composites();
  test_round_trip_raw();
  test_headers();
  test_json_each_row();
  test_json_document();
  test_errors();
  test_values();
  test_blocks_and_skip();
  test_csv_variants();
  test_native_conversions();
  test_options_from_settings();
  fprintf(stderr, "%d round trips\n", round_trips);
  arena_destroy(&arena);
  TEST_DONE();
}
