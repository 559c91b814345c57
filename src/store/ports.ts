// What the gateway needs from storage, as small interfaces; adapters live in sibling folders.

export interface UsageRecord {
  /** ISO-8601 wall-clock time the request finished. */
  time: string;
  requestId: string;
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
  /** Cheap state for metrics, read at scrape time. */
  stats(): LedgerStats;
}

export interface LedgerStats {
  store: string;
  open: boolean;
  walBytes: number;
  queued: number;
  /** Records given up on (unwritable, or the queue overflowed while the store was down), since start. */
  dropped: number;
}

/** Told how long each store operation took, for the store latency metric. */
export type QueryObserver = (operation: string, seconds: number) => void;
