/* The `system` database and the table-source registry: system.one,
 * numbers, numbers_mt, zeros, zeros_mt (streaming), and the catalog views
 * functions, settings, databases, tables, columns, formats (built on open).
 * Other databases come from catalogs the server registers. */
#include "query/exec_int.h"

#include <stdio.h>
#include <string.h>

#include "query/format.h"
#include "query/matview.h"

enum { CATALOGS_MAX = 8 };

static const struct table_catalog *catalogs[CATALOGS_MAX];
static uint32_t catalog_count;

void table_catalog_register(const struct table_catalog *catalog)
{
  if (catalog_count < CATALOGS_MAX)
    catalogs[catalog_count++] = catalog;
}

/* ======================================================================
 * select-columns operator over any child
 * ====================================================================== */

struct pick_op {
  struct op base;
  uint32_t *cols;
};

static int pick_next(struct op *op, struct block **out, struct error *err)
{
  struct pick_op *p = (struct pick_op *)op;
  struct block *in;
  int rc = op_next(op->children[0], &in, err);
  if (rc || !in) {
    *out = NULL;
    return rc;
  }
  arena_reset(&op->scratch);
  struct block *b = block_create(&op->scratch, op->column_count);
  b->rows = in->rows;
  b->names = op->names;
  for (uint32_t i = 0; i < op->column_count; i++)
    b->columns[i] = in->columns[p->cols[i]];
  *out = b;
  return 0;
}

static const struct op_vt pick_vt = { "SelectColumns", pick_next, NULL };

static struct op *pick_create(struct query_context *ctx, struct op *child, const uint32_t *cols, uint32_t n)
{
  struct pick_op *p = (struct pick_op *)op_alloc(ctx, sizeof *p, &pick_vt);
  const char **names = arena_alloc(ctx->arena, sizeof *names * (n ? n : 1));
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types * (n ? n : 1));
  p->cols = arena_alloc(ctx->arena, sizeof *p->cols * (n ? n : 1));
  for (uint32_t i = 0; i < n; i++) {
    p->cols[i] = cols[i];
    names[i] = child->names[cols[i]];
    types[i] = child->types[cols[i]];
  }
  op_set_header(&p->base, n, names, types);
  p->base.children = arena_alloc(ctx->arena, sizeof(struct op *));
  p->base.children[0] = child;
  p->base.child_count = 1;
  return &p->base;
}

/* ======================================================================
 * sub-plan source
 * ====================================================================== */

static int subplan_open(struct table_source *src, struct query_context *ctx, const struct table_read_opts *opts,
                        struct op **out, struct error *err)
{
  (void)err;
  *out = pick_create(ctx, src->impl, opts->columns, opts->column_count);
  return 0;
}

static const struct table_source_vt subplan_vt = { subplan_open };

struct table_source *table_source_from_op(struct query_context *ctx, struct op *plan, const char *name)
{
  struct table_source *s = arena_new(ctx->arena, struct table_source);
  s->vt = &subplan_vt;
  s->name = name;
  s->engine = "View";
  s->column_count = plan->column_count;
  s->names = plan->names;
  s->types = plan->types;
  s->total_rows = UINT64_MAX;
  s->impl = plan;
  return s;
}

/* ======================================================================
 * numbers / zeros: streaming generators
 * ====================================================================== */

struct gen_op {
  struct op base;
  bool zeros;
  uint64_t next;                 /* next value */
  uint64_t step;
  uint64_t remaining;            /* UINT64_MAX = infinite */
  uint64_t limit_hint;
  uint32_t out_count;            /* 0 or 1 columns requested */
};

