/* Stream operators: values, project, filter, limit/offset, LIMIT BY,
 * DISTINCT, UNION ALL, column selection and ARRAY JOIN. Each pulls blocks
 * from its child and produces blocks in its own scratch arena, which it
 * resets at the start of every next() — the previous output is dead by
 * then (operator contract, README.md), so memory stays flat while streaming. */
#include "query/exec_int.h"

#include <string.h>

#include "base/clock.h"
#include "base/timezone.h"

enum { OP_SCRATCH_CHUNK_BYTES = 256 * 1024 };

static void op_scratch_destroy(void *arg)
{
  struct op *op = arg;
  if (op->vt->close)
    op->vt->close(op);
  arena_destroy(&op->scratch);
}

struct op *op_alloc(struct query_context *ctx, size_t size, const struct op_vt *vt)
{
  struct op *op = arena_calloc(ctx->arena, 1, size);
  op->vt = vt;
  op->ctx = ctx;
  arena_init(&op->scratch, OP_SCRATCH_CHUNK_BYTES);
  arena_on_cleanup(ctx->arena, op_scratch_destroy, op);
  return op;
}

void op_set_header(struct op *op, uint32_t count, const char **names, const struct datatype **types)
{
  op->column_count = count;
  op->names = names;
  op->types = types;
}

void op_close_tree(struct op *op)
{
  (void)op; /* resources are released by the query arena's cleanups */
}

int exec_check_limits(struct query_context *ctx, struct error *err)
{
  if (atomic_load(&ctx->cancelled))
    return error_set(err, ERR_QUERY_WAS_CANCELLED, "Query was cancelled");
  if (ctx->settings) {
    double max_s = settings_get_f64(ctx->settings, "max_execution_time");
    if (max_s > 0) {
      double elapsed = (double)(clock_monotonic_ns() - ctx->stats.start_ns) / 1e9;
      if (elapsed > max_s)
        return error_set(err, ERR_TIMEOUT_EXCEEDED, "Timeout exceeded: elapsed %g seconds, maximum: %g", elapsed,
                         max_s);
    }
  }
  return 0;
}

uint32_t exec_block_rows(const struct query_context *ctx)
{
  uint64_t n = ctx->settings ? settings_get_u64(ctx->settings, "max_block_size") : BLOCK_ROWS_MAX;
  if (n == 0 || n > BLOCK_ROWS_MAX)
    n = BLOCK_ROWS_MAX;
  return (uint32_t)n;
}

const char *exec_timezone_name(const struct query_context *ctx)
{
  if (ctx->settings) {
    const char *s = settings_get_str(ctx->settings, "session_timezone");
    if (s && *s)
      return s;
  }
  if (ctx->server && ctx->server->timezone && *ctx->server->timezone)
    return ctx->server->timezone;
  return "UTC";
}

const struct time_zone *exec_timezone(const struct query_context *ctx)
{
  const struct time_zone *tz = timezone_get(exec_timezone_name(ctx));
  return tz ? tz : timezone_utc();
}

static struct block *block_new(struct arena *a, uint32_t count, uint32_t rows, const char **names)
{
  struct block *b = block_create(a, count);
  b->rows = rows;
  b->names = names;
  return b;
}

/* ======================================================================
 * values: pre-built blocks
 * ====================================================================== */

struct values_op {
  struct op base;
  struct block **blocks;
  uint32_t count;
  uint32_t next;
};

static int values_next(struct op *op, struct block **out, struct error *err)
{
  struct values_op *v = (struct values_op *)op;
  (void)err;
  while (v->next < v->count) {
    struct block *b = v->blocks[v->next++];
    if (b->rows) {
      *out = b;
      return 0;
    }
  }
  *out = NULL;
  return 0;
}

static const struct op_vt values_vt = { "Values", values_next, NULL };

struct op *op_values_create(struct query_context *ctx, uint32_t count, const char **names,
                            const struct datatype **types, struct block **blocks, uint32_t block_count)
{
  struct values_op *v = (struct values_op *)op_alloc(ctx, sizeof *v, &values_vt);
  op_set_header(&v->base, count, names, types);
  v->blocks = blocks;
  v->count = block_count;
  return &v->base;
}

