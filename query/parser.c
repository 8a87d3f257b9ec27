/* Recursive-descent parser for ClickHouse SQL producing query/ast.h.
 *
 * Invariants:
 *  1. Tokens come from the lazy lexer into a growable array, so the parser
 *     can look ahead and rewind cheaply; INSERT … VALUES/FORMAT stops
 *     before the data is ever lexed.
 *  2. A parse function returns NULL (or false) on a syntax error. Every
 *     failed check records what it wanted at the current token; the error
 *     reports the furthest token any check reached together with
 *     everything expected there, as ClickHouse does.
 *  3. Recursion is bounded: parse_expr, prefix operators and subqueries
 *     count depth and stop at SQL_AST_DEPTH_MAX (TOO_DEEP_AST); operator
 *     chains are loops. Node count stops at SQL_AST_ELEMENTS_MAX
 *     (TOO_BIG_AST). A fatal error makes every later token read as the end
 *     of the query, so the parse unwinds at once.
 *  4. After a successful parse, an iterative walk checks the real tree
 *     depth (left-deep chains like 1+1+…+1), so later recursive passes
 *     (ast_format, the analyzer) never see a tree deeper than the limit. */
#include "query/ast.h"
#include "query/lexer.h"
#include "base/limits.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { EXPECTED_MAX = 48, SYNTAX_ERROR_SHOW_BYTES = 160, SYNTAX_ERROR_TOKEN_BYTES = 64 };

struct parser {
  struct arena *a;
  const char *text;
  uint32_t len;
  struct lexer lx;
  struct token *toks;            /* lexed so far */
  uint32_t ntoks, cap;
  uint32_t i;                    /* current token */
  uint32_t depth;                /* recursion depth (invariant 3) */
  uint32_t elements;             /* nodes created */
  int fatal;                     /* TOO_DEEP_AST / TOO_BIG_AST, 0 otherwise */
  struct token end_token;        /* what every read returns once fatal */
  bool stop;                     /* INSERT data reached: the statement ends here */
  bool in_alter;                 /* lists end before a comma that starts the next ALTER command */
  uint32_t far;                  /* furthest token index a check failed at */
  const char *expected[EXPECTED_MAX];
  uint32_t nexpected;
};

/* ---- tokens ------------------------------------------------------------ */

static const struct token *tok_at(struct parser *p, uint32_t i)
{
  if (p->fatal)
    return &p->end_token;
  while (i >= p->ntoks) {
    if (p->ntoks && p->toks[p->ntoks - 1].kind == TOK_END)
      return &p->toks[p->ntoks - 1];
    if (p->ntoks == p->cap) {
      uint32_t cap = p->cap ? p->cap * 2 : 64;
      p->toks = arena_realloc(p->a, p->toks, sizeof *p->toks * p->cap, sizeof *p->toks * cap);
      p->cap = cap;
    }
    lexer_next(&p->lx, &p->toks[p->ntoks]);
    p->ntoks++;
  }
  return &p->toks[i];
}

static const struct token *peek(struct parser *p) { return tok_at(p, p->i); }
static const struct token *peek_n(struct parser *p, uint32_t k) { return tok_at(p, p->i + k); }
static bool at(struct parser *p, enum token_kind k) { return peek(p)->kind == k; }

static void advance(struct parser *p)
{
  if (peek(p)->kind != TOK_END)
    p->i++;
}

/* End offset of the last consumed token. */
static uint32_t prev_end(struct parser *p)
{
  if (p->i == 0 || p->fatal)
    return p->i == 0 ? 0 : p->len;
  const struct token *t = &p->toks[p->i - 1];
  return t->pos + t->len;
}

static void set_fatal(struct parser *p, int code)
{
  if (!p->fatal)
    p->fatal = code;
}

/* Invariant 2: remember what was wanted at the current token. */
static void expect(struct parser *p, const char *what)
{
  if (p->fatal || p->i < p->far)
    return;
  if (p->i > p->far) {
    p->far = p->i;
    p->nexpected = 0;
  }
  for (uint32_t k = 0; k < p->nexpected; k++)
    if (strcmp(p->expected[k], what) == 0)
      return;
  if (p->nexpected < EXPECTED_MAX)
    p->expected[p->nexpected++] = what;
}

static bool kw_is(struct parser *p, const struct token *t, const char *kw);

static bool peek_kw(struct parser *p, const char *kw) { return kw_is(p, peek(p), kw); }
static bool peek_kw_n(struct parser *p, uint32_t k, const char *kw) { return kw_is(p, peek_n(p, k), kw); }

static bool accept_kw(struct parser *p, const char *kw)
{
  if (peek_kw(p, kw)) {
    advance(p);
    return true;
  }
  expect(p, kw);
  return false;
}

/* Two-word keyword such as GROUP BY; `label` is what errors show. */
static bool accept_kw2(struct parser *p, const char *kw1, const char *kw2, const char *label)
{
  if (peek_kw(p, kw1) && peek_kw_n(p, 1, kw2)) {
    advance(p);
    advance(p);
    return true;
  }
  expect(p, label);
  return false;
}

static bool accept(struct parser *p, enum token_kind k)
{
  if (at(p, k)) {
    advance(p);
    return true;
  }
  expect(p, lexer_kind_name(k));
  return false;
}

static bool enter(struct parser *p)
{
  if (++p->depth > SQL_AST_DEPTH_MAX) {
    set_fatal(p, ERR_TOO_DEEP_AST);
    return false;
  }
  return true;
}

static void leave(struct parser *p) { p->depth--; }

/* ---- nodes ------------------------------------------------------------- */

static struct ast *node(struct parser *p, enum ast_kind kind, uint32_t pos)
{
  if (++p->elements > SQL_AST_ELEMENTS_MAX)
    set_fatal(p, ERR_TOO_BIG_AST);
  return ast_new(p->a, kind, pos, 0);
}

static struct ast *finish(struct parser *p, struct ast *n)
{
  uint32_t end = prev_end(p);
  n->len = end > n->pos ? end - n->pos : 0;
  return n;
}

static void push(struct parser *p, struct ast_list *l, struct ast *item) { ast_list_push(p->a, l, item); }

static struct ast *func(struct parser *p, const char *name, uint32_t pos, bool is_operator)
{
  struct ast *f = node(p, AST_FUNCTION, pos);
  f->u.function.name = name;
  f->u.function.is_operator = is_operator;
  return f;
}

static struct ast *func1(struct parser *p, const char *name, uint32_t pos, struct ast *a1)
{
  struct ast *f = func(p, name, pos, true);
  push(p, &f->u.function.args, a1);
  return finish(p, f);
}

static struct ast *func2(struct parser *p, const char *name, uint32_t pos, struct ast *a1, struct ast *a2)
{
  struct ast *f = func(p, name, pos, true);
  push(p, &f->u.function.args, a1);
  push(p, &f->u.function.args, a2);
  return finish(p, f);
}

static struct ast *string_literal(struct parser *p, uint32_t pos, const char *s, uint32_t n)
{
  struct ast *l = node(p, AST_LITERAL, pos);
  l->u.literal.kind = LIT_STRING;
  l->u.literal.str = s;
  l->u.literal.str_len = n;
  return l;
}

/* ---- words ------------------------------------------------------------- */

static bool kw_is(struct parser *p, const struct token *t, const char *kw)
{
  size_t n = strlen(kw);
  return t->kind == TOK_WORD && t->len == n && strncasecmp(p->text + t->pos, kw, n) == 0;
}

/* Words that never become an implicit alias (`SELECT x FROM` is not x
 * aliased FROM): clause keywords and word operators. */
static const char *const no_implicit_alias[] = {
  "AFTER", "ALIAS", "AND", "ANTI", "ANY", "ARRAY", "AS", "ASC", "ASCENDING", "ASOF", "BETWEEN", "BY",
  "CODEC", "COLLATE", "COMMENT", "CROSS", "DEFAULT", "DELETE", "DESC", "DESCENDING", "DIV", "ELSE",
  "END", "ENGINE", "EPHEMERAL", "EXCEPT", "FETCH", "FILTER", "FINAL", "FORMAT", "FROM", "FULL", "GLOBAL",
  "GRANULARITY", "GROUP", "HAVING", "ILIKE", "IN", "INNER", "INTERSECT", "INTO", "IS", "JOIN", "LEFT",
  "LIKE", "LIMIT", "LOCAL", "MATERIALIZED", "MOD", "NOT", "NULLS", "OFFSET", "ON", "OR", "ORDER",
  "OUTER", "OVER", "PARTITION", "PASTE", "POPULATE", "PREWHERE", "PRIMARY", "QUALIFY", "RECOMPRESS",
  "REGEXP", "RIGHT", "SAMPLE", "SEMI", "SETTINGS", "THEN", "TO", "TTL", "TYPE", "UNION", "USING",
  "VALUES", "WHEN", "WHERE", "WINDOW", "WITH",
};

/* Words that cannot start an expression as a bare identifier (they mark a
 * missing expression instead); followed by '(' they are still functions. */
static const char *const no_bare_identifier[] = {
  "AND", "AS", "BY", "ELSE", "FORMAT", "FROM", "GROUP", "HAVING", "INTO", "JOIN", "LIMIT", "ON", "OR",
  "ORDER", "PREWHERE", "QUALIFY", "SELECT", "SETTINGS", "THEN", "UNION", "USING", "WHEN", "WHERE",
};

static bool word_in(struct parser *p, const struct token *t, const char *const *list, size_t n)
{
  if (t->kind != TOK_WORD)
    return false;
  for (size_t k = 0; k < n; k++)
    if (kw_is(p, t, list[k]))
      return true;
  return false;
}

static bool starts_select(struct parser *p, uint32_t k)
{
  return peek_kw_n(p, k, "SELECT") || peek_kw_n(p, k, "WITH");
}

static char *token_text(struct parser *p, const struct token *t)
{
  return arena_strndup(p->a, p->text + t->pos, t->len);
}

static char *upper_copy(struct parser *p, const struct token *t)
{
  char *s = token_text(p, t);
  for (char *c = s; *c; c++)
    if (*c >= 'a' && *c <= 'z')
      *c = (char)(*c - 32);
  return s;
}

/* identifier: bare word or "quoted"/`quoted` (unescaped). */
static bool parse_name(struct parser *p, const char **out)
{
  const struct token *t = peek(p);
  if (t->kind == TOK_WORD) {
    *out = token_text(p, t);
    advance(p);
    return true;
  }
  if (t->kind == TOK_QUOTED_ID) {
    uint32_t n;
    *out = lexer_unquote(p->a, p->text, t, &n);
    advance(p);
    return true;
  }
  expect(p, "identifier");
  return false;
}

/* [db.]name */
static bool parse_qualified_name(struct parser *p, const char **db, const char **name)
{
  const char *first;
  if (!parse_name(p, &first))
    return false;
  if (at(p, TOK_DOT)) {
    advance(p);
    *db = first;
    return parse_name(p, name);
  }
  expect(p, "Dot");
  *db = NULL;
  *name = first;
  return true;
}

static bool parse_string(struct parser *p, const char **out)
{
  const struct token *t = peek(p);
  if (t->kind != TOK_STRING) {
    expect(p, "string literal");
    return false;
  }
  uint32_t n;
  *out = lexer_unquote(p->a, p->text, t, &n);
  advance(p);
  return true;
}

/* ON CLUSTER name: accepted and ignored (one node). */
static bool skip_on_cluster(struct parser *p)
{
  if (!accept_kw2(p, "ON", "CLUSTER", "ON CLUSTER"))
    return true;
  const char *ignored;
  if (at(p, TOK_STRING))
    return parse_string(p, &ignored);
  return parse_name(p, &ignored);
}

static bool parse_if_exists(struct parser *p)
{
  if (peek_kw(p, "IF") && peek_kw_n(p, 1, "EXISTS")) {
    advance(p);
    advance(p);
    return true;
  }
  expect(p, "IF EXISTS");
  return false;
}

static bool parse_if_not_exists(struct parser *p)
{
  if (peek_kw(p, "IF") && peek_kw_n(p, 1, "NOT") && peek_kw_n(p, 2, "EXISTS")) {
    advance(p);
    advance(p);
    advance(p);
    return true;
  }
  expect(p, "IF NOT EXISTS");
  return false;
}

/* ---- type text --------------------------------------------------------- */

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Type name with balanced arguments, e.g. Array(Nullable(String)),
 * DateTime64(3, 'UTC'), Enum8('a' = 1), Tuple(a UInt8, b String), kept as
 * written with spacing normalized. Iterative, so deep nesting is safe. */
static bool parse_type_text(struct parser *p, const char **out, uint32_t *pos_out)
{
  const struct token *t = peek(p);
  if (t->kind != TOK_WORD && t->kind != TOK_QUOTED_ID) {
    expect(p, "type");
    return false;
  }
  uint32_t first = p->i;
  if (pos_out)
    *pos_out = t->pos;
  advance(p);
  /* multi-word SQL type names */
  while (peek_kw(p, "PRECISION") || peek_kw(p, "UNSIGNED") || peek_kw(p, "SIGNED") || peek_kw(p, "VARYING"))
    advance(p);
  if (at(p, TOK_LPAREN)) {
    uint32_t level = 0;
    do {
      const struct token *c = peek(p);
      if (c->kind == TOK_END || c->kind == TOK_SEMICOLON || c->kind >= TOK_ERROR_STRING) {
        expect(p, "ClosingRoundBracket");
        return false;
      }
      if (c->kind == TOK_LPAREN)
        level++;
      else if (c->kind == TOK_RPAREN)
        level--;
      advance(p);
    } while (level > 0);
  }
  struct buf b;
  buf_init(&b);
  for (uint32_t k = first; k < p->i; k++) {
    const struct token *c = &p->toks[k];
    if (k > first) {
      const struct token *prev = &p->toks[k - 1];
      bool gap = is_blank(p->text[prev->pos + prev->len]);
      if (prev->kind == TOK_COMMA)
        buf_append_char(&b, ' ');
      else if (prev->kind != TOK_LPAREN && c->kind != TOK_RPAREN && c->kind != TOK_COMMA &&
               c->kind != TOK_LPAREN && gap)
        buf_append_char(&b, ' ');
      else if (c->kind == TOK_LPAREN && gap && prev->kind != TOK_WORD && prev->kind != TOK_QUOTED_ID)
        buf_append_char(&b, ' ');
    }
    buf_append(&b, p->text + c->pos, c->len);
  }
  *out = arena_strndup(p->a, b.data, b.len);
  buf_free(&b);
  return true;
}

