/* Binary input: RowBinary (+WithNames, +WithNamesAndTypes) and Native, as
 * query/format_binary.c writes them and ClickHouse's clients send them.
 *
 * RowBinary: rows back to back, values little-endian (Date u16, DateTime
 * u32, DateTime64 i64, UUID two u64 halves high first, Enum its value),
 * String = LEB128 length + bytes, FixedString raw, Nullable = flag byte
 * (non-zero = NULL) then the value if present, Array/Map = LEB128 count +
 * elements (Map: key, value pairs), Tuple = elements, LowCardinality(T) as
 * T. The headers are a LEB128 count, then names (and types) as strings.
 *
 * Native (HTTP, no block info): per block varuint columns, varuint rows;
 * per column name, type, then — when rows > 0 — one u64 version (1) per
 * LowCardinality in the type (depth first) and the data: fixed values
 * packed, strings LEB128-prefixed, Nullable null map then values,
 * Array/Map u64 cumulative offsets then elements (Map: keys then values),
 * Tuple element columns, Nothing one byte per row, LowCardinality u64
 * flags (key width in the low byte, bit 9 additional keys), u64 dictionary
 * size, the dictionary column (of the type without Nullable; for
 * LowCardinality(Nullable(T)) key 0 is NULL), u64 rows, the keys. Columns
 * are matched by name; a stream type other than the column's is converted
 * when both are numbers, both strings, or differ only in Nullable /
 * LowCardinality wrappers. A Native block is parsed whole (it is never
 * split across output blocks).
 *
 * Every read checks the bytes at hand first: short of data, the row or
 * block waits for more (INPUT_NEED_MORE), or at the end of the input fails
 * with CANNOT_READ_ALL_DATA / ATTEMPT_TO_READ_AFTER_EOF. Sizes are checked
 * against the bytes present before anything is allocated. */
#include "query/input_int.h"

#include <string.h>

enum {
  BINARY_STRING_BYTES_MAX = 1 << 30,   /* format_binary_max_string_size */
  BINARY_ARRAY_SIZE_MAX = 1 << 30,     /* format_binary_max_array_size */
  BINARY_ZERO_SIZE_ELEMENTS_MAX = 1 << 20,   /* elements that occupy no bytes (Tuple(), Nothing) */
  NATIVE_COLUMNS_MAX = 1 << 16,
  NATIVE_NAME_BYTES_MAX = 1 << 20,
  NATIVE_ROWS_MAX = 1 << 28,
  LC_VERSION_SHARED_WITH_ADDITIONAL_KEYS = 1,
  LC_NEED_GLOBAL_DICTIONARY = 1 << 8,
  LC_HAS_ADDITIONAL_KEYS = 1 << 9,
};

static int need(struct input_parser *p, const struct input_cursor *c, uint64_t n)
{
  uint64_t avail = (uint64_t)(c->end - c->p);
  if (avail >= n)
    return 0;
  if (!c->eof)
    return INPUT_NEED_MORE;
  return error_set(p->err, ERR_CANNOT_READ_ALL_DATA, "Cannot read all data. Bytes read: %llu. Bytes expected: %llu.",
                   (unsigned long long)avail, (unsigned long long)n);
}

static int read_varuint(struct input_parser *p, struct input_cursor *c, uint64_t *out)
{
  uint64_t v = 0;
  const char *s = c->p;
  for (int i = 0; i < 10; i++) {
    if (s >= c->end) {
      if (!c->eof)
        return INPUT_NEED_MORE;
      return error_set(p->err, ERR_ATTEMPT_TO_READ_AFTER_EOF, "Attempt to read after eof");
    }
    uint8_t b = (uint8_t)*s++;
    v |= (uint64_t)(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      c->p = s;
      *out = v;
      return 0;
    }
  }
  return error_set(p->err, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "Too long variable-length integer");
}

static int read_u64(struct input_parser *p, struct input_cursor *c, uint64_t *out)
{
  int rc = need(p, c, 8);
  if (rc)
    return rc;
  const unsigned char *u = (const unsigned char *)c->p;
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | u[i];
  c->p += 8;
  *out = v;
  return 0;
}

