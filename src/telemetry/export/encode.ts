// OTLP/protobuf for the two record kinds the gateway exports per request (opentelemetry-proto 1.x, field
// numbers from trace/v1/trace.proto, logs/v1/logs.proto and common/v1/common.proto). Each record is
// encoded once, when it ends, as a repeated `spans` / `log_records` entry appended to its batch's buffer;
// an export wraps a batch in the resource and scope envelope, which is encoded once at start-up.
import { ProtoWriter } from './proto-writer.ts';

export type AttributeValue = string | number | boolean | readonly (string | number | boolean)[];
/** Attribute maps as built by the callers; undefined values are left out. */
export type Attributes = Record<string, AttributeValue | undefined>;

/** A finished span, in plain fields: what trace.ts knows when a span ends. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  /** The parent came from the client's traceparent (the server span of a continued trace). */
  parentIsRemote: boolean;
  traceState: string | undefined;
  name: string;
  kind: 'server' | 'client';
  /** Milliseconds since the epoch, with sub-millisecond precision. */
  startMs: number;
  endMs: number;
  attributes: Attributes;
  /** Status ERROR with this message; undefined leaves the status unset. */
  error: string | undefined;
}

/** One log line as an OTLP log record. */
export interface LogRecordData {
  /** Milliseconds since the epoch; NaN when the line had no usable time. */
  timeMs: number;
  level: string;
  body: string | undefined;
  /**
   * Where the attributes come from, written in turn (a line's bindings, its own fields, exception.* from its
   * err): the line's objects themselves, not a merged copy, which cost a keyed store per field. A key in two
   * sources is written twice (pino's bindings and a call's fields do not share keys). Nulls are left out, and
   * objects other than arrays of primitives are written as JSON.
   */
  attributes: readonly Record<string, unknown>[];
  /** Keys of `attributes` that are not attributes (the record's own parts, the resource's). */
  omit: ReadonlySet<string>;
  traceId: string | undefined;
  spanId: string | undefined;
}

export type Signal = 'traces' | 'logs';

/** ScopeSpans.spans and ScopeLogs.log_records. */
const RECORD_FIELD = 2;
const SPAN_KIND = { server: 2, client: 3 } as const;
const STATUS_ERROR = 2;
/** Span flags: the W3C sampled bit (spans are exported only when sampled), and whether the parent is remote. */
const FLAG_SAMPLED = 0x01;
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;
const SEVERITY_NUMBER: Record<string, number> = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };

/** Appends a span to a batch: one `ScopeSpans.spans` entry (field 2) holding the `Span` message. */
export function encodeSpan(w: ProtoWriter, span: SpanRecord): void {
  const entry = w.beginRecord(RECORD_FIELD);
  w.hex(1, span.traceId).hex(2, span.spanId);
  if (span.traceState) w.string(3, span.traceState);
  if (span.parentSpanId) w.hex(4, span.parentSpanId);
  w.raw(spanNames.bytes(span.name)).uint(6, SPAN_KIND[span.kind]).timeNanos(7, span.startMs).timeNanos(8, span.endMs);
  attributes(w, 9, span.attributes);
  if (span.error !== undefined) {
    const status = w.begin(15);
    w.string(2, span.error).uint(3, STATUS_ERROR);
    w.end(status);
  }
  w.fixed32(16, FLAG_SAMPLED | FLAG_HAS_IS_REMOTE | (span.parentSpanId && span.parentIsRemote ? FLAG_IS_REMOTE : 0));
  w.endRecord(entry);
}

/** Appends a log record to a batch: one `ScopeLogs.log_records` entry (field 2) holding the `LogRecord`. */
export function encodeLogRecord(w: ProtoWriter, record: LogRecordData, observedMs: number): void {
  const entry = w.beginRecord(RECORD_FIELD);
  if (Number.isFinite(record.timeMs)) w.timeNanos(1, record.timeMs);
  w.uint(2, SEVERITY_NUMBER[record.level] ?? 0);
  if (record.level) w.raw(logLevels.bytes(record.level));
  if (record.body !== undefined) w.raw(logBodies.bytes(record.body));
  for (const source of record.attributes) {
    for (const key in source) {
      if (record.omit.has(key)) continue;
      const value = attributeValue(source[key]);
      if (value !== undefined) attribute(w, 6, key, value);
    }
  }
  if (record.traceId && record.spanId) w.hex(9, record.traceId).hex(10, record.spanId);
  w.timeNanos(11, observedMs);
  w.endRecord(entry);
}

/**
 * The export request's envelope, fixed for the process: `resource_spans` / `resource_logs` holding the
 * resource and one scope (both signals use the same field numbers). The returned function puts a batch of
 * encoded records (what encodeSpan / encodeLogRecord appended) inside it. What it returns is its own
 * buffer, reused by the next call: the export queue sends one batch at a time, so no copy is made (a
 * fresh buffer of a batch's size per export was external memory for the collector to chase).
 */
export function envelope(resource: Attributes, scope: { name: string; version: string }): (records: Uint8Array) => Buffer {
  const w = new ProtoWriter(1024);
  const resourceBytes = attributesMessage(w, resource);
  const scopeBytes = w.reset().string(1, scope.name).string(2, scope.version).finish();
  const out = new ProtoWriter(64 * 1024);
  return (records) => {
    out.reset();
    const outer = out.begin(1); // ExportTraceServiceRequest.resource_spans / ExportLogsServiceRequest.resource_logs
    out.bytes(1, resourceBytes);
    const scoped = out.begin(2); // ResourceSpans.scope_spans / ResourceLogs.scope_logs
    out.bytes(1, scopeBytes).raw(records);
    out.end(scoped).end(outer);
    return out.view();
  };
}

