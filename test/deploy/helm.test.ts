// The Helm charts, rendered without helm: test/helm-render (Go text/template + sprig + Helm's own
// functions; Debian packages that test/run.sh installs) renders deploy/helm/vigil with its default
// values and with overrides, and these tests parse the objects and check what Kubernetes, the
// Prometheus Operator and Grafana's sidecar act on. Not checked here (docs/deploy.md): Helm's own
// value coalescing and --set, schema validation, hooks, and what an API server would refuse.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chart = join(root, 'deploy/helm/vigil');
const monitoringChart = join(root, 'deploy/helm/vigil-monitoring');

// Rendered Kubernetes objects, checked field by field.
type Obj = Record<string, any>;

let work: string;
let renderer: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'vigil-helm-'));
  renderer = join(work, 'helm-render');
  // Built once per run (GOPATH mode, Debian's packages; no network). Go's build cache makes the
  // second run take about a second.
  const build = spawnSync('go', ['build', '-o', renderer, 'test/helm-render/main.go'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOFLAGS: '', GOCACHE: process.env.GOCACHE || join(tmpdir(), 'vigil-go-build-cache') },
  });
  if (build.error) {
    assert.fail(`go is not installed (${(build.error as NodeJS.ErrnoException).code}): run the suite with test/run.sh, which installs `
      + 'golang-go, golang-github-masterminds-sprig-dev and golang-gopkg-yaml.v3-dev from Debian');
  }
  assert.equal(build.status, 0, `building test/helm-render:\n${build.stderr}`);
});
after(() => rmSync(work, { recursive: true, force: true }));

let valuesFiles = 0;
function run(chartDir: string, values?: Obj) {
  const args: string[] = [];
  if (values) {
    const file = join(work, `values-${valuesFiles++}.yaml`);
    writeFileSync(file, stringify(values));
    args.push('-f', file);
  }
  return spawnSync(renderer, [...args, '-name', 'gw', '-namespace', 'ai', chartDir], { encoding: 'utf8' });
}

function render(chartDir: string, values?: Obj): Obj[] {
  const result = run(chartDir, values);
  assert.equal(result.status, 0, `helm-render:\n${result.stderr}`);
  return parseAllDocuments(result.stdout).map((doc) => {
    assert.deepEqual(doc.errors, [], 'every rendered document is valid YAML');
    return doc.toJS() as Obj;
  }).filter((obj) => obj !== null);
}

const kinds = (objs: Obj[]) => objs.map((o) => o.kind).sort();
const one = (objs: Obj[], kind: string): Obj => {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0];
};
const isSubset = (small: Obj, big: Obj) => Object.entries(small).every(([k, v]) => big?.[k] === v);

/** A copy of the chart with small rule and dashboard files of the generators' shape instead of theirs. */
function chartWithFixtures(): string {
  const dir = join(work, 'chart-with-fixtures');
  if (existsSync(dir)) return dir;
  cpSync(chart, dir, { recursive: true });
  // Only the fixtures: the generated files are checked against ops/generated below.
  rmSync(join(dir, 'files/rules'), { recursive: true, force: true });
  rmSync(join(dir, 'files/dashboards'), { recursive: true, force: true });
  mkdirSync(join(dir, 'files/rules'), { recursive: true });
  mkdirSync(join(dir, 'files/dashboards'), { recursive: true });
  for (const [name, text] of Object.entries(fixtureRules)) writeFileSync(join(dir, 'files/rules', name), text);
  for (const [name, json] of Object.entries(fixtureDashboards)) writeFileSync(join(dir, 'files/dashboards', name), JSON.stringify(json, null, 2));
  return dir;
}

