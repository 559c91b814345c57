import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDACT_MIN_LENGTH, redactSecrets } from '../core/redact.ts';
import { resolveHeaders, resolveSecret } from './secrets.ts';

test('redactSecrets: every resolved secret (literal, env:, file:, header values) is scrubbed wherever it occurs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-secrets-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'key'), 'sk-from-a-mounted-file-0001\n');
  const env = { VIGIL_TEST_REDACT_KEY: 'sk-from-the-environment-0002' };
  resolveSecret('sk-literal-in-the-config-0003');
  resolveSecret('env:VIGIL_TEST_REDACT_KEY', env);
  resolveSecret(`file:${join(dir, 'key')}`);
  resolveHeaders({ 'X-Org-Token': 'org-token-value-0004' });

  const text = 'keys sk-literal-in-the-config-0003, sk-from-the-environment-0002 and sk-from-a-mounted-file-0001; '
    + 'header org-token-value-0004 twice: org-token-value-0004';
  assert.equal(redactSecrets(text), 'keys [redacted], [redacted] and [redacted]; header [redacted] twice: [redacted]');
  assert.equal(redactSecrets('nothing secret here'), 'nothing secret here');
});

test('redactSecrets: a secret containing another is replaced whole; unresolved and short values are left alone', () => {
  resolveSecret('inner-secret-0005');
  resolveSecret('outer-inner-secret-0005-tail');
  assert.equal(redactSecrets('x outer-inner-secret-0005-tail y inner-secret-0005'), 'x [redacted] y [redacted]');

  assert.equal(resolveSecret('env:VIGIL_TEST_REDACT_UNSET', {}).ok, false);
  const short = 'x'.repeat(REDACT_MIN_LENGTH - 1);
  resolveSecret(short);
  resolveHeaders({ 'x-flag': 'true', 'x-version': '2' });
  assert.equal(redactSecrets(`flag true, version 2, ${short}`), `flag true, version 2, ${short}`, 'short values would mangle ordinary text');
});
