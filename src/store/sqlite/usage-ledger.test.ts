import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setImmediate as tick } from 'node:timers/promises';
import type { UsageRecord } from '../ports.ts';
import { SqliteUsageLedger } from './usage-ledger.ts';

const root = mkdtempSync(join(tmpdir(), 'vigil-ledger-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`, 'nested');

const record = (i: number): UsageRecord => ({
  time: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
  requestId: `req-${i}`,
  identityId: i % 2 ? 'team-a' : 'anonymous',
  route: '/v1/chat/completions',
  provider: 'mock',
  model: 'mock-chat',
  upstreamModel: 'mock-chat-v1',
  inputTokens: 10 + i,
  outputTokens: 20 + i,
  cachedInputTokens: i,
  costUsd: i / 1000,
  durationMs: 1.5 + i,
  status: i % 5 === 0 ? 502 : 200,
  errorClass: i % 5 === 0 ? 'server_error' : '',
  stream: i % 3 === 0,
});

/** Rows as another connection sees them (what is on disk, not what is queued). */
function countOnDisk(dataDir: string): number {
  const db = new DatabaseSync(join(dataDir, 'vigil.db'), { readOnly: true });
  try {
    return Number((db.prepare('SELECT count(*) AS n FROM usage_records').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

test('nothing is written until flush; flush writes everything queued', async () => {
  const dataDir = freshDir();
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 10_000 });
  try {
    for (let i = 0; i < 250; i++) ledger.append(record(i));
    await tick();
    assert.equal(countOnDisk(dataDir), 0);
    assert.deepEqual(ledger.recent(10), []);
    await ledger.flush();
    assert.equal(countOnDisk(dataDir), 250);
    await ledger.flush();
    assert.equal(countOnDisk(dataDir), 250, 'a second flush writes nothing twice');
  } finally {
    await ledger.close();
  }
});

test('recent() returns newest first with every field', async () => {
  const dataDir = freshDir();
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 10_000 });
  try {
    for (let i = 1; i <= 15; i++) ledger.append(record(i));
    await ledger.flush();
    const rows = ledger.recent(3);
    assert.deepEqual(rows.map((r) => r.request_id), ['req-15', 'req-14', 'req-13']);
    assert.deepEqual({ ...rows[0] }, {
      id: 15, time: '2025-01-01T00:00:15.000Z', request_id: 'req-15', identity_id: 'team-a', route: '/v1/chat/completions',
      provider: 'mock', model: 'mock-chat', upstream_model: 'mock-chat-v1', input_tokens: 25, output_tokens: 35,
      cached_input_tokens: 15, cost_usd: 0.015, duration_ms: 16.5, status: 502, error_class: 'server_error', stream: 1,
    });
    assert.equal(rows[1].stream, 0);
    assert.equal(rows[1].error_class, '');
    assert.equal(ledger.recent(100).length, 15);
  } finally {
    await ledger.close();
  }
});

test('a batch written fifty rows to a statement, the rest one by one, keeps every record in order', async () => {
  const dataDir = freshDir();
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 10_000 });
  try {
    for (let i = 0; i < 123; i++) ledger.append(record(i));
    await ledger.flush();
    const rows = ledger.recent(200).reverse();
    assert.equal(rows.length, 123);
    rows.forEach((row, i) => {
      const r = record(i);
      assert.deepEqual(
        [row.id, row.time, row.request_id, row.identity_id, row.input_tokens, row.cached_input_tokens, row.cost_usd, row.duration_ms, row.status, row.error_class, row.stream],
        [i + 1, r.time, r.requestId, r.identityId, r.inputTokens, r.cachedInputTokens, r.costUsd, r.durationMs, r.status, r.errorClass, r.stream ? 1 : 0],
      );
    });
  } finally {
    await ledger.close();
  }
});

test('the interval timer writes queued records', async () => {
  const dataDir = freshDir();
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 20, maxBatch: 10_000 });
  try {
    for (let i = 0; i < 5; i++) ledger.append(record(i));
    assert.equal(countOnDisk(dataDir), 0);
    const deadline = Date.now() + 2000;
    while (countOnDisk(dataDir) < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(countOnDisk(dataDir), 5);
  } finally {
    await ledger.close();
  }
});

test('reaching maxBatch writes on the next turn, without waiting for the interval', async () => {
  const dataDir = freshDir();
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 50 });
  try {
    for (let i = 0; i < 49; i++) ledger.append(record(i));
    await tick();
    assert.equal(countOnDisk(dataDir), 0, 'below the batch size nothing is written');
    ledger.append(record(49));
    assert.equal(countOnDisk(dataDir), 0, 'not inside append itself');
    await tick();
    assert.equal(countOnDisk(dataDir), 50);
  } finally {
    await ledger.close();
  }
});

test('close() writes everything queued: nothing is lost', async () => {
  const dataDir = freshDir();
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 400 });
  for (let i = 0; i < 1000; i++) ledger.append(record(i)); // two batch writes are scheduled, and a remainder queued
  await ledger.close();
  assert.equal(countOnDisk(dataDir), 1000);
  const reopened = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 400 });
  try {
    const ids = reopened.recent(1000).map((r) => r.request_id);
    assert.equal(new Set(ids).size, 1000);
    assert.equal(ids[0], 'req-999');
    assert.equal(ids.at(-1), 'req-0');
  } finally {
    await reopened.close();
  }
});

test('WAL journal mode is on and ping works', async () => {
  const dataDir = freshDir();
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 100 });
  try {
    await ledger.ping();
    const db = new DatabaseSync(join(dataDir, 'vigil.db'));
    try {
      assert.deepEqual({ ...(db.prepare('PRAGMA journal_mode').get() as object) }, { journal_mode: 'wal' });
    } finally {
      db.close();
    }
  } finally {
    await ledger.close();
  }
  await assert.rejects(ledger.ping(), /not open/i);
});

test('a full queue drains in chunks across event-loop turns, so no single write stalls requests for long', async () => {
  const batches: number[] = [];
  const ledger = new SqliteUsageLedger({
    dataDir: freshDir(), flushIntervalMs: 60_000, maxBatch: 1000,
    onQuery: (operation) => { if (operation === 'insert_batch') batches.push(Date.now()); },
  });
  try {
    for (let i = 0; i < 1000; i++) ledger.append(record(i)); // reaching maxBatch starts the drain
    assert.equal(batches.length, 0, 'nothing is written inside append');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(batches.length, 5, '1,000 records in transactions of 200');
    assert.equal(ledger.recent(2000).length, 1000);
  } finally {
    await ledger.close();
  }
});
