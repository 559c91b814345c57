// A GatewayError in the shape the client's SDK parses: OpenAI's error object, or Anthropic's on /v1/messages.
import type { Dialect } from '../core/canonical.ts';
import { ERRORS, type GatewayError } from '../core/errors.ts';

const OPENAI_TYPE: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'invalid_request_error', 429: 'rate_limit_error', 499: 'client_closed_request', 503: 'service_unavailable',
};

const ANTHROPIC_TYPE: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 405: 'invalid_request_error',
  413: 'request_too_large', 429: 'rate_limit_error', 503: 'overloaded_error', 504: 'timeout_error',
};

export function errorBody(error: GatewayError, dialect: Dialect, requestId: string): string {
  if (dialect === 'anthropic') {
    const type = ANTHROPIC_TYPE[error.status] ?? 'api_error';
    return JSON.stringify({ type: 'error', error: { type, message: error.publicMessage }, request_id: requestId });
  }
  const entry = ERRORS[error.code] as { openaiType?: string };
  const type = entry.openaiType ?? OPENAI_TYPE[error.status] ?? (error.status >= 500 ? 'server_error' : 'invalid_request_error');
  return JSON.stringify({ error: { message: error.publicMessage, type, param: error.param ?? null, code: error.code } });
}

/** The same error as an SSE event, for failures after a stream has started. */
export function errorEvent(error: GatewayError, dialect: Dialect, requestId: string): string {
  const body = errorBody(error, dialect, requestId);
  return dialect === 'anthropic' ? `event: error\ndata: ${body}\n\n` : `data: ${body}\n\n`;
}
