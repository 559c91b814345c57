// OpenAI chat completions through the gateway with the official `openai` SDK: the built-in mock provider
// and an OpenAI-compatible upstream (the fake), JSON and streaming, usage, keys and request ids.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { FAKE_TEXT } from '../helpers/fake-upstream.ts';
import { CLIENT_KEY, UPSTREAM_OPENAI_KEY, oai, startStack, userMessage, type Stack } from '../helpers/stack.ts';

let stack: Stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

async function streamChat(model: string, content: string, includeUsage?: boolean, requestId?: string): Promise<{ chunks: Chunk[]; text: string }> {
  const stream = await stack.openai.chat.completions.create({
    model, messages: userMessage(content), stream: true,
    ...(includeUsage === undefined ? {} : { stream_options: { include_usage: includeUsage } }),
  }, requestId ? { headers: { 'x-request-id': requestId } } : {});
  const chunks: Chunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { chunks, text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join('') };
}

function assertPositiveUsage(usage: OpenAI.CompletionUsage | null | undefined): void {
  assert.ok(usage, 'usage is present');
  assert.ok(usage.prompt_tokens > 0, `prompt_tokens ${usage.prompt_tokens}`);
  assert.ok(usage.completion_tokens > 0, `completion_tokens ${usage.completion_tokens}`);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

test('mock: non-stream chat is deterministic and reports positive usage', async () => {
  const ask = () => stack.openai.chat.completions.create({ model: 'mock-chat', messages: userMessage('Tell me about gateways') });
  const first = await ask();
  const second = await ask();
  assert.equal(first.object, 'chat.completion');
  assert.equal(first.choices[0].message.role, 'assistant');
  const content = first.choices[0].message.content;
  assert.ok(typeof content === 'string' && content.length > 0, 'non-empty content');
  assert.equal(second.choices[0].message.content, content);
  assertPositiveUsage(first.usage);
});

test('mock: streamed chat arrives in several chunks, identically each time', async () => {
  const first = await streamChat('mock-chat', 'Stream me a reply');
  const second = await streamChat('mock-chat', 'Stream me a reply');
  const contentChunks = first.chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '');
  assert.ok(contentChunks.length >= 2, `expected several content chunks, got ${contentChunks.length}`);
  assert.ok(first.chunks.every((c) => c.object === 'chat.completion.chunk'));
  assert.ok(first.text.length > 0);
  assert.equal(second.text, first.text);
  assert.deepEqual(first.chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean), ['stop']);
});

test('mock: stream_options.include_usage yields a final usage chunk with positive counts', async () => {
  const { chunks } = await streamChat('mock-chat', 'Count my tokens', true);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assertPositiveUsage(last.usage);
});

test('upstream: non-stream chat returns the upstream reply and usage; upstream gets upstream_model and the provider key', async () => {
  const completion = await stack.openai.chat.completions.create({
    model: oai('ok'),
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }],
    temperature: 0.2,
  });
  assert.equal(completion.choices[0].message.content, FAKE_TEXT);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.deepEqual(completion.usage && [completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens], [12, 5, 17]);

  const sent = stack.fake.requestsFor('ok', '/v1/chat/completions').at(-1);
  assert.ok(sent, 'the gateway called the upstream');
  assert.equal(sent.method, 'POST');
  assert.deepEqual(sent.body.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }]);
  assert.equal(sent.body.temperature, 0.2);
  assert.equal(sent.headers.authorization, `Bearer ${UPSTREAM_OPENAI_KEY}`);
});

