import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileConfig } from '../config/compile.ts';
import { configSchema } from '../config/schema.ts';
import { hashKey } from '../core/key-hash.ts';
import { buildStores, type StoreHooks } from './factory.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-stores-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const queries: string[] = [];
const hooks: StoreHooks = { onError() {}, onCheckpointError() {}, onQuery: (store, operation) => queries.push(`${store} ${operation}`) };
const compiled = (auth: unknown) => compileConfig(configSchema.parse({
  providers: { mock: { kind: 'mock' } }, models: [{ name: 'm', provider: 'mock' }], store: { data_dir: dir }, auth,
}), {});

test('store.kind sqlite: the SQLite ledger with its own figures, memory counters, and a store check that pings it', async () => {
  const stores = buildStores(compiled({}), hooks);
  try {
    assert.equal(stores.keys, undefined, 'no auth.keys: the gateway is open');
    assert.equal((await stores.counters.increment('k', 1, 1, { start: 0, end: Date.now() + 1000 })).allowed, true);
    const stats = stores.stats();
    assert.equal(stats.store, 'sqlite');
    assert.equal(typeof stats.walBytes, 'number');
    assert.deepEqual(stores.healthChecks.map((c) => [c.name, c.required, c.deadline?.waitingFor]), [['store', true, 'store ping']]);
    assert.deepEqual(await stores.healthChecks[0].check(), { status: 'ok' });
    assert.ok(queries.includes('sqlite ping'), 'store operations are reported with the store\'s name');
  } finally {
    await stores.ledger.close();
  }
});

test('configured gateway keys become the key store authenticate reads', async () => {
  const stores = buildStores(compiled({ keys: [{ id: 'team-a', key: 'sk-team-a' }] }), hooks);
  try {
    assert.equal((await stores.keys!.lookup(hashKey('sk-team-a')))!.principal.id, 'team-a');
  } finally {
    await stores.ledger.close();
  }
});
