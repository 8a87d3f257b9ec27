/* JOIN: a hash join as ClickHouse runs it. The right child is read fully
 * into one block and a table from its serialized join keys to the rows
 * that carry them (in arrival order); the left child then streams through
 * and each block is probed. Rows whose keys hold a NULL, or that fail the
 * side's ON-only condition, never match. RIGHT and FULL joins emit the
 * right rows nobody matched after the left side ends. Non-matched sides get
 * the type's default values, or NULL when the output column is Nullable
 * (join_use_nulls = 1: the analyzer chose the output types). */
#include "query/exec_int.h"

#include <string.h>

enum { JOIN_NONE = UINT32_MAX };

struct join_op {
  struct op base;
  struct join_spec spec;
  uint32_t left_count, right_count;   /* columns of each child in the output */
  struct arena build;                 /* the right side, its keys and the table */
  struct arena probe;                 /* the current left block's keys */
  bool built;
  struct block *right;                /* all right rows (columns accumulated) */
  struct column **right_keys;         /* the right key columns, accumulated */
  uint32_t right_rows;
  struct key_table table;
  uint32_t key_ids;                   /* distinct keys */
  uint32_t *row_key;                  /* per right row: key id or JOIN_NONE */
  uint32_t *key_start;                /* CSR: rows of key id k are key_rows[key_start[k] .. key_start[k+1]) */
  uint32_t *key_rows;
  uint8_t *row_used;                  /* RIGHT/FULL, ANY RIGHT: right row joined */
  uint8_t *key_used;                  /* ANY INNER: key joined once */
  struct buf kb;
  /* probe state */
  struct block *cur;                  /* the left block being probed (valid until the left child's next) */
  struct column **cur_keys;
  uint32_t *cur_ids;                  /* per left row: key id or JOIN_NONE */
  uint32_t cur_row;                   /* next left row to probe */
  uint32_t cur_match;                 /* next position in the current row's match list */
  bool left_done;
  uint32_t tail_row;                  /* RIGHT/FULL: next right row to check for the tail */
  uint32_t *out_l, *out_r;            /* pairs of the block being built */
};

static void join_close(struct op *op)
{
  struct join_op *j = (struct join_op *)op;
  buf_free(&j->kb);
  arena_destroy(&j->build);
  arena_destroy(&j->probe);
}

/* Evaluates the key expressions of one side over a block (full columns). */
static int eval_keys(struct op *op, struct expr **keys, uint32_t n, const struct block *in, struct arena *a,
                     struct column **out, struct error *err)
{
  struct eval ev = { .ctx = op->ctx, .arena = a, .input = in, .rows = in->rows };
  for (uint32_t k = 0; k < n; k++) {
    struct column *c;
    int rc = expr_eval(&ev, keys[k], &c, err);
    if (rc)
      return rc;
    if (c->is_const)
      c = col_full(a, c, in->rows);
    out[k] = c;
  }
  return 0;
}

/* A condition as a truth vector (NULL = everything passes). */
static int eval_cond(struct op *op, const struct expr *cond, const struct block *in, struct arena *a,
                     const uint8_t **out, struct error *err)
{
  *out = NULL;
  if (!cond)
    return 0;
  struct eval ev = { .ctx = op->ctx, .arena = a, .input = in, .rows = in->rows };
  struct column *c;
  int rc = expr_eval(&ev, cond, &c, err);
  if (rc)
    return rc;
  if (c->is_const)
    c = col_full(a, c, in->rows);
  *out = col_as_bool(a, c, in->rows);
  return 0;
}

/* Serializes the keys of row r into j->kb; false when one of them is NULL. */
static bool key_of_row(struct join_op *j, struct column **keys, uint32_t r)
{
  buf_reset(&j->kb);
  for (uint32_t k = 0; k < j->spec.key_count; k++) {
    if (column_is_null(keys[k], r))
      return false;
    key_serialize(&j->kb, keys[k], r);
  }
  return true;
}

static uint64_t right_bytes(const struct join_op *j)
{
  uint64_t n = 0;
  for (uint32_t i = 0; i < j->right_count; i++)
    n += column_byte_size(j->right->columns[i]);
  for (uint32_t k = 0; k < j->spec.key_count; k++)
    n += column_byte_size(j->right_keys[k]);
  n += j->table.cap * (sizeof(uint64_t) + sizeof(uint32_t)) + (uint64_t)j->right_rows * sizeof(uint32_t);
  return n;
}

