/* Comparison (equals … greaterOrEquals), logic (and, or, xor, not) and IN.
 * Comparisons return UInt8. Numbers compare by value across signedness
 * and width; a constant string compared with a date, number, UUID or enum
 * is converted to that type once, at analysis time (ClickHouse semantics);
 * other mixes go through the least common type. and/or implement
 * three-valued logic over Nullable arguments. IN builds a hash set from a
 * constant tuple or a subquery's rows, once per query. */
#include "query/exec_int.h"

#include <string.h>

enum cmp_dom { CD_U, CD_I, CD_F, CD_STR, CD_GENERIC };

static enum cmp_dom num_dom(const struct datatype *t)
{
  if (datatype_is_float(t))
    return CD_F;
  if (datatype_is_signed(t) || t->id == TYPE_DATETIME64 || t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16 ||
      t->id == TYPE_INTERVAL)
    return CD_I;
  return CD_U;
}

static bool is_num_like(const struct datatype *t)
{
  return type_is_number_or_bool(t) || t->id == TYPE_DATE || t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64 ||
         t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16 || t->id == TYPE_INTERVAL;
}

static inline int cmp_result(int op, int c)
{
  switch (op) {
  case OP_EQ: return c == 0;
  case OP_NE: return c != 0;
  case OP_LT: return c < 0;
  case OP_LE: return c <= 0;
  case OP_GT: return c > 0;
  default: return c >= 0;
  }
}

#define CMP_LOOPS(XT, YT, X, Y, CMPEXPR)                                                        \
  do {                                                                                       \
    if (ca) { XT a = X[0]; for (uint32_t i = 0; i < n; i++) { YT b = Y[i]; r[i] = (CMPEXPR); } } \
    else if (cb) { YT b = Y[0]; for (uint32_t i = 0; i < n; i++) { XT a = X[i]; r[i] = (CMPEXPR); } } \
    else { for (uint32_t i = 0; i < n; i++) { XT a = X[i]; YT b = Y[i]; r[i] = (CMPEXPR); } } \
  } while (0)

#define CMP_ALL_OPS(XT, YT, X, Y, LT, EQ)                                      \
  switch (op) {                                                                \
  case OP_EQ: CMP_LOOPS(XT, YT, X, Y, (EQ)); break;                            \
  case OP_NE: CMP_LOOPS(XT, YT, X, Y, !(EQ)); break;                           \
  case OP_LT: CMP_LOOPS(XT, YT, X, Y, (LT)); break;                            \
  case OP_LE: CMP_LOOPS(XT, YT, X, Y, (LT) || (EQ)); break;                    \
  case OP_GT: CMP_LOOPS(XT, YT, X, Y, !(LT) && !(EQ)); break;                  \
  default: CMP_LOOPS(XT, YT, X, Y, !(LT)); break;                              \
  }

/* Row i of a String column as {ptr,len}; base is chars, or "" when unset. */
static inline struct slice str_row(const struct column *c, const char *base, uint32_t i)
{
  uint64_t s = i ? c->offsets[i - 1] : 0;
  return slice_make(base + s, (size_t)(c->offsets[i] - s));
}

static inline int str_cmp(struct slice a, struct slice b)
{
  size_t m = a.len < b.len ? a.len : b.len;
  int k = m ? memcmp(a.ptr, b.ptr, m) : 0;
  if (k == 0)
    k = a.len < b.len ? -1 : a.len > b.len;
  return k;
}

/* String against String: offsets read directly; against a constant,
 * (in)equality checks the length before the bytes. */
static void compare_strings(int op, const struct column *x, const struct column *y, bool ca, bool cb, uint32_t n,
                            uint8_t *r)
{
  const char *xb = x->chars ? x->chars : "", *yb = y->chars ? y->chars : "";
  if ((op == OP_EQ || op == OP_NE) && (ca || cb)) {
    const struct column *v = ca ? y : x;
    const char *vb = ca ? yb : xb;
    struct slice k = ca ? str_row(x, xb, 0) : str_row(y, yb, 0);
    uint8_t ne = op == OP_NE;
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
      uint64_t end = v->offsets[i];
      bool eq = end - prev == k.len && (k.len == 0 || memcmp(vb + prev, k.ptr, k.len) == 0);
      r[i] = (uint8_t)eq ^ ne;
      prev = end;
    }
    return;
  }
  for (uint32_t i = 0; i < n; i++) {
    struct slice a = str_row(x, xb, ca ? 0 : i), b = str_row(y, yb, cb ? 0 : i);
    r[i] = (uint8_t)cmp_result(op, str_cmp(a, b));
  }
}

