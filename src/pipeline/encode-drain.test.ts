// The stream loop when the client leaves mid-stream: read on without writing to the end (or the cap), then
// end as the client's abort.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestContext, type ModelTarget, type ReplyPort } from '../core/context.ts';
import { Drains, type DrainLimits } from '../core/drain.ts';
import { GatewayError } from '../core/errors.ts';
import { encodeChat } from './encode.ts';

const TARGET: ModelTarget = { name: 'm', upstreamModel: 'm', providerId: 'p', deploymentId: 'd', type: 'chat' };

/** A stream of `total` chunks that makes the client leave after `leaveAfter` of them; records what was read and whether it was closed early. */
function scenario(limits: DrainLimits | undefined, total: number, leaveAfter: number) {
  const written: string[] = [];
  const reply: ReplyPort & { started: boolean } = {
    json() {}, fail() {}, end() { written.push('<end>'); },
    startStream() { reply.started = true; },
    write(chunk) { written.push(chunk); },
    started: false,
  };
  const ctx = new RequestContext({
    requestId: 'r', startedAt: performance.now(), route: '/v1/chat/completions', method: 'POST', dialect: 'openai',
    operation: 'chat', reply, headers: {}, drains: limits && new Drains(limits),
  });
  ctx.stream = true;
  ctx.addAttempt(TARGET);
  const seen = { read: 0, closedEarly: false };
  async function* chunks(): AsyncGenerator<string> {
    try {
      for (let i = 0; i < total; i++) {
        seen.read++;
        if (i === leaveAfter) ctx.abort(new GatewayError('GW_CLIENT_CLOSED'));
        yield `data: ${'x'.repeat(10)} ${i}\n\n`;
      }
    } finally {
      seen.closedEarly = seen.read < total;
    }
  }
  ctx.output = { kind: 'sse', chunks: chunks() };
  return { ctx, written, seen };
}

test('a client gone mid-stream: the stream is read to its end, nothing more is written, the abort is thrown', async () => {
  const { ctx, written, seen } = scenario({ max_ms: 60_000, max_bytes: 1 << 20 }, 50, 3);
  await assert.rejects(encodeChat(ctx), (err: GatewayError) => err.code === 'GW_CLIENT_CLOSED');
  assert.equal(seen.read, 50);
  assert.equal(seen.closedEarly, false);
  assert.equal(written.length, 3, 'the chunks before the client left, and no end');
  assert.equal(ctx.drain?.result, 'complete');
});

test('past max_bytes the drain stops reading and closes the stream', async () => {
  const { ctx, seen } = scenario({ max_ms: 60_000, max_bytes: 100 }, 50, 3);
  await assert.rejects(encodeChat(ctx), (err: GatewayError) => err.code === 'GW_CLIENT_CLOSED');
  assert.equal(ctx.drain?.result, 'capped');
  assert.ok(seen.read < 50 && seen.closedEarly, `read ${seen.read} of 50`);
  assert.ok(ctx.drain.bytes > 100);
});

test('without drains the loop stops at the first chunk after the client left, as before', async () => {
  const { ctx, seen, written } = scenario(undefined, 50, 3);
  await assert.rejects(encodeChat(ctx), (err: GatewayError) => err.code === 'GW_CLIENT_CLOSED');
  assert.equal(ctx.drain, undefined);
  assert.equal(written.length, 3);
  assert.equal(seen.read, 4);
  assert.equal(seen.closedEarly, true);
});
