/* Input formats: the registry, the streaming driver, blocks, row rollback
 * and ClickHouse-style error decoration. The families live in
 * input_text.c (TSV, TSKV, CSV, Values and the shared text value parsers),
 * input_json.c (JSON*, JSONEachRow, JSONCompactEachRow) and input_binary.c
 * (RowBinary*, Native).
 *
 * Invariants:
 *  1. Bytes not yet parsed are either in the caller's current piece or in
 *     `pending` (never both): a feed parses the piece in place when nothing
 *     is pending, and keeps only the unparsed tail (the start of one row).
 *  2. A partial row is retried only when the bytes waiting have doubled
 *     since the last attempt (retry_bytes), so a row of n bytes arriving in
 *     k pieces costs O(n) parsing, not O(n·k).
 *  3. Every column of the current block has cur_rows rows between rows; a
 *     row that fails or needs more bytes is truncated away (input_column_truncate).
 *  4. A block is completed when it holds block_rows_max rows or consumed
 *     block_bytes_max input bytes; completed blocks wait in a FIFO.
 *
 * States: create → [prefix] → rows … → ended (end marker or end of input)
 *   → finished; any error → failed (sticky). */
#include "query/input_int.h"
#include "query/format.h"
#include "query/settings.h"

#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

enum {
  INPUT_BLOCK_ROWS_DEFAULT = 65536,
  INPUT_BLOCK_BYTES_DEFAULT = 1024 * 1024,
  INPUT_BLOCK_ARENA_CHUNK = 64 * 1024,
  INPUT_BEFORE_BYTES_MAX = 160,         /* ClickHouse's SHOW_CHARS_ON_SYNTAX_ERROR */
  INPUT_DIAG_TEXT_MAX = 60,             /* bytes of a field shown in diagnostics */
};

/* One row (Native: one block) may not need more than this buffered. */
#define INPUT_ROW_BYTES_MAX ((size_t)1 << 30)

static const struct input_format_desc input_formats[] = {
  { "TabSeparated", IK_TSV, 0 },
  { "TSV", IK_TSV, 0 },
  { "TabSeparatedWithNames", IK_TSV, IF_NAMES },
  { "TSVWithNames", IK_TSV, IF_NAMES },
  { "TabSeparatedWithNamesAndTypes", IK_TSV, IF_NAMES | IF_TYPES },
  { "TSVWithNamesAndTypes", IK_TSV, IF_NAMES | IF_TYPES },
  { "TabSeparatedRaw", IK_TSV, IF_RAW },
  { "TSVRaw", IK_TSV, IF_RAW },
  { "Raw", IK_TSV, IF_RAW },
  { "TabSeparatedRawWithNames", IK_TSV, IF_RAW | IF_NAMES },
  { "TSVRawWithNames", IK_TSV, IF_RAW | IF_NAMES },
  { "RawWithNames", IK_TSV, IF_RAW | IF_NAMES },
  { "TabSeparatedRawWithNamesAndTypes", IK_TSV, IF_RAW | IF_NAMES | IF_TYPES },
  { "TSVRawWithNamesAndTypes", IK_TSV, IF_RAW | IF_NAMES | IF_TYPES },
  { "RawWithNamesAndTypes", IK_TSV, IF_RAW | IF_NAMES | IF_TYPES },
  { "TSKV", IK_TSKV, 0 },
  { "CSV", IK_CSV, 0 },
  { "CSVWithNames", IK_CSV, IF_NAMES },
  { "CSVWithNamesAndTypes", IK_CSV, IF_NAMES | IF_TYPES },
  { "Values", IK_VALUES, 0 },
  { "JSON", IK_JSON, 0 },
  { "JSONStrings", IK_JSON, IF_STRINGS },
  { "JSONCompact", IK_JSON_COMPACT, 0 },
  { "JSONCompactStrings", IK_JSON_COMPACT, IF_STRINGS },
  { "JSONEachRow", IK_JSON_EACH_ROW, 0 },
  { "JSONLines", IK_JSON_EACH_ROW, 0 },
  { "NDJSON", IK_JSON_EACH_ROW, 0 },
  { "JSONStringsEachRow", IK_JSON_EACH_ROW, IF_STRINGS },
  { "JSONCompactEachRow", IK_JSON_COMPACT_EACH_ROW, 0 },
  { "JSONCompactEachRowWithNames", IK_JSON_COMPACT_EACH_ROW, IF_NAMES },
  { "JSONCompactEachRowWithNamesAndTypes", IK_JSON_COMPACT_EACH_ROW, IF_NAMES | IF_TYPES },
  { "JSONCompactStringsEachRow", IK_JSON_COMPACT_EACH_ROW, IF_STRINGS },
  { "JSONCompactStringsEachRowWithNames", IK_JSON_COMPACT_EACH_ROW, IF_STRINGS | IF_NAMES },
  { "JSONCompactStringsEachRowWithNamesAndTypes", IK_JSON_COMPACT_EACH_ROW, IF_STRINGS | IF_NAMES | IF_TYPES },
  { "RowBinary", IK_ROW_BINARY, 0 },
  { "RowBinaryWithNames", IK_ROW_BINARY, IF_NAMES },
  { "RowBinaryWithNamesAndTypes", IK_ROW_BINARY, IF_NAMES | IF_TYPES },
  { "Native", IK_NATIVE, 0 },
};

static const struct input_format_desc *input_format_find(const char *name)
{
  if (!name)
    return NULL;
  for (size_t i = 0; i < sizeof input_formats / sizeof input_formats[0]; i++)
    if (strcmp(input_formats[i].name, name) == 0)
      return &input_formats[i];
  return NULL;
}

bool input_format_is_known(const char *name) { return input_format_find(name) != NULL; }

static const struct input_family *family_for(enum input_kind kind)
{
  switch (kind) {
  case IK_TSV: return &input_family_tsv;
  case IK_TSKV: return &input_family_tskv;
  case IK_CSV: return &input_family_csv;
  case IK_VALUES: return &input_family_values;
  case IK_JSON_EACH_ROW: return &input_family_json_each_row;
  case IK_JSON_COMPACT_EACH_ROW: return &input_family_json_compact_each_row;
  case IK_JSON: case IK_JSON_COMPACT: return &input_family_json;
  case IK_ROW_BINARY: return &input_family_row_binary;
  case IK_NATIVE: return &input_family_native;
  case IK_OUTPUT_ONLY: break;
  }
  return NULL;
}

