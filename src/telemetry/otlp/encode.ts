// OTLP/protobuf for the two record kinds the gateway exports per request (opentelemetry-proto 1.x, field
// numbers from trace/v1/trace.proto, logs/v1/logs.proto and common/v1/common.proto). Each record is
// encoded once, when it ends, as a repeated `spans` / `log_records` entry appended to its batch's buffer;
// an export wraps a batch in the resource and scope envelope, which is encoded once at start-up.
import { ProtoWriter } from './proto-writer.ts';

export type AttributeValue = string | number | boolean | readonly (string | number | boolean)[];
/** Attribute maps as built by the callers; undefined values are left out. */
export type Attributes = Record<string, AttributeValue | undefined>;

/**
 * A finished span as the encoder reads it. trace.ts's span objects are this themselves, so ending a span
 * builds no record: the fixed fields are read off the span and its attributes are written straight from
 * the request (writeAttributes), each key's bytes encoded once at start-up (attributeKey).
 */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  /** The parent came from the client's traceparent (the server span of a continued trace). */
  readonly parentIsRemote: boolean;
  readonly traceState: string | undefined;
  readonly name: string;
  readonly kind: 'server' | 'client';
  /** Milliseconds since the epoch, with sub-millisecond precision. */
  readonly startMs: number;
  readonly endMs: number;
  /** Status ERROR with this message; undefined leaves the status unset. */
  readonly error: string | undefined;
  writeAttributes(a: AttributeWriter): void;
}

/** One log line as an OTLP log record. */
export interface LogRecordData {
  /** Milliseconds since the epoch; NaN when the line had no usable time. */
  timeMs: number;
  level: string;
  body: string | undefined;
  attributes: Attributes;
  traceId: string | undefined;
  spanId: string | undefined;
}

export type Signal = 'traces' | 'logs';

/** ScopeSpans.spans and ScopeLogs.log_records. */
const RECORD_FIELD = 2;
const SPAN_ATTRIBUTES = 9;
const LOG_ATTRIBUTES = 6;
const SPAN_KIND = { server: 2, client: 3 } as const;
const STATUS_ERROR = 2;
/** Span flags: the W3C sampled bit (spans are exported only when sampled), and whether the parent is remote. */
const FLAG_SAMPLED = 0x01;
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;
const SEVERITY_NUMBER: Record<string, number> = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };

/**
 * Repeated `KeyValue`s under one field of the message being written. Each attribute is the key's bytes
 * (made once, see attributeKey) and the value written in place: no attribute map is built, iterated or
 * looked up per record.
 */
export class AttributeWriter {
  #w!: ProtoWriter;
  #field = 0;

  /** Points the writer at a message's attributes field. */
  into(w: ProtoWriter, field: number): this {
    this.#w = w;
    this.#field = field;
    return this;
  }

  string(key: AttributeKey, value: string): this {
    const w = this.#w;
    const kv = this.#key(key);
    const any = w.open();
    w.string(1, value).end(any).end(kv);
    return this;
  }

  /** A whole number (int64), e.g. a status code or a token count. */
  int(key: AttributeKey, value: number): this {
    const w = this.#w;
    const kv = this.#key(key);
    const any = w.open();
    w.int(3, value).end(any).end(kv);
    return this;
  }

  double(key: AttributeKey, value: number): this {
    const w = this.#w;
    const kv = this.#key(key);
    const any = w.open();
    w.double(4, value).end(any).end(kv);
    return this;
  }

  bool(key: AttributeKey, value: boolean): this {
    const w = this.#w;
    const kv = this.#key(key);
    const any = w.open();
    w.bool(2, value).end(any).end(kv);
    return this;
  }

  /** An array of strings (`gen_ai.response.finish_reasons`). */
  strings(key: AttributeKey, values: readonly string[]): this {
    return this.value(key, values);
  }

  /** Any value of an attribute map: numbers are ints when whole, doubles otherwise (as the SDK does). */
  value(key: AttributeKey, value: AttributeValue): this {
    const w = this.#w;
    const kv = this.#key(key);
    const any = w.open();
    anyValueBody(w, value);
    w.end(any).end(kv);
    return this;
  }

