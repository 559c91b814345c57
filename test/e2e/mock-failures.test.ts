// Failures the mock provider injects (`error_rates`), one mock per error class at rate 1, seen through the
// official SDKs on both surfaces: the SDK's own error class, the stable GW_* code (in the OpenAI body; in
// the log line for Anthropic, whose shape has no field for it), the request id, and the class on /metrics.
// Also the mock's fixed usage numbers (completion_tokens, prompt_tokens) end to end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ERRORS, outcomeOf, type ErrorClass, type ErrorCode } from '../../src/core/errors.ts';
import { MOCK_FAILURES } from '../../src/providers/mock.ts';
import { assertAnthropicError, assertOpenAIError } from '../helpers/errors.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { total } from '../helpers/scrape.ts';
import { CLIENT_KEY, rejectsAs, userMessage } from '../helpers/stack.ts';

type SdkError<T> = abstract new (...args: any[]) => T;

/** What each injectable class must look like to a client, written out rather than derived from the catalog. */
const EXPECTED: Record<string, {
  code: ErrorCode; status: number; errorClass: ErrorClass;
  openai: SdkError<InstanceType<typeof OpenAI.APIError>>; anthropic: SdkError<InstanceType<typeof Anthropic.APIError>>; anthropicType: string;
}> = {
  rate_limit: { code: 'GW_UPSTREAM_RATE_LIMITED', status: 429, errorClass: 'rate_limit', openai: OpenAI.RateLimitError, anthropic: Anthropic.RateLimitError, anthropicType: 'rate_limit_error' },
  server_error: { code: 'GW_UPSTREAM_SERVER_ERROR', status: 502, errorClass: 'server_error', openai: OpenAI.InternalServerError, anthropic: Anthropic.InternalServerError, anthropicType: 'api_error' },
  timeout: { code: 'GW_UPSTREAM_TIMEOUT', status: 504, errorClass: 'timeout', openai: OpenAI.InternalServerError, anthropic: Anthropic.GatewayTimeoutError, anthropicType: 'timeout_error' },
  network: { code: 'GW_UPSTREAM_NETWORK', status: 502, errorClass: 'network', openai: OpenAI.InternalServerError, anthropic: Anthropic.InternalServerError, anthropicType: 'api_error' },
  protocol: { code: 'GW_UPSTREAM_PROTOCOL', status: 502, errorClass: 'protocol', openai: OpenAI.InternalServerError, anthropic: Anthropic.InternalServerError, anthropicType: 'api_error' },
  upstream_auth: { code: 'GW_UPSTREAM_AUTH', status: 502, errorClass: 'upstream_auth', openai: OpenAI.InternalServerError, anthropic: Anthropic.InternalServerError, anthropicType: 'api_error' },
  context_overflow: { code: 'GW_UPSTREAM_CONTEXT_OVERFLOW', status: 400, errorClass: 'context_overflow', openai: OpenAI.BadRequestError, anthropic: Anthropic.BadRequestError, anthropicType: 'invalid_request_error' },
  // An upstream 400 is the caller's mistake: class invalid_request, as for the gateway's own 400s.
  invalid_request: { code: 'GW_UPSTREAM_BAD_REQUEST', status: 400, errorClass: 'invalid_request', openai: OpenAI.BadRequestError, anthropic: Anthropic.BadRequestError, anthropicType: 'invalid_request_error' },
};

/** Provider ids are kebab-case: mock-rate-limit, …; the model is fail-<class>. */
const providerOf = (errorClass: string) => `mock-${errorClass.replaceAll('_', '-')}`;
const modelOf = (errorClass: string) => `fail-${errorClass}`;

let gateway: Gateway;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  const providers: Record<string, unknown> = { fixed: { kind: 'mock', completion_tokens: 5, prompt_tokens: 321 } };
  const models: Record<string, unknown>[] = [{ name: 'fixed-usage', provider: 'fixed' }];
  for (const errorClass of Object.keys(EXPECTED)) {
    providers[providerOf(errorClass)] = { kind: 'mock', error_rates: { [errorClass]: 1 } };
    models.push({ name: modelOf(errorClass), provider: providerOf(errorClass) });
  }
  gateway = await startGateway({ providers, models });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20_000 });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20_000 });
});
after(async () => { await gateway?.stop(); });

const scrape = async () => (await fetch(`${gateway.url}/metrics`)).text();

/** The failure counters of one class's model. */
async function counters(errorClass: string): Promise<{ errors: number; calls: number; otherErrors: number }> {
  const body = await scrape();
  const labels = { provider: providerOf(errorClass), model: modelOf(errorClass) };
  return {
    errors: total(body, 'vigil_llm_call_errors_total', { ...labels, error_class: EXPECTED[errorClass].errorClass }),
    calls: total(body, 'vigil_llm_calls_total', { ...labels, outcome: outcomeOf({ errorClass: EXPECTED[errorClass].errorClass }) }),
    otherErrors: total(body, 'vigil_llm_call_errors_total', labels) - total(body, 'vigil_llm_call_errors_total', { ...labels, error_class: EXPECTED[errorClass].errorClass }),
  };
}

