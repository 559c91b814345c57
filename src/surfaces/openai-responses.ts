// OpenAI Responses as a client dialect: validate a request, and decode it to the canonical shape for
// providers that do not serve the Responses API themselves (Anthropic, chat-completions-only servers, the
// mock). What a stateless chat translation cannot honour is refused by name, never dropped.
import type { ChatRequest, ContentPart, Message, ToolChoice, ToolDef } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { checkRange, invalid, optionalNumber, requireString } from './validate.ts';

/** The provider kinds a translated request may go to (providers/provider.ts's `kind`). */
export type TranslatedKind = 'openai' | 'openai-compatible' | 'anthropic' | 'mock';

/** A field the translation cannot carry faithfully: 400 GW_REQUEST_UNSUPPORTED naming it. */
export const refuse = (param: string, detail: string) => new GatewayError('GW_REQUEST_UNSUPPORTED', `${param}: ${detail}`, { param });

/** The fields the gateway acts on (model, input, stream) and values OpenAI rejects; the rest is the upstream's. */
export function acceptOpenAIResponses(ctx: RequestContext): void {
  const body = ctx.body;
  ctx.requestedModel = requireString(body.model, 'model');
  const input = body.input;
  if (typeof input !== 'string' && !(Array.isArray(input) && input.length > 0)) throw invalid('input must be a string or a non-empty array of items', 'input');
  checkRange(body.max_output_tokens, 'max_output_tokens', 1, Infinity, true);
  checkRange(body.temperature, 'temperature', 0, 2);
  checkRange(body.top_p, 'top_p', 0, 1);
  ctx.stream = body.stream === true;
  // response.completed always carries usage: there is nothing to opt into.
  ctx.streamUsage = ctx.stream;
}

/**
 * Responses request → canonical ChatRequest for a provider of `kind` that does not serve the Responses API.
 * Throws GW_REQUEST_UNSUPPORTED (with `param`) for what that provider cannot do as asked.
 */
export function decodeOpenAIResponses(body: Record<string, any>, kind: TranslatedKind): ChatRequest {
  if (body.previous_response_id != null) throw refuse('previous_response_id', 'this model is served without stored responses; send the whole conversation as input');
  if (body.store === true) throw refuse('store', 'this model is served without stored responses');
  if (body.conversation != null) throw refuse('conversation', 'this model is served without stored conversations');
  if (body.reasoning != null) throw refuse('reasoning', 'reasoning settings cannot be translated faithfully to this model');
  if (Array.isArray(body.include) && body.include.length) throw refuse('include', 'extra output data is not available from this model');
  for (const param of ['background', 'prompt', 'truncation'] as const) {
    if (body[param] != null && body[param] !== false && body[param] !== 'disabled') throw refuse(param, 'not available on this model');
  }
  const { messages, system } = typeof body.input === 'string'
    ? { messages: [{ role: 'user', content: [{ type: 'text', text: body.input }] }] as Message[], system: [] }
    : itemsOf(body.input);
  if (typeof body.instructions === 'string' && body.instructions) system.unshift(body.instructions);
  const request: ChatRequest = {
    model: body.model,
    system: system.length ? system.join('\n\n') : undefined,
    messages,
    maxTokens: optionalNumber(body.max_output_tokens, 'max_output_tokens'),
    temperature: optionalNumber(body.temperature, 'temperature'),
    topP: optionalNumber(body.top_p, 'top_p'),
    stop: undefined,
    tools: toolsOf(body.tools),
    toolChoice: toolChoiceOf(body.tool_choice),
    stream: body.stream === true,
    streamUsage: body.stream === true,
  };
  const format = responseFormatOf(body.text?.format, kind);
  if (format) request.responseFormat = format;
  return request;
}

/** `text.format` → chat completions' response_format; only chat-completions upstreams can honour a schema. */
function responseFormatOf(format: any, kind: TranslatedKind): Record<string, unknown> | undefined {
  if (format == null || format.type === 'text') return undefined;
  if (kind !== 'openai' && kind !== 'openai-compatible') throw refuse('text.format', `structured output (${format.type}) cannot be enforced on this model`);
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const { type: _type, ...schema } = format;
    return { type: 'json_schema', json_schema: schema };
  }
  throw refuse('text.format', `format type "${format.type}" is not supported`);
}

/**
 * Input items → canonical messages (consecutive items of one role fold into one message, as a call follows
 * its text) and the text of system and developer messages, which join `instructions` as the system prompt.
 */
function itemsOf(items: any[]): { messages: Message[]; system: string[] } {
  const messages: Message[] = [];
  const system: string[] = [];
  const push = (role: Message['role'], part: ContentPart) => {
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(part);
    else messages.push({ role, content: [part] });
  };
  for (const [i, item] of items.entries()) {
    if (typeof item !== 'object' || item === null) throw invalid(`input[${i}] must be an object`, `input[${i}]`);
    const type = item.type ?? 'message';
    if (type === 'message') {
      if (item.role === 'system' || item.role === 'developer') system.push(textOf(item.content, i));
      else if (item.role === 'user' || item.role === 'assistant') for (const part of partsOf(item.content, i)) push(item.role, part);
      else throw invalid(`input[${i}].role "${item.role}" is not supported`, `input[${i}].role`);
    } else if (type === 'function_call') {
      push('assistant', { type: 'tool_use', id: String(item.call_id), name: String(item.name), arguments: item.arguments ?? '{}' });
    } else if (type === 'function_call_output') {
      const output = typeof item.output === 'string' ? item.output : textOf(item.output, i);
      push('user', { type: 'tool_result', toolUseId: String(item.call_id), content: output });
    } else {
      throw refuse(`input[${i}].type`, `input item type "${type}" cannot be translated to this model`);
    }
  }
  return { messages, system };
}

function textOf(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(`input[${i}].content must be a string or an array of parts`, `input[${i}].content`);
  return content.map((p: any) => {
    if (p?.type === 'input_text' || p?.type === 'output_text') return String(p.text);
    throw refuse(`input[${i}].content`, `content part type "${p?.type}" is not supported on this model`);
  }).join('');
}

function partsOf(content: unknown, i: number): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(`input[${i}].content must be a string or an array of parts`, `input[${i}].content`);
  return content.map((p: any): ContentPart => {
    if (p?.type === 'input_text' || p?.type === 'output_text') return { type: 'text', text: String(p.text) };
    if (p?.type === 'input_image' && typeof p.image_url === 'string') return { type: 'image', url: p.image_url };
    throw refuse(`input[${i}].content`, `content part type "${p?.type}" is not supported on this model`);
  });
}

/** Responses' flat function tools; the built-in tools (web_search, file_search, …) need OpenAI's own servers. */
function toolsOf(tools: unknown): ToolDef[] | undefined {
  if (tools == null) return undefined;
  if (!Array.isArray(tools)) throw invalid('tools must be an array', 'tools');
  if (!tools.length) return undefined;
  return tools.map((t: any, i): ToolDef => {
    if (t?.type !== 'function') throw refuse(`tools[${i}].type`, `built-in tool "${t?.type}" is not available on this model`);
    return { name: String(t.name), description: t.description ?? undefined, parameters: t.parameters ?? { type: 'object' } };
  });
}

function toolChoiceOf(choice: any): ToolChoice | undefined {
  if (choice == null) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (choice?.type === 'function' && typeof choice.name === 'string') return { name: choice.name };
  throw refuse('tool_choice', `tool_choice ${JSON.stringify(choice)} is not available on this model`);
}
