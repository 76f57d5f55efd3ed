--- json_parses: every raw_json is a JSON object (seed check).
return {
  name = "json_parses",
  severity = "error",
  description = "Every raw_json parses as a JSON object.",
  decoded = false,
  raw = function(raw, refcode, report, _, why)
    if raw ~= nil and why ~= nil then
      report(string.format("Invalid JSON in %s: %s", refcode, (why:gsub("^invalid JSON: ", ""))),
        "/structures/" .. refcode .. "/raw_json")
    end
  end,
}