test('the test covers every class the mock can inject', () => {
  assert.deepEqual(Object.keys(EXPECTED).sort(), Object.keys(MOCK_FAILURES).sort());
  for (const [errorClass, expected] of Object.entries(EXPECTED)) {
    assert.equal(MOCK_FAILURES[errorClass].code, expected.code, errorClass);
    assert.equal(ERRORS[expected.code].class, expected.errorClass, errorClass);
  }
});

for (const [errorClass, expected] of Object.entries(EXPECTED)) {
  test(`injected ${errorClass} → ${expected.status} ${expected.openai.name} ${expected.code} (OpenAI, JSON and stream), ${expected.anthropic.name} ${expected.anthropicType} (Anthropic); error_class="${expected.errorClass}" on /metrics`, async () => {
    const model = modelOf(errorClass);
    const id = (surface: string) => `mock-${errorClass}-${surface}`;
    const logOf = (requestId: string) => gateway.waitForLog((r) => r.request_id === requestId);

    // OpenAI, non-streaming.
    const json = await rejectsAs(
      openai.chat.completions.create({ model, messages: userMessage('fail me') }, { headers: { 'x-request-id': id('json') } }),
      expected.openai,
    );
    assertOpenAIError(json, expected.status, expected.code);
    assert.equal(json.requestID, id('json'));
    assert.match(json.message, /injected by the mock provider/);
    if (errorClass === 'rate_limit') assert.equal(json.headers?.get('retry-after'), '1');
    assert.deepEqual(await counters(errorClass), { errors: 1, calls: 1, otherErrors: 0 });

    // OpenAI, streaming: the failure comes before any chunk, so it is a plain HTTP error.
    const streamed = await rejectsAs(
      openai.chat.completions.create({ model, messages: userMessage('fail me'), stream: true }, { headers: { 'x-request-id': id('stream') } }),
      expected.openai,
    );
    assertOpenAIError(streamed, expected.status, expected.code);
    assert.equal(streamed.requestID, id('stream'));
    assert.deepEqual(await counters(errorClass), { errors: 2, calls: 2, otherErrors: 0 });

    // Anthropic Messages: the SDK class and error type; the GW code is in the log line of the same request id.
    const message = await rejectsAs(
      anthropic.messages.create({ model, max_tokens: 16, messages: userMessage('fail me') }, { headers: { 'x-request-id': id('anthropic') } }),
      expected.anthropic,
    );
    assertAnthropicError(message, expected.status, expected.anthropicType);
    assert.equal(message.requestID, id('anthropic'));
    if (errorClass === 'rate_limit') assert.equal(message.headers?.get('retry-after'), '1');
    assert.equal((message.error as any).request_id, id('anthropic'));
    assert.ok((message.error as any).error.message.startsWith(ERRORS[expected.code].message), (message.error as any).error.message);
    assert.deepEqual(await counters(errorClass), { errors: 3, calls: 3, otherErrors: 0 });

    // One log line each (written in batches: waited for once), with the code and class.
    await logOf(id('anthropic'));
    for (const [surface, route] of [['json', '/v1/chat/completions'], ['stream', '/v1/chat/completions'], ['anthropic', '/v1/messages']]) {
      const line = await logOf(id(surface));
      assert.deepEqual(
        [line.route, line.status, line.error_code, line.error_class, line.provider, line.model],
        [route, expected.status, expected.code, expected.errorClass, providerOf(errorClass), model],
        surface,
      );
    }
  });
}

test('injected failure on messages.stream → the same SDK error from finalMessage', async () => {
  const stream = anthropic.messages.stream({ model: modelOf('server_error'), max_tokens: 16, messages: userMessage('stream fail') });
  const err = await rejectsAs(stream.finalMessage(), Anthropic.InternalServerError);
  assertAnthropicError(err, 502, 'api_error');
});

test('mock usage numbers: completion_tokens and prompt_tokens reach both SDKs, streams included, and the token counter', async () => {
  const before = await scrape();
  const chat = await openai.chat.completions.create({ model: 'fixed-usage', messages: userMessage('any prompt at all, of any length') });
  assert.deepEqual([chat.usage?.prompt_tokens, chat.usage?.completion_tokens, chat.usage?.total_tokens], [321, 5, 326]);
  assert.equal(chat.choices[0].message.content?.split(' ').length, 5);

  const stream = await openai.chat.completions.create({ model: 'fixed-usage', messages: userMessage('x'), stream: true, stream_options: { include_usage: true } });
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens], [321, 5]);

  const message = await anthropic.messages.stream({ model: 'fixed-usage', max_tokens: 64, messages: userMessage('y') }).finalMessage();
  assert.deepEqual([message.usage.input_tokens, message.usage.output_tokens], [321, 5]);

  const after = await scrape();
  const tokens = (body: string, type: string) => total(body, 'vigil_llm_tokens_total', { provider: 'fixed', model: 'fixed-usage', type });
  assert.equal(tokens(after, 'input') - tokens(before, 'input'), 3 * 321);
  assert.equal(tokens(after, 'output') - tokens(before, 'output'), 3 * 5);
});
