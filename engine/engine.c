/* Engine lifetime, tables and parts: opening a data directory (catalog +
 * reconciliation of every table directory with it), compiled definitions,
 * refcounted part and table objects, the graveyard of merged-away parts
 * (files deleted once the last snapshot lets go), DDL that changes the part
 * set (DROP / TRUNCATE / DROP PARTITION) and introspection for system
 * tables. Inserts: insert.c; merges: merge.c; snapshots and scans: scan.c. */
#include "engine/engine_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"

/* ======================================================================
 * Small helpers
 * ==================================================================== */

int remove_tree(const char *path)
{
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? 0 : -errno;
  if (S_ISDIR(st.st_mode)) {
    DIR *dir = opendir(path);
    if (!dir)
      return -errno;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      size_t n = strlen(path) + strlen(de->d_name) + 2;
      char *child = mem_alloc(n);
      snprintf(child, n, "%s/%s", path, de->d_name);
      remove_tree(child);
      mem_free(child);
    }
    closedir(dir);
    return rmdir(path) == 0 || errno == ENOENT ? 0 : -errno;
  }
  return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

static int mkdir_p(const char *path)
{
  char *p = mem_strdup(path);
  int rc = 0;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      rc = -errno;
      break;
    }
    *s = '/';
  }
  if (rc == 0 && mkdir(p, 0755) != 0 && errno != EEXIST)
    rc = -errno;
  mem_free(p);
  return rc;
}

int64_t time_value(const struct column *c, uint32_t row)
{
  const struct datatype *t = datatype_unwrap(c->type);
  if (t->id == TYPE_DATETIME64 || datatype_is_signed(t))
    return column_get_i64(c, row);
  if (datatype_is_float(t))
    return (int64_t)column_get_f64(c, row);
  return (int64_t)column_get_u64(c, row);
}

/* ======================================================================
 * Compiled definitions
 * ==================================================================== */

void def_ref(struct def *d) { atomic_fetch_add(&d->refs, 1); }

void def_unref(struct def *d)
{
  if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
    return;
  if (d->td.ctx_free)
    d->td.ctx_free(d->td.ctx);
  arena_destroy(&d->arena);
  mem_free(d);
}

static const struct datatype *copy_type(struct arena *a, const struct datatype *t)
{
  if (!t)
    return NULL;
  struct buf b;
  buf_init(&b);
  datatype_format(t, &b);
  const struct datatype *r = NULL;
  struct error e;
  if (datatype_parse(a, b.data, b.len, &r, &e) != 0)
    r = NULL;
  buf_free(&b);
  return r;
}

static int copy_expr(struct def *d, struct table_expr *dst, const struct table_expr *src, const char *what,
                     struct error *err)
{
  *dst = *src;
  dst->text = arena_strdup(&d->arena, src->text ? src->text : "");
  dst->inputs = NULL;
  dst->input_count = 0;
  if (src->column < 0 && src->inputs) {
    uint32_t *in = arena_new_array(&d->arena, uint32_t, src->input_count + 1);
    for (uint32_t i = 0; i < src->input_count; i++) {
      if (src->inputs[i] >= d->td.column_count)
        return error_set(err, ERR_BAD_ARGUMENTS, "%s %s reads column #%u, the table has %u", what, dst->text,
                         src->inputs[i], d->td.column_count);
      in[i] = src->inputs[i];
    }
    dst->inputs = in;
    dst->input_count = src->input_count;
  }
  if (src->column >= 0) {
    if ((uint32_t)src->column >= d->td.column_count)
      return error_set(err, ERR_BAD_ARGUMENTS, "%s %s refers to column #%d, the table has %u", what, dst->text,
                       src->column, d->td.column_count);
    dst->type = d->td.columns[src->column].type;
    dst->eval = NULL;
    return 0;
  }
  if (!src->eval || !src->type)
    return error_set(err, ERR_BAD_ARGUMENTS, "%s %s has neither a column nor an evaluator with a type", what,
                     dst->text);
  dst->type = copy_type(&d->arena, src->type);
  if (!dst->type)
    return error_set(err, ERR_BAD_ARGUMENTS, "%s %s has a type that cannot be copied", what, dst->text);
  return 0;
}

static bool version_type_ok(const struct datatype *t)
{
  return datatype_is_integer(t) || t->id == TYPE_DATE || t->id == TYPE_DATETIME || t->id == TYPE_DATETIME64;
}

