#!/bin/sh
# Installs what hoist needs to build and test, from Debian's packages (run as root, or it uses sudo).
#   build:  compiler, cmake, pkg-config, Lua 5.4, libcurl, jansson, libarchive, OpenSSL, zlib, zstd
#   tests:  clang + compiler-rt (libFuzzer, sanitizers), valgrind, node + npm (node-semver
#           differential test), python3 (benchmark workloads), skopeo + umoci + oci-image-tool
#           (independent checks of the images hoist writes), docker-registry + apache2-utils
#           (a real registry with htpasswd auth), buildah (the peer in benchmarks)
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config ca-certificates \
  liblua5.4-dev libcurl4-openssl-dev libjansson-dev libarchive-dev libssl-dev zlib1g-dev libzstd-dev \
  clang libclang-rt-dev valgrind nodejs npm python3 \
  skopeo umoci oci-image-tool docker-registry apache2-utils buildah curl >/dev/null
