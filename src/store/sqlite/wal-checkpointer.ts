// The ledger's WAL checkpoints, off the request thread. SQLite's own auto-checkpoint runs inside the
// commit that crosses 1,000 log pages: copying the log into the database file and syncing it held the
// event loop for 10–25 ms every few seconds at a few thousand requests a second (BENCHMARKS.md, decision
// table). Here the request thread's connection never checkpoints; a thread of its own does, on a timer.
import { once } from 'node:events';
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { QueryObserver } from '../ports.ts';
import type { CheckpointReport, CheckpointWorkerData } from './wal-checkpoint-worker.ts';

export interface Checkpointer {
  /** Stops the thread; the database's last connection to close then checkpoints what is left. */
  close(): Promise<void>;
}

/** SQLite's default auto-checkpoint threshold, in pages, for when the thread is gone. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

export function startCheckpointer(db: DatabaseSync, data: CheckpointWorkerData, hooks: { onQuery?: QueryObserver; onError?: (err: unknown) => void }): Checkpointer {
  db.exec('PRAGMA wal_autocheckpoint = 0');
  const worker = new Worker(new URL('./wal-checkpoint-worker.ts', import.meta.url), { workerData: data });
  let stopped = false;
  // Should the thread fail, commits checkpoint again as SQLite does by default: the log must stay bounded.
  const fallBack = (err: unknown) => {
    if (stopped) return;
    stopped = true;
    if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    hooks.onError?.(err);
    void worker.terminate();
  };
  worker.on('message', (report: CheckpointReport) => {
    if ('error' in report) fallBack(new Error(`WAL checkpoint failed: ${report.error}`));
    else hooks.onQuery?.('checkpoint', report.seconds);
  });
  worker.on('error', fallBack);
  worker.on('exit', (code) => fallBack(new Error(`the WAL checkpoint thread exited (code ${code})`)));
  worker.unref(); // the ledger's own close stops it; it never holds the process open

  return {
    async close() {
      if (stopped) return;
      stopped = true;
      const exited = once(worker, 'exit').catch(() => undefined); // a thread that fails as it closes has ended too
      worker.ref(); // an unref'd thread would let the process end here, before the rest of shutdown
      worker.postMessage('close');
      await exited;
    },
  };
}
