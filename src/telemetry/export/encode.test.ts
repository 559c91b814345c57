import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeExportRequest } from '../../../test/helpers/otlp-receiver.ts';
import { encodeLogRecord, encodeSpan, envelope, type LogRecordData, type SpanRecord } from './encode.ts';
import { ProtoWriter } from './proto-writer.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const wrap = envelope({ 'service.name': 'vigil-test', 'service.version': '1.2.3' }, { name: 'vigil', version: '1.2.3' });
/** A batch of spans as the exporter sends it, decoded with the official protos. */
function spansRequest(...spans: SpanRecord[]): any {
  const w = new ProtoWriter(16); // small, so the tests also cover the writer growing
  for (const s of spans) encodeSpan(w, s);
  return decodeExportRequest('traces', wrap(w.view()));
}
/** The log records of a batch, decoded. */
function decodedLogs(...records: LogRecordData[]): any[] {
  const w = new ProtoWriter(16);
  for (const r of records) encodeLogRecord(w, r, 1_767_225_600_124);
  return decodeExportRequest('logs', wrap(w.view())).resource_logs[0].scope_logs[0].log_records;
}

const span = (over: Partial<SpanRecord> = {}): SpanRecord => ({
  traceId: TRACE_ID, spanId: SPAN_ID, parentSpanId: 'a1a2a3a4a5a6a7a8', parentIsRemote: true, traceState: 'vendor=abc',
  name: 'POST /v1/chat/completions', kind: 'server', startMs: 1_767_225_600_123.25, endMs: 1_767_225_600_125.5, // exact in a double
  attributes: { 'http.route': '/v1/chat/completions', 'http.response.status_code': 200, 'gen_ai.request.stream': true,
    'gen_ai.response.time_to_first_chunk': 0.25, 'gen_ai.response.finish_reasons': ['stop'], negative: -3, skipped: undefined },
  error: undefined, ...over,
});

test('spans decode with the official protos: ids, times in nanoseconds, kind, flags, attributes, resource and scope', () => {
  const request = spansRequest(span(), span({ kind: 'client', parentIsRemote: false, error: 'GW_UPSTREAM_TIMEOUT', traceState: undefined }));
  const [resourceSpans] = request.resource_spans;
  assert.deepEqual(resourceSpans.resource.attributes.map((kv: any) => [kv.key, kv.value.string_value]), [['service.name', 'vigil-test'], ['service.version', '1.2.3']]);
  const [scopeSpans] = resourceSpans.scope_spans;
  assert.deepEqual([scopeSpans.scope.name, scopeSpans.scope.version], ['vigil', '1.2.3']);
  const [server, client] = scopeSpans.spans;
  assert.equal(Buffer.from(server.trace_id).toString('hex'), TRACE_ID);
  assert.equal(Buffer.from(server.span_id).toString('hex'), SPAN_ID);
  assert.equal(Buffer.from(server.parent_span_id).toString('hex'), 'a1a2a3a4a5a6a7a8');
  assert.equal(server.trace_state, 'vendor=abc');
  assert.equal(server.name, 'POST /v1/chat/completions');
  assert.equal(server.kind, 'SPAN_KIND_SERVER');
  assert.equal(server.start_time_unix_nano, '1767225600123250000');
  assert.equal(server.end_time_unix_nano, '1767225600125500000');
  assert.equal(server.status, undefined);
  const attributes = Object.fromEntries(server.attributes.map((kv: any) => [kv.key, kv.value]));
  assert.deepEqual(Object.keys(attributes), ['http.route', 'http.response.status_code', 'gen_ai.request.stream', 'gen_ai.response.time_to_first_chunk', 'gen_ai.response.finish_reasons', 'negative']);
  assert.equal(attributes['http.response.status_code'].int_value, '200');
  assert.equal(attributes['gen_ai.request.stream'].bool_value, true);
  assert.equal(attributes['gen_ai.response.time_to_first_chunk'].double_value, 0.25);
  assert.equal(attributes['gen_ai.response.finish_reasons'].array_value.values[0].string_value, 'stop');
  assert.equal(attributes.negative.int_value, '-3');
  assert.equal(client.kind, 'SPAN_KIND_CLIENT');
  assert.deepEqual([client.status.code, client.status.message], ['STATUS_CODE_ERROR', 'GW_UPSTREAM_TIMEOUT']);
});

test('span flags (field 16, newer than the test protos): sampled, and whether the parent is remote', () => {
  // fixed32 field 16: tag 0x85 0x01, then the flags little-endian.
  const tail = (record: SpanRecord) => {
    const w = new ProtoWriter();
    encodeSpan(w, record);
    return [...w.view().subarray(-6)];
  };
  assert.deepEqual(tail(span()), [0x85, 0x01, 0x01, 0x03, 0, 0], 'remote parent');
  assert.deepEqual(tail(span({ parentIsRemote: false })), [0x85, 0x01, 0x01, 0x01, 0, 0], 'local parent');
});

test('log records decode: time, severity, body, trace context, attributes, observed time', () => {
  const record: LogRecordData = { timeMs: 1_767_225_600_123, level: 'warn', body: 'request failed', attributes: [{ request_id: 'r1', status: 502, 'exception.stacktrace': 'x'.repeat(300) }], omit: new Set(), traceId: TRACE_ID, spanId: SPAN_ID };
  const [first, bare] = decodedLogs(record, { ...record, timeMs: NaN, traceId: undefined, spanId: undefined, body: undefined });
  assert.equal(first.time_unix_nano, '1767225600123000000');
  assert.equal(first.observed_time_unix_nano, '1767225600124000000');
  assert.equal(first.severity_number, 'SEVERITY_NUMBER_WARN');
  assert.equal(first.severity_text, 'warn');
  assert.equal(first.body.string_value, 'request failed');
  assert.equal(Buffer.from(first.trace_id).toString('hex'), TRACE_ID);
  assert.equal(Buffer.from(first.span_id).toString('hex'), SPAN_ID);
  assert.deepEqual(first.attributes.map((kv: any) => kv.key), ['request_id', 'status', 'exception.stacktrace']);
  assert.equal(first.attributes[2].value.string_value.length, 300, 'a value over 127 bytes gets a longer length prefix');
  assert.equal(bare.time_unix_nano, undefined);
  assert.equal(bare.body, undefined);
  assert.equal(bare.trace_id?.length ?? 0, 0);
});