/* ======================================================================
 * project: evaluates expressions over each block
 * ====================================================================== */

struct project_op {
  struct op base;
  struct expr **exprs;
};

static int project_next(struct op *op, struct block **out, struct error *err)
{
  struct project_op *p = (struct project_op *)op;
  struct block *in;
  int rc = op_next(op->children[0], &in, err);
  if (rc || !in) {
    *out = NULL;
    return rc;
  }
  arena_reset(&op->scratch);
  struct block *b = block_new(&op->scratch, op->column_count, in->rows, op->names);
  struct eval ev = { .ctx = op->ctx, .arena = &op->scratch, .input = in, .rows = in->rows };
  for (uint32_t i = 0; i < op->column_count; i++) {
    rc = expr_eval(&ev, p->exprs[i], &b->columns[i], err);
    if (rc)
      return rc;
  }
  *out = b;
  return 0;
}

static const struct op_vt project_vt = { "Expression", project_next, NULL };

struct op *op_project_create(struct query_context *ctx, struct op *child, struct expr **exprs, uint32_t count,
                             const char **names)
{
  struct project_op *p = (struct project_op *)op_alloc(ctx, sizeof *p, &project_vt);
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types * (count ? count : 1));
  for (uint32_t i = 0; i < count; i++)
    types[i] = exprs[i]->type;
  op_set_header(&p->base, count, names, types);
  p->exprs = exprs;
  p->base.children = arena_alloc(ctx->arena, sizeof(struct op *));
  p->base.children[0] = child;
  p->base.child_count = 1;
  return &p->base;
}

/* ======================================================================
 * filter: keeps rows where the predicate is true (non-zero, not NULL)
 * ====================================================================== */

struct filter_op {
  struct op base;
  struct expr *predicate;
};

static int filter_next(struct op *op, struct block **out, struct error *err)
{
  struct filter_op *f = (struct filter_op *)op;
  for (;;) {
    struct block *in;
    int rc = op_next(op->children[0], &in, err);
    if (rc || !in) {
      *out = NULL;
      return rc;
    }
    arena_reset(&op->scratch);
    struct eval ev = { .ctx = op->ctx, .arena = &op->scratch, .input = in, .rows = in->rows };
    struct column *pc;
    rc = expr_eval(&ev, f->predicate, &pc, err);
    if (rc)
      return rc;
    const uint8_t *keep = col_as_bool(&op->scratch, pc, in->rows);
    if (pc->is_const) {
      if (keep[0]) {
        *out = in;
        return 0;
      }
      continue;
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < in->rows; i++)
      kept += keep[i];
    if (kept == 0)
      continue;
    if (kept == in->rows) {
      *out = in;
      return 0;
    }
    struct block *b = block_new(&op->scratch, in->column_count, kept, in->names);
    for (uint32_t i = 0; i < in->column_count; i++) {
      struct column *c = in->columns[i];
      b->columns[i] = c->is_const ? col_with_rows(&op->scratch, c, kept) : column_filter(&op->scratch, c, keep, kept);
    }
    *out = b;
    return 0;
  }
}

static const struct op_vt filter_vt = { "Filter", filter_next, NULL };

struct op *op_filter_create(struct query_context *ctx, struct op *child, struct expr *predicate)
{
  struct filter_op *f = (struct filter_op *)op_alloc(ctx, sizeof *f, &filter_vt);
  op_set_header(&f->base, child->column_count, child->names, child->types);
  f->predicate = predicate;
  f->base.children = arena_alloc(ctx->arena, sizeof(struct op *));
  f->base.children[0] = child;
  f->base.child_count = 1;
  return &f->base;
}

/* ======================================================================
 * limit / offset
 * ====================================================================== */

struct limit_op {
  struct op base;
  uint64_t limit, offset;
  bool has_limit;
  bool track;                    /* top level: feeds stats.rows_before_limit */
  uint64_t seen;                 /* rows consumed from the child */
  uint64_t emitted;
  bool done;
};

