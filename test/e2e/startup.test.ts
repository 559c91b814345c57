// Starting and explaining: start-up failures are one stderr line naming cause and fix with a non-zero
// exit; `config check` and `serve` accept and refuse the same configs with the same words; the default
// bind address is loopback and the start-up line says what was bound; debug lines appear at debug only;
// the command line knows --version and reports a mistyped command.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { RUNTIME_FLAGS } from '../../bin/runtime-flags.js';
import { freePort, NODE_BIN, REPO_ROOT, startGateway } from '../helpers/gateway.ts';

const VIGIL_JS = join(REPO_ROOT, 'bin/vigil.js');

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-startup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The parent's environment without anything that would change what the child configures, plus `extra`. */
function childEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VIGIL_') && !name.endsWith('_API_KEY')));
  return { ...env, VIGIL_DATA_DIR: join(dir, 'data'), ...extra };
}

/** `bin/vigil.js <args>` to completion, as npm start runs it. */
function vigil(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(NODE_BIN, [...RUNTIME_FLAGS, VIGIL_JS, ...args], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 15_000 });
}

/** `bin/vigil.js serve <args>` until its 'vigil listening' line; the JSON lines it wrote by then. Stopped after the test. */
async function serveUntilListening(t: TestContext, args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, any>[]> {
  const child = spawn(NODE_BIN, [...RUNTIME_FLAGS, VIGIL_JS, 'serve', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const records: Record<string, any>[] = [];
  const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await new Promise<void>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`vigil exited (${code}) before listening: ${JSON.stringify(records)}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      records.push(JSON.parse(line));
      if (records.at(-1)!.msg === 'vigil listening') ok();
    });
  });
  clearTimeout(timeout);
  return records;
}

/** The local addresses of the sockets listening on `port`, as the kernel has them (Linux /proc/net). */
function listeningOn(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['tcp', 'tcp6'].flatMap((table) => readFileSync(`/proc/net/${table}`, 'utf8').split('\n').slice(1).flatMap((row) => {
    const [, local, , state] = row.trim().split(/\s+/);
    if (state !== '0A' || !local?.endsWith(`:${hexPort}`)) return []; // 0A: LISTEN
    const hex = local.split(':')[0];
    if (table === 'tcp6') return [/^0+$/.test(hex) ? '::' : `ipv6 ${hex}`];
    return [hex.match(/../g)!.reverse().map((byte) => parseInt(byte, 16)).join('.')]; // little-endian
  }));
}

/** stderr as lines, asserting there is exactly one. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one stderr line:\n${stderr}`);
  return lines[0];
}

test('a port already in use: one line naming the port and the settings that change it, exit 1', async (t) => {
  const dir = tempDir(t);
  const holder = createServer();
  await new Promise<void>((ok) => holder.listen(0, '127.0.0.1', ok));
  t.after(() => holder.close());
  const { port } = holder.address() as { port: number };
  const run = vigil(['serve', '--port', String(port)], childEnv(dir));
  assert.equal(run.status, 1);
  assert.equal(oneLine(run.stderr), `cannot listen on 127.0.0.1:${port}: the port is already in use; stop the process holding it or choose another port (server.port, VIGIL_PORT or --port)`);
});

test('an unknown level in VIGIL_LOG: serve and config check both refuse it, in one identical line, exit 1', (t) => {
  const dir = tempDir(t);
  const expected = 'invalid config (embedded defaults): log.level (from VIGIL_LOG=verbose): log level "verbose" is not one of trace, debug, info, warn, error, fatal, silent';
  for (const command of [['serve', '--port', '0'], ['config', 'check']]) {
    const run = vigil(command, childEnv(dir, { VIGIL_LOG: 'verbose' }));
    assert.equal(run.status, 1, command.join(' '));
    assert.equal(oneLine(run.stderr), expected, command.join(' '));
  }
  assert.equal(vigil(['config', 'check'], childEnv(dir, { VIGIL_LOG: 'DEBUG,routing=Trace' })).status, 0, 'level names are case-insensitive');
});

test('serve and config check agree: the same refusals (naming the source and variable) and the same warnings', async (t) => {
  const dir = tempDir(t);
  const noModels = join(dir, 'no-models.yaml');
  writeFileSync(noModels, 'providers: { mock: { kind: mock } }\nmodels: []\n');
  const badHeader = join(dir, 'bad-header.yaml');
  writeFileSync(badHeader, 'telemetry: { otlp: { endpoint: "http://127.0.0.1:1", headers: { authorization: "env:VIGIL_TEST_UNSET" } } }\n');
  const refusals: [string[], Record<string, string>, string][] = [
    [[], { VIGIL_PORT: 'abc' }, 'invalid config (embedded defaults): server.port (from VIGIL_PORT=abc): Invalid input: expected number, received string'],
    [['--config', noModels], {}, `invalid config ${noModels}: models: none configured, so every request would answer 404; add at least one (see vigil.example.yaml)`],
    [['--config', badHeader], {}, `invalid config ${badHeader}: telemetry.otlp.headers.authorization: environment variable VIGIL_TEST_UNSET is not set`],
  ];
  for (const [args, env, line] of refusals) {
    for (const command of ['serve', 'config check']) {
      const run = vigil([...command.split(' '), ...args], childEnv(dir, env));
      assert.equal(run.status, 1, `${command} ${args.join(' ')}: ${run.stderr}`);
      assert.equal(oneLine(run.stderr), line, command);
    }
  }

  // Every model's provider unusable: a warning from both, not silence.
  const unusable = join(dir, 'unusable.yaml');
  writeFileSync(unusable, 'providers: { oa: { kind: openai, api_key: env:VIGIL_TEST_UNSET } }\nmodels: [{ name: gpt, provider: oa }]\n');
  const warnings = [
    'providers.oa.api_key: environment variable VIGIL_TEST_UNSET is not set; its models will answer 500 GW_PROVIDER_UNAVAILABLE',
    'no model is routable: the provider of every model is unusable (see above), so every request will answer 500 GW_PROVIDER_UNAVAILABLE',
  ];
  const check = vigil(['config', 'check', '--config', unusable], childEnv(dir));
  assert.equal(check.status, 0, check.stderr);
  assert.equal(check.stderr, `${warnings.map((w) => `warning: ${w}`).join('\n')}\nconfig ok\n`);
  const served = await serveUntilListening(t, ['--config', unusable, '--port', String(await freePort())], childEnv(dir));
  // Beside them serve says the gateway is open: that depends on the key store, which config check does not open.
  assert.deepEqual(served.filter((r) => r.level === 'warn' && !r.msg.startsWith('auth open:')).map((r) => r.msg), warnings);
});

test('a file that sets only server.port keeps the embedded providers and models', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'port-only.yaml');
  writeFileSync(file, 'server: { port: 9000 }\n');
  const check = vigil(['config', 'check', '--config', file], childEnv(dir));
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /port: 9000\n/);
  assert.match(check.stdout, /name: mock-chat\n/);
  assert.match(check.stdout, /name: mock-embedding\n/);
});

