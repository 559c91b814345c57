// The model list and single models through both SDKs, each in its own shape; unknown paths answered in
// the asking SDK's error shape; and `GET /` pointing a newcomer at the API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { assertAnthropicError, assertOpenAIError } from '../helpers/errors.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { call, total } from '../helpers/scrape.ts';
import { rejectsAs } from '../helpers/stack.ts';

const KEY = 'sk-gateway-e2e-models';
const MODELS = ['mock-chat', 'org/mock-chat', 'mock-embedding'];
const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

let gateway: Gateway;
let openai: OpenAI;
let anthropic: Anthropic;
before(async () => {
  gateway = await startGateway({
    auth: { keys: [{ id: 'e2e', key: KEY }] },
    providers: { mock: { kind: 'mock' } },
    models: [
      { name: 'mock-chat', provider: 'mock' },
      { name: 'org/mock-chat', provider: 'mock' },
      { name: 'mock-embedding', provider: 'mock', type: 'embedding' },
    ],
  });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: KEY, maxRetries: 0 });
});
after(async () => { await gateway?.stop(); });

test('OpenAI SDK: models.retrieve answers one model in the list shape; an unknown id is a 404 with param model', async () => {
  const listed: OpenAI.Models.Model[] = [];
  for await (const model of openai.models.list()) listed.push(model);
  assert.deepEqual(listed.map((m) => m.id), MODELS);
  for (const id of MODELS) {
    const model = await openai.models.retrieve(id);
    assert.deepEqual(model, listed.find((m) => m.id === id), id);
  }
  assert.deepEqual(Object.keys(listed[0]).sort(), ['created', 'id', 'object', 'owned_by']);
  const err = await rejectsAs(openai.models.retrieve('gpt-nope'), OpenAI.NotFoundError);
  assertOpenAIError(err, 404, 'GW_MODEL_NOT_FOUND');
  assert.equal(err.param, 'model');
});

test("Anthropic SDK: models.list and models.retrieve answer in Anthropic's shape", async () => {
  const page = await anthropic.models.list();
  assert.equal(page.has_more, false);
  assert.equal(page.first_id, MODELS[0]);
  assert.equal(page.last_id, MODELS.at(-1));
  const ids: string[] = [];
  for await (const model of anthropic.models.list()) {
    assert.equal(model.type, 'model');
    assert.equal(model.display_name, model.id);
    assert.match(model.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Math.abs(Date.parse(model.created_at) - Date.now()) < 3_600_000, 'created at start-up');
    ids.push(model.id);
  }
  assert.deepEqual(ids, MODELS);
  const one = await anthropic.models.retrieve('org/mock-chat');
  assert.deepEqual(one, page.data[1]);
  const err = await rejectsAs(anthropic.models.retrieve('claude-nope'), Anthropic.NotFoundError);
  assertAnthropicError(err, 404, 'not_found_error');
});

test('the Anthropic SDK gets its own error shape on the models routes, e.g. a bad key', async () => {
  const stranger = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-wrong', maxRetries: 0 });
  assertAnthropicError(await rejectsAs(stranger.models.list(), Anthropic.AuthenticationError), 401, 'authentication_error');
});

test("unknown paths answer in the asking SDK's shape: Anthropic's under /v1/messages or with anthropic-version", async () => {
  const batches = await rejectsAs(anthropic.messages.batches.list(), Anthropic.NotFoundError);
  assertAnthropicError(batches, 404, 'not_found_error');
  const viaSdk = await rejectsAs(anthropic.get('/v1/nothing-here'), Anthropic.NotFoundError);
  assertAnthropicError(viaSdk, 404, 'not_found_error');

  const bare = await call(`${gateway.url}/v1/messages/batches`); // no anthropic-version
  assert.equal(bare.status, 404);
  assert.equal(JSON.parse(bare.body).type, 'error');
  assert.equal(bare.headers['request-id'], bare.headers['x-request-id']);

  const openaiNotFound = await rejectsAs(openai.get('/nothing-here'), OpenAI.NotFoundError);
  assertOpenAIError(openaiNotFound, 404, 'GW_ROUTE_NOT_FOUND');
});

