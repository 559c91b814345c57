// The generated rules on a real Prometheus scraping a real Vigil, alerting a real Alertmanager whose
// webhook is a tiny HTTP server here. test/run.sh installs both servers from Debian's packages; a
// missing binary fails the test (scripts/lib/monitoring.ts says how to install it), it never skips.
//
// Test profile (ops/profile.ts writes it to a temporary directory; ops/generated is not touched):
// scrapes and every rule group evaluate each second, the page-severity `for:` values (critical,
// sloPage) are 3 s, and firing alerts are re-sent every second. Thresholds and windows are the
// shipped ones (5m, 1h, ...): Prometheus' rate() over a window that holds less data uses the data
// it has, so a window of 5 minutes behaves as "the run so far". The alerts therefore clear by
// dilution, not by ageing out: after the failures stop, good requests drive the 5xx share under
// the 5 % threshold and the upstream error ratio under 14.4× its budget, which is what a recovered
// gateway under steady traffic does too, only faster. The burn-rate alerts' low-traffic guard is the
// shipped one too (0.1 requests/s over 1h, i.e. 360 requests): the steady trickle passes it within the
// failing phase, so the page also proves the guard lets a busy gateway page.
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_CONFIG } from '../../ops/config.ts';
import { writeRules } from '../../ops/profile.ts';
import { promApi, startAlertmanager, startPrometheus, type Server } from '../../scripts/lib/monitoring.ts';
import { concrete, dashboards, promExprs } from '../helpers/dashboards.ts';
import { freePort, startGateway, type Gateway } from '../helpers/gateway.ts';

interface Notified { status: 'firing' | 'resolved'; labels: Record<string, string>; annotations: Record<string, string> }

const delay = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const PAGE_ALERTS = ['VigilHighErrorRate', 'VigilUpstreamAvailabilityBudgetBurn'];

let dir: string;
let gateway: Gateway | undefined;
let prometheus: Server | undefined;
let alertmanager: Server | undefined;
let webhook: HttpServer | undefined;
const notified: Notified[] = [];

// Traffic: a steady trickle of good requests (some streamed), failing ones while `failing` is set,
// and a burst of good ones while `diluting` is set.
let running = true;
let failing = false;
let diluting = false;
const sent = { good: 0, bad: 0 };
const loops: Promise<void>[] = [];
/** The first unexpected answer or error of the traffic; every wait fails on it. */
let trafficError: Error | undefined;

async function chat(model: string, stream = false): Promise<number> {
  const res = await fetch(`${gateway!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

function trafficLoop(pick: () => { model: string; stream?: boolean } | undefined, pauseMs: number): Promise<void> {
  return (async () => {
    while (running) {
      const next = pick();
      if (next) {
        try {
          const status = await chat(next.model, next.stream);
          if (next.model === 'good') {
            assert.equal(status, 200);
            sent.good++;
          } else {
            assert.equal(status, 502);
            sent.bad++;
          }
        } catch (err) {
          if (running) trafficError ??= err as Error;
        }
      }
      await delay(pauseMs);
    }
  })();
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-prom-e2e-'));
  webhook = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (t: string) => { body += t; }).on('end', () => {
      notified.push(...(JSON.parse(body) as { alerts: Notified[] }).alerts);
      res.end();
    });
  });
  await new Promise<void>((ok) => webhook!.listen(0, '127.0.0.1', ok));
  const webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/alerts`;

  gateway = await startGateway({
    providers: { mock: { kind: 'mock' }, broken: { kind: 'mock', error_rates: { server_error: 1 } } },
    // Priced, so the cost rules have series to sum.
    // 'bad' without a breaker: its failures stay 502 provider errors. An open breaker would answer 503
    // GW_NO_DEPLOYMENT_AVAILABLE, a gateway-side error that burns the availability SLO this test shows untouched.
    models: [{ name: 'good', provider: 'mock', pricing: { input_per_mtok: 1, output_per_mtok: 2 } }, { name: 'bad', provider: 'broken', breaker: { enabled: false } }],
  });
  const ruleFiles = writeRules(join(dir, 'rules'), { for: { critical: '3s', sloPage: '3s' }, groupInterval: '1s' });
  const [amPort, promPort] = [await freePort(), await freePort()];
  alertmanager = await startAlertmanager({ dir: join(dir, 'am'), port: amPort, webhookUrl, groupWait: '1s', groupInterval: '1s' });
  prometheus = await startPrometheus({
    dir: join(dir, 'prom'), port: promPort, ruleFiles, targets: [new URL(gateway.url).host],
    alertmanager: `127.0.0.1:${amPort}`, scrapeInterval: '1s', evaluationInterval: '1s', resendDelay: '1s',
  });
  let tick = 0;
  loops.push(trafficLoop(() => ({ model: 'good', stream: ++tick % 3 === 0 }), 100));
  loops.push(trafficLoop(() => (failing ? { model: 'bad' } : undefined), 100));
  for (let i = 0; i < 4; i++) loops.push(trafficLoop(() => (diluting ? { model: 'good' } : undefined), 2));
});

