// Gateway keys issued at run time (CLI, admin API), in the shared SQL database. `lookup` answers from a
// cache of every key (hash → record, each with its Principal built and frozen once), reloaded by a
// ChangeWatch when any process writes: the request path never waits for the database.
import { keyState, type KeyState } from '../../core/key-hash.ts';
import type { Principal } from '../../core/principal.ts';
import type { KeyRecord, KeyStore, NewKey } from '../ports.ts';
import { bumpVersion, ChangeWatch } from './change-watch.ts';
import type { SqlDatabase, SqlValue } from './database.ts';
import { KEYS_MIGRATIONS } from './keys-schema.ts';
import { migrate } from './migrate.ts';

export interface SqlKeyStoreOptions {
  /** How often to look for changes made by other processes (store.refresh_ms). */
  readonly refreshMs: number;
  /** The clock for `createdAt` (ms). */
  readonly now?: () => number;
  /** A refresh that failed (the cache stays as it was), or an onChange listener that threw. */
  readonly onError?: (err: unknown) => void;
}

/** Issuing (or rotating to) an id or hash some key already has. */
export class DuplicateKeyError extends Error {
  constructor(what: 'id' | 'hash', id: string) {
    super(what === 'id' ? `a key with id ${id} already exists` : `key ${id}: another key has the same hash`);
    this.name = 'DuplicateKeyError';
  }
}

/** A row of api_keys as a driver returns it (PostgreSQL answers BIGINT as text). */
type KeyRow = {
  id: string;
  hash: string;
  name: string | null;
  user_id: string | null;
  team_id: string | null;
  models: string | null;
  rpm: number | string | null;
  tpm: number | string | null;
  max_parallel: number | string | null;
  daily_budget_usd: number | null;
  monthly_budget_usd: number | null;
  metadata: string | null;
  created_at: number | string;
  expires_at: number | string | null;
  revoked_at: number | string | null;
  replaced_by: string | null;
};

const COLUMNS = 'id, hash, name, user_id, team_id, models, rpm, tpm, max_parallel, daily_budget_usd, monthly_budget_usd, metadata, created_at, expires_at, revoked_at, replaced_by';
/** The attributes a rotated key takes over from the key it replaces. */
const ATTRIBUTES = 'name, user_id, team_id, models, rpm, tpm, max_parallel, daily_budget_usd, monthly_budget_usd, metadata, expires_at';
/** The earlier of the revocation already set and `?`: revoking again never postpones it. */
const REVOKE_AT = 'revoked_at = CASE WHEN revoked_at IS NULL OR revoked_at > ? THEN ? ELSE revoked_at END';

export class SqlKeyStore implements KeyStore {
  readonly #db: SqlDatabase;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  readonly #watch: ChangeWatch;
  /** id → the row's text and the record built from it, so an unchanged row keeps its record (and Principal). */
  #byId = new Map<string, { text: string; record: KeyRecord }>();
  #byHash = new Map<string, KeyRecord>();

  /** Applies the migrations, loads every key and starts watching for changes. */
  static async open(db: SqlDatabase, options: SqlKeyStoreOptions): Promise<SqlKeyStore> {
    await migrate(db, 'keys', KEYS_MIGRATIONS);
    const store = new SqlKeyStore(db, options);
    try {
      await store.refresh();
    } catch (err) {
      store.#watch.close();
      throw err;
    }
    return store;
  }

