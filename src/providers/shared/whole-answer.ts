// A whole (non-streamed) chat answer, alike for every HTTP provider: decoded once for the result and its
// usage; in the client's own dialect it goes back as the upstream's bytes, never re-encoded.
import type { Attempt } from '../../core/attempt.ts';
import type { ChatOutput, ChatResult } from '../../core/canonical.ts';
import type { RequestContext } from '../../core/context.ts';
import type { UpstreamResponse } from '../provider.ts';
import { parseUpstreamJson } from './parse-json.ts';

export async function wholeAnswer(
  ctx: RequestContext, attempt: Attempt, res: UpstreamResponse, passthrough: boolean, decode: (parsed: any) => ChatResult,
): Promise<ChatOutput> {
  const bytes = await res.bytes();
  const result = decode(parseUpstreamJson(bytes.toString('utf8')));
  if (!passthrough) return { kind: 'result', result };
  ctx.noteResult(attempt, result);
  return { kind: 'json', body: bytes };
}
