/* libFuzzer target for the input formats (query/input*.c). The first four
 * bytes choose the format, the schema, option flags and how the data is cut
 * into pieces; the rest is the data. Checks: no crash or over-read (each
 * piece is an exact heap copy), blocks are well formed, the error contract
 * holds, the result does not depend on how the input was cut, and binary
 * formats re-read their own output to equal columns. */
#include "query/format.h"
#include "query/input.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const formats[] = {
  "TabSeparated", "TabSeparatedRaw", "TabSeparatedWithNames", "TabSeparatedWithNamesAndTypes",
  "TSVRawWithNamesAndTypes", "TSKV", "CSV", "CSVWithNames", "CSVWithNamesAndTypes", "Values", "JSON",
  "JSONStrings", "JSONCompact", "JSONCompactStrings", "JSONEachRow", "JSONStringsEachRow", "JSONCompactEachRow",
  "JSONCompactEachRowWithNames", "JSONCompactEachRowWithNamesAndTypes", "JSONCompactStringsEachRow",
  "RowBinary", "RowBinaryWithNames", "RowBinaryWithNamesAndTypes", "Native",
};
enum { FORMAT_COUNT = sizeof formats / sizeof formats[0] };

static const char *const schemas[][16] = {
  { "id UInt32", "name String", "v Float64" },
  { "Timestamp DateTime64(9)", "TraceId String", "SpanId String", "SpanName LowCardinality(String)",
    "ServiceName LowCardinality(String)", "ResourceAttributes Map(LowCardinality(String), String)",
    "Duration UInt64", "StatusCode LowCardinality(String)", "Events.Timestamp Array(DateTime64(9))",
    "Events.Name Array(LowCardinality(String))", "Events.Attributes Array(Map(LowCardinality(String), String))" },
  { "u8 UInt8", "i16 Int16", "i64 Int64", "u64 UInt64", "f32 Float32", "b Bool", "fs FixedString(3)", "d Date",
    "dt DateTime('UTC')", "dt64 DateTime64(3)", "id UUID", "e8 Enum8('a' = 1, 'b' = -2)",
    "e16 Enum16('x' = 1000)", "ns Nullable(String)", "lcn LowCardinality(Nullable(String))" },
  { "a Array(UInt32)", "an Array(Nullable(String))", "aa Array(Array(Int8))", "m Map(String, UInt64)",
    "t Tuple(UInt8, String)", "tn Tuple(a UInt8, b Array(Nullable(String)))", "mi Map(UInt8, Array(Float32))" },
  { "n Nullable(Int64)", "z Nullable(Nothing)", "s String" },
};
enum { SCHEMA_COUNT = sizeof schemas / sizeof schemas[0] };

struct schema {
  uint32_t n;
  const char *names[16];
  const struct datatype *types[16];
};

static struct arena schema_arena;
static struct schema parsed_schemas[SCHEMA_COUNT];

static void init_schemas(void)
{
  arena_init(&schema_arena, 0);
  timezone_set_default("UTC");
  for (int s = 0; s < SCHEMA_COUNT; s++) {
    struct schema *sc = &parsed_schemas[s];
    for (int i = 0; i < 16 && schemas[s][i]; i++) {
      const char *def = schemas[s][i];
      const char *sp = strchr(def, ' ');
      struct error err;
      sc->names[i] = arena_strndup(&schema_arena, def, (size_t)(sp - def));
      if (datatype_parse(&schema_arena, sp + 1, strlen(sp + 1), &sc->types[i], &err) != 0)
        abort();
      sc->n++;
    }
  }
}

struct result {
  int rc;
  uint64_t rows;
  struct error err;
  struct column *cols[16];
};

static void take_all(struct input_parser *p, const struct schema *sc, struct result *r, struct arena *a)
{
  struct input_block *b;
  while (input_parser_take_block(p, &b)) {
    if (b->block->rows == 0)
      abort();
    for (uint32_t i = 0; i < sc->n; i++) {
      const struct column *c = b->block->columns[i];
      if (c->rows != b->block->rows || c->type != sc->types[i])
        abort();
      if (c->type->id == TYPE_STRING && c->chars_len != (c->rows ? c->offsets[c->rows - 1] : 0))
        abort();
      for (uint32_t k = 0; b->omitted[i] && k < b->block->rows; k++)
        if (b->omitted[i][k] > 1)
          abort();
      if (r->cols[i])
        column_append_range(r->cols[i], c, 0, c->rows);
    }
    r->rows += b->block->rows;
    input_block_destroy(b);
  }
  (void)a;
}

/* XXX: base/column.c leaves a String column's chars NULL until a non-empty
 * value arrives and column_get_bytes then offsets NULL; give the harness's
 * own columns bytes up front. */
static void give_chars(struct arena *a, struct column *c)
{
  if (c->type->id == TYPE_STRING && !c->chars) {
    c->chars = arena_alloc(a, 64);
    c->chars_cap = 64;
  }
  for (uint32_t i = 0; i < c->child_count; i++)
    give_chars(a, c->children[i]);
}

