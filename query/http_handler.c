/* The ClickHouse HTTP interface (CLICKHOUSE_HTTP.md): one request, one
 * statement. The response is buffered up to buffer_size bytes so that small
 * results and early errors get a proper status, exact Content-Length and a
 * final X-ClickHouse-Summary; larger results stream as chunks and an error
 * after that point is appended in ClickHouse's __exception__ framing.
 * compress=1 wraps the response body in ClickHouse's checksummed block
 * frames (one per ~1 MiB of output) and decompress=1 unwraps the request
 * body frame by frame as it streams (base/compress.h).
 *
 *   parse URL/headers → authenticate → read query text → parse → settings
 *   → substitute {params} → prepare → format blocks → finish | fail */
#include "query/query.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/compress.h"
#include "base/log.h"
#include "query/exec_int.h"
#include "query/format.h"
#include "query/params.h"
#include "query/settings.h"

enum {
  RESPONSE_BUFFER_BYTES_DEFAULT = 1024 * 1024,   /* ClickHouse's buffer_size default */
  BODY_READ_CHUNK_BYTES = 64 * 1024,
  FRAME_PLAIN_BYTES = 1024 * 1024,               /* compress=1: ClickHouse's DBMS_DEFAULT_BUFFER_SIZE */
};

/* One HTTP query in flight; lives on the handler thread's stack, its memory
 * in `arena`. */
struct http_query {
  struct query_service *svc;
  struct http_request *req;
  struct http_response *resp;
  struct arena arena;
  struct settings *settings;
  struct query_context ctx;
  struct error err;

  const char *query_param;       /* ?query= */
  const char *default_format;
  const char *user;
  const char *password;
  struct query_param *params;
  uint32_t param_count;
  uint64_t buffer_bytes;         /* buffer_size */
  bool wait_end_of_query;

  const char *format;            /* chosen output format */
  struct buf out;                /* response bytes held back until streaming starts */
  bool streaming;                /* headers sent; bytes now go straight to resp */
  char exception_tag[17];

  /* compress=1: response bytes wait in `plain` and leave as frames */
  bool compress;
  bool frames_on;                /* authenticated: errors, too, go out framed */
  enum chframe_method frame_method;   /* network_compression_method, LZ4 by default */
  int frame_level;               /* network_zstd_compression_level */
  struct buf plain;
  struct buf frame;              /* scratch for one encoded frame */
  /* decompress=1: the body is frames, decoded as it is read */
  bool decompress;
  struct chframe_decoder *body_frames;
  char *raw;                     /* BODY_READ_CHUNK_BYTES of undecoded body */
  size_t raw_pos, raw_len;
  bool raw_eof;
};

void query_service_init(struct query_service *svc, struct metrics *metrics)
{
  static char host[256];
  if (gethostname(host, sizeof host - 1) != 0)
    strcpy(host, "localhost");
  svc->info = (struct server_info){
    .version = "25.8.1.1",
    .revision = 54500,
    .display_name = host,
    .timezone = "UTC",
    .start_time_ns = clock_realtime_ns(),
  };
  svc->metrics = metrics;
  if (!metrics)
    return;
  svc->queries_failed = metrics_counter(metrics, "spanhouse_query_failures_total", NULL,
                                        "SQL queries answered with an exception");
  svc->read_rows = metrics_counter(metrics, "spanhouse_query_read_rows_total", NULL, "Rows read by SQL queries");
  svc->read_bytes = metrics_counter(metrics, "spanhouse_query_read_bytes_total", NULL, "Bytes read by SQL queries");
  svc->result_bytes = metrics_counter(metrics, "spanhouse_query_result_bytes_total", NULL,
                                      "Bytes of SQL results sent, before compression");
}

static void count_error_code(struct query_service *svc, int code)
{
  if (!svc->metrics)
    return;
  char labels[64];
  snprintf(labels, sizeof labels, "code=\"%d\",name=\"%s\"", code, error_name(code));
  metric_inc(metrics_counter(svc->metrics, "spanhouse_query_errors_total", labels, "SQL errors by ClickHouse code"));
}

