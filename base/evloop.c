/* Event loop: the backend-independent half (see evloop.h). Posting from
 * other threads goes through a mutex-guarded list plus an eventfd that the
 * backend watches; completions the backend knows without the kernel (errors at
 * start, epoll's immediate successes, cancels) wait in the ready list so a
 * callback never runs inside the call that started its op. */
#include "base/evloop_int.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

const char *evloop_backend_name(enum evloop_backend backend)
{
  switch (backend) {
  case EVLOOP_URING: return "io_uring";
  case EVLOOP_EPOLL: return "epoll";
  default:           return "auto";
  }
}

static void *probe_uring(void *arg)
{
  int *rc = arg;
  struct io_uring ring;
  *rc = io_uring_queue_init(4, &ring, 0);
  if (*rc == 0)
    io_uring_queue_exit(&ring);
  return NULL;
}

enum evloop_backend evloop_backend_select(enum evloop_backend want)
{
  const char *env = getenv("SPANHOUSE_EVLOOP");
  if (want == EVLOOP_AUTO && env && *env) {
    if (strcmp(env, "epoll") == 0)
      want = EVLOOP_EPOLL;
    else if (strcmp(env, "io_uring") == 0 || strcmp(env, "uring") == 0)
      want = EVLOOP_URING;
    else
      log_warn("SPANHOUSE_EVLOOP=%s is not io_uring or epoll; probing", env);
  }
  if (want == EVLOOP_EPOLL) {
    log_info("event loop backend: epoll (requested)");
    return EVLOOP_EPOLL;
  }
  /* Probe with a tiny ring: the refusal we care about (seccomp, sysctl
   * kernel.io_uring_disabled, old kernels) shows up at setup time. The probe
   * runs on a throwaway thread because io_uring attaches state to the task
   * that creates a ring, and the caller's blocking syscalls then see EINTR
   * when the kernel tears the ring down. */
  pthread_t t;
  int rc;
  if (pthread_create(&t, NULL, probe_uring, &rc) != 0)
    rc = -EAGAIN;
  else
    pthread_join(t, NULL);
  if (rc < 0) {
    log_info("event loop backend: epoll (io_uring_queue_init refused: %s)", strerror(-rc));
    return EVLOOP_EPOLL;
  }
  log_info("event loop backend: io_uring");
  return EVLOOP_URING;
}

int evloop_create(struct evloop **out, enum evloop_backend backend, struct error *err)
{
  int rc = 0;
  if (backend == EVLOOP_AUTO)
    backend = evloop_backend_select(EVLOOP_AUTO);
  struct evloop *loop = mem_calloc(1, sizeof *loop);
  loop->backend = backend;
  loop->ops = backend == EVLOOP_URING ? &evloop_uring_ops : &evloop_epoll_ops;
  pthread_mutex_init(&loop->post_lock, NULL);
  atomic_init(&loop->stopping, false);
  loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (loop->wake_fd < 0) {
    rc = error_set(err, ERR_NETWORK_ERROR, "eventfd: %s", strerror(errno));
    goto out_free;
  }
  int e = loop->ops->init(loop);
  if (e < 0) {
    rc = error_set(err, ERR_NETWORK_ERROR, "%s event loop: %s", evloop_backend_name(backend), strerror(-e));
    goto out_close;
  }
  *out = loop;
  return 0;

out_close:
  close(loop->wake_fd);
out_free:
  pthread_mutex_destroy(&loop->post_lock);
  mem_free(loop);
  return rc;
}

void evloop_destroy(struct evloop *loop)
{
  if (!loop)
    return;
  loop->ops->fini(loop);
  close(loop->wake_fd);
  pthread_mutex_destroy(&loop->post_lock);
  mem_free(loop);
}

enum evloop_backend evloop_get_backend(const struct evloop *loop) { return loop->backend; }

static void op_start(struct evloop *loop, struct evloop_op *op, int kind, int fd, void *buf,
                     size_t len, evloop_cb cb, void *ctx)
{
  if (op->pending) {
    /* Programmer error: an op is reused before its callback ran. */
    log_error("evloop: op %p started twice", (void *)op);
    abort();
  }
  op->cb = cb;
  op->ctx = ctx;
  op->kind = (uint8_t)kind;
  op->fd = fd;
  op->buf = buf;
  op->len = len;
  op->done = 0;
  op->res = 0;
  op->registered = false;
  op->next = NULL;
  op->pending = true;
  atomic_fetch_add_explicit(&loop->ops_queued, 1, memory_order_relaxed);
  loop->ops->start(loop, op);
}

void evloop_accept(struct evloop *loop, struct evloop_op *op, int listen_fd, evloop_cb cb, void *ctx)
{
  op_start(loop, op, EVOP_ACCEPT, listen_fd, NULL, 0, cb, ctx);
}

void evloop_recv(struct evloop *loop, struct evloop_op *op, int fd, void *buf, size_t len, evloop_cb cb, void *ctx)
{
  op_start(loop, op, EVOP_RECV, fd, buf, len, cb, ctx);
}

