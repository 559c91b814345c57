import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setImmediate as tick } from 'node:timers/promises';
import { installCollectors } from '../../telemetry/metrics/collect.ts';
import { Recorder } from '../../telemetry/metrics/record.ts';
import { createMetrics } from '../../telemetry/metrics/registry.ts';
import { SliWindow } from '../../telemetry/sli.ts';
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
  userId: i % 3 ? `user-${i % 3}` : '',
  teamId: i % 4 ? 'team-x' : '',
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
  cached: i % 7 === 1,
  partial: i % 5 === 0,
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
      user_id: '', team_id: 'team-x', cached: 1, partial: 1,
    });
    assert.equal(rows[1].stream, 0);
    assert.equal(rows[1].error_class, '');
    assert.equal(ledger.recent(100).length, 15);
  } finally {
    await ledger.close();
  }
});

test('a flush keeps every record, in order, with every field', async () => {
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
        [row.id, row.time, row.request_id, row.identity_id, row.user_id, row.team_id, row.input_tokens, row.cached_input_tokens, row.cost_usd, row.duration_ms, row.status, row.error_class, row.stream, row.cached],
        [i + 1, r.time, r.requestId, r.identityId, r.userId, r.teamId, r.inputTokens, r.cachedInputTokens, r.costUsd, r.durationMs, r.status, r.errorClass, r.stream ? 1 : 0, r.cached ? 1 : 0],
      );
    });
  } finally {
    await ledger.close();
  }
});

test('the interval timer writes queued records', async () => {
  const dataDir = freshDir();
  const ledger = await SqliteUsageLedger.open({ dataDir, flushIntervalMs: 20, maxBatch: 10_000 });
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

test('a full queue drains across event-loop turns, so no single write stalls requests for long', async () => {
  const timeline: string[] = [];
  const ledger = new SqliteUsageLedger({
    dataDir: freshDir(), flushIntervalMs: 60_000, maxBatch: 1000,
    onQuery: (operation) => { if (operation === 'insert_batch') timeline.push('write'); },
  });
  // Work queued behind the drain, as requests would be: it must run between writes, not after them all.
  let turns = 0;
  const other = setInterval(() => { timeline.push('other'); if (++turns > 100) clearInterval(other); }, 0);
  try {
    for (let i = 0; i < 1000; i++) ledger.append(record(i)); // reaching maxBatch starts the drain
    assert.equal(timeline.filter((t) => t === 'write').length, 0, 'nothing is written inside append');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = timeline.indexOf('write');
    const last = timeline.lastIndexOf('write');
    assert.ok(first >= 0 && timeline.slice(first, last).includes('other'), `other work ran while the queue drained: ${timeline.join(' ')}`);
    assert.equal(ledger.recent(2000).length, 1000);
  } finally {
    clearInterval(other);
    await ledger.close();
  }
});

/** The store's drop count as /metrics exports it: the real collector over this ledger's stats(). */
function droppedMetric(ledger: SqliteUsageLedger) {
  const metrics = createMetrics();
  const stop = installCollectors(metrics, { sli: new SliWindow({ windowSeconds: 60, latencyBudgetSeconds: 0.01 }), store: () => ledger.stats() });
  return {
    stop,
    async value(): Promise<number> {
      const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith('vigil_usage_records_dropped_total '));
      return Number(line?.split(' ')[1]);
    },
  };
}

test('a record the schema rejects is dropped and counted; the rest of its batch is written', async () => {
  const dataDir = freshDir();
  const errors: unknown[] = [];
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 10_000, checkpointIntervalMs: 60_000, onError: (err) => errors.push(err) });
  const metric = droppedMetric(ledger);
  try {
    for (let i = 0; i < 60; i++) ledger.append(i === 7 ? { ...record(i), model: null as unknown as string } : record(i));
    await ledger.flush();
    assert.equal(errors.length, 1, 'the failed batch was reported');
    assert.match(String(errors[0]), /NOT NULL/i);
    assert.deepEqual({ queued: ledger.stats().queued, dropped: ledger.stats().dropped }, { queued: 0, dropped: 1 });
    assert.equal(countOnDisk(dataDir), 59);
    assert.ok(!ledger.recent(100).some((r) => r.request_id === 'req-7'));
    assert.equal(await metric.value(), 1, 'vigil_usage_records_dropped_total');
  } finally {
    metric.stop();
    await ledger.close();
  }
});

