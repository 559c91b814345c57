// Operating the gateway from the outside: health endpoints and their aliases, the CLI (`version`, `serve` on
// the embedded defaults), provider secrets from file:/env: references end to end, the example config, and
// pretty logs. Each test runs the real process and cleans up its ports, temp dirs and children.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { stringify } from 'yaml';
import { RUNTIME_FLAGS } from '../../bin/runtime-flags.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { NODE_BIN, REPO_ROOT, freePort, startGateway } from '../helpers/gateway.ts';
import { ledgerRows } from '../helpers/ledger.ts';
import { CLIENT_KEY, e2eConfig, rejectsAs, userMessage } from '../helpers/stack.ts';

const VIGIL_JS = join(REPO_ROOT, 'bin/vigil.js');
const PACKAGE_VERSION: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version;

/** The parent's environment without anything that would change what the child configures. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('VIGIL_') || name.endsWith('_API_KEY')) delete env[name];
  }
  return { ...env, ...extra };
}

/** `bin/vigil.js <args>` to completion, on the pinned Node with the npm start flags. */
function vigilCli(args: string[], env: NodeJS.ProcessEnv = childEnv(), cwd = REPO_ROOT) {
  return spawnSync(NODE_BIN, [...RUNTIME_FLAGS, VIGIL_JS, ...args], { cwd, env, encoding: 'utf8', timeout: 15_000 });
}

