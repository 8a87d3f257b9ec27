/* The insert path: validate the block, evaluate the partition key and split
 * rows by partition, sort each partition's rows by the sorting key (a stable
 * merge sort over a permutation with typed comparisons), collapse them for
 * Replacing/Summing, write one part per partition under a provisional name,
 * then publish: allocate block numbers, rename to the final names, fsync
 * the directory and add every part in ONE catalog transaction, so the
 * insert becomes visible atomically, or not at all. */
#include "engine/engine_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"

/* ---- sorting ---- */

enum key_kind { K_GENERIC, K_UNSIGNED, K_SIGNED, K_STRING, K_PREFIX };

/* K_PREFIX stands for several leading keys packed into one u64 per row
 * (ordered codes: values, sign-flipped values, dictionary ranks) that
 * compares exactly as those keys did. */
struct key_spec {
  const struct column *c;
  enum key_kind kind;
  size_t width;
  const uint64_t *prefix;        /* K_PREFIX: per row id */
};

static uint64_t load_u(const char *p, size_t w)
{
  switch (w) {
  case 1: return *(const uint8_t *)p;
  case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
  case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
  default: { uint64_t v; memcpy(&v, p, 8); return v; }
  }
}

static int64_t load_i(const char *p, size_t w)
{
  switch (w) {
  case 1: return *(const int8_t *)p;
  case 2: { int16_t v; memcpy(&v, p, 2); return v; }
  case 4: { int32_t v; memcpy(&v, p, 4); return v; }
  default: { int64_t v; memcpy(&v, p, 8); return v; }
  }
}

static int cmp_keys(const struct key_spec *k, uint32_t n, uint32_t a, uint32_t b)
{
  for (uint32_t i = 0; i < n; i++) {
    const struct column *c = k[i].c;
    int r;
    switch (k[i].kind) {
    case K_PREFIX: {
      uint64_t x = k[i].prefix[a], y = k[i].prefix[b];
      r = x < y ? -1 : x > y;
      break;
    }
    case K_UNSIGNED: {
      uint64_t x = load_u((const char *)c->data + a * k[i].width, k[i].width);
      uint64_t y = load_u((const char *)c->data + b * k[i].width, k[i].width);
      r = x < y ? -1 : x > y;
      break;
    }
    case K_SIGNED: {
      int64_t x = load_i((const char *)c->data + a * k[i].width, k[i].width);
      int64_t y = load_i((const char *)c->data + b * k[i].width, k[i].width);
      r = x < y ? -1 : x > y;
      break;
    }
    case K_STRING: {
      uint64_t as = a ? c->offsets[a - 1] : 0, ae = c->offsets[a];
      uint64_t bs = b ? c->offsets[b - 1] : 0, be = c->offsets[b];
      uint64_t la = ae - as, lb = be - bs;
      uint64_t m = la < lb ? la : lb;
      r = m ? memcmp(c->chars + as, c->chars + bs, m) : 0;
      if (r == 0)
        r = la < lb ? -1 : la > lb;
      break;
    }
    default:
      r = column_compare_rows(c, a, c, b, false);
      break;
    }
    if (r)
      return r;
  }
  return 0;
}

static int cmp_dict_entries(const void *x, const void *y, void *ctx)
{
  const struct column *d = ctx;
  return column_compare_rows(d, *(const uint32_t *)x, d, *(const uint32_t *)y, false);
}

/* rank[k] for each entry k of a LowCardinality dictionary: equal values get
 * equal ranks and ranks order as column_compare_rows orders the values.
 * Returns the highest rank. */
static uint32_t dict_ranks(const struct column *d, uint32_t *rank)
{
  uint32_t *order = mem_alloc((size_t)d->rows * sizeof *order + 1);
  for (uint32_t k = 0; k < d->rows; k++)
    order[k] = k;
  qsort_r(order, d->rows, sizeof *order, cmp_dict_entries, (void *)d);
  uint32_t r = 0;
  for (uint32_t j = 0; j < d->rows; j++) {
    if (j && cmp_dict_entries(&order[j - 1], &order[j], (void *)d) != 0)
      r++;
    rank[order[j]] = r;
  }
  mem_free(order);
  return r;
}

static uint32_t bits_for(uint64_t max) { return max ? 64 - (uint32_t)__builtin_clzll(max) : 0; }

/* Packs the leading keys of spec that have ordered fixed-width codes and fit
 * in 64 bits together into prefix[row] for every row in perm; returns how
 * many keys were packed (0: none, prefix untouched). */
