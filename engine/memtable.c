/* Buffered inserts: memtables in front of parts, made durable by the
 * write-ahead log (wal.c), flushed to parts by background threads.
 *
 * A buffered insert encodes every item's rows into one log record (the
 * part format's uncompressed column encoding, storage_column_encode), and
 * decodes each item back from those very bytes into a chunk, so what a
 * reader sees now is exactly what a replay would rebuild. Under the log's
 * lock (so chunk order = LSN order) each chunk is appended to its table's
 * memtable, not yet durable; once the record is durable the chunks are
 * marked so and snapshots include them.
 *
 * Record payload (little-endian):
 *   u32 items, then per item: i64 table id | u32 rows | u32 columns |
 *   per column: u32 name length | name | u32 type length | type text | encoded column
 *
 * A flush takes the longest durable prefix of a memtable, writes it as
 * parts through the staged insert (sorted, one part per partition) and
 * publishes them in one catalog transaction that also sets the table's log
 * position to the last flushed LSN + 1; the chunks leave the memtable in
 * the same step under table->lock. Because chunks are in LSN order and a
 * flush takes a prefix, "every record of this table below the position is
 * in parts" holds, which is what replay relies on to skip them.
 *
 * Log segments are released once every memtable's first chunk is past them. */
#include "engine/engine_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"

enum {
  FLUSH_THREADS_DEFAULT = 2,
  FLUSH_MS_DEFAULT = 2000,
  FLUSH_POLL_MS = 100,
  FLUSH_RETRY_MS = 1000,
  FLUSH_IDLE_MS = 1000,               /* idle this long after a flush: its memory goes back */
};
#define FLUSH_BYTES_DEFAULT (64ull << 20)
#define FLUSH_ROWS_DEFAULT (1ull << 20)
#define MEM_MAX_BYTES_DEFAULT (256ull << 20)

static uint64_t flush_bytes(const struct engine *e)
{
  return e->opt.memtable_flush_bytes ? e->opt.memtable_flush_bytes : FLUSH_BYTES_DEFAULT;
}
static uint64_t flush_rows(const struct engine *e)
{
  return e->opt.memtable_flush_rows ? e->opt.memtable_flush_rows : FLUSH_ROWS_DEFAULT;
}
static uint64_t flush_age_ns(const struct engine *e)
{
  return (uint64_t)(e->opt.memtable_flush_ms ? e->opt.memtable_flush_ms : FLUSH_MS_DEFAULT) * 1000000ull;
}
static uint64_t mem_max_bytes(const struct engine *e)
{
  return e->opt.memtable_max_bytes ? e->opt.memtable_max_bytes : MEM_MAX_BYTES_DEFAULT;
}

/* ======================================================================
 * Chunks
 * ==================================================================== */

void mem_chunk_ref(struct mem_chunk *c) { atomic_fetch_add(&c->refs, 1); }

void mem_chunk_unref(struct mem_chunk *c)
{
  if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
    return;
  def_unref(c->d);
  arena_destroy(&c->arena);
  mem_free(c);
}

struct column *mem_chunk_column(const struct mem_chunk *c, const char *name, const struct datatype *t,
                                uint32_t start, uint32_t count, struct arena *a)
{
  for (uint32_t i = 0; i < c->rows->column_count; i++) {
    const struct column *col = c->rows->columns[i];
    if (strcmp(c->rows->names[i], name) != 0 || !datatype_equal(col->type, t))
      continue;
    if (start == 0 && count == col->rows)
      return (struct column *)col;
    return column_slice(a, col, start, count);
  }
  struct column *d = column_create(a, t, count);
  for (uint32_t r = 0; r < count; r++)
    column_append_default(d);
  return d;
}

/* A little cursor over a record's payload (untrusted on replay). */
struct cursor {
  const uint8_t *p, *end;
  bool bad;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
  if (c->bad || (size_t)(c->end - c->p) < n) {
    c->bad = true;
    return NULL;
  }
  const uint8_t *p = c->p;
  c->p += n;
  return p;
}

static uint32_t take_u32(struct cursor *c)
{
  const uint8_t *p = take(c, 4);
  uint32_t v = 0;
  if (p)
    memcpy(&v, p, 4);
  return v;
}

static int64_t take_i64(struct cursor *c)
{
  const uint8_t *p = take(c, 8);
  int64_t v = 0;
  if (p)
    memcpy(&v, p, 8);
  return v;
}

