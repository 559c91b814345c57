// The configuration contract: one zod schema gives validation, defaults and the TypeScript types.
import { z } from 'zod';
import { parseDirectives } from './log-directives.ts';

const ms = z.number().int().nonnegative();
/** A secret is never written inline in shared files: `env:NAME` or `file:/path`. Plain strings are allowed for local use. */
const secretRef = z.string().min(1);

const errorClassRates = z.record(z.string(), z.number().min(0).max(1));

const mockProvider = z.object({
  kind: z.literal('mock'),
  /** Fixed delay before the first byte of a response. */
  latency_ms: ms.default(0),
  /** Streaming pace; 0 sends every chunk at once. */
  stream_tokens_per_second: z.number().nonnegative().default(0),
  /** Completion length in tokens (words) of the deterministic reply. */
  completion_tokens: z.number().int().positive().default(16),
  /** Fixed input (prompt) token count reported for every chat and embeddings request; unset = estimated from the input text. */
  prompt_tokens: z.number().int().positive().optional(),
  /** Probability per request of failing with the given upstream error class, e.g. { rate_limit: 0.05 }. */
  error_rates: errorClassRates.default({}),
}).strict();

const httpProvider = z.object({
  kind: z.enum(['openai', 'anthropic', 'openai-compatible']),
  base_url: z.url().optional(),
  api_key: secretRef.optional(),
  /** Extra headers sent upstream (values may be secret references). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Upper bound on open connections to this origin. */
  connections: z.number().int().positive().default(128),
  /**
   * Whether the upstream serves OpenAI's Responses API (`/v1/responses`) itself, so Responses requests pass
   * through untouched; otherwise they are translated to chat completions. Default: true for kind openai.
   */
  responses_api: z.boolean().optional(),
  /** Opt-in raw passthrough of `/v1/*` paths Vigil does not model (files, batches, images, audio, rerank), authenticated and metered. */
  passthrough: z.boolean().default(false),
}).strict();

const provider = z.discriminatedUnion('kind', [mockProvider, httpProvider]);

/** US dollars per million tokens, as the provider bills them. */
const pricing = z.object({
  input_per_mtok: z.number().nonnegative(),
  output_per_mtok: z.number().nonnegative(),
  /** Input tokens served from the provider's prompt cache; defaults to the catalog's, else the input price. */
  cached_input_per_mtok: z.number().nonnegative().optional(),
  /** Input tokens written to the provider's prompt cache (Anthropic); defaults to the catalog's, else the input price. */
  cache_write_per_mtok: z.number().nonnegative().optional(),
}).strict();

/** Upstream error classes (core/errors.ts) an operator can route on: retry and fallback triggers. */
const routableClass = z.enum(['rate_limit', 'server_error', 'timeout', 'network', 'protocol', 'upstream_auth', 'unavailable', 'context_overflow']);

const retry = z.object({
  /** Attempts per alias, across its deployments (1: no retry); a deployment is tried again only once every other has been. */
  attempts: z.number().int().min(1).max(10).optional(),
  /** First backoff; doubles each retry up to max_backoff_ms, with full jitter; an upstream Retry-After wins when longer (up to max_backoff_ms). */
  backoff_ms: ms.optional(),
  max_backoff_ms: ms.optional(),
  /** Error classes worth another attempt on the alias's deployments. */
  on: z.array(routableClass).optional(),
  /** One attempt's limit, until its last byte (streams: until the first byte); 0: only upstream.* timeouts. */
  attempt_timeout_ms: ms.optional(),
  /** The whole request's limit across attempts and fallbacks; no attempt starts after it. 0: none. */
  deadline_ms: ms.optional(),
}).strict();

const breaker = z.object({
  enabled: z.boolean().optional(),
  /** Opens when, over the last window_ms with at least min_requests calls, this share failed… */
  failure_ratio: z.number().gt(0).max(1).optional(),
  min_requests: z.number().int().positive().optional(),
  window_ms: z.number().int().positive().optional(),
  /** …or after this many failures in a row. */
  consecutive_failures: z.number().int().positive().optional(),
  /** Open this long, then half-open. */
  cooldown_ms: z.number().int().positive().optional(),
  /** Trial requests let through while half-open; all must succeed to close. */
  half_open_requests: z.number().int().positive().optional(),
  /** Error classes that count as the deployment's failures (caller errors never do). */
  on: z.array(routableClass).optional(),
}).strict();

