// Open-loop fixed-rate load: requests are sent on a fixed schedule whatever the server does, and each
// latency is measured from its *scheduled* send time, so a slow server cannot hide queueing delay
// (no coordinated omission). Node timers only have 1 ms resolution, so a worker thread paces the
// schedule with Atomics.wait (sub-millisecond sleeps) and tells the main thread when a send is due.
//
//   node open-loop.ts --url http://127.0.0.1:18081/v1/chat/completions --rate 1000 --duration 10 \
//     --warmup 2 --model bench-model [--header 'name: value']... [--connections 64]
// Prints one JSON object on stdout.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { chatRequest } from './fixtures.ts';

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
      warmup: { type: 'string', default: '2' },
      model: { type: 'string', default: 'bench-model' },
      header: { type: 'string', multiple: true, default: [] },
      connections: { type: 'string', default: '64' },
      timeout: { type: 'string', default: '15' },
    },
  });
  const url = new URL(values.url!);
  const rate = Number(values.rate);
  const intervalNs = 1e9 / rate;
  const warmupCount = Math.round(rate * Number(values.warmup));
  const count = warmupCount + Math.round(rate * Number(values.duration));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const h of values.header) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const body = chatRequest(values.model, false);
  const timeoutMs = Number(values.timeout) * 1000;
  const pool = new Pool(url.origin, {
    connections: Number(values.connections), pipelining: 1,
    headersTimeout: timeoutMs, bodyTimeout: timeoutMs, keepAliveTimeout: 60_000,
  });

  const latency = createHistogram({ lowest: 1, highest: 120e9, figures: 3 });
  const sendLag = createHistogram({ lowest: 1, highest: 120e9, figures: 3 });
  let ok = 0, errors = 0, done = 0;
  const statuses: Record<string, number> = {};
  const t0 = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - t0);

  const send = async (i: number) => {
    const scheduled = i * intervalNs;
    const measured = i >= warmupCount;
    if (measured) sendLag.record(Math.max(1, Math.round(elapsed() - scheduled)));
    try {
      const res = await pool.request({ method: 'POST', path: url.pathname, headers, body });
      const text = await res.body.text();
      if (res.statusCode === 200 && text.length > 0) {
        if (measured) { ok++; const l = elapsed() - scheduled; latency.record(Math.max(1, Math.round(l))); if (l > 2e6) console.log("SLOW", performance.now().toFixed(1), (l/1e6).toFixed(2)); }
      } else if (measured) {
        errors++;
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      }
    } catch (err) {
      if (measured) { errors++; const k = (err as Error).name; statuses[k] = (statuses[k] ?? 0) + 1; }
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
  await pool.destroy();

  const ms = (h: typeof latency, p: number) => (h.count > 0 ? h.percentile(p) / 1e6 : null);
  process.stdout.write(JSON.stringify({
    rate, durationS: Number(values.duration), sent: count - warmupCount, ok, errors, statuses,
    unfinished: count - done,
    p50: ms(latency, 50), p90: ms(latency, 90), p99: ms(latency, 99), max: ms(latency, 100),
    sendLagP50: ms(sendLag, 50), sendLagP99: ms(sendLag, 99),
  }) + '\n');
}
