// Spend caps of users and teams (a key's own caps live on its record), in the shared SQL database.
// `limitsOf` answers from a cache reloaded by a ChangeWatch when any process writes, like the key store.
import type { BudgetLimits, BudgetStore } from '../ports.ts';
import { BUDGETS_MIGRATIONS } from './budgets-schema.ts';
import { bumpVersion, ChangeWatch } from './change-watch.ts';
import type { SqlDatabase } from './database.ts';
import { migrate } from './migrate.ts';

export interface SqlBudgetStoreOptions {
  /** How often to look for changes made by other processes (store.refresh_ms). */
  readonly refreshMs: number;
  /** The clock for `updated_at` (ms). */
  readonly now?: () => number;
  /** A refresh that failed (the cache stays as it was), or an onChange listener that threw. */
  readonly onError?: (err: unknown) => void;
}

type Scope = 'user' | 'team';
type BudgetRow = { scope: Scope; id: string; daily_usd: number | null; monthly_usd: number | null };

export class SqlBudgetStore implements BudgetStore {
  readonly #db: SqlDatabase;
  readonly #now: () => number;
  readonly #watch: ChangeWatch;
  /** `scope:id` → frozen limits. */
  #limits = new Map<string, BudgetLimits>();

  /** Applies the migrations, loads every budget and starts watching for changes. */
  static async open(db: SqlDatabase, options: SqlBudgetStoreOptions): Promise<SqlBudgetStore> {
    await migrate(db, 'budgets', BUDGETS_MIGRATIONS);
    const store = new SqlBudgetStore(db, options);
    try {
      await store.refresh();
    } catch (err) {
      store.#watch.close();
      throw err;
    }
    return store;
  }

  private constructor(db: SqlDatabase, options: SqlBudgetStoreOptions) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#watch = new ChangeWatch(db, 'budget_changes', () => this.#reload(), options);
  }

  limitsOf(scope: Scope, id: string): BudgetLimits | undefined {
    return this.#limits.get(keyOf(scope, id));
  }

  /** Replaces the caps of `scope` `id`; with neither figure it has none, as after `remove`. */
  async set(scope: Scope, id: string, limits: BudgetLimits): Promise<void> {
    if (limits.dailyUsd === undefined && limits.monthlyUsd === undefined) {
      await this.remove(scope, id);
      return;
    }
    await this.#db.transaction(async (tx) => {
      await bumpVersion(tx, 'budget_changes');
      await tx.run(
        `INSERT INTO budgets (scope, id, daily_usd, monthly_usd, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (scope, id) DO UPDATE SET daily_usd = excluded.daily_usd, monthly_usd = excluded.monthly_usd, updated_at = excluded.updated_at`,
        [scope, id, limits.dailyUsd ?? null, limits.monthlyUsd ?? null, this.#now()],
      );
    });
    await this.refresh();
  }

  /** Whether `scope` `id` had caps. */
  async remove(scope: Scope, id: string): Promise<boolean> {
    const removed = await this.#db.transaction(async (tx) => {
      await bumpVersion(tx, 'budget_changes');
      return (await tx.run('DELETE FROM budgets WHERE scope = ? AND id = ?', [scope, id])) > 0;
    });
    await this.refresh();
    return removed;
  }

  /** Every budget, by scope then id. */
  async list(): Promise<{ scope: Scope; id: string; limits: BudgetLimits }[]> {
    await this.refresh();
    return [...this.#limits].map(([key, limits]) => ({ ...scopeAndId(key), limits })).sort((a, b) => (keyOf(a.scope, a.id) < keyOf(b.scope, b.id) ? -1 : 1));
  }

  refresh(): Promise<void> {
    return this.#watch.refresh();
  }

  /** `listener` runs after a refresh that changed some budget (here or in another process); returns its unsubscribe. */
  onChange(listener: () => void): () => void {
    return this.#watch.onChange(listener);
  }

  /** Stops the refresh loop; the database stays open (whoever opened it closes it). */
  async close(): Promise<void> {
    this.#watch.close();
  }

  async #reload(): Promise<boolean> {
    const rows = await this.#db.query<BudgetRow>('SELECT scope, id, daily_usd, monthly_usd FROM budgets');
    const next = new Map<string, BudgetLimits>();
    let changed = rows.length !== this.#limits.size;
    for (const row of rows) {
      const key = keyOf(row.scope, row.id);
      const known = this.#limits.get(key);
      const dailyUsd = row.daily_usd ?? undefined;
      const monthlyUsd = row.monthly_usd ?? undefined;
      if (known && known.dailyUsd === dailyUsd && known.monthlyUsd === monthlyUsd) {
        next.set(key, known);
        continue;
      }
      changed = true;
      next.set(key, Object.freeze({ ...(dailyUsd !== undefined && { dailyUsd }), ...(monthlyUsd !== undefined && { monthlyUsd }) }));
    }
    this.#limits = next;
    return changed;
  }
}

/** Scope first: a scope never contains the separator, an id may. */
const keyOf = (scope: Scope, id: string): string => `${scope}:${id}`;
const scopeAndId = (key: string): { scope: Scope; id: string } => {
  const at = key.indexOf(':');
  return { scope: key.slice(0, at) as Scope, id: key.slice(at + 1) };
};
