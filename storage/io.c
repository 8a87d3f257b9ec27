/* The storage I/O layer's front: picks the backend once (io_uring, or plain
 * pread/pwrite when io_uring is refused), dispatches to it, and implements
 * the double-buffered sequential appender and durable rename on top.
 *
 * Invariants:
 *  1. The backend is chosen once (storage_io_init); only tests switch it.
 *  2. An appender has at most one write in flight (the buffer not being
 *     filled); it is waited for before that buffer is reused or the fd closed.
 *  3. Bytes reach the file in append order: buffer k is written at offset
 *     sum(len of buffers < k). */
#include "storage/storage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"

struct storage_io_counters storage_io_counters;

static _Atomic int chosen = -1;                 /* enum storage_io_backend, -1 = not yet */
static const struct storage_io_ops *_Atomic ops_now;

const char *storage_io_backend_name(enum storage_io_backend backend)
{
  switch (backend) {
  case STORAGE_IO_URING: return "io_uring";
  case STORAGE_IO_SYNC: return "sync";
  default: return "auto";
  }
}

enum storage_io_backend storage_io_init(enum storage_io_backend want)
{
  int c = atomic_load(&chosen);
  if (c >= 0)
    return (enum storage_io_backend)c;
  const char *env = getenv("SPANHOUSE_STORAGE_IO");
  if (want == STORAGE_IO_AUTO && env && *env) {
    if (strcmp(env, "sync") == 0)
      want = STORAGE_IO_SYNC;
    else if (strcmp(env, "io_uring") == 0 || strcmp(env, "uring") == 0)
      want = STORAGE_IO_URING;
    else
      log_warn("SPANHOUSE_STORAGE_IO=%s is not io_uring or sync; probing", env);
  }
  enum storage_io_backend got;
  if (want == STORAGE_IO_SYNC) {
    got = STORAGE_IO_SYNC;
    log_info("storage I/O backend: sync (requested)");
  } else {
    int rc = storage_io_uring_probe();
    if (rc < 0) {
      got = STORAGE_IO_SYNC;
      log_info("storage I/O backend: sync (io_uring_queue_init refused: %s)", strerror(-rc));
    } else {
      got = STORAGE_IO_URING;
      log_info("storage I/O backend: io_uring");
    }
  }
  int expected = -1;
  if (atomic_compare_exchange_strong(&chosen, &expected, (int)got))
    atomic_store(&ops_now, got == STORAGE_IO_URING ? &storage_io_uring_ops : &storage_io_sync_ops);
  return (enum storage_io_backend)atomic_load(&chosen);
}

int storage_io_force(enum storage_io_backend backend)
{
  storage_io_init(STORAGE_IO_AUTO);
  if (backend == STORAGE_IO_URING) {
    int rc = storage_io_uring_probe();
    if (rc < 0)
      return rc;
  }
  if (backend == STORAGE_IO_AUTO)
    return -EINVAL;
  atomic_store(&chosen, (int)backend);
  atomic_store(&ops_now, backend == STORAGE_IO_URING ? &storage_io_uring_ops : &storage_io_sync_ops);
  return 0;
}

enum storage_io_backend storage_io_get_backend(void) { return storage_io_init(STORAGE_IO_AUTO); }

static const struct storage_io_ops *ops(void)
{
  const struct storage_io_ops *o = atomic_load_explicit(&ops_now, memory_order_acquire);
  if (!o) {
    storage_io_init(STORAGE_IO_AUTO);
    o = atomic_load(&ops_now);
  }
  return o;
}

int64_t storage_io_pread(int fd, void *buf, size_t len, uint64_t offset)
{
  struct storage_io_read r = { fd, buf, len, offset, 0 };
  int rc = ops()->read_batch(&r, 1);
  return rc < 0 ? rc : r.res;
}

int storage_io_read_batch(struct storage_io_read *reads, size_t count)
{
  if (!count)
    return 0;
  return ops()->read_batch(reads, count);
}

int64_t storage_io_pwrite(int fd, const void *buf, size_t len, uint64_t offset)
{
  if (!len)
    return 0;
  return ops()->pwrite_all(fd, buf, len, offset);
}

