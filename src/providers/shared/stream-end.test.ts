import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSecret } from '../../config/secrets.ts';
import { streamErrorEvent, truncatedStream } from './stream-end.ts';

test('streamErrorEvent: a server error carrying the upstream message (or type), scrubbed of the gateway secrets', () => {
  resolveSecret('sk-stream-end-unit-test-key');
  const echoed = streamErrorEvent({ error: { type: 'server_error', message: 'failed for key sk-stream-end-unit-test-key' } });
  assert.equal(echoed.code, 'GW_UPSTREAM_SERVER_ERROR');
  assert.equal(echoed.detail, 'failed for key [redacted]');
  assert.equal(streamErrorEvent({ type: 'error', error: { type: 'overloaded_error' } }).detail, 'overloaded_error');
  assert.equal(streamErrorEvent({ error: 'opaque' }).detail, 'error event mid-stream');
  assert.equal(streamErrorEvent({ error: { message: 'x'.repeat(500) } }).detail!.length, 200);
});

test('truncatedStream: a retryable protocol failure', () => {
  const err = truncatedStream();
  assert.equal(err.code, 'GW_UPSTREAM_PROTOCOL');
  assert.equal(err.errorClass, 'protocol');
  assert.equal(err.retryable, true);
});
