/* Arrays, tuples and maps: constructors (array, tuple, map, range),
 * element access (arrayElement / a[i], tupleElement / t.1, m['k']),
 * membership (has, indexOf, hasAny, hasAll), higher-order functions with
 * lambdas (arrayMap, arrayFilter, arrayExists, arrayAll, arrayCount,
 * arraySum, arrayFirst, arraySort, …) and the usual array utilities.
 * A lambda body is evaluated once over all elements of the block (its
 * parameters are the flattened element columns), never row by row. */
#include "query/exec_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* Full array column, its element column and the element range of the block. */
struct arr_view {
  struct column *col;            /* full Array/Map column */
  struct column *el;             /* children[0] */
  uint64_t base;                 /* first element of row 0 */
  uint64_t end;                  /* end of the last row */
};

static void arr_view(struct arena *a, struct column *c, uint32_t rows, struct arr_view *v)
{
  c = col_full(a, c, rows);
  v->col = c;
  v->el = c->children[0];
  v->base = 0;
  v->end = rows ? c->offsets[rows - 1] : 0;
  if (rows) {
    uint64_t s, e;
    column_array_range(c, 0, &s, &e);
    v->base = s;
  }
}

static inline void row_range(const struct column *c, uint32_t row, uint64_t *s, uint64_t *e)
{
  *s = row ? c->offsets[row - 1] : 0;
  *e = c->offsets[row];
}

static bool is_array(const struct datatype *t) { return t->id == TYPE_ARRAY; }

static int need_array(struct fn_call *call, uint32_t i, struct error *err)
{
  if (!is_array(call->arg_types[i]))
    return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal type %s of argument %u of function %s, expected Array",
                     type_name(call->arena, call->arg_types[i]), i + 1, call->name);
  return 0;
}

/* Appends a new Array row made of the current element count. */
static void close_row(struct column *arr) { column_close_array_row(arr); }

/* ======================================================================
 * array(…)
 * ====================================================================== */

static int exec_array(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  const struct datatype *et = call->type->children[0];
  uint32_t k = call->arg_count;
  struct column **vals = arena_alloc(ev->arena, sizeof *vals * (k ? k : 1));
  for (uint32_t j = 0; j < k; j++) {
    int rc = cast_column(ev, args[j], rows, et, CAST_THROW, &vals[j], err);
    if (rc)
      return rc;
  }
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  struct column *el = r->children[0];
  for (uint32_t i = 0; i < rows; i++) {
    for (uint32_t j = 0; j < k; j++)
      column_append_from(el, vals[j], column_row(vals[j], i));
    close_row(r);
  }
  *out = r;
  return 0;
}

int fr_array(struct fn_call *call, struct error *err)
{
  const struct datatype *et;
  int rc = type_supertype(call->arena, call->arg_types, call->arg_count, &et, err);
  if (rc)
    return rc;
  if (et->id == TYPE_LOW_CARDINALITY)
    et = et->children[0];
  call->type = datatype_array(call->arena, et);
  call->exec = exec_array;
  return 0;
}

/* ======================================================================
 * tuple / tupleElement
 * ====================================================================== */

static int exec_tuple(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  (void)err;
  struct column *r = col_new(ev->arena, call->type, 0);
  for (uint32_t j = 0; j < call->arg_count; j++)
    r->children[j] = col_full(ev->arena, args[j], rows);
  r->rows = rows;
  r->capacity = rows;
  *out = r;
  return 0;
}

int fr_tuple(struct fn_call *call, struct error *err)
{
  if (call->arg_count == 0)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH, "Function tuple requires at least one argument");
  call->type = datatype_tuple(call->arena, call->arg_types, NULL, call->arg_count);
  call->exec = exec_tuple;
  return 0;
}

static int exec_tuple_element(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                              struct column **out, struct error *err)
{
  (void)err;
  struct column *t = args[0];
  uint32_t idx = (uint32_t)call->i0;
  if (t->type->id == TYPE_NULLABLE)
    t = col_nullable_inner(ev->arena, t);
  struct column *c = t->children[idx];
  if (t->is_const) {
    struct column *one = col_with_rows(ev->arena, c, 1);
    *out = col_make_const(ev->arena, one, rows);
  } else {
    *out = c;
  }
  return 0;
}

int fr_tuple_element(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (t->id == TYPE_NULLABLE)
    t = t->children[0];
  if (t->id != TYPE_TUPLE)
    return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "First argument for function tupleElement must be tuple or array of tuple. Actual %s",
                     type_name(call->arena, call->arg_types[0]));
  int64_t i;
  struct slice name;
  if (fn_const_i64(call, 1, &i)) {
    if (i < 1 || (uint64_t)i > t->child_count)
      return error_set(err, ERR_ARGUMENT_OUT_OF_BOUND, "Index for tuple element is out of range");
    call->i0 = i - 1;
  } else if (fn_const_str(call, 1, &name)) {
    int64_t found = -1;
    for (uint32_t k = 0; k < t->child_count && t->names; k++)
      if (t->names[k] && strlen(t->names[k]) == name.len && memcmp(t->names[k], name.ptr, name.len) == 0)
        found = k;
    if (found < 0)
      return error_set(err, ERR_NOT_FOUND_COLUMN_IN_BLOCK, "Tuple doesn't have element with name '%.*s'",
                       (int)name.len, name.ptr);
    call->i0 = found;
  } else {
    return error_set(err, ERR_ILLEGAL_COLUMN, "Second argument to tupleElement must be a constant UInt or String");
  }
  call->type = t->children[call->i0];
  if (call->arg_types[0]->id == TYPE_NULLABLE)
    call->type = type_make_nullable(call->arena, call->type);
  call->exec = exec_tuple_element;
  return 0;
}

