// One circuit breaker per deployment (core/alias.ts BreakerGate): closed → open on a failure share over a
// minimum volume in the window or on consecutive failures; open for the cooldown (no attempt admitted) →
// half-open on the first look after it: a bounded number of trial attempts, all succeeding → closed, one
// failing → open again. Only the error classes in the policy's `on` are failures; other errors count as
// neither. Transitions happen lazily, when an attempt or a reader asks: no timers.
//
// Every deployment of the aliases given gets its breaker at construction, with the policy of the FIRST alias
// (in config order) that lists it: a deployment shared by aliases has one breaker, so one policy.
//
// Shared state: with a bus, an opening is published with its open-until time, and an opening heard from another
// replica opens the deployment here until that time (never longer than this replica's own cooldown, so a skewed
// clock cannot hold it open) without publishing it back.
//
// An outcome does not say which attempt it ends: while half-open, any outcome recorded ends a trial (the oldest
// in flight). An attempt admitted before the opening that outlives the whole cooldown would be taken for a trial;
// an attempt timeout under cooldown_ms rules that out. A trial never recorded (aborted) frees its slot after a
// cooldown, so a lost outcome cannot wedge the breaker.
//
// The closed path of tryAcquire/record is a map lookup and a few numbers: no allocation, no timer.
import type { Alias, BreakerGate, BreakerPolicy, BreakerState, Deployment } from '../core/alias.ts';
import type { ErrorClass } from '../core/errors.ts';
import type { BreakerBus } from '../store/ports.ts';
import { OutcomeWindow } from './outcome-window.ts';

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;

export type BreakerListener = (deploymentId: string, state: BreakerState, previous: BreakerState, reason: string) => void;

export interface BreakersOptions {
  /** Wall-clock ms (openings are shared between processes as times); default Date.now. */
  now?: () => number;
  /** Called on every transition, after it took effect; a throw is ignored. */
  onChange?: BreakerListener;
  /** Shares openings with the other replicas (store/redis/breaker-bus.ts). */
  bus?: BreakerBus;
}

class Breaker {
  readonly id: string;
  readonly policy: BreakerPolicy;
  readonly window: OutcomeWindow;
  state: BreakerState = CLOSED;
  openUntil = 0;
  consecutiveFailures = 0;
  /** Half-open: when each trial in flight started, oldest first (a ring), so a trial whose outcome never comes expires. */
  readonly trialStarts: Float64Array;
  trialFirst = 0;
  trialsInFlight = 0;
  trialSuccesses = 0;

  constructor(id: string, policy: BreakerPolicy) {
    this.id = id;
    this.policy = policy;
    this.window = new OutcomeWindow(policy.windowMs);
    this.trialStarts = new Float64Array(policy.halfOpenRequests);
  }

  startTrial(now: number): void {
    this.trialStarts[(this.trialFirst + this.trialsInFlight) % this.trialStarts.length] = now;
    this.trialsInFlight++;
  }

  /** An outcome does not say which trial it ends: the oldest is taken as done. */
  endTrial(): void {
    this.trialFirst = (this.trialFirst + 1) % this.trialStarts.length;
    this.trialsInFlight--;
  }

  /** Frees the slots of trials started a cooldown ago or more (aborted before their outcome was recorded). */
  expireTrials(now: number): void {
    while (this.trialsInFlight > 0 && now - this.trialStarts[this.trialFirst] >= this.policy.cooldownMs) this.endTrial();
  }

  resetTrials(): void {
    this.trialFirst = 0;
    this.trialsInFlight = 0;
    this.trialSuccesses = 0;
  }
}

export class Breakers implements BreakerGate {
  readonly #breakers = new Map<string, Breaker>();
  /** Each deployment's state, kept at every transition, for metrics and readiness. */
  readonly #states = new Map<string, BreakerState>();
  readonly #now: () => number;
  readonly #onChange: BreakerListener | undefined;
  readonly #bus: BreakerBus | undefined;
  readonly #unsubscribe: (() => void) | undefined;