test('a production install on an older Node (no pinned runtime in node_modules): one line, exit 1', (t) => {
  // The system Node the machines ship (older than 24), found on PATH outside node_modules/.bin.
  const systemNode = (process.env.PATH ?? '').split(delimiter).filter((d) => !d.includes('node_modules'))
    .map((d) => join(d, 'node'))
    .find((path) => spawnSync(path, ['-e', 'process.exit(Number(process.versions.node.split(".")[0]) < 24 ? 0 : 1)']).status === 0);
  if (!systemNode) return t.skip('no Node older than 24 on PATH');
  const install = tempDir(t); // bin/ as `npm ci --omit=dev` leaves it: no node_modules/.bin/node beside it
  cpSync(join(REPO_ROOT, 'bin'), join(install, 'bin'), { recursive: true });
  writeFileSync(join(install, 'package.json'), '{ "type": "module" }\n');
  const version = spawnSync(systemNode, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const run = spawnSync(systemNode, [join(install, 'bin/vigil.js'), 'serve'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(run.status, 1);
  assert.equal(oneLine(run.stderr), `vigil: Node.js 24 or newer is required, this is ${version} (${systemNode}), and the pinned Node 24 (the "node" devDependency) is not installed: install Node.js 24, or install with dev dependencies (npm install)`);
});

test('embedded defaults listen on loopback, and the start-up line gives the address actually bound', async (t) => {
  const port = await freePort();
  const records = await serveUntilListening(t, ['--port', String(port)], childEnv(tempDir(t)));
  assert.deepEqual(listeningOn(port), ['127.0.0.1'], 'bound to loopback only');
  assert.equal(records.at(-1)!.address, `http://127.0.0.1:${port}`);
  // Open on loopback because no key exists yet: one warning saying so and how to close it, nothing louder.
  assert.deepEqual(records.filter((r) => r.level === 'warn').map((r) => r.msg.split(':')[0]), ['auth open'], JSON.stringify(records));
});

test('debug lines: the routing decision of each attempt and the auth outcome at debug, none at info; unknown modules warned', async (t) => {
  const config = {
    auth: { keys: [{ id: 'team-a', key: 'vk-team-a' }] },
    providers: { mock: { kind: 'mock' } },
    models: [{ name: 'chat', provider: 'mock', upstream_model: 'mock-upstream' }],
  };
  const ask = (url: string, key: string) => fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
  }).then((res) => res.arrayBuffer().then(() => res.status));

  const debug = await startGateway(config, { VIGIL_LOG: 'info,routing=debug,auth=DEBUG,routng=debug' });
  t.after(() => debug.stop());
  assert.equal(await ask(debug.url, 'vk-team-a'), 200);
  assert.equal(await ask(debug.url, 'vk-wrong'), 401);
  const request = await debug.waitForLog((r) => r.msg === 'request' && r.status === 200);
  await debug.waitForLog((r) => r.msg === 'not authenticated');
  const lines = debug.logRecords().filter((r) => r.level === 'debug');
  const of = (msg: string) => lines.filter((r) => r.msg === msg).map(({ module, request_id, msg: _, ...rest }) => ({ module, same_request: request_id === request.request_id, ...rest }));
  const fields = (records: Record<string, any>[]) => records.map(({ level, time, service, version, ...rest }) => rest);
  assert.deepEqual(fields(of('authenticated')), [{ module: 'auth', same_request: true, identity_id: 'team-a' }]);
  assert.deepEqual(fields(of('not authenticated')), [{ module: 'auth', same_request: false, reason: 'invalid_key' }]);
  assert.deepEqual(fields(of('routed')), [{
    module: 'routing', same_request: true, model: 'chat', deployment: 'mock:mock-upstream', strategy: 'priority', attempt: 1,
    provider: 'mock', upstream_model: 'mock-upstream', stream: false, mode: 'translated',
  }]);
  assert.ok(!debug.logs().join('\n').includes('vk-team-a'), 'no key in any line');
  const unknown = debug.logRecords().find((r) => r.level === 'warn' && /routng/.test(r.msg));
  assert.equal(unknown?.msg, 'log.level: no module is called "routng", so its level changes nothing (modules: server, pipeline, routing, auth, store, cluster)');

  const info = await startGateway(config);
  t.after(() => info.stop());
  assert.equal(await ask(info.url, 'vk-team-a'), 200);
  await info.waitForLog((r) => r.msg === 'request');
  assert.deepEqual(info.logRecords().filter((r) => r.level === 'debug'), []);
});

test('-v and --version print the version; a mistyped command is unknown, with a suggestion', (t) => {
  const dir = tempDir(t);
  const version = vigil(['version'], childEnv(dir));
  assert.match(version.stdout, /^vigil \d+\.\d+\.\d+ \(commit unknown, node 24\.\d+\.\d+\)\n$/);
  for (const flag of ['--version', '-v']) {
    const run = vigil([flag], childEnv(dir));
    assert.equal(run.status, 0, flag);
    assert.equal(run.stdout, version.stdout, flag);
  }
  const typo = vigil(['srve'], childEnv(dir));
  assert.equal(typo.status, 1);
  assert.equal(typo.stderr, "error: unknown command 'srve'\n(Did you mean serve?)\n");
});
