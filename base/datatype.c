/* ClickHouse data types: singletons, constructors, a recursive-descent
 * parser for type text (DDL, CAST, Native/RowBinaryWithNamesAndTypes
 * headers) and the canonical printer; see datatype.h. */
#include "base/datatype.h"
#include "base/timezone.h"

#include <stdio.h>
#include <string.h>

enum { TYPE_DEPTH_MAX = 64, ENUM_VALUES_MAX = 65536, TUPLE_ELEMENTS_MAX = 4096, FIXED_STRING_BYTES_MAX = 0xFFFFFF };

/* ---- singletons ---- */

#define SIMPLE(tid) { .id = (tid) }
static const struct datatype simple_types[TYPE_ID_COUNT] = {
  [TYPE_NOTHING] = SIMPLE(TYPE_NOTHING),
  [TYPE_UINT8] = SIMPLE(TYPE_UINT8),     [TYPE_UINT16] = SIMPLE(TYPE_UINT16),
  [TYPE_UINT32] = SIMPLE(TYPE_UINT32),   [TYPE_UINT64] = SIMPLE(TYPE_UINT64),
  [TYPE_INT8] = SIMPLE(TYPE_INT8),       [TYPE_INT16] = SIMPLE(TYPE_INT16),
  [TYPE_INT32] = SIMPLE(TYPE_INT32),     [TYPE_INT64] = SIMPLE(TYPE_INT64),
  [TYPE_FLOAT32] = SIMPLE(TYPE_FLOAT32), [TYPE_FLOAT64] = SIMPLE(TYPE_FLOAT64),
  [TYPE_BOOL] = SIMPLE(TYPE_BOOL),       [TYPE_STRING] = SIMPLE(TYPE_STRING),
  [TYPE_DATE] = SIMPLE(TYPE_DATE),       [TYPE_DATETIME] = SIMPLE(TYPE_DATETIME),
  [TYPE_UUID] = SIMPLE(TYPE_UUID),
};
#undef SIMPLE

const struct datatype *datatype_simple(enum type_id id)
{
  switch (id) {
  case TYPE_NOTHING: case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64:
  case TYPE_FLOAT32: case TYPE_FLOAT64: case TYPE_BOOL: case TYPE_STRING:
  case TYPE_DATE: case TYPE_DATETIME: case TYPE_UUID:
    return &simple_types[id];
  default:
    return NULL;
  }
}

/* ---- constructors ---- */

static struct datatype *type_new(struct arena *a, enum type_id id, uint32_t child_count)
{
  struct datatype *t = arena_new(a, struct datatype);
  t->id = id;
  t->child_count = child_count;
  if (child_count)
    t->children = arena_new_array(a, const struct datatype *, child_count);
  return t;
}

const struct datatype *datatype_nullable(struct arena *a, const struct datatype *nested)
{
  struct datatype *t = type_new(a, TYPE_NULLABLE, 1);
  ((const struct datatype **)t->children)[0] = nested;
  return t;
}

const struct datatype *datatype_array(struct arena *a, const struct datatype *element)
{
  struct datatype *t = type_new(a, TYPE_ARRAY, 1);
  ((const struct datatype **)t->children)[0] = element;
  return t;
}

const struct datatype *datatype_map(struct arena *a, const struct datatype *key, const struct datatype *value)
{
  struct datatype *t = type_new(a, TYPE_MAP, 2);
  ((const struct datatype **)t->children)[0] = key;
  ((const struct datatype **)t->children)[1] = value;
  return t;
}

static const struct datatype *tuple_like(struct arena *a, enum type_id id, const struct datatype *const *elements,
                                         const char *const *names, uint32_t count)
{
  struct datatype *t = type_new(a, id, count);
  if (count)
    memcpy((void *)t->children, elements, count * sizeof *elements);
  bool any_name = false;
  for (uint32_t i = 0; names && i < count; i++)
    any_name |= names[i] != NULL;
  if (any_name) {
    const char **n = arena_new_array(a, const char *, count);
    for (uint32_t i = 0; i < count; i++)
      n[i] = names[i] ? arena_strdup(a, names[i]) : NULL;
    t->names = n;
  }
  return t;
}

const struct datatype *datatype_tuple(struct arena *a, const struct datatype *const *elements,
                                      const char *const *names, uint32_t count)
{
  return tuple_like(a, TYPE_TUPLE, elements, names, count);
}

const struct datatype *datatype_low_cardinality(struct arena *a, const struct datatype *dictionary)
{
  struct datatype *t = type_new(a, TYPE_LOW_CARDINALITY, 1);
  ((const struct datatype **)t->children)[0] = dictionary;
  return t;
}

const struct datatype *datatype_fixed_string(struct arena *a, uint32_t n)
{
  struct datatype *t = type_new(a, TYPE_FIXED_STRING, 0);
  t->size = n;
  return t;
}

