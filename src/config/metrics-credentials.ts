// Scrape credentials for /metrics, resolved once at start-up. Only SHA-256 digests are kept: requests
// are checked by comparing digests in constant time, so neither the length nor a prefix of the secret
// leaks through response timing.
import { createHash } from 'node:crypto';
import type { MetricsConfig } from './schema.ts';
import { resolveSecret } from './secrets.ts';

export interface MetricsCredentials {
  /** sha256 of the bearer token. */
  readonly bearer?: Buffer;
  /** sha256 of `username:password`, the decoded form of a Basic credential. */
  readonly basic?: Buffer;
}

export const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Problems are appended to `problems` as `key: reason` lines, like the rest of compile. */
export function compileMetricsCredentials(auth: MetricsConfig['auth'], env: NodeJS.ProcessEnv, problems: string[]): MetricsCredentials {
  const credentials: { bearer?: Buffer; basic?: Buffer } = {};
  if (auth.bearer_token !== undefined) {
    const token = resolveSecret(auth.bearer_token, env);
    if (token.ok) credentials.bearer = digest(token.value);
    else problems.push(`metrics.auth.bearer_token: ${token.reason}`);
  }
  if (auth.basic) {
    const password = resolveSecret(auth.basic.password, env);
    if (auth.basic.username.includes(':')) problems.push('metrics.auth.basic.username: must not contain ":" (RFC 7617)');
    else if (password.ok) credentials.basic = digest(`${auth.basic.username}:${password.value}`);
    else problems.push(`metrics.auth.basic.password: ${password.reason}`);
  }
  return Object.freeze(credentials);
}
