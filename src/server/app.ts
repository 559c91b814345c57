// The HTTP edge: fastify routes → pipeline endpoints, body limits, health, metrics, 404s and body errors.
// The only folder that knows HTTP. Pipeline responses are written on the raw response (hijacked), so
// streams are forwarded chunk by chunk and fastify adds no serialisation on the proxy path.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
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

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { server } = deps.config;
  const app = Fastify({
    bodyLimit: server.body_limit_bytes,
    keepAliveTimeout: server.keep_alive_timeout_ms,
    requestTimeout: server.request_headers_timeout_ms,
    return503OnClosing: false, // draining requests get our own 503, in the client's error shape
    forceCloseConnections: 'idle',
    logger: false,
  });

  // Clients (and curl without -H) send JSON under many content types; every body here is JSON. The bytes
  // are kept beside the parsed object: a request that needs no change goes upstream exactly as sent.
  app.removeAllContentTypeParsers();
  app.decorateRequest('rawBody', null);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, bytes, done) => {
    try {
      const body = JSON.parse((bytes as Buffer).toString('utf8'));
      req.rawBody = bytes as Buffer;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) done(new GatewayError('GW_REQUEST_INVALID', 'body must be a JSON object'), undefined);
      else done(null, body);
    } catch {
      done(new GatewayError('GW_REQUEST_MALFORMED_JSON'), undefined);
    }
  });

  const contextFor = (req: FastifyRequest, reply: FastifyReply, meta: RouteMeta): RequestContext => {
    reply.hijack();
    const res = reply.raw;
    const requestId = requestIdFrom(req.headers['x-request-id']);
    deps.recorder.requestStarted(meta.route);
    const port = new NodeReply(res, meta.dialect, requestId);
    const ctx = new RequestContext({
      requestId, startedAt: performance.now(), route: meta.route, method: req.method,
      dialect: meta.dialect, operation: meta.operation, reply: port, headers: req.headers,
    });
    res.once('close', () => { if (!res.writableFinished) ctx.abort(new GatewayError('GW_CLIENT_CLOSED')); });
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

  const api = (method: 'GET' | 'POST', meta: RouteMeta, endpoint: Endpoint) => {
    app.route({
      method, url: meta.route, config: meta,
      handler: (req, reply) => {
        const ctx = contextFor(req, reply, meta);
        if (deps.lifecycle.draining) return failBeforePipeline(ctx, new GatewayError('GW_UNAVAILABLE_DRAINING'));
        if (req.body) {
          ctx.body = req.body as Record<string, unknown>;
          ctx.rawBody = req.rawBody ?? undefined;
        }
        return endpoint(ctx);
      },
    });
  };
  api('POST', { route: '/v1/chat/completions', dialect: 'openai', operation: 'chat' }, deps.endpoints.chatCompletions);
  api('POST', { route: '/v1/messages', dialect: 'anthropic', operation: 'chat' }, deps.endpoints.messages);
  api('POST', { route: '/v1/embeddings', dialect: 'openai', operation: 'embeddings' }, deps.endpoints.embeddings);
  api('GET', { route: '/v1/models', dialect: 'openai', operation: 'chat' }, deps.endpoints.models);

  // Body read/parse failures happen before the handler; they still get the client's error shape, a log line and metrics.
  app.setErrorHandler((err: Error & { code?: string }, req, reply) => {
    const config = req.routeOptions.config as unknown as Partial<RouteMeta>;
    const meta = config.route && config.dialect ? (config as RouteMeta) : unmatched;
    const error = err instanceof GatewayError ? err
      : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? new GatewayError('GW_REQUEST_BODY_TOO_LARGE', `limit is ${server.body_limit_bytes} bytes`)
        : err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? new GatewayError('GW_REQUEST_MALFORMED_JSON', 'empty body')
          : new GatewayError('GW_INTERNAL', undefined, { cause: err });
    failBeforePipeline(contextFor(req, reply, meta), error);
  });
  app.setNotFoundHandler((req, reply) => {
    failBeforePipeline(contextFor(req, reply, unmatched), new GatewayError('GW_ROUTE_NOT_FOUND', `${req.method} ${req.url.split('?')[0]}`));
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

  app.server.on('connection', (socket) => {
    deps.recorder.connectionOpened();
    socket.once('close', () => deps.recorder.connectionClosed());
  });

  return app;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body's bytes as received (the content-type parser above). */
    rawBody: Buffer | null;
  }
}

const unmatched: RouteMeta = { route: 'unmatched', dialect: 'openai', operation: 'chat' };
