// Feeding a recorded fixture through a provider's decoder, as the transport hands bytes over: in one piece
// and split at arbitrary byte boundaries (a multi-byte character or an event may straddle two reads).
import type { StreamEvent } from '../../../src/core/canonical.ts';
import { readFixture, type FixtureProvider } from '../../helpers/fake-upstream-fixture.ts';

export const fixtureJson = (provider: FixtureProvider, name: string): unknown => JSON.parse(readFixture(provider, name, false).toString('utf8'));

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** The events decoded before the stream ended, and what ended it (undefined for a clean end). */
export async function decodeFixture(
  decode: (chunks: AsyncIterable<Buffer>) => AsyncIterable<StreamEvent>, provider: FixtureProvider, name: string, size: number,
): Promise<{ events: StreamEvent[]; error: unknown }> {
  const events: StreamEvent[] = [];
  try {
    for await (const event of decode(pieces(readFixture(provider, name, true), size))) events.push(event);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

/** Read sizes every fixture is decoded at: whole, one byte at a time, and sizes that split events mid-line. */
export const READ_SIZES = [1 << 20, 1, 7, 100];

/** The text and each tool call's whole argument string, reassembled from canonical events. */
export function reassemble(events: StreamEvent[]): { text: string; calls: { id: string; name: string; arguments: string }[] } {
  let text = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const event of events) {
    if (event.type === 'text') text += event.text;
    else if (event.type === 'tool_call') calls[event.index] = { id: event.id, name: event.name, arguments: '' };
    else if (event.type === 'tool_args') calls[event.index].arguments += event.delta;
  }
  return { text, calls };
}