void input_options_init(struct input_options *o)
{
  memset(o, 0, sizeof *o);
  o->skip_unknown_fields = true;
  o->null_as_default = true;
  o->with_names_use_header = true;
  o->with_types_use_header = true;
  o->csv_empty_as_default = true;
  o->csv_allow_double_quotes = true;
  o->csv_trim_whitespaces = true;
  o->values_interpret_expressions = true;
  o->csv_delimiter = ',';
  o->block_rows_max = INPUT_BLOCK_ROWS_DEFAULT;
  o->block_bytes_max = INPUT_BLOCK_BYTES_DEFAULT;
}

static bool setting_bool(const struct settings *s, const char *name, bool dflt)
{
  return settings_is_known(name) ? settings_get_bool(s, name) : dflt;
}

void input_options_from_settings(struct input_options *o, const struct settings *s)
{
  input_options_init(o);
  o->skip_unknown_fields = setting_bool(s, "input_format_skip_unknown_fields", o->skip_unknown_fields);
  o->null_as_default = setting_bool(s, "input_format_null_as_default", o->null_as_default);
  o->with_names_use_header = setting_bool(s, "input_format_with_names_use_header", o->with_names_use_header);
  o->with_types_use_header = setting_bool(s, "input_format_with_types_use_header", o->with_types_use_header);
  o->tsv_empty_as_default = setting_bool(s, "input_format_tsv_empty_as_default", o->tsv_empty_as_default);
  o->csv_empty_as_default = setting_bool(s, "input_format_csv_empty_as_default", o->csv_empty_as_default);
  o->csv_allow_single_quotes = setting_bool(s, "format_csv_allow_single_quotes", o->csv_allow_single_quotes);
  o->csv_allow_double_quotes = setting_bool(s, "format_csv_allow_double_quotes", o->csv_allow_double_quotes);
  o->csv_trim_whitespaces = setting_bool(s, "input_format_csv_trim_whitespaces", o->csv_trim_whitespaces);
  o->values_interpret_expressions =
    setting_bool(s, "input_format_values_interpret_expressions", o->values_interpret_expressions);
  if (settings_is_known("format_csv_delimiter")) {
    const char *d = settings_get_str(s, "format_csv_delimiter");
    if (d && d[0])
      o->csv_delimiter = d[0];
  }
  if (settings_is_known("date_time_input_format")) {
    const char *f = settings_get_str(s, "date_time_input_format");
    o->datetime_best_effort = f && strncmp(f, "best_effort", 11) == 0;
  }
  if (settings_is_known("input_format_allow_errors_num"))
    o->allow_errors_num = settings_get_u64(s, "input_format_allow_errors_num");
  if (settings_is_known("input_format_allow_errors_ratio"))
    o->allow_errors_ratio = settings_get_f64(s, "input_format_allow_errors_ratio");
  if (settings_is_known("session_timezone")) {
    const char *tz = settings_get_str(s, "session_timezone");
    if (tz && tz[0])
      o->timezone = tz;
  }
}

/* ---- blocks ---- */

void input_block_destroy(struct input_block *b)
{
  if (!b)
    return;
  arena_destroy(&b->arena);
  mem_free(b);
}

static void block_begin(struct input_parser *p)
{
  struct input_block *ib = mem_calloc(1, sizeof *ib);
  arena_init(&ib->arena, INPUT_BLOCK_ARENA_CHUNK);
  struct block *b = block_create(&ib->arena, p->column_count);
  for (uint32_t i = 0; i < p->column_count; i++) {
    b->names[i] = arena_strdup(&ib->arena, p->names[i]);
    struct column *c = column_create(&ib->arena, p->types[i], p->hint_rows ? p->hint_rows : 64);
    /* Always give String columns bytes: column.c leaves chars NULL while
     * every value is empty, and some readers index it regardless. */
    if (c->type->id == TYPE_STRING)
      input_chars_reserve(c, p->hint_chars[i]);
    b->columns[i] = c;
    p->omitted_cap[i] = 0;
  }
  ib->omitted = arena_new_array(&ib->arena, uint8_t *, p->column_count);
  ib->block = b;
  for (uint32_t i = 0; i < p->lc_cache_count; i++)
    p->lc_caches[i].col = NULL;
  p->cur = ib;
  p->cols = b->columns;
  p->cur_rows = 0;
  p->cur_bytes = 0;
}

static void block_seal(struct input_parser *p)
{
  struct input_block *ib = p->cur;
  ib->block->rows = p->cur_rows;
  uint32_t hint = p->cur_rows + p->cur_rows / 8;
  p->hint_rows = hint < p->opts.block_rows_max ? hint : p->opts.block_rows_max;
  for (uint32_t i = 0; i < p->column_count; i++) {
    const struct column *c = p->cols[i];
    p->hint_chars[i] = c->type->id == TYPE_STRING ? c->chars_len + c->chars_len / 8 : 0;
  }
  ib->next = NULL;
  if (p->done_tail)
    p->done_tail->next = ib;
  else
    p->done_head = ib;
  p->done_tail = ib;
  p->cur = NULL;
  p->cols = NULL;
  p->cur_rows = 0;
  p->cur_bytes = 0;
}

bool input_parser_take_block(struct input_parser *p, struct input_block **out)
{
  struct input_block *b = p->done_head;
  if (!b)
    return false;
  p->done_head = b->next;
  if (!p->done_head)
    p->done_tail = NULL;
  b->next = NULL;
  *out = b;
  return true;
}

uint64_t input_parser_rows(const struct input_parser *p) { return p->rows; }
uint64_t input_parser_skipped_rows(const struct input_parser *p) { return p->skipped; }
uint64_t input_parser_bytes(const struct input_parser *p) { return p->bytes; }

/* ---- columns ---- */

