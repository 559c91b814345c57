import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogs, unknownLogModules } from './log.ts';

function capture(level: string) {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { lines, logs: createLogs({ level, format: 'json', version: '1.2.3' }, stream) };
}

test('createLogs: JSON lines with label level, ISO time, service, version and msg', () => {
  const { lines, logs } = capture('info');
  const before = Date.now();
  logs.root.info({ request_id: 'req-1', status: 200 }, 'request');
  assert.equal(lines.length, 1);
  const line = lines[0];
  assert.equal(line.level, 'info');
  assert.equal(line.service, 'vigil');
  assert.equal(line.version, '1.2.3');
  assert.equal(line.msg, 'request');
  assert.equal(line.request_id, 'req-1');
  assert.equal(line.status, 200);
  assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(line.time) - before) < 5000);
});

test('createLogs: module levels — debug from routing appears, debug from server does not', () => {
  const { lines, logs } = capture('info,routing=debug');
  logs.module('routing').debug({ attempt: 1 }, 'routing detail');
  logs.module('server').debug('server detail');
  logs.module('server').info('server info');
  logs.module('routing').trace('routing trace');
  assert.deepEqual(lines.map((l) => [l.module, l.level, l.msg]), [
    ['routing', 'debug', 'routing detail'],
    ['server', 'info', 'server info'],
  ]);
  assert.equal(lines[0].attempt, 1);
  assert.equal(logs.module('routing'), logs.module('routing'), 'module loggers are made once');
});

test('createLogs: the root logger follows the default level, not the most verbose module level', () => {
  // `Logs.root` is public; with `info,routing=debug` a debug line logged on it should stay hidden.
  const { lines, logs } = capture('info,routing=debug');
  logs.root.debug('root detail');
  logs.root.info('root info');
  assert.deepEqual(lines.map((l) => l.msg), ['root info']);
});

test('createLogs: a quieter module level suppresses its info lines', () => {
  const { lines, logs } = capture('info,store=error');
  logs.module('store').warn('store warn');
  logs.module('store').error('store error');
  logs.module('pipeline').info('pipeline info');
  assert.deepEqual(lines.map((l) => l.msg), ['store error', 'pipeline info']);
});

test('createLogs: credentials are redacted', () => {
  const { lines, logs } = capture('info');
  logs.module('server').info({ headers: { authorization: 'Bearer sk-secret', 'x-api-key': 'sk-ant-secret', accept: 'application/json' } }, 'headers');
  logs.root.info({ api_key: 'sk-top', provider: { api_key: 'sk-nested', kind: 'openai' } }, 'config');
  const text = JSON.stringify(lines);
  assert.doesNotMatch(text, /sk-secret|sk-ant-secret|sk-top|sk-nested/);
  assert.deepEqual(lines[0].headers, { authorization: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' });
  assert.equal(lines[1].api_key, '[redacted]');
  assert.deepEqual(lines[1].provider, { api_key: '[redacted]', kind: 'openai' });
});

test('createLogs: a bad level in the config throws before any logger exists', () => {
  assert.throws(() => createLogs({ level: 'chatty', format: 'json', version: 'x' }, new Writable({ write(_c, _e, cb) { cb(); } })), /"chatty"/);
});

test('debugLogger: the module logger when debug is on for it, else undefined (decided once, not per line)', () => {
  const { lines, logs } = capture('INFO,routing=Debug');
  assert.equal(logs.debugLogger('auth'), undefined);
  assert.equal(logs.debugLogger('server'), undefined);
  const routing = logs.debugLogger('routing');
  assert.ok(routing);
  routing.debug({ request_id: 'r1', provider: 'mock' }, 'routed');
  assert.deepEqual(lines.map((l) => [l.module, l.level, l.msg, l.provider]), [['routing', 'debug', 'routed', 'mock']]);
  assert.ok(capture('debug').logs.debugLogger('auth'), 'the default level reaches every module');
});

test('unknownLogModules: module names no module uses', () => {
  assert.deepEqual(unknownLogModules('info,routing=debug,auth=warn,store=error,server=info,pipeline=info,cluster=info'), []);
  assert.deepEqual(unknownLogModules('debug,routng=debug,http=trace'), ['routng', 'http']);
});

test('createLogs: request lines come from the pipeline module at its level, without the redaction pass', () => {
  const { lines, logs } = capture('info,pipeline=warn');
  const requests = logs.requestLines();
  requests.info({ status: 200 }, 'request');
  requests.warn({ status: 502 }, 'request failed');
  assert.deepEqual(lines.map((l) => [l.module, l.msg, l.status]), [['pipeline', 'request failed', 502]]);
});

test("requestLines: the info line is the line pino writes for the same fields, byte for byte but the time", () => {
  const written: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      written.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  const logs = createLogs({ level: 'info', format: 'json', version: '1.2.3', pid: 42 }, stream);
  const fields = { request_id: 'id "quoted" \u2028 é', trace_id: undefined, status: 200, duration_ms: 0.125, stream: true, cost_usd: Number.NaN, model: '' };
  logs.requestLines().info(fields, 'request');
  logs.module('pipeline').info(fields, 'request'); // pino itself, same base and bindings
  const [fast, reference] = written.map((line) => line.replace(/"time":"[^"]+"/, '"time":"T"'));
  assert.equal(fast, reference);
  assert.deepEqual(Object.keys(JSON.parse(fast)), ['level', 'time', 'service', 'version', 'pid', 'module', 'request_id', 'status', 'duration_ms', 'stream', 'cost_usd', 'model', 'msg']);

  const quiet = capture('warn');
  quiet.logs.requestLines().info(fields, 'request');
  quiet.logs.requestLines().warn({ request_id: 'r2', status: 502 }, 'request failed');
  assert.deepEqual(quiet.lines.map((l) => l.msg), ['request failed']);
});