const fixtureRules: Record<string, string> = {
  '10-recording.yaml': `groups:
  - name: vigil-fixture-recording
    rules:
      - record: job:vigil_http_requests:rate5m
        expr: sum by (job) (rate(vigil_http_requests_total[5m]))
`,
  '20-alerts.yaml': `groups:
  - name: vigil-fixture-alerts
    rules:
      - alert: VigilFixtureHighErrorRate
        expr: sum(rate(vigil_http_requests_total{status=~"5.."}[5m])) / sum(rate(vigil_http_requests_total[5m])) > {{ .Values.alerting.thresholds.errorRate }}
        for: {{ .Values.alerting.for.critical }}
        labels: { severity: critical }
        annotations:
          summary: Vigil answers too many requests with a 5xx.
          description: '{{ "{{" }} $value | humanizePercentage }} of requests on {{ "{{" }} $labels.instance }} failed.'
`,
};
const fixtureDashboards: Record<string, Obj> = {
  'vigil-overview.json': { title: 'Vigil / Overview', uid: 'vigil-overview', panels: [{ type: 'timeseries', targets: [{ expr: 'sum(rate(vigil_http_requests_total[5m]))', legendFormat: '{{instance}}' }] }] },
  'vigil_runtime.json': { title: 'Vigil / Runtime', uid: 'vigil-runtime', panels: [] },
};

/** The groups the fixture files should become: Helm's actions replaced as the default values say. */
function expectedGroups(thresholds = { errorRate: '0.05' }): Obj[] {
  return Object.keys(fixtureRules).sort().flatMap((name) => parse(fixtureRules[name]
    .replaceAll('{{ .Values.alerting.thresholds.errorRate }}', thresholds.errorRate)
    .replaceAll('{{ .Values.alerting.for.critical }}', '5m')
    .replaceAll('{{ "{{" }}', '{{')).groups);
}

function promtoolCheckRules(groups: Obj[]): string {
  const file = join(work, `rules-${valuesFiles++}.yaml`);
  writeFileSync(file, stringify({ groups }));
  const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  if (check.error) assert.fail('promtool is not installed: run the suite with test/run.sh, which installs it from Debian');
  assert.equal(check.status, 0, `promtool check rules:\n${check.stdout}${check.stderr}`);
  return check.stdout;
}

