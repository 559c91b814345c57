import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.ts';
import { hashKey } from '../core/key-hash.ts';
import { ANONYMOUS, type Principal } from '../core/principal.ts';
import { createAuthenticate } from './authenticate.ts';
import { testContext } from '../../test/helpers/context.ts';
import { testAccess, type TestAccess } from '../../test/helpers/access.ts';

const TEAM_A: Principal = Object.freeze({ id: 'team-a' });
const TEAM_B: Principal = Object.freeze({ id: 'team-b' });

function setup(auth: Record<string, unknown> = {}): TestAccess {
  const access = testAccess({ auth });
  access.keys.add('sk-team-a', TEAM_A);
  access.keys.add('sk-team-b', TEAM_B);
  return access;
}

const context = (headers: Record<string, string | string[] | undefined>, clientAddress = '10.0.0.1') => testContext({ headers, clientAddress });

async function rejects(access: TestAccess, headers: Record<string, string | string[] | undefined>, code: string, status = 401, address?: string): Promise<GatewayError> {
  const ctx = context(headers, address);
  let caught: unknown;
  try {
    await createAuthenticateOnce(access)(ctx);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof GatewayError, `expected ${code} for ${JSON.stringify(headers)}`);
  assert.equal(caught.code, code, JSON.stringify(headers));
  assert.equal(caught.status, status);
  assert.equal(ctx.principal, ANONYMOUS);
  return caught;
}

// One stage per access object, as the gateway builds one at start-up (the guard's blocks live in it).
const stages = new WeakMap<TestAccess, ReturnType<typeof createAuthenticate>>();
function createAuthenticateOnce(access: TestAccess) {
  let stage = stages.get(access);
  if (!stage) {
    stage = createAuthenticate(access);
    stages.set(access, stage);
  }
  return stage;
}

async function principalOf(access: TestAccess, headers: Record<string, string | undefined>): Promise<Principal> {
  const ctx = context(headers);
  await createAuthenticateOnce(access)(ctx);
  return ctx.principal;
}

test('open while no key exists (auth.required unset): everyone is the shared anonymous principal; the first key closes it', async () => {
  const access = testAccess();
  for (const headers of [{}, { authorization: 'Bearer whatever' }]) assert.equal(await principalOf(access, headers), ANONYMOUS);
  access.keys.add('sk-new', TEAM_A); // issued while running
  await rejects(access, {}, 'GW_AUTH_MISSING_KEY');
  assert.equal(await principalOf(access, { authorization: 'Bearer sk-new' }), TEAM_A);
});

test('auth.required forces either way: false stays open with keys, true refuses when no key exists', async () => {
  const open = setup({ required: false });
  assert.equal(await principalOf(open, { authorization: 'Bearer nope' }), ANONYMOUS);
  const closed = testAccess({ auth: { required: true } });
  await rejects(closed, {}, 'GW_AUTH_MISSING_KEY');
});

test('Authorization: Bearer (any case, padded) and x-api-key set the key record\'s own Principal; Bearer wins', async () => {
  const access = setup();
  assert.equal(await principalOf(access, { authorization: 'Bearer sk-team-a' }), TEAM_A);
  assert.equal(await principalOf(access, { authorization: 'bearer   sk-team-a  ' }), TEAM_A);
  assert.equal(await principalOf(access, { authorization: 'BEARER sk-team-a' }), TEAM_A);
  assert.equal(await principalOf(access, { 'x-api-key': 'sk-team-b' }), TEAM_B);
  assert.equal(await principalOf(access, { authorization: 'Bearer sk-team-b', 'x-api-key': 'sk-team-a' }), TEAM_B);
});

test('each failure says why: missing, invalid, revoked, expired; a revocation still in its grace period lets the key in', async () => {
  const access = setup();
  access.keys.add('sk-revoked', { id: 'old' }, { revokedAt: access.clock.now - 1 });
  access.keys.add('sk-expired', { id: 'late' }, { expiresAt: access.clock.now });
  access.keys.add('sk-grace', { id: 'rotating' }, { revokedAt: access.clock.now + 60_000 });
  for (const headers of [{}, { authorization: 'Bearer ' }, { authorization: 'Basic dXNlcjpwYXNz' }, { 'x-api-key': '' }, { 'x-api-key': ['a', 'b'] }]) {
    await rejects(access, headers, 'GW_AUTH_MISSING_KEY');
  }
  await rejects(access, { authorization: 'Bearer sk-TEAM-A' }, 'GW_AUTH_INVALID_KEY');
  await rejects(access, { authorization: 'Bearer sk-revoked' }, 'GW_AUTH_KEY_REVOKED');
  await rejects(access, { 'x-api-key': 'sk-expired' }, 'GW_AUTH_KEY_EXPIRED');
  assert.equal((await principalOf(access, { authorization: 'Bearer sk-grace' })).id, 'rotating');
  access.clock.now += 60_000;
  await rejects(access, { authorization: 'Bearer sk-grace' }, 'GW_AUTH_KEY_REVOKED');
});

