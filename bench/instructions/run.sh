#!/usr/bin/env bash
# Instructions per request under valgrind (see run.ts). Usage: npm run bench:instructions
# Knobs: BENCH_TARGETS=vigil,vigil-telemetry-off,vigil-telemetry-full BENCH_REQUESTS=2000 BENCH_WARMUP_REQUESTS=3000
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
command -v valgrind >/dev/null || missing+=(valgrind)
command -v nginx >/dev/null || missing+=(nginx)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
NODE=node_modules/.bin/node   # Node 24, pinned by the root package.json
if [ ! -x "$NODE" ]; then npm install --no-audit --no-fund; fi
exec taskset -c 1 "$NODE" bench/instructions/run.ts "$@"
