// GET /: a pointer for whoever opens the gateway's address: what it is, where its APIs, health checks,
// metrics and documentation are. Rendered once at start-up.
import { readFileSync } from 'node:fs';

export function renderRoot(routes: string[], metricsPath: string | undefined): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return JSON.stringify({
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    openai_base_url: '/v1',
    anthropic_base_url: '/',
    routes,
    health: '/healthz',
    readiness: '/readyz',
    ...(metricsPath ? { metrics: metricsPath } : {}),
    docs: 'README.md and docs/ (configuration, errors, metrics, pipeline) in the Vigil source',
  }, null, 2);
}
