// The `routing` readiness component: each deployment's breaker, from memory (never a call upstream). Not
// required: an alias whose every deployment is open is reported degraded while the other aliases work, so the
// replica stays in rotation.
import type { Alias } from '../core/alias.ts';
import type { ComponentState, HealthCheck } from '../core/health.ts';
import type { Breakers } from './breakers.ts';

export function routingHealthCheck(aliases: Iterable<Alias>, breakers: Pick<Breakers, 'states' | 'routable'>): HealthCheck {
  const listed = [...aliases];
  const deploymentIds = [...new Set(listed.flatMap((alias) => alias.deployments.map((deployment) => deployment.deploymentId)))].sort();
  return {
    name: 'routing',
    required: false,
    check: (): ComponentState => {
      const states = breakers.states();
      const open = deploymentIds.filter((id) => states.get(id) === 1);
      const halfOpen = deploymentIds.filter((id) => states.get(id) === 2);
      const parts: string[] = [];
      if (open.length > 0) parts.push(`open: ${open.join(', ')}`);
      if (halfOpen.length > 0) parts.push(`half-open: ${halfOpen.join(', ')}`);
      for (const alias of listed) {
        if (alias.deployments.length > 0 && breakers.routable(alias.deployments) === 0) parts.push(`degraded: alias ${alias.name} has no routable deployment`);
      }
      return { status: 'ok', detail: parts.length > 0 ? parts.join('; ') : closedDetail(deploymentIds.length) };
    },
  };
}

const closedDetail = (count: number): string => (count === 1 ? 'its one deployment closed' : `all ${count} deployments closed`);
