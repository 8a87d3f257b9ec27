/* OTLP/HTTP receiver (port 4318): POST /v1/traces, /v1/logs, /v1/metrics
 * with a protobuf or JSON Export*ServiceRequest, gzip bodies decoded by the
 * HTTP server. Replies in the request's encoding: the Export*ServiceResponse
 * on 200 (partial_success when items were rejected), a google.rpc.Status on
 * 4xx/5xx, Retry-After (and a RetryInfo detail) on 429/503, as the OTLP
 * specification asks.
 *
 * Checks, in order (each answers and stops):
 *   path → 404, method → 405, Content-Type → 415, tenant/key → 401 or 400,
 *   body read → 413/415/400, decode → 400, sink → 429/503/500, else 200. */
#include "ingest/ingest_int.h"

#include "base/http_server.h"

#include <stdio.h>

static bool path_signal(struct slice path, enum otlp_signal *out)
{
  if (slice_eq_cstr(path, "/v1/traces") || slice_eq_cstr(path, "/v1/traces/"))
    *out = OTLP_TRACES;
  else if (slice_eq_cstr(path, "/v1/logs") || slice_eq_cstr(path, "/v1/logs/"))
    *out = OTLP_LOGS;
  else if (slice_eq_cstr(path, "/v1/metrics") || slice_eq_cstr(path, "/v1/metrics/"))
    *out = OTLP_METRICS;
  else
    return false;
  return true;
}

/* The media type without parameters ("application/json; charset=utf-8"). */
static bool content_type_encoding(struct slice ct, enum otlp_encoding *out)
{
  size_t n = 0;
  while (n < ct.len && ct.ptr[n] != ';')
    n++;
  struct slice media = slice_trim(slice_make(ct.ptr, n));
  if (slice_eq_nocase(media, "application/x-protobuf") || slice_eq_nocase(media, "application/protobuf"))
    *out = OTLP_PROTOBUF;
  else if (slice_eq_nocase(media, "application/json"))
    *out = OTLP_JSON;
  else
    return false;
  return true;
}

static const char *content_type_name(enum otlp_encoding e)
{
  return e == OTLP_JSON ? "application/json" : "application/x-protobuf";
}

/* An error reply: a google.rpc.Status in the request's encoding; on 429/503
 * it also carries a RetryInfo detail with the Retry-After delay. */
static void reply_status(struct otlp_endpoint *ep, struct http_response *resp, int http_status,
                         enum otlp_encoding encoding, int grpc_code, const char *message)
{
  bool retry = http_status == 429 || http_status == 503;
  struct buf body;
  buf_init(&body);
  otlp_status_encode(encoding, grpc_code, message, retry ? ep->retry_after_s : 0, &body);
  http_response_begin(resp, http_status, content_type_name(encoding));
  if (retry)
    http_response_add_header(resp, "Retry-After", ep->retry_after);
  if (http_status == 401)
    http_response_add_header(resp, "WWW-Authenticate", "Bearer");
  if (http_status == 405)
    http_response_add_header(resp, "Allow", "POST");
  http_response_write(resp, body.data, body.len);
  http_response_end(resp);
  buf_free(&body);
}

/* Reads the whole (decoded) body into out, at most max bytes. Returns 0 or
 * an ERR_ code with err set (QUERY_IS_TOO_LARGE past max). */
static int read_body(struct http_request *req, uint64_t max, struct buf *out, struct error *err)
{
  if (req->head.has_content_length && !req->head.chunked && !req->head.content_encoding.len &&
      req->head.content_length > max)
    return error_set(err, ERR_QUERY_IS_TOO_LARGE, "request body of %llu bytes is over the %llu byte limit",
                     (unsigned long long)req->head.content_length, (unsigned long long)max);
  if (req->head.has_content_length && req->head.content_length <= max)
    buf_reserve(out, (size_t)req->head.content_length);
  for (;;) {
    buf_reserve(out, 64 * 1024);
    ssize_t n = http_body_read(req, out->data + out->len, out->cap - out->len);
    if (n == 0)
      return 0;
    if (n < 0) {
      const struct error *be = http_body_error(req);
      return error_set(err, (int)-n, "%s", be && be->message[0] ? be->message : "cannot read the request body");
    }
    out->len += (size_t)n;
    if (out->len > max)
      return error_set(err, ERR_QUERY_IS_TOO_LARGE, "request body is over the %llu byte limit",
                       (unsigned long long)max);
  }
}

