// The generated Grafana dashboards as tests read them: their panels and every Prometheus expression in
// them, and those expressions with Grafana's variables made concrete enough for PromQL to run.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLAIN_DASHBOARDS_DIR, ROOT } from '../../ops/generate.ts';

type Obj = Record<string, any>;

/** [file name, dashboard] for every generated dashboard, in file order. */
export const dashboards = (): [string, Obj][] => readdirSync(join(ROOT, PLAIN_DASHBOARDS_DIR)).filter((f) => f.endsWith('.json')).sort()
  .map((f) => [f, JSON.parse(readFileSync(join(ROOT, PLAIN_DASHBOARDS_DIR, f), 'utf8'))]);

export const panels = (d: Obj): Obj[] => (d.panels as Obj[]).flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));

/** Every Prometheus expression of a dashboard: panel targets, and the selectors of label_values() variables. */
export const promExprs = (d: Obj): { where: string; expr: string }[] => [
  ...panels(d).flatMap((p) => (p.targets ?? []).filter((t: Obj) => t.datasource?.type === 'prometheus').map((t: Obj) => ({ where: `${d.uid} / ${p.title}`, expr: t.expr as string }))),
  ...(d.templating.list as Obj[]).filter((v) => v.type === 'query' && v.datasource?.type === 'prometheus').map((v) => {
    const m = /^label_values\((.+), (\w+)\)$/.exec(v.query.query);
    assert.ok(m, `${d.uid}: variable ${v.name}: ${v.query.query}`);
    return { where: `${d.uid} / $${v.name}`, expr: m[1] };
  }),
];

/** Grafana's variables as something PromQL parses: ranges as durations, template variables as regexes. */
export const concrete = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)/g, '5m').replace(/\$\{?\w+\}?/g, '.*');