after(async () => {
  running = false;
  await Promise.allSettled(loops);
  // Every process this file started, whatever happened before.
  await Promise.allSettled([prometheus?.stop(), alertmanager?.stop(), gateway?.stop()]);
  await new Promise<void>((ok) => (webhook ? webhook.close(() => ok()) : ok()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Polls `check` until it returns a value (not undefined) or the deadline passes; then fails with `describe()`. */
async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, describe: () => Promise<string> | string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (trafficError) throw trafficError;
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs / 1000} s\n${await describe()}\nsent ${JSON.stringify(sent)}`);
    await delay(500);
  }
}

interface RuleState { name: string; type: 'recording' | 'alerting'; health: string; lastError?: string; lastEvaluation: string; state?: string; alerts?: { labels: Record<string, string>; state: string }[] }
const rules = async (): Promise<RuleState[]> =>
  (await promApi<{ groups: { rules: RuleState[] }[] }>(prometheus!.url, '/api/v1/rules')).groups.flatMap((g) => g.rules);
const query = async (expr: string): Promise<unknown[]> =>
  (await promApi<{ result: unknown[] }>(prometheus!.url, `/api/v1/query?query=${encodeURIComponent(expr)}`)).result;

// Recording rules the traffic cannot fill: no histogram observations (the mock waits for no upstream
// connection). They must still evaluate cleanly. (Per-identity cost is on by default: identity="anonymous".)
const NO_DATA_EXPECTED = new Set([
  'provider:vigil_upstream_queue_wait_seconds:p50_rate5m',
  'provider:vigil_upstream_queue_wait_seconds:p95_rate5m',
  'provider:vigil_upstream_queue_wait_seconds:p99_rate5m',
]);

test('every recording rule evaluates without error, and those the traffic exercises return data', async () => {
  const empty = await eventually('all recording rules evaluated, and returning data', 45_000, async () => {
    const recording = (await rules()).filter((r) => r.type === 'recording');
    assert.ok(recording.length > 50, `${recording.length} recording rules loaded`);
    if (recording.some((r) => r.health !== 'ok')) return undefined; // "unknown" until first evaluated
    for (const r of recording) assert.equal(r.lastError ?? '', '', `${r.name}: ${r.lastError}`);
    const names = [...new Set(recording.map((r) => r.name))];
    const empty: string[] = [];
    for (const name of names) if ((await query(name)).length === 0) empty.push(name);
    const unexpected = empty.filter((n) => !NO_DATA_EXPECTED.has(n));
    return unexpected.length === 0 ? empty : undefined;
  }, async () => {
    const recording = (await rules()).filter((r) => r.type === 'recording');
    const bad = recording.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`);
    const empty: string[] = [];
    for (const name of new Set(recording.map((r) => r.name))) if ((await query(name)).length === 0 && !NO_DATA_EXPECTED.has(name)) empty.push(name);
    return `not ok: ${bad.join('; ') || 'none'}\nno data: ${empty.join(', ') || 'none'}`;
  });
  // The exceptions are real: if the traffic starts filling one, it belongs in the checked set.
  assert.deepEqual(empty.sort(), [...NO_DATA_EXPECTED].sort());
  // Alerting rules too: every expression evaluates.
  for (const r of (await rules()).filter((x) => x.type === 'alerting')) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
});

