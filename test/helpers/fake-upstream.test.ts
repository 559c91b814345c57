// The fake upstream on its own: raw fetch for the wire details, and the official SDKs pointed straight
// at it to prove it is realistic enough for them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import {
  FAKE_BAD_REQUEST_MESSAGE, FAKE_HTML_PAGE, FAKE_RATE_LIMIT_HEADERS, FAKE_RETRY_AFTER, FAKE_STREAM_ERROR_MESSAGE, FAKE_TEXT, FAKE_TEXT_PIECES,
  SLOW_HEADERS_MS, startFakeUpstream, type FakeUpstream,
} from './fake-upstream.ts';
import { payloads, readSse } from './sse.ts';

let fake: FakeUpstream;
before(async () => { fake = await startFakeUpstream(); });
after(async () => { await fake.close(); });

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const chat = (model: string, extra: object = {}) => post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], ...extra });
const messages = (model: string, extra: object = {}) =>
  post('/v1/messages', { model, max_tokens: 32, messages: [{ role: 'user', content: 'hi' }], ...extra }, { 'x-api-key': 'sk-ant-seen' });

test('chat ok: deterministic content and usage; the request is recorded', async () => {
  const res = await chat('ok');
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.choices[0].message.content, FAKE_TEXT);
  assert.deepEqual(body.usage, { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });
  const rec = fake.requests.at(-1)!;
  assert.equal(rec.method, 'POST');
  assert.equal(rec.path, '/v1/chat/completions');
  assert.equal(rec.body.model, 'ok');
  assert.equal(rec.headers['content-type'], 'application/json');
});

test('chat stream with include_usage: chunks, a usage chunk with choices [], then [DONE]', async () => {
  const res = await chat('ok', { stream: true, stream_options: { include_usage: true } });
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const items = payloads(await readSse(res));
  assert.equal(items.at(-1), '[DONE]');
  const chunks = items.slice(0, -1);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), FAKE_TEXT);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });
});

test('chat stream without include_usage: no usage chunk', async () => {
  const items = payloads(await readSse(await chat('ok', { stream: true })));
  const chunks = items.slice(0, -1);
  assert.ok(chunks.length >= 4);
  assert.ok(chunks.every((c) => c.choices.length === 1 && c.usage === undefined));
});

test('embeddings: float and base64 encodings, one equal-length vector per input', async () => {
  const floats = await (await post('/v1/embeddings', { model: 'ok', input: ['a', 'bb', 'ccc'], encoding_format: 'float' })).json();
  assert.equal(floats.data.length, 3);
  assert.ok(floats.data.every((d: any) => d.embedding.length === 8));
  const b64 = await (await post('/v1/embeddings', { model: 'ok', input: 'a', encoding_format: 'base64' })).json();
  const decoded = new Float32Array(new Uint8Array(Buffer.from(b64.data[0].embedding, 'base64')).buffer);
  assert.equal(decoded.length, 8);
  assert.ok(Math.abs(decoded[0] - floats.data[0].embedding[0]) < 1e-6);
});

test('messages ok and stream: Anthropic event order and usage', async () => {
  const body = await (await messages('ok')).json();
  assert.equal(body.content[0].text, FAKE_TEXT);
  assert.deepEqual(body.usage, { input_tokens: 12, output_tokens: 5 });
  const events = await readSse(await messages('ok', { stream: true }));
  const order = [...new Set(events.map((e) => e.event))];
  assert.deepEqual(order, ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  const delta = events.find((e) => e.event === 'message_delta')!;
  assert.equal(JSON.parse(delta.data).usage.output_tokens, 5);
});

test('failures: OpenAI and Anthropic error shapes, retry-after, 401 quoting the presented key', async () => {
  const r500 = await chat('fail-500');
  assert.equal(r500.status, 500);
  assert.equal(typeof (await r500.json()).error.message, 'string');
  const r429 = await chat('fail-429');
  assert.equal(r429.status, 429);
  assert.equal(r429.headers.get('retry-after'), FAKE_RETRY_AFTER);
  const r400 = await chat('fail-400');
  assert.deepEqual((await r400.json()).error.message, FAKE_BAD_REQUEST_MESSAGE);
  const r401 = await post('/v1/chat/completions', { model: 'fail-401' }, { authorization: 'Bearer sk-seen' });
  assert.match((await r401.json()).error.message, /sk-seen/);
  const a429 = await messages('fail-429');
  assert.equal(a429.status, 429);
  assert.deepEqual(await a429.json(), { type: 'error', error: { type: 'rate_limit_error', message: 'Rate limit reached for requests' } });
  const a401 = await messages('fail-401');
  assert.match((await a401.json()).error.message, /sk-ant-seen/);
});

test('reset destroys the socket without a response', async () => {
  await assert.rejects(chat('reset'), TypeError);
});

test('slow-headers answers only after the wait', async () => {
  const started = Date.now();
  const res = await chat('slow-headers');
  assert.ok(Date.now() - started >= SLOW_HEADERS_MS - 50);
  assert.equal((await res.json()).choices[0].message.content, FAKE_TEXT);
});

test('slow-stream records when the caller hung up', async () => {
  const controller = new AbortController();
  const res = await fetch(`${fake.url}/v1/chat/completions`, {
    method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'slow-stream', stream: true, messages: [] }),
  });
  const reader = res.body!.getReader();
  await reader.read();
  const abortedAt = Date.now();
  controller.abort();
  const rec = await fake.waitFor((r) => r.body?.model === 'slow-stream' && r.closedByPeerAt !== undefined, 2000);
  assert.ok(rec.closedByPeerAt! - abortedAt < 1000);
  assert.equal(rec.completedAt, undefined);
});

