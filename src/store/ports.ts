// What the gateway needs from storage, as small interfaces; adapters live in sibling folders (memory/,
// sqlite/) and store/factory.ts picks them from config. A port without an adapter yet is a contract for the
// issue that fills it: nothing calls it until then.
import type { KeyState } from '../core/key-hash.ts';
import type { Principal } from '../core/principal.ts';
import type { Window } from '../core/windows.ts';

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
  /** Input tokens written to the prompt cache (a part of inputTokens); absent: 0. */
  cacheWriteTokens?: number;
  /** From the configured model prices; 0 when none. */
  costUsd: number;
  durationMs: number;
  status: number;
  /** The Principal's user and team; empty when it has none. */
  userId: string;
  teamId: string;
  /** Answered from the response cache: no upstream call, no cost (the tokens are the cached answer's); absent: false. */
  cached?: boolean;
  /** The client left mid-stream and draining the upstream to its final usage was cut by upstream.disconnect_drain: the tokens may be short. Absent: false. */
  partial?: boolean;
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
  /** The public id (core/key-hash.ts mintKeyId; a config key's `id`): also `principal.id`. */
  readonly id: string;
  /** SHA-256 of the key (core/key-hash.ts): no store ever holds a plain key. */
  readonly hash: string;
  readonly principal: Principal;
  /** ms since the epoch. */
  readonly createdAt: number;
  /** When the key stops working (ms); absent: never. */
  readonly expiresAt?: number;
  /** When the key stops working because it was revoked (ms); may lie ahead: the grace of a revoke or rotate. */
  readonly revokedAt?: number;
  /** The key that replaced this one, for a rotated key. */
  readonly replacedBy?: string;
  /** Operator's free-form labels; never used for decisions, never secrets. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Listed in the config file: the store cannot revoke or rotate it. */
  readonly readOnly?: boolean;
}

/**
 * The read side, all authentication needs. Answers from memory, synchronously: a request never waits for a
 * store read. It answers revoked and expired records too (core/key-hash.ts keyState says which), so
 * authentication can tell the client why; undefined only for a hash no key has.
 */
export interface KeyLookup {
  lookup(hash: string): KeyRecord | undefined;
  /** Keys known, in any state: zero means nobody has been issued a key yet (the gateway may run open). */
  readonly size: number;
}

/** What issuing a key takes; the store fills `createdAt` and keeps everything else as given. */
export type NewKey = Omit<KeyRecord, 'createdAt' | 'revokedAt' | 'replacedBy' | 'readOnly'>;

/**
 * Keys managed at run time by the CLI and the admin API (adapters: sql/). Every running gateway that shares
 * the store sees an issue, revoke or rotate within a second (`key_refresh_ms`, and at once through the
 * Redis change channel when one is configured): `lookup` answers from a cache the store keeps current.
 */
