// `npm run ops`: writes ops/generated/rules (what Prometheus loads), the chart's copies in
// deploy/helm/vigil/files/rules, the Grafana dashboards (ops/generated/dashboards and the chart's
// deploy/helm/vigil/files/dashboards, the same bytes), the promtool tests in ops/tests, and the generated part of each
// docs/runbooks page. `--check` writes nothing and fails on any difference (test/ops/rules.test.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, type OpsConfig } from './config.ts';
import { dashboards, dashboardText } from './dashboards.ts';
import { promtoolTests, ruleFiles, ruleFileText } from './render.ts';
import { runbookSections } from './runbooks.ts';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const PLAIN_DIR = 'ops/generated/rules';
export const HELM_DIR = 'deploy/helm/vigil/files/rules';
export const PLAIN_DASHBOARDS_DIR = 'ops/generated/dashboards';
export const HELM_DASHBOARDS_DIR = 'deploy/helm/vigil/files/dashboards';
export const TESTS_FILE = 'ops/tests/alerts.test.yaml';
export const RUNBOOKS_DIR = 'docs/runbooks';

/** Every generated file (path relative to the repository → content); runbooks: only their generated part. */
export function outputs(config: OpsConfig = DEFAULT_CONFIG): Map<string, string> {
  const files = ruleFiles(config);
  const out = new Map<string, string>();
  for (const file of files) {
    out.set(`${PLAIN_DIR}/${file.file}`, ruleFileText(config, file, false));
    out.set(`${HELM_DIR}/${file.file}`, ruleFileText(config, file, true));
  }
  for (const [file, dashboard] of dashboards(config)) {
    const text = dashboardText(dashboard);
    out.set(`${PLAIN_DASHBOARDS_DIR}/${file}`, text);
    out.set(`${HELM_DASHBOARDS_DIR}/${file}`, text);
  }
  out.set(TESTS_FILE, promtoolTests(config, files, '../generated/rules'));
  for (const [alert, section] of runbookSections(files)) {
    const path = `${RUNBOOKS_DIR}/${alert}.md`;
    const current = existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : undefined;
    // A runbook's prose is written by hand; without a page there is nothing to fill (the test says so).
    if (current !== undefined) out.set(path, current.replace(/<!-- generated:alert -->\n[\s\S]*?<!-- \/generated:alert -->/, section));
  }
  return out;
}

/** Plain rule files for one configuration (`vigil rules render`). */
export function writePlainRules(config: OpsConfig, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return ruleFiles(config).map((file) => {
    const path = join(dir, file.file);
    writeFileSync(path, ruleFileText(config, file, false));
    return path;
  });
}

/** Paths whose content differs from what the generators produce (stale rule files included). */
export function sync(write: boolean): string[] {
  const out = outputs();
  const stale: string[] = [];
  for (const dir of [PLAIN_DIR, HELM_DIR, PLAIN_DASHBOARDS_DIR, HELM_DASHBOARDS_DIR]) {
    if (!existsSync(join(ROOT, dir))) continue;
    for (const f of readdirSync(join(ROOT, dir))) {
      if (out.has(`${dir}/${f}`)) continue;
      stale.push(`${dir}/${f}`);
      if (write) rmSync(join(ROOT, dir, f));
    }
  }
  for (const [path, text] of out) {
    const full = join(ROOT, path);
    if (existsSync(full) && readFileSync(full, 'utf8') === text) continue;
    stale.push(path);
    if (write) {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
    }
  }
  return stale;
}

if (import.meta.main) {
  const check = process.argv.includes('--check');
  const stale = sync(!check);
  if (check && stale.length) {
    console.error(`out of date: ${stale.join(', ')} (run npm run ops)`);
    process.exit(1);
  }
  console.log(stale.length ? `updated ${stale.join(', ')}` : 'ops/generated up to date');
}