/* The comparison of x and y on n rows into r (ca/cb: that side is one
 * row standing for all). Neither side is LowCardinality. */
static int compare_columns(struct fn_call *call, struct eval *ev, struct column *x, struct column *y, bool ca,
                           bool cb, uint32_t n, uint8_t *r, struct error *err)
{
  int op = call->def->op;
  enum cmp_dom dx = (enum cmp_dom)call->i0, dy = (enum cmp_dom)call->i1;
  /* conversions chosen at resolve time */
  if (call->state) {
    const struct datatype *to = call->state;
    if (!datatype_equal(x->type, to)) {
      int rc = cast_column(ev, x, n, to, CAST_THROW, &x, err);
      if (rc)
        return rc;
    }
    if (!datatype_equal(y->type, to)) {
      int rc = cast_column(ev, y, n, to, CAST_THROW, &y, err);
      if (rc)
        return rc;
    }
  }
  if (dx == CD_STR) {
    if (x->type->id == TYPE_STRING && y->type->id == TYPE_STRING) {
      compare_strings(op, x, y, ca, cb, n, r);
      return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
      struct slice a = column_get_bytes(x, ca ? 0 : i), b = column_get_bytes(y, cb ? 0 : i);
      r[i] = (uint8_t)cmp_result(op, str_cmp(a, b));
    }
  } else if (dx == CD_GENERIC) {
    for (uint32_t i = 0; i < n; i++) {
      uint32_t ra = ca ? 0 : i, rb = cb ? 0 : i;
      int k;
      if (op == OP_EQ || op == OP_NE)
        k = column_rows_equal(x, column_row(x, ra), y, column_row(y, rb)) ? 0 : 1;
      else
        k = column_compare_rows(x, column_row(x, ra), y, column_row(y, rb), false);
      r[i] = (uint8_t)cmp_result(op, k);
    }
  } else if (dx == CD_F || dy == CD_F) {
    const double *X = col_as_f64(ev->arena, x, n), *Y = col_as_f64(ev->arena, y, n);
    CMP_ALL_OPS(double, double, X, Y, a < b, a == b);
  } else if (dx == CD_U && dy == CD_U) {
    const uint64_t *X = col_as_u64(ev->arena, x, n), *Y = col_as_u64(ev->arena, y, n);
    CMP_ALL_OPS(uint64_t, uint64_t, X, Y, a < b, a == b);
  } else if (dx == CD_I && dy == CD_I) {
    const int64_t *X = col_as_i64(ev->arena, x, n), *Y = col_as_i64(ev->arena, y, n);
    CMP_ALL_OPS(int64_t, int64_t, X, Y, a < b, a == b);
  } else if (dx == CD_I) {
    const int64_t *X = col_as_i64(ev->arena, x, n);
    const uint64_t *Y = col_as_u64(ev->arena, y, n);
    CMP_ALL_OPS(int64_t, uint64_t, X, Y, a < 0 || (uint64_t)a < b, a >= 0 && (uint64_t)a == b);
  } else {
    const uint64_t *X = col_as_u64(ev->arena, x, n);
    const int64_t *Y = col_as_i64(ev->arena, y, n);
    CMP_ALL_OPS(uint64_t, int64_t, X, Y, b >= 0 && a < (uint64_t)b, b >= 0 && a == (uint64_t)b);
  }
  return 0;
}

/* A LowCardinality column (not const, plain dictionary) against a
 * constant: the comparison runs once per dictionary entry and each row
 * takes its key's answer. False when the dictionary is not worth it. */
