// The time filters of the analytics and audit queries: ISO-8601 instants or UTC dates (YYYY-MM-DD), read
// the same way by the admin API and the CLI.

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Reports longer than this are refused: they scan the whole ledger. */
export const MAX_RANGE_DAYS = 366;
/** Hourly buckets over a longer range would be thousands of rows. */
export const MAX_HOURLY_DAYS = 31;
/** Without `from`, a report covers this many days back from `to`. */
export const DEFAULT_RANGE_DAYS = 30;

/**
 * ms since the epoch. A date alone is that day's UTC midnight, or, as an end (`until`, `to`), the next
 * midnight: `--to 2026-01-31` includes the 31st.
 */
export function parseInstant(text: string, what: string, end = false): number {
  const ms = Date.parse(DATE_ONLY.test(text) ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}/.test(text)) throw new Error(`${what}: "${text}" is not a date: expected YYYY-MM-DD or an ISO-8601 time`);
  return DATE_ONLY.test(text) && end ? ms + DAY_MS : ms;
}

export type Granularity = 'hour' | 'day' | 'total';

/** [from, to) checked: to after from, within the bounds above; `from` defaults to 30 days before `to`, `to` to now. */
export function reportRange(input: { from?: string; to?: string; granularity?: Granularity }, nowMs: number): { from: number; to: number } {
  const to = input.to === undefined ? nowMs : parseInstant(input.to, 'to', true);
  const from = input.from === undefined ? to - DEFAULT_RANGE_DAYS * DAY_MS : parseInstant(input.from, 'from');
  if (to <= from) throw new Error(`to: must be after from (${new Date(from).toISOString()})`);
  const maxDays = input.granularity === 'hour' ? MAX_HOURLY_DAYS : MAX_RANGE_DAYS;
  if (to - from > maxDays * DAY_MS) throw new Error(`from: the range may cover at most ${maxDays} days${input.granularity === 'hour' ? ' with hourly buckets' : ''}`);
  return { from, to };
}
