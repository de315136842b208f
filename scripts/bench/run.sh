#!/usr/bin/env bash
# `make bench`: every benchmark, each printing its figures beside the anchor
# measured or cited in the same run. Results and method: BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
for b in scripts/bench/cluster.sh scripts/bench/bundle-import.sh scripts/bench/monitor.sh scripts/bench/console.sh; do
  [ -x "$b" ] || continue
  echo "== $b"
  "$b"
done
