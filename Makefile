# Outpost build.
#
#   make          installs missing Debian build dependencies, builds the
#                 embedded assets when their inputs changed, then bin/outpost
#   make assets   only the embedded assets (host binaries + system images)
#   make clean    removes every build output
#
# Everything is built from Go source; the only network access is the Go
# module proxy and, on a fresh machine, Debian's package archive.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Build tags of bin/outpost.
OUTPOST_TAGS ?= no_btrfs no_devmapper no_zfs no_tracing
# Versions the embedded components report (kubectl version, node info).
COMPONENT_LDFLAGS := \
	-X k8s.io/component-base/version.gitVersion=v1.37.1 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 \
	-X k8s.io/client-go/pkg/version.gitVersion=v1.37.1 -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=37 \
	-X github.com/containerd/containerd/v2/version.Version=v2.4.2

# Debian packages the build needs: runc is the one cgo program (nsexec and a
# static libseccomp for seccomp profiles); readelf (binutils) checks that it
# came out static.
DEBIAN_BUILD_DEPS := gcc libc6-dev binutils pkg-config libseccomp-dev git
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Where the embedded assets go; the lead's appliance/node code embeds them.
ASSETS_BIN    := appliance/node/assets/bin
ASSETS_IMAGES := appliance/node/assets/images
# The separate Go module that pins every upstream program we embed.
SYSTEM        := bundles/system
OUTPUT        := _output
IMAGE_BIN     := $(OUTPUT)/images/bin

# Flags shared by every asset build: no paths or VCS stamps from this
# machine, so the same sources give the same binaries.
ASSET_BUILD_FLAGS := -trimpath -buildvcs=false
STATIC_CGO_TAGS   := seccomp urfave_cli_no_docs netgo osusergo

# Version of a module in the bundles/system module graph.
module_version = $(shell cd $(SYSTEM) && $(GO) list -m -f '{{.Version}}' $(1))

# The Go module files of bundles/system: upstream programs change only
# when these do.
SYSTEM_MODULE := $(SYSTEM)/go.mod $(SYSTEM)/go.sum
# Sources of a package directory of ours inside bundles/system.
system_sources = $(shell find $(SYSTEM)/$(1) -name '*.go' ! -name '*_test.go') $(SYSTEM_MODULE)

.PHONY: all
all: bin/outpost

## ---- host binaries ---------------------------------------------------------

CNI_PLUGIN_PACKAGES := \
	main/bridge ipam/host-local main/loopback meta/portmap meta/bandwidth meta/firewall
CNI_PLUGINS   := $(notdir $(CNI_PLUGIN_PACKAGES))
CNI_MODULE    := github.com/containernetworking/plugins
HOST_BINARIES := runc containerd-shim-runc-v2 $(CNI_PLUGINS)
HOST_FILES    := $(addprefix $(ASSETS_BIN)/,$(HOST_BINARIES))

$(ASSETS_BIN)/runc: $(SYSTEM_MODULE) | deps
	@mkdir -p $(@D)
	cd $(SYSTEM) && CGO_ENABLED=1 $(GO) build $(ASSET_BUILD_FLAGS) \
		-tags "$(STATIC_CGO_TAGS)" -ldflags "-s -w -extldflags -static" \
		-o $(CURDIR)/$@ github.com/opencontainers/runc
	@if readelf -l $@ | grep -q INTERP; then echo "$@ is not statically linked" >&2; exit 1; fi
	@$@ --version | grep -q '^libseccomp:' || { echo "$@ was built without seccomp" >&2; exit 1; }

$(ASSETS_BIN)/containerd-shim-runc-v2: $(SYSTEM_MODULE) | deps
	@mkdir -p $(@D)
	cd $(SYSTEM) && CGO_ENABLED=0 $(GO) build $(ASSET_BUILD_FLAGS) -tags "no_grpc" \
		-ldflags "-s -w \
		  -X github.com/containerd/containerd/v2/version.Version=$(call module_version,github.com/containerd/containerd/v2) \
		  -X github.com/containerd/containerd/v2/version.Package=github.com/containerd/containerd/v2" \
		-o $(CURDIR)/$@ github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2

$(addprefix $(ASSETS_BIN)/,$(CNI_PLUGINS)): $(ASSETS_BIN)/%: $(SYSTEM_MODULE) | deps
	@mkdir -p $(@D)
	cd $(SYSTEM) && CGO_ENABLED=0 $(GO) build $(ASSET_BUILD_FLAGS) \
		-ldflags "-s -w -X $(CNI_MODULE)/pkg/utils/buildversion.BuildVersion=$(call module_version,$(CNI_MODULE))" \
		-o $(CURDIR)/$@ $(CNI_MODULE)/plugins/$(filter %/$*,$(CNI_PLUGIN_PACKAGES))

# The extraction code verifies every host binary against this file.
$(ASSETS_BIN)/SHA256SUMS: $(HOST_FILES)
	cd $(ASSETS_BIN) && sha256sum $(HOST_BINARIES) > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS

## ---- system images ---------------------------------------------------------

IMAGE_BINARIES := pause coredns metrics-server testhttp
IMAGE_FILES    := $(addprefix $(IMAGE_BIN)/,$(IMAGE_BINARIES))

