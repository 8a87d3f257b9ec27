/* Snapshots and scans. A snapshot pins the active parts of a moment (and
 * the definition they are read with). A scan chooses, before reading any
 * column: parts (partition ids, part-level min/max), granules (primary-key
 * ranges on the sparse index, then skip indexes), and cuts the result into
 * tasks — a granule range of one part, or for FINAL a whole partition merged
 * on read — that its streams take in order from a shared cursor. With a
 * row filter (PREWHERE) the filter columns are read first and the other
 * columns only for granules that keep rows. */
#include "engine/engine_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"

/* ======================================================================
 * Snapshots
 * ==================================================================== */

int engine_snapshot(struct engine_table *t, struct engine_snapshot **out, struct error *err)
{
  *out = NULL;
  int rc = 0;
  pthread_mutex_lock(&t->lock);
  if (atomic_load(&t->dropped)) {
    rc = error_set(err, ERR_UNKNOWN_TABLE, "Table %s.%s does not exist.", t->database, t->name);
    goto out;
  }
  if (!t->def) {
    rc = error_set(err, ERR_LOGICAL_ERROR, "Table %s.%s is not attached to a definition", t->database, t->name);
    goto out;
  }
  for (uint32_t i = 0; i < t->nparts; i++) {
    const struct engine_part *p = t->parts[i];
    if (p->broken_code) {
      rc = error_set(err, p->broken_code, "Part %s of table %s.%s is broken: %s", p->name, t->database, t->name,
                     p->broken_message);
      goto out;
    }
  }
  struct engine_snapshot *s = mem_calloc(1, sizeof *s);
  atomic_init(&s->refs, 1);
  s->t = t;
  engine_table_ref(t);
  s->d = t->def;
  def_ref(s->d);
  s->parts = mem_calloc(t->nparts + 1, sizeof *s->parts);
  for (uint32_t i = 0; i < t->nparts; i++) {
    s->parts[i] = t->parts[i];
    part_ref(s->parts[i]);
  }
  s->nparts = t->nparts;
  s->chunks = mem_calloc(t->mem.n + 1, sizeof *s->chunks);
  for (uint32_t i = 0; i < t->mem.n; i++)
    if (t->mem.chunks[i]->durable) {
      s->chunks[s->nchunks] = t->mem.chunks[i];
      mem_chunk_ref(s->chunks[s->nchunks++]);
    }
  *out = s;
out:
  pthread_mutex_unlock(&t->lock);
  return rc;
}

static void snapshot_ref(struct engine_snapshot *s) { atomic_fetch_add(&s->refs, 1); }

void engine_snapshot_release(struct engine_snapshot *s)
{
  if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
    return;
  for (uint32_t i = 0; i < s->nparts; i++)
    part_unref(s->parts[i]);
  mem_free(s->parts);
  for (uint32_t i = 0; i < s->nchunks; i++)
    mem_chunk_unref(s->chunks[i]);
  mem_free(s->chunks);
  def_unref(s->d);
  engine_table_unref(s->t);
  mem_free(s);
}

const struct table_def *engine_snapshot_def(const struct engine_snapshot *s) { return &s->d->td; }
uint32_t engine_snapshot_part_count(const struct engine_snapshot *s) { return s->nparts; }

uint64_t engine_snapshot_rows(const struct engine_snapshot *s)
{
  uint64_t n = 0;
  for (uint32_t i = 0; i < s->nparts; i++)
    n += s->parts[i]->rows;
  for (uint32_t i = 0; i < s->nchunks; i++)
    n += s->chunks[i]->rows->rows;
  return n;
}

/* ======================================================================
 * Scan state
 * ==================================================================== */

enum out_kind { OUT_COLUMN, OUT_PART, OUT_PARTITION_ID };

struct out_col {
  enum out_kind kind;
  const char *name;
  bool from_pre;                     /* non-FINAL: in the prewhere read, else in the rest */
  uint32_t pos;                      /* position in that read */
  uint32_t fpos;                     /* FINAL: position in fcols */
};

struct task {
  struct engine_part *part;          /* plain task */
  struct granule_range range;
  struct mem_chunk *chunk;           /* memtable task: rows [row_begin, row_end) */
  uint32_t row_begin, row_end;
  uint32_t first_input, ninputs;     /* FINAL task: scan->inputs[first..first+n) */
  bool final;
};

struct stream {
  struct arena arena;                /* the block last returned */
  struct arena mblk;                 /* FINAL: merger output */
  struct merger *m;
  struct collapser co;
  bool co_init;
  uint32_t m_task;                   /* the FINAL task m works on */
  uint64_t m_rows;                   /* merger rows already accounted */
  uint64_t m_bytes;
};

