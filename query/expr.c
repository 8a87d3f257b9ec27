/* The vectorized expression evaluator: evaluates an analyzed expression
 * tree over a whole block. Function kernels see whole columns; the
 * evaluator applies the generic rules around them so kernels stay small:
 *  - all arguments constant → the kernel runs on one row and the result is
 *    a const column (unless the function is row-wise, like rand());
 *  - Nullable arguments (unless FN_NULLS) → the kernel sees the nested
 *    values, and the result is Nullable with the union of the null maps;
 *  - LowCardinality arguments are expanded to full columns, except for
 *    comparisons and IN, which evaluate once per dictionary entry.
 * Also the column helpers every kernel uses and the function registry. */
#include "query/exec_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/timezone.h"

/* ======================================================================
 * Column helpers
 * ====================================================================== */

struct column *col_new_empty(struct arena *a, const struct datatype *t, uint32_t capacity)
{
  return column_create(a, t, capacity);
}

struct column *col_new(struct arena *a, const struct datatype *t, uint32_t rows)
{
  struct column *c = arena_new(a, struct column);
  c->type = t;
  c->rows = rows;
  c->capacity = rows;
  c->arena = a;
  switch (t->id) {
  case TYPE_STRING:
    c->offsets = arena_calloc(a, rows ? rows : 1, sizeof *c->offsets);
    break;
  case TYPE_NULLABLE:
    c->nulls = arena_calloc(a, rows ? rows : 1, 1);
    c->children = arena_alloc(a, sizeof *c->children);
    c->children[0] = col_new(a, t->children[0], rows);
    c->child_count = 1;
    break;
  case TYPE_ARRAY:
    c->offsets = arena_calloc(a, rows ? rows : 1, sizeof *c->offsets);
    c->children = arena_alloc(a, sizeof *c->children);
    c->children[0] = col_new_empty(a, t->children[0], 0);
    c->child_count = 1;
    break;
  case TYPE_MAP:
    c->offsets = arena_calloc(a, rows ? rows : 1, sizeof *c->offsets);
    c->children = arena_alloc(a, 2 * sizeof *c->children);
    c->children[0] = col_new_empty(a, t->children[0], 0);
    c->children[1] = col_new_empty(a, t->children[1], 0);
    c->child_count = 2;
    break;
  case TYPE_TUPLE:
    c->children = arena_alloc(a, (t->child_count ? t->child_count : 1) * sizeof *c->children);
    for (uint32_t i = 0; i < t->child_count; i++)
      c->children[i] = col_new(a, t->children[i], rows);
    c->child_count = t->child_count;
    break;
  case TYPE_LOW_CARDINALITY: {
    c->data = arena_calloc(a, rows ? rows : 1, 4);
    c->children = arena_alloc(a, sizeof *c->children);
    c->children[0] = col_new_empty(a, t->children[0], 1);
    column_append_default(c->children[0]);
    c->child_count = 1;
    break;
  }
  case TYPE_NOTHING:
    break;
  default: {
    size_t w = datatype_fixed_bytes(t);
    c->data = arena_calloc(a, rows ? rows : 1, w ? w : 1);
    break;
  }
  }
  return c;
}

struct column *col_with_rows(struct arena *a, const struct column *c, uint32_t rows)
{
  struct column *d = arena_new(a, struct column);
  *d = *c;
  d->rows = rows;
  return d;
}

struct column *col_make_const(struct arena *a, struct column *one_row, uint32_t rows)
{
  if (one_row->is_const && one_row->rows == rows)
    return one_row;
  struct column *d = col_with_rows(a, one_row, rows);
  d->is_const = true;
  return d;
}

struct column *col_const_null(struct arena *a, const struct datatype *t, uint32_t rows)
{
  struct column *c = col_new(a, t, 1);
  if (t->id == TYPE_NULLABLE)
    c->nulls[0] = 1;
  return col_make_const(a, c, rows);
}

struct column *col_const_u64(struct arena *a, const struct datatype *t, uint64_t v, uint32_t rows)
{
  struct column *c = col_new(a, t, 1);
  uint64_t one = v;
  struct column *x = col_from_u64(a, t, &one, 1);
  (void)c;
  return col_make_const(a, x, rows);
}

struct column *col_const_i64(struct arena *a, const struct datatype *t, int64_t v, uint32_t rows)
{
  int64_t one = v;
  return col_make_const(a, col_from_i64(a, t, &one, 1), rows);
}