/* ---- literals ---------------------------------------------------------- */

/* Number token text to a literal; `negative` folds a unary minus in
 * (invariant 2 of ast.h). Underscore separators are dropped. */
static struct ast *number_literal(struct parser *p, const struct token *t, bool negative, uint32_t pos)
{
  char stack_buf[128];
  char *s = t->len < sizeof stack_buf ? stack_buf : arena_alloc(p->a, t->len + 1);
  uint32_t n = 0;
  for (uint32_t k = 0; k < t->len; k++)
    if (p->text[t->pos + k] != '_')
      s[n++] = p->text[t->pos + k];
  s[n] = '\0';
  struct ast *l = node(p, AST_LITERAL, pos);
  bool is_int = true;
  uint64_t v = 0;
  bool overflow = false;
  double dv = 0;
  if (n > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
    for (uint32_t k = 2; k < n; k++) {
      if (v >> 63)
        overflow = true;
      v = v * 2 + (uint64_t)(s[k] - '0');
      dv = dv * 2 + (s[k] - '0');
    }
  } else if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    is_int = strpbrk(s + 2, ".pP") == NULL;
    if (is_int) {
      errno = 0;
      v = strtoull(s, NULL, 16);
      overflow = errno == ERANGE;
    }
    dv = strtod(s, NULL);
  } else {
    is_int = strpbrk(s, ".eE") == NULL;
    if (is_int) {
      errno = 0;
      v = strtoull(s, NULL, 10);
      overflow = errno == ERANGE;
    }
    dv = strtod(s, NULL);
  }
  if (is_int && !overflow) {
    if (!negative || v == 0) {
      l->u.literal.kind = LIT_UINT;
      l->u.literal.u = v;
    } else if (v <= (uint64_t)INT64_MAX + 1) {
      l->u.literal.kind = LIT_INT;
      l->u.literal.i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
      l->u.literal.kind = LIT_FLOAT;
      l->u.literal.f = -(double)v;
    }
  } else {
    l->u.literal.kind = LIT_FLOAT;
    l->u.literal.f = negative ? -dv : dv;
  }
  return l;
}

static bool is_inf_nan_word(struct parser *p, const struct token *t)
{
  return kw_is(p, t, "inf") || kw_is(p, t, "infinity") || kw_is(p, t, "nan");
}

static struct ast *inf_nan_literal(struct parser *p, const struct token *t, bool negative, uint32_t pos)
{
  struct ast *l = node(p, AST_LITERAL, pos);
  l->u.literal.kind = LIT_FLOAT;
  double v = kw_is(p, t, "nan") ? NAN : INFINITY;
  l->u.literal.f = negative ? -v : v;
  return l;
}

/* ---- expressions ------------------------------------------------------- */

enum {
  PREC_OR = 3,
  PREC_AND = 4,
  PREC_NOT = 5,
  PREC_IS_NULL = 6,
  PREC_COMPARE = 7,
  PREC_BETWEEN = 8,
  PREC_CONCAT = 9,
  PREC_ADD = 10,
  PREC_MUL = 11,
};

static struct ast *parse_expr(struct parser *p);
static struct ast *parse_expr_alias(struct parser *p, bool implicit_alias);
static struct ast *parse_binary(struct parser *p, int min_prec);
static struct ast *parse_binary_rest(struct parser *p, struct ast *lhs, int min_prec);
static struct ast *parse_unary(struct parser *p);
static struct ast *parse_select_union(struct parser *p);
static bool parse_union_rest(struct parser *p, struct ast *u);
static struct ast *parse_order_element(struct parser *p);

/* expr [, expr]* with explicit aliases into l; stops before `close`. */
static bool parse_expr_list_until(struct parser *p, struct ast_list *l, enum token_kind close)
{
  if (at(p, close))
    return true;
  expect(p, lexer_kind_name(close));
  for (;;) {
    struct ast *e = parse_expr_alias(p, false);
    if (!e)
      return false;
    push(p, l, e);
    if (!accept(p, TOK_COMMA))
      return true;
  }
}

static bool parse_expr_list(struct parser *p, struct ast_list *l, bool implicit_alias)
{
  for (;;) {
    struct ast *e = parse_expr_alias(p, implicit_alias);
    if (!e)
      return false;
    push(p, l, e);
    if (!accept(p, TOK_COMMA))
      return true;
  }
}

static struct ast *parse_subquery(struct parser *p)
{
  /* at the token after '(' that starts SELECT/WITH */
  uint32_t pos = peek(p)->pos;
  struct ast *q = parse_select_union(p);
  if (!q)
    return NULL;
  struct ast *s = node(p, AST_SUBQUERY, pos);
  s->u.subquery.query = q;
  return finish(p, s);
}

/* One argument of a function call: an expression with an optional alias,
 * or a bare SELECT (exists(SELECT 1), view(SELECT …)). */
static struct ast *parse_argument(struct parser *p)
{
  if (starts_select(p, 0))
    return parse_subquery(p);
  return parse_expr_alias(p, false);
}

static bool parse_arguments(struct parser *p, struct ast_list *args, bool *distinct)
{
  /* after '(' ; consumes ')' */
  const struct token *after = peek_n(p, 1);
  if (distinct && after->kind != TOK_RPAREN && after->kind != TOK_COMMA) {
    /* f(DISTINCT x) / f(ALL x), but f(all) is a column */
    if (accept_kw(p, "DISTINCT"))
      *distinct = true;
    else
      accept_kw(p, "ALL");
  }
  if (!at(p, TOK_RPAREN)) {
    expect(p, "ClosingRoundBracket");
    for (;;) {
      struct ast *e = parse_argument(p);
      if (!e)
        return false;
      push(p, args, e);
      if (!accept(p, TOK_COMMA))
        break;
    }
  }
  return accept(p, TOK_RPAREN);
}

static struct ast *parse_window(struct parser *p)
{
  /* after OVER */
  uint32_t pos = peek(p)->pos;
  if (!accept(p, TOK_LPAREN))
    return NULL;
  struct ast *w = node(p, AST_SELECT, pos);
  if (accept_kw2(p, "PARTITION", "BY", "PARTITION BY")) {
    if (!parse_expr_list(p, &w->u.select.group_by, false))
      return NULL;
  }
  if (accept_kw2(p, "ORDER", "BY", "ORDER BY")) {
    for (;;) {
      struct ast *o = parse_order_element(p);
      if (!o)
        return NULL;
      push(p, &w->u.select.order_by, o);
      if (!accept(p, TOK_COMMA))
        break;
    }
  }
  if (!accept(p, TOK_RPAREN))
    return NULL;
  return finish(p, w);
}

static bool name_eq_nocase(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

/* name '(' … ')' [ '(' … ')' ] [FILTER (WHERE c)] [OVER (…)]; at '('. */
static struct ast *parse_function_call(struct parser *p, const char *name, uint32_t pos)
{
  struct ast *f = func(p, name, pos, false);
  advance(p); /* ( */
  bool distinct = false;
  if (name_eq_nocase(name, "count") && at(p, TOK_STAR) && peek_n(p, 1)->kind == TOK_RPAREN) {
    advance(p);
    advance(p);
  } else if (!parse_arguments(p, &f->u.function.args, &distinct)) {
    return NULL;
  }
  if (at(p, TOK_LPAREN)) {
    /* parametric aggregate: the first list was the parameters */
    if (distinct) {
      expect(p, "identifier");
      return NULL;
    }
    advance(p);
    f->u.function.params = f->u.function.args;
    f->u.function.has_params = true;
    f->u.function.args = (struct ast_list){ NULL, 0 };
    if (!parse_arguments(p, &f->u.function.args, &distinct))
      return NULL;
  }
  expect(p, "OpeningRoundBracket");
  if (distinct)
    f->u.function.name = arena_printf(p->a, "%sDistinct", name);
  if (peek_kw(p, "FILTER") && peek_n(p, 1)->kind == TOK_LPAREN && peek_kw_n(p, 2, "WHERE")) {
    advance(p);
    advance(p);
    advance(p);
    struct ast *cond = parse_expr(p);
    if (!cond || !accept(p, TOK_RPAREN))
      return NULL;
    f->u.function.name = arena_printf(p->a, "%sIf", f->u.function.name);
    push(p, &f->u.function.args, cond);
  }
  if (accept_kw(p, "OVER")) {
    f->u.function.over = parse_window(p);
    if (!f->u.function.over)
      return NULL;
  }
  return finish(p, f);
}

/* a, a.b, db.t.c, t.*, or name(…) */
static struct ast *parse_identifier_or_call(struct parser *p)
{
  uint32_t pos = peek(p)->pos;
  const char *first;
  if (!parse_name(p, &first))
    return NULL;
  if (at(p, TOK_LPAREN))
    return parse_function_call(p, first, pos);
  const char *parts_buf[8];
  const char **parts = parts_buf;
  uint32_t count = 0, cap = 8;
  parts[count++] = first;
  while (at(p, TOK_DOT)) {
    const struct token *next = peek_n(p, 1);
    if (next->kind == TOK_STAR) {
      advance(p);
      advance(p);
      struct ast *star = node(p, AST_ASTERISK, pos);
      struct buf b;
      buf_init(&b);
      for (uint32_t k = 0; k < count; k++) {
        if (k)
          buf_append_char(&b, '.');
        buf_append_cstr(&b, parts[k]);
      }
      star->u.asterisk.qualifier = arena_strndup(p->a, b.data, b.len);
      buf_free(&b);
      return finish(p, star);
    }
    if (next->kind != TOK_WORD && next->kind != TOK_QUOTED_ID)
      break;
    advance(p);
    if (count == cap) {
      const char **grown = arena_alloc(p->a, sizeof *grown * cap * 2);
      memcpy(grown, parts, sizeof *grown * count);
      parts = grown;
      cap *= 2;
    }
    parse_name(p, &parts[count++]);
  }
  expect(p, "Dot");
  struct ast *id = node(p, AST_IDENTIFIER, pos);
  id->u.identifier.parts = arena_alloc(p->a, sizeof *parts * count);
  memcpy(id->u.identifier.parts, parts, sizeof *parts * count);
  id->u.identifier.part_count = count;
  return finish(p, id);
}

static struct ast *parse_asterisk(struct parser *p)
{
  struct ast *star = node(p, AST_ASTERISK, peek(p)->pos);
  advance(p);
  return finish(p, star);
}

/* * EXCEPT (a, b) / * EXCEPT a; not `EXCEPT SELECT` (a set operation). */
static bool parse_except(struct parser *p, struct ast *star)
{
  if (!peek_kw(p, "EXCEPT") || starts_select(p, 1) ||
      (peek_n(p, 1)->kind == TOK_LPAREN && starts_select(p, 2))) {
    expect(p, "EXCEPT");
    return true;
  }
  advance(p);
  bool paren = accept(p, TOK_LPAREN);
  for (;;) {
    struct ast *id = parse_identifier_or_call(p);
    if (!id)
      return false;
    push(p, &star->u.asterisk.except, id);
    if (!paren || !accept(p, TOK_COMMA))
      break;
  }
  if (paren && !accept(p, TOK_RPAREN))
    return false;
  finish(p, star);
  return true;
}

/* ( … ): empty tuple, subquery, parenthesized expression, or tuple. */
static struct ast *parse_paren(struct parser *p)
{
  uint32_t pos = peek(p)->pos;
  advance(p);
  if (at(p, TOK_RPAREN)) {
    advance(p);
    return finish(p, func(p, "tuple", pos, true));
  }
  if (starts_select(p, 0)) {
    struct ast *q = parse_select_union(p);
    if (!q || !accept(p, TOK_RPAREN))
      return NULL;
    struct ast *s = node(p, AST_SUBQUERY, pos);
    s->u.subquery.query = q;
    return finish(p, s);
  }
  struct ast *first = parse_expr_alias(p, false);
  if (!first)
    return NULL;
  if (first->kind == AST_SUBQUERY && !first->alias && peek_kw(p, "UNION")) {
    /* ((SELECT 1) UNION ALL SELECT 2): the union continues inside */
    struct ast *u = node(p, AST_SELECT_UNION, first->pos);
    struct ast *inner = first->u.subquery.query;
    if (inner->u.select_union.selects.count == 1)
      push(p, &u->u.select_union.selects, inner->u.select_union.selects.items[0]);
    else
      push(p, &u->u.select_union.selects, inner);
    if (!parse_union_rest(p, u) || !accept(p, TOK_RPAREN))
      return NULL;
    struct ast *s = node(p, AST_SUBQUERY, pos);
    s->u.subquery.query = finish(p, u);
    return finish(p, s);
  }
  if (!at(p, TOK_COMMA)) {
    expect(p, "Comma");
    if (!accept(p, TOK_RPAREN))
      return NULL;
    return first;
  }
  struct ast *t = func(p, "tuple", pos, true);
  push(p, &t->u.function.args, first);
  while (accept(p, TOK_COMMA)) {
    if (at(p, TOK_RPAREN))
      break; /* (1,) */
    struct ast *e = parse_expr_alias(p, false);
    if (!e)
      return NULL;
    push(p, &t->u.function.args, e);
  }
  if (!accept(p, TOK_RPAREN))
    return NULL;
  return finish(p, t);
}

static const struct {
  const char *unit;
  const char *fn;
} interval_units[] = {
  { "NANOSECOND", "toIntervalNanosecond" }, { "MICROSECOND", "toIntervalMicrosecond" },
  { "MILLISECOND", "toIntervalMillisecond" }, { "SECOND", "toIntervalSecond" },
  { "MINUTE", "toIntervalMinute" }, { "HOUR", "toIntervalHour" }, { "DAY", "toIntervalDay" },
  { "WEEK", "toIntervalWeek" }, { "MONTH", "toIntervalMonth" }, { "QUARTER", "toIntervalQuarter" },
  { "YEAR", "toIntervalYear" },
};

/* DAY, days, Day → toIntervalDay; NULL when not a unit. */
static const char *interval_function(const char *s, size_t n)
{
  for (size_t k = 0; k < sizeof interval_units / sizeof interval_units[0]; k++) {
    size_t m = strlen(interval_units[k].unit);
    if ((n == m || (n == m + 1 && (s[m] == 's' || s[m] == 'S'))) && strncasecmp(s, interval_units[k].unit, m) == 0)
      return interval_units[k].fn;
  }
  return NULL;
}

static bool can_start_interval_operand(struct parser *p, const struct token *t)
{
  switch (t->kind) {
  case TOK_NUMBER:
  case TOK_STRING:
  case TOK_LPAREN:
  case TOK_QUOTED_ID:
  case TOK_MINUS:
  case TOK_LBRACE:
    return true;
  case TOK_WORD:
    return !word_in(p, t, no_implicit_alias, sizeof no_implicit_alias / sizeof no_implicit_alias[0]);
  default:
    return false;
  }
}

/* INTERVAL expr UNIT | INTERVAL 'n unit'; at INTERVAL. */
static struct ast *parse_interval(struct parser *p)
{
  uint32_t pos = peek(p)->pos;
  advance(p);
  const struct token *t = peek(p);
  if (t->kind == TOK_STRING && !(peek_n(p, 1)->kind == TOK_WORD &&
                                 interval_function(p->text + peek_n(p, 1)->pos, peek_n(p, 1)->len))) {
    /* INTERVAL '1 day' */
    uint32_t n;
    const char *s = lexer_unquote(p->a, p->text, t, &n);
    const char *c = s;
    while (*c == ' ' || *c == '\t')
      c++;
    const char *num = c;
    if (*c == '-' || *c == '+')
      c++;
    const char *digits = c;
    while (*c >= '0' && *c <= '9')
      c++;
    const char *num_end = c;
    while (*c == ' ' || *c == '\t')
      c++;
    const char *unit = c;
    while ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))
      c++;
    const char *unit_end = c;
    while (*c == ' ' || *c == '\t')
      c++;
    const char *fn = interval_function(unit, (size_t)(unit_end - unit));
    if (num_end == digits || !fn || *c || c != s + n) {
      expect(p, "interval unit");
      return NULL;
    }
    advance(p);
    errno = 0;
    long long v = strtoll(num, NULL, 10);
    if (errno == ERANGE) {
      expect(p, "interval unit");
      return NULL;
    }
    struct ast *lit = node(p, AST_LITERAL, t->pos);
    if (v < 0) {
      lit->u.literal.kind = LIT_INT;
      lit->u.literal.i = v;
    } else {
      lit->u.literal.kind = LIT_UINT;
      lit->u.literal.u = (uint64_t)v;
    }
    finish(p, lit);
    return func1(p, fn, pos, lit);
  }
  struct ast *e = parse_binary(p, PREC_ADD);
  if (!e)
    return NULL;
  const struct token *u = peek(p);
  const char *fn = u->kind == TOK_WORD ? interval_function(p->text + u->pos, u->len) : NULL;
  if (!fn) {
    expect(p, "interval unit");
    return NULL;
  }
  advance(p);
  return func1(p, fn, pos, e);
}

