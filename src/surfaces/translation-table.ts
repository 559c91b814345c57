// The one translation table: for every request field and stream event of each client dialect, what happens
// when the provider speaks the other dialect. Same dialect, everything passes through untouched (the model
// name aside). The decoders check requests against these rows (`refuseUntranslatable`), so a field the table
// refuses is refused, and a top-level field the table does not know is refused too: nothing is dropped
// silently. docs/translation.md renders the table; translation-table.test.ts walks it.
import { TranslationRefusal, type Dialect } from '../core/canonical.ts';

/**
 * `exact`: same meaning on the other side. `approximate`: carried, with the difference in `note`.
 * `passthrough`: same dialect only; carries nothing the other dialect could show (stream keep-alives).
 * `refused`: a 400 GW_REQUEST_UNSUPPORTED naming `name` (the `param`, and the refusal metric's field label).
 */
export type Mapping = 'exact' | 'approximate' | 'passthrough' | 'refused';

export interface Row {
  /** A request field (`tools`, `messages[].name`, `content[].thinking`) or a stream event (`event:…`). */
  name: string;
  mapping: Mapping;
  note: string;
  /** When the request cannot be translated because of this row (a `refused` row: when the field is used). */
  refuseWhen?: (body: Record<string, any>) => boolean;
}

/** The client APIs with rows. `openai-responses` (branch `responses`) adds its own list here. */
export type ClientApi = 'openai-chat' | 'anthropic-messages';

const set = (v: unknown): boolean => v !== undefined && v !== null;
const messagesOf = (body: Record<string, any>): any[] => (Array.isArray(body.messages) ? body.messages : []);
const partsOf = (body: Record<string, any>): any[] => messagesOf(body).flatMap((m) => (Array.isArray(m?.content) ? m.content : []));
const hasPart = (type: string) => (body: Record<string, any>) => partsOf(body).some((p) => p?.type === type);
const refusedField = (note: string) => ({ mapping: 'refused' as const, note });

/** `cache_control` can sit on system blocks, tools, message content blocks and tool_result contents. */
function usesCacheControl(body: Record<string, any>): boolean {
  const marked = (x: any) => x !== null && typeof x === 'object' && set(x.cache_control);
  if (set(body.cache_control)) return true;
  if (Array.isArray(body.system) && body.system.some(marked)) return true;
  if (Array.isArray(body.tools) && body.tools.some(marked)) return true;
  return partsOf(body).some((p) => marked(p) || (Array.isArray(p?.content) && p.content.some(marked)));
}

