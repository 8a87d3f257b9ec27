/* Arithmetic and math functions. Result types follow ClickHouse's rules
 * (NumberTraits): plus/multiply widen to the next size, minus is signed,
 * divide is Float64, intDiv takes the dividend's size, modulo the
 * divisor's (one size up for a signed dividend), negate of an unsigned is
 * the next signed size, abs of a signed is unsigned. Integer kernels
 * compute on 64-bit bit patterns (wrapping as ClickHouse does) and narrow
 * once at the end; each op has separate vector-vector, vector-const and
 * const-vector loops so the compiler can vectorize them. */
#include "query/exec_int.h"

#include <math.h>
#include <string.h>

#include "base/timezone.h"

enum arith_dom { AD_U, AD_I, AD_F };

static enum arith_dom type_dom(const struct datatype *t)
{
  if (datatype_is_float(t))
    return AD_F;
  if (datatype_is_signed(t) || t->id == TYPE_INTERVAL || t->id == TYPE_DATETIME64)
    return AD_I;
  return AD_U;
}

static unsigned next_bits(unsigned b) { return b >= 64 ? 64 : b * 2; }

static bool arith_arg_ok(const struct datatype *t) { return type_is_number_or_bool(t); }

/* ---- generic binary loop over 64-bit bit patterns ---- */

#define BIN_LOOP(T, R, EXPR)                                                                 \
  do {                                                                                       \
    const T *x = xa, *y = ya;                                                                \
    T *r = (R);                                                                              \
    if (ca && cb) { T a0 = x[0], b0 = y[0]; (void)a0; (void)b0; { T a = a0, b = b0; r[0] = (EXPR); } } \
    else if (cb) { T b = y[0]; for (uint32_t i = 0; i < n; i++) { T a = x[i]; r[i] = (EXPR); } } \
    else if (ca) { T a = x[0]; for (uint32_t i = 0; i < n; i++) { T b = y[i]; r[i] = (EXPR); } } \
    else { for (uint32_t i = 0; i < n; i++) { T a = x[i], b = y[i]; r[i] = (EXPR); } }       \
  } while (0)

static void *operand(struct arena *a, const struct column *c, uint32_t rows, enum arith_dom d)
{
  switch (d) {
  case AD_U: return (void *)col_as_u64(a, c, rows);
  case AD_I: return (void *)col_as_i64(a, c, rows);
  default: return (void *)col_as_f64(a, c, rows);
  }
}

/* Stores a 64-bit result array into a column of type t. */
static struct column *store(struct arena *a, const struct datatype *t, enum arith_dom d, void *v, uint32_t rows)
{
  if (d == AD_F)
    return col_from_f64(a, t, v, rows);
  if (d == AD_I)
    return col_from_i64(a, t, v, rows);
  return col_from_u64(a, t, v, rows);
}

/* ======================================================================
 * plus / minus / multiply / divide
 * ====================================================================== */

static int exec_arith(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err;
  enum arith_dom d = (enum arith_dom)call->i0;
  bool ca = args[0]->is_const, cb = args[1]->is_const;
  uint32_t n = (ca && cb) ? 1 : rows;
  void *xa = operand(ev->arena, args[0], rows, d), *ya = operand(ev->arena, args[1], rows, d);
  void *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  void *outp = res;
  switch (call->def->op) {
  case OP_PLUS:
    if (d == AD_F) BIN_LOOP(double, outp, a + b);
    else BIN_LOOP(uint64_t, outp, a + b);
    break;
  case OP_MINUS:
    if (d == AD_F) BIN_LOOP(double, outp, a - b);
    else BIN_LOOP(uint64_t, outp, a - b);
    break;
  case OP_MULTIPLY:
    if (d == AD_F) BIN_LOOP(double, outp, a * b);
    else BIN_LOOP(uint64_t, outp, a * b);
    break;
  default:
    break;
  }
  struct column *c = store(ev->arena, call->type, d, res, n);
  *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
  return 0;
}

