import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSender } from './send.ts';

/** An HTTP collector answering each export with the next status in `answers` (then 200). */
async function collector(answers: { status: number; headers?: Record<string, string> }[]) {
  const calls: { path: string; type: string | undefined; auth: string | undefined; bytes: number }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    req.on('end', () => {
      calls.push({ path: req.url ?? '', type: req.headers['content-type'], auth: req.headers.authorization, bytes });
      const answer = answers.shift() ?? { status: 200 };
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

const settings = (endpoint: string, timeoutMs = 5000) => ({ endpoint, protocol: 'http' as const, headers: { authorization: 'Bearer t' }, ca: undefined, verify: true, timeoutMs });

test('HTTP: protobuf POST to the signal path with the configured headers', async (t) => {
  const c = await collector([]);
  t.after(c.close);
  const sender = createSender(settings(`${c.url}/v1/logs`), 'traces'); // a signal path given by habit is replaced
  await sender.send(Buffer.from([1, 2, 3]));
  sender.close();
  assert.deepEqual(c.calls, [{ path: '/v1/traces', type: 'application/x-protobuf', auth: 'Bearer t', bytes: 3 }]);
});

test('HTTP: 503 and 429 are retried (Retry-After honoured); the export then succeeds', async (t) => {
  const c = await collector([{ status: 503, headers: { 'retry-after': '0' } }, { status: 429, headers: { 'retry-after': '0' } }]);
  t.after(c.close);
  const sender = createSender(settings(c.url), 'logs');
  await sender.send(Buffer.from('x'));
  sender.close();
  assert.equal(c.calls.length, 3);
});

test('HTTP: a refusal that is not retryable (400) fails at once', async (t) => {
  const c = await collector([{ status: 400 }]);
  t.after(c.close);
  const sender = createSender(settings(c.url), 'logs');
  await assert.rejects(sender.send(Buffer.from('x')), /HTTP 400/);
  sender.close();
  assert.equal(c.calls.length, 1);
});

test('HTTP: retries stop at the export timeout', async (t) => {
  const c = await collector([{ status: 503 }, { status: 503 }, { status: 503 }]);
  t.after(c.close);
  const sender = createSender(settings(c.url, 300), 'logs'); // the first backoff (~1 s) does not fit in 300 ms
  const started = Date.now();
  await assert.rejects(sender.send(Buffer.from('x')), /HTTP 503/);
  sender.close();
  assert.equal(c.calls.length, 1);
  assert.ok(Date.now() - started < 300);
});
