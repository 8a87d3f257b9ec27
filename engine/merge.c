/* Merges: the k-way merger of sorted parts (also used by FINAL scans), the
 * collapser applying ReplacingMergeTree / SummingMergeTree semantics (also
 * used at insert), the size-tiered selection of background merges, the
 * merge threads, OPTIMIZE and system.merges.
 *
 * A merge: pick adjacent active parts of one partition (marked `merging`
 * under the table lock, so nobody else picks them) → read them granule
 * chunk by chunk, merge by the sorting key, collapse, write tmp_<name> →
 * fsync → rename → fsync dir → catalog_parts_replace (one transaction:
 * result ACTIVE, sources OUTDATED) → swap in memory. The sources' files
 * are deleted when the last snapshot releases them (engine.c graveyard).
 * Inserts and reads never wait for a merge. */
#include "engine/engine_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"

/* ======================================================================
 * k-way merger
 *
 * Each output block is built in two phases: the heap decides the order as
 * runs of (source, first row, rows) looking only at the key columns, then
 * column_gather copies every column once over all runs. Runs point into the
 * sources' current chunks, so they are gathered before a chunk is replaced.
 * ==================================================================== */

/* How a key column is compared: typed code for the usual key types, which
 * gives column_compare_rows' order without its per-row type dispatch. */
enum key_kind {
  KEY_GENERIC,       /* column_compare_rows */
  KEY_INT64,         /* Int64, DateTime64 */
  KEY_UINT64,
  KEY_UINT32,        /* UInt32, DateTime */
  KEY_UINT16,        /* UInt16, Date */
  KEY_STRING,
  KEY_LC_STRING,     /* LowCardinality(String) */
};

struct msrc {
  struct engine_part *part;
  const struct granule_range *ranges;
  uint32_t nranges;
  uint32_t ri, g;                    /* next granule: ranges[ri], granule g */
  struct arena arena;                /* the current chunk */
  struct block *blk;
  uint32_t pos;
  bool done;
  bool typed_keys;                   /* the chunk's key columns have the declared types, so key_kind applies */
};

struct merger {
  const struct def *d;               /* computes what parts do not store */
  struct msrc *src;
  uint32_t n;
  struct part_read_column *cols;
  uint32_t ncols;
  uint32_t *key;
  enum key_kind *key_kind;           /* parallel to key */
  uint32_t nkeys;
  uint32_t block_rows;
  uint32_t *heap;
  uint32_t heap_n;
  struct column_run *runs;           /* the output block's order, not yet gathered; block_rows entries */
  uint32_t nruns;
  const struct column **gather_src;  /* one column of every source, for column_gather; n entries */
  const atomic_bool *cancel1, *cancel2;
  uint64_t rows_read, bytes_read;
};

static enum key_kind key_kind_of(const struct datatype *t)
{
  if (!t)
    return KEY_GENERIC;
  switch (t->id) {
  case TYPE_INT64: case TYPE_DATETIME64: return KEY_INT64;
  case TYPE_UINT64: return KEY_UINT64;
  case TYPE_UINT32: case TYPE_DATETIME: return KEY_UINT32;
  case TYPE_UINT16: case TYPE_DATE: return KEY_UINT16;
  case TYPE_STRING: return KEY_STRING;
  case TYPE_LOW_CARDINALITY: return t->children[0]->id == TYPE_STRING ? KEY_LC_STRING : KEY_GENERIC;
  default: return KEY_GENERIC;
  }
}

static bool chunk_keys_typed(const struct merger *m, const struct block *b)
{
  for (uint32_t k = 0; k < m->nkeys; k++) {
    const struct column *c = b->columns[m->key[k]];
    if (c->is_const || !m->cols[m->key[k]].type || !datatype_equal(c->type, m->cols[m->key[k]].type))
      return false;
  }
  return true;
}

static int src_load(struct merger *m, struct msrc *s, struct error *err)
{
  for (;;) {
    arena_reset(&s->arena);
    s->blk = NULL;
    s->pos = 0;
    while (s->ri < s->nranges && s->g >= s->ranges[s->ri].end) {
      s->ri++;
      if (s->ri < s->nranges)
        s->g = s->ranges[s->ri].begin;
    }
    if (s->ri >= s->nranges) {
      s->done = true;
      return 0;
    }
    struct part_reader *r = s->part->reader;
    uint32_t end = s->g + 1, rows = part_reader_granule_rows(r, s->g);
    while (end < s->ranges[s->ri].end && rows + part_reader_granule_rows(r, end) <= m->block_rows)
      rows += part_reader_granule_rows(r, end++);
    struct granule_range gr = { s->g, end };
    struct part_read_stats st;
    /* computed sorting-key columns and columns added after the part are
     * evaluated here, so the heap compares and the writer gets real values */
    int rc = part_read_derived(m->d, r, m->cols, m->ncols, &gr, 1, &s->arena, &s->blk, &st, err);
    if (rc)
      return rc;
    s->g = end;
    m->rows_read += s->blk->rows;
    m->bytes_read += st.bytes_uncompressed;
    s->typed_keys = chunk_keys_typed(m, s->blk);
    if (s->blk->rows)
      return 0;
  }
}

