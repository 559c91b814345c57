#!/usr/bin/env bash
# End-to-end overhead benchmark (see BENCHMARKS.md). Usage: npm run bench   (or: bash bench/e2e/run.sh)
# Installs what is missing (nginx and wrk from Debian, bench/node_modules from bench/package-lock.json),
# then runs bench/e2e/run.ts on Node 24 pinned to core 1; the proxy under test gets core 0 alone.
# Environment knobs (defaults in run.ts): BENCH_TARGETS=direct,nginx,portkey,vigil BENCH_RATES=200,1000,2000
# BENCH_RATE_SECONDS=10 BENCH_RATE_WARMUP_SECONDS=3 BENCH_MAX_SECONDS=10 BENCH_TTFB_COUNT=300
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(nproc)" -lt 2 ]; then echo "bench: needs 2 cores (proxy on core 0, load and upstream on core 1)" >&2; exit 1; fi

bash bench/setup.sh nginx wrk taskset:util-linux
NODE=node_modules/.bin/node   # Node 24, pinned by the root package.json (the system node may be older)
if [ ! -f bench/node_modules/@portkey-ai/gateway/package.json ]; then
  # Benchmark-only dependencies; no install scripts are needed to run them.
  npm ci --prefix bench --ignore-scripts --no-audit --no-fund
fi

taskset -c 1 "$NODE" bench/e2e/run.ts "$@" &
pid=$!
# run.ts kills everything it started on exit or signal; this makes sure run.ts itself goes too.
trap 'kill -TERM "$pid" 2>/dev/null || true' EXIT INT TERM
wait "$pid"
