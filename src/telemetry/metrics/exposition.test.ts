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
    w.instruments.httpRequests.labels('/v1/chat/completions', 'POST', '200', 'success').inc(i + 2);
    w.instruments.httpInFlight.labels('/v1/chat/completions').set(i + 1);
    w.instruments.httpDuration.labels('/v1/chat/completions', 'POST').observe(0.02);
  });
  const { body } = await renderSnapshots(await Promise.all(workers.map((w) => snapshot(w.registry))), 'prometheus');
  assert.match(body, /^vigil_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="200",outcome="success"\} 5$/m);
  assert.match(body, /^vigil_http_requests_in_flight\{route="\/v1\/chat\/completions"\} 3$/m);
  assert.match(body, /^vigil_build_info\{version="1.0.0",node_version="24",commit="abc"\} 1$/m);
  assert.match(body, /^vigil_http_request_duration_seconds_count\{route="\/v1\/chat\/completions",method="POST"\} 2$/m);
  assert.match(body, /^vigil_http_request_duration_seconds_bucket\{le="0.025",route="\/v1\/chat\/completions",method="POST"\} 2$/m);
});

test('OpenMetrics: counter families without _total, samples with it, # EOF; the live registry is untouched', async () => {
  const metrics = createMetrics();
  metrics.instruments.httpRequests.labels('/metrics', 'GET', '200', 'success').inc();
  for (const render of [() => renderLocal(metrics.registry, 'openmetrics'), async () => renderSnapshots([await snapshot(metrics.registry)], 'openmetrics')]) {
    const { contentType, body } = await render();
    assert.equal(contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.match(body, /^# TYPE vigil_http_requests counter$/m);
    assert.match(body, /^vigil_http_requests_total\{route="\/metrics",method="GET",status="200",outcome="success"\} 1$/m);
    assert.doesNotMatch(body, /_total_total/);
    assert.ok(body.endsWith('# EOF\n'));
  }
  const text = await renderLocal(metrics.registry, 'prometheus');
  assert.equal(text.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(text.body, /^# TYPE vigil_http_requests_total counter$/m);
  assert.match(text.body, /^vigil_http_requests_total\{route="\/metrics",method="GET",status="200",outcome="success"\} 1$/m);
});

test('retire: an exited worker keeps its counters and histograms in the sum, not its gauges', async () => {
  const dead = createMetrics();
  dead.instruments.httpRequests.labels('/v1/messages', 'POST', '200', 'success').inc(4);
  dead.instruments.httpInFlight.labels('/v1/messages').set(2);
  dead.instruments.buildInfo.labels('1', '24', 'x').set(1);
  let retired = retire([], await snapshot(dead.registry));
  retired = retire(retired, await snapshot(dead.registry)); // a second exit adds up
  const live = createMetrics();
  live.instruments.httpRequests.labels('/v1/messages', 'POST', '200', 'success').inc(1);
  live.instruments.buildInfo.labels('1', '24', 'x').set(1);
  const { body } = await renderSnapshots([await snapshot(live.registry), retired], 'prometheus');
  assert.match(body, /^vigil_http_requests_total\{route="\/v1\/messages",method="POST",status="200",outcome="success"\} 9$/m);
  assert.doesNotMatch(body, /^vigil_http_requests_in_flight\{/m);
  assert.match(body, /^vigil_build_info\{version="1",node_version="24",commit="x"\} 1$/m);
});

test('every gauge combines across workers by its declared rule: sum, first, max, min, average, with values', async () => {
  const gauges = (Object.entries(CATALOG) as [string, MetricSpec][]).filter(([, m]) => m.type === 'gauge');
  const perWorker = [4, 10, 1]; // three workers, each gauge series set to these
  const workers = perWorker.map((value) => {
    const w = createMetrics();
    for (const [key, spec] of gauges) {
      const gauge = (w.instruments as unknown as Record<string, { labels(...v: string[]): { set(v: number): void }; set(v: number): void }>)[key];
      if (spec.labels.length) gauge.labels(...spec.labels.map((l) => `${l}-x`)).set(value);
      else gauge.set(value);
    }
    return w;
  });
  const { body } = await renderSnapshots(await Promise.all(workers.map((w) => snapshot(w.registry))), 'prometheus');
  const expected = { sum: 15, first: 4, max: 10, min: 1, average: 5 };
  const rules = new Set<string>();
  for (const [, spec] of gauges) {
    if (spec.weightedBy) continue; // weighted by traffic: the next tests
    const labels = spec.labels.length ? `{${spec.labels.map((l) => `${l}="${l}-x"`).join(',')}}` : '';
    const line = body.split('\n').find((l) => l.startsWith(`${spec.name}${labels} `));
    assert.equal(Number(line?.split(' ')[1]), expected[spec.aggregate!], `${spec.name} (${spec.aggregate})`);
    rules.add(spec.aggregate!);
  }
  assert.deepEqual([...rules].sort(), ['first', 'max', 'min', 'sum'], 'the catalog uses every rule');
});

test('max, min and weighted by meaning: worst event-loop lag and heap, shared WAL once, oldest start, SLIs by traffic', async () => {
  const workers = [createMetrics(), createMetrics(), createMetrics()];
  const lag = [0.002, 0.150, 0.010], heap = [30e6, 90e6, 45e6], wal = [4096, 8192, 8192], start = [1_700_000_300, 1_700_000_100, 1_700_000_200];
  // The idle first worker's 1 must not pull availability up: (0·1 + 100·0.9 + 300·0.95) / 400.
  const availability = [1, 0.9, 0.95], requests = [0, 100, 300], latency = [0.5, 1, 0.75], proxied = [10, 10, 20];
  workers.forEach((w, i) => {
    w.instruments.eventLoopLag.set(lag[i]);
    w.instruments.heapUsed.set(heap[i]);
    w.instruments.storeWalBytes.labels('sqlite').set(wal[i]);
    w.instruments.processStartTime.set(start[i]);
    w.instruments.sliAvailability.set(availability[i]);
    w.instruments.sliLatency.set(latency[i]);
    w.instruments.sliEvents.labels('availability').set(requests[i]);
    w.instruments.sliEvents.labels('latency').set(proxied[i]);
    w.instruments.processResidentMemory.set(heap[i] * 2);
  });
  const { body } = await renderSnapshots(await Promise.all(workers.map((w) => snapshot(w.registry))), 'prometheus');
  const value = (series: string) => Number(body.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1]);
  assert.equal(value('nodejs_eventloop_lag_p99_seconds'), 0.15, 'the slowest worker, not a sum of lags');
  assert.equal(value('nodejs_heap_size_used_bytes'), 90e6);
  assert.equal(value('vigil_store_wal_bytes{store="sqlite"}'), 8192, 'one shared file, not counted three times');
  assert.equal(value('process_start_time_seconds'), 1_700_000_100, 'the oldest worker');
  assert.ok(Math.abs(value('vigil_sli_availability_ratio') - 0.9375) < 1e-12, 'weighted by requests, not a mean of ratios (0.95)');
  assert.ok(Math.abs(value('vigil_sli_latency_ratio') - 0.75) < 1e-12);
  assert.equal(value('vigil_sli_events{sli="availability"}'), 400);
  assert.equal(value('process_resident_memory_bytes'), 330e6, 'memory adds up');
});

test('a series only some workers have combines over those that have it', async () => {
  const [a, b] = [createMetrics(), createMetrics()];
  a.instruments.storeConnections.labels('sqlite', 'open').set(1);
  b.instruments.storeConnections.labels('sqlite', 'open').set(1);
  a.instruments.streamsActive.labels('/v1/messages').set(3); // b never streamed
  a.instruments.sliSecurity.set(0.5);
  a.instruments.sliEvents.labels('security').set(10);
  b.instruments.sliSecurity.set(1);
  b.instruments.sliEvents.labels('security').set(30);
  const { body } = await renderSnapshots([await snapshot(a.registry), await snapshot(b.registry)], 'prometheus');
  assert.match(body, /^vigil_store_connections\{store="sqlite",state="open"\} 2$/m);
  assert.match(body, /^vigil_streams_active\{route="\/v1\/messages"\} 3$/m);
  assert.match(body, /^vigil_sli_security_ratio 0\.875$/m);
});