static void count_query(struct query_service *svc, const struct query_stats *st, bool ok)
{
  if (!ok)
    metric_inc(svc->queries_failed);
  metric_add(svc->read_rows, st->read_rows);
  metric_add(svc->read_bytes, st->read_bytes);
  metric_add(svc->result_bytes, st->result_bytes);
}

/* ---- helpers ----------------------------------------------------------- */

static void random_hex(char *out, size_t chars)
{
  uint8_t bytes[32];
  size_t n = (chars + 1) / 2;
  if (getrandom(bytes, n, 0) != (ssize_t)n)
    for (size_t i = 0; i < n; i++)
      bytes[i] = (uint8_t)(clock_monotonic_ns() >> (i % 8));
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < chars; i++)
    out[i] = hex[(bytes[i / 2] >> ((i % 2) ? 0 : 4)) & 15];
  out[chars] = '\0';
}

static const char *new_query_id(struct arena *a)
{
  char h[33];
  random_hex(h, 32);
  h[12] = '4';                               /* UUID version 4 */
  h[16] = "89ab"[h[16] % 4];                 /* RFC 4122 variant */
  return arena_printf(a, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static int base64_value(char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

/* Decodes "Basic base64(user:password)" into user and password. */
static bool parse_basic_auth(struct arena *a, struct slice value, const char **user, const char **password)
{
  if (value.len < 6 || !slice_eq_nocase(slice_make(value.ptr, 6), "basic "))
    return false;
  struct slice b64 = slice_trim(slice_make(value.ptr + 6, value.len - 6));
  char *dec = arena_alloc(a, b64.len + 1);
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < b64.len && b64.ptr[i] != '='; i++) {
    int v = base64_value(b64.ptr[i]);
    if (v < 0)
      return false;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      dec[n++] = (char)((acc >> bits) & 0xff);
    }
  }
  dec[n] = '\0';
  char *colon = memchr(dec, ':', n);
  if (!colon)
    return false;
  *colon = '\0';
  *user = dec;
  *password = colon + 1;
  return true;
}

static void add_header(struct http_query *q, const char *name, const char *value)
{
  http_response_add_header(q->resp, name, value);
}

static void add_summary_header(struct http_query *q)
{
  struct query_stats *st = &q->ctx.stats;
  char summary[512];
  snprintf(summary, sizeof summary,
           "{\"read_rows\":\"%" PRIu64 "\",\"read_bytes\":\"%" PRIu64 "\",\"written_rows\":\"%" PRIu64
           "\",\"written_bytes\":\"%" PRIu64 "\",\"total_rows_to_read\":\"%" PRIu64
           "\",\"result_rows\":\"%" PRIu64 "\",\"result_bytes\":\"%" PRIu64 "\",\"elapsed_ns\":\"%" PRId64 "\"}",
           (uint64_t)st->read_rows, (uint64_t)st->read_bytes, (uint64_t)st->written_rows,
           (uint64_t)st->written_bytes, (uint64_t)st->read_rows, st->result_rows, st->result_bytes,
           clock_elapsed_ns(st->start_ns));
  add_header(q, "X-ClickHouse-Summary", summary);
}

static void add_common_headers(struct http_query *q)
{
  add_header(q, "X-ClickHouse-Query-Id", q->ctx.query_id);
  add_header(q, "X-ClickHouse-Server-Display-Name", q->svc->info.display_name);
  add_header(q, "X-ClickHouse-Timezone", q->svc->info.timezone);
}

/* Picks response compression when the client asked for it (both the
 * enable_http_compression setting and Accept-Encoding, as ClickHouse). */
static void choose_response_encoding(struct http_query *q)
{
  if (!settings_get_bool(q->settings, "enable_http_compression"))
    return;
  struct slice accept = http_request_header(q->req, "Accept-Encoding");
  static const char *const preferred[] = { "zstd", "gzip", "deflate" };
  for (size_t i = 0; i < sizeof preferred / sizeof preferred[0]; i++) {
    for (size_t j = 0; j + strlen(preferred[i]) <= accept.len; j++)
      if (strncasecmp(accept.ptr + j, preferred[i], strlen(preferred[i])) == 0) {
        http_response_set_encoding(q->resp, preferred[i]);
        return;
      }
  }
}

/* Sends the status line and headers of a successful response and the bytes
 * held back so far; from now on output streams. */
static void start_streaming(struct http_query *q)
{
  http_response_begin(q->resp, 200, format_content_type(q->format));
  add_common_headers(q);
  add_header(q, "X-ClickHouse-Format", q->format);
  add_header(q, "X-ClickHouse-Exception-Tag", q->exception_tag);
  add_summary_header(q);
  choose_response_encoding(q);
  q->streaming = true;
  if (q->out.len)
    http_response_write(q->resp, q->out.data, q->out.len);
  buf_reset(&q->out);
}

/* Bytes on the wire (framed already when compress=1). */
static int output_write(struct http_query *q, const char *data, size_t len)
{
  if (q->streaming)
    return http_response_write(q->resp, data, len);
  buf_append(&q->out, data, len);
  if (!q->wait_end_of_query && q->out.len >= q->buffer_bytes)
    start_streaming(q);
  return 0;
}

/* compress=1: turns the pending plain bytes into one frame and writes it. */
static int flush_frame(struct http_query *q)
{
  if (q->plain.len == 0)
    return 0;
  buf_reset(&q->frame);
  int rc = chframe_encode(q->frame_method, q->frame_level, q->plain.data, q->plain.len, &q->frame, &q->err);
  buf_reset(&q->plain);
  if (rc)
    return rc;
  return output_write(q, q->frame.data, q->frame.len);
}

static int sink_write(void *ctx, const char *data, size_t len)
{
  struct http_query *q = ctx;
  q->ctx.stats.result_bytes += len;
  if (!q->compress)
    return output_write(q, data, len);
  while (len) {
    size_t n = FRAME_PLAIN_BYTES - q->plain.len < len ? FRAME_PLAIN_BYTES - q->plain.len : len;
    buf_append(&q->plain, data, n);
    data += n;
    len -= n;
    if (q->plain.len == FRAME_PLAIN_BYTES) {
      int rc = flush_frame(q);
      if (rc)
        return rc;
    }
  }
  return 0;
}

/* "Code: 62. DB::Exception: msg. (SYNTAX_ERROR) (version 25.8.1.1)\n"; like
 * ClickHouse, the period after the message is added only when missing. */
static void format_exception(struct http_query *q, struct buf *out)
{
  size_t len = strlen(q->err.message);
  bool has_period = len > 0 && q->err.message[len - 1] == '.';
  buf_printf(out, "Code: %d. DB::Exception: %s%s (%s) (version %s)\n", q->err.code, q->err.message,
             has_period ? "" : ".", error_name(q->err.code), q->svc->info.version);
}

static void respond_error(struct http_query *q)
{
  count_error_code(q->svc, q->err.code);
  log_debug("query %s failed: code %d: %s", q->ctx.query_id ? q->ctx.query_id : "-", q->err.code,
            q->err.message);
  struct buf text;
  buf_init(&text);
  format_exception(q, &text);
  if (q->frames_on) {
    /* compress=1 (ClickHouse's HTTPHandler): the exception goes into the
     * compressed stream too. Output not yet sent is dropped; after the head
     * it follows the frames already out, in the __exception__ framing. */
    struct buf plain;
    buf_init(&plain);
    if (q->streaming) {
      buf_printf(&plain, "\r\n__exception__\r\n%s\n%.*s%zu %s\r\n__exception__\r\n", q->exception_tag,
                 (int)text.len, text.data, text.len, q->exception_tag);
      flush_frame(q);                            /* output formatted before the error */
    } else {
      buf_append(&plain, text.data, text.len);
      buf_reset(&q->out);
    }
    buf_reset(&q->plain);
    buf_reset(&q->frame);
    if (chframe_encode(q->frame_method, q->frame_level, plain.data, plain.len, &q->frame, &q->err) == 0) {
      buf_reset(&text);
      buf_append(&text, q->frame.data, q->frame.len);
    }
    buf_free(&plain);
  }
  if (q->streaming) {
    /* Headers are gone: append the exception in the framing clients look
     * for (clickhouse-js utils/stream.ts), after a line break. */
    if (q->frames_on) {
      http_response_write(q->resp, text.data, text.len);
    } else {
      struct buf framed;
      buf_init(&framed);
      buf_printf(&framed, "\r\n__exception__\r\n%s\n%.*s%zu %s\r\n__exception__\r\n", q->exception_tag,
                 (int)text.len, text.data, text.len, q->exception_tag);
      http_response_write(q->resp, framed.data, framed.len);
      buf_free(&framed);
    }
  } else {
    char code[16];
    snprintf(code, sizeof code, "%d", q->err.code);
    http_response_begin(q->resp, error_http_status(q->err.code), "text/plain; charset=UTF-8");
    if (q->ctx.query_id)
      add_common_headers(q);
    add_header(q, "X-ClickHouse-Exception-Code", code);
    if (q->ctx.query_id)
      add_summary_header(q);
    http_response_write(q->resp, text.data, text.len);
  }
  http_response_end(q->resp);
  buf_free(&text);
}

/* ---- request decoding ---------------------------------------------------- */

static bool is_reserved_param(const char *name)
{
  static const char *const reserved[] = {
    "query", "database", "default_format", "query_id", "user", "password", "quota_key", "session_id",
    "session_timeout", "session_check", "buffer_size", "wait_end_of_query", "role", "stacktrace",
    "compress", "decompress", "client_protocol_version", "network_compression_method",
    "network_zstd_compression_level", "http_headers_progress_interval_ms",
  };
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strcmp(name, reserved[i]) == 0)
      return true;
  return false;
}

