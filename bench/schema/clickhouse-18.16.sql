-- The otel schema as close as ClickHouse 18.16 (Debian 12's clickhouse-server)
-- allows. Differences from spanhouse's (bench/schema/spanhouse.sql):
--   * Map(K, V) does not exist: each map is a Nested(keys, values) pair, so the
--     two arrays share one offsets stream, as a Map's keys and values do.
--   * DateTime64(9) does not exist: Timestamp is DateTime (seconds) and
--     TimestampNs is the full UInt64 Unix time in nanoseconds; event times are
--     UInt64 nanoseconds.
--   * No column CODECs and no skip indexes (bloom_filter, tokenbf_v1, minmax):
--     every column uses the server-wide zstd compression (level 1) that
--     bench/run.sh puts into the private server's config.
--   * LowCardinality needs allow_experimental_low_cardinality_type = 1, which
--     bench/run.sh sends with every statement.
-- Same partitioning and order key as spanhouse. The trace-id lookup table is
-- kept at insert time by a materialized view, as the exporter's schema does.
-- Statements end with a ';' at the end of a line.
CREATE DATABASE IF NOT EXISTS otel;
CREATE TABLE IF NOT EXISTS otel.otel_traces (
    TenantId LowCardinality(String),
    Timestamp DateTime,
    TimestampNs UInt64,
    TraceId String,
    SpanId String,
    ParentSpanId String,
    TraceState String,
    SpanName LowCardinality(String),
    SpanKind LowCardinality(String),
    ServiceName LowCardinality(String),
    ResourceAttributes Nested(keys LowCardinality(String), values String),
    ScopeName String,
    ScopeVersion String,
    SpanAttributes Nested(keys LowCardinality(String), values String),
    Duration UInt64,
    StatusCode LowCardinality(String),
    StatusMessage String,
    Events Nested(
        Timestamp UInt64,
        Name LowCardinality(String),
        AttributesKeys Array(String),
        AttributesValues Array(String)
    ),
    Links Nested(
        TraceId String,
        SpanId String,
        TraceState String,
        AttributesKeys Array(String),
        AttributesValues Array(String)
    )
) ENGINE = MergeTree
PARTITION BY (TenantId, toYYYYMM(Timestamp))
PRIMARY KEY (TenantId, ServiceName, SpanName, Timestamp)
ORDER BY (TenantId, ServiceName, SpanName, Timestamp, TimestampNs)
SETTINGS index_granularity = 8192;
CREATE TABLE IF NOT EXISTS otel.otel_traces_trace_id_ts (
    TenantId LowCardinality(String),
    TraceId String,
    Start DateTime,
    End DateTime
) ENGINE = MergeTree
PARTITION BY (TenantId, toYYYYMM(Start))
ORDER BY (TenantId, TraceId, Start)
SETTINGS index_granularity = 8192;
CREATE MATERIALIZED VIEW IF NOT EXISTS otel.otel_traces_trace_id_ts_mv TO otel.otel_traces_trace_id_ts AS
SELECT TenantId, TraceId, min(Timestamp) AS Start, max(Timestamp) AS End
FROM otel.otel_traces
WHERE TraceId != ''
GROUP BY TenantId, TraceId;
