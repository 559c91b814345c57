import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aliasOf, breakerPolicy, deploymentOf } from '../../test/helpers/breaker-aliases.ts';
import { Breakers } from './breakers.ts';
import { routingHealthCheck } from './routing-health.ts';

test('the routing component lists open and half-open deployments and the aliases left with none routable', async () => {
  const clock = { t: 0 };
  const aliases = [aliasOf('fast', ['p:a', 'p:b']), aliasOf('smart', ['p:b', 'q:c']), aliasOf('solo', ['p:a'])];
  const breakers = new Breakers(aliases, { now: () => clock.t });
  const check = routingHealthCheck(aliases, breakers);
  assert.equal(check.name, 'routing');
  assert.equal(check.required, false);
  assert.deepEqual(await check.check(), { status: 'ok', detail: 'all 3 deployments closed' });

  const openP = (id: string) => { for (let i = 0; i < 3; i++) breakers.record(deploymentOf('fast', id), 'server_error'); };
  openP('p:a');
  assert.deepEqual(await check.check(), { status: 'ok', detail: 'open: p:a; degraded: alias solo has no routable deployment' });
  clock.t += 2_000;
  openP('p:b');
  assert.deepEqual(await check.check(), {
    status: 'ok',
    detail: 'open: p:a, p:b; degraded: alias fast has no routable deployment; degraded: alias solo has no routable deployment',
  });
  clock.t += 3_000;
  assert.deepEqual(await check.check(), { status: 'ok', detail: 'open: p:b; half-open: p:a' }, 'p:a\'s cooldown is over: a trial may go');
});

test('disabled breakers are never reported', async () => {
  const aliases = [aliasOf('m', ['p:a'], breakerPolicy({ enabled: false }))];
  const breakers = new Breakers(aliases, { now: () => 0 });
  for (let i = 0; i < 10; i++) breakers.record(deploymentOf('m', 'p:a'), 'server_error');
  assert.deepEqual(await routingHealthCheck(aliases, breakers).check(), { status: 'ok', detail: 'its one deployment closed' });
});
