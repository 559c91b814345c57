// The exact-match response cache of the chat routes: one stage in place of [dispatch, encode] that answers a
// repeated non-streaming request from the cache (no upstream attempt) and stores a fresh answer's bytes.
// Opt-in per alias (`cache.enabled`); with no alias caching, the chat routes keep their stages as they are.
//
// The key is SHA-256 over the route, the client's dialect, the alias and the request body's bytes as the
// client sent them: the same bytes ask the same question, and nothing is parsed or normalised for it.
// The client's `Cache-Control` is honoured: `no-cache` skips the lookup but stores the fresh answer,
// `no-store` neither looks up nor stores; both count as `bypass`. Answers say `x-vigil-cache: hit`, `miss`
// or `bypass` (only on aliases that cache). A hit is finished like any request (admission settled, one
// usage record marked cached at zero cost: pipeline/finish.ts) but makes no LLM call.
import { createHash } from 'node:crypto';
import type { CachePolicy } from '../core/alias.ts';
import type { ChatOutput } from '../core/canonical.ts';
import type { ModelTarget, RequestContext, Stage } from '../core/context.ts';
import type { ResponseCache } from '../store/ports.ts';
import type { Recorder } from '../telemetry/metrics/record.ts';
import { chatJson, overheadHeader } from './encode.ts';

/** What the cache needs of an alias (core/alias.ts Alias is one). */
export interface CacheAlias {
  readonly name: string;
  readonly deployments: readonly ModelTarget[];
  readonly cache: CachePolicy;
}

export interface ResponseCacheDeps {
  cache: ResponseCache;
  recorder: Pick<Recorder, 'cacheLookup'>;
  /** Every alias; those with `cache.enabled` are cached. */
  aliases: Iterable<CacheAlias>;
}

type Result = 'hit' | 'miss' | 'bypass';

/** One frozen header object per result: nothing allocated for a header that carries no figure. */
const HEADERS: Readonly<Record<Result, Readonly<Record<string, string>>>> = {
  hit: Object.freeze({ 'x-vigil-cache': 'hit' }),
  miss: Object.freeze({ 'x-vigil-cache': 'miss' }),
  bypass: Object.freeze({ 'x-vigil-cache': 'bypass' }),
};

/** The client's Cache-Control: 0 none of ours, 1 no-cache (store only), 2 no-store (neither). */
type Directive = 0 | 1 | 2;

/**
 * Wraps a chat route's answer stages: `(dispatch, encode) → stages`. Without a cache, or with no alias
 * caching, it hands the two back unchanged.
 */
export function createResponseCache(deps: ResponseCacheDeps | undefined): (dispatch: Stage, encode: Stage) => Stage[] {
  const cached = new Map<string, CacheAlias>();
  for (const alias of deps?.aliases ?? []) if (alias.cache.enabled) cached.set(alias.name, alias);
  if (!deps || cached.size === 0) return (dispatch, encode) => [dispatch, encode];
  const { cache, recorder } = deps;

  return (dispatch, encode) => {
    /** Runs the upstream call and answers; stores the answer under `key` unless it is undefined. */
    const answer = async (ctx: RequestContext, result: Result, key: string | undefined, ttlMs: number): Promise<void> => {
      const pending = dispatch(ctx);
      if (pending) await pending;
      const output = ctx.output as ChatOutput;
      if (output.kind !== 'json' && output.kind !== 'result') return encode(ctx); // a stream: never cached
      const body = chatJson(ctx, output);
      const overhead = overheadHeader(ctx);
      ctx.reply.json(200, body, overhead ? { ...overhead, ...HEADERS[result] } : HEADERS[result]);
      if (key === undefined) return;
      const { usage, target } = ctx.attempt!;
      void cache.set(key, {
        body: typeof body === 'string' ? body : body.toString(),
        usage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, cachedInputTokens: usage.cachedInputTokens },
        deploymentId: target.deploymentId,
      }, ttlMs);
    };

    const responseCache: Stage = async (ctx) => {
      const alias = cached.get(ctx.requestedModel);
      const raw = ctx.rawBody;
      if (alias === undefined || ctx.stream || raw === undefined) {
        const pending = dispatch(ctx);
        if (pending) await pending;
        return encode(ctx);
      }
      const directive = directiveOf(ctx.headers['cache-control']);
      const ttlMs = alias.cache.ttlSeconds * 1000;
      if (directive === 2) {
        recorder.cacheLookup(alias.name, 'bypass');
        return answer(ctx, 'bypass', undefined, ttlMs);
      }
      const key = cacheKey(ctx, alias.name, raw);
      if (directive === 1) {
        recorder.cacheLookup(alias.name, 'bypass');
        return answer(ctx, 'bypass', key, ttlMs);
      }
      const lookup = cache.get(key);
      const found = lookup instanceof Promise ? await lookup : lookup;
      if (found === undefined) {
        recorder.cacheLookup(alias.name, 'miss');
        return answer(ctx, 'miss', key, ttlMs);
      }
      recorder.cacheLookup(alias.name, 'hit');
      // The deployment that first answered; one the config no longer has is billed to the planned target.
      const target = alias.deployments.find((d) => d.deploymentId === found.deploymentId) ?? ctx.target ?? alias.deployments[0];
      ctx.cacheHit = { target, usage: found.usage };
      ctx.reply.json(200, found.body, HEADERS.hit);
    };
    return [responseCache];
  };
}

/** SHA-256 over route, dialect, alias and the body's bytes, each part ended so no two splits meet. */
export function cacheKey(ctx: Pick<RequestContext, 'route' | 'dialect'>, alias: string, rawBody: Buffer): string {
  return createHash('sha256').update(`${ctx.route}\n${ctx.dialect}\n${alias}\n`).update(rawBody).digest('base64url');
}

function directiveOf(header: string | string[] | undefined): Directive {
  if (header === undefined) return 0;
  const value = (typeof header === 'string' ? header : header.join(',')).toLowerCase();
  return value.includes('no-store') ? 2 : value.includes('no-cache') ? 1 : 0;
}