static int limit_next(struct op *op, struct block **out, struct error *err)
{
  struct limit_op *l = (struct limit_op *)op;
  *out = NULL;
  if (l->done)
    return 0;
  for (;;) {
    if (l->has_limit && l->emitted >= l->limit) {
      l->done = true;
      return 0;
    }
    struct block *in;
    int rc = op_next(op->children[0], &in, err);
    if (rc)
      return rc;
    if (!in) {
      l->done = true;
      return 0;
    }
    uint64_t start_row = l->seen;
    l->seen += in->rows;
    if (l->track) {
      uint64_t before = op_sort_rows_in(op->children[0]);
      op->ctx->stats.rows_before_limit = before > l->seen ? before : l->seen;
    }
    /* rows of this block at positions [start_row, start_row + rows) */
    uint64_t from = l->offset > start_row ? l->offset - start_row : 0;
    if (from >= in->rows)
      continue;
    uint64_t take = in->rows - from;
    if (l->has_limit && take > l->limit - l->emitted)
      take = l->limit - l->emitted;
    l->emitted += take;
    if (from == 0 && take == in->rows) {
      *out = in;
      return 0;
    }
    arena_reset(&op->scratch);
    struct block *b = block_new(&op->scratch, in->column_count, (uint32_t)take, in->names);
    for (uint32_t i = 0; i < in->column_count; i++) {
      struct column *c = in->columns[i];
      b->columns[i] = c->is_const ? col_with_rows(&op->scratch, c, (uint32_t)take)
                                  : column_slice(&op->scratch, c, (uint32_t)from, (uint32_t)take);
    }
    *out = b;
    return 0;
  }
}

static const struct op_vt limit_vt = { "Limit", limit_next, NULL };

struct op *op_limit_create(struct query_context *ctx, struct op *child, uint64_t limit, uint64_t offset,
                           bool has_limit, bool track_rows_before_limit)
{
  struct limit_op *l = (struct limit_op *)op_alloc(ctx, sizeof *l, &limit_vt);
  op_set_header(&l->base, child->column_count, child->names, child->types);
  l->limit = limit;
  l->offset = offset;
  l->has_limit = has_limit;
  l->track = track_rows_before_limit;
  if (track_rows_before_limit)
    ctx->stats.has_limit = has_limit;
  l->base.children = arena_alloc(ctx->arena, sizeof(struct op *));
  l->base.children[0] = child;
  l->base.child_count = 1;
  return &l->base;
}

/* ======================================================================
 * LIMIT n OFFSET m BY keys
 * ====================================================================== */

struct limit_by_op {
  struct op base;
  uint32_t *keys;
  uint32_t key_count;
  uint64_t limit, offset;
  struct key_table seen;
  uint64_t *counts;
  uint64_t counts_cap;
  struct buf kb;
};

static void limit_by_close(struct op *op)
{
  struct limit_by_op *l = (struct limit_by_op *)op;
  buf_free(&l->kb);
}

static int limit_by_next(struct op *op, struct block **out, struct error *err)
{
  struct limit_by_op *l = (struct limit_by_op *)op;
  for (;;) {
    struct block *in;
    int rc = op_next(op->children[0], &in, err);
    if (rc || !in) {
      *out = NULL;
      return rc;
    }
    arena_reset(&op->scratch);
    uint8_t *keep = arena_alloc(&op->scratch, in->rows ? in->rows : 1);
    uint32_t kept = 0;
    for (uint32_t r = 0; r < in->rows; r++) {
      buf_reset(&l->kb);
      for (uint32_t k = 0; k < l->key_count; k++)
        key_serialize(&l->kb, in->columns[l->keys[k]], r);
      bool is_new;
      uint32_t id = key_table_insert(&l->seen, l->kb.data, l->kb.len, hash_bytes(l->kb.data, l->kb.len), &is_new);
      if (id >= l->counts_cap) {
        uint64_t ncap = l->counts_cap ? l->counts_cap * 2 : 1024;
        l->counts = arena_realloc(op->ctx->arena, l->counts, l->counts_cap * sizeof *l->counts, ncap * sizeof *l->counts);
        memset(l->counts + l->counts_cap, 0, (ncap - l->counts_cap) * sizeof *l->counts);
        l->counts_cap = ncap;
      }
      uint64_t n = l->counts[id]++;
      keep[r] = n >= l->offset && n < l->offset + l->limit;
      kept += keep[r];
    }
    if (kept == 0)
      continue;
    if (kept == in->rows) {
      *out = in;
      return 0;
    }
    struct block *b = block_new(&op->scratch, in->column_count, kept, in->names);
    for (uint32_t i = 0; i < in->column_count; i++) {
      struct column *c = in->columns[i];
      b->columns[i] = c->is_const ? col_with_rows(&op->scratch, c, kept) : column_filter(&op->scratch, c, keep, kept);
    }
    *out = b;
    return 0;
  }
}

