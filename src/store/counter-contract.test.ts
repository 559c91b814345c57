// The CounterStore contract, as properties run against every adapter: the memory store (one process)
// and RedisCounters (several instances on one prefix, standing for replicas). Operations are started in
// random batches, each batch all at once, so reserves, settles, increments and acquires of different
// replicas interleave at random; every run counts on a key of its own.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { deletePrefix, SHARED_REDIS_URL, uniquePrefix } from '../../test/helpers/redis-keys.ts';
import type { Window } from '../core/windows.ts';
import { MemoryCounterStore } from './memory/counters.ts';
import type { CounterStore, Reservation } from './ports.ts';
import { RedisCounters } from './redis/counters.ts';

const REPLICAS = 3;
const NUM_RUNS = 30;
/** A limit no test reaches: reading a counter is adding 0 to it. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

interface Adapter {
  name: string;
  replicas(): Promise<CounterStore[]>;
  close(): Promise<void>;
}

const memory: Adapter = {
  name: 'memory',
  replicas: async () => {
    const store = new MemoryCounterStore();
    return Array.from({ length: REPLICAS }, () => store);
  },
  close: async () => {},
};

function redis(): Adapter {
  const prefix = uniquePrefix();
  const opened: RedisCounters[] = [];
  return {
    name: 'redis',
    replicas: async () => {
      if (opened.length === 0) {
        for (let i = 0; i < REPLICAS; i++) {
          opened.push(await RedisCounters.open({ url: SHARED_REDIS_URL, keyPrefix: prefix, commandTimeoutMs: 5_000, onFailure: 'closed' }));
        }
      }
      return opened;
    },
    close: async () => {
      for (const store of opened) {
        assert.equal(store.state(), 0, 'no answer in these runs came from a failure mode');
        await store.close();
      }
      await deletePrefix(prefix);
    },
  };
}

/** Runs `steps` in order, `width` positions at a time: each batch's steps start together. */
async function inBatches<T extends { at: number }>(steps: T[], width: number, run: (step: T) => Promise<void>): Promise<void> {
  const ordered = [...steps].sort((a, b) => a.at - b.at);
  for (let i = 0; i < ordered.length;) {
    const batch: T[] = [];
    const end = Math.floor(ordered[i].at / width);
    while (i < ordered.length && Math.floor(ordered[i].at / width) === end) batch.push(ordered[i++]);
    await Promise.all(batch.map(run));
  }
}

const window = (): Window => ({ start: 1_000, end: Date.now() + 600_000 });
const read = async (store: CounterStore, key: string, w: Window) => (await store.increment(key, 0, UNLIMITED, w)).count;

interface Request {
  replica: number;
  amount: number;
  actual: number;
  reserveAt: number;
  settleAfter: number;
}

const request = (maxActual: number): fc.Arbitrary<Request> => fc.record({
  replica: fc.nat(REPLICAS - 1),
  amount: fc.integer({ min: 1, max: 20 }),
  actual: fc.integer({ min: 0, max: maxActual }),
  reserveAt: fc.nat(60),
  settleAfter: fc.nat(60),
});