int def_compile(const struct table_def *in, struct def **out, struct error *err)
{
  *out = NULL;
  struct def *d = mem_calloc(1, sizeof *d);
  atomic_init(&d->refs, 1);
  arena_init(&d->arena, 0);
  struct arena *a = &d->arena;
  struct table_def *td = &d->td;
  int rc = 0;
  *td = *in;
  if (!in->column_count || !in->columns) {
    rc = error_set(err, ERR_BAD_ARGUMENTS, "A table definition needs at least one column");
    goto fail;
  }
  uint32_t n = in->column_count;
  struct table_column *cols = arena_new_array(a, struct table_column, n);
  for (uint32_t i = 0; i < n; i++) {
    const struct table_column *c = &in->columns[i];
    if (!c->name || !*c->name || !c->type) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "Column #%u of the table definition lacks a name or type", i);
      goto fail;
    }
    if (strncmp(c->name, SORT_KEY_PREFIX, strlen(SORT_KEY_PREFIX)) == 0) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "Column name %s is reserved", c->name);
      goto fail;
    }
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(in->columns[j].name, c->name) == 0) {
        rc = error_set(err, ERR_DUPLICATE_COLUMN, "Column %s specified more than once", c->name);
        goto fail;
      }
    cols[i] = *c;
    cols[i].name = arena_strdup(a, c->name);
    cols[i].type = copy_type(a, c->type);
    if (!cols[i].type) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "Column %s has a type that cannot be stored", c->name);
      goto fail;
    }
  }
  td->columns = cols;
  d->ncols = n;
  for (uint32_t i = 0; i < n; i++) {
    const struct table_expr *x = &in->columns[i].default_expr;
    if (!x->text)
      continue;
    if ((rc = copy_expr(d, &cols[i].default_expr, x, "DEFAULT expression", err)) != 0)
      goto fail;
    const struct datatype *want = cols[i].type, *got = cols[i].default_expr.type;
    if (!datatype_equal(got, want) && !(want->id == TYPE_LOW_CARDINALITY && datatype_equal(got, want->children[0]))) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "DEFAULT expression %s of column %s has another type than the column",
                     cols[i].default_expr.text, cols[i].name);
      goto fail;
    }
  }

  struct table_expr *pk = arena_new_array(a, struct table_expr, in->partition_key_count + 1);
  for (uint32_t i = 0; i < in->partition_key_count; i++)
    if ((rc = copy_expr(d, &pk[i], &in->partition_key[i], "Partition key", err)) != 0)
      goto fail;
  td->partition_key = pk;
  struct table_expr *sk = arena_new_array(a, struct table_expr, in->sort_key_count + 1);
  for (uint32_t i = 0; i < in->sort_key_count; i++)
    if ((rc = copy_expr(d, &sk[i], &in->sort_key[i], "Sorting key element", err)) != 0)
      goto fail;
  td->sort_key = sk;
  d->pk_count = in->primary_key_count ? in->primary_key_count : in->sort_key_count;
  if (d->pk_count > in->sort_key_count) {
    rc = error_set(err, ERR_BAD_ARGUMENTS, "Primary key must be a prefix of the sorting key");
    goto fail;
  }
  td->primary_key_count = d->pk_count;

  if (in->version_column >= 0) {
    if ((uint32_t)in->version_column >= n || in->kind != TABLE_REPLACING_MERGE_TREE ||
        !version_type_ok(cols[in->version_column].type)) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "The version column of ReplacingMergeTree must be an unsigned or "
                     "signed integer, Date, DateTime or DateTime64 column of the table");
      goto fail;
    }
  } else {
    td->version_column = -1;
  }
  d->summed = arena_new_array(a, bool, n + in->sort_key_count + 1);   /* hidden columns: never */
  uint32_t *sums = arena_new_array(a, uint32_t, in->sum_column_count + 1);
  for (uint32_t i = 0; i < in->sum_column_count; i++) {
    uint32_t c = in->sum_columns[i];
    if (c >= n || !datatype_is_numeric(cols[c].type) || cols[c].in_sorting_key) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "Column #%u cannot be summed: it must be a numeric column outside "
                     "the sorting key", c);
      goto fail;
    }
    sums[i] = c;
  }
  td->sum_columns = sums;
  if (in->kind == TABLE_SUMMING_MERGE_TREE) {
    for (uint32_t i = 0; i < n; i++)
      d->summed[i] = in->sum_column_count ? false : datatype_is_numeric(cols[i].type) && !cols[i].in_sorting_key;
    for (uint32_t i = 0; i < in->sum_column_count; i++)
      d->summed[sums[i]] = true;
  }

  struct table_index *ix = arena_new_array(a, struct table_index, in->index_count + 1);
  d->sidx = arena_new_array(a, struct skip_index_def, in->index_count + 1);
  for (uint32_t i = 0; i < in->index_count; i++) {
    const struct table_index *s = &in->indexes[i];
    if (!s->name || !*s->name || s->granularity == 0) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "Skip index #%u needs a name and a granularity >= 1", i);
      goto fail;
    }
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(in->indexes[j].name, s->name) == 0) {
        rc = error_set(err, ERR_BAD_ARGUMENTS, "Index %s specified more than once", s->name);
        goto fail;
      }
    ix[i] = *s;
    ix[i].name = arena_strdup(a, s->name);
    if ((rc = copy_expr(d, &ix[i].expr, &s->expr, "Skip index expression", err)) != 0)
      goto fail;
    d->sidx[i] = (struct skip_index_def){
      .name = ix[i].name, .expression = ix[i].expr.text, .type = s->type, .input_type = ix[i].expr.type,
      .granularity = s->granularity, .false_positive_rate = s->false_positive_rate > 0 ? s->false_positive_rate : 0.025,
      .max_rows = s->max_rows, .size_bytes = s->size_bytes, .hash_count = s->hash_count, .seed = s->seed,
      .ngram_n = s->ngram_n,
    };
  }
  td->indexes = ix;

  if (in->time_column >= 0 && (uint32_t)in->time_column >= n) {
    rc = error_set(err, ERR_BAD_ARGUMENTS, "The time column #%d is not a column of the table", in->time_column);
    goto fail;
  }
  if (in->time_column < 0)
    td->time_column = -1;
  d->minmax_cols = arena_new_array(a, uint32_t, in->minmax_column_count + 2);
  for (uint32_t i = 0; i < in->minmax_column_count; i++) {
    if (in->minmax_columns[i] >= n) {
      rc = error_set(err, ERR_BAD_ARGUMENTS, "Min/max column #%u is not a column of the table", in->minmax_columns[i]);
      goto fail;
    }
    bool dup = false;
    for (uint32_t j = 0; j < d->minmax_count; j++)
      dup |= d->minmax_cols[j] == in->minmax_columns[i];
    if (!dup)
      d->minmax_cols[d->minmax_count++] = in->minmax_columns[i];
  }
  if (td->time_column >= 0) {
    bool have = false;
    for (uint32_t j = 0; j < d->minmax_count; j++)
      have |= d->minmax_cols[j] == (uint32_t)td->time_column;
    if (!have)
      d->minmax_cols[d->minmax_count++] = (uint32_t)td->time_column;
  }
  td->minmax_columns = d->minmax_cols;
  td->minmax_column_count = d->minmax_count;

  /* storage layout: table columns, then hidden sorting-key expressions */
  uint32_t hidden = 0;
  for (uint32_t i = 0; i < in->sort_key_count; i++)
    hidden += sk[i].column < 0;
  d->nstore = n + hidden;
  d->pcols = arena_new_array(a, struct part_column_def, d->nstore);
  d->sort_col = arena_new_array(a, uint32_t, in->sort_key_count + 1);
  for (uint32_t i = 0; i < n; i++)
    d->pcols[i] = (struct part_column_def){ cols[i].name, cols[i].type, cols[i].codec, false };
  uint32_t h = n;
  for (uint32_t i = 0; i < in->sort_key_count; i++) {
    if (sk[i].column >= 0) {
      d->sort_col[i] = (uint32_t)sk[i].column;
      continue;
    }
    /* computed: stored values would only repeat what the stored columns say */
    d->pcols[h] = (struct part_column_def){ arena_printf(a, SORT_KEY_PREFIX "%u", i), sk[i].type, { 0 }, true };
    d->sort_col[i] = h++;
  }
  d->schema = (struct part_schema){
    .column_count = d->nstore, .columns = d->pcols, .key_count = d->pk_count, .key_columns = d->sort_col,
    .minmax_count = d->minmax_count, .minmax_columns = d->minmax_cols, .index_count = in->index_count,
    .indexes = d->sidx,
  };
  const struct table_settings *s = &in->settings;
  d->parts_to_delay = s->parts_to_delay_insert;
  d->parts_to_throw = s->parts_to_throw_insert;
  d->max_parts_total = s->max_parts_in_total;
  d->max_merge_bytes = s->max_bytes_to_merge;
  d->max_merge_parts = s->max_parts_to_merge_at_once;
  *out = d;
  return 0;

fail:
  td->ctx_free = NULL;   /* the caller still owns ctx when compiling fails */
  def_unref(d);
  return rc;
}

/* ======================================================================
 * Reading parts with computed columns
 *
 * A part may lack a storage column of the definition it is read with: a
 * hidden sorting-key column is computed (never stored since format
 * version 3; stored by older parts, which are read as they are), and a
 * table column added by ALTER is missing from parts written before. Such
 * columns are evaluated over the table columns of the rows read, like the
 * insert path evaluates them, so every reader (scans, FINAL, merges) sees
 * the same values whatever the part holds.
 * ==================================================================== */

static int table_column_index(const struct def *d, const char *name)
{
  for (uint32_t i = 0; i < d->ncols; i++)
    if (strcmp(d->td.columns[i].name, name) == 0)
      return (int)i;
  return -1;
}

static bool part_stores(const struct part_reader *r, const char *name)
{
  int i = part_reader_column_index(r, name);
  return i >= 0 && !part_reader_schema(r)->columns[i].computed;
}

/* The expression computing requested column `name` in part r, or NULL when
 * the part stores it (or nothing better than the type's default exists). */
static const struct table_expr *derived_expr(const struct def *d, const struct part_reader *r, const char *name)
{
  if (part_stores(r, name))
    return NULL;
  int c = table_column_index(d, name);
  if (c >= 0)
    return d->td.columns[c].default_expr.text ? &d->td.columns[c].default_expr : NULL;
  for (uint32_t k = 0; k < d->td.sort_key_count; k++)
    if (d->td.sort_key[k].column < 0 && strcmp(d->pcols[d->sort_col[k]].name, name) == 0)
      return &d->td.sort_key[k];
  return NULL;
}