static void put_u32(struct buf *b, uint32_t v) { buf_append(b, &v, 4); }
static void put_i64(struct buf *b, int64_t v) { buf_append(b, &v, 8); }

static void put_text(struct buf *b, const char *s, size_t n)
{
  put_u32(b, (uint32_t)n);
  buf_append(b, s, n);
}

/* One item: table id, then the rows with every column's name and type. */
static void encode_item(struct buf *out, int64_t table_id, const struct block *rows)
{
  put_i64(out, table_id);
  put_u32(out, rows->rows);
  put_u32(out, rows->column_count);
  struct buf type;
  buf_init(&type);
  for (uint32_t i = 0; i < rows->column_count; i++) {
    put_text(out, rows->names[i], strlen(rows->names[i]));
    buf_reset(&type);
    datatype_format(rows->columns[i]->type, &type);
    put_text(out, type.data, type.len);
    storage_column_encode(rows->columns[i], out);
  }
  buf_free(&type);
}

/* Decodes one item into a block (names and types as recorded) in a. */
static int decode_item(struct cursor *c, struct arena *a, int64_t *table_id, struct block **out)
{
  *table_id = take_i64(c);
  uint32_t rows = take_u32(c), ncols = take_u32(c);
  if (c->bad || ncols > (size_t)(c->end - c->p))
    return -1;
  struct block *b = block_create(a, ncols);
  b->rows = rows;
  for (uint32_t i = 0; i < ncols; i++) {
    uint32_t nl = take_u32(c);
    const uint8_t *name = take(c, nl);
    uint32_t tl = take_u32(c);
    const uint8_t *tt = take(c, tl);
    if (c->bad)
      return -1;
    struct error err = { 0 };
    const struct datatype *t;
    if (datatype_parse(a, (const char *)tt, tl, &t, &err) != 0)
      return -1;
    struct slice in = slice_make((const char *)c->p, (size_t)(c->end - c->p));
    if (storage_column_decode(&in, t, rows, a, &b->columns[i]) != 0)
      return -1;
    c->p = (const uint8_t *)in.ptr;
    b->names[i] = arena_strndup(a, (const char *)name, nl);
  }
  *out = b;
  return 0;
}

static struct mem_chunk *chunk_new(void)
{
  struct mem_chunk *c = mem_calloc(1, sizeof *c);
  atomic_init(&c->refs, 1);
  arena_init(&c->arena, 256 * 1024);
  c->created_ns = clock_monotonic_ns();
  return c;
}

/* Gives c its rows for table definition d from decoded rows (in c's
 * arena): d's columns by name, defaults for columns the rows lack
 * (recorded before an ADD COLUMN). */
static void chunk_set_rows(struct mem_chunk *c, struct def *d, const struct block *rows)
{
  c->d = d;
  def_ref(d);
  struct block *b = block_create(&c->arena, d->ncols);
  b->rows = rows->rows;
  struct mem_chunk view = { .rows = (struct block *)rows };
  for (uint32_t i = 0; i < d->ncols; i++) {
    b->names[i] = d->td.columns[i].name;
    b->columns[i] = mem_chunk_column(&view, b->names[i], d->td.columns[i].type, 0, rows->rows, &c->arena);
  }
  c->rows = b;
  c->bytes = c->arena.used_bytes;     /* what the chunk really holds, decoding slack included */
}

void wal_items_begin(struct wal_items *it, const uint8_t *payload, size_t len)
{
  struct cursor c = { payload, payload + len, false };
  it->left = take_u32(&c);
  it->p = c.p;
  it->end = c.end;
  it->bad = c.bad;
}

int wal_items_next(struct wal_items *it, struct arena *a, int64_t *table_id, struct block **rows)
{
  if (it->bad)
    return -1;
  if (it->left == 0)
    return 0;
  struct cursor c = { it->p, it->end, false };
  if (decode_item(&c, a, table_id, rows) != 0) {
    it->bad = true;
    return -1;
  }
  it->p = c.p;
  it->left--;
  return 1;
}

/* ======================================================================
 * Memtable lists (table->lock held)
 * ==================================================================== */