/** A `Resource` message: its attributes only. */
function attributesMessage(w: ProtoWriter, values: Attributes): Buffer {
  w.reset();
  attributes(w, 1, values);
  return w.finish();
}

/** Repeated `KeyValue` under `field`; numbers are ints when whole, doubles otherwise (as the SDK does). */
function attributes(w: ProtoWriter, field: number, values: Attributes): void {
  for (const key in values) {
    const value = values[key];
    if (value !== undefined) attribute(w, field, key, value);
  }
}

function attribute(w: ProtoWriter, field: number, key: string, value: AttributeValue): void {
  const cached = typeof value === 'object' ? undefined : keyValue(key, value);
  if (cached !== undefined) {
    w.bytes(field, cached);
    return;
  }
  const kv = w.begin(field);
  w.raw(keyField(key));
  anyValue(w, 2, value);
  w.end(kv);
}

/** A log line's field as an attribute value: none for null, JSON for objects but arrays of primitives. */
function attributeValue(value: unknown): AttributeValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value as string | number | boolean;
  return isPrimitiveArray(value) ? value as AttributeValue : JSON.stringify(value);
}

function isPrimitiveArray(value: object): boolean {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean');
}

/**
 * Whole `KeyValue` messages, key and value encoded, made once per key and value. Most attribute values come
 * from small sets (methods, routes, models, providers, status codes, levels, modules), and copying the
 * message costs a fraction of encoding it again (per request, the spans' and log record's string
 * attributes are some 24 encodings; BENCHMARKS.md). A key whose values keep changing (request ids, token
 * counts) stops being cached when it reaches VALUES_PER_KEY: its values are encoded each time. Doubles and strings over STRING_LENGTH_MAX are never cached, and at most
 * KEY_CACHES_MAX keys are (some log lines carry data of their own), so the caches stay a few MiB at most.
 */
interface KeyCache {
  key: Buffer;
  /** undefined once the key had too many values to be worth caching. */
  values: Map<string | number | boolean, Buffer> | undefined;
}
const keyCaches = new Map<string, KeyCache>();
const VALUES_PER_KEY = 64;
const KEY_CACHES_MAX = 256;
const valueWriter = new ProtoWriter(256);

function keyValue(key: string, value: string | number | boolean): Buffer | undefined {
  if (typeof value === 'number' ? !Number.isSafeInteger(value) : typeof value === 'string' && value.length > STRING_LENGTH_MAX) return undefined;
  let cache = keyCaches.get(key);
  if (cache === undefined) {
    if (keyCaches.size >= KEY_CACHES_MAX) return undefined;
    cache = { key: keyField(key), values: new Map() };
    keyCaches.set(key, cache);
  }
  const values = cache.values;
  if (values === undefined) return undefined;
  let bytes = values.get(value);
  if (bytes === undefined) {
    if (values.size >= VALUES_PER_KEY) {
      cache.values = undefined;
      return undefined;
    }
    valueWriter.reset().raw(cache.key);
    anyValue(valueWriter, 2, value);
    bytes = valueWriter.finish();
    values.set(value, bytes);
  }
  return bytes;
}

/**
 * A string field whose values come from a small set (span names, log levels and messages), encoded once per
 * value; with `inner`, the string is the only field of a message (a log body's AnyValue). It keeps its
 * first STRING_VALUES_MAX values of up to STRING_LENGTH_MAX characters; others are encoded each time.
 */
class KnownStrings {
  readonly #field: number;
  readonly #inner: number | undefined;
  readonly #values = new Map<string, Buffer>();

  constructor(field: number, inner?: number) {
    this.#field = field;
    this.#inner = inner;
  }

  bytes(value: string): Buffer {
    const cacheable = value.length <= STRING_LENGTH_MAX;
    let bytes = cacheable ? this.#values.get(value) : undefined;
    if (bytes === undefined) {
      valueWriter.reset();
      if (this.#inner === undefined) valueWriter.string(this.#field, value);
      else {
        const message = valueWriter.begin(this.#field);
        valueWriter.string(this.#inner, value).end(message);
      }
      bytes = valueWriter.finish();
      if (cacheable && this.#values.size < STRING_VALUES_MAX) this.#values.set(value, bytes);
    }
    return bytes;
  }
}
const STRING_VALUES_MAX = 256;
const STRING_LENGTH_MAX = 200;
const spanNames = new KnownStrings(5);
const logLevels = new KnownStrings(3);
const logBodies = new KnownStrings(5, 1);

/**
 * `KeyValue.key` as encoded bytes, made once per key: attribute keys are a small fixed set (semantic
 * convention names, log field names), and copying the bytes costs a third of encoding the string again.
 * Bounded, in case some log line carries keys made from data.
 */
const keyFields = new Map<string, Buffer>();
const KEY_FIELDS_MAX = 1024;
const keyWriter = new ProtoWriter(256);

function keyField(key: string): Buffer {
  let bytes = keyFields.get(key);
  if (bytes === undefined) {
    bytes = keyWriter.reset().string(1, key).finish();
    if (keyFields.size < KEY_FIELDS_MAX) keyFields.set(key, bytes);
  }
  return bytes;
}

function anyValue(w: ProtoWriter, field: number, value: AttributeValue): void {
  const any = w.begin(field);
  if (typeof value === 'string') w.string(1, value);
  else if (typeof value === 'boolean') w.bool(2, value);
  else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) w.int(3, value);
    else w.double(4, value);
  } else {
    const array = w.begin(5);
    for (const item of value) anyValue(w, 1, item);
    w.end(array);
  }
  w.end(any);
}
