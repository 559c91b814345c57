import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoNow } from './clock.ts';

test('isoNow names the current millisecond as toISOString writes it, and a new one once the clock moves', (t) => {
  // A mocked clock: what is checked is isoNow's reuse of one string per millisecond, not the platform's clock.
  const start = Date.UTC(2026, 0, 15, 10, 23, 45, 123);
  t.mock.timers.enable({ apis: ['Date'], now: start });
  assert.equal(isoNow(), '2026-01-15T10:23:45.123Z');
  assert.equal(isoNow(), '2026-01-15T10:23:45.123Z', 'the same millisecond, the same time');
  t.mock.timers.tick(1);
  assert.equal(isoNow(), '2026-01-15T10:23:45.124Z');
  t.mock.timers.setTime(Date.UTC(2027, 11, 31, 23, 59, 59, 999));
  assert.equal(isoNow(), '2027-12-31T23:59:59.999Z');
});
