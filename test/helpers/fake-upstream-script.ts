// Scripted faults for the fake upstream: a test queues, per upstream model name, what each next request to
// that model gets (a 5xx burst, a 429 with Retry-After, a hang before the headers or mid-stream, a reset),
// then what every request after the script gets (`then`, default: the model's normal behaviour). The
// routing tests drive retries, fallbacks and breakers with these, one deployment per upstream model.
import { FAKE_TEXT_PIECES, FAKE_USAGE, sendJson, sleep, startSse, type Exchange } from './fake-upstream-common.ts';

export type Fault =
  /** The normal answer (by the model's name: an unknown name answers like `ok`). */
  | { kind: 'ok' }
  /** The normal answer after `ms` (before any header): a slow but healthy upstream. */
  | { kind: 'delay'; ms: number }
  /** An error answer in the endpoint's dialect, with optional Retry-After (seconds) and retry-after-ms headers. */
  | { kind: 'status'; status: number; retryAfter?: string; retryAfterMs?: string; message?: string }
  /** Reads the request and never answers, until the peer hangs up. */
  | { kind: 'hang-headers' }
  /** A streaming answer that sends its opening and `afterChunks` text pieces, then stays silent until the peer hangs up. */
  | { kind: 'hang-stream'; afterChunks: number }
  /** Destroys the connection before any response byte, or right after 200 headers. */
  | { kind: 'reset'; when: 'before-headers' | 'after-headers' };

export const fault = {
  ok: { kind: 'ok' } as Fault,
  delay: (ms: number): Fault => ({ kind: 'delay', ms }),
  status: (status: number, extra: { retryAfter?: string; retryAfterMs?: string; message?: string } = {}): Fault => ({ kind: 'status', status, ...extra }),
  hangHeaders: { kind: 'hang-headers' } as Fault,
  hangStream: (afterChunks: number): Fault => ({ kind: 'hang-stream', afterChunks }),
  resetBeforeHeaders: { kind: 'reset', when: 'before-headers' } as Fault,
  resetAfterHeaders: { kind: 'reset', when: 'after-headers' } as Fault,
};

/** `n` copies of `f`: a burst. */
export const burst = (n: number, f: Fault): Fault[] => Array.from({ length: n }, () => f);

/** A human-readable name of a fault, recorded on each request it was applied to. */
export function faultName(f: Fault): string {
  switch (f.kind) {
    case 'status': return `status-${f.status}`;
    case 'delay': return `delay-${f.ms}`;
    case 'hang-stream': return `hang-stream-${f.afterChunks}`;
    case 'reset': return `reset-${f.when}`;
    default: return f.kind;
  }
}

interface Script {
  steps: Fault[];
  then: Fault;
}

/** The scripts of one fake upstream, by upstream model name. */
export class FaultScripts {
  readonly #scripts = new Map<string, Script>();

  /** Replaces `model`'s script: the next requests get `steps` in order, every later one `then`. */
  set(model: string, steps: readonly Fault[], then: Fault = fault.ok): void {
    this.#scripts.set(model, { steps: [...steps], then });
  }

  clear(): void {
    this.#scripts.clear();
  }

  /** The fault for the next request to `model`, undefined when it has no script. */
  next(model: unknown): Fault | undefined {
    if (typeof model !== 'string') return undefined;
    const script = this.#scripts.get(model);
    if (!script) return undefined;
    return script.steps.shift() ?? script.then;
  }
}

/** Error bodies in the endpoint's dialect (the caller passes fake-upstream.ts's). */
export type ErrorBody = (status: number, message: string) => unknown;

const untilHangUp = (signal: AbortSignal) => new Promise<void>((resolve) => {
  if (signal.aborted) return resolve();
  signal.addEventListener('abort', () => resolve(), { once: true });
});

/** Applies `f` to the exchange; returns false for `ok` (the normal handlers answer). */
export async function applyFault(ex: Exchange, f: Fault, errorBody: ErrorBody): Promise<boolean> {
  ex.record.fault = faultName(f);
  switch (f.kind) {
    case 'ok':
      return false;
    case 'delay':
      // Answered normally afterwards, unless the caller hung up meanwhile.
      return !(await sleep(f.ms, ex.signal));
    case 'status': {
      const headers: Record<string, string> = {};
      if (f.retryAfter !== undefined) headers['retry-after'] = f.retryAfter;
      if (f.retryAfterMs !== undefined) headers['retry-after-ms'] = f.retryAfterMs;
      ex.record.completedAt = Date.now();
      sendJson(ex.res, f.status, errorBody(f.status, f.message ?? `The fake upstream answered ${f.status} (scripted)`), headers);
      return true;
    }
    case 'hang-headers':
      await untilHangUp(ex.signal);
      return true;
    case 'hang-stream':
      startSse(ex.res);
      if (ex.record.path === '/v1/messages') anthropicOpening(ex, f.afterChunks);
      else openaiOpening(ex, f.afterChunks);
      await untilHangUp(ex.signal);
      return true;
    case 'reset':
      ex.record.completedAt = Date.now();
      if (f.when === 'after-headers') {
        ex.res.writeHead(200, { 'content-type': ex.body?.stream === true ? 'text/event-stream' : 'application/json' });
        ex.res.flushHeaders();
        // After the headers have left: the gateway reads a 200 whose body never comes.
        setImmediate(() => ex.req.socket.destroy());
      } else {
        ex.req.socket.destroy();
      }
      return true;
  }
}

function openaiOpening(ex: Exchange, pieces: number): void {
  const base = { id: 'chatcmpl-fake-hang', object: 'chat.completion.chunk', created: 1_700_000_000, model: ex.body.model };
  const send = (delta: object) => ex.res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] })}\n\n`);
  send({ role: 'assistant', content: '' });
  for (const piece of FAKE_TEXT_PIECES.slice(0, pieces)) send({ content: piece });
}

function anthropicOpening(ex: Exchange, pieces: number): void {
  const send = (event: string, data: object) => ex.res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  send('message_start', {
    message: {
      id: 'msg_fake_hang', type: 'message', role: 'assistant', model: ex.body.model, content: [],
      stop_reason: null, stop_sequence: null, usage: { input_tokens: FAKE_USAGE.input, output_tokens: 1 },
    },
  });
  send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  for (const piece of FAKE_TEXT_PIECES.slice(0, pieces)) send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } });
}
