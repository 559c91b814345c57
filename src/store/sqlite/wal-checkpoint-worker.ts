// Runs on its own thread (see wal-checkpointer.ts): copies the ledger's write-ahead log into the database
// file every `intervalMs`, on a connection of its own. PASSIVE: it never waits for, nor holds up, the
// request thread's inserts; frames a running write still needs are left for the next round.
import { setPriority } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
}

/** Sent to the request thread after each round: its duration, or why it failed. */
export type CheckpointReport = { seconds: number } | { error: string };

const { file, intervalMs } = workerData as CheckpointWorkerData;
// Nothing here is urgent: at nice 10 a round runs when the request thread leaves the core idle, as V8's
// background threads do on one CPU (server/v8-threads.ts). On Linux the nice value is this thread's alone.
if (process.platform === 'linux') setPriority(10);
const port = parentPort!;
const db = new DatabaseSync(file);
db.exec('PRAGMA busy_timeout = 5000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

function round(): void {
  const started = performance.now();
  try {
    checkpoint.get();
    port.postMessage({ seconds: (performance.now() - started) / 1000 } satisfies CheckpointReport);
  } catch (err) {
    port.postMessage({ error: String(err) } satisfies CheckpointReport);
  }
}

const timer = setInterval(round, intervalMs);
port.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  port.close();
});