static struct ast *parse_case(struct parser *p)
{
  uint32_t pos = peek(p)->pos;
  advance(p);
  struct ast *subject = NULL;
  if (!peek_kw(p, "WHEN")) {
    expect(p, "WHEN");
    subject = parse_expr(p);
    if (!subject)
      return NULL;
  }
  struct ast *f = func(p, subject ? "caseWithExpression" : "multiIf", pos, true);
  if (subject)
    push(p, &f->u.function.args, subject);
  do {
    if (!accept_kw(p, "WHEN"))
      return NULL;
    struct ast *cond = parse_expr(p);
    if (!cond || !accept_kw(p, "THEN"))
      return NULL;
    struct ast *then = parse_expr(p);
    if (!then)
      return NULL;
    push(p, &f->u.function.args, cond);
    push(p, &f->u.function.args, then);
  } while (peek_kw(p, "WHEN"));
  expect(p, "WHEN");
  struct ast *otherwise;
  if (accept_kw(p, "ELSE")) {
    otherwise = parse_expr(p);
    if (!otherwise)
      return NULL;
  } else {
    otherwise = node(p, AST_LITERAL, peek(p)->pos);
    otherwise->u.literal.kind = LIT_NULL;
  }
  push(p, &f->u.function.args, otherwise);
  if (!accept_kw(p, "END"))
    return NULL;
  return finish(p, f);
}

/* Rest of an ordinary call whose first argument is already parsed. */
static struct ast *finish_call(struct parser *p, const char *name, uint32_t pos, struct ast *first)
{
  struct ast *f = func(p, name, pos, false);
  push(p, &f->u.function.args, first);
  while (accept(p, TOK_COMMA)) {
    struct ast *e = parse_argument(p);
    if (!e)
      return NULL;
    push(p, &f->u.function.args, e);
  }
  if (!accept(p, TOK_RPAREN))
    return NULL;
  return finish(p, f);
}

static struct ast *type_literal(struct parser *p, uint32_t pos, const char *type)
{
  struct ast *l = string_literal(p, pos, type, (uint32_t)strlen(type));
  return finish(p, l);
}

/* CAST(x AS T) → CAST(x, 'T'); CAST(x, 'T') stays an ordinary call. At CAST. */
static struct ast *parse_cast(struct parser *p, const char *name)
{
  uint32_t pos = peek(p)->pos;
  advance(p);
  advance(p);
  struct ast *e = parse_expr(p);
  if (!e)
    return NULL;
  if (accept_kw(p, "AS")) {
    const char *type;
    uint32_t type_pos;
    if (!parse_type_text(p, &type, &type_pos) || !accept(p, TOK_RPAREN))
      return NULL;
    return func2(p, "CAST", pos, e, type_literal(p, type_pos, type));
  }
  return finish_call(p, name, pos, e);
}

static const struct {
  const char *unit;
  const char *fn;
} extract_units[] = {
  { "SECOND", "toSecond" }, { "MINUTE", "toMinute" }, { "HOUR", "toHour" }, { "DAY", "toDayOfMonth" },
  { "WEEK", "toISOWeek" }, { "MONTH", "toMonth" }, { "QUARTER", "toQuarter" }, { "YEAR", "toYear" },
};

/* EXTRACT(unit FROM e) or extract(haystack, pattern). At EXTRACT. */
static struct ast *parse_extract(struct parser *p, const char *name)
{
  uint32_t pos = peek(p)->pos;
  if (peek_n(p, 2)->kind == TOK_WORD && peek_kw_n(p, 3, "FROM")) {
    for (size_t k = 0; k < sizeof extract_units / sizeof extract_units[0]; k++) {
      if (kw_is(p, peek_n(p, 2), extract_units[k].unit)) {
        advance(p);
        advance(p);
        advance(p);
        advance(p);
        struct ast *e = parse_expr(p);
        if (!e || !accept(p, TOK_RPAREN))
          return NULL;
        return func1(p, extract_units[k].fn, pos, e);
      }
    }
  }
  advance(p);
  return parse_function_call(p, name, pos);
}

/* SUBSTRING(s FROM a [FOR b]) → substring(s, a[, b]). At SUBSTRING. */
static struct ast *parse_substring(struct parser *p, const char *name)
{
  uint32_t pos = peek(p)->pos;
  advance(p);
  advance(p);
  struct ast *s = parse_expr(p);
  if (!s)
    return NULL;
  if (accept_kw(p, "FROM")) {
    struct ast *from = parse_expr(p);
    if (!from)
      return NULL;
    struct ast *f = func(p, "substring", pos, false);
    push(p, &f->u.function.args, s);
    push(p, &f->u.function.args, from);
    if (accept_kw(p, "FOR")) {
      struct ast *len = parse_expr(p);
      if (!len)
        return NULL;
      push(p, &f->u.function.args, len);
    }
    if (!accept(p, TOK_RPAREN))
      return NULL;
    return finish(p, f);
  }
  return finish_call(p, name, pos, s);
}

/* TRIM([BOTH|LEADING|TRAILING] [chars] FROM s) → trimBoth/trimLeft/trimRight(s[, chars]). */
static struct ast *parse_trim(struct parser *p, const char *name)
{
  uint32_t pos = peek(p)->pos;
  advance(p);
  advance(p);
  const char *fn = NULL;
  if (accept_kw(p, "BOTH"))
    fn = "trimBoth";
  else if (accept_kw(p, "LEADING"))
    fn = "trimLeft";
  else if (accept_kw(p, "TRAILING"))
    fn = "trimRight";
  struct ast *chars = NULL;
  if (!(fn && peek_kw(p, "FROM"))) {
    chars = parse_expr(p);
    if (!chars)
      return NULL;
  }
  if (!fn && !peek_kw(p, "FROM"))
    return finish_call(p, name, pos, chars);
  if (!accept_kw(p, "FROM"))
    return NULL;
  struct ast *s = parse_expr(p);
  if (!s || !accept(p, TOK_RPAREN))
    return NULL;
  struct ast *f = func(p, fn ? fn : "trimBoth", pos, false);
  push(p, &f->u.function.args, s);
  if (chars)
    push(p, &f->u.function.args, chars);
  return finish(p, f);
}

/* POSITION(needle IN haystack) → position(haystack, needle). */
static struct ast *parse_position(struct parser *p, const char *name)
{
  uint32_t pos = peek(p)->pos;
  advance(p);
  advance(p);
  if (!enter(p))
    return NULL;
  struct ast *first = parse_binary(p, PREC_CONCAT);
  leave(p);
  if (!first)
    return NULL;
  if (accept_kw(p, "IN")) {
    struct ast *hay = parse_expr(p);
    if (!hay || !accept(p, TOK_RPAREN))
      return NULL;
    struct ast *f = func(p, "position", pos, false);
    push(p, &f->u.function.args, hay);
    push(p, &f->u.function.args, first);
    return finish(p, f);
  }
  first = parse_binary_rest(p, first, PREC_OR);
  if (!first)
    return NULL;
  return finish_call(p, name, pos, first);
}

/* {name:Type} */
static struct ast *parse_query_parameter(struct parser *p)
{
  uint32_t pos = peek(p)->pos;
  advance(p);
  const char *name, *type;
  if (!parse_name(p, &name) || !accept(p, TOK_COLON) || !parse_type_text(p, &type, NULL) ||
      !accept(p, TOK_RBRACE))
    return NULL;
  struct ast *q = node(p, AST_QUERY_PARAMETER, pos);
  q->u.param.name = name;
  q->u.param.type = type;
  return finish(p, q);
}

static struct ast *parse_primary(struct parser *p)
{
  const struct token *t = peek(p);
  uint32_t pos = t->pos;
  switch (t->kind) {
  case TOK_NUMBER: {
    struct ast *l = number_literal(p, t, false, pos);
    advance(p);
    return finish(p, l);
  }
  case TOK_STRING: {
    uint32_t n;
    const char *s = lexer_unquote(p->a, p->text, t, &n);
    advance(p);
    return finish(p, string_literal(p, pos, s, n));
  }
  case TOK_LPAREN:
    return parse_paren(p);
  case TOK_LBRACKET: {
    advance(p);
    struct ast *arr = func(p, "array", pos, true);
    if (!parse_expr_list_until(p, &arr->u.function.args, TOK_RBRACKET) || !accept(p, TOK_RBRACKET))
      return NULL;
    return finish(p, arr);
  }
  case TOK_LBRACE:
    return parse_query_parameter(p);
  case TOK_STAR: {
    struct ast *star = parse_asterisk(p);
    return parse_except(p, star) ? star : NULL;
  }
  case TOK_QUOTED_ID: {
    struct ast *id = parse_identifier_or_call(p);
    if (id && id->kind == AST_ASTERISK && !parse_except(p, id))
      return NULL;
    return id;
  }
  case TOK_WORD:
    break;
  default:
    expect(p, "expression");
    return NULL;
  }
  bool call = peek_n(p, 1)->kind == TOK_LPAREN;
  const struct token *next = peek_n(p, 1);
  if (!call) {
    if (kw_is(p, t, "NULL")) {
      advance(p);
      struct ast *l = node(p, AST_LITERAL, pos);
      l->u.literal.kind = LIT_NULL;
      return finish(p, l);
    }
    if (kw_is(p, t, "TRUE") || kw_is(p, t, "FALSE")) {
      struct ast *l = node(p, AST_LITERAL, pos);
      l->u.literal.kind = LIT_BOOL;
      l->u.literal.u = kw_is(p, t, "TRUE");
      advance(p);
      return finish(p, l);
    }
    if (is_inf_nan_word(p, t)) {
      struct ast *l = inf_nan_literal(p, t, false, pos);
      advance(p);
      return finish(p, l);
    }
    if (kw_is(p, t, "CASE"))
      return parse_case(p);
    if ((kw_is(p, t, "DATE") || kw_is(p, t, "TIMESTAMP")) && next->kind == TOK_STRING) {
      const char *fn = kw_is(p, t, "DATE") ? "toDate" : "toDateTime";
      advance(p);
      uint32_t n;
      const char *s = lexer_unquote(p->a, p->text, next, &n);
      struct ast *lit = string_literal(p, next->pos, s, n);
      advance(p);
      finish(p, lit);
      return func1(p, fn, pos, lit);
    }
    if (kw_is(p, t, "INTERVAL") && can_start_interval_operand(p, next))
      return parse_interval(p);
    if (word_in(p, t, no_bare_identifier, sizeof no_bare_identifier / sizeof no_bare_identifier[0])) {
      expect(p, "expression");
      return NULL;
    }
  } else {
    const char *name = token_text(p, t);
    if (kw_is(p, t, "CAST"))
      return parse_cast(p, name);
    if (kw_is(p, t, "EXTRACT"))
      return parse_extract(p, name);
    if (kw_is(p, t, "SUBSTRING"))
      return parse_substring(p, name);
    if (kw_is(p, t, "TRIM"))
      return parse_trim(p, name);
    if (kw_is(p, t, "POSITION"))
      return parse_position(p, name);
  }
  struct ast *id = parse_identifier_or_call(p);
  if (id && id->kind == AST_ASTERISK && !parse_except(p, id))
    return NULL;
  return id;
}