describe('deploy/helm/vigil with its default values', () => {
  let objs: Obj[];
  before(() => { objs = render(chart); });

  test('renders the workload objects and none of the optional ones', () => {
    assert.deepEqual(kinds(objs), ['ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  });

  test('the Service and the Deployment select the pods; ports are named and agree with the config', () => {
    const deployment = one(objs, 'Deployment');
    const service = one(objs, 'Service');
    const pod = deployment.spec.template;
    assert.ok(isSubset(deployment.spec.selector.matchLabels, pod.metadata.labels), 'Deployment selector matches its pods');
    assert.ok(isSubset(service.spec.selector, pod.metadata.labels), 'Service selector matches the pods');
    const container = pod.spec.containers[0];
    const ports = Object.fromEntries(container.ports.map((p: Obj) => [p.name, p.containerPort]));
    const config = parse(one(objs, 'ConfigMap').data['vigil.yaml']);
    assert.deepEqual(ports, { http: config.server.port, metrics: config.metrics.listener.port });
    assert.deepEqual(ports, { http: 8080, metrics: 9091 });
    assert.deepEqual(service.spec.ports.map((p: Obj) => [p.name, p.targetPort]), [['http', 'http'], ['metrics', 'metrics']]);
    assert.equal(config.metrics.listener.enabled, true);
    assert.equal(config.metrics.main_port, false, 'metrics only on their own port');
  });

  test('probes: liveness and startup on /healthz, readiness on /readyz, on the API port', () => {
    const container = one(objs, 'Deployment').spec.template.spec.containers[0];
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(container.startupProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
  });

  test('security: non-root, read-only root, no capabilities, RuntimeDefault seccomp; writable /data and /tmp', () => {
    const spec = one(objs, 'Deployment').spec.template.spec;
    const container = spec.containers[0];
    assert.equal(spec.securityContext.runAsNonRoot, true);
    assert.ok(spec.securityContext.runAsUser > 0);
    assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.equal(spec.automountServiceAccountToken, false);
    const mounts = Object.fromEntries(container.volumeMounts.map((m: Obj) => [m.mountPath, m.name]));
    const volumes = Object.fromEntries(spec.volumes.map((v: Obj) => [v.name, v]));
    assert.ok(volumes[mounts['/data']].emptyDir, '/data is an emptyDir by default');
    assert.ok(volumes[mounts['/tmp']].emptyDir);
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory);
  });

  test('shutdown: the grace period outlasts the preStop sleep plus the drain', () => {
    const spec = one(objs, 'Deployment').spec.template.spec;
    const config = parse(one(objs, 'ConfigMap').data['vigil.yaml']);
    const sleep = Number(spec.containers[0].lifecycle.preStop.exec.command[1]);
    assert.deepEqual(spec.containers[0].lifecycle.preStop.exec.command, ['sleep', String(sleep)]);
    assert.ok(sleep > 0);
    assert.ok(spec.terminationGracePeriodSeconds > sleep + config.server.drain_timeout_ms / 1000,
      `${spec.terminationGracePeriodSeconds} s > ${sleep} s + ${config.server.drain_timeout_ms} ms`);
  });

  test('the container runs the gateway on every interface with the mounted config and /data', () => {
    const spec = one(objs, 'Deployment').spec.template.spec;
    const container = spec.containers[0];
    assert.equal(container.command, undefined, 'the image CMD (node, runtime flags, bin/vigil.js serve) is kept');
    assert.equal(container.args, undefined);
    const env = Object.fromEntries(container.env.map((e: Obj) => [e.name, e.value]));
    assert.equal(env.VIGIL_HOST, '0.0.0.0');
    assert.equal(env.VIGIL_DATA_DIR, '/data');
    const configMount = container.volumeMounts.find((m: Obj) => m.name === 'config');
    assert.equal(env.VIGIL_CONFIG, `${configMount.mountPath}/vigil.yaml`);
    const configVolume = spec.volumes.find((v: Obj) => v.name === 'config');
    assert.equal(configVolume.configMap.name, one(objs, 'ConfigMap').metadata.name);
    assert.equal(container.envFrom, undefined, 'no Secret unless one is given');
  });

  test('the rendered vigil.yaml passes `vigil config check`', () => {
    const file = join(work, 'rendered-vigil.yaml');
    writeFileSync(file, one(objs, 'ConfigMap').data['vigil.yaml']);
    const check = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'bin/vigil.js', 'config', 'check', '--config', file], {
      cwd: root, encoding: 'utf8', env: { ...process.env, VIGIL_HOST: '0.0.0.0', VIGIL_DATA_DIR: join(work, 'data') },
    });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  });

  test('the NetworkPolicy opens the API port and admits only the monitoring namespace to the metrics port', () => {
    const policy = one(objs, 'NetworkPolicy');
    assert.ok(isSubset(policy.spec.podSelector.matchLabels, one(objs, 'Deployment').spec.template.metadata.labels));
    const [api, metrics] = policy.spec.ingress;
    assert.deepEqual(api.ports, [{ port: 'http', protocol: 'TCP' }]);
    assert.equal(api.from, undefined);
    assert.deepEqual(metrics.ports, [{ port: 'metrics', protocol: 'TCP' }]);
    assert.deepEqual(metrics.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
  });

  test('alerting and dashboards on, with the chart as shipped: rules pass promtool, one ConfigMap per dashboard', () => {
    const shipped = render(chart, { alerting: { enabled: true }, grafana: { dashboards: { enabled: true } } });
    const rulesDir = join(chart, 'files/rules');
    const ruleFiles = existsSync(rulesDir) ? readdirSync(rulesDir).filter((f) => f.endsWith('.yaml')) : [];
    const rules = shipped.filter((o) => o.kind === 'PrometheusRule');
    assert.equal(rules.length, ruleFiles.length ? 1 : 0, 'a PrometheusRule exactly when files/rules has rule files');
    if (rules.length) promtoolCheckRules(rules[0].spec.groups);
    const dashboardsDir = join(chart, 'files/dashboards');
    const dashboards = existsSync(dashboardsDir) ? readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')) : [];
    assert.equal(shipped.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels.grafana_dashboard).length, dashboards.length);
  });
});

describe('deploy/helm/vigil rules as the ops/ generators wrote them', () => {
  const plainDir = join(root, 'ops/generated/rules');
  const plainGroups = () => readdirSync(plainDir).filter((f) => f.endsWith('.yaml')).sort()
    .flatMap((f) => parse(readFileSync(join(plainDir, f), 'utf8')).groups);

  test('rendered with default values, the PrometheusRule holds exactly the plain rule files', () => {
    const rule = one(render(chart, { alerting: { enabled: true } }), 'PrometheusRule');
    assert.deepEqual(rule.spec.groups, plainGroups());
  });

  test('alerting.thresholds and alerting.for reach the generated rules, SLO budgets computed by the chart', () => {
    const rule = one(render(chart, { alerting: { enabled: true, thresholds: { availability: 0.995, errorRate: 0.2 }, for: { critical: '7m' } } }), 'PrometheusRule');
    const rules = rule.spec.groups.flatMap((g: Obj) => g.rules);
    const budget = rules.find((r: Obj) => r.record === 'slo:error_budget:ratio' && r.labels.slo === 'availability');
    assert.equal(budget.expr, 'vector(0.005)', 'sprig decimal arithmetic: 1 - 0.995 exactly');
    const high = rules.find((r: Obj) => r.alert === 'VigilHighErrorRate');
    assert.match(high.expr, /> 0\.2$/);
    assert.equal(high.for, '7m');
  });

  test('alerting.links point every alert at the operator\'s runbooks and Grafana', () => {
    const links = { runbookBaseUrl: 'https://wiki.example/runbooks/', dashboardBaseUrl: 'https://grafana.example/d/' };
    const rule = one(render(chart, { alerting: { enabled: true, links } }), 'PrometheusRule');
    const alerts = rule.spec.groups.flatMap((g: Obj) => g.rules).filter((r: Obj) => r.alert);
    assert.ok(alerts.length > 20);
    for (const a of alerts) {
      assert.equal(a.annotations.runbook_url, `${links.runbookBaseUrl}${a.alert}.md`);
      assert.ok(a.annotations.dashboard_url.startsWith(links.dashboardBaseUrl), a.annotations.dashboard_url);
    }
  });
});

describe('deploy/helm/vigil with ServiceMonitor, alerting and dashboards on', () => {
  let objs: Obj[];
  const values = {
    serviceMonitor: { enabled: true, additionalLabels: { release: 'monitoring' } },
    alerting: { enabled: true, additionalLabels: { role: 'alert-rules' } },
    grafana: { dashboards: { enabled: true } },
  };
  before(() => { objs = render(chartWithFixtures(), values); });

  test('the ServiceMonitor selects the Service and scrapes its metrics port every 15 s', () => {
    const monitor = one(objs, 'ServiceMonitor');
    const service = one(objs, 'Service');
    assert.ok(isSubset(monitor.spec.selector.matchLabels, service.metadata.labels), 'selector matches the Service labels');
    assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ['ai'] });
    assert.equal(monitor.metadata.labels.release, 'monitoring');
    const [endpoint] = monitor.spec.endpoints;
    assert.ok(service.spec.ports.some((p: Obj) => p.name === endpoint.port), `port ${endpoint.port} is a Service port`);
    assert.deepEqual({ port: endpoint.port, path: endpoint.path, interval: endpoint.interval, scrapeTimeout: endpoint.scrapeTimeout },
      { port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '10s' });
  });

  test('the PrometheusRule holds the groups of files/rules/*.yaml, thresholds filled in, and passes promtool', () => {
    const rule = one(objs, 'PrometheusRule');
    assert.equal(rule.metadata.labels.role, 'alert-rules');
    assert.deepEqual(rule.spec.groups, expectedGroups());
    const alert = rule.spec.groups[1].rules[0];
    assert.equal(alert.annotations.description, '{{ $value | humanizePercentage }} of requests on {{ $labels.instance }} failed.');
    assert.match(promtoolCheckRules(rule.spec.groups), /SUCCESS: 2 rules found/);
  });

  test('alerting.thresholds reach the rules', () => {
    const rule = one(render(chartWithFixtures(), { alerting: { enabled: true, thresholds: { errorRate: 0.2 } } }), 'PrometheusRule');
    assert.deepEqual(rule.spec.groups, expectedGroups({ errorRate: '0.2' }));
  });

  test('one ConfigMap per dashboard file, with the sidecar label, the folder annotation and the JSON as is', () => {
    const maps = objs.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels.grafana_dashboard);
    assert.deepEqual(maps.flatMap((m) => Object.keys(m.data)).sort(), Object.keys(fixtureDashboards).sort());
    for (const map of maps) {
      assert.equal(map.metadata.labels.grafana_dashboard, '1');
      assert.equal(map.metadata.annotations.grafana_folder, 'Vigil');
      assert.match(map.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 name');
      const [file, json] = Object.entries(map.data)[0] as [string, string];
      assert.deepEqual(JSON.parse(json), fixtureDashboards[file]);
    }
    assert.equal(new Set(maps.map((m) => m.metadata.name)).size, maps.length);
  });

  test('the sidecar label is configurable', () => {
    const maps = render(chartWithFixtures(), { grafana: { dashboards: { enabled: true, label: 'dash', labelValue: 'yes', folder: '' } } })
      .filter((o) => o.kind === 'ConfigMap' && o.metadata.labels.dash);
    assert.equal(maps.length, 2);
    assert.ok(maps.every((m) => m.metadata.labels.dash === 'yes' && !m.metadata.annotations));
  });

  test('with empty rule and dashboard folders, alerting and dashboards render nothing', () => {
    const empty = join(work, 'chart-empty-files');
    cpSync(chart, empty, { recursive: true });
    rmSync(join(empty, 'files/rules'), { recursive: true, force: true });
    rmSync(join(empty, 'files/dashboards'), { recursive: true, force: true });
    const rendered = render(empty, values);
    assert.deepEqual(kinds(rendered), ['ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ServiceMonitor']);
  });
});

