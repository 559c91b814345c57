// THE list of metrics Vigil exports on /metrics. Nothing else declares a Prometheus metric: the registry,
// the recorders and docs/metrics.md are built from this table. Families arrive here together with the
// feature that fills them, never as constant zeros. (The opt-in OTLP push, export/genai-metrics.ts, re-expresses
// four of these numbers as the GenAI semantic-convention instruments named in `otel` below.)

export const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const LLM_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
export const CONNECTION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800];
/** Gateway-added time is sub-millisecond when healthy; finer buckets at the bottom than HTTP's. */
export const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** OpenTelemetry GenAI semantic-convention recommended boundaries. */
export const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
export const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
export const STORE_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
export const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];
/** Attempts per request: routing.retry.attempts is at most 10, and fallbacks add their own. */
export const ATTEMPT_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20];
/** HTTP's, extended past upstream.queue_timeout_ms's default (30 s). */
export const QUEUE_WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface MetricSpec {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
  /** The OpenTelemetry GenAI semantic-convention instrument answering the same question, if any. */
  otel?: string;
  /**
   * How `server.workers` > 1 combines this metric across worker processes (prom-client aggregators).
   * Counters and histograms always sum; every gauge must say what its meaning calls for.
   */
  aggregate?: 'sum' | 'first' | 'min' | 'max' | 'average';
  /**
   * A ratio gauge combined across workers as the average weighted by the vigil_sli_events series with
   * this `sli` label (an unweighted average of ratios would let an idle worker outvote a busy one).
   */
  weightedBy?: string;
}

