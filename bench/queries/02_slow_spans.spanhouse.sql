-- Spans of one service in one hour slower than 20 ms
SELECT toUnixTimestamp64Nano(Timestamp) AS ts_ns, TraceId, SpanId, SpanName, Duration
FROM otel.otel_traces
WHERE TenantId = '@TENANT@' AND ServiceName = '@SERVICE@'
  AND Timestamp >= '@HOUR@' AND Timestamp < '@HOUR_END@' AND Duration > @SLOW_NS@
ORDER BY Duration DESC, ts_ns
LIMIT 100
