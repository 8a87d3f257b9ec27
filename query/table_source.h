/* Table sources (private to query/): what a FROM clause reads. A source
 * describes its columns and, when read, yields blocks of the chosen
 * columns through an operator. System tables and table functions are
 * sources today; MergeTree tables will be sources of the storage engine
 * behind the same interface, registered by the server as a catalog.
 *
 * Contract for open():
 *  - the operator's header is exactly the chosen columns, in the order asked;
 *  - a pushed-down filter is a hint: a source may drop rows it proves fail
 *    it, but the plan still applies the filter itself;
 *  - limit_hint > 0 means the consumer will stop after that many rows, so a
 *    source may produce fewer blocks (it still yields full blocks);
 *  - read_rows / read_bytes go to ctx->stats as blocks are produced;
 *  - sources call exec_check_limits() between blocks so cancellation and
 *    max_execution_time are honoured. */
#ifndef SPANHOUSE_QUERY_TABLE_SOURCE_H
#define SPANHOUSE_QUERY_TABLE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/column.h"
#include "base/error.h"
#include "query/exec.h"

struct op;
struct expr;
struct table_source;

struct table_read_opts {
  const uint32_t *columns;       /* indexes into the source's columns, in output order */
  uint32_t column_count;
  uint64_t limit_hint;           /* 0 = read everything */
  const struct expr *filter;     /* over the chosen columns (EXPR_INPUT i = columns[i]); may be NULL */
  bool final;                    /* FROM t FINAL (only sources with supports_final) */
  const struct expr *where;      /* WHERE / PREWHERE over the chosen columns (EXPR_INPUT i = i-th chosen
                                    column); hints for pruning, the plan still filters; may be NULL */
  const struct expr *prewhere;
};

struct table_source_vt {
  int (*open)(struct table_source *src, struct query_context *ctx, const struct table_read_opts *opts,
              struct op **out, struct error *err);
};

struct table_source {
  const struct table_source_vt *vt;
  const char *database;          /* NULL for table functions and subqueries */
  const char *name;              /* table name, or the table function's call text */
  const char *engine;            /* "SystemNumbers", "SystemOne", … (system.tables.engine) */
  uint32_t column_count;
  const char **names;
  const struct datatype **types;
  const char **comments;         /* DESCRIBE's comment column; may be NULL */
  const char **default_kinds;    /* per column: "", DEFAULT, MATERIALIZED, ALIAS; may be NULL */
  const char **default_exprs;    /* per column; may be NULL */
  const char **codecs;           /* per column: "CODEC(ZSTD(1))" or ""; may be NULL */
  const char *create_query;      /* system.tables create_table_query; may be NULL */
  const char *partition_key, *sorting_key, *primary_key;  /* system.tables; may be NULL */
  uint64_t total_bytes;          /* system.tables; 0 when unknown */
  uint64_t total_rows;           /* for system.tables; UINT64_MAX when unknown or infinite */
  bool supports_final;           /* MergeTree family: FROM t FINAL */
  uint32_t virtual_from;         /* columns from here on are virtual (_part): readable by name only,
                                    not in *, DESCRIBE or system.columns; 0 = none */
  void *impl;
};

/* A catalog resolves database.table names to sources; the server registers
 * one per storage engine. lookup returns DECLINED-like 0 with *out = NULL
 * when it does not own the database, so the next catalog is tried. */
struct table_catalog {
  const char *name;
  /* Lists database names it owns (for system.databases); count returned. */
  uint32_t (*databases)(void *impl, struct arena *a, const char ***names);
  /* Lists tables of one database it owns. */
  uint32_t (*tables)(void *impl, struct query_context *ctx, const char *database, struct table_source ***out);
  int (*lookup)(void *impl, struct query_context *ctx, const char *database, const char *table,
                struct table_source **out, struct error *err);
  void *impl;
};

/* Registers a catalog for the life of the process (before serving queries). */
void table_catalog_register(const struct table_catalog *catalog);

/* Resolves db.table (db NULL = ctx->database): system tables, then catalogs.
 * UNKNOWN_DATABASE (81) / UNKNOWN_TABLE (60) with ClickHouse's messages. */
int table_source_lookup(struct query_context *ctx, const char *database, const char *table,
                        struct table_source **out, struct error *err);
/* Table function by name with constant arguments: numbers(N), numbers(a, N),
 * numbers(a, N, step), numbers_mt, zeros(N), zeros_mt, one(). UNKNOWN_FUNCTION
 * for unknown names. */
int table_function_open(struct query_context *ctx, const char *name, struct column **args, uint32_t arg_count,
                        const char *text, struct table_source **out, struct error *err);
bool table_function_exists(const char *name);

/* Enumeration for system.databases / system.tables / SHOW. */
uint32_t table_databases(struct query_context *ctx, const char ***names);
uint32_t table_list(struct query_context *ctx, const char *database, struct table_source ***out);

/* A source over a sub-plan (subquery in FROM): opening it returns the plan. */
struct table_source *table_source_from_op(struct query_context *ctx, struct op *plan, const char *name);

#endif
