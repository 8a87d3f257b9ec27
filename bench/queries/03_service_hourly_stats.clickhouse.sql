-- Per service and hour over one day: count, avg and p99 duration
SELECT ServiceName, toStartOfHour(Timestamp) AS hour, count() AS spans, round(avg(Duration)) AS avg_ns,
       quantile(0.99)(Duration) AS p99_ns
FROM otel.otel_traces
WHERE TenantId = '@TENANT@' AND Timestamp >= '@DAY@' AND Timestamp < '@DAY_END@'
GROUP BY ServiceName, hour
ORDER BY ServiceName, hour
