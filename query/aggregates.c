/* Aggregate functions: state layout, vectorized add over a block (one state
 * pointer per row), merge (for parallel aggregation later) and finalize.
 * Combinators wrap a nested aggregate: -If (last argument is a condition),
 * -Distinct (a per-state set of seen argument tuples), -OrNull / -OrDefault,
 * -Array (arguments are arrays, elements are aggregated). The Nullable
 * adapter skips rows with a NULL argument and, for most functions, makes
 * the result Nullable (NULL when no row was aggregated). */
#include "query/exec_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"

/* ---- generic value holder: one value of any type, in the state arena ---- */

struct held {
  struct column *col;            /* one-row column, or NULL when empty */
};

static void held_set(struct held *h, const struct column *src, uint32_t row, const struct datatype *t,
                     struct arena *a)
{
  /* replacing leaks the old copy into the state arena; acceptable for the
   * rare non-numeric min/max/any types */
  struct column *c = col_new_empty(a, t, 1);
  column_append_from(c, src, row);
  h->col = c;
}

/* ---- helpers ---- */

#define FOR_ROWS(body) do {                                              \
    if (sel) { for (uint32_t i = 0; i < rows; i++) if (sel[i]) { body; } } \
    else { for (uint32_t i = 0; i < rows; i++) { body; } }              \
  } while (0)

#define STATE(T) (*(T *)(places[i] + off))

enum num_dom { DOM_U, DOM_I, DOM_F };

static enum num_dom dom_of(const struct datatype *t)
{
  if (datatype_is_float(t))
    return DOM_F;
  if (datatype_is_signed(t) || t->id == TYPE_DATETIME64 || t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16)
    return DOM_I;
  return DOM_U;
}

static bool is_numeric_like(const struct datatype *t)
{
  return type_is_number_or_bool(t) || t->id == TYPE_DATE || t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64 ||
         t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16;
}

static int bad_type(const struct agg_call *a, uint32_t i, struct error *err)
{
  return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal type %s of argument for aggregate function %s",
                   type_name(a->arena, a->arg_types[i]), a->name);
}

static int arg_count(const struct agg_call *a, uint32_t min, uint32_t max, struct error *err)
{
  if (a->arg_count >= min && a->arg_count <= max)
    return 0;
  if (min == max)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                     "Aggregate function %s requires %u argument%s, passed %u", a->name, min, min == 1 ? "" : "s",
                     a->arg_count);
  return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                   "Aggregate function %s requires from %u to %u arguments, passed %u", a->name, min, max,
                   a->arg_count);
}

static void zero_init(const struct agg_call *a, uint8_t *place) { memset(place, 0, a->state_size); }

/* ======================================================================
 * count
 * ====================================================================== */

static int count_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                     const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  (void)a; (void)args; (void)sa; (void)scratch; (void)err;
  FOR_ROWS(STATE(uint64_t)++);
  return 0;
}

static void u64_merge(const struct agg_call *a, uint8_t *dst, const uint8_t *src, struct arena *sa)
{
  (void)a; (void)sa;
  *(uint64_t *)dst += *(const uint64_t *)src;
}

static void u64_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  (void)a;
  for (uint32_t i = 0; i < count; i++)
    column_append_u64(out, STATE(uint64_t));
}

int ar_count(struct agg_call *a, struct error *err)
{
  (void)err;
  a->type = type_u64();
  a->state_size = 8;
  a->init = zero_init;
  a->add = count_add;
  a->merge = u64_merge;
  a->finalize = u64_finalize;
  a->skip_nulls_only = true;
  return 0;
}

/* ======================================================================
 * sum / avg
 * ====================================================================== */

struct avg_state {
  union { uint64_t u; int64_t i; double f; } sum;
  uint64_t n;
};

static int sum_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                   const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  (void)sa; (void)err;
  switch (a->op) {
  case DOM_U: { const uint64_t *v = col_as_u64(scratch, args[0], rows); FOR_ROWS(STATE(struct avg_state).sum.u += v[i]; STATE(struct avg_state).n++); break; }
  case DOM_I: { const int64_t *v = col_as_i64(scratch, args[0], rows); FOR_ROWS(STATE(struct avg_state).sum.u += (uint64_t)v[i]; STATE(struct avg_state).n++); break; }
  default: { const double *v = col_as_f64(scratch, args[0], rows); FOR_ROWS(STATE(struct avg_state).sum.f += v[i]; STATE(struct avg_state).n++); break; }
  }
  return 0;
}

static void sum_merge(const struct agg_call *a, uint8_t *dst, const uint8_t *src, struct arena *sa)
{
  (void)sa;
  struct avg_state *d = (struct avg_state *)dst;
  const struct avg_state *s = (const struct avg_state *)src;
  if (a->op == DOM_F)
    d->sum.f += s->sum.f;
  else
    d->sum.u += s->sum.u;
  d->n += s->n;
}

static void sum_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  for (uint32_t i = 0; i < count; i++) {
    const struct avg_state *s = &STATE(struct avg_state);
    if (a->op == DOM_F)
      column_append_f64(out, s->sum.f);
    else if (a->op == DOM_I)
      column_append_i64(out, s->sum.i);
    else
      column_append_u64(out, s->sum.u);
  }
}

static void avg_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  for (uint32_t i = 0; i < count; i++) {
    const struct avg_state *s = &STATE(struct avg_state);
    double sum = a->op == DOM_F ? s->sum.f : a->op == DOM_I ? (double)s->sum.i : (double)s->sum.u;
    column_append_f64(out, s->n ? sum / (double)s->n : NAN);
  }
}