for (const adapter of [memory, redis()]) {
  describe(`CounterStore contract: ${adapter.name}`, () => {
    after(() => adapter.close());

    /** Reserves and settles every request at random; returns the final counter and the granted requests. */
    async function reserveAndSettle(stores: CounterStore[], limit: number, width: number, requests: Request[]) {
      const key = `usd:${randomUUID()}`;
      const w = window();
      const held: Promise<Reservation>[] = [];
      const steps = requests.flatMap((r, i) => [
        { at: r.reserveAt, i, settle: false },
        { at: r.reserveAt + r.settleAfter + 0.5, i, settle: true },
      ]);
      const peaks: number[] = [];
      await inBatches(steps, width, async ({ i, settle }) => {
        const r = requests[i];
        if (!settle) {
          held[i] = Promise.resolve(stores[r.replica].reserve(key, r.amount, limit, w));
          peaks.push((await held[i]).used);
          return;
        }
        await stores[(r.replica + i) % REPLICAS].settle(await held[i], r.actual, w); // any replica may settle
      });
      const granted = (await Promise.all(held)).map((reservation, i) => ({ reservation, ...requests[i] })).filter((g) => g.reservation.granted);
      return { total: await read(stores[0], key, w), granted, peaks };
    }

    test('reservations of worst cases (actual ≤ reserved) never let spend pass the limit, and all of it is counted', async () => {
      const stores = await adapter.replicas();
      await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 20 }), fc.array(request(20), { minLength: 1, maxLength: 25 }), async (limit, width, drawn) => {
        const requests = drawn.map((r) => ({ ...r, actual: Math.min(r.actual, r.amount) }));
        const { total, granted, peaks } = await reserveAndSettle(stores, limit, width, requests);
        assert.ok(peaks.every((used) => used <= limit), 'spent + reserved never above the limit after a grant');
        assert.ok(total <= limit, `spent ${total} > limit ${limit}`);
        assert.equal(total, granted.reduce((sum, g) => sum + g.actual, 0), 'reserved back to 0: the counter is exactly what was spent');
      }), { numRuns: NUM_RUNS });
    });

    test('with overshoots, spend passes the limit by no more than the overshoots, and one request at a time by the largest', async () => {
      const stores = await adapter.replicas();
      await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 20 }), fc.array(request(30), { minLength: 1, maxLength: 25 }), fc.boolean(), async (limit, width, drawn, serial) => {
        // Serial: each request settles before the next reserves (one position per step, one step per batch).
        const requests = serial ? drawn.map((r, i) => ({ ...r, reserveAt: 2 * i, settleAfter: 0 })) : drawn;
        const { total, granted } = await reserveAndSettle(stores, limit, serial ? 1 : width, requests);
        const overshoots = granted.map((g) => Math.max(0, g.actual - g.amount));
        const bound = serial ? Math.max(0, ...overshoots) : overshoots.reduce((sum, o) => sum + o, 0);
        assert.ok(total <= limit + bound, `spent ${total} > limit ${limit} + ${bound}`);
        assert.equal(total, granted.reduce((sum, g) => sum + g.actual, 0), 'reserved back to 0');
      }), { numRuns: NUM_RUNS });
    });

    test('increments from every replica never take a counter past its limit, and fill it when demand allows', async () => {
      const stores = await adapter.replicas();
      const step = fc.record({ replica: fc.nat(REPLICAS - 1), amount: fc.integer({ min: 1, max: 10 }), at: fc.nat(40) });
      await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 20 }), fc.array(step, { minLength: 1, maxLength: 30 }), async (limit, width, steps) => {
        const key = `rpm:${randomUUID()}`;
        const w = window();
        let added = 0;
        await inBatches(steps, width, async (s) => {
          const answer = await stores[s.replica].increment(key, s.amount, limit, w);
          assert.ok(answer.count <= limit && !answer.degraded);
          if (answer.allowed) added += s.amount;
        });
        const total = await read(stores[0], key, w);
        assert.equal(total, added, 'the counter is exactly what was allowed');
        assert.ok(total <= limit);
        const demand = steps.reduce((sum, s) => sum + s.amount, 0);
        if (demand <= limit) assert.equal(total, demand, 'nothing refused while room remained');
      }), { numRuns: NUM_RUNS });
    });

    test('acquires from every replica never hold more than the limit, and each release frees a slot', async () => {
      const stores = await adapter.replicas();
      const op = fc.record({ replica: fc.nat(REPLICAS - 1), release: fc.boolean(), at: fc.nat(40) });
      await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 10 }), fc.array(op, { minLength: 1, maxLength: 30 }), async (limit, width, ops) => {
        const key = `par:${randomUUID()}`;
        let holding = 0;
        await inBatches(ops, width, async (o) => {
          if (o.release) {
            if (holding === 0) return; // only holders release
            holding--;
            await stores[o.replica].release(key);
            return;
          }
          const answer = await stores[o.replica].acquire(key, limit, 60_000);
          assert.ok(answer.count <= limit && !answer.degraded);
          if (answer.allowed) holding++;
          assert.ok(holding <= limit, `${holding} holders > limit ${limit}`);
        });
        for (; holding > 0; holding--) await stores[0].release(key);
        for (let slot = 0; slot < limit; slot++) assert.equal((await stores[slot % REPLICAS].acquire(key, limit, 60_000)).allowed, true, 'every slot free again');
        assert.equal((await stores[0].acquire(key, limit, 60_000)).allowed, false);
        for (let slot = 0; slot < limit; slot++) await stores[0].release(key);
      }), { numRuns: NUM_RUNS });
    });
  });
}
