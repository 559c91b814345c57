// The admin API's first stage: `Authorization: Bearer <auth.admin_token>`, compared in constant time on
// SHA-256 digests (equal lengths whatever was sent, so neither the bytes nor the length leak through
// timing). A gateway key presented instead is told so (403), so a client with the wrong credential learns
// which one it needs; anything else is 401.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { hashKey, KEY_PREFIX } from '../core/key-hash.ts';
import type { KeyLookup, KeyRecord } from '../store/ports.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function createAdminAuth(token: string, keys: KeyLookup, configKeys: readonly KeyRecord[]): Stage {
  const expected = digest(token);
  const configHashes = new Set(configKeys.map((record) => record.hash));
  return (ctx) => {
    const header = ctx.headers.authorization;
    const presented = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : '';
    if (presented && timingSafeEqual(digest(presented), expected)) return;
    if (presented && isGatewayKey(presented, keys, configHashes)) throw new GatewayError('GW_ADMIN_FORBIDDEN');
    throw new GatewayError('GW_ADMIN_UNAUTHORIZED');
  };
}

function isGatewayKey(presented: string, keys: KeyLookup, configHashes: ReadonlySet<string>): boolean {
  if (presented.startsWith(KEY_PREFIX)) return true;
  const hash = hashKey(presented);
  return configHashes.has(hash) || keys.lookup(hash) !== undefined;
}
