import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateRequest } from './estimate.ts';
import { testContext } from '../../test/helpers/context.ts';

test('chat: characters / 4, rounded up, over system, messages (text parts, tool calls and results) and tools; max output from the body', () => {
  const openai = testContext({ body: {
    messages: [
      { role: 'system', content: 'abcd' }, // 4
      { role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'image_url', image_url: { url: 'data:...' } }] }, // 5
      { role: 'assistant', content: null, tool_calls: [{ function: { name: 'f', arguments: '{"a":1}' } }] }, // 1 + 7
    ],
    tools: [{ type: 'function' }], // 21 as JSON
    max_completion_tokens: 50, max_tokens: 70,
  } });
  // The bound: bytes, plus 8 framing tokens a message, plus 2,000 for the image.
  assert.deepEqual(estimateRequest(openai, 4096), { input: Math.ceil((4 + 5 + 8 + 21) / 4), inputBound: 4 + 5 + 8 + 21 + 3 * 8 + 2000, maxOutput: 50 });
  const anthropic = testContext({ dialect: 'anthropic', body: {
    system: [{ type: 'text', text: 'sys' }], // 3
    messages: [{ role: 'assistant', content: [{ type: 'tool_use', input: { q: 1 } }] }, { role: 'user', content: [{ type: 'tool_result', content: 'ok' }] }], // 7 + 2
    max_tokens: 9,
  } });
  assert.deepEqual(estimateRequest(anthropic, 4096), { input: 3, inputBound: 3 + 7 + 2 + 2 * 8, maxOutput: 9 });
  assert.equal(estimateRequest(testContext({ body: { messages: [] } }), 4096).maxOutput, 4096, 'no max_tokens: the configured default');
  assert.equal(estimateRequest(testContext({ body: { max_tokens: -1 } }), 10).maxOutput, 10);
});

test('embeddings: strings by characters, token arrays one per number; no output', () => {
  const ctx = (input: unknown) => testContext({ operation: 'embeddings', body: { input } });
  assert.deepEqual(estimateRequest(ctx('abcde'), 4096), { input: 2, inputBound: 5, maxOutput: 0 });
  assert.equal(estimateRequest(ctx(['abcd', 'abcd']), 4096).input, 2);
  assert.equal(estimateRequest(ctx([1, 2, 3]), 4096).input, 3);
  assert.equal(estimateRequest(ctx([[1, 2], [3]]), 4096).input, 3);
});

test('the bound counts bytes, so text of many bytes per character (CJK, emoji) is not underestimated', () => {
  const ctx = testContext({ body: { messages: [{ role: 'user', content: '日本語のテキスト😀' }] } });
  const { input, inputBound } = estimateRequest(ctx, 1);
  assert.equal(inputBound, Buffer.byteLength('日本語のテキスト😀') + 8);
  assert.ok(inputBound > input * 4, 'far above the characters / 4 guess, as a bound must be');
});
