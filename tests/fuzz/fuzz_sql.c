/* libFuzzer target for the SQL lexer/parser: parse arbitrary bytes in an
 * arena, check the invariants of the result (or of the error), format every
 * node of the tree, and reset the arena. */
#include "query/ast.h"
#include "base/limits.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct check_ctx {
  size_t size;
  struct buf out;
};

static int check_node(const struct ast *n, uint32_t depth, void *arg)
{
  struct check_ctx *c = arg;
  if (depth > SQL_AST_DEPTH_MAX)
    abort();
  if ((size_t)n->pos + n->len > c->size)
    abort();
  buf_reset(&c->out);
  ast_format(n, &c->out);
  if (n->kind == AST_FUNCTION && !n->u.function.name)
    abort();
  if (n->kind == AST_IDENTIFIER && n->u.identifier.part_count == 0)
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct arena a;
  static int ready;
  if (!ready) {
    arena_init(&a, 0);
    ready = 1;
  }
  if (size > SQL_QUERY_BYTES_MAX)
    return 0;
  /* the parser must not read past `size`: give it an exact heap copy */
  char *text = malloc(size ? size : 1);
  memcpy(text, data, size);
  struct sql_statement *st = NULL;
  struct error err = { 0 };
  int rc = sql_parse(&a, text, size, &st, &err);
  if (rc == 0) {
    if (!st || st->data_offset > size)
      abort();
    struct check_ctx c = { size, { 0 } };
    buf_init(&c.out);
    sql_statement_walk(&a, st, check_node, &c);
    buf_free(&c.out);
  } else {
    if (st || err.code != rc || !err.message[0])
      abort();
    if (rc != ERR_SYNTAX_ERROR && rc != ERR_TOO_DEEP_AST && rc != ERR_TOO_BIG_AST)
      abort();
  }
  free(text);
  arena_reset(&a);
  return 0;
}
