// The bodies of the key routes, checked with zod: what `POST /admin/keys` may set, and the grace of a
// revoke or rotate (a duration such as "10m", or seconds).
import { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import { parseDuration } from './durations.ts';
import type { KeyAttributes } from './key-actions.ts';
import { parsedBy, validated } from './reply.ts';

const duration = z.string().transform(parsedBy(parseDuration));
const count = z.number().int().positive();
const usd = z.number().positive().finite();
const label = z.string().min(1).max(200);

const newKey = z.object({
  name: label,
  user: label.optional(),
  team: label.optional(),
  models: z.array(z.string().min(1)).min(1).optional(),
  rpm: count.optional(),
  tpm: count.optional(),
  max_parallel: count.optional(),
  daily_budget_usd: usd.optional(),
  monthly_budget_usd: usd.optional(),
  expires_in: duration.optional(),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  metadata: z.record(z.string().min(1).max(100), z.string().max(1000)).optional(),
}).strict();

/** ms; a number is seconds. */
const grace = z.object({ grace: z.union([duration, z.number().int().nonnegative().transform((s) => s * 1000)]).optional() }).strict();

export function keyAttributes(body: unknown, nowMs: number): KeyAttributes {
  const b = validated(newKey, body);
  if (b.expires_in !== undefined && b.expires_at !== undefined) {
    throw new GatewayError('GW_REQUEST_INVALID', 'expires_at: give expires_in or expires_at, not both', { param: 'expires_at' });
  }
  const expiresAt = b.expires_at !== undefined ? Date.parse(b.expires_at) : b.expires_in !== undefined ? nowMs + b.expires_in : undefined;
  if (expiresAt !== undefined && expiresAt <= nowMs) {
    throw new GatewayError('GW_REQUEST_INVALID', 'expires_at: must lie in the future', { param: b.expires_at !== undefined ? 'expires_at' : 'expires_in' });
  }
  return {
    name: b.name, user: b.user, team: b.team, models: b.models, rpm: b.rpm, tpm: b.tpm, maxParallel: b.max_parallel,
    dailyBudgetUsd: b.daily_budget_usd, monthlyBudgetUsd: b.monthly_budget_usd, expiresAt, metadata: b.metadata,
  };
}

/** The grace period in ms (0 when absent: at once). */
export const graceMs = (body: unknown): number => validated(grace, body).grace ?? 0;
