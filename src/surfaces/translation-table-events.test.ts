// Walks the stream-event rows (`event:…`) of the translation table: every one has a case here (a row without
// one fails), and a case is of its row's mapping. An exact or approximate row's upstream event goes through the
// real path (the provider's stream decoder, the client surface's encoder, pipeline/encode.ts, and the server's
// reply, whose in-stream error a failure becomes) and the client gets what the row says; a passthrough row's
// event is relayed on the same dialect only; a refused row's event cannot arise, because every request that
// would cause it is refused with the 400 naming the field.
//
// The Anthropic-messages list holds Anthropic upstream events as an OpenAI client receives them; the
// openai-chat list OpenAI upstream chunks as an Anthropic client receives them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import type { Dialect } from '../core/canonical.ts';
import { TranslationRefusal } from '../core/canonical.ts';
import { toGatewayError } from '../core/errors.ts';
import { encodeChat } from '../pipeline/encode.ts';
import { createAnthropicProvider, encodeRequest as toAnthropic } from '../providers/anthropic.ts';
import { createOpenAIProvider, encodeRequest as toOpenAI } from '../providers/openai.ts';
import { NodeReply } from '../server/reply.ts';
import { testContext } from '../../test/helpers/context.ts';
import { inPieces, payloads, readSse, type SseEvent } from '../../test/helpers/sse.ts';
import { acceptAnthropicMessages, decodeAnthropicMessages } from './anthropic-messages.ts';
import { acceptOpenAIChat, decodeOpenAIChat } from './openai-chat.ts';
import { TRANSLATION_TABLE, type ClientApi } from './translation-table.ts';

type Body = Record<string, any>;

/** What a client of `client` dialect receives when an upstream of `upstream` dialect streams `wire`. */
async function clientReceives(client: Dialect, upstream: Dialect, wire: string, extra: Body = {}): Promise<SseEvent[]> {
  let out = '';
  const res = {
    destroyed: false, writableEnded: false,
    writeHead() {}, flushHeaders() {}, on() {}, off() {},
    write(chunk: string) { out += chunk; return true; },
    end(chunk?: string) { if (chunk) out += chunk; this.writableEnded = true; },
  };
  const route = client === 'openai' ? '/v1/chat/completions' : '/v1/messages';
  const body: Body = client === 'openai'
    ? { model: 'alias', messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra }
    : { model: 'alias', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra };
  const ctx = testContext({ route, dialect: client, body, reply: new NodeReply(res as unknown as ServerResponse, client, 'req-1') });
  if (client === 'openai') acceptOpenAIChat(ctx);
  else acceptAnthropicMessages(ctx);
  if (client !== upstream) ctx.chat = client === 'openai' ? decodeOpenAIChat(body, upstream) : decodeAnthropicMessages(body, upstream);
  const send = async () => ({ status: 200, headers: {}, chunks: inPieces(wire, 13), bytes: async () => Buffer.alloc(0), text: async () => '' });
  const init = { id: upstream, apiKey: 'k', headers: {}, unavailableReason: undefined, send };
  const provider = upstream === 'anthropic' ? createAnthropicProvider(init) : createOpenAIProvider({ ...init, kind: 'openai' });
  const attempt = ctx.addAttempt({ name: 'alias', upstreamModel: 'up', providerId: upstream, deploymentId: 'test', type: 'chat' });
  try { // as pipeline/endpoints.ts compose: a failure once the stream started is the reply's in-stream error
    ctx.output = await provider.chat(ctx, attempt);
    await encodeChat(ctx);
  } catch (err) {
    ctx.reply.fail(toGatewayError(err));
  }
  return readSse(new Response(out));
}