int ar_sum(struct agg_call *a, struct error *err)
{
  int rc = arg_count(a, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = a->arg_types[0];
  if (!type_is_number_or_bool(t))
    return bad_type(a, 0, err);
  a->op = dom_of(t);
  if (t->id == TYPE_BOOL)
    a->op = DOM_U;
  if (a->def->op == 1) /* sumWithOverflow keeps the argument type */
    a->type = t;
  else
    a->type = a->op == DOM_F ? type_f64() : a->op == DOM_I ? type_i64() : type_u64();
  a->state_size = sizeof(struct avg_state);
  a->init = zero_init;
  a->add = sum_add;
  a->merge = sum_merge;
  a->finalize = sum_finalize;
  return 0;
}

int ar_avg(struct agg_call *a, struct error *err)
{
  int rc = arg_count(a, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = a->arg_types[0];
  if (!type_is_number_or_bool(t))
    return bad_type(a, 0, err);
  a->op = t->id == TYPE_BOOL ? DOM_U : dom_of(t);
  a->type = type_f64();
  a->state_size = sizeof(struct avg_state);
  a->init = zero_init;
  a->add = sum_add;
  a->merge = sum_merge;
  a->finalize = avg_finalize;
  return 0;
}

/* ======================================================================
 * min / max / any / anyLast / argMin / argMax
 * ====================================================================== */

/* State: has flag, then a numeric value or a held value; argMin/argMax add a
 * held argument. */
struct ext_state {
  uint8_t has;
  union { uint64_t u; int64_t i; double f; } v;
  struct held h;                 /* non-numeric value */
  struct held arg;               /* argMin/argMax: the argument */
};

enum ext_kind { EXT_MIN, EXT_MAX, EXT_ANY, EXT_ANY_LAST };

static bool better_num(int kind, enum num_dom d, const struct ext_state *s, uint64_t u, int64_t iv, double f)
{
  if (!s->has)
    return true;
  switch (d) {
  case DOM_U: return kind == EXT_MIN ? u < s->v.u : u > s->v.u;
  case DOM_I: return kind == EXT_MIN ? iv < s->v.i : iv > s->v.i;
  default:
    if (f != f)
      return false;
    if (s->v.f != s->v.f)
      return true;
    return kind == EXT_MIN ? f < s->v.f : f > s->v.f;
  }
}

struct ext_info {
  int kind;
  bool numeric;
  bool with_arg;                 /* argMin/argMax: args[0] = result, args[1] = compared value */
};

static int ext_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                   const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  (void)err;
  int kind = (int)(a->i0 & 3);
  bool with_arg = (a->i0 & 4) != 0;
  bool numeric = (a->i0 & 8) != 0;
  struct column *val = with_arg ? args[1] : args[0];
  const struct datatype *vt = with_arg ? a->arg_types[1] : a->arg_types[0];
  enum num_dom d = numeric ? dom_of(vt) : DOM_U;
  if (kind == EXT_ANY || kind == EXT_ANY_LAST) {
    FOR_ROWS({
      struct ext_state *s = &STATE(struct ext_state);
      if (kind == EXT_ANY && s->has)
        continue;
      s->has = 1;
      if (numeric) {
        if (d == DOM_F) s->v.f = column_get_f64(val, i);
        else if (d == DOM_I) s->v.i = column_get_i64(val, i);
        else s->v.u = column_get_u64(val, i);
      } else {
        held_set(&s->h, val, i, vt, sa);
      }
    });
    return 0;
  }
  if (numeric) {
    const uint64_t *u = d == DOM_U ? col_as_u64(scratch, val, rows) : NULL;
    const int64_t *iv = d == DOM_I ? col_as_i64(scratch, val, rows) : NULL;
    const double *f = d == DOM_F ? col_as_f64(scratch, val, rows) : NULL;
    FOR_ROWS({
      struct ext_state *s = &STATE(struct ext_state);
      uint64_t uu = u ? u[i] : 0;
      int64_t ii = iv ? iv[i] : 0;
      double ff = f ? f[i] : 0;
      if (better_num(kind, d, s, uu, ii, ff)) {
        s->has = 1;
        if (d == DOM_U) s->v.u = uu; else if (d == DOM_I) s->v.i = ii; else s->v.f = ff;
        if (with_arg)
          held_set(&s->arg, args[0], i, a->arg_types[0], sa);
      }
    });
    return 0;
  }
  FOR_ROWS({
    struct ext_state *s = &STATE(struct ext_state);
    bool take = !s->has;
    if (!take) {
      int c = column_compare_rows(val, i, s->h.col, 0, false);
      take = kind == EXT_MIN ? c < 0 : c > 0;
    }
    if (take) {
      s->has = 1;
      held_set(&s->h, val, i, vt, sa);
      if (with_arg)
        held_set(&s->arg, args[0], i, a->arg_types[0], sa);
    }
  });
  return 0;
}

static void ext_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  bool with_arg = (a->i0 & 4) != 0;
  bool numeric = (a->i0 & 8) != 0;
  const struct datatype *vt = with_arg ? a->arg_types[1] : a->arg_types[0];
  enum num_dom d = numeric ? dom_of(vt) : DOM_U;
  for (uint32_t i = 0; i < count; i++) {
    const struct ext_state *s = &STATE(struct ext_state);
    if (!s->has) {
      column_append_default(out);
    } else if (with_arg) {
      column_append_from(out, s->arg.col, 0);
    } else if (numeric) {
      if (d == DOM_F) column_append_f64(out, s->v.f);
      else if (d == DOM_I) column_append_i64(out, s->v.i);
      else column_append_u64(out, s->v.u);
    } else {
      column_append_from(out, s->h.col, 0);
    }
  }
}

