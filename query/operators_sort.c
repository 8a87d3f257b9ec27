/* ORDER BY: a blocking operator. It gathers its input into one set of
 * columns, sorts a permutation and emits blocks in order. With a LIMIT it
 * is a top-N: whenever the buffer exceeds max(2N, 64Ki) rows it is sorted
 * and cut to N rows, so memory stays O(N) however long the input.
 * Numeric keys are normalized to order-preserving uint64 so the comparator
 * does no type dispatch; strings compare with memcmp; other types fall
 * back to column_compare_rows. Ties keep input order (stable). */
#include "query/exec_int.h"

#include <stdlib.h>
#include <string.h>

enum { SORT_COMPACT_ROWS_MIN = 65536 };

enum sort_kind { SK_U64, SK_STR, SK_GENERIC };

struct sort_key_rt {
  enum sort_kind kind;
  bool desc, nulls_first;
  const uint8_t *nulls;          /* Nullable: null map, else NULL */
  const uint64_t *u;             /* SK_U64 normalized values */
  const uint8_t *nan;            /* SK_U64 floats: NaN flags (sort like NULL, last) */
  const struct column *col;      /* SK_STR / SK_GENERIC */
};

struct sort_ctx {
  struct sort_key_rt *keys;
  uint32_t count;
};

enum { TOPN_KEYS_MAX = 4, TOPN_LIMIT_MAX = 1 << 20 };

/* Top-N over numeric keys: a max-heap of the best `limit` rows so far,
 * ordered by per-key ranks (smaller = earlier in the output). */
struct topn_entry {
  uint64_t rank[TOPN_KEYS_MAX];
  uint64_t seq;                  /* input order, for stable ties */
  uint32_t acc_row;              /* row of the candidate in acc */
};

struct sort_op {
  struct op base;
  struct sort_key *keys;
  uint32_t key_count;
  uint64_t limit;                /* 0 = no limit */
  bool topn;                     /* numeric heap fast path */
  struct column **boundary;      /* generic top-N: key values of the limit-th row after a compaction */
  struct topn_entry *heap;
  uint32_t heap_n;
  uint64_t seq;
  struct arena bufs[2];          /* accumulated columns; compaction flips between them */
  int cur;
  struct column **acc;
  uint32_t acc_rows;
  bool sorted;
  uint32_t *perm;
  uint32_t emitted;
  uint64_t rows_in;              /* rows consumed from the child (rows_before_limit) */
};

static uint64_t norm_i64(int64_t v) { return (uint64_t)v ^ 0x8000000000000000ULL; }

static uint64_t norm_f64(double d)
{
  uint64_t b;
  if (d == 0)
    d = 0;
  memcpy(&b, &d, 8);
  return (b & 0x8000000000000000ULL) ? ~b : b | 0x8000000000000000ULL;
}

static void prepare_key(struct arena *a, const struct column *c, uint32_t rows, const struct sort_key *k,
                        struct sort_key_rt *rt)
{
  memset(rt, 0, sizeof *rt);
  rt->desc = k->descending;
  rt->nulls_first = k->nulls_first;
  const struct column *v = c;
  if (v->type->id == TYPE_NULLABLE) {
    rt->nulls = v->nulls;
    v = v->children[0];
  }
  const struct datatype *t = v->type;
  if (key_fits_u64(t)) {
    uint64_t *u = arena_alloc(a, sizeof *u * (rows ? rows : 1));
    rt->kind = SK_U64;
    rt->u = u;
    if (datatype_is_float(t)) {
      const double *d = col_as_f64(a, v, rows);
      uint8_t *nan = arena_calloc(a, rows ? rows : 1, 1);
      for (uint32_t i = 0; i < rows; i++) {
        nan[i] = d[i] != d[i];
        u[i] = norm_f64(d[i]);
      }
      rt->nan = nan;
    } else if (datatype_is_signed(t) || t->id == TYPE_DATETIME64 || t->id == TYPE_ENUM8 || t->id == TYPE_ENUM16) {
      const int64_t *d = col_as_i64(a, v, rows);
      for (uint32_t i = 0; i < rows; i++)
        u[i] = norm_i64(d[i]);
    } else {
      const uint64_t *d = col_as_u64(a, v, rows);
      memcpy(u, d, sizeof *u * rows);
    }
    return;
  }
  if (t->id == TYPE_STRING) {
    rt->kind = SK_STR;
    rt->col = v;
    return;
  }
  rt->kind = SK_GENERIC;
  rt->col = c;
  rt->nulls = NULL;
}

