// Circuit-breaker openings shared by the gateways on one Redis (`${prefix}breakers`), so that when one replica
// opens a deployment's breaker the others skip it too instead of each paying the failures. Best effort: a
// message lost to an outage is not replayed (each replica's own breaker still opens on its own failures), and
// nothing here ever throws to the caller. A message carries its sender's id, so a gateway ignores its own.
import { randomUUID } from 'node:crypto';
import type { BreakerBus } from '../ports.ts';
import { RedisTopic, tellAll } from './topic.ts';

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
  /** This bus's sender id: its own messages come back through the subscription. */
  readonly #origin: string;
  readonly #topic: RedisTopic;
  readonly #listeners: Set<OpenListener>;

  private constructor(origin: string, topic: RedisTopic, listeners: Set<OpenListener>) {
    this.#origin = origin;
    this.#topic = topic;
    this.#listeners = listeners;
  }

  get channel(): string {
    return this.#topic.channel;
  }

  /** Resolves once the channel is subscribed to (or the first attempt failed: it is retried on reconnect). */
  static async open(options: RedisBreakerBusOptions): Promise<RedisBreakerBus> {
    const origin = randomUUID();
    const listeners = new Set<OpenListener>();
    const topic = await RedisTopic.open({
      url: options.url, commandTimeoutMs: options.commandTimeoutMs, channel: `${options.keyPrefix}breakers`, name: 'vigil-breakers',
      onMessage: (text) => {
        const message = parse(text);
        if (message !== undefined && message.from !== origin) tellAll(listeners, message.deployment, message.until);
      },
    });
    return new RedisBreakerBus(origin, topic, listeners);
  }

  /** Fire and forget: Redis unreachable loses the message, never the caller's request. */
  publishOpen(deploymentId: string, untilMs: number): void {
    const message: OpenMessage = { from: this.#origin, deployment: deploymentId, until: untilMs };
    void this.#topic.publish(JSON.stringify(message));
  }

  subscribe(listener: OpenListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#topic.close();
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
