// The gateway keys of the config file (auth.keys), held as SHA-256 → record. Read-only: a file's keys
// change with the file, so issuing and revoking belong to the database key stores (ports.ts, KeyStore).
import type { Principal } from '../../core/principal.ts';
import type { KeyLookup, KeyRecord } from '../ports.ts';

export class ConfigKeys implements KeyLookup {
  readonly #records = new Map<string, KeyRecord>();

  /** `keyHashes`: sha256(key) → the key's Principal (its id, user, team, models, limits, budget), as config/compile.ts builds them. */
  constructor(keyHashes: ReadonlyMap<string, Principal>, createdAt = Date.now()) {
    for (const [hash, principal] of keyHashes) {
      this.#records.set(hash, Object.freeze({ id: principal.id, hash, principal, createdAt, readOnly: true }));
    }
  }

  get size(): number {
    return this.#records.size;
  }

  lookup(hash: string): KeyRecord | undefined {
    return this.#records.get(hash);
  }

  /** Every record, for listings beside the store's keys. */
  records(): KeyRecord[] {
    return [...this.#records.values()];
  }
}