struct column *col_const_f64(struct arena *a, const struct datatype *t, double v, uint32_t rows)
{
  double one = v;
  return col_make_const(a, col_from_f64(a, t, &one, 1), rows);
}

struct column *col_const_str(struct arena *a, const char *p, size_t n, uint32_t rows)
{
  struct column *c = col_new_empty(a, type_str(), 1);
  col_str_append(c, p, n);
  return col_make_const(a, c, rows);
}

struct column *col_wrap_nullable(struct arena *a, struct column *inner, uint8_t *nulls)
{
  struct column *c = arena_new(a, struct column);
  c->type = type_make_nullable(a, inner->type);
  c->rows = inner->rows;
  c->capacity = inner->is_const ? 1 : inner->rows;
  c->is_const = inner->is_const;
  c->arena = a;
  uint32_t n = inner->is_const ? 1 : inner->rows;
  c->nulls = nulls ? nulls : arena_calloc(a, n ? n : 1, 1);
  c->children = arena_alloc(a, sizeof *c->children);
  c->children[0] = inner->is_const ? col_with_rows(a, inner, 1) : inner;
  if (inner->is_const)
    c->children[0]->is_const = false;
  c->child_count = 1;
  return c;
}

struct column *col_nullable_inner(struct arena *a, const struct column *c)
{
  struct column *inner = c->children[0];
  if (c->is_const) {
    struct column *d = col_with_rows(a, inner, c->rows);
    d->is_const = true;
    return d;
  }
  return inner;
}

struct column *col_strip_lc(struct arena *a, const struct column *c)
{
  if (c->type->id != TYPE_LOW_CARDINALITY)
    return (struct column *)c;
  uint32_t n = c->is_const ? 1 : c->rows;
  const uint32_t *keys = c->data;
  struct column *full = column_take(a, c->children[0], keys, n);
  if (c->is_const)
    return col_make_const(a, full, c->rows);
  return full;
}

struct column *col_full(struct arena *a, const struct column *c, uint32_t rows)
{
  if (!c->is_const)
    return (struct column *)c;
  struct column *one = col_with_rows(a, c, 1);
  one->is_const = false;
  uint32_t *idx = arena_alloc(a, sizeof *idx * (rows ? rows : 1));
  memset(idx, 0, sizeof *idx * rows);
  return column_take(a, one, idx, rows);
}

void col_str_reserve(struct column *c, size_t extra)
{
  if (c->chars_len + extra <= c->chars_cap)
    return;
  uint64_t cap = c->chars_cap ? c->chars_cap * 2 : 256;
  while (cap < c->chars_len + extra)
    cap *= 2;
  c->chars = arena_realloc(c->arena, c->chars, c->chars_cap, cap);
  c->chars_cap = cap;
}

void col_str_append(struct column *c, const void *p, size_t n)
{
  if (c->rows >= c->capacity) {
    uint32_t cap = c->capacity ? c->capacity * 2 : 16;
    c->offsets = arena_realloc(c->arena, c->offsets, sizeof *c->offsets * c->capacity, sizeof *c->offsets * cap);
    c->capacity = cap;
  }
  if (n) {
    col_str_reserve(c, n);
    memcpy(c->chars + c->chars_len, p, n);
    c->chars_len += n;
  }
  c->offsets[c->rows++] = c->chars_len;
}

/* ---- numeric views ---- */

#define VIEW_LOOP(DST, SRCT) do { const SRCT *s_ = (const SRCT *)c->data; for (uint32_t i_ = 0; i_ < n; i_++) DST[i_] = s_[i_]; } while (0)

#define DEFINE_VIEW(NAME, T, SELF_ID1, SELF_ID2)                                          \
  const T *NAME(struct arena *a, const struct column *c, uint32_t rows)                   \
  {                                                                                       \
    uint32_t n = c->is_const ? 1 : rows;                                                  \
    enum type_id id = c->type->id;                                                        \
    if (id == SELF_ID1 || id == SELF_ID2)                                                 \
      return (const T *)c->data;                                                          \
    T *d = arena_alloc(a, sizeof(T) * (n ? n : 1));                                       \
    switch (id) {                                                                         \
    case TYPE_UINT8: case TYPE_BOOL: VIEW_LOOP(d, uint8_t); break;                       \
    case TYPE_UINT16: case TYPE_DATE: VIEW_LOOP(d, uint16_t); break;                      \
    case TYPE_UINT32: case TYPE_DATETIME: VIEW_LOOP(d, uint32_t); break;                  \
    case TYPE_UINT64: VIEW_LOOP(d, uint64_t); break;                                      \
    case TYPE_INT8: case TYPE_ENUM8: VIEW_LOOP(d, int8_t); break;                         \
    case TYPE_INT16: case TYPE_ENUM16: VIEW_LOOP(d, int16_t); break;                      \
    case TYPE_INT32: VIEW_LOOP(d, int32_t); break;                                        \
    case TYPE_INT64: case TYPE_DATETIME64: case TYPE_INTERVAL: VIEW_LOOP(d, int64_t); break; \
    case TYPE_FLOAT32: VIEW_LOOP(d, float); break;                                        \
    case TYPE_FLOAT64: VIEW_LOOP(d, double); break;                                       \
    default: memset(d, 0, sizeof(T) * n); break;                                          \
    }                                                                                     \
    return d;                                                                             \
  }

