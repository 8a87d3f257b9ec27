/* Output formats: exact bytes for small blocks with tricky strings, NULLs,
 * 64-bit integers, floats, dates, arrays and tuples. Expected outputs were
 * checked against ClickHouse 18.16 over HTTP (same values, same formats). */
#include "query/format.h"
#include "tests/unit/test.h"

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

/* ---- capture sink ---- */

struct capture {
  struct buf data;
  int writes;
  int fail_after;  /* >0: the n-th write fails */
};

static int capture_write(void *ctx, const char *data, size_t len)
{
  struct capture *c = ctx;
  c->writes++;
  if (c->fail_after && c->writes >= c->fail_after)
    return ERR_NETWORK_ERROR;
  buf_append(&c->data, data, len);
  return 0;
}

static struct format_options default_options(void)
{
  return (struct format_options){
    .json_quote_64bit_integers = true,
    .json_quote_denormals = false,
    .json_escape_forward_slashes = true,
    .write_statistics = true,
    .csv_delimiter = ',',
    .pretty_max_rows = 10000,
    .timezone = "UTC",
    .pretty_color = 1,
  };
}

/* WITH TOTALS: when set, run_format passes it to format_writer_totals. */
static struct block *run_totals;

/* Runs a writer over the blocks; returns the captured bytes (arena). */
static const char *run_format(const char *format, const struct format_options *opts, struct block **blocks,
                              int nblocks, const struct format_summary *summary, size_t *len)
{
  struct capture cap = { 0 };
  buf_init(&cap.data);
  struct format_writer *w;
  struct error err = { 0 };
  const struct block *b0 = blocks[0];
  const struct datatype **types = arena_new_array(&arena, const struct datatype *, b0->column_count);
  for (uint32_t i = 0; i < b0->column_count; i++)
    types[i] = b0->columns[i]->type;
  struct format_summary none = { 0 };
  int rc = format_writer_create(&arena, format, opts, b0->column_count, b0->names, types,
                                (struct format_sink){ capture_write, &cap }, &w, &err);
  REQUIRE(rc == 0);
  REQUIRE(format_writer_begin(w, &err) == 0);
  for (int i = 0; i < nblocks; i++)
    REQUIRE(format_writer_block(w, blocks[i], &err) == 0);
  if (run_totals)
    REQUIRE(format_writer_totals(w, run_totals, &err) == 0);
  REQUIRE(format_writer_end(w, summary ? summary : &none, &err) == 0);
  *len = cap.data.len;
  const char *s = arena_strndup(&arena, cap.data.data ? cap.data.data : "", cap.data.len);
  buf_free(&cap.data);
  return s;
}

static int check_output(const char *format, const struct format_options *opts, struct block **blocks, int nblocks,
                        const struct format_summary *summary, const char *expected, size_t expected_len, int line)
{
  size_t len;
  const char *got = run_format(format, opts, blocks, nblocks, summary, &len);
  if (len == expected_len && memcmp(got, expected, len) == 0)
    return 1;
  fprintf(stderr, "line %d: %s output differs\n--- got (%zu bytes):\n", line, format, len);
  fwrite(got, 1, len, stderr);
  fprintf(stderr, "\n--- expected (%zu bytes):\n", expected_len);
  fwrite(expected, 1, expected_len, stderr);
  fprintf(stderr, "\n");
  for (size_t i = 0; i < len && i < expected_len; i++)
    if (got[i] != expected[i]) {
      fprintf(stderr, "first difference at byte %zu: got 0x%02x, expected 0x%02x\n", i, (unsigned char)got[i],
              (unsigned char)expected[i]);
      break;
    }
  test_failures++;
  return 0;
}
#define EXPECT(fmt, opts, blocks, n, summary, lit) \
  check_output((fmt), (opts), (blocks), (n), (summary), (lit), sizeof(lit) - 1, __LINE__)

/* ---- the main test block (two rows) ---- */

static void add_string(struct column *c, const char *s) { column_append_bytes(c, s, strlen(s)); }

static struct block *main_block(void)
{
  static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l" };
  static const char *const types[] = { "UInt8", "String", "Int64", "UInt64", "Float64", "Nullable(UInt8)",
                                       "Array(UInt8)", "Array(String)", "Date", "DateTime('UTC')",
                                       "Tuple(UInt8, String)", "Float64" };
  struct block *b = block_create(&arena, 12);
  for (int i = 0; i < 12; i++) {
    b->names[i] = names[i];
    b->columns[i] = column_create(&arena, T(types[i]), 2);
  }
  struct column **c = b->columns;
  column_append_u64(c[0], 1);
  column_append_u64(c[0], 2);
  add_string(c[1], "x\"y/z\\w\t");
  add_string(c[1], "\xC3\xA9\n'q");
  column_append_i64(c[2], -5);
  column_append_i64(c[2], INT64_MAX);
  column_append_u64(c[3], UINT64_MAX);
  column_append_u64(c[3], 0);
  column_append_f64(c[4], 0.1);
  column_append_f64(c[4], 1e100);
  column_append_null(c[5]);
  column_append_u64(c[5], 3);
  column_append_u64(c[6]->children[0], 1);
  column_append_u64(c[6]->children[0], 2);
  column_close_array_row(c[6]);
  column_close_array_row(c[6]);
  add_string(c[7]->children[0], "p");
  add_string(c[7]->children[0], "q");
  column_close_array_row(c[7]);
  add_string(c[7]->children[0], "it's");
  column_close_array_row(c[7]);
  column_append_u64(c[8], 18263);
  column_append_u64(c[8], 0);
  column_append_u64(c[9], 1577934245);
  column_append_u64(c[9], 1000000000);
  column_append_u64(c[10]->children[0], 1);
  add_string(c[10]->children[1], "k");
  column_close_tuple_row(c[10]);
  column_append_u64(c[10]->children[0], 2);
  add_string(c[10]->children[1], "");
  column_close_tuple_row(c[10]);
  column_append_f64(c[11], 1.0 / 0.0);
  column_append_f64(c[11], 0.0 / 0.0);
  b->rows = 2;
  return b;
}

#define TSV_ROW1 "1\tx\"y/z\\\\w\\t\t-5\t18446744073709551615\t0.1\t\\N\t[1,2]\t['p','q']\t2020-01-02\t" \
                 "2020-01-02 03:04:05\t(1,'k')\tinf\n"
#define TSV_ROW2 "2\t\xC3\xA9\\n\\'q\t9223372036854775807\t0\t1e100\t3\t[]\t['it\\'s']\t1970-01-01\t" \
                 "2001-09-09 01:46:40\t(2,'')\tnan\n"
#define TSV_NAMES "a\tb\tc\td\te\tf\tg\th\ti\tj\tk\tl\n"
#define TSV_TYPES "UInt8\tString\tInt64\tUInt64\tFloat64\tNullable(UInt8)\tArray(UInt8)\tArray(String)\tDate\t" \
                  "DateTime(\\'UTC\\')\tTuple(UInt8, String)\tFloat64\n"

