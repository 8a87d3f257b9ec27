/* AST builders, ClickHouse default column names (ast_format) and an
 * iterative walker over a parsed statement. Formatting recurses, which is
 * safe because the parser refuses trees deeper than SQL_AST_DEPTH_MAX. */
#include "query/ast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ast *ast_new(struct arena *a, enum ast_kind kind, uint32_t pos, uint32_t len)
{
  struct ast *n = arena_new(a, struct ast);
  n->kind = kind;
  n->pos = pos;
  n->len = len;
  return n;
}

struct ast *ast_function_new(struct arena *a, const char *name, uint32_t pos, uint32_t len,
                             struct ast **args, uint32_t arg_count)
{
  struct ast *n = ast_new(a, AST_FUNCTION, pos, len);
  n->u.function.name = name;
  for (uint32_t i = 0; i < arg_count; i++)
    ast_list_push(a, &n->u.function.args, args[i]);
  return n;
}

static bool is_pow2(uint32_t v) { return v && (v & (v - 1)) == 0; }

void ast_list_push(struct arena *a, struct ast_list *list, struct ast *item)
{
  /* Capacity is implied by count: it doubles whenever count reaches a
   * power of two, so no capacity field is needed. */
  if (list->count == 0 || is_pow2(list->count)) {
    uint32_t cap = list->count ? list->count * 2 : 4;
    if (list->count == 0 || list->count >= 4)
      list->items = arena_realloc(a, list->items, sizeof(struct ast *) * list->count, sizeof(struct ast *) * cap);
  }
  list->items[list->count++] = item;
}

/* ---- formatting -------------------------------------------------------- */

/* Shortest round-trip digits of |v| (v finite, non-zero): digits and the
 * decimal point position dp such that |v| = 0.DIGITS * 10^dp. */
static int shortest_digits(double v, char *digits, int *dp)
{
  char tmp[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
    if (strtod(tmp, NULL) == v || prec == 17)
      break;
  }
  /* tmp is d[.ddd]e[+-]XX */
  int n = 0;
  const char *p = tmp;
  for (; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9')
      digits[n++] = *p;
  while (n > 1 && digits[n - 1] == '0')
    n--;
  digits[n] = '\0';
  int e = *p == 'e' ? atoi(p + 1) : 0;
  *dp = e + 1;
  return n;
}

/* ClickHouse's float text: shortest digits, plain notation when the
 * decimal point falls in (-6, 21], a trailing '.' for whole numbers
 * ("1."), otherwise d.ddde±X ("1e-7", "1.5e100"). */
static void format_double(double v, struct buf *out)
{
  if (isnan(v)) {
    buf_append_cstr(out, "nan");
    return;
  }
  if (signbit(v))
    buf_append_char(out, '-');
  v = fabs(v);
  if (isinf(v)) {
    buf_append_cstr(out, "inf");
    return;
  }
  if (v == 0) {
    buf_append_cstr(out, "0.");
    return;
  }
  char digits[40];
  int dp;
  int n = shortest_digits(v, digits, &dp);
  if (dp > -6 && dp <= 21) {
    if (dp <= 0) {
      buf_append_cstr(out, "0.");
      for (int i = 0; i < -dp; i++)
        buf_append_char(out, '0');
      buf_append(out, digits, (size_t)n);
    } else if (dp >= n) {
      buf_append(out, digits, (size_t)n);
      for (int i = n; i < dp; i++)
        buf_append_char(out, '0');
      buf_append_char(out, '.');
    } else {
      buf_append(out, digits, (size_t)dp);
      buf_append_char(out, '.');
      buf_append(out, digits + dp, (size_t)(n - dp));
    }
  } else {
    buf_append_char(out, digits[0]);
    if (n > 1) {
      buf_append_char(out, '.');
      buf_append(out, digits + 1, (size_t)(n - 1));
    }
    buf_printf(out, "e%d", dp - 1);
  }
}

/* Single-quoted with backslash escapes, as ClickHouse prints strings. */
static void format_quoted(const char *s, size_t n, struct buf *out)
{
  buf_append_char(out, '\'');
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    switch (c) {
    case '\'': buf_append_cstr(out, "\\'"); break;
    case '\\': buf_append_cstr(out, "\\\\"); break;
    case '\b': buf_append_cstr(out, "\\b"); break;
    case '\f': buf_append_cstr(out, "\\f"); break;
    case '\n': buf_append_cstr(out, "\\n"); break;
    case '\r': buf_append_cstr(out, "\\r"); break;
    case '\t': buf_append_cstr(out, "\\t"); break;
    case '\0': buf_append_cstr(out, "\\0"); break;
    default: buf_append_char(out, c); break;
    }
  }
  buf_append_char(out, '\'');
}

