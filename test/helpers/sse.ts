import type { GatewayError } from '../../src/core/errors.ts';
// Reads a whole text/event-stream response into events, for tests that look at the raw wire.
export interface SseEvent {
  event: string | undefined;
  data: string;
}

export async function readSse(response: Response): Promise<SseEvent[]> {
  const text = await response.text();
  const events: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return events;
}

/** The JSON payloads of an SSE response, with the OpenAI `[DONE]` sentinel left as the string. */
export function payloads(events: SseEvent[]): any[] {
  return events.map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));
}

/** `text` as a body arriving in pieces of `size` bytes, as a slow network would cut it. */
export async function* inPieces(text: string, size: number): AsyncGenerator<Buffer> {
  const all = Buffer.from(text);
  for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
}

/** A provider's passthrough stream read to its end: what it relayed, and the error that ended it, if any. */
export async function relayed(output: { kind: string; chunks?: AsyncIterable<string> }): Promise<{ out: string; error?: GatewayError }> {
  let out = '';
  try {
    if (output.kind === 'sse' && output.chunks) for await (const s of output.chunks) out += s;
  } catch (err) {
    return { out, error: err as GatewayError };
  }
  return { out };
}