test('while the store fails, records wait up to maxQueue; older ones are dropped and counted, the rest written once it recovers', async () => {
  const dataDir = freshDir();
  const errors: unknown[] = [];
  const ledger = await SqliteUsageLedger.open({ dataDir, flushIntervalMs: 60_000, maxBatch: 10_000, maxQueue: 10, checkpointIntervalMs: 60_000, onError: (err) => errors.push(err) });
  const metric = droppedMetric(ledger);
  // Another connection takes the table away: every insert fails, and not by a constraint.
  const other = new DatabaseSync(join(dataDir, 'vigil.db'));
  try {
    other.exec('ALTER TABLE usage_records RENAME TO usage_records_away');
    for (let i = 0; i < 25; i++) ledger.append(record(i));
    await ledger.flush();
    assert.ok(errors.length >= 1 && errors.every((e) => /no such table/i.test(String(e))), String(errors[0]));
    assert.deepEqual({ queued: ledger.stats().queued, dropped: ledger.stats().dropped }, { queued: 10, dropped: 15 });
    assert.equal(await metric.value(), 15, 'vigil_usage_records_dropped_total');
    ledger.append(record(25)); // one more while failing: the oldest waiting one goes
    await ledger.flush();
    assert.deepEqual({ queued: ledger.stats().queued, dropped: ledger.stats().dropped }, { queued: 10, dropped: 16 });
    assert.equal(await metric.value(), 16);

    other.exec('ALTER TABLE usage_records_away RENAME TO usage_records');
    await ledger.flush();
    assert.deepEqual({ queued: ledger.stats().queued, dropped: ledger.stats().dropped }, { queued: 0, dropped: 16 });
    assert.deepEqual(ledger.recent(100).map((r) => r.request_id).reverse(), Array.from({ length: 10 }, (_, i) => `req-${16 + i}`), 'the newest ten, in order');
    assert.equal(await metric.value(), 16, 'recovery drops nothing more');
  } finally {
    other.close();
    metric.stop();
    await ledger.close();
  }
});

test('the checkpoint thread\'s rounds reach vigil_store_query_duration_seconds{operation="checkpoint"}, through the recorder serve wires', async () => {
  const metrics = createMetrics();
  const recorder = new Recorder(metrics, { version: 't', commit: 't', models: [] });
  const rounds: number[] = [];
  let writes = 0;
  const ledger = new SqliteUsageLedger({
    dataDir: freshDir(), flushIntervalMs: 60_000, maxBatch: 10_000, checkpointIntervalMs: 20,
    // As src/cli/serve.ts wires it, plus a note of each round and write to compare with.
    onQuery: (operation, seconds) => {
      if (operation === 'checkpoint') rounds.push(seconds);
      if (operation === 'insert_batch') writes++;
      recorder.storeOperation('sqlite', operation, seconds);
    },
  });
  try {
    for (let i = 0; i < 500; i++) ledger.append(record(i));
    await ledger.flush();
    for (let waited = 0; rounds.length < 3 && waited < 3000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const text = await metrics.registry.metrics();
    const series = (name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name}{store="sqlite",operation="checkpoint"} `))?.split(' ')[1]);
    const seen = rounds.length; // a round's report is a message (a macrotask): none lands between the scrape's microtasks and here
    assert.ok(seen >= 3, `checkpoint rounds: ${seen}`);
    assert.equal(series('vigil_store_query_duration_seconds_count'), seen);
    const sum = rounds.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(series('vigil_store_query_duration_seconds_sum') - sum) < 1e-9, `sum ${series('vigil_store_query_duration_seconds_sum')} vs ${sum}`);
    assert.ok(sum > 0 && rounds.every((s) => s >= 0 && s < 1), `round durations ${rounds.join(', ')}`);
    assert.ok(writes > 0);
    assert.equal(Number(text.split('\n').find((l) => l.startsWith('vigil_store_query_duration_seconds_count{store="sqlite",operation="insert_batch"} '))?.split(' ')[1]), writes, 'every write reported');
  } finally {
    await ledger.close();
  }
});

