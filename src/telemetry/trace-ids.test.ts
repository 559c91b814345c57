import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attempt } from '../core/attempt.ts';
import { createIdTracing, isValidIdPair, parseParent } from './trace-ids.ts';
import { testContext } from '../../test/helpers/context.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

const newAttempt = () => new Attempt({ name: 'm', upstreamModel: 'm', providerId: 'p', deploymentId: 'test', type: 'chat' });

const context = (headers: Record<string, string | string[]> = {}) => testContext({ headers });

test('parseParent: valid W3C traceparents are continued, with the sampled flag and tracestate', () => {
  assert.deepEqual(parseParent(`00-${TRACE}-${SPAN}-01`, 'a=1'), { traceId: TRACE, spanId: SPAN, sampled: true, tracestate: 'a=1' });
  assert.deepEqual(parseParent(`00-${TRACE}-${SPAN}-00`, ['a=1', 'b=2']), { traceId: TRACE, spanId: SPAN, sampled: false, tracestate: 'a=1,b=2' });
  assert.equal(parseParent(`00-${TRACE}-${SPAN}-03`, undefined)?.sampled, true); // other flag bits do not hide "sampled"
  assert.equal(parseParent(`01-${TRACE}-${SPAN}-01-future`, undefined)?.traceId, TRACE); // a later version may add fields
});

test('parseParent: anything invalid starts a fresh trace', () => {
  for (const bad of [
    undefined, '', 'garbage', `ff-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01-extra`, `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`, `00-${TRACE.toUpperCase()}-${SPAN}-01`, `00-${TRACE}-${SPAN}`,
  ]) assert.equal(parseParent(bad, undefined), undefined, String(bad));
  assert.equal(parseParent([`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`], undefined), undefined); // repeated header
});

test('ids-only spans: fresh ids are random hex, and every attempt gets its own parent id upstream', () => {
  const tracing = createIdTracing();
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) { // more than one 4 KiB pool of random bytes
    const ctx = context();
    const span = tracing.startRequest(ctx);
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    seen.add(span.traceId);
    const first = span.startAttempt(ctx, newAttempt(), new URL('http://127.0.0.1:1')).traceparent;
    const second = span.startAttempt(ctx, newAttempt(), new URL('http://127.0.0.1:1')).traceparent;
    assert.match(first, new RegExp(`^00-${span.traceId}-[0-9a-f]{16}-00$`));
    assert.notEqual(first, second);
  }
  assert.equal(seen.size, 2000);
});

test('ids-only spans: a client trace passes upstream with its sampled flag and tracestate', () => {
  const ctx = context({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=abc' });
  const span = createIdTracing().startRequest(ctx);
  assert.equal(span.traceId, TRACE);
  assert.notEqual(span.spanId, SPAN);
  const attempt = span.startAttempt(ctx, newAttempt(), new URL('http://127.0.0.1:1'));
  assert.match(attempt.traceparent, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
  assert.equal(attempt.tracestate, 'vendor=abc');
});

test('isValidIdPair: lowercase hex of the right lengths, not all zeros; anything else is not an id', () => {
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736', span = '00f067aa0ba902b7';
  assert.equal(isValidIdPair(trace, span), true);
  assert.equal(isValidIdPair(trace.toUpperCase(), span), false, 'uppercase');
  assert.equal(isValidIdPair(trace, span.slice(1)), false, 'short span id');
  assert.equal(isValidIdPair(`${trace}0`, span), false, 'long trace id');
  assert.equal(isValidIdPair('0'.repeat(32), span), false, 'all-zero trace id');
  assert.equal(isValidIdPair(trace, '0'.repeat(16)), false, 'all-zero span id');
  assert.equal(isValidIdPair(trace.replace('f', 'g'), span), false, 'not hex');
  assert.equal(isValidIdPair(trace, span.replace('0', '\u0130')), false, 'a non-ASCII character');
  assert.equal(isValidIdPair(trace, 42), false, 'not a string');
});
