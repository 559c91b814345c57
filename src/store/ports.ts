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
}