  constructor(aliases: Iterable<Alias>, options: BreakersOptions = {}) {
    for (const alias of aliases) {
      for (const deployment of alias.deployments) {
        if (this.#breakers.has(deployment.deploymentId)) continue;
        this.#breakers.set(deployment.deploymentId, new Breaker(deployment.deploymentId, alias.breaker));
        this.#states.set(deployment.deploymentId, CLOSED);
      }
    }
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange;
    this.#bus = options.bus;
    this.#unsubscribe = options.bus?.subscribe((deploymentId, untilMs) => this.#openedElsewhere(deploymentId, untilMs));
  }

  /** A deployment no alias listed has no breaker: always admitted. */
  tryAcquire(deployment: Deployment): boolean {
    const breaker = this.#breakers.get(deployment.deploymentId);
    if (breaker === undefined || breaker.state === CLOSED) return true;
    const now = this.#now();
    this.#settle(breaker, now);
    if (breaker.state === OPEN) return false;
    breaker.expireTrials(now);
    if (breaker.trialsInFlight >= breaker.policy.halfOpenRequests) return false;
    breaker.startTrial(now);
    return true;
  }

  record(deployment: Deployment, errorClass: ErrorClass | undefined): void {
    const breaker = this.#breakers.get(deployment.deploymentId);
    if (breaker === undefined || !breaker.policy.enabled) return;
    const failed = errorClass !== undefined && breaker.policy.on.has(errorClass);
    if (breaker.state === CLOSED) {
      if (errorClass !== undefined && !failed) return;
      this.#recordClosed(breaker, failed);
    } else if (breaker.state === HALF_OPEN && breaker.trialsInFlight > 0) {
      breaker.endTrial();
      if (failed) this.#open(breaker, this.#now() + breaker.policy.cooldownMs, `a trial attempt failed (${errorClass})`, true);
      else if (errorClass === undefined && ++breaker.trialSuccesses >= breaker.policy.halfOpenRequests) this.#close(breaker);
    }
    // Open, or half-open with no trial in flight: the outcome of an attempt admitted before the opening (or of a
    // trial given up on) says nothing about the deployment now.
  }

  /** Takes no trial slot, but moves an open breaker past its cooldown to half-open, so a router filtering on it tries it. */
  state(deploymentId: string): BreakerState {
    const breaker = this.#breakers.get(deploymentId);
    if (breaker === undefined) return CLOSED;
    if (breaker.state === OPEN) this.#settle(breaker, this.#now()); // the clock is read only when it matters
    return breaker.state;
  }

  retryAfterMs(deployments: readonly Deployment[]): number {
    const now = this.#now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const deployment of deployments) {
      const breaker = this.#breakers.get(deployment.deploymentId);
      if (breaker === undefined || breaker.state !== OPEN || breaker.openUntil <= now) return 0;
      soonest = Math.min(soonest, breaker.openUntil - now);
    }
    return soonest === Number.POSITIVE_INFINITY ? 0 : soonest;
  }

  /** How many of `deployments` are not open (closed or half-open): what the routable-deployments gauge shows. */
  routable(deployments: readonly Deployment[]): number {
    const now = this.#now();
    let count = 0;
    for (const deployment of deployments) {
      const breaker = this.#breakers.get(deployment.deploymentId);
      if (breaker !== undefined) this.#settle(breaker, now);
      if (breaker === undefined || breaker.state !== OPEN) count++;
    }
    return count;
  }

  /** Every deployment's state (those past their cooldown moved to half-open first). */
  states(): ReadonlyMap<string, BreakerState> {
    const now = this.#now();
    for (const breaker of this.#breakers.values()) this.#settle(breaker, now);
    return this.#states;
  }

  /** Stops hearing the bus. */
  close(): void {
    this.#unsubscribe?.();
  }

  #recordClosed(breaker: Breaker, failed: boolean): void {
    const now = this.#now();
    const policy = breaker.policy;
    breaker.window.add(now, failed);
    if (!failed) {
      breaker.consecutiveFailures = 0;
      return;
    }
    breaker.consecutiveFailures++;
    if (breaker.consecutiveFailures >= policy.consecutiveFailures) {
      this.#open(breaker, now + policy.cooldownMs, `${breaker.consecutiveFailures} failures in a row`, true);
      return;
    }
    const total = breaker.window.total(now);
    const failures = breaker.window.failures();
    if (total >= policy.minRequests && failures / total >= policy.failureRatio) {
      this.#open(breaker, now + policy.cooldownMs, `${failures} of ${total} attempts failed in ${policy.windowMs} ms`, true);
    }
  }

  /** Open past its cooldown → half-open. */
  #settle(breaker: Breaker, now: number): void {
    if (breaker.state !== OPEN || now < breaker.openUntil) return;
    breaker.resetTrials();
    this.#change(breaker, HALF_OPEN, `cooldown of ${breaker.policy.cooldownMs} ms over`);
  }

  #open(breaker: Breaker, untilMs: number, reason: string, publish: boolean): void {
    breaker.openUntil = untilMs;
    breaker.resetTrials();
    this.#change(breaker, OPEN, reason);
    if (publish) this.#bus?.publishOpen(breaker.id, untilMs);
  }

  #close(breaker: Breaker): void {
    const trials = breaker.trialSuccesses;
    breaker.resetTrials();
    breaker.window.clear();
    breaker.consecutiveFailures = 0;
    this.#change(breaker, CLOSED, `${trials} trial attempt${trials === 1 ? '' : 's'} succeeded`);
  }

  #openedElsewhere(deploymentId: string, untilMs: number): void {
    const breaker = this.#breakers.get(deploymentId);
    if (breaker === undefined || !breaker.policy.enabled) return;
    const now = this.#now();
    const until = Math.min(untilMs, now + breaker.policy.cooldownMs);
    if (until <= now || (breaker.state === OPEN && breaker.openUntil >= until)) return;
    if (breaker.state === OPEN) breaker.openUntil = until;
    else this.#open(breaker, until, 'opened by another replica', false);
  }

  #change(breaker: Breaker, state: BreakerState, reason: string): void {
    const previous = breaker.state;
    breaker.state = state;
    this.#states.set(breaker.id, state);
    try {
      this.#onChange?.(breaker.id, state, previous, reason);
    } catch {
      // The transition stands: a failing listener (a log or audit sink) must not fail the attempt that caused it.
    }
  }
}
