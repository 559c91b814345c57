// `vigil keys …`, `usage report` and `audit export` against the data dir of a RUNNING gateway (SQLite): the
// CLI writes, the gateway notices within a second; listings never print a secret.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { RUNTIME_FLAGS } from '../../bin/runtime-flags.js';
import { NODE_BIN, REPO_ROOT, startGateway, type Gateway } from '../helpers/gateway.ts';
import { within } from '../helpers/within.ts';

const PRICE = { input_per_mtok: 1000, output_per_mtok: 3000 };
const CONFIG = {
  store: { flush_interval_ms: 50, refresh_ms: 200 },
  providers: { mock: { kind: 'mock' } },
  models: [{ name: 'mock-chat', provider: 'mock', pricing: PRICE }],
};
const dir = mkdtempSync(join(tmpdir(), 'vigil-keys-cli-'));
const dataDir = join(dir, 'data');
const configPath = join(dir, 'vigil.yaml');
let gateway: Gateway;

before(async () => {
  writeFileSync(configPath, stringify(CONFIG));
  gateway = await startGateway(CONFIG, { VIGIL_DATA_DIR: dataDir });
});
after(async () => {
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function vigil(...args: string[]) {
  const run = spawnSync(NODE_BIN, [...RUNTIME_FLAGS, join(REPO_ROOT, 'bin/vigil.js'), ...args, '-c', configPath], {
    cwd: REPO_ROOT, env: { ...process.env, VIGIL_DATA_DIR: dataDir }, encoding: 'utf8', timeout: 20_000,
  });
  return { ...run, lines: run.stdout.trimEnd().split('\n') };
}

const chat = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 })
  .chat.completions.create({ model: 'mock-chat', messages: [{ role: 'user', content: 'hello from the cli test' }] });

const refused = (key: string) => chat(key).then(() => assert.fail('the key still works'), (err) => assert.equal(err.status, 401, String(err)));

test('keys issue on a running open gateway: the key works within a second and the gateway closes; revoke stops it', async () => {
  await chat('anything'); // open: no key exists yet
  const issued = vigil('keys', 'issue', '--name', 'cli', '--user', 'ana', '--team', 'ml', '--rpm', '100', '--expires', '30d', '--metadata', 'env=test');
  assert.equal(issued.status, 0, issued.stderr);
  const key = issued.lines.at(-1)!;
  assert.match(key, /^vk-[A-Za-z0-9_-]{43}$/);
  const id = /issued key (\S+)/.exec(issued.stdout)![1];
  // Until the gateway has seen the key it is still open (a call with any key is anonymous); then it is closed.
  await within(1000, () => chat('no-such-key').then(() => assert.fail('still open'), (err) => assert.equal(err.status, 401)));
  const reply = await chat(key);
  assert.ok(reply.usage!.prompt_tokens > 0);

  const list = vigil('keys', 'list');
  assert.equal(list.status, 0, list.stderr);
  assert.deepEqual(list.lines.map((l) => l.split('\t')), [[id, 'active', 'cli', 'ana', 'ml']]);
  const show = vigil('keys', 'show', id);
  const view = JSON.parse(show.stdout);
  assert.deepEqual([view.id, view.rpm, view.metadata, view.state], [id, 100, { env: 'test' }, 'active']);
  for (const out of [list.stdout, show.stdout]) assert.ok(!out.includes(key) && !out.includes(key.slice(3, 20)), 'no secret printed');

  const expected = (reply.usage!.prompt_tokens * PRICE.input_per_mtok + reply.usage!.completion_tokens * PRICE.output_per_mtok) / 1e6;
  const row = await within(3000, async () => { // the gateway writes usage in batches
    const report = vigil('usage', 'report', '--by', 'key', '--granularity', 'total', '--json');
    assert.equal(report.status, 0, report.stderr);
    const found = JSON.parse(report.stdout).data.find((r: any) => r.key === id);
    assert.ok(found, report.stdout);
    return found;
  });
  assert.deepEqual([row.requests, row.cost_usd], [1, Math.round(expected * 1e6) / 1e6]);

  const revoked = vigil('keys', 'revoke', id);
  assert.equal(revoked.status, 0, revoked.stderr);
  await within(1000, () => refused(key));

  const file = join(dir, 'audit.jsonl');
  const exported = vigil('audit', 'export', file, '--event-type', 'key.revoked');
  assert.equal(exported.status, 0, exported.stderr);
  const events = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(events.map((e) => [e.type, e.actor, e.target]), [['key.revoked', 'cli', id]]);
});

test('keys rotate prints the new key last; errors are one stderr line and exit 1', async () => {
  const issued = vigil('keys', 'issue', '--name', 'rotating');
  const id = /issued key (\S+)/.exec(issued.stdout)![1];
  const rotated = vigil('keys', 'rotate', id, '--grace', '1h');
  assert.equal(rotated.status, 0, rotated.stderr);
  const next = rotated.lines.at(-1)!;
  await within(1000, () => chat(next));
  await chat(issued.lines.at(-1)!); // within the grace

  for (const args of [['keys', 'show', 'key_nope'], ['keys', 'revoke', 'key_nope'], ['keys', 'issue', '--name', 'x', '--expires', '3w']]) {
    const run = vigil(...args);
    assert.equal(run.status, 1, args.join(' '));
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
  }
  assert.match(vigil('keys', 'show', 'key_nope').stderr, /no key has id key_nope/);
});
