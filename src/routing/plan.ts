// Plan: the public model name → the configured target, checked against the operation and the provider's health.
import type { ModelTarget, Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { Provider } from '../providers/provider.ts';

export function createPlan(models: ReadonlyMap<string, ModelTarget>, providers: ReadonlyMap<string, Provider>, type: ModelTarget['type']): Stage {
  return (ctx) => {
    const target = models.get(ctx.requestedModel);
    if (!target) throw new GatewayError('GW_MODEL_NOT_FOUND', `"${ctx.requestedModel}"`, { param: 'model' });
    if (target.type !== type) throw new GatewayError('GW_MODEL_WRONG_TYPE', `"${target.name}" is a ${target.type} model`, { param: 'model' });
    const provider = providers.get(target.providerId)!;
    if (provider.unavailableReason) throw new GatewayError('GW_PROVIDER_UNAVAILABLE', `provider "${provider.id}" has no usable credentials`);
    ctx.target = target;
  };
}
