// One small SQL port over the two databases Vigil keeps keys, budgets, audit events and usage in: the
// embedded SQLite file (node:sqlite) and a shared PostgreSQL (pg, pooled). Stores above it write their SQL
// once, with `?` placeholders and the portable subset both speak; where the dialects differ a migration
// says so (migrate.ts). node:sqlite is synchronous: its adapter answers resolved promises, so callers
// await both alike.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import pg from 'pg';
import type { QueryObserver } from '../ports.ts';

export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

export interface SqlDatabase {
  readonly dialect: 'sqlite' | 'postgres';
  query<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * `fn` in one transaction on one connection; rolled back when it throws. Inside `fn`, use `tx` only: on
   * SQLite the database itself waits for the transaction to end.
   */
  transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T>;
  /** The pool's connections (PostgreSQL only), for the store metrics. */
  pool?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** The embedded database file in `dataDir` (the usage ledger opens the same file with its own connection). */
export function openSqlite(dataDir: string, onQuery?: QueryObserver): SqlDatabase {
  mkdirSync(dataDir, { recursive: true });
  const file = sqliteFile(dataDir);
  const db = new DatabaseSync(file);
  // Several processes (cluster workers, the CLI) open the same file: wait for the lock rather than fail.
  db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  return sqliteDatabase(db, file, onQuery);
}

/** The embedded database's file in `dataDir`, absolute: every connection to it in this process shares one line. */
export const sqliteFile = (dataDir: string): string => resolve(dataDir, 'vigil.db');

/**
 * Whether this process has a transaction open on `file` through the port: a connection writing the same file
 * synchronously (the usage ledger) must wait for the next turn, or it would block the thread on a lock that only
 * the waiting transaction's body, on this thread, can release.
 */
export const sqliteBusy = (file: string): boolean => (lines.get(file)?.queued ?? 0) > 0;

/** The port over a connection opened elsewhere (the usage ledger's own) on `file`; closing the port closes it. */
export function sqliteDatabase(db: DatabaseSync, file: string, onQuery?: QueryObserver): SqlDatabase {
  const statement = {
    query<T extends SqlRow>(sql: string, params: readonly SqlValue[] = []): T[] {
      const started = performance.now();
      const rows = db.prepare(sql).all(...(params as SQLInputValue[])) as T[];
      onQuery?.(operationOf(sql), (performance.now() - started) / 1000);
      return rows;
    },
    run(sql: string, params: readonly SqlValue[] = []): number {
      const started = performance.now();
      const result = db.prepare(sql).run(...(params as SQLInputValue[]));
      onQuery?.(operationOf(sql), (performance.now() - started) / 1000);
      return Number(result.changes);
    },
  };
  // A transaction's body awaits between statements, so a second transaction (or a lone statement) from
  // elsewhere in the process would run inside it, or, on another connection to the same file, block the
  // thread on the file lock that only this waiting body can release. Whatever this process sends to the file
  // while a transaction is open waits in line behind it instead.
  const line = lineOf(file);
  const inLine = <T>(work: () => T | Promise<T>): Promise<T> => {
    line.queued++;
    const result = line.tail.then(work).finally(() => line.queued--);
    line.tail = result.catch(() => {});
    return result;
  };
  // What a transaction's body runs on: its statements go straight to the connection; nesting joins it.
  const inside: SqlDatabase = {
    dialect: 'sqlite',
    query: async <T extends SqlRow>(sql: string, params?: readonly SqlValue[]) => statement.query<T>(sql, params),
    run: async (sql, params) => statement.run(sql, params),
    transaction: (fn) => fn(inside),
    close: () => self.close(),
  };
  const self: SqlDatabase = {
    dialect: 'sqlite',
    query: async <T extends SqlRow>(sql: string, params?: readonly SqlValue[]) => (line.queued > 0 ? inLine(() => statement.query<T>(sql, params)) : statement.query<T>(sql, params)),
    run: async (sql, params) => (line.queued > 0 ? inLine(() => statement.run(sql, params)) : statement.run(sql, params)),
    transaction: (fn) => inLine(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(inside);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
    }),
    async close() {
      if (db.isOpen) db.close();
    },
  };
  return self;
}

/** Per database file, this process's statements waiting for an open transaction (see openSqlite). */
const lines = new Map<string, { queued: number; tail: Promise<unknown> }>();
const lineOf = (file: string) => {
  let line = lines.get(file);
  if (!line) {
    line = { queued: 0, tail: Promise.resolve() };
    lines.set(file, line);
  }
  return line;
};

/** A pool on `url` (postgres://…), `size` connections at most. */
export function openPostgres(url: string, size: number, onQuery?: QueryObserver): SqlDatabase {
  const pool = new pg.Pool({ connectionString: url, max: size, connectionTimeoutMillis: 5000 });
  // An idle connection's error (the server restarted) must not crash the process: the pool drops it.
  pool.on('error', () => {});
  const over = (client: pg.Pool | pg.PoolClient): SqlDatabase => ({
    dialect: 'postgres',
    async query<T extends SqlRow>(sql: string, params: readonly SqlValue[] = []) {
      const started = performance.now();
      const result = await client.query(numbered(sql), params as SqlValue[]);
      onQuery?.(operationOf(sql), (performance.now() - started) / 1000);
      return result.rows as T[];
    },
    async run(sql, params = []) {
      const started = performance.now();
      const result = await client.query(numbered(sql), params as SqlValue[]);
      onQuery?.(operationOf(sql), (performance.now() - started) / 1000);
      return result.rowCount ?? 0;
    },
    async transaction(fn) {
      if (client !== pool) return fn(over(client));
      const conn = await pool.connect();
      try {
        await conn.query('BEGIN');
        const result = await fn(over(conn));
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        conn.release();
      }
    },
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  });
  return over(pool);
}

/** `?` placeholders → PostgreSQL's `$1, $2 …` (no `?` appears in Vigil's SQL otherwise). */
const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** The statement's verb, for the store latency metric's `operation` label (a closed, small set). */
const operationOf = (sql: string): string => sql.trimStart().slice(0, 6).toLowerCase();
