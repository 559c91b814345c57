// Token counting with the official SDKs: Anthropic's messages.countTokens and OpenAI's
// responses.inputTokens.count forwarded to providers that count (a local fake asserting path, key and model
// rename), and answered from the gateway's marked estimate for a provider that cannot (the mock). Neither
// leaves a usage record.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRows } from '../helpers/ledger.ts';
import { CLIENT_KEY } from '../helpers/stack.ts';

interface Seen { path: string; headers: IncomingMessage['headers']; body: any }
const seen: Seen[] = [];
let upstream: Server;
let gateway: Gateway;
let dataDir: string;
let anthropic: Anthropic;
let openai: OpenAI;

before(async () => {
  upstream = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => { text += c; });
    req.on('end', () => {
      seen.push({ path: req.url!, headers: req.headers, body: JSON.parse(text) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/v1/messages/count_tokens' ? '{"input_tokens":42}' : '{"object":"response.input_tokens","input_tokens":17}');
    });
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-count-'));
  gateway = await startGateway({
    providers: {
      mock: { kind: 'mock' },
      claude: { kind: 'anthropic', base_url: url, api_key: 'sk-ant-up' },
      oai: { kind: 'openai', base_url: `${url}/v1`, api_key: 'sk-oai-up' },
    },
    models: [
      { name: 'sonnet', provider: 'claude', upstream_model: 'claude-up' },
      { name: 'gpt', provider: 'oai', upstream_model: 'gpt-up' },
      { name: 'mock-chat', provider: 'mock' },
    ],
  }, { VIGIL_DATA_DIR: dataDir });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  await new Promise((ok) => upstream?.close(ok));
  await rm(dataDir, { recursive: true, force: true });
});

const messages = [{ role: 'user' as const, content: 'How many tokens is this?' }];

test('messages.countTokens on an Anthropic model: forwarded with the provider key, the upstream model and anthropic-beta', async () => {
  const { data, response } = await anthropic.messages.countTokens(
    { model: 'sonnet', messages }, { headers: { 'anthropic-beta': 'token-counting-2024-11-01' } },
  ).withResponse();
  assert.equal(data.input_tokens, 42);
  assert.equal(response.headers.get('x-vigil-token-estimate'), null);
  const sent = seen.find((s) => s.path === '/v1/messages/count_tokens')!;
  assert.equal(sent.body.model, 'claude-up');
  assert.deepEqual(sent.body.messages, messages);
  assert.equal(sent.headers['x-api-key'], 'sk-ant-up');
  assert.equal(sent.headers['anthropic-beta'], 'token-counting-2024-11-01');
  assert.ok(!JSON.stringify(sent.headers).includes(CLIENT_KEY));
});

test('responses.inputTokens.count on an OpenAI model: forwarded to /v1/responses/input_tokens', async () => {
  const { data, response } = await openai.responses.inputTokens.count({ model: 'gpt', input: 'How many tokens is this?' }).withResponse();
  assert.equal(data.input_tokens, 17);
  assert.equal(response.headers.get('x-vigil-token-estimate'), null);
  const sent = seen.find((s) => s.path === '/v1/responses/input_tokens')!;
  assert.equal(sent.body.model, 'gpt-up');
  assert.equal(sent.headers.authorization, 'Bearer sk-oai-up');
});

test('a provider that cannot count: the estimate in each dialect\'s shape, marked, and no upstream call', async () => {
  const before = seen.length;
  const counted = await anthropic.messages.countTokens({ model: 'mock-chat', messages }).withResponse();
  assert.equal(counted.response.headers.get('x-vigil-token-estimate'), 'true');
  // The conservative bound: the text's UTF-8 bytes plus 8 framing tokens for the one message.
  assert.equal(counted.data.input_tokens, Buffer.byteLength(messages[0].content) + 8);
  const openaiCount = await openai.responses.inputTokens.count({ model: 'mock-chat', input: 'abcd' }).withResponse();
  assert.equal(openaiCount.response.headers.get('x-vigil-token-estimate'), 'true');
  assert.deepEqual(openaiCount.data, { object: 'response.input_tokens', input_tokens: 4 });
  // Anthropic's shape on the OpenAI provider too: it has no count_tokens, so the gateway estimates.
  const crossed = await anthropic.messages.countTokens({ model: 'gpt', messages }).withResponse();
  assert.equal(crossed.response.headers.get('x-vigil-token-estimate'), 'true');
  assert.equal(seen.length, before, 'estimates never call an upstream');
});

test('token counting leaves no usage record', async () => {
  await anthropic.messages.countTokens({ model: 'sonnet', messages });
  await new Promise((ok) => setTimeout(ok, 300)); // past the ledger's batch flush
  assert.deepEqual(ledgerRows(dataDir), []);
});