/* Reads the whole right side and builds the key table. */
static int join_build(struct join_op *j, struct error *err)
{
  struct op *right = j->base.children[1];
  struct arena *a = &j->build;
  j->right = block_create(a, j->right_count);
  j->right->names = right->names;
  for (uint32_t i = 0; i < j->right_count; i++)
    j->right->columns[i] = col_new_empty(a, right->types[i], 16);
  uint32_t kc = j->spec.key_count;
  j->right_keys = arena_calloc(a, kc ? kc : 1, sizeof *j->right_keys);
  for (uint32_t k = 0; k < kc; k++)
    j->right_keys[k] = col_new_empty(a, j->spec.right_keys[k]->type, 16);
  key_table_init(&j->table, a);
  uint64_t row_cap = 0;
  struct arena tmp;
  arena_init(&tmp, 0);
  int rc = 0;
  for (;;) {
    struct block *in;
    if ((rc = op_next(right, &in, err)))
      goto out_tmp;
    if (!in)
      break;
    if (in->rows == 0)
      continue;
    if ((uint64_t)j->right_rows + in->rows >= JOIN_NONE) {
      rc = error_set(err, ERR_TOO_MANY_ROWS, "Too many rows in the right table of JOIN");
      goto out_tmp;
    }
    arena_reset(&tmp);
    struct column **keys = arena_calloc(&tmp, kc ? kc : 1, sizeof *keys);
    const uint8_t *pass;
    if ((rc = eval_keys(&j->base, j->spec.right_keys, kc, in, &tmp, keys, err)) ||
        (rc = eval_cond(&j->base, j->spec.right_cond, in, &tmp, &pass, err)))
      goto out_tmp;
    for (uint32_t i = 0; i < j->right_count; i++) {
      struct column *c = in->columns[i];
      if (c->is_const)
        c = col_full(&tmp, c, in->rows);
      column_append_range(j->right->columns[i], c, 0, in->rows);
    }
    for (uint32_t k = 0; k < kc; k++)
      column_append_range(j->right_keys[k], keys[k], 0, in->rows);
    if (j->right_rows + in->rows > row_cap) {
      uint64_t nc = row_cap ? row_cap * 2 : 1024;
      while (nc < (uint64_t)j->right_rows + in->rows)
        nc *= 2;
      j->row_key = arena_realloc(a, j->row_key, row_cap * sizeof *j->row_key, nc * sizeof *j->row_key);
      row_cap = nc;
    }
    for (uint32_t r = 0; r < in->rows; r++) {
      uint32_t id = JOIN_NONE;
      if ((!pass || pass[r]) && key_of_row(j, keys, r)) {
        bool is_new;
        id = key_table_insert(&j->table, j->kb.data ? j->kb.data : "", j->kb.len,
                              hash_bytes(j->kb.data ? j->kb.data : "", j->kb.len), &is_new);
      }
      j->row_key[j->right_rows + r] = id;
    }
    j->right_rows += in->rows;
    j->right->rows = j->right_rows;
    if (j->spec.memory_max && right_bytes(j) > j->spec.memory_max) {
      rc = error_set(err, ERR_MEMORY_LIMIT_EXCEEDED,
                     "Memory limit (for query) exceeded: the right table of JOIN would use %llu bytes, "
                     "maximum: %llu bytes (max_memory_usage)",
                     (unsigned long long)right_bytes(j), (unsigned long long)j->spec.memory_max);
      goto out_tmp;
    }
  }
  /* rows of each key, in arrival order */
  j->key_ids = (uint32_t)j->table.count;
  j->key_start = arena_calloc(a, (size_t)j->key_ids + 1, sizeof *j->key_start);
  j->key_rows = arena_alloc(a, sizeof *j->key_rows * (j->right_rows ? j->right_rows : 1));
  for (uint32_t r = 0; r < j->right_rows; r++)
    if (j->row_key[r] != JOIN_NONE)
      j->key_start[j->row_key[r] + 1]++;
  for (uint32_t k = 0; k < j->key_ids; k++)
    j->key_start[k + 1] += j->key_start[k];
  uint32_t *fill = arena_alloc(&tmp, sizeof *fill * (j->key_ids ? j->key_ids : 1));
  memcpy(fill, j->key_start, sizeof *fill * j->key_ids);
  for (uint32_t r = 0; r < j->right_rows; r++)
    if (j->row_key[r] != JOIN_NONE)
      j->key_rows[fill[j->row_key[r]]++] = r;
  enum ast_join_kind kind = j->spec.kind;
  if (kind == JOIN_RIGHT || kind == JOIN_FULL)
    j->row_used = arena_calloc(a, j->right_rows ? j->right_rows : 1, 1);
  if (kind == JOIN_INNER && j->spec.strictness == JOIN_STRICT_ANY)
    j->key_used = arena_calloc(a, j->key_ids ? j->key_ids : 1, 1);
  j->built = true;
out_tmp:
  arena_destroy(&tmp);
  return rc;
}

