// The generated Grafana dashboards: current (the generator's --check covers them), one per uid in
// ops/config.ts (so alerts' dashboard_url resolve), every panel on a datasource variable, every PromQL
// expression naming only catalog metrics and labels or recorded series the rules emit, parseable by
// promtool, and the chart's copies equal to the plain files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { CATALOG } from '../../src/telemetry/metrics/catalog.ts';
import { DASHBOARDS } from '../../ops/config.ts';
import { HELM_DASHBOARDS_DIR, PLAIN_DASHBOARDS_DIR, PLAIN_DIR, ROOT, sync } from '../../ops/generate.ts';
import { concrete, dashboards, panels, promExprs } from '../helpers/dashboards.ts';

type Obj = Record<string, any>;
const files = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.json')).sort();
const rules = (): Obj[] => readdirSync(join(ROOT, PLAIN_DIR)).filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parse(readFileSync(join(ROOT, PLAIN_DIR, f), 'utf8')).groups.flatMap((g: Obj) => g.rules));

test('the dashboards, plain and the chart\'s copies, are current (npm run ops)', () => {
  assert.deepEqual(sync(false).filter((p) => p.includes('dashboards')), []);
});

test('one dashboard per uid of ops/config.ts, file named by its uid, and alerts link only to those', () => {
  const uids = dashboards().map(([f, d]) => { assert.equal(f, `${d.uid}.json`); return d.uid; });
  assert.deepEqual(uids.sort(), Object.values(DASHBOARDS).sort());
  for (const r of rules().filter((r) => r.alert)) {
    const uid = (r.annotations.dashboard_url as string).split('/').pop();
    assert.ok(uids.includes(uid!), `${r.alert}: dashboard_url ${r.annotations.dashboard_url} has no dashboard`);
  }
});

test('the chart ships the same dashboard files', () => {
  assert.deepEqual(files(HELM_DASHBOARDS_DIR), files(PLAIN_DASHBOARDS_DIR));
  for (const f of files(PLAIN_DASHBOARDS_DIR)) {
    assert.equal(readFileSync(join(ROOT, HELM_DASHBOARDS_DIR, f), 'utf8'), readFileSync(join(ROOT, PLAIN_DASHBOARDS_DIR, f), 'utf8'), f);
  }
});

test('every panel and query reads a datasource variable (DS_PROMETHEUS / DS_LOKI), never __inputs', () => {
  for (const [f, d] of dashboards()) {
    assert.ok(!('__inputs' in d), `${f}: __inputs`);
    assert.doesNotMatch(JSON.stringify(d), /\$\{DS_(?!PROMETHEUS\}|LOKI\})/, `${f}: unknown datasource variable`);
    const variables = new Set((d.templating.list as Obj[]).filter((v) => v.type === 'datasource').map((v) => v.name));
    const ids = new Set<number>();
    for (const p of panels(d)) {
      assert.ok(!ids.has(p.id), `${f} / ${p.title}: duplicate panel id ${p.id}`);
      ids.add(p.id);
      const want = { prometheus: `\${DS_PROMETHEUS}`, loki: `\${DS_LOKI}` }[p.datasource?.type as string];
      assert.ok(want && p.datasource.uid === want, `${f} / ${p.title}: datasource ${JSON.stringify(p.datasource)}`);
      assert.ok(variables.has(want.slice(2, -1)), `${f}: no ${want} variable`);
      assert.ok(p.targets?.length, `${f} / ${p.title}: no query`);
      for (const t of p.targets) assert.deepEqual(t.datasource, p.datasource, `${f} / ${p.title}: query datasource`);
    }
  }
});

test('instance, provider and model template variables exist where panels use them', () => {
  for (const [f, d] of dashboards()) {
    const names = new Set((d.templating.list as Obj[]).map((v) => v.name));
    for (const used of JSON.stringify(d.panels).matchAll(/\$(\w+)/g)) {
      if (used[1].startsWith('__')) continue;
      assert.ok(names.has(used[1]), `${f}: $${used[1]} has no variable`);
    }
  }
  const overview = dashboards().find(([, d]) => d.uid === DASHBOARDS.overview)![1];
  const llm = dashboards().find(([, d]) => d.uid === DASHBOARDS.llm)![1];
  for (const v of ['DS_PROMETHEUS', 'instance', 'provider']) assert.ok(overview.templating.list.some((x: Obj) => x.name === v), v);
  for (const v of ['provider', 'model']) assert.ok(llm.templating.list.some((x: Obj) => x.name === v), v);
});

