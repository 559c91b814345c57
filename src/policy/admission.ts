// What admit set aside for one request — a parallel slot, a TPM reservation, budget reservations — kept on
// the context until finish settles it with what the request really used (settle.ts), or until a later check
// refuses the request and it is all given back. Settled once: a second call does nothing.
import type { RequestContext, Settlement } from '../core/context.ts';
import { windowOf } from '../core/windows.ts';
import type { BudgetScope, Reservation } from '../store/ports.ts';
import type { AccessDeps } from './access.ts';

export interface BudgetHold {
  readonly reservation: Reservation;
  readonly scope: BudgetScope;
  readonly id: string;
  readonly period: 'day' | 'month';
  readonly limit: number;
}

export class Admission implements Settlement {
  readonly #deps: AccessDeps;
  /** The key of a held parallel slot. */
  parallelKey: string | undefined = undefined;
  tpm: Reservation | undefined = undefined;
  readonly budgets: BudgetHold[] = [];
  #done = false;

  constructor(deps: AccessDeps) {
    this.#deps = deps;
  }

  /** A check refused the request: everything granted so far goes back. */
  release(): void {
    this.#close(0, 0);
  }

  /** Finish: TPM with the tokens the billed attempt used, budgets with its cost, the parallel slot let go. */
  settle(ctx: RequestContext): void {
    const billed = ctx.attempt;
    const tokens = billed?.started ? billed.usage.inputTokens + billed.usage.outputTokens : 0;
    this.#close(tokens, ctx.costUsd);
  }

  #close(tokens: number, costUsd: number): void {
    if (this.#done) return;
    this.#done = true;
    const { counters, recorder } = this.#deps;
    const now = (this.#deps.now ?? Date.now)();
    if (this.tpm) this.#quietly(counters.settle(this.tpm, tokens, windowOf('minute', now)));
    for (const hold of this.budgets) {
      const { reservation, period } = hold;
      this.#quietly(counters.settle(reservation, costUsd, windowOf(period, now)));
      // What this request leaves the identity at, from its own view (others may have moved it since).
      recorder.quotaUsed(hold.scope, hold.id, period, (reservation.used - reservation.amount + costUsd) / hold.limit);
    }
    if (this.parallelKey !== undefined) this.#quietly(counters.release(this.parallelKey));
  }

  /** A settlement the store could not take is counted by the store (degraded); nothing here may throw at finish. */
  #quietly(result: void | Promise<void>): void {
    if (result) result.catch((err: unknown) => this.#deps.debug?.debug({ err }, 'counter settlement failed'));
  }
}
