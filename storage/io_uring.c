/* The io_uring storage backend: one ring per thread, created on first use
 * and torn down at thread exit. Every SQE carries a pointer to a small
 * completion record, so a batch read can reap the completion of an
 * appender's pending write (and vice versa) without losing it. Short
 * transfers and -EAGAIN are resubmitted for the remainder.
 *
 * Fork: a ring's SQ/CQ memory is a shared mapping, so a child that used the
 * ring it inherited would submit into, and reap from, the parent's ring. A
 * pthread_atfork child handler bumps a generation; a ring from an older
 * generation is abandoned (never used, never torn down: unmapping or
 * exiting it could disturb the parent's submissions) and the thread makes a
 * new one. Writes an appender left in flight across fork() are the
 * parent's; the child must not wait for them. */
#include "storage/storage_int.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdlib.h>

#include "base/alloc.h"

enum { RING_ENTRIES = 64 };

#define uring_cqe_rec storage_io_completion

struct ring {
  struct io_uring ring;
  unsigned generation;           /* fork_generation when it was created */
};

static pthread_key_t ring_key;
static pthread_once_t ring_key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct ring *tl_ring;
static _Atomic unsigned fork_generation;

static void ring_free(void *p)
{
  struct ring *r = p;
  if (r->generation == atomic_load_explicit(&fork_generation, memory_order_relaxed))
    io_uring_queue_exit(&r->ring);
  mem_free(r);
}

/* In the child, right after fork(): every inherited ring is now stale. */
static void on_fork_child(void) { atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed); }

static void ring_key_make(void)
{
  pthread_key_create(&ring_key, ring_free);
  pthread_atfork(NULL, NULL, on_fork_child);
}

int storage_io_uring_probe(void)
{
  pthread_once(&ring_key_once, ring_key_make);
  struct io_uring ring;
  int rc = io_uring_queue_init(4, &ring, 0);
  if (rc < 0)
    return rc;
  io_uring_queue_exit(&ring);
  return 0;
}

static struct io_uring *ring_get(int *rc)
{
  unsigned gen = atomic_load_explicit(&fork_generation, memory_order_relaxed);
  if (tl_ring && tl_ring->generation == gen)
    return &tl_ring->ring;
  pthread_once(&ring_key_once, ring_key_make);
  if (tl_ring) {
    /* inherited across fork(): the struct is our private copy and goes;
     * the mappings and the fd (O_CLOEXEC) are left alone, never exited */
    mem_free(tl_ring);
    tl_ring = NULL;
    pthread_setspecific(ring_key, NULL);
  }
  struct ring *r = mem_calloc(1, sizeof *r);
  *rc = io_uring_queue_init(RING_ENTRIES, &r->ring, 0);
  if (*rc < 0) {
    mem_free(r);
    return NULL;
  }
  r->generation = gen;
  tl_ring = r;
  pthread_setspecific(ring_key, r);
  return &r->ring;
}

/* An SQE, flushing a full SQ once (counted). */
static struct io_uring_sqe *sqe_get(struct io_uring *ring)
{
  struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
  if (!sqe) {
    IO_COUNT(sq_full, 1);
    io_uring_submit(ring);
    sqe = io_uring_get_sqe(ring);
  }
  return sqe;
}

/* Waits for one completion and records it. Returns 0 or -errno of the wait. */
/* One SQE moves at most 1 GiB; the rest is resubmitted like a short read. */
static unsigned sqe_len(size_t left) { return left > (1u << 30) ? 1u << 30 : (unsigned)left; }

static int reap_one(struct io_uring *ring)
{
  struct io_uring_cqe *cqe;
  int rc;
  do
    rc = io_uring_wait_cqe(ring, &cqe);
  while (rc == -EINTR);
  if (rc < 0)
    return rc;
  struct uring_cqe_rec *rec = io_uring_cqe_get_data(cqe);
  if (rec) {
    rec->res = cqe->res;
    rec->done = true;
  }
  io_uring_cqe_seen(ring, cqe);
  IO_COUNT(ops_completed, 1);
  return 0;
}

/* ---- batched reads ---- */