const struct datatype *datatype_datetime(struct arena *a, const char *timezone)
{
  if (!timezone)
    return datatype_simple(TYPE_DATETIME);
  struct datatype *t = type_new(a, TYPE_DATETIME, 0);
  t->timezone = arena_strdup(a, timezone);
  return t;
}

const struct datatype *datatype_datetime64(struct arena *a, uint32_t precision, const char *timezone)
{
  struct datatype *t = type_new(a, TYPE_DATETIME64, 0);
  t->size = precision;
  t->timezone = timezone ? arena_strdup(a, timezone) : NULL;
  return t;
}

const struct datatype *datatype_interval(struct arena *a, enum interval_unit unit)
{
  struct datatype *t = type_new(a, TYPE_INTERVAL, 0);
  t->size = unit;
  return t;
}

static const char *const interval_names[] = {
  [INTERVAL_NANOSECOND] = "Nanosecond", [INTERVAL_MICROSECOND] = "Microsecond",
  [INTERVAL_MILLISECOND] = "Millisecond", [INTERVAL_SECOND] = "Second", [INTERVAL_MINUTE] = "Minute",
  [INTERVAL_HOUR] = "Hour", [INTERVAL_DAY] = "Day", [INTERVAL_WEEK] = "Week", [INTERVAL_MONTH] = "Month",
  [INTERVAL_QUARTER] = "Quarter", [INTERVAL_YEAR] = "Year",
};

/* ---- names ---- */

struct type_name {
  const char *name;
  enum type_id id;
  bool nocase;          /* SQL alias: matched case-insensitively */
};

/* Parameterless families and their aliases (ClickHouse DataTypeFactory). */
static const struct type_name simple_names[] = {
  { "Nothing", TYPE_NOTHING, false },
  { "UInt8", TYPE_UINT8, false }, { "UInt16", TYPE_UINT16, false },
  { "UInt32", TYPE_UINT32, false }, { "UInt64", TYPE_UINT64, false },
  { "Int8", TYPE_INT8, false }, { "Int16", TYPE_INT16, false },
  { "Int32", TYPE_INT32, false }, { "Int64", TYPE_INT64, false },
  { "Float32", TYPE_FLOAT32, false }, { "Float64", TYPE_FLOAT64, false },
  { "Bool", TYPE_BOOL, false }, { "String", TYPE_STRING, false },
  { "Date", TYPE_DATE, false }, { "UUID", TYPE_UUID, false },
  /* SQL / MySQL compatibility aliases */
  { "TINYINT", TYPE_INT8, true }, { "INT1", TYPE_INT8, true }, { "BYTE", TYPE_INT8, true },
  { "TINYINT SIGNED", TYPE_INT8, true }, { "INT1 SIGNED", TYPE_INT8, true },
  { "SMALLINT", TYPE_INT16, true }, { "INT2", TYPE_INT16, true }, { "SMALLINT SIGNED", TYPE_INT16, true },
  { "INT", TYPE_INT32, true }, { "INTEGER", TYPE_INT32, true }, { "MEDIUMINT", TYPE_INT32, true },
  { "INT4", TYPE_INT32, true }, { "INT SIGNED", TYPE_INT32, true }, { "INTEGER SIGNED", TYPE_INT32, true },
  { "MEDIUMINT SIGNED", TYPE_INT32, true },
  { "BIGINT", TYPE_INT64, true }, { "SIGNED", TYPE_INT64, true }, { "BIGINT SIGNED", TYPE_INT64, true },
  { "TINYINT UNSIGNED", TYPE_UINT8, true }, { "INT1 UNSIGNED", TYPE_UINT8, true },
  { "SMALLINT UNSIGNED", TYPE_UINT16, true },
  { "INT UNSIGNED", TYPE_UINT32, true }, { "INTEGER UNSIGNED", TYPE_UINT32, true },
  { "MEDIUMINT UNSIGNED", TYPE_UINT32, true },
  { "BIGINT UNSIGNED", TYPE_UINT64, true }, { "UNSIGNED", TYPE_UINT64, true },
  { "FLOAT", TYPE_FLOAT32, true }, { "REAL", TYPE_FLOAT32, true }, { "SINGLE", TYPE_FLOAT32, true },
  { "DOUBLE", TYPE_FLOAT64, true }, { "DOUBLE PRECISION", TYPE_FLOAT64, true },
  { "BOOLEAN", TYPE_BOOL, true }, { "BOOL", TYPE_BOOL, true },
  { "CHAR", TYPE_STRING, true }, { "VARCHAR", TYPE_STRING, true }, { "TEXT", TYPE_STRING, true },
  { "CHARACTER", TYPE_STRING, true }, { "CHAR VARYING", TYPE_STRING, true },
  { "CHARACTER VARYING", TYPE_STRING, true }, { "NCHAR", TYPE_STRING, true },
  { "NVARCHAR", TYPE_STRING, true }, { "VARCHAR2", TYPE_STRING, true },
  { "NATIONAL CHAR", TYPE_STRING, true }, { "NATIONAL CHARACTER", TYPE_STRING, true },
  { "NATIONAL CHAR VARYING", TYPE_STRING, true }, { "NATIONAL CHARACTER VARYING", TYPE_STRING, true },
  { "TINYTEXT", TYPE_STRING, true }, { "MEDIUMTEXT", TYPE_STRING, true }, { "LONGTEXT", TYPE_STRING, true },
  { "BLOB", TYPE_STRING, true }, { "TINYBLOB", TYPE_STRING, true }, { "MEDIUMBLOB", TYPE_STRING, true },
  { "LONGBLOB", TYPE_STRING, true }, { "CLOB", TYPE_STRING, true }, { "BYTEA", TYPE_STRING, true },
  { "BINARY LARGE OBJECT", TYPE_STRING, true }, { "BINARY VARYING", TYPE_STRING, true },
  { "CHAR LARGE OBJECT", TYPE_STRING, true }, { "CHARACTER LARGE OBJECT", TYPE_STRING, true },
  { "VARBINARY", TYPE_STRING, true },
};

