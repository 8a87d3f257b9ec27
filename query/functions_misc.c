/* Miscellaneous functions: server and query facts (version, hostName,
 * currentDatabase, uptime, getSetting), plumbing (ignore, materialize,
 * identity, isConstant, blockSize), throwIf, sleep, random numbers and
 * UUIDs, xxHash. */
#include "query/exec_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "base/clock.h"

/* ---- server / query facts (constants of the query) ---- */

static int exec_const_value(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                            struct column **out, struct error *err)
{
  (void)args; (void)err;
  struct column *one = call->state;
  *out = col_make_const(ev->arena, one, rows);
  return 0;
}

static void set_const_str(struct fn_call *call, const char *s)
{
  struct column *c = col_new_empty(call->arena, type_str(), 1);
  col_str_append(c, s ? s : "", s ? strlen(s) : 0);
  call->state = c;
  call->type = type_str();
  call->exec = exec_const_value;
}

int fr_server_info(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 0, 0, err);
  if (rc)
    return rc;
  const struct server_info *si = call->ctx->server;
  switch (call->def->op) {
  case 0: set_const_str(call, si && si->version ? si->version : "0.0.0.0"); break;
  case 1: {
    uint64_t v = si ? si->revision : 0;
    call->state = col_from_u64(call->arena, datatype_simple(TYPE_UINT32), &v, 1);
    call->type = datatype_simple(TYPE_UINT32);
    call->exec = exec_const_value;
    break;
  }
  case 2: case 3: set_const_str(call, si && si->display_name ? si->display_name : "localhost"); break;
  case 4: set_const_str(call, call->ctx->database ? call->ctx->database : "default"); break;
  case 5: set_const_str(call, call->ctx->user ? call->ctx->user : "default"); break;
  case 6: {
    int64_t now = clock_monotonic_ns();
    uint64_t v = si && si->start_time_ns && now > si->start_time_ns ? (uint64_t)((now - si->start_time_ns) / 1000000000) : 0;
    call->state = col_from_u64(call->arena, datatype_simple(TYPE_UINT32), &v, 1);
    call->type = datatype_simple(TYPE_UINT32);
    call->exec = exec_const_value;
    break;
  }
  default: set_const_str(call, call->ctx->query_id ? call->ctx->query_id : ""); break;
  }
  return 0;
}

int fr_get_setting(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  struct slice name;
  if (!fn_const_str(call, 0, &name))
    return error_set(err, ERR_ILLEGAL_COLUMN, "The argument of function getSetting must be a constant string");
  char *n = arena_strndup(call->arena, name.ptr, name.len);
  if (!settings_is_known(n))
    return error_set(err, ERR_UNKNOWN_SETTING, "Unknown setting '%s'", n);
  set_const_str(call, settings_get_str(call->ctx->settings, n));
  return 0;
}

/* ---- plumbing ---- */

static int exec_ignore(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                       struct column **out, struct error *err)
{
  (void)call; (void)args; (void)err;
  *out = col_const_u64(ev->arena, type_u8(), 0, rows);
  return 0;
}

int fr_ignore(struct fn_call *call, struct error *err)
{
  (void)err;
  call->type = type_u8();
  call->exec = exec_ignore;
  return 0;
}

static int exec_materialize(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                            struct column **out, struct error *err)
{
  (void)call; (void)err;
  *out = col_full(ev->arena, args[0], rows);
  return 0;
}

int fr_materialize(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  call->type = call->arg_types[0];
  call->exec = exec_materialize;
  return 0;
}

static int exec_identity(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  (void)call; (void)ev; (void)rows; (void)err;
  *out = args[0];
  return 0;
}

int fr_identity(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  call->type = call->arg_types[0];
  call->exec = exec_identity;
  return 0;
}

static int exec_is_constant(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                            struct column **out, struct error *err)
{
  (void)call; (void)err;
  *out = col_const_u64(ev->arena, type_u8(), args[0]->is_const, rows);
  return 0;
}

int fr_is_constant(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  call->type = type_u8();
  call->exec = exec_is_constant;
  return 0;
}

static int exec_block_size(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                           struct column **out, struct error *err)
{
  (void)args; (void)err;
  int op = call->def->op;
  if (op == 0) {
    uint64_t *v = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
    for (uint32_t i = 0; i < rows; i++)
      v[i] = rows;
    *out = col_from_u64(ev->arena, call->type, v, rows);
    return 0;
  }
  uint64_t *v = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
  uint64_t base = 0;
  if (op == 2) {
    base = (uint64_t)call->i0;
    call->i0 += rows;
  }
  for (uint32_t i = 0; i < rows; i++)
    v[i] = base + i;
  *out = col_from_u64(ev->arena, call->type, v, rows);
  return 0;
}

