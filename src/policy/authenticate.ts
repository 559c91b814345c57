// Gateway keys: `Authorization: Bearer <key>` (OpenAI clients) or `x-api-key` (Anthropic clients), looked
// up by SHA-256 in the key cache (synchronously, from memory), so the plain key is never held longer than this
// function. The key's Principal goes on the context. The gateway runs open (every request anonymous) while
// auth.required is false, or unset and no key exists: re-evaluated per request, so the first key issued while
// running closes it without a restart. Failures say why (missing, invalid, revoked, expired), are audited, and
// feed the brute-force guard and the per-address rate.
import type { RequestContext, Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { HealthCheck } from '../core/health.ts';
import { hashKey, keyHashPrefix, keyState } from '../core/key-hash.ts';
import { auditRequest, type AccessDeps } from './access.ts';
import { BruteForceGuard } from './brute-force.ts';

type Reason = 'missing_key' | 'invalid_key' | 'key_revoked' | 'key_expired';

const CODES = {
  missing_key: 'GW_AUTH_MISSING_KEY', invalid_key: 'GW_AUTH_INVALID_KEY', key_revoked: 'GW_AUTH_KEY_REVOKED', key_expired: 'GW_AUTH_KEY_EXPIRED',
} as const;

/** Whether requests are served without a key right now (the authenticate stage, the `auth` readiness component and vigil_auth_open). */
export function authIsOpen(required: boolean | undefined, keys: { readonly size: number }): boolean {
  return required === false || (required === undefined && keys.size === 0);
}

/** The `auth` readiness component: always ready, it says whether a key is required. */
export function authCheck(required: boolean | undefined, keys: { readonly size: number }): HealthCheck {
  return { name: 'auth', required: false, check: () => ({ status: 'ok', detail: authIsOpen(required, keys) ? 'open' : 'keys required' }) };
}

export function createAuthenticate(deps: AccessDeps): Stage {
  const { keys, config, debug } = deps;
  const required = config.auth.required;
  const now = deps.now ?? Date.now;
  const guard = new BruteForceGuard(deps);

  const fail = async (ctx: RequestContext, reason: Reason, hash: string | undefined): Promise<never> => {
    if (debug) debug.debug({ request_id: ctx.requestId, reason }, 'not authenticated');
    const detail: Record<string, string> = { reason, client_address: ctx.clientAddress };
    if (hash) detail.key_prefix = keyHashPrefix(hash);
    auditRequest(deps.audit, ctx, 'auth.failed', detail, { security: true, now: now() });
    await guard.failed(ctx); // may slow the answer, or refuse it as rate limited
    throw new GatewayError(CODES[reason]);
  };

  return (ctx) => {
    if (authIsOpen(required, keys)) {
      if (debug) debug.debug({ request_id: ctx.requestId, identity_id: ctx.principal.id, reason: 'open gateway' }, 'authenticated');
      return;
    }
    guard.checkBlocked(ctx);
    const key = presentedKey(ctx.headers.authorization, ctx.headers['x-api-key']);
    if (!key) return fail(ctx, 'missing_key', undefined);
    const hash = hashKey(key);
    const record = keys.lookup(hash);
    if (!record) return fail(ctx, 'invalid_key', hash);
    if (record.revokedAt !== undefined || record.expiresAt !== undefined) {
      const state = keyState(record, now());
      if (state !== 'active') return fail(ctx, state === 'revoked' ? 'key_revoked' : 'key_expired', hash);
    }
    ctx.principal = record.principal;
    if (debug) debug.debug({ request_id: ctx.requestId, identity_id: record.principal.id }, 'authenticated');
  };
}

function presentedKey(authorization: string | string[] | undefined, apiKey: string | string[] | undefined): string | undefined {
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  if (typeof authorization === 'string' && /^bearer /i.test(authorization)) return authorization.slice(7).trim() || undefined;
  return typeof apiKey === 'string' && apiKey ? apiKey : undefined;
}