test("a known path with the wrong method: 405 with Allow, in the route's dialect or, on routes both SDKs call, the asking one's", async () => {
  const messages = await call(`${gateway.url}/v1/messages`); // GET on a POST route, no anthropic-version
  assert.equal(messages.status, 405);
  assert.equal(messages.headers.allow, 'POST');
  assert.equal(messages.headers['x-should-retry'], 'false');
  assert.equal(messages.headers['request-id'], messages.headers['x-request-id']);
  assert.deepEqual(JSON.parse(messages.body).error, { type: 'invalid_request_error', message: 'This endpoint does not answer this method: GET /v1/messages' });

  const chat = await call(`${gateway.url}/v1/chat/completions?stream=true`, { method: 'GET' });
  assert.equal(chat.status, 405);
  assert.equal(chat.headers.allow, 'POST');
  assert.deepEqual(JSON.parse(chat.body).error, {
    message: 'This endpoint does not answer this method: GET /v1/chat/completions', type: 'invalid_request_error', param: null, code: 'GW_METHOD_NOT_ALLOWED',
  });

  const viaOpenAI = await rejectsAs(openai.post('/models/org/mock-chat', { body: {} }), OpenAI.APIError);
  assertOpenAIError(viaOpenAI, 405, 'GW_METHOD_NOT_ALLOWED');
  assert.equal(viaOpenAI.headers.get('allow'), 'GET, HEAD');
  const viaAnthropic = await rejectsAs(anthropic.delete('/v1/models/org/mock-chat'), Anthropic.APIError);
  assertAnthropicError(viaAnthropic, 405, 'invalid_request_error');
  assert.equal(viaAnthropic.headers.get('allow'), 'GET, HEAD');

  const metrics = await call(`${gateway.url}/metrics`, { method: 'POST' });
  assert.equal(metrics.status, 405, 'health and metrics routes come from the same table');
  assert.equal(metrics.headers.allow, 'GET, HEAD');
  const after = await call(`${gateway.url}/metrics`);
  assert.ok(total(after.body, 'vigil_http_requests_total', { route: 'unmatched', method: 'GET', status: '405' }) >= 2);
  assert.ok(total(after.body, 'vigil_http_requests_total', { route: 'unmatched', method: 'POST', status: '405' }) >= 2);
});

test('/v1/models/{model}: the parameter is the rest of the path, percent-decoded; an empty one names no route', async () => {
  for (const path of ['/v1/models/org/mock-chat', '/v1/models/org%2Fmock-chat?ignored=1']) {
    const res = await call(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(res.status, 200, path);
    assert.equal(JSON.parse(res.body).id, 'org/mock-chat', path);
  }
  const empty = await call(`${gateway.url}/v1/models/`, { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(empty.status, 404);
  assert.equal(JSON.parse(empty.body).error.code, 'GW_ROUTE_NOT_FOUND');
  const metrics = await call(`${gateway.url}/metrics`);
  assert.ok(total(metrics.body, 'vigil_http_requests_total', { route: '/v1/models/{model}', method: 'GET', status: '200' }) >= 2, 'counted under the pattern');
});

test('GET / points at the API, health, metrics and docs, and is counted like other routes', async () => {
  const answer = await call(`${gateway.url}/`);
  assert.equal(answer.status, 200);
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  const body = JSON.parse(answer.body);
  assert.equal(body.name, 'vigil');
  assert.equal(body.version, VERSION);
  assert.equal(body.openai_base_url, '/v1');
  assert.equal(body.anthropic_base_url, '/');
  assert.ok(body.routes.includes('POST /v1/chat/completions') && body.routes.includes('POST /v1/messages') && body.routes.includes('GET /v1/models/{model}'));
  assert.equal(body.readiness, '/readyz');
  assert.equal(body.metrics, '/metrics');
  assert.equal(typeof body.docs, 'string');
  const metrics = await call(`${gateway.url}/metrics`);
  assert.ok(total(metrics.body, 'vigil_http_requests_total', { route: '/', method: 'GET', status: '200' }) >= 1);
});
