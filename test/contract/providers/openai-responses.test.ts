// The Responses API upstream's decoder against fixtures/openai/responses.{json,sse}, written from OpenAI's
// API reference (no live recording; the JSON file cannot carry this note itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeResponse } from '../../../src/providers/openai-responses.ts';
import { fixtureJson } from './decode.ts';
import { readFixture } from '../../helpers/fake-upstream.ts';

test('responses.json → one text part, stop, usage with cached tokens', () => {
  assert.deepEqual(decodeResponse(fixtureJson('openai', 'responses')), {
    id: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b', model: 'gpt-4.1-2025-04-14',
    content: [{ type: 'text', text: 'The capital of Norway is Oslo.' }],
    finishReason: 'stop',
    usage: { inputTokens: 1342, outputTokens: 8, cachedInputTokens: 1280 },
  });
});

test('responses.sse: numbered events, and response.completed decodes to the text, the call and usage', () => {
  const events = readFixture('openai', 'responses', true).toString('utf8').split('\n')
    .filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)));
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  const completed = events.at(-1);
  assert.equal(completed.type, 'response.completed');
  assert.deepEqual(decodeResponse(completed.response), {
    id: completed.response.id, model: 'gpt-4.1-2025-04-14',
    content: [
      { type: 'text', text: 'Let me check the weather in Oslo.' },
      { type: 'tool_use', id: 'call_Xk3pQ9vR2mT7bN1sLw8yD4eH', name: 'get_weather', arguments: '{"location":"Oslo, Norway"}' },
    ],
    finishReason: 'tool_calls',
    usage: { inputTokens: 214, outputTokens: 31, cachedInputTokens: 128 },
  });
});
