/* The built-in `otel` database: the DDL the engine runs at first start and
 * the column layouts the OTLP decoder fills. The DDL follows the
 * OpenTelemetry Collector's ClickHouse exporter (newest spellings), plus
 * spanhouse's TenantId leading the partition and order keys. The column
 * tables below must list exactly the DDL's columns in order, with Nested
 * flattened; tests/unit/ingest/test_otel_schema.c parses the DDL to check. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/datatype.h"
#include "ingest/ingest_int.h"

#define ATTRS "Map(LowCardinality(String), String)"
#define LC "LowCardinality(String)"

static const char traces_ddl[] =
    "CREATE TABLE IF NOT EXISTS otel.otel_traces (\n"
    "    TenantId LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),\n"
    "    TraceId String CODEC(ZSTD(1)),\n"
    "    SpanId String CODEC(ZSTD(1)),\n"
    "    ParentSpanId String CODEC(ZSTD(1)),\n"
    "    TraceState String CODEC(ZSTD(1)),\n"
    "    SpanName LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    SpanKind LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    ServiceName LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),\n"
    "    ScopeName String CODEC(ZSTD(1)),\n"
    "    ScopeVersion String CODEC(ZSTD(1)),\n"
    "    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),\n"
    "    Duration UInt64 CODEC(T64, ZSTD(1)),\n"
    "    StatusCode LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    StatusMessage String CODEC(ZSTD(1)),\n"
    "    Events Nested (\n"
    "        Timestamp DateTime64(9),\n"
    "        Name LowCardinality(String),\n"
    "        Attributes Map(LowCardinality(String), String)\n"
    "    ) CODEC(ZSTD(1)),\n"
    "    Links Nested (\n"
    "        TraceId String,\n"
    "        SpanId String,\n"
    "        TraceState String,\n"
    "        Attributes Map(LowCardinality(String), String)\n"
    "    ) CODEC(ZSTD(1)),\n"
    "    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,\n"
    "    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_duration Duration TYPE minmax GRANULARITY 1,\n"
    "    INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8\n"
    ") ENGINE = MergeTree\n"
    "PARTITION BY (TenantId, toYYYYMM(Timestamp))\n"
    "PRIMARY KEY (TenantId, ServiceName, SpanName, toDateTime(Timestamp))\n"
    "ORDER BY (TenantId, ServiceName, SpanName, toDateTime(Timestamp), Timestamp)\n"
    "SETTINGS index_granularity = 8192\n";

/* Kept by the view below (one row per trace and insert, so readers use
 * min(Start)/max(End)); End is the last span *start*, as the exporter's view
 * computes it. */
static const char trace_id_ts_ddl[] =
    "CREATE TABLE IF NOT EXISTS otel.otel_traces_trace_id_ts (\n"
    "    TenantId LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    TraceId String CODEC(ZSTD(1)),\n"
    "    Start DateTime CODEC(Delta, ZSTD(1)),\n"
    "    End DateTime CODEC(Delta, ZSTD(1)),\n"
    "    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1\n"
    ") ENGINE = MergeTree\n"
    "PARTITION BY (TenantId, toYYYYMM(Start))\n"
    "ORDER BY (TenantId, TraceId, Start)\n"
    "SETTINGS index_granularity = 8192\n";

/* The exporter's view with TenantId: every insert into otel_traces (an OTLP
 * export or SQL) adds its traces' first/last span start, in the same
 * write-ahead-log record as the spans for OTLP. */
static const char trace_id_view_ddl[] =
    "CREATE MATERIALIZED VIEW IF NOT EXISTS otel.otel_traces_trace_id_ts_mv\n"
    "TO otel.otel_traces_trace_id_ts\n"
    "AS SELECT TenantId, TraceId, min(Timestamp) AS Start, max(Timestamp) AS End\n"
    "FROM otel.otel_traces\n"
    "WHERE TraceId != ''\n"
    "GROUP BY TenantId, TraceId\n";

/* The exporter's schema since v0.151 (no TimestampTime column). */
static const char logs_ddl[] =
    "CREATE TABLE IF NOT EXISTS otel.otel_logs (\n"
    "    TenantId LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),\n"
    "    TraceId String CODEC(ZSTD(1)),\n"
    "    SpanId String CODEC(ZSTD(1)),\n"
    "    TraceFlags UInt8,\n"
    "    SeverityText LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    SeverityNumber UInt8,\n"
    "    ServiceName LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    Body String CODEC(ZSTD(1)),\n"
    "    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),\n"
    "    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    ScopeName String CODEC(ZSTD(1)),\n"
    "    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),\n"
    "    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),\n"
    "    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),\n"
    "    EventName String CODEC(ZSTD(1)),\n"
    "    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,\n"
    "    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"
    "    INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8\n"
    ") ENGINE = MergeTree\n"
    "PARTITION BY (TenantId, toYYYYMM(Timestamp))\n"
    "ORDER BY (TenantId, toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)\n"
    "SETTINGS index_granularity = 8192\n";

