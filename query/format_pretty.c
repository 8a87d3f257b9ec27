/* Human-readable formats: Pretty, PrettyCompact, PrettySpace (each with
 * NoEscapes and MonoBlock variants) and Vertical. Every block is its own
 * table, as ClickHouse prints it (MonoBlock gathers the result first);
 * column names are bold (ANSI ESC[1m … ESC[0m) only with
 * output_format_pretty_color=1 and never in NoEscapes; numbers, dates and
 * times align right; NULL shows as ᴺᵁᴸᴸ; the grid is UTF-8 or ASCII. After
 * output_format_pretty_max_rows rows the rest is dropped and "Showed first
 * N." closes the output. */
#include "query/format_int.h"
#include "base/alloc.h"

enum { PRETTY_COLUMN_PAD_MAX = 250 };  /* output_format_pretty_max_column_pad_width default */

static const char NULL_TEXT[] = "\xE1\xB4\xBA\xE1\xB5\x81\xE1\xB4\xB8\xE1\xB4\xB8";  /* ᴺᵁᴸᴸ */

struct pretty_state {
  uint64_t shown;            /* rows printed */
  bool truncated;            /* rows were dropped */
  struct column **mono;      /* MonoBlock: the gathered result */
  uint32_t mono_rows;
};

/* The rendered cells of one block: text, widths, column widths. */
struct pretty_cells {
  struct buf text;
  size_t *start;             /* cell (r, i) at start[r * cols + i] .. start[… + 1] */
  size_t *width;             /* display width per cell */
  size_t *col_width;         /* per column, names included */
  size_t *name_width;
  bool *right;
  uint32_t rows, cols;
};

static void cells_build(struct format_writer *w, const struct block *b, uint32_t rows, struct pretty_cells *pc)
{
  uint32_t cols = b->column_count;
  pc->rows = rows;
  pc->cols = cols;
  buf_init(&pc->text);
  pc->start = mem_alloc(((size_t)rows * cols + 1) * sizeof *pc->start);
  pc->width = mem_alloc(((size_t)rows * cols + 1) * sizeof *pc->width);
  pc->col_width = mem_calloc(cols + 1, sizeof *pc->col_width);
  pc->name_width = mem_calloc(cols + 1, sizeof *pc->name_width);
  pc->right = mem_calloc(cols + 1, sizeof *pc->right);
  for (uint32_t i = 0; i < cols; i++) {
    pc->name_width[i] = format_text_width(w->names[i], strlen(w->names[i]), 0);
    pc->col_width[i] = pc->name_width[i];
    pc->right[i] = format_align_right(b->columns[i]->type);
  }
  for (uint32_t r = 0; r < rows; r++)
    for (uint32_t i = 0; i < cols; i++) {
      size_t k = (size_t)r * cols + i;
      pc->start[k] = pc->text.len;
      format_plain_value(w, b->columns[i], r, NULL_TEXT, &pc->text);
      pc->width[k] = format_text_width(pc->text.data + pc->start[k], pc->text.len - pc->start[k], 2);
      if (pc->width[k] > pc->col_width[i])
        pc->col_width[i] = pc->width[k];
    }
  pc->start[(size_t)rows * cols] = pc->text.len;
  uint64_t pad_max = w->opts.pretty_max_column_pad_width ? w->opts.pretty_max_column_pad_width : PRETTY_COLUMN_PAD_MAX;
  for (uint32_t i = 0; i < cols; i++)
    if (pc->col_width[i] > pad_max)
      pc->col_width[i] = (size_t)pad_max;
}

static void cells_free(struct pretty_cells *pc)
{
  buf_free(&pc->text);
  mem_free(pc->start);
  mem_free(pc->width);
  mem_free(pc->col_width);
  mem_free(pc->name_width);
  mem_free(pc->right);
}

static void repeat(struct buf *o, const char *s, size_t n)
{
  size_t len = strlen(s);
  for (size_t i = 0; i < n; i++)
    buf_append(o, s, len);
}

static void spaces(struct buf *o, size_t n) { repeat(o, " ", n); }

static void pad_to(struct buf *o, size_t have, size_t want, const char *fill)
{
  if (want > have)
    repeat(o, fill, want - have);
}

