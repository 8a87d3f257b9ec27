/* The decoded block cache: blocks that part_reader_read decompressed, kept
 * by (reader, block ordinal) under one byte budget with LRU eviction, so
 * consecutive reads of a few granules (merges, scans with small blocks) do
 * not decompress the same 1 MiB block once per granule.
 *
 * Invariants:
 *  1. An entry is in the table (and on the LRU list and its owner's list)
 *     or private; only table entries count toward the budget.
 *  2. Entries are refcounted; eviction and owner drops take an entry out of
 *     the table, and its memory goes with the last reference.
 *  3. Owner ids are never reused, so a closed reader's blocks can never be
 *     found by another reader, even one at the same address.
 *  4. Everything is guarded by one mutex; no I/O or decoding happens under it.
 *     fork() takes it first (pthread_atfork), so a child never inherits it
 *     locked by a thread that does not exist there. */
#include "storage/storage_int.h"

#include <pthread.h>
#include <stdlib.h>

#include "base/alloc.h"

struct bcache_entry {
  uint64_t owner_id;
  uint32_t block;
  uint32_t len;
  int refs;                      /* guarded by the cache mutex */
  bool in_table;
  struct bcache_owner *owner;    /* while in_table */
  struct bcache_entry *hnext;    /* hash chain */
  struct bcache_entry *lru_prev, *lru_next;   /* head = least recently used */
  struct bcache_entry *own_prev, *own_next;
  uint8_t data[];
};

enum { BCACHE_DEFAULT_BYTES = 256u << 20 };

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bcache_entry **table;
static uint32_t table_size;      /* power of two, or 0 */
static uint64_t entries;
static struct bcache_entry *lru_head, *lru_tail;
static uint64_t bytes, max_bytes = BCACHE_DEFAULT_BYTES;
static uint64_t hits, misses, evictions;
static _Atomic uint64_t next_owner_id = 1;

static uint32_t slot_of(uint64_t owner, uint32_t block)
{
  uint64_t h = (owner * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)block * 0xC2B2AE3D27D4EB4Full);
  h ^= h >> 29;
  return (uint32_t)h & (table_size - 1);
}

static void table_grow_locked(void)
{
  uint32_t size = table_size ? table_size * 2 : 1024;
  struct bcache_entry **t = mem_calloc(size, sizeof *t);
  struct bcache_entry **old = table;
  uint32_t old_size = table_size;
  table = t;
  table_size = size;
  for (uint32_t i = 0; i < old_size; i++)
    for (struct bcache_entry *e = old[i], *next; e; e = next) {
      next = e->hnext;
      uint32_t s = slot_of(e->owner_id, e->block);
      e->hnext = table[s];
      table[s] = e;
    }
  mem_free(old);
}

/* Takes e out of the table, the LRU and its owner's list; frees it if unused. */
static void remove_locked(struct bcache_entry *e)
{
  struct bcache_entry **pp = &table[slot_of(e->owner_id, e->block)];
  while (*pp != e)
    pp = &(*pp)->hnext;
  *pp = e->hnext;
  if (e->lru_prev)
    e->lru_prev->lru_next = e->lru_next;
  else
    lru_head = e->lru_next;
  if (e->lru_next)
    e->lru_next->lru_prev = e->lru_prev;
  else
    lru_tail = e->lru_prev;
  if (e->own_prev)
    e->own_prev->own_next = e->own_next;
  else
    e->owner->head = e->own_next;
  if (e->own_next)
    e->own_next->own_prev = e->own_prev;
  e->in_table = false;
  e->owner = NULL;
  bytes -= e->len;
  entries--;
  if (e->refs == 0)
    mem_free(e);
}

static void evict_locked(uint64_t limit)
{
  while (bytes > limit && lru_head) {
    evictions++;
    remove_locked(lru_head);
  }
}