static int read_string_len(struct input_parser *p, struct input_cursor *c, uint64_t *len)
{
  int rc = read_varuint(p, c, len);
  if (rc)
    return rc;
  if (*len > BINARY_STRING_BYTES_MAX)
    return error_set(p->err, ERR_TOO_LARGE_STRING_SIZE,
                     "Too large string size: %llu. The maximum is: %d. To increase the maximum, use setting "
                     "format_binary_max_string_size",
                     (unsigned long long)*len, BINARY_STRING_BYTES_MAX);
  return need(p, c, *len);
}

/* Fewest bytes one value of t takes in RowBinary. */
static uint64_t min_row_bytes(const struct datatype *t)
{
  switch (t->id) {
  case TYPE_NULLABLE: case TYPE_STRING: case TYPE_ARRAY: case TYPE_MAP:
    return 1;
  case TYPE_LOW_CARDINALITY:
    return min_row_bytes(t->children[0]);
  case TYPE_TUPLE: case TYPE_NESTED: {
    uint64_t n = 0;
    for (uint32_t i = 0; i < t->child_count; i++)
      n += min_row_bytes(t->children[i]);
    return n;
  }
  case TYPE_NOTHING:
    return 0;
  default:
    return datatype_fixed_bytes(t);
  }
}

static int check_count(struct input_parser *p, const struct input_cursor *c, uint64_t count, uint64_t min_each,
                       uint64_t child_rows)
{
  if (count > BINARY_ARRAY_SIZE_MAX || count > (uint64_t)UINT32_MAX - child_rows ||
      (min_each == 0 && count > BINARY_ZERO_SIZE_ELEMENTS_MAX))
    return error_set(p->err, ERR_TOO_LARGE_ARRAY_SIZE,
                     "Too large array size: %llu. The maximum is: %d. To increase the maximum, use setting "
                     "format_binary_max_array_size",
                     (unsigned long long)count, BINARY_ARRAY_SIZE_MAX);
  if (min_each && count > (uint64_t)(c->end - c->p) / min_each)
    return need(p, c, count * min_each);
  return 0;
}

static int check_enum(struct input_parser *p, const struct datatype *t, const char *data, uint64_t n)
{
  for (uint64_t i = 0; i < n; i++) {
    int64_t v;
    if (t->id == TYPE_ENUM8) {
      int8_t x;
      memcpy(&x, data + i, 1);
      v = x;
    } else {
      int16_t x;
      memcpy(&x, data + 2 * i, 2);
      v = x;
    }
    bool ok = false;
    for (uint32_t k = 0; k < t->enum_count && !ok; k++)
      ok = t->enum_values[k] == v;
    if (!ok)
      return error_set(p->err, ERR_UNKNOWN_ELEMENT_OF_ENUM, "Unexpected value %lld in enum %s", (long long)v,
                       datatype_name(&p->unit_arena, t));
  }
  return 0;
}

/* n packed fixed-width values at c->p onto c. */
static int fixed_bulk(struct input_parser *p, struct input_cursor *cur, struct column *c, uint64_t n)
{
  size_t w = datatype_fixed_bytes(c->type);
  int rc = need(p, cur, n * w);
  if (rc)
    return rc;
  if (c->type->id == TYPE_ENUM8 || c->type->id == TYPE_ENUM16) {
    if ((rc = check_enum(p, c->type, cur->p, n)))
      return rc;
  }
  if (n == 0)
    return 0;
  column_reserve(c, (uint32_t)n);
  char *d = (char *)c->data + (size_t)c->rows * w;
  memcpy(d, cur->p, (size_t)(n * w));
  if (c->type->id == TYPE_BOOL)
    for (uint64_t i = 0; i < n; i++)
      d[i] = d[i] != 0;
  c->rows += (uint32_t)n;
  cur->p += n * w;
  return 0;
}

/* ---- RowBinary ---- */