static bool compare_by_dict(struct fn_call *call, struct eval *ev, const struct column *lc, struct column *k,
                            bool lc_left, uint32_t rows, uint8_t *r, int *rc, struct error *err)
{
  const struct column *dict = lc->children[0];
  if (lc->is_const || !k->is_const || k->type->id == TYPE_LOW_CARDINALITY || call->state ||
      dict->type->id == TYPE_NULLABLE || dict->rows == 0 || dict->rows > rows)
    return false;
  uint8_t *per_key = arena_alloc(ev->arena, dict->rows);
  struct column *d = (struct column *)dict;
  struct column *kc = col_with_rows(ev->arena, k, dict->rows);
  *rc = lc_left ? compare_columns(call, ev, d, kc, false, true, dict->rows, per_key, err)
                : compare_columns(call, ev, kc, d, true, false, dict->rows, per_key, err);
  if (*rc)
    return true;
  const uint32_t *keys = lc->data;
  for (uint32_t i = 0; i < rows; i++)
    r[i] = per_key[keys[i]];
  return true;
}

static int exec_compare(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  struct column *x = args[0], *y = args[1];
  bool ca = x->is_const, cb = y->is_const;
  uint32_t n = (ca && cb) ? 1 : rows;
  struct column *c = col_new(ev->arena, type_u8(), n);
  uint8_t *r = c->data;
  if (ca && cb)
    ca = cb = false; /* n == 1: plain loop */
  int rc = 0;
  if (x->type->id == TYPE_LOW_CARDINALITY && n == rows && compare_by_dict(call, ev, x, y, true, n, r, &rc, err)) {
    *out = c;
    return rc;
  }
  if (y->type->id == TYPE_LOW_CARDINALITY && n == rows && compare_by_dict(call, ev, y, x, false, n, r, &rc, err)) {
    *out = c;
    return rc;
  }
  if (x->type->id == TYPE_LOW_CARDINALITY)
    x = col_strip_lc(ev->arena, x);
  if (y->type->id == TYPE_LOW_CARDINALITY)
    y = col_strip_lc(ev->arena, y);
  rc = compare_columns(call, ev, x, y, ca, cb, n, r, err);
  *out = c;
  return rc;
}

/* Date vs DateTime compare as seconds: convert the Date side; DateTime64s of
 * different precisions compare at the finer one. */
static bool is_time(const struct datatype *t) { return t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64; }

int fr_compare(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  call->type = type_u8();
  call->exec = exec_compare;
  const struct datatype *a = call->arg_types[0], *b = call->arg_types[1];
  /* a const string against a typed value: convert the constant now */
  for (int side = 0; side < 2; side++) {
    const struct datatype *s = side ? b : a, *o = side ? a : b;
    if (s->id == TYPE_STRING && fn_arg_is_const(call, (uint32_t)side) && o->id != TYPE_STRING &&
        o->id != TYPE_FIXED_STRING && o->id != TYPE_NOTHING) {
      struct column *conv;
      struct column *v = call->args[side]->value;
      if (v->type->id == TYPE_NULLABLE)
        break;
      rc = cast_const(call->ctx, call->arena, v, o, &conv, err);
      if (rc)
        return rc;
      struct expr *e = arena_new(call->arena, struct expr);
      *e = *call->args[side];
      e->value = conv;
      e->type = conv->type;
      call->args[side] = e;
      call->arg_types[side] = o;
      if (side)
        b = o;
      else
        a = o;
    }
  }
  if ((a->id == TYPE_STRING || a->id == TYPE_FIXED_STRING) && (b->id == TYPE_STRING || b->id == TYPE_FIXED_STRING)) {
    call->i0 = call->i1 = CD_STR;
    return 0;
  }
  if (is_num_like(a) && is_num_like(b)) {
    if ((a->id == TYPE_DATE && is_time(b)) || (b->id == TYPE_DATE && is_time(a)) ||
        (a->id == TYPE_DATETIME64 && b->id != TYPE_DATETIME64 && is_time(b)) ||
        (b->id == TYPE_DATETIME64 && a->id != TYPE_DATETIME64 && is_time(a)) ||
        (a->id == TYPE_DATETIME64 && b->id == TYPE_DATETIME64 && a->size != b->size)) {
      const struct datatype *pair[2] = { a, b };
      const struct datatype *st;
      rc = type_supertype(call->arena, pair, 2, &st, err);
      if (rc)
        return rc;
      call->state = (void *)st;
      call->i0 = call->i1 = num_dom(st);
      return 0;
    }
    call->i0 = num_dom(a);
    call->i1 = num_dom(b);
    return 0;
  }
  /* everything else through the common type */
  const struct datatype *pair[2] = { a, b };
  const struct datatype *st;
  rc = type_supertype(call->arena, pair, 2, &st, err);
  if (rc) {
    error_clear(err);
    return error_set(err, ERR_NO_COMMON_TYPE, "Illegal types of arguments (%s, %s) of function %s",
                     type_name(call->arena, call->args[0]->type), type_name(call->arena, call->args[1]->type),
                     call->name);
  }
  call->state = (void *)st;
  if (st->id == TYPE_STRING || st->id == TYPE_FIXED_STRING)
    call->i0 = call->i1 = CD_STR;
  else if (is_num_like(st))
    call->i0 = call->i1 = num_dom(st);
  else
    call->i0 = call->i1 = CD_GENERIC;
  return 0;
}

