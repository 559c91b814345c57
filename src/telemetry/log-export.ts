// OTLP log export of the JSON log stream: pino writes each line to stdout and, through a second
// destination, here. A line at or above the OTLP minimum level becomes an OTLP log record (level →
// severity, msg → body, trace_id/span_id → the record's trace context, other fields → attributes),
// encoded at once and queued for export (export/). The per-request line skips the JSON round trip: its
// record is made from the same fields the line was written from (`record`, called by log.ts). Adding only
// appends to the export queue, so a slow or dead collector costs a request nothing; the queue drops (and
// counts) what it cannot hold.
import type { LogTee } from './log.ts';
import { withDeadline } from './deadline.ts';
import type { Attributes, LogRecordData } from './export/encode.ts';
import type { RecordSink } from './export/records.ts';
import { isValidIdPair } from './trace-ids.ts';

export type { LogTee };

export interface OtlpLogs {
  readonly tee: LogTee;
  shutdown(): Promise<void>;
}

export interface OtlpLogsOptions {
  minLevel: LogTee['level'];
  /** The OTLP exporter (tests: their own). */
  sink: RecordSink<LogRecordData>;
  /** Upper bound on the final flush at shutdown. */
  shutdownTimeoutMs?: number;
}

/** Fields that become the record's own parts, or repeat the resource (service, version). */
const RESERVED = new Set(['time', 'level', 'msg', 'trace_id', 'span_id', 'service', 'version', 'err']);

export function createOtlpLogs(options: OtlpLogsOptions): OtlpLogs {
  const sink = options.sink;
  return {
    tee: {
      level: options.minLevel,
      write(line) {
        const record = toLogRecord(line);
        if (record) sink.add(record);
      },
      record(level, msg, fields, bindings) {
        sink.add(recordOf(level, msg, Date.now(), bindings, fields));
      },
    },
    async shutdown() {
      // Bounded: a hung collector must not hold the process past the export timeout.
      await withDeadline(sink.shutdown(), (options.shutdownTimeoutMs ?? 1000) + 500, 'OpenTelemetry shutdown').catch(() => undefined);
    },
  };
}

/** One pino JSON line → an OTel log record; undefined for anything that is not a JSON object. */
export function toLogRecord(line: string): LogRecordData | undefined {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return undefined;
  const time = typeof fields.time === 'string' ? Date.parse(fields.time) : typeof fields.time === 'number' ? fields.time : NaN;
  return recordOf(String(fields.level ?? ''), typeof fields.msg === 'string' ? fields.msg : undefined, time, fields);
}

/** A record from a line's fields (bindings, then the call's own), whether or not the line was ever serialised. */
export function recordOf(level: string, msg: string | undefined, time: number, ...sources: Record<string, unknown>[]): LogRecordData {
  let traceId: unknown, spanId: unknown, err: unknown;
  for (const fields of sources) {
    if (fields.trace_id !== undefined) traceId = fields.trace_id;
    if (fields.span_id !== undefined) spanId = fields.span_id;
    if (fields.err !== undefined) err = fields.err;
  }
  const traced = isValidIdPair(traceId, spanId);
  const exception = err === undefined ? undefined : exceptionOf(err);
  return {
    timeMs: time,
    level,
    body: msg,
    attributes: exception ? [...sources, exception] : sources,
    omit: RESERVED,
    traceId: traced ? traceId as string : undefined,
    spanId: traced ? spanId as string : undefined,
  };
}

/** An error (or pino's serialised { type, message, stack }) onto the exception semantic conventions. */
function exceptionOf(err: unknown): Attributes | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err instanceof Error ? { type: err.constructor.name, message: err.message, stack: err.stack } : err as { type?: unknown; message?: unknown; stack?: unknown };
  const attributes: Attributes = {};
  if (typeof e.type === 'string') attributes['exception.type'] = e.type;
  if (typeof e.message === 'string') attributes['exception.message'] = e.message;
  if (typeof e.stack === 'string') attributes['exception.stacktrace'] = e.stack;
  return attributes;
}