const cache = z.object({
  /** Exact-match cache of non-streaming answers; opt-in per alias. */
  enabled: z.boolean().optional(),
  ttl_seconds: z.number().int().positive().optional(),
}).strict();

/** One upstream behind an alias: a provider and the model name it is sent as. */
const deployment = z.object({
  provider: z.string().min(1),
  upstream_model: z.string().min(1).optional(),
  /** Names the deployment in metrics, logs and readiness; default `<provider>:<upstream_model>`. Required with base_url or api_key. */
  id: z.string().regex(/^[A-Za-z0-9._:@/-]+$/).optional(),
  /** This deployment's own endpoint and key for the provider's kind (a provider of its own, named by `id`). */
  base_url: z.url().optional(),
  api_key: secretRef.optional(),
  /** Share of traffic under the weighted strategy. */
  weight: z.number().positive().default(1),
  /** Lower first under the priority strategy. */
  priority: z.number().int().default(0),
  /** Requests in flight to this deployment at once, from this process; past it the deployment is skipped. */
  max_parallel: z.number().int().positive().optional(),
  /** Overrides the pricing catalog for this deployment's upstream model. */
  pricing: pricing.optional(),
}).strict();

const model = z.object({
  /** Public name clients send in `model` (an alias over one or more deployments). */
  name: z.string().min(1),
  /** The one-deployment form: `provider` (+ `upstream_model`, `pricing`). Or `deployments`, not both. */
  provider: z.string().min(1).optional(),
  /** Name sent upstream; defaults to `name`. */
  upstream_model: z.string().min(1).optional(),
  type: z.enum(['chat', 'embedding']).default('chat'),
  /** Overrides the built-in pricing catalog (config/pricing-catalog.ts) for this model; without either, its calls cost 0 and are counted as unpriced. */
  pricing: pricing.optional(),
  deployments: z.array(deployment).min(1).optional(),
  /** How a deployment is chosen per attempt (routing.strategy when unset). */
  strategy: z.enum(['weighted', 'priority', 'least_in_flight', 'lowest_latency']).optional(),
  /** Other aliases tried, in order, once this one's deployments are exhausted by an error in fallback_on. */
  fallbacks: z.array(z.string().min(1)).default([]),
  /** Error classes that move a request to the fallbacks (routing.fallback_on when unset). */
  fallback_on: z.array(routableClass).optional(),
  retry: retry.optional(),
  breaker: breaker.optional(),
  cache: cache.optional(),
}).strict().refine((m) => (m.provider === undefined) !== (m.deployments === undefined), {
  message: 'give either provider (one deployment) or deployments, not both',
});

/** Defaults every alias inherits, field by field. */
const routing = z.object({
  strategy: z.enum(['weighted', 'priority', 'least_in_flight', 'lowest_latency']).default('priority'),
  fallback_on: z.array(routableClass).default(['rate_limit', 'server_error', 'timeout', 'network', 'protocol', 'unavailable']),
  retry: z.object({
    /** Unset: one attempt per deployment of the alias (a one-deployment alias makes one, as without routing). */
    attempts: z.number().int().min(1).max(10).optional(),
    backoff_ms: ms.default(100),
    max_backoff_ms: ms.default(2000),
    on: z.array(routableClass).default(['rate_limit', 'server_error', 'timeout', 'network', 'protocol', 'unavailable']),
    attempt_timeout_ms: ms.default(0),
    deadline_ms: ms.default(0),
  }).strict().prefault({}),
  breaker: z.object({
    enabled: z.boolean().default(true),
    failure_ratio: z.number().gt(0).max(1).default(0.5),
    min_requests: z.number().int().positive().default(10),
    window_ms: z.number().int().positive().default(30_000),
    consecutive_failures: z.number().int().positive().default(5),
    cooldown_ms: z.number().int().positive().default(30_000),
    half_open_requests: z.number().int().positive().default(1),
    on: z.array(routableClass).default(['server_error', 'timeout', 'network', 'protocol', 'upstream_auth']),
  }).strict().prefault({}),
  cache: z.object({
    enabled: z.boolean().default(false),
    ttl_seconds: z.number().int().positive().default(300),
    /** Entries this process keeps (memory store); the least recently used go first. */
    max_entries: z.number().int().positive().default(10_000),
    /** Largest answer cached, in bytes. */
    max_entry_bytes: z.number().int().positive().default(256 * 1024),
    /** `memory`: per process; `redis`: shared through redis.url (required then). */
    store: z.enum(['memory', 'redis']).default('memory'),
  }).strict().prefault({}),
}).strict();

