// The metrics endpoint over HTTP: format negotiation (OpenMetrics when the scraper asks for it,
// Prometheus text 0.0.4 otherwise), optional scrape credentials, and the dedicated listener that serves
// only metrics and liveness, so the API port can stay public while metrics do not.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { digest, type MetricsCredentials } from '../config/metrics-credentials.ts';
import { requestIdFrom } from '../core/ids.ts';
import type { Exposition, MetricsFormat } from '../telemetry/metrics/exposition.ts';
import { HttpServer, send, type Answer } from './http-server.ts';
import { NodeReply } from './reply.ts';
import { RouteTable, type RouteSpec } from './route-table.ts';

export interface MetricsEndpoint {
  path: string;
  credentials: MetricsCredentials;
  /** This process's metrics, or in cluster mode every worker's combined. */
  render(format: MetricsFormat): Promise<Exposition>;
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

/** A scrape's answer: 401 with a challenge per configured scheme, the metrics, or 503 when they cannot be rendered. */
export async function metricsAnswer(endpoint: MetricsEndpoint, req: IncomingMessage): Promise<Answer> {
  const headers = { 'cache-control': 'no-store', vary: 'Accept, Authorization' };
  if (!authorized(req.headers.authorization, endpoint.credentials)) {
    return { status: 401, headers: { ...headers, 'www-authenticate': challenges(endpoint.credentials), 'content-type': TEXT }, body: 'unauthorized\n' };
  }
  try {
    const { contentType, body } = await endpoint.render(negotiate(req.headers.accept));
    return { status: 200, headers: { ...headers, 'content-type': contentType }, body };
  } catch (err) {
    endpoint.onError?.(err as Error);
    return { status: 503, headers: { ...headers, 'content-type': TEXT }, body: `metrics unavailable: ${(err as Error).message}\n` };
  }
}

const TEXT = 'text/plain; charset=utf-8';
const LIVE: Answer = { status: 200, headers: { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' }, body: '{"status":"ok"}' };

interface ListenerRoute extends RouteSpec {
  answer(req: IncomingMessage): Answer | Promise<Answer>;
}

/** The dedicated listener: the metrics path and `/healthz`, nothing else. */
export async function startMetricsListener(options: { host: string; port: number; endpoint: MetricsEndpoint }): Promise<HttpServer> {
  const { endpoint } = options;
  const table = new RouteTable<ListenerRoute>([
    { method: 'GET', path: endpoint.path, answer: (req) => metricsAnswer(endpoint, req) },
    { method: 'GET', path: '/healthz', answer: () => LIVE },
  ]);
  const listener = new HttpServer((req, res) => {
    const found = table.find(req.method!, req.url!);
    if (found) void Promise.resolve(found.route.answer(req)).then((answer) => send(res, answer));
    else new NodeReply(res, 'openai', requestIdFrom(req.headers['x-request-id'])).fail(table.miss(req.method!, req.url!).error);
  }, { keepAliveTimeoutMs: SCRAPE_KEEP_ALIVE_MS, requestTimeoutMs: 0, closeConnections: 'all' });
  await listener.listen(options);
  return listener;
}

/** Longer than the usual scrape intervals, so a scraper keeps its connection from one scrape to the next. */
const SCRAPE_KEEP_ALIVE_MS = 72_000;
