/* The SQL abstract syntax tree: what query/parser.c produces and the
 * analyzer consumes. All nodes live in the query arena.
 *
 * Invariants, following ClickHouse so that default column names match:
 *  1. Every operator becomes an AST_FUNCTION with ClickHouse's function name:
 *     a+b plus, a-b minus, a*b multiply, a/b divide, a%b modulo, -a negate,
 *     a=b / a==b equals, != / <> notEquals, < less, <= lessOrEquals,
 *     > greater, >= greaterOrEquals, NOT not, AND and, OR or (flattened:
 *     a AND b AND c is one and() with three args), a || b concat,
 *     a LIKE b like, NOT LIKE notLike, ILIKE ilike, NOT ILIKE notILike,
 *     a IN x in, NOT IN notIn, GLOBAL IN globalIn, IS NULL isNull,
 *     IS NOT NULL isNotNull, a BETWEEN x AND y →
 *     and(greaterOrEquals(a, x), lessOrEquals(a, y)) (NOT BETWEEN → or(less, greater);
 *     the node `a` is shared by both comparisons, and counts twice toward
 *     SQL_AST_ELEMENTS_MAX, so nested BETWEENs cannot blow up a traversal),
 *     c ? x : y if, CASE WHEN … multiIf, CASE e WHEN … caseWithExpression,
 *     [a, b] array, (a, b) tuple, a[i] arrayElement, t.1 tupleElement(t, 1),
 *     CAST(x AS T) and x::T → CAST(x, 'T') (type as a string literal),
 *     INTERVAL n UNIT → toInterval<Unit>(n), x -> e → lambda(tuple(x), e),
 *     EXTRACT(DAY FROM d) → toDayOfMonth(d) etc., count(*) → count(),
 *     f(DISTINCT x) → fDistinct(x) (count(DISTINCT x) → countDistinct(x)).
 *  2. A negative numeric literal directly after unary minus is folded into
 *     the literal (-1 is a literal, -x is negate(x)), as ClickHouse does.
 *  3. pos/len are byte offsets into the original query text: errors point
 *     there, and ast_format() gives ClickHouse's default column name. */
#ifndef SPANHOUSE_QUERY_AST_H
#define SPANHOUSE_QUERY_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/error.h"

struct ast;

struct ast_list {
  struct ast **items;
  uint32_t count;
};

enum ast_kind {
  /* expressions */
  AST_LITERAL,
  AST_IDENTIFIER,        /* a, t.a, db.t.a: parts[] */
  AST_ASTERISK,          /* *, or t.* when qualifier is set */
  AST_FUNCTION,          /* name(args), or name(params)(args) for parametric aggregates */
  AST_SUBQUERY,          /* (SELECT …) used as an expression or IN operand */
  AST_QUERY_PARAMETER,   /* {name:Type} */
  AST_ORDER_ELEMENT,     /* expr ASC|DESC NULLS FIRST|LAST COLLATE 'x' */
  AST_SETTING,           /* name = value (value is a literal) */
  /* parts of SELECT */
  AST_SELECT,
  AST_SELECT_UNION,      /* one or more SELECTs joined by UNION ALL / DISTINCT */
  AST_TABLE_EXPR,        /* db.table | (subquery) | table_function(args), [FINAL] [SAMPLE] */
  AST_JOIN,              /* a join element in FROM after the first table */
  AST_ARRAY_JOIN,        /* [LEFT] ARRAY JOIN exprs */
  AST_COLUMN_DEF,        /* name Type [DEFAULT|MATERIALIZED|ALIAS e] [CODEC(..)] [TTL e] [COMMENT 's'] */
  AST_INDEX_DEF,         /* INDEX name expr TYPE type(args) [GRANULARITY n] */
  AST_TTL_ELEMENT,       /* expr [DELETE | TO DISK 'd' | TO VOLUME 'v' | RECOMPRESS CODEC(..)] [WHERE cond] */
};

