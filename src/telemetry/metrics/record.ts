// Typed recorders: the only way the gateway touches metrics. Label children are cached by their label
// values, because prom-client re-hashes labels on every inc()/observe() and labels() does not cache.
// Every series then waits in plain numbers and is handed to prom-client when the metric is read (its
// collect hook, on every scrape and cluster poll): increments are summed, and histogram observations
// counted per bucket, so a request pays an addition where prom-client re-hashes the label set and looks
// each bucket up by a number-keyed property (the decision table in BENCHMARKS.md has the measurement).
// Each metric has a series cap: past it, new label sets fold into one all-`other` series, counted.
import { Gauge, Histogram } from 'prom-client';
import type { BreakerState } from '../../core/alias.ts';
import type { Attempt } from '../../core/attempt.ts';
import { TranslationRefusal } from '../../core/canonical.ts';
import { outcomeOf, type ErrorCode, type Outcome } from '../../core/errors.ts';
import type { RequestContext } from '../../core/context.ts';
import type { SliWindow } from '../sli.ts';
import type { Metrics } from './registry.ts';

interface Child { inc(value?: number): void; dec(value?: number): void; observe(value: number): void; set(value: number): void }
/** A series whose updates wait in plain numbers until flush() hands them to prom-client. */
interface Waiting extends Child { flush(): void }
interface Labelled { labels(...values: string[]): unknown }

export interface RecorderOptions {
  version: string;
  commit: string;
  /** Configured public model names; anything else is recorded as `other`. */
  models: Iterable<string>;
  /** Distinct label sets per metric before new ones fold into `other`. */
  maxSeriesPerMetric?: number;
  /** Opt-in per-identity cost series (one per gateway key). */
  identityCost?: boolean;
  sli?: SliWindow;
}

const DEFAULT_MAX_SERIES = 2000;

const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

const INDEX = /\[\d+\]/g;

/** The `api` label: the API a request used, from its route (one entry per modelled API; unmatched → other). */
const APIS: Record<string, string> = {
  '/v1/chat/completions': 'chat', '/v1/messages': 'messages', '/v1/responses': 'responses', '/v1/messages/count_tokens': 'count_tokens',
  '/v1/responses/input_tokens': 'count_tokens', '/v1/completions': 'completions', '/v1/embeddings': 'embeddings', '/v1/models': 'models',
  '/v1/models/{model}': 'models',
};

function apiOf(ctx: RequestContext): string {
  const api = APIS[ctx.route];
  if (api) return api;
  if (ctx.operation === 'passthrough') return 'passthrough';
  return ctx.operation === 'admin' ? 'admin' : 'other';
}

/** The `reason` label of vigil_auth_failures_total, by error code; other auth codes (blocked, admin) are not key failures. */
const AUTH_FAILURE_REASONS: Partial<Record<ErrorCode, string>> = {
  GW_AUTH_MISSING_KEY: 'missing_key',
  GW_AUTH_INVALID_KEY: 'invalid_key',
  GW_AUTH_KEY_REVOKED: 'key_revoked',
  GW_AUTH_KEY_EXPIRED: 'key_expired',
  GW_AUTH_MODEL_NOT_ALLOWED: 'model_not_allowed',
};

export class Recorder {
  readonly #m: Metrics['instruments'];
  /** Bound series by metric, then by each label value in turn (no key string is built per call). */
  readonly #children = new Map<Labelled, SeriesIndex>();
  /** Every bound series, by metric: what each flushes into prom-client when the metric is read. */
  readonly #pending = new Map<Labelled, Waiting[]>();
  readonly #models: Set<string>;
  readonly #maxSeries: number;
  readonly #identityCost: boolean;
  readonly #sli: SliWindow | undefined;

  constructor(metrics: Metrics, options: RecorderOptions) {
    this.#m = metrics.instruments;
    this.#models = new Set(options.models);
    this.#maxSeries = options.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES;
    this.#identityCost = options.identityCost ?? true;
    this.#sli = options.sli;
    this.#m.buildInfo.labels(options.version, process.versions.node, options.commit).set(1);
  }

