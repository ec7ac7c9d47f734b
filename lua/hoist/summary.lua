-- hoist.summary: the markdown a CI job shows for a release, an index or a promotion. Under GitHub
-- Actions it is appended to $GITHUB_STEP_SUMMARY (hoist.cli.step_summary: nothing happens
-- elsewhere); the text itself is made by pure functions, so it is tested without a runner.
local cli = require("hoist.cli")

local summary = {}

-- Table cells: a '|' or a newline would break the row.
local function cell(s) return (tostring(s):gsub("|", "\\|"):gsub("[\r\n]+", " ")) end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- The markdown of a `hoist release` result (release.result / release.report's table).
function summary.release_markdown(r)
  local out = { string.format("### hoist release %s", cell(r.version)), "",
                "| | |", "|---|---|",
                "| destination | `" .. cell(r.destination) .. "` |",
                "| index | `" .. cell(r.digest or "") .. "` |" }
  for _, p in ipairs(sorted_keys(r.platforms)) do
    out[#out + 1] = "| " .. cell(p) .. " | `" .. cell(r.platforms[p]) .. "` |"
  end
  local tags = r.tags and #r.tags > 0 and table.concat(r.tags, ", ") or "(none: pushed by digest)"
  out[#out + 1] = "| tags | " .. cell(tags) .. " |"
  if r.base and r.base.digest then out[#out + 1] = "| base | `" .. cell(r.base.name .. "@" .. r.base.digest) .. "` |" end
  if r.created then out[#out + 1] = "| created | " .. cell(r.created) .. " |" end
  if r.signed then
    out[#out + 1] = "| signed | as `" .. cell(r.signed.identity) .. "` (" .. r.signed.manifests .. " manifests) |"
  end
  for _, s in ipairs(r.sbom or {}) do
    out[#out + 1] = "| SBOM " .. cell(s.platform) .. " | `" .. cell(s.digest or "") .. "` |"
  end
  if r.provenance then out[#out + 1] = "| provenance | `" .. cell(r.provenance) .. "` |" end
  if r.uploaded_bytes then
    out[#out + 1] = "| sent | " .. require("hoist.log").bytes(r.uploaded_bytes) .. " |"
  end
  for _, w in ipairs(r.warnings or {}) do out[#out + 1] = "| warning | " .. cell(w) .. " |" end
  return table.concat(out, "\n") .. "\n"
end

-- The markdown of a release that failed: the message and each problem.
function summary.failure_markdown(title, message, problems)
  local out = { "### " .. title .. " failed", "", "> " .. cell(message or "") }
  if problems and #problems > 0 then
    out[#out + 1] = ""
    for _, p in ipairs(problems) do out[#out + 1] = "- " .. cell(p) end
  end
  return table.concat(out, "\n") .. "\n"
end

-- Appends a release's result to the job summary (GitHub Actions only).
function summary.release(result) return cli.step_summary(summary.release_markdown(result)) end

function summary.release_failed(ctx, message)
  return cli.step_summary(summary.failure_markdown("hoist release " .. tostring(ctx.version or ""),
                                                   message, ctx.problems))
end

-- The markdown of `hoist index` / `hoist promote` results: { title, rows = { {k, v}, ... } }.
function summary.rows_markdown(title, rows)
  local out = { "### " .. title, "", "| | |", "|---|---|" }
  for _, r in ipairs(rows) do out[#out + 1] = "| " .. cell(r[1]) .. " | " .. cell(r[2]) .. " |" end
  return table.concat(out, "\n") .. "\n"
end

function summary.rows(title, rows) return cli.step_summary(summary.rows_markdown(title, rows)) end

return summary
