// Versioned schema migrations, per component (keys, usage, audit …): each component's list is applied in
// order, once, recorded in `schema_migrations`, inside a transaction, so concurrent starters (replicas,
// cluster workers, the CLI) apply each version exactly once. Components have their own sequences so that
// each store owns its schema and none has to know the others'.
import type { SqlDatabase } from './database.ts';

export interface Migration {
  /** 1, 2, 3 … within the component; never renumbered, never edited once released. */
  readonly version: number;
  /**
   * Statements separated by `;`, or one per dialect where they differ (e.g. identity columns), or a step that
   * must look before it changes (a column a release before migrations may already have added).
   */
  readonly sql: string | { readonly sqlite: string; readonly postgres: string } | ((tx: SqlDatabase) => Promise<void>);
}

export async function migrate(db: SqlDatabase, component: string, migrations: readonly Migration[]): Promise<void> {
  await db.transaction(async (tx) => {
    // PostgreSQL: one starter at a time per schema, taken before creating the bookkeeping table (concurrent
    // `CREATE TABLE IF NOT EXISTS` there fails on pg_type's unique index). SQLite's BEGIN IMMEDIATE already serialises.
    if (tx.dialect === 'postgres') await tx.query("SELECT pg_advisory_xact_lock(hashtext('vigil:migrate:' || coalesce(current_schema(), '')))");
    await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version))');
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations WHERE component = ?', [component]);
    const applied = new Set(rows.map((r) => Number(r.version)));
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      if (typeof migration.sql === 'function') await migration.sql(tx);
      else {
        const sql = typeof migration.sql === 'string' ? migration.sql : migration.sql[tx.dialect];
        for (const statement of sql.split(';').map((s) => s.trim()).filter(Boolean)) await tx.run(statement);
      }
      await tx.run('INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)', [component, migration.version, new Date().toISOString()]);
    }
  });
}
