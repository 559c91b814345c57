// `vigil version`, and the build identity used by vigil_build_info and the logs.
import { readFileSync } from 'node:fs';

export function buildInfo(): { version: string; commit: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return { version: pkg.version, commit: process.env.VIGIL_COMMIT ?? 'unknown' };
}

export function printVersion(): void {
  const { version, commit } = buildInfo();
  console.log(`vigil ${version} (commit ${commit}, node ${process.versions.node})`);
}
