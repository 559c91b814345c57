// The upstream body of a same-dialect request. When the client's body already says everything the upstream
// needs (its model is the upstream model, and a stream already asks for usage), its bytes go upstream
// untouched: no re-serialisation, so nothing the client wrote changes (integers past 2^53, number
// spelling, key order) and no copy is made. Otherwise the parsed body is patched and serialised.
import type { ModelTarget, RequestContext } from '../../core/context.ts';

/** `streamUsage`: the field a stream must carry for the upstream to report usage, if the dialect has one. */
export function passthroughBody(ctx: RequestContext, target: ModelTarget, streamUsage?: (body: Record<string, any>) => Record<string, unknown> | undefined): string | Buffer {
  const patch = ctx.stream && streamUsage ? streamUsage(ctx.body) : undefined;
  if (ctx.rawBody && ctx.body.model === target.upstreamModel && !patch) return ctx.rawBody;
  return JSON.stringify({ ...ctx.body, model: target.upstreamModel, ...patch });
}
