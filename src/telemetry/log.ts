// pino, configured once: JSON lines (or pretty for humans), ISO time, label levels, and per-module levels
// from directives like `info,routing=debug`. Module loggers are made at start-up, never per request.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { parseDirectives, type LogLevel } from '../config/log-directives.ts';
import { isoNow } from '../core/clock.ts';
import { LineBatch } from './line-batch.ts';

export type { Logger };

/** Every module that writes log lines: the names `log.level` directives may use (`info,routing=debug`). */
export const LOG_MODULES = ['server', 'pipeline', 'routing', 'auth', 'store', 'cluster'] as const;
export type LogModule = (typeof LOG_MODULES)[number];

/** Module names in directives that no module uses: each would silently change nothing. */
export function unknownLogModules(spec: string): string[] {
  return Object.keys(parseDirectives(spec).modules).filter((name) => !(LOG_MODULES as readonly string[]).includes(name));
}

/** What a request stage needs to write debug lines; handed over only when debug is on for its module. */
export interface DebugLog {
  debug(fields: Record<string, unknown>, msg: string): void;
}

export interface Logs {
  readonly root: Logger;
  /** The logger of one module, at its configured level. */
  module(name: LogModule): Logger;
  /**
   * A module's logger when it writes debug lines, else undefined: decided once at start-up, so a stage's
   * disabled debug line costs one check of a constant per request.
   */
  debugLogger(name: LogModule): DebugLog | undefined;
  /**
   * The pipeline's one line per request. That line is built field by field from the context (an allowlist,
   * see pipeline/finish.ts), so it skips pino's redaction pass (~2 µs a line), is serialised in one step at
   * info (infoLine below) and, with OTLP log export, skips the tee's JSON round trip: its record is made
   * from the same fields.
   */
  requestLines(): RequestLines;
  flush(): void;
}

/** A second destination with its own minimum level: OTLP log export (telemetry/log-export.ts). */
export interface LogTee {
  readonly level: pino.Level;
  write(line: string): void;
  /** The record of a line that was written to stdout only: the same fields, not re-parsed. */
  record(level: pino.Level, msg: string, fields: Record<string, unknown>, bindings: Record<string, unknown>): void;
}

export interface RequestLines {
  /** Whether `info` writes anything: when not, the caller need not build the line. */
  readonly infoEnabled: boolean;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** Longest a log line waits in the write batch. */
const FLUSH_INTERVAL_MS = 200;

export function createLogs(options: { level: string; format: 'json' | 'pretty'; version: string; tee?: LogTee; pid?: number }, stream?: NodeJS.WritableStream): Logs {
  const directives = parseDirectives(options.level);
  // JSON lines are written in ~64 KiB batches, not one system call each (a measured ~40 µs per request under
  // load on a 2-core VM), and a timer flushes a partial batch so a quiet gateway's lines still appear.
  // Synchronously, as Node writes stdout to files and pipes on Linux: an asynchronous write goes through
  // libuv's thread pool, whose wake-up and hand-back cost ~3 % of a request's CPU on the one core the
  // gateway has (CPU profiles, BENCHMARKS.md), and a crash cannot lose a batch that is already handed over.
  const batch = stream === undefined && options.format === 'json' ? LineBatch.stdout() : undefined;
  const destination = stream ?? batch
    ?? pretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,version' });
  const batching = batch ? setInterval(() => batch.flush(), FLUSH_INTERVAL_MS).unref() : undefined;
  // A crash still writes its last lines.
  if (batch) process.once('exit', () => flushBatch(batch));
  const tee = options.tee;
  const teeFloor = tee ? pino.levels.values[tee.level] : Infinity;
  const pid = options.pid === undefined ? {} : { pid: options.pid };
  const shape: pino.LoggerOptions = {
    level: directives.level, // module loggers below may be more verbose than the root
    base: { service: 'vigil', version: options.version, ...pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  // Belt and braces: credentials never reach a log line even if a header object is logged by mistake.
  const redact = { paths: ['headers.authorization', 'headers["x-api-key"]', 'api_key', '*.api_key'], censor: '[redacted]' };
  /**
   * A logger writing to stdout from `level` and to the tee from the tee's own level: the OTLP minimum is
   * independent of stdout's both ways (stdout at warn can still ship info to the collector). Each module
   * has one of its own, as multistream's levels are per stream, not per module.
   */
  const logger = (level: LogLevel): Logger => {
    if (!tee) return pino({ ...shape, redact, level }, destination);
    const streams: pino.StreamEntry[] = [{ stream: tee, level: tee.level }];
    if (level !== 'silent') streams.push({ stream: destination as NodeJS.WritableStream, level });
    const lowest = Math.min(pino.levels.values[level] ?? Infinity, teeFloor);
    return pino({ ...shape, redact, level: pino.levels.labels[lowest] }, pino.multistream(streams));
  };
  const root = logger(directives.level);
  const modules = new Map<LogModule, Logger>();
  const module = (name: LogModule): Logger => {
    let made = modules.get(name);
    if (!made) {
      made = logger(directives.modules[name] ?? directives.level).child({ module: name });
      modules.set(name, made);
    }
    return made;
  };
  return {
    root,
    module,
    debugLogger(name) {
      const made = module(name);
      return made.isLevelEnabled('debug') ? made : undefined;
    },
    requestLines() {
      const bindings = { module: 'pipeline' };
      const lines = pino(shape, destination).child(bindings, { level: directives.modules.pipeline ?? directives.level });
      const stdoutInfo = lines.isLevelEnabled('info');
      const ok = stdoutInfo ? infoLine(destination, { ...shape.base, ...bindings }) : () => {};
      const failed: RequestLines['warn'] = (fields, msg) => lines.warn(fields, msg);
      if (!tee) return { infoEnabled: stdoutInfo, info: ok, warn: failed };
      const recordBindings = { ...pid, ...bindings }; // what base and the child add to the line
      // The tee takes the lines at or above its own level, whether or not stdout does.
      const teed = (level: 'info' | 'warn', line: RequestLines['info']): RequestLines['info'] => pino.levels.values[level] < teeFloor ? line : (fields, msg) => {
        line(fields, msg);
        tee.record(level, msg, fields, recordBindings);
      };
      return { infoEnabled: stdoutInfo || pino.levels.values.info >= teeFloor, info: teed('info', ok), warn: teed('warn', failed) };
    },
    flush() {
      clearInterval(batching);
      if (batch) flushBatch(batch);
    },
  };
}

/**
 * The request line at info, as pino writes it (level, time, base and bindings, the fields, msg, in that
 * order), serialised by one JSON.stringify of the fields: the line is an allowlist of strings, numbers and
 * booleans (pipeline/finish.ts), and pino's per-field loop cost two and a half times as much for it (4.8
 * against 1.9 µs, bench/micro/finish.bench.ts), building a tree of partial strings the batch then flattened.
 * Failed requests (warn, with an error to serialise) still go through pino.
 */
function infoLine(destination: NodeJS.WritableStream | LineBatch, fixed: object): RequestLines['info'] {
  const head = `,${JSON.stringify(fixed).slice(1, -1)}`;
  return (fields, msg) => {
    const json = JSON.stringify(fields);
    const body = json.length > 2 ? `,${json.slice(1, -1)}` : '';
    destination.write(`{"level":"info","time":"${isoNow()}"${head}${body},"msg":${JSON.stringify(msg)}}\n`);
  };
}

function flushBatch(batch: LineBatch): void {
  try {
    batch.flushSync();
  } catch {
    // stdout already gone
  }
}
