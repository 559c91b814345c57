// /admin/budgets: the daily and monthly USD caps of users and teams (a key's own caps are set on the key).
import { z } from 'zod';
import type { BudgetLimits, BudgetStore } from '../store/ports.ts';
import { answer, notFound, validated } from './reply.ts';
import type { AdminRoute } from './routes.ts';

const usd = z.number().positive().finite();
const limits = z.object({ daily_usd: usd.optional(), monthly_usd: usd.optional() }).strict()
  .refine((b) => b.daily_usd !== undefined || b.monthly_usd !== undefined, { message: 'give daily_usd, monthly_usd or both', path: ['daily_usd'] });
const target = z.object({ scope: z.enum(['user', 'team']), id: z.string().min(1).max(200) });

export interface BudgetView {
  scope: 'user' | 'team';
  id: string;
  daily_usd: number | null;
  monthly_usd: number | null;
}

export const budgetView = (scope: 'user' | 'team', id: string, l: BudgetLimits): BudgetView =>
  ({ scope, id, daily_usd: l.dailyUsd ?? null, monthly_usd: l.monthlyUsd ?? null });

export function budgetRoutes(budgets: BudgetStore): AdminRoute[] {
  return [
    {
      method: 'GET', path: '/admin/budgets',
      stage: async (ctx) => answer(ctx, 200, { data: (await budgets.list()).map((b) => budgetView(b.scope, b.id, b.limits)) }),
    },
    {
      method: 'PUT', path: '/admin/budgets/{scope}/{id}', writes: 'budgets',
      stage: async (ctx) => {
        const { scope, id } = validated(target, ctx.params);
        const body = validated(limits, ctx.body);
        const set: BudgetLimits = { dailyUsd: body.daily_usd, monthlyUsd: body.monthly_usd };
        await budgets.set(scope, id, set);
        answer(ctx, 200, budgetView(scope, id, set));
      },
    },
    {
      method: 'DELETE', path: '/admin/budgets/{scope}/{id}', writes: 'budgets',
      stage: async (ctx) => {
        const { scope, id } = validated(target, ctx.params);
        if (!await budgets.remove(scope, id)) throw notFound(`no budget for ${scope} ${id}`);
        answer(ctx, 200, { scope, id, deleted: true });
      },
    },
  ];
}