static void test_tsv(void)
{
  struct format_options o = default_options();
  struct block *b = main_block();
  EXPECT("TabSeparated", &o, &b, 1, NULL, TSV_ROW1 TSV_ROW2);
  EXPECT("TSV", &o, &b, 1, NULL, TSV_ROW1 TSV_ROW2);
  EXPECT("TSVWithNames", &o, &b, 1, NULL, TSV_NAMES TSV_ROW1 TSV_ROW2);
  EXPECT("TabSeparatedWithNamesAndTypes", &o, &b, 1, NULL, TSV_NAMES TSV_TYPES TSV_ROW1 TSV_ROW2);
  EXPECT("TSVRaw", &o, &b, 1, NULL,
         "1\tx\"y/z\\w\t\t-5\t18446744073709551615\t0.1\t\\N\t[1,2]\t['p','q']\t2020-01-02\t"
         "2020-01-02 03:04:05\t(1,'k')\tinf\n"
         "2\t\xC3\xA9\n'q\t9223372036854775807\t0\t1e100\t3\t[]\t['it\\'s']\t1970-01-01\t"
         "2001-09-09 01:46:40\t(2,'')\tnan\n");
  /* blocks stream one after another; an empty result prints only headers */
  struct block *two[2] = { b, b };
  EXPECT("TSV", &o, two, 2, NULL, TSV_ROW1 TSV_ROW2 TSV_ROW1 TSV_ROW2);
  struct block *empty = block_create(&arena, 1);
  empty->names[0] = "x";
  empty->columns[0] = column_create(&arena, T("String"), 0);
  EXPECT("TSVWithNamesAndTypes", &o, &empty, 1, NULL, "x\nString\n");
  EXPECT("TSV", &o, &empty, 1, NULL, "");
}

static void test_tsv_escapes(void)
{
  struct format_options o = default_options();
  struct block *b = block_create(&arena, 2);
  b->names[0] = "s";
  b->names[1] = "fs";
  b->columns[0] = column_create(&arena, T("String"), 0);
  b->columns[1] = column_create(&arena, T("FixedString(3)"), 0);
  column_append_bytes(b->columns[0], "a\0b\bc\fd\re\\f'g", 13);
  column_append_bytes(b->columns[1], "ab", 2);
  b->rows = 1;
  EXPECT("TSV", &o, &b, 1, NULL, "a\\0b\\bc\\fd\\re\\\\f\\'g\tab\\0\n");
  EXPECT("CSV", &o, &b, 1, NULL, "\"a\0b\bc\fd\re\\f'g\",\"ab\0\"\n");
  EXPECT("Values", &o, &b, 1, NULL, "('a\\0b\\bc\\fd\\re\\\\f\\'g','ab\\0')");
  EXPECT("JSONEachRow", &o, &b, 1, NULL, "{\"s\":\"a\\u0000b\\bc\\fd\\re\\\\f'g\",\"fs\":\"ab\\u0000\"}\n");
  EXPECT("TSKV", &o, &b, 1, NULL, "s=a\\0b\\bc\\fd\\re\\\\f\\'g\tfs=ab\\0\n");
}

#define CSV_ROW1 "1,\"x\"\"y/z\\w\t\",-5,18446744073709551615,0.1,\\N,\"[1,2]\",\"['p','q']\",\"2020-01-02\"," \
                 "\"2020-01-02 03:04:05\",1,\"k\",inf\n"
#define CSV_ROW2 "2,\"\xC3\xA9\n'q\",9223372036854775807,0,1e100,3,\"[]\",\"['it\\'s']\",\"1970-01-01\"," \
                 "\"2001-09-09 01:46:40\",2,\"\",nan\n"

static void test_csv(void)
{
  struct format_options o = default_options();
  struct block *b = main_block();
  EXPECT("CSV", &o, &b, 1, NULL, CSV_ROW1 CSV_ROW2);
  EXPECT("CSVWithNames", &o, &b, 1, NULL,
         "\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\"\n" CSV_ROW1 CSV_ROW2);
  EXPECT("CSVWithNamesAndTypes", &o, &b, 1, NULL,
         "\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\"\n"
         "\"UInt8\",\"String\",\"Int64\",\"UInt64\",\"Float64\",\"Nullable(UInt8)\",\"Array(UInt8)\","
         "\"Array(String)\",\"Date\",\"DateTime('UTC')\",\"Tuple(UInt8, String)\",\"Float64\"\n" CSV_ROW1 CSV_ROW2);
  o.csv_delimiter = ';';
  EXPECT("CSV", &o, &b, 1, NULL,
         "1;\"x\"\"y/z\\w\t\";-5;18446744073709551615;0.1;\\N;\"[1,2]\";\"['p','q']\";\"2020-01-02\";"
         "\"2020-01-02 03:04:05\";1;\"k\";inf\n"
         "2;\"\xC3\xA9\n'q\";9223372036854775807;0;1e100;3;\"[]\";\"['it\\'s']\";\"1970-01-01\";"
         "\"2001-09-09 01:46:40\";2;\"\";nan\n");
}

#define JSON_META \
  "{\n\t\"meta\":\n\t[\n" \
  "\t\t{\n\t\t\t\"name\": \"a\",\n\t\t\t\"type\": \"UInt8\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"b\",\n\t\t\t\"type\": \"String\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"c\",\n\t\t\t\"type\": \"Int64\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"d\",\n\t\t\t\"type\": \"UInt64\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"e\",\n\t\t\t\"type\": \"Float64\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"f\",\n\t\t\t\"type\": \"Nullable(UInt8)\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"g\",\n\t\t\t\"type\": \"Array(UInt8)\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"h\",\n\t\t\t\"type\": \"Array(String)\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"i\",\n\t\t\t\"type\": \"Date\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"j\",\n\t\t\t\"type\": \"DateTime('UTC')\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"k\",\n\t\t\t\"type\": \"Tuple(UInt8, String)\"\n\t\t},\n" \
  "\t\t{\n\t\t\t\"name\": \"l\",\n\t\t\t\"type\": \"Float64\"\n\t\t}\n" \
  "\t],\n\n\t\"data\":\n\t[\n"
#define JSON_ROW1 \
  "\t\t{\n\t\t\t\"a\": 1,\n\t\t\t\"b\": \"x\\\"y\\/z\\\\w\\t\",\n\t\t\t\"c\": \"-5\",\n" \
  "\t\t\t\"d\": \"18446744073709551615\",\n\t\t\t\"e\": 0.1,\n\t\t\t\"f\": null,\n\t\t\t\"g\": [1,2],\n" \
  "\t\t\t\"h\": [\"p\",\"q\"],\n\t\t\t\"i\": \"2020-01-02\",\n\t\t\t\"j\": \"2020-01-02 03:04:05\",\n" \
  "\t\t\t\"k\": [1,\"k\"],\n\t\t\t\"l\": null\n\t\t}"