DEFINE_VIEW(col_as_i64, int64_t, TYPE_INT64, TYPE_DATETIME64)
DEFINE_VIEW(col_as_u64, uint64_t, TYPE_UINT64, TYPE_UINT64)
DEFINE_VIEW(col_as_f64, double, TYPE_FLOAT64, TYPE_FLOAT64)

#define STORE_LOOP(DSTT) do { DSTT *d_ = (DSTT *)c->data; for (uint32_t i_ = 0; i_ < rows; i_++) d_[i_] = (DSTT)v[i_]; } while (0)

#define DEFINE_STORE(NAME, T)                                                             \
  struct column *NAME(struct arena *a, const struct datatype *t, const T *v, uint32_t rows) \
  {                                                                                       \
    struct column *c = col_new(a, t, rows);                                               \
    switch (t->id) {                                                                      \
    case TYPE_UINT8: STORE_LOOP(uint8_t); break;                                          \
    case TYPE_BOOL: { uint8_t *d_ = c->data; for (uint32_t i_ = 0; i_ < rows; i_++) d_[i_] = v[i_] != 0; } break; \
    case TYPE_UINT16: case TYPE_DATE: STORE_LOOP(uint16_t); break;                        \
    case TYPE_UINT32: case TYPE_DATETIME: STORE_LOOP(uint32_t); break;                    \
    case TYPE_UINT64: STORE_LOOP(uint64_t); break;                                        \
    case TYPE_INT8: case TYPE_ENUM8: STORE_LOOP(int8_t); break;                           \
    case TYPE_INT16: case TYPE_ENUM16: STORE_LOOP(int16_t); break;                        \
    case TYPE_INT32: STORE_LOOP(int32_t); break;                                          \
    case TYPE_INT64: case TYPE_DATETIME64: case TYPE_INTERVAL: STORE_LOOP(int64_t); break; \
    case TYPE_FLOAT32: STORE_LOOP(float); break;                                          \
    case TYPE_FLOAT64: STORE_LOOP(double); break;                                         \
    default: break;                                                                       \
    }                                                                                     \
    return c;                                                                             \
  }

/* Float → integer stores go through int64/uint64 first: a plain C cast of an
 * out-of-range double is undefined, ClickHouse wraps. */
static inline int64_t f2i(double x)
{
  if (x != x)
    return INT64_MIN;
  if (x >= 9223372036854775808.0 || x < -9223372036854775808.0)
    return INT64_MIN;
  return (int64_t)x;
}

DEFINE_STORE(col_from_i64, int64_t)
DEFINE_STORE(col_from_u64, uint64_t)

struct column *col_from_f64(struct arena *a, const struct datatype *t, const double *v, uint32_t rows)
{
  if (datatype_is_float(t)) {
    struct column *c = col_new(a, t, rows);
    if (t->id == TYPE_FLOAT64)
      memcpy(c->data, v, sizeof(double) * rows);
    else
      STORE_LOOP(float);
    return c;
  }
  int64_t *iv = arena_alloc(a, sizeof *iv * (rows ? rows : 1));
  if (!datatype_is_signed(t) && t->id == TYPE_UINT64) {
    uint64_t *uv = (uint64_t *)iv;
    for (uint32_t i = 0; i < rows; i++)
      uv[i] = v[i] >= 9223372036854775808.0 && v[i] < 18446744073709551616.0 ? (uint64_t)v[i] : (uint64_t)f2i(v[i]);
    return col_from_u64(a, t, uv, rows);
  }
  for (uint32_t i = 0; i < rows; i++)
    iv[i] = f2i(v[i]);
  return col_from_i64(a, t, iv, rows);
}

