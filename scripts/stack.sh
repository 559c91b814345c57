#!/usr/bin/env bash
# `npm run stack [-- --target host:port]`: a local Prometheus and Alertmanager on a running Vigil,
# without Docker. Installs the Debian packages' binaries when missing (like test/run.sh), then
# scripts/stack.ts starts them and stops them on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
. scripts/lib/debian.sh
binary_from_deb prometheus prometheus 'npm run stack' usr/share/prometheus/web
binary_from_deb prometheus-alertmanager prometheus-alertmanager 'npm run stack' usr/share/prometheus/alertmanager
exec node --disable-warning=ExperimentalWarning scripts/stack.ts "$@"
