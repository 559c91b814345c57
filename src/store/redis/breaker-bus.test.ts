import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aliasOf, breakerPolicy, deploymentOf } from '../../../test/helpers/breaker-aliases.ts';
import { SHARED_REDIS_URL, uniquePrefix } from '../../../test/helpers/redis-keys.ts';
import { Breakers } from '../../routing/breakers.ts';
import { RedisBreakerBus } from './breaker-bus.ts';

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(condition(), `gave up waiting for ${what}`);
}

/** Sends until `heard` holds, every 100 ms, for at most 6 s. */
async function untilHeard(what: string, send: () => void, heard: () => boolean): Promise<void> {
  for (let i = 0; i < 60 && !heard(); i++) {
    send();
    for (let j = 0; j < 5 && !heard(); j++) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(heard(), `gave up waiting for ${what}`);
}

const options = () => ({ url: SHARED_REDIS_URL, keyPrefix: uniquePrefix(), commandTimeoutMs: 2_000 });

test('an opening on one replica opens the deployment on the other until the same time', async () => {
  const shared = options();
  const [busA, busB, elsewhere] = await Promise.all([RedisBreakerBus.open(shared), RedisBreakerBus.open(shared), RedisBreakerBus.open(options())]);
  const clock = { t: Date.now() };
  const aliases = [aliasOf('chat', ['p:a', 'p:b'], breakerPolicy())];
  const changes: string[] = [];
  const a = new Breakers(aliases, { now: () => clock.t, bus: busA, onChange: (id, state) => changes.push(`a ${id} ${state}`) });
  // b's own cooldown is longer, so opening until a's time (not b's own cooldown) shows in its Retry-After.
  const b = new Breakers([aliasOf('chat', ['p:a', 'p:b'], breakerPolicy({ cooldownMs: 8_000 }))], { now: () => clock.t, bus: busB, onChange: (id, state, _previous, reason) => changes.push(`b ${id} ${state} ${reason}`) });
  const heardElsewhere: string[] = [];
  elsewhere.subscribe((id) => heardElsewhere.push(id));
  try {
    assert.equal(busA.channel, `${shared.keyPrefix}breakers`);
    const deployment = deploymentOf('chat', 'p:a');
    for (let i = 0; i < 3; i++) a.record(deployment, 'server_error');
    await until('replica b opening p:a', () => b.state('p:a') === 1);
    assert.equal(b.retryAfterMs([deployment]), 5_000, 'open until the time replica a published');
    assert.equal(b.tryAcquire(deployment), false);
    assert.equal(b.state('p:b'), 0);
    assert.deepEqual(changes, ['a p:a 1', 'b p:a 1 opened by another replica'], 'b did not publish back to a');

    clock.t += 5_000;
    assert.equal(b.tryAcquire(deployment), true, 'b half-opens on its own clock');
    b.record(deployment, 'timeout');
    await until('replica a hearing b\'s opening', () => a.state('p:a') === 1);
    assert.equal(a.retryAfterMs([deployment]), 5_000, 'b published 8 s; a holds it at most its own cooldown');
    assert.equal(heardElsewhere.length, 0, 'another prefix hears nothing');
  } finally {
    a.close();
    b.close();
    await Promise.all([busA.close(), busB.close(), elsewhere.close()]);
  }
});

test('a bus ignores its own messages, and publishing never throws, even closed', async () => {
  const shared = options();
  const [busA, busB] = await Promise.all([RedisBreakerBus.open(shared), RedisBreakerBus.open(shared)]);
  const heardA: string[] = [];
  const heardB: string[] = [];
  busA.subscribe((id, untilMs) => heardA.push(`${id}@${untilMs}`));
  busB.subscribe((id, untilMs) => heardB.push(`${id}@${untilMs}`));
  busB.subscribe(() => { throw new Error('a failing listener'); });
  try {
    // Publishing is best effort (lost while a connection is not yet subscribed): sent until heard.
    await untilHeard('b hearing a', () => busA.publishOpen('p:a', 1_000), () => heardB.length > 0);
    // Redis wrote a's messages to every subscriber before it took b's, so a has had its own by the time it hears b's.
    await untilHeard('a hearing b', () => busB.publishOpen('p:b', 2_000), () => heardA.length > 0);
    assert.ok(heardA.every((m) => m === 'p:b@2000'), `a heard only b: ${heardA}`);
    assert.ok(heardB.every((m) => m === 'p:a@1000'), `b heard only a: ${heardB}`);
  } finally {
    // Open connections would keep the test process alive after a failure.
    await Promise.all([busA.close(), busB.close()]);
  }
  assert.doesNotThrow(() => busA.publishOpen('p:a', 3_000));
});

test('a bus that cannot reach Redis opens anyway and publishing loses the message quietly', async () => {
  const bus = await RedisBreakerBus.open({ url: 'redis://127.0.0.1:1', keyPrefix: uniquePrefix(), commandTimeoutMs: 200 });
  assert.doesNotThrow(() => bus.publishOpen('p:a', 1_000));
  await bus.close();
});