static bool name_matches(const struct type_name *n, const char *s, size_t len)
{
  if (strlen(n->name) != len)
    return false;
  if (!n->nocase)
    return memcmp(n->name, s, len) == 0;
  return slice_eq_nocase(slice_make(s, len), n->name);
}

static const struct type_name *find_simple_name(const char *s, size_t len)
{
  for (size_t i = 0; i < sizeof simple_names / sizeof simple_names[0]; i++)
    if (!simple_names[i].nocase && name_matches(&simple_names[i], s, len))
      return &simple_names[i];
  for (size_t i = 0; i < sizeof simple_names / sizeof simple_names[0]; i++)
    if (simple_names[i].nocase && name_matches(&simple_names[i], s, len))
      return &simple_names[i];
  return NULL;
}

static bool prefix_eq_nocase(const char *n, const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    char x = n[i], y = s[i];
    if (x >= 'a' && x <= 'z')
      x = (char)(x - 32);
    if (y >= 'a' && y <= 'z')
      y = (char)(y - 32);
    if (x != y)
      return false;
  }
  return true;
}

/* True if some multi-word alias starts with `s` followed by a space. */
static bool is_alias_prefix(const char *s, size_t len)
{
  for (size_t i = 0; i < sizeof simple_names / sizeof simple_names[0]; i++) {
    const char *n = simple_names[i].name;
    if (simple_names[i].nocase && strlen(n) > len && n[len] == ' ' &&
        prefix_eq_nocase(n, s, len))
      return true;
  }
  return false;
}

/* ---- parser ---- */

struct type_parser {
  const char *p, *end, *start;
  struct arena *a;
  struct error *err;
  int depth;
};

static bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

static void skip_ws(struct type_parser *tp)
{
  while (tp->p < tp->end && (*tp->p == ' ' || *tp->p == '\t' || *tp->p == '\n' || *tp->p == '\r' || *tp->p == '\f'))
    tp->p++;
}

static int syntax_error(struct type_parser *tp, const char *what)
{
  return error_set(tp->err, ERR_SYNTAX_ERROR, "Syntax error in data type '%.*s' at position %zu: %s",
                   (int)(tp->end - tp->start), tp->start, (size_t)(tp->p - tp->start) + 1, what);
}

static bool accept(struct type_parser *tp, char c)
{
  skip_ws(tp);
  if (tp->p < tp->end && *tp->p == c) {
    tp->p++;
    return true;
  }
  return false;
}

static int expect(struct type_parser *tp, char c)
{
  if (accept(tp, c))
    return 0;
  char what[32];
  snprintf(what, sizeof what, "expected '%c'", c);
  return syntax_error(tp, what);
}

static struct slice read_word(struct type_parser *tp)
{
  skip_ws(tp);
  const char *s = tp->p;
  if (tp->p < tp->end && is_ident_start(*tp->p))
    while (tp->p < tp->end && is_ident_char(*tp->p))
      tp->p++;
  return slice_make(s, (size_t)(tp->p - s));
}

