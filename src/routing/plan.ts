// Plan: the public model name → its alias, checked against the operation and its providers' health. The
// route table behind it is built once at start-up: per alias its deployments' providers and statistics and
// the chain of aliases a request may move along (the alias, then its fallbacks depth first, each once), so
// a request finds everything routing needs with one lookup.
import type { Alias, Deployment } from '../core/alias.ts';
import type { ModelTarget, Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { Provider } from '../providers/provider.ts';
import type { DeploymentStat, DeploymentStats } from './deployment-stats.ts';

export interface AliasRoute {
  readonly alias: Alias;
  /** Parallel to alias.deployments. */
  readonly providers: readonly Provider[];
  readonly stats: readonly DeploymentStat[];
  /** This alias, then every alias its fallbacks lead to, depth first, each once. */
  readonly chain: readonly ChainLink[];
  /** Every deployment along the chain: the Retry-After of a 503 when none can be routed to. */
  readonly chainDeployments: readonly Deployment[];
  /** Why no deployment along the chain can ever serve (no provider has usable credentials); undefined when one can. */
  readonly unavailable: string | undefined;
}

export interface ChainLink {
  readonly route: AliasRoute;
  /** The alias whose `fallbacks` list this one: its fallback_on decides whether a request moves here. Undefined first. */
  readonly via: Alias | undefined;
}

export type RouteTable = ReadonlyMap<string, AliasRoute>;

export function buildRouteTable(aliases: ReadonlyMap<string, Alias>, providers: ReadonlyMap<string, Provider>, stats: DeploymentStats): RouteTable {
  const table = new Map<string, AliasRoute & { chain: ChainLink[]; chainDeployments: Deployment[]; unavailable: string | undefined }>();
  for (const alias of aliases.values()) {
    table.set(alias.name, {
      alias,
      providers: alias.deployments.map((d) => providers.get(d.providerId)!),
      stats: alias.deployments.map((d) => stats.of(d.deploymentId)),
      chain: [],
      chainDeployments: [],
      unavailable: undefined,
    });
  }
  for (const route of table.values()) {
    const visit = (name: string, via: Alias | undefined) => {
      const next = table.get(name)!;
      if (route.chain.some((link) => link.route === next)) return;
      route.chain.push({ route: next, via });
      route.chainDeployments.push(...next.alias.deployments);
      for (const fallback of next.alias.fallbacks) visit(fallback, next.alias);
    };
    visit(route.alias.name, undefined);
    const all = route.chain.flatMap((link) => link.route.providers);
    if (all.every((p) => p.unavailableReason)) {
      route.unavailable = all.length === 1 ? `provider "${all[0].id}" has no usable credentials` : `no provider of "${route.alias.name}" or its fallbacks has usable credentials`;
    }
  }
  return table;
}

export function createPlan(routes: RouteTable, type: ModelTarget['type']): Stage {
  return (ctx) => {
    const route = routes.get(ctx.requestedModel);
    if (!route) throw new GatewayError('GW_MODEL_NOT_FOUND', `"${ctx.requestedModel}"`, { param: 'model' });
    const alias = route.alias;
    if (alias.type !== type) throw new GatewayError('GW_MODEL_WRONG_TYPE', `"${alias.name}" is a ${alias.type} model`, { param: 'model' });
    if (route.unavailable) throw new GatewayError('GW_PROVIDER_UNAVAILABLE', route.unavailable);
    ctx.alias = alias;
    ctx.target = alias.deployments[0];
  };
}
