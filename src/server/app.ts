// The HTTP edge: the API routes → pipeline endpoints, body limits, health, metrics, 404s and body errors.
// The only folder that knows HTTP. The API routes are served straight off node:http; fastify serves
// everything else (health, metrics, `/`, 404s) and owns the server's life cycle. On the proxy path fastify's
// request life cycle (routing, hooks, content-type parsing, its request and reply objects) cost 12–14 µs
// of CPU per request, ~17 % of a bare fastify + undici proxy (BENCHMARKS.md), past the design's ~10 % rule.
// Pipeline responses are written on the raw response, so streams are forwarded chunk by chunk.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Dialect, Operation } from '../core/canonical.ts';
import { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { requestIdFrom } from '../core/ids.ts';
import type { Tracing } from '../core/trace.ts';
import type { Config } from '../config/schema.ts';
import type { Endpoint, Endpoints } from '../pipeline/endpoints.ts';
import type { Finish } from '../pipeline/finish.ts';
import type { Health, Lifecycle } from '../telemetry/health.ts';
import type { Recorder } from '../telemetry/metrics/record.ts';
import { readJsonBody, type JsonBody } from './json-body.ts';
import { addMetricsRoute, type MetricsEndpoint } from './metrics-http.ts';
import { NodeReply } from './reply.ts';
import { renderRoot } from './root.ts';

export interface ServerDeps {
  config: Config;
  endpoints: Endpoints;
  finish: Finish;
  health: Health;
  recorder: Recorder;
  lifecycle: Lifecycle;
  /** The metrics path on this port; absent when `metrics.main_port` is off. */
  metrics?: MetricsEndpoint;
  /** Absent when tracing is off: no span work at all. */
  tracing?: Tracing;
  /** The build's version, for `GET /`. */
  version: string;
}

/** `either`: a route both SDKs call (models, unknown paths), answered in the asking one's dialect. */
interface RouteMeta { route: string; dialect: Dialect | 'either'; operation: Operation }
interface ApiRoute {
  meta: RouteMeta;
  endpoint: Endpoint;
  hasBody: boolean;
  /** The name of a route's trailing `{parameter}`, handed to the endpoint as `body[name]`. */
  param: string | undefined;
}

/** The Anthropic SDK sends anthropic-version on every request; the OpenAI SDK never does. */
const dialectOf = (req: IncomingMessage, meta: RouteMeta): Dialect =>
  meta.dialect !== 'either' ? meta.dialect : req.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { server } = deps.config;
  const limit = server.body_limit_bytes;

  const contextFor = (req: IncomingMessage, res: ServerResponse, meta: RouteMeta): RequestContext => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    deps.recorder.requestStarted(meta.route);
    const dialect = dialectOf(req, meta);
    const port = new NodeReply(res, dialect, requestId);
    const ctx = new RequestContext({
      requestId, startedAt: performance.now(), route: meta.route, method: req.method ?? 'GET',
      dialect, operation: meta.operation, reply: port, headers: req.headers,
    });
    // A connection that closes mid-answer: the client left, or the drain timeout cut it (then it is ours).
    res.once('close', () => { if (!res.writableFinished) ctx.abort(new GatewayError(deps.lifecycle.cutting ? 'GW_UNAVAILABLE_DRAINING' : 'GW_CLIENT_CLOSED')); });
    if (deps.tracing) ctx.span = deps.tracing.startRequest(ctx);
    port.onStreamStart = () => {
      ctx.streamStartedAt = performance.now() - ctx.startedAt;
      deps.recorder.streamStarted(meta.route);
    };
    return ctx;
  };

  const failBeforePipeline = (ctx: RequestContext, error: GatewayError) => {
    ctx.error = error;
    ctx.status = error.status;
    ctx.reply.fail(error);
    deps.finish(ctx);
  };

  // path → method → route; the query string, if any, is ignored as fastify's router ignores it. Templates
  // ending in a `{parameter}` sit apart, by the path before it, and are tried only when no exact path
  // matches, so the proxy routes never pay for them. The parameter takes the rest of the path, as model
  // ids may hold '/' (`org/model`).
  const apiRoutes = new Map<string, Map<string, ApiRoute>>();
  const paramRoutes = new Map<string, Map<string, ApiRoute>>();
  const routeList: string[] = [];
  const api = (method: 'GET' | 'POST', meta: RouteMeta, endpoint: Endpoint) => {
    const open = meta.route.indexOf('{');
    const route = { meta, endpoint, hasBody: method === 'POST', param: open < 0 ? undefined : meta.route.slice(open + 1, -1) };
    const table = open < 0 ? apiRoutes : paramRoutes;
    const key = open < 0 ? meta.route : meta.route.slice(0, open);
    let methods = table.get(key);
    if (!methods) table.set(key, (methods = new Map()));
    methods.set(method, route);
    if (method === 'GET') methods.set('HEAD', route); // node:http sends no body for HEAD
    routeList.push(`${method} ${meta.route}`);
  };
  api('POST', { route: '/v1/chat/completions', dialect: 'openai', operation: 'chat' }, deps.endpoints.chatCompletions);
  api('POST', { route: '/v1/messages', dialect: 'anthropic', operation: 'chat' }, deps.endpoints.messages);
  api('POST', { route: '/v1/embeddings', dialect: 'openai', operation: 'embeddings' }, deps.endpoints.embeddings);
  api('GET', { route: '/v1/models', dialect: 'either', operation: 'chat' }, deps.endpoints.models);
  api('GET', { route: '/v1/models/{model}', dialect: 'either', operation: 'chat' }, deps.endpoints.models);

  // The body is read before the request's clock starts, as before any other stage.
  const serveApi = (route: ApiRoute, req: IncomingMessage, res: ServerResponse, param: string | undefined) => {
    if (route.hasBody) readJsonBody(req, limit, (error, body) => begin(route, req, res, error, body, param));
    else begin(route, req, res, undefined, undefined, param);
  };
  const begin = (
    route: ApiRoute, req: IncomingMessage, res: ServerResponse, error: GatewayError | undefined, body: JsonBody | undefined, param: string | undefined,
  ) => {
    const ctx = contextFor(req, res, route.meta);
    if (error) return failBeforePipeline(ctx, error);
    if (deps.lifecycle.draining) return failBeforePipeline(ctx, new GatewayError('GW_UNAVAILABLE_DRAINING'));
    if (body) {
      ctx.body = body.object;
      ctx.rawBody = body.bytes;
    } else if (param !== undefined) {
      ctx.body = { [route.param!]: param };
    }
    // An endpoint reports its own failures (pipeline/endpoints.ts); should finish itself throw, the
    // connection is dropped rather than the process.
    route.endpoint(ctx).catch(() => res.destroy());
  };

  // Connections that have not carried a request yet (load balancers and HTTP clients open them ahead).
  // Node's closeIdleConnections counts them as busy until their first request, so a drain would wait its
  // whole timeout for them: closing the server closes them at once (preClose below).
  const unused = new Set<Socket>();

  const app = Fastify({
    serverFactory: (fastifyHandler) => {
      const http = createServer((req, res) => {
        unused.delete(req.socket);
        const url = req.url ?? '/';
        const query = url.indexOf('?');
        const path = query < 0 ? url : url.slice(0, query);
        const route = apiRoutes.get(path)?.get(req.method!);
        if (route) return serveApi(route, req, res, undefined);
        for (const [prefix, methods] of paramRoutes) {
          const withParam = path.length > prefix.length && path.startsWith(prefix) ? methods.get(req.method!) : undefined;
          if (withParam) return serveApi(withParam, req, res, decodePathPart(path.slice(prefix.length)));
        }
        fastifyHandler(req, res);
      });
      // What fastify sets on a server it makes itself.
      http.keepAliveTimeout = server.keep_alive_timeout_ms;
      http.requestTimeout = server.request_headers_timeout_ms;
      return http;
    },
    return503OnClosing: false, // draining requests get our own 503, in the client's error shape
    forceCloseConnections: 'idle',
    logger: false,
  });

  // fastify's routes fail in the client's error shape too, with a log line and metrics.
  app.setErrorHandler((err: Error, req, reply) => {
    reply.hijack();
    const error = err instanceof GatewayError ? err : new GatewayError('GW_INTERNAL', undefined, { cause: err });
    failBeforePipeline(contextFor(req.raw, reply.raw, unmatched), error);
  });
  app.setNotFoundHandler((req, reply) => {
    reply.hijack();
    const path = req.url.split('?')[0];
    const meta = path === '/v1/messages' || path.startsWith('/v1/messages/') ? unmatchedMessages : unmatched;
    failBeforePipeline(contextFor(req.raw, reply.raw, meta), new GatewayError('GW_ROUTE_NOT_FOUND', `${req.method} ${path}`));
  });

  // `/`: what this is and where to go, for whoever opens the gateway's address first.
  const root = renderRoot(deps.version, routeList, deps.metrics?.path);
  app.get('/', (req, reply) => {
    reply.header('content-type', 'application/json; charset=utf-8').send(root);
    deps.recorder.requestServed('/', req.method, 200, reply.elapsedTime / 1000);
    return reply;
  });

  const probe = (route: string, check: () => Promise<{ status: string }> | { status: string }) => {
    app.get(route, async (_req, reply) => {
      const started = performance.now();
      const report = await check();
      const status = report.status === 'ok' ? 200 : 503;
      deps.recorder.requestServed(route, 'GET', status, (performance.now() - started) / 1000);
      return reply.code(status).header('cache-control', 'no-store').send(report);
    });
  };
  for (const route of ['/healthz', '/health', '/health/live', '/livez']) probe(route, () => deps.health.live());
  for (const route of ['/readyz', '/health/ready']) probe(route, () => deps.health.ready());

  const metrics = deps.metrics;
  if (metrics) {
    addMetricsRoute(app, { ...metrics, onServed: (status, seconds) => deps.recorder.requestServed(metrics.path, 'GET', status, seconds) });
  }

  app.server.on('connection', (socket: Socket) => {
    deps.recorder.connectionOpened();
    unused.add(socket);
    socket.once('close', () => {
      unused.delete(socket);
      deps.recorder.connectionClosed();
    });
  });
  app.addHook('preClose', (done) => {
    for (const socket of unused) socket.destroy();
    done();
  });

  return app;
}

const unmatched: RouteMeta = { route: 'unmatched', dialect: 'either', operation: 'chat' };
/** Unknown paths under the Anthropic API (count_tokens, batches …) answer in its shape, header or not. */
const unmatchedMessages: RouteMeta = { route: 'unmatched', dialect: 'anthropic', operation: 'chat' };

/** A path parameter as the client meant it (SDKs percent-encode it); a malformed escape stays as sent. */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