/* ======================================================================
 * maps
 * ====================================================================== */

static int exec_map(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                    struct column **out, struct error *err)
{
  uint32_t pairs = call->arg_count / 2;
  const struct datatype *kt = call->type->children[0], *vt = call->type->children[1];
  struct column **ks = arena_alloc(ev->arena, sizeof *ks * (pairs ? pairs : 1));
  struct column **vs = arena_alloc(ev->arena, sizeof *vs * (pairs ? pairs : 1));
  for (uint32_t p = 0; p < pairs; p++) {
    int rc = cast_column(ev, args[2 * p], rows, kt, CAST_THROW, &ks[p], err);
    if (!rc)
      rc = cast_column(ev, args[2 * p + 1], rows, vt, CAST_THROW, &vs[p], err);
    if (rc)
      return rc;
  }
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  for (uint32_t i = 0; i < rows; i++) {
    for (uint32_t p = 0; p < pairs; p++) {
      column_append_from(r->children[0], ks[p], column_row(ks[p], i));
      column_append_from(r->children[1], vs[p], column_row(vs[p], i));
    }
    close_row(r);
  }
  *out = r;
  return 0;
}

int fr_map(struct fn_call *call, struct error *err)
{
  if (call->arg_count % 2)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH, "Function map requires even number of arguments, but %u given",
                     call->arg_count);
  uint32_t pairs = call->arg_count / 2;
  const struct datatype **kt = arena_alloc(call->arena, sizeof *kt * (pairs ? pairs : 1));
  const struct datatype **vt = arena_alloc(call->arena, sizeof *vt * (pairs ? pairs : 1));
  for (uint32_t p = 0; p < pairs; p++) {
    kt[p] = call->arg_types[2 * p];
    vt[p] = call->arg_types[2 * p + 1];
  }
  const struct datatype *k, *v;
  int rc = type_supertype(call->arena, kt, pairs, &k, err);
  if (!rc)
    rc = type_supertype(call->arena, vt, pairs, &v, err);
  if (rc)
    return rc;
  call->type = datatype_map(call->arena, k, v);
  call->exec = exec_map;
  return 0;
}

static int exec_map_keys(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  (void)err;
  struct column *m = args[0];
  struct column *r = col_with_rows(ev->arena, m, m->rows);
  r->type = call->type;
  r->child_count = 1;
  r->children = arena_alloc(ev->arena, sizeof *r->children);
  r->children[0] = m->children[call->def->op];
  (void)rows;
  *out = r;
  return 0;
}

int fr_map_keys(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (t->id != TYPE_MAP)
    return fn_illegal_type(call, 0, err);
  call->type = datatype_array(call->arena, t->children[call->def->op]);
  call->exec = exec_map_keys;
  return 0;
}

/* position (0-based in the element column) of key in map row, or -1 */
static int64_t map_find(const struct column *m, uint32_t row, const struct column *key, uint32_t krow)
{
  uint64_t s, e;
  row_range(m, row, &s, &e);
  for (uint64_t k = s; k < e; k++)
    if (column_rows_equal(m->children[0], (uint32_t)k, key, krow))
      return (int64_t)k;
  return -1;
}

/* Finds a constant key in the rows of a map whose keys are
 * LowCardinality: each dictionary entry is compared with the key once
 * (memo: 0 unknown, 1 differs, 2 equals); map_find otherwise. */
struct map_probe {
  const struct column *key;      /* the key column; row 0 when memo is set */
  const uint32_t *lc_keys;       /* the map keys' dictionary keys */
  const struct column *dict;
  uint8_t *memo;                 /* per dictionary entry, NULL when unused */
};

static void map_probe_init(struct arena *a, struct map_probe *p, const struct column *m, const struct column *key)
{
  const struct column *mk = m->children[0];
  p->key = key;
  p->memo = NULL;
  if (key->is_const && mk->type->id == TYPE_LOW_CARDINALITY && !mk->is_const && mk->children[0]->rows) {
    p->lc_keys = mk->data;
    p->dict = mk->children[0];
    p->memo = arena_calloc(a, p->dict->rows, 1);
  }
}

static int64_t map_probe_find(const struct map_probe *p, const struct column *m, uint32_t row)
{
  if (!p->memo)
    return map_find(m, row, p->key, column_row(p->key, row));
  uint64_t s, e;
  row_range(m, row, &s, &e);
  for (uint64_t k = s; k < e; k++) {
    uint32_t d = p->lc_keys[k];
    if (!p->memo[d])
      p->memo[d] = column_rows_equal(p->dict, d, p->key, 0) ? 2 : 1;
    if (p->memo[d] == 2)
      return (int64_t)k;
  }
  return -1;
}

static int exec_map_contains(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                             struct column **out, struct error *err)
{
  struct column *m = col_full(ev->arena, args[0], rows);
  struct column *k;
  int rc = cast_column(ev, args[1], rows, call->arg_types[0]->children[0], CAST_THROW, &k, err);
  if (rc)
    return rc;
  struct column *r = col_new(ev->arena, type_u8(), rows);
  uint8_t *d = r->data;
  struct map_probe probe;
  map_probe_init(ev->arena, &probe, m, k);
  for (uint32_t i = 0; i < rows; i++)
    d[i] = map_probe_find(&probe, m, i) >= 0;
  (void)call;
  *out = r;
  return 0;
}

int fr_map_contains(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if (call->arg_types[0]->id != TYPE_MAP)
    return fn_illegal_type(call, 0, err);
  call->type = type_u8();
  call->exec = exec_map_contains;
  return 0;
}

