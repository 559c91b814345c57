// One e2e stack per test file: a fake upstream, the gateway configured in front of it, and SDK clients
// (always maxRetries: 0 so SDK retries never hide the gateway's behaviour).
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { BEHAVIOURS, startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { startGateway, type Gateway } from './gateway.ts';

export const UPSTREAM_OPENAI_KEY = 'sk-upstream-test';
export const UPSTREAM_ANTHROPIC_KEY = 'sk-ant-upstream-test';
/** What the clients present to the gateway (the gateway is open: auth.keys is empty). */
export const CLIENT_KEY = 'sk-client-own-key-never-upstream';

/** Gateway model names: `oai-<behaviour>` on the openai-compatible provider, `claude-<behaviour>` on the anthropic one. */
export const oai = (behaviour: string) => `oai-${behaviour}`;
export const claude = (behaviour: string) => `claude-${behaviour}`;

export interface ConfigOverrides {
  server?: Record<string, unknown>;
  upstream?: Record<string, unknown>;
}

export function e2eConfig(fakeUrl: string, overrides: ConfigOverrides = {}): Record<string, any> {
  const models: Record<string, unknown>[] = [
    { name: 'mock-chat', provider: 'mock' },
    { name: 'mock-embedding', provider: 'mock', type: 'embedding' },
    { name: 'oai-embed', provider: 'fake-openai', upstream_model: 'ok', type: 'embedding' },
    // Public name = upstream model: the client's body goes upstream unchanged.
    { name: 'ok', provider: 'fake-openai' },
  ];
  for (const behaviour of BEHAVIOURS) {
    models.push({ name: oai(behaviour), provider: 'fake-openai', upstream_model: behaviour });
    models.push({ name: claude(behaviour), provider: 'fake-anthropic', upstream_model: behaviour });
  }
  return {
    ...(overrides.server ? { server: overrides.server } : {}),
    ...(overrides.upstream ? { upstream: overrides.upstream } : {}),
    providers: {
      mock: { kind: 'mock' },
      'fake-openai': { kind: 'openai-compatible', base_url: `${fakeUrl}/v1`, api_key: UPSTREAM_OPENAI_KEY },
      'fake-anthropic': { kind: 'anthropic', base_url: fakeUrl, api_key: UPSTREAM_ANTHROPIC_KEY },
    },
    models,
  };
}

export interface Stack {
  fake: FakeUpstream;
  gateway: Gateway;
  config: Record<string, any>;
  openai: OpenAI;
  anthropic: Anthropic;
  stop(): Promise<void>;
}

export async function startStack(overrides: ConfigOverrides = {}): Promise<Stack> {
  const fake = await startFakeUpstream();
  const config = e2eConfig(fake.url, overrides);
  let gateway: Gateway;
  try {
    gateway = await startGateway(config);
  } catch (err) {
    await fake.close();
    throw err;
  }
  return {
    fake,
    gateway,
    config,
    openai: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20_000 }),
    anthropic: new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20_000 }),
    async stop() {
      await gateway.stop();
      await fake.close();
    },
  };
}

/** Awaits a call that must fail, asserts the error is an instance of `type`, and returns it typed. */
export async function rejectsAs<T>(call: Promise<unknown>, type: abstract new (...args: any[]) => T): Promise<T> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    return err;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

export const userMessage = (content: string) => [{ role: 'user' as const, content }];

/**
 * Reads an SDK stream to its end, handing each item to `onItem`: what ended it (the error thrown, or a
 * string saying it ended cleanly, for assertion messages) and how long reading took.
 */
export async function readToEnd<T>(stream: AsyncIterable<T>, onItem: (item: T) => void): Promise<{ ended: unknown; tookMs: number }> {
  const started = Date.now();
  let ended: unknown = 'the stream ended without an error';
  try {
    for await (const item of stream) onItem(item);
  } catch (err) {
    ended = err;
  }
  return { ended, tookMs: Date.now() - started };
}
