// A deterministic in-process provider: the same request always gets the same answer. It lets the gateway
// run with no account anywhere and gives the demo, tests and benchmarks controllable latency, streaming
// pace, usage numbers and injected failures per upstream error class.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Attempt } from '../core/attempt.ts';
import type { ChatRequest, ChatResult, ContentPart, StreamEvent, ToolUsePart, Usage } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { GatewayError, type ErrorCode } from '../core/errors.ts';
import type { MockProviderConfig } from '../config/schema.ts';
import { toolInputFor } from './mock-tool-input.ts';
import type { Provider } from './provider.ts';

/** Upstream error classes the mock can inject, as the code and the HTTP status a real provider would cause. */
export const MOCK_FAILURES: Record<string, { code: ErrorCode; status: number }> = {
  rate_limit: { code: 'GW_UPSTREAM_RATE_LIMITED', status: 429 },
  server_error: { code: 'GW_UPSTREAM_SERVER_ERROR', status: 500 },
  timeout: { code: 'GW_UPSTREAM_TIMEOUT', status: 504 },
  network: { code: 'GW_UPSTREAM_NETWORK', status: 0 },
  protocol: { code: 'GW_UPSTREAM_PROTOCOL', status: 200 },
  upstream_auth: { code: 'GW_UPSTREAM_AUTH', status: 401 },
  context_overflow: { code: 'GW_UPSTREAM_CONTEXT_OVERFLOW', status: 400 },
  invalid_request: { code: 'GW_UPSTREAM_BAD_REQUEST', status: 400 },
};

const WORDS = ['Vigil', 'sees', 'every', 'request,', 'measures', 'its', 'latency', 'and', 'counts', 'tokens', 'so', 'operators', 'can', 'trust', 'the', 'gateway.'];
const EMBEDDING_DIMENSIONS = 16;

export function createMockProvider(id: string, options: MockProviderConfig, random: () => number = Math.random): Provider {
  const failures = Object.entries(options.error_rates);

  async function begin(ctx: RequestContext, attempt: Attempt): Promise<void> {
    attempt.startedAt = performance.now() - ctx.startedAt;
    if (options.latency_ms > 0) await pause(options.latency_ms, ctx.signal);
    for (const [errorClass, rate] of failures) {
      if (rate > 0 && random() < rate) {
        const failure = MOCK_FAILURES[errorClass];
        attempt.status = failure.status;
        attempt.error = new GatewayError(failure.code, 'injected by the mock provider', failure.code === 'GW_UPSTREAM_RATE_LIMITED' ? { retryAfter: 1 } : {});
        ended(ctx, attempt);
        throw attempt.error;
      }
    }
    attempt.status = 200;
  }

  return {
    id,
    kind: 'mock',
    dialect: undefined,
    unavailableReason: undefined,
    supportsEmbeddings: true,

    async chat(ctx, attempt) {
      refuseSchemaOutput(ctx.body);
      await begin(ctx, attempt);
      const request = ctx.chat!;
      const call = toolCallFor(request);
      const words = call ? [] : replyWords(request, options.completion_tokens);
      const usage: Usage = { inputTokens: options.prompt_tokens ?? countTokens(request), outputTokens: call ? tokensIn(call.arguments) : words.length, cachedInputTokens: 0 };
      if (!request.stream) {
        const content: ContentPart[] = call ? [call] : [{ type: 'text', text: words.join(' ') }];
        const result: ChatResult = { model: request.model, content, finishReason: call ? 'tool_calls' : 'stop', usage };
        ended(ctx, attempt);
        return { kind: 'result', result };
      }
      return { kind: 'events', events: streamReply(ctx, attempt, request.model, words, call, usage, options.stream_tokens_per_second) };
    },

    async embeddings(ctx, attempt) {
      await begin(ctx, attempt);
      const input = ctx.body.input;
      const texts: string[] = Array.isArray(input) ? input.map((t) => (typeof t === 'string' ? t : JSON.stringify(t))) : [String(input)];
      const dimensions = typeof ctx.body.dimensions === 'number' ? ctx.body.dimensions : EMBEDDING_DIMENSIONS;
      const vectors = texts.map((text) => vectorOf(text, dimensions));
      attempt.usage = { inputTokens: options.prompt_tokens ?? texts.reduce((n, t) => n + tokensIn(t), 0), outputTokens: 0, cachedInputTokens: 0 };
      const encoded = ctx.body.encoding_format === 'base64' ? vectors.map(toBase64) : vectors;
      ended(ctx, attempt);
      return { kind: 'result', result: { model: ctx.requestedModel, vectors: encoded, usage: attempt.usage } };
    },
  };
}

