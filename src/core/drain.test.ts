import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestContext, type ModelTarget, type ReplyPort } from './context.ts';
import { Drains, shouldDrain } from './drain.ts';
import { GatewayError } from './errors.ts';

const LIMITS = { max_ms: 60_000, max_bytes: 1000 };
const TARGET: ModelTarget = { name: 'm', upstreamModel: 'm', providerId: 'p', deploymentId: 'd', type: 'chat' };
const left = () => new GatewayError('GW_CLIENT_CLOSED');

test('shouldDrain: only a started stream whose client left, and only while both caps allow some reading', () => {
  assert.equal(shouldDrain(left(), true, LIMITS), true);
  assert.equal(shouldDrain(left(), false, LIMITS), false, 'not a stream, or its response had not started');
  assert.equal(shouldDrain(new GatewayError('GW_UPSTREAM_TIMEOUT'), true, LIMITS), false, 'a timeout cuts at once');
  assert.equal(shouldDrain(new GatewayError('GW_UNAVAILABLE_DRAINING'), true, LIMITS), false, 'so does the shutdown');
  assert.equal(shouldDrain(left(), true, { max_ms: 0, max_bytes: 1000 }), false);
  assert.equal(shouldDrain(left(), true, { max_ms: 1000, max_bytes: 0 }), false);
});

/** A context whose current attempt has a running call that counts its cancels. */
function running(options: { stream: boolean; started: boolean; drains?: Drains }) {
  const reply: ReplyPort = { json() {}, startStream() {}, write() {}, end() {}, fail() {}, started: options.started };
  const ctx = new RequestContext({
    requestId: 'r', startedAt: performance.now(), route: '/v1/chat/completions', method: 'POST', dialect: 'openai',
    operation: 'chat', reply, headers: {}, drains: options.drains,
  });
  ctx.stream = options.stream;
  const cancels = [] as GatewayError[];
  ctx.addAttempt(TARGET).call = { cancel: (reason) => { cancels.push(reason); } };
  return { ctx, cancels };
}

test('a client leaving a started stream drains it: the call runs on and the signal stays live until a cap', () => {
  const drains = new Drains(LIMITS);
  const { ctx, cancels } = running({ stream: true, started: true, drains });
  const signal = ctx.signal;
  ctx.abort(left());
  assert.equal(ctx.abortReason?.code, 'GW_CLIENT_CLOSED', 'the request is still the client\'s abort');
  assert.ok(ctx.drain);
  assert.equal(drains.running, 1);
  assert.equal(cancels.length, 0);
  assert.equal(signal.aborted, false);
  ctx.drain.read(600);
  assert.equal(ctx.drain.result, undefined);
  ctx.drain.read(600);
  assert.equal(ctx.drain.result, 'capped', 'past max_bytes');
  assert.deepEqual(cancels.map((c) => c.code), ['GW_CLIENT_CLOSED']);
  assert.equal(signal.aborted, true);
  assert.equal(drains.running, 0);
  assert.equal(ctx.upstreamErrorClass, 'client_abort', 'a cut drain says nothing about the upstream');
});

test('with no drain, a non-stream or a stream not yet started is cancelled at once, as before', () => {
  const cases = [
    { stream: true, started: true, drains: undefined },
    { stream: false, started: true, drains: new Drains(LIMITS) },
    { stream: true, started: false, drains: new Drains(LIMITS) },
  ];
  for (const options of cases) {
    const { ctx, cancels } = running(options);
    ctx.abort(left());
    assert.equal(ctx.drain, undefined);
    assert.deepEqual(cancels.map((c) => c.code), ['GW_CLIENT_CLOSED']);
    assert.equal(ctx.signal.aborted, true, 'a signal made after the cancel is aborted too');
  }
});

test('a drain read to its end: the breaker sees the upstream\'s own outcome; a later cap changes nothing', () => {
  const drains = new Drains(LIMITS);
  const ok = running({ stream: true, started: true, drains });
  ok.ctx.abort(left());
  ok.ctx.error = left();
  assert.equal(ok.ctx.upstreamErrorClass, 'client_abort', 'while it runs: the request\'s error');
  ok.ctx.drain!.end();
  ok.ctx.drain!.cap();
  assert.equal(ok.ctx.drain!.result, 'complete');
  assert.equal(ok.ctx.upstreamErrorClass, undefined, 'a success');
  assert.deepEqual(ok.cancels, []);
  const failed = running({ stream: true, started: true, drains });
  failed.ctx.abort(left());
  failed.ctx.drain!.end(new GatewayError('GW_UPSTREAM_SERVER_ERROR'));
  assert.equal(failed.ctx.upstreamErrorClass, 'server_error');
  assert.equal(drains.running, 0);
});

test('the time cap and the shutdown cap a running drain', async () => {
  const drains = new Drains({ max_ms: 5, max_bytes: 1000 });
  const timed = running({ stream: true, started: true, drains });
  timed.ctx.abort(left());
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(timed.ctx.drain!.result, 'capped');
  assert.equal(timed.cancels.length, 1);
  const long = new Drains(LIMITS);
  const cut = [running({ stream: true, started: true, drains: long }), running({ stream: true, started: true, drains: long })];
  for (const { ctx } of cut) ctx.abort(left());
  assert.equal(long.running, 2);
  long.cutAll();
  assert.equal(long.running, 0);
  assert.deepEqual(cut.map(({ ctx, cancels }) => [ctx.drain!.result, cancels.length]), [['capped', 1], ['capped', 1]]);
});
