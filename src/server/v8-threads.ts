// On one CPU, V8's background threads (concurrent marking, parallel scavenging, optimising compiles) can
// only run by preempting the event loop. With the gateway pinned to one core at 1,000 req/s they stalled
// it for 15–50 ms at a time, several times a second (p99 7–27 ms); at nice 10 they mostly run in the time
// the event loop leaves idle (p99 4–4.6 ms), yet still get ~10 % of the core under saturation, so
// optimising compiles finish (nice 19 starves them there). With more CPUs they run beside the event loop
// and are left alone. Linux only: there the nice value belongs to a thread, and setpriority() on a thread
// id changes that thread alone.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, setPriority } from 'node:os';

const BACKGROUND_NICE = 10;

/** Lowers V8's worker threads to nice 10 when this process may use one CPU only; returns how many. */
export function yieldV8ThreadsOnOneCpu(cpus = availableParallelism()): number {
  if (cpus !== 1 || process.platform !== 'linux') return 0;
  let lowered = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (!readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith('V8Worker')) continue;
      setPriority(Number(tid), BACKGROUND_NICE);
      lowered++;
    } catch {
      // the thread ended between listing and renicing
    }
  }
  return lowered;
}
