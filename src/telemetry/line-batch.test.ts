import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineBatch } from './line-batch.ts';

function destination() {
  const writes: string[] = [];
  let synced = 0;
  return { writes, synced: () => synced, dest: { write: (chunk: string) => { writes.push(chunk); return true; }, flushSync: () => void synced++ } };
}

test('lines are handed on together once ~4 KiB have gathered, in order', () => {
  const { writes, dest } = destination();
  const batch = new LineBatch(dest);
  const line = `${'x'.repeat(1023)}\n`;
  for (let i = 0; i < 3; i++) batch.write(line);
  assert.deepEqual(writes, [], 'under 4096 characters: still gathering');
  batch.write(line);
  assert.deepEqual(writes, [line.repeat(4)]);
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
