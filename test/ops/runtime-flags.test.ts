import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RUNTIME_FLAGS } from '../../bin/runtime-flags.js';

// npm start and npm run vigil pass the flags themselves, so bin/vigil.js need not re-run Node with them.
test('package.json start and vigil scripts carry exactly the runtime flags of bin/runtime-flags.js', () => {
  const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  for (const name of ['start', 'vigil']) {
    const flags = scripts[name].split(' ').filter((word) => word.startsWith('--'));
    assert.deepEqual(flags, RUNTIME_FLAGS, name);
  }
});
