-- hand-written: the service-dependency query shape: subqueries joined USING, then WHERE, GROUP BY, ORDER BY (ClickHouse JOIN clause docs)
DROP TABLE IF EXISTS j134_spans;
CREATE TABLE j134_spans (TenantId LowCardinality(String), TraceId String, SpanId String, ParentSpanId String, ServiceName LowCardinality(String)) ENGINE = MergeTree ORDER BY (TenantId, TraceId);
INSERT INTO j134_spans VALUES ('x', 't1', 's1', '', 'gw'), ('x', 't1', 's2', 's1', 'api'), ('x', 't1', 's3', 's2', 'db'), ('x', 't1', 's4', 's2', 'api'), ('x', 't2', 's1', '', 'gw'), ('x', 't2', 's2', 's1', 'api'), ('x', 't2', 's5', 's1', 'auth'), ('x', 't3', 's9', 'zz', 'api'), ('y', 't1', 's7', 's1', 'gw');
SELECT parent, child, count() AS calls
FROM (SELECT TraceId, SpanId AS PSpanId, ServiceName AS parent FROM j134_spans WHERE TenantId = 'x')
INNER JOIN
     (SELECT TraceId, ParentSpanId AS PSpanId, ServiceName AS child FROM j134_spans WHERE TenantId = 'x' AND ParentSpanId != '')
USING (TraceId, PSpanId)
WHERE parent != child
GROUP BY parent, child ORDER BY calls DESC, parent, child;
SELECT p.ServiceName AS parent, count() AS children FROM j134_spans AS p JOIN j134_spans AS c ON p.TraceId = c.TraceId AND p.SpanId = c.ParentSpanId AND p.TenantId = c.TenantId GROUP BY parent ORDER BY children DESC, parent;
SELECT c.SpanId, p.ServiceName FROM j134_spans AS c LEFT JOIN j134_spans AS p ON p.TraceId = c.TraceId AND p.SpanId = c.ParentSpanId AND p.TenantId = c.TenantId WHERE c.TenantId = 'x' ORDER BY c.TraceId, c.SpanId;
DROP TABLE j134_spans;
