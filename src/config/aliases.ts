// models[] over the `routing` defaults → the aliases routing runs on (core/alias.ts), checked: providers
// exist, deployment ids are unique within an alias and mean one upstream everywhere, fallbacks name aliases
// of the same type and never loop. A deployment with its own base_url or api_key is a provider instance of
// its own, named by its id (providers/registry.ts builds it from `instances`).
import type { Alias, BreakerPolicy, CachePolicy, Deployment, RetryPolicy } from '../core/alias.ts';
import type { ModelPricing } from '../core/context.ts';
import type { ErrorClass } from '../core/errors.ts';
import { catalogPricing } from './pricing-catalog.ts';
import type { Config, DeploymentConfig, ModelConfig } from './schema.ts';

/** A provider of its own for a deployment with its own base_url or api_key: the configured `provider`'s kind. */
export interface ProviderInstance {
  /** The configured provider it derives from. */
  readonly provider: string;
  readonly baseUrl: string | undefined;
  /** Unset: the provider's. */
  readonly apiKey: string | undefined;
}

export interface CompiledAliases {
  readonly aliases: ReadonlyMap<string, Alias>;
  /** Deployment id → its provider instance (only deployments with their own base_url or api_key). */
  readonly instances: ReadonlyMap<string, ProviderInstance>;
}

/** What a deployment id stands for: the same id under two aliases must be the same upstream. */
interface Identity {
  provider: string;
  upstreamModel: string;
  baseUrl: string | undefined;
  apiKey: string | undefined;
  where: string;
}

export function compileAliases(config: Config, problems: string[]): CompiledAliases {
  const aliases = new Map<string, Alias>();
  const instances = new Map<string, ProviderInstance>();
  const identities = new Map<string, Identity>();
  for (const [i, model] of config.models.entries()) {
    if (aliases.has(model.name)) problems.push(`models.${i}.name: "${model.name}" is configured twice`);
    const entries: DeploymentConfig[] = model.deployments ?? [{ provider: model.provider!, upstream_model: model.upstream_model, weight: 1, priority: 0, pricing: model.pricing }];
    const deployments: Deployment[] = [];
    const ids = new Set<string>();
    for (const [j, entry] of entries.entries()) {
      const where = model.deployments ? `models.${i}.deployments.${j}` : `models.${i}`;
      const deployment = compileDeployment(config, model, entry, where, problems);
      if (ids.has(deployment.deploymentId)) problems.push(`${where}: deployment "${deployment.deploymentId}" appears twice in "${model.name}" (give one an id)`);
      ids.add(deployment.deploymentId);
      checkIdentity(identities, deployment, entry, where, problems);
      if (deployment.providerId !== entry.provider) instances.set(deployment.deploymentId, { provider: entry.provider, baseUrl: entry.base_url, apiKey: entry.api_key });
      deployments.push(Object.freeze(deployment));
    }
    aliases.set(model.name, Object.freeze({
      name: model.name,
      type: model.type,
      deployments: Object.freeze(deployments),
      strategy: model.strategy ?? config.routing.strategy,
      fallbacks: Object.freeze([...model.fallbacks]),
      fallbackOn: classes(model.fallback_on ?? config.routing.fallback_on),
      retry: retryPolicy(model, config.routing, deployments.length),
      breaker: breakerPolicy(model, config.routing),
      cache: cachePolicy(model, config.routing),
    }));
  }
  checkFallbacks(config, aliases, problems);
  return { aliases, instances };
}

function compileDeployment(config: Config, model: ModelConfig, entry: DeploymentConfig, where: string, problems: string[]): Deployment {
  const provider = config.providers[entry.provider];
  const upstreamModel = entry.upstream_model ?? model.name;
  const own = entry.base_url !== undefined || entry.api_key !== undefined;
  if (!provider) {
    problems.push(`${where}.provider: unknown provider "${entry.provider}" (configured: ${Object.keys(config.providers).join(', ') || 'none'})`);
  } else {
    if (model.type === 'embedding' && provider.kind === 'anthropic') problems.push(`${model.deployments ? `${where}.provider` : `${where}.type`}: provider "${entry.provider}" (anthropic) has no embeddings API`);
    if (own && provider.kind === 'mock') problems.push(`${where}: a mock provider takes no base_url or api_key`);
  }
  if (own && entry.id === undefined) problems.push(`${where}.id: required with base_url or api_key (it names the provider instance)`);
  if (own && entry.id !== undefined && config.providers[entry.id]) problems.push(`${where}.id: "${entry.id}" is already a provider id`);
  const deploymentId = entry.id ?? `${entry.provider}:${upstreamModel}`;
  const deployment: Deployment = {
    name: model.name,
    upstreamModel,
    providerId: own && entry.id !== undefined ? entry.id : entry.provider,
    deploymentId,
    type: model.type,
    weight: entry.weight,
    priority: entry.priority,
    maxParallel: entry.max_parallel,
  };
  const pricing = pricingOf(entry.pricing, upstreamModel);
  if (pricing) deployment.pricing = pricing;
  return deployment;
}

