#!/usr/bin/env bash
# The whole test suite, as README.md gives it (`make test` runs this):
#   1. host packages the tests need,
#   2. bin/outpost with its embedded assets and console,
#   3. unit and component tests of every package (real SQLite, TSDB,
#      registry, containerd resolver ...),
#   4. end-to-end tests: the real server on this machine driven with the
#      embedded kubectl, on the host network and offline; then the console
#      in a real browser.
# Must run as root (a real kubelet, containerd and runc).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CGO_ENABLED=0
export OUTPOST_E2E_ARTIFACTS=${OUTPOST_E2E_ARTIFACTS:-$PWD/test-artifacts}
mkdir -p "$OUTPOST_E2E_ARTIFACTS"

scripts/ci/install-deps.sh
make

echo "== unit and component tests"
go test -tags "${OUTPOST_TAGS:-no_btrfs no_devmapper no_zfs no_tracing}" -timeout 30m ./...
(cd bundles/system && go test -timeout 10m ./...)

echo "== end-to-end: cluster"
go test -tags e2e -timeout 30m -v ./scripts/e2e/ 2>&1 | tee "$OUTPOST_E2E_ARTIFACTS/e2e.log" | grep -E '^\s*(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go'
test "${PIPESTATUS[0]}" = 0
