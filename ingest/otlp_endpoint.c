/* What OTLP/HTTP and OTLP/gRPC share: the endpoint object (config copy,
 * counters), tenant resolution from X-Scope-OrgID or API keys, decode →
 * sink, and google.rpc.Status bodies. Transports only map outcomes onto
 * their statuses. Rules: docs/otlp.md. */
#include "ingest/ingest_int.h"

#include "base/alloc.h"
#include "base/metrics.h"

#include <stdio.h>

static const char *const signal_names[3] = { "traces", "logs", "metrics" };
static const char *const transport_names[OTLP_TRANSPORT_COUNT] = { "http", "grpc" };
static const char *const outcome_names[OTLP_OUTCOME_COUNT] = {
  "ok", "bad_request", "unauthenticated", "saturated", "unavailable", "internal", "too_large",
};

/* Tenant ids as Mimir/Loki/Tempo accept them: 1..150 bytes of [A-Za-z0-9]
 * and !-_.*'(), but not "." or "..". */
static bool tenant_valid(const char *s, size_t n)
{
  if (n == 0 || n > OTLP_TENANT_BYTES_MAX)
    return false;
  if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!-_.*'()", c);
    if (!ok || c == '\0')
      return false;
  }
  return true;
}

int otlp_endpoint_create(struct otlp_endpoint **out, const struct otlp_endpoint_config *cfg, struct error *err)
{
  *out = NULL;
  if (!cfg->sink.insert)
    return error_set(err, ERR_BAD_ARGUMENTS, "OTLP endpoint needs a sink");
  for (size_t i = 0; i < cfg->api_key_count; i++) {
    const struct otlp_api_key *k = &cfg->api_keys[i];
    if (!k->key || !k->key[0])
      return error_set(err, ERR_BAD_ARGUMENTS, "OTLP API key %zu is empty", i + 1);
    if (!k->tenant || !tenant_valid(k->tenant, strlen(k->tenant)))
      return error_set(err, ERR_BAD_ARGUMENTS, "OTLP API key %zu: invalid tenant '%s'", i + 1,
                       k->tenant ? k->tenant : "");
  }
  struct otlp_endpoint *ep = mem_calloc(1, sizeof *ep);
  ep->sink = cfg->sink;
  ep->max_body_bytes = cfg->max_body_bytes ? cfg->max_body_bytes : OTLP_HTTP_BODY_BYTES_DEFAULT;
  ep->retry_after_s = cfg->retry_after_s ? cfg->retry_after_s : 5;
  snprintf(ep->retry_after, sizeof ep->retry_after, "%u", ep->retry_after_s);
  if (cfg->api_key_count) {
    ep->keys = mem_calloc(cfg->api_key_count, sizeof *ep->keys);
    ep->key_count = cfg->api_key_count;
    for (size_t i = 0; i < cfg->api_key_count; i++) {
      ep->keys[i].key = mem_strdup(cfg->api_keys[i].key);
      ep->keys[i].tenant = mem_strdup(cfg->api_keys[i].tenant);
    }
  }
  for (int t = 0; t < OTLP_TRANSPORT_COUNT; t++) {
    for (int s = 0; s < 3; s++) {
      struct otlp_counters *c = &ep->counters[t][s];
      char labels[96], flabels[160];
      snprintf(labels, sizeof labels, "transport=\"%s\",signal=\"%s\"", transport_names[t], signal_names[s]);
      if (!cfg->metrics)
        continue;
      c->requests = metrics_counter(cfg->metrics, "spanhouse_otlp_requests_total", labels,
                                    "OTLP export requests received");
      c->bytes = metrics_counter(cfg->metrics, "spanhouse_otlp_request_bytes_total", labels,
                                 "OTLP export request bytes after decompression");
      c->accepted = metrics_counter(cfg->metrics, "spanhouse_otlp_items_accepted_total", labels,
                                    "spans, log records or metric data points stored");
      c->rejected = metrics_counter(cfg->metrics, "spanhouse_otlp_items_rejected_total", labels,
                                    "spans, log records or metric data points rejected as invalid");
      for (int o = 1; o < OTLP_OUTCOME_COUNT; o++) {
        snprintf(flabels, sizeof flabels, "%s,reason=\"%s\"", labels, outcome_names[o]);
        c->failed[o] = metrics_counter(cfg->metrics, "spanhouse_otlp_failed_requests_total", flabels,
                                       "OTLP export requests answered with an error");
      }
    }
  }
  for (int s = 0; s < 3; s++)
    ep->grpc_methods[s] = (struct otlp_grpc_method){ ep, (enum otlp_signal)s };
  *out = ep;
  return 0;
}

void otlp_endpoint_destroy(struct otlp_endpoint *ep)
{
  if (!ep)
    return;
  for (size_t i = 0; i < ep->key_count; i++) {
    mem_free((void *)ep->keys[i].key);
    mem_free((void *)ep->keys[i].tenant);
  }
  mem_free(ep->keys);
  mem_free(ep);
}

/* Compares without an early exit on the first differing byte, so the time
 * does not tell how much of a guessed key was right. */
