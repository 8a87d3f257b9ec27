/* Errors: every fallible function outside the I/O layer returns an int code
 * from errors.def (0 = OK) and fills a caller-provided struct error with a
 * message naming the object at fault. The HTTP front end turns it into
 * ClickHouse's `Code: N. DB::Exception: msg (NAME)` and status. The I/O layer
 * returns negative errno instead (see evloop.h / storage). */
#ifndef SPANHOUSE_BASE_ERROR_H
#define SPANHOUSE_BASE_ERROR_H

enum error_code {
#define ERROR(name, code, status) ERR_##name = code,
#include "base/errors.def"
#undef ERROR
};

enum { ERROR_MESSAGE_MAX = 1024 };

struct error {
  int code;                        /* enum error_code; 0 = no error */
  char message[ERROR_MESSAGE_MAX]; /* human text without the "Code: N" prefix */
};

/* Sets code and message and returns code, so `return error_set(err, …);`. */
int error_set(struct error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepends context ("while reading part x: ") to an existing message. */
int error_prefix(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void error_clear(struct error *err);

const char *error_name(int code);      /* "SYNTAX_ERROR"; "UNKNOWN_EXCEPTION" if unknown */
int error_http_status(int code);       /* 400, 404, 500, ... */

#endif
