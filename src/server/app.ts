// The HTTP edge: one node:http server and one route table for the API routes (pipeline/endpoints.ts), health,
// metrics and `/`; 404 and 405 from the same table; body limits and body errors. The only folder that knows
// HTTP. No framework: fastify's request life cycle (its hooks, content-type parsing, request and reply
// objects) cost 12–14 µs of CPU a request, ~17 % of a bare proxy, and the pipeline needs none of it
// (docs/architecture.md, "HTTP stack"). Pipeline responses are written on the raw response, so streams are
// forwarded chunk by chunk.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dialect, Operation } from '../core/canonical.ts';
import { RequestContext } from '../core/context.ts';
import type { Drains } from '../core/drain.ts';
import { GatewayError, toGatewayError } from '../core/errors.ts';
import { LIVENESS_PATHS, READINESS_PATHS } from '../core/health.ts';
import { requestIdFrom } from '../core/ids.ts';
import type { Tracing } from '../core/trace.ts';
import type { Config } from '../config/schema.ts';
import type { ApiRoute, Endpoint } from '../pipeline/endpoints.ts';
import type { Finish } from '../pipeline/finish.ts';
import type { Health, HealthReport, Lifecycle } from '../telemetry/health.ts';
import type { Recorder } from '../telemetry/metrics/record.ts';
import { HttpServer, send, type Answer } from './http-server.ts';
import { readBody, readJsonBody, type JsonBody } from './json-body.ts';
import { metricsAnswer, type MetricsEndpoint } from './metrics-http.ts';
import { NodeReply } from './reply.ts';
import { renderRoot } from './root.ts';
import { RouteTable, routeName, type Params, type RouteSpec } from './route-table.ts';

export interface ServerDeps {
  config: Config;
  /** The API's route table. */
  routes: readonly ApiRoute[];
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
  /** Streams read on after their clients left (upstream.disconnect_drain); absent: a client leaving cancels its stream. */
  drains?: Drains;
}

/** What a request is counted, logged and answered as. `either`: in the dialect of the SDK asking. */
interface RouteMeta { route: string; dialect: Dialect | 'either'; operation: Operation }

/** An entry of the server's table: where, under which name and dialect, and how it is answered. */
interface ServerRoute extends RouteSpec {
  meta: RouteMeta;
  serve(req: IncomingMessage, res: ServerResponse, params: Params): void;
}

/** The Anthropic SDK sends anthropic-version on every request; the OpenAI SDK never does. */
const dialectOf = (req: IncomingMessage, meta: RouteMeta): Dialect =>
  meta.dialect !== 'either' ? meta.dialect : req.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';

const JSON_TYPE = 'application/json; charset=utf-8';

