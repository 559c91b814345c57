// The import rules of docs/architecture.md ("Imports"), kept by a test: folders import one way
// (core ← config ← concern folders ← pipeline ← server ← cli ← main), concern folders import each other
// only along the edges listed below, and each third-party I/O library is imported by one folder only.
// Every import of src/**/*.ts is read with the TypeScript parser, so `import type` is told apart.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** Lowest first: a file may import its own folder and every folder of a lower layer. */
const LAYERS = [['core'], ['config'], ['surfaces', 'providers', 'routing', 'policy', 'store', 'telemetry'], ['pipeline', 'admin'], ['server'], ['cli'], ['main.ts']];

/** The edges allowed between folders of one layer; `type`: `import type` only, no module loaded at run time. */
const ACROSS: { from: string; to: string; only?: 'type'; why: string }[] = [
  { from: 'routing', to: 'providers', why: 'routing plans over the providers and calls them; its transport implements their Send port' },
  { from: 'routing', to: 'telemetry', only: 'type', why: 'a stage takes its module\'s debug logger (DebugLog), built by telemetry at start-up' },
  { from: 'policy', to: 'telemetry', only: 'type', why: 'as routing: the debug logger' },
  { from: 'routing', to: 'store', only: 'type', why: 'routing shares breaker openings (BreakerBus) and caches answers (ResponseCache) through the store ports' },
  { from: 'policy', to: 'store', only: 'type', why: 'policy reads keys, counters and budgets through the store ports' },
  { from: 'admin', to: 'pipeline', why: 'admin routes are ApiRoutes composed with the pipeline\'s compose and finish' },
];

/** Modules private to their folder even for higher layers; `why` names the reason. */
const PRIVATE: Record<string, { allowed: string[]; why: string }> = {
  'config/secrets.ts': { allowed: ['config/', 'cli/config-check.ts'], why: 'secrets are resolved once, in config/compile.ts (config check only masks them)' },
};

/** Package (or prefix) → the only source folders or files allowed to import it. The lead owns this table. */
const LIBRARIES: Record<string, string[]> = {
  undici: ['routing/upstream.ts'],
  'node:sqlite': ['store/'],
  pg: ['store/'],
  ioredis: ['store/'],
  'find-my-way': ['server/'],
  'prom-client': ['telemetry/'],
  pino: ['telemetry/'],
  'pino-pretty': ['telemetry/'],
  '@opentelemetry/': ['telemetry/'],
  '@grpc/': ['telemetry/'],
};

interface Import {
  spec: string;
  typeOnly: boolean;
}

/** Static imports and re-exports (with whether they are type-only) and dynamic `import()`s of one file. */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: Import[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly ?? false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0])) {
      found.push({ spec: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const folderOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);
const layerOf = (folder: string) => LAYERS.findIndex((layer) => layer.includes(folder));

/** Every broken rule in `files` (paths relative to src/), one line each. */
function violations(files: { file: string; text: string }[]): string[] {
  const found: string[] = [];
  for (const { file, text } of files) {
    const from = folderOf(file);
    if (layerOf(from) < 0) found.push(`${file}: src/${from} is in no layer (add it to LAYERS and to docs/architecture.md)`);
    for (const { spec, typeOnly } of importsOf(file, text)) {
      if (!spec.startsWith('.')) {
        const library = Object.keys(LIBRARIES).find((pkg) => spec === pkg || spec.startsWith(pkg.endsWith('/') ? pkg : `${pkg}/`));
        if (library && !LIBRARIES[library].some((owner) => file.startsWith(owner))) found.push(`${file} imports ${spec}: only ${LIBRARIES[library].join(', ')} may`);
        continue;
      }
      const target = normalize(join(dirname(file), spec));
      const to = folderOf(target);
      const owner = PRIVATE[target];
      if (owner && !owner.allowed.some((allowed) => file.startsWith(allowed))) found.push(`${file} imports ${target}: ${owner.why}`);
      if (to === from || layerOf(to) < layerOf(from)) continue;
      const edge = ACROSS.find((e) => e.from === from && e.to === to);
      if (!edge) found.push(`${file} imports ${target}: ${from}/ may not import ${to}/`);
      else if (edge.only === 'type' && !typeOnly) found.push(`${file} imports ${target} at run time: ${from}/ may only \`import type\` from ${to}/`);
    }
  }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const all = sources(SRC).map((path) => ({ file: relative(SRC, path), text: readFileSync(path, 'utf8') }));
// Tests assemble real components from several folders to exercise one: the rule is for the gateway's code.
const gateway = all.filter(({ file }) => !file.endsWith('.test.ts'));

test('every import in src/ follows the folder direction, the allowed edges and the library owners', () => {
  assert.ok(gateway.length > 50, `read ${gateway.length} files`);
  assert.deepEqual(violations(gateway), []);
});

test('the rule catches deliberate violations (and lets the allowed edges through)', () => {
  const check = (file: string, text: string) => violations([{ file, text }]);
  assert.deepEqual(check('surfaces/openai-chat.ts', "import { formatSse } from '../providers/shared/sse-parse.ts';"),
    ['surfaces/openai-chat.ts imports providers/shared/sse-parse.ts: surfaces/ may not import providers/']);
  assert.deepEqual(check('telemetry/health.ts', "import type { UsageLedger } from '../store/ports.ts';"),
    ['telemetry/health.ts imports store/ports.ts: telemetry/ may not import store/']);
  assert.deepEqual(check('core/context.ts', "export { x } from '../pipeline/finish.ts';"), ['core/context.ts imports pipeline/finish.ts: core/ may not import pipeline/']);
  assert.deepEqual(check('providers/registry.ts', "import { resolveSecret } from '../config/secrets.ts';"),
    ['providers/registry.ts imports config/secrets.ts: secrets are resolved once, in config/compile.ts (config check only masks them)']);
  assert.deepEqual(check('policy/authenticate.ts', "import { createLogs, type DebugLog } from '../telemetry/log.ts';"),
    ['policy/authenticate.ts imports telemetry/log.ts at run time: policy/ may only `import type` from telemetry/']);
  assert.deepEqual(check('store/sqlite/x.ts', "const m = await import('pino');"), ['store/sqlite/x.ts imports pino: only telemetry/ may']);
  assert.deepEqual(check('server/app.ts', "import { Pool } from 'undici';"), ['server/app.ts imports undici: only routing/upstream.ts may']);
  assert.deepEqual(check('wire/sse.ts', ''), ['wire/sse.ts: src/wire is in no layer (add it to LAYERS and to docs/architecture.md)']);

  assert.deepEqual(check('policy/authenticate.ts', "import type { DebugLog } from '../telemetry/log.ts';\nimport type { KeyLookup } from '../store/ports.ts';"), []);
  assert.deepEqual(check('routing/plan.ts', "import { x } from '../providers/provider.ts';\nimport { y } from '../config/schema.ts';"), []);
  assert.deepEqual(check('cli/serve.ts', "import { buildStores } from '../store/factory.ts';\nimport { serve } from './x.ts';"), []);
});

test('source files stay under the 500-line cap', () => {
  const long = all.map(({ file, text }) => [file, text.split('\n').length] as const).filter(([, lines]) => lines > 500);
  assert.deepEqual(long, []);
});