#define JSON_ROW2 \
  "\t\t{\n\t\t\t\"a\": 2,\n\t\t\t\"b\": \"\xC3\xA9\\n'q\",\n\t\t\t\"c\": \"9223372036854775807\",\n" \
  "\t\t\t\"d\": \"0\",\n\t\t\t\"e\": 1e100,\n\t\t\t\"f\": 3,\n\t\t\t\"g\": [],\n" \
  "\t\t\t\"h\": [\"it's\"],\n\t\t\t\"i\": \"1970-01-01\",\n\t\t\t\"j\": \"2001-09-09 01:46:40\",\n" \
  "\t\t\t\"k\": [2,\"\"],\n\t\t\t\"l\": null\n\t\t}"
#define JSON_STATS \
  ",\n\n\t\"statistics\":\n\t{\n\t\t\"elapsed\": 0.5,\n\t\t\"rows_read\": 2,\n\t\t\"bytes_read\": 2\n\t}"

static void test_json(void)
{
  struct format_options o = default_options();
  struct block *b = main_block();
  struct format_summary s = { .rows = 2, .elapsed_seconds = 0.5, .read_rows = 2, .read_bytes = 2 };
  EXPECT("JSON", &o, &b, 1, &s,
         JSON_META JSON_ROW1 ",\n" JSON_ROW2 "\n\t],\n\n\t\"rows\": 2" JSON_STATS "\n}\n");
  EXPECT("JSONCompact", &o, &b, 1, &s,
         JSON_META
         "\t\t[1, \"x\\\"y\\/z\\\\w\\t\", \"-5\", \"18446744073709551615\", 0.1, null, [1,2], [\"p\",\"q\"], "
         "\"2020-01-02\", \"2020-01-02 03:04:05\", [1,\"k\"], null],\n"
         "\t\t[2, \"\xC3\xA9\\n'q\", \"9223372036854775807\", \"0\", 1e100, 3, [], [\"it's\"], \"1970-01-01\", "
         "\"2001-09-09 01:46:40\", [2,\"\"], null]"
         "\n\t],\n\n\t\"rows\": 2" JSON_STATS "\n}\n");
  /* LIMIT adds rows_before_limit_at_least; no statistics when disabled */
  struct format_summary sl = s;
  sl.has_limit = true;
  sl.rows_before_limit = 1000;
  o.write_statistics = false;
  EXPECT("JSON", &o, &b, 1, &sl,
         JSON_META JSON_ROW1 ",\n" JSON_ROW2 "\n\t],\n\n\t\"rows\": 2,\n\n\t\"rows_before_limit_at_least\": 1000\n}\n");
  /* rows across blocks are separated the same way */
  struct block *two[2] = { b, b };
  EXPECT("JSON", &o, two, 2, &s,
         JSON_META JSON_ROW1 ",\n" JSON_ROW2 ",\n" JSON_ROW1 ",\n" JSON_ROW2 "\n\t],\n\n\t\"rows\": 4\n}\n");
  /* empty result */
  struct block *empty = block_create(&arena, 1);
  empty->names[0] = "1";
  empty->columns[0] = column_create(&arena, T("UInt8"), 0);
  o.write_statistics = true;
  struct format_summary s0 = { .elapsed_seconds = 0.000022692 };
  EXPECT("JSON", &o, &empty, 1, &s0,
         "{\n\t\"meta\":\n\t[\n\t\t{\n\t\t\t\"name\": \"1\",\n\t\t\t\"type\": \"UInt8\"\n\t\t}\n\t],\n\n"
         "\t\"data\":\n\t[\n\n\t],\n\n\t\"rows\": 0,\n\n\t\"statistics\":\n\t{\n\t\t\"elapsed\": 0.000022692,\n"
         "\t\t\"rows_read\": 0,\n\t\t\"bytes_read\": 0\n\t}\n}\n");
}

static void test_json_each_row(void)
{
  struct format_options o = default_options();
  struct block *b = main_block();
  EXPECT("JSONEachRow", &o, &b, 1, NULL,
         "{\"a\":1,\"b\":\"x\\\"y\\/z\\\\w\\t\",\"c\":\"-5\",\"d\":\"18446744073709551615\",\"e\":0.1,\"f\":null,"
         "\"g\":[1,2],\"h\":[\"p\",\"q\"],\"i\":\"2020-01-02\",\"j\":\"2020-01-02 03:04:05\",\"k\":[1,\"k\"],\"l\":null}\n"
         "{\"a\":2,\"b\":\"\xC3\xA9\\n'q\",\"c\":\"9223372036854775807\",\"d\":\"0\",\"e\":1e100,\"f\":3,\"g\":[],"
         "\"h\":[\"it's\"],\"i\":\"1970-01-01\",\"j\":\"2001-09-09 01:46:40\",\"k\":[2,\"\"],\"l\":null}\n");
  /* settings: bare 64-bit integers, unescaped slashes, quoted denormals */
  o.json_quote_64bit_integers = false;
  o.json_escape_forward_slashes = false;
  o.json_quote_denormals = true;
  EXPECT("JSONCompactEachRow", &o, &b, 1, NULL,
         "[1, \"x\\\"y/z\\\\w\\t\", -5, 18446744073709551615, 0.1, null, [1,2], [\"p\",\"q\"], \"2020-01-02\", "
         "\"2020-01-02 03:04:05\", [1,\"k\"], \"inf\"]\n"
         "[2, \"\xC3\xA9\\n'q\", 9223372036854775807, 0, 1e100, 3, [], [\"it's\"], \"1970-01-01\", "
         "\"2001-09-09 01:46:40\", [2,\"\"], \"nan\"]\n");
  struct block *small = block_create(&arena, 2);
  small->names[0] = "n";
  small->names[1] = "s/";
  small->columns[0] = column_create(&arena, T("Int32"), 0);
  small->columns[1] = column_create(&arena, T("Nullable(String)"), 0);
  column_append_i64(small->columns[0], -1);
  column_append_null(small->columns[1]);
  small->rows = 1;
  o = default_options();
  EXPECT("JSONCompactEachRowWithNamesAndTypes", &o, &small, 1, NULL,
         "[\"n\", \"s\\/\"]\n[\"Int32\", \"Nullable(String)\"]\n[-1, null]\n");
  EXPECT("JSONCompactEachRowWithNames", &o, &small, 1, NULL, "[\"n\", \"s\\/\"]\n[-1, null]\n");
  EXPECT("JSONStringsEachRow", &o, &small, 1, NULL, "{\"n\":\"-1\",\"s\\/\":null}\n");
  EXPECT("JSONCompactStringsEachRow", &o, &small, 1, NULL, "[\"-1\", null]\n");
}

