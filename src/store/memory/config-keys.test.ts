import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashKey } from '../../core/key-hash.ts';
import { ConfigKeys } from './config-keys.ts';

test('the config file\'s keys: looked up by hash, one frozen Principal per key; unknown hashes are undefined', () => {
  const keys = new ConfigKeys(new Map([[hashKey('sk-a'), 'team-a'], [hashKey('sk-b'), 'team-b']]), 1000);
  const a = keys.lookup(hashKey('sk-a'))!;
  assert.deepEqual(a, { id: 'team-a', hash: hashKey('sk-a'), principal: { id: 'team-a' }, createdAt: 1000, readOnly: true });
  assert.equal(keys.size, 2);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.principal));
  assert.equal(keys.lookup(hashKey('sk-a')), a, 'the same record every time: nothing allocated per request');
  assert.equal(keys.lookup(hashKey('sk-b'))!.principal.id, 'team-b');
  assert.equal(keys.lookup(hashKey('sk-c')), undefined);
  assert.equal(keys.lookup('sk-a'), undefined, 'a plain key is not a hash');
});
