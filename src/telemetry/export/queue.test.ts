import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExportQueue, type DropReason } from './queue.ts';

/** Records are short strings, each encoded as field 1; a batch is read back into the list of them. */
function setup(batch: { max_queue_size: number; max_export_batch_size: number; scheduled_delay_ms: number }, exportBatch: (records: string[]) => Promise<void>) {
  const drops: Partial<Record<DropReason, number>> = {};
  const queue = new ExportQueue<string>({
    batch,
    encode: (w, record) => void w.string(1, record),
    exportBatch: (bytes) => exportBatch(readBack(Buffer.from(bytes))),
    onDropped: (reason, count) => { drops[reason] = (drops[reason] ?? 0) + count; },
  });
  return { queue, drops };
}
function readBack(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; at += 2 + bytes[at + 1]) out.push(bytes.toString('utf8', at + 2, at + 2 + bytes[at + 1]));
  return out;
}
const record = (i: number) => `r${i}`;

test('a full batch leaves at once; the rest waits for the delay; flush sends what is left', async () => {
  const sent: string[][] = [];
  const { queue, drops } = setup({ max_queue_size: 10, max_export_batch_size: 2, scheduled_delay_ms: 60_000 }, async (b) => void sent.push(b));
  for (let i = 0; i < 5; i++) queue.add(record(i));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, [['r0', 'r1'], ['r2', 'r3']]);
  await queue.flush();
  assert.deepEqual(sent, [['r0', 'r1'], ['r2', 'r3'], ['r4']]);
  assert.deepEqual(drops, {});
});

test('the scheduled delay sends a partial batch', async () => {
  const sent: string[][] = [];
  const { queue } = setup({ max_queue_size: 10, max_export_batch_size: 5, scheduled_delay_ms: 20 }, async (b) => void sent.push(b));
  queue.add(record(0));
  assert.deepEqual(sent, []);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(sent, [['r0']]);
});

test('drops are counted: a full queue reports queue_full, a failed export export_failed, with counts', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const { queue, drops } = setup({ max_queue_size: 3, max_export_batch_size: 2, scheduled_delay_ms: 60_000 }, async () => { await gate; throw new Error('boom'); });
  // The first 2 leave at once as a batch; while that export runs 3 more fill the queue and the 6th does not fit.
  for (let i = 0; i < 6; i++) queue.add(record(i));
  assert.deepEqual(drops, { queue_full: 1 });
  release();
  await queue.flush();
  assert.deepEqual(drops, { queue_full: 1, export_failed: 5 });
});

test('shutdown flushes, then takes nothing more', async () => {
  const sent: string[][] = [];
  const { queue } = setup({ max_queue_size: 10, max_export_batch_size: 5, scheduled_delay_ms: 60_000 }, async (b) => void sent.push(b));
  queue.add(record(0));
  await queue.shutdown();
  queue.add(record(1));
  await queue.flush();
  assert.deepEqual(sent, [['r0']]);
});

test('under steady load the delay sends the open batch once; later records still leave in full batches', async () => {
  const sent: string[][] = [];
  let release!: () => void;
  const { queue } = setup({ max_queue_size: 100, max_export_batch_size: 3, scheduled_delay_ms: 10 }, async (b) => {
    sent.push(b);
    await new Promise<void>((r) => { release = r; });
  });
  queue.add(record(0));
  await new Promise((r) => setTimeout(r, 40)); // the delay sends the partial batch [r0]
  queue.add(record(1)); // records arriving while that export runs
  queue.add(record(2));
  release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, [['r0']], 'the partial batch begun during the export waits');
  queue.add(record(3));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, [['r0'], ['r1', 'r2', 'r3']], 'and leaves once full');
  release();
});

test('a record that fails to encode is dropped whole and counted; the batch stays intact', async () => {
  const sent: string[][] = [];
  const drops: Partial<Record<DropReason, number>> = {};
  const queue = new ExportQueue<string>({
    batch: { max_queue_size: 10, max_export_batch_size: 10, scheduled_delay_ms: 60_000 },
    encode: (w, record) => {
      w.string(1, record);
      if (record === 'bad') throw new Error('cannot encode');
    },
    exportBatch: async (bytes) => void sent.push(readBack(Buffer.from(bytes))),
    onDropped: (reason, count) => { drops[reason] = (drops[reason] ?? 0) + count; },
  });
  queue.add('r0');
  queue.add('bad');
  queue.add('r1');
  await queue.flush();
  assert.deepEqual(sent, [['r0', 'r1']]);
  assert.deepEqual(drops, { export_failed: 1 });
});