static uint32_t pack_prefix(const struct key_spec *spec, uint32_t ns, const uint32_t *perm, uint32_t n,
                            uint64_t *prefix)
{
  uint32_t bits[64], *ranks[64], used = 0, m = 0;
  for (; m < ns; m++) {
    const struct column *c = spec[m].c;
    uint32_t b;
    ranks[m] = NULL;
    if (spec[m].kind == K_UNSIGNED || spec[m].kind == K_SIGNED) {
      b = (uint32_t)spec[m].width * 8;
    } else if (spec[m].kind == K_GENERIC && !c->is_const && c->type->id == TYPE_LOW_CARDINALITY &&
               c->children[0]->rows && c->children[0]->rows <= n) {
      ranks[m] = mem_alloc((size_t)c->children[0]->rows * sizeof *ranks[m]);
      b = bits_for(dict_ranks(c->children[0], ranks[m]));
    } else {
      break;
    }
    if (used + b > 64) {
      mem_free(ranks[m]);
      break;
    }
    bits[m] = b;
    used += b;
  }
  uint32_t packed = used ? m : 0;  /* 0 bits: nothing to compare, leave the keys as they were */
  for (uint32_t i = 0; packed && i < n; i++) {
    uint32_t row = perm[i];
    uint64_t v = 0;
    for (uint32_t j = 0; j < m; j++) {
      const struct column *c = spec[j].c;
      uint64_t code;
      if (ranks[j])
        code = ranks[j][((const uint32_t *)c->data)[row]];
      else if (spec[j].kind == K_UNSIGNED)
        code = load_u((const char *)c->data + row * spec[j].width, spec[j].width);
      else
        code = (uint64_t)load_i((const char *)c->data + row * spec[j].width, spec[j].width) ^
               (1ull << (spec[j].width * 8 - 1));
      if (spec[j].kind == K_SIGNED && spec[j].width < 8)
        code &= (1ull << (spec[j].width * 8)) - 1;
      v = bits[j] == 64 ? code : v << bits[j] | code;
    }
    prefix[row] = v;
  }
  for (uint32_t j = 0; j < m; j++)
    mem_free(ranks[j]);
  return packed;
}

void sort_rows(const struct column *const *keys, uint32_t nkeys, uint32_t *perm, uint32_t n)
{
  if (!nkeys || n < 2)
    return;
  struct key_spec spec[64];
  uint32_t ns = nkeys < 64 ? nkeys : 64;   /* later elements rarely decide an order; XXX: capped */
  for (uint32_t i = 0; i < ns; i++) {
    const struct column *c = keys[i];
    spec[i] = (struct key_spec){ c, K_GENERIC, 0, NULL };
    if (c->is_const)
      continue;
    enum type_id id = c->type->id;
    if ((id >= TYPE_UINT8 && id <= TYPE_UINT64) || id == TYPE_BOOL || id == TYPE_DATE || id == TYPE_DATETIME)
      spec[i] = (struct key_spec){ c, K_UNSIGNED, datatype_fixed_bytes(c->type), NULL };
    else if ((id >= TYPE_INT8 && id <= TYPE_INT64) || id == TYPE_DATETIME64 || id == TYPE_ENUM8 || id == TYPE_ENUM16)
      spec[i] = (struct key_spec){ c, K_SIGNED, datatype_fixed_bytes(c->type), NULL };
    else if (id == TYPE_STRING)
      spec[i] = (struct key_spec){ c, K_STRING, 0, NULL };
  }
  uint32_t max_row = 0;
  for (uint32_t i = 0; i < n; i++)
    if (perm[i] > max_row)
      max_row = perm[i];
  uint64_t *prefix = mem_alloc(((size_t)max_row + 1) * sizeof *prefix);
  uint32_t packed = pack_prefix(spec, ns, perm, n, prefix);
  if (packed) {
    memmove(&spec[1], &spec[packed], (ns - packed) * sizeof spec[0]);
    spec[0] = (struct key_spec){ NULL, K_PREFIX, 8, prefix };
    ns = ns - packed + 1;
  }
  bool sorted = true;
  for (uint32_t i = 1; i < n && sorted; i++)
    sorted = cmp_keys(spec, ns, perm[i - 1], perm[i]) <= 0;
  if (sorted) {
    mem_free(prefix);
    return;
  }
  /* bottom-up merge sort: insertion-sorted runs of 16, then merges */
  uint32_t *tmp = mem_alloc((size_t)n * sizeof *tmp);
  for (uint32_t lo = 0; lo < n; lo += 16) {
    uint32_t hi = lo + 16 < n ? lo + 16 : n;
    for (uint32_t i = lo + 1; i < hi; i++) {
      uint32_t v = perm[i], j = i;
      while (j > lo && cmp_keys(spec, ns, perm[j - 1], v) > 0) {
        perm[j] = perm[j - 1];
        j--;
      }
      perm[j] = v;
    }
  }
  uint32_t *src = perm, *dst = tmp;
  for (uint32_t w = 16; w < n; w *= 2) {
    for (uint32_t lo = 0; lo < n; lo += 2 * w) {
      uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      uint32_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        dst[k++] = cmp_keys(spec, ns, src[j], src[i]) < 0 ? src[j++] : src[i++];
      while (i < mid)
        dst[k++] = src[i++];
      while (j < hi)
        dst[k++] = src[j++];
    }
    uint32_t *x = src;
    src = dst;
    dst = x;
  }
  if (src != perm)
    memcpy(perm, src, (size_t)n * sizeof *perm);
  mem_free(tmp);
  mem_free(prefix);
}

/* ---- derived values ---- */

