#!/bin/sh
# Installs what hoist needs to build and test, from Debian's packages (run as root, or it uses sudo).
#   build:  compiler, cmake, pkg-config, Lua 5.4, libcurl, jansson, libarchive, OpenSSL, zlib, zstd
#   tests:  clang + compiler-rt (libFuzzer, sanitizers), valgrind, node + npm (node-semver
#           differential test), python3 (benchmark workloads), skopeo + umoci + oci-image-tool
#           (independent checks of the images hoist writes), docker-registry + apache2-utils
#           (a real registry with htpasswd auth), buildah (the peer in benchmarks), git and
#           cross compilers for the examples (linux/arm64 and windows/amd64 host binaries)
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Node.js and npm only when missing: a machine may already have a newer Node.js (with its own npm)
# that Debian's nodejs and npm packages conflict with.
node_pkgs=""
command -v node >/dev/null 2>&1 || node_pkgs="nodejs"
command -v npm >/dev/null 2>&1 || node_pkgs="$node_pkgs npm"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config ca-certificates \
  liblua5.4-dev libcurl4-openssl-dev libjansson-dev libarchive-dev libssl-dev zlib1g-dev libzstd-dev \
  clang libclang-rt-dev valgrind python3 $node_pkgs \
  skopeo umoci oci-image-tool docker-registry apache2-utils buildah curl \
  git gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-mingw-w64-x86-64-posix >/dev/null
