import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHARED_REDIS_URL, uniquePrefix } from '../../../test/helpers/redis-keys.ts';
import { startOwnRedis } from '../../../test/helpers/redis-server.ts';
import { type ChangeKind, RedisChangeChannel } from './change-channel.ts';

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(condition(), `gave up waiting for ${what}`);
}

test('a change published by one gateway reaches every subscriber of the prefix, and only those', async () => {
  const prefix = uniquePrefix();
  const options = { url: SHARED_REDIS_URL, keyPrefix: prefix, commandTimeoutMs: 2_000 };
  const [a, b, other] = await Promise.all([RedisChangeChannel.open(options), RedisChangeChannel.open(options), RedisChangeChannel.open({ ...options, keyPrefix: uniquePrefix() })]);
  const heard: Record<string, ChangeKind[]> = { a: [], b: [], other: [] };
  a.subscribe((kind) => heard.a.push(kind));
  const stop = b.subscribe((kind) => heard.b.push(kind));
  b.subscribe(() => { throw new Error('a failing listener'); });
  other.subscribe((kind) => heard.other.push(kind));
  assert.equal(a.channel, `${prefix}changes`);
  assert.equal(await a.publish('keys'), true);
  assert.equal(await b.publish('budgets'), true);
  await until('both changes at both gateways', () => heard.a.length === 2 && heard.b.length === 2);
  assert.deepEqual(heard, { a: ['keys', 'budgets'], b: ['keys', 'budgets'], other: [] });
  stop();
  await a.publish('keys');
  await until('the third change', () => heard.a.length === 3);
  assert.equal(heard.b.length, 2, 'an unsubscribed listener hears nothing more');
  await Promise.all([a.close(), b.close(), other.close()]);
});

test('the channel survives Redis going away: publish answers false, and after the reconnect listeners are told to refresh', async () => {
  const server = await startOwnRedis();
  try {
    const channel = await RedisChangeChannel.open({ url: server.url, keyPrefix: 'v:', commandTimeoutMs: 300 });
    const heard: ChangeKind[] = [];
    channel.subscribe((kind) => heard.push(kind));
    await server.kill();
    assert.equal(await channel.publish('keys'), false);
    await server.restart();
    await until('a refresh of both kinds after the resubscribe', () => heard.length === 2);
    assert.deepEqual(heard.sort(), ['budgets', 'keys'], 'whatever was published meanwhile was missed');
    // The publishing connection reconnects on its own schedule: publish answers false until it has.
    let published = false;
    for (let i = 0; i < 300 && !published; i++) {
      published = await channel.publish('keys');
      if (!published) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(published, 'publishing again');
    await until('the change after the reconnect', () => heard.length === 3);
    await channel.close();
  } finally {
    await server.stop();
  }
});
