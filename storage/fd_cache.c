/* The part file descriptor cache: a part reader keeps its footer in memory
 * but its fd only while the process-wide number of open part fds stays
 * under a limit. Idle fds (no read in progress) are closed least recently
 * used first and reopened by path on the next read, so a table with many
 * parts cannot exhaust the process's descriptors.
 *
 * Invariants:
 *  1. open_count = the slots with fd >= 0; it exceeds the limit only while
 *     every open fd is in use (the limit is soft, reads never wait).
 *  2. A slot is on the idle list iff fd >= 0, users == 0 and it is not
 *     closed; only idle fds are ever closed by the cache.
 *  3. A reopened file must be the one first opened (same device, inode and
 *     size); part files are immutable, so anything else was replaced.
 *  4. One mutex guards every slot field except path and identity (set
 *     before the slot is shared). open(2) and close(2) run outside it.
 *     fork() takes it first (pthread_atfork), so a child never inherits it
 *     locked. */
#include "storage/storage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FDS_DEFAULT_MAX = 1024, FDS_MIN = 16, FDS_EVICT_BATCH = 16 };

static pthread_mutex_t fds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fd_slot *idle_head, *idle_tail;   /* head = least recently used */
static uint32_t open_count, max_open;           /* max_open 0 = not yet chosen */
static uint64_t opens, evictions;

static uint32_t default_max(void)
{
  uint32_t m = FDS_DEFAULT_MAX;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < m)
    m = (uint32_t)(rl.rlim_cur / 2);
  return m < FDS_MIN ? FDS_MIN : m;
}

static void idle_remove_locked(struct fd_slot *s)
{
  if (!s->idle)
    return;
  if (s->prev)
    s->prev->next = s->next;
  else
    idle_head = s->next;
  if (s->next)
    s->next->prev = s->prev;
  else
    idle_tail = s->prev;
  s->prev = s->next = NULL;
  s->idle = false;
}

static void idle_push_locked(struct fd_slot *s)
{
  s->prev = idle_tail;
  s->next = NULL;
  if (idle_tail)
    idle_tail->next = s;
  else
    idle_head = s;
  idle_tail = s;
  s->idle = true;
}

/* Takes up to n idle fds (LRU first) out of their slots into out[]. */
static uint32_t evict_locked(int *out, uint32_t n)
{
  uint32_t k = 0;
  while (k < n && idle_head) {
    struct fd_slot *s = idle_head;
    idle_remove_locked(s);
    out[k++] = s->fd;
    s->fd = -1;
    open_count--;
    evictions++;
  }
  return k;
}

static void close_all(const int *fds, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++)
    close(fds[i]);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static void fork_prepare(void) { pthread_mutex_lock(&fds_lock); }
static void fork_release(void) { pthread_mutex_unlock(&fds_lock); }
static void fork_register(void) { pthread_atfork(fork_prepare, fork_release, fork_release); }

void fd_slot_init(struct fd_slot *s, const char *path)
{
  pthread_once(&fork_once, fork_register);
  memset(s, 0, sizeof *s);
  s->path = path;
  s->fd = -1;
}

static int open_error(struct error *err, const char *path, int e)
{
  return error_set(err, e == ENOENT ? ERR_FILE_DOESNT_EXIST : ERR_CANNOT_OPEN_FILE, "cannot open part %s: %s", path,
                   strerror(e));
}

