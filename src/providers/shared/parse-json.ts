// Upstream bodies and stream events as JSON; anything unreadable is the provider's protocol fault.
import { GatewayError } from '../../core/errors.ts';

export function parseUpstreamJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'response is not JSON', { cause: err });
  }
}