static int exec_divide(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                       struct column **out, struct error *err)
{
  (void)err; (void)call;
  bool ca = args[0]->is_const, cb = args[1]->is_const;
  uint32_t n = (ca && cb) ? 1 : rows;
  const double *xa = col_as_f64(ev->arena, args[0], rows), *ya = col_as_f64(ev->arena, args[1], rows);
  struct column *c = col_new(ev->arena, type_f64(), n);
  double *out_d = c->data;
  {
    double *r = out_d;
    if (ca && cb) r[0] = xa[0] / ya[0];
    else if (cb) { double b = ya[0]; for (uint32_t i = 0; i < n; i++) r[i] = xa[i] / b; }
    else if (ca) { double a = xa[0]; for (uint32_t i = 0; i < n; i++) r[i] = a / ya[i]; }
    else for (uint32_t i = 0; i < n; i++) r[i] = xa[i] / ya[i];
  }
  *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
  return 0;
}

/* intDiv / modulo with exact mixed-sign semantics through 128-bit values. */
static int exec_intdiv(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                       struct column **out, struct error *err)
{
  int op = call->def->op;
  bool ca = args[0]->is_const, cb = args[1]->is_const;
  uint32_t n = (ca && cb) ? 1 : rows;
  const struct datatype *ta = call->arg_types[0], *tb = call->arg_types[1];
  enum arith_dom da = type_dom(ta), db = type_dom(tb);
  enum arith_dom dr = type_dom(call->type);
  bool fa = da == AD_F, fb = db == AD_F;
  if (fa || fb) {
    const double *x = col_as_f64(ev->arena, args[0], rows), *y = col_as_f64(ev->arena, args[1], rows);
    if (dr == AD_F) {
      double *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
      for (uint32_t i = 0; i < n; i++) {
        double a = x[ca ? 0 : i], b = y[cb ? 0 : i];
        if (op == OP_MODULO_OR_ZERO && b == 0) { r[i] = 0; continue; }
        double m = fmod(a, b);
        if (op == OP_POSITIVE_MODULO && m < 0)
          m += fabs(b);
        r[i] = m;
      }
      struct column *c = col_from_f64(ev->arena, call->type, r, n);
      *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
      return 0;
    }
    int64_t *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
    for (uint32_t i = 0; i < n; i++) {
      double a = x[ca ? 0 : i], b = y[cb ? 0 : i];
      if (b == 0) {
        if (op == OP_INTDIV_OR_ZERO) { r[i] = 0; continue; }
        return error_set(err, ERR_ILLEGAL_DIVISION, "Division by zero");
      }
      double q = trunc(a / b);
      if (!(q >= -9223372036854775808.0 && q < 9223372036854775808.0))
        return error_set(err, ERR_ILLEGAL_DIVISION, "Cannot perform integer division, because it will produce infinite or too large number");
      r[i] = (int64_t)q;
    }
    struct column *c = col_from_i64(ev->arena, call->type, r, n);
    *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
    return 0;
  }
  uint64_t *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  bool is_div = op == OP_INTDIV || op == OP_INTDIV_OR_ZERO;
  bool or_zero = op == OP_INTDIV_OR_ZERO || op == OP_MODULO_OR_ZERO;
  if (da == AD_U && db == AD_U && op != OP_POSITIVE_MODULO) {
    /* fast path: unsigned by unsigned (the common `number % k`) */
    const uint64_t *x = col_as_u64(ev->arena, args[0], rows), *y = col_as_u64(ev->arena, args[1], rows);
    if (cb && !ca && y[0] != 0) {
      uint64_t b = y[0];
      if (is_div)
        for (uint32_t i = 0; i < n; i++) r[i] = x[i] / b;
      else
        for (uint32_t i = 0; i < n; i++) r[i] = x[i] % b;
    } else {
      for (uint32_t i = 0; i < n; i++) {
        uint64_t a = x[ca ? 0 : i], b = y[cb ? 0 : i];
        if (b == 0) {
          if (or_zero) {
            r[i] = 0;
            continue;
          }
          return error_set(err, ERR_ILLEGAL_DIVISION, "Division by zero");
        }
        r[i] = is_div ? a / b : a % b;
      }
    }
    struct column *c = dr == AD_I ? col_from_i64(ev->arena, call->type, (int64_t *)r, n)
                                  : col_from_u64(ev->arena, call->type, r, n);
    *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
    return 0;
  }
  const uint64_t *xu = col_as_u64(ev->arena, args[0], rows), *yu = col_as_u64(ev->arena, args[1], rows);
  const int64_t *xi = col_as_i64(ev->arena, args[0], rows), *yi = col_as_i64(ev->arena, args[1], rows);
  for (uint32_t i = 0; i < n; i++) {
    __int128 a = da == AD_I ? (__int128)xi[ca ? 0 : i] : (__int128)xu[ca ? 0 : i];
    __int128 b = db == AD_I ? (__int128)yi[cb ? 0 : i] : (__int128)yu[cb ? 0 : i];
    if (b == 0) {
      if (op == OP_INTDIV_OR_ZERO || op == OP_MODULO_OR_ZERO) {
        r[i] = 0;
        continue;
      }
      return error_set(err, ERR_ILLEGAL_DIVISION, "Division by zero");
    }
    __int128 q;
    if (op == OP_INTDIV || op == OP_INTDIV_OR_ZERO) {
      q = a / b;
    } else {
      q = a % b;
      if (op == OP_POSITIVE_MODULO && q < 0)
        q += b < 0 ? -b : b;
    }
    r[i] = (uint64_t)q;
  }
  struct column *c = dr == AD_I ? col_from_i64(ev->arena, call->type, (int64_t *)r, n)
                                : col_from_u64(ev->arena, call->type, r, n);
  *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
  return 0;
}

