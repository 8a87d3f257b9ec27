/* Query parameters (private to query/): `{name:Type}` placeholders are
 * replaced in the AST by values from `param_<name>` URL parameters, parsed
 * as the declared type (ClickHouse's escaped-text rules), never spliced
 * into the SQL text. */
#ifndef SPANHOUSE_QUERY_PARAMS_H
#define SPANHOUSE_QUERY_PARAMS_H

#include "base/arena.h"
#include "base/error.h"
#include "query/ast.h"
#include "query/exec.h"

/* Rewrites every AST_QUERY_PARAMETER in stmt: Identifier parameters become
 * identifiers, String parameters string literals, others CAST('v', 'Type').
 * A placeholder without a value is UNKNOWN_QUERY_PARAMETER (456); a value
 * with a bad escape is BAD_QUERY_PARAMETER (457). */
int query_params_substitute(struct arena *a, struct sql_statement *stmt, const struct query_param *params,
                            uint32_t param_count, struct error *err);

#endif
