#!/usr/bin/env bash
# The whole test suite: type check, then unit, integration and end-to-end tests on Node's test runner.
# Runs on the project's pinned Node 24 (node_modules/.bin first on PATH under npm scripts).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "node $(node --version)"
echo "== type check"
tsc --noEmit -p .

echo "== tests"
node --disable-warning=ExperimentalWarning --test --test-concurrency=2 --test-timeout=60000 \
  'src/**/*.test.ts' 'test/**/*.test.ts'
