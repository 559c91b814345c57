// Maximum throughput of several targets, interleaved round by round. This VM's speed drifts by 20–50 %
// within minutes (BENCHMARKS.md), so one run per target can put two targets in different phases; with
// rounds, every target meets every phase, and its median over the rounds is what is reported. Each round
// starts the target afresh, warms it up, measures it with wrk and stops it; the order rotates every round.
import { treeCpuSeconds } from './cpu.ts';
import { wrk } from './load.ts';
import { stop } from './procs.ts';
import type { Ctx, Target } from './targets.ts';

export interface MaxSample {
  rps: number;
  /** CPU of the proxy's process tree per request; null for direct (no proxy). */
  cpuUs: number | null;
}

export interface RoundsOptions {
  ctx: Ctx;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  loadCpu: number;
  bodyFile: string;
  log: (msg: string) => void;
}

export interface Rounds {
  /** By target name, one sample per round, in round order. */
  samples: Map<string, MaxSample[]>;
  /** Targets that failed (and were left out of later rounds), with the reason. */
  failed: Map<string, string>;
}

export async function maxThroughputRounds(targets: Target[], opts: RoundsOptions): Promise<Rounds> {
  const samples = new Map<string, MaxSample[]>(targets.map((t) => [t.name, []]));
  const failed = new Map<string, string>();
  for (let round = 0; round < opts.rounds; round++) {
    // Rotated each round, so no target always runs first (or right after another).
    const order = targets.map((_, i) => targets[(i + round) % targets.length]).filter((t) => !failed.has(t.name));
    for (const target of order) {
      try {
        const sample = await measureOnce(target, opts);
        samples.get(target.name)!.push(sample);
        opts.log(`round ${round + 1}/${opts.rounds} ${target.name}: ${Math.round(sample.rps)} req/s` +
          (sample.cpuUs === null ? '' : `, ${sample.cpuUs.toFixed(1)} µs CPU per request`));
      } catch (err) {
        opts.log(`round ${round + 1}/${opts.rounds} ${target.name}: failed: ${(err as Error).message}`);
        failed.set(target.name, (err as Error).message.slice(0, 2000));
        samples.delete(target.name);
      }
    }
  }
  return { samples, failed };
}

async function measureOnce(target: Target, opts: RoundsOptions): Promise<MaxSample> {
  const child = target.start ? await target.start(opts.ctx) : undefined;
  try {
    const load = (seconds: number) => wrk({ cpu: opts.loadCpu, url: target.json.url, headers: target.json.headers, bodyFile: opts.bodyFile, seconds, connections: opts.connections });
    await load(opts.warmupSeconds); // JIT warm-up
    const cpu0 = child ? treeCpuSeconds(child.pid!) : 0;
    const result = await load(opts.seconds);
    const errors = result.connect_errors + result.read_errors + result.write_errors + result.status_errors + result.timeouts;
    if (errors > 0) throw new Error(`${target.name}: ${errors} failed requests at maximum throughput`);
    const cpuUs = child ? ((treeCpuSeconds(child.pid!) - cpu0) * 1e6) / result.requests : null;
    return { rps: result.requests / (result.duration_us / 1e6), cpuUs };
  } finally {
    if (child) await stop(child);
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