static int compare_u64(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

/* Row ra of String column a against row rb of b, as bytes then length. */
static int compare_strings(const struct column *a, uint32_t ra, const struct column *b, uint32_t rb)
{
  uint64_t as = ra ? a->offsets[ra - 1] : 0, bs = rb ? b->offsets[rb - 1] : 0;
  uint64_t alen = a->offsets[ra] - as, blen = b->offsets[rb] - bs;
  uint64_t n = alen < blen ? alen : blen;
  int r = n ? memcmp(a->chars + as, b->chars + bs, n) : 0;
  if (r)
    return r < 0 ? -1 : 1;
  return compare_u64(alen, blen);
}

static uint32_t lc_key_at(const struct column *c, uint32_t row)
{
  uint32_t k;
  memcpy(&k, (const char *)c->data + 4 * (size_t)row, 4);
  return k;
}

/* Fixed-width reads through memcpy: column data carries no alignment promise. */
static uint64_t fixed_at(const struct column *c, uint32_t row, size_t width)
{
  const char *p = (const char *)c->data + width * row;
  switch (width) {
  case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
  case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
  default: { uint64_t v; memcpy(&v, p, 8); return v; }
  }
}

/* a and b both have the declared key type that `kind` came from, and neither is const. */
static int compare_key(enum key_kind kind, const struct column *a, uint32_t ra, const struct column *b, uint32_t rb)
{
  switch (kind) {
  case KEY_INT64: {
    int64_t x = (int64_t)fixed_at(a, ra, 8), y = (int64_t)fixed_at(b, rb, 8);
    return x < y ? -1 : x > y;
  }
  case KEY_UINT64: return compare_u64(fixed_at(a, ra, 8), fixed_at(b, rb, 8));
  case KEY_UINT32: return compare_u64(fixed_at(a, ra, 4), fixed_at(b, rb, 4));
  case KEY_UINT16: return compare_u64(fixed_at(a, ra, 2), fixed_at(b, rb, 2));
  case KEY_STRING: return compare_strings(a, ra, b, rb);
  case KEY_LC_STRING: {
    uint32_t ka = lc_key_at(a, ra), kb = lc_key_at(b, rb);
    if (a->children[0] == b->children[0] && ka == kb)
      return 0;
    return compare_strings(a->children[0], ka, b->children[0], kb);
  }
  default: return column_compare_rows(a, ra, b, rb, false);
  }
}

/* Whether row ra of source a goes before the current row of source b. */
static bool precedes(const struct merger *m, uint32_t a, uint32_t ra, uint32_t b)
{
  const struct msrc *x = &m->src[a], *y = &m->src[b];
  bool typed = x->typed_keys && y->typed_keys;
  for (uint32_t k = 0; k < m->nkeys; k++) {
    uint32_t c = m->key[k];
    const struct column *xc = x->blk->columns[c], *yc = y->blk->columns[c];
    int r = typed ? compare_key(m->key_kind[k], xc, ra, yc, y->pos) : column_compare_rows(xc, ra, yc, y->pos, false);
    if (r)
      return r < 0;
  }
  return a < b;
}

static void sift_down(struct merger *m, uint32_t i)
{
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, best = i;
    if (l < m->heap_n && precedes(m, m->heap[l], m->src[m->heap[l]].pos, m->heap[best]))
      best = l;
    if (r < m->heap_n && precedes(m, m->heap[r], m->src[m->heap[r]].pos, m->heap[best]))
      best = r;
    if (best == i)
      return;
    uint32_t x = m->heap[i];
    m->heap[i] = m->heap[best];
    m->heap[best] = x;
    i = best;
  }
}

void merger_close(struct merger *m)
{
  if (!m)
    return;
  for (uint32_t i = 0; i < m->n; i++)
    arena_destroy(&m->src[i].arena);
  mem_free(m->src);
  mem_free(m->heap);
  mem_free(m->runs);
  mem_free(m->gather_src);
  mem_free(m->key_kind);
  mem_free(m->key);
  mem_free(m->cols);
  mem_free(m);
}

int merger_open(const struct def *d, const struct merge_input *inputs, uint32_t count,
                const struct part_read_column *cols, uint32_t ncols, const uint32_t *key, uint32_t nkeys,
                uint32_t block_rows, const atomic_bool *cancel1, const atomic_bool *cancel2, struct merger **out,
                struct error *err)
{
  struct merger *m = mem_calloc(1, sizeof *m);
  m->d = d;
  m->n = count;
  m->src = mem_calloc(count + 1, sizeof *m->src);
  m->heap = mem_calloc(count + 1, sizeof *m->heap);
  m->gather_src = mem_calloc(count + 1, sizeof *m->gather_src);
  m->cols = mem_calloc(ncols + 1, sizeof *m->cols);
  memcpy(m->cols, cols, ncols * sizeof *cols);
  m->ncols = ncols;
  m->key = mem_calloc(nkeys + 1, sizeof *m->key);
  memcpy(m->key, key, nkeys * sizeof *key);
  m->key_kind = mem_calloc(nkeys + 1, sizeof *m->key_kind);
  for (uint32_t k = 0; k < nkeys; k++)
    m->key_kind[k] = key_kind_of(cols[key[k]].type);
  m->nkeys = nkeys;
  m->block_rows = block_rows ? block_rows : ENGINE_BLOCK_ROWS;
  m->runs = mem_calloc(m->block_rows, sizeof *m->runs);
  m->cancel1 = cancel1;
  m->cancel2 = cancel2;
  for (uint32_t i = 0; i < count; i++) {
    struct msrc *s = &m->src[i];
    arena_init(&s->arena, 64 * 1024);
    s->part = inputs[i].part;
    s->ranges = inputs[i].ranges;
    s->nranges = inputs[i].range_count;
    s->g = s->nranges ? s->ranges[0].begin : 0;
  }
  for (uint32_t i = 0; i < count; i++) {
    int rc = src_load(m, &m->src[i], err);
    if (rc) {
      merger_close(m);
      return rc;
    }
    if (!m->src[i].done)
      m->heap[m->heap_n++] = i;
  }
  for (uint32_t i = m->heap_n / 2 + 1; i-- > 0;)
    sift_down(m, i);
  *out = m;
  return 0;
}