static bool key_eq(const char *key, struct slice s)
{
  size_t n = strlen(key);
  unsigned char diff = (unsigned char)(n != s.len);
  for (size_t i = 0; i < s.len; i++)
    diff |= (unsigned char)(s.ptr[i] ^ key[i < n ? i : 0]);
  return diff == 0;
}

int otlp_endpoint_tenant(const struct otlp_endpoint *ep, struct slice org_id, struct slice authorization,
                         struct slice api_key, char tenant[OTLP_TENANT_BYTES_MAX + 1], struct error *err)
{
  if (ep->key_count) {
    struct slice key = { NULL, 0 };
    struct slice a = slice_trim(authorization);
    if (a.len > 7 && slice_eq_nocase(slice_make(a.ptr, 7), "bearer "))
      key = slice_trim(slice_make(a.ptr + 7, a.len - 7));
    else if (api_key.ptr)
      key = slice_trim(api_key);
    if (!key.ptr || !key.len) {
      error_set(err, ERR_REQUIRED_PASSWORD, "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'");
      return OTLP_OUTCOME_UNAUTHENTICATED;
    }
    for (size_t i = 0; i < ep->key_count; i++) {
      if (key_eq(ep->keys[i].key, key)) {
        snprintf(tenant, OTLP_TENANT_BYTES_MAX + 1, "%s", ep->keys[i].tenant);
        return OTLP_OUTCOME_OK;
      }
    }
    error_set(err, ERR_AUTHENTICATION_FAILED, "unknown API key");
    return OTLP_OUTCOME_UNAUTHENTICATED;
  }
  struct slice t = slice_trim(org_id);
  if (!t.ptr || !t.len) {
    memcpy(tenant, "default", sizeof "default");
    return OTLP_OUTCOME_OK;
  }
  if (!tenant_valid(t.ptr, t.len)) {
    error_set(err, ERR_BAD_ARGUMENTS,
              "invalid X-Scope-OrgID: want 1-%d characters of A-Z a-z 0-9 !-_.*'()", OTLP_TENANT_BYTES_MAX);
    return OTLP_OUTCOME_BAD_REQUEST;
  }
  memcpy(tenant, t.ptr, t.len);
  tenant[t.len] = '\0';
  return OTLP_OUTCOME_OK;
}

void otlp_endpoint_count_failure(struct otlp_endpoint *ep, enum otlp_transport transport, enum otlp_signal signal,
                                 int outcome)
{
  struct otlp_counters *c = &ep->counters[transport][signal];
  metric_inc(c->requests);
  if (outcome > 0 && outcome < OTLP_OUTCOME_COUNT)
    metric_inc(c->failed[outcome]);
}

int otlp_endpoint_export(struct otlp_endpoint *ep, enum otlp_transport transport, enum otlp_signal signal,
                         enum otlp_encoding encoding, const char *tenant, const void *body, size_t len,
                         struct arena *a, struct otlp_batch *batch, struct error *err)
{
  struct otlp_counters *c = &ep->counters[transport][signal];
  metric_inc(c->requests);
  metric_add(c->bytes, len);
  int outcome = OTLP_OUTCOME_OK;
  memset(batch, 0, sizeof *batch);
  if (otlp_decode(a, NULL, signal, encoding, slice_of(tenant), body, len, batch, err) != 0) {
    outcome = OTLP_OUTCOME_BAD_REQUEST;
    goto out;
  }
  if (batch->accepted > 0) {
    int rc = ep->sink.insert(ep->sink.ctx, signal, tenant, batch, err);
    switch (rc) {
    case OTLP_SINK_OK:
      break;
    case OTLP_SINK_SATURATED:
      outcome = OTLP_OUTCOME_SATURATED;
      break;
    case OTLP_SINK_UNAVAILABLE:
      outcome = OTLP_OUTCOME_UNAVAILABLE;
      break;
    default:
      outcome = OTLP_OUTCOME_FAILED;
      break;
    }
    if (outcome != OTLP_OUTCOME_OK && !err->message[0])
      error_set(err, ERR_LOGICAL_ERROR, "storing the batch failed");
  }
out:
  if (outcome == OTLP_OUTCOME_OK) {
    metric_add(c->accepted, batch->accepted);
    metric_add(c->rejected, batch->rejected);
  } else {
    metric_inc(c->failed[outcome]);
  }
  return outcome;
}

/* google.rpc.Status: code = 1 (int32), message = 2 (string), details = 3 (none here). */
void otlp_status_encode(enum otlp_encoding encoding, int grpc_code, const char *message, struct buf *out)
{
  size_t n = strlen(message);
  if (encoding == OTLP_JSON) {
    buf_printf(out, "{\"code\":%d,\"message\":", grpc_code);
    text_json_string(out, message, n);
    buf_append_char(out, '}');
    return;
  }
  uint8_t tmp[16];
  size_t k = 0;
  if (grpc_code) {
    tmp[k++] = 0x08;
    tmp[k++] = (uint8_t)(grpc_code & 0x7f);          /* codes are 0..16: one varint byte */
  }
  if (n) {
    tmp[k++] = 0x12;
    uint64_t v = n;
    while (v >= 0x80) {
      tmp[k++] = (uint8_t)(v | 0x80);
      v >>= 7;
    }
    tmp[k++] = (uint8_t)v;
  }
  buf_append(out, tmp, k);
  buf_append(out, message, n);
}