static const struct op_vt limit_by_vt = { "LimitBy", limit_by_next, limit_by_close };

struct op *op_limit_by_create(struct query_context *ctx, struct op *child, const uint32_t *key_columns,
                              uint32_t key_count, uint64_t limit, uint64_t offset)
{
  struct limit_by_op *l = (struct limit_by_op *)op_alloc(ctx, sizeof *l, &limit_by_vt);
  op_set_header(&l->base, child->column_count, child->names, child->types);
  l->keys = arena_alloc(ctx->arena, sizeof *l->keys * (key_count ? key_count : 1));
  memcpy(l->keys, key_columns, sizeof *l->keys * key_count);
  l->key_count = key_count;
  l->limit = limit;
  l->offset = offset;
  key_table_init(&l->seen, ctx->arena);
  buf_init(&l->kb);
  l->base.children = arena_alloc(ctx->arena, sizeof(struct op *));
  l->base.children[0] = child;
  l->base.child_count = 1;
  return &l->base;
}

/* ======================================================================
 * DISTINCT over the first `key_columns` columns
 * ====================================================================== */

struct distinct_op {
  struct op base;
  uint32_t key_columns;
  uint64_t limit_hint;
  struct key_table seen;
  struct buf kb;
};

static void distinct_close(struct op *op)
{
  struct distinct_op *d = (struct distinct_op *)op;
  buf_free(&d->kb);
}

static int distinct_next(struct op *op, struct block **out, struct error *err)
{
  struct distinct_op *d = (struct distinct_op *)op;
  for (;;) {
    if (d->limit_hint && d->seen.count >= d->limit_hint) {
      *out = NULL;
      return 0;
    }
    struct block *in;
    int rc = op_next(op->children[0], &in, err);
    if (rc || !in) {
      *out = NULL;
      return rc;
    }
    arena_reset(&op->scratch);
    uint8_t *keep = arena_alloc(&op->scratch, in->rows ? in->rows : 1);
    uint32_t kept = 0;
    for (uint32_t r = 0; r < in->rows; r++) {
      buf_reset(&d->kb);
      for (uint32_t k = 0; k < d->key_columns; k++)
        key_serialize(&d->kb, in->columns[k], r);
      bool is_new;
      key_table_insert(&d->seen, d->kb.data, d->kb.len, hash_bytes(d->kb.data, d->kb.len), &is_new);
      keep[r] = is_new;
      kept += is_new;
    }
    if (kept == 0)
      continue;
    if (kept == in->rows) {
      *out = in;
      return 0;
    }
    struct block *b = block_new(&op->scratch, in->column_count, kept, in->names);
    for (uint32_t i = 0; i < in->column_count; i++) {
      struct column *c = in->columns[i];
      b->columns[i] = c->is_const ? col_with_rows(&op->scratch, c, kept) : column_filter(&op->scratch, c, keep, kept);
    }
    *out = b;
    return 0;
  }
}

static const struct op_vt distinct_vt = { "Distinct", distinct_next, distinct_close };

struct op *op_distinct_create(struct query_context *ctx, struct op *child, uint32_t key_columns, uint64_t limit_hint)
{
  struct distinct_op *d = (struct distinct_op *)op_alloc(ctx, sizeof *d, &distinct_vt);
  op_set_header(&d->base, child->column_count, child->names, child->types);
  d->key_columns = key_columns;
  d->limit_hint = limit_hint;
  key_table_init(&d->seen, ctx->arena);
  buf_init(&d->kb);
  d->base.children = arena_alloc(ctx->arena, sizeof(struct op *));
  d->base.children[0] = child;
  d->base.child_count = 1;
  return &d->base;
}