/* Marks the table columns x reads; returns whether that changed need. */
static bool mark_inputs(const struct def *d, const struct table_expr *x, bool *need)
{
  bool changed = false;
  if (x->column >= 0) {
    changed = !need[x->column];
    need[x->column] = true;
    return changed;
  }
  for (uint32_t i = 0; i < (x->inputs ? x->input_count : d->ncols); i++) {
    uint32_t c = x->inputs ? x->inputs[i] : i;
    changed |= !need[c];
    need[c] = true;
  }
  return changed;
}

static uint32_t read_list_put(struct part_read_column *list, uint32_t *n, const char *name, const struct datatype *t)
{
  for (uint32_t i = 0; i < *n; i++)
    if (strcmp(list[i].name, name) == 0)
      return i;
  list[*n] = (struct part_read_column){ name, t };
  return (*n)++;
}

static struct column *default_column(struct arena *a, const struct datatype *t, uint32_t rows, bool as_const)
{
  struct column *one = column_create(a, t, as_const ? 1 : rows);
  for (uint32_t r = 0; r < (as_const ? 1 : rows); r++)
    column_append_default(one);
  return as_const ? column_const_from(a, one, 0, rows) : one;
}

/* Whether every input of x is ready (a table column never waits for itself). */
static bool inputs_ready(const struct def *d, const struct table_expr *x, uint32_t self, const bool *ready)
{
  if (x->column >= 0)
    return (uint32_t)x->column == self || ready[x->column];
  for (uint32_t i = 0; i < (x->inputs ? x->input_count : d->ncols); i++) {
    uint32_t c = x->inputs ? x->inputs[i] : i;
    if (c != self && !ready[c])
      return false;
  }
  return true;
}

/* Computes the table columns in view that the part lacks and that have a
 * DEFAULT expression, in dependency order (a default may read another
 * added column); what is left in a cycle keeps the type's default. */
static int fill_missing_defaults(const struct def *d, struct block *view, bool *ready, const bool *need,
                                 struct arena *a, struct error *err)
{
  for (bool progress = true; progress;) {
    progress = false;
    for (uint32_t c = 0; c < d->ncols; c++) {
      const struct table_expr *x = &d->td.columns[c].default_expr;
      if (ready[c] || !need[c] || !x->text || !inputs_ready(d, x, c, ready))
        continue;
      int rc = eval_expr(x, view, a, &view->columns[c], err);
      if (rc)
        return error_prefix(err, "DEFAULT of column %s: ", d->td.columns[c].name);
      ready[c] = true;
      progress = true;
    }
  }
  return 0;
}

int part_read_derived(const struct def *d, struct part_reader *r, const struct part_read_column *cols,
                      uint32_t ncols, const struct granule_range *ranges, uint32_t nranges, struct arena *a,
                      struct block **out, struct part_read_stats *stats, struct error *err)
{
  const struct table_expr **x = arena_new_array(a, const struct table_expr *, ncols + 1);
  bool any = false;
  for (uint32_t i = 0; i < ncols; i++)
    any |= (x[i] = derived_expr(d, r, cols[i].name)) != NULL;
  if (!any)
    return part_reader_read(r, cols, ncols, ranges, nranges, a, out, stats, err);

  /* the table columns the expressions need, through defaults reading defaults */
  bool *need = arena_new_array(a, bool, d->ncols + 1);
  for (uint32_t i = 0; i < ncols; i++) {
    if (!x[i])
      continue;
    int c = table_column_index(d, cols[i].name);
    if (c >= 0)
      need[c] = true;
    mark_inputs(d, x[i], need);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t c = 0; c < d->ncols; c++)
      if (need[c] && d->td.columns[c].default_expr.text && !part_stores(r, d->td.columns[c].name))
        changed |= mark_inputs(d, &d->td.columns[c].default_expr, need);
  }

  /* one read: the requested stored columns, then the needed ones */
  struct part_read_column *list = arena_new_array(a, struct part_read_column, ncols + d->ncols + 1);
  uint32_t nlist = 0;
  uint32_t *pos = arena_new_array(a, uint32_t, ncols + 1);
  int32_t *tpos = arena_new_array(a, int32_t, d->ncols + 1);
  for (uint32_t i = 0; i < ncols; i++)
    if (!x[i])
      pos[i] = read_list_put(list, &nlist, cols[i].name, cols[i].type);
  for (uint32_t c = 0; c < d->ncols; c++) {
    const struct table_column *tc = &d->td.columns[c];
    tpos[c] = need[c] && part_stores(r, tc->name) ? (int32_t)read_list_put(list, &nlist, tc->name, tc->type) : -1;
  }
  struct block *got;
  int rc = part_reader_read(r, list, nlist, ranges, nranges, a, &got, stats, err);
  if (rc)
    return rc;

  /* the table columns as evaluators take them: what was read, computed
   * defaults, and constant defaults for columns no expression reads */
  struct block *view = block_create(a, d->ncols);
  view->rows = got->rows;
  bool *ready = arena_new_array(a, bool, d->ncols + 1);
  for (uint32_t c = 0; c < d->ncols; c++) {
    const struct table_column *tc = &d->td.columns[c];
    view->names[c] = tc->name;
    ready[c] = tpos[c] >= 0;
    view->columns[c] = ready[c] ? got->columns[tpos[c]] : default_column(a, tc->type, got->rows, !need[c]);
  }
  if ((rc = fill_missing_defaults(d, view, ready, need, a, err)) != 0)
    return rc;

  struct block *b = block_create(a, ncols);
  b->rows = got->rows;
  for (uint32_t i = 0; i < ncols; i++) {
    b->names[i] = cols[i].name;
    if (!x[i]) {
      b->columns[i] = got->columns[pos[i]];
      continue;
    }
    int c = table_column_index(d, cols[i].name);
    if (c >= 0) {
      b->columns[i] = view->columns[c];
      continue;
    }
    if ((rc = eval_expr(x[i], view, a, &b->columns[i], err)) != 0)
      return rc;
  }
  *out = b;
  return 0;
}

static bool chunk_has(const struct mem_chunk *c, const struct table_column *tc)
{
  for (uint32_t i = 0; i < c->rows->column_count; i++)
    if (strcmp(c->rows->names[i], tc->name) == 0 && datatype_equal(c->rows->columns[i]->type, tc->type))
      return true;
  return false;
}

int mem_chunk_column_derived(const struct def *d, const struct mem_chunk *c, uint32_t col, uint32_t start,
                             uint32_t count, struct arena *a, struct column **out, struct error *err)
{
  const struct table_column *tc = &d->td.columns[col];
  if (!tc->default_expr.text || chunk_has(c, tc)) {
    *out = mem_chunk_column(c, tc->name, tc->type, start, count, a);
    return 0;
  }
  /* a chunk buffered under the definition before ADD COLUMN */
  struct block *view = block_create(a, d->ncols);
  view->rows = count;
  bool *ready = arena_new_array(a, bool, d->ncols + 1), *need = arena_new_array(a, bool, d->ncols + 1);
  for (uint32_t k = 0; k < d->ncols; k++) {
    view->names[k] = d->td.columns[k].name;
    view->columns[k] = mem_chunk_column(c, d->td.columns[k].name, d->td.columns[k].type, start, count, a);
    ready[k] = chunk_has(c, &d->td.columns[k]);
    need[k] = true;
  }
  int rc = fill_missing_defaults(d, view, ready, need, a, err);
  *out = rc ? NULL : view->columns[col];
  return rc;
}

struct def *table_def_get(struct engine_table *t)
{
  pthread_mutex_lock(&t->lock);
  struct def *d = t->def;
  if (d)
    def_ref(d);
  pthread_mutex_unlock(&t->lock);
  return d;
}

/* ======================================================================
 * Parts
 * ==================================================================== */