function checkIdentity(identities: Map<string, Identity>, deployment: Deployment, entry: DeploymentConfig, where: string, problems: string[]): void {
  const identity: Identity = { provider: entry.provider, upstreamModel: deployment.upstreamModel, baseUrl: entry.base_url, apiKey: entry.api_key, where };
  const seen = identities.get(deployment.deploymentId);
  if (!seen) {
    identities.set(deployment.deploymentId, identity);
    return;
  }
  const same = seen.provider === identity.provider && seen.upstreamModel === identity.upstreamModel && seen.baseUrl === identity.baseUrl && seen.apiKey === identity.apiKey;
  if (!same) problems.push(`${where}: deployment id "${deployment.deploymentId}" already names another upstream at ${seen.where} (one id, one provider, upstream model, base_url and api_key)`);
}

/**
 * Fallbacks name configured aliases of the same type, and no chain comes back to an alias already on it:
 * a request walks each chain depth first (routing/plan.ts), so a loop would never end.
 */
function checkFallbacks(config: Config, aliases: ReadonlyMap<string, Alias>, problems: string[]): void {
  for (const [i, model] of config.models.entries()) {
    for (const [j, name] of model.fallbacks.entries()) {
      const target = aliases.get(name);
      if (!target) problems.push(`models.${i}.fallbacks.${j}: unknown model "${name}"`);
      else if (target.type !== model.type) problems.push(`models.${i}.fallbacks.${j}: "${name}" is a ${target.type} model, "${model.name}" a ${model.type} one`);
    }
    const loop = findLoop(aliases, model.name, []);
    if (loop) problems.push(`models.${i}.fallbacks: the chain ${loop.join(' → ')} comes back to "${loop.at(-1)}"`);
  }
}

function findLoop(aliases: ReadonlyMap<string, Alias>, name: string, path: string[]): string[] | undefined {
  if (path.includes(name)) return [...path, name];
  const alias = aliases.get(name);
  if (!alias) return undefined;
  for (const next of alias.fallbacks) {
    const loop = findLoop(aliases, next, [...path, name]);
    if (loop) return loop;
  }
  return undefined;
}

type Routing = Config['routing'];

function retryPolicy(model: ModelConfig, routing: Routing, deployments: number): RetryPolicy {
  const own = model.retry ?? {};
  const defaults = routing.retry;
  return Object.freeze({
    attempts: own.attempts ?? defaults.attempts ?? deployments,
    backoffMs: own.backoff_ms ?? defaults.backoff_ms,
    maxBackoffMs: own.max_backoff_ms ?? defaults.max_backoff_ms,
    on: classes(own.on ?? defaults.on),
    attemptTimeoutMs: own.attempt_timeout_ms ?? defaults.attempt_timeout_ms,
    deadlineMs: own.deadline_ms ?? defaults.deadline_ms,
  });
}

function breakerPolicy(model: ModelConfig, routing: Routing): BreakerPolicy {
  const own = model.breaker ?? {};
  const defaults = routing.breaker;
  return Object.freeze({
    enabled: own.enabled ?? defaults.enabled,
    failureRatio: own.failure_ratio ?? defaults.failure_ratio,
    minRequests: own.min_requests ?? defaults.min_requests,
    windowMs: own.window_ms ?? defaults.window_ms,
    consecutiveFailures: own.consecutive_failures ?? defaults.consecutive_failures,
    cooldownMs: own.cooldown_ms ?? defaults.cooldown_ms,
    halfOpenRequests: own.half_open_requests ?? defaults.half_open_requests,
    on: classes(own.on ?? defaults.on),
  });
}

function cachePolicy(model: ModelConfig, routing: Routing): CachePolicy {
  return Object.freeze({ enabled: model.cache?.enabled ?? routing.cache.enabled, ttlSeconds: model.cache?.ttl_seconds ?? routing.cache.ttl_seconds });
}

const classes = (list: readonly string[]): ReadonlySet<ErrorClass> => new Set(list as ErrorClass[]);

/** The config's prices over the catalog's for the upstream model; a price the config leaves out comes from the catalog, else the input price. */
export function pricingOf(override: ModelConfig['pricing'], upstreamModel: string): ModelPricing | undefined {
  const catalog = catalogPricing(upstreamModel);
  if (!override) return catalog;
  const input = override.input_per_mtok;
  return Object.freeze({
    input,
    output: override.output_per_mtok,
    cachedInput: override.cached_input_per_mtok ?? catalog?.cachedInput ?? input,
    cacheWrite: override.cache_write_per_mtok ?? catalog?.cacheWrite ?? input,
  });
}
