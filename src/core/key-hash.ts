// Gateway keys: minted here, stored and compared as SHA-256 digests, so a plain key is never held longer
// than the code that reads it (config/compile hashes the configured keys, policy/authenticate the presented
// one, the issuing command prints a new one once).
import { createHash, randomBytes } from 'node:crypto';

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** The prefix every issued key starts with, so secret scanners and people can recognise one. */
export const KEY_PREFIX = 'vk-';

/** A new key: `vk-` + 32 random bytes, base64url. */
export const mintKey = (): string => KEY_PREFIX + randomBytes(32).toString('base64url');

/** A new key id: short, public, what listings, logs, metrics and audit name the key by. */
export const mintKeyId = (): string => `key_${randomBytes(6).toString('base64url')}`;

/** What audit events say of a presented key that matched nothing: enough to group attempts, useless to an attacker. */
export const keyHashPrefix = (hash: string): string => hash.slice(0, 8);

/** Whether a key record is usable at `nowMs`: revocation may be scheduled (a grace period), expiry is fixed. */
export function keyState(record: { readonly expiresAt?: number; readonly revokedAt?: number }, nowMs: number): KeyState {
  if (record.revokedAt !== undefined && record.revokedAt <= nowMs) return 'revoked';
  if (record.expiresAt !== undefined && record.expiresAt <= nowMs) return 'expired';
  return 'active';
}

export type KeyState = 'active' | 'revoked' | 'expired';
