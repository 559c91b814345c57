// The stores the admin commands (`vigil keys`, `budgets`, `usage report`, `audit export`) work on, opened
// from the config as a gateway opens them: the SQLite file in store.data_dir, or store.url's PostgreSQL.
// A write is then published on the Redis change channel when redis.url is set, so running gateways refresh
// at once; without Redis they notice within store.refresh_ms by polling.
import type { CompiledConfig } from '../config/compile.ts';
import { GatewayError } from '../core/errors.ts';
import { ConfigKeys } from '../store/memory/config-keys.ts';
import type { AuditLog, BudgetStore, KeyRecord, KeyStore, UsageAnalytics } from '../store/ports.ts';
import { openRecords } from '../store/factory.ts';
import { RedisChangeChannel } from '../store/redis/change-channel.ts';
import { openPostgres, openSqlite } from '../store/sql/database.ts';
import { SqlUsageAnalytics } from '../store/sql/usage-analytics.ts';
import { migrateUsage } from '../store/sql/usage-schema.ts';

export interface AdminStores {
  keys: KeyStore;
  /** The config file's keys (auth.keys), read-only. */
  configKeys: readonly KeyRecord[];
  budgets: BudgetStore;
  analytics: UsageAnalytics;
  audit: AuditLog;
  /** Tells running gateways that keys or budgets changed (no-op without redis.url). */
  publish(kind: 'keys' | 'budgets'): Promise<void>;
  /** Writes queued audit events, then releases everything. */
  close(): Promise<void>;
}

/** A failure the operator can act on: main.ts prints the message alone and exits 1. */
export class CommandError extends Error {}

/**
 * `refreshMs`: how often the key and budget caches look for other processes' writes; a one-shot command
 * reads the store directly and needs no refresh, so its default is rare.
 */
export async function openAdminStores(compiled: CompiledConfig, refreshMs = 3_600_000): Promise<AdminStores> {
  const { store, redis } = compiled.config;
  const db = compiled.storeUrl ? openPostgres(compiled.storeUrl, 2) : openSqlite(store.data_dir);
  const opened: { close(): Promise<void> }[] = [];
  try {
    const { keyStore: keys, budgets, audit } = await openRecords(db, compiled, opened, { refreshMs });
    await migrateUsage(db); // a report before the first gateway ever ran finds an empty table, not none
    const { redisUrl } = compiled;
    let channel: RedisChangeChannel | undefined; // connected on the first write only: reads never need Redis
    return {
      keys, budgets, audit,
      configKeys: new ConfigKeys(compiled.keyHashes).records(),
      analytics: new SqlUsageAnalytics(db),
      async publish(kind) {
        if (!redisUrl) return;
        channel ??= await RedisChangeChannel.open({ url: redisUrl, keyPrefix: redis.key_prefix, commandTimeoutMs: redis.command_timeout_ms });
        if (!await channel.publish(kind)) {
          console.error(`warning: Redis did not take the change notice; running gateways pick the change up within store.refresh_ms (${store.refresh_ms} ms)`);
        }
      },
      async close() {
        for (const opener of opened.reverse()) await opener.close();
        await channel?.close();
        await db.close();
      },
    };
  } catch (err) {
    for (const opener of opened.reverse()) await opener.close().catch(() => {});
    await db.close();
    throw err;
  }
}

/** Runs `command` on the stores and closes them; a refused action (a read-only key) becomes a CommandError. */
export async function withAdminStores<T>(compiled: CompiledConfig, command: (stores: AdminStores) => Promise<T>): Promise<T> {
  const stores = await openAdminStores(compiled);
  try {
    return await command(stores);
  } catch (err) {
    throw err instanceof GatewayError ? new CommandError(err.detail ?? err.message) : err;
  } finally {
    await stores.close();
  }
}