export interface KeyStore extends KeyLookup {
  issue(key: NewKey): Promise<KeyRecord>;
  get(id: string): Promise<KeyRecord | undefined>;
  /** Every key, revoked and expired ones included, oldest first. */
  list(): Promise<KeyRecord[]>;
  /** Revokes key `id` from `atMs` (now, or later for a grace period); undefined when there is no such key. */
  revoke(id: string, atMs: number): Promise<KeyRecord | undefined>;
  /** Issues `next` with key `id`'s attributes and revokes `id` from `oldUntilMs`, in one transaction. */
  rotate(id: string, next: { id: string; hash: string }, oldUntilMs: number): Promise<{ old: KeyRecord; next: KeyRecord } | undefined>;
  /** Keys by state at `nowMs`, from the cache (for the gauges, read at scrape time). */
  counts(nowMs: number): Record<KeyState, number>;
  /** Reloads the cache now (the periodic refresh and the change channel call it). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

// ── Budgets of users and teams (a key's own caps are on its Principal) ──

export type BudgetScope = 'key' | 'user' | 'team';

export interface BudgetLimits {
  readonly dailyUsd?: number;
  readonly monthlyUsd?: number;
}

/** Set by the admin API, read from a cache like keys (adapters: sql/). */
export interface BudgetStore {
  /** The caps of a user or team, from memory; undefined when it has none. */
  limitsOf(scope: 'user' | 'team', id: string): BudgetLimits | undefined;
  set(scope: 'user' | 'team', id: string, limits: BudgetLimits): Promise<void>;
  remove(scope: 'user' | 'team', id: string): Promise<boolean>;
  list(): Promise<{ scope: 'user' | 'team'; id: string; limits: BudgetLimits }[]>;
  refresh(): Promise<void>;
}

// ── Usage analytics: the ledger's figures, for the admin API and `vigil usage report` ──

export interface UsageQuery {
  /** ISO-8601 or ms; inclusive. */
  readonly from: number;
  /** Exclusive. */
  readonly to: number;
  readonly groupBy: 'none' | 'key' | 'user' | 'team' | 'model';
  /** Buckets of time within [from, to), UTC-aligned; `total` is one bucket. */
  readonly granularity: 'hour' | 'day' | 'total';
}

export interface UsageRow {
  /** Bucket start, ISO-8601 (absent for granularity `total`). */
  readonly period?: string;
  /** The group's value (key id, user, team or model); absent for groupBy `none`. */
  readonly group?: string;
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  readonly costUsd: number;
}

export interface UsageAnalytics {
  report(query: UsageQuery): Promise<UsageRow[]>;
  /** Spend recorded for one identity since `fromMs` (seeds a budget counter a process has not seen yet). */
  spentSince(scope: BudgetScope, id: string, fromMs: number): Promise<number>;
}

// ── Counters: rate limits, budgets and concurrency (adapters: memory/counters.ts, redis/counters.ts) ──

/**
 * What an operation answers when the backing store cannot (a Redis outage): `open` answers from this
 * process's own counters, `closed` refuses. Either way the answer says `degraded`, so callers count and log it.
 */
export type FailureMode = 'open' | 'closed';

export interface WindowCount {
  /** Whether the amount was added; when false nothing was added. */
  readonly allowed: boolean;
  /** The counter in the current window, after this call. */
  readonly count: number;
  /** When the current window ends, in ms since the epoch (a Retry-After source). */
  readonly resetAt: number;
  /** The store could not answer: this is its failure mode speaking. */
  readonly degraded: boolean;
}

export interface Reservation {
  /** Whether the amount was set aside; settling a refused reservation does nothing. */
  readonly granted: boolean;
  readonly key: string;
  readonly amount: number;
  readonly window: Window;
  /** Spent plus reserved in that window, after this call. */
  readonly used: number;
  readonly degraded: boolean;
}

/**
 * Counters per window (core/windows.ts), keyed by the caller (e.g. `rpm:<key id>`). Every operation is
 * atomic in the store itself: concurrent callers, in one process or across replicas, never take a counter
 * past its limit between them (never read-modify-write from the gateway). A store that answers from memory
 * answers synchronously.
 */
export interface CounterStore {
  readonly failureMode: FailureMode;
  /** Adds `amount` to `key` in `window` only if the result stays ≤ `limit`. */
  increment(key: string, amount: number, limit: number, window: Window): WindowCount | Promise<WindowCount>;
  /** Sets `amount` aside on `key` (a request's worst case) only if spent + reserved + amount stays ≤ `limit`. */
  reserve(key: string, amount: number, limit: number, window: Window): Reservation | Promise<Reservation>;
  /**
   * Replaces a granted reservation by what was actually spent (0 releases it); `actual` may exceed the amount
   * reserved, and is charged even past the limit: it was spent. When the reservation's window has ended,
   * `actual` is charged to `current` (the same period's window now), so late-settling streams are never free.
   */
  settle(reservation: Reservation, actual: number, current: Window): void | Promise<void>;
  /** Sets `key`'s spent amount in `window` to `value` unless the window already has one (a budget seeded from the ledger). */
  seed(key: string, window: Window, value: number): void | Promise<void>;
  /** One more holder of `key` if fewer than `limit` hold it (max parallel); a holder forgotten for `ttlMs` is let go. */
  acquire(key: string, limit: number, ttlMs: number): WindowCount | Promise<WindowCount>;
  release(key: string): void | Promise<void>;
  /** Counters currently held (the active-buckets gauge), read at scrape time. */
  size(): number;
}

// ── Audit: who did what, kept apart from request logs, in the ledger's store (adapters: sql/) ──

/** Every audit event type, once: the type below, the admin API's filter and the CLI's check read this list. */
export const AUDIT_EVENT_TYPES = [
  'key.issued', 'key.revoked', 'key.rotated',
  'auth.failed', 'rate.limited', 'budget.exceeded',
  'admin.action',
  'breaker.opened', 'breaker.half_opened', 'breaker.closed',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  /** Unique; assigned by the sink when absent. */
  readonly id?: string;
  /** ISO-8601. */
  readonly time: string;
  readonly type: AuditEventType;
  /** A key id, `admin`, `cli`, or `anonymous`. */
  readonly actor: string;
  readonly requestId?: string;
  readonly traceId?: string;
  /** What the event is about: a key id, a user, a team, a model. */
  readonly target?: string;
  /** Security events (auth failures, blocks) are kept longer (audit.security_retention_days). */
  readonly security?: boolean;
  /** Never a key, a secret or prompt text. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface AuditQuery {
  readonly type?: AuditEventType;
  /** ms since the epoch, inclusive. */
  readonly since?: number;
  /** Exclusive. */
  readonly until?: number;
  readonly limit?: number;
}

export interface AuditLog {
  /** Queues an event; never blocks the request. An event that cannot be written is counted (`dropped`), never silently lost. */
  append(event: AuditEvent): void;
  /** Oldest first. */
  query(query: AuditQuery): Promise<AuditEvent[]>;
  /** Deletes events past retention; returns how many. */
  sweep(nowMs: number): Promise<number>;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): { queued: number; dropped: number };
}

// ── Response cache: exact-match answers of non-streaming requests (adapters: memory/, redis/) ──

export interface CachedAnswer {
  /** The answer's JSON as the client got it (its dialect's), sent again as these bytes. */
  readonly body: string;
  /** What the original call reported, recorded again on each hit (priced at zero: nothing was called). */
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number; readonly cachedInputTokens: number };
  readonly deploymentId: string;
}

/** A store that answers from memory answers synchronously. Failures (Redis down) are misses, never errors. */
export interface ResponseCache {
  get(key: string): CachedAnswer | undefined | Promise<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer, ttlMs: number): void | Promise<void>;
  /** Entries held (this process's, for a memory cache), read at scrape time. */
  size(): number;
}

// ── Breaker openings shared by replicas (adapter: redis/), so each does not pay the failures itself ──

export interface BreakerBus {
  /** Tells the other replicas `deploymentId` opened until `untilMs`. */
  publishOpen(deploymentId: string, untilMs: number): void;
  /** Openings published by other replicas. */
  subscribe(listener: (deploymentId: string, untilMs: number) => void): () => void;
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
