/* JSON formats: JSON and JSONCompact (an object with meta, data, rows,
 * rows_before_limit_at_least, statistics — tab-indented exactly as
 * ClickHouse prints it), JSONEachRow and JSONCompactEachRow (one value per
 * line, + WithNames / WithNamesAndTypes), and their *Strings variants.
 * Values: 64-bit integers quoted (json_quote_64bit_integers), NaN/inf null
 * unless json_quote_denormals, Bool true/false, dates/UUIDs/enums as
 * strings, arrays and unnamed tuples as arrays, maps and named tuples as
 * objects, NULL null. */
#include "query/format_int.h"

#include <math.h>

static bool is_compact(const struct format_writer *w)
{
  return w->desc->kind == FK_JSON_COMPACT || w->desc->kind == FK_JSON_COMPACT_EACH_ROW;
}

static void json_str(struct format_writer *w, struct buf *out, const char *s, size_t len)
{
  format_json_string(out, s, len, w->opts.json_escape_forward_slashes);
}

static void json_text_value(struct format_writer *w, const struct column *c, uint32_t row, struct buf *out)
{
  struct buf tmp;
  buf_init(&tmp);
  column_format_value_tz(c, row, w->tz, false, &tmp);
  json_str(w, out, tmp.data ? tmp.data : "", tmp.len);
  buf_free(&tmp);
}

static void json_value(struct format_writer *w, const struct column *c, uint32_t row, struct buf *out)
{
  if (column_is_null(c, row)) {
    buf_append_cstr(out, "null");
    return;
  }
  const struct datatype *t = datatype_unwrap(c->type);
  if (w->desc->flags & FF_STRINGS) {
    if (t->id == TYPE_STRING || t->id == TYPE_FIXED_STRING) {
      struct slice s = column_get_bytes(c, row);
      json_str(w, out, s.ptr, s.len);
    } else {
      json_text_value(w, c, row, out);
    }
    return;
  }
  switch (t->id) {
  case TYPE_UINT8: case TYPE_UINT16: case TYPE_UINT32:
    format_u64(out, column_get_u64(c, row));
    return;
  case TYPE_INT8: case TYPE_INT16: case TYPE_INT32: case TYPE_INTERVAL:
    format_i64(out, column_get_i64(c, row));
    return;
  case TYPE_UINT64:
  case TYPE_INT64: {
    bool q = w->opts.json_quote_64bit_integers;
    if (q)
      buf_append_char(out, '"');
    if (t->id == TYPE_UINT64)
      format_u64(out, column_get_u64(c, row));
    else
      format_i64(out, column_get_i64(c, row));
    if (q)
      buf_append_char(out, '"');
    return;
  }
  case TYPE_FLOAT32:
  case TYPE_FLOAT64: {
    double v = column_get_f64(c, row);
    if (isfinite(v) && t->id == TYPE_FLOAT64 && w->opts.json_quote_64bit_floats) {
      buf_append_char(out, '"');
      column_format_value_tz(c, row, w->tz, false, out);
      buf_append_char(out, '"');
    } else if (isfinite(v)) {
      column_format_value_tz(c, row, w->tz, false, out);
    } else if (w->opts.json_quote_denormals) {
      buf_append_char(out, '"');
      column_format_value_tz(c, row, w->tz, false, out);
      buf_append_char(out, '"');
    } else {
      buf_append_cstr(out, "null");
    }
    return;
  }
  case TYPE_BOOL:
    buf_append_cstr(out, column_get_u64(c, row) ? "true" : "false");
    return;
  case TYPE_NOTHING:
    buf_append_cstr(out, "null");
    return;
  case TYPE_STRING:
  case TYPE_FIXED_STRING: {
    struct slice s = column_get_bytes(c, row);
    json_str(w, out, s.ptr, s.len);
    return;
  }
  case TYPE_ARRAY: {
    uint64_t start, end;
    column_array_range(c, row, &start, &end);
    buf_append_char(out, '[');
    for (uint64_t i = start; i < end; i++) {
      if (i != start)
        buf_append_char(out, ',');
      json_value(w, c->children[0], (uint32_t)i, out);
    }
    buf_append_char(out, ']');
    return;
  }
  case TYPE_MAP: {
    uint64_t start, end;
    column_array_range(c, row, &start, &end);
    buf_append_char(out, '{');
    for (uint64_t i = start; i < end; i++) {
      if (i != start)
        buf_append_char(out, ',');
      const struct column *k = c->children[0];
      if (datatype_is_string_like(k->type) && !column_is_null(k, (uint32_t)i)) {
        struct slice s = column_get_bytes(k, (uint32_t)i);
        json_str(w, out, s.ptr, s.len);
      } else {
        json_text_value(w, k, (uint32_t)i, out);
      }
      buf_append_char(out, ':');
      json_value(w, c->children[1], (uint32_t)i, out);
    }
    buf_append_char(out, '}');
    return;
  }
  case TYPE_TUPLE: {
    uint32_t r = column_row(c, row);
    bool named = t->names != NULL && !w->opts.json_named_tuples_as_arrays;
    buf_append_char(out, named ? '{' : '[');
    for (uint32_t i = 0; i < c->child_count; i++) {
      if (i)
        buf_append_char(out, ',');
      if (named) {
        json_str(w, out, t->names[i], strlen(t->names[i]));
        buf_append_char(out, ':');
      }
      json_value(w, c->children[i], r, out);
    }
    buf_append_char(out, named ? '}' : ']');
    return;
  }
  default:
    json_text_value(w, c, row, out);
    return;
  }
}

