// The one OTLP transport of spans, logs and metrics: the OpenTelemetry JS exporter bases
// (@opentelemetry/otlp-exporter-base for HTTP/protobuf, @opentelemetry/otlp-grpc-exporter-base for gRPC),
// configured from the shared settings: URL, headers, TLS with a custom CA, export timeout. They send the
// bytes a serializer gives them: spans and log records arrive already encoded (encode.ts), metrics come
// through the SDK's protobuf serializer. HTTP answers the OTLP specification calls retryable (429, 502,
// 503, 504, connection failures) are retried by the base, honouring Retry-After, within the timeout; gRPC
// ones by withGrpcRetries below. A collector's partial_success (an accepted export in which it rejected
// some records) is counted as dropped.
import http from 'node:http';
import https from 'node:https';
import type { IOtlpExportDelegate } from '@opentelemetry/otlp-exporter-base';
import type { IExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { ExportSignal, OtlpSettings } from './settings.ts';

/** Told how many records a collector rejected in an accepted export. */
export type OnRejected = (count: number) => void;

export interface SignalTransport<Request> {
  /** The export request as bytes; undefined sends nothing. */
  serialize(request: Request): Uint8Array | undefined;
  /** How many records a request holds (the exporter base's own bookkeeping). */
  countItems(request: Request): number;
  onRejected: OnRejected;
}

/** What the exporter bases call each signal (their self-observability names, gRPC service and method). */
const SIGNAL: Record<ExportSignal, { item: IExporterMetricsHelper<unknown>['name']; service: string; path: string }> = {
  traces: { item: 'span', service: 'TraceExportService', path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export' },
  logs: { item: 'log', service: 'LogsExportService', path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export' },
  metrics: { item: 'metric_data_point', service: 'MetricsExportService', path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export' },
};

/**
 * The exporter base's export delegate for one signal. gRPC (and @grpc/grpc-js, ~150 ms to load) is
 * imported only when the protocol is gRPC.
 */
export async function createSignalDelegate<Request>(s: OtlpSettings, signal: ExportSignal, t: SignalTransport<Request>): Promise<IOtlpExportDelegate<Request>> {
  const url = s.urls[signal];
  if (!url) throw new Error(`no OTLP endpoint for ${signal}`);
  const serializer = {
    serializeRequest: t.serialize,
    // Called with the answer of every accepted export: an ExportServiceResponse, empty unless partial_success.
    deserializeResponse(data: Uint8Array) {
      const rejected = rejectedCount(data);
      if (rejected > 0) t.onRejected(rejected);
      return {};
    },
  };
  const helper = { name: SIGNAL[signal].item, countItems: t.countItems };
  // The bases' default concurrency: the span and log queues send one batch at a time anyway.
  const shared = { timeoutMillis: s.timeoutMs, concurrencyLimit: 30, compression: 'none' as const };
  if (s.protocol === 'grpc') {
    const [{ createOtlpGrpcExportDelegate }, grpc] = await Promise.all([import('@opentelemetry/otlp-grpc-exporter-base'), import('@grpc/grpc-js')]);
    const target = new URL(url);
    const credentials = target.protocol === 'https:'
      ? grpc.credentials.createSsl(s.ca ?? null, null, null, s.verify ? {} : { rejectUnauthorized: false, checkServerIdentity: () => undefined })
      : grpc.credentials.createInsecure();
    const metadata = new grpc.Metadata();
    for (const [name, value] of Object.entries(s.headers)) metadata.set(name, value);
    return createOtlpGrpcExportDelegate({ ...shared, url: target.host, credentials: () => credentials, metadata: () => metadata },
      serializer, `vigil_otlp_grpc_${signal}_exporter`, helper, undefined, SIGNAL[signal].service, SIGNAL[signal].path);
  }
  const { createOtlpHttpExportDelegate } = await import('@opentelemetry/otlp-exporter-base/node-http');
  // Idle keep-alive sockets are unreferenced by node:http: they never hold the process open.
  const agent = url.startsWith('https:')
    ? new https.Agent({ keepAlive: true, rejectUnauthorized: s.verify, ...(s.ca ? { ca: s.ca } : {}) })
    : new http.Agent({ keepAlive: true });
  const headers = { ...s.headers, 'content-type': 'application/x-protobuf' };
  // A fresh object per export: the base adds its User-Agent to the one it is given.
  return createOtlpHttpExportDelegate({ ...shared, url, agentFactory: () => agent, headers: async () => ({ ...headers }) },
    serializer, `vigil_otlp_http_${signal}_exporter`, helper, undefined);
}

/** Sends one signal's encoded export requests; `send` resolves once the collector accepted one. */
export interface BytesSender {
  send(body: Uint8Array, records: number): Promise<void>;
  /** Waits for exports in flight, then closes the connection. */
  shutdown(): Promise<void>;
}

interface EncodedRequest {
  body: Uint8Array;
  records: number;
}

/** ExportResultCode.SUCCESS of @opentelemetry/core. */
const EXPORT_SUCCESS = 0;

export async function createBytesSender(s: OtlpSettings, signal: 'traces' | 'logs', onRejected: OnRejected): Promise<BytesSender> {
  const delegate = await createSignalDelegate<EncodedRequest>(s, signal, { serialize: (r) => r.body, countItems: (r) => r.records, onRejected });
  const once = (request: EncodedRequest) => new Promise<void>((resolve, reject) => {
    delegate.export(request, (result) => result.code === EXPORT_SUCCESS ? resolve() : reject(result.error ?? new Error(`${signal} export failed`)));
  });
  return {
    send: s.protocol === 'grpc'
      ? (body, records) => withGrpcRetries(() => once({ body, records }), s.timeoutMs)
      : (body, records) => once({ body, records }),
    shutdown: () => delegate.shutdown(),
  };
}

/** The gRPC status codes the OTLP specification calls retryable: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS. */
const GRPC_RETRYABLE = new Set([1, 4, 10, 11, 14, 15]);

/**
 * The gRPC exporter base does not retry; this applies the HTTP base's policy (up to five retries, backoff
 * from 1 s growing 1.5× to 5 s, ±20 % jitter) while a backoff still ends before the export timeout. Each
 * attempt has the whole timeout, so an export retried late can outlast export_timeout_ms by one attempt;
 * shutdown is bounded separately.
 */
async function withGrpcRetries(attempt: () => Promise<void>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let backoff = 1000;
  for (let retries = 0; ; retries++) {
    try {
      return await attempt();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const wait = backoff * (0.8 + Math.random() * 0.4);
      if (retries >= 5 || typeof code !== 'number' || !GRPC_RETRYABLE.has(code) || Date.now() + wait >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
      backoff = Math.min(backoff * 1.5, 5000);
    }
  }
}

/**
 * ExportServiceResponse.partial_success (field 1).rejected_spans / rejected_log_records /
 * rejected_data_points (field 1, a varint): the same field numbers for the three signals. 0 when absent.
 */
export function rejectedCount(bytes: Uint8Array): number {
  const partial = field(bytes, 0, bytes.length, 1);
  return partial ? field(bytes, partial.start, partial.end, 1)?.value ?? 0 : 0;
}

/** The first occurrence of `wanted` in a message: its varint value, or the bounds of its bytes. */
function field(b: Uint8Array, start: number, end: number, wanted: number): { value: number; start: number; end: number } | undefined {
  let pos = start;
  const varint = () => {
    let value = 0;
    for (let shift = 1; pos < end; shift *= 128) {
      const byte = b[pos++];
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
    }
    throw new Error('truncated varint');
  };
  while (pos < end) {
    const key = varint();
    const number = Math.floor(key / 8);
    switch (key & 7) {
      case 0: {
        const value = varint();
        if (number === wanted) return { value, start: pos, end: pos };
        break;
      }
      case 1: pos += 8; break;
      case 2: {
        const length = varint();
        if (number === wanted) return { value: length, start: pos, end: pos + length };
        pos += length;
        break;
      }
      case 5: pos += 4; break;
      default: throw new Error(`unknown wire type ${key & 7}`);
    }
  }
  return undefined;
}
