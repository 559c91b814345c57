// Provider id → Provider, built once from config. Explicit construction, no import side effects.
import type { Config } from '../config/schema.ts';
import { resolveHeaders, resolveSecret } from '../config/secrets.ts';
import { ANTHROPIC_BASE_URL, createAnthropicProvider } from './anthropic.ts';
import { createMockProvider } from './mock.ts';
import { createOpenAIProvider, OPENAI_BASE_URL } from './openai.ts';
import type { Provider, Send } from './provider.ts';

/** How a provider gets its transport: routing/upstream binds a pool per origin. */
export type BindTransport = (baseUrl: string, connections: number) => Send;

export function buildProviders(config: Config, bind: BindTransport, env: NodeJS.ProcessEnv = process.env): Map<string, Provider> {
  const providers = new Map<string, Provider>();
  for (const [id, options] of Object.entries(config.providers)) {
    if (options.kind === 'mock') {
      providers.set(id, createMockProvider(id, options));
      continue;
    }
    // A key that does not resolve leaves the provider configured but unusable (readiness and its models' errors say why),
    // so one missing variable does not stop the gateway serving every other provider.
    const secret = options.api_key ? resolveSecret(options.api_key, env) : undefined;
    const apiKey = secret?.ok ? secret.value : undefined;
    const { headers, problems } = resolveHeaders(options.headers, env);
    const unavailableReason = secret && !secret.ok ? `api_key: ${secret.reason}` : problems.length ? `headers.${problems[0]}` : undefined;
    if (options.kind === 'anthropic') {
      const send = bind(options.base_url ?? ANTHROPIC_BASE_URL, options.connections);
      providers.set(id, createAnthropicProvider({ id, send, apiKey, headers, unavailableReason }));
    } else {
      const send = bind(options.base_url ?? OPENAI_BASE_URL, options.connections);
      providers.set(id, createOpenAIProvider({ id, kind: options.kind, send, apiKey, headers, unavailableReason }));
    }
  }
  return providers;
}
