// The one place stores are chosen: config → the adapters behind the ports, and their readiness checks.
// `store.kind: sqlite` is the embedded default: the usage ledger in SQLite, counters in memory, gateway
// keys from the config file.
import type { CompiledConfig } from '../config/compile.ts';
import type { HealthCheck } from '../core/health.ts';
import { MemoryCounterStore } from './memory/counters.ts';
import { ConfigKeys } from './memory/config-keys.ts';
import type { CounterStore, KeyLookup, LedgerStats, UsageLedger } from './ports.ts';
import { SqliteUsageLedger } from './sqlite/usage-ledger.ts';

export interface Stores {
  readonly ledger: UsageLedger;
  /** Undefined when no gateway keys are configured: the gateway is open. */
  readonly keys: KeyLookup | undefined;
  readonly counters: CounterStore;
  /** Scrape-time figures: what every ledger has, plus the adapter's own (sqlite: `walBytes`). */
  stats(): LedgerStats & { walBytes?: number };
  /** The stores' readiness, for the health registry. */
  readonly healthChecks: readonly HealthCheck[];
}

export interface StoreHooks {
  /** Usage records could not be written (they stay queued and are retried). */
  onError(err: unknown): void;
  /** The SQLite checkpoint thread failed. */
  onCheckpointError(err: unknown): void;
  /** How long a store operation took, for the store latency metric. */
  onQuery(store: string, operation: string, seconds: number): void;
}

/** A store that does not answer its ping in this long counts as down. */
const PING_DEADLINE_MS = 1000;

export function buildStores(compiled: CompiledConfig, hooks: StoreHooks): Stores {
  const { store } = compiled.config;
  const ledger = new SqliteUsageLedger({
    dataDir: store.data_dir,
    flushIntervalMs: store.flush_interval_ms,
    maxBatch: store.max_batch,
    onError: hooks.onError,
    onCheckpointError: hooks.onCheckpointError,
    onQuery: (operation, seconds) => hooks.onQuery('sqlite', operation, seconds),
  });
  const ok = { status: 'ok' } as const;
  return {
    ledger,
    keys: compiled.keyHashes.size ? new ConfigKeys(compiled.keyHashes) : undefined,
    counters: new MemoryCounterStore(),
    stats: () => ledger.stats(),
    healthChecks: [{
      name: 'store', required: true, deadline: { ms: PING_DEADLINE_MS, waitingFor: 'store ping' }, check: () => ledger.ping().then(() => ok),
    }],
  };
}
