#!/bin/sh
# Bundle import benchmark for `make bench`: import throughput beside dd's
# sequential write rate, SHA-256 rate, and crane push to a standalone
# distribution registry, measured in the same run. Method: BENCHMARKS.md,
# "Bundle import". Extra flags go to the program (-size 3GB -dir DIR ...).
set -eu
cd "$(dirname "$0")/../.."
exec env CGO_ENABLED=0 go run ./scripts/bench/bundle-import "$@"
