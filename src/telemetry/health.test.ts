import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Health, lifecycleCheck, type HealthCheck } from './health.ts';

const ok = (name: string, required = true): HealthCheck => ({ name, required, check: () => ({ status: 'ok' }) });

test('readiness reports every registered check in registration order; only required ones decide the status', async () => {
  const health = new Health().register(ok('config'), {
    name: 'optional', required: false, check: () => ({ status: 'fail', detail: 'reported, not decisive' }),
  }, ok('async'));
  const report = await health.ready();
  assert.equal(report.status, 'ok');
  assert.deepEqual(Object.keys(report.components), ['config', 'optional', 'async']);
  assert.deepEqual(report.components.optional, { status: 'fail', detail: 'reported, not decisive' });

  health.register({ name: 'broken', required: true, check: async () => { throw new Error('disk gone'); } });
  const failing = await health.ready();
  assert.equal(failing.status, 'fail');
  assert.deepEqual(failing.components.broken, { status: 'fail', detail: 'disk gone' });
});

test('a check past its deadline fails with what it waited for; the others still report', async () => {
  const health = new Health().register(ok('config'), {
    name: 'store', required: true, deadline: { ms: 20, waitingFor: 'store ping' }, check: () => new Promise(() => {}),
  });
  const report = await health.ready();
  assert.equal(report.status, 'fail');
  assert.deepEqual(report.components, { config: { status: 'ok' }, store: { status: 'fail', detail: 'store ping: no answer in 20 ms' } });
});

test('a synchronous throw fails its component; a name registers once; liveness needs no check', async () => {
  const health = new Health().register({ name: 'sync', required: true, check: () => { throw new Error('no'); } });
  assert.deepEqual((await health.ready()).components.sync, { status: 'fail', detail: 'no' });
  assert.throws(() => health.register(ok('sync')), /"sync" is registered twice/);
  assert.deepEqual(health.live(), { status: 'ok', components: { process: { status: 'ok' } } });
});

test('lifecycle: ready until draining starts', async () => {
  const lifecycle = { draining: false, cutting: false };
  const health = new Health().register(lifecycleCheck(lifecycle));
  assert.deepEqual(await health.ready(), { status: 'ok', components: { lifecycle: { status: 'ok' } } });
  lifecycle.draining = true;
  assert.deepEqual(await health.ready(), { status: 'fail', components: { lifecycle: { status: 'fail', detail: 'draining' } } });
});
