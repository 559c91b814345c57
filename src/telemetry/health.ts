// Liveness and readiness as named component checks. Readiness never calls a paid upstream: a provider
// is "routable" when it is configured with usable credentials.
import type { Provider } from '../providers/provider.ts';
import type { UsageLedger } from '../store/ports.ts';
import { withDeadline } from './deadline.ts';

export interface ComponentState {
  status: 'ok' | 'fail';
  detail?: string;
}

export interface HealthReport {
  status: 'ok' | 'fail';
  components: Record<string, ComponentState>;
}

export interface Lifecycle {
  draining: boolean;
  /** The drain timeout passed and the remaining connections are being closed: their requests are cut by us. */
  cutting: boolean;
}

const STORE_PING_TIMEOUT_MS = 1000;

export function createHealth(deps: { ledger: UsageLedger; providers: ReadonlyMap<string, Provider>; lifecycle: Lifecycle }) {
  return {
    live(): HealthReport {
      return { status: 'ok', components: { process: { status: 'ok' } } };
    },

    async ready(): Promise<HealthReport> {
      const components: Record<string, ComponentState> = { config: { status: 'ok' } };
      components.store = await withDeadline(deps.ledger.ping(), STORE_PING_TIMEOUT_MS, 'store ping')
        .then((): ComponentState => ({ status: 'ok' }), (err: Error): ComponentState => ({ status: 'fail', detail: err.message }));
      components.lifecycle = deps.lifecycle.draining ? { status: 'fail', detail: 'draining' } : { status: 'ok' };
      const providers = [...deps.providers.values()];
      const routable = providers.filter((p) => !p.unavailableReason);
      components.providers = routable.length > 0
        ? { status: 'ok', detail: `${routable.length}/${providers.length} routable` }
        : { status: 'fail', detail: 'no provider has usable credentials' };
      for (const p of providers) if (p.unavailableReason) components[`provider:${p.id}`] = { status: 'fail', detail: p.unavailableReason };
      const required = ['config', 'store', 'lifecycle', 'providers'];
      return { status: required.every((name) => components[name].status === 'ok') ? 'ok' : 'fail', components };
    },
  };
}

export type Health = ReturnType<typeof createHealth>;

