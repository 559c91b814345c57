import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamEvent } from '../core/canonical.ts';
import type { GatewayError } from '../core/errors.ts';
import { encodeRequest as encodeAnthropicRequest } from '../providers/anthropic.ts';
import { parseSse } from '../core/sse.ts';
import { testContext } from '../../test/helpers/context.ts';
import { acceptOpenAIChat, decodeOpenAIChat, encodeOpenAIChat, encodeOpenAIChatStream } from './openai-chat.ts';

const contextWith = (body: Record<string, any>) => testContext({ body });

const AGENT_TURN = {
  model: 'claude-sonnet-4-5',
  messages: [
    { role: 'system', content: 'Be terse.' },
    { role: 'developer', content: [{ type: 'text', text: 'Use tools.' }] },
    { role: 'user', content: 'Weather in Paris and Rome?' },
    {
      role: 'assistant', content: null, tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '18C' },
    { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
    { role: 'user', content: 'Thanks. Which is warmer?' },
  ],
  tools: [{ type: 'function', function: { name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  tool_choice: 'required',
  temperature: 0.2,
  stop: 'END',
};

test('OpenAI request → canonical: system joined, tool calls and tool results as parts', () => {
  const req = decodeOpenAIChat(AGENT_TURN, 'anthropic');
  assert.equal(req.system, 'Be terse.\n\nUse tools.');
  assert.deepEqual(req.messages.map((m) => m.role), ['user', 'assistant', 'user', 'user', 'user']);
  assert.deepEqual(req.messages[1].content, [
    { type: 'tool_use', id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' },
    { type: 'tool_use', id: 'call_2', name: 'weather', arguments: '{"city":"Rome"}' },
  ]);
  assert.deepEqual(req.messages[3].content, [{ type: 'tool_result', toolUseId: 'call_2', content: '24C' }]);
  assert.deepEqual(req.stop, ['END']);
  assert.equal(req.toolChoice, 'required');
  assert.equal(req.maxTokens, undefined);
  assert.equal(req.stream, false);
});

test('OpenAI request → canonical → Anthropic request: alternating roles, tool blocks, defaults, tool_choice', () => {
  const body = encodeAnthropicRequest(decodeOpenAIChat(AGENT_TURN, 'anthropic'), 'claude-sonnet-4-5-20250929');
  assert.deepEqual(body, {
    model: 'claude-sonnet-4-5-20250929',
    max_tokens: 4096,
    system: 'Be terse.\n\nUse tools.',
    stream: false,
    temperature: 0.2,
    stop_sequences: ['END'],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant', content: [
          { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user', content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C', is_error: false },
          { type: 'tool_result', tool_use_id: 'call_2', content: '24C', is_error: false },
          { type: 'text', text: 'Thanks. Which is warmer?' },
        ],
      },
    ],
    tools: [{ name: 'weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    tool_choice: { type: 'any' },
  });
  const roles = (body.messages as { role: string }[]).map((m) => m.role);
  for (let i = 1; i < roles.length; i++) assert.notEqual(roles[i], roles[i - 1]);
});

test('tool_choice mapping and max_completion_tokens', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  const choice = (tool_choice: unknown) => encodeAnthropicRequest(decodeOpenAIChat({ ...base, tool_choice }, 'anthropic'), 'm').tool_choice;
  assert.deepEqual(choice('auto'), { type: 'auto' });
  assert.deepEqual(choice('none'), { type: 'none' });
  assert.deepEqual(choice({ type: 'function', function: { name: 'weather' } }), { type: 'tool', name: 'weather' });
  assert.equal(choice(undefined), undefined);
  assert.equal(encodeAnthropicRequest(decodeOpenAIChat({ ...base, max_completion_tokens: 77, max_tokens: 5 }, 'anthropic'), 'm').max_tokens, 77);
  assert.equal(encodeAnthropicRequest(decodeOpenAIChat({ ...base, max_tokens: 5 }, 'anthropic'), 'm').max_tokens, 5);
});

test('an assistant turn with content "" and tool_calls becomes an Anthropic message without empty text blocks', () => {
  // Anthropic rejects `{type:"text",text:""}` ("text content blocks must be non-empty"); OpenAI clients send content "" with tool_calls.
  const body = encodeAnthropicRequest(decodeOpenAIChat({
    model: 'm',
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'ok' },
    ],
  }, 'anthropic'), 'm');
  const assistant = (body.messages as { role: string; content: { type: string; text?: string }[] }[])[1];
  assert.deepEqual(assistant.content.map((b) => b.type), ['tool_use']);
});

test('acceptOpenAIChat: sets model, stream and usage flags', () => {
  const ctx = contextWith({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } });
  acceptOpenAIChat(ctx);
  assert.equal(ctx.requestedModel, 'gpt-4o');
  assert.equal(ctx.stream, true);
  assert.equal(ctx.streamUsage, true);
  const plain = contextWith({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: true } });
  acceptOpenAIChat(plain);
  assert.equal(plain.stream, false);
  assert.equal(plain.streamUsage, false);
});

