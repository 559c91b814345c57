// GET /: a pointer for whoever opens the gateway's address: what it is, where its APIs, health checks,
// metrics and documentation are. Rendered once at start-up.

export function renderRoot(version: string, routes: string[], metricsPath: string | undefined): string {
  return JSON.stringify({
    name: 'vigil',
    version,
    description: 'An observable, fast AI gateway: OpenAI- and Anthropic-compatible',
    openai_base_url: '/v1',
    anthropic_base_url: '/',
    routes,
    health: '/healthz',
    readiness: '/readyz',
    ...(metricsPath ? { metrics: metricsPath } : {}),
    docs: 'README.md and docs/ (architecture, configuration, errors, metrics, deploy) in the Vigil source',
  }, null, 2);
}
