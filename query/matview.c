/* Materialized views: CREATE MATERIALIZED VIEW v TO t AS SELECT … FROM s.
 * A view is a catalog entry (engine "MaterializedView", no parts and no
 * directory) holding its normalized DDL. Every insert into s — SQL INSERT
 * (mergetree.c) or OTLP (query_views_expand) — runs the SELECT over the
 * inserted rows only and inserts the result into t, as ClickHouse does per
 * inserted block; reading v reads t. The registry below mirrors the catalog's
 * views so an insert finds them without a catalog query; DDL that creates,
 * drops or renames tables reloads it. */
#include "query/matview.h"

#include <pthread.h>
#include <string.h>

#include "base/log.h"
#include "base/alloc.h"
#include "catalog/catalog.h"
#include "engine/engine.h"

struct matviews {
  pthread_mutex_t lock;
  struct arena arena;            /* list and strings of the current load */
  struct matview *list;
  uint32_t count;
};

struct matviews *matviews_create(void)
{
  struct matviews *v = mem_calloc(1, sizeof *v);
  pthread_mutex_init(&v->lock, NULL);
  arena_init(&v->arena, 0);
  return v;
}

void matviews_destroy(struct matviews *v)
{
  if (!v)
    return;
  arena_destroy(&v->arena);
  pthread_mutex_destroy(&v->lock);
  mem_free(v);
}

bool matview_is_engine(const char *engine)
{
  return engine && strcmp(engine, MATVIEW_ENGINE) == 0;
}

/* The single table a view's SELECT reads: FROM db.t of its first SELECT
 * (ClickHouse fires a view for inserts into that table only). */
static const struct ast_table_expr *view_source_table(const struct ast *select)
{
  while (select && select->kind == AST_SELECT_UNION) {
    if (select->u.select_union.selects.count == 0)
      return NULL;
    select = select->u.select_union.selects.items[0];
  }
  if (!select || select->kind != AST_SELECT || select->u.select.from.count == 0)
    return NULL;
  const struct ast *te = select->u.select.from.items[0];
  if (te->kind != AST_TABLE_EXPR || !te->u.table_expr.table)
    return NULL;
  return &te->u.table_expr;
}

/* A stored view DDL → v (strings in a). */
static int matview_from_ddl(struct arena *a, const char *db, const char *name, const char *ddl, struct matview *v,
                         struct error *err)
{
  struct sql_statement *st;
  int rc = sql_parse(a, ddl, strlen(ddl), &st, err);
  if (rc)
    return rc;
  const struct ast_table_expr *src = view_source_table(st->select);
  if (st->kind != STMT_CREATE_VIEW || !st->materialized || !st->to_table || !src)
    return error_set(err, ERR_LOGICAL_ERROR, "Stored DDL of %s.%s is not a materialized view with TO", db, name);
  *v = (struct matview){
    .database = arena_strdup(a, db),
    .name = arena_strdup(a, name),
    .source_database = arena_strdup(a, src->database ? src->database : db),
    .source_table = arena_strdup(a, src->table),
    .target_database = arena_strdup(a, st->to_database ? st->to_database : db),
    .target_table = arena_strdup(a, st->to_table),
    .select_sql = arena_strndup(a, ddl + st->select->pos, st->select->len),
  };
  return 0;
}

static void append_qualified_name(struct buf *b, const char *db, const char *name)
{
  sql_append_name(b, db);
  buf_append_char(b, '.');
  sql_append_name(b, name);
}

int matviews_load(struct matviews *v, struct catalog *cat, struct error *err)
{
  struct arena a;
  arena_init(&a, 0);
  struct catalog_table *ts;
  size_t n = 0;
  int rc = catalog_table_list(cat, NULL, &a, &ts, &n, err);
  if (rc) {
    arena_destroy(&a);
    return rc;
  }
  pthread_mutex_lock(&v->lock);
  arena_reset(&v->arena);
  v->count = 0;
  v->list = arena_alloc(&v->arena, sizeof *v->list * (n ? n : 1));
  for (size_t i = 0; i < n; i++) {
    if (!matview_is_engine(ts[i].engine))
      continue;
    struct error e2 = { 0 };
    if (matview_from_ddl(&v->arena, ts[i].database, ts[i].name, ts[i].ddl, &v->list[v->count], &e2) == 0)
      v->count++;
    else
      log_error("view %s.%s: %s", ts[i].database, ts[i].name, e2.message);
  }
  pthread_mutex_unlock(&v->lock);
  arena_destroy(&a);
  return 0;
}

