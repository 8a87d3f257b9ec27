/* Materialized views (query/matview.c), private to query/: the registry of
 * CREATE MATERIALIZED VIEW … TO … entries of the catalog and running a
 * view's SELECT over inserted rows. mergetree.c fires views on SQL INSERT,
 * query_views_expand (query.h) on OTLP inserts. */
#ifndef SPANHOUSE_QUERY_MATVIEW_H
#define SPANHOUSE_QUERY_MATVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "query/exec_int.h"
#include "query/table_source.h"

#define MATVIEW_ENGINE "MaterializedView"   /* catalog engine of a materialized view */
#define VIEW_ENGINE "View"                  /* ... of a plain view (a stored SELECT) */
enum { MATVIEW_DEPTH_MAX = 8 };             /* materialized views feeding views, at most this deep */
enum { VIEW_DEPTH_MAX = 16 };               /* plain views reading views, at most this deep */

struct catalog;

struct matview {
  const char *database, *name;
  const char *source_database, *source_table;   /* its FROM: inserts here fire it */
  const char *target_database, *target_table;   /* TO: its rows go here */
  const char *select_sql;                       /* "SELECT …" as written */
};

struct matviews;

struct matviews *matviews_create(void);
void matviews_destroy(struct matviews *v);       /* NULL is fine */
/* Replaces the registry with the catalog's views (start-up and after DDL). */
int matviews_load(struct matviews *v, struct catalog *cat, struct error *err);
/* Copies (into a) the views fired by inserts into db.table; returns how many. */
uint32_t matviews_for_source(struct matviews *v, const char *db, const char *table, struct arena *a,
                             struct matview **out);
/* The TO table of view db.name: 0, or -1 when it is not a view. */
int matviews_target_of(struct matviews *v, const char *db, const char *name, struct arena *a, const char **target_db,
                       const char **target_table);
bool matview_is_engine(const char *engine);
/* The TO table of a catalog entry that is a view: 0, or -1. */
struct catalog_table;
int matview_target_of_ddl(struct arena *a, const struct catalog_table *ct, const char **target_db,
                          const char **target_table);

bool view_is_engine(const char *engine);
/* FROM a plain view: its SELECT planned (in its own database) as a subquery. */
int view_source(struct query_context *ctx, const struct catalog_table *ct, struct table_source **out,
                struct error *err);
/* The DDL of view ct (either kind) renamed to db.name. */
int view_ddl_renamed(struct arena *a, const struct catalog_table *ct, const char *db, const char *name,
                     const char **ddl, struct error *err);

/* CREATE VIEW v AS SELECT …; CREATE MATERIALIZED VIEW [IF NOT EXISTS] db.v
 * TO db.t AS SELECT … FROM db.s, or with ENGINE … [POPULATE] and an inner
 * table `.inner.v`. */
int matview_create(struct query_context *ctx, const struct sql_statement *st, struct error *err);
/* Plans v's SELECT with its FROM table replaced by rows (a block of the
 * source table's stored columns, names set). */
int matview_plan(struct query_context *ctx, const struct matview *v, const struct block *rows, struct op **out,
                 struct error *err);
/* While matview_plan runs: the source table as the rows (table_source_lookup). */
struct table_source *matview_rows_source(struct query_context *ctx);

#endif
