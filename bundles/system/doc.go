// Package system is the build module for everything Outpost embeds besides
// its own code: the host binaries (runc, containerd-shim-runc-v2, CNI
// plugins) and the system images (pause, CoreDNS, metrics-server, the test
// HTTP image).
//
// It is a separate Go module so that the dependency versions these upstream
// programs need never move the versions in the main Outpost module. The
// upstream programs are pinned as `tool` directives in go.mod; Outpost's own
// small programs live in the sub-directories. The top-level Makefile drives
// every build; nothing here is imported by the main module.
package system