static void mem_push_locked(struct engine_table *t, struct mem_chunk *c)
{
  struct memtable *m = &t->mem;
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 64;
    m->chunks = mem_realloc(m->chunks, m->cap * sizeof *m->chunks);
  }
  m->chunks[m->n++] = c;
  m->rows += c->rows->rows;
  m->bytes += c->bytes;
  atomic_fetch_add(&t->e->mem_rows, c->rows->rows);
  atomic_fetch_add(&t->e->mem_bytes, c->bytes);
}

/* Removes chunks [0, k) from the list and drops the list's references. */
static void mem_pop_locked(struct engine_table *t, uint32_t k)
{
  struct memtable *m = &t->mem;
  for (uint32_t i = 0; i < k; i++) {
    struct mem_chunk *c = m->chunks[i];
    m->rows -= c->rows->rows;
    m->bytes -= c->bytes;
    atomic_fetch_sub(&t->e->mem_rows, c->rows->rows);
    atomic_fetch_sub(&t->e->mem_bytes, c->bytes);
    mem_chunk_unref(c);
  }
  if (k < m->n)
    memmove(m->chunks, m->chunks + k, (m->n - k) * sizeof *m->chunks);
  m->n -= k;
}

static void mem_remove_locked(struct engine_table *t, struct mem_chunk *c)
{
  struct memtable *m = &t->mem;
  for (uint32_t i = 0; i < m->n; i++)
    if (m->chunks[i] == c) {
      m->rows -= c->rows->rows;
      m->bytes -= c->bytes;
      atomic_fetch_sub(&t->e->mem_rows, c->rows->rows);
      atomic_fetch_sub(&t->e->mem_bytes, c->bytes);
      if (i + 1 < m->n)
        memmove(m->chunks + i, m->chunks + i + 1, (m->n - i - 1) * sizeof *m->chunks);
      m->n--;
      mem_chunk_unref(c);
      return;
    }
}

void memtable_free(struct engine_table *t)
{
  pthread_mutex_lock(&t->lock);
  mem_pop_locked(t, t->mem.n);
  pthread_mutex_unlock(&t->lock);
  mem_free(t->mem.chunks);
  t->mem.chunks = NULL;
  t->mem.cap = 0;
}

/* Claims the memtable against flushes (a running one finishes first):
 * returns with table->lock held and mem.flushing set. */
static void claim_locked(struct engine_table *t)
{
  pthread_mutex_lock(&t->lock);
  while (t->mem.flushing) {
    pthread_mutex_unlock(&t->lock);
    struct timespec ts = { 0, 2 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&t->lock);
  }
  t->mem.flushing = true;
}

void memtable_discard(struct engine_table *t)
{
  struct engine *e = t->e;
  uint64_t next = e->wal ? wal_next_lsn(e->wal) : 0;
  claim_locked(t);
  uint64_t position = next;
  for (uint32_t i = 0; i < t->mem.n; i++)
    if (t->mem.chunks[i]->lsn + 1 > position)
      position = t->mem.chunks[i]->lsn + 1;
  bool had = t->mem.n > 0;
  mem_pop_locked(t, t->mem.n);
  pthread_mutex_unlock(&t->lock);
  /* still claimed: no flush can move the position meanwhile */
  if (had && !atomic_load(&t->dropped)) {
    struct error err = { 0 };
    if (catalog_wal_position_advance(e->cat, t->id, position, &err) != 0)
      log_error("table %s.%s: cannot record the discarded memtable: %s", t->database, t->name, err.message);
  }
  pthread_mutex_lock(&t->lock);
  t->mem.flushing = false;
  pthread_mutex_unlock(&t->lock);
}

/* ======================================================================
 * Buffered insert
 * ==================================================================== */

struct pending_item {
  struct engine_table *t;
  struct def *d;
  struct mem_chunk *chunk;
};

struct register_ctx {
  struct pending_item *items;
  uint32_t count;
};

static void register_chunks(void *arg, uint64_t lsn)
{
  struct register_ctx *r = arg;
  for (uint32_t i = 0; i < r->count; i++) {
    struct pending_item *it = &r->items[i];
    it->chunk->lsn = lsn;
    mem_chunk_ref(it->chunk);
    pthread_mutex_lock(&it->t->lock);
    mem_push_locked(it->t, it->chunk);
    pthread_mutex_unlock(&it->t->lock);
  }
}

