// Cost of OTLP export per request, one piece at a time: the two spans (recorded, encoded into their batch
// and queued) and the request's log record (built from the line's fields, encoded and queued), through the
// real export queue batching 512 records; the export itself is a no-op, so no collector is involved.
// Run: node bench/micro/otlp-export.bench.ts — nanoseconds per call, no assertions.
import { RequestContext } from '../../src/core/context.ts';
import { noopReply as reply } from '../../test/helpers/context.ts';
import { recordOf } from '../../src/telemetry/log-export.ts';
import { ExportQueue } from '../../src/telemetry/export/queue.ts';
import { encodeLogRecord, encodeSpan, type LogRecordData, type SpanRecord } from '../../src/telemetry/export/encode.ts';
import { ProtoWriter } from '../../src/telemetry/export/proto-writer.ts';
import { createTracing } from '../../src/telemetry/trace.ts';

const origin = new URL('http://127.0.0.1:18081/v1');
const N = 200_000;

/** A new request id each time, as in the gateway: attribute values that never repeat are never cached. */
let requests = 0;
const requestId = () => `3f1c2d9e-5b7a-4c1e-9f0a-${String(++requests).padStart(12, '0')}`;

function context(): RequestContext {
  const ctx = new RequestContext({
    requestId: requestId(), startedAt: performance.now() - 0.4, route: '/v1/chat/completions',
    method: 'POST', dialect: 'openai', operation: 'chat', reply, headers: {},
  });
  ctx.target = { name: 'bench-model', upstreamModel: 'bench-model', providerId: 'bench', deploymentId: 'test', type: 'chat' };
  ctx.requestedModel = 'bench-model';
  const attempt = ctx.addAttempt(ctx.target);
  attempt.startedAt = 0.1;
  attempt.status = 200;
  attempt.usage = { inputTokens: 212, outputTokens: 48, cachedInputTokens: 0 };
  ctx.finishReason = 'stop';
  return ctx;
}

/** Runs fn N times after a tenth as many warm-up calls; every 256th call lets pending exports run. */
async function time(name: string, fn: () => void, drain?: () => Promise<void>): Promise<void> {
  const run = async (count: number) => {
    for (let i = 1; i <= count; i++) {
      fn();
      if (drain && i % 256 === 0) await drain();
    }
  };
  await run(N / 10);
  const started = process.hrtime.bigint();
  await run(N);
  console.log(`${name.padEnd(52)} ${(Number(process.hrtime.bigint() - started) / N).toFixed(0).padStart(7)} ns/call`);
}

const queue = <T>(encode: (w: ProtoWriter, r: T) => void) => new ExportQueue<T>({
  batch: { max_queue_size: 2048, scheduled_delay_ms: 3_600_000, max_export_batch_size: 512 },
  encode, exportBatch: async () => {}, onDropped() { throw new Error('dropped'); },
});
const tracingInto = (sink: (s: SpanRecord) => void) => createTracing({ samplingRatio: 1, providerNames: new Map(), sink: { add: sink, shutdown: async () => {} } });
const requestSpans = (tracing: ReturnType<typeof tracingInto>) => () => {
  const ctx = context();
  const span = tracing.startRequest(ctx);
  span.startAttempt(ctx, ctx.attempt!, origin).end(200);
  span.end(ctx);
};

let lastSpan!: SpanRecord;
await time('context + request and attempt span records', requestSpans(tracingInto((s) => { lastSpan = s; })));
const w = new ProtoWriter();
await time('encodeSpan (the request span)', () => encodeSpan(w.reset(), lastSpan));
const spans = queue(encodeSpan);
await time('context + both spans recorded, encoded and queued', requestSpans(tracingInto((s) => spans.add(s))), () => spans.flush());

const bindings = { pid: 1234, module: 'pipeline' };
const fields = {
  request_id: '3f1c2d9e-5b7a-4c1e-9f0a-123456789abc', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331',
  identity_id: 'anonymous', method: 'POST', route: '/v1/chat/completions', status: 200, duration_ms: 0.412, model: 'bench-model',
  provider: 'bench', input_tokens: 212, output_tokens: 48,
};
let lastLog!: LogRecordData;
const line = () => ({ ...fields, request_id: requestId() });
await time('log record from the request line fields', () => { lastLog = recordOf('info', 'request', Date.now(), bindings, line()); });
await time('encodeLogRecord', () => encodeLogRecord(w.reset(), lastLog, Date.now()));
const logs = queue((w: ProtoWriter, r: LogRecordData) => encodeLogRecord(w, r, Date.now()));
await time('log record built, encoded and queued', () => logs.add(recordOf('info', 'request', Date.now(), bindings, line())), () => logs.flush());