#define METRICS_HEAD(name)                                                            \
  "CREATE TABLE IF NOT EXISTS otel." name " (\n"                                      \
  "    TenantId LowCardinality(String) CODEC(ZSTD(1)),\n"                             \
  "    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),\n"      \
  "    ResourceSchemaUrl String CODEC(ZSTD(1)),\n"                                    \
  "    ScopeName String CODEC(ZSTD(1)),\n"                                            \
  "    ScopeVersion String CODEC(ZSTD(1)),\n"                                         \
  "    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),\n"         \
  "    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),\n"                                \
  "    ScopeSchemaUrl String CODEC(ZSTD(1)),\n"                                       \
  "    ServiceName LowCardinality(String) CODEC(ZSTD(1)),\n"                          \
  "    MetricName String CODEC(ZSTD(1)),\n"                                           \
  "    MetricDescription String CODEC(ZSTD(1)),\n"                                    \
  "    MetricUnit String CODEC(ZSTD(1)),\n"                                           \
  "    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),\n"              \
  "    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),\n"                          \
  "    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),\n"

#define METRICS_EXEMPLARS                                                             \
  "    Exemplars Nested (\n"                                                          \
  "        FilteredAttributes Map(LowCardinality(String), String),\n"                 \
  "        TimeUnix DateTime64(9),\n"                                                 \
  "        Value Float64,\n"                                                          \
  "        SpanId String,\n"                                                          \
  "        TraceId String\n"                                                          \
  "    ) CODEC(ZSTD(1)),\n"

#define METRICS_TAIL                                                                                    \
  "    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"     \
  "    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n" \
  "    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"      \
  "    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"  \
  "    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,\n"                 \
  "    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1\n"              \
  ") ENGINE = MergeTree\n"                                                                              \
  "PARTITION BY (TenantId, toYYYYMM(TimeUnix))\n"                                                       \
  "ORDER BY (TenantId, ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))\n"         \
  "SETTINGS index_granularity = 8192\n"

static const char gauge_ddl[] =
    METRICS_HEAD("otel_metrics_gauge")
    "    Value Float64 CODEC(ZSTD(1)),\n"
    "    Flags UInt32 CODEC(ZSTD(1)),\n"
    METRICS_EXEMPLARS
    METRICS_TAIL;

static const char sum_ddl[] =
    METRICS_HEAD("otel_metrics_sum")
    "    Value Float64 CODEC(ZSTD(1)),\n"
    "    Flags UInt32 CODEC(ZSTD(1)),\n"
    METRICS_EXEMPLARS
    "    AggregationTemporality Int32 CODEC(ZSTD(1)),\n"
    "    IsMonotonic Bool CODEC(Delta, ZSTD(1)),\n"
    METRICS_TAIL;

static const char histogram_ddl[] =
    METRICS_HEAD("otel_metrics_histogram")
    "    Count UInt64 CODEC(Delta, ZSTD(1)),\n"
    "    Sum Float64 CODEC(ZSTD(1)),\n"
    "    BucketCounts Array(UInt64) CODEC(ZSTD(1)),\n"
    "    ExplicitBounds Array(Float64) CODEC(ZSTD(1)),\n"
    METRICS_EXEMPLARS
    "    Flags UInt32 CODEC(ZSTD(1)),\n"
    "    Min Float64 CODEC(ZSTD(1)),\n"
    "    Max Float64 CODEC(ZSTD(1)),\n"
    "    AggregationTemporality Int32 CODEC(ZSTD(1)),\n"
    METRICS_TAIL;

static const char exp_histogram_ddl[] =
    METRICS_HEAD("otel_metrics_exp_histogram")
    "    Count UInt64 CODEC(Delta, ZSTD(1)),\n"
    "    Sum Float64 CODEC(ZSTD(1)),\n"
    "    Scale Int32 CODEC(ZSTD(1)),\n"
    "    ZeroCount UInt64 CODEC(ZSTD(1)),\n"
    "    PositiveOffset Int32 CODEC(ZSTD(1)),\n"
    "    PositiveBucketCounts Array(UInt64) CODEC(ZSTD(1)),\n"
    "    NegativeOffset Int32 CODEC(ZSTD(1)),\n"
    "    NegativeBucketCounts Array(UInt64) CODEC(ZSTD(1)),\n"
    METRICS_EXEMPLARS
    "    Flags UInt32 CODEC(ZSTD(1)),\n"
    "    Min Float64 CODEC(ZSTD(1)),\n"
    "    Max Float64 CODEC(ZSTD(1)),\n"
    "    AggregationTemporality Int32 CODEC(ZSTD(1)),\n"
    METRICS_TAIL;