describe('deploy/helm/vigil values', () => {
  test('secret.env: a Secret whose keys the pods get as environment, for the config\'s env: references', () => {
    const objs = render(chart, {
      secret: { env: { OPENAI_API_KEY: 'sk-test', VIGIL_KEY_TEAM: 'k-test' } },
      config: {
        providers: { openai: { kind: 'openai', api_key: 'env:OPENAI_API_KEY' } },
        models: [{ name: 'gpt-4.1-mini', provider: 'openai' }],
        auth: { keys: [{ id: 'team', key: 'env:VIGIL_KEY_TEAM' }] },
      },
    });
    const secret = one(objs, 'Secret');
    const container = one(objs, 'Deployment').spec.template.spec.containers[0];
    assert.deepEqual(container.envFrom, [{ secretRef: { name: secret.metadata.name } }]);
    const config = one(objs, 'ConfigMap').data['vigil.yaml'] as string;
    const references = [...config.matchAll(/env:([A-Z0-9_]+)/g)].map((m) => m[1]).sort();
    assert.deepEqual(references, Object.keys(secret.stringData).sort(), 'every env: reference is a Secret key');
    assert.ok(!config.includes('sk-test'), 'no secret value in the ConfigMap');
    const defaults = one(render(chart), 'Deployment').spec.template.metadata.annotations;
    assert.notEqual(one(objs, 'Deployment').spec.template.metadata.annotations['checksum/secret'], defaults['checksum/secret'], 'a new Secret rolls the pods');
  });

  test('secret.existingSecret: no Secret rendered, the pods read the given one', () => {
    const objs = render(chart, { secret: { existingSecret: 'vigil-keys', env: { IGNORED: 'x' } } });
    assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0);
    assert.deepEqual(one(objs, 'Deployment').spec.template.spec.containers[0].envFrom, [{ secretRef: { name: 'vigil-keys' } }]);
  });

  test('autoscaling: an HPA on the Deployment, which then leaves replicas to it', () => {
    const objs = render(chart, { autoscaling: { enabled: true } });
    const hpa = one(objs, 'HorizontalPodAutoscaler');
    const deployment = one(objs, 'Deployment');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    assert.equal(deployment.spec.replicas, undefined);
    assert.ok(hpa.spec.minReplicas <= hpa.spec.maxReplicas);
  });

  test('persistence: a PVC mounted at /data', () => {
    const objs = render(chart, { persistence: { enabled: true, size: '5Gi' } });
    const claim = one(objs, 'PersistentVolumeClaim');
    assert.equal(claim.spec.resources.requests.storage, '5Gi');
    const data = one(objs, 'Deployment').spec.template.spec.volumes.find((v: Obj) => v.name === 'data');
    assert.equal(data.persistentVolumeClaim.claimName, claim.metadata.name);
  });

  test('the grace period follows server.drain_timeout_ms, and a set one too short is refused', () => {
    const longer = one(render(chart, { config: { server: { port: 8080, drain_timeout_ms: 120000 } } }), 'Deployment');
    assert.ok(longer.spec.template.spec.terminationGracePeriodSeconds > 125);
    const refused = run(chart, { shutdown: { terminationGracePeriodSeconds: 20 } });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /terminationGracePeriodSeconds \(20\) must exceed/);
  });

  test('without the metrics listener, metrics are scraped on the API port and no metrics port exists', () => {
    const objs = render(chart, { config: { server: { port: 9000 }, metrics: null }, serviceMonitor: { enabled: true } });
    assert.deepEqual(one(objs, 'Service').spec.ports.map((p: Obj) => p.name), ['http']);
    assert.deepEqual(one(objs, 'Deployment').spec.template.spec.containers[0].ports, [{ name: 'http', containerPort: 9000, protocol: 'TCP' }]);
    assert.equal(one(objs, 'ServiceMonitor').spec.endpoints[0].port, 'http');
    assert.equal(one(objs, 'NetworkPolicy').spec.ingress.length, 1);
  });
});

