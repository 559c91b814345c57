// The usage ledger's table, on both databases (component 'usage'). Data directories from before versioned
// migrations already hold `usage_records` with no schema_migrations row, so version 1 creates only what is
// missing and every column addition looks first (SQLite has no ADD COLUMN IF NOT EXISTS).
import type { SqlDatabase } from './database.ts';
import { migrate, type Migration } from './migrate.ts';

/**
 * The table as the last release before migrations left it. `time` is ISO-8601 UTC text (toISOString), so
 * text order is time order; PostgreSQL compares it byte-wise (COLLATE "C") whatever the database's locale.
 */
const createTable = (dialect: SqlDatabase['dialect']): string => {
  const postgres = dialect === 'postgres';
  const real = postgres ? 'DOUBLE PRECISION' : 'REAL';
  const count = postgres ? 'BIGINT' : 'INTEGER';
  return `CREATE TABLE IF NOT EXISTS usage_records (
  id ${postgres ? 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' : 'INTEGER PRIMARY KEY'},
  time TEXT ${postgres ? 'COLLATE "C" ' : ''}NOT NULL,
  request_id TEXT NOT NULL,
  identity_id TEXT NOT NULL,
  route TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  upstream_model TEXT NOT NULL,
  input_tokens ${count} NOT NULL,
  output_tokens ${count} NOT NULL,
  cached_input_tokens ${count} NOT NULL,
  cost_usd ${real} NOT NULL DEFAULT 0,
  duration_ms ${real} NOT NULL,
  status INTEGER NOT NULL,
  error_class TEXT NOT NULL,
  stream INTEGER NOT NULL
)`;
};

/** Adds each column `usage_records` lacks. */
async function addMissingColumns(tx: SqlDatabase, columns: readonly (readonly [name: string, type: string])[]): Promise<void> {
  if (tx.dialect === 'postgres') {
    for (const [name, type] of columns) await tx.run(`ALTER TABLE usage_records ADD COLUMN IF NOT EXISTS ${name} ${type}`);
    return;
  }
  const existing = new Set((await tx.query<{ name: string }>('PRAGMA table_info(usage_records)')).map((c) => c.name));
  for (const [name, type] of columns) if (!existing.has(name)) await tx.run(`ALTER TABLE usage_records ADD COLUMN ${name} ${type}`);
}

export const USAGE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: async (tx) => {
      await tx.run(createTable(tx.dialect));
      // cost_usd came after the first release: the oldest data directories lack it.
      await addMissingColumns(tx, [['cost_usd', `${tx.dialect === 'postgres' ? 'DOUBLE PRECISION' : 'REAL'} NOT NULL DEFAULT 0`]]);
      await tx.run('CREATE INDEX IF NOT EXISTS usage_records_time ON usage_records (time)');
    },
  },
  {
    version: 2,
    sql: async (tx) => {
      // Empty when the Principal has no user or team (and for every record written before these columns).
      await addMissingColumns(tx, [['user_id', "TEXT NOT NULL DEFAULT ''"], ['team_id', "TEXT NOT NULL DEFAULT ''"]]);
      // Budget seeding (spentSince) and per-identity reports read one identity over a time range. On
      // PostgreSQL the database server keeps these indexes; on SQLite the gateway's own thread would, on every
      // insert (three more B-trees per row, and their pages through the WAL and the checkpoint cost ~3 % CPU
      // per request in bench:pair), so there the time index serves: a seed reads its window once per process.
      if (tx.dialect === 'postgres') {
        for (const column of ['identity_id', 'user_id', 'team_id']) {
          await tx.run(`CREATE INDEX IF NOT EXISTS usage_records_${column}_time ON usage_records (${column}, time)`);
        }
      }
    },
  },
  {
    version: 3,
    // 1: answered from the response cache (no upstream call, cost 0); every earlier record was not.
    sql: (tx) => addMissingColumns(tx, [['cached', 'INTEGER NOT NULL DEFAULT 0']]),
  },
  {
    version: 4,
    // 1: the client left mid-stream and reading the upstream on was cut by upstream.disconnect_drain, so the
    // tokens may be short; every earlier record was read to its end (or cut with no drain at all).
    sql: (tx) => addMissingColumns(tx, [['partial', 'INTEGER NOT NULL DEFAULT 0']]),
  },
];

/** Brings `usage_records` to the current version; safe to run from several processes at once. */
export function migrateUsage(db: SqlDatabase): Promise<void> {
  return migrate(db, 'usage', USAGE_MIGRATIONS);
}
