import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoNow } from './clock.ts';

test('isoNow is the current time as toISOString writes it, and moves with the clock', async () => {
  const before = Date.now();
  const first = isoNow();
  const after = Date.now();
  assert.match(first, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const ms = Date.parse(first);
  assert.ok(ms >= before && ms <= after, `${first} within [${before}, ${after}]`);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(Date.parse(isoNow()) > ms, 'a call after the clock moved names a later time');
});
