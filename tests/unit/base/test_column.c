/* Columns: append/read, filter/take/slice, const columns, LowCardinality
 * dictionaries, compare/hash, toString-style text for every type, and
 * column_gather against column_append_range. */
#include <math.h>

#include "base/column.h"
#include "base/timezone.h"
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

static const char *fmt(const struct column *c, uint32_t row)
{
  struct buf b;
  buf_init(&b);
  column_format_value(c, row, &b);
  const char *s = arena_strndup(&arena, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

static const char *fmt_all(const struct column *c)
{
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < c->rows; i++) {
    if (i)
      buf_append_char(&b, '|');
    column_format_value(c, i, &b);
  }
  const char *s = arena_strndup(&arena, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

static const char *f64(double v)
{
  struct buf b;
  buf_init(&b);
  column_format_f64(v, &b);
  const char *s = arena_strndup(&arena, b.data, b.len);
  buf_free(&b);
  return s;
}

static const char *f32(float v)
{
  struct buf b;
  buf_init(&b);
  column_format_f32(v, &b);
  const char *s = arena_strndup(&arena, b.data, b.len);
  buf_free(&b);
  return s;
}

static void test_floats(void)
{
  CHECK_EQ_STR(f64(1e100), "1e100");
  CHECK_EQ_STR(f64(0.1 + 0.2), "0.30000000000000004");
  CHECK_EQ_STR(f64(1e21), "1e21");
  CHECK_EQ_STR(f64(1e20), "100000000000000000000");
  CHECK_EQ_STR(f64(1e-7), "1e-7");
  CHECK_EQ_STR(f64(1.5e-7), "1.5e-7");
  CHECK_EQ_STR(f64(0.000001), "0.000001");
  CHECK_EQ_STR(f64(123456789.123), "123456789.123");
  CHECK_EQ_STR(f64(12345678901234567890.0), "12345678901234567000");
  CHECK_EQ_STR(f64(1.0 / 3), "0.3333333333333333");
  CHECK_EQ_STR(f64(-0.0), "-0");
  CHECK_EQ_STR(f64(0.0), "0");
  CHECK_EQ_STR(f64(100), "100");
  CHECK_EQ_STR(f64(-2.25), "-2.25");
  CHECK_EQ_STR(f64(1e-300), "1e-300");
  CHECK_EQ_STR(f64(INFINITY), "inf");
  CHECK_EQ_STR(f64(-INFINITY), "-inf");
  CHECK_EQ_STR(f64(NAN), "nan");
  CHECK_EQ_STR(f64(5e-324), "5e-324");
  CHECK_EQ_STR(f64(1.7976931348623157e308), "1.7976931348623157e308");
  CHECK_EQ_STR(f32(0.1f), "0.1");
  CHECK_EQ_STR(f32(16777217.0f), "16777216");
  CHECK_EQ_STR(f32(1e20f), "100000000000000000000");
  CHECK_EQ_STR(f32(3.4e38f), "3.4e38");
  CHECK_EQ_STR(f32(1.0f / 3), "0.33333334");
}

static void test_numbers(void)
{
  struct column *c = column_create(&arena, T("Int64"), 0);
  column_append_i64(c, -5);
  column_append_i64(c, INT64_MIN);
  column_append_u64(c, 7);
  column_append_default(c);
  CHECK_EQ_INT(c->rows, 4);
  CHECK_EQ_STR(fmt_all(c), "-5|-9223372036854775808|7|0");
  CHECK_EQ_INT(column_get_i64(c, 1), INT64_MIN);
  CHECK(column_get_f64(c, 0) == -5.0);

  struct column *u = column_create(&arena, T("UInt64"), 1);
  column_append_u64(u, UINT64_MAX);
  column_append_u64(u, 1);
  CHECK_EQ_STR(fmt(u, 0), "18446744073709551615");
  CHECK_EQ_INT(column_compare_rows(u, 0, u, 1, false), 1);
  /* mixed signedness compares by value */
  CHECK_EQ_INT(column_compare_rows(u, 0, c, 0, false), 1);
  CHECK_EQ_INT(column_compare_rows(c, 0, u, 1, false), -1);

  struct column *i8 = column_create(&arena, T("Int8"), 0);
  column_append_i64(i8, -128);
  column_append_i64(i8, 127);
  CHECK_EQ_STR(fmt_all(i8), "-128|127");
  CHECK_EQ_INT(column_get_i64(i8, 0), -128);

  struct column *b = column_create(&arena, T("Bool"), 0);
  column_append_u64(b, 1);
  column_append_u64(b, 0);
  CHECK_EQ_STR(fmt_all(b), "true|false");

  struct column *f = column_create(&arena, T("Float64"), 0);
  column_append_f64(f, 1.5);
  column_append_f64(f, NAN);
  column_append_f64(f, -INFINITY);
  column_append_f64(f, -0.0);
  column_append_f64(f, 0.0);
  CHECK_EQ_STR(fmt_all(f), "1.5|nan|-inf|-0|0");
  /* NaN after numbers when nulls last, before when nulls first; equal to itself */
  CHECK_EQ_INT(column_compare_rows(f, 1, f, 0, false), 1);
  CHECK_EQ_INT(column_compare_rows(f, 1, f, 0, true), -1);
  CHECK(column_rows_equal(f, 1, f, 1));
  CHECK(column_rows_equal(f, 3, f, 4));
  CHECK(column_hash_row(f, 3, 1) == column_hash_row(f, 4, 1));
  CHECK_EQ_INT(column_compare_rows(f, 2, f, 0, false), -1);

  struct column *f4 = column_create(&arena, T("Float32"), 0);
  column_append_f64(f4, 0.1);
  CHECK_EQ_STR(fmt(f4, 0), "0.1");
  CHECK(fabs(column_get_f64(f4, 0) - 0.1) < 1e-7);
}

static void test_strings(void)
{
  struct column *c = column_create(&arena, T("String"), 2);
  const char *vals[] = { "b", "", "a\tc", "abc", "ab" };
  for (int i = 0; i < 5; i++)
    column_append_bytes(c, vals[i], strlen(vals[i]));
  CHECK_EQ_INT(c->rows, 5);
  CHECK_EQ_STR(fmt_all(c), "b||a\tc|abc|ab");
  struct slice s = column_get_bytes(c, 3);
  CHECK_EQ_MEM(s.ptr, s.len, "abc");
  CHECK(column_compare_rows(c, 4, c, 3, false) < 0);
  CHECK(column_compare_rows(c, 0, c, 3, false) > 0);
  CHECK(column_compare_rows(c, 1, c, 4, false) < 0);
  CHECK(column_rows_equal(c, 3, c, 3));
  CHECK(!column_rows_equal(c, 3, c, 4));

  uint8_t keep[5] = { 1, 0, 1, 0, 1 };
  struct column *flt = column_filter(&arena, c, keep, 3);
  CHECK_EQ_STR(fmt_all(flt), "b|a\tc|ab");
  uint32_t idx[4] = { 4, 4, 0, 1 };
  struct column *tk = column_take(&arena, c, idx, 4);
  CHECK_EQ_STR(fmt_all(tk), "ab|ab|b|");
  struct column *sl = column_slice(&arena, c, 2, 2);
  CHECK_EQ_STR(fmt_all(sl), "a\tc|abc");
  CHECK(column_hash_row(c, 4, 7) == column_hash_row(tk, 0, 7));
  /* appending to a slice result keeps offsets right */
  column_append_bytes(sl, "zz", 2);
  CHECK_EQ_STR(fmt_all(sl), "a\tc|abc|zz");
  struct column *r = column_create(&arena, T("String"), 0);
  column_append_range(r, c, 1, 3);
  column_append_range(r, c, 0, 1);
  CHECK_EQ_STR(fmt_all(r), "|a\tc|abc|b");

  struct buf b;
  buf_init(&b);
  column_format_quoted(c, 2, &b);
  CHECK_EQ_MEM(b.data, b.len, "'a\\tc'");
  buf_free(&b);

  struct column *fs = column_create(&arena, T("FixedString(3)"), 0);
  column_append_bytes(fs, "ab", 2);
  column_append_bytes(fs, "xyz", 3);
  s = column_get_bytes(fs, 0);
  CHECK_EQ_INT(s.len, 3);
  CHECK(memcmp(s.ptr, "ab\0", 3) == 0);
  buf_init(&b);
  column_format_quoted(fs, 0, &b);
  CHECK_EQ_MEM(b.data, b.len, "'ab\\0'");
  buf_free(&b);
  CHECK(column_compare_rows(fs, 0, fs, 1, false) < 0);
}

static void test_dates(void)
{
  struct column *d = column_create(&arena, T("Date"), 0);
  column_append_u64(d, 0);
  column_append_u64(d, 18262);  /* 2020-01-01 */
  column_append_u64(d, 65535);
  CHECK_EQ_STR(fmt_all(d), "1970-01-01|2020-01-01|2149-06-06");

  struct column *dt = column_create(&arena, T("DateTime('UTC')"), 0);
  column_append_u64(dt, 1577934245);  /* 2020-01-02 03:04:05 UTC */
  CHECK_EQ_STR(fmt(dt, 0), "2020-01-02 03:04:05");
  struct buf b;
  buf_init(&b);
  column_format_quoted(dt, 0, &b);
  CHECK_EQ_MEM(b.data, b.len, "'2020-01-02 03:04:05'");
  buf_reset(&b);
  if (timezone_get("Europe/Moscow")) {
    struct column *msk = column_create(&arena, T("DateTime('Europe/Moscow')"), 0);
    column_append_u64(msk, 1577923445);
    CHECK_EQ_STR(fmt(msk, 0), "2020-01-02 03:04:05");
    /* a zone without its own uses the caller's */
    struct column *plain = column_create(&arena, T("DateTime"), 0);
    column_append_u64(plain, 1577934245);
    column_format_value_tz(plain, 0, timezone_get("Europe/Moscow"), false, &b);
    CHECK_EQ_MEM(b.data, b.len, "2020-01-02 06:04:05");
    buf_reset(&b);
  }
  struct column *d64 = column_create(&arena, T("DateTime64(3, 'UTC')"), 0);
  column_append_i64(d64, 1577934245123);
  column_append_i64(d64, -1);
  CHECK_EQ_STR(fmt_all(d64), "2020-01-02 03:04:05.123|1969-12-31 23:59:59.999");
  struct column *d0 = column_create(&arena, T("DateTime64(0, 'UTC')"), 0);
  column_append_i64(d0, 5);
  CHECK_EQ_STR(fmt(d0, 0), "1970-01-01 00:00:05");
  struct column *d9 = column_create(&arena, T("DateTime64(9, 'UTC')"), 0);
  column_append_i64(d9, 1000000001);
  CHECK_EQ_STR(fmt(d9, 0), "1970-01-01 00:00:01.000000001");
  buf_free(&b);
}

static void test_uuid_enum(void)
{
  struct column *u = column_create(&arena, T("UUID"), 0);
  uint64_t halves[2] = { 0x61f0c4045cb311e7ull, 0x907ba6006ad3dba0ull };
  column_append_bytes(u, halves, 16);
  column_append_default(u);
  CHECK_EQ_STR(fmt_all(u), "61f0c404-5cb3-11e7-907b-a6006ad3dba0|00000000-0000-0000-0000-000000000000");
  CHECK(column_compare_rows(u, 0, u, 1, false) > 0);

  struct column *e = column_create(&arena, T("Enum8('b' = 2, 'a' = 1, 'neg' = -3)"), 0);
  column_append_i64(e, 2);
  column_append_i64(e, 1);
  column_append_default(e);
  CHECK_EQ_STR(fmt_all(e), "b|a|neg");
  struct column *ae = column_create(&arena, T("Array(Enum8('a' = 1))"), 0);
  column_append_i64(ae->children[0], 1);
  column_close_array_row(ae);
  CHECK_EQ_STR(fmt(ae, 0), "['a']");
}

static void test_nullable(void)
{
  struct column *c = column_create(&arena, T("Nullable(Int32)"), 0);
  column_append_i64(c, 5);
  column_append_null(c);
  column_append_i64(c->children[0], -1);
  column_mark_not_null(c);
  column_append_default(c);
  CHECK_EQ_INT(c->rows, 4);
  CHECK_EQ_INT(c->children[0]->rows, 4);
  CHECK_EQ_STR(fmt_all(c), "5|NULL|-1|NULL");
  CHECK(!column_is_null(c, 0));
  CHECK(column_is_null(c, 1));
  CHECK_EQ_INT(column_get_i64(c, 2), -1);
  /* NULLs last unless nulls_first; NULL == NULL */
  CHECK_EQ_INT(column_compare_rows(c, 1, c, 0, false), 1);
  CHECK_EQ_INT(column_compare_rows(c, 1, c, 0, true), -1);
  CHECK(column_rows_equal(c, 1, c, 3));
  CHECK(column_hash_row(c, 1, 3) == column_hash_row(c, 3, 3));
  uint8_t keep[4] = { 0, 1, 1, 0 };
  struct column *f = column_filter(&arena, c, keep, 2);
  CHECK_EQ_STR(fmt_all(f), "NULL|-1");
  column_append_i64(f, 9);
  CHECK_EQ_STR(fmt_all(f), "NULL|-1|9");

  /* plain → Nullable via append_from */
  struct column *plain = column_create(&arena, T("Int32"), 0);
  column_append_i64(plain, 42);
  column_append_from(c, plain, 0);
  CHECK_EQ_STR(fmt(c, 4), "42");

  struct column *ns = column_create(&arena, T("Nullable(String)"), 0);
  column_append_bytes(ns, "x", 1);
  column_append_null(ns);
  CHECK_EQ_STR(fmt_all(ns), "x|NULL");
  struct slice s = column_get_bytes(ns, 0);
  CHECK_EQ_MEM(s.ptr, s.len, "x");

  struct column *nn = column_create(&arena, T("Nullable(Nothing)"), 0);
  column_append_null(nn);
  CHECK(column_is_null(nn, 0));
  CHECK_EQ_STR(fmt(nn, 0), "NULL");
}

static void test_array_map_tuple(void)
{
  struct column *a = column_create(&arena, T("Array(String)"), 0);
  column_append_bytes(a->children[0], "a", 1);
  column_append_bytes(a->children[0], "b'c", 3);
  column_close_array_row(a);
  column_close_array_row(a);
  column_append_bytes(a->children[0], "d", 1);
  column_close_array_row(a);
  CHECK_EQ_STR(fmt_all(a), "['a','b\\'c']|[]|['d']");
  uint64_t s, e;
  column_array_range(a, 2, &s, &e);
  CHECK_EQ_INT(s, 2);
  CHECK_EQ_INT(e, 3);
  uint32_t idx[3] = { 2, 0, 1 };
  struct column *t = column_take(&arena, a, idx, 3);
  CHECK_EQ_STR(fmt_all(t), "['d']|['a','b\\'c']|[]");
  CHECK(column_compare_rows(a, 0, a, 2, false) < 0);
  CHECK(column_compare_rows(a, 1, a, 0, false) < 0);
  CHECK(column_rows_equal(a, 0, t, 1));
  CHECK(column_hash_row(a, 0, 0) == column_hash_row(t, 1, 0));
  struct column *copy = column_create(&arena, a->type, 0);
  column_append_from(copy, a, 2);
  column_append_from(copy, a, 0);
  CHECK_EQ_STR(fmt_all(copy), "['d']|['a','b\\'c']");
  struct column *sl = column_slice(&arena, a, 1, 2);
  CHECK_EQ_STR(fmt_all(sl), "[]|['d']");

  struct column *an = column_create(&arena, T("Array(Nullable(UInt8))"), 0);
  column_append_null(an->children[0]);
  column_append_u64(an->children[0], 1);
  column_close_array_row(an);
  CHECK_EQ_STR(fmt(an, 0), "[NULL,1]");

  struct column *aa = column_create(&arena, T("Array(Array(Float64))"), 0);
  column_append_f64(aa->children[0]->children[0], 1.5);
  column_close_array_row(aa->children[0]);
  column_close_array_row(aa->children[0]);
  column_close_array_row(aa);
  CHECK_EQ_STR(fmt(aa, 0), "[[1.5],[]]");

  struct column *m = column_create(&arena, T("Map(String, UInt64)"), 0);
  column_append_bytes(m->children[0], "a", 1);
  column_append_u64(m->children[1], 1);
  column_append_bytes(m->children[0], "b", 1);
  column_append_u64(m->children[1], 2);
  column_close_array_row(m);
  column_close_array_row(m);
  CHECK_EQ_STR(fmt_all(m), "{'a':1,'b':2}|{}");
  uint8_t keep[2] = { 1, 0 };
  CHECK_EQ_STR(fmt_all(column_filter(&arena, m, keep, 1)), "{'a':1,'b':2}");

  struct column *tu = column_create(&arena, T("Tuple(UInt8, String, Array(Date))"), 0);
  column_append_u64(tu->children[0], 1);
  column_append_bytes(tu->children[1], "x", 1);
  column_append_u64(tu->children[2]->children[0], 18262);
  column_close_array_row(tu->children[2]);
  column_close_tuple_row(tu);
  column_append_default(tu);
  CHECK_EQ_STR(fmt_all(tu), "(1,'x',['2020-01-01'])|(0,'',[])");
  CHECK(column_compare_rows(tu, 1, tu, 0, false) < 0);
  uint32_t rev[2] = { 1, 0 };
  CHECK_EQ_STR(fmt_all(column_take(&arena, tu, rev, 2)), "(0,'',[])|(1,'x',['2020-01-01'])");
}

static void test_low_cardinality(void)
{
  struct column *c = column_create(&arena, T("LowCardinality(String)"), 0);
  const char *vals[] = { "x", "y", "x", "", "y", "z" };
  for (int i = 0; i < 6; i++)
    column_append_bytes(c, vals[i], strlen(vals[i]));
  CHECK_EQ_INT(c->rows, 6);
  CHECK_EQ_INT(c->children[0]->rows, 4);  /* '', x, y, z */
  CHECK_EQ_STR(fmt_all(c), "x|y|x||y|z");
  struct slice s = column_get_bytes(c, 5);
  CHECK_EQ_MEM(s.ptr, s.len, "z");
  CHECK(column_rows_equal(c, 0, c, 2));
  CHECK(column_compare_rows(c, 0, c, 1, false) < 0);
  /* LowCardinality compares and hashes like the plain value */
  struct column *p = column_create(&arena, T("String"), 0);
  column_append_bytes(p, "y", 1);
  CHECK(column_rows_equal(c, 1, p, 0));
  CHECK(column_hash_row(c, 1, 5) == column_hash_row(p, 0, 5));
  uint8_t keep[6] = { 0, 0, 0, 0, 1, 1 };
  struct column *f = column_filter(&arena, c, keep, 2);
  CHECK_EQ_STR(fmt_all(f), "y|z");
  CHECK_EQ_INT(f->children[0]->rows, 3);
  column_append_bytes(f, "y", 1);
  column_append_bytes(f, "w", 1);
  CHECK_EQ_STR(fmt_all(f), "y|z|y|w");
  CHECK_EQ_INT(f->children[0]->rows, 4);
  /* many distinct values: the index grows */
  struct column *big = column_create(&arena, T("LowCardinality(String)"), 0);
  for (int i = 0; i < 3000; i++) {
    char tmp[16];
    int n = snprintf(tmp, sizeof tmp, "v%d", i % 1000);
    column_append_bytes(big, tmp, (size_t)n);
  }
  CHECK_EQ_INT(big->children[0]->rows, 1001);
  CHECK_EQ_STR(fmt(big, 2999), "v999");
  /* plain → LowCardinality and back */
  struct column *lc2 = column_create(&arena, T("LowCardinality(String)"), 0);
  column_append_from(lc2, p, 0);
  column_append_from(lc2, c, 5);
  CHECK_EQ_STR(fmt_all(lc2), "y|z");
  struct column *p2 = column_create(&arena, T("String"), 0);
  column_append_from(p2, c, 3);
  column_append_from(p2, c, 0);
  CHECK_EQ_STR(fmt_all(p2), "|x");

  struct column *ln = column_create(&arena, T("LowCardinality(Nullable(String))"), 0);
  column_append_null(ln);
  column_append_bytes(ln, "a", 1);
  column_append_bytes(ln, "", 0);
  column_append_default(ln);
  CHECK_EQ_STR(fmt_all(ln), "NULL|a||NULL");
  CHECK(column_is_null(ln, 0));
  CHECK(!column_is_null(ln, 2));
  CHECK(column_is_null(ln, 3));

  struct column *lu = column_create(&arena, T("LowCardinality(UInt32)"), 0);
  column_append_u64(lu, 7);
  column_append_u64(lu, 7);
  column_append_u64(lu, 0);
  CHECK_EQ_STR(fmt_all(lu), "7|7|0");
  CHECK_EQ_INT(lu->children[0]->rows, 2);
  CHECK_EQ_INT(column_get_u64(lu, 1), 7);
}

static void test_const(void)
{
  struct column *src = column_create(&arena, T("String"), 0);
  column_append_bytes(src, "a", 1);
  column_append_bytes(src, "k", 1);
  struct column *c = column_const_from(&arena, src, 1, 1000);
  CHECK(c->is_const);
  CHECK_EQ_INT(c->rows, 1000);
  CHECK_EQ_STR(fmt(c, 999), "k");
  CHECK_EQ_INT(column_row(c, 999), 0);
  CHECK(column_rows_equal(c, 500, src, 1));
  uint8_t keep[1000];
  memset(keep, 0, sizeof keep);
  keep[3] = keep[7] = 1;
  struct column *f = column_filter(&arena, c, keep, 2);
  CHECK(f->is_const);
  CHECK_EQ_INT(f->rows, 2);
  CHECK_EQ_STR(fmt(f, 1), "k");
  struct column *m = column_materialize(&arena, f);
  CHECK(!m->is_const);
  CHECK_EQ_STR(fmt_all(m), "k|k");
  CHECK(column_materialize(&arena, src) == src);
  struct column *dst = column_create(&arena, T("String"), 0);
  column_append_range(dst, c, 0, 3);
  CHECK_EQ_STR(fmt_all(dst), "k|k|k");
  struct column *sl = column_slice(&arena, c, 10, 5);
  CHECK(sl->is_const);
  CHECK_EQ_INT(sl->rows, 5);

  struct column *arr = column_create(&arena, T("Array(UInt8)"), 0);
  column_append_u64(arr->children[0], 1);
  column_append_u64(arr->children[0], 2);
  column_close_array_row(arr);
  struct column *ca = column_const_from(&arena, arr, 0, 3);
  CHECK_EQ_STR(fmt(ca, 2), "[1,2]");
  uint64_t s, e;
  column_array_range(ca, 2, &s, &e);
  CHECK_EQ_INT(e - s, 2);
  struct column *cn = column_create(&arena, T("Nullable(UInt8)"), 0);
  column_append_null(cn);
  struct column *cnc = column_const_from(&arena, cn, 0, 4);
  CHECK(column_is_null(cnc, 3));
  CHECK_EQ_STR(fmt_all(column_materialize(&arena, cnc)), "NULL|NULL|NULL|NULL");
}

static void test_block(void)
{
  struct block *b = block_create(&arena, 2);
  CHECK_EQ_INT(b->column_count, 2);
  CHECK(b->columns[0] == NULL && b->names[1] == NULL);
  struct column *c = column_create(&arena, T("UInt64"), 0);
  for (int i = 0; i < 100; i++)
    column_append_u64(c, (uint64_t)i);
  CHECK_EQ_INT(column_byte_size(c), 800);
}

/* ---- column_gather: the same columns, byte for byte, as column_append_range per run ---- */

static uint64_t gather_rng = 0x2545F4914F6CDD1Dull;
static uint32_t gather_rand(uint32_t below)
{
  gather_rng ^= gather_rng << 13;
  gather_rng ^= gather_rng >> 7;
  gather_rng ^= gather_rng << 17;
  return (uint32_t)(gather_rng % below);
}

/* Appends one random value: a few distinct strings so dictionaries repeat. */
static void append_random(struct column *c)
{
  static const char *words[] = { "", "a", "bb", "service-one", "service-two", "GET /api/v1/orders" };
  const char *w = words[gather_rand(6)];
  switch (c->type->id) {
  case TYPE_STRING:
  case TYPE_FIXED_STRING:
  case TYPE_UUID:
    column_append_bytes(c, w, strlen(w));
    return;
  case TYPE_LOW_CARDINALITY:
  case TYPE_NULLABLE:
    if (gather_rand(4) == 0)
      column_append_null(c);
    else if (c->type->id == TYPE_NULLABLE) {
      append_random(c->children[0]);
      column_mark_not_null(c);
    } else if (datatype_fixed_bytes(c->children[0]->type) && c->children[0]->type->id != TYPE_FIXED_STRING)
      column_append_u64(c, gather_rand(5));
    else
      column_append_bytes(c, w, strlen(w));
    return;
  case TYPE_ARRAY:
  case TYPE_MAP:
    for (uint32_t n = gather_rand(4); n > 0; n--)
      for (uint32_t i = 0; i < c->child_count; i++)
        append_random(c->children[i]);
    column_close_array_row(c);
    return;
  case TYPE_TUPLE:
    for (uint32_t i = 0; i < c->child_count; i++)
      append_random(c->children[i]);
    column_close_tuple_row(c);
    return;
  default:
    column_append_u64(c, ((uint64_t)gather_rand(1u << 30) << 30) | gather_rand(1000));
    return;
  }
}

/* Same type, rows and every stored byte, children included. */
static bool columns_identical(const struct column *a, const struct column *b)
{
  if (!datatype_equal(a->type, b->type) || a->rows != b->rows || a->child_count != b->child_count)
    return false;
  size_t fb = datatype_fixed_bytes(a->type);
  enum type_id id = a->type->id;
  bool rows = a->rows != 0;  /* an empty column's buffers may be unset */
  if (rows && fb && memcmp(a->data, b->data, fb * a->rows) != 0)
    return false;
  if (rows && (id == TYPE_STRING || id == TYPE_ARRAY || id == TYPE_MAP) &&
      memcmp(a->offsets, b->offsets, 8 * (size_t)a->rows) != 0)
    return false;
  if (id == TYPE_STRING && (a->chars_len != b->chars_len || (rows && memcmp(a->chars, b->chars, a->chars_len) != 0)))
    return false;
  if (rows && id == TYPE_NULLABLE && memcmp(a->nulls, b->nulls, a->rows) != 0)
    return false;
  for (uint32_t i = 0; i < a->child_count; i++)
    if (!columns_identical(a->children[i], b->children[i]))
      return false;
  return true;
}

enum { GATHER_SOURCES = 5, GATHER_SOURCE_ROWS = 40, GATHER_RUNS = 200 };

/* Random runs over random sources (source 3 left out, so its slot is NULL),
 * gathered in two calls to show that gathering appends. */
static void check_gather(const char *type_text, bool with_const_source)
{
  const struct datatype *t = T(type_text);
  const struct column *srcs[GATHER_SOURCES];
  for (uint32_t s = 0; s < GATHER_SOURCES; s++) {
    struct column *c = column_create(&arena, t, 0);
    for (uint32_t r = 0; r < GATHER_SOURCE_ROWS; r++)
      append_random(c);
    srcs[s] = c;
  }
  if (with_const_source)
    srcs[1] = column_const_from(&arena, srcs[1], 7, GATHER_SOURCE_ROWS);
  struct column_run runs[GATHER_RUNS];
  for (uint32_t i = 0; i < GATHER_RUNS; i++) {
    uint32_t s = gather_rand(GATHER_SOURCES - 1), row = gather_rand(GATHER_SOURCE_ROWS);
    s = s == 3 ? 4 : s;
    uint32_t count = 1 + gather_rand(gather_rand(4) == 0 ? GATHER_SOURCE_ROWS - row : 1);
    runs[i] = (struct column_run){ s, row, count };
  }
  struct column *want = column_create(&arena, t, 0);
  for (uint32_t i = 0; i < GATHER_RUNS; i++)
    column_append_range(want, srcs[runs[i].source], runs[i].row, runs[i].count);
  const struct column *gather_srcs[GATHER_SOURCES];
  memcpy(gather_srcs, srcs, sizeof srcs);
  gather_srcs[3] = NULL;
  struct column *got = column_create(&arena, t, 0);
  column_gather(got, gather_srcs, GATHER_SOURCES, runs, GATHER_RUNS / 2);
  column_gather(got, gather_srcs, GATHER_SOURCES, runs + GATHER_RUNS / 2, GATHER_RUNS - GATHER_RUNS / 2);
  if (!columns_identical(got, want)) {
    fprintf(stderr, "column_gather differs for %s%s\n", type_text, with_const_source ? " (const source)" : "");
    test_failures++;
  }
  CHECK_EQ_STR(fmt_all(got), fmt_all(want));
}

static void test_gather(void)
{
  static const char *types[] = {
    "UInt8", "UInt16", "UInt32", "UInt64", "Int64", "DateTime64(9)", "FixedString(5)", "UUID", "String",
    "LowCardinality(String)", "LowCardinality(Nullable(String))", "LowCardinality(UInt32)", "Nullable(String)",
    "Nullable(Int32)", "Array(String)", "Array(Nullable(Int32))", "Map(LowCardinality(String), String)",
    "Array(Map(LowCardinality(String), String))", "Tuple(UInt8, String, LowCardinality(String))",
    "Array(Tuple(String, Array(UInt64)))",
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    check_gather(types[i], false);
    check_gather(types[i], true);
  }
  /* a source sharing dst's dictionary keeps its keys */
  struct column *dst = column_create(&arena, T("LowCardinality(String)"), 0);
  column_append_bytes(dst, "x", 1);
  struct column *shared = column_create(&arena, dst->type, 0);
  shared->children[0] = dst->children[0];
  column_append_from(shared, dst, 0);
  const struct column *one[1] = { shared };
  struct column_run run = { 0, 0, 1 };
  column_gather(dst, one, 1, &run, 1);
  CHECK_EQ_STR(fmt_all(dst), "x|x");
  CHECK_EQ_INT(dst->children[0]->rows, 2);
}

enum { FILTER_ROWS = 301 };

/* column_filter against column_take of the same rows, for keep maps with
 * long runs, single rows, bytes other than 1, and a kept_rows below the
 * count of set bytes (the filter stops there). */
static void check_filter(const char *type_text)
{
  const struct datatype *t = T(type_text);
  struct column *c = column_create(&arena, t, 0);
  for (uint32_t r = 0; r < FILTER_ROWS; r++)
    append_random(c);
  for (uint32_t pattern = 0; pattern < 6; pattern++) {
    uint8_t keep[FILTER_ROWS];
    for (uint32_t i = 0; i < FILTER_ROWS; i++) {
      switch (pattern) {
      case 0: keep[i] = 1; break;
      case 1: keep[i] = (i / 37) % 2 ? 1 : 0; break;
      case 2: keep[i] = i % 3 == 0 ? (uint8_t)(1 + gather_rand(255)) : 0; break;
      case 3: keep[i] = gather_rand(2) ? 0xff : 0; break;
      case 4: keep[i] = i == FILTER_ROWS - 1; break;
      default: keep[i] = i >= 10 && i < 290 ? 0x80 : 0; break;
      }
    }
    uint32_t idx[FILTER_ROWS], n = 0;
    for (uint32_t i = 0; i < FILTER_ROWS; i++)
      if (keep[i])
        idx[n++] = i;
    uint32_t limits[2] = { n, n / 2 };
    for (uint32_t k = 0; k < 2; k++) {
      if (limits[k] == 0)
        continue;  /* columns_identical wants rows to compare */
      struct column *want = column_take(&arena, c, idx, limits[k]);
      struct column *got = column_filter(&arena, c, keep, limits[k]);
      if (!columns_identical(got, want)) {
        fprintf(stderr, "column_filter differs for %s, pattern %u, kept %u\n", type_text, pattern, limits[k]);
        test_failures++;
      }
      CHECK_EQ_STR(fmt_all(got), fmt_all(want));
    }
  }
}

static void test_filter(void)
{
  static const char *types[] = {
    "UInt8", "UInt16", "Int32", "UInt64", "Float64", "DateTime64(9)", "FixedString(5)", "UUID", "String",
    "LowCardinality(String)", "LowCardinality(Nullable(String))", "Nullable(String)", "Nullable(Int32)",
    "Array(String)", "Array(Nullable(Int32))", "Map(LowCardinality(String), String)",
    "Array(Map(LowCardinality(String), String))", "Tuple(UInt8, String, LowCardinality(String))",
    "Array(Tuple(String, Array(UInt64)))",
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    check_filter(types[i]);
}

int main(void)
{
  arena_init(&arena, 0);
  test_floats();
  test_numbers();
  test_strings();
  test_dates();
  test_uuid_enum();
  test_nullable();
  test_array_map_tuple();
  test_low_cardinality();
  test_const();
  test_gather();
  test_filter();
  test_block();
  arena_destroy(&arena);
  TEST_DONE();
}