/* ---- unary ---- */

static int exec_unary(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err;
  enum arith_dom d = (enum arith_dom)call->i0;
  uint32_t n = args[0]->is_const ? 1 : rows;
  int op = call->def->op;
  if (d == AD_F) {
    const double *x = col_as_f64(ev->arena, args[0], rows);
    double *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
    if (op == OP_NEGATE)
      for (uint32_t i = 0; i < n; i++) r[i] = -x[i];
    else
      for (uint32_t i = 0; i < n; i++) r[i] = fabs(x[i]);
    *out = col_from_f64(ev->arena, call->type, r, n);
  } else {
    bool src_signed = type_dom(call->arg_types[0]) == AD_I;
    const int64_t *xi = src_signed ? col_as_i64(ev->arena, args[0], rows) : NULL;
    const uint64_t *xu = src_signed ? NULL : col_as_u64(ev->arena, args[0], rows);
    uint64_t *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
    switch (op) {
    case OP_NEGATE:
      for (uint32_t i = 0; i < n; i++) r[i] = 0 - (src_signed ? (uint64_t)xi[i] : xu[i]);
      break;
    case OP_ABS:
      for (uint32_t i = 0; i < n; i++) r[i] = src_signed ? (xi[i] < 0 ? 0 - (uint64_t)xi[i] : (uint64_t)xi[i]) : xu[i];
      break;
    case OP_BIT_NOT:
      for (uint32_t i = 0; i < n; i++) r[i] = ~(src_signed ? (uint64_t)xi[i] : xu[i]);
      break;
    }
    *out = store(ev->arena, call->type, d, r, n);
  }
  return 0;
}

/* ---- bit ops ---- */

