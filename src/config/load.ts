// Raw config: embedded defaults or a YAML file, then the environment overlay, then validation.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, type Config } from './schema.ts';

export class ConfigError extends Error {
  /** Problems found after the schema passed (cross-references, secrets, files): one `key: reason` each. */
  static fromProblems(problems: string[]): ConfigError {
    return new ConfigError(`invalid config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Runs with no file at all: the deterministic mock, plus real providers whose keys are in the environment. */
export function embeddedDefaults(env: NodeJS.ProcessEnv): unknown {
  const providers: Record<string, unknown> = { mock: { kind: 'mock' } };
  // Mock prices are fictional, so the demo's cost metrics move; real ones are list prices per million
  // tokens (input, output, cached input) when these defaults were written — override them in a config file.
  const price = (input: number, output: number, cached: number) => ({ input_per_mtok: input, output_per_mtok: output, cached_input_per_mtok: cached });
  const models: unknown[] = [
    { name: 'mock-chat', provider: 'mock', pricing: price(1, 2, 0.5) },
    { name: 'mock-embedding', provider: 'mock', type: 'embedding', pricing: price(0.02, 0, 0.02) },
  ];
  if (env.OPENAI_API_KEY) {
    providers.openai = { kind: 'openai', api_key: 'env:OPENAI_API_KEY' };
    models.push(
      { name: 'gpt-4.1', provider: 'openai', pricing: price(2, 8, 0.5) },
      { name: 'gpt-4.1-mini', provider: 'openai', pricing: price(0.4, 1.6, 0.1) },
      { name: 'gpt-4o', provider: 'openai', pricing: price(2.5, 10, 1.25) },
      { name: 'gpt-4o-mini', provider: 'openai', pricing: price(0.15, 0.6, 0.075) },
      { name: 'text-embedding-3-small', provider: 'openai', type: 'embedding', pricing: price(0.02, 0, 0.02) },
    );
  }
  if (env.ANTHROPIC_API_KEY) {
    providers.anthropic = { kind: 'anthropic', api_key: 'env:ANTHROPIC_API_KEY' };
    models.push(
      { name: 'claude-opus-4-5', provider: 'anthropic', pricing: price(5, 25, 0.5) },
      { name: 'claude-sonnet-4-5', provider: 'anthropic', pricing: price(3, 15, 0.3) },
      { name: 'claude-haiku-4-5', provider: 'anthropic', pricing: price(1, 5, 0.1) },
    );
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
  applyOtlpEnv(raw, env);
}

/** VIGIL_OTLP_*: OTLP export set (or overridden) per deployment; setting the endpoint turns export on. */
function applyOtlpEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv): void {
  const names = ['ENDPOINT', 'PROTOCOL', 'HEADERS', 'LOG_LEVEL', 'SERVICE_NAME'];
  if (!names.some((name) => env[`VIGIL_OTLP_${name}`])) return;
  const telemetry = (raw.telemetry ??= {});
  const otlp = (telemetry.otlp ??= {});
  if (env.VIGIL_OTLP_ENDPOINT) otlp.endpoint = env.VIGIL_OTLP_ENDPOINT;
  if (env.VIGIL_OTLP_PROTOCOL) otlp.protocol = env.VIGIL_OTLP_PROTOCOL;
  if (env.VIGIL_OTLP_HEADERS) otlp.headers = { ...otlp.headers, ...parseHeaderList(env.VIGIL_OTLP_HEADERS) };
  if (env.VIGIL_OTLP_LOG_LEVEL) (otlp.logs ??= {}).min_level = env.VIGIL_OTLP_LOG_LEVEL;
  if (env.VIGIL_OTLP_SERVICE_NAME) telemetry.service_name = env.VIGIL_OTLP_SERVICE_NAME;
}

/** `name=value,name=value`; a value may itself contain `=` (base64). Errors never echo a value. */
export function parseHeaderList(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [i, part] of text.split(',').entries()) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    const name = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!name) throw new ConfigError(`VIGIL_OTLP_HEADERS: entry ${i + 1} is not name=value`);
    headers[name] = part.slice(eq + 1).trim();
  }
  return headers;
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
  return flatten(error.issues, []).join('\n');
}

/** zod nests the reason for a bad record key (and union members) in `issue.issues`; show the innermost. */
function flatten(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    const nested = 'issues' in issue && Array.isArray(issue.issues) ? (issue.issues as z.core.$ZodIssue[]) : [];
    if (nested.length) return flatten(nested, path);
    return [`  - ${path.map(String).join('.') || '(root)'}: ${issue.message}`];
  });
}
