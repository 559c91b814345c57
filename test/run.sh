#!/usr/bin/env bash
# The whole test suite: lint and type check, then unit, integration and end-to-end tests on Node's test runner.
# Runs on the project's pinned Node 24 (node_modules/.bin first on PATH under npm scripts).
# Tools the tests need are installed from Debian when missing; a test whose tool could not be installed
# fails (it never skips), and this script says which one.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "node $(node --version)"

. scripts/lib/debian.sh

# promtool lints a live scrape and checks rule files; amtool checks the compose stack's Alertmanager config.
binary_from_deb promtool prometheus test/ops/promtool.test.ts
binary_from_deb amtool prometheus-alertmanager test/deploy/compose.test.ts
# The servers themselves: a real Prometheus and Alertmanager evaluate the generated rules end to end.
binary_from_deb prometheus prometheus test/e2e/prometheus-alerting.test.ts usr/share/prometheus/web
binary_from_deb prometheus-alertmanager prometheus-alertmanager test/e2e/prometheus-alerting.test.ts usr/share/prometheus/alertmanager
# docker-compose validates the compose file (`config` needs no Docker engine, and none runs here).
packages 'command -v docker-compose >/dev/null' docker-compose test/deploy/compose.test.ts
# No helm binary exists here: test/helm-render renders the charts with Go's text/template and sprig (GOPATH mode).
packages 'command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/Masterminds/sprig ] && [ -d /usr/share/gocode/src/gopkg.in/yaml.v3 ]' \
  'golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev' test/deploy/helm.test.ts

echo "== lint"
biome lint --error-on-warnings

echo "== type check"
tsc --noEmit -p .

echo "== tests"
node --disable-warning=ExperimentalWarning --test --test-concurrency=2 --test-timeout=60000 \
  'src/**/*.test.ts' 'test/**/*.test.ts'