static int rb_value(struct input_parser *p, struct input_cursor *cur, struct column *c)
{
  int rc;
  uint64_t n;
  switch (c->type->id) {
  case TYPE_NULLABLE:
    if ((rc = need(p, cur, 1)))
      return rc;
    if (*cur->p++) {
      column_append_null(c);
      return 0;
    }
    if ((rc = rb_value(p, cur, c->children[0])))
      return rc;
    column_mark_not_null(c);
    return 0;
  case TYPE_LOW_CARDINALITY: {
    struct column *sc = input_scratch(p, c->type->children[0]);
    if ((rc = rb_value(p, cur, sc)))
      return rc;
    input_lc_commit(p, c, sc);
    return 0;
  }
  case TYPE_STRING:
    if ((rc = read_string_len(p, cur, &n)))
      return rc;
    input_append_string(c, cur->p, (size_t)n);
    cur->p += n;
    return 0;
  case TYPE_ARRAY:
  case TYPE_MAP: {
    if ((rc = read_varuint(p, cur, &n)))
      return rc;
    uint64_t min_each = 0;
    for (uint32_t k = 0; k < c->child_count; k++)
      min_each += min_row_bytes(c->children[k]->type);
    if ((rc = check_count(p, cur, n, min_each, c->children[0]->rows)))
      return rc;
    for (uint64_t i = 0; i < n; i++)
      for (uint32_t k = 0; k < c->child_count; k++)
        if ((rc = rb_value(p, cur, c->children[k])))
          return rc;
    column_close_array_row(c);
    return 0;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t k = 0; k < c->child_count; k++)
      if ((rc = rb_value(p, cur, c->children[k])))
        return rc;
    column_close_tuple_row(c);
    return 0;
  case TYPE_NOTHING:
    /* Nothing has no values; only Nullable(Nothing)'s NULL exists. */
    return error_set(p->err, ERR_INCORRECT_DATA, "Cannot read a value of type Nothing");
  default:
    return fixed_bulk(p, cur, c, 1);
  }
}

static int rb_read_strings(struct input_parser *p, struct input_cursor *c, uint32_t n, const char ***out,
                           size_t **lens)
{
  const char **v = arena_new_array(p->arena, const char *, n ? n : 1);
  size_t *l = arena_new_array(p->arena, size_t, n ? n : 1);
  for (uint32_t i = 0; i < n; i++) {
    uint64_t len;
    int rc = read_string_len(p, c, &len);
    if (rc)
      return rc;
    v[i] = arena_strndup(p->arena, c->p, (size_t)len);
    l[i] = (size_t)len;
    c->p += len;
  }
  *out = v;
  *lens = l;
  return 0;
}

static int rb_prefix(struct input_parser *p, struct input_cursor *c)
{
  if (!(p->desc->flags & IF_NAMES))
    return 0;
  struct input_cursor h = *c;
  uint64_t n;
  int rc = read_varuint(p, &h, &n);
  if (rc)
    return rc;
  if (n > NATIVE_COLUMNS_MAX)
    return error_set(p->err, ERR_INCORRECT_DATA, "Too many columns in the header: %llu", (unsigned long long)n);
  /* Each name takes a byte at least. (Only ever wait here: what fails must
   * fail the same way however the bytes arrived.) */
  if (n > (uint64_t)(h.end - h.p) && !h.eof)
    return INPUT_NEED_MORE;
  const char **names, **types = NULL;
  size_t *lens, *tlens = NULL;
  if ((rc = rb_read_strings(p, &h, (uint32_t)n, &names, &lens)))
    return rc;
  if ((p->desc->flags & IF_TYPES) && (rc = rb_read_strings(p, &h, (uint32_t)n, &types, &tlens)))
    return rc;
  if (p->opts.with_names_use_header) {
    if ((rc = input_map_header(p, (uint32_t)n, names, lens)))
      return rc;
  } else if (n != p->column_count) {
    return error_set(p->err, ERR_INCORRECT_DATA, "The header has %llu columns, the table %u",
                     (unsigned long long)n, p->column_count);
  }
  if (types && (rc = input_check_header_types(p, (uint32_t)n, types, tlens)))
    return rc;
  for (uint32_t i = 0; i < p->field_count; i++)
    if (p->field_column[i] < 0 && !p->field_type[i])
      return error_set(p->err, ERR_INCORRECT_DATA,
                       "Cannot skip unknown field '%s' in %s format, because its type is unknown", names[i],
                       p->desc->name);
  c->p = h.p;
  return 0;
}

static int rb_row(struct input_parser *p, struct input_cursor *c)
{
  if (c->p >= c->end)
    return c->eof ? INPUT_END : INPUT_NEED_MORE;
  const char *start = c->p;
  int rc;
  for (uint32_t f = 0; f < p->field_count; f++) {
    int32_t col = p->field_column[f];
    struct column *target = col >= 0 ? p->cols[col] : input_scratch(p, p->field_type[f]);
    if ((rc = rb_value(p, c, target))) {
      if (rc > 0)
        p->diag.context = arena_printf(&p->unit_arena, "(while reading the value of column %s of type %s)",
                                       col >= 0 ? p->names[col] : "<skipped>",
                                       datatype_name(&p->unit_arena, target->type));
      return rc;
    }
  }
  if (p->unmapped)
    input_fill_unseen(p);
  if (c->p == start)
    return error_set(p->err, ERR_INCORRECT_DATA, "A RowBinary row of these column types takes no bytes");
  return 0;
}

