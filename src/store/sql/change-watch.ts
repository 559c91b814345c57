// The refresh loop of a cached SQL table (keys, budgets): every write bumps a one-row version table in its
// own transaction, and each process reads that one number every `refreshMs`, reloading its cache only
// when the number moved. So a change made by another process (the CLI on the same SQLite file, another
// replica on PostgreSQL) shows within one interval, at the cost of a one-row read when nothing changed.
import type { SqlDatabase } from './database.ts';

export interface ChangeWatchOptions {
  readonly refreshMs: number;
  /** A failed periodic refresh: the cache stays as it was, and the next tick tries again. */
  readonly onError?: (err: unknown) => void;
}

/** Bumps `table`'s version; call it first in every writing transaction (on PostgreSQL its row lock also orders the writers). */
export async function bumpVersion(tx: SqlDatabase, table: string): Promise<void> {
  await tx.run(`UPDATE ${table} SET version = version + 1 WHERE id = 1`);
}

export class ChangeWatch {
  readonly #db: SqlDatabase;
  readonly #table: string;
  readonly #reload: () => Promise<boolean>;
  readonly #onError: (err: unknown) => void;
  readonly #listeners = new Set<() => void>();
  readonly #timer: NodeJS.Timeout;
  #version: number | undefined;
  #pending = 0;
  #tail: Promise<unknown> = Promise.resolve();

  /** `reload` rereads the table into the cache and says whether anything in it changed. */
  constructor(db: SqlDatabase, table: string, reload: () => Promise<boolean>, options: ChangeWatchOptions) {
    this.#db = db;
    this.#table = table;
    this.#reload = reload;
    this.#onError = options.onError ?? (() => {});
    this.#timer = setInterval(() => {
      // A slow database: one refresh at a time, ticks meanwhile are skipped rather than queued up.
      if (this.#pending === 0) this.refresh().catch(this.#onError);
    }, options.refreshMs);
    this.#timer.unref();
  }

  /** Reloads when the version moved since the last load; one at a time, each starting after the one before. */
  refresh(): Promise<void> {
    this.#pending++;
    const done = this.#tail.then(() => this.#check()).finally(() => this.#pending--);
    this.#tail = done.catch(() => {});
    return done;
  }

  /** `listener` runs after each reload that changed the cache; the function returned unsubscribes it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #check(): Promise<void> {
    // The version is read before the rows: a write landing in between is loaded now or on the next check, never missed.
    const [row] = await this.#db.query<{ version: number | string }>(`SELECT version FROM ${this.#table} WHERE id = 1`);
    const version = Number(row.version);
    if (version === this.#version) return;
    const changed = await this.#reload();
    this.#version = version;
    if (!changed) return;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (err) {
        this.#onError(err);
      }
    }
  }
}
