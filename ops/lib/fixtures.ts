// Series for promtool cases, in promtool's expanding notation: what every alert's firing and quiet
// cases are built from (ops/alerts.ts, ops/access-alerts.ts).
import type { Case } from './model.ts';

/** A counter growing by `perMinute` for `minutes` (promtool's `start+step x count`). */
export const grow = (perMinute: number, minutes = 60) => `0+${perMinute}x${minutes}`;

/** A gauge holding `v` for `minutes`. */
export const gauge = (name: string, labels: string, v: number, minutes = 30) => ({ [`${name}{${labels}}`]: `${v}x${minutes}` });

/** A case evaluated after `minutes`, over the union of the given series. */
export const at = (minutes: number, ...series: Record<string, string>[]): Case => ({ minutes, series: Object.assign({}, ...series) });
