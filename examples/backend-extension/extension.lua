-- The backend-extension example: a UI that talks to a backend service running in the Docker
-- Desktop VM. metadata.json's vm.image is ${DESKTOP_PLUGIN_IMAGE}: Desktop runs this very image
-- as the backend, with the entrypoint below, and the UI reaches it on the socket backend.sock.
-- Each platform's image gets its own architecture's backend binary at /service, compiled from
-- src/service.c by the before_build hook (.hoist/backend_build.lua).
--   hoist release examples/backend-extension --version 1.0.0 --to oci:dist/backend
local backend_build = require("backend_build")

return {
  name = "hoist-examples/backend-extension",
  platforms = { "linux/amd64", "linux/arm64" },
  labels = {
    title = "Backend Demo",
    description = "A Docker Desktop extension with a UI and a backend service, released with hoist.",
    vendor = "hoist examples",
    api_version = ">= 0.3.3",
    icon = "https://example.com/hoist/backend-extension/icon.svg",
    screenshots = {
      { alt = "The backend tab", url = "https://example.com/hoist/backend-extension/screenshot-1.png" },
    },
    detailed_description = "<p>The UI asks the backend for a greeting over the extension socket.</p>",
    publisher_url = "https://example.com/hoist",
    changelog = "<p>First release.</p>",
    categories = { "utility-tools" },
  },
  layers = {
    { { from = "metadata.json", to = "/metadata.json" }, { from = "docker.svg", to = "/docker.svg" } },
    { from = "ui", to = "/ui" },
    { from = "build/backend/${arch}/service", to = "/service", mode = "0755" },
  },
  config = {
    entrypoint = { "/service", "-socket", "/run/guest-services/backend.sock" },
  },
  hooks = { before_build = backend_build.before_build },
}
