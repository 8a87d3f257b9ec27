-- The OpenTelemetry Collector ClickHouse exporter's otel_traces DDL (OTEL_SCHEMA.md §2) is accepted verbatim.
DROP TABLE IF EXISTS otel_traces_00119;
CREATE TABLE IF NOT EXISTS default.otel_traces_00119  (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    ResourceAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(ResourceAttributes, 'Array(Tuple(String, String))')),
    SpanAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(SpanAttributes, 'Array(Tuple(String, String))')),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1,
    INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay(180)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;
SHOW CREATE TABLE otel_traces_00119 FORMAT TSVRaw;
INSERT INTO otel_traces_00119 (Timestamp, TraceId, SpanId, ServiceName, SpanName, SpanKind, Duration, StatusCode, ResourceAttributes, SpanAttributes, Events.Timestamp, Events.Name, Events.Attributes) VALUES ('2024-03-01 10:00:00.123456789', '0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 'frontend', 'GET /', 'Server', 1500000, 'Ok', {'service.name': 'frontend'}, {'http.method': 'GET', 'http.status_code': '200'}, ['2024-03-01 10:00:00.2'], ['cache miss'], [{'key': 'k1'}]);
INSERT INTO otel_traces_00119 (Timestamp, TraceId, ServiceName, SpanName, Duration, SpanAttributes) VALUES ('2024-03-02 11:00:00', 'ffff', 'backend', 'query', 2000, {'db.system': 'postgres'});
SELECT Timestamp, TraceId, ServiceName, SpanName, Duration, SpanAttributes['http.method'] FROM otel_traces_00119 ORDER BY Timestamp;
SELECT TraceId, SpanAttributeItems, ResourceAttributeItems FROM otel_traces_00119 ORDER BY TraceId;
SELECT Events.Name, Events.Attributes[1]['key'], length(Links.TraceId) FROM otel_traces_00119 WHERE TraceId = '0af7651916cd43dd8448eb211c80319c';
SELECT ServiceName, count() FROM otel_traces_00119 WHERE mapContains(SpanAttributes, 'db.system') GROUP BY ServiceName;
SELECT count() FROM otel_traces_00119 WHERE Timestamp >= '2024-03-02 00:00:00' AND ServiceName = 'backend';
SELECT partition FROM system.parts WHERE table = 'otel_traces_00119' AND active ORDER BY partition;
DROP TABLE otel_traces_00119;
