// Raw config: the embedded defaults with a YAML file's sections layered over them, then the environment
// overlay, then validation.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.ts';

export class ConfigError extends Error {
  /** One `key: reason` each, when the error is a list of problems (see withSource). */
  problems: readonly string[] = [];

  /** Problems in a loaded config: one `key: reason` each. `source` names where the config came from. */
  static fromProblems(problems: readonly string[], source?: string): ConfigError {
    const header = `invalid config${source ? ` ${source}` : ''}:`;
    // One problem stays one line: a start-up failure reads as one line naming the cause.
    const error = new ConfigError(problems.length === 1 ? `${header} ${problems[0]}` : `${header}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    error.problems = problems;
    return error;
  }

  /** The same problems under a header naming their source, for checks that ran after loading (compile, OTLP). */
  withSource(source: string): ConfigError {
    return this.problems.length ? ConfigError.fromProblems(this.problems, source) : this;
  }
}

/** How error headers name a config: its file path, or the embedded defaults when there is no file. */
export function configSource(options: LoadOptions = {}): string {
  return options.path || (options.env ?? process.env).VIGIL_CONFIG || '(embedded defaults)';
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

/** Dotted config key → the environment variable that set it, as errors show it (`VIGIL_PORT=abc`). */
type EnvSources = Map<string, string>;

/** Digits become a number, anything else stays text for the schema to refuse by name (Number('') is 0, Number('abc') NaN). */
const wholeNumber = (text: string): number | string => (/^\d+$/.test(text) ? Number(text) : text);

/** The common keys operators set per deployment without editing the file. */
function applyEnvOverlay(raw: Record<string, any>, env: NodeJS.ProcessEnv): EnvSources {
  const sources: EnvSources = new Map();
  const set = (section: Record<string, any>, key: string, name: string, value: unknown, dotted: string) => {
    section[key] = value;
    sources.set(dotted, `${name}=${env[name]}`);
  };
  const section = (name: string) => (raw[name] ??= {});
  if (env.VIGIL_HOST) set(section('server'), 'host', 'VIGIL_HOST', env.VIGIL_HOST, 'server.host');
  if (env.VIGIL_PORT) set(section('server'), 'port', 'VIGIL_PORT', wholeNumber(env.VIGIL_PORT), 'server.port');
  if (env.VIGIL_DATA_DIR) set(section('store'), 'data_dir', 'VIGIL_DATA_DIR', env.VIGIL_DATA_DIR, 'store.data_dir');
  if (env.VIGIL_LOG) set(section('log'), 'level', 'VIGIL_LOG', env.VIGIL_LOG, 'log.level');
  if (env.VIGIL_LOG_FORMAT) set(section('log'), 'format', 'VIGIL_LOG_FORMAT', env.VIGIL_LOG_FORMAT, 'log.format');
  applyOtelEnv(raw, env, sources);
  applyOtlpEnv(raw, env, sources);
  return sources;
}

/**
 * The standard OpenTelemetry variables, beneath the config file and VIGIL_OTLP_*: each fills only what
 * those leave unset (applyOtlpEnv, run next, overrides it). A signal's own endpoint is used as it is. An
 * endpoint taken from OTEL_* without any protocol named goes over http/protobuf, the specification's
 * default (port 4318); Vigil's own default stays gRPC. Sampler names other than the parent-based ratio,
 * always-on and always-off ones are left to other SDKs in the same environment.
 */
function applyOtelEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv, sources: EnvSources): void {
  const resourceAttributes = parseOtelList(env.OTEL_RESOURCE_ATTRIBUTES);
  const serviceName = env.OTEL_SERVICE_NAME || resourceAttributes['service.name'];
  const environment = resourceAttributes['deployment.environment.name'] ?? resourceAttributes['deployment.environment'];
  const sampler = env.OTEL_TRACES_SAMPLER;
  const ratio = sampler === 'parentbased_always_on' ? 1 : sampler === 'parentbased_always_off' ? 0
    : sampler === 'parentbased_traceidratio' ? (env.OTEL_TRACES_SAMPLER_ARG ? Number(env.OTEL_TRACES_SAMPLER_ARG) : 1) : undefined;
  const fills: [path: string[], value: unknown, variable: string][] = [
    [['otlp', 'endpoint'], env.OTEL_EXPORTER_OTLP_ENDPOINT, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [['otlp', 'traces', 'endpoint'], env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [['otlp', 'logs', 'endpoint'], env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'],
    [['otlp', 'metrics', 'endpoint'], env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'],
    [['otlp', 'tls', 'ca_cert_path'], env.OTEL_EXPORTER_OTLP_CERTIFICATE, 'OTEL_EXPORTER_OTLP_CERTIFICATE'],
    [['otlp', 'batch', 'export_timeout_ms'], env.OTEL_EXPORTER_OTLP_TIMEOUT && wholeNumber(env.OTEL_EXPORTER_OTLP_TIMEOUT), 'OTEL_EXPORTER_OTLP_TIMEOUT'],
    [['service_name'], serviceName, env.OTEL_SERVICE_NAME ? 'OTEL_SERVICE_NAME' : 'OTEL_RESOURCE_ATTRIBUTES'],
    [['environment'], environment, 'OTEL_RESOURCE_ATTRIBUTES'],
    [['tracing', 'sampling_ratio'], Number.isNaN(ratio) ? env.OTEL_TRACES_SAMPLER_ARG : ratio, env.OTEL_TRACES_SAMPLER_ARG ? 'OTEL_TRACES_SAMPLER_ARG' : 'OTEL_TRACES_SAMPLER'],
  ];
  const otelEndpoint = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  const otlpFile = raw.telemetry?.otlp ?? {};
  const endpointFromOtel = otelEndpoint && !otlpFile.endpoint && !env.VIGIL_OTLP_ENDPOINT;
  const protocol = { grpc: 'grpc', 'http/protobuf': 'http' }[env.OTEL_EXPORTER_OTLP_PROTOCOL ?? ''] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? (endpointFromOtel ? 'http' : undefined);
  fills.push([['otlp', 'protocol'], protocol, env.OTEL_EXPORTER_OTLP_PROTOCOL ? 'OTEL_EXPORTER_OTLP_PROTOCOL' : 'OTEL_EXPORTER_OTLP_ENDPOINT']);

  for (const [path, value, variable] of fills) {
    if (value === undefined || value === '') continue;
    raw.telemetry ??= {};
    let section = raw.telemetry;
    for (const key of path.slice(0, -1)) {
      section[key] ??= {};
      section = section[key];
    }
    const key = path.at(-1)!;
    if (section[key] !== undefined) continue; // the file said so
    section[key] = value;
    sources.set(`telemetry.${path.join('.')}`, `${variable}=${env[variable]}`);
  }
  if (env.OTEL_EXPORTER_OTLP_HEADERS) {
    raw.telemetry ??= {};
    raw.telemetry.otlp ??= {};
    const otlp = raw.telemetry.otlp;
    otlp.headers = { ...parseOtelList(env.OTEL_EXPORTER_OTLP_HEADERS), ...otlp.headers };
    if (!sources.has('telemetry.otlp.headers')) sources.set('telemetry.otlp.headers', 'OTEL_EXPORTER_OTLP_HEADERS'); // values may be secrets: never echoed
  }
}

/** OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES: `key=value,…`, values percent-encoded. */
function parseOtelList(text: string | undefined): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const part of text?.split(',') ?? []) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue; // the specification: an entry that cannot be read is skipped
    const value = part.slice(eq + 1).trim();
    try {
      entries[part.slice(0, eq).trim()] = decodeURIComponent(value);
    } catch {
      entries[part.slice(0, eq).trim()] = value;
    }
  }
  return entries;
}

/** VIGIL_OTLP_*: OTLP export set (or overridden) per deployment; setting the endpoint turns export on. */
function applyOtlpEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv, sources: EnvSources): void {
  const names = ['ENDPOINT', 'PROTOCOL', 'HEADERS', 'LOG_LEVEL', 'SERVICE_NAME'];
  if (!names.some((name) => env[`VIGIL_OTLP_${name}`])) return;
  raw.telemetry ??= {};
  const telemetry = raw.telemetry;
  telemetry.otlp ??= {};
  const otlp = telemetry.otlp;
  const from = (dotted: string, name: string) => sources.set(dotted, `${name}=${env[name]}`);
  if (env.VIGIL_OTLP_ENDPOINT) { otlp.endpoint = env.VIGIL_OTLP_ENDPOINT; from('telemetry.otlp.endpoint', 'VIGIL_OTLP_ENDPOINT'); }
  if (env.VIGIL_OTLP_PROTOCOL) { otlp.protocol = env.VIGIL_OTLP_PROTOCOL; from('telemetry.otlp.protocol', 'VIGIL_OTLP_PROTOCOL'); }
  if (env.VIGIL_OTLP_HEADERS) {
    otlp.headers = { ...otlp.headers, ...parseHeaderList(env.VIGIL_OTLP_HEADERS) };
    sources.set('telemetry.otlp.headers', 'VIGIL_OTLP_HEADERS'); // header values may be secrets: never echoed
  }
  if (env.VIGIL_OTLP_LOG_LEVEL) { otlp.logs ??= {}; otlp.logs.min_level = env.VIGIL_OTLP_LOG_LEVEL; from('telemetry.otlp.logs.min_level', 'VIGIL_OTLP_LOG_LEVEL'); }
  if (env.VIGIL_OTLP_SERVICE_NAME) { telemetry.service_name = env.VIGIL_OTLP_SERVICE_NAME; from('telemetry.service_name', 'VIGIL_OTLP_SERVICE_NAME'); }
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

/**
 * The embedded defaults, with a file's top-level sections layered over them (a section the file sets
 * replaces the default's whole), then the environment, then flags. So a file that sets only `server`
 * keeps the default providers and models.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const path = options.path ?? env.VIGIL_CONFIG;
  const source = configSource(options);
  const raw = { ...(embeddedDefaults(env) as Record<string, unknown>), ...(path ? readConfigFile(path) : {}) };
  const envSources = applyEnvOverlay(raw, env);
  if (options.port !== undefined) {
    const flagged = raw as Record<string, any>;
    flagged.server ??= {};
    flagged.server.port = options.port;
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw ConfigError.fromProblems(problemLines(parsed.error, envSources), source);
  return parsed.data;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`config ${path} must be a YAML mapping`);
  return raw as Record<string, unknown>;
}

/** One line per problem: the dotted key (and the environment variable that set it), then what was expected. */
function problemLines(error: z.ZodError, envSources: EnvSources): string[] {
  return flatten(error.issues, []).map(({ key, message }) => {
    const variable = [...envSources].find(([dotted]) => key === dotted || key.startsWith(`${dotted}.`))?.[1];
    return `${key}${variable ? ` (from ${variable})` : ''}: ${message}`;
  });
}

/** zod nests the reason for a bad record key (and union members) in `issue.issues`; show the innermost. */
function flatten(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]): { key: string; message: string }[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    const nested = 'issues' in issue && Array.isArray(issue.issues) ? (issue.issues as z.core.$ZodIssue[]) : [];
    if (nested.length) return flatten(nested, path);
    return [{ key: path.map(String).join('.') || '(root)', message: issue.message }];
  });
}
