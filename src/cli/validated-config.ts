// The one validation path of `serve` and `config check`: whatever serve would refuse, check refuses
// too, under a header naming the config's source, and both report the same warnings.
import { compileConfig, type CompiledConfig } from '../config/compile.ts';
import { ConfigError, configSource, loadConfig, type LoadOptions } from '../config/load.ts';
import { configWarnings } from '../config/warnings.ts';
import { LOG_MODULES, unknownLogModules } from '../telemetry/log.ts';
import { resolveOtlp } from '../telemetry/export/settings.ts';

export interface ValidatedConfig {
  compiled: CompiledConfig;
  /** Problems that do not stop start-up: one line each. */
  warnings: string[];
}

export function validatedConfig(options: LoadOptions): ValidatedConfig {
  try {
    const config = loadConfig(options);
    const compiled = compileConfig(config);
    resolveOtlp(config.telemetry, compiled.otlpHeaders); // the OTLP CA file, as serve reads it
    const unknownModules = unknownLogModules(config.log.level).map((name) =>
      `log.level: no module is called "${name}", so its level changes nothing (modules: ${LOG_MODULES.join(', ')})`);
    return { compiled, warnings: [...configWarnings(compiled), ...unknownModules] };
  } catch (err) {
    throw err instanceof ConfigError ? err.withSource(configSource(options)) : err;
  }
}