const uint8_t *col_as_bool(struct arena *a, const struct column *c, uint32_t rows)
{
  uint32_t n = c->is_const ? 1 : rows;
  const struct column *v = c;
  const uint8_t *nulls = NULL;
  if (c->type->id == TYPE_NULLABLE) {
    nulls = c->nulls;
    v = c->children[0];
  }
  if (!nulls && (v->type->id == TYPE_UINT8 || v->type->id == TYPE_BOOL)) {
    /* Already 0/1 (what comparisons and logic return): share the bytes. */
    const uint8_t *s = v->data;
    uint64_t high = 0, w;
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
      memcpy(&w, s + i, 8);
      high |= w;
    }
    for (; i < n; i++)
      high |= s[i];
    if (!(high & 0xfefefefefefefefeull))
      return s;
  }
  uint8_t *d = arena_alloc(a, n ? n : 1);
  switch (v->type->id) {
  case TYPE_UINT8: case TYPE_BOOL: case TYPE_INT8: {
    const uint8_t *s = v->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = s[i] != 0;
    break;
  }
  case TYPE_FLOAT32: case TYPE_FLOAT64: {
    const double *s = col_as_f64(a, v, n);
    for (uint32_t i = 0; i < n; i++)
      d[i] = s[i] != 0;
    break;
  }
  case TYPE_NOTHING:
    memset(d, 0, n);
    break;
  default: {
    const uint64_t *s = col_as_u64(a, v, n);
    for (uint32_t i = 0; i < n; i++)
      d[i] = s[i] != 0;
    break;
  }
  }
  if (nulls)
    for (uint32_t i = 0; i < n; i++)
      d[i] &= !nulls[i];
  return d;
}

/* ======================================================================
 * Function registry
 * ====================================================================== */

static const struct function_def function_defs[] = {
#define FUNC(name, resolver, op, flags) { #name, resolver, NULL, op, flags, NULL },
#define AGG(name, resolver, op, flags) { #name, NULL, resolver, op, (flags) | FN_AGG, NULL },
#define ALIAS(name, target, flags) { #name, NULL, NULL, 0, flags, #target },
#include "query/functions.def"
#undef FUNC
#undef AGG
#undef ALIAS
};

enum { FUNCTION_DEF_COUNT = sizeof function_defs / sizeof function_defs[0] };

uint32_t function_count(void) { return FUNCTION_DEF_COUNT; }
const struct function_def *function_at(uint32_t i) { return &function_defs[i]; }

static const struct function_def *function_find_raw(const char *name)
{
  for (uint32_t i = 0; i < FUNCTION_DEF_COUNT; i++)
    if (strcmp(function_defs[i].name, name) == 0)
      return &function_defs[i];
  for (uint32_t i = 0; i < FUNCTION_DEF_COUNT; i++)
    if ((function_defs[i].flags & FN_CI) && strcasecmp(function_defs[i].name, name) == 0)
      return &function_defs[i];
  return NULL;
}

const struct function_def *function_find(const char *name)
{
  const struct function_def *d = function_find_raw(name);
  for (int hops = 0; d && d->alias_to && hops < 4; hops++) {
    const struct function_def *t = function_find_raw(d->alias_to);
    if (!t)
      break;
    d = t;
  }
  return d;
}

/* ======================================================================
 * Resolver helpers
 * ====================================================================== */

bool fn_arg_is_const(const struct fn_call *call, uint32_t i)
{
  return i < call->arg_count && call->args[i]->kind == EXPR_CONST;
}

bool fn_const_str(const struct fn_call *call, uint32_t i, struct slice *out)
{
  if (!fn_arg_is_const(call, i))
    return false;
  const struct column *c = call->args[i]->value;
  if (c->type->id == TYPE_LOW_CARDINALITY)
    c = col_strip_lc(call->arena, c);
  if (c->type->id == TYPE_NULLABLE) {
    if (c->nulls[0])
      return false;
    c = c->children[0];
  }
  if (c->type->id != TYPE_STRING && c->type->id != TYPE_FIXED_STRING)
    return false;
  *out = column_get_bytes(c, 0);
  return true;
}

bool fn_const_i64(const struct fn_call *call, uint32_t i, int64_t *out)
{
  if (!fn_arg_is_const(call, i))
    return false;
  const struct column *c = call->args[i]->value;
  if (c->type->id == TYPE_NULLABLE) {
    if (c->nulls[0])
      return false;
    c = c->children[0];
  }
  if (!type_is_number_or_bool(c->type) && c->type->id != TYPE_INTERVAL)
    return false;
  if (c->type->id == TYPE_INTERVAL)
    *out = ((const int64_t *)c->data)[0];
  else if (datatype_is_float(c->type))
    *out = (int64_t)column_get_f64(c, 0);
  else
    *out = column_get_i64(c, 0);
  return true;
}

