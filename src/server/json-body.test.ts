import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readJsonBody } from './json-body.ts';

const LIMIT = 64;
/** The last outcome the server saw, for the client-gone case (no response to read). */
let seen: Promise<string>;
let server: Server;
let port: number;

before(async () => {
  let note: (outcome: string) => void = () => {};
  server = createServer((req, res) => {
    seen = new Promise((resolve) => { note = resolve; });
    readJsonBody(req, LIMIT, (error, body) => {
      const outcome = error ? `${error.status} ${error.code}` : `200 ${JSON.stringify(body!.object)} ${body!.bytes.toString()}`;
      note(outcome);
      res.end(outcome);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

/** POSTs `chunks` one write each (chunked unless `length` is given). */
function post(chunks: string[], length?: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, method: 'POST', path: '/', headers: length === undefined ? {} : { 'content-length': length } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c) => { text += c; }).on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

test('a JSON object arrives parsed, with the bytes as sent, across chunks', async () => {
  const res = await post(['{"model":', ' "m", "n": 12345678901234567890}']);
  assert.equal(res.text, '200 {"model":"m","n":12345678901234567000} {"model": "m", "n": 12345678901234567890}');
});

test('a declared length over the limit is refused before reading', async () => {
  const body = `{"x":"${'a'.repeat(LIMIT)}"}`;
  assert.equal((await post([body], body.length)).text, '413 GW_REQUEST_BODY_TOO_LARGE');
});

test('a chunked body that grows past the limit is refused', async () => {
  assert.equal((await post(['{"x":"', 'a'.repeat(LIMIT), '"}'])).text, '413 GW_REQUEST_BODY_TOO_LARGE');
});

test('empty, malformed and non-object bodies are told apart', async () => {
  assert.equal((await post([], 0)).text, '400 GW_REQUEST_MALFORMED_JSON');
  assert.equal((await post(['{"model": '])).text, '400 GW_REQUEST_MALFORMED_JSON');
  assert.equal((await post(['[1, 2]'])).text, '400 GW_REQUEST_INVALID');
  assert.equal((await post(['null'])).text, '400 GW_REQUEST_INVALID');
});

test('a client that leaves mid-body is reported as gone (499)', async () => {
  const req = request({ port, method: 'POST', path: '/', headers: { 'content-length': 50 } });
  req.on('error', () => {});
  req.write('{"model": "m"');
  await new Promise((resolve) => setTimeout(resolve, 50));
  req.destroy();
  assert.equal(await seen, '499 GW_CLIENT_CLOSED');
});