uint32_t matviews_for_source(struct matviews *v, const char *db, const char *table, struct arena *a,
                             struct matview **out)
{
  *out = NULL;
  if (!v)
    return 0;
  pthread_mutex_lock(&v->lock);
  uint32_t k = 0;
  for (uint32_t i = 0; i < v->count; i++)
    k += strcmp(v->list[i].source_database, db) == 0 && strcmp(v->list[i].source_table, table) == 0;
  if (k) {
    struct matview *r = arena_alloc(a, sizeof *r * k);
    k = 0;
    for (uint32_t i = 0; i < v->count; i++) {
      const struct matview *m = &v->list[i];
      if (strcmp(m->source_database, db) || strcmp(m->source_table, table))
        continue;
      r[k++] = (struct matview){
        arena_strdup(a, m->database),        arena_strdup(a, m->name),
        arena_strdup(a, m->source_database), arena_strdup(a, m->source_table),
        arena_strdup(a, m->target_database), arena_strdup(a, m->target_table),
        arena_strdup(a, m->select_sql),
      };
    }
    *out = r;
  }
  pthread_mutex_unlock(&v->lock);
  return k;
}

int matviews_target_of(struct matviews *v, const char *db, const char *name, struct arena *a, const char **target_db,
                       const char **target_table)
{
  int found = -1;
  pthread_mutex_lock(&v->lock);
  for (uint32_t i = 0; i < v->count && found < 0; i++)
    if (strcmp(v->list[i].database, db) == 0 && strcmp(v->list[i].name, name) == 0) {
      *target_db = arena_strdup(a, v->list[i].target_database);
      *target_table = arena_strdup(a, v->list[i].target_table);
      found = 0;
    }
  pthread_mutex_unlock(&v->lock);
  return found;
}

/* The DDL a materialized view is stored with. */
static const char *matview_ddl(struct arena *a, const struct matview *v)
{
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, "CREATE MATERIALIZED VIEW ");
  append_qualified_name(&b, v->database, v->name);
  buf_append_cstr(&b, " TO ");
  append_qualified_name(&b, v->target_database, v->target_table);
  buf_append_cstr(&b, " AS ");
  buf_append_cstr(&b, v->select_sql);
  const char *s = arena_strndup(a, b.data, b.len);
  buf_free(&b);
  return s;
}

int matview_target_of_ddl(struct arena *a, const struct catalog_table *ct, const char **target_db,
                          const char **target_table)
{
  struct matview v;
  struct error err = { 0 };
  if (matview_from_ddl(a, ct->database, ct->name, ct->ddl, &v, &err))
    return -1;
  *target_db = v.target_database;
  *target_table = v.target_table;
  return 0;
}

/* Exchanges the statement text the context's AST positions index (a stored
 * view's text while its query is planned) with *text; twice restores it. */
static void swap_text(struct query_context *ctx, const char **text, size_t *len)
{
  const char *t = ctx->text;
  size_t n = ctx->text_len;
  ctx->text = *text;
  ctx->text_len = *len;
  *text = t;
  *len = n;
}

bool view_is_engine(const char *engine)
{
  return engine && strcmp(engine, VIEW_ENGINE) == 0;
}

/* The SELECT text of a stored CREATE VIEW. */
static int plain_view_select(struct arena *a, const char *ddl, const char **select, struct sql_statement **st,
                             struct error *err)
{
  int rc = sql_parse(a, ddl, strlen(ddl), st, err);
  if (rc == 0 && ((*st)->kind != STMT_CREATE_VIEW || (*st)->materialized || !(*st)->select))
    rc = error_set(err, ERR_LOGICAL_ERROR, "Stored DDL is not CREATE VIEW");
  if (rc == 0)
    *select = arena_strndup(a, ddl + (*st)->select->pos, (*st)->select->len);
  return rc;
}

int view_ddl_renamed(struct arena *a, const struct catalog_table *ct, const char *db, const char *name,
                     const char **ddl, struct error *err)
{
  if (matview_is_engine(ct->engine)) {
    struct matview v;
    int rc = matview_from_ddl(a, db, name, ct->ddl, &v, err);
    if (rc == 0)
      *ddl = matview_ddl(a, &v);
    return rc;
  }
  const char *select;
  struct sql_statement *st;
  int rc = plain_view_select(a, ct->ddl, &select, &st, err);
  if (rc)
    return rc;
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, "CREATE VIEW ");
  append_qualified_name(&b, db, name);
  buf_append_cstr(&b, " AS ");
  buf_append_cstr(&b, select);
  *ddl = arena_strndup(a, b.data, b.len);
  buf_free(&b);
  return 0;
}

