// The token counting endpoints: the model's first routable deployment counts when its provider has the
// endpoint (Anthropic's count_tokens, OpenAI's input_tokens), free of charge upstream; otherwise the gateway
// answers with its own estimate (surfaces/count-tokens.ts, given as `estimate`), marked by a header. Never a
// paid call.
// Not metered like a model call, by design: the upstream attempt is not added to the request (it is a
// detached Attempt), so no usage record, LLM-call metric or cost comes of it, and the route has no admit
// stage, so it takes nothing from RPM, TPM or budgets beyond what authentication does (a blocked or
// unknown key is refused as everywhere). Clients such as Claude Code call it before most turns: counting it
// against a key's request rate would throttle the real calls it precedes.
import { Attempt } from '../core/attempt.ts';
import type { Dialect } from '../core/canonical.ts';
import type { Stage } from '../core/context.ts';
import type { Provider } from '../providers/provider.ts';
import { passthroughBody } from '../providers/shared/passthrough-body.ts';
import type { RouteTable } from './plan.ts';

/** Per client dialect: the provider kind that counts tokens itself, and the path below its version root. */
const COUNTING: Record<Dialect, { kind: Provider['kind']; path: string }> = {
  anthropic: { kind: 'anthropic', path: '/messages/count_tokens' },
  openai: { kind: 'openai', path: '/responses/input_tokens' },
};

/** After plan (ctx.alias set): forward to the first routable deployment when its provider counts, else `estimate` answers. */
export function createCountTokens(routes: RouteTable, estimate: Stage): Stage {
  return async (ctx) => {
    const route = routes.get(ctx.alias!.name)!;
    const index = Math.max(0, route.providers.findIndex((p) => !p.unavailableReason));
    const provider = route.providers[index];
    const deployment = route.alias.deployments[index];
    ctx.target = deployment;
    const counting = COUNTING[ctx.dialect];
    if (provider.kind !== counting.kind || !provider.forward) return estimate(ctx);
    const res = await provider.forward(ctx, new Attempt(deployment), { method: 'POST', path: counting.path, body: passthroughBody(ctx, deployment) });
    ctx.reply.json(res.status, await res.bytes());
  };
}
