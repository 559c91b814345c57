// Redis dies under load and comes back. Two replicas with redis.on_failure: open keep answering every
// request from local counters, say so (vigil_redis_degraded, vigil_redis_health_state, /readyz detail, a
// log line) and return to shared counters when Redis is back; a replica with on_failure: closed refuses
// limited requests with 503 GW_LIMITS_UNAVAILABLE meanwhile. The Redis server is the test's own, on its own port.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  accessSettings, awaitKeyKnown, chatCall, errorCode, issueKey, ownRedis, pgSchema, roomInMinute, startGateways, until,
  type OwnRedis, type PgSchema,
} from '../helpers/access-e2e.ts';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { call, total } from '../helpers/scrape.ts';

const SHARED_RPM = 4;
const PREFIX = 'vigil-redis-failure:';

let schema: PgSchema;
let redis: OwnRedis;
let fake: FakeUpstream;
let open: Gateway[] = [];
let closed: Gateway | undefined;

before(async () => {
  schema = await pgSchema();
  redis = await ownRedis();
  fake = await startFakeUpstream();
  const config = (onFailure: 'open' | 'closed') => ({
    ...accessSettings(schema.url, { url: redis.url, prefix: PREFIX, on_failure: onFailure }),
    providers: { 'fake-openai': { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: 'sk-upstream-test' } },
    models: [{ name: 'priced', provider: 'fake-openai', upstream_model: 'ok', pricing: { input_per_mtok: 1, output_per_mtok: 2 } }],
  });
  [open, closed] = await Promise.all([startGateways(2, config('open')), startGateway(config('closed'))]);
});

after(async () => {
  await Promise.all([...open, ...(closed ? [closed] : [])].map((g) => g.stop()));
  await fake?.close();
  await schema?.drop();
  await redis?.kill(); // the test's own server: its keys go with it
});

async function gauges(gateway: Gateway) {
  const res = await call(`${gateway.url}/metrics`);
  assert.equal(res.status, 200);
  const degraded = total(res.body, 'vigil_redis_degraded');
  const health = total(res.body, 'vigil_redis_health_state');
  return { degraded, health };
}

async function readiness(gateway: Gateway) {
  const res = await call(`${gateway.url}/readyz`);
  return { status: res.status, redis: JSON.parse(res.body).components?.redis as { status: string; detail?: string } | undefined };
}

/** Calls with the key, spread over the open replicas, two at a time, until `stop()`: every call's answer or failure is kept. */
function load(key: string) {
  const answers: number[] = [];
  const failures: string[] = [];
  let running = true;
  let sent = 0;
  const worker = async () => {
    while (running) {
      const gateway = open[sent++ % open.length];
      try {
        answers.push((await chatCall(gateway.url, key, { model: 'priced', max_tokens: 8 }, 10_000)).status);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const workers = [worker(), worker()];
  return {
    answered: () => answers.length + failures.length,
    async stop() {
      running = false;
      await Promise.all(workers);
      return { sent, answers, failures };
    },
  };
}

const answeredAtLeast = (traffic: ReturnType<typeof load>, n: number, what: string) =>
  until(what, async () => (traffic.answered() >= n ? true : undefined), 15_000);

test('Redis killed mid-run: open replicas answer everything, degraded and say so; closed refuses; recovery shares limits again', async () => {
  const limited = await issueKey(open[0].url, { name: 'load-key', rpm: 1_000_000 });
  const shared = await issueKey(open[0].url, { name: 'shared-key', rpm: SHARED_RPM });
  for (const g of [...open, closed!]) {
    await awaitKeyKnown(g.url, limited.key);
    await awaitKeyKnown(g.url, shared.key);
    assert.deepEqual(await gauges(g), { degraded: 0, health: 0 }, 'healthy before the failure');
  }
  assert.equal((await chatCall(closed!.url, limited.key, { model: 'priced' })).status, 200, 'the closed replica serves while Redis is up');

  const traffic = load(limited.key);
  await answeredAtLeast(traffic, 10, 'traffic before the failure');
  await redis.kill();
  const killedAt = traffic.answered();

  for (const [i, g] of open.entries()) {
    await until(`open replica ${i + 1}: vigil_redis_degraded 1 and vigil_redis_health_state >= 1`, async () => {
      const { degraded, health } = await gauges(g);
      return degraded === 1 && health >= 1 ? true : undefined;
    }, 10_000);
    const ready = await readiness(g);
    assert.equal(ready.status, 200, 'on_failure open: still ready');
    assert.equal(ready.redis?.status, 'ok');
    assert.match(String(ready.redis?.detail), /^degraded/, 'the readiness detail says degraded');
    await g.waitForLog((r) => (r.level === 'warn' || r.level === 'error') && /redis/i.test(JSON.stringify(r)), 5000);
    await until(`open replica ${i + 1} counts its checks as degraded`, async () => {
      const res = await call(`${g.url}/metrics`);
      return total(res.body, 'vigil_rate_limit_checks_total', { scope: 'rpm', result: 'degraded' }) > 0 ? true : undefined;
    }, 5000);
  }

  const refusal = await until('the closed replica refuses limited requests', async () => {
    const res = await chatCall(closed!.url, limited.key, { model: 'priced' });
    assert.ok(res.status === 200 || res.status === 503, `closed replica answered ${res.status}: ${res.body}`);
    return res.status === 503 ? res : undefined;
  }, 10_000);
  assert.equal(errorCode(refusal), 'GW_LIMITS_UNAVAILABLE', refusal.body);
  const closedReady = await readiness(closed!);
  assert.equal(closedReady.status, 503, 'on_failure closed: not ready while Redis is down');
  assert.equal(closedReady.redis?.status, 'fail');

  await answeredAtLeast(traffic, killedAt + 10, 'traffic during the failure');
  await redis.start();
  const restartedAt = traffic.answered();
  for (const [i, g] of [...open, closed!].entries()) {
    await until(`replica ${i + 1}: gauges back to 0 after Redis returned`, async () => {
      const { degraded, health } = await gauges(g);
      return degraded === 0 && health === 0 ? true : undefined;
    }, 15_000);
    const ready = await readiness(g);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.redis?.status, 'ok');
    assert.doesNotMatch(String(ready.redis?.detail), /degraded/);
  }
  assert.equal((await chatCall(closed!.url, limited.key, { model: 'priced' })).status, 200, 'the closed replica serves again');
  await answeredAtLeast(traffic, restartedAt + 10, 'traffic after the recovery');

  const { sent, answers, failures } = await traffic.stop();
  assert.deepEqual(failures, [], 'no request lost or hung');
  assert.equal(answers.length, sent, 'one answer per request sent');
  assert.deepEqual(answers.filter((s) => s !== 200), [], 'on_failure open: every request served');

  // Shared again: one RPM over both open replicas, counted in the restarted Redis.
  const window = await roomInMinute(8000);
  const statuses: string[] = [];
  for (let i = 0; i < 2 * SHARED_RPM; i++) {
    const res = await chatCall(open[i % 2].url, shared.key, { model: 'priced' });
    statuses.push(`${res.status} ${errorCode(res) ?? ''}`.trim());
  }
  assert.equal(Date.now() - (Date.now() % 60_000), window, 'the calls stayed within one minute window');
  assert.deepEqual(statuses, [...Array(SHARED_RPM).fill('200'), ...Array(SHARED_RPM).fill('429 GW_RATE_LIMITED')]);
});
