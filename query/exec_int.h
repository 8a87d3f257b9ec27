/* Private declarations shared by the executor's files (analyze.c, plan.c,
 * operators*.c, expr.c, functions_*.c, aggregates.c, system_tables.c,
 * table_functions.c). Nothing outside query/ includes this.
 *
 * Shapes (see query/README.md):
 *  - an operator (struct op) yields blocks through a vtable {next, close};
 *    plans are trees of operators, pulled from the root;
 *  - an expression (struct expr) is an analyzed tree evaluated a whole
 *    block at a time; function kernels see whole columns, const inputs stay
 *    const, and a function of constants yields a const column;
 *  - functions and aggregates come from functions.def. */
#ifndef SPANHOUSE_QUERY_EXEC_INT_H
#define SPANHOUSE_QUERY_EXEC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/column.h"
#include "base/datatype.h"
#include "base/error.h"
#include "base/limits.h"
#include "query/ast.h"
#include "query/exec.h"

struct time_zone;

/* ======================================================================
 * Operators
 * ====================================================================== */

struct op;

struct op_vt {
  const char *name;
  /* Next block or *out = NULL at the end. The block stays valid until the
   * next call on the same operator. */
  int (*next)(struct op *op, struct block **out, struct error *err);
  /* Releases resources beyond the query arena (optional). */
  void (*close)(struct op *op);
};

struct op {
  const struct op_vt *vt;
  struct query_context *ctx;
  uint32_t column_count;
  const char **names;
  const struct datatype **types;
  struct arena scratch;          /* output of the current block; reset at every next() */
  struct op **children;
  uint32_t child_count;
};

/* Allocates an operator of `size` bytes (>= sizeof(struct op)) in the query
 * arena, with a scratch arena destroyed with the query arena. */
struct op *op_alloc(struct query_context *ctx, size_t size, const struct op_vt *vt);
void op_set_header(struct op *op, uint32_t count, const char **names, const struct datatype **types);
static inline int op_next(struct op *op, struct block **out, struct error *err) { return op->vt->next(op, out, err); }
void op_close_tree(struct op *op);
/* Checks cancellation and max_execution_time; sources call it per block. */
int exec_check_limits(struct query_context *ctx, struct error *err);
/* SETTINGS clause: settings_set refusing changes under readonly=1 (164). */
int exec_set_setting(struct query_context *ctx, const char *name, const char *value, struct error *err);
/* Rows per produced block: min(max_block_size, BLOCK_ROWS_MAX). */
uint32_t exec_block_rows(const struct query_context *ctx);
/* The effective session zone (session_timezone or the server's). */
const struct time_zone *exec_timezone(const struct query_context *ctx);
const char *exec_timezone_name(const struct query_context *ctx);

/* ======================================================================
 * Table sources (table_source.h holds the public-to-query interface)
 * ====================================================================== */
#include "query/table_source.h"

/* ======================================================================
 * Expressions
 * ====================================================================== */

enum expr_kind {
  EXPR_CONST,                    /* value: one-row column */
  EXPR_INPUT,                    /* column `index` of the block being evaluated */
  EXPR_FUNCTION,                 /* call->exec over args */
  EXPR_LAMBDA,                   /* args[0] = body; params bound by the calling function */
  EXPR_PARAM,                    /* lambda parameter `index` of lambda nesting level `level` (1-based) */
  EXPR_AGGREGATE,                /* analysis only: aggregate `index`, replaced before planning */
};

struct fn_call;

struct expr {
  enum expr_kind kind;
  const struct datatype *type;
  const char *name;              /* display name (ClickHouse's default column name) */
  const char *key;               /* canonical identity: equal keys compute equal values */
  struct column *value;          /* EXPR_CONST */
  uint32_t index;                /* EXPR_INPUT / EXPR_PARAM */
  uint32_t level;                /* EXPR_PARAM, EXPR_LAMBDA: nesting level */
  struct fn_call *call;          /* EXPR_FUNCTION */
  struct expr **args;
  uint32_t arg_count;
  uint32_t param_count;          /* EXPR_LAMBDA */
  const struct datatype **param_types;
  bool has_lambda_param;         /* the subtree refers to a lambda parameter */
};

