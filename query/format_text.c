/* Text row formats: TabSeparated (+WithNames, +WithNamesAndTypes, Raw),
 * TSKV, CSV (+WithNames, +WithNamesAndTypes) and Values, with ClickHouse's
 * escaping rules:
 *   TSV     strings escaped (\b \f \n \r \t \0 \\ \'), NULL as \N, composite
 *           values in their quoted text form ([1,2], ['a','b']).
 *   TSVRaw  strings as they are; NULL as \N.
 *   CSV     strings, dates, UUIDs, enums and composites in "…" (" doubled),
 *           numbers bare, NULL as \N, a tuple as one field per element.
 *   Values  (v, v),(v, v) with SQL literals, NULL as NULL. */
#include "query/format_int.h"

/* ---- TSV ---- */

static void tsv_value(struct format_writer *w, const struct column *c, uint32_t row, bool raw, struct buf *out)
{
  if (column_is_null(c, row)) {
    buf_append_cstr(out, "\\N");
    return;
  }
  const struct datatype *t = datatype_unwrap(c->type);
  if (t->id == TYPE_STRING || t->id == TYPE_FIXED_STRING) {
    struct slice s = column_get_bytes(c, row);
    if (raw)
      buf_append_slice(out, s);
    else
      format_tsv_escaped(out, s.ptr, s.len);
    return;
  }
  if ((t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16) && !raw) {
    const char *name = format_enum_name(t, column_get_i64(c, row));
    if (name) {
      format_tsv_escaped(out, name, strlen(name));
      return;
    }
  }
  column_format_value_tz(c, row, w->tz, false, out);
}

static void end_line(struct buf *out, bool crlf)
{
  if (crlf)
    buf_append_char(out, '\r');
  buf_append_char(out, '\n');
}

static void tsv_header_line(struct format_writer *w, bool types)
{
  bool raw = (w->desc->flags & FF_RAW) != 0;
  for (uint32_t i = 0; i < w->column_count; i++) {
    if (i)
      buf_append_char(&w->out, '\t');
    if (types) {
      const char *name = datatype_name(w->arena, w->types[i]);
      if (raw)
        buf_append_cstr(&w->out, name);
      else
        format_tsv_escaped(&w->out, name, strlen(name));
    } else if (raw) {
      buf_append_cstr(&w->out, w->names[i]);
    } else {
      format_tsv_escaped(&w->out, w->names[i], strlen(w->names[i]));
    }
  }
  end_line(&w->out, w->opts.tsv_crlf);
}

static int tsv_begin(struct format_writer *w)
{
  if (w->desc->flags & FF_NAMES)
    tsv_header_line(w, false);
  if (w->desc->flags & FF_TYPES)
    tsv_header_line(w, true);
  return 0;
}

static void tsv_row(struct format_writer *w, const struct block *b, uint32_t r)
{
  bool raw = (w->desc->flags & FF_RAW) != 0;
  for (uint32_t i = 0; i < b->column_count; i++) {
    if (i)
      buf_append_char(&w->out, '\t');
    tsv_value(w, b->columns[i], r, raw, &w->out);
  }
  end_line(&w->out, w->opts.tsv_crlf);
}

static int tsv_block(struct format_writer *w, const struct block *b)
{
  for (uint32_t r = 0; r < b->rows; r++) {
    tsv_row(w, b, r);
    int rc = format_maybe_flush(w);
    if (rc)
      return rc;
  }
  w->rows += b->rows;
  return 0;
}

/* WITH TOTALS: an empty line (a bare \n even with CRLF, as ClickHouse's
 * writeBeforeTotals), then the totals row. */
static int tsv_totals(struct format_writer *w, const struct block *t)
{
  buf_append_char(&w->out, '\n');
  tsv_row(w, t, 0);
  return 0;
}

const struct format_ops format_ops_tsv = { tsv_begin, tsv_block, NULL, tsv_totals };

/* ---- TSKV ---- */

static void tskv_row(struct format_writer *w, const struct block *b, uint32_t r)
{
  for (uint32_t i = 0; i < b->column_count; i++) {
    if (i)
      buf_append_char(&w->out, '\t');
    const char *name = b->names && b->names[i] ? b->names[i] : w->names[i];
    for (const char *p = name; *p; p++) {
      if (*p == '=')
        buf_append_cstr(&w->out, "\\=");
      else
        format_tsv_escaped(&w->out, p, 1);
    }
    buf_append_char(&w->out, '=');
    tsv_value(w, b->columns[i], r, false, &w->out);
  }
  buf_append_char(&w->out, '\n');
}