void part_ref(struct engine_part *p) { atomic_fetch_add(&p->refs, 1); }

static void grave_push(struct engine *e, int64_t table_id, const char *name, const char *path)
{
  struct grave *g = mem_calloc(1, sizeof *g);
  g->table_id = table_id;
  g->name = mem_strdup(name);
  g->path = mem_strdup(path);
  pthread_mutex_lock(&e->grave_lock);
  g->next = e->graves;
  e->graves = g;
  pthread_cond_signal(&e->gc);
  pthread_mutex_unlock(&e->grave_lock);
}

static void part_free(struct engine_part *p)
{
  arena_destroy(&p->arena);   /* closes the reader's fd */
  pthread_mutex_destroy(&p->index_lock);
  mem_free(p);
}

void part_unref(struct engine_part *p)
{
  if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
    return;
  if (p->outdated)
    grave_push(p->e, p->table_id, p->name, p->path);
  part_free(p);
}

struct engine_part *part_load(struct engine *e, int64_t table_id, const char *dir, const struct catalog_part *cp,
                              struct error *err)
{
  struct engine_part *p = mem_calloc(1, sizeof *p);
  atomic_init(&p->refs, 1);
  arena_init(&p->arena, 0);
  pthread_mutex_init(&p->index_lock, NULL);
  p->e = e;
  p->table_id = table_id;
  struct arena *a = &p->arena;
  p->name = arena_strdup(a, cp->name);
  p->partition_id = arena_strdup(a, cp->partition_id);
  p->partition_text = arena_strndup(a, cp->partition_value ? cp->partition_value : "", cp->partition_value_bytes);
  p->path = arena_printf(a, "%s/%s", dir, cp->name);
  p->disk = arena_strdup(a, cp->disk ? cp->disk : "default");
  p->min_block = cp->min_block;
  p->max_block = cp->max_block;
  p->level = cp->level;
  p->rows = cp->rows;
  p->bytes_on_disk = cp->bytes_on_disk;
  p->compressed_bytes = cp->data_compressed_bytes;
  p->uncompressed_bytes = cp->data_uncompressed_bytes;
  p->has_time = cp->has_time;
  p->min_time = cp->min_time;
  p->max_time = cp->max_time;
  p->created_ns = cp->created_ns ? cp->created_ns : clock_realtime_ns();
  struct part_reader *r;
  int rc = part_reader_open(p->path, a, &r, err);
  if (rc == 0) {
    if (part_reader_rows(r) != cp->rows)
      rc = error_set(err, ERR_CORRUPTED_DATA, "part %s has %" PRIu64 " rows, the catalog says %" PRIu64, p->path,
                     part_reader_rows(r), cp->rows);
    else if (strcmp(part_reader_partition_id(r), cp->partition_id) != 0)
      rc = error_set(err, ERR_CORRUPTED_DATA, "part %s belongs to partition %s, the catalog says %s", p->path,
                     part_reader_partition_id(r), cp->partition_id);
  }
  if (rc == 0) {
    p->reader = r;
    p->granules = part_reader_granule_count(r);
    return p;
  }
  if (rc == ERR_FILE_DOESNT_EXIST) {
    p->broken_code = ERR_NO_SUCH_DATA_PART;
    p->broken_message = arena_printf(a, "its file %s is missing", p->path);
  } else {
    p->broken_code = ERR_CORRUPTED_DATA;
    p->broken_message = arena_strdup(a, err->message);
  }
  if (r)
    part_reader_close(r);
  error_set(err, p->broken_code, "%s", p->broken_message);
  return p;
}

void part_to_catalog(const struct engine_part *p, struct catalog_part *out)
{
  memset(out, 0, sizeof *out);
  out->name = p->name;
  out->partition_id = p->partition_id;
  out->partition_value = p->partition_text;
  out->partition_value_bytes = strlen(p->partition_text);
  out->min_block = p->min_block;
  out->max_block = p->max_block;
  out->level = p->level;
  out->rows = p->rows;
  out->bytes_on_disk = p->bytes_on_disk;
  out->data_compressed_bytes = p->compressed_bytes;
  out->data_uncompressed_bytes = p->uncompressed_bytes;
  out->has_time = p->has_time;
  out->min_time = p->min_time;
  out->max_time = p->max_time;
  out->disk = p->disk;
}

/* ======================================================================
 * The graveyard: files of parts that left the active set and that nobody
 * references any more; deleted, then forgotten by the catalog.
 * ==================================================================== */

static void bury(struct engine *e, struct grave *list)
{
  while (list) {
    /* one catalog transaction per table */
    int64_t tid = list->table_id;
    const char *names[256];
    size_t n = 0;
    struct grave **pp = &list, *batch = NULL;
    while (*pp) {
      struct grave *g = *pp;
      if (g->table_id == tid && n < 256) {
        *pp = g->next;
        g->next = batch;
        batch = g;
        if (unlink(g->path) != 0 && errno != ENOENT)
          log_warn("cannot delete outdated part %s: %s", g->path, strerror(errno));
        else
          log_debug("deleted outdated part %s", g->path);
        names[n++] = g->name;
      } else {
        pp = &g->next;
      }
    }
    struct error err;
    if (catalog_parts_forget(e->cat, tid, names, n, &err) != 0) {
      for (size_t i = 0; i < n; i++)
        if (catalog_parts_forget(e->cat, tid, &names[i], 1, &err) != 0)
          log_debug("forgetting part %s of table id %" PRId64 ": %s", names[i], tid, err.message);
    }
    while (batch) {
      struct grave *g = batch;
      batch = g->next;
      mem_free(g->name);
      mem_free(g->path);
      mem_free(g);
    }
  }
}

static void *gc_main(void *arg)
{
  struct engine *e = arg;
  log_set_thread_name("engine-gc");
  pthread_mutex_lock(&e->grave_lock);
  for (;;) {
    while (!e->graves && !atomic_load(&e->stopping))
      pthread_cond_wait(&e->gc, &e->grave_lock);
    struct grave *list = e->graves;
    e->graves = NULL;
    pthread_mutex_unlock(&e->grave_lock);
    bury(e, list);
    pthread_mutex_lock(&e->grave_lock);
    if (atomic_load(&e->stopping) && !e->graves)
      break;
  }
  pthread_mutex_unlock(&e->grave_lock);
  return NULL;
}

/* ======================================================================
 * Tables
 * ==================================================================== */

static struct engine_table *table_new(struct engine *e, int64_t id, const char *uuid, const char *database,
                                      const char *name)
{
  struct engine_table *t = mem_calloc(1, sizeof *t);
  atomic_init(&t->refs, 1);
  t->e = e;
  t->id = id;
  snprintf(t->uuid, sizeof t->uuid, "%s", uuid);
  size_t n = strlen(e->store_dir) + strlen(uuid) + 2;
  t->dir = mem_alloc(n);
  snprintf(t->dir, n, "%s/%s", e->store_dir, uuid);
  t->database = mem_strdup(database);
  t->name = mem_strdup(name);
  pthread_mutex_init(&t->insert_lock, NULL);
  pthread_mutex_init(&t->commit_lock, NULL);
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->merged, NULL);
  t->modified_ns = clock_realtime_ns();
  atomic_init(&t->dropped, false);
  return t;
}

