/* The storage I/O layer on both backends: appender (double-buffered
 * sequential writes), pread, batched ranged reads (including EOF and empty
 * reads), pwrite, fsync/fdatasync, durable rename, error returns and the
 * counters, and fork safety (a child's I/O must not touch the parent's
 * io_uring ring). io_uring is tested when the kernel allows it; exit 77
 * only if no backend works at all. */
#include "storage/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/test.h"

static char dir[256];

static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 2654435761u >> 13); }

static void run_backend(enum storage_io_backend be)
{
  char path[512], path2[512];
  snprintf(path, sizeof path, "%s/f_%s", dir, storage_io_backend_name(be));
  snprintf(path2, sizeof path2, "%s/g_%s", dir, storage_io_backend_name(be));
  struct storage_io_stats before, after;
  storage_io_get_stats(&before);

  /* appender: 3 MiB + odd tail through 64 KiB buffers, in uneven pieces */
  struct storage_appender w;
  REQUIRE(storage_appender_open(&w, path, 65536) == 0);
  CHECK_EQ_INT(storage_appender_open(&(struct storage_appender){ 0 }, path, 0), -EEXIST);
  enum { TOTAL = 3 * 1024 * 1024 + 12345 };
  uint8_t *chunk = malloc(100000);
  uint64_t written = 0;
  while (written < TOTAL) {
    size_t n = 1 + (size_t)(written * 7919 % 99999);
    if (n > TOTAL - written)
      n = TOTAL - written;
    for (size_t i = 0; i < n; i++)
      chunk[i] = pattern(written + i);
    REQUIRE(storage_appender_write(&w, chunk, n) == 0);
    written += n;
  }
  CHECK_EQ_INT(storage_appender_size(&w), TOTAL);
  CHECK_EQ_INT(storage_appender_sync(&w), 0);
  CHECK_EQ_INT(storage_appender_close(&w), 0);
  CHECK_EQ_INT(storage_appender_close(&w), 0);   /* twice is fine */
  free(chunk);

  int fd = open(path, O_RDWR);
  REQUIRE(fd >= 0);
  uint8_t *buf = malloc(TOTAL + 100);
  CHECK_EQ_INT(storage_io_pread(fd, buf, TOTAL + 100, 0), TOTAL);   /* EOF: short */
  int bad = 0;
  for (uint64_t i = 0; i < TOTAL; i++)
    bad += buf[i] != pattern(i);
  CHECK_EQ_INT(bad, 0);

  /* a batch of ranged reads, more than the ring holds, one past EOF, one empty */
  enum { N = 200 };
  struct storage_io_read rq[N];
  uint8_t *bufs = malloc(N * 5000);
  for (int i = 0; i < N; i++)
    rq[i] = (struct storage_io_read){ fd, bufs + i * 5000, 1000 + (size_t)i * 17, (uint64_t)i * 15731, 0 };
  rq[N - 2].offset = TOTAL - 10;
  rq[N - 1].len = 0;
  CHECK_EQ_INT(storage_io_read_batch(rq, N), 0);
  for (int i = 0; i < N; i++) {
    int64_t want = i == N - 2 ? 10 : i == N - 1 ? 0 : (int64_t)rq[i].len;
    CHECK_EQ_INT(rq[i].res, want);
    for (int64_t k = 0; k < rq[i].res; k++)
      if (((uint8_t *)rq[i].buf)[k] != pattern(rq[i].offset + (uint64_t)k)) {
        bad++;
        break;
      }
  }
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(storage_io_read_batch(rq, 0), 0);

  /* pwrite + fsyncs */
  CHECK_EQ_INT(storage_io_pwrite(fd, "hello", 5, TOTAL), 5);
  CHECK_EQ_INT(storage_io_fdatasync(fd), 0);
  CHECK_EQ_INT(storage_io_fsync(fd), 0);
  char h[5];
  CHECK_EQ_INT(storage_io_pread(fd, h, 5, TOTAL), 5);
  CHECK(memcmp(h, "hello", 5) == 0);
  close(fd);

  /* errors are negative errno */
  CHECK_EQ_INT(storage_io_pread(-1, h, 5, 0), -EBADF);
  struct storage_io_read br = { -1, h, 5, 0, 0 };
  CHECK_EQ_INT(storage_io_read_batch(&br, 1), -EBADF);
  CHECK_EQ_INT(br.res, -EBADF);
  CHECK_EQ_INT(storage_io_pwrite(-1, "x", 1, 0), -EBADF);
  CHECK_EQ_INT(storage_io_fsync_dir("/nonexistent-dir"), -ENOENT);

  /* durable rename */
  CHECK_EQ_INT(storage_io_rename_durable(path, path2), 0);
  CHECK(access(path, F_OK) != 0 && access(path2, F_OK) == 0);
  CHECK_EQ_INT(storage_io_rename_durable(path, path2), -ENOENT);
  CHECK_EQ_INT(storage_io_fsync_dir(dir), 0);
  unlink(path2);
  free(buf);
  free(bufs);

  storage_io_get_stats(&after);
  CHECK(after.ops_queued > before.ops_queued);
  CHECK(after.ops_completed - before.ops_completed == after.ops_queued - before.ops_queued);
  CHECK(after.bytes_written - before.bytes_written >= TOTAL);
  CHECK(after.bytes_read - before.bytes_read >= TOTAL);
  CHECK(after.fsyncs > before.fsyncs);
}