/* Records that the next `count` output rows are source rows [row, row + count). */
static void runs_push(struct merger *m, uint32_t source, uint32_t row, uint32_t count)
{
  struct column_run *last = m->nruns ? &m->runs[m->nruns - 1] : NULL;
  if (last && last->source == source && last->row + last->count == row) {
    last->count += count;
    return;
  }
  m->runs[m->nruns++] = (struct column_run){ source, row, count };
}

/* Copies the recorded runs into b's columns and forgets them. */
static void runs_gather(struct merger *m, struct block *b)
{
  if (!m->nruns)
    return;
  for (uint32_t c = 0; c < m->ncols; c++) {
    for (uint32_t i = 0; i < m->n; i++)
      m->gather_src[i] = m->src[i].blk ? m->src[i].blk->columns[c] : NULL;
    column_gather(b->columns[c], m->gather_src, m->n, m->runs, m->nruns);
  }
  m->nruns = 0;
}

/* How many rows from the top source's position go out before another
 * source's row must: 1..limit. */
static uint32_t top_run_length(const struct merger *m, uint32_t limit)
{
  uint32_t si = m->heap[0];
  const struct msrc *s = &m->src[si];
  if (m->heap_n < 2)
    return limit;
  uint32_t other = m->heap[1];
  if (m->heap_n > 2 && precedes(m, m->heap[2], m->src[m->heap[2]].pos, other))
    other = m->heap[2];
  if (precedes(m, si, s->pos + limit - 1, other))
    return limit;
  uint32_t run = 1;
  while (run < limit && precedes(m, si, s->pos + run, other))
    run++;
  return run;
}

int merger_next(struct merger *m, struct arena *a, struct block **out, struct error *err)
{
  *out = NULL;
  if ((m->cancel1 && atomic_load(m->cancel1)) || (m->cancel2 && atomic_load(m->cancel2)))
    return error_set(err, ERR_ABORTED, "Cancelled merging parts");
  if (!m->heap_n)
    return 0;
  struct block *b = block_create(a, m->ncols);
  for (uint32_t i = 0; i < m->ncols; i++) {
    b->columns[i] = column_create(a, m->cols[i].type, m->block_rows);
    b->names[i] = m->cols[i].name;
  }
  uint32_t rows = 0;
  m->nruns = 0;
  while (m->heap_n && rows < m->block_rows) {
    uint32_t si = m->heap[0];
    struct msrc *s = &m->src[si];
    uint32_t limit = s->blk->rows - s->pos;
    if (limit > m->block_rows - rows)
      limit = m->block_rows - rows;
    uint32_t run = top_run_length(m, limit);
    runs_push(m, si, s->pos, run);
    s->pos += run;
    rows += run;
    if (s->pos == s->blk->rows) {
      runs_gather(m, b);   /* loading the next chunk frees this one */
      int rc = src_load(m, s, err);
      if (rc)
        return rc;
      if (s->done)
        m->heap[0] = m->heap[--m->heap_n];
    }
    if (m->heap_n)
      sift_down(m, 0);
  }
  runs_gather(m, b);
  b->rows = rows;
  *out = b;
  return 0;
}

void merger_progress(const struct merger *m, uint64_t *rows, uint64_t *bytes)
{
  *rows = m->rows_read;
  *bytes = m->bytes_read;
}

/* ======================================================================
 * Collapser
 * ==================================================================== */

void collapser_init(struct collapser *c, enum table_kind kind, uint32_t ncols, const uint32_t *key, uint32_t nkeys,
                    int32_t version, const bool *summed)
{
  memset(c, 0, sizeof *c);
  c->kind = kind;
  c->ncols = ncols;
  c->key = key;
  c->nkeys = nkeys;
  c->version = version;
  c->summed = summed;
  arena_init(&c->ar[0], 0);
  arena_init(&c->ar[1], 0);
  arena_init(&c->scratch, 256 * 1024);
}

void collapser_fini(struct collapser *c)
{
  arena_destroy(&c->ar[0]);
  arena_destroy(&c->ar[1]);
  arena_destroy(&c->scratch);
}