const ANTHROPIC_BLOCKS = new Set(['text', 'image', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking', 'document']);

const ANTHROPIC_MESSAGES: Row[] = [
  { name: 'model', mapping: 'exact', note: 'replaced by the deployment\'s upstream model' },
  { name: 'messages', mapping: 'exact', note: 'user/assistant turns; tool_result blocks become `tool` messages' },
  { name: 'max_tokens', mapping: 'exact', note: '→ max_tokens' },
  { name: 'system', mapping: 'approximate', note: 'a string is exact; text blocks are joined with a blank line into one system message' },
  { name: 'temperature', mapping: 'exact', note: 'Anthropic\'s 0–1 lies within OpenAI\'s 0–2' },
  { name: 'top_p', mapping: 'exact', note: '→ top_p' },
  { name: 'stop_sequences', mapping: 'exact', note: '→ stop' },
  { name: 'stream', mapping: 'exact', note: 'the upstream stream always asks for usage (stream_options.include_usage)' },
  { name: 'tools', mapping: 'exact', note: 'custom tools: name, description, input_schema → function tools' },
  {
    name: 'tools[].type', mapping: 'refused', note: 'server tools (web search, code execution, bash…) have no chat-completions counterpart',
    refuseWhen: (b) => Array.isArray(b.tools) && b.tools.some((t: any) => set(t?.type) && t.type !== 'custom'),
  },
  { name: 'tool_choice', mapping: 'exact', note: 'auto, any → required, none, tool → a named function' },
  { name: 'tool_choice.disable_parallel_tool_use', mapping: 'exact', note: 'true → parallel_tool_calls: false' },
  { name: 'metadata', mapping: 'approximate', note: 'metadata.user_id → user; OpenAI keeps it as an end-user id for abuse monitoring' },
  { ...refusedField('extended thinking has no chat-completions counterpart (reasoning_effort sets no budget and returns no signed blocks)'), name: 'thinking', refuseWhen: (b) => set(b.thinking) && b.thinking.type !== 'disabled' },
  {
    ...refusedField('OpenAI caches prompts automatically, with no per-block marker and no write: it is not a mapping, so the marks would be lost'),
    name: 'cache_control', refuseWhen: usesCacheControl,
  },
  { ...refusedField('Anthropic-only: no OpenAI top_k'), name: 'top_k', refuseWhen: (b) => set(b.top_k) },
  { ...refusedField('Anthropic\'s tiers are not OpenAI\'s'), name: 'service_tier', refuseWhen: (b) => set(b.service_tier) },
  { ...refusedField('Anthropic code-execution containers'), name: 'container', refuseWhen: (b) => set(b.container) },
  { ...refusedField('Anthropic\'s MCP connector'), name: 'mcp_servers', refuseWhen: (b) => set(b.mcp_servers) },
  { ...refusedField('Anthropic context editing'), name: 'context_management', refuseWhen: (b) => set(b.context_management) },
  { name: 'content[].text', mapping: 'exact', note: 'text parts; `citations` on them are refused with content[].document' },
  { name: 'content[].image', mapping: 'exact', note: 'base64 → a data: URL, url → url (image_url parts)' },
  { name: 'content[].tool_use', mapping: 'exact', note: 'assistant tool_calls; the input object → JSON arguments' },
  { name: 'content[].tool_result', mapping: 'approximate', note: 'a `tool` message with the text of its content; is_error is not carried (OpenAI has none)' },
  {
    ...refusedField('signed reasoning cannot be replayed to OpenAI; dropping it would change the conversation'),
    name: 'content[].thinking', refuseWhen: hasPart('thinking'),
  },
  { ...refusedField('encrypted reasoning only Anthropic can read'), name: 'content[].redacted_thinking', refuseWhen: hasPart('redacted_thinking') },
  {
    ...refusedField('documents and citations have no chat-completions counterpart'),
    name: 'content[].document', refuseWhen: (b) => hasPart('document')(b) || partsOf(b).some((p) => set(p?.citations)),
  },
  {
    ...refusedField('any other block type (server tool results, search results, containers…)'),
    name: 'messages[].content[].type', refuseWhen: (b) => partsOf(b).some((p) => !ANTHROPIC_BLOCKS.has(p?.type)),
  },
  // Stream events of an Anthropic upstream, as an OpenAI client receives them.
  { name: 'event:message_start', mapping: 'exact', note: 'the first chunk (role: assistant); its input usage is kept for the final usage chunk' },
  { name: 'event:content_block_start.text', mapping: 'exact', note: 'nothing to send: the text arrives in deltas' },
  { name: 'event:content_block_start.tool_use', mapping: 'exact', note: 'a tool_calls delta with the name (the id minted as call_…)' },
  { name: 'event:content_block_delta.text_delta', mapping: 'exact', note: '→ delta.content' },
  { name: 'event:content_block_delta.input_json_delta', mapping: 'exact', note: '→ delta.tool_calls[].function.arguments' },
  { name: 'event:content_block_start.thinking', mapping: 'refused', note: 'arises only from the request field `thinking`, refused' },
  { name: 'event:content_block_start.redacted_thinking', mapping: 'refused', note: 'arises only from the request field `thinking`, refused' },
  { name: 'event:content_block_delta.thinking_delta', mapping: 'refused', note: 'arises only from the request field `thinking`, refused' },
  { name: 'event:content_block_delta.signature_delta', mapping: 'refused', note: 'arises only from the request field `thinking`, refused' },
  { name: 'event:content_block_delta.citations_delta', mapping: 'refused', note: 'arises only from documents with citations, refused' },
  { name: 'event:content_block_stop', mapping: 'exact', note: 'nothing to send: chat chunks have no block end' },
  { name: 'event:message_delta', mapping: 'approximate', note: 'finish_reason (end_turn, stop_sequence, pause_turn → stop; refusal → content_filter) and the usage chunk' },
  { name: 'event:message_stop', mapping: 'exact', note: '→ data: [DONE]' },
  { name: 'event:ping', mapping: 'passthrough', note: 'a keep-alive: relayed to Anthropic clients, nothing to send to OpenAI ones' },
  { name: 'event:error', mapping: 'exact', note: 'the gateway\'s in-stream error in the client\'s shape' },
];

const OPENAI_PARTS = new Set(['text', 'image_url']);

const OPENAI_CHAT: Row[] = [
  { name: 'model', mapping: 'exact', note: 'replaced by the deployment\'s upstream model' },
  { name: 'messages', mapping: 'exact', note: 'user/assistant turns, tool_calls → tool_use blocks, `tool` messages → tool_result blocks' },
  { name: 'messages[].role', mapping: 'approximate', note: 'system and developer messages are joined into Anthropic\'s one system prompt' },
  { name: 'max_tokens', mapping: 'approximate', note: '→ max_tokens; absent, 4096 (Anthropic requires a value)' },
  { name: 'max_completion_tokens', mapping: 'approximate', note: '→ max_tokens, preferred over max_tokens' },
  {
    name: 'temperature', mapping: 'exact', note: 'within Anthropic\'s 0–1; above 1 refused (OpenAI allows up to 2)',
    refuseWhen: (b) => typeof b.temperature === 'number' && b.temperature > 1,
  },
  { name: 'top_p', mapping: 'exact', note: '→ top_p' },
  { name: 'stop', mapping: 'exact', note: 'a string or a list → stop_sequences' },
  { name: 'stream', mapping: 'exact', note: 'Anthropic streams always carry usage' },
  { name: 'stream_options', mapping: 'exact', note: 'include_usage: whether the client sees the usage chunk (the gateway always records it)' },
  { name: 'tools', mapping: 'approximate', note: 'function tools → name, description, input_schema; `strict` is not carried (Anthropic has no strict mode here)' },
  { name: 'tool_choice', mapping: 'exact', note: 'auto, none, required → any, a named function → tool' },
  { name: 'parallel_tool_calls', mapping: 'exact', note: 'false → tool_choice.disable_parallel_tool_use: true' },
  { name: 'n', mapping: 'exact', note: 'n: 1 only; more refused (Anthropic answers one choice)', refuseWhen: (b) => typeof b.n === 'number' && b.n > 1 },
  { name: 'user', mapping: 'approximate', note: '→ metadata.user_id (Anthropic\'s opaque end-user id)' },
  { ...refusedField('Anthropic returns no log probabilities'), name: 'logprobs', refuseWhen: (b) => b.logprobs === true },
  { ...refusedField('Anthropic returns no log probabilities'), name: 'top_logprobs', refuseWhen: (b) => set(b.top_logprobs) },
  { ...refusedField('Anthropic has no audio output'), name: 'audio', refuseWhen: (b) => set(b.audio) },
  { ...refusedField('Anthropic has no audio output'), name: 'modalities', refuseWhen: (b) => Array.isArray(b.modalities) && b.modalities.some((m: unknown) => m !== 'text') },
  { ...refusedField('no predicted outputs at Anthropic'), name: 'prediction', refuseWhen: (b) => set(b.prediction) },
  { ...refusedField('no frequency penalty at Anthropic'), name: 'frequency_penalty', refuseWhen: (b) => set(b.frequency_penalty) && b.frequency_penalty !== 0 },
  { ...refusedField('no presence penalty at Anthropic'), name: 'presence_penalty', refuseWhen: (b) => set(b.presence_penalty) && b.presence_penalty !== 0 },
  { ...refusedField('no token bias at Anthropic'), name: 'logit_bias', refuseWhen: (b) => set(b.logit_bias) && Object.keys(b.logit_bias).length > 0 },
  { ...refusedField('Anthropic has no seeded sampling'), name: 'seed', refuseWhen: (b) => set(b.seed) },
  {
    ...refusedField('JSON mode and JSON schema output have no exact Anthropic messages counterpart'),
    name: 'response_format', refuseWhen: (b) => set(b.response_format) && b.response_format.type !== 'text',
  },
  { ...refusedField('an effort is not a thinking budget, and OpenAI clients cannot carry signed thinking back'), name: 'reasoning_effort', refuseWhen: (b) => set(b.reasoning_effort) },
  { ...refusedField('OpenAI\'s tiers are not Anthropic\'s'), name: 'service_tier', refuseWhen: (b) => set(b.service_tier) },
  { ...refusedField('stored completions are OpenAI\'s'), name: 'store', refuseWhen: (b) => b.store === true },
  { ...refusedField('stored-completion tags; Anthropic\'s metadata holds only user_id'), name: 'metadata', refuseWhen: (b) => set(b.metadata) },
  { ...refusedField('OpenAI\'s built-in web search'), name: 'web_search_options', refuseWhen: (b) => set(b.web_search_options) },
  { ...refusedField('the deprecated function-calling API: use tools'), name: 'functions', refuseWhen: (b) => set(b.functions) },
  { ...refusedField('the deprecated function-calling API: use tool_choice'), name: 'function_call', refuseWhen: (b) => set(b.function_call) },
  {
    ...refusedField('a routing hint for OpenAI\'s automatic caching; Anthropic caches only blocks marked cache_control: not a mapping'),
    name: 'prompt_cache_key', refuseWhen: (b) => set(b.prompt_cache_key),
  },
  { ...refusedField('an OpenAI abuse-monitoring id'), name: 'safety_identifier', refuseWhen: (b) => set(b.safety_identifier) },
  { ...refusedField('no verbosity control at Anthropic'), name: 'verbosity', refuseWhen: (b) => set(b.verbosity) },
  { ...refusedField('Anthropic messages have no participant names'), name: 'messages[].name', refuseWhen: (b) => messagesOf(b).some((m) => set(m?.name)) },
  {
    ...refusedField('the deprecated `function` role: use tool messages'),
    name: 'messages[].role.function', refuseWhen: (b) => messagesOf(b).some((m) => m?.role === 'function'),
  },
  { ...refusedField('audio replies cannot be replayed to Anthropic'), name: 'messages[].audio', refuseWhen: (b) => messagesOf(b).some((m) => set(m?.audio)) },
  { ...refusedField('a refusal turn has no Anthropic form'), name: 'messages[].refusal', refuseWhen: (b) => messagesOf(b).some((m) => set(m?.refusal)) },
  { name: 'content[].text', mapping: 'exact', note: '→ text blocks' },
  { name: 'content[].image_url', mapping: 'approximate', note: 'data: URLs → base64 image blocks, others → url image blocks; `detail` is not carried' },
  {
    ...refusedField('input_audio, file and other part types'),
    name: 'messages[].content[].type', refuseWhen: (b) => partsOf(b).some((p) => !OPENAI_PARTS.has(p?.type)),
  },
  // Stream chunks of an OpenAI-dialect upstream, as an Anthropic client receives them.
  { name: 'event:delta.role', mapping: 'approximate', note: 'message_start; its input usage is 0 (OpenAI reports usage only at the end), message_delta carries the whole' },
  { name: 'event:delta.content', mapping: 'exact', note: 'a text block: content_block_start, text_delta…, content_block_stop' },
  { name: 'event:delta.tool_calls', mapping: 'exact', note: 'a tool_use block (id minted as toolu_…) with input_json_delta' },
  { name: 'event:delta.refusal', mapping: 'refused', note: 'arises only from structured outputs (response_format), which Anthropic clients cannot ask for' },
  { name: 'event:logprobs', mapping: 'refused', note: 'arises only from the request field logprobs, which Anthropic clients cannot ask for' },
  { name: 'event:finish_reason', mapping: 'approximate', note: 'message_delta stop_reason: stop → end_turn, length → max_tokens, tool_calls → tool_use, content_filter → refusal' },
  { name: 'event:usage', mapping: 'exact', note: 'message_delta usage: input_tokens less cached, cache_read_input_tokens, output_tokens' },
  { name: 'event:[DONE]', mapping: 'exact', note: 'message_stop' },
  { name: 'event:error', mapping: 'exact', note: 'the gateway\'s in-stream error event in Anthropic\'s shape' },
];

export const TRANSLATION_TABLE: Readonly<Record<ClientApi, readonly Row[]>> = {
  'openai-chat': OPENAI_CHAT,
  'anthropic-messages': ANTHROPIC_MESSAGES,
};

/** Per client API: its top-level request fields (rows without `[]`, `.`, `:`), and the rows that can refuse. */
const known = (rows: readonly Row[]) => new Set(rows.filter((r) => !/[[.:]/.test(r.name)).map((r) => r.name));
const checks = (rows: readonly Row[]) => rows.filter((r) => r.refuseWhen);
const TOP_LEVEL = { 'openai-chat': known(OPENAI_CHAT), 'anthropic-messages': known(ANTHROPIC_MESSAGES) };
const CHECKS = { 'openai-chat': checks(OPENAI_CHAT), 'anthropic-messages': checks(ANTHROPIC_MESSAGES) };

/** The metric label of a top-level field the table does not know (client-chosen names would be unbounded). */
export const UNKNOWN_FIELD = '(unknown)';

/**
 * Throws the refusal for the first field of `body` the table refuses toward `target`, or that it does not
 * know (a top-level field outside the table: refused, never dropped). Named by its row, or by the field itself.
 */
export function refuseUntranslatable(api: ClientApi, body: Record<string, any>, target: Dialect): void {
  const top = TOP_LEVEL[api];
  for (const key of Object.keys(body)) if (!top.has(key)) throw new TranslationRefusal(key, UNKNOWN_FIELD, target);
  for (const row of CHECKS[api]) if (row.refuseWhen!(body)) throw new TranslationRefusal(row.name, row.name, target);
}