/* Batched reads of a pattern file; returns the number of wrong bytes or
 * failed reads. */
static int read_and_check(int fd, uint64_t size, int rounds)
{
  enum { N = 48, LEN = 4096 };
  static uint8_t bufs[N][LEN];
  int bad = 0;
  for (int round = 0; round < rounds; round++) {
    struct storage_io_read rq[N];
    for (int i = 0; i < N; i++)
      rq[i] = (struct storage_io_read){ fd, bufs[i], LEN, ((uint64_t)(round * N + i) * 7919 * 13) % (size - LEN), 0 };
    if (storage_io_read_batch(rq, N) != 0)
      bad++;
    for (int i = 0; i < N; i++) {
      if (rq[i].res != LEN) {
        bad++;
        continue;
      }
      for (int k = 0; k < LEN; k++)
        if (bufs[i][k] != pattern(rq[i].offset + (uint64_t)k)) {
          bad++;
          break;
        }
    }
  }
  return bad;
}

/* The forking thread's ring survives fork() in the child (shared ring
 * memory): the child must get a fresh ring, and the parent's ring must
 * keep working, also while the child does I/O at the same time. */
static void test_fork(void)
{
  if (storage_io_force(STORAGE_IO_URING) != 0)
    return;
  char path[512], wpath[512];
  snprintf(path, sizeof path, "%s/fork_src", dir);
  enum { SIZE = 1 << 20 };
  struct storage_appender w;
  REQUIRE(storage_appender_open(&w, path, 65536) == 0);
  uint8_t *data = malloc(SIZE);
  for (uint64_t i = 0; i < SIZE; i++)
    data[i] = pattern(i);
  REQUIRE(storage_appender_write(&w, data, SIZE) == 0);
  REQUIRE(storage_appender_close(&w) == 0);
  free(data);
  int fd = open(path, O_RDONLY);
  REQUIRE(fd >= 0);
  CHECK_EQ_INT(read_and_check(fd, SIZE, 4), 0);   /* the parent's ring exists now */
  for (int k = 0; k < 4; k++) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int bad = read_and_check(fd, SIZE, 50);
      snprintf(wpath, sizeof wpath, "%s/fork_child_%d", dir, k);
      struct storage_appender cw;
      if (storage_appender_open(&cw, wpath, 4096) != 0 || storage_appender_write(&cw, "child", 5) != 0 ||
          storage_appender_sync(&cw) != 0 || storage_appender_close(&cw) != 0)
        bad++;
      unlink(wpath);
      _exit(bad ? 1 : 0);
    }
    int parent_bad = read_and_check(fd, SIZE, 50);   /* concurrently with the child */
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(parent_bad, 0);
    CHECK_EQ_INT(read_and_check(fd, SIZE, 20), 0);
  }
  close(fd);
  unlink(path);
}

int main(void)
{
  snprintf(dir, sizeof dir, "/tmp/spanhouse-test-io-XXXXXX");
  REQUIRE(mkdtemp(dir));
  enum storage_io_backend chosen = storage_io_init(STORAGE_IO_AUTO);
  CHECK(chosen == STORAGE_IO_URING || chosen == STORAGE_IO_SYNC);
  int ran = 0;
  if (storage_io_force(STORAGE_IO_URING) == 0) {
    CHECK(storage_io_get_backend() == STORAGE_IO_URING);
    run_backend(STORAGE_IO_URING);
    ran++;
  } else {
    fprintf(stderr, "io_uring refused here; testing the sync backend only\n");
  }
  test_fork();
  if (storage_io_force(STORAGE_IO_SYNC) == 0) {
    CHECK(storage_io_get_backend() == STORAGE_IO_SYNC);
    run_backend(STORAGE_IO_SYNC);
    ran++;
  }
  rmdir(dir);
  if (!ran)
    TEST_SKIP("no storage I/O backend works here");
  TEST_DONE();
}
