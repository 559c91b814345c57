// Pipelines begun and not yet finished, so a drain can wait for their finish (and so their usage record)
// before the store closes: connections cut at the drain timeout close the server a few ticks before their
// pipelines have unwound. A counter, not a set of contexts: an increment and a decrement per request.
import type { ApiRoute } from './endpoints.ts';
import type { Finish } from './finish.ts';

export class InFlight {
  #open = 0;
  #wake: (() => void) | undefined;

  /** The routes, each endpoint counting a request as it begins. */
  routes(routes: readonly ApiRoute[]): ApiRoute[] {
    return routes.map((route) => {
      const endpoint = route.endpoint;
      return {
        ...route,
        endpoint: (ctx) => {
          this.#open++;
          return endpoint(ctx);
        },
      };
    });
  }

  /** The finish the pipelines run (compose runs it exactly once per request), counting it done. */
  finish(finish: Finish): Finish {
    return (ctx) => {
      try {
        finish(ctx);
      } finally {
        if (--this.#open === 0) this.#wake?.();
      }
    };
  }

  /** Resolves when no pipeline is open, or after timeoutMs. */
  settled(timeoutMs: number): Promise<void> {
    if (this.#open === 0) return Promise.resolve();
    return new Promise((ok) => {
      const timer = setTimeout(ok, timeoutMs);
      this.#wake = () => {
        clearTimeout(timer);
        ok();
      };
    });
  }
}
