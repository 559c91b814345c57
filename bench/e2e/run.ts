// End-to-end overhead benchmark: direct vs nginx vs Portkey vs Vigil against one fake upstream.
// Run through `npm run bench` (bench/e2e/run.sh), which installs nginx, wrk and bench/node_modules first.
// The proxy under test gets the proxy core alone; this script, the upstream and the load generators
// share the other core. Every phase is bounded in time and everything started here is killed on exit.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ports } from './nginx.ts';
import { openLoop as openLoopLoad, startUpstream, wrk as closedLoop } from './load.ts';
import { maxThroughputRounds, median, type MaxSample } from './rounds.ts';
import { chatRequest } from './fixtures.ts';
import { parseHeaders, post } from './client.ts';
import { killAll, portOpen, runPinned, stop } from './procs.ts';
import { treeCpuSeconds } from './cpu.ts';
import { targets, type Ctx, type Target } from './targets.ts';
import { machineInfo, systemBusySeconds, waitQuiet } from './machine.ts';
import { renderMarkdown, type TargetResult } from './report.ts';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const settings = {
  rates: env('BENCH_RATES', '200,1000,2000').split(',').map(Number),
  rateSeconds: Number(env('BENCH_RATE_SECONDS', '10')),
  rateWarmupSeconds: Number(env('BENCH_RATE_WARMUP_SECONDS', '3')),
  settleRequests: Number(env('BENCH_SETTLE_REQUESTS', '12000')),
  maxSeconds: Number(env('BENCH_MAX_SECONDS', '10')),
  maxRounds: Number(env('BENCH_MAX_ROUNDS', '3')),
  maxConnections: Number(env('BENCH_MAX_CONNECTIONS', '64')),
  ttfbCount: Number(env('BENCH_TTFB_COUNT', '300')),
  quietWaitSeconds: Number(env('BENCH_QUIET_WAIT_SECONDS', '60')),
  only: env('BENCH_TARGETS', targets.map((t) => t.name).join(',')).split(','),
  proxyCpu: 0,
  loadCpu: 1,
};
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
const ctx: Ctx = { dir, root, proxyCpu: settings.proxyCpu, node: process.execPath };
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

// Hard stop for the whole run, whatever hangs.
const watchdog = setTimeout(() => { log('watchdog: run exceeded 20 minutes, stopping'); cleanup(); process.exit(2); }, 20 * 60_000);
function cleanup() { killAll(); rmSync(dir, { recursive: true, force: true }); }
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => { cleanup(); process.exit(130); });

const bodyFile = join(dir, 'request.json');
writeFileSync(bodyFile, chatRequest('bench-model', false));

const wrk = (target: Target, seconds: number) =>
  closedLoop({ cpu: settings.loadCpu, url: target.json.url, headers: target.json.headers, bodyFile, seconds, connections: settings.maxConnections });

const headerArgs = (headers: string[]) => headers.flatMap((h) => ['--header', h]);

const openLoop = (target: Target, rate: number, seconds = settings.rateSeconds, warmup = settings.rateWarmupSeconds) =>
  openLoopLoad({ cpu: settings.loadCpu, url: target.json.url, model: target.json.model, headers: target.json.headers, rate, seconds, warmup });

async function ttfb(target: Target) {
  const args = [join(here, 'ttfb.ts'), '--url', target.stream.url, '--model', target.stream.model,
    '--count', String(settings.ttfbCount), '--warmup', '50', '--max-seconds', '30', ...headerArgs(target.stream.headers)];
  return JSON.parse(await runPinned(settings.loadCpu, process.execPath, args, 60_000));
}

/** One correct answer on each endpoint before anything is timed: a wrong setup must fail, not measure. */
async function smokeCheck(target: Target) {
  const agent = new http.Agent({ keepAlive: false });
  const check = async (ep: Target['json'], stream: boolean) => {
    const reply = await post(agent, { url: new URL(ep.url), headers: parseHeaders(ep.headers) }, chatRequest(ep.model, stream), 10_000);
    const good = reply.status === 200 && (stream ? reply.tail.includes('data: [DONE]') : reply.bytes > 100);
    if (!good) throw new Error(`smoke check ${stream ? 'stream' : 'json'}: status ${reply.status}, ${reply.bytes} bytes, tail ${JSON.stringify(reply.tail)}`);
  };
  await check(target.json, false);
  await check(target.stream, true);
}

/**
 * One target, every phase but maximum throughput (measured before, in interleaved rounds: `maxima`). CPU is
 * counted for the proxy's whole process tree (nginx workers included).
 */
