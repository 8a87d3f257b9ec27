/* Private to the evloop files: the shared loop object and the backend vtable.
 * evloop.c owns posting, stopping, the ready list and counters; each backend
 * file owns how ops reach the kernel. */
#ifndef SPANHOUSE_BASE_EVLOOP_INT_H
#define SPANHOUSE_BASE_EVLOOP_INT_H

#include "base/evloop.h"

#include <pthread.h>
#include <stdatomic.h>

enum evloop_op_kind { EVOP_NONE, EVOP_ACCEPT, EVOP_RECV, EVOP_SEND, EVOP_TIMER, EVOP_WAKE };

struct evloop_backend_ops {
  int  (*init)(struct evloop *loop);               /* 0 or -errno */
  void (*fini)(struct evloop *loop);
  void (*start)(struct evloop *loop, struct evloop_op *op);
  void (*cancel)(struct evloop *loop, struct evloop_op *op);
  int  (*wait)(struct evloop *loop, bool block);   /* dispatches completions; 0 or -errno */
};

struct evloop {
  const struct evloop_backend_ops *ops;
  enum evloop_backend backend;
  void *impl;                                      /* backend state */
  int wake_fd;                                     /* eventfd: posts and stop */
  pthread_mutex_t post_lock;
  struct evloop_task *post_head, *post_tail;       /* guarded by post_lock */
  atomic_bool stopping;
  struct evloop_op *ready_head, *ready_tail;       /* completions to deliver */
  _Atomic uint64_t ops_queued, ops_completed, sq_full, posts;
};

extern const struct evloop_backend_ops evloop_uring_ops;
extern const struct evloop_backend_ops evloop_epoll_ops;

/* Delivers a completion now (backend wait paths). */
void evloop_int_complete(struct evloop *loop, struct evloop_op *op, int64_t res);
/* Queues a completion for delivery after the current dispatch round. */
void evloop_int_ready(struct evloop *loop, struct evloop_op *op, int64_t res);
/* The wake eventfd fired: drains it and runs posted tasks. */
void evloop_int_woken(struct evloop *loop);
/* Non-blocking attempt of accept/recv/send: result or -EAGAIN. Used by epoll
 * and by tests; send advances op->done and returns -EAGAIN until all is out. */
int64_t evloop_int_try_io(struct evloop_op *op);

#endif