static void test_json_values(void)
{
  struct format_options o = default_options();
  struct block *b = block_create(&arena, 6);
  const char *names[] = { "s", "bo", "m", "t", "u", "lc" };
  const char *types[] = { "String", "Bool", "Map(String, Array(Int64))", "Tuple(x UInt8, y Nullable(String))",
                          "UUID", "LowCardinality(String)" };
  for (int i = 0; i < 6; i++) {
    b->names[i] = names[i];
    b->columns[i] = column_create(&arena, T(types[i]), 0);
  }
  /* control char, DEL, U+2028, invalid UTF-8, truncated sequence, overlong */
  column_append_bytes(b->columns[0], "\x01\x7f\xe2\x80\xa8\xff|\xc3|\xc0\xaf", 11);
  column_append_u64(b->columns[1], 1);
  struct column *m = b->columns[2];
  add_string(m->children[0], "k");
  column_append_i64(m->children[1]->children[0], 7);
  column_close_array_row(m->children[1]);
  column_close_array_row(m);
  column_append_u64(b->columns[3]->children[0], 5);
  column_append_null(b->columns[3]->children[1]);
  column_close_tuple_row(b->columns[3]);
  uint64_t uuid[2] = { 0x61f0c4045cb311e7ull, 0x907ba6006ad3dba0ull };
  column_append_bytes(b->columns[4], uuid, 16);
  add_string(b->columns[5], "v");
  b->rows = 1;
  EXPECT("JSONEachRow", &o, &b, 1, NULL,
         "{\"s\":\"\\u0001\x7f\\u2028\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\",\"bo\":true,"
         "\"m\":{\"k\":[\"7\"]},\"t\":{\"x\":5,\"y\":null},\"u\":\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\","
         "\"lc\":\"v\"}\n");
  EXPECT("TSV", &o, &b, 1, NULL,
         "\x01\x7f\xe2\x80\xa8\xff|\xc3|\xc0\xaf\ttrue\t{'k':[7]}\t(5,NULL)\t61f0c404-5cb3-11e7-907b-a6006ad3dba0\tv\n");
  EXPECT("Values", &o, &b, 1, NULL,
         "('\x01\x7f\xe2\x80\xa8\xff|\xc3|\xc0\xaf',true,{'k':[7]},(5,NULL),'61f0c404-5cb3-11e7-907b-a6006ad3dba0','v')");
}

/* a UInt64 0,1; bb String '0','1000'; c Nullable(UInt64) 0,NULL */
static struct block *pretty_block(void)
{
  struct block *b = block_create(&arena, 3);
  b->names[0] = "a";
  b->names[1] = "bb";
  b->names[2] = "c";
  b->columns[0] = column_create(&arena, T("UInt64"), 0);
  b->columns[1] = column_create(&arena, T("String"), 0);
  b->columns[2] = column_create(&arena, T("Nullable(UInt64)"), 0);
  column_append_u64(b->columns[0], 0);
  column_append_u64(b->columns[0], 1);
  add_string(b->columns[1], "0");
  add_string(b->columns[1], "1000");
  column_append_u64(b->columns[2], 0);
  column_append_null(b->columns[2]);
  b->rows = 2;
  return b;
}

#define B1 "\x1b[1m"
#define B0 "\x1b[0m"
#define NUL "\xE1\xB4\xBA\xE1\xB5\x81\xE1\xB4\xB8\xE1\xB4\xB8"

static void test_pretty(void)
{
  struct format_options o = default_options();
  struct block *b = pretty_block();
  EXPECT("Pretty", &o, &b, 1, NULL,
         "┏━━━┳━━━━━━┳━━━━━━┓\n┃ " B1 "a" B0 " ┃ " B1 "bb  " B0 " ┃ " B1 "   c" B0 " ┃\n┡━━━╇━━━━━━╇━━━━━━┩\n"
         "│ 0 │ 0    │    0 │\n├───┼──────┼──────┤\n│ 1 │ 1000 │ " NUL " │\n└───┴──────┴──────┘\n");
  EXPECT("PrettyNoEscapes", &o, &b, 1, NULL,
         "┏━━━┳━━━━━━┳━━━━━━┓\n┃ a ┃ bb   ┃    c ┃\n┡━━━╇━━━━━━╇━━━━━━┩\n"
         "│ 0 │ 0    │    0 │\n├───┼──────┼──────┤\n│ 1 │ 1000 │ " NUL " │\n└───┴──────┴──────┘\n");
  EXPECT("PrettyCompact", &o, &b, 1, NULL,
         "┌─" B1 "a" B0 "─┬─" B1 "bb" B0 "───┬────" B1 "c" B0 "─┐\n│ 0 │ 0    │    0 │\n│ 1 │ 1000 │ " NUL " │\n"
         "└───┴──────┴──────┘\n");
  EXPECT("PrettySpace", &o, &b, 1, NULL,
         B1 "a" B0 "   " B1 "bb" B0 "        " B1 "c" B0 "\n\n0   0         0\n1   1000   " NUL "\n");
  /* every block is its own table; MonoBlock makes one */
  struct block *two[2] = { b, b };
  const char *one = "┌─a─┬─bb───┬────c─┐\n│ 0 │ 0    │    0 │\n│ 1 │ 1000 │ " NUL " │\n└───┴──────┴──────┘\n";
  size_t len;
  const char *got = run_format("PrettyCompactNoEscapes", &o, two, 2, NULL, &len);
  CHECK(len == 2 * strlen(one) && memcmp(got, one, strlen(one)) == 0 && memcmp(got + strlen(one), one, strlen(one)) == 0);
  EXPECT("PrettyCompactNoEscapesMonoBlock", &o, two, 2, NULL,
         "┌─a─┬─bb───┬────c─┐\n│ 0 │ 0    │    0 │\n│ 1 │ 1000 │ " NUL " │\n│ 0 │ 0    │    0 │\n"
         "│ 1 │ 1000 │ " NUL " │\n└───┴──────┴──────┘\n");
  /* output_format_pretty_max_rows */
  o.pretty_max_rows = 3;
  EXPECT("PrettyCompactNoEscapes", &o, two, 2, NULL,
         "┌─a─┬─bb───┬────c─┐\n│ 0 │ 0    │    0 │\n│ 1 │ 1000 │ " NUL " │\n└───┴──────┴──────┘\n"
         "┌─a─┬─bb─┬─c─┐\n│ 0 │ 0  │ 0 │\n└───┴────┴───┘\n  Showed first 3.\n");
  o.pretty_max_rows = 1;
  EXPECT("PrettySpaceNoEscapes", &o, &b, 1, NULL, "a   bb   c\n\n0   0    0\n\nShowed first 1.\n");
  /* empty result: nothing */
  struct block *empty = block_create(&arena, 1);
  empty->names[0] = "x";
  empty->columns[0] = column_create(&arena, T("String"), 0);
  o = default_options();
  EXPECT("Pretty", &o, &empty, 1, NULL, "");
  /* output_format_pretty_color: auto (HTTP is no terminal) and 0 mean no ANSI */
  o.pretty_color = 0;
  EXPECT("Pretty", &o, &b, 1, NULL,
         "┏━━━┳━━━━━━┳━━━━━━┓\n┃ a ┃ bb   ┃    c ┃\n┡━━━╇━━━━━━╇━━━━━━┩\n"
         "│ 0 │ 0    │    0 │\n├───┼──────┼──────┤\n│ 1 │ 1000 │ " NUL " │\n└───┴──────┴──────┘\n");
  o.pretty_color = -1;
  EXPECT("PrettySpace", &o, &b, 1, NULL, "a   bb        c\n\n0   0         0\n1   1000   " NUL "\n");
  /* ASCII grid, narrower padding cap */
  o.pretty_grid_ascii = true;
  EXPECT("Pretty", &o, &b, 1, NULL,
         "+===+======+======+\n| a | bb   |    c |\n+===+======+======+\n"
         "| 0 | 0    |    0 |\n+---+------+------+\n| 1 | 1000 | " NUL " |\n+---+------+------+\n");
  EXPECT("PrettyCompact", &o, &b, 1, NULL,
         "+-a-+-bb---+----c-+\n| 0 | 0    |    0 |\n| 1 | 1000 | " NUL " |\n+---+------+------+\n");
  o = default_options();
  o.pretty_color = 0;
  o.pretty_max_column_pad_width = 2;
  EXPECT("PrettyCompact", &o, &b, 1, NULL,
         "┌─a─┬─bb─┬──c─┐\n│ 0 │ 0  │  0 │\n│ 1 │ 1000 │ " NUL " │\n└───┴────┴────┘\n");
  /* tests/queries/00100_format_pretty_compact, third statement */
  struct block *g = block_create(&arena, 2);
  g->names[0] = "short";
  g->names[1] = "long_column_name";
  g->columns[0] = column_create(&arena, T("String"), 0);
  g->columns[1] = column_create(&arena, T("UInt8"), 0);
  add_string(g->columns[0], "a long string value");
  column_append_u64(g->columns[1], 1);
  g->rows = 1;
  o = default_options();
  o.pretty_color = 0;
  EXPECT("PrettyCompact", &o, &g, 1, NULL,
         "┌─short───────────────┬─long_column_name─┐\n│ a long string value │                1 │\n"
         "└─────────────────────┴──────────────────┘\n");
  o = default_options();
  /* wide characters count once; tabs and newlines print as they are */
  struct block *u = block_create(&arena, 2);
  u->names[0] = "x";
  u->names[1] = "y";
  u->columns[0] = column_create(&arena, T("String"), 0);
  u->columns[1] = column_create(&arena, T("Array(UInt8)"), 0);
  add_string(u->columns[0], "\xC3\xA9t\xC3\xA9");
  column_append_u64(u->columns[1]->children[0], 1);
  column_close_array_row(u->columns[1]);
  u->rows = 1;
  EXPECT("PrettyCompactNoEscapes", &o, &u, 1, NULL,
         "┌─x───┬─y───┐\n│ \xC3\xA9t\xC3\xA9 │ [1] │\n└─────┴─────┘\n");
}

