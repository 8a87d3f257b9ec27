/* The analyzer: turns a SELECT's AST into typed expression trees and plans
 * it as a tree of operators.
 *
 * Name resolution follows ClickHouse's analyzer: lambda parameters first,
 * then aliases defined anywhere in the query (an alias wins over a column of
 * the same name, except inside its own definition), then ARRAY JOIN
 * columns, then table columns (optionally qualified by table or database).
 * Every expression is analyzed against the source columns first; aggregate
 * calls become EXPR_AGGREGATE placeholders. For an aggregating query the
 * SELECT/HAVING/ORDER BY trees are then rewritten over the aggregated block
 * [keys…, aggregates…] by matching subtrees to GROUP BY keys by their
 * canonical key; a leftover source column is NOT_AN_AGGREGATE.
 * Functions of constants are folded here into const expressions; scalar
 * and IN subqueries run here too. */
#include "query/exec_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { AJ_INDEX_BASE = 1u << 30 };

struct alias_def {
  const char *name;
  const struct ast *node;
  bool resolving;
  bool is_with;                  /* from WITH: visible in subqueries */
  struct expr *cached;
};

struct aj_entry {
  const char *name;              /* how identifiers refer to the joined column */
  const char *key;               /* for arrayJoin(): canonical key of the array */
  struct expr *array;
  const struct datatype *type;   /* element type */
};

struct lambda_frame {
  struct lambda_frame *up;
  const char **names;
  const struct datatype **types;
  uint32_t count;
  uint32_t level;
};

struct agg_entry {
  const char *key;
  struct agg_call *call;
  struct expr **args;
  uint32_t arg_count;
};

struct analyze_scope {
  struct query_context *ctx;
  struct arena *a;
  const struct analyze_scope *parent;
  const struct ast *select;
  struct alias_def *aliases;
  uint32_t alias_count, alias_cap;
  /* source */
  struct table_source *source;
  const char *table_alias;
  const char *table_name;
  const char *table_db;
  int32_t *source_pos;           /* per source column: read position or -1 */
  uint32_t *read_cols;
  uint32_t read_count;
  /* ARRAY JOIN (clause entries first, then arrayJoin() calls) */
  struct aj_entry *aj;
  uint32_t aj_count, aj_cap;
  uint32_t aj_clause_count;
  bool aj_left;
  bool aj_allowed;
  /* every EXPR_INPUT over the source, to fix indexes once reads are known */
  struct expr **inputs;
  uint32_t input_count, input_cap;
  /* lambdas */
  struct lambda_frame *lambda;
  uint32_t lambda_level;
  /* aggregates */
  bool allow_agg;
  const char *clause;
  bool in_agg;
  struct agg_entry *aggs;
  uint32_t agg_count, agg_cap;
  const char *query_text;
  bool final;                    /* FROM t FINAL */
  /* FROM with JOINs: the combined columns of every table */
  struct join_plan *join;
  uint32_t join_level;           /* columns introduced by tables/joins up to this one are visible */
};

/* ======================================================================
 * JOIN: the combined column space
 *
 * Every column of every table of a FROM with joins gets one index here
 * (tables in order), and each USING join adds its merged key columns after
 * its right table's. Expressions refer to these indexes; opening the join
 * source (join_open) reads only the referenced columns and builds a left-deep
 * tree of hash joins whose layouts map the indexes to block positions.
 * Join level j is the join of tables 0..j-1 with table j; with
 * join_use_nulls a column becomes Nullable at the level that can leave its
 * side without a row (LEFT: right table, RIGHT: all left columns, FULL: both).
 * ====================================================================== */

struct join_table {
  const char *alias;             /* FROM t AS a: a; NULL if none */
  const char *name;              /* table name (NULL for subqueries) */
  const char *db;
  struct table_source *src;
  bool final;
};

struct join_col {
  const char *name;              /* bare column name */
  const char *out_name;          /* name in SELECT * and in the source header */
  int32_t table;                 /* table index; -1 for a merged USING column */
  uint32_t level;                /* join level that introduces it */
  uint32_t local;                /* column of the table's source */
  bool hidden;                   /* not part of * */
  const struct datatype *type;   /* type before any join_use_nulls wrapping */
};

struct join_step {
  enum ast_join_kind kind;       /* INNER, LEFT, RIGHT, FULL, CROSS */
  enum ast_join_strictness strictness; /* ALL or ANY */
  uint32_t key_count;
  struct expr **lkeys, **rkeys;  /* EXPR_INPUT index = combined column */
  struct expr *lcond, *rcond;    /* ON conditions over one side */
  struct expr *post;             /* INNER: ON conditions over both sides, applied after the join */
  uint32_t merged_first, merged_count;  /* combined indexes of the merged USING columns */
  uint32_t *merged_keys;         /* key index per merged column */
};

struct join_plan {
  struct join_table *tables;
  struct join_step *steps;       /* [1 .. table_count) */
  uint32_t table_count;
  struct join_col *cols;
  uint32_t col_count, col_cap;
  uint32_t *star;                /* SELECT * order */
  uint32_t star_count;
  bool use_nulls;
  uint64_t memory_max;
};

static int analyze_expr(struct analyze_scope *s, const struct ast *n, struct expr **out, struct error *err);
static int check_filter(struct analyze_scope *s, struct expr *e, const char *clause, struct error *err);

/* ======================================================================
 * helpers
 * ====================================================================== */

#define GROW(arr, count, cap, a) do {                                             \
    if ((count) == (cap)) {                                                     \
      uint32_t nc_ = (cap) ? (cap) * 2 : 8;                                     \
      arr = arena_realloc((a), (arr), sizeof *(arr) * (cap), sizeof *(arr) * nc_); \
      (cap) = nc_;                                                              \
    }                                                                           \
  } while (0)

static const char *scope_text(struct analyze_scope *s)
{
  if (s->query_text)
    return s->query_text;
  /* A compact rendering of the SELECT for error messages. */
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, "SELECT ");
  const struct ast_select *sel = s->select ? &s->select->u.select : NULL;
  if (sel) {
    for (uint32_t i = 0; i < sel->columns.count; i++) {
      if (i)
        buf_append_cstr(&b, ", ");
      ast_format(sel->columns.items[i], &b);
      if (sel->columns.items[i]->alias)
        buf_printf(&b, " AS %s", sel->columns.items[i]->alias);
    }
    if (sel->from.count) {
      buf_append_cstr(&b, " FROM ");
      ast_format(sel->from.items[0], &b);
      for (uint32_t i = 1; i < sel->from.count; i++) {
        const struct ast *x = sel->from.items[i];
        if (x->kind != AST_JOIN)
          continue;
        buf_append_cstr(&b, x->u.join.kind == JOIN_COMMA ? ", " : " JOIN ");
        ast_format(x, &b);
        if (x->u.join.table->alias)
          buf_printf(&b, " AS %s", x->u.join.table->alias);
        if (x->u.join.on) {
          buf_append_cstr(&b, " ON ");
          ast_format(x->u.join.on, &b);
        }
      }
    }
    if (sel->where) {
      buf_append_cstr(&b, " WHERE ");
      ast_format(sel->where, &b);
    }
  }
  s->query_text = arena_strndup(s->a, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s->query_text;
}

static const char *const_key(struct arena *a, const struct column *c)
{
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, "c:");
  datatype_format(c->type, &b);
  buf_append_char(&b, ':');
  key_serialize(&b, c, 0);
  /* keys are compared with strcmp: hex-encode the binary part */
  struct buf h;
  buf_init(&h);
  static const char hexd[] = "0123456789abcdef";
  for (size_t i = 0; i < b.len; i++) {
    unsigned char ch = (unsigned char)b.data[i];
    if (ch >= 0x20 && ch < 0x7f && ch != '%') {
      buf_append_char(&h, (char)ch);
    } else {
      buf_append_char(&h, '%');
      buf_append_char(&h, hexd[ch >> 4]);
      buf_append_char(&h, hexd[ch & 15]);
    }
  }
  const char *r = arena_strndup(a, h.data ? h.data : "", h.len);
  buf_free(&b);
  buf_free(&h);
  return r;
}

static struct expr *expr_new(struct arena *a, enum expr_kind kind, const struct datatype *type)
{
  struct expr *e = arena_new(a, struct expr);
  e->kind = kind;
  e->type = type;
  return e;
}

static struct expr *expr_const(struct arena *a, struct column *value)
{
  if (value->is_const || value->rows != 1) {
    value = col_with_rows(a, value, 1);
    value->is_const = false;
  }
  struct expr *e = expr_new(a, EXPR_CONST, value->type);
  e->value = value;
  e->key = const_key(a, value);
  return e;
}

/* An input over the pre-aggregation block; registered for index fix-up. */
static struct expr *expr_source_input(struct analyze_scope *s, uint32_t index, const struct datatype *type,
                                      const char *name)
{
  struct expr *e = expr_new(s->a, EXPR_INPUT, type);
  e->index = index;
  e->name = name;
  e->key = arena_printf(s->a, "#%u", index);
  GROW(s->inputs, s->input_count, s->input_cap, s->a);
  s->inputs[s->input_count++] = e;
  if (index < AJ_INDEX_BASE && s->source_pos[index] < 0) {
    s->source_pos[index] = (int32_t)s->read_count;
    s->read_cols[s->read_count++] = index;
  }
  return e;
}

static const char *call_key(struct arena *a, const char *name, struct expr **args, uint32_t n, const char *extra)
{
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, name);
  if (extra)
    buf_append_cstr(&b, extra);
  buf_append_char(&b, '(');
  for (uint32_t i = 0; i < n; i++) {
    if (i)
      buf_append_char(&b, ',');
    buf_append_cstr(&b, args[i]->key ? args[i]->key : "?");
  }
  buf_append_char(&b, ')');
  const char *r = arena_strndup(a, b.data, b.len);
  buf_free(&b);
  return r;
}

static bool any_lambda_param(struct expr **args, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++)
    if (args[i]->has_lambda_param)
      return true;
  return false;
}

/* Resolves a function over analyzed arguments and folds constants. */
static int make_call(struct query_context *ctx, struct arena *a, const struct function_def *def, const char *name,
                     struct expr **args, uint32_t n, void *preset_state, struct expr **out, struct error *err)
{
  struct fn_call *call = arena_new(a, struct fn_call);
  call->def = def;
  call->name = name;
  call->ctx = ctx;
  call->arena = a;
  call->args = args;
  call->arg_count = n;
  call->state = preset_state;
  call->arg_types = arena_alloc(a, sizeof *call->arg_types * (n ? n : 1));
  bool null_const = false, any_nullable = false;
  for (uint32_t i = 0; i < n; i++) {
    const struct datatype *t = args[i]->type;
    if (!(def->flags & FN_KEEP_LC) && t->id == TYPE_LOW_CARDINALITY)
      t = t->children[0];
    if (!(def->flags & FN_NULLS) && args[i]->kind != EXPR_LAMBDA) {
      if (t->id == TYPE_NULLABLE) {
        if (t->children[0]->id == TYPE_NOTHING)
          null_const = true;
        any_nullable = true;
        t = t->children[0];
      } else if (t->id == TYPE_NOTHING) {
        null_const = true;
      }
    }
    call->arg_types[i] = t;
  }
  if (null_const) {
    /* f(NULL, …) is NULL for functions without their own NULL handling */
    int rc = def->resolve(call, err);
    (void)rc;
    error_clear(err);
    struct expr *e = expr_new(a, EXPR_FUNCTION, type_nothing_nullable());
    call->null_const = true;
    call->type = call->result_type = e->type;
    e->call = call;
    e->args = args;
    e->arg_count = n;
    struct column *v = col_const_null(a, e->type, 1);
    *out = expr_const(a, v);
    return 0;
  }
  int rc = def->resolve(call, err);
  if (rc)
    return rc;
  call->wrap_nulls = any_nullable;
  call->result_type = any_nullable ? type_make_nullable(a, call->type) : call->type;
  struct expr *e = expr_new(a, EXPR_FUNCTION, call->result_type);
  e->call = call;
  e->args = args;
  e->arg_count = n;
  e->has_lambda_param = any_lambda_param(args, n);
  e->key = call_key(a, def->name, args, n, NULL);
  if (preset_state)
    e->key = arena_printf(a, "%s@%p", e->key, preset_state);

