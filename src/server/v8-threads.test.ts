import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

// In a child process: renicing is per thread and cannot be undone without privileges.
const probe = (cpus: number) => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', `
  import { readdirSync, readFileSync } from 'node:fs';
  import { yieldV8ThreadsOnOneCpu } from ${JSON.stringify(new URL('./v8-threads.ts', import.meta.url).href)};
  const lowered = yieldV8ThreadsOnOneCpu(${cpus});
  const threads = readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
    return { name: readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim(), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
  });
  console.log(JSON.stringify({ lowered, threads }));
`], { encoding: 'utf8' })) as { lowered: number; threads: { name: string; nice: number }[] };

test('on one CPU, V8 worker threads drop to nice 10 and the event loop thread keeps its priority', { skip: process.platform !== 'linux' }, () => {
  const { lowered, threads } = probe(1);
  const workers = threads.filter((t) => t.name.startsWith('V8Worker'));
  assert.ok(workers.length > 0, 'Node starts V8 worker threads');
  assert.equal(lowered, workers.length);
  for (const t of workers) assert.equal(t.nice, 10, t.name);
  const base = threads[0].nice; // the main thread (the task list starts with it): whatever nice the test runs at
  for (const t of threads.filter((t) => !t.name.startsWith('V8Worker'))) assert.equal(t.nice, base, t.name);
});

test('with more than one CPU nothing changes', { skip: process.platform !== 'linux' }, () => {
  const { lowered, threads } = probe(2);
  assert.equal(lowered, 0);
  for (const t of threads) assert.equal(t.nice, threads[0].nice, t.name);
});
