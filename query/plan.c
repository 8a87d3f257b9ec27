/* Statement planning and the query_plan contract of exec.h: SELECT goes to
 * the analyzer (analyze.c); SHOW is rewritten to SELECTs over system
 * tables; EXISTS, DESCRIBE and EXPLAIN build their rows here. The plan
 * pulls blocks from its root operator, enforces result limits and keeps
 * the statistics the HTTP layer reports. */
#include "query/exec_int.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"

struct query_plan {
  struct query_context *ctx;
  struct op *root;
  const char *format;
  uint32_t column_count;
  const char **names;
  const struct datatype **types;
  struct plan_totals totals;
  struct block *totals_block;
  bool done;
  uint64_t rows_out;             /* rows returned so far (the handler keeps stats.result_rows) */
  uint64_t max_result_rows;
  bool break_on_overflow;
};

int exec_set_setting(struct query_context *ctx, const char *name, const char *value, struct error *err)
{
  if (settings_get_u64(ctx->settings, "readonly") == 1)
    return error_set(err, ERR_READONLY, "Cannot modify '%s' setting in readonly mode", name);
  return settings_set(ctx->settings, name, value, err);
}

static void apply_settings(struct query_context *ctx, const struct ast_list *settings, struct error *err, int *rc)
{
  *rc = 0;
  for (uint32_t i = 0; i < settings->count && !*rc; i++) {
    const struct ast *st = settings->items[i];
    const struct ast *v = st->u.setting.value;
    const char *text;
    if (v && v->kind == AST_LITERAL && v->u.literal.kind == LIT_STRING)
      text = v->u.literal.str;
    else if (v && v->kind == AST_LITERAL && v->u.literal.kind == LIT_BOOL)
      text = v->u.literal.u ? "1" : "0";
    else
      text = v ? ast_format_name(ctx->arena, v) : "1";
    *rc = exec_set_setting(ctx, st->u.setting.name, text, err);
  }
}

int plan_drain(struct query_context *ctx, struct op *op, struct arena *a, struct block **out, uint64_t max_rows,
               struct error *err)
{
  struct block *b = block_create(a, op->column_count);
  b->names = op->names;
  for (uint32_t i = 0; i < op->column_count; i++)
    b->columns[i] = col_new_empty(a, op->types[i], 16);
  for (;;) {
    struct block *in;
    int rc = op_next(op, &in, err);
    if (rc)
      return rc;
    if (!in)
      break;
    for (uint32_t i = 0; i < op->column_count; i++) {
      struct column *c = in->columns[i];
      if (c->is_const)
        c = col_full(a, c, in->rows);
      column_append_range(b->columns[i], c, 0, in->rows);
    }
    b->rows += in->rows;
    if (max_rows && b->rows >= max_rows)
      break;
  }
  (void)ctx;
  *out = b;
  return 0;
}

/* A one-block result of string columns, built row by row. */
struct rows_builder {
  struct query_context *ctx;
  struct block *b;
  const char **names;
  const struct datatype **types;
  uint32_t cols;
};

static void rows_begin(struct rows_builder *rb, struct query_context *ctx, uint32_t cols, const char **names,
                       const struct datatype **types)
{
  rb->ctx = ctx;
  rb->cols = cols;
  rb->names = names;
  rb->types = types;
  rb->b = block_create(ctx->arena, cols);
  rb->b->names = names;
  for (uint32_t i = 0; i < cols; i++)
    rb->b->columns[i] = col_new_empty(ctx->arena, types[i], 16);
}

static struct op *rows_finish(struct rows_builder *rb)
{
  rb->b->rows = rb->cols ? rb->b->columns[0]->rows : 0;
  struct block **blocks = arena_alloc(rb->ctx->arena, sizeof *blocks);
  blocks[0] = rb->b;
  return op_values_create(rb->ctx, rb->cols, rb->names, rb->types, blocks, 1);
}

static int plan_sql(struct query_context *ctx, const char *sql, struct query_plan *plan, struct error *err)
{
  struct sql_statement *st;
  int rc = sql_parse(ctx->arena, sql, strlen(sql), &st, err);
  if (rc)
    return rc;
  return plan_select_totals(ctx, st->select, NULL, &plan->root, true, &plan->totals, err);
}

