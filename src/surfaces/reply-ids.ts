// Ids for answers the gateway composes itself: the mock's, and translations from the other dialect (a
// same-dialect passthrough keeps the upstream's ids and never comes here). Minted per answer, so two
// answers never share one, in the form the client's SDK and tooling expect (`msg_…`, `chatcmpl-…`).
import { randomUUID } from 'node:crypto';

/** `prefix` and 24 hex digits (96 random bits): short enough for any provider's tool-call id limit. */
export const mintId = (prefix: string): string => prefix + randomUUID().replaceAll('-', '').slice(0, 24);
