// The response cache in Redis (routing.cache.store: redis), shared by every gateway on the same Redis:
// one GET per lookup, one SET … PX per store, under `${prefix}cache:<key>`. A cache is an optimisation, so
// Redis being down, slow or answering nonsense is a miss (or a store skipped), never an error, and never a
// wait past the command timeout (connection.ts: no offline queue, no retries, a timeout on every command).
//
// Bounds: entries expire by their TTL and answers over max_entry_bytes are not stored; how many entries
// Redis keeps is Redis's own business (its maxmemory policy), so size() answers 0: the cache-entries gauge
// counts this process's memory only.
//
// A value is one line of JSON (deployment id and usage) then the answer's bytes as the client got them, so a
// hit parses a few dozen bytes and hands the body on untouched.
import type { Redis } from 'ioredis';
import type { CachedAnswer, QueryObserver, ResponseCache } from '../ports.ts';
import { connect, firstAttempt } from './connection.ts';

export interface RedisResponseCacheOptions {
  url: string;
  keyPrefix: string;
  /** A command slower than this is given up: a miss, or a store skipped. */
  commandTimeoutMs: number;
  /** Largest answer body stored, in bytes (UTF-8). */
  maxEntryBytes: number;
  /** Told each GET's and SET's duration (operations `cache_get`, `cache_set`). */
  onQuery?: QueryObserver;
}

/** The line before the body: the deployment id and the usage as [input, output, cached input]. */
interface Meta {
  d: string;
  u: [number, number, number];
}

export class RedisResponseCache implements ResponseCache {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #maxEntryBytes: number;
  readonly #onQuery: QueryObserver | undefined;

  constructor(options: RedisResponseCacheOptions) {
    this.#prefix = `${options.keyPrefix}cache:`;
    this.#maxEntryBytes = options.maxEntryBytes;
    this.#onQuery = options.onQuery;
    this.#client = connect(options.url, options.commandTimeoutMs, 'vigil-cache');
  }

  /** A cache whose first connection attempt has been made (ready, or failed and reconnecting). */
  static async open(options: RedisResponseCacheOptions): Promise<RedisResponseCache> {
    const cache = new RedisResponseCache(options);
    await firstAttempt(cache.#client);
    return cache;
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    if (this.#client.status !== 'ready') return undefined; // reconnecting: a miss at once
    const started = performance.now();
    let value: string | null;
    try {
      value = await this.#client.get(this.#prefix + key);
    } catch {
      return undefined;
    }
    this.#onQuery?.('cache_get', (performance.now() - started) / 1000);
    return value === null ? undefined : parse(value);
  }

  async set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    if (ttlMs <= 0 || this.#client.status !== 'ready' || Buffer.byteLength(answer.body) > this.#maxEntryBytes) return;
    const { usage } = answer;
    const meta: Meta = { d: answer.deploymentId, u: [usage.inputTokens, usage.outputTokens, usage.cachedInputTokens] };
    const started = performance.now();
    try {
      await this.#client.set(this.#prefix + key, `${JSON.stringify(meta)}\n${answer.body}`, 'PX', Math.ceil(ttlMs));
    } catch {
      return; // not stored: the next identical request misses and stores again
    }
    this.#onQuery?.('cache_set', (performance.now() - started) / 1000);
  }

  /** Always 0: Redis holds the entries, shared by every gateway (see the header). */
  size(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}

/** A stored value back to an answer; undefined (a miss) for anything this adapter did not write. */
function parse(value: string): CachedAnswer | undefined {
  const newline = value.indexOf('\n');
  if (newline < 0) return undefined;
  try {
    const meta = JSON.parse(value.slice(0, newline)) as Meta;
    if (typeof meta.d !== 'string' || !Array.isArray(meta.u) || meta.u.length !== 3) return undefined;
    const [inputTokens, outputTokens, cachedInputTokens] = meta.u;
    return { body: value.slice(newline + 1), usage: { inputTokens, outputTokens, cachedInputTokens }, deploymentId: meta.d };
  } catch {
    return undefined;
  }
}