static void sql_quote(struct buf *b, const char *s)
{
  buf_append_char(b, '\'');
  for (; *s; s++) {
    if (*s == '\'' || *s == '\\')
      buf_append_char(b, '\\');
    buf_append_char(b, *s);
  }
  buf_append_char(b, '\'');
}

static int plan_show(struct query_context *ctx, const struct sql_statement *st, struct query_plan *plan,
                     struct error *err)
{
  struct buf b;
  buf_init(&b);
  if (st->kind == STMT_SHOW_DATABASES) {
    buf_append_cstr(&b, "SELECT name FROM system.databases");
  } else {
    const char *db = st->database ? st->database : ctx->database;
    const char **names;
    uint32_t n = table_databases(ctx, &names);
    bool found = false;
    for (uint32_t i = 0; i < n; i++)
      if (strcmp(names[i], db) == 0)
        found = true;
    if (!found) {
      buf_free(&b);
      return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", db);
    }
    buf_append_cstr(&b, "SELECT name FROM system.tables WHERE database = ");
    sql_quote(&b, db);
  }
  if (st->like) {
    buf_append_cstr(&b, st->kind == STMT_SHOW_DATABASES ? " WHERE name " : " AND name ");
    if (st->like_not)
      buf_append_cstr(&b, "NOT ");
    buf_append_cstr(&b, st->like_ilike ? "ILIKE " : "LIKE ");
    sql_quote(&b, st->like);
  }
  buf_append_cstr(&b, " ORDER BY name");
  if (st->show_limit) {
    buf_append_cstr(&b, " LIMIT ");
    ast_format(st->show_limit, &b);
  }
  int rc = plan_sql(ctx, buf_cstr(&b), plan, err);
  buf_free(&b);
  return rc;
}

static int plan_exists(struct query_context *ctx, const struct sql_statement *st, struct query_plan *plan,
                       struct error *err)
{
  bool exists = false;
  if (st->object == OBJECT_DATABASE) {
    const char **names;
    uint32_t n = table_databases(ctx, &names);
    for (uint32_t i = 0; i < n; i++)
      if (strcmp(names[i], st->name) == 0)
        exists = true;
  } else {
    struct table_source *src;
    struct error e2;
    exists = table_source_lookup(ctx, st->database, st->name, &src, &e2) == 0;
  }
  (void)err;
  const char **names = arena_alloc(ctx->arena, sizeof *names);
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types);
  names[0] = "result";
  types[0] = type_u8();
  struct rows_builder rb;
  rows_begin(&rb, ctx, 1, names, types);
  column_append_u64(rb.b->columns[0], exists);
  plan->root = rows_finish(&rb);
  return 0;
}

static const char *const describe_columns[] = { "name", "type", "default_type", "default_expression", "comment",
                                                "codec_expression", "ttl_expression" };

static int plan_describe(struct query_context *ctx, const struct sql_statement *st, struct query_plan *plan,
                         struct error *err)
{
  uint32_t n;
  const char **cnames;
  const struct datatype **ctypes;
  const char **comments = NULL;
  const struct table_source *tsrc = NULL;
  if (st->select) {
    struct op *op;
    int rc = plan_select(ctx, st->select, NULL, &op, false, err);
    if (rc)
      return rc;
    n = op->column_count;
    cnames = op->names;
    ctypes = op->types;
  } else {
    struct table_source *src;
    int rc = table_source_lookup(ctx, st->database, st->name, &src, err);
    if (rc)
      return rc;
    n = src->virtual_from ? src->virtual_from : src->column_count;
    cnames = src->names;
    ctypes = src->types;
    comments = src->comments;
    tsrc = src;
  }
  const char **names = arena_alloc(ctx->arena, sizeof *names * 7);
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types * 7);
  for (int i = 0; i < 7; i++) {
    names[i] = describe_columns[i];
    types[i] = type_str();
  }
  struct rows_builder rb;
  rows_begin(&rb, ctx, 7, names, types);
  for (uint32_t i = 0; i < n; i++) {
    const char *tn = type_name(ctx->arena, ctypes[i]);
    const char *cm = comments && comments[i] ? comments[i] : "";
    col_str_append(rb.b->columns[0], cnames[i], strlen(cnames[i]));
    col_str_append(rb.b->columns[1], tn, strlen(tn));
    for (int k = 2; k < 7; k++) {
      const char *v = k == 4 ? cm : "";
      if (tsrc && k == 2 && tsrc->default_kinds)
        v = tsrc->default_kinds[i];
      if (tsrc && k == 3 && tsrc->default_exprs)
        v = tsrc->default_exprs[i];
      if (tsrc && k == 5 && tsrc->codecs)
        v = tsrc->codecs[i];
      col_str_append(rb.b->columns[k], v, strlen(v));
    }
  }
  plan->root = rows_finish(&rb);
  return 0;
}

