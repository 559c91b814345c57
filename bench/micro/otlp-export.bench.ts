// Cost of OTLP export per request, one piece at a time: the two spans (recorded and encoded), the request's
// log record (built from the line's fields and encoded), and queueing. The collector is never reached: the
// queue's delay outlasts the run. Run: node bench/micro/otlp-export.bench.ts — nanoseconds per call.
import { RequestContext, type ReplyPort } from '../../src/core/context.ts';
import { recordOf } from '../../src/telemetry/log-export.ts';
import { encodeLogRecord, encodeSpan, type LogRecordData, type SpanRecord } from '../../src/telemetry/otlp/encode.ts';
import { createExporter } from '../../src/telemetry/otlp/exporter.ts';
import { createTracing } from '../../src/telemetry/trace.ts';

const reply: ReplyPort = { json() {}, startStream() {}, write() {}, end() {}, fail() {}, started: false };
const origin = new URL('http://127.0.0.1:18081/v1');

function context(): RequestContext {
  const ctx = new RequestContext({
    requestId: '3f1c2d9e-5b7a-4c1e-9f0a-123456789abc', startedAt: performance.now() - 0.4, route: '/v1/chat/completions',
    method: 'POST', dialect: 'openai', operation: 'chat', reply, headers: {},
  });
  ctx.target = { name: 'bench-model', upstreamModel: 'bench-model', providerId: 'bench', type: 'chat' };
  ctx.requestedModel = 'bench-model';
  ctx.upstreamStartedAt = 0.1;
  ctx.upstreamStatus = 200;
  ctx.usage = { inputTokens: 212, outputTokens: 48, cachedInputTokens: 0 };
  ctx.finishReason = 'stop';
  return ctx;
}

function time(name: string, iterations: number, fn: () => void): void {
  for (let i = 0; i < iterations / 10; i++) fn(); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - started) / iterations;
  console.log(`${name.padEnd(48)} ${ns.toFixed(0).padStart(7)} ns/call`);
}

const settings = {
  endpoint: 'http://127.0.0.1:9', protocol: 'http' as const, headers: {}, ca: undefined, verify: true, timeoutMs: 1000,
  batch: { max_queue_size: 2048, scheduled_delay_ms: 3_600_000, max_export_batch_size: 1_000_000 },
};
const exporter = <T>(encode: (r: T) => Buffer) => createExporter<T>({
  signal: 'traces', settings, resource: { 'service.name': 'vigil' }, scope: { name: 'vigil', version: 'bench' }, encode, onDropped() {},
});
const N = 200_000;

let lastSpan!: SpanRecord;
const capture = createTracing({ samplingRatio: 1, providerNames: new Map(), sink: { add: (s) => { lastSpan = s; }, shutdown: async () => {} } });
time('request + attempt span records (no encoding)', N, () => {
  const ctx = context();
  const span = capture.startRequest(ctx);
  span.startAttempt(ctx, origin).end(200);
  span.end(ctx);
});
time('encodeSpan (request span)', N, () => void encodeSpan(lastSpan));

const spans = exporter(encodeSpan);
const tracing = createTracing({ samplingRatio: 1, providerNames: new Map(), sink: { add: (s) => spans.add(s), shutdown: async () => {} } });
let queued = 0;
time('both spans recorded, encoded and queued', N, () => {
  if (++queued % 2000 === 0) void spans.shutdown(); // the queue holds 2048: keep it from filling
  const ctx = context();
  const span = tracing.startRequest(ctx);
  span.startAttempt(ctx, origin).end(200);
  span.end(ctx);
});

const bindings = { pid: 1234, module: 'pipeline' };
const fields = {
  request_id: '3f1c2d9e-5b7a-4c1e-9f0a-123456789abc', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331',
  identity_id: 'anonymous', method: 'POST', route: '/v1/chat/completions', status: 200, duration_ms: 0.412, model: 'bench-model',
  provider: 'bench', input_tokens: 212, output_tokens: 48,
};
let lastLog!: LogRecordData;
time('log record from the request line fields', N, () => { lastLog = recordOf('info', 'request', Date.now(), bindings, fields); });
time('encodeLogRecord', N, () => void encodeLogRecord(lastLog, Date.now()));
process.exit(0);
