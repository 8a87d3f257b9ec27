-- Span attribute filter: one end user's spans over one week
SELECT TimestampNs AS ts_ns, TraceId, SpanId, ServiceName, SpanName
FROM otel.otel_traces
WHERE TenantId = '@TENANT@' AND Timestamp >= '@WEEK@' AND Timestamp < '@WEEK_END@'
  AND SpanAttributes.values[indexOf(SpanAttributes.keys, 'enduser.id')] = '@USER@'
ORDER BY ts_ns, SpanId
LIMIT 1000