static void test_vertical_values(void)
{
  struct format_options o = default_options();
  struct block *b = pretty_block();
  EXPECT("Vertical", &o, &b, 1, NULL,
         "Row 1:\n──────\na:  0\nbb: 0\nc:  0\n\nRow 2:\n──────\na:  1\nbb: 1000\nc:  " NUL "\n");
  struct block *two[2] = { b, b };
  size_t len;
  const char *got = run_format("Vertical", &o, two, 2, NULL, &len);
  CHECK(strstr(got, "\n\nRow 4:\n──────\na:  1\n") != NULL);
  EXPECT("Values", &o, &b, 1, NULL, "(0,'0',0),(1,'1000',NULL)");
  EXPECT("Values", &o, two, 2, NULL, "(0,'0',0),(1,'1000',NULL),(0,'0',0),(1,'1000',NULL)");
  struct block *m = main_block();
  EXPECT("Values", &o, &m, 1, NULL,
         "(1,'x\"y/z\\\\w\\t',-5,18446744073709551615,0.1,NULL,[1,2],['p','q'],'2020-01-02','2020-01-02 03:04:05',"
         "(1,'k'),inf),(2,'\xC3\xA9\\n\\'q',9223372036854775807,0,1e100,3,[],['it\\'s'],'1970-01-01',"
         "'2001-09-09 01:46:40',(2,''),nan)");
  EXPECT("Null", &o, &m, 1, NULL, "");
}

/* Same columns as the Native and RowBinary dumps of ClickHouse 18.16 for
 * SELECT toUInt8(1) AS a, 'xy' AS b, toNullable(toInt32(-2)) AS c,
 *        [1,2] AS e, (toUInt8(3),'t') AS t, toLowCardinality('q') AS lc FROM numbers(2) */
static struct block *binary_block(void)
{
  const char *names[] = { "a", "b", "c", "e", "t", "lc" };
  const char *types[] = { "UInt8", "String", "Nullable(Int32)", "Array(UInt8)", "Tuple(UInt8, String)",
                          "LowCardinality(String)" };
  struct block *b = block_create(&arena, 6);
  for (int i = 0; i < 6; i++) {
    b->names[i] = names[i];
    b->columns[i] = column_create(&arena, T(types[i]), 0);
  }
  for (int r = 0; r < 2; r++) {
    column_append_u64(b->columns[0], 1);
    add_string(b->columns[1], "xy");
    column_append_i64(b->columns[2], -2);
    column_append_u64(b->columns[3]->children[0], 1);
    column_append_u64(b->columns[3]->children[0], 2);
    column_close_array_row(b->columns[3]);
    column_append_u64(b->columns[4]->children[0], 3);
    add_string(b->columns[4]->children[1], "t");
    column_close_tuple_row(b->columns[4]);
    add_string(b->columns[5], "q");
  }
  b->rows = 2;
  return b;
}

