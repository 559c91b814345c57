// Changes to keys and budgets, pushed to every gateway sharing Redis on `${prefix}changes`, so a key
// revoked anywhere refreshes each gateway's cache at once. Polling at store.refresh_ms stays the guarantee:
// a message lost to an outage is caught by the next poll, and after a reconnect every listener is told
// both kinds at once, since anything published meanwhile was missed.
import { RedisTopic, tellAll } from './topic.ts';

export type ChangeKind = 'keys' | 'budgets';

export type ChangeListener = (kind: ChangeKind) => void;

export interface RedisChangeChannelOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
}

const KINDS: readonly ChangeKind[] = ['keys', 'budgets'];

export class RedisChangeChannel {
  readonly #topic: RedisTopic;
  readonly #listeners: Set<ChangeListener>;

  private constructor(topic: RedisTopic, listeners: Set<ChangeListener>) {
    this.#topic = topic;
    this.#listeners = listeners;
  }

  get channel(): string {
    return this.#topic.channel;
  }

  /** Resolves once the channel is subscribed to (or the first attempt failed: it is retried on reconnect). */
  static async open(options: RedisChangeChannelOptions): Promise<RedisChangeChannel> {
    const listeners = new Set<ChangeListener>();
    const topic = await RedisTopic.open({
      url: options.url, commandTimeoutMs: options.commandTimeoutMs, channel: `${options.keyPrefix}changes`, name: 'vigil-changes',
      onMessage: (message) => {
        if ((KINDS as readonly string[]).includes(message)) tellAll(listeners, message as ChangeKind);
      },
      onResubscribed: () => { for (const kind of KINDS) tellAll(listeners, kind); },
    });
    return new RedisChangeChannel(topic, listeners);
  }

  /** Tells every gateway (this one included) that `kind` changed; false when Redis could not take it. */
  publish(kind: ChangeKind): Promise<boolean> {
    return this.#topic.publish(kind);
  }

  /** Calls `listener` on each change; returns its unsubscribe. */
  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#topic.close();
  }
}
