// Sends N spans, log records and metric data points to an OTLP endpoint with
// the real OpenTelemetry JS SDK exporters, and exits 0 only when every
// exporter reports success (1 otherwise, with the exporter's error).
//
//   node send.mjs --endpoint http://127.0.0.1:4318 --protocol http/protobuf \
//     [--signal traces|logs|metrics|all] [--count 10] [--resource service.name=checkout ...] \
//     [--header X-Scope-OrgID=acme ...] [--compression gzip|none] [--timeout-ms 10000] \
//     [--metric-kinds gauge,sum,histogram,exp_histogram|all]
//
// --protocol: http/json, http/protobuf or grpc (endpoint is then the gRPC
// address, e.g. http://127.0.0.1:4317). Headers go out as HTTP headers or
// gRPC metadata (through OTEL_EXPORTER_OTLP_HEADERS, as users configure them).
//
// What is sent (tests/http/14_otlp_ingest.sh checks the stored values):
//   traces: "send root" and "send span 1..N-1" (attributes test.index,
//     http.method; event "checkpoint" {step});
//   logs: "log record 0..N-1", INFO (9) for even and ERROR (17) for odd
//     records, in the span context LOG_TRACE_ID/LOG_SPAN_ID (sampled), with
//     attributes test.index, test.flag, test.ratio, test.list;
//   metrics, per --metric-kinds (default gauge; N points unless noted):
//     gauge      send.gauge = 1.5 * i {test.index: i}
//     sum        send.counter = i + 1 {test.index: i} (monotonic) and
//                send.updown = -2 (not monotonic): N + 1 points
//     histogram  send.histogram, bounds [1, 10, 100], values 0.5 5 5 50 500: 1 point
//     exp_histogram  send.exp_histogram, values 0 1 2 4 1024: 1 point
//   all cumulative. The JS SDK has no summary instrument and attaches no
//   exemplars, so neither is sent.
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader, AggregationTemporality, AggregationType } from '@opentelemetry/sdk-metrics';
import { context, trace, TraceFlags } from '@opentelemetry/api';

const LOG_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const LOG_SPAN_ID = '00f067aa0ba902b7';
const METRIC_KINDS = ['gauge', 'sum', 'histogram', 'exp_histogram'];

