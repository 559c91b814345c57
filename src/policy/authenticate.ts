// Gateway keys: `Authorization: Bearer <key>` (OpenAI clients) or `x-api-key` (Anthropic clients), looked
// up by SHA-256 in the key store, so the plain key is never held longer than this function. The key's
// Principal goes on the context; with no key store (no keys configured) every request stays anonymous.
import type { RequestContext, Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { hashKey } from '../core/key-hash.ts';
import type { KeyLookup, KeyRecord } from '../store/ports.ts';
import type { DebugLog } from '../telemetry/log.ts';

/** `keys`: undefined for an open gateway. `debug`: the auth module's logger, only when it writes debug lines (never with the key itself). */
export function createAuthenticate(keys: KeyLookup | undefined, debug?: DebugLog): Stage {
  if (!keys) {
    return (ctx) => {
      if (debug) debug.debug({ request_id: ctx.requestId, identity_id: ctx.principal.id, reason: 'no auth.keys configured' }, 'authenticated');
    };
  }
  const admit = (ctx: RequestContext, record: KeyRecord | undefined) => {
    if (!record) throw denied(ctx, 'GW_AUTH_INVALID_KEY', 'the key matches no auth.keys entry', debug);
    ctx.principal = record.principal;
    if (debug) debug.debug({ request_id: ctx.requestId, identity_id: record.principal.id }, 'authenticated');
  };
  return (ctx) => {
    const key = presentedKey(ctx.headers.authorization, ctx.headers['x-api-key']);
    if (!key) throw denied(ctx, 'GW_AUTH_MISSING_KEY', 'no key presented (Authorization: Bearer or x-api-key)', debug);
    const found = keys.lookup(hashKey(key));
    if (found instanceof Promise) return found.then((record) => admit(ctx, record));
    admit(ctx, found);
  };
}

function denied(ctx: RequestContext, code: 'GW_AUTH_MISSING_KEY' | 'GW_AUTH_INVALID_KEY', reason: string, debug: DebugLog | undefined): GatewayError {
  if (debug) debug.debug({ request_id: ctx.requestId, reason }, 'not authenticated');
  return new GatewayError(code);
}

function presentedKey(authorization: string | string[] | undefined, apiKey: string | string[] | undefined): string | undefined {
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  if (typeof authorization === 'string' && /^bearer /i.test(authorization)) return authorization.slice(7).trim() || undefined;
  return typeof apiKey === 'string' && apiKey ? apiKey : undefined;
}
