/* Event loop: one per network thread, completion style (an op is started,
 * later its callback runs once with the result). Two backends behind this one
 * API: io_uring (liburing) and epoll, chosen once at start-up by
 * evloop_backend_select; containers often refuse io_uring (EPERM/ENOSYS).
 *
 * Contract:
 *  1. The caller embeds struct evloop_op in its own object: nothing is
 *     allocated per I/O. An op is started at most once until its callback ran;
 *     its memory (and buffer) must stay valid until then.
 *  2. Every started op completes exactly once, on the loop thread, with res
 *     >= 0 (bytes, new fd, 0 for timers) or a negative errno (-ECANCELED
 *     after evloop_cancel). Callbacks never run inside the call that started
 *     the op.
 *  3. Sends complete only when every byte went out (short writes and EAGAIN
 *     are resolved here); receives complete with whatever arrived (0 = EOF).
 *  4. Op functions are loop-thread only. evloop_post, evloop_stop and
 *     evloop_get_stats may be called from any thread.
 *  5. epoll backend: at most one pending accept/recv/send per fd per loop. */
#ifndef SPANHOUSE_BASE_EVLOOP_H
#define SPANHOUSE_BASE_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;
struct evloop;
struct evloop_op;

enum evloop_backend { EVLOOP_AUTO, EVLOOP_URING, EVLOOP_EPOLL };

typedef void (*evloop_cb)(struct evloop *loop, struct evloop_op *op, int64_t res);

struct evloop_op {
  evloop_cb cb;
  void *ctx;                    /* caller's, untouched by the loop */
  /* private to the loop */
  uint8_t kind;
  bool pending;                 /* started, callback not yet run */
  bool registered;              /* epoll: armed in the epoll set or timer list */
  int fd;
  char *buf;
  size_t len;
  size_t done;                  /* send: bytes already written */
  int64_t res;                  /* result waiting in the ready list */
  int64_t deadline_ns;          /* timer: monotonic deadline (epoll) */
  struct { int64_t sec; long long nsec; } ts;   /* timer: relative (io_uring) */
  struct evloop_op *next;       /* ready list / epoll timer list */
};

/* Cross-thread handoff: fn(loop, task) runs on the loop thread. Embedded by
 * the poster, which must keep it alive until fn runs. */
struct evloop_task {
  struct evloop_task *next;
  void (*fn)(struct evloop *loop, struct evloop_task *task);
  void *ctx;
};

struct evloop_stats {
  uint64_t ops_queued;          /* ops started */
  uint64_t ops_completed;       /* callbacks run; queued - completed = in flight */
  uint64_t sq_full;             /* io_uring: submission queue full, flushed and retried */
  uint64_t posts;               /* cross-thread tasks run */
};

/* Picks the backend once at start-up: EVLOOP_AUTO (or env SPANHOUSE_EVLOOP=
 * io_uring|epoll) probes io_uring and falls back to epoll, logging one line
 * saying which and why. Returns the backend to pass to evloop_create. */
enum evloop_backend evloop_backend_select(enum evloop_backend want);
const char *evloop_backend_name(enum evloop_backend backend);

/* Returns 0 or ERR_ code (backend refused, out of fds). */
int  evloop_create(struct evloop **out, enum evloop_backend backend, struct error *err);
void evloop_destroy(struct evloop *loop);          /* no op may be pending */
enum evloop_backend evloop_get_backend(const struct evloop *loop);

void evloop_accept(struct evloop *loop, struct evloop_op *op, int listen_fd, evloop_cb cb, void *ctx);
void evloop_recv(struct evloop *loop, struct evloop_op *op, int fd, void *buf, size_t len, evloop_cb cb, void *ctx);
void evloop_send(struct evloop *loop, struct evloop_op *op, int fd, const void *buf, size_t len, evloop_cb cb, void *ctx);
void evloop_timer(struct evloop *loop, struct evloop_op *op, int64_t timeout_ms, evloop_cb cb, void *ctx);
/* Asks a pending op to finish early; it still completes once (-ECANCELED or
 * its real result if that won the race). No-op if not pending. */
void evloop_cancel(struct evloop *loop, struct evloop_op *op);

/* Runs callbacks until evloop_stop (which it consumes: a later call runs
 * again). Returns 0, or a negative errno if the backend failed. */
int  evloop_run(struct evloop *loop);
void evloop_stop(struct evloop *loop);
void evloop_post(struct evloop *loop, struct evloop_task *task,
                 void (*fn)(struct evloop *loop, struct evloop_task *task), void *ctx);
void evloop_get_stats(struct evloop *loop, struct evloop_stats *out);

#endif