test('PromQL names only metrics and labels the catalog declares, or series the recording rules emit', () => {
  const catalog = new Map<string, Set<string>>(Object.values(CATALOG).map((m) => [m.name, new Set<string>(m.labels)]));
  // A recorded series has the labels its level names (`provider_model:…`), its rule's static labels and,
  // for slo:… series, what its expression groups by (the per-model LLM latency SLI).
  const recorded = new Map<string, Set<string>>();
  for (const r of rules().filter((r) => r.record)) {
    const labels = recorded.get(r.record) ?? new Set<string>();
    const level = r.record.split(':')[0];
    if (level !== 'slo') for (const l of level.split('_')) labels.add(l);
    for (const l of Object.keys(r.labels ?? {})) labels.add(l);
    if (level === 'slo') for (const [, list] of (r.expr as string).matchAll(/\bby \(([^)]*)\)/g)) for (const l of list.split(',')) labels.add(l.trim());
    recorded.set(r.record, labels);
  }
  const scrape = new Set(['instance', 'job']);
  const problems: string[] = [];
  let checked = 0;
  for (const [, d] of dashboards()) {
    for (const { where, expr } of promExprs(d)) {
      const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""'); // no names inside strings
      for (const [, name, matchers = ''] of expr.replace(/by \([^)]*\)|on \([^)]*\)/g, '').matchAll(/(?<![\w:"$])([a-z_][a-z0-9_]*(?::[a-z0-9_]+)*)(?:\{([^}]*)\})?(?=\s*[[{)\s]|$)/g)) {
        if (!bare.includes(name)) continue;
        const labels = [...matchers.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]);
        let known: Set<string> | undefined;
        if (name.includes(':')) known = recorded.get(name);
        else if (/^(vigil|nodejs|process)_/.test(name)) known = catalog.get(name) ?? catalog.get(name.replace(/_(bucket|count|sum)$/, ''));
        else continue; // PromQL functions and keywords
        checked++;
        if (!known) { problems.push(`${where}: ${name} is neither in the catalog nor recorded`); continue; }
        for (const l of labels) if (!known.has(l) && !scrape.has(l) && !(l === 'le' && name.endsWith('_bucket'))) problems.push(`${where}: ${name} has no label ${l}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked > 100, `only ${checked} series checked: the parser missed expressions`);
});

test('catalog labels the dashboards group by exist on the series they read', () => {
  const all = new Set(['instance', 'job', 'le', ...Object.values(CATALOG).flatMap((m) => m.labels)]);
  const problems: string[] = [];
  for (const [, d] of dashboards()) {
    for (const { where, expr } of promExprs(d)) {
      for (const [, list] of expr.matchAll(/\b(?:by|on) \(([^)]*)\)/g)) {
        for (const l of list.split(',').map((s) => s.trim())) if (!all.has(l)) problems.push(`${where}: ${l}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('promtool parses every Prometheus expression of every dashboard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-dash-'));
  try {
    const paths = dashboards().map(([f, d]) => {
      const rules = promExprs(d).map(({ expr }, i) => ({ record: `dashboard:expr:${i}`, expr: concrete(expr) }));
      const path = join(dir, f.replace(/\.json$/, '.yaml'));
      writeFileSync(path, stringify({ groups: [{ name: d.uid, rules }] }));
      return path;
    }).filter((p) => parse(readFileSync(p, 'utf8')).groups[0].rules.length);
    const run = spawnSync('promtool', ['check', 'rules', ...paths], { encoding: 'utf8' });
    if (run.error) assert.fail('promtool is not installed: run the suite with test/run.sh, which installs it from Debian');
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Logs dashboard queries Loki by request_id and trace_id and shows error lines', () => {
  const logs = dashboards().find(([, d]) => d.uid === DASHBOARDS.logs)![1];
  const exprs = panels(logs).flatMap((p) => p.targets.map((t: Obj) => t.expr as string));
  assert.ok(exprs.every((e) => e.includes('request_id=~') && e.includes('trace_id=~')));
  assert.ok(exprs.some((e) => /severity_text=~"\(\?i\)\(error/.test(e)));
  assert.ok(panels(logs).some((p) => p.type === 'logs'));
});

test('the Access and spend dashboard shows every access, spend and store family of the catalog', () => {
  const access = dashboards().find(([, d]) => d.uid === DASHBOARDS.access)![1];
  const text = promExprs(access).map(({ expr }) => expr).join('\n');
  const families = ['authFailures', 'authBlocked', 'authOpen', 'gatewayKeys', 'rateLimitChecks', 'rateLimitBuckets', 'budgetExceeded', 'quotaUsed',
    'auditEvents', 'auditDropped', 'redisDegraded', 'redisHealth', 'identityCost', 'unpricedCalls', 'storeQueryDuration', 'storeConnections'] as const;
  const missing = families.map((k) => CATALOG[k].name).filter((name) => !new RegExp(`\\b${name}(_bucket)?\\b`).test(text));
  assert.deepEqual(missing, []);
});

test('the Routing and resilience dashboard shows every routing family of the catalog, breaker states named', () => {
  const routing = dashboards().find(([, d]) => d.uid === DASHBOARDS.routing)![1];
  const text = promExprs(routing).map(({ expr }) => expr).join('\n');
  const families = ['routingDecisions', 'routingDuration', 'requestAttempts', 'retries', 'fallbacks', 'breakerState', 'breakerTransitions',
    'deploymentInFlight', 'routableDeployments', 'cacheLookups', 'cacheEntries'] as const;
  const missing = families.map((k) => CATALOG[k].name).filter((name) => !new RegExp(`\\b${name}(_bucket)?\\b`).test(text));
  assert.deepEqual(missing, []);
  // The state timeline reads the gauge's numbers as the catalog's help names them (0 closed, 1 open, 2 half-open).
  const timeline = panels(routing).find((p) => p.type === 'state-timeline');
  assert.ok(timeline, 'a state timeline of the breakers');
  const names = Object.fromEntries(Object.entries(timeline.fieldConfig.defaults.mappings[0].options).map(([v, o]) => [v, (o as Obj).text]));
  assert.deepEqual(names, { 0: 'closed', 1: 'open', 2: 'half-open' });
  assert.match(CATALOG.breakerState.help, /0 closed, 1 open \(skipped\), 2 half-open/);
});