static int gen_next(struct op *op, struct block **out, struct error *err)
{
  struct gen_op *g = (struct gen_op *)op;
  *out = NULL;
  if (g->remaining == 0)
    return 0;
  int rc = exec_check_limits(op->ctx, err);
  if (rc)
    return rc;
  arena_reset(&op->scratch);
  uint64_t n = exec_block_rows(op->ctx);
  if (g->limit_hint && g->limit_hint < n)
    n = g->limit_hint;
  if (g->remaining != UINT64_MAX && g->remaining < n)
    n = g->remaining;
  struct block *b = block_create(&op->scratch, g->out_count);
  b->rows = (uint32_t)n;
  b->names = op->names;
  if (g->out_count) {
    if (g->zeros) {
      b->columns[0] = col_new(&op->scratch, type_u8(), (uint32_t)n);
    } else {
      struct column *c = col_new(&op->scratch, type_u64(), (uint32_t)n);
      uint64_t *d = c->data, v = g->next, step = g->step;
      for (uint64_t i = 0; i < n; i++)
        d[i] = v + i * step;
      b->columns[0] = c;
    }
  }
  g->next += n * g->step;
  if (g->remaining != UINT64_MAX)
    g->remaining -= n;
  if (g->limit_hint)
    g->limit_hint = g->limit_hint > n ? g->limit_hint - n : 0;
  atomic_fetch_add(&op->ctx->stats.read_rows, n);
  atomic_fetch_add(&op->ctx->stats.read_bytes, n * (g->zeros ? 1 : 8));
  *out = b;
  return 0;
}

static const struct op_vt gen_vt = { "Numbers", gen_next, NULL };

struct gen_params {
  bool zeros;
  uint64_t start, step, count;
};

static int gen_open(struct table_source *src, struct query_context *ctx, const struct table_read_opts *opts,
                    struct op **out, struct error *err)
{
  (void)err;
  const struct gen_params *p = src->impl;
  struct gen_op *g = (struct gen_op *)op_alloc(ctx, sizeof *g, &gen_vt);
  g->zeros = p->zeros;
  g->next = p->start;
  g->step = p->step;
  g->remaining = p->count;
  g->limit_hint = opts->limit_hint;
  g->out_count = opts->column_count;
  op_set_header(&g->base, opts->column_count, src->names, src->types);
  *out = &g->base;
  return 0;
}

static const struct table_source_vt gen_vt_src = { gen_open };

struct table_source *gen_source(struct query_context *ctx, const char *db, const char *name, const char *engine,
                                bool zeros, uint64_t start, uint64_t count, uint64_t step)
{
  struct table_source *s = arena_new(ctx->arena, struct table_source);
  struct gen_params *p = arena_new(ctx->arena, struct gen_params);
  p->zeros = zeros;
  p->start = start;
  p->count = count;
  p->step = step;
  s->vt = &gen_vt_src;
  s->database = db;
  s->name = name;
  s->engine = engine;
  s->column_count = 1;
  s->names = arena_alloc(ctx->arena, sizeof *s->names);
  s->types = arena_alloc(ctx->arena, sizeof *s->types);
  s->names[0] = zeros ? "zero" : "number";
  s->types[0] = zeros ? type_u8() : type_u64();
  s->total_rows = count;
  s->impl = p;
  return s;
}

/* ======================================================================
 * built-once tables
 * ====================================================================== */

typedef void (*fill_fn)(struct query_context *ctx, struct column **cols);

struct static_table {
  const char *name;
  const char *engine;
  const char *schema;            /* "name Type, name Type, …" */
  fill_fn fill;
};

static void append_str(struct column *c, const char *s) { col_str_append(c, s, s ? strlen(s) : 0); }

static void fill_one(struct query_context *ctx, struct column **c)
{
  (void)ctx;
  column_append_u64(c[0], 0);
}

static void fill_functions(struct query_context *ctx, struct column **c)
{
  (void)ctx;
  for (uint32_t i = 0; i < function_count(); i++) {
    const struct function_def *d = function_at(i);
    const struct function_def *target = d->alias_to ? function_find(d->alias_to) : d;
    append_str(c[0], d->name);
    column_append_u64(c[1], target && (target->flags & FN_AGG) ? 1 : 0);
    column_append_u64(c[2], (d->flags & FN_CI) ? 1 : 0);
    append_str(c[3], d->alias_to ? d->alias_to : "");
    append_str(c[4], "");
    column_append_i64(c[5], 0);
    for (int k = 6; k <= 11; k++)
      append_str(c[k], "");
    column_append_u64(c[12]->children[0], target && (target->flags & FN_VOLATILE) ? 0 : 1);
    column_mark_not_null(c[12]);
  }
}

