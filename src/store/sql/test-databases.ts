// Real databases for the SQL stores' tests, one per test: a SQLite file in a temp dir, or a PostgreSQL
// schema of its own on the machine's server (search_path in the URL), so tests run in parallel and clean up.
// `connect()` opens another connection to the same database, as a second process would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres, openSqlite, type SqlDatabase } from './database.ts';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** The machine's PostgreSQL (trust auth); VIGIL_TEST_POSTGRES_URL overrides it. */
const POSTGRES_URL = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly dialect: Dialect;
  /** A new connection (pool) to this test's database; closed by `drop()`. */
  connect(): SqlDatabase;
  /** Closes every connection and deletes the database. */
  drop(): Promise<void>;
}

export async function testDatabase(dialect: Dialect): Promise<TestDatabase> {
  const opened: SqlDatabase[] = [];
  const closeAll = () => Promise.all(opened.map((db) => db.close().catch(() => {})));
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-sql-'));
    return {
      dialect,
      connect: () => remember(opened, openSqlite(dir)),
      drop: async () => {
        await closeAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `vigil_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    dialect,
    connect: () => remember(opened, openPostgres(url, 4)),
    drop: async () => {
      await closeAll();
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

const remember = (opened: SqlDatabase[], db: SqlDatabase): SqlDatabase => {
  opened.push(db);
  return db;
};

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes (no wall-clock assertion: a bound only). */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
