// /metrics across node:cluster workers. The primary asks every live worker for a snapshot of its
// registry over IPC and combines them with prom-client's aggregators (see exposition.ts). A worker that
// serves /metrics asks the primary for that combined view, so any worker answers with the same totals.
//
// Why not AggregatorRegistry.clusterMetrics(): in prom-client 15 it only writes Prometheus text (no
// OpenMetrics), drops a worker's totals when it exits (counters would go backwards), and it aggregates
// the registries given to setRegistries() process-wide. The few lines below use the public
// getMetricsAsJSON() and AggregatorRegistry.aggregate() instead.
import cluster, { type Worker } from 'node:cluster';
import type { Registry } from 'prom-client';
import { renderSnapshots, retire, snapshot, type Exposition, type MetricsFormat, type Snapshot } from './exposition.ts';

/** Longer than a healthy worker ever needs, shorter than Prometheus' default 10 s scrape timeout. */
const SNAPSHOT_TIMEOUT_MS = 5000;

type Message =
  | { vigil: 'metrics.ready' }
  | { vigil: 'metrics.snapshot'; id: number; snapshot?: Snapshot; error?: string }
  | { vigil: 'metrics.render'; id: number; format: MetricsFormat }
  | { vigil: 'metrics.rendered'; id: number; exposition?: Exposition; error?: string };

const isMessage = (value: unknown): value is Message =>
  typeof value === 'object' && value !== null && typeof (value as { vigil?: unknown }).vigil === 'string';

interface Pending<T> { resolve(value: T): void; reject(err: Error): void; timer: NodeJS.Timeout; workerId?: number }

function pending<T>(table: Map<number, Pending<T>>, id: number, timeoutMs: number, what: string, workerId?: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => { table.delete(id); reject(new Error(`${what}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    table.set(id, {
      workerId,
      timer,
      resolve: (value) => { clearTimeout(timer); table.delete(id); resolve(value); },
      reject: (err) => { clearTimeout(timer); table.delete(id); reject(err); },
    });
  });
}

/** Primary side: collects, remembers and combines the workers' metrics. */
export class ClusterMetrics {
  readonly #asks = new Map<number, Pending<Snapshot>>();
  /** The latest snapshot of each live worker, by cluster worker id. */
  readonly #last = new Map<number, Snapshot>();
  readonly #live = new Set<number>();
  #retired: Snapshot = [];
  #nextId = 0;

  constructor() {
    cluster.on('exit', (worker) => this.#exited(worker));
    cluster.on('message', (worker, message: unknown) => {
      if (!isMessage(message)) return;
      if (message.vigil === 'metrics.ready') this.#live.add(worker.id); // it answers snapshot requests from now on
      else if (message.vigil === 'metrics.snapshot') {
        const ask = this.#asks.get(message.id);
        if (!ask) return; // timed out already
        if (message.error || !message.snapshot) return ask.reject(new Error(`worker ${worker.id}: ${message.error}`));
        this.#last.set(worker.id, message.snapshot);
        ask.resolve(message.snapshot);
      } else if (message.vigil === 'metrics.render') {
        const reply = (m: Message) => { if (worker.isConnected()) worker.send(m); };
        this.render(message.format).then(
          (exposition) => reply({ vigil: 'metrics.rendered', id: message.id, exposition }),
          (err: Error) => reply({ vigil: 'metrics.rendered', id: message.id, error: err.message }),
        );
      }
    });
  }

  /** Every live worker's metrics plus the totals of workers that exited, in `format`. */
  async render(format: MetricsFormat): Promise<Exposition> {
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected() && this.#live.has(w.id));
    await Promise.all(workers.map((worker) => this.#ask(worker)));
    // Read in one synchronous step: a worker that exited meanwhile is counted in #retired, not twice.
    const live = workers.flatMap((w) => (this.#live.has(w.id) && this.#last.has(w.id) ? [this.#last.get(w.id)!] : []));
    return renderSnapshots([...live, this.#retired], format);
  }

  #ask(worker: Worker): Promise<Snapshot> {
    const id = this.#nextId++;
    const answer = pending(this.#asks, id, SNAPSHOT_TIMEOUT_MS, `metrics of worker ${worker.id}`, worker.id);
    worker.send({ vigil: 'metrics.snapshot', id } satisfies Message);
    return answer;
  }

  #exited(worker: Worker): void {
    this.#live.delete(worker.id);
    const last = this.#last.get(worker.id);
    this.#last.delete(worker.id);
    if (last) this.#retired = retire(this.#retired, last);
    for (const ask of this.#asks.values()) if (ask.workerId === worker.id) ask.resolve([]);
  }
}

/** Worker side: answers the primary's snapshot requests from this process's registry. */
export function answerSnapshots(registry: Registry): void {
  process.on('message', (message: unknown) => {
    if (!isMessage(message) || message.vigil !== 'metrics.snapshot' || message.snapshot) return;
    const send = (m: Message) => { if (process.connected) process.send!(m); };
    snapshot(registry).then(
      (data) => send({ vigil: 'metrics.snapshot', id: message.id, snapshot: data }),
      (err: Error) => send({ vigil: 'metrics.snapshot', id: message.id, error: err.message }),
    );
  });
  // IPC messages that arrive before a listener exists are dropped: tell the primary when to start asking.
  if (process.connected) process.send!({ vigil: 'metrics.ready' } satisfies Message);
}

/** Worker side: the cluster-wide exposition, written by the primary. */
export function clusterRenderer(): (format: MetricsFormat) => Promise<Exposition> {
  const renders = new Map<number, Pending<Exposition>>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage(message) || message.vigil !== 'metrics.rendered') return;
    const render = renders.get(message.id);
    if (!render) return;
    if (message.exposition) render.resolve(message.exposition);
    else render.reject(new Error(message.error ?? 'no metrics'));
  });
  return (format) => {
    if (!process.connected) return Promise.reject(new Error('the cluster primary is gone'));
    const id = nextId++;
    const answer = pending(renders, id, SNAPSHOT_TIMEOUT_MS * 2, 'cluster metrics');
    process.send!({ vigil: 'metrics.render', id, format } satisfies Message);
    return answer;
  };
}
