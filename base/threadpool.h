/* Fixed pool of worker threads draining one FIFO of tasks. Used for work that
 * blocks (HTTP handlers run queries and talk to sockets in blocking style).
 * Tasks are fn+arg; the queue node is allocated by the pool so callers need
 * no storage. Shutdown runs every task already queued, then joins. */
#ifndef SPANHOUSE_BASE_THREADPOOL_H
#define SPANHOUSE_BASE_THREADPOOL_H

#include <stddef.h>
#include <stdint.h>

struct threadpool;

typedef void (*threadpool_fn)(void *arg);

/* Starts `threads` workers named "<name>-N" (name up to 10 chars). Returns 0
 * or an ERR_ code with err filled (thread creation failed). */
struct error;
int  threadpool_create(struct threadpool **out, int threads, const char *name, struct error *err);
/* Queues fn(arg) for a worker. Any thread. Returns 0, or ERR_LOGICAL_ERROR once
 * shutdown has begun (the task is not run). */
int  threadpool_submit(struct threadpool *pool, threadpool_fn fn, void *arg);
/* Stops accepting tasks, runs every queued task, joins the workers. Idempotent. */
void threadpool_shutdown(struct threadpool *pool);
/* Shuts down (if not yet) and frees. */
void threadpool_destroy(struct threadpool *pool);

uint64_t threadpool_queued(struct threadpool *pool);   /* tasks waiting, for metrics */
int      threadpool_busy(struct threadpool *pool);     /* workers running a task */

#endif
