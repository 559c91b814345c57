// The configuration contract: one zod schema gives validation, defaults and the TypeScript types.
import { z } from 'zod';

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
}).strict();

const provider = z.discriminatedUnion('kind', [mockProvider, httpProvider]);

const model = z.object({
  /** Public name clients send in `model`. */
  name: z.string().min(1),
  provider: z.string().min(1),
  /** Name sent upstream; defaults to `name`. */
  upstream_model: z.string().min(1).optional(),
  type: z.enum(['chat', 'embedding']).default('chat'),
}).strict();

const apiKey = z.object({
  /** Stable identity written to logs and usage records (never the key itself). */
  id: z.string().min(1),
  key: secretRef,
}).strict();

export const configSchema = z.object({
  server: z.object({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(8080),
    body_limit_bytes: z.number().int().positive().default(4 * 1024 * 1024),
    /** Client connections: idle keep-alive and the time allowed to send request headers. */
    keep_alive_timeout_ms: ms.default(72_000),
    request_headers_timeout_ms: ms.default(30_000),
    /** SIGTERM: how long in-flight requests and streams may take before the process exits anyway. */
    drain_timeout_ms: ms.default(30_000),
  }).strict().prefault({}),
  upstream: z.object({
    connect_timeout_ms: ms.default(10_000),
    /** Until the upstream's response headers arrive. */
    headers_timeout_ms: ms.default(120_000),
    /** Longest silence between two body chunks (streams included). */
    idle_timeout_ms: ms.default(60_000),
    /** Whole call, first byte sent to last byte received. */
    total_timeout_ms: ms.default(600_000),
  }).strict().prefault({}),
  store: z.object({
    kind: z.literal('sqlite').default('sqlite'),
    data_dir: z.string().default('./data'),
    /** Usage records are written in batches off the hot path. */
    flush_interval_ms: z.number().int().positive().default(1000),
    max_batch: z.number().int().positive().default(1000),
  }).strict().prefault({}),
  log: z.object({
    /** Directives: a default level and per-module levels, e.g. `info,routing=debug`. */
    level: z.string().default('info'),
    format: z.enum(['json', 'pretty']).default('json'),
  }).strict().prefault({}),
  auth: z.object({
    /** Gateway keys clients present as `Authorization: Bearer` or `x-api-key`. Empty: the gateway is open. */
    keys: z.array(apiKey).default([]),
  }).strict().prefault({}),
  providers: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'provider ids are lowercase kebab-case'), provider),
  models: z.array(model),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof provider>;
export type MockProviderConfig = z.infer<typeof mockProvider>;
export type HttpProviderConfig = z.infer<typeof httpProvider>;
export type ModelConfig = z.infer<typeof model>;
