// Regenerates the tables in docs/ that mirror code (the error catalog, the metric catalog), between
// `<!-- generated:NAME -->` markers. `--check` fails instead of writing when a file is out of date;
// test/ops/docs-drift.test.ts runs it in the suite.
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CLASSES, ERRORS } from '../src/core/errors.ts';
import { CATALOG } from '../src/telemetry/metrics/catalog.ts';

const root = new URL('../', import.meta.url);

export function errorTable(): string {
  const rows = Object.entries(ERRORS).map(([code, e]) =>
    `| \`${code}\` | ${e.status} | \`${e.class}\` | ${ERROR_CLASSES[e.class]} | ${e.retryable} | ${e.message} |`);
  return ['| code | HTTP status | error class | side | `x-should-retry` | message |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

export function errorClassTable(): string {
  const rows = Object.entries(ERROR_CLASSES).map(([name, side]) => `| \`${name}\` | ${side} |`);
  return ['| error class | side |', '|---|---|', ...rows].join('\n');
}

export function metricTable(): string {
  const rows = Object.values(CATALOG).map((m) => {
    const buckets = 'buckets' in m ? m.buckets.join(', ') : '';
    // How server.workers > 1 combines it.
    const workers = 'weightedBy' in m ? `average weighted by \`vigil_sli_events{sli="${m.weightedBy}"}\`` : 'aggregate' in m ? m.aggregate : 'sum';
    return `| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ')} | ${buckets} | ${workers} | ${m.help} |`;
  });
  return ['| metric | type | labels | buckets (s) | across workers | meaning |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

const SECTIONS: Record<string, { file: string; render: () => string }> = {
  errors: { file: 'docs/errors.md', render: errorTable },
  'error-classes': { file: 'docs/errors.md', render: errorClassTable },
  metrics: { file: 'docs/metrics.md', render: metricTable },
};

/** Returns the files whose generated sections differ from what the code says now. */
export function syncDocs(write: boolean): string[] {
  const stale: string[] = [];
  const files = new Map<string, string>();
  for (const [name, { file, render }] of Object.entries(SECTIONS)) {
    const text = files.get(file) ?? readFileSync(new URL(file, root), 'utf8');
    const pattern = new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!pattern.test(text)) throw new Error(`${file} has no generated:${name} section`);
    files.set(file, text.replace(pattern, (_m, open, close) => `${open}${render()}\n${close}`));
  }
  for (const [file, text] of files) {
    if (readFileSync(new URL(file, root), 'utf8') === text) continue;
    stale.push(file);
    if (write) writeFileSync(new URL(file, root), text);
  }
  return stale;
}

if (import.meta.main) {
  const check = process.argv.includes('--check');
  const stale = syncDocs(!check);
  if (check && stale.length) {
    console.error(`out of date: ${stale.join(', ')} (run npm run docs)`);
    process.exit(1);
  }
  console.log(stale.length ? `updated ${stale.join(', ')}` : 'docs up to date');
}
