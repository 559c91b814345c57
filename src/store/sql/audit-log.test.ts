import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { AuditEvent, AuditEventType } from '../ports.ts';
import { SqlAuditLog, type AuditLogOptions } from './audit-log.ts';
import { DIALECTS, testDatabase, type TestDatabase } from './test-databases.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1, 12);
const daysAgo = (days: number) => new Date(NOW - days * DAY).toISOString();

const count = async (t: TestDatabase): Promise<number> => Number((await t.db.query<{ n: unknown }>('SELECT count(*) AS n FROM audit_events'))[0].n);

for (const dialect of DIALECTS) {
  describe(`audit log on ${dialect}`, () => {
    async function withLog(options: Partial<AuditLogOptions>, fn: (log: SqlAuditLog, t: TestDatabase) => Promise<void>): Promise<void> {
      const t = await testDatabase(dialect);
      const log = await SqlAuditLog.open(t.db, { retentionDays: 90, securityRetentionDays: 365, flushIntervalMs: 60_000, ...options });
      try {
        await fn(log, t);
      } finally {
        await log.close();
        await t.drop();
      }
    }

    test('append only queues; events get ids, are stored once, and come back oldest first with exactly their fields', async () => {
      const recorded: AuditEventType[] = [];
      await withLog({ onRecorded: (type) => recorded.push(type) }, async (log, t) => {
        const issued: AuditEvent = { time: daysAgo(1), type: 'key.issued', actor: 'cli', target: 'k_1', detail: { name: 'ci' } };
        const failed: AuditEvent = {
          id: 'given-id', time: daysAgo(2), type: 'auth.failed', actor: 'anonymous', requestId: 'req-9', traceId: 'abc123', security: true,
          detail: { reason: 'invalid_key', key_prefix: '0badc0de', client_address: '10.0.0.7' },
        };
        log.append(issued);
        log.append(failed);
        await tick();
        assert.equal(await count(t), 0, 'nothing is written inside append or on the next turn below maxBatch');
        assert.deepEqual(log.stats(), { queued: 2, dropped: 0 });
        const events = await log.query({});
        assert.equal(events.length, 2);
        assert.deepEqual(events[0], failed, 'oldest first; every given field, nothing more');
        const { id, ...rest } = events[1];
        assert.deepEqual(rest, issued);
        assert.match(id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID was assigned');
        assert.deepEqual(recorded.sort(), ['auth.failed', 'key.issued']);
        log.append(failed); // the same id again: stored once
        await log.flush();
        assert.equal(await count(t), 2);
      });
    });

    test('nothing but the event\'s own fields is stored: extra properties and non-scalar detail never reach the table', async () => {
      await withLog({}, async (log, t) => {
        const smuggled = {
          time: daysAgo(0), type: 'admin.action', actor: 'admin', key: 'vk-SECRET-KEY', prompt: 'tell me a secret',
          detail: { method: 'POST', path: '/admin/keys', status: 201, ok: true, body: { key: 'vk-SECRET-KEY' }, list: ['vk-SECRET-KEY'], nan: Number.NaN },
        } as unknown as AuditEvent;
        log.append(smuggled);
        const [event] = await log.query({});
        assert.deepEqual(Object.keys(event).sort(), ['actor', 'detail', 'id', 'time', 'type']);
        assert.deepEqual(event.detail, { method: 'POST', path: '/admin/keys', status: 201, ok: true });
        const rows = await t.db.query('SELECT * FROM audit_events');
        assert.deepEqual(Object.keys(rows[0]).sort(), ['actor', 'detail', 'id', 'request_id', 'security', 'seq', 'target', 'time', 'trace_id', 'type']);
        assert.ok(!JSON.stringify(rows).includes('SECRET') && !JSON.stringify(rows).includes('secret'), JSON.stringify(rows));
      });
    });

    test('query filters by type and [since, until), and limits from the oldest', async () => {
      await withLog({}, async (log) => {
        const types: AuditEventType[] = ['key.issued', 'rate.limited', 'budget.exceeded', 'rate.limited', 'key.revoked', 'rate.limited'];
        types.forEach((type, i) => {
          log.append({ id: `e${i}`, time: daysAgo(10 - i), type, actor: 'k_1', target: `t${i}` });
        });
        const idsOf = (events: AuditEvent[]) => events.map((e) => e.id);
        assert.deepEqual(idsOf(await log.query({})), ['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
        assert.deepEqual(idsOf(await log.query({ type: 'rate.limited' })), ['e1', 'e3', 'e5']);
        assert.deepEqual(idsOf(await log.query({ since: Date.parse(daysAgo(9)), until: Date.parse(daysAgo(6)) })), ['e1', 'e2', 'e3']);
        assert.deepEqual(idsOf(await log.query({ type: 'rate.limited', since: Date.parse(daysAgo(8)), limit: 1 })), ['e3']);
        assert.deepEqual(idsOf(await log.query({ limit: 2 })), ['e0', 'e1']);
      });
    });

    test('events of one time come back in the order they were appended', async () => {
      await withLog({ maxBatch: 7 }, async (log) => {
        for (let i = 0; i < 30; i++) log.append({ id: `same-${i}`, time: daysAgo(1), type: 'rate.limited', actor: 'k_1' });
        assert.deepEqual((await log.query({})).map((e) => e.id), Array.from({ length: 30 }, (_, i) => `same-${i}`));
      });
    });

    test('sweep deletes events past retention and keeps security events until their longer retention', async () => {
      await withLog({ retentionDays: 90, securityRetentionDays: 365 }, async (log) => {
        const at = (id: string, days: number, security: boolean): AuditEvent => ({ id, time: daysAgo(days), type: security ? 'auth.failed' : 'key.issued', actor: 'cli', ...(security ? { security } : {}) });
        for (const event of [at('plain-10d', 10, false), at('plain-89d', 89, false), at('plain-91d', 91, false), at('plain-400d', 400, false),
          at('sec-10d', 10, true), at('sec-91d', 91, true), at('sec-364d', 364, true), at('sec-366d', 366, true)]) log.append(event);
        await log.flush();
        assert.equal(await log.sweep(NOW), 3);
        assert.deepEqual((await log.query({})).map((e) => e.id), ['sec-364d', 'sec-91d', 'plain-89d', 'plain-10d', 'sec-10d']);
        assert.equal(await log.sweep(NOW), 0, 'nothing more to sweep');
        assert.equal(await log.sweep(NOW + 2 * DAY), 2, 'two days later sec-364d and plain-89d go');
        assert.deepEqual((await log.query({})).map((e) => e.id), ['sec-91d', 'plain-10d', 'sec-10d']);
      });
    });

    test('while the table is unwritable events wait, bounded, and are counted when dropped; the rest are written once it is back', async () => {
      const errors: unknown[] = [];
      await withLog({ maxQueue: 5, onError: (err) => errors.push(err) }, async (log, t) => {
        await t.exec('ALTER TABLE audit_events RENAME TO audit_events_away');
        for (let i = 0; i < 8; i++) log.append({ id: `e${i}`, time: daysAgo(1), type: 'rate.limited', actor: 'k_1' });
        await log.flush();
        assert.ok(errors.length >= 1 && errors.every((e) => /audit_events/.test(String(e))), String(errors[0]));
        assert.deepEqual(log.stats(), { queued: 5, dropped: 3 });
        await t.exec('ALTER TABLE audit_events_away RENAME TO audit_events');
        assert.deepEqual((await log.query({})).map((e) => e.id), ['e3', 'e4', 'e5', 'e6', 'e7']);
        assert.deepEqual(log.stats(), { queued: 0, dropped: 3 });
      });
    });

    test('an event whose time is not a time is dropped and counted at once', async () => {
      const errors: unknown[] = [];
      await withLog({ onError: (err) => errors.push(err) }, async (log) => {
        log.append({ time: 'yesterday', type: 'key.revoked', actor: 'cli' });
        log.append({ time: '2025-05-31T14:00:00+02:00', type: 'key.revoked', actor: 'cli' });
        assert.deepEqual(log.stats(), { queued: 1, dropped: 1 });
        assert.match(String(errors[0]), /yesterday/);
        assert.deepEqual((await log.query({})).map((e) => e.time), ['2025-05-31T12:00:00.000Z'], 'stored in UTC, so text order is time order');
      });
    });

    test('the interval timer writes queued events', async () => {
      await withLog({ flushIntervalMs: 20 }, async (log, t) => {
        log.append({ time: daysAgo(0), type: 'key.issued', actor: 'cli' });
        for (let waited = 0; (await count(t)) < 1 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
        assert.equal(await count(t), 1);
      });
    });
  });
}