int eval_expr(const struct table_expr *x, const struct block *rows, struct arena *a, struct column **out,
              struct error *err)
{
  if (x->column >= 0) {
    *out = rows->columns[x->column];
    return 0;
  }
  struct column *c = NULL;
  int rc = x->eval(x->ctx, rows, a, &c, err);
  if (rc)
    return error_prefix(err, "while evaluating %s: ", x->text);
  bool type_ok = c && (datatype_equal(c->type, x->type) ||
                       (x->type->id == TYPE_LOW_CARDINALITY && datatype_equal(c->type, x->type->children[0])));
  if (!type_ok || c->rows != rows->rows)
    return error_set(err, ERR_LOGICAL_ERROR, "Evaluating %s gave a column of another type or row count", x->text);
  *out = column_materialize(a, c);
  return 0;
}

int index_inputs(const struct def *d, struct block *b, struct arena *a, struct error *err)
{
  if (!d->td.index_count)
    return 0;
  struct block view = { .rows = b->rows, .column_count = d->ncols, .columns = b->columns, .names = b->names };
  for (uint32_t i = 0; i < d->td.index_count; i++) {
    int rc = eval_expr(&d->td.indexes[i].expr, &view, a, &b->columns[d->nstore + i], err);
    if (rc)
      return rc;
  }
  return 0;
}

struct block *block_concat(struct arena *arena, const struct block *a, const struct block *b)
{
  if (!a || !a->rows)
    return (struct block *)b;
  if (!b || !b->rows)
    return (struct block *)a;
  struct block *r = block_create(arena, a->column_count);
  r->rows = a->rows + b->rows;
  for (uint32_t i = 0; i < a->column_count; i++) {
    r->names[i] = a->names[i];
    struct column *c = column_create(arena, a->columns[i]->type, r->rows);
    column_append_range(c, a->columns[i], 0, a->rows);
    column_append_range(c, b->columns[i], 0, b->rows);
    r->columns[i] = c;
  }
  return r;
}

void readable_size(uint64_t bytes, char *out, size_t size)
{
  static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = (double)bytes;
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    u++;
  }
  snprintf(out, size, "%.2f %s", v, units[u]);
}

struct part_writer_options writer_options(const struct engine *e, const struct def *d, const char *partition_id,
                                          const char *partition_text)
{
  return (struct part_writer_options){
    .index_granularity = d->td.settings.index_granularity,
    .index_granularity_bytes = d->td.settings.index_granularity_bytes,
    .default_codec = d->td.settings.default_codec,
    .partition_value = slice_of(partition_text),
    .partition_id = partition_id,
    .no_fsync = e->opt.no_fsync,
  };
}

void catalog_part_fill(const struct def *d, const char *name, const char *partition_id, const char *partition_text,
                       uint64_t min_block, uint64_t max_block, uint32_t level, const struct part_info *info,
                       struct catalog_part *out)
{
  memset(out, 0, sizeof *out);
  out->name = name;
  out->partition_id = partition_id;
  out->partition_value = partition_text;
  out->partition_value_bytes = strlen(partition_text);
  out->min_block = min_block;
  out->max_block = max_block;
  out->level = level;
  out->rows = info->rows;
  out->bytes_on_disk = info->bytes_on_disk;
  out->data_compressed_bytes = info->compressed_bytes;
  out->data_uncompressed_bytes = info->uncompressed_bytes;
  out->disk = "default";
  for (uint32_t k = 0; k < info->minmax_count && k < d->minmax_count; k++)
    if (d->td.time_column >= 0 && d->minmax_cols[k] == (uint32_t)d->td.time_column && info->minmax[k]->rows == 2) {
      out->has_time = true;
      out->min_time = time_value(info->minmax[k], 0);
      out->max_time = time_value(info->minmax[k], 1);
    }
}

/* ---- back-pressure ---- */

static int parts_pressure(struct engine_table *t, const struct def *d, const char *label, struct error *err)
{
  struct engine *e = t->e;
  uint64_t delay_at = d->parts_to_delay ? d->parts_to_delay : e->opt.parts_to_delay_insert;
  uint64_t throw_at = d->parts_to_throw ? d->parts_to_throw : e->opt.parts_to_throw_insert;
  uint64_t total_max = d->max_parts_total ? d->max_parts_total : e->opt.max_parts_in_total;
  uint64_t worst = 0, worst_bytes = 0, total = 0;
  pthread_mutex_lock(&t->lock);
  total = t->nparts;
  for (uint32_t i = 0; i < t->nparts;) {
    uint32_t j = i;
    uint64_t bytes = 0;
    while (j < t->nparts && strcmp(t->parts[j]->partition_id, t->parts[i]->partition_id) == 0)
      bytes += t->parts[j++]->bytes_on_disk;
    if (j - i > worst) {
      worst = j - i;
      worst_bytes = bytes;
    }
    i = j;
  }
  pthread_mutex_unlock(&t->lock);
  if (total >= total_max)
    return error_set(err, ERR_TOO_MANY_PARTS, "Too many parts (%" PRIu64 ") in all partitions in total in table "
                     "%s. This indicates wrong choice of partition key. The threshold can be modified with "
                     "'max_parts_in_total' setting in <merge_tree> element in config.xml or with per-table setting.",
                     total, label);
  if (worst >= throw_at) {
    char avg[32];
    readable_size(worst ? worst_bytes / worst : 0, avg, sizeof avg);
    return error_set(err, ERR_TOO_MANY_PARTS, "Too many parts (%" PRIu64 " with average size of %s) in table %s. "
                     "Merges are processing significantly slower than inserts", worst, avg, label);
  }
  if (worst > delay_at) {
    uint64_t allowed = throw_at > delay_at ? throw_at - delay_at : 1;
    uint64_t ms = (uint64_t)e->opt.max_delay_to_insert_ms * (worst - delay_at) / allowed;
    if (ms < e->opt.min_delay_to_insert_ms)
      ms = e->opt.min_delay_to_insert_ms;
    if (ms > e->opt.max_delay_to_insert_ms)
      ms = e->opt.max_delay_to_insert_ms;
    log_debug("table %s: %" PRIu64 " parts in a partition, delaying the insert by %" PRIu64 " ms", label, worst, ms);
    engine_wake_merges(e);
    for (uint64_t slept = 0; slept < ms && !atomic_load(&e->stopping); slept += 10) {
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep(&ts, NULL);
    }
  }
  return 0;
}

