// The admin API against a running gateway (SQLite store) with an admin token: keys issued there work with the
// official openai SDK, revoked ones stop within a second, rotated ones overlap for their grace; analytics
// equal the priced usage of the calls made; audit events come back; 401/403/404/400 in OpenAI's shape.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { within } from '../helpers/within.ts';

const TOKEN = 'e2e-admin-token-0123456789';
const PRICE = { input_per_mtok: 1000, output_per_mtok: 3000 };
let gateway: Gateway;

before(async () => {
  gateway = await startGateway({
    auth: { admin_token: 'env:E2E_ADMIN_TOKEN' },
    store: { flush_interval_ms: 50, refresh_ms: 200 },
    providers: { mock: { kind: 'mock' } },
    models: [{ name: 'mock-chat', provider: 'mock', pricing: PRICE }],
  }, { E2E_ADMIN_TOKEN: TOKEN });
});
after(async () => { await gateway?.stop(); });

const admin = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
  const res = await fetch(`${gateway.url}${path}`, {
    method, headers: { ...(token && { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as any };
};

const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
const chat = (key: string) => client(key).chat.completions.create({ model: 'mock-chat', messages: [{ role: 'user', content: 'hello there gateway' }] });

const refused = (key: string) => chat(key).then(() => assert.fail('the key still works'), (err) => {
  assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
  return err;
});

test('issue → the key works with the SDK; revoke → 401 within a second', async () => {
  const issued = await admin('POST', '/admin/keys', { name: 'e2e', user: 'ana', team: 'ml' });
  assert.equal(issued.status, 201);
  assert.match(issued.body.key, /^vk-/);
  const reply = await within(1000, () => chat(issued.body.key));
  assert.equal(reply.object, 'chat.completion');
  const revoked = await admin('POST', `/admin/keys/${issued.body.id}/revoke`, {});
  assert.equal(revoked.body.state, 'revoked');
  const err = await within(1000, () => refused(issued.body.key));
  assert.equal(err.status, 401);
});

test('an expiring key works until its time, then both SDKs get their AuthenticationError saying it expired', async () => {
  const issued = await admin('POST', '/admin/keys', { name: 'short-lived', expires_in: '2s' });
  assert.equal(issued.status, 201);
  const anthropic = new Anthropic({ apiKey: issued.body.key, baseURL: gateway.url, maxRetries: 0 });
  const ask = () => anthropic.messages.create({ model: 'mock-chat', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
  await within(1000, ask); // works while it lasts
  const expired = await within(5000, () => ask().then(() => assert.fail('the key still works'), (err) => {
    assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
    return err;
  }));
  assert.equal(expired.status, 401);
  assert.match(expired.message, /expired/);
  const err = await refused(issued.body.key);
  assert.equal(err.code, 'GW_AUTH_KEY_EXPIRED');
  const shown = await admin('GET', `/admin/keys/${issued.body.id}`);
  assert.equal(shown.body.state, 'expired');
});

test('rotate with a grace: both keys work, then only the new one', async () => {
  const old = (await admin('POST', '/admin/keys', { name: 'rotating' })).body;
  await within(1000, () => chat(old.key));
  const rotated = await admin('POST', `/admin/keys/${old.id}/rotate`, { grace: '2s' });
  assert.equal(rotated.status, 201);
  assert.equal(rotated.body.replaces, old.id);
  await within(1000, () => chat(rotated.body.key));
  await chat(old.key); // inside the grace
  await within(4000, () => refused(old.key));
  await chat(rotated.body.key);
});

test('analytics equal the priced usage of the calls made, by key and by team', async () => {
  const issued = (await admin('POST', '/admin/keys', { name: 'billing', team: 'finance' })).body;
  // Calls refused before the gateway saw the key reached no upstream: they cost nothing and are not counted.
  const replies = [await within(1000, () => chat(issued.key)), await chat(issued.key), await chat(issued.key)];
  const expectedUsd = replies.reduce((sum, r) => sum + (r.usage!.prompt_tokens * PRICE.input_per_mtok + r.usage!.completion_tokens * PRICE.output_per_mtok) / 1e6, 0);
  const row = await within(3000, async () => {
    const report = await admin('GET', '/admin/analytics/by_key?granularity=total');
    const mine = report.body.data.find((r: any) => r.key === issued.id);
    assert.equal(mine?.requests, 3, JSON.stringify(report.body));
    return mine;
  });
  assert.equal(row.input_tokens, replies.reduce((n, r) => n + r.usage!.prompt_tokens, 0));
  assert.equal(row.output_tokens, replies.reduce((n, r) => n + r.usage!.completion_tokens, 0));
  assert.ok(expectedUsd > 0.01, `a few cents: ${expectedUsd}`);
  assert.equal(Math.round(row.cost_usd * 100), Math.round(expectedUsd * 100));
  assert.ok(Math.abs(row.cost_usd - expectedUsd) < 1e-6, `${row.cost_usd} vs ${expectedUsd}`);
  const byTeam = await admin('GET', '/admin/analytics/by_team?granularity=total');
  assert.equal(byTeam.body.group_by, 'team');
  assert.equal(byTeam.body.data.find((r: any) => r.team === 'finance').cost_usd, row.cost_usd);
});

test('audit: the admin API\'s own writes are events, with no key in them', async () => {
  const issued = (await admin('POST', '/admin/keys', { name: 'audited' })).body;
  const events = (await admin('GET', '/admin/audit?event_type=key.issued')).body.data;
  const mine = events.find((e: any) => e.target === issued.id);
  assert.deepEqual([mine.actor, mine.detail], ['admin', { name: 'audited' }]);
  const actions = (await admin('GET', '/admin/audit?event_type=admin.action')).body.data;
  assert.ok(actions.some((e: any) => e.detail.path === '/admin/keys' && e.detail.status === 201));
  assert.ok(!JSON.stringify([events, actions]).includes(issued.key));
});

test('errors in OpenAI\'s shape: 401 without the token, 403 for a gateway key, 404, 400 naming the field', async () => {
  const missing = await admin('GET', '/admin/keys', undefined, null);
  assert.deepEqual([missing.status, missing.body.error.code, missing.body.error.type], [401, 'GW_ADMIN_UNAUTHORIZED', 'authentication_error']);
  assert.equal((await admin('GET', '/admin/keys', undefined, 'not-the-token')).status, 401);
  const forbidden = await admin('GET', '/admin/keys', undefined, 'vk-some-gateway-key');
  assert.deepEqual([forbidden.status, forbidden.body.error.code], [403, 'GW_ADMIN_FORBIDDEN']);
  const notFound = await admin('GET', '/admin/keys/key_nothing');
  assert.deepEqual([notFound.status, notFound.body.error.code], [404, 'GW_ADMIN_NOT_FOUND']);
  const invalid = await admin('POST', '/admin/keys', { name: 'x', rpm: -1 });
  assert.deepEqual([invalid.status, invalid.body.error.code, invalid.body.error.param], [400, 'GW_REQUEST_INVALID', 'rpm']);
  const keys = (await admin('GET', '/admin/keys')).body.data;
  assert.ok(keys.length >= 4 && keys.every((k: any) => !('key' in k) && !('hash' in k)));
});

test('without an admin token, /admin/ answers 404', async () => {
  const plain = await startGateway({ providers: { mock: { kind: 'mock' } }, models: [{ name: 'mock-chat', provider: 'mock' }] });
  try {
    const res = await fetch(`${plain.url}/admin/keys`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 404);
    assert.equal((await res.json() as any).error.code, 'GW_ROUTE_NOT_FOUND');
  } finally {
    await plain.stop();
  }
});