/* ======================================================================
 * logic
 * ====================================================================== */

/* Truth of a column as 0/1 plus a null flag per row (NULL when nulls[i]). */
static void truth(struct arena *a, const struct column *c, uint32_t rows, uint8_t **val, uint8_t **nul)
{
  uint32_t n = c->is_const ? 1 : rows;
  *nul = NULL;
  if (c->type->id == TYPE_NULLABLE) {
    *nul = c->nulls;
    *val = (uint8_t *)col_as_bool(a, c, rows);
    return;
  }
  if (c->type->id == TYPE_NOTHING) {
    uint8_t *z = arena_calloc(a, n ? n : 1, 1);
    uint8_t *o = arena_alloc(a, n ? n : 1);
    memset(o, 1, n);
    *val = z;
    *nul = o;
    return;
  }
  *val = (uint8_t *)col_as_bool(a, c, rows);
}

/* Bytes of a word: 1 where nonzero, else 0. */
static inline uint64_t word_truth(uint64_t w)
{
  const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
  return ((((w & low7) + low7) | w) & ~low7) >> 7;
}

/* acc[i] = acc[i] AND/OR (v[i] != 0), flipped to (v[i] == 0) by invert;
 * acc holds 0/1. Eight rows per step. */
static void fold_truth(uint8_t *acc, const uint8_t *v, uint32_t rows, bool is_and, bool invert)
{
  const uint64_t ones = invert ? 0x0101010101010101ull : 0;
  uint32_t i = 0;
  for (; i + 8 <= rows; i += 8) {
    uint64_t a, w;
    memcpy(&a, acc + i, 8);
    memcpy(&w, v + i, 8);
    w = word_truth(w) ^ ones;
    a = is_and ? a & w : a | w;
    memcpy(acc + i, &a, 8);
  }
  for (; i < rows; i++) {
    uint8_t t = (uint8_t)((v[i] != 0) ^ invert);
    acc[i] = is_and ? acc[i] & t : acc[i] | t;
  }
}