static void wake_flushers(struct engine *e)
{
  pthread_mutex_lock(&e->flush_lock);
  pthread_cond_broadcast(&e->flush_work);
  pthread_mutex_unlock(&e->flush_lock);
}

/* The rows in exactly the table's column types (LowCardinality may arrive
 * as its plain type; constants are fine: the encoder expands them). */
static const struct block *with_table_types(const struct def *d, const struct block *in, struct arena *a)
{
  struct block *b = NULL;
  for (uint32_t i = 0; i < d->ncols; i++) {
    const struct column *c = in->columns[i];
    const struct datatype *want = d->td.columns[i].type;
    if (datatype_equal(c->type, want))
      continue;
    if (!b) {
      b = block_create(a, in->column_count);
      b->rows = in->rows;
      memcpy(b->columns, in->columns, in->column_count * sizeof *b->columns);
    }
    struct column *m = column_create(a, want, in->rows);
    column_append_range(m, c, 0, in->rows);
    b->columns[i] = m;
  }
  if (!b) {
    b = block_create(a, in->column_count);
    b->rows = in->rows;
    memcpy(b->columns, in->columns, in->column_count * sizeof *b->columns);
  }
  for (uint32_t i = 0; i < d->ncols; i++)
    b->names[i] = d->td.columns[i].name;
  return b;
}

/* MEMORY_LIMIT_EXCEEDED when the memtables and `incoming` more bytes would
 * pass the budget (and the flush threads are woken). */
static int over_budget(struct engine *e, uint64_t incoming, struct error *err)
{
  uint64_t held = atomic_load(&e->mem_bytes);
  if (held + incoming <= mem_max_bytes(e))
    return 0;
  wake_flushers(e);
  char have[32], max[32];
  readable_size(held, have, sizeof have);
  readable_size(mem_max_bytes(e), max, sizeof max);
  return error_set(err, ERR_MEMORY_LIMIT_EXCEEDED, "Memory limit (for pending inserts) exceeded: %s of rows waiting "
                   "to be written to parts, maximum %s. Retry later", have, max);
}

int engine_buffered_admit(struct engine *e, struct error *err)
{
  if (!e->wal)
    return error_set(err, ERR_ABORTED, "Buffered inserts are not available before the write-ahead log is recovered");
  return over_budget(e, 1, err);
}

int engine_insert_buffered(struct engine *e, const struct engine_buffered_rows *items, uint32_t count,
                           struct error *err)
{
  if (!e->wal)
    return error_set(err, ERR_ABORTED, "Buffered inserts are not available before the write-ahead log is recovered");
  struct pending_item *pend = mem_calloc(count + 1, sizeof *pend);
  uint32_t np = 0;
  struct buf payload;
  buf_init(&payload);
  struct arena scratch;
  arena_init(&scratch, 64 * 1024);
  int rc = 0;
  uint64_t incoming = 0;
  put_u32(&payload, 0);
  for (uint32_t i = 0; i < count && !rc; i++) {
    struct engine_table *t = items[i].table;
    const struct block *rows = items[i].rows;
    if (!rows || rows->rows == 0)
      continue;
    struct def *d = table_def_get(t);
    if (!d) {
      rc = error_set(err, ERR_LOGICAL_ERROR, "Table %s.%s is not attached to a definition", t->database, t->name);
      break;
    }
    char label[512];
    table_label(t, label, sizeof label);
    if (d->td.kind != TABLE_MERGE_TREE) {
      /* Replacing/Summing: FINAL and merges need every row in a part */
      def_unref(d);
      rc = engine_insert(t, rows, NULL, NULL, err);
      continue;
    }
    if ((rc = insert_check_block(d, rows, label, err)) != 0) {
      def_unref(d);
      break;
    }
    pend[np].t = t;
    pend[np].d = d;
    encode_item(&payload, t->id, with_table_types(d, rows, &scratch));
    for (uint32_t c = 0; c < rows->column_count; c++)
      incoming += column_byte_size(rows->columns[c]);
    np++;
  }
  if (rc || np == 0)
    goto out;
  memcpy(payload.data, &np, 4);
  if ((rc = over_budget(e, incoming, err)) != 0)
    goto out;
  /* the chunks are decoded from the record's own bytes */
  struct wal_items it;
  wal_items_begin(&it, (const uint8_t *)payload.data, payload.len);
  for (uint32_t i = 0; i < np; i++) {
    pend[i].chunk = chunk_new();
    int64_t id;
    struct block *b;
    if (wal_items_next(&it, &pend[i].chunk->arena, &id, &b) != 1) {
      rc = error_set(err, ERR_LOGICAL_ERROR, "Buffered insert: the encoded rows of table %s.%s do not decode",
                     pend[i].t->database, pend[i].t->name);
      goto out;
    }
    chunk_set_rows(pend[i].chunk, pend[i].d, b);
  }
  struct register_ctx reg = { pend, np };
  uint64_t lsn;
  if ((rc = wal_append(e->wal, &payload, register_chunks, &reg, &lsn, err)) != 0)
    goto out;
  rc = wal_wait(e->wal, lsn, err);
  bool wake = false;
  for (uint32_t i = 0; i < np; i++) {
    struct engine_table *t = pend[i].t;
    pthread_mutex_lock(&t->lock);
    if (rc)
      mem_remove_locked(t, pend[i].chunk);
    else
      pend[i].chunk->durable = true;
    wake |= t->mem.bytes >= flush_bytes(e) || t->mem.rows >= flush_rows(e);
    pthread_mutex_unlock(&t->lock);
  }
  if (wake)
    wake_flushers(e);
out:
  for (uint32_t i = 0; i < np; i++) {
    mem_chunk_unref(pend[i].chunk);
    def_unref(pend[i].d);
  }
  mem_free(pend);
  arena_destroy(&scratch);
  buf_free(&payload);
  return rc;
}

