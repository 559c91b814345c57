import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { UsageLedger, UsageQuery, UsageRecord, UsageRow } from '../ports.ts';
import { PostgresUsageLedger } from '../postgres/usage-ledger.ts';
import { SqliteUsageLedger } from '../sqlite/usage-ledger.ts';
import { DIALECTS, testDatabase, type TestDatabase } from './test-databases.ts';
import { SqlUsageAnalytics } from './usage-analytics.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2025, 2, 30, 20); // three days either side of midnights, in UTC
const SPAN = 3 * 24 * HOUR;

/** A record with its cost in whole micro-dollars, so the expected sums are exact integers. */
const recordArb = fc.record({
  ms: fc.integer({ min: START, max: START + SPAN - 1 }),
  identityId: fc.constantFrom('k1', 'k2', 'k3'),
  userId: fc.constantFrom('', 'alice', 'bob'),
  teamId: fc.constantFrom('', 'red', 'blue'),
  model: fc.constantFrom('gpt-4o', 'claude-sonnet', 'mock-chat'),
  inputTokens: fc.integer({ min: 0, max: 200_000 }),
  outputTokens: fc.integer({ min: 0, max: 50_000 }),
  cachedInputTokens: fc.integer({ min: 0, max: 100_000 }),
  microUsd: fc.integer({ min: 0, max: 5_000_000 }),
});
type Generated = typeof recordArb extends fc.Arbitrary<infer T> ? T : never;

const toRecord = (g: Generated, i: number): UsageRecord => ({
  time: new Date(g.ms).toISOString(), requestId: `req-${i}`, identityId: g.identityId, userId: g.userId, teamId: g.teamId,
  route: '/v1/chat/completions', provider: 'mock', model: g.model, upstreamModel: `${g.model}-v1`,
  inputTokens: g.inputTokens, outputTokens: g.outputTokens, cachedInputTokens: g.cachedInputTokens,
  costUsd: g.microUsd / 1e6, durationMs: 12.5, status: 200, errorClass: '', stream: i % 2 === 0,
});

/** The same report as a plain reduction over the generated records, costs kept in micro-dollars. */
function expected(records: Generated[], q: UsageQuery): Map<string, { requests: number; inputTokens: number; outputTokens: number; cachedInputTokens: number; microUsd: number }> {
  const groupOf = { none: () => '', key: (g: Generated) => g.identityId, user: (g: Generated) => g.userId, team: (g: Generated) => g.teamId, model: (g: Generated) => g.model }[q.groupBy];
  const periodOf = (ms: number) => (q.granularity === 'total' ? '' : new Date(ms - (ms % (q.granularity === 'hour' ? HOUR : 24 * HOUR))).toISOString());
  const sums = new Map<string, { requests: number; inputTokens: number; outputTokens: number; cachedInputTokens: number; microUsd: number }>();
  for (const g of records) {
    if (g.ms < q.from || g.ms >= q.to) continue;
    const key = `${periodOf(g.ms)}|${groupOf(g)}`;
    const s = sums.get(key) ?? { requests: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, microUsd: 0 };
    s.requests++;
    s.inputTokens += g.inputTokens;
    s.outputTokens += g.outputTokens;
    s.cachedInputTokens += g.cachedInputTokens;
    s.microUsd += g.microUsd;
    sums.set(key, s);
  }
  return sums;
}

function assertReport(rows: UsageRow[], records: Generated[], q: UsageQuery): void {
  const want = expected(records, q);
  assert.equal(rows.length, want.size, `rows for ${JSON.stringify(q)}`);
  for (const row of rows) {
    assert.equal(row.period === undefined, q.granularity === 'total');
    assert.equal(row.group === undefined, q.groupBy === 'none');
    const w = want.get(`${row.period ?? ''}|${row.group ?? ''}`);
    assert.ok(w, `unexpected row ${JSON.stringify(row)}`);
    assert.deepEqual([row.requests, row.inputTokens, row.outputTokens, row.cachedInputTokens], [w.requests, w.inputTokens, w.outputTokens, w.cachedInputTokens]);
    assert.ok(Math.abs(row.costUsd - w.microUsd / 1e6) < 1e-9, `cost ${row.costUsd} vs ${w.microUsd} µ$`);
  }
  const order = rows.map((r) => `${r.period ?? ''}|${r.group ?? ''}`);
  assert.deepEqual(order, [...order].sort(), 'ordered by period, then group');
}

/** The dialect's own ledger, as the gateway writes through it. */
async function ledgerFor(t: TestDatabase): Promise<UsageLedger> {
  const options = { flushIntervalMs: 60_000, maxBatch: 1_000_000 };
  return t.dataDir ? SqliteUsageLedger.open({ ...options, dataDir: t.dataDir, checkpointIntervalMs: 60_000 }) : PostgresUsageLedger.open(t.db, options);
}