int fd_slot_acquire(struct fd_slot *s, struct error *err)
{
  pthread_mutex_lock(&fds_lock);
  if (!max_open)
    max_open = default_max();
  if (s->closed) {
    pthread_mutex_unlock(&fds_lock);
    error_set(err, ERR_CANNOT_READ_FROM_FILE_DESCRIPTOR, "part %s is closed", s->path);
    return -1;
  }
  s->users++;
  if (s->fd >= 0) {
    idle_remove_locked(s);
    int fd = s->fd;
    pthread_mutex_unlock(&fds_lock);
    return fd;
  }
  pthread_mutex_unlock(&fds_lock);

  int fd, e = 0;
  for (int attempt = 0;; attempt++) {
    do
      fd = open(s->path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    e = fd < 0 ? errno : 0;
    if (fd >= 0 || (e != EMFILE && e != ENFILE) || attempt == 8)
      break;
    /* out of descriptors: give back idle part fds and retry */
    int victims[FDS_EVICT_BATCH];
    pthread_mutex_lock(&fds_lock);
    uint32_t n = evict_locked(victims, FDS_EVICT_BATCH);
    pthread_mutex_unlock(&fds_lock);
    close_all(victims, n);
    if (!n)
      break;
  }
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) != 0) {
    e = errno;
    close(fd);
    fd = -1;
  }
  if (fd >= 0 && s->identified &&
      ((uint64_t)st.st_dev != s->dev || (uint64_t)st.st_ino != s->ino || (uint64_t)st.st_size != s->size)) {
    close(fd);
    fd_slot_release(s);
    error_set(err, ERR_CANNOT_OPEN_FILE, "part %s was replaced or changed on disk while in use", s->path);
    return -1;
  }
  if (fd < 0) {
    fd_slot_release(s);
    open_error(err, s->path, e);
    return -1;
  }
  int victims[FDS_EVICT_BATCH];
  uint32_t nv = 0;
  int dup_fd = -1;
  pthread_mutex_lock(&fds_lock);
  if (!s->identified) {
    s->dev = (uint64_t)st.st_dev;
    s->ino = (uint64_t)st.st_ino;
    s->size = (uint64_t)st.st_size;
    s->identified = true;
  }
  if (s->fd >= 0) {
    dup_fd = fd;                 /* another thread reopened it meanwhile */
    fd = s->fd;
  } else {
    s->fd = fd;
    open_count++;
    opens++;
    if (open_count > max_open)
      nv = evict_locked(victims, open_count - max_open < FDS_EVICT_BATCH ? open_count - max_open : FDS_EVICT_BATCH);
  }
  pthread_mutex_unlock(&fds_lock);
  if (dup_fd >= 0)
    close(dup_fd);
  close_all(victims, nv);
  return fd;
}

void fd_slot_release(struct fd_slot *s)
{
  int fd = -1;
  pthread_mutex_lock(&fds_lock);
  if (--s->users == 0 && s->fd >= 0) {
    if (s->closed) {
      fd = s->fd;                /* closed while in use: the last user closes */
      s->fd = -1;
      open_count--;
    } else {
      idle_push_locked(s);
    }
  }
  pthread_mutex_unlock(&fds_lock);
  if (fd >= 0)
    close(fd);
}

void fd_slot_close(struct fd_slot *s)
{
  int fd = -1;
  pthread_mutex_lock(&fds_lock);
  s->closed = true;
  idle_remove_locked(s);
  if (s->fd >= 0 && s->users == 0) {
    fd = s->fd;
    s->fd = -1;
    open_count--;
  }
  pthread_mutex_unlock(&fds_lock);
  if (fd >= 0)
    close(fd);
}

void storage_part_fds_set_max(uint32_t max)
{
  int victims[FDS_EVICT_BATCH];
  for (;;) {
    pthread_mutex_lock(&fds_lock);
    max_open = max ? max : default_max();
    uint32_t n = open_count > max_open ? evict_locked(victims, open_count - max_open < FDS_EVICT_BATCH
                                                                   ? open_count - max_open : FDS_EVICT_BATCH) : 0;
    pthread_mutex_unlock(&fds_lock);
    close_all(victims, n);
    if (!n)
      return;
  }
}

void storage_part_fds_get_stats(struct storage_part_fd_stats *out)
{
  pthread_mutex_lock(&fds_lock);
  if (!max_open)
    max_open = default_max();
  *out = (struct storage_part_fd_stats){ open_count, max_open, opens, evictions };
  pthread_mutex_unlock(&fds_lock);
}