static void test_native(void)
{
  struct format_options o = default_options();
  struct block *b = binary_block();
  static const char expected[] =
    "\006\002"
    "\001a\005UInt8\001\001"
    "\001b\006String\002xy\002xy"
    "\001c\017Nullable(Int32)\0\0\376\377\377\377\376\377\377\377"
    "\001e\014Array(UInt8)\002\0\0\0\0\0\0\0\004\0\0\0\0\0\0\0\001\002\001\002"
    "\001t\024Tuple(UInt8, String)\003\003\001t\001t"
    "\002lc\026LowCardinality(String)\001\0\0\0\0\0\0\0"
    "\0\006\0\0\0\0\0\0\002\0\0\0\0\0\0\0\0\001q\002\0\0\0\0\0\0\0\001\001";
  EXPECT("Native", &o, &b, 1, NULL, expected);
  /* empty result: no block at all */
  struct block *empty = block_create(&arena, 1);
  empty->names[0] = "x";
  empty->columns[0] = column_create(&arena, T("String"), 0);
  EXPECT("Native", &o, &empty, 1, NULL, "");
  /* NULL literal and empty array, as 18.16 writes them */
  struct block *n = block_create(&arena, 2);
  n->names[0] = "n";
  n->names[1] = "e";
  n->columns[0] = column_create(&arena, T("Nullable(Nothing)"), 0);
  n->columns[1] = column_create(&arena, T("Array(Nothing)"), 0);
  column_append_null(n->columns[0]);
  column_append_null(n->columns[0]);
  column_close_array_row(n->columns[1]);
  column_close_array_row(n->columns[1]);
  n->rows = 2;
  static const char expected_n[] =
    "\002\002\001n\021Nullable(Nothing)\001\00100"
    "\001e\016Array(Nothing)\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
  EXPECT("Native", &o, &n, 1, NULL, expected_n);
  /* LowCardinality(Nullable(String)): slot 0 NULL, slot 1 default */
  struct block *l = block_create(&arena, 1);
  l->names[0] = "lc";
  l->columns[0] = column_create(&arena, T("LowCardinality(Nullable(String))"), 0);
  add_string(l->columns[0], "q");
  add_string(l->columns[0], "q");
  l->rows = 2;
  static const char expected_l[] =
    "\001\002\002lc\040LowCardinality(Nullable(String))\001\0\0\0\0\0\0\0\0\006\0\0\0\0\0\0"
    "\003\0\0\0\0\0\0\0\0\0\001q\002\0\0\0\0\0\0\0\002\002";
  EXPECT("Native", &o, &l, 1, NULL, expected_l);
  /* a const column is written in full; LowCardinality inside an Array puts
   * its version before the offsets */
  struct block *k = block_create(&arena, 2);
  k->names[0] = "k";
  k->names[1] = "al";
  struct column *src = column_create(&arena, T("UInt16"), 0);
  column_append_u64(src, 0x0102);
  k->columns[0] = column_const_from(&arena, src, 0, 2);
  k->columns[1] = column_create(&arena, T("Array(LowCardinality(String))"), 0);
  add_string(k->columns[1]->children[0], "z");
  column_close_array_row(k->columns[1]);
  column_close_array_row(k->columns[1]);
  k->rows = 2;
  static const char expected_k[] =
    "\002\002\001k\006UInt16\002\001\002\001"
    "\002al\035Array(LowCardinality(String))\001\0\0\0\0\0\0\0"
    "\001\0\0\0\0\0\0\0\001\0\0\0\0\0\0\0"
    "\0\006\0\0\0\0\0\0\002\0\0\0\0\0\0\0\0\001z\001\0\0\0\0\0\0\0\001";
  EXPECT("Native", &o, &k, 1, NULL, expected_k);
}

static void test_row_binary(void)
{
  struct format_options o = default_options();
  struct block *b = binary_block();
  static const char row[] = "\001\002xy\0\376\377\377\377\002\001\002\003\001t\001q";
  char expected[2 * sizeof row];
  memcpy(expected, row, sizeof row - 1);
  memcpy(expected + sizeof row - 1, row, sizeof row - 1);
  check_output("RowBinary", &o, &b, 1, NULL, expected, 2 * (sizeof row - 1), __LINE__);
  /* 18.16's RowBinary dump of
   * SELECT NULL, toDate('2020-01-02'), toDateTime('2020-01-02 03:04:05','UTC'), 0.5,
   *        toFixedString('ab',3), toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') */
  struct block *c = block_create(&arena, 6);
  const char *types[] = { "Nullable(String)", "Date", "DateTime('UTC')", "Float64", "FixedString(3)", "UUID" };
  for (int i = 0; i < 6; i++) {
    c->names[i] = "x";
    c->columns[i] = column_create(&arena, T(types[i]), 0);
  }
  column_append_null(c->columns[0]);
  column_append_u64(c->columns[1], 18263);
  column_append_u64(c->columns[2], 1577934245);
  column_append_f64(c->columns[3], 0.5);
  add_string(c->columns[4], "ab");
  uint64_t uuid[2] = { 0x61f0c4045cb311e7ull, 0x907ba6006ad3dba0ull };
  column_append_bytes(c->columns[5], uuid, 16);
  c->rows = 1;
  static const char expected_c[] =
    "\001\x57\x47\xa5\x5d\x0d\x5e\0\0\0\0\0\0\xe0\x3f\x61\x62\0"
    "\xe7\x11\xb3\x5c\x04\xc4\xf0\x61\xa0\xdb\xd3\x6a\x00\xa6\x7b\x90";
  EXPECT("RowBinary", &o, &c, 1, NULL, expected_c);
  struct block *s = block_create(&arena, 2);
  s->names[0] = "id";
  s->names[1] = "m";
  s->columns[0] = column_create(&arena, T("UInt8"), 0);
  s->columns[1] = column_create(&arena, T("Map(String, UInt8)"), 0);
  column_append_u64(s->columns[0], 7);
  add_string(s->columns[1]->children[0], "k");
  column_append_u64(s->columns[1]->children[1], 9);
  column_close_array_row(s->columns[1]);
  s->rows = 1;
  EXPECT("RowBinaryWithNamesAndTypes", &o, &s, 1, NULL,
         "\002\002id\001m\005UInt8\022Map(String, UInt8)\007\001\001k\011");
  EXPECT("RowBinaryWithNames", &o, &s, 1, NULL, "\002\002id\001m\007\001\001k\011");
}

static void test_options(void)
{
  struct format_options o = default_options();
  struct block *b = pretty_block();
  o.tsv_crlf = true;
  EXPECT("TSVWithNames", &o, &b, 1, NULL, "a\tbb\tc\r\n0\t0\t0\r\n1\t1000\t\\N\r\n");
  o.csv_crlf = true;
  EXPECT("CSVWithNames", &o, &b, 1, NULL, "\"a\",\"bb\",\"c\"\r\n0,\"0\",0\r\n1,\"1000\",\\N\r\n");
  o = default_options();
  o.json_array_of_rows = true;
  EXPECT("JSONEachRow", &o, &b, 1, NULL, "[\n{\"a\":\"0\",\"bb\":\"0\",\"c\":\"0\"},\n{\"a\":\"1\",\"bb\":\"1000\",\"c\":null}\n]\n");
  struct block *f = block_create(&arena, 3);
  f->names[0] = "f64";
  f->names[1] = "f32";
  f->names[2] = "t";
  f->columns[0] = column_create(&arena, T("Float64"), 0);
  f->columns[1] = column_create(&arena, T("Float32"), 0);
  f->columns[2] = column_create(&arena, T("Tuple(x UInt8, y String)"), 0);
  column_append_f64(f->columns[0], 0.25);
  column_append_f64(f->columns[1], 0.1);
  column_append_u64(f->columns[2]->children[0], 1);
  add_string(f->columns[2]->children[1], "s");
  column_close_tuple_row(f->columns[2]);
  f->rows = 1;
  o = default_options();
  EXPECT("JSONEachRow", &o, &f, 1, NULL, "{\"f64\":0.25,\"f32\":0.1,\"t\":{\"x\":1,\"y\":\"s\"}}\n");
  o.json_quote_64bit_floats = true;
  o.json_named_tuples_as_arrays = true;
  EXPECT("JSONEachRow", &o, &f, 1, NULL, "{\"f64\":\"0.25\",\"f32\":0.1,\"t\":[1,\"s\"]}\n");
  EXPECT("TSV", &o, &f, 1, NULL, "0.25\t0.1\t(1,'s')\n");
}

