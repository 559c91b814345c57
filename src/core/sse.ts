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
  /** Where to resume looking for a blank line, so a large event arriving in pieces is scanned once. */
  let searchFrom = 0;
  /** A chunk ending in \r may be half of \r\n: hold it back until the next chunk says which. */
  let carriage = false;
  for await (const chunk of chunks) {
    let text = decoder.decode(chunk, { stream: true });
    if (carriage) text = `\r${text}`;
    carriage = text.endsWith('\r');
    if (carriage) text = text.slice(0, -1);
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    pending += text;
    let boundary = pending.indexOf('\n\n', searchFrom);
    while (boundary !== -1) {
      const event = parseBlock(pending.slice(0, boundary));
      if (event) yield event;
      pending = pending.slice(boundary + 2);
      boundary = pending.indexOf('\n\n');
    }
    searchFrom = Math.max(0, pending.length - 1);
  }
  pending += decoder.decode() + (carriage ? '\n' : '');
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
