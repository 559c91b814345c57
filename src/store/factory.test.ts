import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileConfig } from '../config/compile.ts';
import { configSchema } from '../config/schema.ts';
import { hashKey, mintKey, mintKeyId } from '../core/key-hash.ts';
import { openStores, type StoreHooks } from './factory.ts';
import { testDatabase } from './sql/test-databases.ts';
import { deletePrefix, uniquePrefix } from '../../test/helpers/redis-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-stores-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const queries: string[] = [];
const hooks: StoreHooks = { onError() {}, onCheckpointError() {}, onQuery: (store, operation) => queries.push(`${store} ${operation}`) };
const compiled = (extra: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => compileConfig(configSchema.parse({
  providers: { mock: { kind: 'mock' } }, models: [{ name: 'm', provider: 'mock' }], store: { data_dir: dir }, ...extra,
}), env);

test('embedded default: SQLite for keys, budgets, audit and usage, memory counters, a store check that pings it', async () => {
  const stores = await openStores(compiled({}), hooks);
  try {
    assert.equal(stores.keys.size, 0, 'no key yet: the gateway may run open');
    assert.equal((await stores.counters.increment('k', 1, 1, { start: 0, end: Date.now() + 1000 })).allowed, true);
    const stats = stores.stats();
    assert.equal(stats.store, 'sqlite');
    assert.equal(typeof stats.walBytes, 'number');
    assert.deepEqual(stores.healthChecks.map((c) => [c.name, c.required, c.deadline?.waitingFor]), [['store', true, 'store ping']]);
    assert.deepEqual(await stores.healthChecks[0].check(), { status: 'ok' });
    assert.ok(queries.includes('sqlite ping'), 'store operations are reported with the store\'s name');
    assert.equal(stores.accessFigures().redisState, undefined);
  } finally {
    await stores.close();
  }
});

test('config keys and issued keys answer one lookup; config keys count as active', async () => {
  const stores = await openStores(compiled({ auth: { keys: [{ id: 'team-a', key: 'sk-team-a' }] } }), hooks);
  try {
    const key = mintKey();
    await stores.keyStore.issue({ id: mintKeyId(), hash: hashKey(key), principal: { id: 'x' } });
    assert.equal(stores.keys.lookup(hashKey('sk-team-a'))!.principal.id, 'team-a');
    assert.ok(stores.keys.lookup(hashKey(key)));
    assert.equal(stores.keys.size, 2);
    assert.equal(stores.accessFigures().keys.active, 2);
  } finally {
    await stores.close();
  }
});

test('store.url and redis.url: PostgreSQL for everything stored, Redis counters, and a change published reaches another gateway at once', async () => {
  const database = await testDatabase('postgres');
  const prefix = uniquePrefix();
  const config = compiled({ store: { url: 'env:PG', refresh_ms: 60_000 }, redis: { url: 'redis://127.0.0.1:6379', key_prefix: prefix } }, { PG: database.url });
  const [a, b] = [await openStores(config, hooks), await openStores(config, hooks)];
  try {
    assert.equal(a.stats().store, 'postgres');
    assert.equal(a.accessFigures().redisState, 0);
    assert.ok(a.accessFigures().pool);
    assert.deepEqual(a.healthChecks.map((c) => [c.name, c.required]), [['store', true], ['redis', false]]);
    assert.deepEqual(await a.healthChecks[1].check(), { status: 'ok' });
    const key = mintKey();
    await a.keyStore.issue({ id: mintKeyId(), hash: hashKey(key), principal: { id: 'y' } });
    a.publishChange('keys');
    // refresh_ms is a minute here: only the Redis change channel can make b see it this soon.
    const deadline = Date.now() + 5000;
    while (!b.keys.lookup(hashKey(key)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(b.keys.lookup(hashKey(key)), 'the other gateway sees the new key through the change channel');
  } finally {
    await a.close();
    await b.close();
    await deletePrefix(prefix);
    await database.drop();
  }
});