int view_source(struct query_context *ctx, const struct catalog_table *ct, struct table_source **out,
                struct error *err)
{
  if (ctx->view_depth >= VIEW_DEPTH_MAX)
    return error_set(err, ERR_TOO_DEEP_RECURSION, "Views refer to views more than %d deep at %s.%s",
                     VIEW_DEPTH_MAX, ct->database, ct->name);
  const char *select;
  struct sql_statement *st;
  int rc = plain_view_select(ctx->arena, ct->ddl, &select, &st, err);
  if (rc)
    return rc;
  const char *text = ct->ddl, *saved_db = ctx->database;
  size_t len = strlen(text);
  swap_text(ctx, &text, &len);
  ctx->database = ct->database;      /* unqualified names in the view are its database's */
  ctx->view_depth++;
  struct op *op;
  rc = plan_select(ctx, st->select, NULL, &op, false, err);
  ctx->view_depth--;
  swap_text(ctx, &text, &len);
  ctx->database = saved_db;
  if (rc)
    return error_prefix(err, "View %s.%s: ", ct->database, ct->name);
  struct table_source *s = table_source_from_op(ctx, op, ct->name);
  s->database = ct->database;
  s->name = ct->name;
  s->engine = VIEW_ENGINE;
  s->create_query = ct->ddl;
  *out = s;
  return 0;
}

/* ---- the inserted rows as the view's FROM table ---- */

struct rows_source {
  const struct block *rows;
};

static int rows_open(struct table_source *src, struct query_context *ctx, const struct table_read_opts *opts,
                     struct op **out, struct error *err)
{
  (void)err;
  const struct rows_source *rs = src->impl;
  uint32_t n = opts->column_count;
  const char **names = arena_alloc(ctx->arena, sizeof *names * (n ? n : 1));
  const struct datatype **types = arena_alloc(ctx->arena, sizeof *types * (n ? n : 1));
  struct block *b = block_create(ctx->arena, n);
  b->rows = rs->rows->rows;
  b->names = names;
  for (uint32_t i = 0; i < n; i++) {
    names[i] = src->names[opts->columns[i]];
    types[i] = src->types[opts->columns[i]];
    b->columns[i] = rs->rows->columns[opts->columns[i]];
  }
  struct block **blocks = arena_alloc(ctx->arena, sizeof *blocks);
  blocks[0] = b;
  *out = op_values_create(ctx, n, names, types, blocks, b->rows ? 1 : 0);
  return 0;
}

static const struct table_source_vt rows_source_vt = { rows_open };

struct table_source *matview_rows_source(struct query_context *ctx)
{
  const struct block *rows = ctx->view_rows;
  struct table_source *s = arena_new(ctx->arena, struct table_source);
  struct rows_source *rs = arena_new(ctx->arena, struct rows_source);
  rs->rows = rows;
  s->vt = &rows_source_vt;
  s->database = ctx->view_database;
  s->name = ctx->view_table;
  s->engine = "MergeTree";
  s->column_count = rows->column_count;
  s->names = arena_alloc(ctx->arena, sizeof *s->names * (rows->column_count ? rows->column_count : 1));
  s->types = arena_alloc(ctx->arena, sizeof *s->types * (rows->column_count ? rows->column_count : 1));
  for (uint32_t i = 0; i < rows->column_count; i++) {
    s->names[i] = rows->names[i];
    s->types[i] = rows->columns[i]->type;
  }
  s->total_rows = rows->rows;
  s->impl = rs;
  return s;
}

int matview_plan(struct query_context *ctx, const struct matview *v, const struct block *rows, struct op **out,
                 struct error *err)
{
  struct sql_statement *st;
  int rc = sql_parse(ctx->arena, v->select_sql, strlen(v->select_sql), &st, err);
  if (rc == 0 && (st->kind != STMT_SELECT || !st->select))
    rc = error_set(err, ERR_LOGICAL_ERROR, "View %s.%s: stored query is not a SELECT", v->database, v->name);
  if (rc)
    return rc;
  const struct block *saved_rows = ctx->view_rows;
  const char *saved_db = ctx->view_database, *saved_table = ctx->view_table;
  const char *text = v->select_sql;
  size_t len = strlen(text);
  swap_text(ctx, &text, &len);
  ctx->view_rows = rows;
  ctx->view_database = v->source_database;
  ctx->view_table = v->source_table;
  rc = plan_select(ctx, st->select, NULL, out, false, err);
  ctx->view_rows = saved_rows;
  ctx->view_database = saved_db;
  ctx->view_table = saved_table;
  swap_text(ctx, &text, &len);
  return rc;
}