static void fill_settings(struct query_context *ctx, struct column **c)
{
  for (uint32_t i = 0; i < settings_count(); i++) {
    const char *name, *type, *value, *def, *desc;
    bool changed;
    settings_describe(ctx->settings, i, &name, &type, &value, &def, &desc, &changed);
    append_str(c[0], name);
    append_str(c[1], value);
    column_append_u64(c[2], changed);
    append_str(c[3], desc);
    column_append_null(c[4]);
    column_append_null(c[5]);
    column_close_array_row(c[6]);
    column_append_u64(c[7], 0);
    append_str(c[8], type);
    append_str(c[9], def);
    append_str(c[10], "");
    column_append_u64(c[11], 0);
    column_append_i64(c[12], 0);
  }
}

static void uuid_for_name(const char *name, struct column *c)
{
  unsigned char u[16];
  uint64_t h1 = hash_bytes(name, strlen(name)), h2 = hash_u64(h1 ^ 0x5bd1e995);
  memcpy(u, &h1, 8);
  memcpy(u + 8, &h2, 8);
  column_append_bytes(c, u, 16);
}

static void fill_databases(struct query_context *ctx, struct column **c)
{
  const char **names;
  uint32_t n = table_databases(ctx, &names);
  for (uint32_t i = 0; i < n; i++) {
    append_str(c[0], names[i]);
    append_str(c[1], strcmp(names[i], "system") == 0 ? "Atomic" : "Atomic");
    append_str(c[2], "./data/");
    append_str(c[3], arena_printf(ctx->arena, "./data/metadata/%s/", names[i]));
    uuid_for_name(names[i], c[4]);
    append_str(c[5], "Atomic");
    append_str(c[6], "");
  }
}

static void fill_tables(struct query_context *ctx, struct column **c)
{
  const char **dbs;
  uint32_t nd = table_databases(ctx, &dbs);
  for (uint32_t d = 0; d < nd; d++) {
    struct table_source **ts;
    uint32_t n = table_list(ctx, dbs[d], &ts);
    for (uint32_t i = 0; i < n; i++) {
      append_str(c[0], dbs[d]);
      append_str(c[1], ts[i]->name);
      uuid_for_name(arena_printf(ctx->arena, "%s.%s", dbs[d], ts[i]->name), c[2]);
      append_str(c[3], ts[i]->engine);
      column_append_u64(c[4], 0);
      column_close_array_row(c[5]);
      append_str(c[6], "");
      column_append_u64(c[7], 0);
      column_close_array_row(c[8]);
      column_close_array_row(c[9]);
      const char *cq = ts[i]->create_query ? ts[i]->create_query : "";
      append_str(c[10], cq);
      /* engine_full: the create query from ENGINE = on, on one line */
      const char *ef = strstr(cq, "ENGINE = ");
      if (ef) {
        struct buf eb;
        buf_init(&eb);
        for (const char *p = ef + 9; *p; p++)
          buf_append_char(&eb, *p == '\n' ? ' ' : *p);
        col_str_append(c[11], eb.data, eb.len);
        buf_free(&eb);
      } else {
        append_str(c[11], ts[i]->engine);
      }
      append_str(c[12], "");
      append_str(c[13], ts[i]->partition_key ? ts[i]->partition_key : "");
      append_str(c[14], ts[i]->sorting_key ? ts[i]->sorting_key : "");
      append_str(c[15], ts[i]->primary_key ? ts[i]->primary_key : "");
      append_str(c[16], "");
      append_str(c[17], ts[i]->create_query ? "default" : "");
      if (ts[i]->total_rows == UINT64_MAX || strcmp(dbs[d], "system") == 0) {
        column_append_null(c[18]);
        column_append_null(c[19]);
      } else {
        column_append_u64(c[18]->children[0], ts[i]->total_rows);
        column_mark_not_null(c[18]);
        column_append_u64(c[19]->children[0], ts[i]->total_bytes);
        column_mark_not_null(c[19]);
      }
      append_str(c[20], "");
      column_append_u64(c[21], strcmp(dbs[d], "system") == 0 ? 0 : 1);
    }
  }
}

