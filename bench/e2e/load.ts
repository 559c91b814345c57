// What every end-to-end benchmark starts from: the fake upstream (nginx, pinned), closed-loop load with
// wrk, whose one-line JSON result (wrk-post.lua) is parsed here, and open-loop load at a fixed rate
// (open-loop.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ports, upstreamConf } from './nginx.ts';
import { portOpen, runPinned, startPinned, waitReady } from './procs.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface WrkResult {
  requests: number;
  duration_us: number;
  bytes: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  status_errors: number;
  timeouts: number;
  p50_us: number;
  p99_us: number;
}

/** The fake upstream on `cpu`: static JSON on ports.upstream, a static SSE stream on ports.upstreamSse. */
export async function startUpstream(dir: string, cpu: number): Promise<ChildProcess> {
  for (const sub of ['', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), upstreamConf(dir, cpu === 1 ? '10' : '01'));
  const log = join(dir, 'stdout.log');
  const upstream = startPinned(cpu, 'nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], log);
  await waitReady(upstream, log, async () => (await portOpen(ports.upstream)) && portOpen(ports.upstreamSse));
  return upstream;
}

/** `seconds` of closed-loop POSTs of `bodyFile` to `url` from `connections` connections, wrk pinned to `cpu`. */
export async function wrk(opts: { cpu: number; url: string; headers: string[]; bodyFile: string; seconds: number; connections: number }): Promise<WrkResult> {
  const out = await runPinned(opts.cpu, 'wrk', [
    '-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '10s', '-s', join(here, 'wrk-post.lua'), opts.url,
  ], (opts.seconds + 30) * 1000, { ...process.env, BENCH_BODY_FILE: opts.bodyFile, BENCH_HEADERS: opts.headers.join('\n') });
  const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  return JSON.parse(line.slice('WRK_RESULT '.length));
}

/**
 * Open-loop load at `rate` req/s from open-loop.ts pinned to `cpu`: `warmup` s unmeasured, then `seconds`
 * measured; its JSON result (percentiles in ms, counts). `slowOut` also gets every request over 1.5 ms.
 */
export async function openLoop(opts: {
  cpu: number; url: string; model: string; headers: string[]; rate: number; seconds: number; warmup: number;
  slowOut?: string; graceSeconds?: number; api?: 'chat' | 'responses';
}): Promise<any> {
  const args = [join(here, 'open-loop.ts'), '--url', opts.url, '--model', opts.model, '--api', opts.api ?? 'chat', '--rate', String(opts.rate),
    '--duration', String(opts.seconds), '--warmup', String(opts.warmup), ...opts.headers.flatMap((h) => ['--header', h]),
    ...(opts.slowOut ? ['--slow-out', opts.slowOut] : [])];
  const out = await runPinned(opts.cpu, process.execPath, args, (opts.seconds + opts.warmup + (opts.graceSeconds ?? 40)) * 1000);
  return JSON.parse(out.trim().split('\n').pop()!);
}