  private constructor(db: SqlDatabase, options: SqlKeyStoreOptions) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    this.#watch = new ChangeWatch(db, 'key_changes', () => this.#reload(), options);
  }

  get size(): number {
    return this.#byHash.size;
  }

  lookup(hash: string): KeyRecord | undefined {
    return this.#byHash.get(hash);
  }

  async issue(key: NewKey): Promise<KeyRecord> {
    const p = key.principal;
    await this.#db.transaction(async (tx) => {
      await bumpVersion(tx, 'key_changes');
      await assertFree(tx, key.id, key.hash);
      await tx.run(
        `INSERT INTO api_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
        [key.id, key.hash, p.name ?? null, p.user ?? null, p.team ?? null, json(p.allowedModels), p.limits?.requestsPerMinute ?? null,
          p.limits?.tokensPerMinute ?? null, p.limits?.maxParallel ?? null, p.budget?.dailyUsd ?? null, p.budget?.monthlyUsd ?? null,
          json(key.metadata), this.#now(), key.expiresAt ?? null],
      );
    });
    const [record] = await this.#written(key.id);
    return record;
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    await this.refresh();
    return this.#byId.get(id)?.record;
  }

  async list(): Promise<KeyRecord[]> {
    await this.refresh();
    return [...this.#byId.values()].map((entry) => entry.record).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async revoke(id: string, atMs: number): Promise<KeyRecord | undefined> {
    const found = await this.#db.transaction(async (tx) => {
      await bumpVersion(tx, 'key_changes');
      return (await tx.run(`UPDATE api_keys SET ${REVOKE_AT} WHERE id = ?`, [atMs, atMs, id])) > 0;
    });
    return found ? (await this.#written(id))[0] : undefined;
  }

  async rotate(id: string, next: { id: string; hash: string }, oldUntilMs: number): Promise<{ old: KeyRecord; next: KeyRecord } | undefined> {
    const found = await this.#db.transaction(async (tx) => {
      await bumpVersion(tx, 'key_changes');
      if ((await tx.query('SELECT id FROM api_keys WHERE id = ?', [id])).length === 0) return false;
      await assertFree(tx, next.id, next.hash);
      await tx.run(
        `INSERT INTO api_keys (id, hash, created_at, ${ATTRIBUTES}) SELECT ?, ?, ?, ${ATTRIBUTES} FROM api_keys WHERE id = ?`,
        [next.id, next.hash, this.#now(), id],
      );
      await tx.run(`UPDATE api_keys SET ${REVOKE_AT}, replaced_by = ? WHERE id = ?`, [oldUntilMs, oldUntilMs, next.id, id]);
      return true;
    });
    if (!found) return undefined;
    const [old, nextRecord] = await this.#written(id, next.id);
    return { old, next: nextRecord };
  }

  counts(nowMs: number): Record<KeyState, number> {
    const counts: Record<KeyState, number> = { active: 0, revoked: 0, expired: 0 };
    for (const record of this.#byHash.values()) counts[keyState(record, nowMs)]++;
    return counts;
  }

  refresh(): Promise<void> {
    return this.#watch.refresh();
  }

  /** `listener` runs after a refresh that changed some key (here or in another process); returns its unsubscribe. */
  onChange(listener: () => void): () => void {
    return this.#watch.onChange(listener);
  }

  /** Stops the refresh loop; the database stays open (whoever opened it closes it). */
  async close(): Promise<void> {
    this.#watch.close();
  }

  /** Brings the cache up to a write this process just committed and answers keys `ids` (which exist) from it. */
  async #written(...ids: string[]): Promise<KeyRecord[]> {
    try {
      await this.refresh();
      return ids.map((id) => this.#byId.get(id)!.record);
    } catch (err) {
      // Committed all the same: report, and answer from the database alone.
      this.#onError(err);
      const rows = await Promise.all(ids.map((id) => this.#db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`, [id])));
      return rows.map(([row]) => recordOf(row));
    }
  }

  async #reload(): Promise<boolean> {
    const rows = await this.#db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys`);
    const byId = new Map<string, { text: string; record: KeyRecord }>();
    const byHash = new Map<string, KeyRecord>();
    let changed = rows.length !== this.#byId.size;
    for (const row of rows) {
      const text = JSON.stringify(row);
      const known = this.#byId.get(row.id);
      const entry = known?.text === text ? known : { text, record: recordOf(row) };
      if (entry !== known) changed = true;
      byId.set(row.id, entry);
      byHash.set(row.hash, entry.record);
    }
    this.#byId = byId;
    this.#byHash = byHash;
    return changed;
  }
}

async function assertFree(tx: SqlDatabase, id: string, hash: string): Promise<void> {
  const [clash] = await tx.query<{ id: string }>('SELECT id FROM api_keys WHERE id = ? OR hash = ?', [id, hash]);
  if (clash) throw new DuplicateKeyError(clash.id === id ? 'id' : 'hash', id);
}

const json = (value: unknown): SqlValue => (value === undefined ? null : JSON.stringify(value));
const num = (value: number | string | null): number | undefined => (value === null ? undefined : Number(value));

/** Only the fields a row has, so a record reads like one built by hand; frozen all the way down. */
function recordOf(row: KeyRow): KeyRecord {
  const principal: { -readonly [K in keyof Principal]: Principal[K] } = { id: row.id };
  if (row.name !== null) principal.name = row.name;
  if (row.user_id !== null) principal.user = row.user_id;
  if (row.team_id !== null) principal.team = row.team_id;
  if (row.models !== null) principal.allowedModels = Object.freeze(JSON.parse(row.models) as string[]);
  const limits = defined({ requestsPerMinute: num(row.rpm), tokensPerMinute: num(row.tpm), maxParallel: num(row.max_parallel) });
  if (limits) principal.limits = limits;
  const budget = defined({ dailyUsd: num(row.daily_budget_usd), monthlyUsd: num(row.monthly_budget_usd) });
  if (budget) principal.budget = budget;
  const record: { -readonly [K in keyof KeyRecord]: KeyRecord[K] } = { id: row.id, hash: row.hash, principal: Object.freeze(principal), createdAt: Number(row.created_at) };
  if (row.expires_at !== null) record.expiresAt = Number(row.expires_at);
  if (row.revoked_at !== null) record.revokedAt = Number(row.revoked_at);
  if (row.replaced_by !== null) record.replacedBy = row.replaced_by;
  if (row.metadata !== null) record.metadata = Object.freeze(JSON.parse(row.metadata) as Record<string, string>);
  return Object.freeze(record);
}

/** `figures` without its undefined entries, frozen; undefined when none is left. */
function defined<T extends Record<string, number | undefined>>(figures: T): Readonly<Partial<T>> | undefined {
  const entries = Object.entries(figures).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? undefined : Object.freeze(Object.fromEntries(entries) as Partial<T>);
}