/* A tuple/nested element name: identifier, `backquoted` or "double-quoted". */
static int read_name(struct type_parser *tp, char **out)
{
  skip_ws(tp);
  if (tp->p < tp->end && (*tp->p == '`' || *tp->p == '"')) {
    char q = *tp->p++;
    struct buf b;
    buf_init(&b);
    while (tp->p < tp->end && *tp->p != q) {
      if (*tp->p == '\\' && tp->p + 1 < tp->end)
        tp->p++;
      buf_append_char(&b, *tp->p++);
    }
    if (tp->p >= tp->end) {
      buf_free(&b);
      return syntax_error(tp, "unterminated quoted name");
    }
    tp->p++;
    *out = arena_strndup(tp->a, b.data ? b.data : "", b.len);
    buf_free(&b);
    return 0;
  }
  struct slice w = read_word(tp);
  if (!w.len)
    return syntax_error(tp, "expected a name");
  *out = arena_strndup(tp->a, w.ptr, w.len);
  return 0;
}

/* A single-quoted string with backslash escapes and '' doubling. */
static int read_string(struct type_parser *tp, char **out, size_t *out_len)
{
  skip_ws(tp);
  if (tp->p >= tp->end || *tp->p != '\'')
    return syntax_error(tp, "expected a string literal");
  tp->p++;
  struct buf b;
  buf_init(&b);
  for (;;) {
    if (tp->p >= tp->end) {
      buf_free(&b);
      return syntax_error(tp, "unterminated string literal");
    }
    char c = *tp->p++;
    if (c == '\'') {
      if (tp->p < tp->end && *tp->p == '\'') {
        buf_append_char(&b, '\'');
        tp->p++;
        continue;
      }
      break;
    }
    if (c == '\\' && tp->p < tp->end) {
      c = *tp->p++;
      switch (c) {
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case '0': c = '\0'; break;
      case 'a': c = '\a'; break;
      case 'v': c = '\v'; break;
      default: break;
      }
    }
    buf_append_char(&b, c);
  }
  *out_len = b.len;
  *out = arena_strndup(tp->a, b.data ? b.data : "", b.len);
  buf_free(&b);
  return 0;
}

static int read_int(struct type_parser *tp, int64_t *out)
{
  skip_ws(tp);
  const char *s = tp->p;
  if (tp->p < tp->end && (*tp->p == '-' || *tp->p == '+'))
    tp->p++;
  while (tp->p < tp->end && *tp->p >= '0' && *tp->p <= '9')
    tp->p++;
  struct slice num = slice_make(s, (size_t)(tp->p - s));
  if (num.len && num.ptr[0] == '+')
    num = slice_make(num.ptr + 1, num.len - 1);
  if (!slice_to_i64(num, out)) {
    tp->p = s;
    return syntax_error(tp, "expected an integer");
  }
  return 0;
}

static int parse_type(struct type_parser *tp, const struct datatype **out);

/* "DOUBLE" + "PRECISION": do the two words start or make a multi-word alias? */
static bool words_join_alias(struct slice w1, struct slice w2)
{
  char tmp[64];
  if (w1.len + 1 + w2.len >= sizeof tmp)
    return false;
  memcpy(tmp, w1.ptr, w1.len);
  tmp[w1.len] = ' ';
  memcpy(tmp + w1.len + 1, w2.ptr, w2.len);
  size_t n = w1.len + 1 + w2.len;
  return find_simple_name(tmp, n) || is_alias_prefix(tmp, n);
}

/* MySQL-style ignored parameters: VARCHAR(255), INT(11), DOUBLE(10, 2). */
static int skip_numeric_params(struct type_parser *tp)
{
  if (!accept(tp, '('))
    return 0;
  int64_t ignored;
  for (int i = 0;; i++) {
    int rc = read_int(tp, &ignored);
    if (rc)
      return rc;
    if (accept(tp, ')'))
      return 0;
    if (i >= 1)
      return syntax_error(tp, "too many parameters");
    if ((rc = expect(tp, ',')))
      return rc;
  }
}

static int check_timezone(struct type_parser *tp, const char *tz)
{
  if (!timezone_get(tz))
    return error_set(tp->err, ERR_BAD_ARGUMENTS, "Cannot load time zone %s", tz);
  return 0;
}

static bool lc_allowed(const struct datatype *t)
{
  if (t->id == TYPE_NULLABLE)
    t = t->children[0];
  switch (t->id) {
  case TYPE_STRING: case TYPE_FIXED_STRING: case TYPE_DATE: case TYPE_DATETIME:
  case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64:
  case TYPE_FLOAT32: case TYPE_FLOAT64: case TYPE_UUID: case TYPE_BOOL:
    return true;
  default:
    return false;
  }
}