const struct input_family input_family_row_binary = { rb_prefix, rb_row, NULL };

/* ---- Native ---- */

static int native_data(struct input_parser *p, struct input_cursor *cur, struct column *c, uint64_t n);

static int native_prefixes(struct input_parser *p, struct input_cursor *cur, const struct datatype *t)
{
  if (t->id == TYPE_LOW_CARDINALITY) {
    uint64_t v;
    int rc = read_u64(p, cur, &v);
    if (rc)
      return rc;
    if (v != LC_VERSION_SHARED_WITH_ADDITIONAL_KEYS)
      return error_set(p->err, ERR_INCORRECT_DATA, "Invalid version for SerializationLowCardinality key column: %llu",
                       (unsigned long long)v);
    return 0;
  }
  for (uint32_t i = 0; i < t->child_count; i++) {
    int rc = native_prefixes(p, cur, t->children[i]);
    if (rc)
      return rc;
  }
  return 0;
}

static int native_low_cardinality(struct input_parser *p, struct input_cursor *cur, struct column *c, uint64_t n)
{
  uint64_t flags, dict_size, keys;
  int rc;
  if ((rc = read_u64(p, cur, &flags)))
    return rc;
  unsigned key_type = (unsigned)(flags & 0xFF);
  if (key_type > 3)
    return error_set(p->err, ERR_INCORRECT_DATA, "Invalid type for LowCardinality keys: %u", key_type);
  if ((flags & LC_NEED_GLOBAL_DICTIONARY) || !(flags & LC_HAS_ADDITIONAL_KEYS))
    return error_set(p->err, ERR_NOT_IMPLEMENTED, "LowCardinality columns with a shared dictionary are not supported");
  if ((rc = read_u64(p, cur, &dict_size)))
    return rc;
  const struct datatype *vt = c->type->children[0];
  bool nullable = vt->id == TYPE_NULLABLE;
  const struct datatype *plain = nullable ? vt->children[0] : vt;
  if (dict_size > NATIVE_ROWS_MAX)
    return error_set(p->err, ERR_INCORRECT_DATA, "Too large LowCardinality dictionary: %llu",
                     (unsigned long long)dict_size);
  struct column *dict = column_create(&p->unit_arena, plain, 1);
  if ((rc = native_data(p, cur, dict, dict_size)))
    return rc;
  if ((rc = read_u64(p, cur, &keys)))
    return rc;
  if (keys != n)
    return error_set(p->err, ERR_INCORRECT_DATA, "LowCardinality column has %llu keys for %llu rows",
                     (unsigned long long)keys, (unsigned long long)n);
  unsigned width = 1u << key_type;
  if ((rc = need(p, cur, n * width)))
    return rc;
  uint32_t *map = arena_alloc(&p->unit_arena, (size_t)(dict_size ? dict_size : 1) * sizeof *map);
  memset(map, 0xFF, (size_t)dict_size * sizeof *map);
  const unsigned char *u = (const unsigned char *)cur->p;
  column_reserve(c, (uint32_t)n);
  for (uint64_t r = 0; r < n; r++) {
    uint64_t k = 0;
    for (unsigned b = 0; b < width; b++)
      k |= (uint64_t)u[r * width + b] << (8 * b);
    if (k >= dict_size)
      return error_set(p->err, ERR_INCORRECT_DATA, "Index of LowCardinality key %llu is out of range (%llu)",
                       (unsigned long long)k, (unsigned long long)dict_size);
    uint32_t key;
    if (nullable && k == 0) {
      key = 0;   /* our dictionaries keep NULL at key 0 too */
    } else if (map[k] != UINT32_MAX) {
      key = map[k];
    } else {
      /* Let column.c place the value (dedup) and read back its key. */
      column_append_from(c, dict, (uint32_t)k);
      key = ((uint32_t *)c->data)[c->rows - 1];
      c->rows--;
      map[k] = key;
    }
    if (c->rows >= c->capacity)
      column_reserve(c, 1);
    ((uint32_t *)c->data)[c->rows++] = key;
  }
  cur->p += n * width;
  return 0;
}