test('upstream: streaming without include_usage hides the usage chunk from the client, yet asks upstream for it and records it', async () => {
  const marker = 'stream without usage';
  const { chunks, text } = await streamChat(oai('ok'), marker, undefined, 'e2e-stream-no-usage');
  assert.equal(text, FAKE_TEXT);
  assert.ok(chunks.length >= 2);
  assert.ok(chunks.every((c) => c.choices.length > 0), 'no chunk with choices: [] reaches the client');
  assert.ok(chunks.every((c) => !c.usage), 'no usage reaches the client');

  const sent = stack.fake.requests.find((r) => r.body?.messages?.[0]?.content === marker);
  assert.ok(sent, 'the gateway called the upstream');
  assert.equal(sent.body.stream, true);
  assert.equal(sent.body.stream_options?.include_usage, true, 'the gateway asked upstream for usage');
  // …and captured it: the request's log line carries the upstream's token counts.
  const line = await stack.gateway.waitForLog((r) => r.request_id === 'e2e-stream-no-usage');
  assert.deepEqual([line.input_tokens, line.output_tokens], [12, 5]);
});

test('upstream: streaming with include_usage passes the final usage chunk through', async () => {
  const { chunks, text } = await streamChat(oai('ok'), 'stream with usage', true);
  assert.equal(text, FAKE_TEXT);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage && [last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens], [12, 5, 17]);
});

test('a body that needs no change reaches the upstream byte for byte; a renamed model is re-serialised', async () => {
  const send = (model: string) => `{ "model": "${model}", "seed": 12345678901234567890, "temperature": 1.0,\n  "messages": [{"role": "user", "content": "exact bytes ${model}"}] }`;
  for (const model of ['ok', oai('ok')]) {
    const res = await fetch(`${stack.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: send(model) });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  const received = (model: string) => stack.fake.requests.find((r) => r.body?.messages?.[0]?.content === `exact bytes ${model}`)!;
  assert.equal(received('ok').rawBody, send('ok'));
  const renamed = received(oai('ok'));
  assert.equal(renamed.body.model, 'ok');
  assert.equal(renamed.body.seed, Number('12345678901234567890')); // as JSON numbers go: the client's digits are not kept
});

test("the client's own key never reaches the upstream", async () => {
  await stack.openai.chat.completions.create({ model: oai('ok'), messages: userMessage('whose key is this') });
  const sent = stack.fake.requests.find((r) => r.body?.messages?.[0]?.content === 'whose key is this');
  assert.ok(sent);
  assert.equal(sent.headers.authorization, `Bearer ${UPSTREAM_OPENAI_KEY}`);
  for (const r of stack.fake.requests) {
    assert.ok(!JSON.stringify(r.headers).includes(CLIENT_KEY), `client key leaked upstream on ${r.path}`);
    assert.ok(!r.rawBody.includes(CLIENT_KEY));
  }
});

test('x-request-id from the client is echoed back; without one the gateway generates one', async () => {
  const given = 'e2e-request-id-0001';
  const echoed = await stack.openai.chat.completions
    .create({ model: 'mock-chat', messages: userMessage('id please') }, { headers: { 'x-request-id': given } })
    .withResponse();
  assert.equal(echoed.response.headers.get('x-request-id'), given);

  const generated = await stack.openai.chat.completions.create({ model: 'mock-chat', messages: userMessage('id please') }).withResponse();
  const id = generated.response.headers.get('x-request-id');
  assert.ok(id && id.length >= 8, `generated x-request-id: ${id}`);
  assert.notEqual(id, given);
});

test('each request writes exactly one JSON log line with the fields DESIGN.md names', async () => {
  const id = 'e2e-log-line-0001';
  await stack.openai.chat.completions.create({ model: oai('ok'), messages: userMessage('log me') }, { headers: { 'x-request-id': id } });
  const line = await stack.gateway.waitForLog((r) => r.request_id === id);
  for (const field of ['time', 'level', 'service', 'msg', 'request_id', 'trace_id', 'identity_id', 'method', 'route', 'status', 'duration_ms']) {
    assert.ok(field in line, `log field ${field} is present in ${JSON.stringify(line)}`);
  }
  assert.equal(line.status, 200);
  assert.equal(line.method, 'POST');
  assert.equal(typeof line.duration_ms, 'number');
  assert.ok(!JSON.stringify(line).includes('log me'), 'prompt text is not logged');
  assert.equal(stack.gateway.logRecords().filter((r) => r.request_id === id).length, 1);
});
