// The response cache in this process's memory (routing.cache.store: memory, the default): least recently
// used first out past max_entries, each entry until its TTL, answers over max_entry_bytes never kept.
// A Map keeps insertion order, so a hit moves its entry to the end (delete + set) and the first entry is
// always the least recently used: no list to maintain, nothing allocated on a hit.
import type { CachedAnswer, ResponseCache } from '../ports.ts';

export interface MemoryResponseCacheOptions {
  /** Entries kept; past it the least recently used goes. */
  maxEntries: number;
  /** Largest answer body kept, in bytes (UTF-8). */
  maxEntryBytes: number;
  /** The clock in ms (tests move it). */
  now?: () => number;
}

interface Entry {
  readonly answer: CachedAnswer;
  readonly expiresAt: number;
}

export class MemoryResponseCache implements ResponseCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxEntryBytes: number;
  readonly #now: () => number;

  constructor(options: MemoryResponseCacheOptions) {
    this.#maxEntries = options.maxEntries;
    this.#maxEntryBytes = options.maxEntryBytes;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): CachedAnswer | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#now()) return undefined;
    this.#entries.set(key, entry); // now the most recently used
    return entry.answer;
  }

  set(key: string, answer: CachedAnswer, ttlMs: number): void {
    if (ttlMs <= 0 || Buffer.byteLength(answer.body) > this.#maxEntryBytes) return;
    this.#entries.delete(key);
    this.#entries.set(key, { answer, expiresAt: this.#now() + ttlMs });
    if (this.#entries.size > this.#maxEntries) this.#evictOldest();
  }

  /** Entries held, expired ones not yet looked up or pushed out included (they go on their next lookup or eviction). */
  size(): number {
    return this.#entries.size;
  }

  #evictOldest(): void {
    for (const key of this.#entries.keys()) {
      this.#entries.delete(key);
      return;
    }
  }
}
