/* The write-ahead log: one log for the whole engine, so that the rows a
 * request writes into several tables become durable together and many
 * requests share one fdatasync (group commit).
 *
 * Files: data_dir/wal/<first lsn, 16 hex digits>.wal, each a sequence of
 * records:
 *
 *   u32 magic "SHWL" | u32 payload length | u64 lsn | u64 XXH3(payload, seed = lsn) | payload
 *
 * (little-endian). LSNs increase by one per record across segments; a new
 * segment starts when the current one passes segment_bytes, and at every
 * open (so a torn tail left by a crash is never appended to).
 *
 * Group commit: appenders copy their record into `pending` under the lock
 * and wait; the writer thread swaps `pending` out, writes it with one
 * write(), makes it durable per the sync mode, then publishes `durable_lsn`
 * and wakes them. While it writes and syncs, the next group accumulates.
 *
 * Invariants:
 *  1. Records reach the file in LSN order, each whole in one write().
 *  2. durable_lsn only grows; a record is reported durable only after the
 *     write (and, in fsync mode, the fdatasync) covering it succeeded.
 *  3. After an I/O error the log is failed for good: every waiting and
 *     later append gets the error (the data already acknowledged stays
 *     valid on disk; the server must restart to recover).
 *  4. Replay trusts nothing: a record whose header or checksum is wrong ends
 *     its segment (a torn tail); the next segment is still read. */
#include "engine/engine_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"

#define WAL_MAGIC 0x4C574853u           /* "SHWL" little-endian */
enum { WAL_HEADER_BYTES = 24 };
#define WAL_SEGMENT_BYTES_DEFAULT (64ull << 20)
#define WAL_RECORD_MAX (1ull << 31)      /* one record: well above any request the receivers accept */

struct wal_segment {
  uint64_t first_lsn;
  char *path;
};

struct wal {
  char *dir;
  enum engine_wal_sync sync;
  uint32_t batch_ms;
  uint64_t segment_bytes;
  pthread_mutex_t lock;
  pthread_cond_t work;               /* writer: pending data, or stop */
  pthread_cond_t done;               /* appenders: durable_lsn moved, or failure */
  struct buf pending;
  uint64_t pending_last;             /* lsn of the last record in pending */
  uint64_t next_lsn;
  uint64_t durable_lsn;
  int failed;                        /* -errno, sticky */
  bool stopping;
  /* segments, oldest first; the last is being written (guarded by lock) */
  struct wal_segment *segs;
  uint32_t nsegs, segs_cap;
  /* writer thread only */
  int fd;
  uint64_t seg_written;
  int64_t last_sync_ns;
  bool unsynced;
  pthread_t writer;
  bool writer_started;
  struct wal_stats stats;            /* guarded by lock */
};

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int io_fail(struct error *err, int code, const char *what, const char *path)
{
  return error_set(err, ERR_CANNOT_WRITE_TO_FILE_DESCRIPTOR, "write-ahead log: cannot %s %s: %s", what, path,
                   strerror(-code));
}

static char *segment_path(const struct wal *w, uint64_t first_lsn)
{
  size_t n = strlen(w->dir) + 32;
  char *p = mem_alloc(n);
  snprintf(p, n, "%s/%016" PRIx64 ".wal", w->dir, first_lsn);
  return p;
}

static void segs_push(struct wal *w, uint64_t first_lsn, char *path)
{
  if (w->nsegs == w->segs_cap) {
    w->segs_cap = w->segs_cap ? w->segs_cap * 2 : 8;
    w->segs = mem_realloc(w->segs, w->segs_cap * sizeof *w->segs);
  }
  w->segs[w->nsegs++] = (struct wal_segment){ first_lsn, path };
}

static int seg_cmp(const void *a, const void *b)
{
  uint64_t x = ((const struct wal_segment *)a)->first_lsn, y = ((const struct wal_segment *)b)->first_lsn;
  return x < y ? -1 : x > y;
}

static int sync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = fsync(fd) == 0 ? 0 : -errno;
  close(fd);
  return rc;
}

/* Creates the segment starting at first_lsn and makes it the current one. */
static int segment_start(struct wal *w, uint64_t first_lsn, struct error *err)
{
  char *path = segment_path(w, first_lsn);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int rc = io_fail(err, -errno, "create", path);
    mem_free(path);
    return rc;
  }
  int io = w->sync == ENGINE_WAL_NONE ? 0 : sync_dir(w->dir);
  if (io < 0) {
    close(fd);
    int rc = io_fail(err, io, "sync the directory of", path);
    mem_free(path);
    return rc;
  }
  if (w->fd >= 0)
    close(w->fd);
  w->fd = fd;
  w->seg_written = 0;
  pthread_mutex_lock(&w->lock);
  segs_push(w, first_lsn, path);
  pthread_mutex_unlock(&w->lock);
  return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* ---- the writer thread ---- */

