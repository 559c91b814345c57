// Shared pieces of the access tests (test/e2e/access-*.test.ts) on the machine's real PostgreSQL and Redis:
// a Postgres schema of the test's own (its URL pins search_path), a Redis key prefix of its own, a
// redis-server process of its own that a test may kill and restart, N gateways sharing them, and calls
// to the admin API. Every piece cleans up after itself; nothing here skips when a service is missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import { freePort, startGateway, type Gateway } from './gateway.ts';
import { call, type Answer } from './scrape.ts';

export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = 'redis://127.0.0.1:6379';
export const ADMIN_TOKEN = 'admin-token-for-the-access-tests';

const delay = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const suffix = () => randomBytes(6).toString('hex');

/** Polls `probe` until it returns a value other than undefined; fails with `what` after timeoutMs. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await delay(everyMs);
  }
}

export interface PgSchema {
  /** store.url: the test database with search_path set to this schema. */
  url: string;
  name: string;
  query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** A fresh schema in the `test` database; fails loudly when PostgreSQL is not there. */
export async function pgSchema(): Promise<PgSchema> {
  const name = `vigil_${suffix()}`;
  const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect().catch((err: Error) => { throw new Error(`PostgreSQL at ${POSTGRES_URL} is required (test/run.sh starts it): ${err.message}`); });
  await client.query(`CREATE SCHEMA ${name}`);
  return {
    url,
    name,
    query: async (sql, params) => (await client.query(sql, params as any[])).rows,
    async drop() {
      await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await client.end();
    },
  };
}

/** A key prefix no other test uses; `drop` deletes every key under it (never FLUSHALL). */
export function redisPrefix(url = REDIS_URL): { prefix: string; keys(): Promise<string[]>; drop(): Promise<void> } {
  const prefix = `vigil-test-${suffix()}:`;
  const scan = async (redis: Redis) => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  };
  const withRedis = async <T>(fn: (redis: Redis) => Promise<T>) => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    await redis.connect().catch((err: Error) => { throw new Error(`Redis at ${url} is required (test/run.sh starts it): ${err.message}`); });
    try { return await fn(redis); } finally { redis.disconnect(); }
  };
  return {
    prefix,
    keys: () => withRedis(scan),
    drop: () => withRedis(async (redis) => {
      const keys = await scan(redis);
      if (keys.length > 0) await redis.del(...keys);
    }),
  };
}

export interface OwnRedis {
  url: string;
  port: number;
  /** SIGKILL: the server vanishes as in a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing on disk). */
  start(): Promise<void>;
}

/** A redis-server of the test's own on a free port, to kill and restart without touching the machine's. */
export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child = proc;
    exited = new Promise((ok) => proc.once('exit', () => ok()));
    proc.once('error', () => {}); // a missing binary shows up as the ping below failing
    await until(`redis-server on port ${port} answering PING`, () => ping(port), 5000);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      child?.kill('SIGKILL');
      await exited;
      child = undefined;
    },
    start,
  };
}

/** true when a Redis server answers PING on 127.0.0.1:port, undefined otherwise. */
function ping(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500, () => { socket.destroy(); resolve(undefined); });
    socket.once('error', () => resolve(undefined));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => { socket.destroy(); resolve(data.toString().startsWith('+PONG') ? true : undefined); });
  });
}

/** N gateway processes with the same config (they share whatever store.url and redis.url say); all stop together. */
export async function startGateways(n: number, config: Record<string, any>): Promise<Gateway[]> {
  const started = await Promise.allSettled(Array.from({ length: n }, () => startGateway(config)));
  const gateways = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(gateways.map((g) => g.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return gateways;
}

/** Settings every access test wants: a short key refresh, quick ledger batches, and no brute-force guard in the way of polling. */
export function accessSettings(storeUrl: string | undefined, redis?: { url: string; prefix: string; on_failure?: 'open' | 'closed' }) {
  return {
    store: { ...(storeUrl ? { url: storeUrl } : {}), refresh_ms: 250, flush_interval_ms: 50, pool_size: 4 },
    ...(redis ? { redis: { url: redis.url, key_prefix: redis.prefix, on_failure: redis.on_failure ?? 'open', command_timeout_ms: 300 } } : {}),
    auth: { admin_token: ADMIN_TOKEN, address_rpm: 100_000, brute_force: { max_failures: 100_000, delay_ms: 0 } },
  };
}

/** A call to the admin API with the admin token; the body parsed as JSON. */
export async function admin(gatewayUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await call(`${gatewayUrl}${path}`, { method, body, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { status: res.status, body: res.body ? JSON.parse(res.body) : undefined };
}

export interface IssuedKey {
  key: string;
  id: string;
  [field: string]: unknown;
}

/** POST /admin/keys; fails unless the gateway answers 201 with a key. */
export async function issueKey(gatewayUrl: string, attributes: Record<string, unknown>): Promise<IssuedKey> {
  const res = await admin(gatewayUrl, 'POST', '/admin/keys', attributes);
  if (res.status !== 201 || typeof res.body?.key !== 'string') throw new Error(`issuing a key answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** One OpenAI chat call on its own connection with a gateway key. */
export function chatCall(gatewayUrl: string, key: string, body: Record<string, unknown>, timeoutMs = 15_000): Promise<Answer> {
  return withTimeout(call(`${gatewayUrl}/v1/chat/completions`, {
    body: { messages: [{ role: 'user', content: 'hello' }], ...body },
    headers: { authorization: `Bearer ${key}` },
  }), timeoutMs, `POST ${gatewayUrl}/v1/chat/completions`);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, fail) => { timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The GW_* code of an error answer, or undefined. */
export function errorCode(answer: Answer): string | undefined {
  try { return JSON.parse(answer.body)?.error?.code ?? undefined; } catch { return undefined; }
}

/** The key is known to `gatewayUrl` once a request with it gets past authentication (an unknown model costs no limit). */
export async function awaitKeyKnown(gatewayUrl: string, key: string, timeoutMs = 5000): Promise<void> {
  await until(`key known to ${gatewayUrl}`, async () => {
    const res = await chatCall(gatewayUrl, key, { model: 'no-such-model-probe' });
    return res.status === 404 ? true : undefined;
  }, timeoutMs);
}

/**
 * Rate limits count in calendar minutes shared by every replica (core/windows.ts): a burst that must land in
 * one window starts at least `needMs` before the minute ends. Returns the window's start.
 */
export async function roomInMinute(needMs = 15_000): Promise<number> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await delay(left + 50);
  return Date.now() - (Date.now() % 60_000);
}

/** Micro-dollars, so float sums compare exactly. */
export const micros = (usd: number) => Math.round(usd * 1e6);
