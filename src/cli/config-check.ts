// `vigil config check`: validate a config (file or embedded defaults) and print the effective result,
// with literal secrets masked. Exit code 1 and one line per problem when it is invalid.
import { stringify } from 'yaml';
import { compileConfig } from '../config/compile.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { maskSecret, resolveSecret } from '../config/secrets.ts';
import { resolveOtlp } from '../telemetry/otlp.ts';

export function checkConfig(options: { config?: string }): void {
  const config = loadConfig({ path: options.config });
  compileConfig(config);
  resolveOtlp(config.telemetry); // OTLP header references and the CA file, as serve would read them
  console.log(stringify(masked(config)).trimEnd());
  for (const [id, provider] of Object.entries(config.providers)) {
    if (provider.kind !== 'mock' && provider.api_key) {
      const secret = resolveSecret(provider.api_key);
      if (!secret.ok) console.error(`warning: providers.${id}.api_key: ${secret.reason}; its models will answer 503`);
    }
  }
  console.error('config ok');
}

function masked(config: Config): Config {
  const copy = structuredClone(config);
  for (const provider of Object.values(copy.providers)) {
    if (provider.kind === 'mock') continue;
    if (provider.api_key) provider.api_key = maskSecret(provider.api_key);
    for (const name of Object.keys(provider.headers)) provider.headers[name] = maskSecret(provider.headers[name]);
  }
  for (const key of copy.auth.keys) key.key = maskSecret(key.key);
  const scrape = copy.metrics.auth;
  if (scrape.bearer_token) scrape.bearer_token = maskSecret(scrape.bearer_token);
  if (scrape.basic) scrape.basic.password = maskSecret(scrape.basic.password);
  const otlpHeaders = copy.telemetry.otlp.headers;
  for (const name of Object.keys(otlpHeaders)) otlpHeaders[name] = maskSecret(otlpHeaders[name]);
  return copy;
}
