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
