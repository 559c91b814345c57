#!/usr/bin/env node
// `npx vigil …` / `npm start`: runs the TypeScript CLI (Node ≥ 24 strips the types) with the runtime flags
// below. When this process was not started with them (or runs on an older system Node), it re-runs itself
// on the right Node with them and passes SIGTERM/SIGINT through, so a drain still works.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * --max-semi-space-size=4: V8 sizes the young generation from the machine's memory (tens of MB here), and
 * a scavenge of that much live proxy traffic paused the gateway for 17–25 ms; 4 MiB keeps each pause near
 * 1 ms for the same total GC time (measured: BENCHMARKS.md). node:sqlite still prints an experimental warning.
 */
export const RUNTIME_FLAGS = ['--max-semi-space-size=4', '--disable-warning=ExperimentalWarning'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'main.ts');
const modern = Number(process.versions.node.split('.')[0]) >= 24;

if (modern && RUNTIME_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  await import(main);
} else {
  const node = modern ? process.execPath : join(root, 'node_modules', '.bin', 'node');
  const child = spawn(node, [...RUNTIME_FLAGS, main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