static bool same_key(const struct collapser *c, const struct block *b, uint32_t r1, uint32_t r2)
{
  for (uint32_t k = 0; k < c->nkeys; k++)
    if (column_compare_rows(b->columns[c->key[k]], r1, b->columns[c->key[k]], r2, false) != 0)
      return false;
  return true;
}

enum sum_kind { S_UNSIGNED, S_SIGNED, S_FLOAT };

static enum sum_kind sum_kind_of(const struct datatype *t)
{
  if (datatype_is_float(t))
    return S_FLOAT;
  return datatype_is_signed(t) ? S_SIGNED : S_UNSIGNED;
}

/* Sums rows [start[g], start[g+1]) of c per group. */
static struct column *sum_groups(struct arena *a, const struct column *c, const uint32_t *start, uint32_t ng)
{
  struct column *r = column_create(a, c->type, ng);
  enum sum_kind k = sum_kind_of(c->type);
  for (uint32_t g = 0; g < ng; g++) {
    uint64_t u = 0;
    double f = 0;
    for (uint32_t i = start[g]; i < start[g + 1]; i++) {
      if (k == S_FLOAT)
        f += column_get_f64(c, i);
      else if (k == S_SIGNED)
        u += (uint64_t)column_get_i64(c, i);
      else
        u += column_get_u64(c, i);
    }
    if (k == S_FLOAT)
      column_append_f64(r, f);
    else if (k == S_SIGNED)
      column_append_i64(r, (int64_t)u);
    else
      column_append_u64(r, u);
  }
  return r;
}

static bool row_all_zero(const struct collapser *c, const struct block *b, uint32_t row)
{
  bool any = false;
  for (uint32_t i = 0; i < c->ncols; i++) {
    if (!c->summed[i])
      continue;
    any = true;
    if (column_get_f64(b->columns[i], row) != 0)
      return false;
  }
  return any;
}

/* Copies rows [from, to) of b (minus all-zero Summing rows when drop_zero) into a. */
static struct block *copy_rows(const struct collapser *c, struct arena *a, const struct block *b, uint32_t from,
                               uint32_t to, bool drop_zero)
{
  uint32_t *idx = arena_alloc(a, (size_t)(to - from + 1) * sizeof *idx);
  uint32_t n = 0;
  for (uint32_t r = from; r < to; r++)
    if (!drop_zero || !row_all_zero(c, b, r))
      idx[n++] = r;
  if (!n)
    return NULL;
  struct block *o = block_create(a, b->column_count);
  o->rows = n;
  for (uint32_t i = 0; i < b->column_count; i++) {
    o->columns[i] = column_take(a, b->columns[i], idx, n);
    o->names[i] = b->names[i];
  }
  return o;
}

struct block *collapser_push(struct collapser *c, const struct block *in, struct arena *a)
{
  arena_reset(&c->scratch);
  struct arena *s = &c->scratch;
  const struct block *x = c->pending ? block_concat(s, c->pending, in) : in;
  if (!x || !x->rows)
    return NULL;
  uint32_t *start = arena_alloc(s, (size_t)(x->rows + 1) * sizeof *start);
  uint32_t ng = 0;
  start[ng++] = 0;
  for (uint32_t r = 1; r < x->rows; r++)
    if (!same_key(c, x, r - 1, r))
      start[ng++] = r;
  start[ng] = x->rows;
  struct block *g = block_create(s, x->column_count);
  g->rows = ng;
  uint32_t *pick = arena_alloc(s, (size_t)ng * sizeof *pick);
  if (c->kind == TABLE_REPLACING_MERGE_TREE) {
    for (uint32_t i = 0; i < ng; i++) {
      uint32_t best = start[i + 1] - 1;
      if (c->version >= 0) {
        const struct column *v = x->columns[c->version];
        best = start[i];
        for (uint32_t r = start[i] + 1; r < start[i + 1]; r++)
          if (column_compare_rows(v, r, v, best, false) >= 0)
            best = r;
      }
      pick[i] = best;
    }
  } else {
    for (uint32_t i = 0; i < ng; i++)
      pick[i] = start[i];
  }
  for (uint32_t i = 0; i < x->column_count; i++) {
    g->names[i] = x->names[i];
    if (c->kind == TABLE_SUMMING_MERGE_TREE && c->summed[i])
      g->columns[i] = sum_groups(s, x->columns[i], start, ng);
    else
      g->columns[i] = column_take(s, x->columns[i], pick, ng);
  }
  /* the last group may continue in the next block */
  int next = 1 - c->cur;
  arena_reset(&c->ar[next]);
  c->pending = block_create(&c->ar[next], g->column_count);
  c->pending->rows = 1;
  for (uint32_t i = 0; i < g->column_count; i++) {
    c->pending->names[i] = g->names[i];
    c->pending->columns[i] = column_slice(&c->ar[next], g->columns[i], ng - 1, 1);
  }
  arena_reset(&c->ar[c->cur]);
  c->cur = next;
  return copy_rows(c, a, g, 0, ng - 1, c->kind == TABLE_SUMMING_MERGE_TREE);
}

struct block *collapser_finish(struct collapser *c, struct arena *a)
{
  if (!c->pending)
    return NULL;
  struct block *r = copy_rows(c, a, c->pending, 0, 1, c->kind == TABLE_SUMMING_MERGE_TREE);
  c->pending = NULL;
  return r;
}

