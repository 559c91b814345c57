// The embedded usage ledger: node:sqlite (no native addon) in WAL mode. Records queue in memory and are
// written in one transaction per batch, on a timer or when the batch is full, never inside a request; the
// log is copied into the database file by a thread of its own (wal-checkpointer.ts). The schema is the
// shared one (sql/usage-schema.ts), migrated through the SQL port over this ledger's own connection: one
// migration runner for both databases, and the writes keep their synchronous prepared statements.
import { mkdirSync, statSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { LedgerStats, QueryObserver, UsageLedger, UsageRecord } from '../ports.ts';
import { sqliteBusy, sqliteDatabase, sqliteFile } from '../sql/database.ts';
import { migrateUsage } from '../sql/usage-schema.ts';
import { startCheckpointer, type Checkpointer } from './wal-checkpointer.ts';

export interface SqliteLedgerOptions {
  dataDir: string;
  flushIntervalMs: number;
  maxBatch: number;
  /** Told about write failures (the records stay queued and are retried). */
  onError?: (err: unknown) => void;
  /** Told when the checkpoint thread fails (commits then checkpoint as SQLite does by default). */
  onCheckpointError?: (err: unknown) => void;
  /** How often the log is checkpointed into the database file, off the request thread. */
  checkpointIntervalMs?: number;
  onQuery?: QueryObserver;
  /** While the store is failing, at most this many records wait; older ones are dropped and counted. */
  maxQueue?: number;
}

/** The ledger's own figures beside the ones every ledger has: the WAL file waiting to be checkpointed. */
export interface SqliteLedgerStats extends LedgerStats {
  walBytes: number;
}

const DEFAULT_MAX_QUEUE = 100_000;
/** Every second cost ~4 % more CPU per request in one pair of runs (pages rewritten five times as often). */
const DEFAULT_CHECKPOINT_INTERVAL_MS = 5000;
/** Rows per transaction: about half a millisecond of synchronous SQLite work. */
const WRITE_CHUNK = 200;
/**
 * Rows per INSERT within it: fewer statements to bind, step and reset. A record cost 1.9 µs to write against
 * 2.3 one row to a statement (bench/micro/finish.bench.ts, mean of three interleaved runs), and at 2,000
 * req/s a chunk held the loop 0.39–0.44 ms against 0.48–0.51 (BENCHMARKS.md).
 */
const ROWS_PER_INSERT = 50;

export class SqliteUsageLedger implements UsageLedger {
  readonly #db: DatabaseSync;
  /** Settles once the schema is current; the statements exist from then on. */
  readonly #ready: Promise<void>;
  #insert: StatementSync | undefined;
  #insertMany: StatementSync | undefined;
  readonly #options: SqliteLedgerOptions;
  readonly #timer: NodeJS.Timeout;
  readonly #file: string;
  readonly #walPath: string;
  readonly #checkpointer: Checkpointer;
  #queue: UsageRecord[] = [];
  #dropped = 0;
  #failing = false;

  /** A ledger whose schema is current, or the migration's error (the ledger is closed again). */
  static async open(options: SqliteLedgerOptions): Promise<SqliteUsageLedger> {
    const ledger = new SqliteUsageLedger(options);
    try {
      await ledger.#ready;
    } catch (err) {
      await ledger.close().catch(() => {});
      throw err;
    }
    return ledger;
  }

  /**
   * Starts the migration, which node:sqlite finishes within this turn's microtasks (no I/O is awaited), so
   * before any timer or batch could write; `open()` waits for it and throws what it throws.
   */
  constructor(options: SqliteLedgerOptions) {
    this.#options = options;
    mkdirSync(options.dataDir, { recursive: true });
    const file = sqliteFile(options.dataDir);
    this.#file = file;
    this.#walPath = `${file}-wal`;
    this.#db = new DatabaseSync(file);
    // busy_timeout first: with server.workers > 1 several processes open, switch and write this file at
    // once, and every statement (journal_mode included) must wait for the lock rather than fail.
    this.#db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    // The migration runs in one BEGIN IMMEDIATE: one process at a time checks and changes the schema.
    this.#ready = migrateUsage(sqliteDatabase(this.#db, file)).then(() => {
      this.#insert = this.#db.prepare(insertRows(1));
      this.#insertMany = this.#db.prepare(insertRows(ROWS_PER_INSERT));
    });
    this.#ready.catch((err) => options.onError?.(err));
    this.#timer = setInterval(() => this.#drain(), options.flushIntervalMs);
    this.#timer.unref();
    this.#checkpointer = startCheckpointer(this.#db, { file, intervalMs: options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS },
      { onQuery: options.onQuery, onError: options.onCheckpointError });
  }

  append(record: UsageRecord): void {
    this.#queue.push(record);
    if (this.#queue.length === this.#options.maxBatch) setImmediate(() => this.#drain());
  }

  async flush(): Promise<void> {
    await this.#ready;
    await this.#idle();
    this.#writeAll();
  }

  async ping(): Promise<void> {
    await this.#ready;
    const started = performance.now();
    this.#db.prepare('SELECT 1').get();
    this.#options.onQuery?.('ping', (performance.now() - started) / 1000);
  }

  stats(): SqliteLedgerStats {
    let walBytes = 0;
    try {
      walBytes = statSync(this.#walPath).size;
    } catch {
      // no WAL file yet (or checkpointed away)
    }
    return { store: 'sqlite', open: this.#db.isOpen, walBytes, queued: this.#queue.length, dropped: this.#dropped };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#ready.catch(() => {}); // reported to onError, or thrown by open()
    await this.#idle();
    this.#writeAll();
    await this.#checkpointer.close();
    this.#db.close();
  }

  /** Until no transaction of this process holds the file (see sql/database.ts sqliteBusy). */
  async #idle(): Promise<void> {
    while (sqliteBusy(this.#file)) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  /** Recent records, newest first: for operators and tests. */
  recent(limit: number): Record<string, unknown>[] {
    return this.#db.prepare('SELECT * FROM usage_records ORDER BY id DESC LIMIT ?').all(limit) as Record<string, unknown>[];
  }

  /**
   * Writes the queue a chunk per event-loop turn: node:sqlite is synchronous (~2.5 µs a row here), so one
   * transaction of a second's traffic would stall every request in flight for milliseconds.
   */
  #drain(): void {
    if (sqliteBusy(this.#file)) return; // a store's transaction holds the file: the timer comes back
    this.#write();
    if (this.#queue.length > 0 && this.#db.isOpen && !this.#failing) setImmediate(() => this.#drain());
  }

  /** Everything queued, now (flush and shutdown); stops when a chunk makes no progress. */
  #writeAll(): void {
    let before = Infinity;
    while (this.#queue.length > 0 && this.#queue.length < before) {
      before = this.#queue.length;
      this.#write();
    }
  }

  #write(): void {
    if (this.#queue.length === 0 || !this.#db.isOpen || !this.#insert || !this.#insertMany) return;
    const batch = this.#queue.length > WRITE_CHUNK ? this.#queue.splice(0, WRITE_CHUNK) : this.#queue;
    if (batch === this.#queue) this.#queue = [];
    this.#failing = false;
    const started = performance.now();
    try {
      this.#db.exec('BEGIN');
      let i = 0;
      for (; i + ROWS_PER_INSERT <= batch.length; i += ROWS_PER_INSERT) {
        const values: SQLInputValue[] = [];
        for (let j = i; j < i + ROWS_PER_INSERT; j++) pushValues(values, batch[j]);
        this.#insertMany.run(...values);
      }
      for (; i < batch.length; i++) this.#insertOne(batch[i]);
      this.#db.exec('COMMIT');
      this.#options.onQuery?.('insert_batch', (performance.now() - started) / 1000);
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      this.#options.onError?.(err);
      this.#failing = true; // the timer retries; no tight loop against a failing store
      this.#salvage(batch);
    }
  }

  #insertOne(r: UsageRecord): void {
    this.#insert?.run(...pushValues([], r));
  }

  /**
   * After a failed batch: write what can be written one by one. A record the schema rejects can never be
   * written and is dropped, so it cannot block every later batch; anything else waits for the next attempt.
   */
  #salvage(batch: UsageRecord[]): void {
    const retry: UsageRecord[] = [];
    for (const record of batch) {
      try {
        this.#insertOne(record);
      } catch (err) {
        if ((err as { errcode?: number }).errcode === SQLITE_CONSTRAINT_NOTNULL || /constraint/i.test(String(err))) this.#dropped++;
        else retry.push(record);
      }
    }
    const limit = this.#options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.#queue = retry.concat(this.#queue);
    if (this.#queue.length > limit) {
      this.#dropped += this.#queue.length - limit;
      this.#queue = this.#queue.slice(-limit);
    }
  }
}

const SQLITE_CONSTRAINT_NOTNULL = 1299;

const COLUMNS = `time, request_id, identity_id, route, provider, model, upstream_model,
  input_tokens, output_tokens, cached_input_tokens, cost_usd, duration_ms, status, error_class, stream, user_id, team_id, cached, partial`;

/** An INSERT of `rows` rows, their values in the order pushValues() gives them. */
function insertRows(rows: number): string {
  const row = `(${COLUMNS.split(',').map(() => '?').join(', ')})`;
  return `INSERT INTO usage_records (${COLUMNS}) VALUES ${Array(rows).fill(row).join(', ')}`;
}

/** Appends a record's values, in the order of COLUMNS, to a statement's arguments. */
function pushValues(values: SQLInputValue[], r: UsageRecord): SQLInputValue[] {
  values.push(r.time, r.requestId, r.identityId, r.route, r.provider, r.model, r.upstreamModel,
    r.inputTokens, r.outputTokens, r.cachedInputTokens, r.costUsd, r.durationMs, r.status, r.errorClass, r.stream ? 1 : 0,
    r.userId, r.teamId, r.cached ? 1 : 0, r.partial ? 1 : 0);
  return values;
}
