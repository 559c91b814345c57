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
