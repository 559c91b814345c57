// The four things measured: the fake upstream itself (direct), nginx as a plain reverse proxy,
// the Portkey gateway (closest TypeScript peer) and Vigil. Each gateway runs pinned to the proxy core.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { ports, proxyConf } from './nginx.ts';
import { startPinned, waitReady, portOpen } from './procs.ts';
import { RUNTIME_FLAGS } from '../../bin/runtime-flags.js';

export type Ctx = { dir: string; root: string; proxyCpu: number; node: string };

export type Target = {
  name: string;
  /** Non-streaming and streaming endpoints with the headers each needs. */
  json: { url: string; headers: string[]; model: string };
  stream: { url: string; headers: string[]; model: string };
  /** Starts the proxy under test and resolves once it serves; absent for direct. */
  start?: (ctx: Ctx) => Promise<ChildProcess>;
  /** Why this target cannot run on this checkout, if it cannot. */
  skip?: (ctx: Ctx) => string | undefined;
};

const chat = (port: number) => `http://127.0.0.1:${port}/v1/chat/completions`;
const portkeyPort = 18787;
export const vigilPort = 18090;
/** The key the benchmarks' clients present (`Authorization: Bearer bench-key`); an open gateway ignores it. */
export const BENCH_AUTHORIZATION = 'authorization: Bearer bench-key';
const BENCH_KEY = `{ keys: [{ id: bench, key: bench-key, rpm: 100000000, tpm: 100000000000, max_parallel: 100000, daily_budget_usd: 100000000, monthly_budget_usd: 100000000 }] }`;

export const targets: Target[] = [
  {
    name: 'direct',
    json: { url: chat(ports.upstream), headers: [], model: 'bench-model' },
    stream: { url: chat(ports.upstreamSse), headers: [], model: 'bench-stream' },
  },
  {
    name: 'nginx',
    json: { url: chat(ports.proxy), headers: [], model: 'bench-model' },
    stream: { url: chat(ports.proxySse), headers: [], model: 'bench-stream' },
    async start(ctx) {
      const dir = join(ctx.dir, 'nginx-proxy');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'nginx.conf'), proxyConf(dir, ctx.proxyCpu === 0 ? '01' : '10'));
      const log = join(dir, 'stdout.log');
      const child = startPinned(ctx.proxyCpu, 'nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], log);
      await waitReady(child, log, async () => (await portOpen(ports.proxy)) && portOpen(ports.proxySse));
      return child;
    },
  },
  {
    name: 'portkey',
    // Portkey reaches a self-hosted OpenAI-compatible upstream through its custom-host header.
    json: { url: chat(portkeyPort), model: 'bench-model', headers: portkeyHeaders(ports.upstream) },
    stream: { url: chat(portkeyPort), model: 'bench-stream', headers: portkeyHeaders(ports.upstreamSse) },
    skip: (ctx) => existsSync(portkeyEntry(ctx)) ? undefined : `${portkeyEntry(ctx)} missing (npm install --prefix bench)`,
    async start(ctx) {
      const log = join(ctx.dir, 'portkey.log');
      const child = startPinned(ctx.proxyCpu, ctx.node, [portkeyEntry(ctx), `--port=${portkeyPort}`, '--headless'], log);
      await waitReady(child, log, () => portOpen(portkeyPort));
      return child;
    },
  },
  // Vigil three ways, to price its own telemetry: as shipped (one info log line per request, trace ids
  // without export), with telemetry off (warn logs, tracing disabled), and with everything exported
  // (info logs and spans over OTLP/HTTP to the nginx upstream, which answers every POST with 200).
  ...Object.entries(vigilVariants()).map(([name, sections]) => vigilTarget(name, sections)),
];

/** The three Vigil configurations (also priced in instructions by bench/instructions). */
export function vigilVariants(): Record<string, VigilSections> {
  return {
    'vigil': {},
    'vigil-telemetry-off': { log: '{ level: warn }', telemetry: '{ tracing: { enabled: false } }' },
    'vigil-telemetry-full': {
      telemetry: `{ otlp: { endpoint: "http://127.0.0.1:${ports.upstream}", protocol: http, batch: { scheduled_delay_ms: 1000 } } }`,
    },
    // Every check of the access issue on the request path, limits too high to bite: a key lookup, RPM and
    // TPM counters, a parallel slot, and day and month budget reservations settled with the priced usage.
    'vigil-keys': { auth: BENCH_KEY, priced: true },
    'vigil-keys-redis': { auth: BENCH_KEY, priced: true, redis: '{ url: "redis://127.0.0.1:6379", key_prefix: "vigil-bench:" }' },
    // Routing's cost (issue #27): bench-model as an alias of 50 equal deployments on the same upstream, against
    // `vigil`'s one-deployment alias; the router weighs every one of them (breaker, capacity, weight) per request.
    'vigil-routing-50': { deployments: 50 },
  };
}

