// Two Vigil builds or settings side by side, at the same time: both pinned to the proxy core, each driven by
// its own wrk at maximum throughput, so both live through the same phase of the VM. Run one after the
// other, two runs of the same build here differed by up to 20 % (BENCHMARKS.md, ninth session); run at once,
// by 3 % at most. What it prints is CPU per request of each and their ratio, per round and the median.
// The two share one core and its caches, so the absolute figures are higher than a lone gateway's; the
// ratio is the measure.
//
// Run: npm run bench:pair -- SIDE_A SIDE_B   (knobs: BENCH_ROUNDS=4 BENCH_SECONDS=8 BENCH_CONNECTIONS=32)
// A side is CHECKOUT:VARIANT[:NAME=VALUE,…[:NODE_FLAG,…]], e.g. `/tmp/before:vigil` against
// `.:vigil::--max-semi-space-size=16`; VARIANT is one of bench/e2e/targets.ts (vigil, vigil-telemetry-off,
// vigil-telemetry-full, vigil-keys, vigil-routing-50, …), CHECKOUT any working tree (a `git worktree add` of
// the commit to compare).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { treeCpuSeconds } from './cpu.ts';
import { chatRequest } from './fixtures.ts';
import { startUpstream, wrk } from './load.ts';
import { killAll, stop } from './procs.ts';
import { median } from './rounds.ts';
import { BENCH_AUTHORIZATION, startVigil, vigilPort, vigilVariants } from './targets.ts';

const env = (name: string, fallback: string) => Number(process.env[name] || fallback);
const settings = { rounds: env('BENCH_ROUNDS', '4'), seconds: env('BENCH_SECONDS', '8'), connections: env('BENCH_CONNECTIONS', '32'), proxyCpu: 0, loadCpu: 1 };
const sides = process.argv.slice(2);
if (sides.length !== 2) {
  console.error('usage: npm run bench:pair -- CHECKOUT:VARIANT[:NAME=VALUE,…[:NODE_FLAG,…]] (twice)');
  process.exit(2);
}
const variants = vigilVariants();
const dir = mkdtempSync(join(tmpdir(), 'vigil-pair-'));
process.on('exit', () => { killAll(); rmSync(dir, { recursive: true, force: true }); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
setTimeout(() => { console.error('bench: watchdog, stopping'); process.exit(2); }, (settings.rounds * (settings.seconds + 40) + 60) * 1000).unref();

interface Side { root: string; variant: string; env: NodeJS.ProcessEnv; flags: string[] }
function parse(spec: string): Side {
  const [root, variant, envList = '', flagList = ''] = spec.split(':');
  if (!variant || !(variant in variants)) throw new Error(`"${spec}": the variant must be one of ${Object.keys(variants).join(', ')}`);
  const sideEnv = { ...process.env };
  for (const pair of envList.split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    sideEnv[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return { root: resolve(root || '.'), variant, env: sideEnv, flags: flagList.split(',').filter(Boolean) };
}
const [a, b] = sides.map(parse);

const start = (side: Side, port: number, name: string): Promise<ChildProcess> =>
  startVigil({ root: side.root, home: join(dir, name), sections: variants[side.variant], cpu: settings.proxyCpu, port, flags: side.flags, env: side.env });

const upstream = await startUpstream(join(dir, 'upstream'), settings.loadCpu);
const bodyFile = join(dir, 'request.json');
writeFileSync(bodyFile, chatRequest('bench-model', false));
const load = (port: number, seconds: number) => wrk({ cpu: settings.loadCpu, url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: [BENCH_AUTHORIZATION], bodyFile, seconds, connections: settings.connections });

const ratios: number[] = [];
for (let round = 1; round <= settings.rounds; round++) {
  const ports = round % 2 ? [vigilPort, vigilPort + 1] : [vigilPort + 1, vigilPort]; // neither keeps one port
  const [pa, pb] = await Promise.all([start(a, ports[0], `a${round}`), start(b, ports[1], `b${round}`)]);
  await Promise.all([load(ports[0], 3), load(ports[1], 3)]); // warm-up: the JIT settles
  const before = [treeCpuSeconds(pa.pid!), treeCpuSeconds(pb.pid!)];
  const [ra, rb] = await Promise.all([load(ports[0], settings.seconds), load(ports[1], settings.seconds)]);
  const cpu = [treeCpuSeconds(pa.pid!) - before[0], treeCpuSeconds(pb.pid!) - before[1]];
  await Promise.all([stop(pa), stop(pb)]);
  for (const r of [ra, rb]) if (r.status_errors || r.read_errors || r.timeouts) throw new Error(`round ${round}: wrk saw errors: ${JSON.stringify(r)}`);
  const us = [cpu[0] * 1e6 / ra.requests, cpu[1] * 1e6 / rb.requests];
  ratios.push(us[1] / us[0]);
  console.log(`round ${round}/${settings.rounds}: A ${us[0].toFixed(1)} µs per request (${Math.round(ra.requests / settings.seconds)} req/s), B ${us[1].toFixed(1)} µs (${Math.round(rb.requests / settings.seconds)} req/s), B/A ${(us[1] / us[0]).toFixed(3)}`);
}
console.log(`B/A CPU per request: median ${median(ratios).toFixed(3)} over ${ratios.length} rounds [${ratios.map((r) => r.toFixed(3)).join(' ')}]`);
await stop(upstream);