/* ---- CREATE [MATERIALIZED] VIEW ---- */

static const char *source_text(struct query_context *ctx, const struct ast *n)
{
  if (!ctx->text || (size_t)n->pos + n->len > ctx->text_len)
    return NULL;
  return arena_strndup(ctx->arena, ctx->text + n->pos, n->len);
}

static void append_node(struct buf *b, struct query_context *ctx, const char *clause, const struct ast *n)
{
  const char *t = n ? source_text(ctx, n) : NULL;
  if (!t)
    return;
  buf_append_cstr(b, clause);
  buf_append_cstr(b, t);
}

/* A view without TO keeps its rows in an inner table named like older
 * ClickHouse's (`.inner.<view>`), with the SELECT's columns and the view's
 * ENGINE clause; created through the ordinary CREATE TABLE path. */
static int inner_table_create(struct query_context *ctx, const struct sql_statement *st, const char *db,
                              const char *inner, const struct op *header, struct error *err)
{
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, "CREATE TABLE ");
  append_qualified_name(&b, db, inner);
  buf_append_cstr(&b, " (");
  for (uint32_t i = 0; i < header->column_count; i++) {
    buf_append_cstr(&b, i ? ", " : "");
    sql_append_name(&b, header->names[i]);
    buf_append_char(&b, ' ');
    datatype_format(header->types[i], &b);
  }
  buf_append_cstr(&b, ")");
  append_node(&b, ctx, " ENGINE = ", st->engine);
  append_node(&b, ctx, " PARTITION BY ", st->partition_by);
  append_node(&b, ctx, " PRIMARY KEY ", st->primary_key);
  append_node(&b, ctx, " ORDER BY ", st->order_by);
  if (st->table_settings.count) {
    const struct ast *first = st->table_settings.items[0], *last = st->table_settings.items[st->table_settings.count - 1];
    if (ctx->text && (size_t)last->pos + last->len <= ctx->text_len) {
      buf_append_cstr(&b, " SETTINGS ");
      buf_append(&b, ctx->text + first->pos, last->pos + last->len - first->pos);
    }
  }
  const char *sql = arena_strndup(ctx->arena, b.data, b.len);
  buf_free(&b);
  struct sql_statement *create;
  int rc = sql_parse(ctx->arena, sql, strlen(sql), &create, err);
  if (rc)
    return error_prefix(err, "The inner table of view %s.%s: ", db, st->name);
  size_t len = strlen(sql);
  swap_text(ctx, &sql, &len);
  struct op *none;
  rc = mergetree_statement(ctx, create, &none, err);
  swap_text(ctx, &sql, &len);
  return rc;
}

/* CREATE VIEW v AS SELECT: only the query is kept; reading v runs it. */
static int plain_view_create(struct query_context *ctx, const struct sql_statement *st, const char *db,
                             struct error *err)
{
  const char *select = source_text(ctx, st->select);
  if (!select)
    return error_set(err, ERR_LOGICAL_ERROR, "CREATE VIEW without its query text");
  if (st->to_table || st->engine || st->populate)
    return error_set(err, ERR_INCORRECT_QUERY, "TO, ENGINE and POPULATE are for MATERIALIZED VIEW only");
  struct op *op;
  int rc = plan_select(ctx, st->select, NULL, &op, false, err);   /* unknown tables and columns fail now */
  if (rc)
    return rc;
  struct buf b;
  buf_init(&b);
  buf_append_cstr(&b, "CREATE VIEW ");
  append_qualified_name(&b, db, st->name);
  buf_append_cstr(&b, " AS ");
  buf_append_cstr(&b, select);
  struct catalog_table_def cd = { .engine = VIEW_ENGINE, .ddl = arena_strndup(ctx->arena, b.data, b.len) };
  buf_free(&b);
  struct catalog_table_ref ref;
  rc = catalog_table_create(engine_catalog(ctx->engine), db, st->name, &cd, &ref, err);
  if (rc == ERR_TABLE_ALREADY_EXISTS && st->if_not_exists)
    return error_clear(err), 0;
  return rc;
}

/* POPULATE: the view's SELECT over the source's existing rows, into the
 * inner table (as ClickHouse, rows inserted meanwhile may be missed or
 * counted twice). */
static int populate(struct query_context *ctx, const struct sql_statement *st, const char *db, const char *inner,
                    struct error *err)
{
  struct sql_statement ins = { .kind = STMT_INSERT, .database = db, .name = inner, .select = st->select };
  return mergetree_insert(ctx, &ins, NULL, 0, NULL, NULL, err);
}