export function buildServer(deps: ServerDeps): HttpServer {
  const { server } = deps.config;
  const limit = server.body_limit_bytes;

  const contextFor = (req: IncomingMessage, res: ServerResponse, meta: RouteMeta): RequestContext => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    deps.recorder.requestStarted(meta.route);
    const dialect = dialectOf(req, meta);
    const port = new NodeReply(res, dialect, requestId);
    const ctx = new RequestContext({
      requestId, startedAt: performance.now(), route: meta.route, method: req.method ?? 'GET',
      dialect, operation: meta.operation, reply: port, headers: req.headers, clientAddress: req.socket.remoteAddress, drains: deps.drains,
    });
    // A connection that closes mid-answer: the client left (a started stream is then drained), or the drain timeout cut it (then it is ours).
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

  // The body is read before the request's clock starts, as before any other stage.
  const begin = (
    meta: RouteMeta, endpoint: Endpoint, req: IncomingMessage, res: ServerResponse,
    error: GatewayError | undefined, body: JsonBody | undefined, params: Params | undefined,
  ) => {
    const ctx = contextFor(req, res, meta);
    if (error) return failBeforePipeline(ctx, error);
    if (deps.lifecycle.draining) return failBeforePipeline(ctx, new GatewayError('GW_UNAVAILABLE_DRAINING'));
    if (body) {
      ctx.body = body.object;
      ctx.rawBody = body.bytes;
    } else if (params) {
      ctx.body = params;
    }
    if (params) ctx.params = params;
    const queryAt = req.url!.indexOf('?');
    if (queryAt >= 0) ctx.query = Object.fromEntries(new URLSearchParams(req.url!.slice(queryAt + 1)));
    // An endpoint reports its own failures (pipeline/endpoints.ts); should finish itself throw, the
    // connection is dropped rather than the process.
    endpoint(ctx).catch(() => res.destroy());
  };

  const apiRoute = ({ method, path, dialect, operation, endpoint }: ApiRoute): ServerRoute => {
    const meta = { route: routeName(path), dialect, operation };
    const hasParams = path.includes('{');
    const serve: ServerRoute['serve'] = method === 'GET' || method === 'DELETE'
      ? (req, res, params) => begin(meta, endpoint, req, res, undefined, undefined, hasParams ? params : undefined)
      : (req, res, params) => readJsonBody(req, limit, (error, body) => begin(meta, endpoint, req, res, error, body, hasParams ? params : undefined));
    return { method, path, meta, serve };
  };

  /**
   * The raw passthrough (operation `passthrough`): any method, for paths under its pattern no other route
   * has; the body is read as bytes, bounded like every body, and not parsed.
   */
  const passthroughApi = deps.routes.find((r) => r.operation === 'passthrough');
  const passthroughPrefix = passthroughApi?.path.split('{')[0];
  const servePassthrough = (route: ApiRoute, req: IncomingMessage, res: ServerResponse) => {
    const meta: RouteMeta = { route: routeName(route.path), dialect: route.dialect, operation: route.operation };
    const url = req.url!;
    const queryAt = url.indexOf('?');
    const params = { path: url.slice(passthroughPrefix!.length, queryAt >= 0 ? queryAt : undefined) };
    readBody(req, limit, (error, bytes) => begin(meta, route.endpoint, req, res, error, bytes && { object: {}, bytes }, params));
  };

  /** A route answered whole by the server itself (health, metrics, `/`): counted like any other, never logged. */
  const answerRoute = (path: string, answer: (req: IncomingMessage) => Answer | Promise<Answer>): ServerRoute => {
    const meta: RouteMeta = { route: path, dialect: 'either', operation: 'chat' };
    const serve = async (req: IncomingMessage, res: ServerResponse) => {
      const started = performance.now();
      try {
        const answered = await answer(req);
        send(res, answered);
        deps.recorder.requestServed(path, req.method!, answered.status, (performance.now() - started) / 1000);
      } catch (err) {
        failBeforePipeline(contextFor(req, res, meta), toGatewayError(err));
      }
    };
    return { method: 'GET', path, meta, serve: (req, res) => void serve(req, res) };
  };
  const probe = (check: () => Promise<HealthReport> | HealthReport) => async (): Promise<Answer> => {
    const report = await check();
    return { status: report.status === 'ok' ? 200 : 503, headers: { 'cache-control': 'no-store', 'content-type': JSON_TYPE }, body: JSON.stringify(report) };
  };

  // `/`: what this is and where to go, for whoever opens the gateway's address first.
  const root: Answer = {
    status: 200,
    headers: { 'content-type': JSON_TYPE },
    body: renderRoot(deps.version, deps.routes.filter((r) => r !== passthroughApi).map((r) => `${r.method} ${routeName(r.path)}`), deps.metrics?.path),
  };
  const { metrics } = deps;
  const table = new RouteTable<ServerRoute>([
    ...deps.routes.filter((r) => r !== passthroughApi).map(apiRoute),
    answerRoute('/', () => root),
    ...LIVENESS_PATHS.map((path) => answerRoute(path, probe(() => deps.health.live()))),
    ...READINESS_PATHS.map((path) => answerRoute(path, probe(() => deps.health.ready()))),
    ...(metrics ? [answerRoute(metrics.path, (req) => metricsAnswer(metrics, req))] : []),
  ]);

  // Unknown paths under an Anthropic route (count_tokens, batches …) answer in its shape, header or not.
  const anthropicPaths = deps.routes.filter((r) => r.dialect === 'anthropic').map((r) => r.path.split('{')[0].replace(/\/$/, ''));
  const underAnthropic = (url: string) => {
    const path = url.split('?')[0];
    return anthropicPaths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  };
  const miss = (req: IncomingMessage, res: ServerResponse) => {
    const { error, route } = table.miss(req.method!, req.url!);
    if (passthroughApi && !route && req.url!.startsWith(passthroughPrefix!)) return servePassthrough(passthroughApi, req, res);
    const dialect = route ? route.meta.dialect : underAnthropic(req.url!) ? 'anthropic' : 'either';
    failBeforePipeline(contextFor(req, res, UNMATCHED[dialect]), error);
  };

  return new HttpServer((req, res) => {
    const found = table.find(req.method!, req.url!);
    if (found !== null) found.route.serve(req, res, found.params);
    else miss(req, res);
  }, {
    keepAliveTimeoutMs: server.keep_alive_timeout_ms,
    requestTimeoutMs: server.request_headers_timeout_ms,
    closeConnections: 'idle',
    onConnectionOpened: () => deps.recorder.connectionOpened(),
    onConnectionClosed: () => deps.recorder.connectionClosed(),
  });
}

/** Requests no route answers, counted under one route name whatever their path. */
const UNMATCHED: Record<Dialect | 'either', RouteMeta> = {
  either: { route: 'unmatched', dialect: 'either', operation: 'chat' },
  openai: { route: 'unmatched', dialect: 'openai', operation: 'chat' },
  anthropic: { route: 'unmatched', dialect: 'anthropic', operation: 'chat' },
};
