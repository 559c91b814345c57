// Rule files for a configuration that differs from the checked-in one: a deployment's thresholds, or
// a test profile with short `for:` durations and evaluation intervals (test/e2e/prometheus-alerting).
// Writes to a directory of the caller's choosing; the checked-in ops/generated files never change here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type ForKey, type OpsConfig, type ThresholdKey } from './config.ts';
import { ruleFiles, ruleFileText } from './render.ts';

export interface RuleOverrides {
  thresholds?: Partial<Record<ThresholdKey, number>>;
  for?: Partial<Record<ForKey, string>>;
  links?: Partial<OpsConfig['links']>;
  /** Every group's evaluation interval (groups without one follow Prometheus' global interval). */
  groupInterval?: string;
}

export function withOverrides(overrides: RuleOverrides, base: OpsConfig = DEFAULT_CONFIG): OpsConfig {
  return {
    ...base,
    links: { ...base.links, ...overrides.links },
    thresholds: { ...base.thresholds, ...overrides.thresholds },
    for: { ...base.for, ...overrides.for },
  };
}

/** Writes the plain rule files for `base` with `overrides` into `dir`; returns their paths. */
export function writeRules(dir: string, overrides: RuleOverrides = {}, base: OpsConfig = DEFAULT_CONFIG): string[] {
  const config = withOverrides(overrides, base);
  mkdirSync(dir, { recursive: true });
  return ruleFiles(config).map((file) => {
    const groups = overrides.groupInterval
      ? file.groups.map((g) => ({ ...g, interval: overrides.groupInterval }))
      : file.groups;
    const path = join(dir, file.file);
    writeFileSync(path, ruleFileText(config, { ...file, groups }, false));
    return path;
  });
}
