// A RequestContext for unit tests and micro-benchmarks, with the defaults of a proxied OpenAI chat request, so a
// test spells out only what it is about.
import type { ChatRequest, Dialect, Operation } from '../../src/core/canonical.ts';
import { RequestContext, type ModelTarget, type ReplyPort } from '../../src/core/context.ts';

/** A client connection that accepts everything and sends nothing. */
export const noopReply: ReplyPort = { json() {}, startStream() {}, write() {}, end() {}, fail() {}, started: false };

export interface TestContextOptions {
  requestId?: string;
  /** performance.now() when omitted. */
  startedAt?: number;
  route?: string;
  method?: string;
  dialect?: Dialect;
  operation?: Operation;
  reply?: ReplyPort;
  headers?: Record<string, string | string[] | undefined>;
  clientAddress?: string;
  /** Its abort counts as the client leaving. */
  signal?: AbortSignal;
  body?: Record<string, any>;
  rawBody?: Buffer;
  chat?: ChatRequest;
  requestedModel?: string;
  stream?: boolean;
  target?: ModelTarget;
  /** Start an attempt at `target`, as dispatch would. */
  attempt?: boolean;
}

export function testContext(options: TestContextOptions = {}): RequestContext {
  const ctx = new RequestContext({
    requestId: options.requestId ?? 'req-1',
    startedAt: options.startedAt ?? performance.now(),
    signal: options.signal,
    route: options.route ?? '/v1/chat/completions',
    method: options.method ?? 'POST',
    dialect: options.dialect ?? 'openai',
    operation: options.operation ?? 'chat',
    reply: options.reply ?? noopReply,
    headers: options.headers ?? {},
    clientAddress: options.clientAddress,
  });
  if (options.body !== undefined) ctx.body = options.body;
  if (options.rawBody !== undefined) ctx.rawBody = options.rawBody;
  if (options.chat !== undefined) ctx.chat = options.chat;
  if (options.requestedModel !== undefined) ctx.requestedModel = options.requestedModel;
  if (options.stream !== undefined) ctx.stream = options.stream;
  if (options.target !== undefined) ctx.target = options.target;
  if (options.attempt) {
    if (!options.target) throw new Error('testContext: an attempt needs a target');
    ctx.addAttempt(options.target);
  }
  return ctx;
}