function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Served {
  url: string;
  lines(): string[];
  stderr(): string;
  /** SIGTERM, then the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

/**
 * `bin/vigil.js serve …` as `npm start` runs it, waiting for liveness (/healthz) only: unlike
 * helpers/gateway.ts this also starts a gateway that is not ready.
 */
async function serveVigil(t: TestContext, args: string[], port: number, env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Promise<Served> {
  const child = spawn(NODE_BIN, [...RUNTIME_FLAGS, VIGIL_JS, 'serve', '--port', String(port), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let errText = '';
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { errText += text; });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    return child.exitCode;
  };
  t.after(stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigil exited with ${child.exitCode}\n${lines.join('\n')}\n${errText}`);
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    if (res?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`vigil not live within 15 s\n${lines.join('\n')}\n${errText}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, lines: () => [...lines], stderr: () => errText, stop };
}

async function fakeUpstream(t: TestContext): Promise<FakeUpstream> {
  const fake = await startFakeUpstream();
  t.after(() => fake.close());
  return fake;
}

const LIVE_ROUTES = ['/healthz', '/health', '/health/live', '/livez'];

/** GET a health route: the expected status, an uncached JSON answer; its body. */
async function probe(url: string, route: string, status: number): Promise<unknown> {
  const res = await fetch(`${url}${route}`);
  assert.equal(res.status, status, route);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, route);
  assert.equal(res.headers.get('cache-control'), 'no-store', route);
  return res.json();
}
const READY_ROUTES = ['/readyz', '/health/ready'];

test('health: every liveness and readiness alias answers 200 JSON naming its components, and none calls the upstream', async (t) => {
  const fake = await fakeUpstream(t);
  const gateway = await startGateway(e2eConfig(fake.url));
  t.after(() => gateway.stop());
  fake.requests.length = 0;

  for (let round = 0; round < 3; round++) {
    for (const route of LIVE_ROUTES) {
      assert.deepEqual(await probe(gateway.url, route, 200), { status: 'ok', components: { process: { status: 'ok' } } }, route);
    }
    for (const route of READY_ROUTES) {
      assert.deepEqual(await probe(gateway.url, route, 200), {
        status: 'ok',
        components: {
          config: { status: 'ok' },
          store: { status: 'ok' },
          auth: { status: 'ok', detail: 'open' },
          lifecycle: { status: 'ok' },
          providers: { status: 'ok', detail: '3/3 routable' },
          routing: { status: 'ok', detail: 'all 32 deployments closed' },
        },
      }, route);
    }
  }
  assert.equal(fake.requests.length, 0, 'health checks never reach the upstream');

  // The counter works: one chat through the same provider is one upstream request.
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  await client.chat.completions.create({ model: 'ok', messages: userMessage('hi') });
  assert.equal(fake.requests.length, 1);
  assert.equal(fake.requests[0].path, '/v1/chat/completions');
});

test('readiness: with no routable provider /readyz and /health/ready answer 503 naming the failing components; liveness stays 200', async (t) => {
  const dir = tempDir(t, 'vigil-unready-');
  const fake = await fakeUpstream(t);
  const configPath = join(dir, 'vigil.yaml');
  writeFileSync(configPath, stringify({
    server: { host: '127.0.0.1' },
    providers: { upstream: { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: 'env:VIGIL_TEST_UNSET_OPS_KEY' } },
    models: [{ name: 'only-model', provider: 'upstream' }],
  }));
  const port = await freePort();
  const gateway = await serveVigil(t, ['--config', configPath], port, childEnv({ VIGIL_DATA_DIR: join(dir, 'data') }));

  for (const route of READY_ROUTES) {
    assert.deepEqual(await probe(gateway.url, route, 503), {
      status: 'fail',
      components: {
        config: { status: 'ok' },
        store: { status: 'ok' },
        auth: { status: 'ok', detail: 'open' },
        lifecycle: { status: 'ok' },
        providers: { status: 'fail', detail: 'no provider has usable credentials' },
        'provider:upstream': { status: 'fail', detail: 'api_key: environment variable VIGIL_TEST_UNSET_OPS_KEY is not set' },
        routing: { status: 'ok', detail: 'its one deployment closed' },
      },
    }, route);
  }
  for (const route of LIVE_ROUTES) assert.equal((await fetch(`${gateway.url}${route}`)).status, 200, route);

  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  const err = await rejectsAs(client.chat.completions.create({ model: 'only-model', messages: userMessage('hi') }), OpenAI.APIError);
  assert.equal(err.status, 500);
  assert.equal(err.code, 'GW_PROVIDER_UNAVAILABLE');
  assert.equal(fake.requests.length, 0, 'neither health nor the unusable provider reached the upstream');
  assert.equal(await gateway.stop(), 0);
});

test('vigil version: prints the package version, the commit and the Node version, exit 0 (also when bin/vigil.js re-executes itself)', () => {
  const direct = vigilCli(['version'], childEnv({ VIGIL_COMMIT: 'abc1234' }));
  assert.equal(direct.status, 0, direct.stderr);
  assert.equal(direct.stdout, `vigil ${PACKAGE_VERSION} (commit abc1234, node ${process.versions.node})\n`);
  assert.equal(direct.stderr, '');

  // Without the runtime flags (as `npx vigil` starts it) bin/vigil.js re-runs itself with them.
  const reexec = spawnSync(NODE_BIN, [VIGIL_JS, 'version'], { cwd: REPO_ROOT, env: childEnv(), encoding: 'utf8', timeout: 15_000 });
  assert.equal(reexec.status, 0, reexec.stderr);
  assert.equal(reexec.stdout, `vigil ${PACKAGE_VERSION} (commit unknown, node ${process.versions.node})\n`);
});

test('vigil serve with no config file: embedded defaults serve mock-chat to the openai client and list both mock models; usage lands in VIGIL_DATA_DIR', async (t) => {
  const root = tempDir(t, 'vigil-defaults-');
  const cwd = join(root, 'cwd');
  const dataDir = join(root, 'data');
  mkdirSync(cwd); // not the repository: a ./data there would be noticed
  const port = await freePort();
  const gateway = await serveVigil(t, [], port, childEnv({ VIGIL_DATA_DIR: dataDir }), cwd);

  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  const reply = await client.chat.completions.create({ model: 'mock-chat', messages: userMessage('hello defaults') });
  assert.equal(reply.object, 'chat.completion');
  assert.equal(reply.model, 'mock-chat');
  assert.equal(reply.choices[0].finish_reason, 'stop');
  assert.equal(reply.choices[0].message.content?.split(' ').length, 16, 'the mock default reply is 16 words');
  assert.equal(reply.usage?.completion_tokens, 16);

  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id).sort(), ['mock-chat', 'mock-embedding'], 'no OpenAI/Anthropic models without their keys');

  const ready = await (await fetch(`${gateway.url}/readyz`)).json();
  assert.equal(ready.components.providers.detail, '1/1 routable', 'only the mock provider');
  assert.equal(await gateway.stop(), 0);
  const listening = gateway.lines().map((line) => JSON.parse(line)).find((r) => r.msg === 'vigil listening');
  assert.deepEqual(listening?.models, ['mock-chat', 'mock-embedding']);
  assert.ok(listening?.address.endsWith(`:${port}`), listening?.address);

  const rows = ledgerRows(dataDir).map(({ model, provider, output_tokens, status }) => ({ model, provider, output_tokens, status }));
  assert.deepEqual(rows, [{ model: 'mock-chat', provider: 'mock', output_tokens: 16, status: 200 }]);
  assert.ok(!existsSync(join(cwd, 'data')), 'nothing written to ./data when VIGIL_DATA_DIR is set');
});