static bool sync_due(const struct wal *w, int64_t now)
{
  switch (w->sync) {
  case ENGINE_WAL_FSYNC:
    return true;
  case ENGINE_WAL_BATCH:
    return now - w->last_sync_ns >= (int64_t)w->batch_ms * 1000000;
  case ENGINE_WAL_NONE:
    return false;
  }
  return true;
}

/* Writes one group and syncs it as the mode says; 0 or -errno. */
static int write_group(struct wal *w, const struct buf *group, uint64_t last_lsn)
{
  int rc = write_all(w->fd, (const uint8_t *)group->data, group->len);
  if (rc)
    return rc;
  w->seg_written += group->len;
  w->unsynced = true;
  int64_t now = clock_monotonic_ns();
  if (sync_due(w, now)) {
    int64_t t0 = now;
    if (fdatasync(w->fd) != 0)
      return -errno;
    now = clock_monotonic_ns();
    w->last_sync_ns = now;
    w->unsynced = false;
    pthread_mutex_lock(&w->lock);
    w->stats.fsyncs++;
    w->stats.fsync_ns_total += (uint64_t)(now - t0);
    if ((uint64_t)(now - t0) > w->stats.fsync_ns_max)
      w->stats.fsync_ns_max = (uint64_t)(now - t0);
    pthread_mutex_unlock(&w->lock);
  }
  if (w->seg_written >= w->segment_bytes) {
    /* the old segment is complete: make it durable before moving on */
    if (w->sync != ENGINE_WAL_NONE && w->unsynced && fdatasync(w->fd) != 0)
      return -errno;
    w->unsynced = false;
    struct error err = { 0 };
    if (segment_start(w, last_lsn + 1, &err) != 0) {
      log_error("%s", err.message);
      return -EIO;
    }
  }
  return 0;
}

static void *writer_main(void *arg)
{
  struct wal *w = arg;
  struct buf group;
  buf_init(&group);
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->pending.len && !w->stopping) {
      if (w->sync == ENGINE_WAL_BATCH && w->unsynced) {
        struct timespec ts = clock_realtime_deadline((int64_t)w->batch_ms * 1000000);
        pthread_cond_timedwait(&w->work, &w->lock, &ts);
        if (!w->pending.len && w->unsynced) {
          pthread_mutex_unlock(&w->lock);
          int rc = fdatasync(w->fd) == 0 ? 0 : -errno;
          pthread_mutex_lock(&w->lock);
          w->unsynced = false;
          w->last_sync_ns = clock_monotonic_ns();
          w->stats.fsyncs++;
          if (rc && !w->failed) {
            log_error("write-ahead log: fdatasync failed: %s", strerror(-rc));
            w->failed = rc;
            pthread_cond_broadcast(&w->done);
          }
        }
        continue;
      }
      pthread_cond_wait(&w->work, &w->lock);
    }
    if (!w->pending.len && w->stopping)
      break;
    struct buf t = group;
    group = w->pending;
    w->pending = t;
    buf_reset(&w->pending);
    uint64_t last = w->pending_last;
    bool failed = w->failed != 0;
    pthread_mutex_unlock(&w->lock);
    int rc = failed ? 0 : write_group(w, &group, last);
    pthread_mutex_lock(&w->lock);
    if (rc && !w->failed) {
      log_error("write-ahead log: cannot write segment: %s", strerror(-rc));
      w->failed = rc;
    }
    if (!w->failed) {
      w->durable_lsn = last;
      w->stats.groups++;
      w->stats.bytes += group.len;
    }
    pthread_cond_broadcast(&w->done);
  }
  pthread_mutex_unlock(&w->lock);
  if (w->unsynced && w->sync != ENGINE_WAL_NONE && fdatasync(w->fd) != 0)
    log_error("write-ahead log: final fdatasync failed: %s", strerror(errno));
  buf_free(&group);
  return NULL;
}

/* ---- opening and replay ---- */

