// The fake upstream's scripted faults on their own, over raw fetch: each request to a scripted model takes
// the next step, then `then`; other models are untouched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FAKE_TEXT, FAKE_TEXT_PIECES, burst, fault, startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { payloads, readSse } from './sse.ts';

let fake: FakeUpstream;
before(async () => { fake = await startFakeUpstream(); });
after(async () => { await fake.close(); });

const post = (path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${fake.url}${path}`, { method: 'POST', signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const chat = (model: string, extra: object = {}, signal?: AbortSignal) => post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], ...extra }, signal);
const messages = (model: string, extra: object = {}, signal?: AbortSignal) => post('/v1/messages', { model, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }], ...extra }, signal);

test('a burst of N 500s, then normal answers; the fault and the arrival are recorded; other models are untouched', async () => {
  fake.script('burst-a', burst(2, fault.status(500)));
  assert.equal((await chat('burst-a')).status, 500);
  assert.equal((await chat('other')).status, 200, 'an unscripted model answers normally');
  const second = await messages('burst-a');
  assert.equal(second.status, 500);
  assert.equal((await second.json()).type, 'error', 'the error in the endpoint\'s dialect');
  const third = await chat('burst-a');
  assert.equal((await third.json()).choices[0].message.content, FAKE_TEXT);
  const recorded = fake.requestsFor('burst-a');
  assert.deepEqual(recorded.map((r) => r.fault), ['status-500', 'status-500', 'ok']);
  assert.ok(recorded.every((r, i) => i === 0 || r.receivedAt >= recorded[i - 1].receivedAt), 'arrival times in order');
});

test('429 with Retry-After seconds and retry-after-ms; `then` applies once the steps are used', async () => {
  fake.script('limited', [fault.status(429, { retryAfter: '2', retryAfterMs: '1500' })], fault.status(503));
  const first = await chat('limited');
  assert.equal(first.status, 429);
  assert.equal(first.headers.get('retry-after'), '2');
  assert.equal(first.headers.get('retry-after-ms'), '1500');
  assert.equal((await first.json()).error.code, 'rate_limit_exceeded');
  assert.equal((await chat('limited')).status, 503);
  assert.equal((await chat('limited')).status, 503);
  fake.clearScripts();
  assert.equal((await chat('limited')).status, 200);
});

test('delay: the normal answer, after the wait', async () => {
  fake.script('slow-ok', [fault.delay(200)]);
  const started = Date.now();
  const res = await chat('slow-ok');
  assert.ok(Date.now() - started >= 190, 'not before the delay');
  assert.equal((await res.json()).choices[0].message.content, FAKE_TEXT);
  assert.equal(fake.requestsFor('slow-ok')[0].fault, 'delay-200');
});

test('hang before headers: nothing comes until the caller hangs up, which is recorded', async () => {
  fake.script('hangs', [fault.hangHeaders]);
  const controller = new AbortController();
  const pending = chat('hangs', {}, controller.signal).then(() => 'answered', () => 'aborted');
  const quiet = await Promise.race([pending, new Promise((ok) => setTimeout(ok, 300, 'silent'))]);
  assert.equal(quiet, 'silent');
  controller.abort();
  assert.equal(await pending, 'aborted');
  const rec = await fake.waitFor((r) => r.body?.model === 'hangs' && r.closedByPeerAt !== undefined, 2000);
  assert.equal(rec.completedAt, undefined);
});

test('hang mid-stream after K chunks, in both dialects: the opening and K pieces, then silence', async () => {
  const decoder = new TextDecoder();
  for (const [send, marker] of [[chat, 'data: {'], [messages, 'event: content_block_delta']] as const) {
    fake.script('hang-mid', [fault.hangStream(1)]);
    const controller = new AbortController();
    const res = await send('hang-mid', { stream: true }, controller.signal);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 2000;
    while (!text.includes(FAKE_TEXT_PIECES[0]) && Date.now() < deadline) text += decoder.decode((await reader.read()).value);
    assert.ok(text.includes(marker) && text.includes(FAKE_TEXT_PIECES[0]) && !text.includes(FAKE_TEXT_PIECES[1]), text);
    const next = await Promise.race([reader.read().then(() => 'more'), new Promise((ok) => setTimeout(ok, 300, 'silent'))]);
    assert.equal(next, 'silent');
    controller.abort();
  }
});

test('reset before headers fails the fetch; reset after headers gives a 200 whose body breaks', async () => {
  fake.script('resets', [fault.resetBeforeHeaders, fault.resetAfterHeaders]);
  await assert.rejects(chat('resets'), TypeError);
  const res = await chat('resets');
  assert.equal(res.status, 200);
  await assert.rejects(res.text());
  assert.deepEqual(fake.requestsFor('resets').map((r) => r.fault), ['reset-before-headers', 'reset-after-headers']);
});

test('the unscripted behaviours still work beside the scripts', async () => {
  fake.script('ok', [fault.status(500)]);
  assert.equal((await chat('ok')).status, 500);
  const items = payloads(await readSse(await chat('ok', { stream: true })));
  assert.equal(items.at(-1), '[DONE]');
  assert.equal((await chat('fail-429')).status, 429);
  fake.clearScripts();
});
