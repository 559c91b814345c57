import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passthroughBody } from './passthrough-body.ts';
import { testContext } from '../../../test/helpers/context.ts';

const target = { name: 'fast', upstreamModel: 'gpt-4o-mini', providerId: 'oa', deploymentId: 'test', type: 'chat' as const };
const askForUsage = (body: Record<string, any>) => body.stream_options?.include_usage === true ? undefined : { stream_options: { ...body.stream_options, include_usage: true } };

function context(raw: string) {
  const body = JSON.parse(raw);
  return testContext({ rawBody: Buffer.from(raw), body, stream: body.stream === true });
}

test('passthroughBody: a body that needs no change goes upstream as the very bytes the client sent', () => {
  // A seed past 2^53 and a spelled-out float would not survive a parse and re-serialisation.
  const raw = '{ "model": "gpt-4o-mini", "seed": 12345678901234567890, "temperature": 1.0, "messages": [] }';
  const ctx = context(raw);
  assert.equal(passthroughBody(ctx, target, askForUsage), ctx.rawBody);
  const streaming = context('{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}');
  assert.equal(passthroughBody(streaming, target, askForUsage), streaming.rawBody);
});

test('passthroughBody: another upstream model, or a stream that must ask for usage, is patched and serialised', () => {
  const renamed = context('{"model":"fast","user":"u1","messages":[]}');
  assert.deepEqual(JSON.parse(String(passthroughBody(renamed, target, askForUsage))), { model: 'gpt-4o-mini', user: 'u1', messages: [] });
  const stream = context('{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_obfuscation":false},"messages":[]}');
  assert.deepEqual(JSON.parse(String(passthroughBody(stream, target, askForUsage))).stream_options, { include_obfuscation: false, include_usage: true });
  // Dialects without a usage field (Anthropic) pass a stream through as it is.
  assert.equal(passthroughBody(stream, target), stream.rawBody);
  // No bytes kept (a caller building the context itself): serialised from the parsed body.
  const bare = context('{"model":"gpt-4o-mini","messages":[]}');
  bare.rawBody = undefined;
  assert.deepEqual(JSON.parse(String(passthroughBody(bare, target))), { model: 'gpt-4o-mini', messages: [] });
});
