-- Trace by id
-- Grafana's form: the time range comes from the trace-id lookup table, so the
-- scan of otel_traces is bounded by time.
SELECT TimestampNs AS ts_ns, SpanId, ParentSpanId, ServiceName, SpanName, SpanKind, Duration,
       StatusCode, SpanAttributes.keys AS attr_keys, SpanAttributes.values AS attr_values, Events.Name AS event_names
FROM otel.otel_traces
WHERE TenantId = '@TENANT@' AND TraceId = '@TRACE_ID@'
  AND Timestamp >= (SELECT min(Start) FROM otel.otel_traces_trace_id_ts WHERE TenantId = '@TENANT@' AND TraceId = '@TRACE_ID@')
  AND Timestamp <= (SELECT max(End) + 1 FROM otel.otel_traces_trace_id_ts WHERE TenantId = '@TENANT@' AND TraceId = '@TRACE_ID@')
ORDER BY ts_ns, SpanId
