// `vigil usage report`: the usage ledger's figures as the admin API's analytics give them: a table, or
// with --json the very JSON of /admin/analytics.
import { reportJson, usageQuery, type UsageReport } from '../admin/analytics-api.ts';
import type { UsageQuery } from '../store/ports.ts';
import { CommandError, withAdminStores } from './admin-stores.ts';
import { validatedConfig } from './validated-config.ts';

export interface ReportOptions {
  config?: string;
  from?: string;
  to?: string;
  by?: string;
  granularity?: string;
  json?: boolean;
}

const GROUPS = ['key', 'user', 'team', 'model'];
const GRANULARITIES = ['hour', 'day', 'total'];

export async function usageReport(options: ReportOptions): Promise<void> {
  if (options.by !== undefined && !GROUPS.includes(options.by)) throw new CommandError(`usage report: --by must be one of ${GROUPS.join(', ')}`);
  const granularity = (options.granularity ?? 'day') as UsageQuery['granularity'];
  if (!GRANULARITIES.includes(granularity)) throw new CommandError(`usage report: --granularity must be one of ${GRANULARITIES.join(', ')}`);
  let query: UsageQuery;
  try {
    query = usageQuery({ from: options.from, to: options.to, granularity }, (options.by ?? 'none') as UsageQuery['groupBy'], Date.now());
  } catch (err) {
    throw new CommandError(`usage report: --${(err as Error).message}`);
  }
  const { compiled } = validatedConfig({ path: options.config });
  const report = await withAdminStores(compiled, async ({ analytics }) => reportJson(query, await analytics.report(query)));
  console.log(options.json ? JSON.stringify(report, null, 2) : table(report));
}

/** Aligned columns: period and group when present, then the figures; a last line with the totals. */
export function table(report: UsageReport): string {
  const figures = ['requests', 'input_tokens', 'output_tokens', 'cached_input_tokens', 'cost_usd'];
  const columns = [...(report.granularity === 'total' ? [] : ['period']), ...(report.group_by === 'none' ? [] : [report.group_by]), ...figures];
  const total: Record<string, string | number> = Object.fromEntries(figures.map((f) => [f, 0]));
  for (const row of report.data) for (const f of figures) total[f] = Number(total[f]) + Number(row[f]);
  total.cost_usd = Math.round(Number(total.cost_usd) * 1e6) / 1e6;
  total[columns[0]] = columns[0] === 'requests' ? total.requests : 'total';
  const rows = [columns, ...report.data.map((row) => columns.map((c) => String(row[c] ?? ''))), columns.map((c) => String(total[c] ?? ''))];
  const widths = columns.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((cell, i) => (i < columns.length - figures.length ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd());
  return [`usage from ${report.from} to ${report.to}`, ...lines].join('\n');
}
