// The opt-in raw passthrough (providers[].passthrough): a `/v1/*` path Vigil does not model (files, batches,
// images, audio, rerank …) goes to a passthrough provider as it came — any method, the client's body and
// content type, the query string — with the provider's own credentials in place of the gateway key (which
// authenticate read and which is never forwarded), and the answer is relayed with its status, type and bytes.
// No usage record: no tokens are known of an unmodelled answer, so nothing could be billed; the request is
// counted (vigil_api_requests_total{api="passthrough"}), its bytes each way
// (vigil_passthrough_bytes_total) and logged like any other. Upstream errors come back in the OpenAI error
// shape with the upstream's message (routing/upstream.ts maps every non-2xx).
import { Attempt } from '../core/attempt.ts';
import type { ModelTarget, RequestContext, Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { Provider } from '../providers/provider.ts';
import type { Recorder } from '../telemetry/metrics/record.ts';

export const PROVIDER_HEADER = 'x-vigil-provider';

/** Connection-scoped headers, and the upstream's request ids, which the gateway's own replace. */
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer', 'x-request-id', 'request-id']);

/** `providers`: those with `passthrough: true`, at least one. */
export function createRawPassthrough(providers: readonly Provider[], recorder: Pick<Recorder, 'passthroughBytes'>): Stage {
  const targets = new Map(providers.map((p) => [p.id, targetOf(p)]));
  const byId = new Map(providers.map((p) => [p.id, p]));
  return async (ctx) => {
    const provider = pick(ctx, byId);
    const target = targets.get(provider.id)!;
    ctx.target = target;
    const body = ctx.rawBody;
    if (body?.length) recorder.passthroughBytes(provider.id, 'request', body.length);
    const type = ctx.headers['content-type'];
    const res = await provider.forward!(ctx, new Attempt(target), {
      method: ctx.method, path: pathOf(ctx), body: body?.length ? body : undefined, contentType: typeof type === 'string' ? type : undefined,
    });
    ctx.reply.open!(res.status, relayedHeaders(res.headers));
    for await (const chunk of res.chunks) {
      if (ctx.abortReason) throw ctx.abortReason;
      recorder.passthroughBytes(provider.id, 'response', chunk.length);
      const drained = ctx.reply.write(chunk);
      if (drained) await drained;
    }
    ctx.reply.end();
  };
}

/** The only passthrough provider, or the one the header names. */
function pick(ctx: RequestContext, providers: ReadonlyMap<string, Provider>): Provider {
  const named = ctx.headers[PROVIDER_HEADER];
  if (typeof named === 'string') {
    const provider = providers.get(named);
    if (!provider) throw new GatewayError('GW_REQUEST_INVALID', `${PROVIDER_HEADER}: "${named}" is not a provider with passthrough enabled`, { param: PROVIDER_HEADER });
    return provider;
  }
  if (providers.size > 1) throw new GatewayError('GW_REQUEST_INVALID', `several providers have passthrough enabled: name one in ${PROVIDER_HEADER}`, { param: PROVIDER_HEADER });
  return providers.values().next().value!;
}

/** `/v1/files?purpose=batch` → `/files?purpose=batch`: below the version root, as Provider.forward takes it. */
function pathOf(ctx: RequestContext): string {
  // A `..` segment would climb out of the provider's API root on its host.
  if (/(^|\/)\.\.(\/|$)/.test(ctx.params.path)) throw new GatewayError('GW_ROUTE_NOT_FOUND', `${ctx.method} /v1/${ctx.params.path}`);
  const query = new URLSearchParams(ctx.query).toString();
  return `/${ctx.params.path}${query ? `?${query}` : ''}`;
}

function relayedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const relayed: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !NOT_RELAYED.has(name)) relayed[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return relayed;
}

/** What the request's log line and the attempt's span name: the provider, with no model. */
function targetOf(provider: Provider): ModelTarget {
  return { name: '', upstreamModel: '', providerId: provider.id, deploymentId: provider.id, type: 'chat' };
}
