#!/bin/sh
# Monitoring benchmark for `make bench`: ingestion samples/s per core and
# RSS per active series (beside Prometheus v3.15.0 scraping the same targets
# in the same run), bytes per sample on disk, and dashboard query latency
# over 24 h of data. Method: BENCHMARKS.md, "Monitoring". Extra flags go to
# the program (-targets 20 -series 2500 -duration 30s -prometheus BIN ...).
set -eu
cd "$(dirname "$0")/../.."
exec env CGO_ENABLED=0 go run ./scripts/bench/monitor "$@"
