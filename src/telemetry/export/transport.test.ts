import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configSchema } from '../../config/schema.ts';
import { startGrpcReceiver, startHttpReceiver, type OtlpReceiver } from '../../../test/helpers/otlp-receiver.ts';
import { makeTestCa } from '../../../test/helpers/test-ca.ts';
import { encodeLogRecord, envelope } from './encode.ts';
import { ProtoWriter } from './proto-writer.ts';
import { compileConfig } from '../../config/compile.ts';
import { resolveOtlp, type OtlpSettings } from './settings.ts';
import { createBytesSender, rejectedCount } from './transport.ts';

/** Settings as serve resolves them from a `telemetry.otlp` section (headers through config compile). */
const settingsFor = (otlp: Record<string, unknown>): OtlpSettings => {
  const raw = { providers: { mock: { kind: 'mock' } }, models: [{ name: 'm', provider: 'mock' }], telemetry: { otlp } };
  const compiled = compileConfig(configSchema.parse(raw), {});
  return resolveOtlp(compiled.config.telemetry, compiled.otlpHeaders)!;
};

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

const http = (endpoint: string, export_timeout_ms = 5000) =>
  settingsFor({ endpoint, protocol: 'http', headers: { authorization: 'Bearer t' }, batch: { export_timeout_ms } });
const noRejections = () => assert.fail('no partial success expected');

test('HTTP: protobuf POST to the signal path with the configured headers', async (t) => {
  const c = await collector([]);
  t.after(c.close);
  const sender = await createBytesSender(http(`${c.url}/v1/logs`), 'traces', noRejections); // a signal path given by habit is replaced
  await sender.send(Buffer.from([1, 2, 3]), 1);
  await sender.shutdown();
  assert.deepEqual(c.calls, [{ path: '/v1/traces', type: 'application/x-protobuf', auth: 'Bearer t', bytes: 3 }]);
});

test('HTTP: 503 and 429 are retried (Retry-After honoured); the export then succeeds', async (t) => {
  const c = await collector([{ status: 503, headers: { 'retry-after': '0' } }, { status: 429, headers: { 'retry-after': '0' } }]);
  t.after(c.close);
  const sender = await createBytesSender(http(c.url), 'logs', noRejections);
  await sender.send(Buffer.from('x'), 1);
  await sender.shutdown();
  assert.equal(c.calls.length, 3);
});

test('HTTP: a refusal that is not retryable (400) fails at once', async (t) => {
  const c = await collector([{ status: 400 }]);
  t.after(c.close);
  const sender = await createBytesSender(http(c.url), 'logs', noRejections);
  await assert.rejects(sender.send(Buffer.from('x'), 1));
  await sender.shutdown();
  assert.equal(c.calls.length, 1);
});

test('HTTP: retries stop at the export timeout', async (t) => {
  const c = await collector([{ status: 503 }, { status: 503 }, { status: 503 }]);
  t.after(c.close);
  const sender = await createBytesSender(http(c.url, 300), 'logs', noRejections); // the first backoff (~1 s) does not fit in 300 ms
  const started = Date.now();
  await assert.rejects(sender.send(Buffer.from('x'), 1));
  await sender.shutdown();
  assert.equal(c.calls.length, 1);
  assert.ok(Date.now() - started < 300);
});

test('gRPC: UNAVAILABLE (nothing listening) is retried within the export timeout, then fails', async () => {
  const settings = settingsFor({ endpoint: 'http://127.0.0.1:1', batch: { export_timeout_ms: 1500 } });
  const sender = await createBytesSender(settings, 'logs', noRejections);
  const started = Date.now();
  await assert.rejects(sender.send(Buffer.from('x'), 1), /UNAVAILABLE/);
  await sender.shutdown();
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 800 && elapsed < 1500, `one backoff (~1 s) fits in 1.5 s, a second does not: ${elapsed} ms`);
});

const wrap = envelope({ 'service.name': 'tls-test' }, { name: 'vigil', version: '1.2.3' });
const logRecord = { timeMs: 1_700_000_000_000, level: 'info', body: 'over tls', attributes: [], omit: new Set<string>(), traceId: undefined, spanId: undefined };
const oneLogRequest = () => {
  const w = new ProtoWriter();
  encodeLogRecord(w, logRecord, Date.now());
  return wrap(w.view());
};

test('TLS with a test CA: gRPC and HTTP/protobuf reach receivers that present a CA-signed cert', async (t) => {
  const ca = makeTestCa();
  const receivers: OtlpReceiver[] = [await startGrpcReceiver({ tls: ca }), await startHttpReceiver({ tls: ca })];
  t.after(async () => { for (const r of receivers) await r.close(); ca.remove(); });
  for (const [receiver, protocol] of [[receivers[0], 'grpc'], [receivers[1], 'http']] as const) {
    const exportVia = async (tls: Record<string, unknown>): Promise<Error | undefined> => {
      // A 1 s budget: the refused handshake is retryable, and one backoff already takes longer.
      const sender = await createBytesSender(settingsFor({ endpoint: receiver.url, protocol, tls, headers: { 'x-test': 'yes' }, batch: { export_timeout_ms: 1000 } }), 'logs', noRejections);
      try {
        await sender.send(oneLogRequest(), 1);
        return undefined;
      } catch (err) {
        return err as Error;
      } finally {
        await sender.shutdown();
      }
    };
    const untrusted = await exportVia({});
    assert.ok(untrusted, `${protocol}: the system CAs do not trust the test CA`);
    assert.equal(await exportVia({ ca_cert_path: ca.caPath }), undefined, `${protocol} with the test CA`);
    assert.equal(await exportVia({ verify: false }), undefined, `${protocol} with verify: false`);
    assert.equal(receiver.logs.length, 2);
    assert.equal(receiver.logs[0].body, 'over tls');
    assert.equal(receiver.logs[0].resource['service.name'], 'tls-test');
    assert.equal(receiver.calls[0].headers['x-test'], 'yes');
  }
});

test('partial_success: the records a collector rejected are reported, over gRPC and HTTP', async (t) => {
  const receivers = [await startGrpcReceiver(), await startHttpReceiver()];
  t.after(async () => { for (const r of receivers) await r.close(); });
  for (const [receiver, protocol] of [[receivers[0], 'grpc'], [receivers[1], 'http']] as const) {
    const rejected: number[] = [];
    const sender = await createBytesSender(settingsFor({ endpoint: receiver.url, protocol }), 'logs', (count) => rejected.push(count));
    await sender.send(oneLogRequest(), 1);
    receiver.rejecting = 3;
    await sender.send(oneLogRequest(), 1);
    await sender.shutdown();
    assert.deepEqual(rejected, [3], protocol);
    assert.equal(receiver.logs.length, 2, `${protocol}: a partial success is still an accepted export`);
  }
});

test('rejectedCount: reads partial_success.rejected_* past other fields; 0 when absent', () => {
  const w = new ProtoWriter();
  const partial = w.begin(1);
  w.string(2, 'too old').uint(1, 300);
  w.end(partial);
  assert.equal(rejectedCount(w.view()), 300);
  assert.equal(rejectedCount(new Uint8Array(0)), 0);
  assert.equal(rejectedCount(w.reset().string(2, 'ok').view()), 0);
});