static void fill_columns(struct query_context *ctx, struct column **c)
{
  const char **dbs;
  uint32_t nd = table_databases(ctx, &dbs);
  for (uint32_t d = 0; d < nd; d++) {
    struct table_source **ts;
    uint32_t n = table_list(ctx, dbs[d], &ts);
    for (uint32_t i = 0; i < n; i++) {
      const struct table_source *t = ts[i];
      uint32_t cn = t->virtual_from ? t->virtual_from : t->column_count;
      uint64_t *comp = arena_calloc(ctx->arena, cn ? cn : 1, sizeof *comp);
      uint64_t *unc = arena_calloc(ctx->arena, cn ? cn : 1, sizeof *unc);
      if (t->create_query)
        mergetree_column_sizes(ctx, dbs[d], t->name, cn, t->names, comp, unc);
      for (uint32_t k = 0; k < cn; k++) {
        append_str(c[0], dbs[d]);
        append_str(c[1], t->name);
        append_str(c[2], t->names[k]);
        append_str(c[3], type_name(ctx->arena, t->types[k]));
        column_append_u64(c[4], k + 1);
        append_str(c[5], t->default_kinds ? t->default_kinds[k] : "");
        append_str(c[6], t->default_exprs ? t->default_exprs[k] : "");
        append_str(c[7], t->comments && t->comments[k] ? t->comments[k] : "");
        bool in_pk = false, in_sk = false;
        if (t->partition_key && *t->partition_key && strstr(t->partition_key, t->names[k]))
          in_pk = true;
        if (t->sorting_key && *t->sorting_key && strstr(t->sorting_key, t->names[k]))
          in_sk = true;
        column_append_u64(c[8], in_pk);
        column_append_u64(c[9], in_sk);
        const char *cc = t->codecs && t->codecs[k] && *t->codecs[k]
                             ? arena_printf(ctx->arena, "CODEC(%s)", t->codecs[k]) : "";
        append_str(c[10], cc);
        column_append_u64(c[11], comp[k]);
        column_append_u64(c[12], unc[k]);
        column_append_u64(c[13], 0);
        column_append_u64(c[14], t->default_kinds && t->default_kinds[k] && strcmp(t->default_kinds[k], "ALIAS") == 0
                                     ? 0 : 1);
      }
    }
  }
}

static const char *const format_candidates[] = {
  "TabSeparated", "TSV", "TabSeparatedRaw", "TSVRaw", "TabSeparatedWithNames", "TSVWithNames",
  "TabSeparatedWithNamesAndTypes", "TSVWithNamesAndTypes", "TabSeparatedRawWithNames",
  "TabSeparatedRawWithNamesAndTypes", "CSV", "CSVWithNames", "CSVWithNamesAndTypes", "CustomSeparated",
  "Values", "JSON", "JSONStrings", "JSONCompact", "JSONCompactStrings", "JSONEachRow", "JSONStringsEachRow",
  "JSONCompactEachRow", "JSONCompactEachRowWithNames", "JSONCompactEachRowWithNamesAndTypes",
  "JSONCompactStringsEachRow", "JSONObjectEachRow", "JSONColumns", "JSONColumnsWithMetadata", "JSONLines",
  "NDJSON", "JSONEachRowWithProgress", "Pretty", "PrettyCompact", "PrettyCompactMonoBlock", "PrettySpace",
  "PrettyNoEscapes", "PrettyCompactNoEscapes", "Vertical", "RowBinary", "RowBinaryWithNames",
  "RowBinaryWithNamesAndTypes", "Native", "Null", "XML", "Markdown", "TSKV", "LineAsString", "RawBLOB",
};

