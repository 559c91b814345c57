// Reads the usage ledger (SQLite under the gateway's data dir) while the gateway runs: WAL mode lets a
// read-only connection see every committed batch.
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export type LedgerRow = Record<string, any>;

/** Every usage row, in the order they were written. */
export function ledgerRows(dataDir: string): LedgerRow[] {
  const db = new DatabaseSync(join(dataDir, 'vigil.db'), { readOnly: true });
  try {
    return db.prepare('SELECT * FROM usage_records ORDER BY id').all() as LedgerRow[];
  } finally {
    db.close();
  }
}

/** The one row of `requestId`, polling until the gateway's batch writer has flushed it. */
export async function ledgerRow(dataDir: string, requestId: string, timeoutMs = 3000): Promise<LedgerRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = ledgerRows(dataDir).filter((r) => r.request_id === requestId);
    if (rows.length > 1) throw new Error(`${rows.length} usage rows for request ${requestId}`);
    if (rows.length === 1) return rows[0];
    if (Date.now() > deadline) throw new Error(`no usage row for request ${requestId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
