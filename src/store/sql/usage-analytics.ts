// The usage ledger's figures (admin analytics, `vigil usage report`, budget seeding), read from
// `usage_records` on either database. Times are ISO-8601 UTC text of one shape (toISOString), so a range is
// a text comparison and an hour or day bucket is a prefix of the text: the same SQL, the same figures, on
// SQLite and PostgreSQL.
import type { BudgetScope, UsageAnalytics, UsageQuery, UsageRow } from '../ports.ts';
import type { SqlDatabase } from './database.ts';

const GROUP_COLUMN = { key: 'identity_id', user: 'user_id', team: 'team_id', model: 'model' } as const;
const SCOPE_COLUMN = { key: 'identity_id', user: 'user_id', team: 'team_id' } as const;

/** `YYYY-MM-DDTHH` and `YYYY-MM-DD`: the text each bucket's times share, and how its start is written out. */
const BUCKET = {
  hour: { length: 13, start: (prefix: string) => `${prefix}:00:00.000Z` },
  day: { length: 10, start: (prefix: string) => `${prefix}T00:00:00.000Z` },
} as const;

/** Costs are sums of floating-point prices: rounded to a nano-dollar, both databases' sums read the same. */
const roundUsd = (usd: number): number => Math.round(usd * 1e9) / 1e9;

interface Aggregate {
  period: string | null;
  grp: string | null;
  requests: unknown;
  input_tokens: unknown;
  output_tokens: unknown;
  cached_input_tokens: unknown;
  cost_usd: unknown;
}

export class SqlUsageAnalytics implements UsageAnalytics {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /** Rows ordered by period, then group; buckets and groups with no records are absent. */
  async report(query: UsageQuery): Promise<UsageRow[]> {
    const bucket = query.granularity === 'total' ? undefined : BUCKET[query.granularity];
    const group = query.groupBy === 'none' ? undefined : GROUP_COLUMN[query.groupBy];
    const keys = [bucket ? `substr(time, 1, ${bucket.length})` : 'NULL', group ?? 'NULL'];
    const grouping = [bucket ? '1' : '', group ? '2' : ''].filter(Boolean);
    // PostgreSQL's count and sums of integers are bigint/numeric, which pg hands over as text: Number() below.
    const rows = await this.#db.query<Aggregate & Record<string, unknown>>(
      `SELECT ${keys[0]} AS period, ${keys[1]} AS grp, count(*) AS requests,
        sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(cached_input_tokens) AS cached_input_tokens, sum(cost_usd) AS cost_usd
      FROM usage_records WHERE time >= ? AND time < ?${grouping.length ? ` GROUP BY ${grouping.join(', ')}` : ''}`,
      [iso(query.from), iso(query.to)],
    );
    return rows
      .filter((r) => Number(r.requests) > 0)
      .map((r) => ({
        ...(bucket && r.period !== null ? { period: bucket.start(r.period) } : {}),
        ...(group ? { group: String(r.grp) } : {}),
        requests: Number(r.requests),
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        cachedInputTokens: Number(r.cached_input_tokens),
        costUsd: roundUsd(Number(r.cost_usd)),
      }))
      .sort((a, b) => compare(a.period, b.period) || compare(a.group, b.group));
  }

  async spentSince(scope: BudgetScope, id: string, fromMs: number): Promise<number> {
    const [row] = await this.#db.query<{ spent: unknown }>(
      `SELECT COALESCE(sum(cost_usd), 0) AS spent FROM usage_records WHERE ${SCOPE_COLUMN[scope]} = ? AND time >= ?`,
      [id, iso(fromMs)],
    );
    return roundUsd(Number(row?.spent ?? 0));
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Code-unit order, the same whatever either database's collation would say. */
const compare = (a = '', b = ''): number => (a < b ? -1 : a > b ? 1 : 0);
