// The shared usage ledger: every replica appends to one PostgreSQL table (sql/usage-schema.ts). Records
// queue in memory and are written in multi-row INSERTs (sql/batch-writer.ts) on a timer or when the batch
// is full, never inside a request; while PostgreSQL is unreachable they wait, bounded, and what overflows
// is counted as dropped.
import type { LedgerStats, QueryObserver, UsageLedger, UsageRecord } from '../ports.ts';
import { BatchWriter, insertSql } from '../sql/batch-writer.ts';
import type { SqlDatabase, SqlValue } from '../sql/database.ts';
import { migrateUsage } from '../sql/usage-schema.ts';

export interface PostgresLedgerOptions {
  flushIntervalMs: number;
  maxBatch: number;
  /** Told about write failures (the records stay queued and are retried). */
  onError?: (err: unknown) => void;
  onQuery?: QueryObserver;
  /** While the store is failing, at most this many records wait; older ones are dropped and counted. */
  maxQueue?: number;
}

const DEFAULT_MAX_QUEUE = 100_000;
/** Rows per INSERT: 19 parameters each, far below PostgreSQL's 65,535, and one round trip per 500 records. */
const ROWS_PER_INSERT = 500;

const COLUMNS = ['time', 'request_id', 'identity_id', 'user_id', 'team_id', 'route', 'provider', 'model', 'upstream_model',
  'input_tokens', 'output_tokens', 'cached_input_tokens', 'cost_usd', 'duration_ms', 'status', 'error_class', 'stream', 'cached', 'partial'];

export class PostgresUsageLedger implements UsageLedger {
  readonly #db: SqlDatabase;
  readonly #writer: BatchWriter<UsageRecord>;
  #open = true;

  /** Migrates the schema (once per version, whichever replica starts first), then a ledger over `db`. */
  static async open(db: SqlDatabase, options: PostgresLedgerOptions): Promise<PostgresUsageLedger> {
    await migrateUsage(db);
    return new PostgresUsageLedger(db, options);
  }

  /** Over a database whose schema is current (open() sees to it). The database stays its owner's to close. */
  constructor(db: SqlDatabase, options: PostgresLedgerOptions) {
    this.#db = db;
    this.#writer = new BatchWriter<UsageRecord>({
      rowsPerInsert: ROWS_PER_INSERT,
      flushIntervalMs: options.flushIntervalMs,
      maxBatch: options.maxBatch,
      maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
      onError: options.onError,
      insert: async (records) => {
        const started = performance.now();
        const values: SqlValue[] = [];
        for (const r of records) pushValues(values, r);
        await db.run(insertSql('usage_records', COLUMNS, records.length), values);
        options.onQuery?.('insert_batch', (performance.now() - started) / 1000);
      },
    });
  }

  append(record: UsageRecord): void {
    this.#writer.push(record);
  }

  flush(): Promise<void> {
    return this.#writer.flush();
  }

  async ping(): Promise<void> {
    await this.#db.query('SELECT 1');
  }

  /** Writes what is queued and stops; the pool belongs to whoever opened it (keys and audit share it). */
  async close(): Promise<void> {
    this.#open = false;
    await this.#writer.close();
  }

  stats(): LedgerStats {
    return { store: 'postgres', open: this.#open, queued: this.#writer.queued, dropped: this.#writer.dropped };
  }
}

/** A record's values in the order of COLUMNS. */
function pushValues(values: SqlValue[], r: UsageRecord): void {
  values.push(r.time, r.requestId, r.identityId, r.userId, r.teamId, r.route, r.provider, r.model, r.upstreamModel,
    r.inputTokens, r.outputTokens, r.cachedInputTokens, r.costUsd, r.durationMs, r.status, r.errorClass, r.stream ? 1 : 0, r.cached ? 1 : 0, r.partial ? 1 : 0);
}