static int ext_setup(struct agg_call *a, int kind, bool with_arg, struct error *err)
{
  int rc = arg_count(a, with_arg ? 2 : 1, with_arg ? 2 : 1, err);
  if (rc)
    return rc;
  const struct datatype *vt = a->arg_types[with_arg ? 1 : 0];
  bool numeric = is_numeric_like(vt);
  if (vt->id == TYPE_LOW_CARDINALITY)
    return bad_type(a, with_arg ? 1 : 0, err);
  a->i0 = kind | (with_arg ? 4 : 0) | (numeric ? 8 : 0);
  a->type = a->arg_types[0];
  a->state_size = sizeof(struct ext_state);
  a->init = zero_init;
  a->add = ext_add;
  a->merge = NULL;
  a->finalize = ext_finalize;
  return 0;
}

int ar_min_max(struct agg_call *a, struct error *err) { return ext_setup(a, a->def->op ? EXT_MAX : EXT_MIN, false, err); }
int ar_any(struct agg_call *a, struct error *err) { return ext_setup(a, a->def->op ? EXT_ANY_LAST : EXT_ANY, false, err); }
int ar_arg_min_max(struct agg_call *a, struct error *err) { return ext_setup(a, a->def->op ? EXT_MAX : EXT_MIN, true, err); }

/* ======================================================================
 * uniq (exact)
 * ====================================================================== */

struct set_state {
  struct u64_table *u;           /* fixed-width keys */
  struct key_table *k;           /* serialized keys */
};

static int uniq_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                    const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  (void)err;
  bool fixed = a->arg_count == 1 && key_fits_u64(a->arg_types[0]);
  if (fixed) {
    uint64_t *kv = arena_alloc(scratch, sizeof *kv * (rows ? rows : 1));
    key_load_u64(args[0], rows, kv);
    FOR_ROWS({
      struct set_state *s = &STATE(struct set_state);
      if (!s->u) {
        s->u = arena_alloc(sa, sizeof *s->u);
        u64_table_init(s->u, sa);
      }
      bool is_new;
      u64_table_insert(s->u, kv[i], &is_new);
    });
    return 0;
  }
  struct buf b;
  buf_init(&b);
  FOR_ROWS({
    struct set_state *s = &STATE(struct set_state);
    if (!s->k) {
      s->k = arena_alloc(sa, sizeof *s->k);
      key_table_init(s->k, sa);
    }
    buf_reset(&b);
    for (uint32_t j = 0; j < a->arg_count; j++)
      key_serialize(&b, args[j], i);
    bool is_new;
    key_table_insert(s->k, b.data, b.len, hash_bytes(b.data, b.len), &is_new);
  });
  buf_free(&b);
  return 0;
}

static void uniq_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  (void)a;
  for (uint32_t i = 0; i < count; i++) {
    const struct set_state *s = &STATE(struct set_state);
    column_append_u64(out, s->u ? s->u->count : s->k ? s->k->count : 0);
  }
}

int ar_uniq(struct agg_call *a, struct error *err)
{
  if (a->arg_count == 0)
    return arg_count(a, 1, UINT32_MAX, err);
  a->type = type_u64();
  a->state_size = sizeof(struct set_state);
  a->init = zero_init;
  a->add = uniq_add;
  a->finalize = uniq_finalize;
  a->skip_nulls_only = true;
  return 0;
}

/* ======================================================================
 * groupArray / groupUniqArray / topK
 * ====================================================================== */

struct list_state {
  struct column *values;
  struct key_table *seen;        /* groupUniqArray / topK */
  uint64_t *counts;              /* topK: per distinct value */
  uint64_t counts_cap;
};

static int list_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                    const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  (void)scratch; (void)err;
  int kind = a->op; /* 0 groupArray, 1 groupUniqArray, 2 topK */
  uint64_t max = (uint64_t)a->i0;
  struct buf b;
  buf_init(&b);
  FOR_ROWS({
    struct list_state *s = &STATE(struct list_state);
    if (!s->values)
      s->values = col_new_empty(sa, a->arg_types[0], 4);
    if (kind == 0) {
      if (!max || s->values->rows < max)
        column_append_from(s->values, args[0], i);
      continue;
    }
    if (!s->seen) {
      s->seen = arena_alloc(sa, sizeof *s->seen);
      key_table_init(s->seen, sa);
    }
    buf_reset(&b);
    key_serialize(&b, args[0], i);
    bool is_new;
    uint32_t id = key_table_insert(s->seen, b.data, b.len, hash_bytes(b.data, b.len), &is_new);
    if (is_new)
      column_append_from(s->values, args[0], i);
    if (kind == 2) {
      if (id >= s->counts_cap) {
        uint64_t nc = s->counts_cap ? s->counts_cap * 2 : 8;
        s->counts = arena_realloc(sa, s->counts, s->counts_cap * 8, nc * 8);
        memset(s->counts + s->counts_cap, 0, (nc - s->counts_cap) * 8);
        s->counts_cap = nc;
      }
      s->counts[id]++;
    }
  });
  buf_free(&b);
  return 0;
}