static void table_destroy(struct engine_table *t)
{
  memtable_free(t);
  for (uint32_t i = 0; i < t->nparts; i++)
    part_unref(t->parts[i]);
  mem_free(t->parts);
  def_unref(t->def);
  if (atomic_load(&t->dropped)) {
    int rc = remove_tree(t->dir);
    if (rc < 0)
      log_warn("cannot delete %s of dropped table %s.%s: %s", t->dir, t->database, t->name, strerror(-rc));
    else
      log_info("deleted %s of dropped table %s.%s", t->dir, t->database, t->name);
  }
  pthread_mutex_destroy(&t->insert_lock);
  pthread_mutex_destroy(&t->commit_lock);
  pthread_mutex_destroy(&t->lock);
  pthread_cond_destroy(&t->merged);
  mem_free(t->dir);
  mem_free(t->database);
  mem_free(t->name);
  mem_free(t);
}

void engine_table_ref(struct engine_table *t) { atomic_fetch_add(&t->refs, 1); }

void engine_table_unref(struct engine_table *t)
{
  if (t && atomic_fetch_sub(&t->refs, 1) == 1)
    table_destroy(t);
}

bool engine_table_attached(struct engine_table *t)
{
  pthread_mutex_lock(&t->lock);
  bool r = t->def != NULL;
  pthread_mutex_unlock(&t->lock);
  return r;
}

int64_t engine_table_id(const struct engine_table *t) { return t->id; }

void table_label(struct engine_table *t, char *out, size_t size)
{
  pthread_mutex_lock(&t->lock);
  snprintf(out, size, "%s.%s", t->database, t->name);
  pthread_mutex_unlock(&t->lock);
}

static int part_order(const struct engine_part *a, const struct engine_part *b)
{
  int c = strcmp(a->partition_id, b->partition_id);
  if (c)
    return c;
  return a->min_block < b->min_block ? -1 : a->min_block > b->min_block;
}

void table_add_part_locked(struct engine_table *t, struct engine_part *p)
{
  if (t->nparts == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 16;
    t->parts = mem_realloc(t->parts, t->cap * sizeof *t->parts);
  }
  uint32_t i = t->nparts;
  while (i > 0 && part_order(t->parts[i - 1], p) > 0)
    i--;
  memmove(&t->parts[i + 1], &t->parts[i], (t->nparts - i) * sizeof *t->parts);
  t->parts[i] = p;
  t->nparts++;
  t->modified_ns = clock_realtime_ns();
}

void table_remove_part_locked(struct engine_table *t, struct engine_part *p)
{
  for (uint32_t i = 0; i < t->nparts; i++) {
    if (t->parts[i] != p)
      continue;
    memmove(&t->parts[i], &t->parts[i + 1], (t->nparts - i - 1) * sizeof *t->parts);
    t->nparts--;
    p->outdated = true;
    p->removed_ns = clock_realtime_ns();
    t->modified_ns = p->removed_ns;
    part_unref(p);
    return;
  }
}

static struct engine_table *find_table_locked(struct engine *e, int64_t id)
{
  for (uint32_t i = 0; i < e->ntables; i++)
    if (e->tables[i]->id == id)
      return e->tables[i];
  return NULL;
}

static void tables_add_locked(struct engine *e, struct engine_table *t)
{
  if (e->ntables == e->tables_cap) {
    e->tables_cap = e->tables_cap ? e->tables_cap * 2 : 16;
    e->tables = mem_realloc(e->tables, e->tables_cap * sizeof *e->tables);
  }
  e->tables[e->ntables++] = t;
}

/* After the catalog dropped a table: forget it and delete its files once
 * nobody uses it. */
static void table_forget_dropped(struct engine *e, int64_t id, const char *uuid)
{
  pthread_mutex_lock(&e->lock);
  struct engine_table *t = find_table_locked(e, id);
  if (t)
    for (uint32_t i = 0; i < e->ntables; i++)
      if (e->tables[i] == t) {
        e->tables[i] = e->tables[--e->ntables];
        break;
      }
  pthread_mutex_unlock(&e->lock);
  if (!t) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", e->store_dir, uuid);
    remove_tree(path);
    return;
  }
  pthread_mutex_lock(&t->lock);
  atomic_store(&t->dropped, true);
  pthread_cond_broadcast(&t->merged);
  pthread_mutex_unlock(&t->lock);
  engine_table_unref(t);
}

/* ======================================================================
 * Opening: reconciliation of files with the catalog
 * ==================================================================== */

static int name_cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void sweep_table_dir(struct engine_table *t)
{
  DIR *dir = opendir(t->dir);
  if (!dir) {
    log_warn("cannot list %s: %s", t->dir, strerror(errno));
    return;
  }
  const char **names = mem_calloc(t->nparts + 1, sizeof *names);
  for (uint32_t i = 0; i < t->nparts; i++)
    names[i] = t->parts[i]->name;
  qsort(names, t->nparts, sizeof *names, name_cmp);
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    const char *n = de->d_name;
    if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
      continue;
    if (bsearch(&n, names, t->nparts, sizeof *names, name_cmp))
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", t->dir, n);
    if (strncmp(n, "tmp_", 4) == 0)
      log_info("table %s.%s: removing leftover temporary file %s", t->database, t->name, path);
    else
      log_warn("table %s.%s: removing %s, a part file the catalog does not list (unpublished)", t->database,
               t->name, path);
    int rc = remove_tree(path);
    if (rc < 0)
      log_warn("cannot remove %s: %s", path, strerror(-rc));
  }
  closedir(dir);
  mem_free(names);
}

static int reconcile(struct engine *e, struct error *err)
{
  struct arena a;
  arena_init(&a, 0);
  struct catalog_table *tabs;
  size_t nt;
  int rc = catalog_table_list(e->cat, NULL, &a, &tabs, &nt, err);
  if (rc)
    goto out;
  for (size_t i = 0; i < nt; i++) {
    struct engine_table *t = table_new(e, tabs[i].id, tabs[i].uuid, tabs[i].database, tabs[i].name);
    if (mkdir(t->dir, 0755) == 0)
      log_info("table %s.%s: created missing directory %s", t->database, t->name, t->dir);
    tables_add_locked(e, t);
  }
  struct catalog_part *parts;
  size_t np;
  if ((rc = catalog_parts_list_all(e->cat, 0, &a, &parts, &np, err)) != 0)
    goto out;
  const char **forget = mem_calloc(np + 1, sizeof *forget);
  size_t nforget = 0;
  int64_t forget_tid = 0;
  for (size_t i = 0; i <= np; i++) {
    if (nforget && (i == np || parts[i].table_id != forget_tid)) {
      struct error ferr;
      if (catalog_parts_forget(e->cat, forget_tid, forget, nforget, &ferr) != 0)
        log_warn("forgetting outdated parts of table id %" PRId64 ": %s", forget_tid, ferr.message);
      nforget = 0;
    }
    if (i == np)
      break;
    struct catalog_part *cp = &parts[i];
    struct engine_table *t = find_table_locked(e, cp->table_id);
    if (!t)
      continue;
    if (cp->state == CATALOG_PART_OUTDATED) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", t->dir, cp->name);
      if (unlink(path) == 0)
        log_info("table %s.%s: deleted outdated part %s", t->database, t->name, cp->name);
      forget_tid = cp->table_id;
      forget[nforget++] = cp->name;
      continue;
    }
    struct error perr;
    error_clear(&perr);
    struct engine_part *p = part_load(e, t->id, t->dir, cp, &perr);
    if (p->broken_code)
      log_error("table %s.%s: active part %s cannot be used: %s. Queries of the table fail until the part is "
                "dropped (ALTER TABLE ... DROP PART) or its file restored", t->database, t->name, cp->name,
                p->broken_message);
    table_add_part_locked(t, p);
  }
  mem_free(forget);
  for (uint32_t i = 0; i < e->ntables; i++)
    sweep_table_dir(e->tables[i]);
  /* directories of tables the catalog does not know (dropped before a crash) */
  DIR *dir = opendir(e->store_dir);
  if (dir) {
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      bool known = false;
      for (uint32_t i = 0; i < e->ntables && !known; i++)
        known = strcmp(e->tables[i]->uuid, de->d_name) == 0;
      if (known)
        continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", e->store_dir, de->d_name);
      log_warn("removing %s: no table in the catalog has uuid %s", path, de->d_name);
      remove_tree(path);
    }
    closedir(dir);
  }
