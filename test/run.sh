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

# The access tests (test/e2e/access-*.test.ts) use the machine's real PostgreSQL and Redis: started here when
# stopped, with the commands the machine started them with; when they cannot be started the run stops here.
service() { # name check start
  eval "$2" && return 0
  echo "== starting $1"
  eval "$3" || true
  for _ in $(seq 1 30); do eval "$2" && return 0; sleep 0.5; done
  echo "FAIL: $1 is not running and could not be started ($3); the access tests need it" >&2
  exit 1
}
service PostgreSQL 'pg_isready -q -h 127.0.0.1 -p 5432' \
  'pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start'
service Redis '[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]' \
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log'

echo "== lint"
biome lint --error-on-warnings

echo "== type check"
tsc --noEmit -p .

echo "== tests"
node --disable-warning=ExperimentalWarning --test --test-concurrency=2 --test-timeout=60000 \
  'src/**/*.test.ts' 'test/**/*.test.ts'
