// How an upstream stream may end other than well. A stream is complete only when the provider says so
// (OpenAI: a finish reason or `[DONE]`; Anthropic: `message_stop`): a body that just stops is a truncated
// answer, and an error event is the provider failing mid-answer. Either is thrown, so the client's stream
// ends in an error event in its own dialect and the request is counted as the failure it is, never as a
// clean end that an encoder would close with `stop` or `end_turn`.
import { GatewayError } from '../../core/errors.ts';
import { redactSecrets } from '../../core/redact.ts';

export function truncatedStream(): GatewayError {
  return new GatewayError('GW_UPSTREAM_PROTOCOL', 'the stream ended before the answer was complete');
}

/** An in-stream error event (`{"error": {"type", "message"}}` in both dialects), its message scrubbed of secrets. */
export function streamErrorEvent(body: any): GatewayError {
  const said = body?.error?.message ?? body?.error?.type;
  return new GatewayError('GW_UPSTREAM_SERVER_ERROR', typeof said === 'string' ? redactSecrets(said).slice(0, 200) : 'error event mid-stream');
}
