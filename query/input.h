/* Input formats (private to query/): streaming parsers for the data of
 * `INSERT INTO t [(cols)] FORMAT X <data>` and `INSERT … VALUES (…)`.
 * The HTTP layer feeds the data in pieces as it arrives (the statement text
 * after data_offset, then the body in ~64 KiB pieces); completed blocks are
 * taken while parsing goes on, so a body of any size is never held whole —
 * only the row being parsed is buffered. A piece may end at any byte.
 *
 * Names are ClickHouse's (case-sensitive, with its aliases). Unknown names
 * are UNKNOWN_FORMAT (73); formats that only write (Pretty, Vertical, Null)
 * are FORMAT_IS_NOT_SUITABLE_FOR_INPUT (85). Errors carry ClickHouse's
 * wording, the row number (`: (at row N)`) and, for text formats, the
 * per-column diagnostic ClickHouse prints. docs/input-formats.md lists the
 * formats, the accepted value spellings and where we differ.
 *
 * Life cycle: input_parser_create → (input_parser_feed, then take blocks)* →
 * input_parser_finish → take the last blocks. Any error is final: further
 * feed/finish calls return it again, and the caller discards every block of
 * the INSERT (all-or-nothing is the caller's job). One thread at a time. */
#ifndef SPANHOUSE_QUERY_INPUT_H
#define SPANHOUSE_QUERY_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/column.h"
#include "base/error.h"

/* Settings that shape parsing; input_options_init gives ClickHouse's
 * defaults (names in the comments are the settings they come from). */
struct input_options {
  bool skip_unknown_fields;        /* input_format_skip_unknown_fields (1) */
  bool null_as_default;            /* input_format_null_as_default (1): NULL into a non-Nullable column → default */
  bool with_names_use_header;      /* input_format_with_names_use_header (1): map *WithNames columns by name */
  bool with_types_use_header;      /* input_format_with_types_use_header (1): check *WithNamesAndTypes types */
  bool tsv_empty_as_default;       /* input_format_tsv_empty_as_default (0) */
  bool csv_empty_as_default;       /* input_format_csv_empty_as_default (1) */
  bool csv_allow_single_quotes;    /* format_csv_allow_single_quotes (0) */
  bool csv_allow_double_quotes;    /* format_csv_allow_double_quotes (1) */
  bool csv_trim_whitespaces;       /* input_format_csv_trim_whitespaces (1) */
  bool datetime_best_effort;       /* date_time_input_format = 'best_effort' (fractions, Z, ±hh:mm) */
  bool values_interpret_expressions; /* input_format_values_interpret_expressions (1): an expression is
                                        NOT_IMPLEMENTED rather than a syntax error */
  char csv_delimiter;              /* format_csv_delimiter (',') */
  uint64_t allow_errors_num;       /* input_format_allow_errors_num (0): bad rows to skip (text formats) */
  double allow_errors_ratio;       /* input_format_allow_errors_ratio (0) */
  const char *timezone;            /* zone of DateTime columns without their own; NULL = server zone */
  uint32_t block_rows_max;         /* rows per block (65536); a Native block is never split */
  uint64_t block_bytes_max;        /* input bytes per block (1 MiB) */
};

/* A completed block. Columns follow the create() order and carry its names.
 * The block, its columns and `omitted` live in `arena`, which belongs to
 * whoever took the block: free it all with input_block_destroy. */
struct input_block {
  struct block *block;
  /* Per column: NULL when every row had a value, else one byte per row,
   * 1 = the input had no value there (absent field, empty CSV/TSV field
   * taken as default, NULL into a non-Nullable column) and the type's
   * default was stored — the caller may apply a DEFAULT expression. */
  uint8_t **omitted;
  struct arena arena;
  struct input_block *next;        /* private to the parser */
};

struct input_parser;

struct settings;

/* True if `name` is a format spanhouse can read. */
bool input_format_is_known(const char *name);
void input_options_init(struct input_options *o);
/* input_options_init, then the query's settings (those of settings.def that
 * exist; session_timezone as the zone). o keeps pointers into s. */
void input_options_from_settings(struct input_options *o, const struct settings *s);

/* The parser lives in `a` (the request arena); its buffers and untaken blocks
 * are freed when `a` is reset or destroyed. names/types (column_count ≥ 1)
 * are the INSERT's columns, in order; names must outlive the parser (blocks
 * copy them), types the parser and every block taken from it. */
int input_parser_create(struct arena *a, const char *format, uint32_t column_count, const char *const *names,
                        const struct datatype *const *types, const struct input_options *opts,
                        struct input_parser **out, struct error *err);
/* Parses as much of data as forms complete rows, keeps the rest (the start
 * of the next row) for the next call. data is not referenced after return. */
int input_parser_feed(struct input_parser *p, const char *data, size_t len, struct error *err);
/* End of input: parses what is left (a truncated row is an error) and
 * completes the last block. */
int input_parser_finish(struct input_parser *p, struct error *err);
/* Hands over the oldest completed block, or returns false if none is ready. */
bool input_parser_take_block(struct input_parser *p, struct input_block **out);
/* Frees a taken block with everything in its arena. */
void input_block_destroy(struct input_block *b);

uint64_t input_parser_rows(const struct input_parser *p);          /* rows parsed so far */
uint64_t input_parser_skipped_rows(const struct input_parser *p);  /* bad rows skipped (allow_errors_*) */
uint64_t input_parser_bytes(const struct input_parser *p);         /* input bytes consumed so far */

#endif
