/* What OTLP/HTTP and OTLP/gRPC share: the endpoint object (config copy,
 * counters, per-tenant counters), tenant resolution from X-Scope-OrgID or
 * API keys, decode → sink, and google.rpc.Status bodies (with RetryInfo when
 * the client should come back later). Transports only map outcomes onto
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
  ep->retry_after_s = cfg->retry_after_s ? cfg->retry_after_s : 1;
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
  ep->metrics = cfg->metrics;
  pthread_mutex_init(&ep->tenant_lock, NULL);
  if (cfg->metrics)
    ep->tenant_slots = mem_calloc(OTLP_TENANT_SLOTS, sizeof *ep->tenant_slots);
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
  if (ep->tenant_slots) {
    for (size_t i = 0; i < OTLP_TENANT_SLOTS; i++)
      mem_free(ep->tenant_slots[i].tenant);
    mem_free(ep->tenant_slots);
  }
  pthread_mutex_destroy(&ep->tenant_lock);
  mem_free(ep);
}

/* Registers the three item counters of one tenant label and signal. */
static void tenant_counters_register(struct otlp_endpoint *ep, const char *label, enum otlp_signal signal,
                                     struct otlp_tenant_counters *c)
{
  char labels[OTLP_TENANT_BYTES_MAX + 48];
  snprintf(labels, sizeof labels, "tenant=\"%s\",signal=\"%s\"", label, signal_names[signal]);
  c->received = metrics_counter(ep->metrics, "spanhouse_otlp_tenant_items_received_total", labels,
                                "spans, log records or metric data points in well-formed OTLP requests, per tenant");
  c->accepted = metrics_counter(ep->metrics, "spanhouse_otlp_tenant_items_accepted_total", labels,
                                "spans, log records or metric data points stored, per tenant");
  c->refused = metrics_counter(ep->metrics, "spanhouse_otlp_tenant_items_refused_total", labels,
                               "spans, log records or metric data points received but not stored "
                               "(invalid, or the request failed), per tenant");
}

/* The counters of a tenant and signal: the tenant's own label for the
 * first OTLP_METRIC_TENANTS_MAX tenants seen, "<other>" (not a valid tenant
 * id, so it cannot collide) for the rest, which keeps /metrics bounded.
 * Registers on first use. Any thread; the lock is held for a hash probe. */
static struct otlp_tenant_counters tenant_counters(struct otlp_endpoint *ep, const char *tenant,
                                                   enum otlp_signal signal)
{
  size_t n = strlen(tenant);
  uint32_t h = 2166136261u;                       /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)tenant[i]) * 16777619u;
  pthread_mutex_lock(&ep->tenant_lock);
  struct otlp_tenant_counters *c = NULL;
  for (size_t i = h & (OTLP_TENANT_SLOTS - 1);; i = (i + 1) & (OTLP_TENANT_SLOTS - 1)) {
    struct otlp_tenant_slot *slot = &ep->tenant_slots[i];
    if (slot->tenant && strcmp(slot->tenant, tenant) == 0) {
      c = &slot->by_signal[signal];
      break;
    }
    if (!slot->tenant) {
      if (ep->tenant_count < OTLP_METRIC_TENANTS_MAX) {
        slot->tenant = mem_strdup(tenant);
        ep->tenant_count++;
        c = &slot->by_signal[signal];
      }
      break;
    }
  }
  if (!c)
    c = &ep->other[signal];
  if (!c->received)
    tenant_counters_register(ep, c == &ep->other[signal] ? "<other>" : tenant, signal, c);
  struct otlp_tenant_counters copy = *c;
  pthread_mutex_unlock(&ep->tenant_lock);
  return copy;
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

