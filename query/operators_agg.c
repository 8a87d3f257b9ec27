/* GROUP BY: hash aggregation. Each input row is mapped to a group id by a
 * typed hash table (none for a global aggregate, a uint64 table for one
 * fixed-width key, serialized keys otherwise); each aggregate then adds the
 * whole block at once through a vector of per-row state pointers
 * ("places"). States of a group sit side by side in one allocation. Keys
 * of new groups are appended to key columns that become the output. With
 * TOTALS a second, single place per aggregate sees every row.
 * Parallel aggregation will merge per-thread tables with agg merge(). */
#include "query/exec_int.h"

#include <string.h>

enum { AGG_GROUPS_PER_CHUNK = 1024 };

struct agg_op {
  struct op base;
  struct agg_spec spec;
  uint32_t *offsets;             /* per aggregate: byte offset in a group's state */
  uint32_t state_bytes;          /* per group */
  struct arena states;           /* group states and aggregate-owned memory */
  uint8_t **groups;              /* per group id: state pointer */
  uint64_t group_count, groups_cap;
  uint8_t *chunk;                /* current chunk of group states */
  uint32_t chunk_used;
  struct column **key_acc;       /* key values per group */
  bool single_u64;
  struct u64_table u64;
  struct key_table keys;
  struct buf kb;
  uint8_t *totals_place;
  struct block *totals;
  bool consumed;
  uint64_t emitted;
};

static uint8_t *new_group(struct agg_op *g)
{
  if (!g->chunk || g->chunk_used == AGG_GROUPS_PER_CHUNK) {
    g->chunk = arena_alloc(&g->states, (size_t)g->state_bytes * AGG_GROUPS_PER_CHUNK + 1);
    g->chunk_used = 0;
  }
  uint8_t *p = g->chunk + (size_t)g->state_bytes * g->chunk_used++;
  for (uint32_t i = 0; i < g->spec.agg_count; i++)
    g->spec.aggs[i]->init(g->spec.aggs[i], p + g->offsets[i]);
  if (g->group_count == g->groups_cap) {
    uint64_t ncap = g->groups_cap ? g->groups_cap * 2 : 1024;
    g->groups = arena_realloc(&g->states, g->groups, g->groups_cap * sizeof *g->groups, ncap * sizeof *g->groups);
    g->groups_cap = ncap;
  }
  g->groups[g->group_count++] = p;
  return p;
}

/* Slots of a per-block cache of group ids by dictionary keys when every
 * key column is a non-const LowCardinality and the key combinations are
 * few next to the rows; 0 when the cache does not pay. */
static uint64_t lc_key_space(const struct block *in, uint32_t kc, uint32_t rows)
{
  uint64_t space = 1, limit = 4 * (uint64_t)rows + 1024;
  for (uint32_t k = 0; k < kc; k++) {
    const struct column *c = in->columns[k];
    if (c->type->id != TYPE_LOW_CARDINALITY || c->is_const || c->children[0]->rows == 0)
      return 0;
    space *= c->children[0]->rows;
    if (space > limit)
      return 0;
  }
  return space;
}

/* The group id of row r by its serialized keys; a new group takes the
 * row's key values. */
static uint32_t group_of_row(struct agg_op *g, struct block *in, uint32_t r)
{
  uint32_t kc = g->spec.key_count;
  buf_reset(&g->kb);
  for (uint32_t k = 0; k < kc; k++)
    key_serialize(&g->kb, in->columns[k], r);
  bool is_new;
  uint32_t id = key_table_insert(&g->keys, g->kb.data, g->kb.len, hash_bytes(g->kb.data, g->kb.len), &is_new);
  if (is_new) {
    new_group(g);
    for (uint32_t k = 0; k < kc; k++)
      column_append_from(g->key_acc[k], in->columns[k], column_row(in->columns[k], r));
  }
  return id;
}

static int agg_consume(struct agg_op *g, struct block *in, struct error *err)
{
  struct op *op = &g->base;
  struct arena *a = &op->scratch;
  uint32_t rows = in->rows;
  uint8_t **places = arena_alloc(a, sizeof *places * (rows ? rows : 1));
  uint32_t kc = g->spec.key_count;

  if (kc == 0) {
    if (g->group_count == 0)
      new_group(g);
    for (uint32_t r = 0; r < rows; r++)
      places[r] = g->groups[0];
  } else if (g->single_u64) {
    struct column *kcol = in->columns[0];
    uint64_t *kv = arena_alloc(a, sizeof *kv * (rows ? rows : 1));
    key_load_u64(kcol, rows, kv);
    for (uint32_t r = 0; r < rows; r++) {
      bool is_new;
      uint32_t id = u64_table_insert(&g->u64, kv[r], &is_new);
      if (is_new) {
        new_group(g);
        column_append_from(g->key_acc[0], kcol, column_row(kcol, r));
      }
      places[r] = g->groups[id];
    }
  } else if (lc_key_space(in, kc, rows)) {
    /* LowCardinality keys: a row whose dictionary keys were seen before in
     * this block reuses that row's group; the first one looks it up as the
     * per-row path does, so groups are created in the same order. */
    uint64_t space = lc_key_space(in, kc, rows);
    uint32_t *cache = arena_alloc(a, space * sizeof *cache);
    memset(cache, 0xff, space * sizeof *cache);
    for (uint32_t r = 0; r < rows; r++) {
      uint64_t code = 0;
      for (uint32_t k = 0; k < kc; k++) {
        const struct column *c = in->columns[k];
        code = code * c->children[0]->rows + ((const uint32_t *)c->data)[r];
      }
      if (cache[code] == UINT32_MAX)
        cache[code] = group_of_row(g, in, r);
      places[r] = g->groups[cache[code]];
    }
  } else {
    for (uint32_t r = 0; r < rows; r++) {
      uint32_t id = group_of_row(g, in, r);  /* may grow g->groups */
      places[r] = g->groups[id];
    }
  }

  for (uint32_t i = 0; i < g->spec.agg_count; i++) {
    const struct agg_call *ac = g->spec.aggs[i];
    struct column **args = arena_alloc(a, sizeof *args * (ac->arg_count ? ac->arg_count : 1));
    for (uint32_t j = 0; j < ac->arg_count; j++)
      args[j] = col_full(a, in->columns[g->spec.agg_args[i][j]], rows);
    int rc = ac->add(ac, places, g->offsets[i], args, rows, NULL, &g->states, a, err);
    if (rc)
      return rc;
    if (g->totals_place) {
      uint8_t **tp = arena_alloc(a, sizeof *tp * (rows ? rows : 1));
      for (uint32_t r = 0; r < rows; r++)
        tp[r] = g->totals_place;
      rc = ac->add(ac, tp, g->offsets[i], args, rows, NULL, &g->states, a, err);
      if (rc)
        return rc;
    }
  }
  return 0;
}