// ---- Anthropic upstream wire ----
const an = (event: string, data: Body) => `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
const AN_START = an('message_start', {
  message: { id: 'msg_up', type: 'message', role: 'assistant', model: 'up', content: [], stop_reason: null, usage: { input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 1 } },
});
const anBlock = (index: number, block: Body, ...deltas: Body[]) =>
  an('content_block_start', { index, content_block: block }) + deltas.map((delta) => an('content_block_delta', { index, delta })).join('') + an('content_block_stop', { index });
const anEnd = (stopReason = 'end_turn', usage: Body = { output_tokens: 3 }) => an('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage }) + an('message_stop', {});
const AN_TEXT = anBlock(0, { type: 'text', text: '' }, { type: 'text_delta', text: 'Hel' }, { type: 'text_delta', text: 'lo' });
const AN_TOOL = anBlock(1, { type: 'tool_use', id: 'toolu_up', name: 'get_weather', input: {} },
  { type: 'input_json_delta', partial_json: '{"city":' }, { type: 'input_json_delta', partial_json: '"Oslo"}' });

// ---- OpenAI upstream wire ----
const oaChunk = (delta: Body | undefined, finish: string | null = null, usage: Body | null = null) => `data: ${JSON.stringify({
  id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1, model: 'up',
  choices: delta ? [{ index: 0, delta, logprobs: null, finish_reason: finish }] : [], usage,
})}\n\n`;
const OA_ROLE = oaChunk({ role: 'assistant', content: '' });
const OA_USAGE = oaChunk(undefined, null, { prompt_tokens: 20, completion_tokens: 4, total_tokens: 24, prompt_tokens_details: { cached_tokens: 6 } });
const OA_DONE = 'data: [DONE]\n\n';
const oaEnd = (finish = 'stop') => oaChunk({}, finish) + OA_USAGE + OA_DONE;
const OA_TEXT = oaChunk({ content: 'Hel' }) + oaChunk({ content: 'lo' });
const OA_TOOL = oaChunk({ tool_calls: [{ index: 0, id: 'call_up', type: 'function', function: { name: 'get_weather', arguments: '' } }] })
  + oaChunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }) + oaChunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] });

/** OpenAI client, Anthropic upstream: the chunks' JSON ([DONE] as the string). */
const toOpenAIClient = async (wire: string, extra: Body = {}) => payloads(await clientReceives('openai', 'anthropic', wire, extra));
/** Anthropic client, OpenAI upstream: the event names and payloads. */
const toAnthropicClient = async (wire: string) => (await clientReceives('anthropic', 'openai', wire)).map((e) => ({ event: e.event, ...JSON.parse(e.data) }));
const deltas = (chunks: any[]) => chunks.filter((c) => c !== '[DONE]' && c.choices?.length).map((c) => c.choices[0].delta);
const finishes = (chunks: any[]) => chunks.filter((c) => c !== '[DONE]' && c.choices?.[0]?.finish_reason).map((c) => c.choices[0].finish_reason);
const names = (events: any[]) => events.map((e) => e.event);

/** A request an API's client could send that would make the upstream produce the event, and the row refusing it. */
interface Refusal { body: Body; param: string; field?: string }

type Case =
  | { mapping: 'exact' | 'approximate'; check: () => Promise<void> }
  | { mapping: 'passthrough'; sameDialect: () => Promise<void>; otherDialect: () => Promise<void> }
  | { mapping: 'refused'; refusedBy: Refusal[]; upstreamNeverAsked?: (upstream: Body) => void };

// These rows are Anthropic upstream events for OpenAI clients: what would cause them is an OpenAI client's request.
const THINKING: Refusal[] = [
  { body: { thinking: { type: 'enabled', budget_tokens: 1024 } }, param: 'thinking', field: '(unknown)' },
  { body: { reasoning_effort: 'high' }, param: 'reasoning_effort' },
];
const noThinking = (u: Body) => assert.ok(!('thinking' in u), 'no thinking asked upstream');

const ANTHROPIC_UPSTREAM: Record<string, Case> = {
  'event:message_start': {
    mapping: 'exact',
    async check() {
      const chunks = await toOpenAIClient(AN_START + AN_TEXT + anEnd(), { stream_options: { include_usage: true } });
      assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
      // message_delta brought only output_tokens: the input side is message_start's (10 + 5 cached).
      assert.deepEqual(chunks.at(-2).usage, { prompt_tokens: 15, completion_tokens: 3, total_tokens: 18, prompt_tokens_details: { cached_tokens: 5 } });
    },
  },
  'event:content_block_start.text': {
    mapping: 'exact',
    async check() {
      const chunks = await toOpenAIClient(AN_START + anBlock(0, { type: 'text', text: '' }) + anEnd());
      assert.deepEqual(deltas(chunks), [{ role: 'assistant', content: '' }, {}], 'the role chunk and the finish chunk only');
    },
  },
  'event:content_block_start.tool_use': {
    mapping: 'exact',
    async check() {
      const chunks = await toOpenAIClient(AN_START + anBlock(0, { type: 'tool_use', id: 'toolu_up', name: 'get_weather', input: {} }) + anEnd('tool_use'));
      const [call] = deltas(chunks)[1].tool_calls;
      assert.match(call.id, /^call_/);
      assert.deepEqual({ ...call, id: 'minted' }, { index: 0, id: 'minted', type: 'function', function: { name: 'get_weather', arguments: '' } });
    },
  },
  'event:content_block_delta.text_delta': {
    mapping: 'exact',
    async check() {
      assert.deepEqual(deltas(await toOpenAIClient(AN_START + AN_TEXT + anEnd())).slice(1, -1), [{ content: 'Hel' }, { content: 'lo' }]);
    },
  },
  'event:content_block_delta.input_json_delta': {
    mapping: 'exact',
    async check() {
      const args = deltas(await toOpenAIClient(AN_START + AN_TEXT + AN_TOOL + anEnd('tool_use'))).slice(4, -1);
      assert.deepEqual(args, [{ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }]);
    },
  },
  'event:content_block_start.thinking': { mapping: 'refused', refusedBy: THINKING, upstreamNeverAsked: noThinking },
  'event:content_block_start.redacted_thinking': { mapping: 'refused', refusedBy: THINKING, upstreamNeverAsked: noThinking },
  'event:content_block_delta.thinking_delta': { mapping: 'refused', refusedBy: THINKING, upstreamNeverAsked: noThinking },
  'event:content_block_delta.signature_delta': { mapping: 'refused', refusedBy: THINKING, upstreamNeverAsked: noThinking },
  'event:content_block_delta.citations_delta': {
    mapping: 'refused',
    refusedBy: [
      // An OpenAI client's documents are file parts; its web search, web_search_options.
      { body: { messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] }, param: 'messages[].content[].type' },
      { body: { web_search_options: {} }, param: 'web_search_options' },
      { body: { documents: [] }, param: 'documents', field: '(unknown)' },
    ],
    upstreamNeverAsked(u) {
      const blocks = u.messages.flatMap((m: Body) => m.content).map((b: Body) => b.type);
      assert.ok(blocks.every((t: string) => ['text', 'image', 'tool_use', 'tool_result'].includes(t)), `no documents upstream: ${blocks}`);
      assert.ok(u.tools.every((t: Body) => !('type' in t)), 'no server tools upstream');
    },
  },
  'event:content_block_stop': {
    mapping: 'exact',
    async check() {
      // Two blocks, two stops: nothing between the last text delta and the tool call, nor after the arguments.
      const d = deltas(await toOpenAIClient(AN_START + AN_TEXT + AN_TOOL + anEnd('tool_use')));
      assert.deepEqual(d.map((x) => Object.keys(x).join()), ['role,content', 'content', 'content', 'tool_calls', 'tool_calls', 'tool_calls', '']);
    },
  },
  'event:message_delta': {
    mapping: 'approximate',
    async check() {
      const expected: Record<string, string> = {
        end_turn: 'stop', stop_sequence: 'stop', pause_turn: 'stop', refusal: 'content_filter', max_tokens: 'length', tool_use: 'tool_calls',
      };
      for (const [reason, finish] of Object.entries(expected)) {
        const chunks = await toOpenAIClient(AN_START + AN_TEXT + anEnd(reason, { output_tokens: 7 }), { stream_options: { include_usage: true } });
        assert.deepEqual(finishes(chunks), [finish], reason);
        assert.deepEqual(chunks.at(-2).choices, [], 'then the usage chunk');
        assert.equal(chunks.at(-2).usage.completion_tokens, 7);
      }
      // Without include_usage the client gets no usage chunk.
      assert.ok(!(await toOpenAIClient(AN_START + AN_TEXT + anEnd())).some((c) => c !== '[DONE]' && c.usage));
    },
  },
  'event:message_stop': {
    mapping: 'exact',
    async check() {
      const chunks = await toOpenAIClient(AN_START + AN_TEXT + anEnd());
      assert.equal(chunks.at(-1), '[DONE]');
      assert.equal(chunks.filter((c) => c === '[DONE]').length, 1);
      // Without message_stop there is no [DONE]: the stream ends in an error instead.
      const cut = await toOpenAIClient(AN_START + AN_TEXT + an('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }));
      assert.ok(!cut.includes('[DONE]'));
      assert.equal(cut.at(-1).error.code, 'GW_UPSTREAM_PROTOCOL');
    },
  },
  'event:ping': {
    mapping: 'passthrough',
    async sameDialect() {
      const events = await clientReceives('anthropic', 'anthropic', AN_START + an('ping', {}) + AN_TEXT + anEnd());
      assert.deepEqual(events[1], { event: 'ping', data: '{"type":"ping"}' });
    },
    async otherDialect() {
      const without = await toOpenAIClient(AN_START + AN_TEXT + anEnd());
      const withPings = await toOpenAIClient(AN_START + an('ping', {}) + AN_TEXT + an('ping', {}) + anEnd());
      assert.deepEqual(withPings.map((c) => (c === '[DONE]' ? c : c.choices)), without.map((c) => (c === '[DONE]' ? c : c.choices)));
    },
  },
  'event:error': {
    mapping: 'exact',
    async check() {
      const error = an('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
      const events = await clientReceives('openai', 'anthropic', AN_START + AN_TEXT + error);
      const last = events.at(-1)!;
      assert.equal(last.event, undefined, 'a plain data line, as OpenAI streams their errors');
      assert.deepEqual(JSON.parse(last.data), { error: { message: 'Upstream provider failed: Overloaded', type: 'server_error', param: null, code: 'GW_UPSTREAM_SERVER_ERROR' } });
      assert.ok(!events.some((e) => e.data === '[DONE]'), 'never a clean end');
    },
  },
};

/** Requests using every field their client can send translated, for what they ask of the upstream. */
const OPENAI_FULL: Body = {
  model: 'alias', max_completion_tokens: 64, stream: true, stream_options: { include_usage: true }, temperature: 0.5, top_p: 0.9, stop: ['X'], n: 1, user: 'u',
  tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: 'auto', parallel_tool_calls: false,
  messages: [
    { role: 'developer', content: 'd' }, { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' },
  ],
};
const ANTHROPIC_FULL: Body = {
  model: 'alias', max_tokens: 64, stream: true, system: 's', temperature: 0.5, top_p: 0.9, stop_sequences: ['X'], metadata: { user_id: 'u' },
  tools: [{ name: 'f', input_schema: { type: 'object' } }], tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }],
};

const OPENAI_UPSTREAM: Record<string, Case> = {
  'event:delta.role': {
    mapping: 'approximate',
    async check() {
      const events = await toAnthropicClient(OA_ROLE + OA_TEXT + oaEnd());
      assert.equal(events[0].event, 'message_start');
      assert.match(events[0].message.id, /^msg_/);
      assert.deepEqual({ ...events[0].message, id: 'minted' }, {
        id: 'minted', type: 'message', role: 'assistant', model: 'alias', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 },
      });
      assert.equal(events.find((e) => e.event === 'message_delta').usage.input_tokens, 14, 'the whole input, at the end');
    },
  },
  'event:delta.content': {
    mapping: 'exact',
    async check() {
      const events = await toAnthropicClient(OA_ROLE + OA_TEXT + oaEnd());
      assert.deepEqual(events.slice(1, 5), [
        { event: 'content_block_start', type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { event: 'content_block_delta', type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
        { event: 'content_block_delta', type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } },
        { event: 'content_block_stop', type: 'content_block_stop', index: 0 },
      ]);
    },
  },
  'event:delta.tool_calls': {
    mapping: 'exact',
    async check() {
      const events = await toAnthropicClient(OA_ROLE + OA_TEXT + OA_TOOL + oaEnd('tool_calls'));
      const [start, ...rest] = events.slice(5, 9);
      assert.match(start.content_block.id, /^toolu_/);
      assert.deepEqual({ ...start.content_block, id: 'minted' }, { type: 'tool_use', id: 'minted', name: 'get_weather', input: {} });
      assert.equal(start.index, 1, 'a block after the text block');
      assert.deepEqual(rest, [
        { event: 'content_block_delta', type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
        { event: 'content_block_delta', type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Oslo"}' } },
        { event: 'content_block_stop', type: 'content_block_stop', index: 1 },
      ]);
    },
  },
  'event:delta.refusal': {
    mapping: 'refused',
    refusedBy: [
      { body: { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }, param: 'response_format', field: '(unknown)' },
      { body: { output_format: { type: 'json_schema', schema: {} } }, param: 'output_format', field: '(unknown)' },
    ],
    upstreamNeverAsked: (u) => assert.ok(!('response_format' in u), 'no structured output asked upstream'),
  },
  'event:logprobs': {
    mapping: 'refused',
    refusedBy: [
      { body: { logprobs: true }, param: 'logprobs', field: '(unknown)' },
      { body: { top_logprobs: 2 }, param: 'top_logprobs', field: '(unknown)' },
    ],
    upstreamNeverAsked: (u) => assert.ok(!('logprobs' in u) && !('top_logprobs' in u), 'no log probabilities asked upstream'),
  },
  'event:finish_reason': {
    mapping: 'approximate',
    async check() {
      const expected: Record<string, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' };
      for (const [finish, stopReason] of Object.entries(expected)) {
        const events = await toAnthropicClient(OA_ROLE + OA_TEXT + oaEnd(finish));
        assert.deepEqual(events.filter((e) => e.event === 'message_delta').map((e) => e.delta), [{ stop_reason: stopReason, stop_sequence: null }], finish);
      }
    },
  },
  'event:usage': {
    mapping: 'exact',
    async check() {
      const events = await toAnthropicClient(OA_ROLE + OA_TEXT + oaEnd());
      // prompt 20 of which 6 cached → 14 uncached input, 6 cache reads.
      assert.deepEqual(events.find((e) => e.event === 'message_delta').usage, { input_tokens: 14, cache_creation_input_tokens: 0, cache_read_input_tokens: 6, output_tokens: 4 });
    },
  },
  'event:[DONE]': {
    mapping: 'exact',
    async check() {
      const events = await toAnthropicClient(OA_ROLE + OA_TEXT + oaEnd());
      assert.deepEqual(names(events).slice(-2), ['message_delta', 'message_stop']);
      assert.equal(names(events).filter((n) => n === 'message_stop').length, 1);
      // A server that sends no usage chunk: [DONE] still ends the message.
      assert.deepEqual(names(await toAnthropicClient(OA_ROLE + OA_TEXT + oaChunk({}, 'stop') + OA_DONE)).slice(-2), ['message_delta', 'message_stop']);
    },
  },
  'event:error': {
    mapping: 'exact',
    async check() {
      const error = `data: ${JSON.stringify({ error: { message: 'The server had an error', type: 'server_error', param: null, code: null } })}\n\n`;
      const events = await clientReceives('anthropic', 'openai', OA_ROLE + OA_TEXT + error);
      const last = events.at(-1)!;
      assert.equal(last.event, 'error');
      assert.deepEqual(JSON.parse(last.data), { type: 'error', error: { type: 'api_error', message: 'Upstream provider failed: The server had an error' }, request_id: 'req-1' });
      assert.ok(!events.some((e) => e.event === 'message_stop'), 'never a clean end');
    },
  },
};

const WALKS: { api: ClientApi; cases: Record<string, Case>; client: Dialect; upstream: Dialect; base: Body; full: Body; translate: (body: Body) => Body }[] = [
  {
    api: 'anthropic-messages', cases: ANTHROPIC_UPSTREAM, client: 'openai', upstream: 'anthropic',
    base: { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }, full: OPENAI_FULL,
    translate: (b) => toAnthropic(decodeOpenAIChat(b, 'anthropic'), 'up'),
  },
  {
    api: 'openai-chat', cases: OPENAI_UPSTREAM, client: 'anthropic', upstream: 'openai',
    base: { model: 'c', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true }, full: ANTHROPIC_FULL,
    translate: (b) => toOpenAI(decodeAnthropicMessages(b, 'openai'), 'up'),
  },
];

for (const { api, cases, client, upstream, base, full, translate } of WALKS) {
  const eventRows = TRANSLATION_TABLE[api].filter((r) => r.name.startsWith('event:'));

  test(`${api}: every stream-event row of the table has a case, and every case a row`, () => {
    assert.deepEqual(Object.keys(cases).sort(), eventRows.map((r) => r.name).sort());
  });

  for (const row of eventRows) {
    const c = cases[row.name];
    const title = `${upstream} upstream → ${client} client: ${row.name}`;
    test(`${title}: its case is of the row's mapping (${row.mapping})`, () => assert.equal(c?.mapping, row.mapping));
    if (c?.mapping === 'exact' || c?.mapping === 'approximate') {
      test(`${title} maps ${c.mapping}ly: ${row.note}`, c.check);
    } else if (c?.mapping === 'passthrough') {
      test(`${title} is relayed to ${upstream} clients`, c.sameDialect);
      test(`${title} sends nothing to ${client} clients`, c.otherDialect);
    } else if (c?.mapping === 'refused') {
      test(`${title} cannot arise: every request that would cause it is refused, 400 naming the field`, () => {
        for (const { body, param, field = param } of c.refusedBy) {
          assert.throws(() => translate({ ...base, ...body }), (err: unknown) =>
            err instanceof TranslationRefusal && err.status === 400 && err.code === 'GW_REQUEST_UNSUPPORTED' && err.param === param && err.field === field, param);
        }
        c.upstreamNeverAsked?.(translate(full));
      });
    }
  }
}
