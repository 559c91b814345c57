// The one Server-Sent Events parser (WHATWG event-stream rules, the subset LLM APIs use):
// bytes in any chunking → whole events. Hand-written because it sits on every streamed chunk and the
// usual libraries wrap fetch Responses or add per-event allocations we do not need.

export interface SseEvent {
  event: string;
  data: string;
}

export async function* parseSse(chunks: AsyncIterable<Buffer>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    if (pending.includes('\r')) pending = pending.replace(/\r\n?/g, '\n');
    let boundary = pending.indexOf('\n\n');
    while (boundary !== -1) {
      const event = parseBlock(pending.slice(0, boundary));
      if (event) yield event;
      pending = pending.slice(boundary + 2);
      boundary = pending.indexOf('\n\n');
    }
  }
  pending += decoder.decode();
  const last = parseBlock(pending.trim());
  if (last) yield last;
}

function parseBlock(block: string): SseEvent | undefined {
  if (block === '') return undefined;
  let event = 'message';
  let data: string | undefined;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
    else if (field === 'event') event = value;
  }
  return data === undefined ? undefined : { event, data };
}

/** Encodes one event in the wire format (data lines never contain raw newlines from JSON.stringify). */
export function formatSse(data: string, event?: string): string {
  return event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}
