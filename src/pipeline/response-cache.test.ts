// The response-cache stage over a memory cache, a fake dispatch counting its calls and a reply recording what
// the client got; and finish's usage record and metrics for a hit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import type { ChatResult } from '../core/canonical.ts';
import type { ModelTarget, ReplyPort, RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { MemoryResponseCache } from '../store/memory/response-cache.ts';
import type { UsageLedger, UsageRecord } from '../store/ports.ts';
import { createLogs } from '../telemetry/log.ts';
import { Recorder } from '../telemetry/metrics/record.ts';
import { createMetrics } from '../telemetry/metrics/registry.ts';
import { testContext } from '../../test/helpers/context.ts';
import { samples, total } from '../../test/helpers/scrape.ts';
import { encodeChat } from './encode.ts';
import { createFinish } from './finish.ts';
import { type CacheAlias, cacheKey, createResponseCache } from './response-cache.ts';

const PRIMARY: ModelTarget = { name: 'fast', upstreamModel: 'm-1', providerId: 'p1', deploymentId: 'p1:m-1', type: 'chat', pricing: { input: 1, output: 2, cachedInput: 1, cacheWrite: 1 } };
const SECOND: ModelTarget = { ...PRIMARY, upstreamModel: 'm-2', providerId: 'p2', deploymentId: 'p2:m-2' };
const ALIASES: CacheAlias[] = [
  { name: 'fast', deployments: [PRIMARY, SECOND], cache: { enabled: true, ttlSeconds: 60 } },
  { name: 'plain', deployments: [{ ...PRIMARY, name: 'plain' }], cache: { enabled: false, ttlSeconds: 60 } },
];
const BODY = Buffer.from('{"model":"fast","messages":[{"role":"user","content":"hi"}]}');

interface Sent { status: number; body: string; headers: Record<string, string> | undefined }

function recordingReply(sent: Sent[]): ReplyPort {
  return {
    started: false,
    json(status, body, headers) { sent.push({ status, body: body.toString(), headers }); },
    startStream() {}, write() {}, end() {}, fail() {},
  };
}

/** The cache stage over a memory cache; dispatch answers `answer` (a passthrough JSON body, or a canonical result) from `target`. */
function setup(answer: () => string | ChatResult = () => '{"id":"chatcmpl-x","n":1}', target = SECOND) {
  const cache = new MemoryResponseCache({ maxEntries: 100, maxEntryBytes: 10_000 });
  const lookups: string[] = [];
  let dispatched = 0;
  const wrap = createResponseCache({ cache, recorder: { cacheLookup: (model, result) => lookups.push(`${model}:${result}`) }, aliases: ALIASES });
  const [stage, ...rest] = wrap((ctx) => {
    dispatched++;
    const attempt = ctx.addAttempt(target);
    attempt.startedAt = 0;
    attempt.endedAt = 1;
    attempt.usage = { inputTokens: 7, outputTokens: 3, cachedInputTokens: 2 };
    const out = answer();
    ctx.output = typeof out === 'string' ? { kind: 'json', body: Buffer.from(out) } : { kind: 'result', result: out };
  }, encodeChat);
  assert.equal(rest.length, 0, 'one stage in place of dispatch and encode');
  const run = async (options: { headers?: Record<string, string>; body?: Buffer; model?: string; stream?: boolean; dialect?: 'openai' | 'anthropic' } = {}) => {
    const sent: Sent[] = [];
    const ctx = testContext({
      reply: recordingReply(sent), headers: options.headers, rawBody: options.body ?? BODY, requestedModel: options.model ?? 'fast',
      stream: options.stream, target: PRIMARY, dialect: options.dialect, route: options.dialect === 'anthropic' ? '/v1/messages' : undefined,
    });
    await stage(ctx);
    return { ctx, sent };
  };
  return { cache, lookups, run, dispatched: () => dispatched };
}

test('no alias caching, or no cache: the route keeps dispatch and encode as they are', () => {
  const dispatch = () => {};
  assert.deepEqual(createResponseCache(undefined)(dispatch, encodeChat), [dispatch, encodeChat]);
  const cache = new MemoryResponseCache({ maxEntries: 1, maxEntryBytes: 1 });
  const off = createResponseCache({ cache, recorder: { cacheLookup() {} }, aliases: [ALIASES[1]] });
  assert.deepEqual(off(dispatch, encodeChat), [dispatch, encodeChat]);
});

test('a miss answers and stores the bytes sent; the same request then hits: same bytes, no dispatch, the deployment that answered', async () => {
  const { lookups, run, dispatched } = setup();
  const first = await run();
  assert.deepEqual(first.sent.map((s) => [s.status, s.body, s.headers?.['x-vigil-cache']]), [[200, '{"id":"chatcmpl-x","n":1}', 'miss']]);
  assert.ok(first.sent[0].headers?.['x-vigil-overhead-ms'], 'the overhead header stays on a miss');
  assert.equal(first.ctx.cacheHit, undefined);

  const second = await run();
  assert.equal(dispatched(), 1, 'no upstream call for the hit');
  assert.deepEqual(second.sent, [{ status: 200, body: '{"id":"chatcmpl-x","n":1}', headers: { 'x-vigil-cache': 'hit' } }]);
  assert.equal(second.ctx.attempts.length, 0, 'no attempt');
  assert.equal(second.ctx.cacheHit?.target, SECOND, 'billed to the deployment that first answered, not the planned one');
  assert.deepEqual(second.ctx.cacheHit?.usage, { inputTokens: 7, outputTokens: 3, cachedInputTokens: 2 });
  assert.deepEqual(lookups, ['fast:miss', 'fast:hit']);
});

test('a canonical result is stored as the client\'s JSON, exactly as encoded for it', async () => {
  const result: ChatResult = { id: 'r1', model: 'm-2', content: [{ type: 'text', text: 'hello' }], finishReason: 'stop', usage: { inputTokens: 7, outputTokens: 3, cachedInputTokens: 0 } };
  const { run } = setup(() => result);
  const first = await run({ dialect: 'anthropic' });
  const second = await run({ dialect: 'anthropic' });
  assert.equal(JSON.parse(first.sent[0].body).type, 'message', 'Anthropic JSON for an Anthropic client');
  assert.equal(second.sent[0].body, first.sent[0].body);
  assert.equal(second.sent[0].headers?.['x-vigil-cache'], 'hit');
});

test('Cache-Control: no-cache answers fresh and stores it; no-store neither looks up nor stores; both are bypass', async () => {
  let n = 0;
  const { lookups, run, dispatched } = setup(() => `{"n":${++n}}`);
  await run();
  const fresh = await run({ headers: { 'cache-control': 'No-Cache' } });
  assert.deepEqual([fresh.sent[0].body, fresh.sent[0].headers?.['x-vigil-cache']], ['{"n":2}', 'bypass']);
  assert.equal((await run()).sent[0].body, '{"n":2}', 'no-cache stored its fresh answer');
  const unstored = await run({ headers: { 'cache-control': 'max-age=0, no-store' } });
  assert.deepEqual([unstored.sent[0].body, unstored.sent[0].headers?.['x-vigil-cache']], ['{"n":3}', 'bypass']);
  assert.equal((await run()).sent[0].body, '{"n":2}', 'no-store left the stored answer alone');
  assert.equal(dispatched(), 3);
  assert.deepEqual(lookups, ['fast:miss', 'fast:bypass', 'fast:hit', 'fast:bypass', 'fast:hit']);
});

test('streams, aliases that do not cache and requests without a body pass through: no lookup, no header', async () => {
  const { lookups, run, dispatched } = setup();
  const stream = await run({ stream: true });
  const plain = await run({ model: 'plain' });
  const unknown = await run({ model: 'nope' });
  assert.equal(dispatched(), 3);
  for (const { sent } of [stream, plain, unknown]) assert.equal(sent[0].headers?.['x-vigil-cache'], undefined);
  assert.deepEqual(lookups, []);
});

test('the key: route, dialect, alias and every body byte count; a different body misses', async () => {
  const base = cacheKey({ route: '/v1/chat/completions', dialect: 'openai' }, 'fast', BODY);
  assert.equal(cacheKey({ route: '/v1/chat/completions', dialect: 'openai' }, 'fast', Buffer.from(BODY)), base);
  assert.notEqual(cacheKey({ route: '/v1/messages', dialect: 'openai' }, 'fast', BODY), base);
  assert.notEqual(cacheKey({ route: '/v1/chat/completions', dialect: 'anthropic' }, 'fast', BODY), base);
  assert.notEqual(cacheKey({ route: '/v1/chat/completions', dialect: 'openai' }, 'fast2', BODY), base);
  assert.notEqual(cacheKey({ route: '/v1/chat/completions', dialect: 'openai' }, 'fast', Buffer.from(`${BODY} `)), base, 'one more space');
  const { run, dispatched } = setup();
  await run();
  await run({ body: Buffer.from('{"model":"fast","messages":[{"role":"user","content":"ho"}]}') });
  assert.equal(dispatched(), 2);
});

test('a failed upstream call stores nothing', async () => {
  let fail = true;
  const { run, dispatched } = setup(() => {
    if (fail) throw new GatewayError('GW_UPSTREAM_SERVER_ERROR');
    return '{"ok":true}';
  });
  await assert.rejects(run(), GatewayError);
  fail = false;
  assert.equal((await run()).sent[0].headers?.['x-vigil-cache'], 'miss');
  assert.equal(dispatched(), 2);
});

test('finish: a hit is one usage record marked cached, at zero cost, with the cached tokens; no LLM call counted', async () => {
  const records: UsageRecord[] = [];
  const ledger = { append: (r: UsageRecord) => records.push(r) } as unknown as UsageLedger;
  const metrics = createMetrics();
  const recorder = new Recorder(metrics, { version: 't', commit: 't', models: ['fast'] });
  const logs = createLogs({ level: 'info', format: 'json', version: 't' }, new Writable({ write: (_c, _e, done) => done() }));
  const finish = createFinish({ recorder, ledger, log: logs.requestLines() });
  const { run } = setup();
  const runFinished = async (): Promise<RequestContext> => {
    const { ctx } = await run();
    recorder.requestStarted(ctx.route);
    finish(ctx);
    return ctx;
  };
  await runFinished();
  await runFinished();
  assert.equal(records.length, 2);
  const [miss, hit] = records;
  assert.equal(miss.cached, false);
  assert.ok(miss.costUsd > 0, 'the miss is billed');
  assert.deepEqual(
    [hit.cached, hit.costUsd, hit.provider, hit.model, hit.upstreamModel, hit.inputTokens, hit.outputTokens, hit.cachedInputTokens, hit.status],
    [true, 0, 'p2', 'fast', 'm-2', 7, 3, 2, 200],
  );
  const text = await metrics.registry.metrics();
  assert.deepEqual(samples(text, 'vigil_llm_calls_total'), [1], 'one LLM call: the miss');
  assert.equal(total(text, 'vigil_http_requests_total', { route: '/v1/chat/completions', status: '200' }), 2, 'both requests served');
  assert.deepEqual(samples(text, 'vigil_request_attempts_count'), [1], 'attempts observed for the miss only');
});