  #child(metric: Labelled, values: string[]): Child {
    let index = this.#children.get(metric);
    if (!index) {
      index = { size: 0, root: new Map() };
      this.#children.set(metric, index);
    }
    const child = find(index.root, values);
    if (child) return child;
    if (index.size >= this.#maxSeries) return this.#overflow(metric, index, values);
    index.size++;
    return add(index.root, values, this.#bind(metric, values));
  }

  #overflow(metric: Labelled, index: SeriesIndex, values: string[]): Child {
    this.#child(this.#m.seriesOverflow, [(metric as unknown as { name: string }).name]).inc();
    const other = values.map(() => 'other');
    return find(index.root, other) ?? add(index.root, other, this.#bind(metric, other));
  }

  #bind(metric: Labelled, values: string[]): Child {
    let series: Waiting;
    if (metric instanceof Histogram) {
      series = new PendingHistogram(metric, values);
    } else {
      const child = metric.labels(...values) as Child;
      // A gauge series exists from its first use, as it would with a direct inc(), even if it is back to 0 when read.
      if (metric instanceof Gauge) child.inc(0);
      series = new Pending(child);
    }
    let pending = this.#pending.get(metric);
    if (!pending) {
      const list: Waiting[] = [];
      pending = list;
      this.#pending.set(metric, list);
      // Chained: telemetry/metrics/collect.ts may hook the same metric.
      const hooked = metric as { collect?: () => unknown };
      const previous = hooked.collect;
      hooked.collect = () => {
        for (const series of list) series.flush();
        return previous?.call(metric);
      };
    }
    pending.push(series);
    return series;
  }

  requestStarted(route: string): void {
    this.#child(this.#m.httpInFlight, [route]).inc();
  }

  connectionOpened(): void {
    this.#m.clientConnections.inc();
  }

  connectionClosed(): void {
    this.#m.clientConnections.dec();
  }

  streamStarted(route: string): void {
    this.#child(this.#m.streamsActive, [route]).inc();
  }

  /** A request outside the pipeline (health, metrics): RED only. */
  requestServed(route: string, method: string, status: number, durationSeconds: number, outcome: Outcome = outcomeOf(undefined, status)): void {
    this.#child(this.#m.httpRequests, [route, method, String(status), outcome]).inc();
    this.#child(this.#m.httpDuration, [route, method]).observe(durationSeconds);
  }

  /** Records OTLP export gave up on (a full queue, a failed export) or a collector rejected (partial success). */
  otlpDropped(signal: 'traces' | 'logs' | 'metrics', reason: 'queue_full' | 'export_failed' | 'rejected', count: number): void {
    this.#child(this.#m.otlpDropped, [signal, reason]).inc(count);
  }

  /** A call began waiting for a connection to `provider` (routing/upstream-queue.ts). */
  upstreamQueued(provider: string): void {
    this.#child(this.#m.upstreamQueueDepth, [provider]).inc();
  }

  /** It stopped waiting: it got a connection, gave up, or was cancelled. */
  upstreamDequeued(provider: string, seconds: number): void {
    this.#child(this.#m.upstreamQueueDepth, [provider]).dec();
    this.#child(this.#m.upstreamQueueWait, [provider]).observe(seconds);
  }

  /** The brute-force guard slowed or refused an answer (policy/brute-force.ts). */
  authBlocked(action: 'delayed' | 'blocked'): void {
    this.#child(this.#m.authBlocked, [action]).inc();
  }

  /** One limit checked for one request: `scope` rpm, tpm, parallel or address. */
  rateLimitChecked(scope: 'rpm' | 'tpm' | 'parallel' | 'address', result: 'allowed' | 'rejected' | 'degraded'): void {
    this.#child(this.#m.rateLimitChecks, [scope, result]).inc();
  }

  budgetExceeded(scope: 'key' | 'user' | 'team', period: 'day' | 'month'): void {
    this.#child(this.#m.budgetExceeded, [scope, period]).inc();
  }

  /** Spent plus reserved over the budget of one identity, after an admission or a settlement (series capped like any other). */
  quotaUsed(kind: 'key' | 'user' | 'team', id: string, period: 'day' | 'month', ratio: number): void {
    this.#child(this.#m.quotaUsed, [kind, id, period]).set(ratio);
  }

  auditRecorded(type: string): void {
    this.#child(this.#m.auditEvents, [type]).inc();
  }

  /** The router chose `deployment` of alias `model` for an attempt, in `seconds`. */
  routed(model: string, deployment: string, strategy: string, seconds: number): void {
    this.#child(this.#m.routingDecisions, [this.#modelLabel(model), deployment, strategy]).inc();
    this.#m.routingDuration.observe(seconds);
  }

  retried(model: string, reason: string): void {
    this.#child(this.#m.retries, [this.#modelLabel(model), reason]).inc();
  }

  fellBack(from: string, to: string, reason: string): void {
    this.#child(this.#m.fallbacks, [this.#modelLabel(from), this.#modelLabel(to), reason]).inc();
  }

  /** A deployment's breaker as it starts (closed): its state series exists from start-up, no transition counted. */
  breakerKnown(deployment: string): void {
    this.#child(this.#m.breakerState, [deployment]).set(0);
  }

  breakerChanged(deployment: string, state: BreakerState): void {
    this.#child(this.#m.breakerState, [deployment]).set(state);
    this.#child(this.#m.breakerTransitions, [deployment, BREAKER_STATES[state]]).inc();
  }

