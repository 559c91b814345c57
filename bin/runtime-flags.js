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
 * --invocation-count-for-turbofan=1000 (V8's default is 3000): until the hot request path runs as TurboFan
 * code, V8 stays in a mode where each scavenge promotes ~650 KB of request garbage instead of ~50 KB, with
 * 1.5–3.5 ms pauses instead of ~0.5 ms; with the default that lasts the first ~10,000 requests, and again
 * after the deoptimisations a new kind of client brings. 1000 ends it within ~3,000 and cost 8 % less CPU
 * per request in concurrent pairs; 400 was no better (BENCHMARKS.md, tenth session).
 *
 * --disable-warning=ExperimentalWarning: node:sqlite still prints one.
 */
export const RUNTIME_FLAGS = [
  '--max-semi-space-size=4', '--no-allocation-site-pretenuring', '--invocation-count-for-turbofan=1000', '--disable-warning=ExperimentalWarning',
];
