import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const vigil = (args: string[]) => spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'bin/vigil.js', ...args], { cwd: root, encoding: 'utf8' });

test('vigil rules render writes the rule files for the config\'s SLO targets and latency budget', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'vigil.yaml');
  const base = 'providers: { mock: { kind: mock } }\nmodels: [{ name: mock-chat, provider: mock }]\n';
  writeFileSync(config, `slo: { latency_budget_ms: 25, targets: { availability: 0.995 } }\n${base}`);
  const run = vigil(['rules', 'render', '--config', config, '--out', join(dir, 'rules')]);
  assert.equal(run.status, 0, run.stderr);
  const slo = readFileSync(join(dir, 'rules/10-slo-recording.yaml'), 'utf8');
  assert.match(slo, /record: slo:error_budget:ratio\n\s+expr: vector\(0\.005\)/, 'exactly 1 - 0.995');
  assert.match(slo, /vigil_gateway_overhead_seconds_bucket\{route=~"\/v1\/\.\+",le="0\.025"\}/);

  writeFileSync(config, `slo: { latency_budget_ms: 7 }\n${base}`);
  const refused = vigil(['rules', 'render', '--config', config, '--out', join(dir, 'other')]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /slo\.latency_budget_ms: 0\.007 s is not a bucket bound/);
});
