/* Query settings: the registry generated from settings.def and a per-query
 * set of effective values. Values are parsed once when set, so readers get
 * typed values without re-parsing; the text form is kept for system.settings. */
#include "query/settings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum setting_kind { SK_UINT, SK_INT, SK_FLOAT, SK_BOOL, SK_STRING, SK_SECONDS, SK_MS };

struct setting_def {
  const char *name;
  enum setting_kind kind;
  const char *type;
  const char *default_text;
  const char *description;
};

static const struct setting_def setting_defs[] = {
#define SETTING(name, kind, type, def, desc) { #name, kind, type, def, desc },
#include "query/settings.def"
#undef SETTING
};

enum { SETTING_COUNT = sizeof setting_defs / sizeof setting_defs[0] };

struct setting_value {
  union {
    uint64_t u;
    int64_t i;
    double f;
  } v;
  const char *text;              /* canonical text form */
  bool changed;
};

struct settings {
  struct arena *arena;
  struct setting_value values[SETTING_COUNT];
};

static int setting_find(const char *name)
{
  /* Linear scan over ~130 entries: settings are set a handful of times per
   * query and read through cached lookups, so a hash is not worth it. */
  for (int i = 0; i < SETTING_COUNT; i++)
    if (strcmp(setting_defs[i].name, name) == 0)
      return i;
  return -1;
}

bool settings_is_known(const char *name) { return setting_find(name) >= 0; }

static bool parse_bool(const char *s, bool *out)
{
  if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0) { *out = true; return true; }
  if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0) { *out = false; return true; }
  return false;
}

