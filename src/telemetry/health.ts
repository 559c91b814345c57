// Liveness and readiness as named component checks, registered by the components' owners (core/health.ts):
// this module runs them and knows none of them. Readiness never calls a paid upstream.
import type { ComponentState, HealthCheck } from '../core/health.ts';
import { withDeadline } from './deadline.ts';

export type { ComponentState, HealthCheck };

export interface HealthReport {
  status: 'ok' | 'fail';
  components: Record<string, ComponentState>;
}

export interface Lifecycle {
  draining: boolean;
  /** The drain timeout passed and the remaining connections are being closed: their requests are cut by us. */
  cutting: boolean;
}

/** Ready unless draining: a load balancer stops sending new requests while in-flight ones finish. */
export function lifecycleCheck(lifecycle: Lifecycle): HealthCheck {
  return { name: 'lifecycle', required: true, check: () => (lifecycle.draining ? DRAINING : OK) };
}

const OK: ComponentState = Object.freeze({ status: 'ok' });
const DRAINING: ComponentState = Object.freeze({ status: 'fail', detail: 'draining' });

export class Health {
  readonly #checks: HealthCheck[] = [];

  /** Checks report in registration order; a name is registered once. */
  register(...checks: HealthCheck[]): this {
    for (const check of checks) {
      if (this.#checks.some((c) => c.name === check.name)) throw new Error(`health check "${check.name}" is registered twice`);
      this.#checks.push(check);
    }
    return this;
  }

  live(): HealthReport {
    return { status: 'ok', components: { process: { status: 'ok' } } };
  }

  /** Every check at once, each bounded by its deadline. */
  async ready(): Promise<HealthReport> {
    const states = await Promise.all(this.#checks.map(run));
    const components: Record<string, ComponentState> = {};
    let status: HealthReport['status'] = 'ok';
    for (const [i, check] of this.#checks.entries()) {
      components[check.name] = states[i];
      if (check.required && states[i].status !== 'ok') status = 'fail';
    }
    return { status, components };
  }
}

async function run(check: HealthCheck): Promise<ComponentState> {
  try {
    const state = check.check();
    if (!(state instanceof Promise)) return state;
    return await (check.deadline ? withDeadline(state, check.deadline.ms, check.deadline.waitingFor) : state);
  } catch (err) {
    return { status: 'fail', detail: (err as Error).message };
  }
}