/* Fetches the next left block and computes its key ids. */
static int probe_fetch(struct join_op *j, struct error *err)
{
  struct op *left = j->base.children[0];
  for (;;) {
    struct block *in;
    int rc = op_next(left, &in, err);
    if (rc)
      return rc;
    if (!in) {
      j->cur = NULL;
      j->left_done = true;
      return 0;
    }
    if (in->rows == 0)
      continue;
    arena_reset(&j->probe);
    uint32_t kc = j->spec.key_count;
    j->cur_keys = arena_calloc(&j->probe, kc ? kc : 1, sizeof *j->cur_keys);
    const uint8_t *pass;
    if ((rc = eval_keys(&j->base, j->spec.left_keys, kc, in, &j->probe, j->cur_keys, err)) ||
        (rc = eval_cond(&j->base, j->spec.left_cond, in, &j->probe, &pass, err)))
      return rc;
    j->cur_ids = arena_alloc(&j->probe, sizeof *j->cur_ids * in->rows);
    for (uint32_t r = 0; r < in->rows; r++) {
      int64_t id = -1;
      if ((!pass || pass[r]) && j->key_ids && key_of_row(j, j->cur_keys, r))
        id = key_table_find(&j->table, j->kb.data ? j->kb.data : "", j->kb.len,
                            hash_bytes(j->kb.data ? j->kb.data : "", j->kb.len));
      j->cur_ids[r] = id < 0 ? JOIN_NONE : (uint32_t)id;
    }
    j->cur = in;
    j->cur_row = 0;
    j->cur_match = 0;
    return 0;
  }
}

/* Pairs for left rows of the current block until `cap` pairs; returns the count. */
static uint32_t probe_pairs(struct join_op *j, uint32_t cap)
{
  uint32_t n = 0;
  enum ast_join_kind kind = j->spec.kind;
  bool any = j->spec.strictness == JOIN_STRICT_ANY;
  bool keep_left = kind == JOIN_LEFT || kind == JOIN_FULL;
  while (j->cur_row < j->cur->rows && n < cap) {
    uint32_t r = j->cur_row;
    uint32_t id = j->cur_ids[r];
    uint32_t b = 0, e = 0;
    if (id != JOIN_NONE) {
      b = j->key_start[id];
      e = j->key_start[id + 1];
    }
    if (b == e) {
      if (keep_left) {
        j->out_l[n] = r;
        j->out_r[n++] = JOIN_NONE;
      }
      j->cur_row++;
      j->cur_match = 0;
      continue;
    }
    if (any && kind != JOIN_RIGHT) {
      /* ANY LEFT: the first right row; ANY INNER: each key joins once */
      bool take = true;
      if (j->key_used) {
        take = !j->key_used[id];
        j->key_used[id] = 1;
      }
      if (take) {
        j->out_l[n] = r;
        j->out_r[n++] = j->key_rows[b];
        if (j->row_used)
          j->row_used[j->key_rows[b]] = 1;
      } else if (keep_left) {
        j->out_l[n] = r;
        j->out_r[n++] = JOIN_NONE;
      }
      j->cur_row++;
      j->cur_match = 0;
      continue;
    }
    uint32_t pos = b + j->cur_match;
    while (pos < e && n < cap) {
      uint32_t rr = j->key_rows[pos++];
      if (any) {
        /* ANY RIGHT: each right row joins the first left row that finds it */
        if (j->row_used[rr])
          continue;
      }
      j->out_l[n] = r;
      j->out_r[n++] = rr;
      if (j->row_used)
        j->row_used[rr] = 1;
    }
    if (pos < e) {
      j->cur_match = pos - b;
      break;
    }
    j->cur_row++;
    j->cur_match = 0;
  }
  return n;
}

/* One output column from `src` rows picked by idx (JOIN_NONE = no row:
 * the default value, or NULL when `to` is Nullable). */
static struct column *take_rows(struct arena *a, const struct column *src, uint32_t src_rows,
                                const struct datatype *to, const uint32_t *idx, uint32_t n)
{
  const struct column *c = src;
  if (c->is_const)
    c = col_full(a, c, src_rows);
  bool missing = false;
  for (uint32_t i = 0; i < n && !missing; i++)
    missing = idx[i] == JOIN_NONE;
  bool wrap = to->id == TYPE_NULLABLE && c->type->id != TYPE_NULLABLE;
  if (wrap && c->type->id == TYPE_LOW_CARDINALITY)
    c = col_strip_lc(a, c);
  struct column *out;
  if (!missing) {
    out = column_take(a, c, idx, n);
  } else {
    out = col_new_empty(a, c->type, n);
    for (uint32_t i = 0; i < n; i++) {
      if (idx[i] == JOIN_NONE)
        column_append_default(out);
      else
        column_append_from(out, c, idx[i]);
    }
  }
  if (!wrap)
    return out;
  uint8_t *nulls = NULL;
  if (missing) {
    nulls = arena_alloc(a, n);
    for (uint32_t i = 0; i < n; i++)
      nulls[i] = idx[i] == JOIN_NONE;
  }
  return col_wrap_nullable(a, out, nulls);
}

