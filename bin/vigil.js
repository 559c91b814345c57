#!/usr/bin/env node
// `npx vigil …` / `npm start`: runs the TypeScript CLI (Node ≥ 24 strips the types) with the flags of
// runtime-flags.js. When this process was not started with them (or runs on an older system Node), it
// re-runs itself on the right Node with them and passes SIGTERM/SIGINT through, so a drain still works.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_FLAGS } from './runtime-flags.js';

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
