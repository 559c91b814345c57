// One upstream attempt: what one call to one target did. A request owns its attempts in order
// (RequestContext.attempts); routing/dispatch starts each, the transport and the provider write it, and
// finish reads request + attempts, so a request is counted once and every attempt is timed, counted and
// traced on its own. Fixed shape, every field set in the constructor: one small object per attempt.
import type { Usage } from './canonical.ts';
import { emptyUsage } from './canonical.ts';
import type { ModelTarget } from './context.ts';
import type { GatewayError } from './errors.ts';
import type { AttemptSpan } from './trace.ts';

/** A running upstream call that can be stopped (routing/upstream.ts implements it). */
export interface Cancellable {
  cancel(reason: GatewayError): void;
}

export class Attempt {
  /** Where this attempt went. */
  readonly target: ModelTarget;
  /**
   * Times in ms after the request's accept (its `startedAt`); -1 until known. `startedAt` is set when the
   * call goes out: an attempt whose request could not even be built for the provider never started and
   * is neither counted nor billed.
   */
  startedAt = -1;
  /** The answer's last byte (or the failure): what follows is the gateway's time. */
  endedAt = -1;
  firstTokenAt = -1;
  /** The upstream's HTTP status; 0 before the headers came, or when none did (a network failure). */
  status = 0;
  /** Why it failed; for the last attempt, finish sets the request's error (a stream can fail after dispatch). */
  error: GatewayError | undefined = undefined;
  usage: Usage = emptyUsage();
  /** Spend from usage and the target's prices, set at finish. */
  costUsd = 0;
  /** The CLIENT span whose traceparent went upstream, when tracing is on. */
  span: AttemptSpan | undefined = undefined;
  /** Set while the upstream call runs: the request's abort cancels it directly, with no signal listener. */
  call: Cancellable | undefined = undefined;

  constructor(target: ModelTarget) {
    this.target = target;
  }

  get started(): boolean {
    return this.startedAt >= 0;
  }

  /** When it ended (ms after accept), or `untilMs` while it has not. */
  endMs(untilMs: number): number {
    return this.endedAt >= 0 ? this.endedAt : untilMs;
  }

  /** How long the upstream had it (ms). */
  durationMs(untilMs: number): number {
    return this.endMs(untilMs) - this.startedAt;
  }
}
