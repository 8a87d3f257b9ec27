/* mimalloc wrapper with accounting; see alloc.h. */
#include "base/alloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SPANHOUSE_SAN
#include <malloc.h>
#define raw_malloc(n)     malloc(n)
#define raw_realloc(p, n) realloc(p, n)
#define raw_free(p)       free(p)
#define raw_usable(p)     malloc_usable_size(p)
#define raw_collect()     ((void)0)
#else
#include <mimalloc.h>
#include <pthread.h>
#define raw_malloc(n)     mi_malloc(n)
#define raw_realloc(p, n) mi_realloc(p, n)
#define raw_free(p)       mi_free(p)
#define raw_usable(p)     mi_usable_size(p)
/* mimalloc 2.0 decommits a thread's freed pages only when that thread
 * allocates a page in the same segment again, so a thread that goes quiet
 * keeps its high-water mark for good. Ending the thread's heap (it starts a
 * new one at its next allocation) abandons its segments: empty ones are
 * freed, and the free spans of the others are decommitted at once. */
#define raw_collect()     (pthread_once(&decommit_once, decommit_abandoned), mi_thread_done())
static pthread_once_t decommit_once = PTHREAD_ONCE_INIT;
static void decommit_abandoned(void) { mi_option_enable(mi_option_abandoned_page_decommit); }
#endif

/* Process-wide counters; the only mutable globals in base, by design: the
 * allocator itself is process-wide. */
static _Atomic uint64_t live_bytes;
static _Atomic uint64_t peak_bytes;

/* Bytes this thread allocated since it last returned its free memory
 * (mem_thread_idle). */
static _Thread_local uint64_t thread_allocated_bytes;

/* mem_thread_idle leaves alone a thread that allocated less than this since
 * the last time: it has little to give back, and a new heap costs a few
 * page faults. */
enum { IDLE_COLLECT_BYTES = 8u << 20 };

static void account_add(size_t n)
{
  thread_allocated_bytes += n;
  uint64_t now = atomic_fetch_add_explicit(&live_bytes, n, memory_order_relaxed) + n;
  uint64_t peak = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
  while (now > peak &&
         !atomic_compare_exchange_weak_explicit(&peak_bytes, &peak, now,
                                                memory_order_relaxed, memory_order_relaxed))
    ;
}

static void out_of_memory(size_t bytes)
{
  fprintf(stderr, "spanhouse: out of memory allocating %zu bytes\n", bytes);
  abort();
}

void *mem_alloc(size_t bytes)
{
  void *p = raw_malloc(bytes ? bytes : 1);
  if (!p)
    out_of_memory(bytes);
  account_add(raw_usable(p));
  return p;
}

void *mem_calloc(size_t count, size_t bytes)
{
  if (bytes && count > SIZE_MAX / bytes)
    out_of_memory(SIZE_MAX);
  void *p = mem_alloc(count * bytes);
  memset(p, 0, count * bytes);
  return p;
}

void *mem_realloc(void *p, size_t bytes)
{
  if (!p)
    return mem_alloc(bytes);
  size_t old = raw_usable(p);
  void *q = raw_realloc(p, bytes ? bytes : 1);
  if (!q)
    out_of_memory(bytes);
  atomic_fetch_sub_explicit(&live_bytes, old, memory_order_relaxed);
  account_add(raw_usable(q));
  return q;
}

void mem_free(void *p)
{
  if (!p)
    return;
  atomic_fetch_sub_explicit(&live_bytes, raw_usable(p), memory_order_relaxed);
  raw_free(p);
}

char *mem_strndup(const char *s, size_t len)
{
  char *d = mem_alloc(len + 1);
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *mem_strdup(const char *s) { return mem_strndup(s, strlen(s)); }

void mem_thread_idle(void)
{
  if (thread_allocated_bytes < IDLE_COLLECT_BYTES)
    return;
  thread_allocated_bytes = 0;
  raw_collect();
}

uint64_t mem_live_bytes(void) { return atomic_load_explicit(&live_bytes, memory_order_relaxed); }
uint64_t mem_peak_bytes(void) { return atomic_load_explicit(&peak_bytes, memory_order_relaxed); }

bool mem_budget_try_reserve(struct mem_budget *b, uint64_t bytes)
{
  uint64_t used = atomic_load_explicit(&b->used_bytes, memory_order_relaxed);
  do {
    if (b->max_bytes && used + bytes > b->max_bytes)
      return false;
  } while (!atomic_compare_exchange_weak_explicit(&b->used_bytes, &used, used + bytes,
                                                  memory_order_relaxed, memory_order_relaxed));
  return true;
}

void mem_budget_release(struct mem_budget *b, uint64_t bytes)
{
  atomic_fetch_sub_explicit(&b->used_bytes, bytes, memory_order_relaxed);
}
