#!/usr/bin/env bash
# The whole test suite: lint and type check, then unit, integration and end-to-end tests on Node's test runner.
# Runs on the project's pinned Node 24 (node_modules/.bin first on PATH under npm scripts).
# Tools the tests need are installed from Debian when missing; a test whose tool could not be installed
# fails (it never skips), and this script says which one.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "node $(node --version)"

apt() { DEBIAN_FRONTEND=noninteractive apt-get -qq -o APT::Sandbox::User=root "$@"; }
can_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && return 0
  echo "$1 is missing and installing it needs root and apt-get; $2 will fail" >&2
  return 1
}

# One binary out of a Debian package, without installing the package: no service is installed or started.
binary_from_deb() { # binary package test
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "== installing $1 (Debian package $2)"
  can_install "$1" "$3" || return 0
  local tmp
  tmp="$(mktemp -d)"
  if (cd "$tmp" && { apt download "$2" 2>/dev/null || { apt update && apt download "$2"; }; } \
      && dpkg -x "$2"_*.deb root && install -m 0755 "root/usr/bin/$1" "/usr/local/bin/$1"); then
    "$1" --version 2>&1 | sed -n 1p
  else
    echo "could not install $1; $3 will fail" >&2
  fi
  rm -rf "$tmp"
}

# Whole Debian packages, when `check` fails.
packages() { # check "packages" test
  eval "$1" && return 0
  echo "== installing $2 (Debian)"
  can_install "$2" "$3" || return 0
  apt -y install $2 >/dev/null || { apt update && apt -y install $2 >/dev/null; } || echo "could not install $2; $3 will fail" >&2
}

# promtool lints a live scrape and checks rule files; amtool checks the compose stack's Alertmanager config.
binary_from_deb promtool prometheus test/ops/promtool.test.ts
binary_from_deb amtool prometheus-alertmanager test/deploy/compose.test.ts
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
