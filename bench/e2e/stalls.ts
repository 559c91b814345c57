// Where the latency tail at a fixed rate comes from. An idle process pinned to the proxy core first measures
// the machine's own floor: how often a 1 ms timer fires late when nothing else runs there. Then the Vigil
// variant runs on that core with bench/e2e/stall-probe.mjs loaded, under open-loop load at one rate after a
// long warm-up (so the JIT has settled), and every measured request slower than 1.5 ms is matched against
// the gateway's GC pauses and event-loop gaps at the time it was scheduled. A slow request that overlaps
// neither was delayed on the load core (generator or fake upstream).
// Run: npm run bench:stalls [-- VARIANT]   (knobs: BENCH_RATE=1000 BENCH_SECONDS=12 BENCH_WARMUP_SECONDS=15)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLoop as openLoopLoad, startUpstream } from './load.ts';
import { ports } from './nginx.ts';
import { killAll, runPinned, stop } from './procs.ts';
import { startVigil, vigilPort, vigilVariants } from './targets.ts';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const settings = { rate: Number(env('BENCH_RATE', '1000')), seconds: Number(env('BENCH_SECONDS', '12')), warmup: Number(env('BENCH_WARMUP_SECONDS', '15')), proxyCpu: 0, loadCpu: 1 };
const variant = process.argv[2] ?? 'vigil';
const variants = vigilVariants();
if (!(variant in variants)) throw new Error(`the variant must be one of ${Object.keys(variants).join(', ')}`);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const probe = join(here, 'stall-probe.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vigil-stalls-'));
process.on('exit', () => { killAll(); rmSync(dir, { recursive: true, force: true }); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
setTimeout(() => { console.error('bench: watchdog, stopping'); process.exit(2); }, (3 * settings.seconds + settings.warmup + 150) * 1000).unref();

type Probe = { gcs: [number, number, number][]; gaps: [number, number, number][] };
const readProbe = (file: string): Probe => JSON.parse(readFileSync(file, 'utf8'));
const overlaps = (t: number, len: number, [start, duration]: [number, number, ...unknown[]]) => start < t + len && start + duration > t;
const summary = (xs: number[]) => xs.length === 0 ? 'none' : `${xs.length}, ${xs.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, longest ${Math.max(...xs).toFixed(1)} ms`;

// 1. The machine's floor on the proxy core.
const idleOut = join(dir, 'idle.json');
await runPinned(settings.proxyCpu, process.execPath, [probe, String(settings.seconds)], (settings.seconds + 30) * 1000, { ...process.env, VIGIL_BENCH_STALLS_OUT: idleOut });
const idle = readProbe(idleOut);
console.log(`idle process on core ${settings.proxyCpu}, ${settings.seconds} s: event-loop gaps over 2 ms: ${summary(idle.gaps.map((g) => g[1]))}; it ran ${idle.gaps.reduce((a, g) => a + g[2], 0).toFixed(0)} ms of CPU during them`);

// 2. The same load straight to the fake upstream, for the added latency.
const upstream = await startUpstream(join(dir, 'upstream'), settings.loadCpu);
const openLoop = (url: string, warmup: number, slowOut?: string) =>
  openLoopLoad({ cpu: settings.loadCpu, url, model: 'bench-model', headers: [], rate: settings.rate, seconds: settings.seconds, warmup, slowOut, graceSeconds: 60 });
const ms = (x: number | null) => x === null ? '–' : x.toFixed(3);
const direct = await openLoop(`http://127.0.0.1:${ports.upstream}/v1/chat/completions`, 3);
console.log(`direct at ${settings.rate} req/s, ${settings.seconds} s: p50 ${ms(direct.p50)} p90 ${ms(direct.p90)} p99 ${ms(direct.p99)} ms, generator send lag p99 ${ms(direct.sendLagP99)} ms`);

// 3. The gateway under the same load, after a warm-up long enough for the JIT to settle.
const vigilOut = join(dir, 'vigil-stalls.json');
const child = await startVigil({ root, home: join(dir, 'vigil'), sections: variants[variant], cpu: settings.proxyCpu,
  flags: [`--import=${probe}`], env: { ...process.env, VIGIL_BENCH_STALLS_OUT: vigilOut } });
const slowOut = join(dir, 'slow.json');
const measuredFrom = Date.now() + settings.warmup * 1000;
const result = await openLoop(`http://127.0.0.1:${vigilPort}/v1/chat/completions`, settings.warmup, slowOut);
await stop(child);
await stop(upstream);
const slow: [number, number][] = JSON.parse(readFileSync(slowOut, 'utf8'));
const seen = readProbe(vigilOut);
const window = { gcs: seen.gcs.filter((g) => g[0] >= measuredFrom), gaps: seen.gaps.filter((g) => g[0] >= measuredFrom) };
const cause = slow.map(([t, len]) => window.gcs.some((g) => overlaps(t, len, g)) ? 'gc' : window.gaps.some((g) => overlaps(t, len, g)) ? 'gap' : 'elsewhere');
const count = (c: string) => cause.filter((x) => x === c).length;
console.log(`${variant} at ${settings.rate} req/s after ${settings.warmup} s of warm-up, ${settings.seconds} s measured: p50 ${ms(result.p50)} p90 ${ms(result.p90)} p99 ${ms(result.p99)} ms (added p50 ${ms(result.p50 - direct.p50)}, p99 ${ms(result.p99 - direct.p99)}), generator send lag p99 ${ms(result.sendLagP99)} ms, errors ${result.errors}`);
console.log(`  gateway GC pauses: scavenges ${summary(window.gcs.filter((g) => g[2] === 1).map((g) => g[1]))}; mark-compacts ${summary(window.gcs.filter((g) => g[2] === 4).map((g) => g[1]))}`);
const plainGaps = window.gaps.filter((g) => !window.gcs.some((c) => overlaps(g[0], g[1], c)));
console.log(`  gateway event-loop gaps over 2 ms with no GC in them: ${summary(plainGaps.map((g) => g[1]))}; the process ran ${plainGaps.reduce((a, g) => a + g[2], 0).toFixed(0)} ms of CPU during them`);
console.log(`  requests over 1.5 ms: ${slow.length} of ${result.sent} (${(100 * slow.length / result.sent).toFixed(2)} %): during a GC pause ${count('gc')}, during another event-loop gap ${count('gap')}, neither (load core) ${count('elsewhere')}`);
