// `vigil budgets set user|team ID [--daily-usd X] [--monthly-usd X]` and `vigil budgets list`: the spend
// caps of users and teams in the configured store (a key's own caps are set when it is issued).
import { budgetView } from '../admin/budgets-api.ts';
import { CommandError, withAdminStores } from './admin-stores.ts';
import { validatedConfig } from './validated-config.ts';

export async function setBudget(scope: string, id: string, options: { config?: string; dailyUsd?: number; monthlyUsd?: number }): Promise<void> {
  if (scope !== 'user' && scope !== 'team') throw new CommandError(`budgets set: scope "${scope}" is neither user nor team (a key's budget is set with keys issue)`);
  if (options.dailyUsd === undefined && options.monthlyUsd === undefined) throw new CommandError('budgets set: give --daily-usd, --monthly-usd or both');
  const { compiled } = validatedConfig({ path: options.config });
  await withAdminStores(compiled, async (stores) => {
    await stores.budgets.set(scope, id, { dailyUsd: options.dailyUsd, monthlyUsd: options.monthlyUsd });
    await stores.publish('budgets');
    console.log(budgetLine(budgetView(scope, id, { dailyUsd: options.dailyUsd, monthlyUsd: options.monthlyUsd })));
  });
}

export async function listBudgets(options: { config?: string }): Promise<void> {
  const { compiled } = validatedConfig({ path: options.config });
  await withAdminStores(compiled, async ({ budgets }) => {
    for (const b of await budgets.list()) console.log(budgetLine(budgetView(b.scope, b.id, b.limits)));
  });
}

const budgetLine = (b: ReturnType<typeof budgetView>): string =>
  [b.scope, b.id, `daily ${b.daily_usd === null ? '-' : `$${b.daily_usd}`}`, `monthly ${b.monthly_usd === null ? '-' : `$${b.monthly_usd}`}`].join('\t');