int fr_block_size(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 0, 0, err);
  if (rc)
    return rc;
  call->type = call->def->op == 2 ? type_u64() : datatype_simple(TYPE_UINT64);
  call->i0 = 0;
  call->exec = exec_block_size;
  return 0;
}

/* ---- throwIf(cond[, message]) ---- */

static int exec_throw_if(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                         struct column **out, struct error *err)
{
  uint32_t n = args[0]->is_const ? 1 : rows;
  const uint8_t *t = col_as_bool(ev->arena, args[0], n);
  for (uint32_t i = 0; i < n; i++) {
    if (t[i]) {
      if (call->arg_count > 1) {
        struct slice m = column_get_bytes(args[1], column_row(args[1], i));
        return error_set(err, ERR_FUNCTION_THROW_IF_VALUE_IS_NON_ZERO, "%.*s", (int)m.len, m.ptr);
      }
      return error_set(err, ERR_FUNCTION_THROW_IF_VALUE_IS_NON_ZERO,
                       "Value passed to 'throwIf' function is non-zero");
    }
  }
  *out = col_new(ev->arena, type_u8(), n);
  return 0;
}

int fr_throw_if(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 3, err);
  if (rc)
    return rc;
  if (!type_is_int_or_bool(call->arg_types[0]))
    return fn_illegal_type(call, 0, err);
  if (call->arg_count > 1 && !fn_arg_is_const(call, 1))
    return error_set(err, ERR_ILLEGAL_COLUMN, "Second argument of function throwIf must be a constant string");
  call->type = type_u8();
  call->exec = exec_throw_if;
  return 0;
}

/* ---- sleep(seconds), bounded like ClickHouse (3 s per block) ---- */

enum { SLEEP_PER_BLOCK_US_MAX = 3000000 };

static int exec_sleep(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                      struct column **out, struct error *err)
{
  double secs = column_get_f64(args[0], 0);
  double total = call->def->op == 1 ? secs * rows : secs;
  if (total * 1e6 > SLEEP_PER_BLOCK_US_MAX)
    return error_set(err, ERR_TOO_SLOW, "The maximum sleep time is 3000000 microseconds. Requested: %g",
                     total * 1e6);
  if (total > 0) {
    /* sleep in slices so cancellation and timeouts are honoured */
    double left = total;
    while (left > 0) {
      double step = left > 0.1 ? 0.1 : left;
      struct timespec ts = { (time_t)step, (long)((step - (double)(time_t)step) * 1e9) };
      nanosleep(&ts, NULL);
      left -= step;
      int rc = exec_check_limits(ev->ctx, err);
      if (rc)
        return rc;
    }
  }
  *out = col_new(ev->arena, type_u8(), rows);
  return 0;
}

int fr_sleep(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, 1, err);
  if (rc)
    return rc;
  if (!type_is_number_or_bool(call->arg_types[0]) || !fn_arg_is_const(call, 0))
    return error_set(err, ERR_ILLEGAL_COLUMN, "The argument of function %s must be constant", call->name);
  call->type = type_u8();
  call->exec = exec_sleep;
  return 0;
}

/* ---- random numbers (xorshift-style generator seeded per call) ---- */