static struct block *finalize_range(struct agg_op *g, struct arena *a, uint8_t **places, uint64_t first,
                                    uint32_t n, bool totals)
{
  struct op *op = &g->base;
  struct block *b = block_create(a, op->column_count);
  b->rows = n;
  b->names = op->names;
  uint32_t kc = g->spec.key_count;
  for (uint32_t k = 0; k < kc; k++) {
    if (totals) {
      struct column *c = col_new_empty(a, op->types[k], 1);
      column_append_default(c);
      b->columns[k] = c;
    } else {
      b->columns[k] = column_slice(a, g->key_acc[k], (uint32_t)first, n);
    }
  }
  for (uint32_t i = 0; i < g->spec.agg_count; i++) {
    const struct agg_call *ac = g->spec.aggs[i];
    struct column *c = col_new_empty(a, op->types[kc + i], n);
    ac->finalize(ac, places, g->offsets[i], n, c);
    b->columns[kc + i] = c;
  }
  return b;
}

static int agg_next(struct op *op, struct block **out, struct error *err)
{
  struct agg_op *g = (struct agg_op *)op;
  if (!g->consumed) {
    for (;;) {
      struct block *in;
      int rc = op_next(op->children[0], &in, err);
      if (rc)
        return rc;
      if (!in)
        break;
      arena_reset(&op->scratch);
      rc = agg_consume(g, in, err);
      if (rc)
        return rc;
    }
    if (g->spec.key_count == 0 && g->group_count == 0)
      new_group(g);
    g->consumed = true;
    if (g->totals_place)
      g->totals = finalize_range(g, op->ctx->arena, &g->totals_place, 0, 1, true);
  }
  arena_reset(&op->scratch);
  if (g->emitted >= g->group_count) {
    *out = NULL;
    return 0;
  }
  uint64_t n = g->group_count - g->emitted;
  uint32_t max = exec_block_rows(op->ctx);
  if (n > max)
    n = max;
  *out = finalize_range(g, &op->scratch, g->groups + g->emitted, g->emitted, (uint32_t)n, false);
  g->emitted += n;
  return 0;
}

static void agg_close(struct op *op)
{
  struct agg_op *g = (struct agg_op *)op;
  buf_free(&g->kb);
  arena_destroy(&g->states);
}

static const struct op_vt agg_vt = { "Aggregating", agg_next, agg_close };

struct block *op_aggregate_totals(struct op *op)
{
  if (op->vt != &agg_vt)
    return NULL;
  return ((struct agg_op *)op)->totals;
}

struct op *op_aggregate_create(struct query_context *ctx, struct op *child, const struct agg_spec *spec,
                               const char **names)
{
  struct agg_op *g = (struct agg_op *)op_alloc(ctx, sizeof *g, &agg_vt);
  uint32_t count = spec->key_count + spec->agg_count;
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types * (count ? count : 1));
  for (uint32_t k = 0; k < spec->key_count; k++)
    types[k] = child->types[k];
  for (uint32_t i = 0; i < spec->agg_count; i++)
    types[spec->key_count + i] = spec->aggs[i]->type;
  op_set_header(&g->base, count, names, types);
  g->spec = *spec;
  g->offsets = arena_alloc(ctx->arena, sizeof *g->offsets * (spec->agg_count ? spec->agg_count : 1));
  uint32_t off = 0;
  for (uint32_t i = 0; i < spec->agg_count; i++) {
    g->offsets[i] = off;
    off += (spec->aggs[i]->state_size + 7) & ~7u;
  }
  g->state_bytes = off ? off : 8;
  arena_init(&g->states, 1 << 20);
  g->key_acc = arena_alloc(ctx->arena, sizeof *g->key_acc * (spec->key_count ? spec->key_count : 1));
  for (uint32_t k = 0; k < spec->key_count; k++)
    g->key_acc[k] = col_new_empty(&g->states, child->types[k], 1024);
  g->single_u64 = spec->key_count == 1 && key_fits_u64(child->types[0]);
  if (g->single_u64) {
    u64_table_init(&g->u64, ctx->arena);
  } else {
    key_table_init(&g->keys, ctx->arena);
  }
  buf_init(&g->kb);
  if (spec->with_totals) {
    g->totals_place = arena_alloc(&g->states, g->state_bytes);
    for (uint32_t i = 0; i < spec->agg_count; i++)
      spec->aggs[i]->init(spec->aggs[i], g->totals_place + g->offsets[i]);
  }
  g->base.children = arena_alloc(ctx->arena, sizeof(struct op *));
  g->base.children[0] = child;
  g->base.child_count = 1;
  return &g->base;
}