/* ======================================================================
 * Running one merge
 * ==================================================================== */

struct merge_entry {
  struct merge_entry *next;
  char *database, *table, *partition_id, *result_name;
  char **sources;
  uint32_t nsources;
  int64_t start_ns;
  uint64_t total_rows, total_bytes, total_marks;
  _Atomic uint64_t rows_read, rows_written, bytes_read, bytes_written;
  bool optimize;
};

static struct merge_entry *entry_add(struct engine_table *t, struct engine_part **parts, uint32_t n, const char *name,
                                     bool optimize)
{
  struct merge_entry *me = mem_calloc(1, sizeof *me);
  pthread_mutex_lock(&t->lock);
  me->database = mem_strdup(t->database);
  me->table = mem_strdup(t->name);
  pthread_mutex_unlock(&t->lock);
  me->partition_id = mem_strdup(parts[0]->partition_id);
  me->result_name = mem_strdup(name);
  me->sources = mem_calloc(n, sizeof *me->sources);
  for (uint32_t i = 0; i < n; i++) {
    me->sources[i] = mem_strdup(parts[i]->name);
    me->total_rows += parts[i]->rows;
    me->total_bytes += parts[i]->compressed_bytes;
    me->total_marks += parts[i]->granules;
  }
  me->nsources = n;
  me->start_ns = clock_monotonic_ns();
  me->optimize = optimize;
  struct engine *e = t->e;
  pthread_mutex_lock(&e->lock);
  me->next = e->merges;
  e->merges = me;
  pthread_mutex_unlock(&e->lock);
  return me;
}

static void entry_remove(struct engine *e, struct merge_entry *me)
{
  pthread_mutex_lock(&e->lock);
  for (struct merge_entry **pp = &e->merges; *pp; pp = &(*pp)->next)
    if (*pp == me) {
      *pp = me->next;
      break;
    }
  pthread_mutex_unlock(&e->lock);
  for (uint32_t i = 0; i < me->nsources; i++)
    mem_free(me->sources[i]);
  mem_free(me->sources);
  mem_free(me->database);
  mem_free(me->table);
  mem_free(me->partition_id);
  mem_free(me->result_name);
  mem_free(me);
}

static int write_out(const struct def *d, struct part_writer *pw, struct merge_entry *me, const struct block *b,
                     struct arena *a, struct error *err)
{
  if (!b || !b->rows)
    return 0;
  struct block *wb = block_create(a, d->nstore + d->td.index_count);
  wb->rows = b->rows;
  for (uint32_t c = 0; c < d->nstore; c++) {
    wb->columns[c] = b->columns[c];
    wb->names[c] = b->names[c];
  }
  for (uint32_t i = 0; i < d->td.index_count; i++)
    wb->names[d->nstore + i] = d->td.indexes[i].name;
  int rc = index_inputs(d, wb, a, err);
  if (rc == 0)
    rc = part_writer_write_block(pw, wb, err);
  if (rc == 0) {
    atomic_fetch_add(&me->rows_written, b->rows);
    uint64_t bytes = 0;
    for (uint32_t c = 0; c < d->nstore; c++)
      bytes += column_byte_size(b->columns[c]);
    atomic_fetch_add(&me->bytes_written, bytes);
  }
  return rc;
}

/* Merges parts[0..n) (adjacent, one partition, marked merging by the
 * caller) into one part and publishes it. ABORTED: cancelled, or a source
 * left the active set meanwhile (the result is discarded). */
