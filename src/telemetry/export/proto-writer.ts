// The protobuf wire format, just the part OTLP's span and log messages use: varints, fixed64 times,
// doubles and length-delimited strings, bytes and nested messages, written into one reusable buffer.
// Written by hand, not with protobufjs' Writer (which the OpenTelemetry SDK uses): that Writer allocates an
// operation object per field and a buffer per message, and the SDK first copies every record into an
// intermediate object tree for it. Here a record is encoded once, straight from the request, at a few
// hundred bytes and no garbage but its final copy (BENCHMARKS.md prices the difference).

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;

export class ProtoWriter {
  #buf: Buffer;
  #pos = 0;

  constructor(initialBytes = 4096) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Starts a new message, forgetting what was written. */
  reset(): this {
    this.#pos = 0;
    return this;
  }

  /** Bytes written since reset. */
  get length(): number {
    return this.#pos;
  }

  /** Forgets what was written after `length` bytes (a record that failed half-way). */
  truncate(length: number): void {
    this.#pos = Math.min(this.#pos, length);
  }

  /** What was written since reset, without a copy: valid until the next write or reset. */
  view(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }

  /** A copy of what was written since reset (the writer's buffer is reused). */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.#pos);
    this.#buf.copy(out, 0, 0, this.#pos);
    return out;
  }

  uint(field: number, value: number): this {
    this.#tag(field, WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  /** int64 as a varint: negative values take ten bytes (two's complement), as the format says. */
  int(field: number, value: number): this {
    if (value >= 0) return this.uint(field, value);
    this.#tag(field, WIRE_VARINT);
    let big = BigInt.asUintN(64, BigInt(value));
    this.#ensure(10);
    while (big > 0x7fn) {
      this.#buf[this.#pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.#buf[this.#pos++] = Number(big);
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.uint(field, value ? 1 : 0);
  }

  double(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED64);
    this.#ensure(8);
    this.#buf.writeDoubleLE(value, this.#pos);
    this.#pos += 8;
    return this;
  }

  /** A fixed64 of nanoseconds since the epoch, from milliseconds (Date.now() or timeOrigin + now()). */
  timeNanos(field: number, epochMs: number): this {
    this.#tag(field, WIRE_FIXED64);
    this.#ensure(8);
    // ms × 1e6 is past 2^53, so the 64-bit value is put together from parts that are each exact in a double
    // (no BigInt: it allocates). ns = msHigh × 2^20 × 1e6 + (msLow × 1e6 + sub-ms nanoseconds).
    const ms = Math.floor(epochMs);
    const low = (ms % 0x100000) * 1e6 + Math.round((epochMs - ms) * 1e6); // < 2^40
    const high = Math.floor(ms / 0x100000) * 1e6; // × 2^20 still to come
    let word0 = (low % 0x100000000) + (high % 0x1000) * 0x100000;
    const word1 = Math.floor(low / 0x100000000) + Math.floor(high / 0x1000) + Math.floor(word0 / 0x100000000);
    word0 %= 0x100000000;
    this.#uint32(word0);
    this.#uint32(word1);
    return this;
  }

  /** fixed32 (the span and log record `flags`). */
  fixed32(field: number, value: number): this {
    this.#tag(field, 5);
    this.#ensure(4);
    this.#uint32(value);
    return this;
  }

  /**
   * Four bytes, little-endian, stored in place: Buffer#writeUInt32LE checks its arguments first, and a span's
   * two times and flags took 104 against 50 ns that way in a micro loop.
   */
  #uint32(value: number): void {
    const buf = this.#buf;
    const pos = this.#pos;
    buf[pos] = value & 0xff;
    buf[pos + 1] = (value >>> 8) & 0xff;
    buf[pos + 2] = (value >>> 16) & 0xff;
    buf[pos + 3] = value >>> 24;
    this.#pos = pos + 4;
  }

  string(field: number, value: string): this {
    const start = this.begin(field);
    const length = value.length;
    this.#ensure(length * 3); // a UTF-16 unit is at most 3 UTF-8 bytes
    // Keys and most values are short ASCII: copied here, as a call into Buffer#write costs more than the copy.
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        pos = this.#pos + buf.write(value, this.#pos, 'utf8');
        break;
      }
      buf[pos++] = code;
    }
    this.#pos = pos;
    return this.end(start);
  }

  /**
   * Bytes given as lowercase hex (trace and span ids; validated before they get here), decoded by Buffer's
   * native hex writer. Ids are slices of a pooled string (trace-ids.ts), on which a JavaScript loop over the
   * characters was about a third slower, in the running gateway under callgrind and in a micro bench (71
   * against 59 ns an id).
   */
  hex(field: number, value: string): this {
    const start = this.begin(field);
    this.#ensure(value.length >> 1);
    this.#pos += this.#buf.write(value, this.#pos, 'hex');
    return this.end(start);
  }

  /** Already-encoded bytes as a length-delimited field (a pre-encoded message). */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WIRE_LEN);
    this.#varint(value.length);
    this.raw(value);
    return this;
  }

  /** Bytes copied as they are: pre-encoded fields. */
  raw(value: Uint8Array): this {
    this.#ensure(value.length);
    this.#buf.set(value, this.#pos);
    this.#pos += value.length;
    return this;
  }

  /**
   * Opens a nested message (or string): one byte is kept for its length, which `end` fills in. Most nested
   * parts are under 128 bytes and need no more; a longer one is moved right to make room.
   */
  begin(field: number): number {
    this.#tag(field, WIRE_LEN);
    this.#ensure(1);
    return this.#pos++;
  }

  end(start: number): this {
    const length = this.#pos - start - 1;
    if (length < 0x80) {
      this.#buf[start] = length;
      return this;
    }
    return this.#close(start, 1);
  }

  /**
   * `begin` for a whole record (a span or log record, 128 bytes to 16 KiB): two bytes are kept for its
   * length, so `endRecord` need not move it (with one kept, every record was moved one byte right: ~3 % of
   * encoding a span in a perf profile of the micro bench).
   */
  beginRecord(field: number): number {
    this.#tag(field, WIRE_LEN);
    this.#ensure(2);
    const start = this.#pos;
    this.#pos += 2;
    return start;
  }

  endRecord(start: number): this {
    return this.#close(start, 2);
  }

  /** Writes the length of what follows the `reserved` bytes at `start`, moving it when it takes more or fewer. */
  #close(start: number, reserved: number): this {
    const length = this.#pos - start - reserved;
    const size = varintSize(length);
    if (size !== reserved) {
      this.#ensure(size - reserved);
      this.#buf.copyWithin(start + size, start + reserved, this.#pos);
      this.#pos += size - reserved;
    }
    let at = start, n = length;
    while (n >= 0x80) {
      this.#buf[at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buf[at] = n;
    return this;
  }

  #tag(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  #varint(value: number): void {
    this.#ensure(10);
    let n = value;
    while (n >= 0x80) {
      this.#buf[this.#pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buf[this.#pos++] = n;
  }

  #ensure(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + bytes));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}
