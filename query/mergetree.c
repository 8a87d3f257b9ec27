/* MergeTree tables for SQL: CREATE TABLE text → the engine's table_def (keys,
 * skip-index inputs and DEFAULTs compiled to evaluator callbacks), the table
 * catalog that lets FROM read engine snapshots (with key/partition pruning),
 * DDL statements, and INSERT (streaming, all-or-nothing).
 * The normalized DDL (SHOW CREATE's text) is what the catalog stores, and
 * start-up re-attaches each table by parsing it again through the same path. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/log.h"
#include "engine/engine.h"
#include "query/exec_int.h"
#include "query/input.h"
#include "query/matview.h"
#include "query/query.h"
#include "query/table_source.h"

static const struct server_info *g_info;   /* the service's, for evaluators' time zone */

/* ======================================================================
 * Definitions: one per table version, owned by the engine once attached
 * ==================================================================== */

struct mt_eval {
  struct mt_def *def;
  struct expr *e;
  const struct datatype *cast_to;    /* NULL, or the column type a DEFAULT's value is cast to */
};

struct mt_def {
  struct arena arena;                /* everything below */
  struct query_context qctx;         /* evaluators' context (read-only once built) */
  uint32_t column_count;             /* stored columns */
  const char **names;
  const struct datatype **types;
  struct expr **defaults;            /* per stored column: DEFAULT/MATERIALIZED expression or NULL */
  bool *materialized;                /* per stored column: MATERIALIZED (never inserted explicitly) */
  uint32_t alias_count;              /* ALIAS columns (computed at read) */
  const char **alias_names;
  const struct datatype **alias_types;
  struct expr **alias_exprs;         /* over the stored columns */
  const char *engine_name;
  const char *src;                   /* the stored DDL text (node_text) */
  size_t src_len;
  const char **kinds, **exprs, **codecs;  /* per source column (stored, then ALIAS): DESCRIBE */
  const char *partition_key, *sorting_key, *primary_key;
};

static void mt_def_free(void *p)
{
  struct mt_def *d = p;
  arena_destroy(&d->arena);
  mem_free(d);
}

static int mt_eval_fn(void *ctx, const struct block *rows, struct arena *a, struct column **out, struct error *err)
{
  struct mt_eval *me = ctx;
  struct eval ev = { .ctx = &me->def->qctx, .arena = a, .input = rows, .rows = rows->rows };
  int rc = expr_eval(&ev, me->e, out, err);
  if (rc == 0 && me->cast_to && !datatype_equal((*out)->type, me->cast_to))
    rc = cast_column(&ev, *out, rows->rows, me->cast_to, CAST_THROW, out, err);
  return rc;
}

static const char *fmt_ast(struct arena *a, const struct ast *n)
{
  struct buf b;
  buf_init(&b);
  ast_format(n, &b);
  const char *s = arena_strndup(a, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

/* The node as written in src (AST pos/len), else ClickHouse's rendering. */
static const char *node_text(struct arena *a, const char *src, size_t src_len, const struct ast *n)
{
  if (src && n->len && (size_t)n->pos + n->len <= src_len)
    return arena_strndup(a, src + n->pos, n->len);
  return fmt_ast(a, n);
}

static void append_node(struct buf *b, const char *src, size_t src_len, const struct ast *n)
{
  if (src && n->len && (size_t)n->pos + n->len <= src_len)
    buf_append(b, src + n->pos, n->len);
  else
    ast_format(n, b);
}

/* Elements of a key: tuple(a, b) / (a, b) → a, b; tuple() → none. */
static uint32_t key_elements(const struct ast *n, const struct ast *const **out)
{
  static const struct ast *one[1];
  if (!n) {
    *out = NULL;
    return 0;
  }
  if (n->kind == AST_FUNCTION && strcmp(n->u.function.name, "tuple") == 0) {
    *out = (const struct ast *const *)n->u.function.args.items;
    return n->u.function.args.count;
  }
  one[0] = n;
  *out = one;
  return 1;
}

static int find_column(const struct mt_def *d, const char *name)
{
  for (uint32_t i = 0; i < d->column_count; i++)
    if (strcmp(d->names[i], name) == 0)
      return (int)i;
  return -1;
}

struct ident_walk {
  const struct mt_def *d;
  bool *marks;
};

static int mark_ident(const struct ast *n, uint32_t depth, void *ctx)
{
  (void)depth;
  struct ident_walk *w = ctx;
  if (n->kind != AST_IDENTIFIER)
    return 0;
  const char *name = n->u.identifier.parts[n->u.identifier.part_count - 1];
  int c = find_column(w->d, name);
  if (c < 0 && n->u.identifier.part_count == 2) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s.%s", n->u.identifier.parts[0], n->u.identifier.parts[1]);
    c = find_column(w->d, buf);
  }
  if (c >= 0)
    w->marks[c] = true;
  return 0;
}

/* The stored columns expression n reads, for table_expr.inputs. */
static void expr_inputs(struct mt_def *d, const struct ast *n, struct table_expr *te)
{
  bool *marks = arena_calloc(&d->arena, d->column_count + 1, sizeof *marks);
  struct ident_walk w = { d, marks };
  ast_walk(&d->arena, n, mark_ident, &w);
  uint32_t *in = arena_calloc(&d->arena, d->column_count + 1, sizeof *in), k = 0;
  for (uint32_t c = 0; c < d->column_count; c++)
    if (marks[c])
      in[k++] = c;
  te->inputs = in;
  te->input_count = k;
}

static int compile_expr(struct mt_def *d, const struct ast *n, struct table_expr *te, struct error *err)
{
  te->text = node_text(&d->arena, d->src, d->src_len, n);
  if (n->kind == AST_IDENTIFIER) {
    int c = find_column(d, fmt_ast(&d->arena, n));
    if (c >= 0) {
      te->column = c;
      te->type = d->types[c];
      return 0;
    }
  }
  struct expr *e;
  int rc = analyze_expr_over_columns(&d->qctx, d->column_count, d->names, d->types, n, &e, err);
  if (rc)
    return rc;
  struct mt_eval *me = arena_new(&d->arena, struct mt_eval);
  me->def = d;
  me->e = e;
  te->column = -1;
  te->type = e->type;
  te->eval = mt_eval_fn;
  te->ctx = me;
  expr_inputs(d, n, te);
  return 0;
}

/* Column c's DEFAULT/MATERIALIZED as a table_expr of exactly the column's
 * type, for the engine to compute it over rows of parts that predate it. */
static void compile_default(struct mt_def *d, uint32_t c, const struct ast *n, struct table_expr *te)
{
  struct mt_eval *me = arena_new(&d->arena, struct mt_eval);
  me->def = d;
  me->e = d->defaults[c];
  me->cast_to = d->types[c];
  te->text = node_text(&d->arena, d->src, d->src_len, n);
  te->column = -1;
  te->type = d->types[c];
  te->eval = mt_eval_fn;
  te->ctx = me;
  expr_inputs(d, n, te);
}

static bool is_time_type(const struct datatype *t)
{
  return t->id == TYPE_DATE || t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64;
}

static int literal_u64(const struct ast *v, uint64_t *out)
{
  if (v && v->kind == AST_LITERAL && (v->u.literal.kind == LIT_UINT || v->u.literal.kind == LIT_BOOL)) {
    *out = v->u.literal.u;
    return 0;
  }
  if (v && v->kind == AST_LITERAL && v->u.literal.kind == LIT_STRING) {
    char *end;
    *out = strtoull(v->u.literal.str, &end, 10);
    return *end ? -1 : 0;
  }
  return -1;
}

static double literal_f64(const struct ast *v, double dflt)
{
  if (!v || v->kind != AST_LITERAL)
    return dflt;
  switch (v->u.literal.kind) {
  case LIT_UINT: return (double)v->u.literal.u;
  case LIT_INT: return (double)v->u.literal.i;
  case LIT_FLOAT: return v->u.literal.f;
  default: return dflt;
  }
}

/* The column type text, with the columns of Nested(a T, b U) expanded by the caller. */
static int parse_type(struct arena *a, const char *text, const struct datatype **out, struct error *err)
{
  return datatype_parse(a, text, strlen(text), out, err);
}

static int codec_of(struct arena *a, const struct ast_list *codecs, struct codec_chain *out, struct error *err)
{
  memset(out, 0, sizeof *out);
  if (!codecs->count)
    return 0;
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < codecs->count; i++) {
    if (i)
      buf_append_cstr(&b, ", ");
    const struct ast *c = codecs->items[i];
    if (c->kind == AST_FUNCTION && c->u.function.args.count == 0)
      buf_append_cstr(&b, c->u.function.name);
    else
      ast_format(c, &b);
  }
  buf_append_char(&b, '\0');
  int rc = codec_chain_parse_text(b.data, out, err);
  (void)a;
  buf_free(&b);
  return rc;
}

/* A codec list as ClickHouse shows it: parameters filled in where it adds
 * them (Delta → Delta(width of the values), ZSTD → ZSTD(1)). */
static void codec_list_append(struct buf *b, const struct ast_list *codecs, const struct datatype *t)
{
  while (t && (t->id == TYPE_NULLABLE || t->id == TYPE_ARRAY))
    t = t->children[0];
  size_t width = t ? datatype_fixed_bytes(t) : 0;
  for (uint32_t k = 0; k < codecs->count; k++) {
    if (k)
      buf_append_cstr(b, ", ");
    const struct ast *c = codecs->items[k];
    bool bare = c->kind == AST_FUNCTION && c->u.function.args.count == 0;
    if (bare && strcmp(c->u.function.name, "Delta") == 0 && (width == 1 || width == 2 || width == 4 || width == 8))
      buf_printf(b, "Delta(%zu)", width);
    else if (bare && strcmp(c->u.function.name, "ZSTD") == 0)
      buf_append_cstr(b, "ZSTD(1)");
    else if (bare)
      buf_append_cstr(b, c->u.function.name);
    else
      ast_format(c, b);
  }
}

