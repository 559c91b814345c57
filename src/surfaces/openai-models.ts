// GET /v1/models: the public model names this gateway serves, in OpenAI's list shape.
import type { ModelTarget } from '../core/context.ts';

/** The body never changes after start-up, so it is rendered once. */
export function renderModelList(models: Iterable<ModelTarget>, createdAt: number): string {
  const data = [...models].map((m) => ({ id: m.name, object: 'model', created: createdAt, owned_by: m.providerId }));
  return JSON.stringify({ object: 'list', data });
}