/* ---- the insert ---- */

int insert_check_block(const struct def *d, const struct block *in, const char *label, struct error *err)
{
  if (in->column_count != d->ncols)
    return error_set(err, ERR_NUMBER_OF_COLUMNS_DOESNT_MATCH, "Inserted block has %u columns, table %s has %u",
                     in->column_count, label, d->ncols);
  for (uint32_t i = 0; i < d->ncols; i++) {
    const struct column *c = in->columns[i];
    const struct datatype *want = d->td.columns[i].type;
    bool ok = c && (c->is_const || c->rows == in->rows) &&
              (datatype_equal(c->type, want) ||
               (want->id == TYPE_LOW_CARDINALITY && datatype_equal(c->type, want->children[0])));
    if (!ok) {
      struct buf a, b;
      buf_init(&a);
      buf_init(&b);
      if (c)
        datatype_format(c->type, &a);
      datatype_format(want, &b);
      int rc = error_set(err, ERR_TYPE_MISMATCH, "Column %s of the inserted block has type %s and %u rows, table %s "
                         "expects %s and %u rows", d->td.columns[i].name, c ? buf_cstr(&a) : "(none)",
                         c ? c->rows : 0, label, buf_cstr(&b), in->rows);
      buf_free(&a);
      buf_free(&b);
      return rc;
    }
  }
  return 0;
}

struct group {
  char *id;
  uint32_t first;                    /* first row: the partition value */
  uint32_t *rows;
  uint32_t n, cap;
};

struct written {
  char *path;                        /* provisional, then final */
  char *name;
  const char *partition_id;
  char *partition_text;
  struct part_info info;
  struct engine_part *part;
  bool empty;                        /* collapsed to no rows: no part */
};

static void group_add(struct arena *a, struct group *g, uint32_t row)
{
  if (g->n == g->cap) {
    uint32_t cap = g->cap ? g->cap * 2 : 64;
    g->rows = arena_realloc(a, g->rows, g->cap * sizeof *g->rows, cap * sizeof *g->rows);
    g->cap = cap;
  }
  g->rows[g->n++] = row;
}

/* Splits rows by partition id. Returns the group count, or UINT32_MAX when
 * it would exceed max. */
static uint32_t split(struct arena *a, const struct def *d, struct column **pcols, uint32_t rows, uint32_t max,
                      struct group **out)
{
  uint32_t np = d->td.partition_key_count, ng = 0, cap = 8;
  struct group *g = arena_new_array(a, struct group, cap);
  struct buf id;
  buf_init(&id);
  uint32_t last = 0;
  for (uint32_t r = 0; r < rows; r++) {
    if (r > 0) {
      bool same = true;
      for (uint32_t k = 0; k < np && same; k++)
        same = column_compare_rows(pcols[k], r, pcols[k], r - 1, false) == 0 &&
               column_is_null(pcols[k], r) == column_is_null(pcols[k], r - 1);
      if (same) {
        group_add(a, &g[last], r);
        continue;
      }
    }
    buf_reset(&id);
    partition_id_append((const struct column *const *)pcols, np, r, &id);
    const char *s = buf_cstr(&id);
    uint32_t k = 0;
    while (k < ng && strcmp(g[k].id, s) != 0)
      k++;
    if (k == ng) {
      if (ng == max) {
        buf_free(&id);
        return UINT32_MAX;
      }
      if (ng == cap) {
        g = arena_realloc(a, g, cap * sizeof *g, 2 * cap * sizeof *g);
        memset(g + cap, 0, cap * sizeof *g);
        cap *= 2;
      }
      g[ng] = (struct group){ .id = arena_strdup(a, s), .first = r };
      ng++;
    }
    group_add(a, &g[k], r);
    last = k;
  }
  buf_free(&id);
  *out = g;
  return ng;
}

/* The rows of one engine_insert_add: a single block, or (a memtable flush)
 * several blocks taken in order as if concatenated. Several blocks are not
 * copied into one: only their sorting-key and partition-key columns are
 * (small), and every other column is gathered from its block for one
 * write slice at a time, so a flush holds no concatenated copy of its rows. */