/* ======================================================================
 * UNION ALL: children in order (headers already aligned by the planner)
 * ====================================================================== */

struct union_op {
  struct op base;
  uint32_t current;
};

static int union_next(struct op *op, struct block **out, struct error *err)
{
  struct union_op *u = (struct union_op *)op;
  while (u->current < op->child_count) {
    struct block *in;
    int rc = op_next(op->children[u->current], &in, err);
    if (rc)
      return rc;
    if (in) {
      in->names = op->names;
      *out = in;
      return 0;
    }
    u->current++;
  }
  *out = NULL;
  return 0;
}

static const struct op_vt union_vt = { "Union", union_next, NULL };

struct op *op_union_create(struct query_context *ctx, struct op **children, uint32_t count)
{
  struct union_op *u = (struct union_op *)op_alloc(ctx, sizeof *u, &union_vt);
  op_set_header(&u->base, children[0]->column_count, children[0]->names, children[0]->types);
  u->base.children = children;
  u->base.child_count = count;
  return &u->base;
}

/* ======================================================================
 * keep the first `count` columns (drops hidden sort/limit-by columns)
 * ====================================================================== */

static int keep_next(struct op *op, struct block **out, struct error *err)
{
  struct block *in;
  int rc = op_next(op->children[0], &in, err);
  if (rc || !in) {
    *out = NULL;
    return rc;
  }
  arena_reset(&op->scratch);
  struct block *b = block_new(&op->scratch, op->column_count, in->rows, op->names);
  for (uint32_t i = 0; i < op->column_count; i++)
    b->columns[i] = in->columns[i];
  *out = b;
  return 0;
}

static const struct op_vt keep_vt = { "KeepColumns", keep_next, NULL };

struct op *op_keep_columns_create(struct query_context *ctx, struct op *child, uint32_t count)
{
  struct op *op = op_alloc(ctx, sizeof *op, &keep_vt);
  op_set_header(op, count, child->names, child->types);
  op->children = arena_alloc(ctx->arena, sizeof(struct op *));
  op->children[0] = child;
  op->child_count = 1;
  return op;
}

/* ======================================================================
 * ARRAY JOIN: appends one column per array, repeating the other columns
 * once per element (LEFT: empty arrays keep one row with defaults)
 * ====================================================================== */

struct array_join_op {
  struct op base;
  struct array_join_spec spec;
};

