// Where a process's time went missing: every GC pause (PerformanceObserver) and every event-loop gap (a
// 1 ms timer that fired more than GAP_MS late, with the CPU time the process used meanwhile: close to
// the gap when it was busy, near zero when it was not running at all), as absolute epoch ms, written to
// $VIGIL_BENCH_STALLS_OUT at exit. Loaded into the gateway with `--import`; run on its own
// (`node stall-probe.mjs SECONDS`) it measures what an idle process on that core sees: the machine's floor.
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const GAP_MS = 2;
const out = process.env.VIGIL_BENCH_STALLS_OUT;
const now = () => performance.timeOrigin + performance.now();
const gcs = []; // [start, duration, kind]
const gaps = []; // [start, duration, CPU ms of the whole process meanwhile]
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push([performance.timeOrigin + e.startTime, e.duration, e.detail?.kind]);
}).observe({ entryTypes: ['gc'] });
let last = now();
let lastCpu = process.cpuUsage();
const tick = () => {
  const t = now();
  const cpu = process.cpuUsage();
  if (t - last > 1 + GAP_MS) gaps.push([last, t - last, (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000]);
  last = t;
  lastCpu = cpu;
  setTimeout(tick, 1).unref();
};
setTimeout(tick, 1).unref();
process.on('exit', () => { if (out) writeFileSync(out, JSON.stringify({ gcs, gaps })); });
if (process.argv[1] === import.meta.filename) setTimeout(() => process.exit(0), Number(process.argv[2]) * 1000); // run on its own
