// Circuit-breaker openings shared by the gateways on one Redis (`${prefix}breakers`), so that when one replica
// opens a deployment's breaker the others skip it too instead of each paying the failures. Best effort: a
// message lost to an outage is not replayed (each replica's own breaker still opens on its own failures), and
// nothing here ever throws to the caller. A message carries its sender's id, so a gateway ignores its own.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BreakerBus } from '../ports.ts';
import { connect } from './connection.ts';

export interface RedisBreakerBusOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
}

type OpenListener = (deploymentId: string, untilMs: number) => void;

interface OpenMessage {
  from: string;
  deployment: string;
  until: number;
}

export class RedisBreakerBus implements BreakerBus {
  readonly channel: string;
  /** This bus's sender id: its own messages come back through the subscription. */
  readonly #origin = randomUUID();
  /** A subscribed connection can only listen, so publishing has its own. */
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #listeners = new Set<OpenListener>();
  /** Settles the first subscribe (or first failure) for open(). */
  #firstAttempt: () => void = () => {};

  constructor(options: RedisBreakerBusOptions) {
    this.channel = `${options.keyPrefix}breakers`;
    this.#publisher = connect(options.url, options.commandTimeoutMs, 'vigil-breakers-pub');
    // Subscribed on every ready below, so autoResubscribe would only subscribe twice.
    this.#subscriber = connect(options.url, options.commandTimeoutMs, 'vigil-breakers-sub', { autoResubscribe: false });
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.#receive(message);
    });
    this.#subscriber.on('ready', () => void this.#subscribe());
  }

  /** Resolves once the channel is subscribed to (or the first attempt failed: it is retried on reconnect). */
  static async open(options: RedisBreakerBusOptions): Promise<RedisBreakerBus> {
    const bus = new RedisBreakerBus(options);
    const subscriber = bus.#subscriber;
    await new Promise<void>((resolve) => {
      const settled = (): void => {
        subscriber.off('error', settled);
        bus.#firstAttempt = () => {};
        resolve();
      };
      bus.#firstAttempt = settled;
      subscriber.on('error', settled);
    });
    return bus;
  }

  /** Fire and forget: Redis unreachable loses the message, never the caller's request. */
  publishOpen(deploymentId: string, untilMs: number): void {
    const message: OpenMessage = { from: this.#origin, deployment: deploymentId, until: untilMs };
    this.#publisher.publish(this.channel, JSON.stringify(message)).catch(() => {});
  }

  subscribe(listener: OpenListener): () => void {
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
  }

  #receive(text: string): void {
    const message = parse(text);
    if (message === undefined || message.from === this.#origin) return;
    for (const listener of this.#listeners) {
      try {
        listener(message.deployment, message.until);
      } catch {
        // One listener's failure must not keep the others from hearing of the opening.
      }
    }
  }
}

/** A well-formed opening, or undefined for anything else on the channel. */
function parse(text: string): OpenMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { from, deployment, until } = value as Record<string, unknown>;
  if (typeof from !== 'string' || typeof deployment !== 'string' || typeof until !== 'number' || !Number.isFinite(until)) return undefined;
  return { from, deployment, until };
}