/**
 * The mock writes words, not output that fits a JSON schema: asked for structured output (OpenAI
 * `response_format`, Anthropic `output_config.format`), it refuses naming the field rather than ignore it.
 */
function refuseSchemaOutput(body: Record<string, any>): void {
  const field = body.response_format?.type && body.response_format.type !== 'text' ? 'response_format' : body.output_config?.format ? 'output_config.format' : undefined;
  if (field) throw new GatewayError('GW_REQUEST_UNSUPPORTED', `${field}: the mock provider cannot answer in a JSON schema`, { param: field });
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw signal.reason instanceof GatewayError ? signal.reason : new GatewayError('GW_CLIENT_CLOSED');
  }
}

/**
 * The mock's answer is complete: what follows is the gateway's time, as after a real provider's last byte
 * (routing/upstream.ts). Without it the answer's encoding and writing counted as upstream time.
 */
function ended(ctx: RequestContext, attempt: Attempt): void {
  attempt.endedAt = performance.now() - ctx.startedAt;
}

async function* streamReply(
  ctx: RequestContext, attempt: Attempt, model: string, words: string[], call: ToolUsePart | undefined, usage: Usage, perSecond: number,
): AsyncGenerator<StreamEvent> {
  const signal = ctx.signal;
  yield { type: 'start', model, usage: { ...usage, outputTokens: 0 } }; // the input is known before any output
  if (call) {
    yield { type: 'tool_call', index: 0, id: call.id, name: call.name };
    yield { type: 'tool_args', index: 0, delta: call.arguments };
  }
  for (const [i, word] of words.entries()) {
    if (perSecond > 0) await pause(1000 / perSecond, signal);
    yield { type: 'text', text: i === 0 ? word : ` ${word}` };
  }
  yield { type: 'finish', reason: call ? 'tool_calls' : 'stop' };
  ended(ctx, attempt);
  yield { type: 'usage', usage };
}

/**
 * Agent traffic: offered tools and not yet answered by a tool result, the mock calls the first tool (or
 * the one tool_choice names) with input that fits its schema, drawn from the last user text, as a model
 * would. The call has no id of its own: the client's surface names it.
 */
function toolCallFor(request: ChatRequest): ToolUsePart | undefined {
  if (!request.tools?.length || request.toolChoice === 'none') return undefined;
  const last = request.messages.at(-1);
  if (last?.content.some((p) => p.type === 'tool_result')) return undefined;
  const chosen = request.toolChoice;
  const tool = (typeof chosen === 'object' && request.tools.find((t) => t.name === chosen.name)) || request.tools[0];
  return { type: 'tool_use', id: '', name: tool.name, arguments: JSON.stringify(toolInputFor(tool.parameters, lastUserText(request))) };
}

function lastUserText(request: ChatRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i];
    if (message.role === 'user') return message.content.map((p) => (p.type === 'text' ? p.text : '')).join(' ');
  }
  return '';
}

/** The reply starts from the prompt's hash so different prompts get different (but stable) text. */
function replyWords(request: ChatRequest, count: number): string[] {
  const start = hash(lastUserText(request)) % WORDS.length;
  return Array.from({ length: count }, (_, i) => WORDS[(start + i) % WORDS.length]);
}

/** A rough tokenizer stand-in (≈ 4 characters a token), stable across runs. */
const tokensIn = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function countTokens(request: ChatRequest): number {
  let n = request.system ? tokensIn(request.system) : 0;
  for (const m of request.messages) for (const p of m.content) n += p.type === 'text' ? tokensIn(p.text) : 8;
  return n;
}

/** FNV-1a: a stable 32-bit hash for deterministic content. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function vectorOf(text: string, dimensions: number): number[] {
  let seed = hash(text) || 1;
  const vector = Array.from({ length: dimensions }, () => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; // xorshift32
    return seed / 0xffffffff - 0.5;
  });
  let sumOfSquares = 0;
  for (const x of vector) sumOfSquares += x * x; // not Math.hypot(...vector): spreading a long vector overflows the stack
  const norm = Math.sqrt(sumOfSquares) || 1;
  return vector.map((x) => x / norm);
}

const toBase64 = (vector: number[]) => Buffer.from(new Float32Array(vector).buffer).toString('base64');
