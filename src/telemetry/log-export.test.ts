import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createOtlpLogs, toLogRecord } from './log-export.ts';
import { createLogs } from './log.ts';
import type { LogRecordData } from './export/encode.ts';
import { GatewayError } from '../core/errors.ts';
import { logsOnTheWire } from '../../test/helpers/otlp-wire.ts';

/** A sink that keeps what it is given, in place of the OTLP exporter. */
function memorySink() {
  const records: LogRecordData[] = [];
  return { records, sink: { add: (r: LogRecordData) => void records.push(r), shutdown: async () => {} } };
}

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

test('toLogRecord: level → severity, msg → body, trace ids → context, the rest → attributes', () => {
  const line = JSON.stringify({
    level: 'warn', time: '2026-01-15T10:23:45.123Z', service: 'vigil', version: '1.0.0', module: 'pipeline',
    request_id: 'r1', trace_id: TRACE_ID, span_id: SPAN_ID, status: 502, stream: true, tools: ['a', 'b'], extra: { nested: 1 },
    err: { type: 'GatewayError', message: 'Upstream provider failed', stack: 'GatewayError: …' }, msg: 'request failed',
  });
  const [exported] = logsOnTheWire(toLogRecord(line)!);
  assert.deepEqual([exported.severityText, exported.severityNumber], ['warn', 'SEVERITY_NUMBER_WARN']);
  assert.equal(exported.body, 'request failed');
  assert.equal(exported.timeUnixNano, `${Date.parse('2026-01-15T10:23:45.123Z')}000000`);
  assert.equal(exported.traceId, TRACE_ID);
  assert.equal(exported.spanId, SPAN_ID);
  assert.deepEqual(exported.resource, { 'service.name': 'vigil-test' }, 'service and version are the resource\'s, not attributes');
  assert.deepEqual(exported.attributes, {
    module: 'pipeline', request_id: 'r1', status: 502, stream: true, tools: ['a', 'b'], extra: '{"nested":1}',
    'exception.type': 'GatewayError', 'exception.message': 'Upstream provider failed', 'exception.stacktrace': 'GatewayError: …',
  });
});

test('toLogRecord: lines without trace ids have no context; junk is skipped', () => {
  const [exported, zeros] = logsOnTheWire(
    toLogRecord('{"level":"info","msg":"vigil listening","trace_id":"nothex","span_id":"b7ad6b7169203331"}')!,
    toLogRecord(`{"trace_id":"${'0'.repeat(32)}","span_id":"${SPAN_ID}"}`)!,
  );
  assert.deepEqual([exported.traceId, exported.spanId], ['', ''], 'no trace context on the wire');
  assert.equal(exported.severityText, 'info');
  assert.equal(exported.timeUnixNano, undefined, 'a line without a time has none');
  assert.deepEqual([zeros.traceId, zeros.spanId], ['', ''], 'all-zero ids are invalid');
  assert.equal(toLogRecord('not json'), undefined);
  assert.equal(toLogRecord('[1,2]'), undefined);
});

/** A stdout stand-in keeping each JSON line written to it, parsed. */
function jsonLines(): { stdout: Record<string, any>[]; stream: Writable } {
  const stdout: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) stdout.push(JSON.parse(l));
      cb();
    },
  });
  return { stdout, stream };
}

test('createLogs with the OTLP tee: stdout keeps every line, OTLP gets only lines at or above its own minimum', async () => {
  const { records, sink } = memorySink();
  const otlp = createOtlpLogs({ minLevel: 'warn', sink });
  const { stdout, stream } = jsonLines();
  const logs = createLogs({ level: 'debug', format: 'json', version: '1.2.3', tee: otlp.tee }, stream);
  const log = logs.module('pipeline');
  log.debug('detail');
  log.info({ request_id: 'r1' }, 'request');
  log.warn({ request_id: 'r2', trace_id: TRACE_ID, span_id: SPAN_ID }, 'request failed');
  log.error('broken');
  assert.deepEqual(stdout.map((l) => l.msg), ['detail', 'request', 'request failed', 'broken']);
  const exported = logsOnTheWire(...records);
  assert.deepEqual(exported.map((r) => r.body), ['request failed', 'broken']);
  assert.deepEqual(exported.map((r) => r.severityNumber), ['SEVERITY_NUMBER_WARN', 'SEVERITY_NUMBER_ERROR']);
  assert.equal(exported[0].traceId, TRACE_ID);
  assert.equal(exported[0].attributes.request_id, 'r2');
});

test('createLogs with the OTLP tee: OTLP may be more verbose than stdout (stdout at warn, OTLP at info)', async () => {
  const { records, sink } = memorySink();
  const otlp = createOtlpLogs({ minLevel: 'info', sink });
  const { stdout, stream } = jsonLines();
  const logs = createLogs({ level: 'warn,routing=debug', format: 'json', version: '1.2.3', tee: otlp.tee }, stream);
  const store = logs.module('store');
  store.debug('not anywhere');
  store.info({ rows: 3 }, 'store info');
  store.warn('store warn');
  const routing = logs.module('routing');
  routing.debug('routing detail');
  const lines = logs.requestLines();
  assert.equal(lines.infoEnabled, true, 'the request line is built for OTLP even though stdout skips it');
  lines.info({ request_id: 'r1', status: 200 }, 'request');
  lines.warn({ request_id: 'r2', status: 502 }, 'request failed');

  assert.deepEqual(stdout.map((l) => l.msg), ['store warn', 'routing detail', 'request failed'], 'stdout keeps its own levels, per module too');
  const exported = logsOnTheWire(...records);
  assert.deepEqual(exported.map((r) => r.body), ['store info', 'store warn', 'request', 'request failed'], 'OTLP gets info and up from every module');
  assert.equal(exported[0].attributes.rows, 3);
  assert.equal(exported[0].attributes.module, 'store');
  assert.equal(exported[2].attributes.request_id, 'r1');
});

test('request lines with the OTLP tee: the record made from the fields equals the one the stdout line would give', async () => {
  const { records, sink } = memorySink();
  const otlp = createOtlpLogs({ minLevel: 'info', sink });
  const stdout: string[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      stdout.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const lines = createLogs({ level: 'info', format: 'json', version: '1.2.3', tee: otlp.tee }, stream).requestLines();
  lines.info({ request_id: 'r1', trace_id: TRACE_ID, span_id: SPAN_ID, status: 200, input_tokens: 12, stream: undefined }, 'request');
  const cause = new GatewayError('GW_UPSTREAM_TIMEOUT', 'no answer in 30 s');
  lines.warn({ request_id: 'r2', status: 504, error_code: cause.code, err: cause }, 'request failed');

  assert.equal(stdout.length, 2);
  assert.equal(records.length, 2);
  const exported = logsOnTheWire(...records);
  const fromLines = logsOnTheWire(...stdout.map((line) => toLogRecord(line)!));
  for (const [i, fromLine] of fromLines.entries()) {
    const { timeUnixNano, ...rest } = exported[i];
    const { timeUnixNano: lineTime, ...lineRest } = fromLine;
    assert.deepEqual(rest, lineRest);
    assert.ok(Math.abs(Number(BigInt(timeUnixNano!) - BigInt(lineTime!)) / 1e6) < 1000);
  }
  assert.equal(exported[0].spanId, SPAN_ID);
  assert.equal(exported[0].attributes.module, 'pipeline');
  assert.equal(exported[1].attributes['exception.type'], 'GatewayError');
  assert.match(String(exported[1].attributes['exception.message']), /no answer in 30 s/);
});
