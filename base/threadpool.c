/* Thread pool: one mutex-protected FIFO. Simple on purpose: tasks here are
 * whole HTTP requests (milliseconds or more), so the queue lock is never the
 * bottleneck. A task wakes the worker that went idle last (each idle worker
 * waits on its own condition variable, on a stack): the busiest few workers
 * take the load with warm memory, and the rest stay idle long enough to give
 * their memory back (mem_thread_idle) instead of all taking turns. */
#include "base/threadpool.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { POOL_IDLE_MS = 1000 };        /* a worker idle this long gives its memory back */

struct pool_task {
  struct pool_task *next;
  threadpool_fn fn;
  void *arg;
};

struct pool_worker {
  pthread_cond_t wake;
  bool listed;                     /* on the idle stack (guarded by the pool's lock) */
};

struct threadpool {
  pthread_mutex_t lock;
  struct pool_worker *workers;
  int *idle;                       /* stack of idle workers' indexes, last idle on top */
  int idle_count;
  struct pool_task *head, *tail;   /* FIFO, guarded by lock */
  uint64_t queued;                 /* tasks in the FIFO */
  int busy;                        /* workers inside a task */
  bool closing;                    /* no more submits; workers exit when empty */
  bool joined;
  int thread_count;                /* started */
  int worker_count;                /* workers[] and idle[] entries */
  pthread_t *threads;
  char name[11];
};

struct worker_arg {
  struct threadpool *pool;
  int index;
};

static void idle_remove(struct threadpool *pool, int index)
{
  for (int i = 0; i < pool->idle_count; i++)
    if (pool->idle[i] == index) {
      memmove(&pool->idle[i], &pool->idle[i + 1], sizeof *pool->idle * (size_t)(pool->idle_count - i - 1));
      pool->idle_count--;
      break;
    }
  pool->workers[index].listed = false;
}

static void *worker_main(void *p)
{
  struct worker_arg *wa = p;
  struct threadpool *pool = wa->pool;
  char tname[16];
  snprintf(tname, sizeof tname, "%s-%d", pool->name, wa->index);
  int wa_index = wa->index;
  mem_free(wa);
  log_set_thread_name(tname);
  pthread_setname_np(pthread_self(), tname);

  struct pool_worker *me = &pool->workers[wa_index];
  pthread_mutex_lock(&pool->lock);
  bool worked = false;               /* ran a task since it last gave memory back */
  for (;;) {
    while (!pool->head && !pool->closing) {
      if (!me->listed) {
        pool->idle[pool->idle_count++] = wa_index;
        me->listed = true;
      }
      if (!worked) {
        pthread_cond_wait(&me->wake, &pool->lock);
        continue;
      }
      /* idle for a while after work: return the task's memory (a busy
       * worker keeps it, or every task would fault its pages back in) */
      struct timespec ts = clock_realtime_deadline((int64_t)POOL_IDLE_MS * 1000000);
      if (pthread_cond_timedwait(&me->wake, &pool->lock, &ts) == ETIMEDOUT) {
        worked = false;
        pthread_mutex_unlock(&pool->lock);
        mem_thread_idle();
        pthread_mutex_lock(&pool->lock);
      }
    }
    if (me->listed)                  /* woken by something other than a submit */
      idle_remove(pool, wa_index);
    struct pool_task *t = pool->head;
    if (!t)
      break;                        /* closing and drained */
    pool->head = t->next;
    if (!pool->head)
      pool->tail = NULL;
    pool->queued--;
    pool->busy++;
    pthread_mutex_unlock(&pool->lock);
    t->fn(t->arg);
    mem_free(t);
    worked = true;
    pthread_mutex_lock(&pool->lock);
    pool->busy--;
  }
  pthread_mutex_unlock(&pool->lock);
  return NULL;
}

int threadpool_create(struct threadpool **out, int threads, const char *name, struct error *err)
{
  int rc = 0;
  struct threadpool *pool = mem_calloc(1, sizeof *pool);
  if (threads < 1)
    threads = 1;
  pthread_mutex_init(&pool->lock, NULL);
  snprintf(pool->name, sizeof pool->name, "%s", name ? name : "pool");
  pool->threads = mem_calloc((size_t)threads, sizeof *pool->threads);
  pool->workers = mem_calloc((size_t)threads, sizeof *pool->workers);
  pool->idle = mem_calloc((size_t)threads, sizeof *pool->idle);
  for (int i = 0; i < threads; i++)
    pthread_cond_init(&pool->workers[i].wake, NULL);
  pool->worker_count = threads;
  for (int i = 0; i < threads; i++) {
    struct worker_arg *wa = mem_alloc(sizeof *wa);
    wa->pool = pool;
    wa->index = i;
    int e = pthread_create(&pool->threads[i], NULL, worker_main, wa);
    if (e != 0) {
      mem_free(wa);
      rc = error_set(err, ERR_LOGICAL_ERROR, "cannot start thread %d of pool %s: %s", i, pool->name, strerror(e));
      goto out_stop;
    }
    pool->thread_count++;
  }
  *out = pool;
  return 0;

out_stop:
  threadpool_destroy(pool);
  return rc;
}

int threadpool_submit(struct threadpool *pool, threadpool_fn fn, void *arg)
{
  struct pool_task *t = mem_alloc(sizeof *t);
  t->next = NULL;
  t->fn = fn;
  t->arg = arg;
  pthread_mutex_lock(&pool->lock);
  if (pool->closing) {
    pthread_mutex_unlock(&pool->lock);
    mem_free(t);
    return ERR_LOGICAL_ERROR;
  }
  if (pool->tail)
    pool->tail->next = t;
  else
    pool->head = t;
  pool->tail = t;
  pool->queued++;
  if (pool->idle_count) {
    int w = pool->idle[--pool->idle_count];
    pool->workers[w].listed = false;
    pthread_cond_signal(&pool->workers[w].wake);
  }
  pthread_mutex_unlock(&pool->lock);
  return 0;
}

void threadpool_shutdown(struct threadpool *pool)
{
  pthread_mutex_lock(&pool->lock);
  pool->closing = true;
  bool joined = pool->joined;
  pool->joined = true;
  for (int i = 0; i < pool->worker_count; i++)
    pthread_cond_signal(&pool->workers[i].wake);
  pthread_mutex_unlock(&pool->lock);
  if (joined)
    return;
  for (int i = 0; i < pool->thread_count; i++)
    pthread_join(pool->threads[i], NULL);
}

void threadpool_destroy(struct threadpool *pool)
{
  if (!pool)
    return;
  threadpool_shutdown(pool);
  pthread_mutex_destroy(&pool->lock);
  for (int i = 0; i < pool->worker_count; i++)
    pthread_cond_destroy(&pool->workers[i].wake);
  mem_free(pool->workers);
  mem_free(pool->idle);
  mem_free(pool->threads);
  mem_free(pool);
}

uint64_t threadpool_queued(struct threadpool *pool)
{
  pthread_mutex_lock(&pool->lock);
  uint64_t n = pool->queued;
  pthread_mutex_unlock(&pool->lock);
  return n;
}

int threadpool_busy(struct threadpool *pool)
{
  pthread_mutex_lock(&pool->lock);
  int n = pool->busy;
  pthread_mutex_unlock(&pool->lock);
  return n;
}