struct engine_scan {
  struct engine_snapshot *snap;
  const struct def *d;
  struct arena arena;
  uint32_t nout;
  struct out_col *out;
  struct part_read_column *pre, *rest;
  uint32_t npre, nrest;
  engine_row_filter_fn row_filter;
  void *row_ctx;
  bool final;
  struct part_read_column *fcols;    /* FINAL: what the merge reads */
  uint32_t nfcols;
  uint32_t *fkey;
  int32_t fversion;
  bool *fsummed;
  uint32_t *fpre;                    /* prewhere positions in fcols */
  struct merge_input *inputs;
  struct task *tasks;
  uint32_t ntasks;
  _Atomic uint32_t next_task;
  struct stream *streams;
  uint32_t nstreams;
  uint32_t block_rows;
  _Atomic uint64_t *read_rows, *read_bytes;
  struct engine_scan_stats stats;
};

static int find_column(const struct def *d, const char *name)
{
  for (uint32_t i = 0; i < d->ncols; i++)
    if (strcmp(d->td.columns[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int no_column(struct engine_scan *sc, const char *name, struct error *err)
{
  struct engine_table *t = sc->snap->t;
  char label[512];
  table_label(t, label, sizeof label);
  return error_set(err, ERR_NO_SUCH_COLUMN_IN_TABLE, "There is no column %s in table %s", name, label);
}

/* Adds (name, type) to a read list unless present; returns its position. */
static uint32_t read_list_add(struct part_read_column *list, uint32_t *n, const char *name, const struct datatype *t)
{
  for (uint32_t i = 0; i < *n; i++)
    if (strcmp(list[i].name, name) == 0)
      return i;
  list[*n] = (struct part_read_column){ name, t };
  return (*n)++;
}

/* ======================================================================
 * Pruning
 * ==================================================================== */

static bool ranges_overlap_minmax(const struct column *mm, const struct engine_range *r, uint32_t n)
{
  if (mm->rows < 2)
    return false;  /* only NULLs: no range holds */
  for (uint32_t i = 0; i < n; i++)
    if (minmax_range_overlaps(mm, r[i].lo, 0, r[i].lo_inclusive, r[i].hi, 0, r[i].hi_inclusive))
      return true;
  return false;
}

/* Whether the sort element column with storage index c is an identity
 * element (so equal sorting keys mean equal values: safe to prune by it
 * under FINAL). */
static bool identity_key_column(const struct def *d, int c)
{
  if (c < 0)
    return false;
  for (uint32_t k = 0; k < d->td.sort_key_count; k++)
    if (d->td.sort_key[k].column == c)
      return true;
  return false;
}

static void pk_prune(const struct part_reader *r, const struct engine_filter *f, uint8_t *sel, uint32_t G)
{
  uint32_t nk = part_reader_schema(r)->key_count;
  if (!nk || !f->key_count)
    return;
  const struct column *ix[64];
  if (nk > 64)
    nk = 64;
  for (uint32_t k = 0; k < nk; k++)
    ix[k] = part_reader_primary_index(r, k);
  for (uint32_t g = 0; g < G; g++) {
    if (!sel[g])
      continue;
    bool last = g + 1 >= G;
    uint32_t eq = 0;
    if (!last)
      while (eq < nk && column_compare_rows(ix[eq], g, ix[eq], g + 1, false) == 0)
        eq++;
    for (uint32_t c = 0; c < f->key_count && sel[g]; c++) {
      const struct engine_key_cond *kc = &f->keys[c];
      uint32_t k = kc->element;
      if (k >= nk || k > eq)
        continue;   /* the element is not bounded within this granule */
      bool any = false;
      for (uint32_t i = 0; i < kc->range_count && !any; i++) {
        const struct engine_range *rg = &kc->ranges[i];
        bool ok = true;
        if (rg->hi) {
          int x = column_compare_rows(ix[k], g, rg->hi, 0, false);
          ok = x < 0 || (x == 0 && rg->hi_inclusive);
        }
        if (ok && rg->lo && !last) {
          int x = column_compare_rows(ix[k], g + 1, rg->lo, 0, false);
          ok = x > 0 || (x == 0 && rg->lo_inclusive);
        }
        any = ok;
      }
      if (!any)
        sel[g] = 0;
    }
  }
}

static bool entry_may(const struct skip_index *ix, uint32_t e, const struct engine_index_cond *c)
{
  if (c->op == ENGINE_INDEX_RANGE) {
    const struct column *mm;
    if (!skip_index_minmax(ix, e, &mm))
      return false;
    return minmax_range_overlaps(mm, c->range.lo, 0, c->range.lo_inclusive, c->range.hi, 0, c->range.hi_inclusive);
  }
  if (!c->values)
    return true;
  for (uint32_t v = 0; v < c->values->rows; v++) {
    struct slice s;
    if (!skip_index_value_bytes(c->values, v, &s))
      continue;
    bool may = c->op == ENGINE_INDEX_EQUALS      ? skip_index_may_contain_equal(ix, e, s.ptr, s.len)
               : c->op == ENGINE_INDEX_HAS_TOKEN ? skip_index_may_contain_token(ix, e, s.ptr, s.len)
                                                 : skip_index_may_contain_substring(ix, e, s.ptr, s.len);
    if (may)
      return true;
  }
  return false;
}

static bool op_applies(enum engine_index_op op, enum skip_index_type t)
{
  switch (op) {
  case ENGINE_INDEX_EQUALS:
    return true;
  case ENGINE_INDEX_HAS_TOKEN:
  case ENGINE_INDEX_SUBSTRING:
    return t == SKIP_INDEX_TOKENBF || t == SKIP_INDEX_NGRAMBF;
  case ENGINE_INDEX_RANGE:
    return t == SKIP_INDEX_MINMAX;
  }
  return false;
}

static int index_prune(struct engine_part *p, const struct engine_filter *f, uint8_t *sel, uint32_t G,
                       struct error *err)
{
  const struct part_schema *schema = part_reader_schema(p->reader);
  for (uint32_t c = 0; c < f->index_count; c++) {
    const struct engine_index_cond *ic = &f->indexes[c];
    uint32_t i = 0;
    while (i < schema->index_count && strcmp(schema->indexes[i].name, ic->index) != 0)
      i++;
    if (i == schema->index_count || !op_applies(ic->op, schema->indexes[i].type))
      continue;
    const struct skip_index *ix;
    pthread_mutex_lock(&p->index_lock);
    int rc = part_reader_skip_index(p->reader, i, &ix, err);
    pthread_mutex_unlock(&p->index_lock);
    if (rc)
      return rc;
    uint32_t gran = skip_index_def(ix)->granularity ? skip_index_def(ix)->granularity : 1;
    uint32_t entries = skip_index_entry_count(ix);
    for (uint32_t e = 0; e < entries; e++) {
      uint32_t g0 = e * gran, g1 = g0 + gran < G ? g0 + gran : G;
      bool any = false;
      for (uint32_t g = g0; g < g1 && !any; g++)
        any = sel[g];
      if (any && !entry_may(ix, e, ic))
        memset(sel + g0, 0, g1 - g0);
    }
  }
  return 0;
}

/* Marks the granules of p to read; returns how many. */
static int select_granules(struct engine_scan *sc, struct engine_part *p, const struct engine_filter *f, bool final,
                           uint8_t *sel, uint32_t *count, struct error *err)
{
  uint32_t G = p->granules;
  *count = 0;
  memset(sel, 1, G);
  if (!f) {
    *count = G;
    return 0;
  }
  if (f->partition_id_count) {
    bool in = false;
    for (uint32_t i = 0; i < f->partition_id_count && !in; i++)
      in = strcmp(f->partition_ids[i], p->partition_id) == 0;
    if (!in)
      return 0;
  }
  for (uint32_t c = 0; c < f->column_count; c++) {
    const struct engine_column_cond *cc = &f->columns[c];
    if (final && !identity_key_column(sc->d, find_column(sc->d, cc->column)))
      continue;
    const struct column *mm = part_reader_minmax(p->reader, cc->column);
    if (mm && !ranges_overlap_minmax(mm, cc->ranges, cc->range_count))
      return 0;
  }
  pk_prune(p->reader, f, sel, G);
  if (!final) {
    int rc = index_prune(p, f, sel, G, err);
    if (rc)
      return rc;
  }
  uint32_t n = 0;
  for (uint32_t g = 0; g < G; g++)
    n += sel[g];
  *count = n;
  return 0;
}

/* ======================================================================
 * Opening
 * ==================================================================== */

static void add_plain_tasks(struct engine_scan *sc, struct engine_part *p, const uint8_t *sel, struct task **tasks,
                            uint32_t *cap)
{
  uint32_t G = p->granules;
  for (uint32_t g = 0; g < G;) {
    if (!sel[g]) {
      g++;
      continue;
    }
    uint32_t e = g, rows = 0;
    while (e < G && sel[e] && (e == g || rows + part_reader_granule_rows(p->reader, e) <= sc->block_rows))
      rows += part_reader_granule_rows(p->reader, e++);
    if (sc->ntasks == *cap) {
      uint32_t nc = *cap ? *cap * 2 : 64;
      *tasks = arena_realloc(&sc->arena, *tasks, *cap * sizeof **tasks, nc * sizeof **tasks);
      *cap = nc;
    }
    (*tasks)[sc->ntasks++] = (struct task){ .part = p, .range = { g, e } };
    g = e;
  }
}

/* Granule runs of sel as ranges (in the scan arena). */
/* Memtable rows are not indexed: every row is read (and filtered above). */
static void add_chunk_tasks(struct engine_scan *sc, struct task **tasks, uint32_t *cap)
{
  const struct engine_snapshot *s = sc->snap;
  for (uint32_t i = 0; i < s->nchunks; i++) {
    struct mem_chunk *c = s->chunks[i];
    uint32_t rows = c->rows->rows;
    sc->stats.rows_selected += rows;
    for (uint32_t r = 0; r < rows; r += sc->block_rows) {
      if (sc->ntasks == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 64;
        *tasks = arena_realloc(&sc->arena, *tasks, *cap * sizeof **tasks, nc * sizeof **tasks);
        *cap = nc;
      }
      uint32_t end = rows - r > sc->block_rows ? r + sc->block_rows : rows;
      (*tasks)[sc->ntasks++] = (struct task){ .chunk = c, .row_begin = r, .row_end = end };
    }
  }
}

static struct granule_range *runs_of(struct arena *a, const uint8_t *sel, uint32_t G, uint32_t *n)
{
  struct granule_range *r = arena_new_array(a, struct granule_range, G / 2 + 2);
  *n = 0;
  for (uint32_t g = 0; g < G;) {
    if (!sel[g]) {
      g++;
      continue;
    }
    uint32_t e = g;
    while (e < G && sel[e])
      e++;
    r[(*n)++] = (struct granule_range){ g, e };
    g = e;
  }
  return r;
}

static int resolve_columns(struct engine_scan *sc, const struct engine_scan_request *req, struct error *err)
{
  const struct def *d = sc->d;
  struct arena *a = &sc->arena;
  uint32_t maxread = req->column_count + req->prewhere_column_count + d->nstore + 2;
  sc->pre = arena_new_array(a, struct part_read_column, maxread);
  sc->rest = arena_new_array(a, struct part_read_column, maxread);
  sc->fcols = arena_new_array(a, struct part_read_column, maxread);
  sc->fpre = arena_new_array(a, uint32_t, req->prewhere_column_count + 1);
  sc->out = arena_new_array(a, struct out_col, req->column_count + 1);
  sc->nout = req->column_count;
  bool use_pre = req->row_filter != NULL;
  for (uint32_t i = 0; i < req->prewhere_column_count && use_pre; i++) {
    int c = find_column(d, req->prewhere_columns[i]);
    if (c < 0)
      return no_column(sc, req->prewhere_columns[i], err);
    sc->pre[sc->npre++] = (struct part_read_column){ d->td.columns[c].name, d->td.columns[c].type };
    sc->fpre[i] = read_list_add(sc->fcols, &sc->nfcols, d->td.columns[c].name, d->td.columns[c].type);
  }
  for (uint32_t i = 0; i < req->column_count; i++) {
    const char *name = req->columns[i];
    struct out_col *o = &sc->out[i];
    o->name = name;
    if (strcmp(name, "_part") == 0 || strcmp(name, "_partition_id") == 0) {
      o->kind = strcmp(name, "_part") == 0 ? OUT_PART : OUT_PARTITION_ID;
      if (o->kind == OUT_PART && sc->final)
        return error_set(err, ERR_NOT_IMPLEMENTED, "Virtual column _part is not supported with FINAL");
      continue;
    }
    int c = find_column(d, name);
    if (c < 0)
      return no_column(sc, name, err);
    o->kind = OUT_COLUMN;
    const char *cn = d->td.columns[c].name;
    const struct datatype *ct = d->td.columns[c].type;
    o->from_pre = false;
    for (uint32_t k = 0; k < sc->npre; k++)
      if (strcmp(sc->pre[k].name, cn) == 0) {
        o->from_pre = true;
        o->pos = k;
      }
    if (!o->from_pre)
      o->pos = read_list_add(sc->rest, &sc->nrest, cn, ct);
    if (sc->final)
      o->fpos = read_list_add(sc->fcols, &sc->nfcols, cn, ct);
  }
  if (sc->final) {
    sc->fkey = arena_new_array(a, uint32_t, d->td.sort_key_count + 1);
    for (uint32_t k = 0; k < d->td.sort_key_count; k++)
      sc->fkey[k] = read_list_add(sc->fcols, &sc->nfcols, d->pcols[d->sort_col[k]].name,
                                  d->pcols[d->sort_col[k]].type);
    sc->fversion = -1;
    if (d->td.version_column >= 0) {
      const struct table_column *v = &d->td.columns[d->td.version_column];
      sc->fversion = (int32_t)read_list_add(sc->fcols, &sc->nfcols, v->name, v->type);
    }
    for (uint32_t c = 0; c < d->ncols; c++)
      if (d->summed[c])
        read_list_add(sc->fcols, &sc->nfcols, d->td.columns[c].name, d->td.columns[c].type);
    sc->fsummed = arena_new_array(a, bool, sc->nfcols + 1);
    for (uint32_t i = 0; i < sc->nfcols; i++) {
      int c = find_column(d, sc->fcols[i].name);
      sc->fsummed[i] = c >= 0 && d->summed[c];
    }
  }
  return 0;
}

int engine_scan_open(struct engine_snapshot *s, const struct engine_scan_request *req, struct engine_scan **out,
                     struct error *err)
{
  *out = NULL;
  struct engine_scan *sc = mem_calloc(1, sizeof *sc);
  arena_init(&sc->arena, 0);
  snapshot_ref(s);
  sc->snap = s;
  sc->d = s->d;
  sc->final = req->final && s->d->td.kind != TABLE_MERGE_TREE;
  sc->row_filter = req->row_filter;
  sc->row_ctx = req->row_filter_ctx;
  sc->block_rows = req->max_block_rows ? req->max_block_rows : ENGINE_BLOCK_ROWS;
  sc->read_rows = req->read_rows;
  sc->read_bytes = req->read_bytes;
  sc->nstreams = req->streams ? req->streams : 1;
  sc->streams = mem_calloc(sc->nstreams, sizeof *sc->streams);
  for (uint32_t i = 0; i < sc->nstreams; i++) {
    arena_init(&sc->streams[i].arena, 256 * 1024);
    arena_init(&sc->streams[i].mblk, 256 * 1024);
  }
  atomic_init(&sc->next_task, 0);
  int rc = resolve_columns(sc, req, err);
  if (rc)
    goto fail;

  struct task *tasks = NULL;
  uint32_t cap = 0;
  uint32_t maxg = 1;
  for (uint32_t i = 0; i < s->nparts; i++)
    if (s->parts[i]->granules > maxg)
      maxg = s->parts[i]->granules;
  uint8_t *sel = mem_alloc(maxg);
  sc->stats.parts_total = s->nparts;
  sc->inputs = arena_new_array(&sc->arena, struct merge_input, s->nparts + 1);
  uint32_t ninputs = 0;
  for (uint32_t i = 0; i < s->nparts;) {
    /* one partition: parts [i, j) */
    uint32_t j = i;
    while (j < s->nparts && strcmp(s->parts[j]->partition_id, s->parts[i]->partition_id) == 0)
      j++;
    uint32_t first_input = ninputs;
    for (uint32_t k = i; k < j; k++) {
      struct engine_part *p = s->parts[k];
      uint32_t n;
      sc->stats.granules_total += p->granules;
      if ((rc = select_granules(sc, p, req->filter, sc->final, sel, &n, err)) != 0) {
        mem_free(sel);
        goto fail;
      }
      if (!n)
        continue;
      sc->stats.parts_selected++;
      sc->stats.granules_selected += n;
      for (uint32_t g = 0; g < p->granules; g++)
        if (sel[g])
          sc->stats.rows_selected += part_reader_granule_rows(p->reader, g);
      if (!sc->final) {
        add_plain_tasks(sc, p, sel, &tasks, &cap);
        continue;
      }
      struct merge_input *in = &sc->inputs[ninputs++];
      in->part = p;
      in->ranges = runs_of(&sc->arena, sel, p->granules, &in->range_count);
    }
    if (sc->final && ninputs - first_input == 1) {
      /* a single part is collapsed already: read it plainly */
      struct merge_input *in = &sc->inputs[first_input];
      memset(sel, 0, in->part->granules);
      for (uint32_t r = 0; r < in->range_count; r++)
        memset(sel + in->ranges[r].begin, 1, in->ranges[r].end - in->ranges[r].begin);
      add_plain_tasks(sc, in->part, sel, &tasks, &cap);
      ninputs = first_input;
    } else if (sc->final && ninputs > first_input) {
      if (sc->ntasks == cap) {
        uint32_t nc = cap ? cap * 2 : 64;
        tasks = arena_realloc(&sc->arena, tasks, cap * sizeof *tasks, nc * sizeof *tasks);
        cap = nc;
      }
      tasks[sc->ntasks++] = (struct task){ .final = true, .first_input = first_input,
                                           .ninputs = ninputs - first_input };
    }
    i = j;
  }
  mem_free(sel);
  add_chunk_tasks(sc, &tasks, &cap);
  sc->tasks = tasks;
  *out = sc;
  return 0;
fail:
  engine_scan_close(sc);
  return rc;
}

void engine_scan_get_stats(const struct engine_scan *scan, struct engine_scan_stats *out) { *out = scan->stats; }

void engine_scan_close(struct engine_scan *sc)
{
  if (!sc)
    return;
  for (uint32_t i = 0; i < sc->nstreams; i++) {
    struct stream *st = &sc->streams[i];
    merger_close(st->m);
    if (st->co_init)
      collapser_fini(&st->co);
    arena_destroy(&st->arena);
    arena_destroy(&st->mblk);
  }
  mem_free(sc->streams);
  arena_destroy(&sc->arena);
  engine_snapshot_release(sc->snap);
  mem_free(sc);
}

/* ======================================================================
 * Reading
 * ==================================================================== */

static uint64_t block_bytes(const struct block *b)
{
  uint64_t n = 0;
  for (uint32_t i = 0; i < b->column_count; i++)
    n += column_byte_size(b->columns[i]);
  return n;
}

static void account(struct engine_scan *sc, uint64_t rows, uint64_t bytes)
{
  if (sc->read_rows)
    atomic_fetch_add(sc->read_rows, rows);
  if (sc->read_bytes)
    atomic_fetch_add(sc->read_bytes, bytes);
}

static struct column *virtual_column(struct arena *a, enum out_kind kind, const struct engine_part *p, uint32_t rows)
{
  struct column *one = column_create(a, datatype_simple(TYPE_STRING), 1);
  const char *v = kind == OUT_PART ? p->name : p->partition_id;
  column_append_bytes(one, v, strlen(v));
  return column_const_from(a, one, 0, rows);
}

static int plain_task(struct engine_scan *sc, struct stream *st, const struct task *tk, struct block **out,
                      struct error *err)
{
  struct arena *a = &st->arena;
  struct part_reader *r = tk->part->reader;
  struct block *pre = NULL, *rest = NULL;
  uint8_t *keep = NULL;
  uint32_t rows = 0, kept;
  int rc;
  if (sc->row_filter) {
    if ((rc = part_read_derived(sc->d, r, sc->pre, sc->npre, &tk->range, 1, a, &pre, NULL, err)) != 0)
      return rc;
    rows = pre->rows;
    account(sc, rows, block_bytes(pre));
    keep = arena_alloc(a, rows ? rows : 1);
    memset(keep, 1, rows);
    if ((rc = sc->row_filter(sc->row_ctx, pre, keep, err)) != 0)
      return rc;
    kept = 0;
    for (uint32_t i = 0; i < rows; i++)
      kept += keep[i] != 0;
    if (!kept)
      return 0;
    /* the rest only for granules that keep rows */
    uint32_t ng = tk->range.end - tk->range.begin;
    struct granule_range *alive = arena_new_array(a, struct granule_range, ng + 1);
    uint8_t *keep2 = arena_alloc(a, rows ? rows : 1);
    uint32_t nalive = 0, off = 0, k2 = 0;
    for (uint32_t g = tk->range.begin; g < tk->range.end; g++) {
      uint32_t gr = part_reader_granule_rows(r, g);
      bool any = false;
      for (uint32_t i = off; i < off + gr && !any; i++)
        any = keep[i];
      if (any) {
        if (nalive && alive[nalive - 1].end == g)
          alive[nalive - 1].end = g + 1;
        else
          alive[nalive++] = (struct granule_range){ g, g + 1 };
        memcpy(keep2 + k2, keep + off, gr);
        k2 += gr;
      }
      off += gr;
    }
    if (sc->nrest) {
      if ((rc = part_read_derived(sc->d, r, sc->rest, sc->nrest, alive, nalive, a, &rest, NULL, err)) != 0)
        return rc;
      account(sc, 0, block_bytes(rest));
    }
    struct block *o = block_create(a, sc->nout);
    o->rows = kept;
    for (uint32_t i = 0; i < sc->nout; i++) {
      const struct out_col *oc = &sc->out[i];
      o->names[i] = oc->name;
      if (oc->kind != OUT_COLUMN)
        o->columns[i] = virtual_column(a, oc->kind, tk->part, kept);
      else if (oc->from_pre)
        o->columns[i] = kept == rows ? pre->columns[oc->pos] : column_filter(a, pre->columns[oc->pos], keep, kept);
      else
        o->columns[i] = kept == rest->rows ? rest->columns[oc->pos]
                                           : column_filter(a, rest->columns[oc->pos], keep2, kept);
    }
    *out = o;
    return 0;
  }
  if ((rc = part_read_derived(sc->d, r, sc->rest, sc->nrest, &tk->range, 1, a, &rest, NULL, err)) != 0)
    return rc;
  account(sc, rest->rows, block_bytes(rest));
  struct block *o = block_create(a, sc->nout);
  o->rows = rest->rows;
  for (uint32_t i = 0; i < sc->nout; i++) {
    const struct out_col *oc = &sc->out[i];
    o->names[i] = oc->name;
    o->columns[i] = oc->kind == OUT_COLUMN ? rest->columns[oc->pos] : virtual_column(a, oc->kind, tk->part, o->rows);
  }
  *out = o->rows ? o : NULL;
  return 0;
}

/* _partition_id of memtable rows: the partition key evaluated per row. */
static int chunk_partition_ids(const struct task *tk, struct arena *a, struct column **out, struct error *err)
{
  const struct mem_chunk *c = tk->chunk;
  const struct def *d = c->d;
  uint32_t n = tk->row_end - tk->row_begin;
  struct block *rows = block_create(a, d->ncols);
  rows->rows = n;
  for (uint32_t i = 0; i < d->ncols; i++) {
    rows->columns[i] = mem_chunk_column(c, d->td.columns[i].name, d->td.columns[i].type, tk->row_begin, n, a);
    rows->names[i] = d->td.columns[i].name;
  }
  uint32_t np = d->td.partition_key_count;
  struct column **pcols = arena_new_array(a, struct column *, np + 1);
  for (uint32_t k = 0; k < np; k++) {
    int rc = eval_expr(&d->td.partition_key[k], rows, a, &pcols[k], err);
    if (rc)
      return rc;
  }
  struct column *ids = column_create(a, datatype_simple(TYPE_STRING), n);
  struct buf id;
  buf_init(&id);
  for (uint32_t r = 0; r < n; r++) {
    buf_reset(&id);
    partition_id_append((const struct column *const *)pcols, np, r, &id);
    column_append_bytes(ids, id.data, id.len);
  }
  buf_free(&id);
  *out = ids;
  return 0;
}

/* Rows of a memtable chunk: every one is read, PREWHERE applies as for parts. */
static int chunk_task(struct engine_scan *sc, struct stream *st, const struct task *tk, struct block **out,
                      struct error *err)
{
  struct arena *a = &st->arena;
  const struct mem_chunk *c = tk->chunk;
  uint32_t n = tk->row_end - tk->row_begin, kept = n;
  uint8_t *keep = NULL;
  uint64_t bytes = 0;
  int rc;
  if (sc->row_filter) {
    struct block *pre = block_create(a, sc->npre);
    pre->rows = n;
    for (uint32_t i = 0; i < sc->npre; i++) {
      rc = mem_chunk_column_derived(sc->d, c, (uint32_t)find_column(sc->d, sc->pre[i].name), tk->row_begin, n, a,
                                    &pre->columns[i], err);
      if (rc)
        return rc;
      pre->names[i] = sc->pre[i].name;
    }
    bytes += block_bytes(pre);
    keep = arena_alloc(a, n ? n : 1);
    memset(keep, 1, n);
    if ((rc = sc->row_filter(sc->row_ctx, pre, keep, err)) != 0)
      return rc;
    kept = 0;
    for (uint32_t i = 0; i < n; i++)
      kept += keep[i] != 0;
  }
  struct block *o = NULL;
  if (kept) {
    o = block_create(a, sc->nout);
    o->rows = kept;
  }
  for (uint32_t i = 0; i < sc->nout && kept; i++) {
    const struct out_col *oc = &sc->out[i];
    struct column *col;
    o->names[i] = oc->name;
    if (oc->kind == OUT_PART) {
      struct column *one = column_create(a, datatype_simple(TYPE_STRING), 1);
      column_append_bytes(one, "memtable", 8);
      o->columns[i] = column_const_from(a, one, 0, kept);
      continue;
    }
    if (oc->kind == OUT_PARTITION_ID) {
      if ((rc = chunk_partition_ids(tk, a, &col, err)) != 0)
        return rc;
    } else {
      const struct part_read_column *src = oc->from_pre ? &sc->pre[oc->pos] : &sc->rest[oc->pos];
      rc = mem_chunk_column_derived(sc->d, c, (uint32_t)find_column(sc->d, src->name), tk->row_begin, n, a, &col,
                                    err);
      if (rc)
        return rc;
      if (!oc->from_pre)
        bytes += column_byte_size(col);
    }
    o->columns[i] = kept == n ? col : column_filter(a, col, keep, kept);
  }
  account(sc, n, bytes);
  *out = o;
  return 0;
}

/* Filters and projects a collapsed FINAL block (fcols layout). */
static int final_output(struct engine_scan *sc, struct stream *st, const struct block *b, const struct task *tk,
                        struct block **out, struct error *err)
{
  struct arena *a = &st->arena;
  uint8_t *keep = NULL;
  uint32_t kept = b->rows;
  if (sc->row_filter) {
    struct block *pre = block_create(a, sc->npre);
    pre->rows = b->rows;
    for (uint32_t i = 0; i < sc->npre; i++) {
      pre->columns[i] = b->columns[sc->fpre[i]];
      pre->names[i] = sc->pre[i].name;
    }
    keep = arena_alloc(a, b->rows ? b->rows : 1);
    memset(keep, 1, b->rows);
    int rc = sc->row_filter(sc->row_ctx, pre, keep, err);
    if (rc)
      return rc;
    kept = 0;
    for (uint32_t i = 0; i < b->rows; i++)
      kept += keep[i] != 0;
  }
  if (!kept)
    return 0;
  struct block *o = block_create(a, sc->nout);
  o->rows = kept;
  for (uint32_t i = 0; i < sc->nout; i++) {
    const struct out_col *oc = &sc->out[i];
    o->names[i] = oc->name;
    if (oc->kind != OUT_COLUMN)
      o->columns[i] = virtual_column(a, oc->kind, sc->inputs[tk->first_input].part, kept);
    else
      o->columns[i] = kept == b->rows ? b->columns[oc->fpos] : column_filter(a, b->columns[oc->fpos], keep, kept);
  }
  *out = o;
  return 0;
}

static int final_step(struct engine_scan *sc, struct stream *st, const struct task *tk, struct block **out,
                      bool *task_done, struct error *err)
{
  int rc;
  *task_done = false;
  if (!st->m) {
    rc = merger_open(sc->d, &sc->inputs[tk->first_input], tk->ninputs, sc->fcols, sc->nfcols, sc->fkey,
                     sc->d->td.sort_key_count, sc->block_rows, NULL, NULL, &st->m, err);
    if (rc)
      return rc;
    collapser_init(&st->co, sc->d->td.kind, sc->nfcols, sc->fkey, sc->d->td.sort_key_count, sc->fversion,
                   sc->fsummed);
    st->co_init = true;
    st->m_rows = st->m_bytes = 0;
  }
  arena_reset(&st->mblk);
  struct block *b;
  if ((rc = merger_next(st->m, &st->mblk, &b, err)) != 0)
    return rc;
  uint64_t rr, rb;
  merger_progress(st->m, &rr, &rb);
  account(sc, rr - st->m_rows, rb - st->m_bytes);
  st->m_rows = rr;
  st->m_bytes = rb;
  struct block *c;
  if (b) {
    c = collapser_push(&st->co, b, &st->arena);
  } else {
    c = collapser_finish(&st->co, &st->arena);
    merger_close(st->m);
    st->m = NULL;
    collapser_fini(&st->co);
    st->co_init = false;
    *task_done = true;
  }
  if (c && c->rows)
    return final_output(sc, st, c, tk, out, err);
  return 0;
}

int engine_scan_next(struct engine_scan *sc, uint32_t stream, struct block **out, struct error *err)
{
  *out = NULL;
  if (stream >= sc->nstreams)
    return error_set(err, ERR_LOGICAL_ERROR, "Scan has %u streams, asked for stream %u", sc->nstreams, stream);
  struct stream *st = &sc->streams[stream];
  arena_reset(&st->arena);
  for (;;) {
    uint32_t ti;
    if (st->m) {
      ti = st->m_task;
    } else {
      ti = atomic_fetch_add(&sc->next_task, 1);
      if (ti >= sc->ntasks)
        return 0;
    }
    const struct task *tk = &sc->tasks[ti];
    int rc;
    if (tk->chunk) {
      rc = chunk_task(sc, st, tk, out, err);
      if (rc || *out)
        return rc;
      continue;
    }
    if (!tk->final) {
      rc = plain_task(sc, st, tk, out, err);
      if (rc || *out)
        return rc;
      continue;
    }
    bool done;
    st->m_task = ti;
    rc = final_step(sc, st, tk, out, &done, err);
    if (rc || *out)
      return rc;
  }
}
