// The grammar of `log.level` (and VIGIL_LOG): a default level and per-module levels, e.g.
// `info,routing=debug`. Checked when the config loads, so `config check` refuses what `serve` would;
// level names are case-insensitive (`DEBUG` is `debug`). Which module names exist is telemetry/log.ts's.
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogDirectives {
  level: LogLevel;
  modules: Record<string, LogLevel>;
}

export function parseDirectives(spec: string): LogDirectives {
  const result: LogDirectives = { level: 'info', modules: {} };
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, written] = part.includes('=') ? part.split('=', 2).map((s) => s.trim()) : [undefined, part];
    const level = written.toLowerCase() as LogLevel;
    if (!LOG_LEVELS.includes(level)) throw new Error(`log level "${written}" is not one of ${LOG_LEVELS.join(', ')}`);
    if (name) result.modules[name] = level;
    else result.level = level;
  }
  return result;
}