static int native_data(struct input_parser *p, struct input_cursor *cur, struct column *c, uint64_t n)
{
  int rc;
  switch (c->type->id) {
  case TYPE_LOW_CARDINALITY:
    return native_low_cardinality(p, cur, c, n);
  case TYPE_NULLABLE: {
    if ((rc = need(p, cur, n)))
      return rc;
    const char *map = cur->p;
    cur->p += n;
    if ((rc = native_data(p, cur, c->children[0], n)))
      return rc;
    column_reserve(c, (uint32_t)n);
    bool nothing = c->children[0]->type->id == TYPE_NOTHING;   /* only NULLs exist */
    for (uint64_t i = 0; i < n; i++)
      c->nulls[c->rows + i] = nothing || map[i] != 0;
    c->rows += (uint32_t)n;
    return 0;
  }
  case TYPE_STRING:
    if ((rc = need(p, cur, n)))
      return rc;
    column_reserve(c, (uint32_t)n);
    for (uint64_t i = 0; i < n; i++) {
      uint64_t len;
      if ((rc = read_string_len(p, cur, &len)))
        return rc;
      input_append_string(c, cur->p, (size_t)len);
      cur->p += len;
    }
    return 0;
  case TYPE_ARRAY:
  case TYPE_MAP: {
    if ((rc = need(p, cur, n * 8)))
      return rc;
    const unsigned char *u = (const unsigned char *)cur->p;
    uint64_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
      uint64_t off = 0;
      for (int b = 7; b >= 0; b--)
        off = off << 8 | u[i * 8 + (uint64_t)b];
      if (off < prev)
        return error_set(p->err, ERR_INCORRECT_DATA, "Array offsets are not monotonic");
      prev = off;
    }
    uint64_t min_each = 0;
    for (uint32_t k = 0; k < c->child_count; k++)
      min_each += min_row_bytes(c->children[k]->type);
    cur->p += n * 8;
    if ((rc = check_count(p, cur, prev, min_each ? 1 : 0, c->children[0]->rows)))
      return rc;
    uint64_t base = c->children[0]->rows;
    for (uint32_t k = 0; k < c->child_count; k++)
      if ((rc = native_data(p, cur, c->children[k], prev)))
        return rc;
    column_reserve(c, (uint32_t)n);
    for (uint64_t i = 0; i < n; i++) {
      uint64_t off = 0;
      for (int b = 7; b >= 0; b--)
        off = off << 8 | u[i * 8 + (uint64_t)b];
      c->offsets[c->rows + i] = base + off;
    }
    c->rows += (uint32_t)n;
    return 0;
  }
  case TYPE_TUPLE:
  case TYPE_NESTED:
    for (uint32_t k = 0; k < c->child_count; k++)
      if ((rc = native_data(p, cur, c->children[k], n)))
        return rc;
    c->rows += (uint32_t)n;
    return 0;
  case TYPE_NOTHING:
    if ((rc = need(p, cur, n)))
      return rc;
    cur->p += n;
    c->rows += (uint32_t)n;
    return 0;
  default:
    return fixed_bulk(p, cur, c, n);
  }
}

/* True if rows of src can be appended to dst by column_append_from. */
static bool convertible(const struct datatype *src, const struct datatype *dst)
{
  src = datatype_unwrap(src);
  dst = datatype_unwrap(dst);
  if (datatype_equal(src, dst))
    return true;
  bool sn = datatype_is_numeric(src) || src->id == TYPE_BOOL;
  bool dn = datatype_is_numeric(dst) || dst->id == TYPE_BOOL;
  if (sn && dn)
    return true;
  if ((src->id == TYPE_STRING || src->id == TYPE_FIXED_STRING) &&
      (dst->id == TYPE_STRING || dst->id == TYPE_FIXED_STRING))
    return dst->id == TYPE_STRING;
  if (src->id != dst->id || src->child_count != dst->child_count)
    return false;
  if (src->id == TYPE_ARRAY || src->id == TYPE_MAP || src->id == TYPE_TUPLE) {
    for (uint32_t i = 0; i < src->child_count; i++)
      if (!convertible(src->children[i], dst->children[i]))
        return false;
    return true;
  }
  return false;
}