static int exec_bits(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  (void)err;
  bool ca = args[0]->is_const, cb = args[1]->is_const;
  uint32_t n = (ca && cb) ? 1 : rows;
  enum arith_dom d = (enum arith_dom)call->i0;
  void *xa = operand(ev->arena, args[0], rows, type_dom(call->arg_types[0]) == AD_I ? AD_I : AD_U);
  void *ya = operand(ev->arena, args[1], rows, type_dom(call->arg_types[1]) == AD_I ? AD_I : AD_U);
  uint64_t *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  uint64_t *out_r = res;
  switch (call->def->op) {
  case OP_BIT_AND: BIN_LOOP(uint64_t, out_r, a & b); break;
  case OP_BIT_OR: BIN_LOOP(uint64_t, out_r, a | b); break;
  case OP_BIT_XOR: BIN_LOOP(uint64_t, out_r, a ^ b); break;
  case OP_BIT_SHL: BIN_LOOP(uint64_t, out_r, b >= 64 ? 0 : a << b); break;
  case OP_BIT_SHR: {
    bool sg = type_dom(call->arg_types[0]) == AD_I;
    if (sg)
      BIN_LOOP(uint64_t, out_r, b >= 64 ? ((int64_t)a < 0 ? ~0ULL : 0) : (uint64_t)((int64_t)a >> b));
    else
      BIN_LOOP(uint64_t, out_r, b >= 64 ? 0 : a >> b);
    break;
  }
  case OP_GCD:
  case OP_LCM: {
    bool sa = type_dom(call->arg_types[0]) == AD_I, sb = type_dom(call->arg_types[1]) == AD_I;
    const uint64_t *x = xa, *y = ya;
    for (uint32_t i = 0; i < n; i++) {
      uint64_t a = x[ca ? 0 : i], b = y[cb ? 0 : i];
      if (sa && (int64_t)a < 0) a = 0 - a;
      if (sb && (int64_t)b < 0) b = 0 - b;
      uint64_t g = a, h = b;
      while (h) { uint64_t t = g % h; g = h; h = t; }
      if (call->def->op == OP_GCD)
        res[i] = g;
      else
        res[i] = g ? a / g * b : 0;
    }
    break;
  }
  }
  struct column *c = store(ev->arena, call->type, d, res, n);
  *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
  return 0;
}

/* ---- date arithmetic through plus/minus ---- */

static bool is_date_like(const struct datatype *t)
{
  return t->id == TYPE_DATE || t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64;
}

int date_add_interval_resolve(struct fn_call *call, uint32_t value_arg, uint32_t interval_arg, bool subtract,
                              struct error *err);

static int exec_date_diff_days(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                               struct column **out, struct error *err)
{
  (void)err;
  bool ca = args[0]->is_const, cb = args[1]->is_const;
  uint32_t n = (ca && cb) ? 1 : rows;
  const int64_t *x = col_as_i64(ev->arena, args[0], rows), *y = col_as_i64(ev->arena, args[1], rows);
  int64_t *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  for (uint32_t i = 0; i < n; i++)
    r[i] = x[ca ? 0 : i] - y[cb ? 0 : i];
  struct column *c = col_from_i64(ev->arena, call->type, r, n);
  *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
  return 0;
}

/* date ± integer keeps the date type (Date: days, DateTime: seconds). */
static int exec_date_plus_int(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                              struct column **out, struct error *err)
{
  (void)err;
  uint32_t di = (uint32_t)call->i1; /* which argument is the date */
  struct column *dc = args[di], *ic = args[1 - di];
  bool ca = dc->is_const, cb = ic->is_const;
  uint32_t n = (ca && cb) ? 1 : rows;
  const int64_t *x = col_as_i64(ev->arena, dc, rows), *y = col_as_i64(ev->arena, ic, rows);
  int64_t *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  int64_t scale = 1;
  if (call->type->id == TYPE_DATETIME64)
    for (uint32_t p = 0; p < call->type->size; p++)
      scale *= 10;
  bool sub = call->def->op == OP_MINUS;
  for (uint32_t i = 0; i < n; i++) {
    int64_t delta = y[cb ? 0 : i] * scale;
    r[i] = sub ? x[ca ? 0 : i] - delta : x[ca ? 0 : i] + delta;
  }
  struct column *c = col_from_i64(ev->arena, call->type, r, n);
  *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
  return 0;
}

