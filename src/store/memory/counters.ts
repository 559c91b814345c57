// Counters in this process's memory: the embedded default, and the local fallback when a shared store is
// down. Each operation runs to completion synchronously on the one JavaScript thread, so it is atomic
// against every other caller in the process; cluster workers and replicas each count on their own.
// Memory stays bounded by the keys in use: a key's entry is reused when its window rolls over.
import type { CounterStore, Reservation, WindowCount } from '../ports.ts';

interface Window {
  start: number;
  /** Increments, or spent amounts for budgets. */
  count: number;
  /** Set aside by reservations not yet settled. */
  reserved: number;
}

export class MemoryCounterStore implements CounterStore {
  /** Memory cannot be unreachable, so neither mode ever applies; declared for callers that read them. */
  readonly failureModes = { increment: 'open', reserve: 'closed' } as const;
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;

  /** `now`: the clock in ms since the epoch (tests move it). */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  increment(key: string, amount: number, limit: number, windowMs: number): WindowCount {
    const window = this.#current(key, windowMs);
    const allowed = window.count + window.reserved + amount <= limit;
    if (allowed) window.count += amount;
    return { allowed, count: window.count, resetAt: window.start + windowMs, degraded: false };
  }

  reserve(key: string, amount: number, limit: number, windowMs: number): Reservation {
    const window = this.#current(key, windowMs);
    const granted = window.count + window.reserved + amount <= limit;
    if (granted) window.reserved += amount;
    return { granted, key, amount, windowStart: window.start, used: window.count + window.reserved, resetAt: window.start + windowMs, degraded: false };
  }

  settle(reservation: Reservation, actual: number): void {
    if (!reservation.granted) return;
    const windowMs = reservation.resetAt - reservation.windowStart;
    const window = this.#current(reservation.key, windowMs);
    if (window.start === reservation.windowStart) window.reserved -= reservation.amount;
    window.count += actual;
  }

  #current(key: string, windowMs: number): Window {
    const now = this.#now();
    const start = now - (now % windowMs);
    let window = this.#windows.get(key);
    if (!window) {
      window = { start, count: 0, reserved: 0 };
      this.#windows.set(key, window);
    } else if (window.start !== start) {
      window.start = start;
      window.count = 0;
      window.reserved = 0;
    }
    return window;
  }
}
