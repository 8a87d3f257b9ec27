-- Service dependency edges over one week (parent/child join)
SELECT parent, child, count() AS calls
FROM (SELECT TraceId, SpanId AS PSpanId, ServiceName AS parent FROM otel.otel_traces
      WHERE TenantId = '@TENANT@' AND Timestamp >= '@WEEK@' AND Timestamp < '@WEEK_END@')
INNER JOIN
     (SELECT TraceId, ParentSpanId AS PSpanId, ServiceName AS child FROM otel.otel_traces
      WHERE TenantId = '@TENANT@' AND Timestamp >= '@WEEK@' AND Timestamp < '@WEEK_END@' AND ParentSpanId != '')
USING (TraceId, PSpanId)
WHERE parent != child
GROUP BY parent, child
ORDER BY calls DESC, parent, child
