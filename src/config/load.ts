// Raw config: embedded defaults or a YAML file, then the environment overlay, then validation.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, type Config } from './schema.ts';

export class ConfigError extends Error {}

/** Runs with no file at all: the deterministic mock, plus real providers whose keys are in the environment. */
export function embeddedDefaults(env: NodeJS.ProcessEnv): unknown {
  const providers: Record<string, unknown> = { mock: { kind: 'mock' } };
  const models: unknown[] = [
    { name: 'mock-chat', provider: 'mock' },
    { name: 'mock-embedding', provider: 'mock', type: 'embedding' },
  ];
  if (env.OPENAI_API_KEY) {
    providers.openai = { kind: 'openai', api_key: 'env:OPENAI_API_KEY' };
    for (const name of ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini']) models.push({ name, provider: 'openai' });
    models.push({ name: 'text-embedding-3-small', provider: 'openai', type: 'embedding' });
  }
  if (env.ANTHROPIC_API_KEY) {
    providers.anthropic = { kind: 'anthropic', api_key: 'env:ANTHROPIC_API_KEY' };
    for (const name of ['claude-opus-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5']) models.push({ name, provider: 'anthropic' });
  }
  return { providers, models };
}

/** The common keys operators set per deployment without editing the file. */
function applyEnvOverlay(raw: Record<string, any>, env: NodeJS.ProcessEnv): void {
  const section = (name: string) => (raw[name] ??= {});
  if (env.VIGIL_HOST) section('server').host = env.VIGIL_HOST;
  if (env.VIGIL_PORT) section('server').port = Number(env.VIGIL_PORT);
  if (env.VIGIL_DATA_DIR) section('store').data_dir = env.VIGIL_DATA_DIR;
  if (env.VIGIL_LOG) section('log').level = env.VIGIL_LOG;
  if (env.VIGIL_LOG_FORMAT) section('log').format = env.VIGIL_LOG_FORMAT;
}

export interface LoadOptions {
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** CLI flags win over the file and the environment. */
  port?: number;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const path = options.path ?? env.VIGIL_CONFIG;
  let raw: unknown;
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
    }
  } else {
    raw = embeddedDefaults(env);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`config ${path} must be a YAML mapping`);
  applyEnvOverlay(raw as Record<string, any>, env);
  if (options.port !== undefined) ((raw as any).server ??= {}).port = options.port;

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid config${path ? ` ${path}` : ''}:\n${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** One line per problem: the dotted key, then what was expected. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
}
