// Open-loop fixed-rate load: requests go out on a fixed schedule whatever the target does, and each
// latency is measured from its *scheduled* send time, so a slow target cannot hide queueing delay
// (no coordinated omission). Node timers have 1 ms resolution, so a worker thread paces the schedule
// with Atomics.wait (sub-millisecond sleeps) and tells the main thread when each send is due.
//
//   node open-loop.ts --url http://127.0.0.1:18081/v1/chat/completions --rate 1000 --duration 10 \
//     --warmup 3 --model bench-model [--api chat|responses] [--header 'name: value']... [--connections 64] [--slow-out FILE]
// Prints one JSON object on stdout; with --slow-out, also writes every measured request slower than 1.5 ms
// as [scheduled send time in epoch ms, latency ms] (bench/e2e/stalls.ts lines them up with the gateway's).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { apis } from './fixtures.ts';
import { parseHeaders, post } from './client.ts';

type Pace = { start: string; intervalNs: number; count: number };

if (!isMainThread) {
  const { start, intervalNs, count } = workerData as Pace;
  const t0 = BigInt(start);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < count; i++) {
    const waitMs = (i * intervalNs - Number(process.hrtime.bigint() - t0)) / 1e6;
    if (waitMs > 0) Atomics.wait(cell, 0, 0, waitMs);
    parentPort!.postMessage(i);
  }
} else {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      model: { type: 'string', default: 'bench-model' },
      api: { type: 'string', default: 'chat' },
      header: { type: 'string', multiple: true, default: [] },
      connections: { type: 'string', default: '64' },
      timeout: { type: 'string', default: '15' },
      'slow-out': { type: 'string' },
    },
  });
  const target = { url: new URL(values.url!), headers: parseHeaders(values.header) };
  const rate = Number(values.rate);
  const intervalNs = 1e9 / rate;
  const warmupCount = Math.round(rate * Number(values.warmup));
  const count = warmupCount + Math.round(rate * Number(values.duration));
  const body = apis[values.api as keyof typeof apis].request(values.model!, false);
  const timeoutMs = Number(values.timeout) * 1000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number(values.connections) });

  const latency = createHistogram({ lowest: 1, highest: 120e9, figures: 3 });
  const sendLag = createHistogram({ lowest: 1, highest: 120e9, figures: 3 });
  let ok = 0, errors = 0, done = 0;
  const failures: Record<string, number> = {};
  const t0 = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - t0);
  const t0Epoch = performance.timeOrigin + performance.now(); // t0 as epoch ms, to compare across processes
  const slow: [number, number][] = [];
  const fail = (why: string) => { errors++; failures[why] = (failures[why] ?? 0) + 1; };

  const send = async (i: number) => {
    const scheduled = i * intervalNs;
    const measured = i >= warmupCount;
    if (measured) sendLag.record(Math.max(1, Math.round(elapsed() - scheduled)));
    try {
      const reply = await post(agent, target, body, timeoutMs);
      if (!measured) { /* warm-up */ } else if (reply.status === 200 && reply.bytes > 0) {
        ok++;
        const ns = elapsed() - scheduled;
        latency.record(Math.max(1, Math.round(ns)));
        if (ns > 1.5e6) slow.push([t0Epoch + scheduled / 1e6, ns / 1e6]);
      } else fail(`status ${reply.status}`);
    } catch (err) {
      if (measured) fail((err as Error).message);
    }
    done++;
  };

  await new Promise<void>((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { start: t0.toString(), intervalNs, count } });
    worker.on('message', (i: number) => { void send(i); });
    worker.on('error', reject);
    worker.on('exit', () => resolve());
  });
  // The schedule is over; give stragglers up to the request timeout, then stop regardless.
  const deadline = Date.now() + timeoutMs + 1000;
  while (done < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();
  if (values['slow-out']) writeFileSync(values['slow-out'], JSON.stringify(slow));

  const ms = (h: RecordableHistogram, p: number) => (h.count > 0 ? h.percentile(p) / 1e6 : null);
  process.stdout.write(`${JSON.stringify({
    rate, durationS: Number(values.duration), sent: count - warmupCount, ok, errors, failures,
    unfinished: count - done,
    p50: ms(latency, 50), p90: ms(latency, 90), p99: ms(latency, 99), max: ms(latency, 100),
    sendLagP50: ms(sendLag, 50), sendLagP99: ms(sendLag, 99),
  })}\n`);
  process.exit(0);
}