int matview_create(struct query_context *ctx, const struct sql_statement *st, struct error *err)
{
  struct catalog *cat = engine_catalog(ctx->engine);
  const char *db = st->database ? st->database : ctx->database;
  if (!catalog_database_exists(cat, db))
    return error_set(err, ERR_UNKNOWN_DATABASE, "Database %s does not exist", db);
  if (catalog_table_exists(cat, db, st->name)) {
    if (st->if_not_exists)
      return 0;
    return error_set(err, ERR_TABLE_ALREADY_EXISTS, "Table %s.%s already exists", db, st->name);
  }
  if (!st->materialized)
    return plain_view_create(ctx, st, db, err);
  if (st->to_table && st->populate)
    return error_set(err, ERR_INCORRECT_QUERY, "POPULATE is not supported with TO clause");
  if (st->to_table && (st->columns.count || st->engine))
    return error_set(err, ERR_INCORRECT_QUERY,
                     "Cannot CREATE MATERIALIZED VIEW with TO and a column list or ENGINE: the target table has them");
  if (!st->to_table && !st->engine)
    return error_set(err, ERR_INCORRECT_QUERY, "ENGINE is required for a MATERIALIZED VIEW without TO");
  if (!st->to_table && st->columns.count)
    return error_set(err, ERR_NOT_IMPLEMENTED,
                     "A column list in CREATE MATERIALIZED VIEW is not supported yet: the SELECT's columns are used");
  const struct ast_table_expr *src = view_source_table(st->select);
  if (!src)
    return error_set(err, ERR_NOT_IMPLEMENTED,
                     "A materialized view's SELECT must read FROM one table (db.table), not a subquery or function");
  const char *sdb = src->database ? src->database : db;
  const char *inner = st->to_table ? NULL : arena_printf(ctx->arena, ".inner.%s", st->name);
  const char *tdb = st->to_table ? (st->to_database ? st->to_database : db) : db;
  const char *ttable = st->to_table ? st->to_table : inner;
  if (strcmp(sdb, "system") == 0)
    return error_set(err, ERR_NOT_IMPLEMENTED, "A materialized view cannot read system tables");
  struct table_source *ss;
  int rc = table_source_lookup(ctx, sdb, src->table, &ss, err);
  if (rc)
    return rc;
  const char *select = source_text(ctx, st->select);
  if (!select)
    return error_set(err, ERR_LOGICAL_ERROR, "CREATE MATERIALIZED VIEW without its query text");

  /* The SELECT must plan over the source's columns (unknown columns and
   * functions fail now, not at the first insert); its result columns are
   * matched to the target's by name. */
  struct block *empty = block_create(ctx->arena, ss->virtual_from ? ss->virtual_from : ss->column_count);
  empty->names = ss->names;
  for (uint32_t i = 0; i < empty->column_count; i++)
    empty->columns[i] = column_create(ctx->arena, ss->types[i], 0);
  struct matview v = { db, st->name, sdb, src->table, tdb, ttable, select };
  struct op *op;
  if ((rc = matview_plan(ctx, &v, empty, &op, err)))
    return rc;
  if (inner && (rc = inner_table_create(ctx, st, db, inner, op, err)))
    return rc;
  /* ClickHouse accepts a TO table that does not exist yet; inserts into the
   * source then fail until it does. */
  struct table_source *ts = NULL;
  if (catalog_table_exists(cat, tdb, ttable) && (rc = table_source_lookup(ctx, tdb, ttable, &ts, err)))
    return rc;
  uint32_t matched = 0;
  for (uint32_t i = 0; ts && i < op->column_count; i++)
    for (uint32_t j = 0; j < ts->column_count; j++)
      if (strcmp(op->names[i], ts->names[j]) == 0) {
        matched++;
        break;
      }
  if (ts && !matched)
    return error_set(err, ERR_THERE_IS_NO_COLUMN,
                     "None of the view's result columns is a column of %s.%s (they are matched by name)", tdb, ttable);

  struct catalog_table_def cd = { .engine = MATVIEW_ENGINE, .ddl = matview_ddl(ctx->arena, &v) };
  struct catalog_table_ref ref;
  rc = catalog_table_create(cat, db, st->name, &cd, &ref, err);
  if (rc == ERR_TABLE_ALREADY_EXISTS && st->if_not_exists)
    return error_clear(err), 0;
  if (rc == 0 && ctx->views)
    rc = matviews_load(ctx->views, cat, err);
  if (rc == 0 && st->populate)
    rc = populate(ctx, st, db, inner, err);
  return rc;
}
