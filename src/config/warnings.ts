// Problems that do not stop start-up but leave models unanswerable. `serve` logs them and `config check`
// prints them, from this one list, so the two commands never disagree about a config.
import type { Config } from './schema.ts';
import { resolveHeaders, resolveSecret } from './secrets.ts';

export function configWarnings(config: Config, env: NodeJS.ProcessEnv = process.env): string[] {
  const warnings: string[] = [];
  const unusable = new Set<string>();
  for (const [id, provider] of Object.entries(config.providers)) {
    if (provider.kind === 'mock') continue;
    const secret = provider.api_key ? resolveSecret(provider.api_key, env) : undefined;
    const reasons = [
      ...(secret && !secret.ok ? [`api_key: ${secret.reason}`] : []),
      ...resolveHeaders(provider.headers, env).problems.map((problem) => `headers.${problem}`),
    ];
    if (!reasons.length) continue;
    unusable.add(id);
    warnings.push(`providers.${id}.${reasons[0]}; its models will answer 500 GW_PROVIDER_UNAVAILABLE`);
  }
  if (config.models.length && config.models.every((model) => unusable.has(model.provider))) {
    warnings.push('no model is routable: the provider of every model is unusable (see above), so every request will answer 500 GW_PROVIDER_UNAVAILABLE');
  }
  return warnings;
}
