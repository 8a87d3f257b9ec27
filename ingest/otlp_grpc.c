/* OTLP/gRPC receiver (port 4317): the Export methods of TraceService,
 * LogsService and MetricsService on a grpc_server. The server has already
 * unframed and decompressed the message and enforces its size limit; here
 * the tenant is resolved from metadata, the protobuf decoded and the sink's
 * answer mapped onto a status:
 *   undecodable → INVALID_ARGUMENT, missing/unknown key → UNAUTHENTICATED,
 *   saturated or unavailable sink → UNAVAILABLE, other sink failure →
 *   INTERNAL.
 * Saturation is UNAVAILABLE because the OTLP specification says so ("To
 * signal backpressure when using gRPC transport, the server SHOULD return
 * an error with code Unavailable and MAY supply ... RetryInfo"), and every
 * OTLP client retries it; RESOURCE_EXHAUSTED is retried only when it
 * carries a RetryInfo detail. The UNAVAILABLE answer carries one too
 * (grpc-status-details-bin, otlp_status_details_bin), so clients wait
 * retry_after_s instead of their own backoff. */
#include "ingest/ingest_int.h"

#include "base/grpc_server.h"

static const char *const method_paths[3] = {
  "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
  "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
  "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
};

static void export_call(void *ctx, struct grpc_call *call, const void *msg, size_t len)
{
  struct otlp_grpc_method *m = ctx;
  struct otlp_endpoint *ep = m->ep;
  struct error err = { 0 };
  char tenant[OTLP_TENANT_BYTES_MAX + 1];
  int outcome = otlp_endpoint_tenant(ep, grpc_call_metadata(call, "x-scope-orgid"),
                                     grpc_call_metadata(call, "authorization"),
                                     grpc_call_metadata(call, "x-api-key"), tenant, &err);
  if (outcome != OTLP_OUTCOME_OK) {
    otlp_endpoint_count_failure(ep, OTLP_TRANSPORT_GRPC, m->signal, outcome);
    grpc_call_fail(call,
                   outcome == OTLP_OUTCOME_UNAUTHENTICATED ? GRPC_STATUS_UNAUTHENTICATED : GRPC_STATUS_INVALID_ARGUMENT,
                   "%s", err.message);
    return;
  }
  struct otlp_batch batch;
  outcome = otlp_endpoint_export(ep, OTLP_TRANSPORT_GRPC, m->signal, OTLP_PROTOBUF, tenant, msg ? msg : "", len,
                                 grpc_call_arena(call), &batch, &err);
  switch (outcome) {
  case OTLP_OUTCOME_OK: {
    struct buf out;
    buf_init(&out);
    otlp_response_encode(m->signal, OTLP_PROTOBUF, &batch, &out);
    grpc_call_reply(call, out.data ? out.data : "", out.len);
    buf_free(&out);
    break;
  }
  case OTLP_OUTCOME_BAD_REQUEST:
    grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", err.message);
    break;
  case OTLP_OUTCOME_SATURATED: {
    struct buf msg_text, details;
    buf_init(&msg_text);
    buf_init(&details);
    buf_printf(&msg_text, "server is saturated, retry later: %s", err.message);
    otlp_status_details_bin(GRPC_STATUS_UNAVAILABLE, buf_cstr(&msg_text), ep->retry_after_s, &details);
    grpc_call_fail_details(call, GRPC_STATUS_UNAVAILABLE, buf_cstr(&details), buf_cstr(&msg_text));
    buf_free(&msg_text);
    buf_free(&details);
    break;
  }
  case OTLP_OUTCOME_UNAVAILABLE:
    grpc_call_fail(call, GRPC_STATUS_UNAVAILABLE, "%s", err.message);
    break;
  default:
    grpc_call_fail(call, GRPC_STATUS_INTERNAL, "%s", err.message);
    break;
  }
}

int otlp_grpc_register(struct otlp_endpoint *ep, struct grpc_server *srv, struct error *err)
{
  for (int s = 0; s < 3; s++) {
    int rc = grpc_server_register(srv, method_paths[s], export_call, &ep->grpc_methods[s], err);
    if (rc)
      return rc;
  }
  return 0;
}