static void test_registry(void)
{
  CHECK(format_is_known("TSV"));
  CHECK(format_is_known("JSONCompactEachRowWithNamesAndTypes"));
  CHECK(!format_is_known("tsv"));
  CHECK(!format_is_known("Parquet"));
  CHECK_EQ_STR(format_content_type("TabSeparated"), "text/tab-separated-values; charset=UTF-8");
  CHECK_EQ_STR(format_content_type("CSV"), "text/csv; charset=UTF-8; header=absent");
  CHECK_EQ_STR(format_content_type("CSVWithNames"), "text/csv; charset=UTF-8; header=present");
  CHECK_EQ_STR(format_content_type("JSON"), "application/json; charset=UTF-8");
  CHECK_EQ_STR(format_content_type("JSONEachRow"), "application/x-ndjson; charset=UTF-8");
  CHECK_EQ_STR(format_content_type("Pretty"), "text/plain; charset=UTF-8");
  CHECK_EQ_STR(format_content_type("Native"), "application/octet-stream");
  CHECK_EQ_STR(format_content_type("RowBinary"), "application/octet-stream");
  struct format_options o = default_options();
  struct format_writer *w;
  struct error err = { 0 };
  const char *names[1] = { "x" };
  const struct datatype *types[1] = { T("UInt8") };
  struct capture cap = { 0 };
  CHECK_EQ_INT(format_writer_create(&arena, "Nope", &o, 1, names, types, (struct format_sink){ capture_write, &cap },
                                    &w, &err), ERR_UNKNOWN_FORMAT);
  CHECK_EQ_INT(err.code, ERR_UNKNOWN_FORMAT);
}

static void test_sink_error(void)
{
  struct format_options o = default_options();
  struct block *b = main_block();
  const struct datatype *types[12];
  for (int i = 0; i < 12; i++)
    types[i] = b->columns[i]->type;
  struct capture cap = { 0 };
  buf_init(&cap.data);
  cap.fail_after = 2;
  struct format_writer *w;
  struct error err = { 0 };
  REQUIRE(format_writer_create(&arena, "JSON", &o, 12, b->names, types, (struct format_sink){ capture_write, &cap },
                               &w, &err) == 0);
  CHECK_EQ_INT(format_writer_begin(w, &err), 0);
  CHECK_EQ_INT(format_writer_block(w, b, &err), ERR_NETWORK_ERROR);
  CHECK_EQ_INT(err.code, ERR_NETWORK_ERROR);
  buf_free(&cap.data);
}

/* A large block streams in several writes before the block ends. */
static void test_streaming(void)
{
  struct format_options o = default_options();
  struct block *b = block_create(&arena, 1);
  b->names[0] = "s";
  b->columns[0] = column_create(&arena, T("String"), 0);
  char line[1000];
  memset(line, 'x', sizeof line);
  for (int i = 0; i < 1000; i++)
    column_append_bytes(b->columns[0], line, sizeof line);
  b->rows = 1000;
  const struct datatype *types[1] = { b->columns[0]->type };
  struct capture cap = { 0 };
  buf_init(&cap.data);
  struct format_writer *w;
  struct error err = { 0 };
  REQUIRE(format_writer_create(&arena, "TSV", &o, 1, b->names, types, (struct format_sink){ capture_write, &cap },
                               &w, &err) == 0);
  REQUIRE(format_writer_begin(w, &err) == 0);
  REQUIRE(format_writer_block(w, b, &err) == 0);
  REQUIRE(format_writer_end(w, NULL, &err) == 0);
  CHECK_EQ_INT(cap.data.len, 1001000);
  CHECK(cap.writes >= 3);
  buf_free(&cap.data);
}

/* ---- WITH TOTALS ---- */

/* k UInt8, count() UInt64, s String: the rows (k, n, s) given. */
static struct block *totals_case_block(const uint64_t *rows, uint32_t n)
{
  struct block *b = block_create(&arena, 3);
  b->names[0] = "k";
  b->names[1] = "count()";
  b->names[2] = "s";
  b->columns[0] = column_create(&arena, T("UInt8"), n);
  b->columns[1] = column_create(&arena, T("UInt64"), n);
  b->columns[2] = column_create(&arena, T("String"), n);
  for (uint32_t r = 0; r < n; r++) {
    column_append_u64(b->columns[0], rows[2 * r]);
    column_append_u64(b->columns[1], rows[2 * r + 1]);
    add_string(b->columns[2], r % 2 ? "b'c" : "a");
  }
  b->rows = n;
  return b;
}

/* Expected bytes follow ClickHouse's row formats: writeBeforeTotals '\n'
 * (TSV, CSV, JSONCompactEachRow*WithNames), the JSON "totals" member
 * written after the data array's end, Pretty's "\nTotals:\n" table after
 * the suffix, Vertical's "\n\nTotals:" special row; JSONEachRow, Values,
 * RowBinary and Native print none (supportTotals() false). */
static void test_totals(void)
{
  static const uint64_t data[] = { 0, 3, 1, 2 }, tot[] = { 0, 5 };
  struct block *b = totals_case_block(data, 2);
  struct block *t = totals_case_block(tot, 1);
  struct format_options o = default_options();
  o.write_statistics = false;
  o.pretty_color = -1;
  struct format_summary s = { .rows = 2 };
  /* formats without totals: same bytes with and without them */
  static const char *const none[] = { "JSONEachRow", "JSONCompactEachRow", "JSONStringsEachRow", "Values",
                                      "RowBinary", "RowBinaryWithNamesAndTypes", "Native", "Null" };
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
    size_t l1, l2;
    run_totals = NULL;
    const char *plain = run_format(none[i], &o, &b, 1, &s, &l1);
    run_totals = t;
    const char *with = run_format(none[i], &o, &b, 1, &s, &l2);
    CHECK(l1 == l2 && memcmp(plain, with, l1) == 0);
  }
  run_totals = t;
  EXPECT("TSV", &o, &b, 1, &s, "0\t3\ta\n1\t2\tb\\'c\n\n0\t5\ta\n");
  EXPECT("TSVWithNamesAndTypes", &o, &b, 1, &s,
         "k\tcount()\ts\nUInt8\tUInt64\tString\n0\t3\ta\n1\t2\tb\\'c\n\n0\t5\ta\n");
  EXPECT("TSVRaw", &o, &b, 1, &s, "0\t3\ta\n1\t2\tb'c\n\n0\t5\ta\n");
  EXPECT("TSKV", &o, &b, 1, &s,
         "k=0\tcount()=3\ts=a\nk=1\tcount()=2\ts=b\\'c\n\nk=0\tcount()=5\ts=a\n");
  EXPECT("CSV", &o, &b, 1, &s, "0,3,\"a\"\n1,2,\"b'c\"\n\n0,5,\"a\"\n");
  EXPECT("CSVWithNames", &o, &b, 1, &s, "\"k\",\"count()\",\"s\"\n0,3,\"a\"\n1,2,\"b'c\"\n\n0,5,\"a\"\n");