static int tskv_block(struct format_writer *w, const struct block *b)
{
  for (uint32_t r = 0; r < b->rows; r++) {
    tskv_row(w, b, r);
    int rc = format_maybe_flush(w);
    if (rc)
      return rc;
  }
  w->rows += b->rows;
  return 0;
}

/* TSKV inherits TabSeparated's totals: an empty line, then the row. */
static int tskv_totals(struct format_writer *w, const struct block *t)
{
  buf_append_char(&w->out, '\n');
  tskv_row(w, t, 0);
  return 0;
}

const struct format_ops format_ops_tskv = { NULL, tskv_block, NULL, tskv_totals };

/* ---- CSV ---- */

static void csv_value(struct format_writer *w, const struct column *c, uint32_t row, struct buf *out)
{
  if (column_is_null(c, row)) {
    buf_append_cstr(out, "\\N");
    return;
  }
  const struct datatype *t = datatype_unwrap(c->type);
  switch (t->id) {
  case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32: case TYPE_UINT64:
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INT64:
  case TYPE_FLOAT32: case TYPE_FLOAT64: case TYPE_BOOL: case TYPE_INTERVAL: case TYPE_NOTHING:
    column_format_value_tz(c, row, w->tz, false, out);
    return;
  case TYPE_STRING:
  case TYPE_FIXED_STRING: {
    struct slice s = column_get_bytes(c, row);
    format_csv_quoted(out, s.ptr, s.len);
    return;
  }
  case TYPE_TUPLE: {
    uint32_t r = column_row(c, row);
    for (uint32_t i = 0; i < c->child_count; i++) {
      if (i)
        buf_append_char(out, w->opts.csv_delimiter ? w->opts.csv_delimiter : ',');
      csv_value(w, c->children[i], r, out);
    }
    return;
  }
  default: {
    struct buf tmp;
    buf_init(&tmp);
    column_format_value_tz(c, row, w->tz, false, &tmp);
    format_csv_quoted(out, tmp.data ? tmp.data : "", tmp.len);
    buf_free(&tmp);
    return;
  }
  }
}

static int csv_begin(struct format_writer *w)
{
  char delim = w->opts.csv_delimiter ? w->opts.csv_delimiter : ',';
  for (int line = 0; line < 2; line++) {
    unsigned need = line == 0 ? FF_NAMES : FF_TYPES;
    if (!(w->desc->flags & need))
      continue;
    for (uint32_t i = 0; i < w->column_count; i++) {
      if (i)
        buf_append_char(&w->out, delim);
      const char *s = line == 0 ? w->names[i] : datatype_name(w->arena, w->types[i]);
      format_csv_quoted(&w->out, s, strlen(s));
    }
    end_line(&w->out, w->opts.csv_crlf);
  }
  return 0;
}

static void csv_row(struct format_writer *w, const struct block *b, uint32_t r)
{
  char delim = w->opts.csv_delimiter ? w->opts.csv_delimiter : ',';
  for (uint32_t i = 0; i < b->column_count; i++) {
    if (i)
      buf_append_char(&w->out, delim);
    csv_value(w, b->columns[i], r, &w->out);
  }
  end_line(&w->out, w->opts.csv_crlf);
}

static int csv_block(struct format_writer *w, const struct block *b)
{
  for (uint32_t r = 0; r < b->rows; r++) {
    csv_row(w, b, r);
    int rc = format_maybe_flush(w);
    if (rc)
      return rc;
  }
  w->rows += b->rows;
  return 0;
}

/* WITH TOTALS: an empty line (bare \n), then the totals row. */
static int csv_totals(struct format_writer *w, const struct block *t)
{
  buf_append_char(&w->out, '\n');
  csv_row(w, t, 0);
  return 0;
}

const struct format_ops format_ops_csv = { csv_begin, csv_block, NULL, csv_totals };

/* ---- Values ---- */

static int values_block(struct format_writer *w, const struct block *b)
{
  for (uint32_t r = 0; r < b->rows; r++) {
    if (w->rows + r > 0)
      buf_append_char(&w->out, ',');
    buf_append_char(&w->out, '(');
    for (uint32_t i = 0; i < b->column_count; i++) {
      if (i)
        buf_append_char(&w->out, ',');
      column_format_value_tz(b->columns[i], r, w->tz, true, &w->out);
    }
    buf_append_char(&w->out, ')');
    int rc = format_maybe_flush(w);
    if (rc)
      return rc;
  }
  w->rows += b->rows;
  return 0;
}

const struct format_ops format_ops_values = { NULL, values_block, NULL, NULL }  /* Values prints no totals */;
