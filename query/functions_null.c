/* Conditionals and NULL helpers: if, multiIf, CASE x WHEN …
 * (caseWithExpression), isNull, isNotNull, isZeroOrNull, ifNull, coalesce,
 * assumeNotNull, toNullable, nullIf. Branch values are converted to the
 * least common type; a row's result is picked from the chosen branch column
 * (a typed copy loop for fixed-width types). */
#include "query/exec_int.h"

#include <string.h>

/* Builds a column of type t where row i comes from srcs[choice[i]] (all of
 * type t, possibly const). */
static struct column *col_choose(struct arena *a, const struct datatype *t, struct column **srcs, uint32_t k,
                                 const uint32_t *choice, uint32_t rows)
{
  size_t w = datatype_fixed_bytes(t);
  if (w && t->id != TYPE_LOW_CARDINALITY) {
    struct column *r = col_new(a, t, rows);
    char *d = r->data;
    for (uint32_t i = 0; i < rows; i++) {
      const struct column *s = srcs[choice[i]];
      memcpy(d + (size_t)i * w, (const char *)s->data + (size_t)column_row(s, i) * w, w);
    }
    return r;
  }
  if (t->id == TYPE_NULLABLE) {
    const struct datatype *it = t->children[0];
    size_t iw = datatype_fixed_bytes(it);
    if (iw && it->id != TYPE_LOW_CARDINALITY) {
      struct column *inner = col_new(a, it, rows);
      uint8_t *nulls = arena_alloc(a, rows ? rows : 1);
      char *d = inner->data;
      for (uint32_t i = 0; i < rows; i++) {
        const struct column *s = srcs[choice[i]];
        uint32_t r = column_row(s, i);
        nulls[i] = s->nulls[r];
        memcpy(d + (size_t)i * iw, (const char *)s->children[0]->data + (size_t)r * iw, iw);
      }
      return col_wrap_nullable(a, inner, nulls);
    }
  }
  struct column *r = col_new_empty(a, t, rows);
  for (uint32_t i = 0; i < rows; i++) {
    const struct column *s = srcs[choice[i]];
    column_append_from(r, s, column_row(s, i));
  }
  return r;
}

static int cast_all(struct eval *ev, struct column **vals, uint32_t k, uint32_t rows, const struct datatype *t,
                    struct error *err)
{
  for (uint32_t i = 0; i < k; i++) {
    int rc = cast_column(ev, vals[i], rows, t, CAST_THROW, &vals[i], err);
    if (rc)
      return rc;
  }
  return 0;
}

static bool cond_type_ok(const struct datatype *t)
{
  t = datatype_unwrap(t);
  return type_is_number_or_bool(t) || t->id == TYPE_NOTHING;
}

/* ---- if ---- */

static int exec_if(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                   struct column **out, struct error *err)
{
  struct column *vals[2] = { args[1], args[2] };
  int rc = cast_all(ev, vals, 2, rows, call->type, err);
  if (rc)
    return rc;
  const uint8_t *cond = col_as_bool(ev->arena, args[0], rows);
  if (args[0]->is_const) {
    *out = vals[cond[0] ? 0 : 1];
    return 0;
  }
  uint32_t *choice = arena_alloc(ev->arena, sizeof *choice * (rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++)
    choice[i] = cond[i] ? 0 : 1;
  *out = col_choose(ev->arena, call->type, vals, 2, choice, rows);
  return 0;
}

int fr_if(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 3, 3, err);
  if (rc)
    return rc;
  if (!cond_type_ok(call->arg_types[0]))
    return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT,
                     "Illegal type %s of first argument (condition) of function if. Must be UInt8.",
                     type_name(call->arena, call->arg_types[0]));
  rc = type_supertype(call->arena, call->arg_types + 1, 2, &call->type, err);
  if (rc)
    return rc;
  call->exec = exec_if;
  return 0;
}

/* ---- multiIf ---- */

