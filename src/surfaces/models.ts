// GET /v1/models and /v1/models/{model}: the public model names this gateway serves, in the shape of the
// SDK that asks: Anthropic's when the request carries anthropic-version (server/app.ts), OpenAI's otherwise.
import type { Dialect } from '../core/canonical.ts';
import type { ModelTarget, RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';

/**
 * Every body is fixed after start-up, so each is rendered once and a request only picks one: the list,
 * or the model the path names (the server hands it over as `body.model`).
 */
export function renderModels(models: Iterable<ModelTarget>, startedAt: Date): (ctx: RequestContext) => string {
  const created = Math.floor(startedAt.getTime() / 1000);
  const createdAt = new Date(created * 1000).toISOString();
  const openai: object[] = [];
  const anthropic: { id: string }[] = [];
  const single = new Map<string, Record<Dialect, string>>();
  for (const m of models) {
    const asOpenAI = { id: m.name, object: 'model', created, owned_by: m.providerId };
    const asAnthropic = { type: 'model', id: m.name, display_name: m.name, created_at: createdAt };
    openai.push(asOpenAI);
    anthropic.push(asAnthropic);
    single.set(m.name, { openai: JSON.stringify(asOpenAI), anthropic: JSON.stringify(asAnthropic) });
  }
  const list: Record<Dialect, string> = {
    openai: JSON.stringify({ object: 'list', data: openai }),
    anthropic: JSON.stringify({ data: anthropic, has_more: false, first_id: anthropic[0]?.id ?? null, last_id: anthropic.at(-1)?.id ?? null }),
  };
  return (ctx) => {
    const name: unknown = ctx.body.model;
    if (name === undefined) return list[ctx.dialect];
    const found = single.get(name as string);
    if (!found) throw new GatewayError('GW_MODEL_NOT_FOUND', `"${name}"`, { param: 'model' });
    return found[ctx.dialect];
  };
}