static int topk_cmp(const void *x, const void *y, void *arg)
{
  const uint64_t *counts = arg;
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  if (counts[a] != counts[b])
    return counts[a] > counts[b] ? -1 : 1;
  return a < b ? -1 : a > b;
}

static void list_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  for (uint32_t i = 0; i < count; i++) {
    const struct list_state *s = &STATE(struct list_state);
    struct column *el = out->children[0];
    if (s->values) {
      if (a->op == 2) {
        uint32_t n = s->values->rows;
        uint32_t *idx = mem_alloc(sizeof *idx * (n ? n : 1));
        for (uint32_t k = 0; k < n; k++)
          idx[k] = k;
        qsort_r(idx, n, sizeof *idx, topk_cmp, s->counts);
        uint32_t keep = n < (uint64_t)a->i0 ? n : (uint32_t)a->i0;
        for (uint32_t k = 0; k < keep; k++)
          column_append_from(el, s->values, idx[k]);
        mem_free(idx);
      } else {
        uint32_t n = s->values->rows;
        if (a->op == 1 && a->i0 && n > a->i0)
          n = (uint32_t)a->i0;
        column_append_range(el, s->values, 0, n);
      }
    }
    column_close_array_row(out);
  }
}

int ar_group_array(struct agg_call *a, struct error *err)
{
  int rc = arg_count(a, 1, 1, err);
  if (rc)
    return rc;
  a->op = a->def->op;
  a->i0 = a->op == 2 ? 10 : 0;
  if (a->param_count >= 1) {
    const struct column *p = a->params[0];
    if (!type_is_int_or_bool(p->type))
      return error_set(err, ERR_BAD_ARGUMENTS, "Parameter for aggregate function %s should be positive integer",
                       a->name);
    a->i0 = column_get_i64(p, 0);
    if (a->i0 <= 0)
      return error_set(err, ERR_BAD_ARGUMENTS, "Parameter for aggregate function %s should be positive integer",
                       a->name);
  }
  a->type = datatype_array(a->arena, a->arg_types[0]);
  a->state_size = sizeof(struct list_state);
  a->init = zero_init;
  a->add = list_add;
  a->finalize = list_finalize;
  a->skip_nulls_only = true;
  return 0;
}

/* ======================================================================
 * groupBitAnd / Or / Xor
 * ====================================================================== */

static void bit_init(const struct agg_call *a, uint8_t *place)
{
  *(uint64_t *)place = a->op == 0 ? ~0ULL : 0;
  place[8] = 0;
}

static int bit_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                   const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  (void)sa; (void)err;
  const uint64_t *v = col_as_u64(scratch, args[0], rows);
  switch (a->op) {
  case 0: FOR_ROWS(STATE(uint64_t) &= v[i]); break;
  case 1: FOR_ROWS(STATE(uint64_t) |= v[i]); break;
  default: FOR_ROWS(STATE(uint64_t) ^= v[i]); break;
  }
  return 0;
}

static void bit_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  (void)a;
  for (uint32_t i = 0; i < count; i++)
    column_append_u64(out, STATE(uint64_t));
}

int ar_group_bit(struct agg_call *a, struct error *err)
{
  int rc = arg_count(a, 1, 1, err);
  if (rc)
    return rc;
  if (!type_is_int_or_bool(a->arg_types[0]))
    return bad_type(a, 0, err);
  a->op = a->def->op;
  a->type = a->arg_types[0];
  a->state_size = 16;
  a->init = bit_init;
  a->add = bit_add;
  a->finalize = bit_finalize;
  return 0;
}

/* ======================================================================
 * quantiles (exact: values are kept and sorted at the end)
 * ====================================================================== */

struct quant_state {
  double *v;
  uint64_t n, cap;
};

static int quant_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                     const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  (void)err;
  const double *v = col_as_f64(scratch, args[0], rows);
  (void)a;
  FOR_ROWS({
    struct quant_state *s = &STATE(struct quant_state);
    if (v[i] != v[i])
      continue;
    if (s->n == s->cap) {
      uint64_t nc = s->cap ? s->cap * 2 : 16;
      s->v = arena_realloc(sa, s->v, s->cap * 8, nc * 8);
      s->cap = nc;
    }
    s->v[s->n++] = v[i];
  });
  return 0;
}

/* Sort key of a non-NaN double: unsigned order is numeric order, and -0.0
 * shares 0.0's key, as the two compare equal. */
static inline uint64_t dbl_key(double x)
{
  if (x == 0)
    x = 0;
  uint64_t b;
  memcpy(&b, &x, 8);
  return (b >> 63) ? ~b : b | (1ull << 63);
}

/* Stable ascending sort of n non-NaN doubles: the order a stable
 * comparison sort gives (ties keep their input order), by insertion for
 * short runs and LSD radix on dbl_key otherwise. */
