// Raw config → a frozen runtime snapshot: cross-references checked, model table built, and every secret
// resolved here, once (gateway key hashes, provider keys and headers, scrape credentials, OTLP headers),
// so no other folder reads a secret reference and no request does this work.
import type { Alias } from '../core/alias.ts';
import type { ModelTarget } from '../core/context.ts';
import { LIVENESS_PATHS, READINESS_PATHS } from '../core/health.ts';
import { hashKey } from '../core/key-hash.ts';
import type { Principal } from '../core/principal.ts';
import { ConfigError } from './load.ts';
import type { ApiKeyConfig, Config } from './schema.ts';
import { compileAliases, type ProviderInstance } from './aliases.ts';
import { compileMetricsCredentials, type MetricsCredentials } from './metrics-credentials.ts';
import { resolveHeaders, resolveSecret } from './secrets.ts';

export interface CompiledConfig {
  readonly config: Config;
  /** Public model name → its first deployment, for readers that need one target per model (the model list, admission's prices). */
  readonly models: ReadonlyMap<string, ModelTarget>;
  /** Public model name → the alias routing runs on: deployments and policies over the `routing` defaults. */
  readonly aliases: ReadonlyMap<string, Alias>;
  /** Deployment id → the provider instance of a deployment with its own base_url or api_key (its credentials are in providerCredentials). */
  readonly providerInstances: ReadonlyMap<string, ProviderInstance>;
  /** sha256(key) → the key's Principal (auth.keys); empty means no config keys. */
  readonly keyHashes: ReadonlyMap<string, Principal>;
  /** Scrape credentials for the metrics path; empty means open. */
  readonly metricsCredentials: MetricsCredentials;
  /** Provider id (or provider-instance id) → its resolved key and headers, for every provider but the mock. */
  readonly providerCredentials: ReadonlyMap<string, ProviderCredentials>;
  /** `telemetry.otlp.headers` resolved, lower-cased names; empty when no OTLP endpoint is set. */
  readonly otlpHeaders: Readonly<Record<string, string>>;
  /** `auth.admin_token` resolved; undefined: no admin API. */
  readonly adminToken: string | undefined;
  /** `store.url` resolved (postgres://…); undefined: the embedded SQLite file. */
  readonly storeUrl: string | undefined;
  /** `redis.url` resolved; undefined: counters in memory. */
  readonly redisUrl: string | undefined;
}

