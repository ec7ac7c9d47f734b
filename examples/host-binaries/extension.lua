-- The host-binaries example: an extension that ships a `hello` binary for macOS, Windows and
-- Linux hosts. The binaries are not in the repository: the before_build hook compiles them
-- (.hoist/host_build.lua, a team module found by require) before hoist validates and packages.
--   hoist release examples/host-binaries --version 1.0.0 --to oci:dist/host-binaries
local host_build = require("host_build")

return {
  name = "hoist-examples/host-binaries",
  platforms = { "linux/amd64", "linux/arm64" },
  labels = {
    title = "Host Binaries",
    description = "A Docker Desktop extension whose host binaries are compiled during the release.",
    vendor = "hoist examples",
    api_version = ">= 0.3.3",
    icon = "https://example.com/hoist/host-binaries/icon.svg",
    screenshots = {
      { alt = "Running the host binary", url = "https://example.com/hoist/host-binaries/screenshot-1.png" },
    },
    detailed_description = "<p>The UI runs a <code>hello</code> binary on the host.</p>",
    publisher_url = "https://example.com/hoist",
    changelog = "<p>First release.</p>",
    categories = { "utility-tools" },
  },
  layers = {
    { { from = "metadata.json", to = "/metadata.json" }, { from = "docker.svg", to = "/docker.svg" } },
    { from = "ui", to = "/ui" },
    { from = "build/host/${arch}", to = "/" },
  },
  hooks = {
    before_build = host_build.before_build,
  },
}
