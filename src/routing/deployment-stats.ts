// What selection reads about each deployment in this process: attempts in flight (least_in_flight routes on
// it, max_parallel caps it) and an EWMA of time to first byte (lowest_latency). One record per deployment
// id, shared by every alias that routes to it, made at start-up so a request only reads and bumps numbers.

/** Weight of the newest sample in the moving average: about the last ten attempts count. */
const EWMA_ALPHA = 0.2;

export class DeploymentStat {
  readonly id: string;
  inFlight = 0;
  /** ms; -1 until the first attempt answered (lowest_latency tries such deployments first). */
  ttfbMs = -1;

  constructor(id: string) {
    this.id = id;
  }

  /** An attempt answered after `ms` (its first byte, for a stream). */
  observe(ms: number): void {
    this.ttfbMs = this.ttfbMs < 0 ? ms : this.ttfbMs + EWMA_ALPHA * (ms - this.ttfbMs);
  }

  /** Whether one more attempt fits under `maxParallel` (undefined: unbounded). */
  admits(maxParallel: number | undefined): boolean {
    return maxParallel === undefined || this.inFlight < maxParallel;
  }
}

export class DeploymentStats {
  readonly #byId = new Map<string, DeploymentStat>();

  /** The record of deployment `id`, made on first ask (at start-up, by the route table). */
  of(id: string): DeploymentStat {
    let stat = this.#byId.get(id);
    if (!stat) {
      stat = new DeploymentStat(id);
      this.#byId.set(id, stat);
    }
    return stat;
  }

  /** Every deployment's record, for readiness and tests. */
  all(): IterableIterator<DeploymentStat> {
    return this.#byId.values();
  }
}