/* ======================================================================
 * arrayElement: a[i] (1-based, negative from the end, out of range →
 * default) and m[k]
 * ====================================================================== */

static int exec_array_element(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                              struct column **out, struct error *err)
{
  struct column *a = col_full(ev->arena, args[0], rows);
  const struct datatype *rt = call->type;
  struct column *r = col_new_empty(ev->arena, rt, rows);
  if (a->type->id == TYPE_MAP) {
    struct column *k;
    int rc = cast_column(ev, args[1], rows, a->type->children[0], CAST_THROW, &k, err);
    if (rc)
      return rc;
    struct map_probe probe;
    map_probe_init(ev->arena, &probe, a, k);
    for (uint32_t i = 0; i < rows; i++) {
      int64_t pos = map_probe_find(&probe, a, i);
      if (pos < 0)
        column_append_default(r);
      else
        column_append_from(r, a->children[1], (uint32_t)pos);
    }
    *out = r;
    return 0;
  }
  struct column *idx = args[1];
  bool idx_nullable = idx->type->id == TYPE_NULLABLE;
  struct column *iv = idx_nullable ? col_nullable_inner(ev->arena, idx) : idx;
  bool sg = datatype_is_signed(iv->type);
  const int64_t *ii = sg ? col_as_i64(ev->arena, iv, rows) : NULL;
  const uint64_t *iu = sg ? NULL : col_as_u64(ev->arena, iv, rows);
  bool ic = iv->is_const;
  struct column *el = a->children[0];
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t s, e;
    row_range(a, i, &s, &e);
    uint64_t len = e - s;
    uint32_t j = ic ? 0 : i;
    bool found = false;
    uint64_t pos = 0;
    if (sg) {
      int64_t x = ii[j];
      if (x > 0 && (uint64_t)x <= len) {
        found = true;
        pos = s + (uint64_t)x - 1;
      } else if (x < 0 && (uint64_t)(-x) <= len) {
        found = true;
        pos = e - (uint64_t)(-x);
      }
    } else {
      uint64_t x = iu[j];
      if (x > 0 && x <= len) {
        found = true;
        pos = s + x - 1;
      }
    }
    if (idx_nullable && idx->nulls[column_row(idx, i)])
      found = false;
    if (!found) {
      if (rt->id == TYPE_NULLABLE && idx_nullable)
        column_append_null(r);
      else
        column_append_default(r);
    } else if (rt->id == TYPE_NULLABLE && el->type->id != TYPE_NULLABLE) {
      column_append_from(r->children[0], el, (uint32_t)pos);
      column_mark_not_null(r);
    } else {
      column_append_from(r, el, (uint32_t)pos);
    }
  }
  *out = r;
  return 0;
}

int fr_array_element(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (t->id == TYPE_MAP) {
    call->type = t->children[1];
    call->exec = exec_array_element;
    return 0;
  }
  if (!is_array(t))
    return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "First argument for function arrayElement must be array, got %s instead",
                     type_name(call->arena, t));
  const struct datatype *it = call->arg_types[1];
  if (!type_is_int_or_bool(datatype_unwrap(it)))
    return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Second argument for function arrayElement must be integer, got %s instead",
                     type_name(call->arena, it));
  call->type = t->children[0];
  if (it->id == TYPE_NULLABLE)
    call->type = type_make_nullable(call->arena, call->type);
  call->exec = exec_array_element;
  return 0;
}

/* ======================================================================
 * has / indexOf / countEqual, hasAny / hasAll
 * ====================================================================== */

static int exec_has(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                    struct column **out, struct error *err)
{
  struct column *a = col_full(ev->arena, args[0], rows);
  const struct datatype *et = a->type->children[0];
  struct column *x = args[1];
  const struct datatype *xt = call->state;
  int rc = cast_column(ev, x, rows, xt, CAST_THROW, &x, err);
  if (rc)
    return rc;
  struct column *el = a->children[0];
  if (!datatype_equal(el->type, xt)) {
    rc = cast_column(ev, el, el->rows, xt, CAST_THROW, &el, err);
    if (rc)
      return rc;
  }
  (void)et;
  int op = call->def->op;
  uint64_t *res = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t s, e;
    row_range(a, i, &s, &e);
    uint32_t xr = column_row(x, i);
    uint64_t v = 0;
    for (uint64_t k = s; k < e; k++) {
      if (column_rows_equal(el, (uint32_t)k, x, xr)) {
        if (op == 0) { v = 1; break; }
        if (op == 1) { v = k - s + 1; break; }
        v++;
      }
    }
    res[i] = v;
  }
  *out = col_from_u64(ev->arena, call->type, res, rows);
  return 0;
}

int fr_has(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if ((rc = need_array(call, 0, err)))
    return rc;
  const struct datatype *pair[2] = { call->arg_types[0]->children[0], call->arg_types[1] };
  const struct datatype *st;
  rc = type_supertype(call->arena, pair, 2, &st, err);
  if (rc)
    return rc;
  call->state = (void *)st;
  call->type = call->def->op == 0 ? type_u8() : type_u64();
  call->exec = exec_has;
  return 0;
}

