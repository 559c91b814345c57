// Service-level indicators over a sliding window, computed in-process so a single scrape (or a human with
// curl) sees current availability, latency and security ratios without a Prometheus query.
// The window is a ring of one-second buckets: recording is O(1) and the read sums at most window_seconds.
import { ERROR_CLASSES, type GatewayError } from '../core/errors.ts';

export interface SliOptions {
  windowSeconds: number;
  /** Gateway-added latency at or under this counts as good. */
  latencyBudgetSeconds: number;
  now?: () => number;
}

export interface SliRatios {
  availability: number;
  latency: number;
  security: number;
  /** The events each ratio is over (requests; proxied requests for latency): its weight across workers. */
  requests: number;
  proxied: number;
}

/** Per-second counts: total, failed by the gateway, proxied, proxied within budget, security violations. */
const FIELDS = 5;

export class SliWindow {
  readonly #buckets: Float64Array;
  readonly #stamps: Float64Array;
  readonly #window: number;
  readonly #budget: number;
  readonly #now: () => number;

  constructor(options: SliOptions) {
    this.#window = options.windowSeconds;
    this.#budget = options.latencyBudgetSeconds;
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.#buckets = new Float64Array(this.#window * FIELDS);
    this.#stamps = new Float64Array(this.#window).fill(-1);
  }

  record(status: number, error: GatewayError | undefined, overheadSeconds: number | undefined): void {
    const second = Math.floor(this.#now());
    const slot = second % this.#window;
    if (this.#stamps[slot] !== second) {
      this.#stamps[slot] = second;
      this.#buckets.fill(0, slot * FIELDS, slot * FIELDS + FIELDS);
    }
    const at = slot * FIELDS;
    this.#buckets[at] += 1;
    if (error && status >= 500 && ERROR_CLASSES[error.errorClass] === 'gateway') this.#buckets[at + 1] += 1;
    if (overheadSeconds !== undefined) {
      this.#buckets[at + 2] += 1;
      if (overheadSeconds <= this.#budget) this.#buckets[at + 3] += 1;
    }
    if (error?.code === 'GW_AUTH_INVALID_KEY') this.#buckets[at + 4] += 1;
  }

  /** Ratios over the window; 1 when there was no traffic (no evidence of a bad experience). */
  ratios(): SliRatios {
    const oldest = Math.floor(this.#now()) - this.#window + 1;
    let total = 0, failed = 0, proxied = 0, fast = 0, violations = 0;
    for (let slot = 0; slot < this.#window; slot++) {
      if (this.#stamps[slot] < oldest) continue;
      const at = slot * FIELDS;
      total += this.#buckets[at];
      failed += this.#buckets[at + 1];
      proxied += this.#buckets[at + 2];
      fast += this.#buckets[at + 3];
      violations += this.#buckets[at + 4];
    }
    return {
      availability: total ? 1 - failed / total : 1,
      latency: proxied ? fast / proxied : 1,
      security: total ? 1 - violations / total : 1,
      requests: total,
      proxied,
    };
  }
}
