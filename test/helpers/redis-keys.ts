// Tests on the machine's shared Redis each count under a prefix of their own, and delete it after.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

export function uniquePrefix(): string {
  return `vigil-test-${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never FLUSHALL). */
export async function deletePrefix(prefix: string, url = SHARED_REDIS_URL): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A plain client to look at what the adapters wrote. */
export function inspector(url = SHARED_REDIS_URL): Redis {
  return new Redis(url);
}