static int exec_and_or(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                       struct column **out, struct error *err)
{
  (void)err;
  bool is_and = call->def->op == OP_AND;
  struct column *c = col_new(ev->arena, type_u8(), rows);
  uint8_t *res = c->data;
  uint8_t *rnull = NULL;
  memset(res, is_and ? 1 : 0, rows);
  bool nullable = call->type->id == TYPE_NULLABLE;
  if (nullable)
    rnull = arena_calloc(ev->arena, rows ? rows : 1, 1);
  for (uint32_t k = 0; k < call->arg_count; k++) {
    uint8_t *v, *nl;
    truth(ev->arena, args[k], rows, &v, &nl);
    bool cc = args[k]->is_const;
    if (!nl) {
      if (cc) {
        if (is_and && !v[0]) { memset(res, 0, rows); if (rnull) memset(rnull, 0, rows); }
        if (!is_and && v[0]) { memset(res, 1, rows); if (rnull) memset(rnull, 0, rows); }
        continue;
      }
      fold_truth(res, v, rows, is_and, false);
      /* a known value clears NULL where it decides: false for and, true for or */
      if (rnull)
        fold_truth(rnull, v, rows, true, !is_and);
      continue;
    }
    for (uint32_t i = 0; i < rows; i++) {
      uint32_t j = cc ? 0 : i;
      bool isnull = nl[j];
      bool val = v[j];
      if (is_and) {
        /* false dominates, then NULL */
        if (!isnull && !val) { res[i] = 0; rnull[i] = 0; }
        else if (isnull && res[i]) { rnull[i] = 1; }
      } else {
        if (!isnull && val) { res[i] = 1; rnull[i] = 0; }
        else if (isnull && !res[i]) { rnull[i] = 1; }
      }
    }
  }
  /* a decided value clears a NULL seen earlier */
  if (rnull)
    for (uint32_t i = 0; i < rows; i++)
      if (rnull[i])
        res[i] = 0;
  *out = nullable ? col_wrap_nullable(ev->arena, c, rnull) : c;
  return 0;
}

static int exec_xor_not(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  (void)err;
  struct column *c = col_new(ev->arena, type_u8(), rows);
  uint8_t *r = c->data;
  if (call->def->op == OP_NOT) {
    const uint8_t *v = col_as_bool(ev->arena, args[0], rows);
    bool k = args[0]->is_const;
    for (uint32_t i = 0; i < rows; i++)
      r[i] = !v[k ? 0 : i];
  } else {
    memset(r, 0, rows);
    for (uint32_t a = 0; a < call->arg_count; a++) {
      const uint8_t *v = col_as_bool(ev->arena, args[a], rows);
      bool k = args[a]->is_const;
      for (uint32_t i = 0; i < rows; i++)
        r[i] ^= v[k ? 0 : i];
    }
  }
  *out = c;
  return 0;
}

static bool logic_arg_ok(const struct datatype *t)
{
  if (t->id == TYPE_NULLABLE)
    t = t->children[0];
  return type_is_number_or_bool(t) || t->id == TYPE_NOTHING;
}

int fr_logic(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  int rc = op == OP_NOT ? fn_check_args(call, 1, 1, err) : fn_check_args(call, 2, UINT32_MAX, err);
  if (rc)
    return rc;
  bool nullable = false;
  for (uint32_t i = 0; i < call->arg_count; i++) {
    if (!logic_arg_ok(call->arg_types[i]))
      return fn_illegal_type(call, i, err);
    if (call->arg_types[i]->id == TYPE_NULLABLE || call->arg_types[i]->id == TYPE_NOTHING)
      nullable = true;
  }
  if (op == OP_AND || op == OP_OR) {
    call->type = nullable ? type_make_nullable(call->arena, type_u8()) : type_u8();
    call->exec = exec_and_or;
  } else {
    call->type = type_u8();
    call->exec = exec_xor_not;
  }
  return 0;
}

/* ======================================================================
 * IN
 * ====================================================================== */

struct in_state {
  struct value_set *set;
  const struct datatype *elem_type;  /* unwrapped left type the set holds */
};