const usd = z.number().positive();

/** A read-only gateway key: the attributes of an issued key (`vigil keys issue`), written in the file. */
const apiKey = z.object({
  /** Stable identity written to logs and usage records (never the key itself). */
  id: z.string().min(1),
  key: secretRef,
  name: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  team: z.string().min(1).optional(),
  /** Public model names the key may call; unset: every configured model. */
  models: z.array(z.string().min(1)).optional(),
  /** Requests per minute. */
  rpm: z.number().int().positive().optional(),
  /** Tokens (input + output) per minute. */
  tpm: z.number().int().positive().optional(),
  /** Requests in flight at once. */
  max_parallel: z.number().int().positive().optional(),
  daily_budget_usd: usd.optional(),
  monthly_budget_usd: usd.optional(),
}).strict();

const seconds = z.number().int().positive();

const port = z.number().int().min(0).max(65535);

const metrics = z.object({
  /** Where the exposition is served, on the main port and on the dedicated listener. */
  path: z.string().regex(/^\/[^?#\s]*$/, 'expected an absolute path like /metrics').default('/metrics'),
  /** Serve `path` on the main API port too (turn off once the dedicated listener is scraped). */
  main_port: z.boolean().default(true),
  /** A separate listener that serves only metrics (and liveness), e.g. kept off the public network. */
  listener: z.object({
    enabled: z.boolean().default(false),
    /** Unset: `server.host`, so one setting (VIGIL_HOST) opens or closes both listeners. */
    host: z.string().optional(),
    port: port.default(9091),
  }).strict().prefault({}),
  /** Distinct label sets per metric before new ones fold into one `other` series (counted). */
  max_series_per_metric: z.number().int().min(1).default(2000),
  /** One cost series per gateway key (vigil_identity_cost_usd_total), under the series cap; off for very many keys. */
  identity_cost: z.boolean().default(true),
  /** Scrape credentials; none configured means open. Either one configured is enough to be let in. */
  auth: z.object({
    bearer_token: secretRef.optional(),
    basic: z.object({ username: z.string().min(1), password: secretRef }).strict().optional(),
  }).strict().prefault({}),
}).strict();

/** Pino level names, case-insensitive; OTLP export has its own minimum, independent of `log.level`. */
const logLevel = z.preprocess((value) => (typeof value === 'string' ? value.toLowerCase() : value), z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']));

/** `log.level` directives, checked here so every command that loads the config refuses the same ones. */
const logDirectives = z.string().superRefine((spec, ctx) => {
  try {
    parseDirectives(spec);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const otlpUrl = z.url({ protocol: /^https?$/ });

const telemetry = z.object({
  /** Resource attribute service.name of exported spans and logs. */
  service_name: z.string().min(1).default('vigil'),
  /** Resource attribute deployment.environment (and deployment.environment.name); omitted when unset. */
  environment: z.string().min(1).optional(),
  tracing: z.object({
    /** Trace context per request (ids in logs, traceparent upstream); spans are recorded when exported. */
    enabled: z.boolean().default(true),
    /** Share of new traces recorded; a client's sampled flag in `traceparent` wins (parent-based). */
    sampling_ratio: z.number().min(0).max(1).default(1),
  }).strict().prefault({}),
  otlp: z.object({
    /** Collector URL; unset = no OTLP export. http: a base URL (`/v1/traces`, `/v1/logs` are appended). */
    endpoint: otlpUrl.optional(),
    protocol: z.enum(['grpc', 'http']).default('grpc'),
    /** Sent with every export (values may be secret references), e.g. Authorization. */
    headers: z.record(z.string().min(1), secretRef).default({}),
    tls: z.object({
      /** false accepts any server certificate: local development only. */
      verify: z.boolean().default(true),
      /** PEM bundle trusted for the collector's certificate, instead of the system CAs. */
      ca_cert_path: z.string().min(1).optional(),
    }).strict().prefault({}),
    traces: z.object({
      enabled: z.boolean().default(true),
      /** This signal's own receiver URL, used as it is (no path appended), instead of `endpoint`. */
      endpoint: otlpUrl.optional(),
    }).strict().prefault({}),
    logs: z.object({
      enabled: z.boolean().default(true),
      /** As traces.endpoint. */
      endpoint: otlpUrl.optional(),
      min_level: logLevel.default('info'),
    }).strict().prefault({}),
    /** GenAI semantic-convention histograms pushed over OTLP (off: Prometheus /metrics is the metrics path). */
    metrics: z.object({
      enabled: z.boolean().default(false),
      /** As traces.endpoint. */
      endpoint: otlpUrl.optional(),
      /** How often the cumulative histograms are pushed. */
      interval_ms: z.number().int().positive().default(60_000),
    }).strict().prefault({}),
    /** Per signal: records wait in a bounded queue and leave in batches; a full queue drops (and counts) them. */
    batch: z.object({
      max_queue_size: z.number().int().positive().default(2048),
      scheduled_delay_ms: z.number().int().positive().default(5000),
      max_export_batch_size: z.number().int().positive().default(512),
      export_timeout_ms: z.number().int().positive().default(10_000),
    }).strict().prefault({}),
  }).strict().prefault({}),
}).strict();

export const configSchema = z.object({
  server: z.object({
    /** Loopback unless set: an open gateway (no auth.keys) must not relay to paid models on every interface by default. */
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    body_limit_bytes: z.number().int().positive().default(4 * 1024 * 1024),
    /** Client connections: idle keep-alive and the time allowed to send request headers. */
    keep_alive_timeout_ms: ms.default(72_000),
    request_headers_timeout_ms: ms.default(30_000),
    /** SIGTERM: how long in-flight requests and streams may take before the process exits anyway. */
    drain_timeout_ms: ms.default(30_000),
    /** Worker processes (node:cluster) sharing the port; `auto` = one per available CPU. 1 = no cluster. */
    workers: z.union([z.number().int().positive(), z.literal('auto')]).default(1),
  }).strict().prefault({}),
  upstream: z.object({
    connect_timeout_ms: ms.default(10_000),
    /** Until the upstream's response headers arrive. */
    headers_timeout_ms: ms.default(120_000),
    /** Longest silence between two body chunks (streams included). */
    idle_timeout_ms: ms.default(60_000),
    /** Whole call, first byte sent to last byte received. */
    total_timeout_ms: ms.default(600_000),
    /** Calls that may wait for a connection once a provider's `connections` are busy; more answer 503 at once. */
    queue_limit: z.number().int().nonnegative().default(1024),
    /** Longest wait for a connection before a call answers 503; long streams hold connections for minutes. */
    queue_timeout_ms: z.number().int().positive().default(30_000),
    /**
     * A client that leaves mid-stream: the upstream is read on to its final usage event, so the call is billed
     * with its real usage, for at most this long and this many bytes (then the record is marked partial).
     */
    disconnect_drain: z.object({
      max_ms: ms.default(30_000),
      max_bytes: z.number().int().nonnegative().default(1024 * 1024),
    }).strict().prefault({}),
  }).strict().prefault({}),
  store: z.object({
    /** Unset: the embedded SQLite database in data_dir. `postgres://…`: a PostgreSQL database shared by every replica (may be a secret reference). */
    url: secretRef.optional(),
    data_dir: z.string().default('./data'),
    /** PostgreSQL connections per gateway process. */
    pool_size: z.number().int().positive().default(10),
    /** How often each gateway re-reads keys and budgets that another process (the CLI, another replica) may have changed. */
    refresh_ms: z.number().int().positive().default(500),
    /** Usage records are written in batches off the hot path. */
    flush_interval_ms: z.number().int().positive().default(1000),
    max_batch: z.number().int().positive().default(1000),
  }).strict().prefault({}),
  log: z.object({
    /** Directives: a default level and per-module levels, e.g. `info,routing=debug`. */
    level: logDirectives.default('info'),
    format: z.enum(['json', 'pretty']).default('json'),
  }).strict().prefault({}),
  slo: z.object({
    /** The sliding window of the in-process SLI gauges (vigil_sli_*_ratio). */
    window_seconds: z.number().int().min(10).max(86_400).default(300),
    /** Gateway-added latency at or under this counts as good for vigil_sli_latency_ratio. */
    latency_budget_ms: z.number().positive().default(10),
    /** SLO targets of the Prometheus rules `vigil rules render` writes (docs/runbooks/README.md). */
    targets: z.object({
      availability: z.number().gt(0).lt(1).default(0.999),
      upstream: z.number().gt(0).lt(1).default(0.99),
      latency: z.number().gt(0).lt(1).default(0.95),
    }).strict().prefault({}),
  }).strict().prefault({}),
  auth: z.object({
    /**
     * Unset: a key is required once one exists (issued in the store, or listed below); until then the gateway
     * is open and says so. true: always required (no key exists: every request is refused). false: never.
     */
    required: z.boolean().optional(),
    /** Read-only gateway keys from this file, beside the ones issued with `vigil keys issue` or the admin API. */
    keys: z.array(apiKey).default([]),
    /** Token for the admin API under /admin/ (Authorization: Bearer). Unset: the admin API answers 404. */
    admin_token: secretRef.optional(),
    /** Repeated failures from one client address: delayed, then refused for a while. */
    brute_force: z.object({
      /** Failures per address within window_seconds before its requests are refused. */
      max_failures: z.number().int().positive().default(20),
      window_seconds: seconds.default(60),
      /** How long a blocked address stays refused. */
      block_seconds: seconds.default(300),
      /** From half of max_failures on, each failed answer waits this long (slows guessing, costs no CPU). */
      delay_ms: ms.default(1000),
    }).strict().prefault({}),
    /** Requests per minute per client address that carry no valid key (unauthenticated and failing traffic). */
    address_rpm: z.number().int().positive().default(600),
  }).strict().prefault({}),
  /** Counters shared by every replica (rate limits, budget reservations, parallel requests) and key-change fan-out. */
  redis: z.object({
    /** Unset: counters in this process's memory. `redis://…` or `rediss://…` (may be a secret reference). */
    url: secretRef.optional(),
    /** While Redis is unreachable: `open` counts in this process's memory (limits hold per replica), `closed` refuses limited requests with 503. */
    on_failure: z.enum(['open', 'closed']).default('open'),
    key_prefix: z.string().default('vigil:'),
    /** A command slower than this counts as a failure. */
    command_timeout_ms: z.number().int().positive().default(500),
  }).strict().prefault({}),
  budgets: z.object({
    /** The output a request may produce when it does not say (max_tokens), for reserving its worst-case cost. */
    default_max_output_tokens: z.number().int().positive().default(4096),
  }).strict().prefault({}),
  audit: z.object({
    retention_days: z.number().int().positive().default(90),
    /** Security events (auth failures, blocked addresses) are kept longer. */
    security_retention_days: z.number().int().positive().default(365),
    /** How often expired events are deleted. */
    sweep_interval_ms: z.number().int().positive().default(3_600_000),
  }).strict().prefault({}),
  metrics: metrics.prefault({}),
  telemetry: telemetry.prefault({}),
  providers: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'provider ids are lowercase kebab-case'), provider),
  models: z.array(model),
  /** Defaults of every alias's strategy, retries, fallbacks, breaker and cache (each model may override them). */
  routing: routing.prefault({}),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof provider>;
export type MockProviderConfig = z.infer<typeof mockProvider>;
export type HttpProviderConfig = z.infer<typeof httpProvider>;
export type ModelConfig = z.infer<typeof model>;
export type DeploymentConfig = z.infer<typeof deployment>;
export type RoutingConfig = z.infer<typeof routing>;
export type ApiKeyConfig = z.infer<typeof apiKey>;
export type MetricsConfig = z.infer<typeof metrics>;
export type TelemetryConfig = z.infer<typeof telemetry>;
