import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CATALOG, type MetricSpec } from './catalog.ts';
import { renderLocal, renderSnapshots, retire, snapshot } from './exposition.ts';
import { createMetrics } from './registry.ts';

test('every gauge in the catalog declares how workers combine', () => {
  const gauges = (Object.values(CATALOG) as MetricSpec[]).filter((m) => m.type === 'gauge');
  assert.deepEqual(gauges.filter((m) => !m.aggregate).map((m) => m.name), []);
  assert.doesNotThrow(() => createMetrics());
});

test('workers combine by the declared meaning: counters and histograms sum, build_info once, in-flight sums', async () => {
  const workers = [createMetrics(), createMetrics()];
  workers.forEach((w, i) => {
    w.instruments.buildInfo.labels('1.0.0', '24', 'abc').set(1);
    w.instruments.httpRequests.labels('/v1/chat/completions', 'POST', '200').inc(i + 2);
    w.instruments.httpInFlight.labels('/v1/chat/completions').set(i + 1);
    w.instruments.httpDuration.labels('/v1/chat/completions', 'POST').observe(0.02);
  });
  const { body } = await renderSnapshots(await Promise.all(workers.map((w) => snapshot(w.registry))), 'prometheus');
  assert.match(body, /^vigil_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="200"\} 5$/m);
  assert.match(body, /^vigil_http_requests_in_flight\{route="\/v1\/chat\/completions"\} 3$/m);
  assert.match(body, /^vigil_build_info\{version="1.0.0",node_version="24",commit="abc"\} 1$/m);
  assert.match(body, /^vigil_http_request_duration_seconds_count\{route="\/v1\/chat\/completions",method="POST"\} 2$/m);
  assert.match(body, /^vigil_http_request_duration_seconds_bucket\{le="0.025",route="\/v1\/chat\/completions",method="POST"\} 2$/m);
});

test('OpenMetrics: counter families without _total, samples with it, # EOF; the live registry is untouched', async () => {
  const metrics = createMetrics();
  metrics.instruments.httpRequests.labels('/metrics', 'GET', '200').inc();
  for (const render of [() => renderLocal(metrics.registry, 'openmetrics'), async () => renderSnapshots([await snapshot(metrics.registry)], 'openmetrics')]) {
    const { contentType, body } = await render();
    assert.equal(contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.match(body, /^# TYPE vigil_http_requests counter$/m);
    assert.match(body, /^vigil_http_requests_total\{route="\/metrics",method="GET",status="200"\} 1$/m);
    assert.doesNotMatch(body, /_total_total/);
    assert.ok(body.endsWith('# EOF\n'));
  }
  const text = await renderLocal(metrics.registry, 'prometheus');
  assert.equal(text.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(text.body, /^# TYPE vigil_http_requests_total counter$/m);
  assert.match(text.body, /^vigil_http_requests_total\{route="\/metrics",method="GET",status="200"\} 1$/m);
});

test('retire: an exited worker keeps its counters and histograms in the sum, not its gauges', async () => {
  const dead = createMetrics();
  dead.instruments.httpRequests.labels('/v1/messages', 'POST', '200').inc(4);
  dead.instruments.httpInFlight.labels('/v1/messages').set(2);
  dead.instruments.buildInfo.labels('1', '24', 'x').set(1);
  let retired = retire([], await snapshot(dead.registry));
  retired = retire(retired, await snapshot(dead.registry)); // a second exit adds up
  const live = createMetrics();
  live.instruments.httpRequests.labels('/v1/messages', 'POST', '200').inc(1);
  live.instruments.buildInfo.labels('1', '24', 'x').set(1);
  const { body } = await renderSnapshots([await snapshot(live.registry), retired], 'prometheus');
  assert.match(body, /^vigil_http_requests_total\{route="\/v1\/messages",method="POST",status="200"\} 9$/m);
  assert.doesNotMatch(body, /^vigil_http_requests_in_flight\{/m);
  assert.match(body, /^vigil_build_info\{version="1",node_version="24",commit="x"\} 1$/m);
});