static void format_literal(const struct ast *n, struct buf *out)
{
  switch (n->u.literal.kind) {
  case LIT_NULL: buf_append_cstr(out, "NULL"); break;
  case LIT_UINT: buf_printf(out, "%llu", (unsigned long long)n->u.literal.u); break;
  case LIT_INT: buf_printf(out, "%lld", (long long)n->u.literal.i); break;
  case LIT_FLOAT: format_double(n->u.literal.f, out); break;
  case LIT_STRING: format_quoted(n->u.literal.str, n->u.literal.str_len, out); break;
  case LIT_BOOL: buf_append_cstr(out, n->u.literal.u ? "true" : "false"); break;
  }
}

static void format_list(const struct ast_list *l, struct buf *out)
{
  for (uint32_t i = 0; i < l->count; i++) {
    if (i)
      buf_append_cstr(out, ", ");
    ast_format(l->items[i], out);
  }
}

/* [1, 2] and (1, 'a') made only of constants are literals in ClickHouse and
 * keep their bracket form in column names; anything else is array(…) / tuple(…). */
static bool is_constant_collection(const struct ast *n)
{
  if (n->kind == AST_LITERAL)
    return true;
  if (n->kind != AST_FUNCTION || !n->u.function.is_operator || n->u.function.has_params || n->u.function.over)
    return false;
  bool is_array = strcmp(n->u.function.name, "array") == 0;
  bool is_tuple = strcmp(n->u.function.name, "tuple") == 0;
  if (!is_array && !(is_tuple && n->u.function.args.count >= 2))
    return false;
  for (uint32_t i = 0; i < n->u.function.args.count; i++)
    if (!is_constant_collection(n->u.function.args.items[i]))
      return false;
  return true;
}

static void format_order_element(const struct ast *n, struct buf *out)
{
  ast_format(n->u.order.expr, out);
  buf_append_cstr(out, n->u.order.descending ? " DESC" : " ASC");
  if (n->u.order.nulls_explicit)
    buf_append_cstr(out, n->u.order.nulls_first ? " NULLS FIRST" : " NULLS LAST");
  if (n->u.order.collate) {
    buf_append_cstr(out, " COLLATE ");
    format_quoted(n->u.order.collate, strlen(n->u.order.collate), out);
  }
  if (n->u.order.with_fill)
    buf_append_cstr(out, " WITH FILL");
}

static void format_over(const struct ast *w, struct buf *out)
{
  buf_append_cstr(out, " OVER (");
  const struct ast_select *s = &w->u.select;
  if (s->group_by.count) {
    buf_append_cstr(out, "PARTITION BY ");
    format_list(&s->group_by, out);
  }
  if (s->order_by.count) {
    if (s->group_by.count)
      buf_append_char(out, ' ');
    buf_append_cstr(out, "ORDER BY ");
    format_list(&s->order_by, out);
  }
  buf_append_char(out, ')');
}

static void format_function(const struct ast *n, struct buf *out)
{
  const char *name = n->u.function.name;
  if (is_constant_collection(n)) {
    bool is_array = name[0] == 'a';
    buf_append_char(out, is_array ? '[' : '(');
    format_list(&n->u.function.args, out);
    buf_append_char(out, is_array ? ']' : ')');
    return;
  }
  buf_append_cstr(out, name);
  if (n->u.function.has_params) {
    buf_append_char(out, '(');
    format_list(&n->u.function.params, out);
    buf_append_char(out, ')');
  }
  buf_append_char(out, '(');
  format_list(&n->u.function.args, out);
  buf_append_char(out, ')');
  if (n->u.function.over)
    format_over(n->u.function.over, out);
}

