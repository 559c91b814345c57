// The admin routes over real SQLite stores (a temp dir): token checks, key issue/revoke/rotate with their
// audit events, budgets, analytics and audit queries, and the 400/404 answers, as a client sees them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { RequestContext, type ReplyPort } from '../core/context.ts';
import type { GatewayError } from '../core/errors.ts';
import { hashKey } from '../core/key-hash.ts';
import type { ApiRoute } from '../pipeline/endpoints.ts';
import { RouteTable } from '../server/route-table.ts';
import { ConfigKeys } from '../store/memory/config-keys.ts';
import { SqlAuditLog } from '../store/sql/audit-log.ts';
import { SqlBudgetStore } from '../store/sql/budgets.ts';
import { openSqlite } from '../store/sql/database.ts';
import { SqlKeyStore } from '../store/sql/keys.ts';
import { SqlUsageAnalytics } from '../store/sql/usage-analytics.ts';
import { migrateUsage } from '../store/sql/usage-schema.ts';
import { buildAdminRoutes, type AdminDeps } from './routes.ts';

const TOKEN = 'admin-secret-token';
const NOW = Date.parse('2026-03-10T12:00:00Z');

interface Answer { status: number; body: any; error?: GatewayError }

async function setup(t: TestContext, overrides: Partial<AdminDeps> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-admin-'));
  const db = openSqlite(dir);
  const keys = await SqlKeyStore.open(db, { refreshMs: 60_000, now: () => NOW });
  const budgets = await SqlBudgetStore.open(db, { refreshMs: 60_000 });
  await migrateUsage(db);
  const audit = await SqlAuditLog.open(db, { retentionDays: 90, securityRetentionDays: 365 });
  t.after(async () => {
    await audit.close();
    await keys.close();
    await budgets.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const published: string[] = [];
  const finished: RequestContext[] = [];
  const configKeys = new ConfigKeys(new Map([[hashKey('sk-config-key'), { id: 'cfg_one' }]]), NOW).records();
  const routes = buildAdminRoutes({
    token: TOKEN, keys, configKeys, budgets, analytics: new SqlUsageAnalytics(db), audit,
    changes: { publish: (kind) => published.push(kind) }, now: () => NOW, finish: (ctx) => finished.push(ctx), ...overrides,
  });
  const call = (method: ApiRoute['method'], url: string, body?: unknown, token: string | null = TOKEN) => request(routes, method, url, body, token);
  return { db, keys, budgets, audit, routes, published, finished, call };
}

/** Finds the route in the server's own table and runs it on a context with params, query and body. */
async function request(routes: ApiRoute[], method: string, url: string, body: unknown, token: string | null): Promise<Answer> {
  const found = new RouteTable(routes).find(method, url);
  if (!found) throw new Error(`no route for ${method} ${url}`);
  let answer: Answer = { status: 0, body: undefined };
  const reply: ReplyPort = {
    json: (status, text) => { answer = { status, body: JSON.parse(String(text)) }; },
    fail: (error) => { answer = { status: error.status, body: undefined, error }; },
    startStream() {}, write() {}, end() {}, started: false,
  };
  const ctx = new RequestContext({
    requestId: 'req-1', startedAt: 0, route: found.route.path, method, dialect: 'openai', operation: 'admin', reply,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  ctx.params = found.params;
  ctx.query = Object.fromEntries(new URLSearchParams(url.split('?')[1] ?? ''));
  ctx.body = body === undefined ? found.params : (body as Record<string, any>);
  await found.route.endpoint(ctx);
  return answer;
}

test('no admin token configured: no admin routes at all', async (t) => {
  const { routes } = await setup(t, { token: undefined });
  assert.deepEqual(routes, []);
});

test('the token: missing or wrong is 401, a gateway key 403, and every request goes through finish', async (t) => {
  const { call, finished } = await setup(t);
  assert.equal((await call('GET', '/admin/keys', undefined, null)).error?.code, 'GW_ADMIN_UNAUTHORIZED');
  assert.equal((await call('GET', '/admin/keys', undefined, 'wrong')).error?.code, 'GW_ADMIN_UNAUTHORIZED');
  assert.equal((await call('GET', '/admin/keys', undefined, `${TOKEN}x`)).status, 401);
  assert.equal((await call('GET', '/admin/keys', undefined, 'vk-anything')).error?.code, 'GW_ADMIN_FORBIDDEN');
  assert.equal((await call('GET', '/admin/keys', undefined, 'sk-config-key')).error?.code, 'GW_ADMIN_FORBIDDEN');
  assert.equal((await call('GET', '/admin/keys')).status, 200);
  assert.equal(finished.length, 6);
});

test('issue: 201 with the key once, the view without a hash, an audit event and a change notice', async (t) => {
  const { call, keys, audit, published } = await setup(t);
  const issued = await call('POST', '/admin/keys', {
    name: 'ci', user: 'ana', team: 'ml', models: ['gpt-4o'], rpm: 60, tpm: 1000, max_parallel: 2,
    daily_budget_usd: 5, monthly_budget_usd: 50, expires_in: '30d', metadata: { env: 'prod' },
  });
  assert.equal(issued.status, 201);
  const { key, ...view } = issued.body;
  assert.match(key, /^vk-[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(view, {
    id: view.id, name: 'ci', user: 'ana', team: 'ml', models: ['gpt-4o'], rpm: 60, tpm: 1000, max_parallel: 2,
    daily_budget_usd: 5, monthly_budget_usd: 50, metadata: { env: 'prod' }, created_at: new Date(NOW).toISOString(),
    expires_at: new Date(NOW + 30 * 86_400_000).toISOString(), revoked_at: null, replaced_by: null, state: 'active', read_only: false,
  });
  assert.equal(keys.lookup(hashKey(key))?.principal.user, 'ana');
  assert.deepEqual(published, ['keys']);
  const listed = await call('GET', '/admin/keys');
  assert.deepEqual(listed.body.data.map((v: any) => [v.id, v.read_only]), [['cfg_one', true], [view.id, false]]);
  assert.ok(!JSON.stringify(listed.body).includes(hashKey(key)), 'no hash in a listing');
  const events = await audit.query({});
  assert.deepEqual(events.map((e) => [e.type, e.actor, e.target ?? null]), [['key.issued', 'admin', view.id], ['admin.action', 'admin', null]]);
  assert.deepEqual(events[1].detail, { method: 'POST', path: '/admin/keys', status: 201 });
  assert.ok(!JSON.stringify(events).includes(key.slice(3)), 'no key in audit events');
});

test('revoke with a grace, rotate: the old key works until the grace ends, the new one at once', async (t) => {
  const { call, keys, audit } = await setup(t);
  const first = (await call('POST', '/admin/keys', { name: 'a' })).body;
  const revoked = await call('POST', `/admin/keys/${first.id}/revoke`, { grace: '10m' });
  assert.equal(revoked.status, 200);
  assert.equal(revoked.body.revoked_at, new Date(NOW + 600_000).toISOString());
  assert.equal(revoked.body.state, 'active');
  assert.equal((await call('GET', `/admin/keys/${first.id}`)).body.state, 'active');

  const second = (await call('POST', '/admin/keys', { name: 'b', team: 'ml' })).body;
  const rotated = await call('POST', `/admin/keys/${second.id}/rotate`, { grace: 3600 });
  assert.equal(rotated.status, 201);
  assert.equal(rotated.body.replaces, second.id);
  assert.equal(rotated.body.team, 'ml');
  assert.notEqual(rotated.body.key, second.key);
  await keys.refresh();
  assert.equal(keys.lookup(hashKey(rotated.body.key))?.id, rotated.body.id);
  assert.equal(keys.lookup(hashKey(second.key))?.revokedAt, NOW + 3_600_000);
  const old = (await call('GET', `/admin/keys/${second.id}`)).body;
  assert.equal(old.replaced_by, rotated.body.id);
  const rotatedEvent = (await audit.query({ type: 'key.rotated' }))[0];
  assert.deepEqual(rotatedEvent.detail, { name: 'b', grace_seconds: 3600, replaced_by: rotated.body.id });
  assert.deepEqual((await audit.query({ type: 'key.revoked' }))[0].detail, { name: 'a', grace_seconds: 600 });
});

test('config keys are read-only, unknown ids 404, bad bodies 400 naming the field', async (t) => {
  const { call, audit } = await setup(t);
  const readOnly = await call('POST', '/admin/keys/cfg_one/revoke', {});
  assert.equal(readOnly.error?.code, 'GW_REQUEST_INVALID');
  assert.match(readOnly.error!.message, /config file.*read-only/);
  assert.equal((await call('POST', '/admin/keys/cfg_one/rotate', {})).status, 400);
  assert.equal((await call('GET', '/admin/keys/cfg_one')).body.read_only, true);
  assert.equal((await call('GET', '/admin/keys/key_nope')).error?.code, 'GW_ADMIN_NOT_FOUND');
  assert.equal((await call('POST', '/admin/keys/key_nope/revoke', {})).status, 404);
  const cases: [unknown, string][] = [
    [{}, 'name'], [{ name: 'x', rpm: 0 }, 'rpm'], [{ name: 'x', rpm: 1.5 }, 'rpm'], [{ name: 'x', expires_in: '3 weeks' }, 'expires_in'],
    [{ name: 'x', models: 'gpt-4o' }, 'models'], [{ name: 'x', colour: 'red' }, 'body'], [{ name: 'x', expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
    [{ name: 'x', expires_in: '1d', expires_at: '2030-01-01T00:00:00Z' }, 'expires_at'], [{ name: 'x', daily_budget_usd: -1 }, 'daily_budget_usd'],
  ];
  for (const [body, param] of cases) {
    const answer = await call('POST', '/admin/keys', body);
    assert.equal(answer.error?.code, 'GW_REQUEST_INVALID', JSON.stringify(body));
    assert.equal(answer.error?.param, param, JSON.stringify(body));
  }
  const actions = await audit.query({ type: 'admin.action' });
  assert.ok(actions.some((e) => e.detail?.path === '/admin/keys/cfg_one/revoke' && e.detail.status === 400), 'failed writes are audited with their status');
});

test('budgets: set, list, delete; scope must be user or team', async (t) => {
  const { call, budgets, published } = await setup(t);
  const set = await call('PUT', '/admin/budgets/team/ml', { daily_usd: 10, monthly_usd: 200 });
  assert.deepEqual([set.status, set.body], [200, { scope: 'team', id: 'ml', daily_usd: 10, monthly_usd: 200 }]);
  await call('PUT', '/admin/budgets/user/ana', { monthly_usd: 20 });
  await budgets.refresh();
  assert.deepEqual(budgets.limitsOf('team', 'ml'), { dailyUsd: 10, monthlyUsd: 200 });
  const listed = (await call('GET', '/admin/budgets')).body.data;
  assert.deepEqual(listed.toSorted((a: any, b: any) => a.id.localeCompare(b.id)), [
    { scope: 'user', id: 'ana', daily_usd: null, monthly_usd: 20 }, { scope: 'team', id: 'ml', daily_usd: 10, monthly_usd: 200 },
  ]);
  assert.equal((await call('PUT', '/admin/budgets/key/k1', { daily_usd: 1 })).error?.param, 'scope');
  assert.equal((await call('PUT', '/admin/budgets/user/ana', {})).error?.param, 'daily_usd');
  assert.equal((await call('DELETE', '/admin/budgets/user/ana')).status, 200);
  assert.equal((await call('DELETE', '/admin/budgets/user/ana')).error?.code, 'GW_ADMIN_NOT_FOUND');
  assert.deepEqual(published, ['budgets', 'budgets', 'budgets']);
});

test('analytics: the ledger\'s sums by view and bucket; bad ranges are 400', async (t) => {
  const { call, db } = await setup(t);
  const row = (time: string, id: string, model: string, cost: number) => db.run(
    `INSERT INTO usage_records (time, request_id, identity_id, user_id, team_id, route, provider, model, upstream_model, input_tokens, output_tokens,
      cached_input_tokens, cost_usd, duration_ms, status, error_class, stream) VALUES (?, ?, ?, '', 'ml', '/v1/chat/completions', 'mock', ?, ?, 100, 10, 0, ?, 5, 200, '', 0)`,
    [time, `r-${time}`, id, model, model, cost]);
  await row('2026-03-09T10:00:00.000Z', 'key_a', 'gpt-4o', 0.01);
  await row('2026-03-09T11:00:00.000Z', 'key_b', 'gpt-4o', 0.02);
  await row('2026-03-10T09:00:00.000Z', 'key_a', 'haiku', 0.04);
  const total = await call('GET', '/admin/analytics/cost?from=2026-03-01&granularity=total');
  assert.deepEqual(total.body, {
    from: '2026-03-01T00:00:00.000Z', to: new Date(NOW).toISOString(), granularity: 'total', group_by: 'none',
    data: [{ requests: 3, input_tokens: 300, output_tokens: 30, cached_input_tokens: 0, cost_usd: 0.07 }],
  });
  const byKey = await call('GET', '/admin/analytics/by_key?from=2026-03-09&to=2026-03-10');
  assert.deepEqual(byKey.body.data.map((r: any) => [r.period, r.key, r.cost_usd]), [
    ['2026-03-09T00:00:00.000Z', 'key_a', 0.01], ['2026-03-09T00:00:00.000Z', 'key_b', 0.02], ['2026-03-10T00:00:00.000Z', 'key_a', 0.04],
  ]);
  assert.deepEqual((await call('GET', '/admin/analytics/by_team?granularity=total')).body.data, [
    { team: 'ml', requests: 3, input_tokens: 300, output_tokens: 30, cached_input_tokens: 0, cost_usd: 0.07 },
  ]);
  assert.equal((await call('GET', '/admin/analytics/by_model?granularity=hour&from=2026-03-09T10:00:00Z&to=2026-03-09T12:00:00Z')).body.data.length, 2);
  assert.equal((await call('GET', '/admin/analytics/by_colour')).error?.code, 'GW_ADMIN_NOT_FOUND');
  assert.equal((await call('GET', '/admin/analytics/cost?from=2026-03-10&to=2026-03-01')).error?.param, 'to');
  assert.equal((await call('GET', '/admin/analytics/cost?from=yesterday')).error?.param, 'from');
  assert.equal((await call('GET', '/admin/analytics/cost?from=2025-01-01')).error?.param, 'from');
  assert.equal((await call('GET', '/admin/analytics/cost?granularity=week')).error?.param, 'granularity');
});

test('audit: events by type, time and limit', async (t) => {
  const { call, audit } = await setup(t);
  audit.append({ time: '2026-03-01T00:00:00.000Z', type: 'auth.failed', actor: 'anonymous', security: true, detail: { reason: 'invalid_key', key_prefix: 'abcd1234' } });
  audit.append({ time: '2026-03-05T00:00:00.000Z', type: 'rate.limited', actor: 'key_a', detail: { scope: 'rpm', limit: 60 } });
  const failed = (await call('GET', '/admin/audit?event_type=auth.failed')).body.data;
  assert.deepEqual(failed.map(({ id, ...rest }: any) => rest), [{
    time: '2026-03-01T00:00:00.000Z', type: 'auth.failed', actor: 'anonymous', request_id: null, trace_id: null, target: null,
    security: true, detail: { reason: 'invalid_key', key_prefix: 'abcd1234' },
  }]);
  assert.equal((await call('GET', '/admin/audit?since=2026-03-02&until=2026-03-05')).body.data.length, 1);
  assert.equal((await call('GET', '/admin/audit?limit=1')).body.data[0].type, 'auth.failed');
  assert.equal((await call('GET', '/admin/audit?event_type=nope')).error?.param, 'event_type');
  assert.equal((await call('GET', '/admin/audit?limit=0')).error?.param, 'limit');
});
