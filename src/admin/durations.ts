// Durations as operators write them (`45s`, `10m`, `1h`, `30d`): key expiry and revocation grace, in the
// admin API's bodies and on the CLI's command line.

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or an Error saying what is expected. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration: expected a whole number and a unit s, m, h or d (45s, 10m, 1h, 30d)`);
  return Number(match[1]) * UNIT_MS[match[2]];
}