static int run_merge(struct engine_table *t, struct def *d, struct engine_part **parts, uint32_t n, bool optimize,
                     struct error *err)
{
  struct engine *e = t->e;
  const struct table_def *td = &d->td;
  struct arena a, blk;
  arena_init(&a, 0);
  arena_init(&blk, 1 << 20);
  uint32_t level = 0;
  for (uint32_t i = 0; i < n; i++)
    if (parts[i]->level > level)
      level = parts[i]->level;
  level++;
  const char *pid = parts[0]->partition_id;
  uint64_t minb = parts[0]->min_block, maxb = parts[n - 1]->max_block;
  char *name = arena_printf(&a, "%s_%" PRIu64 "_%" PRIu64 "_%" PRIu32, pid, minb, maxb, level);
  struct merge_entry *me = entry_add(t, parts, n, name, optimize);
  struct merge_input *in = arena_new_array(&a, struct merge_input, n);
  for (uint32_t i = 0; i < n; i++) {
    struct granule_range *r = arena_new(&a, struct granule_range);
    *r = (struct granule_range){ 0, parts[i]->granules };
    in[i] = (struct merge_input){ parts[i], r, 1 };
  }
  struct part_read_column *cols = arena_new_array(&a, struct part_read_column, d->nstore);
  for (uint32_t c = 0; c < d->nstore; c++)
    cols[c] = (struct part_read_column){ d->pcols[c].name, d->pcols[c].type };
  struct merger *m = NULL;
  struct part_writer *pw = NULL;
  struct collapser co;
  bool collapsing = td->kind != TABLE_MERGE_TREE;
  if (collapsing)
    collapser_init(&co, td->kind, d->nstore, d->sort_col, td->sort_key_count, td->version_column, d->summed);
  struct engine_part *np = NULL;
  char *path = arena_printf(&a, "%s/%s", t->dir, name);
  bool published_file = false;
  int rc = merger_open(d, in, n, cols, d->nstore, d->sort_col, td->sort_key_count, ENGINE_BLOCK_ROWS, &e->stopping,
                       &t->dropped, &m, err);
  if (rc)
    goto out;
  struct part_writer_options wo = writer_options(e, d, pid, parts[0]->partition_text);
  if ((rc = part_writer_open(t->dir, name, &d->schema, &wo, &pw, err)) != 0)
    goto out;
  for (;;) {
    arena_reset(&blk);
    struct block *b;
    if ((rc = merger_next(m, &blk, &b, err)) != 0)
      goto out;
    uint64_t rr, rb;
    merger_progress(m, &rr, &rb);
    atomic_store(&me->rows_read, rr);
    atomic_store(&me->bytes_read, rb);
    if (!b) {
      if (collapsing && (rc = write_out(d, pw, me, collapser_finish(&co, &blk), &blk, err)) != 0)
        goto out;
      break;
    }
    if (collapsing)
      b = collapser_push(&co, b, &blk);
    if ((rc = write_out(d, pw, me, b, &blk, err)) != 0)
      goto out;
  }
  struct part_info info;
  rc = part_writer_finish(pw, &a, &info, err);
  pw = NULL;
  if (rc)
    goto out;
  published_file = true;
  const char **names = arena_new_array(&a, const char *, n);
  for (uint32_t i = 0; i < n; i++)
    names[i] = parts[i]->name;
  struct catalog_part cp;
  catalog_part_fill(d, name, pid, parts[0]->partition_text, minb, maxb, level, &info, &cp);
  if (info.rows) {
    np = part_load(e, t->id, t->dir, &cp, err);
    if (np->broken_code) {
      rc = error_prefix(err, "reading back merged part %s: ", name);
      goto out;
    }
  }
  pthread_mutex_lock(&t->commit_lock);
  /* Summing rows that all added up to zero leave nothing: just retire the sources */
  rc = np ? catalog_parts_replace(e->cat, t->id, &cp, 1, names, n, err)
          : catalog_parts_remove(e->cat, t->id, names, n, err);
  if (rc == 0) {
    pthread_mutex_lock(&t->lock);
    for (uint32_t i = 0; i < n; i++)
      table_remove_part_locked(t, parts[i]);
    if (np)
      table_add_part_locked(t, np);
    published_file = np == NULL;   /* an empty result's file goes */
    np = NULL;
    pthread_mutex_unlock(&t->lock);
  }
  pthread_mutex_unlock(&t->commit_lock);
  if (rc == 0)
    log_debug("merged %u parts into %s/%s (%" PRIu64 " rows)", n, t->dir, name, info.rows);

out:
  if (pw)
    part_writer_abort(pw);
  if (np)
    part_unref(np);
  if (published_file)
    unlink(path);
  if (collapsing)
    collapser_fini(&co);
  merger_close(m);
  entry_remove(e, me);
  arena_destroy(&blk);
  arena_destroy(&a);
  return rc;
}

static void release_parts(struct engine_table *t, struct engine_part **parts, uint32_t n)
{
  pthread_mutex_lock(&t->lock);
  for (uint32_t i = 0; i < n; i++)
    parts[i]->merging = false;
  pthread_cond_broadcast(&t->merged);
  pthread_mutex_unlock(&t->lock);
  for (uint32_t i = 0; i < n; i++)
    part_unref(parts[i]);
}

/* ======================================================================
 * Selection (size-tiered, a simplified ClickHouse SimpleMergeSelector)
 * ==================================================================== */

static bool mergeable(const struct engine_part *p) { return !p->merging && p->reader && !p->broken_code; }

static uint64_t read_memory(const struct engine_part *p)
{
  /* one chunk of up to a block's rows per source */
  uint64_t per_row = p->rows ? p->uncompressed_bytes / p->rows + 1 : 1;
  return per_row * ENGINE_BLOCK_ROWS;
}

/* Chooses up to max parts of t to merge; caller holds t->lock. Returns the
 * count chosen (>= 2), with the parts marked merging and referenced. */
