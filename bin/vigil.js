#!/usr/bin/env node
// `npx vigil …`: on Node ≥ 24 run the TypeScript CLI in-process (type stripping); on an older system Node,
// re-run it on the project's pinned Node 24 and pass signals through so SIGTERM still drains.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'main.ts');

if (Number(process.versions.node.split('.')[0]) >= 24) {
  process.removeAllListeners('warning'); // node:sqlite is still flagged experimental
  await import(main);
} else {
  const pinned = join(root, 'node_modules', '.bin', 'node');
  const child = spawn(pinned, ['--disable-warning=ExperimentalWarning', main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
