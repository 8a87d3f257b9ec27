/* Levelled logging to stderr: one line per event, timestamped, with the
 * thread's name. The level is process-wide and set once at start-up. */
#ifndef SPANHOUSE_BASE_LOG_H
#define SPANHOUSE_BASE_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int  log_parse_level(const char *name, enum log_level *out);   /* 0 ok, -1 unknown */
void log_set_thread_name(const char *name);                    /* up to 15 chars */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_get_level() >= LOG_DEBUG) log_write(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_trace(...) do { if (log_get_level() >= LOG_TRACE) log_write(LOG_TRACE, __VA_ARGS__); } while (0)

#endif
