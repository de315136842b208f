#!/usr/bin/env bash
# Installs, on a fresh Debian 12 machine, the packages the build and the tests
# need; packages already present are skipped so a warm machine pays nothing.
#   build:  gcc libc6-dev binutils pkg-config libseccomp-dev (static runc)
#   run:    iptables nftables (kube-proxy, CNI), conntrack, iproute2, util-linux (nsenter)
#   tests:  skopeo (registry conformance), chromium (console browser tests)
set -euo pipefail
packages=(gcc libc6-dev binutils pkg-config libseccomp-dev git
  iptables nftables conntrack iproute2 util-linux
  skopeo chromium bc)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
