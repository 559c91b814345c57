// The Node/V8 flags Vigil runs with: used by bin/vigil.js (npm start, npx vigil) and by the benchmarks,
// which start src/main.ts directly; package.json's start and vigil scripts spell them out (a test keeps
// the three in step).

/**
 * --max-semi-space-size=4: V8 sizes the young generation from the machine's memory (tens of MB here), and
 * a scavenge of that much live proxy traffic paused the gateway for 17–25 ms; 4 MiB keeps each pause near
 * 1 ms for the same total GC time.
 *
 * --no-allocation-site-pretenuring: under load many requests are in flight at each scavenge, so V8 sees
 * their objects survive and starts allocating them straight in the old generation, where every one is
 * garbage a few milliseconds later: 6.9 KB promoted per request and a mark-compact every 1.3 s at
 * saturation. Without it, 1.3–2 KB and one every 4–8 s (--trace-gc-nvp; BENCHMARKS.md).
 *
 * --disable-warning=ExperimentalWarning: node:sqlite still prints one.
 */
export const RUNTIME_FLAGS = ['--max-semi-space-size=4', '--no-allocation-site-pretenuring', '--disable-warning=ExperimentalWarning'];