static const char *codec_text(struct arena *a, const struct ast_list *codecs, const struct datatype *t)
{
  struct buf b;
  buf_init(&b);
  codec_list_append(&b, codecs, t);
  const char *s = arena_strndup(a, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

static const char *key_text(struct arena *a, const char *src, size_t src_len, const struct ast *n);

static int mt_table_def_build(const struct sql_statement *st, const char *src, size_t src_len,
                              struct table_def *def, struct mt_def **out, struct error *err)
{
  struct mt_def *d = mem_calloc(1, sizeof *d);
  arena_init(&d->arena, 0);
  struct arena *a = &d->arena;
  d->src = arena_strndup(a, src, src_len);
  d->src_len = src_len;
  src = d->src;
  d->qctx.arena = a;
  d->qctx.server = g_info;
  d->qctx.settings = settings_create(a);
  d->qctx.database = "default";
  memset(def, 0, sizeof *def);
  int rc = 0;

  /* columns: stored ones (Nested expanded) and ALIAS ones */
  uint32_t cap = st->columns.count * 4 + 4, n = 0, an = 0;
  d->names = arena_calloc(a, cap, sizeof *d->names);
  d->types = arena_calloc(a, cap, sizeof *d->types);
  d->defaults = arena_calloc(a, cap, sizeof *d->defaults);
  d->materialized = arena_calloc(a, cap, sizeof *d->materialized);
  d->alias_names = arena_calloc(a, cap, sizeof *d->alias_names);
  d->alias_types = arena_calloc(a, cap, sizeof *d->alias_types);
  d->alias_exprs = arena_calloc(a, cap, sizeof *d->alias_exprs);
  d->kinds = arena_calloc(a, cap * 2, sizeof *d->kinds);
  d->exprs = arena_calloc(a, cap * 2, sizeof *d->exprs);
  d->codecs = arena_calloc(a, cap * 2, sizeof *d->codecs);
  const char **akinds = arena_calloc(a, cap, sizeof *akinds), **aexprs = arena_calloc(a, cap, sizeof *aexprs);
  static const char *const kind_names[] = { "", "DEFAULT", "MATERIALIZED", "ALIAS", "EPHEMERAL" };
  struct table_column *cols = arena_calloc(a, cap, sizeof *cols);
  const struct ast **col_ast = arena_calloc(a, cap, sizeof *col_ast);
  for (uint32_t i = 0; i < st->columns.count; i++) {
    const struct ast *c = st->columns.items[i];
    const struct ast_column_def *cd = &c->u.column_def;
    if (!cd->type) {
      rc = error_set(err, ERR_NOT_IMPLEMENTED, "Column %s: a type is required", cd->name);
      goto out_fail;
    }
    const struct datatype *t;
    if ((rc = parse_type(a, cd->type, &t, err)))
      goto out_fail;
    for (uint32_t k = 0; k < n; k++)
      if (strcmp(d->names[k], cd->name) == 0) {
        rc = error_set(err, ERR_DUPLICATE_COLUMN, "Column %s already exists", cd->name);
        goto out_fail;
      }
    const char *kt = cd->default_expr ? kind_names[cd->default_kind] : "";
    const char *et = cd->default_expr ? node_text(a, src, src_len, cd->default_expr) : "";
    if (cd->default_kind == COLUMN_ALIAS) {
      d->alias_names[an] = arena_strdup(a, cd->name);
      d->alias_types[an] = t;
      akinds[an] = kt;
      aexprs[an] = et;
      an++;
      continue;
    }
    const char *ct = codec_text(a, &cd->codecs, t);
    struct codec_chain codec;
    if ((rc = codec_of(a, &cd->codecs, &codec, err)))
      goto out_fail;
    if (t->id == TYPE_NESTED) {
      for (uint32_t k = 0; k < t->child_count; k++) {
        d->names[n] = arena_printf(a, "%s.%s", cd->name, t->names[k]);
        d->types[n] = datatype_array(a, t->children[k]);
        cols[n].codec = codec;
        d->kinds[n] = d->exprs[n] = "";
        d->codecs[n] = ct;
        n++;
      }
      continue;
    }
    d->names[n] = arena_strdup(a, cd->name);
    d->types[n] = t;
    d->materialized[n] = cd->default_kind == COLUMN_MATERIALIZED;
    cols[n].codec = codec;
    d->kinds[n] = kt;
    d->exprs[n] = et;
    d->codecs[n] = ct;
    col_ast[n] = c;
    n++;
  }
  d->column_count = n;
  d->alias_count = an;
  for (uint32_t i = 0; i < an; i++) {
    d->kinds[n + i] = akinds[i];
    d->exprs[n + i] = aexprs[i];
    d->codecs[n + i] = "";
  }
  d->partition_key = st->partition_by ? key_text(a, src, src_len, st->partition_by) : "";
  d->sorting_key = key_text(a, src, src_len, st->order_by ? st->order_by : st->primary_key);
  d->primary_key = key_text(a, src, src_len, st->primary_key ? st->primary_key : st->order_by);
  if (n == 0) {
    rc = error_set(err, ERR_INCORRECT_QUERY, "Empty list of columns passed");
    goto out_fail;
  }
  for (uint32_t i = 0; i < n; i++) {
    cols[i].name = d->names[i];
    cols[i].type = d->types[i];
    if (col_ast[i] && col_ast[i]->u.column_def.default_expr &&
        col_ast[i]->u.column_def.default_kind != COLUMN_ALIAS) {
      struct expr *e;
      if ((rc = analyze_expr_over_columns(&d->qctx, n, d->names, d->types, col_ast[i]->u.column_def.default_expr,
                                          &e, err)))
        goto out_fail;
      d->defaults[i] = e;
      compile_default(d, i, col_ast[i]->u.column_def.default_expr, &cols[i].default_expr);
    }
  }
  an = 0;
  for (uint32_t i = 0; i < st->columns.count; i++) {
    const struct ast_column_def *cd = &st->columns.items[i]->u.column_def;
    if (cd->default_kind != COLUMN_ALIAS)
      continue;
    if ((rc = analyze_expr_over_columns(&d->qctx, n, d->names, d->types, cd->default_expr, &d->alias_exprs[an],
                                        err)))
      goto out_fail;
    an++;
  }
  def->column_count = n;
  def->columns = cols;

  /* engine */
  const struct ast *eng = st->engine;
  const char *ename = eng ? eng->u.function.name : "MergeTree";
  d->engine_name = arena_strdup(a, ename);
  def->version_column = -1;
  if (strcmp(ename, "MergeTree") == 0) {
    def->kind = TABLE_MERGE_TREE;
  } else if (strcmp(ename, "ReplacingMergeTree") == 0) {
    def->kind = TABLE_REPLACING_MERGE_TREE;
    if (eng->u.function.args.count >= 1) {
      const struct ast *v = eng->u.function.args.items[0];
      int c = v->kind == AST_IDENTIFIER ? find_column(d, fmt_ast(a, v)) : -1;
      if (c < 0) {
        rc = error_set(err, ERR_BAD_ARGUMENTS, "Version column %s of ReplacingMergeTree is not found",
                       fmt_ast(a, v));
        goto out_fail;
      }
      def->version_column = c;
    }
  } else if (strcmp(ename, "SummingMergeTree") == 0) {
    def->kind = TABLE_SUMMING_MERGE_TREE;
    if (eng->u.function.args.count >= 1) {
      const struct ast *const *els;
      uint32_t k = key_elements(eng->u.function.args.items[0], &els);
      uint32_t *sc = arena_calloc(a, k ? k : 1, sizeof *sc);
      for (uint32_t i = 0; i < k; i++) {
        int c = find_column(d, fmt_ast(a, els[i]));
        if (c < 0) {
          rc = error_set(err, ERR_NO_SUCH_COLUMN_IN_TABLE, "Column %s listed in columns to sum does not exist",
                         fmt_ast(a, els[i]));
          goto out_fail;
        }
        sc[i] = (uint32_t)c;
      }
      def->sum_column_count = k;
      def->sum_columns = sc;
    }
  } else {
    rc = error_set(err, ERR_UNKNOWN_STORAGE, "Unknown table engine %s", ename);
    goto out_fail;
  }

  /* keys */
  bool *marks = arena_calloc(a, n, sizeof *marks);
  struct ident_walk w = { d, marks };
  const struct ast *const *els;
  uint32_t k = key_elements(st->partition_by, &els);
  struct table_expr *pk = arena_calloc(a, k ? k : 1, sizeof *pk);
  for (uint32_t i = 0; i < k; i++) {
    if ((rc = compile_expr(d, els[i], &pk[i], err)))
      goto out_fail;
    ast_walk(a, els[i], mark_ident, &w);
  }
  def->partition_key_count = k;
  def->partition_key = pk;
  if (!st->order_by && !st->primary_key) {
    rc = error_set(err, ERR_BAD_ARGUMENTS, "Table engine %s requires ORDER BY or PRIMARY KEY clause", ename);
    goto out_fail;
  }
  bool *sort_marks = arena_calloc(a, n, sizeof *sort_marks);
  struct ident_walk sw = { d, sort_marks };
  k = key_elements(st->order_by ? st->order_by : st->primary_key, &els);
  struct table_expr *sk = arena_calloc(a, k ? k : 1, sizeof *sk);
  int32_t time_col = -1;
  for (uint32_t i = 0; i < k; i++) {
    if ((rc = compile_expr(d, els[i], &sk[i], err)))
      goto out_fail;
    ast_walk(a, els[i], mark_ident, &sw);
  }
  def->sort_key_count = k;
  def->sort_key = sk;
  for (uint32_t i = 0; i < n; i++) {
    cols[i].in_sorting_key = sort_marks[i];
    if (time_col < 0 && sort_marks[i] && is_time_type(datatype_unwrap(d->types[i])))
      time_col = (int32_t)i;
  }
  for (uint32_t i = 0; i < n && time_col < 0; i++)
    if (marks[i] && is_time_type(datatype_unwrap(d->types[i])))
      time_col = (int32_t)i;
  def->time_column = time_col;
  if (time_col >= 0)
    marks[time_col] = true;
  uint32_t mm = 0;
  uint32_t *mmc = arena_calloc(a, n, sizeof *mmc);
  for (uint32_t i = 0; i < n; i++)
    if (marks[i])
      mmc[mm++] = i;
  def->minmax_column_count = mm;
  def->minmax_columns = mmc;
  if (st->primary_key) {
    uint32_t pkn = key_elements(st->primary_key, &els);
    if (st->order_by && pkn > def->sort_key_count) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "Primary key must be a prefix of the sorting key");
      goto out_fail;
    }
    def->primary_key_count = pkn;
  }

  /* skip indexes */
  struct table_index *ix = arena_calloc(a, st->indexes.count + 1, sizeof *ix);
  for (uint32_t i = 0; i < st->indexes.count; i++) {
    const struct ast_index_def *id = &st->indexes.items[i]->u.index_def;
    struct table_index *x = &ix[i];
    x->name = arena_strdup(a, id->name);
    if ((rc = compile_expr(d, id->expr, &x->expr, err)))
      goto out_fail;
    x->granularity = id->granularity ? (uint32_t)id->granularity : 1;
    const struct ast *ty = id->type;
    const char *tn = ty->kind == AST_FUNCTION ? ty->u.function.name : fmt_ast(a, ty);
    const struct ast_list *args = ty->kind == AST_FUNCTION ? &ty->u.function.args : NULL;
    uint32_t argc = args ? args->count : 0;
    uint64_t v = 0;
    if (strcmp(tn, "minmax") == 0) {
      x->type = SKIP_INDEX_MINMAX;
    } else if (strcmp(tn, "set") == 0) {
      x->type = SKIP_INDEX_SET;
      if (argc >= 1 && literal_u64(args->items[0], &v) == 0)
        x->max_rows = (uint32_t)v;
    } else if (strcmp(tn, "bloom_filter") == 0) {
      x->type = SKIP_INDEX_BLOOM_FILTER;
      x->false_positive_rate = argc >= 1 ? literal_f64(args->items[0], 0.025) : 0.025;
    } else if (strcmp(tn, "tokenbf_v1") == 0 || strcmp(tn, "ngrambf_v1") == 0) {
      bool ng = tn[0] == 'n';
      x->type = ng ? SKIP_INDEX_NGRAMBF : SKIP_INDEX_TOKENBF;
      uint32_t base = 0;
      if (ng) {
        if (argc < 4 || literal_u64(args->items[0], &v)) {
          rc = error_set(err, ERR_INCORRECT_QUERY, "ngrambf_v1 index must have exactly 4 arguments");
          goto out_fail;
        }
        x->ngram_n = (uint32_t)v;
        base = 1;
      } else if (argc < 3) {
        rc = error_set(err, ERR_INCORRECT_QUERY, "tokenbf_v1 index must have exactly 3 arguments");
        goto out_fail;
      }
      if (literal_u64(args->items[base], &v) == 0)
        x->size_bytes = (uint32_t)v;
      if (literal_u64(args->items[base + 1], &v) == 0)
        x->hash_count = (uint32_t)v;
      if (literal_u64(args->items[base + 2], &v) == 0)
        x->seed = (uint32_t)v;
    } else {
      rc = error_set(err, ERR_INCORRECT_QUERY, "Unknown Index type '%s'", tn);
      goto out_fail;
    }
  }
  def->index_count = st->indexes.count;
  def->indexes = ix;

  /* settings */
  for (uint32_t i = 0; i < st->table_settings.count; i++) {
    const struct ast *s = st->table_settings.items[i];
    uint64_t v;
    const char *name = s->u.setting.name;
    if (literal_u64(s->u.setting.value, &v) != 0)
      continue;
    if (strcmp(name, "index_granularity") == 0) {
      if (v == 0) {
        rc = error_set(err, ERR_BAD_ARGUMENTS, "index_granularity: value must not be zero");
        goto out_fail;
      }
      def->settings.index_granularity = (uint32_t)v;
    } else if (strcmp(name, "index_granularity_bytes") == 0) {
      def->settings.index_granularity_bytes = v;
    } else if (strcmp(name, "parts_to_delay_insert") == 0) {
      def->settings.parts_to_delay_insert = v;
    } else if (strcmp(name, "parts_to_throw_insert") == 0) {
      def->settings.parts_to_throw_insert = v;
    }
  }
  def->ctx = d;
  def->ctx_free = mt_def_free;
  *out = d;
  return 0;

out_fail:
  mt_def_free(d);
  return rc;
}

static const char *key_text(struct arena *a, const char *src, size_t src_len, const struct ast *n)
{
  const struct ast *const *els;
  uint32_t k = key_elements(n, &els);
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < k; i++) {
    if (i)
      buf_append_cstr(&b, ", ");
    append_node(&b, src, src_len, els[i]);
  }
  const char *s = arena_strndup(a, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

/* ======================================================================
 * Normalized DDL (SHOW CREATE TABLE, and what the catalog stores)
 * ==================================================================== */

static void append_ident(struct buf *b, const char *name)
{
  buf_append_char(b, '`');
  for (const char *p = name; *p; p++) {
    if (*p == '`' || *p == '\\')
      buf_append_char(b, '\\');
    buf_append_char(b, *p);
  }
  buf_append_char(b, '`');
}

void sql_append_name(struct buf *b, const char *name)
{
  bool plain = (name[0] < '0' || name[0] > '9') && name[0];
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
      plain = false;
  if (plain)
    buf_append_cstr(b, name);
  else
    append_ident(b, name);
}

static void append_key(struct buf *b, const char *src, size_t src_len, const struct ast *n)
{
  const struct ast *const *els;
  uint32_t k = key_elements(n, &els);
  if (k == 1) {
    append_node(b, src, src_len, els[0]);
    return;
  }
  if (k == 0) {
    buf_append_cstr(b, "tuple()");
    return;
  }
  buf_append_char(b, '(');
  for (uint32_t i = 0; i < k; i++) {
    if (i)
      buf_append_cstr(b, ", ");
    append_node(b, src, src_len, els[i]);
  }
  buf_append_char(b, ')');
}

static void append_literal_value(struct buf *b, const struct ast *v)
{
  if (v->kind == AST_LITERAL && v->u.literal.kind == LIT_STRING) {
    buf_append_char(b, '\'');
    for (uint32_t i = 0; i < v->u.literal.str_len; i++) {
      char c = v->u.literal.str[i];
      if (c == '\'' || c == '\\')
        buf_append_char(b, '\\');
      buf_append_char(b, c);
    }
    buf_append_char(b, '\'');
  } else {
    ast_format(v, b);
  }
}

/* alt (may be NULL): a column or index definition whose text is in
 * alt_src rather than src (ALTER … ADD). */
static const char *ddl_normalize(struct arena *a, const struct sql_statement *st, const char *db, const char *name,
                                 const char *src0, size_t src_len0, const struct ast *alt, const char *alt_src,
                                 size_t alt_len)
{
  const char *src = src0;
  size_t src_len = src_len0;
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, "CREATE TABLE ");
  sql_append_name(&b, db);
  buf_append_char(&b, '.');
  sql_append_name(&b, name);
  buf_append_cstr(&b, "\n(\n");
  uint32_t items = st->columns.count + st->indexes.count;
  uint32_t item = 0;
  for (uint32_t i = 0; i < st->columns.count; i++, item++) {
    const struct ast_column_def *cd = &st->columns.items[i]->u.column_def;
    src = st->columns.items[i] == alt ? alt_src : src0;
    src_len = st->columns.items[i] == alt ? alt_len : src_len0;
    const struct datatype *t = NULL;
    struct error e2 = { 0 };
    if (cd->type && datatype_parse(a, cd->type, strlen(cd->type), &t, &e2) != 0)
      t = NULL;
    uint32_t parts = t && t->id == TYPE_NESTED ? t->child_count : 1;
    for (uint32_t np = 0; np < parts; np++) {
    if (np)
      buf_append_cstr(&b, ",\n");
    buf_append_cstr(&b, "    ");
    if (t && t->id == TYPE_NESTED) {
      /* flatten_nested = 1: Nested(a T) is stored as `x.a` Array(T) */
      append_ident(&b, arena_printf(a, "%s.%s", cd->name, t->names[np]));
      buf_append_cstr(&b, " Array(");
      datatype_format(t->children[np], &b);
      buf_append_char(&b, ')');
    } else {
      append_ident(&b, cd->name);
      buf_append_char(&b, ' ');
      if (t)
        datatype_format(t, &b);
      else if (cd->type)
        buf_append_cstr(&b, cd->type);
    }
    if (cd->default_expr) {
      static const char *const kinds[] = { "", " DEFAULT ", " MATERIALIZED ", " ALIAS ", " EPHEMERAL " };
      buf_append_cstr(&b, kinds[cd->default_kind]);
      append_node(&b, src, src_len, cd->default_expr);
    }
    if (cd->comment) {
      buf_append_cstr(&b, " COMMENT '");
      for (const char *p = cd->comment; *p; p++) {
        if (*p == '\'' || *p == '\\')
          buf_append_char(&b, '\\');
        buf_append_char(&b, *p);
      }
      buf_append_char(&b, '\'');
    }
    if (cd->codecs.count) {
      buf_append_cstr(&b, " CODEC(");
      codec_list_append(&b, &cd->codecs, t && t->id == TYPE_NESTED ? t->children[np] : t);
      buf_append_char(&b, ')');
    }
    if (cd->ttl) {
      buf_append_cstr(&b, " TTL ");
      append_node(&b, src, src_len, cd->ttl);
    }
    }
    buf_append_cstr(&b, item + 1 < items ? ",\n" : "\n");
  }
  for (uint32_t i = 0; i < st->indexes.count; i++, item++) {
    const struct ast_index_def *id = &st->indexes.items[i]->u.index_def;
    src = st->indexes.items[i] == alt ? alt_src : src0;
    src_len = st->indexes.items[i] == alt ? alt_len : src_len0;
    buf_append_cstr(&b, "    INDEX ");
    sql_append_name(&b, id->name);
    buf_append_char(&b, ' ');
    append_node(&b, src, src_len, id->expr);
    buf_append_cstr(&b, " TYPE ");
    const struct ast *ty = id->type;
    if (ty->kind == AST_FUNCTION && ty->u.function.args.count == 0)
      buf_append_cstr(&b, ty->u.function.name);
    else
      ast_format(ty, &b);
    buf_printf(&b, " GRANULARITY %" PRIu64, id->granularity ? id->granularity : 1);
    buf_append_cstr(&b, item + 1 < items ? ",\n" : "\n");
  }
  src = src0;
  src_len = src_len0;
  buf_append_cstr(&b, ")\nENGINE = ");
  const struct ast *eng = st->engine;
  if (!eng) {
    buf_append_cstr(&b, "MergeTree");
  } else {
    buf_append_cstr(&b, eng->u.function.name);
    if (eng->u.function.args.count) {
      buf_append_char(&b, '(');
      for (uint32_t i = 0; i < eng->u.function.args.count; i++) {
        if (i)
          buf_append_cstr(&b, ", ");
        append_node(&b, src, src_len, eng->u.function.args.items[i]);
      }
      buf_append_char(&b, ')');
    }
  }
  if (st->partition_by) {
    buf_append_cstr(&b, "\nPARTITION BY ");
    append_key(&b, src, src_len, st->partition_by);
  }
  if (st->primary_key) {
    buf_append_cstr(&b, "\nPRIMARY KEY ");
    append_key(&b, src, src_len, st->primary_key);
  }
  buf_append_cstr(&b, "\nORDER BY ");
  append_key(&b, src, src_len, st->order_by ? st->order_by : st->primary_key);
  if (st->ttl.count) {
    buf_append_cstr(&b, "\nTTL ");
    for (uint32_t i = 0; i < st->ttl.count; i++) {
      const struct ast_ttl_element *t = &st->ttl.items[i]->u.ttl;
      if (i)
        buf_append_cstr(&b, ", ");
      append_node(&b, src, src_len, t->expr);
      if (t->action == TTL_TO_DISK)
        buf_printf(&b, " TO DISK '%s'", t->target);
      else if (t->action == TTL_TO_VOLUME)
        buf_printf(&b, " TO VOLUME '%s'", t->target);
      if (t->where) {
        buf_append_cstr(&b, " WHERE ");
        append_node(&b, src, src_len, t->where);
      }
    }
  }
  buf_append_cstr(&b, "\nSETTINGS ");
  bool has_ig = false;
  for (uint32_t i = 0; i < st->table_settings.count; i++)
    if (strcmp(st->table_settings.items[i]->u.setting.name, "index_granularity") == 0)
      has_ig = true;
  uint32_t out_n = 0;
  for (uint32_t i = 0; i < st->table_settings.count; i++) {
    const struct ast *s = st->table_settings.items[i];
    if (out_n++)
      buf_append_cstr(&b, ", ");
    buf_printf(&b, "%s = ", s->u.setting.name);
    append_literal_value(&b, s->u.setting.value);
  }
  if (!has_ig)
    buf_printf(&b, "%sindex_granularity = 8192", out_n ? ", " : "");
  if (st->comment) {
    buf_append_cstr(&b, "\nCOMMENT '");
    for (const char *p = st->comment; *p; p++) {
      if (*p == '\'' || *p == '\\')
        buf_append_char(&b, '\\');
      buf_append_char(&b, *p);
    }
    buf_append_char(&b, '\'');
  }
  const char *s = arena_strndup(a, b.data, b.len);
  buf_free(&b);
  return s;
}