function usage(msg) {
  if (msg) console.error(`send.mjs: ${msg}`);
  console.error('usage: node send.mjs --endpoint URL --protocol http/json|http/protobuf|grpc [--signal traces|logs|metrics|all] ' +
    '[--count N] [--resource k=v]... [--header k=v]... [--compression gzip|none] [--timeout-ms MS] ' +
    '[--metric-kinds gauge,sum,histogram,exp_histogram|all]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { endpoint: '', protocol: 'http/protobuf', signal: 'all', count: 10, resource: {}, headers: {},
              compression: 'none', timeoutMillis: 10000, metricKinds: ['gauge'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    const kv = (s) => { const k = s.indexOf('='); if (k <= 0) usage(`want key=value, got '${s}'`); return [s.slice(0, k), s.slice(k + 1)]; };
    if (a === '--endpoint') o.endpoint = v().replace(/\/+$/, '');
    else if (a === '--protocol') o.protocol = v();
    else if (a === '--signal') o.signal = v();
    else if (a === '--count') o.count = Number.parseInt(v(), 10);
    else if (a === '--resource') { const [k, x] = kv(v()); o.resource[k] = x; }
    else if (a === '--header') { const [k, x] = kv(v()); o.headers[k] = x; }
    else if (a === '--compression') o.compression = v();
    else if (a === '--timeout-ms') o.timeoutMillis = Number.parseInt(v(), 10);
    else if (a === '--metric-kinds') { const x = v(); o.metricKinds = x === 'all' ? METRIC_KINDS : x.split(','); }
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument '${a}'`);
  }
  if (!o.endpoint) usage('--endpoint is required');
  if (!['http/json', 'http/protobuf', 'grpc'].includes(o.protocol)) usage(`unknown protocol '${o.protocol}'`);
  if (!['traces', 'logs', 'metrics', 'all'].includes(o.signal)) usage(`unknown signal '${o.signal}'`);
  if (!(o.count > 0)) usage('--count must be positive');
  if (!['gzip', 'none'].includes(o.compression)) usage(`unknown compression '${o.compression}'`);
  for (const k of o.metricKinds) if (!METRIC_KINDS.includes(k)) usage(`unknown metric kind '${k}'`);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
// The exporters read headers from here for every protocol (W3C baggage
// syntax: values percent-encoded).
process.env.OTEL_EXPORTER_OTLP_HEADERS = Object.entries(opts.headers)
  .map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(',');
const { protocol } = opts;

async function loadExporter(signal) {
  const pkg = {
    traces: { 'http/json': 'exporter-trace-otlp-http', 'http/protobuf': 'exporter-trace-otlp-proto', grpc: 'exporter-trace-otlp-grpc' },
    logs: { 'http/json': 'exporter-logs-otlp-http', 'http/protobuf': 'exporter-logs-otlp-proto', grpc: 'exporter-logs-otlp-grpc' },
    metrics: { 'http/json': 'exporter-metrics-otlp-http', 'http/protobuf': 'exporter-metrics-otlp-proto', grpc: 'exporter-metrics-otlp-grpc' },
  }[signal][protocol];
  const cls = { traces: 'OTLPTraceExporter', logs: 'OTLPLogExporter', metrics: 'OTLPMetricExporter' }[signal];
  const mod = await import(`@opentelemetry/${pkg}`);
  const config = {
    url: protocol === 'grpc' ? opts.endpoint : `${opts.endpoint}/v1/${signal}`,
    compression: opts.compression,
    timeoutMillis: opts.timeoutMillis,
  };
  if (signal === 'metrics') config.temporalityPreference = AggregationTemporality.CUMULATIVE;
  return new mod[cls](config);
}

function exportWith(exporter, items) {
  return new Promise((resolve) => {
    exporter.export(items, (result) => resolve(result));
  });
}

async function collectSpans(resource, n) {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('spanhouse-send', '1.0.0');
  const root = tracer.startSpan('send root', { attributes: { 'test.index': 0 } });
  root.end();
  for (let i = 1; i < n; i++) {
    const span = tracer.startSpan(`send span ${i}`, { attributes: { 'test.index': i, 'http.method': 'GET' } });
    span.addEvent('checkpoint', { step: i });
    span.end();
  }
  await provider.forceFlush();
  return memory.getFinishedSpans();
}

async function collectLogs(resource, n) {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger('spanhouse-send', '1.0.0');
  const spanContext = { traceId: LOG_TRACE_ID, spanId: LOG_SPAN_ID, traceFlags: TraceFlags.SAMPLED };
  const inSpan = trace.setSpanContext(context.active(), spanContext);
  for (let i = 0; i < n; i++) {
    const error = i % 2 === 1;
    logger.emit({
      severityNumber: error ? 17 : 9, severityText: error ? 'ERROR' : 'INFO', body: `log record ${i}`,
      attributes: { 'test.index': i, 'test.flag': error, 'test.ratio': 0.25, 'test.list': ['a', 'b'] },
      context: inSpan,
    });
  }
  await provider.forceFlush();
  return memory.getFinishedLogRecords();
}

// A reader that collects on demand, so the real exporter can be called directly.
class OnDemandReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

async function collectMetrics(resource, n) {
  const reader = new OnDemandReader();
  const views = [
    { instrumentName: 'send.histogram',
      aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [1, 10, 100] } } },
    { instrumentName: 'send.exp_histogram',
      aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } },
  ];
  const provider = new MeterProvider({ resource, readers: [reader], views });
  const meter = provider.getMeter('spanhouse-send', '1.0.0');
  const kinds = opts.metricKinds;
  if (kinds.includes('gauge')) {
    // n data points: one gauge series per index.
    const gauge = meter.createGauge('send.gauge');
    for (let i = 0; i < n; i++)
      gauge.record(i * 1.5, { 'test.index': i });
  }
  if (kinds.includes('sum')) {
    const counter = meter.createCounter('send.counter', { unit: '{call}', description: 'calls made' });
    for (let i = 0; i < n; i++)
      counter.add(i + 1, { 'test.index': i });
    meter.createUpDownCounter('send.updown').add(-2);
  }
  if (kinds.includes('histogram')) {
    const histogram = meter.createHistogram('send.histogram', { unit: 'ms' });
    for (const x of [0.5, 5, 5, 50, 500])
      histogram.record(x, { kind: 'explicit' });
  }
  if (kinds.includes('exp_histogram')) {
    const histogram = meter.createHistogram('send.exp_histogram', { unit: 'ms' });
    for (const x of [0, 1, 2, 4, 1024])
      histogram.record(x, { kind: 'exponential' });
  }
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw new Error(`collect: ${errors.join('; ')}`);
  return resourceMetrics;
}

async function send(signal) {
  const resource = resourceFromAttributes(opts.resource);
  const items = signal === 'traces' ? await collectSpans(resource, opts.count)
    : signal === 'logs' ? await collectLogs(resource, opts.count)
      : await collectMetrics(resource, opts.count);
  const exporter = await loadExporter(signal);
  const result = await exportWith(exporter, items);
  await exporter.shutdown();
  if (result.code !== 0) {
    console.error(`${signal} via ${protocol}: FAILED: ${result.error ? result.error.message || result.error : 'unknown error'}`);
    return false;
  }
  console.log(`${signal} via ${protocol}: sent ${opts.count}`);
  return true;
}

const signals = opts.signal === 'all' ? ['traces', 'logs', 'metrics'] : [opts.signal];
let ok = true;
for (const s of signals) {
  try {
    ok = (await send(s)) && ok;
  } catch (e) {
    console.error(`${s} via ${protocol}: ${e && e.stack ? e.stack : e}`);
    ok = false;
  }
}
process.exit(ok ? 0 : 1);