static void dbl_sort(double *v, uint64_t n)
{
  if (n < 64) {
    for (uint64_t i = 1; i < n; i++) {
      double x = v[i];
      uint64_t j = i;
      for (; j > 0 && v[j - 1] > x; j--)
        v[j] = v[j - 1];
      v[j] = x;
    }
    return;
  }
  uint64_t (*count)[256] = mem_calloc(8, sizeof *count);
  for (uint64_t i = 0; i < n; i++) {
    uint64_t k = dbl_key(v[i]);
    for (int d = 0; d < 8; d++)
      count[d][(k >> (8 * d)) & 0xff]++;
  }
  double *tmp = mem_alloc(n * sizeof *tmp);
  double *src = v, *dst = tmp;
  for (int d = 0; d < 8; d++) {
    uint64_t *c = count[d];
    if (c[(dbl_key(src[0]) >> (8 * d)) & 0xff] == n)
      continue;  /* one bucket: the pass would not move anything */
    uint64_t sum = 0;
    for (int b = 0; b < 256; b++) {
      uint64_t t = c[b];
      c[b] = sum;
      sum += t;
    }
    for (uint64_t i = 0; i < n; i++)
      dst[c[(dbl_key(src[i]) >> (8 * d)) & 0xff]++] = src[i];
    double *t = src;
    src = dst;
    dst = t;
  }
  if (src != v)
    memcpy(v, src, n * sizeof *v);
  mem_free(tmp);
  mem_free(count);
}

static double quant_pick(const struct agg_call *a, double *v, uint64_t n, double level)
{
  if (n == 0)
    return NAN;
  if (a->op == 0) {
    /* quantileExact: the element at floor(level * n), no interpolation */
    uint64_t k = level >= 1 ? n - 1 : (uint64_t)(level * (double)n);
    if (k >= n)
      k = n - 1;
    return v[k];
  }
  double pos = level * (double)(n - 1);
  uint64_t lo = (uint64_t)pos;
  if (lo + 1 >= n)
    return v[n - 1];
  double frac = pos - (double)lo;
  return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

/* Rearranges v so that v[k] holds the k-th smallest value, smaller or
 * equal values before it and greater or equal after (quickselect). */
static double dbl_select(double *v, uint64_t n, uint64_t k)
{
  int64_t lo = 0, hi = (int64_t)n - 1, kk = (int64_t)k;
  while (hi - lo >= 16) {
    double x = v[lo], y = v[lo + (hi - lo) / 2], z = v[hi];
    double p = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < p)
        i++;
      while (v[j] > p)
        j--;
      if (i <= j) {
        double t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (kk <= j)
      hi = j;
    else if (kk >= i)
      lo = i;
    else
      return v[k];  /* between the halves: equal to the pivot */
  }
  dbl_sort(v + lo, (uint64_t)(hi - lo + 1));
  return v[k];
}

/* quant_pick's answer without sorting everything: the order statistics it
 * reads are selected. With a zero among the values the stable sort runs
 * instead, since which of -0.0 and 0.0 lands where depends on order. */
static double quant_pick_select(const struct agg_call *a, double *v, uint64_t n, double level)
{
  bool has_zero = false;
  for (uint64_t i = 0; i < n; i++)
    has_zero |= v[i] == 0;
  if (n < 64 || has_zero) {
    dbl_sort(v, n);
    return quant_pick(a, v, n, level);
  }
  uint64_t k, k2 = UINT64_MAX;
  if (a->op == 0) {
    k = level >= 1 ? n - 1 : (uint64_t)(level * (double)n);
    if (k >= n)
      k = n - 1;
  } else {
    double pos = level * (double)(n - 1);
    k = (uint64_t)pos;
    if (k + 1 >= n)
      k = n - 1;
    else
      k2 = k + 1;
  }
  double lo = dbl_select(v, n, k);
  if (k2 == UINT64_MAX)
    return lo;
  double next = v[k2];
  for (uint64_t i = k2 + 1; i < n; i++)
    if (v[i] < next)
      next = v[i];
  double frac = level * (double)(n - 1) - (double)k;
  return lo + (next - lo) * frac;
}

static void quant_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  for (uint32_t i = 0; i < count; i++) {
    struct quant_state *s = &STATE(struct quant_state);
    if (a->op == 3) {
      if (s->n > 1)
        dbl_sort(s->v, s->n);
      for (uint32_t p = 0; p < a->param_count; p++) {
        double lv = column_get_f64(a->params[p], 0);
        column_append_f64(out->children[0], quant_pick(a, s->v, s->n, lv));
      }
      column_close_array_row(out);
      continue;
    }
    double lv = a->param_count ? column_get_f64(a->params[0], 0) : 0.5;
    double r = quant_pick_select(a, s->v, s->n, lv);
    const struct datatype *t = out->type;
    if (datatype_is_float(t))
      column_append_f64(out, r);
    else if (datatype_is_signed(t) || t->id == TYPE_DATETIME64)
      column_append_i64(out, r != r ? 0 : (int64_t)r);
    else
      column_append_u64(out, r != r ? 0 : (uint64_t)r);
  }
}

int ar_quantile(struct agg_call *a, struct error *err)
{
  int rc = arg_count(a, 1, 1, err);
  if (rc)
    return rc;
  const struct datatype *t = a->arg_types[0];
  if (!is_numeric_like(t))
    return bad_type(a, 0, err);
  int kind = a->def->op; /* 0 exact, 1 quantile, 2 median, 3 quantiles, 5 timing */
  for (uint32_t p = 0; p < a->param_count; p++) {
    double lv = type_is_number_or_bool(a->params[p]->type) ? column_get_f64(a->params[p], 0) : -1;
    if (!(lv >= 0 && lv <= 1))
      return error_set(err, ERR_BAD_ARGUMENTS, "Quantile level is out of range [0..1]");
  }
  if (kind == 3 && a->param_count == 0)
    return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH, "Aggregate function quantiles requires at least one parameter");
  a->op = kind == 0 ? 0 : kind == 3 ? 3 : 1;
  if (kind == 3)
    a->type = datatype_array(a->arena, type_f64());
  else if (kind == 0)
    a->type = t;
  else if (kind == 5)
    a->type = datatype_simple(TYPE_FLOAT32);
  else if (t->id == TYPE_DATE || t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64)
    a->type = t;
  else
    a->type = type_f64();
  a->state_size = sizeof(struct quant_state);
  a->init = zero_init;
  a->add = quant_add;
  a->finalize = quant_finalize;
  return 0;
}

