// Walks the translation table: every request row has a case here (a row without one fails), a refused row's
// case is refused naming the row, an exact or approximate row's case arrives upstream as the row says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dialect } from '../core/canonical.ts';
import { TranslationRefusal } from '../core/canonical.ts';
import { encodeRequest as toAnthropic } from '../providers/anthropic.ts';
import { encodeRequest as toOpenAI } from '../providers/openai.ts';
import { decodeAnthropicMessages } from './anthropic-messages.ts';
import { decodeOpenAIChat } from './openai-chat.ts';
import { TRANSLATION_TABLE, type ClientApi, UNKNOWN_FIELD } from './translation-table.ts';

type Body = Record<string, any>;
/** A request using the row's field, and for mapped rows what the upstream body must show. */
interface Case { body: Body; arrives?: (upstream: Body) => unknown; expected?: unknown }

const OA_BASE: Body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const AN_BASE: Body = { model: 'c', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
const user = (content: unknown[]) => ({ messages: [{ role: 'user', content }] });
const FN = { type: 'function', function: { name: 'f', parameters: { type: 'object' } } };
const last = (u: Body) => u.messages.at(-1);

const OPENAI: Record<string, Case> = {
  model: { body: {}, arrives: (u) => u.model, expected: 'upstream' },
  messages: { body: {}, arrives: (u) => u.messages, expected: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
  'messages[].role': { body: { messages: [{ role: 'developer', content: 'a' }, { role: 'system', content: 'b' }, { role: 'user', content: 'x' }] }, arrives: (u) => u.system, expected: 'a\n\nb' },
  max_tokens: { body: { max_tokens: 9 }, arrives: (u) => u.max_tokens, expected: 9 },
  max_completion_tokens: { body: { max_completion_tokens: 8, max_tokens: 9 }, arrives: (u) => u.max_tokens, expected: 8 },
  temperature: { body: { temperature: 0.5 }, arrives: (u) => u.temperature, expected: 0.5 },
  top_p: { body: { top_p: 0.9 }, arrives: (u) => u.top_p, expected: 0.9 },
  stop: { body: { stop: 'END' }, arrives: (u) => u.stop_sequences, expected: ['END'] },
  stream: { body: { stream: true }, arrives: (u) => u.stream, expected: true },
  stream_options: { body: { stream: true, stream_options: { include_usage: false } }, arrives: (u) => u.stream, expected: true },
  tools: { body: { tools: [FN] }, arrives: (u) => u.tools, expected: [{ name: 'f', description: undefined, input_schema: { type: 'object' } }] },
  tool_choice: { body: { tools: [FN], tool_choice: 'required' }, arrives: (u) => u.tool_choice, expected: { type: 'any' } },
  parallel_tool_calls: { body: { tools: [FN], parallel_tool_calls: false }, arrives: (u) => u.tool_choice, expected: { type: 'auto', disable_parallel_tool_use: true } },
  n: { body: { n: 1 }, arrives: (u) => 'n' in u, expected: false },
  user: { body: { user: 'u-1' }, arrives: (u) => u.metadata, expected: { user_id: 'u-1' } },
  'content[].text': { body: user([{ type: 'text', text: 't' }]), arrives: (u) => last(u).content, expected: [{ type: 'text', text: 't' }] },
  'content[].image_url': {
    body: user([{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'high' } }]),
    arrives: (u) => last(u).content, expected: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }],
  },
  logprobs: { body: { logprobs: true } },
  top_logprobs: { body: { top_logprobs: 2 } },
  audio: { body: { audio: { voice: 'alloy', format: 'mp3' } } },
  modalities: { body: { modalities: ['text', 'audio'] } },
  prediction: { body: { prediction: { type: 'content', content: 'x' } } },
  frequency_penalty: { body: { frequency_penalty: 0.5 } },
  presence_penalty: { body: { presence_penalty: 0.5 } },
  logit_bias: { body: { logit_bias: { 50256: -100 } } },
  seed: { body: { seed: 7 } },
  response_format: { body: { response_format: { type: 'json_object' } } },
  reasoning_effort: { body: { reasoning_effort: 'high' } },
  service_tier: { body: { service_tier: 'flex' } },
  store: { body: { store: true } },
  metadata: { body: { metadata: { tag: 'x' } } },
  web_search_options: { body: { web_search_options: {} } },
  functions: { body: { functions: [{ name: 'f' }] } },
  function_call: { body: { function_call: 'auto' } },
  prompt_cache_key: { body: { prompt_cache_key: 'k' } },
  safety_identifier: { body: { safety_identifier: 's' } },
  verbosity: { body: { verbosity: 'low' } },
  'messages[].name': { body: { messages: [{ role: 'user', name: 'ann', content: 'x' }] } },
  'messages[].role.function': { body: { messages: [{ role: 'user', content: 'x' }, { role: 'function', content: '1' }] } },
  'messages[].audio': { body: { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', audio: { id: 'a' } }] } },
  'messages[].refusal': { body: { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, refusal: 'no' }] } },
  'messages[].content[].type': { body: user([{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }]) },
};

