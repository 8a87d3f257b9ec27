/* Type rules the analyzer and functions share: ClickHouse's least common
 * supertype (if, multiIf, array literals, UNION, IN), Nullable wrapping and
 * small predicates over struct datatype. */
#include "query/exec_int.h"

#include <string.h>

const struct datatype *type_u8(void) { return datatype_simple(TYPE_UINT8); }
const struct datatype *type_u64(void) { return datatype_simple(TYPE_UINT64); }
const struct datatype *type_i64(void) { return datatype_simple(TYPE_INT64); }
const struct datatype *type_f64(void) { return datatype_simple(TYPE_FLOAT64); }
const struct datatype *type_str(void) { return datatype_simple(TYPE_STRING); }

static const struct datatype nothing_type = { .id = TYPE_NOTHING };
static const struct datatype *const nothing_children[1] = { &nothing_type };
static const struct datatype nullable_nothing = { .id = TYPE_NULLABLE, .child_count = 1, .children = nothing_children };

/* Nullable(Nothing), the type of a NULL literal. Its child is an equal
 * (datatype_equal) but distinct Nothing singleton, so no lazy init is needed. */
const struct datatype *type_nothing_nullable(void) { return &nullable_nothing; }

bool type_is_nullable(const struct datatype *t) { return t->id == TYPE_NULLABLE; }

bool type_is_nothing(const struct datatype *t)
{
  if (t->id == TYPE_NULLABLE)
    t = t->children[0];
  return t->id == TYPE_NOTHING;
}

bool type_can_be_nullable(const struct datatype *t)
{
  switch (t->id) {
  case TYPE_NULLABLE: case TYPE_ARRAY: case TYPE_MAP: case TYPE_TUPLE: case TYPE_LOW_CARDINALITY:
  case TYPE_NESTED:
    return false;
  default:
    return true;
  }
}

const struct datatype *type_make_nullable(struct arena *a, const struct datatype *t)
{
  if (t->id == TYPE_LOW_CARDINALITY) {
    const struct datatype *d = t->children[0];
    if (d->id == TYPE_NULLABLE)
      return t;
    return datatype_low_cardinality(a, datatype_nullable(a, d));
  }
  if (!type_can_be_nullable(t))
    return t;
  if (t->id == TYPE_NOTHING)
    return type_nothing_nullable();
  return datatype_nullable(a, t);
}

bool type_is_int_or_bool(const struct datatype *t) { return datatype_is_integer(t) || t->id == TYPE_BOOL; }
bool type_is_number_or_bool(const struct datatype *t) { return datatype_is_numeric(t) || t->id == TYPE_BOOL; }

unsigned type_int_bits(const struct datatype *t)
{
  switch (t->id) {
  case TYPE_UINT8: case TYPE_INT8: case TYPE_BOOL: return 8;
  case TYPE_UINT16: case TYPE_INT16: return 16;
  case TYPE_UINT32: case TYPE_INT32: case TYPE_FLOAT32: return 32;
  case TYPE_UINT64: case TYPE_INT64: case TYPE_FLOAT64: return 64;
  default: return 0;
  }
}

const struct datatype *type_int(bool is_signed, unsigned bits)
{
  static const enum type_id s[] = { TYPE_INT8, TYPE_INT16, TYPE_INT32, TYPE_INT64 };
  static const enum type_id u[] = { TYPE_UINT8, TYPE_UINT16, TYPE_UINT32, TYPE_UINT64 };
  int k = bits <= 8 ? 0 : bits <= 16 ? 1 : bits <= 32 ? 2 : 3;
  return datatype_simple(is_signed ? s[k] : u[k]);
}

const char *type_name(struct arena *a, const struct datatype *t) { return datatype_name(a, t); }

/* ---- least supertype ---- */

static int no_common(struct arena *a, const struct datatype *const *types, uint32_t n, const char *why,
                     struct error *err)
{
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < n; i++) {
    if (i)
      buf_append_cstr(&b, ", ");
    datatype_format(types[i], &b);
  }
  error_set(err, ERR_NO_COMMON_TYPE, "There is no supertype for types %s %s", buf_cstr(&b), why);
  buf_free(&b);
  (void)a;
  return ERR_NO_COMMON_TYPE;
}

int type_supertype(struct arena *a, const struct datatype *const *types, uint32_t n, const struct datatype **out,
                   struct error *err)
{
  if (n == 0) {
    *out = datatype_simple(TYPE_NOTHING);
    return 0;
  }
  /* all equal → that type */
  bool all_equal = true;
  for (uint32_t i = 1; i < n && all_equal; i++)
    all_equal = datatype_equal(types[0], types[i]);
  if (all_equal) {
    *out = types[0];
    return 0;
  }

  /* strip LowCardinality, drop Nothing, note Nullable */
  const struct datatype **ts = arena_alloc(a, sizeof *ts * n);
  uint32_t m = 0;
  bool nullable = false;
  for (uint32_t i = 0; i < n; i++) {
    const struct datatype *t = types[i];
    if (t->id == TYPE_LOW_CARDINALITY)
      t = t->children[0];
    if (t->id == TYPE_NULLABLE) {
      nullable = true;
      t = t->children[0];
    }
    if (t->id == TYPE_NOTHING)
      continue;
    ts[m++] = t;
  }
  if (m == 0) {
    *out = nullable ? type_nothing_nullable() : datatype_simple(TYPE_NOTHING);
    return 0;
  }
  const struct datatype *res = NULL;
  bool same = true;
  for (uint32_t i = 1; i < m && same; i++)
    same = datatype_equal(ts[0], ts[i]);
  if (same) {
    res = ts[0];
    goto done;
  }

