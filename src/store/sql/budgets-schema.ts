// The budget store's tables (component 'budgets'), the same on SQLite and PostgreSQL: caps in USD per user
// or team, and a one-row version every write bumps (as keys-schema.ts's key_changes) for the refresh loops.
import type { Migration } from './migrate.ts';

export const BUDGETS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `CREATE TABLE budgets (
      scope TEXT NOT NULL,
      id TEXT NOT NULL,
      daily_usd DOUBLE PRECISION,
      monthly_usd DOUBLE PRECISION,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (scope, id)
    );
    CREATE TABLE budget_changes (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);
    INSERT INTO budget_changes (id, version) VALUES (1, 0)`,
  },
];