void ast_format(const struct ast *n, struct buf *out)
{
  if (!n)
    return;
  switch (n->kind) {
  case AST_LITERAL:
    format_literal(n, out);
    break;
  case AST_IDENTIFIER:
    for (uint32_t i = 0; i < n->u.identifier.part_count; i++) {
      if (i)
        buf_append_char(out, '.');
      buf_append_cstr(out, n->u.identifier.parts[i]);
    }
    break;
  case AST_ASTERISK:
    if (n->u.asterisk.qualifier) {
      buf_append_cstr(out, n->u.asterisk.qualifier);
      buf_append_char(out, '.');
    }
    buf_append_char(out, '*');
    if (n->u.asterisk.except.count) {
      buf_append_cstr(out, " EXCEPT (");
      format_list(&n->u.asterisk.except, out);
      buf_append_char(out, ')');
    }
    break;
  case AST_FUNCTION:
    format_function(n, out);
    break;
  case AST_SUBQUERY:
    /* ClickHouse numbers subqueries (_subqueryN); the text offset keeps
     * names unique within one query. */
    buf_printf(out, "_subquery%u", n->pos + 1);
    break;
  case AST_QUERY_PARAMETER:
    buf_printf(out, "{%s:%s}", n->u.param.name, n->u.param.type);
    break;
  case AST_ORDER_ELEMENT:
    format_order_element(n, out);
    break;
  case AST_SETTING:
    buf_append_cstr(out, n->u.setting.name);
    buf_append_cstr(out, " = ");
    ast_format(n->u.setting.value, out);
    break;
  case AST_COLUMN_DEF:
    buf_append_cstr(out, n->u.column_def.name);
    if (n->u.column_def.type) {
      buf_append_char(out, ' ');
      buf_append_cstr(out, n->u.column_def.type);
    }
    break;
  case AST_INDEX_DEF:
    buf_append_cstr(out, n->u.index_def.name);
    break;
  case AST_TTL_ELEMENT:
    ast_format(n->u.ttl.expr, out);
    break;
  case AST_TABLE_EXPR:
    if (n->u.table_expr.database) {
      buf_append_cstr(out, n->u.table_expr.database);
      buf_append_char(out, '.');
    }
    if (n->u.table_expr.table)
      buf_append_cstr(out, n->u.table_expr.table);
    else if (n->u.table_expr.function)
      ast_format(n->u.table_expr.function, out);
    else
      buf_printf(out, "_subquery%u", n->pos + 1);
    break;
  case AST_SELECT:
  case AST_SELECT_UNION:
    buf_printf(out, "_subquery%u", n->pos + 1);
    break;
  case AST_JOIN:
    ast_format(n->u.join.table, out);
    break;
  case AST_ARRAY_JOIN:
    format_list(&n->u.array_join.exprs, out);
    break;
  }
}

