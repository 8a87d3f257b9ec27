/* query/: SQL from text to results — lexer and parser (ast.h), analysis,
 * vectorized execution, functions and aggregates, output formats, and the
 * ClickHouse HTTP interface on port 8123 that ties them together.
 * This is the module's one public header: the server wires a query_service
 * into its HTTP server and everything else stays inside query/. */
#ifndef SPANHOUSE_QUERY_QUERY_H
#define SPANHOUSE_QUERY_QUERY_H

#include <stdint.h>

#include "base/http_server.h"
#include "base/metrics.h"
#include "engine/engine.h"
#include "query/exec.h"

/* What the SQL front end needs from the process; owned by the server.
 * (Request counts and the duration histogram are the HTTP server's.) */
struct query_service {
  struct server_info info;       /* version(), timezone(), displayName() */
  struct metrics *metrics;       /* where the counters below are registered; may be NULL */
  struct metric_counter *queries_failed;
  struct metric_counter *read_rows;
  struct metric_counter *read_bytes;
  struct metric_counter *result_bytes;
  struct engine *engine;         /* MergeTree tables; NULL = SELECT-only server (set by query_engine_start) */
  struct matviews *views;        /* materialized views (set by query_engine_start) */
};

/* Fills info with the defaults (version, revision, host name, UTC zone). */
void query_service_init(struct query_service *svc, struct metrics *metrics);

/* Serves the engine's tables: creates database `default` if missing,
 * re-attaches every catalog table by parsing its stored DDL (the CREATE
 * path), and registers them for FROM. Tables that fail are logged and stay
 * detached. Once, before serving. */
int query_engine_start(struct query_service *svc, struct engine *e, struct error *err);
/* Forgets the engine and the views, once no request runs (before engine_close). */
void query_engine_stop(struct query_service *svc);

/* Materialized views fired by rows inserted into db.table outside SQL (the
 * OTLP path): runs each view's SELECT over rows (the table's columns in
 * order) and appends (TO table, its rows) to items[*count..cap), so the
 * caller writes the rows and the views' rows in one engine_insert_buffered
 * call. *out (NULL when no view fired) owns those rows: release it after
 * the insert. Views' errors are returned prefixed "While pushing to view". */
struct query_views;
int query_views_expand(struct query_service *svc, const char *db, const char *table, const struct block *rows,
                       struct engine_buffered_rows *items, uint32_t *count, uint32_t cap, struct query_views **out,
                       struct error *err);
void query_views_release(struct query_views *views);   /* NULL is fine */

/* Runs one CREATE DATABASE, TABLE or MATERIALIZED VIEW statement (IF NOT EXISTS as
 * written) through the same path as the HTTP interface, as user `default`
 * in database `default`. After query_engine_start. For built-in schemas
 * created at start-up (the `otel` database). */
int query_execute_ddl(struct query_service *svc, const char *sql, struct error *err);

/* The ClickHouse HTTP interface: GET/POST with the query in the URL and/or
 * body, settings and param_* as URL parameters, auth, FORMAT, streaming
 * results, and `Code: N. DB::Exception: …` errors with ClickHouse's statuses.
 * Signature of http_server's handler callback; ctx is a query_service. */
void query_http_handle(void *ctx, struct http_request *req, struct http_response *resp);

#endif