/* a[i], t.1, t.name, x::T, repeatedly. */
static struct ast *parse_postfix(struct parser *p, struct ast *n)
{
  while (n) {
    const struct token *t = peek(p);
    if (t->kind == TOK_LBRACKET) {
      advance(p);
      struct ast *idx = parse_expr(p);
      if (!idx || !accept(p, TOK_RBRACKET))
        return NULL;
      n = func2(p, "arrayElement", n->pos, n, idx);
    } else if (t->kind == TOK_DOT && peek_n(p, 1)->kind == TOK_NUMBER) {
      advance(p);
      const struct token *num = peek(p);
      struct ast *idx = number_literal(p, num, false, num->pos);
      advance(p);
      finish(p, idx);
      n = func2(p, "tupleElement", n->pos, n, idx);
    } else if (t->kind == TOK_DOT && (peek_n(p, 1)->kind == TOK_WORD || peek_n(p, 1)->kind == TOK_QUOTED_ID)) {
      advance(p);
      uint32_t name_pos = peek(p)->pos;
      const char *name;
      parse_name(p, &name);
      struct ast *lit = string_literal(p, name_pos, name, (uint32_t)strlen(name));
      finish(p, lit);
      n = func2(p, "tupleElement", n->pos, n, lit);
    } else if (t->kind == TOK_DOUBLE_COLON) {
      advance(p);
      const char *type;
      uint32_t type_pos;
      if (!parse_type_text(p, &type, &type_pos))
        return NULL;
      n = func2(p, "CAST", n->pos, n, type_literal(p, type_pos, type));
    } else {
      expect(p, "OpeningSquareBracket");
      expect(p, "DoubleColon");
      break;
    }
  }
  return n;
}

/* NOT e, -e (with -<number> folded into the literal), then postfix. */
static struct ast *parse_unary(struct parser *p)
{
  const struct token *t = peek(p);
  uint32_t pos = t->pos;
  if (kw_is(p, t, "NOT")) {
    advance(p);
    if (!enter(p))
      return NULL;
    struct ast *e = parse_binary(p, PREC_NOT);
    leave(p);
    return e ? func1(p, "not", pos, e) : NULL;
  }
  if (t->kind == TOK_MINUS) {
    const struct token *next = peek_n(p, 1);
    if (next->kind == TOK_NUMBER ||
        (is_inf_nan_word(p, next) && peek_n(p, 2)->kind != TOK_LPAREN)) {
      struct ast *l = next->kind == TOK_NUMBER ? number_literal(p, next, true, pos)
                                               : inf_nan_literal(p, next, true, pos);
      advance(p);
      advance(p);
      return parse_postfix(p, finish(p, l));
    }
    advance(p);
    if (!enter(p))
      return NULL;
    struct ast *e = parse_unary(p);
    leave(p);
    return e ? func1(p, "negate", pos, e) : NULL;
  }
  return parse_postfix(p, parse_primary(p));
}

enum binop_kind { BINOP_PLAIN, BINOP_MERGE, BINOP_IS_NULL, BINOP_BETWEEN };

struct binop {
  const char *name;
  int prec;
  enum binop_kind kind;
  uint32_t ntokens;
  bool negated;                  /* NOT BETWEEN */
};

static bool peek_binop(struct parser *p, struct binop *op)
{
  const struct token *t = peek(p);
  *op = (struct binop){ NULL, 0, BINOP_PLAIN, 1, false };
  switch (t->kind) {
  case TOK_EQ:
  case TOK_EQEQ: op->name = "equals"; op->prec = PREC_COMPARE; return true;
  case TOK_NE: op->name = "notEquals"; op->prec = PREC_COMPARE; return true;
  case TOK_LT: op->name = "less"; op->prec = PREC_COMPARE; return true;
  case TOK_GT: op->name = "greater"; op->prec = PREC_COMPARE; return true;
  case TOK_LE: op->name = "lessOrEquals"; op->prec = PREC_COMPARE; return true;
  case TOK_GE: op->name = "greaterOrEquals"; op->prec = PREC_COMPARE; return true;
  case TOK_SPACESHIP: op->name = "isNotDistinctFrom"; op->prec = PREC_COMPARE; return true;
  case TOK_CONCAT: op->name = "concat"; op->prec = PREC_CONCAT; op->kind = BINOP_MERGE; return true;
  case TOK_PLUS: op->name = "plus"; op->prec = PREC_ADD; return true;
  case TOK_MINUS: op->name = "minus"; op->prec = PREC_ADD; return true;
  case TOK_STAR: op->name = "multiply"; op->prec = PREC_MUL; return true;
  case TOK_SLASH: op->name = "divide"; op->prec = PREC_MUL; return true;
  case TOK_PERCENT: op->name = "modulo"; op->prec = PREC_MUL; return true;
  case TOK_WORD: break;
  default: goto none;
  }
  if (kw_is(p, t, "OR")) {
    op->name = "or"; op->prec = PREC_OR; op->kind = BINOP_MERGE;
  } else if (kw_is(p, t, "AND")) {
    op->name = "and"; op->prec = PREC_AND; op->kind = BINOP_MERGE;
  } else if (kw_is(p, t, "LIKE")) {
    op->name = "like"; op->prec = PREC_COMPARE;
  } else if (kw_is(p, t, "ILIKE")) {
    op->name = "ilike"; op->prec = PREC_COMPARE;
  } else if (kw_is(p, t, "REGEXP")) {
    op->name = "match"; op->prec = PREC_COMPARE;
  } else if (kw_is(p, t, "IN")) {
    op->name = "in"; op->prec = PREC_COMPARE;
  } else if (kw_is(p, t, "BETWEEN")) {
    op->prec = PREC_BETWEEN; op->kind = BINOP_BETWEEN;
  } else if (kw_is(p, t, "DIV")) {
    op->name = "intDiv"; op->prec = PREC_MUL;
  } else if (kw_is(p, t, "MOD")) {
    op->name = "modulo"; op->prec = PREC_MUL;
  } else if (kw_is(p, t, "NOT")) {
    const struct token *n1 = peek_n(p, 1);
    op->ntokens = 2;
    op->prec = PREC_COMPARE;
    if (kw_is(p, n1, "LIKE"))
      op->name = "notLike";
    else if (kw_is(p, n1, "ILIKE"))
      op->name = "notILike";
    else if (kw_is(p, n1, "IN"))
      op->name = "notIn";
    else if (kw_is(p, n1, "BETWEEN")) {
      op->prec = PREC_BETWEEN; op->kind = BINOP_BETWEEN; op->negated = true;
    } else
      goto none;
  } else if (kw_is(p, t, "GLOBAL")) {
    op->prec = PREC_COMPARE;
    if (kw_is(p, peek_n(p, 1), "IN")) {
      op->name = "globalIn"; op->ntokens = 2;
    } else if (kw_is(p, peek_n(p, 1), "NOT") && kw_is(p, peek_n(p, 2), "IN")) {
      op->name = "globalNotIn"; op->ntokens = 3;
    } else {
      goto none;
    }
  } else if (kw_is(p, t, "IS")) {
    const struct token *n1 = peek_n(p, 1), *n2 = peek_n(p, 2);
    if (kw_is(p, n1, "NULL")) {
      op->name = "isNull"; op->prec = PREC_IS_NULL; op->kind = BINOP_IS_NULL; op->ntokens = 2;
    } else if (kw_is(p, n1, "NOT") && kw_is(p, n2, "NULL")) {
      op->name = "isNotNull"; op->prec = PREC_IS_NULL; op->kind = BINOP_IS_NULL; op->ntokens = 3;
    } else if (kw_is(p, n1, "NOT") && kw_is(p, n2, "DISTINCT") && kw_is(p, peek_n(p, 3), "FROM")) {
      op->name = "isNotDistinctFrom"; op->prec = PREC_COMPARE; op->ntokens = 4;
    } else if (kw_is(p, n1, "DISTINCT") && kw_is(p, n2, "FROM")) {
      op->name = "isDistinctFrom"; op->prec = PREC_COMPARE; op->ntokens = 3;
    } else {
      goto none;
    }
  } else {
    goto none;
  }
  return true;
none:
  expect(p, "OR");
  expect(p, "AND");
  expect(p, "IS");
  expect(p, "BETWEEN");
  expect(p, "LIKE");
  expect(p, "IN");
  expect(p, "token");
  return false;
}

struct count_ctx {
  uint32_t count, cap;
};

static int count_nodes(const struct ast *n, uint32_t depth, void *arg)
{
  (void)n;
  (void)depth;
  struct count_ctx *c = arg;
  return ++c->count > c->cap;
}

/* BETWEEN shares its operand between two comparisons; charge the second
 * use to the element budget as if it were a copy (invariant 3), so shared
 * subtrees cannot grow traversals exponentially. */
static void charge_shared(struct parser *p, const struct ast *shared)
{
  uint32_t left = p->elements < SQL_AST_ELEMENTS_MAX ? SQL_AST_ELEMENTS_MAX - p->elements : 0;
  struct count_ctx c = { 0, left };
  ast_walk(p->a, shared, count_nodes, &c);
  p->elements += c.count;
  if (p->elements > SQL_AST_ELEMENTS_MAX)
    set_fatal(p, ERR_TOO_BIG_AST);
}

static struct ast *parse_binary_rest(struct parser *p, struct ast *lhs, int min_prec)
{
  struct ast *merged = NULL;   /* the n-ary node this loop may extend */
  struct binop op;
  while (lhs && peek_binop(p, &op) && op.prec >= min_prec) {
    for (uint32_t k = 0; k < op.ntokens; k++)
      advance(p);
    if (op.kind == BINOP_IS_NULL) {
      lhs = func1(p, op.name, lhs->pos, lhs);
      merged = NULL;
    } else if (op.kind == BINOP_BETWEEN) {
      struct ast *lo = parse_binary(p, PREC_CONCAT);
      if (!lo || !accept_kw(p, "AND"))
        return NULL;
      struct ast *hi = parse_binary(p, PREC_CONCAT);
      if (!hi)
        return NULL;
      charge_shared(p, lhs);
      struct ast *a = func2(p, op.negated ? "less" : "greaterOrEquals", lhs->pos, lhs, lo);
      struct ast *b = func2(p, op.negated ? "greater" : "lessOrEquals", lhs->pos, lhs, hi);
      lhs = func2(p, op.negated ? "or" : "and", lhs->pos, a, b);
      merged = NULL;
    } else {
      struct ast *rhs = parse_binary(p, op.prec + 1);
      if (!rhs)
        return NULL;
      if (op.kind == BINOP_MERGE && merged == lhs && strcmp(lhs->u.function.name, op.name) == 0) {
        push(p, &lhs->u.function.args, rhs);
        finish(p, lhs);
      } else {
        lhs = func2(p, op.name, lhs->pos, lhs, rhs);
        merged = op.kind == BINOP_MERGE ? lhs : NULL;
      }
    }
  }
  return lhs;
}

static struct ast *parse_binary(struct parser *p, int min_prec)
{
  return parse_binary_rest(p, parse_unary(p), min_prec);
}

static struct ast *parse_ternary(struct parser *p)
{
  struct ast *c = parse_binary(p, PREC_OR);
  if (!c)
    return NULL;
  if (!accept(p, TOK_QUESTION))
    return c;
  struct ast *a = parse_expr(p);
  if (!a || !accept(p, TOK_COLON))
    return NULL;
  struct ast *b = parse_expr(p);
  if (!b)
    return NULL;
  struct ast *f = func(p, "if", c->pos, true);
  push(p, &f->u.function.args, c);
  push(p, &f->u.function.args, a);
  push(p, &f->u.function.args, b);
  return finish(p, f);
}

static bool is_simple_identifier(const struct ast *n)
{
  return n->kind == AST_IDENTIFIER && n->u.identifier.part_count == 1 && !n->alias;
}

/* Lambda parameters: x, or a parenthesized tuple of plain identifiers. */
static struct ast *lambda_params(struct parser *p, struct ast *n)
{
  if (is_simple_identifier(n)) {
    struct ast *t = func(p, "tuple", n->pos, false);
    push(p, &t->u.function.args, n);
    t->len = n->len;
    return t;
  }
  if (n->kind == AST_FUNCTION && n->u.function.is_operator && strcmp(n->u.function.name, "tuple") == 0 &&
      n->u.function.args.count > 0) {
    for (uint32_t k = 0; k < n->u.function.args.count; k++)
      if (!is_simple_identifier(n->u.function.args.items[k]))
        return NULL;
    n->u.function.is_operator = false;
    return n;
  }
  return NULL;
}

static struct ast *parse_expr(struct parser *p)
{
  if (!enter(p))
    return NULL;
  struct ast *n = parse_ternary(p);
  if (n && at(p, TOK_ARROW)) {
    struct ast *params = lambda_params(p, n);
    if (params) {
      advance(p);
      struct ast *body = parse_expr(p);
      n = body ? func2(p, "lambda", n->pos, params, body) : NULL;
      if (n)
        n->u.function.is_operator = false;
    }
  } else if (n) {
    expect(p, "Arrow");
    expect(p, "QuestionMark");
  }
  leave(p);
  return n;
}

static bool parse_alias(struct parser *p, bool implicit, const char **out)
{
  *out = NULL;
  if (accept_kw(p, "AS"))
    return parse_name(p, out);
  if (!implicit)
    return true;
  const struct token *t = peek(p);
  if (t->kind == TOK_QUOTED_ID ||
      (t->kind == TOK_WORD && !word_in(p, t, no_implicit_alias, sizeof no_implicit_alias / sizeof no_implicit_alias[0])))
    return parse_name(p, out);
  expect(p, "alias");
  return true;
}

static struct ast *parse_expr_alias(struct parser *p, bool implicit_alias)
{
  struct ast *e = parse_expr(p);
  if (!e)
    return NULL;
  const char *alias;
  if (!parse_alias(p, implicit_alias, &alias))
    return NULL;
  if (alias)
    e->alias = alias;
  return e;
}

