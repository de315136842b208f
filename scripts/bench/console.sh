#!/usr/bin/env bash
# Console benchmarks (BENCHMARKS.md, section Console):
#   1. first load of the web console, compressed, against the 300 KB budget;
#   2. API latency of 50 concurrent users on a project of 500 pods, beside the
#      same pod list read straight from the apiserver.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CGO_ENABLED=0

echo "-- first load of the console (budget 300 KiB compressed)"
if [ -f webui/dist/index.html ]; then
  node webui/scripts/size.mjs
else
  echo "webui/dist is not built; run: make webui" >&2
  exit 1
fi

echo "-- console API: 50 users, 500 pods (goal p99 <= 50 ms)"
go run ./appliance/console/clustertest/consolebench -users 50 -pods 500 -duration "${CONSOLE_BENCH_DURATION:-30s}" 2>/dev/null |
  grep -v -e '^[IWE][0-9]\{4\} ' -e '^time=' | tr '\r' '\n' | grep -v 'console sees'