static int exec_multi_if(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  uint32_t pairs = (call->arg_count - 1) / 2;
  uint32_t k = pairs + 1;
  struct column **vals = arena_alloc(ev->arena, sizeof *vals * k);
  for (uint32_t p = 0; p < pairs; p++)
    vals[p] = args[2 * p + 1];
  vals[pairs] = args[call->arg_count - 1];
  int rc = cast_all(ev, vals, k, rows, call->type, err);
  if (rc)
    return rc;
  uint32_t *choice = arena_alloc(ev->arena, sizeof *choice * (rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++)
    choice[i] = pairs;
  uint8_t *decided = arena_calloc(ev->arena, rows ? rows : 1, 1);
  for (uint32_t p = 0; p < pairs; p++) {
    const uint8_t *c = col_as_bool(ev->arena, args[2 * p], rows);
    bool cc = args[2 * p]->is_const;
    for (uint32_t i = 0; i < rows; i++) {
      if (!decided[i] && c[cc ? 0 : i]) {
        choice[i] = p;
        decided[i] = 1;
      }
    }
  }
  *out = col_choose(ev->arena, call->type, vals, k, choice, rows);
  return 0;
}

int fr_multi_if(struct fn_call *call, struct error *err)
{
  if (call->arg_count < 3 || call->arg_count % 2 == 0)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                     "Invalid number of arguments for function multiIf: passed %u, must be odd and at least 3",
                     call->arg_count);
  uint32_t pairs = (call->arg_count - 1) / 2;
  const struct datatype **vt = arena_alloc(call->arena, sizeof *vt * (pairs + 1));
  for (uint32_t p = 0; p < pairs; p++) {
    if (!cond_type_ok(call->arg_types[2 * p]))
      return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal type %s of condition of function multiIf",
                       type_name(call->arena, call->arg_types[2 * p]));
    vt[p] = call->arg_types[2 * p + 1];
  }
  vt[pairs] = call->arg_types[call->arg_count - 1];
  int rc = type_supertype(call->arena, vt, pairs + 1, &call->type, err);
  if (rc)
    return rc;
  call->exec = exec_multi_if;
  return 0;
}

/* ---- CASE x WHEN a THEN b … [ELSE e] END ---- */

static int exec_case(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  uint32_t n = call->arg_count;
  bool has_else = (n - 1) % 2 == 1;
  uint32_t pairs = (n - 1) / 2;
  uint32_t k = pairs + 1;
  struct column **vals = arena_alloc(ev->arena, sizeof *vals * k);
  for (uint32_t p = 0; p < pairs; p++)
    vals[p] = args[2 + 2 * p];
  vals[pairs] = has_else ? args[n - 1] : col_const_null(ev->arena, call->type, rows);
  int rc = cast_all(ev, vals, k, rows, call->type, err);
  if (rc)
    return rc;
  const struct datatype *kt = (const struct datatype *)call->state;
  struct column *x;
  if ((rc = cast_column(ev, args[0], rows, kt, CAST_THROW, &x, err)))
    return rc;
  uint32_t *choice = arena_alloc(ev->arena, sizeof *choice * (rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++)
    choice[i] = pairs;
  uint8_t *decided = arena_calloc(ev->arena, rows ? rows : 1, 1);
  for (uint32_t p = 0; p < pairs; p++) {
    struct column *w;
    if ((rc = cast_column(ev, args[1 + 2 * p], rows, kt, CAST_THROW, &w, err)))
      return rc;
    for (uint32_t i = 0; i < rows; i++) {
      if (decided[i])
        continue;
      if (column_rows_equal(x, column_row(x, i), w, column_row(w, i)) && !column_is_null(x, column_row(x, i))) {
        choice[i] = p;
        decided[i] = 1;
      }
    }
  }
  *out = col_choose(ev->arena, call->type, vals, k, choice, rows);
  return 0;
}

int fr_case_expr(struct fn_call *call, struct error *err)
{
  if (call->arg_count < 3)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                     "Function caseWithExpression expects at least 3 arguments, passed %u", call->arg_count);
  uint32_t n = call->arg_count;
  bool has_else = (n - 1) % 2 == 1;
  uint32_t pairs = (n - 1) / 2;
  const struct datatype **vt = arena_alloc(call->arena, sizeof *vt * (pairs + 1));
  const struct datatype **kt = arena_alloc(call->arena, sizeof *kt * (pairs + 1));
  kt[0] = call->arg_types[0];
  for (uint32_t p = 0; p < pairs; p++) {
    kt[p + 1] = call->arg_types[1 + 2 * p];
    vt[p] = call->arg_types[2 + 2 * p];
  }
  vt[pairs] = has_else ? call->arg_types[n - 1] : type_nothing_nullable();
  int rc = type_supertype(call->arena, vt, pairs + 1, &call->type, err);
  if (rc)
    return rc;
  const struct datatype *key_type;
  rc = type_supertype(call->arena, kt, pairs + 1, &key_type, err);
  if (rc)
    return rc;
  call->state = (void *)key_type;
  call->exec = exec_case;
  return 0;
}