char *input_chars_reserve(struct column *c, size_t n)
{
  uint64_t need = c->chars_len + n;
  if (need > c->chars_cap || !c->chars) {
    uint64_t cap = c->chars_cap ? c->chars_cap : 64;
    while (cap < need)
      cap *= 2;
    c->chars = arena_realloc(c->arena, c->chars, c->chars_cap, cap);
    c->chars_cap = cap;
  }
  return c->chars + c->chars_len;
}

void input_append_string(struct column *c, const char *s, size_t n)
{
  char *d = input_chars_reserve(c, n);
  if (n)
    memcpy(d, s, n);
  input_string_commit(c, n);
}

/* XXX: rolls back by rewriting the row counts of column.h's public layout;
 * base/column.h has no truncate, and a row transaction needs one. */
void input_column_truncate(struct column *c, uint32_t rows)
{
  if (c->rows < rows)
    return;
  switch (c->type->id) {
  case TYPE_STRING:
    c->rows = rows;
    c->chars_len = rows ? c->offsets[rows - 1] : 0;
    return;
  case TYPE_ARRAY:
  case TYPE_MAP: {
    c->rows = rows;
    uint64_t n = rows ? c->offsets[rows - 1] : 0;
    for (uint32_t i = 0; i < c->child_count; i++)
      input_column_truncate(c->children[i], (uint32_t)n);
    return;
  }
  case TYPE_NULLABLE:
  case TYPE_TUPLE:
  case TYPE_NESTED:
    c->rows = rows;
    for (uint32_t i = 0; i < c->child_count; i++)
      input_column_truncate(c->children[i], rows);
    return;
  default:
    c->rows = rows;     /* fixed width, LowCardinality keys, Nothing */
    return;
  }
}

bool input_type_is_nullable(const struct datatype *t)
{
  if (t->id == TYPE_LOW_CARDINALITY)
    t = t->children[0];
  return t->id == TYPE_NULLABLE || t->id == TYPE_NOTHING;
}

static void mark_omitted(struct input_parser *p, uint32_t col, uint32_t row)
{
  uint8_t **slot = &p->cur->omitted[col];
  uint32_t cap = p->omitted_cap[col];
  if (row >= cap) {
    uint32_t ncap = cap ? cap * 2 : 1024;
    while (ncap <= row)
      ncap *= 2;
    uint8_t *m = arena_realloc(&p->cur->arena, *slot, cap, ncap);
    memset(m + cap, 0, ncap - cap);
    *slot = m;
    p->omitted_cap[col] = ncap;
  }
  (*slot)[row] = 1;
}

void input_append_omitted(struct input_parser *p, uint32_t col)
{
  struct column *c = p->cols[col];
  uint32_t row = c->rows;
  column_append_default(c);
  mark_omitted(p, col, row);
}

void input_fill_unseen(struct input_parser *p)
{
  for (uint32_t i = 0; i < p->column_count; i++)
    if (!p->seen[i])
      input_append_omitted(p, i);
}

int input_append_null(struct input_parser *p, struct column *c)
{
  if (input_type_is_nullable(c->type)) {
    if (c->type->id == TYPE_NOTHING)
      column_append_default(c);
    else
      column_append_null(c);
    return 0;
  }
  if (!p->opts.null_as_default) {
    char *name = (char *)datatype_name(&p->unit_arena, c->type);
    return error_set(p->err, ERR_INCORRECT_DATA, "Unexpected NULL value of not Nullable type %s", name);
  }
  for (uint32_t i = 0; p->cols && i < p->column_count; i++)
    if (p->cols[i] == c) {
      mark_omitted(p, i, c->rows);
      break;
    }
  column_append_default(c);
  return 0;
}

/* The dictionary value of key k as bytes, or false if it is NULL. */
static bool dict_bytes(const struct column *dict, uint32_t k, struct slice *out)
{
  if (dict->type->id == TYPE_NULLABLE) {
    if (dict->nulls[k])
      return false;
    dict = dict->children[0];
  }
  uint64_t start = k ? dict->offsets[k - 1] : 0;
  size_t n = (size_t)(dict->offsets[k] - start);
  *out = slice_make(n ? dict->chars + start : "", n);
  return true;
}

static struct input_lc_cache *lc_cache_for(struct input_parser *p, const struct column *lc)
{
  struct input_lc_cache *free_one = NULL;
  for (uint32_t i = 0; i < p->lc_cache_count; i++) {
    if (p->lc_caches[i].col == lc)
      return &p->lc_caches[i];
    if (!p->lc_caches[i].col && !free_one)
      free_one = &p->lc_caches[i];
  }
  if (!free_one) {
    if (p->lc_cache_count >= 64)
      return NULL;
    p->lc_caches = mem_realloc(p->lc_caches, (p->lc_cache_count + 1) * sizeof *p->lc_caches);
    free_one = &p->lc_caches[p->lc_cache_count++];
    free_one->slots = mem_calloc(256, sizeof *free_one->slots);
    free_one->mask = 255;
  } else {
    memset(free_one->slots, 0, (free_one->mask + 1) * sizeof *free_one->slots);
  }
  free_one->col = lc;
  free_one->count = 0;
  return free_one;
}

static void lc_cache_insert(struct input_lc_cache *lcc, uint64_t h, uint32_t key)
{
  uint32_t s = (uint32_t)h & lcc->mask;
  while (lcc->slots[s])
    s = (s + 1) & lcc->mask;
  lcc->slots[s] = key + 1;
  lcc->count++;
}

static void lc_cache_grow(struct input_lc_cache *lcc, const struct column *dict)
{
  uint32_t old_size = lcc->mask + 1;
  uint32_t *old = lcc->slots;
  lcc->mask = old_size * 2 - 1;
  lcc->slots = mem_calloc(old_size * 2, sizeof *lcc->slots);
  lcc->count = 0;
  for (uint32_t i = 0; i < old_size; i++)
    if (old[i]) {
      struct slice b;
      dict_bytes(dict, old[i] - 1, &b);
      lc_cache_insert(lcc, XXH3_64bits(b.ptr, b.len), old[i] - 1);
    }
  mem_free(old);
}

