/* The plain pread/pwrite storage backend: used when io_uring is refused
 * (containers, old kernels) and for the pieces io_uring cannot batch
 * (directory fsync). Loops over short transfers, EINTR and EAGAIN. */
#include "storage/storage_int.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>

int64_t storage_io_sync_pread_all(int fd, void *buf, size_t len, uint64_t offset)
{
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        IO_COUNT(retries, 1);
        if (errno == EAGAIN)
          sched_yield();
        continue;
      }
      return -errno;
    }
    if (n == 0)
      break;  /* end of file */
    done += (size_t)n;
    if (done < len)
      IO_COUNT(retries, 1);
  }
  return (int64_t)done;
}

int64_t storage_io_sync_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
  size_t done = 0;
  while (done < len) {
    ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(offset + done));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        IO_COUNT(retries, 1);
        if (errno == EAGAIN)
          sched_yield();
        continue;
      }
      return -errno;
    }
    if (n == 0)
      return -EIO;
    done += (size_t)n;
    if (done < len)
      IO_COUNT(retries, 1);
  }
  return (int64_t)done;
}

static int sync_read_batch(struct storage_io_read *reads, size_t count)
{
  int first = 0;
  for (size_t i = 0; i < count; i++) {
    IO_COUNT(ops_queued, 1);
    reads[i].res = storage_io_sync_pread_all(reads[i].fd, reads[i].buf, reads[i].len, reads[i].offset);
    IO_COUNT(ops_completed, 1);
    if (reads[i].res < 0 && !first)
      first = (int)reads[i].res;
    else if (reads[i].res > 0)
      IO_COUNT(bytes_read, (uint64_t)reads[i].res);
  }
  return first;
}

static int64_t sync_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
  IO_COUNT(ops_queued, 1);
  int64_t r = storage_io_sync_pwrite_all(fd, buf, len, offset);
  IO_COUNT(ops_completed, 1);
  if (r > 0)
    IO_COUNT(bytes_written, (uint64_t)r);
  return r;
}

static int sync_fsync(int fd, bool datasync)
{
  IO_COUNT(ops_queued, 1);
  int rc;
  do
    rc = datasync ? fdatasync(fd) : fsync(fd);
  while (rc < 0 && errno == EINTR);
  IO_COUNT(ops_completed, 1);
  IO_COUNT(fsyncs, 1);
  return rc < 0 ? -errno : 0;
}

static void sync_write_start(struct storage_io_write_op *op)
{
  op->c.res = sync_pwrite_all(op->fd, op->buf, op->len, op->offset);
  op->c.done = true;
}

static int64_t sync_write_wait(struct storage_io_write_op *op) { return op->c.res; }

const struct storage_io_ops storage_io_sync_ops = {
  .name = "sync",
  .read_batch = sync_read_batch,
  .pwrite_all = sync_pwrite_all,
  .fsync = sync_fsync,
  .write_start = sync_write_start,
  .write_wait = sync_write_wait,
};
