// The one place stores are chosen: config → the adapters behind the ports, and their readiness checks.
// Embedded default (no store.url, no redis.url): one SQLite file in store.data_dir holds keys, budgets, audit
// events and the usage ledger; counters live in memory. `store.url: postgres://…` moves all four into a
// database every replica shares; `redis.url` moves the counters (rate limits, budget reservations, parallel
// caps) into Redis and fans key and budget changes out to every gateway at once.
import type { CompiledConfig } from '../config/compile.ts';
import type { HealthCheck } from '../core/health.ts';
import { ConfigKeys } from './memory/config-keys.ts';
import { MemoryCounterStore } from './memory/counters.ts';
import type {
  AuditEventType, AuditLog, BreakerBus, CounterStore, KeyLookup, KeyRecord, LedgerStats, QueryObserver, ResponseCache, UsageAnalytics, UsageLedger,
} from './ports.ts';
import { PostgresUsageLedger } from './postgres/usage-ledger.ts';
import { MemoryResponseCache } from './memory/response-cache.ts';
import { RedisBreakerBus } from './redis/breaker-bus.ts';
import { RedisChangeChannel, type ChangeKind } from './redis/change-channel.ts';
import { RedisResponseCache } from './redis/response-cache.ts';
import { RedisCounters, type RedisState } from './redis/counters.ts';
import { SqlAuditLog } from './sql/audit-log.ts';
import { SqlBudgetStore } from './sql/budgets.ts';
import { openPostgres, openSqlite, type SqlDatabase } from './sql/database.ts';
import { SqlKeyStore } from './sql/keys.ts';
import { SqlUsageAnalytics } from './sql/usage-analytics.ts';
import { SqliteUsageLedger } from './sqlite/usage-ledger.ts';

export interface Stores {
  readonly ledger: UsageLedger;
  readonly analytics: UsageAnalytics;
  /** Every key a request may present: the config file's, then the store's. */
  readonly keys: KeyLookup;
  /** Keys issued and revoked at run time (CLI, admin API). */
  readonly keyStore: SqlKeyStore;
  /** The config file's keys (read-only), for listings. */
  readonly configKeys: readonly KeyRecord[];
  readonly budgets: SqlBudgetStore;
  readonly counters: CounterStore;
  readonly audit: AuditLog;
  /** Tells every gateway sharing the store that keys or budgets changed (at once through Redis; by polling otherwise). */
  publishChange(kind: ChangeKind): void;
  /** Shares circuit-breaker openings with the other replicas; absent without redis.url. */
  readonly breakerBus: BreakerBus | undefined;
  /** The response cache (routing.cache.store); absent when no alias caches. */
  readonly responseCache: ResponseCache | undefined;
  /** Scrape-time figures: what every ledger has, plus the adapter's own (sqlite: `walBytes`). */
  stats(): LedgerStats & { walBytes?: number };
  /** Scrape-time figures of the access stores (telemetry/metrics/collect.ts AccessFigures, less authOpen). */
  accessFigures(): AccessStoreFigures;
  /** The stores' readiness, for the health registry. */
  readonly healthChecks: readonly HealthCheck[];
  /** Writes what is queued, stops the refresh timers, closes the connections. */
  close(): Promise<void>;
}

export interface AccessStoreFigures {
  keys: Record<'active' | 'revoked' | 'expired', number>;
  buckets: number;
  redisState?: 0 | 1 | 2;
  pool?: { total: number; idle: number; waiting: number };
  auditDropped: number;
}

export interface StoreHooks {
  /** Usage records or audit events could not be written (they stay queued and are retried). */
  onError(err: unknown): void;
  /** The SQLite checkpoint thread failed. */
  onCheckpointError(err: unknown): void;
  /** How long a store operation took, for the store latency metric. */
  onQuery(store: string, operation: string, seconds: number): void;
  /** An audit event was written. */
  onAuditRecorded?(type: AuditEventType): void;
  /** Keys or budgets could not be re-read (the last ones read stay in force). */
  onRefreshError?(err: unknown): void;
  /** Redis became ready (0), is reconnecting (1) or down (2). */
  onRedisState?(state: RedisState, err?: unknown): void;
}