/* LowCardinality(String) / (Nullable(String)): bytes → key through the
 * cache; a miss appends through column.c, which places the value. */
static void lc_append_string(struct input_parser *p, struct column *lc, const char *s, size_t n)
{
  struct input_lc_cache *lcc = lc_cache_for(p, lc);
  if (!lcc) {
    column_append_bytes(lc, s, n);
    return;
  }
  const struct column *dict = lc->children[0];
  uint64_t h = XXH3_64bits(s, n);
  for (uint32_t k = (uint32_t)h & lcc->mask; lcc->slots[k]; k = (k + 1) & lcc->mask) {
    uint32_t key = lcc->slots[k] - 1;
    struct slice b;
    if (dict_bytes(dict, key, &b) && b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0)) {
      if (lc->rows >= lc->capacity)
        column_reserve(lc, 1);
      ((uint32_t *)lc->data)[lc->rows++] = key;
      return;
    }
  }
  column_append_bytes(lc, s, n);
  uint32_t key = ((const uint32_t *)lc->data)[lc->rows - 1];
  if ((lcc->count + 1) * 2 > lcc->mask + 1)
    lc_cache_grow(lcc, dict);
  lc_cache_insert(lcc, h, key);
}

void input_lc_commit(struct input_parser *p, struct column *lc, struct column *scratch)
{
  const struct column *v = scratch;
  if (v->type->id == TYPE_NULLABLE && !v->nulls[0])
    v = v->children[0];
  if (v->type->id == TYPE_STRING) {
    lc_append_string(p, lc, v->chars_len ? v->chars : "", (size_t)v->chars_len);
  } else {
    column_append_from(lc, scratch, 0);
  }
  input_column_truncate(scratch, 0);
}

struct column *input_scratch(struct input_parser *p, const struct datatype *t)
{
  for (uint32_t i = 0; i < p->scratch_count; i++)
    if (p->scratch[i].type == t) {
      input_column_truncate(p->scratch[i].col, 0);
      return p->scratch[i].col;
    }
  if (p->scratch_count == p->scratch_cap) {
    uint32_t cap = p->scratch_cap ? p->scratch_cap * 2 : 4;
    p->scratch = arena_realloc(p->arena, p->scratch, p->scratch_cap * sizeof *p->scratch, cap * sizeof *p->scratch);
    p->scratch_cap = cap;
  }
  struct column *c = column_create(p->arena, t, 1);
  p->scratch[p->scratch_count].type = t;
  p->scratch[p->scratch_count].col = c;
  p->scratch_count++;
  return c;
}

const struct time_zone *input_zone(struct input_parser *p, const struct datatype *t)
{
  const char *name = t->timezone;
  if (!name)
    return p->tz;
  for (uint32_t i = 0; i < 4; i++)
    if (p->tz_names[i] && (p->tz_names[i] == name || strcmp(p->tz_names[i], name) == 0))
      return p->tz_zones[i];
  const struct time_zone *z = timezone_or_default(name);
  uint32_t k = p->tz_next++ & 3;
  p->tz_names[k] = name;
  p->tz_zones[k] = z;
  return z;
}

/* ---- names ---- */

