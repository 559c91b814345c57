// Tracing when no span is exported (the default): W3C trace context only. The client's trace is continued
// (or a new one starts), span ids are random, and each attempt's traceparent goes upstream, so log lines
// and the provider's own traces line up. Nothing is recorded, so the OpenTelemetry SDK is not involved:
// its non-recording spans and contexts measured ~2.5 µs per request for ids alone; this is ~0.3 µs.
import { randomFillSync } from 'node:crypto';
import type { AttemptSpan, RequestSpan, Tracing } from '../core/trace.ts';

/**
 * version-traceid-parentid-flags; a later version may append fields (W3C Trace Context, level 1). The same
 * rules @opentelemetry/core's propagator applies, checked here without building a Context per request.
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface Parent { traceId: string; spanId: string; sampled: boolean; tracestate: string | undefined }

export function createIdTracing(): Tracing {
  return {
    startRequest(ctx) {
      const parent = parseParent(ctx.headers.traceparent, ctx.headers.tracestate);
      return new IdRequestSpan(parent?.traceId ?? randomTraceId(), parent?.sampled ?? false, parent?.tracestate);
    },
  };
}

/** The client's trace context when its traceparent is valid; anything else starts a fresh trace. */
export function parseParent(header: string | string[] | undefined, state: string | string[] | undefined): Parent | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined) || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return undefined;
  const tracestate = Array.isArray(state) ? state.join(',') : state;
  return { traceId: m[2], spanId: m[3], sampled: (parseInt(m[4], 16) & 1) === 1, tracestate: tracestate || undefined };
}

class IdRequestSpan implements RequestSpan {
  readonly traceId: string;
  readonly spanId = randomSpanId();
  readonly #flags: '00' | '01';
  readonly #tracestate: string | undefined;

  constructor(traceId: string, sampled: boolean, tracestate: string | undefined) {
    this.traceId = traceId;
    this.#flags = sampled ? '01' : '00';
    this.#tracestate = tracestate;
  }

  startAttempt(): AttemptSpan {
    return { traceparent: traceparent(this.traceId, randomSpanId(), this.#flags), tracestate: this.#tracestate, end() {} };
  }

  end(): void {}
}

/** The traceparent that names an attempt as the parent of the provider's spans. */
export function traceparent(traceId: string, spanId: string, flags: '00' | '01'): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

/** A trace id and span id as a traceparent would carry them: lowercase hex, not all zeros. */
export function isValidIdPair(traceId: unknown, spanId: unknown): boolean {
  return isHexId(traceId, 32) && isHexId(spanId, 16);
}

/** `length` lowercase hex digits, not all zeros. A table, not two regular expressions: half the time. */
function isHexId(value: unknown, length: number): boolean {
  if (typeof value !== 'string' || value.length !== length) return false;
  let bits = 0;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    const digit = code < 128 ? HEX_DIGIT[code] : -1;
    if (digit < 0) return false;
    bits |= digit;
  }
  return bits !== 0;
}

/** ASCII code → its value as a lowercase hex digit, -1 for anything else. */
const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) HEX_DIGIT[d.toString(16).charCodeAt(0)] = d;

export const randomTraceId = () => randomHex(16, ZERO_TRACE);
export const randomSpanId = () => randomHex(8, ZERO_SPAN);

// Random bytes are drawn 4 KiB at a time and turned into hex at once: one call into OpenSSL and one into
// the buffer's hex encoder per ~100 requests (three ids each); an id is then a slice of that string (~40 ns), where a
// `toString('hex')` of its own bytes cost ~150 ns, a C++ call and a new string each.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let hex = '';
let offset = POOL_BYTES;

function randomHex(bytes: number, invalid: string): string {
  for (;;) {
    if (offset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      hex = pool.toString('hex');
      offset = 0;
    }
    const id = hex.slice(2 * offset, 2 * (offset + bytes));
    offset += bytes;
    if (id !== invalid) return id;
  }
}
