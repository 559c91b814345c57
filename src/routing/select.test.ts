import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BreakerGate, Deployment, Strategy } from '../core/alias.ts';
import { Attempt } from '../core/attempt.ts';
import type { Provider } from '../providers/provider.ts';
import { closedGate, testAlias, testDeployment, testRouting } from '../../test/helpers/routing.ts';
import { retryDelayMs, MOVE_ON } from './backoff.ts';
import { selectDeployment } from './select.ts';

const provider = (id: string, unavailableReason?: string) => ({ id, unavailableReason }) as Provider;
const deployment = (id: string, fields: Partial<Deployment> = {}) =>
  testDeployment({ name: 'a', upstreamModel: id, providerId: 'p', deploymentId: id, type: 'chat' }, fields);

function routeOf(deployments: Deployment[], strategy: Strategy, providers = new Map([['p', provider('p')]])) {
  const { routes, deps } = testRouting([testAlias(deployments, { strategy })], providers);
  return { route: routes.get('a')!, stats: deps.stats };
}

/** A gate with fixed states (0 closed, 1 open, 2 half-open) whose half-open breakers have no trial slot left. */
function gate(states: Record<string, 0 | 1 | 2>): BreakerGate {
  return { ...closedGate(), state: (id) => states[id] ?? 0, tryAcquire: (d) => (states[d.deploymentId] ?? 0) === 0 };
}

test('priority: the lowest value first, ties drawn by weight', () => {
  const { route } = routeOf([deployment('x', { priority: 1 }), deployment('y', { priority: 0, weight: 1 }), deployment('z', { priority: 0, weight: 3 })], 'priority');
  assert.equal(selectDeployment(route, closedGate(), [], 0, () => 0.2), 1); // 0.2 · 4 = 0.8 < 1: y
  assert.equal(selectDeployment(route, closedGate(), [], 0, () => 0.3), 2); // 1.2: z
});

test('weighted: every deployment by its share', () => {
  const { route } = routeOf([deployment('x', { weight: 1 }), deployment('y', { weight: 1 }), deployment('z', { weight: 2 })], 'weighted');
  assert.deepEqual([0, 0.3, 0.49, 0.5, 0.99].map((r) => selectDeployment(route, closedGate(), [], 0, () => r)), [0, 1, 1, 2, 2]);
});

test('least_in_flight and lowest_latency read the deployment statistics; untried latency first', () => {
  const least = routeOf([deployment('x'), deployment('y')], 'least_in_flight');
  least.stats.of('x').inFlight = 2;
  least.stats.of('y').inFlight = 1;
  assert.equal(selectDeployment(least.route, closedGate(), [], 0, Math.random), 1);

  const fastest = routeOf([deployment('x'), deployment('y'), deployment('z')], 'lowest_latency');
  fastest.stats.of('x').observe(50);
  fastest.stats.of('y').observe(20);
  assert.equal(selectDeployment(fastest.route, closedGate(), [], 0, Math.random), 2, 'z has no sample yet');
  fastest.stats.of('z').observe(30);
  assert.equal(selectDeployment(fastest.route, closedGate(), [], 0, Math.random), 1);
});

test('skipped: open breakers, deployments at max_parallel, unusable providers; tried ones only once all were', () => {
  const providers = new Map([['p', provider('p')], ['q', provider('q', 'no key')]]);
  const deployments = [deployment('x'), deployment('y', { maxParallel: 1 }), deployment('z', { providerId: 'q' }), deployment('w')];
  const { route, stats } = routeOf(deployments, 'priority', providers);
  stats.of('y').inFlight = 1;
  assert.equal(selectDeployment(route, gate({ x: 1 }), [], 0, () => 0), 3);
  const tried = [new Attempt(deployments[3])];
  assert.equal(selectDeployment(route, gate({}), tried, 0, () => 0), 0, 'w tried: x');
  assert.equal(selectDeployment(route, gate({ x: 1 }), tried, 0, () => 0), 3, 'only w left: tried again');
  assert.equal(selectDeployment(route, gate({ x: 1, w: 1 }), tried, 0, () => 0), -1);
});

test('a half-open breaker without a trial slot gives way to a closed deployment', () => {
  const { route } = routeOf([deployment('x', { priority: 0 }), deployment('y', { priority: 1 })], 'priority');
  assert.equal(selectDeployment(route, gate({ x: 2 }), [], 0, () => 0), 1);
  assert.equal(selectDeployment(route, gate({ x: 2, y: 1 }), [], 0, () => 0), -1);
});

test('backoff: full jitter under min(max, base · 2^n); Retry-After when longer, up to the cap, else move on', () => {
  const policy = { attempts: 3, backoffMs: 100, maxBackoffMs: 1000, on: new Set<never>(), attemptTimeoutMs: 0, deadlineMs: 0 };
  assert.equal(retryDelayMs(policy, 0, undefined, () => 0.5), 50);
  assert.equal(retryDelayMs(policy, 3, undefined, () => 0.5), 400);
  assert.equal(retryDelayMs(policy, 9, undefined, () => 0.999), 999);
  assert.equal(retryDelayMs(policy, 0, 0.5, () => 0.5), 500);
  assert.equal(retryDelayMs(policy, 0, 0, () => 0.5), 50);
  assert.equal(retryDelayMs(policy, 0, 2, () => 0.5), MOVE_ON);
});
