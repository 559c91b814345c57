// Three gateway processes sharing one PostgreSQL schema (keys, budgets, ledger) and one Redis prefix
// (counters, reservations, revocation fan-out) act as one gateway: a key issued on one replica works on all;
// its RPM holds globally (exactly N calls a minute, the rest 429 with Retry-After and OpenAI's
// x-ratelimit-* headers); its daily budget is overshot by at most one call under concurrent bursts spread
// over the three; a revocation through another replica is refused everywhere within one second. The
// replicas' rate-limit and budget counters add up to the same figures.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  REDIS_URL, accessSettings, admin, awaitKeyKnown, chatCall, errorCode, issueKey, micros, pgSchema, redisPrefix, roomInMinute,
  startGateways, type PgSchema,
} from '../helpers/access-e2e.ts';
import { FAKE_USAGE, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import type { Gateway } from '../helpers/gateway.ts';
import { call, total, type Answer } from '../helpers/scrape.ts';

const RPM = 10;
const PRICING = { input_per_mtok: 1000, output_per_mtok: 2000 };
/** What one call costs: the fake upstream reports FAKE_USAGE for every call. */
const CALL_USD = (FAKE_USAGE.input * PRICING.input_per_mtok + FAKE_USAGE.output * PRICING.output_per_mtok) / 1e6;
const DAILY_BUDGET_USD = 0.2;
/** Reserved per call: its UTF-8 bytes + 8 framing tokens (31) at the input price and max_tokens 5 at the output price, $0.041. */
const PROMPT = 'What is the budget for?';

let schema: PgSchema;
let redis: ReturnType<typeof redisPrefix>;
let fake: FakeUpstream;
let gateways: Gateway[] = [];

before(async () => {
  schema = await pgSchema();
  redis = redisPrefix();
  fake = await startFakeUpstream();
  gateways = await startGateways(3, {
    ...accessSettings(schema.url, { url: REDIS_URL, prefix: redis.prefix }),
    providers: { 'fake-openai': { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: 'sk-upstream-test' } },
    models: [{ name: 'priced', provider: 'fake-openai', upstream_model: 'ok', pricing: PRICING }],
  });
});

after(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await fake?.close();
  await schema?.drop();
  await redis?.drop();
});

const statuses = (answers: Answer[]) => answers.map((a) => `${a.status} ${errorCode(a) ?? ''}`).join(', ');

/** A key issued on replica 1, in use on all three. */
async function sharedKey(attributes: Record<string, unknown>) {
  const issued = await issueKey(gateways[0].url, attributes);
  assert.match(issued.key, /^vk-[A-Za-z0-9_-]{43,}$/, 'vk- and 32+ random bytes, base64url');
  await Promise.all(gateways.map((g) => awaitKeyKnown(g.url, issued.key)));
  return issued;
}