static int read_url_params(struct http_query *q)
{
  struct http_query_iter it;
  struct slice name, value;
  int rc;
  uint32_t param_cap = 0;
  http_query_iter_init(&it, http_request_query_string(q->req));
  while ((rc = http_query_next(&it, &q->arena, &name, &value)) != 0) {
    if (rc < 0)
      return error_set(&q->err, ERR_BAD_ARGUMENTS, "Cannot decode the URL: malformed %%-escape in the query string");
    const char *n = name.ptr, *v = value.ptr;
    if (strcmp(n, "query") == 0) {
      q->query_param = v;
    } else if (strcmp(n, "database") == 0) {
      q->ctx.database = v;
    } else if (strcmp(n, "default_format") == 0) {
      q->default_format = v;
    } else if (strcmp(n, "query_id") == 0) {
      q->ctx.query_id = v;
    } else if (strcmp(n, "user") == 0) {
      q->user = v;
    } else if (strcmp(n, "password") == 0) {
      q->password = v;
    } else if (strcmp(n, "buffer_size") == 0) {
      if (!slice_to_u64(value, &q->buffer_bytes))
        return error_set(&q->err, ERR_CANNOT_PARSE_NUMBER, "Cannot parse buffer_size '%s' as a number", v);
    } else if (strcmp(n, "wait_end_of_query") == 0) {
      q->wait_end_of_query = strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
    } else if (strcmp(n, "compress") == 0) {
      q->compress = strcmp(v, "0") != 0 && strcmp(v, "false") != 0 && *v;
    } else if (strcmp(n, "decompress") == 0) {
      q->decompress = strcmp(v, "0") != 0 && strcmp(v, "false") != 0 && *v;
    } else if (strcmp(n, "network_compression_method") == 0) {
      if (!chframe_method_parse(v, &q->frame_method))
        return error_set(&q->err, ERR_UNKNOWN_COMPRESSION_METHOD,
                         "Unknown compression method: '%s' (network_compression_method: LZ4, LZ4HC, ZSTD, NONE)", v);
    } else if (strcmp(n, "network_zstd_compression_level") == 0) {
      uint64_t level;
      if (!slice_to_u64(value, &level) || level < 1 || level > 22)
        return error_set(&q->err, ERR_BAD_ARGUMENTS, "network_zstd_compression_level must be 1..22, not '%s'", v);
      q->frame_level = (int)level;
    } else if (strncmp(n, "param_", 6) == 0) {
      if (q->param_count == param_cap) {
        uint32_t cap = param_cap ? param_cap * 2 : 8;
        q->params = arena_realloc(&q->arena, q->params, param_cap * sizeof *q->params, cap * sizeof *q->params);
        param_cap = cap;
      }
      q->params[q->param_count++] = (struct query_param){ n + 6, v };
    } else if (!is_reserved_param(n)) {
      if ((rc = settings_set(q->settings, n, v, &q->err)))
        return rc;
    }
  }
  return 0;
}