static int resolve_dates(struct fn_call *call, struct error *err)
{
  const struct datatype *a = call->arg_types[0], *b = call->arg_types[1];
  int op = call->def->op;
  if (b->id == TYPE_INTERVAL && (is_date_like(a) || a->id == TYPE_STRING))
    return date_add_interval_resolve(call, 0, 1, op == OP_MINUS, err);
  if (a->id == TYPE_INTERVAL && is_date_like(b) && op == OP_PLUS)
    return date_add_interval_resolve(call, 1, 0, false, err);
  if (a->id == TYPE_INTERVAL && b->id == TYPE_INTERVAL && a->size == b->size) {
    call->type = a;
    call->i0 = AD_I;
    call->exec = exec_arith;
    return 0;
  }
  if (op == OP_MINUS && is_date_like(a) && is_date_like(b) && a->id == b->id && a->id != TYPE_DATETIME64) {
    call->type = a->id == TYPE_DATE ? datatype_simple(TYPE_INT32) : datatype_simple(TYPE_INT64);
    call->exec = exec_date_diff_days;
    return 0;
  }
  if ((op == OP_PLUS || op == OP_MINUS) && is_date_like(a) && type_is_int_or_bool(b)) {
    call->type = a;
    call->i1 = 0;
    call->exec = exec_date_plus_int;
    return 0;
  }
  if (op == OP_PLUS && type_is_int_or_bool(a) && is_date_like(b)) {
    call->type = b;
    call->i1 = 1;
    call->exec = exec_date_plus_int;
    return 0;
  }
  return fn_illegal_types2(call, err);
}

int fr_arith(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  bool unary = op == OP_NEGATE || op == OP_ABS || op == OP_BIT_NOT;
  int rc = fn_check_args(call, unary ? 1 : 2, unary ? 1 : 2, err);
  if (rc)
    return rc;
  if (unary) {
    const struct datatype *t = call->arg_types[0];
    if (!arith_arg_ok(t)) {
      if (t->id == TYPE_INTERVAL && op == OP_NEGATE) {
        call->type = t;
        call->i0 = AD_I;
        call->exec = exec_unary;
        return 0;
      }
      return fn_illegal_type(call, 0, err);
    }
    if (op == OP_BIT_NOT && datatype_is_float(t))
      return fn_illegal_type(call, 0, err);
    unsigned bits = type_int_bits(t);
    bool sg = datatype_is_signed(t);
    if (datatype_is_float(t)) {
      call->type = t;
      call->i0 = AD_F;
    } else if (op == OP_NEGATE) {
      call->type = type_int(true, sg ? bits : next_bits(bits));
      call->i0 = AD_I;
    } else if (op == OP_ABS) {
      call->type = type_int(false, bits);
      call->i0 = AD_U;
    } else {
      call->type = t->id == TYPE_BOOL ? type_u8() : t;
      call->i0 = sg ? AD_I : AD_U;
    }
    call->exec = exec_unary;
    return 0;
  }
  const struct datatype *a = call->arg_types[0], *b = call->arg_types[1];
  if (!arith_arg_ok(a) || !arith_arg_ok(b)) {
    if ((op == OP_PLUS || op == OP_MINUS) &&
        (is_date_like(a) || is_date_like(b) || a->id == TYPE_INTERVAL || b->id == TYPE_INTERVAL))
      return resolve_dates(call, err);
    return fn_illegal_types2(call, err);
  }
  bool sa = datatype_is_signed(a), sb = datatype_is_signed(b);
  bool fa = datatype_is_float(a), fb = datatype_is_float(b);
  unsigned ba = type_int_bits(a), bb = type_int_bits(b);
  unsigned maxb = ba > bb ? ba : bb;
  switch (op) {
  case OP_PLUS:
  case OP_MULTIPLY:
  case OP_MINUS: {
    bool sg = op == OP_MINUS || sa || sb;
    if (fa || fb) {
      call->type = type_f64();
      call->i0 = AD_F;
    } else {
      call->type = type_int(sg, next_bits(maxb));
      call->i0 = sg ? AD_I : AD_U;
    }
    call->exec = exec_arith;
    return 0;
  }
  case OP_DIVIDE:
    call->type = type_f64();
    call->exec = exec_divide;
    return 0;
  case OP_INTDIV:
  case OP_INTDIV_OR_ZERO:
    call->type = type_int(sa || sb || fa || fb, ba);
    call->exec = exec_intdiv;
    return 0;
  case OP_MODULO:
  case OP_MODULO_OR_ZERO:
  case OP_POSITIVE_MODULO:
    if (fa || fb) {
      call->type = type_f64();
    } else if (op == OP_POSITIVE_MODULO) {
      call->type = type_int(false, bb);
      if (sb)
        call->type = type_int(false, bb);
    } else {
      call->type = type_int(sa, sa ? next_bits(bb) : bb);
    }
    call->exec = exec_intdiv;
    return 0;
  case OP_BIT_AND:
  case OP_BIT_OR:
  case OP_BIT_XOR:
  case OP_GCD:
  case OP_LCM:
    if (fa || fb)
      return fn_illegal_types2(call, err);
    call->type = type_int(sa || sb, maxb);
    call->i0 = (sa || sb) ? AD_I : AD_U;
    call->exec = exec_bits;
    return 0;
  case OP_BIT_SHL:
  case OP_BIT_SHR:
    if (fa || fb)
      return fn_illegal_types2(call, err);
    call->type = a->id == TYPE_BOOL ? type_u8() : a;
    call->i0 = sa ? AD_I : AD_U;
    call->exec = exec_bits;
    return 0;
  }
  return fn_illegal_types2(call, err);
}

