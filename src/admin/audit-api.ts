// /admin/audit: audit events by type and time, oldest first, as `vigil audit export` writes them.
import { z } from 'zod';
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditLog, type AuditQuery } from '../store/ports.ts';
import { answer, parsedBy, validated } from './reply.ts';
import type { AdminRoute } from './routes.ts';
import { parseInstant } from './time-range.ts';

/** Events one query answers at most. */
export const MAX_AUDIT_LIMIT = 10_000;

const filters = z.object({
  event_type: z.enum(AUDIT_EVENT_TYPES).optional(),
  since: z.string().transform(parsedBy((text) => parseInstant(text, 'since'))).optional(),
  until: z.string().transform(parsedBy((text) => parseInstant(text, 'until', true))).optional(),
  limit: z.coerce.number().int().positive().max(MAX_AUDIT_LIMIT).default(1000),
}).strict();

/** An event in the API's and the export's snake_case. */
export function eventJson(event: AuditEvent): Record<string, unknown> {
  return {
    id: event.id, time: event.time, type: event.type, actor: event.actor,
    request_id: event.requestId ?? null, trace_id: event.traceId ?? null, target: event.target ?? null,
    security: event.security === true, detail: event.detail ?? {},
  };
}

export function auditRoutes(audit: AuditLog): AdminRoute[] {
  return [{
    method: 'GET', path: '/admin/audit',
    stage: async (ctx) => {
      const f = validated(filters, ctx.query);
      const query: AuditQuery = { type: f.event_type, since: f.since, until: f.until, limit: f.limit };
      answer(ctx, 200, { data: (await audit.query(query)).map(eventJson) });
    },
  }];
}
