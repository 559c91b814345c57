// Secret references: `env:NAME` reads the environment, `file:/path` reads a mounted file (Kubernetes secrets).
// Anything else is taken literally. Only config/compile resolves them, once at start-up; every resolved value
// is registered with core/redact.ts, which scrubs it from text the gateway relays (upstream error messages).
import { readFileSync } from 'node:fs';
import { registerSecret } from '../core/redact.ts';

export type SecretResult = { ok: true; value: string } | { ok: false; reason: string };

export function resolveSecret(ref: string, env: NodeJS.ProcessEnv = process.env): SecretResult {
  const result = lookup(ref, env);
  if (result.ok) registerSecret(result.value);
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
