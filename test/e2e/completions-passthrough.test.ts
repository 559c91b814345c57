// Legacy completions with the official openai SDK (JSON and stream: relayed, usage exact in the ledger, a
// stream asked upstream for usage without the client seeing it; refused on a mock model), and the raw
// passthrough: an unmodelled /v1/* call reaches the passthrough provider with its key, never the gateway
// key, and its bytes are counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRows } from '../helpers/ledger.ts';
import { call, total } from '../helpers/scrape.ts';

const GATEWAY_KEY = 'sk-vigil-completions-test-key';
const COMPLETION = { id: 'cmpl-1', object: 'text_completion', model: 'up', choices: [{ index: 0, text: ' world', finish_reason: 'stop' }], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } };
const chunk = (body: object) => `data: ${JSON.stringify(body)}\n\n`;
const STREAM = [
  chunk({ id: 'cmpl-2', object: 'text_completion', choices: [{ index: 0, text: ' hel', finish_reason: null }] }),
  chunk({ id: 'cmpl-2', object: 'text_completion', choices: [{ index: 0, text: 'lo', finish_reason: 'stop' }] }),
  chunk({ id: 'cmpl-2', object: 'text_completion', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }),
  'data: [DONE]\n\n',
].join('');

interface Seen { method: string; path: string; headers: IncomingMessage['headers']; body: Buffer }
const seen: Seen[] = [];
let upstream: Server;
let gateway: Gateway;
let dataDir: string;
let openai: OpenAI;

before(async () => {
  upstream = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      if (req.url === '/v1/completions') {
        const stream = JSON.parse(body.toString()).stream === true;
        res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
        res.end(stream ? STREAM : JSON.stringify(COMPLETION));
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream-own': 'yes' });
        res.end(JSON.stringify({ object: 'list', data: [{ url: 'https://img.example/1.png' }] }));
      }
    });
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-completions-'));
  gateway = await startGateway({
    auth: { keys: [{ id: 'tester', key: GATEWAY_KEY }] },
    providers: {
      mock: { kind: 'mock' },
      oai: { kind: 'openai-compatible', base_url: `${url}/v1`, api_key: 'sk-upstream-own', passthrough: true },
    },
    models: [{ name: 'instruct', provider: 'oai', upstream_model: 'up' }, { name: 'mock-chat', provider: 'mock' }],
  }, { VIGIL_DATA_DIR: dataDir });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  await new Promise((ok) => upstream?.close(ok));
  await rm(dataDir, { recursive: true, force: true });
});

async function ledgerOf(requestId: string) {
  for (let i = 0; i < 60; i++) {
    const row = ledgerRows(dataDir).find((r) => r.request_id === requestId);
    if (row) return row;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`no usage row for ${requestId}`);
}

test('completions.create: the upstream answer byte for byte, the model replaced, usage in the ledger', async () => {
  const { data, response } = await openai.completions.create({ model: 'instruct', prompt: 'hello', max_tokens: 5 }).withResponse();
  assert.deepEqual(data, COMPLETION);
  const sent = seen.findLast((s) => s.path === '/v1/completions')!;
  assert.deepEqual(JSON.parse(sent.body.toString()), { model: 'up', prompt: 'hello', max_tokens: 5 });
  assert.equal(sent.headers.authorization, 'Bearer sk-upstream-own');
  const row = await ledgerOf(response.headers.get('x-request-id')!);
  assert.deepEqual([row.input_tokens, row.output_tokens, row.route], [7, 3, '/v1/completions']);
});

test('completions.create with stream: events relayed, usage asked upstream and hidden, exact in the ledger', async () => {
  const { data: stream, response } = await openai.completions.create({ model: 'instruct', prompt: 'hi', stream: true }).withResponse();
  const texts: string[] = [];
  for await (const part of stream) {
    assert.ok(part.choices.length > 0, 'the usage chunk the client did not ask for is hidden');
    texts.push(part.choices[0].text);
  }
  assert.equal(texts.join(''), ' hello');
  const sent = JSON.parse(seen.findLast((s) => s.path === '/v1/completions')!.body.toString());
  assert.deepEqual(sent.stream_options, { include_usage: true });
  const row = await ledgerOf(response.headers.get('x-request-id')!);
  assert.deepEqual([row.input_tokens, row.output_tokens, row.stream], [5, 2, 1]);
});

test('completions on a mock model: 400 GW_REQUEST_UNSUPPORTED naming model', async () => {
  const err = await openai.completions.create({ model: 'mock-chat', prompt: 'x' }).catch((e) => e);
  assert.ok(err instanceof OpenAI.BadRequestError);
  assert.equal(err.param, 'model');
  assert.equal(err.code, 'GW_REQUEST_UNSUPPORTED');
});

test('raw passthrough: images/generations reaches the provider with its key, never the gateway key; bytes counted', async () => {
  const body = { prompt: 'a cat', n: 1 };
  const answer = await call(`${gateway.url}/v1/images/generations?size=small`, { body, headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['x-upstream-own'], 'yes');
  assert.equal(JSON.parse(answer.body).data[0].url, 'https://img.example/1.png');
  const sent = seen.findLast((s) => s.path.startsWith('/v1/images/generations'))!;
  assert.equal(sent.path, '/v1/images/generations?size=small');
  assert.equal(sent.method, 'POST');
  assert.equal(sent.headers.authorization, 'Bearer sk-upstream-own');
  assert.ok(!JSON.stringify(sent.headers).includes(GATEWAY_KEY), 'the gateway key is never forwarded');
  assert.deepEqual(JSON.parse(sent.body.toString()), body);
  const files = await call(`${gateway.url}/v1/files`, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
  assert.equal(files.status, 200);
  assert.equal(seen.at(-1)!.method, 'GET');
  const unauthenticated = await call(`${gateway.url}/v1/files`);
  assert.equal(unauthenticated.status, 401);
  const metrics = (await call(`${gateway.url}/metrics`)).body;
  assert.equal(total(metrics, 'vigil_passthrough_bytes_total', { provider: 'oai', direction: 'request' }), Buffer.byteLength(JSON.stringify(body)));
  assert.ok(total(metrics, 'vigil_passthrough_bytes_total', { provider: 'oai', direction: 'response' }) > 0);
  assert.equal(total(metrics, 'vigil_api_requests_total', { api: 'passthrough', outcome: 'success' }), 2);
});