static int exec_has_any(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                        struct column **out, struct error *err)
{
  const struct datatype *st = call->state;
  struct column *a = col_full(ev->arena, args[0], rows), *b = col_full(ev->arena, args[1], rows);
  struct column *ea = a->children[0], *eb = b->children[0];
  int rc = cast_column(ev, ea, ea->rows, st, CAST_THROW, &ea, err);
  if (!rc)
    rc = cast_column(ev, eb, eb->rows, st, CAST_THROW, &eb, err);
  if (rc)
    return rc;
  bool all = call->def->op == 1;
  struct column *r = col_new(ev->arena, type_u8(), rows);
  uint8_t *d = r->data;
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t sa, ea_, sb, eb_;
    row_range(a, i, &sa, &ea_);
    row_range(b, i, &sb, &eb_);
    bool res = all;
    for (uint64_t y = sb; y < eb_; y++) {
      bool found = false;
      for (uint64_t x = sa; x < ea_ && !found; x++)
        found = column_rows_equal(ea, (uint32_t)x, eb, (uint32_t)y);
      if (all && !found) { res = false; break; }
      if (!all && found) { res = true; break; }
    }
    d[i] = res;
  }
  *out = r;
  return 0;
}

int fr_has_any(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if ((rc = need_array(call, 0, err)) || (rc = need_array(call, 1, err)))
    return rc;
  const struct datatype *pair[2] = { call->arg_types[0]->children[0], call->arg_types[1]->children[0] };
  const struct datatype *st;
  rc = type_supertype(call->arena, pair, 2, &st, err);
  if (rc)
    return rc;
  call->state = (void *)st;
  call->type = type_u8();
  call->exec = exec_has_any;
  return 0;
}

/* ======================================================================
 * range
 * ====================================================================== */

enum { RANGE_ELEMENTS_MAX = 500000000 };

static int exec_range(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  uint32_t k = call->arg_count;
  const int64_t *v[3];
  for (uint32_t j = 0; j < k; j++)
    v[j] = col_as_i64(ev->arena, args[j], rows);
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  struct column *el = r->children[0];
  uint64_t total = 0;
  bool sg = datatype_is_signed(call->type->children[0]);
  for (uint32_t i = 0; i < rows; i++) {
    int64_t start = 0, end, step = 1;
    if (k == 1) {
      end = v[0][args[0]->is_const ? 0 : i];
    } else {
      start = v[0][args[0]->is_const ? 0 : i];
      end = v[1][args[1]->is_const ? 0 : i];
      if (k == 3)
        step = v[2][args[2]->is_const ? 0 : i];
    }
    if (step == 0)
      return error_set(err, ERR_ILLEGAL_COLUMN, "A call to function range would produce an infinite array");
    if (!sg && (start < 0 || end < 0))
      start = start < 0 ? 0 : start;
    uint64_t n = 0;
    if (step > 0 && end > start)
      n = (uint64_t)((end - start - 1) / step + 1);
    else if (step < 0 && end < start)
      n = (uint64_t)((start - end - 1) / (-step) + 1);
    total += n;
    if (total > RANGE_ELEMENTS_MAX)
      return error_set(err, ERR_ARGUMENT_OUT_OF_BOUND,
                       "A call to function range would produce %llu array elements, which is greater than the allowed maximum of %u",
                       (unsigned long long)total, (unsigned)RANGE_ELEMENTS_MAX);
    for (uint64_t x = 0; x < n; x++) {
      int64_t val = start + (int64_t)x * step;
      if (sg)
        column_append_i64(el, val);
      else
        column_append_u64(el, (uint64_t)val);
    }
    close_row(r);
  }
  *out = r;
  return 0;
}

int fr_range(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 3, err);
  if (rc)
    return rc;
  for (uint32_t i = 0; i < call->arg_count; i++)
    if (!type_is_int_or_bool(call->arg_types[i]))
      return fn_illegal_type(call, i, err);
  const struct datatype *st;
  rc = type_supertype(call->arena, call->arg_types, call->arg_count, &st, err);
  if (rc)
    return rc;
  if (st->id == TYPE_BOOL)
    st = type_u8();
  call->type = datatype_array(call->arena, st);
  call->exec = exec_range;
  return 0;
}

int fr_array_join(struct fn_call *call, struct error *err)
{
  return error_set(err, ERR_BAD_ARGUMENTS, "Function %s is not allowed here", call->name);
}

/* ======================================================================
 * higher-order functions
 * ====================================================================== */

enum {
  HO_MAP, HO_FILTER, HO_EXISTS, HO_ALL, HO_COUNT, HO_SUM, HO_FIRST, HO_LAST, HO_FIRST_INDEX, HO_MIN, HO_MAX,
  HO_AVG, HO_SORT, HO_REVERSE_SORT, HO_PRODUCT,
};

struct sort_seg_ctx {
  const struct column *keys;
  bool desc;
};

static int seg_cmp(const void *x, const void *y, void *arg)
{
  const struct sort_seg_ctx *c = arg;
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  int r = column_compare_rows(c->keys, a, c->keys, b, false);
  if (c->desc)
    r = -r;
  if (r == 0)
    r = a < b ? -1 : a > b;
  return r;
}

