// Changes to keys and budgets, pushed to every gateway sharing Redis on `${prefix}changes`, so a key
// revoked anywhere refreshes each gateway's cache at once. Polling at store.refresh_ms stays the guarantee:
// a message lost to an outage is caught by the next poll, and after a reconnect every listener is told
// both kinds at once, since anything published meanwhile was missed.
import type { Redis } from 'ioredis';
import { connect } from './connection.ts';

export type ChangeKind = 'keys' | 'budgets';

export type ChangeListener = (kind: ChangeKind) => void;

export interface RedisChangeChannelOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
}

const KINDS: readonly ChangeKind[] = ['keys', 'budgets'];

export class RedisChangeChannel {
  readonly channel: string;
  /** A subscribed connection can only listen, so publishing has its own. */
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #listeners = new Set<ChangeListener>();
  #subscribedOnce = false;
  /** Settles the first subscribe (or first failure) for open(). */
  #firstAttempt: () => void = () => {};

  constructor(options: RedisChangeChannelOptions) {
    this.channel = `${options.keyPrefix}changes`;
    this.#publisher = connect(options.url, options.commandTimeoutMs, 'vigil-changes-pub');
    // Subscribed on every ready below, so autoResubscribe would only subscribe twice.
    this.#subscriber = connect(options.url, options.commandTimeoutMs, 'vigil-changes-sub', { autoResubscribe: false });
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel && (KINDS as readonly string[]).includes(message)) this.#tell(message as ChangeKind);
    });
    this.#subscriber.on('ready', () => void this.#subscribe());
  }

  /** Resolves once the channel is subscribed to (or the first attempt failed: it is retried on reconnect). */
  static async open(options: RedisChangeChannelOptions): Promise<RedisChangeChannel> {
    const channel = new RedisChangeChannel(options);
    const subscriber = channel.#subscriber;
    await new Promise<void>((resolve) => {
      const settled = (): void => {
        subscriber.off('error', settled);
        channel.#firstAttempt = () => {};
        resolve();
      };
      channel.#firstAttempt = settled;
      subscriber.on('error', settled);
    });
    return channel;
  }

  /** Tells every gateway (this one included) that `kind` changed; false when Redis could not take it. */
  async publish(kind: ChangeKind): Promise<boolean> {
    try {
      await this.#publisher.publish(this.channel, kind);
      return true;
    } catch {
      return false;
    }
  }

  /** Calls `listener` on each change; returns its unsubscribe. */
  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
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
    if (this.#subscribedOnce) for (const kind of KINDS) this.#tell(kind);
    this.#subscribedOnce = true;
  }

  #tell(kind: ChangeKind): void {
    for (const listener of this.#listeners) {
      try {
        listener(kind);
      } catch {
        // One listener's failure must not keep the others from hearing of the change.
      }
    }
  }
}