const FILE_SECRET = 'sk-file-secret-3f9a1c77e0';
const ENV_SECRET = 'sk-ant-env-secret-81b2d4aa5c';
const SECRET_ENV_NAME = 'VIGIL_TEST_ANTHROPIC_SECRET';

test('secrets: file: and env: provider keys reach the upstream resolved, the client key never does, and no output shows them', async (t) => {
  const dir = tempDir(t, 'vigil-secrets-');
  const keyFile = join(dir, 'openai-key');
  writeFileSync(keyFile, `${FILE_SECRET}\n`); // as a mounted secret often ends: the newline is trimmed
  const fake = await fakeUpstream(t);
  const config = {
    server: { host: '127.0.0.1' },
    log: { level: 'debug' }, // the most the gateway logs
    providers: {
      'from-file': { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: `file:${keyFile}` },
      'from-env': { kind: 'anthropic', base_url: fake.url, api_key: `env:${SECRET_ENV_NAME}` },
    },
    models: [
      { name: 'file-ok', provider: 'from-file', upstream_model: 'ok' },
      { name: 'file-401', provider: 'from-file', upstream_model: 'fail-401' },
      { name: 'env-ok', provider: 'from-env', upstream_model: 'ok' },
      { name: 'env-401', provider: 'from-env', upstream_model: 'fail-401' },
    ],
  };
  const gateway = await startGateway(config, { [SECRET_ENV_NAME]: ENV_SECRET });
  t.after(() => gateway.stop());
  const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0 });

  // Both client dialects against both providers (the cross-format pairs too).
  await openai.chat.completions.create({ model: 'file-ok', messages: userMessage('a') });
  await openai.chat.completions.create({ model: 'env-ok', messages: userMessage('b') });
  await anthropic.messages.create({ model: 'env-ok', max_tokens: 8, messages: userMessage('c') });
  await anthropic.messages.create({ model: 'file-ok', max_tokens: 8, messages: userMessage('d') });
  // The fake's 401 quotes the key it was given, as real providers do: the gateway must not relay it.
  const errors = [
    await rejectsAs(openai.chat.completions.create({ model: 'file-401', messages: userMessage('e') }), OpenAI.APIError),
    await rejectsAs(openai.chat.completions.create({ model: 'env-401', messages: userMessage('f') }), OpenAI.APIError),
    await rejectsAs(anthropic.messages.create({ model: 'env-401', max_tokens: 8, messages: userMessage('g') }), Anthropic.APIError),
  ];

  assert.equal(fake.requests.length, 7);
  for (const request of fake.requests) {
    if (request.path === '/v1/chat/completions') {
      assert.equal(request.headers.authorization, `Bearer ${FILE_SECRET}`, 'the file: key, resolved and trimmed');
      assert.equal(request.headers['x-api-key'], undefined);
    } else {
      assert.equal(request.path, '/v1/messages');
      assert.equal(request.headers['x-api-key'], ENV_SECRET, 'the env: key, resolved');
      assert.equal(request.headers.authorization, undefined);
    }
    assert.ok(!JSON.stringify(request.headers).includes(CLIENT_KEY), `the client's key is not forwarded: ${JSON.stringify(request.headers)}`);
  }
  assert.equal(fake.requests.filter((r) => r.path === '/v1/chat/completions').length, 3, 'file-ok twice, file-401 once');

  for (const err of errors) {
    assert.equal(err.status, 502);
    const seen = `${err.message} ${JSON.stringify(err.error)} ${JSON.stringify(Object.fromEntries(err.headers ?? []))}`;
    for (const secret of [FILE_SECRET, ENV_SECRET]) assert.ok(!seen.includes(secret), `an error shows a secret: ${seen}`);
  }

  assert.equal(await gateway.stop().then(() => gateway.exitCode()), 0);
  const output = [...gateway.logs(), gateway.stderr()];
  assert.equal(gateway.logRecords().filter((r) => r.route && r.status).length, 7, 'one request line per call');
  for (const line of output) {
    for (const secret of [FILE_SECRET, ENV_SECRET]) assert.ok(!line.includes(secret), `gateway output shows a secret: ${line}`);
  }

  // config check shows the references as written, never what they resolve to.
  const configPath = join(dir, 'vigil.yaml');
  writeFileSync(configPath, stringify(config));
  const check = vigilCli(['config', 'check', '--config', configPath], childEnv({ [SECRET_ENV_NAME]: ENV_SECRET }));
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, new RegExp(`api_key: file:${keyFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\n`));
  assert.match(check.stdout, new RegExp(`api_key: env:${SECRET_ENV_NAME}\n`));
  assert.equal(check.stderr, 'config ok\n', 'both references resolve: no warning');
  for (const secret of [FILE_SECRET, ENV_SECRET]) {
    assert.ok(!check.stdout.includes(secret) && !check.stderr.includes(secret), `config check shows ${secret}`);
  }
});

