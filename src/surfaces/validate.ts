// Request-field checks shared by the client dialects. Hand-written rather than a zod schema per request:
// the gateway checks only the fields it acts on (the upstream validates the rest), and these run on every call.
import { GatewayError } from '../core/errors.ts';

export const invalid = (detail: string, param: string) => new GatewayError('GW_REQUEST_INVALID', detail, { param });

export function requireString(value: unknown, param: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`${param} must be a non-empty string`, param);
  return value;
}

export function requireArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(`${param} must be a non-empty array`, param);
  return value;
}

export function optionalNumber(value: unknown, param: string): number | undefined {
  if (value == null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${param} must be a number`, param);
  return value;
}

/**
 * A value every provider rejects, refused here in the client's own terms instead of forwarded: an
 * optional number within [min, max], an integer when asked. Absent or null passes (both APIs read null as unset).
 */
export function checkRange(value: unknown, param: string, min: number, max: number, integer = false): void {
  if (value == null || (typeof value === 'number' && value >= min && value <= max && (!integer || Number.isInteger(value)))) return;
  const range = max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`;
  throw invalid(`${param} must be ${integer ? 'an integer' : 'a number'} ${range}`, param);
}