struct insert_rows {
  const struct block *all;           /* storage layout; several blocks: the sorting-key columns only */
  struct block **blk;                /* several blocks: each in storage layout; else NULL */
  uint32_t nblk;
  uint32_t *src, *off;               /* several blocks: per row, its block and its row there */
};

/* Rows rows[0..n) of `in` in storage layout, with the skip-index inputs
 * after the storage columns. */
static int take_rows(const struct def *d, struct arena *a, const struct insert_rows *in, const uint32_t *rows,
                     uint32_t n, struct block **out, struct error *err)
{
  const struct table_def *td = &d->td;
  struct block *b = block_create(a, d->nstore + td->index_count);
  b->rows = n;
  struct column_run *runs = NULL;
  uint32_t nruns = 0;
  const struct column **srcs = NULL;
  if (in->blk) {
    runs = arena_new_array(a, struct column_run, n + 1);
    for (uint32_t i = 0; i < n; i++) {
      uint32_t s = in->src[rows[i]], r = in->off[rows[i]];
      if (nruns && runs[nruns - 1].source == s && runs[nruns - 1].row + runs[nruns - 1].count == r)
        runs[nruns - 1].count++;
      else
        runs[nruns++] = (struct column_run){ s, r, 1 };
    }
    srcs = arena_new_array(a, const struct column *, in->nblk);
  }
  for (uint32_t c = 0; c < d->nstore; c++) {
    if (in->all->columns[c]) {
      b->columns[c] = column_take(a, in->all->columns[c], rows, n);
    } else {
      for (uint32_t i = 0; i < in->nblk; i++)
        srcs[i] = in->blk[i]->columns[c];
      struct column *col = column_create(a, srcs[0]->type, n);
      column_gather(col, srcs, in->nblk, runs, nruns);
      b->columns[c] = col;
    }
    b->names[c] = d->pcols[c].name;
  }
  for (uint32_t i = 0; i < td->index_count; i++)
    b->names[d->nstore + i] = td->indexes[i].name;
  *out = b;
  return index_inputs(d, b, a, err);
}

/* Replacing/Summing: the sorted rows of one partition collapsed, with the
 * skip-index inputs; NULL when nothing is left (Summing rows adding to 0). */
static int collapse_group(const struct def *d, struct arena *a, const struct block *all, const struct group *g,
                          struct block **out, struct error *err)
{
  const struct table_def *td = &d->td;
  struct block *b = block_create(a, d->nstore);
  b->rows = g->n;
  for (uint32_t c = 0; c < d->nstore; c++) {
    b->columns[c] = column_take(a, all->columns[c], g->rows, g->n);
    b->names[c] = d->pcols[c].name;
  }
  struct collapser co;
  collapser_init(&co, td->kind, d->nstore, d->sort_col, td->sort_key_count, td->version_column, d->summed);
  struct block *x = collapser_push(&co, b, a);
  struct block *y = collapser_finish(&co, a);
  struct block *z = block_concat(a, x, y);
  collapser_fini(&co);
  *out = NULL;
  if (!z || !z->rows)
    return 0;
  struct block *nb = block_create(a, d->nstore + td->index_count);
  nb->rows = z->rows;
  for (uint32_t c = 0; c < d->nstore; c++) {
    nb->columns[c] = z->columns[c];
    nb->names[c] = d->pcols[c].name;
  }
  for (uint32_t i = 0; i < td->index_count; i++)
    nb->names[d->nstore + i] = td->indexes[i].name;
  *out = nb;
  return index_inputs(d, nb, a, err);
}

/* Rows a plain MergeTree part is written in at a time: the sorted copy and
 * the skip-index inputs exist for one slice only, not the whole insert. */
enum { WRITE_SLICE_ROWS = 16384 };

/* Sorts, collapses and writes one partition's rows under a provisional name. */
static int write_group(struct engine_table *t, const struct def *d, struct arena *a, struct arena *keep,
                       const struct insert_rows *in, struct column **pcols, struct group *g, struct written *w,
                       struct error *err)
{
  const struct block *all = in->all;
  struct engine *e = t->e;
  const struct table_def *td = &d->td;
  memset(w, 0, sizeof *w);
  const struct column **keys = arena_new_array(a, const struct column *, td->sort_key_count + 1);
  for (uint32_t k = 0; k < td->sort_key_count; k++)
    keys[k] = all->columns[d->sort_col[k]];
  sort_rows(keys, td->sort_key_count, g->rows, g->n);
  int rc;
  struct block *whole = NULL;
  if (td->kind != TABLE_MERGE_TREE) {
    if ((rc = collapse_group(d, a, all, g, &whole, err)) != 0)
      return rc;
    if (!whole) {
      w->empty = true;
      return 0;
    }
  }
  struct buf text;
  buf_init(&text);
  partition_text_append(d, (const struct column *const *)pcols, g->first, &text);
  w->partition_text = arena_strndup(keep, text.data ? text.data : "", text.len);
  buf_free(&text);
  w->partition_id = arena_strdup(keep, g->id);
  w->name = arena_printf(keep, "insert_%" PRId64 "_%" PRIu64, t->id, atomic_fetch_add(&e->seq, 1));
  struct part_writer_options wo = writer_options(e, d, w->partition_id, w->partition_text);
  struct part_writer *pw;
  if ((rc = part_writer_open(t->dir, w->name, &d->schema, &wo, &pw, err)) != 0)
    return rc;
  if (whole) {
    rc = part_writer_write_block(pw, whole, err);
  } else {
    for (uint32_t off = 0; off < g->n && rc == 0; off += WRITE_SLICE_ROWS) {
      uint32_t n = g->n - off < WRITE_SLICE_ROWS ? g->n - off : WRITE_SLICE_ROWS;
      struct arena sa;
      arena_init(&sa, 1 << 20);
      struct block *b;
      if ((rc = take_rows(d, &sa, in, g->rows + off, n, &b, err)) == 0)
        rc = part_writer_write_block(pw, b, err);
      arena_destroy(&sa);
    }
  }
  if (rc) {
    part_writer_abort(pw);
    return rc;
  }
  if ((rc = part_writer_finish(pw, keep, &w->info, err)) != 0)
    return rc;
  w->path = arena_printf(keep, "%s/%s", t->dir, w->name);
  return 0;
}

