// The UTC windows limits and budgets count in: a minute for rates, a calendar day and a calendar month
// for budgets. A window is [start, end) in ms since the epoch; every replica computes the same bounds,
// so counters shared through Redis line up without coordination.

export interface Window {
  readonly start: number;
  readonly end: number;
}

export type Period = 'minute' | 'day' | 'month';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export function windowOf(period: Period, nowMs: number): Window {
  if (period === 'minute') {
    const start = nowMs - (nowMs % MINUTE_MS);
    return { start, end: start + MINUTE_MS };
  }
  if (period === 'day') {
    const start = nowMs - (nowMs % DAY_MS);
    return { start, end: start + DAY_MS };
  }
  const now = new Date(nowMs);
  return { start: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1), end: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) };
}