  /* arrays */
  uint32_t arrays = 0, tuples = 0, maps = 0, strings = 0, numbers = 0, dates = 0, datetimes = 0, dt64 = 0,
           uuids = 0, others = 0, enums = 0;
  for (uint32_t i = 0; i < m; i++) {
    switch (ts[i]->id) {
    case TYPE_ARRAY: arrays++; break;
    case TYPE_TUPLE: tuples++; break;
    case TYPE_MAP: maps++; break;
    case TYPE_STRING: case TYPE_FIXED_STRING: strings++; break;
    case TYPE_DATE: dates++; break;
    case TYPE_DATETIME: datetimes++; break;
    case TYPE_DATETIME64: dt64++; break;
    case TYPE_UUID: uuids++; break;
    case TYPE_ENUM8: case TYPE_ENUM16: enums++; break;
    default:
      if (type_is_number_or_bool(ts[i]))
        numbers++;
      else
        others++;
    }
  }
  if (arrays) {
    if (arrays != m)
      return no_common(a, types, n, "because some of them are Array and some of them are not", err);
    const struct datatype **el = arena_alloc(a, sizeof *el * m);
    for (uint32_t i = 0; i < m; i++)
      el[i] = ts[i]->children[0];
    const struct datatype *e;
    int rc = type_supertype(a, el, m, &e, err);
    if (rc)
      return rc;
    res = datatype_array(a, e);
    goto done;
  }
  if (maps) {
    if (maps != m)
      return no_common(a, types, n, "because some of them are Maps and some of them are not", err);
    const struct datatype **k = arena_alloc(a, sizeof *k * m), **v = arena_alloc(a, sizeof *v * m);
    for (uint32_t i = 0; i < m; i++) {
      k[i] = ts[i]->children[0];
      v[i] = ts[i]->children[1];
    }
    const struct datatype *kt, *vt;
    int rc = type_supertype(a, k, m, &kt, err);
    if (!rc)
      rc = type_supertype(a, v, m, &vt, err);
    if (rc)
      return rc;
    res = datatype_map(a, kt, vt);
    goto done;
  }
  if (tuples) {
    if (tuples != m)
      return no_common(a, types, n, "because some of them are Tuple and some of them are not", err);
    uint32_t k = ts[0]->child_count;
    for (uint32_t i = 1; i < m; i++)
      if (ts[i]->child_count != k)
        return no_common(a, types, n, "because Tuples have different sizes", err);
    const struct datatype **els = arena_alloc(a, sizeof *els * (k ? k : 1));
    const struct datatype **col = arena_alloc(a, sizeof *col * m);
    for (uint32_t j = 0; j < k; j++) {
      for (uint32_t i = 0; i < m; i++)
        col[i] = ts[i]->children[j];
      int rc = type_supertype(a, col, m, &els[j], err);
      if (rc)
        return rc;
    }
    res = datatype_tuple(a, els, ts[0]->names, k);
    goto done;
  }
  if (strings) {
    if (strings != m)
      return no_common(a, types, n, "because some of them are String/FixedString and some of them are not", err);
    res = datatype_simple(TYPE_STRING);
    goto done;
  }
  if (dates + datetimes + dt64) {
    if (dates + datetimes + dt64 != m)
      return no_common(a, types, n, "because some of them are Date/Date32/DateTime/DateTime64 and some of them are not", err);
    if (dt64) {
      uint32_t p = 0;
      const char *tz = NULL;
      for (uint32_t i = 0; i < m; i++) {
        if (ts[i]->id == TYPE_DATETIME64 && ts[i]->size > p)
          p = ts[i]->size;
        if (!tz && ts[i]->timezone)
          tz = ts[i]->timezone;
      }
      res = datatype_datetime64(a, p, tz);
    } else if (datetimes) {
      const char *tz = NULL;
      for (uint32_t i = 0; i < m; i++)
        if (!tz && ts[i]->timezone)
          tz = ts[i]->timezone;
      res = datatype_datetime(a, tz);
    } else {
      res = datatype_simple(TYPE_DATE);
    }
    goto done;
  }
  if (uuids || enums || others)
    return no_common(a, types, n, "because some of them are not numbers", err);

  /* numbers */
  {
    unsigned max_float = 0, max_signed = 0, max_unsigned = 0;
    bool all_bool = true;
    for (uint32_t i = 0; i < m; i++) {
      const struct datatype *t = ts[i];
      if (t->id != TYPE_BOOL)
        all_bool = false;
      if (datatype_is_float(t)) {
        if (type_int_bits(t) > max_float)
          max_float = type_int_bits(t);
      } else if (datatype_is_signed(t)) {
        if (type_int_bits(t) > max_signed)
          max_signed = type_int_bits(t);
      } else {
        if (type_int_bits(t) > max_unsigned)
          max_unsigned = type_int_bits(t);
      }
    }
    if (all_bool) {
      res = datatype_simple(TYPE_BOOL);
      goto done;
    }
    if (max_float) {
      unsigned max_int = max_signed > max_unsigned ? max_signed : max_unsigned;
      if (max_float <= 32 && max_int <= 16)
        res = datatype_simple(TYPE_FLOAT32);
      else
        res = datatype_simple(TYPE_FLOAT64);
      goto done;
    }
    if (max_signed && max_unsigned) {
      unsigned bits = max_signed > max_unsigned ? max_signed : max_unsigned * 2;
      if (max_unsigned >= 64)
        return no_common(a, types, n,
                         "because some of them are signed integers and some are unsigned integers, but there is no "
                         "signed integer type, that can exactly represent all required unsigned integer values",
                         err);
      res = type_int(true, bits);
    } else if (max_signed) {
      res = type_int(true, max_signed);
    } else {
      res = type_int(false, max_unsigned);
    }
  }

done:
  *out = nullable ? type_make_nullable(a, res) : res;
  return 0;
}