test(`one key's RPM holds across three replicas: exactly ${RPM} calls in the minute, the rest 429 with OpenAI's headers`, async () => {
  const { key } = await sharedKey({ name: 'rpm-key', rpm: RPM });
  const window = await roomInMinute();
  const upstreamBefore = fake.requests.length;
  const answers = await Promise.all(Array.from({ length: 3 * RPM }, (_, i) => chatCall(gateways[i % 3].url, key, { model: 'priced', max_tokens: 8 })));
  assert.equal(Date.now() - (Date.now() % 60_000), window, 'the burst stayed within one minute window');

  const ok = answers.filter((a) => a.status === 200);
  const limited = answers.filter((a) => a.status === 429);
  assert.equal(ok.length, RPM, `exactly ${RPM} successes over the three replicas: ${statuses(answers)}`);
  assert.equal(limited.length, 2 * RPM, statuses(answers));
  for (const a of ok) assert.equal(a.headers['x-ratelimit-limit-requests'], String(RPM), 'a limited key\'s successes carry the limit');
  // Counted atomically in Redis: each success saw a different count.
  assert.deepEqual(ok.map((a) => Number(a.headers['x-ratelimit-remaining-requests'])).sort((a, b) => a - b), [...Array(RPM).keys()]);
  for (const a of limited) {
    assert.equal(errorCode(a), 'GW_RATE_LIMITED', a.body);
    const retryAfter = Number(a.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after ${a.headers['retry-after']}`);
    assert.equal(a.headers['x-ratelimit-limit-requests'], String(RPM));
    assert.equal(a.headers['x-ratelimit-remaining-requests'], '0');
    assert.match(String(a.headers['x-ratelimit-reset-requests']), /^(\d+ms|(\d+m)?\d+(\.\d+)?s)$/, 'reset like OpenAI: 250ms, 1s, 6m0s');
  }
  assert.equal(fake.requests.length - upstreamBefore, RPM, 'refused calls never reach the upstream');
  assert.equal(await summed('vigil_rate_limit_checks_total', { scope: 'rpm', result: 'allowed' }), RPM);
  assert.equal(await summed('vigil_rate_limit_checks_total', { scope: 'rpm', result: 'rejected' }), 2 * RPM);
});

test('a daily budget is overshot by at most one call under concurrent bursts across the replicas', async () => {
  const { key, id } = await sharedKey({ name: 'budget-key', daily_budget_usd: DAILY_BUDGET_USD });
  const answers: Answer[] = [];
  // Bursts of 30 (10 per replica) until one is refused whole: the budget is spent.
  for (let burst = 0; burst < 10; burst++) {
    const wave = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      chatCall(gateways[i % 3].url, key, { model: 'priced', max_tokens: FAKE_USAGE.output, messages: [{ role: 'user', content: PROMPT }] })));
    answers.push(...wave);
    if (wave.every((a) => a.status !== 200)) break;
  }
  const ok = answers.filter((a) => a.status === 200);
  const refused = answers.filter((a) => a.status !== 200);
  assert.ok(refused.length > 0 && answers.slice(-30).every((a) => a.status === 429), `the budget ran out: ${statuses(answers.slice(-30))}`);
  for (const a of refused) {
    assert.equal(a.status, 429, a.body);
    assert.equal(errorCode(a), 'GW_BUDGET_EXCEEDED', a.body);
    assert.equal(JSON.parse(a.body).error.type, 'insufficient_quota');
  }

  assert.equal(await summed('vigil_budget_exceeded_total', { scope: 'key', period: 'day' }), refused.length);

  // The ledger (shared, in Postgres) holds every successful call; its spend is the budget plus at most one call.
  const spent = await ledgerSpend(id, ok.length);
  assert.equal(micros(spent), micros(ok.length * CALL_USD), 'each call priced from the reported usage');
  assert.ok(micros(spent) <= micros(DAILY_BUDGET_USD + CALL_USD), `spent $${spent} of a $${DAILY_BUDGET_USD} budget (one call: $${CALL_USD})`);
  assert.ok(micros(spent) > micros(DAILY_BUDGET_USD / 2), `the budget was used before refusing (spent $${spent})`);
});

test('a key revoked through replica 2 is refused by all three within one second', async () => {
  const { key, id } = await sharedKey({ name: 'revoke-key' });
  const revoked = await admin(gateways[1].url, 'POST', `/admin/keys/${id}/revoke`, {});
  const revokedAt = Date.now();
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.equal(revoked.body.state, 'revoked');

  // Each replica is polled; the first refused request must have been sent within a second of the revocation.
  const firstRefusal = await Promise.all(gateways.map(async (g) => {
    for (;;) {
      const sentAt = Date.now();
      const res = await chatCall(g.url, key, { model: 'no-such-model-probe' });
      if (res.status === 401) {
        assert.equal(errorCode(res), 'GW_AUTH_KEY_REVOKED', res.body);
        return sentAt - revokedAt;
      }
      assert.equal(res.status, 404, `until refused the key authenticates: ${res.body}`);
      if (sentAt - revokedAt > 5000) assert.fail(`${g.url} still accepts the revoked key after 5 s`);
      await new Promise((ok) => setTimeout(ok, 20));
    }
  }));
  for (const [i, ms] of firstRefusal.entries()) assert.ok(ms <= 1000, `replica ${i + 1} refused the revoked key only ${ms} ms after the revocation`);
  for (const g of gateways) {
    const res = await chatCall(g.url, key, { model: 'priced' });
    assert.equal(res.status, 401);
    assert.equal(errorCode(res), 'GW_AUTH_KEY_REVOKED');
  }
});

/** A metric's samples summed over the three replicas. */
async function summed(name: string, labels: Record<string, string>): Promise<number> {
  const bodies = await Promise.all(gateways.map(async (g) => (await call(`${g.url}/metrics`)).body));
  return bodies.reduce((sum, body) => sum + total(body, name, labels), 0);
}

/** The key's spend in the shared ledger once its `calls` rows are written (the replicas flush every 50 ms). */
async function ledgerSpend(keyId: string, calls: number): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const [row] = await schema.query<{ n: string; usd: number | null }>(
      'SELECT count(*) AS n, sum(cost_usd) AS usd FROM usage_records WHERE identity_id = $1', [keyId]);
    if (Number(row.n) === calls) return Number(row.usd);
    if (Date.now() > deadline) assert.fail(`the ledger holds ${row.n} rows of key ${keyId}, expected ${calls}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