test('injected upstream failures page: the SLO burn-rate and high-error-rate alerts reach Alertmanager', async () => {
  failing = true;
  const firing = await eventually('both page alerts notified by Alertmanager', 45_000, async () => {
    const found = PAGE_ALERTS.map((name) => notified.find((a) => a.status === 'firing' && a.labels.alertname === name
      && (name !== 'VigilUpstreamAvailabilityBudgetBurn' || a.labels.long_window === '1h')));
    return found.every(Boolean) ? found as Notified[] : undefined;
  }, async () => `notified: ${JSON.stringify(notified.map((a) => [a.status, a.labels.alertname]))}\nPrometheus alerts: ${JSON.stringify(await promApi(prometheus!.url, '/api/v1/alerts'))}`);
  failing = false;
  for (const alert of firing) {
    const name = alert.labels.alertname;
    assert.equal(alert.labels.severity, 'critical', name);
    assert.equal(alert.annotations.runbook_url, `${DEFAULT_CONFIG.links.runbookBaseUrl}${name}.md`);
    assert.match(alert.annotations.dashboard_url, /^http:\/\/grafana\.local\/d\/vigil-/);
    assert.ok(alert.annotations.summary && alert.annotations.description, name);
    assert.doesNotMatch(alert.annotations.description, /\{\{/, 'templates expanded');
  }
  const burn = firing[1];
  assert.equal(burn.labels.slo, 'upstream');
  assert.deepEqual([burn.labels.short_window, burn.labels.burn_factor], ['5m', '14.4']);
  // Gateway-caused failures are a separate SLO: provider failures do not burn it.
  assert.equal(notified.some((a) => a.labels.alertname === 'VigilAvailabilityBudgetBurn'), false);
});

// Panels the test's traffic leaves empty: features it does not use (tools, gateway keys, limits, budgets,
// PostgreSQL; Redis shows its gauges at 0), faults it does not cause (auth failures, 429s, a full connection queue, OTLP drops,
// series overflow, lost audit events) and calls that are all priced. The gateway is open (no key), so
// its spend is identity="anonymous", which per-key panels leave out, and nothing writes audit events.
// Routing: both aliases have one deployment (one attempt each: no retry, no fallback), no breaker ever
// leaves closed ('good' never fails, 'bad' has none: their state series read 0, transitions none), and no
// alias caches (no lookups; the entry gauge reads 0 and shows).
// Every other panel must show data once the failures have run.
const EMPTY_PANELS_EXPECTED = new Set([
  'vigil-access / Auth failures by reason',
  'vigil-access / Auth failures/min',
  'vigil-access / Blocked answers/min',
  'vigil-access / Brute-force guard: delayed and blocked',
  'vigil-access / Rate-limit checks by scope and result',
  'vigil-access / Rate-limit rejection ratio by scope',
  'vigil-access / Budget refusals by scope and period',
  'vigil-access / Budget used, top 10 identities',
  'vigil-access / Spend per key, top 10 (USD/h)',
  'vigil-access / Unpriced calls by model',
  'vigil-access / Audit events by type',
  'vigil-access / PostgreSQL pool connections',
  'vigil-cost / Zero-priced calls: models with calls but no recorded cost',
  'vigil-llm / Upstream 429 share by provider',
  'vigil-llm / Tool calls by tool',
  'vigil-llm / Upstream queue wait p99',
  'vigil-overview / Auth failures',
  'vigil-overview / Upstream queue depth',
  'vigil-overview / Upstream queue wait p99',
  'vigil-runtime / OTLP export drops',
  'vigil-runtime / Metric series overflow',
  'vigil-runtime / Upstream queue depth',
  'vigil-runtime / Upstream queue wait p99',
  'vigil-routing / Breaker transitions by deployment',
  'vigil-routing / Retry share',
  'vigil-routing / Retries by alias and reason',
  'vigil-routing / Retry share by alias',
  'vigil-routing / Fallbacks from → to',
  'vigil-routing / Fallback share by alias',
  'vigil-routing / Cache hit ratio',
  'vigil-routing / Cache hit ratio by alias',
  'vigil-routing / Cache lookups by alias and result',
  // The traffic is the mock's chat completions: no prompt cache, refusal, drain or passthrough.
  'vigil-api / Prompt-cache hit ratio',
  'vigil-api / Refusal share',
  'vigil-api / Capped drain share',
  'vigil-api / Passthrough',
  'vigil-api / Prompt-cache tokens read and written',
  'vigil-api / Prompt-cache hit ratio by provider and model',
  'vigil-api / Translation refusals by field',
  'vigil-api / Stream drains by result',
  'vigil-api / Passthrough bytes by provider and direction',
]);

test('every dashboard query runs against the live Prometheus, and shows data wherever the traffic reaches', async () => {
  const failed: string[] = [];
  const empty = new Set<string>();
  for (const [, dashboard] of dashboards()) {
    for (const { where, expr } of promExprs(dashboard)) {
      const got = await query(concrete(expr)).catch((err: Error) => { failed.push(`${where}: ${err.message}`); return [undefined]; });
      if (got.length === 0) empty.add(where);
    }
  }
  assert.deepEqual(failed, [], 'every panel and variable query evaluates');
  // The exceptions are real: a panel the traffic starts filling belongs in the checked set.
  assert.deepEqual([...empty].sort(), [...EMPTY_PANELS_EXPECTED].sort(), 'panels without data');
});

test('the alerts resolve when the failures stop', async () => {
  failing = false;
  diluting = true;
  await eventually('Alertmanager sends resolved for both page alerts', 55_000, async () => {
    const resolved = PAGE_ALERTS.every((name) => notified.some((a) => a.status === 'resolved' && a.labels.alertname === name
      && (name !== 'VigilUpstreamAvailabilityBudgetBurn' || a.labels.long_window === '1h')));
    return resolved || undefined;
  }, async () => `notified: ${JSON.stringify(notified.map((a) => [a.status, a.labels.alertname, a.labels.long_window]))}\n`
    + `5xx share: ${JSON.stringify(await query('sum(rate(vigil_http_requests_total{status=~"5.."}[5m])) / sum(rate(vigil_http_requests_total[5m]))'))}`);
  diluting = false;
  const active = (await promApi<{ alerts: { labels: Record<string, string> }[] }>(prometheus!.url, '/api/v1/alerts')).alerts;
  assert.deepEqual(active.filter((a) => PAGE_ALERTS.includes(a.labels.alertname) && a.labels.severity === 'critical'
    && (a.labels.long_window ?? '1h') === '1h'), []);
});
