// Real OTLP receivers for tests: a gRPC server implementing TraceService/LogsService Export, and an HTTP
// server taking /v1/traces and /v1/logs as application/x-protobuf, both optionally over TLS. Payloads are
// decoded with the official opentelemetry-proto definitions through @grpc/proto-loader. The .proto files
// come from the `otlp-proto-files` devDependency (an npm alias of @opentelemetry/otlp-grpc-exporter-base
// 0.38.0, the last release that ships them; OTLP/protobuf is wire-stable since 1.0, newer fields are
// simply ignored) because no npm package ships the current ones.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REPO_ROOT } from './gateway.ts';

const PROTO_ROOT = join(REPO_ROOT, 'node_modules/otlp-proto-files/build/protos');
const definition = protoLoader.loadSync([
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
], { includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });
const TRACE_SERVICE = definition['opentelemetry.proto.collector.trace.v1.TraceService'] as grpc.ServiceDefinition;
const LOGS_SERVICE = definition['opentelemetry.proto.collector.logs.v1.LogsService'] as grpc.ServiceDefinition;

export type Attrs = Record<string, unknown>;
export interface ReceivedSpan {
  traceId: string; spanId: string; parentSpanId: string; name: string; kind: string;
  attributes: Attrs; status: string | undefined; resource: Attrs;
}
export interface ReceivedLog {
  traceId: string; spanId: string; severityNumber: string; severityText: string;
  body: unknown; attributes: Attrs; resource: Attrs;
}
export interface ExportCall { signal: 'traces' | 'logs'; headers: Record<string, string> }

export interface OtlpReceiver {
  /** The endpoint to configure: http(s)://127.0.0.1:port. */
  url: string;
  spans: ReceivedSpan[];
  logs: ReceivedLog[];
  calls: ExportCall[];
  /** While true, exports are accepted but never answered (a hung collector). */
  hang: boolean;
  /** Polls until `pick` returns something, or fails after timeoutMs. */
  waitFor<T>(pick: () => T | undefined | false, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export interface ReceiverOptions { tls?: { key: Buffer; cert: Buffer } }

function anyValue(v: any): unknown {
  switch (v?.value) {
    case 'string_value': return v.string_value;
    case 'bool_value': return v.bool_value;
    case 'int_value': return Number(v.int_value);
    case 'double_value': return v.double_value;
    case 'array_value': return (v.array_value.values ?? []).map(anyValue);
    case 'kvlist_value': return attrs(v.kvlist_value.values);
    case 'bytes_value': return v.bytes_value;
    default: return undefined;
  }
}
const attrs = (list: any[] | undefined): Attrs => Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
const hex = (b: Buffer | undefined) => (b ? Buffer.from(b).toString('hex') : '');

function collectSpans(request: any, into: ReceivedSpan[]): void {
  for (const rs of request.resource_spans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scope_spans ?? []) {
      for (const s of ss.spans ?? []) {
        into.push({
          traceId: hex(s.trace_id), spanId: hex(s.span_id), parentSpanId: hex(s.parent_span_id), name: s.name, kind: s.kind,
          attributes: attrs(s.attributes), status: s.status?.code, resource,
        });
      }
    }
  }
}

function collectLogs(request: any, into: ReceivedLog[]): void {
  for (const rl of request.resource_logs ?? []) {
    const resource = attrs(rl.resource?.attributes);
    for (const sl of rl.scope_logs ?? []) {
      for (const l of sl.log_records ?? []) {
        into.push({
          traceId: hex(l.trace_id), spanId: hex(l.span_id), severityNumber: l.severity_number, severityText: l.severity_text,
          body: anyValue(l.body), attributes: attrs(l.attributes), resource,
        });
      }
    }
  }
}

function receiverState(): Omit<OtlpReceiver, 'url' | 'close'> {
  return {
    spans: [], logs: [], calls: [], hang: false,
    async waitFor(pick, what, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = pick();
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`OTLP receiver: no ${what} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

export async function startGrpcReceiver(options: ReceiverOptions = {}): Promise<OtlpReceiver> {
  const receiver = receiverState() as OtlpReceiver;
  const server = new grpc.Server();
  const handler = (signal: 'traces' | 'logs') => (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
    const headers = Object.fromEntries(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)]));
    receiver.calls.push({ signal, headers });
    if (signal === 'traces') collectSpans(call.request, receiver.spans);
    else collectLogs(call.request, receiver.logs);
    if (!receiver.hang) callback(null, {});
  };
  server.addService(TRACE_SERVICE, { Export: handler('traces') });
  server.addService(LOGS_SERVICE, { Export: handler('logs') });
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }], false)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  receiver.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  receiver.close = async () => server.forceShutdown();
  return receiver;
}

export async function startHttpReceiver(options: ReceiverOptions = {}): Promise<OtlpReceiver> {
  const receiver = receiverState() as OtlpReceiver;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const signal = req.url === '/v1/traces' ? 'traces' : req.url === '/v1/logs' ? 'logs' : undefined;
    if (req.method !== 'POST' || !signal || req.headers['content-type'] !== 'application/x-protobuf') {
      res.writeHead(404).end();
      return;
    }
    receiver.calls.push({ signal, headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])) });
    if (signal === 'traces') collectSpans(TRACE_SERVICE.Export.requestDeserialize(body), receiver.spans);
    else collectLogs(LOGS_SERVICE.Export.requestDeserialize(body), receiver.logs);
    if (!receiver.hang) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => void handle(req, res).catch(() => res.destroy());
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return receiver;
}