/* ======================================================================
 * math
 * ====================================================================== */

static double apply_math1(int op, double x)
{
  switch (op) {
  case OP_SQRT: return sqrt(x);
  case OP_CBRT: return cbrt(x);
  case OP_EXP: return exp(x);
  case OP_EXP2: return exp2(x);
  case OP_EXP10: return pow(10, x);
  case OP_LOG: return log(x);
  case OP_LOG2: return log2(x);
  case OP_LOG10: return log10(x);
  case OP_LOG1P: return log1p(x);
  case OP_SIN: return sin(x);
  case OP_COS: return cos(x);
  case OP_TAN: return tan(x);
  case OP_ASIN: return asin(x);
  case OP_ACOS: return acos(x);
  case OP_ATAN: return atan(x);
  case OP_SINH: return sinh(x);
  case OP_COSH: return cosh(x);
  case OP_TANH: return tanh(x);
  case OP_ERF: return erf(x);
  case OP_LGAMMA: return lgamma(x);
  case OP_TGAMMA: return tgamma(x);
  }
  return NAN;
}

static int exec_math1(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err;
  uint32_t n = args[0]->is_const ? 1 : rows;
  const double *x = col_as_f64(ev->arena, args[0], rows);
  struct column *c = col_new(ev->arena, type_f64(), n);
  double *r = c->data;
  int op = call->def->op;
  if (op == OP_SQRT)
    for (uint32_t i = 0; i < n; i++) r[i] = sqrt(x[i]);
  else
    for (uint32_t i = 0; i < n; i++) r[i] = apply_math1(op, x[i]);
  *out = c;
  return 0;
}

int fr_math1(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if (!arith_arg_ok(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  call->type = type_f64();
  call->exec = exec_math1;
  return 0;
}

static int exec_math2(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err;
  bool ca = args[0]->is_const, cb = args[1]->is_const;
  uint32_t n = (ca && cb) ? 1 : rows;
  const double *x = col_as_f64(ev->arena, args[0], rows), *y = col_as_f64(ev->arena, args[1], rows);
  struct column *c = col_new(ev->arena, type_f64(), n);
  double *r = c->data;
  for (uint32_t i = 0; i < n; i++) {
    double a = x[ca ? 0 : i], b = y[cb ? 0 : i];
    r[i] = call->def->op == OP_POW ? pow(a, b) : call->def->op == OP_ATAN2 ? atan2(a, b) : hypot(a, b);
  }
  *out = (ca && cb) ? col_make_const(ev->arena, c, rows) : c;
  return 0;
}

int fr_math2(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if (!arith_arg_ok(call->arg_types[0]) || !arith_arg_ok(call->arg_types[1]))
    return fn_illegal_types2(call, err);
  call->type = type_f64();
  call->exec = exec_math2;
  return 0;
}

static int exec_math0(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)args; (void)err;
  *out = col_const_f64(ev->arena, type_f64(), call->def->op == OP_PI ? M_PI : M_E, rows);
  return 0;
}

int fr_math0(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 0, 0, err);
  if (rc)
    return rc;
  call->type = type_f64();
  call->exec = exec_math0;
  return 0;
}

