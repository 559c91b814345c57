// Shared pieces of the routing fault-injection tests (test/e2e/routing-*.test.ts): a fake upstream behind two
// provider ids (so /metrics tells deployment A's calls from B's), a gateway with its own data dir (the ledger)
// and admin token (the audit API), metric deltas between two scrapes, and one-call helpers.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRows, type LedgerRow } from '../helpers/ledger.ts';
import { call, total, type Answer } from '../helpers/scrape.ts';
import { UPSTREAM_ANTHROPIC_KEY, UPSTREAM_OPENAI_KEY } from '../helpers/stack.ts';

export const ADMIN_TOKEN = 'admin-token-for-the-routing-tests';
export const CHAT_ROUTE = '/v1/chat/completions';

export interface RoutingStack {
  fake: FakeUpstream;
  gateway: Gateway;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Providers `fake-a` and `fake-b` (OpenAI-compatible) and `fake-claude` (Anthropic), all on one fake upstream;
 * `models` and `extra` (top-level sections) complete the config. Usage rows are flushed every 50 ms.
 */
export async function startRoutingStack(models: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<RoutingStack> {
  const fake = await startFakeUpstream();
  const dataDir = await mkdtemp(join(tmpdir(), 'vigil-routing-'));
  const openai = { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: UPSTREAM_OPENAI_KEY };
  const config = {
    providers: { 'fake-a': openai, 'fake-b': openai, 'fake-claude': { kind: 'anthropic', base_url: fake.url, api_key: UPSTREAM_ANTHROPIC_KEY } },
    models,
    store: { flush_interval_ms: 50 },
    auth: { admin_token: ADMIN_TOKEN },
    ...extra,
  };
  let gateway: Gateway;
  try {
    gateway = await startGateway(config, { VIGIL_DATA_DIR: dataDir });
  } catch (err) {
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    fake, gateway, dataDir,
    async stop() {
      await gateway.stop();
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** An OpenAI chat call with its own request id, on its own connection; bounded. */
export async function chat(stack: RoutingStack, model: string, requestId: string, extra: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<Answer> {
  const answer = call(`${stack.gateway.url}${CHAT_ROUTE}`, {
    body: { model, messages: [{ role: 'user', content: requestId }], ...extra },
    headers: { 'x-request-id': requestId },
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => { timer = setTimeout(() => fail(new Error(`${requestId}: no answer within ${timeoutMs} ms`)), timeoutMs); });
  return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
}

/** Counter and gauge values between two scrapes. */
export class Scrape {
  readonly body: string;

  constructor(body: string) {
    this.body = body;
  }

  static async of(stack: RoutingStack): Promise<Scrape> {
    return new Scrape(await (await fetch(`${stack.gateway.url}/metrics`)).text());
  }

  value(name: string, labels: Record<string, string> = {}): number {
    return total(this.body, name, labels);
  }

  /** How much `name{labels}` grew since `before`. */
  since(before: Scrape, name: string, labels: Record<string, string> = {}): number {
    return this.value(name, labels) - before.value(name, labels);
  }
}

/** The ledger rows of `requestIds`, polling until each has one; fails on a request with more than one. */
export async function ledgerOf(stack: RoutingStack, requestIds: readonly string[], timeoutMs = 5000): Promise<Map<string, LedgerRow>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wanted = new Set(requestIds);
    const rows = ledgerRows(stack.dataDir).filter((r) => wanted.has(r.request_id));
    const byId = new Map<string, LedgerRow>();
    for (const row of rows) {
      assert.ok(!byId.has(row.request_id), `more than one usage row for request ${row.request_id}`);
      byId.set(row.request_id, row);
    }
    if (byId.size === wanted.size) return byId;
    if (Date.now() > deadline) throw new Error(`usage rows for ${byId.size} of ${wanted.size} requests within ${timeoutMs} ms`);
    await delay(25);
  }
}

/** Audit events of the admin API (every type: breaker.* may not be a filter value), oldest first. */
export async function auditEvents(stack: RoutingStack): Promise<Record<string, any>[]> {
  const res = await call(`${stack.gateway.url}/admin/audit`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200, `GET /admin/audit: ${res.body}`);
  return JSON.parse(res.body).data;
}

/** Polls `probe` until it returns something other than undefined; fails after timeoutMs. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await delay(25);
  }
}

export const delay = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** The GW_* code of an OpenAI-shaped error answer. */
export const codeOf = (answer: Answer): string | undefined => {
  try { return JSON.parse(answer.body)?.error?.code ?? undefined; } catch { return undefined; }
};