enum ast_literal_kind {
  LIT_NULL,
  LIT_UINT,              /* non-negative integer that fits UInt64 */
  LIT_INT,               /* negative integer that fits Int64 */
  LIT_FLOAT,             /* anything with '.', exponent, inf, nan, or too big for 64 bits */
  LIT_STRING,            /* unescaped bytes (may contain NUL) */
  LIT_BOOL,              /* true / false */
};

enum ast_join_kind { JOIN_INNER, JOIN_LEFT, JOIN_RIGHT, JOIN_FULL, JOIN_CROSS, JOIN_COMMA, JOIN_PASTE };
enum ast_join_strictness { JOIN_STRICT_DEFAULT, JOIN_STRICT_ALL, JOIN_STRICT_ANY, JOIN_STRICT_SEMI,
                           JOIN_STRICT_ANTI, JOIN_STRICT_ASOF };
enum ast_default_kind { COLUMN_DEFAULT_NONE, COLUMN_DEFAULT, COLUMN_MATERIALIZED, COLUMN_ALIAS, COLUMN_EPHEMERAL };
enum ast_ttl_action { TTL_DELETE, TTL_TO_DISK, TTL_TO_VOLUME, TTL_RECOMPRESS, TTL_GROUP_BY };

struct ast_select {
  struct ast_list with;          /* expressions with aliases; `WITH name AS (SELECT…)` is an AST_SUBQUERY aliased name */
  bool distinct;
  struct ast_list distinct_on;   /* DISTINCT ON (a, b); empty otherwise */
  struct ast_list columns;       /* projection, each possibly aliased */
  struct ast_list from;          /* [0] AST_TABLE_EXPR, then AST_JOIN / AST_ARRAY_JOIN in order; empty = no FROM */
  struct ast *prewhere;
  struct ast *where;
  struct ast_list group_by;
  bool group_by_with_totals;
  bool group_by_with_rollup;
  bool group_by_with_cube;
  struct ast *having;
  struct ast *qualify;
  struct ast_list order_by;      /* AST_ORDER_ELEMENT */
  struct ast *limit_by_limit;    /* LIMIT n [OFFSET m] BY exprs */
  struct ast *limit_by_offset;
  struct ast_list limit_by;
  struct ast *limit;             /* LIMIT n, LIMIT m, n (offset m) */
  struct ast *offset;            /* OFFSET m [ROW|ROWS] or from LIMIT m, n */
  bool limit_with_ties;
  struct ast_list settings;      /* AST_SETTING from a SETTINGS clause inside the SELECT */
};

struct ast_select_union {
  struct ast_list selects;       /* AST_SELECT or nested AST_SELECT_UNION (parenthesized) */
  bool *union_distinct;          /* count-1 entries: true = UNION DISTINCT, false = UNION ALL */
};

struct ast_table_expr {
  const char *database;          /* NULL when not qualified */
  const char *table;             /* NULL for subquery / table function */
  struct ast *subquery;          /* AST_SELECT_UNION */
  struct ast *function;          /* AST_FUNCTION, e.g. numbers(10) */
  struct ast *name_param;        /* FROM {t:Identifier}: an AST_QUERY_PARAMETER that query
                                    parameter substitution turns into database/table */
  bool final;
  struct ast *sample;            /* SAMPLE ratio, or NULL */
  struct ast *sample_offset;     /* SAMPLE k OFFSET m: m, or NULL */
};

struct ast_join {
  enum ast_join_kind kind;
  enum ast_join_strictness strictness;
  bool global;
  struct ast *table;             /* AST_TABLE_EXPR */
  struct ast *on;                /* ON expr, or NULL */
  struct ast_list using_columns; /* USING (a, b): AST_IDENTIFIERs */
};

struct ast_array_join {
  bool left;
  struct ast_list exprs;         /* aliased expressions */
};

