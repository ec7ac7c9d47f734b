#!/bin/sh
# Installs what hoist needs to build and test, from Debian's packages (run as root, or it uses sudo).
#   build:  compiler, cmake, pkg-config, Lua 5.4, libcurl, jansson, libarchive, OpenSSL, zlib, zstd,
#           libsodium (NaCl secretbox: cosign's encrypted private keys), libyaml (compose files)
#   tests:  clang + compiler-rt (libFuzzer, sanitizers), valgrind, node + npm (node-semver
#           differential test), python3 (benchmark workloads), skopeo + umoci + oci-image-tool
#           (independent checks of the images hoist writes), docker-registry + apache2-utils
#           (a real registry with htpasswd auth), buildah (the peer in benchmarks; the builds
#           Dockerfile imports and base images are compared with), git and cross compilers for
#           the examples and the Dockerfile tests' stand-in backends (linux/arm64 and
#           windows/amd64 binaries),
#           containerd + runc (tests/runtime: run the images hoist makes, as Docker Desktop does),
#           busybox-static, with its amd64 and arm64 .debs kept in /var/cache/hoist/debs (dpkg's
#           arm64 architecture is added for it) to build tests/fixtures/base offline,
#           luarocks (tests/ci/test_rocks.sh: a team step installed as a rock into .hoist/rocks)
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Node.js and npm only when missing: a machine may already have a newer Node.js (with its own npm)
# that Debian's nodejs and npm packages conflict with.
node_pkgs=""
command -v node >/dev/null 2>&1 || node_pkgs="nodejs"
command -v npm >/dev/null 2>&1 || node_pkgs="$node_pkgs npm"
# Package lists of both amd64 and arm64, so that `apt-get download` below finds busybox-static for both
native_arch=$(dpkg --print-architecture)
for a in amd64 arm64; do [ "$a" = "$native_arch" ] || $SUDO dpkg --add-architecture "$a"; done
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config ca-certificates \
  liblua5.4-dev libcurl4-openssl-dev libjansson-dev libarchive-dev libssl-dev zlib1g-dev libzstd-dev libsodium-dev libyaml-dev \
  clang libclang-rt-dev valgrind python3 $node_pkgs \
  skopeo umoci oci-image-tool docker-registry apache2-utils buildah curl \
  git gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-mingw-w64-x86-64-posix \
  containerd runc busybox-static luarocks >/dev/null
# The busybox-static .debs of both architectures for tests/fixtures/base/make_base.sh, which unpacks
# them offline (dpkg-deb -x); the arm64 one cannot be installed next to the amd64 one. Old versions
# are removed first so the folder holds one version per architecture.
debs=/var/cache/hoist/debs
$SUDO mkdir -p "$debs"
$SUDO rm -f "$debs"/busybox-static_*.deb
(cd "$debs" && $SUDO apt-get download -qq -o APT::Sandbox::User=root \
  busybox-static:amd64 busybox-static:arm64 >/dev/null)
