// The embedded usage ledger: node:sqlite (no native addon) in WAL mode. Records queue in memory and are
// written in one transaction per batch, on a timer or when the batch is full, never inside a request.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { UsageLedger, UsageRecord } from '../ports.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS usage_records (
  id INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  request_id TEXT NOT NULL,
  identity_id TEXT NOT NULL,
  route TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  upstream_model TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  status INTEGER NOT NULL,
  error_class TEXT NOT NULL,
  stream INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_records_time ON usage_records (time);
`;

export interface SqliteLedgerOptions {
  dataDir: string;
  flushIntervalMs: number;
  maxBatch: number;
  /** Told about write failures (the records stay queued and are retried). */
  onError?: (err: unknown) => void;
}

export class SqliteUsageLedger implements UsageLedger {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #options: SqliteLedgerOptions;
  readonly #timer: NodeJS.Timeout;
  #queue: UsageRecord[] = [];

  constructor(options: SqliteLedgerOptions) {
    this.#options = options;
    mkdirSync(options.dataDir, { recursive: true });
    this.#db = new DatabaseSync(join(options.dataDir, 'vigil.db'));
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
    this.#insert = this.#db.prepare(`INSERT INTO usage_records (time, request_id, identity_id, route, provider, model, upstream_model,
      input_tokens, output_tokens, cached_input_tokens, duration_ms, status, error_class, stream)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#timer = setInterval(() => this.#write(), options.flushIntervalMs);
    this.#timer.unref();
  }

  append(record: UsageRecord): void {
    this.#queue.push(record);
    if (this.#queue.length >= this.#options.maxBatch) setImmediate(() => this.#write());
  }

  async flush(): Promise<void> {
    this.#write();
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#write();
    this.#db.close();
  }

  /** Recent records, newest first: for operators and tests. */
  recent(limit: number): Record<string, unknown>[] {
    return this.#db.prepare('SELECT * FROM usage_records ORDER BY id DESC LIMIT ?').all(limit) as Record<string, unknown>[];
  }

  #write(): void {
    if (this.#queue.length === 0 || !this.#db.isOpen) return;
    const batch = this.#queue;
    this.#queue = [];
    try {
      this.#db.exec('BEGIN');
      for (const r of batch) {
        this.#insert.run(r.time, r.requestId, r.identityId, r.route, r.provider, r.model, r.upstreamModel,
          r.inputTokens, r.outputTokens, r.cachedInputTokens, r.durationMs, r.status, r.errorClass, r.stream ? 1 : 0);
      }
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      this.#queue = batch.concat(this.#queue); // keep them for the next attempt
      this.#options.onError?.(err);
    }
  }
}
