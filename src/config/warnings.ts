// Problems that do not stop start-up but leave models unanswerable. `serve` logs them and `config check`
// prints them, from this one list, so the two commands never disagree about a config.
import type { CompiledConfig } from './compile.ts';

export function configWarnings(compiled: CompiledConfig): string[] {
  const warnings: string[] = [];
  const unusable = new Set<string>();
  for (const [id, credentials] of compiled.providerCredentials) {
    if (!credentials.unavailableReason) continue;
    unusable.add(id);
    warnings.push(`providers.${id}.${credentials.unavailableReason}; its models will answer 500 GW_PROVIDER_UNAVAILABLE`);
  }
  const { models } = compiled.config;
  const providersOf = (model: (typeof models)[number]) => model.deployments?.map((d) => d.provider) ?? [model.provider!];
  if (models.length && models.every((model) => providersOf(model).every((id) => unusable.has(id)))) {
    warnings.push('no model is routable: the provider of every model is unusable (see above), so every request will answer 500 GW_PROVIDER_UNAVAILABLE');
  }
  return warnings;
}
