// OTLP settings shared by spans, logs and metrics: resolved settings (secret headers, CA file), the
// resource, the span and log exporters (otlp/: encoded once, batched off the request path, every lost
// record counted) and the SDK's metric exporter for the opt-in GenAI metrics push.
import { readFileSync } from 'node:fs';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../config/load.ts';
import type { TelemetryConfig } from '../config/schema.ts';
import type { DropReason } from './otlp/batch.ts';
import { encodeLogRecord, encodeSpan, type Attributes, type LogRecordData, type Signal, type SpanRecord } from './otlp/encode.ts';
import { createExporter, type RecordSink } from './otlp/exporter.ts';
import type { ProtoWriter } from './otlp/proto-writer.ts';
import { grpcCredentials, grpcMetadata, signalUrl } from './otlp/send.ts';

export type { DropReason, Signal };
export { signalUrl };
/** Told about every record an export queue gave up on. */
export type OnDropped = (signal: Signal, reason: DropReason, count: number) => void;

export interface OtlpSettings {
  endpoint: string;
  protocol: 'grpc' | 'http';
  headers: Record<string, string>;
  ca: Buffer | undefined;
  verify: boolean;
  batch: TelemetryConfig['otlp']['batch'];
}

/** `headers`: resolved by config/compile.ts. The CA file is read once at start-up; one that cannot be read stops start-up. */
export function resolveOtlp(config: TelemetryConfig, headers: Readonly<Record<string, string>>): OtlpSettings | undefined {
  const { otlp } = config;
  if (!otlp.endpoint) return undefined;
  const problems: string[] = [];
  let ca: Buffer | undefined;
  if (otlp.tls.ca_cert_path) {
    try {
      ca = readFileSync(otlp.tls.ca_cert_path);
    } catch (err) {
      problems.push(`telemetry.otlp.tls.ca_cert_path: cannot read ${otlp.tls.ca_cert_path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (problems.length) throw ConfigError.fromProblems(problems);
  return { endpoint: otlp.endpoint, protocol: otlp.protocol, headers: { ...headers }, ca, verify: otlp.tls.verify, batch: otlp.batch };
}

export function otlpResource(config: TelemetryConfig, version: string): Attributes {
  const attributes: Attributes = { 'service.name': config.service_name, 'service.version': version };
  // The contract names deployment.environment; current semantic conventions call it deployment.environment.name.
  if (config.environment) attributes['deployment.environment'] = attributes['deployment.environment.name'] = config.environment;
  return attributes;
}

/** The span exporter: spans encoded as they end, batched, sent; drops counted. */
export function spanExporter(s: OtlpSettings, resource: Attributes, version: string, onDropped: OnDropped): RecordSink<SpanRecord> {
  return signalExporter('traces', encodeSpan, s, resource, version, onDropped);
}

/** The log exporter: records encoded as they are written (observed now), batched, sent; drops counted. */
export function logExporter(s: OtlpSettings, resource: Attributes, version: string, onDropped: OnDropped): RecordSink<LogRecordData> {
  return signalExporter('logs', (w, record: LogRecordData) => encodeLogRecord(w, record, Date.now()), s, resource, version, onDropped);
}

function signalExporter<T>(signal: Signal, encode: (w: ProtoWriter, record: T) => void, s: OtlpSettings, resource: Attributes, version: string, onDropped: OnDropped): RecordSink<T> {
  return createExporter({
    signal, encode, resource, scope: { name: 'vigil', version },
    settings: { ...s, timeoutMs: s.batch.export_timeout_ms },
    onDropped: (reason, count) => onDropped(signal, reason, count),
  });
}

function grpcOptions(s: OtlpSettings) {
  return { url: s.endpoint, metadata: grpcMetadata(s.headers), timeoutMillis: s.batch.export_timeout_ms, credentials: grpcCredentials(s) };
}

function httpOptions(s: OtlpSettings) {
  return {
    url: signalUrl(s.endpoint, 'metrics'),
    headers: s.headers,
    timeoutMillis: s.batch.export_timeout_ms,
    httpAgentOptions: { keepAlive: true, rejectUnauthorized: s.verify, ...(s.ca ? { ca: s.ca } : {}) },
  };
}

/** Metrics (cumulative temporality, the SDK default): the exporter modules load only when metric export is on. */
export async function metricExporter(s: OtlpSettings): Promise<PushMetricExporter> {
  if (s.protocol === 'grpc') {
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-grpc');
    return new OTLPMetricExporter(grpcOptions(s));
  }
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
  return new OTLPMetricExporter(httpOptions(s));
}
