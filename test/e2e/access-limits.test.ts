// The request path's access control end to end, through the official SDKs against the real gateway with
// config keys and in-memory counters: each refusal arrives as the SDK's own error class, with the status,
// Retry-After, x-ratelimit-* and x-should-retry the SDK reads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway, type Gateway } from '../helpers/gateway.ts';

let gateway: Gateway;

before(async () => {
  gateway = await startGateway({
    providers: { mock: { kind: 'mock', prompt_tokens: 10, completion_tokens: 16 } },
    models: [
      // $1000 per million tokens each way: $0.001 a token, so a few requests spend a budget.
      { name: 'gpt', provider: 'mock', pricing: { input_per_mtok: 1000, output_per_mtok: 1000 } },
      { name: 'other', provider: 'mock' },
    ],
    auth: {
      keys: [
        { id: 'plain', key: 'sk-plain' },
        { id: 'narrow', key: 'sk-narrow', models: ['other'] },
        { id: 'rpm', key: 'sk-rpm', rpm: 2 },
        { id: 'tpm', key: 'sk-tpm', tpm: 300 },
        { id: 'budget', key: 'sk-budget', daily_budget_usd: 0.15 },
      ],
      brute_force: { max_failures: 1000 },
    },
  });
});
after(async () => { await gateway?.stop(); });

const openai = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
const anthropic = (apiKey: string) => new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 });
const chat = (apiKey: string, maxTokens = 100, model = 'gpt') =>
  openai(apiKey).chat.completions.create({ model, max_tokens: maxTokens, messages: [{ role: 'user', content: 'hi' }] });
const message = (apiKey: string, model = 'gpt') =>
  anthropic(apiKey).messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });

async function failure<T extends Error>(call: Promise<unknown>, type: abstract new (...args: any[]) => T): Promise<T & { status: number; headers: Headers }> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof type, `expected ${type.name}, got ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`);
  return err as T & { status: number; headers: Headers };
}

test('missing key: 401 AuthenticationError in both SDKs, not to be retried', async () => {
  const noKey = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { authorization: null } });
  const err = await failure(noKey.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }), OpenAI.AuthenticationError);
  assert.equal(err.status, 401);
  assert.equal((err as any).code, 'GW_AUTH_MISSING_KEY');
  assert.equal(err.headers.get('x-should-retry'), 'false');
  const noKeyAnthropic = new Anthropic({ baseURL: gateway.url, apiKey: null, authToken: null, maxRetries: 0, defaultHeaders: { 'x-api-key': null, authorization: null } });
  const anthropicErr = await failure(noKeyAnthropic.messages.create({ model: 'gpt', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }), Anthropic.AuthenticationError);
  assert.equal(anthropicErr.status, 401);
});

test('invalid key: 401 AuthenticationError with GW_AUTH_INVALID_KEY; a valid key goes through', async () => {
  const err = await failure(chat('sk-wrong'), OpenAI.AuthenticationError);
  assert.equal((err as any).code, 'GW_AUTH_INVALID_KEY');
  await failure(message('sk-wrong'), Anthropic.AuthenticationError);
  const ok = await chat('sk-plain');
  assert.equal(ok.object, 'chat.completion');
  assert.equal((await message('sk-plain')).type, 'message');
});

test('a model outside the key\'s models: 403 PermissionDeniedError in both SDKs', async () => {
  const err = await failure(chat('sk-narrow'), OpenAI.PermissionDeniedError);
  assert.equal(err.status, 403);
  assert.equal((err as any).code, 'GW_AUTH_MODEL_NOT_ALLOWED');
  await failure(message('sk-narrow'), Anthropic.PermissionDeniedError);
  assert.equal((await chat('sk-narrow', 10, 'other')).object, 'chat.completion');
});

test('RPM exhausted: 429 RateLimitError with retry-after, x-ratelimit-*-requests, x-should-retry true; successes carry the headers', async () => {
  const { response } = await openai('sk-rpm').chat.completions.create({ model: 'gpt', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.equal(response.headers.get('x-ratelimit-limit-requests'), '2');
  assert.match(response.headers.get('x-ratelimit-remaining-requests') ?? '', /^[01]$/);
  assert.match(response.headers.get('x-ratelimit-reset-requests') ?? '', /^(\d+ms|\d+(\.\d+)?s)$/);
  await message('sk-rpm').catch(() => undefined); // the second of the minute (or the first of the next)
  let err: (InstanceType<typeof OpenAI.RateLimitError> & { status: number; headers: Headers }) | undefined;
  for (let i = 0; i < 3 && !err; i++) err = await chat('sk-rpm', 10).then(() => undefined, (e) => (e instanceof OpenAI.RateLimitError ? e as any : undefined));
  assert.ok(err, 'a third request within a minute is refused');
  assert.equal(err.status, 429);
  assert.equal((err as any).code, 'GW_RATE_LIMITED');
  assert.equal(err.headers.get('x-ratelimit-limit-requests'), '2');
  assert.equal(err.headers.get('x-ratelimit-remaining-requests'), '0');
  const retryAfter = Number(err.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
  assert.equal(err.headers.get('x-should-retry'), 'true');
  await failure(message('sk-rpm'), Anthropic.RateLimitError);
});

test('TPM exhausted: the estimate is reserved, the real usage settled; 429 RateLimitError with x-ratelimit-*-tokens', async () => {
  // max_tokens 280 + 1 input token estimated: 281 of 300 reserved, settled to the real 26 (10 in + 16 out).
  const first = await openai('sk-tpm').chat.completions.create({ model: 'gpt', max_tokens: 280, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.equal(first.response.headers.get('x-ratelimit-limit-tokens'), '300');
  assert.equal(first.response.headers.get('x-ratelimit-remaining-tokens'), '19');
  let err: (InstanceType<typeof OpenAI.RateLimitError> & { headers: Headers }) | undefined;
  for (let i = 0; i < 2 && !err; i++) err = await chat('sk-tpm', 280).then(() => undefined, (e) => (e instanceof OpenAI.RateLimitError ? e as any : undefined));
  assert.ok(err, '26 spent + 281 more is past 300 within the minute');
  assert.equal(err.headers.get('x-ratelimit-limit-tokens'), '300');
  assert.ok(Number(err.headers.get('retry-after')) >= 1);
  assert.match(err.headers.get('x-ratelimit-reset-tokens') ?? '', /s$/);
});

test('budget exhausted: 429 with OpenAI\'s insufficient_quota / Anthropic\'s rate_limit_error, never retried', async () => {
  // Worst case $0.101 (1 + 100 tokens at $0.001); each call really costs $0.026: two fit in $0.15, the third's worst case does not.
  await chat('sk-budget');
  await message('sk-budget');
  const err = await failure(chat('sk-budget'), OpenAI.RateLimitError);
  assert.equal(err.status, 429);
  assert.equal((err as any).code, 'GW_BUDGET_EXCEEDED');
  assert.equal((err as any).type, 'insufficient_quota');
  assert.equal(err.headers.get('x-should-retry'), 'false');
  const anthropicErr = await failure(message('sk-budget'), Anthropic.RateLimitError);
  assert.equal((anthropicErr as any).error?.error?.type, 'rate_limit_error');
});