static const char *const input_formats[] = {
  "TabSeparated", "TSV", "TabSeparatedRaw", "TSVRaw", "TabSeparatedWithNames", "TSVWithNames",
  "TabSeparatedWithNamesAndTypes", "TSVWithNamesAndTypes", "CSV", "CSVWithNames", "CSVWithNamesAndTypes",
  "Values", "JSONEachRow", "JSONLines", "NDJSON", "JSONCompactEachRow", "JSONCompactEachRowWithNames",
  "JSONCompactEachRowWithNamesAndTypes", "JSONStringsEachRow", "RowBinary", "RowBinaryWithNames",
  "RowBinaryWithNamesAndTypes", "Native", "LineAsString", "RawBLOB",
};

static void fill_formats(struct query_context *ctx, struct column **c)
{
  (void)ctx;
  for (size_t i = 0; i < sizeof format_candidates / sizeof format_candidates[0]; i++) {
    const char *f = format_candidates[i];
    if (!format_is_known(f))
      continue;
    bool in = false;
    for (size_t k = 0; k < sizeof input_formats / sizeof input_formats[0]; k++)
      if (strcmp(input_formats[k], f) == 0)
        in = true;
    append_str(c[0], f);
    column_append_u64(c[1], in);
    column_append_u64(c[2], 1);
    column_append_u64(c[3], 0);
    column_append_u64(c[4], 0);
    column_append_u64(c[5], 0);
  }
}

static const struct static_table static_tables[] = {
  { "one", "SystemOne", "dummy UInt8", fill_one },
  { "functions", "SystemFunctions",
    "name String, is_aggregate UInt8, case_insensitive UInt8, alias_to String, create_query String, "
    "origin Enum8('System' = 0, 'SQLUserDefined' = 1, 'ExecutableUserDefined' = 2), description String, "
    "syntax String, arguments String, returned_value String, examples String, categories String, "
    "is_deterministic Nullable(UInt8)",
    fill_functions },
  { "settings", "SystemSettings",
    "name String, value String, changed UInt8, description String, min Nullable(String), max Nullable(String), "
    "disallowed_values Array(String), readonly UInt8, type String, default String, alias_for String, "
    "is_obsolete UInt8, tier Enum8('Production' = 0, 'Obsolete' = 4, 'Experimental' = 8, 'Beta' = 12)",
    fill_settings },
  { "databases", "SystemDatabases",
    "name String, engine String, data_path String, metadata_path String, uuid UUID, engine_full String, "
    "comment String",
    fill_databases },
  { "tables", "SystemTables",
    "database String, name String, uuid UUID, engine String, is_temporary UInt8, data_paths Array(String), "
    "metadata_path String, metadata_modification_time DateTime, dependencies_database Array(String), "
    "dependencies_table Array(String), create_table_query String, engine_full String, as_select String, "
    "partition_key String, sorting_key String, primary_key String, sampling_key String, storage_policy String, "
    "total_rows Nullable(UInt64), total_bytes Nullable(UInt64), comment String, has_own_data UInt8",
    fill_tables },
  { "columns", "SystemColumns",
    "database String, table String, name String, type String, position UInt64, default_kind String, "
    "default_expression String, comment String, is_in_partition_key UInt8, is_in_sorting_key UInt8, "
    "compression_codec String, data_compressed_bytes UInt64, data_uncompressed_bytes UInt64, marks_bytes UInt64, "
    "is_physical UInt8",
    fill_columns },
  { "parts", "SystemParts",
    "partition String, name String, part_type String, active UInt8, marks UInt64, rows UInt64, "
    "bytes_on_disk UInt64, data_compressed_bytes UInt64, data_uncompressed_bytes UInt64, marks_bytes UInt64, "
    "modification_time DateTime, remove_time DateTime, refcount UInt32, min_date Date, max_date Date, "
    "min_time DateTime, max_time DateTime, partition_id String, min_block_number Int64, max_block_number Int64, "
    "level UInt32, data_version UInt64, disk_name String, path String, database String, table String, "
    "engine String, bytes UInt64",
    mergetree_fill_parts },
  { "merges", "SystemMerges",
    "database String, table String, elapsed Float64, progress Float64, num_parts UInt64, "
    "source_part_names Array(String), result_part_name String, partition_id String, is_mutation UInt8, "
    "total_size_bytes_compressed UInt64, total_size_marks UInt64, bytes_read_uncompressed UInt64, "
    "rows_read UInt64, bytes_written_uncompressed UInt64, rows_written UInt64, merge_type String",
    mergetree_fill_merges },
  { "formats", "SystemFormats",
    "name String, is_input UInt8, is_output UInt8, supports_parallel_parsing UInt8, "
    "supports_parallel_formatting UInt8, is_tty_friendly UInt8",
    fill_formats },
};