static int array_join_next(struct op *op, struct block **out, struct error *err)
{
  struct array_join_op *aj = (struct array_join_op *)op;
  for (;;) {
    struct block *in;
    int rc = op_next(op->children[0], &in, err);
    if (rc || !in) {
      *out = NULL;
      return rc;
    }
    arena_reset(&op->scratch);
    struct arena *a = &op->scratch;
    struct eval ev = { .ctx = op->ctx, .arena = a, .input = in, .rows = in->rows };
    uint32_t n = aj->spec.count;
    struct column **arrs = arena_alloc(a, sizeof *arrs * n);
    for (uint32_t k = 0; k < n; k++) {
      rc = expr_eval(&ev, aj->spec.arrays[k], &arrs[k], err);
      if (rc)
        return rc;
      arrs[k] = col_full(a, arrs[k], in->rows);
    }
    /* sizes must match across arrays */
    uint64_t total = 0;
    uint32_t *lens = arena_alloc(a, sizeof *lens * (in->rows ? in->rows : 1));
    for (uint32_t r = 0; r < in->rows; r++) {
      uint64_t s, e;
      column_array_range(arrs[0], r, &s, &e);
      uint32_t len = (uint32_t)(e - s);
      for (uint32_t k = 1; k < n; k++) {
        uint64_t s2, e2;
        column_array_range(arrs[k], r, &s2, &e2);
        if (e2 - s2 != len)
          return error_set(err, ERR_SIZES_OF_ARRAYS_DONT_MATCH, "Sizes of ARRAY-JOIN-ed arrays do not match");
      }
      lens[r] = len;
      total += len ? len : (aj->spec.left ? 1 : 0);
    }
    if (total == 0)
      continue;
    if (total > UINT32_MAX)
      return error_set(err, ERR_LIMIT_EXCEEDED, "ARRAY JOIN produced too many rows in one block");
    uint32_t *rep = arena_alloc(a, sizeof *rep * total);
    uint32_t j = 0;
    for (uint32_t r = 0; r < in->rows; r++) {
      uint32_t c = lens[r] ? lens[r] : (aj->spec.left ? 1 : 0);
      for (uint32_t i = 0; i < c; i++)
        rep[j++] = r;
    }
    struct block *b = block_new(a, op->column_count, (uint32_t)total, op->names);
    for (uint32_t i = 0; i < in->column_count; i++) {
      struct column *c = in->columns[i];
      b->columns[i] = c->is_const ? col_with_rows(a, c, (uint32_t)total) : column_take(a, c, rep, (uint32_t)total);
    }
    for (uint32_t k = 0; k < n; k++) {
      struct column *arr = arrs[k];
      const struct datatype *et = op->types[in->column_count + k];
      struct column *res;
      if (arr->type->id == TYPE_MAP) {
        /* Map joins as Tuple(key, value) elements */
        struct column *t = col_new(a, et, 0);
        t->children[0] = col_new_empty(a, et->children[0], (uint32_t)total);
        t->children[1] = col_new_empty(a, et->children[1], (uint32_t)total);
        for (uint32_t r = 0; r < in->rows; r++) {
          uint64_t s, e;
          column_array_range(arr, r, &s, &e);
          if (s == e && aj->spec.left) {
            column_append_default(t->children[0]);
            column_append_default(t->children[1]);
          }
          for (uint64_t x = s; x < e; x++) {
            column_append_from(t->children[0], arr->children[0], (uint32_t)x);
            column_append_from(t->children[1], arr->children[1], (uint32_t)x);
          }
        }
        t->rows = (uint32_t)total;
        res = t;
      } else if (!aj->spec.left) {
        uint64_t s0, e0, sN, eN;
        column_array_range(arr, 0, &s0, &e0);
        column_array_range(arr, in->rows - 1, &sN, &eN);
        res = column_slice(a, arr->children[0], (uint32_t)s0, (uint32_t)(eN - s0));
      } else {
        res = col_new_empty(a, et, (uint32_t)total);
        for (uint32_t r = 0; r < in->rows; r++) {
          uint64_t s, e;
          column_array_range(arr, r, &s, &e);
          if (s == e)
            column_append_default(res);
          else
            column_append_range(res, arr->children[0], (uint32_t)s, (uint32_t)(e - s));
        }
      }
      b->columns[in->column_count + k] = res;
    }
    *out = b;
    return 0;
  }
}

static const struct op_vt array_join_vt = { "ArrayJoin", array_join_next, NULL };

struct op *op_array_join_create(struct query_context *ctx, struct op *child, const struct array_join_spec *spec,
                                const char **names)
{
  struct array_join_op *aj = (struct array_join_op *)op_alloc(ctx, sizeof *aj, &array_join_vt);
  uint32_t count = child->column_count + spec->count;
  const char **nm = arena_alloc(ctx->arena, sizeof *nm * count);
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types * count);
  for (uint32_t i = 0; i < child->column_count; i++) {
    nm[i] = child->names[i];
    types[i] = child->types[i];
  }
  for (uint32_t k = 0; k < spec->count; k++) {
    const struct datatype *t = spec->arrays[k]->type;
    nm[child->column_count + k] = names[k];
    if (t->id == TYPE_MAP) {
      const struct datatype *kv[2] = { t->children[0], t->children[1] };
      types[child->column_count + k] = datatype_tuple(ctx->arena, kv, NULL, 2);
    } else {
      types[child->column_count + k] = t->children[0];
    }
  }
  op_set_header(&aj->base, count, nm, types);
  aj->spec = *spec;
  aj->base.children = arena_alloc(ctx->arena, sizeof(struct op *));
  aj->base.children[0] = child;
  aj->base.child_count = 1;
  return &aj->base;
}