static int read_headers(struct http_query *q)
{
  struct slice v;
  if ((v = http_request_header(q->req, "X-ClickHouse-User")).ptr)
    q->user = arena_strndup(&q->arena, v.ptr, v.len);
  if ((v = http_request_header(q->req, "X-ClickHouse-Key")).ptr)
    q->password = arena_strndup(&q->arena, v.ptr, v.len);
  if ((v = http_request_header(q->req, "X-ClickHouse-Database")).ptr)
    q->ctx.database = arena_strndup(&q->arena, v.ptr, v.len);
  if ((v = http_request_header(q->req, "X-ClickHouse-Format")).ptr)
    q->default_format = arena_strndup(&q->arena, v.ptr, v.len);
  if ((v = http_request_header(q->req, "Authorization")).ptr) {
    const char *u, *p;
    if (parse_basic_auth(&q->arena, v, &u, &p)) {
      if (q->user && strcmp(q->user, u) != 0)
        return error_set(&q->err, ERR_AUTHENTICATION_FAILED,
                         "Credentials in the Authorization header and in X-ClickHouse-User disagree");
      q->user = u;
      q->password = p;
    }
  }
  return 0;
}

/* Until users exist there is one: `default`, without a password. */
static int authenticate(struct http_query *q)
{
  if (!q->user || !*q->user)
    q->user = "default";
  if (strcmp(q->user, "default") == 0 && (!q->password || !*q->password))
    return 0;
  return error_set(&q->err, ERR_AUTHENTICATION_FAILED,
                   "%s: Authentication failed: password is incorrect, or there is no user with such name", q->user);
}