static struct ast *parse_order_element(struct parser *p)
{
  struct ast *e = parse_expr(p);
  if (!e)
    return NULL;
  struct ast *o = node(p, AST_ORDER_ELEMENT, e->pos);
  o->u.order.expr = e;
  if (accept_kw(p, "DESC") || accept_kw(p, "DESCENDING"))
    o->u.order.descending = true;
  else if (!accept_kw(p, "ASC"))
    accept_kw(p, "ASCENDING");
  if (accept_kw(p, "NULLS")) {
    o->u.order.nulls_explicit = true;
    if (accept_kw(p, "FIRST"))
      o->u.order.nulls_first = true;
    else if (!accept_kw(p, "LAST"))
      return NULL;
  }
  if (accept_kw(p, "COLLATE") && !parse_string(p, &o->u.order.collate))
    return NULL;
  if (peek_kw(p, "WITH") && peek_kw_n(p, 1, "FILL")) {
    advance(p);
    advance(p);
    o->u.order.with_fill = true;
  }
  expect(p, "WITH FILL");
  return finish(p, o);
}

/* ---- SELECT ------------------------------------------------------------ */

static bool is_pow2_u32(uint32_t v) { return v && (v & (v - 1)) == 0; }

static bool is_constant_value(const struct ast *n)
{
  if (n->kind == AST_LITERAL)
    return true;
  if (n->kind != AST_FUNCTION || !n->u.function.is_operator ||
      (strcmp(n->u.function.name, "array") != 0 && strcmp(n->u.function.name, "tuple") != 0))
    return false;
  for (uint32_t k = 0; k < n->u.function.args.count; k++)
    if (!is_constant_value(n->u.function.args.items[k]))
      return false;
  return true;
}

/* Fails with the error placed at token index idx (a definite error found
 * after the fact, e.g. a non-literal setting value). */
static void fail_at(struct parser *p, uint32_t idx, const char *what)
{
  if (p->fatal)
    return;
  p->far = idx;
  p->nexpected = 0;
  p->i = idx;
  expect(p, what);
}

static const char *const alter_words[] = {
  "ADD", "DROP", "MODIFY", "RENAME", "COMMENT", "MATERIALIZE", "DETACH", "ATTACH", "REMOVE", "DELETE",
  "UPDATE", "MOVE", "CLEAR", "FREEZE",
};

/* In ALTER, `…, DROP COLUMN x` after a list is the next command, not the
 * next list item: accept the comma only when it does not start one. */
static bool accept_list_comma(struct parser *p)
{
  if (p->in_alter && at(p, TOK_COMMA) &&
      word_in(p, peek_n(p, 1), alter_words, sizeof alter_words / sizeof alter_words[0]) &&
      peek_n(p, 2)->kind != TOK_EQ)
    return false;
  return accept(p, TOK_COMMA);
}

/* name = literal [, …]; for ALTER … UPDATE the value may be any expression. */
static bool parse_assignments(struct parser *p, struct ast_list *l, bool literal_values)
{
  for (;;) {
    uint32_t pos = peek(p)->pos;
    const char *name;
    if (!parse_name(p, &name) || !accept(p, TOK_EQ))
      return false;
    uint32_t value_idx = p->i;
    struct ast *v = parse_expr(p);
    if (!v)
      return false;
    if (literal_values && !is_constant_value(v)) {
      fail_at(p, value_idx, "literal");
      return false;
    }
    struct ast *set = node(p, AST_SETTING, pos);
    set->u.setting.name = name;
    set->u.setting.value = v;
    push(p, l, finish(p, set));
    if (!accept_list_comma(p))
      return true;
  }
}

static struct ast *parse_select_unit(struct parser *p)
{
  if (at(p, TOK_LPAREN)) {
    advance(p);
    struct ast *u = parse_select_union(p);
    if (!u || !accept(p, TOK_RPAREN))
      return NULL;
    if (u->u.select_union.selects.count == 1)
      return u->u.select_union.selects.items[0];
    return finish(p, u);
  }
  return NULL;
}

static struct ast *parse_select(struct parser *p);

static bool parse_union_rest(struct parser *p, struct ast *u)
{
  struct ast_select_union *su = &u->u.select_union;
  while (accept_kw(p, "UNION")) {
    bool distinct = true;
    if (accept_kw(p, "ALL"))
      distinct = false;
    else
      accept_kw(p, "DISTINCT");
    struct ast *unit = at(p, TOK_LPAREN) ? parse_select_unit(p) : parse_select(p);
    if (!unit)
      return false;
    uint32_t modes = su->selects.count - 1;   /* entries before this one */
    if (modes == 0 || is_pow2_u32(modes)) {
      uint32_t cap = modes ? modes * 2 : 4;
      if (modes == 0 || modes >= 4)
        su->union_distinct = arena_realloc(p->a, su->union_distinct, sizeof(bool) * modes, sizeof(bool) * cap);
    }
    su->union_distinct[modes] = distinct;
    push(p, &su->selects, unit);
  }
  return true;
}

static struct ast *parse_select_union(struct parser *p)
{
  if (!enter(p))
    return NULL;
  struct ast *u = node(p, AST_SELECT_UNION, peek(p)->pos);
  struct ast *first = at(p, TOK_LPAREN) ? parse_select_unit(p) : parse_select(p);
  bool ok = first != NULL;
  if (ok) {
    push(p, &u->u.select_union.selects, first);
    ok = parse_union_rest(p, u);
  }
  leave(p);
  return ok ? finish(p, u) : NULL;
}

static bool parse_with(struct parser *p, struct ast_list *with)
{
  for (;;) {
    const struct token *t = peek(p);
    if ((t->kind == TOK_WORD || t->kind == TOK_QUOTED_ID) && peek_kw_n(p, 1, "AS") &&
        peek_n(p, 2)->kind == TOK_LPAREN && starts_select(p, 3)) {
      /* name AS (SELECT …) */
      const char *name;
      parse_name(p, &name);
      advance(p);
      uint32_t pos = peek(p)->pos;
      advance(p);
      struct ast *q = parse_select_union(p);
      if (!q || !accept(p, TOK_RPAREN))
        return false;
      struct ast *s = node(p, AST_SUBQUERY, pos);
      s->u.subquery.query = q;
      s->alias = name;
      push(p, with, finish(p, s));
    } else {
      struct ast *e = parse_expr(p);
      if (!e)
        return false;
      const char *alias;
      if (!accept_kw(p, "AS") || !parse_name(p, &alias))
        return false;
      e->alias = alias;
      push(p, with, e);
    }
    if (!accept(p, TOK_COMMA))
      return true;
  }
}

static struct ast *parse_table_expr(struct parser *p)
{
  uint32_t pos = peek(p)->pos;
  struct ast *te = node(p, AST_TABLE_EXPR, pos);
  struct ast_table_expr *t = &te->u.table_expr;
  if (at(p, TOK_LPAREN)) {
    advance(p);
    if (!starts_select(p, 0) && !at(p, TOK_LPAREN)) {
      expect(p, "SELECT");
      return NULL;
    }
    t->subquery = parse_select_union(p);
    if (!t->subquery || !accept(p, TOK_RPAREN))
      return NULL;
  } else if (at(p, TOK_LBRACE)) {
    t->name_param = parse_query_parameter(p);
    if (!t->name_param)
      return NULL;
  } else {
    expect(p, "OpeningRoundBracket");
    const char *first;
    uint32_t name_pos = peek(p)->pos;
    if (!parse_name(p, &first))
      return NULL;
    if (at(p, TOK_LPAREN)) {
      t->function = parse_function_call(p, first, name_pos);
      if (!t->function)
        return NULL;
    } else if (accept(p, TOK_DOT)) {
      t->database = first;
      if (!parse_name(p, &t->table))
        return NULL;
    } else {
      t->table = first;
    }
  }
  if (accept_kw(p, "FINAL"))
    t->final = true;
  const char *alias;
  if (!parse_alias(p, true, &alias))
    return NULL;
  te->alias = alias;
  if (!t->final && accept_kw(p, "FINAL"))
    t->final = true;
  if (accept_kw(p, "SAMPLE")) {
    t->sample = parse_expr(p);
    if (!t->sample)
      return NULL;
    if (accept_kw(p, "OFFSET")) {
      t->sample_offset = parse_expr(p);
      if (!t->sample_offset)
        return NULL;
    }
  }
  return finish(p, te);
}

/* [GLOBAL|LOCAL] [strictness] [kind] [OUTER] [strictness] JOIN.
 * Returns 1 when a join head was consumed, 0 when none is here, -1 on error. */
static int parse_join_head(struct parser *p, struct ast_join *j)
{
  uint32_t start = p->i;
  j->kind = JOIN_INNER;
  j->strictness = JOIN_STRICT_DEFAULT;
  if (accept_kw(p, "GLOBAL"))
    j->global = true;
  else
    accept_kw(p, "LOCAL");
  static const struct {
    const char *word;
    enum ast_join_strictness s;
  } strict[] = { { "ALL", JOIN_STRICT_ALL }, { "ANY", JOIN_STRICT_ANY }, { "ASOF", JOIN_STRICT_ASOF },
                 { "SEMI", JOIN_STRICT_SEMI }, { "ANTI", JOIN_STRICT_ANTI } };
  static const struct {
    const char *word;
    enum ast_join_kind k;
  } kinds[] = { { "INNER", JOIN_INNER }, { "LEFT", JOIN_LEFT }, { "RIGHT", JOIN_RIGHT },
                { "FULL", JOIN_FULL }, { "CROSS", JOIN_CROSS }, { "PASTE", JOIN_PASTE } };
  for (int pass = 0; pass < 2; pass++) {
    if (j->strictness == JOIN_STRICT_DEFAULT) {
      for (size_t k = 0; k < sizeof strict / sizeof strict[0]; k++) {
        if (accept_kw(p, strict[k].word)) {
          j->strictness = strict[k].s;
          break;
        }
      }
    }
    if (pass == 0) {
      for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (accept_kw(p, kinds[k].word)) {
          j->kind = kinds[k].k;
          break;
        }
      }
      accept_kw(p, "OUTER");
    }
  }
  if (accept_kw(p, "JOIN"))
    return 1;
  return p->i == start ? 0 : -1;
}

static bool parse_from(struct parser *p, struct ast_select *q)
{
  struct ast *first = parse_table_expr(p);
  if (!first)
    return false;
  push(p, &q->from, first);
  for (;;) {
    uint32_t pos = peek(p)->pos;
    if (accept(p, TOK_COMMA)) {
      struct ast *j = node(p, AST_JOIN, pos);
      j->u.join.kind = JOIN_COMMA;
      j->u.join.table = parse_table_expr(p);
      if (!j->u.join.table)
        return false;
      push(p, &q->from, finish(p, j));
      continue;
    }
    bool left = peek_kw(p, "LEFT") && peek_kw_n(p, 1, "ARRAY") && peek_kw_n(p, 2, "JOIN");
    bool inner = peek_kw(p, "INNER") && peek_kw_n(p, 1, "ARRAY") && peek_kw_n(p, 2, "JOIN");
    if (left || inner || (peek_kw(p, "ARRAY") && peek_kw_n(p, 1, "JOIN"))) {
      if (left || inner)
        advance(p);
      advance(p);
      advance(p);
      struct ast *aj = node(p, AST_ARRAY_JOIN, pos);
      aj->u.array_join.left = left;
      if (!parse_expr_list(p, &aj->u.array_join.exprs, true))
        return false;
      push(p, &q->from, finish(p, aj));
      continue;
    }
    expect(p, "ARRAY JOIN");
    struct ast *j = node(p, AST_JOIN, pos);
    int head = parse_join_head(p, &j->u.join);
    if (head < 0) {
      accept_kw(p, "JOIN");
      return false;
    }
    if (head == 0) {
      p->elements--;  /* the unused node */
      return true;
    }
    j->u.join.table = parse_table_expr(p);
    if (!j->u.join.table)
      return false;
    if (accept_kw(p, "ON")) {
      j->u.join.on = parse_expr(p);
      if (!j->u.join.on)
        return false;
    } else if (accept_kw(p, "USING")) {
      bool paren = accept(p, TOK_LPAREN);
      if (!parse_expr_list(p, &j->u.join.using_columns, false))
        return false;
      if (paren && !accept(p, TOK_RPAREN))
        return false;
    }
    push(p, &q->from, finish(p, j));
  }
}

static bool parse_group_by(struct parser *p, struct ast_select *q)
{
  if ((peek_kw(p, "ROLLUP") || peek_kw(p, "CUBE")) && peek_n(p, 1)->kind == TOK_LPAREN) {
    if (peek_kw(p, "ROLLUP"))
      q->group_by_with_rollup = true;
    else
      q->group_by_with_cube = true;
    advance(p);
    advance(p);
    if (!parse_expr_list(p, &q->group_by, false) || !accept(p, TOK_RPAREN))
      return false;
  } else if (!parse_expr_list(p, &q->group_by, false)) {
    return false;
  }
  for (;;) {
    if (accept_kw2(p, "WITH", "TOTALS", "WITH TOTALS"))
      q->group_by_with_totals = true;
    else if (accept_kw2(p, "WITH", "ROLLUP", "WITH ROLLUP"))
      q->group_by_with_rollup = true;
    else if (accept_kw2(p, "WITH", "CUBE", "WITH CUBE"))
      q->group_by_with_cube = true;
    else
      return true;
  }
}

/* LIMIT a | LIMIT off, a | LIMIT a OFFSET off (after LIMIT). */
static bool parse_limit_values(struct parser *p, struct ast **limit, struct ast **offset)
{
  struct ast *a = parse_expr(p);
  if (!a)
    return false;
  *offset = NULL;
  if (accept(p, TOK_COMMA)) {
    *offset = a;
    a = parse_expr(p);
    if (!a)
      return false;
  } else if (accept_kw(p, "OFFSET")) {
    *offset = parse_expr(p);
    if (!*offset)
      return false;
  }
  *limit = a;
  return true;
}