static int exec_array_lambda(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                             struct column **out, struct error *err)
{
  int op = call->def->op;
  bool has_lambda = call->args[0]->kind == EXPR_LAMBDA;
  uint32_t first = has_lambda ? 1 : 0;
  uint32_t na = call->arg_count - first;
  struct arr_view *v = arena_alloc(ev->arena, sizeof *v * (na ? na : 1));
  for (uint32_t j = 0; j < na; j++)
    arr_view(ev->arena, args[first + j], rows, &v[j]);
  uint64_t total = v[0].end - v[0].base;
  for (uint32_t j = 1; j < na; j++) {
    for (uint32_t i = 0; i < rows; i++) {
      uint64_t s0, e0, s1, e1;
      row_range(v[0].col, i, &s0, &e0);
      row_range(v[j].col, i, &s1, &e1);
      if (e0 - s0 != e1 - s1)
        return error_set(err, ERR_SIZES_OF_ARRAYS_DONT_MATCH, "Arrays passed to %s must have equal size", call->name);
    }
  }
  /* the value each element contributes: lambda result or the element itself */
  struct column *vals;
  if (has_lambda) {
    struct column **params = arena_alloc(ev->arena, sizeof *params * (na ? na : 1));
    for (uint32_t j = 0; j < na; j++)
      params[j] = column_slice(ev->arena, v[j].el, (uint32_t)v[j].base, (uint32_t)total);
    uint32_t *parent = arena_alloc(ev->arena, sizeof *parent * (total ? total : 1));
    for (uint32_t i = 0; i < rows; i++) {
      uint64_t s, e;
      row_range(v[0].col, i, &s, &e);
      for (uint64_t k = s; k < e; k++)
        parent[k - v[0].base] = i;
    }
    int rc = expr_eval_lambda(ev, call->args[0], params, (uint32_t)total, parent, &vals, err);
    if (rc)
      return rc;
  } else {
    vals = column_slice(ev->arena, v[0].el, (uint32_t)v[0].base, (uint32_t)total);
  }
  struct column *src = v[0].col;
  uint64_t base = v[0].base;
  switch (op) {
  case HO_MAP: {
    struct column *r = col_new(ev->arena, call->type, rows);
    for (uint32_t i = 0; i < rows; i++)
      r->offsets[i] = src->offsets[i] - base;
    struct column *el = vals;
    if (!datatype_equal(el->type, call->type->children[0])) {
      int rc = cast_column(ev, el, el->rows, call->type->children[0], CAST_THROW, &el, err);
      if (rc)
        return rc;
    }
    r->children[0] = el;
    *out = r;
    return 0;
  }
  case HO_FILTER:
  case HO_SORT:
  case HO_REVERSE_SORT: {
    struct column *r = col_new_empty(ev->arena, call->type, rows);
    struct column *el = column_slice(ev->arena, v[0].el, (uint32_t)base, (uint32_t)total);
    if (op == HO_FILTER) {
      const uint8_t *keep = col_as_bool(ev->arena, vals, (uint32_t)total);
      for (uint32_t i = 0; i < rows; i++) {
        uint64_t s, e;
        row_range(src, i, &s, &e);
        for (uint64_t k = s; k < e; k++)
          if (keep[k - base])
            column_append_from(r->children[0], el, (uint32_t)(k - base));
        close_row(r);
      }
    } else {
      struct sort_seg_ctx sc = { vals, op == HO_REVERSE_SORT };
      uint32_t *perm = arena_alloc(ev->arena, sizeof *perm * (total ? total : 1));
      for (uint32_t i = 0; i < rows; i++) {
        uint64_t s, e;
        row_range(src, i, &s, &e);
        uint32_t n = (uint32_t)(e - s);
        for (uint32_t k = 0; k < n; k++)
          perm[k] = (uint32_t)(s - base) + k;
        qsort_r(perm, n, sizeof *perm, seg_cmp, &sc);
        for (uint32_t k = 0; k < n; k++)
          column_append_from(r->children[0], el, perm[k]);
        close_row(r);
      }
    }
    *out = r;
    return 0;
  }
  case HO_EXISTS:
  case HO_ALL:
  case HO_COUNT:
  case HO_FIRST_INDEX: {
    const uint8_t *t = col_as_bool(ev->arena, vals, (uint32_t)total);
    uint64_t *res = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
    for (uint32_t i = 0; i < rows; i++) {
      uint64_t s, e;
      row_range(src, i, &s, &e);
      uint64_t acc = op == HO_ALL ? 1 : 0;
      for (uint64_t k = s; k < e; k++) {
        bool b = t[k - base];
        if (op == HO_EXISTS && b) { acc = 1; break; }
        if (op == HO_ALL && !b) { acc = 0; break; }
        if (op == HO_COUNT && b) acc++;
        if (op == HO_FIRST_INDEX && b) { acc = k - s + 1; break; }
      }
      res[i] = acc;
    }
    *out = col_from_u64(ev->arena, call->type, res, rows);
    return 0;
  }
  case HO_FIRST:
  case HO_LAST: {
    const uint8_t *t = col_as_bool(ev->arena, vals, (uint32_t)total);
    struct column *el = column_slice(ev->arena, v[0].el, (uint32_t)base, (uint32_t)total);
    struct column *r = col_new_empty(ev->arena, call->type, rows);
    for (uint32_t i = 0; i < rows; i++) {
      uint64_t s, e;
      row_range(src, i, &s, &e);
      int64_t pick = -1;
      for (uint64_t k = s; k < e; k++) {
        if (t[k - base]) {
          pick = (int64_t)(k - base);
          if (op == HO_FIRST)
            break;
        }
      }
      if (pick < 0)
        column_append_default(r);
      else
        column_append_from(r, el, (uint32_t)pick);
    }
    *out = r;
    return 0;
  }
  case HO_SUM:
  case HO_AVG:
  case HO_PRODUCT:
  case HO_MIN:
  case HO_MAX: {
    struct column *vv = vals;
    const uint8_t *nulls = NULL;
    if (vv->type->id == TYPE_NULLABLE) {
      nulls = vv->nulls;
      vv = vv->children[0];
    }
    const struct datatype *rt = call->type;
    if (op == HO_MIN || op == HO_MAX) {
      struct column *r = col_new_empty(ev->arena, rt, rows);
      for (uint32_t i = 0; i < rows; i++) {
        uint64_t s, e;
        row_range(src, i, &s, &e);
        int64_t best = -1;
        for (uint64_t k = s; k < e; k++) {
          uint32_t x = (uint32_t)(k - base);
          if (nulls && nulls[x])
            continue;
          if (best < 0) {
            best = x;
            continue;
          }
          int c = column_compare_rows(vv, x, vv, (uint32_t)best, false);
          if (op == HO_MIN ? c < 0 : c > 0)
            best = x;
        }
        if (best < 0)
          column_append_default(r);
        else if (rt->id == TYPE_NULLABLE) {
          column_append_from(r->children[0], vv, (uint32_t)best);
          column_mark_not_null(r);
        } else
          column_append_from(r, vv, (uint32_t)best);
      }
      *out = r;
      return 0;
    }
    bool fl = datatype_is_float(rt) || op != HO_SUM;
    bool sg = datatype_is_signed(rt);
    const double *fd = fl ? col_as_f64(ev->arena, vv, (uint32_t)total) : NULL;
    const int64_t *id = (!fl && sg) ? col_as_i64(ev->arena, vv, (uint32_t)total) : NULL;
    const uint64_t *ud = (!fl && !sg) ? col_as_u64(ev->arena, vv, (uint32_t)total) : NULL;
    double *rf = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
    uint64_t *ru = (uint64_t *)rf;
    for (uint32_t i = 0; i < rows; i++) {
      uint64_t s, e;
      row_range(src, i, &s, &e);
      double f = op == HO_PRODUCT ? 1 : 0;
      uint64_t u = 0, cnt = 0;
      for (uint64_t k = s; k < e; k++) {
        uint32_t x = (uint32_t)(k - base);
        if (nulls && nulls[x])
          continue;
        cnt++;
        if (fl)
          f = op == HO_PRODUCT ? f * fd[x] : f + fd[x];
        else
          u += sg ? (uint64_t)id[x] : ud[x];
      }
      if (op == HO_AVG)
        rf[i] = cnt ? f / (double)cnt : NAN;
      else if (fl)
        rf[i] = f;
      else
        ru[i] = u;
    }
    if (fl)
      *out = col_from_f64(ev->arena, rt, rf, rows);
    else if (sg)
      *out = col_from_i64(ev->arena, rt, (int64_t *)ru, rows);
    else
      *out = col_from_u64(ev->arena, rt, ru, rows);
    return 0;
  }
  }
  return error_set(err, ERR_LOGICAL_ERROR, "bad higher-order op");
}