static const char summary_ddl[] =
    METRICS_HEAD("otel_metrics_summary")
    "    Count UInt64 CODEC(Delta, ZSTD(1)),\n"
    "    Sum Float64 CODEC(ZSTD(1)),\n"
    "    ValueAtQuantiles Nested (\n"
    "        Quantile Float64,\n"
    "        Value Float64\n"
    "    ) CODEC(ZSTD(1)),\n"
    "    Flags UInt32 CODEC(ZSTD(1)),\n"
    METRICS_TAIL;

/* ---- column layouts, indexed by the enums in ingest_int.h ---- */

static const struct otel_column_def traces_columns[TR_COLUMN_COUNT] = {
  [TR_TENANT_ID] = { "TenantId", LC },
  [TR_TIMESTAMP] = { "Timestamp", "DateTime64(9)" },
  [TR_TRACE_ID] = { "TraceId", "String" },
  [TR_SPAN_ID] = { "SpanId", "String" },
  [TR_PARENT_SPAN_ID] = { "ParentSpanId", "String" },
  [TR_TRACE_STATE] = { "TraceState", "String" },
  [TR_SPAN_NAME] = { "SpanName", LC },
  [TR_SPAN_KIND] = { "SpanKind", LC },
  [TR_SERVICE_NAME] = { "ServiceName", LC },
  [TR_RESOURCE_ATTRIBUTES] = { "ResourceAttributes", ATTRS },
  [TR_SCOPE_NAME] = { "ScopeName", "String" },
  [TR_SCOPE_VERSION] = { "ScopeVersion", "String" },
  [TR_SPAN_ATTRIBUTES] = { "SpanAttributes", ATTRS },
  [TR_DURATION] = { "Duration", "UInt64" },
  [TR_STATUS_CODE] = { "StatusCode", LC },
  [TR_STATUS_MESSAGE] = { "StatusMessage", "String" },
  [TR_EVENTS_TIMESTAMP] = { "Events.Timestamp", "Array(DateTime64(9))" },
  [TR_EVENTS_NAME] = { "Events.Name", "Array(" LC ")" },
  [TR_EVENTS_ATTRIBUTES] = { "Events.Attributes", "Array(" ATTRS ")" },
  [TR_LINKS_TRACE_ID] = { "Links.TraceId", "Array(String)" },
  [TR_LINKS_SPAN_ID] = { "Links.SpanId", "Array(String)" },
  [TR_LINKS_TRACE_STATE] = { "Links.TraceState", "Array(String)" },
  [TR_LINKS_ATTRIBUTES] = { "Links.Attributes", "Array(" ATTRS ")" },
};

static const struct otel_column_def trace_id_ts_columns[TI_COLUMN_COUNT] = {
  [TI_TENANT_ID] = { "TenantId", LC },
  [TI_TRACE_ID] = { "TraceId", "String" },
  [TI_START] = { "Start", "DateTime" },
  [TI_END] = { "End", "DateTime" },
};

static const struct otel_column_def logs_columns[LG_COLUMN_COUNT] = {
  [LG_TENANT_ID] = { "TenantId", LC },
  [LG_TIMESTAMP] = { "Timestamp", "DateTime64(9)" },
  [LG_TRACE_ID] = { "TraceId", "String" },
  [LG_SPAN_ID] = { "SpanId", "String" },
  [LG_TRACE_FLAGS] = { "TraceFlags", "UInt8" },
  [LG_SEVERITY_TEXT] = { "SeverityText", LC },
  [LG_SEVERITY_NUMBER] = { "SeverityNumber", "UInt8" },
  [LG_SERVICE_NAME] = { "ServiceName", LC },
  [LG_BODY] = { "Body", "String" },
  [LG_RESOURCE_SCHEMA_URL] = { "ResourceSchemaUrl", LC },
  [LG_RESOURCE_ATTRIBUTES] = { "ResourceAttributes", ATTRS },
  [LG_SCOPE_SCHEMA_URL] = { "ScopeSchemaUrl", LC },
  [LG_SCOPE_NAME] = { "ScopeName", "String" },
  [LG_SCOPE_VERSION] = { "ScopeVersion", LC },
  [LG_SCOPE_ATTRIBUTES] = { "ScopeAttributes", ATTRS },
  [LG_LOG_ATTRIBUTES] = { "LogAttributes", ATTRS },
  [LG_EVENT_NAME] = { "EventName", "String" },
};

