/* Arenas: bump allocation for memory that dies together (process,
 * connection, request/query, per-block scratch). Nothing is freed singly;
 * arena_reset drops everything but the first chunk, arena_destroy all.
 * Cleanups registered on an arena run (newest first) at reset/destroy, so an
 * arena can also close fds or unref parts. Not thread-safe: one owner. */
#ifndef SPANHOUSE_BASE_ARENA_H
#define SPANHOUSE_BASE_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct arena_chunk;
struct arena_cleanup;

struct arena {
  struct arena_chunk *head;       /* current chunk, newest first */
  struct arena_cleanup *cleanups;
  size_t chunk_bytes;             /* default size of a new chunk */
  size_t used_bytes;              /* bytes handed out since last reset */
};

void  arena_init(struct arena *a, size_t chunk_bytes);   /* 0 = default 16 KiB */
void  arena_reset(struct arena *a);
void  arena_destroy(struct arena *a);

void *arena_alloc(struct arena *a, size_t bytes);        /* 16-byte aligned, never NULL */
void *arena_calloc(struct arena *a, size_t count, size_t bytes);
void *arena_realloc(struct arena *a, void *p, size_t old_bytes, size_t new_bytes);
char *arena_strndup(struct arena *a, const char *s, size_t len);  /* NUL-terminated */
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void  arena_on_cleanup(struct arena *a, void (*fn)(void *), void *arg);

#define arena_new(a, type) ((type *)arena_calloc((a), 1, sizeof(type)))
#define arena_new_array(a, type, n) ((type *)arena_calloc((a), (n), sizeof(type)))

#endif
