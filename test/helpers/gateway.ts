// Starts the real gateway as a child process (`node src/main.ts serve`) on a free port with a config
// written from a JS object, waits for /readyz, and captures its stdout log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** The pinned Node 24 (the machines' system node is 20). */
export const NODE_BIN = join(REPO_ROOT, 'node_modules/.bin/node');
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export interface Gateway {
  url: string;
  /** SIGTERM, then wait for the process to exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** Captured stdout lines (the gateway logs one JSON object per line). */
  logs(): string[];
  /** The stdout lines that parse as JSON objects. */
  logRecords(): Record<string, any>[];
  /** Resolves with the first log record matching `pred`, polling until timeoutMs. */
  waitForLog(pred: (record: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** Captured stderr text. */
  stderr(): string;
  /** The exit code once the process has exited (null while it runs or when a signal ended it). */
  exitCode(): number | null;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => { server.once('error', fail); server.listen(0, '127.0.0.1', ok); });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

const delay = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export async function startGateway(config: Record<string, any>, env: Record<string, string> = {}): Promise<Gateway> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-e2e-'));
  const configPath = join(dir, 'vigil.yaml');
  const dataDir = join(dir, 'data');
  const withHost = { ...config, server: { host: '127.0.0.1', ...config.server } };
  await writeFile(configPath, stringify(withHost));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;

  const child = spawn(NODE_BIN, ['src/main.ts', 'serve', '--config', configPath, '--port', String(port)], {
    cwd: REPO_ROOT,
    env: { ...process.env, VIGIL_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let errText = '';
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { errText += text; });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  let hasExited = false;
  void exited.then(() => { hasExited = true; });

  const output = () => `--- gateway stdout ---\n${lines.join('\n')}\n--- gateway stderr ---\n${errText}`;
  const stop = async () => {
    if (!hasExited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitReady(url, child, () => hasExited);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nconfig:\n${stringify(withHost)}\n${output()}`);
  }

  const logRecords = () => lines.flatMap((line) => {
    try {
      const value = JSON.parse(line);
      return typeof value === 'object' && value !== null ? [value] : [];
    } catch { return []; }
  });
  return {
    url,
    stop,
    logs: () => [...lines],
    logRecords,
    stderr: () => errText,
    exitCode: () => child.exitCode,
    async waitForLog(pred, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logRecords().find(pred);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching gateway log line within ${timeoutMs} ms\n${output()}`);
        await delay(25);
      }
    },
  };
}

async function waitReady(url: string, child: ChildProcess, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error(`gateway exited before it was ready (exit code ${child.exitCode}, signal ${child.signalCode})`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `GET /readyz answered ${res.status}`;
    } catch (err) {
      last = `GET /readyz failed: ${(err as Error).message}`;
    }
    await delay(100);
  }
  throw new Error(`gateway not ready within ${READY_TIMEOUT_MS} ms (${last})`);
}
