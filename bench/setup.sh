#!/usr/bin/env bash
# What every benchmark needs before it runs: the Debian packages it names that are missing, and the
# project's own node_modules (Node 24, pinned by the root package.json; the system node may be older).
# Usage, from the repository root: bash bench/setup.sh command[:debian-package] ...
set -euo pipefail
missing=()
for tool in "$@"; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -x node_modules/.bin/node ]; then npm install --no-audit --no-fund; fi