/* ---- JSON, JSONCompact ---- */

static int json_begin(struct format_writer *w)
{
  struct buf *o = &w->out;
  buf_append_cstr(o, "{\n\t\"meta\":\n\t[\n");
  for (uint32_t i = 0; i < w->column_count; i++) {
    buf_append_cstr(o, "\t\t{\n\t\t\t\"name\": ");
    json_str(w, o, w->names[i], strlen(w->names[i]));
    buf_append_cstr(o, ",\n\t\t\t\"type\": ");
    const char *type = datatype_name(w->arena, w->types[i]);
    json_str(w, o, type, strlen(type));
    buf_append_cstr(o, i + 1 < w->column_count ? "\n\t\t},\n" : "\n\t\t}\n");
  }
  buf_append_cstr(o, "\t],\n\n\t\"data\":\n\t[\n");
  return 0;
}

static int json_block(struct format_writer *w, const struct block *b)
{
  struct buf *o = &w->out;
  bool compact = is_compact(w);
  for (uint32_t r = 0; r < b->rows; r++) {
    if (w->rows + r > 0)
      buf_append_cstr(o, ",\n");
    if (compact) {
      buf_append_cstr(o, "\t\t[");
      for (uint32_t i = 0; i < b->column_count; i++) {
        if (i)
          buf_append_cstr(o, ", ");
        json_value(w, b->columns[i], r, o);
      }
      buf_append_char(o, ']');
    } else {
      buf_append_cstr(o, "\t\t{\n");
      for (uint32_t i = 0; i < b->column_count; i++) {
        buf_append_cstr(o, "\t\t\t");
        json_str(w, o, w->names[i], strlen(w->names[i]));
        buf_append_cstr(o, ": ");
        json_value(w, b->columns[i], r, o);
        buf_append_cstr(o, i + 1 < b->column_count ? ",\n" : "\n");
      }
      buf_append_cstr(o, "\t\t}");
    }
    int rc = format_maybe_flush(w);
    if (rc)
      return rc;
  }
  w->rows += b->rows;
  return 0;
}

/* WITH TOTALS: the data array closes here and a "totals" member follows —
 * an object of name: value lines (JSON) or one array (JSONCompact). */
static int json_totals(struct format_writer *w, const struct block *t)
{
  struct buf *o = &w->out;
  if (is_compact(w)) {
    buf_append_cstr(o, "\n\t],\n\n\t\"totals\": [");
    for (uint32_t i = 0; i < t->column_count; i++) {
      if (i)
        buf_append_cstr(o, ", ");
      json_value(w, t->columns[i], 0, o);
    }
    buf_append_char(o, ']');
  } else {
    buf_append_cstr(o, "\n\t],\n\n\t\"totals\":\n\t{\n");
    for (uint32_t i = 0; i < t->column_count; i++) {
      buf_append_cstr(o, "\t\t");
      json_str(w, o, w->names[i], strlen(w->names[i]));
      buf_append_cstr(o, ": ");
      json_value(w, t->columns[i], 0, o);
      buf_append_cstr(o, i + 1 < t->column_count ? ",\n" : "\n");
    }
    buf_append_cstr(o, "\t}");
  }
  w->totals_written = true;
  return 0;
}

