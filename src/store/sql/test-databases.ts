// For tests: a fresh database of each dialect, for real. SQLite in a temporary directory; PostgreSQL on the
// machine's server (127.0.0.1:5432, database `test`) in a schema of its own, dropped afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPostgres, openSqlite, type SqlDatabase } from './database.ts';

export interface TestDatabase {
  readonly db: SqlDatabase;
  /** SQLite: the data directory holding vigil.db. */
  readonly dataDir?: string;
  /** PostgreSQL: a URL whose connections see this database's schema. */
  readonly url?: string;
  /** A plain statement outside the port's pool (e.g. to take a table away behind a store's back). */
  exec(sql: string): Promise<void>;
  dispose(): Promise<void>;
}

const SERVER = 'postgres://postgres@127.0.0.1:5432/test';

export async function sqliteTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-sql-'));
  const db = openSqlite(dataDir);
  return {
    db,
    dataDir,
    exec: async (sql) => void (await db.run(sql)),
    async dispose() {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function postgresTestDatabase(): Promise<TestDatabase> {
  const schema = `vigil_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${SERVER}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const db = openPostgres(url, 4);
  return {
    db,
    url,
    exec: async (sql) => void (await admin.query(`SET search_path = ${schema}; ${sql}`)),
    async dispose() {
      await db.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

export const DIALECTS = [
  ['sqlite', sqliteTestDatabase],
  ['postgres', postgresTestDatabase],
] as const;