/* Lambda evaluation frame: parameter columns of `rows` rows, and for each
 * row the row of the enclosing frame (or of the input block) it came from. */
struct eval_frame {
  struct eval_frame *parent;
  uint32_t level;
  uint32_t rows;
  struct column **params;
  const uint32_t *parent_rows;
};

struct eval {
  struct query_context *ctx;
  struct arena *arena;           /* results and temporaries */
  const struct block *input;
  uint32_t rows;                 /* rows of the innermost frame (or of input) */
  struct eval_frame *frame;
};

int expr_eval(struct eval *ev, const struct expr *e, struct column **out, struct error *err);
/* Evaluates a lambda body with params bound; rows = element count, parent_rows maps them to ev rows. */
int expr_eval_lambda(struct eval *ev, const struct expr *lambda, struct column **params, uint32_t rows,
                     const uint32_t *parent_rows, struct column **out, struct error *err);
/* Evaluates a constant expression tree (no inputs) to a one-row column. */
int expr_eval_const(struct query_context *ctx, struct arena *a, const struct expr *e, struct column **out,
                    struct error *err);

/* ======================================================================
 * Functions
 * ====================================================================== */

enum fn_flags {
  FN_CI          = 1u << 0,      /* name is case-insensitive */
  FN_NULLS       = 1u << 1,      /* handles Nullable arguments itself */
  FN_VOLATILE    = 1u << 2,      /* not folded to a constant at analysis (rand, now is folded) */
  FN_LAMBDA      = 1u << 3,      /* first argument may be a lambda */
  FN_AGG         = 1u << 4,      /* aggregate function */
  FN_ROWWISE     = 1u << 5,      /* never give a const result even for const args (rand, materialize) */
  FN_KEEP_LC     = 1u << 6,      /* receives LowCardinality as is */
  FN_CONST_ONLY  = 1u << 7,      /* needs not run per block: result depends on types only */
  FN_ARRAY_JOIN  = 1u << 8,      /* arrayJoin: rewritten by the analyzer */
  FN_NOT_NULL_ON_NULL_CONST = 1u << 9, /* NULL literal argument does not force Nullable(Nothing) */
};

typedef int (*fn_exec_fn)(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err);

struct agg_call;
typedef int (*fn_resolve_fn)(struct fn_call *call, struct error *err);
typedef int (*agg_resolve_fn)(struct agg_call *call, struct error *err);

struct function_def {
  const char *name;
  fn_resolve_fn resolve;
  agg_resolve_fn agg_resolve;
  int op;                        /* which variant a shared resolver implements */
  uint32_t flags;
  const char *alias_to;          /* for aliases: the canonical name */
};

/* A resolved call: the kernel and its argument and result types. */
struct fn_call {
  const struct function_def *def;
  const char *name;              /* as written */
  struct query_context *ctx;
  struct arena *arena;           /* query arena */
  struct expr **args;
  uint32_t arg_count;
  const struct datatype **arg_types;  /* what the kernel sees (Nullable stripped unless FN_NULLS) */
  const struct datatype *type;   /* what the kernel returns */
  fn_exec_fn exec;
  void *state;                   /* resolver-private (compiled regex, IN set, …) */
  int64_t i0, i1;                /* resolver-private integers */
  const struct time_zone *tz;    /* resolver-private zone */
  bool wrap_nulls;               /* evaluator strips/joins null maps around exec */
  bool null_const;               /* result is a NULL constant of `result_type` */
  const struct datatype *result_type;  /* type of the expression */
};

const struct function_def *function_find(const char *name);
uint32_t function_count(void);
const struct function_def *function_at(uint32_t i);