#define METRICS_COMMON_COLUMNS                                      \
  [MT_TENANT_ID] = { "TenantId", LC },                              \
  [MT_RESOURCE_ATTRIBUTES] = { "ResourceAttributes", ATTRS },       \
  [MT_RESOURCE_SCHEMA_URL] = { "ResourceSchemaUrl", "String" },     \
  [MT_SCOPE_NAME] = { "ScopeName", "String" },                      \
  [MT_SCOPE_VERSION] = { "ScopeVersion", "String" },                \
  [MT_SCOPE_ATTRIBUTES] = { "ScopeAttributes", ATTRS },             \
  [MT_SCOPE_DROPPED_ATTR_COUNT] = { "ScopeDroppedAttrCount", "UInt32" }, \
  [MT_SCOPE_SCHEMA_URL] = { "ScopeSchemaUrl", "String" },           \
  [MT_SERVICE_NAME] = { "ServiceName", LC },                        \
  [MT_METRIC_NAME] = { "MetricName", "String" },                    \
  [MT_METRIC_DESCRIPTION] = { "MetricDescription", "String" },      \
  [MT_METRIC_UNIT] = { "MetricUnit", "String" },                    \
  [MT_ATTRIBUTES] = { "Attributes", ATTRS },                        \
  [MT_START_TIME_UNIX] = { "StartTimeUnix", "DateTime64(9)" },      \
  [MT_TIME_UNIX] = { "TimeUnix", "DateTime64(9)" }

#define EXEMPLAR_COLUMNS(at)                                                          \
  [(at) + EX_FILTERED_ATTRIBUTES] = { "Exemplars.FilteredAttributes", "Array(" ATTRS ")" }, \
  [(at) + EX_TIME_UNIX] = { "Exemplars.TimeUnix", "Array(DateTime64(9))" },           \
  [(at) + EX_VALUE] = { "Exemplars.Value", "Array(Float64)" },                        \
  [(at) + EX_SPAN_ID] = { "Exemplars.SpanId", "Array(String)" },                      \
  [(at) + EX_TRACE_ID] = { "Exemplars.TraceId", "Array(String)" }

static const struct otel_column_def gauge_columns[GA_COLUMN_COUNT] = {
  METRICS_COMMON_COLUMNS,
  [GA_VALUE] = { "Value", "Float64" },
  [GA_FLAGS] = { "Flags", "UInt32" },
  EXEMPLAR_COLUMNS(GA_EXEMPLARS),
};

static const struct otel_column_def sum_columns[SU_COLUMN_COUNT] = {
  METRICS_COMMON_COLUMNS,
  [SU_VALUE] = { "Value", "Float64" },
  [SU_FLAGS] = { "Flags", "UInt32" },
  EXEMPLAR_COLUMNS(SU_EXEMPLARS),
  [SU_AGGREGATION_TEMPORALITY] = { "AggregationTemporality", "Int32" },
  [SU_IS_MONOTONIC] = { "IsMonotonic", "Bool" },
};

static const struct otel_column_def histogram_columns[HI_COLUMN_COUNT] = {
  METRICS_COMMON_COLUMNS,
  [HI_COUNT] = { "Count", "UInt64" },
  [HI_SUM] = { "Sum", "Float64" },
  [HI_BUCKET_COUNTS] = { "BucketCounts", "Array(UInt64)" },
  [HI_EXPLICIT_BOUNDS] = { "ExplicitBounds", "Array(Float64)" },
  EXEMPLAR_COLUMNS(HI_EXEMPLARS),
  [HI_FLAGS] = { "Flags", "UInt32" },
  [HI_MIN] = { "Min", "Float64" },
  [HI_MAX] = { "Max", "Float64" },
  [HI_AGGREGATION_TEMPORALITY] = { "AggregationTemporality", "Int32" },
};

