// The OpenAI-compatible half of the fake upstream: POST /v1/chat/completions (JSON and SSE) and POST /v1/embeddings.
import {
  FAKE_STREAM_ERROR_MESSAGE, FAKE_TEXT, FAKE_TEXT_PIECES, FAKE_USAGE, SLOW_STREAM_TICK_MS, SLOW_STREAM_TOTAL_MS, STALL_MS,
  sendJson, sendJsonStalled, sleep, startSse, type Exchange,
} from './fake-upstream-common.ts';

const CREATED = 1_700_000_000;
const EMBEDDING_DIMENSIONS = 8;
let sequence = 0;

const usage = () => ({ prompt_tokens: FAKE_USAGE.input, completion_tokens: FAKE_USAGE.output, total_tokens: FAKE_USAGE.input + FAKE_USAGE.output });

/** Returns false when the path is not one this half serves. */
export async function handleOpenAI(ex: Exchange, path: string): Promise<boolean> {
  if (path === '/v1/chat/completions') {
    if (ex.body.stream === true && ex.body.model !== 'json-for-stream') await streamChat(ex);
    else if (ex.body.model === 'stall-body') await sendJsonStalled(ex, completion(ex.body.model));
    else sendJson(ex.res, 200, completion(ex.body.model));
    return true;
  }
  if (path === '/v1/embeddings') {
    embeddings(ex);
    return true;
  }
  return false;
}

function completion(model: string) {
  return {
    id: `chatcmpl-fake-${++sequence}`,
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: FAKE_TEXT, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: usage(),
  };
}

async function streamChat(ex: Exchange): Promise<void> {
  const { res, body, signal } = ex;
  const includeUsage = body.stream_options?.include_usage === true;
  const id = `chatcmpl-fake-${++sequence}`;
  // As OpenAI does: with include_usage every chunk carries `usage: null`, and one extra chunk with `choices: []` carries the totals.
  const chunk = (delta: object, finishReason: string | null) => ({
    id, object: 'chat.completion.chunk', created: CREATED, model: body.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const send = (data: unknown) => { res.write(`data: ${JSON.stringify(data)}\n\n`); };

  startSse(res);
  send(chunk({ role: 'assistant', content: '' }, null));
  if (body.model === 'slow-stream') {
    for (let i = 0; i < SLOW_STREAM_TOTAL_MS / SLOW_STREAM_TICK_MS; i++) {
      if (!(await sleep(SLOW_STREAM_TICK_MS, signal))) return;
      send(chunk({ content: `tick ${i} ` }, null));
    }
  } else if (body.model === 'stall-body') {
    send(chunk({ content: FAKE_TEXT_PIECES[0] }, null));
    if (!(await sleep(STALL_MS, signal))) return;
    for (const piece of FAKE_TEXT_PIECES.slice(1)) send(chunk({ content: piece }, null));
  } else if (body.model === 'stream-error') {
    send(chunk({ content: FAKE_TEXT_PIECES[0] }, null));
    send({ error: { message: FAKE_STREAM_ERROR_MESSAGE, type: 'server_error', param: null, code: null } });
    return void res.end();
  } else if (body.model === 'truncated') {
    for (const piece of FAKE_TEXT_PIECES) send(chunk({ content: piece }, null));
    return void res.end();
  } else {
    for (const piece of FAKE_TEXT_PIECES) send(chunk({ content: piece }, null));
  }
  send(chunk({}, 'stop'));
  if (includeUsage) send({ id, object: 'chat.completion.chunk', created: CREATED, model: body.model, choices: [], usage: usage() });
  res.end('data: [DONE]\n\n');
}

/** A deterministic vector per input text: same text, same vector; every vector has the same length. */
export function fakeVector(text: string): number[] {
  const vector: number[] = [];
  for (let i = 0; i < EMBEDDING_DIMENSIONS; i++) {
    const code = text.charCodeAt(i % Math.max(text.length, 1)) || 0;
    vector.push(Math.round(((code * (i + 1)) % 97) / 97 * 1000) / 1000);
  }
  return vector;
}

function embeddings(ex: Exchange): void {
  const { input, model, encoding_format: encoding } = ex.body;
  const inputs: unknown[] = Array.isArray(input) ? input : [input];
  const data = inputs.map((item, index) => {
    const vector = fakeVector(typeof item === 'string' ? item : JSON.stringify(item));
    const embedding = encoding === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputs.length * 3;
  sendJson(ex.res, 200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}