test('the official SDKs can talk to the fake directly', async () => {
  const openai = new OpenAI({ baseURL: `${fake.url}/v1`, apiKey: 'sk-x', maxRetries: 0 });
  const stream = await openai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const c of stream) { text += c.choices[0]?.delta.content ?? ''; usage = c.usage ?? usage; }
  assert.equal(text, FAKE_TEXT);
  assert.equal(usage?.completion_tokens, 5);
  const [vec] = (await openai.embeddings.create({ model: 'ok', input: 'a' })).data;
  assert.equal(vec.embedding.length, 8);
  await assert.rejects(openai.chat.completions.create({ model: 'fail-429', messages: [] }), OpenAI.RateLimitError);

  const anthropic = new Anthropic({ baseURL: fake.url, apiKey: 'sk-ant-x', maxRetries: 0 });
  const message = await anthropic.messages.stream({ model: 'ok', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
  assert.equal(message.content[0].type === 'text' && message.content[0].text, FAKE_TEXT);
  assert.deepEqual([message.usage.input_tokens, message.usage.output_tokens], [12, 5]);
  await assert.rejects(anthropic.messages.create({ model: 'fail-500', max_tokens: 8, messages: [] }), Anthropic.InternalServerError);
});

test('stall-body: headers and a first piece of the body at once, then silence; the hang-up is recorded', async () => {
  const decoder = new TextDecoder();
  /** Reads the first piece, then shows that nothing more comes within `quietMs`, then hangs up. */
  const firstPieceThenSilence = async (path: string, body: object, quietMs = 400) => {
    const controller = new AbortController();
    const res = await fetch(`${fake.url}${path}`, {
      method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const first = decoder.decode((await reader.read()).value);
    const next = await Promise.race([reader.read().then(() => 'more'), new Promise((ok) => setTimeout(ok, quietMs, 'silent'))]);
    controller.abort();
    return { first, next, contentType: res.headers.get('content-type') };
  };

  const stream = await firstPieceThenSilence('/v1/chat/completions', { model: 'stall-body', stream: true, messages: [{ role: 'user', content: 'stall-openai' }] });
  assert.match(stream.contentType ?? '', /^text\/event-stream/);
  assert.ok(stream.first.includes(`"content":"${FAKE_TEXT_PIECES[0]}"`), stream.first);
  assert.equal(stream.next, 'silent');

  const json = await firstPieceThenSilence('/v1/messages', { model: 'stall-body', max_tokens: 8, messages: [{ role: 'user', content: 'stall-anthropic' }] });
  assert.match(json.contentType ?? '', /^application\/json/);
  assert.ok(json.first.startsWith('{"id":"msg_fake_') && !json.first.endsWith('}'), json.first);
  assert.equal(json.next, 'silent');

  for (const marker of ['stall-openai', 'stall-anthropic']) {
    const rec = await fake.waitFor((r) => r.body?.messages?.[0]?.content === marker && r.closedByPeerAt !== undefined, 2000);
    assert.equal(rec.completedAt, undefined, `${marker}: the fake never finished`);
  }
});

test('faults: stream-error, truncated, json-for-stream, html-200, fail-429-date and fail-400-echo look as their names say', async () => {
  const openaiError = payloads(await readSse(await chat('stream-error', { stream: true })));
  assert.deepEqual(openaiError.at(-1), { error: { message: FAKE_STREAM_ERROR_MESSAGE, type: 'server_error', param: null, code: null } });
  const anthropicError = await readSse(await messages('stream-error', { stream: true }));
  assert.equal(anthropicError.at(-1)!.event, 'error');

  const cut = payloads(await readSse(await chat('truncated', { stream: true })));
  assert.ok(cut.every((c) => c !== '[DONE]' && !c.choices[0].finish_reason), 'no finish reason, no [DONE]');
  assert.equal(cut.map((c) => c.choices[0].delta.content ?? '').join(''), FAKE_TEXT);
  const cutMessage = (await readSse(await messages('truncated', { stream: true }))).map((e) => e.event);
  assert.ok(!cutMessage.includes('message_delta') && !cutMessage.includes('message_stop'), cutMessage.join());

  for (const res of [await chat('json-for-stream', { stream: true }), await messages('json-for-stream', { stream: true })]) {
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(typeof (await res.json()).id, 'string');
  }
  const html = await chat('html-200', { stream: true });
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(await html.text(), FAKE_HTML_PAGE);

  const limited = await chat('fail-429-date');
  const retryAt = Date.parse(limited.headers.get('retry-after') ?? '');
  assert.ok(retryAt - Date.now() > 25_000, `an HTTP date 30 s ahead: ${limited.headers.get('retry-after')}`);
  for (const [name, value] of Object.entries(FAKE_RATE_LIMIT_HEADERS)) assert.equal(limited.headers.get(name), value);

  const echo = await post('/v1/chat/completions', { model: 'fail-400-echo' }, { authorization: 'Bearer sk-echoed' });
  assert.equal(echo.status, 400);
  assert.match((await echo.json()).error.message, /"authorization":"Bearer sk-echoed"/);
});