struct ast_column_def {
  const char *name;
  const char *type;              /* type text as written, e.g. "LowCardinality(String)"; NULL if omitted */
  uint32_t type_pos;
  enum ast_default_kind default_kind;
  struct ast *default_expr;
  struct ast_list codecs;        /* AST_FUNCTIONs or bare identifiers-as-functions: LZ4, ZSTD(1), Delta(8) */
  struct ast *ttl;
  const char *comment;
};

struct ast_index_def {
  const char *name;
  struct ast *expr;
  struct ast *type;              /* AST_FUNCTION: bloom_filter(0.01), minmax(), set(100), tokenbf_v1(…) */
  uint64_t granularity;          /* 1 when omitted */
};

struct ast_ttl_element {
  struct ast *expr;
  enum ast_ttl_action action;
  const char *target;            /* disk/volume name */
  struct ast_list codecs;        /* RECOMPRESS CODEC(...) */
  struct ast *where;
};

struct ast {
  enum ast_kind kind;
  uint32_t pos;                  /* byte offset of the node's first token in the query text */
  uint32_t len;                  /* byte length of the node's source text */
  const char *alias;             /* `AS name` or implicit alias; NULL if none */
  union {
    struct {
      enum ast_literal_kind kind;
      uint64_t u;                /* LIT_UINT, LIT_BOOL (0/1) */
      int64_t i;                 /* LIT_INT */
      double f;                  /* LIT_FLOAT */
      const char *str;           /* LIT_STRING bytes, NUL-terminated for convenience */
      uint32_t str_len;
    } literal;
    struct {
      const char **parts;        /* ["db", "t", "col"] */
      uint32_t part_count;
    } identifier;
    struct {
      const char *qualifier;     /* t in t.*, else NULL */
      struct ast_list except;    /* * EXCEPT (a, b) */
    } asterisk;
    struct {
      const char *name;          /* as written, except for the rewrites in invariant 1 */
      struct ast_list args;
      struct ast_list params;    /* quantile(0.9)(x): params = [0.9] */
      bool has_params;
      bool is_operator;          /* produced from operator syntax (affects nothing but formatting) */
      struct ast *over;          /* window: OVER (...) as an AST_SELECT holding partition_by in group_by and order_by; NULL if none */
    } function;
    struct {
      struct ast *query;         /* AST_SELECT_UNION */
    } subquery;
    struct {
      const char *name;
      const char *type;          /* type text */
    } param;
    struct {
      struct ast *expr;
      bool descending;
      bool nulls_first;          /* explicit NULLS FIRST; ClickHouse default: NULLS LAST for ASC and DESC */
      bool nulls_explicit;
      const char *collate;
      bool with_fill;
    } order;
    struct {
      const char *name;
      struct ast *value;         /* AST_LITERAL */
    } setting;
    struct ast_select select;
    struct ast_select_union select_union;
    struct ast_table_expr table_expr;
    struct ast_join join;
    struct ast_array_join array_join;
    struct ast_column_def column_def;
    struct ast_index_def index_def;
    struct ast_ttl_element ttl;
  } u;
};

/* ---- statements ------------------------------------------------------ */

enum sql_statement_kind {
  STMT_SELECT,           /* also `WITH … SELECT` and `(SELECT …) UNION ALL …` */
  STMT_INSERT,
  STMT_CREATE_DATABASE,
  STMT_CREATE_TABLE,
  STMT_CREATE_VIEW,      /* [MATERIALIZED] VIEW [TO db.t] AS SELECT */
  STMT_DROP,
  STMT_TRUNCATE,
  STMT_RENAME,
  STMT_ALTER,
  STMT_SHOW_DATABASES,
  STMT_SHOW_TABLES,
  STMT_SHOW_CREATE,
  STMT_DESCRIBE,
  STMT_EXISTS,
  STMT_OPTIMIZE,
  STMT_SYSTEM,
  STMT_SET,
  STMT_USE,
  STMT_EXPLAIN,
};