out:
  arena_destroy(&a);
  return rc;
}

int engine_open(const char *data_dir, const struct engine_options *options, struct engine **out, struct error *err)
{
  *out = NULL;
  struct engine *e = mem_calloc(1, sizeof *e);
  e->lock_fd = -1;
  if (options)
    e->opt = *options;
  struct engine_options *o = &e->opt;
  if (!o->merge_threads)
    o->merge_threads = ENGINE_MERGE_THREADS_DEFAULT;
  if (!o->parts_to_delay_insert)
    o->parts_to_delay_insert = ENGINE_PARTS_TO_DELAY_DEFAULT;
  if (!o->parts_to_throw_insert)
    o->parts_to_throw_insert = ENGINE_PARTS_TO_THROW_DEFAULT;
  if (!o->max_parts_in_total)
    o->max_parts_in_total = ENGINE_MAX_PARTS_TOTAL_DEFAULT;
  if (!o->min_delay_to_insert_ms)
    o->min_delay_to_insert_ms = ENGINE_MIN_DELAY_MS_DEFAULT;
  if (!o->max_delay_to_insert_ms)
    o->max_delay_to_insert_ms = ENGINE_MAX_DELAY_MS_DEFAULT;
  if (!o->max_partitions_per_insert_block)
    o->max_partitions_per_insert_block = ENGINE_MAX_PARTITIONS_PER_INSERT_DEFAULT;
  if (!o->max_bytes_to_merge)
    o->max_bytes_to_merge = ENGINE_MAX_BYTES_TO_MERGE_DEFAULT;
  if (!o->max_parts_to_merge_at_once)
    o->max_parts_to_merge_at_once = ENGINE_MAX_PARTS_TO_MERGE_DEFAULT;
  if (!o->merge_memory_bytes)
    o->merge_memory_bytes = ENGINE_MERGE_MEMORY_DEFAULT;
  pthread_mutex_init(&e->lock, NULL);
  pthread_mutex_init(&e->grave_lock, NULL);
  pthread_cond_init(&e->work, NULL);
  pthread_cond_init(&e->gc, NULL);
  atomic_init(&e->stopping, false);
  atomic_init(&e->seq, 0);
  memtable_init_engine(e);
  e->dir = mem_strdup(data_dir);
  size_t n = strlen(data_dir) + 32;
  e->store_dir = mem_alloc(n);
  snprintf(e->store_dir, n, "%s/store", data_dir);
  char *path = mem_alloc(n + 16);
  int rc;
  int io = mkdir_p(e->store_dir);
  if (io < 0) {
    rc = error_set(err, ERR_CANNOT_OPEN_FILE, "Cannot create data directory %s: %s", e->store_dir, strerror(-io));
    goto fail;
  }
  snprintf(path, n + 16, "%s/lock", data_dir);
  e->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (e->lock_fd < 0 || flock(e->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int saved = errno;
    rc = error_set(err, ERR_CANNOT_OPEN_FILE, "Cannot lock %s: %s%s", path, strerror(saved),
                   saved == EWOULDBLOCK ? " (another process uses this data directory)" : "");
    goto fail;
  }
  snprintf(path, n + 16, "%s/catalog.sqlite", data_dir);
  if ((rc = catalog_open(&e->cat, path, err)) != 0)
    goto fail;
  if ((rc = reconcile(e, err)) != 0)
    goto fail;
  if (pthread_create(&e->gc_thread, NULL, gc_main, e) != 0) {
    rc = error_set(err, ERR_SYSTEM_ERROR, "Cannot start the engine's cleanup thread");
    goto fail;
  }
  e->gc_started = true;
  if (!o->no_background_merges)
    merge_threads_start(e);
  mem_free(path);
  log_info("engine: opened %s with %u tables, %u merge threads", data_dir, e->ntables,
           o->no_background_merges ? 0 : o->merge_threads);
  *out = e;
  return 0;
fail:
  mem_free(path);
  engine_close(e);
  return rc;
}

void engine_close(struct engine *e)
{
  if (!e)
    return;
  memtable_shutdown(e);
  atomic_store(&e->stopping, true);
  pthread_mutex_lock(&e->lock);
  pthread_cond_broadcast(&e->work);
  pthread_mutex_unlock(&e->lock);
  merge_threads_stop(e);
  for (uint32_t i = 0; i < e->ntables; i++) {
    struct engine_table *t = e->tables[i];
    if (atomic_load(&t->refs) != 1)
      log_error("engine_close: table %s.%s is still referenced (%d); its memory is leaked", t->database, t->name,
                atomic_load(&t->refs) - 1);
    engine_table_unref(t);
  }
  e->ntables = 0;
  if (e->gc_started) {
    pthread_mutex_lock(&e->grave_lock);
    pthread_cond_broadcast(&e->gc);
    pthread_mutex_unlock(&e->grave_lock);
    pthread_join(e->gc_thread, NULL);
  }
  if (e->cat)
    bury(e, e->graves);
  else
    while (e->graves) {
      struct grave *g = e->graves;
      e->graves = g->next;
      mem_free(g->name);
      mem_free(g->path);
      mem_free(g);
    }
  e->graves = NULL;
  catalog_close(e->cat);
  if (e->lock_fd >= 0)
    close(e->lock_fd);
  pthread_mutex_destroy(&e->lock);
  pthread_mutex_destroy(&e->grave_lock);
  pthread_cond_destroy(&e->work);
  pthread_cond_destroy(&e->gc);
  pthread_mutex_destroy(&e->flush_lock);
  pthread_cond_destroy(&e->flush_work);
  mem_free(e->tables);
  mem_free(e->dir);
  mem_free(e->store_dir);
  mem_free(e);
}

struct catalog *engine_catalog(struct engine *e) { return e->cat; }
const char *engine_data_dir(const struct engine *e) { return e->dir; }

void engine_wake_merges(struct engine *e)
{
  pthread_mutex_lock(&e->lock);
  pthread_cond_broadcast(&e->work);
  pthread_mutex_unlock(&e->lock);
}

/* ======================================================================
 * Databases and tables
 * ==================================================================== */

int engine_database_create(struct engine *e, const char *name, bool if_not_exists, struct error *err)
{
  return catalog_database_create(e->cat, name, "Atomic", if_not_exists, err);
}

int engine_database_drop(struct engine *e, const char *name, bool if_exists, struct error *err)
{
  struct arena a;
  arena_init(&a, 0);
  struct catalog_table_ref *refs = NULL;
  size_t n = 0;
  int rc = catalog_database_drop(e->cat, name, if_exists, true, &a, &refs, &n, err);
  for (size_t i = 0; rc == 0 && i < n; i++)
    table_forget_dropped(e, refs[i].id, refs[i].uuid);
  arena_destroy(&a);
  return rc;
}

int engine_table_create(struct engine *e, const char *database, const char *name, const struct catalog_table_def *ddl,
                        const struct table_def *def, struct engine_table **out, struct error *err)
{
  if (out)
    *out = NULL;
  struct def *d;
  int rc = def_compile(def, &d, err);
  if (rc)
    return rc;
  struct catalog_table_ref ref;
  if ((rc = catalog_table_create(e->cat, database, name, ddl, &ref, err)) != 0) {
    d->td.ctx_free = NULL;   /* failed: ctx stays the caller's */
    def_unref(d);
    return rc;
  }
  struct engine_table *t = table_new(e, ref.id, ref.uuid, database, name);
  t->def = d;
  if (mkdir(t->dir, 0755) != 0 && errno != EEXIST) {
    int saved = errno;
    log_error("table %s.%s: cannot create %s: %s", database, name, t->dir, strerror(saved));
  }
  else if (!e->opt.no_fsync)
    storage_io_fsync_dir(e->store_dir);
  pthread_mutex_lock(&e->lock);
  tables_add_locked(e, t);
  if (out) {
    engine_table_ref(t);
    *out = t;
  }
  pthread_mutex_unlock(&e->lock);
  return 0;
}

int engine_table_attach(struct engine *e, int64_t table_id, const struct table_def *def, struct engine_table **out,
                        struct error *err)
{
  if (out)
    *out = NULL;
  struct def *d;
  int rc = def_compile(def, &d, err);
  if (rc)
    return rc;
  pthread_mutex_lock(&e->lock);
  struct engine_table *t = find_table_locked(e, table_id);
  if (t)
    engine_table_ref(t);
  pthread_mutex_unlock(&e->lock);
  if (!t) {
    d->td.ctx_free = NULL;
    def_unref(d);
    return error_set(err, ERR_UNKNOWN_TABLE, "Table with id %" PRId64 " does not exist.", table_id);
  }
  pthread_mutex_lock(&t->lock);
  struct def *old = t->def;
  t->def = d;
  pthread_mutex_unlock(&t->lock);
  def_unref(old);
  engine_wake_merges(e);
  if (out)
    *out = t;
  else
    engine_table_unref(t);
  return 0;
}

static struct engine_table *find_by_name(struct engine *e, const char *database, const char *name)
{
  struct engine_table *found = NULL;
  pthread_mutex_lock(&e->lock);
  for (uint32_t i = 0; i < e->ntables && !found; i++) {
    struct engine_table *t = e->tables[i];
    pthread_mutex_lock(&t->lock);
    if (strcmp(t->database, database) == 0 && strcmp(t->name, name) == 0)
      found = t;
    pthread_mutex_unlock(&t->lock);
  }
  if (found)
    engine_table_ref(found);
  pthread_mutex_unlock(&e->lock);
  return found;
}

int engine_table_get(struct engine *e, const char *database, const char *name, struct engine_table **out,
                     struct error *err)
{
  *out = find_by_name(e, database, name);
  if (*out)
    return 0;
  /* the catalog words the error (UNKNOWN_DATABASE or UNKNOWN_TABLE) */
  struct arena a;
  arena_init(&a, 0);
  struct catalog_table ct;
  int rc = catalog_table_get(e->cat, database, name, &a, &ct, err);
  arena_destroy(&a);
  if (rc == 0)
    rc = error_set(err, ERR_LOGICAL_ERROR, "Table %s.%s is in the catalog but not in the engine", database, name);
  return rc;
}

int engine_table_get_by_id(struct engine *e, int64_t table_id, struct engine_table **out, struct error *err)
{
  pthread_mutex_lock(&e->lock);
  struct engine_table *t = find_table_locked(e, table_id);
  if (t)
    engine_table_ref(t);
  pthread_mutex_unlock(&e->lock);
  *out = t;
  return t ? 0 : error_set(err, ERR_UNKNOWN_TABLE, "Table with id %" PRId64 " does not exist.", table_id);
}

int engine_table_drop(struct engine *e, const char *database, const char *name, bool if_exists, struct error *err)
{
  struct catalog_table_ref ref;
  int rc = catalog_table_drop(e->cat, database, name, &ref, err);
  if (rc) {
    if (if_exists && (rc == ERR_UNKNOWN_TABLE || rc == ERR_UNKNOWN_DATABASE)) {
      error_clear(err);
      return 0;
    }
    return rc;
  }
  table_forget_dropped(e, ref.id, ref.uuid);
  return 0;
}

int engine_table_rename(struct engine *e, const char *from_db, const char *from_name, const char *to_db,
                        const char *to_name, const char *new_ddl, struct error *err)
{
  struct engine_table *t = find_by_name(e, from_db, from_name);
  int rc = catalog_table_rename(e->cat, from_db, from_name, to_db, to_name, new_ddl, err);
  if (rc == 0 && t) {
    char *db = mem_strdup(to_db), *nm = mem_strdup(to_name);
    pthread_mutex_lock(&t->lock);
    char *odb = t->database, *onm = t->name;
    t->database = db;
    t->name = nm;
    pthread_mutex_unlock(&t->lock);
    mem_free(odb);
    mem_free(onm);
  }
  engine_table_unref(t);
  return rc;
}

static bool same_text(const struct table_expr *a, const struct table_expr *b)
{
  return strcmp(a->text, b->text) == 0 && datatype_equal(a->type, b->type);
}

int engine_table_alter(struct engine_table *t, const struct catalog_table_def *ddl, const struct table_def *def,
                       struct error *err)
{
  struct def *d;
  int rc = def_compile(def, &d, err);
  if (rc)
    return rc;
  struct def *old = table_def_get(t);
  if (old) {
    bool ok = old->td.kind == d->td.kind && old->td.partition_key_count == d->td.partition_key_count &&
              old->td.sort_key_count == d->td.sort_key_count && old->pk_count == d->pk_count;
    for (uint32_t i = 0; ok && i < d->td.partition_key_count; i++)
      ok = same_text(&old->td.partition_key[i], &d->td.partition_key[i]);
    for (uint32_t i = 0; ok && i < d->td.sort_key_count; i++) {
      ok = same_text(&old->td.sort_key[i], &d->td.sort_key[i]) &&
           strcmp(old->pcols[old->sort_col[i]].name, d->pcols[d->sort_col[i]].name) == 0;
    }
    def_unref(old);
    if (!ok) {
      d->td.ctx_free = NULL;
      def_unref(d);
      return error_set(err, ERR_NOT_IMPLEMENTED,
                       "ALTER cannot change the engine, the partition key or the sorting key of a table");
    }
  }
  /* buffered rows follow the old columns and would read an added column as
   * the type's default: they go to parts first, where reads compute its
   * DEFAULT. (Buffered inserts racing with the ALTER still can.) */
  if ((rc = engine_table_flush(t, err)) != 0 ||
      (ddl && (rc = catalog_table_alter(t->e->cat, t->id, ddl, err)) != 0)) {
    d->td.ctx_free = NULL;
    def_unref(d);
    return rc;
  }
  pthread_mutex_lock(&t->lock);
  old = t->def;
  t->def = d;
  pthread_mutex_unlock(&t->lock);
  def_unref(old);
  return 0;
}

static int remove_partition(struct engine_table *t, const char *partition_id, struct error *err)
{
  /* TRUNCATE forgets the memtable; DROP PARTITION must see its rows in parts */
  if (!partition_id)
    memtable_discard(t);
  else if (engine_table_flush(t, err) != 0)
    return err->code;
  struct arena a;
  arena_init(&a, 0);
  struct catalog_part *removed = NULL;
  size_t n = 0;
  pthread_mutex_lock(&t->commit_lock);
  int rc = catalog_parts_remove_partition(t->e->cat, t->id, partition_id, &a, &removed, &n, err);
  if (rc == 0) {
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < n; i++)
      for (uint32_t k = 0; k < t->nparts; k++)
        if (strcmp(t->parts[k]->name, removed[i].name) == 0) {
          table_remove_part_locked(t, t->parts[k]);
          break;
        }
    pthread_mutex_unlock(&t->lock);
  }
  pthread_mutex_unlock(&t->commit_lock);
  arena_destroy(&a);
  return rc;
}