/* Resolvers (one per line of functions.def). */
#define FUNC(name, resolver, op, flags) int resolver(struct fn_call *call, struct error *err);
#define AGG(name, resolver, op, flags) int resolver(struct agg_call *call, struct error *err);
#define ALIAS(name, target, flags)
#include "query/functions.def"
#undef FUNC
#undef AGG
#undef ALIAS

/* Operation selectors shared by resolvers; values are per resolver. */
enum fn_op {
  OP_NONE = 0,
  /* arithmetic */
  OP_PLUS, OP_MINUS, OP_MULTIPLY, OP_DIVIDE, OP_INTDIV, OP_INTDIV_OR_ZERO, OP_MODULO, OP_MODULO_OR_ZERO,
  OP_NEGATE, OP_ABS, OP_BIT_AND, OP_BIT_OR, OP_BIT_XOR, OP_BIT_NOT, OP_BIT_SHL, OP_BIT_SHR, OP_GCD, OP_LCM,
  OP_POSITIVE_MODULO,
  /* comparison */
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
  /* logic */
  OP_AND, OP_OR, OP_XOR, OP_NOT,
  /* math */
  OP_SQRT, OP_CBRT, OP_EXP, OP_EXP2, OP_EXP10, OP_LOG, OP_LOG2, OP_LOG10, OP_LOG1P, OP_SIN, OP_COS, OP_TAN,
  OP_ASIN, OP_ACOS, OP_ATAN, OP_SINH, OP_COSH, OP_TANH, OP_ERF, OP_LGAMMA, OP_TGAMMA,
  OP_POW, OP_ATAN2, OP_HYPOT, OP_ROUND, OP_FLOOR, OP_CEIL, OP_TRUNC, OP_ROUND_BANKERS,
  OP_IS_FINITE, OP_IS_NAN, OP_IS_INFINITE, OP_SIGN, OP_PI, OP_E,
  OP_GREATEST, OP_LEAST,
};

/* Helpers for resolvers and kernels (expr.c). */
bool fn_arg_is_const(const struct fn_call *call, uint32_t i);
/* Const string argument i (String/FixedString constant, not NULL); false otherwise. */
bool fn_const_str(const struct fn_call *call, uint32_t i, struct slice *out);
bool fn_const_i64(const struct fn_call *call, uint32_t i, int64_t *out);
bool fn_const_f64(const struct fn_call *call, uint32_t i, double *out);
int fn_check_args(const struct fn_call *call, uint32_t min, uint32_t max, struct error *err);
int fn_illegal_type(const struct fn_call *call, uint32_t i, struct error *err);
int fn_illegal_types2(const struct fn_call *call, struct error *err);
/* Time zone from an optional const string argument i (or the type's/session zone). */
int fn_tz_arg(struct fn_call *call, uint32_t i, const struct datatype *value_type, struct error *err);

/* ======================================================================
 * Types (types.c)
 * ====================================================================== */

const struct datatype *type_u8(void);
const struct datatype *type_u64(void);
const struct datatype *type_i64(void);
const struct datatype *type_f64(void);
const struct datatype *type_str(void);
const struct datatype *type_nothing_nullable(void);
/* The least common type of types[0..n) (NO_COMMON_TYPE when none). */
int type_supertype(struct arena *a, const struct datatype *const *types, uint32_t n, const struct datatype **out,
                   struct error *err);
/* Nullable(t) when t can be inside Nullable, else t. */
const struct datatype *type_make_nullable(struct arena *a, const struct datatype *t);
bool type_can_be_nullable(const struct datatype *t);
bool type_is_nullable(const struct datatype *t);
bool type_is_nothing(const struct datatype *t);    /* Nothing or Nullable(Nothing) */
bool type_is_int_or_bool(const struct datatype *t);
bool type_is_number_or_bool(const struct datatype *t);
unsigned type_int_bits(const struct datatype *t);
/* Integer type with the given signedness and bits (8..64), or Float32/64. */
const struct datatype *type_int(bool is_signed, unsigned bits);
const char *type_name(struct arena *a, const struct datatype *t);