/* ======================================================================
 * Reading: a table source over one snapshot
 * ==================================================================== */

struct mt_source {
  struct engine_snapshot *snap;
  const struct mt_def *def;
  uint32_t stored;                   /* def->column_count */
};

/* ======================================================================
 * Pruning: WHERE/PREWHERE conjuncts `col op const` (=, <, <=, >, >=, IN
 * constant sets) on sorting-key columns and min/max columns
 * ==================================================================== */

struct mt_conds {
  struct engine_key_cond keys[64];
  uint32_t key_count;
  struct engine_column_cond cols[64];
  uint32_t col_count;
  struct engine_index_cond idx[64];
  uint32_t idx_count;
};

static const char *fn_canon(const struct expr *e)
{
  if (e->kind != EXPR_FUNCTION || !e->call || !e->call->def)
    return "";
  const struct function_def *d = e->call->def;
  return d->alias_to ? d->alias_to : d->name;
}

/* Whether query expression q (inputs: read positions, see opts) computes
 * the same as definition expression d (inputs: table columns). */
static bool expr_same(const struct expr *d, const struct expr *q, const struct table_read_opts *opts)
{
  if (q->kind == EXPR_INPUT)
    return d->kind == EXPR_INPUT && q->index < opts->column_count && opts->columns[q->index] == d->index;
  if (d->kind != q->kind)
    return false;
  if (d->kind == EXPR_CONST)
    return datatype_equal(d->value->type, q->value->type) && column_rows_equal(d->value, 0, q->value, 0);
  if (d->kind != EXPR_FUNCTION || strcmp(fn_canon(d), fn_canon(q)) != 0 || d->arg_count != q->arg_count)
    return false;
  for (uint32_t i = 0; i < d->arg_count; i++)
    if (!expr_same(d->args[i], q->args[i], opts))
      return false;
  return true;
}

/* Whether q is the definition expression te. */
static bool te_same(const struct table_expr *te, const struct expr *q, const struct table_read_opts *opts)
{
  if (te->column >= 0)
    return q->kind == EXPR_INPUT && q->index < opts->column_count && opts->columns[q->index] == (uint32_t)te->column;
  const struct mt_eval *me = te->ctx;
  return me && me->e && expr_same(me->e, q, opts);
}

static bool int_fits(const struct datatype *t, const struct column *v)
{
  const struct datatype *vt = datatype_unwrap(v->type);
  bool vs = datatype_is_signed(vt);
  int64_t iv = vs ? column_get_i64(v, 0) : 0;
  uint64_t uv = vs ? (iv < 0 ? 0 : (uint64_t)iv) : column_get_u64(v, 0);
  if (vs && iv < 0) {
    if (!datatype_is_signed(t))
      return false;
    unsigned bits = type_int_bits(t);
    return bits >= 64 || iv >= -((int64_t)1 << (bits - 1));
  }
  unsigned bits = type_int_bits(t);
  if (bits >= 64)
    return datatype_is_signed(t) ? uv <= (uint64_t)INT64_MAX : true;
  return uv <= ((uint64_t)1 << (bits - (datatype_is_signed(t) ? 1 : 0))) - 1;
}

/* A bound converted to `to` (a key element, column or index input type):
 * false when the conversion could change which values match. *exact is
 * false when the bound may have moved (the caller makes it inclusive). */
static bool bound_cast(struct query_context *ctx, const struct column *v, const struct datatype *to,
                       struct column **out, bool *exact)
{
  if (to->id == TYPE_NULLABLE || (to->id == TYPE_LOW_CARDINALITY && to->children[0]->id == TYPE_NULLABLE))
    return false;
  const struct datatype *tt = datatype_unwrap(to);
  if (!v || v->type->id == TYPE_NULLABLE || datatype_unwrap(v->type)->id == TYPE_NOTHING)
    return false;
  const struct datatype *vt = datatype_unwrap(v->type);
  *exact = true;
  if (datatype_equal(vt, tt)) {
    *out = (struct column *)v;
    if (v->type->id == TYPE_LOW_CARDINALITY)
      *out = col_strip_lc(ctx->arena, v);
    return true;
  }
  bool ok = false;
  bool v_int = datatype_is_integer(vt) || vt->id == TYPE_BOOL, v_str = vt->id == TYPE_STRING;
  bool t_int = datatype_is_integer(tt), t_str = tt->id == TYPE_STRING || tt->id == TYPE_FIXED_STRING;
  bool t_time = is_time_type(tt), v_time = is_time_type(vt);
  if (v_int && t_int)
    ok = int_fits(tt, v);
  else if (v_int && datatype_is_float(tt))
    ok = true;
  else if (datatype_is_float(vt) && datatype_is_float(tt))
    ok = true;
  else if (v_str && (t_str || t_time || tt->id == TYPE_UUID))
    ok = true;
  else if (v_time && t_time)
    ok = true;
  else if (v_int && t_time)
    ok = !datatype_is_signed(vt) || column_get_i64(v, 0) >= 0;
  if (!ok)
    return false;
  struct error e = { 0 };
  struct column *c = col_with_rows(ctx->arena, v, 1);
  c->is_const = false;
  if (cast_const(ctx, ctx->arena, c, tt, out, &e) != 0)
    return false;
  *exact = v_int && t_int;
  return true;
}

/* The ranges an atom allows for its left side: =, <, <=, >, >=, IN. */
struct atom {
  const struct expr *left;
  const char *fn;
  uint32_t count;                    /* alternatives */
  struct engine_range r[64];
};

static bool atom_parse(struct query_context *ctx, const struct expr *e, struct atom *at)
{
  const char *fn = fn_canon(e);
  if (e->arg_count != 2)
    return false;
  const struct expr *l = e->args[0], *r = e->args[1];
  bool swapped = false;
  if (l->kind == EXPR_CONST && r->kind != EXPR_CONST) {
    const struct expr *t = l;
    l = r;
    r = t;
    swapped = true;
  }
  if (r->kind != EXPR_CONST || l->kind == EXPR_CONST || !r->value)
    return false;
  struct column *v = r->value;
  at->left = l;
  at->fn = fn;
  at->count = 1;
  struct engine_range *rg = &at->r[0];
  memset(rg, 0, sizeof *rg);
  if (strcmp(fn, "equals") == 0) {
    rg->lo = rg->hi = v;
    rg->lo_inclusive = rg->hi_inclusive = true;
  } else if (strcmp(fn, "less") == 0 || strcmp(fn, "lessOrEquals") == 0) {
    bool inc = fn[4] == 'O';
    if (!swapped) { rg->hi = v; rg->hi_inclusive = inc; } else { rg->lo = v; rg->lo_inclusive = inc; }
  } else if (strcmp(fn, "greater") == 0 || strcmp(fn, "greaterOrEquals") == 0) {
    bool inc = fn[7] == 'O';
    if (!swapped) { rg->lo = v; rg->lo_inclusive = inc; } else { rg->hi = v; rg->hi_inclusive = inc; }
  } else if (strcmp(fn, "like") == 0 && !swapped && datatype_unwrap(v->type)->id == TYPE_STRING) {
    /* LIKE 'prefix%': [prefix, prefix with its last byte + 1) */
    struct slice pat = column_get_bytes(v, 0);
    size_t n = 0;
    while (n < pat.len && pat.ptr[n] != '%' && pat.ptr[n] != '_' && pat.ptr[n] != '\\')
      n++;
    if (n == 0)
      return false;
    struct column *lo = col_full(ctx->arena, col_const_str(ctx->arena, pat.ptr, n, 1), 1);
    rg->lo = lo;
    rg->lo_inclusive = true;
    if (n == pat.len) {
      rg->hi = lo;
      rg->hi_inclusive = true;
    } else {
      size_t m = n;
      while (m > 0 && (unsigned char)pat.ptr[m - 1] == 0xFF)
        m--;
      if (m > 0) {
        char *hb = arena_strndup(ctx->arena, pat.ptr, m);
        hb[m - 1] = (char)((unsigned char)hb[m - 1] + 1);
        rg->hi = col_full(ctx->arena, col_const_str(ctx->arena, hb, m, 1), 1);
        rg->hi_inclusive = false;
      }
    }
  } else if (strcmp(fn, "in") == 0 && !swapped) {
    const struct datatype *vt = v->type;
    uint32_t n = 0;
    if (vt->id == TYPE_TUPLE) {
      for (uint32_t k = 0; k < v->child_count && n < 64; k++)
        at->r[n++] = (struct engine_range){ v->children[k], v->children[k], true, true };
      if (v->child_count > 64)
        return false;
    } else if (vt->id == TYPE_ARRAY) {
      const struct column *el = v->children[0];
      if (el->rows > 64)
        return false;
      for (uint32_t k = 0; k < el->rows; k++) {
        struct column *one = column_slice(ctx->arena, el, k, 1);
        at->r[n++] = (struct engine_range){ one, one, true, true };
      }
    } else {
      at->r[n++] = (struct engine_range){ v, v, true, true };
    }
    at->count = n;
  } else {
    return false;
  }
  return true;
}

/* Converts the atom's ranges to type t; false if any bound cannot be. */
static bool ranges_cast(struct query_context *ctx, const struct atom *at, const struct datatype *t,
                        struct engine_range *out)
{
  for (uint32_t i = 0; i < at->count; i++) {
    struct engine_range r = at->r[i];
    bool exact;
    struct column *c;
    if (r.lo) {
      if (!bound_cast(ctx, r.lo, t, &c, &exact))
        return false;
      r.lo = c;
      r.lo_inclusive |= !exact;
    }
    if (r.hi) {
      if (r.hi == at->r[i].lo && r.lo) {
        r.hi = r.lo;
      } else {
        if (!bound_cast(ctx, r.hi, t, &c, &exact))
          return false;
        r.hi = c;
        r.hi_inclusive |= !exact;
      }
    }
    out[i] = r;
  }
  return true;
}

static const char *const monotonic_fns[] = {
  "toDate", "toDateTime", "toDateTime64", "toStartOfHour", "toStartOfDay", "toStartOfMinute",
  "toStartOfFiveMinutes", "toStartOfFiveMinute", "toStartOfTenMinutes", "toStartOfFifteenMinutes",
  "toStartOfMonth", "toStartOfQuarter", "toStartOfYear", "toMonday", "toUnixTimestamp", "toYYYYMM",
  "toYYYYMMDD", "toStartOfInterval", "toStartOfSecond",
};

/* Key element `te` = f(column col, constants) with f non-decreasing: the
 * WHERE range of the column maps to [f(lo), f(hi)]. */
static bool monotonic_over(const struct table_expr *te, uint32_t col)
{
  if (te->column >= 0 || !te->ctx)
    return false;
  const struct expr *e = ((const struct mt_eval *)te->ctx)->e;
  if (e->kind != EXPR_FUNCTION)
    return false;
  const char *fn = fn_canon(e);
  bool known = false;
  for (size_t i = 0; i < sizeof monotonic_fns / sizeof monotonic_fns[0]; i++)
    if (strcmp(fn, monotonic_fns[i]) == 0)
      known = true;
  if (!known || e->arg_count == 0 || e->args[0]->kind != EXPR_INPUT || e->args[0]->index != col)
    return false;
  for (uint32_t i = 1; i < e->arg_count; i++)
    if (e->args[i]->kind != EXPR_CONST)
      return false;
  return true;
}