static uint32_t select_merge_locked(struct engine *e, struct engine_table *t, const struct def *d,
                                    struct engine_part **out)
{
  uint32_t max_parts = d->max_merge_parts ? d->max_merge_parts : e->opt.max_parts_to_merge_at_once;
  uint64_t max_bytes = d->max_merge_bytes ? d->max_merge_bytes : e->opt.max_bytes_to_merge;
  double best = INFINITY;
  uint32_t best_s = 0, best_n = 0;
  for (uint32_t i = 0; i < t->nparts;) {
    uint32_t j = i;
    while (j < t->nparts && strcmp(t->parts[j]->partition_id, t->parts[i]->partition_id) == 0)
      j++;
    uint32_t pc = j - i;
    double base = pc <= 5 ? 5.0 : pc >= 50 ? 1.0 : 5.0 - 4.0 * (pc - 5) / 45.0;
    for (uint32_t s = i; s + 1 < j; s++) {
      if (!mergeable(t->parts[s]))
        continue;
      uint64_t sum = 0, mx = 0, mem = 0;
      for (uint32_t k = s; k < j && k - s < max_parts; k++) {
        const struct engine_part *p = t->parts[k];
        if (!mergeable(p))
          break;
        sum += p->bytes_on_disk;
        mem += read_memory(p);
        if (p->bytes_on_disk > mx)
          mx = p->bytes_on_disk;
        uint32_t c = k - s + 1;
        if (c >= 2 && (sum > max_bytes || mem > e->opt.merge_memory_bytes))
          break;
        if (c < 2)
          continue;
        if ((double)sum < (double)mx * base && mx > ENGINE_SMALL_PART_BYTES)
          continue;
        double score = (double)sum / (c - 1.9);
        if (score < best) {
          best = score;
          best_s = s;
          best_n = c;
        }
      }
    }
    i = j;
  }
  for (uint32_t k = 0; k < best_n; k++) {
    struct engine_part *p = t->parts[best_s + k];
    p->merging = true;
    part_ref(p);
    out[k] = p;
  }
  return best_n;
}

/* ======================================================================
 * Merge threads
 * ==================================================================== */

static void *merge_main(void *arg)
{
  struct engine *e = arg;
  log_set_thread_name("merge");
  uint32_t cap = e->opt.max_parts_to_merge_at_once > 2 ? e->opt.max_parts_to_merge_at_once : 2;
  struct engine_part **parts = NULL;
  uint32_t parts_cap = 0;
  bool merged = false;               /* merged since it last gave memory back */
  pthread_mutex_lock(&e->lock);
  while (!atomic_load(&e->stopping)) {
    struct engine_table *t = NULL;
    struct def *d = NULL;
    uint32_t n = 0;
    for (uint32_t k = 0; k < e->ntables && !n; k++) {
      uint32_t idx = (e->rr + k) % e->ntables;
      struct engine_table *c = e->tables[idx];
      pthread_mutex_lock(&c->lock);
      if (c->def && !atomic_load(&c->dropped) && c->nparts >= 2) {
        uint32_t need = c->def->max_merge_parts ? c->def->max_merge_parts : cap;
        if (need > parts_cap) {
          parts_cap = need > c->nparts ? need : c->nparts;
          parts = mem_realloc(parts, parts_cap * sizeof *parts);
        }
        n = select_merge_locked(e, c, c->def, parts);
        if (n) {
          t = c;
          d = c->def;
          def_ref(d);
          engine_table_ref(t);
          e->rr = idx + 1;
        }
      }
      pthread_mutex_unlock(&c->lock);
    }
    if (!n) {
      struct timespec ts = clock_realtime_deadline(1000000000);
      if (pthread_cond_timedwait(&e->work, &e->lock, &ts) == ETIMEDOUT && merged) {
        /* a second without work after merging: return the merges' memory
         * (see mem_thread_idle; a busy merger keeps it) */
        merged = false;
        pthread_mutex_unlock(&e->lock);
        mem_thread_idle();
        pthread_mutex_lock(&e->lock);
      }
      continue;
    }
    merged = true;
    pthread_mutex_unlock(&e->lock);
    struct error err;
    error_clear(&err);
    int rc = run_merge(t, d, parts, n, false, &err);
    if (rc && rc != ERR_ABORTED)
      log_error("merge of %u parts in %s failed: %s", n, t->dir, err.message);
    else if (rc)
      log_debug("merge in %s abandoned: %s", t->dir, err.message);
    release_parts(t, parts, n);
    def_unref(d);
    engine_table_unref(t);
    pthread_mutex_lock(&e->lock);
    if (rc && rc != ERR_ABORTED) {
      /* do not spin on a merge that keeps failing */
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += 1;
      pthread_cond_timedwait(&e->work, &e->lock, &ts);
    }
  }
  pthread_mutex_unlock(&e->lock);
  mem_free(parts);
  return NULL;
}

void merge_threads_start(struct engine *e)
{
  e->merge_threads = mem_calloc(e->opt.merge_threads, sizeof *e->merge_threads);
  for (uint32_t i = 0; i < e->opt.merge_threads; i++) {
    if (pthread_create(&e->merge_threads[i], NULL, merge_main, e) != 0) {
      log_error("cannot start merge thread %u", i);
      break;
    }
    e->nmerge_threads++;
  }
}

void merge_threads_stop(struct engine *e)
{
  for (uint32_t i = 0; i < e->nmerge_threads; i++)
    pthread_join(e->merge_threads[i], NULL);
  e->nmerge_threads = 0;
  mem_free(e->merge_threads);
  e->merge_threads = NULL;
}

/* ======================================================================
 * OPTIMIZE
 * ==================================================================== */

