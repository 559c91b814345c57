// Sends one encoded OTLP export request to the collector, over HTTP/protobuf (POST …/v1/traces|logs) or
// gRPC (TraceService/LogsService Export, the bytes passed through grpc-js unchanged), with TLS, custom CA
// and headers. Retryable answers (OTLP spec: HTTP 429/502/503/504, gRPC UNAVAILABLE and friends) are
// retried with jittered exponential backoff, honouring Retry-After, all within the export timeout.
import http from 'node:http';
import https from 'node:https';
import { Client, credentials, Metadata, status as GrpcStatus, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import type { Signal } from './encode.ts';

export interface SendSettings {
  endpoint: string;
  protocol: 'grpc' | 'http';
  headers: Record<string, string>;
  ca: Buffer | undefined;
  verify: boolean;
  timeoutMs: number;
}

/** Resolves once the collector accepted the request; rejects when it refused or the time ran out. */
export interface Sender {
  send(body: Buffer): Promise<void>;
  close(): void;
}

/** Why an attempt failed, and whether (and after how long) it may be tried again. */
class AttemptError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryable: boolean, retryAfterMs?: number) {
    super(message);
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

// The OpenTelemetry SDK exporters' retry policy.
const MAX_ATTEMPTS = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;

export function createSender(s: SendSettings, signal: Signal): Sender {
  const attempt = s.protocol === 'grpc' ? grpcAttempt(s, signal) : httpAttempt(s, signal);
  return {
    async send(body) {
      const deadline = Date.now() + s.timeoutMs;
      let backoff = INITIAL_BACKOFF_MS;
      for (let n = 1; ; n++) {
        try {
          return await attempt.send(body, deadline);
        } catch (err) {
          if (!(err instanceof AttemptError) || !err.retryable || n >= MAX_ATTEMPTS) throw err;
          const wait = err.retryAfterMs ?? backoff * (0.8 + Math.random() * 0.4);
          if (Date.now() + wait >= deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, wait));
          backoff = Math.min(backoff * 1.5, MAX_BACKOFF_MS);
        }
      }
    },
    close: () => attempt.close(),
  };
}

interface Attempt {
  send(body: Buffer, deadline: number): Promise<void>;
  close(): void;
}

const HTTP_RETRYABLE = new Set([429, 502, 503, 504]);

function httpAttempt(s: SendSettings, signal: Signal): Attempt {
  const url = new URL(signalUrl(s.endpoint, signal));
  const secure = url.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, rejectUnauthorized: s.verify, ...(s.ca ? { ca: s.ca } : {}) })
    : new http.Agent({ keepAlive: true });
  const request = secure ? https.request : http.request;
  const headers = { ...s.headers, 'content-type': 'application/x-protobuf' };
  return {
    send: (body, deadline) => new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': body.length }, timeout: Math.max(1, deadline - Date.now()) }, (res) => {
        res.resume(); // the answer (an ExportServiceResponse, maybe with partial_success) is not needed
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          const retry = HTTP_RETRYABLE.has(status);
          reject(new AttemptError(`HTTP ${status}`, retry, retry ? retryAfterMs(res.headers['retry-after']) : undefined));
        });
        res.on('error', (err) => reject(new AttemptError(err.message, true)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within the export timeout`)));
      // Connection refused or reset: the collector may be restarting.
      req.on('error', (err) => reject(new AttemptError(err.message, true)));
      req.end(body);
    }),
    close: () => agent.destroy(),
  };
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** The gRPC codes OTLP calls retryable. */
const GRPC_RETRYABLE = new Set([GrpcStatus.CANCELLED, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.ABORTED, GrpcStatus.OUT_OF_RANGE, GrpcStatus.UNAVAILABLE, GrpcStatus.DATA_LOSS]);
const GRPC_METHOD: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const identity = (bytes: Buffer) => bytes;

/** TLS for https:// endpoints (custom CA, or no verification when asked), plaintext otherwise. */
export function grpcCredentials(s: Pick<SendSettings, 'endpoint' | 'ca' | 'verify'>): ChannelCredentials {
  return s.endpoint.startsWith('https:')
    ? credentials.createSsl(s.ca ?? null, null, null, s.verify ? {} : { rejectUnauthorized: false, checkServerIdentity: () => undefined })
    : credentials.createInsecure();
}

/** The configured headers as gRPC metadata (sent with every export). */
export function grpcMetadata(headers: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
  return metadata;
}

function grpcAttempt(s: SendSettings, signal: Signal): Attempt {
  const url = new URL(s.endpoint);
  const client = new Client(url.host, grpcCredentials(s));
  const metadata = grpcMetadata(s.headers);
  return {
    send: (body, deadline) => new Promise((resolve, reject) => {
      client.makeUnaryRequest(GRPC_METHOD[signal], identity, identity, body, metadata, { deadline }, (err: ServiceError | null) => {
        if (!err) return resolve();
        reject(new AttemptError(`gRPC ${GrpcStatus[err.code]}: ${err.details}`, GRPC_RETRYABLE.has(err.code)));
      });
    }),
    close: () => client.close(),
  };
}

/** HTTP: the endpoint is the collector's base URL; a signal path given by habit (…/v1/logs) is tolerated. */
export function signalUrl(endpoint: string, signal: Signal | 'metrics'): string {
  const base = endpoint.replace(/\/+$/, '').replace(/\/v1\/(traces|logs|metrics)$/, '');
  return `${base}/v1/${signal}`;
}
