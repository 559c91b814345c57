// A collector that hangs or is down never blocks or slows requests: latency stays at the level of a
// gateway without OTLP, every request succeeds, and the lost spans and log lines are counted in
// vigil_otlp_export_dropped_total{signal,reason}.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startGrpcReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.ts';

const REQUESTS = 40;
const mock = { providers: { mock: { kind: 'mock' } }, models: [{ name: 'mock-chat', provider: 'mock' }] };
/** Tiny queues and quick batches, so the failure paths are reached within a few requests. */
const batch = { max_queue_size: 4, max_export_batch_size: 2, scheduled_delay_ms: 20 };

let hung: OtlpReceiver;
let baseline: Gateway;
let hanging: Gateway;
let down: Gateway;

before(async () => {
  hung = await startGrpcReceiver();
  hung.hang = true;
  const closedPort = await freePort();
  [baseline, hanging, down] = await Promise.all([
    startGateway(mock),
    startGateway({ ...mock, telemetry: { otlp: { endpoint: hung.url, batch: { ...batch, export_timeout_ms: 1500 } } } }),
    startGateway({ ...mock, telemetry: { otlp: { endpoint: `http://127.0.0.1:${closedPort}`, protocol: 'http', batch: { ...batch, export_timeout_ms: 1000 } } } }),
  ]);
});
after(async () => {
  await Promise.all([baseline?.stop(), hanging?.stop(), down?.stop()]);
  await hung?.close();
});

/** Sequential chat requests; returns each one's latency in ms. */
async function drive(gateway: Gateway): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-chat', messages: [{ role: 'user', content: `hello ${i}` }] }),
    });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    latencies.push(performance.now() - started);
  }
  return latencies;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function dropped(gateway: Gateway): Promise<Record<string, number>> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^vigil_otlp_export_dropped_total\{signal="(\w+)",reason="(\w+)"\} (\d+)/gm)) counts[`${match[1]}/${match[2]}`] = Number(match[3]);
  return counts;
}

async function waitForDrops(gateway: Gateway, keys: string[]): Promise<Record<string, number>> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const counts = await dropped(gateway);
    if (keys.every((k) => counts[k] > 0)) return counts;
    if (Date.now() > deadline) return counts;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a hung and a refused collector do not slow requests; drops are counted by signal and reason', async (t) => {
  await drive(baseline); // warm-up: first requests pay for lazy initialisation
  const reference = median(await drive(baseline));
  for (const [name, gateway] of [['hanging', hanging], ['down', down]] as const) {
    await drive(gateway);
    const latencies = await drive(gateway);
    t.diagnostic(`${name}: median ${median(latencies).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(1)} ms; without OTLP ${reference.toFixed(2)} ms`);
    assert.ok(median(latencies) < reference + 15, `${name}: median ${median(latencies).toFixed(1)} ms vs ${reference.toFixed(1)} ms without OTLP`);
    assert.ok(Math.max(...latencies) < 500, `${name}: slowest request ${Math.max(...latencies).toFixed(0)} ms (an export waits up to 1000+ ms)`);
  }
  assert.ok(hung.calls.length > 0, 'the hung collector was reached');

  // A hung collector fills the queues and times exports out: every signal and reason. A refused one fails
  // each export at once, so whether its queue also overflows is a race; only its failures are certain.
  const all = ['traces/queue_full', 'logs/queue_full', 'traces/export_failed', 'logs/export_failed'];
  for (const [name, gateway, keys] of [['hanging', hanging, all], ['down', down, ['traces/export_failed', 'logs/export_failed']]] as const) {
    const counts = await waitForDrops(gateway, [...keys]);
    t.diagnostic(`${name}: dropped ${JSON.stringify(counts)}`);
    for (const key of keys) assert.ok(counts[key] > 0, `${name}: ${key} counted (${JSON.stringify(counts)})`);
  }
});
