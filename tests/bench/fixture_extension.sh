# shellcheck shell=bash
# Sourced by tests/bench/release and tests/bench/registry (one fixture description for both).
# write_extension FIXTURE: writes FIXTURE/extension.lua for the layout of
# shared/bench/make_fixture.py (layers: metadata.json+docker.svg, ui -> /ui, host/${arch} -> /,
# backend/${arch}/service -> /service mode 0755; linux/amd64 and linux/arm64; every extension label).
write_extension() {  # write_extension FIXTURE
  cat >"$1/extension.lua" <<'LUA'
-- Benchmark fixture (tests/bench/release): the layout of shared/bench/make_fixture.py.
return {
  name = "bench/fixture",
  platforms = { "linux/amd64", "linux/arm64" },
  labels = {
    title = "Fixture",
    description = "A fixture extension",
    vendor = "Example",
    api_version = ">= 0.3.0",
    icon = "https://example.com/icon.svg",
    screenshots = {
      { alt = "The fixture tab", url = "https://example.com/screenshot-1.png" },
      { alt = "The fixture settings", url = "https://example.com/screenshot-2.png" },
    },
    detailed_description = "<p>A generated extension used to benchmark hoist release.</p>",
    publisher_url = "https://example.com",
    changelog = "<p>Benchmark release.</p>",
    categories = { "utility-tools" },
  },
  layers = {
    { { from = "metadata.json", to = "/metadata.json" }, { from = "docker.svg", to = "/docker.svg" } },
    { from = "ui", to = "/ui" },
    { from = "host/${arch}", to = "/" },
    { from = "backend/${arch}/service", to = "/service", mode = "0755" },
  },
  config = { entrypoint = { "/service" } },
}
LUA
}

# build_type_warning HOIST: prints a warning when HOIST was built without optimisation (its build
# folder's CMakeCache.txt says Debug, or no build type): such a binary compresses about 30% slower
# and every ratio against a peer is then wrong. tools/test.sh builds build/ as RelWithDebInfo.
build_type_warning() {  # build_type_warning HOIST
  local cache type
  cache=$(dirname "$1")/CMakeCache.txt
  [ -f "$cache" ] || return 0
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
  case $type in
    Release|RelWithDebInfo|MinSizeRel) ;;
    *) echo "WARNING: $1 is a ${type:-no-build-type} build (no optimisation): timings are not representative;" \
            "configure with -DCMAKE_BUILD_TYPE=RelWithDebInfo" >&2 ;;
  esac
}
