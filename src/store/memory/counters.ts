// Counters in this process's memory: the embedded default, and the local fallback while Redis is down.
// Each operation runs to completion synchronously on the one JavaScript thread, so it is atomic against
// every other caller in the process; cluster workers and replicas each count on their own.
// Memory stays bounded by the keys in use: a key's entry is reused when its window rolls over, and
// entries whose window ended are swept as new ones arrive.
import type { Window } from '../../core/windows.ts';
import type { CounterStore, Reservation, WindowCount } from '../ports.ts';

interface Entry {
  start: number;
  end: number;
  /** Increments, or spent amounts for budgets. */
  count: number;
  /** Set aside by reservations not yet settled. */
  reserved: number;
}

/** A parallel count: its own key space, as in Redis (`p:` apart from `c:`), so `acquire('x')` never meets `increment('x')`. */
interface Holders {
  count: number;
  /** When the holders are forgotten (a leak guard: every acquire pushes it back). */
  until: number;
}

/** Entries are swept (ended windows dropped) every this many new entries. */
const SWEEP_EVERY = 1024;

export class MemoryCounterStore implements CounterStore {
  /** Memory cannot be unreachable, so the mode never applies; declared for the port. */
  readonly failureMode = 'open' as const;
  readonly #entries = new Map<string, Entry>();
  readonly #holders = new Map<string, Holders>();
  readonly #now: () => number;
  #added = 0;

  /** `now`: the clock in ms since the epoch (tests move it). */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  increment(key: string, amount: number, limit: number, window: Window): WindowCount {
    const entry = this.#entry(key, window);
    const allowed = entry.count + entry.reserved + amount <= limit;
    if (allowed) entry.count += amount;
    return { allowed, count: entry.count + entry.reserved, resetAt: window.end, degraded: false };
  }

  reserve(key: string, amount: number, limit: number, window: Window): Reservation {
    const entry = this.#entry(key, window);
    const granted = entry.count + entry.reserved + amount <= limit;
    if (granted) entry.reserved += amount;
    return { granted, key, amount, window, used: entry.count + entry.reserved, degraded: false };
  }

  settle(reservation: Reservation, actual: number, current: Window): void {
    if (!reservation.granted) return;
    const entry = this.#entries.get(reservation.key);
    if (entry && entry.start === reservation.window.start) entry.reserved = Math.max(0, entry.reserved - reservation.amount);
    // Into the current window: the reservation's own while it lasts, else the one now (an ended window's spend would be lost).
    if (actual > 0) this.#entry(reservation.key, current).count += actual;
  }

  seed(key: string, window: Window, value: number): void {
    const entry = this.#entries.get(key);
    if (entry && entry.start === window.start) return;
    this.#entry(key, window).count = value;
  }

  acquire(key: string, limit: number, ttlMs: number): WindowCount {
    const now = this.#now();
    let holders = this.#holders.get(key);
    if (!holders || holders.until <= now) {
      holders = { count: 0, until: now + ttlMs };
      this.#holders.set(key, holders);
      if (++this.#added % SWEEP_EVERY === 0) this.#sweep();
    }
    const allowed = holders.count < limit;
    if (allowed) {
      holders.count++;
      holders.until = now + ttlMs; // every acquire renews the leak guard
    }
    return { allowed, count: holders.count, resetAt: holders.until, degraded: false };
  }

  release(key: string): void {
    const holders = this.#holders.get(key);
    if (!holders) return;
    if (--holders.count <= 0) this.#holders.delete(key);
  }

  size(): number {
    return this.#entries.size + this.#holders.size;
  }

  #entry(key: string, window: Window): Entry {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { start: window.start, end: window.end, count: 0, reserved: 0 };
      this.#add(key, entry);
    } else if (entry.start !== window.start) {
      entry.start = window.start;
      entry.end = window.end;
      entry.count = 0;
      entry.reserved = 0;
    }
    return entry;
  }

  #add(key: string, entry: Entry): void {
    this.#entries.set(key, entry);
    if (++this.#added % SWEEP_EVERY === 0) this.#sweep();
  }

  /** Drops entries whose window has ended and that hold nothing, and forgotten holders. */
  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.end <= now && entry.reserved === 0) this.#entries.delete(key);
    for (const [key, holders] of this.#holders) if (holders.until <= now) this.#holders.delete(key);
  }
}