  /** Every defined entry of a map (log fields, the resource), keys encoded through a bounded cache. */
  all(values: Attributes): this {
    for (const name in values) {
      const value = values[name];
      if (value !== undefined) this.value(cachedKey(name), value);
    }
    return this;
  }

  /** Opens the `KeyValue` and copies in the key and the value's tag; the value's length is still to open. */
  #key(key: AttributeKey): number {
    const kv = this.#w.begin(this.#field);
    this.#w.raw(key.bytes);
    return kv;
  }
}

/** An attribute key encoded once: `KeyValue.key` and the tag of `KeyValue.value`, copied as they are. */
export class AttributeKey {
  readonly name: string;
  readonly bytes: Buffer;
  constructor(name: string) {
    this.name = name;
    this.bytes = new ProtoWriter(name.length * 3 + 8).string(1, name).lengthTag(2).finish();
  }
}

/** One writer for every record: encoding is synchronous and never nested. */
const attributes = new AttributeWriter();

/** Appends a span to a batch: one `ScopeSpans.spans` entry (field 2) holding the `Span` message. */
export function encodeSpan(w: ProtoWriter, span: FinishedSpan): void {
  const entry = w.beginRecord(RECORD_FIELD);
  w.hex(1, span.traceId).hex(2, span.spanId);
  const traceState = span.traceState;
  if (traceState) w.string(3, traceState);
  const parentSpanId = span.parentSpanId;
  if (parentSpanId) w.hex(4, parentSpanId);
  w.string(5, span.name).uint(6, SPAN_KIND[span.kind]).timeNanos(7, span.startMs).timeNanos(8, span.endMs);
  span.writeAttributes(attributes.into(w, SPAN_ATTRIBUTES));
  const error = span.error;
  if (error !== undefined) {
    const status = w.begin(15);
    w.string(2, error).uint(3, STATUS_ERROR);
    w.end(status);
  }
  w.fixed32(16, FLAG_SAMPLED | FLAG_HAS_IS_REMOTE | (parentSpanId && span.parentIsRemote ? FLAG_IS_REMOTE : 0));
  w.endRecord(entry);
}

/** Appends a log record to a batch: one `ScopeLogs.log_records` entry (field 2) holding the `LogRecord`. */
export function encodeLogRecord(w: ProtoWriter, record: LogRecordData, observedMs: number): void {
  const entry = w.beginRecord(RECORD_FIELD);
  if (Number.isFinite(record.timeMs)) w.timeNanos(1, record.timeMs);
  w.uint(2, SEVERITY_NUMBER[record.level] ?? 0);
  if (record.level) w.string(3, record.level);
  if (record.body !== undefined) {
    const body = w.begin(5);
    w.string(1, record.body);
    w.end(body);
  }
  attributes.into(w, LOG_ATTRIBUTES).all(record.attributes);
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
  attributes.into(w, 1).all(resource); // Resource.attributes
  const resourceBytes = w.finish();
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

/**
 * Keys of attribute maps, encoded once per key: log field names are a small fixed set, and copying the
 * bytes costs a third of encoding the string again. Bounded, in case some log line carries keys made from data.
 */
const cachedKeys = new Map<string, AttributeKey>();
const CACHED_KEYS_MAX = 1024;

function cachedKey(name: string): AttributeKey {
  let key = cachedKeys.get(name);
  if (key === undefined) {
    key = new AttributeKey(name);
    if (cachedKeys.size < CACHED_KEYS_MAX) cachedKeys.set(name, key);
  }
  return key;
}

/** The inside of an `AnyValue`. */
function anyValueBody(w: ProtoWriter, value: AttributeValue): void {
  if (typeof value === 'string') w.string(1, value);
  else if (typeof value === 'boolean') w.bool(2, value);
  else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) w.int(3, value);
    else w.double(4, value);
  } else {
    const array = w.begin(5);
    for (const item of value) {
      const any = w.begin(1);
      anyValueBody(w, item);
      w.end(any);
    }
    w.end(array);
  }
}