void evloop_send(struct evloop *loop, struct evloop_op *op, int fd, const void *buf, size_t len, evloop_cb cb, void *ctx)
{
  op_start(loop, op, EVOP_SEND, fd, (void *)(uintptr_t)buf, len, cb, ctx);
}

void evloop_timer(struct evloop *loop, struct evloop_op *op, int64_t timeout_ms, evloop_cb cb, void *ctx)
{
  if (timeout_ms < 0)
    timeout_ms = 0;
  op->ts.sec = timeout_ms / 1000;
  op->ts.nsec = (long long)(timeout_ms % 1000) * 1000000;
  op->deadline_ns = 0;          /* set by the backend at start */
  op_start(loop, op, EVOP_TIMER, -1, NULL, (size_t)timeout_ms, cb, ctx);
}

void evloop_cancel(struct evloop *loop, struct evloop_op *op)
{
  if (op->pending)
    loop->ops->cancel(loop, op);
}

void evloop_int_complete(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  op->pending = false;
  op->registered = false;
  atomic_fetch_add_explicit(&loop->ops_completed, 1, memory_order_relaxed);
  op->cb(loop, op, res);
}

void evloop_int_ready(struct evloop *loop, struct evloop_op *op, int64_t res)
{
  op->res = res;
  op->registered = false;
  op->next = NULL;
  if (loop->ready_tail)
    loop->ready_tail->next = op;
  else
    loop->ready_head = op;
  loop->ready_tail = op;
}

static void run_ready(struct evloop *loop)
{
  /* Take the list as it is now: callbacks may queue more, which run in the
   * next round after the kernel was checked (fairness). */
  struct evloop_op *op = loop->ready_head;
  loop->ready_head = loop->ready_tail = NULL;
  while (op) {
    struct evloop_op *next = op->next;
    op->next = NULL;
    evloop_int_complete(loop, op, op->res);
    op = next;
  }
}

void evloop_int_woken(struct evloop *loop)
{
  uint64_t v;
  while (read(loop->wake_fd, &v, sizeof v) == (ssize_t)sizeof v)
    ;
  pthread_mutex_lock(&loop->post_lock);
  struct evloop_task *t = loop->post_head;
  loop->post_head = loop->post_tail = NULL;
  pthread_mutex_unlock(&loop->post_lock);
  while (t) {
    struct evloop_task *next = t->next;
    t->next = NULL;
    atomic_fetch_add_explicit(&loop->posts, 1, memory_order_relaxed);
    t->fn(loop, t);               /* may free t */
    t = next;
  }
}

static void wake(struct evloop *loop)
{
  uint64_t one = 1;
  ssize_t w = write(loop->wake_fd, &one, sizeof one);
  (void)w;                        /* EAGAIN means the counter is already non-zero */
}

int evloop_run(struct evloop *loop)
{
  int rc = 0;
  while (!atomic_load(&loop->stopping)) {
    run_ready(loop);
    if (atomic_load(&loop->stopping))
      break;
    rc = loop->ops->wait(loop, loop->ready_head == NULL);
    if (rc < 0 && rc != -EINTR)
      break;
    rc = 0;
  }
  /* The stop is consumed: a later evloop_run runs again (tests, drains). */
  atomic_store(&loop->stopping, false);
  return rc;
}

void evloop_stop(struct evloop *loop)
{
  atomic_store(&loop->stopping, true);
  wake(loop);
}

void evloop_post(struct evloop *loop, struct evloop_task *task,
                 void (*fn)(struct evloop *loop, struct evloop_task *task), void *ctx)
{
  task->fn = fn;
  task->ctx = ctx;
  task->next = NULL;
  pthread_mutex_lock(&loop->post_lock);
  bool was_empty = loop->post_head == NULL;
  if (loop->post_tail)
    loop->post_tail->next = task;
  else
    loop->post_head = task;
  loop->post_tail = task;
  pthread_mutex_unlock(&loop->post_lock);
  /* The loop takes the whole list per wakeup, so one write per batch. */
  if (was_empty)
    wake(loop);
}

void evloop_get_stats(struct evloop *loop, struct evloop_stats *out)
{
  out->ops_queued = atomic_load_explicit(&loop->ops_queued, memory_order_relaxed);
  out->ops_completed = atomic_load_explicit(&loop->ops_completed, memory_order_relaxed);
  out->sq_full = atomic_load_explicit(&loop->sq_full, memory_order_relaxed);
  out->posts = atomic_load_explicit(&loop->posts, memory_order_relaxed);
}

int64_t evloop_int_try_io(struct evloop_op *op)
{
  for (;;) {
    ssize_t n;
    switch (op->kind) {
    case EVOP_ACCEPT:
      n = accept4(op->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      break;
    case EVOP_RECV:
      n = recv(op->fd, op->buf, op->len, MSG_DONTWAIT);
      break;
    case EVOP_SEND:
      n = send(op->fd, op->buf + op->done, op->len - op->done, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) {
        op->done += (size_t)n;
        if (op->done < op->len)
          continue;
        return (int64_t)op->len;
      }
      break;
    default:
      return -EINVAL;
    }
    if (n >= 0)
      return n;
    if (errno == EINTR)
      continue;
    if (errno == EWOULDBLOCK)
      return -EAGAIN;
    return -errno;
  }
}