int fr_array_lambda(struct fn_call *call, struct error *err)
{
  int op = call->def->op;
  bool has_lambda = call->arg_count > 0 && call->args[0]->kind == EXPR_LAMBDA;
  uint32_t first = has_lambda ? 1 : 0;
  if (call->arg_count < first + 1)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH, "Function %s needs at least %u argument(s), passed %u",
                     call->name, first + 1, call->arg_count);
  bool needs_lambda = op == HO_MAP || op == HO_FILTER || op == HO_FIRST || op == HO_LAST || op == HO_FIRST_INDEX;
  if (needs_lambda && !has_lambda)
    return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "First argument for function %s must be a function", call->name);
  if (!has_lambda && call->arg_count != 1)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                     "Number of arguments for function %s doesn't match: passed %u, should be 1", call->name,
                     call->arg_count);
  for (uint32_t j = first; j < call->arg_count; j++) {
    int rc = need_array(call, j, err);
    if (rc)
      return rc;
  }
  const struct datatype *et = call->arg_types[first]->children[0];
  const struct datatype *vt = has_lambda ? call->args[0]->type : et;
  const struct datatype *vu = datatype_unwrap(vt);
  switch (op) {
  case HO_MAP:
    call->type = datatype_array(call->arena, vt->id == TYPE_LOW_CARDINALITY ? vt->children[0] : vt);
    break;
  case HO_FILTER:
  case HO_SORT:
  case HO_REVERSE_SORT:
    call->type = call->arg_types[first];
    if ((op == HO_FILTER) && !type_is_number_or_bool(vu) && vu->id != TYPE_NOTHING)
      return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Expression for function %s must return UInt8, found %s",
                       call->name, type_name(call->arena, vt));
    break;
  case HO_EXISTS:
  case HO_ALL:
    call->type = type_u8();
    break;
  case HO_COUNT:
  case HO_FIRST_INDEX:
    call->type = datatype_simple(TYPE_UINT32);
    break;
  case HO_FIRST:
  case HO_LAST:
    call->type = et;
    break;
  case HO_MIN:
  case HO_MAX:
    call->type = vt;
    break;
  case HO_SUM:
    if (vu->id == TYPE_NOTHING) {
      call->type = type_u64();
      break;
    }
    if (!type_is_number_or_bool(vu))
      return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "arraySum cannot add values of type %s", type_name(call->arena, vt));
    call->type = datatype_is_float(vu) ? type_f64() : datatype_is_signed(vu) ? type_i64() : type_u64();
    break;
  case HO_AVG:
  case HO_PRODUCT:
    if (!type_is_number_or_bool(vu))
      return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "%s cannot aggregate values of type %s", call->name,
                       type_name(call->arena, vt));
    call->type = type_f64();
    break;
  }
  call->exec = exec_array_lambda;
  return 0;
}

/* ======================================================================
 * array utilities
 * ====================================================================== */

static int exec_array_concat(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                             struct column **out, struct error *err)
{
  uint32_t k = call->arg_count;
  struct column **a = arena_alloc(ev->arena, sizeof *a * k);
  for (uint32_t j = 0; j < k; j++) {
    int rc = cast_column(ev, args[j], rows, call->type, CAST_THROW, &a[j], err);
    if (rc)
      return rc;
    a[j] = col_full(ev->arena, a[j], rows);
  }
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  for (uint32_t i = 0; i < rows; i++) {
    for (uint32_t j = 0; j < k; j++) {
      uint64_t s, e;
      row_range(a[j], i, &s, &e);
      column_append_range(r->children[0], a[j]->children[0], (uint32_t)s, (uint32_t)(e - s));
    }
    close_row(r);
  }
  *out = r;
  return 0;
}