const char *ast_format_name(struct arena *a, const struct ast *node)
{
  struct buf b;
  buf_init(&b);
  ast_format(node, &b);
  char *s = arena_strndup(a, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

/* ---- walking ----------------------------------------------------------- */

struct walk_entry {
  const struct ast *node;
  uint32_t depth;
};

struct walk_stack {
  struct arena *a;
  struct walk_entry *items;
  uint32_t count, cap;
};

static void walk_push(struct walk_stack *s, const struct ast *n, uint32_t depth)
{
  if (!n)
    return;
  if (s->count == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 64;
    s->items = arena_realloc(s->a, s->items, sizeof *s->items * s->cap, sizeof *s->items * cap);
    s->cap = cap;
  }
  s->items[s->count++] = (struct walk_entry){ n, depth };
}

static void walk_push_list(struct walk_stack *s, const struct ast_list *l, uint32_t depth)
{
  /* reversed so that items are visited in order */
  for (uint32_t i = l->count; i > 0; i--)
    walk_push(s, l->items[i - 1], depth);
}

static void walk_push_children(struct walk_stack *s, const struct ast *n, uint32_t d)
{
  switch (n->kind) {
  case AST_LITERAL:
  case AST_IDENTIFIER:
  case AST_QUERY_PARAMETER:
    break;
  case AST_ASTERISK:
    walk_push_list(s, &n->u.asterisk.except, d);
    break;
  case AST_FUNCTION:
    walk_push(s, n->u.function.over, d);
    walk_push_list(s, &n->u.function.args, d);
    walk_push_list(s, &n->u.function.params, d);
    break;
  case AST_SUBQUERY:
    walk_push(s, n->u.subquery.query, d);
    break;
  case AST_ORDER_ELEMENT:
    walk_push(s, n->u.order.expr, d);
    break;
  case AST_SETTING:
    walk_push(s, n->u.setting.value, d);
    break;
  case AST_SELECT: {
    const struct ast_select *q = &n->u.select;
    walk_push_list(s, &q->settings, d);
    walk_push(s, q->offset, d);
    walk_push(s, q->limit, d);
    walk_push_list(s, &q->limit_by, d);
    walk_push(s, q->limit_by_offset, d);
    walk_push(s, q->limit_by_limit, d);
    walk_push_list(s, &q->order_by, d);
    walk_push(s, q->qualify, d);
    walk_push(s, q->having, d);
    walk_push_list(s, &q->group_by, d);
    walk_push(s, q->where, d);
    walk_push(s, q->prewhere, d);
    walk_push_list(s, &q->from, d);
    walk_push_list(s, &q->columns, d);
    walk_push_list(s, &q->distinct_on, d);
    walk_push_list(s, &q->with, d);
    break;
  }
  case AST_SELECT_UNION:
    walk_push_list(s, &n->u.select_union.selects, d);
    break;
  case AST_TABLE_EXPR:
    walk_push(s, n->u.table_expr.sample_offset, d);
    walk_push(s, n->u.table_expr.sample, d);
    walk_push(s, n->u.table_expr.function, d);
    walk_push(s, n->u.table_expr.subquery, d);
    break;
  case AST_JOIN:
    walk_push_list(s, &n->u.join.using_columns, d);
    walk_push(s, n->u.join.on, d);
    walk_push(s, n->u.join.table, d);
    break;
  case AST_ARRAY_JOIN:
    walk_push_list(s, &n->u.array_join.exprs, d);
    break;
  case AST_COLUMN_DEF:
    walk_push(s, n->u.column_def.ttl, d);
    walk_push_list(s, &n->u.column_def.codecs, d);
    walk_push(s, n->u.column_def.default_expr, d);
    break;
  case AST_INDEX_DEF:
    walk_push(s, n->u.index_def.type, d);
    walk_push(s, n->u.index_def.expr, d);
    break;
  case AST_TTL_ELEMENT:
    walk_push(s, n->u.ttl.where, d);
    walk_push_list(s, &n->u.ttl.codecs, d);
    walk_push(s, n->u.ttl.expr, d);
    break;
  }
}

static void walk_push_statement(struct walk_stack *s, const struct sql_statement *st)
{
  walk_push_list(s, &st->settings, 1);
  walk_push(s, st->select, 1);
  walk_push_list(s, &st->insert_columns, 1);
  walk_push_list(s, &st->columns, 1);
  walk_push_list(s, &st->indexes, 1);
  walk_push_list(s, &st->projections, 1);
  walk_push(s, st->engine, 1);
  walk_push(s, st->partition_by, 1);
  walk_push(s, st->order_by, 1);
  walk_push(s, st->primary_key, 1);
  walk_push(s, st->sample_by, 1);
  walk_push_list(s, &st->ttl, 1);
  walk_push_list(s, &st->table_settings, 1);
  for (uint32_t i = 0; i < st->alter_count; i++) {
    const struct alter_command *c = &st->alter_commands[i];
    walk_push(s, c->column, 1);
    walk_push(s, c->index, 1);
    walk_push(s, c->partition, 1);
    walk_push_list(s, &c->ttl, 1);
    walk_push_list(s, &c->settings, 1);
    walk_push(s, c->where, 1);
    walk_push_list(s, &c->assignments, 1);
  }
  walk_push(s, st->show_limit, 1);
  walk_push(s, st->partition, 1);
}

static int walk_run(struct walk_stack *s, int (*fn)(const struct ast *node, uint32_t depth, void *ctx), void *ctx)
{
  while (s->count) {
    struct walk_entry e = s->items[--s->count];
    int rc = fn(e.node, e.depth, ctx);
    if (rc)
      return rc;
    walk_push_children(s, e.node, e.depth + 1);
  }
  return 0;
}

int sql_statement_walk(struct arena *a, const struct sql_statement *st,
                       int (*fn)(const struct ast *node, uint32_t depth, void *ctx), void *ctx)
{
  struct walk_stack s = { a, NULL, 0, 0 };
  for (; st; st = st->explained) {
    walk_push_statement(&s, st);
    int rc = walk_run(&s, fn, ctx);
    if (rc)
      return rc;
  }
  return 0;
}

int ast_walk(struct arena *a, const struct ast *root,
             int (*fn)(const struct ast *node, uint32_t depth, void *ctx), void *ctx)
{
  struct walk_stack s = { a, NULL, 0, 0 };
  walk_push(&s, root, 1);
  return walk_run(&s, fn, ctx);
}