/* ======================================================================
 * Flushing
 * ==================================================================== */

struct flush_pop {
  struct engine_table *t;
  uint32_t k;
};

static void flush_published(void *arg)
{
  struct flush_pop *f = arg;
  mem_pop_locked(f->t, f->k);
}

/* Each chunk's rows in d's layout (the chunk's own columns, defaults for
 * columns added since), not copied: the flush gathers from them directly. */
/* The chunks as blocks of the table's columns; a chunk buffered before an
 * ADD COLUMN gets the column's DEFAULT computed, as scans of it do. */
static int chunks_blocks(const struct def *d, struct mem_chunk **chunks, uint32_t k, struct arena *a,
                         const struct block ***out, struct error *err)
{
  const struct block **blocks = arena_new_array(a, const struct block *, k);
  for (uint32_t i = 0; i < k; i++) {
    uint32_t rows = chunks[i]->rows->rows;
    struct block *b = block_create(a, d->ncols);
    b->rows = rows;
    for (uint32_t c = 0; c < d->ncols; c++) {
      int rc = mem_chunk_column_derived(d, chunks[i], c, 0, rows, a, &b->columns[c], err);
      if (rc)
        return rc;
      b->names[c] = d->td.columns[c].name;
    }
    blocks[i] = b;
  }
  *out = blocks;
  return 0;
}

/* Oldest LSN any memtable still needs; segments below it can go. */
static void release_log(struct engine *e)
{
  uint64_t keep = wal_next_lsn(e->wal);
  pthread_mutex_lock(&e->lock);
  for (uint32_t i = 0; i < e->ntables; i++) {
    struct engine_table *t = e->tables[i];
    pthread_mutex_lock(&t->lock);
    if (t->mem.n && t->mem.chunks[0]->lsn < keep)
      keep = t->mem.chunks[0]->lsn;
    pthread_mutex_unlock(&t->lock);
  }
  pthread_mutex_unlock(&e->lock);
  wal_release_before(e->wal, keep);
}

/* Most rows one flush writes: the concatenated block counts rows in 32 bits. */
enum { FLUSH_MAX_ROWS = 1u << 30 };

