/* In-memory columns and blocks: the unit every layer passes around.
 *
 * Layout (DESIGN.md "Data model"), one struct for all types:
 *  - fixed-width types: `data` holds rows * datatype_fixed_bytes values,
 *    little-endian, packed (Date uint16, DateTime uint32, DateTime64 int64,
 *    UUID 16 bytes, FixedString N bytes, Enum8 int8, Bool uint8).
 *  - String: `offsets[i]` = end of row i in `chars` (start = offsets[i-1],
 *    or 0); no terminating NULs.
 *  - Array(T): `offsets[i]` = end of row i in children[0] (the elements).
 *  - Map(K, V): offsets as Array; children[0] keys, children[1] values.
 *  - Tuple: children[i] per element, each with `rows` rows.
 *  - Nullable(T): `nulls[i]` = 1 for NULL; children[0] holds a value (the
 *    type's default) for every row, NULL or not.
 *  - LowCardinality(T): `data` holds uint32 keys; children[0] is the
 *    dictionary (a column of T, where key 0 is the default value).
 *  - is_const: the column stores exactly one row that stands for all `rows`
 *    rows (a literal, or a function of literals). Use column_row() to index.
 * All buffers come from the column's arena; a column dies with its arena. */
#ifndef SPANHOUSE_BASE_COLUMN_H
#define SPANHOUSE_BASE_COLUMN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/datatype.h"
#include "base/timezone.h"

struct column {
  const struct datatype *type;
  uint32_t rows;
  uint32_t capacity;             /* rows that fit in data/offsets/nulls without growing */
  bool is_const;
  void *data;
  uint64_t *offsets;
  char *chars;
  uint64_t chars_len;
  uint64_t chars_cap;
  uint8_t *nulls;
  struct column **children;
  uint32_t child_count;
  struct arena *arena;
  struct column_dict_index *dict_index;  /* LowCardinality: value → key hash, private to column.c, rebuilt lazily */
};

struct block {
  uint32_t rows;
  uint32_t column_count;
  struct column **columns;
  const char **names;            /* output names, parallel to columns */
};

/* ---- creation ---- */
struct column *column_create(struct arena *a, const struct datatype *type, uint32_t capacity);
/* A constant column of `rows` rows whose single value is row `row` of src. */
struct column *column_const_from(struct arena *a, const struct column *src, uint32_t row, uint32_t rows);
/* Full (non-const) copy of a const column; returns col itself when not const. */
struct column *column_materialize(struct arena *a, const struct column *col);
void column_reserve(struct column *c, uint32_t rows);       /* room for `rows` more rows */

static inline uint32_t column_row(const struct column *c, uint32_t row) { return c->is_const ? 0 : row; }

/* ---- appending (the column must not be const) ---- */
void column_append_default(struct column *c);               /* 0, '', [], NULL for Nullable */
void column_append_null(struct column *c);                  /* Nullable only */
void column_append_u64(struct column *c, uint64_t v);       /* any unsigned/Bool/Date/DateTime/Enum width, truncating */
void column_append_i64(struct column *c, int64_t v);        /* any integer width, DateTime64 */
void column_append_f64(struct column *c, double v);         /* Float32/Float64 */
void column_append_bytes(struct column *c, const void *p, size_t n);  /* String; FixedString (zero-padded) */
void column_append_from(struct column *dst, const struct column *src, uint32_t row);  /* same type */
void column_append_range(struct column *dst, const struct column *src, uint32_t start, uint32_t count);
/* One stretch of a gather: `count` (>= 1) consecutive rows from `row` of source `source`. */
struct column_run {
  uint32_t source;               /* index into the gather's sources */
  uint32_t row;                  /* first row in that source */
  uint32_t count;                /* rows */
};
/* Appends the rows of every run, in order: the result of column_append_range
 * per run, built in one typed pass per column (string bytes sized once,
 * LowCardinality keys mapped once per source key). srcs[i] may be NULL when
 * no run names i. Temporaries are freed before returning. */