/* ---- isNull / isNotNull / isZeroOrNull ---- */

static int exec_is_null(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  (void)err;
  int op = call->def->op;
  const struct column *c = args[0];
  uint32_t n = c->is_const ? 1 : rows;
  struct column *r = col_new(ev->arena, type_u8(), n);
  uint8_t *d = r->data;
  if (c->type->id == TYPE_LOW_CARDINALITY)
    c = col_strip_lc(ev->arena, c);
  if (op == 2) {
    const uint8_t *t = col_as_bool(ev->arena, c, n);
    for (uint32_t i = 0; i < n; i++)
      d[i] = !t[i];
  } else if (c->type->id == TYPE_NULLABLE) {
    for (uint32_t i = 0; i < n; i++)
      d[i] = c->nulls[i] ^ (uint8_t)op;
  } else {
    memset(d, c->type->id == TYPE_NOTHING ? !op : op, n);
  }
  *out = r;
  return 0;
}

int fr_is_null(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  call->type = type_u8();
  call->exec = exec_is_null;
  return 0;
}

/* ---- ifNull / coalesce ---- */

static int exec_coalesce(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  uint32_t k = (uint32_t)call->i0; /* arguments considered */
  struct column **vals = arena_alloc(ev->arena, sizeof *vals * (k + 1));
  const struct datatype *nt = type_make_nullable(ev->arena, call->type);
  for (uint32_t i = 0; i < k; i++) {
    struct column *v = args[i];
    if (v->type->id == TYPE_LOW_CARDINALITY)
      v = col_strip_lc(ev->arena, v);
    if (type_can_be_nullable(datatype_unwrap(call->type))) {
      int rc = cast_column(ev, v, rows, call->type->id == TYPE_NULLABLE ? call->type : nt, CAST_THROW, &vals[i], err);
      if (rc)
        return rc;
    } else {
      vals[i] = v;
    }
  }
  uint32_t *choice = arena_alloc(ev->arena, sizeof *choice * (rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++) {
    uint32_t pick = k - 1;
    for (uint32_t j = 0; j < k; j++) {
      if (!column_is_null(vals[j], column_row(vals[j], i))) {
        pick = j;
        break;
      }
    }
    choice[i] = pick;
  }
  struct column *r = col_choose(ev->arena, vals[0]->type, vals, k, choice, rows);
  if (call->type->id != TYPE_NULLABLE && r->type->id == TYPE_NULLABLE)
    r = col_nullable_inner(ev->arena, r);
  *out = r;
  return 0;
}

static int resolve_coalesce(struct fn_call *call, uint32_t first, uint32_t n, struct error *err)
{
  /* arguments after the first non-Nullable one never matter */
  uint32_t k = 0;
  bool all_nullable = true;
  const struct datatype **ts = arena_alloc(call->arena, sizeof *ts * (n ? n : 1));
  for (uint32_t i = first; i < first + n; i++) {
    const struct datatype *t = call->arg_types[i];
    if (t->id == TYPE_LOW_CARDINALITY)
      t = t->children[0];
    if (type_is_nothing(t))
      continue;
    ts[k++] = t->id == TYPE_NULLABLE ? t->children[0] : t;
    if (t->id != TYPE_NULLABLE) {
      all_nullable = false;
      break;
    }
  }
  if (k == 0) {
    call->type = type_nothing_nullable();
    call->null_const = true;
    call->i0 = n;
    return 0;
  }
  const struct datatype *st;
  int rc = type_supertype(call->arena, ts, k, &st, err);
  if (rc)
    return rc;
  call->type = all_nullable ? type_make_nullable(call->arena, st) : st;
  /* number of leading arguments to look at (including NULL literals) */
  uint32_t upto = first;
  uint32_t seen = 0;
  for (; upto < first + n; upto++) {
    const struct datatype *t = call->arg_types[upto];
    if (t->id == TYPE_LOW_CARDINALITY)
      t = t->children[0];
    if (!type_is_nothing(t))
      seen++;
    if (seen == k && !all_nullable) {
      upto++;
      break;
    }
  }
  call->i0 = upto - first;
  call->exec = exec_coalesce;
  return 0;
}

int fr_coalesce(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, UINT32_MAX, err);
  if (rc)
    return rc;
  return resolve_coalesce(call, 0, call->arg_count, err);
}

