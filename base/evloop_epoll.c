/* epoll backend of evloop.h: readiness turned into completions. An op first
 * tries its syscall at once; on EAGAIN its fd is armed one-shot with the op
 * as data, and the syscall is retried when epoll reports readiness. Timers
 * live in a deadline-sorted list that bounds epoll_wait's timeout. */
#include "base/evloop_int.h"
#include "base/alloc.h"
#include "base/clock.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { EPOLL_BATCH = 64 };

struct epoll_impl {
  int epfd;
  struct evloop_op *timers;          /* sorted by deadline, earliest first */
  struct evloop_op wake_marker;      /* data.ptr of the eventfd registration */
};

static int ep_init(struct evloop *loop)
{
  int rc = 0;
  struct epoll_impl *ep = mem_calloc(1, sizeof *ep);
  ep->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (ep->epfd < 0) {
    rc = -errno;
    goto out_free;
  }
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &ep->wake_marker };
  if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, loop->wake_fd, &ev) < 0) {
    rc = -errno;
    goto out_close;
  }
  loop->impl = ep;
  return 0;

out_close:
  close(ep->epfd);
out_free:
  mem_free(ep);
  return rc;
}

static void ep_fini(struct evloop *loop)
{
  struct epoll_impl *ep = loop->impl;
  close(ep->epfd);
  mem_free(ep);
}

static uint32_t op_events(const struct evloop_op *op)
{
  return (op->kind == EVOP_SEND ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT;
}

static void arm(struct evloop *loop, struct evloop_op *op)
{
  struct epoll_impl *ep = loop->impl;
  struct epoll_event ev = { .events = op_events(op), .data.ptr = op };
  int rc = epoll_ctl(ep->epfd, op->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, op->fd, &ev);
  if (rc < 0 && errno == EEXIST)
    rc = epoll_ctl(ep->epfd, EPOLL_CTL_MOD, op->fd, &ev);
  if (rc < 0) {
    evloop_int_ready(loop, op, -errno);
    return;
  }
  op->registered = true;
}

static void disarm(struct evloop *loop, struct evloop_op *op)
{
  struct epoll_impl *ep = loop->impl;
  if (op->registered)
    epoll_ctl(ep->epfd, EPOLL_CTL_DEL, op->fd, NULL);
  op->registered = false;
}

static void timer_insert(struct epoll_impl *ep, struct evloop_op *op)
{
  struct evloop_op **pp = &ep->timers;
  while (*pp && (*pp)->deadline_ns <= op->deadline_ns)
    pp = &(*pp)->next;
  op->next = *pp;
  *pp = op;
  op->registered = true;
}

static void timer_remove(struct epoll_impl *ep, struct evloop_op *op)
{
  for (struct evloop_op **pp = &ep->timers; *pp; pp = &(*pp)->next)
    if (*pp == op) {
      *pp = op->next;
      op->next = NULL;
      break;
    }
  op->registered = false;
}

static void ep_start(struct evloop *loop, struct evloop_op *op)
{
  struct epoll_impl *ep = loop->impl;
  if (op->kind == EVOP_TIMER) {
    op->deadline_ns = clock_monotonic_ns() + (int64_t)op->len * 1000000;
    timer_insert(ep, op);
    return;
  }
  int64_t res = evloop_int_try_io(op);
  if (res == -EAGAIN)
    arm(loop, op);
  else
    evloop_int_ready(loop, op, res);
}

static void ep_cancel(struct evloop *loop, struct evloop_op *op)
{
  struct epoll_impl *ep = loop->impl;
  if (!op->registered)
    return;                       /* already in the ready list with its result */
  if (op->kind == EVOP_TIMER)
    timer_remove(ep, op);
  else
    disarm(loop, op);
  evloop_int_ready(loop, op, -ECANCELED);
}

static int64_t next_timeout_ms(struct epoll_impl *ep, bool block)
{
  if (!block)
    return 0;
  if (!ep->timers)
    return -1;
  int64_t left = ep->timers->deadline_ns - clock_monotonic_ns();
  if (left <= 0)
    return 0;
  return (left + 999999) / 1000000;
}

static int ep_wait(struct evloop *loop, bool block)
{
  struct epoll_impl *ep = loop->impl;
  struct epoll_event events[EPOLL_BATCH];
  int n = epoll_wait(ep->epfd, events, EPOLL_BATCH, (int)next_timeout_ms(ep, block));
  if (n < 0)
    return errno == EINTR ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    struct evloop_op *op = events[i].data.ptr;
    if (op == &ep->wake_marker) {
      evloop_int_woken(loop);
      continue;
    }
    /* A callback earlier in this batch may have cancelled this op; it is then
     * in the ready list (memory still valid until its callback) and no longer
     * registered. */
    if (!op->pending || !op->registered)
      continue;
    int64_t res = evloop_int_try_io(op);
    if (res == -EAGAIN) {
      arm(loop, op);
      continue;
    }
    disarm(loop, op);
    evloop_int_complete(loop, op, res);
  }
  int64_t now = clock_monotonic_ns();
  while (ep->timers && ep->timers->deadline_ns <= now) {
    struct evloop_op *op = ep->timers;
    ep->timers = op->next;
    op->next = NULL;
    evloop_int_complete(loop, op, 0);
  }
  return 0;
}

const struct evloop_backend_ops evloop_epoll_ops = {
  .init = ep_init, .fini = ep_fini, .start = ep_start, .cancel = ep_cancel, .wait = ep_wait,
};
