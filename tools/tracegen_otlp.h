/* tracegen_otlp: OTLP ExportTraceServiceRequest encoding of generated spans,
 * as protobuf or OTLP/JSON. Spans are gathered per tenant, grouped by
 * resource (service and pod) and instrumentation scope the way an SDK
 * batches them, and taken out as one request per tenant. Used by spangen's
 * OTLP formats and by `spanhouse loadgen`; libc only. */
#ifndef SPANHOUSE_TOOLS_TRACEGEN_OTLP_H
#define SPANHOUSE_TOOLS_TRACEGEN_OTLP_H

#include "tools/tracegen.h"

enum tracegen_otlp_encoding { TRACEGEN_OTLP_PROTOBUF, TRACEGEN_OTLP_JSON };

struct tracegen_otlp;

/* A batcher; batch_spans is how many spans of one tenant make a full request. */
struct tracegen_otlp *tracegen_otlp_create(enum tracegen_otlp_encoding encoding, uint32_t batch_spans);
void tracegen_otlp_destroy(struct tracegen_otlp *b);

/* Encodes sp into its tenant's pending request; true when that tenant now
 * holds batch_spans spans and the request should be taken. */
bool tracegen_otlp_add(struct tracegen_otlp *b, const struct span *sp);
/* Replaces req's contents with the tenant's pending spans as one request
 * (JSON ends with a newline) and empties the tenant; returns the number of
 * spans in it, 0 (req untouched) if none were pending. */
uint32_t tracegen_otlp_take(struct tracegen_otlp *b, struct tracegen *g, int tenant, struct bytes *req);

#endif