/* ======================================================================
 * Columns (expr.c)
 * ====================================================================== */

/* A non-const column with `rows` rows allocated (fixed-width: zeroed data;
 * String: zero-length strings, offsets zero; use the appenders for var-size). */
struct column *col_new(struct arena *a, const struct datatype *t, uint32_t rows);
struct column *col_new_empty(struct arena *a, const struct datatype *t, uint32_t capacity);
struct column *col_make_const(struct arena *a, struct column *one_row, uint32_t rows);
struct column *col_const_null(struct arena *a, const struct datatype *t, uint32_t rows);
/* Const column of `rows` rows holding v. */
struct column *col_const_u64(struct arena *a, const struct datatype *t, uint64_t v, uint32_t rows);
struct column *col_const_i64(struct arena *a, const struct datatype *t, int64_t v, uint32_t rows);
struct column *col_const_f64(struct arena *a, const struct datatype *t, double v, uint32_t rows);
struct column *col_const_str(struct arena *a, const char *p, size_t n, uint32_t rows);
/* Wraps a non-nullable column in Nullable with the given null map (may be NULL = no NULLs). */
struct column *col_wrap_nullable(struct arena *a, struct column *inner, uint8_t *nulls);
/* For a Nullable column: the nested values column (const-ness kept). */
struct column *col_nullable_inner(struct arena *a, const struct column *c);
/* LowCardinality → full column of its dictionary type. */
struct column *col_strip_lc(struct arena *a, const struct column *c);
/* Full column of `rows` rows from a possibly-const column. */
struct column *col_full(struct arena *a, const struct column *c, uint32_t rows);
/* Copy of col with is_const cleared/set and rows replaced, sharing buffers. */
struct column *col_with_rows(struct arena *a, const struct column *c, uint32_t rows);

/* Numeric views: values of a numeric/bool/date column converted to one
 * 64-bit domain; returns the column's own data when it already has that
 * layout. Const columns yield one element. */
const int64_t *col_as_i64(struct arena *a, const struct column *c, uint32_t rows);
const uint64_t *col_as_u64(struct arena *a, const struct column *c, uint32_t rows);
const double *col_as_f64(struct arena *a, const struct column *c, uint32_t rows);
/* Stores 64-bit values into a fresh column of a numeric type (narrowing). */
struct column *col_from_i64(struct arena *a, const struct datatype *t, const int64_t *v, uint32_t rows);
struct column *col_from_u64(struct arena *a, const struct datatype *t, const uint64_t *v, uint32_t rows);
struct column *col_from_f64(struct arena *a, const struct datatype *t, const double *v, uint32_t rows);
/* A truth vector (1 = true) from a numeric/bool column; NULL counts as false. */
const uint8_t *col_as_bool(struct arena *a, const struct column *c, uint32_t rows);
void col_str_append(struct column *c, const void *p, size_t n);  /* fast String append */
/* Reserve chars for a String column. */
void col_str_reserve(struct column *c, size_t extra);

/* ======================================================================
 * Conversion (functions_convert.c)
 * ====================================================================== */

enum cast_mode { CAST_THROW, CAST_OR_ZERO, CAST_OR_NULL };

/* Converts column c (rows rows, possibly const; const stays const) to type
 * `to`. Errors: CANNOT_PARSE_TEXT / CANNOT_PARSE_NUMBER / … in CAST_THROW
 * mode; CANNOT_CONVERT_TYPE when no conversion exists. */
int cast_column(struct eval *ev, const struct column *c, uint32_t rows, const struct datatype *to,
                enum cast_mode mode, struct column **out, struct error *err);
