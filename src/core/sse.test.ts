import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSse, parseSse, type SseEvent } from './sse.ts';

async function* chunked(parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

async function collect(parts: (string | Buffer)[]): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of parseSse(chunked(parts))) events.push(event);
  return events;
}

/** Splits bytes at the given offsets. */
function splitAt(bytes: Buffer, offsets: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const at of offsets) {
    out.push(bytes.subarray(from, at));
    from = at;
  }
  out.push(bytes.subarray(from));
  return out;
}

const STREAM = [
  ': keepalive comment\n\n',
  'event: message_start\ndata: {"a":1}\n\n',
  'data: first line\ndata: second line\n\n',
  ':ping\n',
  'event: content_block_delta\ndata: {"text":"héllo — 世界 🎉"}\n\n',
  'data: [DONE]\n\n',
].join('');

const EXPECTED: SseEvent[] = [
  { event: 'message_start', data: '{"a":1}' },
  { event: 'message', data: 'first line\nsecond line' },
  { event: 'content_block_delta', data: '{"text":"héllo — 世界 🎉"}' },
  { event: 'message', data: '[DONE]' },
];

test('parseSse: one chunk gives every event with names, multi-line data and comments skipped', async () => {
  assert.deepEqual(await collect([STREAM]), EXPECTED);
});

test('parseSse: every two-way split of the byte stream gives the same events (incl. inside UTF-8 characters)', async () => {
  const bytes = Buffer.from(STREAM);
  for (let at = 1; at < bytes.length; at++) {
    assert.deepEqual(await collect(splitAt(bytes, [at])), EXPECTED, `split at byte ${at}`);
  }
});

test('parseSse: one byte per chunk gives the same events', async () => {
  const bytes = Buffer.from(STREAM);
  const parts = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
  assert.deepEqual(await collect(parts), EXPECTED);
});

test('parseSse: a 4-byte emoji split after each of its bytes decodes intact', async () => {
  const bytes = Buffer.from('data: 🎉\n\n');
  const start = bytes.indexOf(0xf0);
  for (let k = 1; k < 4; k++) {
    assert.deepEqual(await collect(splitAt(bytes, [start + k])), [{ event: 'message', data: '🎉' }], `split ${k} bytes into the emoji`);
  }
});

test('parseSse: CRLF line endings, in one chunk', async () => {
  const text = 'event: a\r\ndata: one\r\ndata: two\r\n\r\ndata: three\r\n\r\n';
  assert.deepEqual(await collect([text]), [
    { event: 'a', data: 'one\ntwo' },
    { event: 'message', data: 'three' },
  ]);
});

test('parseSse: CRLF stream split at every byte (incl. between \\r and \\n) gives the same events', async () => {
  const bytes = Buffer.from('event: a\r\ndata: one\r\ndata: two\r\n\r\ndata: three\r\n\r\n');
  const expected = [
    { event: 'a', data: 'one\ntwo' },
    { event: 'message', data: 'three' },
  ];
  for (let at = 1; at < bytes.length; at++) {
    assert.deepEqual(await collect(splitAt(bytes, [at])), expected, `split at byte ${at} (${JSON.stringify(bytes.subarray(0, at).toString())})`);
  }
});

test('parseSse: a lone CR is a line ending too', async () => {
  assert.deepEqual(await collect(['data: x\r\rdata: y\r\r']), [
    { event: 'message', data: 'x' },
    { event: 'message', data: 'y' },
  ]);
});

test('parseSse: a trailing event without the final blank line is still delivered', async () => {
  assert.deepEqual(await collect(['data: one\n\n', 'event: last\ndata: two']), [
    { event: 'message', data: 'one' },
    { event: 'last', data: 'two' },
  ]);
  assert.deepEqual(await collect(['data: tail\n']), [{ event: 'message', data: 'tail' }]);
});

test('parseSse: blocks with only comments or only an event name yield nothing', async () => {
  assert.deepEqual(await collect([': a\n: b\n\n', 'event: lonely\n\n', 'data: ok\n\n']), [{ event: 'message', data: 'ok' }]);
});

test('parseSse: field value rules — one leading space stripped, "data" with no colon is empty data', async () => {
  assert.deepEqual(await collect(['data:  two spaces\n\n', 'data:nospace\n\n', 'data\n\n']), [
    { event: 'message', data: ' two spaces' },
    { event: 'message', data: 'nospace' },
    { event: 'message', data: '' },
  ]);
});

test('parseSse: empty input yields nothing', async () => {
  assert.deepEqual(await collect([]), []);
  assert.deepEqual(await collect(['\n\n\n']), []);
});

test('formatSse: wire format with and without an event name', () => {
  assert.equal(formatSse('{"x":1}'), 'data: {"x":1}\n\n');
  assert.equal(formatSse('{"x":1}', 'ping'), 'event: ping\ndata: {"x":1}\n\n');
});

test('formatSse → parseSse round trip', async () => {
  const sent: SseEvent[] = [
    { event: 'message_start', data: JSON.stringify({ type: 'message_start', text: 'a\nb "q" ✓' }) },
    { event: 'message', data: JSON.stringify({ choices: [{ delta: { content: '🎉' } }] }) },
    { event: 'message', data: '[DONE]' },
  ];
  const wire = sent.map((e) => formatSse(e.data, e.event === 'message' ? undefined : e.event)).join('');
  const bytes = Buffer.from(wire);
  assert.deepEqual(await collect([bytes]), sent);
  assert.deepEqual(await collect(splitAt(bytes, [3, 17, 40, 41, 42, bytes.length - 1])), sent);
});
