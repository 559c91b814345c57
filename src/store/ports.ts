// What the gateway needs from storage, as small interfaces; adapters live in sibling folders (memory/,
// sqlite/) and store/factory.ts picks them from config. A port without an adapter yet is a contract for the
// issue that fills it: nothing calls it until then.
import type { Principal } from '../core/principal.ts';

// ── Usage ledger: one record per request that reached an upstream (adapter: sqlite/usage-ledger.ts) ──

export interface UsageRecord {
  /** ISO-8601 wall-clock time the request finished. */
  time: string;
  requestId: string;
  /** The Principal's id (the `identity_id` column). */
  identityId: string;
  route: string;
  provider: string;
  model: string;
  upstreamModel: string;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** From the configured model prices; 0 when none. */
  costUsd: number;
  durationMs: number;
  status: number;
  /** Empty when the call succeeded. */
  errorClass: string;
  stream: boolean;
}

export interface UsageLedger {
  /** Queues a record; never blocks the request. */
  append(record: UsageRecord): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /** Liveness of the backing store, for /readyz. */
  ping(): Promise<void>;
  /** Flushes, then releases the store. */
  close(): Promise<void>;
  /** Cheap state for metrics, read at scrape time; an adapter may add figures of its own. */
  stats(): LedgerStats;
}

/** What every ledger can say about itself. */
export interface LedgerStats {
  store: string;
  open: boolean;
  queued: number;
  /** Records given up on (unwritable, or the queue overflowed while the store was down), since start. */
  dropped: number;
}

/** Told how long each store operation took, for the store latency metric. */
export type QueryObserver = (operation: string, seconds: number) => void;

// ── Keys: gateway key → Principal ──

export interface KeyRecord {
  /** SHA-256 of the key (core/key-hash.ts): no store ever holds a plain key. */
  readonly hash: string;
  readonly principal: Principal;
}

/**
 * The read side, all authentication needs (adapter: memory/config-keys.ts, the config file's keys).
 * `lookup` answers only active keys: undefined for a hash that is unknown, revoked or expired, so the
 * caller never judges a record. A store that answers from memory answers synchronously: no microtask.
 */
export interface KeyLookup {
  lookup(hash: string): KeyRecord | undefined | Promise<KeyRecord | undefined>;
}

/**
 * Keys managed at run time by the CLI and the admin API. No adapter yet: keys from the config file cannot
 * be issued or revoked while the gateway runs, so they are a KeyLookup only; the database adapters fill this.
 * A revocation is seen by every replica's `lookup` within the store's documented propagation delay.
 */
export interface KeyStore extends KeyLookup {
  /** Stores a new key; rejects when its hash or principal id is already taken. */
  issue(record: KeyRecord): Promise<void>;
  /** Revokes the key of principal `id`; false when there is none. */
  revoke(id: string): Promise<boolean>;
  /** Every key, revoked ones included, for listing (hashes only). */
  list(): Promise<KeyRecord[]>;
}

// ── Counters: rate limits and budgets (adapter: memory/counters.ts) ──

/**
 * What an operation answers when the backing store cannot (a Redis outage): `open` admits as if the
 * counter had room, `closed` refuses. Either way the answer says `degraded`, so callers count and log it.
 */
export type FailureMode = 'open' | 'closed';

export interface WindowCount {
  /** Whether the amount was added; when false nothing was added. */
  readonly allowed: boolean;
  /** The counter in the current window, after this call. */
  readonly count: number;
  /** When the current window ends, in ms since the epoch (a Retry-After source). */
  readonly resetAt: number;
  /** The store could not answer: this is its failure mode speaking, not a count. */
  readonly degraded: boolean;
}

export interface Reservation {
  /** Whether the amount was set aside; settling a refused reservation does nothing. */
  readonly granted: boolean;
  readonly key: string;
  readonly amount: number;
  /** Start of the window the amount was set aside in, in ms since the epoch. */
  readonly windowStart: number;
  /** Spent plus reserved in that window, after this call. */
  readonly used: number;
  readonly resetAt: number;
  readonly degraded: boolean;
}

/**
 * Counters in fixed windows (`windowMs` long, aligned to the epoch), keyed by the caller (e.g.
 * `rpm:<principal>`). Every operation is atomic in the store itself: concurrent callers, in one process or
 * across replicas, never take a counter past its limit between them (never read-modify-write from the
 * gateway). A store that answers from memory answers synchronously.
 */
export interface CounterStore {
  /** Rate limits fail open by default (an outage must not stop all traffic), budgets fail closed (spend cannot be taken back). */
  readonly failureModes: { readonly increment: FailureMode; readonly reserve: FailureMode };
  /** Adds `amount` to `key` in the current window only if the result stays ≤ `limit`. */
  increment(key: string, amount: number, limit: number, windowMs: number): WindowCount | Promise<WindowCount>;
  /** Sets `amount` aside on `key` (a request's estimated cost) only if spent + reserved + amount stays ≤ `limit`. */
  reserve(key: string, amount: number, limit: number, windowMs: number): Reservation | Promise<Reservation>;
  /**
   * Replaces a granted reservation by what was actually spent (0 releases it); `actual` may exceed the amount
   * reserved, and is charged even past the limit: it was spent. When the reservation's window has ended,
   * `actual` is charged to the current one, so late-settling streams are never free.
   */
  settle(reservation: Reservation, actual: number): void | Promise<void>;
}

// ── Audit: who did what, kept apart from request logs (no adapter yet: the audit trail issue adds them) ──

export interface AuditEvent {
  /** ISO-8601. */
  readonly time: string;
  /** Dotted and stable, e.g. `key.revoked`, `guard.blocked`. */
  readonly action: string;
  /** The Principal's id, or `system`. */
  readonly actor: string;
  readonly outcome: 'success' | 'denied' | 'failure';
  readonly requestId?: string;
  /** What the action was done to: a key id, a model, a tool. */
  readonly target?: string;
  /** Never secrets or prompt text. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface AuditSink {
  /** Queues an event; never blocks the request. An event that cannot be written is counted, never silently lost. */
  append(event: AuditEvent): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /** Flushes, then releases the sink. */
  close(): Promise<void>;
}

// ── Vault: values the security guard replaces by tokens (no adapter yet: the guard issue adds them) ──

/**
 * Holds a value (a secret or PII found in a prompt) behind an opaque token for as long as the answer that
 * may quote it can arrive, so the guard can restore it on the way back. Scoped: a token resolves only in
 * the scope (request or conversation) it was made in. Values are never logged or exported.
 */
export interface VaultStore {
  /** A new token for `value` in `scope`, forgotten after `ttlMs`. */
  put(scope: string, value: string, ttlMs: number): string | Promise<string>;
  /** The value behind `token` in `scope`; undefined when unknown or expired. */
  get(scope: string, token: string): string | undefined | Promise<string | undefined>;
  /** Forgets every token of `scope`. */
  drop(scope: string): void | Promise<void>;
}
