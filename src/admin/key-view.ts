// A key as the admin API and `vigil keys show` present it: every attribute, times in ISO-8601, absent
// values as null. Never the hash: a listing must not help anyone test guesses offline.
import { keyState, type KeyState } from '../core/key-hash.ts';
import type { KeyRecord } from '../store/ports.ts';

export interface KeyView {
  id: string;
  name: string | null;
  user: string | null;
  team: string | null;
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  max_parallel: number | null;
  daily_budget_usd: number | null;
  monthly_budget_usd: number | null;
  metadata: Record<string, string>;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  replaced_by: string | null;
  state: KeyState;
  read_only: boolean;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function keyView(record: KeyRecord, nowMs: number): KeyView {
  const { principal } = record;
  return {
    id: record.id,
    name: principal.name ?? null,
    user: principal.user ?? null,
    team: principal.team ?? null,
    models: principal.allowedModels ? [...principal.allowedModels] : null,
    rpm: principal.limits?.requestsPerMinute ?? null,
    tpm: principal.limits?.tokensPerMinute ?? null,
    max_parallel: principal.limits?.maxParallel ?? null,
    daily_budget_usd: principal.budget?.dailyUsd ?? null,
    monthly_budget_usd: principal.budget?.monthlyUsd ?? null,
    metadata: { ...record.metadata },
    created_at: new Date(record.createdAt).toISOString(),
    expires_at: iso(record.expiresAt),
    revoked_at: iso(record.revokedAt),
    replaced_by: record.replacedBy ?? null,
    state: keyState(record, nowMs),
    read_only: record.readOnly === true,
  };
}
