// What every admin handler shares: JSON answers, body and query validation with zod (400 naming the field),
// and the lookup of a path parameter.
import { z } from 'zod';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';

export function answer(ctx: RequestContext, status: number, value: unknown): void {
  ctx.status = status;
  ctx.reply.json(status, JSON.stringify(value));
}

/** `input` checked against `schema`; the first problem becomes a 400 whose `param` names the field. */
export function validated<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue.path.join('.') || 'body';
  throw new GatewayError('GW_REQUEST_INVALID', `${param}: ${issue.message}`, { param });
}

/** A zod check from a parser that throws an Error with the message to show (durations, dates). */
export function parsedBy<T>(parse: (text: string) => T) {
  return (text: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  };
}

export const notFound = (what: string) => new GatewayError('GW_ADMIN_NOT_FOUND', what);