int engine_table_truncate(struct engine_table *t, struct error *err) { return remove_partition(t, NULL, err); }

int engine_table_drop_partition(struct engine_table *t, const char *partition_id, struct error *err)
{
  if (!partition_id)
    return error_set(err, ERR_BAD_ARGUMENTS, "DROP PARTITION needs a partition id");
  return remove_partition(t, partition_id, err);
}

int engine_table_drop_part(struct engine_table *t, const char *part_name, struct error *err)
{
  pthread_mutex_lock(&t->commit_lock);
  int rc = catalog_parts_remove(t->e->cat, t->id, &part_name, 1, err);
  if (rc == ERR_ABORTED || rc == ERR_NO_SUCH_DATA_PART) {
    char label[512];
    table_label(t, label, sizeof label);
    rc = error_set(err, ERR_NO_SUCH_DATA_PART, "No active part %s in table %s", part_name, label);
  }
  if (rc == 0) {
    pthread_mutex_lock(&t->lock);
    for (uint32_t k = 0; k < t->nparts; k++)
      if (strcmp(t->parts[k]->name, part_name) == 0) {
        table_remove_part_locked(t, t->parts[k]);
        break;
      }
    pthread_mutex_unlock(&t->lock);
  }
  pthread_mutex_unlock(&t->commit_lock);
  return rc;
}