/* A merged USING column: the left key where the left row exists, else the right key. */
static struct column *merge_rows(struct arena *a, const struct column *lk, const struct column *rk,
                                 const uint32_t *li, const uint32_t *ri, uint32_t n)
{
  const struct column *proto = lk ? lk : rk;
  struct column *out = col_new_empty(a, proto->type, n);
  for (uint32_t i = 0; i < n; i++) {
    if (li[i] != JOIN_NONE && lk)
      column_append_from(out, lk, li[i]);
    else if (ri[i] != JOIN_NONE)
      column_append_from(out, rk, ri[i]);
    else
      column_append_default(out);
  }
  return out;
}

static struct block *emit(struct join_op *j, uint32_t n, bool from_left)
{
  struct op *op = &j->base;
  struct arena *a = &op->scratch;
  struct block *b = block_create(a, op->column_count);
  b->rows = n;
  b->names = op->names;
  for (uint32_t i = 0; i < j->left_count; i++) {
    if (from_left) {
      b->columns[i] = take_rows(a, j->cur->columns[i], j->cur->rows, op->types[i], j->out_l, n);
    } else {
      /* tail rows: no left row */
      struct column *one = col_new_empty(a, op->children[0]->types[i], 1);
      column_append_default(one);
      b->columns[i] = take_rows(a, one, 1, op->types[i], j->out_l, n);
    }
  }
  for (uint32_t i = 0; i < j->right_count; i++)
    b->columns[j->left_count + i] =
      take_rows(a, j->right->columns[i], j->right_rows, op->types[j->left_count + i], j->out_r, n);
  for (uint32_t m = 0; m < j->spec.merged_count; m++) {
    uint32_t k = j->spec.merged_keys[m];
    b->columns[j->left_count + j->right_count + m] =
      merge_rows(a, from_left ? j->cur_keys[k] : NULL, j->right_keys[k], j->out_l, j->out_r, n);
  }
  return b;
}

static int join_next(struct op *op, struct block **out, struct error *err)
{
  struct join_op *j = (struct join_op *)op;
  arena_reset(&op->scratch);
  int rc;
  if (!j->built && (rc = join_build(j, err)))
    return rc;
  uint32_t cap = exec_block_rows(op->ctx);
  if (!j->out_l) {
    j->out_l = arena_alloc(&j->build, sizeof *j->out_l * cap);
    j->out_r = arena_alloc(&j->build, sizeof *j->out_r * cap);
  }
  enum ast_join_kind kind = j->spec.kind;
  bool need_left = j->right_rows > 0 || kind == JOIN_LEFT || kind == JOIN_FULL;
  while (need_left && !j->left_done) {
    if (!j->cur || j->cur_row >= j->cur->rows) {
      if ((rc = probe_fetch(j, err)))
        return rc;
      if (!j->cur)
        break;
    }
    uint32_t n = probe_pairs(j, cap);
    if (n) {
      *out = emit(j, n, true);
      return 0;
    }
  }
  if ((kind == JOIN_RIGHT || kind == JOIN_FULL) && j->row_used) {
    uint32_t n = 0;
    while (j->tail_row < j->right_rows && n < cap) {
      uint32_t r = j->tail_row++;
      if (!j->row_used[r]) {
        j->out_l[n] = JOIN_NONE;
        j->out_r[n++] = r;
      }
    }
    if (n) {
      *out = emit(j, n, false);
      return 0;
    }
  }
  *out = NULL;
  return 0;
}

static const struct op_vt join_vt = { "Join", join_next, join_close };

struct op *op_join_create(struct query_context *ctx, struct op *left, struct op *right, const struct join_spec *spec,
                          const char **names, const struct datatype **types)
{
  struct join_op *j = (struct join_op *)op_alloc(ctx, sizeof *j, &join_vt);
  j->spec = *spec;
  j->left_count = left->column_count;
  j->right_count = right->column_count;
  arena_init(&j->build, 0);
  arena_init(&j->probe, 0);
  buf_init(&j->kb);
  op_set_header(&j->base, j->left_count + j->right_count + spec->merged_count, names, types);
  j->base.children = arena_alloc(ctx->arena, sizeof(struct op *) * 2);
  j->base.children[0] = left;
  j->base.children[1] = right;
  j->base.child_count = 2;
  return &j->base;
}