test('vigil.example.yaml passes config check: with no provider keys set (warnings name them) and with them set (secrets not printed)', () => {
  const bare = vigilCli(['config', 'check', '--config', 'vigil.example.yaml']);
  assert.equal(bare.status, 0, bare.stderr);
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OPENROUTER_API_KEY']) {
    assert.match(bare.stderr, new RegExp(`warning: providers\\.\\w+\\.api_key: environment variable ${name} is not set; its models will answer 500 GW_PROVIDER_UNAVAILABLE`));
  }
  assert.match(bare.stderr, /config ok\n$/);
  for (const model of ['mock-chat', 'mock-embedding', 'gpt-4.1-mini', 'claude-sonnet-4-5', 'llama-3.3-70b', 'qwen3']) {
    assert.match(bare.stdout, new RegExp(`name: ${model.replace(/\./g, '\\.')}\n`), model);
  }

  const keys = { OPENAI_API_KEY: 'sk-example-openai-1', ANTHROPIC_API_KEY: 'sk-example-anthropic-2', OPENROUTER_API_KEY: 'sk-example-openrouter-3' };
  const keyed = vigilCli(['config', 'check', '--config', 'vigil.example.yaml'], childEnv(keys));
  assert.equal(keyed.status, 0, keyed.stderr);
  assert.equal(keyed.stderr, 'config ok\n');
  assert.match(keyed.stdout, /api_key: env:OPENAI_API_KEY\n/);
  for (const value of Object.values(keys)) assert.ok(!keyed.stdout.includes(value), `config check shows ${value}`);
});

test('log.format pretty: request lines on stdout are human-readable, not JSON, and name method, route and status', async (t) => {
  const gateway = await startGateway({ log: { format: 'pretty' }, providers: { mock: { kind: 'mock' } }, models: [{ name: 'mock-chat', provider: 'mock' }] });
  t.after(() => gateway.stop());
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  await client.chat.completions.create({ model: 'mock-chat', messages: userMessage('pretty please') });
  await rejectsAs(client.chat.completions.create({ model: 'no-such-model', messages: userMessage('x') }), OpenAI.NotFoundError);

  const deadline = Date.now() + 3000;
  const requestHeads = () => gateway.logs().filter((line) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: request$/.test(line));
  while (requestHeads().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  await gateway.stop();
  const lines = gateway.logs();
  assert.equal(requestHeads().length, 2, `two pretty request entries:\n${lines.join('\n')}`);
  assert.equal(gateway.logRecords().length, 0, 'no stdout line is a JSON object');
  assert.ok(lines.some((line) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: vigil listening$/.test(line)));

  // pino-pretty writes each field of an entry on an indented line of its own, after the entry's head.
  const text = lines.join('\n');
  const entries = text.split(/\n(?=\[)/).filter((entry) => / INFO: request\n/.test(entry));
  assert.equal(entries.length, 2);
  assert.match(entries[0], /\n {4}method: "POST"\n/);
  assert.match(entries[0], /\n {4}route: "\/v1\/chat\/completions"\n/);
  assert.match(entries[0], /\n {4}status: 200\n/);
  assert.match(entries[0], /\n {4}model: "mock-chat"\n/);
  assert.match(entries[1], /\n {4}status: 404\n/);
  assert.match(entries[1], /\n {4}error_code: "GW_MODEL_NOT_FOUND"\n/);
  assert.ok(!text.includes('\u001b['), 'no colour codes when stdout is not a terminal');
});