int engine_partition_id(struct engine_table *t, const struct column *const *values, uint32_t count,
                        struct arena *a, const char **out, struct error *err)
{
  struct def *d = table_def_get(t);
  char label[512];
  table_label(t, label, sizeof label);
  if (!d)
    return error_set(err, ERR_LOGICAL_ERROR, "Table %s is not attached", label);
  int rc = 0;
  if (count != d->td.partition_key_count) {
    rc = error_set(err, ERR_INVALID_PARTITION_VALUE, "Wrong number of fields in the partition expression: %u, "
                   "must be %u", count, d->td.partition_key_count);
  } else {
    struct buf b;
    buf_init(&b);
    partition_id_append(values, count, 0, &b);
    *out = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_free(&b);
  }
  def_unref(d);
  return rc;
}

/* ======================================================================
 * Introspection
 * ==================================================================== */

static void part_info_fill(struct arena *a, const struct engine_part *p, bool active, struct engine_part_info *o)
{
  memset(o, 0, sizeof *o);
  o->name = arena_strdup(a, p->name);
  o->partition_id = arena_strdup(a, p->partition_id);
  o->partition = arena_strdup(a, p->partition_text);
  o->path = arena_strdup(a, p->path);
  o->disk = arena_strdup(a, p->disk);
  o->active = active;
  o->rows = p->rows;
  o->marks = p->granules;
  o->bytes_on_disk = p->bytes_on_disk;
  o->data_compressed_bytes = p->compressed_bytes;
  o->data_uncompressed_bytes = p->uncompressed_bytes;
  o->min_block = p->min_block;
  o->max_block = p->max_block;
  o->level = p->level;
  o->has_time = p->has_time;
  o->min_time = p->min_time;
  o->max_time = p->max_time;
  o->modification_time_ns = p->created_ns;
  o->remove_time_ns = p->removed_ns;
  o->refcount = (uint32_t)atomic_load(&p->refs);
  o->broken = p->broken_code ? arena_strdup(a, p->broken_message) : NULL;
}

int engine_table_parts(struct engine_table *t, bool include_outdated, struct arena *a, struct engine_part_info **out,
                       size_t *count, struct error *err)
{
  struct catalog_part *cps = NULL;
  size_t ncp = 0;
  if (include_outdated) {
    int rc = catalog_parts_list_all(t->e->cat, t->id, a, &cps, &ncp, err);
    if (rc)
      return rc;
  }
  pthread_mutex_lock(&t->lock);
  size_t n = t->nparts;
  struct engine_part_info *r = arena_new_array(a, struct engine_part_info, n + ncp + 1);
  for (uint32_t i = 0; i < t->nparts; i++)
    part_info_fill(a, t->parts[i], true, &r[i]);
  pthread_mutex_unlock(&t->lock);
  for (size_t i = 0; i < ncp; i++) {
    const struct catalog_part *cp = &cps[i];
    if (cp->state != CATALOG_PART_OUTDATED)
      continue;
    struct engine_part_info *o = &r[n++];
    memset(o, 0, sizeof *o);
    o->name = cp->name;
    o->partition_id = cp->partition_id;
    o->partition = arena_strndup(a, cp->partition_value ? cp->partition_value : "", cp->partition_value_bytes);
    o->path = arena_printf(a, "%s/%s", t->dir, cp->name);
    o->disk = cp->disk;
    o->rows = cp->rows;
    o->bytes_on_disk = cp->bytes_on_disk;
    o->data_compressed_bytes = cp->data_compressed_bytes;
    o->data_uncompressed_bytes = cp->data_uncompressed_bytes;
    o->min_block = cp->min_block;
    o->max_block = cp->max_block;
    o->level = cp->level;
    o->has_time = cp->has_time;
    o->min_time = cp->min_time;
    o->max_time = cp->max_time;
    o->modification_time_ns = cp->modified_ns;
    o->remove_time_ns = cp->removed_ns;
  }
  *out = r;
  *count = n;
  return 0;
}

int engine_table_columns(struct engine_table *t, struct arena *a, struct engine_column_info **out, size_t *count,
                         struct error *err)
{
  struct def *d = table_def_get(t);
  if (!d) {
    char label[512];
    table_label(t, label, sizeof label);
    return error_set(err, ERR_LOGICAL_ERROR, "Table %s is not attached", label);
  }
  struct engine_column_info *r = arena_new_array(a, struct engine_column_info, d->ncols + 1);
  for (uint32_t i = 0; i < d->ncols; i++) {
    r[i].name = arena_strdup(a, d->td.columns[i].name);
    r[i].type = d->td.columns[i].type;
  }
  pthread_mutex_lock(&t->lock);
  for (uint32_t k = 0; k < t->nparts; k++) {
    struct part_reader *rd = t->parts[k]->reader;
    if (!rd)
      continue;
    for (uint32_t i = 0; i < d->ncols; i++) {
      int c = part_reader_column_index(rd, d->td.columns[i].name);
      const struct part_column_stats *s = c >= 0 ? part_reader_column_stats(rd, (uint32_t)c) : NULL;
      if (s) {
        r[i].data_compressed_bytes += s->compressed_bytes;
        r[i].data_uncompressed_bytes += s->uncompressed_bytes;
      }
    }
  }
  pthread_mutex_unlock(&t->lock);
  /* types die with d: copy them */
  for (uint32_t i = 0; i < d->ncols; i++)
    r[i].type = copy_type(a, r[i].type);
  *out = r;
  *count = d->ncols;
  def_unref(d);
  return 0;
}

void engine_table_get_info(struct engine_table *t, struct arena *a, struct engine_table_info *out)
{
  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&t->lock);
  out->id = t->id;
  out->database = arena_strdup(a, t->database);
  out->name = arena_strdup(a, t->name);
  out->uuid = arena_strdup(a, t->uuid);
  out->data_path = arena_strdup(a, t->dir);
  out->attached = t->def != NULL;
  out->active_parts = t->nparts;
  for (uint32_t i = 0; i < t->nparts; i++) {
    out->total_rows += t->parts[i]->rows;
    out->total_bytes += t->parts[i]->bytes_on_disk;
  }
  out->total_rows += t->mem.rows;
  out->modification_time_ns = t->modified_ns;
  pthread_mutex_unlock(&t->lock);
}
