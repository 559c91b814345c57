// Counters in this process's memory: the embedded default, and the local fallback while Redis is down.
// Each operation runs to completion synchronously on the one JavaScript thread, so it is atomic against
// every other caller in the process; cluster workers and replicas each count on their own.
// Memory stays bounded by the keys in use: a key's entry is reused when its window rolls over, and
// entries whose window ended are swept as new ones arrive.
import type { Window } from '../../core/windows.ts';
import type { CounterStore, Reservation, WindowCount } from '../ports.ts';

interface Entry {
  /** The window's start; for a parallel count, when it lets go of forgotten holders. */
  start: number;
  end: number;
  /** Increments, spent amounts for budgets, holders for parallel counts. */
  count: number;
  /** Set aside by reservations not yet settled. */
  reserved: number;
}

/** Entries are swept (ended windows dropped) every this many new entries. */
const SWEEP_EVERY = 1024;

export class MemoryCounterStore implements CounterStore {
  /** Memory cannot be unreachable, so the mode never applies; declared for the port. */
  readonly failureMode = 'open' as const;
  readonly #entries = new Map<string, Entry>();
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
    if (entry && entry.start === reservation.window.start) {
      entry.reserved = Math.max(0, entry.reserved - reservation.amount);
      entry.count += actual;
    } else if (actual > 0) {
      this.#entry(reservation.key, current).count += actual; // the reservation's window ended: charge the current one
    }
  }

  seed(key: string, window: Window, value: number): void {
    const entry = this.#entries.get(key);
    if (entry && entry.start === window.start) return;
    this.#entry(key, window).count = value;
  }

  acquire(key: string, limit: number, ttlMs: number): WindowCount {
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (!entry || entry.end <= now) {
      entry = { start: now, end: now + ttlMs, count: 0, reserved: 0 };
      this.#add(key, entry);
    }
    const allowed = entry.count < limit;
    if (allowed) {
      entry.count++;
      entry.end = now + ttlMs; // every acquire renews the leak guard
    }
    return { allowed, count: entry.count, resetAt: entry.end, degraded: false };
  }

  release(key: string): void {
    const entry = this.#entries.get(key);
    if (entry && entry.count > 0) entry.count--;
  }

  size(): number {
    return this.#entries.size;
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

  /** Drops entries whose window has ended and that hold nothing. */
  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.end <= now && entry.reserved === 0) this.#entries.delete(key);
  }
}