for (const dialect of DIALECTS) {
  describe(`usage analytics on ${dialect}`, () => {
    test('report() equals a plain reduction of the records appended, for every grouping and granularity, to the micro-dollar', async () => {
      const t = await testDatabase(dialect);
      const ledger = await ledgerFor(t);
      const analytics = new SqlUsageAnalytics(t.db);
      try {
        await fc.assert(fc.asyncProperty(
          fc.array(recordArb, { maxLength: 60 }),
          fc.integer({ min: START - HOUR, max: START + SPAN }),
          fc.integer({ min: 0, max: SPAN + HOUR }),
          async (records, from, length) => {
            await t.db.run('DELETE FROM usage_records');
            for (const [i, g] of records.entries()) ledger.append(toRecord(g, i));
            await ledger.flush();
            for (const groupBy of ['none', 'key', 'user', 'team', 'model'] as const) {
              for (const granularity of ['hour', 'day', 'total'] as const) {
                const q = { from, to: from + length, groupBy, granularity };
                assertReport(await analytics.report(q), records, q);
              }
            }
          },
        ), { numRuns: 25 });
      } finally {
        await ledger.close();
        await t.drop();
      }
    });

    test('spentSince() sums the cost of one key, user or team from a time on', async () => {
      const t = await testDatabase(dialect);
      const ledger = await ledgerFor(t);
      const analytics = new SqlUsageAnalytics(t.db);
      try {
        await fc.assert(fc.asyncProperty(fc.array(recordArb, { maxLength: 60 }), fc.integer({ min: START, max: START + SPAN }), async (records, fromMs) => {
          await t.db.run('DELETE FROM usage_records');
          for (const [i, g] of records.entries()) ledger.append(toRecord(g, i));
          await ledger.flush();
          const cases = [['key', 'k2', (g: Generated) => g.identityId === 'k2'], ['user', 'alice', (g: Generated) => g.userId === 'alice'], ['team', 'red', (g: Generated) => g.teamId === 'red']] as const;
          for (const [scope, id, matches] of cases) {
            const micro = records.filter((g) => matches(g) && g.ms >= fromMs).reduce((sum, g) => sum + g.microUsd, 0);
            const spent = await analytics.spentSince(scope, id, fromMs);
            assert.ok(Math.abs(spent - micro / 1e6) < 1e-9, `${scope} ${id}: ${spent} vs ${micro} µ$`);
          }
        }), { numRuns: 25 });
      } finally {
        await ledger.close();
        await t.drop();
      }
    });

    test('buckets are UTC hours and days, labelled by their start; the range is [from, to)', async () => {
      const t = await testDatabase(dialect);
      const ledger = await ledgerFor(t);
      const analytics = new SqlUsageAnalytics(t.db);
      try {
        const at = (iso: string, i: number, microUsd: number): UsageRecord => ({ ...toRecord({ ms: Date.parse(iso), identityId: 'k1', userId: 'alice', teamId: '', model: 'gpt-4o', inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, microUsd }, i) });
        ledger.append(at('2025-03-31T23:59:59.999Z', 1, 100_000));
        ledger.append(at('2025-04-01T00:00:00.000Z', 2, 200_000));
        ledger.append(at('2025-04-01T00:30:00.000Z', 3, 300_000));
        ledger.append(at('2025-04-01T02:00:00.000Z', 4, 400_000)); // == to: excluded
        await ledger.flush();
        const range = { from: Date.parse('2025-03-31T23:00:00Z'), to: Date.parse('2025-04-01T02:00:00Z') };
        assert.deepEqual(await analytics.report({ ...range, groupBy: 'none', granularity: 'hour' }), [
          { period: '2025-03-31T23:00:00.000Z', requests: 1, inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, costUsd: 0.1 },
          { period: '2025-04-01T00:00:00.000Z', requests: 2, inputTokens: 20, outputTokens: 10, cachedInputTokens: 0, costUsd: 0.5 },
        ]);
        assert.deepEqual(await analytics.report({ ...range, groupBy: 'team', granularity: 'day' }), [
          { period: '2025-03-31T00:00:00.000Z', group: '', requests: 1, inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, costUsd: 0.1 },
          { period: '2025-04-01T00:00:00.000Z', group: '', requests: 2, inputTokens: 20, outputTokens: 10, cachedInputTokens: 0, costUsd: 0.5 },
        ]);
        assert.deepEqual(await analytics.report({ from: 0, to: 1, groupBy: 'none', granularity: 'total' }), [], 'nothing recorded: no rows');
      } finally {
        await ledger.close();
        await t.drop();
      }
    });
  });
}
