// Stop requests. The first SIGTERM or SIGINT starts the drain; a later one while it runs hurries it (the
// gateway stops waiting for in-flight requests, says so, and exits non-zero). The handlers stay installed
// for good: with `process.once`, a signal delivered twice met Node's default action and killed the gateway
// mid-drain, losing its last log lines and usage records.
//
// A signal can arrive twice without anyone meaning it twice: Ctrl-C signals a terminal's whole process
// group, and npm forwards it to its script too. A repeat within DUPLICATE_WINDOW_MS is taken as that.
// (bin/vigil.js avoids the double delivery at its source: its child has a process group of its own.)
import cluster from 'node:cluster';
import { constants } from 'node:os';
import { onPrimaryRequest } from '../server/cluster.ts';

const DUPLICATE_WINDOW_MS = 1000;

export interface StopActions {
  /** Called once, by whichever comes first: a signal, the primary's request, the parent process gone. */
  drain(reason: string): void;
  /** Called once, on a signal after the first; `code` is 128 + its number, as a shell reports a signal. */
  hurry(signal: NodeJS.Signals, code: number): void;
}

export function watchStopRequests(actions: StopActions): void {
  let draining = false;
  let hurried = false;
  let firstSignalAt: number | undefined;
  const drain = (reason: string) => {
    if (draining) return;
    draining = true;
    actions.drain(reason);
  };
  const hurry = (signal: NodeJS.Signals) => {
    if (hurried) return;
    hurried = true;
    actions.hurry(signal, 128 + constants.signals[signal]);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (firstSignalAt === undefined) {
        firstSignalAt = Date.now();
        drain(signal);
      } else if (Date.now() - firstSignalAt >= DUPLICATE_WINDOW_MS) {
        hurry(signal);
      }
    });
  }
  if (cluster.isWorker) onPrimaryRequest({ drain, hurry });
  // Started by bin/vigil.js (or any parent with an IPC channel): its channel closes when it dies.
  else if (process.channel) process.once('disconnect', () => drain('parent-exited'));
}