static bool parse_limits(struct parser *p, struct ast_select *q)
{
  if (accept_kw(p, "LIMIT")) {
    struct ast *limit, *offset;
    if (!parse_limit_values(p, &limit, &offset))
      return false;
    if (accept_kw(p, "BY")) {
      q->limit_by_limit = limit;
      q->limit_by_offset = offset;
      if (!parse_expr_list(p, &q->limit_by, false))
        return false;
      if (accept_kw(p, "LIMIT")) {
        if (!parse_limit_values(p, &q->limit, &q->offset))
          return false;
      }
    } else {
      q->limit = limit;
      q->offset = offset;
    }
    if (q->limit && accept_kw2(p, "WITH", "TIES", "WITH TIES"))
      q->limit_with_ties = true;
  }
  if (!q->offset && accept_kw(p, "OFFSET")) {
    q->offset = parse_expr(p);
    if (!q->offset)
      return false;
    if (!accept_kw(p, "ROWS"))
      accept_kw(p, "ROW");
  }
  if (!q->limit && accept_kw(p, "FETCH")) {
    if (!accept_kw(p, "FIRST") && !accept_kw(p, "NEXT"))
      return false;
    q->limit = parse_expr(p);
    if (!q->limit)
      return false;
    if (!accept_kw(p, "ROWS") && !accept_kw(p, "ROW"))
      return false;
    if (accept_kw2(p, "WITH", "TIES", "WITH TIES"))
      q->limit_with_ties = true;
    else if (!accept_kw(p, "ONLY"))
      return false;
  }
  return true;
}

static struct ast *parse_select(struct parser *p)
{
  struct ast *s = node(p, AST_SELECT, peek(p)->pos);
  struct ast_select *q = &s->u.select;
  if (accept_kw(p, "WITH") && !parse_with(p, &q->with))
    return NULL;
  if (!accept_kw(p, "SELECT"))
    return NULL;
  if (accept_kw(p, "DISTINCT")) {
    q->distinct = true;
    if (accept_kw(p, "ON")) {
      if (!accept(p, TOK_LPAREN) || !parse_expr_list(p, &q->distinct_on, false) || !accept(p, TOK_RPAREN))
        return NULL;
    }
  } else {
    accept_kw(p, "ALL");
  }
  if (!parse_expr_list(p, &q->columns, true))
    return NULL;
  if (accept_kw(p, "FROM") && !parse_from(p, q))
    return NULL;
  if (accept_kw(p, "PREWHERE") && !(q->prewhere = parse_expr(p)))
    return NULL;
  if (accept_kw(p, "WHERE") && !(q->where = parse_expr(p)))
    return NULL;
  if (accept_kw2(p, "GROUP", "BY", "GROUP BY") && !parse_group_by(p, q))
    return NULL;
  if (accept_kw(p, "HAVING") && !(q->having = parse_expr(p)))
    return NULL;
  if (accept_kw(p, "QUALIFY") && !(q->qualify = parse_expr(p)))
    return NULL;
  if (accept_kw2(p, "ORDER", "BY", "ORDER BY")) {
    for (;;) {
      struct ast *o = parse_order_element(p);
      if (!o)
        return NULL;
      push(p, &q->order_by, o);
      if (!accept(p, TOK_COMMA))
        break;
    }
  }
  if (!parse_limits(p, q))
    return NULL;
  if (accept_kw(p, "SETTINGS") && !parse_assignments(p, &q->settings, true))
    return NULL;
  return finish(p, s);
}

/* ---- DDL pieces -------------------------------------------------------- */

/* name or name(args) as an AST_FUNCTION: engines, codecs, index types. */
static struct ast *parse_function_or_name(struct parser *p)
{
  uint32_t pos = peek(p)->pos;
  const char *name;
  if (!parse_name(p, &name))
    return NULL;
  if (at(p, TOK_LPAREN))
    return parse_function_call(p, name, pos);
  expect(p, "OpeningRoundBracket");
  return finish(p, func(p, name, pos, false));
}

/* CODEC(a, b(1), …); at CODEC. */
static bool parse_codecs(struct parser *p, struct ast_list *l)
{
  if (!accept_kw(p, "CODEC") || !accept(p, TOK_LPAREN))
    return false;
  for (;;) {
    struct ast *c = parse_function_or_name(p);
    if (!c)
      return false;
    push(p, l, c);
    if (!accept(p, TOK_COMMA))
      break;
  }
  return accept(p, TOK_RPAREN);
}

static const char *const column_def_words[] = {
  "NULL", "NOT", "DEFAULT", "MATERIALIZED", "ALIAS", "EPHEMERAL", "CODEC", "COMMENT", "TTL",
  "PRIMARY", "SETTINGS", "AFTER", "FIRST", "STATISTICS", "REMOVE",
};

static bool is_column_def_word(struct parser *p, const struct token *t)
{
  return word_in(p, t, column_def_words, sizeof column_def_words / sizeof column_def_words[0]);
}

/* name [Type] [NULL|NOT NULL] [DEFAULT|MATERIALIZED|ALIAS e | EPHEMERAL [e]]
 * [COMMENT 's'] [CODEC(…)] [TTL e], the options in any order. */
static struct ast *parse_column_def(struct parser *p)
{
  uint32_t pos = peek(p)->pos;
  struct ast *c = node(p, AST_COLUMN_DEF, pos);
  struct ast_column_def *d = &c->u.column_def;
  if (!parse_name(p, &d->name))
    return NULL;
  const struct token *t = peek(p);
  if (t->kind == TOK_WORD && !is_column_def_word(p, t)) {
    if (!parse_type_text(p, &d->type, &d->type_pos))
      return NULL;
  } else {
    expect(p, "type");
  }
  if (d->type && peek_kw(p, "NULL")) {
    advance(p);
    d->type = arena_printf(p->a, "Nullable(%s)", d->type);
  } else if (peek_kw(p, "NOT") && peek_kw_n(p, 1, "NULL")) {
    advance(p);
    advance(p);
  }
  for (;;) {
    enum ast_default_kind kind = COLUMN_DEFAULT_NONE;
    if (accept_kw(p, "DEFAULT"))
      kind = COLUMN_DEFAULT;
    else if (accept_kw(p, "MATERIALIZED"))
      kind = COLUMN_MATERIALIZED;
    else if (accept_kw(p, "ALIAS"))
      kind = COLUMN_ALIAS;
    else if (accept_kw(p, "EPHEMERAL"))
      kind = COLUMN_EPHEMERAL;
    if (kind != COLUMN_DEFAULT_NONE) {
      if (d->default_kind != COLUMN_DEFAULT_NONE) {
        p->i--;
        expect(p, "COMMENT");
        return NULL;
      }
      d->default_kind = kind;
      const struct token *n = peek(p);
      bool no_expr = kind == COLUMN_EPHEMERAL &&
                     (n->kind == TOK_COMMA || n->kind == TOK_RPAREN || n->kind == TOK_END || is_column_def_word(p, n));
      if (!no_expr) {
        d->default_expr = parse_expr(p);
        if (!d->default_expr)
          return NULL;
      }
    } else if (accept_kw(p, "COMMENT")) {
      if (!parse_string(p, &d->comment))
        return NULL;
    } else if (peek_kw(p, "CODEC")) {
      if (!parse_codecs(p, &d->codecs))
        return NULL;
    } else if (accept_kw(p, "TTL")) {
      d->ttl = parse_expr(p);
      if (!d->ttl)
        return NULL;
    } else {
      expect(p, "CODEC");
      break;
    }
  }
  return finish(p, c);
}

/* INDEX name expr TYPE t[(args)] [GRANULARITY n]; at the index name. */
static struct ast *parse_index_def(struct parser *p, uint32_t pos)
{
  struct ast *ix = node(p, AST_INDEX_DEF, pos);
  struct ast_index_def *d = &ix->u.index_def;
  d->granularity = 1;
  if (!parse_name(p, &d->name))
    return NULL;
  d->expr = parse_expr(p);
  if (!d->expr || !accept_kw(p, "TYPE"))
    return NULL;
  d->type = parse_function_or_name(p);
  if (!d->type)
    return NULL;
  if (accept_kw(p, "GRANULARITY")) {
    const struct token *t = peek(p);
    uint64_t g;
    if (t->kind != TOK_NUMBER || !slice_to_u64(slice_make(p->text + t->pos, t->len), &g)) {
      expect(p, "number");
      return NULL;
    }
    d->granularity = g;
    advance(p);
  }
  return finish(p, ix);
}

static bool parse_ttl_list(struct parser *p, struct ast_list *l)
{
  for (;;) {
    struct ast *e = parse_expr(p);
    if (!e)
      return false;
    struct ast *el = node(p, AST_TTL_ELEMENT, e->pos);
    struct ast_ttl_element *t = &el->u.ttl;
    t->expr = e;
    t->action = TTL_DELETE;
    if (accept_kw(p, "DELETE")) {
      t->action = TTL_DELETE;
    } else if (accept_kw2(p, "TO", "DISK", "TO DISK")) {
      t->action = TTL_TO_DISK;
      if (!parse_string(p, &t->target))
        return false;
    } else if (accept_kw2(p, "TO", "VOLUME", "TO VOLUME")) {
      t->action = TTL_TO_VOLUME;
      if (!parse_string(p, &t->target))
        return false;
    } else if (accept_kw(p, "RECOMPRESS")) {
      t->action = TTL_RECOMPRESS;
      if (!parse_codecs(p, &t->codecs))
        return false;
    }
    if (accept_kw(p, "WHERE")) {
      t->where = parse_expr(p);
      if (!t->where)
        return false;
    }
    push(p, l, finish(p, el));
    if (!accept_list_comma(p))
      return true;
  }
}

/* ENGINE / PARTITION BY / PRIMARY KEY / ORDER BY / SAMPLE BY / TTL /
 * SETTINGS / COMMENT, in any order. */
static bool parse_storage(struct parser *p, struct sql_statement *st)
{
  for (;;) {
    if (accept_kw(p, "ENGINE")) {
      accept(p, TOK_EQ);
      st->engine = parse_function_or_name(p);
      if (!st->engine)
        return false;
    } else if (accept_kw2(p, "PARTITION", "BY", "PARTITION BY")) {
      if (!(st->partition_by = parse_expr(p)))
        return false;
    } else if (accept_kw2(p, "PRIMARY", "KEY", "PRIMARY KEY")) {
      if (!(st->primary_key = parse_expr(p)))
        return false;
    } else if (accept_kw2(p, "ORDER", "BY", "ORDER BY")) {
      if (!(st->order_by = parse_expr(p)))
        return false;
    } else if (accept_kw2(p, "SAMPLE", "BY", "SAMPLE BY")) {
      if (!(st->sample_by = parse_expr(p)))
        return false;
    } else if (accept_kw(p, "TTL")) {
      if (!parse_ttl_list(p, &st->ttl))
        return false;
    } else if (accept_kw(p, "SETTINGS")) {
      if (!parse_assignments(p, &st->table_settings, true))
        return false;
    } else if (accept_kw(p, "COMMENT")) {
      if (!parse_string(p, &st->comment))
        return false;
    } else {
      return true;
    }
  }
}

/* ( column defs, INDEX …, PROJECTION p (SELECT …), CONSTRAINT c CHECK e, PRIMARY KEY e ) */
static bool parse_table_elements(struct parser *p, struct sql_statement *st)
{
  if (!accept(p, TOK_LPAREN))
    return false;
  for (;;) {
    uint32_t pos = peek(p)->pos;
    const struct token *n1 = peek_n(p, 1);
    bool named_next = n1->kind == TOK_WORD || n1->kind == TOK_QUOTED_ID;
    if (peek_kw(p, "INDEX") && named_next && !is_column_def_word(p, n1)) {
      advance(p);
      struct ast *ix = parse_index_def(p, pos);
      if (!ix)
        return false;
      push(p, &st->indexes, ix);
    } else if (peek_kw(p, "PROJECTION") && named_next && peek_n(p, 2)->kind == TOK_LPAREN) {
      advance(p);
      const char *name;
      parse_name(p, &name);
      uint32_t qpos = peek(p)->pos;
      advance(p);
      struct ast *q = parse_select_union(p);
      if (!q || !accept(p, TOK_RPAREN))
        return false;
      struct ast *s = node(p, AST_SUBQUERY, qpos);
      s->u.subquery.query = q;
      s->alias = name;
      push(p, &st->projections, finish(p, s));
    } else if (peek_kw(p, "CONSTRAINT") && named_next) {
      /* accepted and not enforced */
      advance(p);
      const char *name;
      parse_name(p, &name);
      if (!accept_kw(p, "CHECK") && !accept_kw(p, "ASSUME"))
        return false;
      if (!parse_expr(p))
        return false;
    } else if (peek_kw(p, "PRIMARY") && peek_kw_n(p, 1, "KEY")) {
      advance(p);
      advance(p);
      if (!(st->primary_key = parse_expr(p)))
        return false;
    } else {
      struct ast *c = parse_column_def(p);
      if (!c)
        return false;
      push(p, &st->columns, c);
    }
    if (!accept(p, TOK_COMMA))
      break;
  }
  return accept(p, TOK_RPAREN);
}

/* ---- statements -------------------------------------------------------- */

static struct sql_statement *parse_statement_body(struct parser *p);

