// The rate-limit headers OpenAI sends, which clients and their SDKs already read: limit, remaining and reset
// for requests and for tokens, plus `retry-after` in whole seconds on a refusal.

/** A reset in OpenAI's (Go's) duration form: "250ms", "1s", "6m0s", "1h2m3s", "1.5s". */
export function formatReset(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const seconds = (whole % 60_000) / 1000;
  const s = `${Number(seconds.toFixed(3))}s`;
  if (hours) return `${hours}h${minutes}m${s}`;
  return minutes ? `${minutes}m${s}` : s;
}

/** Whole seconds until `resetAt`, at least 1 (Retry-After). */
export const retryAfterSeconds = (resetAt: number, now: number): number => Math.max(1, Math.ceil((resetAt - now) / 1000));

export type LimitKind = 'requests' | 'tokens';

/** Adds the limit/remaining/reset triple of `kind` to `into`. */
export function addLimitHeaders(into: Record<string, string>, kind: LimitKind, limit: number, used: number, resetAt: number, now: number): void {
  into[`x-ratelimit-limit-${kind}`] = String(limit);
  into[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, limit - used));
  into[`x-ratelimit-reset-${kind}`] = formatReset(resetAt - now);
}