#define TOT_META                                                                                            \
  "{\n\t\"meta\":\n\t[\n\t\t{\n\t\t\t\"name\": \"k\",\n\t\t\t\"type\": \"UInt8\"\n\t\t},\n"              \
  "\t\t{\n\t\t\t\"name\": \"count()\",\n\t\t\t\"type\": \"UInt64\"\n\t\t},\n"                             \
  "\t\t{\n\t\t\t\"name\": \"s\",\n\t\t\t\"type\": \"String\"\n\t\t}\n\t],\n\n\t\"data\":\n\t[\n"
  EXPECT("JSON", &o, &b, 1, &s,
         TOT_META "\t\t{\n\t\t\t\"k\": 0,\n\t\t\t\"count()\": \"3\",\n\t\t\t\"s\": \"a\"\n\t\t},\n"
         "\t\t{\n\t\t\t\"k\": 1,\n\t\t\t\"count()\": \"2\",\n\t\t\t\"s\": \"b'c\"\n\t\t}\n\t],\n\n"
         "\t\"totals\":\n\t{\n\t\t\"k\": 0,\n\t\t\"count()\": \"5\",\n\t\t\"s\": \"a\"\n\t},\n\n"
         "\t\"rows\": 2\n}\n");
  EXPECT("JSONCompact", &o, &b, 1, &s,
         TOT_META "\t\t[0, \"3\", \"a\"],\n\t\t[1, \"2\", \"b'c\"]\n\t],\n\n"
         "\t\"totals\": [0, \"5\", \"a\"],\n\n\t\"rows\": 2\n}\n");
  /* statistics and rows_before_limit_at_least still follow */
  struct format_summary sl = { .rows = 2, .has_limit = true, .rows_before_limit = 7 };
  EXPECT("JSONCompactStrings", &o, &b, 1, &sl,
         TOT_META "\t\t[\"0\", \"3\", \"a\"],\n\t\t[\"1\", \"2\", \"b'c\"]\n\t],\n\n"
         "\t\"totals\": [\"0\", \"5\", \"a\"],\n\n\t\"rows\": 2,\n\n\t\"rows_before_limit_at_least\": 7\n}\n");
  /* an empty result still gets its totals */
  struct block *e = totals_case_block(NULL, 0);
  EXPECT("JSONCompact", &o, &e, 1, &s,
         TOT_META "\n\t],\n\n\t\"totals\": [0, \"5\", \"a\"],\n\n\t\"rows\": 0\n}\n");
  EXPECT("JSONCompactEachRowWithNames", &o, &b, 1, &s,
         "[\"k\", \"count()\", \"s\"]\n[0, \"3\", \"a\"]\n[1, \"2\", \"b'c\"]\n\n[0, \"5\", \"a\"]\n");
  EXPECT("PrettyCompact", &o, &b, 1, &s,
         "┌─k─┬─count()─┬─s───┐\n"
         "│ 0 │       3 │ a   │\n"
         "│ 1 │       2 │ b'c │\n"
         "└───┴─────────┴─────┘\n"
         "\nTotals:\n"
         "┌─k─┬─count()─┬─s─┐\n"
         "│ 0 │       5 │ a │\n"
         "└───┴─────────┴───┘\n");
  EXPECT("PrettySpace", &o, &b, 1, &s,
         "k   count()   s  \n\n"
         "0         3   a  \n"
         "1         2   b'c\n"
         "\nTotals:\n"
         "k   count()   s\n\n"
         "0         5   a\n");
  /* "Showed first N." (the suffix) comes before the totals, which are never cut */
  o.pretty_max_rows = 1;
  EXPECT("Pretty", &o, &b, 1, &s,
         "┏━━━┳━━━━━━━━━┳━━━┓\n"
         "┃ k ┃ count() ┃ s ┃\n"
         "┡━━━╇━━━━━━━━━╇━━━┩\n"
         "│ 0 │       3 │ a │\n"
         "└───┴─────────┴───┘\n"
         "  Showed first 1.\n"
         "\nTotals:\n"
         "┏━━━┳━━━━━━━━━┳━━━┓\n"
         "┃ k ┃ count() ┃ s ┃\n"
         "┡━━━╇━━━━━━━━━╇━━━┩\n"
         "│ 0 │       5 │ a │\n"
         "└───┴─────────┴───┘\n");
  o.pretty_max_rows = 10000;
  EXPECT("PrettyCompactMonoBlock", &o, &b, 1, &s,
         "┌─k─┬─count()─┬─s───┐\n"
         "│ 0 │       3 │ a   │\n"
         "│ 1 │       2 │ b'c │\n"
         "└───┴─────────┴─────┘\n"
         "\nTotals:\n"
         "┌─k─┬─count()─┬─s─┐\n"
         "│ 0 │       5 │ a │\n"
         "└───┴─────────┴───┘\n");
  EXPECT("Vertical", &o, &b, 1, &s,
         "Row 1:\n──────\nk:       0\ncount(): 3\ns:       a\n"
         "\nRow 2:\n──────\nk:       1\ncount(): 2\ns:       b'c\n"
         "\n\nTotals:\n───────\nk:       0\ncount(): 5\ns:       a\n");
  /* NULL or empty totals print nothing */
  run_totals = e;
  EXPECT("TSV", &o, &b, 1, &s, "0\t3\ta\n1\t2\tb\\'c\n");
  run_totals = NULL;
  struct format_writer *w;
  struct error err = { 0 };
  struct capture cap = { 0 };
  buf_init(&cap.data);
  const char *names[] = { "x" };
  const struct datatype *types[] = { T("UInt8") };
  REQUIRE(format_writer_create(&arena, "TSV", &o, 1, names, types, (struct format_sink){ capture_write, &cap }, &w,
                               &err) == 0);
  CHECK(format_writer_begin(w, &err) == 0 && format_writer_totals(w, NULL, &err) == 0 &&
        format_writer_end(w, &s, &err) == 0);
  CHECK(cap.data.len == 0);
  buf_free(&cap.data);
#undef TOT_META
}

int main(void)
{
  arena_init(&arena, 0);
  test_tsv();
  test_tsv_escapes();
  test_csv();
  test_json();
  test_json_each_row();
  test_json_values();
  test_pretty();
  test_vertical_values();
  test_native();
  test_row_binary();
  test_options();
  test_registry();
  test_sink_error();
  test_streaming();
  test_totals();
  arena_destroy(&arena);
  TEST_DONE();
}
