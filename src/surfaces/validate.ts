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