static int list_segments(struct wal *w, struct error *err)
{
  DIR *dir = opendir(w->dir);
  if (!dir)
    return io_fail(err, -errno, "open", w->dir);
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    const char *n = de->d_name;
    size_t len = strlen(n);
    if (len != 20 || strcmp(n + 16, ".wal") != 0)
      continue;
    char *end;
    uint64_t first = strtoull(n, &end, 16);
    if (end != n + 16)
      continue;
    size_t pn = strlen(w->dir) + len + 2;
    char *path = mem_alloc(pn);
    snprintf(path, pn, "%s/%s", w->dir, n);
    segs_push(w, first, path);
  }
  closedir(dir);
  if (w->nsegs > 1)
    qsort(w->segs, w->nsegs, sizeof *w->segs, seg_cmp);
  return 0;
}

int wal_open(const char *dir, const struct wal_options *opt, struct wal **out, struct error *err)
{
  *out = NULL;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return io_fail(err, -errno, "create", dir);
  struct wal *w = mem_calloc(1, sizeof *w);
  w->dir = mem_strdup(dir);
  w->sync = opt->sync;
  w->batch_ms = opt->batch_ms ? opt->batch_ms : 100;
  w->segment_bytes = opt->segment_bytes ? opt->segment_bytes : WAL_SEGMENT_BYTES_DEFAULT;
  w->fd = -1;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->work, NULL);
  pthread_cond_init(&w->done, NULL);
  buf_init(&w->pending);
  int rc = list_segments(w, err);
  if (rc) {
    wal_close(w);
    return rc;
  }
  *out = w;
  return 0;
}

/* Reads one segment file into memory. */
static int read_file(const char *path, uint8_t **data, size_t *len, struct error *err)
{
  *data = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return error_set(err, ERR_CANNOT_OPEN_FILE, "write-ahead log: cannot open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return error_set(err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "write-ahead log: cannot stat %s: %s", path,
                     strerror(errno));
  }
  uint8_t *p = mem_alloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t k = read(fd, p + got, (size_t)st.st_size - got);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      break;
    got += (size_t)k;
  }
  close(fd);
  *data = p;
  *len = got;
  return 0;
}

/* Parses records from p[0..len): calls fn for each good one, stops at the
 * first bad one. Returns fn's error, else 0; *last gets the last good lsn. */
int wal_parse_segment(const uint8_t *p, size_t len, const char *label, uint64_t expect_first, wal_record_fn fn,
                      void *ctx, uint64_t *last, struct error *err)
{
  size_t off = 0;
  uint64_t want = expect_first;
  while (off < len) {
    const char *why = NULL;
    if (len - off < WAL_HEADER_BYTES) {
      why = "a truncated record header";
    } else if (get_u32(p + off) != WAL_MAGIC) {
      why = "a bad record magic";
    } else {
      uint32_t n = get_u32(p + off + 4);
      uint64_t lsn = get_u64(p + off + 8), sum = get_u64(p + off + 16);
      if (n > len - off - WAL_HEADER_BYTES)
        why = "a truncated record";
      else if (want && lsn != want)
        why = "an out-of-order record";
      else if (XXH3_64bits_withSeed(p + off + WAL_HEADER_BYTES, n, lsn) != sum)
        why = "a record checksum mismatch";
      if (!why) {
        int rc = fn(ctx, lsn, p + off + WAL_HEADER_BYTES, n, err);
        if (rc)
          return rc;
        *last = lsn;
        want = lsn + 1;
        off += WAL_HEADER_BYTES + n;
        continue;
      }
    }
    /* a crash while appending leaves a torn tail: acknowledged records are
     * all before it (they were durable before being acknowledged) */
    log_warn("write-ahead log %s: %s at byte %zu; the %zu bytes after it are ignored (a write torn by a crash "
             "leaves this at the end of a segment)", label, why, off, len - off);
    break;
  }
  return 0;
}

int wal_replay(struct wal *w, uint64_t min_next_lsn, wal_record_fn fn, void *ctx, struct error *err)
{
  uint64_t last = 0;
  int rc = 0;
  for (uint32_t i = 0; i < w->nsegs && !rc; i++) {
    uint8_t *data;
    size_t len;
    if ((rc = read_file(w->segs[i].path, &data, &len, err)) != 0)
      break;
    uint64_t seg_last = 0;
    rc = wal_parse_segment(data, len, w->segs[i].path, w->segs[i].first_lsn, fn, ctx, &seg_last, err);
    mem_free(data);
    if (seg_last > last)
      last = seg_last;
  }
  if (rc)
    return rc;
  uint64_t next = last + 1;
  if (w->nsegs && w->segs[w->nsegs - 1].first_lsn > next)
    next = w->segs[w->nsegs - 1].first_lsn;
  if (min_next_lsn > next)
    next = min_next_lsn;
  w->next_lsn = next;
  w->durable_lsn = next - 1;
  /* never append after a possibly torn tail: a fresh segment */
  if (w->nsegs && w->segs[w->nsegs - 1].first_lsn == next) {
    /* an empty segment left by the previous run: reuse its name */
    mem_free(w->segs[w->nsegs - 1].path);
    w->nsegs--;
  }
  if ((rc = segment_start(w, next, err)) != 0)
    return rc;
  w->last_sync_ns = clock_monotonic_ns();
  if (pthread_create(&w->writer, NULL, writer_main, w) != 0)
    return error_set(err, ERR_LOGICAL_ERROR, "write-ahead log: cannot start the writer thread");
  w->writer_started = true;
  return 0;
}