struct read_slot {
  struct uring_cqe_rec rec;
  size_t done;                  /* bytes already read */
  bool finished;
};

static int uring_read_batch(struct storage_io_read *reads, size_t count)
{
  int rc = 0;
  struct io_uring *ring = ring_get(&rc);
  if (!ring)
    return storage_io_sync_ops.read_batch(reads, count);
  struct read_slot stack_slots[16];
  struct read_slot *slots = count <= 16 ? stack_slots : mem_calloc(count, sizeof *slots);
  size_t next = 0, finished = 0, inflight = 0;
  for (size_t i = 0; i < count; i++)
    slots[i] = (struct read_slot){ { 0, false }, 0, reads[i].len == 0 };
  for (size_t i = 0; i < count; i++)
    if (slots[i].finished) {
      reads[i].res = 0;
      finished++;
    }
  int first_err = 0;
  while (finished < count) {
    /* submit what fits in the ring */
    while (next < count && inflight < RING_ENTRIES) {
      if (slots[next].finished) {
        next++;
        continue;
      }
      struct io_uring_sqe *sqe = sqe_get(ring);
      if (!sqe)
        break;
      struct storage_io_read *r = &reads[next];
      io_uring_prep_read(sqe, r->fd, (char *)r->buf + slots[next].done, sqe_len(r->len - slots[next].done),
                         r->offset + slots[next].done);
      slots[next].rec.done = false;
      io_uring_sqe_set_data(sqe, &slots[next].rec);
      IO_COUNT(ops_queued, 1);
      inflight++;
      next++;
    }
    int s = io_uring_submit(ring);
    if (s < 0 && s != -EINTR && s != -EAGAIN && s != -EBUSY) {
      first_err = s;
      break;
    }
    if (inflight == 0)
      break;
    if ((rc = reap_one(ring)) < 0) {
      first_err = rc;
      break;
    }
    /* scan for completed slots */
    for (size_t i = 0; i < next; i++) {
      struct read_slot *sl = &slots[i];
      if (sl->finished || !sl->rec.done)
        continue;
      inflight--;
      sl->rec.done = false;
      struct storage_io_read *r = &reads[i];
      int64_t res = sl->rec.res;
      if (res == -EAGAIN || res == -EINTR || (res > 0 && sl->done + (size_t)res < r->len)) {
        if (res > 0) {
          sl->done += (size_t)res;
          IO_COUNT(bytes_read, (uint64_t)res);
        }
        IO_COUNT(retries, 1);
        /* resubmit the remainder right away */
        struct io_uring_sqe *sqe = sqe_get(ring);
        if (!sqe) {
          int64_t more = storage_io_sync_pread_all(r->fd, (char *)r->buf + sl->done, r->len - sl->done,
                                                   r->offset + sl->done);
          r->res = more < 0 ? more : (int64_t)(sl->done + (size_t)more);
          sl->finished = true;
          finished++;
          continue;
        }
        io_uring_prep_read(sqe, r->fd, (char *)r->buf + sl->done, sqe_len(r->len - sl->done),
                           r->offset + sl->done);
        io_uring_sqe_set_data(sqe, &sl->rec);
        IO_COUNT(ops_queued, 1);
        inflight++;
        continue;
      }
      if (res < 0) {
        r->res = res;
        if (!first_err)
          first_err = (int)res;
      } else {
        sl->done += (size_t)res;
        IO_COUNT(bytes_read, (uint64_t)res);
        r->res = (int64_t)sl->done;     /* res == 0: end of file */
      }
      sl->finished = true;
      finished++;
    }
  }
  /* a failed wait leaves ops in flight pointing at slots: drain them */
  while (inflight > 0 && first_err) {
    if (reap_one(ring) < 0)
      abort();  /* the ring is unusable and still owns our buffers */
    for (size_t i = 0; i < next; i++)
      if (!slots[i].finished && slots[i].rec.done) {
        slots[i].rec.done = false;
        slots[i].finished = true;
        reads[i].res = first_err;
        inflight--;
      }
  }
  for (size_t i = 0; i < count; i++)
    if (!slots[i].finished)
      reads[i].res = first_err ? first_err : -EIO;
  if (slots != stack_slots)
    mem_free(slots);
  return first_err;
}

