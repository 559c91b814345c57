// One Redis pub/sub channel with the two connections it needs (a subscribed connection can only listen):
// subscribed again on every reconnect, and told when that happened, since anything published meanwhile
// was missed. The change channel and the breaker bus are thin users of it. Nothing here throws to a caller.
import type { Redis } from 'ioredis';
import { connect } from './connection.ts';

export interface TopicOptions {
  url: string;
  commandTimeoutMs: number;
  /** The full channel name (prefix included). */
  channel: string;
  /** Names the connections (CLIENT SETNAME) as `<name>-pub` and `<name>-sub`. */
  name: string;
  /** Each message on the channel. */
  onMessage(message: string): void;
  /** Subscribed again after a reconnect (not after the first subscribe). */
  onResubscribed?(): void;
}

export class RedisTopic {
  readonly channel: string;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #options: TopicOptions;
  #subscribedOnce = false;
  /** Settles the first subscribe (or first failure) for open(). */
  #firstAttempt: () => void = () => {};

  private constructor(options: TopicOptions) {
    this.#options = options;
    this.channel = options.channel;
    this.#publisher = connect(options.url, options.commandTimeoutMs, `${options.name}-pub`);
    // Subscribed on every ready below, so autoResubscribe would only subscribe twice.
    this.#subscriber = connect(options.url, options.commandTimeoutMs, `${options.name}-sub`, { autoResubscribe: false });
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) options.onMessage(message);
    });
    this.#subscriber.on('ready', () => void this.#subscribe());
  }

  /** Resolves once the channel is subscribed to (or the first attempt failed: it is retried on reconnect). */
  static async open(options: TopicOptions): Promise<RedisTopic> {
    const topic = new RedisTopic(options);
    const subscriber = topic.#subscriber;
    await new Promise<void>((resolve) => {
      const settled = (): void => {
        subscriber.off('error', settled);
        topic.#firstAttempt = () => {};
        resolve();
      };
      topic.#firstAttempt = settled;
      subscriber.on('error', settled);
    });
    return topic;
  }

  /** False when Redis could not take the message. */
  async publish(message: string): Promise<boolean> {
    try {
      await this.#publisher.publish(this.channel, message);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#subscriber.subscribe(this.channel);
    } catch {
      return; // the connection dropped again: its next ready retries
    }
    this.#firstAttempt();
    if (this.#subscribedOnce) this.#options.onResubscribed?.();
    this.#subscribedOnce = true;
  }
}

/** Calls each listener; one listener's failure must not keep the others from hearing. */
export function tellAll<A extends unknown[]>(listeners: Iterable<(...args: A) => void>, ...args: A): void {
  for (const listener of listeners) {
    try {
      listener(...args);
    } catch {
      // ignored: see above
    }
  }
}
