/* ClickHouse data types: parsing from DDL/CAST text, canonical printing,
 * sizes and predicates. Types are immutable once built; parameterless ones
 * are static singletons (datatype_simple), the rest live in an arena. */
#ifndef SPANHOUSE_BASE_DATATYPE_H
#define SPANHOUSE_BASE_DATATYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/error.h"

enum type_id {
  TYPE_NOTHING,          /* the type of a bare NULL is Nullable(Nothing) */
  TYPE_UINT8, TYPE_UINT16, TYPE_UINT32, TYPE_UINT64,
  TYPE_INT8, TYPE_INT16, TYPE_INT32, TYPE_INT64,
  TYPE_FLOAT32, TYPE_FLOAT64,
  TYPE_BOOL,             /* 1 byte, 0/1 */
  TYPE_STRING,
  TYPE_FIXED_STRING,     /* size = N bytes */
  TYPE_DATE,             /* uint16 days since 1970-01-01 */
  TYPE_DATETIME,         /* uint32 seconds since the epoch; timezone optional */
  TYPE_DATETIME64,       /* int64 ticks of 10^-size seconds; timezone optional */
  TYPE_UUID,             /* 16 bytes: two little-endian uint64 halves, high half first as ClickHouse */
  TYPE_ENUM8,            /* int8 values with names */
  TYPE_ENUM16,           /* int16 values with names */
  TYPE_INTERVAL,         /* int64 count of `size` units (enum interval_unit) */
  TYPE_NULLABLE,         /* children[0] = nested type */
  TYPE_ARRAY,            /* children[0] = element type */
  TYPE_MAP,              /* children[0] = key, children[1] = value */
  TYPE_TUPLE,            /* children[i], names[i] (NULL entries when unnamed) */
  TYPE_LOW_CARDINALITY,  /* children[0] = dictionary type (String, FixedString, numbers, Nullable of those) */
  TYPE_NESTED,           /* DDL only: Nested(a T, b U) expands to Array columns `x.a`, `x.b` */
  TYPE_ID_COUNT
};

enum interval_unit {
  INTERVAL_NANOSECOND, INTERVAL_MICROSECOND, INTERVAL_MILLISECOND, INTERVAL_SECOND, INTERVAL_MINUTE,
  INTERVAL_HOUR, INTERVAL_DAY, INTERVAL_WEEK, INTERVAL_MONTH, INTERVAL_QUARTER, INTERVAL_YEAR
};

struct datatype {
  enum type_id id;
  uint32_t size;                       /* FixedString N; DateTime64 precision 0..9; Interval unit */
  const char *timezone;                /* DateTime/DateTime64 explicit zone, else NULL (server zone) */
  uint32_t child_count;
  const struct datatype *const *children;
  const char *const *names;            /* Tuple/Nested element names; Enum names */
  const int16_t *enum_values;          /* Enum values, parallel to names */
  uint32_t enum_count;
};

/* Static singleton for a parameterless type (numbers, String, Date, DateTime
 * without zone, UUID, Bool, Nothing). NULL for parameterised ids. */
const struct datatype *datatype_simple(enum type_id id);

const struct datatype *datatype_nullable(struct arena *a, const struct datatype *nested);
const struct datatype *datatype_array(struct arena *a, const struct datatype *element);
const struct datatype *datatype_map(struct arena *a, const struct datatype *key, const struct datatype *value);
const struct datatype *datatype_tuple(struct arena *a, const struct datatype *const *elements,
                                      const char *const *names, uint32_t count);
const struct datatype *datatype_low_cardinality(struct arena *a, const struct datatype *dictionary);
const struct datatype *datatype_fixed_string(struct arena *a, uint32_t n);
const struct datatype *datatype_datetime(struct arena *a, const char *timezone);
const struct datatype *datatype_datetime64(struct arena *a, uint32_t precision, const char *timezone);
const struct datatype *datatype_interval(struct arena *a, enum interval_unit unit);

/* Parses a type as written in DDL or CAST: case-sensitive names as
 * ClickHouse, plus its case-insensitive SQL aliases (INT, BIGINT, VARCHAR,
 * TEXT, DOUBLE, FLOAT, BOOLEAN, …). UNKNOWN_TYPE (50) for unknown names,
 * SYNTAX_ERROR for malformed parameters. */
int datatype_parse(struct arena *a, const char *text, size_t len, const struct datatype **out, struct error *err);

/* Canonical ClickHouse spelling: "Nullable(String)", "DateTime('UTC')",
 * "Enum8('a' = 1, 'b' = 2)", "Map(String, UInt64)", "Tuple(a UInt8, b String)". */
void datatype_format(const struct datatype *t, struct buf *out);
const char *datatype_name(struct arena *a, const struct datatype *t);

bool datatype_equal(const struct datatype *a, const struct datatype *b);
/* Bytes per value in the column's `data` for fixed-width types (LowCardinality: 4, its key width);
 * 0 for String, Array, Map, Tuple, Nullable, Nothing. */
size_t datatype_fixed_bytes(const struct datatype *t);
bool datatype_is_integer(const struct datatype *t);        /* (U)Int*, Bool excluded */
bool datatype_is_signed(const struct datatype *t);
bool datatype_is_float(const struct datatype *t);
bool datatype_is_numeric(const struct datatype *t);        /* integer or float */
bool datatype_is_date_or_time(const struct datatype *t);   /* Date, DateTime, DateTime64 */
bool datatype_is_string_like(const struct datatype *t);    /* String, FixedString, LowCardinality(String…) */
/* Strips Nullable and LowCardinality wrappers. */
const struct datatype *datatype_unwrap(const struct datatype *t);

#endif
