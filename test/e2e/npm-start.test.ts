// `npm start` under a supervisor that signals only npm's own process, as a container runtime signals
// PID 1: the gateway must get the signal, drain and exit, and free its port. npm runs the script through
// `sh -c`, which does not pass signals on: without `exec` in the script the gateway was orphaned, still
// serving.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { freePort, REPO_ROOT } from '../helpers/gateway.ts';

const delay = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Whether any process is left in the process group. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

test('npm start, SIGTERM to npm only: the gateway drains and exits, the port is freed, nothing is left running', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-npm-start-'));
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VIGIL_') && !name.startsWith('npm_')));
  // npm from PATH, in a process group of its own so that whatever it leaves behind can be found and killed.
  const npm = spawn('npm', ['start'], {
    cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, VIGIL_PORT: String(port), VIGIL_DATA_DIR: dir },
  });
  t.after(() => {
    if (groupAlive(npm.pid!)) process.kill(-npm.pid!, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const lines: string[] = [];
  let errText = '';
  createInterface({ input: npm.stdout! }).on('line', (line) => lines.push(line));
  npm.stderr!.setEncoding('utf8').on('data', (text: string) => { errText += text; });
  const npmExited = new Promise<number | null>((ok) => npm.once('exit', (code) => ok(code)));
  const records = () => lines.flatMap((line) => { try { return [JSON.parse(line)]; } catch { return []; } });
  const output = () => `${lines.join('\n')}\n${errText}`;

  const deadline = Date.now() + 20_000;
  while (!records().some((r) => r.msg === 'vigil listening')) {
    assert.ok(Date.now() < deadline && npm.exitCode === null, `gateway not listening\n${output()}`);
    await delay(50);
  }
  const url = `http://127.0.0.1:${port}`;
  assert.equal((await fetch(`${url}/healthz`)).status, 200);

  npm.kill('SIGTERM'); // npm's main process only, not its group
  await npmExited;
  const stoppedBy = Date.now() + 10_000;
  while (groupAlive(npm.pid!) && Date.now() < stoppedBy) await delay(50);
  assert.ok(!groupAlive(npm.pid!), `a process of npm start is still running after npm exited\n${output()}`);
  await assert.rejects(fetch(`${url}/healthz`), 'the port is free');
  assert.equal(records().find((r) => r.msg === 'draining')?.signal, 'SIGTERM', output());
  assert.equal(records().find((r) => r.msg === 'stopped')?.exit_code, 0, output());
});
