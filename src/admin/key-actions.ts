// Issuing, revoking and rotating a key, with its audit event: the one implementation behind the admin API
// and `vigil keys`, which differ only in the actor they name. The plain key leaves here once, in the result
// of issue and rotate; the store keeps its SHA-256.
import { GatewayError } from '../core/errors.ts';
import { hashKey, mintKey, mintKeyId } from '../core/key-hash.ts';
import type { Principal } from '../core/principal.ts';
import type { AuditLog, KeyRecord, KeyStore } from '../store/ports.ts';

export interface KeyAttributes {
  name: string;
  user?: string;
  team?: string;
  models?: string[];
  rpm?: number;
  tpm?: number;
  maxParallel?: number;
  dailyBudgetUsd?: number;
  monthlyBudgetUsd?: number;
  /** ms since the epoch. */
  expiresAt?: number;
  metadata?: Record<string, string>;
}

export interface KeyActions {
  issue(attributes: KeyAttributes): Promise<{ key: string; record: KeyRecord }>;
  /** Undefined when no key has this id; refused (GW_REQUEST_INVALID) for a config file's key. */
  revoke(id: string, graceMs: number): Promise<KeyRecord | undefined>;
  rotate(id: string, graceMs: number): Promise<{ key: string; old: KeyRecord; next: KeyRecord } | undefined>;
}

export interface KeyActionDeps {
  keys: KeyStore;
  /** The config file's keys (auth.keys): read-only. */
  configKeys: readonly KeyRecord[];
  audit: AuditLog;
  actor: 'admin' | 'cli';
  now: () => number;
}

export function keyActions({ keys, configKeys, audit, actor, now }: KeyActionDeps): KeyActions {
  const event = (type: 'key.issued' | 'key.revoked' | 'key.rotated', target: string, detail: Record<string, string | number>) =>
    audit.append({ time: new Date(now()).toISOString(), type, actor, target, detail });
  const writable = (id: string) => {
    if (configKeys.some((record) => record.id === id)) {
      throw new GatewayError('GW_REQUEST_INVALID', `key ${id} is listed in the config file (auth.keys) and is read-only: remove it there`);
    }
  };
  return {
    async issue(attributes) {
      const key = mintKey();
      const id = mintKeyId();
      const record = await keys.issue({
        id,
        hash: hashKey(key),
        principal: principalOf(id, attributes),
        ...(attributes.expiresAt !== undefined && { expiresAt: attributes.expiresAt }),
        ...(attributes.metadata && { metadata: attributes.metadata }),
      });
      event('key.issued', id, { name: attributes.name });
      return { key, record };
    },
    async revoke(id, graceMs) {
      writable(id);
      const record = await keys.revoke(id, now() + graceMs);
      if (record) event('key.revoked', id, { name: record.principal.name ?? '', grace_seconds: graceMs / 1000 });
      return record;
    },
    async rotate(id, graceMs) {
      writable(id);
      const key = mintKey();
      const rotated = await keys.rotate(id, { id: mintKeyId(), hash: hashKey(key) }, now() + graceMs);
      if (!rotated) return undefined;
      event('key.rotated', id, { name: rotated.old.principal.name ?? '', grace_seconds: graceMs / 1000, replaced_by: rotated.next.id });
      return { key, ...rotated };
    },
  };
}

/** The Principal a key acts as; absent attributes stay absent (no limit, no cap, every model). */
function principalOf(id: string, a: KeyAttributes): Principal {
  const limits = defined({ requestsPerMinute: a.rpm, tokensPerMinute: a.tpm, maxParallel: a.maxParallel });
  const budget = defined({ dailyUsd: a.dailyBudgetUsd, monthlyUsd: a.monthlyBudgetUsd });
  return defined({
    id, name: a.name, user: a.user, team: a.team, allowedModels: a.models,
    limits: Object.keys(limits).length ? limits : undefined,
    budget: Object.keys(budget).length ? budget : undefined,
  }) as Principal;
}

function defined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}
