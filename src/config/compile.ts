// Raw config → a frozen runtime snapshot: cross-references checked, model table built, secrets resolved
// and key hashes computed once, so no request ever does this work.
import { createHash } from 'node:crypto';
import type { ModelTarget } from '../core/context.ts';
import { ConfigError } from './load.ts';
import type { Config } from './schema.ts';
import { compileMetricsCredentials, type MetricsCredentials } from './metrics-credentials.ts';
import { resolveSecret } from './secrets.ts';

export interface CompiledConfig {
  readonly config: Config;
  /** Public model name → where it goes. */
  readonly models: ReadonlyMap<string, ModelTarget>;
  /** sha256(key) → identity id; empty means the gateway is open. */
  readonly keyHashes: ReadonlyMap<string, string>;
  /** Scrape credentials for the metrics path; empty means open. */
  readonly metricsCredentials: MetricsCredentials;
}

/** Paths the API listener already serves; the metrics path must not shadow them. */
const RESERVED_PATHS = ['/healthz', '/health', '/health/live', '/livez', '/readyz', '/health/ready'];

/** Upstream error classes the mock provider can inject (see providers/mock.ts). */
const INJECTABLE = new Set(['rate_limit', 'server_error', 'timeout', 'network', 'protocol', 'upstream_auth', 'context_overflow', 'invalid_request']);

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export function compileConfig(config: Config, env: NodeJS.ProcessEnv = process.env): CompiledConfig {
  const problems: string[] = [];
  const models = new Map<string, ModelTarget>();
  if (config.models.length === 0) problems.push('models: none configured, so every request would answer 404; add at least one (see vigil.example.yaml)');
  for (const [i, model] of config.models.entries()) {
    const provider = config.providers[model.provider];
    if (!provider) problems.push(`models.${i}.provider: unknown provider "${model.provider}" (configured: ${Object.keys(config.providers).join(', ') || 'none'})`);
    else if (model.type === 'embedding' && provider.kind === 'anthropic') problems.push(`models.${i}.type: provider "${model.provider}" (anthropic) has no embeddings API`);
    if (models.has(model.name)) problems.push(`models.${i}.name: "${model.name}" is configured twice`);
    const target: ModelTarget = { name: model.name, upstreamModel: model.upstream_model ?? model.name, providerId: model.provider, type: model.type };
    const price = model.pricing;
    if (price) target.pricing = { input: price.input_per_mtok, output: price.output_per_mtok, cachedInput: price.cached_input_per_mtok ?? price.input_per_mtok };
    models.set(model.name, target);
  }
  for (const [id, provider] of Object.entries(config.providers)) {
    if (provider.kind === 'openai-compatible' && !provider.base_url) problems.push(`providers.${id}.base_url: required for kind openai-compatible`);
    if (provider.kind !== 'mock') continue;
    for (const errorClass of Object.keys(provider.error_rates)) {
      if (!INJECTABLE.has(errorClass)) problems.push(`providers.${id}.error_rates.${errorClass}: expected one of ${[...INJECTABLE].join(', ')}`);
    }
  }
  const keyHashes = new Map<string, string>();
  for (const [i, entry] of config.auth.keys.entries()) {
    const secret = resolveSecret(entry.key, env);
    if (!secret.ok) problems.push(`auth.keys.${i}.key: ${secret.reason}`);
    else keyHashes.set(hashKey(secret.value), entry.id);
  }
  const metricsCredentials = compileMetricsCredentials(config.metrics.auth, env, problems);
  const metricsPath = config.metrics.path;
  if (RESERVED_PATHS.includes(metricsPath) || metricsPath.startsWith('/v1/')) problems.push(`metrics.path: ${metricsPath} is an API or health route`);
  if (config.metrics.listener.enabled && config.metrics.listener.port === config.server.port && config.server.port !== 0) {
    problems.push(`metrics.listener.port: ${config.server.port} is already server.port`);
  }
  if (problems.length) throw ConfigError.fromProblems(problems);
  return Object.freeze({ config, models, keyHashes, metricsCredentials });
}
