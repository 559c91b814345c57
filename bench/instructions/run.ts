// Instructions per request, counted by valgrind's callgrind: the same work gives the same count (±1 %
// with telemetry off) however busy the VM is, where throughput and CPU time here drift by 10–30 % between
// runs. That makes it the way to price a code change in one run. Variants that make more garbage vary
// more (±12 % as shipped), by whether a mark-compact falls inside the window: raise BENCH_REQUESTS.
// It counts user-space instructions of every thread (JIT code, GC, libuv), not kernel time (socket
// writes, ~25 µs a request here) nor cache misses: it prices the gateway's own work, while bench/e2e
// stays the measure of speed.
//
// For each Vigil variant: start it under callgrind (on both CPUs, see below), send warm-up requests so
// the JIT settles (telemetry off: 455k instructions a request after 3,000, 287k after 15,000 and after
// 30,000; the hot path reaches TurboFan only after ~10,000 requests), zero the counters, send a fixed
// number of requests (closed loop, 8 connections), dump, and divide. The fake upstream is the same nginx as bench/e2e's.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { post } from '../e2e/client.ts';
import { chatRequest } from '../e2e/fixtures.ts';
import { startUpstream } from '../e2e/load.ts';
import { killAll, startPinned, stop, waitReady } from '../e2e/procs.ts';
import { vigilConfig, vigilPort, vigilVariants } from '../e2e/targets.ts';
import { RUNTIME_FLAGS } from '../../bin/runtime-flags.js';
import { instructionsByFunction } from './by-function.ts';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const settings = {
  warmup: Number(env('BENCH_WARMUP_REQUESTS', '15000')),
  requests: Number(env('BENCH_REQUESTS', '2000')),
  concurrency: 8,
  only: env('BENCH_TARGETS', Object.keys(vigilVariants()).join(',')).split(','),
  /** When set, the N functions (JavaScript included, see by-function.ts) with the most instructions per request. */
  byFunction: Number(env('BENCH_BY_FUNCTION', '0')),
};
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'vigil-instr-'));
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
process.on('exit', () => { killAll(); rmSync(dir, { recursive: true, force: true }); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
setTimeout(() => { log('watchdog: run exceeded 20 minutes, stopping'); process.exit(2); }, 20 * 60_000).unref();

const upstream = await startUpstream(join(dir, 'upstream'), 1);

const body = chatRequest('bench-model', false);
const target = { url: new URL(`http://127.0.0.1:${vigilPort}/v1/chat/completions`), headers: { 'content-type': 'application/json' } };

/** `count` requests, `settings.concurrency` at a time; every one must succeed. */
async function load(count: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: settings.concurrency });
  let next = 0;
  const worker = async () => {
    while (next++ < count) {
      const reply = await post(agent, target, body, 120_000);
      if (reply.status !== 200) throw new Error(`status ${reply.status}`);
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, worker));
  agent.destroy();
}

const results: { name: string; perRequest: number }[] = [];
for (const [name, sections] of Object.entries(vigilVariants())) {
  if (!settings.only.includes(name)) continue;
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, vigilConfig(join(dir, `${name}-data`), sections));
  const out = join(dir, `${name}.callgrind`);
  const logFile = join(dir, `${name}.log`);
  // The runtime flags of bin/vigil.js, as in bench/e2e. Both CPUs: callgrind runs one thread at a time
  // anyway, and on one CPU Vigil lowers V8's background threads to nice 10 (server/v8-threads.ts), a
  // scheduling choice that valgrind's serialised threads distort; bench/e2e prices it in wall-clock time.
  const child = startPinned('0,1', 'valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, '--smc-check=all-non-file',
    process.execPath, ...RUNTIME_FLAGS, ...(settings.byFunction ? ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${join(dir, `${name}-v8.log`)}`] : []), join(root, 'src/main.ts'), 'serve', '--config', config], logFile);
  await waitReady(child, logFile, async () => (await fetch(`http://127.0.0.1:${vigilPort}/readyz`)).ok, 300_000);
  log(`${name}: ${settings.warmup} warm-up requests`);
  await load(settings.warmup);
  execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' });
  await load(settings.requests);
  execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
  // The dump after zeroing is the second file (<out>.1): only the measured requests.
  const dump = `${out}.1`;
  if (!existsSync(dump)) throw new Error(`no callgrind dump for ${name}`);
  const totals = /^totals: (\d+)/m.exec(readFileSync(dump, 'utf8'));
  if (!totals) throw new Error(`no totals in the callgrind dump for ${name}`);
  results.push({ name, perRequest: Number(totals[1]) / settings.requests });
  log(`${name}: ${Math.round(Number(totals[1]) / settings.requests)} instructions per request`);
  if (settings.byFunction) {
    const rows = instructionsByFunction(dump, `/tmp/perf-${child.pid}.map`, settings.requests, root).slice(0, settings.byFunction);
    console.log(`\n${name}, instructions per request by function (self):\n${rows.map((r) => `${Math.round(r.perRequest).toLocaleString('en').padStart(9)}  ${r.name.slice(0, 140)}`).join('\n')}\n`);
    rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
  }
  await stop(child, 2000);
}
await stop(upstream);

const off = results.find((r) => r.name === 'vigil-telemetry-off')?.perRequest;
console.log(`| target | instructions per request | vs telemetry off |\n|---|--:|--:|`);
for (const r of results) {
  const ratio = off ? `${r.perRequest >= off ? '+' : ''}${((r.perRequest / off - 1) * 100).toFixed(1)} %` : '';
  console.log(`| ${r.name} | ${Math.round(r.perRequest).toLocaleString('en')} | ${ratio} |`);
}
console.log(`\n${settings.requests} requests after ${settings.warmup} warm-up, ${settings.concurrency} connections, node ${process.version}`);