const CACHE = { type: 'ephemeral' };
const ANTHROPIC: Record<string, Case> = {
  model: { body: {}, arrives: (u) => u.model, expected: 'upstream' },
  messages: { body: {}, arrives: (u) => u.messages, expected: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
  max_tokens: { body: { max_tokens: 7 }, arrives: (u) => u.max_tokens, expected: 7 },
  system: { body: { system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, arrives: (u) => u.messages[0], expected: { role: 'system', content: 'a\n\nb' } },
  temperature: { body: { temperature: 0.3 }, arrives: (u) => u.temperature, expected: 0.3 },
  top_p: { body: { top_p: 0.8 }, arrives: (u) => u.top_p, expected: 0.8 },
  stop_sequences: { body: { stop_sequences: ['X'] }, arrives: (u) => u.stop, expected: ['X'] },
  stream: { body: { stream: true }, arrives: (u) => [u.stream, u.stream_options], expected: [true, { include_usage: true }] },
  tools: { body: { tools: [{ name: 'f', input_schema: { type: 'object' } }] }, arrives: (u) => u.tools[0].function.parameters, expected: { type: 'object' } },
  tool_choice: { body: { tools: [{ name: 'f', input_schema: {} }], tool_choice: { type: 'any' } }, arrives: (u) => u.tool_choice, expected: 'required' },
  'tool_choice.disable_parallel_tool_use': {
    body: { tools: [{ name: 'f', input_schema: {} }], tool_choice: { type: 'auto', disable_parallel_tool_use: true } },
    arrives: (u) => [u.tool_choice, u.parallel_tool_calls], expected: ['auto', false],
  },
  metadata: { body: { metadata: { user_id: 'u-2' } }, arrives: (u) => u.user, expected: 'u-2' },
  'content[].text': { body: user([{ type: 'text', text: 't' }]), arrives: (u) => last(u).content, expected: [{ type: 'text', text: 't' }] },
  'content[].image': {
    body: user([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }]),
    arrives: (u) => last(u).content, expected: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
  },
  'content[].tool_use': {
    body: { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] }] },
    arrives: (u) => last(u).tool_calls, expected: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
  },
  'content[].tool_result': {
    body: user([{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }], is_error: true }]),
    arrives: (u) => last(u), expected: { role: 'tool', tool_call_id: 't1', content: 'ok' },
  },
  'tools[].type': { body: { tools: [{ type: 'web_search_20250305', name: 'web_search' }] } },
  thinking: { body: { thinking: { type: 'enabled', budget_tokens: 1024 } } },
  cache_control: { body: { system: [{ type: 'text', text: 's', cache_control: CACHE }] } },
  top_k: { body: { top_k: 5 } },
  service_tier: { body: { service_tier: 'auto' } },
  container: { body: { container: 'c1' } },
  mcp_servers: { body: { mcp_servers: [] } },
  context_management: { body: { context_management: {} } },
  'content[].thinking': { body: { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: 's' }] }] } },
  'content[].redacted_thinking': { body: { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'd' }] }] } },
  'content[].document': { body: user([{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'd' } }]) },
  'messages[].content[].type': { body: user([{ type: 'search_result', source: 's', title: 't', content: [] }]) },
};

const WALKS: { api: ClientApi; cases: Record<string, Case>; base: Body; target: Dialect; translate: (body: Body) => Body }[] = [
  { api: 'openai-chat', cases: OPENAI, base: OA_BASE, target: 'anthropic', translate: (b) => toAnthropic(decodeOpenAIChat(b, 'anthropic'), 'upstream') },
  { api: 'anthropic-messages', cases: ANTHROPIC, base: AN_BASE, target: 'openai', translate: (b) => toOpenAI(decodeAnthropicMessages(b, 'openai'), 'upstream') },
];

for (const { api, cases, base, target, translate } of WALKS) {
  const requestRows = TRANSLATION_TABLE[api].filter((r) => !r.name.startsWith('event:'));

  test(`${api}: every request row of the table has a case, and every case a row`, () => {
    assert.deepEqual(Object.keys(cases).sort(), requestRows.map((r) => r.name).sort());
  });

  for (const row of requestRows) {
    const { body, arrives, expected } = cases[row.name];
    if (row.mapping === 'refused') {
      test(`${api} → ${target}: ${row.name} is refused, 400 naming it`, () => {
        assert.throws(() => translate({ ...base, ...body }), (err: unknown) =>
          err instanceof TranslationRefusal && err.status === 400 && err.code === 'GW_REQUEST_UNSUPPORTED' && err.param === row.name && err.field === row.name);
      });
    } else {
      test(`${api} → ${target}: ${row.name} maps ${row.mapping}ly`, () => {
        assert.deepEqual(arrives!(translate({ ...base, ...body })), expected);
      });
    }
  }

  test(`${api}: a top-level field the table does not know is refused by its name, counted as ${UNKNOWN_FIELD}`, () => {
    assert.throws(() => translate({ ...base, brand_new_option: 1 }), (err: unknown) =>
      err instanceof TranslationRefusal && err.param === 'brand_new_option' && err.field === UNKNOWN_FIELD);
  });
}

test('openai-chat: values a row refuses past its range (n > 1, temperature > 1) are refused naming the row', () => {
  for (const [field, value] of [['n', 2], ['temperature', 1.5]] as const) {
    assert.throws(() => decodeOpenAIChat({ ...OA_BASE, [field]: value }, 'anthropic'), (err: unknown) => err instanceof TranslationRefusal && err.param === field);
  }
});

test('the mock (no dialect) gets every field: nothing to translate into', () => {
  assert.doesNotThrow(() => decodeAnthropicMessages({ ...AN_BASE, thinking: { type: 'enabled', budget_tokens: 1024 } }, undefined));
});

test('every row is one of the four mappings and says why', () => {
  for (const rows of Object.values(TRANSLATION_TABLE)) {
    for (const row of rows) {
      assert.ok(['exact', 'approximate', 'passthrough', 'refused'].includes(row.mapping), row.name);
      assert.ok(row.note.length > 0, row.name);
      if (row.mapping === 'refused' && !row.name.startsWith('event:')) assert.ok(row.refuseWhen, `${row.name}: a refused field says when`);
    }
  }
});
