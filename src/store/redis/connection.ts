// One ioredis connection set up so a Redis outage never holds a request: no offline queue (a command
// while disconnected fails at once), no retry of a failed command, a timeout on every command, and a
// reconnect loop with backoff that never gives up, so Redis is used again as soon as it is back.
import { Redis, type RedisOptions } from 'ioredis';

/** Reconnect backoff: 50 ms doubling up to this. */
const MAX_BACKOFF_MS = 2_000;

export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), MAX_BACKOFF_MS);
}

export function connect(url: string, commandTimeoutMs: number, name: string, extra: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    // A connect attempt to an address that does not answer is given up on quickly, then retried.
    connectTimeout: Math.max(commandTimeoutMs, 1_000),
    retryStrategy: reconnectDelay,
    connectionName: name,
    ...extra,
  });
  // Without a listener ioredis prints every failed reconnect; callers learn of failures from commands and events.
  client.on('error', () => {});
  return client;
}

/** Resolves after the first connection attempt, whether it succeeded or not (later ones go on in the background). */
export function firstAttempt(client: Redis): Promise<void> {
  return new Promise<void>((resolve) => {
    const settled = (): void => {
      client.off('ready', settled);
      client.off('error', settled);
      resolve();
    };
    client.on('ready', settled);
    client.on('error', settled);
  });
}
