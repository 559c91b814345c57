import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDirectives } from './log-directives.ts';

test('parseDirectives: a default level and per-module levels', () => {
  assert.deepEqual(parseDirectives('info,routing=debug'), { level: 'info', modules: { routing: 'debug' } });
  assert.deepEqual(parseDirectives(' warn , store=trace , server=silent '), { level: 'warn', modules: { store: 'trace', server: 'silent' } });
  assert.deepEqual(parseDirectives('routing=debug'), { level: 'info', modules: { routing: 'debug' } });
  assert.deepEqual(parseDirectives(''), { level: 'info', modules: {} });
  assert.deepEqual(parseDirectives('error'), { level: 'error', modules: {} });
});

test('parseDirectives: level names are case-insensitive', () => {
  assert.deepEqual(parseDirectives('DEBUG'), { level: 'debug', modules: {} });
  assert.deepEqual(parseDirectives('Warn,auth=TRACE'), { level: 'warn', modules: { auth: 'trace' } });
});

test('parseDirectives: an unknown level throws and names it as written', () => {
  assert.throws(() => parseDirectives('verbose'), /log level "verbose" is not one of trace, debug, info, warn, error, fatal, silent/);
  assert.throws(() => parseDirectives('info,routing=Loud'), /log level "Loud"/);
  assert.throws(() => parseDirectives('info,routing='), /log level ""/);
});
