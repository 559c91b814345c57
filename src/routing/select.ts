// Selection: which deployment of an alias the next attempt goes to. Candidates: a usable provider, a breaker
// that is not open, room under max_parallel, and not yet tried by this request (only when every candidate
// was tried are tried ones chosen again). Among candidates the strategy's key decides (lower wins), ties by
// weight-random. No allocation: two passes over the deployments, the second drawing among the best.
import type { BreakerGate, Strategy } from '../core/alias.ts';
import type { Attempt } from '../core/attempt.ts';
import type { AliasRoute } from './plan.ts';

const UNTRIED = 1;
const CLOSED = 2;

/**
 * The index in `route.alias.deployments` of the deployment the next attempt goes to, its breaker acquired;
 * -1 when none can take it. `attempts[from…]` are this request's attempts on this alias.
 */
export function selectDeployment(route: AliasRoute, breakers: BreakerGate, attempts: readonly Attempt[], from: number, random: () => number): number {
  let index = pick(route, breakers, attempts, from, UNTRIED, random);
  if (index < 0) index = pick(route, breakers, attempts, from, 0, random);
  if (index < 0) return -1;
  if (breakers.tryAcquire(route.alias.deployments[index])) return index;
  // A half-open breaker whose trial slots are taken: a closed deployment, if any.
  index = pick(route, breakers, attempts, from, UNTRIED | CLOSED, random);
  if (index < 0) index = pick(route, breakers, attempts, from, CLOSED, random);
  return index >= 0 && breakers.tryAcquire(route.alias.deployments[index]) ? index : -1;
}

function pick(route: AliasRoute, breakers: BreakerGate, attempts: readonly Attempt[], from: number, filter: number, random: () => number): number {
  const { deployments, strategy } = route.alias;
  let best = Infinity;
  let total = 0;
  let only = -1;
  for (let i = 0; i < deployments.length; i++) {
    if (!eligible(route, breakers, attempts, from, filter, i)) continue;
    const key = keyOf(route, strategy, i);
    if (key < best) {
      best = key;
      total = 0;
      only = i;
    } else if (key > best) {
      continue;
    }
    total += deployments[i].weight;
  }
  if (only < 0 || total === deployments[only].weight) return only;
  let draw = random() * total;
  for (let i = only; i < deployments.length; i++) {
    if (!eligible(route, breakers, attempts, from, filter, i) || keyOf(route, strategy, i) !== best) continue;
    draw -= deployments[i].weight;
    if (draw < 0) return i;
  }
  return only; // rounding left the draw at the very end
}

function eligible(route: AliasRoute, breakers: BreakerGate, attempts: readonly Attempt[], from: number, filter: number, i: number): boolean {
  const deployment = route.alias.deployments[i];
  if (route.providers[i].unavailableReason !== undefined || !route.stats[i].admits(deployment.maxParallel)) return false;
  const state = breakers.state(deployment.deploymentId);
  if (state === 1 || (filter & CLOSED && state !== 0)) return false;
  if (filter & UNTRIED) for (let a = from; a < attempts.length; a++) if (attempts[a].target === deployment) return false;
  return true;
}

/** Lower is better. */
function keyOf(route: AliasRoute, strategy: Strategy, i: number): number {
  switch (strategy) {
    case 'priority': return route.alias.deployments[i].priority;
    case 'weighted': return 0;
    case 'least_in_flight': return route.stats[i].inFlight;
    case 'lowest_latency': return route.stats[i].ttfbMs;
  }
}
