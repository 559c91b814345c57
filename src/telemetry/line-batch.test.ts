import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineBatch } from './line-batch.ts';

function destination() {
  const writes: string[] = [];
  let synced = 0;
  const dest = { write: (chunk: Uint8Array) => { writes.push(Buffer.from(chunk).toString('utf8')); return true; }, flushSync: () => void synced++ };
  return { writes, synced: () => synced, dest };
}

test('under steady logging lines leave without a flush, in whole lines, in order, and gathering stays bounded', () => {
  const { writes, dest } = destination();
  const batch = new LineBatch(dest);
  const lines = Array.from({ length: 2048 }, (_, i) => `${String(i).padStart(1023, 'x')}\n`); // 2 MiB
  for (const line of lines) batch.write(line);
  assert.ok(writes.length > 1, 'written as they gathered, not held for the flush timer');
  assert.ok(writes.every((w) => w.endsWith('\n') && w.length <= 1024 * 1024), 'each write is whole lines, at most 1 MiB');
  batch.flush();
  assert.equal(writes.join(''), lines.join(''), 'every line, once, in order');
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