bool fn_const_f64(const struct fn_call *call, uint32_t i, double *out)
{
  if (!fn_arg_is_const(call, i))
    return false;
  const struct column *c = call->args[i]->value;
  if (c->type->id == TYPE_NULLABLE) {
    if (c->nulls[0])
      return false;
    c = c->children[0];
  }
  if (!type_is_number_or_bool(c->type))
    return false;
  *out = column_get_f64(c, 0);
  return true;
}

int fn_check_args(const struct fn_call *call, uint32_t min, uint32_t max, struct error *err)
{
  if (call->arg_count >= min && call->arg_count <= max)
    return 0;
  if (min == max)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                     "Number of arguments for function %s doesn't match: passed %u, should be %u", call->name,
                     call->arg_count, min);
  if (max == UINT32_MAX)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                     "Number of arguments for function %s doesn't match: passed %u, should be at least %u",
                     call->name, call->arg_count, min);
  return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                   "Number of arguments for function %s doesn't match: passed %u, should be from %u to %u",
                   call->name, call->arg_count, min, max);
}

int fn_illegal_type(const struct fn_call *call, uint32_t i, struct error *err)
{
  const struct datatype *t = i < call->arg_count ? call->args[i]->type : NULL;
  return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal type %s of argument of function %s",
                   t ? type_name(call->arena, t) : "?", call->name);
}

int fn_illegal_types2(const struct fn_call *call, struct error *err)
{
  return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal types %s and %s of arguments of function %s",
                   type_name(call->arena, call->args[0]->type), type_name(call->arena, call->args[1]->type),
                   call->name);
}

int fn_tz_arg(struct fn_call *call, uint32_t i, const struct datatype *value_type, struct error *err)
{
  if (i < call->arg_count) {
    struct slice s;
    if (!fn_const_str(call, i, &s))
      return error_set(err, ERR_ILLEGAL_COLUMN, "Argument %u of function %s must be a constant string (time zone)",
                       i + 1, call->name);
    char *name = arena_strndup(call->arena, s.ptr, s.len);
    const struct time_zone *tz = timezone_get(name);
    if (!tz)
      return error_set(err, ERR_BAD_ARGUMENTS, "Invalid time zone: %s", name);
    call->tz = tz;
    return 0;
  }
  const struct datatype *t = value_type ? datatype_unwrap(value_type) : NULL;
  if (t && (t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64) && t->timezone) {
    const struct time_zone *tz = timezone_get(t->timezone);
    call->tz = tz ? tz : timezone_utc();
    return 0;
  }
  call->tz = exec_timezone(call->ctx);
  return 0;
}

/* ======================================================================
 * Evaluation
 * ====================================================================== */

/* Row mapping from the current frame to the input block (or to `level`). */
static const uint32_t *frame_map_to(struct eval *ev, uint32_t level, uint32_t *rows_out)
{
  struct eval_frame *f = ev->frame;
  uint32_t n = f->rows;
  uint32_t *map = arena_alloc(ev->arena, sizeof *map * (n ? n : 1));
  for (uint32_t i = 0; i < n; i++)
    map[i] = f->parent_rows[i];
  struct eval_frame *p = f->parent;
  while (p && p->level > level) {
    for (uint32_t i = 0; i < n; i++)
      map[i] = p->parent_rows[map[i]];
    p = p->parent;
  }
  *rows_out = n;
  return map;
}

static int eval_function(struct eval *ev, const struct expr *e, struct column **out, struct error *err);

