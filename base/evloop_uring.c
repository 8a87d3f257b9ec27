/* io_uring backend of evloop.h. Each op is one SQE whose user_data is the op;
 * internal SQEs (cancels) carry user_data 0 and their CQEs are ignored. The
 * wake eventfd has a read permanently in flight. A full submission queue is
 * flushed and retried once (counted); if still full the op fails -EBUSY. */
#include "base/evloop_int.h"
#include "base/alloc.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>

enum { URING_ENTRIES = 256 };

struct uring_impl {
  struct io_uring ring;
  struct evloop_op wake_op;          /* read on loop->wake_fd */
  uint64_t wake_value;
  bool wake_armed;
};

_Static_assert(sizeof(((struct evloop_op *)0)->ts) == sizeof(struct __kernel_timespec),
               "evloop_op.ts must match __kernel_timespec");

static struct io_uring_sqe *get_sqe(struct evloop *loop)
{
  struct uring_impl *u = loop->impl;
  struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
  if (!sqe) {
    atomic_fetch_add_explicit(&loop->sq_full, 1, memory_order_relaxed);
    io_uring_submit(&u->ring);
    sqe = io_uring_get_sqe(&u->ring);
  }
  return sqe;
}

static void arm_wake(struct evloop *loop)
{
  struct uring_impl *u = loop->impl;
  struct io_uring_sqe *sqe = get_sqe(loop);
  if (!sqe)
    return;                        /* retried after the next completion round */
  io_uring_prep_read(sqe, loop->wake_fd, &u->wake_value, sizeof u->wake_value, 0);
  io_uring_sqe_set_data(sqe, &u->wake_op);
  u->wake_op.fd = loop->wake_fd;
  u->wake_op.registered = false;
  u->wake_armed = true;
}

static int ur_init(struct evloop *loop)
{
  struct uring_impl *u = mem_calloc(1, sizeof *u);
  int rc = io_uring_queue_init(URING_ENTRIES, &u->ring, 0);
  if (rc < 0) {
    mem_free(u);
    return rc;
  }
  u->wake_op.kind = EVOP_WAKE;
  loop->impl = u;
  arm_wake(loop);
  return 0;
}

static void ur_fini(struct evloop *loop)
{
  struct uring_impl *u = loop->impl;
  io_uring_queue_exit(&u->ring);
  mem_free(u);
}

static void prep(struct evloop *loop, struct evloop_op *op, struct io_uring_sqe *sqe)
{
  (void)loop;
  switch (op->kind) {
  case EVOP_ACCEPT:
    io_uring_prep_accept(sqe, op->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    break;
  case EVOP_RECV:
    io_uring_prep_recv(sqe, op->fd, op->buf, op->len, 0);
    break;
  case EVOP_SEND:
    io_uring_prep_send(sqe, op->fd, op->buf + op->done, op->len - op->done, MSG_NOSIGNAL);
    break;
  case EVOP_TIMER:
    io_uring_prep_timeout(sqe, (struct __kernel_timespec *)&op->ts, 0, 0);
    break;
  default:
    break;
  }
  io_uring_sqe_set_data(sqe, op);
}

static void ur_start(struct evloop *loop, struct evloop_op *op)
{
  struct io_uring_sqe *sqe = get_sqe(loop);
  if (!sqe) {
    evloop_int_ready(loop, op, -EBUSY);
    return;
  }
  prep(loop, op, sqe);
}

static void ur_cancel(struct evloop *loop, struct evloop_op *op)
{
  struct io_uring_sqe *sqe = get_sqe(loop);
  if (!sqe)
    return;                        /* the op completes on its own later */
  io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)op, 0);
  io_uring_sqe_set_data64(sqe, 0);
}

/* Some kernels answer a read/recv/accept on an O_NONBLOCK file with -EAGAIN
 * instead of waiting. Then the op waits for readiness with a poll SQE (same
 * user_data, op->registered marks the poll phase) and is issued again. */
static bool poll_then_retry(struct evloop *loop, struct evloop_op *op)
{
  struct io_uring_sqe *sqe = get_sqe(loop);
  if (!sqe)
    return false;
  io_uring_prep_poll_add(sqe, op->fd, op->kind == EVOP_SEND ? POLLOUT : POLLIN);
  io_uring_sqe_set_data(sqe, op);
  op->registered = true;
  return true;
}

static void on_cqe(struct evloop *loop, struct evloop_op *op, int res)
{
  struct uring_impl *u = loop->impl;
  if (op == &u->wake_op) {
    if (res == -EAGAIN && poll_then_retry(loop, op))
      return;
    u->wake_armed = false;
    evloop_int_woken(loop);
    arm_wake(loop);
    return;
  }
  if (op->registered) {
    /* poll phase over: issue the real op again, unless the poll failed */
    op->registered = false;
    if (res >= 0) {
      ur_start(loop, op);
      return;
    }
  }
  if (res == -EAGAIN && op->kind != EVOP_TIMER && poll_then_retry(loop, op))
    return;
  switch (op->kind) {
  case EVOP_TIMER:
    if (res == -ETIME)
      res = 0;
    break;
  case EVOP_SEND:
    if (res > 0) {
      op->done += (size_t)res;
      if (op->done < op->len) {
        ur_start(loop, op);        /* short send: the rest, same op */
        return;
      }
      res = (int)op->len;
    }
    break;
  case EVOP_ACCEPT:
  case EVOP_RECV:
    if (res == -EINTR) {
      ur_start(loop, op);
      return;
    }
    break;
  default:
    break;
  }
  evloop_int_complete(loop, op, res);
}

static int ur_wait(struct evloop *loop, bool block)
{
  struct uring_impl *u = loop->impl;
  if (!u->wake_armed)
    arm_wake(loop);
  int rc = io_uring_submit_and_wait(&u->ring, block ? 1 : 0);
  if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME)
    return rc;
  struct io_uring_cqe *cqe;
  /* Copy each CQE out and mark it seen before the callback so callbacks can
   * submit freely. */
  while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
    struct evloop_op *op = io_uring_cqe_get_data(cqe);
    int res = cqe->res;
    io_uring_cqe_seen(&u->ring, cqe);
    if (op)
      on_cqe(loop, op, res);
  }
  return 0;
}

const struct evloop_backend_ops evloop_uring_ops = {
  .init = ur_init, .fini = ur_fini, .start = ur_start, .cancel = ur_cancel, .wait = ur_wait,
};