/* ---- writes ---- */

/* One write (or fsync) submitted and waited for; the remainder of short
 * writes is resubmitted. */
static int64_t uring_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
  int rc = 0;
  struct io_uring *ring = ring_get(&rc);
  if (!ring)
    return storage_io_sync_ops.pwrite_all(fd, buf, len, offset);
  size_t done = 0;
  while (done < len) {
    struct uring_cqe_rec rec = { 0, false };
    struct io_uring_sqe *sqe = sqe_get(ring);
    if (!sqe)
      return storage_io_sync_ops.pwrite_all(fd, (const char *)buf + done, len - done, offset + done) < 0 ? -EIO
                                                                                                          : (int64_t)len;
    io_uring_prep_write(sqe, fd, (const char *)buf + done, sqe_len(len - done),
                        offset + done);
    io_uring_sqe_set_data(sqe, &rec);
    IO_COUNT(ops_queued, 1);
    io_uring_submit(ring);
    while (!rec.done)
      if ((rc = reap_one(ring)) < 0)
        abort();  /* cannot leave rec on the stack with an op in flight */
    if (rec.res == -EAGAIN || rec.res == -EINTR) {
      IO_COUNT(retries, 1);
      continue;
    }
    if (rec.res < 0)
      return rec.res;
    if (rec.res == 0)
      return -EIO;
    done += (size_t)rec.res;
    IO_COUNT(bytes_written, (uint64_t)rec.res);
    if (done < len)
      IO_COUNT(retries, 1);
  }
  return (int64_t)len;
}

static int uring_fsync(int fd, bool datasync)
{
  int rc = 0;
  struct io_uring *ring = ring_get(&rc);
  if (!ring)
    return storage_io_sync_ops.fsync(fd, datasync);
  struct uring_cqe_rec rec = { 0, false };
  struct io_uring_sqe *sqe = sqe_get(ring);
  if (!sqe)
    return storage_io_sync_ops.fsync(fd, datasync);
  io_uring_prep_fsync(sqe, fd, datasync ? IORING_FSYNC_DATASYNC : 0);
  io_uring_sqe_set_data(sqe, &rec);
  IO_COUNT(ops_queued, 1);
  io_uring_submit(ring);
  while (!rec.done)
    if (reap_one(ring) < 0)
      abort();
  IO_COUNT(fsyncs, 1);
  return rec.res < 0 ? (int)rec.res : 0;
}

/* Async write for the appender: completes into op->c. */
static void uring_write_start(struct storage_io_write_op *op)
{
  int rc = 0;
  struct io_uring *ring = ring_get(&rc);
  struct io_uring_sqe *sqe = ring ? sqe_get(ring) : NULL;
  if (!sqe) {
    storage_io_sync_ops.write_start(op);
    return;
  }
  op->c.done = false;
  io_uring_prep_write(sqe, op->fd, op->buf, sqe_len(op->len), op->offset);
  io_uring_sqe_set_data(sqe, &op->c);
  IO_COUNT(ops_queued, 1);
  io_uring_submit(ring);
}

static int64_t uring_write_wait(struct storage_io_write_op *op)
{
  int rc = 0;
  struct io_uring *ring = op->c.done ? NULL : ring_get(&rc);
  while (!op->c.done)
    if (!ring || reap_one(ring) < 0)
      abort();  /* a write is in flight on this thread's ring */
  int64_t res = op->c.res;
  if (res == -EAGAIN || res == -EINTR)
    res = 0;
  if (res < 0)
    return res;
  IO_COUNT(bytes_written, (uint64_t)res);
  if ((size_t)res < op->len) {
    IO_COUNT(retries, 1);
    int64_t r = uring_pwrite_all(op->fd, op->buf + res, op->len - (size_t)res, op->offset + (uint64_t)res);
    if (r < 0)
      return r;
  }
  return (int64_t)op->len;
}

const struct storage_io_ops storage_io_uring_ops = {
  .name = "io_uring",
  .read_batch = uring_read_batch,
  .pwrite_all = uring_pwrite_all,
  .fsync = uring_fsync,
  .write_start = uring_write_start,
  .write_wait = uring_write_wait,
};
