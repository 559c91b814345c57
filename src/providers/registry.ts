// Provider id → Provider, built once from the compiled config (keys and headers already resolved there).
// Explicit construction, no import side effects.
import type { CompiledConfig } from '../config/compile.ts';
import type { HttpProviderConfig } from '../config/schema.ts';
import type { HealthCheck } from '../core/health.ts';
import { ANTHROPIC_BASE_URL, createAnthropicProvider } from './anthropic.ts';
import { createMockProvider } from './mock.ts';
import { createOpenAIProvider, OPENAI_BASE_URL } from './openai.ts';
import type { Provider, Send } from './provider.ts';

/** How a provider gets its transport: routing/upstream binds a pool per origin. */
export type BindTransport = (baseUrl: string, connections: number) => Send;

/**
 * One provider per configured provider, and one per deployment with its own base_url or api_key (a provider
 * instance: its provider's kind, connections and headers; id = the deployment id).
 */
export function buildProviders(compiled: CompiledConfig, bind: BindTransport): Map<string, Provider> {
  const providers = new Map<string, Provider>();
  for (const [id, options] of Object.entries(compiled.config.providers)) {
    providers.set(id, options.kind === 'mock' ? createMockProvider(id, options) : httpProvider(compiled, id, options, options.base_url, bind));
  }
  for (const [id, instance] of compiled.providerInstances) {
    const options = compiled.config.providers[instance.provider] as HttpProviderConfig;
    providers.set(id, httpProvider(compiled, id, options, instance.baseUrl ?? options.base_url, bind));
  }
  return providers;
}

function httpProvider(compiled: CompiledConfig, id: string, options: HttpProviderConfig, baseUrl: string | undefined, bind: BindTransport): Provider {
  const { apiKey, headers, unavailableReason } = compiled.providerCredentials.get(id)!;
  if (options.kind === 'anthropic') {
    return createAnthropicProvider({ id, send: bind(baseUrl ?? ANTHROPIC_BASE_URL, options.connections), apiKey, headers, unavailableReason });
  }
  return createOpenAIProvider({
    id, kind: options.kind, send: bind(baseUrl ?? OPENAI_BASE_URL, options.connections), apiKey, headers, unavailableReason,
    responsesApi: options.responses_api ?? options.kind === 'openai',
  });
}

/**
 * Readiness of the providers, never calling a paid upstream: a provider is routable when its credentials
 * resolved. `providers` (required) fails when none is; each unusable one is reported on its own.
 */
export function providerChecks(providers: ReadonlyMap<string, Provider>): HealthCheck[] {
  const all = [...providers.values()];
  const routable = all.filter((p) => !p.unavailableReason).length;
  const checks: HealthCheck[] = [{
    name: 'providers',
    required: true,
    check: () => routable > 0
      ? { status: 'ok', detail: `${routable}/${all.length} routable` }
      : { status: 'fail', detail: 'no provider has usable credentials' },
  }];
  for (const p of all) {
    const detail = p.unavailableReason;
    if (detail) checks.push({ name: `provider:${p.id}`, required: false, check: () => ({ status: 'fail', detail }) });
  }
  return checks;
}
