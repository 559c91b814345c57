// Plan: the public model name → the configured target, checked against the operation and the provider's health.
import type { ModelTarget, Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { Provider } from '../providers/provider.ts';
import type { DebugLog } from '../telemetry/log.ts';

/** `debug`: the routing module's logger, only when it writes debug lines. */
export function createPlan(models: ReadonlyMap<string, ModelTarget>, providers: ReadonlyMap<string, Provider>, type: ModelTarget['type'], debug?: DebugLog): Stage {
  return (ctx) => {
    const target = models.get(ctx.requestedModel);
    if (!target) throw new GatewayError('GW_MODEL_NOT_FOUND', `"${ctx.requestedModel}"`, { param: 'model' });
    if (target.type !== type) throw new GatewayError('GW_MODEL_WRONG_TYPE', `"${target.name}" is a ${target.type} model`, { param: 'model' });
    const provider = providers.get(target.providerId)!;
    if (provider.unavailableReason) throw new GatewayError('GW_PROVIDER_UNAVAILABLE', `provider "${provider.id}" has no usable credentials`);
    ctx.target = target;
    if (debug) debug.debug({ request_id: ctx.requestId, model: target.name, provider: provider.id, upstream_model: target.upstreamModel }, 'routed');
  };
}
