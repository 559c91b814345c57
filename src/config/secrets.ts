// Secret references: `env:NAME` reads the environment, `file:/path` reads a mounted file (Kubernetes secrets).
// Anything else is taken literally. Resolved values live only in compiled provider objects, never in logs,
// and in the redaction list below, which scrubs them from text the gateway relays (upstream error messages).
import { readFileSync } from 'node:fs';

export type SecretResult = { ok: true; value: string } | { ok: false; reason: string };

/**
 * Shorter values are not redacted: a header value such as `1`, `true` or `v2` also occurs in ordinary text,
 * and scrubbing it would mangle messages while protecting nothing (a secret that short is guessable anyway).
 * Provider keys and tokens are far longer.
 */
export const REDACT_MIN_LENGTH = 8;
export const REDACTED = '[redacted]';
/**
 * Every value resolveSecret hands out, longest first (a secret that contains another is replaced whole).
 * Module state on purpose: every secret the process holds passes through resolveSecret, so the list is
 * complete by construction, and no caller can forget to hand it to the code that relays upstream text.
 */
const known: string[] = [];

export function resolveSecret(ref: string, env: NodeJS.ProcessEnv = process.env): SecretResult {
  const result = lookup(ref, env);
  if (result.ok && result.value.length >= REDACT_MIN_LENGTH && !known.includes(result.value)) {
    known.push(result.value);
    known.sort((a, b) => b.length - a.length);
  }
  return result;
}

function lookup(ref: string, env: NodeJS.ProcessEnv): SecretResult {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    return value ? { ok: true, value } : { ok: false, reason: `environment variable ${name} is not set` };
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      return { ok: true, value: readFileSync(path, 'utf8').trim() };
    } catch (err) {
      return { ok: false, reason: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
    }
  }
  return { ok: true, value: ref };
}

/** `text` with every resolved secret replaced by `[redacted]`: for upstream text before it reaches a client or a log. */
export function redactSecrets(text: string): string {
  for (const secret of known) if (text.includes(secret)) text = text.replaceAll(secret, REDACTED);
  return text;
}

/** A header map whose values may be secret references: lower-cased names, and one `name: reason` per failure. */
export function resolveHeaders(refs: Record<string, string>, env: NodeJS.ProcessEnv = process.env): { headers: Record<string, string>; problems: string[] } {
  const headers: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, ref] of Object.entries(refs)) {
    const value = resolveSecret(ref, env);
    if (value.ok) headers[name.toLowerCase()] = value.value;
    else problems.push(`${name}: ${value.reason}`);
  }
  return { headers, problems };
}

/** For printing a config: references stay readable, literal secrets become `****`. */
export function maskSecret(ref: string): string {
  return ref.startsWith('env:') || ref.startsWith('file:') ? ref : '****';
}