static bool map_bound(struct query_context *ctx, const struct mt_source *ms, const struct table_expr *te,
                      uint32_t col, const struct column *v, struct column **out)
{
  const struct mt_def *md = ms->def;
  struct block *b = block_create(ctx->arena, md->column_count);
  b->rows = 1;
  b->names = (const char **)md->names;
  for (uint32_t c = 0; c < md->column_count; c++)
    b->columns[c] = c == col ? (struct column *)v : col_new(ctx->arena, md->types[c], 1);
  struct error e = { 0 };
  struct eval ev = { .ctx = ctx, .arena = ctx->arena, .input = b, .rows = 1 };
  struct column *r;
  if (expr_eval(&ev, ((const struct mt_eval *)te->ctx)->e, &r, &e) != 0)
    return false;
  *out = col_full(ctx->arena, r, 1);
  return true;
}

static void add_index_cond(struct mt_conds *mc, const char *name, enum engine_index_op op, const struct column *vals,
                           const struct engine_range *r)
{
  if (mc->idx_count >= 64)
    return;
  struct engine_index_cond *c = &mc->idx[mc->idx_count++];
  memset(c, 0, sizeof *c);
  c->index = name;
  c->op = op;
  c->values = vals;
  if (r)
    c->range = *r;
}

/* A column of the alternatives' values (points only) in type t. */
static const struct column *points_column(struct query_context *ctx, const struct atom *at, const struct datatype *t)
{
  struct engine_range rs[64];
  if (!ranges_cast(ctx, at, t, rs))
    return NULL;
  struct column *c = column_create(ctx->arena, datatype_unwrap(t), at->count);
  for (uint32_t i = 0; i < at->count; i++) {
    if (!rs[i].lo || rs[i].lo != rs[i].hi)
      return NULL;
    column_append_from(c, rs[i].lo, 0);
  }
  return c;
}

static const struct datatype *array_element(const struct datatype *t)
{
  t = datatype_unwrap(t);
  return t->id == TYPE_ARRAY ? t->children[0] : NULL;
}

/* The longest run of LIKE pattern bytes without wildcards. */
static const char *like_literal(struct arena *a, const struct column *pat)
{
  struct slice s = column_get_bytes(pat, 0);
  size_t best = 0, best_at = 0, run = 0, run_at = 0;
  struct buf lit;
  buf_init(&lit);
  for (size_t i = 0; i < s.len; i++) {
    char ch = s.ptr[i];
    if (ch == '%' || ch == '_') {
      run = 0;
      run_at = lit.len;
      continue;
    }
    if (ch == '\\' && i + 1 < s.len)
      ch = s.ptr[++i];
    buf_append_char(&lit, ch);
    run++;
    if (run > best) {
      best = run;
      best_at = run_at;
    }
  }
  const char *r = best ? arena_strndup(a, lit.data + best_at, best) : NULL;
  buf_free(&lit);
  return r;
}

static void collect_index_conds(struct query_context *ctx, struct mt_conds *mc, const struct mt_source *ms,
                                const struct table_read_opts *opts, const struct expr *e)
{
  const struct table_def *def = engine_snapshot_def(ms->snap);
  const char *fn = fn_canon(e);
  if (e->arg_count != 2 || e->args[1]->kind != EXPR_CONST || !e->args[1]->value)
    return;
  const struct column *v = e->args[1]->value;
  for (uint32_t k = 0; k < def->index_count; k++) {
    const struct table_index *x = &def->indexes[k];
    bool text_index = x->type == SKIP_INDEX_TOKENBF || x->type == SKIP_INDEX_NGRAMBF;
    if (strcmp(fn, "mapContains") == 0) {
      const struct datatype *el = array_element(x->expr.type);
      const struct mt_eval *me = x->expr.column < 0 ? x->expr.ctx : NULL;
      if (!el || !me || strcmp(fn_canon(me->e), "mapKeys") != 0 || me->e->arg_count != 1 ||
          !expr_same(me->e->args[0], e->args[0], opts))
        continue;
      struct atom at = { .count = 1 };
      at.r[0] = (struct engine_range){ v, v, true, true };
      const struct column *vals = points_column(ctx, &at, el);
      if (vals)
        add_index_cond(mc, x->name, ENGINE_INDEX_EQUALS, vals, NULL);
      continue;
    }
    if (!te_same(&x->expr, e->args[0], opts))
      continue;
    if (strcmp(fn, "has") == 0) {
      const struct datatype *el = array_element(x->expr.type);
      struct atom at = { .count = 1 };
      at.r[0] = (struct engine_range){ v, v, true, true };
      const struct column *vals = el ? points_column(ctx, &at, el) : NULL;
      if (vals)
        add_index_cond(mc, x->name, ENGINE_INDEX_EQUALS, vals, NULL);
    } else if (strcmp(fn, "hasToken") == 0 && text_index) {
      add_index_cond(mc, x->name, ENGINE_INDEX_HAS_TOKEN, col_full(ctx->arena, (struct column *)v, 1), NULL);
    } else if (strcmp(fn, "like") == 0 && text_index && datatype_unwrap(v->type)->id == TYPE_STRING) {
      const char *lit = like_literal(ctx->arena, v);
      if (lit)
        add_index_cond(mc, x->name, ENGINE_INDEX_SUBSTRING, col_const_str(ctx->arena, lit, strlen(lit), 1), NULL);
    } else {
      struct atom at;
      if (!atom_parse(ctx, e, &at) || at.left != e->args[0])
        continue;
      if (x->type == SKIP_INDEX_MINMAX) {
        struct engine_range rs[64];
        if (at.count == 1 && ranges_cast(ctx, &at, x->expr.type, rs))
          add_index_cond(mc, x->name, ENGINE_INDEX_RANGE, NULL, &rs[0]);
      } else if (strcmp(at.fn, "equals") == 0 || strcmp(at.fn, "in") == 0) {
        const struct column *vals = points_column(ctx, &at, x->expr.type);
        if (vals)
          add_index_cond(mc, x->name, ENGINE_INDEX_EQUALS, vals, NULL);
      }
    }
  }
}

static void collect_conds(struct query_context *ctx, struct mt_conds *mc, const struct mt_source *ms,
                          const struct table_source *src, const struct table_read_opts *opts, const struct expr *e)
{
  if (!e || e->kind != EXPR_FUNCTION)
    return;
  const char *fn = fn_canon(e);
  if (strcmp(fn, "and") == 0) {
    for (uint32_t i = 0; i < e->arg_count; i++)
      collect_conds(ctx, mc, ms, src, opts, e->args[i]);
    return;
  }
  collect_index_conds(ctx, mc, ms, opts, e);
  struct atom at;
  if (!atom_parse(ctx, e, &at))
    return;
  const struct table_def *def = engine_snapshot_def(ms->snap);
  struct arena *a = ctx->arena;
  int32_t col = -1;
  if (at.left->kind == EXPR_INPUT && at.left->index < opts->column_count && opts->columns[at.left->index] < ms->stored)
    col = (int32_t)opts->columns[at.left->index];
  /* sorting-key elements: the column itself, the same expression, or a
   * monotonic function of the column */
  for (uint32_t k = 0; k < def->sort_key_count && mc->key_count < 64; k++) {
    const struct table_expr *te = &def->sort_key[k];
    struct engine_range *rs = arena_alloc(a, sizeof *rs * at.count);
    bool same = te_same(te, at.left, opts);
    if (same) {
      if (ranges_cast(ctx, &at, te->type, rs))
        mc->keys[mc->key_count++] = (struct engine_key_cond){ k, at.count, rs };
      continue;
    }
    if (col < 0 || !monotonic_over(te, (uint32_t)col))
      continue;
    struct engine_range *cr = arena_alloc(a, sizeof *cr * at.count);
    if (!ranges_cast(ctx, &at, ms->def->types[col], cr))
      continue;
    bool ok = true;
    for (uint32_t i = 0; i < at.count && ok; i++) {
      struct column *lo = NULL, *hi = NULL;
      if (cr[i].lo && !map_bound(ctx, ms, te, (uint32_t)col, cr[i].lo, &lo))
        ok = false;
      if (ok && cr[i].hi && !map_bound(ctx, ms, te, (uint32_t)col, cr[i].hi, &hi))
        ok = false;
      rs[i] = (struct engine_range){ lo, hi, true, true };
    }
    if (ok)
      mc->keys[mc->key_count++] = (struct engine_key_cond){ k, at.count, rs };
  }
  /* part min/max of the column */
  if (col < 0)
    return;
  for (uint32_t k = 0; k < def->minmax_column_count && mc->col_count < 64; k++)
    if (def->minmax_columns[k] == (uint32_t)col) {
      struct engine_range *rs = arena_alloc(a, sizeof *rs * at.count);
      if (ranges_cast(ctx, &at, ms->def->types[col], rs))
        mc->cols[mc->col_count++] = (struct engine_column_cond){ src->names[col], at.count, rs };
    }
}

static struct engine_filter *mt_filter_build(struct query_context *ctx, const struct mt_source *ms,
                                             const struct table_source *src, const struct table_read_opts *opts)
{
  if (!opts->where && !opts->prewhere)
    return NULL;
  struct mt_conds *mc = arena_new(ctx->arena, struct mt_conds);
  collect_conds(ctx, mc, ms, src, opts, opts->where);
  collect_conds(ctx, mc, ms, src, opts, opts->prewhere);
  if (!mc->key_count && !mc->col_count && !mc->idx_count)
    return NULL;
  struct engine_filter *f = arena_new(ctx->arena, struct engine_filter);
  f->key_count = mc->key_count;
  f->keys = mc->keys;
  f->column_count = mc->col_count;
  f->columns = mc->cols;
  f->index_count = mc->idx_count;
  f->indexes = mc->idx;
  return f;
}

struct mt_scan_op {
  struct op base;
  struct engine_scan *scan;
  uint32_t out_count;
  uint32_t read_count;               /* columns asked of the engine */
  int32_t *out_from;                 /* per output column: scanned index, or -1 - alias index */
  const struct mt_def *def;
  const char **scan_names;
  uint64_t limit_hint, produced;
  bool count_only;                   /* no columns asked: rows only */
};

static void mt_snapshot_cleanup(void *p) { engine_snapshot_release(p); }
static void mt_scan_cleanup(void *p) { engine_scan_close(p); }

static int mt_scan_next(struct op *op, struct block **out, struct error *err)
{
  struct mt_scan_op *m = (struct mt_scan_op *)op;
  *out = NULL;
  if (!m->scan || (m->limit_hint && m->produced >= m->limit_hint))
    return 0;
  int rc = exec_check_limits(op->ctx, err);
  if (rc)
    return rc;
  arena_reset(&op->scratch);
  struct block *b;
  if ((rc = engine_scan_next(m->scan, 0, &b, err)))
    return rc;
  if (!b)
    return 0;
  m->produced += b->rows;
  struct block *o = block_create(&op->scratch, op->column_count);
  o->rows = b->rows;
  o->names = op->names;
  for (uint32_t i = 0; i < op->column_count; i++) {
    int32_t f = m->out_from[i];
    if (f >= 0) {
      o->columns[i] = b->columns[f];
      continue;
    }
    /* ALIAS: computed over the stored columns the scan returned */
    uint32_t ai = (uint32_t)(-1 - f);
    struct block *in = block_create(&op->scratch, m->def->column_count);
    in->rows = b->rows;
    in->names = (const char **)m->def->names;
    for (uint32_t c = 0; c < m->def->column_count; c++) {
      in->columns[c] = NULL;
      for (uint32_t k = 0; k < m->read_count; k++)
        if (strcmp(m->scan_names[k], m->def->names[c]) == 0)
          in->columns[c] = b->columns[k];
      if (!in->columns[c])
        in->columns[c] = col_new(&op->scratch, m->def->types[c], b->rows);
    }
    struct eval ev = { .ctx = op->ctx, .arena = &op->scratch, .input = in, .rows = b->rows };
    struct column *c;
    if ((rc = expr_eval(&ev, m->def->alias_exprs[ai], &c, err)))
      return rc;
    if (!datatype_equal(c->type, m->def->alias_types[ai]) &&
        (rc = cast_column(&ev, c, b->rows, m->def->alias_types[ai], CAST_THROW, &c, err)))
      return rc;
    o->columns[i] = c;
  }
  *out = o;
  return 0;
}

/* PREWHERE (explicit, or WHERE moved there): a deterministic expression
 * over stored columns only is evaluated by the engine on those columns
 * first; the other columns are read only for granules with rows left. */
struct mt_prewhere {
  struct query_context *ctx;
  const struct expr *e;
  uint32_t width;                    /* opts->column_count: the expression's input layout */
  uint32_t count;
  uint32_t *pos;                     /* per prewhere column: its read position */
  struct arena *scratch;
};

static bool prewhere_ok(const struct expr *e, const struct table_read_opts *opts, uint32_t stored, bool *used)
{
  switch (e->kind) {
  case EXPR_CONST:
    return true;
  case EXPR_INPUT:
    if (e->index >= opts->column_count || opts->columns[e->index] >= stored)
      return false;
    used[e->index] = true;
    return true;
  case EXPR_FUNCTION:
    if (!e->call || !e->call->def || (e->call->def->flags & (FN_VOLATILE | FN_ROWWISE)))
      return false;
    for (uint32_t i = 0; i < e->arg_count; i++)
      if (!prewhere_ok(e->args[i], opts, stored, used))
        return false;
    return true;
  default:
    return false;
  }
}

static int mt_prewhere_filter(void *p, const struct block *rows, uint8_t *keep, struct error *err)
{
  struct mt_prewhere *pw = p;
  struct block *b = block_create(pw->scratch, pw->width);
  b->rows = rows->rows;
  for (uint32_t i = 0; i < pw->count; i++)
    b->columns[pw->pos[i]] = rows->columns[i];
  struct eval ev = { .ctx = pw->ctx, .arena = pw->scratch, .input = b, .rows = rows->rows };
  struct column *c;
  int rc = expr_eval(&ev, pw->e, &c, err);
  if (rc)
    return rc;
  const uint8_t *m = col_as_bool(pw->scratch, c, rows->rows);
  for (uint32_t i = 0; i < rows->rows; i++)
    keep[i] = keep[i] && m[c->is_const ? 0 : i];
  return 0;
}

static struct mt_prewhere *mt_prewhere_plan(struct query_context *ctx, struct mt_scan_op *m,
                                            const struct mt_source *ms, const struct table_source *src,
                                            const struct table_read_opts *opts)
{
  const struct expr *e = opts->prewhere ? opts->prewhere : opts->where;
  if (!e || opts->final || !settings_get_bool(ctx->settings, "optimize_move_to_prewhere"))
    return NULL;
  bool *used = arena_calloc(ctx->arena, opts->column_count + 1, sizeof *used);
  if (!prewhere_ok(e, opts, ms->stored, used))
    return NULL;
  struct mt_prewhere *pw = arena_new(ctx->arena, struct mt_prewhere);
  pw->ctx = ctx;
  pw->e = e;
  pw->width = opts->column_count;
  pw->pos = arena_alloc(ctx->arena, sizeof *pw->pos * (opts->column_count + 1));
  pw->scratch = &m->base.scratch;
  for (uint32_t i = 0; i < opts->column_count; i++)
    if (used[i])
      pw->pos[pw->count++] = i;
  if (pw->count == 0)
    return NULL;
  (void)src;
  return pw;
}

