// The audit log: who did what (keys issued, revoked, rotated; auth failures; limits hit; admin actions),
// in the ledger's store, apart from request logs. append() only queues: events are written in batches off
// the request path (batch-writer.ts), and one that cannot be written is counted, never silently lost. Only
// the event's own fields are stored, detail values only as strings, numbers and booleans: whatever else an
// object carries (a key, a body) never reaches the table.
import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventType, AuditLog, AuditQuery, QueryObserver } from '../ports.ts';
import { migrateAudit } from './audit-schema.ts';
import { BatchWriter, insertSql } from './batch-writer.ts';
import type { SqlDatabase, SqlValue } from './database.ts';

export interface AuditLogOptions {
  /** Days an event is kept. */
  retentionDays: number;
  /** Days a security event (auth failures, blocks) is kept. */
  securityRetentionDays: number;
  /** Told the type of each event once it is stored (vigil_audit_events_total). */
  onRecorded?: (type: AuditEventType) => void;
  /** Told about failed writes (the events stay queued) and events that could not be stored. */
  onError?: (err: unknown) => void;
  onQuery?: QueryObserver;
  /** How often queued events are written; default 1 s. */
  flushIntervalMs?: number;
  /** A queue this long is written on the next turn; default 100. */
  maxBatch?: number;
  /** While the store fails, at most this many events wait; older ones are dropped and counted. Default 10,000. */
  maxQueue?: number;
}

const DAY_MS = 86_400_000;
const ROWS_PER_INSERT = 200;
const COLUMNS = ['id', 'time', 'type', 'actor', 'request_id', 'trace_id', 'target', 'security', 'detail'];

interface Queued {
  readonly type: AuditEventType;
  readonly values: readonly SqlValue[];
}

interface AuditRow {
  id: string;
  time: string;
  type: AuditEventType;
  actor: string;
  request_id: string | null;
  trace_id: string | null;
  target: string | null;
  security: unknown;
  detail: string | null;
}

export class SqlAuditLog implements AuditLog {
  readonly #db: SqlDatabase;
  readonly #options: AuditLogOptions;
  readonly #writer: BatchWriter<Queued>;

  /** Migrates the schema, then a log over `db` (which stays its owner's to close). */
  static async open(db: SqlDatabase, options: AuditLogOptions): Promise<SqlAuditLog> {
    await migrateAudit(db);
    return new SqlAuditLog(db, options);
  }

  private constructor(db: SqlDatabase, options: AuditLogOptions) {
    this.#db = db;
    this.#options = options;
    this.#writer = new BatchWriter<Queued>({
      rowsPerInsert: ROWS_PER_INSERT,
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      maxBatch: options.maxBatch ?? 100,
      maxQueue: options.maxQueue ?? 10_000,
      onError: options.onError,
      // An event is stored once: a retry of a write that did land (the reply was lost) adds nothing.
      insert: async (events) => {
        const started = performance.now();
        await db.run(insertSql('audit_events', COLUMNS, events.length, ' ON CONFLICT (id) DO NOTHING'), events.flatMap((e) => e.values));
        options.onQuery?.('audit_insert', (performance.now() - started) / 1000);
      },
      onWritten: (events) => {
        for (const e of events) options.onRecorded?.(e.type);
      },
    });
  }

  append(event: AuditEvent): void {
    const time = Date.parse(event.time);
    if (Number.isNaN(time)) {
      this.#writer.drop();
      this.#options.onError?.(new Error(`audit event ${event.type} dropped: time ${JSON.stringify(event.time)} is not ISO-8601`));
      return;
    }
    this.#writer.push({
      type: event.type,
      values: [event.id ?? randomUUID(), new Date(time).toISOString(), event.type, event.actor, event.requestId ?? null,
        event.traceId ?? null, event.target ?? null, event.security ? 1 : 0, detailText(event.detail)],
    });
  }

  /** Oldest first; events still queued are written first, so a query sees every event appended before it. */
  async query(query: AuditQuery): Promise<AuditEvent[]> {
    await this.flush();
    const conditions: [sql: string, value: SqlValue][] = [];
    if (query.type !== undefined) conditions.push(['type = ?', query.type]);
    if (query.since !== undefined) conditions.push(['time >= ?', new Date(query.since).toISOString()]);
    if (query.until !== undefined) conditions.push(['time < ?', new Date(query.until).toISOString()]);
    const where = conditions.length ? ` WHERE ${conditions.map(([sql]) => sql).join(' AND ')}` : '';
    const limit = query.limit !== undefined ? ' LIMIT ?' : '';
    const params = conditions.map(([, value]) => value).concat(query.limit !== undefined ? [query.limit] : []);
    const rows = await this.#db.query<AuditRow & Record<string, unknown>>(
      `SELECT id, time, type, actor, request_id, trace_id, target, security, detail FROM audit_events${where} ORDER BY time, seq${limit}`,
      params,
    );
    return rows.map(toEvent);
  }

  /** Deletes events older than retention, and security events older than their own, longer retention. */
  sweep(nowMs: number): Promise<number> {
    const before = (days: number) => new Date(nowMs - days * DAY_MS).toISOString();
    return this.#db.run('DELETE FROM audit_events WHERE (security = 0 AND time < ?) OR (security <> 0 AND time < ?)',
      [before(this.#options.retentionDays), before(this.#options.securityRetentionDays)]);
  }

  /** Writes what is queued; never throws (failures reach onError, the events stay queued). */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  async close(): Promise<void> {
    await this.#writer.close();
  }

  stats(): { queued: number; dropped: number } {
    return { queued: this.#writer.queued, dropped: this.#writer.dropped };
  }
}

/** The detail's string, number and boolean entries as JSON; null when there are none. */
function detailText(detail: AuditEvent['detail']): string | null {
  if (!detail) return null;
  const kept = Object.entries(detail).filter(([, v]) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)));
  return kept.length ? JSON.stringify(Object.fromEntries(kept)) : null;
}

function toEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    time: row.time,
    type: row.type,
    actor: row.actor,
    ...(row.request_id !== null ? { requestId: row.request_id } : {}),
    ...(row.trace_id !== null ? { traceId: row.trace_id } : {}),
    ...(row.target !== null ? { target: row.target } : {}),
    ...(Number(row.security) ? { security: true } : {}),
    ...(row.detail !== null ? { detail: JSON.parse(row.detail) as Record<string, string | number | boolean> } : {}),
  };
}
