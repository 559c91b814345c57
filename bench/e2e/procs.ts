// Child processes of one benchmark run: spawned pinned to a core, logged to files, and all killed on exit.
// Each child leads its own process group, so a kill reaches its descendants too (nginx workers,
// cluster workers) — killing only an nginx master with SIGKILL would leave its worker listening.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import net from 'node:net';

const children = new Set<ChildProcess>();

/** Start `cmd` pinned to `cpu` (a CPU number or a taskset list such as '0,1'); stdout/stderr go to `log`. */
export function startPinned(cpu: number | string, cmd: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const fd = openSync(log, 'a');
  const child = spawn('taskset', ['-c', String(cpu), cmd, ...args], { stdio: ['ignore', fd, fd], env, detached: true });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  signalGroup(child, 'SIGKILL'); // anything of its group that outlived it
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try { process.kill(-child.pid!, signal); } catch { /* group already gone */ }
}

/** Last resort on exit, interrupt or watchdog: nothing this run started may outlive it. */
export function killAll(): void {
  for (const child of children) signalGroup(child, 'SIGKILL');
}

/** Run a pinned command to completion (bounded by `timeoutMs`) and return its stdout. */
export function runPinned(cpu: number, cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    children.add(child);
    let out = '', err = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { err += d; });
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), timeoutMs);
    // 'close', not 'exit': 'exit' can come before the last of stdout has been read, and wrk's one result
    // line came up empty that way (a bench:pair round, thirteenth session).
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${(err || out).slice(-2000)}`));
    });
  });
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Poll `ready` until it returns true; fail with the log tail if the child dies or time runs out. */
export async function waitReady(child: ChildProcess, log: string, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = readFileSync(log, 'utf8').slice(-2000);
  throw new Error(`not ready (${child.exitCode !== null ? `exited ${child.exitCode}` : 'timeout'}); log tail:\n${tail}`);
}
