/* Query execution contract (private to query/): a statement is prepared
 * into a plan, whose result header is known before any row is produced, then
 * pulled block by block. The ClickHouse HTTP handler (http_handler.c) drives
 * it and streams each block through an output format (format.h).
 *
 * Threads: a query_context and its plan belong to one thread at a time.
 * Memory: everything lives in ctx->arena (query lifetime) except per-block
 * scratch that the plan resets itself. */
#ifndef SPANHOUSE_QUERY_EXEC_H
#define SPANHOUSE_QUERY_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/column.h"
#include "base/error.h"
#include "query/ast.h"
#include "query/settings.h"

/* Server-wide facts a query can ask about (version(), timezone(), …). */
struct server_info {
  const char *version;           /* "24.8.1.1"-style string reported by version() */
  uint64_t revision;             /* revision() */
  const char *display_name;      /* displayName(), hostName() */
  const char *timezone;          /* server time zone, "UTC" by default */
  int64_t start_time_ns;         /* for uptime() */
};

struct query_param {
  const char *name;              /* without the param_ prefix */
  const char *value;             /* raw text, escaped TSV-style as ClickHouse expects */
};

struct query_stats {
  _Atomic uint64_t read_rows;
  _Atomic uint64_t read_bytes;
  _Atomic uint64_t written_rows;
  _Atomic uint64_t written_bytes;
  uint64_t result_rows;
  uint64_t result_bytes;
  uint64_t rows_before_limit;    /* rows the top-level LIMIT saw (JSON rows_before_limit_at_least) */
  bool has_limit;                /* the top-level query had a LIMIT */
  int64_t start_ns;              /* clock_monotonic_ns() at query start */
};

struct query_context {
  struct arena *arena;
  const struct server_info *server;
  struct settings *settings;     /* effective settings: defaults < URL params < SETTINGS clause */
  const char *database;          /* current database ("default") */
  const char *user;
  const char *query_id;
  const struct query_param *params;
  uint32_t param_count;
  struct query_stats stats;
  _Atomic bool cancelled;        /* set by the handler when the client went away */
  bool readonly;                 /* GET requests and readonly users */
  struct engine *engine;         /* MergeTree tables; NULL = none (tests, tools) */
  struct matviews *views;        /* materialized views fired by INSERT; NULL = none */
  const struct block *view_rows; /* while a view's SELECT is planned: the inserted rows, which */
  const char *view_database;     /* FROM view_database.view_table reads instead of the table */
  const char *view_table;
  uint32_t view_depth;           /* plain views being planned inside each other */
  const char *text;              /* the statement's text (AST pos/len index it); may be NULL */
  size_t text_len;
};

struct engine;
struct query_plan;

/* Analyzes and plans a statement. Statement kinds this build cannot execute
 * yet return NOT_IMPLEMENTED (48) naming the statement. Errors carry
 * ClickHouse's codes (UNKNOWN_IDENTIFIER 47, UNKNOWN_FUNCTION 46, …). */
int query_prepare(struct query_context *ctx, const struct sql_statement *stmt,
                  struct query_plan **out, struct error *err);

/* The result's columns: names and types, fixed before the first block. */
void query_plan_header(const struct query_plan *plan, uint32_t *column_count,
                       const char *const **names, const struct datatype *const **types);

/* Next result block, or *out = NULL when done. Blocks stay valid until the
 * next call. May be called after an error only to stop. */
int query_plan_next(struct query_plan *plan, struct block **out, struct error *err);

/* WITH TOTALS: the totals row (one row, same header), available once
 * query_plan_next has returned the end; *out = NULL when there is none. */
int query_plan_totals(struct query_plan *plan, struct block **out, struct error *err);

/* The FORMAT named in the statement (or NULL), so the handler can pick the
 * output format: FORMAT clause > default_format/X-ClickHouse-Format > TSV. */
const char *query_plan_format(const struct query_plan *plan);

#endif