static int cmp_rows(const struct sort_ctx *sc, uint32_t x, uint32_t y)
{
  for (uint32_t k = 0; k < sc->count; k++) {
    const struct sort_key_rt *rt = &sc->keys[k];
    int r = 0;
    if (rt->nulls) {
      bool nx = rt->nulls[x], ny = rt->nulls[y];
      if (nx || ny) {
        if (nx && ny)
          continue;
        /* NULLs placement does not flip with DESC */
        r = nx ? (rt->nulls_first ? -1 : 1) : (rt->nulls_first ? 1 : -1);
        return r;
      }
    }
    switch (rt->kind) {
    case SK_U64:
      if (rt->nan) {
        bool nx = rt->nan[x], ny = rt->nan[y];
        if (nx || ny) {
          if (nx && ny)
            continue;
          return nx ? (rt->nulls_first ? -1 : 1) : (rt->nulls_first ? 1 : -1);
        }
      }
      r = rt->u[x] < rt->u[y] ? -1 : rt->u[x] > rt->u[y];
      break;
    case SK_STR: {
      const uint64_t *o = rt->col->offsets;
      uint64_t sx = x ? o[x - 1] : 0, lx = o[x] - sx, sy = y ? o[y - 1] : 0, ly = o[y] - sy;
      size_t m = lx < ly ? lx : ly;
      r = m ? memcmp(rt->col->chars + sx, rt->col->chars + sy, m) : 0;
      if (r == 0)
        r = lx < ly ? -1 : lx > ly;
      else
        r = r < 0 ? -1 : 1;
      break;
    }
    case SK_GENERIC:
      r = column_compare_rows(rt->col, x, rt->col, y, rt->nulls_first != rt->desc);
      break;
    }
    if (r)
      return rt->desc ? -r : r;
  }
  return x < y ? -1 : x > y;
}

static int cmp_qsort(const void *a, const void *b, void *arg)
{
  return cmp_rows(arg, *(const uint32_t *)a, *(const uint32_t *)b);
}

/* Sorts acc (acc_rows rows) and returns the permutation; temporaries in a. */
static uint32_t *sort_perm(struct sort_op *s, struct arena *a)
{
  struct sort_ctx sc;
  sc.count = s->key_count;
  sc.keys = arena_alloc(a, sizeof *sc.keys * s->key_count);
  for (uint32_t k = 0; k < s->key_count; k++)
    prepare_key(a, s->acc[s->keys[k].column], s->acc_rows, &s->keys[k], &sc.keys[k]);
  uint32_t *perm = arena_alloc(a, sizeof *perm * (s->acc_rows ? s->acc_rows : 1));
  for (uint32_t i = 0; i < s->acc_rows; i++)
    perm[i] = i;
  qsort_r(perm, s->acc_rows, sizeof *perm, cmp_qsort, &sc);
  return perm;
}

static void acc_init(struct sort_op *s, struct arena *a, uint32_t capacity)
{
  s->acc = arena_alloc(a, sizeof *s->acc * s->base.column_count);
  for (uint32_t i = 0; i < s->base.column_count; i++)
    s->acc[i] = col_new_empty(a, s->base.types[i], capacity);
  s->acc_rows = 0;
}

/* Sort and keep the first `limit` rows, moving them into the other arena. */
static void compact(struct sort_op *s)
{
  struct arena *old = &s->bufs[s->cur], *nw = &s->bufs[1 - s->cur];
  uint32_t *perm = sort_perm(s, old);
  uint32_t keep = s->acc_rows < s->limit ? s->acc_rows : (uint32_t)s->limit;
  struct column **nacc = arena_alloc(nw, sizeof *nacc * s->base.column_count);
  if (keep == s->limit && keep > 0) {
    s->boundary = arena_alloc(nw, sizeof *s->boundary * s->key_count);
    for (uint32_t k = 0; k < s->key_count; k++)
      s->boundary[k] = column_take(nw, s->acc[s->keys[k].column], perm + keep - 1, 1);
  }
  for (uint32_t i = 0; i < s->base.column_count; i++) {
    struct column *t = column_take(nw, s->acc[i], perm, keep);
    /* ensure appendable storage with room for more rows */
    struct column *c = col_new_empty(nw, s->base.types[i], keep + 8192);
    column_append_range(c, t, 0, keep);
    nacc[i] = c;
  }
  arena_reset(old);
  s->acc = nacc;
  s->acc_rows = keep;
  s->cur = 1 - s->cur;
}

static bool topn_key_ok(const struct datatype *t)
{
  return key_fits_u64(t) && t->id != TYPE_NULLABLE;
}

/* Rank of value v of column type t for key k: order-preserving, direction
 * folded in, NaN placed like NULL (last unless NULLS FIRST). */
static void topn_ranks(struct arena *a, const struct column *c, uint32_t rows, const struct sort_key *k, uint64_t *out)
{
  struct sort_key_rt rt;
  prepare_key(a, c, rows, k, &rt);
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t u = rt.u[i];
    if (k->descending)
      u = ~u;
    if (rt.nan && rt.nan[i])
      u = k->nulls_first ? 0 : UINT64_MAX;
    out[i] = u;
  }
}

