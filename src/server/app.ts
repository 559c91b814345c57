// The HTTP edge: the API routes → pipeline endpoints, body limits, health, metrics, 404s and body errors.
// The only folder that knows HTTP. The four API routes are served straight off node:http; fastify serves
// everything else (health, metrics, 404s) and owns the server's life cycle. On the proxy path fastify's
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
}

interface RouteMeta { route: string; dialect: Dialect; operation: Operation }
interface ApiRoute { meta: RouteMeta; endpoint: Endpoint; hasBody: boolean }

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { server } = deps.config;
  const limit = server.body_limit_bytes;

  const contextFor = (req: IncomingMessage, res: ServerResponse, meta: RouteMeta): RequestContext => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    deps.recorder.requestStarted(meta.route);
    const port = new NodeReply(res, meta.dialect, requestId);
    const ctx = new RequestContext({
      requestId, startedAt: performance.now(), route: meta.route, method: req.method ?? 'GET',
      dialect: meta.dialect, operation: meta.operation, reply: port, headers: req.headers,
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

  // path → method → route; the query string, if any, is ignored as fastify's router ignores it.
  const apiRoutes = new Map<string, Map<string, ApiRoute>>();
  const api = (method: 'GET' | 'POST', meta: RouteMeta, endpoint: Endpoint) => {
    const route = { meta, endpoint, hasBody: method === 'POST' };
    let methods = apiRoutes.get(meta.route);
    if (!methods) apiRoutes.set(meta.route, (methods = new Map()));
    methods.set(method, route);
    if (method === 'GET') methods.set('HEAD', route); // node:http sends no body for HEAD
  };
  api('POST', { route: '/v1/chat/completions', dialect: 'openai', operation: 'chat' }, deps.endpoints.chatCompletions);
  api('POST', { route: '/v1/messages', dialect: 'anthropic', operation: 'chat' }, deps.endpoints.messages);
  api('POST', { route: '/v1/embeddings', dialect: 'openai', operation: 'embeddings' }, deps.endpoints.embeddings);
  api('GET', { route: '/v1/models', dialect: 'openai', operation: 'chat' }, deps.endpoints.models);

  // The body is read before the request's clock starts, as before any other stage.
  const serveApi = (route: ApiRoute, req: IncomingMessage, res: ServerResponse) => {
    if (route.hasBody) readJsonBody(req, limit, (error, body) => begin(route, req, res, error, body));
    else begin(route, req, res, undefined, undefined);
  };
  const begin = (route: ApiRoute, req: IncomingMessage, res: ServerResponse, error: GatewayError | undefined, body: JsonBody | undefined) => {
    const ctx = contextFor(req, res, route.meta);
    if (error) return failBeforePipeline(ctx, error);
    if (deps.lifecycle.draining) return failBeforePipeline(ctx, new GatewayError('GW_UNAVAILABLE_DRAINING'));
    if (body) {
      ctx.body = body.object;
      ctx.rawBody = body.bytes;
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
        const route = apiRoutes.get(query < 0 ? url : url.slice(0, query))?.get(req.method!);
        if (route) serveApi(route, req, res);
        else fastifyHandler(req, res);
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
    failBeforePipeline(contextFor(req.raw, reply.raw, unmatched), new GatewayError('GW_ROUTE_NOT_FOUND', `${req.method} ${req.url.split('?')[0]}`));
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

const unmatched: RouteMeta = { route: 'unmatched', dialect: 'openai', operation: 'chat' };
