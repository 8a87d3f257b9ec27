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