static int parse_enum(struct type_parser *tp, int width, const struct datatype **out)
{
  int rc;
  if ((rc = expect(tp, '(')))
    return rc;
  uint32_t cap = 8, n = 0;
  const char **names = arena_new_array(tp->a, const char *, cap);
  int16_t *values = arena_new_array(tp->a, int16_t, cap);
  int64_t next = 1;
  bool fits8 = true;
  for (;;) {
    char *name;
    size_t name_len;
    if ((rc = read_string(tp, &name, &name_len)))
      return rc;
    int64_t v = next;
    if (accept(tp, '=') && (rc = read_int(tp, &v)))
      return rc;
    if (v < INT16_MIN || v > INT16_MAX || (width == 8 && (v < INT8_MIN || v > INT8_MAX)))
      return error_set(tp->err, ERR_ARGUMENT_OUT_OF_BOUND, "Value %lld for element '%s' exceeds range of Enum%d",
                       (long long)v, name, width ? width : 16);
    if (v < INT8_MIN || v > INT8_MAX)
      fits8 = false;
    for (uint32_t i = 0; i < n; i++) {
      if (strcmp(names[i], name) == 0)
        return error_set(tp->err, ERR_BAD_ARGUMENTS, "Duplicate names in enum: '%s' = %lld and %d", name,
                         (long long)v, values[i]);
      if (values[i] == v)
        return error_set(tp->err, ERR_BAD_ARGUMENTS, "Duplicate values in enum: '%s' = %lld and '%s'", name,
                         (long long)v, names[i]);
    }
    if (n == cap) {
      if (cap >= ENUM_VALUES_MAX)
        return syntax_error(tp, "too many enum elements");
      names = arena_realloc(tp->a, names, cap * sizeof *names, 2 * cap * sizeof *names);
      values = arena_realloc(tp->a, values, cap * sizeof *values, 2 * cap * sizeof *values);
      cap *= 2;
    }
    names[n] = name;
    values[n] = (int16_t)v;
    n++;
    next = v + 1;
    if (accept(tp, ')'))
      break;
    if ((rc = expect(tp, ',')))
      return rc;
  }
  /* ClickHouse keeps enum elements ordered by value. */
  for (uint32_t i = 1; i < n; i++)
    for (uint32_t j = i; j > 0 && values[j - 1] > values[j]; j--) {
      int16_t tv = values[j];
      values[j] = values[j - 1];
      values[j - 1] = tv;
      const char *tn = names[j];
      names[j] = names[j - 1];
      names[j - 1] = tn;
    }
  struct datatype *t = type_new(tp->a, width == 16 || (width == 0 && !fits8) ? TYPE_ENUM16 : TYPE_ENUM8, 0);
  t->names = names;
  t->enum_values = values;
  t->enum_count = n;
  *out = t;
  return 0;
}

/* Tuple(T, U), Tuple(a T, b U), Nested(a T, b U): after the '('. */
static int parse_elements(struct type_parser *tp, enum type_id id, const struct datatype **out)
{
  uint32_t cap = 4, n = 0;
  const struct datatype **types = arena_new_array(tp->a, const struct datatype *, cap);
  const char **names = arena_new_array(tp->a, const char *, cap);
  bool any_named = false, any_unnamed = false;
  int rc;
  if (id == TYPE_TUPLE && accept(tp, ')'))
    goto done;  /* Tuple() is allowed by newer ClickHouse */
  for (;;) {
    skip_ws(tp);
    const char *save = tp->p;
    char *name = NULL;
    bool named = false;
    if (tp->p < tp->end && (*tp->p == '`' || *tp->p == '"')) {
      named = true;
    } else {
      struct slice w = read_word(tp);
      const char *after_word = tp->p;
      skip_ws(tp);
      if (w.len && tp->p > after_word && tp->p < tp->end && is_ident_start(*tp->p)) {
        struct slice w2 = read_word(tp);
        named = !words_join_alias(w, w2);
      }
      tp->p = save;
    }
    if (named) {
      if ((rc = read_name(tp, &name)))
        return rc;
      any_named = true;
    } else {
      any_unnamed = true;
      if (id == TYPE_NESTED)
        return syntax_error(tp, "Nested elements need names");
    }
    if (n == cap) {
      if (cap >= TUPLE_ELEMENTS_MAX)
        return syntax_error(tp, "too many elements");
      types = arena_realloc(tp->a, types, cap * sizeof *types, 2 * cap * sizeof *types);
      names = arena_realloc(tp->a, names, cap * sizeof *names, 2 * cap * sizeof *names);
      cap *= 2;
    }
    if ((rc = parse_type(tp, &types[n])))
      return rc;
    names[n++] = name;
    if (accept(tp, ')'))
      break;
    if ((rc = expect(tp, ',')))
      return rc;
  }
  if (any_named && any_unnamed)
    return syntax_error(tp, "mixed named and unnamed tuple elements");
  for (uint32_t i = 0; any_named && i < n; i++)
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(names[i], names[j]) == 0)
        return error_set(tp->err, ERR_BAD_ARGUMENTS, "Names of tuple elements must be unique: duplicate '%s'",
                         names[i]);
