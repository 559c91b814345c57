// SqlBudgetStore on a real SQLite file and a real PostgreSQL schema: every behaviour is written once and run on both.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SqlBudgetStore } from './budgets.ts';
import { DIALECTS, eventually, testDatabase } from './test-databases.ts';

for (const dialect of DIALECTS) {
  describe(`SqlBudgetStore on ${dialect}`, () => {
    test('set, limitsOf, list, remove; setting no figure removes the budget', async () => {
      const db = await testDatabase(dialect);
      const store = await SqlBudgetStore.open(db.connect(), { refreshMs: 60_000 });
      try {
        assert.equal(store.limitsOf('user', 'ann'), undefined);
        await store.set('user', 'ann', { dailyUsd: 2.5 });
        await store.set('team', 'data', { dailyUsd: 10, monthlyUsd: 200.25 });
        await store.set('team', 'ops:west', { monthlyUsd: 50 });
        assert.deepEqual(store.limitsOf('user', 'ann'), { dailyUsd: 2.5 });
        assert.ok(Object.isFrozen(store.limitsOf('user', 'ann')));
        assert.equal(store.limitsOf('team', 'ann'), undefined, 'scopes are apart');
        const data = store.limitsOf('team', 'data');
        await store.set('user', 'ann', { monthlyUsd: 30 });
        assert.deepEqual(store.limitsOf('user', 'ann'), { monthlyUsd: 30 }, 'set replaces both figures');
        assert.equal(store.limitsOf('team', 'data'), data, 'an unchanged budget keeps its object across reloads');
        assert.deepEqual(await store.list(), [
          { scope: 'team', id: 'data', limits: { dailyUsd: 10, monthlyUsd: 200.25 } },
          { scope: 'team', id: 'ops:west', limits: { monthlyUsd: 50 } },
          { scope: 'user', id: 'ann', limits: { monthlyUsd: 30 } },
        ]);
        assert.equal(await store.remove('team', 'data'), true);
        assert.equal(await store.remove('team', 'data'), false);
        assert.equal(store.limitsOf('team', 'data'), undefined);
        await store.set('team', 'ops:west', {});
        assert.deepEqual(await store.list(), [{ scope: 'user', id: 'ann', limits: { monthlyUsd: 30 } }]);
      } finally {
        await store.close();
        await db.drop();
      }
    });

    test('two stores on one database, as two processes: a change through one shows in the other within its refresh', async () => {
      const db = await testDatabase(dialect);
      const opened = await Promise.all([0, 1, 2].map(() => SqlBudgetStore.open(db.connect(), { refreshMs: 25 })));
      const [one, other] = opened;
      try {
        let changes = 0;
        other.onChange(() => changes++);
        await one.set('team', 'data', { dailyUsd: 5 });
        await eventually(() => other.limitsOf('team', 'data')?.dailyUsd === 5);
        await one.remove('team', 'data');
        await eventually(() => other.limitsOf('team', 'data') === undefined);
        assert.ok(changes >= 2);
        const check = db.connect();
        const versions = await check.query("SELECT version FROM schema_migrations WHERE component = 'budgets'");
        assert.deepEqual(versions.map((r) => Number(r.version)), [1], 'three openers at once applied the migration once');
      } finally {
        await Promise.all(opened.map((s) => s.close()));
        await db.drop();
      }
    });

    test('a refresh that fails keeps the last cache and is reported, never thrown from the timer', async () => {
      const db = await testDatabase(dialect);
      const errors: unknown[] = [];
      const conn = db.connect();
      const store = await SqlBudgetStore.open(conn, { refreshMs: 20, onError: (err) => errors.push(err) });
      try {
        await store.set('user', 'ann', { dailyUsd: 1 });
        await conn.close();
        await eventually(() => errors.length >= 2);
        assert.deepEqual(store.limitsOf('user', 'ann'), { dailyUsd: 1 });
      } finally {
        await store.close();
        await db.drop();
      }
    });
  });
}
