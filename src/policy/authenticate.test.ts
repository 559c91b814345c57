import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.ts';
import { hashKey } from '../core/key-hash.ts';
import { ANONYMOUS } from '../core/principal.ts';
import { ConfigKeys } from '../store/memory/config-keys.ts';
import { createAuthenticate } from './authenticate.ts';
import { testContext } from '../../test/helpers/context.ts';

const context = (headers: Record<string, string | string[] | undefined>) => testContext({ headers });

const keys = new ConfigKeys(new Map([[hashKey('sk-team-a'), 'team-a'], [hashKey('sk-team-b'), 'team-b']]));
const authenticate = createAuthenticate(keys);

function rejects(headers: Record<string, string | string[] | undefined>, code: string): void {
  const ctx = context(headers);
  assert.throws(() => authenticate(ctx), (err: GatewayError) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, code, JSON.stringify(headers));
    assert.equal(err.status, 401);
    assert.equal(err.errorClass, 'auth');
    return true;
  });
  assert.equal(ctx.principal, ANONYMOUS);
}

test('an open gateway (no key store) lets everyone through as the one shared, frozen anonymous principal', async () => {
  const open = createAuthenticate(undefined);
  for (const headers of [{}, { authorization: 'Bearer whatever' }, { 'x-api-key': 'nope' }]) {
    const ctx = context(headers);
    await open(ctx);
    assert.equal(ctx.principal, ANONYMOUS);
  }
  assert.deepEqual(ANONYMOUS, { id: 'anonymous' });
  assert.ok(Object.isFrozen(ANONYMOUS));
});

test('Authorization: Bearer and x-api-key are both accepted and set the identity', async () => {
  const bearer = context({ authorization: 'Bearer sk-team-a' });
  await authenticate(bearer);
  assert.equal(bearer.principal.id, 'team-a');
  const apiKey = context({ 'x-api-key': 'sk-team-b' });
  await authenticate(apiKey);
  assert.equal(apiKey.principal.id, 'team-b');
  const padded = context({ authorization: 'Bearer   sk-team-a  ' });
  await authenticate(padded);
  assert.equal(padded.principal.id, 'team-a');
});

test('a missing key is GW_AUTH_MISSING_KEY', () => {
  rejects({}, 'GW_AUTH_MISSING_KEY');
  rejects({ authorization: 'Bearer ' }, 'GW_AUTH_MISSING_KEY');
  rejects({ authorization: 'Basic dXNlcjpwYXNz' }, 'GW_AUTH_MISSING_KEY');
  rejects({ 'x-api-key': '' }, 'GW_AUTH_MISSING_KEY');
  rejects({ 'x-api-key': ['sk-team-a', 'sk-team-b'] }, 'GW_AUTH_MISSING_KEY');
});

test('an unknown key is GW_AUTH_INVALID_KEY', () => {
  rejects({ authorization: 'Bearer sk-team-c' }, 'GW_AUTH_INVALID_KEY');
  rejects({ 'x-api-key': 'sk-team-a-but-longer' }, 'GW_AUTH_INVALID_KEY');
  rejects({ authorization: 'Bearer sk-TEAM-A' }, 'GW_AUTH_INVALID_KEY');
});

test('Bearer wins over x-api-key when both are sent', async () => {
  const ctx = context({ authorization: 'Bearer sk-team-b', 'x-api-key': 'sk-team-a' });
  await authenticate(ctx);
  assert.equal(ctx.principal.id, 'team-b');
  rejects({ authorization: 'Bearer sk-wrong', 'x-api-key': 'sk-team-a' }, 'GW_AUTH_INVALID_KEY');
});

test('the error text names both ways to send a key and never echoes the key', () => {
  try {
    authenticate(context({ authorization: 'Bearer sk-leaky-secret' }));
    assert.fail('expected a rejection');
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    assert.doesNotMatch(err.publicMessage, /sk-leaky-secret/);
  }
  try {
    authenticate(context({}));
    assert.fail('expected a rejection');
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    assert.match(err.publicMessage, /Authorization: Bearer/);
    assert.match(err.publicMessage, /x-api-key/);
  }
});

test('the auth scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" work too', async () => {
  for (const scheme of ['bearer', 'BEARER']) {
    const ctx = context({ authorization: `${scheme} sk-team-a` });
    await authenticate(ctx);
    assert.equal(ctx.principal.id, 'team-a', scheme);
  }
});

test('the principal is the key record\'s own (no copy per request)', async () => {
  const first = context({ authorization: 'Bearer sk-team-a' });
  const second = context({ 'x-api-key': 'sk-team-a' });
  await authenticate(first);
  await authenticate(second);
  assert.equal(first.principal, second.principal);

});