static void lru_touch_locked(struct bcache_entry *e)
{
  if (e == lru_tail)
    return;
  if (e->lru_prev)
    e->lru_prev->lru_next = e->lru_next;
  else
    lru_head = e->lru_next;
  e->lru_next->lru_prev = e->lru_prev;
  e->lru_prev = lru_tail;
  e->lru_next = NULL;
  lru_tail->lru_next = e;
  lru_tail = e;
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static void fork_prepare(void) { pthread_mutex_lock(&cache_lock); }
static void fork_release(void) { pthread_mutex_unlock(&cache_lock); }
static void fork_register(void) { pthread_atfork(fork_prepare, fork_release, fork_release); }

void bcache_owner_init(struct bcache_owner *o)
{
  pthread_once(&fork_once, fork_register);
  o->id = atomic_fetch_add(&next_owner_id, 1);
  o->head = NULL;
}

void bcache_owner_drop(struct bcache_owner *o)
{
  pthread_mutex_lock(&cache_lock);
  while (o->head)
    remove_locked(o->head);
  pthread_mutex_unlock(&cache_lock);
}

uint8_t *bcache_data(struct bcache_entry *e) { return e->data; }

struct bcache_entry *bcache_get(struct bcache_owner *o, uint32_t block)
{
  struct bcache_entry *found = NULL;
  pthread_mutex_lock(&cache_lock);
  if (table_size)
    for (struct bcache_entry *e = table[slot_of(o->id, block)]; e; e = e->hnext)
      if (e->owner_id == o->id && e->block == block) {
        found = e;
        break;
      }
  if (found) {
    found->refs++;
    lru_touch_locked(found);
    hits++;
  } else {
    misses++;
  }
  pthread_mutex_unlock(&cache_lock);
  return found;
}

struct bcache_entry *bcache_alloc(uint32_t len)
{
  struct bcache_entry *e = mem_alloc(sizeof *e + (len ? len : 1));
  memset(e, 0, sizeof *e);
  e->len = len;
  e->refs = 1;
  return e;
}

struct bcache_entry *bcache_put(struct bcache_owner *o, uint32_t block, struct bcache_entry *e)
{
  pthread_mutex_lock(&cache_lock);
  /* a block larger than an eighth of the budget would flush too much */
  if (max_bytes == 0 || (uint64_t)e->len * 8 > max_bytes) {
    pthread_mutex_unlock(&cache_lock);
    return e;
  }
  if (table_size)
    for (struct bcache_entry *x = table[slot_of(o->id, block)]; x; x = x->hnext)
      if (x->owner_id == o->id && x->block == block) {
        /* another reader decoded it meanwhile: use theirs */
        x->refs++;
        lru_touch_locked(x);
        pthread_mutex_unlock(&cache_lock);
        mem_free(e);
        return x;
      }
  if (entries + 1 > (uint64_t)table_size * 2)
    table_grow_locked();
  e->owner_id = o->id;
  e->block = block;
  e->owner = o;
  e->in_table = true;
  uint32_t s = slot_of(o->id, block);
  e->hnext = table[s];
  table[s] = e;
  e->lru_prev = lru_tail;
  e->lru_next = NULL;
  if (lru_tail)
    lru_tail->lru_next = e;
  else
    lru_head = e;
  lru_tail = e;
  e->own_prev = NULL;
  e->own_next = o->head;
  if (o->head)
    o->head->own_prev = e;
  o->head = e;
  bytes += e->len;
  entries++;
  evict_locked(max_bytes);
  pthread_mutex_unlock(&cache_lock);
  return e;
}

void bcache_unref(struct bcache_entry *e)
{
  if (!e)
    return;
  pthread_mutex_lock(&cache_lock);
  bool free_it = --e->refs == 0 && !e->in_table;
  pthread_mutex_unlock(&cache_lock);
  if (free_it)
    mem_free(e);
}

void storage_block_cache_set_max_bytes(uint64_t limit)
{
  pthread_mutex_lock(&cache_lock);
  max_bytes = limit;
  evict_locked(limit);
  pthread_mutex_unlock(&cache_lock);
}

void storage_block_cache_get_stats(struct storage_block_cache_stats *out)
{
  pthread_mutex_lock(&cache_lock);
  *out = (struct storage_block_cache_stats){ bytes, max_bytes, entries, hits, misses, evictions };
  pthread_mutex_unlock(&cache_lock);
}