/* Whether a conversion from `from` to `to` exists (analysis-time check). */
bool cast_possible(const struct datatype *from, const struct datatype *to);
/* Casts a one-row constant in the query arena (analysis time). */
int cast_const(struct query_context *ctx, struct arena *a, struct column *c, const struct datatype *to,
               struct column **out, struct error *err);
/* Parsing helpers shared with date functions. */
bool parse_date_text(struct slice s, int32_t *days);
bool parse_datetime_text(struct slice s, const struct time_zone *tz, int64_t *secs, uint32_t scale, int64_t *ticks);
/* Formats one value as toString does. */
void value_to_string(const struct column *c, uint32_t row, struct buf *out);

/* ======================================================================
 * Aggregates (aggregates.c)
 * ====================================================================== */

struct agg_call {
  const struct function_def *def;
  const char *name;
  struct query_context *ctx;
  struct arena *arena;
  const struct datatype **arg_types;
  uint32_t arg_count;
  struct column **params;        /* const parameters: quantile(0.5), topK(10) */
  uint32_t param_count;
  const struct datatype *type;   /* result type */
  uint32_t state_size;           /* bytes per group, 8-aligned */
  void (*init)(const struct agg_call *a, uint8_t *place);
  /* Adds rows [0, rows) whose sel[i] is set (sel NULL = all) into places[i] + offset. */
  int (*add)(const struct agg_call *a, uint8_t **places, uint32_t offset, struct column **args, uint32_t rows,
             const uint8_t *sel, struct arena *state_arena, struct arena *scratch, struct error *err);
  void (*merge)(const struct agg_call *a, uint8_t *dst, const uint8_t *src, struct arena *state_arena);
  /* Appends one result per place to out. */
  void (*finalize)(const struct agg_call *a, uint8_t **places, uint32_t offset, uint32_t count,
                   struct column *out);
  struct agg_call *nested;       /* combinators and the Nullable adapter */
  int op;
  int64_t i0;
  bool skip_nulls_only;          /* Nullable adapter that does not wrap the result */
};

/* Looks up name (with combinator suffixes -If, -Distinct, -OrNull,
 * -OrDefault, -Array) and resolves it for the argument types. Applies the
 * Nullable adapter. UNKNOWN_FUNCTION when the name is no aggregate. */
int agg_resolve(struct query_context *ctx, struct arena *a, const char *name, const struct datatype **arg_types,
                uint32_t arg_count, struct column **params, uint32_t param_count, struct agg_call **out,
                struct error *err);
bool agg_name_is_aggregate(const char *name);

/* ======================================================================
 * Hash sets for IN (functions_in.c in expr.c)
 * ====================================================================== */

struct value_set;
/* Builds a set over a column of `type` (the left side's unwrapped type). */
struct value_set *value_set_create(struct arena *a, const struct column *values, bool has_null);
bool value_set_has_null(const struct value_set *s);
uint64_t value_set_size(const struct value_set *s);
/* For each row of c (same type as the set), 1 if contained. */
void value_set_lookup(const struct value_set *s, const struct column *c, uint32_t rows, uint8_t *out);


/* ======================================================================
 * Hash tables (hashtable.c): key → dense id, for GROUP BY, DISTINCT,
 * LIMIT BY, IN sets, uniq. Arrays live on the heap and are freed with the
 * arena passed at init (a cleanup); keys are copied into that arena.
 * ====================================================================== */

struct key_table {
  struct arena *arena;
  uint64_t cap;                  /* slots, power of two */
  uint64_t count;
  uint64_t *hashes;              /* per slot */
  uint32_t *slots;               /* per slot: id + 1, 0 = empty */
  struct slice *keys;            /* per id */
  uint64_t keys_cap;
};
void key_table_init(struct key_table *t, struct arena *a);
/* Returns the id of key (len bytes), inserting it if new. */
uint32_t key_table_insert(struct key_table *t, const void *key, size_t len, uint64_t hash, bool *is_new);
int64_t key_table_find(const struct key_table *t, const void *key, size_t len, uint64_t hash);