describe('deploy/helm/vigil-monitoring', () => {
  const chartYaml = parse(readFileSync(join(monitoringChart, 'Chart.yaml'), 'utf8'));
  const values = parse(readFileSync(join(monitoringChart, 'values.yaml'), 'utf8'));
  const stack = values['kube-prometheus-stack'];

  test('depends on kube-prometheus-stack from the prometheus-community repository, not vendored', () => {
    const [dep] = chartYaml.dependencies;
    assert.equal(dep.name, 'kube-prometheus-stack');
    assert.equal(dep.repository, 'https://prometheus-community.github.io/helm-charts');
    assert.ok(dep.version);
    assert.equal(existsSync(join(monitoringChart, 'charts')), false);
  });

  test('seed 000 defaults: Prometheus 7 d and 10Gi, discovery across namespaces; Grafana 2Gi; Alertmanager 120h and 1Gi', () => {
    const prometheus = stack.prometheus.prometheusSpec;
    assert.equal(prometheus.retention, '7d');
    assert.equal(prometheus.storageSpec.volumeClaimTemplate.spec.resources.requests.storage, '10Gi');
    for (const kind of ['serviceMonitor', 'podMonitor', 'rule', 'probe']) assert.equal(prometheus[`${kind}SelectorNilUsesHelmValues`], false, kind);
    assert.deepEqual(prometheus.serviceMonitorNamespaceSelector, {});
    assert.deepEqual(prometheus.ruleNamespaceSelector, {});
    assert.equal(stack.grafana.persistence.enabled, true);
    assert.equal(stack.grafana.persistence.size, '2Gi');
    const alertmanager = stack.alertmanager.alertmanagerSpec;
    assert.equal(alertmanager.retention, '120h');
    assert.equal(alertmanager.storage.volumeClaimTemplate.spec.resources.requests.storage, '1Gi');
  });

  test('Grafana\'s sidecar loads the vigil chart\'s dashboard ConfigMaps from every namespace into their folder', () => {
    const sidecar = stack.grafana.sidecar.dashboards;
    const vigil = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')).grafana.dashboards;
    assert.equal(sidecar.enabled, true);
    assert.equal(sidecar.searchNamespace, 'ALL');
    assert.equal(sidecar.label, vigil.label);
    assert.equal(sidecar.labelValue, vigil.labelValue);
    assert.equal(sidecar.folderAnnotation, vigil.folderAnnotation);
  });

  test('its templates render (NOTES.txt only; the dependency is not fetched here)', () => {
    assert.deepEqual(render(monitoringChart), []);
  });
});
