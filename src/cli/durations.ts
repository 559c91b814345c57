// Command-line values of the admin commands, parsed where commander reads them so a bad one is one clear
// line naming the option: durations (45s, 10m, 1h, 30d), counts, dollar amounts, key=value labels.
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../admin/durations.ts';

/** A duration in ms. */
export function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError(`"${value}" is not a whole number of at least 1`);
  return n;
}

export function usd(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not an amount of US dollars above 0`);
  return n;
}

/** `--metadata k=v`, repeatable: collected into one record. */
export function label(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError(`"${value}" is not key=value`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}