struct u64_table {
  struct arena *arena;
  uint64_t cap;
  uint64_t count;
  uint64_t *keys;
  uint32_t *slots;               /* id + 1, 0 = empty */
};
void u64_table_init(struct u64_table *t, struct arena *a);
uint32_t u64_table_insert(struct u64_table *t, uint64_t key, bool *is_new);
int64_t u64_table_find(const struct u64_table *t, uint64_t key);

uint64_t hash_bytes(const void *p, size_t n);
static inline uint64_t hash_u64(uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}
/* Appends a canonical binary encoding of row `row` of c (values equal as
 * SQL keys encode equally; NULL distinct from every value). */
void key_serialize(struct buf *b, const struct column *c, uint32_t row);
/* Whether rows of these column types fit a fixed 8-byte key (numbers, dates, bool). */
bool key_fits_u64(const struct datatype *t);
/* Loads row values of such a column as uint64 keys (bit patterns, zero-extended). */
void key_load_u64(const struct column *c, uint32_t rows, uint64_t *out);

/* ======================================================================
 * Analysis and planning
 * ====================================================================== */

/* Plans a SELECT / UNION (AST_SELECT_UNION or AST_SELECT); `outer` passes
 * WITH aliases down to subqueries. */
struct analyze_scope;
int plan_select(struct query_context *ctx, const struct ast *query, const struct analyze_scope *outer,
                struct op **out, bool top_level, struct error *err);
/* WITH TOTALS: the aggregate operator and the projection of its totals row. */
struct plan_totals {
  struct op *agg;
  struct expr **exprs;
  uint32_t count;
  const char **names;
};
int plan_select_totals(struct query_context *ctx, const struct ast *query, const struct analyze_scope *outer,
                       struct op **out, bool top_level, struct plan_totals *totals, struct error *err);
/* One expression over a column list (DDL keys, indexes, defaults):
 * EXPR_INPUT i = column i. */
int analyze_expr_over_columns(struct query_context *ctx, uint32_t count, const char **names,
                              const struct datatype **types, const struct ast *n, struct expr **out,
                              struct error *err);
/* A name as SQL: as is when it is a plain identifier, else `backquoted`. */
void sql_append_name(struct buf *b, const char *name);
/* MergeTree statements (mergetree.c): DDL, OPTIMIZE, SHOW CREATE, INSERT … SELECT.
 * *out gets the result operator (no columns for DDL). */
int mergetree_statement(struct query_context *ctx, const struct sql_statement *stmt, struct op **out,
                        struct error *err);
/* Reads more INSERT data (the HTTP body): bytes read, 0 at the end, < 0 with err set. */
typedef long (*mergetree_read_fn)(void *ctx, char *buf, size_t cap, struct error *err);
/* INSERT … VALUES / FORMAT (data from text[data_offset..text_len), then from read) and
 * INSERT … SELECT. All rows become visible at once, or none. */
int mergetree_insert(struct query_context *ctx, const struct sql_statement *stmt, const char *text, size_t text_len,
                     mergetree_read_fn read, void *read_ctx, struct error *err);
/* system.parts / system.merges rows (schemas in system_tables.c) and
 * system.columns sizes. */
void mergetree_fill_parts(struct query_context *ctx, struct column **cols);
void mergetree_fill_merges(struct query_context *ctx, struct column **cols);
void mergetree_column_sizes(struct query_context *ctx, const char *db, const char *table, uint32_t count,
                            const char **names, uint64_t *compressed, uint64_t *uncompressed);
/* Runs a sub-plan to completion, appending all rows into one block in arena a. */
int plan_drain(struct query_context *ctx, struct op *op, struct arena *a, struct block **out, uint64_t max_rows,
               struct error *err);

/* The numbers/zeros generator source (system_tables.c): values start,
 * start + step, … (count of them, UINT64_MAX = endless); zeros: column
 * `zero` UInt8 instead of `number` UInt64. */
