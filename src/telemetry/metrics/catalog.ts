// THE list of metrics Vigil exports. Nothing else declares a metric: the registry, the recorders and
// docs/metrics.md are built from this table. Families arrive here together with the feature that fills them.

export const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const LLM_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

export interface MetricSpec {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

export const CATALOG = {
  buildInfo: {
    name: 'vigil_build_info', type: 'gauge', labels: ['version', 'node_version', 'commit'],
    help: 'Always 1; labels identify the running build.',
  },
  httpRequests: {
    name: 'vigil_http_requests_total', type: 'counter', labels: ['route', 'method', 'status'],
    help: 'HTTP requests answered, by route template, method and status code.',
  },
  httpDuration: {
    name: 'vigil_http_request_duration_seconds', type: 'histogram', labels: ['route', 'method'], buckets: HTTP_BUCKETS,
    help: 'Time from accepting a request to its last byte, streams included.',
  },
  httpInFlight: {
    name: 'vigil_http_requests_in_flight', type: 'gauge', labels: ['route'],
    help: 'Requests accepted and not yet finished.',
  },
  llmCalls: {
    name: 'vigil_llm_calls_total', type: 'counter', labels: ['provider', 'model', 'status'],
    help: 'Calls to an upstream model; status is "ok" or the error class.',
  },
  llmErrors: {
    name: 'vigil_llm_call_errors_total', type: 'counter', labels: ['provider', 'model', 'error_class'],
    help: 'Failed upstream model calls by error class (the failure-only slice of vigil_llm_calls_total).',
  },
  llmDuration: {
    name: 'vigil_llm_call_duration_seconds', type: 'histogram', labels: ['provider', 'model'], buckets: LLM_BUCKETS,
    help: 'Upstream call time, from sending the request to the last byte of the answer, success and failure.',
  },
  llmTokens: {
    name: 'vigil_llm_tokens_total', type: 'counter', labels: ['provider', 'model', 'type'],
    help: 'Tokens reported by the provider, by type: input, output, cached_input (a subset of input).',
  },
} as const satisfies Record<string, MetricSpec>;
