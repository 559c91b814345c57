// /admin/analytics/{view}: the usage ledger's figures over [from, to), by key, user, team or model, in
// hourly, daily or one total bucket. `vigil usage report` prints the same JSON (reportJson).
import { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import type { UsageAnalytics, UsageQuery, UsageRow } from '../store/ports.ts';
import { answer, validated } from './reply.ts';
import type { AdminRoute } from './routes.ts';
import { reportRange } from './time-range.ts';

const VIEWS = { cost: 'none', by_key: 'key', by_user: 'user', by_team: 'team', by_model: 'model' } as const;

const filters = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  granularity: z.enum(['hour', 'day', 'total']).default('day'),
}).strict();

export interface UsageReport {
  from: string;
  to: string;
  granularity: UsageQuery['granularity'];
  group_by: UsageQuery['groupBy'];
  data: Record<string, string | number>[];
}

/** The report's JSON: the group under its own name (`key`, `user` …), cost rounded to a millionth of a dollar. */
export function reportJson(query: UsageQuery, rows: readonly UsageRow[]): UsageReport {
  return {
    from: new Date(query.from).toISOString(),
    to: new Date(query.to).toISOString(),
    granularity: query.granularity,
    group_by: query.groupBy,
    data: rows.map((row) => ({
      ...(row.period !== undefined && { period: row.period }),
      ...(query.groupBy !== 'none' && { [query.groupBy]: row.group ?? '' }),
      requests: row.requests,
      input_tokens: row.inputTokens,
      output_tokens: row.outputTokens,
      cached_input_tokens: row.cachedInputTokens,
      cost_usd: Math.round(row.costUsd * 1e6) / 1e6,
    })),
  };
}

/** A query from the filters as the API and the CLI take them; an Error names the bad one. */
export function usageQuery(input: { from?: string; to?: string; granularity: UsageQuery['granularity'] }, groupBy: UsageQuery['groupBy'], nowMs: number): UsageQuery {
  const { from, to } = reportRange(input, nowMs);
  return { from, to, groupBy, granularity: input.granularity };
}

export function analyticsRoutes(analytics: UsageAnalytics, now: () => number): AdminRoute[] {
  return [{
    method: 'GET', path: '/admin/analytics/{view}',
    stage: async (ctx) => {
      const groupBy = VIEWS[ctx.params.view as keyof typeof VIEWS];
      if (!groupBy) throw new GatewayError('GW_ADMIN_NOT_FOUND', `no analytics view ${ctx.params.view} (views: ${Object.keys(VIEWS).join(', ')})`);
      const input = validated(filters, ctx.query);
      let query: UsageQuery;
      try {
        query = usageQuery(input, groupBy, now());
      } catch (err) {
        const message = (err as Error).message;
        const param = message.slice(0, message.indexOf(':'));
        throw new GatewayError('GW_REQUEST_INVALID', message, { param });
      }
      answer(ctx, 200, reportJson(query, await analytics.report(query)));
    },
  }];
}