/* Reads body bytes into dst: 0 at the end, -1 with err set. With
 * decompress=1 the raw body is decoded frame by frame (one frame held at a
 * time), every checksum verified unless
 * http_native_compression_disable_checksumming_on_decompress. */
static long body_read(struct http_query *q, char *dst, size_t cap, struct error *err)
{
  if (!q->decompress) {
    ssize_t n = http_body_read(q->req, dst, cap);
    if (n < 0)
      return error_set(err, ERR_CANNOT_READ_ALL_DATA, "Cannot read the request body: %s",
                       http_request_body_error(q->req)), -1;
    return (long)n;
  }
  if (cap == 0)
    return 0;
  if (!q->body_frames) {
    bool verify = !settings_get_bool(q->settings, "http_native_compression_disable_checksumming_on_decompress");
    if (chframe_decoder_create(&q->body_frames, verify, 0, err))
      return -1;
    q->raw = arena_alloc(&q->arena, BODY_READ_CHUNK_BYTES);
  }
  for (;;) {
    size_t used, produced;
    if (chframe_decoder_run(q->body_frames, q->raw + q->raw_pos, q->raw_len - q->raw_pos, &used, dst, cap,
                            &produced, err))
      return -1;
    q->raw_pos += used;
    if (produced)
      return (long)produced;
    if (q->raw_pos < q->raw_len)
      continue;
    if (q->raw_eof)
      return chframe_decoder_finish(q->body_frames, err) ? -1 : 0;
    ssize_t n = http_body_read(q->req, q->raw, BODY_READ_CHUNK_BYTES);
    if (n < 0)
      return error_set(err, ERR_CANNOT_READ_ALL_DATA, "Cannot read the request body: %s",
                       http_request_body_error(q->req)), -1;
    q->raw_pos = 0;
    q->raw_len = (size_t)n;
    q->raw_eof = n == 0;
  }
}

