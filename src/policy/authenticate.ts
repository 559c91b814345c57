// Gateway keys: `Authorization: Bearer <key>` (OpenAI clients) or `x-api-key` (Anthropic clients).
// Keys are compared by SHA-256 so the plain key is never held longer than this function.
import { hashKey } from '../config/compile.ts';
import type { Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';

export function createAuthenticate(keyHashes: ReadonlyMap<string, string>): Stage {
  return (ctx) => {
    if (keyHashes.size === 0) return; // open gateway: no keys configured
    const key = presentedKey(ctx.headers.authorization, ctx.headers['x-api-key']);
    if (!key) throw new GatewayError('GW_AUTH_MISSING_KEY');
    const identity = keyHashes.get(hashKey(key));
    if (!identity) throw new GatewayError('GW_AUTH_INVALID_KEY');
    ctx.identityId = identity;
  };
}

function presentedKey(authorization: string | string[] | undefined, apiKey: string | string[] | undefined): string | undefined {
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  if (typeof authorization === 'string' && /^bearer /i.test(authorization)) return authorization.slice(7).trim() || undefined;
  return typeof apiKey === 'string' && apiKey ? apiKey : undefined;
}
