import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouteTable, routeName, type RouteSpec } from './route-table.ts';

interface Named extends RouteSpec { id: string }
const table = () => new RouteTable<Named>([
  { method: 'POST', path: '/v1/chat/completions', id: 'chat' },
  { method: 'GET', path: '/v1/models', id: 'models' },
  { method: 'GET', path: '/v1/models/{model...}', id: 'model' },
]);
const id = (t: RouteTable<Named>, method: string, url: string) => t.find(method, url)?.route.id;

test('exact paths by method; GET routes answer HEAD; query strings are ignored', () => {
  const t = table();
  assert.equal(id(t, 'POST', '/v1/chat/completions'), 'chat');
  assert.equal(id(t, 'POST', '/v1/chat/completions?x=1'), 'chat');
  assert.equal(id(t, 'GET', '/v1/chat/completions'), undefined);
  assert.equal(id(t, 'HEAD', '/v1/models'), 'models');
  assert.equal(id(t, 'GET', '/v1/chat/completions/more'), undefined);
  assert.equal(id(t, 'GET', '/V1/models'), undefined, 'paths are case-sensitive');
});

test('{name...} takes the rest of the path, decoded; an empty rest is no match', () => {
  const t = table();
  assert.deepEqual({ ...t.find('GET', '/v1/models/org/model-a')?.params }, { model: 'org/model-a' });
  assert.deepEqual({ ...t.find('GET', '/v1/models/org%2Fmodel%20b?q=1')?.params }, { model: 'org/model b' });
  assert.equal(t.find('GET', '/v1/models/'), null);
  assert.equal(routeName('/v1/models/{model...}'), '/v1/models/{model}');
});

test('adding a route is one entry: /admin/keys/{id} matches one segment and coexists with deeper routes', () => {
  const t = table();
  t.add({ method: 'DELETE', path: '/admin/keys/{id}', id: 'revoke' });
  t.add({ method: 'POST', path: '/admin/keys/{id}/rotate', id: 'rotate' });
  assert.deepEqual({ ...t.find('DELETE', '/admin/keys/k-1')?.params }, { id: 'k-1' });
  assert.equal(id(t, 'POST', '/admin/keys/k-1/rotate'), 'rotate');
  assert.equal(t.find('DELETE', '/admin/keys/k-1/rotate'), null);
  assert.equal(id(t, 'GET', '/v1/models'), 'models', 'the earlier routes are untouched');
  assert.throws(() => t.add({ method: 'DELETE', path: '/admin/keys/{key}', id: 'twice' }));
  assert.throws(() => t.add({ method: 'GET', path: '/mcp/{server...}/tools', id: 'bad' }), /must end the path/);
});

test('a miss: 405 with the methods a known path answers to in Allow, else 404', () => {
  const t = table();
  t.add({ method: 'DELETE', path: '/v1/models/{model...}', id: 'delete-model' });
  const allow = (method: string, url: string) => t.miss(method, url).error.headers?.allow;
  assert.equal(allow('GET', '/v1/chat/completions'), 'POST');
  assert.equal(allow('POST', '/v1/models?x=1'), 'GET, HEAD');
  assert.equal(allow('PUT', '/v1/models/org/m'), 'GET, HEAD, DELETE');
  const wrongMethod = t.miss('PUT', '/v1/models/org/m?x=1');
  assert.equal(wrongMethod.error.code, 'GW_METHOD_NOT_ALLOWED');
  assert.equal(wrongMethod.error.status, 405);
  assert.equal(wrongMethod.error.detail, 'PUT /v1/models/org/m');
  assert.equal(wrongMethod.route?.id, 'model');
  const unknown = t.miss('GET', '/v1/nothing');
  assert.equal(unknown.error.code, 'GW_ROUTE_NOT_FOUND');
  assert.equal(unknown.route, undefined);
});