/* A staged insert: parts written as blocks arrive (provisional names, never
 * visible), published together by commit in one catalog transaction. */
struct engine_insert {
  struct engine_table *t;
  struct def *d;
  struct arena arena;                /* the written parts' names, paths and infos */
  struct engine_insert_options opts;
  bool has_opts;
  struct written *w;
  uint32_t nw, cap;
  uint64_t written_bytes;
};

int engine_insert_begin(struct engine_table *t, const struct engine_insert_options *opts, struct engine_insert **out,
                        struct error *err)
{
  struct def *d = table_def_get(t);
  if (!d) {
    char label[512];
    table_label(t, label, sizeof label);
    return error_set(err, ERR_LOGICAL_ERROR, "Table %s is not attached to a definition", label);
  }
  struct engine_insert *ins = mem_calloc(1, sizeof *ins);
  ins->t = t;
  engine_table_ref(t);
  ins->d = d;
  arena_init(&ins->arena, 64 * 1024);
  if (opts) {
    ins->opts = *opts;
    ins->has_opts = true;
  }
  *out = ins;
  return 0;
}

static void insert_free(struct engine_insert *ins)
{
  arena_destroy(&ins->arena);
  def_unref(ins->d);
  engine_table_unref(ins->t);
  mem_free(ins->w);
  mem_free(ins);
}

void engine_insert_abort(struct engine_insert *ins)
{
  if (!ins)
    return;
  for (uint32_t i = 0; i < ins->nw; i++) {
    if (ins->w[i].part)
      part_unref(ins->w[i].part);
    if (ins->w[i].path)
      unlink(ins->w[i].path);
  }
  insert_free(ins);
}

/* in in table layout: constants expanded (the writer and the gathers want
 * plain columns). */
static struct block *table_layout(const struct def *d, const struct block *in, struct arena *a, uint64_t *bytes)
{
  const struct table_def *td = &d->td;
  struct block *rows = block_create(a, d->ncols);
  rows->rows = in->rows;
  for (uint32_t i = 0; i < d->ncols; i++) {
    struct column *c = in->columns[i];
    if (c->is_const) {
      struct column *m = column_create(a, c->type, in->rows);
      for (uint32_t r = 0; r < in->rows; r++)
        column_append_from(m, c, 0);
      c = m;
    }
    rows->columns[i] = c;
    rows->names[i] = td->columns[i].name;
    *bytes += column_byte_size(c);
  }
  return rows;
}

/* The blocks' columns one after another (constants expanded). */
static struct column *concat_columns(struct arena *a, struct column *const *cols, uint32_t count, uint32_t rows)
{
  const struct column **srcs = arena_new_array(a, const struct column *, count);
  struct column_run *runs = arena_new_array(a, struct column_run, count);
  uint32_t nruns = 0;
  for (uint32_t i = 0; i < count; i++) {
    const struct column *c = cols[i];
    if (c->is_const) {
      struct column *m = column_create(a, c->type, c->rows);
      for (uint32_t r = 0; r < c->rows; r++)
        column_append_from(m, c, 0);
      c = m;
    }
    srcs[i] = c;
    if (c->rows)
      runs[nruns++] = (struct column_run){ i, 0, c->rows };
  }
  struct column *out = column_create(a, cols[0]->type, rows);
  column_gather(out, srcs, count, runs, nruns);
  return out;
}