async function measure(target: Target, maxima: MaxSample[]): Promise<TargetResult> {
  const otherBefore = await waitQuiet(process.pid, settings.quietWaitSeconds * 1000);
  if (otherBefore >= 0.15) log(`${target.name}: machine still busy (${Math.round(otherBefore * 100)}% of a core used by other processes); measuring anyway`);
  const busy0 = systemBusySeconds(), own0 = treeCpuSeconds(process.pid), t0 = Date.now();
  const child = target.start ? await target.start(ctx) : undefined;
  const cpu = () => (child ? treeCpuSeconds(child.pid!) : NaN);
  try {
    await smokeCheck(target);
    log(`${target.name}: warm-up`);
    await wrk(target, 3);
    const maxRps = median(maxima.map((m) => m.rps));
    // The open-loop client's requests differ from wrk's (headers, connection use): in a JIT-compiled gateway
    // they deoptimise the hot path, which then needs ~10,000 requests to settle again (BENCHMARKS.md, tenth
    // session). Send those first, at 70 % of the target's maximum (at most 2,000 req/s), and discard them.
    if (settings.settleRequests > 0) {
      const settleRate = Math.min(2000, Math.floor(0.7 * maxRps));
      log(`${target.name}: settling (${settings.settleRequests} requests at ${settleRate} req/s, not measured)`);
      await openLoop(target, settleRate, Math.ceil(settings.settleRequests / settleRate), 0);
    }
    const rates = [];
    for (const rate of settings.rates) {
      log(`${target.name}: ${rate} req/s open loop`);
      const c0 = cpu();
      const r = await openLoop(target, rate);
      const sent = Math.round(rate * (settings.rateSeconds + settings.rateWarmupSeconds));
      rates.push({ ...r, cpuUsPerRequest: child ? ((cpu() - c0) * 1e6) / sent : null });
    }
    log(`${target.name}: streaming time to first byte`);
    const stream = await ttfb(target);
    const busy = systemBusySeconds() - busy0, own = treeCpuSeconds(process.pid) - own0;
    return {
      name: target.name, status: 'ok', otherCpuShareBefore: otherBefore, wallSeconds: (Date.now() - t0) / 1000, foreignCpuSeconds: Math.max(0, busy - own),
      max: {
        rps: maxRps, cpuUsPerRequest: child ? median(maxima.map((m) => m.cpuUs!)) : null,
        rounds: maxima.map((m) => ({ rps: m.rps, cpuUsPerRequest: m.cpuUs })),
      },
      rates, stream,
    };
  } finally {
    if (child) await stop(child);
  }
}

async function main() {
  for (const port of [...Object.values(ports), 18787, 18090]) {
    if (await portOpen(port)) throw new Error(`port ${port} is already in use on 127.0.0.1; stop whatever holds it first`);
  }
  const upstream = await startUpstream(join(dir, 'upstream'), settings.loadCpu);

  const startedAt = new Date().toISOString();
  const results: TargetResult[] = [];
  const runnable: Target[] = [];
  for (const target of targets.filter((t) => settings.only.includes(t.name))) {
    const why = target.skip?.(ctx);
    if (why) { log(`${target.name}: skipped: ${why}`); results.push({ name: target.name, status: 'skipped', reason: why }); }
    else runnable.push(target);
  }
  await waitQuiet(process.pid, settings.quietWaitSeconds * 1000);
  log(`maximum throughput: ${settings.maxRounds} interleaved rounds of ${settings.maxSeconds} s, ${settings.maxConnections} connections`);
  const maxima = await maxThroughputRounds(runnable, {
    ctx, rounds: settings.maxRounds, seconds: settings.maxSeconds, warmupSeconds: 3, connections: settings.maxConnections,
    loadCpu: settings.loadCpu, bodyFile, log,
  });
  for (const target of runnable) {
    const failed = maxima.failed.get(target.name);
    if (failed) { results.push({ name: target.name, status: 'failed', reason: failed }); continue; }
    try {
      results.push(await measure(target, maxima.samples.get(target.name)!));
    } catch (err) {
      log(`${target.name}: failed: ${(err as Error).message}`);
      results.push({ name: target.name, status: 'failed', reason: (err as Error).message.slice(0, 2000) });
    }
  }
  await stop(upstream);

  const report = { startedAt, finishedAt: new Date().toISOString(), command: 'npm run bench', machine: machineInfo(), settings, targets: results };
  const out = join(root, 'bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = renderMarkdown(report);
  writeFileSync(join(out, 'latest.md'), md);
  process.stdout.write(md);
  log(`wrote bench/results/latest.json and bench/results/latest.md`);
  if (process.argv.includes('--record')) recordInDoc(md);
}

/** `--record`: replace the generated block of BENCHMARKS.md with this run, so figures are never retyped. */
function recordInDoc(md: string) {
  const doc = join(root, 'BENCHMARKS.md');
  const text = readFileSync(doc, 'utf8');
  const start = '<!-- results:start -->', end = '<!-- results:end -->';
  const a = text.indexOf(start), b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`BENCHMARKS.md has no ${start} … ${end} block`);
  writeFileSync(doc, `${text.slice(0, a + start.length)}\n${md}${text.slice(b)}`);
  log('recorded the results in BENCHMARKS.md');
}

main().then(
  () => { clearTimeout(watchdog); cleanup(); process.exit(0); },
  (err) => { log((err as Error).stack ?? String(err)); clearTimeout(watchdog); cleanup(); process.exit(1); },
);
