// OTLP plumbing shared by spans, logs and metrics: resolved settings (secret headers, CA file), the resource, the
// exporters for gRPC or HTTP/protobuf with TLS, and the drop counter. The SDK's batch processors keep
// every export off the request path; this file only decides where batches go and counts what is lost.
import { readFileSync } from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import { createNoopMeter, type Attributes, type Meter, type MeterProvider } from '@opentelemetry/api';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, type LogRecordExporter, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ConfigError } from '../config/load.ts';
import type { TelemetryConfig } from '../config/schema.ts';
import { resolveHeaders } from '../config/secrets.ts';

export type Signal = 'traces' | 'logs';
export type DropReason = 'queue_full' | 'export_failed';
/** Told about every record a batch processor gave up on. */
export type OnDropped = (signal: Signal, reason: DropReason, count: number) => void;

export interface OtlpSettings {
  endpoint: string;
  protocol: 'grpc' | 'http';
  headers: Record<string, string>;
  ca: Buffer | undefined;
  verify: boolean;
  batch: TelemetryConfig['otlp']['batch'];
}

/** Secret references and the CA file, read once at start-up; a reference that does not resolve stops start-up. */
export function resolveOtlp(config: TelemetryConfig, env: NodeJS.ProcessEnv = process.env): OtlpSettings | undefined {
  const { otlp } = config;
  if (!otlp.endpoint) return undefined;
  const resolved = resolveHeaders(otlp.headers, env);
  const headers = resolved.headers;
  const problems = resolved.problems.map((problem) => `telemetry.otlp.headers.${problem}`);
  let ca: Buffer | undefined;
  if (otlp.tls.ca_cert_path) {
    try {
      ca = readFileSync(otlp.tls.ca_cert_path);
    } catch (err) {
      problems.push(`telemetry.otlp.tls.ca_cert_path: cannot read ${otlp.tls.ca_cert_path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (problems.length) throw ConfigError.fromProblems(problems);
  return { endpoint: otlp.endpoint, protocol: otlp.protocol, headers, ca, verify: otlp.tls.verify, batch: otlp.batch };
}

export function otlpResource(config: TelemetryConfig, version: string): Resource {
  const attributes: Attributes = { 'service.name': config.service_name, 'service.version': version };
  // The contract names deployment.environment; current semantic conventions call it deployment.environment.name.
  if (config.environment) attributes['deployment.environment'] = attributes['deployment.environment.name'] = config.environment;
  return resourceFromAttributes(attributes);
}

/** HTTP: the endpoint is the collector's base URL; a signal path given by habit (…/v1/logs) is tolerated. */
export function signalUrl(endpoint: string, signal: Signal | 'metrics'): string {
  const base = endpoint.replace(/\/+$/, '').replace(/\/v1\/(traces|logs|metrics)$/, '');
  return `${base}/v1/${signal}`;
}

function grpcOptions(s: OtlpSettings) {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(s.headers)) metadata.set(name, value);
  const secure = s.endpoint.startsWith('https:');
  return {
    url: s.endpoint,
    metadata,
    timeoutMillis: s.batch.export_timeout_ms,
    credentials: secure
      ? credentials.createSsl(s.ca ?? null, null, null, s.verify ? {} : { rejectUnauthorized: false, checkServerIdentity: () => undefined })
      : credentials.createInsecure(),
  };
}

function httpOptions(s: OtlpSettings, signal: Signal | 'metrics') {
  return {
    url: signalUrl(s.endpoint, signal),
    headers: s.headers,
    timeoutMillis: s.batch.export_timeout_ms,
    httpAgentOptions: { keepAlive: true, rejectUnauthorized: s.verify, ...(s.ca ? { ca: s.ca } : {}) },
  };
}

export function spanExporter(s: OtlpSettings): SpanExporter {
  return s.protocol === 'grpc' ? new GrpcTraceExporter(grpcOptions(s)) : new HttpTraceExporter(httpOptions(s, 'traces'));
}

export function logExporter(s: OtlpSettings): LogRecordExporter {
  return s.protocol === 'grpc' ? new GrpcLogExporter(grpcOptions(s)) : new HttpLogExporter(httpOptions(s, 'logs'));
}

/** Metrics (cumulative temporality, the SDK default): the exporter modules load only when metric export is on. */
export async function metricExporter(s: OtlpSettings): Promise<PushMetricExporter> {
  if (s.protocol === 'grpc') {
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-grpc');
    return new OTLPMetricExporter(grpcOptions(s));
  }
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
  return new OTLPMetricExporter(httpOptions(s, 'metrics'));
}

/** The SDK's batch processors with the configured batch settings, counting what they drop. */
export function spanProcessor(s: OtlpSettings, onDropped: OnDropped): SpanProcessor {
  return new BatchSpanProcessor({ exporter: spanExporter(s), ...batchOptions(s, 'traces', onDropped) });
}

export function logProcessor(s: OtlpSettings, onDropped: OnDropped): LogRecordProcessor {
  return new BatchLogRecordProcessor({ exporter: logExporter(s), ...batchOptions(s, 'logs', onDropped) });
}

/** The SDK batch processors' options, from the shared batch settings. */
export function batchOptions(s: OtlpSettings, signal: Signal, onDropped: OnDropped) {
  return {
    maxQueueSize: s.batch.max_queue_size,
    scheduledDelayMillis: s.batch.scheduled_delay_ms,
    maxExportBatchSize: Math.min(s.batch.max_export_batch_size, s.batch.max_queue_size),
    exportTimeoutMillis: s.batch.export_timeout_ms,
    selfObsMeterProvider: dropMeterProvider(signal, onDropped),
  };
}

/**
 * The batch processors report each record they finish with on `otel.sdk.processor.*.processed`, with
 * `error.type` set when it was lost (`queue_full`, or the export error's name). This tiny MeterProvider
 * turns exactly that counter into drop callbacks, so no OTel metrics SDK is needed for one number.
 */
export function dropMeterProvider(signal: Signal, onDropped: OnDropped): MeterProvider {
  const meter: Meter = Object.create(createNoopMeter());
  const noop = meter.createCounter.bind(meter);
  meter.createCounter = (name, options) => {
    if (!name.endsWith('.processed')) return noop(name, options);
    return {
      add(count: number, attributes?: Attributes) {
        const errorType = attributes?.['error.type'];
        if (errorType !== undefined && count > 0) onDropped(signal, errorType === 'queue_full' ? 'queue_full' : 'export_failed', count);
      },
    };
  };
  return { getMeter: () => meter };
}