static void cell(struct buf *o, const struct pretty_cells *pc, uint32_t r, uint32_t i)
{
  size_t k = (size_t)r * pc->cols + i;
  if (pc->right[i])
    pad_to(o, pc->width[k], pc->col_width[i], " ");
  buf_append(o, pc->text.data + pc->start[k], pc->start[k + 1] - pc->start[k]);
  if (!pc->right[i])
    pad_to(o, pc->width[k], pc->col_width[i], " ");
}

static void rule(struct buf *o, const struct pretty_cells *pc, const char *left, const char *fill, const char *mid,
                 const char *right)
{
  buf_append_cstr(o, left);
  for (uint32_t i = 0; i < pc->cols; i++) {
    if (i)
      buf_append_cstr(o, mid);
    repeat(o, fill, pc->col_width[i] + 2);
  }
  buf_append_cstr(o, right);
  buf_append_char(o, '\n');
}

/* Column names are bold only with output_format_pretty_color=1: "auto"
 * means a terminal, and an HTTP response never is one. */
static void bold_name(struct format_writer *w, struct buf *o, bool on)
{
  if (!(w->desc->flags & FF_NO_ESCAPES) && w->opts.pretty_color > 0)
    buf_append_cstr(o, on ? "\033[1m" : "\033[0m");
}

/* Grid pieces, UTF-8 or ASCII (output_format_pretty_grid_charset). */
enum grid_piece {
  G_BOLD_TL, G_BOLD_H, G_BOLD_T, G_BOLD_TR, G_BOLD_V,
  G_HEAD_L, G_HEAD_X, G_HEAD_R,
  G_TL, G_H, G_T, G_TR, G_V, G_L, G_X, G_R, G_BL, G_B, G_BR,
  G_COUNT
};

static const char *const grid_utf8[G_COUNT] = {
  "┏", "━", "┳", "┓", "┃", "┡", "╇", "┩",
  "┌", "─", "┬", "┐", "│", "├", "┼", "┤", "└", "┴", "┘",
};
static const char *const grid_ascii[G_COUNT] = {
  "+", "=", "+", "+", "|", "+", "+", "+",
  "+", "-", "+", "+", "|", "+", "+", "+", "+", "+", "+",
};

static const char *g(const struct format_writer *w, enum grid_piece piece)
{
  return (w->opts.pretty_grid_ascii ? grid_ascii : grid_utf8)[piece];
}

/* " │ " between cells */
static void sep(struct buf *o, const char *bar)
{
  buf_append_char(o, ' ');
  buf_append_cstr(o, bar);
  buf_append_char(o, ' ');
}

static void data_row(struct format_writer *w, struct buf *o, const struct pretty_cells *pc, uint32_t r)
{
  buf_append_cstr(o, g(w, G_V));
  buf_append_char(o, ' ');
  for (uint32_t i = 0; i < pc->cols; i++) {
    if (i)
      sep(o, g(w, G_V));
    cell(o, pc, r, i);
  }
  buf_append_char(o, ' ');
  buf_append_cstr(o, g(w, G_V));
  buf_append_char(o, '\n');
}

static void table_pretty(struct format_writer *w, const struct pretty_cells *pc)
{
  struct buf *o = &w->out;
  rule(o, pc, g(w, G_BOLD_TL), g(w, G_BOLD_H), g(w, G_BOLD_T), g(w, G_BOLD_TR));
  buf_append_cstr(o, g(w, G_BOLD_V));
  buf_append_char(o, ' ');
  for (uint32_t i = 0; i < pc->cols; i++) {
    if (i)
      sep(o, g(w, G_BOLD_V));
    bold_name(w, o, true);
    if (pc->right[i])
      pad_to(o, pc->name_width[i], pc->col_width[i], " ");
    buf_append_cstr(o, w->names[i]);
    if (!pc->right[i])
      pad_to(o, pc->name_width[i], pc->col_width[i], " ");
    bold_name(w, o, false);
  }
  buf_append_char(o, ' ');
  buf_append_cstr(o, g(w, G_BOLD_V));
  buf_append_char(o, '\n');
  rule(o, pc, g(w, G_HEAD_L), g(w, G_BOLD_H), g(w, G_HEAD_X), g(w, G_HEAD_R));
  for (uint32_t r = 0; r < pc->rows; r++) {
    if (r)
      rule(o, pc, g(w, G_L), g(w, G_H), g(w, G_X), g(w, G_R));
    data_row(w, o, pc, r);
  }
  rule(o, pc, g(w, G_BL), g(w, G_H), g(w, G_B), g(w, G_BR));
}

