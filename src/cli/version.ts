// `vigil version` (and `--version`), and the build identity used by vigil_build_info and the logs.
import { readFileSync } from 'node:fs';

export function buildInfo(): { version: string; commit: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return { version: pkg.version, commit: process.env.VIGIL_COMMIT ?? 'unknown' };
}

export function versionLine(): string {
  const { version, commit } = buildInfo();
  return `vigil ${version} (commit ${commit}, node ${process.versions.node})`;
}

export function printVersion(): void {
  console.log(versionLine());
}
