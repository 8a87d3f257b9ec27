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
};

static int analyze_expr(struct analyze_scope *s, const struct ast *n, struct expr **out, struct error *err);

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

static int find_source_column(struct analyze_scope *s, const char *name)
{
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
  if (resolve_column_name(s, full, out))
    return 0;
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

static int analyze_from(struct analyze_scope *s, const struct ast_select *sel, struct error *err)
{
  if (sel->from.count == 0) {
    s->table_name = "one";
    s->table_db = "system";
    return table_source_lookup(s->ctx, "system", "one", &s->source, err);
  }
  const struct ast *te = sel->from.items[0];
  for (uint32_t i = 1; i < sel->from.count; i++) {
    const struct ast *x = sel->from.items[i];
    if (x->kind == AST_JOIN)
      return error_set(err, ERR_NOT_IMPLEMENTED, "JOIN is not supported yet");
  }
  if (te->kind != AST_TABLE_EXPR)
    return error_set(err, ERR_NOT_IMPLEMENTED, "Unsupported FROM element");
  const struct ast_table_expr *t = &te->u.table_expr;
  s->table_alias = te->alias;
  if (t->final && (!t->table || t->subquery || t->function))
    return error_set(err, ERR_ILLEGAL_FINAL, "Storage %s doesn't support FINAL", t->table ? t->table : "function");
  if (t->sample)
    return error_set(err, ERR_NOT_IMPLEMENTED, "SAMPLE is not supported yet");
  if (t->subquery) {
    struct op *op;
    int rc = plan_select(s->ctx, t->subquery, s, &op, false, err);
    if (rc)
      return rc;
    s->source = table_source_from_op(s->ctx, op, NULL);
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
    s->table_name = f->u.function.name;
    return table_function_open(s->ctx, f->u.function.name, args, n, ast_format_name(s->a, f), &s->source, err);
  }
  if (!t->database) {
    const struct alias_def *cte = find_cte(s, t->table);
    if (cte) {
      struct op *op;
      int rc = plan_select(s->ctx, cte->node->u.subquery.query, s, &op, false, err);
      if (rc)
        return rc;
      s->source = table_source_from_op(s->ctx, op, t->table);
      s->table_name = t->table;
      return 0;
    }
  }
  s->table_name = t->table;
  s->table_db = t->database ? t->database : s->ctx->database;
  int rc = table_source_lookup(s->ctx, t->database, t->table, &s->source, err);
  if (rc)
    return rc;
  if (t->final && !s->source->supports_final)
    return error_set(err, ERR_ILLEGAL_FINAL, "Storage %s doesn't support FINAL", s->source->engine);
  s->final = t->final;
  return 0;
}

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
