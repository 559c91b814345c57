// How long to wait before the next attempt on an alias: exponential backoff with full jitter, unless the
// upstream said when to come back (Retry-After, already parsed into GatewayError.retryAfter by upstream.ts).
import type { RetryPolicy } from '../core/alias.ts';

/** The wait could not be honoured within max_backoff_ms: move on (another deployment, a fallback) rather than wait. */
export const MOVE_ON = -1;

/**
 * ms to wait before retry number `retry` (0 for the first): a uniform draw in [0, min(max, base · 2^retry)),
 * or the upstream's Retry-After when longer, capped at max_backoff_ms; beyond the cap, MOVE_ON.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfterSeconds: number | undefined, random: () => number): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** retry);
  const backoff = ceiling > 0 ? Math.floor(random() * ceiling) : 0;
  if (retryAfterSeconds === undefined) return backoff;
  const asked = retryAfterSeconds * 1000;
  if (asked <= backoff) return backoff;
  return asked <= policy.maxBackoffMs ? asked : MOVE_ON;
}
