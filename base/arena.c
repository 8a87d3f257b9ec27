/* Chunked bump allocator; see arena.h. Large requests get a chunk of their
 * own so one big allocation does not waste a default-sized tail. */
#include "base/arena.h"
#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct arena_chunk {
  struct arena_chunk *next;
  size_t size;                    /* usable bytes in data */
  size_t used;
  _Alignas(16) unsigned char data[];
};

struct arena_cleanup {
  struct arena_cleanup *next;
  void (*fn)(void *);
  void *arg;
};

enum { ARENA_CHUNK_DEFAULT = 16 * 1024, ARENA_ALIGN = 16 };

void arena_init(struct arena *a, size_t chunk_bytes)
{
  a->head = NULL;
  a->cleanups = NULL;
  a->chunk_bytes = chunk_bytes ? chunk_bytes : ARENA_CHUNK_DEFAULT;
  a->used_bytes = 0;
}

static void run_cleanups(struct arena *a)
{
  while (a->cleanups) {
    struct arena_cleanup *c = a->cleanups;
    a->cleanups = c->next;
    c->fn(c->arg);
  }
}

void arena_reset(struct arena *a)
{
  run_cleanups(a);
  /* Keep the oldest chunk (the tail of the list) to avoid churn. */
  struct arena_chunk *c = a->head, *keep = NULL;
  while (c) {
    struct arena_chunk *next = c->next;
    if (!next && c->size == a->chunk_bytes)
      keep = c;
    else
      mem_free(c);
    c = next;
  }
  if (keep) {
    keep->used = 0;
    keep->next = NULL;
  }
  a->head = keep;
  a->used_bytes = 0;
}

void arena_destroy(struct arena *a)
{
  run_cleanups(a);
  while (a->head) {
    struct arena_chunk *next = a->head->next;
    mem_free(a->head);
    a->head = next;
  }
  a->used_bytes = 0;
}

void *arena_alloc(struct arena *a, size_t bytes)
{
  size_t need = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (need == 0)
    need = ARENA_ALIGN;
  struct arena_chunk *c = a->head;
  if (!c || c->size - c->used < need) {
    size_t size = need > a->chunk_bytes / 4 ? need : a->chunk_bytes;
    struct arena_chunk *n = mem_alloc(sizeof *n + size);
    n->size = size;
    n->used = 0;
    if (c && size != a->chunk_bytes) {
      /* A dedicated chunk goes behind the current one so the current
       * chunk's free tail stays usable. */
      n->next = c->next;
      c->next = n;
    } else {
      n->next = c;
      a->head = n;
    }
    c = n;
  }
  void *p = c->data + c->used;
  c->used += need;
  a->used_bytes += need;
  return p;
}

void *arena_calloc(struct arena *a, size_t count, size_t bytes)
{
  size_t total = count * bytes;
  void *p = arena_alloc(a, total);
  memset(p, 0, total);
  return p;
}

void *arena_realloc(struct arena *a, void *p, size_t old_bytes, size_t new_bytes)
{
  if (new_bytes <= old_bytes)
    return p;
  struct arena_chunk *c = a->head;
  size_t old_rounded = (old_bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  size_t new_rounded = (new_bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  /* Grow in place when p is the last allocation of the current chunk. */
  if (p && c && (unsigned char *)p + old_rounded == c->data + c->used &&
      c->used - old_rounded + new_rounded <= c->size) {
    c->used += new_rounded - old_rounded;
    a->used_bytes += new_rounded - old_rounded;
    return p;
  }
  void *q = arena_alloc(a, new_bytes);
  if (p && old_bytes)
    memcpy(q, p, old_bytes);
  return q;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
  char *d = arena_alloc(a, len + 1);
  if (len)
    memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *arena_strdup(struct arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(struct arena *a, const char *fmt, ...)
{
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *d = arena_alloc(a, (size_t)n + 1);
  vsnprintf(d, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return d;
}

void arena_on_cleanup(struct arena *a, void (*fn)(void *), void *arg)
{
  struct arena_cleanup *c = arena_alloc(a, sizeof *c);
  c->fn = fn;
  c->arg = arg;
  c->next = a->cleanups;
  a->cleanups = c;
}