/* chunk: 0 = whole, else pieces of 1..chunk bytes (varying). */
static void run(const char *fmt, const struct schema *sc, const struct input_options *o, const uint8_t *data,
                size_t size, unsigned chunk, struct result *r, struct arena *a, bool keep)
{
  memset(r, 0, sizeof *r);
  if (keep)
    for (uint32_t i = 0; i < sc->n; i++) {
      r->cols[i] = column_create(a, sc->types[i], 4);
      give_chars(a, r->cols[i]);
    }
  struct arena pa;
  arena_init(&pa, 0);
  struct input_parser *p;
  r->rc = input_parser_create(&pa, fmt, sc->n, sc->names, sc->types, o, &p, &r->err);
  if (r->rc)
    abort();
  size_t pos = 0;
  unsigned k = 0;
  while (!r->rc && pos < size) {
    size_t n = chunk ? 1 + (k++ * 7 + 3) % chunk : size;
    if (n > size - pos)
      n = size - pos;
    char *piece = malloc(n);
    memcpy(piece, data + pos, n);
    r->rc = input_parser_feed(p, piece, n, &r->err);
    free(piece);
    pos += n;
    take_all(p, sc, r, a);
  }
  if (!r->rc)
    r->rc = input_parser_finish(p, &r->err);
  take_all(p, sc, r, a);
  if (r->rc) {
    if (r->err.code != r->rc || !r->err.message[0] || r->rc == ERR_LOGICAL_ERROR)
      abort();
  } else if (input_parser_rows(p) != r->rows) {
    abort();
  }
  arena_destroy(&pa);
}

static int sink_write(void *ctx, const char *d, size_t n)
{
  buf_append(ctx, d, n);
  return 0;
}

static bool same(const struct schema *sc, struct column *const *a, struct column *const *b, uint64_t rows)
{
  for (uint32_t i = 0; i < sc->n; i++) {
    if (a[i]->rows != rows || b[i]->rows != rows)
      return false;
    for (uint32_t r = 0; r < rows; r++)
      if (column_compare_rows(a[i], r, b[i], r, false) != 0)
        return false;
  }
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static bool ready;
  if (!ready) {
    init_schemas();
    ready = true;
  }
  if (size < 4 || size > 1 << 16)
    return 0;
  const char *fmt = formats[data[0] % FORMAT_COUNT];
  const struct schema *sc = &parsed_schemas[data[1] % SCHEMA_COUNT];
  uint8_t flags = data[2];
  unsigned chunk = data[3] % 17;
  data += 4;
  size -= 4;

  struct input_options o;
  input_options_init(&o);
  o.skip_unknown_fields = !(flags & 1);
  o.null_as_default = !(flags & 2);
  o.with_names_use_header = !(flags & 4);
  o.tsv_empty_as_default = (flags & 8) != 0;
  o.csv_allow_single_quotes = (flags & 16) != 0;
  o.datetime_best_effort = (flags & 32) != 0;
  o.allow_errors_num = (flags & 64) ? 3 : 0;
  o.block_rows_max = (flags & 128) ? 3 : 0;

  struct arena a;
  arena_init(&a, 0);
  struct result whole, cut;
  run(fmt, sc, &o, data, size, 0, &whole, &a, true);
  run(fmt, sc, &o, data, size, chunk ? chunk : 1, &cut, &a, true);
  /* How the bytes arrive must not change the outcome. */
  if (whole.rc != cut.rc || whole.rows != cut.rows)
    abort();
  if (!whole.rc && !same(sc, whole.cols, cut.cols, whole.rows))
    abort();
  /* Binary formats read back what they write, exactly. */
  bool binary = strncmp(fmt, "RowBinary", 9) == 0 || strcmp(fmt, "Native") == 0;
  if (!whole.rc && whole.rows && binary && !o.allow_errors_num) {
    struct buf out;
    buf_init(&out);
    struct format_options fo = { .json_quote_64bit_integers = true, .csv_delimiter = ',' };
    struct format_writer *w;
    struct error err;
    struct format_sink sink = { sink_write, &out };
    if (format_writer_create(&a, fmt, &fo, sc->n, sc->names, sc->types, sink, &w, &err) != 0)
      abort();
    struct block *b = block_create(&a, sc->n);
    b->rows = (uint32_t)whole.rows;
    for (uint32_t i = 0; i < sc->n; i++) {
      b->columns[i] = whole.cols[i];
      b->names[i] = sc->names[i];
    }
    if (format_writer_begin(w, &err) || format_writer_block(w, b, &err) || format_writer_end(w, NULL, &err))
      abort();
    struct input_options plain;
    input_options_init(&plain);
    struct result again;
    run(fmt, sc, &plain, (const uint8_t *)(out.data ? out.data : ""), out.len, 0, &again, &a, true);
    if (again.rc || again.rows != whole.rows || !same(sc, whole.cols, again.cols, whole.rows)) {
      fprintf(stderr, "re-read of %s output failed: %s\n", fmt, again.err.message);
      abort();
    }
    buf_free(&out);
  }
  arena_destroy(&a);
  return 0;
}
