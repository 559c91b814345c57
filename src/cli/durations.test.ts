import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { count, duration, label, usd } from './durations.ts';

test('durations in seconds, minutes, hours and days', () => {
  assert.equal(duration('45s'), 45_000);
  assert.equal(duration('10m'), 600_000);
  assert.equal(duration('1h'), 3_600_000);
  assert.equal(duration('30d'), 30 * 86_400_000);
  assert.equal(duration('0s'), 0);
});

test('a bad duration is one message naming the expected form', () => {
  for (const bad of ['10', 'm', '1.5h', '-1d', '1w', '']) {
    assert.throws(() => duration(bad), (err: Error) => err instanceof InvalidArgumentError && /45s, 10m, 1h, 30d/.test(err.message), bad);
  }
});

test('counts, dollars and labels', () => {
  assert.equal(count('60'), 60);
  assert.throws(() => count('0'), InvalidArgumentError);
  assert.throws(() => count('1.5'), InvalidArgumentError);
  assert.equal(usd('2.50'), 2.5);
  assert.throws(() => usd('0'), InvalidArgumentError);
  assert.throws(() => usd('abc'), InvalidArgumentError);
  assert.deepEqual(label('b=2=3', label('a=1')), { a: '1', b: '2=3' });
  assert.throws(() => label('=x'), InvalidArgumentError);
});