enum { STATIC_TABLE_COUNT = sizeof static_tables / sizeof static_tables[0] };

/* Parses "a T, b U(…), …" (top-level commas only). */
static void parse_schema(struct query_context *ctx, const char *schema, uint32_t *count, const char ***names,
                         const struct datatype ***types)
{
  uint32_t cap = 32, n = 0;
  const char **nm = arena_alloc(ctx->arena, sizeof *nm * cap);
  const struct datatype **ty = arena_alloc(ctx->arena, sizeof *ty * cap);
  const char *p = schema;
  while (*p) {
    while (*p == ' ' || *p == ',')
      p++;
    const char *ns = p;
    while (*p && *p != ' ')
      p++;
    const char *name = arena_strndup(ctx->arena, ns, (size_t)(p - ns));
    while (*p == ' ')
      p++;
    const char *ts = p;
    int depth = 0;
    bool quote = false;
    while (*p && (depth > 0 || quote || *p != ',')) {
      if (*p == '\'')
        quote = !quote;
      else if (!quote && *p == '(')
        depth++;
      else if (!quote && *p == ')')
        depth--;
      p++;
    }
    const struct datatype *t;
    struct error err;
    if (datatype_parse(ctx->arena, ts, (size_t)(p - ts), &t, &err) != 0) {
      fprintf(stderr, "system table schema: %s\n", err.message);
      t = type_str();
    }
    if (n == cap) {
      nm = arena_realloc(ctx->arena, nm, sizeof *nm * cap, sizeof *nm * cap * 2);
      ty = arena_realloc(ctx->arena, ty, sizeof *ty * cap, sizeof *ty * cap * 2);
      cap *= 2;
    }
    nm[n] = name;
    ty[n] = t;
    n++;
  }
  *count = n;
  *names = nm;
  *types = ty;
}

static int static_open(struct table_source *src, struct query_context *ctx, const struct table_read_opts *opts,
                       struct op **out, struct error *err)
{
  (void)err;
  const struct static_table *st = src->impl;
  struct column **cols = arena_alloc(ctx->arena, sizeof *cols * src->column_count);
  for (uint32_t i = 0; i < src->column_count; i++)
    cols[i] = col_new_empty(ctx->arena, src->types[i], 64);
  st->fill(ctx, cols);
  struct block *b = block_create(ctx->arena, opts->column_count);
  b->rows = src->column_count ? cols[0]->rows : 0;
  const char **names = arena_alloc(ctx->arena, sizeof *names * (opts->column_count ? opts->column_count : 1));
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types * (opts->column_count ? opts->column_count : 1));
  for (uint32_t i = 0; i < opts->column_count; i++) {
    b->columns[i] = cols[opts->columns[i]];
    names[i] = src->names[opts->columns[i]];
    types[i] = src->types[opts->columns[i]];
  }
  b->names = names;
  struct block **blocks = arena_alloc(ctx->arena, sizeof *blocks);
  blocks[0] = b;
  atomic_fetch_add(&ctx->stats.read_rows, b->rows);
  *out = op_values_create(ctx, opts->column_count, names, types, blocks, 1);
  return 0;
}

static const struct table_source_vt static_vt = { static_open };

static struct table_source *static_source(struct query_context *ctx, const struct static_table *st)
{
  struct table_source *s = arena_new(ctx->arena, struct table_source);
  s->vt = &static_vt;
  s->database = "system";
  s->name = st->name;
  s->engine = st->engine;
  parse_schema(ctx, st->schema, &s->column_count, &s->names, &s->types);
  s->total_rows = UINT64_MAX;
  s->impl = (void *)st;
  return s;
}

/* ======================================================================
 * lookup
 * ====================================================================== */

