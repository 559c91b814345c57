// deploy/Dockerfile and the compose stack, checked as far as the tools on this machine go (there is
// no Docker engine: the image is never built and no container runs; docs/deploy.md says so).
// Real tools: docker-compose (Debian's 1.29) validates compose.yaml, promtool checks prometheus.yml
// (with the rule files when ops/generated has them), amtool checks alertmanager.yml, and Vigil's own
// `config check` checks the mounted vigil.yaml. The other files are parsed and cross-checked: every
// address one service uses for another must be that service's name and port. The Dockerfile is parsed,
// and its CMD, ENV and HEALTHCHECK are run against a real gateway laid out as the image lays it out.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { RUNTIME_FLAGS } from '../../bin/runtime-flags.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const composeDir = join(root, 'deploy/compose');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
type Obj = Record<string, any>;

let work: string;
before(() => { work = mkdtempSync(join(tmpdir(), 'vigil-compose-')); });
after(() => rmSync(work, { recursive: true, force: true }));

function tool(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const run = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (run.error) {
    assert.fail(`${command} is not installed (${(run.error as NodeJS.ErrnoException).code}): run the suite with test/run.sh, which installs it from Debian`);
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const compose = parse(read('deploy/compose/compose.yaml')) as Obj;
const services = compose.services as Record<string, Obj>;

/** A service's bind mounts (short syntax), host side resolved against deploy/compose. */
function binds(service: string): { source: string; target: string }[] {
  return (services[service].volumes ?? [])
    .map((v: string) => v.split(':'))
    .filter(([source]: string[]) => source.startsWith('.'))
    .map(([source, target]: string[]) => ({ source: resolve(composeDir, source), target }));
}
/** host:port → the service and port it names. */
function hostPort(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
}

describe('deploy/compose', () => {
  test('the full stack: Vigil and every service that watches it', () => {
    assert.deepEqual(Object.keys(services).sort(),
      ['alertmanager', 'grafana', 'jaeger', 'loki', 'otel-collector', 'postgres', 'prometheus', 'redis', 'vigil']);
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'vigil') assert.match(service.image, /:[\w.-]+$/, `${name}: a pinned tag`);
      assert.doesNotMatch(service.image ?? '', /:latest$/, name);
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name}: published on loopback only`);
    }
  });

  test('docker-compose validates compose.yaml', () => {
    // Debian's docker-compose (1.29, the Compose file spec of its day) knows every key used here but
    // the top-level `name`, which only sets the project name; it is left out for this check.
    const file = join(work, 'compose.yaml');
    writeFileSync(file, read('deploy/compose/compose.yaml').replace(/^name: .*\n/m, ''));
    const { status, output } = tool('docker-compose', ['-f', file, '--project-directory', composeDir, 'config', '-q']);
    assert.equal(status, 0, `docker-compose config:\n${output}`);
  });

  test('vigil: built from deploy/Dockerfile at the repository root, config mounted where VIGIL_CONFIG says', () => {
    const vigil = services.vigil;
    assert.equal(resolve(composeDir, vigil.build.context), resolve(root));
    assert.ok(existsSync(join(root, vigil.build.dockerfile)));
    assert.equal(vigil.read_only, true);
    const config = binds('vigil').find((b) => b.target === vigil.environment.VIGIL_CONFIG);
    assert.ok(config, 'VIGIL_CONFIG is a mounted file');
    assert.equal(config.source, join(composeDir, 'vigil.yaml'));
    assert.ok(vigil.volumes.some((v: string) => v.endsWith(':/data')), '/data is a volume');
    const drain = parse(read('deploy/compose/vigil.yaml')).server.drain_timeout_ms / 1000;
    assert.ok(Number.parseInt(vigil.stop_grace_period, 10) > drain, 'stop_grace_period outlasts the drain');
  });

  test('every mounted file exists; only the ops/ generators\' output may not exist yet', () => {
    for (const name of Object.keys(services)) {
      for (const { source } of binds(name)) {
        if (source.startsWith(join(root, 'ops/generated'))) continue;
        assert.ok(existsSync(source), `${name}: ${source}`);
      }
    }
  });

  test('the mounted vigil.yaml passes `vigil config check`', () => {
    const env = { ...process.env, ...services.vigil.environment, VIGIL_CONFIG: '', VIGIL_HOST: '0.0.0.0', VIGIL_DATA_DIR: join(work, 'data') };
    for (const name of Object.keys(env)) if (env[name] === '' || String(env[name]).startsWith('${')) delete env[name];
    const check = tool(process.execPath, ['--disable-warning=ExperimentalWarning', 'bin/vigil.js', 'config', 'check', '--config', 'deploy/compose/vigil.yaml'], { cwd: root, env });
    assert.equal(check.status, 0, check.output);
  });

  test('Prometheus: promtool check config (and the rule files from ops/generated, when there are any)', () => {
    // prometheus.yml names the paths inside the container: lay them out here as compose mounts them.
    const prometheus = read('deploy/compose/prometheus.yml');
    const generated = binds('prometheus').find((b) => b.source === join(root, 'ops/generated'));
    assert.ok(generated, 'ops/generated is mounted into Prometheus');
    const config = parse(prometheus);
    for (const pattern of config.rule_files) assert.ok(pattern.startsWith(`${generated.target}/`), `${pattern} is under the mount`);
    const local = join(work, 'generated');
    if (existsSync(generated.source)) symlinkSync(generated.source, local);
    else mkdirSync(local);
    const file = join(work, 'prometheus.yml');
    writeFileSync(file, prometheus.replaceAll(generated.target, local));
    const { status, output } = tool('promtool', ['check', 'config', file]);
    assert.equal(status, 0, `promtool check config:\n${output}`);
    assert.match(output, /SUCCESS/);
  });

  test('Prometheus scrapes Vigil\'s metrics listener and sends alerts to Alertmanager', () => {
    const config = parse(read('deploy/compose/prometheus.yml'));
    const vigil = parse(read('deploy/compose/vigil.yaml'));
    const job = config.scrape_configs.find((j: Obj) => j.job_name === 'vigil');
    assert.deepEqual(job.static_configs[0].targets, [`vigil:${vigil.metrics.listener.port}`]);
    assert.equal(vigil.metrics.listener.enabled, true);
    assert.equal(job.metrics_path ?? '/metrics', vigil.metrics.path ?? '/metrics');
    assert.deepEqual(config.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093']);
  });

  test('Alertmanager: amtool check-config', () => {
    const { status, output } = tool('amtool', ['check-config', join(composeDir, 'alertmanager.yml')]);
    assert.equal(status, 0, `amtool check-config:\n${output}`);
  });

  test('the OpenTelemetry Collector takes Vigil\'s OTLP and sends traces to Jaeger, logs to Loki', () => {
    const collector = parse(read('deploy/compose/otel-collector.yaml'));
    const vigil = parse(read('deploy/compose/vigil.yaml'));
    assert.ok(binds('otel-collector').some((b) => b.source === join(composeDir, 'otel-collector.yaml')));
    const endpoint = hostPort(vigil.telemetry.otlp.endpoint);
    assert.equal(endpoint.host, 'otel-collector');
    assert.equal(hostPort(collector.receivers.otlp.protocols[vigil.telemetry.otlp.protocol ?? 'grpc'].endpoint).port, endpoint.port);
    const { pipelines } = collector.service;
    assert.deepEqual(Object.keys(pipelines).sort(), ['logs', 'traces']);
    for (const pipeline of Object.values(pipelines) as Obj[]) {
      for (const kind of ['receivers', 'processors', 'exporters']) {
        for (const id of pipeline[kind]) assert.ok(collector[kind][id] !== undefined, `${kind}: ${id} is defined`);
      }
    }
    for (const id of collector.service.extensions) assert.ok(collector.extensions[id] !== undefined);
    assert.deepEqual(hostPort(collector.exporters[pipelines.traces.exporters[0]].endpoint), { host: 'jaeger', port: 4317 });
    assert.deepEqual(hostPort(collector.exporters[pipelines.logs.exporters[0]].endpoint), { host: 'loki', port: 3100 });
  });

  test('Grafana: datasources for Prometheus, Loki and Jaeger by service name; dashboards from the mounted folder', () => {
    const provisioning = binds('grafana').find((b) => b.target === '/etc/grafana/provisioning');
    assert.equal(provisioning?.source, join(composeDir, 'grafana/provisioning'));
    const { datasources } = parse(read('deploy/compose/grafana/provisioning/datasources/datasources.yaml'));
    const byType = Object.fromEntries(datasources.map((d: Obj) => [d.type, d]));
    assert.deepEqual(hostPort(byType.prometheus.url), { host: 'prometheus', port: 9090 });
    assert.deepEqual(hostPort(byType.loki.url), { host: 'loki', port: 3100 });
    assert.deepEqual(hostPort(byType.jaeger.url), { host: 'jaeger', port: 16686 });
    const uids = new Set(datasources.map((d: Obj) => d.uid));
    assert.ok(byType.loki.jsonData.derivedFields.every((f: Obj) => uids.has(f.datasourceUid)));
    assert.ok(uids.has(byType.jaeger.jsonData.tracesToLogsV2.datasourceUid));
    for (const d of datasources) assert.ok(services[hostPort(d.url).host], `${d.name}: ${d.url} is a compose service`);

    const { providers } = parse(read('deploy/compose/grafana/provisioning/dashboards/vigil.yaml'));
    const mount = binds('grafana').find((b) => b.target === providers[0].options.path);
    assert.ok(mount, 'the dashboards provider reads a mounted folder');
    assert.equal(mount.source, join(root, 'ops/generated/dashboards'));
  });
});

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => { const [op, ...rest] = l.split(/\s+/); return { op: op.toUpperCase(), args: rest.join(' ') }; });
}

describe('deploy/Dockerfile', () => {
  const all = instructions(read('deploy/Dockerfile'));
  const froms = all.flatMap((i, n) => (i.op === 'FROM' ? [n] : []));
  const build = all.slice(froms[0], froms.at(-1));
  const runtime = all.slice(froms.at(-1));
  const get = (op: string) => runtime.filter((i) => i.op === op);
  const env = Object.fromEntries(get('ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])));
  const cmd = JSON.parse(get('CMD')[0]?.args ?? 'null') as string[];

  test('multi-stage on the official Node 24 image; production dependencies installed in the build stage', () => {
    const image = all.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args.split('=')[1];
    assert.match(image ?? '', /^node:24[.-]/);
    assert.ok(froms.length >= 2, 'a build stage and a runtime stage');
    assert.ok(all.filter((i) => i.op === 'FROM').every((i) => i.args.startsWith(`\${NODE_IMAGE}`)));
    assert.ok(build.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args)));
    assert.ok(runtime.some((i) => i.op === 'COPY' && i.args.startsWith('--from=')), 'node_modules come from the build stage');
  });

  test('CMD: node itself in exec form with the runtime flags of bin/runtime-flags.js; no npm, no shell', () => {
    assert.ok(Array.isArray(cmd), 'exec form (a JSON array)');
    assert.equal(cmd[0], 'node');
    assert.deepEqual(cmd.slice(1, -2), RUNTIME_FLAGS);
    assert.deepEqual(cmd.slice(-2), ['bin/vigil.js', 'serve']);
    assert.equal(get('ENTRYPOINT').length, 0);
    for (const i of [...get('CMD'), ...get('ENTRYPOINT')]) assert.doesNotMatch(i.args, /\bnpm\b|\bsh\b/);
  });

  test('runs as a non-root user, listens on every interface, writes only to the /data volume', () => {
    const users = get('USER');
    assert.equal(users.length, 1);
    const [uid] = users[0].args.split(':');
    assert.match(uid, /^\d+$/, 'a numeric uid, which runAsNonRoot can check');
    assert.notEqual(Number(uid), 0);
    assert.equal(env.VIGIL_HOST, '0.0.0.0');
    assert.equal(env.VIGIL_DATA_DIR, '/data');
    assert.ok(get('VOLUME').some((i) => i.args.includes('/data')));
    assert.deepEqual(get('EXPOSE')[0].args.split(/\s+/), ['8080', '9091']);
    assert.equal(get('STOPSIGNAL')[0]?.args, 'SIGTERM');
  });

  test('HEALTHCHECK asks /healthz with node (the slim image has no curl)', () => {
    const [check] = get('HEALTHCHECK');
    assert.ok(check, 'a HEALTHCHECK');
    const command = JSON.parse(check.args.slice(check.args.indexOf('CMD ') + 4)) as string[];
    assert.equal(command[0], 'node');
    assert.match(command.join(' '), /\/healthz/);
  });

  test('.dockerignore keeps the build context to what the image copies, tests left out', () => {
    const ignore = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(ignore[0], '*', 'an allow-list');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = runtime.concat(build).filter((i) => i.op === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1)).filter((s) => !s.startsWith('--'));
    for (const source of copied) assert.ok(allowed.includes(source.replace(/\/$/, '')), `${source} is in the build context`);
    assert.ok(ignore.includes('**/*.test.ts'));
  });

  test('the image\'s CMD, ENV and HEALTHCHECK, run on the files it copies: healthy, then SIGTERM drains and exits 0', async () => {
    // The runtime stage's files (COPY sources, tests left out as .dockerignore says) in a folder of
    // their own, with the project's node_modules standing in for the build stage's.
    const app = join(work, 'app');
    for (const i of runtime.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from='))) {
      const [source, target] = i.args.split(/\s+/);
      const to = target.endsWith('/') && !source.endsWith('/') ? join(app, target, source) : join(app, target);
      cpSync(join(root, source), to, { recursive: true, filter: (path) => !path.endsWith('.test.ts') });
    }
    symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'));
    const before = listFiles(app);
    const port = await freePort();
    // /data is the image's volume; here a temporary folder stands in for it.
    const runEnv: NodeJS.ProcessEnv = { ...process.env, ...env, VIGIL_DATA_DIR: join(work, 'data'), VIGIL_PORT: String(port), VIGIL_LOG: 'warn' };
    delete runEnv.VIGIL_CONFIG;
    const gateway = spawn(process.execPath, cmd.slice(1), { cwd: app, env: runEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    gateway.stderr.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise<number | null>((done) => gateway.on('exit', (code) => done(code)));
    try {
      const healthcheck = JSON.parse(get('HEALTHCHECK')[0].args.replace(/^.*?CMD /, '')) as string[];
      let healthy = false;
      for (let i = 0; i < 100 && !healthy && gateway.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
        healthy = spawnSync(process.execPath, healthcheck.slice(1), { env: runEnv }).status === 0;
      }
      assert.ok(healthy, `the HEALTHCHECK command passes against the running gateway\n${stderr}`);
    } finally {
      gateway.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `exit code after SIGTERM\n${stderr}`);
    assert.deepEqual(listFiles(app), before, 'nothing written outside /data (a read-only root would do)');
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.parentPath.includes('node_modules') && e.name !== 'node_modules')
    .map((e) => join(e.parentPath, e.name)).sort();
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    }).on('error', fail);
  });
}

