// The dependency rules of DESIGN.md, kept by a test instead of a linter: each third-party I/O library is
// imported by one folder only, and core/ imports nothing of the gateway but itself.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** Package (or prefix) → the only source folders allowed to import it. */
const OWNERS: Record<string, string[]> = {
  undici: ['routing/upstream.ts'],
  'node:sqlite': ['store/'],
  'find-my-way': ['server/'],
  'prom-client': ['telemetry/'],
  pino: ['telemetry/'],
  'pino-pretty': ['telemetry/'],
  '@opentelemetry/': ['telemetry/'],
  '@grpc/': ['telemetry/'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = sources(SRC).map((path) => ({
  file: relative(SRC, path),
  imports: [...readFileSync(path, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map((m) => m[1] ?? m[2]),
}));

test('third-party I/O libraries are imported only by the folder that owns them', () => {
  const violations = files.flatMap(({ file, imports }) => imports.flatMap((spec) => {
    const owner = Object.keys(OWNERS).find((pkg) => spec === pkg || (pkg.endsWith('/') && spec.startsWith(pkg)));
    return owner && !OWNERS[owner].some((allowed) => file.startsWith(allowed)) ? [`${file} imports ${spec}`] : [];
  }));
  assert.ok(files.length > 30, `read ${files.length} files`);
  assert.deepEqual(violations, []);
});

test('core/ depends on nothing of the gateway but core/', () => {
  const violations = files
    .filter(({ file }) => file.startsWith('core/'))
    .flatMap(({ file, imports }) => imports.filter((spec) => spec.startsWith('../')).map((spec) => `${file} imports ${spec}`));
  assert.deepEqual(violations, []);
});

test('source files stay under the 500-line cap', () => {
  const long = sources(SRC).map((path) => [relative(SRC, path), readFileSync(path, 'utf8').split('\n').length] as const).filter(([, lines]) => lines > 500);
  assert.deepEqual(long, []);
});
