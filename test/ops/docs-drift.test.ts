// Documentation that mirrors code must not drift: generated tables are current, and every config key
// in the schema is documented.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { z } from 'zod';
import { configSchema } from '../../src/config/schema.ts';
import { syncDocs } from '../../scripts/docs.ts';

test('docs/errors.md and docs/metrics.md match the error and metric catalogs (npm run docs)', () => {
  assert.deepEqual(syncDocs(false), []);
});

/** Dotted key paths of the config schema, with `<id>` for map keys and `[]` for list items. */
function keyPaths(schema: any, prefix: string): string[] {
  if (schema.anyOf || schema.oneOf) return (schema.anyOf ?? schema.oneOf).flatMap((s: any) => keyPaths(s, prefix));
  if (schema.type === 'array') return keyPaths(schema.items, `${prefix}[]`);
  if (schema.type === 'object' && schema.properties) {
    return Object.entries(schema.properties).flatMap(([key, sub]: [string, any]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      return [path, ...keyPaths(sub, path)];
    });
  }
  if (schema.type === 'object' && schema.additionalProperties) return keyPaths(schema.additionalProperties, `${prefix}.<id>`);
  return [];
}

test('every configuration key is documented in docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const paths = [...new Set(keyPaths(z.toJSONSchema(configSchema, { io: 'input' }), ''))];
  assert.ok(paths.length > 30, `found ${paths.length} keys`);
  const missing = paths.filter((p) => !doc.includes(`\`${p}\``));
  assert.deepEqual(missing, [], `undocumented keys: ${missing.join(', ')}`);
});

test('every metric docs/metrics.md names exists in the catalog, and every catalog metric is in its table', async () => {
  const { CATALOG } = await import('../../src/telemetry/metrics/catalog.ts');
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  const names = new Set<string>(Object.values(CATALOG).map((m) => m.name));
  const mentioned = new Set([...doc.matchAll(/`((?:vigil|process|nodejs)_[a-z0-9_]*[a-z0-9])\b(?![*_])/g)].map((m) => m[1].replace(/_(bucket|sum|count)$/, '')));
  const unknown = [...mentioned].filter((name) => !names.has(name));
  assert.deepEqual(unknown, [], `docs/metrics.md names metrics the catalog does not have: ${unknown.join(', ')}`);
  const missing = [...names].filter((name) => !doc.includes(`| \`${name}\` |`));
  assert.deepEqual(missing, [], `catalog metrics missing from the docs table: ${missing.join(', ')}`);
});