static void explain_ast(struct buf *b, const struct ast *n, int depth);

static void explain_list(struct buf *b, const char *what, const struct ast_list *l, int depth)
{
  if (!l->count)
    return;
  buf_printf(b, "%*s%s (children %u)\n", depth * 1, "", what, l->count);
  for (uint32_t i = 0; i < l->count; i++)
    explain_ast(b, l->items[i], depth + 1);
}

static void explain_ast(struct buf *b, const struct ast *n, int depth)
{
  if (!n)
    return;
  struct arena tmp;
  arena_init(&tmp, 0);
  switch (n->kind) {
  case AST_SELECT_UNION:
    buf_printf(b, "%*sSelectWithUnionQuery (children 1)\n", depth, "");
    explain_list(b, "ExpressionList", &n->u.select_union.selects, depth + 1);
    break;
  case AST_SELECT: {
    const struct ast_select *s = &n->u.select;
    uint32_t kids = (s->with.count > 0) + (s->columns.count > 0) + (s->from.count > 0) + (s->where != NULL) +
                    (s->group_by.count > 0) + (s->having != NULL) + (s->order_by.count > 0) + (s->limit != NULL);
    buf_printf(b, "%*sSelectQuery (children %u)\n", depth, "", kids);
    explain_list(b, "ExpressionList", &s->with, depth + 1);
    explain_list(b, "ExpressionList", &s->columns, depth + 1);
    if (s->from.count) {
      buf_printf(b, "%*sTablesInSelectQuery (children %u)\n", depth + 1, "", s->from.count);
      for (uint32_t i = 0; i < s->from.count; i++) {
        buf_printf(b, "%*sTablesInSelectQueryElement (children 1)\n", depth + 2, "");
        explain_ast(b, s->from.items[i], depth + 3);
      }
    }
    explain_ast(b, s->where, depth + 1);
    explain_list(b, "ExpressionList", &s->group_by, depth + 1);
    explain_ast(b, s->having, depth + 1);
    explain_list(b, "ExpressionList", &s->order_by, depth + 1);
    explain_ast(b, s->limit, depth + 1);
    break;
  }
  case AST_TABLE_EXPR:
    buf_printf(b, "%*sTableExpression (children 1)\n", depth, "");
    if (n->u.table_expr.subquery)
      explain_ast(b, n->u.table_expr.subquery, depth + 1);
    else if (n->u.table_expr.function)
      explain_ast(b, n->u.table_expr.function, depth + 1);
    else
      buf_printf(b, "%*sTableIdentifier %s%s%s\n", depth + 1, "", n->u.table_expr.database ? n->u.table_expr.database : "",
                 n->u.table_expr.database ? "." : "", n->u.table_expr.table);
    break;
  case AST_FUNCTION:
    if (n->alias)
      buf_printf(b, "%*sFunction %s (alias %s) (children 1)\n", depth, "", n->u.function.name, n->alias);
    else
      buf_printf(b, "%*sFunction %s (children 1)\n", depth, "", n->u.function.name);
    buf_printf(b, "%*sExpressionList (children %u)\n", depth + 1, "", n->u.function.args.count);
    for (uint32_t i = 0; i < n->u.function.args.count; i++)
      explain_ast(b, n->u.function.args.items[i], depth + 2);
    break;
  case AST_LITERAL:
    buf_printf(b, "%*sLiteral %s\n", depth, "", ast_format_name(&tmp, n));
    break;
  case AST_IDENTIFIER:
    buf_printf(b, "%*sIdentifier %s\n", depth, "", ast_format_name(&tmp, n));
    break;
  case AST_ASTERISK:
    buf_printf(b, "%*sAsterisk\n", depth, "");
    break;
  case AST_SUBQUERY:
    buf_printf(b, "%*sSubquery (children 1)\n", depth, "");
    explain_ast(b, n->u.subquery.query, depth + 1);
    break;
  case AST_ORDER_ELEMENT:
    buf_printf(b, "%*sOrderByElement (children 1)\n", depth, "");
    explain_ast(b, n->u.order.expr, depth + 1);
    break;
  default:
    buf_printf(b, "%*s%s\n", depth, "", ast_format_name(&tmp, n));
    break;
  }
  arena_destroy(&tmp);
}

