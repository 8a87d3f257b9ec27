/* Query settings: the registry of known settings (settings.def: name, type,
 * default, description), and a per-query set of effective values. Unknown
 * names are UNKNOWN_SETTING (115); bad values BAD_ARGUMENTS / CANNOT_PARSE_*.
 * system.settings lists the registry with the effective values. */
#ifndef SPANHOUSE_QUERY_SETTINGS_H
#define SPANHOUSE_QUERY_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/error.h"

struct settings;

struct settings *settings_create(struct arena *a);                   /* all defaults */
int settings_set(struct settings *s, const char *name, const char *value, struct error *err);
bool settings_is_known(const char *name);
uint64_t settings_get_u64(const struct settings *s, const char *name);  /* programmer error if unknown */
int64_t settings_get_i64(const struct settings *s, const char *name);
double settings_get_f64(const struct settings *s, const char *name);
bool settings_get_bool(const struct settings *s, const char *name);
const char *settings_get_str(const struct settings *s, const char *name);

/* Iteration for system.settings: index 0..settings_count()-1. */
uint32_t settings_count(void);
void settings_describe(const struct settings *s, uint32_t index, const char **name, const char **type,
                       const char **value, const char **default_value, const char **description, bool *changed);

#endif