static const struct op_vt mt_scan_vt = { "MergeTreeSelect", mt_scan_next, NULL };

static int mt_source_open(struct table_source *src, struct query_context *ctx, const struct table_read_opts *opts,
                          struct op **out, struct error *err)
{
  struct mt_source *ms = src->impl;
  struct mt_scan_op *m = (struct mt_scan_op *)op_alloc(ctx, sizeof *m, &mt_scan_vt);
  uint32_t n = opts->column_count;
  const char **names = arena_alloc(ctx->arena, sizeof *names * (n ? n : 1));
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types * (n ? n : 1));
  m->out_from = arena_alloc(ctx->arena, sizeof *m->out_from * (n ? n : 1));
  m->scan_names = arena_alloc(ctx->arena, sizeof *m->scan_names * (ms->stored + 3));
  m->def = ms->def;
  bool need_all = false;
  uint32_t alias_end = ms->stored + ms->def->alias_count;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t c = opts->columns[i];
    names[i] = src->names[c];
    types[i] = src->types[c];
    if (c >= ms->stored && c < alias_end)
      need_all = true;
  }
  /* the engine reads stored columns; ALIAS columns read all stored ones */
  uint32_t rn = 0;
  if (need_all) {
    for (uint32_t c = 0; c < ms->stored; c++)
      m->scan_names[rn++] = src->names[c];
  }
  for (uint32_t i = 0; i < n; i++) {
    uint32_t c = opts->columns[i];
    if (c >= ms->stored && c < alias_end) {
      m->out_from[i] = -1 - (int32_t)(c - ms->stored);
      continue;
    }
    int32_t at = -1;
    for (uint32_t k = 0; k < rn; k++)
      if (strcmp(m->scan_names[k], src->names[c]) == 0)
        at = (int32_t)k;
    if (at < 0) {
      at = (int32_t)rn;
      m->scan_names[rn++] = src->names[c];
    }
    m->out_from[i] = at;
  }
  if (rn == 0) {
    /* count(): the cheapest column gives the row counts */
    m->scan_names[rn++] = src->names[0];
    m->count_only = true;
  }
  m->read_count = rn;
  op_set_header(&m->base, n, names, types);

  struct engine_filter *filter = mt_filter_build(ctx, ms, src, opts);
  struct mt_prewhere *pw = mt_prewhere_plan(ctx, m, ms, src, opts);
  const char **pre_names = NULL;
  if (pw) {
    pre_names = arena_alloc(ctx->arena, sizeof *pre_names * pw->count);
    for (uint32_t i = 0; i < pw->count; i++)
      pre_names[i] = src->names[opts->columns[pw->pos[i]]];
  }
  struct engine_scan_request req = {
    .prewhere_column_count = pw ? pw->count : 0,
    .prewhere_columns = pre_names,
    .row_filter = pw ? mt_prewhere_filter : NULL,
    .row_filter_ctx = pw,
    .column_count = rn,
    .columns = m->scan_names,
    .filter = filter,
    .final = opts->final,
    .streams = 1,
    .max_block_rows = exec_block_rows(ctx),
    .read_rows = &ctx->stats.read_rows,
    .read_bytes = &ctx->stats.read_bytes,
  };
  int rc = engine_scan_open(ms->snap, &req, &m->scan, err);
  if (rc)
    return rc;
  arena_on_cleanup(ctx->arena, mt_scan_cleanup, m->scan);
  m->limit_hint = opts->limit_hint;
  *out = &m->base;
  return 0;
}

static const struct table_source_vt mt_source_vt = { mt_source_open };

static int mt_source_make(struct query_context *ctx, struct engine_table *t, const char *db, const char *name,
                          struct table_source **out, struct error *err)
{
  struct engine_snapshot *snap;
  int rc = engine_snapshot(t, &snap, err);
  if (rc)
    return rc;
  arena_on_cleanup(ctx->arena, mt_snapshot_cleanup, snap);
  const struct table_def *def = engine_snapshot_def(snap);
  const struct mt_def *md = def->ctx;
  struct mt_source *ms = arena_new(ctx->arena, struct mt_source);
  ms->snap = snap;
  ms->def = md;
  ms->stored = def->column_count;
  struct table_source *s = arena_new(ctx->arena, struct table_source);
  uint32_t total = def->column_count + md->alias_count + 2;   /* + _part, _partition_id */
  s->vt = &mt_source_vt;
  s->database = arena_strdup(ctx->arena, db);
  s->name = arena_strdup(ctx->arena, name);
  s->engine = md->engine_name;
  s->column_count = total;
  s->names = arena_alloc(ctx->arena, sizeof *s->names * total);
  s->types = arena_alloc(ctx->arena, sizeof *s->types * total);
  for (uint32_t i = 0; i < def->column_count; i++) {
    s->names[i] = def->columns[i].name;
    s->types[i] = def->columns[i].type;
  }
  for (uint32_t i = 0; i < md->alias_count; i++) {
    s->names[def->column_count + i] = md->alias_names[i];
    s->types[def->column_count + i] = md->alias_types[i];
  }
  s->virtual_from = def->column_count + md->alias_count;
  s->names[s->virtual_from] = "_part";
  s->types[s->virtual_from] = type_str();
  s->names[s->virtual_from + 1] = "_partition_id";
  s->types[s->virtual_from + 1] = type_str();
  s->total_rows = engine_snapshot_rows(snap);
  struct engine_table_info ti;
  engine_table_get_info(t, ctx->arena, &ti);
  s->total_bytes = ti.total_bytes;
  s->supports_final = true;
  s->default_kinds = md->kinds;
  s->default_exprs = md->exprs;
  s->codecs = md->codecs;
  s->create_query = md->src;
  s->partition_key = md->partition_key;
  s->sorting_key = md->sorting_key;
  s->primary_key = md->primary_key;
  s->impl = ms;
  *out = s;
  return 0;
}

/* A view reads as its TO table; system.tables shows it with its own name,
 * engine and DDL. */
static int mt_view_source(struct query_context *ctx, const char *db, const char *name, const char *target_db,
                          const char *target_table, struct table_source **out, struct error *err)
{
  struct engine_table *t;
  int rc = engine_table_get(ctx->engine, target_db, target_table, &t, err);
  if (rc)
    return error_prefix(err, "View %s.%s: ", db, name);
  rc = mt_source_make(ctx, t, target_db, target_table, out, err);
  engine_table_unref(t);
  if (rc)
    return rc;
  struct catalog_table ct;
  struct table_source *s = *out;
  s->database = arena_strdup(ctx->arena, db);
  s->name = arena_strdup(ctx->arena, name);
  s->engine = MATVIEW_ENGINE;
  s->partition_key = s->sorting_key = s->primary_key = NULL;
  s->total_rows = UINT64_MAX;
  s->total_bytes = 0;
  struct error e2 = { 0 };
  if (catalog_table_get(engine_catalog(ctx->engine), db, name, ctx->arena, &ct, &e2) == 0)
    s->create_query = ct.ddl;
  return 0;
}

/* DROP TABLE/VIEW: a materialized view without TO takes its inner table
 * `.inner.<view>` with it. */
static int mt_drop_table(struct query_context *ctx, const char *db, const char *name, bool if_exists,
                         struct error *err)
{
  struct catalog_table ct;
  struct error e2 = { 0 };
  const char *tdb = NULL, *ttable = NULL;
  if (catalog_table_get(engine_catalog(ctx->engine), db, name, ctx->arena, &ct, &e2) == 0 &&
      matview_is_engine(ct.engine) && matview_target_of_ddl(ctx->arena, &ct, &tdb, &ttable) == 0 &&
      !(strcmp(tdb, db) == 0 && strcmp(ttable, arena_printf(ctx->arena, ".inner.%s", name)) == 0))
    ttable = NULL;
  int rc = engine_table_drop(ctx->engine, db, name, if_exists, err);
  if (rc == 0 && ttable)
    rc = engine_table_drop(ctx->engine, tdb, ttable, true, err);
  return rc;
}

static int mt_lookup(void *impl, struct query_context *ctx, const char *database, const char *table,
                     struct table_source **out, struct error *err)
{
  struct engine *e = impl;
  *out = NULL;
  if (!e || !catalog_database_exists(engine_catalog(e), database))
    return 0;
  struct catalog_table ct;
  struct error e2 = { 0 };
  if (catalog_table_get(engine_catalog(e), database, table, ctx->arena, &ct, &e2) != 0)
    return error_set(err, ERR_UNKNOWN_TABLE, "Table %s.%s does not exist", database, table);
  if (view_is_engine(ct.engine))
    return view_source(ctx, &ct, out, err);
  const char *tdb, *ttable;
  if (matview_is_engine(ct.engine) && matview_target_of_ddl(ctx->arena, &ct, &tdb, &ttable) == 0)
    return mt_view_source(ctx, database, table, tdb, ttable, out, err);
  struct engine_table *t;
  int rc = engine_table_get(e, database, table, &t, err);
  if (rc)
    return rc;
  rc = mt_source_make(ctx, t, database, table, out, err);
  engine_table_unref(t);
  return rc;
}

static uint32_t mt_databases(void *impl, struct arena *a, const char ***names)
{
  struct engine *e = impl;
  struct catalog_database *dbs;
  size_t n = 0;
  struct error err = { 0 };
  if (catalog_database_list(engine_catalog(e), a, &dbs, &n, &err) != 0)
    n = 0;
  *names = arena_alloc(a, sizeof **names * (n ? n : 1));
  for (size_t i = 0; i < n; i++)
    (*names)[i] = dbs[i].name;
  return (uint32_t)n;
}

static uint32_t mt_tables(void *impl, struct query_context *ctx, const char *database, struct table_source ***out)
{
  struct engine *e = impl;
  struct catalog_table *ts;
  size_t n = 0;
  struct error err = { 0 };
  *out = NULL;
  if (catalog_table_list(engine_catalog(e), database, ctx->arena, &ts, &n, &err) != 0)
    return 0;
  struct table_source **v = arena_alloc(ctx->arena, sizeof *v * (n ? n : 1));
  uint32_t k = 0;
  for (size_t i = 0; i < n; i++) {
    struct engine_table *t;
    const char *tdb, *ttable;
    if (matview_is_engine(ts[i].engine) || view_is_engine(ts[i].engine)) {
      struct table_source *s;
      if (view_is_engine(ts[i].engine) ? view_source(ctx, &ts[i], &s, &err) == 0
                                       : matview_target_of_ddl(ctx->arena, &ts[i], &tdb, &ttable) == 0 &&
                                             mt_view_source(ctx, ts[i].database, ts[i].name, tdb, ttable, &s, &err) == 0)
        v[k++] = s;
      continue;
    }
    if (engine_table_get_by_id(e, ts[i].id, &t, &err) != 0)
      continue;
    struct table_source *s;
    if (engine_table_attached(t) && mt_source_make(ctx, t, ts[i].database, ts[i].name, &s, &err) == 0)
      v[k++] = s;
    engine_table_unref(t);
  }
  *out = v;
  return k;
}

/* ======================================================================
 * DDL
 * ==================================================================== */

static struct op *empty_result(struct query_context *ctx)
{
  return op_values_create(ctx, 0, NULL, NULL, NULL, 0);
}

static int need_engine(struct query_context *ctx, struct error *err)
{
  if (!ctx->engine)
    return error_set(err, ERR_NOT_IMPLEMENTED, "This server has no storage engine");
  return 0;
}

/* Parses a stored DDL text and builds its definition (start-up, SHOW). */
static int ddl_parse(struct arena *a, const char *ddl, struct sql_statement **st, struct error *err)
{
  int rc = sql_parse(a, ddl, strlen(ddl), st, err);
  if (rc == 0 && (*st)->kind != STMT_CREATE_TABLE)
    rc = error_set(err, ERR_LOGICAL_ERROR, "Stored DDL is not CREATE TABLE");
  return rc;
}

static int create_table(struct query_context *ctx, const struct sql_statement *st, struct error *err)
{
  struct engine *e = ctx->engine;
  const char *db = st->database ? st->database : ctx->database;
  if (st->temporary)
    return error_set(err, ERR_NOT_IMPLEMENTED, "Temporary tables are not supported");
  if (strcmp(db, "system") == 0)
    return error_set(err, ERR_BAD_ARGUMENTS, "Cannot create tables in database system");
  if (!catalog_database_exists(engine_catalog(e), db))
    return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", db);
  if (catalog_table_exists(engine_catalog(e), db, st->name)) {
    if (st->if_not_exists)
      return 0;
    return error_set(err, ERR_TABLE_ALREADY_EXISTS, "Table %s.%s already exists", db, st->name);
  }
  if (st->as_table || st->select)
    return error_set(err, ERR_NOT_IMPLEMENTED, "CREATE TABLE … AS is not supported yet");
  if (!st->order_by && !st->primary_key)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                     "ORDER BY or PRIMARY KEY clause is missing. Consider using extended storage definition syntax "
                     "with ORDER BY or PRIMARY KEY clause");
  const char *ddl = ddl_normalize(ctx->arena, st, db, st->name, ctx->text, ctx->text_len, NULL, NULL, 0);
  /* Built from the stored text, as start-up will do. */
  struct sql_statement *norm;
  int rc = ddl_parse(ctx->arena, ddl, &norm, err);
  if (rc)
    return rc;
  struct table_def def;
  struct mt_def *md;
  if ((rc = mt_table_def_build(norm, ddl, strlen(ddl), &def, &md, err)))
    return rc;
  struct catalog_table_def cd = { .engine = md->engine_name, .ddl = ddl };
  rc = engine_table_create(e, db, st->name, &cd, &def, NULL, err);
  if (rc) {
    mt_def_free(md);
    if (rc == ERR_TABLE_ALREADY_EXISTS && st->if_not_exists)
      return error_clear(err), 0;
  }
  return rc;
}

static int get_table(struct query_context *ctx, const struct sql_statement *st, struct engine_table **t,
                     struct error *err)
{
  const char *db = st->database ? st->database : ctx->database;
  if (!catalog_database_exists(engine_catalog(ctx->engine), db))
    return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", db);
  if (!catalog_table_exists(engine_catalog(ctx->engine), db, st->name))
    return error_set(err, ERR_UNKNOWN_TABLE, "Table %s.%s does not exist", db, st->name);
  return engine_table_get(ctx->engine, db, st->name, t, err);
}

