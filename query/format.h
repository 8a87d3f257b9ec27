/* Output formats (private to query/): a writer turns result blocks into
 * bytes in one of ClickHouse's formats, pushing them to a sink as they are
 * produced so results stream. Names are matched as ClickHouse does
 * (case-sensitive, with its aliases: TSV = TabSeparated, …); an unknown name
 * is UNKNOWN_FORMAT (73). */
#ifndef SPANHOUSE_QUERY_FORMAT_H
#define SPANHOUSE_QUERY_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/column.h"
#include "base/error.h"

/* Where formatted bytes go; returns 0 or an error code (client gone). */
struct format_sink {
  int (*write)(void *ctx, const char *data, size_t len);
  void *ctx;
};

struct format_options {
  bool json_quote_64bit_integers;    /* output_format_json_quote_64bit_integers, default true */
  bool json_quote_denormals;         /* output_format_json_quote_denormals, default false */
  bool json_escape_forward_slashes;  /* output_format_json_escape_forward_slashes, default true */
  bool write_statistics;             /* output_format_write_statistics, default true */
  char csv_delimiter;                /* format_csv_delimiter, default ',' */
  uint64_t pretty_max_rows;          /* output_format_pretty_max_rows, default 10000 */
  const char *timezone;              /* zone for DateTime columns without their own */
  /* Zero values of the fields below give ClickHouse's defaults over HTTP. */
  int pretty_color;                  /* output_format_pretty_color: 0 auto (= no ANSI, HTTP is no terminal), 1 on, -1 off */
  bool pretty_grid_ascii;            /* output_format_pretty_grid_charset = 'ASCII' */
  uint64_t pretty_max_column_pad_width;  /* output_format_pretty_max_column_pad_width, 0 = 250 */
  bool tsv_crlf;                     /* output_format_tsv_crlf_end_of_line */
  bool csv_crlf;                     /* output_format_csv_crlf_end_of_line */
  bool json_quote_64bit_floats;      /* output_format_json_quote_64bit_floats */
  bool json_named_tuples_as_arrays;  /* output_format_json_named_tuples_as_objects = 0 */
  bool json_array_of_rows;           /* output_format_json_array_of_rows (JSONEachRow) */
};

/* Final figures some formats print (JSON's rows/statistics). */
struct format_summary {
  uint64_t rows;
  uint64_t rows_before_limit;
  bool has_limit;
  double elapsed_seconds;
  uint64_t read_rows;
  uint64_t read_bytes;
};

struct format_writer;

bool format_is_known(const char *name);
/* The HTTP Content-Type for a format, e.g. "text/tab-separated-values; charset=UTF-8". */
const char *format_content_type(const char *name);
int format_writer_create(struct arena *a, const char *name, const struct format_options *opts,
                         uint32_t column_count, const char *const *names,
                         const struct datatype *const *types, struct format_sink sink,
                         struct format_writer **out, struct error *err);
/* Writes the prefix (headers, JSON "meta") — called once before any block, even for empty results. */
int format_writer_begin(struct format_writer *w, struct error *err);
int format_writer_block(struct format_writer *w, const struct block *b, struct error *err);
/* WITH TOTALS: prints the one-row totals block as ClickHouse does — called
 * at most once, after the last data block and before format_writer_end.
 * TSV/TSKV/CSV: an empty line, then the row; JSON: a "totals" object
 * (JSONCompact: an array) before "rows"; Pretty*: "\nTotals:\n" and a table
 * of its own; Vertical: "\n\nTotals:" and its fields;
 * JSONCompact*EachRowWithNames*: an empty line, then the row. Formats
 * without totals in ClickHouse (JSONEachRow, JSONCompactEachRow without
 * names, Values, RowBinary*, Native, Null) print nothing. NULL or an empty
 * block prints nothing. */
int format_writer_totals(struct format_writer *w, const struct block *totals, struct error *err);
int format_writer_end(struct format_writer *w, const struct format_summary *summary, struct error *err);

#endif
