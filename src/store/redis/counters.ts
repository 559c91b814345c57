// Counters shared by every replica through Redis: each operation is one Lua script (scripts.ts), atomic in
// Redis itself. While Redis cannot answer, the failure mode speaks: `open` counts in this process's memory
// (a MemoryCounterStore: limits then hold per replica), `closed` refuses; either way the answer says
// `degraded`, and no call ever throws or waits longer than the command timeout.
//
// A failed command marks Redis down and later calls skip it (no request waits on a known-dead Redis) until
// the connection is ready again or a probe's PING answers. Settles and releases of Redis-held counters that
// never reached Redis are replayed when it returns, so a reservation made before an outage is not held
// until its window ends; one that was sent and timed out is not (Redis may have run it: replaying could
// settle twice and free room another request holds). A reservation made by the fallback says `degraded`,
// and settles in the fallback.
import type { Redis } from 'ioredis';
import type { Window } from '../../core/windows.ts';
import { MemoryCounterStore } from '../memory/counters.ts';
import type { CounterStore, FailureMode, QueryObserver, Reservation, WindowCount } from '../ports.ts';
import { connect, firstAttempt } from './connection.ts';
import { parallelKey, SCRIPTS, type ScriptName, WINDOW_GRACE_MS, windowKey } from './scripts.ts';

/** 0 ready, 1 reconnecting after the connection dropped, 2 down (commands failing or timing out). */
export type RedisState = 0 | 1 | 2;

export interface RedisCountersOptions {
  url: string;
  keyPrefix: string;
  /** A command slower than this counts as a failure. */
  commandTimeoutMs: number;
  onFailure: FailureMode;
  onStateChange?(state: RedisState, err?: Error): void;
  /** Told each script's and ping's duration (operations `counter` and `ping`). */
  onQuery?: QueryObserver;
  /** How often a down Redis whose connection looks alive is probed with a PING; default 1000 ms. */
  probeMs?: number;
  now?: () => number;
}

interface Call {
  readonly name: ScriptName;
  readonly keys: string[];
  readonly args: (string | number)[];
}

type ScriptedRedis = Redis & Record<ScriptName, (...keysAndArgs: (string | number)[]) => Promise<unknown>>;

/** Settles and releases waiting for Redis to return; past this, the oldest are given up (their window's expiry frees them). */
const MAX_DEFERRED = 10_000;

/** The command never left: Redis was known down or disconnected. */
const UNSENT = Symbol('unsent');
/** The command was sent and failed or timed out: Redis may still have run it. */
const FAILED = Symbol('failed');

function failed(reply: unknown): reply is typeof UNSENT | typeof FAILED {
  return reply === UNSENT || reply === FAILED;
}

export class RedisCounters implements CounterStore {
  readonly failureMode: FailureMode;
  readonly #client: ScriptedRedis;
  readonly #prefix: string;
  readonly #fallback: MemoryCounterStore;
  readonly #options: RedisCountersOptions;
  readonly #now: () => number;
  /** Holders acquired from the fallback, per key, so their release goes back there. */
  readonly #localHolders = new Map<string, number>();
  #deferred: Call[] = [];
  #state: RedisState = 1;
  #probe: NodeJS.Timeout | undefined;
  #replaying = false;
  #closed = false;

