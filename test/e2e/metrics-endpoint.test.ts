// The metrics endpoint: configurable path, the dedicated listener, scrape credentials (bearer and
// basic, 401 with WWW-Authenticate otherwise) and OpenMetrics negotiation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, startGateway, type Gateway } from '../helpers/gateway.ts';
import { call, samples } from '../helpers/scrape.ts';

const TOKEN = 'metrics-token-123';
const PASSWORD = 'scrape-pass-456';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const PROMETHEUS = 'text/plain; version=0.0.4; charset=utf-8';
/** What Prometheus 2.x sends by default. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const models = { providers: { mock: { kind: 'mock' } }, models: [{ name: 'mock-chat', provider: 'mock' }] };

let gateway: Gateway;
let listenerUrl: string;

before(async () => {
  const port = await freePort();
  listenerUrl = `http://127.0.0.1:${port}`;
  gateway = await startGateway({
    ...models,
    metrics: {
      path: '/internal/metrics',
      listener: { enabled: true, host: '127.0.0.1', port },
      auth: { bearer_token: 'env:TEST_METRICS_TOKEN', basic: { username: 'prometheus', password: 'env:TEST_METRICS_PASSWORD' } },
    },
  }, { TEST_METRICS_TOKEN: TOKEN, TEST_METRICS_PASSWORD: PASSWORD });
  await call(`${gateway.url}/v1/chat/completions`, { body: { model: 'mock-chat', messages: [{ role: 'user', content: 'hi' }] } });
});
after(() => gateway?.stop());

test('the configured path is served on the main port and on the dedicated listener; /metrics is not', async () => {
  for (const base of [gateway.url, listenerUrl]) {
    const ok = await call(`${base}/internal/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200, base);
    assert.equal(ok.headers['content-type'], PROMETHEUS);
    assert.deepEqual(samples(ok.body, 'vigil_http_requests_total', { route: '/v1/chat/completions', status: '200' }), [1]);
  }
  assert.equal((await call(`${gateway.url}/metrics`)).status, 404);
  assert.equal((await call(`${listenerUrl}/healthz`)).status, 200, 'liveness on the metrics listener');
  assert.equal((await call(`${listenerUrl}/v1/models`)).status, 404, 'the metrics listener serves no API');
});

test('without valid credentials: 401 with a challenge for each configured scheme', async () => {
  const attempts: Record<string, string | undefined> = {
    none: undefined,
    'wrong bearer': `Bearer ${TOKEN}x`,
    'short bearer': 'Bearer m',
    'wrong password': basic('prometheus', 'nope'),
    'wrong user': basic('grafana', PASSWORD),
    'password as bearer': `Bearer ${PASSWORD}`,
    'other scheme': `Digest ${TOKEN}`,
  };
  for (const [what, authorization] of Object.entries(attempts)) {
    for (const base of [gateway.url, listenerUrl]) {
      const res = await call(`${base}/internal/metrics`, { headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 401, `${what} on ${base}`);
      // Two WWW-Authenticate headers (one per scheme); Node joins repeated ones with ", ".
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="vigil metrics", Basic realm="vigil metrics", charset="UTF-8"');
      assert.ok(!res.body.includes('vigil_'), 'no metrics leak in the 401');
    }
  }
  const ok = await call(`${listenerUrl}/internal/metrics`, { headers: { authorization: basic('prometheus', PASSWORD) } });
  assert.equal(ok.status, 200);
  const unauthorized = await call(`${gateway.url}/internal/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.ok(samples(unauthorized.body, 'vigil_http_requests_total', { route: '/internal/metrics', status: '401' })[0] >= 7,
    'main-port scrapes are counted under the configured path, refusals included');
});

test('OpenMetrics when asked for (Prometheus default Accept too); Prometheus text otherwise, before and after', async () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  for (const accept of ['application/openmetrics-text', PROMETHEUS_ACCEPT]) {
    const res = await call(`${listenerUrl}/internal/metrics`, { headers: { ...auth, accept } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], OPENMETRICS, accept);
    assert.ok(res.body.endsWith('# EOF\n'), 'OpenMetrics ends with # EOF');
    assert.match(res.body, /^# TYPE vigil_http_requests counter$/m, 'counter family named without _total');
    assert.match(res.body, /^vigil_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="200",outcome="success"\} 1$/m);
    assert.doesNotMatch(res.body, /_total_total/);
  }
  for (const accept of [undefined, 'text/plain;version=0.0.4', '*/*', 'text/plain;q=1,application/openmetrics-text;q=0.5', 'application/openmetrics-text;q=0']) {
    const res = await call(`${gateway.url}/internal/metrics`, { headers: { ...auth, ...(accept ? { accept } : {}) } });
    assert.equal(res.headers['content-type'], PROMETHEUS, String(accept));
    assert.ok(!res.body.includes('# EOF'));
    assert.match(res.body, /^# TYPE vigil_http_requests_total counter$/m, 'an OpenMetrics scrape never renames the live counters');
  }
});

test('defaults: open /metrics on the main port; main_port off leaves only the listener', async (t) => {
  const open = await startGateway(models);
  t.after(() => open.stop());
  const res = await call(`${open.url}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], PROMETHEUS);

  const port = await freePort();
  const separate = await startGateway({ ...models, metrics: { main_port: false, listener: { enabled: true, host: '127.0.0.1', port } } });
  t.after(() => separate.stop());
  assert.equal((await call(`${separate.url}/metrics`)).status, 404);
  const scraped = await call(`http://127.0.0.1:${port}/metrics`);
  assert.equal(scraped.status, 200);
  assert.deepEqual(samples(scraped.body, 'vigil_build_info'), [1]);
});

test('metrics credentials that do not resolve stop start-up, naming the key', async () => {
  await assert.rejects(
    startGateway({ ...models, metrics: { auth: { bearer_token: 'env:VIGIL_TEST_UNSET_METRICS_TOKEN' } } }),
    /metrics\.auth\.bearer_token: environment variable VIGIL_TEST_UNSET_METRICS_TOKEN is not set/,
  );
});
