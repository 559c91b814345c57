// Embeddings (mock and OpenAI-compatible upstream), the model list, and model/operation mismatches.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { fakeVector } from '../helpers/fake-upstream-openai.ts';
import { UPSTREAM_OPENAI_KEY, rejectsAs, startStack, userMessage, type Stack } from '../helpers/stack.ts';

let stack: Stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const INPUTS = ['a', 'hello world', 'a considerably longer sentence about observability'];

test('mock embeddings: one vector per input, in order, all the same length, deterministic', async () => {
  const first = await stack.openai.embeddings.create({ model: 'mock-embedding', input: INPUTS, encoding_format: 'float' });
  assert.equal(first.object, 'list');
  assert.deepEqual(first.data.map((d) => d.index), [0, 1, 2]);
  const length = first.data[0].embedding.length;
  assert.ok(length > 0);
  assert.ok(first.data.every((d) => d.embedding.length === length), 'equal vector lengths across inputs');
  assert.ok(first.data.every((d) => d.embedding.every((x) => Number.isFinite(x))));
  assert.ok(first.usage.prompt_tokens > 0);
  const again = await stack.openai.embeddings.create({ model: 'mock-embedding', input: INPUTS, encoding_format: 'float' });
  assert.deepEqual(again.data.map((d) => d.embedding), first.data.map((d) => d.embedding));
});

test("mock embeddings with the SDK's default base64 encoding decode to the float vectors", async () => {
  const floats = await stack.openai.embeddings.create({ model: 'mock-embedding', input: INPUTS, encoding_format: 'float' });
  const decoded = await stack.openai.embeddings.create({ model: 'mock-embedding', input: INPUTS });
  assert.equal(decoded.data.length, INPUTS.length);
  decoded.data.forEach((d, i) => {
    assert.equal(d.embedding.length, floats.data[i].embedding.length);
    for (const [j, x] of d.embedding.entries()) assert.ok(Math.abs(x - floats.data[i].embedding[j]) < 1e-5);
  });
});

test('upstream embeddings: vectors from the upstream, upstream_model and provider key sent', async () => {
  const result = await stack.openai.embeddings.create({ model: 'oai-embed', input: INPUTS, encoding_format: 'float' });
  assert.deepEqual(result.data.map((d) => d.embedding), INPUTS.map(fakeVector));
  assert.equal(result.usage.prompt_tokens, 9);
  const sent = stack.fake.requests.find((r) => r.path === '/v1/embeddings');
  assert.ok(sent, 'the gateway called POST /v1/embeddings upstream');
  assert.equal(sent.body.model, 'ok');
  assert.deepEqual(sent.body.input, INPUTS);
  assert.equal(sent.headers.authorization, `Bearer ${UPSTREAM_OPENAI_KEY}`);
});

test('upstream embeddings with the default base64 encoding', async () => {
  const result = await stack.openai.embeddings.create({ model: 'oai-embed', input: 'hello world' });
  const expected = fakeVector('hello world');
  assert.equal(result.data[0].embedding.length, expected.length);
  for (const [j, x] of result.data[0].embedding.entries()) assert.ok(Math.abs(x - expected[j]) < 1e-5);
});

test('GET /v1/models lists exactly the configured public model names', async () => {
  const ids: string[] = [];
  for await (const model of stack.openai.models.list()) {
    assert.equal(model.object, 'model');
    ids.push(model.id);
  }
  const configured = stack.config.models.map((m: { name: string }) => m.name);
  assert.deepEqual([...ids].sort(), [...configured].sort());
  assert.equal(new Set(ids).size, ids.length, 'no duplicates');
});

test('a chat model cannot embed and an embedding model cannot chat (GW_MODEL_WRONG_TYPE)', async () => {
  const embed = await rejectsAs(stack.openai.embeddings.create({ model: 'mock-chat', input: 'x' }), OpenAI.BadRequestError);
  assert.equal(embed.code, 'GW_MODEL_WRONG_TYPE');
  const chat = await rejectsAs(stack.openai.chat.completions.create({ model: 'mock-embedding', messages: userMessage('x') }), OpenAI.BadRequestError);
  assert.equal(chat.code, 'GW_MODEL_WRONG_TYPE');
});

test('routes: a query string is ignored; a wrong method gets 405 GW_METHOD_NOT_ALLOWED, a wrong path 404 GW_ROUTE_NOT_FOUND, in the OpenAI shape', async () => {
  const listed = await fetch(`${stack.gateway.url}/v1/models?limit=1`);
  assert.equal(listed.status, 200);
  assert.equal((await listed.json()).object, 'list');
  const head = await fetch(`${stack.gateway.url}/v1/models`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '', 'HEAD: headers only');
  const misses = [['GET', '/v1/chat/completions', 405, 'GW_METHOD_NOT_ALLOWED'], ['POST', '/v1/models', 405, 'GW_METHOD_NOT_ALLOWED'], ['POST', '/v1/chat/completion', 404, 'GW_ROUTE_NOT_FOUND']] as const;
  for (const [method, path, status, code] of misses) {
    const res = await fetch(`${stack.gateway.url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    assert.equal(res.status, status, `${method} ${path}`);
    const body = await res.json();
    assert.equal(body.error?.code, code);
    assert.match(res.headers.get('x-request-id') ?? '', /./);
  }
});