void otlp_http_handler(void *ctx, struct http_request *req, struct http_response *resp)
{
  struct otlp_endpoint *ep = ctx;
  struct error err = { 0 };
  enum otlp_signal signal;
  enum otlp_encoding encoding = OTLP_PROTOBUF;
  struct slice ct = http_request_header(req, "Content-Type");
  bool known_type = ct.ptr && content_type_encoding(ct, &encoding);

  if (!path_signal(req->head.path, &signal)) {
    reply_status(ep, resp, 404, encoding, 5 /* NOT_FOUND */,
                 "unknown path: OTLP/HTTP serves POST /v1/traces, /v1/logs and /v1/metrics");
    return;
  }
  if (!http_request_is_method(req, "POST")) {
    http_response_close_after(resp);            /* do not read what a GET/PUT might send */
    reply_status(ep, resp, 405, encoding, 12 /* UNIMPLEMENTED */, "method not allowed: use POST");
    return;
  }
  if (!known_type) {
    otlp_endpoint_count_failure(ep, OTLP_TRANSPORT_HTTP, signal, OTLP_OUTCOME_BAD_REQUEST);
    http_response_close_after(resp);
    char msg[256];
    snprintf(msg, sizeof msg, "unsupported Content-Type '%.*s': use application/x-protobuf or application/json",
             (int)(ct.len < 100 ? ct.len : 100), ct.ptr ? ct.ptr : "");
    reply_status(ep, resp, 415, OTLP_PROTOBUF, 3 /* INVALID_ARGUMENT */, msg);
    return;
  }

  char tenant[OTLP_TENANT_BYTES_MAX + 1];
  int outcome = otlp_endpoint_tenant(ep, http_request_header(req, "X-Scope-OrgID"),
                                     http_request_header(req, "Authorization"), http_request_header(req, "X-API-Key"),
                                     tenant, &err);
  if (outcome != OTLP_OUTCOME_OK) {
    otlp_endpoint_count_failure(ep, OTLP_TRANSPORT_HTTP, signal, outcome);
    http_response_close_after(resp);
    if (outcome == OTLP_OUTCOME_UNAUTHENTICATED)
      reply_status(ep, resp, 401, encoding, 16 /* UNAUTHENTICATED */, err.message);
    else
      reply_status(ep, resp, 400, encoding, 3 /* INVALID_ARGUMENT */, err.message);
    return;
  }

  struct buf body;
  buf_init(&body);
  int rc = read_body(req, ep->max_body_bytes, &body, &err);
  if (rc) {
    otlp_endpoint_count_failure(ep, OTLP_TRANSPORT_HTTP, signal,
                                rc == ERR_QUERY_IS_TOO_LARGE ? OTLP_OUTCOME_TOO_LARGE : OTLP_OUTCOME_BAD_REQUEST);
    http_response_close_after(resp);
    if (rc == ERR_QUERY_IS_TOO_LARGE)
      reply_status(ep, resp, 413, encoding, 3 /* INVALID_ARGUMENT */, err.message);
    else if (rc == ERR_UNSUPPORTED_MEDIA_TYPE)
      reply_status(ep, resp, 415, encoding, 3, err.message);
    else if (rc == ERR_NETWORK_ERROR || rc == ERR_SOCKET_TIMEOUT || rc == ERR_CANNOT_READ_ALL_DATA)
      ;                                           /* the client is gone: nothing to answer */
    else
      reply_status(ep, resp, 400, encoding, 3, err.message);
    goto out_free_body;
  }

  struct otlp_batch batch;
  outcome = otlp_endpoint_export(ep, OTLP_TRANSPORT_HTTP, signal, encoding, tenant, body.data ? body.data : "",
                                 body.len, req->arena, &batch, &err);
  switch (outcome) {
  case OTLP_OUTCOME_OK: {
    struct buf out;
    buf_init(&out);
    otlp_response_encode(signal, encoding, &batch, &out);
    http_response_begin(resp, 200, content_type_name(encoding));
    http_response_write(resp, out.data, out.len);
    http_response_end(resp);
    buf_free(&out);
    break;
  }
  case OTLP_OUTCOME_BAD_REQUEST:
    reply_status(ep, resp, 400, encoding, 3 /* INVALID_ARGUMENT */, err.message);
    break;
  case OTLP_OUTCOME_SATURATED:
    reply_status(ep, resp, 429, encoding, 8 /* RESOURCE_EXHAUSTED */, err.message);
    break;
  case OTLP_OUTCOME_UNAVAILABLE:
    reply_status(ep, resp, 503, encoding, 14 /* UNAVAILABLE */, err.message);
    break;
  default:
    reply_status(ep, resp, 500, encoding, 13 /* INTERNAL */, err.message);
    break;
  }
out_free_body:
  buf_free(&body);
}