void column_gather(struct column *dst, const struct column *const *srcs, uint32_t src_count,
                   const struct column_run *runs, uint32_t run_count);
/* Array/Map: after appending the elements of a row to the children, close the row. */
void column_close_array_row(struct column *c);
/* Nullable: mark a value appended to children[0] as present. */
void column_mark_not_null(struct column *c);
/* Tuple: after appending one value to every child, count the row. */
void column_close_tuple_row(struct column *c);

/* ---- reading ---- */
bool column_is_null(const struct column *c, uint32_t row); /* false for non-Nullable */
uint64_t column_get_u64(const struct column *c, uint32_t row);  /* unsigned/Bool/Date/DateTime/Enum, widening */
int64_t column_get_i64(const struct column *c, uint32_t row);   /* signed ints, DateTime64, Enum, widening; unsigned cast */
double column_get_f64(const struct column *c, uint32_t row);    /* any numeric, converting */
struct slice column_get_bytes(const struct column *c, uint32_t row);  /* String, FixedString, LowCardinality(String) */
void column_array_range(const struct column *c, uint32_t row, uint64_t *start, uint64_t *end);

/* ---- whole-column operations (results in arena a; inputs untouched) ---- */
struct column *column_filter(struct arena *a, const struct column *c, const uint8_t *keep, uint32_t kept_rows);
struct column *column_take(struct arena *a, const struct column *c, const uint32_t *rows, uint32_t count);
struct column *column_slice(struct arena *a, const struct column *c, uint32_t start, uint32_t count);

/* Row comparison for sorting: <0, 0, >0. NULLs sort by nulls_first; NaN
 * sorts like ClickHouse (after all numbers for ascending). Like ClickHouse's
 * nan_direction_hint, nulls_first makes NULL and NaN compare smaller than
 * every value, otherwise larger; the caller negates the result for DESC, so
 * `ORDER BY x DESC` (NULLs last) passes nulls_first = true. NULL equals NULL,
 * NaN equals NaN and -0.0 equals 0.0 (what GROUP BY and DISTINCT need). Either
 * side may be LowCardinality or const; numeric types may differ. */
int column_compare_rows(const struct column *a, uint32_t ra, const struct column *b, uint32_t rb, bool nulls_first);
uint64_t column_hash_row(const struct column *c, uint32_t row, uint64_t seed);
bool column_rows_equal(const struct column *a, uint32_t ra, const struct column *b, uint32_t rb);

/* Renders one value as ClickHouse's toString() does (no quoting; dates as
 * 'YYYY-MM-DD', DateTime in its zone, floats shortest round-trip). */
void column_format_value(const struct column *c, uint32_t row, struct buf *out);
/* The quoted text form used inside composite values and by the Values
 * format: strings, dates, UUIDs and enum names in single quotes with
 * backslash escapes; NULL as NULL. */
void column_format_quoted(const struct column *c, uint32_t row, struct buf *out);
/* Both of the above with the zone for DateTime columns without their own
 * (NULL = timezone_default()). */
void column_format_value_tz(const struct column *c, uint32_t row, const struct time_zone *tz, bool quoted,
                            struct buf *out);
/* ClickHouse's float text: shortest round-trip digits, plain notation for
 * decimal exponents -6..20, else 1e100 / 1.5e-7; inf, -inf, nan. */
void column_format_f64(double v, struct buf *out);
void column_format_f32(float v, struct buf *out);
/* Appends s as a single-quoted literal with ClickHouse's escapes. */
void column_format_quoted_string(const char *s, size_t len, struct buf *out);

/* ---- blocks ---- */
struct block *block_create(struct arena *a, uint32_t column_count);
uint64_t column_byte_size(const struct column *c);          /* approximate bytes held (for read_bytes, memory) */

#endif