test('failures are audited as security events with the key hash prefix and address, never the key', async () => {
  const access = setup();
  await rejects(access, { authorization: 'Bearer sk-leaky-secret' }, 'GW_AUTH_INVALID_KEY', 401, '192.0.2.7');
  await rejects(access, {}, 'GW_AUTH_MISSING_KEY', 401, '192.0.2.7');
  const [invalid, missing] = access.audit.events;
  assert.equal(invalid.type, 'auth.failed');
  assert.equal(invalid.security, true);
  assert.equal(invalid.actor, 'anonymous');
  assert.deepEqual(invalid.detail, { reason: 'invalid_key', client_address: '192.0.2.7', key_prefix: hashKey('sk-leaky-secret').slice(0, 8) });
  assert.deepEqual(missing.detail, { reason: 'missing_key', client_address: '192.0.2.7' });
  assert.doesNotMatch(JSON.stringify(access.audit.events), /sk-leaky-secret/);
});

test('brute-force guard: from half of max_failures failed answers are delayed, at max_failures the address is blocked, even for a good key', async () => {
  const access = setup({ brute_force: { max_failures: 4, window_seconds: 60, block_seconds: 300, delay_ms: 700 } });
  await rejects(access, { authorization: 'Bearer bad-1' }, 'GW_AUTH_INVALID_KEY');
  assert.deepEqual(access.slept, [], 'the first failure is answered at once');
  for (let i = 2; i <= 4; i++) await rejects(access, { authorization: `Bearer bad-${i}` }, 'GW_AUTH_INVALID_KEY');
  assert.deepEqual(access.slept, [700, 700, 700]);
  assert.equal(access.recorder.count('authBlocked:delayed'), 3);
  const blocked = await rejects(access, { authorization: 'Bearer sk-team-a' }, 'GW_AUTH_BLOCKED', 429);
  assert.equal(blocked.retryAfter, 300);
  assert.equal(blocked.retryable, false);
  assert.equal(access.recorder.count('authBlocked:blocked'), 1);
  assert.ok(access.audit.events.some((e) => e.type === 'auth.failed' && e.detail?.reason === 'blocked' && e.detail?.block_seconds === 300));
  assert.equal(await principalOf(access, { authorization: 'Bearer sk-team-a' }).then(() => 'in', () => 'refused'), 'refused');
  const other = context({ authorization: 'Bearer sk-team-a' }, '10.0.0.2');
  await createAuthenticateOnce(access)(other);
  assert.equal(other.principal, TEAM_A, 'another address is not blocked');

  access.clock.now += 299_000;
  const later = await rejects(access, { authorization: 'Bearer sk-team-a' }, 'GW_AUTH_BLOCKED', 429);
  assert.equal(later.retryAfter, 1);
  access.clock.now += 1000; // block_seconds after the block: recovered
  assert.equal(await principalOf(access, { authorization: 'Bearer sk-team-a' }), TEAM_A);
  access.slept.length = 0;
  await rejects(access, { authorization: 'Bearer bad-again' }, 'GW_AUTH_INVALID_KEY');
  assert.deepEqual(access.slept, [], 'a new window: failures count from zero');
});

test('the failure count is shared through the counters: another gateway blocks the address on its first failure from it', async () => {
  const first = setup({ brute_force: { max_failures: 3, delay_ms: 0 } });
  const second: TestAccess = { ...first, sleep: first.sleep };
  const secondStage = createAuthenticate(second);
  for (let i = 0; i < 3; i++) await rejects(first, { authorization: 'Bearer guess' }, 'GW_AUTH_INVALID_KEY');
  const ok = context({ authorization: 'Bearer sk-team-a' });
  await secondStage(ok);
  assert.equal(ok.principal, TEAM_A, 'a block is local until that gateway sees a failure');
  await assert.rejects(async () => secondStage(context({ authorization: 'Bearer guess' })), { code: 'GW_AUTH_INVALID_KEY' });
  await assert.rejects(async () => secondStage(context({ authorization: 'Bearer sk-team-a' })), { code: 'GW_AUTH_BLOCKED' });
});

test('requests without a valid key count against auth.address_rpm per address: 429 with the requests headers', async () => {
  const access = setup({ address_rpm: 3, brute_force: { max_failures: 100 } });
  for (let i = 0; i < 3; i++) await rejects(access, {}, 'GW_AUTH_MISSING_KEY');
  const limited = await rejects(access, {}, 'GW_RATE_LIMITED', 429);
  assert.equal(limited.retryable, true);
  assert.ok(limited.retryAfter! >= 1 && limited.retryAfter! <= 60);
  assert.equal(limited.headers!['x-ratelimit-limit-requests'], '3');
  assert.equal(limited.headers!['x-ratelimit-remaining-requests'], '0');
  assert.equal(access.recorder.count('rate:address:rejected'), 1);
  assert.equal(access.recorder.count('rate:address:allowed'), 3);
  assert.ok(access.audit.events.some((e) => e.type === 'rate.limited' && e.detail?.scope === 'address' && e.detail?.limit === 3));
  assert.equal(await principalOf(access, { authorization: 'Bearer sk-team-a' }), TEAM_A, 'valid keys do not count against it');
});