/* engine_insert_add over count blocks taken as one (see struct insert_rows). */
static int insert_add(struct engine_insert *ins, const struct block *const *in, uint32_t count, struct error *err)
{
  struct engine_table *t = ins->t;
  struct engine *e = t->e;
  struct def *d = ins->d;
  const struct engine_insert_options *opts = ins->has_opts ? &ins->opts : NULL;
  char label[512];
  table_label(t, label, sizeof label);
  const struct table_def *td = &d->td;
  struct arena a;
  arena_init(&a, 1 << 20);
  int rc = 0;
  uint64_t total = 0;
  for (uint32_t b = 0; b < count && !rc; b++) {
    rc = insert_check_block(d, in[b], label, err);
    total += in[b]->rows;
  }
  if (rc || total == 0)
    goto out;
  if (total > UINT32_MAX) {
    rc = error_set(err, ERR_LOGICAL_ERROR, "Insert into %s: %" PRIu64 " rows at once", label, total);
    goto out;
  }
  if ((rc = parts_pressure(t, d, label, err)) != 0)
    goto out;

  /* each block in table layout, then in storage layout with hidden keys,
   * and its partition key (the evaluators take any number of rows, so
   * evaluating block by block gives the values of the concatenation) */
  uint32_t npk = td->partition_key_count;
  struct block **blk = arena_new_array(&a, struct block *, count);
  struct column **pk = arena_new_array(&a, struct column *, (size_t)count * npk + 1);
  for (uint32_t b = 0; b < count; b++) {
    struct block *rows = table_layout(d, in[b], &a, &ins->written_bytes);
    struct block *all = block_create(&a, d->nstore);
    all->rows = rows->rows;
    for (uint32_t i = 0; i < d->ncols; i++)
      all->columns[i] = rows->columns[i];
    for (uint32_t k = 0; k < td->sort_key_count; k++)
      if (td->sort_key[k].column < 0 &&
          (rc = eval_expr(&td->sort_key[k], rows, &a, &all->columns[d->sort_col[k]], err)) != 0)
        goto out;
    for (uint32_t k = 0; k < npk; k++)
      if ((rc = eval_expr(&td->partition_key[k], rows, &a, &pk[(size_t)k * count + b], err)) != 0)
        goto out;
    blk[b] = all;
  }
  struct insert_rows rows_in = { .all = blk[0], .nblk = 1 };
  struct column **pcols = arena_new_array(&a, struct column *, npk + 1);
  if (count == 1) {
    for (uint32_t k = 0; k < npk; k++)
      pcols[k] = pk[k];
  } else {
    /* the keys concatenated; every column too when rows are collapsed */
    struct block *keys = block_create(&a, d->nstore);
    keys->rows = (uint32_t)total;
    struct column **cols = arena_new_array(&a, struct column *, count);
    for (uint32_t c = 0; c < d->nstore; c++) {
      bool need = td->kind != TABLE_MERGE_TREE;
      for (uint32_t k = 0; k < td->sort_key_count && !need; k++)
        need = d->sort_col[k] == c;
      if (!need)
        continue;
      for (uint32_t b = 0; b < count; b++)
        cols[b] = blk[b]->columns[c];
      keys->columns[c] = concat_columns(&a, cols, count, (uint32_t)total);
    }
    for (uint32_t k = 0; k < npk; k++)
      pcols[k] = concat_columns(&a, pk + (size_t)k * count, count, (uint32_t)total);
    rows_in = (struct insert_rows){ .all = keys, .blk = blk, .nblk = count };
    rows_in.src = arena_new_array(&a, uint32_t, total);
    rows_in.off = arena_new_array(&a, uint32_t, total);
    uint32_t r = 0;
    for (uint32_t b = 0; b < count; b++)
      for (uint32_t i = 0; i < blk[b]->rows; i++, r++) {
        rows_in.src[r] = b;
        rows_in.off[r] = i;
      }
  }

  uint32_t maxp = opts && opts->max_partitions_per_insert_block ? opts->max_partitions_per_insert_block
                                                                 : e->opt.max_partitions_per_insert_block;
  struct group *groups;
  uint32_t ng = split(&a, d, pcols, (uint32_t)total, maxp, &groups);
  if (ng == UINT32_MAX) {
    rc = error_set(err, ERR_TOO_MANY_PARTS, "Too many partitions for single INSERT block (more than %u). The limit "
                   "is controlled by 'max_partitions_per_insert_block' setting. Large number of partitions is a "
                   "common misconception. It will lead to severe negative performance impact, including slow server "
                   "startup, slow INSERT queries and slow SELECT queries. Recommended total number of partitions for "
                   "a table is under 1000..10000. Please note, that partitioning is not intended to speed up SELECT "
                   "queries (ORDER BY key is sufficient to make range queries fast). Partitions are intended for data "
                   "manipulation (DROP PARTITION, etc).", maxp);
    goto out;
  }
  if (ins->nw + ng > ins->cap) {
    uint32_t cap = ins->cap ? ins->cap : 8;
    while (cap < ins->nw + ng)
      cap *= 2;
    ins->w = mem_realloc(ins->w, cap * sizeof *ins->w);
    ins->cap = cap;
  }
  for (uint32_t i = 0; i < ng; i++) {
    struct written *w = &ins->w[ins->nw];
    rc = write_group(t, d, &a, &ins->arena, &rows_in, pcols, &groups[i], w, err);
    if (rc) {
      if (w->path)
        unlink(w->path);
      goto out;
    }
    if (!w->empty)
      ins->nw++;
  }
out:
  arena_destroy(&a);
  return rc;
}

