import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { UsageRecord } from '../ports.ts';
import { SqliteUsageLedger } from './usage-ledger.ts';

const root = mkdtempSync(join(tmpdir(), 'vigil-ledger-upgrade-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);

const record = (i: number): UsageRecord => ({
  time: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(), requestId: `req-${i}`, identityId: 'new-key',
  userId: i % 3 ? `user-${i % 3}` : '', teamId: 'team-x', route: '/v1/chat/completions', provider: 'mock', model: 'mock-chat',
  upstreamModel: 'mock-chat-v1', inputTokens: 10, outputTokens: 20, cachedInputTokens: 0, costUsd: 0.25, durationMs: 1.5,
  status: 200, errorClass: '', stream: false, cached: i === 1, partial: i === 2,
});

/** The table as releases before versioned migrations created it; `withCost: false` is the first release's. */
function createOldTable(dataDir: string, withCost: boolean, rows: number): void {
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, 'vigil.db'));
  try {
    db.exec(`CREATE TABLE usage_records (id INTEGER PRIMARY KEY, time TEXT NOT NULL, request_id TEXT NOT NULL,
      identity_id TEXT NOT NULL, route TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, upstream_model TEXT NOT NULL,
      input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cached_input_tokens INTEGER NOT NULL,
      ${withCost ? 'cost_usd REAL NOT NULL DEFAULT 0,' : ''} duration_ms REAL NOT NULL, status INTEGER NOT NULL,
      error_class TEXT NOT NULL, stream INTEGER NOT NULL);
      CREATE INDEX usage_records_time ON usage_records (time);`);
    const insert = db.prepare(`INSERT INTO usage_records (time, request_id, identity_id, route, provider, model, upstream_model,
      input_tokens, output_tokens, cached_input_tokens, ${withCost ? 'cost_usd,' : ''} duration_ms, status, error_class, stream)
      VALUES (?, ?, 'old-key', '/v1/chat/completions', 'mock', 'mock-chat', 'mock-chat-v1', 1, 2, 0, ${withCost ? '0.5,' : ''} 3, 200, '', 0)`);
    for (let i = 0; i < rows; i++) insert.run(new Date(Date.UTC(2024, 5, 1, 0, 0, i)).toISOString(), `old-${i}`);
  } finally {
    db.close();
  }
}

for (const withCost of [true, false]) {
  test(`a data directory from before migrations (${withCost ? 'with' : 'without'} cost_usd) upgrades in place and keeps its rows`, async () => {
    const dataDir = freshDir();
    createOldTable(dataDir, withCost, 7);
    const ledger = await SqliteUsageLedger.open({ dataDir, flushIntervalMs: 60_000, maxBatch: 10_000, checkpointIntervalMs: 60_000 });
    try {
      for (let i = 1; i <= 3; i++) ledger.append(record(i));
      await ledger.flush();
      const rows = ledger.recent(100).reverse();
      assert.deepEqual(rows.map((r) => r.request_id), ['old-0', 'old-1', 'old-2', 'old-3', 'old-4', 'old-5', 'old-6', 'req-1', 'req-2', 'req-3']);
      assert.deepEqual(rows.slice(0, 7).map((r) => [r.identity_id, r.user_id, r.team_id, r.cost_usd]),
        Array(7).fill(['old-key', '', '', withCost ? 0.5 : 0]), 'old rows keep their figures; they have no user or team');
      assert.deepEqual(rows.slice(7).map((r) => [r.user_id, r.team_id]), [['user-1', 'team-x'], ['user-2', 'team-x'], ['', 'team-x']]);
      assert.deepEqual(rows.map((r) => r.cached), [...Array(7).fill(0), 1, 0, 0], 'old rows were not cached answers');
      assert.deepEqual(rows.map((r) => r.partial), [...Array(8).fill(0), 1, 0], 'old rows were not cut drains');
    } finally {
      await ledger.close();
    }
    const db = new DatabaseSync(join(dataDir, 'vigil.db'), { readOnly: true });
    try {
      const versions = db.prepare("SELECT version FROM schema_migrations WHERE component = 'usage' ORDER BY version").all().map((r) => r.version);
      assert.deepEqual(versions, [1, 2, 3, 4]);
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_records' ORDER BY name").all().map((r) => r.name);
      assert.deepEqual(indexes, ['usage_records_time'], 'on SQLite the time index alone: per-identity indexes cost every insert (usage-schema.ts)');
    } finally {
      db.close();
    }
    const again = await SqliteUsageLedger.open({ dataDir, flushIntervalMs: 60_000, maxBatch: 10_000, checkpointIntervalMs: 60_000 });
    try {
      assert.equal(again.recent(100).length, 10, 'reopening migrates nothing twice');
    } finally {
      await again.close();
    }
  });
}

test('open() throws what the migration throws, and closes the ledger again', async () => {
  const dataDir = freshDir();
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, 'vigil.db'));
  db.exec('CREATE VIEW usage_records AS SELECT 1 AS id'); // a name the table cannot take
  db.close();
  const errors: unknown[] = [];
  await assert.rejects(SqliteUsageLedger.open({ dataDir, flushIntervalMs: 60_000, maxBatch: 10, checkpointIntervalMs: 60_000, onError: (err) => errors.push(err) }),
    /Cannot add a column to a view/);
  assert.match(String(errors[0]), /Cannot add a column to a view/, 'told to onError too, as a ledger made with `new` would be');
});
