/* Output formats: the registry (formats.def), the writer life cycle and the
 * text helpers the families share. The families live in format_text.c
 * (TSV, TSKV, CSV, Values), format_json.c, format_pretty.c (Pretty*,
 * Vertical) and format_binary.c (RowBinary*, Native).
 *
 * Life cycle: format_writer_create → format_writer_begin (prefix) →
 * format_writer_block* (each block is written and flushed to the sink as it
 * arrives) → format_writer_totals (WITH TOTALS, optional) →
 * format_writer_end (suffix). A sink error aborts the stream and
 * is returned as is. */
#include "query/format.h"
#include "query/format_int.h"

#include <string.h>

enum { FORMAT_FLUSH_BYTES = 256 * 1024 };

static const struct format_desc format_table[] = {
#define FORMAT(name, kind, flags, ct) { name, kind, flags, ct },
#include "query/formats.def"
#undef FORMAT
};

static const struct format_desc *format_find(const char *name)
{
  if (!name)
    return NULL;
  for (size_t i = 0; i < sizeof format_table / sizeof format_table[0]; i++)
    if (strcmp(format_table[i].name, name) == 0)
      return &format_table[i];
  return NULL;
}

bool format_is_known(const char *name) { return format_find(name) != NULL; }

const char *format_content_type(const char *name)
{
  const struct format_desc *d = format_find(name);
  return d ? d->content_type : "text/plain; charset=UTF-8";
}

static int null_block(struct format_writer *w, const struct block *b) { return 0; }
static const struct format_ops format_ops_null = { NULL, null_block, NULL, NULL };

static const struct format_ops *ops_for(enum format_kind kind)
{
  switch (kind) {
  case FK_TSV: return &format_ops_tsv;
  case FK_TSKV: return &format_ops_tskv;
  case FK_CSV: return &format_ops_csv;
  case FK_VALUES: return &format_ops_values;
  case FK_JSON: case FK_JSON_COMPACT: return &format_ops_json;
  case FK_JSON_EACH_ROW: case FK_JSON_COMPACT_EACH_ROW: return &format_ops_json_each_row;
  case FK_PRETTY: case FK_PRETTY_COMPACT: case FK_PRETTY_SPACE: return &format_ops_pretty;
  case FK_VERTICAL: return &format_ops_vertical;
  case FK_NATIVE: return &format_ops_native;
  case FK_ROW_BINARY: return &format_ops_row_binary;
  case FK_NULL: return &format_ops_null;
  }
  return &format_ops_null;
}

static void writer_free_buf(void *arg)
{
  struct format_writer *w = arg;
  buf_free(&w->out);
}

int format_writer_create(struct arena *a, const char *name, const struct format_options *opts,
                         uint32_t column_count, const char *const *names,
                         const struct datatype *const *types, struct format_sink sink,
                         struct format_writer **out, struct error *err)
{
  const struct format_desc *d = format_find(name);
  if (!d)
    return error_set(err, ERR_UNKNOWN_FORMAT, "Unknown format %s", name ? name : "(null)");
  struct format_writer *w = arena_new(a, struct format_writer);
  w->desc = d;
  w->ops = ops_for(d->kind);
  w->opts = *opts;
  w->tz = timezone_or_default(opts->timezone);
  w->arena = a;
  w->column_count = column_count;
  w->names = arena_new_array(a, const char *, column_count ? column_count : 1);
  w->types = arena_new_array(a, const struct datatype *, column_count ? column_count : 1);
  for (uint32_t i = 0; i < column_count; i++) {
    w->names[i] = names[i];
    w->types[i] = types[i];
  }
  w->sink = sink;
  buf_init(&w->out);
  arena_on_cleanup(a, writer_free_buf, w);
  *out = w;
  return 0;
}

int format_flush(struct format_writer *w)
{
  if (!w->out.len)
    return 0;
  int rc = w->sink.write(w->sink.ctx, w->out.data, w->out.len);
  buf_reset(&w->out);
  if (rc)
    return error_set(w->err, rc, "Cannot write the query result to the client");
  return 0;
}

int format_maybe_flush(struct format_writer *w)
{
  return w->out.len >= FORMAT_FLUSH_BYTES ? format_flush(w) : 0;
}

int format_writer_begin(struct format_writer *w, struct error *err)
{
  w->err = err;
  int rc = w->ops->begin ? w->ops->begin(w) : 0;
  if (rc)
    return rc;
  return format_flush(w);
}

int format_writer_block(struct format_writer *w, const struct block *b, struct error *err)
{
  w->err = err;
  if (b->rows == 0)
    return 0;
  int rc = w->ops->block(w, b);
  if (rc)
    return rc;
  return format_flush(w);
}

int format_writer_totals(struct format_writer *w, const struct block *totals, struct error *err)
{
  w->err = err;
  if (!totals || totals->rows == 0 || !w->ops->totals)
    return 0;
  int rc = w->ops->totals(w, totals);
  if (rc)
    return rc;
  return format_flush(w);
}

