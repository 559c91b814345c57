// Minimal keep-alive HTTP client for the load generators. node:http is used rather than undici because
// it allocates far less per request: undici's garbage caused multi-millisecond scavenges on the shared
// load-generator core, which showed up as tail latency of the generator rather than of the target.
import http from 'node:http';

export type Target = { url: URL; headers: Record<string, string> };

export function parseHeaders(list: string[]): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const h of list) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return headers;
}

export type Reply = { status: number; bytes: number; firstByteNs: number; tail: string };

/**
 * POST `body` and read the whole response. `firstByteNs` is the hrtime of the first body chunk;
 * `tail` keeps the last bytes so stream tests can check for the closing `data: [DONE]`.
 */
export function post(agent: http.Agent, target: Target, body: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      agent, host: target.url.hostname, port: target.url.port, path: target.url.pathname, method: 'POST',
      headers: { ...target.headers, 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs,
    }, (res) => {
      let bytes = 0, firstByteNs = 0, tail = '';
      res.on('data', (chunk: Buffer) => {
        if (bytes === 0) firstByteNs = Number(process.hrtime.bigint());
        bytes += chunk.length;
        tail = (tail + chunk.toString('latin1')).slice(-32);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, firstByteNs, tail }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}