done:;
  struct datatype *t = type_new(tp->a, id, n);
  if (n)
    memcpy((void *)t->children, types, n * sizeof *types);
  t->names = any_named ? names : NULL;
  *out = t;
  return 0;
}

static int parse_one_child(struct type_parser *tp, const struct datatype **child)
{
  int rc;
  if ((rc = expect(tp, '(')) || (rc = parse_type(tp, child)) || (rc = expect(tp, ')')))
    return rc;
  return 0;
}

static int parse_type(struct type_parser *tp, const struct datatype **out)
{
  int rc;
  if (++tp->depth > TYPE_DEPTH_MAX)
    return error_set(tp->err, ERR_TOO_DEEP_AST, "Data type is nested too deeply (max %d)", TYPE_DEPTH_MAX);
  struct slice w = read_word(tp);
  if (!w.len)
    return syntax_error(tp, "expected a type name");
  /* Extend over multi-word aliases: DOUBLE PRECISION, INT UNSIGNED, … */
  while (is_alias_prefix(w.ptr, w.len)) {
    const char *save = tp->p;
    struct slice next = read_word(tp);
    if (!next.len || !words_join_alias(w, next)) {
      tp->p = save;
      break;
    }
    w = slice_make(arena_printf(tp->a, "%.*s %.*s", (int)w.len, w.ptr, (int)next.len, next.ptr), w.len + 1 + next.len);
  }

  const struct type_name *sn = find_simple_name(w.ptr, w.len);
  if (sn) {
    if ((rc = skip_numeric_params(tp)))
      return rc;
    *out = datatype_simple(sn->id);
    goto ok;
  }
#define IS(s) slice_eq_cstr(w, s)
#define IS_NOCASE(s) slice_eq_nocase(w, s)
  if (IS("Nullable")) {
    const struct datatype *c;
    if ((rc = parse_one_child(tp, &c)))
      return rc;
    if (c->id == TYPE_NULLABLE || c->id == TYPE_ARRAY || c->id == TYPE_MAP || c->id == TYPE_TUPLE ||
        c->id == TYPE_LOW_CARDINALITY || c->id == TYPE_NESTED) {
      struct buf b;
      buf_init(&b);
      datatype_format(c, &b);
      rc = error_set(tp->err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Nested type %s cannot be inside Nullable type",
                     buf_cstr(&b));
      buf_free(&b);
      return rc;
    }
    *out = datatype_nullable(tp->a, c);
  } else if (IS("Array")) {
    const struct datatype *c;
    if ((rc = parse_one_child(tp, &c)))
      return rc;
    *out = datatype_array(tp->a, c);
  } else if (IS("LowCardinality")) {
    const struct datatype *c;
    if ((rc = parse_one_child(tp, &c)))
      return rc;
    if (!lc_allowed(c)) {
      struct buf b;
      buf_init(&b);
      datatype_format(c, &b);
      rc = error_set(tp->err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "LowCardinality(%s) is not supported", buf_cstr(&b));
      buf_free(&b);
      return rc;
    }
    *out = datatype_low_cardinality(tp->a, c);
  } else if (IS("Map")) {
    const struct datatype *k, *v;
    if ((rc = expect(tp, '(')) || (rc = parse_type(tp, &k)) || (rc = expect(tp, ',')) ||
        (rc = parse_type(tp, &v)) || (rc = expect(tp, ')')))
      return rc;
    *out = datatype_map(tp->a, k, v);
  } else if (IS("Tuple")) {
    if ((rc = expect(tp, '(')) || (rc = parse_elements(tp, TYPE_TUPLE, out)))
      return rc;
  } else if (IS("Nested")) {
    if ((rc = expect(tp, '(')) || (rc = parse_elements(tp, TYPE_NESTED, out)))
      return rc;
  } else if (IS("FixedString") || IS_NOCASE("BINARY")) {
    int64_t n;
    if ((rc = expect(tp, '(')) || (rc = read_int(tp, &n)) || (rc = expect(tp, ')')))
      return rc;
    if (n <= 0 || n > FIXED_STRING_BYTES_MAX)
      return error_set(tp->err, ERR_ARGUMENT_OUT_OF_BOUND, "FixedString size %lld is out of range", (long long)n);
    *out = datatype_fixed_string(tp->a, (uint32_t)n);
  } else if (IS("DateTime") || IS("DateTime32") || IS_NOCASE("TIMESTAMP")) {
    const char *tz = NULL;
    if (accept(tp, '(')) {
      char *s;
      size_t sl;
      if ((rc = read_string(tp, &s, &sl)) || (rc = expect(tp, ')')) || (rc = check_timezone(tp, s)))
        return rc;
      tz = s;
    }
    *out = datatype_datetime(tp->a, tz);
  } else if (IS("DateTime64")) {
    int64_t p;
    char *tz = NULL;
    size_t sl;
    if ((rc = expect(tp, '(')) || (rc = read_int(tp, &p)))
      return rc;
    if (accept(tp, ',') && ((rc = read_string(tp, &tz, &sl)) || (rc = check_timezone(tp, tz))))
      return rc;
    if ((rc = expect(tp, ')')))
      return rc;
    if (p < 0 || p > 9)
      return error_set(tp->err, ERR_ARGUMENT_OUT_OF_BOUND,
                       "Scale %lld is out of bounds (max scale: 9) for DateTime64", (long long)p);
    *out = datatype_datetime64(tp->a, (uint32_t)p, tz);
  } else if (IS("Enum8")) {
    if ((rc = parse_enum(tp, 8, out)))
      return rc;
  } else if (IS("Enum16")) {
    if ((rc = parse_enum(tp, 16, out)))
      return rc;
  } else if (IS("Enum") || IS_NOCASE("ENUM")) {
    if ((rc = parse_enum(tp, 0, out)))
      return rc;
  } else if (w.len > 8 && memcmp(w.ptr, "Interval", 8) == 0) {
    for (size_t u = 0; u < sizeof interval_names / sizeof interval_names[0]; u++)
      if (slice_eq_cstr(slice_make(w.ptr + 8, w.len - 8), interval_names[u])) {
        *out = datatype_interval(tp->a, (enum interval_unit)u);
        goto ok;
      }
    goto unknown;
  } else {
    goto unknown;
  }
#undef IS
#undef IS_NOCASE
ok:
  tp->depth--;
  return 0;
unknown:
  return error_set(tp->err, ERR_UNKNOWN_TYPE, "Unknown data type family: %.*s", (int)w.len, w.ptr);
}

