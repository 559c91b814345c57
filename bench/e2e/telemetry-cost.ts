// What Vigil's telemetry costs in throughput (#3: full telemetry must cost ≤ 10 % of it): the three Vigil
// variants of targets.ts at maximum closed-loop throughput, interleaved round by round. This VM's speed
// drifts by 20–50 % over minutes, so one run per variant (as bench/e2e/run.ts does) can put them in
// different phases; interleaving puts every variant in every phase, and the cost is read from each
// round's own pair (variant ÷ off, seconds apart), then the median over the rounds.
// Run: npm run bench:telemetry (knobs: BENCH_ROUNDS=5 BENCH_SECONDS=8 BENCH_CONNECTIONS=64).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeCpuSeconds } from './cpu.ts';
import { chatRequest } from './fixtures.ts';
import { startUpstream, wrk } from './load.ts';
import { killAll, stop } from './procs.ts';
import { targets, type Ctx } from './targets.ts';

const env = (name: string, fallback: string) => Number(process.env[name] || fallback);
const settings = { rounds: env('BENCH_ROUNDS', '5'), seconds: env('BENCH_SECONDS', '8'), connections: env('BENCH_CONNECTIONS', '64'), proxyCpu: 0, loadCpu: 1 };
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'vigil-telemetry-cost-'));
const ctx: Ctx = { dir, root, proxyCpu: settings.proxyCpu, node: process.execPath };
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
process.on('exit', () => { killAll(); rmSync(dir, { recursive: true, force: true }); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
const bound = settings.rounds * 3 * (settings.seconds + 15) + 60;
setTimeout(() => { log(`watchdog: run exceeded ${bound} s, stopping`); process.exit(2); }, bound * 1000).unref();

const variants = targets.filter((t) => t.name.startsWith('vigil'));
const OFF = 'vigil-telemetry-off';
const bodyFile = join(dir, 'request.json');
writeFileSync(bodyFile, chatRequest('bench-model', false));
const upstream = await startUpstream(join(dir, 'upstream'), settings.loadCpu);

type Sample = { rps: number; cpuUs: number };
const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
for (let round = 0; round < settings.rounds; round++) {
  // Rotated each round, so no variant always runs first (or right after another).
  const order = variants.map((_, i) => variants[(i + round) % variants.length]);
  for (const target of order) {
    const child = await target.start!(ctx);
    try {
      const load = (seconds: number) => wrk({ cpu: settings.loadCpu, url: target.json.url, headers: target.json.headers, bodyFile, seconds, connections: settings.connections });
      await load(3); // JIT warm-up
      const cpu0 = treeCpuSeconds(child.pid!);
      const r = await load(settings.seconds);
      const errors = r.connect_errors + r.read_errors + r.write_errors + r.status_errors + r.timeouts;
      if (errors > 0) throw new Error(`${target.name}: ${errors} failed requests`);
      const sample = { rps: r.requests / (r.duration_us / 1e6), cpuUs: ((treeCpuSeconds(child.pid!) - cpu0) * 1e6) / r.requests };
      samples.get(target.name)!.push(sample);
      log(`round ${round + 1}/${settings.rounds} ${target.name}: ${Math.round(sample.rps)} req/s, ${sample.cpuUs.toFixed(1)} µs CPU per request`);
    } finally {
      await stop(child);
    }
  }
}
await stop(upstream);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const off = samples.get(OFF)!;
const lines = [
  `Telemetry cost (${settings.rounds} interleaved rounds of ${settings.seconds} s at maximum throughput, ${settings.connections} connections, Vigil on one core; medians):`,
  '',
  '| variant | req/s | CPU µs per request | throughput cost vs off (paired by round) | every round (req/s) |',
  '|---|--:|--:|--:|---|',
  ...variants.map((v) => {
    const s = samples.get(v.name)!;
    const cost = v.name === OFF ? '–' : `${(median(s.map((x, i) => 1 - x.rps / off[i].rps)) * 100).toFixed(1)} %`;
    return `| ${v.name} | ${Math.round(median(s.map((x) => x.rps))).toLocaleString('en')} | ${median(s.map((x) => x.cpuUs)).toFixed(1)} | ${cost} | ${s.map((x) => Math.round(x.rps)).join(', ')} |`;
  }),
  '',
];
const md = lines.join('\n');
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/telemetry-cost.md'), md);
process.stdout.write(md);
