/* Shared internals of the input formats (query/input*.c): the parser
 * struct, the per-family hooks, column append/rollback helpers and the
 * value parsers several families share. Private to the input files.
 *
 * A family parses one row (Native: one block) from a cursor over buffered
 * bytes. A row is a transaction: when the bytes run out before the row is
 * complete and more may come, the family returns INPUT_NEED_MORE, the
 * driver (input.c) truncates every column back to the row's start and
 * retries once enough further bytes have arrived. So families never keep
 * state across a row boundary except what their prefix (header) set up. */
#ifndef SPANHOUSE_QUERY_INPUT_INT_H
#define SPANHOUSE_QUERY_INPUT_INT_H

#include "base/timezone.h"
#include "query/input.h"

/* Results of family hooks besides 0 and error codes (which are > 0). */
enum { INPUT_NEED_MORE = -1, INPUT_END = -2 };

enum input_kind {
  IK_TSV, IK_TSKV, IK_CSV, IK_VALUES,
  IK_JSON_EACH_ROW, IK_JSON_COMPACT_EACH_ROW, IK_JSON, IK_JSON_COMPACT,
  IK_ROW_BINARY, IK_NATIVE, IK_OUTPUT_ONLY
};

enum input_flag {
  IF_NAMES = 1 << 0,     /* header row of names */
  IF_TYPES = 1 << 1,     /* … then of types */
  IF_RAW = 1 << 2,       /* TSV without escapes */
  IF_STRINGS = 1 << 3,   /* JSON*Strings*: every value is a JSON string */
};

struct input_format_desc {
  const char *name;
  enum input_kind kind;
  unsigned flags;
};

/* Bytes of the row being parsed: [p, end); eof = nothing follows end. */
struct input_cursor {
  const char *p;
  const char *end;
  bool eof;
};

struct input_parser;

struct input_family {
  /* Reads the header/prefix; 0, INPUT_NEED_MORE or an error. NULL = none. */
  int (*prefix)(struct input_parser *p, struct input_cursor *c);
  /* Reads one row (Native: a block), appending one value to every column;
   * 0, INPUT_NEED_MORE, INPUT_END (no more rows; end marker consumed) or
   * an error code with p->err set. */
  int (*row)(struct input_parser *p, struct input_cursor *c);
  /* After a bad row, skips to where the next row starts (allow_errors_*);
   * 0 or INPUT_NEED_MORE. NULL = the format cannot resynchronise. */
  int (*skip_row)(struct input_parser *p, struct input_cursor *c);
};

extern const struct input_family input_family_tsv, input_family_tskv, input_family_csv, input_family_values;
extern const struct input_family input_family_json_each_row, input_family_json_compact_each_row;
extern const struct input_family input_family_json;
extern const struct input_family input_family_row_binary, input_family_native;

/* What went wrong in a text row, for ClickHouse's per-column diagnostic. */
enum diag_fail {
  DIAG_NONE,
  DIAG_VALUE,        /* the value parser raised an error */
  DIAG_FIELD_DELIM,  /* the field parsed but no field delimiter followed */
  DIAG_ROW_END,      /* all fields parsed but the row did not end */
};

struct input_diag {
  bool enabled;                  /* the family fills spans (TSV, CSV) */
  uint32_t fields;               /* fields with recorded spans */
  uint32_t cap;
  const char **start;            /* per file field: text span */
  const char **stop;
  int32_t *column;               /* per file field: column, -1 skipped */
  enum diag_fail fail;
  uint32_t fail_field;
  int32_t fail_column;
  const char *fail_start;        /* failing field's text … */
  const char *fail_stop;         /* … and where parsing stopped */
  const char *lim;               /* end of the row's fields (its '\n' or the end of data) */
  const char *buf_end;           /* end of the bytes at hand */
  char delim;                    /* field delimiter ('\t', ',') */
  const char *context;           /* "(while reading the value of key x)" etc., or NULL */
};

struct input_scratch {
  const struct datatype *type;
  struct column *col;
};

/* String → key cache of one LowCardinality(String) column of the current
 * block: the hit path of a dictionary lookup without column.c's staging. */
