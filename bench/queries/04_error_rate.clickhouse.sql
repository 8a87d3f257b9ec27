-- Error rate per service over one week
SELECT ServiceName, count() AS spans, countIf(StatusCode = 'Error') AS errors, round(errors / spans, 4) AS error_rate
FROM otel.otel_traces
WHERE TenantId = '@TENANT@' AND Timestamp >= '@WEEK@' AND Timestamp < '@WEEK_END@'
GROUP BY ServiceName
ORDER BY error_rate DESC, ServiceName