static void table_compact(struct format_writer *w, const struct pretty_cells *pc)
{
  struct buf *o = &w->out;
  const char *h = g(w, G_H);
  buf_append_cstr(o, g(w, G_TL));
  buf_append_cstr(o, h);
  for (uint32_t i = 0; i < pc->cols; i++) {
    if (i) {
      buf_append_cstr(o, h);
      buf_append_cstr(o, g(w, G_T));
      buf_append_cstr(o, h);
    }
    if (pc->right[i])
      pad_to(o, pc->name_width[i], pc->col_width[i], h);
    bold_name(w, o, true);
    buf_append_cstr(o, w->names[i]);
    bold_name(w, o, false);
    if (!pc->right[i])
      pad_to(o, pc->name_width[i], pc->col_width[i], h);
  }
  buf_append_cstr(o, h);
  buf_append_cstr(o, g(w, G_TR));
  buf_append_char(o, '\n');
  for (uint32_t r = 0; r < pc->rows; r++)
    data_row(w, o, pc, r);
  rule(o, pc, g(w, G_BL), h, g(w, G_B), g(w, G_BR));
}

static void table_space(struct format_writer *w, const struct pretty_cells *pc)
{
  struct buf *o = &w->out;
  for (uint32_t i = 0; i < pc->cols; i++) {
    if (i)
      spaces(o, 3);
    if (pc->right[i])
      pad_to(o, pc->name_width[i], pc->col_width[i], " ");
    bold_name(w, o, true);
    buf_append_cstr(o, w->names[i]);
    bold_name(w, o, false);
    if (!pc->right[i])
      pad_to(o, pc->name_width[i], pc->col_width[i], " ");
  }
  buf_append_cstr(o, "\n\n");
  for (uint32_t r = 0; r < pc->rows; r++) {
    for (uint32_t i = 0; i < pc->cols; i++) {
      if (i)
        spaces(o, 3);
      cell(o, pc, r, i);
    }
    buf_append_char(o, '\n');
  }
}

static void print_table(struct format_writer *w, const struct block *b, uint32_t rows)
{
  struct pretty_cells pc;
  cells_build(w, b, rows, &pc);
  switch (w->desc->kind) {
  case FK_PRETTY: table_pretty(w, &pc); break;
  case FK_PRETTY_COMPACT: table_compact(w, &pc); break;
  default: table_space(w, &pc); break;
  }
  cells_free(&pc);
}

static int pretty_begin(struct format_writer *w)
{
  struct pretty_state *st = arena_new(w->arena, struct pretty_state);
  w->state = st;
  if (w->desc->flags & FF_MONO) {
    st->mono = arena_new_array(w->arena, struct column *, w->column_count ? w->column_count : 1);
    for (uint32_t i = 0; i < w->column_count; i++)
      st->mono[i] = column_create(w->arena, w->types[i], 0);
  }
  return 0;
}

/* Rows of b still allowed by pretty_max_rows; marks truncation. */
static uint32_t rows_allowed(struct format_writer *w, struct pretty_state *st, uint32_t rows)
{
  uint64_t max = w->opts.pretty_max_rows;
  if (max && st->shown + rows > max) {
    st->truncated = true;
    return st->shown >= max ? 0 : (uint32_t)(max - st->shown);
  }
  return rows;
}

static int pretty_block(struct format_writer *w, const struct block *b)
{
  struct pretty_state *st = w->state;
  uint32_t rows = rows_allowed(w, st, b->rows);
  if (rows == 0)
    return 0;
  st->shown += rows;
  w->rows += rows;
  if (st->mono) {
    for (uint32_t i = 0; i < w->column_count; i++)
      column_append_range(st->mono[i], b->columns[i], 0, rows);
    st->mono_rows += rows;
    return 0;
  }
  print_table(w, b, rows);
  return 0;
}

