// A client that disconnects mid-stream, through both official SDKs, passthrough and translated: the gateway
// reads the upstream on to its final usage event and bills that (status 499), or, when upstream.disconnect_drain
// cuts the drain (bytes or time), marks the record partial and closes the upstream connection. A
// non-streaming call's abort still cancels at once. The upstream is scripted here: it streams a few chunks,
// waits until the test says the client has left, then goes on (to its usage, or without end).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRow } from '../helpers/ledger.ts';
import { total } from '../helpers/scrape.ts';

const MAX_BYTES = 4096;
const MAX_MS = 1500;
/** The upstream's final usage: what a drained record must say, to the token. */
const OPENAI_USAGE = { prompt_tokens: 31, completion_tokens: 977 };
const ANTHROPIC_USAGE = { input_tokens: 23, output_tokens: 811 };

interface Exchange { model: string; closedByPeer: boolean; ended: boolean }

/** Upstream models: `finish` streams on to its usage once released; `endless` never stops; `silent` goes quiet. */
class ScriptedUpstream {
  readonly exchanges: Exchange[] = [];
  #release: (() => void)[] = [];
  server: Server = createServer((req, res) => void this.#serve(req, res));

  /** The client has left: every waiting stream goes on. */
  release(): void {
    for (const go of this.#release.splice(0)) go();
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body = JSON.parse(text);
    const exchange: Exchange = { model: body.model, closedByPeer: false, ended: false };
    this.exchanges.push(exchange);
    res.on('close', () => { if (!res.writableFinished) exchange.closedByPeer = true; });
    const anthropic = req.url === '/v1/messages';
    const send = anthropic ? anthropicEvents(res) : openaiEvents(res);
    if (!body.stream) {
      await new Promise((resolve) => res.on('close', resolve)); // hangs until the gateway hangs up
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    send.open();
    for (let i = 0; i < 3; i++) send.text(`piece ${i} `);
    await new Promise<void>((go) => this.#release.push(go));
    if (body.model === 'silent') return; // stays open and quiet until the peer hangs up
    for (let i = 0; !exchange.closedByPeer && (body.model === 'endless' || i < 5); i++) {
      send.text(`more ${i} ${'x'.repeat(80)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (exchange.closedByPeer) return;
    send.finish();
    exchange.ended = true;
    res.end();
  }
}

function openaiEvents(res: ServerResponse) {
  const base = { id: 'chatcmpl-drain', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'finish' };
  const data = (value: object) => res.write(`data: ${JSON.stringify({ ...base, ...value })}\n\n`);
  return {
    open: () => data({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
    text: (content: string) => data({ choices: [{ index: 0, delta: { content }, finish_reason: null }] }),
    finish: () => {
      data({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      data({ choices: [], usage: { ...OPENAI_USAGE, total_tokens: OPENAI_USAGE.prompt_tokens + OPENAI_USAGE.completion_tokens } });
      res.write('data: [DONE]\n\n');
    },
  };
}

function anthropicEvents(res: ServerResponse) {
  const event = (type: string, value: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...value })}\n\n`);
  return {
    open: () => {
      event('message_start', {
        message: { id: 'msg_drain', type: 'message', role: 'assistant', model: 'finish', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: ANTHROPIC_USAGE.input_tokens, output_tokens: 1 } },
      });
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    },
    text: (text: string) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
    finish: () => {
      event('content_block_stop', { index: 0 });
      event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: ANTHROPIC_USAGE.output_tokens } });
      event('message_stop', {});
    },
  };
}

let upstream: ScriptedUpstream;
let gateway: Gateway;
let dataDir: string;
let openai: OpenAI;
let anthropic: Anthropic;
let config: Record<string, any>;

before(async () => {
  upstream = new ScriptedUpstream();
  await new Promise<void>((ok) => upstream.server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`;
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-drain-'));
  const models = [];
  for (const behaviour of ['finish', 'endless', 'silent']) {
    models.push({ name: `oai-${behaviour}`, provider: 'up-openai', upstream_model: behaviour });
    models.push({ name: `claude-${behaviour}`, provider: 'up-anthropic', upstream_model: behaviour });
  }
  config = {
    upstream: { disconnect_drain: { max_ms: MAX_MS, max_bytes: MAX_BYTES } },
    store: { flush_interval_ms: 50 },
    providers: {
      'up-openai': { kind: 'openai-compatible', base_url: `${url}/v1`, api_key: 'sk-up' },
      'up-anthropic': { kind: 'anthropic', base_url: url, api_key: 'sk-ant-up' },
    },
    models,
  };
  gateway = await startGateway(config, { VIGIL_DATA_DIR: dataDir });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-client', maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  upstream?.server.closeAllConnections();
  await new Promise((ok) => upstream?.server.close(ok));
  await rm(dataDir, { recursive: true, force: true });
});

const scrape = async () => (await fetch(`${gateway.url}/metrics`)).text();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Streams `model` through `sdk`, aborts after two chunks, then lets the upstream go on. */
async function leaveMidStream(sdk: 'openai' | 'anthropic', model: string, requestId: string, via = { openai, anthropic }): Promise<void> {
  const controller = new AbortController();
  const options = { signal: controller.signal, headers: { 'x-request-id': requestId } };
  const stream = sdk === 'openai'
    ? await via.openai.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }, options)
    : await via.anthropic.messages.create({ model, stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, options);
  let seen = 0;
  for await (const _ of stream as AsyncIterable<unknown>) {
    if (++seen < 2) continue;
    controller.abort(); // the SDKs end the iteration quietly on their own abort
    break;
  }
  assert.equal(seen, 2);
  await pause(100); // the gateway sees the client's connection close before the upstream goes on
  upstream.release();
}

const cases = [
  { sdk: 'openai', model: 'oai', mode: 'passthrough', usage: [OPENAI_USAGE.prompt_tokens, OPENAI_USAGE.completion_tokens] },
  { sdk: 'openai', model: 'claude', mode: 'translated', usage: [ANTHROPIC_USAGE.input_tokens, ANTHROPIC_USAGE.output_tokens] },
  { sdk: 'anthropic', model: 'claude', mode: 'passthrough', usage: [ANTHROPIC_USAGE.input_tokens, ANTHROPIC_USAGE.output_tokens] },
  { sdk: 'anthropic', model: 'oai', mode: 'translated', usage: [OPENAI_USAGE.prompt_tokens, OPENAI_USAGE.completion_tokens] },
] as const;

for (const [i, { sdk, model, mode, usage }] of cases.entries()) {
  test(`${sdk} SDK, ${mode}: a client gone mid-stream is billed with the upstream's final usage, status 499`, async () => {
    const before = total(await scrape(), 'vigil_stream_drains_total', { result: 'complete' });
    const requestId = `drain-complete-${i}`;
    await leaveMidStream(sdk, `${model}-finish`, requestId);
    const row = await ledgerRow(dataDir, requestId, 5000);
    assert.deepEqual([row.input_tokens, row.output_tokens], usage, 'the usage the upstream sent after the client left');
    assert.equal(row.status, 499);
    assert.equal(row.error_class, 'client_abort');
    assert.equal(row.partial, 0);
    assert.equal(row.stream, 1);
    assert.ok(row.cost_usd >= 0);
    assert.equal(upstream.exchanges.at(-1)!.ended, true, 'the upstream was read to its end');
    assert.equal(total(await scrape(), 'vigil_stream_drains_total', { result: 'complete' }) - before, 1);
  });
}

for (const [sdk, model, behaviour] of [['openai', 'oai', 'endless'], ['anthropic', 'claude', 'endless'], ['openai', 'claude', 'silent']] as const) {
  test(`${sdk} SDK, ${model}-${behaviour}: a drain cut by its ${behaviour === 'silent' ? 'time' : 'byte'} cap is marked partial and closes the upstream`, async () => {
    const metrics = await scrape();
    const capped = total(metrics, 'vigil_stream_drains_total', { result: 'capped' });
    const partial = total(metrics, 'vigil_usage_records_partial_total');
    const requestId = `drain-capped-${sdk}-${behaviour}`;
    await leaveMidStream(sdk, `${model}-${behaviour}`, requestId);
    const row = await ledgerRow(dataDir, requestId, MAX_MS + 5000);
    assert.equal(row.partial, 1);
    assert.equal(row.status, 499);
    const exchange = upstream.exchanges.at(-1)!;
    assert.equal(exchange.ended, false);
    for (let waited = 0; !exchange.closedByPeer && waited < 3000; waited += 25) await pause(25);
    assert.equal(exchange.closedByPeer, true, 'the gateway closed the upstream connection');
    const after = await scrape();
    assert.equal(total(after, 'vigil_stream_drains_total', { result: 'capped' }) - capped, 1);
    assert.equal(total(after, 'vigil_usage_records_partial_total') - partial, 1);
  });
}

test('a non-streaming call whose client leaves is cancelled at once: no drain', async () => {
  const drains = total(await scrape(), 'vigil_stream_drains_total');
  const controller = new AbortController();
  const sent = upstream.exchanges.length;
  const pending = openai.chat.completions.create({ model: 'oai-finish', messages: [{ role: 'user', content: 'hi' }] }, { signal: controller.signal, headers: { 'x-request-id': 'drain-none' } });
  while (upstream.exchanges.length === sent) await pause(10); // the call reached the upstream, which holds it
  const exchange = upstream.exchanges[sent];
  controller.abort();
  await assert.rejects(pending);
  for (let waited = 0; !exchange.closedByPeer && waited < 3000; waited += 25) await pause(25);
  assert.equal(exchange.closedByPeer, true, 'the upstream call was cancelled');
  const row = await ledgerRow(dataDir, 'drain-none', 5000);
  assert.equal(row.status, 499);
  assert.equal(row.partial, 0);
  assert.equal(total(await scrape(), 'vigil_stream_drains_total'), drains);
});

test('a drain still reading when the server shuts down ends at the drain timeout, its record partial', async () => {
  const shutdownDir = await mkdtemp(join(tmpdir(), 'vigil-drain-shutdown-'));
  const second = await startGateway({
    ...config, server: { drain_timeout_ms: 300 }, upstream: { disconnect_drain: { max_ms: 60_000, max_bytes: 1 << 20 } },
  }, { VIGIL_DATA_DIR: shutdownDir });
  try {
    const via = {
      openai: new OpenAI({ baseURL: `${second.url}/v1`, apiKey: 'sk-client', maxRetries: 0 }),
      anthropic: new Anthropic({ baseURL: second.url, apiKey: 'sk-client', maxRetries: 0 }),
    };
    await leaveMidStream('anthropic', 'claude-silent', 'drain-shutdown', via);
    const exchange = upstream.exchanges.at(-1)!;
    await second.stop(); // SIGTERM: the drain (a minute's cap) is cut at the drain timeout, and the process exits
    assert.equal(second.exitCode(), 0);
    for (let waited = 0; !exchange.closedByPeer && waited < 3000; waited += 25) await pause(25);
    assert.equal(exchange.closedByPeer, true);
    const row = await ledgerRow(shutdownDir, 'drain-shutdown');
    assert.deepEqual([row.status, row.partial, row.input_tokens], [499, 1, ANTHROPIC_USAGE.input_tokens]);
  } finally {
    await second.stop();
    await rm(shutdownDir, { recursive: true, force: true });
  }
});