static int json_end(struct format_writer *w, const struct format_summary *s)
{
  struct buf *o = &w->out;
  if (!w->totals_written)
    buf_append_cstr(o, "\n\t]");
  buf_append_cstr(o, ",\n\n\t\"rows\": ");
  format_u64(o, w->rows);
  if (s->has_limit) {
    buf_append_cstr(o, ",\n\n\t\"rows_before_limit_at_least\": ");
    format_u64(o, s->rows_before_limit);
  }
  if (w->opts.write_statistics) {
    buf_append_cstr(o, ",\n\n\t\"statistics\":\n\t{\n\t\t\"elapsed\": ");
    column_format_f64(s->elapsed_seconds, o);
    buf_append_cstr(o, ",\n\t\t\"rows_read\": ");
    format_u64(o, s->read_rows);
    buf_append_cstr(o, ",\n\t\t\"bytes_read\": ");
    format_u64(o, s->read_bytes);
    buf_append_cstr(o, "\n\t}");
  }
  buf_append_cstr(o, "\n}\n");
  return 0;
}

const struct format_ops format_ops_json = { json_begin, json_block, json_end, json_totals };

/* ---- JSONEachRow, JSONCompactEachRow ---- */

/* output_format_json_array_of_rows wraps JSONEachRow rows in one array. */
static bool array_of_rows(const struct format_writer *w)
{
  return w->desc->kind == FK_JSON_EACH_ROW && w->opts.json_array_of_rows;
}

static int each_row_begin(struct format_writer *w)
{
  if (array_of_rows(w))
    buf_append_cstr(&w->out, "[\n");
  if (w->desc->kind != FK_JSON_COMPACT_EACH_ROW)
    return 0;
  struct buf *o = &w->out;
  for (int line = 0; line < 2; line++) {
    if (!(w->desc->flags & (line == 0 ? FF_NAMES : FF_TYPES)))
      continue;
    buf_append_char(o, '[');
    for (uint32_t i = 0; i < w->column_count; i++) {
      if (i)
        buf_append_cstr(o, ", ");
      const char *s = line == 0 ? w->names[i] : datatype_name(w->arena, w->types[i]);
      json_str(w, o, s, strlen(s));
    }
    buf_append_cstr(o, "]\n");
  }
  return 0;
}

static void each_row_row(struct format_writer *w, const struct block *b, uint32_t r)
{
  struct buf *o = &w->out;
  bool compact = is_compact(w), array = array_of_rows(w);
  buf_append_char(o, compact ? '[' : '{');
  for (uint32_t i = 0; i < b->column_count; i++) {
    if (i)
      buf_append_cstr(o, compact ? ", " : ",");
    if (!compact) {
      json_str(w, o, w->names[i], strlen(w->names[i]));
      buf_append_char(o, ':');
    }
    json_value(w, b->columns[i], r, o);
  }
  buf_append_cstr(o, compact ? "]\n" : array ? "}" : "}\n");
}

static int each_row_block(struct format_writer *w, const struct block *b)
{
  struct buf *o = &w->out;
  bool array = array_of_rows(w);
  for (uint32_t r = 0; r < b->rows; r++) {
    if (array && w->rows + r > 0)
      buf_append_cstr(o, ",\n");
    each_row_row(w, b, r);
    int rc = format_maybe_flush(w);
    if (rc)
      return rc;
  }
  w->rows += b->rows;
  return 0;
}

static int each_row_end(struct format_writer *w, const struct format_summary *s)
{
  if (array_of_rows(w))
    buf_append_cstr(&w->out, "\n]\n");
  return 0;
}

/* WITH TOTALS: only JSONCompact[Strings]EachRowWithNames[AndTypes] print
 * totals (an empty line, then the row); JSONEachRow and JSONCompactEachRow
 * without names print none, as ClickHouse. */
static int each_row_totals(struct format_writer *w, const struct block *t)
{
  if (w->desc->kind != FK_JSON_COMPACT_EACH_ROW || !(w->desc->flags & FF_NAMES))
    return 0;
  buf_append_char(&w->out, '\n');
  each_row_row(w, t, 0);
  w->totals_written = true;
  return 0;
}

const struct format_ops format_ops_json_each_row = { each_row_begin, each_row_block, each_row_end, each_row_totals };
