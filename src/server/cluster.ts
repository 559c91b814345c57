// Multi-core: with `server.workers` > 1 the primary process only supervises. It forks the workers (each
// a whole gateway sharing the listening port through node:cluster's round-robin), restarts one that
// dies with exponential backoff, hosts the dedicated metrics listener with every worker's metrics
// combined, and when asked to stop (cli/stop-requests.ts) lets every worker drain before it exits. It opens no store: each
// worker writes the SQLite ledger itself (WAL mode with a busy timeout serialises the writers).
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Logger } from '../telemetry/log.ts';
import { ClusterMetrics } from '../telemetry/metrics/cluster.ts';
import type { HttpServer } from './http-server.ts';
import { startMetricsListener, type MetricsEndpoint } from './metrics-http.ts';

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 30_000;
/** A worker that ran this long before dying resets the backoff: it was not a crash loop. */
const STABLE_AFTER_MS = 10_000;
/** After the workers' own drain deadline, how long the primary waits before killing stragglers. */
const KILL_GRACE_MS = 5_000;

/** Primary → worker: start draining, or (a second signal) stop waiting for in-flight requests. */
type StopMessage = { vigil: 'shutdown'; signal: string } | { vigil: 'hurry'; signal: NodeJS.Signals };

export const workerCount = (setting: number | 'auto'): number => (setting === 'auto' ? availableParallelism() : setting);

/** True in the process that should supervise workers rather than serve. */
export const isClusterPrimary = (workers: number): boolean => workers > 1 && cluster.isPrimary;

export const isClusterWorker = (): boolean => cluster.isWorker;

/**
 * Worker side: the primary asks this worker to drain (or to hurry its drain), or is gone (no orphans).
 * Call it early: a message that arrives before anyone listens is lost.
 */
export function onPrimaryRequest(handlers: { drain(reason: string): void; hurry(signal: NodeJS.Signals): void }): void {
  process.on('message', (message: unknown) => {
    const request = message as StopMessage | null;
    if (request?.vigil === 'shutdown') handlers.drain(request.signal);
    if (request?.vigil === 'hurry') handlers.hurry(request.signal);
  });
  process.once('disconnect', () => handlers.drain('primary-exited'));
}

/** What the primary does when asked to stop: drain the workers, or tell them to stop waiting. */
export interface PrimaryControl {
  shutdown(reason: string): void;
  hurry(signal: NodeJS.Signals): void;
}

export interface PrimaryOptions {
  workers: number;
  drainTimeoutMs: number;
  log: Logger;
  /** The dedicated metrics listener, when enabled; `render` is supplied here (all workers combined). */
  listener?: { host: string; port: number; endpoint: Omit<MetricsEndpoint, 'render'> };
  /** Called once right before the primary exits. */
  onExit(code: number): void;
}

export async function runPrimary(options: PrimaryOptions): Promise<PrimaryControl> {
  const { log, workers } = options;
  const metrics = new ClusterMetrics(); // listens before the first fork, so no worker goes unseen
  const startedAt = new Map<number, number>();
  const restarts = new Set<NodeJS.Timeout>();
  let everListening = false;
  const listening = new Set<number>();
  let quickFailures = 0;
  let stopping = false;
  /** Why the workers are draining, once they are: told to each worker as soon as it listens. */
  let drainReason: string | undefined;
  let exitCode = 0;
  let listener: HttpServer | undefined;

  // Our own table rather than cluster.workers, which drops a worker at disconnect, before it has exited.
  const running = new Map<number, Worker>();
  const fork = () => {
    const worker = cluster.fork();
    running.set(worker.id, worker);
    startedAt.set(worker.id, Date.now());
  };
  const live = () => [...running.values()];
  const finish = async (code: number) => {
    await listener?.close().catch(() => undefined);
    log.info({ exit_code: code }, 'stopped');
    options.onExit(code);
  };

  const askToDrain = (worker: Worker, reason: string) => {
    if (worker.isConnected()) worker.send({ vigil: 'shutdown', signal: reason } satisfies StopMessage);
  };
  cluster.on('listening', (worker, address) => {
    everListening = true;
    listening.add(worker.id);
    // A worker handles stop requests once it listens: one that was still starting is asked now.
    if (drainReason) askToDrain(worker, drainReason);
    if (listening.size === workers) log.info({ workers, address: `${address.address}:${address.port}` }, 'all workers listening');
    log.debug({ worker: worker.id, pid: worker.process.pid }, 'worker listening');
  });

  cluster.on('exit', (worker, code, signal) => {
    const uptimeMs = Date.now() - (startedAt.get(worker.id) ?? Date.now());
    startedAt.delete(worker.id);
    listening.delete(worker.id);
    running.delete(worker.id);
    const fields = { worker: worker.id, pid: worker.process.pid, code, signal, uptime_ms: uptimeMs };
    if (stopping) {
      if (code !== 0) exitCode = 1;
      log.info(fields, 'worker stopped');
      if (live().length === 0) void finish(exitCode);
      return;
    }
    if (!everListening) {
      // The first workers failed to start (port taken, bad environment): retrying cannot help.
      log.fatal(fields, 'worker failed to start; stopping');
      stopping = true;
      exitCode = 1;
      for (const w of live()) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGKILL');
      if (live().length === 0) void finish(exitCode);
      return;
    }
    quickFailures = uptimeMs >= STABLE_AFTER_MS ? 0 : quickFailures + 1;
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, quickFailures - 1));
    log.error({ ...fields, restart_in_ms: delay }, 'worker exited unexpectedly; restarting');
    const timer = setTimeout(() => { restarts.delete(timer); if (!stopping) fork(); }, delay);
    restarts.add(timer);
  });

  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    drainReason = reason;
    for (const timer of restarts) clearTimeout(timer);
    log.info({ signal: reason, workers: live().length, drain_timeout_ms: options.drainTimeoutMs }, 'draining workers');
    // A message rather than a signal: the workers share this process group, so a signal sent to the
    // group already reached them once; a forwarded copy would count as a second signal.
    for (const w of live()) if (listening.has(w.id)) askToDrain(w, reason);
    const deadline = setTimeout(() => {
      log.warn({ workers: live().length }, 'workers still running after the drain timeout; killing them');
      for (const w of live()) w.process.kill('SIGKILL');
    }, options.drainTimeoutMs + KILL_GRACE_MS);
    deadline.unref();
    if (live().length === 0) void finish(exitCode);
  };
  const hurry = (signal: NodeJS.Signals) => {
    log.warn({ signal, workers: live().length }, `second ${signal}: telling the workers to stop without finishing the drain`);
    exitCode = 1;
    for (const w of live()) if (w.isConnected()) w.send({ vigil: 'hurry', signal } satisfies StopMessage);
  };

  if (options.listener) { // before forking: a taken port stops start-up with no worker to clean up
    const { host, port, endpoint } = options.listener;
    listener = await startMetricsListener({ host, port, endpoint: { ...endpoint, render: (format) => metrics.render(format) } });
    const { address, port: bound } = listener.server.address() as AddressInfo;
    log.info({ addresses: [`${address}:${bound}`], path: endpoint.path }, 'metrics listener ready');
  }
  log.info({ workers }, 'starting workers');
  for (let i = 0; i < workers; i++) fork();
  return { shutdown, hurry };
}