/* ---- appending ---- */

int wal_append(struct wal *w, const struct buf *payload, wal_locked_fn locked, void *ctx, uint64_t *lsn_out,
               struct error *err)
{
  if (payload->len >= WAL_RECORD_MAX)
    return error_set(err, ERR_TOO_LARGE_STRING_SIZE, "write-ahead log: a record of %zu bytes is too large",
                     payload->len);
  pthread_mutex_lock(&w->lock);
  if (w->failed || w->stopping || !w->writer_started) {
    int code = w->failed;
    pthread_mutex_unlock(&w->lock);
    if (code)
      return io_fail(err, code, "write", w->dir);
    return error_set(err, ERR_ABORTED, "write-ahead log is closed");
  }
  uint64_t lsn = w->next_lsn++;
  uint8_t h[WAL_HEADER_BYTES];
  put_u32(h, WAL_MAGIC);
  put_u32(h + 4, (uint32_t)payload->len);
  put_u64(h + 8, lsn);
  put_u64(h + 16, XXH3_64bits_withSeed(payload->data, payload->len, lsn));
  buf_append(&w->pending, h, sizeof h);
  buf_append(&w->pending, payload->data, payload->len);
  w->pending_last = lsn;
  w->stats.records++;
  if (locked)
    locked(ctx, lsn);
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->lock);
  *lsn_out = lsn;
  return 0;
}

int wal_wait(struct wal *w, uint64_t lsn, struct error *err)
{
  pthread_mutex_lock(&w->lock);
  while (w->durable_lsn < lsn && !w->failed)
    pthread_cond_wait(&w->done, &w->lock);
  int code = w->durable_lsn >= lsn ? 0 : w->failed;
  pthread_mutex_unlock(&w->lock);
  return code ? io_fail(err, code, "write", w->dir) : 0;
}

uint64_t wal_next_lsn(struct wal *w)
{
  pthread_mutex_lock(&w->lock);
  uint64_t n = w->next_lsn;
  pthread_mutex_unlock(&w->lock);
  return n;
}

void wal_release_before(struct wal *w, uint64_t lsn)
{
  pthread_mutex_lock(&w->lock);
  uint32_t drop = 0;
  /* segment i holds [first_i, first_{i+1}); never the current (last) one */
  while (drop + 1 < w->nsegs && w->segs[drop + 1].first_lsn <= lsn)
    drop++;
  char **paths = drop ? mem_calloc(drop, sizeof *paths) : NULL;
  for (uint32_t i = 0; i < drop; i++)
    paths[i] = w->segs[i].path;
  if (drop)
    memmove(w->segs, w->segs + drop, (w->nsegs - drop) * sizeof *w->segs);
  w->nsegs -= drop;
  pthread_mutex_unlock(&w->lock);
  for (uint32_t i = 0; i < drop; i++) {
    if (unlink(paths[i]) != 0 && errno != ENOENT)
      log_warn("write-ahead log: cannot remove %s: %s", paths[i], strerror(errno));
    mem_free(paths[i]);
  }
  mem_free(paths);
}

void wal_get_stats(struct wal *w, struct wal_stats *out)
{
  pthread_mutex_lock(&w->lock);
  *out = w->stats;
  out->segments = w->nsegs;
  pthread_mutex_unlock(&w->lock);
}

void wal_close(struct wal *w)
{
  if (!w)
    return;
  if (w->writer_started) {
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->writer, NULL);
  }
  if (w->fd >= 0)
    close(w->fd);
  for (uint32_t i = 0; i < w->nsegs; i++)
    mem_free(w->segs[i].path);
  mem_free(w->segs);
  buf_free(&w->pending);
  pthread_cond_destroy(&w->work);
  pthread_cond_destroy(&w->done);
  pthread_mutex_destroy(&w->lock);
  mem_free(w->dir);
  mem_free(w);
}
