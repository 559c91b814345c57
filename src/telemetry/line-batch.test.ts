import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineBatch } from './line-batch.ts';

function destination() {
  const writes: string[] = [];
  let synced = 0;
  const dest = { write: (chunk: Uint8Array) => { writes.push(Buffer.from(chunk).toString('utf8')); return true; }, flushSync: () => void synced++ };
  return { writes, synced: () => synced, dest };
}

test('lines are handed on together once ~64 KiB have gathered, in order', () => {
  const { writes, dest } = destination();
  const batch = new LineBatch(dest);
  const line = (i: number) => `${String(i).padStart(1023, 'x')}\n`;
  for (let i = 0; i < 63; i++) batch.write(line(i));
  assert.deepEqual(writes, [], 'under 65,536 characters: still gathering');
  batch.write(line(63));
  assert.deepEqual(writes, [Array.from({ length: 64 }, (_, i) => line(i)).join('')]);
});

test('flush hands on a partial batch (the timer and shutdown); flushSync also syncs the destination', () => {
  const { writes, synced, dest } = destination();
  const batch = new LineBatch(dest);
  batch.flush();
  assert.deepEqual(writes, [], 'nothing gathered, nothing written');
  batch.write('a\n');
  batch.write('b\n');
  batch.flush();
  assert.deepEqual(writes, ['a\nb\n']);
  batch.write('c\n');
  batch.flushSync();
  assert.deepEqual(writes, ['a\nb\n', 'c\n']);
  assert.equal(synced(), 1);
});

test('lines leave as UTF-8 bytes, whatever characters they hold', () => {
  const { writes, dest } = destination();
  const batch = new LineBatch(dest);
  batch.write('{"msg":"héllo ✓ 🚀"}\n');
  batch.write('plain\n');
  batch.flush();
  assert.deepEqual(writes, ['{"msg":"héllo ✓ 🚀"}\nplain\n']);
});
