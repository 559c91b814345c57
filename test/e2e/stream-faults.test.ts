// Upstream faults on streams, through both official SDKs, on the passthrough path (the client's dialect is
// the provider's) and the translated one (OpenAI upstream → Anthropic client, and the reverse): an in-stream
// error event, a truncated body, and a 200 that is not an event stream. Each must reach the client as a
// failure in its own dialect (the SDK throws; finalMessage() rejects) and be counted as one with its error
// class in the request's log line, the metrics and the usage ledger, never as a clean end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { outcomeOf, type ErrorClass, type ErrorCode } from '../../src/core/errors.ts';
import { FAKE_TEXT, FAKE_TEXT_PIECES, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRow } from '../helpers/ledger.ts';
import { total } from '../helpers/scrape.ts';
import { CLIENT_KEY, claude, e2eConfig, oai, userMessage } from '../helpers/stack.ts';

interface Expected {
  code: ErrorCode;
  errorClass: ErrorClass;
  /** The fault comes after the first text: the client's stream is open (200) and ends in an error event. */
  opened: boolean;
  /** The text the client received before the failure. */
  text: string;
}

const FAULTS: Record<string, Expected> = {
  'stream-error': { code: 'GW_UPSTREAM_SERVER_ERROR', errorClass: 'server_error', opened: true, text: FAKE_TEXT_PIECES[0] },
  truncated: { code: 'GW_UPSTREAM_PROTOCOL', errorClass: 'protocol', opened: true, text: FAKE_TEXT },
  'json-for-stream': { code: 'GW_UPSTREAM_PROTOCOL', errorClass: 'protocol', opened: false, text: '' },
  'html-200': { code: 'GW_UPSTREAM_PROTOCOL', errorClass: 'protocol', opened: false, text: '' },
};

let fake: FakeUpstream;
let gateway: Gateway;
let dataDir: string;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  fake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-stream-faults-'));
  gateway = await startGateway({ ...e2eConfig(fake.url), store: { flush_interval_ms: 50 } }, { VIGIL_DATA_DIR: dataDir });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Streams through the openai SDK: the text received and what ended the stream (an error, or 'clean'). */
async function openaiStream(model: string, marker: string): Promise<{ text: string; ended: unknown }> {
  let text = '';
  try {
    const stream = await openai.chat.completions.create({ model, messages: userMessage(marker), stream: true }, { headers: { 'x-request-id': marker } });
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  } catch (err) {
    return { text, ended: err };
  }
  return { text, ended: 'clean' };
}

/** Streams through the Anthropic SDK's helper: the text received and what finalMessage() settled with. */
async function anthropicStream(model: string, marker: string): Promise<{ text: string; ended: unknown }> {
  let text = '';
  const stream = anthropic.messages.stream({ model, max_tokens: 32, messages: userMessage(marker) }, { headers: { 'x-request-id': marker } });
  stream.on('text', (delta) => { text += delta; });
  const ended = await stream.finalMessage().then((message) => `resolved with stop_reason ${message.stop_reason}`, (err) => err);
  return { text, ended };
}

/** The request's log line, metrics and usage row all count one failure of `expected`'s class. */
async function assertCountedAsFailure(marker: string, provider: string, model: string, expected: Expected, before: string): Promise<void> {
  const line = await gateway.waitForLog((r) => r.request_id === marker);
  assert.equal(line.error_code, expected.code);
  assert.equal(line.error_class, expected.errorClass);
  assert.equal(line.status, expected.opened ? 200 : 502);

  const after = await (await fetch(`${gateway.url}/metrics`)).text();
  const delta = (name: string, labels: Record<string, string>) => total(after, name, labels) - total(before, name, labels);
  assert.equal(delta('vigil_llm_calls_total', { provider, model, outcome: outcomeOf({ errorClass: expected.errorClass }) }), 1, 'vigil_llm_calls_total with the failure\'s side');
  assert.equal(delta('vigil_llm_call_errors_total', { provider, model, error_class: expected.errorClass }), 1, 'vigil_llm_call_errors_total');
  assert.equal(delta('vigil_llm_calls_total', { provider, model, outcome: 'success' }), 0, 'not counted a success');

  const row = await ledgerRow(dataDir, marker);
  assert.deepEqual(
    { provider: row.provider, model: row.model, status: row.status, error_class: row.error_class, stream: row.stream },
    { provider, model, status: expected.opened ? 200 : 502, error_class: expected.errorClass, stream: 1 },
  );
}

const scrape = async () => (await fetch(`${gateway.url}/metrics`)).text();

for (const [fault, expected] of Object.entries(FAULTS)) {
  for (const [path, model, provider] of [['passthrough', oai(fault), 'fake-openai'], ['translated', claude(fault), 'fake-anthropic']]) {
    test(`openai SDK, ${path}, ${fault}: the stream ends in an APIError ${expected.code}, counted as ${expected.errorClass}`, async () => {
      const marker = `openai-${path}-${fault}`;
      const before = await scrape();
      const { text, ended } = await openaiStream(model, marker);
      assert.equal(text, expected.text);
      if (expected.opened) {
        // An error event inside the 200 stream: the SDK's base APIError, no status, the gateway's error object.
        assert.ok(ended instanceof OpenAI.APIError && !(ended instanceof OpenAI.APIUserAbortError), `got: ${ended}`);
        assert.equal(ended.status, undefined);
      } else {
        assert.ok(ended instanceof OpenAI.InternalServerError, `a 502 before the stream opened, got: ${ended}`);
        assert.equal(ended.status, 502);
        assert.equal(ended.headers.get('content-type'), 'application/json');
      }
      assert.equal(ended.code, expected.code);
      assert.equal(ended.type, 'server_error');
      await assertCountedAsFailure(marker, provider, model, expected, before);
    });
  }

  for (const [path, model, provider] of [['passthrough', claude(fault), 'fake-anthropic'], ['translated', oai(fault), 'fake-openai']]) {
    test(`Anthropic SDK, ${path}, ${fault}: finalMessage() rejects with api_error, counted as ${expected.errorClass}`, async () => {
      const marker = `anthropic-${path}-${fault}`;
      const before = await scrape();
      const { text, ended } = await anthropicStream(model, marker);
      assert.equal(text, expected.text);
      assert.ok(ended instanceof Anthropic.APIError && !(ended instanceof Anthropic.APIUserAbortError), `got: ${ended}`);
      if (expected.opened) assert.equal(ended.status, undefined, 'an error event inside the 200 stream');
      else assert.ok(ended instanceof Anthropic.InternalServerError && ended.status === 502, `a 502 before the stream opened, got: ${ended}`);
      const body = ended.error as any;
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'api_error');
      assert.equal(body.request_id, marker);
      await assertCountedAsFailure(marker, provider, model, expected, before);
    });
  }
}
