// What Vigil's telemetry costs in throughput (#3: full telemetry must cost ≤ 10 % of it): the three Vigil
// variants of targets.ts at maximum closed-loop throughput, interleaved round by round (rounds.ts), the
// cost read from each round's own pair (variant ÷ off, seconds apart), then the median over the rounds.
// nginx as a plain proxy runs in every round too, as the machine's yardstick: its CPU per request tells
// which phase a round fell in (#2's limits were set when nginx spent ~18 µs a request here), and each Vigil
// variant is also read as a multiple of it, paired by round.
// Run: npm run bench:telemetry (knobs: BENCH_ROUNDS=5 BENCH_SECONDS=8 BENCH_CONNECTIONS=64).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatRequest } from './fixtures.ts';
import { startUpstream } from './load.ts';
import { killAll, stop } from './procs.ts';
import { maxThroughputRounds, median, type MaxSample } from './rounds.ts';
import { targets, type Ctx } from './targets.ts';

const env = (name: string, fallback: string) => Number(process.env[name] || fallback);
const settings = { rounds: env('BENCH_ROUNDS', '5'), seconds: env('BENCH_SECONDS', '8'), connections: env('BENCH_CONNECTIONS', '64'), proxyCpu: 0, loadCpu: 1 };
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'vigil-telemetry-cost-'));
const ctx: Ctx = { dir, root, proxyCpu: settings.proxyCpu, node: process.execPath };
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
process.on('exit', () => { killAll(); rmSync(dir, { recursive: true, force: true }); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
const variants = targets.filter((t) => t.name === 'nginx' || t.name.startsWith('vigil'));
const OFF = 'vigil-telemetry-off';
const NGINX = 'nginx';
const bound = settings.rounds * variants.length * (settings.seconds + 15) + 60;
setTimeout(() => { log(`watchdog: run exceeded ${bound} s, stopping`); process.exit(2); }, bound * 1000).unref();

const bodyFile = join(dir, 'request.json');
writeFileSync(bodyFile, chatRequest('bench-model', false));
const upstream = await startUpstream(join(dir, 'upstream'), settings.loadCpu);

const { samples, failed } = await maxThroughputRounds(variants, {
  ctx, rounds: settings.rounds, seconds: settings.seconds, warmupSeconds: 3, connections: settings.connections,
  loadCpu: settings.loadCpu, bodyFile, log,
});
await stop(upstream);
if (failed.size > 0) throw new Error(`failed: ${[...failed].map(([name, why]) => `${name}: ${why}`).join('; ')}`);

const off = samples.get(OFF)!;
const nginx = samples.get(NGINX)!;
const paired = (s: MaxSample[], f: (x: MaxSample, i: number) => number) => median(s.map(f));
const cpu = (x: MaxSample) => x.cpuUs!;
const lines = [
  `Telemetry cost (${settings.rounds} interleaved rounds of ${settings.seconds} s at maximum throughput, ${settings.connections} connections, the proxy on one core; medians):`,
  '',
  '| target | req/s | CPU µs per request | throughput cost vs off (paired by round) | CPU ÷ nginx\'s (paired by round) | every round (req/s) | every round (CPU µs per request) |',
  '|---|--:|--:|--:|--:|---|---|',
  ...variants.map((v) => {
    const s = samples.get(v.name)!;
    const vigil = v.name !== NGINX;
    const cost = vigil && v.name !== OFF ? `${(paired(s, (x, i) => 1 - x.rps / off[i].rps) * 100).toFixed(1)} %` : '–';
    const ratio = vigil ? `×${paired(s, (x, i) => cpu(x) / cpu(nginx[i])).toFixed(2)}` : '–';
    return `| ${v.name} | ${Math.round(median(s.map((x) => x.rps))).toLocaleString('en')} | ${median(s.map(cpu)).toFixed(1)} | ${cost} | ${ratio} | ${s.map((x) => Math.round(x.rps)).join(', ')} | ${s.map((x) => cpu(x).toFixed(1)).join(', ')} |`;
  }),
  '',
];
const md = lines.join('\n');
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/telemetry-cost.md'), md);
process.stdout.write(md);
