-- The hello-extension example: a UI-only Docker Desktop extension that also ships a small host
-- binary for macOS, Windows and Linux. Released with:
--   hoist release examples/hello-extension --version 1.0.0        (to oci:dist/oci)
return {
  name = "hoist-examples/hello-extension",
  platforms = { "linux/amd64", "linux/arm64" },
  labels = {
    title = "Hello Hoist",
    description = "A minimal Docker Desktop extension released with hoist.",
    vendor = "hoist examples",
    api_version = ">= 0.3.3",
    icon = "https://example.com/hoist/hello-extension/icon.svg",
    screenshots = {
      { alt = "The hello tab", url = "https://example.com/hoist/hello-extension/screenshot-1.png" },
      { alt = "Calling the host binary", url = "https://example.com/hoist/hello-extension/screenshot-2.png" },
    },
    detailed_description = "<p>Shows a dashboard tab and ships a <code>hello</code> binary for "
      .. "macOS, Windows and Linux hosts, built for amd64 and arm64.</p>",
    publisher_url = "https://example.com/hoist",
    additional_urls = {
      { title = "Documentation", url = "https://example.com/hoist/docs" },
      { title = "Support", url = "https://example.com/hoist/support" },
    },
    changelog = "<p>First release.</p>",
    categories = { "utility-tools" },
    ["org.opencontainers.image.source"] = "https://example.com/hoist/hello-extension",
  },
  layers = {
    { from = "metadata.json", to = "/metadata.json" },
    { { from = "docker.svg", to = "/docker.svg" }, { from = "ui", to = "/ui" } },
    { from = "host/${arch}", to = "/" },
  },
}