static inline int topn_cmp(const struct topn_entry *x, const struct topn_entry *y, uint32_t nk)
{
  for (uint32_t k = 0; k < nk; k++)
    if (x->rank[k] != y->rank[k])
      return x->rank[k] < y->rank[k] ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void heap_sift_down(struct topn_entry *h, uint32_t n, uint32_t i, uint32_t nk)
{
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && topn_cmp(&h[l], &h[m], nk) > 0)
      m = l;
    if (r < n && topn_cmp(&h[r], &h[m], nk) > 0)
      m = r;
    if (m == i)
      return;
    struct topn_entry t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

static void heap_sift_up(struct topn_entry *h, uint32_t i, uint32_t nk)
{
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (topn_cmp(&h[i], &h[p], nk) <= 0)
      return;
    struct topn_entry t = h[i];
    h[i] = h[p];
    h[p] = t;
    i = p;
  }
}

/* Moves the heap's rows into a fresh arena, dropping evicted candidates. */
static void topn_compact_acc(struct sort_op *s)
{
  struct arena *old = &s->bufs[s->cur], *nw = &s->bufs[1 - s->cur];
  uint32_t *rows = arena_alloc(nw, sizeof *rows * (s->heap_n ? s->heap_n : 1));
  for (uint32_t i = 0; i < s->heap_n; i++) {
    rows[i] = s->heap[i].acc_row;
    s->heap[i].acc_row = i;
  }
  struct column **nacc = arena_alloc(nw, sizeof *nacc * s->base.column_count);
  for (uint32_t c = 0; c < s->base.column_count; c++) {
    struct column *t = column_take(nw, s->acc[c], rows, s->heap_n);
    struct column *d = col_new_empty(nw, s->base.types[c], s->heap_n + 8192);
    column_append_range(d, t, 0, s->heap_n);
    nacc[c] = d;
  }
  arena_reset(old);
  s->acc = nacc;
  s->acc_rows = s->heap_n;
  s->cur = 1 - s->cur;
}

static void topn_consume(struct sort_op *s, struct block *in)
{
  struct arena *a = &s->base.scratch;
  uint32_t rows = in->rows, nk = s->key_count;
  uint64_t *ranks[TOPN_KEYS_MAX];
  for (uint32_t k = 0; k < nk; k++) {
    ranks[k] = arena_alloc(a, sizeof(uint64_t) * (rows ? rows : 1));
    struct column *c = in->columns[s->keys[k].column];
    topn_ranks(a, col_full(a, c, rows), rows, &s->keys[k], ranks[k]);
  }
  uint32_t *take = arena_alloc(a, sizeof *take * (rows ? rows : 1));
  uint32_t ntake = 0;
  for (uint32_t i = 0; i < rows; i++) {
    struct topn_entry e;
    for (uint32_t k = 0; k < nk; k++)
      e.rank[k] = ranks[k][i];
    e.seq = s->seq++;
    if (s->heap_n < s->limit) {
      e.acc_row = s->acc_rows + ntake;
      take[ntake++] = i;
      s->heap[s->heap_n] = e;
      heap_sift_up(s->heap, s->heap_n++, nk);
    } else if (topn_cmp(&e, &s->heap[0], nk) < 0) {
      e.acc_row = s->acc_rows + ntake;
      take[ntake++] = i;
      s->heap[0] = e;
      heap_sift_down(s->heap, s->heap_n, 0, nk);
    }
  }
  if (ntake) {
    for (uint32_t c = 0; c < s->base.column_count; c++) {
      struct column *t = column_take(a, in->columns[c], take, ntake);
      if (t->is_const)
        t = col_full(a, t, ntake);
      column_append_range(s->acc[c], t, 0, ntake);
    }
    s->acc_rows += ntake;
  }
  if (s->acc_rows > 4 * s->heap_n + 65536)
    topn_compact_acc(s);
}

static int topn_entry_cmp(const void *x, const void *y, void *arg)
{
  return topn_cmp(x, y, *(const uint32_t *)arg);
}

static void topn_finish(struct sort_op *s)
{
  uint32_t nk = s->key_count;
  qsort_r(s->heap, s->heap_n, sizeof *s->heap, topn_entry_cmp, &nk);
  uint32_t *perm = arena_alloc(&s->bufs[s->cur], sizeof *perm * (s->heap_n ? s->heap_n : 1));
  for (uint32_t i = 0; i < s->heap_n; i++)
    perm[i] = s->heap[i].acc_row;
  s->perm = perm;
  s->acc_rows = s->heap_n;
}

