// AccessDeps for unit tests of policy/: real in-memory counters on a clock the test moves, and small real
// in-memory key, budget, analytics and audit stores, plus a recorder that remembers what it was told.
import { configSchema } from '../../src/config/schema.ts';
import { hashKey } from '../../src/core/key-hash.ts';
import type { Principal } from '../../src/core/principal.ts';
import type { AccessDeps, AccessRecorder } from '../../src/policy/access.ts';
import { MemoryCounterStore } from '../../src/store/memory/counters.ts';
import type { AuditEvent, AuditLog, BudgetLimits, BudgetScope, BudgetStore, CounterStore, KeyLookup, KeyRecord, UsageAnalytics } from '../../src/store/ports.ts';

export class TestKeys implements KeyLookup {
  readonly records = new Map<string, KeyRecord>();
  get size(): number {
    return this.records.size;
  }
  lookup(hash: string): KeyRecord | undefined {
    return this.records.get(hash);
  }
  /** Adds `key` with `principal`; `extra` sets revokedAt/expiresAt. */
  add(key: string, principal: Principal, extra: Partial<KeyRecord> = {}): KeyRecord {
    const record: KeyRecord = { id: principal.id, hash: hashKey(key), principal, createdAt: 0, ...extra };
    this.records.set(record.hash, record);
    return record;
  }
}

export class TestBudgets implements BudgetStore {
  readonly #limits = new Map<string, BudgetLimits>();
  limitsOf(scope: 'user' | 'team', id: string): BudgetLimits | undefined {
    return this.#limits.get(`${scope}:${id}`);
  }
  async set(scope: 'user' | 'team', id: string, limits: BudgetLimits): Promise<void> {
    this.#limits.set(`${scope}:${id}`, limits);
  }
  async remove(scope: 'user' | 'team', id: string): Promise<boolean> {
    return this.#limits.delete(`${scope}:${id}`);
  }
  async list() {
    return [...this.#limits].map(([key, limits]) => ({ scope: key.split(':')[0] as 'user' | 'team', id: key.slice(5), limits }));
  }
  async refresh(): Promise<void> {}
}

/** Spend per `${scope}:${id}` as the ledger would report it; counts its calls. */
export class TestAnalytics implements UsageAnalytics {
  readonly spent = new Map<string, number>();
  calls = 0;
  /** While set, spentSince waits for it (a slow database). */
  gate: Promise<void> | undefined;
  async report() {
    return [];
  }
  async spentSince(scope: BudgetScope, id: string): Promise<number> {
    this.calls++;
    if (this.gate) await this.gate;
    return this.spent.get(`${scope}:${id}`) ?? 0;
  }
}

export class TestAudit implements AuditLog {
  readonly events: AuditEvent[] = [];
  append(event: AuditEvent): void {
    this.events.push(event);
  }
  async query() {
    return this.events;
  }
  async sweep() {
    return 0;
  }
  async flush() {}
  async close() {}
  stats() {
    return { queued: 0, dropped: 0 };
  }
}

export class TestRecorder implements AccessRecorder {
  readonly calls: string[] = [];
  readonly quota = new Map<string, number>();
  authBlocked(action: string): void {
    this.calls.push(`authBlocked:${action}`);
  }
  rateLimitChecked(scope: string, result: string): void {
    this.calls.push(`rate:${scope}:${result}`);
  }
  budgetExceeded(scope: string, period: string): void {
    this.calls.push(`budget:${scope}:${period}`);
  }
  quotaUsed(kind: string, id: string, period: string, ratio: number): void {
    this.quota.set(`${kind}:${id}:${period}`, ratio);
  }
  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }
}

export interface TestAccess extends AccessDeps {
  keys: TestKeys;
  counters: CounterStore;
  budgets: TestBudgets;
  analytics: TestAnalytics;
  audit: TestAudit;
  recorder: TestRecorder;
  clock: { now: number };
  /** Delays the guard asked for, in ms. */
  slept: number[];
}

/** `auth` and `budgets`: config sections as written in YAML (defaults filled by the schema). */
export function testAccess(options: { auth?: Record<string, unknown>; budgets?: Record<string, unknown>; counters?: CounterStore; now?: number } = {}): TestAccess {
  const clock = { now: options.now ?? Date.UTC(2026, 0, 15, 12, 0, 0) };
  const now = () => clock.now;
  const config = configSchema.parse({ providers: {}, models: [], auth: options.auth ?? {}, budgets: options.budgets ?? {} });
  const slept: number[] = [];
  return {
    keys: new TestKeys(),
    counters: options.counters ?? new MemoryCounterStore({ now }),
    budgets: new TestBudgets(),
    analytics: new TestAnalytics(),
    audit: new TestAudit(),
    recorder: new TestRecorder(),
    config: { auth: config.auth, budgets: config.budgets },
    now,
    sleep: async (ms) => { slept.push(ms); },
    clock,
    slept,
  };
}
