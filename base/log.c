/* stderr logger; see log.h. Each line is formatted into a local buffer and
 * written with one write(2) so lines from threads never interleave. */
#include "base/log.h"
#include "base/clock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_INFO;
static _Thread_local char thread_name[16] = "main";

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

void log_set_level(enum log_level level) { atomic_store(&current_level, (int)level); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&current_level); }

int log_parse_level(const char *name, enum log_level *out)
{
  for (int i = 0; i <= LOG_TRACE; i++)
    if (strcasecmp(name, level_names[i]) == 0) {
      *out = (enum log_level)i;
      return 0;
    }
  return -1;
}

void log_set_thread_name(const char *name)
{
  snprintf(thread_name, sizeof thread_name, "%s", name);
}

void log_write(enum log_level level, const char *fmt, ...)
{
  if ((int)level > atomic_load(&current_level))
    return;
  int saved_errno = errno;
  char line[2048];
  int64_t now_ns = clock_realtime_ns();
  time_t secs = (time_t)(now_ns / 1000000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s [%s] ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   (int)(now_ns / 1000000 % 1000), level_names[level], thread_name);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2)
    len = sizeof line - 2;
  line[len++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, len);
  (void)w;
  errno = saved_errno;
}