static int flush_table(struct engine_table *t, struct error *err)
{
  struct engine *e = t->e;
  pthread_mutex_lock(&t->lock);
  if (t->mem.flushing) {
    pthread_mutex_unlock(&t->lock);
    return 0;
  }
  /* at most one flush's worth: the flush gathers what it takes, sorted,
   * a slice at a time, so this bounds its memory too */
  uint32_t k = 0;
  uint64_t rows = 0, bytes = 0;
  while (k < t->mem.n && t->mem.chunks[k]->durable && rows + t->mem.chunks[k]->rows->rows <= FLUSH_MAX_ROWS &&
         (k == 0 || (bytes < flush_bytes(e) && rows < flush_rows(e)))) {
    bytes += t->mem.chunks[k]->bytes;
    rows += t->mem.chunks[k++]->rows->rows;
  }
  if (k == 0) {
    pthread_mutex_unlock(&t->lock);
    return 0;
  }
  t->mem.flushing = true;
  struct mem_chunk **chunks = mem_calloc(k, sizeof *chunks);
  for (uint32_t i = 0; i < k; i++) {
    chunks[i] = t->mem.chunks[i];
    mem_chunk_ref(chunks[i]);
  }
  pthread_mutex_unlock(&t->lock);

  int64_t t0 = clock_monotonic_ns();
  int rc = 0;
  struct def *d = table_def_get(t);
  struct arena a;
  arena_init(&a, 1 << 20);
  struct engine_insert *ins = NULL;
  if (!d) {
    rc = error_set(err, ERR_LOGICAL_ERROR, "Table %s.%s is not attached to a definition", t->database, t->name);
    goto out;
  }
  const struct block **blocks;
  if ((rc = chunks_blocks(d, chunks, k, &a, &blocks, err)) != 0)
    goto out;
  struct engine_insert_options opts = { .max_partitions_per_insert_block = UINT32_MAX };
  if ((rc = engine_insert_begin(t, &opts, &ins, err)) != 0)
    goto out;
  if ((rc = insert_add_blocks(ins, blocks, k, err)) != 0) {
    engine_insert_abort(ins);
    goto out;
  }
  struct flush_pop pop = { t, k };
  rc = insert_commit_flush(ins, chunks[k - 1]->lsn + 1, flush_published, &pop, err);
out:
  arena_destroy(&a);
  def_unref(d);
  for (uint32_t i = 0; i < k; i++)
    mem_chunk_unref(chunks[i]);
  mem_free(chunks);
  pthread_mutex_lock(&t->lock);
  t->mem.flushing = false;
  t->mem.retry_after_ns = rc ? clock_monotonic_ns() + (int64_t)FLUSH_RETRY_MS * 1000000 : 0;
  pthread_mutex_unlock(&t->lock);
  if (rc) {
    atomic_fetch_add(&e->flush_failures, 1);
    return rc;
  }
  atomic_fetch_add(&e->flushes, 1);
  atomic_fetch_add(&e->flushed_rows, rows);
  log_debug("table %s.%s: flushed %" PRIu64 " rows from the memtable in %.1f ms", t->database, t->name, rows,
            (double)clock_elapsed_ns(t0) / 1e6);
  release_log(e);
  return 0;
}

int engine_table_flush(struct engine_table *t, struct error *err)
{
  /* everything in the memtable now, not what keeps arriving meanwhile; a
   * flush already running owns its prefix: wait for it, then take the rest */
  pthread_mutex_lock(&t->lock);
  uint64_t last = t->mem.n ? t->mem.chunks[t->mem.n - 1]->lsn : 0;
  pthread_mutex_unlock(&t->lock);
  for (;;) {
    pthread_mutex_lock(&t->lock);
    bool busy = t->mem.flushing, done = t->mem.n == 0 || t->mem.chunks[0]->lsn > last;
    pthread_mutex_unlock(&t->lock);
    if (done)
      return 0;
    if (!busy) {
      int rc = flush_table(t, err);
      if (rc)
        return rc;
      pthread_mutex_lock(&t->lock);
      bool waiting = t->mem.n && !t->mem.chunks[0]->durable;   /* its log write is in flight */
      pthread_mutex_unlock(&t->lock);
      if (!waiting)
        continue;
    }
    struct timespec ts = { 0, 2 * 1000 * 1000 };
    nanosleep(&ts, NULL);
  }
}

