/* Table functions: numbers(N), numbers(start, N[, step]), numbers_mt,
 * generate_series / generateSeries(start, stop[, step]), zeros(N),
 * zeros_mt. Arguments arrive as constant one-row columns (the analyzer
 * folds them); the result is a table source like any table's. */
#include "query/exec_int.h"

#include <string.h>

/* ======================================================================
 * table functions
 * ====================================================================== */

static int tf_u64_arg(const char *fn, struct column *c, uint32_t i, uint64_t *out, struct error *err)
{
  const struct datatype *t = c->type;
  if (t->id == TYPE_NULLABLE || !type_is_int_or_bool(t))
    return error_set(err, ERR_ILLEGAL_TYPE_OF_ARGUMENT, "Illegal type %s of argument %u of table function %s",
                     datatype_name(c->arena, t), i + 1, fn);
  if (datatype_is_signed(t) && column_get_i64(c, 0) < 0)
    return error_set(err, ERR_BAD_ARGUMENTS, "Argument %u of table function %s must be non-negative", i + 1, fn);
  *out = column_get_u64(c, 0);
  return 0;
}

bool table_function_exists(const char *name)
{
  return strcmp(name, "numbers") == 0 || strcmp(name, "numbers_mt") == 0 || strcmp(name, "zeros") == 0 ||
         strcmp(name, "zeros_mt") == 0 || strcmp(name, "generate_series") == 0 ||
         strcmp(name, "generateSeries") == 0 || strcmp(name, "one") == 0;
}

int table_function_open(struct query_context *ctx, const char *name, struct column **args, uint32_t arg_count,
                        const char *text, struct table_source **out, struct error *err)
{
  uint64_t v[3] = { 0, 0, 1 };
  for (uint32_t i = 0; i < arg_count && i < 3; i++) {
    int rc = tf_u64_arg(name, args[i], i, &v[i], err);
    if (rc)
      return rc;
  }
  if (strcmp(name, "numbers") == 0 || strcmp(name, "numbers_mt") == 0) {
    if (arg_count < 1 || arg_count > 3)
      return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                       "Table function '%s' requires 'limit' or 'offset, limit' or 'offset, limit, step'.", name);
    uint64_t start = 0, count = v[0], step = 1;
    if (arg_count >= 2) {
      start = v[0];
      count = v[1];
    }
    if (arg_count == 3) {
      step = v[2];
      if (step == 0)
        return error_set(err, ERR_BAD_ARGUMENTS, "Table function '%s' requires step to be a positive number", name);
      /* numbers(start, N, step): values in [start, start + N) with step */
      count = (count + step - 1) / step;
    }
    *out = gen_source(ctx, NULL, text, "SystemNumbers", false, start, count, step);
    return 0;
  }
  if (strcmp(name, "generate_series") == 0 || strcmp(name, "generateSeries") == 0) {
    if (arg_count < 2 || arg_count > 3)
      return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH,
                       "Table function '%s' requires 'start, stop' or 'start, stop, step'.", name);
    uint64_t step = arg_count == 3 ? v[2] : 1;
    if (step == 0)
      return error_set(err, ERR_BAD_ARGUMENTS, "Table function '%s' requires step to be a positive number", name);
    uint64_t count = v[1] >= v[0] ? (v[1] - v[0]) / step + 1 : 0;
    struct table_source *s = gen_source(ctx, NULL, text, "SystemNumbers", false, v[0], count, step);
    s->names[0] = "generate_series";
    *out = s;
    return 0;
  }
  if (strcmp(name, "zeros") == 0 || strcmp(name, "zeros_mt") == 0) {
    if (arg_count != 1)
      return error_set(err, ERR_NUMBER_OF_ARGUMENTS_DOESNT_MATCH, "Table function '%s' requires 'length'.", name);
    *out = gen_source(ctx, NULL, text, "SystemZeros", true, 0, v[0], 1);
    return 0;
  }
  return error_set(err, ERR_UNKNOWN_FUNCTION, "Unknown table function %s", name);
}