static bool parse_create(struct parser *p, struct sql_statement *st)
{
  if (accept_kw2(p, "OR", "REPLACE", "OR REPLACE"))
    st->or_replace = true;
  if (accept_kw(p, "TEMPORARY"))
    st->temporary = true;
  if (accept_kw(p, "DATABASE")) {
    st->kind = STMT_CREATE_DATABASE;
    st->object = OBJECT_DATABASE;
    st->if_not_exists = parse_if_not_exists(p);
    if (!parse_name(p, &st->name) || !skip_on_cluster(p))
      return false;
    for (;;) {
      if (accept_kw(p, "ENGINE")) {
        accept(p, TOK_EQ);
        if (!(st->engine = parse_function_or_name(p)))
          return false;
      } else if (accept_kw(p, "COMMENT")) {
        if (!parse_string(p, &st->comment))
          return false;
      } else {
        return true;
      }
    }
  }
  if (accept_kw(p, "MATERIALIZED")) {
    st->materialized = true;
    if (!peek_kw(p, "VIEW")) {
      expect(p, "VIEW");
      return false;
    }
  }
  if (accept_kw(p, "VIEW")) {
    st->kind = STMT_CREATE_VIEW;
    st->object = OBJECT_VIEW;
    st->if_not_exists = parse_if_not_exists(p);
    if (!parse_qualified_name(p, &st->database, &st->name) || !skip_on_cluster(p))
      return false;
    if (accept_kw(p, "TO") && !parse_qualified_name(p, &st->to_database, &st->to_table))
      return false;
    if (at(p, TOK_LPAREN) && !parse_table_elements(p, st))
      return false;
    if (!parse_storage(p, st))
      return false;
    if (accept_kw(p, "POPULATE"))
      st->populate = true;
    if (!accept_kw(p, "AS"))
      return false;
    st->select = parse_select_union(p);
    return st->select != NULL;
  }
  if (!accept_kw(p, "TABLE"))
    return false;
  st->kind = STMT_CREATE_TABLE;
  st->object = OBJECT_TABLE;
  st->if_not_exists = parse_if_not_exists(p);
  if (!parse_qualified_name(p, &st->database, &st->name) || !skip_on_cluster(p))
    return false;
  if (at(p, TOK_LPAREN) && !starts_select(p, 1)) {
    if (!parse_table_elements(p, st))
      return false;
  } else {
    expect(p, "OpeningRoundBracket");
  }
  if (accept_kw(p, "AS")) {
    if (starts_select(p, 0) || at(p, TOK_LPAREN)) {
      st->select = parse_select_union(p);
      return st->select != NULL;
    }
    if (!parse_qualified_name(p, &st->as_database, &st->as_table))
      return false;
  }
  if (!parse_storage(p, st))
    return false;
  if (!st->select && !st->as_table && accept_kw(p, "AS")) {
    st->select = parse_select_union(p);
    return st->select != NULL;
  }
  return true;
}

static bool parse_object_kind(struct parser *p, struct sql_statement *st, bool required)
{
  if (accept_kw(p, "TABLE"))
    st->object = OBJECT_TABLE;
  else if (accept_kw(p, "DATABASE"))
    st->object = OBJECT_DATABASE;
  else if (accept_kw(p, "VIEW"))
    st->object = OBJECT_VIEW;
  else if (accept_kw(p, "DICTIONARY"))
    st->object = OBJECT_DICTIONARY;
  else if (required)
    return false;
  else
    st->object = OBJECT_TABLE;
  return true;
}

/* database name alone for DATABASE objects, [db.]name otherwise */
static bool parse_object_name(struct parser *p, struct sql_statement *st)
{
  if (st->object == OBJECT_DATABASE)
    return parse_name(p, &st->name);
  return parse_qualified_name(p, &st->database, &st->name);
}

static bool parse_drop(struct parser *p, struct sql_statement *st)
{
  st->kind = STMT_DROP;
  if (accept_kw(p, "TEMPORARY"))
    st->temporary = true;
  if (!parse_object_kind(p, st, true))
    return false;
  st->if_exists = parse_if_exists(p);
  if (!parse_object_name(p, st) || !skip_on_cluster(p))
    return false;
  if (!accept_kw(p, "SYNC"))
    accept_kw2(p, "NO", "DELAY", "NO DELAY");
  return true;
}

static bool parse_partition_spec(struct parser *p, struct ast **out, bool *is_id)
{
  /* after PARTITION */
  if (accept_kw(p, "ID")) {
    const struct token *t = peek(p);
    const char *s;
    if (!parse_string(p, &s))
      return false;
    *out = finish(p, string_literal(p, t->pos, s, (uint32_t)strlen(s)));
    *is_id = true;
    return true;
  }
  *is_id = false;
  *out = parse_expr(p);
  return *out != NULL;
}

static bool parse_after(struct parser *p, struct alter_command *c)
{
  if (accept_kw(p, "FIRST")) {
    c->after = "";
    return true;
  }
  if (accept_kw(p, "AFTER"))
    return parse_name(p, &c->after);
  return true;
}

static bool parse_alter_command(struct parser *p, struct alter_command *c)
{
  if (accept_kw(p, "ADD")) {
    if (accept_kw(p, "COLUMN")) {
      c->kind = ALTER_ADD_COLUMN;
      c->if_not_exists = parse_if_not_exists(p);
      return (c->column = parse_column_def(p)) != NULL && parse_after(p, c);
    }
    if (accept_kw(p, "INDEX")) {
      c->kind = ALTER_ADD_INDEX;
      c->if_not_exists = parse_if_not_exists(p);
      return (c->index = parse_index_def(p, peek(p)->pos)) != NULL && parse_after(p, c);
    }
    return false;
  }
  if (accept_kw(p, "DROP")) {
    if (accept_kw(p, "COLUMN")) {
      c->kind = ALTER_DROP_COLUMN;
      c->if_exists = parse_if_exists(p);
      return parse_name(p, &c->name);
    }
    if (accept_kw(p, "INDEX")) {
      c->kind = ALTER_DROP_INDEX;
      c->if_exists = parse_if_exists(p);
      return parse_name(p, &c->name);
    }
    if (accept_kw(p, "PARTITION")) {
      c->kind = ALTER_DROP_PARTITION;
      return parse_partition_spec(p, &c->partition, &c->partition_is_id);
    }
    return false;
  }
  if (accept_kw(p, "MODIFY")) {
    if (accept_kw(p, "COLUMN")) {
      c->kind = ALTER_MODIFY_COLUMN;
      c->if_exists = parse_if_exists(p);
      return (c->column = parse_column_def(p)) != NULL && parse_after(p, c);
    }
    if (accept_kw(p, "TTL")) {
      c->kind = ALTER_MODIFY_TTL;
      return parse_ttl_list(p, &c->ttl);
    }
    if (accept_kw(p, "SETTING")) {
      c->kind = ALTER_MODIFY_SETTING;
      return parse_assignments(p, &c->settings, true);
    }
    return false;
  }
  if (accept_kw2(p, "RENAME", "COLUMN", "RENAME COLUMN")) {
    c->kind = ALTER_RENAME_COLUMN;
    c->if_exists = parse_if_exists(p);
    return parse_name(p, &c->name) && accept_kw(p, "TO") && parse_name(p, &c->new_name);
  }
  if (accept_kw2(p, "COMMENT", "COLUMN", "COMMENT COLUMN")) {
    c->kind = ALTER_COMMENT_COLUMN;
    c->if_exists = parse_if_exists(p);
    return parse_name(p, &c->name) && parse_string(p, &c->comment);
  }
  if (accept_kw2(p, "MATERIALIZE", "INDEX", "MATERIALIZE INDEX")) {
    c->kind = ALTER_MATERIALIZE_INDEX;
    c->if_exists = parse_if_exists(p);
    if (!parse_name(p, &c->name))
      return false;
    if (accept_kw2(p, "IN", "PARTITION", "IN PARTITION"))
      return parse_partition_spec(p, &c->partition, &c->partition_is_id);
    return true;
  }
  if (accept_kw2(p, "DETACH", "PARTITION", "DETACH PARTITION")) {
    c->kind = ALTER_DETACH_PARTITION;
    return parse_partition_spec(p, &c->partition, &c->partition_is_id);
  }
  if (accept_kw2(p, "ATTACH", "PARTITION", "ATTACH PARTITION")) {
    c->kind = ALTER_ATTACH_PARTITION;
    return parse_partition_spec(p, &c->partition, &c->partition_is_id);
  }
  if (accept_kw2(p, "REMOVE", "TTL", "REMOVE TTL")) {
    c->kind = ALTER_REMOVE_TTL;
    return true;
  }
  if (accept_kw(p, "DELETE")) {
    c->kind = ALTER_DELETE;
    return accept_kw(p, "WHERE") && (c->where = parse_expr(p)) != NULL;
  }
  if (accept_kw(p, "UPDATE")) {
    c->kind = ALTER_UPDATE;
    return parse_assignments(p, &c->assignments, false) && accept_kw(p, "WHERE") &&
           (c->where = parse_expr(p)) != NULL;
  }
  if (accept_kw(p, "MOVE")) {
    if (accept_kw(p, "PARTITION")) {
      c->kind = ALTER_MOVE_PARTITION;
      if (!parse_partition_spec(p, &c->partition, &c->partition_is_id))
        return false;
    } else if (accept_kw(p, "PART")) {
      c->kind = ALTER_MOVE_PART;
      if (!parse_string(p, &c->name))
        return false;
    } else {
      return false;
    }
    if (!accept_kw(p, "TO"))
      return false;
    if (accept_kw(p, "DISK"))
      c->to_disk = true;
    else if (!accept_kw(p, "VOLUME"))
      return false;
    return parse_string(p, &c->target);
  }
  return false;
}

static bool parse_alter(struct parser *p, struct sql_statement *st)
{
  st->kind = STMT_ALTER;
  st->object = OBJECT_TABLE;
  if (!accept_kw(p, "TABLE") || !parse_qualified_name(p, &st->database, &st->name) || !skip_on_cluster(p))
    return false;
  uint32_t cap = 0;
  p->in_alter = true;
  for (;;) {
    if (st->alter_count == cap) {
      uint32_t ncap = cap ? cap * 2 : 4;
      st->alter_commands = arena_realloc(p->a, st->alter_commands, sizeof *st->alter_commands * cap,
                                         sizeof *st->alter_commands * ncap);
      cap = ncap;
    }
    struct alter_command *c = &st->alter_commands[st->alter_count];
    memset(c, 0, sizeof *c);
    if (!parse_alter_command(p, c))
      return false;
    st->alter_count++;
    if (++p->elements > SQL_AST_ELEMENTS_MAX)
      set_fatal(p, ERR_TOO_BIG_AST);
    if (!accept(p, TOK_COMMA))
      return true;
  }
}

static bool parse_rename(struct parser *p, struct sql_statement *st)
{
  st->kind = STMT_RENAME;
  st->object = OBJECT_TABLE;
  if (!accept_kw(p, "TABLE"))
    return false;
  uint32_t cap = 0;
  for (;;) {
    if (st->rename_count == cap) {
      uint32_t ncap = cap ? cap * 2 : 4;
      size_t ob = sizeof(const char *) * cap, nb = sizeof(const char *) * ncap;
      st->rename_from_db = arena_realloc(p->a, st->rename_from_db, ob, nb);
      st->rename_from = arena_realloc(p->a, st->rename_from, ob, nb);
      st->rename_to_db = arena_realloc(p->a, st->rename_to_db, ob, nb);
      st->rename_to = arena_realloc(p->a, st->rename_to, ob, nb);
      cap = ncap;
    }
    uint32_t k = st->rename_count;
    if (!parse_qualified_name(p, &st->rename_from_db[k], &st->rename_from[k]) || !accept_kw(p, "TO") ||
        !parse_qualified_name(p, &st->rename_to_db[k], &st->rename_to[k]))
      return false;
    st->rename_count++;
    if (++p->elements > SQL_AST_ELEMENTS_MAX)
      set_fatal(p, ERR_TOO_BIG_AST);
    if (!accept(p, TOK_COMMA))
      return skip_on_cluster(p);
  }
}

/* [NOT] LIKE|ILIKE 'pattern' [LIMIT n] */
static bool parse_show_filter(struct parser *p, struct sql_statement *st)
{
  if (peek_kw(p, "NOT") && (peek_kw_n(p, 1, "LIKE") || peek_kw_n(p, 1, "ILIKE"))) {
    advance(p);
    st->like_not = true;
  }
  if (accept_kw(p, "ILIKE")) {
    st->like_ilike = true;
    if (!parse_string(p, &st->like))
      return false;
  } else if (accept_kw(p, "LIKE")) {
    if (!parse_string(p, &st->like))
      return false;
  } else if (st->like_not) {
    return false;
  }
  if (accept_kw(p, "LIMIT")) {
    st->show_limit = parse_expr(p);
    if (!st->show_limit)
      return false;
  }
  return true;
}

static bool parse_show(struct parser *p, struct sql_statement *st)
{
  if (accept_kw(p, "DATABASES")) {
    st->kind = STMT_SHOW_DATABASES;
    return parse_show_filter(p, st);
  }
  if (accept_kw(p, "CREATE")) {
    st->kind = STMT_SHOW_CREATE;
    if (accept_kw(p, "TEMPORARY"))
      st->temporary = true;
    return parse_object_kind(p, st, false) && parse_object_name(p, st);
  }
  accept_kw(p, "FULL");
  if (accept_kw(p, "TEMPORARY"))
    st->temporary = true;
  if (!accept_kw(p, "TABLES"))
    return false;
  st->kind = STMT_SHOW_TABLES;
  if ((accept_kw(p, "FROM") || accept_kw(p, "IN")) && !parse_name(p, &st->database))
    return false;
  return parse_show_filter(p, st);
}

static const char *const system_table_commands[] = {
  "STOP MERGES", "START MERGES", "STOP TTL MERGES", "START TTL MERGES", "STOP MOVES", "START MOVES",
  "STOP FETCHES", "START FETCHES", "STOP SENDS", "START SENDS", "STOP DISTRIBUTED SENDS",
  "START DISTRIBUTED SENDS", "SYNC REPLICA", "RESTART REPLICA", "FLUSH DISTRIBUTED", "RELOAD DICTIONARY",
  "STOP REPLICATION QUEUES", "START REPLICATION QUEUES", "STOP REPLICATED SENDS", "START REPLICATED SENDS",
};

