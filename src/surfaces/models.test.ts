import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dialect } from '../core/canonical.ts';
import type { ModelTarget } from '../core/context.ts';
import type { GatewayError } from '../core/errors.ts';
import { renderModels } from './models.ts';
import { testContext } from '../../test/helpers/context.ts';

const MODELS: ModelTarget[] = [
  { name: 'gpt-4o', upstreamModel: 'gpt-4o', providerId: 'openai', deploymentId: 'test', type: 'chat' },
  { name: 'org/claude', upstreamModel: 'claude', providerId: 'anthropic', deploymentId: 'test', type: 'chat' },
];
const STARTED = new Date('2026-01-02T03:04:05.678Z');
const answer = renderModels(MODELS, STARTED);

function ask(dialect: Dialect, model?: string): any {
  const ctx = testContext({ route: '/v1/models', method: 'GET', dialect, body: model === undefined ? undefined : { model } });
  return JSON.parse(answer(ctx));
}

test("the list in OpenAI's shape, and in Anthropic's for Anthropic clients", () => {
  const created = Math.floor(STARTED.getTime() / 1000);
  assert.deepEqual(ask('openai'), {
    object: 'list',
    data: [
      { id: 'gpt-4o', object: 'model', created, owned_by: 'openai' },
      { id: 'org/claude', object: 'model', created, owned_by: 'anthropic' },
    ],
  });
  assert.deepEqual(ask('anthropic'), {
    data: [
      { type: 'model', id: 'gpt-4o', display_name: 'gpt-4o', created_at: '2026-01-02T03:04:05.000Z' },
      { type: 'model', id: 'org/claude', display_name: 'org/claude', created_at: '2026-01-02T03:04:05.000Z' },
    ],
    has_more: false, first_id: 'gpt-4o', last_id: 'org/claude',
  });
  assert.deepEqual(JSON.parse(renderModels([], STARTED)(testContext({ route: '/v1/models', method: 'GET', dialect: 'anthropic' }))), { data: [], has_more: false, first_id: null, last_id: null });
});

test('one model, as its list entry in either dialect; an unknown one is GW_MODEL_NOT_FOUND on param model', () => {
  assert.deepEqual(ask('openai', 'org/claude'), ask('openai').data[1]);
  assert.deepEqual(ask('anthropic', 'org/claude'), ask('anthropic').data[1]);
  for (const dialect of ['openai', 'anthropic'] as const) {
    assert.throws(() => ask(dialect, 'nope'), (err: GatewayError) => err.code === 'GW_MODEL_NOT_FOUND' && err.param === 'model' && err.status === 404);
  }
});
