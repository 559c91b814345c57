// Real OTLP receivers for tests: a gRPC server implementing TraceService/LogsService/MetricsService Export,
// and an HTTP server taking /v1/traces, /v1/logs and /v1/metrics as application/x-protobuf, both optionally over TLS. Payloads are
// decoded with the official opentelemetry-proto definitions through @grpc/proto-loader. The .proto files
// are kept beside this file (otlp-proto/README.md says where from), because no npm package ships the
// current ones and the last that did brings a peer-dependency conflict with it.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_ROOT = join(import.meta.dirname, 'otlp-proto');
const definition = protoLoader.loadSync([
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
], { includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });
const TRACE_SERVICE = definition['opentelemetry.proto.collector.trace.v1.TraceService'] as grpc.ServiceDefinition;
const LOGS_SERVICE = definition['opentelemetry.proto.collector.logs.v1.LogsService'] as grpc.ServiceDefinition;
const METRICS_SERVICE = definition['opentelemetry.proto.collector.metrics.v1.MetricsService'] as grpc.ServiceDefinition;

export type Attrs = Record<string, unknown>;
export interface ReceivedSpan {
  traceId: string; spanId: string; parentSpanId: string; name: string; kind: string;
  attributes: Attrs; status: string | undefined; resource: Attrs;
}
export interface ReceivedLog {
  /** time_unix_nano as decoded (a string: 64 bits), undefined when the record had none. */
  timeUnixNano: string | undefined;
  traceId: string; spanId: string; severityNumber: string; severityText: string;
  body: unknown; attributes: Attrs; resource: Attrs;
}
/** One histogram data point as exported (cumulative: each export carries the totals so far). */
export interface ReceivedHistogramPoint {
  attributes: Attrs; count: number; sum: number | undefined; bucketCounts: number[]; explicitBounds: number[];
}
/** One metric of one export call; `histogram` is set for histograms (the only kind the gateway pushes). */
export interface ReceivedMetric {
  name: string; unit: string; description: string; scope: string; resource: Attrs; export: number;
  histogram: { temporality: string; points: ReceivedHistogramPoint[] } | undefined;
}
export type Signal = 'traces' | 'logs' | 'metrics';
export interface ExportCall { signal: Signal; headers: Record<string, string> }

export interface OtlpReceiver {
  /** The endpoint to configure: http(s)://127.0.0.1:port. */
  url: string;
  spans: ReceivedSpan[];
  logs: ReceivedLog[];
  metrics: ReceivedMetric[];
  calls: ExportCall[];
  /** While true, exports are accepted but never answered (a hung collector). */
  hang: boolean;
  /** While above 0, every export is answered with a partial_success rejecting this many records. */
  rejecting: number;
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
          timeUnixNano: l.time_unix_nano, traceId: hex(l.trace_id), spanId: hex(l.span_id), severityNumber: l.severity_number, severityText: l.severity_text,
          body: anyValue(l.body), attributes: attrs(l.attributes), resource,
        });
      }
    }
  }
}

function collectMetrics(request: any, into: ReceivedMetric[], exportNo: number): void {
  for (const rm of request.resource_metrics ?? []) {
    const resource = attrs(rm.resource?.attributes);
    for (const sm of rm.scope_metrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const h = m.histogram;
        into.push({
          name: m.name, unit: m.unit ?? '', description: m.description ?? '', scope: sm.scope?.name ?? '', resource, export: exportNo,
          histogram: h ? {
            temporality: h.aggregation_temporality,
            points: (h.data_points ?? []).map((p: any) => ({
              attributes: attrs(p.attributes), count: Number(p.count), sum: p.sum,
              bucketCounts: (p.bucket_counts ?? []).map(Number), explicitBounds: p.explicit_bounds ?? [],
            })),
          } : undefined,
        });
      }
    }
  }
}

const SERVICES = { traces: TRACE_SERVICE, logs: LOGS_SERVICE, metrics: METRICS_SERVICE } as const;
/**
 * The ExportServiceResponse: empty, or while rejecting a partial_success (field 1) with rejected_spans /
 * rejected_log_records / rejected_data_points (its field 1) and error_message (field 2). Written by hand:
 * the vendored protos predate partial_success.
 */
function exportResponse(receiver: OtlpReceiver): Buffer {
  if (!receiver.rejecting) return Buffer.alloc(0);
  const message = Buffer.from('rejected by the test receiver');
  const varint = (n: number) => { const out = []; for (; n > 0x7f; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80); out.push(n); return Buffer.from(out); };
  const partial = Buffer.concat([Buffer.from([0x08]), varint(receiver.rejecting), Buffer.from([0x12]), varint(message.length), message]);
  return Buffer.concat([Buffer.from([0x0a]), varint(partial.length), partial]);
}

/** The service with its response written as given (bytes from exportResponse). */
function rawResponses(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return { Export: { ...service.Export, responseSerialize: (bytes: Buffer) => bytes } };
}

/** One export request's bytes decoded with the official protos (snake_case fields, 64-bit ints as strings). */
export function decodeExportRequest(signal: Signal, body: Buffer): any {
  return SERVICES[signal].Export.requestDeserialize(body);
}

/** The log records of one logs export request's bytes, as a collector sees them. */
export function decodeLogs(body: Buffer): ReceivedLog[] {
  const logs: ReceivedLog[] = [];
  collectLogs(decodeExportRequest('logs', body), logs);
  return logs;
}

/** Decodes one export request of `signal` into the receiver's lists. */
function collect(receiver: OtlpReceiver, signal: Signal, request: any): void {
  if (signal === 'traces') collectSpans(request, receiver.spans);
  else if (signal === 'logs') collectLogs(request, receiver.logs);
  else collectMetrics(request, receiver.metrics, receiver.calls.length);
}

function receiverState(): Omit<OtlpReceiver, 'url' | 'close'> {
  return {
    spans: [], logs: [], metrics: [], calls: [], hang: false, rejecting: 0,
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
  const handler = (signal: Signal) => (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
    const headers = Object.fromEntries(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)]));
    receiver.calls.push({ signal, headers });
    collect(receiver, signal, call.request);
    if (!receiver.hang) callback(null, exportResponse(receiver));
  };
  server.addService(rawResponses(TRACE_SERVICE), { Export: handler('traces') });
  server.addService(rawResponses(LOGS_SERVICE), { Export: handler('logs') });
  server.addService(rawResponses(METRICS_SERVICE), { Export: handler('metrics') });
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
    const services = { '/v1/traces': ['traces', TRACE_SERVICE], '/v1/logs': ['logs', LOGS_SERVICE], '/v1/metrics': ['metrics', METRICS_SERVICE] } as const;
    const [signal, service] = services[req.url as keyof typeof services] ?? [];
    if (req.method !== 'POST' || !signal || req.headers['content-type'] !== 'application/x-protobuf') {
      res.writeHead(404).end();
      return;
    }
    receiver.calls.push({ signal, headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])) });
    collect(receiver, signal, service.Export.requestDeserialize(body));
    if (!receiver.hang) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(exportResponse(receiver));
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => void handle(req, res).catch(() => res.destroy());
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return receiver;
}