/* The table whose memtable most needs a flush now, referenced; NULL if none. */
static struct engine_table *pick_flush(struct engine *e, bool all)
{
  int64_t now = clock_monotonic_ns();
  /* over half the budget: the tables holding most of it flush early (not
   * every small memtable, which would only make tiny parts) */
  uint64_t held = atomic_load(&e->mem_bytes);
  bool pressure = held >= mem_max_bytes(e) / 2;
  struct engine_table *best = NULL;
  uint64_t best_bytes = 0;
  pthread_mutex_lock(&e->lock);
  for (uint32_t i = 0; i < e->ntables; i++) {
    struct engine_table *t = e->tables[i];
    pthread_mutex_lock(&t->lock);
    const struct memtable *m = &t->mem;
    bool ready = m->n && !m->flushing && m->chunks[0]->durable && now >= m->retry_after_ns;
    bool due = all || (pressure && m->bytes >= held / 4) || m->bytes >= flush_bytes(e) || m->rows >= flush_rows(e) ||
               (m->n && (uint64_t)(now - m->chunks[0]->created_ns) >= flush_age_ns(e));
    if (ready && due && (!best || m->bytes > best_bytes)) {
      best = t;
      best_bytes = m->bytes;
    }
    pthread_mutex_unlock(&t->lock);
  }
  if (best)
    engine_table_ref(best);
  pthread_mutex_unlock(&e->lock);
  return best;
}

static void *flush_main(void *arg)
{
  struct engine *e = arg;
  uint32_t idle_polls = 0;
  bool worked = false;                /* flushed since it last gave memory back */
  while (!atomic_load(&e->flush_stopping)) {
    struct engine_table *t = pick_flush(e, false);
    if (!t) {
      /* a flush allocates tens of MiB: once nothing was due for a while,
       * hand them back rather than keep them in this thread's heap */
      if (worked && ++idle_polls * FLUSH_POLL_MS >= FLUSH_IDLE_MS) {
        mem_thread_idle();
        worked = false;
      }
      pthread_mutex_lock(&e->flush_lock);
      if (!atomic_load(&e->flush_stopping)) {
        struct timespec ts = clock_realtime_deadline((int64_t)FLUSH_POLL_MS * 1000000);
        pthread_cond_timedwait(&e->flush_work, &e->flush_lock, &ts);
      }
      pthread_mutex_unlock(&e->flush_lock);
      continue;
    }
    struct error err = { 0 };
    if (flush_table(t, &err) != 0)
      log_error("table %s.%s: cannot write the memtable to parts (retrying; the rows stay in the write-ahead "
                "log): %s", t->database, t->name, err.message);
    engine_table_unref(t);
    idle_polls = 0;
    worked = true;
  }
  return NULL;
}

/* ======================================================================
 * Recovery and lifetime
 * ==================================================================== */

struct replay_ctx {
  struct engine *e;
  uint64_t rows, records;
};

/* The table's log position, read from the catalog once per replay. */
static uint64_t table_position(struct engine *e, struct engine_table *t)
{
  if (t->mem.wal_position == 0) {
    struct error err = { 0 };
    uint64_t p = 0;
    if (catalog_wal_position_get(e->cat, t->id, &p, &err) != 0)
      log_error("table %s.%s: cannot read its log position: %s", t->database, t->name, err.message);
    t->mem.wal_position = p ? p : 1;
  }
  return t->mem.wal_position;
}

static int replay_record(void *arg, uint64_t lsn, const uint8_t *payload, size_t len, struct error *err)
{
  struct replay_ctx *r = arg;
  struct engine *e = r->e;
  struct wal_items it;
  wal_items_begin(&it, payload, len);
  r->records++;
  for (uint32_t i = 0;; i++) {
    struct mem_chunk *c = chunk_new();
    c->lsn = lsn;
    c->durable = true;
    int64_t id;
    struct block *b;
    int got = wal_items_next(&it, &c->arena, &id, &b);
    if (got <= 0) {
      mem_chunk_unref(c);
      if (got < 0)
        log_error("write-ahead log record %" PRIu64 ": item %u does not decode; the rest of the record is skipped",
                  lsn, i);
      break;
    }
    struct engine_table *t = NULL;
    struct error terr = { 0 };
    if (engine_table_get_by_id(e, id, &t, &terr) != 0) {
      mem_chunk_unref(c);         /* the table was dropped since */
      continue;
    }
    struct def *d = table_def_get(t);
    if (!d) {
      log_error("write-ahead log record %" PRIu64 ": table %s.%s is not attached; its %u rows are not replayed",
                lsn, t->database, t->name, b->rows);
    } else if (lsn >= table_position(e, t)) {
      chunk_set_rows(c, d, b);
      mem_chunk_ref(c);
      pthread_mutex_lock(&t->lock);
      mem_push_locked(t, c);
      pthread_mutex_unlock(&t->lock);
      r->rows += b->rows;
    }
    mem_chunk_unref(c);
    def_unref(d);
    engine_table_unref(t);
  }
  (void)err;
  return 0;
}