static int sink_outcome(int sink_result)
{
  switch (sink_result) {
  case OTLP_SINK_OK:
    return OTLP_OUTCOME_OK;
  case OTLP_SINK_SATURATED:
    return OTLP_OUTCOME_SATURATED;
  case OTLP_SINK_UNAVAILABLE:
    return OTLP_OUTCOME_UNAVAILABLE;
  default:
    return OTLP_OUTCOME_FAILED;
  }
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
  if (ep->sink.admit) {
    int rc = ep->sink.admit(ep->sink.ctx, signal, err);
    if (rc != OTLP_SINK_OK) {
      outcome = sink_outcome(rc);
      goto out;
    }
  }
  if (otlp_decode(a, NULL, signal, encoding, slice_of(tenant), body, len, batch, err) != 0) {
    outcome = OTLP_OUTCOME_BAD_REQUEST;
    goto out;
  }
  if (batch->accepted > 0) {
    outcome = sink_outcome(ep->sink.insert(ep->sink.ctx, signal, tenant, batch, err));
    if (outcome != OTLP_OUTCOME_OK && !err->message[0])
      error_set(err, ERR_LOGICAL_ERROR, "storing the batch failed");
  }
  if (ep->tenant_slots) {
    struct otlp_tenant_counters tc = tenant_counters(ep, tenant, signal);
    metric_add(tc.received, batch->accepted + batch->rejected);
    if (outcome == OTLP_OUTCOME_OK) {
      metric_add(tc.accepted, batch->accepted);
      metric_add(tc.refused, batch->rejected);
    } else {
      metric_add(tc.refused, batch->accepted + batch->rejected);
    }
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

/* google.rpc.Status (google/rpc/status.proto): code = 1 (int32), message =
 * 2 (string), details = 3 (repeated google.protobuf.Any: type_url = 1,
 * value = 2). google.rpc.RetryInfo: retry_delay = 1 (google.protobuf.Duration:
 * seconds = 1, nanos = 2). */
#define RETRY_INFO_TYPE_URL "type.googleapis.com/google.rpc.RetryInfo"

static void pb_varint(struct buf *out, uint64_t v)
{
  uint8_t tmp[10];
  size_t k = 0;
  while (v >= 0x80) {
    tmp[k++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  tmp[k++] = (uint8_t)v;
  buf_append(out, tmp, k);
}

/* A length-delimited field: tag, length, bytes. */
static void pb_bytes(struct buf *out, uint32_t field, const void *p, size_t n)
{
  pb_varint(out, (uint64_t)field << 3 | 2);
  pb_varint(out, n);
  buf_append(out, p, n);
}

static void status_encode_protobuf(int grpc_code, const char *message, uint32_t retry_delay_s, struct buf *out)
{
  if (grpc_code) {
    pb_varint(out, 1 << 3 | 0);
    pb_varint(out, (uint64_t)(int64_t)grpc_code);    /* int32: negative values sign-extend */
  }
  if (message[0])
    pb_bytes(out, 2, message, strlen(message));
  if (retry_delay_s) {
    struct buf dur, info, any;
    buf_init(&dur);
    buf_init(&info);
    buf_init(&any);
    pb_varint(&dur, 1 << 3 | 0);                     /* Duration.seconds */
    pb_varint(&dur, retry_delay_s);
    pb_bytes(&info, 1, dur.data, dur.len);           /* RetryInfo.retry_delay */
    pb_bytes(&any, 1, RETRY_INFO_TYPE_URL, sizeof RETRY_INFO_TYPE_URL - 1);   /* Any.type_url */
    pb_bytes(&any, 2, info.data, info.len);          /* Any.value */
    pb_bytes(out, 3, any.data, any.len);             /* Status.details */
    buf_free(&any);
    buf_free(&info);
    buf_free(&dur);
  }
}

void otlp_status_encode(enum otlp_encoding encoding, int grpc_code, const char *message, uint32_t retry_delay_s,
                        struct buf *out)
{
  if (encoding == OTLP_JSON) {
    buf_printf(out, "{\"code\":%d,\"message\":", grpc_code);
    text_json_string(out, message, strlen(message));
    if (retry_delay_s)                               /* proto3 JSON: Any gets "@type", Duration is "<s>s" */
      buf_printf(out, ",\"details\":[{\"@type\":\"" RETRY_INFO_TYPE_URL "\",\"retryDelay\":\"%us\"}]",
                 retry_delay_s);
    buf_append_char(out, '}');
    return;
  }
  status_encode_protobuf(grpc_code, message, retry_delay_s, out);
}

void otlp_status_details_bin(int grpc_code, const char *message, uint32_t retry_delay_s, struct buf *out)
{
  struct buf pb;
  buf_init(&pb);
  status_encode_protobuf(grpc_code, message, retry_delay_s, &pb);
  size_t start = out->len;
  text_base64(out, (const uint8_t *)pb.data, pb.len);
  while (out->len > start && out->data[out->len - 1] == '=')   /* gRPC -bin values go unpadded */
    out->len--;
  buf_free(&pb);
}