test('ProtoWriter: strings of any length and content round-trip through nested messages', () => {
  fc.assert(fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 400 }), { maxLength: 20 }), (values) => {
    const record: LogRecordData = { timeMs: 1, level: 'info', body: values.join('|'), attributes: [Object.fromEntries(values.map((v, i) => [`k${i}`, v]))], omit: new Set(), traceId: undefined, spanId: undefined };
    const [decoded] = decodedLogs(record);
    assert.equal(decoded.body.string_value, record.body);
    assert.deepEqual((decoded.attributes ?? []).map((kv: any) => kv.value.string_value), values);
  }), { numRuns: 200 });
});

test('attribute keys: any text, and past the cache of encoded keys (1,024) still encoded in full', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), { maxLength: 20 }), (keys) => {
    const attributes = Object.fromEntries(keys.map((k) => [k, 1]));
    const [decoded] = decodedLogs({ timeMs: 1, level: 'info', body: undefined, attributes: [attributes], omit: new Set(), traceId: undefined, spanId: undefined });
    // In the object's own order: integer-like keys ("0") come first in any JS object, whatever the insertion order.
    assert.deepEqual((decoded.attributes ?? []).map((kv: any) => kv.key), Object.keys(attributes));
  }), { numRuns: 100 });
  const many = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`key.${i}`, i]));
  const [decoded] = decodedLogs({ timeMs: 1, level: 'info', body: undefined, attributes: [many], omit: new Set(), traceId: undefined, spanId: undefined });
  assert.deepEqual(decoded.attributes.map((kv: any) => kv.key), Object.keys(many));
});

test('attribute values: repeated ones (cached) and ever-new ones (past the cache) decode as they were given', () => {
  const values = (decoded: any) => Object.fromEntries(decoded.attributes.map((kv: any) => {
    const v = kv.value;
    return [kv.key, v.string_value ?? v.bool_value ?? (v.int_value !== undefined ? Number(v.int_value) : v.double_value)];
  }));
  // request_id and tokens take more values than a key's cache holds; route, status and stream repeat.
  for (let i = 0; i < 300; i++) {
    const attributes = { request_id: `r-${i}`, prompt_like: 'p'.repeat(150 + i), route: '/v1/chat/completions', status: i % 3 === 0 ? 502 : 200, stream: i % 2 === 0, tokens: i - 5, latency: i + 0.5 };
    const [decoded] = decodedLogs({ timeMs: 1, level: 'info', body: undefined, attributes: [attributes], omit: new Set(), traceId: undefined, spanId: undefined });
    assert.deepEqual(values(decoded), attributes);
  }
});

test('span names, log levels and bodies (encoded once per value): the same text in each place, repeated, and long', () => {
  const long = 'z'.repeat(500);
  for (let i = 0; i < 3; i++) {
    for (const text of ['request', long]) {
      const [decoded] = spansRequest(span({ name: text })).resource_spans[0].scope_spans[0].spans;
      assert.equal(decoded.name, text);
      const [log] = decodedLogs({ timeMs: 1, level: text, body: text, attributes: [], omit: new Set(), traceId: undefined, spanId: undefined });
      assert.equal(log.body.string_value, text);
      assert.equal(log.severity_text, text);
    }
  }
});

test('integers at the 7-bit varint boundaries, and a message longer than 16 KiB, decode as given', () => {
  const values = [0, 1, 127, 128, 16_383, 16_384, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -(2 ** 40)];
  const [decoded] = decodedLogs({ timeMs: 1, level: 'info', body: undefined, attributes: [Object.fromEntries(values.map((n, i) => [`n${i}`, n]))], omit: new Set(), traceId: undefined, spanId: undefined });
  assert.deepEqual(decoded.attributes.map((kv: any) => kv.value.int_value), values.map(String));
  const long = 'y'.repeat(20_000);
  const [decodedLong] = decodedLogs({ timeMs: 1, level: 'info', body: long, attributes: [], omit: new Set(), traceId: undefined, spanId: undefined });
  assert.equal(decodedLong.body.string_value, long);
});

test('records whose length needs one, two or three varint bytes decode whole, and so does what follows them', () => {
  // Bodies around the sizes where a record's length prefix grows (128 and 16,384 bytes), then a next record.
  const sizes = [0, 1, 300, 70_000];
  for (const boundary of [128, 16_384]) for (let size = boundary - 48; size <= boundary + 2; size++) sizes.push(size);
  for (const size of sizes) {
    const body = 'b'.repeat(size);
    const record = (text: string | undefined, status: number): LogRecordData =>
      ({ timeMs: 1, level: 'info', body: text, attributes: [{ status }], omit: new Set(), traceId: TRACE_ID, spanId: SPAN_ID });
    const [first, next] = decodedLogs(record(body, size), record(undefined, 7));
    assert.equal(first.body?.string_value ?? '', body, `body of ${size} bytes`);
    assert.equal(first.attributes[0].value.int_value, String(size));
    assert.equal(Buffer.from(first.span_id).toString('hex'), SPAN_ID);
    assert.equal(next.attributes[0].value.int_value, '7', `the record after one of ${size} bytes`);
  }
});