static int exec_in(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                   struct column **out, struct error *err)
{
  struct in_state *st = call->state;
  int mode = call->def->op; /* 0 in, 1 notIn, 2 nullIn, 3 notNullIn */
  bool negate = mode == 1 || mode == 3;
  bool null_eq = mode >= 2;
  struct column *x = args[0];
  uint32_t n = x->is_const ? 1 : rows;
  if (x->type->id == TYPE_LOW_CARDINALITY && !x->is_const && call->type->id != TYPE_NULLABLE) {
    /* a plain dictionary of the set's type: look each entry up once */
    const struct column *dict = x->children[0];
    if (dict->rows && dict->rows <= rows && datatype_equal(dict->type, st->elem_type)) {
      uint8_t *per_key = arena_alloc(ev->arena, dict->rows);
      value_set_lookup(st->set, dict, dict->rows, per_key);
      struct column *c = col_new(ev->arena, type_u8(), rows);
      uint8_t *r = c->data;
      const uint32_t *keys = x->data;
      for (uint32_t i = 0; i < rows; i++)
        r[i] = per_key[keys[i]] ^ negate;
      *out = c;
      return 0;
    }
  }
  if (x->type->id == TYPE_LOW_CARDINALITY)
    x = col_strip_lc(ev->arena, x);
  const uint8_t *nulls = NULL;
  struct column *v = x;
  if (x->type->id == TYPE_NULLABLE) {
    nulls = x->nulls;
    v = col_nullable_inner(ev->arena, x);
  }
  if (!datatype_equal(v->type, st->elem_type)) {
    int rc = cast_column(ev, v, n, st->elem_type, CAST_THROW, &v, err);
    if (rc)
      return rc;
  }
  if (v->is_const)
    v = col_with_rows(ev->arena, v, 1), v->is_const = false;
  uint8_t *found = arena_alloc(ev->arena, n ? n : 1);
  if (v->type->id != TYPE_NOTHING)
    value_set_lookup(st->set, v, n, found);
  else
    memset(found, 0, n);
  struct column *c = col_new(ev->arena, type_u8(), n);
  uint8_t *r = c->data;
  uint8_t *rn = NULL;
  for (uint32_t i = 0; i < n; i++)
    r[i] = found[i] ^ negate;
  if (nulls) {
    if (null_eq) {
      for (uint32_t i = 0; i < n; i++)
        if (nulls[i])
          r[i] = value_set_has_null(st->set) ^ negate;
    } else {
      rn = arena_alloc(ev->arena, n ? n : 1);
      memcpy(rn, nulls, n);
    }
  }
  if (call->type->id == TYPE_NULLABLE)
    c = col_wrap_nullable(ev->arena, c, rn);
  *out = x->is_const ? col_make_const(ev->arena, c, rows) : c;
  return 0;
}

/* Adds the set elements held by a const column to `vals` converted to t. */
static int in_collect(struct fn_call *call, const struct column *rhs, uint32_t row, const struct datatype *t,
                      struct column *vals, bool *has_null, struct error *err)
{
  const struct column *c = rhs;
  if (c->type->id == TYPE_NULLABLE) {
    if (c->nulls[row]) {
      *has_null = true;
      return 0;
    }
    c = c->children[0];
  }
  if (c->type->id == TYPE_NOTHING) {
    *has_null = true;
    return 0;
  }
  struct column *one = column_slice(call->arena, c, row, 1);
  struct column *conv;
  int rc = cast_const(call->ctx, call->arena, one, t, &conv, err);
  if (rc)
    return rc;
  if (conv->type->id == TYPE_NULLABLE) {
    if (conv->nulls[0]) {
      *has_null = true;
      return 0;
    }
    conv = conv->children[0];
  }
  column_append_from(vals, conv, 0);
  return 0;
}

int fr_in(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if (!fn_arg_is_const(call, 1))
    return error_set(err, ERR_ILLEGAL_COLUMN, "Second argument for function %s must be a constant or a subquery",
                     call->name);
  bool from_subquery = call->state == (void *)1;
  const struct datatype *lt = call->arg_types[0];
  if (lt->id == TYPE_LOW_CARDINALITY)
    lt = lt->children[0];
  bool left_nullable = lt->id == TYPE_NULLABLE;
  const struct datatype *et = datatype_unwrap(lt);
  const struct column *rhs = call->args[1]->value;
  if (et->id == TYPE_NOTHING) {
    /* NULL IN (…) is NULL */
    call->type = type_nothing_nullable();
    call->null_const = true;
    call->exec = exec_in;
    return 0;
  }
  struct column *vals = col_new_empty(call->arena, et, 16);
  bool has_null = false;
  const struct datatype *rt = rhs->type;
  if (from_subquery) {
    /* Array of subquery rows */
    const struct column *el = rhs->children[0];
    for (uint32_t i = 0; i < el->rows; i++)
      if ((rc = in_collect(call, el, i, et, vals, &has_null, err)))
        return rc;
  } else if (rt->id == TYPE_TUPLE && !(et->id == TYPE_TUPLE && rt->child_count == et->child_count &&
                                      datatype_unwrap(rt->children[0])->id != TYPE_TUPLE)) {
    for (uint32_t k = 0; k < rhs->child_count; k++)
      if ((rc = in_collect(call, rhs->children[k], 0, et, vals, &has_null, err)))
        return rc;
  } else if (rt->id == TYPE_ARRAY && et->id != TYPE_ARRAY) {
    const struct column *el = rhs->children[0];
    for (uint32_t i = 0; i < el->rows; i++)
      if ((rc = in_collect(call, el, i, et, vals, &has_null, err)))
        return rc;
  } else {
    if ((rc = in_collect(call, rhs, 0, et, vals, &has_null, err)))
      return rc;
  }
  struct in_state *st = arena_new(call->arena, struct in_state);
  st->elem_type = et;
  st->set = value_set_create(call->arena, vals, has_null);
  call->state = st;
  int mode = call->def->op;
  call->type = (left_nullable && mode < 2) ? type_make_nullable(call->arena, type_u8()) : type_u8();
  if (et->id == TYPE_NOTHING)
    call->type = mode < 2 ? type_make_nullable(call->arena, type_u8()) : type_u8();
  call->exec = exec_in;
  return 0;
}