static const struct otel_column_def exp_histogram_columns[EH_COLUMN_COUNT] = {
  METRICS_COMMON_COLUMNS,
  [EH_COUNT] = { "Count", "UInt64" },
  [EH_SUM] = { "Sum", "Float64" },
  [EH_SCALE] = { "Scale", "Int32" },
  [EH_ZERO_COUNT] = { "ZeroCount", "UInt64" },
  [EH_POSITIVE_OFFSET] = { "PositiveOffset", "Int32" },
  [EH_POSITIVE_BUCKET_COUNTS] = { "PositiveBucketCounts", "Array(UInt64)" },
  [EH_NEGATIVE_OFFSET] = { "NegativeOffset", "Int32" },
  [EH_NEGATIVE_BUCKET_COUNTS] = { "NegativeBucketCounts", "Array(UInt64)" },
  EXEMPLAR_COLUMNS(EH_EXEMPLARS),
  [EH_FLAGS] = { "Flags", "UInt32" },
  [EH_MIN] = { "Min", "Float64" },
  [EH_MAX] = { "Max", "Float64" },
  [EH_AGGREGATION_TEMPORALITY] = { "AggregationTemporality", "Int32" },
};

static const struct otel_column_def summary_columns[SM_COLUMN_COUNT] = {
  METRICS_COMMON_COLUMNS,
  [SM_COUNT] = { "Count", "UInt64" },
  [SM_SUM] = { "Sum", "Float64" },
  [SM_QUANTILES_QUANTILE] = { "ValueAtQuantiles.Quantile", "Array(Float64)" },
  [SM_QUANTILES_VALUE] = { "ValueAtQuantiles.Value", "Array(Float64)" },
  [SM_FLAGS] = { "Flags", "UInt32" },
};

struct table_def {
  const char *name;
  const char *ddl;
  const struct otel_column_def *columns;
  uint32_t column_count;
};

static const struct table_def tables[OTEL_TABLE_COUNT] = {
  [OTEL_TRACES] = { "otel_traces", traces_ddl, traces_columns, TR_COLUMN_COUNT },
  [OTEL_TRACES_TRACE_ID_TS] = { "otel_traces_trace_id_ts", trace_id_ts_ddl, trace_id_ts_columns, TI_COLUMN_COUNT },
  [OTEL_LOGS] = { "otel_logs", logs_ddl, logs_columns, LG_COLUMN_COUNT },
  [OTEL_METRICS_GAUGE] = { "otel_metrics_gauge", gauge_ddl, gauge_columns, GA_COLUMN_COUNT },
  [OTEL_METRICS_SUM] = { "otel_metrics_sum", sum_ddl, sum_columns, SU_COLUMN_COUNT },
  [OTEL_METRICS_HISTOGRAM] = { "otel_metrics_histogram", histogram_ddl, histogram_columns, HI_COLUMN_COUNT },
  [OTEL_METRICS_EXP_HISTOGRAM] = { "otel_metrics_exp_histogram", exp_histogram_ddl, exp_histogram_columns,
                                   EH_COLUMN_COUNT },
  [OTEL_METRICS_SUMMARY] = { "otel_metrics_summary", summary_ddl, summary_columns, SM_COLUMN_COUNT },
};

const char *otel_database_name(void) { return "otel"; }
const char *otel_database_ddl(void) { return "CREATE DATABASE IF NOT EXISTS otel"; }
const char *otel_table_name(enum otel_table t) { return tables[t].name; }
const char *otel_table_ddl(enum otel_table t) { return tables[t].ddl; }
const char *otel_trace_id_view_ddl(void) { return trace_id_view_ddl; }
uint32_t otel_table_column_count(enum otel_table t) { return tables[t].column_count; }
const struct otel_column_def *otel_table_columns(enum otel_table t) { return tables[t].columns; }

/* ---- parsed types, built once ---- */

static pthread_once_t types_once = PTHREAD_ONCE_INIT;
static struct arena types_arena;
static const struct datatype **types[OTEL_TABLE_COUNT];

static void types_init(void)
{
  arena_init(&types_arena, 0);
  for (int t = 0; t < OTEL_TABLE_COUNT; t++) {
    types[t] = arena_new_array(&types_arena, const struct datatype *, tables[t].column_count);
    for (uint32_t i = 0; i < tables[t].column_count; i++) {
      const char *text = tables[t].columns[i].type;
      struct error err;
      if (datatype_parse(&types_arena, text, strlen(text), &types[t][i], &err) != 0)
        abort();                                /* programmer error: a bad type in the tables above */
    }
  }
}

const struct datatype *otel_column_type(enum otel_table t, uint32_t i)
{
  pthread_once(&types_once, types_init);
  return types[t][i];
}

struct block *otel_block_create(struct arena *a, enum otel_table t, uint32_t rows_hint)
{
  pthread_once(&types_once, types_init);
  const struct table_def *td = &tables[t];
  struct block *b = block_create(a, td->column_count);
  for (uint32_t i = 0; i < td->column_count; i++) {
    b->columns[i] = column_create(a, types[t][i], rows_hint);
    b->names[i] = td->columns[i].name;
  }
  return b;
}