$(IMAGE_BIN)/pause: $(call system_sources,pause)
$(IMAGE_BIN)/coredns: $(call system_sources,coredns)
$(IMAGE_BIN)/testhttp: $(call system_sources,testhttp)
$(IMAGE_BIN)/pause $(IMAGE_BIN)/coredns $(IMAGE_BIN)/testhttp: | deps
	@mkdir -p $(@D)
	cd $(SYSTEM) && CGO_ENABLED=0 $(GO) build $(ASSET_BUILD_FLAGS) -ldflags "-s -w" \
		-o $(CURDIR)/$@ ./$(@F)

$(IMAGE_BIN)/metrics-server: $(SYSTEM_MODULE) | deps
	@mkdir -p $(@D)
	cd $(SYSTEM) && CGO_ENABLED=0 $(GO) build $(ASSET_BUILD_FLAGS) \
		-ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$(call module_version,sigs.k8s.io/metrics-server)" \
		-o $(CURDIR)/$@ sigs.k8s.io/metrics-server/cmd/metrics-server

$(ASSETS_IMAGES)/system-images.tar: $(IMAGE_FILES) $(SYSTEM)/images.yaml \
		$(call system_sources,cmd/mkimages) $(call system_sources,imagebuild)
	cd $(SYSTEM) && $(GO) run $(ASSET_BUILD_FLAGS) ./cmd/mkimages -spec images.yaml \
		-bin-dir $(CURDIR)/$(IMAGE_BIN) -out $(CURDIR)/$@

## ---- assets and the binary -------------------------------------------------

.PHONY: assets
assets: $(HOST_FILES) $(ASSETS_BIN)/SHA256SUMS $(ASSETS_IMAGES)/system-images.tar
	@du -ch $(HOST_FILES) $(ASSETS_IMAGES)/system-images.tar | tail -1 | sed 's/total$$/of embedded assets/'

# The console front end (Preact + Vite), embedded from webui/dist. The
# install runs only when the lock file changed; the build only when sources
# did. `npm install` rather than `npm ci`: this npm (11.x) writes lock files
# without other platforms' optional packages (rollup's) and then refuses
# them in `npm ci`; install keeps the locked versions all the same.
WEBUI_SOURCES := $(shell find webui/src webui/scripts -type f 2>/dev/null) webui/index.html webui/vite.config.js
webui/node_modules/.package-lock.json: webui/package-lock.json
	cd webui && npm install --no-audit --no-fund
webui/dist/index.html: webui/node_modules/.package-lock.json $(WEBUI_SOURCES)
	cd webui && npm run build
.PHONY: webui
webui: webui/dist/index.html

# bin/outpost is what ships: a small stub followed by the program
# zstd-compressed; on each run the stub execs the program, unpacking it to
# /var/cache/outpost first when it is not there (appliance/selfextract).
# The program and the stub are always handed to go build (its cache makes
# that cheap) and replace the previous file only when they differ, so
# packing reruns only when one changed.
PROGRAM := $(OUTPUT)/outpost-program
STUB    := $(OUTPUT)/outpost-stub
.PHONY: FORCE
$(PROGRAM): assets webui FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -tags "$(OUTPOST_TAGS)" \
		-ldflags "-s -w -X github.com/outpost-platform/outpost/appliance/version.Outpost=$(VERSION) $(COMPONENT_LDFLAGS)" \
		-o $@.new ./cmd/outpost
	cmp -s $@.new $@ && rm $@.new || mv $@.new $@
$(STUB): FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $@.new ./cmd/outpost-stub
	cmp -s $@.new $@ && rm $@.new || mv $@.new $@
bin/outpost: $(PROGRAM) $(STUB)
	@mkdir -p bin
	$(STUB) pack $@ $(PROGRAM)
	@ls -l $(PROGRAM) $@ | awk '{printf "%-28s %6.1f MB\n", $$NF, $$5/1e6}'

## ---- tests and benchmarks ------------------------------------------------

# Every test, as README.md gives it; installs what the tests need (root).
.PHONY: test
test:
	scripts/ci/test.sh

# Benchmarks print each figure beside its anchor measured in the same run;
# method and results go to BENCHMARKS.md.
.PHONY: bench
bench: bin/outpost
	scripts/bench/run.sh

## ---- build machine ---------------------------------------------------------

# Installs only the Debian packages that are missing; no-op on a prepared
# machine, and skipped where there is no dpkg.
.PHONY: deps
deps:
	@command -v $(GO) >/dev/null || { echo "Go (see go.mod for the version) must be on PATH" >&2; exit 1; }
	@if command -v dpkg-query >/dev/null; then \
		missing=""; \
		for pkg in $(DEBIAN_BUILD_DEPS); do \
			dpkg-query -W -f='$${Status}\n' $$pkg 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$pkg"; \
		done; \
		if [ -n "$$missing" ]; then \
			echo "installing Debian packages:$$missing"; \
			$(SUDO) apt-get update -q; \
			DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
		fi; \
	else \
		echo "no dpkg: make sure$(foreach p,$(DEBIAN_BUILD_DEPS), $(p)) (or equivalents) are installed" >&2; \
	fi

.PHONY: clean
clean:
	rm -rf bin $(OUTPUT) $(ASSETS_BIN) $(ASSETS_IMAGES)
