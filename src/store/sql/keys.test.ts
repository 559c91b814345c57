// SqlKeyStore on a real SQLite file and a real PostgreSQL schema: every behaviour is written once and run on both.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { hashKey, keyState } from '../../core/key-hash.ts';
import type { NewKey } from '../ports.ts';
import { DuplicateKeyError, SqlKeyStore } from './keys.ts';
import { DIALECTS, eventually, testDatabase, type TestDatabase } from './test-databases.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

/** A clock the test moves by hand. */
const clock = () => {
  let now = T0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

const full: NewKey = {
  id: 'key_full',
  hash: hashKey('vk-full'),
  principal: {
    id: 'key_full', name: 'ci', user: 'ann', team: 'data', allowedModels: ['gpt-x', 'claude-y'],
    limits: { requestsPerMinute: 60, tokensPerMinute: 10_000, maxParallel: 4 }, budget: { dailyUsd: 1.5, monthlyUsd: 20 },
  },
  expiresAt: T0 + 30 * 24 * 60 * MIN,
  metadata: { env: 'prod', owner: 'ann' },
};
const plain = (id: string): NewKey => ({ id, hash: hashKey(`vk-${id}`), principal: { id } });

for (const dialect of DIALECTS) {
  describe(`SqlKeyStore on ${dialect}`, () => {
    let database: TestDatabase;
    before(async () => {
      database = await testDatabase(dialect);
    });
    after(() => database.drop());

    /** A store on a fresh database of its own, as one gateway process would open it. */
    const fresh = async (options: { now?: () => number; refreshMs?: number } = {}) => {
      const db = await testDatabase(dialect);
      const store = await SqlKeyStore.open(db.connect(), { refreshMs: options.refreshMs ?? 60_000, now: options.now });
      return { db, store, [Symbol.asyncDispose]: async () => { await store.close(); await db.drop(); } };
    };

    test('issue: lookup by hash answers the record, its Principal built once and frozen; get, list, size', async () => {
      await using env = await fresh({ now: clock().now });
      const { store } = env;
      assert.equal(store.size, 0);
      const issued = await store.issue(full);
      await store.issue(plain('key_plain'));
      assert.equal(store.size, 2);
      assert.deepEqual(issued, { ...full, createdAt: T0 });
      const found = store.lookup(full.hash)!;
      assert.equal(found, issued, 'the cached record itself');
      assert.ok(Object.isFrozen(found) && Object.isFrozen(found.principal) && Object.isFrozen(found.principal.limits));
      assert.deepEqual(store.lookup(hashKey('vk-key_plain')), { id: 'key_plain', hash: hashKey('vk-key_plain'), principal: { id: 'key_plain' }, createdAt: T0 });
      assert.equal(store.lookup(hashKey('vk-nobody')), undefined);
      assert.equal(await store.get('key_full'), found);
      assert.equal(await store.get('key_nobody'), undefined);
      assert.deepEqual((await store.list()).map((k) => k.id), ['key_full', 'key_plain']);
      await store.revoke('key_plain', T0);
      assert.equal(store.lookup(full.hash), found, 'an unchanged key keeps its record across reloads');
    });

    test('issue refuses an id or a hash some key already has, and writes nothing', async () => {
      await using env = await fresh();
      const { store } = env;
      await store.issue(plain('key_a'));
      await assert.rejects(store.issue({ ...plain('key_a'), hash: hashKey('other') }), DuplicateKeyError);
      await assert.rejects(store.issue({ ...plain('key_b'), hash: hashKey('vk-key_a') }), DuplicateKeyError);
      assert.deepEqual((await store.list()).map((k) => k.id), ['key_a']);
    });

    test('revoke now, or later with a grace period: the state flips when the clock passes it; an earlier revocation stands', async () => {
      const time = clock();
      await using env = await fresh({ now: time.now });
      const { store } = env;
      await store.issue(plain('key_now'));
      await store.issue(plain('key_grace'));
      assert.equal((await store.revoke('key_now', T0))!.revokedAt, T0);
      assert.equal(keyState(store.lookup(hashKey('vk-key_now'))!, T0), 'revoked');
      await store.revoke('key_grace', T0 + 10 * MIN);
      const graced = store.lookup(hashKey('vk-key_grace'))!;
      assert.equal(keyState(graced, T0 + 10 * MIN - 1), 'active');
      assert.equal(keyState(graced, T0 + 10 * MIN), 'revoked');
      assert.equal((await store.revoke('key_now', T0 + 60 * MIN))!.revokedAt, T0, 'revoking again never postpones');
      assert.equal((await store.revoke('key_grace', T0 + MIN))!.revokedAt, T0 + MIN, 'a sooner revocation cuts the grace short');
      assert.equal(await store.revoke('key_nobody', T0), undefined);
    });

    test('rotate: the new key copies every attribute, both work during the grace, the old one is revoked after it', async () => {
      const time = clock();
      await using env = await fresh({ now: time.now });
      const { store } = env;
      await store.issue(full);
      time.advance(MIN);
      const next = { id: 'key_next', hash: hashKey('vk-next') };
      const rotated = (await store.rotate('key_full', next, T0 + 61 * MIN))!;
      assert.deepEqual(rotated.next, { ...full, ...next, principal: { ...full.principal, id: 'key_next' }, createdAt: T0 + MIN });
      assert.deepEqual(rotated.old, { ...full, createdAt: T0, revokedAt: T0 + 61 * MIN, replacedBy: 'key_next' });
      assert.equal(store.lookup(next.hash), rotated.next);
      assert.equal(store.lookup(full.hash), rotated.old);
      assert.equal(keyState(rotated.old, T0 + 60 * MIN), 'active');
      assert.equal(keyState(rotated.next, T0 + 60 * MIN), 'active');
      assert.equal(keyState(rotated.old, T0 + 61 * MIN), 'revoked');
      assert.equal(keyState(rotated.next, T0 + 61 * MIN), 'active');
      assert.equal(await store.rotate('key_nobody', { id: 'key_x', hash: hashKey('x') }, T0), undefined);
      await assert.rejects(store.rotate('key_next', { id: 'key_y', hash: full.hash }, T0), DuplicateKeyError);
      assert.equal((await store.get('key_next'))!.revokedAt, undefined, 'a refused rotation changes nothing');
      assert.equal(store.size, 2);
    });

    test('expiry and counts: keys by state at a given time, from the cache', async () => {
      await using env = await fresh({ now: clock().now });
      const { store } = env;
      await store.issue({ ...plain('key_expiring'), expiresAt: T0 + MIN });
      await store.issue(plain('key_revoked'));
      await store.issue(plain('key_later'));
      await store.revoke('key_revoked', T0);
      await store.revoke('key_later', T0 + 2 * MIN);
      assert.equal(keyState(store.lookup(hashKey('vk-key_expiring'))!, T0 + MIN - 1), 'active');
      assert.equal(keyState(store.lookup(hashKey('vk-key_expiring'))!, T0 + MIN), 'expired');
      assert.deepEqual(store.counts(T0), { active: 2, revoked: 1, expired: 0 });
      assert.deepEqual(store.counts(T0 + MIN), { active: 1, revoked: 1, expired: 1 });
      assert.deepEqual(store.counts(T0 + 2 * MIN), { active: 0, revoked: 2, expired: 1 });
    });

    test('two stores on one database, as two processes: a write through one shows in the other within its refresh', async () => {
      const one = await SqlKeyStore.open(database.connect(), { refreshMs: 60_000 });
      const other = await SqlKeyStore.open(database.connect(), { refreshMs: 25 });
      try {
        let changes = 0;
        other.onChange(() => changes++);
        await one.issue(plain('key_shared'));
        const hash = hashKey('vk-key_shared');
        await eventually(() => other.lookup(hash) !== undefined);
        await one.revoke('key_shared', T0);
        await eventually(() => other.lookup(hash)?.revokedAt === T0);
        assert.ok(changes >= 2, 'onChange runs after each reload that changed a key');
        const seen = changes;
        await other.refresh();
        assert.equal(changes, seen, 'no change, no reload, no call');
      } finally {
        await one.close();
        await other.close();
      }
    });

    test('several processes opening a new database at once apply each migration once', async () => {
      const db = await testDatabase(dialect);
      try {
        const stores = await Promise.all(Array.from({ length: 5 }, () => SqlKeyStore.open(db.connect(), { refreshMs: 60_000 })));
        await Promise.all(stores.map((s) => s.close()));
        const check = db.connect();
        assert.deepEqual((await check.query("SELECT version FROM schema_migrations WHERE component = 'keys'")).map((r) => Number(r.version)), [1]);
        assert.equal((await check.query('SELECT version FROM key_changes')).length, 1);
      } finally {
        await db.drop();
      }
    });

    test('a refresh that fails keeps the last cache and is reported, never thrown from the timer', async () => {
      const db = await testDatabase(dialect);
      const errors: unknown[] = [];
      const conn = db.connect();
      const store = await SqlKeyStore.open(conn, { refreshMs: 20, onError: (err) => errors.push(err) });
      try {
        await store.issue(plain('key_kept'));
        await conn.close();
        await eventually(() => errors.length >= 2);
        assert.equal(store.lookup(hashKey('vk-key_kept'))!.id, 'key_kept');
        await assert.rejects(store.refresh(), 'an explicit refresh says it failed');
      } finally {
        await store.close();
        await db.drop();
      }
    });
  });
}

test('SQLite: a key revoked by another process (the CLI) shows in a running store within its refresh', async () => {
  const database = await testDatabase('sqlite');
  const store = await SqlKeyStore.open(database.connect(), { refreshMs: 25 });
  try {
    await store.issue(plain('key_cli'));
    const script = `
      const { openSqlite } = await import(${JSON.stringify(new URL('./database.ts', import.meta.url).href)});
      const { SqlKeyStore } = await import(${JSON.stringify(new URL('./keys.ts', import.meta.url).href)});
      const db = openSqlite(${JSON.stringify(database.dataDir)});
      const store = await SqlKeyStore.open(db, { refreshMs: 500 });
      await store.revoke('key_cli', ${T0});
      await store.close();
      await db.close();`;
    await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script]);
    await eventually(() => store.lookup(hashKey('vk-key_cli'))?.revokedAt === T0);
  } finally {
    await store.close();
    await database.drop();
  }
});
