/* {name:Type} substitution; see params.h. The walk visits every AST slot a
 * statement can hold, so placeholders work anywhere an expression may stand
 * (SELECT, WHERE, LIMIT, table functions, SETTINGS values, …). */
#include "query/params.h"

#include <string.h>

struct substitution {
  struct arena *arena;
  const struct query_param *params;
  uint32_t param_count;
  struct error *err;
};

static int walk(struct substitution *s, struct ast **slot);

static int walk_list(struct substitution *s, struct ast_list *list)
{
  for (uint32_t i = 0; i < list->count; i++) {
    int rc = walk(s, &list->items[i]);
    if (rc)
      return rc;
  }
  return 0;
}

/* Undoes the escaped-text escapes (\t, \n, \\, \', …) of a parameter value,
 * as ClickHouse reads param_ values. */
static int unescape_value(struct substitution *s, const char *name, const char *raw, char **out, size_t *out_len)
{
  size_t n = strlen(raw);
  char *v = arena_alloc(s->arena, n + 1);
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    if (raw[i] != '\\') {
      v[len++] = raw[i];
      continue;
    }
    if (++i == n)
      return error_set(s->err, ERR_BAD_QUERY_PARAMETER,
                       "Value %s cannot be parsed for query parameter '%s': trailing backslash", raw, name);
    switch (raw[i]) {
    case 't': v[len++] = '\t'; break;
    case 'n': v[len++] = '\n'; break;
    case 'r': v[len++] = '\r'; break;
    case 'b': v[len++] = '\b'; break;
    case 'f': v[len++] = '\f'; break;
    case '0': v[len++] = '\0'; break;
    case 'N':
      /* \N alone is NULL in escaped text; CAST of the literal handles it. */
      v[len++] = '\\';
      v[len++] = 'N';
      break;
    default: v[len++] = raw[i]; break;
    }
  }
  v[len] = '\0';
  *out = v;
  *out_len = len;
  return 0;
}

static struct ast *string_literal(struct arena *a, const char *bytes, size_t len, uint32_t pos, uint32_t src_len)
{
  struct ast *lit = ast_new(a, AST_LITERAL, pos, src_len);
  lit->u.literal.kind = LIT_STRING;
  lit->u.literal.str = bytes;
  lit->u.literal.str_len = (uint32_t)len;
  return lit;
}

static int substitute(struct substitution *s, struct ast **slot)
{
  struct ast *node = *slot;
  const char *name = node->u.param.name, *type = node->u.param.type;
  const struct query_param *p = NULL;
  for (uint32_t i = 0; i < s->param_count && !p; i++)
    if (strcmp(s->params[i].name, name) == 0)
      p = &s->params[i];
  if (!p)
    return error_set(s->err, ERR_UNKNOWN_QUERY_PARAMETER, "Substitution `%s` is not set", name);

  char *value = NULL;
  size_t value_len = 0;
  int rc = unescape_value(s, name, p->value, &value, &value_len);
  if (rc)
    return rc;

  struct ast *replacement;
  if (strcmp(type, "Identifier") == 0) {
    replacement = ast_new(s->arena, AST_IDENTIFIER, node->pos, node->len);
    const char **parts = arena_alloc(s->arena, sizeof *parts);
    parts[0] = value;
    replacement->u.identifier.parts = parts;
    replacement->u.identifier.part_count = 1;
  } else if (strcmp(type, "String") == 0) {
    replacement = string_literal(s->arena, value, value_len, node->pos, node->len);
  } else {
    struct ast *args[2] = {
      string_literal(s->arena, value, value_len, node->pos, node->len),
      string_literal(s->arena, type, strlen(type), node->pos, node->len),
    };
    replacement = ast_function_new(s->arena, "CAST", node->pos, node->len, args, 2);
  }
  replacement->alias = node->alias;
  *slot = replacement;
  return 0;
}