static int sort_next(struct op *op, struct block **out, struct error *err)
{
  struct sort_op *s = (struct sort_op *)op;
  if (!s->sorted) {
    for (;;) {
      struct block *in;
      int rc = op_next(op->children[0], &in, err);
      if (rc)
        return rc;
      if (!in)
        break;
      s->rows_in += in->rows;
      if (s->topn) {
        topn_consume(s, in);
        arena_reset(&op->scratch);
        continue;
      }
      if (s->boundary) {
        /* keep only rows that sort before the current limit-th row */
        uint8_t *keep = arena_alloc(&op->scratch, in->rows ? in->rows : 1);
        uint32_t kept = 0;
        for (uint32_t r = 0; r < in->rows; r++) {
          int c = 0;
          for (uint32_t k = 0; k < s->key_count && c == 0; k++) {
            const struct sort_key *sk = &s->keys[k];
            struct column *col = in->columns[sk->column];
            c = column_compare_rows(col, column_row(col, r), s->boundary[k], 0, sk->nulls_first != sk->descending);
            if (sk->descending)
              c = -c;
          }
          keep[r] = c < 0;
          kept += keep[r];
        }
        if (kept == 0) {
          arena_reset(&op->scratch);
          continue;
        }
        if (kept != in->rows) {
          struct block *f = block_create(&op->scratch, in->column_count);
          f->rows = kept;
          for (uint32_t i = 0; i < in->column_count; i++) {
            struct column *c = in->columns[i];
            f->columns[i] = c->is_const ? col_with_rows(&op->scratch, c, kept) : column_filter(&op->scratch, c, keep, kept);
          }
          in = f;
        }
      }
      for (uint32_t i = 0; i < op->column_count; i++) {
        struct column *c = in->columns[i];
        if (c->is_const)
          c = col_full(&op->scratch, c, in->rows);
        column_append_range(s->acc[i], c, 0, in->rows);
      }
      s->acc_rows += in->rows;
      arena_reset(&op->scratch);
      uint64_t threshold = s->limit * 2 > SORT_COMPACT_ROWS_MIN ? s->limit * 2 : SORT_COMPACT_ROWS_MIN;
      if (s->limit && s->acc_rows > threshold)
        compact(s);
    }
    if (s->topn) {
      topn_finish(s);
    } else {
      s->perm = sort_perm(s, &s->bufs[s->cur]);
      if (s->limit && s->acc_rows > s->limit)
        s->acc_rows = (uint32_t)s->limit;
    }
    s->sorted = true;
  }
  arena_reset(&op->scratch);
  if (s->emitted >= s->acc_rows) {
    *out = NULL;
    return 0;
  }
  uint32_t n = s->acc_rows - s->emitted;
  uint32_t max = exec_block_rows(op->ctx);
  if (n > max)
    n = max;
  struct block *b = block_create(&op->scratch, op->column_count);
  b->rows = n;
  b->names = op->names;
  for (uint32_t i = 0; i < op->column_count; i++)
    b->columns[i] = column_take(&op->scratch, s->acc[i], s->perm + s->emitted, n);
  s->emitted += n;
  *out = b;
  return 0;
}

static void sort_close(struct op *op)
{
  struct sort_op *s = (struct sort_op *)op;
  arena_destroy(&s->bufs[0]);
  arena_destroy(&s->bufs[1]);
}

static const struct op_vt sort_vt = { "Sorting", sort_next, sort_close };

uint64_t op_sort_rows_in(const struct op *op)
{
  return op->vt == &sort_vt ? ((const struct sort_op *)op)->rows_in : 0;
}

struct op *op_sort_create(struct query_context *ctx, struct op *child, const struct sort_key *keys, uint32_t count,
                          uint64_t limit)
{
  struct sort_op *s = (struct sort_op *)op_alloc(ctx, sizeof *s, &sort_vt);
  op_set_header(&s->base, child->column_count, child->names, child->types);
  s->keys = arena_alloc(ctx->arena, sizeof *s->keys * (count ? count : 1));
  memcpy(s->keys, keys, sizeof *keys * count);
  s->key_count = count;
  s->limit = limit;
  arena_init(&s->bufs[0], 1 << 20);
  arena_init(&s->bufs[1], 1 << 20);
  acc_init(s, &s->bufs[0], 8192);
  s->topn = limit > 0 && limit <= TOPN_LIMIT_MAX && count <= TOPN_KEYS_MAX;
  for (uint32_t k = 0; k < count && s->topn; k++)
    s->topn = topn_key_ok(child->types[keys[k].column]);
  if (s->topn)
    s->heap = arena_alloc(ctx->arena, sizeof *s->heap * limit);
  s->base.children = arena_alloc(ctx->arena, sizeof(struct op *));
  s->base.children[0] = child;
  s->base.child_count = 1;
  return &s->base;
}
