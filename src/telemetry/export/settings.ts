// What the OTLP export of every signal shares, resolved once from config at start-up: where each signal goes,
// the protocol, the headers (secret references resolved), TLS and the export timeout; and the resource
// that names this process. The config loader has already layered VIGIL_OTLP_* and OTEL_* over the file.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/load.ts';
import type { TelemetryConfig } from '../../config/schema.ts';
import type { Attributes } from './encode.ts';

export type ExportSignal = 'traces' | 'logs' | 'metrics';

export interface OtlpSettings {
  protocol: 'grpc' | 'http';
  /** Where each enabled signal is sent: the full HTTP URL, or the gRPC endpoint. Absent: not exported. */
  urls: Partial<Record<ExportSignal, string>>;
  headers: Record<string, string>;
  ca: Buffer | undefined;
  verify: boolean;
  /** Per export, retries included. */
  timeoutMs: number;
  batch: TelemetryConfig['otlp']['batch'];
}

const SIGNALS: readonly ExportSignal[] = ['traces', 'logs', 'metrics'];

/**
 * Undefined when no endpoint is set at all. `headers`: as config/compile.ts resolved them. The CA file is read
 * here, once; one that cannot be read stops start-up (and `config check`), whether or not a signal is enabled.
 */
export function resolveOtlp(config: TelemetryConfig, headers: Readonly<Record<string, string>>): OtlpSettings | undefined {
  const { otlp } = config;
  if (!otlp.endpoint && !SIGNALS.some((signal) => otlp[signal].endpoint)) return undefined;
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
  const urls: OtlpSettings['urls'] = {};
  for (const signal of SIGNALS) {
    const url = signalEndpoint(otlp.protocol, otlp.endpoint, otlp[signal].endpoint, signal);
    if (url && otlp[signal].enabled) urls[signal] = url;
  }
  return { protocol: otlp.protocol, urls, headers: { ...headers }, ca, verify: otlp.tls.verify, timeoutMs: otlp.batch.export_timeout_ms, batch: otlp.batch };
}

/**
 * A signal's own endpoint is used as it is (the OTLP exporter specification's rule for
 * OTEL_EXPORTER_OTLP_{TRACES,LOGS,METRICS}_ENDPOINT); otherwise HTTP appends the signal path to the shared
 * base URL, and gRPC uses the shared endpoint.
 */
function signalEndpoint(protocol: OtlpSettings['protocol'], shared: string | undefined, own: string | undefined, signal: ExportSignal): string | undefined {
  if (own) return own;
  if (!shared) return undefined;
  return protocol === 'http' ? signalUrl(shared, signal) : shared;
}

/** HTTP: the endpoint is the collector's base URL; a signal path given by habit (…/v1/logs) is tolerated. */
export function signalUrl(endpoint: string, signal: ExportSignal): string {
  const base = endpoint.replace(/\/+$/, '').replace(/\/v1\/(traces|logs|metrics)$/, '');
  return `${base}/v1/${signal}`;
}

export function otlpResource(config: TelemetryConfig, version: string): Attributes {
  const attributes: Attributes = { 'service.name': config.service_name, 'service.version': version };
  // The contract names deployment.environment; current semantic conventions call it deployment.environment.name.
  if (config.environment) attributes['deployment.environment'] = attributes['deployment.environment.name'] = config.environment;
  return attributes;
}
