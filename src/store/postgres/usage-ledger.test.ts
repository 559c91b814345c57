import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { UsageRecord } from '../ports.ts';
import { openPostgres } from '../sql/database.ts';
import { testDatabase, type TestDatabase } from '../sql/test-databases.ts';
import { PostgresUsageLedger, type PostgresLedgerOptions } from './usage-ledger.ts';

const record = (i: number): UsageRecord => ({
  time: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
  requestId: `req-${i}`,
  identityId: i % 2 ? 'k-odd' : 'k-even',
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
  partial: i % 11 === 2,
});

async function withLedger(options: Partial<PostgresLedgerOptions>, fn: (ledger: PostgresUsageLedger, t: TestDatabase) => Promise<void>): Promise<void> {
  const t = await testDatabase('postgres');
  const ledger = await PostgresUsageLedger.open(t.db, { flushIntervalMs: 60_000, maxBatch: 100_000, ...options });
  try {
    await fn(ledger, t);
  } finally {
    await ledger.close();
    await t.drop();
  }
}

const ids = async (t: TestDatabase): Promise<string[]> =>
  (await t.db.query<{ request_id: string }>('SELECT request_id FROM usage_records ORDER BY id')).map((r) => r.request_id);

test('flush writes every queued record, in order, with every field; nothing before it', async () => {
  await withLedger({}, async (ledger, t) => {
    for (let i = 0; i < 1234; i++) ledger.append(record(i)); // three INSERTs of up to 500 rows
    await tick();
    assert.deepEqual(await ids(t), [], 'nothing is written inside append or on the next turn below maxBatch');
    await ledger.flush();
    const rows = await t.db.query('SELECT * FROM usage_records ORDER BY id');
    assert.equal(rows.length, 1234);
    rows.forEach((row, i) => {
      const r = record(i);
      assert.deepEqual(
        [row.time, row.request_id, row.identity_id, row.user_id, row.team_id, row.route, row.provider, row.model, row.upstream_model,
          Number(row.input_tokens), Number(row.output_tokens), Number(row.cached_input_tokens), row.cost_usd, row.duration_ms, row.status, row.error_class, row.stream, row.cached, row.partial],
        [r.time, r.requestId, r.identityId, r.userId, r.teamId, r.route, r.provider, r.model, r.upstreamModel,
          r.inputTokens, r.outputTokens, r.cachedInputTokens, r.costUsd, r.durationMs, r.status, r.errorClass, r.stream ? 1 : 0, r.cached ? 1 : 0, r.partial ? 1 : 0],
      );
    });
    await ledger.flush();
    assert.equal((await ids(t)).length, 1234, 'a second flush writes nothing twice');
    assert.deepEqual(ledger.stats(), { store: 'postgres', open: true, queued: 0, dropped: 0 });
  });
});

test('the interval timer writes queued records, and reaching maxBatch writes without waiting for it', async () => {
  await withLedger({ flushIntervalMs: 20 }, async (ledger, t) => {
    for (let i = 0; i < 5; i++) ledger.append(record(i));
    for (let waited = 0; (await ids(t)).length < 5 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await ids(t)).length, 5);
  });
  await withLedger({ maxBatch: 50 }, async (ledger, t) => {
    for (let i = 0; i < 50; i++) ledger.append(record(i));
    for (let waited = 0; (await ids(t)).length < 50 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await ids(t)).length, 50);
  });
});

test('a failed write keeps its records queued; once the table is back they are all written, once, in order', async () => {
  const errors: unknown[] = [];
  const queries: string[] = [];
  await withLedger({ onError: (err) => errors.push(err), onQuery: (operation) => queries.push(operation) }, async (ledger, t) => {
    await t.exec('ALTER TABLE usage_records RENAME TO usage_records_away');
    for (let i = 0; i < 700; i++) ledger.append(record(i));
    await ledger.flush();
    assert.ok(errors.length >= 1 && errors.every((e) => /usage_records/.test(String(e))), String(errors[0]));
    assert.deepEqual(ledger.stats(), { store: 'postgres', open: true, queued: 700, dropped: 0 });
    await ledger.ping(); // the database itself still answers
    for (let i = 700; i < 800; i++) ledger.append(record(i));
    await t.exec('ALTER TABLE usage_records_away RENAME TO usage_records');
    await ledger.flush();
    assert.deepEqual(await ids(t), Array.from({ length: 800 }, (_, i) => `req-${i}`));
    assert.deepEqual(ledger.stats(), { store: 'postgres', open: true, queued: 0, dropped: 0 });
    assert.equal(queries.filter((q) => q === 'insert_batch').length, 2, 'two INSERTs once the table is back (500 + 300)');
  });
});

test('while the store fails, at most maxQueue records wait: older ones are dropped and counted', async () => {
  await withLedger({ maxQueue: 10, onError: () => {} }, async (ledger, t) => {
    await t.exec('ALTER TABLE usage_records RENAME TO usage_records_away');
    for (let i = 0; i < 25; i++) ledger.append(record(i));
    await ledger.flush();
    assert.deepEqual(ledger.stats(), { store: 'postgres', open: true, queued: 10, dropped: 15 });
    await t.exec('ALTER TABLE usage_records_away RENAME TO usage_records');
    await ledger.flush();
    assert.deepEqual(await ids(t), Array.from({ length: 10 }, (_, i) => `req-${15 + i}`), 'the newest ten, in order');
    assert.equal(ledger.stats().dropped, 15);
  });
});

test('a record the schema rejects is dropped and counted; the rest of its batch is written', async () => {
  const errors: unknown[] = [];
  await withLedger({ onError: (err) => errors.push(err) }, async (ledger, t) => {
    for (let i = 0; i < 60; i++) ledger.append(i === 7 ? { ...record(i), model: null as unknown as string } : record(i));
    await ledger.flush();
    assert.match(String(errors[0]), /null value/i);
    assert.deepEqual(ledger.stats(), { store: 'postgres', open: true, queued: 0, dropped: 1 });
    const written = await ids(t);
    assert.equal(written.length, 59);
    assert.ok(!written.includes('req-7'));
  });
});

test('close() writes everything queued and leaves the shared pool open', async () => {
  const t = await testDatabase('postgres');
  try {
    const ledger = await PostgresUsageLedger.open(t.db, { flushIntervalMs: 60_000, maxBatch: 400 });
    for (let i = 0; i < 1000; i++) ledger.append(record(i));
    await ledger.close();
    assert.equal(ledger.stats().open, false);
    assert.equal((await ids(t)).length, 1000, 'the pool still answers: keys and audit share it');
  } finally {
    await t.drop();
  }
});

test('two replicas starting at once migrate the schema once', async () => {
  const t = await testDatabase('postgres');
  const other = openPostgres(t.url ?? '', 2);
  try {
    const ledgers = await Promise.all([PostgresUsageLedger.open(t.db, { flushIntervalMs: 60_000, maxBatch: 10 }), PostgresUsageLedger.open(other, { flushIntervalMs: 60_000, maxBatch: 10 })]);
    const versions = await t.db.query<{ version: number }>("SELECT version FROM schema_migrations WHERE component = 'usage' ORDER BY version");
    assert.deepEqual(versions.map((v) => Number(v.version)), [1, 2, 3, 4]);
    await Promise.all(ledgers.map((l) => l.close()));
  } finally {
    await other.close();
    await t.drop();
  }
});