int fr_array_concat(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, UINT32_MAX, err);
  if (rc)
    return rc;
  for (uint32_t j = 0; j < call->arg_count; j++)
    if ((rc = need_array(call, j, err)))
      return rc;
  rc = type_supertype(call->arena, call->arg_types, call->arg_count, &call->type, err);
  if (rc)
    return rc;
  call->exec = exec_array_concat;
  return 0;
}

/* reverse / distinct / compact / enumerate / uniq / pop / flatten share a loop */
enum { AU_REVERSE, AU_DISTINCT, AU_COMPACT, AU_ENUMERATE, AU_UNIQ, AU_POP_BACK, AU_POP_FRONT, AU_FLATTEN };

static int exec_array_util(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                           struct column **out, struct error *err)
{
  (void)err;
  int op = (int)call->i0;
  struct column *a = col_full(ev->arena, args[0], rows);
  struct column *el = a->children[0];
  if (op == AU_UNIQ) {
    uint64_t *res = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
    struct buf b;
    buf_init(&b);
    for (uint32_t i = 0; i < rows; i++) {
      uint64_t s, e;
      row_range(a, i, &s, &e);
      struct arena tmp;
      arena_init(&tmp, 0);
      struct key_table kt;
      key_table_init(&kt, &tmp);
      for (uint64_t k = s; k < e; k++) {
        buf_reset(&b);
        key_serialize(&b, el, (uint32_t)k);
        bool is_new;
        key_table_insert(&kt, b.data, b.len, hash_bytes(b.data, b.len), &is_new);
      }
      res[i] = kt.count;
      arena_destroy(&tmp);
    }
    buf_free(&b);
    *out = col_from_u64(ev->arena, call->type, res, rows);
    return 0;
  }
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  struct column *rel = r->children[0];
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t s, e;
    row_range(a, i, &s, &e);
    switch (op) {
    case AU_REVERSE:
      for (uint64_t k = e; k > s; k--)
        column_append_from(rel, el, (uint32_t)(k - 1));
      break;
    case AU_DISTINCT: {
      struct arena tmp;
      arena_init(&tmp, 0);
      struct key_table kt;
      key_table_init(&kt, &tmp);
      for (uint64_t k = s; k < e; k++) {
        if (column_is_null(el, (uint32_t)k))
          continue;
        buf_reset(&b);
        key_serialize(&b, el, (uint32_t)k);
        bool is_new;
        key_table_insert(&kt, b.data, b.len, hash_bytes(b.data, b.len), &is_new);
        if (is_new)
          column_append_from(rel, el, (uint32_t)k);
      }
      arena_destroy(&tmp);
      break;
    }
    case AU_COMPACT:
      for (uint64_t k = s; k < e; k++)
        if (k == s || !column_rows_equal(el, (uint32_t)k, el, (uint32_t)(k - 1)))
          column_append_from(rel, el, (uint32_t)k);
      break;
    case AU_ENUMERATE:
      for (uint64_t k = s; k < e; k++)
        column_append_u64(rel, k - s + 1);
      break;
    case AU_POP_BACK:
      if (e > s)
        column_append_range(rel, el, (uint32_t)s, (uint32_t)(e - s - 1));
      break;
    case AU_POP_FRONT:
      if (e > s)
        column_append_range(rel, el, (uint32_t)(s + 1), (uint32_t)(e - s - 1));
      break;
    case AU_FLATTEN: {
      /* one level per call of the loop: el is Array(...) */
      for (uint64_t k = s; k < e; k++) {
        const struct column *inner = el;
        uint64_t s2, e2;
        row_range(inner, (uint32_t)k, &s2, &e2);
        column_append_range(rel, inner->children[0], (uint32_t)s2, (uint32_t)(e2 - s2));
      }
      break;
    }
    }
    close_row(r);
  }
  buf_free(&b);
  *out = r;
  return 0;
}

static int util_setup(struct fn_call *call, int op, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if ((rc = need_array(call, 0, err)))
    return rc;
  call->i0 = op;
  call->type = call->arg_types[0];
  if (op == AU_ENUMERATE)
    call->type = datatype_array(call->arena, datatype_simple(TYPE_UINT32));
  if (op == AU_UNIQ)
    call->type = datatype_simple(TYPE_UINT32);
  if (op == AU_DISTINCT)
    call->type = datatype_array(call->arena, datatype_unwrap(call->arg_types[0]->children[0]));
  call->exec = exec_array_util;
  return 0;
}

int fr_array_reverse(struct fn_call *call, struct error *err) { return util_setup(call, AU_REVERSE, err); }
int fr_array_distinct(struct fn_call *call, struct error *err) { return util_setup(call, AU_DISTINCT, err); }
int fr_array_uniq(struct fn_call *call, struct error *err) { return util_setup(call, AU_UNIQ, err); }
int fr_array_enumerate(struct fn_call *call, struct error *err) { return util_setup(call, AU_ENUMERATE, err); }
int fr_array_compact(struct fn_call *call, struct error *err) { return util_setup(call, AU_COMPACT, err); }
int fr_array_pop(struct fn_call *call, struct error *err)
{
  return util_setup(call, call->def->op ? AU_POP_FRONT : AU_POP_BACK, err);
}

static int exec_identity_arr(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                             struct column **out, struct error *err)
{
  (void)call; (void)ev; (void)rows; (void)err;
  *out = args[0];
  return 0;
}