int datatype_parse(struct arena *a, const char *text, size_t len, const struct datatype **out, struct error *err)
{
  struct type_parser tp = { .p = text, .end = text + len, .start = text, .a = a, .err = err };
  const struct datatype *t;
  int rc = parse_type(&tp, &t);
  if (rc)
    return rc;
  skip_ws(&tp);
  if (tp.p != tp.end)
    return syntax_error(&tp, "unexpected text after the type");
  *out = t;
  return 0;
}

/* ---- printing ---- */

static void format_quoted(struct buf *out, const char *s)
{
  buf_append_char(out, '\'');
  for (; *s; s++) {
    if (*s == '\'' || *s == '\\')
      buf_append_char(out, '\\');
    buf_append_char(out, *s);
  }
  buf_append_char(out, '\'');
}

static bool name_needs_quotes(const char *s)
{
  if (!is_ident_start(*s))
    return true;
  for (; *s; s++)
    if (!is_ident_char(*s))
      return true;
  return false;
}

void datatype_format(const struct datatype *t, struct buf *out)
{
  static const char *const plain[TYPE_ID_COUNT] = {
    [TYPE_NOTHING] = "Nothing", [TYPE_UINT8] = "UInt8", [TYPE_UINT16] = "UInt16", [TYPE_UINT32] = "UInt32",
    [TYPE_UINT64] = "UInt64", [TYPE_INT8] = "Int8", [TYPE_INT16] = "Int16", [TYPE_INT32] = "Int32",
    [TYPE_INT64] = "Int64", [TYPE_FLOAT32] = "Float32", [TYPE_FLOAT64] = "Float64", [TYPE_BOOL] = "Bool",
    [TYPE_STRING] = "String", [TYPE_DATE] = "Date", [TYPE_UUID] = "UUID",
  };
  switch (t->id) {
  case TYPE_FIXED_STRING:
    buf_printf(out, "FixedString(%u)", t->size);
    return;
  case TYPE_DATETIME:
    buf_append_cstr(out, "DateTime");
    if (t->timezone) {
      buf_append_char(out, '(');
      format_quoted(out, t->timezone);
      buf_append_char(out, ')');
    }
    return;
  case TYPE_DATETIME64:
    buf_printf(out, "DateTime64(%u", t->size);
    if (t->timezone) {
      buf_append_cstr(out, ", ");
      format_quoted(out, t->timezone);
    }
    buf_append_char(out, ')');
    return;
  case TYPE_ENUM8:
  case TYPE_ENUM16:
    buf_append_cstr(out, t->id == TYPE_ENUM8 ? "Enum8(" : "Enum16(");
    for (uint32_t i = 0; i < t->enum_count; i++) {
      if (i)
        buf_append_cstr(out, ", ");
      format_quoted(out, t->names[i]);
      buf_printf(out, " = %d", t->enum_values[i]);
    }
    buf_append_char(out, ')');
    return;
  case TYPE_INTERVAL:
    buf_append_cstr(out, "Interval");
    buf_append_cstr(out, t->size < sizeof interval_names / sizeof interval_names[0] ? interval_names[t->size] : "?");
    return;
  case TYPE_NULLABLE:
  case TYPE_ARRAY:
  case TYPE_LOW_CARDINALITY:
  case TYPE_MAP:
    buf_append_cstr(out, t->id == TYPE_NULLABLE ? "Nullable(" : t->id == TYPE_ARRAY ? "Array(" :
                         t->id == TYPE_MAP ? "Map(" : "LowCardinality(");
    for (uint32_t i = 0; i < t->child_count; i++) {
      if (i)
        buf_append_cstr(out, ", ");
      datatype_format(t->children[i], out);
    }
    buf_append_char(out, ')');
    return;
  case TYPE_TUPLE:
  case TYPE_NESTED:
    buf_append_cstr(out, t->id == TYPE_TUPLE ? "Tuple(" : "Nested(");
    for (uint32_t i = 0; i < t->child_count; i++) {
      if (i)
        buf_append_cstr(out, ", ");
      if (t->names && t->names[i]) {
        if (name_needs_quotes(t->names[i])) {
          buf_append_char(out, '`');
          for (const char *s = t->names[i]; *s; s++) {
            if (*s == '`' || *s == '\\')
              buf_append_char(out, '\\');
            buf_append_char(out, *s);
          }
          buf_append_char(out, '`');
        } else {
          buf_append_cstr(out, t->names[i]);
        }
        buf_append_char(out, ' ');
      }
      datatype_format(t->children[i], out);
    }
    buf_append_char(out, ')');
    return;
  default:
    buf_append_cstr(out, t->id < TYPE_ID_COUNT && plain[t->id] ? plain[t->id] : "Unknown");
    return;
  }
}

