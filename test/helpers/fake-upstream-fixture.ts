// Recorded provider answers, served byte for byte: the upstream model `fixture:<provider>/<name>` answers
// with test/contract/providers/fixtures/<provider>/<name>.sse when the request streams and <name>.json
// otherwise, so the gateway's relays and translators meet the shapes the real APIs send.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSse, type Exchange } from './fake-upstream-common.ts';

export const FIXTURE_DIR = join(import.meta.dirname, '../contract/providers/fixtures');
const PREFIX = 'fixture:';

export type FixtureProvider = 'openai' | 'anthropic';

/** The upstream model name that selects a fixture. */
export const fixtureModel = (provider: FixtureProvider, name: string) => `${PREFIX}${provider}/${name}`;

/** A fixture's bytes: `<name>.sse` or `<name>.json`. */
export function readFixture(provider: FixtureProvider, name: string, stream: boolean): Buffer {
  return readFileSync(join(FIXTURE_DIR, provider, `${name}.${stream ? 'sse' : 'json'}`));
}

/** Returns true when the request named a fixture (and was answered with it). */
export function serveFixture(ex: Exchange): boolean {
  const model = ex.body?.model;
  if (typeof model !== 'string' || !model.startsWith(PREFIX)) return false;
  const [provider, name] = model.slice(PREFIX.length).split('/') as [FixtureProvider, string];
  const stream = ex.body.stream === true;
  const bytes = readFixture(provider, name, stream);
  if (!stream) {
    ex.res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length }).end(bytes);
    return true;
  }
  startSse(ex.res);
  // In small writes, as a provider flushes events: the gateway's SSE parsing must not rely on whole events per read.
  for (let at = 0; at < bytes.length; at += 256) ex.res.write(bytes.subarray(at, at + 256));
  ex.res.end();
  return true;
}