/** A store that does not answer its ping in this long counts as down. */
const PING_DEADLINE_MS = 1000;

export async function openStores(compiled: CompiledConfig, hooks: StoreHooks): Promise<Stores> {
  const { store, audit: auditConfig } = compiled.config;
  const storeName = compiled.storeUrl ? 'postgres' : 'sqlite';
  const onQuery = (operation: string, seconds: number) => hooks.onQuery(storeName, operation, seconds);
  const db: SqlDatabase = compiled.storeUrl ? openPostgres(compiled.storeUrl, store.pool_size, onQuery) : openSqlite(store.data_dir, onQuery);
  const opened: { close(): Promise<void> }[] = [];
  try {
    const { keyStore, budgets, audit } = await openRecords(db, compiled, opened, {
      refreshMs: store.refresh_ms, onRefreshError: hooks.onRefreshError, onAuditRecorded: hooks.onAuditRecorded, onError: hooks.onError, onQuery,
    });
    const ledgerOptions = { flushIntervalMs: store.flush_interval_ms, maxBatch: store.max_batch, onError: hooks.onError, onQuery };
    const ledger: UsageLedger & { stats(): LedgerStats & { walBytes?: number } } = compiled.storeUrl
      ? await PostgresUsageLedger.open(db, ledgerOptions)
      : await SqliteUsageLedger.open({ ...ledgerOptions, dataDir: store.data_dir, onCheckpointError: hooks.onCheckpointError });
    const configKeys = new ConfigKeys(compiled.keyHashes);
    const redis = compiled.redisUrl ? await openRedis(compiled, hooks) : undefined;
    if (redis) {
      opened.push(redis.counters, redis.changes, redis.breakers);
      redis.changes.subscribe((kind) => void (kind === 'keys' ? keyStore : budgets).refresh().catch((err) => hooks.onRefreshError?.(err)));
    }
    const counters: CounterStore = redis?.counters ?? new MemoryCounterStore();
    const responseCache = await openResponseCache(compiled, hooks);
    if (responseCache instanceof RedisResponseCache) opened.push(responseCache);
    const sweep = setInterval(() => void audit.sweep(Date.now()).catch(hooks.onError), auditConfig.sweep_interval_ms);
    sweep.unref();
    const ok = { status: 'ok' } as const;
    return {
      ledger,
      analytics: new SqlUsageAnalytics(db),
      keys: firstOf(configKeys, keyStore),
      keyStore,
      configKeys: configKeys.records(),
      budgets,
      counters,
      audit,
      publishChange: (kind) => void redis?.changes.publish(kind),
      breakerBus: redis?.breakers,
      responseCache,
      stats: () => ledger.stats(),
      accessFigures: () => ({
        keys: addCounts(keyStore.counts(Date.now()), configKeys.size),
        buckets: counters.size(),
        redisState: redis?.counters.state(),
        pool: db.pool?.(),
        auditDropped: audit.stats().dropped,
      }),
      healthChecks: [{
        name: 'store', required: true, deadline: { ms: PING_DEADLINE_MS, waitingFor: 'store ping' }, check: () => ledger.ping().then(() => ok),
      }, ...(redis ? [redisCheck(redis.counters)] : [])],
      async close() {
        clearInterval(sweep);
        await ledger.close(); // writes every queued usage record
        for (const store of opened.reverse()) await store.close();
        await db.close();
      },
    };
  } catch (err) {
    for (const store of opened.reverse()) await store.close().catch(() => {});
    await db.close().catch(() => {});
    throw err;
  }
}

/**
 * Keys, budgets and the audit log on `db`: what the gateway and the admin commands (cli/admin-stores.ts) both
 * open. One after another, each pushed on `opened` as it opens (for the caller's cleanup): on SQLite each
 * migrates in a transaction of its own on the one file.
 */