enum sql_object_kind { OBJECT_TABLE, OBJECT_DATABASE, OBJECT_VIEW, OBJECT_DICTIONARY };

enum alter_command_kind {
  ALTER_ADD_COLUMN, ALTER_DROP_COLUMN, ALTER_MODIFY_COLUMN, ALTER_RENAME_COLUMN, ALTER_COMMENT_COLUMN,
  ALTER_ADD_INDEX, ALTER_DROP_INDEX, ALTER_MATERIALIZE_INDEX,
  ALTER_DROP_PARTITION, ALTER_DETACH_PARTITION, ALTER_ATTACH_PARTITION,
  ALTER_MODIFY_TTL, ALTER_REMOVE_TTL, ALTER_MODIFY_SETTING, ALTER_DELETE, ALTER_UPDATE,
  ALTER_MOVE_PARTITION, ALTER_MOVE_PART,
};

struct alter_command {
  enum alter_command_kind kind;
  bool if_exists;                /* DROP COLUMN IF EXISTS, … */
  bool if_not_exists;            /* ADD COLUMN IF NOT EXISTS, … */
  struct ast *column;            /* AST_COLUMN_DEF for ADD/MODIFY COLUMN */
  struct ast *index;             /* AST_INDEX_DEF for ADD INDEX */
  const char *name;              /* column/index name for DROP/RENAME/COMMENT; part name for MOVE PART */
  const char *new_name;          /* RENAME COLUMN a TO b */
  const char *after;             /* ADD COLUMN … AFTER x; "" for FIRST; NULL if neither */
  struct ast *partition;         /* PARTITION expr (or ID 'x' as a string literal with partition_is_id) */
  bool partition_is_id;
  struct ast_list ttl;           /* MODIFY TTL: AST_TTL_ELEMENTs */
  struct ast_list settings;      /* MODIFY SETTING */
  struct ast *where;             /* DELETE WHERE / UPDATE … WHERE */
  struct ast_list assignments;   /* UPDATE a = e: AST_SETTING with expr value */
  bool to_disk;                  /* MOVE … TO DISK (else VOLUME) */
  const char *target;
  const char *comment;
};

struct sql_statement {
  enum sql_statement_kind kind;
  uint32_t pos;
  const char *format;            /* FORMAT name at the end, or NULL */
  struct ast_list settings;      /* trailing SETTINGS (for every statement kind) */
  const char *into_outfile;      /* INTO OUTFILE 'x' (parsed, refused by the server) */

  /* STMT_SELECT, STMT_EXPLAIN (explained statement in `explained`), CREATE … AS SELECT, INSERT … SELECT */
  struct ast *select;            /* AST_SELECT_UNION */
  struct sql_statement *explained;
  const char *explain_kind;      /* "AST", "SYNTAX", "PLAN", "PIPELINE", or NULL */

  /* object names: tables, databases, views */
  const char *database;          /* NULL = current database */
  const char *name;              /* table / database / view name */
  bool if_exists;
  bool if_not_exists;
  bool or_replace;
  bool temporary;
  enum sql_object_kind object;   /* DROP/EXISTS/SHOW CREATE/… what kind of object */

  /* STMT_INSERT */
  struct ast_list insert_columns; /* AST_IDENTIFIER; empty = all */
  const char *insert_format;     /* "Values" for VALUES, the FORMAT name otherwise, NULL for INSERT … SELECT */
  uint32_t data_offset;          /* where inline data starts in the text (after FORMAT name and one newline / whitespace); = text length if none */

