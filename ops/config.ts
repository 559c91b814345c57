// Every SLO target, alert threshold and `for:` of Vigil's rules, with the seeds' defaults, in one typed
// object. `thresholds` and `for` mirror the Helm chart's `alerting.thresholds` / `alerting.for` (seed
// 000's names where a seed has one): the chart's rule files read those values, the plain files carry
// these defaults, and a test checks that both agree. The rest is fixed per deployment (bucket bounds
// must match the binary's histograms), so `vigil rules render --config` takes it from vigil.yaml.

export interface OpsConfig {
  /** Alerts link here: `${runbookBaseUrl}<AlertName>.md` and `${dashboardBaseUrl}<uid>`. */
  links: { runbookBaseUrl: string; dashboardBaseUrl: string };
  /** Which series are Vigil's: scrape jobs (for `up`), pods (kube-state-metrics), API routes (SLOs). */
  selectors: { job: string; pod: string; apiRoutes: string };
  /** Gateway-added latency at or under this is good (an upper bound of vigil_gateway_overhead_seconds). */
  latencyBudgetSeconds: number;
  /** An LLM call at or under this is fast (an upper bound of vigil_llm_call_duration_seconds). */
  llmLatencySeconds: number;
  /** APDEX on vigil_http_request_duration_seconds (seed 001): both must be bucket bounds. */
  apdex: { satisfiedSeconds: number; toleratingSeconds: number };
  thresholds: typeof THRESHOLDS;
  for: typeof FOR;
}

const THRESHOLDS = {
  // SLO targets (the share of good events over 30 days).
  availability: 0.999, // requests not failed by the gateway itself
  upstreamAvailability: 0.99, // requests not failed by an upstream provider
  latency: 0.95, // proxied requests whose gateway-added time is within budget
  /** Low-traffic guard: burn-rate alerts need at least this many API requests/s over the last hour. */
  sloMinRequestRate: 0.1,
  errorBudgetLow: 0.2,
  errorBudgetExhausted: 0.05,
  // Seed alerts.
  errorRate: 0.05, // 5xx share of API requests (seed 000 HighErrorRate)
  upstreamErrorsPerSec: 5, // provider-side failed calls/s (seed 000 UpstreamErrors)
  upstreamErrorRate: 0.1, // per-provider share of failed calls (seed 000 AegisUpstreamErrorRate)
  llmLatencyP99: 30, // seconds, per provider and model (seed 004 MetisLLMCallLatencyP99High)
  upstream429Ratio: 0.01, // share of upstream answers that are 429 (seed 002)
  overheadP99: 0.05, // seconds of gateway-added time at p99 (seed 001 high latency, for the gateway's own part)
  // Access and spend (issue 26).
  authFailuresPerSec: 0.1, // failed authentications/s of one reason (seed 004 MetisGatewayAuthFailureRateHigh)
  bruteForcePerMin: 20, // failed authentications per minute, all reasons (seed 000 BruteForceDetected)
  identityCostPerHour: 10, // US dollars per hour per gateway key (seed 004 MetisGatewayKeyCostSpike)
  quotaUsedRatio: 0.9, // spent + reserved over a budget, per identity and period
  rateLimitRejectedRatio: 0.1, // share of rate-limit checks rejected, per scope
  // Routing and resilience (issue 27).
  fallbackRatio: 0.05, // fallbacks out of an alias per attempt routed on it
  retryRatio: 0.2, // retries per upstream attempt, all aliases
  // API surface and fidelity (issue 28).
  refusalRatio: 0.05, // requests refused for one untranslatable field, per API request
  drainCappedRatio: 0.1, // drains after a client disconnect cut by their cap, per drain
  walMiB: 64, // SQLite WAL size that, still growing, means checkpoints are held back (seed 004)
  eventLoopLagSeconds: 0.2, // p99 event-loop delay
  heapUsedRatio: 0.9, // V8 heap used / heap limit (seed 001 PodHighMemory's 0.9)
  upstreamQueueWaitP99: 1, // seconds calls wait for a provider connection, p99
  podRestartsPerHour: 3, // seed 000 PodRestarting
};

const FOR = {
  critical: '5m',
  warning: '5m',
  bruteForce: '2m',
  gatewayDown: '1m',
  /** Burn-rate pairs already average over their short window; Pyrra waits 2m (page) and 15m (ticket). */
  sloPage: '2m',
  sloTicket: '15m',
  absent: '10m',
  noTraffic: '15m',
  /** Slow signals (cost, WAL, telemetry loss): long enough that a burst does not open a ticket. */
  sustained: '15m',
  /** A client retrying with a bad key for a few minutes is not yet a ticket. */
  authFailures: '10m',
  keyCost: '10m',
  /** Redis reconnects within seconds after a restart; minutes of fallback counting are worth a ticket. */
  redisDegraded: '3m',
  /** Long enough that a gateway started before its first key is issued does not notify. */
  gatewayOpen: '15m',
  /** A breaker open longer than its cooldown (30 s) and a trial or two: the deployment is still failing. */
  breakerOpen: '2m',
  /** Requests to the alias get 503 (or its fallbacks) right now: page quickly. */
  aliasUnroutable: '1m',
  /** Fallbacks and retries ride out short upstream blips by design; ten minutes of them is a ticket. */
  fallbackRate: '10m',
  retryStorm: '10m',
};

export const DEFAULT_CONFIG: OpsConfig = {
  links: {
    runbookBaseUrl: 'https://github.com/vigil-gateway/vigil/blob/main/docs/runbooks/',
    dashboardBaseUrl: 'http://grafana.local/d/',
  },
  selectors: { job: '.*vigil.*', pod: '.*vigil.*', apiRoutes: '/v1/.+' },
  latencyBudgetSeconds: 0.01,
  llmLatencySeconds: 30,
  apdex: { satisfiedSeconds: 0.25, toleratingSeconds: 1 },
  thresholds: THRESHOLDS,
  for: FOR,
};

export type ThresholdKey = keyof typeof THRESHOLDS;
export type ForKey = keyof typeof FOR;

/** Dashboards alerts point at (uids of the dashboards-as-code generator, issue 25). */
export const DASHBOARDS = {
  overview: 'vigil-overview',
  red: 'vigil-red',
  slo: 'vigil-slo',
  llm: 'vigil-llm',
  cost: 'vigil-cost',
  runtime: 'vigil-runtime',
  logs: 'vigil-logs',
  access: 'vigil-access',
  routing: 'vigil-routing',
  api: 'vigil-api',
} as const;
export type Dashboard = keyof typeof DASHBOARDS;