/* ======================================================================
 * variance / stddev (Welford)
 * ====================================================================== */

struct var_state {
  double n, mean, m2;
};

static int var_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                   const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  (void)a; (void)sa; (void)err;
  const double *v = col_as_f64(scratch, args[0], rows);
  FOR_ROWS({
    struct var_state *s = &STATE(struct var_state);
    s->n += 1;
    double d = v[i] - s->mean;
    s->mean += d / s->n;
    s->m2 += d * (v[i] - s->mean);
  });
  return 0;
}

static void var_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  for (uint32_t i = 0; i < count; i++) {
    const struct var_state *s = &STATE(struct var_state);
    bool samp = a->op == 1 || a->op == 3;
    double r;
    if (samp)
      r = s->n > 1 ? s->m2 / (s->n - 1) : (s->n == 1 ? INFINITY : NAN);
    else
      r = s->n > 0 ? s->m2 / s->n : NAN;
    if (samp && s->n <= 1)
      r = NAN;
    if (a->op >= 2)
      r = sqrt(r);
    column_append_f64(out, r);
  }
}

int ar_var(struct agg_call *a, struct error *err)
{
  int rc = arg_count(a, 1, 1, err);
  if (rc)
    return rc;
  if (!type_is_number_or_bool(a->arg_types[0]))
    return bad_type(a, 0, err);
  a->op = a->def->op;
  a->type = type_f64();
  a->state_size = sizeof(struct var_state);
  a->init = zero_init;
  a->add = var_add;
  a->finalize = var_finalize;
  return 0;
}

/* ======================================================================
 * Nullable adapter: state = flag byte (8 bytes) + nested state
 * ====================================================================== */

static void null_init(const struct agg_call *a, uint8_t *place)
{
  memset(place, 0, 8);
  a->nested->init(a->nested, place + 8);
}

static int null_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                    const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  uint8_t *s2 = arena_alloc(scratch, rows ? rows : 1);
  if (sel)
    memcpy(s2, sel, rows);
  else
    memset(s2, 1, rows);
  struct column **inner = arena_alloc(scratch, sizeof *inner * (a->arg_count ? a->arg_count : 1));
  for (uint32_t j = 0; j < a->arg_count; j++) {
    struct column *c = args[j];
    if (c->type->id == TYPE_NULLABLE) {
      for (uint32_t i = 0; i < rows; i++)
        s2[i] &= !c->nulls[i];
      inner[j] = c->children[0];
    } else {
      inner[j] = c;
    }
  }
  if (!a->skip_nulls_only)
    FOR_ROWS(if (s2[i]) places[i][off] = 1);
  return a->nested->add(a->nested, places, off + 8, inner, rows, s2, sa, scratch, err);
}

static void null_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  if (a->skip_nulls_only) {
    a->nested->finalize(a->nested, places, off + 8, count, out);
    return;
  }
  for (uint32_t i = 0; i < count; i++) {
    if (places[i][off]) {
      a->nested->finalize(a->nested, places + i, off + 8, 1, out->children[0]);
      column_mark_not_null(out);
    } else {
      column_append_null(out);
    }
  }
}

/* Nothing-typed argument (a NULL literal): count gives 0, others NULL. */
static int nothing_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                       const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  (void)a; (void)places; (void)off; (void)args; (void)rows; (void)sel; (void)sa; (void)scratch; (void)err;
  return 0;
}

static void nothing_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count,
                             struct column *out)
{
  (void)places; (void)off;
  for (uint32_t i = 0; i < count; i++) {
    if (a->op == 1)
      column_append_u64(out, 0);
    else if (a->op == 2)
      column_close_array_row(out);
    else
      column_append_null(out);
  }
}

/* ======================================================================
 * combinators
 * ====================================================================== */

static void wrap_init(const struct agg_call *a, uint8_t *place) { a->nested->init(a->nested, place); }

static void wrap_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count, struct column *out)
{
  a->nested->finalize(a->nested, places, off, count, out);
}

/* -If */
static int if_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                  const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  const struct column *c = args[a->arg_count - 1];
  const uint8_t *cond = col_as_bool(scratch, c, rows);
  if (!sel && !c->is_const)
    return a->nested->add(a->nested, places, off, args, rows, cond, sa, scratch, err);
  uint8_t *s2 = arena_alloc(scratch, rows ? rows : 1);
  for (uint32_t i = 0; i < rows; i++)
    s2[i] = cond[i] && (!sel || sel[i]);
  return a->nested->add(a->nested, places, off, args, rows, s2, sa, scratch, err);
}

/* -Distinct: state = set pointer (8 bytes) + nested */
static void distinct_init(const struct agg_call *a, uint8_t *place)
{
  memset(place, 0, 8);
  a->nested->init(a->nested, place + 8);
}