  cacheLookup(model: string, result: 'hit' | 'miss' | 'bypass'): void {
    this.#child(this.#m.cacheLookups, [this.#modelLabel(model), result]).inc();
  }

  /** A request refused because `field` cannot be translated faithfully (surfaces' translation table). */
  translationRefused(field: string): void {
    this.#child(this.#m.translationRefusals, [field]).inc();
  }

  /** A stream read on after its client left: to its end, or cut by upstream.disconnect_drain. */
  streamDrained(result: 'complete' | 'capped'): void {
    this.#child(this.#m.streamDrains, [result]).inc();
    if (result === 'capped') this.#m.partialUsage.inc();
  }

  passthroughBytes(provider: string, direction: 'request' | 'response', bytes: number): void {
    this.#child(this.#m.passthroughBytes, [provider, direction]).inc(bytes);
  }

  storeOperation(store: string, operation: string, seconds: number): void {
    this.#child(this.#m.storeQueryDuration, [store, operation]).observe(seconds);
  }

  /** Everything about one pipeline request, recorded once at finish: the request once, the LLM calls per attempt. */
  requestFinished(ctx: RequestContext, durationSeconds: number): void {
    const m = this.#m;
    this.#child(m.httpInFlight, [ctx.route]).dec();
    const error = ctx.error;
    const outcome = outcomeOf(error, ctx.status);
    this.requestServed(ctx.route, ctx.method, ctx.status, durationSeconds, outcome);
    this.#child(m.apiRequests, [apiOf(ctx), outcome]).inc();
    // A 400 naming a field the target cannot take faithfully: the translation table's row (`(unknown)` for a
    // field it does not list), or the param with its indices folded (`tools[].type`), so the label stays a
    // closed list.
    if (error instanceof TranslationRefusal) this.translationRefused(error.field);
    else if (error?.code === 'GW_REQUEST_UNSUPPORTED' && error.param) this.translationRefused(error.param.replace(INDEX, '[]'));
    const authReason = error && AUTH_FAILURE_REASONS[error.code];
    if (authReason) this.#child(m.authFailures, [authReason]).inc();
    if (ctx.streamStartedAt >= 0) {
      this.#child(m.streamsActive, [ctx.route]).dec();
      this.#child(m.streamDuration, [ctx.route]).observe(durationSeconds - ctx.streamStartedAt / 1000);
    }

    if (ctx.attempts.length > 0) this.#child(m.requestAttempts, [ctx.route]).observe(ctx.attempts.length);
    const upstreamSeconds = this.#recordAttempts(ctx, durationSeconds);
    const overhead = upstreamSeconds === undefined ? undefined : Math.max(0, durationSeconds - upstreamSeconds);
    if (overhead !== undefined) this.#child(m.gatewayOverhead, [ctx.route]).observe(overhead);
    this.#sli?.record(error?.status ?? ctx.status, error, overhead);
  }

  /**
   * The LLM-call metrics, once per attempt that went out, and the answer's tool calls and billed spend once
   * per request. Returns the time spent upstream in seconds, undefined when no attempt went out.
   */
  #recordAttempts(ctx: RequestContext, durationSeconds: number): number | undefined {
    const untilMs = durationSeconds * 1000;
    const upstreamMs = ctx.upstreamMs(untilMs);
    if (upstreamMs < 0) return undefined;
    for (const attempt of ctx.attempts) if (attempt.started) this.#recordAttempt(attempt, untilMs);
    const last = ctx.attempt!;
    const m = this.#m;
    if (this.#identityCost && ctx.costUsd > 0) this.#child(m.identityCost, [ctx.principal.id]).inc(ctx.costUsd); // what the request is billed
    if (ctx.toolCalls.length > 0) {
      const provider = last.target.providerId;
      const model = this.#modelLabel(last.target.name);
      for (const tool of ctx.toolCalls) this.#child(m.llmToolCalls, [provider, model, tool]).inc();
    }
    return upstreamMs / 1000;
  }

  #recordAttempt(attempt: Attempt, untilMs: number): void {
    const m = this.#m;
    const provider = attempt.target.providerId;
    const model = this.#modelLabel(attempt.target.name);
    const error = attempt.error;
    this.#child(m.llmCalls, [provider, model, outcomeOf(error)]).inc();
    if (error) this.#child(m.llmErrors, [provider, model, error.errorClass]).inc();
    if (attempt.status > 0) this.#child(m.upstreamResponses, [provider, String(attempt.status)]).inc();

    const durationMs = attempt.durationMs(untilMs);
    this.#child(m.llmDuration, [provider, model]).observe(durationMs / 1000);

