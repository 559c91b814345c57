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
