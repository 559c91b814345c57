// A stream whose client left mid-answer is read on, written nowhere, to the upstream's final usage event, so
// the call is billed with what it really cost rather than what had been streamed when the client hung up.
// Bounded by upstream.disconnect_drain (time and bytes) and by the server's shutdown; a drain cut short
// leaves a usage record marked partial. The request ends when its drain does, still as the client's 499.
import type { ErrorClass, GatewayError } from './errors.ts';

/** upstream.disconnect_drain. */
export interface DrainLimits {
  max_ms: number;
  max_bytes: number;
}

/** Whether a request aborted for `reason` is drained: only a stream whose response had started, when its client left. */
export function shouldDrain(reason: GatewayError, streaming: boolean, limits: DrainLimits): boolean {
  return streaming && reason.code === 'GW_CLIENT_CLOSED' && limits.max_ms > 0 && limits.max_bytes > 0;
}

/** One server's drains and their limits, so a shutdown can cut the ones still reading (cli/serve.ts). */
export class Drains {
  readonly limits: DrainLimits;
  readonly #running = new Set<Drain>();

  constructor(limits: DrainLimits) {
    this.limits = limits;
  }

  /** A drain for a request aborted for `reason`, or undefined when it is not drained; `cancel` stops its upstream. */
  start(reason: GatewayError, streaming: boolean, cancel: () => void): Drain | undefined {
    if (!shouldDrain(reason, streaming, this.limits)) return undefined;
    const drain = new Drain(this.limits, cancel, (ended) => this.#running.delete(ended));
    this.#running.add(drain);
    return drain;
  }

  get running(): number {
    return this.#running.size;
  }

  /** The server shuts down (its drain timeout, or a second signal): every drain still reading is capped now. */
  cutAll(): void {
    for (const drain of [...this.#running]) drain.cap();
  }
}

export class Drain {
  /** Bytes of the stream read since the client left. */
  bytes = 0;
  /** undefined while it reads; `capped` when a limit or the shutdown cut it (the usage record is then partial). */
  result: 'complete' | 'capped' | undefined = undefined;
  /** The upstream's own failure while it was read on: the attempt's real outcome. */
  error: GatewayError | undefined = undefined;
  readonly #maxBytes: number;
  readonly #timer: NodeJS.Timeout;
  readonly #cancel: () => void;
  readonly #ended: (drain: Drain) => void;

  constructor(limits: DrainLimits, cancel: () => void, ended: (drain: Drain) => void) {
    this.#maxBytes = limits.max_bytes;
    this.#cancel = cancel;
    this.#ended = ended;
    this.#timer = setTimeout(() => this.cap(), limits.max_ms);
  }

  /** `bytes` more were read; past max_bytes the drain is capped. */
  read(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.#maxBytes) this.cap();
  }

  /** Cut short: the upstream call is cancelled and the tokens may be short. */
  cap(): void {
    if (this.#stop('capped')) this.#cancel();
  }

  /** The stream was read to its end, or the upstream failed with `error` (no cap: the usage is all it reported). */
  end(error?: GatewayError): void {
    if (this.#stop('complete')) this.error = error;
  }

  /** The attempt's outcome for its breaker: a cut drain says nothing about the upstream (client_abort is neutral). */
  get errorClass(): ErrorClass | undefined {
    return this.result === 'capped' ? 'client_abort' : this.error?.errorClass;
  }

  #stop(result: 'complete' | 'capped'): boolean {
    if (this.result !== undefined) return false;
    this.result = result;
    clearTimeout(this.#timer);
    this.#ended(this);
    return true;
  }
}