  bool foldable = !(def->flags & (FN_VOLATILE | FN_ROWWISE | FN_ARRAY_JOIN));
  if (foldable && (def->flags & FN_CONST_ONLY)) {
    struct column *v;
    struct block empty = { .rows = 1 };
    struct eval ev = { .ctx = ctx, .arena = a, .input = &empty, .rows = 1 };
    struct column **cargs = arena_calloc(a, n ? n : 1, sizeof *cargs);
    rc = call->exec(call, &ev, cargs, 1, &v, err);
    if (rc)
      return rc;
    *out = expr_const(a, v);
    return 0;
  }
  bool all_const = foldable;
  for (uint32_t i = 0; i < n && all_const; i++)
    all_const = args[i]->kind == EXPR_CONST;
  if (all_const) {
    struct column *v;
    rc = expr_eval_const(ctx, a, e, &v, err);
    if (rc)
      return rc;
    *out = expr_const(a, v);
    return 0;
  }
  *out = e;
  return 0;
}

/* Public for other files (tests, planner): resolve by name. */
int analyze_call(struct query_context *ctx, struct arena *a, const char *name, struct expr **args, uint32_t n,
                 struct expr **out, struct error *err);
int analyze_call(struct query_context *ctx, struct arena *a, const char *name, struct expr **args, uint32_t n,
                 struct expr **out, struct error *err)
{
  const struct function_def *def = function_find(name);
  if (!def || !def->resolve)
    return error_set(err, ERR_UNKNOWN_FUNCTION, "Unknown function %s", name);
  return make_call(ctx, a, def, name, args, n, NULL, out, err);
}

/* CAST(e, 'type') as an expression. */
static int make_cast(struct analyze_scope *s, struct expr *e, const struct datatype *to, struct expr **out,
                     struct error *err)
{
  if (datatype_equal(e->type, to)) {
    *out = e;
    return 0;
  }
  struct expr **args = arena_alloc(s->a, sizeof *args * 2);
  args[0] = e;
  const char *tn = type_name(s->a, to);
  args[1] = expr_const(s->a, col_const_str(s->a, tn, strlen(tn), 1));
  return analyze_call(s->ctx, s->a, "_CAST", args, 2, out, err);
}

/* ======================================================================
 * literals
 * ====================================================================== */

static struct column *literal_column(struct arena *a, const struct ast *n)
{
  switch (n->u.literal.kind) {
  case LIT_NULL:
    return col_const_null(a, type_nothing_nullable(), 1);
  case LIT_UINT: {
    uint64_t v = n->u.literal.u;
    const struct datatype *t = v <= UINT8_MAX ? datatype_simple(TYPE_UINT8)
                             : v <= UINT16_MAX ? datatype_simple(TYPE_UINT16)
                             : v <= UINT32_MAX ? datatype_simple(TYPE_UINT32)
                             : datatype_simple(TYPE_UINT64);
    return col_from_u64(a, t, &v, 1);
  }
  case LIT_INT: {
    int64_t v = n->u.literal.i;
    const struct datatype *t = v >= INT8_MIN && v <= INT8_MAX ? datatype_simple(TYPE_INT8)
                             : v >= INT16_MIN && v <= INT16_MAX ? datatype_simple(TYPE_INT16)
                             : v >= INT32_MIN && v <= INT32_MAX ? datatype_simple(TYPE_INT32)
                             : datatype_simple(TYPE_INT64);
    return col_from_i64(a, t, &v, 1);
  }
  case LIT_FLOAT: {
    double v = n->u.literal.f;
    return col_from_f64(a, datatype_simple(TYPE_FLOAT64), &v, 1);
  }
  case LIT_STRING: {
    struct column *c = col_new_empty(a, type_str(), 1);
    col_str_append(c, n->u.literal.str, n->u.literal.str_len);
    return c;
  }
  case LIT_BOOL: {
    uint64_t v = n->u.literal.u != 0;
    return col_from_u64(a, datatype_simple(TYPE_BOOL), &v, 1);
  }
  }
  return col_const_null(a, type_nothing_nullable(), 1);
}

/* ======================================================================
 * aliases
 * ====================================================================== */

static int add_alias(struct analyze_scope *s, const char *name, const struct ast *node, bool is_with,
                     struct error *err)
{
  for (uint32_t i = 0; i < s->alias_count; i++) {
    if (strcmp(s->aliases[i].name, name) == 0) {
      if (s->aliases[i].node == node)
        return 0;
      const char *a1 = ast_format_name(s->a, s->aliases[i].node), *a2 = ast_format_name(s->a, node);
      if (strcmp(a1, a2) == 0)
        return 0;
      return error_set(err, ERR_MULTIPLE_EXPRESSIONS_FOR_ALIAS,
                       "Different expressions with the same alias %s:\n%s AS %s\nand\n%s AS %s\n", name, a2, name, a1,
                       name);
    }
  }
  GROW(s->aliases, s->alias_count, s->alias_cap, s->a);
  s->aliases[s->alias_count++] = (struct alias_def){ .name = name, .node = node, .is_with = is_with };
  return 0;
}

static int collect_aliases(struct analyze_scope *s, const struct ast *n, struct error *err)
{
  if (!n)
    return 0;
  int rc;
  if (n->alias && n->kind != AST_TABLE_EXPR && (rc = add_alias(s, n->alias, n, false, err)))
    return rc;
  switch (n->kind) {
  case AST_FUNCTION:
    if (strcmp(n->u.function.name, "lambda") == 0)
      return 0;
    for (uint32_t i = 0; i < n->u.function.args.count; i++)
      if ((rc = collect_aliases(s, n->u.function.args.items[i], err)))
        return rc;
    return 0;
  case AST_ORDER_ELEMENT:
    return collect_aliases(s, n->u.order.expr, err);
  default:
    return 0;
  }
}

static struct alias_def *find_alias(struct analyze_scope *s, const char *name)
{
  for (uint32_t i = 0; i < s->alias_count; i++)
    if (strcmp(s->aliases[i].name, name) == 0)
      return &s->aliases[i];
  return NULL;
}

/* WITH aliases of enclosing queries. */
static const struct alias_def *find_outer_with(const struct analyze_scope *s, const char *name)
{
  for (const struct analyze_scope *p = s->parent; p; p = p->parent)
    for (uint32_t i = 0; i < p->alias_count; i++)
      if (p->aliases[i].is_with && strcmp(p->aliases[i].name, name) == 0)
        return &p->aliases[i];
  return NULL;
}

/* ======================================================================
 * identifiers
 * ====================================================================== */

/* A column's type once the joins up to `level` are applied. */
static const struct datatype *join_nullable(struct arena *a, const struct datatype *t)
{
  /* LowCardinality(T) becomes Nullable(T): the join emits plain columns */
  if (t->id == TYPE_LOW_CARDINALITY)
    t = t->children[0];
  return type_make_nullable(a, t);
}

static const struct datatype *join_type_at(const struct join_plan *jp, struct arena *a, uint32_t c, uint32_t level)
{
  const struct join_col *jc = &jp->cols[c];
  const struct datatype *t = jc->type;
  if (!jp->use_nulls)
    return t;
  for (uint32_t l = jc->level > 1 ? jc->level : 1; l <= level && l < jp->table_count; l++) {
    enum ast_join_kind k = jp->steps[l].kind;
    bool left_side = jc->level < l, right_side = jc->table == (int32_t)l;
    if ((left_side && (k == JOIN_RIGHT || k == JOIN_FULL)) || (right_side && (k == JOIN_LEFT || k == JOIN_FULL)))
      t = join_nullable(a, t);
  }
  return t;
}

/* A column visible at `level` by bare name: of table `table`, or (table < 0)
 * the newest merged USING column of that name, else the only table column
 * of that name. -1 when none; *ambiguous when several tables have it. */
static int64_t join_find(const struct join_plan *jp, uint32_t level, int32_t table, const char *name,
                         bool *ambiguous)
{
  *ambiguous = false;
  if (table < 0) {
    for (uint32_t c = jp->col_count; c-- > 0;) {
      const struct join_col *jc = &jp->cols[c];
      if (jc->table < 0 && jc->level <= level && strcmp(jc->name, name) == 0)
        return c;
    }
  }
  int64_t found = -1;
  for (uint32_t c = 0; c < jp->col_count; c++) {
    const struct join_col *jc = &jp->cols[c];
    if (jc->table < 0 || jc->level > level || (table >= 0 && jc->table != table) || strcmp(jc->name, name) != 0)
      continue;
    if (table >= 0)
      return c;
    if (found >= 0) {
      *ambiguous = true;
      return -1;
    }
    found = c;
  }
  return found;
}

/* The table a qualifier names (alias, else table name; db.table), or -1. */
static int32_t join_table_of(const struct join_plan *jp, uint32_t level, const char *db, const char *q)
{
  for (int pass = 0; pass < 2; pass++) {
    for (uint32_t t = 0; t <= level && t < jp->table_count; t++) {
      const struct join_table *jt = &jp->tables[t];
      if (db) {
        if (pass == 0 && jt->db && jt->name && strcmp(jt->db, db) == 0 && strcmp(jt->name, q) == 0)
          return (int32_t)t;
        continue;
      }
      if (pass == 0 ? (jt->alias && strcmp(jt->alias, q) == 0)
                    : (jt->name && strcmp(jt->name, q) == 0))
        return (int32_t)t;
    }
  }
  return -1;
}

static int find_source_column(struct analyze_scope *s, const char *name)
{
  if (s->join) {
    bool amb;
    int64_t c = join_find(s->join, s->join_level, -1, name, &amb);
    return (int)c;
  }
  if (!s->source)
    return -1;
  for (uint32_t i = 0; i < s->source->column_count; i++)
    if (strcmp(s->source->names[i], name) == 0)
      return (int)i;
  return -1;
}