/* Reads up to `max` bytes of the body into out (fewer at its end). */
static int read_body_prefix(struct http_query *q, struct buf *out, size_t max)
{
  while (out->len < max) {
    size_t want = max - out->len < BODY_READ_CHUNK_BYTES ? max - out->len : BODY_READ_CHUNK_BYTES;
    buf_reserve(out, want);
    long n = body_read(q, out->data + out->len, want, &q->err);
    if (n < 0)
      return q->err.code;
    if (n == 0)
      return 0;
    out->len += (size_t)n;
  }
  return 0;
}

/* The statement text: ?query= and the body joined by a line feed, at most
 * max_query_size bytes (+1 to detect more). */
static int read_query_text(struct http_query *q, struct buf *text, bool *truncated)
{
  size_t max = settings_get_u64(q->settings, "max_query_size");
  if (q->query_param) {
    buf_append_cstr(text, q->query_param);
    if (text->len > max)
      return error_set(&q->err, ERR_SYNTAX_ERROR, "Max query size exceeded: %zu bytes in the query parameter",
                       text->len);
  }

  if (!http_request_is_method(q->req, "POST"))
    return 0;
  /* One byte past the limit tells a long body from one that fits; for
   * INSERT the extra bytes are simply the start of its data. */
  struct buf body;
  buf_init(&body);
  int rc = read_body_prefix(q, &body, max - text->len + 1);
  *truncated = text->len + body.len > max;
  if (rc == 0 && body.len) {
    if (text->len)
      buf_append_char(text, '\n');
    buf_append(text, body.data, body.len);
  }
  buf_free(&body);
  return rc;
}

/* INSERT data past the statement: the rest of the body. */
static long insert_body_read(void *ctx, char *buf, size_t cap, struct error *err)
{
  return body_read(ctx, buf, cap, err);
}

static bool statement_is_read_only(const struct sql_statement *s)
{
  switch (s->kind) {
  case STMT_SELECT: case STMT_SHOW_DATABASES: case STMT_SHOW_TABLES: case STMT_SHOW_CREATE:
  case STMT_DESCRIBE: case STMT_EXISTS: case STMT_EXPLAIN: case STMT_SET: case STMT_USE:
    return true;
  default:
    return false;
  }
}

static int apply_settings(struct http_query *q, const struct ast_list *list)
{
  for (uint32_t i = 0; i < list->count; i++) {
    const struct ast *s = list->items[i];
    const struct ast *v = s->u.setting.value;
    const char *text;
    if (v->kind != AST_LITERAL)
      return error_set(&q->err, ERR_BAD_ARGUMENTS, "Setting %s must be set to a literal", s->u.setting.name);
    switch (v->u.literal.kind) {
    case LIT_STRING: text = v->u.literal.str; break;
    case LIT_UINT: case LIT_BOOL: text = arena_printf(&q->arena, "%" PRIu64, v->u.literal.u); break;
    case LIT_INT: text = arena_printf(&q->arena, "%" PRId64, v->u.literal.i); break;
    case LIT_FLOAT: text = arena_printf(&q->arena, "%.17g", v->u.literal.f); break;
    default: text = ""; break;
    }
    int rc = settings_set(q->settings, s->u.setting.name, text, &q->err);
    if (rc)
      return rc;
  }
  return 0;
}

/* output_format_pretty_color: "auto" (no terminal over HTTP, so off), 0/1. */
static int pretty_color_option(const char *v)
{
  if (!v || strcmp(v, "auto") == 0)
    return 0;
  return strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 ? -1 : 1;
}

