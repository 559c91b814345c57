// The gateway's own secrets, scrubbed from text it relays (upstream error messages) before that text
// reaches a client or a log. config/compile registers every secret it resolves; providers and routing
// only redact, so no folder but config needs to know where secrets come from.

/**
 * Shorter values are not redacted: a header value such as `1`, `true` or `v2` also occurs in ordinary text,
 * and scrubbing it would mangle messages while protecting nothing (a secret that short is guessable anyway).
 * Provider keys and tokens are far longer.
 */
export const REDACT_MIN_LENGTH = 8;
export const REDACTED = '[redacted]';
/**
 * Every registered value, longest first (a secret that contains another is replaced whole). Module state on
 * purpose: every secret the process holds passes through config's resolveSecret, which registers it here, so
 * the list is complete by construction and no caller can forget to hand it to the code that relays text.
 */
const known: string[] = [];

export function registerSecret(value: string): void {
  if (value.length < REDACT_MIN_LENGTH || known.includes(value)) return;
  known.push(value);
  known.sort((a, b) => b.length - a.length);
}

/** `text` with every registered secret replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  for (const secret of known) if (text.includes(secret)) text = text.replaceAll(secret, REDACTED);
  return text;
}