struct input_lc_cache {
  const struct column *col;            /* NULL = free */
  uint32_t *slots;                     /* key + 1, 0 = empty (heap) */
  uint32_t mask;
  uint32_t count;
};

struct input_parser {
  struct arena *arena;                 /* parser lifetime (the caller's) */
  const struct input_format_desc *desc;
  const struct input_family *family;
  struct input_options opts;
  const struct time_zone *tz;          /* DateTime columns without their own zone */
  uint32_t column_count;
  const char *const *names;
  size_t *name_lens;
  const struct datatype *const *types;
  struct error *err;                   /* of the current call */
  int failed;                          /* error code once failed */
  const char *failed_message;

  /* Input fields → columns (header rows, RowBinaryWithNames, Native). */
  uint32_t field_count;
  int32_t *field_column;               /* -1 = not a column: skip */
  const struct datatype **field_type;  /* type of each field when the input says (for skipping) */
  bool *seen;                          /* per column: seen in this row (keyed formats) or mapped by the header */
  uint32_t unmapped;                   /* columns the header left out (defaults every row) */
  uint32_t *name_slots;                /* open hash of column names: index + 1, 0 = empty */
  uint32_t name_slot_mask;

  bool prefix_done;
  bool ended;                          /* the family saw the end of the data */
  bool finished;

  /* Buffering of an incomplete row. */
  struct buf pending;
  size_t pending_pos;
  size_t retry_bytes;                  /* retry the partial row once this many bytes wait */
  uint64_t bytes;                      /* bytes consumed */

  /* Blocks. */
  struct input_block *cur;
  struct column **cols;                /* cur's columns */
  uint32_t cur_rows;
  uint64_t cur_bytes;
  uint32_t hint_rows;                  /* capacity for the next block */
  uint64_t *hint_chars;                /* per column: chars capacity for the next block */
  uint32_t *omitted_cap;               /* per column: bytes in cur->omitted[i] */
  struct input_block *done_head, *done_tail;
  uint64_t rows;
  uint64_t skipped;

  /* Scratch. */
  struct input_scratch *scratch;       /* LowCardinality staging columns, one per dictionary type */
  uint32_t scratch_count, scratch_cap;
  struct input_lc_cache *lc_caches;    /* heap */
  uint32_t lc_cache_count;
  struct arena unit_arena;             /* reset per row/block (Native types, conversions) */
  struct buf tmp;                      /* unescaping */
  const char *tz_names[4];             /* small cache of resolved zones */
  const struct time_zone *tz_zones[4];
  uint32_t tz_next;

  struct input_diag diag;
  void *state;                         /* family-specific */
};

/* ---- driver services (input.c) ---- */
/* Index of the column named s, or -1. */
int32_t input_column_index(const struct input_parser *p, const char *s, size_t len);
/* Maps header names (n of them) to columns as ClickHouse does with
 * input_format_with_names_use_header: unknown → INCORRECT_DATA unless
 * skip_unknown_fields, duplicates → INCORRECT_DATA. */
int input_map_header(struct input_parser *p, uint32_t n, const char *const *names, const size_t *lens);
/* Checks a types header against the mapped columns (with_types_use_header). */
int input_check_header_types(struct input_parser *p, uint32_t n, const char *const *types, const size_t *lens);
/* Appends the default to every column not marked in p->seen (omitted). */
void input_fill_unseen(struct input_parser *p);
/* Appends the column's default and marks the value as omitted. */
void input_append_omitted(struct input_parser *p, uint32_t col);
/* Zone of a DateTime/DateTime64 type (its own, else the parser's). */
const struct time_zone *input_zone(struct input_parser *p, const struct datatype *t);
/* An empty staging column of type t (shared; valid until the next call). */
struct column *input_scratch(struct input_parser *p, const struct datatype *t);
/* Records a field span for diagnostics (no-op unless enabled). */
void input_diag_field_grow(struct input_parser *p, uint32_t field);
static inline void input_diag_field(struct input_parser *p, uint32_t field, int32_t col, const char *start,
                                    const char *stop)
{
  struct input_diag *d = &p->diag;
  if (!d->enabled)
    return;
  if (field >= d->cap)
    input_diag_field_grow(p, field);
  d->start[field] = start;
  d->stop[field] = stop;
  d->column[field] = col;
  if (field + 1 > d->fields)
    d->fields = field + 1;
}
void input_diag_fail(struct input_parser *p, enum diag_fail kind, uint32_t field, int32_t col, const char *start,
                     const char *stop);