static uint64_t rng_next(uint64_t *s)
{
  uint64_t x = *s += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

static int exec_rand(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  (void)args; (void)err;
  uint64_t *s = (uint64_t *)&call->i0;
  int op = call->def->op;
  if (op == 3) {
    struct column *c = col_new(ev->arena, datatype_simple(TYPE_UUID), rows);
    unsigned char *d = c->data;
    for (uint32_t i = 0; i < rows; i++) {
      uint64_t hi = rng_next(s), lo = rng_next(s);
      hi = (hi & ~0xF000ULL) | 0x4000ULL;                      /* version 4 */
      lo = (lo & ~0xC000000000000000ULL) | 0x8000000000000000ULL; /* variant */
      memcpy(d + 16 * (size_t)i, &hi, 8);
      memcpy(d + 16 * (size_t)i + 8, &lo, 8);
    }
    *out = c;
    return 0;
  }
  if (op == 2) {
    double *v = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
    for (uint32_t i = 0; i < rows; i++)
      v[i] = (double)(rng_next(s) >> 11) / 9007199254740992.0;
    *out = col_from_f64(ev->arena, type_f64(), v, rows);
    return 0;
  }
  uint64_t *v = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
  for (uint32_t i = 0; i < rows; i++)
    v[i] = rng_next(s);
  *out = col_from_u64(ev->arena, call->type, v, rows);
  return 0;
}

int fr_rand(struct fn_call *call, struct error *err)
{
  (void)err;
  static _Atomic uint64_t counter;
  call->i0 = (int64_t)(clock_realtime_ns() ^ (atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15ULL));
  int op = call->def->op;
  call->type = op == 0 ? datatype_simple(TYPE_UINT32) : op == 1 ? type_u64() : op == 2 ? type_f64()
             : datatype_simple(TYPE_UUID);
  call->exec = exec_rand;
  return 0;
}

/* ---- xxHash ---- */

static int exec_hash(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                     struct column **out, struct error *err)
{
  (void)err;
  int op = call->def->op;
  uint64_t *v = arena_alloc(ev->arena, 8 * (size_t)(rows ? rows : 1));
  struct buf b;
  buf_init(&b);
  for (uint32_t i = 0; i < rows; i++) {
    uint64_t h = 0;
    for (uint32_t j = 0; j < call->arg_count; j++) {
      struct column *c = args[j];
      uint32_t r = column_row(c, i);
      const void *p;
      size_t n;
      struct slice s;
      if (c->type->id == TYPE_STRING || c->type->id == TYPE_FIXED_STRING) {
        s = column_get_bytes(c, r);
        p = s.ptr;
        n = s.len;
      } else if (datatype_fixed_bytes(c->type) && c->type->id != TYPE_LOW_CARDINALITY) {
        n = datatype_fixed_bytes(c->type);
        p = (const char *)c->data + (size_t)r * n;
      } else {
        buf_reset(&b);
        key_serialize(&b, c, r);
        p = b.data;
        n = b.len;
      }
      uint64_t hj = op == 1 ? XXH32(p, n, 0) : op == 2 ? XXH3_64bits(p, n) : XXH64(p, n, 0);
      h = j == 0 ? hj : hash_u64(h ^ hj);
    }
    v[i] = h;
  }
  buf_free(&b);
  *out = col_from_u64(ev->arena, call->type, v, rows);
  return 0;
}

int fr_hash(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 1, UINT32_MAX, err);
  if (rc)
    return rc;
  call->type = call->def->op == 1 ? datatype_simple(TYPE_UINT32) : type_u64();
  call->exec = exec_hash;
  return 0;
}

/* ---- bar(x, min, max[, width]) ---- */

static int exec_bar(struct fn_call *call, struct eval *ev, struct column **args, uint32_t rows,
                    struct column **out, struct error *err)
{
  (void)err;
  struct column *r = col_new_empty(ev->arena, type_str(), rows);
  static const char *const parts[] = { "", "\xE2\x96\x8F", "\xE2\x96\x8E", "\xE2\x96\x8D", "\xE2\x96\x8C",
                                       "\xE2\x96\x8B", "\xE2\x96\x8A", "\xE2\x96\x89" };
  for (uint32_t i = 0; i < rows; i++) {
    double x = column_get_f64(args[0], column_row(args[0], i));
    double lo = column_get_f64(args[1], column_row(args[1], i)), hi = column_get_f64(args[2], column_row(args[2], i));
    double w = call->arg_count > 3 ? column_get_f64(args[3], column_row(args[3], i)) : 80;
    double frac = hi > lo ? (x - lo) / (hi - lo) : 0;
    if (frac < 0)
      frac = 0;
    if (frac > 1)
      frac = 1;
    double units = frac * w * 8;
    uint64_t full = (uint64_t)(units / 8), rest = (uint64_t)units % 8;
    col_str_reserve(r, full * 3 + 3);
    for (uint64_t k = 0; k < full; k++) {
      memcpy(r->chars + r->chars_len, "\xE2\x96\x88", 3);
      r->chars_len += 3;
    }
    size_t pl = strlen(parts[rest]);
    memcpy(r->chars + r->chars_len, parts[rest], pl);
    r->chars_len += pl;
    col_str_append(r, NULL, 0);
  }
  *out = r;
  return 0;
}

int fr_bar(struct fn_call *call, struct error *err)
{
  int rc = fn_check_args(call, 3, 4, err);
  if (rc)
    return rc;
  for (uint32_t j = 0; j < call->arg_count; j++)
    if (!type_is_number_or_bool(call->arg_types[j]))
      return fn_illegal_type(call, j, err);
  call->type = type_str();
  call->exec = exec_bar;
  return 0;
}
