// The key store's tables (component 'keys'), the same on SQLite and PostgreSQL: times are ms since the epoch
// (BIGINT), lists and labels JSON text. `key_changes` holds one row whose version every write bumps in its
// own transaction, so each gateway's refresh loop reads one number and reloads the keys only when it moved.
import type { Migration } from './migrate.ts';

export const KEYS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      hash TEXT NOT NULL UNIQUE,
      name TEXT,
      user_id TEXT,
      team_id TEXT,
      models TEXT,
      rpm BIGINT,
      tpm BIGINT,
      max_parallel BIGINT,
      daily_budget_usd DOUBLE PRECISION,
      monthly_budget_usd DOUBLE PRECISION,
      metadata TEXT,
      created_at BIGINT NOT NULL,
      expires_at BIGINT,
      revoked_at BIGINT,
      replaced_by TEXT
    );
    CREATE TABLE key_changes (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);
    INSERT INTO key_changes (id, version) VALUES (1, 0)`,
  },
];
