// Static wire bodies shared by the fake upstream (nginx) and the load generators.
// Shapes follow OpenAI's chat.completion and chat.completion.chunk objects.

const created = 1735689600;
const usage = { prompt_tokens: 212, completion_tokens: 48, total_tokens: 260 };

/** Non-streaming chat.completion (about 680 bytes, like a short real answer). */
export const completionJson = JSON.stringify({
  id: 'chatcmpl-bench0000000000000000000000001',
  object: 'chat.completion',
  created,
  model: 'bench-model-2025-01-01',
  choices: [{
    index: 0,
    message: {
      role: 'assistant',
      content: 'Vigil benchmark reply. A gateway should add as little as possible between the caller and the model: ' +
        'parse once, route, forward, and record what happened. This sentence pads the body to the size of a ' +
        'short assistant answer.',
      refusal: null,
    },
    logprobs: null,
    finish_reason: 'stop',
  }],
  usage: { ...usage, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
  system_fingerprint: 'fp_bench',
});

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({
  id: 'chatcmpl-bench0000000000000000000000002',
  object: 'chat.completion.chunk',
  created,
  model: 'bench-model-2025-01-01',
  system_fingerprint: 'fp_bench',
  choices,
  ...extra,
})}\n\n`;

const words = ['Vigil', ' streams', ' every', ' chunk', ' through', ' without', ' buffering', ' the', ' whole', ' body', '.'];

/** Streaming body: role chunk, content chunks, finish chunk, usage chunk (choices: []), [DONE]. */
export const streamSse =
  chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]) +
  words.map((w) => chunk([{ index: 0, delta: { content: w }, logprobs: null, finish_reason: null }])).join('') +
  chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]) +
  chunk([], { usage }) +
  'data: [DONE]\n\n';

/** A ~1 KB chat request: a system prompt and a short conversation. */
export function chatRequest(model: string, stream: boolean): string {
  const body: Record<string, unknown> = {
    model,
    messages: [
      { role: 'system', content: 'You are a concise assistant for an internal engineering team. Answer in plain English, ' +
        'prefer short paragraphs, and say so when you are unsure. Never invent figures; cite the document you used.' },
      { role: 'user', content: 'We run an AI gateway in front of three providers. What should we alert on first, and why? ' +
        'Keep it to the few signals that catch most incidents.' },
      { role: 'assistant', content: 'Start with availability and latency of the gateway itself, split by provider: the ' +
        'share of requests that fail on the provider side, time to first token for streams, and saturation.' },
      { role: 'user', content: 'Good. How would you tell a provider outage from our own bug when both show as 5xx errors ' +
        'on the same dashboard? Give one concrete query per case if you can, and say which labels it needs ' +
        'on the request metrics so that the split stays cheap.' },
    ],
    temperature: 0.2,
    max_tokens: 256,
    user: 'bench-user-0001',
  };
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return JSON.stringify(body);
}

// The Responses API (POST /v1/responses, passed through byte for byte by Vigil to providers with
// `responses_api`): shapes follow test/contract/providers/fixtures/openai/responses.{json,sse}.
const responseText = 'Vigil benchmark reply. A gateway should add as little as possible between the caller and the model: ' +
  'parse once, route, forward, and record what happened. This sentence pads the body to the size of a short assistant answer.';
const responseObject = (text = responseText) => ({
  id: 'resp_bench00000000000000000000000000000000000001', object: 'response', created_at: created, status: 'completed',
  background: false, error: null, incomplete_details: null, instructions: null, max_output_tokens: null,
  model: 'bench-model-2025-01-01',
  output: [{
    id: 'msg_bench0001', type: 'message', status: 'completed', role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  }],
  parallel_tool_calls: true, previous_response_id: null, service_tier: 'default', store: false, temperature: 0.2,
  text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [], top_p: 1, truncation: 'disabled',
  usage: { input_tokens: 212, input_tokens_details: { cached_tokens: 0 }, output_tokens: 48, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 260 },
  user: null, metadata: {},
});

/** Non-streaming `response` object (about 1 KB). */
export const responsesJson = JSON.stringify(responseObject());

const event = (type: string, data: Record<string, unknown>, seq: number) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq, ...data })}\n\n`;
const item = { item_id: 'msg_bench0001', output_index: 0, content_index: 0 };

/** The short `response` of the opening events and the last (nginx takes at most 4 KB in one `return`). */
const opening = (status: string) => ({ id: 'resp_bench00000000000000000000000000000000000001', object: 'response', created_at: created, status, model: 'bench-model-2025-01-01', output: [], usage: null });

/** Streaming typed events: response.created … output_text.delta (one per word) … response.completed with usage. */
export const responsesSse = [
  event('response.created', { response: opening('in_progress') }, 0),
  event('response.in_progress', { response: opening('in_progress') }, 1),
  event('response.output_item.added', { output_index: 0, item: { id: item.item_id, type: 'message', status: 'in_progress', content: [], role: 'assistant' } }, 2),
  event('response.content_part.added', { ...item, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } }, 3),
  ...words.map((w, i) => event('response.output_text.delta', { ...item, delta: w, logprobs: [] }, 4 + i)),
  event('response.output_text.done', { ...item, text: words.join(''), logprobs: [] }, 4 + words.length),
  event('response.completed', { response: { ...opening('completed'), output: responseObject(words.join('')).output, usage: responseObject().usage } }, 5 + words.length),
].join('');

/** A Responses request with the same conversation as chatRequest: instructions plus input items. */
export function responsesRequest(model: string, stream: boolean): string {
  const chat = JSON.parse(chatRequest(model, false));
  return JSON.stringify({
    model,
    instructions: chat.messages[0].content,
    input: chat.messages.slice(1).map((m: { role: string; content: string }) => ({ role: m.role, content: m.content })),
    temperature: 0.2,
    max_output_tokens: 256,
    store: false,
    user: 'bench-user-0001',
    ...(stream ? { stream: true } : {}),
  });
}

/** `--api` of the load generators: the endpoint's request body, and how a complete stream ends. */
export const apis = {
  chat: { request: chatRequest, streamEnd: 'data: [DONE]' },
  responses: { request: responsesRequest, streamEnd: responsesSse.slice(-24) },
} as const;