/** `deployments`: bench-model is an alias of that many deployments (ids bench-0…), each sending it upstream unchanged. */
export type VigilSections = { log?: string; telemetry?: string; auth?: string; redis?: string; priced?: boolean; responsesApi?: boolean; deployments?: number };

/** The bench-model entry: one provider, or an alias over `deployments` of the same upstream model. */
function benchModel(sections: VigilSections): string {
  const pricing = sections.priced ? ', pricing: { input_per_mtok: 2.5, output_per_mtok: 10 }' : '';
  if (!sections.deployments) return `{ name: bench-model, provider: bench${pricing} }`;
  const deployments = Array.from({ length: sections.deployments }, (_, i) => `{ id: bench-${i}, provider: bench, upstream_model: bench-model${pricing} }`);
  return `{ name: bench-model, deployments: [${deployments.join(', ')}] }`;
}

function portkeyHeaders(upstreamPort: number): string[] {
  return ['x-portkey-provider: openai', `x-portkey-custom-host: http://127.0.0.1:${upstreamPort}/v1`, 'authorization: Bearer dummy'];
}

function portkeyEntry(ctx: Ctx): string {
  return join(ctx.root, 'bench/node_modules/@portkey-ai/gateway/build/start-server.js');
}

function vigilTarget(name: string, sections: VigilSections): Target {
  return {
    name,
    json: { url: chat(vigilPort), headers: [], model: 'bench-model' },
    stream: { url: chat(vigilPort), headers: [], model: 'bench-stream' },
    skip: (ctx) => existsSync(join(ctx.root, 'src/main.ts')) ? undefined : 'src/main.ts does not exist yet',
    start: (ctx) => startVigil({ root: ctx.root, home: join(ctx.dir, name), sections, cpu: ctx.proxyCpu, node: ctx.node }),
  };
}

/**
 * Vigil with one variant's sections, pinned to `cpu`, resolved once it serves on `port`. The runtime flags
 * of bin/vigil.js (npm start) are given directly so the pinned process is the gateway itself; `flags` and
 * `env` add to them for the benches that compare settings or load a probe.
 */
export async function startVigil(opts: {
  root: string; home: string; sections: VigilSections; cpu: number;
  node?: string; port?: number; flags?: string[]; env?: NodeJS.ProcessEnv;
}): Promise<ChildProcess> {
  const port = opts.port ?? vigilPort;
  mkdirSync(join(opts.home, 'data'), { recursive: true });
  const config = join(opts.home, 'vigil.yaml');
  writeFileSync(config, vigilConfig(join(opts.home, 'data'), opts.sections, port));
  const log = join(opts.home, 'vigil.log');
  const args = [...RUNTIME_FLAGS, ...(opts.flags ?? []), join(opts.root, 'src/main.ts'), 'serve', '--config', config];
  const child = startPinned(opts.cpu, opts.node ?? process.execPath, args, log, opts.env);
  await waitReady(child, log, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
  return child;
}

/** `responsesApi`: POST /v1/responses goes through to the fake upstream byte for byte (bench/e2e/responses.ts); older builds lack the key. */
export function vigilConfig(dataDir: string, sections: VigilSections, port = vigilPort): string {
  const responses = sections.responsesApi ? ', responses_api: true' : '';
  return `# Generated by bench/e2e for one benchmark run.
server: { host: 127.0.0.1, port: ${port}, workers: 1 }
store: { data_dir: ${JSON.stringify(dataDir)} }
${sections.log ? `log: ${sections.log}\n` : ''}${sections.telemetry ? `telemetry: ${sections.telemetry}\n` : ''}${sections.auth ? `auth: ${sections.auth}\n` : ''}${sections.redis ? `redis: ${sections.redis}\n` : ''}providers:
  bench: { kind: openai-compatible, base_url: "http://127.0.0.1:${ports.upstream}/v1"${responses} }
  bench-sse: { kind: openai-compatible, base_url: "http://127.0.0.1:${ports.upstreamSse}/v1"${responses} }
models:
  - ${benchModel(sections)}
  - { name: bench-stream, provider: bench-sse }
`;
}
