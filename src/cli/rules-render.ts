// `vigil rules render --config FILE [--out DIR]`: the Prometheus rule files of ops/generated/rules for
// one configuration: its SLO targets (slo.targets) and latency budget (slo.latency_budget_ms). Other
// thresholds keep their defaults (ops/config.ts); in Kubernetes the chart's alerting values set them.
import { resolve } from 'node:path';
import { DEFAULT_CONFIG, type OpsConfig } from '../../ops/config.ts';
import { writePlainRules } from '../../ops/generate.ts';
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../config/load.ts';
import { validatedConfig } from './validated-config.ts';

export function opsConfigFor(config: Config): OpsConfig {
  const { targets, latency_budget_ms: budgetMs } = config.slo;
  return {
    ...DEFAULT_CONFIG,
    latencyBudgetSeconds: budgetMs / 1000,
    thresholds: { ...DEFAULT_CONFIG.thresholds, availability: targets.availability, upstreamAvailability: targets.upstream, latency: targets.latency },
  };
}

export function renderRules(options: { config?: string; out: string }): void {
  const { compiled } = validatedConfig({ path: options.config });
  let files: string[];
  try {
    files = writePlainRules(opsConfigFor(compiled.config), resolve(options.out));
  } catch (err) {
    // A latency budget that is not a histogram bound cannot be computed exactly in PromQL.
    if (err instanceof Error && err.message.includes('bucket bound')) throw new ConfigError(`slo.latency_budget_ms: ${err.message}`);
    throw err;
  }
  for (const file of files) console.log(file);
}