export interface ProviderCredentials {
  readonly apiKey?: string;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Set when a reference did not resolve: the provider stays configured but unusable (readiness and its
   * models' errors say why), so one missing variable does not stop the gateway serving the other providers.
   */
  readonly unavailableReason?: string;
}

/** Paths the API listener already serves; the metrics path must not shadow them. */
const RESERVED_PATHS: readonly string[] = [...LIVENESS_PATHS, ...READINESS_PATHS];

/** Upstream error classes the mock provider can inject (see providers/mock.ts). */
const INJECTABLE = new Set(['rate_limit', 'server_error', 'timeout', 'network', 'protocol', 'upstream_auth', 'context_overflow', 'invalid_request']);

export function compileConfig(config: Config, env: NodeJS.ProcessEnv = process.env): CompiledConfig {
  const problems: string[] = [];
  if (config.models.length === 0) problems.push('models: none configured, so every request would answer 404; add at least one (see vigil.example.yaml)');
  const { aliases, instances } = compileAliases(config, problems);
  const models = new Map<string, ModelTarget>();
  for (const [name, alias] of aliases) {
    const { upstreamModel, providerId, deploymentId, type, pricing } = alias.deployments[0];
    models.set(name, Object.freeze(pricing ? { name, upstreamModel, providerId, deploymentId, type, pricing } : { name, upstreamModel, providerId, deploymentId, type }));
  }
  for (const [id, provider] of Object.entries(config.providers)) {
    if (provider.kind === 'openai-compatible' && !provider.base_url) problems.push(`providers.${id}.base_url: required for kind openai-compatible`);
    if (provider.kind !== 'mock') continue;
    for (const errorClass of Object.keys(provider.error_rates)) {
      if (!INJECTABLE.has(errorClass)) problems.push(`providers.${id}.error_rates.${errorClass}: expected one of ${[...INJECTABLE].join(', ')}`);
    }
  }
  const keyHashes = new Map<string, Principal>();
  for (const [i, entry] of config.auth.keys.entries()) {
    const secret = resolveSecret(entry.key, env);
    if (!secret.ok) problems.push(`auth.keys.${i}.key: ${secret.reason}`);
    else keyHashes.set(hashKey(secret.value), principalOf(entry));
    for (const name of entry.models ?? []) if (!models.has(name)) problems.push(`auth.keys.${i}.models: unknown model "${name}"`);
  }
  const metricsCredentials = compileMetricsCredentials(config.metrics.auth, env, problems);
  const providerCredentials = new Map<string, ProviderCredentials>();
  for (const [id, provider] of Object.entries(config.providers)) {
    if (provider.kind !== 'mock') providerCredentials.set(id, resolveProviderCredentials(provider.api_key, provider.headers, env));
  }
  for (const [id, instance] of instances) {
    const provider = config.providers[instance.provider];
    if (provider?.kind !== 'mock' && provider) providerCredentials.set(id, resolveProviderCredentials(instance.apiKey ?? provider.api_key, provider.headers, env));
  }
  const { otlp } = config.telemetry;
  const exporting = otlp.endpoint || otlp.traces.endpoint || otlp.logs.endpoint || otlp.metrics.endpoint; // a signal's own endpoint counts
  const otlpHeaders = exporting ? resolveHeaders(otlp.headers, env) : { headers: {}, problems: [] };
  for (const problem of otlpHeaders.problems) problems.push(`telemetry.otlp.headers.${problem}`);
  const adminToken = optionalSecret('auth.admin_token', config.auth.admin_token, env, problems);
  if (adminToken !== undefined && adminToken.length < 16) problems.push('auth.admin_token: at least 16 characters (it guards key issuing)');
  const storeUrl = optionalSecret('store.url', config.store.url, env, problems);
  if (storeUrl !== undefined && !/^postgres(ql)?:\/\//.test(storeUrl)) problems.push('store.url: expected postgres://… (unset: the embedded SQLite store)');
  const redisUrl = optionalSecret('redis.url', config.redis.url, env, problems);
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) problems.push('redis.url: expected redis://… or rediss://…');
  if (config.routing.cache.store === 'redis' && config.redis.url === undefined) problems.push('routing.cache.store: redis needs redis.url');
  const metricsPath = config.metrics.path;
  if (RESERVED_PATHS.includes(metricsPath) || metricsPath.startsWith('/v1/')) problems.push(`metrics.path: ${metricsPath} is an API or health route`);
  if (config.metrics.listener.enabled && config.metrics.listener.port === config.server.port && config.server.port !== 0) {
    problems.push(`metrics.listener.port: ${config.server.port} is already server.port`);
  }
  if (problems.length) throw ConfigError.fromProblems(problems);
  return Object.freeze({
    config, models, aliases, providerInstances: instances, keyHashes, metricsCredentials, providerCredentials, otlpHeaders: Object.freeze(otlpHeaders.headers), adminToken, storeUrl, redisUrl,
  });
}

/** A secret reference that may be unset; a set one that does not resolve is a problem. */
function optionalSecret(path: string, ref: string | undefined, env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  if (ref === undefined) return undefined;
  const secret = resolveSecret(ref, env);
  if (secret.ok) return secret.value;
  problems.push(`${path}: ${secret.reason}`);
  return undefined;
}

/** A config key's Principal, frozen, with only the attributes the entry sets: authentication hands this one object to every request of the key. */
function principalOf(entry: ApiKeyConfig): Principal {
  const limits = defined({ requestsPerMinute: entry.rpm, tokensPerMinute: entry.tpm, maxParallel: entry.max_parallel });
  const budget = defined({ dailyUsd: entry.daily_budget_usd, monthlyUsd: entry.monthly_budget_usd });
  return Object.freeze(defined({
    id: entry.id, name: entry.name, user: entry.user, team: entry.team,
    allowedModels: entry.models && Object.freeze([...entry.models]),
    limits: limits && Object.freeze(limits),
    budget: budget && Object.freeze(budget),
  })!) as Principal;
}

/** `fields` without its undefined entries; undefined when none is left. */
function defined<T extends object>(fields: T): Partial<T> | undefined {
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
  return entries.length ? Object.fromEntries(entries) as Partial<T> : undefined;
}

function resolveProviderCredentials(apiKeyRef: string | undefined, headerRefs: Record<string, string>, env: NodeJS.ProcessEnv): ProviderCredentials {
  const secret = apiKeyRef ? resolveSecret(apiKeyRef, env) : undefined;
  const { headers, problems } = resolveHeaders(headerRefs, env);
  const unavailableReason = secret && !secret.ok ? `api_key: ${secret.reason}` : problems.length ? `headers.${problems[0]}` : undefined;
  return Object.freeze({ apiKey: secret?.ok ? secret.value : undefined, headers: Object.freeze(headers), unavailableReason });
}
