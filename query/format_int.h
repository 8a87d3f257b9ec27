/* Shared internals of the output formats (query/format*.c): the writer
 * struct, the per-family hooks and the escaping helpers several families
 * use. Private to the format files. */
#ifndef SPANHOUSE_QUERY_FORMAT_INT_H
#define SPANHOUSE_QUERY_FORMAT_INT_H

#include "base/timezone.h"
#include "query/format.h"

enum format_kind {
  FK_TSV, FK_TSKV, FK_CSV, FK_VALUES,
  FK_JSON, FK_JSON_COMPACT, FK_JSON_EACH_ROW, FK_JSON_COMPACT_EACH_ROW,
  FK_PRETTY, FK_PRETTY_COMPACT, FK_PRETTY_SPACE, FK_VERTICAL,
  FK_NATIVE, FK_ROW_BINARY, FK_NULL
};

enum format_flag {
  FF_NAMES = 1 << 0,        /* header row / prefix of column names */
  FF_TYPES = 1 << 1,        /* … and of type names */
  FF_RAW = 1 << 2,          /* TSV without escaping */
  FF_STRINGS = 1 << 3,      /* JSON*Strings: every value as a JSON string */
  FF_NO_ESCAPES = 1 << 4,   /* Pretty without ANSI bold */
  FF_MONO = 1 << 5,         /* Pretty*MonoBlock: one table for the whole result */
};

struct format_desc {
  const char *name;
  enum format_kind kind;
  unsigned flags;
  const char *content_type;
};

struct format_writer;

/* Hooks of one format family; each appends to w->out and returns 0 or an
 * error code (with w's err filled). The generic layer flushes w->out. */
struct format_ops {
  int (*begin)(struct format_writer *w);
  int (*block)(struct format_writer *w, const struct block *b);
  int (*end)(struct format_writer *w, const struct format_summary *s);
  /* WITH TOTALS: the one-row totals block, after the data; NULL = the format prints none. */
  int (*totals)(struct format_writer *w, const struct block *t);
};

struct format_writer {
  const struct format_desc *desc;
  const struct format_ops *ops;
  struct format_options opts;
  const struct time_zone *tz;         /* for DateTime columns without their own zone */
  struct arena *arena;
  uint32_t column_count;
  const char **names;
  const struct datatype **types;
  struct format_sink sink;
  struct buf out;                     /* pending bytes, flushed after each block */
  struct error *err;                  /* of the current call */
  uint64_t rows;                      /* data rows written so far */
  bool totals_written;                /* format_writer_totals printed something */
  void *state;                        /* family-specific */
};

extern const struct format_ops format_ops_tsv, format_ops_tskv, format_ops_csv, format_ops_values;
extern const struct format_ops format_ops_json, format_ops_json_each_row;
extern const struct format_ops format_ops_pretty, format_ops_vertical;
extern const struct format_ops format_ops_native, format_ops_row_binary;

/* Sends w->out to the sink and empties it. */
int format_flush(struct format_writer *w);
/* Flushes when w->out holds more than a chunk, so huge blocks stream too. */
int format_maybe_flush(struct format_writer *w);

/* ---- text pieces ---- */
void format_u64(struct buf *out, uint64_t v);
void format_i64(struct buf *out, int64_t v);
/* TSV escaping: \b \f \n \r \t \0 \\ \' (ClickHouse writeAnyEscapedString). */
void format_tsv_escaped(struct buf *out, const char *s, size_t len);
/* CSV: "…" with " doubled. */
void format_csv_quoted(struct buf *out, const char *s, size_t len);
/* JSON string with quotes; escapes per options; invalid UTF-8 → U+FFFD. */
void format_json_string(struct buf *out, const char *s, size_t len, bool escape_slash);
/* Display width in a terminal: UTF-8 code points, tabs to the next stop of
 * 8 counted from `prefix`, control characters zero. */
size_t format_text_width(const char *s, size_t len, size_t prefix);
/* Plain text of a value (column_format_value_tz with w's zone, unquoted);
 * NULL as `null_text`. */
void format_plain_value(struct format_writer *w, const struct column *c, uint32_t row, const char *null_text,
                        struct buf *out);
/* The name of an enum value, NULL if it has none. */
const char *format_enum_name(const struct datatype *t, int64_t v);
/* True for columns whose values ClickHouse right-aligns in Pretty (numbers, dates, times). */
bool format_align_right(const struct datatype *t);

#endif
