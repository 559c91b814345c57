import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { toolInputFor } from './mock-tool-input.ts';

const TEXT = 'Find flights to Oslo';

test('every required property gets a value of its type; optional ones are left out', () => {
  const schema = {
    type: 'object',
    properties: {
      query: { type: 'string' },
      limit: { type: 'integer' },
      ratio: { type: 'number' },
      exact: { type: 'boolean' },
      cabin: { type: 'string', enum: ['economy', 'business'] },
      nothing: { type: 'null' },
      maybe: { type: ['null', 'string'] },
      optional: { type: 'string' },
    },
    required: ['query', 'limit', 'ratio', 'exact', 'cabin', 'nothing', 'maybe'],
  };
  assert.deepEqual(toolInputFor(schema, TEXT), { query: TEXT, limit: 1, ratio: 1, exact: true, cabin: 'economy', nothing: null, maybe: TEXT });
});

test('nested objects and arrays are filled recursively, with their own required properties', () => {
  const schema = {
    type: 'object',
    properties: {
      trip: {
        type: 'object',
        properties: {
          legs: { type: 'array', minItems: 2, items: { type: 'object', properties: { from: { type: 'string' }, stops: { type: 'integer', minimum: 0, maximum: 2 } }, required: ['from', 'stops'] } },
          tags: { type: 'array', items: { enum: ['a', 'b'] } },
          note: { type: 'string' },
        },
        required: ['legs', 'tags'],
      },
    },
    required: ['trip'],
  };
  const leg = { from: TEXT, stops: 1 };
  assert.deepEqual(toolInputFor(schema, TEXT), { trip: { legs: [leg, leg], tags: ['a'] } });
});

test('numbers stay inside their bounds, inclusive or exclusive', () => {
  const n = (bounds: object, type = 'integer') => toolInputFor({ type, ...bounds }, TEXT) as number;
  assert.equal(n({ minimum: 2, maximum: 14 }), 8);
  assert.equal(n({ minimum: 5, maximum: 5 }), 5);
  assert.equal(n({ exclusiveMinimum: 0, maximum: 1 }), 1);
  assert.equal(n({ minimum: 0, exclusiveMaximum: 1 }), 0);
  assert.equal(n({ minimum: 10 }), 11);
  assert.equal(n({ maximum: -3 }), -4);
  assert.equal(n({ exclusiveMinimum: 0, exclusiveMaximum: 1 }, 'number'), 0.5);
  assert.equal(n({ minimum: 2.5 }, 'number'), 3.5);
});

test('strings honour their length bounds; const, anyOf and array bounds are respected', () => {
  assert.equal(toolInputFor({ type: 'string', maxLength: 4 }, TEXT), 'Find');
  assert.equal(toolInputFor({ type: 'string', minLength: 3 }, ''), '...');
  assert.equal(toolInputFor({ const: 'fixed' }, TEXT), 'fixed');
  assert.equal(toolInputFor({ anyOf: [{ type: 'integer', minimum: 3 }, { type: 'string' }] }, TEXT), 4);
  assert.deepEqual(toolInputFor({ type: 'array', maxItems: 0, items: { type: 'string' } }, TEXT), []);
});

test('a free-form object gets the text as `input`; a closed one with no properties stays empty', () => {
  assert.deepEqual(toolInputFor({ type: 'object' }, TEXT), { input: TEXT });
  assert.deepEqual(toolInputFor({ type: 'object', additionalProperties: false }, TEXT), {});
});

test('what it makes validates against the schema (zod reads the JSON schema), and is the same every time', () => {
  const schema = {
    type: 'object',
    properties: {
      city: { type: 'string', minLength: 1, maxLength: 8 },
      nights: { type: 'integer', minimum: 1, maximum: 30 },
      unit: { type: 'string', enum: ['eur', 'usd'] },
      guests: { type: 'array', minItems: 1, items: { type: 'object', properties: { age: { type: 'integer', exclusiveMinimum: 17 } }, required: ['age'], additionalProperties: false } },
    },
    required: ['city', 'nights', 'unit', 'guests'],
    additionalProperties: false,
  };
  const input = toolInputFor(schema, TEXT);
  assert.ok(z.fromJSONSchema(schema as any).safeParse(input).success, JSON.stringify(input));
  assert.deepEqual(toolInputFor(schema, TEXT), input);
});
