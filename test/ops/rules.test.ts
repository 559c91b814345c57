// The generated rules: current (regenerating changes nothing), valid (promtool check rules), proven
// (promtool test rules: every alert fires on its firing case and stays quiet on its quiet ones, labels
// and runbook URL included), built only from metrics and labels the catalog declares, and every alert
// has its runbook page and every page its alert.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { CATALOG } from '../../src/telemetry/metrics/catalog.ts';
import { DEFAULT_CONFIG } from '../../ops/config.ts';
import { HELM_DIR, PLAIN_DIR, ROOT, RUNBOOKS_DIR, sync, TESTS_FILE } from '../../ops/generate.ts';

type Obj = Record<string, any>;
const plainFiles = () => readdirSync(join(ROOT, PLAIN_DIR)).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(ROOT, PLAIN_DIR, f));
const rules = (): Obj[] => plainFiles().flatMap((f) => parse(readFileSync(f, 'utf8')).groups.flatMap((g: Obj) => g.rules));

function promtool(args: string[], cwd = ROOT) {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (run.error) assert.fail('promtool is not installed: run the suite with test/run.sh, which installs it from Debian');
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('ops/generated, the chart\'s rule files, the promtool tests and the runbook headers are current (npm run ops)', () => {
  assert.deepEqual(sync(false), []);
});

test('promtool check rules passes on every generated rule file', () => {
  const { status, output } = promtool(['check', 'rules', ...plainFiles()]);
  assert.equal(status, 0, output);
  assert.doesNotMatch(output, /WARNING/);
});

test('promtool test rules: every alert fires on its case and stays quiet on the others', () => {
  const { status, output } = promtool(['test', 'rules', TESTS_FILE.split('/').pop()!], join(ROOT, 'ops/tests'));
  assert.equal(status, 0, output);
  const tests = parse(readFileSync(join(ROOT, TESTS_FILE), 'utf8')).tests as Obj[];
  const alerts = new Set(rules().filter((r) => r.alert).map((r) => r.alert));
  for (const alert of alerts) {
    const cases = tests.flatMap((t) => t.alert_rule_test).filter((c: Obj) => c.alertname === alert);
    assert.ok(cases.some((c: Obj) => c.exp_alerts.length > 0), `${alert} has a firing case`);
    assert.ok(cases.some((c: Obj) => c.exp_alerts.length === 0), `${alert} has a quiet case`);
    for (const c of cases) for (const e of c.exp_alerts) assert.match(e.exp_annotations.runbook_url, new RegExp(`/${alert}\\.md$`));
  }
});

test('alerts follow the monitoring-mixins conventions', () => {
  for (const r of rules().filter((r) => r.alert)) {
    assert.match(r.alert, /^Vigil[A-Z][A-Za-z0-9]+$/);
    assert.ok(['critical', 'warning', 'info'].includes(r.labels.severity), `${r.alert}: severity`);
    assert.ok(r.for, `${r.alert}: for`);
    assert.match(r.annotations.summary, /^[^{}]+\.$/, `${r.alert}: a static summary sentence`);
    assert.match(r.annotations.description, /\{\{ \$(value|labels)/, `${r.alert}: a description with $value or labels`);
    assert.ok(r.annotations.runbook_url && r.annotations.dashboard_url, `${r.alert}: runbook and dashboard URLs`);
  }
});

test('rules name only metrics the catalog declares, with labels it declares, and recorded series that exist', () => {
  const catalog = new Map<string, Set<string>>(Object.values(CATALOG).map((m) => [m.name, new Set<string>(m.labels)]));
  // Series from outside Vigil, each named in the alert's `source` annotation.
  const external = /^(up|kube_pod_status_ready|kube_pod_container_status_restarts_total|kube_pod_container_status_waiting_reason)$/;
  const recorded = new Set(rules().filter((r) => r.record).map((r) => r.record));
  const problems: string[] = [];
  for (const r of rules()) {
    // A name, then optionally its matchers: `name{a="x",b=~"y"}`.
    for (const [, name, matchers = ''] of (r.expr as string).matchAll(/(?<![\w:"])([a-z_][a-z0-9_]*(?::[a-z0-9_]+)*)(?:\{([^}]*)\})?(?=\s*[[{)\s]|$)/g)) {
      const labels = [...matchers.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]);
      if (name.includes(':')) {
        if (!recorded.has(name)) problems.push(`${r.alert ?? r.record}: unknown recorded series ${name}`);
        continue;
      }
      const base = name.replace(/_(bucket|count|sum)$/, '');
      if (!/^(vigil|nodejs|process)_/.test(name) && !external.test(name)) continue; // PromQL keywords, functions
      if (external.test(name)) continue;
      const known = catalog.get(catalog.has(name) ? name : base);
      if (!known) { problems.push(`${r.alert ?? r.record}: ${name} is not in the catalog`); continue; }
      for (const l of labels) if (!known.has(l) && !(l === 'le' && name.endsWith('_bucket'))) problems.push(`${r.alert ?? r.record}: ${name} has no label ${l}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every alert has docs/runbooks/<Alert>.md and every runbook page an alert', () => {
  const alerts = new Set(rules().filter((r) => r.alert).map((r) => r.alert as string));
  const dir = join(ROOT, RUNBOOKS_DIR);
  const pages = new Set(existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md').map((f) => f.slice(0, -3)) : []);
  assert.deepEqual([...alerts].filter((a) => !pages.has(a)), [], 'alerts without a runbook');
  assert.deepEqual([...pages].filter((p) => !alerts.has(p)), [], 'runbooks without an alert');
  for (const alert of alerts) {
    const page = readFileSync(join(dir, `${alert}.md`), 'utf8');
    for (const heading of ['## What it means', '## First actions', '## Mitigations', '## False positives']) assert.ok(page.includes(heading), `${alert}.md: ${heading}`);
    assert.ok(page.includes('<!-- generated:alert -->'), `${alert}.md: the generated rule section`);
  }
});

test('the chart\'s values carry every threshold and `for:` of ops/config.ts, with the same defaults, and the rules read only those', () => {
  const values = parse(readFileSync(join(ROOT, 'deploy/helm/vigil/values.yaml'), 'utf8')).alerting as Obj;
  for (const kind of ['thresholds', 'for'] as const) {
    const defaults = Object.entries(DEFAULT_CONFIG[kind]).map(([k, v]) => [k, String(v)]);
    assert.deepEqual(Object.entries(values[kind]).map(([k, v]) => [k, String(v)]).sort(), defaults.sort(), `alerting.${kind}`);
  }
  const helm = readdirSync(join(ROOT, HELM_DIR)).map((f) => readFileSync(join(ROOT, HELM_DIR, f), 'utf8')).join('\n');
  for (const [, kind, key] of helm.matchAll(/\.Values\.alerting\.(thresholds|for)\.(\w+)/g)) assert.ok(key in values[kind], `alerting.${kind}.${key}`);
});

test('an alert with more than one way to fire has a promtool case for each', () => {
  const tests = parse(readFileSync(join(ROOT, TESTS_FILE), 'utf8')).tests as Obj[];
  const firing = (alert: string) => tests.filter((t) => t.alert_rule_test.some((c: Obj) => c.alertname === alert && c.exp_alerts.length)).length;
  for (const r of rules().filter((r) => r.alert && /\) or \(/.test(r.expr))) assert.ok(firing(r.alert) >= 2, `${r.alert}: one firing case per alternative of (a) or (b)`);
  assert.ok(firing('VigilBruteForceDetected') >= 2);
});
