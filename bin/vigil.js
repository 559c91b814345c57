#!/usr/bin/env node
// `npx vigil …` / `npm start`: runs the TypeScript CLI (Node ≥ 24 strips the types) with the flags of
// runtime-flags.js. When this process was not started with them (or runs on an older system Node), it
// re-runs itself on the right Node with them: the project's pinned Node 24 (the `node` devDependency)
// when the system Node is older. A production install (`npm ci --omit=dev`) has no pinned Node, so it
// needs Node 24 on the system; on an older one this says so in one line.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_FLAGS } from './runtime-flags.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'main.ts');
const modern = Number(process.versions.node.split('.')[0]) >= 24;
const pinned = join(root, 'node_modules', '.bin', 'node');

if (modern && RUNTIME_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  await import(main);
} else if (!modern && !existsSync(pinned)) {
  console.error(`vigil: Node.js 24 or newer is required, this is ${process.version} (${process.execPath}), and the pinned Node 24 (the "node" devDependency) is not installed: install Node.js 24, or install with dev dependencies (npm install)`);
  process.exit(1);
} else {
  // The gateway runs in a process group of its own (detached), so a signal sent to this whole group
  // (Ctrl-C, `kill -- -PGID`, `timeout`) reaches it once, forwarded from here, not a second time
  // directly. The IPC channel closes when this process dies, however it dies: the gateway then drains
  // rather than serve on as an orphan.
  const child = spawn(modern ? process.execPath : pinned, [...RUNTIME_FLAGS, main, ...process.argv.slice(2)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + constants.signals[signal]));
}