static bool parse_system(struct parser *p, struct sql_statement *st)
{
  st->kind = STMT_SYSTEM;
  uint32_t cap = 0;
  const struct token *last_word = NULL;
  for (;;) {
    const struct token *t = peek(p);
    if (t->kind == TOK_QUOTED_ID || (t->kind == TOK_WORD && peek_n(p, 1)->kind == TOK_DOT)) {
      if (!parse_qualified_name(p, &st->database, &st->name))
        return false;
      break;
    }
    if (t->kind != TOK_WORD)
      break;
    if (st->system_word_count == cap) {
      uint32_t ncap = cap ? cap * 2 : 4;
      st->system_words = arena_realloc(p->a, st->system_words, sizeof(char *) * cap, sizeof(char *) * ncap);
      cap = ncap;
    }
    last_word = t;
    st->system_words[st->system_word_count++] = upper_copy(p, t);
    advance(p);
    if (++p->elements > SQL_AST_ELEMENTS_MAX)
      set_fatal(p, ERR_TOO_BIG_AST);
  }
  if (st->system_word_count == 0) {
    expect(p, "identifier");
    return false;
  }
  if (!st->name && st->system_word_count >= 2) {
    /* SYSTEM STOP MERGES t: the word after a table command is the table */
    struct buf b;
    buf_init(&b);
    for (uint32_t k = 0; k + 1 < st->system_word_count; k++) {
      if (k)
        buf_append_char(&b, ' ');
      buf_append_cstr(&b, st->system_words[k]);
    }
    for (size_t k = 0; k < sizeof system_table_commands / sizeof system_table_commands[0]; k++) {
      if (b.len == strlen(system_table_commands[k]) && memcmp(b.data, system_table_commands[k], b.len) == 0) {
        st->name = token_text(p, last_word);
        st->system_word_count--;
        break;
      }
    }
    buf_free(&b);
  }
  return true;
}

/* Skips spaces and tabs, then at most one line break. */
static uint32_t skip_to_format_data(const char *text, uint32_t len, uint32_t pos)
{
  while (pos < len && (text[pos] == ' ' || text[pos] == '\t'))
    pos++;
  if (pos < len && text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n')
    pos += 2;
  else if (pos < len && text[pos] == '\n')
    pos++;
  return pos;
}

static bool parse_insert(struct parser *p, struct sql_statement *st)
{
  st->kind = STMT_INSERT;
  st->object = OBJECT_TABLE;
  st->data_offset = p->len;
  if (!accept_kw(p, "INTO"))
    return false;
  accept_kw(p, "TABLE");
  if (!parse_qualified_name(p, &st->database, &st->name))
    return false;
  if (at(p, TOK_LPAREN) && !starts_select(p, 1)) {
    advance(p);
    for (;;) {
      struct ast *id = parse_identifier_or_call(p);
      if (!id)
        return false;
      if (id->kind != AST_IDENTIFIER) {
        fail_at(p, p->i - 1, "identifier");
        return false;
      }
      push(p, &st->insert_columns, id);
      if (!accept(p, TOK_COMMA))
        break;
    }
    if (!accept(p, TOK_RPAREN))
      return false;
  }
  if (accept_kw(p, "SETTINGS") && !parse_assignments(p, &st->settings, true))
    return false;
  const struct token *t = peek(p);
  if (kw_is(p, t, "VALUES")) {
    st->insert_format = "Values";
    uint32_t pos = t->pos + t->len;
    while (pos < p->len && is_blank(p->text[pos]))
      pos++;
    st->data_offset = pos;
    advance(p);
    p->stop = true;
    return true;
  }
  if (kw_is(p, t, "FORMAT")) {
    advance(p);
    const struct token *name = peek(p);
    if (!parse_name(p, &st->insert_format))
      return false;
    st->data_offset = skip_to_format_data(p->text, p->len, name->pos + name->len);
    p->stop = true;
    return true;
  }
  expect(p, "VALUES");
  expect(p, "FORMAT");
  if (starts_select(p, 0) || at(p, TOK_LPAREN)) {
    st->select = parse_select_union(p);
    return st->select != NULL;
  }
  expect(p, "SELECT");
  return false;
}

static const char *const explain_kinds[] = { "AST", "SYNTAX", "PLAN", "PIPELINE", "ESTIMATE" };

static bool parse_explain(struct parser *p, struct sql_statement *st)
{
  st->kind = STMT_EXPLAIN;
  for (size_t k = 0; k < sizeof explain_kinds / sizeof explain_kinds[0]; k++) {
    if (accept_kw(p, explain_kinds[k])) {
      st->explain_kind = explain_kinds[k];
      break;
    }
  }
  if (!st->explain_kind && accept_kw2(p, "QUERY", "TREE", "QUERY TREE"))
    st->explain_kind = "QUERY TREE";
  if (!enter(p))
    return false;
  st->explained = parse_statement_body(p);
  leave(p);
  return st->explained != NULL;
}

static const char *const statement_words[] = {
  "SELECT", "WITH", "INSERT", "CREATE", "DROP", "TRUNCATE", "RENAME", "ALTER", "SHOW", "DESCRIBE",
  "DESC", "EXISTS", "OPTIMIZE", "SYSTEM", "SET", "USE", "EXPLAIN",
};

static struct sql_statement *parse_statement_body(struct parser *p)
{
  struct sql_statement *st = arena_new(p->a, struct sql_statement);
  st->pos = peek(p)->pos;
  st->data_offset = p->len;
  bool ok;
  if (starts_select(p, 0) || at(p, TOK_LPAREN)) {
    st->kind = STMT_SELECT;
    st->select = parse_select_union(p);
    ok = st->select != NULL;
  } else if (accept_kw(p, "INSERT")) {
    ok = parse_insert(p, st);
  } else if (accept_kw(p, "CREATE")) {
    ok = parse_create(p, st);
  } else if (accept_kw(p, "DROP")) {
    ok = parse_drop(p, st);
  } else if (accept_kw(p, "TRUNCATE")) {
    st->kind = STMT_TRUNCATE;
    st->object = OBJECT_TABLE;
    if (accept_kw(p, "TEMPORARY"))
      st->temporary = true;
    accept_kw(p, "TABLE");
    st->if_exists = parse_if_exists(p);
    ok = parse_qualified_name(p, &st->database, &st->name) && skip_on_cluster(p);
  } else if (accept_kw(p, "RENAME")) {
    ok = parse_rename(p, st);
  } else if (accept_kw(p, "ALTER")) {
    ok = parse_alter(p, st);
  } else if (accept_kw(p, "SHOW")) {
    ok = parse_show(p, st);
  } else if (accept_kw(p, "DESCRIBE") || accept_kw(p, "DESC")) {
    st->kind = STMT_DESCRIBE;
    st->object = OBJECT_TABLE;
    accept_kw(p, "TABLE");
    if (at(p, TOK_LPAREN) && starts_select(p, 1)) {
      advance(p);
      st->select = parse_select_union(p);
      ok = st->select && accept(p, TOK_RPAREN);
    } else {
      ok = parse_qualified_name(p, &st->database, &st->name);
    }
  } else if (accept_kw(p, "EXISTS")) {
    st->kind = STMT_EXISTS;
    if (accept_kw(p, "TEMPORARY"))
      st->temporary = true;
    ok = parse_object_kind(p, st, false) && parse_object_name(p, st);
  } else if (accept_kw(p, "OPTIMIZE")) {
    st->kind = STMT_OPTIMIZE;
    st->object = OBJECT_TABLE;
    ok = accept_kw(p, "TABLE") && parse_qualified_name(p, &st->database, &st->name) && skip_on_cluster(p);
    if (ok && accept_kw(p, "PARTITION"))
      ok = parse_partition_spec(p, &st->partition, &st->partition_is_id);
    if (ok && accept_kw(p, "FINAL"))
      st->final = true;
    if (ok && accept_kw(p, "DEDUPLICATE"))
      st->deduplicate = true;
  } else if (accept_kw(p, "SYSTEM")) {
    ok = parse_system(p, st);
  } else if (accept_kw(p, "SET")) {
    st->kind = STMT_SET;
    ok = parse_assignments(p, &st->settings, true);
  } else if (accept_kw(p, "USE")) {
    st->kind = STMT_USE;
    st->object = OBJECT_DATABASE;
    ok = parse_name(p, &st->name);
  } else if (accept_kw(p, "EXPLAIN")) {
    ok = parse_explain(p, st);
  } else {
    for (size_t k = 0; k < sizeof statement_words / sizeof statement_words[0]; k++)
      expect(p, statement_words[k]);
    ok = false;
  }
  return ok ? st : NULL;
}

/* [INTO OUTFILE 'x'] [FORMAT name] [SETTINGS …], in any order, once each. */
static bool parse_trailing(struct parser *p, struct sql_statement *st)
{
  bool settings = false;
  for (;;) {
    if (!st->into_outfile && accept_kw2(p, "INTO", "OUTFILE", "INTO OUTFILE")) {
      if (!parse_string(p, &st->into_outfile))
        return false;
    } else if (!st->format && accept_kw(p, "FORMAT")) {
      if (!parse_name(p, &st->format))
        return false;
    } else if (!settings && accept_kw(p, "SETTINGS")) {
      settings = true;
      if (!parse_assignments(p, &st->settings, true))
        return false;
    } else {
      return true;
    }
  }
}

/* SETTINGS inside the top-level SELECTs apply to the whole query, so they
 * are copied into the statement's list ahead of the trailing ones. */
static void hoist_select_settings(struct parser *p, struct sql_statement *st)
{
  if (st->kind != STMT_SELECT || !st->select)
    return;
  struct ast_list trailing = st->settings;
  st->settings = (struct ast_list){ NULL, 0 };
  const struct ast_list *selects = &st->select->u.select_union.selects;
  for (uint32_t k = 0; k < selects->count; k++) {
    const struct ast *s = selects->items[k];
    if (s->kind != AST_SELECT)
      continue;
    for (uint32_t j = 0; j < s->u.select.settings.count; j++)
      push(p, &st->settings, s->u.select.settings.items[j]);
  }
  for (uint32_t j = 0; j < trailing.count; j++)
    push(p, &st->settings, trailing.items[j]);
}

/* ---- errors ------------------------------------------------------------ */

static int syntax_error(struct parser *p, struct error *err, uint32_t tok_index, const char *hint)
{
  const struct token *t = tok_at(p, tok_index);
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, "Syntax error");
  if (hint)
    buf_printf(&b, " (%s)", hint);
  buf_printf(&b, ": failed at position %u", t->pos + 1);
  if (t->kind == TOK_END || t->kind == TOK_SEMICOLON) {
    buf_append_cstr(&b, " (end of query)");
  } else {
    uint32_t n = t->len > SYNTAX_ERROR_TOKEN_BYTES ? SYNTAX_ERROR_TOKEN_BYTES : t->len;
    buf_printf(&b, " ('%.*s')", (int)n, p->text + t->pos);
  }
  const char *nl = memchr(p->text, '\n', p->len);
  if (nl && (uint32_t)(nl - p->text) + 1 < p->len) {
    uint32_t line = 1, col = 1;
    for (uint32_t k = 0; k < t->pos && k < p->len; k++) {
      if (p->text[k] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    buf_printf(&b, " (line %u, col %u)", line, col);
  }
  uint32_t show = p->len - t->pos;
  if (show > SYNTAX_ERROR_SHOW_BYTES) {
    show = SYNTAX_ERROR_SHOW_BYTES;
    while (show > 0 && ((unsigned char)p->text[t->pos + show] & 0xC0) == 0x80)
      show--;
  }
  buf_append_cstr(&b, ": ");
  buf_append(&b, p->text + t->pos, show);
  buf_append_cstr(&b, ". ");
  const char *lex = lexer_error_text(t->kind);
  if (lex) {
    buf_printf(&b, "%s.", lex);
  } else if (!hint && p->nexpected) {
    buf_append_cstr(&b, p->nexpected == 1 ? "Expected " : "Expected one of: ");
    for (uint32_t k = 0; k < p->nexpected; k++) {
      if (k)
        buf_append_cstr(&b, ", ");
      buf_append_cstr(&b, p->expected[k]);
    }
    buf_append_char(&b, '.');
  }
  /* the message buffer is bounded; keep the tail from being cut mid-UTF-8 */
  size_t n = b.len < ERROR_MESSAGE_MAX - 1 ? b.len : ERROR_MESSAGE_MAX - 1;
  while (n > 0 && n < b.len && ((unsigned char)b.data[n] & 0xC0) == 0x80)
    n--;
  int rc = error_set(err, ERR_SYNTAX_ERROR, "%.*s", (int)n, b.data);
  buf_free(&b);
  return rc;
}

static int fatal_error(struct parser *p, struct error *err)
{
  if (p->fatal == ERR_TOO_DEEP_AST)
    return error_set(err, ERR_TOO_DEEP_AST, "AST is too deep. Maximum: %d", SQL_AST_DEPTH_MAX);
  return error_set(err, ERR_TOO_BIG_AST, "AST is too big. Maximum: %d", SQL_AST_ELEMENTS_MAX);
}

static int depth_check(const struct ast *node_, uint32_t depth, void *ctx)
{
  (void)node_;
  (void)ctx;
  return depth > SQL_AST_DEPTH_MAX ? ERR_TOO_DEEP_AST : 0;
}

int sql_parse(struct arena *a, const char *text, size_t len, struct sql_statement **out, struct error *err)
{
  *out = NULL;
  if (len >= UINT32_MAX)
    return error_set(err, ERR_QUERY_IS_TOO_LARGE, "Query is too large (%zu bytes)", len);
  struct parser p;
  memset(&p, 0, sizeof p);
  p.a = a;
  p.text = text;
  p.len = (uint32_t)len;
  p.end_token = (struct token){ TOK_END, (uint32_t)len, 0 };
  lexer_init(&p.lx, text, (uint32_t)len);

  struct sql_statement *st = parse_statement_body(&p);
  if (st && !p.stop && !parse_trailing(&p, st))
    st = NULL;
  if (p.fatal)
    return fatal_error(&p, err);
  if (!st)
    return syntax_error(&p, err, p.far, NULL);
  if (!p.stop) {
    if (at(&p, TOK_SEMICOLON)) {
      uint32_t semi = p.i;
      advance(&p);
      if (!at(&p, TOK_END))
        return syntax_error(&p, err, semi, "Multi-statements are not allowed");
    } else if (!at(&p, TOK_END)) {
      expect(&p, "end of query");
      return syntax_error(&p, err, p.far, NULL);
    }
  }
  hoist_select_settings(&p, st);
  int rc = sql_statement_walk(a, st, depth_check, NULL);
  if (rc) {
    p.fatal = rc;
    return fatal_error(&p, err);
  }
  *out = st;
  return 0;
}
