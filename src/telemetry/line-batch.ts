// Log lines gathered into ~64 KiB writes, in front of sonic-boom (pino's destination). sonic-boom batches
// too (its minLength), but on every write it measures the UTF-8 length of its whole pending string, up to
// 16 KiB: ~3.6 µs a line, against ~0.6 µs for an array of lines joined once per batch (measured in
// bench/micro/finish.bench.ts; BENCHMARKS.md). sonic-boom still does the writing (see log.ts).
import pino from 'pino';

/** What the batch needs of sonic-boom (pino.destination, in its `buffer` content mode). */
export interface Destination {
  write(chunk: Uint8Array): boolean;
  flushSync(): void;
}

/**
 * Roughly one 64 KiB write (the size of nginx's usual `access_log … buffer=64k`): lines are counted in UTF-16
 * units, exact enough for a batching threshold. A write to a file costs this VM's kernel more per call than
 * per byte: against 4 KiB batches, 64 KiB ones took 5 % less CPU per request as shipped (system time 30 → 27
 * µs), and 256 KiB ones 5 % more again (bench:pair, BENCHMARKS.md). The flush timer
 * (log.ts) still bounds how long a line waits when traffic is light.
 */
const BATCH_CHARS = 64 * 1024;

/**
 * A batch becomes bytes here, not in sonic-boom: TextEncoder converts a one-byte string with simdutf, where
 * sonic-boom measures a string's UTF-8 length and then encodes it character by character in V8.
 */
const utf8 = new TextEncoder();

export class LineBatch {
  readonly #dest: Destination;
  #lines: string[] = [];
  #chars = 0;

  constructor(dest: Destination) {
    this.#dest = dest;
  }

  /** Batches for stdout, written synchronously (see log.ts for why). */
  static stdout(): LineBatch {
    // sonic-boom's types know strings only; in its `buffer` content mode it takes bytes.
    return new LineBatch(pino.destination({ dest: 1, sync: true, contentMode: 'buffer' }) as unknown as Destination);
  }

  /** pino's stream interface: one serialised line, newline included. */
  write(line: string): boolean {
    this.#lines.push(line);
    this.#chars += line.length;
    if (this.#chars >= BATCH_CHARS) this.flush();
    return true;
  }

  /** Hands what is gathered to sonic-boom, which writes it at once. */
  flush(): void {
    if (this.#chars === 0) return;
    // A new array each time: sonic-boom may keep a chunk it could not write yet (a full pipe).
    this.#dest.write(utf8.encode(this.#lines.length === 1 ? this.#lines[0] : this.#lines.join('')));
    this.#lines = [];
    this.#chars = 0;
  }

  /** At exit: everything, written before returning. */
  flushSync(): void {
    this.flush();
    this.#dest.flushSync();
  }
}
