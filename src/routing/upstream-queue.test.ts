import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestContext } from '../core/context.ts';
import type { GatewayError } from '../core/errors.ts';
import { Recorder } from '../telemetry/metrics/record.ts';
import { createMetrics } from '../telemetry/metrics/registry.ts';
import { ConnectionQueue, type QueueObserver } from './upstream-queue.ts';
import { Upstreams } from './upstream.ts';
import { testContext } from '../../test/helpers/context.ts';

function observer(): QueueObserver & { events: string[] } {
  const events: string[] = [];
  return { events, upstreamQueued: (p) => events.push(`queued ${p}`), upstreamDequeued: (p, s) => events.push(`dequeued ${p} ${s >= 0}`) };
}

test('ConnectionQueue: calls within connections do not wait; beyond them they wait up to queue_limit, then it is full', () => {
  const seen = observer();
  const queue = new ConnectionQueue(2, { queue_limit: 1, queue_timeout_ms: 60_000 }, seen);
  const never = () => assert.fail('no timeout');
  assert.equal(queue.enter(), false);
  assert.equal(queue.enter(), false);
  assert.equal(queue.enter(), true, 'the third call waits');
  const wait = queue.wait('p', never);
  assert.throws(() => queue.enter(), (err: GatewayError) => {
    assert.equal(err.code, 'GW_UPSTREAM_QUEUE_FULL');
    assert.equal(err.status, 503);
    assert.equal(err.retryAfter, 1);
    assert.equal(err.retryable, true);
    return true;
  });
  wait.end();
  queue.leave();
  assert.equal(queue.enter(), true, 'a place freed: the next call may wait again');
  queue.wait('p', never).end();
  assert.deepEqual(seen.events, ['queued p', 'dequeued p true', 'queued p', 'dequeued p true']);
});

test('ConnectionQueue: queue_limit 0 lets no call wait; a wait past queue_timeout_ms is told with a retryable error', async () => {
  const none = new ConnectionQueue(1, { queue_limit: 0, queue_timeout_ms: 10 }, undefined);
  assert.equal(none.enter(), false);
  assert.throws(() => none.enter(), (err: GatewayError) => err.code === 'GW_UPSTREAM_QUEUE_FULL');
  const queue = new ConnectionQueue(0, { queue_limit: 5, queue_timeout_ms: 20 }, undefined);
  assert.equal(queue.enter(), true);
  const error = await new Promise<GatewayError>((resolve) => queue.wait('p', resolve));
  assert.equal(error.code, 'GW_UPSTREAM_QUEUE_FULL');
  assert.equal(error.detail, 'no connection within 20 ms');
});

/** The transport's first arguments: the context and its attempt, as a provider passes them. */
const withAttempt = (ctx: RequestContext) => [ctx, ctx.attempt!] as const;

const context = (): RequestContext => testContext({ target: { name: 'm', upstreamModel: 'm', providerId: 'narrow', deploymentId: 'test', type: 'chat' }, attempt: true });

test('Upstreams: the recorder sees the queue depth while a call waits and its wait once it gets a connection or gives up', async () => {
  const held: ServerResponse[] = [];
  let closing = false; // from then on every request, held or new, is answered, so the pool can close
  const server = createServer((_req, res) => (closing ? res.end('{}') : held.push(res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const metrics = createMetrics();
  const recorder = new Recorder(metrics, { version: 't', commit: 't', models: ['m'] });
  const upstreams = new Upstreams({
    connect_timeout_ms: 1000, headers_timeout_ms: 5000, idle_timeout_ms: 5000, total_timeout_ms: 5000, queue_limit: 1, queue_timeout_ms: 1000, disconnect_drain: { max_ms: 1000, max_bytes: 1 << 20 },
  }, recorder);
  const scrape = async (series: string) => {
    const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  try {
    const send = upstreams.bind(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 1);
    const call = () => send(...withAttempt(context()), { path: '/x', headers: [], body: '{}' });
    const holder = call();
    while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const gaveUp = call().catch((err) => err);
    assert.equal(await scrape('vigil_upstream_queue_depth{provider="narrow"}'), 1);
    assert.equal((await call().catch((err) => err)).code, 'GW_UPSTREAM_QUEUE_FULL', 'the queue (limit 1) is full');
    assert.match((await gaveUp).detail, /no connection within 1000 ms/);
    assert.equal(await scrape('vigil_upstream_queue_depth{provider="narrow"}'), 0);
    assert.equal(await scrape('vigil_upstream_queue_wait_seconds_count{provider="narrow"}'), 1);
    assert.ok((await scrape('vigil_upstream_queue_wait_seconds_sum{provider="narrow"}'))! >= 0.99);

    const served = call();
    await new Promise((resolve) => setTimeout(resolve, 50));
    held[0].writeHead(200, { 'content-type': 'application/json' }).end('{}');
    await (await holder).text();
    while (held.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    held[1].writeHead(200, { 'content-type': 'application/json' }).end('{}');
    assert.equal(await (await served).text(), '{}', 'the waiting call got the freed connection');
    assert.equal(await scrape('vigil_upstream_queue_depth{provider="narrow"}'), 0);
    assert.equal(await scrape('vigil_upstream_queue_wait_seconds_count{provider="narrow"}'), 2);
    assert.equal(await scrape('vigil_upstream_queue_wait_seconds_bucket{le="0.025",provider="narrow"}'), 0, 'both waited longer than 25 ms');
  } finally {
    closing = true;
    for (const res of held) if (!res.writableEnded) res.end('{}');
    server.closeAllConnections();
    await upstreams.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
