// Stopping through the real bin/vigil.js path (the pinned Node started without the runtime flags, so the
// wrapper re-runs the gateway as a child): a signal to the whole process group drains exactly once, a
// second signal hurries the drain after saying so, the child drains when the wrapper dies, and every
// request in flight ends up in the usage ledger. Each case runs several rounds: the double delivery this
// guards against lost the race about half the time.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { freePort, NODE_BIN, REPO_ROOT } from '../helpers/gateway.ts';
import { ledgerRows } from '../helpers/ledger.ts';

const ROUNDS = 10;
/** Rounds run this many at a time: each is a process group of its own, and most of a round is start-up. */
const AT_ONCE = 3;
const delay = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function rounds(run: (round: number) => Promise<void>): Promise<void> {
  let next = 1;
  const lane = async () => { for (let round = next++; round <= ROUNDS; round = next++) await run(round); };
  await Promise.all(Array.from({ length: AT_ONCE }, lane));
}

interface Wrapped {
  url: string;
  wrapper: ChildProcess;
  /** The gateway process bin/vigil.js started. */
  childPid: number;
  records(): Record<string, any>[];
  stderr(): string;
  /** The wrapper's exit code, or 128 + n for a signal. */
  exited: Promise<number>;
  /** Resolves when every process holding the output pipe (wrapper and gateway) has exited. */
  outputClosed: Promise<void>;
  usageRows(): Record<string, any>[];
}

interface Start {
  /** Reply length at 20 tokens a second. */
  tokens: number;
  /** `node src/main.ts serve` rather than `node bin/vigil.js serve`. */
  direct?: boolean;
  workers?: number;
}

/** The gateway in a process group of its own, so the test can signal the group, on a slow mock. */
async function startWrapped(t: { after(fn: () => unknown): void }, { tokens, direct = false, workers = 1 }: Start): Promise<Wrapped> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-signals-'));
  const config = join(dir, 'vigil.yaml');
  writeFileSync(config, stringify({
    server: { workers },
    store: { flush_interval_ms: 5000 }, // usage records still queued at the signal: the drain must write them
    providers: { mock: { kind: 'mock', stream_tokens_per_second: 20, completion_tokens: tokens } },
    models: [{ name: 'mock-chat', provider: 'mock' }],
  }));
  const port = await freePort();
  const entry = direct ? ['--disable-warning=ExperimentalWarning', 'src/main.ts'] : ['bin/vigil.js'];
  const wrapper = spawn(NODE_BIN, [...entry, 'serve', '--config', config, '--port', String(port)], {
    cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VIGIL_DATA_DIR: dir },
  });
  const lines: string[] = [];
  let errText = '';
  const outputClosed = new Promise<void>((ok) => createInterface({ input: wrapper.stdout! }).on('line', (line) => lines.push(line)).once('close', ok));
  wrapper.stderr!.setEncoding('utf8').on('data', (text: string) => { errText += text; });
  const exited = new Promise<number>((ok) => wrapper.once('exit', (code, signal) => ok(code ?? 128 + (signal === 'SIGKILL' ? 9 : 0))));
  let childPid = 0;
  t.after(() => {
    for (const pid of [wrapper.pid!, childPid]) try { if (pid) process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  });
  const records = () => lines.flatMap((line) => { try { return [JSON.parse(line)]; } catch { return []; } });
  const deadline = Date.now() + 15_000;
  // Every worker: one still starting has no stop handling yet, and a signal ends it outright.
  while (records().filter((r) => r.msg === 'vigil listening').length < workers) {
    if (Date.now() > deadline || wrapper.exitCode !== null) assert.fail(`gateway not listening\n${lines.join('\n')}\n${errText}`);
    await delay(25);
  }
  childPid = direct ? wrapper.pid! : Number(spawnSync('ps', ['-o', 'pid=', '--ppid', String(wrapper.pid)], { encoding: 'utf8' }).stdout.trim());
  assert.ok(childPid > 0, 'bin/vigil.js runs the gateway as a child');
  return {
    url: `http://127.0.0.1:${port}`, wrapper, childPid, records, stderr: () => errText, exited, outputClosed,
    usageRows: () => ledgerRows(dir).map(({ status, output_tokens, stream }) => ({ status, output_tokens, stream })),
  };
}

/** A streamed chat request, resolved once its first chunk has arrived; `rest` is the remaining text. */
async function streamStarted(url: string): Promise<{ rest: Promise<string> }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-chat', stream: true, messages: [{ role: 'user', content: 'stop me' }] }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value);
  const rest = (async () => {
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value);
    } catch { /* cut by the gateway */ }
    return text;
  })();
  return { rest };
}

const portFree = async (url: string) => fetch(`${url}/healthz`).then(() => false, () => true);

test('bin/vigil.js, a signal to the whole process group: one drain, the stream finishes, exit 0, usage written', async (t) => {
  await rounds(async (round) => {
    const gateway = await startWrapped(t, { tokens: 8 });
    const { rest } = await streamStarted(gateway.url);
    process.kill(-gateway.wrapper.pid!, 'SIGTERM'); // wrapper and (were it in the group) gateway alike
    const body = await rest;
    const code = await gateway.exited;
    await gateway.outputClosed;
    const where = `round ${round}\n${gateway.records().map((r) => JSON.stringify(r)).join('\n')}\n${gateway.stderr()}`;
    assert.equal(code, 0, where);
    assert.match(body, /data: \[DONE\]/, `the stream ran to its end, ${where}`);
    const records = gateway.records();
    assert.equal(records.filter((r) => r.msg === 'draining').length, 1, where);
    assert.equal(records.find((r) => r.msg === 'draining')?.signal, 'SIGTERM');
    assert.ok(records.some((r) => r.msg === 'stopped'), where);
    assert.ok(!records.some((r) => /^second /.test(r.msg)), `one group signal is not a second signal, ${where}`);
    assert.deepEqual(gateway.usageRows(), [{ status: 200, output_tokens: 8, stream: 1 }], where);
    assert.ok(await portFree(gateway.url));
  });
});

