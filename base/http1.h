/* HTTP/1.1 wire protocol (RFC 9112), independent of sockets: an incremental
 * request-head parser, a chunked-body decoder, URL percent-decoding with a
 * query-parameter iterator, and response-head formatting. Parsed values are
 * slices into the caller's buffer, which must outlive them.
 *
 * Errors are returned as negative HTTP statuses, the answer the server gives:
 *   414 request line longer than HTTP_REQUEST_LINE_BYTES_MAX
 *   431 header section over HTTP_HEADER_BYTES_MAX or more than HTTP_HEADER_COUNT_MAX lines
 *   400 malformed (bad request line, header syntax, Content-Length, Host, chunk framing)
 *   501 a Transfer-Encoding other than chunked
 *   505 HTTP major version other than 1
 *   417 an Expect other than 100-continue
 * (413 for bodies is decided by the server, which knows its body limit.) */
#ifndef SPANHOUSE_BASE_HTTP1_H
#define SPANHOUSE_BASE_HTTP1_H

#include "base/buf.h"
#include "base/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct arena;

struct http_header {
  struct slice name;                     /* as sent; compare case-insensitively */
  struct slice value;                    /* leading/trailing spaces removed */
};

struct http_head {
  struct slice method;                   /* "GET", "POST", ... (case-sensitive) */
  struct slice target;                   /* request-target as sent */
  struct slice path;                     /* target up to '?', still percent-encoded */
  struct slice query;                    /* after '?', raw, without the '?'; empty if none */
  int version_minor;                     /* HTTP/1.x: 0 or 1 */
  struct http_header headers[HTTP_HEADER_COUNT_MAX];
  int header_count;
  uint64_t content_length;               /* body bytes when has_content_length && !chunked */
  bool has_content_length;
  bool chunked;                          /* Transfer-Encoding: chunked (wins over Content-Length) */
  bool keep_alive;                       /* 1.1 unless "close"; 1.0 only with "keep-alive" */
  bool expect_continue;                  /* Expect: 100-continue on HTTP/1.1 */
  struct slice content_encoding;         /* request body coding, empty if none */
  struct slice host;
  size_t head_bytes;                     /* bytes of the head incl. the empty line */
};

struct http_parser {
  size_t scanned;                        /* bytes already looked at */
  size_t line_start;                     /* start of the line being scanned */
  size_t request_line_end;               /* just after the request line's LF; 0 = not yet */
  size_t skipped;                        /* leading empty lines (RFC 9112 §2.2) */
  int lines;                             /* header lines seen */
  const char *error;                     /* why, after a negative return; static */
};

/* ---- request head */
void http_parser_init(struct http_parser *p);
/* data[0..len) is everything received for this request so far (same start on
 * every call, growing). Returns head_bytes (> 0) once the head is complete
 * and *head is filled; 0 when more bytes are needed; -status on error. */
int  http_parse_head(struct http_parser *p, const char *data, size_t len, struct http_head *head);
/* First header named name (ASCII case-insensitive); {NULL, 0} if absent. */
struct slice http_head_get(const struct http_head *head, const char *name);
bool http_method_is(const struct http_head *head, const char *method);

/* ---- chunked body (RFC 9112 §7.1): extensions skipped, trailers skipped */
struct http_chunked {
  int state;
  uint64_t chunk_left;                   /* data bytes left in the current chunk */
  int digits;                            /* hex digits of the current size */
  size_t line_bytes;                     /* size line / trailer section bytes, bounded */
  const char *error;
};
void http_chunked_init(struct http_chunked *c);
/* Decodes in[0..in_len) into out[0..out_cap) (out may equal in: decoding in
 * place is safe). Sets *in_used and *out_len. Returns 1 when the last chunk
 * and trailers are consumed (*in_used stops right after them), 0 when more
 * input or output room is needed, -400 on bad framing (c->error says why). */
int  http_chunked_decode(struct http_chunked *c, const char *in, size_t in_len, size_t *in_used,
                         char *out, size_t out_cap, size_t *out_len);

/* ---- URL decoding */
/* %XX -> byte, and '+' -> ' ' if plus_is_space. out needs in.len bytes.
 * Returns the decoded length, or -1 on a malformed escape. */
ssize_t http_url_decode(struct slice in, bool plus_is_space, char *out);

struct http_query_iter {
  const char *pos, *end;
};
void http_query_iter_init(struct http_query_iter *it, struct slice query);
/* Next `name=value` of an application/x-www-form-urlencoded string ('&'
 * separated, '+' is space, %XX decoded). Both are NUL-terminated copies in
 * arena a. Empty segments are skipped; a name without '=' has an empty value.
 * Returns 1 for a pair, 0 at the end, -1 for a malformed escape (that pair is
 * skipped and iteration may continue). */
int  http_query_next(struct http_query_iter *it, struct arena *a, struct slice *name, struct slice *value);
/* Finds a parameter by decoded name; value in arena. Returns 1 found, 0 not, -1 malformed. */
int  http_query_get(struct slice query, struct arena *a, const char *name, struct slice *value);

/* ---- responses */
const char *http_status_reason(int status);          /* "OK", "Not Found", ... */
/* Appends "HTTP/1.1 <status> <reason>\r\n". */
void http_format_status_line(struct buf *out, int status);
enum { HTTP_CHUNK_HEADER_MAX = 20 };
/* Writes "<hex len>\r\n" and returns its length. The chunk ends with "\r\n";
 * the body ends with HTTP_CHUNK_LAST. */
size_t http_format_chunk_header(char out[HTTP_CHUNK_HEADER_MAX], size_t len);
#define HTTP_CHUNK_LAST "0\r\n\r\n"

#endif
