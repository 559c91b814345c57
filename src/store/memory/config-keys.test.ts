import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashKey } from '../../core/key-hash.ts';
import type { Principal } from '../../core/principal.ts';
import { ConfigKeys } from './config-keys.ts';

test('the config file\'s keys: looked up by hash, their compiled Principal on a frozen record; unknown hashes are undefined', () => {
  const principalA: Principal = Object.freeze({ id: 'team-a' });
  const principalB: Principal = Object.freeze({ id: 'team-b', user: 'ann', limits: Object.freeze({ requestsPerMinute: 5 }) });
  const keys = new ConfigKeys(new Map([[hashKey('sk-a'), principalA], [hashKey('sk-b'), principalB]]), 1000);
  const a = keys.lookup(hashKey('sk-a'))!;
  assert.deepEqual(a, { id: 'team-a', hash: hashKey('sk-a'), principal: { id: 'team-a' }, createdAt: 1000, readOnly: true });
  assert.equal(keys.size, 2);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.principal));
  assert.equal(keys.lookup(hashKey('sk-a')), a, 'the same record every time: nothing allocated per request');
  assert.equal(a.principal, principalA, 'the compiled Principal itself, not a copy');
  assert.equal(keys.lookup(hashKey('sk-b'))!.principal, principalB);
  assert.equal(keys.lookup(hashKey('sk-b'))!.id, 'team-b');
  assert.equal(keys.lookup(hashKey('sk-c')), undefined);
  assert.equal(keys.lookup('sk-a'), undefined, 'a plain key is not a hash');
});
