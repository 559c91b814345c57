#!/usr/bin/env bash
# The whole test suite: type check, then unit, integration and end-to-end tests on Node's test runner.
# Runs on the project's pinned Node 24 (node_modules/.bin first on PATH under npm scripts).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "node $(node --version)"

# test/ops/promtool.test.ts lints a live scrape with Prometheus' promtool; it fails (never skips) without
# it. When missing, take it from Debian's prometheus package: only the promtool binary is extracted (it
# needs nothing but libc), so no Prometheus service gets installed or started.
if ! command -v promtool >/dev/null 2>&1; then
  echo "== installing promtool (Debian package prometheus)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    tmp="$(mktemp -d)"
    apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -qq -o APT::Sandbox::User=root "$@"; }
    if (cd "$tmp" && { apt_get download prometheus 2>/dev/null || { apt_get update && apt_get download prometheus; }; } \
        && dpkg -x prometheus_*.deb root && install -m 0755 root/usr/bin/promtool /usr/local/bin/promtool); then
      promtool --version 2>&1 | sed -n 1p
    else
      echo "could not install promtool; test/ops/promtool.test.ts will fail" >&2
    fi
    rm -rf "$tmp"
  else
    echo "promtool is missing and installing it needs root and apt-get; test/ops/promtool.test.ts will fail" >&2
  fi
fi

# test/deploy/compose.test.ts checks deploy/compose/alertmanager.yml with amtool: taken from Debian's
# prometheus-alertmanager the same way (the binary only; no service installed or started).
if ! command -v amtool >/dev/null 2>&1; then
  echo "== installing amtool (Debian package prometheus-alertmanager)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    tmp="$(mktemp -d)"
    apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -qq -o APT::Sandbox::User=root "$@"; }
    if (cd "$tmp" && { apt_get download prometheus-alertmanager 2>/dev/null || { apt_get update && apt_get download prometheus-alertmanager; }; } \
        && dpkg -x prometheus-alertmanager_*.deb root && install -m 0755 root/usr/bin/amtool /usr/local/bin/amtool); then
      amtool --version 2>&1 | sed -n 1p
    else
      echo "could not install amtool; test/deploy/compose.test.ts will fail" >&2
    fi
    rm -rf "$tmp"
  else
    echo "amtool is missing and installing it needs root and apt-get; test/deploy/compose.test.ts will fail" >&2
  fi
fi

# test/deploy/compose.test.ts validates deploy/compose/compose.yaml with docker-compose (Debian's 1.29,
# Python; `config` needs no Docker engine, and none runs here).
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "== installing docker-compose (Debian package docker-compose)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt_install() { DEBIAN_FRONTEND=noninteractive apt-get -qq -y install docker-compose >/dev/null; }
    if apt_install || { DEBIAN_FRONTEND=noninteractive apt-get -qq update && apt_install; }; then
      docker-compose version --short
    else
      echo "could not install docker-compose; test/deploy/compose.test.ts will fail" >&2
    fi
  else
    echo "docker-compose is missing and installing it needs root and apt-get; test/deploy/compose.test.ts will fail" >&2
  fi
fi

# test/deploy/helm.test.ts renders the Helm charts with test/helm-render, a small Go program built
# from Debian's Go toolchain and Go packages (GOPATH mode, no network): no helm binary exists here.
go_packages="golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev"
if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/github.com/Masterminds/sprig ] \
    || [ ! -d /usr/share/gocode/src/gopkg.in/yaml.v3 ]; then
  echo "== installing $go_packages (Debian)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt_install() { DEBIAN_FRONTEND=noninteractive apt-get -qq -y install $go_packages >/dev/null; }
    if apt_install || { DEBIAN_FRONTEND=noninteractive apt-get -qq update && apt_install; }; then
      go version
    else
      echo "could not install $go_packages; test/deploy/helm.test.ts will fail" >&2
    fi
  else
    echo "Go and sprig are missing and installing them needs root and apt-get; test/deploy/helm.test.ts will fail" >&2
  fi
fi

echo "== type check"
tsc --noEmit -p .

echo "== tests"
node --disable-warning=ExperimentalWarning --test --test-concurrency=2 --test-timeout=60000 \
  'src/**/*.test.ts' 'test/**/*.test.ts'
