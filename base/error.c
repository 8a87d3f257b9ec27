/* Error codes, names and HTTP statuses from errors.def; see error.h. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct error_entry {
  int code;
  int http_status;
  const char *name;
};

static const struct error_entry error_table[] = {
#define ERROR(name, code, status) { code, status, #name },
#include "base/errors.def"
#undef ERROR
};

static const struct error_entry *error_find(int code)
{
  for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++)
    if (error_table[i].code == code)
      return &error_table[i];
  return NULL;
}

int error_set(struct error *err, int code, const char *fmt, ...)
{
  if (!err)
    return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

int error_prefix(struct error *err, const char *fmt, ...)
{
  char prefix[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  if (n < 0)
    return err->code;
  size_t plen = strlen(prefix), mlen = strlen(err->message);
  if (plen + mlen >= sizeof err->message)
    mlen = sizeof err->message - plen - 1;
  memmove(err->message + plen, err->message, mlen);
  memcpy(err->message, prefix, plen);
  err->message[plen + mlen] = '\0';
  return err->code;
}

void error_clear(struct error *err)
{
  err->code = 0;
  err->message[0] = '\0';
}

const char *error_name(int code)
{
  const struct error_entry *e = error_find(code);
  return e ? e->name : "UNKNOWN_EXCEPTION";
}

int error_http_status(int code)
{
  const struct error_entry *e = error_find(code);
  return e ? e->http_status : 500;
}
