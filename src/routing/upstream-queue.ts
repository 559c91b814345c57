// The wait for an upstream connection. Calls beyond a pool's `connections` wait in undici's queue; this
// bounds how many may wait (upstream.queue_limit) and for how long (upstream.queue_timeout_ms), and tells an
// observer (the metrics recorder) who waits and for how long. A call that gets a connection at once costs
// a counter; only a call that actually waits gets a timestamp and a timer.
import { GatewayError } from '../core/errors.ts';

/** What a client told "queue full" should wait before retrying, in seconds: connections free up constantly. */
const RETRY_AFTER_SECONDS = 1;

export interface QueueObserver {
  /** A call to `provider` began waiting for a connection. */
  upstreamQueued(provider: string): void;
  /** It stopped waiting (it got a connection, gave up, or was cancelled) after `seconds`. */
  upstreamDequeued(provider: string, seconds: number): void;
}

export interface QueueLimits {
  queue_limit: number;
  queue_timeout_ms: number;
}

/** One pool's calls in flight (dispatched and not yet over), against its connections and queue limit. */
export class ConnectionQueue {
  #inFlight = 0;
  readonly #connections: number;
  readonly #limits: QueueLimits;
  readonly #observer: QueueObserver | undefined;

  constructor(connections: number, limits: QueueLimits, observer: QueueObserver | undefined) {
    this.#connections = connections;
    this.#limits = limits;
    this.#observer = observer;
  }

  /**
   * Counts a call in; true when every connection is taken and it must wait (then call wait()). Throws
   * GW_UPSTREAM_QUEUE_FULL, before anything is sent, when queue_limit calls are waiting already.
   */
  enter(): boolean {
    const limit = this.#limits.queue_limit;
    if (this.#inFlight >= this.#connections + limit) {
      throw new GatewayError('GW_UPSTREAM_QUEUE_FULL', `${limit} requests already waiting`, { retryAfter: RETRY_AFTER_SECONDS });
    }
    return ++this.#inFlight > this.#connections;
  }

  /** A call that entered and must wait; `onTimeout` is told when the wait outlasts queue_timeout_ms. */
  wait(provider: string, onTimeout: (error: GatewayError) => void): Wait {
    const timeoutMs = this.#limits.queue_timeout_ms;
    const timeout = () => onTimeout(new GatewayError('GW_UPSTREAM_QUEUE_FULL', `no connection within ${timeoutMs} ms`, { retryAfter: RETRY_AFTER_SECONDS }));
    return new Wait(provider, setTimeout(timeout, timeoutMs), this.#observer);
  }

  /** The call is over (answered, failed or cancelled): its connection, or its place in the queue, is free. */
  leave(): void {
    this.#inFlight--;
  }
}

/** One call waiting for a connection. */
export class Wait {
  readonly #provider: string;
  readonly #since = performance.now();
  readonly #timer: NodeJS.Timeout;
  readonly #observer: QueueObserver | undefined;

  constructor(provider: string, timer: NodeJS.Timeout, observer: QueueObserver | undefined) {
    this.#provider = provider;
    this.#timer = timer;
    this.#observer = observer;
    observer?.upstreamQueued(provider);
  }

  /** Call once: the wait is over, whatever ended it. */
  end(): void {
    clearTimeout(this.#timer);
    this.#observer?.upstreamDequeued(this.#provider, (performance.now() - this.#since) / 1000);
  }
}