void memtable_init_engine(struct engine *e)
{
  pthread_mutex_init(&e->flush_lock, NULL);
  pthread_cond_init(&e->flush_work, NULL);
}

int engine_wal_recover(struct engine *e, uint64_t *replayed_rows, struct error *err)
{
  if (e->wal)
    return error_set(err, ERR_LOGICAL_ERROR, "The write-ahead log is already recovered");
  char path[4096];
  snprintf(path, sizeof path, "%s/wal", e->dir);
  struct wal_options wo = { e->opt.wal_sync, e->opt.wal_batch_ms, e->opt.wal_segment_bytes };
  struct wal *w;
  int rc = wal_open(path, &wo, &w, err);
  if (rc)
    return rc;
  /* LSNs never go back: past every table's position too (the segments
   * holding them may be gone) */
  uint64_t min_next = 1;
  pthread_mutex_lock(&e->lock);
  uint32_t n = e->ntables;
  struct engine_table **tables = mem_calloc(n + 1, sizeof *tables);
  for (uint32_t i = 0; i < n; i++) {
    tables[i] = e->tables[i];
    engine_table_ref(tables[i]);
  }
  pthread_mutex_unlock(&e->lock);
  for (uint32_t i = 0; i < n; i++) {
    uint64_t p = table_position(e, tables[i]);
    if (p > min_next)
      min_next = p;
    engine_table_unref(tables[i]);
  }
  mem_free(tables);
  struct replay_ctx r = { e, 0, 0 };
  if ((rc = wal_replay(w, min_next, replay_record, &r, err)) != 0) {
    wal_close(w);
    return rc;
  }
  e->wal = w;
  if (r.rows)
    log_info("write-ahead log: %" PRIu64 " rows from %" PRIu64 " records put back into memtables", r.rows,
             r.records);
  if (replayed_rows)
    *replayed_rows = r.rows;
  e->nflush_threads = e->opt.flush_threads ? e->opt.flush_threads : FLUSH_THREADS_DEFAULT;
  e->flush_threads = mem_calloc(e->nflush_threads, sizeof *e->flush_threads);
  for (uint32_t i = 0; i < e->nflush_threads; i++)
    if (pthread_create(&e->flush_threads[i], NULL, flush_main, e) != 0) {
      e->nflush_threads = i;
      break;
    }
  release_log(e);
  return 0;
}

void memtable_shutdown(struct engine *e)
{
  if (!e->wal)
    return;
  atomic_store(&e->flush_stopping, true);
  wake_flushers(e);
  for (uint32_t i = 0; i < e->nflush_threads; i++)
    pthread_join(e->flush_threads[i], NULL);
  mem_free(e->flush_threads);
  e->flush_threads = NULL;
  e->nflush_threads = 0;
  /* write everything down so the next start has nothing to replay */
  for (;;) {
    struct engine_table *t = pick_flush(e, true);
    if (!t)
      break;
    struct error err = { 0 };
    int rc = flush_table(t, &err);
    if (rc)
      log_error("table %s.%s: cannot write the memtable to parts at shutdown (the write-ahead log keeps the "
                "rows): %s", t->database, t->name, err.message);
    engine_table_unref(t);
    if (rc)
      break;
  }
  wal_close(e->wal);
  e->wal = NULL;
}

void engine_get_ingest_stats(struct engine *e, struct engine_ingest_stats *out)
{
  memset(out, 0, sizeof *out);
  out->pending_rows = atomic_load(&e->mem_rows);
  out->pending_bytes = atomic_load(&e->mem_bytes);
  out->flushes = atomic_load(&e->flushes);
  out->flushed_rows = atomic_load(&e->flushed_rows);
  out->flush_failures = atomic_load(&e->flush_failures);
  struct wal *w = e->wal;
  if (!w)
    return;
  struct wal_stats s;
  wal_get_stats(w, &s);
  out->wal_records = s.records;
  out->wal_groups = s.groups;
  out->wal_bytes = s.bytes;
  out->wal_fsyncs = s.fsyncs;
  out->wal_segments = s.segments;
  out->wal_fsync_seconds_total = (double)s.fsync_ns_total / 1e9;
  out->wal_fsync_seconds_max = (double)s.fsync_ns_max / 1e9;
}
