// Gateway keys: `Authorization: Bearer <key>` (OpenAI clients) or `x-api-key` (Anthropic clients).
// Keys are compared by SHA-256 so the plain key is never held longer than this function.
import { hashKey } from '../config/compile.ts';
import type { Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { DebugLog } from '../telemetry/log.ts';

/** `debug`: the auth module's logger, only when it writes debug lines (never with the key itself). */
export function createAuthenticate(keyHashes: ReadonlyMap<string, string>, debug?: DebugLog): Stage {
  const denied = (ctx: { requestId: string }, code: 'GW_AUTH_MISSING_KEY' | 'GW_AUTH_INVALID_KEY', reason: string) => {
    if (debug) debug.debug({ request_id: ctx.requestId, reason }, 'not authenticated');
    return new GatewayError(code);
  };
  return (ctx) => {
    if (keyHashes.size === 0) { // open gateway: no keys configured
      if (debug) debug.debug({ request_id: ctx.requestId, identity_id: ctx.identityId, reason: 'no auth.keys configured' }, 'authenticated');
      return;
    }
    const key = presentedKey(ctx.headers.authorization, ctx.headers['x-api-key']);
    if (!key) throw denied(ctx, 'GW_AUTH_MISSING_KEY', 'no key presented (Authorization: Bearer or x-api-key)');
    const identity = keyHashes.get(hashKey(key));
    if (!identity) throw denied(ctx, 'GW_AUTH_INVALID_KEY', 'the key matches no auth.keys entry');
    ctx.identityId = identity;
    if (debug) debug.debug({ request_id: ctx.requestId, identity_id: identity }, 'authenticated');
  };
}

function presentedKey(authorization: string | string[] | undefined, apiKey: string | string[] | undefined): string | undefined {
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  if (typeof authorization === 'string' && /^bearer /i.test(authorization)) return authorization.slice(7).trim() || undefined;
  return typeof apiKey === 'string' && apiKey ? apiKey : undefined;
}