static struct format_options output_options(struct http_query *q)
{
  const struct settings *s = q->settings;
  const char *delim = settings_get_str(s, "format_csv_delimiter");
  return (struct format_options){
    .json_quote_64bit_integers = settings_get_bool(s, "output_format_json_quote_64bit_integers"),
    .json_quote_denormals = settings_get_bool(s, "output_format_json_quote_denormals"),
    .json_escape_forward_slashes = settings_get_bool(s, "output_format_json_escape_forward_slashes"),
    .write_statistics = settings_get_bool(s, "output_format_write_statistics"),
    .csv_delimiter = delim && *delim ? delim[0] : ',',
    .pretty_max_rows = settings_get_u64(s, "output_format_pretty_max_rows"),
    .timezone = exec_timezone_name(&q->ctx),
    .pretty_color = pretty_color_option(settings_get_str(s, "output_format_pretty_color")),
    .pretty_grid_ascii = strcasecmp(settings_get_str(s, "output_format_pretty_grid_charset"), "ASCII") == 0,
    .pretty_max_column_pad_width = settings_get_u64(s, "output_format_pretty_max_column_pad_width"),
    .tsv_crlf = settings_get_bool(s, "output_format_tsv_crlf_end_of_line"),
    .csv_crlf = settings_get_bool(s, "output_format_csv_crlf_end_of_line"),
    .json_quote_64bit_floats = settings_get_bool(s, "output_format_json_quote_64bit_floats"),
    .json_named_tuples_as_arrays = !settings_get_bool(s, "output_format_json_named_tuples_as_objects"),
    .json_array_of_rows = settings_get_bool(s, "output_format_json_array_of_rows"),
  };
}

/* Prepares and runs a statement that produces a result, streaming blocks. */
static int run_statement(struct http_query *q, const struct sql_statement *stmt)
{
  struct query_plan *plan;
  int rc = query_prepare(&q->ctx, stmt, &plan, &q->err);
  if (rc)
    return rc;
  const char *plan_format = query_plan_format(plan);
  if (plan_format)
    q->format = plan_format;
  if (!format_is_known(q->format))
    return error_set(&q->err, ERR_UNKNOWN_FORMAT, "Unknown output format %s", q->format);

  uint32_t ncols;
  const char *const *names;
  const struct datatype *const *types;
  query_plan_header(plan, &ncols, &names, &types);
  struct format_options opts = output_options(q);
  struct format_writer *w;
  struct format_sink sink = { sink_write, q };
  if ((rc = format_writer_create(&q->arena, q->format, &opts, ncols, names, types, sink, &w, &q->err)) ||
      (rc = format_writer_begin(w, &q->err)))
    return rc;

  for (;;) {
    struct block *b;
    if ((rc = query_plan_next(plan, &b, &q->err)))
      return rc;
    if (!b)
      break;
    q->ctx.stats.result_rows += b->rows;
    if ((rc = format_writer_block(w, b, &q->err)))
      return rc;
  }
  struct block *totals;
  if ((rc = query_plan_totals(plan, &totals, &q->err)))
    return rc;
  if (totals && (rc = format_writer_totals(w, totals, &q->err)))
    return rc;
  struct query_stats *st = &q->ctx.stats;
  struct format_summary summary = {
    .rows = st->result_rows,
    .rows_before_limit = st->rows_before_limit,
    .has_limit = st->has_limit,
    .elapsed_seconds = (double)clock_elapsed_ns(st->start_ns) / 1e9,
    .read_rows = st->read_rows,
    .read_bytes = st->read_bytes,
  };
  return format_writer_end(w, &summary, &q->err);
}

