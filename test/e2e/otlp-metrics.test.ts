// GenAI semantic-convention metrics pushed over OTLP to a real receiver (decoded with the official protos):
// the four instruments with their semconv names, units and recommended bucket boundaries, one recording
// per request with the right attributes and values (tokens as the client saw them), error.type on a
// failed call, over gRPC and OTLP/HTTP, and the last values pushed on shutdown. Traces and logs are off here, so only metrics reach the receiver.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { startGrpcReceiver, startHttpReceiver, type OtlpReceiver, type ReceivedMetric } from '../helpers/otlp-receiver.ts';
import { TPOT_BUCKETS, TTFT_BUCKETS } from '../../src/telemetry/metrics/catalog.ts';

const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const LATENCY_MS = 30;

const config = (endpoint: string, protocol: 'grpc' | 'http', intervalMs: number) => ({
  providers: { mock: { kind: 'mock', latency_ms: LATENCY_MS }, broken: { kind: 'mock', error_rates: { server_error: 1 } } },
  models: [{ name: 'mock-chat', provider: 'mock', upstream_model: 'mock-upstream' }, { name: 'mock-fail', provider: 'broken' }],
  telemetry: {
    service_name: 'vigil-metrics-e2e',
    otlp: { endpoint, protocol, traces: { enabled: false }, logs: { enabled: false }, metrics: { enabled: true, interval_ms: intervalMs } },
  },
});

let grpcReceiver: OtlpReceiver;
let httpReceiver: OtlpReceiver;
let grpcGateway: Gateway;
let httpGateway: Gateway;

before(async () => {
  [grpcReceiver, httpReceiver] = await Promise.all([startGrpcReceiver(), startHttpReceiver()]);
  [grpcGateway, httpGateway] = await Promise.all([
    startGateway(config(grpcReceiver.url, 'grpc', 200)),
    // A signal path given by habit is tolerated; the default interval, so only the shutdown flush pushes.
    startGateway(config(`${httpReceiver.url}/v1/metrics`, 'http', 60_000)),
  ]);
});
after(async () => {
  await Promise.all([grpcGateway?.stop(), httpGateway?.stop()]);
  await Promise.all([grpcReceiver?.close(), httpReceiver?.close()]);
});

const client = (gateway: Gateway) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });

/** The latest export's metrics once it holds `requests` recordings of the duration histogram (cumulative). */
async function latest(receiver: OtlpReceiver, requests: number): Promise<Map<string, ReceivedMetric>> {
  return receiver.waitFor(() => {
    const last = receiver.metrics.at(-1)?.export;
    const metrics = new Map(receiver.metrics.filter((m) => m.export === last).map((m) => [m.name, m]));
    const duration = metrics.get('gen_ai.client.operation.duration');
    const count = duration?.histogram?.points.reduce((n, p) => n + p.count, 0) ?? 0;
    return count >= requests ? metrics : undefined;
  }, `${requests} recorded operations`);
}

const point = (metric: ReceivedMetric | undefined, attributes: Record<string, unknown>) => {
  const points = metric?.histogram?.points.filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v)) ?? [];
  assert.equal(points.length, 1, `one ${metric?.name} point with ${JSON.stringify(attributes)}`);
  const [found] = points;
  assert.equal(found.bucketCounts.reduce((a, b) => a + b, 0), found.count, 'bucket counts add up to the count');
  return found;
};

