// `vigil audit export FILE.jsonl`: audit events, oldest first, one JSON object per line, in the admin API's
// shape (eventJson).
import { writeFile } from 'node:fs/promises';
import { eventJson } from '../admin/audit-api.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../store/ports.ts';
import { parseInstant } from '../admin/time-range.ts';
import { CommandError, withAdminStores } from './admin-stores.ts';
import { validatedConfig } from './validated-config.ts';

export interface ExportOptions {
  config?: string;
  eventType?: string;
  since?: string;
  until?: string;
}

export async function auditExport(file: string, options: ExportOptions): Promise<void> {
  const type = options.eventType as AuditEventType | undefined;
  if (type !== undefined && !AUDIT_EVENT_TYPES.includes(type)) throw new CommandError(`audit export: --event-type must be one of ${AUDIT_EVENT_TYPES.join(', ')}`);
  let since: number | undefined;
  let until: number | undefined;
  try {
    since = options.since === undefined ? undefined : parseInstant(options.since, '--since');
    until = options.until === undefined ? undefined : parseInstant(options.until, '--until', true);
  } catch (err) {
    throw new CommandError(`audit export: ${(err as Error).message}`);
  }
  const { compiled } = validatedConfig({ path: options.config });
  const events = await withAdminStores(compiled, ({ audit }) => audit.query({ type, since, until }));
  await writeFile(file, events.map((e) => `${JSON.stringify(eventJson(e))}\n`).join(''))
    .catch((err: NodeJS.ErrnoException) => { throw new CommandError(`audit export: cannot write ${file}: ${err.message}`); });
  console.log(`wrote ${events.length} audit event${events.length === 1 ? '' : 's'} to ${file}`);
}