int format_writer_end(struct format_writer *w, const struct format_summary *summary, struct error *err)
{
  w->err = err;
  static const struct format_summary none;
  int rc = w->ops->end ? w->ops->end(w, summary ? summary : &none) : 0;
  if (rc)
    return rc;
  return format_flush(w);
}

/* ---- text helpers ---- */

void format_u64(struct buf *out, uint64_t v)
{
  char tmp[24];
  int n = 0;
  do {
    tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  buf_append(out, tmp + sizeof tmp - n, (size_t)n);
}

void format_i64(struct buf *out, int64_t v)
{
  if (v < 0) {
    buf_append_char(out, '-');
    format_u64(out, 0 - (uint64_t)v);
  } else {
    format_u64(out, (uint64_t)v);
  }
}

void format_tsv_escaped(struct buf *out, const char *s, size_t len)
{
  size_t run = 0;
  buf_reserve(out, len);
  for (size_t i = 0; i < len; i++) {
    char e;
    switch (s[i]) {
    case '\b': e = 'b'; break;
    case '\f': e = 'f'; break;
    case '\n': e = 'n'; break;
    case '\r': e = 'r'; break;
    case '\t': e = 't'; break;
    case '\0': e = '0'; break;
    case '\\': e = '\\'; break;
    case '\'': e = '\''; break;
    default: continue;
    }
    buf_append(out, s + run, i - run);
    buf_append_char(out, '\\');
    buf_append_char(out, e);
    run = i + 1;
  }
  buf_append(out, s + run, len - run);
}

void format_csv_quoted(struct buf *out, const char *s, size_t len)
{
  buf_reserve(out, len + 2);
  buf_append_char(out, '"');
  size_t run = 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] == '"') {
      buf_append(out, s + run, i + 1 - run);
      buf_append_char(out, '"');
      run = i + 1;
    }
  buf_append(out, s + run, len - run);
  buf_append_char(out, '"');
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
  unsigned char c = s[0];
  size_t n;
  uint32_t min, cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2; cp = c & 0x1F; min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3; cp = c & 0x0F; min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4; cp = c & 0x07; min = 0x10000;
  } else {
    return 0;
  }
  if (len < n)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

void format_json_string(struct buf *out, const char *s, size_t len, bool escape_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  const unsigned char *u = (const unsigned char *)s;
  buf_reserve(out, len + 2);
  buf_append_char(out, '"');
  size_t run = 0, i = 0;
  while (i < len) {
    unsigned char c = u[i];
    const char *rep = NULL;
    char tmp[8];
    size_t adv = 1;
    if (c < 0x80) {
      switch (c) {
      case '"': rep = "\\\""; break;
      case '\\': rep = "\\\\"; break;
      case '/': rep = escape_slash ? "\\/" : NULL; break;
      case '\b': rep = "\\b"; break;
      case '\f': rep = "\\f"; break;
      case '\n': rep = "\\n"; break;
      case '\r': rep = "\\r"; break;
      case '\t': rep = "\\t"; break;
      default:
        if (c < 0x20) {
          memcpy(tmp, "\\u00", 4);
          tmp[4] = hex[c >> 4];
          tmp[5] = hex[c & 15];
          tmp[6] = 0;
          rep = tmp;
        }
        break;
      }
    } else {
      adv = utf8_sequence(u + i, len - i);
      if (adv == 0) {
        rep = "\xEF\xBF\xBD";   /* U+FFFD for an invalid byte */
        adv = 1;
      } else if (adv == 3 && c == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
        rep = u[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";  /* line/paragraph separators break JS */
      }
    }
    if (rep) {
      buf_append(out, s + run, i - run);
      buf_append_cstr(out, rep);
      run = i + adv;
    }
    i += adv;
  }
  buf_append(out, s + run, len - run);
  buf_append_char(out, '"');
}

size_t format_text_width(const char *s, size_t len, size_t prefix)
{
  size_t w = prefix;
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = u[i];
    if (c == '\t')
      w = (w / 8 + 1) * 8;
    else if (c < 0x20 || c == 0x7F)
      continue;
    else if ((c & 0xC0) != 0x80)
      w++;
  }
  return w - prefix;
}

void format_plain_value(struct format_writer *w, const struct column *c, uint32_t row, const char *null_text,
                        struct buf *out)
{
  if (column_is_null(c, row)) {
    buf_append_cstr(out, null_text);
    return;
  }
  column_format_value_tz(c, row, w->tz, false, out);
}

bool format_align_right(const struct datatype *t)
{
  t = datatype_unwrap(t);
  return datatype_is_numeric(t) || t->id == TYPE_BOOL || datatype_is_date_or_time(t);
}

const char *format_enum_name(const struct datatype *t, int64_t v)
{
  for (uint32_t i = 0; i < t->enum_count; i++)
    if (t->enum_values[i] == v)
      return t->names[i];
  return NULL;
}
