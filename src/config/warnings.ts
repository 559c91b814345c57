// Problems that do not stop start-up but leave models unanswerable. `serve` logs them and `config check`
// prints them, from this one list, so the two commands never disagree about a config.
import type { CompiledConfig } from './compile.ts';

export function configWarnings(compiled: CompiledConfig): string[] {
  const warnings: string[] = [];
  const unusable = new Set<string>();
  for (const [id, credentials] of compiled.providerCredentials) {
    if (!credentials.unavailableReason) continue;
    unusable.add(id);
    const where = compiled.providerInstances.has(id) ? `deployment ${id}` : `providers.${id}`;
    warnings.push(`${where}.${credentials.unavailableReason}; its models will answer 500 GW_PROVIDER_UNAVAILABLE`);
  }
  for (const [i, model] of compiled.config.models.entries()) {
    if (model.deployments && model.pricing) warnings.push(`models.${i}.pricing: ignored beside deployments (give each deployment its pricing)`);
  }
  const aliases = [...compiled.aliases.values()];
  if (aliases.length && aliases.every((alias) => alias.deployments.every((d) => unusable.has(d.providerId)))) {
    warnings.push('no model is routable: the provider of every model is unusable (see above), so every request will answer 500 GW_PROVIDER_UNAVAILABLE');
  }
  return warnings;
}