static int distinct_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args,
                        uint32_t rows, const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  uint8_t *s2 = arena_calloc(scratch, rows ? rows : 1, 1);
  struct buf b;
  buf_init(&b);
  FOR_ROWS({
    struct key_table **kt = (struct key_table **)(places[i] + off);
    if (!*kt) {
      *kt = arena_alloc(sa, sizeof **kt);
      key_table_init(*kt, sa);
    }
    buf_reset(&b);
    for (uint32_t j = 0; j < a->arg_count; j++)
      key_serialize(&b, args[j], i);
    bool is_new;
    key_table_insert(*kt, b.data, b.len, hash_bytes(b.data, b.len), &is_new);
    s2[i] = is_new;
  });
  buf_free(&b);
  return a->nested->add(a->nested, places, off + 8, args, rows, s2, sa, scratch, err);
}

static void distinct_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count,
                              struct column *out)
{
  a->nested->finalize(a->nested, places, off + 8, count, out);
}

/* -OrNull / -OrDefault: a flag of whether any row was added */
static void ornull_init(const struct agg_call *a, uint8_t *place)
{
  memset(place, 0, 8);
  a->nested->init(a->nested, place + 8);
}

static int ornull_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                      const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  FOR_ROWS(places[i][off] = 1);
  return a->nested->add(a->nested, places, off + 8, args, rows, sel, sa, scratch, err);
}

static void ornull_finalize(const struct agg_call *a, uint8_t **places, uint32_t off, uint32_t count,
                            struct column *out)
{
  bool nullable = a->op == 0 && out->type->id == TYPE_NULLABLE && a->nested->type->id != TYPE_NULLABLE;
  for (uint32_t i = 0; i < count; i++) {
    if (places[i][off]) {
      if (nullable) {
        a->nested->finalize(a->nested, places + i, off + 8, 1, out->children[0]);
        column_mark_not_null(out);
      } else {
        a->nested->finalize(a->nested, places + i, off + 8, 1, out);
      }
    } else if (nullable || out->type->id == TYPE_NULLABLE) {
      column_append_null(out);
    } else {
      column_append_default(out);
    }
  }
}

/* -Array: each argument is an array; elements are aggregated */
static int array_add(const struct agg_call *a, uint8_t **places, uint32_t off, struct column **args, uint32_t rows,
                     const uint8_t *sel, struct arena *sa, struct arena *scratch, struct error *err)
{
  if (rows == 0)
    return 0;
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t s, e;
    column_array_range(args[0], i, &s, &e);
    for (uint32_t j = 1; j < a->arg_count; j++) {
      uint64_t s2, e2;
      column_array_range(args[j], i, &s2, &e2);
      if (e2 - s2 != e - s)
        return error_set(err, ERR_SIZES_OF_ARRAYS_DONT_MATCH, "All arrays must be of the same size in %s", a->name);
    }
  }
  /* one state pointer per element, pointing at its row's state */
  uint64_t base, end, s, e;
  column_array_range(args[0], 0, &base, &e);
  column_array_range(args[0], rows - 1, &s, &end);
  uint64_t n = end - base;
  uint8_t **p2 = arena_alloc(scratch, sizeof *p2 * (n ? n : 1));
  uint8_t *s2 = arena_calloc(scratch, n ? n : 1, 1);
  for (uint32_t i = 0; i < rows; i++) {
    column_array_range(args[0], i, &s, &e);
    for (uint64_t k = s; k < e; k++) {
      p2[k - base] = places[i];
      s2[k - base] = !sel || sel[i];
    }
  }
  struct column **el = arena_alloc(scratch, sizeof *el * a->arg_count);
  for (uint32_t j = 0; j < a->arg_count; j++) {
    column_array_range(args[j], 0, &s, &e);
    el[j] = column_slice(scratch, args[j]->children[0], (uint32_t)s, (uint32_t)n);
  }
  return a->nested->add(a->nested, p2, off, el, (uint32_t)n, s2, sa, scratch, err);
}

/* ======================================================================
 * resolution
 * ====================================================================== */

static const char *const combinators[] = { "If", "Distinct", "OrNull", "OrDefault", "Array" };

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n > m && strcmp(s + n - m, suffix) == 0;
}

static const struct function_def *agg_def(const char *name)
{
  const struct function_def *d = function_find(name);
  return d && (d->flags & FN_AGG) ? d : NULL;
}

bool agg_name_is_aggregate(const char *name)
{
  if (agg_def(name))
    return true;
  for (size_t k = 0; k < sizeof combinators / sizeof combinators[0]; k++) {
    if (ends_with(name, combinators[k])) {
      char base[256];
      size_t n = strlen(name) - strlen(combinators[k]);
      if (n >= sizeof base)
        return false;
      memcpy(base, name, n);
      base[n] = '\0';
      if (agg_name_is_aggregate(base))
        return true;
    }
  }
  return false;
}

static struct agg_call *call_new(struct query_context *ctx, struct arena *a, const char *name,
                                 const struct datatype **arg_types, uint32_t arg_count, struct column **params,
                                 uint32_t param_count)
{
  struct agg_call *c = arena_new(a, struct agg_call);
  c->name = name;
  c->ctx = ctx;
  c->arena = a;
  c->arg_types = arg_types;
  c->arg_count = arg_count;
  c->params = params;
  c->param_count = param_count;
  return c;
}

