// What a provider is to the rest of the gateway: translation between the canonical shape (or the
// client's own wire format, when dialects match) and one upstream API. Transport is injected as `send`.
import type { Attempt } from '../core/attempt.ts';
import type { ChatOutput, Dialect, EmbeddingsOutput } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';

export interface HttpCall {
  /** Path below the provider's base URL, e.g. `/chat/completions`. */
  path: string;
  /** As [name, value, …]: the list undici reads as it is, with no object to walk per call. */
  headers: string[];
  body: string | Buffer;
  /** Absent: POST. Only forwarded calls (Provider.forward) use other methods. */
  method?: string;
}

/** A call Vigil does not model, sent with the provider's own credentials (Provider.forward). */
export interface ForwardCall {
  method: string;
  /** Below the API's version root, the same for every kind: `/files`, `/messages/count_tokens`. */
  path: string;
  body: string | Buffer | undefined;
  /** The client's content type (multipart for files, audio); absent: JSON. */
  contentType?: string;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  chunks: AsyncIterable<Buffer>;
  /** The whole body, as received: a passthrough answer goes to the client as these bytes, never re-encoded. */
  bytes(): Promise<Buffer>;
  text(): Promise<string>;
}

/** Sends `call` as `attempt` (routing/upstream.ts), writing its times, status, error, span and cancel handle. */
export type Send = (ctx: RequestContext, attempt: Attempt, call: HttpCall) => Promise<UpstreamResponse>;

export interface Provider {
  readonly id: string;
  readonly kind: 'openai' | 'anthropic' | 'openai-compatible' | 'mock';
  /** The wire dialect it speaks; requests in the same dialect pass through, others go via the canonical shape. */
  readonly dialect: Dialect | undefined;
  /** Why this provider cannot serve traffic (e.g. its key reference does not resolve); undefined when it can. */
  readonly unavailableReason: string | undefined;
  readonly supportsEmbeddings: boolean;
  /** One attempt at `attempt.target`; the provider writes what the answer says (usage, first token) to it. */
  chat(ctx: RequestContext, attempt: Attempt): Promise<ChatOutput>;
  /**
   * Present when the upstream serves OpenAI's Responses API: a Responses request passes through to it
   * (its answer in the client's own wire format); otherwise dispatch decodes it for `chat`.
   */
  readonly responses?: ((ctx: RequestContext, attempt: Attempt) => Promise<ChatOutput>) | undefined;
  embeddings(ctx: RequestContext, attempt: Attempt): Promise<EmbeddingsOutput>;
  /** HTTP providers: `call` sent as it is with this provider's base URL and credential headers; the mock has none. */
  forward?(ctx: RequestContext, attempt: Attempt, call: ForwardCall): Promise<UpstreamResponse>;
}
