// Real databases for the SQL stores' tests, one per test: a SQLite file in a temp dir, or a PostgreSQL
// schema of its own on the machine's server (search_path in the URL), so tests run in parallel and clean up.
// `db` is the test's first connection; `connect()` opens another to the same database, as a second process would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { QueryObserver } from '../ports.ts';
import { openPostgres, openSqlite, type SqlDatabase } from './database.ts';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** The machine's PostgreSQL (trust auth); VIGIL_TEST_POSTGRES_URL overrides it. */
const POSTGRES_URL = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly dialect: Dialect;
  /** The first connection, opened with the database. */
  readonly db: SqlDatabase;
  /** SQLite: the directory holding the database file. */
  readonly dataDir?: string;
  /** PostgreSQL: a URL whose connections see this test's schema. */
  readonly url?: string;
  /** A new connection (pool) to this test's database; closed by `drop()`. */
  connect(onQuery?: QueryObserver): SqlDatabase;
  /** A plain statement outside the stores' connections (e.g. to take a table away behind a store's back). */
  exec(sql: string): Promise<void>;
  /** Closes every connection and deletes the database. */
  drop(): Promise<void>;
}

export async function testDatabase(dialect: Dialect): Promise<TestDatabase> {
  const opened: SqlDatabase[] = [];
  const closeAll = () => Promise.all(opened.map((db) => db.close().catch(() => {})));
  const remember = (db: SqlDatabase) => {
    opened.push(db);
    return db;
  };
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-sql-'));
    const db = remember(openSqlite(dir));
    return {
      dialect,
      db,
      dataDir: dir,
      connect: (onQuery) => remember(openSqlite(dir, onQuery)),
      exec: async (sql) => void (await db.run(sql)),
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
  const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    dialect,
    db: remember(openPostgres(url, 4)),
    url,
    connect: (onQuery) => remember(openPostgres(url, 4, onQuery)),
    exec: async (sql) => void (await admin.query(`SET search_path = ${schema}; ${sql}`)),
    drop: async () => {
      await closeAll();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes (no wall-clock assertion: a bound only). */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