    const usage = attempt.usage;
    if (usage.inputTokens) this.#child(m.llmTokens, [provider, model, 'input']).inc(usage.inputTokens);
    if (usage.outputTokens) this.#child(m.llmTokens, [provider, model, 'output']).inc(usage.outputTokens);
    if (usage.cachedInputTokens) this.#child(m.llmTokens, [provider, model, 'cached_input']).inc(usage.cachedInputTokens);
    if (usage.cacheWriteTokens) this.#child(m.llmTokens, [provider, model, 'cache_write']).inc(usage.cacheWriteTokens);
    if (attempt.costUsd > 0) this.#child(m.llmCost, [provider, model]).inc(attempt.costUsd);
    else if (!attempt.target.pricing && (usage.inputTokens || usage.outputTokens)) this.#child(m.unpricedCalls, [provider, model]).inc();

    if (attempt.firstTokenAt >= 0) {
      this.#child(m.llmTimeToFirstToken, [provider, model]).observe((attempt.firstTokenAt - attempt.startedAt) / 1000);
      if (usage.outputTokens > 1) {
        const perToken = (attempt.endMs(untilMs) - attempt.firstTokenAt) / 1000 / (usage.outputTokens - 1);
        this.#child(m.llmTimePerOutputToken, [provider, model]).observe(perToken);
      }
    }
  }

  #modelLabel(name: string): string {
    return this.#models.has(name) ? name : 'other';
  }
}

/** A metric's series as a tree of label values, leaves the series; `size` counts the leaves. */
interface SeriesIndex { size: number; root: Map<string, unknown> }

function find(root: Map<string, unknown>, values: string[]): Child | undefined {
  let node: unknown = root;
  for (let i = 0; i < values.length && node !== undefined; i++) node = (node as Map<string, unknown>).get(values[i]);
  return node as Child | undefined;
}

function add(root: Map<string, unknown>, values: string[], child: Child): Child {
  let node = root;
  for (let i = 0; i < values.length - 1; i++) {
    let next = node.get(values[i]) as Map<string, unknown> | undefined;
    if (!next) {
      next = new Map();
      node.set(values[i], next);
    }
    node = next;
  }
  node.set(values[values.length - 1], child);
  return child;
}

/** A counter or gauge series whose increments wait in a number until the metric is read. */
class Pending implements Waiting {
  readonly #target: Child;
  #delta = 0;

  constructor(target: Child) {
    this.#target = target;
  }

  inc(value = 1): void {
    this.#delta += value;
  }

  dec(value = 1): void {
    this.#delta -= value;
  }

  set(value: number): void {
    this.#delta = 0;
    this.#target.set(value);
  }

  observe(): void {
    throw new Error('observe() on a counter or gauge');
  }

  flush(): void {
    if (this.#delta === 0) return;
    const delta = this.#delta;
    this.#delta = 0;
    if (delta > 0) this.#target.inc(delta);
    else this.#target.dec(-delta); // gauges only: counters never go down
  }
}

/** prom-client's record of one histogram series (lib/histogram.js, pinned in package-lock.json). */
interface HistogramEntry { labels: Record<string, string>; bucketValues: Record<number, number>; sum: number; count: number }

/**
 * A histogram series whose observations wait as per-bucket counts until the metric is read. The series is
 * made by prom-client's own zero(); its record is then found by the labels object, the only way in, and
 * a test checks the exposition against prom-client observing the same values itself.
 */
class PendingHistogram implements Waiting {
  readonly #entry: HistogramEntry;
  readonly #bounds: readonly number[];
  /** One count per bucket bound, plus one past the last (counted in +Inf only, as prom-client does). */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(metric: Histogram, values: string[]) {
    const internal = metric as unknown as { labelNames: string[]; upperBounds: number[]; hashMap: Record<string, HistogramEntry> };
    const labels: Record<string, string> = {};
    internal.labelNames.forEach((name, i) => {
      labels[name] = values[i];
    });
    metric.zero(labels);
    const entry = Object.values(internal.hashMap).find((e) => e.labels === labels);
    if (!entry) throw new Error(`prom-client histogram ${(metric as unknown as { name: string }).name}: series record not found`);
    this.#entry = entry;
    this.#bounds = internal.upperBounds;
    this.#counts = new Float64Array(this.#bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return; // prom-client would throw; a bad duration must not fail the request
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.#counts[i]++;
    this.#sum += value;
    this.#count++;
  }

  inc(): void {
    throw new Error('inc() on a histogram');
  }

  dec(): void {
    throw new Error('dec() on a histogram');
  }

  set(): void {
    throw new Error('set() on a histogram');
  }

  flush(): void {
    if (this.#count === 0) return;
    const bounds = this.#bounds, counts = this.#counts, entry = this.#entry;
    for (let i = 0; i < bounds.length; i++) {
      if (counts[i] !== 0) entry.bucketValues[bounds[i]] += counts[i];
    }
    counts.fill(0);
    entry.sum += this.#sum;
    entry.count += this.#count;
    this.#sum = 0;
    this.#count = 0;
  }
}
