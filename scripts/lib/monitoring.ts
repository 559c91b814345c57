// A real Prometheus and Alertmanager as child processes (Debian's `prometheus` and
// `prometheus-alertmanager` binaries; scripts/lib/debian.sh installs them): `npm run stack` and
// test/e2e/prometheus-alerting.test.ts start them through here, so both run the same configuration.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface Server {
  name: string;
  url: string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
  /** What the process wrote to stdout and stderr (both log there). */
  output(): string;
}

const delay = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function startServer(name: string, binary: string, args: string[], url: string): Promise<Server> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => { out += t; });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => { out += t; });
  let spawnError: Error | undefined;
  child.once('error', (err) => { spawnError = err; });
  const exited = new Promise<void>((ok) => child.once('close', () => ok()));
  const running = () => child.exitCode === null && child.signalCode === null && !spawnError;
  const server: Server = {
    name,
    url,
    output: () => out,
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (spawnError) {
      const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
      throw new Error(missing
        ? `${binary} is not installed: test/run.sh and npm run stack install it from the Debian package (scripts/lib/debian.sh), or apt-get install ${binary === 'prometheus' ? 'prometheus' : 'prometheus-alertmanager'}`
        : `${binary}: ${spawnError.message}`);
    }
    if (!running()) throw new Error(`${name} exited (code ${child.exitCode}) before it was ready:\n${out}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return server;
    } catch { /* not listening yet */ }
    await delay(100);
  }
  await server.stop();
  throw new Error(`${name} not ready within 20 s:\n${out}`);
}

export interface AlertmanagerOptions {
  /** Working directory (config and data). */
  dir: string;
  host?: string;
  port: number;
  /** Where notifications go (send_resolved on); without one they stay in Alertmanager's UI. */
  webhookUrl?: string;
  /** group_wait and group_interval (seconds matter in tests; defaults 10s and 1m). */
  groupWait?: string;
  groupInterval?: string;
}

export async function startAlertmanager(o: AlertmanagerOptions): Promise<Server> {
  const host = o.host ?? '127.0.0.1';
  await mkdir(join(o.dir, 'data'), { recursive: true });
  const config = {
    route: {
      receiver: 'default',
      group_by: ['...'], // one notification per alert: every label set is its own group
      group_wait: o.groupWait ?? '10s',
      group_interval: o.groupInterval ?? '1m',
      repeat_interval: '4h',
    },
    receivers: [{ name: 'default', ...(o.webhookUrl ? { webhook_configs: [{ url: o.webhookUrl, send_resolved: true }] } : {}) }],
  };
  const configFile = join(o.dir, 'alertmanager.yml');
  await writeFile(configFile, stringify(config));
  const url = `http://${host}:${o.port}`;
  return startServer('Alertmanager', 'prometheus-alertmanager', [
    `--config.file=${configFile}`,
    `--storage.path=${join(o.dir, 'data')}`,
    `--web.listen-address=${host}:${o.port}`,
    `--web.external-url=${url}`,
    '--cluster.listen-address=', // no gossip port: a single local instance
  ], url);
}

export interface PrometheusOptions {
  dir: string;
  host?: string;
  port: number;
  /** Rule files Prometheus loads (absolute paths or globs). */
  ruleFiles: string[];
  /** host:port of each Vigil to scrape (job "vigil"). */
  targets: string[];
  /** host:port of the Alertmanager alerts go to. */
  alertmanager?: string;
  scrapeInterval?: string;
  evaluationInterval?: string;
  /** How often firing alerts are re-sent to Alertmanager (Prometheus' default is 1m). */
  resendDelay?: string;
}

export async function startPrometheus(o: PrometheusOptions): Promise<Server> {
  const host = o.host ?? '127.0.0.1';
  await mkdir(join(o.dir, 'data'), { recursive: true });
  const config = {
    global: { scrape_interval: o.scrapeInterval ?? '15s', evaluation_interval: o.evaluationInterval ?? '15s' },
    rule_files: o.ruleFiles,
    ...(o.alertmanager ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [o.alertmanager] }] }] } } : {}),
    scrape_configs: [{ job_name: 'vigil', static_configs: [{ targets: o.targets }] }],
  };
  const configFile = join(o.dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  const url = `http://${host}:${o.port}`;
  return startServer('Prometheus', 'prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(o.dir, 'data')}`,
    `--web.listen-address=${host}:${o.port}`,
    `--web.external-url=${url}`,
    ...(o.resendDelay ? [`--rules.alert.resend-delay=${o.resendDelay}`] : []),
  ], url);
}

/** Prometheus' HTTP API: the `data` of a successful answer, or an error with the body. */
export async function promApi<T = any>(prometheusUrl: string, path: string): Promise<T> {
  const res = await fetch(`${prometheusUrl}${path}`, { signal: AbortSignal.timeout(5000) });
  const body = await res.json() as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`GET ${path}: ${res.status} ${body.error ?? JSON.stringify(body)}`);
  return body.data;
}