test('gRPC: the four GenAI instruments with semconv names, units, buckets, attributes and values', async () => {
  const openai = client(grpcGateway);
  const completion = await openai.chat.completions.create({ model: 'mock-chat', messages: [{ role: 'user', content: 'count my tokens please' }] });
  const stream = await openai.chat.completions.create({
    model: 'mock-chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'and stream them too' }],
  });
  let streamUsage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) streamUsage = chunk.usage ?? streamUsage;
  await assert.rejects(openai.chat.completions.create({ model: 'mock-fail', messages: [{ role: 'user', content: 'fail' }] }), OpenAI.APIError);
  assert.ok(completion.usage && streamUsage, 'usage on both answers');

  const metrics = await latest(grpcReceiver, 3);
  assert.deepEqual([...metrics.keys()].sort(), [
    'gen_ai.client.operation.duration', 'gen_ai.client.token.usage', 'gen_ai.server.time_per_output_token', 'gen_ai.server.time_to_first_token',
  ]);
  const expected: Record<string, [string, number[]]> = {
    'gen_ai.client.operation.duration': ['s', DURATION_BUCKETS],
    'gen_ai.client.token.usage': ['{token}', TOKEN_BUCKETS],
    'gen_ai.server.time_to_first_token': ['s', TTFT_BUCKETS],
    'gen_ai.server.time_per_output_token': ['s', TPOT_BUCKETS],
  };
  for (const [name, [unit, buckets]] of Object.entries(expected)) {
    const metric = metrics.get(name)!;
    assert.equal(metric.unit, unit, name);
    assert.equal(metric.scope, 'vigil');
    assert.equal(metric.histogram?.temporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE', name);
    for (const p of metric.histogram!.points) assert.deepEqual(p.explicitBounds, buckets, name);
    assert.equal(metric.resource['service.name'], 'vigil-metrics-e2e');
    assert.match(String(metric.resource['service.instance.id']), /^[0-9a-f-]{36}$/);
  }

  const ok = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'mock', 'gen_ai.request.model': 'mock-chat', 'gen_ai.response.model': 'mock-upstream' };
  const duration = metrics.get('gen_ai.client.operation.duration')!;
  const okDuration = point(duration, ok);
  assert.equal(okDuration.count, 2);
  assert.deepEqual(Object.keys(okDuration.attributes).sort(), Object.keys(ok).sort(), 'no error.type on success');
  assert.ok(okDuration.sum! >= 2 * LATENCY_MS / 1000 && okDuration.sum! < 5, `duration sum ${okDuration.sum} s`);
  const failed = point(duration, { 'error.type': 'server_error' });
  assert.equal(failed.count, 1);
  assert.deepEqual(failed.attributes, { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'broken', 'gen_ai.request.model': 'mock-fail', 'error.type': 'server_error' });

  const tokens = metrics.get('gen_ai.client.token.usage')!;
  const input = point(tokens, { ...ok, 'gen_ai.token.type': 'input' });
  const output = point(tokens, { ...ok, 'gen_ai.token.type': 'output' });
  assert.deepEqual([input.count, input.sum], [2, completion.usage!.prompt_tokens + streamUsage!.prompt_tokens]);
  assert.deepEqual([output.count, output.sum], [2, completion.usage!.completion_tokens + streamUsage!.completion_tokens]);
  assert.equal(tokens.histogram!.points.length, 2, 'the failed call used no tokens');

  const ttft = point(metrics.get('gen_ai.server.time_to_first_token'), ok);
  assert.equal(ttft.count, 1, 'only the streamed call has a first token');
  assert.ok(ttft.sum! >= LATENCY_MS / 1000 && ttft.sum! < 5, `ttft ${ttft.sum} s`);
  const tpot = point(metrics.get('gen_ai.server.time_per_output_token'), ok);
  assert.equal(tpot.count, 1);
  assert.ok(tpot.sum! >= 0 && tpot.sum! < ttft.sum!, `tpot ${tpot.sum} s`);
});

test('OTLP/HTTP: the same instruments reach /v1/metrics, flushed on shutdown', async () => {
  await client(httpGateway).chat.completions.create({ model: 'mock-chat', messages: [{ role: 'user', content: 'over http' }] });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(httpReceiver.metrics.length, 0, 'nothing pushed before the interval');
  await httpGateway.stop();
  const metrics = await latest(httpReceiver, 1);
  assert.equal(point(metrics.get('gen_ai.client.operation.duration'), { 'gen_ai.request.model': 'mock-chat' }).count, 1);
  assert.equal(point(metrics.get('gen_ai.client.token.usage'), { 'gen_ai.token.type': 'output' }).count, 1);
  assert.ok(httpReceiver.calls.every((c) => c.signal === 'metrics'));
});
