// The Anthropic half of the fake upstream: POST /v1/messages, JSON and the SSE event sequence
// message_start, content_block_start, (ping), content_block_delta…, content_block_stop, message_delta, message_stop.
import {
  FAKE_STREAM_ERROR_MESSAGE, FAKE_TEXT, FAKE_TEXT_PIECES, FAKE_USAGE, SLOW_STREAM_TICK_MS, SLOW_STREAM_TOTAL_MS, STALL_MS,
  sendJson, sendJsonStalled, sleep, startSse, type Exchange,
} from './fake-upstream-common.ts';

let sequence = 0;

export async function handleAnthropic(ex: Exchange): Promise<void> {
  const id = `msg_fake_${++sequence}`;
  if (ex.body.stream === true && ex.body.model !== 'json-for-stream') return streamMessage(ex, id);
  const message = {
    id,
    type: 'message',
    role: 'assistant',
    model: ex.body.model,
    content: [{ type: 'text', text: FAKE_TEXT }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: FAKE_USAGE.input, output_tokens: FAKE_USAGE.output },
  };
  if (ex.body.model === 'stall-body') return sendJsonStalled(ex, message);
  sendJson(ex.res, 200, message);
}

async function streamMessage(ex: Exchange, id: string): Promise<void> {
  const { res, body, signal } = ex;
  const send = (event: string, data: object) => { res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`); };
  const delta = (text: string) => send('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });

  startSse(res);
  send('message_start', {
    message: {
      id, type: 'message', role: 'assistant', model: body.model, content: [],
      stop_reason: null, stop_sequence: null,
      usage: { input_tokens: FAKE_USAGE.input, output_tokens: 1 },
    },
  });
  send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  send('ping', {});
  if (body.model === 'slow-stream') {
    for (let i = 0; i < SLOW_STREAM_TOTAL_MS / SLOW_STREAM_TICK_MS; i++) {
      if (!(await sleep(SLOW_STREAM_TICK_MS, signal))) return;
      delta(`tick ${i} `);
    }
  } else if (body.model === 'stall-body') {
    delta(FAKE_TEXT_PIECES[0]);
    if (!(await sleep(STALL_MS, signal))) return;
    for (const piece of FAKE_TEXT_PIECES.slice(1)) delta(piece);
  } else if (body.model === 'stream-error') {
    delta(FAKE_TEXT_PIECES[0]);
    send('error', { error: { type: 'overloaded_error', message: FAKE_STREAM_ERROR_MESSAGE } });
    return void res.end();
  } else if (body.model === 'truncated') {
    for (const piece of FAKE_TEXT_PIECES) delta(piece);
    send('content_block_stop', { index: 0 });
    return void res.end();
  } else {
    for (const piece of FAKE_TEXT_PIECES) delta(piece);
  }
  send('content_block_stop', { index: 0 });
  send('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: FAKE_USAGE.output } });
  send('message_stop', {});
  res.end();
}