int expr_eval(struct eval *ev, const struct expr *e, struct column **out, struct error *err)
{
  switch (e->kind) {
  case EXPR_CONST:
    *out = col_make_const(ev->arena, e->value, ev->rows);
    return 0;
  case EXPR_INPUT: {
    struct column *c = ev->input->columns[e->index];
    if (!ev->frame) {
      *out = c;
      return 0;
    }
    if (c->is_const) {
      *out = col_with_rows(ev->arena, c, ev->rows);
      return 0;
    }
    uint32_t n;
    const uint32_t *map = frame_map_to(ev, 0, &n);
    *out = column_take(ev->arena, c, map, n);
    return 0;
  }
  case EXPR_PARAM: {
    struct eval_frame *f = ev->frame;
    if (!f)
      return error_set(err, ERR_LOGICAL_ERROR, "lambda parameter outside of a lambda");
    if (f->level == e->level) {
      *out = f->params[e->index];
      return 0;
    }
    struct eval_frame *target = f;
    while (target && target->level != e->level)
      target = target->parent;
    if (!target)
      return error_set(err, ERR_LOGICAL_ERROR, "lambda parameter of an unknown level");
    uint32_t n;
    const uint32_t *map = frame_map_to(ev, e->level, &n);
    *out = column_take(ev->arena, target->params[e->index], map, n);
    return 0;
  }
  case EXPR_LAMBDA:
    return error_set(err, ERR_BAD_ARGUMENTS, "Lambda function %s is not allowed here", e->name);
  case EXPR_AGGREGATE:
    return error_set(err, ERR_LOGICAL_ERROR, "aggregate %s evaluated outside of aggregation", e->name);
  case EXPR_FUNCTION:
    return eval_function(ev, e, out, err);
  }
  return error_set(err, ERR_LOGICAL_ERROR, "bad expression kind");
}

int expr_eval_lambda(struct eval *ev, const struct expr *lambda, struct column **params, uint32_t rows,
                     const uint32_t *parent_rows, struct column **out, struct error *err)
{
  struct eval_frame f = { .parent = ev->frame, .level = lambda->level, .rows = rows, .params = params,
                          .parent_rows = parent_rows };
  struct eval sub = *ev;
  sub.frame = &f;
  sub.rows = rows;
  int rc = expr_eval(&sub, lambda->args[0], out, err);
  if (rc)
    return rc;
  if ((*out)->is_const)
    *out = col_full(ev->arena, *out, rows);
  return 0;
}

int expr_eval_const(struct query_context *ctx, struct arena *a, const struct expr *e, struct column **out,
                    struct error *err)
{
  struct block empty = { .rows = 1 };
  struct eval ev = { .ctx = ctx, .arena = a, .input = &empty, .rows = 1 };
  struct column *c;
  int rc = expr_eval(&ev, e, &c, err);
  if (rc)
    return rc;
  if (c->is_const) {
    c = col_with_rows(a, c, 1);
    c->is_const = false;
  }
  *out = c;
  return 0;
}

/* ORs the null map of a Nullable column (rows rows) into acc. */
static void or_nulls(uint8_t *acc, const struct column *c, uint32_t rows)
{
  if (c->is_const) {
    if (c->nulls[0])
      memset(acc, 1, rows);
    return;
  }
  for (uint32_t i = 0; i < rows; i++)
    acc[i] |= c->nulls[i];
}

/* ---- short-circuit evaluation (if, multiIf, and, or) ----
 * A branch is evaluated only on the rows that need it (a filtered copy of
 * the input block), then scattered back with default values elsewhere, so
 * `if(x = 0, 0, intDiv(1, x))` never divides by zero (ClickHouse's
 * short_circuit_function_evaluation). */

/* Cheap enough to evaluate on every row instead of filtering the block
 * first: constants, columns, and comparisons and logic over cheap
 * arguments. A comparison without a run-time conversion cannot fail, so
 * evaluating it on rows another branch already decided changes nothing. */
static bool is_cheap(const struct expr *e)
{
  if (e->kind == EXPR_CONST || e->kind == EXPR_INPUT)
    return true;
  if (e->kind != EXPR_FUNCTION || !e->call || !e->call->def)
    return false;
  const struct function_def *d = e->call->def;
  if (d->flags & (FN_VOLATILE | FN_ROWWISE))
    return false;
  if (!(d->resolve == fr_compare && !e->call->state) && d->resolve != fr_logic)
    return false;
  for (uint32_t i = 0; i < e->arg_count; i++)
    if (!is_cheap(e->args[i]))
      return false;
  return true;
}

static int eval_on_rows(struct eval *ev, const struct expr *e, const uint8_t *mask, uint32_t count,
                        struct column **out, struct error *err)
{
  if (count == ev->rows)
    return expr_eval(ev, e, out, err);
  if (e->kind == EXPR_CONST) {
    *out = col_make_const(ev->arena, e->value, count);
    return 0;
  }
  const struct block *in = ev->input;
  struct block *sub = block_create(ev->arena, in->column_count);
  sub->rows = count;
  sub->names = in->names;
  for (uint32_t i = 0; i < in->column_count; i++) {
    /* A PREWHERE block carries only the filter's columns; the rest are NULL. */
    struct column *c = in->columns[i];
    if (!c)
      continue;
    sub->columns[i] = c->is_const ? col_with_rows(ev->arena, c, count) : column_filter(ev->arena, c, mask, count);
  }
  struct eval se = *ev;
  se.input = sub;
  se.rows = count;
  return expr_eval(&se, e, out, err);
}

