// The outcomes (successes and failures) of one deployment over the last window_ms, for its circuit breaker.
// A ring of BUCKETS buckets, each window_ms / BUCKETS wide (1 s for the default 30 s window): adding and
// reading are O(1) amortised and allocate nothing, as they run on every attempt. An outcome leaves the
// window with its bucket, so it counts for between window_ms − one bucket and window_ms.

const BUCKETS = 30;

export class OutcomeWindow {
  readonly #windowMs: number;
  readonly #successes = new Uint32Array(BUCKETS);
  readonly #failures = new Uint32Array(BUCKETS);
  /** Index (time / bucket width, floored) of the newest bucket the ring holds. */
  #head = Number.NEGATIVE_INFINITY;
  #successTotal = 0;
  #failureTotal = 0;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  add(now: number, failed: boolean): void {
    this.#advance(now);
    const slot = this.#head % BUCKETS;
    if (failed) {
      this.#failures[slot]++;
      this.#failureTotal++;
    } else {
      this.#successes[slot]++;
      this.#successTotal++;
    }
  }

  /** Successes and failures in the window ending at `now`. */
  total(now: number): number {
    this.#advance(now);
    return this.#successTotal + this.#failureTotal;
  }

  /** Failures in the window as of the last add() or total(). */
  failures(): number {
    return this.#failureTotal;
  }

  clear(): void {
    this.#successes.fill(0);
    this.#failures.fill(0);
    this.#successTotal = 0;
    this.#failureTotal = 0;
  }

  /** Empties the buckets that fell out of the window since the newest; a clock that went back keeps the newest. */
  #advance(now: number): void {
    // now × BUCKETS / window rather than now / (window / BUCKETS): integers, so bucket edges are exact.
    const index = Math.floor((now * BUCKETS) / this.#windowMs);
    if (index <= this.#head) return;
    if (index - this.#head >= BUCKETS) this.clear();
    else {
      for (let i = this.#head + 1; i <= index; i++) {
        const slot = i % BUCKETS;
        this.#successTotal -= this.#successes[slot];
        this.#failureTotal -= this.#failures[slot];
        this.#successes[slot] = 0;
        this.#failures[slot] = 0;
      }
    }
    this.#head = index;
  }
}
