/* SQL lexer (private to query/): splits ClickHouse SQL into tokens lazily,
 * one call at a time, so INSERT … FORMAT data after the statement head is
 * never lexed. Never fails: malformed input becomes a TOK_ERROR_* token
 * that the parser reports as a syntax error. Positions are byte offsets. */
#ifndef SPANHOUSE_QUERY_LEXER_H
#define SPANHOUSE_QUERY_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

enum token_kind {
  TOK_END,               /* end of text (pos = text length) */
  TOK_WORD,              /* bare word: identifier or keyword */
  TOK_QUOTED_ID,         /* "name" or `name` */
  TOK_NUMBER,
  TOK_STRING,            /* 'text' or $$text$$ */
  TOK_LPAREN, TOK_RPAREN, TOK_LBRACKET, TOK_RBRACKET, TOK_LBRACE, TOK_RBRACE,
  TOK_COMMA, TOK_SEMICOLON, TOK_DOT, TOK_STAR, TOK_PLUS, TOK_MINUS, TOK_SLASH, TOK_PERCENT,
  TOK_ARROW,             /* -> */
  TOK_QUESTION, TOK_COLON, TOK_DOUBLE_COLON,
  TOK_EQ,                /* = */
  TOK_EQEQ,              /* == */
  TOK_NE,                /* != or <> */
  TOK_LT, TOK_GT, TOK_LE, TOK_GE,
  TOK_SPACESHIP,         /* <=> */
  TOK_CONCAT,            /* || */
  TOK_AT,                /* @ */
  /* errors: the parser reports them with the message lexer_error_text() gives */
  TOK_ERROR_STRING,      /* single-quoted string is not closed */
  TOK_ERROR_QUOTED_ID,   /* quoted identifier is not closed */
  TOK_ERROR_COMMENT,     /* multi-line comment is not closed */
  TOK_ERROR_NUMBER,      /* malformed number, e.g. 1a or 0x */
  TOK_ERROR_CHAR,        /* a byte that starts no token */
};

struct token {
  enum token_kind kind;
  uint32_t pos;          /* byte offset of the first byte */
  uint32_t len;          /* bytes of source text */
};

struct lexer {
  const char *text;
  uint32_t len;
  uint32_t pos;          /* next byte to look at */
  enum token_kind prev;  /* kind of the previous token, for `t.1` vs `.5` */
};

void lexer_init(struct lexer *lx, const char *text, uint32_t len);
/* Produces the next token; TOK_END forever once the text is exhausted. */
void lexer_next(struct lexer *lx, struct token *out);

/* Human text for an error token, e.g. "Single quoted string is not closed"; NULL otherwise. */
const char *lexer_error_text(enum token_kind kind);
/* Name of a token kind in ClickHouse's vocabulary: "Comma", "ClosingRoundBracket", … */
const char *lexer_kind_name(enum token_kind kind);

/* Decodes a quoted token (string or quoted identifier) with ClickHouse's
 * escapes (\n \t \\ \' \xHH …, doubled quotes; $$…$$ verbatim) into a
 * NUL-terminated arena copy; *out_len gets the byte count (may hold NULs). */
char *lexer_unquote(struct arena *a, const char *text, const struct token *t, uint32_t *out_len);

/* Whether a byte may be part of a bare word (letters, digits, '_', and
 * bytes >= 0x80 so UTF-8 identifiers work). */
bool lexer_is_word_char(unsigned char c);

#endif
