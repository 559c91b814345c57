// Typed recorders: the only way the gateway touches metrics. Label children are cached by their label
// values, because prom-client re-hashes labels on every inc()/observe() and labels() does not cache.
import type { RequestContext } from '../../core/context.ts';
import type { Metrics } from './registry.ts';

interface Child { inc(value?: number): void; dec?(value?: number): void; observe?(value: number): void }

export interface RecorderOptions {
  version: string;
  commit: string;
  /** Configured public model names; anything else is recorded as `other`. */
  models: Iterable<string>;
}

export class Recorder {
  readonly #m: Metrics['instruments'];
  readonly #children = new Map<object, Map<string, Child>>();
  readonly #models: Set<string>;

  constructor(metrics: Metrics, options: RecorderOptions) {
    this.#m = metrics.instruments;
    this.#models = new Set(options.models);
    this.#m.buildInfo.labels(options.version, process.versions.node, options.commit).set(1);
  }

  #child(metric: { labels(...values: string[]): unknown }, values: string[]): Child {
    let children = this.#children.get(metric);
    if (!children) this.#children.set(metric, (children = new Map()));
    const key = values.join('\u0000');
    let child = children.get(key);
    if (!child) {
      child = metric.labels(...values) as Child;
      children.set(key, child);
    }
    return child;
  }

  requestStarted(route: string): void {
    this.#child(this.#m.httpInFlight, [route]).inc();
  }

  /** A request outside the pipeline (health, metrics): RED only. */
  requestServed(route: string, method: string, status: number, durationSeconds: number): void {
    this.#child(this.#m.httpRequests, [route, method, String(status)]).inc();
    this.#child(this.#m.httpDuration, [route, method]).observe!(durationSeconds);
  }

  /** Everything about one request, recorded once at finish. */
  requestFinished(ctx: RequestContext, durationSeconds: number): void {
    const m = this.#m;
    this.#child(m.httpInFlight, [ctx.route]).dec!();
    this.requestServed(ctx.route, ctx.method, ctx.status, durationSeconds);

    if (!ctx.target || ctx.upstreamStartedAt < 0) return; // no upstream call was made
    const provider = ctx.target.providerId;
    const model = this.#models.has(ctx.target.name) ? ctx.target.name : 'other';
    const status = ctx.error ? ctx.error.errorClass : 'ok';
    this.#child(m.llmCalls, [provider, model, status]).inc();
    if (ctx.error) this.#child(m.llmErrors, [provider, model, status]).inc();
    this.#child(m.llmDuration, [provider, model]).observe!(durationSeconds - ctx.upstreamStartedAt / 1000);
    const usage = ctx.usage;
    if (usage.inputTokens) this.#child(m.llmTokens, [provider, model, 'input']).inc(usage.inputTokens);
    if (usage.outputTokens) this.#child(m.llmTokens, [provider, model, 'output']).inc(usage.outputTokens);
    if (usage.cachedInputTokens) this.#child(m.llmTokens, [provider, model, 'cached_input']).inc(usage.cachedInputTokens);
  }
}
