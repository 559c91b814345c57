#!/usr/bin/env bash
# Instructions per request under valgrind (see run.ts). Usage: npm run bench:instructions
# Knobs: BENCH_TARGETS=vigil,vigil-telemetry-off,vigil-telemetry-full BENCH_REQUESTS=2000 BENCH_WARMUP_REQUESTS=15000
#   BENCH_BY_FUNCTION=30 (also list the 30 functions, JavaScript included, with the most instructions per request)
set -euo pipefail
cd "$(dirname "$0")/../.."
bash bench/setup.sh valgrind nginx taskset:util-linux
exec taskset -c 1 node_modules/.bin/node bench/instructions/run.ts "$@"
