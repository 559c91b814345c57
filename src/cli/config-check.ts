// `vigil config check`: validate a config (file or embedded defaults) and print the effective result,
// with literal secrets masked. Exit code 1 and one line per problem when it is invalid; the same checks
// and warnings as serve (validated-config.ts).
import { stringify } from 'yaml';
import type { Config } from '../config/schema.ts';
import { maskSecret } from '../config/secrets.ts';
import { validatedConfig } from './validated-config.ts';

export function checkConfig(options: { config?: string }): void {
  const { compiled, warnings } = validatedConfig({ path: options.config });
  console.log(stringify(masked(compiled.config)).trimEnd());
  for (const warning of warnings) console.error(`warning: ${warning}`);
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
  if (copy.auth.admin_token) copy.auth.admin_token = maskSecret(copy.auth.admin_token);
  if (copy.store.url) copy.store.url = maskSecret(copy.store.url);
  if (copy.redis.url) copy.redis.url = maskSecret(copy.redis.url);
  const scrape = copy.metrics.auth;
  if (scrape.bearer_token) scrape.bearer_token = maskSecret(scrape.bearer_token);
  if (scrape.basic) scrape.basic.password = maskSecret(scrape.basic.password);
  const otlpHeaders = copy.telemetry.otlp.headers;
  for (const name of Object.keys(otlpHeaders)) otlpHeaders[name] = maskSecret(otlpHeaders[name]);
  return copy;
}
