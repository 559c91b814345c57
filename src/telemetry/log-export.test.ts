import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { SeverityNumber, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { createOtlpLogs, toLogRecord } from './log-export.ts';
import { createLogs } from './log.ts';
import { GatewayError } from '../core/errors.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

test('toLogRecord: level → severity, msg → body, trace ids → context, the rest → attributes', () => {
  const line = JSON.stringify({
    level: 'warn', time: '2026-01-15T10:23:45.123Z', service: 'vigil', version: '1.0.0', module: 'pipeline',
    request_id: 'r1', trace_id: TRACE_ID, span_id: SPAN_ID, status: 502, stream: true, tools: ['a', 'b'], extra: { nested: 1 },
    err: { type: 'GatewayError', message: 'Upstream provider failed', stack: 'GatewayError: …' }, msg: 'request failed',
  });
  const record = toLogRecord(line)!;
  assert.equal(record.severityNumber, SeverityNumber.WARN);
  assert.equal(record.severityText, 'warn');
  assert.equal(record.body, 'request failed');
  assert.equal(record.timestamp, Date.parse('2026-01-15T10:23:45.123Z'));
  assert.deepEqual(trace.getSpanContext(record.context!), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 });
  assert.deepEqual(record.attributes, {
    module: 'pipeline', request_id: 'r1', status: 502, stream: true, tools: ['a', 'b'], extra: '{"nested":1}',
    'exception.type': 'GatewayError', 'exception.message': 'Upstream provider failed', 'exception.stacktrace': 'GatewayError: …',
  });
});

test('toLogRecord: lines without trace ids have no context; junk is skipped', () => {
  const record = toLogRecord('{"level":"info","msg":"vigil listening","trace_id":"nothex"}')!;
  assert.equal(record.context, undefined);
  assert.equal(record.severityNumber, SeverityNumber.INFO);
  assert.equal(toLogRecord('not json'), undefined);
  assert.equal(toLogRecord('[1,2]'), undefined);
});

test('createLogs with the OTLP tee: stdout keeps every line, OTLP gets only lines at or above its own minimum', async () => {
  const exporter = new InMemoryLogRecordExporter();
  const processor = new SimpleLogRecordProcessor({ exporter });
  const otlp = createOtlpLogs({
    resource: resourceFromAttributes({ 'service.name': 'vigil-test' }), version: '1.2.3', minLevel: 'warn', processors: [processor],
  });
  const stdout: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) stdout.push(JSON.parse(l));
      cb();
    },
  });
  const logs = createLogs({ level: 'debug', format: 'json', version: '1.2.3', tee: otlp.tee }, stream);
  const log = logs.module('pipeline');
  log.debug('detail');
  log.info({ request_id: 'r1' }, 'request');
  log.warn({ request_id: 'r2', trace_id: TRACE_ID, span_id: SPAN_ID }, 'request failed');
  log.error('broken');
  await processor.forceFlush();
  assert.deepEqual(stdout.map((l) => l.msg), ['detail', 'request', 'request failed', 'broken']);
  const records = exporter.getFinishedLogRecords();
  assert.deepEqual(records.map((r) => r.body), ['request failed', 'broken']);
  assert.equal(records[0].resource.attributes['service.name'], 'vigil-test');
  assert.equal(records[0].spanContext?.traceId, TRACE_ID);
  assert.equal(records[0].attributes.request_id, 'r2');
  assert.equal(records[0].instrumentationScope.name, 'vigil');
});

test('request lines with the OTLP tee: the record made from the fields equals the one the stdout line would give', async () => {
  const exporter = new InMemoryLogRecordExporter();
  const processor = new SimpleLogRecordProcessor({ exporter });
  const otlp = createOtlpLogs({ resource: resourceFromAttributes({}), version: '1.2.3', minLevel: 'info', processors: [processor] });
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
  await processor.forceFlush();

  const records = exporter.getFinishedLogRecords();
  assert.equal(stdout.length, 2);
  assert.equal(records.length, 2);
  for (const [i, line] of stdout.entries()) {
    const parsed = toLogRecord(line)!;
    assert.deepEqual(records[i].attributes, parsed.attributes);
    assert.equal(records[i].body, parsed.body);
    assert.equal(records[i].severityNumber, parsed.severityNumber);
    assert.ok(Math.abs(records[i].hrTime[0] * 1000 - Number(parsed.timestamp)) < 1000);
  }
  assert.equal(records[0].spanContext?.spanId, SPAN_ID);
  assert.equal(records[0].attributes.module, 'pipeline');
  assert.equal(records[1].attributes['exception.type'], 'GatewayError');
  assert.match(String(records[1].attributes['exception.message']), /no answer in 30 s/);
});