export const CATALOG = {
  buildInfo: {
    name: 'vigil_build_info', type: 'gauge', labels: ['version', 'node_version', 'commit'], aggregate: 'first',
    help: 'Always 1; labels identify the running build.',
  },

  // HTTP edge (RED by route template)
  httpRequests: {
    name: 'vigil_http_requests_total', type: 'counter', labels: ['route', 'method', 'status', 'outcome'],
    help: 'HTTP requests answered, by route template, method, status code and outcome: success, or whose fault the failure was (caller_error, gateway_error, provider_error).',
  },
  httpDuration: {
    name: 'vigil_http_request_duration_seconds', type: 'histogram', labels: ['route', 'method'], buckets: HTTP_BUCKETS,
    help: 'Time from accepting a request to its last byte, streams included.',
  },
  httpInFlight: {
    name: 'vigil_http_requests_in_flight', type: 'gauge', labels: ['route'], aggregate: 'sum',
    help: 'Requests accepted and not yet finished.',
  },
  gatewayOverhead: {
    name: 'vigil_gateway_overhead_seconds', type: 'histogram', labels: ['route'], buckets: OVERHEAD_BUCKETS,
    help: 'Time the gateway itself added to a proxied request: total duration minus upstream time.',
  },
  clientConnections: {
    name: 'vigil_client_connections_active', type: 'gauge', labels: [], aggregate: 'sum',
    help: 'Open client connections (keep-alive sessions) on the API listener.',
  },

  // Access: gateway keys, limits, budgets, audit
  authFailures: {
    name: 'vigil_auth_failures_total', type: 'counter', labels: ['reason'],
    help: 'Requests rejected by gateway-key authentication, by reason: missing_key, invalid_key, key_revoked, key_expired, model_not_allowed.',
  },
  authBlocked: {
    name: 'vigil_auth_failures_blocked_total', type: 'counter', labels: ['action'],
    help: 'Brute-force guard: answers slowed (action="delayed") or refused outright (action="blocked") because their client address failed authentication repeatedly.',
  },
  authOpen: {
    name: 'vigil_auth_open', type: 'gauge', labels: [], aggregate: 'max',
    help: '1 while the gateway serves requests without a key (no key exists yet, or auth.required is false).',
  },
  gatewayKeys: {
    name: 'vigil_gateway_keys', type: 'gauge', labels: ['state'], aggregate: 'max',
    help: 'Gateway keys in the store by state: active, revoked (a revocation past its grace counts at once), expired.',
  },
  rateLimitChecks: {
    name: 'vigil_rate_limit_checks_total', type: 'counter', labels: ['scope', 'result'],
    help: 'Rate-limit checks by scope (rpm, tpm, parallel, address) and result: allowed, rejected, or degraded (the shared counter store could not answer; redis.on_failure decided).',
  },
  rateLimitBuckets: {
    name: 'vigil_rate_limit_buckets', type: 'gauge', labels: [], aggregate: 'sum',
    help: 'Counters held in this process\'s memory (rate-limit, budget and parallel buckets; with Redis, only the fallback ones).',
  },
  budgetExceeded: {
    name: 'vigil_budget_exceeded_total', type: 'counter', labels: ['scope', 'period'],
    help: 'Requests refused because a budget was spent, by scope (key, user, team) and period (day, month).',
  },
  quotaUsed: {
    name: 'vigil_quota_used_ratio', type: 'gauge', labels: ['identity_kind', 'identity_id', 'period'], aggregate: 'max',
    help: 'Spent plus reserved over the budget, per identity with a budget (kind key, user or team) and period; 1 when exhausted. Updated as requests are admitted and settled.',
  },
  auditEvents: {
    name: 'vigil_audit_events_total', type: 'counter', labels: ['type'],
    help: 'Audit events recorded, by type (key.issued, auth.failed, budget.exceeded, …).',
  },
  auditDropped: {
    name: 'vigil_audit_events_dropped_total', type: 'counter', labels: [],
    help: 'Audit events that could not be written to the store and were given up on.',
  },
  redisDegraded: {
    name: 'vigil_redis_degraded', type: 'gauge', labels: [], aggregate: 'max',
    help: '1 while Redis is configured but unreachable: counters fall back per redis.on_failure; 0 when healthy.',
  },
  redisHealth: {
    name: 'vigil_redis_health_state', type: 'gauge', labels: [], aggregate: 'max',
    help: 'Redis connection detail: 0 ready, 1 reconnecting after a failure, 2 down (commands failing or timing out).',
  },

  // LLM calls
  llmCalls: {
    name: 'vigil_llm_calls_total', type: 'counter', labels: ['provider', 'model', 'outcome'],
    help: 'Calls to an upstream model by outcome: success, or whose fault the failure was (caller_error, provider_error, gateway_error); vigil_llm_call_errors_total has the error class.',
  },
  llmErrors: {
    name: 'vigil_llm_call_errors_total', type: 'counter', labels: ['provider', 'model', 'error_class'],
    help: 'Failed upstream model calls by error class (the failure-only slice of vigil_llm_calls_total).',
  },
  llmDuration: {
    name: 'vigil_llm_call_duration_seconds', type: 'histogram', labels: ['provider', 'model'], buckets: LLM_BUCKETS,
    help: 'Upstream call time, from sending the request to the last byte of the answer, success and failure.',
    otel: 'gen_ai.client.operation.duration',
  },
  llmTimeToFirstToken: {
    name: 'vigil_llm_time_to_first_token_seconds', type: 'histogram', labels: ['provider', 'model'], buckets: TTFT_BUCKETS,
    help: 'Streams: from sending the request upstream to the first content or tool-call token.',
    otel: 'gen_ai.server.time_to_first_token',
  },
  llmTimePerOutputToken: {
    name: 'vigil_llm_time_per_output_token_seconds', type: 'histogram', labels: ['provider', 'model'], buckets: TPOT_BUCKETS,
    help: 'Streams: mean time between output tokens after the first.',
    otel: 'gen_ai.server.time_per_output_token',
  },
  llmTokens: {
    name: 'vigil_llm_tokens_total', type: 'counter', labels: ['provider', 'model', 'type'],
    help: 'Tokens reported by the provider, by type: input (every input token, normalised across providers), output, cached_input (read from the prompt cache) and cache_write (written to it); the last two are subsets of input.',
    otel: 'gen_ai.client.token.usage',
  },
  llmCost: {
    name: 'vigil_llm_cost_usd_total', type: 'counter', labels: ['provider', 'model'],
    help: 'Spend in US dollars from reported tokens and the configured model prices.',
  },
  identityCost: {
    name: 'vigil_identity_cost_usd_total', type: 'counter', labels: ['identity'],
    help: 'Spend in US dollars per gateway key (identity="anonymous" on an open gateway). Off with metrics.identity_cost: false.',
  },
  unpricedCalls: {
    name: 'vigil_llm_unpriced_calls_total', type: 'counter', labels: ['provider', 'model'],
    help: 'Calls that reported tokens but were priced at zero because the model has no price (catalog or config): spend that would otherwise go unseen.',
  },
  llmToolCalls: {
    name: 'vigil_llm_tool_calls_total', type: 'counter', labels: ['provider', 'model', 'tool'],
    help: 'Tool calls that models requested in their answers, by tool name.',
  },
  upstreamResponses: {
    name: 'vigil_upstream_responses_total', type: 'counter', labels: ['provider', 'code'],
    help: 'HTTP responses from upstream providers by status code (for 429 and 5xx rates).',
  },
  upstreamQueueDepth: {
    name: 'vigil_upstream_queue_depth', type: 'gauge', labels: ['provider'], aggregate: 'sum',
    help: 'Calls waiting for a connection to a provider because all of its connections are busy (bounded by upstream.queue_limit).',
  },
  upstreamQueueWait: {
    name: 'vigil_upstream_queue_wait_seconds', type: 'histogram', labels: ['provider'], buckets: QUEUE_WAIT_BUCKETS,
    help: 'How long calls that had to wait for a provider connection waited, until they got one or gave up (upstream.queue_timeout_ms).',
  },

  // API surface and fidelity
  apiRequests: {
    name: 'vigil_api_requests_total', type: 'counter', labels: ['api', 'outcome'],
    help: 'Requests by the API they used: chat (chat completions), messages, responses, count_tokens, completions, embeddings, models, passthrough, admin; and outcome.',
  },
  translationRefusals: {
    name: 'vigil_translation_refusals_total', type: 'counter', labels: ['field'],
    help: 'Requests refused with a 4xx because a field cannot be translated faithfully to the target provider, by the field (a closed list: the translation table).',
  },
  streamDrains: {
    name: 'vigil_stream_drains_total', type: 'counter', labels: ['result'],
    help: 'Streams whose client left before the end, read on to the upstream\'s final usage: complete, or capped (upstream.disconnect_drain cut it; the usage record is partial).',
  },
  partialUsage: {
    name: 'vigil_usage_records_partial_total', type: 'counter', labels: [],
    help: 'Usage records written with possibly short token counts (a drain after a client disconnect was cut by its time or byte cap).',
  },
  passthroughBytes: {
    name: 'vigil_passthrough_bytes_total', type: 'counter', labels: ['provider', 'direction'],
    help: 'Bytes relayed by the raw passthrough of unmodelled /v1/* paths, by provider and direction (request, response).',
  },

  // Routing and resilience
  routingDecisions: {
    name: 'vigil_routing_decisions_total', type: 'counter', labels: ['model', 'deployment', 'strategy'],
    help: 'Deployments chosen for an attempt, by alias (model), the deployment chosen and the strategy that chose it.',
  },
  routingDuration: {
    name: 'vigil_routing_decision_duration_seconds', type: 'histogram', labels: [], buckets: OVERHEAD_BUCKETS,
    help: 'Time the router took to choose a deployment (breakers, capacity and the strategy).',
  },
  requestAttempts: {
    name: 'vigil_request_attempts', type: 'histogram', labels: ['route'], buckets: ATTEMPT_BUCKETS,
    help: 'Upstream attempts per request that made at least one (retries and fallbacks included).',
  },
  retries: {
    name: 'vigil_retries_total', type: 'counter', labels: ['model', 'reason'],
    help: 'Attempts made again on an alias\'s deployments after a failure, by alias and the failure\'s error class.',
  },
  fallbacks: {
    name: 'vigil_fallbacks_total', type: 'counter', labels: ['from', 'to', 'reason'],
    help: 'Requests moved from one alias to its fallback, by the two aliases and the error class that moved them.',
  },
  breakerState: {
    name: 'vigil_circuit_breaker_state', type: 'gauge', labels: ['deployment'], aggregate: 'max',
    help: 'Circuit breaker per deployment: 0 closed, 1 open (skipped), 2 half-open (trial requests only).',
  },
  breakerTransitions: {
    name: 'vigil_circuit_breaker_transitions_total', type: 'counter', labels: ['deployment', 'to'],
    help: 'Circuit breaker changes by deployment and the state entered: open, half_open, closed.',
  },
  deploymentInFlight: {
    name: 'vigil_deployment_in_flight', type: 'gauge', labels: ['deployment'], aggregate: 'sum',
    help: 'Attempts running against a deployment (least_in_flight routes on it; max_parallel caps it).',
  },
  routableDeployments: {
    name: 'vigil_routing_routable_deployments', type: 'gauge', labels: ['model'], aggregate: 'max',
    help: 'Deployments of an alias a request could be sent to now (breaker not open); 0: the alias answers 503 unless a fallback can.',
  },
  cacheLookups: {
    name: 'vigil_cache_lookups_total', type: 'counter', labels: ['model', 'result'],
    help: 'Response-cache lookups by alias and result: hit, miss, bypass (the client sent Cache-Control: no-cache or no-store).',
  },
  cacheEntries: {
    name: 'vigil_cache_entries', type: 'gauge', labels: [], aggregate: 'sum',
    help: 'Answers held in this process\'s response cache (a Redis cache is not counted here).',
  },

  // Streams
  streamsActive: {
    name: 'vigil_streams_active', type: 'gauge', labels: ['route'], aggregate: 'sum',
    help: 'Server-sent-event streams open to clients.',
  },
  streamDuration: {
    name: 'vigil_stream_duration_seconds', type: 'histogram', labels: ['route'], buckets: CONNECTION_BUCKETS,
    help: 'How long client streams stayed open.',
  },

  // SLIs over a sliding in-process window (see slo.* in the configuration)
  sliAvailability: {
    name: 'vigil_sli_availability_ratio', type: 'gauge', labels: [], aggregate: 'first', weightedBy: 'availability',
    help: 'Share of requests in the SLI window not failed by a gateway-side fault.',
  },
  sliLatency: {
    name: 'vigil_sli_latency_ratio', type: 'gauge', labels: [], aggregate: 'first', weightedBy: 'latency',
    help: 'Share of proxied requests in the SLI window whose gateway-added latency was within slo.latency_budget_ms.',
  },
  sliSecurity: {
    name: 'vigil_sli_security_ratio', type: 'gauge', labels: [], aggregate: 'first', weightedBy: 'security',
    help: 'Share of requests in the SLI window without a security violation (today: a presented but invalid gateway key).',
  },

  sliEvents: {
    name: 'vigil_sli_events', type: 'gauge', labels: ['sli'], aggregate: 'sum',
    help: 'Events in the SLI window each vigil_sli_*_ratio is over, by sli: requests (availability, security), proxied requests (latency). Across workers each ratio is weighted by it.',
  },

  // Store
  storeQueryDuration: {
    name: 'vigil_store_query_duration_seconds', type: 'histogram', labels: ['store', 'operation'], buckets: STORE_BUCKETS,
    help: 'Time of store operations, by store (sqlite, postgres, redis) and operation: insert_batch (a chunk of usage records), checkpoint (the SQLite log copied into the database file, on its own thread), ping, key_refresh, audit_insert, counter (a Redis script).',
  },
  storeConnections: {
    name: 'vigil_store_connections', type: 'gauge', labels: ['store', 'state'], aggregate: 'sum',
    help: 'Store connections by state: open (SQLite, 1 when the file is open); total, idle and waiting (PostgreSQL pool; waiting counts queries queued for a connection).',
  },
  storeWalBytes: {
    name: 'vigil_store_wal_bytes', type: 'gauge', labels: ['store'], aggregate: 'max',
    help: 'Size of the SQLite write-ahead log; steady growth means checkpoints are held back.',
  },
  usageQueue: {
    name: 'vigil_usage_records_queued', type: 'gauge', labels: [], aggregate: 'sum',
    help: 'Usage records waiting to be written to the store.',
  },
  usageDropped: {
    name: 'vigil_usage_records_dropped_total', type: 'counter', labels: [],
    help: 'Usage records given up on: rejected by the store schema, or beyond the queue bound while the store was failing.',
  },

  // Telemetry about telemetry
  otlpDropped: {
    name: 'vigil_otlp_export_dropped_total', type: 'counter', labels: ['signal', 'reason'],
    help: 'Records never delivered over OTLP, by signal (traces, logs, metrics) and reason (queue_full, export_failed, rejected by the collector).',
  },
  seriesOverflow: {
    name: 'vigil_metric_series_overflow_total', type: 'counter', labels: ['metric'],
    help: 'Observations folded into the "other" series because a metric reached its series cap.',
  },

  // Process and Node.js runtime: a deliberate few, all read at scrape time or from cheap observers.
  processCpu: {
    name: 'process_cpu_seconds_total', type: 'counter', labels: [],
    help: 'User and system CPU time spent by the process.',
  },
  processResidentMemory: {
    name: 'process_resident_memory_bytes', type: 'gauge', labels: [], aggregate: 'sum',
    help: 'Resident set size of the process.',
  },
  processStartTime: {
    name: 'process_start_time_seconds', type: 'gauge', labels: [], aggregate: 'min',
    help: 'Start time of the process since the Unix epoch.',
  },
  heapUsed: {
    name: 'nodejs_heap_size_used_bytes', type: 'gauge', labels: [], aggregate: 'max',
    help: 'V8 heap in use (prom-client\'s default name, so stock Node.js dashboards read it).',
  },
  heapLimit: {
    name: 'nodejs_heap_limit_bytes', type: 'gauge', labels: [], aggregate: 'max',
    help: 'V8 heap size limit; heap used approaching it precedes out-of-memory crashes.',
  },
  eventLoopLag: {
    name: 'nodejs_eventloop_lag_p99_seconds', type: 'gauge', labels: [], aggregate: 'max',
    help: '99th percentile event-loop delay since the previous scrape; every request waits this long at worst.',
  },
  gcDuration: {
    name: 'nodejs_gc_duration_seconds', type: 'histogram', labels: ['kind'], buckets: GC_BUCKETS,
    help: 'Garbage-collection pauses by kind: minor, major, incremental, weakcb.',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof CATALOG;
