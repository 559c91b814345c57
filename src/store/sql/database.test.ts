// The SQL port and its migrations on a real SQLite file and a real PostgreSQL schema, each behaviour run on both.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { SqlDatabase } from './database.ts';
import { type Migration, migrate } from './migrate.ts';
import { DIALECTS, type TestDatabase, testDatabase } from './test-databases.ts';

const MIGRATIONS: Migration[] = [
  { version: 1, sql: 'CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL, price DOUBLE PRECISION)' },
  { version: 2, sql: { sqlite: 'CREATE TABLE serials (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)', postgres: 'CREATE TABLE serials (id BIGSERIAL PRIMARY KEY, v TEXT)' } },
];

const count = async (db: SqlDatabase, table: string) => Number((await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0].n);

for (const dialect of DIALECTS) {
  describe(`SqlDatabase on ${dialect}`, () => {
    /** `fn` on a fresh database of its own, dropped after. */
    const withDatabase = async (fn: (db: SqlDatabase, connect: TestDatabase['connect']) => Promise<void>) => {
      const database = await testDatabase(dialect);
      try {
        await fn(database.connect(), (onQuery) => database.connect(onQuery));
      } finally {
        await database.drop();
      }
    };

    test('? placeholders, rows as objects, changed-row counts, statements reported by verb', () => withDatabase(async (_, connect) => {
      const seen: string[] = [];
      const db = connect((operation) => seen.push(operation));
      await migrate(db, 'test', MIGRATIONS);
      assert.equal(db.dialect, dialect);
      assert.equal(await db.run('INSERT INTO things (id, n, price) VALUES (?, ?, ?), (?, ?, ?)', ['a', 1, 0.25, 'b', 2, null]), 2);
      assert.equal(await db.run('UPDATE things SET n = n + ? WHERE id = ?', [10, 'a']), 1);
      const rows = await db.query<{ id: string; n: number | string; price: number | null }>('SELECT id, n, price FROM things ORDER BY id');
      assert.deepEqual(rows.map((r) => [r.id, Number(r.n), r.price]), [['a', 11, 0.25], ['b', 2, null]]);
      assert.deepEqual(seen.slice(-3), ['insert', 'update', 'select']);
    }));

    test('a transaction commits, rolls back when its body throws, and a nested one joins it', () => withDatabase(async (db) => {
      await migrate(db, 'test', MIGRATIONS);
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO things (id, n) VALUES ('kept', 1)");
        await tx.transaction((inner) => inner.run("INSERT INTO things (id, n) VALUES ('inner', 1)"));
      });
      await assert.rejects(db.transaction(async (tx) => {
        await tx.run("INSERT INTO things (id, n) VALUES ('lost', 1)");
        throw new Error('body failed');
      }), /body failed/);
      assert.deepEqual((await db.query('SELECT id FROM things ORDER BY id')).map((r) => r.id), ['inner', 'kept']);
    }));

    test('concurrent transactions on one handle stay apart: one rolling back takes nothing of the other, nor a lone statement', () => withDatabase(async (db) => {
      await migrate(db, 'test', MIGRATIONS);
      const failing = db.transaction(async (tx) => {
        await tx.run("INSERT INTO things (id, n) VALUES ('failing', 1)");
        await new Promise((resolve) => setImmediate(resolve));
        await tx.run("INSERT INTO things (id, n) VALUES ('failing-2', 1)");
        throw new Error('rolled back');
      });
      const committing = db.transaction(async (tx) => {
        await tx.run("INSERT INTO things (id, n) VALUES ('committed', 1)");
        await tx.run("INSERT INTO things (id, n) VALUES ('committed-2', 1)");
      });
      const lone = db.run("INSERT INTO things (id, n) VALUES ('lone', 1)");
      await assert.rejects(failing, /rolled back/);
      await committing;
      await lone;
      assert.deepEqual((await db.query('SELECT id FROM things ORDER BY id')).map((r) => r.id), ['committed', 'committed-2', 'lone']);
    }));

    test('migrations: each version applied once, in order, per component; a failing one leaves nothing behind', () => withDatabase(async (db) => {
      await migrate(db, 'test', MIGRATIONS.slice(0, 1));
      await migrate(db, 'test', MIGRATIONS);
      await migrate(db, 'test', MIGRATIONS);
      await migrate(db, 'other', [{ version: 1, sql: 'CREATE TABLE others (id TEXT); CREATE TABLE others_too (id TEXT)' }]);
      await db.run("INSERT INTO serials (v) VALUES ('x')");
      assert.equal(await count(db, 'serials'), 1);
      const broken: Migration[] = [...MIGRATIONS, { version: 3, sql: 'CREATE TABLE three (id TEXT); CREATE TABLE broken (' }];
      await assert.rejects(migrate(db, 'test', broken));
      await assert.rejects(db.query('SELECT * FROM three'), 'the failed migration\'s first statement was rolled back');
      const applied = await db.query<{ component: string; version: number }>('SELECT component, version FROM schema_migrations ORDER BY component, version');
      assert.deepEqual(applied.map((r) => `${r.component}:${r.version}`), ['other:1', 'test:1', 'test:2']);
    }));

    test('several connections migrating a new database at once, components interleaved: each version applied once', () => withDatabase(async (_, connect) => {
      const dbs = Array.from({ length: 6 }, () => connect());
      await Promise.all(dbs.map((db, i) => migrate(db, i % 2 ? 'test' : 'other', i % 2 ? MIGRATIONS : [{ version: 1, sql: 'CREATE TABLE others (id TEXT)' }])));
      const applied = await dbs[0].query<{ component: string; version: number }>('SELECT component, version FROM schema_migrations ORDER BY component, version');
      assert.deepEqual(applied.map((r) => `${r.component}:${r.version}`), ['other:1', 'test:1', 'test:2']);
    }));
  });
}

test('SQLite: several processes migrating one new file at once apply each version once', async () => {
  const database = await testDatabase('sqlite');
  try {
    const dir = database.dataDir!;
    const script = `
      const { openSqlite } = await import(${JSON.stringify(new URL('./database.ts', import.meta.url).href)});
      const { migrate } = await import(${JSON.stringify(new URL('./migrate.ts', import.meta.url).href)});
      const db = openSqlite(${JSON.stringify(dir)});
      await migrate(db, 'test', ${JSON.stringify(MIGRATIONS)});
      await db.close();`;
    const run = promisify(execFile);
    await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script])));
    const db = database.connect();
    const applied = await db.query<{ version: number }>("SELECT version FROM schema_migrations WHERE component = 'test' ORDER BY version");
    assert.deepEqual(applied.map((r) => Number(r.version)), [1, 2]);
  } finally {
    await database.drop();
  }
});

test('PostgreSQL: the pool says how many connections it holds', async () => {
  const database = await testDatabase('postgres');
  try {
    const db = database.connect();
    await db.query('SELECT 1');
    const pool = db.pool!();
    assert.equal(pool.total, 1);
    assert.equal(pool.idle, 1);
    assert.equal(pool.waiting, 0);
  } finally {
    await database.drop();
  }
});
