// Numbers that appear in rule files, written two ways: as an exact decimal (the plain files that
// Prometheus loads) and as a Helm action over .Values.alerting.* (the chart's copies). Arithmetic is
// decimal (BigInt with a scale), so 1 - 0.999 is 0.001, never 0.0010000000000000009 as Sloth writes;
// on the Helm side sprig's subf/mulf/divf are decimal too (shopspring/decimal), so both render the same.

export interface Num {
  /** Exact decimal text. */
  readonly plain: string;
  /** The same number as Helm template text (without the surrounding braces). */
  readonly helm: string;
}

/** A number fixed by the generator (burn-rate factors, unit conversions): the same text on both sides. */
export function lit(value: number | string): Num {
  const text = toDecimal(value);
  return { plain: text, helm: text };
}

/** A number the chart reads from values.yaml (`alerting.thresholds.<key>`), with its default here. */
export function value(key: string, defaultValue: number): Num {
  return { plain: toDecimal(defaultValue), helm: `.Values.alerting.thresholds.${key}` };
}

export function sub(a: Num, b: Num): Num {
  return { plain: format(parse(a.plain), parse(b.plain), (x, y) => x - y), helm: `(subf ${a.helm} ${b.helm})` };
}

/** A number as it stands in a rule file: the plain decimal, or a Helm action. */
export function rendered(n: Num, helm: boolean): string {
  if (!helm) return n.plain;
  return `{{ ${n.helm.replace(/^\((.*)\)$/, '$1')} }}`;
}

// --- exact decimals --------------------------------------------------------------------------------

interface Decimal { units: bigint; scale: number }

function toDecimal(value: number | string): string {
  const text = typeof value === 'number' ? numberText(value) : value;
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`not a plain decimal: ${text}`);
  return normalise(parse(text));
}

/** Shortest round-trip text of a double, without exponent (0.001, not 1e-3). */
function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  const text = String(n);
  if (!text.includes('e')) return text;
  const [mantissa, exponent] = text.split('e');
  const [int, frac = ''] = mantissa.replace('-', '').split('.');
  const digits = int + frac;
  const point = int.length + Number(exponent);
  const sign = n < 0 ? '-' : '';
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  return `${sign}${digits.padEnd(point, '0').slice(0, point)}${digits.length > point ? `.${digits.slice(point)}` : ''}`;
}

function parse(text: string): Decimal {
  const [int, frac = ''] = text.split('.');
  return { units: BigInt(int + frac), scale: frac.length };
}

function format(a: Decimal, b: Decimal, op: (x: bigint, y: bigint) => bigint): string {
  const scale = Math.max(a.scale, b.scale);
  const up = (d: Decimal) => d.units * 10n ** BigInt(scale - d.scale);
  return normalise({ units: op(up(a), up(b)), scale });
}

function normalise({ units, scale }: Decimal): string {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  let text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  if (scale) text = text.replace(/\.?0+$/, '');
  digits = text;
  return negative && digits !== '0' ? `-${digits}` : digits;
}