/* ---- errors with ClickHouse's wording ---- */
/* "Cannot parse input: expected '<what>' before: '<text>'" or "… at end of stream." (27) */
int input_error_expected(struct input_parser *p, const char *what, const char *at, const char *end);
/* Appends a verbose rendering of [s, e) as ClickHouse's verbosePrintString. */
void input_verbose_text(struct buf *out, const char *s, const char *e);

/* ---- columns ---- */
/* Room for one fixed-width value at the end of c; counts the row. */
static inline void *input_push_fixed(struct column *c, size_t width)
{
  if (c->rows >= c->capacity)
    column_reserve(c, 1);
  return (char *)c->data + (size_t)c->rows++ * width;
}
/* Room for n more bytes in a String column; returns where they go. */
char *input_chars_reserve(struct column *c, size_t n);
/* Closes a String row of n bytes written at the reserved position. */
static inline void input_string_commit(struct column *c, size_t n)
{
  if (c->rows >= c->capacity)
    column_reserve(c, 1);
  c->chars_len += n;
  c->offsets[c->rows++] = c->chars_len;
}
void input_append_string(struct column *c, const char *s, size_t n);
/* Drops rows ≥ rows (with their children); LowCardinality dictionaries keep
 * values added meanwhile (harmless: each value is still there once). */
void input_column_truncate(struct column *c, uint32_t rows);
/* The default for a NULL into c: NULL if c can hold one, else the type's
 * default if null_as_default, else INCORRECT_DATA. */
int input_append_null(struct input_parser *p, struct column *c);
bool input_type_is_nullable(const struct datatype *t);   /* Nullable or LowCardinality(Nullable) */
/* Appends a LowCardinality value staged in scratch row 0, and empties scratch. */
void input_lc_commit(struct input_parser *p, struct column *lc, struct column *scratch);

/* ---- text values (input_text.c) ---- */
/* Plain text (TSV after unescaping, CSV field contents, JSON string
 * contents): parses a value of c's type starting at *sp, stopping at the
 * first byte that is not part of it (*sp moves there). Strings and enum
 * names take everything up to e. Numbers with no digits give 0 and do not
 * move *sp (the caller's delimiter check then fails, as in ClickHouse). */
int input_text_plain(struct input_parser *p, struct column *c, const char **sp, const char *e);
/* The whole of [s, e) as a value; leftover bytes → "expected '<expect>'". */
int input_text_whole(struct input_parser *p, struct column *c, const char *s, const char *e, const char *expect);
/* Quoted literal syntax (Values, and composite values in TSV/CSV):
 * 'strings', NULL, numbers, [arrays], (tuples), {maps}. */
int input_text_quoted(struct input_parser *p, struct column *c, const char **sp, const char *e);
/* Unescapes TSV/quoted-string escapes of [s, e) onto out (ClickHouse's
 * parseComplexEscapeSequence rules); error on a dangling backslash. */
int input_unescape(struct input_parser *p, const char *s, const char *e, struct buf *out);
/* Scalar number parsers shared with JSON: stop at the first unused byte. */
int input_parse_integer(struct input_parser *p, struct column *c, const char **sp, const char *e);
int input_parse_float(struct input_parser *p, struct column *c, const char **sp, const char *e);
/* Date/DateTime/DateTime64 from a number (JSON/Values numeric literal):
 * days, seconds, ticks (integer) or seconds with a fraction. */
int input_datetime_from_number(struct input_parser *p, struct column *c, const char *s, const char *e);
bool input_type_is_numeric_text(const struct datatype *t);  /* numbers, dates: "is not like" diagnostics */

/* ---- JSON helpers (input_json.c) shared with nothing else ---- */

#endif