static int optimize_partition(struct engine_table *t, struct def *d, const char *pid, bool final, struct error *err)
{
  struct engine *e = t->e;
  uint32_t max_parts = d->max_merge_parts ? d->max_merge_parts : e->opt.max_parts_to_merge_at_once;
  if (max_parts < 2)
    max_parts = 2;
  bool merged = false;
  for (;;) {
    if (atomic_load(&e->stopping) || atomic_load(&t->dropped))
      return error_set(err, ERR_ABORTED, "OPTIMIZE cancelled: the table is dropped or the server stops");
    pthread_mutex_lock(&t->lock);
    uint32_t first = t->nparts, n = 0;
    bool busy = false;
    for (uint32_t i = 0; i < t->nparts; i++) {
      struct engine_part *p = t->parts[i];
      if (strcmp(p->partition_id, pid) != 0)
        continue;
      if (first == t->nparts)
        first = i;
      n++;
      if (p->broken_code) {
        int rc = error_set(err, p->broken_code, "Cannot OPTIMIZE: part %s is broken: %s", p->name, p->broken_message);
        pthread_mutex_unlock(&t->lock);
        return rc;
      }
      busy |= p->merging;
    }
    if (busy) {
      struct timespec ts = clock_realtime_deadline(100 * 1000 * 1000);
      pthread_cond_timedwait(&t->merged, &t->lock, &ts);
      pthread_mutex_unlock(&t->lock);
      continue;
    }
    if (n == 0 || (n == 1 && (!final || merged))) {
      pthread_mutex_unlock(&t->lock);
      return 0;
    }
    /* the first batch of adjacent parts within the read-memory budget */
    uint32_t k = 0;
    uint64_t mem = 0;
    struct engine_part **batch = mem_calloc(n < max_parts ? n : max_parts, sizeof *batch);
    while (k < n && k < max_parts) {
      struct engine_part *p = t->parts[first + k];
      mem += read_memory(p);
      if (k >= 2 && mem > e->opt.merge_memory_bytes)
        break;
      p->merging = true;
      part_ref(p);
      batch[k++] = p;
    }
    pthread_mutex_unlock(&t->lock);
    int rc = run_merge(t, d, batch, k, true, err);
    release_parts(t, batch, k);
    mem_free(batch);
    if (rc == ERR_ABORTED && !atomic_load(&e->stopping) && !atomic_load(&t->dropped)) {
      error_clear(err);   /* a source was dropped meanwhile: look again */
      continue;
    }
    if (rc)
      return rc;
    merged = true;
  }
}

int engine_optimize(struct engine_table *t, const char *partition_id, bool final, struct error *err)
{
  /* acknowledged rows still in the memtable are part of what is optimized */
  if (engine_table_flush(t, err) != 0)
    return err->code;
  struct def *d = table_def_get(t);
  if (!d) {
    char label[512];
    table_label(t, label, sizeof label);
    return error_set(err, ERR_LOGICAL_ERROR, "Table %s is not attached to a definition", label);
  }
  struct arena a;
  arena_init(&a, 0);
  const char **ids = NULL;
  uint32_t nids = 0;
  pthread_mutex_lock(&t->lock);
  ids = arena_new_array(&a, const char *, t->nparts + 1);
  for (uint32_t i = 0; i < t->nparts; i++) {
    const char *pid = t->parts[i]->partition_id;
    if (partition_id && strcmp(pid, partition_id) != 0)
      continue;
    if (nids && strcmp(ids[nids - 1], pid) == 0)
      continue;
    ids[nids++] = arena_strdup(&a, pid);
  }
  pthread_mutex_unlock(&t->lock);
  int rc = 0;
  for (uint32_t i = 0; i < nids && rc == 0; i++)
    rc = optimize_partition(t, d, ids[i], final, err);
  arena_destroy(&a);
  def_unref(d);
  return rc;
}

/* ======================================================================
 * system.merges
 * ==================================================================== */

int engine_merges(struct engine *e, struct arena *a, struct engine_merge_info **out, size_t *count)
{
  pthread_mutex_lock(&e->lock);
  size_t n = 0;
  for (struct merge_entry *m = e->merges; m; m = m->next)
    n++;
  struct engine_merge_info *r = arena_new_array(a, struct engine_merge_info, n + 1);
  size_t i = 0;
  int64_t now = clock_monotonic_ns();
  for (struct merge_entry *m = e->merges; m; m = m->next, i++) {
    struct engine_merge_info *o = &r[i];
    o->database = arena_strdup(a, m->database);
    o->table = arena_strdup(a, m->table);
    o->partition_id = arena_strdup(a, m->partition_id);
    o->result_part_name = arena_strdup(a, m->result_name);
    o->num_parts = m->nsources;
    const char **src = arena_new_array(a, const char *, m->nsources + 1);
    for (uint32_t k = 0; k < m->nsources; k++)
      src[k] = arena_strdup(a, m->sources[k]);
    o->source_part_names = src;
    o->elapsed_s = (double)(now - m->start_ns) / 1e9;
    o->rows_read = atomic_load(&m->rows_read);
    o->rows_written = atomic_load(&m->rows_written);
    o->bytes_read_uncompressed = atomic_load(&m->bytes_read);
    o->bytes_written_uncompressed = atomic_load(&m->bytes_written);
    o->progress = m->total_rows ? (double)o->rows_read / (double)m->total_rows : 0;
    if (o->progress > 1)
      o->progress = 1;
    o->total_size_bytes_compressed = m->total_bytes;
    o->total_size_marks = m->total_marks;
    o->merge_type = m->optimize ? "Optimize" : "Regular";
  }
  pthread_mutex_unlock(&e->lock);
  *out = r;
  *count = n;
  return 0;
}
