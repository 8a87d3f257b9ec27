/* ClickHouse SQL lexer; see lexer.h. Comments (`--`, `# `, `#!`, and
 * nestable C-style blocks) and whitespace are skipped here, so the parser
 * sees only significant tokens. */
#include "query/lexer.h"

#include <string.h>

void lexer_init(struct lexer *lx, const char *text, uint32_t len)
{
  lx->text = text;
  lx->len = len;
  lx->pos = 0;
  lx->prev = TOK_END;
}

bool lexer_is_word_char(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool is_hex(unsigned char c)
{
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_space(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Skips whitespace and comments. Returns false (with *comment_start set)
 * when a multi-line comment is not closed. */
static bool skip_blank(struct lexer *lx, uint32_t *comment_start)
{
  const char *s = lx->text;
  uint32_t n = lx->len;
  while (lx->pos < n) {
    unsigned char c = (unsigned char)s[lx->pos];
    if (is_space(c)) {
      lx->pos++;
    } else if (c == '-' && lx->pos + 1 < n && s[lx->pos + 1] == '-') {
      while (lx->pos < n && s[lx->pos] != '\n')
        lx->pos++;
    } else if (c == '#' && (lx->pos + 1 >= n || s[lx->pos + 1] == ' ' || s[lx->pos + 1] == '!')) {
      while (lx->pos < n && s[lx->pos] != '\n')
        lx->pos++;
    } else if (c == '/' && lx->pos + 1 < n && s[lx->pos + 1] == '*') {
      uint32_t start = lx->pos;
      uint32_t level = 0;
      while (lx->pos < n) {
        if (s[lx->pos] == '/' && lx->pos + 1 < n && s[lx->pos + 1] == '*') {
          level++;
          lx->pos += 2;
        } else if (s[lx->pos] == '*' && lx->pos + 1 < n && s[lx->pos + 1] == '/') {
          level--;
          lx->pos += 2;
          if (level == 0)
            break;
        } else {
          lx->pos++;
        }
      }
      if (level != 0) {
        *comment_start = start;
        return false;
      }
    } else {
      break;
    }
  }
  return true;
}

/* Reads a run of digits allowing single '_' separators between digits. */
static uint32_t scan_digits(const char *s, uint32_t i, uint32_t n, bool (*ok)(unsigned char))
{
  while (i < n) {
    if (ok((unsigned char)s[i]))
      i++;
    else if (s[i] == '_' && i + 1 < n && ok((unsigned char)s[i + 1]) && i > 0 && ok((unsigned char)s[i - 1]))
      i++;
    else
      break;
  }
  return i;
}

static bool is_bin(unsigned char c) { return c == '0' || c == '1'; }

static enum token_kind scan_number(struct lexer *lx, uint32_t *end)
{
  const char *s = lx->text;
  uint32_t n = lx->len, i = lx->pos;
  bool bad = false;
  if (lx->prev == TOK_DOT && is_digit((unsigned char)s[i])) {
    /* tuple element index: t.1.2 is t . 1 . 2 */
    while (i < n && is_digit((unsigned char)s[i]))
      i++;
  } else if (s[i] == '0' && i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    uint32_t d = scan_digits(s, i + 2, n, is_hex);
    bad = d == i + 2;
    i = d;
    if (!bad && i < n && s[i] == '.') {
      i = scan_digits(s, i + 1, n, is_hex);
    }
    if (!bad && i < n && (s[i] == 'p' || s[i] == 'P')) {
      uint32_t j = i + 1;
      if (j < n && (s[j] == '+' || s[j] == '-'))
        j++;
      uint32_t k = scan_digits(s, j, n, is_digit);
      bad = k == j;
      i = k;
    }
  } else if (s[i] == '0' && i + 1 < n && (s[i + 1] == 'b' || s[i + 1] == 'B') && i + 2 < n && is_bin((unsigned char)s[i + 2])) {
    i = scan_digits(s, i + 2, n, is_bin);
  } else {
    i = scan_digits(s, i, n, is_digit);
    if (i < n && s[i] == '.') {
      i = scan_digits(s, i + 1, n, is_digit);
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
      uint32_t j = i + 1;
      if (j < n && (s[j] == '+' || s[j] == '-'))
        j++;
      uint32_t k = scan_digits(s, j, n, is_digit);
      bad = k == j;
      i = k;
    }
  }
  if (i < n && lexer_is_word_char((unsigned char)s[i])) {
    bad = true;
  }
  if (bad) {
    while (i < n && lexer_is_word_char((unsigned char)s[i]))
      i++;
  }
  *end = i;
  return bad ? TOK_ERROR_NUMBER : TOK_NUMBER;
}

/* Scans a quoted run starting at the quote; returns the end (after the
 * closing quote) or n with *closed = false. */
static uint32_t scan_quoted(const char *s, uint32_t i, uint32_t n, char q, bool *closed)
{
  i++;
  while (i < n) {
    if (s[i] == '\\') {
      i += 2;
    } else if (s[i] == q) {
      if (i + 1 < n && s[i + 1] == q) {
        i += 2;
      } else {
        *closed = true;
        return i + 1;
      }
    } else {
      i++;
    }
  }
  *closed = false;
  return n;
}

/* $tag$ … $tag$ heredoc; returns 0 when s[i] does not start one. */
static uint32_t scan_heredoc(const char *s, uint32_t i, uint32_t n, bool *closed)
{
  uint32_t j = i + 1;
  while (j < n && lexer_is_word_char((unsigned char)s[j]) && !is_digit((unsigned char)s[j]))
    j++;
  if (j >= n || s[j] != '$')
    return 0;
  uint32_t tag_len = j + 1 - i;
  for (uint32_t k = j + 1; k + tag_len <= n; k++) {
    if (s[k] == '$' && memcmp(s + k, s + i, tag_len) == 0) {
      *closed = true;
      return k + tag_len;
    }
  }
  *closed = false;
  return n;
}

void lexer_next(struct lexer *lx, struct token *out)
{
  uint32_t comment_start = 0;
  if (!skip_blank(lx, &comment_start)) {
    out->kind = TOK_ERROR_COMMENT;
    out->pos = comment_start;
    out->len = lx->len - comment_start;
    lx->pos = lx->len;
    lx->prev = out->kind;
    return;
  }
  const char *s = lx->text;
  uint32_t n = lx->len, i = lx->pos;
  out->pos = i;
  if (i >= n) {
    out->kind = TOK_END;
    out->len = 0;
    lx->prev = TOK_END;
    return;
  }
  unsigned char c = (unsigned char)s[i];
  unsigned char c1 = i + 1 < n ? (unsigned char)s[i + 1] : 0;
  unsigned char c2 = i + 2 < n ? (unsigned char)s[i + 2] : 0;
  enum token_kind k;
  uint32_t end = i + 1;
  bool closed;

  if (is_digit(c)) {
    k = scan_number(lx, &end);
  } else if (c == '.' && is_digit(c1) && lx->prev != TOK_WORD && lx->prev != TOK_QUOTED_ID &&
             lx->prev != TOK_RPAREN && lx->prev != TOK_RBRACKET && lx->prev != TOK_NUMBER &&
             lx->prev != TOK_DOT) {
    k = scan_number(lx, &end);
  } else if (lexer_is_word_char(c)) {
    while (end < n && lexer_is_word_char((unsigned char)s[end]))
      end++;
    k = TOK_WORD;
  } else {
    switch (c) {
    case '\'':
      end = scan_quoted(s, i, n, '\'', &closed);
      k = closed ? TOK_STRING : TOK_ERROR_STRING;
      break;
    case '"':
    case '`':
      end = scan_quoted(s, i, n, (char)c, &closed);
      k = closed ? TOK_QUOTED_ID : TOK_ERROR_QUOTED_ID;
      break;
    case '$':
      end = scan_heredoc(s, i, n, &closed);
      if (end == 0) {
        end = i + 1;
        k = TOK_ERROR_CHAR;
      } else {
        k = closed ? TOK_STRING : TOK_ERROR_STRING;
      }
      break;
    case '(': k = TOK_LPAREN; break;
    case ')': k = TOK_RPAREN; break;
    case '[': k = TOK_LBRACKET; break;
    case ']': k = TOK_RBRACKET; break;
    case '{': k = TOK_LBRACE; break;
    case '}': k = TOK_RBRACE; break;
    case ',': k = TOK_COMMA; break;
    case ';': k = TOK_SEMICOLON; break;
    case '.': k = TOK_DOT; break;
    case '*': k = TOK_STAR; break;
    case '+': k = TOK_PLUS; break;
    case '/': k = TOK_SLASH; break;
    case '%': k = TOK_PERCENT; break;
    case '?': k = TOK_QUESTION; break;
    case '@': k = TOK_AT; break;
    case '-':
      if (c1 == '>') { k = TOK_ARROW; end = i + 2; } else { k = TOK_MINUS; }
      break;
    case ':':
      if (c1 == ':') { k = TOK_DOUBLE_COLON; end = i + 2; } else { k = TOK_COLON; }
      break;
    case '=':
      if (c1 == '=') { k = TOK_EQEQ; end = i + 2; } else { k = TOK_EQ; }
      break;
    case '!':
      if (c1 == '=') { k = TOK_NE; end = i + 2; } else { k = TOK_ERROR_CHAR; }
      break;
    case '<':
      if (c1 == '=' && c2 == '>') { k = TOK_SPACESHIP; end = i + 3; }
      else if (c1 == '=') { k = TOK_LE; end = i + 2; }
      else if (c1 == '>') { k = TOK_NE; end = i + 2; }
      else { k = TOK_LT; }
      break;
    case '>':
      if (c1 == '=') { k = TOK_GE; end = i + 2; } else { k = TOK_GT; }
      break;
    case '|':
      if (c1 == '|') { k = TOK_CONCAT; end = i + 2; } else { k = TOK_ERROR_CHAR; }
      break;
    default:
      k = TOK_ERROR_CHAR;
      break;
    }
  }
  out->kind = k;
  out->len = end - i;
  lx->pos = end;
  lx->prev = k;
}

const char *lexer_error_text(enum token_kind kind)
{
  switch (kind) {
  case TOK_ERROR_STRING: return "Single quoted string is not closed";
  case TOK_ERROR_QUOTED_ID: return "Quoted identifier is not closed";
  case TOK_ERROR_COMMENT: return "Multiline comment is not closed";
  case TOK_ERROR_NUMBER: return "Wrong number";
  case TOK_ERROR_CHAR: return "Unrecognized token";
  default: return NULL;
  }
}

const char *lexer_kind_name(enum token_kind kind)
{
  switch (kind) {
  case TOK_END: return "end of query";
  case TOK_WORD: return "identifier";
  case TOK_QUOTED_ID: return "quoted identifier";
  case TOK_NUMBER: return "number";
  case TOK_STRING: return "string literal";
  case TOK_LPAREN: return "OpeningRoundBracket";
  case TOK_RPAREN: return "ClosingRoundBracket";
  case TOK_LBRACKET: return "OpeningSquareBracket";
  case TOK_RBRACKET: return "ClosingSquareBracket";
  case TOK_LBRACE: return "OpeningCurlyBrace";
  case TOK_RBRACE: return "ClosingCurlyBrace";
  case TOK_COMMA: return "Comma";
  case TOK_SEMICOLON: return "Semicolon";
  case TOK_DOT: return "Dot";
  case TOK_STAR: return "Asterisk";
  case TOK_PLUS: return "Plus";
  case TOK_MINUS: return "Minus";
  case TOK_SLASH: return "Slash";
  case TOK_PERCENT: return "Percent";
  case TOK_ARROW: return "Arrow";
  case TOK_QUESTION: return "QuestionMark";
  case TOK_COLON: return "Colon";
  case TOK_DOUBLE_COLON: return "DoubleColon";
  case TOK_EQ: return "Equals";
  case TOK_EQEQ: return "Equals";
  case TOK_NE: return "NotEquals";
  case TOK_LT: return "Less";
  case TOK_GT: return "Greater";
  case TOK_LE: return "LessOrEquals";
  case TOK_GE: return "GreaterOrEquals";
  case TOK_SPACESHIP: return "Spaceship";
  case TOK_CONCAT: return "Concatenation";
  case TOK_AT: return "At";
  default: return "token";
  }
}

static int hex_value(unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return c - 'A' + 10;
}

char *lexer_unquote(struct arena *a, const char *text, const struct token *t, uint32_t *out_len)
{
  const char *s = text + t->pos;
  uint32_t n = t->len;
  char *out = arena_alloc(a, (size_t)n + 1);
  uint32_t o = 0;
  if (n >= 2 && s[0] == '$') {
    uint32_t tag = 1;
    while (s[tag] != '$')
      tag++;
    tag++;
    uint32_t body = n >= 2 * tag ? n - 2 * tag : 0;
    memcpy(out, s + tag, body);
    out[body] = '\0';
    *out_len = body;
    return out;
  }
  char q = s[0];
  uint32_t end = n >= 2 ? n - 1 : n;  /* drop the closing quote */
  for (uint32_t i = 1; i < end; i++) {
    char c = s[i];
    if (c == '\\' && i + 1 < end) {
      char e = s[++i];
      switch (e) {
      case 'b': out[o++] = '\b'; break;
      case 'f': out[o++] = '\f'; break;
      case 'r': out[o++] = '\r'; break;
      case 'n': out[o++] = '\n'; break;
      case 't': out[o++] = '\t'; break;
      case '0': out[o++] = '\0'; break;
      case 'a': out[o++] = '\a'; break;
      case 'v': out[o++] = '\v'; break;
      case 'e': out[o++] = '\x1b'; break;
      case 'x':
        if (i + 2 < end && is_hex((unsigned char)s[i + 1]) && is_hex((unsigned char)s[i + 2])) {
          out[o++] = (char)(hex_value((unsigned char)s[i + 1]) * 16 + hex_value((unsigned char)s[i + 2]));
          i += 2;
        } else {
          out[o++] = 'x';
        }
        break;
      default: out[o++] = e; break;
      }
    } else if (c == q && i + 1 < end && s[i + 1] == q) {
      out[o++] = q;
      i++;
    } else {
      out[o++] = c;
    }
  }
  out[o] = '\0';
  *out_len = o;
  return out;
}