/* round(x[, N]), floor, ceil, trunc: integers stay integers (rounding to
 * negative N scales), floats keep their type. */
static double round_bankers(double x)
{
  double r = nearbyint(x); /* default rounding mode is to nearest even */
  return r;
}

static int exec_round(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err;
  uint32_t n = args[0]->is_const ? 1 : rows;
  int64_t digits = call->i0;
  int op = call->def->op;
  const struct datatype *t = call->type;
  if (datatype_is_float(t)) {
    const double *x = col_as_f64(ev->arena, args[0], rows);
    double *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
    double scale = pow(10, (double)(digits < 0 ? -digits : digits));
    for (uint32_t i = 0; i < n; i++) {
      double v = x[i];
      double s = digits >= 0 ? v * scale : v / scale;
      double q;
      switch (op) {
      case OP_FLOOR: q = floor(s); break;
      case OP_CEIL: q = ceil(s); break;
      case OP_TRUNC: q = trunc(s); break;
      case OP_ROUND_BANKERS: q = round_bankers(s); break;
      default: q = nearbyint(s); break;
      }
      r[i] = digits >= 0 ? q / scale : q * scale;
      if (digits == 0)
        r[i] = q;
    }
    *out = col_from_f64(ev->arena, t, r, n);
    return 0;
  }
  if (digits >= 0) {
    *out = args[0]->is_const ? col_with_rows(ev->arena, args[0], 1) : args[0];
    if ((*out)->type != t)
      *out = store(ev->arena, t, type_dom(t), (void *)(type_dom(t) == AD_I ? (void *)col_as_i64(ev->arena, args[0], rows) : (void *)col_as_u64(ev->arena, args[0], rows)), n);
    return 0;
  }
  int64_t p = 1;
  for (int64_t k = 0; k < -digits && k < 19; k++)
    p *= 10;
  bool sg = type_dom(t) == AD_I;
  int64_t *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  if (sg) {
    const int64_t *x = col_as_i64(ev->arena, args[0], rows);
    for (uint32_t i = 0; i < n; i++) {
      int64_t v = x[i], q = v / p, m = v % p;
      int64_t down = v - m;
      switch (op) {
      case OP_FLOOR: r[i] = m < 0 ? down - p : down; break;
      case OP_CEIL: r[i] = m > 0 ? down + p : down; break;
      case OP_TRUNC: r[i] = down; break;
      default: {
        int64_t am = m < 0 ? -m : m;
        if (am * 2 > p || (am * 2 == p && (op == OP_ROUND || (q & 1))))
          r[i] = down + (v < 0 ? -p : p);
        else
          r[i] = down;
      }
      }
    }
  } else {
    const uint64_t *x = col_as_u64(ev->arena, args[0], rows);
    uint64_t *ru = (uint64_t *)r, up = (uint64_t)p;
    for (uint32_t i = 0; i < n; i++) {
      uint64_t v = x[i], m = v % up, down = v - m;
      switch (op) {
      case OP_FLOOR: case OP_TRUNC: ru[i] = down; break;
      case OP_CEIL: ru[i] = m ? down + up : down; break;
      default: ru[i] = (m * 2 > up || (m * 2 == up && (op == OP_ROUND || ((v / up) & 1)))) ? down + up : down;
      }
    }
  }
  *out = store(ev->arena, t, sg ? AD_I : AD_U, r, n);
  return 0;
}

int fr_round(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 2, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (!arith_arg_ok(t))
    return fn_illegal_type(call, 0, err);
  call->i0 = 0;
  if (call->arg_count == 2) {
    if (!fn_const_i64(call, 1, &call->i0))
      return error_set(err, ERR_ILLEGAL_COLUMN, "Scale argument for rounding functions must be constant");
  }
  call->type = t->id == TYPE_BOOL ? type_u8() : t;
  call->exec = exec_round;
  return 0;
}