static int plan_explain(struct query_context *ctx, const struct sql_statement *st, struct query_plan *plan,
                        struct error *err)
{
  const char *kind = st->explain_kind ? st->explain_kind : "PLAN";
  const struct sql_statement *x = st->explained;
  struct buf b;
  buf_init(&b);
  if (strcmp(kind, "AST") == 0) {
    if (!x || !x->select) {
      buf_free(&b);
      return error_set(err, ERR_NOT_IMPLEMENTED, "EXPLAIN AST is supported for SELECT only");
    }
    explain_ast(&b, x->select, 0);
  } else if (strcmp(kind, "PLAN") == 0 || strcmp(kind, "PIPELINE") == 0) {
    if (!x || x->kind != STMT_SELECT) {
      buf_free(&b);
      return error_set(err, ERR_NOT_IMPLEMENTED, "EXPLAIN %s is supported for SELECT only", kind);
    }
    struct op *op;
    int rc = plan_select(ctx, x->select, NULL, &op, false, err);
    if (rc) {
      buf_free(&b);
      return rc;
    }
    int depth = 0;
    for (struct op *o = op; o; o = o->child_count ? o->children[0] : NULL, depth++)
      buf_printf(&b, "%*s%s\n", depth * 2, "", o->vt->name);
  } else {
    buf_free(&b);
    return error_set(err, ERR_NOT_IMPLEMENTED, "EXPLAIN %s is not supported yet", kind);
  }
  const char **names = arena_alloc(ctx->arena, sizeof *names);
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types);
  names[0] = "explain";
  types[0] = type_str();
  struct rows_builder rb;
  rows_begin(&rb, ctx, 1, names, types);
  const char *p = b.data ? b.data : "";
  const char *end = p + b.len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
      nl = end;
    col_str_append(rb.b->columns[0], p, (size_t)(nl - p));
    p = nl + 1;
  }
  buf_free(&b);
  plan->root = rows_finish(&rb);
  return 0;
}

static const char *statement_name(enum sql_statement_kind k)
{
  switch (k) {
  case STMT_SELECT: return "SELECT";
  case STMT_INSERT: return "INSERT";
  case STMT_CREATE_DATABASE: return "CREATE DATABASE";
  case STMT_CREATE_TABLE: return "CREATE TABLE";
  case STMT_CREATE_VIEW: return "CREATE VIEW";
  case STMT_DROP: return "DROP";
  case STMT_TRUNCATE: return "TRUNCATE";
  case STMT_RENAME: return "RENAME";
  case STMT_ALTER: return "ALTER";
  case STMT_SHOW_DATABASES: return "SHOW DATABASES";
  case STMT_SHOW_TABLES: return "SHOW TABLES";
  case STMT_SHOW_CREATE: return "SHOW CREATE";
  case STMT_DESCRIBE: return "DESCRIBE";
  case STMT_EXISTS: return "EXISTS";
  case STMT_OPTIMIZE: return "OPTIMIZE";
  case STMT_SYSTEM: return "SYSTEM";
  case STMT_SET: return "SET";
  case STMT_USE: return "USE";
  case STMT_EXPLAIN: return "EXPLAIN";
  }
  return "?";
}