static int walk_select(struct substitution *s, struct ast_select *q)
{
  struct ast_list *lists[] = { &q->with, &q->distinct_on, &q->columns, &q->from, &q->group_by,
                               &q->order_by, &q->limit_by, &q->settings };
  struct ast **slots[] = { &q->prewhere, &q->where, &q->having, &q->qualify, &q->limit_by_limit,
                           &q->limit_by_offset, &q->limit, &q->offset };
  for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
    int rc = walk_list(s, lists[i]);
    if (rc)
      return rc;
  }
  for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
    int rc = walk(s, slots[i]);
    if (rc)
      return rc;
  }
  return 0;
}

static int walk(struct substitution *s, struct ast **slot)
{
  struct ast *n = *slot;
  if (!n)
    return 0;
  int rc = 0;
  switch (n->kind) {
  case AST_QUERY_PARAMETER:
    return substitute(s, slot);
  case AST_LITERAL:
  case AST_IDENTIFIER:
    return 0;
  case AST_ASTERISK:
    return walk_list(s, &n->u.asterisk.except);
  case AST_FUNCTION:
    if ((rc = walk_list(s, &n->u.function.args)) || (rc = walk_list(s, &n->u.function.params)))
      return rc;
    return walk(s, &n->u.function.over);
  case AST_SUBQUERY:
    return walk(s, &n->u.subquery.query);
  case AST_ORDER_ELEMENT:
    return walk(s, &n->u.order.expr);
  case AST_SETTING:
    return walk(s, &n->u.setting.value);
  case AST_SELECT:
    return walk_select(s, &n->u.select);
  case AST_SELECT_UNION:
    return walk_list(s, &n->u.select_union.selects);
  case AST_TABLE_EXPR:
    if ((rc = walk(s, &n->u.table_expr.subquery)) || (rc = walk(s, &n->u.table_expr.function)))
      return rc;
    return walk(s, &n->u.table_expr.sample);
  case AST_JOIN:
    if ((rc = walk(s, &n->u.join.table)) || (rc = walk(s, &n->u.join.on)))
      return rc;
    return walk_list(s, &n->u.join.using_columns);
  case AST_ARRAY_JOIN:
    return walk_list(s, &n->u.array_join.exprs);
  case AST_COLUMN_DEF:
    if ((rc = walk(s, &n->u.column_def.default_expr)) || (rc = walk(s, &n->u.column_def.ttl)))
      return rc;
    return walk_list(s, &n->u.column_def.codecs);
  case AST_INDEX_DEF:
    if ((rc = walk(s, &n->u.index_def.expr)))
      return rc;
    return walk(s, &n->u.index_def.type);
  case AST_TTL_ELEMENT:
    if ((rc = walk(s, &n->u.ttl.expr)))
      return rc;
    return walk(s, &n->u.ttl.where);
  }
  return 0;
}

static int walk_statement(struct substitution *s, struct sql_statement *st)
{
  int rc;
  struct ast **slots[] = { &st->select, &st->show_limit, &st->partition, &st->engine, &st->partition_by,
                           &st->order_by, &st->primary_key, &st->sample_by };
  for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
    if ((rc = walk(s, slots[i])))
      return rc;
  struct ast_list *lists[] = { &st->settings, &st->columns, &st->indexes, &st->ttl, &st->table_settings };
  for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
    if ((rc = walk_list(s, lists[i])))
      return rc;
  for (uint32_t i = 0; i < st->alter_count; i++) {
    struct alter_command *c = &st->alter_commands[i];
    if ((rc = walk(s, &c->partition)) || (rc = walk(s, &c->where)) || (rc = walk_list(s, &c->assignments)))
      return rc;
  }
  return st->explained ? walk_statement(s, st->explained) : 0;
}

int query_params_substitute(struct arena *a, struct sql_statement *stmt, const struct query_param *params,
                            uint32_t param_count, struct error *err)
{
  struct substitution s = { a, params, param_count, err };
  return walk_statement(&s, stmt);
}