/* PARTITION expr → partition id */
static int partition_id_of(struct query_context *ctx, struct engine_table *t, const struct ast *p, bool is_id,
                           const char **out, struct error *err)
{
  if (is_id) {
    if (p->kind != AST_LITERAL || p->u.literal.kind != LIT_STRING)
      return error_set(err, ERR_INVALID_PARTITION_VALUE, "PARTITION ID must be a string literal");
    *out = p->u.literal.str;
    return 0;
  }
  const struct ast *const *els;
  uint32_t k = key_elements(p, &els);
  const struct column **vals = arena_alloc(ctx->arena, sizeof *vals * (k ? k : 1));
  struct engine_snapshot *snap;
  int rc = engine_snapshot(t, &snap, err);
  if (rc)
    return rc;
  const struct table_def *def = engine_snapshot_def(snap);
  if (k != def->partition_key_count) {
    engine_snapshot_release(snap);
    return error_set(err, ERR_INVALID_PARTITION_VALUE, "Wrong number of fields in the partition expression: %u, "
                     "must be: %u", k, def->partition_key_count);
  }
  for (uint32_t i = 0; i < k && rc == 0; i++) {
    struct expr *e;
    rc = analyze_expr_over_columns(ctx, 0, NULL, NULL, els[i], &e, err);
    if (rc == 0 && e->kind != EXPR_CONST)
      rc = error_set(err, ERR_INVALID_PARTITION_VALUE, "Partition value must be constant");
    struct column *c = rc == 0 ? e->value : NULL;
    if (rc == 0 && !datatype_equal(c->type, def->partition_key[i].type))
      rc = cast_const(ctx, ctx->arena, c, def->partition_key[i].type, &c, err);
    vals[i] = c;
  }
  engine_snapshot_release(snap);
  if (rc)
    return rc;
  return engine_partition_id(t, vals, k, ctx->arena, out, err);
}

static int alter_table(struct query_context *ctx, const struct sql_statement *st, struct error *err)
{
  struct engine_table *t;
  int rc = get_table(ctx, st, &t, err);
  if (rc)
    return rc;
  const char *db = st->database ? st->database : ctx->database;
  for (uint32_t i = 0; i < st->alter_count && rc == 0; i++) {
    const struct alter_command *c = &st->alter_commands[i];
    switch (c->kind) {
    case ALTER_DROP_PARTITION: {
      const char *id;
      if ((rc = partition_id_of(ctx, t, c->partition, c->partition_is_id, &id, err)) == 0)
        rc = engine_table_drop_partition(t, id, err);
      break;
    }
    case ALTER_ADD_COLUMN: case ALTER_DROP_COLUMN: case ALTER_ADD_INDEX: case ALTER_DROP_INDEX: {
      struct catalog_table ct;
      if ((rc = catalog_table_get(engine_catalog(ctx->engine), db, st->name, ctx->arena, &ct, err)))
        break;
      struct sql_statement *old;
      if ((rc = ddl_parse(ctx->arena, ct.ddl, &old, err)))
        break;
      struct sql_statement ns = *old;
      struct ast_list cols = { 0 }, idx = { 0 };
      bool found = false;
      const char *target = c->kind == ALTER_ADD_COLUMN ? c->column->u.column_def.name
                           : c->kind == ALTER_ADD_INDEX ? c->index->u.index_def.name : c->name;
      bool is_col = c->kind == ALTER_ADD_COLUMN || c->kind == ALTER_DROP_COLUMN;
      const struct ast_list *src = is_col ? &old->columns : &old->indexes;
      for (uint32_t k = 0; k < src->count; k++) {
        const char *nm = is_col ? src->items[k]->u.column_def.name : src->items[k]->u.index_def.name;
        if (strcmp(nm, target) == 0) {
          found = true;
          if (c->kind == ALTER_DROP_COLUMN || c->kind == ALTER_DROP_INDEX)
            continue;
        }
        ast_list_push(ctx->arena, is_col ? &cols : &idx, src->items[k]);
        if (c->kind == ALTER_ADD_COLUMN && c->after && strcmp(nm, c->after) == 0 && !found)
          ast_list_push(ctx->arena, &cols, c->column);
      }
      if (c->kind == ALTER_ADD_COLUMN || c->kind == ALTER_ADD_INDEX) {
        if (found) {
          if (c->if_not_exists)
            break;
          rc = error_set(err, is_col ? ERR_ILLEGAL_COLUMN : ERR_ILLEGAL_COLUMN, "Cannot add %s %s: %s with this "
                         "name already exists", is_col ? "column" : "index", target, is_col ? "column" : "index");
          break;
        }
        if (c->kind == ALTER_ADD_INDEX)
          ast_list_push(ctx->arena, &idx, c->index);
        else if (!c->after)
          ast_list_push(ctx->arena, &cols, c->column);
        else if (!*c->after) {
          struct ast_list first = { 0 };
          ast_list_push(ctx->arena, &first, c->column);
          for (uint32_t k = 0; k < cols.count; k++)
            ast_list_push(ctx->arena, &first, cols.items[k]);
          cols = first;
        }
      } else if (!found) {
        if (c->if_exists)
          break;
        rc = error_set(err, is_col ? ERR_NOT_FOUND_COLUMN_IN_BLOCK : ERR_BAD_ARGUMENTS,
                       "Wrong %s name. Cannot find %s `%s` to drop", is_col ? "column" : "index",
                       is_col ? "column" : "index", target);
        break;
      }
      if (is_col)
        ns.columns = cols;
      else
        ns.indexes = idx;
      const char *ddl = ddl_normalize(ctx->arena, &ns, db, st->name, ct.ddl, strlen(ct.ddl),
                                      c->kind == ALTER_ADD_COLUMN ? c->column : c->index, ctx->text, ctx->text_len);
      struct sql_statement *norm;
      struct table_def def;
      struct mt_def *md;
      if ((rc = ddl_parse(ctx->arena, ddl, &norm, err)) || (rc = mt_table_def_build(norm, ddl, strlen(ddl), &def, &md, err)))
        break;
      struct catalog_table_def cd = { .engine = md->engine_name, .ddl = ddl };
      if ((rc = engine_table_alter(t, &cd, &def, err)))
        mt_def_free(md);
      break;
    }
    case ALTER_MODIFY_TTL: case ALTER_REMOVE_TTL: case ALTER_MODIFY_SETTING:
      break;   /* accepted; TTL execution comes later */
    default:
      rc = error_set(err, ERR_NOT_IMPLEMENTED, "This ALTER command is not supported yet");
      break;
    }
  }
  engine_table_unref(t);
  return rc;
}

static int show_create(struct query_context *ctx, const struct sql_statement *st, struct op **out,
                       struct error *err)
{
  const char *db = st->database ? st->database : ctx->database;
  const char *text;
  if (st->object == OBJECT_DATABASE) {
    if (!catalog_database_exists(engine_catalog(ctx->engine), st->name))
      return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", st->name);
    text = arena_printf(ctx->arena, "CREATE DATABASE %s\nENGINE = Atomic", st->name);
  } else {
    struct catalog_table ct;
    if (!catalog_database_exists(engine_catalog(ctx->engine), db))
      return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", db);
    if (!catalog_table_exists(engine_catalog(ctx->engine), db, st->name))
      return error_set(err, ERR_UNKNOWN_TABLE, "Table %s.%s does not exist", db, st->name);
    int rc = catalog_table_get(engine_catalog(ctx->engine), db, st->name, ctx->arena, &ct, err);
    if (rc)
      return rc;
    text = ct.ddl;
  }
  struct block *b = block_create(ctx->arena, 1);
  b->rows = 1;
  b->columns[0] = col_const_str(ctx->arena, text, strlen(text), 1);
  b->columns[0] = col_full(ctx->arena, b->columns[0], 1);
  const char **names = arena_alloc(ctx->arena, sizeof *names);
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types);
  names[0] = "statement";
  types[0] = type_str();
  b->names = names;
  *out = op_values_create(ctx, 1, names, types, &b, 1);
  return 0;
}

int mergetree_statement(struct query_context *ctx, const struct sql_statement *stmt, struct op **out,
                        struct error *err)
{
  int rc = need_engine(ctx, err);
  if (rc)
    return rc;
  struct engine *e = ctx->engine;
  const char *db = stmt->database ? stmt->database : ctx->database;
  *out = NULL;
  switch (stmt->kind) {
  case STMT_CREATE_DATABASE:
    if (strcmp(stmt->name, "system") == 0)
      return error_set(err, ERR_DATABASE_ALREADY_EXISTS, "Database system already exists");
    rc = engine_database_create(e, stmt->name, stmt->if_not_exists, err);
    break;
  case STMT_CREATE_TABLE:
    rc = create_table(ctx, stmt, err);
    break;
  case STMT_CREATE_VIEW:
    rc = matview_create(ctx, stmt, err);
    break;
  case STMT_DROP:
    if (stmt->object == OBJECT_DATABASE) {
      if (strcmp(stmt->name, "system") == 0)
        return error_set(err, ERR_BAD_ARGUMENTS, "Cannot drop database system");
      rc = engine_database_drop(e, stmt->name, stmt->if_exists, err);
    } else {
      if (!catalog_database_exists(engine_catalog(e), db)) {
        if (stmt->if_exists)
          break;
        return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", db);
      }
      if (!catalog_table_exists(engine_catalog(e), db, stmt->name)) {
        if (stmt->if_exists)
          break;
        return error_set(err, ERR_UNKNOWN_TABLE, "Table %s.%s does not exist", db, stmt->name);
      }
      rc = mt_drop_table(ctx, db, stmt->name, stmt->if_exists, err);
    }
    if (rc == 0 && ctx->views)
      rc = matviews_load(ctx->views, engine_catalog(e), err);
    break;
  case STMT_TRUNCATE: {
    struct engine_table *t;
    if ((rc = get_table(ctx, stmt, &t, err)))
      return rc;
    rc = engine_table_truncate(t, err);
    engine_table_unref(t);
    break;
  }
  case STMT_RENAME:
    for (uint32_t i = 0; i < stmt->rename_count && rc == 0; i++) {
      const char *fdb = stmt->rename_from_db[i] ? stmt->rename_from_db[i] : ctx->database;
      const char *tdb = stmt->rename_to_db[i] ? stmt->rename_to_db[i] : ctx->database;
      struct catalog_table ct;
      if ((rc = catalog_table_get(engine_catalog(e), fdb, stmt->rename_from[i], ctx->arena, &ct, err)))
        break;
      const char *ddl;
      if (matview_is_engine(ct.engine) || view_is_engine(ct.engine)) {
        if ((rc = view_ddl_renamed(ctx->arena, &ct, tdb, stmt->rename_to[i], &ddl, err)))
          break;
      } else {
        struct sql_statement *old;
        if ((rc = ddl_parse(ctx->arena, ct.ddl, &old, err)))
          break;
        ddl = ddl_normalize(ctx->arena, old, tdb, stmt->rename_to[i], ct.ddl, strlen(ct.ddl), NULL, NULL, 0);
      }
      rc = engine_table_rename(e, fdb, stmt->rename_from[i], tdb, stmt->rename_to[i], ddl, err);
    }
    if (rc == 0 && ctx->views)
      rc = matviews_load(ctx->views, engine_catalog(e), err);
    break;
  case STMT_ALTER:
    rc = alter_table(ctx, stmt, err);
    break;
  case STMT_OPTIMIZE: {
    struct engine_table *t;
    if ((rc = get_table(ctx, stmt, &t, err)))
      return rc;
    const char *pid = NULL;
    if (stmt->partition)
      rc = partition_id_of(ctx, t, stmt->partition, stmt->partition_is_id, &pid, err);
    if (rc == 0)
      rc = engine_optimize(t, pid, stmt->final, err);
    engine_table_unref(t);
    break;
  }
  case STMT_SHOW_CREATE:
    return show_create(ctx, stmt, out, err);
  default:
    return error_set(err, ERR_NOT_IMPLEMENTED, "Statement is not supported yet");
  }
  if (rc)
    return rc;
  *out = empty_result(ctx);
  return 0;
}

/* ======================================================================
 * INSERT
 * ==================================================================== */

/* Rows accumulate (squashed like ClickHouse's min_insert_block_size_rows /
 * _bytes) and each full accumulation is written by engine_insert_add as
 * staged, invisible parts; engine_insert_commit publishes every part of the
 * INSERT at once at the end, and any error aborts them all.
 * With async_insert = 1 the rows of an INSERT up to async_insert_max_data_size
 * are kept whole and go to engine_insert_buffered at the end (write-ahead
 * log + memtable, acknowledged once the log record is durable: the OTLP
 * path); a bigger INSERT falls back to parts as above. */
struct mt_view_insert;

struct mt_insert {
  struct query_context *ctx;
  struct engine_table *t;
  struct engine_snapshot *snap;
  struct engine_insert *staged;      /* NULL for a buffered-only insert (OTLP views) */
  const struct table_def *def;
  const struct mt_def *md;
  uint32_t in_count;
  int32_t *in_pos;                   /* per stored column: position among the INSERT's columns, or -1 */
  const char **in_names;             /* the INSERT's columns */
  const struct datatype **in_types;
  struct arena acc_arena;
  struct block *acc;
  uint64_t acc_bytes;
  uint64_t squash_rows, squash_bytes;
  bool buffered;                     /* async_insert: all rows kept for engine_insert_buffered */
  uint64_t buffered_max_bytes;
  struct mt_view_insert *views;      /* materialized views reading this table */
  uint32_t view_count;
};

/* A view fired by an insert: its SELECT runs over each accumulation of the
 * source's rows, and the result is inserted into its TO table by `into`. */
struct mt_view_insert {
  struct matview view;
  struct mt_insert into;
};

static int mt_insert_block(struct mt_insert *ins, struct block *in, uint8_t **omitted, struct arena *a,
                           struct error *err);

/* Every block of op → the INSERT's columns (column from[i] of op, or i when
 * from is NULL, cast to the column's type) → mt_insert_block. */
static int mt_insert_from_op(struct mt_insert *ins, struct op *op, const int32_t *from, struct error *err)
{
  struct arena a;
  arena_init(&a, 0);
  int rc;
  for (;;) {
    struct block *b;
    if ((rc = op_next(op, &b, err)) || !b)
      break;
    arena_reset(&a);
    struct block *cb = block_create(&a, ins->in_count);
    cb->rows = b->rows;
    struct eval ev = { .ctx = ins->ctx, .arena = &a, .input = b, .rows = b->rows };
    for (uint32_t i = 0; i < ins->in_count && rc == 0; i++) {
      struct column *c = b->columns[from ? (uint32_t)from[i] : i];
      if (!datatype_equal(c->type, ins->in_types[i]))
        rc = cast_column(&ev, c, b->rows, ins->in_types[i], CAST_THROW, &c, err);
      cb->columns[i] = c;
    }
    if (rc == 0)
      rc = mt_insert_block(ins, cb, NULL, &a, err);
    if (rc)
      break;
  }
  arena_destroy(&a);
  return rc;
}

/* The view's result blocks → its target's columns (matched by name, cast
 * to the target's types) → the target's insert. */
static int mt_view_fire(struct mt_view_insert *vi, const struct block *rows, struct error *err)
{
  struct mt_insert *into = &vi->into;
  struct query_context *ctx = into->ctx;
  struct op *op;
  int rc = matview_plan(ctx, &vi->view, rows, &op, err);
  if (rc)
    return rc;
  int32_t *from = arena_alloc(ctx->arena, sizeof *from * (into->in_count ? into->in_count : 1));
  for (uint32_t i = 0; i < into->in_count; i++) {
    from[i] = -1;
    for (uint32_t j = 0; j < op->column_count && from[i] < 0; j++)
      if (strcmp(op->names[j], into->in_names[i]) == 0)
        from[i] = (int32_t)j;
  }
  rc = mt_insert_from_op(into, op, from, err);
  if (rc)
    error_prefix(err, "While pushing to view %s.%s: ", vi->view.database, vi->view.name);
  return rc;
}