int engine_insert_add(struct engine_insert *ins, const struct block *in, struct error *err)
{
  return insert_add(ins, &in, 1, err);
}

int insert_add_blocks(struct engine_insert *ins, const struct block *const *blocks, uint32_t count,
                      struct error *err)
{
  return count ? insert_add(ins, blocks, count, err) : 0;
}

/* Publishes the staged parts; for a memtable flush (wal_position set) the
 * same catalog transaction moves the table's log position and published()
 * retires the flushed chunks in the same in-memory step. */
static int commit_parts(struct engine_insert *ins, struct engine_insert_result *res, const uint64_t *wal_position,
                        void (*published)(void *ctx), void *ctx, struct error *err)
{
  struct engine_insert_result ignored;
  if (!res)
    res = &ignored;
  memset(res, 0, sizeof *res);
  struct engine_table *t = ins->t;
  struct engine *e = t->e;
  struct def *d = ins->d;
  struct written *w = ins->w;
  uint32_t ng = ins->nw;
  int rc = 0;
  if (!ng) {
    if (wal_position) {
      pthread_mutex_lock(&t->commit_lock);
      rc = catalog_wal_position_advance(e->cat, t->id, *wal_position, err);
      if (rc == 0) {
        pthread_mutex_lock(&t->lock);
        published(ctx);
        pthread_mutex_unlock(&t->lock);
      }
      pthread_mutex_unlock(&t->commit_lock);
    }
    insert_free(ins);
    return rc;
  }
  struct arena a;
  arena_init(&a, 64 * 1024);

  /* publish */
  pthread_mutex_lock(&t->insert_lock);
  uint64_t first;
  if ((rc = catalog_blocks_allocate(e->cat, t->id, ng, &first, err)) != 0) {
    pthread_mutex_unlock(&t->insert_lock);
    goto out;
  }
  struct catalog_part *cps = arena_new_array(&a, struct catalog_part, ng);
  for (uint32_t i = 0; i < ng; i++) {
    uint64_t block = first + i;
    char *name = arena_printf(&ins->arena, "%s_%" PRIu64 "_%" PRIu64 "_0", w[i].partition_id, block, block);
    char *path = arena_printf(&ins->arena, "%s/%s", t->dir, name);
    if (rename(w[i].path, path) != 0) {
      rc = error_set(err, ERR_CANNOT_WRITE_TO_FILE_DESCRIPTOR, "Cannot rename %s to %s: %s", w[i].path, path,
                     strerror(errno));
      break;
    }
    w[i].path = path;
    w[i].name = name;
    catalog_part_fill(d, name, w[i].partition_id, w[i].partition_text, block, block, 0, &w[i].info, &cps[i]);
  }
  if (rc == 0 && !e->opt.no_fsync) {
    int io = storage_io_fsync_dir(t->dir);
    if (io < 0)
      rc = error_set(err, ERR_CANNOT_WRITE_TO_FILE_DESCRIPTOR, "Cannot fsync %s: %s", t->dir, strerror(-io));
  }
  for (uint32_t i = 0; rc == 0 && i < ng; i++) {
    w[i].part = part_load(e, t->id, t->dir, &cps[i], err);
    if (w[i].part->broken_code)
      rc = error_prefix(err, "reading back the part just written: ");
  }
  if (rc == 0) {
    pthread_mutex_lock(&t->commit_lock);
    rc = catalog_parts_add(e->cat, t->id, cps, ng, wal_position, err);
    if (rc == 0) {
      pthread_mutex_lock(&t->lock);
      for (uint32_t i = 0; i < ng; i++) {
        table_add_part_locked(t, w[i].part);
        res->written_rows += w[i].info.rows;
        w[i].part = NULL;
      }
      if (published)
        published(ctx);
      res->parts = ng;
      res->written_bytes = ins->written_bytes;
      pthread_mutex_unlock(&t->lock);
    }
    pthread_mutex_unlock(&t->commit_lock);
  }
  pthread_mutex_unlock(&t->insert_lock);
  if (rc == 0)
    engine_wake_merges(e);

out:
  arena_destroy(&a);
  if (rc) {
    memset(res, 0, sizeof *res);
    engine_insert_abort(ins);
    return rc;
  }
  insert_free(ins);
  return 0;
}

int engine_insert_commit(struct engine_insert *ins, struct engine_insert_result *res, struct error *err)
{
  return commit_parts(ins, res, NULL, NULL, NULL, err);
}

int insert_commit_flush(struct engine_insert *ins, uint64_t wal_position, void (*published)(void *ctx), void *ctx,
                        struct error *err)
{
  return commit_parts(ins, NULL, &wal_position, published, ctx, err);
}

int engine_insert(struct engine_table *t, const struct block *in, const struct engine_insert_options *opts,
                  struct engine_insert_result *res, struct error *err)
{
  if (res)
    memset(res, 0, sizeof *res);
  struct engine_insert *ins;
  int rc = engine_insert_begin(t, opts, &ins, err);
  if (rc)
    return rc;
  if ((rc = engine_insert_add(ins, in, err)) != 0) {
    engine_insert_abort(ins);
    return rc;
  }
  return engine_insert_commit(ins, res, err);
}