int query_prepare(struct query_context *ctx, const struct sql_statement *stmt, struct query_plan **out,
                  struct error *err)
{
  if (!ctx->settings)
    ctx->settings = settings_create(ctx->arena);
  if (!ctx->database)
    ctx->database = "default";
  if (ctx->stats.start_ns == 0)
    ctx->stats.start_ns = clock_monotonic_ns();
  struct query_plan *plan = arena_new(ctx->arena, struct query_plan);
  plan->ctx = ctx;
  plan->format = stmt->format;
  int rc;
  apply_settings(ctx, &stmt->settings, err, &rc);
  if (rc)
    return rc;
  switch (stmt->kind) {
  case STMT_SELECT:
    rc = plan_select_totals(ctx, stmt->select, NULL, &plan->root, true, &plan->totals, err);
    break;
  case STMT_SHOW_DATABASES:
  case STMT_SHOW_TABLES:
    rc = plan_show(ctx, stmt, plan, err);
    break;
  case STMT_EXISTS:
    rc = plan_exists(ctx, stmt, plan, err);
    break;
  case STMT_DESCRIBE:
    rc = plan_describe(ctx, stmt, plan, err);
    break;
  case STMT_EXPLAIN:
    rc = plan_explain(ctx, stmt, plan, err);
    break;
  case STMT_CREATE_DATABASE: case STMT_CREATE_TABLE: case STMT_CREATE_VIEW: case STMT_DROP: case STMT_TRUNCATE:
  case STMT_RENAME:
  case STMT_ALTER: case STMT_OPTIMIZE: case STMT_SHOW_CREATE:
    if (!ctx->engine)
      return error_set(err, ERR_NOT_IMPLEMENTED, "%s queries are not supported yet", statement_name(stmt->kind));
    rc = mergetree_statement(ctx, stmt, &plan->root, err);
    break;
  case STMT_INSERT:
    if (!ctx->engine)
      return error_set(err, ERR_NOT_IMPLEMENTED, "%s queries are not supported yet", statement_name(stmt->kind));
    rc = mergetree_insert(ctx, stmt, NULL, 0, NULL, NULL, err);
    if (rc == 0)
      plan->root = op_values_create(ctx, 0, NULL, NULL, NULL, 0);
    break;
  default:
    return error_set(err, ERR_NOT_IMPLEMENTED, "%s queries are not supported yet", statement_name(stmt->kind));
  }
  if (rc)
    return rc;
  plan->column_count = plan->root->column_count;
  plan->names = plan->root->names;
  plan->types = plan->root->types;
  plan->max_result_rows = settings_get_u64(ctx->settings, "max_result_rows");
  plan->break_on_overflow = strcmp(settings_get_str(ctx->settings, "result_overflow_mode"), "break") == 0;
  *out = plan;
  return 0;
}

void query_plan_header(const struct query_plan *plan, uint32_t *column_count, const char *const **names,
                       const struct datatype *const **types)
{
  *column_count = plan->column_count;
  *names = plan->names;
  *types = plan->types;
}

int query_plan_next(struct query_plan *plan, struct block **out, struct error *err)
{
  *out = NULL;
  if (plan->done)
    return 0;
  struct block *b;
  int rc = exec_check_limits(plan->ctx, err);
  if (rc)
    return rc;
  rc = op_next(plan->root, &b, err);
  if (rc) {
    plan->done = true;
    return rc;
  }
  if (!b) {
    plan->done = true;
    if (!plan->ctx->stats.has_limit)
      plan->ctx->stats.rows_before_limit = plan->rows_out;
    return 0;
  }
  if (plan->max_result_rows && plan->rows_out + b->rows > plan->max_result_rows) {
    plan->done = true;
    if (!plan->break_on_overflow)
      return error_set(err, ERR_TOO_MANY_ROWS_OR_BYTES, "Limit for result exceeded, max rows: %llu, current rows: %llu",
                       (unsigned long long)plan->max_result_rows, (unsigned long long)(plan->rows_out + b->rows));
  }
  plan->rows_out += b->rows;
  b->names = plan->names;
  *out = b;
  return 0;
}

const char *query_plan_format(const struct query_plan *plan) { return plan->format; }

int query_plan_totals(struct query_plan *plan, struct block **out, struct error *err)
{
  *out = NULL;
  if (!plan->totals.agg)
    return 0;
  if (plan->totals_block) {
    *out = plan->totals_block;
    return 0;
  }
  struct block *t = op_aggregate_totals(plan->totals.agg);
  if (!t)
    return 0;
  struct query_context *ctx = plan->ctx;
  struct eval ev = { .ctx = ctx, .arena = ctx->arena, .input = t, .rows = 1 };
  struct block *b = block_create(ctx->arena, plan->totals.count);
  b->rows = 1;
  b->names = plan->names;
  for (uint32_t i = 0; i < plan->totals.count; i++) {
    int rc = expr_eval(&ev, plan->totals.exprs[i], &b->columns[i], err);
    if (rc)
      return rc;
    if (b->columns[i]->is_const)
      b->columns[i] = col_full(ctx->arena, b->columns[i], 1);
  }
  plan->totals_block = b;
  *out = b;
  return 0;
}