static int handle(struct http_query *q)
{
  int rc;
  if ((rc = read_url_params(q)) || (rc = read_headers(q)) || (rc = authenticate(q)))
    return rc;
  q->frames_on = q->compress;
  q->ctx.user = q->user;
  if (!q->ctx.query_id || !*q->ctx.query_id)
    q->ctx.query_id = new_query_id(&q->arena);
  if (!q->ctx.database || !*q->ctx.database)
    q->ctx.database = "default";
  q->ctx.params = q->params;
  q->ctx.param_count = q->param_count;

  struct buf text;
  buf_init(&text);
  bool truncated = false;
  rc = read_query_text(q, &text, &truncated);
  if (rc == 0 && text.len == 0)
    rc = error_set(&q->err, ERR_SYNTAX_ERROR, "Empty query");
  struct sql_statement *stmt = NULL;
  char *owned = NULL;
  size_t owned_len = text.len;
  if (rc == 0) {
    /* The text must outlive the AST (literals point into it): copy it. */
    owned = arena_strndup(&q->arena, text.data, text.len);
    q->ctx.text = owned;
    q->ctx.text_len = text.len;
    rc = sql_parse(&q->arena, owned, text.len, &stmt, &q->err);
    if (truncated && (rc != 0 || stmt->kind != STMT_INSERT))
      rc = error_set(&q->err, ERR_SYNTAX_ERROR, "Max query size exceeded (max_query_size = %" PRIu64 ")",
                     settings_get_u64(q->settings, "max_query_size"));
  }
  buf_free(&text);
  if (rc)
    return rc;

  /* The parser copies a top-level SELECT's SETTINGS into stmt->settings. */
  if ((rc = apply_settings(q, &stmt->settings)))
    return rc;

  q->ctx.readonly = settings_get_u64(q->settings, "readonly") > 0 || http_request_is_method(q->req, "GET");
  if (q->ctx.readonly && !statement_is_read_only(stmt)) {
    return error_set(&q->err, ERR_READONLY,
                     http_request_is_method(q->req, "GET")
                         ? "Cannot execute query in readonly mode. For queries over HTTP, method GET implies "
                           "readonly. You should use method POST for modifying queries"
                         : "Cannot execute query in readonly mode");
  }
  if (stmt->into_outfile)
    return error_set(&q->err, ERR_SUPPORT_IS_DISABLED, "INTO OUTFILE is not allowed over HTTP");

  q->format = stmt->format ? stmt->format : q->default_format ? q->default_format : "TabSeparated";
  if ((rc = query_params_substitute(&q->arena, stmt, q->params, q->param_count, &q->err)))
    return rc;

  /* Without sessions, SET and USE affect nothing after this request: they
   * succeed with an empty body, as ClickHouse over HTTP. */
  if (stmt->kind == STMT_SET) {
    return apply_settings(q, &stmt->settings);
  }
  if (stmt->kind == STMT_USE)
    return 0;
  if (stmt->kind == STMT_INSERT && stmt->insert_format) {
    if (!q->ctx.engine)
      return error_set(&q->err, ERR_NOT_IMPLEMENTED, "INSERT queries are not supported yet");
    return mergetree_insert(&q->ctx, stmt, owned, owned_len, insert_body_read, q, &q->err);
  }
  return run_statement(q, stmt);
}

void query_http_handle(void *ctx, struct http_request *req, struct http_response *resp)
{
  struct http_query q = { .svc = ctx, .req = req, .resp = resp };
  arena_init(&q.arena, 64 * 1024);
  buf_init(&q.out);
  buf_init(&q.plain);
  buf_init(&q.frame);
  q.frame_method = CHFRAME_LZ4;
  error_clear(&q.err);
  q.settings = settings_create(&q.arena);
  q.buffer_bytes = RESPONSE_BUFFER_BYTES_DEFAULT;
  q.ctx.arena = &q.arena;
  q.ctx.server = &q.svc->info;
  q.ctx.settings = q.settings;
  q.ctx.engine = q.svc->engine;
  q.ctx.views = q.svc->views;
  q.ctx.stats.start_ns = clock_monotonic_ns();
  random_hex(q.exception_tag, 16);

  int rc = handle(&q);
  if (rc == 0 && q.compress)
    rc = flush_frame(&q);
  if (rc) {
    respond_error(&q);
  } else if (q.streaming) {
    http_response_end(resp);
  } else {
    if (!q.format)
      q.format = "TabSeparated";
    http_response_begin(resp, 200, format_content_type(q.format));
    http_response_hold(resp);
    add_common_headers(&q);
    add_header(&q, "X-ClickHouse-Format", q.format);
    add_summary_header(&q);
    choose_response_encoding(&q);
    if (q.out.len)
      http_response_write(resp, q.out.data, q.out.len);
    http_response_end(resp);
  }
  count_query(q.svc, &q.ctx.stats, rc == 0);
  chframe_decoder_destroy(q.body_frames);
  buf_free(&q.plain);
  buf_free(&q.frame);
  buf_free(&q.out);
  arena_destroy(&q.arena);
}