static int mt_insert_fire_views(struct mt_insert *ins, const struct block *rows, struct error *err)
{
  for (uint32_t i = 0; i < ins->view_count; i++) {
    int rc = mt_view_fire(&ins->views[i], rows, err);
    if (rc)
      return rc;
  }
  return 0;
}

static int mt_insert_flush(struct mt_insert *ins, struct error *err)
{
  if (!ins->acc || ins->acc->rows == 0)
    return 0;
  int rc = mt_insert_fire_views(ins, ins->acc, err);
  if (rc == 0)
    rc = engine_insert_add(ins->staged, ins->acc, err);
  if (rc)
    return rc;
  arena_reset(&ins->acc_arena);
  ins->acc = NULL;
  ins->acc_bytes = 0;
  return 0;
}

/* A buffered insert grew past async_insert_max_data_size: it and the views
 * it feeds are written as parts, like a synchronous INSERT. */
static void mt_insert_unbuffer(struct mt_insert *ins)
{
  ins->buffered = false;
  for (uint32_t i = 0; i < ins->view_count; i++)
    mt_insert_unbuffer(&ins->views[i].into);
}

/* The input block (the INSERT's columns) → the table's columns, with
 * DEFAULT expressions for omitted columns and values, then accumulated. */
static int mt_insert_block(struct mt_insert *ins, struct block *in, uint8_t **omitted, struct arena *a,
                           struct error *err)
{
  const struct mt_def *md = ins->md;
  uint32_t n = md->column_count, rows = in->rows;
  if (rows == 0)
    return 0;
  struct block *b = block_create(a, n);
  b->rows = rows;
  b->names = (const char **)md->names;
  for (uint32_t c = 0; c < n; c++) {
    const struct datatype *t = md->types[c];
    if (ins->in_pos[c] >= 0)
      b->columns[c] = in->columns[ins->in_pos[c]];
    else if ((t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16) && t->enum_count) {
      /* an Enum's default is its smallest value */
      int64_t lo = t->enum_values[0];
      for (uint32_t k = 1; k < t->enum_count; k++)
        if (t->enum_values[k] < lo)
          lo = t->enum_values[k];
      b->columns[c] = col_const_i64(a, t, lo, rows);
    } else if (t->id == TYPE_NULLABLE) {
      b->columns[c] = col_const_null(a, t, rows);
    } else {
      b->columns[c] = col_new(a, t, rows);
    }
  }
  struct eval ev = { .ctx = ins->ctx, .arena = a, .input = b, .rows = rows };
  for (uint32_t c = 0; c < n; c++) {
    int32_t p = ins->in_pos[c];
    const uint8_t *om = p >= 0 && omitted ? omitted[p] : NULL;
    if (!md->defaults[c] || (p >= 0 && !om))
      continue;
    struct column *d;
    int rc = expr_eval(&ev, md->defaults[c], &d, err);
    if (rc)
      return rc;
    if (!datatype_equal(d->type, md->types[c]) &&
        (rc = cast_column(&ev, d, rows, md->types[c], CAST_THROW, &d, err)))
      return rc;
    if (!om) {
      b->columns[c] = d;
      continue;
    }
    struct column *mix = column_create(a, md->types[c], rows);
    const struct column *have = column_materialize(a, b->columns[c]);
    for (uint32_t r = 0; r < rows; r++)
      column_append_from(mix, om[r] ? d : have, column_row(om[r] ? d : have, r));
    b->columns[c] = mix;
  }
  if (!ins->acc) {
    ins->acc = block_create(&ins->acc_arena, n);
    ins->acc->names = (const char **)md->names;
    for (uint32_t c = 0; c < n; c++)
      ins->acc->columns[c] = column_create(&ins->acc_arena, md->types[c], rows);
  }
  for (uint32_t c = 0; c < n; c++) {
    const struct column *src = b->columns[c];
    if (src->is_const) {
      src = column_materialize(a, src);
    }
    column_append_range(ins->acc->columns[c], src, 0, rows);
    ins->acc_bytes += column_byte_size(src);
  }
  ins->acc->rows += rows;
  if (ins->buffered && ins->acc_bytes > ins->buffered_max_bytes)
    mt_insert_unbuffer(ins);
  if (ins->buffered)
    return 0;
  if (ins->acc->rows >= ins->squash_rows || ins->acc_bytes >= ins->squash_bytes)
    return mt_insert_flush(ins, err);
  return 0;
}

static const char *ident_text(struct arena *a, const struct ast *n)
{
  if (n->kind != AST_IDENTIFIER)
    return fmt_ast(a, n);
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < n->u.identifier.part_count; i++) {
    if (i)
      buf_append_char(&b, '.');
    buf_append_cstr(&b, n->u.identifier.parts[i]);
  }
  const char *s = arena_strndup(a, b.data, b.len);
  buf_free(&b);
  return s;
}

/* A buffered insert's rows and those of the views it feeds, as items of one
 * engine_insert_buffered call: they are logged and acknowledged together. */
static uint32_t mt_insert_items_count(const struct mt_insert *ins)
{
  uint32_t n = ins->acc && ins->acc->rows ? 1 : 0;
  for (uint32_t i = 0; i < ins->view_count; i++)
    n += mt_insert_items_count(&ins->views[i].into);
  return n;
}

static void mt_insert_items(const struct mt_insert *ins, struct engine_buffered_rows *items, uint32_t *n)
{
  if (ins->acc && ins->acc->rows)
    items[(*n)++] = (struct engine_buffered_rows){ ins->t, ins->acc };
  for (uint32_t i = 0; i < ins->view_count; i++)
    mt_insert_items(&ins->views[i].into, items, n);
}

static void mt_insert_count_written(const struct mt_insert *ins)
{
  if (ins->acc) {
    atomic_fetch_add(&ins->ctx->stats.written_rows, ins->acc->rows);
    atomic_fetch_add(&ins->ctx->stats.written_bytes, ins->acc_bytes);
  }
  for (uint32_t i = 0; i < ins->view_count; i++)
    mt_insert_count_written(&ins->views[i].into);
}

/* The views' rows of the whole buffered insert (fired once, at the end). */
static int mt_insert_fire_buffered(struct mt_insert *ins, struct error *err)
{
  if (!ins->acc || ins->acc->rows == 0)
    return 0;
  int rc = mt_insert_fire_views(ins, ins->acc, err);
  for (uint32_t i = 0; i < ins->view_count && rc == 0; i++)
    rc = mt_insert_fire_buffered(&ins->views[i].into, err);
  return rc;
}

/* The last rows, then everything published: the table's parts at once,
 * then each view's (ClickHouse's order: the table, then its views). */
static int mt_insert_finish(struct mt_insert *ins, struct error *err)
{
  int rc;
  if (ins->buffered) {
    if ((rc = mt_insert_fire_buffered(ins, err)))
      return rc;
    uint32_t n = mt_insert_items_count(ins);
    if (n == 0)
      return 0;
    struct engine_buffered_rows *items = arena_alloc(ins->ctx->arena, sizeof *items * n);
    n = 0;
    mt_insert_items(ins, items, &n);
    if ((rc = engine_insert_buffered(ins->ctx->engine, items, n, err)))
      return rc;
    mt_insert_count_written(ins);
    return 0;
  }
  if ((rc = mt_insert_flush(ins, err)))
    return rc;
  struct engine_insert_result r = { 0 };
  struct engine_insert *staged = ins->staged;
  ins->staged = NULL;                /* commit consumes it, on error too */
  if ((rc = engine_insert_commit(staged, &r, err)))
    return rc;
  atomic_fetch_add(&ins->ctx->stats.written_rows, r.written_rows);
  atomic_fetch_add(&ins->ctx->stats.written_bytes, r.written_bytes);
  for (uint32_t i = 0; i < ins->view_count; i++)
    if ((rc = mt_insert_finish(&ins->views[i].into, err)))
      return rc;
  return 0;
}

static void mt_insert_cleanup(struct mt_insert *ins)
{
  for (uint32_t i = 0; i < ins->view_count; i++)
    mt_insert_cleanup(&ins->views[i].into);
  engine_insert_abort(ins->staged);
  arena_destroy(&ins->acc_arena);
  engine_snapshot_release(ins->snap);
  engine_table_unref(ins->t);
}

static int mt_insert_open_views(struct mt_insert *ins, const char *db, const char *table, uint32_t depth,
                                struct error *err);

/* Opens an insert into db.table (a view's name means its TO table): the
 * table, a snapshot of its definition, the staged insert (unless
 * buffered_only) and the views it feeds. The caller then chooses the
 * INSERT's columns (mt_insert_set_columns). Clean up with mt_insert_cleanup,
 * also on error. */
static int mt_insert_open(struct query_context *ctx, const char *db, const char *table, bool buffered_only,
                          uint32_t depth, struct mt_insert *ins, struct error *err)
{
  *ins = (struct mt_insert){ .ctx = ctx };
  arena_init(&ins->acc_arena, 1 << 20);
  const char *tdb, *ttable;
  if (ctx->views && matviews_target_of(ctx->views, db, table, ctx->arena, &tdb, &ttable) == 0) {
    db = tdb;
    table = ttable;
  }
  struct sql_statement fake = { .database = db, .name = table };
  int rc = get_table(ctx, &fake, &ins->t, err);
  if (rc || !engine_table_attached(ins->t)) {
    /* not a table with data: a plain view says so in ClickHouse's words */
    struct catalog_table ct;
    struct error e2 = { 0 };
    if (catalog_table_get(engine_catalog(ctx->engine), db, table, ctx->arena, &ct, &e2) == 0 &&
        view_is_engine(ct.engine))
      return error_set(err, ERR_NOT_IMPLEMENTED, "Method write is not supported by storage View");
  }
  if (rc == 0)
    rc = engine_snapshot(ins->t, &ins->snap, err);
  if (rc)
    return rc;
  ins->def = engine_snapshot_def(ins->snap);
  ins->md = ins->def->ctx;
  ins->squash_rows = settings_get_u64(ctx->settings, "min_insert_block_size_rows");
  ins->squash_bytes = settings_get_u64(ctx->settings, "min_insert_block_size_bytes");
  if (!ins->squash_rows)
    ins->squash_rows = UINT32_MAX / 2;
  if (!ins->squash_bytes)
    ins->squash_bytes = UINT64_MAX;
  if (buffered_only) {
    ins->buffered = true;
    ins->buffered_max_bytes = UINT64_MAX;
  } else {
    ins->buffered = settings_get_bool(ctx->settings, "async_insert");
    ins->buffered_max_bytes = settings_get_u64(ctx->settings, "async_insert_max_data_size");
    struct engine_insert_options eo = { 0 };
    uint64_t mp = settings_get_u64(ctx->settings, "max_partitions_per_insert_block");
    eo.max_partitions_per_insert_block = mp ? (uint32_t)(mp > UINT32_MAX ? UINT32_MAX : mp) : UINT32_MAX;
    if ((rc = engine_insert_begin(ins->t, &eo, &ins->staged, err)))
      return rc;
  }
  uint32_t n = ins->md->column_count;
  ins->in_pos = arena_alloc(ctx->arena, sizeof *ins->in_pos * n);
  ins->in_names = arena_alloc(ctx->arena, sizeof *ins->in_names * (n ? n : 1));
  ins->in_types = arena_alloc(ctx->arena, sizeof *ins->in_types * (n ? n : 1));
  for (uint32_t c = 0; c < n; c++)
    ins->in_pos[c] = -1;
  return mt_insert_open_views(ins, db, table, depth, err);
}

/* Column c of the table is the INSERT's next column. */
static void mt_insert_add_column(struct mt_insert *ins, uint32_t c)
{
  ins->in_pos[c] = (int32_t)ins->in_count;
  ins->in_names[ins->in_count] = ins->md->names[c];
  ins->in_types[ins->in_count++] = ins->md->types[c];
}

static int mt_insert_open_views(struct mt_insert *ins, const char *db, const char *table, uint32_t depth,
                                struct error *err)
{
  struct query_context *ctx = ins->ctx;
  struct matview *views;
  uint32_t nv = matviews_for_source(ctx->views, db, table, ctx->arena, &views);
  if (nv == 0)
    return 0;
  if (depth >= MATVIEW_DEPTH_MAX)
    return error_set(err, ERR_TOO_DEEP_RECURSION, "Materialized views feed each other more than %d deep at %s.%s",
                     MATVIEW_DEPTH_MAX, db, table);
  ins->views = arena_calloc(ctx->arena, nv, sizeof *ins->views);
  /* the views' result columns, from planning them over no rows */
  const struct mt_def *md = ins->md;
  struct block *none = block_create(ctx->arena, md->column_count);
  none->names = (const char **)md->names;
  for (uint32_t c = 0; c < md->column_count; c++)
    none->columns[c] = column_create(ctx->arena, md->types[c], 0);
  for (uint32_t i = 0; i < nv; i++) {
    struct mt_view_insert *vi = &ins->views[i];
    vi->view = views[i];
    ins->view_count++;
    int rc = mt_insert_open(ctx, views[i].target_database, views[i].target_table, ins->staged == NULL, depth + 1,
                            &vi->into, err);
    struct op *op;
    if (rc == 0)
      rc = matview_plan(ctx, &vi->view, none, &op, err);
    if (rc) {
      error_prefix(err, "While pushing to view %s.%s: ", views[i].database, views[i].name);
      return rc;
    }
    const struct mt_def *tmd = vi->into.md;
    for (uint32_t j = 0; j < op->column_count; j++) {
      int c = find_column(tmd, op->names[j]);
      if (c >= 0 && !tmd->materialized[c] && vi->into.in_pos[c] < 0)
        mt_insert_add_column(&vi->into, (uint32_t)c);
    }
    vi->into.buffered = ins->buffered;
    vi->into.buffered_max_bytes = UINT64_MAX;    /* the source decides when to stop buffering */
  }
  return 0;
}

