/* Lexer: token kinds and extents, numbers, strings and their escapes,
 * comments, and the error tokens malformed input turns into. */
#include "query/lexer.h"
#include "tests/unit/test.h"

static enum token_kind kinds[64];
static struct token toks[64];

static int lex_all(const char *s)
{
  struct lexer lx;
  lexer_init(&lx, s, (uint32_t)strlen(s));
  int n = 0;
  for (;;) {
    lexer_next(&lx, &toks[n]);
    kinds[n] = toks[n].kind;
    if (toks[n].kind == TOK_END || n == 63)
      return n;
    n++;
  }
}

static void check_text(const char *s, int i, const char *want)
{
  CHECK_EQ_MEM(s + toks[i].pos, toks[i].len, want);
}

static void test_operators(void)
{
  const char *s = "a::b -> c || d != e <> f <= g >= h == i <=> j ? k : l";
  int n = lex_all(s);
  CHECK_EQ_INT(n, 23);
  CHECK_EQ_INT(kinds[1], TOK_DOUBLE_COLON);
  CHECK_EQ_INT(kinds[3], TOK_ARROW);
  CHECK_EQ_INT(kinds[5], TOK_CONCAT);
  CHECK_EQ_INT(kinds[7], TOK_NE);
  CHECK_EQ_INT(kinds[9], TOK_NE);
  CHECK_EQ_INT(kinds[11], TOK_LE);
  CHECK_EQ_INT(kinds[13], TOK_GE);
  CHECK_EQ_INT(kinds[15], TOK_EQEQ);
  CHECK_EQ_INT(kinds[17], TOK_SPACESHIP);
  CHECK_EQ_INT(kinds[19], TOK_QUESTION);
  CHECK_EQ_INT(kinds[21], TOK_COLON);
  CHECK_EQ_INT(toks[n].pos, strlen(s));
}

static void test_numbers(void)
{
  const char *s = "1 1.5 1e10 1.5e-3 0x1F 0b101 1_000 1. 0x1p3";
  int n = lex_all(s);
  CHECK_EQ_INT(n, 9);
  for (int i = 0; i < n; i++)
    CHECK_EQ_INT(kinds[i], TOK_NUMBER);
  check_text(s, 6, "1_000");
  /* .5 starts a number except right after a word, number or closing bracket */
  n = lex_all("(.5)");
  CHECK_EQ_INT(kinds[1], TOK_NUMBER);
  check_text("(.5)", 1, ".5");
  n = lex_all("1 .5");
  CHECK_EQ_INT(kinds[1], TOK_DOT);
  /* t.1.2 is t . 1 . 2, not t . 1.2 */
  n = lex_all("t.1.2");
  CHECK_EQ_INT(n, 5);
  CHECK_EQ_INT(kinds[1], TOK_DOT);
  CHECK_EQ_INT(kinds[2], TOK_NUMBER);
  CHECK_EQ_INT(kinds[3], TOK_DOT);
  check_text("t.1.2", 4, "2");
  /* (x).5 keeps the dot as an operator */
  n = lex_all("(x).5");
  CHECK_EQ_INT(kinds[3], TOK_DOT);
  n = lex_all("1a 0x 1e");
  CHECK_EQ_INT(n, 3);
  CHECK_EQ_INT(kinds[0], TOK_ERROR_NUMBER);
  CHECK_EQ_INT(kinds[1], TOK_ERROR_NUMBER);
  CHECK_EQ_INT(kinds[2], TOK_ERROR_NUMBER);
}

static void test_strings_and_identifiers(void)
{
  struct arena a;
  arena_init(&a, 0);
  const char *s = "'it''s' 'a\\'b\\n\\t\\\\\\0\\x41\\q' \"col name\" `back``tick` $$raw 'x'$$ $t$y$t$";
  int n = lex_all(s);
  CHECK_EQ_INT(n, 6);
  CHECK_EQ_INT(kinds[0], TOK_STRING);
  CHECK_EQ_INT(kinds[1], TOK_STRING);
  CHECK_EQ_INT(kinds[2], TOK_QUOTED_ID);
  CHECK_EQ_INT(kinds[3], TOK_QUOTED_ID);
  CHECK_EQ_INT(kinds[4], TOK_STRING);
  CHECK_EQ_INT(kinds[5], TOK_STRING);
  uint32_t len;
  char *u = lexer_unquote(&a, s, &toks[0], &len);
  CHECK_EQ_MEM(u, len, "it's");
  u = lexer_unquote(&a, s, &toks[1], &len);
  CHECK_EQ_INT(len, 9);
  CHECK(memcmp(u, "a'b\n\t\\\0Aq", 9) == 0);
  u = lexer_unquote(&a, s, &toks[2], &len);
  CHECK_EQ_STR(u, "col name");
  u = lexer_unquote(&a, s, &toks[3], &len);
  CHECK_EQ_STR(u, "back`tick");
  u = lexer_unquote(&a, s, &toks[4], &len);
  CHECK_EQ_STR(u, "raw 'x'");
  u = lexer_unquote(&a, s, &toks[5], &len);
  CHECK_EQ_STR(u, "y");
  n = lex_all("caf\xC3\xA9 _x1");
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_INT(kinds[0], TOK_WORD);
  CHECK_EQ_INT(toks[0].len, 5);
  n = lex_all("'abc");
  CHECK_EQ_INT(kinds[0], TOK_ERROR_STRING);
  n = lex_all("'abc\\'");
  CHECK_EQ_INT(kinds[0], TOK_ERROR_STRING);
  n = lex_all("`abc");
  CHECK_EQ_INT(kinds[0], TOK_ERROR_QUOTED_ID);
  arena_destroy(&a);
}

static void test_comments(void)
{
  const char *s = "a -- line\n b /* block /* nested */ still */ c # hash\n d #!shebang\n e";
  int n = lex_all(s);
  CHECK_EQ_INT(n, 5);
  check_text(s, 1, "b");
  check_text(s, 2, "c");
  check_text(s, 3, "d");
  check_text(s, 4, "e");
  n = lex_all("a /* open");
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_INT(kinds[1], TOK_ERROR_COMMENT);
  CHECK_EQ_INT(toks[1].pos, 2);
  n = lex_all("a ! b | c ~");
  CHECK_EQ_INT(kinds[1], TOK_ERROR_CHAR);
  CHECK_EQ_INT(kinds[3], TOK_ERROR_CHAR);
  CHECK_EQ_INT(kinds[5], TOK_ERROR_CHAR);
  n = lex_all("{p:UInt8}");
  CHECK_EQ_INT(n, 5);
  CHECK_EQ_INT(kinds[0], TOK_LBRACE);
  CHECK_EQ_INT(kinds[2], TOK_COLON);
  CHECK_EQ_INT(kinds[4], TOK_RBRACE);
}

int main(void)
{
  test_operators();
  test_numbers();
  test_strings_and_identifiers();
  test_comments();
  TEST_DONE();
}
