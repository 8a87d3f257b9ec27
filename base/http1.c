/* HTTP/1.1 request parsing, chunked decoding, URL decoding; see http1.h.
 *
 * The head parser works in two steps: a cheap scan on every feed finds line
 * ends and enforces the size limits early (so a 10 MB header is refused after
 * ~1 MiB, not buffered); once the empty line arrives, one full pass fills
 * struct http_head. Framing decisions follow RFC 9112 §6: chunked wins over
 * Content-Length (and the connection then closes, since such a request may be
 * a smuggling attempt), differing Content-Lengths are an error, and a
 * transfer coding we do not implement is 501. */
#include "base/http1.h"
#include "base/arena.h"

#include <stdio.h>
#include <string.h>

/* ---- character classes (RFC 9110 §5.6.2) */

static bool is_tchar(unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(struct slice s)
{
  if (s.len == 0)
    return false;
  for (size_t i = 0; i < s.len; i++)
    if (!is_tchar((unsigned char)s.ptr[i]))
      return false;
  return true;
}

static int hex_value(unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static bool slice_eq_nocase_slice(struct slice a, struct slice b)
{
  if (a.len != b.len)
    return false;
  for (size_t i = 0; i < a.len; i++)
    if (lower(a.ptr[i]) != lower(b.ptr[i]))
      return false;
  return true;
}

/* ---- request head */

void http_parser_init(struct http_parser *p)
{
  memset(p, 0, sizeof *p);
}

static int fail(struct http_parser *p, int status, const char *why)
{
  p->error = why;
  return -status;
}

/* Splits the next comma-separated element off *list (trimmed). */
static bool next_list_item(struct slice *list, struct slice *item)
{
  while (list->len) {
    const char *comma = memchr(list->ptr, ',', list->len);
    size_t n = comma ? (size_t)(comma - list->ptr) : list->len;
    *item = slice_trim(slice_make(list->ptr, n));
    list->ptr += comma ? n + 1 : n;
    list->len -= comma ? n + 1 : n;
    if (item->len)
      return true;
  }
  return false;
}

static int parse_request_line(struct http_parser *p, struct slice line, struct http_head *h)
{
  const char *s = line.ptr, *end = line.ptr + line.len;
  const char *sp1 = memchr(s, ' ', line.len);
  if (!sp1)
    return fail(p, 400, "malformed request line");
  h->method = slice_make(s, (size_t)(sp1 - s));
  if (!is_token(h->method))
    return fail(p, 400, "malformed method");
  const char *t = sp1 + 1;
  const char *sp2 = memchr(t, ' ', (size_t)(end - t));
  if (!sp2 || sp2 == t)
    return fail(p, 400, "malformed request target");
  h->target = slice_make(t, (size_t)(sp2 - t));
  for (size_t i = 0; i < h->target.len; i++) {
    unsigned char c = (unsigned char)h->target.ptr[i];
    if (c <= 0x20 || c == 0x7f)
      return fail(p, 400, "control character in request target");
  }
  struct slice v = slice_make(sp2 + 1, (size_t)(end - sp2 - 1));
  if (v.len != 8 || memcmp(v.ptr, "HTTP/", 5) != 0 || v.ptr[6] != '.' ||
      v.ptr[5] < '0' || v.ptr[5] > '9' || v.ptr[7] < '0' || v.ptr[7] > '9')
    return fail(p, 400, "malformed HTTP version");
  if (v.ptr[5] != '1')
    return fail(p, 505, "HTTP version not supported");
  h->version_minor = v.ptr[7] == '0' ? 0 : 1;   /* 1.2+ is spoken to as 1.1 */

  /* Path and query. Absolute-form (proxies) drops scheme and authority. */
  struct slice rest = h->target;
  static const char root[] = "/";
  if (rest.ptr[0] == '/') {
    /* origin-form */
  } else if (rest.len == 1 && rest.ptr[0] == '*') {
    h->path = rest;
    h->query = slice_make(rest.ptr + 1, 0);
    return 0;
  } else {
    const char *colon = memchr(rest.ptr, ':', rest.len);
    if (!colon || rest.len - (size_t)(colon - rest.ptr) < 3 || colon[1] != '/' || colon[2] != '/' ||
        !is_token(slice_make(rest.ptr, (size_t)(colon - rest.ptr))))
      return fail(p, 400, "malformed request target");
    const char *auth = colon + 3;
    const char *slash = memchr(auth, '/', (size_t)(rest.ptr + rest.len - auth));
    const char *qmark = memchr(auth, '?', (size_t)(rest.ptr + rest.len - auth));
    if (!slash || (qmark && qmark < slash)) {
      h->path = slice_make(root, 1);
      h->query = qmark ? slice_make(qmark + 1, (size_t)(rest.ptr + rest.len - qmark - 1))
                       : slice_make(rest.ptr + rest.len, 0);
      goto strip_fragment;
    }
    rest = slice_make(slash, (size_t)(rest.ptr + rest.len - slash));
  }
  {
    const char *q = memchr(rest.ptr, '?', rest.len);
    const char *hash = memchr(rest.ptr, '#', rest.len);
    const char *pend = q ? q : (hash ? hash : rest.ptr + rest.len);
    if (hash && hash < pend)
      pend = hash;
    h->path = slice_make(rest.ptr, (size_t)(pend - rest.ptr));
    h->query = q && (!hash || q < hash) ? slice_make(q + 1, (size_t)(rest.ptr + rest.len - q - 1))
                                        : slice_make(rest.ptr + rest.len, 0);
  }
strip_fragment:
  {
    const char *hash = memchr(h->query.ptr, '#', h->query.len);
    if (hash)
      h->query.len = (size_t)(hash - h->query.ptr);
  }
  return 0;
}

static int parse_content_length(struct http_parser *p, struct slice value, struct http_head *h)
{
  struct slice list = value, item;
  bool any = false;
  while (next_list_item(&list, &item)) {
    uint64_t n;
    if (!slice_to_u64(item, &n) || n > (uint64_t)INT64_MAX)
      return fail(p, 400, "invalid Content-Length");
    if (h->has_content_length && n != h->content_length)
      return fail(p, 400, "conflicting Content-Length values");
    h->content_length = n;
    h->has_content_length = true;
    any = true;
  }
  if (!any)
    return fail(p, 400, "invalid Content-Length");
  return 0;
}

/* Transfer-Encoding lists accumulate over repeated fields. */
static int parse_transfer_encoding(struct http_parser *p, struct slice value, struct http_head *h,
                                   bool *saw_other)
{
  struct slice list = value, item;
  while (next_list_item(&list, &item)) {
    const char *semi = memchr(item.ptr, ';', item.len);
    struct slice name = slice_trim(slice_make(item.ptr, semi ? (size_t)(semi - item.ptr) : item.len));
    if (h->chunked)
      return fail(p, 400, "chunked must be the final transfer coding");
    if (slice_eq_nocase(name, "chunked"))
      h->chunked = true;
    else
      *saw_other = true;
  }
  return 0;
}

static int parse_headers(struct http_parser *p, const char *data, size_t start, size_t end,
                         struct http_head *h)
{
  bool close_seen = false, keep_alive_seen = false, saw_te = false, saw_other_te = false;
  int host_count = 0;
  size_t pos = start;
  while (pos < end) {
    const char *lf = memchr(data + pos, '\n', end - pos);
    size_t line_len = (size_t)(lf - (data + pos));
    struct slice line = slice_make(data + pos, line_len);
    pos += line_len + 1;
    if (line.len && line.ptr[line.len - 1] == '\r')
      line.len--;
    if (line.len == 0)
      break;                                  /* the empty line ending the head */
    if (line.ptr[0] == ' ' || line.ptr[0] == '\t')
      return fail(p, 400, "obsolete header line folding");
    const char *colon = memchr(line.ptr, ':', line.len);
    if (!colon)
      return fail(p, 400, "header line without ':'");
    struct slice name = slice_make(line.ptr, (size_t)(colon - line.ptr));
    if (!is_token(name))
      return fail(p, 400, "malformed header name");
    struct slice value = slice_trim(slice_make(colon + 1, (size_t)(line.ptr + line.len - colon - 1)));
    for (size_t i = 0; i < value.len; i++) {
      unsigned char c = (unsigned char)value.ptr[i];
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return fail(p, 400, "control character in header value");
    }
    if (h->header_count >= HTTP_HEADER_COUNT_MAX)
      return fail(p, 431, "too many header fields");
    h->headers[h->header_count].name = name;
    h->headers[h->header_count].value = value;
    h->header_count++;

    int rc = 0;
    if (slice_eq_nocase(name, "content-length")) {
      rc = parse_content_length(p, value, h);
    } else if (slice_eq_nocase(name, "transfer-encoding")) {
      saw_te = true;
      rc = parse_transfer_encoding(p, value, h, &saw_other_te);
    } else if (slice_eq_nocase(name, "connection")) {
      struct slice list = value, item;
      while (next_list_item(&list, &item)) {
        if (slice_eq_nocase(item, "close"))
          close_seen = true;
        else if (slice_eq_nocase(item, "keep-alive"))
          keep_alive_seen = true;
      }
    } else if (slice_eq_nocase(name, "expect")) {
      if (!slice_eq_nocase(value, "100-continue"))
        return fail(p, 417, "unsupported expectation");
      h->expect_continue = h->version_minor >= 1;
    } else if (slice_eq_nocase(name, "host")) {
      host_count++;
      h->host = value;
    } else if (slice_eq_nocase(name, "content-encoding")) {
      if (h->content_encoding.len)
        return fail(p, 400, "repeated Content-Encoding");
      h->content_encoding = value;
    }
    if (rc < 0)
      return rc;
  }
  if (saw_te) {
    if (h->version_minor == 0)
      return fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (saw_other_te)
      return fail(p, 501, "unsupported Transfer-Encoding");
    if (!h->chunked)
      return fail(p, 400, "Transfer-Encoding without chunked");
  }
  if (host_count > 1 || (host_count == 0 && h->version_minor >= 1))
    return fail(p, 400, host_count ? "more than one Host header" : "missing Host header");
  if (h->version_minor >= 1)
    h->keep_alive = !close_seen;
  else
    h->keep_alive = keep_alive_seen && !close_seen;
  if (h->chunked && h->has_content_length)
    h->keep_alive = false;                    /* RFC 9112 §6.3: close after such a request */
  if (h->chunked) {
    h->has_content_length = false;
    h->content_length = 0;
  }
  return 0;
}

static int parse_full(struct http_parser *p, const char *data, size_t head_end, struct http_head *h)
{
  memset(h, 0, offsetof(struct http_head, headers));
  h->header_count = 0;
  h->content_length = 0;
  h->has_content_length = h->chunked = h->keep_alive = h->expect_continue = false;
  h->content_encoding = slice_make(data, 0);
  h->host = slice_make(data, 0);

  size_t rl_start = p->skipped, rl_end = p->request_line_end;   /* rl_end is after '\n' */
  struct slice line = slice_make(data + rl_start, rl_end - rl_start - 1);
  if (line.len && line.ptr[line.len - 1] == '\r')
    line.len--;
  for (size_t i = 0; i < line.len; i++)
    if (line.ptr[i] == '\r' || line.ptr[i] == '\0')
      return fail(p, 400, "control character in request line");
  int rc = parse_request_line(p, line, h);
  if (rc < 0)
    return rc;
  rc = parse_headers(p, data, rl_end, head_end, h);
  if (rc < 0)
    return rc;
  h->head_bytes = head_end;
  return (int)head_end;
}

int http_parse_head(struct http_parser *p, const char *data, size_t len, struct http_head *head)
{
  if (p->error)
    return fail(p, 400, p->error);
  size_t i = p->scanned;
  while (i < len) {
    const char *lf = memchr(data + i, '\n', len - i);
    if (!lf) {
      i = len;
      break;
    }
    size_t nl = (size_t)(lf - data);
    size_t content = nl - p->line_start;      /* bytes before '\n' */
    bool empty = content == 0 || (content == 1 && data[p->line_start] == '\r');
    i = nl + 1;
    if (!p->request_line_end) {
      if (empty) {
        /* Leading empty lines (e.g. a CRLF after a previous body) are
         * ignored, but they count towards the request-line limit. */
        p->skipped = i;
        p->line_start = i;
        if (i > HTTP_REQUEST_LINE_BYTES_MAX)
          return fail(p, 414, "request line too long");
        continue;
      }
      if (i - p->skipped > HTTP_REQUEST_LINE_BYTES_MAX + 2)
        return fail(p, 414, "request line too long");
      p->request_line_end = i;
      p->line_start = i;
      continue;
    }
    if (i - p->request_line_end > HTTP_HEADER_BYTES_MAX)
      return fail(p, 431, "request header fields too large");
    if (empty) {
      p->scanned = i;
      return parse_full(p, data, i, head);
    }
    if (++p->lines > HTTP_HEADER_COUNT_MAX)
      return fail(p, 431, "too many header fields");
    p->line_start = i;
  }
  p->scanned = i;
  if (!p->request_line_end && len - p->skipped > HTTP_REQUEST_LINE_BYTES_MAX)
    return fail(p, 414, "request line too long");
  if (p->request_line_end && len - p->request_line_end > HTTP_HEADER_BYTES_MAX)
    return fail(p, 431, "request header fields too large");
  return 0;
}

struct slice http_head_get(const struct http_head *head, const char *name)
{
  struct slice n = slice_of(name);
  for (int i = 0; i < head->header_count; i++)
    if (slice_eq_nocase_slice(head->headers[i].name, n))
      return head->headers[i].value;
  return slice_make(NULL, 0);
}

bool http_method_is(const struct http_head *head, const char *method)
{
  return slice_eq_cstr(head->method, method);
}

/* ---- chunked */

enum {
  CH_SIZE_FIRST,   /* first hex digit of a chunk size */
  CH_SIZE,         /* more hex digits */
  CH_SIZE_WS,      /* whitespace after the size (before ';' or CRLF) */
  CH_EXT,          /* chunk extension: skipped */
  CH_SIZE_LF,      /* CR seen, LF expected */
  CH_DATA,
  CH_DATA_CR,      /* CRLF after data */
  CH_DATA_LF,
  CH_TRAILER_START,
  CH_TRAILER_LINE,
  CH_FINAL_LF,
  CH_DONE,
};

enum { CHUNK_LINE_BYTES_MAX = 4096, CHUNK_SIZE_DIGITS_MAX = 16 };

void http_chunked_init(struct http_chunked *c)
{
  memset(c, 0, sizeof *c);
  c->state = CH_SIZE_FIRST;
}

static int chunk_fail(struct http_chunked *c, const char *why)
{
  c->error = why;
  return -400;
}

/* The size line ended: a chunk follows, or the trailers. */
static void chunk_size_done(struct http_chunked *c)
{
  c->state = c->chunk_left ? CH_DATA : CH_TRAILER_START;
  c->line_bytes = 0;
}

int http_chunked_decode(struct http_chunked *c, const char *in, size_t in_len, size_t *in_used,
                        char *out, size_t out_cap, size_t *out_len)
{
  size_t i = 0, o = 0;
  int rc = 0;
  if (c->error) {
    rc = -400;
    goto out;
  }
  while (i < in_len && c->state != CH_DONE) {
    if (c->state == CH_DATA) {
      size_t n = in_len - i;
      if (n > c->chunk_left)
        n = (size_t)c->chunk_left;
      if (n > out_cap - o)
        n = out_cap - o;
      if (n == 0)
        break;                                  /* output full */
      memmove(out + o, in + i, n);
      o += n;
      i += n;
      c->chunk_left -= n;
      if (c->chunk_left == 0)
        c->state = CH_DATA_CR;
      continue;
    }
    unsigned char ch = (unsigned char)in[i++];
    switch (c->state) {
    case CH_SIZE_FIRST:
    case CH_SIZE: {
      int hv = hex_value(ch);
      if (hv >= 0) {
        if (++c->digits > CHUNK_SIZE_DIGITS_MAX || c->chunk_left > (UINT64_MAX >> 4)) {
          rc = chunk_fail(c, "chunk size too large");
          goto out;
        }
        c->chunk_left = (c->chunk_left << 4) | (uint64_t)hv;
        c->state = CH_SIZE;
        break;
      }
      if (c->state == CH_SIZE_FIRST) {
        rc = chunk_fail(c, "missing chunk size");
        goto out;
      }
      c->digits = 0;
      if (ch == ' ' || ch == '\t')
        c->state = CH_SIZE_WS;
      else if (ch == ';')
        c->state = CH_EXT;
      else if (ch == '\r')
        c->state = CH_SIZE_LF;
      else if (ch == '\n')
        chunk_size_done(c);
      else {
        rc = chunk_fail(c, "malformed chunk size");
        goto out;
      }
      break;
    }
    case CH_SIZE_WS:
      if (ch == ' ' || ch == '\t')
        ;
      else if (ch == ';')
        c->state = CH_EXT;
      else if (ch == '\r')
        c->state = CH_SIZE_LF;
      else if (ch == '\n')
        chunk_size_done(c);
      else {
        rc = chunk_fail(c, "malformed chunk size");
        goto out;
      }
      break;
    case CH_EXT:
      if (++c->line_bytes > CHUNK_LINE_BYTES_MAX) {
        rc = chunk_fail(c, "chunk extension too long");
        goto out;
      }
      if (ch == '\r')
        c->state = CH_SIZE_LF;
      else if (ch == '\n')
        chunk_size_done(c);
      else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
        rc = chunk_fail(c, "control character in chunk extension");
        goto out;
      }
      break;
    case CH_SIZE_LF:
      if (ch != '\n') {
        rc = chunk_fail(c, "CR without LF after chunk size");
        goto out;
      }
      chunk_size_done(c);
      break;
    case CH_DATA_CR:
      if (ch == '\r')
        c->state = CH_DATA_LF;
      else if (ch == '\n')
        c->state = CH_SIZE_FIRST;
      else {
        rc = chunk_fail(c, "chunk data longer than its size");
        goto out;
      }
      break;
    case CH_DATA_LF:
      if (ch != '\n') {
        rc = chunk_fail(c, "CR without LF after chunk data");
        goto out;
      }
      c->state = CH_SIZE_FIRST;
      break;
    case CH_TRAILER_START:
    case CH_TRAILER_LINE:
      if (++c->line_bytes > HTTP_HEADER_BYTES_MAX) {
        rc = chunk_fail(c, "chunked trailer section too large");
        goto out;
      }
      if (c->state == CH_TRAILER_START && ch == '\r')
        c->state = CH_FINAL_LF;
      else if (ch == '\n')
        c->state = c->state == CH_TRAILER_START ? CH_DONE : CH_TRAILER_START;
      else
        c->state = CH_TRAILER_LINE;
      break;
    case CH_FINAL_LF:
      if (ch != '\n') {
        rc = chunk_fail(c, "CR without LF after trailers");
        goto out;
      }
      c->state = CH_DONE;
      break;
    default:
      break;
    }
  }
  rc = c->state == CH_DONE ? 1 : 0;
out:
  *in_used = i;
  *out_len = o;
  return rc;
}

/* ---- URL decoding */

ssize_t http_url_decode(struct slice in, bool plus_is_space, char *out)
{
  size_t o = 0;
  for (size_t i = 0; i < in.len; i++) {
    char ch = in.ptr[i];
    if (ch == '%') {
      if (i + 2 >= in.len)
        return -1;
      int hi = hex_value((unsigned char)in.ptr[i + 1]);
      int lo = hex_value((unsigned char)in.ptr[i + 2]);
      if (hi < 0 || lo < 0)
        return -1;
      out[o++] = (char)(hi << 4 | lo);
      i += 2;
    } else if (ch == '+' && plus_is_space) {
      out[o++] = ' ';
    } else {
      out[o++] = ch;
    }
  }
  return (ssize_t)o;
}

void http_query_iter_init(struct http_query_iter *it, struct slice query)
{
  it->pos = query.ptr;
  it->end = query.ptr ? query.ptr + query.len : NULL;
}

static int decode_into_arena(struct arena *a, struct slice raw, struct slice *out)
{
  char *d = arena_alloc(a, raw.len + 1);
  ssize_t n = http_url_decode(raw, true, d);
  if (n < 0)
    return -1;
  d[n] = '\0';
  *out = slice_make(d, (size_t)n);
  return 0;
}

int http_query_next(struct http_query_iter *it, struct arena *a, struct slice *name, struct slice *value)
{
  while (it->pos && it->pos < it->end) {
    const char *amp = memchr(it->pos, '&', (size_t)(it->end - it->pos));
    const char *seg_end = amp ? amp : it->end;
    struct slice seg = slice_make(it->pos, (size_t)(seg_end - it->pos));
    it->pos = amp ? amp + 1 : it->end;
    if (seg.len == 0)
      continue;
    const char *eq = memchr(seg.ptr, '=', seg.len);
    struct slice raw_name = slice_make(seg.ptr, eq ? (size_t)(eq - seg.ptr) : seg.len);
    struct slice raw_value = eq ? slice_make(eq + 1, (size_t)(seg_end - eq - 1)) : slice_make(seg_end, 0);
    if (decode_into_arena(a, raw_name, name) < 0 || decode_into_arena(a, raw_value, value) < 0)
      return -1;
    return 1;
  }
  return 0;
}

int http_query_get(struct slice query, struct arena *a, const char *name, struct slice *value)
{
  struct http_query_iter it;
  struct slice n, v;
  int rc;
  http_query_iter_init(&it, query);
  while ((rc = http_query_next(&it, a, &n, &v)) != 0) {
    if (rc < 0)
      return -1;
    if (slice_eq_cstr(n, name)) {
      *value = v;
      return 1;
    }
  }
  return 0;
}

/* ---- responses */

const char *http_status_reason(int status)
{
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 411: return "Length Required";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 417: return "Expectation Failed";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default:  return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

void http_format_status_line(struct buf *out, int status)
{
  buf_printf(out, "HTTP/1.1 %d %s\r\n", status, http_status_reason(status));
}

size_t http_format_chunk_header(char out[HTTP_CHUNK_HEADER_MAX], size_t len)
{
  int n = snprintf(out, HTTP_CHUNK_HEADER_MAX, "%zx\r\n", len);
  return (size_t)n;
}