static bool parse_u64(const char *s, uint64_t *out)
{
  if (!*s || *s == '-')
    return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
  if (!*s)
    return false;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

static bool parse_f64(const char *s, double *out)
{
  if (!*s)
    return false;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

/* Parses `text` for setting i into *val, keeping a canonical text copy in a. */
static int setting_parse(struct arena *a, int i, const char *text, struct setting_value *val, struct error *err)
{
  const struct setting_def *d = &setting_defs[i];
  switch (d->kind) {
  case SK_UINT:
  case SK_MS: {
    uint64_t u;
    bool b;
    if (parse_u64(text, &u)) {
      val->v.u = u;
    } else if (parse_bool(text, &b)) {
      val->v.u = b;
    } else if (strcmp(d->type, "MaxThreads") == 0 && strncmp(text, "auto", 4) == 0) {
      val->v.u = 0;
    } else {
      return error_set(err, ERR_CANNOT_PARSE_NUMBER, "Cannot parse number from '%s' for setting %s", text, d->name);
    }
    val->text = arena_printf(a, "%llu", (unsigned long long)val->v.u);
    if (strcmp(d->type, "NonZeroUInt64") == 0 && val->v.u == 0)
      return error_set(err, ERR_BAD_ARGUMENTS, "A setting's value has to be greater than 0: %s", d->name);
    return 0;
  }
  case SK_INT: {
    int64_t v;
    if (!parse_i64(text, &v))
      return error_set(err, ERR_CANNOT_PARSE_NUMBER, "Cannot parse number from '%s' for setting %s", text, d->name);
    val->v.i = v;
    val->text = arena_printf(a, "%lld", (long long)v);
    return 0;
  }
  case SK_FLOAT:
  case SK_SECONDS: {
    double f;
    if (!parse_f64(text, &f) || f != f)
      return error_set(err, ERR_CANNOT_PARSE_NUMBER, "Cannot parse number from '%s' for setting %s", text, d->name);
    if (d->kind == SK_SECONDS && f < 0)
      return error_set(err, ERR_BAD_ARGUMENTS, "Negative value %s for setting %s", text, d->name);
    val->v.f = f;
    val->text = arena_printf(a, "%.17g", f);
    /* shortest text that reads back: try increasing precision */
    for (int p = 1; p <= 17; p++) {
      char tmp[64];
      snprintf(tmp, sizeof tmp, "%.*g", p, f);
      if (strtod(tmp, NULL) == f) {
        val->text = arena_strdup(a, tmp);
        break;
      }
    }
    return 0;
  }
  case SK_BOOL: {
    bool b;
    uint64_t u;
    if (parse_bool(text, &b))
      val->v.u = b;
    else if (parse_u64(text, &u))
      val->v.u = u != 0;
    else
      return error_set(err, ERR_CANNOT_PARSE_TEXT, "Cannot parse boolean value here: '%s' for setting %s", text, d->name);
    val->text = val->v.u ? "1" : "0";
    return 0;
  }
  case SK_STRING:
    if (strcmp(d->type, "Char") == 0 && strlen(text) != 1)
      return error_set(err, ERR_BAD_ARGUMENTS, "A setting's value string has to be an exactly one character long: %s", d->name);
    if (strcmp(d->type, "OverflowMode") == 0 && strcmp(text, "throw") != 0 && strcmp(text, "break") != 0)
      return error_set(err, ERR_BAD_ARGUMENTS, "Unexpected value of OverflowMode: '%s'", text);
    val->text = arena_strdup(a, text);
    return 0;
  }
  return error_set(err, ERR_LOGICAL_ERROR, "bad setting kind");
}

struct settings *settings_create(struct arena *a)
{
  struct settings *s = arena_new(a, struct settings);
  s->arena = a;
  for (int i = 0; i < SETTING_COUNT; i++) {
    struct error err;
    int rc = setting_parse(a, i, setting_defs[i].default_text, &s->values[i], &err);
    if (rc) {
      fprintf(stderr, "settings.def: bad default for %s: %s\n", setting_defs[i].name, err.message);
      abort();
    }
    s->values[i].changed = false;
  }
  return s;
}

int settings_set(struct settings *s, const char *name, const char *value, struct error *err)
{
  int i = setting_find(name);
  if (i < 0)
    return error_set(err, ERR_UNKNOWN_SETTING, "Unknown setting '%s'", name);
  struct setting_value v = s->values[i];
  int rc = setting_parse(s->arena, i, value, &v, err);
  if (rc)
    return rc;
  v.changed = true;
  s->values[i] = v;
  /* keep the analyzer aliases in step */
  if (strcmp(name, "allow_experimental_analyzer") == 0)
    s->values[setting_find("enable_analyzer")] = v;
  return 0;
}

static const struct setting_value *get(const struct settings *s, const char *name, int *index)
{
  int i = setting_find(name);
  if (i < 0) {
    fprintf(stderr, "settings: unknown setting %s read\n", name);
    abort();
  }
  *index = i;
  return &s->values[i];
}

uint64_t settings_get_u64(const struct settings *s, const char *name)
{
  int i;
  const struct setting_value *v = get(s, name, &i);
  switch (setting_defs[i].kind) {
  case SK_INT: return v->v.i < 0 ? 0 : (uint64_t)v->v.i;
  case SK_FLOAT: case SK_SECONDS: return v->v.f < 0 ? 0 : (uint64_t)v->v.f;
  case SK_STRING: return strtoull(v->text, NULL, 10);
  default: return v->v.u;
  }
}

int64_t settings_get_i64(const struct settings *s, const char *name)
{
  int i;
  const struct setting_value *v = get(s, name, &i);
  switch (setting_defs[i].kind) {
  case SK_INT: return v->v.i;
  case SK_FLOAT: case SK_SECONDS: return (int64_t)v->v.f;
  case SK_STRING: return strtoll(v->text, NULL, 10);
  default: return (int64_t)v->v.u;
  }
}

double settings_get_f64(const struct settings *s, const char *name)
{
  int i;
  const struct setting_value *v = get(s, name, &i);
  switch (setting_defs[i].kind) {
  case SK_INT: return (double)v->v.i;
  case SK_FLOAT: case SK_SECONDS: return v->v.f;
  case SK_STRING: return strtod(v->text, NULL);
  default: return (double)v->v.u;
  }
}

bool settings_get_bool(const struct settings *s, const char *name)
{
  int i;
  const struct setting_value *v = get(s, name, &i);
  switch (setting_defs[i].kind) {
  case SK_INT: return v->v.i != 0;
  case SK_FLOAT: case SK_SECONDS: return v->v.f != 0;
  case SK_STRING: { bool b = false; parse_bool(v->text, &b); return b; }
  default: return v->v.u != 0;
  }
}

const char *settings_get_str(const struct settings *s, const char *name)
{
  int i;
  return get(s, name, &i)->text;
}

uint32_t settings_count(void) { return SETTING_COUNT; }

void settings_describe(const struct settings *s, uint32_t index, const char **name, const char **type,
                       const char **value, const char **default_value, const char **description, bool *changed)
{
  const struct setting_def *d = &setting_defs[index];
  *name = d->name;
  *type = d->type;
  *default_value = d->default_text;
  *description = d->description;
  *value = s->values[index].text;
  *changed = s->values[index].changed;
  if (strcmp(d->type, "MaxThreads") == 0 && s->values[index].v.u == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    *value = arena_printf(s->arena, "'auto(%ld)'", n > 0 ? n : 1);
    *default_value = *value;
  }
}