  constructor(options: RedisCountersOptions) {
    this.#options = options;
    this.failureMode = options.onFailure;
    this.#prefix = options.keyPrefix;
    this.#now = options.now ?? Date.now;
    this.#fallback = new MemoryCounterStore({ now: this.#now });
    this.#client = connect(options.url, options.commandTimeoutMs, 'vigil-counters') as ScriptedRedis;
    for (const [name, script] of Object.entries(SCRIPTS)) this.#client.defineCommand(name, script);
    this.#client.on('ready', () => this.#setState(0));
    this.#client.on('close', () => {
      if (this.#state === 0 && !this.#closed) this.#setState(1);
    });
  }

  /** A store whose first connection attempt has been made (ready, or failed and reconnecting). */
  static async open(options: RedisCountersOptions): Promise<RedisCounters> {
    const counters = new RedisCounters(options);
    await firstAttempt(counters.#client);
    return counters;
  }

  state(): RedisState {
    return this.#state;
  }

  async increment(key: string, amount: number, limit: number, window: Window): Promise<WindowCount> {
    const reply = await this.#run({ name: 'increment', keys: [windowKey(this.#prefix, key, window.start)], args: [amount, limit, window.end + WINDOW_GRACE_MS] });
    if (!failed(reply)) {
      const [allowed, count] = reply as [number, string];
      return { allowed: allowed === 1, count: Number(count), resetAt: window.end, degraded: false };
    }
    if (this.failureMode === 'closed') return { allowed: false, count: 0, resetAt: window.end, degraded: true };
    return { ...this.#fallback.increment(key, amount, limit, window), degraded: true };
  }

  async reserve(key: string, amount: number, limit: number, window: Window): Promise<Reservation> {
    const reply = await this.#run({ name: 'reserve', keys: [windowKey(this.#prefix, key, window.start)], args: [amount, limit, window.end + WINDOW_GRACE_MS] });
    if (!failed(reply)) {
      const [granted, used] = reply as [number, string];
      return { granted: granted === 1, key, amount, window, used: Number(used), degraded: false };
    }
    if (this.failureMode === 'closed') return { granted: false, key, amount, window, used: 0, degraded: true };
    return { ...this.#fallback.reserve(key, amount, limit, window), degraded: true };
  }

  async settle(reservation: Reservation, actual: number, current: Window): Promise<void> {
    if (!reservation.granted) return;
    if (reservation.degraded) return this.#fallback.settle(reservation, actual, current); // the fallback made it
    const call: Call = {
      name: 'settle',
      keys: [windowKey(this.#prefix, reservation.key, reservation.window.start), windowKey(this.#prefix, reservation.key, current.start)],
      args: [reservation.amount, actual, current.end + WINDOW_GRACE_MS],
    };
    const reply = await this.#run(call);
    if (!failed(reply)) return;
    if (reply === UNSENT) this.#defer(call);
    // Meanwhile the spend counts against this process's own limits.
    if (this.failureMode === 'open' && actual > 0) this.#fallback.increment(reservation.key, actual, Number.POSITIVE_INFINITY, current);
  }

  async seed(key: string, window: Window, value: number): Promise<void> {
    const reply = await this.#run({ name: 'seed', keys: [windowKey(this.#prefix, key, window.start)], args: [value, window.end + WINDOW_GRACE_MS] });
    if (failed(reply) && this.failureMode === 'open') this.#fallback.seed(key, window, value);
  }

  async acquire(key: string, limit: number, ttlMs: number): Promise<WindowCount> {
    const reply = await this.#run({ name: 'acquire', keys: [parallelKey(this.#prefix, key)], args: [limit, ttlMs] });
    if (!failed(reply)) {
      const [allowed, count, ttlLeft] = reply as [number, number, number];
      return { allowed: allowed === 1, count, resetAt: this.#now() + Math.max(0, ttlLeft), degraded: false };
    }
    if (this.failureMode === 'closed') return { allowed: false, count: 0, resetAt: this.#now() + ttlMs, degraded: true };
    const local = this.#fallback.acquire(key, limit, ttlMs);
    if (local.allowed) this.#localHolders.set(key, (this.#localHolders.get(key) ?? 0) + 1);
    return { ...local, degraded: true };
  }

  async release(key: string): Promise<void> {
    const local = this.#localHolders.get(key) ?? 0;
    if (local > 0) {
      if (local === 1) this.#localHolders.delete(key);
      else this.#localHolders.set(key, local - 1);
      return this.#fallback.release(key);
    }
    const call: Call = { name: 'release', keys: [parallelKey(this.#prefix, key)], args: [] };
    if ((await this.#run(call)) === UNSENT) this.#defer(call);
  }

  /** Counters held in this process's memory: the fallback's. */
  size(): number {
    return this.#fallback.size();
  }

  /** Readiness: resolves when Redis answers a PING within the command timeout. */
  async ping(): Promise<void> {
    const started = performance.now();
    try {
      await this.#client.ping();
    } catch (err) {
      this.#fail(err);
      throw err;
    }
    this.#options.onQuery?.('ping', (performance.now() - started) / 1000);
    if (this.#client.status === 'ready') this.#setState(0);
  }

  /** Settles and releases still waiting for Redis (for tests and shutdown logs). */
  deferred(): number {
    return this.#deferred.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#probe);
    this.#client.disconnect();
  }

  /** Runs one script, or answers UNSENT at once while Redis is known to be unavailable. */
  async #run(call: Call): Promise<unknown> {
    if (this.#state !== 0 || this.#client.status !== 'ready') {
      // Reconnecting with calls falling back: that is down (2), not just a dropped connection (1).
      if (this.#state === 1) this.#fail(new Error(`Redis unavailable (connection ${this.#client.status})`));
      return UNSENT;
    }
    const started = performance.now();
    try {
      const reply = await this.#client[call.name](...call.keys, ...call.args);
      this.#options.onQuery?.('counter', (performance.now() - started) / 1000);
      return reply;
    } catch (err) {
      this.#fail(err);
      return FAILED;
    }
  }

  #fail(err: unknown): void {
    if (this.#closed) return;
    this.#setState(2, err instanceof Error ? err : new Error(String(err)));
  }

  #defer(call: Call): void {
    if (this.#deferred.push(call) > MAX_DEFERRED) this.#deferred.shift();
  }

  #setState(next: RedisState, err?: Error): void {
    if (next === this.#state || this.#closed) return;
    this.#state = next;
    this.#options.onStateChange?.(next, err);
    if (next === 0) {
      clearInterval(this.#probe);
      this.#probe = undefined;
      void this.#replay();
    } else if (next === 2 && !this.#probe) {
      this.#probe = setInterval(() => {
        if (this.#client.status === 'ready') this.ping().catch(() => {});
      }, this.#options.probeMs ?? 1_000);
      this.#probe.unref();
    }
  }

  /** Sends the deferred settles and releases, in order, until Redis is unavailable again. */
  async #replay(): Promise<void> {
    if (this.#replaying) return;
    this.#replaying = true;
    try {
      while (this.#deferred.length > 0 && this.#state === 0) {
        const call = this.#deferred[0];
        const reply = await this.#run(call);
        if (reply === UNSENT) return; // stays first in line
        if (this.#deferred[0] === call) this.#deferred.shift(); // sent: done, or maybe done (never sent twice)
      }
    } finally {
      this.#replaying = false;
    }
  }
}
