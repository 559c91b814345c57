// What the numbers were measured on, and how busy the machine was besides the benchmark itself.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { clockTicksPerSecond, treeCpuSeconds } from './cpu.ts';

function version(cmd: string, args: string[]): string {
  // nginx prints its version on stderr, wrk on stdout (and exits 1).
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return ((r.stdout || '') + (r.stderr || '')).trim().split('\n')[0].replace(/ Copyright.*/, '') || 'unknown';
}

function packageVersion(path: string): string {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')).version : 'not installed';
}

export function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const mods = new URL('../node_modules/', import.meta.url).pathname;
  return {
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    cores: cpus().length, // not availableParallelism(): this process is pinned to one core
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    nginx: version('nginx', ['-v']),
    wrk: version('wrk', ['-v']),
    portkey: packageVersion(`${mods}@portkey-ai/gateway/package.json`),
    honoNodeServer: packageVersion(`${mods}@hono/node-server/package.json`),
    hono: packageVersion(`${mods}hono/package.json`),
  };
}

/** CPU seconds all cores spent busy so far (user, nice, system, irq, softirq, steal). */
export function systemBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / clockTicksPerSecond;
}

/**
 * The machine may be shared (tests, builds): wait, bounded, until everything other than this run uses
 * under `limit` of a core over one second. Returns the last measured share so the report can show it.
 */
export async function waitQuiet(ownPid: number, maxWaitMs: number, limit = 0.15): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let share = 0;
  do {
    const b0 = systemBusySeconds(), o0 = treeCpuSeconds(ownPid);
    await new Promise((r) => setTimeout(r, 1000));
    share = Math.max(0, systemBusySeconds() - b0 - (treeCpuSeconds(ownPid) - o0));
    if (share < limit) break;
  } while (Date.now() < deadline);
  return share;
}