/* The suffix: the MonoBlock table and "Showed first N." — written once,
 * before the totals table if there is one (ClickHouse writes its suffix
 * before consuming totals). */
static void pretty_suffix(struct format_writer *w)
{
  struct pretty_state *st = w->state;
  if (w->totals_written)
    return;
  if (st->mono && st->mono_rows) {
    struct block b = { .rows = st->mono_rows, .column_count = w->column_count, .columns = st->mono,
                       .names = (const char **)w->names };
    print_table(w, &b, st->mono_rows);
  }
  if (st->truncated) {
    if (w->desc->kind == FK_PRETTY_SPACE)
      buf_printf(&w->out, "\nShowed first %llu.\n", (unsigned long long)st->shown);
    else
      buf_printf(&w->out, "  Showed first %llu.\n", (unsigned long long)st->shown);
  }
}

static int pretty_end(struct format_writer *w, const struct format_summary *s)
{
  pretty_suffix(w);
  return 0;
}

/* WITH TOTALS: "\nTotals:\n", then a table of its own (own widths, header
 * included), never cut by output_format_pretty_max_rows. */
static int pretty_totals(struct format_writer *w, const struct block *t)
{
  pretty_suffix(w);
  w->totals_written = true;
  buf_append_cstr(&w->out, "\nTotals:\n");
  print_table(w, t, 1);
  return 0;
}

const struct format_ops format_ops_pretty = { pretty_begin, pretty_block, pretty_end, pretty_totals };

/* ---- Vertical ---- */

static size_t vertical_name_max(struct format_writer *w)
{
  size_t name_max = 0;
  for (uint32_t i = 0; i < w->column_count; i++) {
    size_t nw = format_text_width(w->names[i], strlen(w->names[i]), 0);
    if (nw > name_max)
      name_max = nw;
  }
  return name_max;
}

static void vertical_fields(struct format_writer *w, const struct block *b, uint32_t r, size_t name_max)
{
  struct buf *o = &w->out;
  for (uint32_t i = 0; i < b->column_count; i++) {
    buf_append_cstr(o, w->names[i]);
    buf_append_char(o, ':');
    spaces(o, name_max - format_text_width(w->names[i], strlen(w->names[i]), 0) + 1);
    format_plain_value(w, b->columns[i], r, NULL_TEXT, o);
    buf_append_char(o, '\n');
  }
}

static int vertical_block(struct format_writer *w, const struct block *b)
{
  struct pretty_state *st = w->state;
  struct buf *o = &w->out;
  uint32_t rows = rows_allowed(w, st, b->rows);
  size_t name_max = vertical_name_max(w);
  for (uint32_t r = 0; r < rows; r++) {
    uint64_t n = st->shown + r + 1;
    if (n > 1)
      buf_append_char(o, '\n');
    size_t before = o->len;
    buf_printf(o, "Row %llu:\n", (unsigned long long)n);
    repeat(o, "─", o->len - before - 1);
    buf_append_char(o, '\n');
    vertical_fields(w, b, r, name_max);
    int rc = format_maybe_flush(w);
    if (rc)
      return rc;
  }
  st->shown += rows;
  w->rows += rows;
  return 0;
}

static int vertical_end(struct format_writer *w, const struct format_summary *s)
{
  struct pretty_state *st = w->state;
  if (st->truncated && !w->totals_written)
    buf_printf(&w->out, "\nShowed first %llu.\n", (unsigned long long)st->shown);
  return 0;
}

/* WITH TOTALS (ClickHouse's writeBeforeTotals + writeSpecialRow): two line
 * breaks, "Totals:", a rule of strlen("Totals") + 1 '─', then the fields. */
static int vertical_totals(struct format_writer *w, const struct block *t)
{
  vertical_end(w, NULL);
  w->totals_written = true;
  buf_append_cstr(&w->out, "\n\nTotals:\n");
  repeat(&w->out, "─", 7);
  buf_append_char(&w->out, '\n');
  vertical_fields(w, t, 0, vertical_name_max(w));
  return 0;
}

const struct format_ops format_ops_vertical = { pretty_begin, vertical_block, vertical_end, vertical_totals };