int fr_array_flatten(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if ((rc = need_array(call, 0, err)))
    return rc;
  const struct datatype *t = call->arg_types[0];
  if (!is_array(t->children[0])) {
    call->type = t;
    call->exec = exec_identity_arr;
    return 0;
  }
  /* flattens one level; nested deeper arrays flatten one level per level */
  call->i0 = AU_FLATTEN;
  call->type = t->children[0];
  while (is_array(call->type->children[0]))
    call->type = call->type->children[0];
  if (is_array(t->children[0]->children[0]))
    return error_set(err, ERR_NOT_IMPLEMENTED, "arrayFlatten of more than two levels is not supported yet");
  call->exec = exec_array_util;
  return 0;
}

static int exec_array_slice(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                            struct column **out, struct error *err)
{
  (void)err;
  struct column *a = col_full(ev->arena, args[0], rows);
  const int64_t *off = col_as_i64(ev->arena, args[1], rows);
  const int64_t *len = call->arg_count > 2 ? col_as_i64(ev->arena, args[2], rows) : NULL;
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t s, e;
    row_range(a, i, &s, &e);
    int64_t n = (int64_t)(e - s);
    int64_t o = off[args[1]->is_const ? 0 : i];
    int64_t from;
    if (o > 0)
      from = o - 1;
    else if (o < 0)
      from = n + o;
    else
      from = n; /* offset 0: empty */
    if (from < 0)
      from = 0;
    int64_t to = n;
    if (len) {
      int64_t l = len[args[2]->is_const ? 0 : i];
      to = l >= 0 ? from + l : n + l;
    }
    if (to > n)
      to = n;
    if (from < to)
      column_append_range(r->children[0], a->children[0], (uint32_t)(s + (uint64_t)from), (uint32_t)(to - from));
    close_row(r);
  }
  *out = r;
  return 0;
}

int fr_array_slice(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 3, err);
  if (rc)
    return rc;
  if ((rc = need_array(call, 0, err)))
    return rc;
  for (uint32_t j = 1; j < call->arg_count; j++)
    if (!type_is_int_or_bool(call->arg_types[j]))
      return fn_illegal_type(call, j, err);
  call->type = call->arg_types[0];
  call->exec = exec_array_slice;
  return 0;
}

static int exec_array_push(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                           struct column **out, struct error *err)
{
  struct column *a;
  int rc = cast_column(ev, args[0], rows, call->type, CAST_THROW, &a, err);
  if (rc)
    return rc;
  a = col_full(ev->arena, a, rows);
  struct column *x;
  if ((rc = cast_column(ev, args[1], rows, call->type->children[0], CAST_THROW, &x, err)))
    return rc;
  bool front = call->def->op == 1;
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t s, e;
    row_range(a, i, &s, &e);
    if (front)
      column_append_from(r->children[0], x, column_row(x, i));
    column_append_range(r->children[0], a->children[0], (uint32_t)s, (uint32_t)(e - s));
    if (!front)
      column_append_from(r->children[0], x, column_row(x, i));
    close_row(r);
  }
  *out = r;
  return 0;
}

int fr_array_push(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 2, 2, err);
  if (rc)
    return rc;
  if ((rc = need_array(call, 0, err)))
    return rc;
  const struct datatype *pair[2] = { call->arg_types[0]->children[0], call->arg_types[1] };
  const struct datatype *st;
  if ((rc = type_supertype(call->arena, pair, 2, &st, err)))
    return rc;
  call->type = datatype_array(call->arena, st);
  call->exec = exec_array_push;
  return 0;
}

static int exec_array_zip(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                          struct column **out, struct error *err)
{
  uint32_t k = call->arg_count;
  struct column **a = arena_alloc(ev->arena, sizeof *a * k);
  for (uint32_t j = 0; j < k; j++)
    a[j] = col_full(ev->arena, args[j], rows);
  struct column *r = col_new_empty(ev->arena, call->type, rows);
  struct column *tup = r->children[0];
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t s0, e0;
    row_range(a[0], i, &s0, &e0);
    for (uint32_t j = 1; j < k; j++) {
      uint64_t s, e;
      row_range(a[j], i, &s, &e);
      if (e - s != e0 - s0)
        return error_set(err, ERR_SIZES_OF_ARRAYS_DONT_MATCH, "The argument 1 and argument %u of function arrayZip have different array sizes", j + 1);
    }
    for (uint64_t x = 0; x < e0 - s0; x++) {
      for (uint32_t j = 0; j < k; j++) {
        uint64_t s, e;
        row_range(a[j], i, &s, &e);
        column_append_from(tup->children[j], a[j]->children[0], (uint32_t)(s + x));
      }
      column_close_tuple_row(tup);
    }
    close_row(r);
  }
  *out = r;
  return 0;
}

int fr_array_zip(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, UINT32_MAX, err);
  if (rc)
    return rc;
  const struct datatype **els = arena_alloc(call->arena, sizeof *els * call->arg_count);
  for (uint32_t j = 0; j < call->arg_count; j++) {
    if ((rc = need_array(call, j, err)))
      return rc;
    els[j] = call->arg_types[j]->children[0];
  }
  call->type = datatype_array(call->arena, datatype_tuple(call->arena, els, NULL, call->arg_count));
  call->exec = exec_array_zip;
  return 0;
}

static int exec_empty_array(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                            struct column **out, struct error *err)
{
  (void)args; (void)err;
  struct column *r = col_new(ev->arena, call->type, 1);
  *out = col_make_const(ev->arena, r, rows);
  return 0;
}

int fr_empty_array(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 0, 0, err);
  if (rc)
    return rc;
  call->type = datatype_array(call->arena, datatype_simple((enum type_id)call->def->op));
  call->exec = exec_empty_array;
  return 0;
}