struct table_source *gen_source(struct query_context *ctx, const char *db, const char *name, const char *engine,
                                bool zeros, uint64_t start, uint64_t count, uint64_t step);

/* Builds operators (plan.c / operators*.c). */
struct op *op_values_create(struct query_context *ctx, uint32_t count, const char **names,
                            const struct datatype **types, struct block **blocks, uint32_t block_count);
struct op *op_project_create(struct query_context *ctx, struct op *child, struct expr **exprs, uint32_t count,
                             const char **names);
struct op *op_filter_create(struct query_context *ctx, struct op *child, struct expr *predicate);
struct op *op_limit_create(struct query_context *ctx, struct op *child, uint64_t limit, uint64_t offset,
                           bool has_limit, bool track_rows_before_limit);
struct op *op_limit_by_create(struct query_context *ctx, struct op *child, const uint32_t *key_columns,
                              uint32_t key_count, uint64_t limit, uint64_t offset);
struct op *op_distinct_create(struct query_context *ctx, struct op *child, uint32_t key_columns, uint64_t limit_hint);
struct op *op_union_create(struct query_context *ctx, struct op **children, uint32_t count);
struct op *op_keep_columns_create(struct query_context *ctx, struct op *child, uint32_t count);
struct array_join_spec {
  struct expr **arrays;          /* Array (or Map) typed expressions over the child's columns */
  uint32_t count;
  bool left;
};
struct op *op_array_join_create(struct query_context *ctx, struct op *child, const struct array_join_spec *spec,
                                const char **names);
struct sort_key {
  uint32_t column;
  bool descending;
  bool nulls_first;
};
struct op *op_sort_create(struct query_context *ctx, struct op *child, const struct sort_key *keys, uint32_t count,
                          uint64_t limit);
/* Rows a sort operator consumed (0 for other operators). */
uint64_t op_sort_rows_in(const struct op *op);
struct agg_spec {
  uint32_t key_count;            /* the child's first key_count columns are the keys */
  uint32_t agg_count;
  struct agg_call **aggs;
  uint32_t **agg_args;           /* per aggregate: child column indexes of its arguments */
  bool with_totals;
  bool overflow_any;
};
struct op *op_aggregate_create(struct query_context *ctx, struct op *child, const struct agg_spec *spec,
                               const char **names);
/* Totals row of an aggregate operator, once it is drained (NULL if none). */
struct block *op_aggregate_totals(struct op *op);
/* Hash join (operators_join.c): the right child is read fully into a table
 * keyed by right_keys, the left streams through. Output: the left child's
 * columns, the right child's, then merged_count merged USING keys (the left
 * key where a left row exists, else the right key). Key expressions of both
 * sides have equal types (the analyzer casts them); a NULL key never
 * matches. left_cond/right_cond (may be NULL) are ON conditions over one
 * side: rows failing them never match. types[] gives every output column's
 * type: a Nullable type over a non-Nullable child column turns missing rows
 * into NULLs, otherwise they get the type's default. */
struct join_spec {
  enum ast_join_kind kind;       /* INNER, LEFT, RIGHT, FULL; CROSS is INNER without keys */
  enum ast_join_strictness strictness; /* ALL or ANY (not ANY FULL) */
  uint32_t key_count;
  struct expr **left_keys;       /* over the left child's block */
  struct expr **right_keys;      /* over the right child's block */
  struct expr *left_cond;
  struct expr *right_cond;
  uint32_t merged_count;
  uint32_t *merged_keys;         /* per merged column: its key index */
  uint64_t memory_max;           /* bytes for the right side; 0 = unlimited (MEMORY_LIMIT_EXCEEDED) */
};
struct op *op_join_create(struct query_context *ctx, struct op *left, struct op *right, const struct join_spec *spec,
                          const char **names, const struct datatype **types);

#endif
