// Package e2e holds Outpost's end-to-end tests: they start the real
// bin/outpost server on a temporary data dir and drive it with the real
// clients (the embedded kubectl) as a user would. Run with
// `go test -tags e2e ./scripts/e2e/` as root after `make`.
package e2e