export async function openRecords(
  db: SqlDatabase, compiled: CompiledConfig, opened: { close(): Promise<void> }[],
  options: { refreshMs: number; onRefreshError?(err: unknown): void; onAuditRecorded?(type: AuditEventType): void; onError?(err: unknown): void; onQuery?: QueryObserver },
): Promise<{ keyStore: SqlKeyStore; budgets: SqlBudgetStore; audit: SqlAuditLog }> {
  const { audit: auditConfig } = compiled.config;
  const keyStore = await SqlKeyStore.open(db, { refreshMs: options.refreshMs, onError: options.onRefreshError });
  opened.push(keyStore);
  const budgets = await SqlBudgetStore.open(db, { refreshMs: options.refreshMs, onError: options.onRefreshError });
  opened.push(budgets);
  const audit = await SqlAuditLog.open(db, {
    retentionDays: auditConfig.retention_days, securityRetentionDays: auditConfig.security_retention_days,
    onRecorded: options.onAuditRecorded, onError: options.onError, onQuery: options.onQuery,
  });
  opened.push(audit);
  return { keyStore, budgets, audit };
}

async function openRedis(compiled: CompiledConfig, hooks: StoreHooks) {
  const { redis } = compiled.config;
  const options = { url: compiled.redisUrl!, keyPrefix: redis.key_prefix, commandTimeoutMs: redis.command_timeout_ms };
  const counters = await RedisCounters.open({
    ...options, onFailure: redis.on_failure, onStateChange: hooks.onRedisState, onQuery: (operation, seconds) => hooks.onQuery('redis', operation, seconds),
  });
  const changes = await RedisChangeChannel.open(options);
  const breakers = await RedisBreakerBus.open(options);
  return { counters, changes, breakers };
}

/** Memory or Redis per routing.cache.store, when an alias caches (compile checked that Redis is configured). */
async function openResponseCache(compiled: CompiledConfig, hooks: StoreHooks): Promise<ResponseCache | undefined> {
  const { routing: { cache }, redis } = compiled.config;
  if (![...compiled.aliases.values()].some((alias) => alias.cache.enabled)) return undefined;
  if (cache.store === 'memory') return new MemoryResponseCache({ maxEntries: cache.max_entries, maxEntryBytes: cache.max_entry_bytes });
  return RedisResponseCache.open({
    url: compiled.redisUrl!, keyPrefix: redis.key_prefix, commandTimeoutMs: redis.command_timeout_ms, maxEntryBytes: cache.max_entry_bytes,
    onQuery: (operation, seconds) => hooks.onQuery('redis', operation, seconds),
  });
}

/**
 * Redis in readiness: with `on_failure: open` the gateway keeps serving on local counters, so an outage is
 * reported (degraded) but does not take the replica out; with `closed` limited requests are refused, so it does.
 */
function redisCheck(counters: RedisCounters): HealthCheck {
  const closed = counters.failureMode === 'closed';
  return {
    name: 'redis', required: closed, deadline: { ms: PING_DEADLINE_MS, waitingFor: 'redis ping' },
    check: () => counters.ping().then(
      () => ({ status: 'ok' as const }),
      (err: Error) => (closed
        ? { status: 'fail' as const, detail: `unreachable: ${err.message}; limited requests are refused (redis.on_failure: closed)` }
        : { status: 'ok' as const, detail: `degraded: ${err.message}; counting in this process (redis.on_failure: open)` }),
    ),
  };
}

/** The config file's keys first (they cannot be revoked), then the store's. */
function firstOf(first: KeyLookup, second: KeyLookup): KeyLookup {
  return {
    lookup: (hash) => first.lookup(hash) ?? second.lookup(hash),
    get size() {
      return first.size + second.size;
    },
  };
}

/** Config keys are always active. */
function addCounts(counts: Record<'active' | 'revoked' | 'expired', number>, configKeys: number) {
  return { ...counts, active: counts.active + configKeys };
}
