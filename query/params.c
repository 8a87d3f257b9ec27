/* {name:Type} substitution; see params.h. sql_statement_walk visits every
 * node a statement holds, so placeholders work anywhere an expression may
 * stand (SELECT, WHERE, LIMIT, table functions, SETTINGS values, …). */
#include "query/params.h"

#include <string.h>

struct substitution {
  struct arena *arena;
  const struct query_param *params;
  uint32_t param_count;
  struct error *err;
};

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

/* Rewrites one placeholder node in place: the walker hands out const nodes,
 * but every node lives in the query arena and belongs to this statement. */
static int substitute(struct substitution *s, struct ast *node)
{
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
  *node = *replacement;
  return 0;
}

/* FROM {t:Identifier}: the value names a table, `t` or `db.t`. */
static int substitute_table_name(struct substitution *s, struct ast_table_expr *t)
{
  struct ast *param = t->name_param;
  if (strcmp(param->u.param.type, "Identifier") != 0)
    return error_set(s->err, ERR_BAD_QUERY_PARAMETER,
                     "A parameter in FROM must have the type Identifier, not %s", param->u.param.type);
  int rc = substitute(s, param);
  if (rc)
    return rc;
  char *name = (char *)param->u.identifier.parts[0];
  char *dot = strchr(name, '.');
  if (dot) {
    *dot = '\0';
    t->database = name;
    t->table = dot + 1;
  } else {
    t->table = name;
  }
  t->name_param = NULL;
  return 0;
}

static int visit(const struct ast *node, uint32_t depth, void *ctx)
{
  (void)depth;
  if (node->kind == AST_QUERY_PARAMETER)
    return substitute(ctx, (struct ast *)node);
  if (node->kind == AST_TABLE_EXPR && node->u.table_expr.name_param)
    return substitute_table_name(ctx, &((struct ast *)node)->u.table_expr);
  return 0;
}

int query_params_substitute(struct arena *a, struct sql_statement *stmt, const struct query_param *params,
                            uint32_t param_count, struct error *err)
{
  struct substitution s = { a, params, param_count, err };
  return sql_statement_walk(a, stmt, visit, &s);
}
