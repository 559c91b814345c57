import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { UsageRecord } from '../ports.ts';
import { SqliteUsageLedger } from './usage-ledger.ts';
import { startCheckpointer } from './wal-checkpointer.ts';

const root = mkdtempSync(join(tmpdir(), 'vigil-checkpoint-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);

const record = (i: number): UsageRecord => ({
  time: new Date(Date.UTC(2025, 0, 1, 0, 0, i % 60)).toISOString(), requestId: `req-${i}`, identityId: 'anonymous', userId: '', teamId: '',
  route: '/v1/chat/completions', provider: 'mock', model: 'mock-chat', upstreamModel: 'mock-chat', inputTokens: 10,
  outputTokens: 20, cachedInputTokens: 0, costUsd: 0, durationMs: 1.5, status: 200, errorClass: '', stream: false,
});
const size = (path: string) => statSync(path).size;

test('commits never checkpoint: past SQLite\'s 1,000-page threshold the rows are still only in the log', async () => {
  const dataDir = freshDir();
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 100_000, checkpointIntervalMs: 60_000 });
  const file = join(dataDir, 'vigil.db');
  const empty = size(file);
  for (let i = 0; i < 25_000; i++) ledger.append(record(i));
  await ledger.flush();
  assert.ok(size(`${file}-wal`) > 1000 * 4096, `the log holds more than 1,000 pages (${size(`${file}-wal`)} bytes)`);
  assert.equal(size(file), empty, 'nothing was copied into the database file');
  await ledger.close(); // the last connection checkpoints what is left
  assert.ok(size(file) > empty, 'closing copied the log into the database file');
  const db = new DatabaseSync(file, { readOnly: true });
  assert.equal((db.prepare('SELECT count(*) AS n FROM usage_records').get() as { n: number }).n, 25_000);
  db.close();
});

test('the checkpoint thread copies the log into the database file and reports each round', async () => {
  const dataDir = freshDir();
  const rounds: number[] = [];
  const ledger = new SqliteUsageLedger({
    dataDir, flushIntervalMs: 60_000, maxBatch: 100_000, checkpointIntervalMs: 20,
    onQuery: (operation, seconds) => { if (operation === 'checkpoint') rounds.push(seconds); },
  });
  try {
    const file = join(dataDir, 'vigil.db');
    const empty = size(file);
    for (let i = 0; i < 2_000; i++) ledger.append(record(i));
    await ledger.flush();
    const seen = rounds.length;
    // The file grows during a round, and the round's report arrives after it: wait for both.
    for (let waited = 0; (size(file) === empty || rounds.length === seen) && waited < 3000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    assert.ok(size(file) > empty, 'the rows reached the database file without a commit checkpointing');
    assert.ok(rounds.length > seen && rounds.every((s) => s >= 0 && s < 5), `rounds reported: ${rounds.length}`);
  } finally {
    await ledger.close();
  }
});

test('when the thread fails, commits checkpoint again and the failure is reported', async () => {
  const dataDir = freshDir();
  const db = new DatabaseSync(join(root, `fallback-${dirs++}.db`));
  db.exec('PRAGMA journal_mode = WAL');
  const errors: unknown[] = [];
  // The thread cannot open a database in a directory that does not exist.
  const checkpointer = startCheckpointer(db, { file: join(dataDir, 'missing', 'vigil.db'), intervalMs: 20 }, { onError: (err) => errors.push(err) });
  assert.equal((db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }).wal_autocheckpoint, 0);
  for (let waited = 0; errors.length === 0 && waited < 3000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  assert.equal(errors.length, 1);
  assert.equal((db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }).wal_autocheckpoint, 1000);
  await checkpointer.close(); // already stopped: returns at once
  db.close();
});
