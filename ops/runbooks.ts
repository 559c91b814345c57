// The generated part of each docs/runbooks/<Alert>.md: severity, `for:`, the tunable values with their
// defaults and the exact PromQL, between `<!-- generated:alert -->` markers, so the page never disagrees
// with the rule. What it means and what to do is written by hand around it.
import { DASHBOARDS } from './config.ts';
import type { Num } from './lib/num.ts';
import type { AlertRule, RuleFile, Text } from './lib/model.ts';
import { allAlerts } from './render.ts';

const plain = (t: Text) => t.parts.map((p) => (typeof p === 'string' ? p : p.plain)).join('');
const helmKey = (n: Num) => /^\.Values\.(alerting\.[\w.]+)$/.exec(n.helm)?.[1];
const SEVERITY = { critical: 'critical (pages)', warning: 'warning (ticket)', info: 'info' } as const;

export function runbookSections(files: RuleFile[]): Map<string, string> {
  const byName = new Map<string, AlertRule[]>();
  for (const a of allAlerts(files)) byName.set(a.alert, [...(byName.get(a.alert) ?? []), a]);
  const sections = new Map<string, string>();
  for (const [name, rules] of byName) {
    const lines = ['<!-- generated:alert -->', `Generated from ops/ (\`npm run ops\`); the rule as shipped in ops/generated/rules and the Helm chart.`, ''];
    for (const r of rules) {
      const knobs = [r.for, ...r.expr.parts.filter((p): p is Num => typeof p !== 'string')]
        .flatMap((n) => (helmKey(n) ? [`\`${helmKey(n)}\` = ${n.plain}`] : []));
      const labels = Object.entries(r.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
      lines.push(
        `- **${SEVERITY[r.severity]}**${labels ? ` (${labels})` : ''}, for ${r.for.plain}; tunable: ${[...new Set(knobs)].join(', ')}`,
        `- Dashboard: \`${DASHBOARDS[r.dashboard]}\`${r.source ? `; needs ${r.source}` : ''}`,
        '',
        '```promql',
        plain(r.expr),
        '```',
        '',
      );
    }
    lines.push('<!-- /generated:alert -->');
    sections.set(name, lines.join('\n'));
  }
  return sections;
}
