// The readiness port: each owner (config, store, providers, lifecycle) registers checks of its own
// components with telemetry/health.ts, which knows none of them.

/** Where the server answers liveness and readiness (aliases that the seeds' systems use); config keeps other routes off them. */
export const LIVENESS_PATHS = ['/healthz', '/health', '/health/live', '/livez'] as const;
export const READINESS_PATHS = ['/readyz', '/health/ready'] as const;

export interface ComponentState {
  status: 'ok' | 'fail';
  detail?: string;
}

export interface HealthCheck {
  /** The component's name in the readiness report. */
  readonly name: string;
  /** Readiness fails when a required check fails; the others only report. */
  readonly required: boolean;
  /** For a check that may hang: past `ms` the component fails with `<waitingFor>: no answer in <ms> ms`. */
  readonly deadline?: { readonly ms: number; readonly waitingFor: string };
  /** The component's state; a throw or a rejection fails it with the error's message. */
  check(): ComponentState | Promise<ComponentState>;
}