static int resolve_base(struct query_context *ctx, struct arena *a, const struct function_def *def, const char *name,
                        const struct datatype **types, uint32_t n, struct column **params, uint32_t np,
                        struct agg_call **out, struct error *err)
{
  /* strip LowCardinality; find Nullable / Nothing arguments */
  bool any_null = false, nothing = false;
  const struct datatype **inner = arena_alloc(a, sizeof *inner * (n ? n : 1));
  for (uint32_t i = 0; i < n; i++) {
    const struct datatype *t = types[i];
    if (t->id == TYPE_LOW_CARDINALITY)
      t = t->children[0];
    if (t->id == TYPE_NULLABLE) {
      any_null = true;
      t = t->children[0];
    }
    if (t->id == TYPE_NOTHING)
      nothing = true;
    inner[i] = t;
  }
  struct agg_call *c = call_new(ctx, a, name, inner, n, params, np);
  c->def = def;
  if (nothing) {
    /* count / uniq of NULLs are 0, groupArray of NULLs is [], the rest NULL */
    bool is_count = def->agg_resolve == ar_count || def->agg_resolve == ar_uniq;
    bool is_list = def->agg_resolve == ar_group_array;
    c->op = is_count ? 1 : is_list ? 2 : 0;
    c->type = is_count ? type_u64() : is_list ? datatype_array(a, datatype_simple(TYPE_NOTHING)) : type_nothing_nullable();
    c->state_size = 8;
    c->init = zero_init;
    c->add = nothing_add;
    c->finalize = nothing_finalize;
    *out = c;
    return 0;
  }
  int rc = def->agg_resolve(c, err);
  if (rc)
    return rc;
  c->state_size = (c->state_size + 7) & ~7u;
  if (!any_null) {
    *out = c;
    return 0;
  }
  struct agg_call *w = call_new(ctx, a, name, types, n, params, np);
  w->def = def;
  w->nested = c;
  w->skip_nulls_only = c->skip_nulls_only;
  w->type = c->skip_nulls_only ? c->type : type_make_nullable(a, c->type);
  w->state_size = 8 + c->state_size;
  w->init = null_init;
  w->add = null_add;
  w->finalize = null_finalize;
  *out = w;
  return 0;
}

int agg_resolve(struct query_context *ctx, struct arena *a, const char *name, const struct datatype **arg_types,
                uint32_t arg_count, struct column **params, uint32_t param_count, struct agg_call **out,
                struct error *err)
{
  const struct function_def *def = agg_def(name);
  if (def)
    return resolve_base(ctx, a, def, name, arg_types, arg_count, params, param_count, out, err);
  for (size_t k = 0; k < sizeof combinators / sizeof combinators[0]; k++) {
    const char *suf = combinators[k];
    if (!ends_with(name, suf))
      continue;
    size_t bn = strlen(name) - strlen(suf);
    char *base = arena_strndup(a, name, bn);
    if (!agg_name_is_aggregate(base))
      continue;
    struct agg_call *w = call_new(ctx, a, name, arg_types, arg_count, params, param_count);
    struct agg_call *nested;
    int rc;
    switch (k) {
    case 0: { /* If */
      if (arg_count < 1)
        return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                         "Aggregate function %s require at least one argument", name);
      const struct datatype *ct = datatype_unwrap(arg_types[arg_count - 1]);
      if (!type_is_int_or_bool(ct) && ct->id != TYPE_NOTHING)
        return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal type %s of last argument for aggregate function with If suffix",
                         type_name(a, arg_types[arg_count - 1]));
      rc = agg_resolve(ctx, a, base, arg_types, arg_count - 1, params, param_count, &nested, err);
      if (rc)
        return rc;
      w->nested = nested;
      w->type = nested->type;
      w->state_size = nested->state_size;
      w->init = wrap_init;
      w->add = if_add;
      w->finalize = wrap_finalize;
      break;
    }
    case 1: /* Distinct */
      rc = agg_resolve(ctx, a, base, arg_types, arg_count, params, param_count, &nested, err);
      if (rc)
        return rc;
      w->nested = nested;
      w->type = nested->type;
      w->state_size = 8 + nested->state_size;
      w->init = distinct_init;
      w->add = distinct_add;
      w->finalize = distinct_finalize;
      break;
    case 2: /* OrNull */
    case 3: /* OrDefault */
      rc = agg_resolve(ctx, a, base, arg_types, arg_count, params, param_count, &nested, err);
      if (rc)
        return rc;
      w->nested = nested;
      w->op = k == 2 ? 0 : 1;
      w->type = k == 2 ? type_make_nullable(a, nested->type) : nested->type;
      w->state_size = 8 + nested->state_size;
      w->init = ornull_init;
      w->add = ornull_add;
      w->finalize = ornull_finalize;
      break;
    case 4: { /* Array */
      const struct datatype **el = arena_alloc(a, sizeof *el * (arg_count ? arg_count : 1));
      for (uint32_t i = 0; i < arg_count; i++) {
        const struct datatype *t = datatype_unwrap(arg_types[i]);
        if (t->id != TYPE_ARRAY)
          return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal type %s of argument for aggregate function %s",
                           type_name(a, arg_types[i]), name);
        el[i] = t->children[0];
      }
      rc = agg_resolve(ctx, a, base, el, arg_count, params, param_count, &nested, err);
      if (rc)
        return rc;
      w->nested = nested;
      w->type = nested->type;
      w->state_size = nested->state_size;
      w->init = wrap_init;
      w->add = array_add;
      w->finalize = wrap_finalize;
      break;
    }
    }
    w->def = nested->def;
    *out = w;
    return 0;
  }
  return error_set(err, ERR_UNKNOWN_AGGREGATE_FUNCTION, "Unknown aggregate function %s", name);
}
