// POST /v1/responses passed through (issue #28): direct to the fake upstream against through Vigil (the `vigil`
// variant, whose providers have `responses_api: true`), in one run, with the tools of `npm run bench`:
// open-loop JSON latency (open-loop.ts --api responses) and streaming time to first byte (ttfb.ts --api
// responses). Vigil alone on core 0; load, upstream and this script on core 1; 127.0.0.1 only; every phase bounded.
//
// Run: bash bench/setup.sh nginx taskset:util-linux && taskset -c 1 node_modules/.bin/node bench/e2e/responses.ts
// Knobs: BENCH_RATES=200,1000 BENCH_RATE_SECONDS=10 BENCH_SETTLE_REQUESTS=12000 BENCH_TTFB_COUNT=300
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHeaders, post } from './client.ts';
import { apis, responsesJson, responsesSse } from './fixtures.ts';
import { openLoop, startUpstream } from './load.ts';
import { ports } from './nginx.ts';
import { killAll, portOpen, runPinned, stop } from './procs.ts';
import { startVigil, vigilPort, vigilVariants } from './targets.ts';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const settings = {
  rates: env('BENCH_RATES', '200,1000').split(',').map(Number),
  rateSeconds: Number(env('BENCH_RATE_SECONDS', '10')),
  settleRequests: Number(env('BENCH_SETTLE_REQUESTS', '12000')),
  ttfbCount: Number(env('BENCH_TTFB_COUNT', '300')),
  proxyCpu: 0,
  loadCpu: 1,
};
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const dir = mkdtempSync(join(tmpdir(), 'vigil-responses-'));
process.on('exit', () => { killAll(); rmSync(dir, { recursive: true, force: true }); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
setTimeout(() => { console.error('bench: watchdog, stopping'); process.exit(2); }, 6 * 60_000).unref();

const url = (port: number) => `http://127.0.0.1:${port}/v1/responses`;
const sides = {
  direct: { json: url(ports.upstream), stream: url(ports.upstreamSse) },
  vigil: { json: url(vigilPort), stream: url(vigilPort) },
};
type Side = keyof typeof sides;

for (const port of [...Object.values(ports), vigilPort]) {
  if (await portOpen(port)) throw new Error(`port ${port} is already in use on 127.0.0.1; stop whatever holds it first`);
}
const upstream = await startUpstream(join(dir, 'upstream'), settings.loadCpu);
const vigil = await startVigil({ root, home: join(dir, 'vigil'), sections: { ...vigilVariants().vigil, responsesApi: true }, cpu: settings.proxyCpu });

// One correct answer each way before anything is timed: a wrong set-up must fail, not measure.
const agent = new http.Agent({ keepAlive: false });
for (const side of Object.keys(sides) as Side[]) {
  for (const stream of [false, true]) {
    const reply = await post(agent, { url: new URL(stream ? sides[side].stream : sides[side].json), headers: parseHeaders([]) },
      apis.responses.request(stream ? 'bench-stream' : 'bench-model', stream), 10_000);
    // Byte for byte: the fixture's exact length, so a translated answer (no `responses_api`) fails here.
    const good = reply.status === 200 && reply.bytes === Buffer.byteLength(stream ? responsesSse : responsesJson);
    if (!good) throw new Error(`smoke check ${side} ${stream ? 'stream' : 'json'}: status ${reply.status}, ${reply.bytes} bytes, tail ${JSON.stringify(reply.tail)}`);
  }
}

const json = (side: Side, rate: number, seconds: number, warmup: number) =>
  openLoop({ cpu: settings.loadCpu, url: sides[side].json, model: 'bench-model', api: 'responses', headers: [], rate, seconds, warmup });
const ttfb = async (side: Side) => JSON.parse(await runPinned(settings.loadCpu, process.execPath, [join(here, 'ttfb.ts'),
  '--url', sides[side].stream, '--model', 'bench-stream', '--api', 'responses', '--count', String(settings.ttfbCount), '--warmup', '50', '--max-seconds', '30'], 60_000));

// The JIT settles on the request path before anything is measured (BENCHMARKS.md, Method).
const settleRate = 1000;
console.error(`bench: settling Vigil (${settings.settleRequests} requests at ${settleRate} req/s, not measured)`);
await json('vigil', settleRate, Math.ceil(settings.settleRequests / settleRate), 0);

const f = (x: number | null) => (x == null ? '–' : x.toFixed(3));
const row = (what: string, d: any, v: any, errors: string) =>
  `| ${what} | ${f(d.p50)} | ${f(v.p50)} | ${f(v.p50 - d.p50)} | ${f(d.p99)} | ${f(v.p99)} | ${f(v.p99 - d.p99)} | ${errors} |`;
const rows = [
  '| /v1/responses | direct p50 | Vigil p50 | added p50 | direct p99 | Vigil p99 | added p99 | errors (direct, Vigil) |',
  '|---|---|---|---|---|---|---|---|',
];
for (const rate of settings.rates) {
  console.error(`bench: JSON at ${rate} req/s, direct then Vigil`);
  const d = await json('direct', rate, settings.rateSeconds, 3);
  const v = await json('vigil', rate, settings.rateSeconds, 3);
  rows.push(row(`JSON latency, ${rate} req/s open loop (ms)`, d, v, `${d.errors + d.unfinished}, ${v.errors + v.unfinished}`));
}
console.error('bench: stream TTFB, direct then Vigil');
const d = await ttfb('direct');
const v = await ttfb('vigil');
rows.push(row(`stream TTFB, ${d.ok} / ${v.ok} sequential streams (ms)`, d, v, `${d.errors}, ${v.errors}`));

await Promise.all([stop(vigil), stop(upstream)]);
console.log(rows.join('\n'));
process.exit(0);
