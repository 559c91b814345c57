// Encode: write the provider's answer to the client in the client's dialect, chunk by chunk for streams.
// Canonical stream events are tapped here for first-token time and usage; passthrough streams were
// tapped by their provider, which alone understands that wire format.
import type { ChatOutput, ChatResult, StreamEvent } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { toGatewayError } from '../core/errors.ts';
import { encodeAnthropicMessage, encodeAnthropicStream } from '../surfaces/anthropic-messages.ts';
import { encodeOpenAIChat, encodeOpenAIChatStream } from '../surfaces/openai-chat.ts';
import { encodeOpenAIEmbeddings } from '../surfaces/openai-embeddings.ts';
import { encodeOpenAIResponse, encodeOpenAIResponseStream } from '../surfaces/openai-responses-encode.ts';

export async function encodeChat(ctx: RequestContext): Promise<void> {
  const output = ctx.output!;
  switch (output.kind) {
    case 'json':
    case 'result':
      return ctx.reply.json(200, chatJson(ctx, output as WholeChatOutput), overheadHeader(ctx));
    case 'sse':
      return pump(ctx, output.chunks);
    case 'events': {
      const events = tap(ctx, output.events);
      return pump(ctx, ctx.dialect === 'openai'
        ? encodeOpenAIChatStream(events, ctx.requestedModel, ctx.streamUsage)
        : encodeAnthropicStream(events, ctx.requestedModel));
    }
  }
}

/** A provider's whole (not streamed) chat answer. */
export type WholeChatOutput = Extract<ChatOutput, { kind: 'json' | 'result' }>;

/** A whole chat answer as the bytes the client gets; a canonical result is noted on the attempt. */
export function chatJson(ctx: RequestContext, output: WholeChatOutput): string | Buffer {
  if (output.kind === 'json') return output.body;
  const result = output.result;
  ctx.noteResult(ctx.attempt!, result);
  return ctx.dialect === 'openai' ? encodeOpenAIChat(result, ctx.requestedModel) : encodeAnthropicMessage(result, ctx.requestedModel);
}

/** OpenAI Responses: the upstream's own bytes when it serves the API, else the canonical answer encoded. */
export async function encodeResponses(ctx: RequestContext): Promise<void> {
  const output = ctx.output!;
  switch (output.kind) {
    case 'json':
      return ctx.reply.json(200, output.body, overheadHeader(ctx));
    case 'result': {
      const result = output.result as ChatResult;
      ctx.noteResult(ctx.attempt!, result);
      return ctx.reply.json(200, encodeOpenAIResponse(result, ctx.requestedModel), overheadHeader(ctx));
    }
    case 'sse':
      return pump(ctx, output.chunks);
    case 'events':
      return pump(ctx, encodeOpenAIResponseStream(tap(ctx, output.events), ctx.requestedModel));
  }
}

export function encodeEmbeddings(ctx: RequestContext): void {
  const output = ctx.output!;
  if (output.kind === 'json') ctx.reply.json(200, output.body, overheadHeader(ctx));
  else if (output.kind === 'result' && 'vectors' in output.result) ctx.reply.json(200, encodeOpenAIEmbeddings(output.result, ctx.requestedModel), overheadHeader(ctx));
}

/**
 * The response opens only once the first chunk exists, so a failure before it still gets a proper HTTP
 * error status; later failures are reported in-stream by the server. Writes wait for the client to drain.
 * A client gone mid-stream costs the loop nothing: the abort check it always made leads to the drain.
 */
async function pump(ctx: RequestContext, chunks: AsyncIterable<string>): Promise<void> {
  for await (const chunk of chunks) {
    if (ctx.abortReason) await drainOn(ctx, chunks); // throws; awaited in the loop, which closes the stream only after it
    if (!ctx.reply.started) ctx.reply.startStream();
    const drained = ctx.reply.write(chunk);
    if (drained) await drained;
  }
  if (ctx.drain) await drainOn(ctx, chunks); // the client left as the last chunk came
  if (!ctx.reply.started) ctx.reply.startStream();
  ctx.reply.end();
}

/**
 * After an abort: a drained stream (core/drain.ts) is read on, written nowhere, so the taps note its final
 * usage, until it ends or a cap cancels it (leaving the loop early closes the upstream too); then, as with
 * no drain, the request ends as aborted.
 */
async function drainOn(ctx: RequestContext, chunks: AsyncIterable<string>): Promise<never> {
  const drain = ctx.drain;
  if (drain) {
    try {
      for await (const chunk of chunks) {
        drain.read(Buffer.byteLength(chunk));
        if (drain.result !== undefined) break;
      }
      drain.end();
    } catch (err) {
      drain.end(toGatewayError(err)); // no-op once capped: the cancel is what threw
    }
  }
  throw ctx.abortReason!;
}

/**
 * `x-vigil-overhead-ms`: what the gateway added so far (everything but the upstream attempts), for clients
 * to see per response what vigil_gateway_overhead_seconds shows in aggregate. Not on streams, whose
 * headers leave before the upstream has finished.
 */
export function overheadHeader(ctx: RequestContext): Record<string, string> | undefined {
  const now = performance.now() - ctx.startedAt;
  const upstream = ctx.upstreamMs(now);
  return upstream < 0 ? undefined : { 'x-vigil-overhead-ms': (now - upstream).toFixed(3) };
}

/** First-token time and usage go on the attempt that answers; the tools and finish reason on the request. */
async function* tap(ctx: RequestContext, events: AsyncIterable<StreamEvent>): AsyncGenerator<StreamEvent> {
  const attempt = ctx.attempt!;
  for await (const event of events) {
    if (attempt.firstTokenAt < 0 && (event.type === 'text' || event.type === 'tool_call')) attempt.firstTokenAt = performance.now() - ctx.startedAt;
    if (event.type === 'tool_call') ctx.toolCalls.push(event.name);
    else if (event.type === 'usage') attempt.usage = event.usage;
    else if (event.type === 'finish') ctx.finishReason = event.reason;
    yield event;
  }
}
