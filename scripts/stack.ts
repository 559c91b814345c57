// Prometheus and Alertmanager on a running Vigil with the generated rules (ops/generated/rules):
// prints their URLs, runs until Ctrl-C, then stops both and removes their data. Run it through
// `npm run stack`, which installs the binaries first (scripts/stack.sh).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startAlertmanager, startPrometheus, type Server } from './lib/monitoring.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: '127.0.0.1:8080' },
    'prometheus-port': { type: 'string', default: '9090' },
    'alertmanager-port': { type: 'string', default: '9093' },
    rules: { type: 'string', default: resolve(import.meta.dirname, '../ops/generated/rules') },
  },
});

const rulesDir = resolve(values.rules);
const ruleFiles = (await readdir(rulesDir)).filter((f) => f.endsWith('.yaml')).map((f) => join(rulesDir, f));
const dir = await mkdtemp(join(tmpdir(), 'vigil-stack-'));
const started: Server[] = [];
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.allSettled(started.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  }
  process.exit(code);
}
process.on('SIGINT', () => { console.log('\nstopping'); void stop(0); });
process.on('SIGTERM', () => void stop(0));

try {
  const amPort = Number(values['alertmanager-port']);
  started.push(await startAlertmanager({ dir: join(dir, 'alertmanager'), port: amPort }));
  started.push(await startPrometheus({
    dir: join(dir, 'prometheus'), port: Number(values['prometheus-port']), ruleFiles, targets: [values.target],
    alertmanager: `127.0.0.1:${amPort}`, scrapeInterval: '5s', evaluationInterval: '5s',
  }));
} catch (err) {
  console.error((err as Error).message);
  await stop(1);
}

const [alertmanager, prometheus] = started;
const reachable = await fetch(`http://${values.target}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
console.log(`Prometheus    ${prometheus.url}  (rules: ${prometheus.url}/rules, alerts: ${prometheus.url}/alerts)
Alertmanager  ${alertmanager.url}
scraping      http://${values.target}/metrics every 5 s${reachable ? '' : '  (not answering yet: start Vigil with npm start)'}
rules         ${ruleFiles.length} files from ${rulesDir}
Ctrl-C stops both.`);
