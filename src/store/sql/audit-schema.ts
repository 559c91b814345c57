// The audit log's table, on both databases (component 'audit'): append-only events, read by time range
// and type, swept by age. `seq` keeps the order events were written in among those of one time; `time` is
// ISO-8601 UTC text, compared byte-wise on PostgreSQL (COLLATE "C") as on SQLite.
import type { SqlDatabase } from './database.ts';
import { migrate, type Migration } from './migrate.ts';

const columns = `
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  actor TEXT NOT NULL,
  request_id TEXT,
  trace_id TEXT,
  target TEXT,
  security INTEGER NOT NULL DEFAULT 0,
  detail TEXT`;

const indexes = `
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time);
CREATE INDEX IF NOT EXISTS audit_events_type_time ON audit_events (type, time)`;

export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: {
      sqlite: `CREATE TABLE IF NOT EXISTS audit_events (seq INTEGER PRIMARY KEY, time TEXT NOT NULL,${columns});${indexes}`,
      postgres: `CREATE TABLE IF NOT EXISTS audit_events (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, time TEXT COLLATE "C" NOT NULL,${columns});${indexes}`,
    },
  },
];

export function migrateAudit(db: SqlDatabase): Promise<void> {
  return migrate(db, 'audit', AUDIT_MIGRATIONS);
}