int storage_io_fsync(int fd) { return ops()->fsync(fd, false); }
int storage_io_fdatasync(int fd) { return ops()->fsync(fd, true); }

int storage_io_fsync_dir(const char *dir_path)
{
  int fd;
  do
    fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -errno;
  int rc = ops()->fsync(fd, false);
  close(fd);
  return rc;
}

int storage_io_rename_durable(const char *from, const char *to)
{
  if (rename(from, to) != 0)
    return -errno;
  char dir[PATH_MAX];
  const char *slash = strrchr(to, '/');
  if (!slash)
    return storage_io_fsync_dir(".");
  size_t n = (size_t)(slash - to);
  if (n == 0)
    n = 1;  /* "/x" lives in "/" */
  if (n >= sizeof dir)
    return -ENAMETOOLONG;
  memcpy(dir, to, n);
  dir[n] = 0;
  return storage_io_fsync_dir(dir);
}

void storage_io_get_stats(struct storage_io_stats *out)
{
  out->ops_queued = atomic_load(&storage_io_counters.ops_queued);
  out->ops_completed = atomic_load(&storage_io_counters.ops_completed);
  out->bytes_read = atomic_load(&storage_io_counters.bytes_read);
  out->bytes_written = atomic_load(&storage_io_counters.bytes_written);
  out->fsyncs = atomic_load(&storage_io_counters.fsyncs);
  out->sq_full = atomic_load(&storage_io_counters.sq_full);
  out->retries = atomic_load(&storage_io_counters.retries);
}

/* ---- appender ---- */

int storage_appender_open(struct storage_appender *w, const char *path, size_t buffer_bytes)
{
  memset(w, 0, sizeof *w);
  w->fd = -1;
  int fd;
  do
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -errno;
  w->fd = fd;
  w->cap = buffer_bytes ? buffer_bytes : (size_t)1 << 20;
  w->buf[0] = mem_alloc(w->cap);
  w->buf[1] = mem_alloc(w->cap);
  w->op = mem_calloc(1, sizeof(struct storage_io_write_op));
  return 0;
}

static int appender_wait(struct storage_appender *w)
{
  if (!w->pending)
    return 0;
  w->pending = false;
  struct storage_io_write_op *op = w->op;
  int64_t r = ops()->write_wait(op);
  return r < 0 ? (int)r : 0;
}

/* Hands the current buffer to the backend and switches to the other one. */
static int appender_submit(struct storage_appender *w)
{
  if (!w->len)
    return 0;
  int rc = appender_wait(w);
  if (rc < 0)
    return rc;
  struct storage_io_write_op *op = w->op;
  *op = (struct storage_io_write_op){ .fd = w->fd, .buf = w->buf[w->cur], .len = w->len, .offset = w->offset };
  ops()->write_start(op);
  w->pending = true;
  w->offset += w->len;
  w->len = 0;
  w->cur ^= 1;
  return 0;
}

int storage_appender_write(struct storage_appender *w, const void *p, size_t n)
{
  const char *s = p;
  while (n) {
    size_t k = w->cap - w->len;
    if (k > n)
      k = n;
    memcpy(w->buf[w->cur] + w->len, s, k);
    w->len += k;
    s += k;
    n -= k;
    if (w->len == w->cap) {
      int rc = appender_submit(w);
      if (rc < 0)
        return rc;
    }
  }
  return 0;
}

int storage_appender_flush(struct storage_appender *w)
{
  int rc = appender_submit(w);
  int rc2 = appender_wait(w);
  return rc < 0 ? rc : rc2;
}

int storage_appender_sync(struct storage_appender *w)
{
  int rc = storage_appender_flush(w);
  if (rc < 0)
    return rc;
  return ops()->fsync(w->fd, true);
}

int storage_appender_close(struct storage_appender *w)
{
  int rc = 0;
  if (w->fd >= 0) {
    rc = storage_appender_flush(w);
    if (close(w->fd) != 0 && rc == 0)
      rc = -errno;
    w->fd = -1;
  }
  mem_free(w->buf[0]);
  mem_free(w->buf[1]);
  mem_free(w->op);
  w->buf[0] = w->buf[1] = NULL;
  w->op = NULL;
  return rc;
}