int fr_if_null(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  return resolve_coalesce(call, 0, 2, err);
}

/* ---- assumeNotNull / toNullable ---- */

static int exec_assume_not_null(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                                struct column **out, struct error *err)
{
  (void)call; (void)rows; (void)err;
  struct column *c = args[0];
  *out = c->type->id == TYPE_NULLABLE ? col_nullable_inner(ev->arena, c) : c;
  return 0;
}

int fr_assume_not_null(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  call->type = t->id == TYPE_NULLABLE ? t->children[0] : t;
  call->exec = exec_assume_not_null;
  return 0;
}

static int exec_to_nullable(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                            struct column **out, struct error *err)
{
  (void)call; (void)rows; (void)err;
  struct column *c = args[0];
  *out = (c->type->id == TYPE_NULLABLE || !type_can_be_nullable(c->type)) ? c : col_wrap_nullable(ev->arena, c, NULL);
  return 0;
}

int fr_to_nullable(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  call->type = type_make_nullable(call->arena, call->arg_types[0]);
  call->exec = exec_to_nullable;
  return 0;
}

/* ---- nullIf(a, b): NULL when a = b ---- */

static int exec_null_if(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  const struct datatype *st = call->state;
  struct column *x, *y;
  int rc = cast_column(ev, args[0], rows, st, CAST_THROW, &x, err);
  if (!rc)
    rc = cast_column(ev, args[1], rows, st, CAST_THROW, &y, err);
  if (rc)
    return rc;
  struct column *a = args[0];
  if (a->type->id == TYPE_LOW_CARDINALITY)
    a = col_strip_lc(ev->arena, a);
  struct column *base = a->type->id == TYPE_NULLABLE ? col_nullable_inner(ev->arena, a) : a;
  base = col_full(ev->arena, base, rows);
  uint8_t *nulls = arena_calloc(ev->arena, rows ? rows : 1, 1);
  for (uint32_t i = 0; i < rows; i++) {
    bool an = column_is_null(a, column_row(a, i));
    bool bn = column_is_null(y, column_row(y, i));
    nulls[i] = an || (!bn && column_rows_equal(x, column_row(x, i), y, column_row(y, i)));
  }
  *out = col_wrap_nullable(ev->arena, base, nulls);
  return 0;
}

int fr_null_if(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  const struct datatype *a = call->arg_types[0];
  if (a->id == TYPE_LOW_CARDINALITY)
    a = a->children[0];
  if (type_is_nothing(a)) {
    call->type = type_nothing_nullable();
    call->null_const = true;
    return 0;
  }
  const struct datatype *pair[2] = { a, call->arg_types[1] };
  const struct datatype *st;
  rc = type_supertype(call->arena, pair, 2, &st, err);
  if (rc)
    return rc;
  call->state = (void *)st;
  call->type = type_make_nullable(call->arena, a);
  call->exec = exec_null_if;
  return 0;
}