static uint32_t name_hash(const char *s, size_t n)
{
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

static void names_index(struct input_parser *p)
{
  uint32_t slots = 16;
  while (slots < p->column_count * 2)
    slots *= 2;
  p->name_slots = arena_new_array(p->arena, uint32_t, slots);
  p->name_slot_mask = slots - 1;
  p->name_lens = arena_new_array(p->arena, size_t, p->column_count);
  for (uint32_t i = 0; i < p->column_count; i++) {
    const char *n = p->names[i];
    p->name_lens[i] = strlen(n);
    uint32_t s = name_hash(n, p->name_lens[i]) & p->name_slot_mask;
    while (p->name_slots[s])
      s = (s + 1) & p->name_slot_mask;
    p->name_slots[s] = i + 1;
  }
}

int32_t input_column_index(const struct input_parser *p, const char *s, size_t len)
{
  uint32_t k = name_hash(s, len) & p->name_slot_mask;
  while (p->name_slots[k]) {
    uint32_t i = p->name_slots[k] - 1;
    if (p->name_lens[i] == len && memcmp(p->names[i], s, len) == 0)
      return (int32_t)i;
    k = (k + 1) & p->name_slot_mask;
  }
  return -1;
}

static const char *short_format_name(const struct input_parser *p)
{
  switch (p->desc->kind) {
  case IK_TSV: return "TSV";
  case IK_CSV: return "CSV";
  default: return p->desc->name;
  }
}

int input_map_header(struct input_parser *p, uint32_t n, const char *const *names, const size_t *lens)
{
  if (!p->opts.with_names_use_header) {
    /* Header ignored: fields are the columns in order. */
    return 0;
  }
  p->field_count = n;
  p->field_column = arena_new_array(p->arena, int32_t, n ? n : 1);
  p->field_type = arena_new_array(p->arena, const struct datatype *, n ? n : 1);
  memset(p->seen, 0, p->column_count * sizeof *p->seen);
  for (uint32_t i = 0; i < n; i++) {
    int32_t col = input_column_index(p, names[i], lens[i]);
    if (col < 0) {
      if (!p->opts.skip_unknown_fields)
        return error_set(p->err, ERR_INCORRECT_DATA,
                         "Unknown field found in %s header: '%.*s' at position %u\nSet the "
                         "'input_format_skip_unknown_fields' parameter explicitly to ignore and proceed",
                         short_format_name(p), (int)lens[i], names[i], i);
      p->field_column[i] = -1;
      continue;
    }
    if (p->seen[col])
      return error_set(p->err, ERR_INCORRECT_DATA, "Duplicate field found while parsing %s header: %.*s",
                       short_format_name(p), (int)lens[i], names[i]);
    p->seen[col] = true;
    p->field_column[i] = col;
    p->field_type[i] = p->types[col];
  }
  p->unmapped = 0;
  for (uint32_t i = 0; i < p->column_count; i++)
    p->unmapped += !p->seen[i];
  return 0;
}

int input_check_header_types(struct input_parser *p, uint32_t n, const char *const *types, const size_t *lens)
{
  if (n != p->field_count)
    return error_set(p->err, ERR_INCORRECT_DATA,
                     "The number of data types differs from the number of column names in input data");
  for (uint32_t i = 0; i < n; i++) {
    const struct datatype *t = NULL;
    struct error terr;
    bool parsed = datatype_parse(p->arena, types[i], lens[i], &t, &terr) == 0;
    int32_t col = p->field_column[i];
    if (col < 0) {
      p->field_type[i] = parsed ? t : NULL;
      continue;
    }
    if (!p->opts.with_types_use_header)
      continue;
    if (!parsed || !datatype_equal(t, p->types[col]))
      return error_set(p->err, ERR_INCORRECT_DATA, "Type of '%s' must be %s, not %.*s", p->names[col],
                       datatype_name(p->arena, p->types[col]), (int)lens[i], types[i]);
  }
  return 0;
}

/* ---- error text ---- */

void input_verbose_text(struct buf *out, const char *s, const char *e)
{
  if (s >= e) {
    buf_append_cstr(out, "<EMPTY>");
    return;
  }
  buf_append_char(out, '"');
  for (; s < e; s++) {
    unsigned char ch = (unsigned char)*s;
    switch (ch) {
    case '\0': buf_append_cstr(out, "<ASCII NUL>"); break;
    case '\b': buf_append_cstr(out, "<BACKSPACE>"); break;
    case '\f': buf_append_cstr(out, "<FORM FEED>"); break;
    case '\n': buf_append_cstr(out, "<LINE FEED>"); break;
    case '\r': buf_append_cstr(out, "<CARRIAGE RETURN>"); break;
    case '\t': buf_append_cstr(out, "<TAB>"); break;
    case '\\': buf_append_cstr(out, "<BACKSLASH>"); break;
    case '"': buf_append_cstr(out, "<DOUBLE QUOTE>"); break;
    case '\'': buf_append_cstr(out, "<SINGLE QUOTE>"); break;
    default:
      if (ch < 32)
        buf_printf(out, "<0x%02X>", ch);
      else
        buf_append_char(out, (char)ch);
    }
  }
  buf_append_char(out, '"');
}

int input_error_expected(struct input_parser *p, const char *what, const char *at, const char *end)
{
  struct buf m;
  buf_init(&m);
  buf_append_cstr(&m, "Cannot parse input: expected ");
  column_format_quoted_string(what, strlen(what), &m);
  if (at >= end) {
    buf_append_cstr(&m, " at end of stream.");
  } else {
    size_t n = (size_t)(end - at);
    buf_append_cstr(&m, " before: ");
    column_format_quoted_string(at, n < INPUT_BEFORE_BYTES_MAX ? n : INPUT_BEFORE_BYTES_MAX, &m);
  }
  int rc = error_set(p->err, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "%s", buf_cstr(&m));
  buf_free(&m);
  return rc;
}

/* ---- diagnostics ---- */

void input_diag_field_grow(struct input_parser *p, uint32_t field)
{
  struct input_diag *d = &p->diag;
  uint32_t cap = d->cap ? d->cap * 2 : 16;
  while (cap <= field)
    cap *= 2;
  d->start = arena_realloc(p->arena, d->start, d->cap * sizeof *d->start, cap * sizeof *d->start);
  d->stop = arena_realloc(p->arena, d->stop, d->cap * sizeof *d->stop, cap * sizeof *d->stop);
  d->column = arena_realloc(p->arena, d->column, d->cap * sizeof *d->column, cap * sizeof *d->column);
  d->cap = cap;
}

void input_diag_fail(struct input_parser *p, enum diag_fail kind, uint32_t field, int32_t col, const char *start,
                     const char *stop)
{
  struct input_diag *d = &p->diag;
  d->fail = kind;
  d->fail_field = field;
  d->fail_column = col;
  d->fail_start = start;
  d->fail_stop = stop;
  if (field < d->fields)
    d->fields = field;
}

static bool fixed_size_text(const struct datatype *t)
{
  t = datatype_unwrap(t);
  switch (t->id) {
  case TYPE_STRING: case TYPE_ARRAY: case TYPE_MAP: case TYPE_TUPLE: case TYPE_NESTED: case TYPE_NOTHING:
    return false;
  default:
    return true;
  }
}

static void diag_head(struct input_parser *p, struct buf *o, uint32_t field, int32_t col, size_t name_w, size_t type_w)
{
  const char *name = col >= 0 ? p->names[col] : "<SKIPPED COLUMN>";
  const char *type = col >= 0 ? datatype_name(&p->unit_arena, p->types[col]) : "Nothing";
  buf_printf(o, "Column %u, %*sname: %s, %*stype: %s, %*s", field, field < 10 ? 2 : field < 100 ? 1 : 0, "", name,
             (int)(name_w > strlen(name) ? name_w - strlen(name) : 0), "", type,
             (int)(type_w > strlen(type) ? type_w - strlen(type) : 0), "");
}

static void diag_text(struct buf *o, const char *s, const char *e)
{
  if (e > s + INPUT_DIAG_TEXT_MAX) {
    input_verbose_text(o, s, s + INPUT_DIAG_TEXT_MAX);
    buf_append_cstr(o, "...");
  } else {
    input_verbose_text(o, s, e);
  }
}

static void diag_delim_note(struct input_parser *p, struct buf *o, const char *at, bool row_end)
{
  struct input_diag *d = &p->diag;
  bool tsv = d->delim == '\t';
  const char *end = d->buf_end;
  char ch = at < end ? *at : 0;
  if (row_end) {
    if (ch == d->delim)
      buf_printf(o, "ERROR: %s found where line feed is expected. It's like your file has more columns than "
                 "expected.\nAnd if your file has the right number of columns, maybe it has %s.\n",
                 tsv ? "Tab" : "Delimiter",
                 tsv ? "an unescaped tab in a value" : "an unquoted string value with a comma");
    else if (ch == '\r')
      buf_append_cstr(o, "ERROR: Carriage return found where line feed is expected. It's like your file has "
                         "DOS/Windows style line separators.\n");
    else {
      buf_append_cstr(o, "ERROR: There is no line feed. ");
      input_verbose_text(o, at, at + (at < end ? 1 : 0));
      buf_append_cstr(o, " found instead.\n");
    }
    return;
  }
  if (ch == '\n') {
    if (tsv)
      buf_append_cstr(o, "ERROR: Line feed found where tab is expected. It's like your file has less columns than "
                         "expected.\nAnd if your file has the right number of columns, maybe it has an unescaped "
                         "backslash in value before tab, which causes the tab to be escaped.\n");
    else
      buf_printf(o, "ERROR: Line feed found where delimiter (%c) is expected. It's like your file has less columns "
                 "than expected.\nAnd if your file has the right number of columns, maybe it has unescaped quotes "
                 "in values.\n", d->delim);
  } else if (ch == '\r') {
    buf_printf(o, "ERROR: Carriage return found where %s is expected.\n", tsv ? "tab" : "delimiter");
  } else {
    if (tsv)
      buf_append_cstr(o, "ERROR: There is no tab. ");
    else
      buf_printf(o, "ERROR: There is no delimiter (%c). ", d->delim);
    input_verbose_text(o, at, at + (at < end ? 1 : 0));
    buf_append_cstr(o, " found instead.\n");
  }
}

/* ClickHouse's "Row N:" block: one line per field up to the failing one. */
static void diag_render(struct input_parser *p, struct buf *o, uint64_t row_no)
{
  struct input_diag *d = &p->diag;
  size_t name_w = 0, type_w = 0;
  for (uint32_t i = 0; i < p->column_count; i++) {
    size_t n = strlen(p->names[i]);
    size_t t = strlen(datatype_name(&p->unit_arena, p->types[i]));
    name_w = n > name_w ? n : name_w;
    type_w = t > type_w ? t : type_w;
  }
  struct buf last;
  buf_init(&last);
  uint32_t ok = d->fields;
  bool row_end = d->fail == DIAG_ROW_END;
  uint32_t fail_field = d->fail_field;
  int32_t fail_col = d->fail_column;
  const char *fs = d->fail_start, *fp = d->fail_stop;
  if (row_end && ok > 0) {
    /* The last field parsed; the error is what followed it. */
    ok--;
    fail_field = ok;
    fail_col = d->column[ok];
    fs = d->start[ok];
    fp = d->stop[ok];
  }
  const struct datatype *ft = fail_col >= 0 ? p->types[fail_col] : datatype_simple(TYPE_NOTHING);
  diag_head(p, &last, fail_field, fail_col, name_w, type_w);
  if (d->fail == DIAG_VALUE) {
    buf_append_cstr(&last, "parsed text: ");
    diag_text(&last, fs, fp);
    const struct datatype *u = datatype_unwrap(ft);
    if (u->id == TYPE_DATETIME)
      buf_append_cstr(&last, "ERROR: DateTime must be in YYYY-MM-DD hh:mm:ss or NNNNNNNNNN (unix timestamp, exactly "
                             "10 digits) format.\n");
    else if (u->id == TYPE_DATE)
      buf_append_cstr(&last, "ERROR: Date must be in YYYY-MM-DD format.\n");
    else
      buf_append_cstr(&last, "ERROR\n");
  } else if (input_type_is_numeric_text(ft) && fs == fp) {
    buf_append_cstr(&last, "ERROR: text ");
    input_verbose_text(&last, fs, d->buf_end - fs > 10 ? fs + 10 : d->buf_end);
    buf_append_cstr(&last, " is not like ");
    buf_append_cstr(&last, datatype_name(&p->unit_arena, ft));
    buf_append_char(&last, '\n');
  } else {
    buf_append_cstr(&last, "parsed text: ");
    diag_text(&last, fs, fp);
    buf_append_char(&last, '\n');
    if (fixed_size_text(ft) && fp < d->lim && *fp != d->delim) {
      buf_append_cstr(&last, "ERROR: garbage after ");
      buf_append_cstr(&last, datatype_name(&p->unit_arena, ft));
      buf_append_cstr(&last, ": ");
      input_verbose_text(&last, fp, d->buf_end - fp > 10 ? fp + 10 : d->buf_end);
      buf_append_char(&last, '\n');
    } else {
      diag_delim_note(p, &last, fp, row_end);
    }
  }
  /* Earlier fields, as many as fit the message (the failing line matters most). */
  size_t budget = ERROR_MESSAGE_MAX > o->len + last.len + 64 ? ERROR_MESSAGE_MAX - o->len - last.len - 64 : 0;
  struct buf lines;
  buf_init(&lines);
  uint32_t first = ok;
  size_t used = 0;
  struct buf one;
  buf_init(&one);
  while (first > 0) {
    buf_reset(&one);
    uint32_t f = first - 1;
    diag_head(p, &one, f, d->column[f], name_w, type_w);
    buf_append_cstr(&one, "parsed text: ");
    diag_text(&one, d->start[f], d->stop[f]);
    buf_append_char(&one, '\n');
    if (used + one.len > budget)
      break;
    used += one.len;
    first--;
  }
  buf_printf(o, ":\nRow %llu:\n", (unsigned long long)row_no);
  if (first > 0)
    buf_append_cstr(o, "...\n");
  for (uint32_t f = first; f < ok; f++) {
    diag_head(p, o, f, d->column[f], name_w, type_w);
    buf_append_cstr(o, "parsed text: ");
    diag_text(o, d->start[f], d->stop[f]);
    buf_append_char(o, '\n');
  }
  buf_append(o, last.data, last.len);
  buf_free(&one);
  buf_free(&lines);
  buf_free(&last);
}

/* Rewrites p->err as ClickHouse's ParsingException text: the reason, the
 * context, ": (at row N)" and the per-column diagnostic. */
static int row_error(struct input_parser *p, int rc, uint64_t row_no, const char *extra)
{
  struct buf m;
  buf_init(&m);
  buf_append_cstr(&m, p->err->message);
  if (p->diag.context) {
    buf_append_cstr(&m, ": ");
    buf_append_cstr(&m, p->diag.context);
  }
  if (extra) {
    buf_append_cstr(&m, ": ");
    buf_append_cstr(&m, extra);
  }
  buf_printf(&m, ": (at row %llu)\n", (unsigned long long)row_no);
  if (p->diag.enabled && p->diag.fail != DIAG_NONE)
    diag_render(p, &m, row_no);
  size_t n = m.len < ERROR_MESSAGE_MAX - 1 ? m.len : ERROR_MESSAGE_MAX - 1;
  memcpy(p->err->message, m.data, n);
  p->err->message[n] = '\0';
  p->err->code = rc;
  buf_free(&m);
  return rc;
}

static void diag_reset(struct input_parser *p)
{
  p->diag.fields = 0;
  p->diag.fail = DIAG_NONE;
  p->diag.context = NULL;
}

/* ---- the driver ---- */

static void rollback(struct input_parser *p, uint32_t rows)
{
  for (uint32_t i = 0; i < p->column_count; i++) {
    input_column_truncate(p->cols[i], rows);
    uint8_t *m = p->cur->omitted[i];
    if (m && p->omitted_cap[i] > rows)
      memset(m + rows, 0, p->omitted_cap[i] - rows);
  }
}

static bool is_parse_error(int rc)
{
  switch (rc) {
  case ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED: case ERR_CANNOT_PARSE_QUOTED_STRING: case ERR_CANNOT_PARSE_DATE:
  case ERR_CANNOT_PARSE_DATETIME: case ERR_CANNOT_PARSE_NUMBER: case ERR_CANNOT_PARSE_UUID:
  case ERR_CANNOT_PARSE_BOOL: case ERR_CANNOT_READ_ARRAY_FROM_TEXT: case ERR_CANNOT_READ_ALL_DATA:
  case ERR_TOO_LARGE_STRING_SIZE: case ERR_ARGUMENT_OUT_OF_BOUND: case ERR_INCORRECT_DATA: case ERR_SYNTAX_ERROR:
  case ERR_ATTEMPT_TO_READ_AFTER_EOF: case ERR_UNKNOWN_ELEMENT_OF_ENUM: case ERR_CANNOT_PARSE_TEXT:
  case ERR_CANNOT_PARSE_ESCAPE_SEQUENCE: case ERR_VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE:
    return true;
  default:
    return false;
  }
}

static bool is_space(char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* After the end marker (']' of a JSON array, ';' after Values) only
 * whitespace and one ';' may follow. */
static int drive_trailer(struct input_parser *p, struct input_cursor *c)
{
  for (; c->p < c->end; c->p++) {
    if (is_space(*c->p))
      continue;
    if (*c->p == ';' && !(p->desc->kind == IK_VALUES))
      continue;
    return input_error_expected(p, "eof", c->p, c->end);
  }
  return 0;
}

/* Parses rows from data[0, len); *used = bytes of complete rows consumed. */
static int drive(struct input_parser *p, const char *data, size_t len, bool eof, size_t *used)
{
  struct input_cursor c = { data, data + len, eof };
  int rc;
  *used = 0;
  if (!p->prefix_done) {
    diag_reset(p);
    if (p->family->prefix) {
      rc = p->family->prefix(p, &c);
      if (rc == INPUT_NEED_MORE)
        goto need_more;
      if (rc) {
        size_t n = strlen(p->err->message);
        snprintf(p->err->message + n, sizeof p->err->message - n, ": (while reading header)");
        return rc;
      }
    }
    p->prefix_done = true;
    p->bytes += (size_t)(c.p - data);
    *used = (size_t)(c.p - data);
  }
  while (!p->ended) {
    if (!p->cur)
      block_begin(p);
    uint32_t before = p->cur_rows;
    const char *row_start = c.p;
    diag_reset(p);
    arena_reset(&p->unit_arena);
    rc = p->family->row(p, &c);
    if (rc == 0) {
      uint32_t rows = p->cols[0]->rows;
      for (uint32_t i = 1; i < p->column_count; i++)
        if (p->cols[i]->rows != rows)
          abort();  /* programmer error: a family skipped a column */
      p->rows += rows - before;
      p->cur_rows = rows;
      p->cur_bytes += (size_t)(c.p - row_start);
      p->bytes += (size_t)(c.p - row_start);
      *used = (size_t)(c.p - data);
      if (p->cur_rows >= p->opts.block_rows_max || p->cur_bytes >= p->opts.block_bytes_max)
        block_seal(p);
      continue;
    }
    rollback(p, before);
    if (rc == INPUT_NEED_MORE)
      goto need_more;
    if (rc == INPUT_END) {
      p->ended = true;
      p->bytes += (size_t)(c.p - row_start);
      *used = (size_t)(c.p - data);
      break;
    }
    uint64_t row_no = p->rows + p->skipped + 1;
    if ((p->opts.allow_errors_num || p->opts.allow_errors_ratio > 0) && is_parse_error(rc)) {
      if (!p->family->skip_row)
        return row_error(p, rc, row_no, "(Input format doesn't allow to skip errors)");
      struct input_cursor s = { row_start, c.end, eof };
      int sr = p->family->skip_row(p, &s);
      if (sr == INPUT_NEED_MORE)
        goto need_more;
      p->skipped++;
      double ratio = (double)p->skipped / (double)(p->rows + p->skipped);
      if (p->skipped > p->opts.allow_errors_num && ratio > p->opts.allow_errors_ratio) {
        char extra[160];
        snprintf(extra, sizeof extra, "(Already have %llu errors out of %llu rows, which is %g of all rows)",
                 (unsigned long long)p->skipped, (unsigned long long)(p->rows + p->skipped), ratio);
        return row_error(p, rc, row_no, extra);
      }
      p->bytes += (size_t)(s.p - row_start);
      c.p = s.p;
      *used = (size_t)(c.p - data);
      continue;
    }
    return row_error(p, rc, row_no, NULL);
  }
  if (p->ended) {
    rc = drive_trailer(p, &c);
    if (rc)
      return rc;
    p->bytes += (size_t)(c.p - (data + *used));
    *used = len;
  }
  return 0;
need_more:
  if (eof)
    return error_set(p->err, ERR_LOGICAL_ERROR, "Input format %s wants more data at the end of the input",
                     p->desc->name);
  return 0;
}

static int parser_fail(struct input_parser *p, int rc)
{
  p->failed = rc;
  p->failed_message = arena_strdup(p->arena, p->err->message);
  return rc;
}

static int already_failed(struct input_parser *p, struct error *err)
{
  return error_set(err, p->failed, "%s", p->failed_message);
}

int input_parser_feed(struct input_parser *p, const char *data, size_t len, struct error *err)
{
  p->err = err;
  if (p->failed)
    return already_failed(p, err);
  if (p->finished)
    abort();  /* programmer error: feed after finish */
  if (len == 0)
    return 0;
  size_t used;
  int rc;
  size_t waiting = p->pending.len - p->pending_pos;
  if (waiting == 0) {
    rc = drive(p, data, len, false, &used);
    if (rc)
      return parser_fail(p, rc);
    buf_reset(&p->pending);
    p->pending_pos = 0;
    if (used < len) {
      buf_append(&p->pending, data + used, len - used);
      p->retry_bytes = (len - used) * 2;
    }
    return 0;
  }
  if (waiting + len > INPUT_ROW_BYTES_MAX)
    return parser_fail(p, error_set(err, ERR_TOO_LARGE_STRING_SIZE,
                                    "A row of %s input is larger than %zu bytes (at row %llu)", p->desc->name,
                                    INPUT_ROW_BYTES_MAX, (unsigned long long)(p->rows + p->skipped + 1)));
  buf_append(&p->pending, data, len);
  waiting += len;
  if (waiting < p->retry_bytes)
    return 0;
  rc = drive(p, p->pending.data + p->pending_pos, waiting, false, &used);
  if (rc)
    return parser_fail(p, rc);
  p->pending_pos += used;
  waiting -= used;
  if (waiting == 0) {
    buf_reset(&p->pending);
    p->pending_pos = 0;
  } else if (p->pending_pos) {
    buf_consume(&p->pending, p->pending_pos);
    p->pending_pos = 0;
  }
  p->retry_bytes = waiting * 2;
  return 0;
}

int input_parser_finish(struct input_parser *p, struct error *err)
{
  p->err = err;
  if (p->failed)
    return already_failed(p, err);
  if (p->finished)
    return 0;
  size_t used;
  size_t waiting = p->pending.len - p->pending_pos;
  int rc = drive(p, waiting ? p->pending.data + p->pending_pos : "", waiting, true, &used);
  if (rc)
    return parser_fail(p, rc);
  buf_free(&p->pending);
  p->pending_pos = 0;
  if (!p->prefix_done)
    return parser_fail(p, error_set(err, ERR_LOGICAL_ERROR, "Input format %s did not finish its header",
                                    p->desc->name));
  if (p->cur && p->cur_rows > 0)
    block_seal(p);
  else if (p->cur) {
    input_block_destroy(p->cur);
    p->cur = NULL;
  }
  p->finished = true;
  return 0;
}

static void parser_cleanup(void *arg)
{
  struct input_parser *p = arg;
  buf_free(&p->pending);
  buf_free(&p->tmp);
  arena_destroy(&p->unit_arena);
  for (uint32_t i = 0; i < p->lc_cache_count; i++)
    mem_free(p->lc_caches[i].slots);
  mem_free(p->lc_caches);
  p->lc_caches = NULL;
  p->lc_cache_count = 0;
  input_block_destroy(p->cur);
  p->cur = NULL;
  while (p->done_head) {
    struct input_block *b = p->done_head;
    p->done_head = b->next;
    input_block_destroy(b);
  }
  p->done_tail = NULL;
}

int input_parser_create(struct arena *a, const char *format, uint32_t column_count, const char *const *names,
                        const struct datatype *const *types, const struct input_options *opts,
                        struct input_parser **out, struct error *err)
{
  *out = NULL;
  const struct input_format_desc *d = input_format_find(format);
  if (!d) {
    if (format && format_is_known(format))
      return error_set(err, ERR_FORMAT_IS_NOT_SUITABLE_FOR_INPUT, "Format %s is not suitable for input", format);
    return error_set(err, ERR_UNKNOWN_FORMAT, "Unknown format %s", format ? format : "(null)");
  }
  if (column_count == 0)
    return error_set(err, ERR_EMPTY_LIST_OF_COLUMNS_QUERIED, "No columns to insert into");
  struct input_parser *p = arena_new(a, struct input_parser);
  p->arena = a;
  p->desc = d;
  p->family = family_for(d->kind);
  if (opts)
    p->opts = *opts;
  else
    input_options_init(&p->opts);
  if (!p->opts.block_rows_max)
    p->opts.block_rows_max = INPUT_BLOCK_ROWS_DEFAULT;
  if (!p->opts.block_bytes_max)
    p->opts.block_bytes_max = INPUT_BLOCK_BYTES_DEFAULT;
  if (!p->opts.csv_delimiter)
    p->opts.csv_delimiter = ',';
  p->tz = timezone_or_default(p->opts.timezone);
  p->column_count = column_count;
  p->names = names;
  p->types = types;
  p->err = err;
  p->seen = arena_new_array(a, bool, column_count);
  p->hint_chars = arena_new_array(a, uint64_t, column_count);
  p->omitted_cap = arena_new_array(a, uint32_t, column_count);
  /* Fields are the columns in order unless a header or the input says otherwise. */
  p->field_count = column_count;
  p->field_column = arena_new_array(a, int32_t, column_count);
  p->field_type = arena_new_array(a, const struct datatype *, column_count);
  for (uint32_t i = 0; i < column_count; i++) {
    p->field_column[i] = (int32_t)i;
    p->field_type[i] = types[i];
    p->seen[i] = true;
  }
  names_index(p);
  buf_init(&p->pending);
  buf_init(&p->tmp);
  arena_init(&p->unit_arena, 0);
  arena_on_cleanup(a, parser_cleanup, p);
  *out = p;
  return 0;
}
