-- Top 10 slowest operations (p99) of one tenant, all data
SELECT ServiceName, SpanName, count() AS spans, quantile(0.99)(Duration) AS p99_ns
FROM otel.otel_traces
WHERE TenantId = '@TENANT@'
GROUP BY ServiceName, SpanName
ORDER BY p99_ns DESC, ServiceName, SpanName
LIMIT 10