static int native_block(struct input_parser *p, struct input_cursor *c)
{
  if (c->p >= c->end)
    return c->eof ? INPUT_END : INPUT_NEED_MORE;
  uint64_t ncols, nrows;
  int rc;
  if ((rc = read_varuint(p, c, &ncols)) || (rc = read_varuint(p, c, &nrows)))
    return rc;
  if (ncols > NATIVE_COLUMNS_MAX || nrows > NATIVE_ROWS_MAX)
    return error_set(p->err, ERR_INCORRECT_DATA, "Native block of %llu columns and %llu rows is too large",
                     (unsigned long long)ncols, (unsigned long long)nrows);
  if (nrows + p->cols[0]->rows > UINT32_MAX)
    return error_set(p->err, ERR_TOO_MANY_ROWS, "Too many rows in one block");
  memset(p->seen, 0, p->column_count * sizeof *p->seen);
  bool bounded = false;   /* some column's bytes bound the row count */
  for (uint64_t j = 0; j < ncols; j++) {
    uint64_t len;
    if ((rc = read_varuint(p, c, &len)))
      return rc;
    if (len > NATIVE_NAME_BYTES_MAX)
      return error_set(p->err, ERR_TOO_LARGE_STRING_SIZE, "Too large column name size: %llu",
                       (unsigned long long)len);
    if ((rc = need(p, c, len)))
      return rc;
    const char *name = c->p;
    size_t name_len = (size_t)len;
    c->p += len;
    if ((rc = read_varuint(p, c, &len)))
      return rc;
    if (len > NATIVE_NAME_BYTES_MAX)
      return error_set(p->err, ERR_TOO_LARGE_STRING_SIZE, "Too large type name size: %llu", (unsigned long long)len);
    if ((rc = need(p, c, len)))
      return rc;
    const struct datatype *t;
    if ((rc = datatype_parse(&p->unit_arena, c->p, (size_t)len, &t, p->err))) {
      p->diag.context = arena_printf(&p->unit_arena, "(while reading the type of column %.*s)",
                                     (int)(name_len > 100 ? 100 : name_len), name);
      return rc;
    }
    c->p += len;
    int32_t col = input_column_index(p, name, name_len);
    struct column *target;
    bool convert = false;
    if (col < 0) {
      if (!p->opts.skip_unknown_fields)
        return error_set(p->err, ERR_INCORRECT_DATA, "Unknown column found while parsing Native format: %.*s",
                         (int)(name_len > 200 ? 200 : name_len), name);
      target = column_create(&p->unit_arena, t, 1);
    } else {
      if (p->seen[col])
        return error_set(p->err, ERR_INCORRECT_DATA, "Duplicate column found while parsing Native format: %s",
                         p->names[col]);
      p->seen[col] = true;
      if (datatype_equal(t, p->types[col])) {
        target = p->cols[col];
      } else if (convertible(t, p->types[col])) {
        target = column_create(&p->unit_arena, t, 1);
        convert = true;
      } else {
        return error_set(p->err, ERR_TYPE_MISMATCH, "Type of '%s' must be %s, not %s", p->names[col],
                         datatype_name(&p->unit_arena, p->types[col]), datatype_name(&p->unit_arena, t));
      }
    }
    if (nrows > 0) {
      const char *data_start = c->p;
      if ((rc = native_prefixes(p, c, t)) || (rc = native_data(p, c, target, nrows))) {
        if (rc > 0)
          p->diag.context = arena_printf(&p->unit_arena, "(while reading column %.*s of a Native block)",
                                         (int)(name_len > 100 ? 100 : name_len), name);
        return rc;
      }
      if (c->p > data_start)
        bounded = true;
      if (convert)
        column_append_range(p->cols[col], target, 0, (uint32_t)nrows);
    }
  }
  /* Rows must be paid for by some column's bytes; otherwise a few bytes
   * could make us fill millions of defaults. */
  if (nrows > 0 && !bounded)
    return error_set(p->err, ERR_INCORRECT_DATA, "Native block claims %llu rows but carries no data for them",
                     (unsigned long long)nrows);
  for (uint32_t i = 0; i < p->column_count; i++)
    if (!p->seen[i])
      for (uint64_t r = 0; r < nrows; r++)
        input_append_omitted(p, i);
  return 0;
}

const struct input_family input_family_native = { NULL, native_block, NULL };
