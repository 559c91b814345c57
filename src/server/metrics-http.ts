// The metrics endpoint over HTTP: format negotiation (OpenMetrics when the scraper asks for it,
// Prometheus text 0.0.4 otherwise), optional scrape credentials, and the dedicated listener that serves
// only metrics and liveness, so the API port can stay public while metrics do not.
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { digest, type MetricsCredentials } from '../config/metrics-credentials.ts';
import type { Exposition, MetricsFormat } from '../telemetry/metrics/exposition.ts';

export interface MetricsEndpoint {
  path: string;
  credentials: MetricsCredentials;
  /** This process's metrics, or in cluster mode every worker's combined. */
  render(format: MetricsFormat): Promise<Exposition>;
  /** Each answered scrape (the main port records it like any other route). */
  onServed?(status: number, seconds: number): void;
  /** A scrape that could not be answered (e.g. a cluster worker did not reply). */
  onError?(err: Error): void;
}

const REALM = 'realm="vigil metrics"';

/** OpenMetrics when the Accept header ranks it at least as high as plain text (q-values honoured). */
export function negotiate(accept: string | undefined): MetricsFormat {
  if (!accept) return 'prometheus';
  let openMetrics = 0;
  let text = 0;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    if (!(q > 0)) continue;
    if (type === 'application/openmetrics-text') openMetrics = Math.max(openMetrics, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return openMetrics > 0 && openMetrics >= text ? 'openmetrics' : 'prometheus';
}

const sameDigest = (expected: Buffer | undefined, presented: string) =>
  expected !== undefined && timingSafeEqual(expected, digest(presented));

/** True when no credentials are configured, or the Authorization header carries one of them. */
export function authorized(header: string | undefined, credentials: MetricsCredentials): boolean {
  if (!credentials.bearer && !credentials.basic) return true;
  if (!header) return false;
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (space < 0 || !value) return false;
  if (scheme === 'bearer') return sameDigest(credentials.bearer, value);
  if (scheme === 'basic') return sameDigest(credentials.basic, Buffer.from(value, 'base64').toString('utf8'));
  return false;
}

function challenges(credentials: MetricsCredentials): string[] {
  const list: string[] = [];
  if (credentials.bearer) list.push(`Bearer ${REALM}`);
  if (credentials.basic) list.push(`Basic ${REALM}, charset="UTF-8"`);
  return list;
}

export function addMetricsRoute(app: FastifyInstance, endpoint: MetricsEndpoint): void {
  app.get(endpoint.path, async (req, reply) => {
    const started = performance.now();
    const answer = (status: number) => endpoint.onServed?.(status, (performance.now() - started) / 1000);
    reply.header('cache-control', 'no-store').header('vary', 'Accept, Authorization');
    if (!authorized(req.headers.authorization, endpoint.credentials)) {
      answer(401);
      return reply.code(401).header('www-authenticate', challenges(endpoint.credentials)).type('text/plain; charset=utf-8').send('unauthorized\n');
    }
    try {
      const { contentType, body } = await endpoint.render(negotiate(req.headers.accept));
      answer(200);
      return reply.header('content-type', contentType).send(body);
    } catch (err) {
      endpoint.onError?.(err as Error);
      answer(503);
      return reply.code(503).type('text/plain; charset=utf-8').send(`metrics unavailable: ${(err as Error).message}\n`);
    }
  });
}

/** The dedicated listener: the metrics path and `/healthz`, nothing else. */
export async function startMetricsListener(options: { host: string; port: number; endpoint: MetricsEndpoint }): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  addMetricsRoute(app, options.endpoint);
  app.get('/healthz', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  await app.listen({ host: options.host, port: options.port });
  return app;
}