test('validation errors carry GW_REQUEST_INVALID and the param', () => {
  const cases: [Record<string, any>, string][] = [
    [{ messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [{ model: '', messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [{ model: 'm' }, 'messages'],
    [{ model: 'm', messages: [] }, 'messages'],
    ...([
      [{ max_tokens: 0 }, 'max_tokens'], [{ max_tokens: -1 }, 'max_tokens'], [{ max_tokens: 2.5 }, 'max_tokens'], [{ max_tokens: '9' }, 'max_tokens'],
      [{ max_completion_tokens: 0 }, 'max_completion_tokens'], [{ temperature: 2.01 }, 'temperature'], [{ temperature: -1 }, 'temperature'],
      [{ top_p: 1.1 }, 'top_p'], [{ top_p: -0.5 }, 'top_p'], [{ n: 0 }, 'n'], [{ n: 1.5 }, 'n'],
    ] as const).map(([values, param]): [Record<string, any>, string] => [{ model: 'm', messages: [{ role: 'user', content: 'x' }], ...values }, param]),
  ];
  for (const [body, param] of cases) {
    assert.throws(() => acceptOpenAIChat(contextWith(body)), (err: GatewayError) => err.code === 'GW_REQUEST_INVALID' && err.param === param && err.status === 400, JSON.stringify(body));
  }
  // The edges, and null (unset), are accepted.
  const edges = { model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 1, max_completion_tokens: null, temperature: 2, top_p: 0, n: 1 };
  assert.doesNotThrow(() => acceptOpenAIChat(contextWith(edges)));
  const decodeCases: [Record<string, any>, string][] = [
    [{ model: 'm', messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }, 7] }, 'messages[1]'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }, 'temperature'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: '10' }, 'max_tokens'],
  ];
  for (const [body, param] of decodeCases) {
    assert.throws(() => decodeOpenAIChat(body, 'anthropic'), (err: GatewayError) => err.code === 'GW_REQUEST_INVALID' && err.param === param, param);
  }
  assert.throws(() => decodeOpenAIChat({ model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] }, 'anthropic'),
    (err: GatewayError) => err.code === 'GW_REQUEST_UNSUPPORTED' && err.param === 'messages[].content[].type');
});

test('encodeOpenAIChat: text, tool calls, finish reason and usage with cached tokens; ids minted in OpenAI form', () => {
  const result = {
    id: 'msg_1', model: 'up', finishReason: 'tool_calls' as const, usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 60 },
    content: [{ type: 'tool_use' as const, id: 'toolu_1', name: 'weather', arguments: '{"city":"Oslo"}' }],
  };
  const json = JSON.parse(encodeOpenAIChat(result, 'public-model'));
  assert.equal(json.object, 'chat.completion');
  assert.equal(json.model, 'public-model');
  assert.match(json.id, /^chatcmpl-[0-9a-f]{24}$/);
  const callId = json.choices[0].message.tool_calls[0].id;
  assert.match(callId, /^call_[0-9a-f]{24}$/);
  assert.deepEqual(json.choices[0], {
    index: 0, finish_reason: 'tool_calls',
    message: { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
  });
  const again = JSON.parse(encodeOpenAIChat(result, 'public-model'));
  assert.notEqual(again.id, json.id);
  assert.notEqual(again.choices[0].message.tool_calls[0].id, callId);
  assert.deepEqual(json.usage, { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 60 } });
});

async function* from(events: StreamEvent[]): AsyncGenerator<StreamEvent> {
  yield* events;
}

async function encodedChunks(events: StreamEvent[], includeUsage: boolean): Promise<string[]> {
  const parts: string[] = [];
  for await (const s of encodeOpenAIChatStream(from(events), 'pub', includeUsage)) parts.push(s);
  const data: string[] = [];
  for await (const e of parseSse((async function* () { yield Buffer.from(parts.join('')); })())) data.push(e.data);
  return data;
}

const STREAM: StreamEvent[] = [
  { type: 'start', id: 'msg_1', model: 'up' },
  { type: 'text', text: 'Hel' },
  { type: 'text', text: 'lo' },
  { type: 'tool_call', index: 0, id: 'toolu_9', name: 'weather' },
  { type: 'tool_args', index: 0, delta: '{"city":' },
  { type: 'tool_args', index: 0, delta: '"Oslo"}' },
  { type: 'finish', reason: 'tool_calls' },
  { type: 'usage', usage: { inputTokens: 11, outputTokens: 7, cachedInputTokens: 4 } },
];

test('encodeOpenAIChatStream: chunk sequence with usage chunk and [DONE] last', async () => {
  const data = await encodedChunks(STREAM, true);
  assert.equal(data.at(-1), '[DONE]');
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  const id = chunks[0].id;
  assert.match(id, /^chatcmpl-[0-9a-f]{24}$/, 'the id is minted in OpenAI form, not the upstream\'s');
  assert.ok(chunks.every((c) => c.id === id && c.object === 'chat.completion.chunk' && c.model === 'pub'));
  const callId = chunks[3].choices[0].delta.tool_calls[0].id;
  assert.match(callId, /^call_[0-9a-f]{24}$/);
  assert.deepEqual(chunks.slice(0, -1).map((c) => [c.choices[0].delta, c.choices[0].finish_reason]), [
    [{ role: 'assistant', content: '' }, null],
    [{ content: 'Hel' }, null],
    [{ content: 'lo' }, null],
    [{ tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: 'weather', arguments: '' } }] }, null],
    [{ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, null],
    [{ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }, null],
    [{}, 'tool_calls'],
  ]);
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, prompt_tokens_details: { cached_tokens: 4 } });
});

test('encodeOpenAIChatStream: no usage chunk unless asked for', async () => {
  const data = await encodedChunks(STREAM, false);
  assert.equal(data.length, 8);
  assert.equal(data.at(-1), '[DONE]');
  assert.ok(data.slice(0, -1).every((d) => JSON.parse(d).usage === undefined));
  assert.equal(JSON.parse(data[6]).choices[0].finish_reason, 'tool_calls');
});