static int find_aj(struct analyze_scope *s, const char *name)
{
  for (uint32_t i = 0; i < s->aj_clause_count; i++)
    if (s->aj[i].name && strcmp(s->aj[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int unknown_identifier(struct analyze_scope *s, const char *name, struct error *err)
{
  return error_set(err, ERR_UNKNOWN_IDENTIFIER, "Unknown expression identifier `%s` in scope %s", name,
                   scope_text(s));
}

static int resolve_column_name(struct analyze_scope *s, const char *name, struct expr **out)
{
  int k = find_aj(s, name);
  if (k >= 0) {
    *out = expr_source_input(s, AJ_INDEX_BASE + (uint32_t)k, s->aj[k].type, name);
    return 1;
  }
  int i = find_source_column(s, name);
  if (i >= 0) {
    *out = expr_source_input(s, (uint32_t)i, s->source->types[i], s->source->names[i]);
    return 1;
  }
  return 0;
}

static int analyze_alias(struct analyze_scope *s, struct alias_def *ad, struct expr **out, struct error *err)
{
  if (ad->cached && s->lambda_level == 0) {
    *out = ad->cached;
    return 0;
  }
  ad->resolving = true;
  int rc = analyze_expr(s, ad->node, out, err);
  ad->resolving = false;
  if (rc)
    return rc;
  if (s->lambda_level == 0 && !(*out)->has_lambda_param)
    ad->cached = *out;
  return 0;
}

static int analyze_identifier(struct analyze_scope *s, const struct ast *n, struct expr **out, struct error *err)
{
  uint32_t parts = n->u.identifier.part_count;
  const char **p = n->u.identifier.parts;
  const char *full = ast_format_name(s->a, n);

  /* lambda parameters, innermost first */
  if (parts == 1) {
    for (struct lambda_frame *f = s->lambda; f; f = f->up) {
      for (uint32_t i = 0; i < f->count; i++) {
        if (strcmp(f->names[i], p[0]) == 0) {
          struct expr *e = expr_new(s->a, EXPR_PARAM, f->types[i]);
          e->index = i;
          e->level = f->level;
          e->has_lambda_param = true;
          e->key = arena_printf(s->a, "$%u.%u", f->level, i);
          e->name = p[0];
          *out = e;
          return 0;
        }
      }
    }
  }

  /* aliases (not while resolving that same alias) */
  struct alias_def *ad = find_alias(s, full);
  if (ad && !ad->resolving)
    return analyze_alias(s, ad, out, err);

  /* columns: the full dotted name, then qualified forms */
  if (s->join && find_aj(s, full) < 0) {
    bool amb;
    join_find(s->join, s->join_level, -1, full, &amb);
    if (amb)
      return error_set(err, ERR_AMBIGUOUS_COLUMN_NAME,
                       "JOIN has ambiguous identifier `%s`: qualify it with a table name or alias. In scope %s", full,
                       scope_text(s));
  }
  if (resolve_column_name(s, full, out))
    return 0;
  if (parts >= 2 && s->join) {
    for (uint32_t q = 1; q <= 2 && q < parts; q++) {
      int32_t t = join_table_of(s->join, s->join_level, q == 2 ? p[0] : NULL, p[q - 1]);
      if (t < 0)
        continue;
      const char *rest = full;
      for (uint32_t k = 0; k < q; k++)
        rest += strlen(p[k]) + 1;
      bool amb;
      int64_t c = join_find(s->join, s->join_level, t, rest, &amb);
      if (c >= 0) {
        *out = expr_source_input(s, (uint32_t)c, s->source->types[c], full);
        return 0;
      }
    }
  }
  if (parts >= 2) {
    bool qual_table = (s->table_alias && strcmp(p[0], s->table_alias) == 0) ||
                      (s->table_name && strcmp(p[0], s->table_name) == 0);
    if (qual_table) {
      const char *rest = ast_format_name(s->a, n) + strlen(p[0]) + 1;
      if (resolve_column_name(s, rest, out))
        return 0;
    }
    if (parts >= 3 && s->table_db && s->table_name && strcmp(p[0], s->table_db) == 0 &&
        strcmp(p[1], s->table_name) == 0) {
      const char *rest = ast_format_name(s->a, n) + strlen(p[0]) + strlen(p[1]) + 2;
      if (resolve_column_name(s, rest, out))
        return 0;
    }
    /* tuple element access: t.name */
    struct expr *base;
    struct ast tmp = *n;
    tmp.u.identifier.part_count = parts - 1;
    tmp.alias = NULL;
    struct error e2;
    if (analyze_identifier(s, &tmp, &base, &e2) == 0) {
      const struct datatype *bt = datatype_unwrap(base->type);
      if (bt->id == TYPE_TUPLE) {
        struct expr **args = arena_alloc(s->a, sizeof *args * 2);
        args[0] = base;
        const char *el = p[parts - 1];
        args[1] = expr_const(s->a, col_const_str(s->a, el, strlen(el), 1));
        return analyze_call(s->ctx, s->a, "tupleElement", args, 2, out, err);
      }
    }
  }
  if (ad && ad->resolving) {
    /* `x AS x` style self reference without a column: cyclic alias */
    return unknown_identifier(s, full, err);
  }
  const struct alias_def *od = find_outer_with(s, full);
  if (od) {
    struct alias_def copy = *od;
    copy.cached = NULL;
    return analyze_alias(s, &copy, out, err);
  }
  return unknown_identifier(s, full, err);
}

/* ======================================================================
 * subqueries
 * ====================================================================== */

static int run_subquery(struct analyze_scope *s, const struct ast *q, struct block **out, struct op **plan,
                        struct error *err)
{
  struct op *op;
  int rc = plan_select(s->ctx, q, s, &op, false, err);
  if (rc)
    return rc;
  *plan = op;
  return plan_drain(s->ctx, op, s->a, out, 0, err);
}

static int analyze_scalar_subquery(struct analyze_scope *s, const struct ast *n, struct expr **out,
                                   struct error *err)
{
  struct block *b;
  struct op *plan;
  int rc = run_subquery(s, n->u.subquery.query, &b, &plan, err);
  if (rc)
    return rc;
  if (b->rows > 1)
    return error_set(err, ERR_INCORRECT_RESULT_OF_SCALAR_SUBQUERY, "Scalar subquery returned more than one row");
  struct column *v;
  if (plan->column_count == 1) {
    if (b->rows == 0) {
      const struct datatype *t = type_make_nullable(s->a, plan->types[0]);
      v = col_const_null(s->a, t, 1);
      if (t->id != TYPE_NULLABLE) {
        v = col_new_empty(s->a, t, 1);
        column_append_default(v);
      }
    } else {
      v = column_slice(s->a, b->columns[0], 0, 1);
    }
  } else {
    const struct datatype *tt = datatype_tuple(s->a, plan->types, plan->names, plan->column_count);
    v = col_new_empty(s->a, tt, 1);
    for (uint32_t i = 0; i < plan->column_count; i++) {
      if (b->rows)
        column_append_from(v->children[i], b->columns[i], 0);
      else
        column_append_default(v->children[i]);
    }
    column_close_tuple_row(v);
  }
  *out = expr_const(s->a, v);
  return 0;
}

/* IN with a subquery on the right: the set is built now. */
static int analyze_in_subquery(struct analyze_scope *s, const struct ast *n, const struct function_def *def,
                               struct expr **out, struct error *err)
{
  struct expr *lhs;
  int rc = analyze_expr(s, n->u.function.args.items[0], &lhs, err);
  if (rc)
    return rc;
  struct block *b;
  struct op *plan;
  rc = run_subquery(s, n->u.function.args.items[1]->u.subquery.query, &b, &plan, err);
  if (rc)
    return rc;
  struct column *vals;
  if (plan->column_count == 1) {
    vals = b->columns[0];
  } else {
    const struct datatype *tt = datatype_tuple(s->a, plan->types, NULL, plan->column_count);
    vals = col_new(s->a, tt, b->rows);
    for (uint32_t i = 0; i < plan->column_count; i++)
      vals->children[i] = b->columns[i];
  }
  /* pass the values as a const argument holding an array of them */
  struct column *arr = col_new_empty(s->a, datatype_array(s->a, vals->type), 1);
  column_append_range(arr->children[0], vals, 0, vals->rows);
  column_close_array_row(arr);
  struct expr **args = arena_alloc(s->a, sizeof *args * 2);
  args[0] = lhs;
  args[1] = expr_const(s->a, arr);
  args[1]->key = arena_printf(s->a, "subquery%u", n->pos);
  return make_call(s->ctx, s->a, def, n->u.function.name, args, 2, (void *)1, out, err);
}

/* ======================================================================
 * functions
 * ====================================================================== */

static int analyze_lambda(struct analyze_scope *s, const struct ast *n, const struct datatype **param_types,
                          uint32_t param_count, struct expr **out, struct error *err)
{
  const struct ast *params = n->u.function.args.items[0];
  const struct ast *body = n->u.function.args.items[1];
  uint32_t pc = params->kind == AST_FUNCTION ? params->u.function.args.count : 1;
  if (pc != param_count)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                     "Lambda %s expect %u arguments, actual %u", ast_format_name(s->a, n), pc, param_count);
  struct lambda_frame f = { .up = s->lambda, .count = pc, .level = s->lambda_level + 1 };
  f.names = arena_alloc(s->a, sizeof *f.names * (pc ? pc : 1));
  f.types = param_types;
  for (uint32_t i = 0; i < pc; i++) {
    const struct ast *p = params->kind == AST_FUNCTION ? params->u.function.args.items[i] : params;
    if (p->kind != AST_IDENTIFIER || p->u.identifier.part_count != 1)
      return error_set(err, ERR_BAD_ARGUMENTS, "Lambda parameters must be identifiers");
    f.names[i] = p->u.identifier.parts[0];
  }
  s->lambda = &f;
  s->lambda_level++;
  struct expr *b;
  int rc = analyze_expr(s, body, &b, err);
  s->lambda_level--;
  s->lambda = f.up;
  if (rc)
    return rc;
  struct expr *e = expr_new(s->a, EXPR_LAMBDA, b->type);
  e->args = arena_alloc(s->a, sizeof *e->args);
  e->args[0] = b;
  e->arg_count = 1;
  e->level = f.level;
  e->param_count = pc;
  e->param_types = param_types;
  e->key = arena_printf(s->a, "lambda%u(%s)", f.level, b->key);
  /* the lambda captures outer lambda parameters if its body refers to a level below its own */
  e->has_lambda_param = b->has_lambda_param && f.level > 1;
  *out = e;
  return 0;
}

static bool is_lambda_ast(const struct ast *n)
{
  return n->kind == AST_FUNCTION && strcmp(n->u.function.name, "lambda") == 0 && n->u.function.args.count == 2;
}

static int analyze_aggregate(struct analyze_scope *s, const struct ast *n, struct expr **out, struct error *err)
{
  const char *name = n->u.function.name;
  const char *text = ast_format_name(s->a, n);
  if (!s->allow_agg)
    return error_set(err, ERR_ILLEGAL_AGGREGATION, "Aggregate function %s is found in %s in query %s", text,
                     s->clause ? s->clause : "WHERE", scope_text(s));
  if (s->in_agg)
    return error_set(err, ERR_ILLEGAL_AGGREGATION,
                     "Aggregate function %s is found inside another aggregate function in query %s", text,
                     scope_text(s));
  if (s->lambda_level)
    return error_set(err, ERR_ILLEGAL_AGGREGATION, "Aggregate function %s is found inside a lambda in query %s", text,
                     scope_text(s));
  uint32_t n_args = n->u.function.args.count;
  struct expr **args = arena_alloc(s->a, sizeof *args * (n_args ? n_args : 1));
  const struct datatype **types = arena_alloc(s->a, sizeof *types * (n_args ? n_args : 1));
  s->in_agg = true;
  for (uint32_t i = 0; i < n_args; i++) {
    const struct ast *arg = n->u.function.args.items[i];
    int rc;
    if (arg->kind == AST_ASTERISK && strcasecmp(name, "count") == 0) {
      n_args = 0;
      break;
    }
    rc = analyze_expr(s, arg, &args[i], err);
    if (rc) {
      s->in_agg = false;
      return rc;
    }
    types[i] = args[i]->type;
  }
  s->in_agg = false;
  uint32_t np = n->u.function.params.count;
  struct column **params = arena_alloc(s->a, sizeof *params * (np ? np : 1));
  for (uint32_t i = 0; i < np; i++) {
    struct expr *pe;
    int rc = analyze_expr(s, n->u.function.params.items[i], &pe, err);
    if (rc)
      return rc;
    if (pe->kind != EXPR_CONST)
      return error_set(err, ERR_BAD_ARGUMENTS, "Parameters of aggregate function %s must be constants", name);
    params[i] = pe->value;
  }
  struct agg_call *ac;
  int rc = agg_resolve(s->ctx, s->a, name, types, n_args, params, np, &ac, err);
  if (rc)
    return rc;
  /* dedupe identical aggregates */
  const char *key = call_key(s->a, ac->name, args, n_args, n->u.function.has_params ? text : NULL);
  uint32_t idx;
  for (idx = 0; idx < s->agg_count; idx++)
    if (strcmp(s->aggs[idx].key, key) == 0)
      break;
  if (idx == s->agg_count) {
    GROW(s->aggs, s->agg_count, s->agg_cap, s->a);
    s->aggs[idx] = (struct agg_entry){ .key = key, .call = ac, .args = args, .arg_count = n_args };
    s->agg_count++;
  }
  struct expr *e = expr_new(s->a, EXPR_AGGREGATE, s->aggs[idx].call->type);
  e->index = idx;
  e->key = arena_printf(s->a, "agg%u", idx);
  e->name = text;
  *out = e;
  return 0;
}

static int analyze_array_join_call(struct analyze_scope *s, const struct ast *n, struct expr **out,
                                   struct error *err)
{
  if (n->u.function.args.count != 1)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                     "Number of arguments for function arrayJoin doesn't match: passed %u, should be 1",
                     n->u.function.args.count);
  if (!s->aj_allowed || s->lambda_level || s->in_agg)
    return error_set(err, ERR_BAD_ARGUMENTS, "Function arrayJoin is not allowed here");
  struct expr *arr;
  int rc = analyze_expr(s, n->u.function.args.items[0], &arr, err);
  if (rc)
    return rc;
  const struct datatype *t = datatype_unwrap(arr->type);
  if (t->id != TYPE_ARRAY && t->id != TYPE_MAP)
    return error_set(err, ERR_TYPE_MISMATCH, "Argument for function arrayJoin must be Array or Map. Actual %s",
                     type_name(s->a, arr->type));
  for (uint32_t k = s->aj_clause_count; k < s->aj_count; k++) {
    if (strcmp(s->aj[k].key, arr->key) == 0) {
      *out = expr_source_input(s, AJ_INDEX_BASE + k, s->aj[k].type, NULL);
      return 0;
    }
  }
  const struct datatype *et;
  if (t->id == TYPE_MAP) {
    const struct datatype *kv[2] = { t->children[0], t->children[1] };
    et = datatype_tuple(s->a, kv, NULL, 2);
  } else {
    et = t->children[0];
  }
  GROW(s->aj, s->aj_count, s->aj_cap, s->a);
  s->aj[s->aj_count] = (struct aj_entry){ .key = arr->key, .array = arr, .type = et };
  *out = expr_source_input(s, AJ_INDEX_BASE + s->aj_count, et, NULL);
  s->aj_count++;
  return 0;
}

static int analyze_function(struct analyze_scope *s, const struct ast *n, struct expr **out, struct error *err)
{
  const char *name = n->u.function.name;
  if (n->u.function.over)
    return error_set(err, ERR_NOT_IMPLEMENTED, "Window functions are not supported yet: %s",
                     ast_format_name(s->a, n));
  if (strcmp(name, "lambda") == 0)
    return error_set(err, ERR_BAD_ARGUMENTS, "Lambda function %s is not allowed here", ast_format_name(s->a, n));
  const struct function_def *def = function_find(name);
  if ((def && (def->flags & FN_AGG)) || (!def && agg_name_is_aggregate(name)))
    return analyze_aggregate(s, n, out, err);
  if (!def)
    return error_set(err, ERR_UNKNOWN_FUNCTION, "Unknown function %s", name);
  if (n->u.function.has_params)
    return error_set(err, ERR_FUNCTION_CANNOT_HAVE_PARAMETERS, "Function %s is not parametric", name);
  if (def->flags & FN_ARRAY_JOIN)
    return analyze_array_join_call(s, n, out, err);

  uint32_t nargs = n->u.function.args.count;
  if (def->resolve == fr_in && nargs == 2 && n->u.function.args.items[1]->kind == AST_SUBQUERY)
    return analyze_in_subquery(s, n, def, out, err);

  struct expr **args = arena_alloc(s->a, sizeof *args * (nargs ? nargs : 1));
  int lambda_at = -1;
  for (uint32_t i = 0; i < nargs; i++) {
    const struct ast *arg = n->u.function.args.items[i];
    if (is_lambda_ast(arg)) {
      if (!(def->flags & FN_LAMBDA) || i != 0)
        return error_set(err, ERR_BAD_ARGUMENTS, "Lambda function is not allowed as argument %u of %s", i + 1,
                         name);
      lambda_at = (int)i;
      args[i] = NULL;
      continue;
    }
    int rc = analyze_expr(s, arg, &args[i], err);
    if (rc)
      return rc;
  }
  if (lambda_at >= 0) {
    uint32_t pc = nargs - 1;
    const struct datatype **pt = arena_alloc(s->a, sizeof *pt * (pc ? pc : 1));
    for (uint32_t i = 0; i < pc; i++) {
      const struct datatype *t = datatype_unwrap(args[i + 1]->type);
      if (t->id != TYPE_ARRAY)
        return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal type %s of argument %u of function %s",
                         type_name(s->a, args[i + 1]->type), i + 2, name);
      pt[i] = t->children[0];
    }
    int rc = analyze_lambda(s, n->u.function.args.items[lambda_at], pt, pc, &args[lambda_at], err);
    if (rc)
      return rc;
  }
  return make_call(s->ctx, s->a, def, name, args, nargs, NULL, out, err);
}

static int analyze_expr(struct analyze_scope *s, const struct ast *n, struct expr **out, struct error *err)
{
  int rc;
  switch (n->kind) {
  case AST_LITERAL:
    *out = expr_const(s->a, literal_column(s->a, n));
    return 0;
  case AST_IDENTIFIER:
    return analyze_identifier(s, n, out, err);
  case AST_FUNCTION:
    rc = analyze_function(s, n, out, err);
    break;
  case AST_SUBQUERY:
    rc = analyze_scalar_subquery(s, n, out, err);
    break;
  case AST_QUERY_PARAMETER:
    return error_set(err, ERR_UNKNOWN_QUERY_PARAMETER, "Substitution `%s` is not set", n->u.param.name);
  case AST_ASTERISK:
    return error_set(err, ERR_UNEXPECTED_EXPRESSION, "Asterisk is not allowed here");
  default:
    return error_set(err, ERR_UNKNOWN_ELEMENT_IN_AST, "Unexpected element in expression: %s",
                     ast_format_name(s->a, n));
  }
  if (rc)
    return rc;
  /* an aliased node analyzed directly becomes the alias's cached value */
  if (n->alias && s->lambda_level == 0) {
    struct alias_def *ad = find_alias(s, n->alias);
    if (ad && ad->node == n && !ad->cached && !(*out)->has_lambda_param)
      ad->cached = *out;
  }
  return 0;
}

/* ======================================================================
 * aggregation rewrite
 * ====================================================================== */

static bool expr_has_aggregate(const struct expr *e)
{
  if (e->kind == EXPR_AGGREGATE)
    return true;
  for (uint32_t i = 0; i < e->arg_count; i++)
    if (e->args[i] && expr_has_aggregate(e->args[i]))
      return true;
  return false;
}

static const struct expr *first_aggregate(const struct expr *e)
{
  if (e->kind == EXPR_AGGREGATE)
    return e;
  for (uint32_t i = 0; i < e->arg_count; i++) {
    const struct expr *r = e->args[i] ? first_aggregate(e->args[i]) : NULL;
    if (r)
      return r;
  }
  return NULL;
}

struct post_ctx {
  struct analyze_scope *s;
  struct expr **keys;
  uint32_t key_count;
  const struct datatype **key_types;
};

static int rewrite_post(struct post_ctx *pc, struct expr *e, struct expr **out, struct error *err)
{
  struct analyze_scope *s = pc->s;
  if (e->kind == EXPR_CONST || e->kind == EXPR_PARAM) {
    *out = e;
    return 0;
  }
  if (e->key && !e->has_lambda_param) {
    for (uint32_t k = 0; k < pc->key_count; k++) {
      if (strcmp(pc->keys[k]->key, e->key) == 0) {
        struct expr *r = expr_new(s->a, EXPR_INPUT, pc->keys[k]->type);
        r->index = k;
        r->key = e->key;
        r->name = e->name;
        *out = r;
        return 0;
      }
    }
  }
  switch (e->kind) {
  case EXPR_AGGREGATE: {
    struct expr *r = expr_new(s->a, EXPR_INPUT, e->type);
    r->index = pc->key_count + e->index;
    r->key = e->key;
    r->name = e->name;
    *out = r;
    return 0;
  }
  case EXPR_INPUT:
    return error_set(err, ERR_NOT_AN_AGGREGATE,
                     "Column `%s` is not under aggregate function and not in GROUP BY keys. In query %s",
                     e->name ? e->name : "?", scope_text(s));
  case EXPR_LAMBDA:
  case EXPR_FUNCTION: {
    struct expr *r = arena_new(s->a, struct expr);
    *r = *e;
    r->args = arena_alloc(s->a, sizeof *r->args * (e->arg_count ? e->arg_count : 1));
    for (uint32_t i = 0; i < e->arg_count; i++) {
      if (!e->args[i]) {
        r->args[i] = NULL;
        continue;
      }
      int rc = rewrite_post(pc, e->args[i], &r->args[i], err);
      if (rc)
        return rc;
    }
    if (e->kind == EXPR_FUNCTION) {
      struct fn_call *c = arena_new(s->a, struct fn_call);
      *c = *e->call;
      c->args = r->args;
      r->call = c;
    }
    *out = r;
    return 0;
  }
  default:
    *out = e;
    return 0;
  }
}

/* ======================================================================
 * FROM
 * ====================================================================== */

static const struct alias_def *find_cte(const struct analyze_scope *s, const char *name)
{
  for (const struct analyze_scope *p = s; p; p = p->parent)
    for (uint32_t i = 0; i < p->alias_count; i++)
      if (p->aliases[i].is_with && p->aliases[i].node->kind == AST_SUBQUERY && strcmp(p->aliases[i].name, name) == 0)
        return &p->aliases[i];
  return NULL;
}

/* The source of one table expression: a table, a subquery, a table
 * function or a CTE. Sets *jt (alias, name, db, final). */
static int table_expr_source(struct analyze_scope *s, const struct ast *te, struct join_table *jt, struct error *err)
{
  memset(jt, 0, sizeof *jt);
  if (te->kind != AST_TABLE_EXPR)
    return error_set(err, ERR_NOT_IMPLEMENTED, "Unsupported FROM element");
  const struct ast_table_expr *t = &te->u.table_expr;
  jt->alias = te->alias;
  if (t->final && (!t->table || t->subquery || t->function))
    return error_set(err, ERR_ILLEGAL_FINAL, "Storage %s doesn't support FINAL", t->table ? t->table : "function");
  if (t->sample)
    return error_set(err, ERR_NOT_IMPLEMENTED, "SAMPLE is not supported yet");
  if (t->subquery) {
    struct op *op;
    int rc = plan_select(s->ctx, t->subquery, s, &op, false, err);
    if (rc)
      return rc;
    jt->src = table_source_from_op(s->ctx, op, NULL);
    return 0;
  }
  if (t->function) {
    const struct ast *f = t->function;
    uint32_t n = f->u.function.args.count;
    struct column **args = arena_alloc(s->a, sizeof *args * (n ? n : 1));
    struct analyze_scope cs = { .ctx = s->ctx, .a = s->a, .parent = s, .select = s->select };
    cs.source_pos = NULL;
    for (uint32_t i = 0; i < n; i++) {
      struct expr *e;
      int rc = analyze_expr(&cs, f->u.function.args.items[i], &e, err);
      if (rc)
        return rc;
      if (e->kind != EXPR_CONST)
        return error_set(err, ERR_BAD_ARGUMENTS, "Arguments of table function %s must be constant",
                         f->u.function.name);
      args[i] = e->value;
    }
    jt->name = f->u.function.name;
    return table_function_open(s->ctx, f->u.function.name, args, n, ast_format_name(s->a, f), &jt->src, err);
  }
  if (!t->database) {
    const struct alias_def *cte = find_cte(s, t->table);
    if (cte) {
      struct op *op;
      int rc = plan_select(s->ctx, cte->node->u.subquery.query, s, &op, false, err);
      if (rc)
        return rc;
      jt->src = table_source_from_op(s->ctx, op, t->table);
      jt->name = t->table;
      return 0;
    }
  }
  jt->name = t->table;
  jt->db = t->database ? t->database : s->ctx->database;
  int rc = table_source_lookup(s->ctx, t->database, t->table, &jt->src, err);
  if (rc)
    return rc;
  if (t->final && !jt->src->supports_final)
    return error_set(err, ERR_ILLEGAL_FINAL, "Storage %s doesn't support FINAL", jt->src->engine);
  jt->final = t->final;
  return 0;
}

static const char *join_kind_name(enum ast_join_kind k)
{
  switch (k) {
  case JOIN_LEFT: return "LEFT";
  case JOIN_RIGHT: return "RIGHT";
  case JOIN_FULL: return "FULL";
  case JOIN_CROSS: case JOIN_COMMA: return "CROSS";
  case JOIN_PASTE: return "PASTE";
  default: return "INNER";
  }
}

static uint32_t join_add_col(struct join_plan *jp, struct arena *a, struct join_col c)
{
  GROW(jp->cols, jp->col_count, jp->col_cap, a);
  jp->cols[jp->col_count] = c;
  return jp->col_count++;
}

/* A source over the combined columns with their types as of `level`. */
static struct table_source *join_level_source(struct join_plan *jp, struct arena *a, uint32_t level)
{
  struct table_source *src = arena_new(a, struct table_source);
  src->name = "";
  src->engine = "Join";
  src->column_count = jp->col_count;
  src->names = arena_alloc(a, sizeof *src->names * (jp->col_count ? jp->col_count : 1));
  src->types = arena_alloc(a, sizeof *src->types * (jp->col_count ? jp->col_count : 1));
  for (uint32_t c = 0; c < jp->col_count; c++) {
    src->names[c] = jp->cols[c].out_name ? jp->cols[c].out_name : jp->cols[c].name;
    src->types[c] = join_type_at(jp, a, c, level);
  }
  src->total_rows = UINT64_MAX;
  src->impl = jp;
  return src;
}

/* The scope ON / USING of join `j` are analyzed in: tables 0..j visible,
 * types as they enter the join. EXPR_INPUT indexes stay combined indexes. */
static struct analyze_scope *join_scope(struct analyze_scope *s, struct join_plan *jp, uint32_t j)
{
  struct analyze_scope *js = arena_new(s->a, struct analyze_scope);
  js->ctx = s->ctx;
  js->a = s->a;
  js->parent = s;
  js->select = s->select;
  js->join = jp;
  js->join_level = j;
  js->source = join_level_source(jp, s->a, j - 1);
  uint32_t n = jp->col_count ? jp->col_count : 1;
  js->source_pos = arena_alloc(s->a, sizeof *js->source_pos * n);
  js->read_cols = arena_alloc(s->a, sizeof *js->read_cols * n);
  for (uint32_t c = 0; c < jp->col_count; c++)
    js->source_pos[c] = -1;
  js->clause = "JOIN ON";
  return js;
}

/* Which sides of join j an expression reads: 1 left, 2 right. */
static unsigned join_sides(const struct join_plan *jp, uint32_t j, const struct expr *e)
{
  if (e->kind == EXPR_INPUT)
    return jp->cols[e->index].table == (int32_t)j ? 2u : 1u;
  unsigned m = 0;
  for (uint32_t i = 0; i < e->arg_count; i++)
    if (e->args[i])
      m |= join_sides(jp, j, e->args[i]);
  return m;
}

static const struct datatype *strip_lc(const struct datatype *t)
{
  return t->id == TYPE_LOW_CARDINALITY ? t->children[0] : t;
}

/* Casts both keys of a pair to their common type (LowCardinality dropped). */
static int join_key_pair(struct analyze_scope *js, struct join_step *st, struct expr *l, struct expr *r,
                         const struct datatype **key_type, struct error *err)
{
  const struct datatype *ts[2] = { strip_lc(l->type), strip_lc(r->type) };
  const struct datatype *kt;
  int rc = type_supertype(js->a, ts, 2, &kt, err);
  if (rc)
    return error_set(err, ERR_TYPE_MISMATCH, "Type mismatch of columns to JOIN by: %s at left, %s at right",
                     type_name(js->a, l->type), type_name(js->a, r->type));
  if ((rc = make_cast(js, l, kt, &l, err)) || (rc = make_cast(js, r, kt, &r, err)))
    return rc;
  uint32_t k = st->key_count++;
  st->lkeys = arena_realloc(js->a, st->lkeys, sizeof *st->lkeys * k, sizeof *st->lkeys * (k + 1));
  st->rkeys = arena_realloc(js->a, st->rkeys, sizeof *st->rkeys * k, sizeof *st->rkeys * (k + 1));
  st->lkeys[k] = l;
  st->rkeys[k] = r;
  if (key_type)
    *key_type = kt;
  return 0;
}

static int join_and(struct analyze_scope *js, struct expr **acc, struct expr *e, struct error *err)
{
  if (!*acc) {
    *acc = e;
    return 0;
  }
  struct expr **args = arena_alloc(js->a, sizeof *args * 2);
  args[0] = *acc;
  args[1] = e;
  return analyze_call(js->ctx, js->a, "and", args, 2, acc, err);
}

static int analyze_join_on(struct analyze_scope *s, struct join_plan *jp, uint32_t j, const struct ast *on,
                           struct error *err)
{
  struct join_step *st = &jp->steps[j];
  struct analyze_scope *js = join_scope(s, jp, j);
  const struct ast *const *conj = (const struct ast *const *)&on;
  uint32_t nconj = 1;
  if (on->kind == AST_FUNCTION && strcmp(on->u.function.name, "and") == 0 && !on->u.function.has_params &&
      on->u.function.args.count) {
    conj = (const struct ast *const *)on->u.function.args.items;
    nconj = on->u.function.args.count;
  }
  int rc;
  for (uint32_t i = 0; i < nconj; i++) {
    const struct ast *c = conj[i];
    if (c->kind == AST_FUNCTION && strcmp(c->u.function.name, "equals") == 0 && c->u.function.args.count == 2 &&
        !c->u.function.over) {
      struct expr *a, *b;
      if ((rc = analyze_expr(js, c->u.function.args.items[0], &a, err)) ||
          (rc = analyze_expr(js, c->u.function.args.items[1], &b, err)))
        return rc;
      unsigned sa = join_sides(jp, j, a), sb = join_sides(jp, j, b);
      if (sa == 1 && sb == 2) {
        if ((rc = join_key_pair(js, st, a, b, NULL, err)))
          return rc;
        continue;
      }
      if (sa == 2 && sb == 1) {
        if ((rc = join_key_pair(js, st, b, a, NULL, err)))
          return rc;
        continue;
      }
    }
    struct expr *e;
    if ((rc = analyze_expr(js, c, &e, err)))
      return rc;
    if (expr_has_aggregate(e))
      return error_set(err, ERR_ILLEGAL_AGGREGATION, "Aggregate function %s is found in JOIN ON in query %s",
                       first_aggregate(e)->name, scope_text(s));
    if ((rc = check_filter(js, e, ast_format_name(s->a, c), err)))
      return rc;
    unsigned side = join_sides(jp, j, e);
    if (side == 2)
      rc = join_and(js, &st->rcond, e, err);
    else if (side == 3)
      rc = join_and(js, &st->post, e, err);
    else
      rc = join_and(js, &st->lcond, e, err);
    if (rc)
      return rc;
  }
  if (st->kind != JOIN_INNER && st->key_count == 0)
    return error_set(err, ERR_NOT_IMPLEMENTED,
                     "%s JOIN ON without an equality between columns of both tables is not supported: %s",
                     join_kind_name(st->kind), ast_format_name(s->a, on));
  if (st->kind != JOIN_INNER && st->post)
    return error_set(err, ERR_NOT_IMPLEMENTED,
                     "%s JOIN ON conditions other than equalities that read both tables are not supported: %s",
                     join_kind_name(st->kind), ast_format_name(s->a, on));
  return 0;
}

static int analyze_join_using(struct analyze_scope *s, struct join_plan *jp, uint32_t j,
                              const struct ast_list *cols, struct error *err)
{
  struct join_step *st = &jp->steps[j];
  struct analyze_scope *js = join_scope(s, jp, j);
  uint32_t n = cols->count;
  const char **names = arena_alloc(s->a, sizeof *names * (n ? n : 1));
  const struct datatype **types = arena_alloc(s->a, sizeof *types * (n ? n : 1));
  st->merged_keys = arena_alloc(s->a, sizeof *st->merged_keys * (n ? n : 1));
  for (uint32_t i = 0; i < n; i++) {
    const struct ast *u = cols->items[i];
    if (u->kind != AST_IDENTIFIER)
      return error_set(err, ERR_BAD_ARGUMENTS, "USING expects column names, got %s", ast_format_name(s->a, u));
    const char *name = ast_format_name(s->a, u);
    for (uint32_t k = 0; k < i; k++)
      if (strcmp(names[k], name) == 0)
        return error_set(err, ERR_BAD_ARGUMENTS, "Column `%s` appears more than once in USING", name);
    bool amb;
    int64_t lc = join_find(jp, j - 1, -1, name, &amb);
    if (amb)
      return error_set(err, ERR_AMBIGUOUS_COLUMN_NAME, "JOIN has ambiguous identifier `%s` in USING. In scope %s",
                       name, scope_text(s));
    if (lc < 0)
      return error_set(err, ERR_UNKNOWN_IDENTIFIER,
                       "Unknown identifier `%s` in USING: no such column in the left table of JOIN. In scope %s", name,
                       scope_text(s));
    int64_t rc_col = join_find(jp, j, (int32_t)j, name, &amb);
    if (rc_col < 0)
      return error_set(err, ERR_UNKNOWN_IDENTIFIER,
                       "Unknown identifier `%s` in USING: no such column in the right table of JOIN. In scope %s",
                       name, scope_text(s));
    struct expr *l = expr_source_input(js, (uint32_t)lc, js->source->types[lc], name);
    struct expr *r = expr_source_input(js, (uint32_t)rc_col, js->source->types[rc_col], name);
    st->merged_keys[i] = st->key_count;
    int rc = join_key_pair(js, st, l, r, &types[i], err);
    if (rc)
      return rc;
    names[i] = name;
  }
  st->merged_first = jp->col_count;
  st->merged_count = n;
  for (uint32_t i = 0; i < n; i++)
    join_add_col(jp, s->a, (struct join_col){ .name = names[i], .table = -1, .level = j, .type = types[i] });
  return 0;
}

/* SELECT * order and output names: left to right, USING keys once (at the
 * left column's place); a name already taken gets its table's prefix. */
static void join_star(struct join_plan *jp, struct arena *a)
{
  jp->star = arena_alloc(a, sizeof *jp->star * (jp->col_count ? jp->col_count : 1));
  uint32_t n = 0;
  for (uint32_t t = 0; t < jp->table_count; t++) {
    const struct join_step *st = t ? &jp->steps[t] : NULL;
    if (st) {
      for (uint32_t m = 0; m < st->merged_count; m++) {
        uint32_t mc = st->merged_first + m;
        for (uint32_t k = 0; k < n; k++)
          if (strcmp(jp->cols[jp->star[k]].name, jp->cols[mc].name) == 0)
            jp->star[k] = mc;
      }
    }
    for (uint32_t c = 0; c < jp->col_count; c++) {
      const struct join_col *jc = &jp->cols[c];
      if (jc->table != (int32_t)t || jc->hidden)
        continue;
      bool is_using = false;
      for (uint32_t m = 0; st && m < st->merged_count; m++)
        if (strcmp(jp->cols[st->merged_first + m].name, jc->name) == 0)
          is_using = true;
      if (!is_using)
        jp->star[n++] = c;
    }
  }
  jp->star_count = n;
  /* names: first come keeps the bare name */
  for (uint32_t c = 0; c < jp->col_count; c++)
    jp->cols[c].out_name = NULL;
  for (uint32_t k = 0; k < n; k++) {
    struct join_col *jc = &jp->cols[jp->star[k]];
    bool taken = false;
    for (uint32_t i = 0; i < k && !taken; i++)
      taken = strcmp(jp->cols[jp->star[i]].out_name, jc->name) == 0;
    if (taken && jc->table >= 0) {
      const struct join_table *jt = &jp->tables[jc->table];
      const char *q = jt->alias ? jt->alias : jt->name;
      jc->out_name = q ? arena_printf(a, "%s.%s", q, jc->name) : jc->name;
    } else {
      jc->out_name = jc->name;
    }
  }
  for (uint32_t c = 0; c < jp->col_count; c++) {
    struct join_col *jc = &jp->cols[c];
    if (jc->out_name)
      continue;
    const struct join_table *jt = jc->table >= 0 ? &jp->tables[jc->table] : NULL;
    const char *q = jt ? (jt->alias ? jt->alias : jt->name) : NULL;
    jc->out_name = q && jc->table > 0 ? arena_printf(a, "%s.%s", q, jc->name) : jc->name;
  }
}

static const struct table_source_vt join_source_vt;

static int analyze_join_from(struct analyze_scope *s, const struct ast_select *sel, struct error *err)
{
  struct query_context *ctx = s->ctx;
  struct join_plan *jp = arena_new(s->a, struct join_plan);
  uint32_t n = 1;
  bool seen_aj = false;
  for (uint32_t i = 1; i < sel->from.count; i++) {
    const struct ast *x = sel->from.items[i];
    if (x->kind == AST_ARRAY_JOIN)
      seen_aj = true;
    if (x->kind == AST_JOIN) {
      if (seen_aj)
        return error_set(err, ERR_NOT_IMPLEMENTED, "JOIN after ARRAY JOIN is not supported yet");
      n++;
    }
  }
  jp->table_count = n;
  jp->tables = arena_calloc(s->a, n, sizeof *jp->tables);
  jp->steps = arena_calloc(s->a, n, sizeof *jp->steps);
  jp->use_nulls = ctx->settings && settings_get_bool(ctx->settings, "join_use_nulls");
  jp->memory_max = ctx->settings ? settings_get_u64(ctx->settings, "max_memory_usage") : 0;
  const struct ast **joins = arena_calloc(s->a, n, sizeof *joins);
  for (uint32_t i = 1, t = 1; i < sel->from.count; i++) {
    const struct ast *x = sel->from.items[i];
    if (x->kind != AST_JOIN)
      continue;
    const struct ast_join *aj = &x->u.join;
    struct join_step *st = &jp->steps[t];
    joins[t++] = x;
    st->kind = aj->kind == JOIN_COMMA ? JOIN_CROSS : aj->kind;
    st->strictness = aj->strictness == JOIN_STRICT_DEFAULT ? JOIN_STRICT_ALL : aj->strictness;
    if (st->kind == JOIN_PASTE)
      return error_set(err, ERR_NOT_IMPLEMENTED, "PASTE JOIN is not supported yet");
    if (st->strictness == JOIN_STRICT_ASOF || st->strictness == JOIN_STRICT_SEMI ||
        st->strictness == JOIN_STRICT_ANTI)
      return error_set(err, ERR_NOT_IMPLEMENTED, "%s JOIN is not supported yet",
                       st->strictness == JOIN_STRICT_ASOF ? "ASOF" : st->strictness == JOIN_STRICT_SEMI ? "SEMI" : "ANTI");
    if (st->strictness == JOIN_STRICT_ANY && st->kind == JOIN_FULL)
      return error_set(err, ERR_NOT_IMPLEMENTED, "ANY FULL JOINs are not implemented");
    if (st->kind == JOIN_CROSS && (aj->on || aj->using_columns.count))
      return error_set(err, ERR_SYNTAX_ERROR, "CROSS JOIN cannot have ON or USING");
    if (st->kind != JOIN_CROSS && !aj->on && !aj->using_columns.count)
      return error_set(err, ERR_INVALID_JOIN_ON_EXPRESSION, "%s JOIN requires ON or USING",
                       join_kind_name(st->kind));
  }
  for (uint32_t t = 0; t < n; t++) {
    const struct ast *te = t ? joins[t]->u.join.table : sel->from.items[0];
    struct join_table *jt = &jp->tables[t];
    int rc = table_expr_source(s, te, jt, err);
    if (rc)
      return rc;
    const struct table_source *src = jt->src;
    for (uint32_t c = 0; c < src->column_count; c++) {
      const char *dk = src->default_kinds ? src->default_kinds[c] : NULL;
      bool hidden = (dk && (strcmp(dk, "MATERIALIZED") == 0 || strcmp(dk, "ALIAS") == 0)) ||
                    (src->virtual_from && c >= src->virtual_from);
      join_add_col(jp, s->a, (struct join_col){ .name = src->names[c], .table = (int32_t)t, .level = t, .local = c,
                                                .hidden = hidden, .type = src->types[c] });
    }
    if (t == 0)
      continue;
    const struct ast_join *aj = &joins[t]->u.join;
    if (aj->on)
      rc = analyze_join_on(s, jp, t, aj->on, err);
    else if (aj->using_columns.count)
      rc = analyze_join_using(s, jp, t, &aj->using_columns, err);
    if (rc)
      return rc;
  }
  join_star(jp, s->a);
  struct table_source *src = join_level_source(jp, s->a, n - 1);
  src->vt = &join_source_vt;
  s->source = src;
  s->join = jp;
  s->join_level = n - 1;
  return 0;
}

static int analyze_from(struct analyze_scope *s, const struct ast_select *sel, struct error *err)
{
  if (sel->from.count == 0) {
    s->table_name = "one";
    s->table_db = "system";
    return table_source_lookup(s->ctx, "system", "one", &s->source, err);
  }
  for (uint32_t i = 1; i < sel->from.count; i++)
    if (sel->from.items[i]->kind == AST_JOIN)
      return analyze_join_from(s, sel, err);
  struct join_table jt;
  int rc = table_expr_source(s, sel->from.items[0], &jt, err);
  if (rc)
    return rc;
  s->source = jt.src;
  s->table_alias = jt.alias;
  s->table_name = jt.name;
  s->table_db = jt.db;
  s->final = jt.final;
  return 0;
}

/* ---- opening the join source: the operator tree ---- */

static void join_mark(const struct expr *e, uint8_t *need)
{
  if (!e)
    return;
  if (e->kind == EXPR_INPUT)
    need[e->index] = 1;
  for (uint32_t i = 0; i < e->arg_count; i++)
    if (e->args[i])
      join_mark(e->args[i], need);
}

/* A copy of e whose inputs are combined indexes mapped through pos. */
static struct expr *join_remap(struct arena *a, const struct expr *e, const int32_t *pos)
{
  if (!e)
    return NULL;
  if (e->kind == EXPR_INPUT) {
    struct expr *r = arena_new(a, struct expr);
    *r = *e;
    r->index = (uint32_t)pos[e->index];
    return r;
  }
  if (e->kind != EXPR_FUNCTION && e->kind != EXPR_LAMBDA)
    return (struct expr *)e;
  struct expr *r = arena_new(a, struct expr);
  *r = *e;
  r->args = arena_alloc(a, sizeof *r->args * (e->arg_count ? e->arg_count : 1));
  for (uint32_t i = 0; i < e->arg_count; i++)
    r->args[i] = join_remap(a, e->args[i], pos);
  if (e->kind == EXPR_FUNCTION) {
    struct fn_call *c = arena_new(a, struct fn_call);
    *c = *e->call;
    c->args = r->args;
    r->call = c;
  }
  return r;
}

/* Opens table t with its needed columns; pos[c] = block position. */
static int join_open_table(struct join_plan *jp, struct query_context *ctx, uint32_t t, const uint8_t *need,
                           int32_t *pos, uint32_t *layout, uint32_t *layout_n, struct op **out, struct error *err)
{
  struct arena *a = ctx->arena;
  const struct join_table *jt = &jp->tables[t];
  uint32_t *cols = arena_alloc(a, sizeof *cols * (jt->src->column_count ? jt->src->column_count : 1));
  uint32_t n = 0;
  for (uint32_t c = 0; c < jp->col_count; c++) {
    if (jp->cols[c].table != (int32_t)t || !need[c])
      continue;
    pos[c] = (int32_t)n;
    layout[(*layout_n)++] = c;
    cols[n++] = jp->cols[c].local;
  }
  struct table_read_opts ro = { .columns = cols, .column_count = n, .final = jt->final };
  return jt->src->vt->open(jt->src, ctx, &ro, out, err);
}

static int join_open(struct table_source *src, struct query_context *ctx, const struct table_read_opts *opts,
                     struct op **out, struct error *err)
{
  struct join_plan *jp = src->impl;
  struct arena *a = ctx->arena;
  uint32_t nc = jp->col_count ? jp->col_count : 1;
  uint8_t *need = arena_calloc(a, nc, 1);
  for (uint32_t i = 0; i < opts->column_count; i++)
    need[opts->columns[i]] = 1;
  for (uint32_t j = 1; j < jp->table_count; j++) {
    const struct join_step *st = &jp->steps[j];
    for (uint32_t k = 0; k < st->key_count; k++) {
      join_mark(st->lkeys[k], need);
      join_mark(st->rkeys[k], need);
    }
    join_mark(st->lcond, need);
    join_mark(st->rcond, need);
    join_mark(st->post, need);
  }
  int32_t *pos = arena_alloc(a, sizeof *pos * nc);
  int32_t *rpos = arena_alloc(a, sizeof *rpos * nc);
  uint32_t *layout = arena_alloc(a, sizeof *layout * nc);
  uint32_t *rlayout = arena_alloc(a, sizeof *rlayout * nc);
  for (uint32_t c = 0; c < jp->col_count; c++)
    pos[c] = -1;
  uint32_t layout_n = 0;
  struct op *op;
  int rc = join_open_table(jp, ctx, 0, need, pos, layout, &layout_n, &op, err);
  if (rc)
    return rc;
  for (uint32_t j = 1; j < jp->table_count; j++) {
    const struct join_step *st = &jp->steps[j];
    for (uint32_t c = 0; c < jp->col_count; c++)
      rpos[c] = -1;
    uint32_t rlayout_n = 0;
    struct op *right;
    if ((rc = join_open_table(jp, ctx, j, need, rpos, rlayout, &rlayout_n, &right, err)))
      return rc;
    struct join_spec spec = { .kind = st->kind == JOIN_CROSS ? JOIN_INNER : st->kind,
                              .strictness = st->kind == JOIN_CROSS ? JOIN_STRICT_ALL : st->strictness,
                              .key_count = st->key_count, .memory_max = jp->memory_max };
    spec.left_keys = arena_alloc(a, sizeof *spec.left_keys * (st->key_count ? st->key_count : 1));
    spec.right_keys = arena_alloc(a, sizeof *spec.right_keys * (st->key_count ? st->key_count : 1));
    for (uint32_t k = 0; k < st->key_count; k++) {
      spec.left_keys[k] = join_remap(a, st->lkeys[k], pos);
      spec.right_keys[k] = join_remap(a, st->rkeys[k], rpos);
    }
    spec.left_cond = join_remap(a, st->lcond, pos);
    spec.right_cond = join_remap(a, st->rcond, rpos);
    uint32_t left_n = layout_n;
    for (uint32_t i = 0; i < rlayout_n; i++) {
      pos[rlayout[i]] = (int32_t)(layout_n);
      layout[layout_n++] = rlayout[i];
    }
    spec.merged_keys = arena_alloc(a, sizeof *spec.merged_keys * (st->merged_count ? st->merged_count : 1));
    for (uint32_t m = 0; m < st->merged_count; m++) {
      uint32_t c = st->merged_first + m;
      if (!need[c])
        continue;
      spec.merged_keys[spec.merged_count++] = st->merged_keys[m];
      pos[c] = (int32_t)layout_n;
      layout[layout_n++] = c;
    }
    (void)left_n;
    const char **names = arena_alloc(a, sizeof *names * (layout_n ? layout_n : 1));
    const struct datatype **types = arena_alloc(a, sizeof *types * (layout_n ? layout_n : 1));
    for (uint32_t i = 0; i < layout_n; i++) {
      names[i] = jp->cols[layout[i]].out_name;
      types[i] = join_type_at(jp, a, layout[i], j);
    }
    op = op_join_create(ctx, op, right, &spec, names, types);
    if (st->post)
      op = op_filter_create(ctx, op, join_remap(a, st->post, pos));
  }
  /* the header the scope asked for */
  struct expr **ex = arena_alloc(a, sizeof *ex * (opts->column_count ? opts->column_count : 1));
  const char **names = arena_alloc(a, sizeof *names * (opts->column_count ? opts->column_count : 1));
  for (uint32_t i = 0; i < opts->column_count; i++) {
    uint32_t c = opts->columns[i];
    struct expr *e = expr_new(a, EXPR_INPUT, op->types[pos[c]]);
    e->index = (uint32_t)pos[c];
    e->key = arena_printf(a, "#%u", e->index);
    ex[i] = e;
    names[i] = src->names[c];
  }
  *out = op_project_create(ctx, op, ex, opts->column_count, names);
  return 0;
}

static const struct table_source_vt join_source_vt = { join_open };

static int analyze_array_join_clause(struct analyze_scope *s, const struct ast_select *sel, struct error *err)
{
  for (uint32_t i = 1; i < sel->from.count; i++) {
    const struct ast *x = sel->from.items[i];
    if (x->kind != AST_ARRAY_JOIN)
      continue;
    if (s->aj_clause_count)
      return error_set(err, ERR_NOT_IMPLEMENTED, "Several ARRAY JOIN clauses are not supported yet");
    s->aj_left = x->u.array_join.left;
    /* analyze all first (names refer to the arrays, not the joined elements) */
    uint32_t cnt = x->u.array_join.exprs.count;
    struct expr **arrs = arena_alloc(s->a, sizeof *arrs * (cnt ? cnt : 1));
    for (uint32_t k = 0; k < cnt; k++) {
      const struct ast *e = x->u.array_join.exprs.items[k];
      struct alias_def *ad = e->alias ? find_alias(s, e->alias) : NULL;
      if (ad)
        ad->resolving = true; /* the alias names the element, not the array */
      int rc = analyze_expr(s, e, &arrs[k], err);
      if (ad)
        ad->resolving = false;
      if (rc)
        return rc;
      const struct datatype *t = datatype_unwrap(arrs[k]->type);
      if (t->id != TYPE_ARRAY && t->id != TYPE_MAP)
        return error_set(err, ERR_TYPE_MISMATCH, "ARRAY JOIN requires array or map argument. Actual %s",
                         type_name(s->a, arrs[k]->type));
    }
    for (uint32_t k = 0; k < cnt; k++) {
      const struct ast *e = x->u.array_join.exprs.items[k];
      const struct datatype *t = datatype_unwrap(arrs[k]->type);
      const struct datatype *et;
      if (t->id == TYPE_MAP) {
        const struct datatype *kv[2] = { t->children[0], t->children[1] };
        et = datatype_tuple(s->a, kv, NULL, 2);
      } else {
        et = t->children[0];
      }
      const char *name = e->alias ? e->alias : ast_format_name(s->a, e);
      GROW(s->aj, s->aj_count, s->aj_cap, s->a);
      s->aj[s->aj_count++] = (struct aj_entry){ .name = name, .key = arrs[k]->key, .array = arrs[k], .type = et };
      /* an alias that names the element must not resolve to the array any more */
      if (e->alias) {
        struct alias_def *ad = find_alias(s, e->alias);
        if (ad && ad->node == e) {
          ad->name = "";
        }
      }
    }
    s->aj_clause_count = s->aj_count;
  }
  return 0;
}

/* ======================================================================
 * SELECT
 * ====================================================================== */

static int const_u64(struct analyze_scope *s, const struct ast *n, const char *what, uint64_t *out,
                     struct error *err)
{
  struct expr *e;
  int rc = analyze_expr(s, n, &e, err);
  if (rc)
    return rc;
  if (e->kind != EXPR_CONST || !type_is_int_or_bool(datatype_unwrap(e->type)))
    return error_set(err, ERR_INVALID_LIMIT_EXPRESSION, "The value %s of %s expression is not representable as UInt64",
                     ast_format_name(s->a, n), what);
  const struct column *c = e->value;
  if (c->type->id == TYPE_NULLABLE)
    c = c->children[0];
  if (datatype_is_signed(c->type) && column_get_i64(c, 0) < 0)
    return error_set(err, ERR_INVALID_LIMIT_EXPRESSION,
                     "The value %s of %s expression is not representable as UInt64", ast_format_name(s->a, n), what);
  *out = column_get_u64(c, 0);
  return 0;
}

struct select_item {
  struct expr *expr;
  const char *name;
};

static int expand_asterisk(struct analyze_scope *s, const struct ast *n, struct select_item **items, uint32_t *count,
                           uint32_t *cap, struct error *err)
{
  if (s->join) {
    const struct join_plan *jp = s->join;
    int32_t only = -1;
    if (n->u.asterisk.qualifier) {
      only = join_table_of(jp, s->join_level, NULL, n->u.asterisk.qualifier);
      if (only < 0)
        return unknown_identifier(s, arena_printf(s->a, "%s.*", n->u.asterisk.qualifier), err);
    }
    uint32_t count_star = only < 0 ? jp->star_count : jp->col_count;
    for (uint32_t k = 0; k < count_star; k++) {
      uint32_t c = only < 0 ? jp->star[k] : k;
      const struct join_col *jc = &jp->cols[c];
      if (only >= 0 && (jc->table != only || jc->hidden))
        continue;
      const char *name = only >= 0 ? jc->name : jc->out_name;
      bool skip = false;
      for (uint32_t x = 0; x < n->u.asterisk.except.count; x++) {
        const char *ex = ast_format_name(s->a, n->u.asterisk.except.items[x]);
        if (strcmp(ex, jc->name) == 0 || strcmp(ex, jc->out_name) == 0)
          skip = true;
      }
      if (skip)
        continue;
      struct expr *e = expr_source_input(s, c, s->source->types[c], name);
      GROW(*items, *count, *cap, s->a);
      (*items)[(*count)++] = (struct select_item){ e, name };
    }
    return 0;
  }
  if (n->u.asterisk.qualifier) {
    const char *q = n->u.asterisk.qualifier;
    if (!((s->table_alias && strcmp(q, s->table_alias) == 0) || (s->table_name && strcmp(q, s->table_name) == 0)))
      return unknown_identifier(s, arena_printf(s->a, "%s.*", q), err);
  }
  for (uint32_t i = 0; i < s->source->column_count; i++) {
    const char *name = s->source->names[i];
    bool skip = false;
    for (uint32_t k = 0; k < n->u.asterisk.except.count; k++) {
      const struct ast *x = n->u.asterisk.except.items[k];
      if (strcmp(ast_format_name(s->a, x), name) == 0)
        skip = true;
    }
    /* SELECT * leaves out MATERIALIZED and ALIAS columns, as ClickHouse */
    const char *dk = s->source->default_kinds ? s->source->default_kinds[i] : NULL;
    if (dk && (strcmp(dk, "MATERIALIZED") == 0 || strcmp(dk, "ALIAS") == 0))
      skip = true;
    if (s->source->virtual_from && i >= s->source->virtual_from)
      skip = true;
    if (skip)
      continue;
    struct expr *e;
    if (!resolve_column_name(s, name, &e))
      continue;
    GROW(*items, *count, *cap, s->a);
    (*items)[(*count)++] = (struct select_item){ e, name };
  }
  return 0;
}

/* Positional reference (GROUP BY 1 / ORDER BY 2) to a select item, else NULL. */
static const struct ast *positional(const struct ast *n, const struct ast_select *sel, int *bad)
{
  *bad = 0;
  if (n->kind != AST_LITERAL || n->u.literal.kind != LIT_UINT)
    return NULL;
  uint64_t k = n->u.literal.u;
  if (k == 0 || k > sel->columns.count) {
    *bad = 1;
    return NULL;
  }
  const struct ast *item = sel->columns.items[k - 1];
  if (item->kind == AST_ASTERISK)
    return NULL;
  return item;
}

static void fix_inputs(struct analyze_scope *s)
{
  for (uint32_t i = 0; i < s->input_count; i++) {
    struct expr *e = s->inputs[i];
    if (e->index >= AJ_INDEX_BASE)
      e->index = s->read_count + (e->index - AJ_INDEX_BASE);
    else
      e->index = (uint32_t)s->source_pos[e->index];
  }
}

static bool filter_type_ok(const struct datatype *t)
{
  t = datatype_unwrap(t);
  return type_is_int_or_bool(t) || t->id == TYPE_NOTHING;
}

static int check_filter(struct analyze_scope *s, struct expr *e, const char *clause, struct error *err)
{
  if (!filter_type_ok(e->type))
    return error_set(err, ERR_ILLEGAL_TYPE_OF_COLUMN_FOR_FILTER,
                     "Illegal type %s of column %s for filter. Must be UInt8 or Nullable(UInt8)",
                     type_name(s->a, e->type), clause);
  return 0;
}

static int plan_select_one(struct query_context *ctx, const struct ast *q, const struct analyze_scope *outer,
                           struct op **out, bool top_level, struct plan_totals *totals, struct error *err)
{
  const struct ast_select *sel = &q->u.select;
  struct analyze_scope *s = arena_new(ctx->arena, struct analyze_scope);
  s->ctx = ctx;
  s->a = ctx->arena;
  s->parent = outer;
  s->select = q;
  int rc;

  /* SETTINGS inside the SELECT */
  for (uint32_t i = 0; i < sel->settings.count; i++) {
    const struct ast *st = sel->settings.items[i];
    const struct ast *v = st->u.setting.value;
    const char *text;
    if (v->kind == AST_LITERAL && v->u.literal.kind == LIT_STRING)
      text = v->u.literal.str;
    else
      text = ast_format_name(s->a, v);
    if ((rc = exec_set_setting(ctx, st->u.setting.name, text, err)))
      return rc;
  }
  if (sel->qualify)
    return error_set(err, ERR_NOT_IMPLEMENTED, "QUALIFY is not supported yet");
  if (sel->group_by_with_rollup || sel->group_by_with_cube)
    return error_set(err, ERR_NOT_IMPLEMENTED, "WITH ROLLUP / WITH CUBE are not supported yet");
  if (sel->limit_with_ties)
    return error_set(err, ERR_NOT_IMPLEMENTED, "LIMIT WITH TIES is not supported yet");
  if (sel->distinct_on.count)
    return error_set(err, ERR_NOT_IMPLEMENTED, "DISTINCT ON is not supported yet");

  /* WITH: aliases visible everywhere (and CTEs) */
  for (uint32_t i = 0; i < sel->with.count; i++) {
    const struct ast *w = sel->with.items[i];
    if (!w->alias)
      return error_set(err, ERR_BAD_ARGUMENTS, "WITH expression %s must have an alias", ast_format_name(s->a, w));
    if ((rc = add_alias(s, w->alias, w, true, err)))
      return rc;
  }

  if ((rc = analyze_from(s, sel, err)))
    return rc;
  uint32_t src_n = s->source->column_count;
  s->source_pos = arena_alloc(s->a, sizeof *s->source_pos * (src_n ? src_n : 1));
  for (uint32_t i = 0; i < src_n; i++)
    s->source_pos[i] = -1;
  s->read_cols = arena_alloc(s->a, sizeof *s->read_cols * (src_n ? src_n : 1));

  /* aliases from the select list and the other clauses */
  for (uint32_t i = 0; i < sel->columns.count; i++)
    if ((rc = collect_aliases(s, sel->columns.items[i], err)))
      return rc;
  if ((rc = collect_aliases(s, sel->where, err)) || (rc = collect_aliases(s, sel->prewhere, err)) ||
      (rc = collect_aliases(s, sel->having, err)))
    return rc;
  for (uint32_t i = 0; i < sel->group_by.count; i++)
    if ((rc = collect_aliases(s, sel->group_by.items[i], err)))
      return rc;
  for (uint32_t i = 0; i < sel->order_by.count; i++)
    if ((rc = collect_aliases(s, sel->order_by.items[i], err)))
      return rc;

  if ((rc = analyze_array_join_clause(s, sel, err)))
    return rc;
  s->aj_allowed = true;

  /* SELECT list */
  struct select_item *items = NULL;
  uint32_t item_count = 0, item_cap = 0;
  s->allow_agg = true;
  for (uint32_t i = 0; i < sel->columns.count; i++) {
    const struct ast *c = sel->columns.items[i];
    if (c->kind == AST_ASTERISK) {
      if ((rc = expand_asterisk(s, c, &items, &item_count, &item_cap, err)))
        return rc;
      continue;
    }
    struct expr *e;
    if ((rc = analyze_expr(s, c, &e, err)))
      return rc;
    if (e->kind == EXPR_LAMBDA)
      return error_set(err, ERR_BAD_ARGUMENTS, "Lambda is not allowed in the SELECT list");
    GROW(items, item_count, item_cap, s->a);
    items[item_count++] = (struct select_item){ e, c->alias ? c->alias : ast_format_name(s->a, c) };
  }
  if (item_count == 0)
    return error_set(err, ERR_EMPTY_LIST_OF_COLUMNS_QUERIED, "Empty list of columns in SELECT query");

  /* WHERE / PREWHERE */
  struct expr *where = NULL, *prewhere = NULL;
  s->allow_agg = false;
  if (sel->prewhere) {
    s->clause = "PREWHERE";
    if ((rc = analyze_expr(s, sel->prewhere, &prewhere, err)))
      return rc;
    if ((rc = check_filter(s, prewhere, ast_format_name(s->a, sel->prewhere), err)))
      return rc;
  }
  if (sel->where) {
    s->clause = "WHERE";
    if ((rc = analyze_expr(s, sel->where, &where, err)))
      return rc;
    if (expr_has_aggregate(where))
      return error_set(err, ERR_ILLEGAL_AGGREGATION, "Aggregate function %s is found in WHERE in query %s",
                       first_aggregate(where)->name, scope_text(s));
    if ((rc = check_filter(s, where, ast_format_name(s->a, sel->where), err)))
      return rc;
  }

  /* GROUP BY */
  uint32_t key_count = sel->group_by.count;
  struct expr **keys = arena_alloc(s->a, sizeof *keys * (key_count ? key_count : 1));
  const char **key_names = arena_alloc(s->a, sizeof *key_names * (key_count ? key_count : 1));
  s->clause = "GROUP BY";
  for (uint32_t i = 0; i < key_count; i++) {
    const struct ast *g = sel->group_by.items[i];
    int bad;
    const struct ast *p = positional(g, sel, &bad);
    if (bad)
      return error_set(err, ERR_BAD_ARGUMENTS, "Positional argument out of bounds: %s", ast_format_name(s->a, g));
    if (p)
      g = p;
    if ((rc = analyze_expr(s, g, &keys[i], err)))
      return rc;
    if (expr_has_aggregate(keys[i]))
      return error_set(err, ERR_ILLEGAL_AGGREGATION, "Aggregate function %s is found in GROUP BY in query %s",
                       first_aggregate(keys[i])->name, scope_text(s));
    key_names[i] = g->alias ? g->alias : ast_format_name(s->a, g);
  }

  /* HAVING, ORDER BY, LIMIT BY (aggregates allowed) */
  s->allow_agg = true;
  s->clause = NULL;
  struct expr *having = NULL;
  if (sel->having && (rc = analyze_expr(s, sel->having, &having, err)))
    return rc;
  uint32_t order_count = sel->order_by.count;
  struct expr **order = arena_alloc(s->a, sizeof *order * (order_count ? order_count : 1));
  for (uint32_t i = 0; i < order_count; i++) {
    const struct ast *o = sel->order_by.items[i];
    const struct ast *oe = o->kind == AST_ORDER_ELEMENT ? o->u.order.expr : o;
    if (o->kind == AST_ORDER_ELEMENT && o->u.order.with_fill)
      return error_set(err, ERR_NOT_IMPLEMENTED, "ORDER BY ... WITH FILL is not supported yet");
    int bad;
    const struct ast *p = positional(oe, sel, &bad);
    if (bad)
      return error_set(err, ERR_BAD_ARGUMENTS, "Positional argument out of bounds: %s", ast_format_name(s->a, oe));
    if (p)
      oe = p;
    if ((rc = analyze_expr(s, oe, &order[i], err)))
      return rc;
  }
  uint32_t lb_count = sel->limit_by.count;
  struct expr **limit_by = arena_alloc(s->a, sizeof *limit_by * (lb_count ? lb_count : 1));
  for (uint32_t i = 0; i < lb_count; i++) {
    const struct ast *lb = sel->limit_by.items[i];
    int bad;
    const struct ast *p = positional(lb, sel, &bad);
    if (p)
      lb = p;
    if ((rc = analyze_expr(s, lb, &limit_by[i], err)))
      return rc;
  }

  /* LIMIT / OFFSET */
  uint64_t limit = 0, offset = 0, lb_limit = 0, lb_offset = 0;
  bool has_limit = sel->limit != NULL;
  s->allow_agg = false;
  if (sel->limit && (rc = const_u64(s, sel->limit, "LIMIT", &limit, err)))
    return rc;
  if (sel->offset && (rc = const_u64(s, sel->offset, "OFFSET", &offset, err)))
    return rc;
  if (sel->limit_by_limit && (rc = const_u64(s, sel->limit_by_limit, "LIMIT BY", &lb_limit, err)))
    return rc;
  if (sel->limit_by_offset && (rc = const_u64(s, sel->limit_by_offset, "LIMIT BY OFFSET", &lb_offset, err)))
    return rc;

  bool aggregating = key_count > 0 || s->agg_count > 0 || having != NULL;
  for (uint32_t i = 0; i < item_count && !aggregating; i++)
    aggregating = expr_has_aggregate(items[i].expr);

  /* ---- operators ---- */
  fix_inputs(s);
  struct op *op;
  uint64_t hint = 0;
  if (!where && !prewhere && !aggregating && order_count == 0 && !sel->distinct && lb_count == 0 &&
      s->aj_count == 0 && has_limit)
    hint = limit + offset;
  struct table_read_opts ro = { .columns = s->read_cols, .column_count = s->read_count, .limit_hint = hint,
                                .final = s->final, .where = where, .prewhere = prewhere };
  if ((rc = s->source->vt->open(s->source, ctx, &ro, &op, err)))
    return rc;

  /* the ARRAY JOIN clause zips its arrays; each arrayJoin() call is a
   * join of its own, applied in order (a cross product of them) */
  for (uint32_t k = 0; k < s->aj_count;) {
    uint32_t n = k < s->aj_clause_count ? s->aj_clause_count : 1;
    struct array_join_spec spec = { .count = n, .left = k < s->aj_clause_count && s->aj_left };
    spec.arrays = arena_alloc(s->a, sizeof *spec.arrays * n);
    const char **names = arena_alloc(s->a, sizeof *names * n);
    for (uint32_t j = 0; j < n; j++) {
      spec.arrays[j] = s->aj[k + j].array;
      names[j] = s->aj[k + j].name ? s->aj[k + j].name : arena_printf(s->a, "__array_join_%u", k + j);
    }
    op = op_array_join_create(ctx, op, &spec, names);
    k += n;
  }
  if (prewhere)
    op = op_filter_create(ctx, op, prewhere);
  if (where)
    op = op_filter_create(ctx, op, where);

  uint32_t final_count = item_count + order_count + lb_count;
  struct expr **final = arena_alloc(s->a, sizeof *final * final_count);
  const char **final_names = arena_alloc(s->a, sizeof *final_names * final_count);
  for (uint32_t i = 0; i < item_count; i++) {
    final[i] = items[i].expr;
    final_names[i] = items[i].name;
  }
  for (uint32_t i = 0; i < order_count; i++) {
    final[item_count + i] = order[i];
    final_names[item_count + i] = "__order";
  }
  for (uint32_t i = 0; i < lb_count; i++) {
    final[item_count + order_count + i] = limit_by[i];
    final_names[item_count + order_count + i] = "__limit_by";
  }

  if (aggregating) {
    /* pre-aggregation projection: keys, then distinct aggregate arguments */
    uint32_t pre_cap = key_count + 4;
    struct expr **pre = arena_alloc(s->a, sizeof *pre * pre_cap);
    uint32_t pre_n = 0;
    for (uint32_t k = 0; k < key_count; k++)
      pre[pre_n++] = keys[k];
    struct agg_spec spec = { .key_count = key_count, .agg_count = s->agg_count,
                             .with_totals = sel->group_by_with_totals };
    spec.aggs = arena_alloc(s->a, sizeof *spec.aggs * (s->agg_count ? s->agg_count : 1));
    spec.agg_args = arena_alloc(s->a, sizeof *spec.agg_args * (s->agg_count ? s->agg_count : 1));
    for (uint32_t i = 0; i < s->agg_count; i++) {
      struct agg_entry *ae = &s->aggs[i];
      spec.aggs[i] = ae->call;
      spec.agg_args[i] = arena_alloc(s->a, sizeof(uint32_t) * (ae->arg_count ? ae->arg_count : 1));
      for (uint32_t j = 0; j < ae->arg_count; j++) {
        uint32_t found = UINT32_MAX;
        for (uint32_t x = key_count; x < pre_n; x++)
          if (strcmp(pre[x]->key, ae->args[j]->key) == 0)
            found = x;
        if (found == UINT32_MAX) {
          if (pre_n == pre_cap) {
            pre = arena_realloc(s->a, pre, sizeof *pre * pre_cap, sizeof *pre * pre_cap * 2);
            pre_cap *= 2;
          }
          found = pre_n;
          pre[pre_n++] = ae->args[j];
        }
        spec.agg_args[i][j] = found;
      }
    }
    const char **pre_names = arena_alloc(s->a, sizeof *pre_names * (pre_n ? pre_n : 1));
    for (uint32_t i = 0; i < pre_n; i++)
      pre_names[i] = i < key_count ? key_names[i] : "__agg_arg";
    op = op_project_create(ctx, op, pre, pre_n, pre_names);
    const char **agg_names = arena_alloc(s->a, sizeof *agg_names * (key_count + s->agg_count + 1));
    for (uint32_t k = 0; k < key_count; k++)
      agg_names[k] = key_names[k];
    for (uint32_t i = 0; i < s->agg_count; i++)
      agg_names[key_count + i] = s->aggs[i].key;
    op = op_aggregate_create(ctx, op, &spec, agg_names);
    struct op *agg_op = op;

    struct post_ctx pc = { .s = s, .keys = keys, .key_count = key_count };
    if (having) {
      struct expr *h;
      if ((rc = rewrite_post(&pc, having, &h, err)))
        return rc;
      if ((rc = check_filter(s, h, ast_format_name(s->a, sel->having), err)))
        return rc;
      op = op_filter_create(ctx, op, h);
    }
    for (uint32_t i = 0; i < final_count; i++)
      if ((rc = rewrite_post(&pc, final[i], &final[i], err)))
        return rc;
    op = op_project_create(ctx, op, final, final_count, final_names);
    if (sel->group_by_with_totals && totals) {
      /* how to turn the totals row into a result row */
      totals->agg = agg_op;
      totals->exprs = final;
      totals->count = item_count;
      totals->names = final_names;
    }
  } else {
    op = op_project_create(ctx, op, final, final_count, final_names);
  }

  if (sel->distinct)
    op = op_distinct_create(ctx, op, item_count, (order_count == 0 && lb_count == 0 && has_limit) ? limit + offset : 0);
  if (order_count) {
    struct sort_key *sk = arena_alloc(s->a, sizeof *sk * order_count);
    for (uint32_t i = 0; i < order_count; i++) {
      const struct ast *o = sel->order_by.items[i];
      sk[i].column = item_count + i;
      sk[i].descending = o->kind == AST_ORDER_ELEMENT && o->u.order.descending;
      sk[i].nulls_first = o->kind == AST_ORDER_ELEMENT && o->u.order.nulls_explicit ? o->u.order.nulls_first : false;
    }
    uint64_t topn = (has_limit && lb_count == 0) ? limit + offset : 0;
    if (has_limit && limit == 0 && lb_count == 0)
      topn = 0;
    op = op_sort_create(ctx, op, sk, order_count, topn);
  }
  if (lb_count) {
    uint32_t *cols = arena_alloc(s->a, sizeof *cols * lb_count);
    for (uint32_t i = 0; i < lb_count; i++)
      cols[i] = item_count + order_count + i;
    op = op_limit_by_create(ctx, op, cols, lb_count, lb_limit, lb_offset);
  }
  if (has_limit || offset)
    op = op_limit_create(ctx, op, limit, offset, has_limit, top_level);
  if (final_count != item_count)
    op = op_keep_columns_create(ctx, op, item_count);
  *out = op;
  return 0;
}

static int cast_op(struct query_context *ctx, struct op *child, const struct datatype **types, struct op **out,
                   struct error *err)
{
  bool same = true;
  for (uint32_t i = 0; i < child->column_count; i++)
    if (!datatype_equal(child->types[i], types[i]))
      same = false;
  if (same) {
    *out = child;
    return 0;
  }
  struct analyze_scope s = { .ctx = ctx, .a = ctx->arena };
  struct expr **ex = arena_alloc(ctx->arena, sizeof *ex * child->column_count);
  for (uint32_t i = 0; i < child->column_count; i++) {
    struct expr *in = expr_new(ctx->arena, EXPR_INPUT, child->types[i]);
    in->index = i;
    in->key = arena_printf(ctx->arena, "#%u", i);
    int rc = make_cast(&s, in, types[i], &ex[i], err);
    if (rc)
      return rc;
  }
  *out = op_project_create(ctx, child, ex, child->column_count, child->names);
  return 0;
}

int plan_select(struct query_context *ctx, const struct ast *query, const struct analyze_scope *outer,
                struct op **out, bool top_level, struct error *err)
{
  return plan_select_totals(ctx, query, outer, out, top_level, NULL, err);
}

int plan_select_totals(struct query_context *ctx, const struct ast *query, const struct analyze_scope *outer,
                       struct op **out, bool top_level, struct plan_totals *totals, struct error *err)
{
  if (query->kind == AST_SELECT)
    return plan_select_one(ctx, query, outer, out, top_level, totals, err);
  if (query->kind == AST_SUBQUERY)
    return plan_select_totals(ctx, query->u.subquery.query, outer, out, top_level, totals, err);
  if (query->kind != AST_SELECT_UNION)
    return error_set(err, ERR_LOGICAL_ERROR, "plan_select: not a query");
  const struct ast_select_union *u = &query->u.select_union;
  if (u->selects.count == 1)
    return plan_select_totals(ctx, u->selects.items[0], outer, out, top_level, totals, err);
  struct op **kids = arena_alloc(ctx->arena, sizeof *kids * u->selects.count);
  for (uint32_t i = 0; i < u->selects.count; i++) {
    int rc = plan_select(ctx, u->selects.items[i], outer, &kids[i], false, err);
    if (rc)
      return rc;
    if (kids[i]->column_count != kids[0]->column_count)
      return error_set(err, ERR_UNION_ALL_RESULT_STRUCTURE_MISMATCH,
                       "Different number of columns in UNION elements: %u and %u", kids[0]->column_count,
                       kids[i]->column_count);
  }
  uint32_t cols = kids[0]->column_count;
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types * cols);
  const struct datatype **col_types = arena_alloc(ctx->arena, sizeof *col_types * u->selects.count);
  for (uint32_t c = 0; c < cols; c++) {
    for (uint32_t i = 0; i < u->selects.count; i++)
      col_types[i] = kids[i]->types[c];
    int rc = type_supertype(ctx->arena, col_types, u->selects.count, &types[c], err);
    if (rc)
      return rc;
  }
  for (uint32_t i = 0; i < u->selects.count; i++) {
    int rc = cast_op(ctx, kids[i], types, &kids[i], err);
    if (rc)
      return rc;
    kids[i]->names = kids[0]->names;
  }
  /* UNION DISTINCT applies to everything before it: fold left to right */
  struct op *acc = kids[0];
  uint32_t i = 1;
  while (i < u->selects.count) {
    uint32_t j = i;
    struct op **grp = arena_alloc(ctx->arena, sizeof *grp * (u->selects.count + 1));
    uint32_t gn = 0;
    grp[gn++] = acc;
    bool distinct = u->union_distinct && u->union_distinct[i - 1];
    while (j < u->selects.count && (u->union_distinct ? u->union_distinct[j - 1] == distinct : !distinct))
      grp[gn++] = kids[j++];
    acc = op_union_create(ctx, grp, gn);
    if (distinct)
      acc = op_distinct_create(ctx, acc, cols, 0);
    i = j;
  }
  *out = acc;
  return 0;
}

/* One expression over a plain list of columns (table DDL: partition and
 * sorting keys, skip-index inputs, DEFAULT expressions). EXPR_INPUT i is
 * column i of the list. No aggregates, no ARRAY JOIN. */
int analyze_expr_over_columns(struct query_context *ctx, uint32_t count, const char **names,
                              const struct datatype **types, const struct ast *n, struct expr **out,
                              struct error *err)
{
  struct analyze_scope *s = arena_new(ctx->arena, struct analyze_scope);
  struct table_source *src = arena_new(ctx->arena, struct table_source);
  src->name = "";
  src->engine = "";
  src->column_count = count;
  src->names = names;
  src->types = types;
  s->ctx = ctx;
  s->a = ctx->arena;
  s->source = src;
  s->table_name = "";
  s->query_text = "table definition";
  s->source_pos = arena_alloc(s->a, sizeof *s->source_pos * (count ? count : 1));
  s->read_cols = arena_alloc(s->a, sizeof *s->read_cols * (count ? count : 1));
  for (uint32_t i = 0; i < count; i++) {
    s->source_pos[i] = (int32_t)i;
    s->read_cols[i] = i;
  }
  s->read_count = count;
  s->clause = "table definition";
  return analyze_expr(s, n, out, err);
}