const char *datatype_name(struct arena *a, const struct datatype *t)
{
  struct buf b;
  buf_init(&b);
  datatype_format(t, &b);
  char *s = arena_strndup(a, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

/* ---- predicates ---- */

static bool str_eq_opt(const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

bool datatype_equal(const struct datatype *a, const struct datatype *b)
{
  if (a == b)
    return true;
  if (!a || !b || a->id != b->id || a->size != b->size || a->child_count != b->child_count ||
      a->enum_count != b->enum_count || !str_eq_opt(a->timezone, b->timezone))
    return false;
  for (uint32_t i = 0; i < a->child_count; i++) {
    if (!datatype_equal(a->children[i], b->children[i]))
      return false;
    if ((a->names || b->names) &&
        !str_eq_opt(a->names ? a->names[i] : NULL, b->names ? b->names[i] : NULL))
      return false;
  }
  for (uint32_t i = 0; i < a->enum_count; i++)
    if (a->enum_values[i] != b->enum_values[i] || strcmp(a->names[i], b->names[i]) != 0)
      return false;
  return true;
}

size_t datatype_fixed_bytes(const struct datatype *t)
{
  switch (t->id) {
  case TYPE_UINT8: case TYPE_INT8: case TYPE_BOOL: case TYPE_ENUM8: return 1;
  case TYPE_UINT16: case TYPE_INT16: case TYPE_DATE: case TYPE_ENUM16: return 2;
  case TYPE_UINT32: case TYPE_INT32: case TYPE_FLOAT32: case TYPE_DATETIME: return 4;
  case TYPE_UINT64: case TYPE_INT64: case TYPE_FLOAT64: case TYPE_DATETIME64: case TYPE_INTERVAL: return 8;
  case TYPE_UUID: return 16;
  case TYPE_FIXED_STRING: return t->size;
  case TYPE_LOW_CARDINALITY: return 4;
  default: return 0;
  }
}

bool datatype_is_integer(const struct datatype *t)
{
  return t->id >= TYPE_UINT8 && t->id <= TYPE_INT64;
}

bool datatype_is_signed(const struct datatype *t)
{
  return (t->id >= TYPE_INT8 && t->id <= TYPE_INT64) || t->id == TYPE_FLOAT32 || t->id == TYPE_FLOAT64 ||
         t->id == TYPE_DATETIME64 || t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16 || t->id == TYPE_INTERVAL;
}

bool datatype_is_float(const struct datatype *t) { return t->id == TYPE_FLOAT32 || t->id == TYPE_FLOAT64; }
bool datatype_is_numeric(const struct datatype *t) { return datatype_is_integer(t) || datatype_is_float(t); }

bool datatype_is_date_or_time(const struct datatype *t)
{
  return t->id == TYPE_DATE || t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64;
}

bool datatype_is_string_like(const struct datatype *t)
{
  t = datatype_unwrap(t);
  return t->id == TYPE_STRING || t->id == TYPE_FIXED_STRING;
}

const struct datatype *datatype_unwrap(const struct datatype *t)
{
  while (t->id == TYPE_NULLABLE || t->id == TYPE_LOW_CARDINALITY)
    t = t->children[0];
  return t;
}