/* isNotDistinctFrom: equality where NULL equals NULL. */
static int exec_not_distinct(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                             struct column **out, struct error *err)
{
  (void)call; (void)err;
  struct column *c = col_new(ev->arena, type_u8(), rows);
  uint8_t *r = c->data;
  for (uint32_t i = 0; i < rows; i++)
    r[i] = column_rows_equal(args[0], column_row(args[0], i), args[1], column_row(args[1], i));
  *out = c;
  return 0;
}

int fr_not_distinct(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  call->type = type_u8();
  call->exec = exec_not_distinct;
  return 0;
}

/* ======================================================================
 * value sets
 * ====================================================================== */

struct value_set {
  const struct datatype *type;
  bool fixed;
  bool has_null;
  struct u64_table u;
  struct key_table k;
  uint64_t size;
};

struct value_set *value_set_create(struct arena *a, const struct column *values, bool has_null)
{
  struct value_set *s = arena_new(a, struct value_set);
  s->type = values->type;
  s->has_null = has_null;
  s->fixed = key_fits_u64(values->type);
  if (s->fixed) {
    u64_table_init(&s->u, a);
    uint64_t *kv = arena_alloc(a, sizeof *kv * (values->rows ? values->rows : 1));
    key_load_u64(values, values->rows, kv);
    for (uint32_t i = 0; i < values->rows; i++) {
      bool is_new;
      u64_table_insert(&s->u, kv[i], &is_new);
    }
    s->size = s->u.count;
  } else {
    key_table_init(&s->k, a);
    struct buf b;
    buf_init(&b);
    for (uint32_t i = 0; i < values->rows; i++) {
      buf_reset(&b);
      key_serialize(&b, values, i);
      bool is_new;
      key_table_insert(&s->k, b.data, b.len, hash_bytes(b.data, b.len), &is_new);
    }
    buf_free(&b);
    s->size = s->k.count;
  }
  return s;
}

bool value_set_has_null(const struct value_set *s) { return s->has_null; }
uint64_t value_set_size(const struct value_set *s) { return s->size; }

void value_set_lookup(const struct value_set *s, const struct column *c, uint32_t rows, uint8_t *out)
{
  if (s->fixed) {
    uint64_t kv[1024];
    for (uint32_t base = 0; base < rows; base += 1024) {
      uint32_t m = rows - base < 1024 ? rows - base : 1024;
      struct column tmp = *c;
      size_t w = datatype_fixed_bytes(c->type);
      tmp.data = (char *)c->data + (size_t)base * w;
      tmp.rows = m;
      key_load_u64(&tmp, m, kv);
      for (uint32_t i = 0; i < m; i++)
        out[base + i] = u64_table_find(&s->u, kv[i]) >= 0;
    }
    return;
  }
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < rows; i++) {
    buf_reset(&b);
    key_serialize(&b, c, i);
    out[i] = key_table_find(&s->k, b.data, b.len, hash_bytes(b.data, b.len)) >= 0;
  }
  buf_free(&b);
}