static int exec_sign(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  (void)call; (void)err;
  uint32_t n = args[0]->is_const ? 1 : rows;
  const double *x = col_as_f64(ev->arena, args[0], rows);
  int64_t *r = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
  for (uint32_t i = 0; i < n; i++)
    r[i] = x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0;
  *out = col_from_i64(ev->arena, datatype_simple(TYPE_INT8), r, n);
  return 0;
}

int fr_sign(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if (!arith_arg_ok(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  call->type = datatype_simple(TYPE_INT8);
  call->exec = exec_sign;
  return 0;
}

static int exec_float_pred(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                           struct column **out, struct error *err)
{
  (void)err;
  uint32_t n = args[0]->is_const ? 1 : rows;
  const double *x = col_as_f64(ev->arena, args[0], rows);
  struct column *c = col_new(ev->arena, type_u8(), n);
  uint8_t *r = c->data;
  switch (call->def->op) {
  case OP_IS_FINITE: for (uint32_t i = 0; i < n; i++) r[i] = isfinite(x[i]) != 0; break;
  case OP_IS_NAN: for (uint32_t i = 0; i < n; i++) r[i] = x[i] != x[i]; break;
  default: for (uint32_t i = 0; i < n; i++) r[i] = isinf(x[i]) != 0; break;
  }
  *out = c;
  return 0;
}

int fr_float_pred(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if (!arith_arg_ok(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  call->type = type_u8();
  call->exec = exec_float_pred;
  return 0;
}

/* greatest / least: the supertype of the arguments, compared per row. */
static int exec_greatest(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  uint32_t n = rows;
  struct column **cv = arena_alloc(ev->arena, sizeof *cv * call->arg_count);
  for (uint32_t k = 0; k < call->arg_count; k++) {
    int rc = cast_column(ev, args[k], rows, call->type, CAST_THROW, &cv[k], err);
    if (rc)
      return rc;
  }
  bool greatest = call->def->op == OP_GREATEST;
  const struct datatype *t = call->type;
  if (type_is_number_or_bool(t) || t->id == TYPE_DATE || t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64) {
    enum arith_dom d = type_dom(t);
    void *res = arena_alloc(ev->arena, 8 * (size_t)(n ? n : 1));
    for (uint32_t k = 0; k < call->arg_count; k++) {
      void *x = operand(ev->arena, cv[k], rows, d);
      bool c = cv[k]->is_const;
      for (uint32_t i = 0; i < n; i++) {
        uint32_t j = c ? 0 : i;
        if (d == AD_F) {
          double v = ((double *)x)[j], *r = (double *)res + i;
          if (k == 0 || (greatest ? v > *r : v < *r)) *r = v;
        } else if (d == AD_I) {
          int64_t v = ((int64_t *)x)[j], *r = (int64_t *)res + i;
          if (k == 0 || (greatest ? v > *r : v < *r)) *r = v;
        } else {
          uint64_t v = ((uint64_t *)x)[j], *r = (uint64_t *)res + i;
          if (k == 0 || (greatest ? v > *r : v < *r)) *r = v;
        }
      }
    }
    *out = store(ev->arena, t, d, res, n);
    return 0;
  }
  struct column *r = col_new_empty(ev->arena, t, n);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t best = 0;
    for (uint32_t k = 1; k < call->arg_count; k++) {
      int c = column_compare_rows(cv[k], column_row(cv[k], i), cv[best], column_row(cv[best], i), false);
      if (greatest ? c > 0 : c < 0)
        best = k;
    }
    column_append_from(r, cv[best], column_row(cv[best], i));
  }
  *out = r;
  return 0;
}

int fr_greatest(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, UINT32_MAX, err);
  if (rc)
    return rc;
  rc = type_supertype(call->arena, call->arg_types, call->arg_count, &call->type, err);
  if (rc)
    return rc;
  if (!cast_possible(call->arg_types[0], call->type))
    return fn_illegal_type(call, 0, err);
  call->exec = exec_greatest;
  return 0;
}