/* Full column of `rows` rows: masked rows from compact (in order), others default. */
static struct column *scatter(struct arena *a, struct column *compact, const uint8_t *mask, uint32_t count,
                              uint32_t rows)
{
  if (count == rows)
    return compact;
  if (compact->is_const)
    return col_with_rows(a, compact, rows);
  struct column *ext = col_new_empty(a, compact->type, count + 1);
  column_append_range(ext, compact, 0, count);
  column_append_default(ext);
  uint32_t *idx = arena_alloc(a, sizeof *idx * (rows ? rows : 1));
  uint32_t k = 0;
  for (uint32_t i = 0; i < rows; i++)
    idx[i] = mask[i] ? k++ : count;
  return column_take(a, ext, idx, rows);
}

static uint32_t mask_count(const uint8_t *m, uint32_t rows)
{
  uint32_t n = 0;
  for (uint32_t i = 0; i < rows; i++)
    n += m[i];
  return n;
}

static int eval_lazy(struct eval *ev, const struct expr *e, const uint8_t *mask, uint32_t rows,
                     struct column **out, struct error *err)
{
  uint32_t count = mask_count(mask, rows);
  if (count == 0 || (is_cheap(e) && count != rows)) {
    if (count == 0) {
      struct column *d = col_new_empty(ev->arena, e->type, 1);
      column_append_default(d);
      *out = col_make_const(ev->arena, d, rows);
      return 0;
    }
    return expr_eval(ev, e, out, err);
  }
  struct column *c;
  int rc = eval_on_rows(ev, e, mask, count, &c, err);
  if (rc)
    return rc;
  *out = scatter(ev->arena, c, mask, count, rows);
  return 0;
}

static bool short_circuit_enabled(const struct eval *ev)
{
  if (ev->frame || !ev->ctx || !ev->ctx->settings)
    return false;
  const char *m = settings_get_str(ev->ctx->settings, "short_circuit_function_evaluation");
  return strcmp(m, "disable") != 0;
}

/* Evaluates the arguments of if/multiIf/and/or lazily; false when the
 * function is not one of them (arguments then evaluate normally). */
static int eval_short_circuit_args(struct eval *ev, const struct expr *e, struct column **args, bool *done,
                                   struct error *err)
{
  *done = false;
  const struct function_def *d = e->call->def;
  bool is_if = d->resolve == fr_if, is_multi = d->resolve == fr_multi_if;
  bool is_andor = d->resolve == fr_logic && (d->op == OP_AND || d->op == OP_OR);
  if (!(is_if || is_multi || is_andor) || !short_circuit_enabled(ev))
    return 0;
  bool any_expensive = false;
  for (uint32_t i = 1; i < e->arg_count; i++)
    if (!is_cheap(e->args[i]))
      any_expensive = true;
  if (!any_expensive)
    return 0;
  uint32_t rows = ev->rows;
  struct arena *a = ev->arena;
  int rc;
  if (is_if || is_multi) {
    uint8_t *remaining = arena_alloc(a, rows ? rows : 1);
    memset(remaining, 1, rows);
    uint32_t pairs = (e->arg_count - 1) / 2;
    for (uint32_t p = 0; p < pairs; p++) {
      if ((rc = eval_lazy(ev, e->args[2 * p], remaining, rows, &args[2 * p], err)))
        return rc;
      const uint8_t *c = col_as_bool(a, args[2 * p], rows);
      bool cc = args[2 * p]->is_const;
      uint8_t *take = arena_alloc(a, rows ? rows : 1);
      for (uint32_t i = 0; i < rows; i++) {
        take[i] = remaining[i] && c[cc ? 0 : i];
        remaining[i] &= !take[i];
      }
      if ((rc = eval_lazy(ev, e->args[2 * p + 1], take, rows, &args[2 * p + 1], err)))
        return rc;
    }
    if ((rc = eval_lazy(ev, e->args[e->arg_count - 1], remaining, rows, &args[e->arg_count - 1], err)))
      return rc;
    *done = true;
    return 0;
  }
  /* and / or: later arguments only where the result is still undecided */
  bool is_and = d->op == OP_AND;
  uint8_t *undecided = arena_alloc(a, rows ? rows : 1);
  memset(undecided, 1, rows);
  for (uint32_t k = 0; k < e->arg_count; k++) {
    if ((rc = eval_lazy(ev, e->args[k], undecided, rows, &args[k], err)))
      return rc;
    struct column *c = args[k];
    const uint8_t *t = col_as_bool(a, c, rows);
    bool cc = c->is_const;
    if (!cc && type_is_number_or_bool(c->type)) {
      /* never NULL: decided where the value settles the result */
      uint8_t decides = is_and ? 0 : 1;
      for (uint32_t i = 0; i < rows; i++)
        undecided[i] &= t[i] != decides;
      continue;
    }
    for (uint32_t i = 0; i < rows; i++) {
      uint32_t j = cc ? 0 : i;
      bool isnull = column_is_null(c, c->is_const ? 0 : i);
      bool v = t[j];
      if (!isnull && (is_and ? !v : v))
        undecided[i] = 0;
    }
  }
  *done = true;
  return 0;
}

