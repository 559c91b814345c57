// The gateway keys of the config file (auth.keys), held as SHA-256 → record. Read-only: a file's keys
// change with the file, so issuing and revoking belong to the database key stores (ports.ts, KeyStore).
import type { Principal } from '../../core/principal.ts';
import type { KeyLookup, KeyRecord } from '../ports.ts';

export class ConfigKeys implements KeyLookup {
  readonly #records = new Map<string, KeyRecord>();

  /** `keyHashes`: sha256(key) → key id, as config/compile.ts resolves them. */
  constructor(keyHashes: ReadonlyMap<string, string>, createdAt = Date.now()) {
    for (const [hash, id] of keyHashes) {
      const principal: Principal = Object.freeze({ id });
      this.#records.set(hash, Object.freeze({ id, hash, principal, createdAt, readOnly: true }));
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
