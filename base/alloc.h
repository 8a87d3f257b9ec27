/* Heap allocation for the whole process: a thin wrapper over mimalloc that
 * keeps an exact count of live bytes for /metrics and memory budgets.
 * Out of memory aborts (a budget, checked before allocating, is the way to
 * refuse work; see mem_budget_try_reserve). Sanitizer builds use libc malloc
 * so ASan sees every allocation. */
#ifndef SPANHOUSE_BASE_ALLOC_H
#define SPANHOUSE_BASE_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

void *mem_alloc(size_t bytes);                 /* never NULL */
void *mem_calloc(size_t count, size_t bytes);  /* zeroed, never NULL */
void *mem_realloc(void *p, size_t bytes);      /* never NULL */
void  mem_free(void *p);                       /* NULL is fine */
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t len);

/* The calling thread has had nothing to do for a while (call it then, not
 * after every task: the next task would fault its pages back in): when it
 * allocated more than a little since it last came here, its freed pages go
 * back to the OS. mimalloc keeps a thread's freed pages for that thread's
 * next allocations and releases them only while the thread allocates, so a
 * thread that sleeps (a request handler after a big query) would hold them
 * for good. */
void mem_thread_idle(void);
uint64_t mem_live_bytes(void);                 /* bytes currently allocated */
uint64_t mem_peak_bytes(void);                 /* high-water mark */

/* A budget shared by producers (ingest buffers, query memory): reserve before
 * taking memory, release after. Reservation fails instead of exceeding max. */
struct mem_budget {
  _Atomic uint64_t used_bytes;
  uint64_t max_bytes;                          /* 0 = unlimited */
};
bool mem_budget_try_reserve(struct mem_budget *b, uint64_t bytes);
void mem_budget_release(struct mem_budget *b, uint64_t bytes);

#endif