static int eval_function(struct eval *ev, const struct expr *e, struct column **out, struct error *err)
{
  struct fn_call *call = e->call;
  uint32_t rows = ev->rows;
  if (call->null_const) {
    *out = col_const_null(ev->arena, e->type, rows);
    return 0;
  }
  struct column **args = arena_alloc(ev->arena, sizeof *args * (e->arg_count ? e->arg_count : 1));
  bool all_const = true;
  bool lazy_done = false;
  int lrc = eval_short_circuit_args(ev, e, args, &lazy_done, err);
  if (lrc)
    return lrc;
  for (uint32_t i = 0; i < e->arg_count && lazy_done; i++)
    if (!args[i]->is_const)
      all_const = false;
  for (uint32_t i = 0; i < e->arg_count && !lazy_done; i++) {
    if (e->args[i]->kind == EXPR_LAMBDA) {
      args[i] = NULL;
      all_const = false;
      continue;
    }
    int rc = expr_eval(ev, e->args[i], &args[i], err);
    if (rc)
      return rc;
    if (!args[i]->is_const)
      all_const = false;
  }
  if (call->def->flags & FN_ROWWISE)
    all_const = false;
  if (e->arg_count == 0 && !(call->def->flags & FN_ROWWISE))
    all_const = true;

  uint32_t n = all_const ? 1 : rows;
  if (all_const)
    for (uint32_t i = 0; i < e->arg_count; i++)
      if (args[i])
        args[i] = col_with_rows(ev->arena, args[i], 1);

  /* LowCardinality → full; comparisons without a conversion and IN take
   * a dictionary of plain values as is and work per dictionary entry. */
  bool keep_lc = (call->def->flags & FN_KEEP_LC) != 0;
  bool compare_lc = (call->def->resolve == fr_compare && !call->state) || call->def->resolve == fr_in;
  if (!keep_lc)
    for (uint32_t i = 0; i < e->arg_count; i++)
      if (args[i] && args[i]->type->id == TYPE_LOW_CARDINALITY &&
          !(compare_lc && args[i]->children[0]->type->id != TYPE_NULLABLE))
        args[i] = col_strip_lc(ev->arena, args[i]);

  uint8_t *nulls = NULL;
  if (call->wrap_nulls) {
    for (uint32_t i = 0; i < e->arg_count; i++) {
      if (!args[i] || args[i]->type->id != TYPE_NULLABLE)
        continue;
      if (!nulls)
        nulls = arena_calloc(ev->arena, n ? n : 1, 1);
      or_nulls(nulls, args[i], n);
      args[i] = col_nullable_inner(ev->arena, args[i]);
    }
  }

  struct column *res;
  struct eval sub = *ev;
  sub.rows = n;
  int rc = call->exec(call, &sub, args, n, &res, err);
  if (rc)
    return rc;

  if (call->wrap_nulls && type_can_be_nullable(call->type) && e->type->id == TYPE_NULLABLE) {
    if (res->type->id == TYPE_NULLABLE) {
      if (nulls) {
        uint8_t *m = arena_alloc(ev->arena, n ? n : 1);
        for (uint32_t i = 0; i < n; i++)
          m[i] = nulls[i] | res->nulls[res->is_const ? 0 : i];
        res = col_wrap_nullable(ev->arena, col_nullable_inner(ev->arena, res), m);
      }
    } else {
      res = col_wrap_nullable(ev->arena, res, nulls);
    }
  }
  if (all_const || (res->is_const && res->rows != rows)) {
    if (res->is_const) {
      res = col_with_rows(ev->arena, res, rows);
    } else {
      res = col_make_const(ev->arena, res, rows);
    }
  }
  *out = res;
  return 0;
}