static const char *const system_table_names[] = { "columns", "databases", "formats", "functions", "merges",
                                                   "numbers", "numbers_mt", "one", "parts", "settings", "tables",
                                                   "zeros", "zeros_mt" };

static struct table_source *system_table(struct query_context *ctx, const char *name)
{
  if (strcmp(name, "numbers") == 0 || strcmp(name, "numbers_mt") == 0)
    return gen_source(ctx, "system", name, "SystemNumbers", false, 0, UINT64_MAX, 1);
  if (strcmp(name, "zeros") == 0 || strcmp(name, "zeros_mt") == 0)
    return gen_source(ctx, "system", name, "SystemZeros", true, 0, UINT64_MAX, 1);
  for (uint32_t i = 0; i < STATIC_TABLE_COUNT; i++)
    if (strcmp(static_tables[i].name, name) == 0)
      return static_source(ctx, &static_tables[i]);
  return NULL;
}

int table_source_lookup(struct query_context *ctx, const char *database, const char *table,
                        struct table_source **out, struct error *err)
{
  const char *db = database ? database : ctx->database ? ctx->database : "default";
  if (ctx->view_rows && strcmp(db, ctx->view_database) == 0 && strcmp(table, ctx->view_table) == 0) {
    *out = matview_rows_source(ctx);
    return 0;
  }
  if (strcmp(db, "system") == 0) {
    struct table_source *s = system_table(ctx, table);
    if (!s)
      return error_set(err, ERR_UNKNOWN_TABLE, "Table system.%s does not exist", table);
    *out = s;
    return 0;
  }
  for (uint32_t i = 0; i < catalog_count; i++) {
    struct table_source *s = NULL;
    int rc = catalogs[i]->lookup(catalogs[i]->impl, ctx, db, table, &s, err);
    if (rc)
      return rc;
    if (s) {
      *out = s;
      return 0;
    }
  }
  const char **names;
  uint32_t n = table_databases(ctx, &names);
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(names[i], db) == 0)
      return error_set(err, ERR_UNKNOWN_TABLE, "Table %s.%s does not exist", db, table);
  return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", db);
}

uint32_t table_databases(struct query_context *ctx, const char ***out)
{
  uint32_t cap = 8, n = 0;
  const char **names = arena_alloc(ctx->arena, sizeof *names * cap);
  names[n++] = "default";
  names[n++] = "system";
  for (uint32_t i = 0; i < catalog_count; i++) {
    if (!catalogs[i]->databases)
      continue;
    const char **more;
    uint32_t m = catalogs[i]->databases(catalogs[i]->impl, ctx->arena, &more);
    for (uint32_t k = 0; k < m; k++) {
      bool dup = false;
      for (uint32_t j = 0; j < n; j++)
        if (strcmp(names[j], more[k]) == 0)
          dup = true;
      if (dup)
        continue;
      if (n == cap) {
        names = arena_realloc(ctx->arena, names, sizeof *names * cap, sizeof *names * cap * 2);
        cap *= 2;
      }
      names[n++] = more[k];
    }
  }
  /* sorted by name, as system.databases lists them */
  for (uint32_t i = 1; i < n; i++)
    for (uint32_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      const char *t = names[j];
      names[j] = names[j - 1];
      names[j - 1] = t;
    }
  *out = names;
  return n;
}

uint32_t table_list(struct query_context *ctx, const char *database, struct table_source ***out)
{
  if (strcmp(database, "system") == 0) {
    uint32_t n = sizeof system_table_names / sizeof system_table_names[0];
    struct table_source **ts = arena_alloc(ctx->arena, sizeof *ts * n);
    for (uint32_t i = 0; i < n; i++)
      ts[i] = system_table(ctx, system_table_names[i]);
    *out = ts;
    return n;
  }
  for (uint32_t i = 0; i < catalog_count; i++) {
    if (!catalogs[i]->tables)
      continue;
    struct table_source **ts;
    uint32_t n = catalogs[i]->tables(catalogs[i]->impl, ctx, database, &ts);
    if (n) {
      *out = ts;
      return n;
    }
  }
  *out = NULL;
  return 0;
}
