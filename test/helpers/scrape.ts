// HTTP on a fresh connection per call (so node:cluster's round-robin spreads calls over workers) and
// small readers for the samples of a text exposition.
import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on its own connection (`agent: false`); `onFirstByte` fires when the body starts. */
export function call(url: string, options: { method?: string; headers?: Record<string, string>; body?: unknown; onFirstByte?: () => void } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(url, {
      method: options.method ?? (payload ? 'POST' : 'GET'),
      agent: false,
      headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...options.headers },
    }, (res) => {
      let body = '';
      let first = true;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (first) { first = false; options.onFirstByte?.(); }
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The value of every sample of `name` (exact metric name) whose labels include `labels`. */
export function samples(body: string, name: string, labels: Record<string, string> = {}): number[] {
  const values: number[] = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^[^{ ]+(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const found = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) values.push(Number(match[2]));
  }
  return values;
}

export const total = (body: string, name: string, labels: Record<string, string> = {}) =>
  samples(body, name, labels).reduce((a, b) => a + b, 0);