  /* STMT_CREATE_TABLE / STMT_CREATE_VIEW */
  struct ast_list columns;       /* AST_COLUMN_DEF */
  struct ast_list indexes;       /* AST_INDEX_DEF */
  struct ast_list projections;   /* unused until projections exist; parsed and kept */
  struct ast *engine;            /* AST_FUNCTION: MergeTree(), ReplacingMergeTree(ver), … */
  struct ast *partition_by;
  struct ast *order_by;          /* expression or tuple(...) */
  struct ast *primary_key;
  struct ast *sample_by;
  struct ast_list ttl;           /* AST_TTL_ELEMENT */
  struct ast_list table_settings; /* SETTINGS inside the table definition */
  const char *comment;
  bool materialized;             /* CREATE MATERIALIZED VIEW */
  bool populate;                 /* CREATE MATERIALIZED VIEW … POPULATE */
  const char *to_database;       /* MATERIALIZED VIEW … TO db.t */
  const char *to_table;
  const char *as_database;       /* CREATE TABLE t AS other */
  const char *as_table;

  /* STMT_RENAME: pairs (from_i → to_i) */
  const char **rename_from_db, **rename_from, **rename_to_db, **rename_to;
  uint32_t rename_count;

  /* STMT_ALTER */
  struct alter_command *alter_commands;
  uint32_t alter_count;

  /* STMT_SHOW_TABLES / SHOW DATABASES: FROM db, LIKE/ILIKE/NOT LIKE pattern, LIMIT */
  const char *like;
  bool like_not;
  bool like_ilike;
  struct ast *show_limit;

  /* STMT_OPTIMIZE */
  struct ast *partition;         /* PARTITION expr (or ID 'x' as a string literal with partition_is_id) */
  bool partition_is_id;
  bool final;
  bool deduplicate;

  /* STMT_SYSTEM: the words after SYSTEM, e.g. {"FLUSH", "LOGS"}; target table if any in database/name */
  const char **system_words;
  uint32_t system_word_count;

  /* STMT_SET: assignments as AST_SETTING in `settings` */
  /* STMT_USE: database name in `name` */
};

/* Parses exactly one statement of text[0..len). A trailing ';' and
 * whitespace/comments are allowed; anything more is SYNTAX_ERROR
 * ("Multi-statements are not allowed"). For INSERT … VALUES / FORMAT the
 * parse stops where the data begins (data_offset). Errors: SYNTAX_ERROR
 * (62) with ClickHouse's message shape "Syntax error: failed at position N
 * (line L, col C) ('token'): … Expected one of: …", TOO_DEEP_AST (167),
 * TOO_BIG_AST (168), QUERY_IS_TOO_LARGE. Everything is allocated in `a`. */
int sql_parse(struct arena *a, const char *text, size_t len, struct sql_statement **out, struct error *err);

/* ClickHouse's default column name of an expression, e.g. multiply(number, 2),
 * 'abc', [1, 2], (1, 'a'), CAST(x, 'String'), count(), quantile(0.5)(x).
 * Ignores the node's own alias; nested aliases are ignored too. */
void ast_format(const struct ast *node, struct buf *out);
/* Same, allocated in the arena. */
const char *ast_format_name(struct arena *a, const struct ast *node);

/* Builders used by the parser and by rewrites in the analyzer. */
struct ast *ast_new(struct arena *a, enum ast_kind kind, uint32_t pos, uint32_t len);
struct ast *ast_function_new(struct arena *a, const char *name, uint32_t pos, uint32_t len,
                             struct ast **args, uint32_t arg_count);
/* Appends; the list's storage must come from ast_list_push (its capacity
 * is implied by count), or the list must be empty. */
void ast_list_push(struct arena *a, struct ast_list *list, struct ast *item);

/* Calls fn(node, depth, ctx) on every node reachable from the statement
 * (and from st->explained), parents before children, depth 1 for the
 * statement's direct nodes. Iterative, so any tree is safe; the stack is
 * allocated in `a`. Stops at and returns the first non-zero fn result. */
int sql_statement_walk(struct arena *a, const struct sql_statement *st,
                       int (*fn)(const struct ast *node, uint32_t depth, void *ctx), void *ctx);
/* Same for the subtree under one node (the root has depth 1). */
int ast_walk(struct arena *a, const struct ast *root,
             int (*fn)(const struct ast *node, uint32_t depth, void *ctx), void *ctx);

#endif
