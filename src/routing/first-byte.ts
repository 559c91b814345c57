// A stream can fail after its response headers and before its first event (an error event, a reset, a
// stall): still retryable, since nothing reached the client. Dispatch pulls the first chunk (or canonical
// event) itself and hands encode a stream that replays it, then reads on; once dispatch has returned, the
// stream is the client's and is never retried.
import type { ChatOutput, EmbeddingsOutput } from '../core/canonical.ts';

/** `output` with its stream's first element already read (a failure before it is thrown here); other outputs as they are. */
export async function firstByte(output: ChatOutput | EmbeddingsOutput): Promise<ChatOutput | EmbeddingsOutput> {
  if (output.kind === 'sse') return { kind: 'sse', chunks: await primed(output.chunks) };
  if (output.kind === 'events') return { kind: 'events', events: await primed(output.events) };
  return output;
}

async function primed<T>(source: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const iterator = source[Symbol.asyncIterator]();
  return new Primed(iterator, await iterator.next());
}

/** Replays the element read ahead, then reads on: no generator, so each later chunk costs one call more. */
class Primed<T> implements AsyncIterable<T>, AsyncIterator<T> {
  readonly #iterator: AsyncIterator<T>;
  #first: IteratorResult<T> | undefined;

  constructor(iterator: AsyncIterator<T>, first: IteratorResult<T>) {
    this.#iterator = iterator;
    this.#first = first;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    const first = this.#first;
    if (first === undefined) return this.#iterator.next();
    this.#first = undefined;
    return Promise.resolve(first);
  }

  /** The consumer stopped early: the upstream call is released through the source's own return. */
  return(value?: any): Promise<IteratorResult<T>> {
    this.#first = undefined;
    return this.#iterator.return ? this.#iterator.return(value) : Promise.resolve({ done: true, value });
  }
}