int mergetree_insert(struct query_context *ctx, const struct sql_statement *st, const char *text, size_t text_len,
                     mergetree_read_fn read, void *read_ctx, struct error *err)
{
  int rc = need_engine(ctx, err);
  if (rc)
    return rc;
  const char *db = st->database ? st->database : ctx->database;
  if (strcmp(db, "system") == 0)
    return error_set(err, ERR_NOT_IMPLEMENTED, "Table system.%s doesn't support inserts", st->name);
  struct mt_insert ins;
  if ((rc = mt_insert_open(ctx, db, st->name, false, 0, &ins, err)))
    goto out;
  const struct mt_def *md = ins.md;
  uint32_t n = md->column_count;
  if (st->insert_columns.count) {
    for (uint32_t i = 0; i < st->insert_columns.count; i++) {
      const char *nm = ident_text(ctx->arena, st->insert_columns.items[i]);
      int c = find_column(md, nm);
      if (c < 0) {
        rc = error_set(err, ERR_NO_SUCH_COLUMN_IN_TABLE, "No such column %s in table %s.%s", nm, db, st->name);
        goto out;
      }
      if (md->materialized[c]) {
        rc = error_set(err, ERR_ILLEGAL_COLUMN, "Cannot insert column %s, because it is MATERIALIZED column", nm);
        goto out;
      }
      if (ins.in_pos[c] >= 0) {
        rc = error_set(err, ERR_DUPLICATE_COLUMN, "Column %s in table %s.%s specified more than once", nm, db,
                       st->name);
        goto out;
      }
      mt_insert_add_column(&ins, (uint32_t)c);
    }
  } else {
    for (uint32_t c = 0; c < n; c++)
      if (!md->materialized[c])
        mt_insert_add_column(&ins, c);
  }
  uint32_t k = ins.in_count;
  const char **names = ins.in_names;
  const struct datatype **types = ins.in_types;

  if (!st->insert_format) {
    /* INSERT … SELECT */
    if (!st->select) {
      rc = error_set(err, ERR_SYNTAX_ERROR, "INSERT without data");
      goto out;
    }
    struct op *op;
    if ((rc = plan_select(ctx, st->select, NULL, &op, true, err)))
      goto out;
    if (op->column_count != k) {
      rc = error_set(err, ERR_NUMBER_OF_COLUMNS_DOESNT_MATCH,
                     "Number of columns doesn't match (source: %u and result: %u)", op->column_count, k);
      goto out;
    }
    rc = mt_insert_from_op(&ins, op, NULL, err);
    if (rc == 0)
      rc = mt_insert_finish(&ins, err);
    goto out;
  }

  struct input_options io;
  input_options_from_settings(&io, ctx->settings);
  struct input_parser *p;
  if ((rc = input_parser_create(ctx->arena, st->insert_format, k, names, types, &io, &p, err)))
    goto out;
  size_t off = st->data_offset < text_len ? st->data_offset : text_len;
  if (text && text_len > off)
    rc = input_parser_feed(p, text + off, text_len - off, err);
  char *chunk = mem_alloc(65536);
  bool done = false;
  while (rc == 0) {
    struct input_block *ib;
    while (rc == 0 && input_parser_take_block(p, &ib)) {
      rc = mt_insert_block(&ins, ib->block, ib->omitted, &ib->arena, err);
      input_block_destroy(ib);
    }
    if (rc || done)
      break;
    ssize_t got = read ? read(read_ctx, chunk, 65536, err) : 0;
    if (got < 0) {
      rc = err->code ? err->code : ERR_CANNOT_READ_ALL_DATA;
      break;
    }
    if (got == 0) {
      rc = input_parser_finish(p, err);
      done = true;
      continue;
    }
    rc = input_parser_feed(p, chunk, (size_t)got, err);
    if (rc == 0)
      rc = exec_check_limits(ctx, err);
  }
  mem_free(chunk);
  if (rc == 0)
    rc = mt_insert_finish(&ins, err);
out:
  mt_insert_cleanup(&ins);
  return rc;
}

/* ======================================================================
 * OTLP inserts fire materialized views too (query.h)
 * ==================================================================== */

struct query_views {
  struct arena arena;
  struct settings *settings;
  struct query_context ctx;
  struct mt_insert ins;              /* the source rows (not written: the caller does) */
  bool opened;
};

void query_views_release(struct query_views *qv)
{
  if (!qv)
    return;
  if (qv->opened)
    mt_insert_cleanup(&qv->ins);
  arena_destroy(&qv->arena);
  mem_free(qv);
}

int query_views_expand(struct query_service *svc, const char *db, const char *table, const struct block *rows,
                       struct engine_buffered_rows *items, uint32_t *count, uint32_t cap, struct query_views **out,
                       struct error *err)
{
  *out = NULL;
  if (!svc->views || !svc->engine || rows->rows == 0)
    return 0;
  struct matview *views;
  struct arena probe;
  arena_init(&probe, 0);
  uint32_t nv = matviews_for_source(svc->views, db, table, &probe, &views);
  arena_destroy(&probe);
  if (nv == 0)
    return 0;
  struct query_views *qv = mem_calloc(1, sizeof *qv);
  arena_init(&qv->arena, 0);
  qv->ctx = (struct query_context){
    .arena = &qv->arena,
    .server = &svc->info,
    .settings = settings_create(&qv->arena),
    .database = db,
    .user = "default",
    .query_id = "",
    .engine = svc->engine,
    .views = svc->views,
  };
  int rc = mt_insert_open(&qv->ctx, db, table, true, 0, &qv->ins, err);
  qv->opened = true;
  if (rc == 0 && qv->ins.md->column_count != rows->column_count)
    rc = error_set(err, ERR_LOGICAL_ERROR, "Rows for %s.%s have %u columns, the table %u", db, table,
                   rows->column_count, qv->ins.md->column_count);
  if (rc == 0) {
    /* the rows as the table's columns, named, without copying them */
    struct block *named = block_create(&qv->arena, rows->column_count);
    named->rows = rows->rows;
    named->names = (const char **)qv->ins.md->names;
    for (uint32_t c = 0; c < rows->column_count; c++)
      named->columns[c] = rows->columns[c];
    qv->ins.acc = named;
    rc = mt_insert_fire_buffered(&qv->ins, err);
    qv->ins.acc = NULL;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; rc == 0 && i < qv->ins.view_count; i++)
    n += mt_insert_items_count(&qv->ins.views[i].into);
  if (rc == 0 && *count + n > cap)
    rc = error_set(err, ERR_TOO_MANY_ROWS, "Rows for %s.%s feed %u tables through views, more than the %u allowed",
                   db, table, n, cap - *count);
  if (rc) {
    query_views_release(qv);
    return rc;
  }
  for (uint32_t i = 0; i < qv->ins.view_count; i++)
    mt_insert_items(&qv->ins.views[i].into, items, count);
  *out = qv;
  return 0;
}

/* ======================================================================
 * Start-up
 * ==================================================================== */

int query_engine_start(struct query_service *svc, struct engine *e, struct error *err)
{
  g_info = &svc->info;
  svc->engine = e;
  struct catalog *cat = engine_catalog(e);
  int rc = engine_database_create(e, "default", true, err);
  if (rc)
    return rc;
  struct arena a;
  arena_init(&a, 0);
  struct catalog_table *ts;
  size_t n = 0;
  if ((rc = catalog_table_list(cat, NULL, &a, &ts, &n, err))) {
    arena_destroy(&a);
    return rc;
  }
  for (size_t i = 0; i < n; i++) {
    struct sql_statement *st;
    struct table_def def;
    struct mt_def *md;
    struct error e2 = { 0 };
    if (matview_is_engine(ts[i].engine) || view_is_engine(ts[i].engine))
      continue;                      /* views: the registry below, or planned when read */
    if (ddl_parse(&a, ts[i].ddl, &st, &e2) || mt_table_def_build(st, ts[i].ddl, strlen(ts[i].ddl), &def, &md, &e2)) {
      log_error("table %s.%s: cannot build its definition: %s", ts[i].database, ts[i].name, e2.message);
      continue;
    }
    if (engine_table_attach(e, ts[i].id, &def, NULL, &e2)) {
      log_error("table %s.%s: cannot attach: %s", ts[i].database, ts[i].name, e2.message);
      mt_def_free(md);
    }
  }
  arena_destroy(&a);
  svc->views = matviews_create();
  if ((rc = matviews_load(svc->views, cat, err)))
    return rc;
  static struct table_catalog tc;
  tc = (struct table_catalog){ "MergeTree", mt_databases, mt_tables, mt_lookup, e };
  table_catalog_register(&tc);
  return 0;
}

void query_engine_stop(struct query_service *svc)
{
  matviews_destroy(svc->views);
  svc->views = NULL;
  svc->engine = NULL;
}

/* CREATE DATABASE / CREATE TABLE text run as the HTTP interface runs it,
 * without a request: the built-in `otel` schema at start-up. */
int query_execute_ddl(struct query_service *svc, const char *sql, struct error *err)
{
  if (!svc->engine)
    return error_set(err, ERR_NOT_IMPLEMENTED, "This server has no storage engine");
  struct arena a;
  arena_init(&a, 0);
  struct query_context ctx = {
    .arena = &a,
    .server = &svc->info,
    .settings = settings_create(&a),
    .database = "default",
    .user = "default",
    .query_id = "",
    .engine = svc->engine,
    .views = svc->views,
    .text = sql,
    .text_len = strlen(sql),
  };
  struct sql_statement *st;
  struct op *out = NULL;
  int rc = sql_parse(&a, sql, strlen(sql), &st, err);
  if (rc == 0 && st->kind != STMT_CREATE_DATABASE && st->kind != STMT_CREATE_TABLE && st->kind != STMT_CREATE_VIEW)
    rc = error_set(err, ERR_BAD_ARGUMENTS, "query_execute_ddl runs CREATE DATABASE, TABLE and VIEW only");
  if (rc == 0)
    rc = mergetree_statement(&ctx, st, &out, err);
  arena_destroy(&a);
  return rc;
}

/* ======================================================================
 * system.parts, system.merges
 * ==================================================================== */

static void put_str(struct column *c, const char *s) { col_str_append(c, s ? s : "", s ? strlen(s) : 0); }

/* Seconds (or days for Date) of a raw time-column value. */
static int64_t time_seconds(const struct datatype *t, int64_t v)
{
  t = datatype_unwrap(t);
  if (t->id == TYPE_DATETIME64) {
    int64_t d = 1;
    for (uint32_t i = 0; i < t->size; i++)
      d *= 10;
    return v >= 0 ? v / d : -((-v + d - 1) / d);
  }
  return v;
}

void mergetree_fill_parts(struct query_context *ctx, struct column **c)
{
  if (!ctx->engine)
    return;
  struct catalog_table *ts;
  size_t n = 0;
  struct error err = { 0 };
  if (catalog_table_list(engine_catalog(ctx->engine), NULL, ctx->arena, &ts, &n, &err) != 0)
    return;
  for (size_t i = 0; i < n; i++) {
    struct engine_table *t;
    if (engine_table_get_by_id(ctx->engine, ts[i].id, &t, &err) != 0)
      continue;
    struct engine_part_info *parts;
    size_t pc = 0;
    const struct datatype *tt = NULL;
    struct engine_snapshot *snap;
    if (engine_table_attached(t) && engine_snapshot(t, &snap, &err) == 0) {
      const struct table_def *def = engine_snapshot_def(snap);
      if (def->time_column >= 0)
        tt = datatype_unwrap(def->columns[def->time_column].type);
      engine_snapshot_release(snap);
    }
    if (engine_table_parts(t, true, ctx->arena, &parts, &pc, &err) != 0)
      pc = 0;
    for (size_t k = 0; k < pc; k++) {
      const struct engine_part_info *p = &parts[k];
      bool is_date = tt && tt->id == TYPE_DATE;
      int64_t mn = p->has_time && tt ? time_seconds(tt, p->min_time) : 0;
      int64_t mx = p->has_time && tt ? time_seconds(tt, p->max_time) : 0;
      put_str(c[0], p->partition);
      put_str(c[1], p->name);
      put_str(c[2], "Wide");
      column_append_u64(c[3], p->active);
      column_append_u64(c[4], p->marks);
      column_append_u64(c[5], p->rows);
      column_append_u64(c[6], p->bytes_on_disk);
      column_append_u64(c[7], p->data_compressed_bytes);
      column_append_u64(c[8], p->data_uncompressed_bytes);
      column_append_u64(c[9], 0);
      column_append_u64(c[10], (uint64_t)(p->modification_time_ns / 1000000000));
      column_append_u64(c[11], (uint64_t)(p->remove_time_ns / 1000000000));
      column_append_u64(c[12], p->refcount);
      column_append_u64(c[13], is_date ? (uint64_t)mn : 0);
      column_append_u64(c[14], is_date ? (uint64_t)mx : 0);
      column_append_u64(c[15], is_date ? 0 : (uint64_t)(mn < 0 ? 0 : mn));
      column_append_u64(c[16], is_date ? 0 : (uint64_t)(mx < 0 ? 0 : mx));
      put_str(c[17], p->partition_id);
      column_append_i64(c[18], (int64_t)p->min_block);
      column_append_i64(c[19], (int64_t)p->max_block);
      column_append_u64(c[20], p->level);
      column_append_u64(c[21], p->min_block);
      put_str(c[22], p->disk ? p->disk : "default");
      put_str(c[23], p->path);
      put_str(c[24], ts[i].database);
      put_str(c[25], ts[i].name);
      put_str(c[26], ts[i].engine);
      column_append_u64(c[27], p->bytes_on_disk);
    }
    engine_table_unref(t);
  }
}

void mergetree_fill_merges(struct query_context *ctx, struct column **c)
{
  if (!ctx->engine)
    return;
  struct engine_merge_info *m;
  size_t n = 0;
  if (engine_merges(ctx->engine, ctx->arena, &m, &n) != 0)
    return;
  for (size_t i = 0; i < n; i++) {
    put_str(c[0], m[i].database);
    put_str(c[1], m[i].table);
    column_append_f64(c[2], m[i].elapsed_s);
    column_append_f64(c[3], m[i].progress);
    column_append_u64(c[4], m[i].num_parts);
    for (uint32_t k = 0; k < m[i].num_parts; k++)
      put_str(c[5]->children[0], m[i].source_part_names[k]);
    column_close_array_row(c[5]);
    put_str(c[6], m[i].result_part_name);
    put_str(c[7], m[i].partition_id);
    column_append_u64(c[8], 0);
    column_append_u64(c[9], m[i].total_size_bytes_compressed);
    column_append_u64(c[10], m[i].total_size_marks);
    column_append_u64(c[11], m[i].bytes_read_uncompressed);
    column_append_u64(c[12], m[i].rows_read);
    column_append_u64(c[13], m[i].bytes_written_uncompressed);
    column_append_u64(c[14], m[i].rows_written);
    put_str(c[15], m[i].merge_type);
  }
}

/* system.columns sizes: per column of db.t, compressed/uncompressed bytes. */
void mergetree_column_sizes(struct query_context *ctx, const char *db, const char *table, uint32_t count,
                            const char **names, uint64_t *compressed, uint64_t *uncompressed)
{
  memset(compressed, 0, sizeof *compressed * count);
  memset(uncompressed, 0, sizeof *uncompressed * count);
  struct engine_table *t;
  struct error err = { 0 };
  if (!ctx->engine || engine_table_get(ctx->engine, db, table, &t, &err) != 0)
    return;
  struct engine_column_info *ci;
  size_t n = 0;
  if (engine_table_columns(t, ctx->arena, &ci, &n, &err) == 0)
    for (size_t i = 0; i < n; i++)
      for (uint32_t k = 0; k < count; k++)
        if (strcmp(ci[i].name, names[k]) == 0) {
          compressed[k] = ci[i].data_compressed_bytes;
          uncompressed[k] = ci[i].data_uncompressed_bytes;
        }
  engine_table_unref(t);
}
