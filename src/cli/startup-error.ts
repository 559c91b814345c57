// Start-up failures the operator can fix: main.ts prints the message, one line naming the cause and the
// fix, and exits 1, instead of a stack trace.
export class StartupError extends Error {}

/** A listen() failure as what to do about it; other errors pass through unchanged. */
export function listenError(err: unknown, where: { host: string; port: number; hostSetting: string; portSetting: string }): unknown {
  const address = `${where.host}:${where.port}`;
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new StartupError(`cannot listen on ${address}: the port is already in use; stop the process holding it or choose another port (${where.portSetting})`);
    case 'EACCES':
      return new StartupError(`cannot listen on ${address}: permission denied (ports below 1024 need privileges); choose a port above 1023 (${where.portSetting})`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError(`cannot listen on ${address}: this machine has no such address; set ${where.hostSetting} to one of its addresses, 127.0.0.1 or 0.0.0.0`);
    default:
      return err;
  }
}