test('bin/vigil.js, a second group signal during the drain: said at warn, stream cut and recorded, exit 128+15', async (t) => {
  await rounds(async (round) => {
    const gateway = await startWrapped(t, { tokens: 200 }); // a 10 s stream: still running at the second signal
    const { rest } = await streamStarted(gateway.url);
    process.kill(-gateway.wrapper.pid!, 'SIGTERM');
    await delay(1100); // past the window in which a repeat counts as the same signal delivered twice
    const secondAt = Date.now();
    process.kill(-gateway.wrapper.pid!, 'SIGTERM');
    const body = await rest;
    const code = await gateway.exited;
    const tookMs = Date.now() - secondAt;
    await gateway.outputClosed;
    const records = gateway.records();
    const where = `round ${round}\n${records.map((r) => JSON.stringify(r)).join('\n')}\n${gateway.stderr()}`;
    assert.equal(code, 143, where);
    assert.ok(tookMs < 3000, `exited ${tookMs} ms after the second signal`);
    assert.doesNotMatch(body, /data: \[DONE\]/, 'the stream was cut');
    const second = records.find((r) => r.msg === 'second SIGTERM: exiting now without finishing the drain');
    assert.equal(second?.level, 'warn', where);
    assert.ok(records.findIndex((r) => r.msg === 'draining') < records.indexOf(second));
    assert.equal(records.find((r) => r.msg === 'stopped')?.exit_code, 143, where);
    const rows = gateway.usageRows();
    assert.equal(rows.length, 1, `the cut stream is recorded, ${where}`);
    assert.equal(rows[0].status, 503);
    assert.ok(await portFree(gateway.url));
  });
});

test('bin/vigil.js killed outright: its gateway notices, drains and exits instead of serving on as an orphan', async (t) => {
  const gateway = await startWrapped(t, { tokens: 8 });
  const { rest } = await streamStarted(gateway.url);
  gateway.wrapper.kill('SIGKILL');
  assert.match(await rest, /data: \[DONE\]/, 'the stream in flight still finished');
  await gateway.outputClosed; // the gateway held the pipe too: closed means it has exited
  const records = gateway.records();
  assert.equal(records.find((r) => r.msg === 'draining')?.signal, 'parent-exited');
  assert.ok(records.some((r) => r.msg === 'stopped'));
  assert.deepEqual(gateway.usageRows(), [{ status: 200, output_tokens: 8, stream: 1 }]);
  assert.ok(await portFree(gateway.url));
});

test('the same signal twice within a moment (Ctrl-C under npm: the group gets it and npm forwards it): one drain, exit 0', async (t) => {
  const gateway = await startWrapped(t, { tokens: 8, direct: true });
  const { rest } = await streamStarted(gateway.url);
  process.kill(gateway.childPid, 'SIGINT');
  await delay(50); // npm's copy comes once its own handler has run
  process.kill(gateway.childPid, 'SIGINT');
  assert.match(await rest, /data: \[DONE\]/);
  assert.equal(await gateway.exited, 0, gateway.stderr());
  const records = gateway.records();
  assert.equal(records.filter((r) => r.msg === 'draining').length, 1);
  assert.ok(!records.some((r) => /^second /.test(r.msg)));
  assert.deepEqual(gateway.usageRows(), [{ status: 200, output_tokens: 8, stream: 1 }]);
});

test('server.workers: 2, a signal to the whole group: each worker drains once (the signal and the primary\'s message are one request)', async (t) => {
  const gateway = await startWrapped(t, { tokens: 8, direct: true, workers: 2 });
  const { rest } = await streamStarted(gateway.url);
  process.kill(-gateway.wrapper.pid!, 'SIGTERM'); // the primary and both workers
  assert.match(await rest, /data: \[DONE\]/);
  assert.equal(await gateway.exited, 0, gateway.stderr());
  const records = gateway.records();
  const where = records.map((r) => JSON.stringify(r)).join('\n');
  assert.equal(records.filter((r) => r.msg === 'draining').length, 2, `one drain per worker\n${where}`);
  assert.ok(!records.some((r) => /^second /.test(r.msg)), where);
  assert.equal(records.filter((r) => r.msg === 'worker stopped' && r.code === 0).length, 2, where);
  assert.deepEqual(gateway.usageRows(), [{ status: 200, output_tokens: 8, stream: 1 }]);
});

test('server.workers: 2, a second signal to the primary only: it tells the workers to hurry, the cut stream is recorded', async (t) => {
  const gateway = await startWrapped(t, { tokens: 200, direct: true, workers: 2 });
  const { rest } = await streamStarted(gateway.url);
  gateway.wrapper.kill('SIGTERM'); // the primary only, as a container runtime signals PID 1
  await delay(1100);
  gateway.wrapper.kill('SIGTERM');
  assert.doesNotMatch(await rest, /data: \[DONE\]/, 'the stream was cut');
  assert.equal(await gateway.exited, 1, gateway.stderr());
  const records = gateway.records();
  const where = records.map((r) => JSON.stringify(r)).join('\n');
  assert.ok(records.some((r) => r.level === 'warn' && r.msg === 'second SIGTERM: telling the workers to stop without finishing the drain'), where);
  assert.ok(records.some((r) => r.level === 'warn' && r.msg === 'second SIGTERM: exiting now without finishing the drain'), where);
  assert.deepEqual(gateway.usageRows().map((row) => row.status), [503]);
});
